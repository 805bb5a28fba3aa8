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
//! The AWS calls are behind [`CreatorSources`] so that the whole flow is tested without AWS;
//! [`find_creator`] wires it to the real adapters.

use super::event::{
    self, ClusterKey, CreatorEvent, CreatorKind, MatchQuality, RejectedEvent, Tool,
};
use super::principal::{
    self, AccessKeyInfo, IamRoleRecord, IamUserRecord, PrincipalState, PrincipalStatus, SsoAccess,
};
use super::trust::{Caller, TrustCondition, TrustDecision};
use crate::arn::PrincipalArn;
use crate::aws::{AwsContext, AwsError, AwsErrorKind};
use crate::cluster::{AuthMode, ClusterFacts};
use crate::exit;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

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

/// CloudTrail event history keeps management events this long.
pub const LOOKUP_RETENTION: TimeDelta = TimeDelta::days(90);
/// The half-widths of the lookup windows around `createdAt`, tried in order.
pub const LOOKUP_WINDOWS: [TimeDelta; 3] = [
    TimeDelta::minutes(15),
    TimeDelta::hours(2),
    TimeDelta::days(1),
];
/// How long CloudTrail may take to show an event in its history.
pub const CLOUDTRAIL_DELIVERY_DELAY: TimeDelta = TimeDelta::minutes(20);
/// Pages read per window at most (50 events each) before giving up on that window.
pub const MAX_PAGES_PER_WINDOW: u32 = 20;
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

/// Where the answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CreatorSource {
    Cloudtrail,
    Tags,
    S3Trail,
    AccessEntry,
}

impl CreatorSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CreatorSource::Cloudtrail => "cloudtrail",
            CreatorSource::Tags => "tags",
            CreatorSource::S3Trail => "s3-trail",
            CreatorSource::AccessEntry => "access-entry",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            CreatorSource::Cloudtrail => "CloudTrail event history (LookupEvents)",
            CreatorSource::Tags => "the creator recorded on the cluster's tags",
            CreatorSource::S3Trail => "the trail's log files in S3",
            CreatorSource::AccessEntry => "the access entry made at cluster creation",
        }
    }
}

/// The cluster's creator, with the evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Creator {
    /// The principal to become: IAM user or role ARN with its path, the root ARN, or for a
    /// federated user the IAM user that issued the session.
    pub arn: String,
    pub kind: CreatorKind,
    /// AIDA… / AROA… at creation time (what EKS binds to), or the account id for root.
    pub unique_id: Option<String>,
    pub account: Option<String>,
    /// User or role name (what GetUser/GetRole take).
    pub name: Option<String>,
    /// IAM path (`/` when none).
    pub path: Option<String>,
    /// The ARN as aws-auth must write it (roles without their path).
    pub aws_auth_arn: Option<String>,
    pub session_arn: Option<String>,
    pub session_name: Option<String>,
    pub permission_set: Option<String>,
    pub sso_region: Option<String>,
    pub via_cloudformation: bool,
    pub invoked_by: Option<String>,
    pub tool: Tool,
    pub mfa_authenticated: Option<bool>,
    pub event_id: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub source: CreatorSource,
    /// When the tags were written (source = tags).
    pub recorded_at: Option<DateTime<Utc>>,
}

impl Creator {
    /// A creator from a CloudTrail record (event history or S3).
    pub fn from_event(ev: CreatorEvent, source: CreatorSource) -> Creator {
        let id = ev.identity;
        let mut c = Creator::bare(&id.arn, id.kind, source);
        c.unique_id = id.unique_id;
        if c.account.is_none() {
            c.account = id.account;
        }
        c.session_arn = id.session_arn;
        c.session_name = id.session_name;
        if id.permission_set.is_some() {
            c.permission_set = id.permission_set;
        }
        if id.sso_region.is_some() {
            c.sso_region = id.sso_region;
        }
        c.via_cloudformation = id
            .invoked_by
            .as_deref()
            .is_some_and(|b| b.contains("cloudformation"))
            || ev.tool == Tool::Cloudformation;
        c.invoked_by = id.invoked_by;
        c.mfa_authenticated = id.mfa_authenticated;
        c.tool = ev.tool;
        c.event_id = ev.event_id;
        c.event_time = ev.event_time;
        c.source_ip = ev.source_ip;
        c.user_agent = ev.user_agent;
        c
    }

    /// A creator known only by ARN (tags, access entries). The kind is taken from the ARN when
    /// `kind` is `None`.
    pub fn from_arn(arn: &str, kind: Option<CreatorKind>, source: CreatorSource) -> Creator {
        let kind = kind.unwrap_or_else(|| {
            PrincipalArn::parse(arn)
                .map(|p| CreatorKind::from_principal_arn(&p))
                .unwrap_or(CreatorKind::Other)
        });
        Creator::bare(arn, kind, source)
    }

    fn bare(arn: &str, kind: CreatorKind, source: CreatorSource) -> Creator {
        let parsed = PrincipalArn::parse(arn).ok();
        let (account, name, path, aws_auth_arn, permission_set, sso_region) = match &parsed {
            Some(p @ PrincipalArn::Role { path, name, .. }) => (
                Some(p.account().to_string()),
                Some(name.clone()),
                Some(path.clone()),
                Some(p.authenticator_form()),
                event::sso_permission_set(name),
                event::sso_region_from_path(path),
            ),
            Some(p @ PrincipalArn::User { path, name, .. }) => (
                Some(p.account().to_string()),
                Some(name.clone()),
                Some(path.clone()),
                Some(p.to_string()),
                None,
                None,
            ),
            Some(p) => (
                Some(p.account().to_string()),
                None,
                None,
                Some(p.authenticator_form()),
                None,
                None,
            ),
            None => (None, None, None, None, None, None),
        };
        Creator {
            arn: arn.to_string(),
            kind,
            unique_id: None,
            account,
            name,
            path,
            aws_auth_arn,
            session_arn: None,
            session_name: None,
            permission_set,
            sso_region,
            via_cloudformation: false,
            invoked_by: None,
            tool: Tool::Unknown,
            mfa_authenticated: None,
            event_id: None,
            event_time: None,
            source_ip: None,
            user_agent: None,
            source,
            recorded_at: None,
        }
    }

    /// Uses the cluster's own tags for what the event cannot say (eksctl and CloudFormation
    /// stacks tag the clusters they make).
    fn refine_with_cluster_tags(&mut self, tags: &BTreeMap<String, String>) {
        let eksctl = tags
            .keys()
            .any(|k| k.starts_with("alpha.eksctl.io/") || k.starts_with("eksctl.cluster.k8s.io/"));
        if eksctl && matches!(self.tool, Tool::Unknown | Tool::Cloudformation) {
            self.tool = Tool::Eksctl;
        }
        if tags.contains_key("aws:cloudformation:stack-name") {
            self.via_cloudformation = true;
        }
    }
}

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

/// A time window for LookupEvents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What to ask CloudTrail event history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupPlan {
    /// Windows to try in order.
    Windows(Vec<Window>),
    /// The cluster is older than event history keeps.
    TooOld { age_days: i64 },
}

