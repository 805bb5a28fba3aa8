//! Can caller X assume role R, and what will it have to show?
//!
//! Becoming the creator role is the fastest way back in, and the question an operator has at
//! 3 a.m. is not "what does this policy say" but "will `sts:AssumeRole` work for me, and if not,
//! why". This module answers it from the role's trust policy alone: which statement lets the
//! caller in (its exact ARN, its role, its account, or anyone), what conditions stand in the way
//! (MFA, an external id, anything else, listed rather than guessed), and whether an explicit
//! Deny wins. It does not see the caller's own IAM policies or SCPs, and says so: a match on the
//! account (`arn:aws:iam::A:root` or `"A"`) still needs `sts:AssumeRole` in the caller's policy.
//!
//! It also writes the one statement a break-glass run adds to a trust policy, and takes exactly
//! that statement out again ([`add_statement`], [`remove_statement`]). Trust policies are shared:
//! a colleague may add a statement, or a second operator run the tool, while a run is alive. So
//! a run's statement carries the run's id in its `Sid`, and its undo removes only a statement
//! equal to it (Sid, principal and all) and leaves everything else as it is now — it never puts
//! an old copy of the whole document back over someone else's change, and it refuses (showing
//! both) when the statement is there but not as written.

use crate::arn::PrincipalArn;
use serde::Serialize;
use serde_json::Value;

/// Who is asking (from GetCallerIdentity).
#[derive(Debug, Clone)]
pub struct Caller {
    pub arn: String,
    pub account: String,
    /// `AIDA…` for users, `AROA…:session` for role sessions.
    pub user_id: String,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustDecision {
    /// A statement lets the caller in with no condition.
    Allowed,
    /// A statement lets the caller in if the listed conditions are met.
    AllowedWithConditions,
    /// No statement names the caller.
    NotTrusted,
    /// An explicit Deny names the caller.
    Denied,
    /// The policy could not be read.
    Unknown,
}

/// A condition the caller would face.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TrustCondition {
    /// `aws:MultiFactorAuthPresent` / `aws:MultiFactorAuthAge`: assume with `--mfa-serial`.
    Mfa { key: String, requirement: String },
    /// `sts:ExternalId`: pass one of these values.
    ExternalId { values: Vec<String> },
    /// A condition on the session name (`sts:RoleSessionName`).
    SessionName {
        operator: String,
        values: Vec<String>,
    },
    /// Anything this tool does not evaluate.
    Unknown {
        operator: String,
        key: String,
        values: Vec<String>,
    },
}

impl TrustCondition {
    pub fn describe(&self) -> String {
        match self {
            TrustCondition::Mfa { key, requirement } => {
                format!("MFA required ({key} {requirement}): pass --mfa-serial and --token-code")
            }
            TrustCondition::ExternalId { values } => {
                format!(
                    "external id required (sts:ExternalId = {})",
                    values.join(" | ")
                )
            }
            TrustCondition::SessionName { operator, values } => {
                format!(
                    "session name must satisfy {operator} {}",
                    values.join(" | ")
                )
            }
            TrustCondition::Unknown {
                operator,
                key,
                values,
            } => format!(
                "unknown condition: {operator} {key} = {} (not evaluated)",
                values.join(" | ")
            ),
        }
    }
}

/// How the caller matched the statement's principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalMatch {
    /// The caller's exact ARN (user, or assumed-role session).
    Exact,
    /// The caller is a session of the named role.
    CallerRole,
    /// The caller's unique id (a principal that was deleted shows as its id).
    UniqueId,
    /// The caller's account (`arn:aws:iam::A:root` or `"A"`): its own policy must also allow it.
    Account,
    /// `"*"`: anyone, subject to conditions.
    Wildcard,
}

/// The evaluation of one trust policy for one caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustEvaluation {
    pub decision: TrustDecision,
    pub principal_match: Option<PrincipalMatch>,
    /// The statement that decided (its `Sid`, or `#N`).
    pub statement: Option<String>,
    pub conditions: Vec<TrustCondition>,
    /// Plain-language notes (account-level trust needs the caller's own permission, …).
    pub notes: Vec<String>,
}

