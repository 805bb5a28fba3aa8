//! The `creator` use case: who created the cluster, is it still there, and how to become it.
//!
//! Decided here: which GetCallerIdentity failures end the run (no or bad credentials — every
//! other call would fail the same way) and which only mean that trust policies cannot be
//! checked against the caller ([`caller_or_fatal`]); whether a creator route exists at all
//! (no creator admin) and whether to point at `reveal-creator`. The search itself is
//! [`crate::recovery::creator::find_creator_with`]; the rendering `ui::creator`.

use crate::cluster::ClusterFacts;
use crate::ports::creator_sources::CreatorSources;
use crate::ports::error::{AwsError, AwsErrorKind};
use crate::ports::lookup::ClusterLookup;
use crate::ports::triage::CallerIdentity;
use crate::recovery::access_entries::{self as ae, CreatorRoute};
use crate::recovery::creator::{CreatorReport, FindOptions, find_creator_with};
use crate::recovery::trust::Caller;

/// What `creator` found.
#[derive(Debug, Clone)]
pub struct CreatorFound {
    pub facts: ClusterFacts,
    /// Whether becoming the creator can get anyone in (said first).
    pub route: CreatorRoute,
    pub report: CreatorReport,
    /// No record of the creator on a CONFIG_MAP cluster: the discovery route to offer.
    pub reveal: Option<String>,
    /// Why the caller is unknown (trust policies then not checked), if it is.
    pub caller_unknown: Option<String>,
}

/// The caller, `None` when GetCallerIdentity failed for a reason that only stops the trust
/// checks (a refusal, a network hiccup); `Err` when the credentials are missing or bad.
pub fn caller_or_fatal(
    r: Result<CallerIdentity, AwsError>,
) -> Result<Result<Caller, AwsError>, AwsError> {
    match r {
        Ok(c) => Ok(Ok(Caller {
            arn: c.arn,
            account: c.account,
            user_id: c.user_id,
        })),
        Err(e)
            if matches!(
                e.kind,
                AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
            ) =>
        {
            Err(e)
        }
        Err(e) => Ok(Err(e)),
    }
}

/// Finds the creator of `cluster`. `sources` builds the creator search's port once the caller
/// is known (the adapter reuses that caller's earlier CloudTrail answers).
pub async fn find<L: ClusterLookup, C: CreatorSources>(
    lookup: &L,
    cluster: &str,
    trail_bucket: Option<String>,
    sources: impl FnOnce(Option<&Caller>) -> C,
) -> Result<CreatorFound, AwsError> {
    let facts = lookup.describe_cluster(cluster).await?;
    let route = ae::creator_route(&facts.name, facts.bootstrap_creator_admin);
    let (caller, caller_unknown) = match caller_or_fatal(lookup.caller_identity().await)? {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let mut src = sources(caller.as_ref());
    let opts = FindOptions {
        trail_bucket,
        caller,
        ..FindOptions::default()
    };
    let report = find_creator_with(&mut src, &facts, &opts).await?;
    let reveal = ae::reveal_creator_route(
        &facts.name,
        facts.effective_auth_mode(),
        facts.bootstrap_creator_admin,
        report.creator.is_some(),
    );
    Ok(CreatorFound {
        facts,
        route,
        report,
        reveal,
        caller_unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CallerIdentity {
        CallerIdentity {
            account: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/oncall".into(),
            user_id: "AIDAONCALL".into(),
        }
    }

    #[test]
    fn missing_or_bad_credentials_end_the_run_a_refusal_only_skips_trust_checks() {
        assert!(caller_or_fatal(Ok(id())).unwrap().is_ok());
        for kind in [AwsErrorKind::NoCredentials, AwsErrorKind::BadCredentials] {
            let e = AwsError::new("sts:GetCallerIdentity", kind, "no");
            assert!(caller_or_fatal(Err(e)).is_err(), "{kind:?}");
        }
        let e = AwsError::new("sts:GetCallerIdentity", AwsErrorKind::AccessDenied, "no");
        assert!(caller_or_fatal(Err(e)).unwrap().is_err());
    }
}
