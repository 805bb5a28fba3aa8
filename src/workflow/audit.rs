//! The fleet audit of one cluster: is there still a way back in if aws-auth breaks today?
//!
//! Decided here, through the [`AuditSources`] port: which failures end a cluster's audit
//! ([`fatal`]: credentials — every other check would fail the same way), when the deep creator
//! search runs, what IAM's answer about the creator means ([`check_creator`]), how the
//! break-glass role's entry is looked at, and the access-entry findings ([`entry_findings`]).
//! The judgement of the observation is [`crate::recovery::audit::assess`]. The fan-out over
//! accounts, regions and clusters (with rate limits) is the adapter's (`aws::audit_sources`);
//! the rendering is `ui::audit`.

use crate::ports::audit::{AuditSources, IamAnswer};
use crate::ports::error::{AwsError, AwsErrorKind};
use crate::recovery::access_entries::{self as ae, EntryFinding};
use crate::recovery::audit::{
    self, Assessment, AwsAuthObservation, BreakglassObservation, CreatorObservation, Observation,
};
use crate::recovery::creator::{self, Creator};
use crate::recovery::event::CreatorKind;
use crate::recovery::principal::{self, PrincipalState};

/// What to look at in each cluster.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// `--deep`: search CloudTrail for creators not recorded on the tags.
    pub deep_search: bool,
    /// `--aws-auth`: read and lint aws-auth through the API server.
    pub aws_auth: bool,
    /// `--breakglass-role`: a role name (with path) or ARN.
    pub breakglass: Option<String>,
    /// `--entries`: judge the access entries (CONFIG_MAP needs no call and is always judged).
    pub entries: bool,
}

/// Credential failures: a cluster's other checks would fail the same way, so stop there.
pub fn fatal(e: &AwsError) -> bool {
    matches!(
        e.kind,
        AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
    )
}

/// The break-glass role's ARN in `account`: a full ARN as given, a name (with path) made into
/// the account's role ARN.
pub fn breakglass_arn(spec: &str, partition: &str, account: &str) -> String {
    if spec.starts_with("arn:") {
        spec.to_string()
    } else {
        format!(
            "arn:{partition}:iam::{account}:role/{}",
            spec.trim_matches('/')
        )
    }
}

/// The audit of cluster `name`: observed, judged, with its access-entry findings merged in.
pub async fn assess_cluster<S: AuditSources>(
    src: &S,
    name: &str,
    opts: &AuditOptions,
) -> Result<Assessment, AwsError> {
    let o = observe(src, name, opts).await?;
    let (found, stale) = entry_findings(src, &o, opts).await;
    let mut a = audit::assess(&o);
    ae::merge_into_assessment(&mut a, found, stale);
    Ok(a)
}

/// Everything about one cluster, as cheaply as the options allow.
pub async fn observe<S: AuditSources>(
    src: &S,
    name: &str,
    opts: &AuditOptions,
) -> Result<Observation, AwsError> {
    let facts = src.describe_cluster(name).await?;
    let mode = facts.effective_auth_mode();

    let creator = match creator::creator_from_tags(&facts.tags) {
        Some(Ok(c)) => check_creator(src, c).await?,
        Some(Err(why)) if !opts.deep_search => CreatorObservation::BadRecord(why),
        _ if opts.deep_search => deep_search(src, &facts).await?,
        _ => CreatorObservation::NotRecorded,
    };

    let breakglass = match &opts.breakglass {
        None => BreakglassObservation::NotConfigured,
        Some(spec) => {
            let role_arn = breakglass_arn(spec, src.partition(), src.account());
            if !mode.allows_access_entries() {
                BreakglassObservation::NotApplicable { role_arn }
            } else {
                match src.has_access_entry(name, &role_arn).await {
                    Ok(false) => BreakglassObservation::Missing { role_arn },
                    Ok(true) => match src.associated_policies(name, &role_arn).await {
                        Ok(policies) => BreakglassObservation::Entry { role_arn, policies },
                        Err(e) if fatal(&e) => return Err(e),
                        Err(e) => BreakglassObservation::Error {
                            role_arn,
                            error: e.to_string(),
                        },
                    },
                    Err(e) if fatal(&e) => return Err(e),
                    Err(e) => BreakglassObservation::Error {
                        role_arn,
                        error: e.to_string(),
                    },
                }
            }
        }
    };

    let aws_auth = if !opts.aws_auth {
        AwsAuthObservation::NotChecked
    } else if !mode.reads_aws_auth() {
        AwsAuthObservation::NotUsed
    } else {
        lint_aws_auth(src.aws_auth(&facts).await)
    };

    Ok(Observation {
        account: src.account().to_string(),
        facts,
        creator,
        breakglass,
        aws_auth,
    })
}