impl TrustEvaluation {
    fn unknown(note: String) -> Self {
        TrustEvaluation {
            decision: TrustDecision::Unknown,
            principal_match: None,
            statement: None,
            conditions: Vec::new(),
            notes: vec![note],
        }
    }

    /// True when AssumeRole should work (possibly with MFA or an external id the caller has).
    pub fn lets_in(&self) -> bool {
        matches!(
            self.decision,
            TrustDecision::Allowed | TrustDecision::AllowedWithConditions
        )
    }
}

fn as_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// IAM's `*` / `?` glob, case-insensitive (actions are case-insensitive).
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn action_matches(stmt: &Value) -> bool {
    if let Some(a) = stmt.get("Action") {
        return as_list(a).iter().any(|p| glob(p, "sts:AssumeRole"));
    }
    if let Some(na) = stmt.get("NotAction") {
        return !as_list(na).iter().any(|p| glob(p, "sts:AssumeRole"));
    }
    false
}

/// Matches one `Principal` value against the caller.
fn principal_matches(principal: &Value, caller: &Caller) -> Option<PrincipalMatch> {
    if principal.as_str() == Some("*") {
        return Some(PrincipalMatch::Wildcard);
    }
    let aws = principal.get("AWS")?;
    let parsed_caller = PrincipalArn::parse(&caller.arn).ok();
    let caller_unique = caller.user_id.split(':').next().unwrap_or("");
    let mut best: Option<PrincipalMatch> = None;
    let mut consider = |m: PrincipalMatch| {
        let rank = |m: PrincipalMatch| match m {
            PrincipalMatch::Exact => 4,
            PrincipalMatch::CallerRole | PrincipalMatch::UniqueId => 3,
            PrincipalMatch::Account => 2,
            PrincipalMatch::Wildcard => 1,
        };
        if best.is_none_or(|b| rank(m) > rank(b)) {
            best = Some(m);
        }
    };
    for p in as_list(aws) {
        let p = p.trim();
        if p == "*" {
            consider(PrincipalMatch::Wildcard);
        } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
            if p == caller.account {
                consider(PrincipalMatch::Account);
            }
        } else if !p.starts_with("arn:") {
            if !caller_unique.is_empty() && p == caller_unique {
                consider(PrincipalMatch::UniqueId);
            }
        } else if p.eq_ignore_ascii_case(&caller.arn) {
            consider(PrincipalMatch::Exact);
        } else if let Ok(tp) = PrincipalArn::parse(p) {
            match (&tp, &parsed_caller) {
                (PrincipalArn::Root { account, .. }, _) if *account == caller.account => {
                    consider(PrincipalMatch::Account)
                }
                // Role names are unique in an account whatever the path; the session ARN has
                // no path, so compare account and name.
                (
                    PrincipalArn::Role { account, name, .. },
                    Some(PrincipalArn::AssumedRole {
                        account: ca,
                        role_name,
                        ..
                    }),
                ) if account == ca && name == role_name => consider(PrincipalMatch::CallerRole),
                (
                    PrincipalArn::User { account, name, .. },
                    Some(PrincipalArn::User {
                        account: ca,
                        name: cn,
                        ..
                    }),
                ) if account == ca && name == cn => consider(PrincipalMatch::Exact),
                _ => {}
            }
        }
    }
    best
}

