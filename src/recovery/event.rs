//! A CloudTrail `CreateCluster` record, read into who created the cluster and how.
//!
//! The same JSON arrives from two places — the `CloudTrailEvent` string of LookupEvents and the
//! `Records[]` of a trail's S3 log file — so everything here works on a `serde_json::Value` and
//! never on SDK types. The hard parts are the ones people get wrong under pressure:
//! `CreateCluster` is also an ECS, Redshift, DAX and MemoryDB event name; a failed call is still
//! recorded; an assumed-role ARN hides the role's path (the real role is in `sessionIssuer`);
//! IAM Identity Center roles cannot be recreated by hand; and a cluster name can be reused, so
//! the event must be matched to *today's* cluster by ARN and creation time.

use crate::arn::PrincipalArn;
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How the creator's identity appears in CloudTrail (`userIdentity.type`, refined).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatorKind {
    /// An IAM user with long-term keys.
    IamUser,
    /// A session of an IAM role (the creator is the role).
    AssumedRole,
    /// A session of an IAM Identity Center permission set role (`AWSReservedSSO_*`).
    IdentityCenterRole,
    /// The account root user.
    Root,
    /// A `GetFederationToken` session; the creator is the IAM user that issued it.
    FederatedUser,
    /// Something else (an AWS service, a web identity without a role): reported as is.
    Other,
}

impl CreatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CreatorKind::IamUser => "iam_user",
            CreatorKind::AssumedRole => "assumed_role",
            CreatorKind::IdentityCenterRole => "identity_center_role",
            CreatorKind::Root => "root",
            CreatorKind::FederatedUser => "federated_user",
            CreatorKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<CreatorKind> {
        Some(match s {
            "iam_user" => CreatorKind::IamUser,
            "assumed_role" => CreatorKind::AssumedRole,
            "identity_center_role" => CreatorKind::IdentityCenterRole,
            "root" => CreatorKind::Root,
            "federated_user" => CreatorKind::FederatedUser,
            "other" => CreatorKind::Other,
            _ => return None,
        })
    }

    /// What a person calls it.
    pub fn describe(self) -> &'static str {
        match self {
            CreatorKind::IamUser => "IAM user",
            CreatorKind::AssumedRole => "IAM role (assumed)",
            CreatorKind::IdentityCenterRole => "IAM Identity Center role",
            CreatorKind::Root => "account root user",
            CreatorKind::FederatedUser => "federated user (GetFederationToken)",
            CreatorKind::Other => "other principal",
        }
    }

    /// The kind a principal ARN implies (used when only an ARN is known: tags, access entries).
    pub fn from_principal_arn(p: &PrincipalArn) -> CreatorKind {
        match p {
            PrincipalArn::User { .. } => CreatorKind::IamUser,
            PrincipalArn::Role { path, name, .. } => {
                if is_identity_center_role(path, name) {
                    CreatorKind::IdentityCenterRole
                } else {
                    CreatorKind::AssumedRole
                }
            }
            PrincipalArn::AssumedRole { role_name, .. } => {
                if sso_permission_set(role_name).is_some() {
                    CreatorKind::IdentityCenterRole
                } else {
                    CreatorKind::AssumedRole
                }
            }
            PrincipalArn::FederatedUser { .. } => CreatorKind::FederatedUser,
            PrincipalArn::Root { .. } => CreatorKind::Root,
        }
    }
}

/// The tool that made the call, recognised from the user agent (and cluster tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Terraform,
    Eksctl,
    Pulumi,
    Cdk,
    Cloudformation,
    Console,
    Awscli,
    Sdk,
    Unknown,
}

impl Tool {
    pub fn describe(self) -> &'static str {
        match self {
            Tool::Terraform => "Terraform",
            Tool::Eksctl => "eksctl",
            Tool::Pulumi => "Pulumi",
            Tool::Cdk => "AWS CDK",
            Tool::Cloudformation => "CloudFormation",
            Tool::Console => "AWS console",
            Tool::Awscli => "AWS CLI",
            Tool::Sdk => "an AWS SDK",
            Tool::Unknown => "unknown tool",
        }
    }
}