/// The windows around `created_at`: ±15 min, ±2 h, ±1 day, each clamped to the 90 days that
/// event history keeps (a window reaching past them is cut, one wholly outside is dropped).
/// Without `created_at` the whole history is one window.
pub fn lookup_plan(created_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> LookupPlan {
    let oldest = now - LOOKUP_RETENTION;
    let Some(c) = created_at else {
        return LookupPlan::Windows(vec![Window {
            start: oldest,
            end: now,
        }]);
    };
    if c < oldest - LOOKUP_WINDOWS[0] {
        return LookupPlan::TooOld {
            age_days: (now - c).num_days(),
        };
    }
    let mut out: Vec<Window> = Vec::new();
    for half in LOOKUP_WINDOWS {
        let w = Window {
            start: (c - half).max(oldest),
            end: (c + half).min(now),
        };
        if w.start >= w.end || out.last().is_some_and(|l| *l == w) {
            continue;
        }
        out.push(w);
    }
    if out.is_empty() {
        out.push(Window {
            start: oldest,
            end: now,
        });
    }
    LookupPlan::Windows(out)
}

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
/// [`AwsSources`]; tests implement it in memory.
// Used through generics on the current-thread runtime only, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait CreatorSources {
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

/// How to search.
#[derive(Debug, Clone)]
pub struct FindOptions {
    /// `BUCKET[/PREFIX]` of the trail's logs (else found through DescribeTrails).
    pub trail_bucket: Option<String>,
    /// The caller (for trust evaluation and "you are the creator"); `None` skips those.
    pub caller: Option<Caller>,
    /// Judge the creator's status with IAM (GetUser/GetRole…).
    pub check_status: bool,
    pub now: DateTime<Utc>,
}

impl Default for FindOptions {
    fn default() -> Self {
        FindOptions {
            trail_bucket: None,
            caller: None,
            check_status: true,
            now: Utc::now(),
        }
    }
}

/// How one step of the search went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Answered,
    NotFound,
    Skipped,
    Denied,
    Failed,
}

/// One step of the search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub source: CreatorSource,
    pub outcome: AttemptOutcome,
    pub detail: String,
    /// The IAM action refused (outcome = denied) or failing.
    pub action: Option<String>,
}

/// One LookupEvents window, as it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowStats {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub pages: u32,
    pub events: usize,
    /// EKS `CreateCluster` events for this cluster's name.
    pub candidates: usize,
}

/// The cost of the CloudTrail step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LookupStats {
    pub lookup_attribute: String,
    /// LookupEvents requests sent, retries included.
    pub calls: u32,
    pub throttled: u32,
    pub waited_ms: u64,
    /// Pages answered by an earlier run's lookup of the same closed window (no request).
    pub reused_pages: u32,
    pub windows: Vec<WindowStats>,
    pub match_quality: Option<MatchQuality>,
}

/// The cluster, as far as the creator question goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterSummary {
    pub name: String,
    pub arn: String,
    pub region: String,
    pub created_at: Option<DateTime<Utc>>,
    pub authentication_mode: Option<AuthMode>,
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
}

/// Found and usable, found but not usable as things stand, or not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Usable,
    Unusable,
    NotFound,
}

/// The conclusion and what to run next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub exit_code: u8,
    pub reason: String,
    /// The command to run next (copy-paste ready).
    pub next_command: Option<String>,
    /// Further steps or caveats, in order.
    pub next_steps: Vec<String>,
}

/// The manual step when nothing answered: a CloudWatch Logs Insights query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManualStep {
    pub log_group: String,
    pub query: String,
    pub note: String,
}

/// Everything `creator` found. Field names are stable: `assume-creator`, `diagnose`, `record`
/// and `audit` read them, and `--output json` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatorReport {
    pub cluster: ClusterSummary,
    pub creator: Option<Creator>,
    pub status: Option<PrincipalStatus>,
    pub verdict: Verdict,
    pub attempts: Vec<Attempt>,
    pub cloudtrail: Option<LookupStats>,
    /// CreateCluster events for the name that were not chosen, and why.
    pub rejected_events: Vec<RejectedEvent>,
    pub manual_next_step: Option<ManualStep>,
    pub notes: Vec<String>,
    /// API / API_AND_CONFIG_MAP clusters: the creator's admin is its access entry, not an
    /// implicit grant. `None` when not applicable or not checked.
    pub creator_entry: Option<CreatorEntry>,
}

/// The creator's access entry on a cluster whose creator admin is an access entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatorEntry {
    /// `Some(true)`: an entry for the creator's ARN exists; `Some(false)`: none does (deleted:
    /// becoming the creator no longer gets anyone in); `None`: ListAccessEntries failed.
    pub exists: Option<bool>,
    /// The entry holds AmazonEKSClusterAdminPolicy (`None` when unknown).
    pub cluster_admin: Option<bool>,
    pub detail: String,
}

impl CreatorReport {
    /// The attempts that were refused for lack of permission.
    pub fn denied_actions(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .attempts
            .iter()
            .filter(|a| a.outcome == AttemptOutcome::Denied)
            .filter_map(|a| a.action.as_deref())
            .collect();
        if let Some(s) = &self.status {
            v.extend(s.denied.iter().map(|d| d.action.as_str()));
        }
        v
    }
}

/// Errors that end the search: without credentials nothing else can answer either.
fn is_fatal(e: &AwsError) -> bool {
    matches!(
        e.kind,
        AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
    )
}

fn attempt_for_error(source: CreatorSource, e: &AwsError, what: &str) -> Attempt {
    let outcome = if e.kind == AwsErrorKind::AccessDenied {
        AttemptOutcome::Denied
    } else {
        AttemptOutcome::Failed
    };
    Attempt {
        source,
        outcome,
        detail: format!("{what}: {e}"),
        action: Some(e.action.clone()),
    }
}

/// Finds the creator with the real AWS adapters. See [`find_creator_with`].
pub async fn find_creator(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    opts: &FindOptions,
) -> Result<CreatorReport, AwsError> {
    let mut sources = AwsSources::new(ctx);
    if let Some(c) = &opts.caller {
        // A dry run reads earlier answers but keeps none (it changes nothing).
        sources.cache =
            crate::aws::cloudtrail::LookupCache::for_caller(&ctx.region, &c.arn, &c.user_id)
                .map(|cache| cache.read_only(ctx.dry_run));
    }
    find_creator_with(&mut sources, facts, opts).await
}

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