/// Reads a statement's `Condition` block into what the caller would face.
fn conditions_of(stmt: &Value, caller: &Caller) -> (Vec<TrustCondition>, bool) {
    let mut out = Vec::new();
    // `false` when a condition we can evaluate rules the caller out.
    let mut satisfiable = true;
    let Some(block) = stmt.get("Condition").and_then(Value::as_object) else {
        return (out, true);
    };
    for (operator, keys) in block {
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for (key, values) in keys {
            let values = as_list(values);
            let lk = key.to_ascii_lowercase();
            let op = operator.as_str();
            let base_op = op.trim_end_matches("IfExists");
            match lk.as_str() {
                "aws:multifactorauthpresent" => {
                    let wants_true = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
                    if base_op == "Bool" && wants_true {
                        out.push(TrustCondition::Mfa {
                            key: key.clone(),
                            requirement: "true".into(),
                        });
                    } else if op == "Null" {
                        // {"Null": {"aws:MultiFactorAuthPresent": "false"}} = key must exist.
                        if values.iter().any(|v| v.eq_ignore_ascii_case("false")) {
                            out.push(TrustCondition::Mfa {
                                key: key.clone(),
                                requirement: "present".into(),
                            });
                        }
                    } else {
                        out.push(TrustCondition::Unknown {
                            operator: op.into(),
                            key: key.clone(),
                            values,
                        });
                    }
                }
                "aws:multifactorauthage" => out.push(TrustCondition::Mfa {
                    key: key.clone(),
                    requirement: format!("{op} {}", values.join(" | ")),
                }),
                "sts:externalid" if base_op == "StringEquals" || base_op == "StringLike" => {
                    out.push(TrustCondition::ExternalId { values })
                }
                "sts:rolesessionname" => out.push(TrustCondition::SessionName {
                    operator: op.into(),
                    values,
                }),
                "aws:principalaccount" if base_op == "StringEquals" => {
                    if !values.iter().any(|v| v == &caller.account) {
                        satisfiable = false;
                    }
                }
                "aws:principalarn"
                    if matches!(
                        base_op,
                        "ArnEquals" | "ArnLike" | "StringEquals" | "StringLike"
                    ) && PrincipalArn::parse(&caller.arn)
                        .is_ok_and(|p| matches!(p, PrincipalArn::User { .. })) =>
                {
                    // For users aws:PrincipalArn is the user ARN we know; for sessions it is the
                    // role ARN with a path we may not know, so those stay "unknown".
                    if !values.iter().any(|v| glob(v, &caller.arn)) {
                        satisfiable = false;
                    }
                }
                _ => out.push(TrustCondition::Unknown {
                    operator: op.into(),
                    key: key.clone(),
                    values,
                }),
            }
        }
    }
    (out, satisfiable)
}

fn statement_label(stmt: &Value, idx: usize) -> String {
    stmt.get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{}", idx + 1))
}

/// Evaluates a trust policy (already URL-decoded JSON text) for `caller`.
pub fn evaluate(policy_json: &str, caller: &Caller) -> TrustEvaluation {
    let doc: Value = match serde_json::from_str(policy_json) {
        Ok(v) => v,
        Err(e) => return TrustEvaluation::unknown(format!("the trust policy is not JSON: {e}")),
    };
    evaluate_value(&doc, caller)
}

