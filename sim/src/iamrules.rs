//! IAM and STS rules moto does not enforce, checked by the sim in front of moto.
//!
//! moto (5.2.5) answers every AssumeRole whatever the role's trust policy says, honours any
//! DurationSeconds, accepts inactive access keys and expired sessions, and makes every change
//! visible at once. AWS does none of that, and a tool that passes only because of it would fail
//! at 3 a.m. So the sim's IAM/STS endpoint (the product's `AWS_ENDPOINT_URL_IAM`/`_STS`) checks,
//! before passing a request on to moto:
//!
//! * the caller's key: unknown, deleted or inactive → `InvalidClientTokenId`; a session past
//!   its expiration → `ExpiredToken`; a key younger than the access-key propagation delay →
//!   `InvalidClientTokenId` (IAM is eventually consistent: a new key works after a few seconds);
//! * AssumeRole: the role's trust policy (Allow/Deny, principals, account root, unique ids,
//!   `*`, conditions on MFA, external id, session name, principal ARN/account/type/user id),
//!   evaluated against the policy in force before a change younger than the trust-policy delay;
//!   a role younger than the principal delay cannot be assumed; `DurationSeconds` against the
//!   role's MaxSessionDuration and the one-hour cap of role chaining.
//!
//! The evaluation here is written apart from the product's (`src/recovery/trust.rs`) so that
//! each checks the other. What it does not see: the caller's own IAM policies (a trust naming
//! the account root is honoured as if the caller's policy allowed sts:AssumeRole), SCPs,
//! permission boundaries, session policies, tags. Sources: IAM User Guide "Policy evaluation
//! logic", "IAM JSON policy elements: Condition operators", "Role chaining"; STS API reference
//! AssumeRole (DurationSeconds); error texts as seen in public reports (aws/eks-anywhere#9485,
//! 99designs/aws-vault#263).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::identity::{Identity, PrincipalKind};
use crate::state::lock;

/// How long IAM changes take to be seen (scenario `propagation`, `PUT /_sim/propagation`,
/// `--propagation-seconds`). Realistic defaults for drills; tests shorten them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Propagation {
    /// A new access key is refused (InvalidClientTokenId) for this long.
    #[serde(default = "default_delay")]
    pub access_key_seconds: f64,
    /// AssumeRole sees the previous trust policy for this long after UpdateAssumeRolePolicy.
    #[serde(default = "default_delay")]
    pub trust_policy_seconds: f64,
    /// A new role cannot be assumed, and a new user's keys are refused, for this long.
    #[serde(default = "default_delay")]
    pub principal_seconds: f64,
    /// A new access entry (and an associated policy) takes effect after this long.
    #[serde(default = "default_delay")]
    pub access_entry_seconds: f64,
}

/// Several seconds, as AWS documents ("changes … can take time to become visible") and as a
/// drill should feel; `scripts/drill.sh` keeps these defaults.
fn default_delay() -> f64 {
    5.0
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation {
            access_key_seconds: default_delay(),
            trust_policy_seconds: default_delay(),
            principal_seconds: default_delay(),
            access_entry_seconds: default_delay(),
        }
    }
}