/// What reading aws-auth gave, linted (without node roles: the audit does not list them).
pub fn lint_aws_auth(
    read: Result<Option<crate::awsauth::AwsAuthDocument>, String>,
) -> AwsAuthObservation {
    match read {
        Err(why) => AwsAuthObservation::Unreadable(why),
        Ok(None) => AwsAuthObservation::Missing,
        Ok(Some(doc)) => {
            let analysis = crate::awsauth::analyze(&doc, &crate::awsauth::ClusterFacts::default());
            let first_error = analysis
                .findings
                .iter()
                .find(|f| f.severity == crate::awsauth::Severity::Error)
                .map(|f| f.message.clone());
            AwsAuthObservation::Linted {
                errors: analysis.errors(),
                warnings: analysis.warnings(),
                first_error,
            }
        }
    }
}

/// The creator's state today, from IAM: root needs no call; a creator of another account is
/// not checked from this one; a user's key count says whether a key can be added.
pub async fn check_creator<S: AuditSources>(
    src: &S,
    c: Creator,
) -> Result<CreatorObservation, AwsError> {
    let known = |c: Creator, state, can_add_key, detail| {
        Ok(CreatorObservation::Known {
            creator: Box::new(c),
            state,
            can_add_key,
            detail,
        })
    };
    if c.kind == CreatorKind::Root {
        return known(c, Some(PrincipalState::Root), None, None);
    }
    if let Some(a) = c.account.as_deref()
        && a != src.account()
    {
        let why = format!("the creator belongs to account {a}: audit that account to check it");
        return known(c, None, None, Some(why));
    }
    let Some(name) = c.name.clone() else {
        return known(c, None, None, Some("not an IAM user or role".into()));
    };
    let is_user = matches!(c.kind, CreatorKind::IamUser | CreatorKind::FederatedUser);
    let answer = src.iam_principal(is_user, &name).await;
    let expected = c.unique_id.clone();
    match answer {
        IamAnswer::Failed(why) => known(c, None, None, Some(why)),
        IamAnswer::User { user: None, .. } | IamAnswer::Role(None) => {
            known(c, Some(PrincipalState::Deleted), None, None)
        }
        IamAnswer::User {
            user: Some(u),
            keys,
        } => {
            let state = principal::existence(&c.arn, expected.as_deref(), &u.arn, &u.user_id);
            let can_add = keys.map(|k| k < principal::MAX_ACCESS_KEYS);
            known(c, Some(state), can_add, None)
        }
        IamAnswer::Role(Some(r)) => {
            let state = principal::existence(&c.arn, expected.as_deref(), &r.arn, &r.role_id);
            known(c, Some(state), None, None)
        }
    }
}

/// `--deep`: the creator search of `creator`, then the IAM check of what it found.
pub async fn deep_search<S: AuditSources>(
    src: &S,
    facts: &crate::cluster::ClusterFacts,
) -> Result<CreatorObservation, AwsError> {
    let report = src.find_creator(facts).await?;
    match report.creator {
        Some(c) => check_creator(src, c).await,
        None => Ok(CreatorObservation::NotFound(report.verdict.reason)),
    }
}

/// The access-entry findings of one cluster, and whether the break-glass role's entry is stale.
/// CONFIG_MAP needs no call; the other modes are judged only with `--entries`. A failure to
/// read the entries becomes a finding, not an audit error.
pub async fn entry_findings<S: AuditSources>(
    src: &S,
    o: &Observation,
    opts: &AuditOptions,
) -> (Vec<EntryFinding>, bool) {
    let facts = &o.facts;
    let mode = facts.effective_auth_mode();
    let creator = match &o.creator {
        CreatorObservation::Known { creator, .. } => Some(creator.arn.clone()),
        _ => None,
    };
    let rf = if facts.region.is_empty() {
        String::new()
    } else {
        format!(" --region {}", facts.region)
    };
    if !opts.entries || !mode.allows_access_entries() {
        let found = ae::audit_findings(&facts.name, &rf, mode, &[], creator.as_deref(), None, None);
        return (found, false);
    }
    let entries = match src.judged_entries(facts).await {
        Ok(e) => e,
        Err(e) => {
            return (
                vec![EntryFinding {
                    level: audit::Level::Warning,
                    code: "access-entries-unreadable",
                    message: format!("the access entries could not be judged: {e}"),
                    fix: Some(
                        "see `eks-breakglass policy audit` for the permissions audit needs".into(),
                    ),
                }],
                false,
            );
        }
    };
    let offered = src.offered_policies().await;
    let found = ae::audit_findings(
        &facts.name,
        &rf,
        mode,
        &entries,
        creator.as_deref(),
        None,
        offered.as_deref(),
    );
    let breakglass_stale = opts.breakglass.as_ref().is_some_and(|spec| {
        let b = breakglass_arn(spec, src.partition(), src.account());
        entries
            .iter()
            .any(|j| j.is_stale() && j.entry.principal_arn.eq_ignore_ascii_case(&b))
    });
    (found, breakglass_stale)
}

#[cfg(test)]
mod tests;