/// On API / API_AND_CONFIG_MAP clusters made with the creator's admin, that admin is an access
/// entry for the creator (made at creation, or when the cluster left CONFIG_MAP); whoever
/// deleted it took the creator's access with it. Checked before proposing to become the
/// creator.
async fn creator_entry<S: CreatorSources>(
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

async fn from_cloudtrail<S: CreatorSources>(
    src: &mut S,
    facts: &ClusterFacts,
    key: &ClusterKey<'_>,
    opts: &FindOptions,
    report: &mut CreatorReport,
) -> Result<Option<Creator>, AwsError> {
    let windows = match lookup_plan(facts.created_at, opts.now) {
        LookupPlan::TooOld { age_days } => {
            report.attempts.push(Attempt {
                source: CreatorSource::Cloudtrail,
                outcome: AttemptOutcome::Skipped,
                detail: format!(
                    "the cluster was created {age_days} days ago; CloudTrail event history keeps \
                     only the last 90 days"
                ),
                action: None,
            });
            return Ok(None);
        }
        LookupPlan::Windows(w) => w,
    };
    let mut stats = LookupStats {
        lookup_attribute: "EventName=CreateCluster".into(),
        ..LookupStats::default()
    };
    let mut outcome: Option<Attempt> = None;
    let mut found = None;
    'windows: for w in windows {
        let mut ws = WindowStats {
            start: w.start,
            end: w.end,
            pages: 0,
            events: 0,
            candidates: 0,
        };
        let mut candidates: Vec<CreatorEvent> = Vec::new();
        let mut token = None;
        loop {
            let page = match src.lookup_create_cluster(w, token.take()).await {
                Ok(p) => p,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    stats.calls += 1;
                    outcome = Some(attempt_for_error(
                        CreatorSource::Cloudtrail,
                        &e,
                        "LookupEvents",
                    ));
                    stats.windows.push(ws);
                    break 'windows;
                }
            };
            ws.pages += 1;
            ws.events += page.records.len() + page.unreadable;
            stats.calls += page.requests;
            stats.throttled += page.throttled;
            stats.waited_ms += u64::try_from(page.waited.as_millis()).unwrap_or(u64::MAX);
            stats.reused_pages += u32::from(page.reused.is_some());
            let mut exact = false;
            for r in &page.records {
                if let Ok(ev) = event::parse_create_cluster(r)
                    && ev.cluster_name.as_deref() == Some(facts.name.as_str())
                {
                    exact |= ev.cluster_arn.as_deref() == Some(facts.arn.as_str())
                        && matches!((ev.cluster_created_at, facts.created_at),
                            (Some(a), Some(b)) if (a - b).abs() <= event::CREATED_AT_TOLERANCE);
                    candidates.push(ev);
                }
            }
            // Newest first: once today's cluster's own event is in hand, older pages only
            // hold older clusters.
            match page.next_token {
                Some(t) if !exact && ws.pages < MAX_PAGES_PER_WINDOW => token = Some(t),
                Some(_) if !exact => {
                    report.notes.push(format!(
                        "stopped reading the window {} – {} after {} pages",
                        w.start.to_rfc3339(),
                        w.end.to_rfc3339(),
                        ws.pages
                    ));
                    break;
                }
                _ => break,
            }
        }
        ws.candidates = candidates.len();
        stats.windows.push(ws);
        let choice = event::choose_event(candidates, key);
        merge_rejected(&mut report.rejected_events, choice.rejected);
        if let Some((ev, quality)) = choice.chosen {
            stats.match_quality = Some(quality);
            found = Some(Creator::from_event(ev, CreatorSource::Cloudtrail));
            break;
        }
    }
    let attempt = match (&found, outcome) {
        (Some(c), _) => Attempt {
            source: CreatorSource::Cloudtrail,
            outcome: AttemptOutcome::Answered,
            detail: format!(
                "CreateCluster event {} at {}{}",
                c.event_id.as_deref().unwrap_or("?"),
                c.event_time.map(|t| t.to_rfc3339()).unwrap_or_default(),
                if stats.reused_pages > 0 {
                    " (event history as a run minutes ago read it: the window is closed, \
                     its events cannot change)"
                } else {
                    ""
                }
            ),
            action: None,
        },
        (None, Some(a)) => a,
        (None, None) => {
            let span = match (stats.windows.first(), stats.windows.last()) {
                (Some(f), Some(l)) => format!(
                    " between {} and {}",
                    l.start.min(f.start).to_rfc3339(),
                    l.end.max(f.end).to_rfc3339()
                ),
                _ => String::new(),
            };
            let reused = if report.rejected_events.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} CreateCluster event(s) for the name belong to an earlier cluster)",
                    report.rejected_events.len()
                )
            };
            Attempt {
                source: CreatorSource::Cloudtrail,
                outcome: AttemptOutcome::NotFound,
                detail: format!(
                    "no successful EKS CreateCluster for '{}'{span}{reused}{fresh}",
                    facts.name,
                    fresh = if facts
                        .created_at
                        .is_some_and(|c| opts.now - c < CLOUDTRAIL_DELIVERY_DELAY)
                    {
                        " (the cluster is only minutes old: CloudTrail can take up to 15 \
                         minutes to show an event; run again shortly)"
                    } else {
                        ""
                    }
                ),
                action: None,
            }
        }
    };
    report.attempts.push(attempt);
    report.cloudtrail = Some(stats);
    Ok(found)
}

fn merge_rejected(into: &mut Vec<RejectedEvent>, new: Vec<RejectedEvent>) {
    for r in new {
        if r.event_id.is_none() || !into.iter().any(|x| x.event_id == r.event_id) {
            into.push(r);
        }
    }
}

fn from_tags(facts: &ClusterFacts, report: &mut CreatorReport) -> Option<Creator> {
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

/// The account that owns the cluster, from its ARN.
fn cluster_account(facts: &ClusterFacts) -> Option<String> {
    crate::arn::Arn::parse(&facts.arn)
        .ok()
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
}

async fn from_s3_trail<S: CreatorSources>(
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

async fn from_access_entries<S: CreatorSources>(
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

/// A check that may be refused without spoiling the report: a refusal is recorded (the report
/// names the denied action), anything fatal (credentials, network) ends the search.
fn optional_check<T>(
    result: Result<T, AwsError>,
    denied: &mut Vec<principal::DeniedCheck>,
) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_fatal(&e) => Err(e),
        Err(e) => {
            denied.push(principal::DeniedCheck {
                action: e.action.clone(),
                message: e.to_string(),
            });
            Ok(None)
        }
    }
}

/// Judges the creator with IAM. Access denied gives a partial status naming the action.
pub async fn check_status<S: CreatorSources>(
    src: &mut S,
    creator: &Creator,
    caller: Option<&Caller>,
) -> Result<PrincipalStatus, AwsError> {
    let expected_id = creator.unique_id.as_deref();
    if let (Some(c), Some(a)) = (caller, creator.account.as_deref())
        && c.account != a
    {
        let mut s = PrincipalStatus::new(
            PrincipalState::Unknown,
            format!(
                "the creator belongs to account {a}, but you are signed in to account {}: \
                 check it with credentials of account {a}",
                c.account
            ),
        );
        s.expected_unique_id = expected_id.map(str::to_string);
        return Ok(s);
    }
    match creator.kind {
        CreatorKind::Root => {
            let mut s = PrincipalStatus::new(
                PrincipalState::Root,
                "the account root user created the cluster: only root credentials get in as it",
            );
            s.current_arn = Some(creator.arn.clone());
            s.expected_unique_id = expected_id.map(str::to_string);
            s.caller_is_creator = caller.is_some_and(|c| c.arn.eq_ignore_ascii_case(&creator.arn));
            Ok(s)
        }
        CreatorKind::IamUser | CreatorKind::FederatedUser => {
            let Some(name) = creator.name.as_deref() else {
                return Ok(PrincipalStatus::new(
                    PrincipalState::Unknown,
                    format!("'{}' is not an IAM user ARN", creator.arn),
                ));
            };
            let user = match src.get_user(name).await {
                Ok(u) => u,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    return Ok(PrincipalStatus::denied(
                        &e.action,
                        &e.to_string(),
                        expected_id,
                    ));
                }
            };
            let mut denied = Vec::new();
            let (keys, mfa) = if user.is_some() {
                let keys = optional_check(src.list_access_keys(name).await, &mut denied)?;
                let mfa = optional_check(src.list_mfa_devices(name).await, &mut denied)?;
                (keys, mfa)
            } else {
                (None, None)
            };
            let mut s = principal::judge_user(
                &creator.arn,
                expected_id,
                user.as_ref(),
                keys.as_deref(),
                mfa.as_deref(),
                caller,
            );
            s.denied = denied;
            Ok(s)
        }
        CreatorKind::AssumedRole | CreatorKind::IdentityCenterRole => {
            let Some(name) = creator.name.as_deref() else {
                return Ok(PrincipalStatus::new(
                    PrincipalState::Unknown,
                    format!("'{}' is not an IAM role ARN", creator.arn),
                ));
            };
            let role = match src.get_role(name).await {
                Ok(r) => r,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    return Ok(PrincipalStatus::denied(
                        &e.action,
                        &e.to_string(),
                        expected_id,
                    ));
                }
            };
            let mut s = principal::judge_role(&creator.arn, expected_id, role.as_ref(), caller);
            if creator.kind == CreatorKind::IdentityCenterRole {
                // Nobody assumes these roles directly: the trust policy only names the SAML
                // provider of Identity Center.
                s.trust = None;
                s.sso = Some(SsoAccess {
                    permission_set: creator.permission_set.clone(),
                    sso_region: creator.sso_region.clone(),
                    sign_in: principal::sso_sign_in(
                        creator.permission_set.as_deref(),
                        creator.sso_region.as_deref(),
                        creator.account.as_deref(),
                    ),
                });
                if s.state == PrincipalState::Deleted {
                    s.summary = "the Identity Center role no longer exists in the account: the \
                                 permission set is no longer provisioned here; provisioning it \
                                 again makes a new role with a new unique id"
                        .into();
                }
            }
            Ok(s)
        }
        CreatorKind::Other => Ok(PrincipalStatus::new(
            PrincipalState::Unknown,
            format!("'{}' is not a principal IAM can look up", creator.arn),
        )),
    }
}

