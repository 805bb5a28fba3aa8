//! The `kube-system/aws-auth` loader and matcher, with aws-iam-authenticator's semantics
//! (see shared/reference/aws-auth-semantics.md). Independent of the product's parser.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::identity::Identity;
use crate::yaml11::{yaml_string_list, yaml_to_json};

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SsoSpec {
    pub permission_set_name: String,
    #[serde(rename = "accountID")]
    pub account_id: String,
    pub partition: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleMapping {
    pub rolearn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoSpec>,
    pub username: String,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserMapping {
    pub userarn: String,
    pub username: String,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    pub index: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SectionStatus {
    /// `absent`, `loaded`, `error` (did not parse) or `not_a_list` (parsed, but not a list).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Entries that loaded (before duplicate removal).
    pub loaded: usize,
    pub dropped: Vec<Dropped>,
}

impl SectionStatus {
    fn absent() -> Self {
        SectionStatus {
            status: "absent".into(),
            error: None,
            loaded: 0,
            dropped: Vec::new(),
        }
    }
}

/// The mapping the authenticator holds after reading one version of the ConfigMap.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsAuth {
    /// Role mappings after "last duplicate wins" (compared case-insensitively).
    pub roles: Vec<RoleMapping>,
    pub users: Vec<UserMapping>,
    pub accounts: Vec<String>,
    pub sections: BTreeMap<String, SectionStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapOutcome {
    Mapped {
        username: String,
        groups: Vec<String>,
        via: String,
    },
    NotMapped,
    /// The login fails outright (e.g. `{{EC2PrivateDNSName}}` without an instance session).
    Failed(String),
}

fn is_absent(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t == "\"\"" || t == "''" || t == "``"
}

fn section_json(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("json: {e}"));
    }
    yaml_to_json(text)
}

/// Go `encoding/json` field-name matching: ASCII case-insensitive, plus the two non-ASCII
/// letters that fold onto ASCII ones (`ſ` U+017F is an `s`, the Kelvin sign U+212A a `k`).
fn go_name_eq(key: &str, name: &str) -> bool {
    let fold = |c: char| match c {
        '\u{017F}' => 'S',
        '\u{212A}' => 'K',
        c => c.to_ascii_uppercase(),
    };
    key.chars().map(fold).eq(name.chars().map(fold))
}

/// Go `encoding/json`-style lenient decoding of one object: the values of every key that
/// matches the field `name`, in the order Go's decoder assigns them.
///
/// sigs.k8s.io/yaml goes YAML -> Go map -> `json.Marshal`, which sorts object keys by bytes; Go's
/// decoder then assigns every key that matches the field, in that order, each by the rules of the
/// field's type (the `decode_*` functions below). So among keys that differ only in case
/// (`rolearn`, `RoleArn`), the greatest in byte order wins, unless its value is one that Go does
/// not assign (`null` or a wrong type into a string).
fn field_values<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Vec<&'a Value> {
    let mut hits: Vec<(&String, &Value)> =
        obj.iter().filter(|(k, _)| go_name_eq(k, name)).collect();
    hits.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    hits.into_iter().map(|(_, v)| v).collect()
}

/// Decoding one JSON value into a Go `string`: a string sets it; `null` is a no-op; any other
/// type is an `UnmarshalTypeError` that leaves it as it was.
fn decode_string(target: &mut String, v: &Value) {
    if let Value::String(s) = v {
        target.clone_from(s);
    }
}

fn string_field(obj: &serde_json::Map<String, Value>, name: &str) -> String {
    let mut out = String::new();
    for v in field_values(obj, name) {
        decode_string(&mut out, v);
    }
    out
}

/// Decoding into a Go `[]string`: `null` makes it nil; an array sets its length and decodes each
/// item into the element already there (`""` for a new one), so a wrong-typed item leaves that
/// element as it was; any other type leaves the slice as it was.
fn groups_field(obj: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for v in field_values(obj, "groups") {
        match v {
            Value::Null => groups.clear(),
            Value::Array(items) => {
                groups.resize(items.len(), String::new());
                for (g, item) in groups.iter_mut().zip(items) {
                    decode_string(g, item);
                }
            }
            _ => {}
        }
    }
    groups
}

