//! Who created the cluster, and can they still get in?
//!
//! The creator is the one principal that a broken aws-auth does not lock out (unless the cluster
//! was created without creator admin), so finding it fast is the heart of a recovery. The search
//! is ordered by what answers best and cheapest:
//!
//! 1. CloudTrail event history — exact and rich, but only 90 days, rate-limited to 2 requests/s.
//!    We ask for `EventName=CreateCluster` in a window around DescribeCluster's `createdAt`:
//!    EventName is indexed for every management event (ResourceName depends on CloudTrail's
//!    per-service resource extraction, which is not guaranteed to carry the cluster name), and
//!    in a 30-minute window the CreateCluster events of all services fit in one page, however
//!    busy the account. The window widens step by step only when nothing matches.
//! 2. The creator recorded on the cluster's tags by `eks-breakglass record` ([`TAG_CREATOR_ARN`]…).
//! 3. The trail's log files in S3 for the creation day (any age, if a trail existed).
//! 4. Access entries made at creation time with the cluster-admin policy (newer clusters).
//!
//! Every step says whether it answered, found nothing, was skipped (and why), or was denied
//! (with the IAM action), so a partial answer is still an answer. Then the creator's status is
//! judged ([`super::principal`]) and a verdict names the next command.
//!
//! The AWS calls are behind [`CreatorSources`] (a port, `src/ports/creator_sources.rs`) so that the whole flow is tested without AWS;
//! `aws::creator_sources::find_creator` wires it to the real adapters.
//!
//! One file per source, so that a change to one source is read and tested alone:
//! [`cloudtrail`] (the window search of event history), [`tags`] (what `record` wrote),
//! [`s3logs`] (the trail's log files), [`access_entries`] (the creation-time admin entry, and
//! whether the creator still has one), [`status`] (IAM: does the creator still exist, can it be
//! used) and [`verdict`] (what to run next). [`report`] holds the types the search returns.
//! This file only orders the sources.

pub mod access_entries;
pub mod cloudtrail;
pub mod report;
pub mod s3logs;
pub mod status;
pub mod tags;
#[cfg(test)]
mod tests;
pub mod verdict;

pub use crate::ports::creator_sources::{AccessEntryRecord, CreatorSources, LookupPage, TrailScan};
pub use access_entries::{ACCESS_ENTRY_TOLERANCE, CLUSTER_ADMIN_POLICY, is_cluster_admin_policy};
pub use cloudtrail::{
    CLOUDTRAIL_DELIVERY_DELAY, LOOKUP_RETENTION, LOOKUP_WINDOWS, LookupPlan, MAX_PAGES_PER_WINDOW,
    Window, lookup_plan,
};
pub use report::*;
pub use status::check_status;
pub use tags::{
    CREATOR_TAG_KEYS, TAG_CREATOR_ARN, TAG_CREATOR_ID, TAG_CREATOR_KIND, TAG_CREATOR_RECORDED_AT,
    creator_from_tags, creator_tags,
};
pub use verdict::{logs_insights_step, verdict};

use access_entries::{creator_entry, from_access_entries};
use cloudtrail::from_cloudtrail;
use s3logs::from_s3_trail;
use tags::from_tags;
use verdict::region_flag;

use super::event::ClusterKey;
use crate::cluster::ClusterFacts;
use crate::exit;
use crate::ports::error::AwsError;

/// Every IAM action `creator` may use, for `policy` (sts:GetCallerIdentity needs none).
pub const CREATOR_ACTIONS: [&str; 13] = [
    "eks:DescribeCluster",
    "eks:ListClusters",
    "cloudtrail:LookupEvents",
    "cloudtrail:DescribeTrails",
    "s3:ListBucket",
    "s3:GetObject",
    "eks:ListAccessEntries",
    "eks:DescribeAccessEntry",
    "eks:ListAssociatedAccessPolicies",
    "iam:GetUser",
    "iam:GetRole",
    "iam:ListAccessKeys",
    "iam:ListMFADevices",
];

