//! What the creator search returns: the creator, each step's outcome, the verdict, and the
//! report `--output json` prints (field names are stable: other commands read them).
use super::super::event::{self, CreatorEvent, CreatorKind, MatchQuality, RejectedEvent, Tool};
use super::super::principal::PrincipalStatus;
use super::super::trust::Caller;
use crate::arn::PrincipalArn;
use crate::cluster::AuthMode;
use crate::ports::error::{AwsError, AwsErrorKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

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
    pub(super) fn refine_with_cluster_tags(&mut self, tags: &BTreeMap<String, String>) {
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
pub(super) fn is_fatal(e: &AwsError) -> bool {
    matches!(
        e.kind,
        AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
    )
}

pub(super) fn attempt_for_error(source: CreatorSource, e: &AwsError, what: &str) -> Attempt {
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

pub(super) fn merge_rejected(into: &mut Vec<RejectedEvent>, new: Vec<RejectedEvent>) {
    for r in new {
        if r.event_id.is_none() || !into.iter().any(|x| x.event_id == r.event_id) {
            into.push(r);
        }
    }
}