impl Propagation {
    pub fn uniform(seconds: f64) -> Self {
        let s = seconds.max(0.0);
        Propagation {
            access_key_seconds: s,
            trust_policy_seconds: s,
            principal_seconds: s,
            access_entry_seconds: s,
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Seconds (as in `Propagation`) to a duration.
pub fn secs_pub(s: f64) -> Duration {
    secs(s)
}

/// What changed recently, to delay its effect.
#[derive(Default)]
pub struct Changes {
    /// Access key id → when it was created (through the sim).
    keys: HashMap<String, Instant>,
    /// Lower-cased user or role name → when it was created (through the sim).
    principals: HashMap<String, Instant>,
    /// Lower-cased role name → (the trust policy before the last change, when it changed).
    trust: HashMap<String, (String, Instant)>,
}

pub struct IamRules {
    pub propagation: Mutex<Propagation>,
    changes: Mutex<Changes>,
    /// Lower-cased role name → (lower-cased user/role ARN named in its trust policy → that
    /// principal's unique id when the policy was written). IAM stores a trust principal as its
    /// unique id: "if you delete and recreate a user or role referenced in a trust policy's
    /// Principal element, you must edit the role to replace the ARN" (IAM User Guide, role
    /// trust policy examples); a recreated principal with the same ARN is not let in.
    bindings: Mutex<HashMap<String, HashMap<String, String>>>,
    /// Every wait the world imposed: (what, start, length). `GET /_sim/imposed-waits` adds
    /// them up (overlaps counted once) so drills can print the tool's own time beside them.
    imposed: Mutex<Vec<(String, Instant, Duration)>>,
}

/// A wait the world imposed, as `GET /_sim/imposed-waits` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImposedWait {
    pub what: String,
    pub seconds_ago: f64,
    pub seconds: f64,
}

/// A refusal in AWS's words: (HTTP status, code, message).
pub type Refusal = (u16, &'static str, String);

impl IamRules {
    pub fn new(p: Propagation) -> Self {
        IamRules {
            propagation: Mutex::new(p),
            changes: Mutex::new(Changes::default()),
            imposed: Mutex::new(Vec::new()),
            bindings: Mutex::new(HashMap::new()),
        }
    }

    /// Records the unique ids a trust policy's principals had when it was written (merged:
    /// a trust still propagating keeps its own).
    pub fn bind_trust(&self, role: &str, ids: HashMap<String, String>) {
        lock(&self.bindings)
            .entry(role.to_ascii_lowercase())
            .or_default()
            .extend(ids);
    }

    /// The ids bound for `role`'s trust principals.
    pub fn trust_bindings(&self, role: &str) -> HashMap<String, String> {
        lock(&self.bindings)
            .get(&role.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// Records a wait the world imposes from now on (a propagation, an EKS update).
    pub fn impose(&self, what: &str, length: Duration) {
        if !length.is_zero() {
            lock(&self.imposed).push((what.to_string(), Instant::now(), length));
        }
    }

    /// The imposed waits, and the time during which at least one was running (overlapping
    /// waits count once: that is the least time any client must have waited).
    pub fn imposed_waits(&self) -> (Vec<ImposedWait>, f64) {
        let v = lock(&self.imposed).clone();
        let now = Instant::now();
        let mut spans: Vec<(Duration, Duration)> = v
            .iter()
            .map(|(_, at, len)| {
                let ago = now.duration_since(*at);
                // (start, end) measured backwards from now; clipped at now.
                (ago, ago.saturating_sub(*len))
            })
            .collect();
        // Sort by start (oldest first = largest "ago").
        spans.sort_by_key(|b| std::cmp::Reverse(b.0));
        let mut total = Duration::ZERO;
        let mut cur: Option<(Duration, Duration)> = None;
        for (s, e) in spans {
            match cur {
                Some((cs, ce)) if s >= ce => cur = Some((cs, ce.min(e))),
                Some((cs, ce)) => {
                    total += cs - ce;
                    cur = Some((s, e));
                }
                None => cur = Some((s, e)),
            }
        }
        if let Some((cs, ce)) = cur {
            total += cs - ce;
        }
        let list = v
            .into_iter()
            .map(|(what, at, len)| ImposedWait {
                what,
                seconds_ago: now.duration_since(at).as_secs_f64(),
                seconds: len.as_secs_f64(),
            })
            .collect();
        (list, total.as_secs_f64())
    }

    /// Forgets the imposed waits (before a measured run).
    pub fn clear_imposed(&self) {
        lock(&self.imposed).clear();
    }

    pub fn propagation(&self) -> Propagation {
        *lock(&self.propagation)
    }

    pub fn key_created(&self, akid: &str) {
        lock(&self.changes)
            .keys
            .insert(akid.to_string(), Instant::now());
        self.impose(
            "new access key (IAM propagation)",
            secs(self.propagation().access_key_seconds),
        );
    }

    pub fn principal_created(&self, name: &str) {
        lock(&self.changes)
            .principals
            .insert(name.to_ascii_lowercase(), Instant::now());
        self.impose(
            "new IAM principal (IAM propagation)",
            secs(self.propagation().principal_seconds),
        );
    }

    /// Records the trust policy in force before an UpdateAssumeRolePolicy (kept while the
    /// change propagates; a second change keeps the oldest policy still in force).
    pub fn trust_changed(&self, role: &str, previous: String) {
        let p = self.propagation();
        let mut c = lock(&self.changes);
        let key = role.to_ascii_lowercase();
        let keep_old = c
            .trust
            .get(&key)
            .is_some_and(|(_, at)| at.elapsed() < secs(p.trust_policy_seconds));
        if keep_old {
            if let Some(e) = c.trust.get_mut(&key) {
                e.1 = Instant::now();
            }
        } else {
            c.trust.insert(key, (previous, Instant::now()));
        }
        drop(c);
        self.impose(
            "trust policy change (IAM propagation)",
            secs(p.trust_policy_seconds),
        );
    }

    /// A key (or its user) too new to be seen by STS and the other services yet.
    pub fn key_gate(&self, akid: &str, user_name: Option<&str>) -> Result<(), Refusal> {
        let p = self.propagation();
        let c = lock(&self.changes);
        let young_key = c
            .keys
            .get(akid)
            .is_some_and(|t| t.elapsed() < secs(p.access_key_seconds));
        let young_user = user_name.is_some_and(|u| {
            c.principals
                .get(&u.to_ascii_lowercase())
                .is_some_and(|t| t.elapsed() < secs(p.principal_seconds))
        });
        if young_key || young_user {
            return Err((
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.".into(),
            ));
        }
        Ok(())
    }

    /// The trust policy AssumeRole sees now: the previous one while a change propagates.
    /// `Err`: the role itself is too new.
    pub fn effective_trust(&self, role: &str, current: String) -> Result<String, ()> {
        let p = self.propagation();
        let c = lock(&self.changes);
        let key = role.to_ascii_lowercase();
        if c.principals
            .get(&key)
            .is_some_and(|t| t.elapsed() < secs(p.principal_seconds))
        {
            return Err(());
        }
        match c.trust.get(&key) {
            Some((old, at)) if at.elapsed() < secs(p.trust_policy_seconds) => Ok(old.clone()),
            _ => Ok(current),
        }
    }
}

/// The AssumeRole request as the trust evaluation needs it.
pub struct AssumeRequest<'a> {
    pub caller: &'a Identity,
    /// The caller's credentials are temporary (a role session or GetSessionToken).
    pub caller_is_session: bool,
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
    /// SerialNumber and TokenCode were given (and the device is the caller's).
    pub mfa: bool,
    pub duration_seconds: Option<u64>,
    pub max_session_duration: u64,
    /// The trust's principal ARNs (lower-cased) bound to unique ids when it was written.
    pub trust_ids: HashMap<String, String>,
}

/// The IAM user and role ARNs a trust policy names (Principal and NotPrincipal `AWS`).
pub fn principal_arns(policy: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return Vec::new(),
    };
    statements
        .iter()
        .flat_map(|s| ["Principal", "NotPrincipal"].map(|k| s.get(k).and_then(|p| p.get("AWS"))))
        .flatten()
        .flat_map(strings)
        .filter(|a| a.starts_with("arn:") && (a.contains(":user/") || a.contains(":role/")))
        .collect()
}

/// Binds `policy`'s principals to their current unique ids (see [`IamRules::bind_trust`]).
pub async fn bind_trust(moto: &crate::moto::Moto, rules: &IamRules, role: &str, policy: &str) {
    let mut ids = HashMap::new();
    for arn in principal_arns(policy) {
        if let Ok(Some((_, id))) = moto.principal(&arn).await {
            ids.insert(arn.to_ascii_lowercase(), id);
        }
    }
    rules.bind_trust(role, ids);
}

/// `p` (a principal ARN from a trust policy) still names the principal it was written for.
fn bound_to_caller(p: &str, r: &AssumeRequest<'_>) -> bool {
    r.trust_ids
        .get(&p.to_ascii_lowercase())
        .is_none_or(|id| *id == r.caller.principal_id)
}

/// Checks DurationSeconds: role chaining caps it at one hour, the role at MaxSessionDuration.
pub fn check_duration(r: &AssumeRequest<'_>) -> Result<(), Refusal> {
    let Some(d) = r.duration_seconds else {
        return Ok(());
    };
    if !(900..=43200).contains(&d) {
        return Err((
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value {}",
                if d < 900 {
                    "greater than or equal to 900"
                } else {
                    "less than or equal to 43200"
                }
            ),
        ));
    }
    if r.caller_is_session && d > 3600 {
        return Err((
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
        ));
    }
    if d > r.max_session_duration {
        return Err((
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    Ok(())
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// `*`/`?` wildcard match; `fold`: ignore ASCII case.
fn wild(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if fold {
        (
            pattern.to_ascii_lowercase().chars().collect(),
            text.to_ascii_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    // Iterative matcher with one backtrack point.
    let (mut i, mut j, mut star, mut from) = (0, 0, usize::MAX, 0);
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = i;
            from = j;
            i += 1;
        } else if star != usize::MAX {
            i = star + 1;
            from += 1;
            j = from;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

fn statement_has_assume_role(s: &Value) -> bool {
    if let Some(a) = s.get("Action") {
        return strings(a).iter().any(|x| wild(x, "sts:AssumeRole", true));
    }
    if let Some(na) = s.get("NotAction") {
        return !strings(na).iter().any(|x| wild(x, "sts:AssumeRole", true));
    }
    false
}

/// Whether a `Principal` element names the caller.
fn names_caller(principal: &Value, r: &AssumeRequest<'_>) -> bool {
    if principal.as_str() == Some("*") {
        return true;
    }
    let Some(aws) = principal.get("AWS") else {
        return false;
    };
    let id = r.caller;
    strings(aws).iter().any(|p| {
        let p = p.as_str();
        p == "*"
            || p == id.account
            || p == format!("arn:{}:iam::{}:root", id.partition, id.account)
            || ((p == id.principal_arn || p == id.arn) && bound_to_caller(p, r))
            || p == id.principal_id
    })
}

/// Whether a `NotPrincipal` element exempts the caller from its Deny. AWS checks every
/// principal the request carries: the account, then the user, or the account, the role and
/// the session, which are identified by the session ARN; all of them must be listed, or the
/// Deny applies ("you must also specify the account ARN of the not-denied principal … we
/// strongly recommend that you include the ARN for the user's account, or include both the
/// ARN for the role and the ARN for the account containing that role" and a role session is
/// named by its session ARN: IAM User Guide, "AWS JSON policy elements: NotPrincipal").
fn not_principal_exempts(np: &Value, r: &AssumeRequest<'_>) -> bool {
    let Some(aws) = np.get("AWS") else {
        return false;
    };
    let listed = strings(aws);
    let id = r.caller;
    let has = |want: &str| listed.iter().any(|p| p == want && bound_to_caller(p, r));
    let account =
        has(&id.account) || has(&format!("arn:{}:iam::{}:root", id.partition, id.account));
    match id.kind {
        PrincipalKind::IamUser => account && (has(&id.principal_arn) || has(&id.principal_id)),
        PrincipalKind::AssumedRole => {
            let role = has(&id.principal_arn) || has(&id.canonical_arn) || has(&id.principal_id);
            account && role && has(&id.arn)
        }
    }
}

/// The value of a condition key for this request, `None` when absent.
fn context_value(key: &str, r: &AssumeRequest<'_>) -> Option<String> {
    let id = r.caller;
    match key.to_ascii_lowercase().as_str() {
        "aws:principalarn" => Some(id.principal_arn.clone()),
        "aws:principalaccount" => Some(id.account.clone()),
        "aws:userid" => Some(id.user_id.clone()),
        "aws:username" if id.kind == PrincipalKind::IamUser => {
            id.principal_arn.rsplit('/').next().map(str::to_string)
        }
        "aws:principaltype" => Some(match id.kind {
            PrincipalKind::IamUser => "User".into(),
            PrincipalKind::AssumedRole => "AssumedRole".into(),
        }),
        "aws:multifactorauthpresent" if r.mfa => Some("true".into()),
        // Long-term keys carry no MFA context: the key is absent (hence the IfExists idioms).
        "aws:multifactorauthpresent" if r.caller_is_session => Some("false".into()),
        "sts:externalid" => r.external_id.map(str::to_string),
        "sts:rolesessionname" => Some(r.session_name.to_string()),
        "aws:securetransport" => Some("true".into()),
        _ => None,
    }
}

/// One condition operator applied to one key. `None`: an operator the sim does not know
/// (then the statement is taken as applying for a Deny, as not applying for an Allow: never
/// kinder than AWS).
fn condition_holds(op: &str, key: &str, values: &[String], r: &AssumeRequest<'_>) -> Option<bool> {
    if op.starts_with("ForAnyValue:") || op.starts_with("ForAllValues:") {
        return None;
    }
    let actual = context_value(key, r);
    if op == "Null" {
        let want_absent = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return Some(actual.is_none() == want_absent);
    }
    let (base, if_exists) = match op.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (op, false),
    };
    let Some(actual) = actual else {
        // Absent key: IfExists holds; negated operators hold; the others do not.
        return Some(if_exists || base.contains("Not"));
    };
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
    Some(match base {
        "StringEquals" | "ArnEquals" => any(&|v| v == actual),
        "StringNotEquals" | "ArnNotEquals" => !any(&|v| v == actual),
        "StringEqualsIgnoreCase" => any(&|v| v.eq_ignore_ascii_case(&actual)),
        "StringNotEqualsIgnoreCase" => !any(&|v| v.eq_ignore_ascii_case(&actual)),
        "StringLike" | "ArnLike" => any(&|v| wild(v, &actual, false)),
        "StringNotLike" | "ArnNotLike" => !any(&|v| wild(v, &actual, false)),
        "Bool" => any(&|v| v.eq_ignore_ascii_case(&actual)),
        _ => return None,
    })
}

/// Whether all conditions of a statement hold (`deny`: unknown operators count as holding).
fn conditions_hold(stmt: &Value, r: &AssumeRequest<'_>, deny: bool) -> bool {
    let Some(block) = stmt.get("Condition").and_then(Value::as_object) else {
        return true;
    };
    block.iter().all(|(op, keys)| {
        keys.as_object().is_none_or(|keys| {
            keys.iter()
                .all(|(key, vals)| condition_holds(op, key, &strings(vals), r).unwrap_or(deny))
        })
    })
}

/// The trust policy's answer for this AssumeRole: `Ok` or AccessDenied in STS's words.
pub fn evaluate_trust(policy: &str, r: &AssumeRequest<'_>) -> Result<(), Refusal> {
    let refused = || {
        (
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                r.caller.arn, r.role_arn
            ),
        )
    };
    let doc: Value = serde_json::from_str(policy).map_err(|_| refused())?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return Err(refused()),
    };
    let mut allowed = false;
    for s in statements {
        if !statement_has_assume_role(s) {
            continue;
        }
        let deny = s
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e == "Deny");
        let applies = match (s.get("Principal"), s.get("NotPrincipal")) {
            (Some(p), _) => names_caller(p, r),
            (None, Some(np)) => !not_principal_exempts(np, r),
            (None, None) => false,
        };
        if !applies || !conditions_hold(s, r, deny) {
            continue;
        }
        if deny {
            return Err(refused());
        }
        allowed = true;
    }
    if allowed { Ok(()) } else { Err(refused()) }
}

/// STS/IAM query-API error body.
pub fn error_xml(service: &str, code: &str, message: &str) -> String {
    let ns = if service == "iam" {
        "https://iam.amazonaws.com/doc/2010-05-08/"
    } else {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    };
    let esc = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{esc}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        crate::state::uuid()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Identity {
        Identity {
            kind: PrincipalKind::IamUser,
            arn: "arn:aws:iam::123456789012:user/ops/oncall".into(),
            canonical_arn: "arn:aws:iam::123456789012:user/ops/oncall".into(),
            principal_arn: "arn:aws:iam::123456789012:user/ops/oncall".into(),
            principal_id: "AIDAONCALL".into(),
            user_id: "AIDAONCALL".into(),
            account: "123456789012".into(),
            partition: "aws".into(),
            session_name: String::new(),
            access_key_id: "AKIA1".into(),
        }
    }

    fn req<'a>(id: &'a Identity, mfa: bool, ext: Option<&'a str>) -> AssumeRequest<'a> {
        AssumeRequest {
            caller: id,
            caller_is_session: id.kind == PrincipalKind::AssumedRole,
            role_arn: "arn:aws:iam::123456789012:role/ci/deployer",
            session_name: "s",
            external_id: ext,
            mfa,
            duration_seconds: None,
            max_session_duration: 3600,
            trust_ids: HashMap::new(),
        }
    }

    fn pol(stmts: Value) -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": stmts}).to_string()
    }

    #[test]
    fn principals_deny_and_conditions() {
        let id = user();
        let root = pol(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]),
        );
        assert!(evaluate_trust(&root, &req(&id, false, None)).is_ok());
        let other = pol(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/other"}, "Action": "sts:AssumeRole"}]),
        );
        let e = evaluate_trust(&other, &req(&id, false, None)).unwrap_err();
        assert_eq!(e.1, "AccessDenied");
        assert_eq!(
            e.2,
            "User: arn:aws:iam::123456789012:user/ops/oncall is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ci/deployer"
        );
        // The creator role: Deny everyone outside role/ci/*.
        let ci_only = pol(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
             "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci/*"}}}
        ]));
        assert!(evaluate_trust(&ci_only, &req(&id, false, None)).is_err());
        let mfa = pol(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}, "StringEquals": {"sts:ExternalId": "x1"}}}]),
        );
        assert!(evaluate_trust(&mfa, &req(&id, false, Some("x1"))).is_err());
        assert!(evaluate_trust(&mfa, &req(&id, true, Some("x2"))).is_err());
        assert!(evaluate_trust(&mfa, &req(&id, true, Some("x1"))).is_ok());
        // Deny unless MFA (BoolIfExists false): a long-term key has no MFA key at all.
        let deny_no_mfa = pol(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
        ]));
        assert!(evaluate_trust(&deny_no_mfa, &req(&id, false, None)).is_err());
        assert!(evaluate_trust(&deny_no_mfa, &req(&id, true, None)).is_ok());
        // An operator the sim does not know: an Allow does not apply, a Deny does.
        let ip = pol(
            serde_json::json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]),
        );
        assert!(evaluate_trust(&ip, &req(&id, false, None)).is_err());
        // Services do not name IAM callers.
        let svc = pol(
            serde_json::json!([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
        );
        assert!(evaluate_trust(&svc, &req(&id, false, None)).is_err());
    }

    #[test]
    fn durations() {
        let id = user();
        let mut r = req(&id, false, None);
        r.duration_seconds = Some(7200);
        assert_eq!(
            check_duration(&r).unwrap_err().2,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        );
        r.max_session_duration = 43200;
        assert!(check_duration(&r).is_ok());
        r.caller_is_session = true;
        assert!(check_duration(&r).unwrap_err().2.contains("role chaining"));
        r.duration_seconds = Some(3600);
        assert!(check_duration(&r).is_ok());
    }

    #[test]
    fn wildcards() {
        assert!(wild(
            "arn:aws:iam::1:role/ci/*",
            "arn:aws:iam::1:role/ci/x",
            false
        ));
        assert!(!wild(
            "arn:aws:iam::1:role/ci/*",
            "arn:aws:iam::1:role/CI/x",
            false
        ));
        assert!(wild("sts:Assume*", "sts:assumerole", true));
        assert!(wild("a?c", "abc", false));
    }
}