/// Recognises the tool from a CloudTrail `userAgent`.
pub fn tool_from_user_agent(ua: &str) -> Tool {
    let l = ua.to_ascii_lowercase();
    if l.contains("terraform") {
        Tool::Terraform
    } else if l.contains("eksctl") {
        Tool::Eksctl
    } else if l.contains("pulumi") {
        Tool::Pulumi
    } else if l.contains("aws-cdk") || l.contains("cdk/") || l.contains("awscdk") {
        Tool::Cdk
    } else if l.contains("cloudformation") {
        Tool::Cloudformation
    } else if l.contains("console.amazonaws.com")
        || l.contains("console.aws.amazon.com")
        || l.starts_with("mozilla/")
        || l.contains("aws-internal")
    {
        Tool::Console
    } else if l.contains("aws-cli/") {
        Tool::Awscli
    } else if l.contains("aws-sdk") || l.contains("boto3") || l.contains("botocore") {
        Tool::Sdk
    } else {
        Tool::Unknown
    }
}

/// True for roles that IAM Identity Center made for a permission set.
pub fn is_identity_center_role(path: &str, name: &str) -> bool {
    path.starts_with("/aws-reserved/sso.amazonaws.com/") || sso_permission_set(name).is_some()
}

/// The permission set name from `AWSReservedSSO_<PermissionSet>_<hex>`.
pub fn sso_permission_set(role_name: &str) -> Option<String> {
    let rest = role_name.strip_prefix("AWSReservedSSO_")?;
    let (set, suffix) = rest.rsplit_once('_')?;
    if set.is_empty() || suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(set.to_string())
}

/// The Region in an Identity Center role path `/aws-reserved/sso.amazonaws.com/REGION/`.
pub fn sso_region_from_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/aws-reserved/sso.amazonaws.com/")?;
    let region = rest.trim_end_matches('/');
    (!region.is_empty() && !region.contains('/')).then(|| region.to_string())
}

/// Who created the cluster, from one `CreateCluster` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatorIdentity {
    /// The principal to become: the IAM user (with path), the IAM role (with path, from
    /// `sessionIssuer`), the root ARN, or for a federated user the IAM user that issued it.
    pub arn: String,
    pub kind: CreatorKind,
    /// `principalId` for users and root, `sessionIssuer.principalId` (AROA…) for role sessions.
    pub unique_id: Option<String>,
    pub account: Option<String>,
    /// The ARN the caller had in the event (`assumed-role/NAME/SESSION`, `federated-user/NAME`).
    pub session_arn: Option<String>,
    pub session_name: Option<String>,
    /// For Identity Center roles: the permission set.
    pub permission_set: Option<String>,
    /// For Identity Center roles: the Region in the role path, if any.
    pub sso_region: Option<String>,
    /// `invokedBy` (e.g. `cloudformation.amazonaws.com`).
    pub invoked_by: Option<String>,
    /// Whether the user had MFA in the session (`sessionContext.attributes.mfaAuthenticated`).
    pub mfa_authenticated: Option<bool>,
}

/// One `CreateCluster` record, as the tool understands it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatorEvent {
    pub identity: CreatorIdentity,
    pub event_id: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub tool: Tool,
    pub region: Option<String>,
    /// Cluster name from the request or the response.
    pub cluster_name: Option<String>,
    /// `responseElements.cluster.arn`.
    pub cluster_arn: Option<String>,
    /// `responseElements.cluster.createdAt`.
    pub cluster_created_at: Option<DateTime<Utc>>,
}

/// Why a record is not the `CreateCluster` of an EKS cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCreate {
    /// Another service's `CreateCluster` (ECS, Redshift, …) or another event.
    OtherEvent,
    /// The call failed (`errorCode`).
    Failed(String),
    /// A malformed record (no `userIdentity`).
    Malformed(&'static str),
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|x| !x.is_empty())
}

fn owned(v: &Value, path: &[&str]) -> Option<String> {
    s(v, path).map(str::to_string)
}

