//! Scenario files (YAML): the world to build. Field by field documentation: sim/README.md.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::state::{DenyRule, TrailConfig};

fn default_account() -> String {
    "123456789012".into()
}
fn default_region() -> String {
    "us-east-1".into()
}
fn slash() -> String {
    "/".into()
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn default_version() -> String {
    "1.31".into()
}
fn default_mode() -> String {
    "CONFIG_MAP".into()
}
fn default_created() -> String {
    "-30d".into()
}
fn default_delay() -> f64 {
    2.0
}
fn default_scope() -> String {
    "cluster".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_account")]
    pub account: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub iam: IamSpec,
    /// Name of the user (in iam.users) whose first access key is exported.
    pub operator: Option<String>,
    #[serde(default)]
    pub clusters: Vec<ClusterSpec>,
    #[serde(default)]
    pub cloudtrail: CloudTrailSpec,
    #[serde(default)]
    pub deny: Vec<DenyRule>,
    #[serde(default = "default_delay")]
    pub update_delay_seconds: f64,
    /// UpdateClusterConfig updates end `Failed` with this error instead of succeeding.
    #[serde(default)]
    pub update_failure: Option<crate::state::UpdateFailure>,
    /// IAM/EKS propagation delays (default: several seconds each, as a drill should feel).
    #[serde(default)]
    pub propagation: Option<crate::iamrules::Propagation>,
    /// An AWS Organization in moto: `account` is its management account.
    pub organization: Option<OrganizationSpec>,
}

fn org_role() -> String {
    "OrganizationAccountAccessRole".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationSpec {
    /// Member accounts to create (moto's CreateAccount chooses their ids).
    #[serde(default)]
    pub accounts: Vec<OrgAccountSpec>,
    /// The role CreateAccount makes in each member account, trusting the management account.
    #[serde(default = "org_role")]
    pub role: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgAccountSpec {
    pub name: String,
    /// Default: `<name>@example.com`.
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IamSpec {
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub roles: Vec<RoleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserSpec {
    pub name: String,
    #[serde(default = "slash")]
    pub path: String,
    #[serde(default = "one")]
    pub access_keys: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    #[serde(default = "slash")]
    pub path: String,
    /// Who may assume the role; default: the account (`arn:aws:iam::ACCOUNT:root`).
    #[serde(default)]
    pub trust: TrustSpec,
    /// A full trust policy document (JSON text); overrides `trust`.
    pub trust_policy: Option<String>,
    /// Sessions to open with moto's AssumeRole; their credentials go to the state file.
    #[serde(default)]
    pub sessions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustSpec {
    #[serde(default)]
    pub aws: Vec<String>,
    #[serde(default)]
    pub service: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatorSpec {
    /// `user` (default when `user` is set), `role`, `root`, `sso`, `cloudformation`.
    pub kind: Option<String>,
    pub user: Option<String>,
    pub role: Option<String>,
    /// Role session name (role / sso / cloudformation creators).
    pub session: Option<String>,
    /// sso: the permission set name (role AWSReservedSSO_<permissionSet>_<hex>).
    pub permission_set: Option<String>,
    /// sso: whether the role's path carries the Identity Center Region
    /// (`/aws-reserved/sso.amazonaws.com/<region>/`, default) or not (older roles:
    /// `/aws-reserved/sso.amazonaws.com/`).
    pub sso_region_in_path: Option<bool>,
    pub user_agent: Option<String>,
    pub source_ip_address: Option<String>,
    /// The creator principal was deleted after creating the cluster.
    #[serde(default)]
    pub deleted: bool,
    /// ... and then recreated with the same path and name (new unique id).
    #[serde(default)]
    pub recreated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodegroupSpec {
    pub name: String,
    /// Role name (from iam.roles) or ARN.
    pub node_role: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FargateSpec {
    pub name: String,
    pub pod_execution_role: String,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    /// Policy name (`AmazonEKSClusterAdminPolicy`) or full ARN.
    pub policy: String,
    #[serde(default = "default_scope")]
    pub scope: String,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessEntrySpec {
    /// Role or user name (roles first), or an ARN.
    pub principal: String,
    #[serde(rename = "type")]
    pub entry_type: Option<String>,
    pub username: Option<String>,
    #[serde(default)]
    pub kubernetes_groups: Vec<String>,
    #[serde(default)]
    pub policies: Vec<PolicySpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReusedNameSpec {
    pub created_at: String,
    /// When the older cluster was deleted (default: one day after it was created).
    pub deleted_at: Option<String>,
    #[serde(default)]
    pub creator: CreatorSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    pub name: String,
    /// The cluster's account: the scenario's (default), its 12-digit id, or the `name` of an
    /// `organization.accounts` member.
    pub account: Option<String>,
    /// The cluster's region (default: the scenario's).
    pub region: Option<String>,
    #[serde(default = "default_created")]
    pub created_at: String,
    #[serde(default = "default_version")]
    pub version: String,
    pub platform_version: Option<String>,
    /// The cluster service role (name or ARN); default: an `eks-cluster-role` ARN.
    pub role_arn: Option<String>,
    #[serde(default)]
    pub creator: CreatorSpec,
    #[serde(default = "default_mode")]
    pub authentication_mode: String,
    #[serde(default = "yes")]
    pub bootstrap_cluster_creator_admin_permissions: bool,
    #[serde(default)]
    pub legacy_creator_match_by_arn: bool,
    #[serde(default = "yes")]
    pub endpoint_public_access: bool,
    #[serde(default)]
    pub endpoint_private_access: bool,
    #[serde(default)]
    pub nodegroups: Vec<NodegroupSpec>,
    #[serde(default)]
    pub fargate_profiles: Vec<FargateSpec>,
    #[serde(default)]
    pub access_entries: Vec<AccessEntrySpec>,
    /// kube-system/aws-auth `data`, literal text per key; absent = no ConfigMap.
    pub aws_auth: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub admission: bool,
    pub reused_name: Option<ReusedNameSpec>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThrottleSpec {
    #[serde(default)]
    pub off: bool,
    pub rate: Option<f64>,
    pub burst: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoiseSpec {
    pub events_per_day: u64,
    #[serde(default = "ninety")]
    pub days: u32,
    #[serde(default)]
    pub seed: u64,
}

fn ninety() -> u32 {
    90
}

/// CloudTrail "typically delivers events within an average of about 5 minutes of an API call;
/// this time is not guaranteed" (CloudTrail User Guide, "How CloudTrail works"): a world shows
/// an event in LookupEvents 5 minutes after it happened unless the scenario says otherwise.
pub const DEFAULT_DELIVERY_DELAY_SECONDS: f64 = 300.0;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudTrailSpec {
    pub throttle: Option<ThrottleSpec>,
    /// LookupEvents examines at most this many candidates per page (short and empty pages
    /// with a NextToken, as CloudTrail answers); default: full pages.
    pub scan_per_page: Option<usize>,
    /// Events show up in LookupEvents this long after they happened (default
    /// [`DEFAULT_DELIVERY_DELAY_SECONDS`]; a test that needs events at once sets 0).
    pub delivery_delay_seconds: Option<f64>,
    pub noise: Option<NoiseSpec>,
    pub trail: Option<TrailConfig>,
}

impl Scenario {
    pub fn from_yaml(text: &str) -> Result<Scenario, String> {
        let s: Scenario = serde_saphyr::from_str(text).map_err(|e| format!("scenario: {e}"))?;
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for c in &self.clusters {
            if !seen.insert(&c.name) {
                return Err(format!("scenario: cluster {} is declared twice", c.name));
            }
            if crate::state::mode_rank(&c.authentication_mode).is_none() {
                return Err(format!(
                    "scenario: cluster {}: authenticationMode must be CONFIG_MAP, API_AND_CONFIG_MAP or API",
                    c.name
                ));
            }
            if c.authentication_mode == "CONFIG_MAP"
                && !c.bootstrap_cluster_creator_admin_permissions
            {
                return Err(format!(
                    "scenario: cluster {}: EKS refuses CONFIG_MAP with bootstrapClusterCreatorAdminPermissions false (InvalidParameterException: bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP); use API_AND_CONFIG_MAP",
                    c.name
                ));
            }
            parse_time(&c.created_at, Utc::now())?;
        }
        let members: Vec<&str> = self
            .organization
            .iter()
            .flat_map(|o| o.accounts.iter().map(|a| a.name.as_str()))
            .collect();
        for c in &self.clusters {
            if let Some(a) = &c.account
                && *a != self.account
                && !members.contains(&a.as_str())
            {
                return Err(format!(
                    "scenario: cluster {}: account {a} is neither the scenario's account nor a member in organization.accounts",
                    c.name
                ));
            }
            if let Some(r) = &c.region
                && crate::token::region_partition(r) != crate::token::region_partition(&self.region)
            {
                return Err(format!(
                    "scenario: cluster {}: region {r} is not in the partition of {}",
                    c.name, self.region
                ));
            }
        }
        if let Some(op) = &self.operator
            && !self.iam.users.iter().any(|u| &u.name == op)
        {
            return Err(format!("scenario: operator {op} is not in iam.users"));
        }
        Ok(())
    }
}

/// `-30d`, `-12h`, `-90m`, `-200d`, `now`, or RFC 3339.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if t == "now" {
        return Ok(now);
    }
    if let Some(rel) = t.strip_prefix('-') {
        let (num, unit) = rel.split_at(rel.len().saturating_sub(1));
        let n: i64 = num
            .parse()
            .map_err(|_| format!("bad relative time {s:?} (use -30d, -12h, -5m, -10s)"))?;
        let d = match unit {
            "d" => TimeDelta::days(n),
            "h" => TimeDelta::hours(n),
            "m" => TimeDelta::minutes(n),
            "s" => TimeDelta::seconds(n),
            _ => return Err(format!("bad relative time unit in {s:?}")),
        };
        return Ok(now - d);
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("bad time {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_scenarios_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut n = 0;
        for e in std::fs::read_dir(dir).expect("scenarios dir") {
            let p = e.expect("entry").path();
            if p.extension().and_then(|x| x.to_str()) == Some("yaml") {
                let text = std::fs::read_to_string(&p).expect("read");
                Scenario::from_yaml(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                n += 1;
            }
        }
        assert!(n >= 4);
    }

    #[test]
    fn times() {
        let now = Utc::now();
        assert_eq!(
            parse_time("-2d", now).expect("rel"),
            now - TimeDelta::days(2)
        );
        assert!(parse_time("2024-01-02T03:04:05Z", now).is_ok());
        assert!(parse_time("-2y", now).is_err());
    }
}