/// Finds the creator of `facts`' cluster, judges its status and gives the verdict. Only a
/// credentials failure is an error; every other failure is recorded in `attempts` and the
/// search goes on.
pub async fn find_creator_with<S: CreatorSources>(
    src: &mut S,
    facts: &ClusterFacts,
    opts: &FindOptions,
) -> Result<CreatorReport, AwsError> {
    let mut report = CreatorReport {
        cluster: ClusterSummary {
            name: facts.name.clone(),
            arn: facts.arn.clone(),
            region: facts.region.clone(),
            created_at: facts.created_at,
            authentication_mode: facts.auth_mode,
            bootstrap_cluster_creator_admin_permissions: facts.bootstrap_creator_admin,
        },
        creator: None,
        status: None,
        verdict: Verdict {
            outcome: Outcome::NotFound,
            exit_code: exit::CREATOR_NOT_FOUND,
            reason: String::new(),
            next_command: None,
            next_steps: Vec::new(),
        },
        attempts: Vec::new(),
        cloudtrail: None,
        rejected_events: Vec::new(),
        manual_next_step: None,
        notes: Vec::new(),
        creator_entry: None,
    };
    let key = ClusterKey {
        name: &facts.name,
        arn: &facts.arn,
        created_at: facts.created_at,
    };

    let mut creator = from_cloudtrail(src, facts, &key, opts, &mut report).await?;
    if creator.is_none() {
        creator = from_tags(facts, &mut report);
    }
    if creator.is_none() {
        creator = from_s3_trail(src, facts, &key, opts, &mut report).await?;
    }
    if creator.is_none() {
        creator = from_access_entries(src, facts, &mut report).await?;
    }
    if let Some(c) = creator.as_mut() {
        c.refine_with_cluster_tags(&facts.tags);
        if c.via_cloudformation && c.session_name.as_deref() == Some("AWSCloudFormation") {
            report.notes.push(
                "CloudFormation created the cluster with the stack's service role: that role is \
                 the creator, not the person who ran the stack"
                    .into(),
            );
        }
    }
    if let Some(c) = &creator
        && opts.check_status
    {
        report.status = Some(check_status(src, c, opts.caller.as_ref()).await?);
    }
    if creator.is_none() {
        report.manual_next_step = Some(logs_insights_step(&facts.name));
    }
    if let Some(c) = &creator
        && opts.check_status
    {
        report.creator_entry = creator_entry(src, facts, c).await?;
    }
    report.creator = creator;
    report.verdict = verdict(
        facts,
        report.creator.as_ref(),
        report.status.as_ref(),
        opts.caller.as_ref(),
    );
    if let (Some(entry), Some(c)) = (&report.creator_entry, &report.creator)
        && (entry.exists == Some(false) || entry.cluster_admin == Some(false))
        && report.verdict.outcome == Outcome::Usable
        && !report.status.as_ref().is_some_and(|s| s.caller_is_creator)
    {
        let rf = region_flag(facts);
        let what = if entry.exists == Some(false) {
            format!("no access entry for {} exists any more", c.arn)
        } else {
            // The entry stays but lost its cluster-scoped admin policy: the creator signs in
            // with only what the entry still grants, which cannot repair aws-auth.
            format!(
                "the access entry for {} no longer has {CLUSTER_ADMIN_POLICY} with cluster scope",
                c.arn
            )
        };
        report.verdict = Verdict {
            outcome: Outcome::Unusable,
            exit_code: exit::CREATOR_UNUSABLE,
            reason: format!(
                "the cluster is in {} mode, where the creator's admin is its access entry, and \
                 {what}: becoming the creator would not get you in as admin",
                facts.effective_auth_mode().as_str(),
            ),
            next_command: Some(format!("eks-breakglass grant --cluster {}{rf}", facts.name)),
            next_steps: vec![
                "`grant` creates an access entry with AmazonEKSClusterAdminPolicy for you".into(),
            ],
        };
    }
    Ok(report)
}
