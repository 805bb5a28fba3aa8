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
    /// An Allow lets the caller in, but a Deny (named in `statement`) may apply under
    /// conditions this check cannot evaluate: only AWS can tell, at AssumeRole. Never read as
    /// "allowed".
    Uncertain,
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

/// IAM's `*` / `?` glob, case-insensitive (actions are case-insensitive): the condition glob
/// on lower-cased text.
fn glob(pattern: &str, text: &str) -> bool {
    glob_case(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
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

/// True when a principal element names `account` itself (`arn:…:iam::A:root` or `"A"`).
fn names_account(principal: &Value, account: &str) -> bool {
    principal.get("AWS").is_some_and(|aws| {
        as_list(aws).iter().any(|p| {
            let p = p.trim();
            p == account
                || matches!(PrincipalArn::parse(p), Ok(PrincipalArn::Root { account: a, .. }) if a == account)
        })
    })
}

/// How one condition key/operator pair came out for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Holds for the caller.
    Holds,
    /// Does not hold: the statement does not apply.
    Fails,
    /// Something the caller brings to the AssumeRole call (MFA, external id, session name).
    Requirement(TrustCondition),
    /// In a Deny: the Deny does not apply when the caller signs in with MFA.
    AvoidedByMfa(TrustCondition),
    /// Cannot be evaluated from the trust policy and the caller's identity alone.
    Unknown(TrustCondition),
}

/// The value of a global condition key for the caller, when the caller's identity alone
/// gives it. `None`: unknown here (for a role session, `aws:PrincipalArn` is the role ARN
/// *with* its path, which the session ARN does not show).
fn key_value(key_lower: &str, caller: &Caller) -> Option<String> {
    let parsed = PrincipalArn::parse(&caller.arn).ok();
    let is_user = matches!(parsed, Some(PrincipalArn::User { .. }));
    match key_lower {
        "aws:principalaccount" => Some(caller.account.clone()),
        "aws:principalarn" if is_user => Some(caller.arn.clone()),
        "aws:userid" if !caller.user_id.is_empty() => Some(caller.user_id.clone()),
        "aws:username" if is_user => match parsed {
            Some(PrincipalArn::User { name, .. }) => Some(name),
            _ => None,
        },
        "aws:principaltype" => match parsed {
            Some(PrincipalArn::User { .. }) => Some("User".into()),
            Some(PrincipalArn::AssumedRole { .. }) => Some("AssumedRole".into()),
            _ => None,
        },
        _ => None,
    }
}

/// True when the caller presumably signs with an IAM user's long-term access key (the
/// request then carries no `aws:MultiFactorAuthPresent`). GetCallerIdentity cannot tell a
/// user's GetSessionToken session from its long-term key; the evaluation notes that case.
fn long_term_key(caller: &Caller) -> bool {
    matches!(
        PrincipalArn::parse(&caller.arn),
        Ok(PrincipalArn::User { .. })
    )
}

/// IAM's condition glob: `*` and `?`, case-sensitive (StringLike, ArnLike).
fn glob_case(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
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

/// Evaluates a string/ARN/Bool/Null operator on a value the caller is known to have.
/// `None`: an operator this check does not evaluate.
fn compare(base_op: &str, actual: &str, values: &[String]) -> Option<bool> {
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
    Some(match base_op {
        "StringEquals" | "ArnEquals" => any(&|v| v == actual),
        "StringNotEquals" | "ArnNotEquals" => !any(&|v| v == actual),
        "StringEqualsIgnoreCase" => any(&|v| v.eq_ignore_ascii_case(actual)),
        "StringNotEqualsIgnoreCase" => !any(&|v| v.eq_ignore_ascii_case(actual)),
        "StringLike" | "ArnLike" => any(&|v| glob_case(v, actual)),
        "StringNotLike" | "ArnNotLike" => !any(&|v| glob_case(v, actual)),
        "Bool" => any(&|v| v.eq_ignore_ascii_case(actual)),
        _ => return None,
    })
}

fn unknown(op: &str, key: &str, values: Vec<String>) -> TrustCondition {
    TrustCondition::Unknown {
        operator: op.into(),
        key: key.into(),
        values,
    }
}

/// One condition of a statement, for the caller. `deny`: the statement is a Deny (then an
/// MFA condition is something the caller can avoid, not bring).
fn evaluate_condition(
    op: &str,
    key: &str,
    values: Vec<String>,
    caller: &Caller,
    deny: bool,
) -> Outcome {
    let lk = key.to_ascii_lowercase();
    if op.contains(':') {
        // ForAnyValue:/ForAllValues: are for multi-valued keys (tags); not evaluated here.
        return Outcome::Unknown(unknown(op, key, values));
    }
    let base_op = op.trim_end_matches("IfExists");
    match lk.as_str() {
        "aws:multifactorauthpresent" => {
            let wants = |b: &str| values.iter().any(|v| v.eq_ignore_ascii_case(b));
            if deny {
                // A caller signing with an IAM user's long-term access key has no
                // aws:MultiFactorAuthPresent at all. A plain operator on an absent key does
                // not match (IAM User Guide, "Condition operators": "If the key … is not
                // present in the request context, the values do not match and the condition
                // is false"), so `Deny … Bool … false` spares that caller; only
                // `BoolIfExists` (true when the key is absent) catches it.
                if op == "Bool" && long_term_key(caller) {
                    return Outcome::Fails;
                }
                // `Deny … Bool(IfExists) aws:MultiFactorAuthPresent false`: applies unless
                // the caller signs in with MFA.
                if base_op == "Bool" && wants("false") && !wants("true") {
                    return Outcome::AvoidedByMfa(TrustCondition::Mfa {
                        key: key.into(),
                        requirement: "true".into(),
                    });
                }
                return Outcome::Unknown(unknown(op, key, values));
            }
            if base_op == "Bool" && wants("true") {
                Outcome::Requirement(TrustCondition::Mfa {
                    key: key.into(),
                    requirement: "true".into(),
                })
            } else if op == "Null" && wants("false") {
                // {"Null": {"aws:MultiFactorAuthPresent": "false"}} = the key must exist.
                Outcome::Requirement(TrustCondition::Mfa {
                    key: key.into(),
                    requirement: "present".into(),
                })
            } else {
                Outcome::Unknown(unknown(op, key, values))
            }
        }
        "aws:multifactorauthage" if !deny => Outcome::Requirement(TrustCondition::Mfa {
            key: key.into(),
            requirement: format!("{op} {}", values.join(" | ")),
        }),
        "sts:externalid" if !deny && matches!(base_op, "StringEquals" | "StringLike") => {
            Outcome::Requirement(TrustCondition::ExternalId { values })
        }
        "sts:rolesessionname" if !deny => Outcome::Requirement(TrustCondition::SessionName {
            operator: op.into(),
            values,
        }),
        _ => {
            let Some(actual) = key_value(&lk, caller) else {
                return Outcome::Unknown(unknown(op, key, values));
            };
            if base_op == "Null" {
                // The key exists for this caller: Null true fails, Null false holds.
                let wants_absent = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
                return if wants_absent {
                    Outcome::Fails
                } else {
                    Outcome::Holds
                };
            }
            match compare(base_op, &actual, &values) {
                Some(true) => Outcome::Holds,
                Some(false) => Outcome::Fails,
                None => Outcome::Unknown(unknown(op, key, values)),
            }
        }
    }
}

/// All conditions of a statement (they must all hold: AND across operators and keys).
fn conditions_of(stmt: &Value, caller: &Caller, deny: bool) -> Vec<Outcome> {
    let mut out = Vec::new();
    let Some(block) = stmt.get("Condition").and_then(Value::as_object) else {
        return out;
    };
    for (operator, keys) in block {
        let Some(keys) = keys.as_object() else {
            out.push(Outcome::Unknown(unknown(operator, "?", Vec::new())));
            continue;
        };
        for (key, values) in keys {
            out.push(evaluate_condition(
                operator,
                key,
                as_list(values),
                caller,
                deny,
            ));
        }
    }
    out
}

/// A statement with a plain `Bool` (not `BoolIfExists`) on `aws:MultiFactorAuthPresent`.
fn plain_bool_mfa(stmt: &Value) -> bool {
    stmt.get("Condition")
        .and_then(|c| c.get("Bool"))
        .and_then(Value::as_object)
        .is_some_and(|keys| {
            keys.keys()
                .any(|k| k.eq_ignore_ascii_case("aws:MultiFactorAuthPresent"))
        })
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
    // The first Deny that may apply under conditions not evaluated here: (label, conditions).
    let mut uncertain: Option<(String, Vec<TrustCondition>)> = None;
    // Denies that do not apply to a session signed in with MFA.
    let mut deny_without_mfa: Vec<(String, TrustCondition)> = Vec::new();
    let mut notes = Vec::new();
    for (idx, stmt) in statements.iter().enumerate() {
        if !action_matches(stmt) {
            continue;
        }
        let label = statement_label(stmt, idx);
        let effect = stmt.get("Effect").and_then(Value::as_str).unwrap_or("");
        let is_deny = effect.eq_ignore_ascii_case("Deny");
        let m = if let Some(np) = stmt.get("NotPrincipal") {
            if !is_deny {
                notes.push(format!(
                    "statement {label} allows with NotPrincipal, which this check does not evaluate"
                ));
                continue;
            }
            // "Deny everyone except …": exempt only when the caller is named exactly (a
            // session must be named by its session ARN too, which this check cannot see) AND
            // its account is named too: "When you use NotPrincipal, you must also specify the
            // account ARN of the not-denied principal. Otherwise, the policy might deny access
            // to the entire account containing the principal" (IAM User Guide, "AWS JSON
            // policy elements: NotPrincipal"). Anything else is uncertain.
            if principal_matches(np, caller) == Some(PrincipalMatch::Exact)
                && names_account(np, &caller.account)
            {
                continue;
            }
            if uncertain.is_none() {
                uncertain = Some((
                    label.clone(),
                    vec![TrustCondition::Unknown {
                        operator: "NotPrincipal".into(),
                        key: "Principal".into(),
                        values: as_list(np.get("AWS").unwrap_or(np)),
                    }],
                ));
            }
            continue;
        } else {
            let Some(principal) = stmt.get("Principal") else {
                continue;
            };
            let Some(m) = principal_matches(principal, caller) else {
                continue;
            };
            m
        };
        let outcomes = conditions_of(stmt, caller, is_deny);
        if is_deny && long_term_key(caller) && plain_bool_mfa(stmt) {
            notes.push(format!(
                "statement {label} denies sessions without MFA (Bool, not BoolIfExists): it does \
                 not apply to a long-term access key, but it does to GetSessionToken credentials \
                 obtained without MFA"
            ));
        }
        if outcomes.contains(&Outcome::Fails) {
            continue;
        }
        if is_deny {
            let unknowns: Vec<TrustCondition> = outcomes
                .iter()
                .filter_map(|o| match o {
                    Outcome::Unknown(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            let mfa: Vec<TrustCondition> = outcomes
                .iter()
                .filter_map(|o| match o {
                    Outcome::AvoidedByMfa(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            if unknowns.is_empty() && mfa.is_empty() {
                if deny.is_none() {
                    deny = Some(TrustEvaluation {
                        decision: TrustDecision::Denied,
                        principal_match: Some(m),
                        statement: Some(label),
                        conditions: Vec::new(),
                        notes: Vec::new(),
                    });
                }
            } else if unknowns.is_empty() {
                deny_without_mfa.extend(mfa.into_iter().map(|c| (label.clone(), c)));
            } else if uncertain.is_none() {
                uncertain = Some((label, [unknowns, mfa].concat()));
            }
            continue;
        }
        if !effect.eq_ignore_ascii_case("Allow") {
            continue;
        }
        let conditions: Vec<TrustCondition> = outcomes
            .into_iter()
            .filter_map(|o| match o {
                Outcome::Requirement(c) | Outcome::Unknown(c) => Some(c),
                _ => None,
            })
            .collect();
        let decision = if conditions.is_empty() {
            TrustDecision::Allowed
        } else {
            TrustDecision::AllowedWithConditions
        };
        let candidate = TrustEvaluation {
            decision,
            principal_match: Some(m),
            statement: Some(label),
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
        (None, Some(mut b)) => {
            for (label, c) in &deny_without_mfa {
                if !b
                    .conditions
                    .iter()
                    .any(|x| matches!(x, TrustCondition::Mfa { .. }))
                {
                    b.conditions.push(c.clone());
                }
                b.decision = TrustDecision::AllowedWithConditions;
                b.notes.push(format!(
                    "statement {label} denies sessions without MFA: assume with --mfa-serial and --token-code"
                ));
            }
            match uncertain {
                Some((label, conditions)) => {
                    let allow = b.statement.clone().unwrap_or_default();
                    TrustEvaluation {
                        decision: TrustDecision::Uncertain,
                        principal_match: b.principal_match,
                        notes: vec![format!(
                            "statement {allow} lets you in, but Deny statement {label} applies when: {};                              this check cannot evaluate that, so only AWS can tell (at AssumeRole)",
                            conditions
                                .iter()
                                .map(TrustCondition::describe)
                                .collect::<Vec<_>>()
                                .join("; ")
                        )],
                        statement: Some(label),
                        conditions,
                    }
                }
                None => b,
            }
        }
        // No Allow names the caller, but a Deny still does: a trust statement added for the
        // caller would not beat it, so it is reported (its label and what avoids it).
        (None, None) => {
            let mut e = TrustEvaluation {
                decision: TrustDecision::NotTrusted,
                principal_match: None,
                statement: None,
                conditions: Vec::new(),
                notes: Vec::new(),
            };
            if let Some((label, c)) = deny_without_mfa.first() {
                e.statement = Some(label.clone());
                e.conditions.push(c.clone());
                e.notes.push(format!(
                    "no statement lets you in, and Deny statement {label} refuses sessions without \
                     MFA: a trust statement added for you works only with --mfa-serial and \
                     --token-code"
                ));
            }
            if let Some((label, conditions)) = uncertain {
                if e.statement.is_none() {
                    e.statement = Some(label.clone());
                }
                e.notes.push(format!(
                    "no statement lets you in, and Deny statement {label} may refuse you even \
                     after a trust statement is added, when: {}",
                    conditions
                        .iter()
                        .map(TrustCondition::describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            e
        }
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
/// The statements of `expected` that `actual` lacks (as JSON values), for a read-back after a
/// write: IAM has no compare-and-swap for trust policies, so a writer racing ours shows up only
/// there. Unparseable documents count every statement of `expected` as lost.
pub fn lost_statements(expected: &str, actual: &str) -> Vec<Value> {
    let parse = |t: &str| {
        serde_json::from_str::<Value>(t)
            .ok()
            .and_then(|d| statements_of(&d).ok())
    };
    let want = parse(expected).unwrap_or_default();
    let have = parse(actual).unwrap_or_default();
    want.into_iter().filter(|s| !have.contains(s)).collect()
}

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

    #[test]
    fn lost_statements_are_those_the_read_back_lacks() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow"},{"Sid":"B","Effect":"Allow"}]}"#;
        let b = r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow"}}"#;
        assert_eq!(
            lost_statements(a, b),
            vec![serde_json::json!({"Sid":"B","Effect":"Allow"})]
        );
        assert!(lost_statements(b, a).is_empty());
    }
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

    /// The issue's repro: a creator role that denies everyone outside role/ci/* was judged
    /// "already lets you assume it" (the negated condition was not evaluated).
    #[test]
    fn a_deny_with_a_negated_condition_is_evaluated() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Sid": "OnlyCi", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
             "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci/*"}}}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Denied, "{e:?}");
        assert_eq!(e.statement.as_deref(), Some("OnlyCi"));
        assert!(!e.lets_in());
        // A role session: aws:PrincipalArn is the role ARN with a path the session ARN does
        // not show: uncertain, naming the statement, never allowed.
        let e = evaluate(&p, &session());
        assert_eq!(e.decision, TrustDecision::Uncertain, "{e:?}");
        assert_eq!(e.statement.as_deref(), Some("OnlyCi"));
        assert!(!e.lets_in());
        assert!(e.notes[0].contains("Deny statement OnlyCi"), "{e:?}");
        // The same Deny does not apply to a user it exempts.
        let exempt = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:user/on*"]}}}
        ]));
        assert_eq!(evaluate(&exempt, &user()).decision, TrustDecision::Allowed);
    }

    #[test]
    fn negated_operators_on_known_keys() {
        for (op, key, value, denied) in [
            (
                "StringNotEquals",
                "aws:PrincipalAccount",
                "111122223333",
                false,
            ),
            (
                "StringNotEquals",
                "aws:PrincipalAccount",
                "999999999999",
                true,
            ),
            (
                "ArnNotEquals",
                "aws:PrincipalArn",
                "arn:aws:iam::111122223333:user/oncall",
                false,
            ),
            (
                "ArnNotEquals",
                "aws:PrincipalArn",
                "arn:aws:iam::111122223333:user/other",
                true,
            ),
            ("StringNotEqualsIgnoreCase", "aws:username", "ONCALL", false),
            ("StringNotLike", "aws:userid", "AIDA*", false),
            ("StringEquals", "aws:PrincipalType", "User", true),
            (
                "StringNotEqualsIfExists",
                "aws:PrincipalAccount",
                "111122223333",
                false,
            ),
        ] {
            let p = policy(json!([
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
                {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                 "Condition": {op: {key: value}}}
            ]));
            let e = evaluate(&p, &user());
            let want = if denied {
                TrustDecision::Denied
            } else {
                TrustDecision::Allowed
            };
            assert_eq!(e.decision, want, "{op} {key} {value}: {e:?}");
        }
    }

    #[test]
    fn a_deny_that_cannot_be_evaluated_is_uncertain_never_allowed() {
        let p = policy(json!([
            {"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/oncall"}, "Action": "sts:AssumeRole"},
            {"Sid": "Office", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Uncertain);
        assert_eq!(e.statement.as_deref(), Some("Office"));
        assert!(
            e.conditions[0]
                .describe()
                .contains("NotIpAddress aws:SourceIp")
        );
        assert!(e.notes[0].contains("statement Ops lets you in"), "{e:?}");
        // A Deny everyone-but-X (NotPrincipal) cannot be read either, unless it names the caller.
        let np = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Sid": "OnlyBob", "Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "sts:AssumeRole"}
        ]));
        assert_eq!(evaluate(&np, &user()).decision, TrustDecision::Uncertain);
        let np_me = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/oncall"}, "Action": "sts:AssumeRole"}
        ]));
        // Naming the user without its account may deny the whole account (IAM User Guide,
        // NotPrincipal): uncertain. Naming both exempts the caller.
        assert_eq!(evaluate(&np_me, &user()).decision, TrustDecision::Uncertain);
        let np_me_and_account = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:user/oncall", "arn:aws:iam::111122223333:root"]}, "Action": "sts:AssumeRole"}
        ]));
        assert_eq!(
            evaluate(&np_me_and_account, &user()).decision,
            TrustDecision::Allowed
        );
        // Without an Allow for the caller, a possible Deny changes nothing: not trusted.
        let none = policy(json!([
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
        ]));
        assert_eq!(evaluate(&none, &user()).decision, TrustDecision::NotTrusted);
    }

    /// A plain `Bool` on an absent key does not match: a long-term key escapes the Deny, a
    /// role session (the key present, false) does not.
    #[test]
    fn a_plain_bool_mfa_deny_spares_long_term_keys_only() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
            {"Sid": "NoMfa", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::Allowed, "{e:?}");
        assert!(
            e.notes.iter().any(|n| n.contains("GetSessionToken")),
            "{e:?}"
        );
        let e = evaluate(&p, &session());
        assert_eq!(e.decision, TrustDecision::AllowedWithConditions, "{e:?}");
        assert!(matches!(e.conditions[0], TrustCondition::Mfa { .. }));
    }

    /// No Allow for the caller, a Deny unless MFA: the Deny is still reported.
    #[test]
    fn a_deny_without_mfa_is_reported_when_nothing_allows() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Sid": "MfaOnly", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::NotTrusted, "{e:?}");
        assert_eq!(e.statement.as_deref(), Some("MfaOnly"));
        assert!(matches!(e.conditions[0], TrustCondition::Mfa { .. }));
    }

    #[test]
    fn a_deny_without_mfa_becomes_an_mfa_requirement() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
            {"Sid": "NoMfaNoEntry", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
        ]));
        let e = evaluate(&p, &user());
        assert_eq!(e.decision, TrustDecision::AllowedWithConditions, "{e:?}");
        assert!(matches!(e.conditions[0], TrustCondition::Mfa { .. }));
        assert!(e.notes.iter().any(|n| n.contains("NoMfaNoEntry")));
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
