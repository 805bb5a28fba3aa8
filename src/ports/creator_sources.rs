//! What the creator search needs from the world: CloudTrail event history, the trail's S3
//! logs, the cluster's access entries, and IAM reads of the creator.
//!
//! A port so that the search (`recovery/creator/`) is decided and tested without AWS; the SDK
//! adapter is `aws::creator_sources::AwsSources`. The records returned live here, beside the trait.

use crate::ports::error::AwsError;
use crate::recovery::creator::Window;
use crate::recovery::principal::{AccessKeyInfo, IamRoleRecord, IamUserRecord};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// One page of LookupEvents, already reduced to the records (parsed `CloudTrailEvent`).
#[derive(Debug, Clone, Default)]
pub struct LookupPage {
    pub records: Vec<Value>,
    /// Events whose `CloudTrailEvent` was not JSON.
    pub unreadable: usize,
    pub next_token: Option<String>,
    /// HTTP requests this page took (1, plus retries after throttling).
    pub requests: u32,
    /// Of those, how many were throttled.
    pub throttled: u32,
    /// Time spent waiting for the rate limit and backoff.
    pub waited: Duration,
    /// Not asked again: the answer of an earlier run for the same closed window, this old.
    pub reused: Option<Duration>,
}

/// What the trail's S3 logs gave.
#[derive(Debug, Clone)]
pub enum TrailScan {
    /// No trail delivers to S3 (or none for this region), with what was checked.
    NoTrail { detail: String },
    /// Log files read.
    Scanned {
        /// `s3://bucket/prefix` that was read.
        location: String,
        /// How the bucket was found (`--trail-bucket`, or the trail's name).
        found_by: String,
        files: usize,
        /// `CreateCluster` records (prefiltered by event name).
        records: Vec<Value>,
    },
}

/// An access entry, with what matters for recognising the creator's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEntryRecord {
    pub principal_arn: String,
    pub created_at: Option<DateTime<Utc>>,
    /// `STANDARD`, `EC2_LINUX`, …
    pub entry_type: Option<String>,
    /// Access policy ARNs associated with cluster scope (a namespace-scoped association is
    /// not listed: it gives no cluster-wide rights).
    pub policies: Vec<String>,
}

/// The AWS answers the creator search needs. Implemented over the SDK adapters by
/// `aws::creator_sources::AwsSources`; tests implement it in memory.
// Used through generics on the current-thread runtime only, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait CreatorSources {
    /// Who is asking, once known: an adapter may reuse that caller's earlier answers for
    /// windows that are closed (CloudTrail allows 2 LookupEvents/second). No-op by default.
    fn known_caller(&mut self, _caller: &crate::recovery::trust::Caller) {}
    /// LookupEvents with `EventName=CreateCluster` in `[start, end]`, paced under the rate limit.
    async fn lookup_create_cluster(
        &mut self,
        window: Window,
        next_token: Option<String>,
    ) -> Result<LookupPage, AwsError>;
    /// The trail's S3 records around `created_at`, from `bucket` (`BUCKET[/PREFIX]`) or the
    /// trails of the account.
    async fn trail_records(
        &mut self,
        bucket: Option<&str>,
        account: &str,
        region: &str,
        cluster: &str,
        created_at: DateTime<Utc>,
    ) -> Result<TrailScan, AwsError>;
    /// The cluster's access entries, described, with their associated policies.
    async fn access_entries(&mut self, cluster: &str) -> Result<Vec<AccessEntryRecord>, AwsError>;
    async fn get_user(&mut self, name: &str) -> Result<Option<IamUserRecord>, AwsError>;
    async fn get_role(&mut self, name: &str) -> Result<Option<IamRoleRecord>, AwsError>;
    async fn list_access_keys(&mut self, user: &str) -> Result<Vec<AccessKeyInfo>, AwsError>;
    async fn list_mfa_devices(&mut self, user: &str) -> Result<Vec<String>, AwsError>;
}
