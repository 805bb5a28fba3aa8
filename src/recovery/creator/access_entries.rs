//! Source 4: the access entry EKS made for the creator at creation (API clusters), and — for
//! a creator found by another source — whether that entry still exists with cluster admin.
use super::report::{
    Attempt, AttemptOutcome, Creator, CreatorEntry, CreatorReport, CreatorSource,
    attempt_for_error, is_fatal,
};
use crate::cluster::ClusterFacts;
use crate::ports::creator_sources::{AccessEntryRecord, CreatorSources};
use crate::ports::error::AwsError;
use chrono::TimeDelta;

/// An access entry counts as made at creation when created this close to the cluster.
pub const ACCESS_ENTRY_TOLERANCE: TimeDelta = TimeDelta::seconds(60);
/// The policy EKS associates with the creator's access entry.
pub const CLUSTER_ADMIN_POLICY: &str = "AmazonEKSClusterAdminPolicy";

/// `arn:<partition>:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`, compared as an
/// ARN (any partition), not as a name suffix.
pub fn is_cluster_admin_policy(arn: &str) -> bool {
    arn.starts_with("arn:")
        && arn
            .split_once(":eks::aws:cluster-access-policy/")
            .is_some_and(|(_, name)| name == CLUSTER_ADMIN_POLICY)
}

/// On API / API_AND_CONFIG_MAP clusters made with the creator's admin, that admin is an access
/// entry for the creator (made at creation, or when the cluster left CONFIG_MAP); whoever
/// deleted it took the creator's access with it. Checked before proposing to become the
/// creator.
pub(super) async fn creator_entry<S: CreatorSources>(
    src: &mut S,
    facts: &ClusterFacts,
    creator: &Creator,
) -> Result<Option<CreatorEntry>, AwsError> {
    if !facts.effective_auth_mode().allows_access_entries()
        || facts.bootstrap_creator_admin == Some(false)
        || !(creator.arn.contains(":user/") || creator.arn.contains(":role/"))
    {
        return Ok(None);
    }
    let entries = match src.access_entries(&facts.name).await {
        Ok(e) => e,
        Err(e) if is_fatal(&e) => return Err(e),
        Err(e) => {
            return Ok(Some(CreatorEntry {
                exists: None,
                cluster_admin: None,
                detail: format!("the creator's access entry could not be checked: {e}"),
            }));
        }
    };
    let found = entries
        .iter()
        .find(|e| e.principal_arn.eq_ignore_ascii_case(&creator.arn));
    Ok(Some(match found {
        Some(e) => {
            let admin = e.policies.iter().any(|p| is_cluster_admin_policy(p));
            CreatorEntry {
                exists: Some(true),
                cluster_admin: Some(admin),
                detail: if admin {
                    format!(
                        "access entry for {} with {CLUSTER_ADMIN_POLICY}",
                        creator.arn
                    )
                } else {
                    format!(
                        "access entry for {} without {CLUSTER_ADMIN_POLICY}: the creator gets \
                         in with only what its entry grants",
                        creator.arn
                    )
                },
            }
        }
        None => CreatorEntry {
            exists: Some(false),
            cluster_admin: None,
            detail: format!(
                "no access entry for {} among the cluster's {} entries",
                creator.arn,
                entries.len()
            ),
        },
    }))
}

pub(super) async fn from_access_entries<S: CreatorSources>(
    src: &mut S,
    facts: &ClusterFacts,
    report: &mut CreatorReport,
) -> Result<Option<Creator>, AwsError> {
    let mode = facts.effective_auth_mode();
    if !mode.allows_access_entries() {
        report.attempts.push(Attempt {
            source: CreatorSource::AccessEntry,
            outcome: AttemptOutcome::Skipped,
            detail: format!(
                "authentication mode {}: the cluster has no access entries",
                mode.as_str()
            ),
            action: None,
        });
        return Ok(None);
    }
    let Some(created) = facts.created_at else {
        report.attempts.push(Attempt {
            source: CreatorSource::AccessEntry,
            outcome: AttemptOutcome::Skipped,
            detail: "DescribeCluster gave no createdAt to compare entries with".into(),
            action: None,
        });
        return Ok(None);
    };
    let entries = match src.access_entries(&facts.name).await {
        Ok(e) => e,
        Err(e) if is_fatal(&e) => return Err(e),
        Err(e) => {
            report.attempts.push(attempt_for_error(
                CreatorSource::AccessEntry,
                &e,
                "listing access entries",
            ));
            return Ok(None);
        }
    };
    let mut matching: Vec<(&AccessEntryRecord, TimeDelta)> = entries
        .iter()
        .filter(|e| e.entry_type.as_deref().is_none_or(|t| t == "STANDARD"))
        .filter(|e| e.policies.iter().any(|p| is_cluster_admin_policy(p)))
        .filter_map(|e| {
            let d = (e.created_at? - created).abs();
            (d <= ACCESS_ENTRY_TOLERANCE).then_some((e, d))
        })
        .collect();
    matching.sort_by_key(|(_, d)| *d);
    let Some((entry, _)) = matching.first() else {
        report.attempts.push(Attempt {
            source: CreatorSource::AccessEntry,
            outcome: AttemptOutcome::NotFound,
            detail: format!(
                "none of {} access entries was created with the cluster and holds {CLUSTER_ADMIN_POLICY}",
                entries.len()
            ),
            action: None,
        });
        return Ok(None);
    };
    if matching.len() > 1 {
        report.notes.push(format!(
            "{} admin access entries were made within a minute of the cluster; the closest was taken",
            matching.len()
        ));
    }
    let c = Creator::from_arn(&entry.principal_arn, None, CreatorSource::AccessEntry);
    report.attempts.push(Attempt {
        source: CreatorSource::AccessEntry,
        outcome: AttemptOutcome::Answered,
        detail: format!(
            "access entry for {} created {} with {CLUSTER_ADMIN_POLICY}",
            entry.principal_arn,
            entry.created_at.map(|t| t.to_rfc3339()).unwrap_or_default()
        ),
        action: None,
    });
    Ok(Some(c))
}