/// Decoding into Go's `SSO *SSOARNMatcher`: `null` makes the pointer nil. Any other value first
/// allocates it: encoding/json's `indirect` allocates a nil pointer before it looks at the
/// value's type. An object then fills the matcher's fields (by the same rules as the entry's);
/// a string, number, bool or array is an `UnmarshalTypeError` that leaves the allocated matcher
/// as it is (zero, or what an earlier key filled in). So `sso: ""` still counts as "sso set".
fn sso_field(obj: &serde_json::Map<String, Value>) -> Option<SsoSpec> {
    let mut sso: Option<SsoSpec> = None;
    for v in field_values(obj, "sso") {
        if v.is_null() {
            sso = None;
            continue;
        }
        let s = sso.get_or_insert_with(SsoSpec::default);
        if let Value::Object(m) = v {
            for v in field_values(m, "permissionSetName") {
                decode_string(&mut s.permission_set_name, v);
            }
            for v in field_values(m, "accountID") {
                decode_string(&mut s.account_id, v);
            }
            for v in field_values(m, "partition") {
                decode_string(&mut s.partition, v);
            }
        }
    }
    sso
}

/// `^[\w+=,.@-]{1,32}$` (Go's `\w` is ASCII only).
fn valid_permission_set(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_+=,.@-".contains(&c))
}

const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

fn load_list(data: &BTreeMap<String, String>, key: &str) -> (Option<Vec<Value>>, SectionStatus) {
    let Some(text) = data.get(key) else {
        return (None, SectionStatus::absent());
    };
    if is_absent(text) {
        return (None, SectionStatus::absent());
    }
    match section_json(text) {
        Err(e) => (
            None,
            SectionStatus {
                status: "error".into(),
                error: Some(e),
                loaded: 0,
                dropped: Vec::new(),
            },
        ),
        Ok(Value::Array(items)) => (
            Some(items),
            SectionStatus {
                status: "loaded".into(),
                error: None,
                loaded: 0,
                dropped: Vec::new(),
            },
        ),
        Ok(Value::Null) => (
            Some(Vec::new()),
            SectionStatus {
                status: "loaded".into(),
                error: None,
                loaded: 0,
                dropped: Vec::new(),
            },
        ),
        Ok(_) => (
            None,
            SectionStatus {
                status: "not_a_list".into(),
                error: Some("json: cannot unmarshal object into a list".into()),
                loaded: 0,
                dropped: Vec::new(),
            },
        ),
    }
}

impl AwsAuth {
    pub fn empty() -> Self {
        let mut sections = BTreeMap::new();
        for k in ["mapRoles", "mapUsers", "mapAccounts"] {
            sections.insert(k.to_string(), SectionStatus::absent());
        }
        AwsAuth {
            roles: Vec::new(),
            users: Vec::new(),
            accounts: Vec::new(),
            sections,
        }
    }