fn region_flag(facts: &ClusterFacts) -> String {
    if facts.region.is_empty() {
        String::new()
    } else {
        format!(" --region {}", facts.region)
    }
}

/// The verdict: usable, unusable, or not found, with the next command.
pub fn verdict(
    facts: &ClusterFacts,
    creator: Option<&Creator>,
    status: Option<&PrincipalStatus>,
    caller: Option<&Caller>,
) -> Verdict {
    let cluster = &facts.name;
    let rf = region_flag(facts);
    let grant = format!("eks-breakglass grant --cluster {cluster}{rf}");
    let assume = format!("eks-breakglass assume-creator --cluster {cluster}{rf}");
    let kubeconfig = format!("eks-breakglass kubeconfig --cluster {cluster}{rf}");
    let grant_note = match facts.effective_auth_mode() {
        AuthMode::ConfigMap => "`grant` needs the cluster in API_AND_CONFIG_MAP mode: it will \
                                ask to switch (one-way, needs --allow-auth-mode-change), then \
                                creates an access entry for you"
            .to_string(),
        _ => "`grant` creates an access entry with AmazonEKSClusterAdminPolicy for you".to_string(),
    };
    let unusable = |reason: String, next: Option<String>, steps: Vec<String>| Verdict {
        outcome: Outcome::Unusable,
        exit_code: exit::CREATOR_UNUSABLE,
        reason,
        next_command: next,
        next_steps: steps,
    };
    let usable = |reason: String, next: String, steps: Vec<String>| Verdict {
        outcome: Outcome::Usable,
        exit_code: exit::OK,
        reason,
        next_command: Some(next),
        next_steps: steps,
    };
    let Some(creator) = creator else {
        return Verdict {
            outcome: Outcome::NotFound,
            exit_code: exit::CREATOR_NOT_FOUND,
            reason: "the creator could not be found by any source".into(),
            next_command: Some(grant.clone()),
            next_steps: vec![
                grant_note,
                "or search the control plane logs with the CloudWatch Logs Insights query below"
                    .into(),
            ],
        };
    };
    if facts.bootstrap_creator_admin == Some(false) {
        return unusable(
            "the cluster was created with bootstrapClusterCreatorAdminPermissions=false: the \
             creator has no implicit access (Terraform's EKS module v20+ does this by default)"
                .into(),
            Some(grant),
            vec![grant_note],
        );
    }
    let Some(status) = status else {
        return usable(
            "creator found (status not checked)".into(),
            assume,
            Vec::new(),
        );
    };
    if status.caller_is_creator {
        return usable(
            "you are signed in as the creator: the cluster should let you in".into(),
            kubeconfig,
            vec!["if it does not, the creator admin was removed: use `grant`".into()],
        );
    }
    match status.state {
        PrincipalState::Root => unusable(
            "the account root user created the cluster; tools should not use root credentials"
                .into(),
            Some(grant),
            vec![
                grant_note,
                "or, as a last resort, sign in as root, create a temporary root access key, get \
                 in, fix aws-auth, and delete the key"
                    .into(),
            ],
        ),
        PrincipalState::Deleted | PrincipalState::Recreated => {
            let mut steps = vec![grant_note];
            if creator.kind != CreatorKind::IdentityCenterRole {
                steps.push(format!(
                    "best effort: `{assume}` can recreate the principal with the same path and \
                     name; it gets a new unique id, so only clusters that match the creator by \
                     ARN will honour it"
                ));
            }
            unusable(status.summary.clone(), Some(grant), steps)
        }
        PrincipalState::Unknown => {
            let mut steps = Vec::new();
            for d in &status.denied {
                steps.push(format!(
                    "allow {} to check the creator (see `eks-breakglass policy creator`)",
                    d.action
                ));
            }
            steps.push(grant_note);
            unusable(status.summary.clone(), Some(grant), steps)
        }
        PrincipalState::Alive | PrincipalState::PathChanged | PrincipalState::ExistsUnverified => {
            let mut caveats = Vec::new();
            if status.state == PrincipalState::ExistsUnverified {
                caveats.push(
                    "the creator's unique id at creation time is unknown: if it was recreated, \
                     EKS will refuse it; `assume-creator` verifies by authenticating"
                        .to_string(),
                );
            }
            match creator.kind {
                CreatorKind::IdentityCenterRole => {
                    let steps = status
                        .sso
                        .as_ref()
                        .map(|s| s.sign_in.clone())
                        .unwrap_or_default();
                    let set = creator
                        .permission_set
                        .as_deref()
                        .unwrap_or("the permission set");
                    usable(
                        format!(
                            "the creator is the IAM Identity Center permission set {set}: sign \
                             in to it through SSO"
                        ),
                        "aws configure sso --profile eks-creator && aws sso login --profile eks-creator"
                            .to_string(),
                        [steps, caveats].concat(),
                    )
                }
                CreatorKind::FederatedUser => {
                    // The authenticator sees the federated user itself
                    // (`arn:aws:sts::A:federated-user/NAME`, user id `A:NAME`), not the IAM
                    // user that called GetFederationToken: a key for that user signs in as the
                    // user, another principal, and the creator's admin would not apply.
                    let fed = creator
                        .session_arn
                        .as_deref()
                        .unwrap_or("a federated user (GetFederationToken)");
                    let name = creator.session_name.as_deref().unwrap_or("NAME");
                    unusable(
                        format!(
                            "the cluster was created by the federated user {fed} (GetFederationToken \
                             of {}); EKS knows the creator as that federated identity, not as the \
                             IAM user behind it: a temporary key for {} would sign in as that user \
                             and not get the creator's access",
                            creator.arn, creator.arn
                        ),
                        Some(grant),
                        vec![
                            grant_note,
                            format!(
                                "by hand, at your own judgement: federated-user credentials with the same name \
                                 (`aws sts get-federation-token --name {name} --policy-arns arn:aws:iam::aws:policy/ReadOnlyAccess` \
                                 as an IAM user of the account) carry the same ARN and user id; this tool \
                                 does not mint them for you"
                            ),
                        ],
                    )
                }
                CreatorKind::IamUser => {
                    let keys = status.user.as_ref();
                    match keys {
                        Some(u) if !u.can_add_access_key => unusable(
                            format!(
                                "the creator user already has {} access keys, the most IAM \
                                 allows: no temporary key can be added",
                                u.access_keys
                            ),
                            Some(grant),
                            vec![
                                "delete or rotate one of its keys (check with `aws iam list-access-keys` and the key's last use) and run `assume-creator`".into(),
                                grant_note,
                            ],
                        ),
                        _ => {
                            let mut steps = vec![
                                "`assume-creator` creates a temporary access key for the user \
                                 (journaled; `cleanup` deletes it)"
                                    .to_string(),
                            ];
                            if status.user.is_none() {
                                steps.push(
                                    "its access keys could not be listed: IAM refuses a third key"
                                        .into(),
                                );
                            }
                            usable(
                                "the creator user exists and can get a temporary access key".into(),
                                assume,
                                [steps, caveats].concat(),
                            )
                        }
                    }
                }
                CreatorKind::AssumedRole => {
                    let trust = status.trust.as_ref();
                    match trust.map(|t| t.decision) {
                        Some(TrustDecision::Denied) => unusable(
                            format!(
                                "the creator role's trust policy explicitly denies you (statement {})",
                                trust.and_then(|t| t.statement.as_deref()).unwrap_or("?")
                            ),
                            Some(grant),
                            vec![grant_note],
                        ),
                        Some(TrustDecision::Uncertain) => usable(
                            format!(
                                "the creator role exists, but Deny statement {} of its trust \
                                 policy may apply to you under a condition this tool cannot \
                                 evaluate: only AWS can tell. `assume-creator` tries AssumeRole \
                                 without changing IAM (an added Allow would not beat a Deny)",
                                trust.and_then(|t| t.statement.as_deref()).unwrap_or("?")
                            ),
                            assume,
                            [
                                trust.map(|t| t.notes.clone()).unwrap_or_default(),
                                vec![grant_note],
                                caveats,
                            ]
                            .concat(),
                        ),
                        Some(TrustDecision::Allowed)
                        | Some(TrustDecision::AllowedWithConditions) => {
                            let conds: Vec<String> = trust
                                .map(|t| {
                                    t.conditions.iter().map(TrustCondition::describe).collect()
                                })
                                .unwrap_or_default();
                            let notes: Vec<String> =
                                trust.map(|t| t.notes.clone()).unwrap_or_default();
                            let mfa = trust.is_some_and(|t| {
                                t.conditions
                                    .iter()
                                    .any(|c| matches!(c, TrustCondition::Mfa { .. }))
                            });
                            let next = if mfa {
                                format!("{assume} --mfa-serial ARN --token-code CODE")
                            } else {
                                assume
                            };
                            usable(
                                "the creator role exists and its trust policy lets you assume it"
                                    .into(),
                                next,
                                [conds, notes, caveats].concat(),
                            )
                        }
                        Some(TrustDecision::NotTrusted) | Some(TrustDecision::Unknown) | None => {
                            let who = caller.map(|c| c.arn.as_str()).unwrap_or("you");
                            usable(
                                format!(
                                    "the creator role exists but its trust policy does not let {who} \
                                     assume it: `assume-creator` adds one trust statement for you \
                                     (needs iam:UpdateAssumeRolePolicy; undone by `cleanup`)"
                                ),
                                assume,
                                caveats,
                            )
                        }
                    }
                }
                CreatorKind::Root | CreatorKind::Other => unusable(
                    format!("the creator {} cannot be used by this tool", creator.arn),
                    Some(grant),
                    vec![grant_note],
                ),
            }
        }
    }
}