/// Parses CloudTrail time values: RFC 3339, epoch seconds or milliseconds (number or string),
/// and the `Mar 11, 2021 6:27:53 PM` form some services use in `responseElements`.
pub fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => epoch(n.as_f64()?),
        Value::String(t) => {
            let t = t.trim();
            if let Ok(d) = DateTime::parse_from_rfc3339(t) {
                return Some(d.with_timezone(&Utc));
            }
            if let Ok(f) = t.parse::<f64>() {
                return epoch(f);
            }
            for fmt in [
                "%b %d, %Y %I:%M:%S %p",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S",
            ] {
                if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
                    return Some(Utc.from_utc_datetime(&n));
                }
            }
            None
        }
        _ => None,
    }
}

fn epoch(f: f64) -> Option<DateTime<Utc>> {
    if !f.is_finite() || f <= 0.0 {
        return None;
    }
    // Anything past the year 5000 in seconds is milliseconds.
    let secs = if f > 1e11 { f / 1000.0 } else { f };
    let whole = secs.trunc() as i64;
    let nanos = ((secs - secs.trunc()) * 1e9).round() as u32;
    DateTime::from_timestamp(whole, nanos.min(999_999_999))
}

/// Reads one CloudTrail record. Only a successful `eks.amazonaws.com` `CreateCluster` passes.
pub fn parse_create_cluster(record: &Value) -> Result<CreatorEvent, NotCreate> {
    if s(record, &["eventSource"]) != Some("eks.amazonaws.com")
        || s(record, &["eventName"]) != Some("CreateCluster")
    {
        return Err(NotCreate::OtherEvent);
    }
    if let Some(code) = s(record, &["errorCode"]) {
        return Err(NotCreate::Failed(code.to_string()));
    }
    let ui = record
        .get("userIdentity")
        .filter(|v| v.is_object())
        .ok_or(NotCreate::Malformed("no userIdentity"))?;
    let identity = identity_from_user_identity(ui, owned(record, &["invokedBy"]))?;
    let user_agent = owned(record, &["userAgent"]);
    let tool = match (&user_agent, &identity.invoked_by) {
        (Some(ua), _) if tool_from_user_agent(ua) != Tool::Unknown => tool_from_user_agent(ua),
        (_, Some(by)) if by.contains("cloudformation") => Tool::Cloudformation,
        _ => Tool::Unknown,
    };
    let req = record.get("requestParameters").unwrap_or(&Value::Null);
    let cluster = record
        .get("responseElements")
        .and_then(|r| r.get("cluster"))
        .unwrap_or(&Value::Null);
    let cluster_name = owned(req, &["name"])
        .or_else(|| owned(req, &["clusterName"]))
        .or_else(|| owned(cluster, &["name"]))
        .or_else(|| owned(cluster, &["clusterName"]));
    Ok(CreatorEvent {
        identity,
        event_id: owned(record, &["eventID"]),
        event_time: record.get("eventTime").and_then(parse_time),
        source_ip: owned(record, &["sourceIPAddress"]),
        user_agent,
        tool,
        region: owned(record, &["awsRegion"]),
        cluster_name,
        cluster_arn: owned(cluster, &["arn"]),
        cluster_created_at: cluster.get("createdAt").and_then(parse_time),
    })
}