    /// Builds the mapping from a ConfigMap's `data` (None = no ConfigMap).
    pub fn load(data: &BTreeMap<String, String>) -> Self {
        let mut out = AwsAuth::empty();

        let (items, mut status) = load_list(data, "mapRoles");
        for (index, item) in items.unwrap_or_default().into_iter().enumerate() {
            let Value::Object(obj) = item else {
                status.dropped.push(Dropped {
                    index,
                    reason: "entry is not a mapping".into(),
                });
                continue;
            };
            let rolearn = string_field(&obj, "rolearn");
            let sso = sso_field(&obj);
            // RoleMapping.Validate()
            let reason = match (&sso, rolearn.is_empty()) {
                (None, true) => Some("one of rolearn or SSO must be supplied".to_string()),
                (Some(_), false) => Some("only one of rolearn or SSO can be supplied".to_string()),
                (Some(s), true) => {
                    if !(s.account_id.len() == 12
                        && s.account_id.chars().all(|c| c.is_ascii_digit()))
                    {
                        Some(format!(
                            "AccountID '{}' is not a valid AWS Account ID",
                            s.account_id
                        ))
                    } else if !valid_permission_set(&s.permission_set_name) {
                        Some(format!(
                            "PermissionSetName '{}' is not a valid AWS SSO PermissionSet Name",
                            s.permission_set_name
                        ))
                    } else if !s.partition.is_empty() && !PARTITIONS.contains(&s.partition.as_str())
                    {
                        // The partition is optional (the matcher then means "aws").
                        Some(format!(
                            "partition '{}' is not a valid AWS partition",
                            s.partition
                        ))
                    } else {
                        None
                    }
                }
                (None, false) => None,
            };
            if let Some(reason) = reason {
                status.dropped.push(Dropped { index, reason });
                continue;
            }
            status.loaded += 1;
            let m = RoleMapping {
                rolearn,
                sso,
                username: string_field(&obj, "username"),
                groups: groups_field(&obj),
            };
            let key = role_key(&m);
            out.roles.retain(|r| role_key(r) != key);
            out.roles.push(m);
        }
        out.sections.insert("mapRoles".into(), status);

        let (items, mut status) = load_list(data, "mapUsers");
        for (index, item) in items.unwrap_or_default().into_iter().enumerate() {
            let Value::Object(obj) = item else {
                status.dropped.push(Dropped {
                    index,
                    reason: "entry is not a mapping".into(),
                });
                continue;
            };
            let userarn = string_field(&obj, "userarn");
            if userarn.is_empty() {
                status.dropped.push(Dropped {
                    index,
                    reason: "value for userarn must be supplied".into(),
                });
                continue;
            }
            status.loaded += 1;
            // saveMap keys users by the ARN as written: an exact duplicate replaces the earlier
            // one (case variants stay side by side).
            out.users.retain(|u| u.userarn != userarn);
            out.users.push(UserMapping {
                userarn,
                username: string_field(&obj, "username"),
                groups: groups_field(&obj),
            });
        }
        out.sections.insert("mapUsers".into(), status);

        // mapAccounts is read by go-yaml straight into []string (not through JSON).
        let mut status = SectionStatus::absent();
        if let Some(text) = data.get("mapAccounts").filter(|t| !is_absent(t)) {
            match yaml_string_list(text) {
                Ok(items) => {
                    status.status = "loaded".into();
                    for (index, item) in items.into_iter().enumerate() {
                        match item {
                            Some(s) => {
                                status.loaded += 1;
                                out.accounts.push(s);
                            }
                            None => status.dropped.push(Dropped {
                                index,
                                reason: "account is a sequence or mapping, not a string".into(),
                            }),
                        }
                    }
                }
                Err(e) => {
                    let parsed = e.message == crate::yaml11::NOT_A_LIST_STR
                        || e.message == crate::yaml11::NOT_A_LIST_MAP;
                    status.status = if parsed { "not_a_list" } else { "error" }.into();
                    status.error = Some(e.message);
                    // ParseMap reports the error and still uses what go-yaml left in the
                    // slice: the accounts decoded before the bad item, then empty strings.
                    out.accounts.extend(e.kept);
                }
            }
        }
        out.sections.insert("mapAccounts".into(), status);
        out
    }

    /// Maps an identity: roles, then users, then accounts (case-insensitive ARN comparison).
    pub fn map(&self, id: &Identity, region: &str) -> MapOutcome {
        let canonical = id.canonical_arn.to_lowercase();
        if let Some(r) = self
            .roles
            .iter()
            .rev()
            .find(|r| r.sso.is_none() && r.rolearn.to_lowercase() == canonical)
        {
            return render(
                &r.username,
                &r.groups,
                id,
                region,
                format!("mapRoles {}", r.rolearn),
            );
        }
        if let Some(u) = self
            .users
            .iter()
            .rev()
            .find(|u| u.userarn.to_lowercase() == canonical)
        {
            return render(
                &u.username,
                &u.groups,
                id,
                region,
                format!("mapUsers {}", u.userarn),
            );
        }
        if self.accounts.iter().any(|a| a == &id.account) {
            return MapOutcome::Mapped {
                username: id.canonical_arn.clone(),
                groups: Vec::new(),
                via: format!("mapAccounts {}", id.account),
            };
        }
        MapOutcome::NotMapped
    }
}

/// `RoleMapping.Key()`, the key of the authenticator's role map (a later entry with the same key
/// replaces an earlier one): the lower-cased rolearn, or for an SSO matcher its
/// `SSOArnLike()` pattern. That pattern carries a quirk of the authenticator: the partition is
/// `aws` when none is given and empty when one is (`arn::iam::…`). An SSO entry and a rolearn
/// entry written as the same pattern share a key.
fn role_key(r: &RoleMapping) -> String {
    match &r.sso {
        Some(s) => {
            let partition = if s.partition.is_empty() { "aws" } else { "" };
            format!(
                "arn:{partition}:iam::{}:role/AWSReservedSSO_{}_*",
                s.account_id, s.permission_set_name
            )
            .to_lowercase()
        }
        None => r.rolearn.to_lowercase(),
    }
}

