//! The creator recorded on the cluster's tags by `eks-breakglass record`: cheap, any age, and
//! only as good as whoever wrote it (parsed strictly: a bad tag is a failed step, not a guess).
use super::super::event::CreatorKind;
use super::report::{Attempt, AttemptOutcome, Creator, CreatorReport, CreatorSource};
use crate::arn::PrincipalArn;
use crate::cluster::ClusterFacts;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Cluster tag: the creator's ARN (user or role with path, or root).
pub const TAG_CREATOR_ARN: &str = "eks-breakglass/creator-arn";
/// Cluster tag: the creator's kind ([`CreatorKind::as_str`], e.g. `assumed_role`).
pub const TAG_CREATOR_KIND: &str = "eks-breakglass/creator-kind";
/// Cluster tag: the creator's unique id at creation time (AIDA…/AROA…).
pub const TAG_CREATOR_ID: &str = "eks-breakglass/creator-id";
/// Cluster tag: when the record was made (RFC 3339, UTC).
pub const TAG_CREATOR_RECORDED_AT: &str = "eks-breakglass/creator-recorded-at";
/// Every creator tag key, for writers and cleaners.
pub const CREATOR_TAG_KEYS: [&str; 4] = [
    TAG_CREATOR_ARN,
    TAG_CREATOR_KIND,
    TAG_CREATOR_ID,
    TAG_CREATOR_RECORDED_AT,
];

/// The tags that record `creator` on its cluster (for `record`). EKS tag values allow the
/// characters of ARNs, ids and RFC 3339 times.
pub fn creator_tags(creator: &Creator, recorded_at: DateTime<Utc>) -> Vec<(String, String)> {
    let mut tags = vec![
        (TAG_CREATOR_ARN.to_string(), creator.arn.clone()),
        (
            TAG_CREATOR_KIND.to_string(),
            creator.kind.as_str().to_string(),
        ),
    ];
    if let Some(id) = &creator.unique_id {
        tags.push((TAG_CREATOR_ID.to_string(), id.clone()));
    }
    tags.push((
        TAG_CREATOR_RECORDED_AT.to_string(),
        recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ));
    tags
}

/// The creator recorded on the cluster's tags: `None` when there is no record, `Err` when the
/// record is unusable (says why).
pub fn creator_from_tags(tags: &BTreeMap<String, String>) -> Option<Result<Creator, String>> {
    let arn = tags.get(TAG_CREATOR_ARN)?.trim();
    if PrincipalArn::parse(arn).is_err() {
        return Some(Err(format!(
            "tag {TAG_CREATOR_ARN} holds '{arn}', which is not an IAM principal ARN"
        )));
    }
    let kind = tags
        .get(TAG_CREATOR_KIND)
        .and_then(|k| CreatorKind::parse(k.trim()));
    let mut c = Creator::from_arn(arn, kind, CreatorSource::Tags);
    c.unique_id = tags
        .get(TAG_CREATOR_ID)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    c.recorded_at = tags
        .get(TAG_CREATOR_RECORDED_AT)
        .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&Utc));
    Some(Ok(c))
}

pub(super) fn from_tags(facts: &ClusterFacts, report: &mut CreatorReport) -> Option<Creator> {
    match creator_from_tags(&facts.tags) {
        None => {
            report.attempts.push(Attempt {
                source: CreatorSource::Tags,
                outcome: AttemptOutcome::NotFound,
                detail: format!(
                    "no {TAG_CREATOR_ARN} tag on the cluster (`eks-breakglass record` writes it)"
                ),
                action: None,
            });
            None
        }
        Some(Err(why)) => {
            report.attempts.push(Attempt {
                source: CreatorSource::Tags,
                outcome: AttemptOutcome::Failed,
                detail: why,
                action: None,
            });
            None
        }
        Some(Ok(c)) => {
            report.attempts.push(Attempt {
                source: CreatorSource::Tags,
                outcome: AttemptOutcome::Answered,
                detail: format!(
                    "recorded{}",
                    c.recorded_at
                        .map(|t| format!(" at {}", t.to_rfc3339()))
                        .unwrap_or_default()
                ),
                action: None,
            });
            Some(c)
        }
    }
}