/// The manual next step when no source answers: the authenticator log of the control plane
/// names the principal behind `kubernetes-admin` whenever the creator signs in.
pub fn logs_insights_step(cluster: &str) -> ManualStep {
    ManualStep {
        log_group: format!("/aws/eks/{cluster}/cluster"),
        query: "fields @timestamp, @message\n\
                | filter @logStream like /^authenticator/\n\
                | filter @message like \"username=kubernetes-admin\"\n\
                | sort @timestamp desc\n\
                | limit 20"
            .to_string(),
        note: "needs the cluster's authenticator logs enabled (control plane logging); the \
               `arn=` and `uid=` fields of the matches name the creator. In the audit log stream \
               (kube-apiserver-audit) filter user.username = \"kubernetes-admin\" and read \
               user.extra.arn."
            .to_string(),
    }
}

/// The real adapters behind [`CreatorSources`].
pub struct AwsSources<'a> {
    ctx: &'a AwsContext,
    pacer: crate::aws::cloudtrail::Pacer,
    /// LookupEvents answers of earlier runs of the same caller (none: always ask).
    cache: Option<crate::aws::cloudtrail::LookupCache>,
}

impl<'a> AwsSources<'a> {
    pub fn new(ctx: &'a AwsContext) -> Self {
        AwsSources {
            ctx,
            pacer: crate::aws::cloudtrail::Pacer::default(),
            cache: None,
        }
    }
}