/// `i-` + 8 or 17 word characters.
fn is_instance_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("i-") else {
        return false;
    };
    (rest.len() == 8 || rest.len() == 17)
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The private DNS name the sim's "EC2" gives an instance id: deterministic, derived from the id.
pub fn ec2_private_dns_name(instance_id: &str, region: &str) -> String {
    let mut h: u32 = 2166136261;
    for b in instance_id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16777619);
    }
    let (a, b) = ((h >> 8) & 0xff, h & 0xff);
    if region == "us-east-1" {
        format!("ip-10-0-{a}-{b}.ec2.internal")
    } else {
        format!("ip-10-0-{a}-{b}.{region}.compute.internal")
    }
}

/// Renders the authenticator's templates; `{{EC2PrivateDNSName}}` needs an instance session.
pub fn render_template(t: &str, id: &Identity, region: &str) -> Result<String, String> {
    let mut out = t
        .replace("{{AccountID}}", &id.account)
        .replace("{{SessionName}}", &id.session_name.replace('@', "-"))
        .replace("{{SessionNameRaw}}", &id.session_name)
        .replace("{{AccessKeyID}}", &id.access_key_id);
    if out.contains("{{EC2PrivateDNSName}}") {
        if !is_instance_id(&id.session_name) {
            return Err(format!(
                "failed to render {{{{EC2PrivateDNSName}}}}: session name {:?} is not an EC2 instance id",
                id.session_name
            ));
        }
        out = out.replace(
            "{{EC2PrivateDNSName}}",
            &ec2_private_dns_name(&id.session_name, region),
        );
    }
    Ok(out)
}