/// Classifies `userIdentity`.
fn identity_from_user_identity(
    ui: &Value,
    invoked_by: Option<String>,
) -> Result<CreatorIdentity, NotCreate> {
    let typ = s(ui, &["type"]).unwrap_or("");
    let arn = owned(ui, &["arn"]);
    let principal_id = owned(ui, &["principalId"]);
    let account = owned(ui, &["accountId"]);
    let issuer = ui
        .get("sessionContext")
        .and_then(|c| c.get("sessionIssuer"))
        .filter(|v| v.is_object());
    let mfa = ui
        .get("sessionContext")
        .and_then(|c| c.get("attributes"))
        .and_then(|a| a.get("mfaAuthenticated"))
        .and_then(|m| match m {
            Value::Bool(b) => Some(*b),
            Value::String(t) => Some(t.eq_ignore_ascii_case("true")),
            _ => None,
        });
    let mut id = CreatorIdentity {
        arn: String::new(),
        kind: CreatorKind::Other,
        unique_id: principal_id.clone(),
        account,
        session_arn: None,
        session_name: None,
        permission_set: None,
        sso_region: None,
        invoked_by,
        mfa_authenticated: mfa,
    };
    match typ {
        "IAMUser" => {
            id.kind = CreatorKind::IamUser;
            id.arn = arn.ok_or(NotCreate::Malformed("IAMUser without arn"))?;
        }
        "Root" => {
            id.kind = CreatorKind::Root;
            id.arn = arn.ok_or(NotCreate::Malformed("Root without arn"))?;
        }
        "AssumedRole" | "FederatedUser" => {
            let issuer = issuer.ok_or(NotCreate::Malformed("session without sessionIssuer"))?;
            id.arn =
                owned(issuer, &["arn"]).ok_or(NotCreate::Malformed("sessionIssuer without arn"))?;
            id.unique_id = owned(issuer, &["principalId"]);
            id.session_arn = arn.clone();
            // principalId of a session is `ISSUER_ID:SESSION` (roles) or `ACCOUNT:NAME`
            // (federated users); the ARN's last segment says the same.
            id.session_name = principal_id
                .as_deref()
                .and_then(|p| p.split_once(':'))
                .map(|(_, sn)| sn.to_string())
                .or_else(|| {
                    arn.as_deref()
                        .and_then(|a| a.rsplit_once('/'))
                        .map(|(_, sn)| sn.to_string())
                });
            if typ == "FederatedUser" {
                id.kind = CreatorKind::FederatedUser;
            } else {
                id.kind = CreatorKind::AssumedRole;
                if let Ok(PrincipalArn::Role { path, name, .. }) = PrincipalArn::parse(&id.arn)
                    && is_identity_center_role(&path, &name)
                {
                    id.kind = CreatorKind::IdentityCenterRole;
                    id.permission_set = sso_permission_set(&name);
                    id.sso_region = sso_region_from_path(&path);
                }
            }
        }
        _ => {
            id.kind = CreatorKind::Other;
            id.arn = arn
                .or_else(|| issuer.and_then(|i| owned(i, &["arn"])))
                .or_else(|| owned(ui, &["invokedBy"]))
                .unwrap_or_else(|| format!("(userIdentity type {typ})"));
        }
    }
    Ok(id)
}

/// What today's cluster looks like, for matching events to it.
#[derive(Debug, Clone)]
pub struct ClusterKey<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    pub created_at: Option<DateTime<Utc>>,
}

/// How an event was matched to today's cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchQuality {
    /// The event's time is near the cluster's `createdAt` (no `createdAt` in the response).
    Time,
    /// The response's ARN and `createdAt` equal today's cluster.
    ArnAndCreatedAt,
}

/// How close an event's time must be to `createdAt` when the response does not say.
pub const EVENT_TIME_TOLERANCE: TimeDelta = TimeDelta::minutes(60);
/// How close the response's `createdAt` must be to DescribeCluster's.
pub const CREATED_AT_TOLERANCE: TimeDelta = TimeDelta::minutes(2);

/// Why a `CreateCluster` for this cluster's name was not chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedEvent {
    pub event_id: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub reason: String,
}

/// The result of choosing among candidate events.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub chosen: Option<(CreatorEvent, MatchQuality)>,
    pub rejected: Vec<RejectedEvent>,
}

fn name_matches(ev: &CreatorEvent, key: &ClusterKey<'_>) -> bool {
    ev.cluster_name.as_deref() == Some(key.name)
        || ev
            .cluster_arn
            .as_deref()
            .is_some_and(|a| !key.arn.is_empty() && a == key.arn)
}