/// Evaluates a parsed trust policy for `caller`.
pub fn evaluate_value(doc: &Value, caller: &Caller) -> TrustEvaluation {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return TrustEvaluation::unknown("the trust policy has no Statement".into()),
    };
    let mut best: Option<TrustEvaluation> = None;
    let mut deny: Option<TrustEvaluation> = None;
    let mut notes = Vec::new();
    for (idx, stmt) in statements.iter().enumerate() {
        if !action_matches(stmt) {
            continue;
        }
        let effect = stmt.get("Effect").and_then(Value::as_str).unwrap_or("");
        if stmt.get("NotPrincipal").is_some() {
            notes.push(format!(
                "statement {} uses NotPrincipal, which this check does not evaluate",
                statement_label(stmt, idx)
            ));
            continue;
        }
        let Some(principal) = stmt.get("Principal") else {
            continue;
        };
        let Some(m) = principal_matches(principal, caller) else {
            continue;
        };
        let (conditions, satisfiable) = conditions_of(stmt, caller);
        if effect.eq_ignore_ascii_case("Deny") {
            if conditions.is_empty() && satisfiable {
                deny = Some(TrustEvaluation {
                    decision: TrustDecision::Denied,
                    principal_match: Some(m),
                    statement: Some(statement_label(stmt, idx)),
                    conditions: Vec::new(),
                    notes: Vec::new(),
                });
            } else if satisfiable {
                notes.push(format!(
                    "statement {} denies the caller when: {}",
                    statement_label(stmt, idx),
                    conditions
                        .iter()
                        .map(TrustCondition::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            continue;
        }
        if !effect.eq_ignore_ascii_case("Allow") || !satisfiable {
            continue;
        }
        let decision = if conditions.is_empty() {
            TrustDecision::Allowed
        } else {
            TrustDecision::AllowedWithConditions
        };
        let candidate = TrustEvaluation {
            decision,
            principal_match: Some(m),
            statement: Some(statement_label(stmt, idx)),
            conditions,
            notes: Vec::new(),
        };
        let better = match &best {
            None => true,
            Some(b) => {
                (candidate.decision == TrustDecision::Allowed
                    && b.decision != TrustDecision::Allowed)
                    || (candidate.decision == b.decision
                        && candidate.conditions.len() < b.conditions.len())
            }
        };
        if better {
            best = Some(candidate);
        }
    }
    let mut result = match (deny, best) {
        (Some(d), _) => d,
        (None, Some(b)) => b,
        (None, None) => TrustEvaluation {
            decision: TrustDecision::NotTrusted,
            principal_match: None,
            statement: None,
            conditions: Vec::new(),
            notes: Vec::new(),
        },
    };
    match result.principal_match {
        Some(PrincipalMatch::Account) if result.lets_in() => result.notes.push(format!(
            "the role trusts the whole account {}: the caller's own IAM policy must also allow \
             sts:AssumeRole on it",
            caller.account
        )),
        Some(PrincipalMatch::Wildcard) if result.lets_in() => result.notes.push(
            "the role trusts any principal (\"*\"), limited only by its conditions".to_string(),
        ),
        _ => {}
    }
    result.notes.extend(notes);
    result
}

/// The `Sid` prefix of the statements break-glass runs add; the run's id follows it.
pub const RUN_SID_PREFIX: &str = "EksBreakglassTemporaryAccess";

/// The `Sid` of the trust statement of run `run_id` (IAM allows letters and digits only).
pub fn run_sid(run_id: &str) -> String {
    let clean: String = run_id.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{RUN_SID_PREFIX}{clean}")
}

/// One `Allow sts:AssumeRole` statement for `principal_arn` (optionally requiring MFA).
pub fn assume_statement(sid: &str, principal_arn: &str, require_mfa: bool) -> Value {
    let mut s = serde_json::json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": "sts:AssumeRole",
    });
    if require_mfa {
        s["Condition"] = serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
    }
    s
}

fn statements_of(doc: &Value) -> Result<Vec<Value>, String> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(v @ Value::Object(_)) => Ok(vec![v.clone()]),
        None => Ok(Vec::new()),
        Some(_) => Err("the trust policy's Statement is neither a list nor an object".into()),
    }
}

fn sid_of(v: &Value) -> Option<&str> {
    v.get("Sid").and_then(Value::as_str)
}

/// The trust document with `statement` appended. The original's other statements and key
/// order are kept (a single-object `Statement` becomes a list); statements of other runs are
/// left alone. A statement with the same `Sid` already there is refused (it is not ours).
pub fn add_statement(original: &str, statement: &Value) -> Result<String, String> {
    let mut doc: Value =
        serde_json::from_str(original).map_err(|e| format!("the trust policy is not JSON: {e}"))?;
    let mut statements = statements_of(&doc)?;
    let sid = sid_of(statement).unwrap_or_default();
    if statements.iter().any(|s| sid_of(s) == Some(sid)) {
        return Err(format!(
            "the trust policy already has a statement with Sid {sid}; refusing to replace it"
        ));
    }
    statements.push(statement.clone());
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| "the trust policy is not a JSON object".to_string())?;
    obj.insert("Statement".into(), Value::Array(statements));
    obj.entry("Version")
        .or_insert_with(|| Value::String("2012-10-17".into()));
    serde_json::to_string(&doc).map_err(|e| e.to_string())
}

/// What removing a run's statement from the live trust policy comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// The document to write: the live one without the statement. `restores_original` when
    /// that is, as a JSON value, the policy saved before the run (then its exact bytes).
    Removed {
        document: String,
        restores_original: bool,
    },
    /// The statement is not there (already removed).
    Absent,
    /// A statement with the run's Sid is there but not as the run wrote it (or more than once):
    /// someone changed it; what is there and what was written, for people.
    Changed { found: String, written: String },
}