fn render(
    username: &str,
    groups: &[String],
    id: &Identity,
    region: &str,
    via: String,
) -> MapOutcome {
    let username = match render_template(username, id, region) {
        Ok(u) => u,
        Err(e) => return MapOutcome::Failed(e),
    };
    let mut out_groups = Vec::new();
    for g in groups {
        match render_template(g, id, region) {
            Ok(g) => out_groups.push(g),
            Err(e) => return MapOutcome::Failed(e),
        }
    }
    MapOutcome::Mapped {
        username,
        groups: out_groups,
        via,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::PrincipalKind;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn role_session(role: &str, session: &str) -> Identity {
        Identity {
            kind: PrincipalKind::AssumedRole,
            arn: format!("arn:aws:sts::123456789012:assumed-role/{role}/{session}"),
            canonical_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            principal_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            principal_id: "AROAEXAMPLE".into(),
            user_id: format!("AROAEXAMPLE:{session}"),
            account: "123456789012".into(),
            partition: "aws".into(),
            session_name: session.into(),
            access_key_id: "ASIAEXAMPLE".into(),
        }
    }

    fn user(path_name: &str) -> Identity {
        Identity {
            kind: PrincipalKind::IamUser,
            arn: format!("arn:aws:iam::123456789012:user/{path_name}"),
            canonical_arn: format!("arn:aws:iam::123456789012:user/{path_name}"),
            principal_arn: format!("arn:aws:iam::123456789012:user/{path_name}"),
            principal_id: "abcdef".into(),
            user_id: "abcdef".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            session_name: String::new(),
            access_key_id: "AKIAEXAMPLE".into(),
        }
    }

    const NODE: &str = "- rolearn: arn:aws:iam::123456789012:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n";

    #[test]
    fn only_exact_keys_are_read() {
        let m = AwsAuth::load(&data(&[("maproles", NODE), ("MapRoles", NODE)]));
        assert!(m.roles.is_empty());
        let m = AwsAuth::load(&data(&[("mapRoles", NODE)]));
        assert_eq!(m.roles.len(), 1);
    }

    #[test]
    fn empty_markers_are_absent() {
        for v in ["", "  \n", "\"\"", "''", "``"] {
            let m = AwsAuth::load(&data(&[("mapUsers", v)]));
            assert_eq!(m.sections["mapUsers"].status, "absent", "{v:?}");
        }
    }

    #[test]
    fn broken_section_loses_everything_others_survive() {
        let broken =
            "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n   groups:\n  - x\n";
        let m = AwsAuth::load(&data(&[("mapRoles", NODE), ("mapUsers", broken)]));
        assert_eq!(m.sections["mapUsers"].status, "error");
        assert!(m.users.is_empty());
        assert_eq!(m.roles.len(), 1);
    }

    #[test]
    fn unquoted_session_name_template_kills_section() {
        let text = "- rolearn: arn:aws:iam::123456789012:role/dev\n  username: {{SessionName}}\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.sections["mapRoles"].status, "error");
    }

    #[test]
    fn lenient_keys_and_wrong_types() {
        let text = "- RoleArn: arn:aws:iam::123456789012:role/a\n  username: yes\n  groups: system:masters\n- roleARN: arn:aws:iam::123456789012:role/b\n  UserName: b\n  role_arn: ignored\n  groups: [g1, 5]\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 2);
        assert_eq!(m.roles[0].username, "");
        assert!(m.roles[0].groups.is_empty());
        assert_eq!(m.roles[1].username, "b");
        assert_eq!(m.roles[1].groups, vec!["g1".to_string(), String::new()]);
    }

    #[test]
    fn case_variant_keys_resolve_in_sorted_key_order() {
        // JSON keys are sorted ("RoleArn" < "rolearn"), the later assignment wins.
        let text = "- rolearn: arn:aws:iam::123456789012:role/a\n  RoleArn: arn:aws:iam::123456789012:role/b\n";
        assert_eq!(
            AwsAuth::load(&data(&[("mapRoles", text)])).roles[0].rolearn,
            "arn:aws:iam::123456789012:role/a"
        );
        let text = "- RoleArn: arn:aws:iam::123456789012:role/b\n  rolearn: arn:aws:iam::123456789012:role/a\n";
        assert_eq!(
            AwsAuth::load(&data(&[("mapRoles", text)])).roles[0].rolearn,
            "arn:aws:iam::123456789012:role/a"
        );
    }

    #[test]
    fn validation_drops_entries() {
        let roles = "- username: nobody\n- rolearn: arn:aws:iam::123456789012:role/x\n  sso:\n    permissionSetName: Admin\n    accountID: '123456789012'\n    partition: aws\n- sso:\n    permissionSetName: Admin\n    accountID: 123456789012\n    partition: aws\n- sso:\n    permissionSetName: Admin\n    accountID: '123456789012'\n    partition: aws\n";
        let users = "- username: x\n- userarn: ''\n- userarn: arn:aws:iam::123456789012:user/ok\n";
        let m = AwsAuth::load(&data(&[("mapRoles", roles), ("mapUsers", users)]));
        assert_eq!(m.sections["mapRoles"].dropped.len(), 3);
        assert_eq!(m.roles.len(), 1);
        assert!(m.roles[0].sso.is_some());
        assert_eq!(m.users.len(), 1);
        assert_eq!(m.sections["mapUsers"].dropped.len(), 2);
    }

    #[test]
    fn role_with_path_never_matches_and_case_insensitive() {
        let text = "- rolearn: arn:aws:iam::123456789012:role/team/dev\n  username: dev\n- rolearn: ARN:AWS:IAM::123456789012:ROLE/OPS\n  username: ops\n  groups: [ops]\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(
            m.map(&role_session("dev", "s"), "us-east-1"),
            MapOutcome::NotMapped
        );
        assert!(
            matches!(m.map(&role_session("ops", "s"), "us-east-1"), MapOutcome::Mapped { ref username, .. } if username == "ops")
        );
    }

    #[test]
    fn last_duplicate_role_wins() {
        let text = "- rolearn: arn:aws:iam::123456789012:role/a\n  username: first\n- rolearn: arn:aws:iam::123456789012:role/A\n  username: second\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 1);
        assert!(
            matches!(m.map(&role_session("a", "s"), "us-east-1"), MapOutcome::Mapped { ref username, .. } if username == "second")
        );
    }

    #[test]
    fn roles_then_users_then_accounts() {
        let users = "- userarn: arn:aws:iam::123456789012:user/team/bob\n  username: bob\n  groups: [devs]\n";
        let accounts = "- \"123456789012\"\n- 210987654321\n";
        let m = AwsAuth::load(&data(&[("mapUsers", users), ("mapAccounts", accounts)]));
        // go-yaml into []string keeps an unquoted number's text.
        assert_eq!(
            m.accounts,
            vec!["123456789012".to_string(), "210987654321".to_string()]
        );
        assert_eq!(
            m.map(&user("team/bob"), "us-east-1"),
            MapOutcome::Mapped {
                username: "bob".into(),
                groups: vec!["devs".into()],
                via: "mapUsers arn:aws:iam::123456789012:user/team/bob".into()
            }
        );
        assert!(
            matches!(m.map(&user("carol"), "us-east-1"), MapOutcome::Mapped { ref username, ref groups, .. } if username == "arn:aws:iam::123456789012:user/carol" && groups.is_empty())
        );
    }

    fn role(m: &AwsAuth, arn: &str) -> RoleMapping {
        m.roles
            .iter()
            .find(|r| r.rolearn == arn)
            .unwrap_or_else(|| panic!("{arn} not loaded: {:?}", m.roles))
            .clone()
    }

    #[test]
    fn merge_keys_are_applied() {
        // tests/fixtures/aws-auth/anchors-merge.yaml
        let text = "- &admin\n  rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: &admingroups\n    - system:masters\n- <<: *admin\n  rolearn: arn:aws:iam::111122223333:role/Admin2\n- rolearn: arn:aws:iam::111122223333:role/Viewer\n  username: viewer\n  groups: *admingroups\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 3, "{:?}", m.roles);
        let admin2 = role(&m, "arn:aws:iam::111122223333:role/Admin2");
        assert_eq!(admin2.username, "admin");
        assert_eq!(admin2.groups, vec!["system:masters".to_string()]);
        assert_eq!(
            role(&m, "arn:aws:iam::111122223333:role/Admin").username,
            "admin"
        );
        assert_eq!(
            role(&m, "arn:aws:iam::111122223333:role/Viewer").groups,
            vec!["system:masters".to_string()]
        );
        let mut id = role_session("Admin2", "s");
        id.canonical_arn = "arn:aws:iam::111122223333:role/Admin2".into();
        assert!(matches!(m.map(&id, "us-east-1"),
            MapOutcome::Mapped { ref username, ref groups, .. } if username == "admin" && groups == &["system:masters".to_string()]));

        // A sequence of merges: earlier mappings win; explicit keys after the merge win.
        let text = "- &a {username: from-a, groups: [ga]}\n- &b {username: from-b, groups: [gb], userarn: x}\n- <<: [*a, *b]\n  rolearn: arn:aws:iam::111122223333:role/m\n- <<: [*a, *b]\n  rolearn: arn:aws:iam::111122223333:role/n\n  username: own\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        let r = role(&m, "arn:aws:iam::111122223333:role/m");
        assert_eq!(
            (r.username.as_str(), r.groups.clone()),
            ("from-a", vec!["ga".to_string()])
        );
        assert_eq!(role(&m, "arn:aws:iam::111122223333:role/n").username, "own");
    }

    #[test]
    fn mapaccounts_fails_where_go_yaml_resolve_fails() {
        // go-yaml's resolve fails before it looks at the []string target (oracle:
        // "cannot decode !!str `x` as a !!null", "!!binary value contains invalid base64 data").
        for text in [
            "- 111122223333\n- !!binary x\n",
            "- 111122223333\n- !!null x\n",
            "- !!timestamp 111122223333\n",
        ] {
            let m = AwsAuth::load(&data(&[("mapAccounts", text)]));
            assert_eq!(m.sections["mapAccounts"].status, "error", "{text}");
        }
        let m = AwsAuth::load(&data(&[("mapAccounts", "- .inf\n- !!binary MTIz\n")]));
        assert_eq!(m.accounts, vec![".inf".to_string(), "123".to_string()]);
    }

    #[test]
    fn mapaccounts_null_item_is_empty_string_and_nested_list_is_skipped() {
        // tests/fixtures/aws-auth/mapaccounts-bad.yaml
        let text = "- \"1234\"\n- [111122223333]\n- ~\n- \"111122223333\"\n";
        let m = AwsAuth::load(&data(&[("mapAccounts", text)]));
        assert_eq!(
            m.accounts,
            vec![
                "1234".to_string(),
                String::new(),
                "111122223333".to_string()
            ]
        );
        let s = &m.sections["mapAccounts"];
        assert_eq!(s.status, "loaded");
        assert_eq!(s.loaded, 3);
        assert_eq!(
            s.dropped.iter().map(|d| d.index).collect::<Vec<_>>(),
            vec![1]
        );
        // Items go-yaml never decodes cannot fail the list.
        let text = "- {<<: 1}\n- {[a]: b}\n- \"111122223333\"\n- null\n-\n";
        let m = AwsAuth::load(&data(&[("mapAccounts", text)]));
        assert_eq!(m.sections["mapAccounts"].status, "loaded");
        assert_eq!(
            m.accounts,
            vec!["111122223333".to_string(), String::new(), String::new()]
        );
    }

    #[test]
    fn valid_sso_matcher_is_loaded_without_partition() {
        // tests/fixtures/aws-auth/sso-matcher.yaml
        let text = "- sso:\n    permissionSetName: AdministratorAccess\n    accountID: \"111122223333\"\n  username: sso-admin\n  groups:\n    - system:masters\n- sso:\n    permissionSetName: ReadOnly\n    accountID: 111122223333\n  username: sso-ro\n- rolearn: arn:aws:iam::111122223333:role/Admin\n  sso:\n    permissionSetName: Admin\n    accountID: \"111122223333\"\n  username: both\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 1, "{:?}", m.roles);
        let r = &m.roles[0];
        assert_eq!(r.rolearn, "");
        assert_eq!(r.username, "sso-admin");
        assert_eq!(r.groups, vec!["system:masters".to_string()]);
        assert_eq!(
            r.sso,
            Some(SsoSpec {
                permission_set_name: "AdministratorAccess".into(),
                account_id: "111122223333".into(),
                partition: String::new(),
            })
        );
        let dropped = &m.sections["mapRoles"].dropped;
        assert_eq!(dropped.iter().map(|d| d.index).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            dropped[0].reason,
            "AccountID '' is not a valid AWS Account ID"
        );
        assert_eq!(
            dropped[1].reason,
            "only one of rolearn or SSO can be supplied"
        );
        // The effective mapping lists it with its matcher; the feature gate only affects matching.
        let json = serde_json::to_value(&m).expect("serializes");
        assert_eq!(json["roles"][0]["sso"]["accountID"], "111122223333");
        assert_eq!(json["roles"][0]["rolearn"], "");
        // A partition, when given, must be a known one; permission set names are ASCII `\w`.
        let text = "- sso: {permissionSetName: A, accountID: '111122223333', partition: aws-cn}\n- sso: {permissionSetName: B, accountID: '111122223333', partition: mars}\n- sso: {permissionSetName: \"Админ\", accountID: '111122223333'}\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 1);
        assert_eq!(
            m.roles[0].sso.as_ref().map(|s| s.partition.as_str()),
            Some("aws-cn")
        );
    }

    #[test]
    fn sso_keys_follow_sso_arn_like() {
        // Last one wins per SSOArnLike() key; a set partition is dropped from the key, an empty
        // one becomes "aws", and a rolearn spelled as the same pattern shares the key.
        let text = "- sso: {permissionSetName: Admin, accountID: '111122223333'}\n  username: first\n- sso: {permissionSetName: ADMIN, accountID: '111122223333'}\n  username: second\n- sso: {permissionSetName: Admin, accountID: '111122223333', partition: aws}\n  username: explicit-aws\n- rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_*\n  username: pattern\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        let mut names: Vec<&str> = m.roles.iter().map(|r| r.username.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["explicit-aws", "pattern"]);
    }

    #[test]
    fn non_null_sso_of_wrong_type_allocates_the_matcher() {
        // tests/fixtures/aws-auth/sso-scalar-with-rolearn.yaml: Go allocates the *SSOARNMatcher
        // before noticing the string is not an object, so rolearn and sso are both set.
        let base = "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  sso: ";
        for v in ["\"\"", "x", "0", "true", "[]", "[a]", "{}"] {
            let m = AwsAuth::load(&data(&[("mapRoles", &format!("{base}{v}\n"))]));
            assert!(m.roles.is_empty(), "sso: {v} -> {:?}", m.roles);
            assert_eq!(
                m.sections["mapRoles"].dropped[0].reason,
                "only one of rolearn or SSO can be supplied",
                "sso: {v}"
            );
        }
        // null (however written) leaves the pointer nil: the entry loads.
        for v in ["~", "null", ""] {
            let m = AwsAuth::load(&data(&[("mapRoles", &format!("{base}{v}\n"))]));
            assert_eq!(m.roles.len(), 1, "sso: {v:?}");
            assert!(m.roles[0].sso.is_none());
        }
        // Without rolearn, a wrong-typed sso is a zero matcher, which fails the account check.
        let m = AwsAuth::load(&data(&[("mapRoles", "- sso: \"\"\n  username: x\n")]));
        assert_eq!(
            m.sections["mapRoles"].dropped[0].reason,
            "AccountID '' is not a valid AWS Account ID"
        );
        // Case variants are decoded in byte order into the same pointer: "SSO" < "sso".
        let text = "- SSO: {permissionSetName: Admin}\n  sso: {accountID: '111122223333'}\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 1);
        assert_eq!(
            m.roles[0]
                .sso
                .as_ref()
                .map(|s| s.permission_set_name.as_str()),
            Some("Admin")
        );
        let text = "- SSO: {permissionSetName: Admin, accountID: '111122223333'}\n  sso: null\n  rolearn: arn:aws:iam::111122223333:role/r\n";
        assert_eq!(AwsAuth::load(&data(&[("mapRoles", text)])).roles.len(), 1);
    }

    #[test]
    fn case_variant_keys_skip_values_go_does_not_assign() {
        // "RoleArn" < "rolearn": a null or wrong-typed later value leaves the earlier one.
        let text = "- RoleArn: arn:aws:iam::123456789012:role/a\n  rolearn: null\n  UserName: u\n  username: 5\n  Groups: [g1, g2]\n  groups: [7]\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert_eq!(m.roles.len(), 1);
        assert_eq!(m.roles[0].rolearn, "arn:aws:iam::123456789012:role/a");
        assert_eq!(m.roles[0].username, "u");
        assert_eq!(m.roles[0].groups, vec!["g1".to_string()]);
        // Go folds U+017F (long s) onto `s` and the Kelvin sign onto `k`.
        let text = "- rolearn: arn:aws:iam::123456789012:role/a\n  u\u{17f}ername: long-s\n";
        assert_eq!(
            AwsAuth::load(&data(&[("mapRoles", text)])).roles[0].username,
            "long-s"
        );
    }

    #[test]
    fn templates() {
        let text = "- rolearn: arn:aws:iam::123456789012:role/dev\n  username: \"{{SessionName}}/{{SessionNameRaw}}/{{AccountID}}/{{AccessKeyID}}/{{Unknown}}\"\n";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert!(matches!(m.map(&role_session("dev", "a@b"), "us-east-1"),
            MapOutcome::Mapped { ref username, .. } if username == "a-b/a@b/123456789012/ASIAEXAMPLE/{{Unknown}}"));
        let m = AwsAuth::load(&data(&[("mapRoles", NODE)]));
        assert!(
            matches!(m.map(&role_session("node", "i-0123456789abcdef0"), "us-east-1"),
            MapOutcome::Mapped { ref username, .. } if username.starts_with("system:node:ip-10-0-") && username.ends_with(".ec2.internal"))
        );
        assert!(matches!(
            m.map(&role_session("node", "not-an-instance"), "us-east-1"),
            MapOutcome::Failed(_)
        ));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let m = AwsAuth::load(&data(&[(
            "mapRoles",
            "\u{feff}- rolearn: arn:aws:iam::123456789012:role/a\n",
        )]));
        assert_eq!(m.roles.len(), 1);
    }

    #[test]
    fn json_section_is_accepted() {
        let text = "{\"not\": \"a list\"}";
        let m = AwsAuth::load(&data(&[("mapRoles", text)]));
        assert!(m.roles.is_empty());
        let text = "  [{\"rolearn\": \"arn:aws:iam::123456789012:role/j\"}]";
        assert_eq!(AwsAuth::load(&data(&[("mapRoles", text)])).roles.len(), 1);
    }
}
