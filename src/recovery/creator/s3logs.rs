//! Source 3: the trail's log files in S3 for the creation day — any age, when a trail existed.
//! The adapter finds the bucket and prefilters records by event name; this file chooses.
use super::super::event::{self, ClusterKey, CreatorEvent};
use super::report::{
    Attempt, AttemptOutcome, Creator, CreatorReport, CreatorSource, FindOptions, attempt_for_error,
    is_fatal, merge_rejected,
};
use crate::cluster::ClusterFacts;
use crate::ports::creator_sources::{CreatorSources, TrailScan};
use crate::ports::error::AwsError;

/// The account that owns the cluster, from its ARN.
fn cluster_account(facts: &ClusterFacts) -> Option<String> {
    crate::arn::Arn::parse(&facts.arn)
        .ok()
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
}

pub(super) async fn from_s3_trail<S: CreatorSources>(
    src: &mut S,
    facts: &ClusterFacts,
    key: &ClusterKey<'_>,
    opts: &FindOptions,
    report: &mut CreatorReport,
) -> Result<Option<Creator>, AwsError> {
    let skip = |report: &mut CreatorReport, why: String| {
        report.attempts.push(Attempt {
            source: CreatorSource::S3Trail,
            outcome: AttemptOutcome::Skipped,
            detail: why,
            action: None,
        });
    };
    let Some(created) = facts.created_at else {
        skip(
            report,
            "DescribeCluster gave no createdAt: the day to read is unknown".into(),
        );
        return Ok(None);
    };
    let Some(account) = cluster_account(facts) else {
        skip(report, "the cluster ARN names no account".into());
        return Ok(None);
    };
    let scan = match src
        .trail_records(
            opts.trail_bucket.as_deref(),
            &account,
            &facts.region,
            &facts.name,
            created,
        )
        .await
    {
        Ok(s) => s,
        Err(e) if is_fatal(&e) => return Err(e),
        Err(e) => {
            report.attempts.push(attempt_for_error(
                CreatorSource::S3Trail,
                &e,
                "reading the trail's logs",
            ));
            return Ok(None);
        }
    };
    let (location, found_by, files, records) = match scan {
        TrailScan::NoTrail { detail } => {
            report.attempts.push(Attempt {
                source: CreatorSource::S3Trail,
                outcome: AttemptOutcome::NotFound,
                detail,
                action: None,
            });
            return Ok(None);
        }
        TrailScan::Scanned {
            location,
            found_by,
            files,
            records,
        } => (location, found_by, files, records),
    };
    let events: Vec<CreatorEvent> = records
        .iter()
        .filter_map(|r| event::parse_create_cluster(r).ok())
        .collect();
    let choice = event::choose_event(events, key);
    merge_rejected(&mut report.rejected_events, choice.rejected);
    match choice.chosen {
        Some((ev, _)) => {
            let c = Creator::from_event(ev, CreatorSource::S3Trail);
            report.attempts.push(Attempt {
                source: CreatorSource::S3Trail,
                outcome: AttemptOutcome::Answered,
                detail: format!(
                    "CreateCluster event {} in {location} ({files} log file(s) read; bucket from {found_by})",
                    c.event_id.as_deref().unwrap_or("?")
                ),
                action: None,
            });
            Ok(Some(c))
        }
        None => {
            report.attempts.push(Attempt {
                source: CreatorSource::S3Trail,
                outcome: AttemptOutcome::NotFound,
                detail: format!(
                    "no CreateCluster for '{}' in {location} ({files} log file(s) for {}; bucket from {found_by})",
                    facts.name,
                    created.format("%Y-%m-%d")
                ),
                action: None,
            });
            Ok(None)
        }
    }
}