/// Chooses the event that created today's cluster among parsed `CreateCluster` events.
///
/// A name can be reused after deletion, and the new cluster gets the same ARN, so the ARN alone
/// proves nothing: the creation time decides. The best match has the response's ARN and
/// `createdAt` equal to DescribeCluster's; otherwise the event time must be within
/// [`EVENT_TIME_TOLERANCE`] of `createdAt`, and among those the closest wins. Without a
/// `createdAt` (should not happen), the newest event for the name is taken.
pub fn choose_event(events: Vec<CreatorEvent>, key: &ClusterKey<'_>) -> Choice {
    let mut choice = Choice::default();
    let mut best: Option<(CreatorEvent, MatchQuality, TimeDelta)> = None;
    for ev in events {
        if !name_matches(&ev, key) {
            continue;
        }
        let arn_ok = ev
            .cluster_arn
            .as_deref()
            .is_none_or(|a| key.arn.is_empty() || a == key.arn);
        if !arn_ok {
            choice.rejected.push(RejectedEvent {
                event_id: ev.event_id.clone(),
                event_time: ev.event_time,
                reason: format!(
                    "created {} (another cluster ARN)",
                    ev.cluster_arn.as_deref().unwrap_or("?")
                ),
            });
            continue;
        }
        let Some(created) = key.created_at else {
            let newer = match (&best, ev.event_time) {
                (None, _) => true,
                (Some((b, _, _)), Some(t)) => b.event_time.is_none_or(|bt| t > bt),
                (Some(_), None) => false,
            };
            if newer {
                best = Some((ev, MatchQuality::Time, TimeDelta::zero()));
            }
            continue;
        };
        let (quality, distance) = match (ev.cluster_created_at, ev.event_time) {
            (Some(c), _) if (c - created).abs() <= CREATED_AT_TOLERANCE => {
                (Some(MatchQuality::ArnAndCreatedAt), (c - created).abs())
            }
            (Some(c), _) => {
                choice.rejected.push(RejectedEvent {
                    event_id: ev.event_id.clone(),
                    event_time: ev.event_time,
                    reason: format!(
                        "created a cluster of the same name at {} (this one was created at {}): \
                         the name was reused",
                        c.to_rfc3339(),
                        created.to_rfc3339()
                    ),
                });
                continue;
            }
            (None, Some(t)) if (t - created).abs() <= EVENT_TIME_TOLERANCE => {
                (Some(MatchQuality::Time), (t - created).abs())
            }
            (None, t) => {
                choice.rejected.push(RejectedEvent {
                    event_id: ev.event_id.clone(),
                    event_time: t,
                    reason:
                        "too far from this cluster's createdAt: an earlier cluster of the same name"
                            .to_string(),
                });
                continue;
            }
        };
        let Some(q) = quality else { continue };
        let better = match &best {
            None => true,
            Some((_, bq, bd)) => q > *bq || (q == *bq && distance < *bd),
        };
        if better {
            if let Some((old, _, _)) = best.take() {
                choice.rejected.push(RejectedEvent {
                    event_id: old.event_id.clone(),
                    event_time: old.event_time,
                    reason: "a closer match was found".into(),
                });
            }
            best = Some((ev, q, distance));
        } else {
            choice.rejected.push(RejectedEvent {
                event_id: ev.event_id.clone(),
                event_time: ev.event_time,
                reason: "a closer match was found".into(),
            });
        }
    }
    choice.chosen = best.map(|(e, q, _)| (e, q));
    choice
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Realistic CloudTrail records, as AWS writes them.
    use serde_json::{Value, json};

    pub const ACCOUNT: &str = "111122223333";

    pub fn record(user_identity: Value, name: &str, time: &str, created: Option<f64>) -> Value {
        let mut r = json!({
            "eventVersion": "1.09",
            "userIdentity": user_identity,
            "eventTime": time,
            "eventSource": "eks.amazonaws.com",
            "eventName": "CreateCluster",
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5 md/arch#x86_64 lang/python#3.11.8 command/eks.create-cluster",
            "requestParameters": {"name": name, "version": "1.29", "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/eks-cluster")},
            "responseElements": {"cluster": {
                "name": name,
                "arn": format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/{name}"),
                "status": "CREATING"
            }},
            "requestID": "6a0c2b8e-1111-4b0e-9a8d-2f3c4d5e6f70",
            "eventID": format!("ev-{name}-{time}"),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management"
        });
        if let Some(c) = created {
            r["responseElements"]["cluster"]["createdAt"] = json!(c);
        }
        r
    }

    pub fn iam_user(path_name: &str, id: &str) -> Value {
        let name = path_name.rsplit('/').next().unwrap_or(path_name);
        json!({
            "type": "IAMUser",
            "principalId": id,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/{path_name}"),
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLEKEY000001",
            "userName": name
        })
    }

    pub fn assumed_role(path_name: &str, role_id: &str, session: &str) -> Value {
        let name = path_name.rsplit('/').next().unwrap_or(path_name);
        json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{session}"),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}"),
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEKEY000002",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{ACCOUNT}:role/{path_name}"),
                    "accountId": ACCOUNT,
                    "userName": name
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": "2026-11-01T09:58:12Z", "mfaAuthenticated": "true"}
            }
        })
    }

    pub fn root() -> Value {
        json!({
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": format!("arn:aws:iam::{ACCOUNT}:root"),
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAROOTSESSION00003"
        })
    }

    pub fn federated(user: &str, user_id: &str) -> Value {
        json!({
            "type": "FederatedUser",
            "principalId": format!("{ACCOUNT}:{user}-fed"),
            "arn": format!("arn:aws:sts::{ACCOUNT}:federated-user/{user}-fed"),
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAFEDSESSION000004",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "IAMUser",
                    "principalId": user_id,
                    "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
                    "accountId": ACCOUNT,
                    "userName": user
                },
                "attributes": {"creationDate": "2026-11-01T09:58:12Z", "mfaAuthenticated": "false"}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use serde_json::json;

    const T: &str = "2026-11-01T10:00:00Z";
    const T_EPOCH: f64 = 1_793_527_200.0;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn iam_user_keeps_path_and_id() {
        let r = record(
            iam_user("ops/alice", "AIDAEXAMPLEALICE0001"),
            "prod",
            T,
            Some(T_EPOCH),
        );
        let ev = parse_create_cluster(&r).unwrap();
        assert_eq!(ev.identity.kind, CreatorKind::IamUser);
        assert_eq!(
            ev.identity.arn,
            format!("arn:aws:iam::{ACCOUNT}:user/ops/alice")
        );
        assert_eq!(
            ev.identity.unique_id.as_deref(),
            Some("AIDAEXAMPLEALICE0001")
        );
        assert_eq!(ev.tool, Tool::Awscli);
        assert_eq!(ev.source_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(ev.event_time, Some(t(T)));
        assert_eq!(ev.cluster_created_at, Some(t(T)));
        assert_eq!(ev.cluster_name.as_deref(), Some("prod"));
    }

    #[test]
    fn assumed_role_uses_session_issuer_with_path() {
        let r = record(
            assumed_role(
                "platform/admins/eks-admin",
                "AROAEXAMPLEROLE00001",
                "bob@example.com",
            ),
            "prod",
            T,
            None,
        );
        let ev = parse_create_cluster(&r).unwrap();
        let id = &ev.identity;
        assert_eq!(id.kind, CreatorKind::AssumedRole);
        assert_eq!(
            id.arn,
            format!("arn:aws:iam::{ACCOUNT}:role/platform/admins/eks-admin")
        );
        assert_eq!(id.unique_id.as_deref(), Some("AROAEXAMPLEROLE00001"));
        assert_eq!(id.session_name.as_deref(), Some("bob@example.com"));
        assert_eq!(
            id.session_arn.as_deref(),
            Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/eks-admin/bob@example.com").as_str())
        );
        assert_eq!(id.mfa_authenticated, Some(true));
    }

    #[test]
    fn identity_center_role_names_the_permission_set() {
        let r = record(
            assumed_role(
                "aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6789",
                "AROAEXAMPLESSO000001",
                "carol@example.com",
            ),
            "prod",
            T,
            None,
        );
        let id = parse_create_cluster(&r).unwrap().identity;
        assert_eq!(id.kind, CreatorKind::IdentityCenterRole);
        assert_eq!(id.permission_set.as_deref(), Some("AdministratorAccess"));
        assert_eq!(id.sso_region.as_deref(), Some("eu-west-1"));
        // Permission set names may contain underscores; the suffix is the last hex part.
        assert_eq!(
            sso_permission_set("AWSReservedSSO_EKS_Admins_abcdef0123456789").as_deref(),
            Some("EKS_Admins")
        );
        assert_eq!(sso_permission_set("AWSReservedSSO_x_notHex"), None);
        assert_eq!(sso_permission_set("Admin"), None);
    }

    #[test]
    fn root_and_federated_user() {
        let id = parse_create_cluster(&record(root(), "prod", T, None))
            .unwrap()
            .identity;
        assert_eq!(id.kind, CreatorKind::Root);
        assert_eq!(id.arn, format!("arn:aws:iam::{ACCOUNT}:root"));
        let id = parse_create_cluster(&record(
            federated("dave", "AIDAEXAMPLEDAVE00001"),
            "prod",
            T,
            None,
        ))
        .unwrap()
        .identity;
        assert_eq!(id.kind, CreatorKind::FederatedUser);
        assert_eq!(id.arn, format!("arn:aws:iam::{ACCOUNT}:user/dave"));
        assert_eq!(id.unique_id.as_deref(), Some("AIDAEXAMPLEDAVE00001"));
        assert_eq!(id.session_name.as_deref(), Some("dave-fed"));
    }

    #[test]
    fn cloudformation_and_user_agents() {
        let mut r = record(
            assumed_role("cfn-exec", "AROAEXAMPLECFN000001", "AWSCloudFormation"),
            "prod",
            T,
            None,
        );
        r["invokedBy"] = json!("cloudformation.amazonaws.com");
        r["userAgent"] = json!("cloudformation.amazonaws.com");
        let ev = parse_create_cluster(&r).unwrap();
        assert_eq!(
            ev.identity.invoked_by.as_deref(),
            Some("cloudformation.amazonaws.com")
        );
        assert_eq!(ev.tool, Tool::Cloudformation);
        assert_eq!(
            tool_from_user_agent(
                "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2"
            ),
            Tool::Terraform
        );
        assert_eq!(
            tool_from_user_agent("eksctl/0.175.0 aws-sdk-go-v2/1.25"),
            Tool::Eksctl
        );
        assert_eq!(tool_from_user_agent("console.amazonaws.com"), Tool::Console);
        assert_eq!(
            tool_from_user_agent("Boto3/1.34.0 md/Botocore#1.34.0"),
            Tool::Sdk
        );
        assert_eq!(tool_from_user_agent("aws-cdk/2.130.0"), Tool::Cdk);
        assert_eq!(tool_from_user_agent("curl/8"), Tool::Unknown);
    }

    #[test]
    fn noise_and_failures_are_refused() {
        let mut ecs = record(iam_user("alice", "AIDA1"), "prod", T, None);
        ecs["eventSource"] = json!("ecs.amazonaws.com");
        assert_eq!(parse_create_cluster(&ecs), Err(NotCreate::OtherEvent));
        let mut redshift = record(iam_user("alice", "AIDA1"), "prod", T, None);
        redshift["eventSource"] = json!("redshift.amazonaws.com");
        assert_eq!(parse_create_cluster(&redshift), Err(NotCreate::OtherEvent));
        let mut failed = record(iam_user("alice", "AIDA1"), "prod", T, None);
        failed["errorCode"] = json!("ResourceInUseException");
        failed["responseElements"] = Value::Null;
        assert_eq!(
            parse_create_cluster(&failed),
            Err(NotCreate::Failed("ResourceInUseException".into()))
        );
        let mut broken = record(iam_user("alice", "AIDA1"), "prod", T, None);
        broken.as_object_mut().unwrap().remove("userIdentity");
        assert!(matches!(
            parse_create_cluster(&broken),
            Err(NotCreate::Malformed(_))
        ));
    }

    #[test]
    fn times_in_every_shape() {
        assert_eq!(parse_time(&json!(T_EPOCH)), Some(t(T)));
        assert_eq!(parse_time(&json!(T_EPOCH * 1000.0)), Some(t(T)));
        assert_eq!(parse_time(&json!("1793527200.000")), Some(t(T)));
        assert_eq!(parse_time(&json!("Nov 1, 2026 10:00:00 AM")), Some(t(T)));
        assert_eq!(parse_time(&json!("2026-11-01T10:00:00.000Z")), Some(t(T)));
        assert_eq!(parse_time(&json!("yesterday")), None);
    }

    #[test]
    fn a_reused_name_chooses_todays_cluster() {
        let old = parse_create_cluster(&record(
            iam_user("old-admin", "AIDAOLD"),
            "prod",
            "2026-10-01T08:00:00Z",
            Some(1_790_841_600.0),
        ))
        .unwrap();
        let new = parse_create_cluster(&record(
            iam_user("new-admin", "AIDANEW"),
            "prod",
            T,
            Some(T_EPOCH),
        ))
        .unwrap();
        let other =
            parse_create_cluster(&record(iam_user("x", "AIDAX"), "staging", T, Some(T_EPOCH)))
                .unwrap();
        let arn = format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod");
        let key = ClusterKey {
            name: "prod",
            arn: &arn,
            created_at: Some(t(T) + TimeDelta::seconds(1)),
        };
        let c = choose_event(vec![new.clone(), old.clone(), other], &key);
        let (chosen, q) = c.chosen.unwrap();
        assert_eq!(chosen.identity.unique_id.as_deref(), Some("AIDANEW"));
        assert_eq!(q, MatchQuality::ArnAndCreatedAt);
        assert_eq!(c.rejected.len(), 1);
        assert!(c.rejected[0].reason.contains("reused"), "{:?}", c.rejected);
        // Only the old event: nothing is chosen.
        let c = choose_event(vec![old], &key);
        assert!(c.chosen.is_none());
        assert_eq!(c.rejected.len(), 1);
    }

    #[test]
    fn without_response_created_at_the_event_time_decides() {
        let near = parse_create_cluster(&record(iam_user("a", "AIDAA"), "prod", T, None)).unwrap();
        let far = parse_create_cluster(&record(
            iam_user("b", "AIDAB"),
            "prod",
            "2026-10-31T10:00:00Z",
            None,
        ))
        .unwrap();
        let key = ClusterKey {
            name: "prod",
            arn: "",
            created_at: Some(t(T)),
        };
        let c = choose_event(vec![far.clone(), near], &key);
        assert_eq!(
            c.chosen.unwrap().0.identity.unique_id.as_deref(),
            Some("AIDAA")
        );
        // No createdAt at all: the newest event for the name.
        let key = ClusterKey {
            name: "prod",
            arn: "",
            created_at: None,
        };
        let older = parse_create_cluster(&record(
            iam_user("c", "AIDAC"),
            "prod",
            "2026-10-30T10:00:00Z",
            None,
        ))
        .unwrap();
        let c = choose_event(vec![older, far], &key);
        assert_eq!(
            c.chosen.unwrap().0.identity.unique_id.as_deref(),
            Some("AIDAB")
        );
    }

    #[test]
    fn cluster_name_from_any_field() {
        let mut r = record(iam_user("a", "AIDAA"), "prod", T, None);
        r["requestParameters"] = json!({"clusterName": "prod"});
        r["responseElements"] = Value::Null;
        assert_eq!(
            parse_create_cluster(&r).unwrap().cluster_name.as_deref(),
            Some("prod")
        );
        r["requestParameters"] = Value::Null;
        r["responseElements"] = json!({"cluster": {"clusterName": "prod"}});
        assert_eq!(
            parse_create_cluster(&r).unwrap().cluster_name.as_deref(),
            Some("prod")
        );
    }

    #[test]
    fn kind_from_arn() {
        let p = PrincipalArn::parse("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd").unwrap();
        assert_eq!(
            CreatorKind::from_principal_arn(&p),
            CreatorKind::IdentityCenterRole
        );
        let p = PrincipalArn::parse("arn:aws:iam::111122223333:role/x").unwrap();
        assert_eq!(
            CreatorKind::from_principal_arn(&p),
            CreatorKind::AssumedRole
        );
        for k in [
            CreatorKind::IamUser,
            CreatorKind::Root,
            CreatorKind::FederatedUser,
            CreatorKind::IdentityCenterRole,
        ] {
            assert_eq!(CreatorKind::parse(k.as_str()), Some(k));
        }
    }
}