impl CreatorSources for AwsSources<'_> {
    async fn lookup_create_cluster(
        &mut self,
        window: Window,
        next_token: Option<String>,
    ) -> Result<LookupPage, AwsError> {
        crate::aws::cloudtrail::lookup_create_cluster(
            self.ctx,
            &mut self.pacer,
            self.cache.as_ref(),
            window.start,
            window.end,
            next_token,
        )
        .await
    }

    async fn trail_records(
        &mut self,
        bucket: Option<&str>,
        account: &str,
        region: &str,
        cluster: &str,
        created_at: DateTime<Utc>,
    ) -> Result<TrailScan, AwsError> {
        crate::aws::s3trail::create_cluster_records(
            self.ctx, bucket, account, region, cluster, created_at,
        )
        .await
    }

    async fn access_entries(&mut self, cluster: &str) -> Result<Vec<AccessEntryRecord>, AwsError> {
        crate::aws::eks_access::access_entries(self.ctx, cluster).await
    }

    async fn get_user(&mut self, name: &str) -> Result<Option<IamUserRecord>, AwsError> {
        crate::aws::iam::get_user(self.ctx, name).await
    }

    async fn get_role(&mut self, name: &str) -> Result<Option<IamRoleRecord>, AwsError> {
        crate::aws::iam::get_role(self.ctx, name).await
    }

    async fn list_access_keys(&mut self, user: &str) -> Result<Vec<AccessKeyInfo>, AwsError> {
        crate::aws::iam::list_access_keys(self.ctx, user).await
    }

    async fn list_mfa_devices(&mut self, user: &str) -> Result<Vec<String>, AwsError> {
        crate::aws::iam::list_mfa_devices(self.ctx, user).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::event::fixtures::{self, ACCOUNT};
    use serde_json::json;
    use std::collections::HashMap;

    /// An in-memory AWS: CloudTrail history with LookupEvents' window and paging semantics, a
    /// trail in S3, access entries, IAM principals, and refusals.
    #[derive(Default)]
    struct World {
        history: Vec<Value>,
        lookups: u32,
        deny: Vec<&'static str>,
        fatal: bool,
        trail: Option<TrailScan>,
        entries: Vec<AccessEntryRecord>,
        users: HashMap<String, IamUserRecord>,
        roles: HashMap<String, IamRoleRecord>,
        keys: HashMap<String, Vec<AccessKeyInfo>>,
    }

    fn denied(action: &str) -> AwsError {
        AwsError::new(action, AwsErrorKind::AccessDenied, "not authorized")
    }

    impl World {
        fn check(&self, action: &'static str) -> Result<(), AwsError> {
            if self.fatal {
                return Err(AwsError::new(
                    action,
                    AwsErrorKind::BadCredentials,
                    "expired",
                ));
            }
            if self.deny.contains(&action) {
                return Err(denied(action));
            }
            Ok(())
        }
    }

    impl CreatorSources for World {
        async fn lookup_create_cluster(
            &mut self,
            w: Window,
            next_token: Option<String>,
        ) -> Result<LookupPage, AwsError> {
            self.lookups += 1;
            self.check("cloudtrail:LookupEvents")?;
            let mut hits: Vec<&Value> = self
                .history
                .iter()
                .filter(|r| r["eventName"] == "CreateCluster")
                .filter(|r| {
                    r.get("eventTime")
                        .and_then(event::parse_time)
                        .is_some_and(|t| t >= w.start && t <= w.end)
                })
                .collect();
            hits.sort_by_key(|r| std::cmp::Reverse(r["eventTime"].as_str().map(str::to_string)));
            let from: usize = next_token.map(|t| t.parse().unwrap()).unwrap_or(0);
            let page: Vec<Value> = hits
                .iter()
                .skip(from)
                .take(50)
                .map(|v| (*v).clone())
                .collect();
            let next = (from + 50 < hits.len()).then(|| (from + 50).to_string());
            Ok(LookupPage {
                records: page,
                next_token: next,
                requests: 1,
                ..LookupPage::default()
            })
        }

        async fn trail_records(
            &mut self,
            _bucket: Option<&str>,
            _account: &str,
            _region: &str,
            _cluster: &str,
            _created_at: DateTime<Utc>,
        ) -> Result<TrailScan, AwsError> {
            self.check("s3:ListBucket")?;
            Ok(self.trail.clone().unwrap_or(TrailScan::NoTrail {
                detail: "no trail delivers to S3".into(),
            }))
        }

        async fn access_entries(&mut self, _c: &str) -> Result<Vec<AccessEntryRecord>, AwsError> {
            self.check("eks:ListAccessEntries")?;
            Ok(self.entries.clone())
        }

        async fn get_user(&mut self, name: &str) -> Result<Option<IamUserRecord>, AwsError> {
            self.check("iam:GetUser")?;
            Ok(self.users.get(name).cloned())
        }

        async fn get_role(&mut self, name: &str) -> Result<Option<IamRoleRecord>, AwsError> {
            self.check("iam:GetRole")?;
            Ok(self.roles.get(name).cloned())
        }

        async fn list_access_keys(&mut self, user: &str) -> Result<Vec<AccessKeyInfo>, AwsError> {
            self.check("iam:ListAccessKeys")?;
            Ok(self.keys.get(user).cloned().unwrap_or_default())
        }

        async fn list_mfa_devices(&mut self, _user: &str) -> Result<Vec<String>, AwsError> {
            self.check("iam:ListMFADevices")?;
            Ok(Vec::new())
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T21:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn facts(created: DateTime<Utc>) -> ClusterFacts {
        ClusterFacts {
            name: "prod".into(),
            arn: format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"),
            region: "eu-west-1".into(),
            status: Some("ACTIVE".into()),
            version: Some("1.29".into()),
            platform_version: None,
            created_at: Some(created),
            endpoint: None,
            ca_pem: None,
            endpoint_public_access: Some(true),
            endpoint_private_access: Some(false),
            auth_mode: Some(AuthMode::ApiAndConfigMap),
            bootstrap_creator_admin: Some(true),
            tags: BTreeMap::new(),
        }
    }

    fn admin_entry(principal: &str, created: DateTime<Utc>) -> AccessEntryRecord {
        AccessEntryRecord {
            principal_arn: principal.into(),
            created_at: Some(created),
            entry_type: Some("STANDARD".into()),
            policies: vec![format!(
                "arn:aws:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"
            )],
        }
    }

    /// On API* clusters the creator's admin is its access entry: without it, becoming the
    /// creator gets nobody in, and the verdict says so instead of proposing it.
    #[tokio::test]
    async fn a_creator_without_its_access_entry_is_not_proposed() {
        let created = now() - TimeDelta::days(3);
        let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
        let mut w = World::default();
        w.history.push(create(
            fixtures::iam_user("alice", "AIDAALICE"),
            "prod",
            created,
        ));
        w.users.insert("alice".into(), user("alice", "AIDAALICE"));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(r.creator_entry.as_ref().unwrap().exists, Some(false));
        assert_eq!(r.verdict.outcome, Outcome::Unusable);
        assert!(
            r.verdict.reason.contains("no access entry"),
            "{}",
            r.verdict.reason
        );
        assert!(r.verdict.next_command.as_deref().unwrap().contains("grant"));
        // With the entry: usable.
        w.entries.push(admin_entry(&alice, created));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(r.creator_entry.as_ref().unwrap().exists, Some(true));
        assert_eq!(r.verdict.outcome, Outcome::Usable);
        // CONFIG_MAP: the implicit admin, no entry to look for.
        w.entries.clear();
        let mut f = facts(created);
        f.auth_mode = Some(AuthMode::ConfigMap);
        let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
        assert!(r.creator_entry.is_none());
        assert_eq!(r.verdict.outcome, Outcome::Usable);
    }

    fn caller() -> Caller {
        Caller {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/oncall"),
            account: ACCOUNT.into(),
            user_id: "AIDAONCALL".into(),
        }
    }

    fn opts() -> FindOptions {
        FindOptions {
            trail_bucket: None,
            caller: Some(caller()),
            check_status: true,
            now: now(),
        }
    }

    fn iso(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    fn create(ui: Value, name: &str, t: DateTime<Utc>) -> Value {
        fixtures::record(ui, name, &iso(t), Some(t.timestamp() as f64))
    }

    fn user(name: &str, id: &str) -> IamUserRecord {
        IamUserRecord {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            user_id: id.into(),
            name: name.into(),
            path: "/".into(),
            created: None,
        }
    }

    /// Background noise: other services' CreateCluster and other clusters, every 10 minutes.
    fn noise(around: DateTime<Utc>, n: i64) -> Vec<Value> {
        (0..n)
            .map(|i| {
                let t = around - TimeDelta::minutes(10 * i);
                let mut r = create(fixtures::iam_user("ci", "AIDACI"), &format!("ecs-{i}"), t);
                r["eventSource"] = json!(if i % 2 == 0 {
                    "ecs.amazonaws.com"
                } else {
                    "redshift.amazonaws.com"
                });
                r
            })
            .collect()
    }

    #[tokio::test]
    async fn cloudtrail_answers_in_one_call_and_the_user_is_usable() {
        let created = now() - TimeDelta::days(30);
        let mut w = World {
            history: noise(created + TimeDelta::days(1), 500),
            ..World::default()
        };
        w.history.push(create(
            fixtures::iam_user("alice", "AIDAALICE"),
            "prod",
            created,
        ));
        let mut failed = create(
            fixtures::iam_user("mallory", "AIDAMAL"),
            "prod",
            created - TimeDelta::minutes(3),
        );
        failed["errorCode"] = json!("ResourceInUseException");
        w.history.push(failed);
        w.users.insert("alice".into(), user("alice", "AIDAALICE"));
        // An API_AND_CONFIG_MAP cluster: the creator's admin is its access entry.
        w.entries.push(admin_entry(
            &format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            created,
        ));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        let c = r.creator.as_ref().unwrap();
        assert_eq!(c.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
        assert_eq!(c.source, CreatorSource::Cloudtrail);
        assert_eq!(w.lookups, 1);
        let ct = r.cloudtrail.as_ref().unwrap();
        assert_eq!(ct.calls, 1);
        assert_eq!(ct.match_quality, Some(MatchQuality::ArnAndCreatedAt));
        let s = r.status.as_ref().unwrap();
        assert_eq!(s.state, PrincipalState::Alive);
        assert_eq!(r.verdict.outcome, Outcome::Usable);
        assert_eq!(r.verdict.exit_code, exit::OK);
        assert!(
            r.verdict
                .next_command
                .as_deref()
                .unwrap()
                .starts_with("eks-breakglass assume-creator --cluster prod")
        );
        assert_eq!(r.attempts.len(), 1);
    }

    #[tokio::test]
    async fn the_window_widens_only_when_needed() {
        let created = now() - TimeDelta::days(10);
        let mut w = World::default();
        // The event's own time is 40 minutes off, but its response names this cluster.
        let mut ev = create(fixtures::iam_user("alice", "AIDAALICE"), "prod", created);
        ev["eventTime"] = json!(iso(created - TimeDelta::minutes(40)));
        w.history.push(ev);
        w.users.insert("alice".into(), user("alice", "AIDAALICE"));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert!(r.creator.is_some());
        assert_eq!(w.lookups, 2);
        assert_eq!(r.cloudtrail.unwrap().windows.len(), 2);
    }

    #[tokio::test]
    async fn a_reused_name_never_picks_the_old_cluster() {
        let created = now() - TimeDelta::days(5);
        let old = created - TimeDelta::hours(20);
        let mut w = World::default();
        w.history.push(create(
            fixtures::iam_user("old-admin", "AIDAOLD"),
            "prod",
            old,
        ));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert!(r.creator.is_none(), "{:?}", r.creator);
        assert_eq!(r.verdict.exit_code, exit::CREATOR_NOT_FOUND);
        assert!(r.rejected_events[0].reason.contains("reused"));
        assert!(r.attempts[0].detail.contains("earlier cluster"));
        w.history.push(create(
            fixtures::iam_user("new-admin", "AIDANEW"),
            "prod",
            created,
        ));
        w.users
            .insert("new-admin".into(), user("new-admin", "AIDANEW"));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(r.creator.unwrap().unique_id.as_deref(), Some("AIDANEW"));
    }

    #[tokio::test]
    async fn old_clusters_skip_cloudtrail_and_read_the_s3_trail() {
        let created = now() - TimeDelta::days(200);
        let mut w = World {
            trail: Some(TrailScan::Scanned {
                location: "s3://trail/AWSLogs/".into(),
                found_by: "trail main".into(),
                files: 3,
                records: vec![create(
                    fixtures::iam_user("alice", "AIDAALICE"),
                    "prod",
                    created,
                )],
            }),
            ..World::default()
        };
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(w.lookups, 0);
        assert_eq!(r.attempts[0].outcome, AttemptOutcome::Skipped);
        assert!(r.attempts[0].detail.contains("200 days"));
        let c = r.creator.unwrap();
        assert_eq!(c.source, CreatorSource::S3Trail);
        // Alice is gone today.
        assert_eq!(r.status.unwrap().state, PrincipalState::Deleted);
        assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
        assert!(
            r.verdict
                .next_command
                .unwrap()
                .starts_with("eks-breakglass grant")
        );
    }

    #[tokio::test]
    async fn nothing_answers_gives_the_manual_query_and_exit_6() {
        let created = now() - TimeDelta::days(200);
        let mut f = facts(created);
        f.auth_mode = Some(AuthMode::ConfigMap);
        let mut w = World::default();
        let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
        assert!(r.creator.is_none());
        assert_eq!(r.verdict.outcome, Outcome::NotFound);
        assert_eq!(r.verdict.exit_code, exit::CREATOR_NOT_FOUND);
        let outcomes: Vec<_> = r.attempts.iter().map(|a| (a.source, a.outcome)).collect();
        assert_eq!(
            outcomes,
            vec![
                (CreatorSource::Cloudtrail, AttemptOutcome::Skipped),
                (CreatorSource::Tags, AttemptOutcome::NotFound),
                (CreatorSource::S3Trail, AttemptOutcome::NotFound),
                (CreatorSource::AccessEntry, AttemptOutcome::Skipped),
            ]
        );
        let m = r.manual_next_step.unwrap();
        assert_eq!(m.log_group, "/aws/eks/prod/cluster");
        assert!(m.query.contains("username=kubernetes-admin"));
    }

    #[tokio::test]
    async fn denied_lookup_is_reported_and_the_tags_answer() {
        let created = now() - TimeDelta::days(3);
        let mut f = facts(created);
        let recorded = Creator {
            unique_id: Some("AROAADMIN".into()),
            ..Creator::from_arn(
                &format!("arn:aws:iam::{ACCOUNT}:role/platform/eks-admin"),
                None,
                CreatorSource::Cloudtrail,
            )
        };
        f.tags = creator_tags(&recorded, now()).into_iter().collect();
        let mut w = World {
            deny: vec!["cloudtrail:LookupEvents", "iam:GetRole"],
            ..World::default()
        };
        let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
        assert_eq!(r.attempts[0].outcome, AttemptOutcome::Denied);
        assert_eq!(
            r.attempts[0].action.as_deref(),
            Some("cloudtrail:LookupEvents")
        );
        let c = r.creator.as_ref().unwrap();
        assert_eq!(c.source, CreatorSource::Tags);
        assert_eq!(c.kind, CreatorKind::AssumedRole);
        assert_eq!(c.unique_id.as_deref(), Some("AROAADMIN"));
        assert_eq!(c.path.as_deref(), Some("/platform/"));
        assert_eq!(
            c.aws_auth_arn.as_deref(),
            Some(format!("arn:aws:iam::{ACCOUNT}:role/eks-admin").as_str())
        );
        assert_eq!(r.status.as_ref().unwrap().state, PrincipalState::Unknown);
        assert_eq!(
            r.denied_actions(),
            vec!["cloudtrail:LookupEvents", "iam:GetRole"]
        );
        assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
    }

    #[tokio::test]
    async fn access_entries_made_with_the_cluster_answer_last() {
        let created = now() - TimeDelta::days(120);
        let admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
        let role = format!("arn:aws:iam::{ACCOUNT}:role/team/creator");
        let mut w = World {
            entries: vec![
                AccessEntryRecord {
                    principal_arn: format!("arn:aws:iam::{ACCOUNT}:role/node"),
                    created_at: Some(created + TimeDelta::seconds(5)),
                    entry_type: Some("EC2_LINUX".into()),
                    policies: Vec::new(),
                },
                AccessEntryRecord {
                    principal_arn: format!("arn:aws:iam::{ACCOUNT}:role/later-admin"),
                    created_at: Some(created + TimeDelta::days(2)),
                    entry_type: Some("STANDARD".into()),
                    policies: vec![admin.into()],
                },
                AccessEntryRecord {
                    principal_arn: role.clone(),
                    created_at: Some(created + TimeDelta::seconds(2)),
                    entry_type: Some("STANDARD".into()),
                    policies: vec![admin.into()],
                },
            ],
            ..World::default()
        };
        w.roles.insert(
            "creator".into(),
            IamRoleRecord {
                arn: role.clone(),
                role_id: "AROACREATOR".into(),
                name: "creator".into(),
                path: "/team/".into(),
                created: None,
                trust_policy: Some(json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()),
                max_session_duration: None,
            },
        );
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        let c = r.creator.as_ref().unwrap();
        assert_eq!(c.source, CreatorSource::AccessEntry);
        assert_eq!(c.arn, role);
        let s = r.status.as_ref().unwrap();
        assert_eq!(s.state, PrincipalState::ExistsUnverified);
        assert_eq!(
            s.trust.as_ref().unwrap().decision,
            TrustDecision::NotTrusted
        );
        // Not trusted, but assume-creator can add a trust statement.
        assert_eq!(r.verdict.outcome, Outcome::Usable);
        assert!(r.verdict.reason.contains("adds one trust statement"));
    }

    #[tokio::test]
    async fn bootstrap_admin_disabled_points_to_grant_but_names_the_creator() {
        let created = now() - TimeDelta::days(1);
        let mut f = facts(created);
        f.bootstrap_creator_admin = Some(false);
        let mut w = World::default();
        w.history.push(create(
            fixtures::iam_user("alice", "AIDAALICE"),
            "prod",
            created,
        ));
        w.users.insert("alice".into(), user("alice", "AIDAALICE"));
        let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
        assert!(r.creator.is_some());
        assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
        assert!(r.verdict.reason.contains("no implicit access"));
        assert!(
            r.verdict
                .next_command
                .unwrap()
                .contains("grant --cluster prod")
        );
    }

    #[tokio::test]
    async fn a_user_with_two_keys_or_recreated_is_unusable() {
        let created = now() - TimeDelta::days(1);
        let mut w = World::default();
        w.history.push(create(
            fixtures::iam_user("alice", "AIDAALICE"),
            "prod",
            created,
        ));
        w.users.insert("alice".into(), user("alice", "AIDAALICE"));
        let key = |id: &str| AccessKeyInfo {
            access_key_id: id.into(),
            status: "Active".into(),
            created: None,
        };
        w.keys
            .insert("alice".into(), vec![key("AKIA1"), key("AKIA2")]);
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
        assert!(r.verdict.reason.contains("2 access keys"));
        w.users
            .insert("alice".into(), user("alice", "AIDANEWALICE"));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(r.status.unwrap().state, PrincipalState::Recreated);
        assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
    }

    #[tokio::test]
    async fn identity_center_root_and_cloudformation_creators() {
        let created = now() - TimeDelta::days(1);
        let sso = "aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_0123456789abcdef";
        let mut w = World::default();
        w.history.push(create(
            fixtures::assumed_role(sso, "AROASSO", "carol@example.com"),
            "prod",
            created,
        ));
        w.roles.insert(
            "AWSReservedSSO_PlatformAdmin_0123456789abcdef".into(),
            IamRoleRecord {
                arn: format!("arn:aws:iam::{ACCOUNT}:role/{sso}"),
                role_id: "AROASSO".into(),
                name: "AWSReservedSSO_PlatformAdmin_0123456789abcdef".into(),
                path: "/aws-reserved/sso.amazonaws.com/eu-west-1/".into(),
                created: None,
                trust_policy: None,
                max_session_duration: None,
            },
        );
        w.entries.push(admin_entry(
            &format!("arn:aws:iam::{ACCOUNT}:role/{sso}"),
            created,
        ));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        let c = r.creator.as_ref().unwrap();
        assert_eq!(c.kind, CreatorKind::IdentityCenterRole);
        assert_eq!(c.permission_set.as_deref(), Some("PlatformAdmin"));
        assert_eq!(r.verdict.outcome, Outcome::Usable);
        assert!(
            r.verdict
                .next_command
                .as_deref()
                .unwrap()
                .contains("aws sso login")
        );
        assert!(r.status.unwrap().sso.unwrap().sign_in[0].contains("PlatformAdmin"));

        let mut w = World::default();
        w.history.push(create(fixtures::root(), "prod", created));
        let r = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap();
        assert_eq!(r.status.unwrap().state, PrincipalState::Root);
        assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);

        let mut w = World::default();
        let mut ev = create(
            fixtures::assumed_role("cfn-exec", "AROACFN", "AWSCloudFormation"),
            "prod",
            created,
        );
        ev["invokedBy"] = json!("cloudformation.amazonaws.com");
        ev["userAgent"] = json!("cloudformation.amazonaws.com");
        w.history.push(ev);
        let mut f = facts(created);
        f.tags
            .insert("alpha.eksctl.io/cluster-name".into(), "prod".into());
        let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
        let c = r.creator.unwrap();
        assert!(c.via_cloudformation);
        assert_eq!(c.tool, Tool::Eksctl);
        assert!(r.notes.iter().any(|n| n.contains("service role")));
    }

    #[tokio::test]
    async fn a_cluster_minutes_old_says_cloudtrail_may_lag() {
        let mut w = World::default();
        let r = find_creator_with(&mut w, &facts(now() - TimeDelta::minutes(4)), &opts())
            .await
            .unwrap();
        assert_eq!(r.attempts[0].outcome, AttemptOutcome::NotFound);
        assert!(
            r.attempts[0].detail.contains("up to 15 minutes"),
            "{:?}",
            r.attempts[0]
        );
        let r = find_creator_with(&mut w, &facts(now() - TimeDelta::days(4)), &opts())
            .await
            .unwrap();
        assert!(!r.attempts[0].detail.contains("minutes old"));
    }

    #[tokio::test]
    async fn bad_credentials_end_the_search() {
        let created = now() - TimeDelta::days(1);
        let mut w = World {
            fatal: true,
            ..World::default()
        };
        let e = find_creator_with(&mut w, &facts(created), &opts())
            .await
            .unwrap_err();
        assert_eq!(e.kind, AwsErrorKind::BadCredentials);
    }

    #[test]
    fn windows_widen_and_respect_retention() {
        let n = now();
        let LookupPlan::Windows(w) = lookup_plan(Some(n - TimeDelta::days(10)), n) else {
            panic!("expected windows");
        };
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].end - w[0].start, TimeDelta::minutes(30));
        // Created minutes ago: windows are cut at now.
        let LookupPlan::Windows(w) = lookup_plan(Some(n - TimeDelta::minutes(5)), n) else {
            panic!("expected windows");
        };
        assert!(w.iter().all(|x| x.end == n));
        // On the edge of retention: cut at 90 days.
        let LookupPlan::Windows(w) = lookup_plan(Some(n - TimeDelta::days(90)), n) else {
            panic!("expected windows");
        };
        assert!(w.iter().all(|x| x.start >= n - LOOKUP_RETENTION));
        assert_eq!(
            lookup_plan(Some(n - TimeDelta::days(91)), n),
            LookupPlan::TooOld { age_days: 91 }
        );
        assert_eq!(
            lookup_plan(None, n),
            LookupPlan::Windows(vec![Window {
                start: n - LOOKUP_RETENTION,
                end: n
            }])
        );
    }

    #[test]
    fn tags_round_trip_and_refuse_garbage() {
        let c = Creator {
            unique_id: Some("AIDAALICE".into()),
            ..Creator::from_arn(
                &format!("arn:aws:iam::{ACCOUNT}:user/ops/alice"),
                None,
                CreatorSource::Cloudtrail,
            )
        };
        let tags: BTreeMap<String, String> = creator_tags(&c, now()).into_iter().collect();
        assert_eq!(tags[TAG_CREATOR_KIND], "iam_user");
        assert_eq!(tags[TAG_CREATOR_RECORDED_AT], "2026-11-28T21:00:00Z");
        let back = creator_from_tags(&tags).unwrap().unwrap();
        assert_eq!(
            (back.arn.as_str(), back.kind, back.unique_id.as_deref()),
            (c.arn.as_str(), CreatorKind::IamUser, Some("AIDAALICE"))
        );
        assert_eq!(back.recorded_at, Some(now()));
        assert!(creator_from_tags(&BTreeMap::new()).is_none());
        let bad: BTreeMap<String, String> =
            [(TAG_CREATOR_ARN.to_string(), "alice".to_string())].into();
        assert!(creator_from_tags(&bad).unwrap().is_err());
    }
}