/// Equal as IAM policies: the same JSON value, a single-object `Statement` being the same as a
/// one-element list.
fn same_policy(a: &Value, b: &Value) -> bool {
    let norm = |v: &Value| {
        let mut v = v.clone();
        if let Some(st @ Value::Object(_)) = v.get("Statement").cloned() {
            v["Statement"] = Value::Array(vec![st]);
        }
        v
    };
    norm(a) == norm(b)
}

/// Takes `statement` (as the run added it) out of the live trust policy `current`, leaving
/// every other statement as it is now. `original` is the policy saved before the run.
pub fn remove_statement(
    current: &str,
    statement: &Value,
    original: &str,
) -> Result<Removal, String> {
    let mut doc: Value = serde_json::from_str(current)
        .map_err(|e| format!("the live trust policy is not JSON: {e}"))?;
    let statements = statements_of(&doc)?;
    let sid = sid_of(statement);
    let same_sid: Vec<&Value> = statements.iter().filter(|s| sid_of(s) == sid).collect();
    if same_sid.is_empty() {
        return Ok(Removal::Absent);
    }
    if same_sid.len() > 1 || same_sid[0] != statement {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        return Ok(Removal::Changed {
            found: same_sid
                .iter()
                .map(|v| pretty(v))
                .collect::<Vec<_>>()
                .join("\n"),
            written: pretty(statement),
        });
    }
    let rest: Vec<Value> = statements
        .into_iter()
        .filter(|s| sid_of(s) != sid)
        .collect();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("Statement".into(), Value::Array(rest));
    }
    if let Ok(orig) = serde_json::from_str::<Value>(original)
        && same_policy(&orig, &doc)
    {
        return Ok(Removal::Removed {
            document: original.to_string(),
            restores_original: true,
        });
    }
    Ok(Removal::Removed {
        document: serde_json::to_string(&doc).map_err(|e| e.to_string())?,
        restores_original: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_runs_statement_is_added_and_removed_leaving_others_in_place() {
        let original = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        let a = assume_statement(&run_sid("A1"), "arn:aws:iam::1:user/a", false);
        let b = assume_statement(&run_sid("B2"), "arn:aws:iam::1:user/b", true);
        let with_a = add_statement(original, &a).unwrap();
        let with_ab = add_statement(&with_a, &b).unwrap();
        assert!(add_statement(&with_ab, &a).is_err(), "same Sid twice");
        // A colleague adds a statement meanwhile.
        let mut v: Value = serde_json::from_str(&with_ab).unwrap();
        let colleague = json!({"Sid": "Colleague", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:user/c"}, "Action": "sts:AssumeRole"});
        v["Statement"]
            .as_array_mut()
            .unwrap()
            .push(colleague.clone());
        let live = v.to_string();
        let Removal::Removed {
            document,
            restores_original,
        } = remove_statement(&live, &a, original).unwrap()
        else {
            panic!("not removed")
        };
        assert!(!restores_original);
        let after: Value = serde_json::from_str(&document).unwrap();
        let st = after["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 3);
        assert!(st.contains(&b) && st.contains(&colleague) && !st.contains(&a));
        assert_eq!(
            remove_statement(&document, &a, original).unwrap(),
            Removal::Absent
        );
        // Without the colleague, removing both gives the original bytes back.
        let Removal::Removed { document, .. } = remove_statement(&with_ab, &b, original).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            remove_statement(&document, &a, original).unwrap(),
            Removal::Removed {
                document: original.to_string(),
                restores_original: true
            }
        );
        // Our Sid, someone else's principal: refuse, show both.
        let mut forged = a.clone();
        forged["Principal"]["AWS"] = json!("*");
        let live = add_statement(original, &forged).unwrap();
        assert!(matches!(
            remove_statement(&live, &a, original).unwrap(),
            Removal::Changed { .. }
        ));
    }

    fn user() -> Caller {
        Caller {
            arn: "arn:aws:iam::111122223333:user/oncall".into(),
            account: "111122223333".into(),
            user_id: "AIDAONCALL".into(),
        }
    }

    fn session() -> Caller {
        Caller {
            arn: "arn:aws:sts::111122223333:assumed-role/breakglass/alice".into(),
            account: "111122223333".into(),
            user_id: "AROABREAK:alice".into(),
        }
    }

    fn policy(stmts: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": stmts}).to_string()
    }

    #[test]
    fn exact_user_is_allowed() {
        let p = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/oncall"}, "Action": "sts:AssumeRole"}]),
        );
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Allowed);
        assert_eq!(e.principal_match, Some(PrincipalMatch::Exact));
        assert_eq!(e.statement.as_deref(), Some("#1"));
    }

    #[test]
    fn account_root_and_bare_account_need_own_policy() {
        for principal in [
            json!("arn:aws:iam::111122223333:root"),
            json!("111122223333"),
        ] {
            let p = policy(
                json!([{"Sid": "Acct", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]),
            );
            let e = evaluate(&p, &session());
            assert_eq!(e.decision, TrustDecision::Allowed, "{e:?}");
            assert_eq!(e.principal_match, Some(PrincipalMatch::Account));
            assert!(e.notes[0].contains("own IAM policy"));
        }
        let other = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]),
        );
        assert_eq!(
            evaluate(&other, &user()).decision,
            TrustDecision::NotTrusted
        );
    }

    #[test]
    fn caller_role_matches_whatever_the_path() {
        let p = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/ops/breakglass"]}, "Action": "sts:*"}]),
        );
        let e = evaluate(&p, &session());
        assert_eq!(e.decision, TrustDecision::Allowed);
        assert_eq!(e.principal_match, Some(PrincipalMatch::CallerRole));
    }

    #[test]
    fn mfa_external_id_and_unknown_conditions_are_listed() {
        let p = policy(json!([{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "StringEquals": {"sts:ExternalId": "s3cr3t"},
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}
            }
        }]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::AllowedWithConditions);
        assert_eq!(e.conditions.len(), 3);
        assert!(matches!(e.conditions[0], TrustCondition::Mfa { .. }));
        assert_eq!(
            e.conditions[1],
            TrustCondition::ExternalId {
                values: vec!["s3cr3t".into()]
            }
        );
        assert!(
            e.conditions[2]
                .describe()
                .starts_with("unknown condition: IpAddress aws:SourceIp")
        );
    }

    #[test]
    fn the_least_conditioned_statement_wins() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": true}}},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/oncall"}, "Action": "sts:AssumeRole"}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Allowed);
        assert_eq!(e.statement.as_deref(), Some("#2"));
    }

    #[test]
    fn deny_wins_and_services_do_not_count() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Sid": "NoOncall", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/oncall"}, "Action": "sts:*"}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Denied);
        assert_eq!(e.statement.as_deref(), Some("NoOncall"));
        let svc = policy(
            json!([{"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
        );
        assert_eq!(evaluate(&svc, &user()).decision, TrustDecision::NotTrusted);
        let saml = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRoleWithSAML"}]),
        );
        assert_eq!(evaluate(&saml, &user()).decision, TrustDecision::NotTrusted);
    }

    #[test]
    fn principal_account_and_arn_conditions_are_evaluated() {
        let p = policy(
            json!([{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "999999999999"}}}]),
        );
        assert_eq!(evaluate(&p, &user()).decision, TrustDecision::NotTrusted);
        let p = policy(
            json!([{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/on*"}}}]),
        );
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Allowed);
        assert_eq!(e.principal_match, Some(PrincipalMatch::Wildcard));
    }

    #[test]
    fn a_deleted_principal_shows_as_its_id() {
        let p = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "AROABREAK"}, "Action": "sts:AssumeRole"}]),
        );
        assert_eq!(
            evaluate(&p, &session()).principal_match,
            Some(PrincipalMatch::UniqueId)
        );
    }

    #[test]
    fn unreadable_policies() {
        assert_eq!(evaluate("{", &user()).decision, TrustDecision::Unknown);
        assert_eq!(evaluate("{}", &user()).decision, TrustDecision::Unknown);
        assert!(glob("sts:Assume*", "sts:AssumeRole"));
        assert!(!glob("sts:AssumeRoleWith*", "sts:AssumeRole"));
        assert!(glob("*", "x"));
    }
}
