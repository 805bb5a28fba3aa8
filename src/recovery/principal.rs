//! Is the creator still there, is it the *same* principal, and can the caller become it?
//!
//! EKS remembers the creator by its unique id (AIDA… / AROA…), not by its name: a user or role
//! deleted and recreated with the same ARN is a different principal to EKS's access entries and
//! will most likely not be let in. So "exists" is not enough; the id in the CreateCluster event
//! is compared with today's GetUser/GetRole answer. Then, for the principal that is there: a
//! role is only useful if its trust policy lets the caller in (see [`super::trust`]); a user is
//! useful through a temporary access key, which IAM refuses when it already has two; an
//! Identity Center role is reached by signing in to its permission set; root is root.
//!
//! This module is pure: it judges facts that the adapters fetched.

use super::trust::{Caller, TrustEvaluation};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What GetUser says about a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IamUserRecord {
    pub arn: String,
    pub user_id: String,
    pub name: String,
    pub path: String,
    pub created: Option<DateTime<Utc>>,
}

/// What GetRole says about a role (trust policy already URL-decoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IamRoleRecord {
    pub arn: String,
    pub role_id: String,
    pub name: String,
    pub path: String,
    pub created: Option<DateTime<Utc>>,
    pub trust_policy: Option<String>,
    pub max_session_duration: Option<i32>,
}

/// One access key of a user (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub created: Option<DateTime<Utc>>,
}

/// IAM allows at most this many access keys per user.
pub const MAX_ACCESS_KEYS: usize = 2;

/// The creator's state today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalState {
    /// Same name, same unique id: the principal EKS knows.
    Alive,
    /// Same unique id, another path (users can be moved; the id is what counts).
    PathChanged,
    /// Same name, another unique id: deleted and recreated. EKS most likely will not honour it.
    Recreated,
    /// No principal of that name any more.
    Deleted,
    /// It exists, but the id from creation time is unknown, so "same principal" is unproven.
    ExistsUnverified,
    /// The account root user: it always exists.
    Root,
    /// The check could not be made (access denied, or a principal kind IAM cannot look up).
    Unknown,
}

impl PrincipalState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalState::Alive => "alive",
            PrincipalState::PathChanged => "path_changed",
            PrincipalState::Recreated => "recreated",
            PrincipalState::Deleted => "deleted",
            PrincipalState::ExistsUnverified => "exists_unverified",
            PrincipalState::Root => "root",
            PrincipalState::Unknown => "unknown",
        }
    }
}

/// What a user offers for getting in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAccess {
    pub access_keys: usize,
    pub active_access_keys: usize,
    /// False when the user already has [`MAX_ACCESS_KEYS`] keys (IAM: `LimitExceeded`).
    pub can_add_access_key: bool,
    pub mfa_devices: Vec<String>,
}

/// What an Identity Center role offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsoAccess {
    pub permission_set: Option<String>,
    pub sso_region: Option<String>,
    /// How to sign in to it, step by step.
    pub sign_in: Vec<String>,
}

/// An IAM check that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeniedCheck {
    pub action: String,
    pub message: String,
}

/// The creator's status, as EKS and the caller would see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalStatus {
    pub state: PrincipalState,
    /// One sentence saying what the state means.
    pub summary: String,
    /// Today's ARN (may differ in path).
    pub current_arn: Option<String>,
    pub current_unique_id: Option<String>,
    /// The id recorded at creation time.
    pub expected_unique_id: Option<String>,
    pub current_created: Option<DateTime<Utc>>,
    /// The caller already is the creator (or a session of the creator role).
    pub caller_is_creator: bool,
    pub user: Option<UserAccess>,
    /// The trust policy evaluated for the caller.
    pub trust: Option<TrustEvaluation>,
    pub max_session_duration: Option<i32>,
    pub sso: Option<SsoAccess>,
    /// Checks refused by IAM (the status is partial).
    pub denied: Vec<DeniedCheck>,
}

impl PrincipalStatus {
    pub fn new(state: PrincipalState, summary: impl Into<String>) -> Self {
        PrincipalStatus {
            state,
            summary: summary.into(),
            current_arn: None,
            current_unique_id: None,
            expected_unique_id: None,
            current_created: None,
            caller_is_creator: false,
            user: None,
            trust: None,
            max_session_duration: None,
            sso: None,
            denied: Vec::new(),
        }
    }

    /// A status for a check IAM refused.
    pub fn denied(action: &str, message: &str, expected_id: Option<&str>) -> Self {
        let mut s = PrincipalStatus::new(
            PrincipalState::Unknown,
            format!("could not check the creator: access denied for {action}"),
        );
        s.expected_unique_id = expected_id.map(str::to_string);
        s.denied.push(DeniedCheck {
            action: action.to_string(),
            message: message.to_string(),
        });
        s
    }
}

/// Compares the principal at creation time with today's.
pub fn existence(
    expected_arn: &str,
    expected_id: Option<&str>,
    current_arn: &str,
    current_id: &str,
) -> PrincipalState {
    match expected_id {
        Some(id) if !id.is_empty() && id != current_id => PrincipalState::Recreated,
        Some(id) if !id.is_empty() => {
            if expected_arn.eq_ignore_ascii_case(current_arn) {
                PrincipalState::Alive
            } else {
                PrincipalState::PathChanged
            }
        }
        _ => PrincipalState::ExistsUnverified,
    }
}

fn existence_summary(kind: &str, state: PrincipalState, current_arn: &str) -> String {
    match state {
        PrincipalState::Alive => {
            format!("the {kind} exists and is the same principal (same unique id)")
        }
        PrincipalState::PathChanged => format!(
            "the {kind} exists with the same unique id but its path changed (now {current_arn}); \
             EKS matches the unique id, so it should still be let in"
        ),
        PrincipalState::Recreated => format!(
            "a {kind} of the same name exists but with another unique id: it was deleted and \
             recreated; EKS will most likely not honour it (access entries and the creator \
             binding use the unique id)"
        ),
        PrincipalState::ExistsUnverified => format!(
            "the {kind} exists, but its unique id at creation time is unknown, so it cannot be \
             proven to be the same principal"
        ),
        _ => format!("the {kind} state is {}", state.as_str()),
    }
}

/// Judges an IAM user (or the user behind a federated session).
pub fn judge_user(
    expected_arn: &str,
    expected_id: Option<&str>,
    current: Option<&IamUserRecord>,
    keys: Option<&[AccessKeyInfo]>,
    mfa_devices: Option<&[String]>,
    caller: Option<&Caller>,
) -> PrincipalStatus {
    let Some(u) = current else {
        let mut s = PrincipalStatus::new(
            PrincipalState::Deleted,
            "the user no longer exists; recreating it gives a new unique id that EKS will most \
             likely not honour",
        );
        s.expected_unique_id = expected_id.map(str::to_string);
        return s;
    };
    let state = existence(expected_arn, expected_id, &u.arn, &u.user_id);
    let mut s = PrincipalStatus::new(state, existence_summary("user", state, &u.arn));
    s.current_arn = Some(u.arn.clone());
    s.current_unique_id = Some(u.user_id.clone());
    s.expected_unique_id = expected_id.map(str::to_string);
    s.current_created = u.created;
    s.caller_is_creator = caller.is_some_and(|c| c.arn.eq_ignore_ascii_case(&u.arn));
    if let Some(keys) = keys {
        let active = keys.iter().filter(|k| k.status == "Active").count();
        s.user = Some(UserAccess {
            access_keys: keys.len(),
            active_access_keys: active,
            can_add_access_key: keys.len() < MAX_ACCESS_KEYS,
            mfa_devices: mfa_devices.map(<[String]>::to_vec).unwrap_or_default(),
        });
    } else if let Some(m) = mfa_devices {
        s.user = Some(UserAccess {
            access_keys: 0,
            active_access_keys: 0,
            can_add_access_key: false,
            mfa_devices: m.to_vec(),
        });
    }
    s
}

/// Judges an IAM role, and whether the caller may assume it.
pub fn judge_role(
    expected_arn: &str,
    expected_id: Option<&str>,
    current: Option<&IamRoleRecord>,
    caller: Option<&Caller>,
) -> PrincipalStatus {
    let Some(r) = current else {
        let mut s = PrincipalStatus::new(
            PrincipalState::Deleted,
            "the role no longer exists; recreating it gives a new unique id that EKS will most \
             likely not honour",
        );
        s.expected_unique_id = expected_id.map(str::to_string);
        return s;
    };
    let state = existence(expected_arn, expected_id, &r.arn, &r.role_id);
    let mut s = PrincipalStatus::new(state, existence_summary("role", state, &r.arn));
    s.current_arn = Some(r.arn.clone());
    s.current_unique_id = Some(r.role_id.clone());
    s.expected_unique_id = expected_id.map(str::to_string);
    s.current_created = r.created;
    s.max_session_duration = r.max_session_duration;
    if let Some(c) = caller {
        s.caller_is_creator = c
            .user_id
            .split(':')
            .next()
            .is_some_and(|id| id == r.role_id);
        s.trust = r
            .trust_policy
            .as_deref()
            .map(|p| super::trust::evaluate(p, c));
    }
    s
}

/// The sign-in steps for an Identity Center permission set.
pub fn sso_sign_in(
    permission_set: Option<&str>,
    sso_region: Option<&str>,
    account: Option<&str>,
) -> Vec<String> {
    let set = permission_set.unwrap_or("<permission set>");
    let account = account.unwrap_or("<account>");
    let region = sso_region.unwrap_or("<Identity Center region>");
    vec![
        format!(
            "sign in to the AWS access portal and choose account {account}, permission set {set} \
             (or ask an Identity Center admin to assign it to you)"
        ),
        format!(
            "for the CLI: `aws configure sso --profile eks-creator` with SSO region {region}, \
             account {account} and role {set}; then `aws sso login --profile eks-creator`"
        ),
        "then run eks-breakglass with `--profile eks-creator` (e.g. `eks-breakglass kubeconfig`)"
            .to_string(),
        "the AWSReservedSSO_* role cannot be recreated or have its trust policy edited by hand"
            .to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::trust::TrustDecision;

    const ARN: &str = "arn:aws:iam::111122223333:user/ops/alice";

    fn alice(id: &str, arn: &str) -> IamUserRecord {
        IamUserRecord {
            arn: arn.into(),
            user_id: id.into(),
            name: "alice".into(),
            path: "/ops/".into(),
            created: None,
        }
    }

    fn key(id: &str, status: &str) -> AccessKeyInfo {
        AccessKeyInfo {
            access_key_id: id.into(),
            status: status.into(),
            created: None,
        }
    }

    #[test]
    fn same_id_is_alive_other_id_is_recreated() {
        assert_eq!(
            existence(ARN, Some("AIDA1"), ARN, "AIDA1"),
            PrincipalState::Alive
        );
        assert_eq!(
            existence(ARN, Some("AIDA1"), ARN, "AIDA2"),
            PrincipalState::Recreated
        );
        assert_eq!(
            existence(
                ARN,
                Some("AIDA1"),
                "arn:aws:iam::111122223333:user/alice",
                "AIDA1"
            ),
            PrincipalState::PathChanged
        );
        assert_eq!(
            existence(ARN, None, ARN, "AIDA1"),
            PrincipalState::ExistsUnverified
        );
    }

    #[test]
    fn user_with_two_keys_cannot_get_a_third() {
        let u = alice("AIDA1", ARN);
        let keys = [key("AKIA1", "Active"), key("AKIA2", "Inactive")];
        let s = judge_user(
            ARN,
            Some("AIDA1"),
            Some(&u),
            Some(&keys),
            Some(&["arn:aws:iam::111122223333:mfa/alice".into()]),
            None,
        );
        assert_eq!(s.state, PrincipalState::Alive);
        let ua = s.user.unwrap();
        assert_eq!(
            (ua.access_keys, ua.active_access_keys, ua.can_add_access_key),
            (2, 1, false)
        );
        assert_eq!(ua.mfa_devices.len(), 1);
        let s = judge_user(ARN, Some("AIDA1"), Some(&u), Some(&keys[..1]), None, None);
        assert!(s.user.unwrap().can_add_access_key);
    }

    #[test]
    fn deleted_and_recreated_users_say_why_eks_refuses() {
        let s = judge_user(ARN, Some("AIDA1"), None, None, None, None);
        assert_eq!(s.state, PrincipalState::Deleted);
        let u = alice("AIDA9", ARN);
        let s = judge_user(ARN, Some("AIDA1"), Some(&u), Some(&[]), Some(&[]), None);
        assert_eq!(s.state, PrincipalState::Recreated);
        assert!(s.summary.contains("unique id"));
        assert_eq!(s.expected_unique_id.as_deref(), Some("AIDA1"));
        assert_eq!(s.current_unique_id.as_deref(), Some("AIDA9"));
    }

    #[test]
    fn role_trust_is_evaluated_for_the_caller() {
        let arn = "arn:aws:iam::111122223333:role/platform/eks-admin";
        let r = IamRoleRecord {
            arn: arn.into(),
            role_id: "AROA1".into(),
            name: "eks-admin".into(),
            path: "/platform/".into(),
            created: None,
            trust_policy: Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#.into()),
            max_session_duration: Some(3600),
        };
        let caller = Caller {
            arn: "arn:aws:iam::111122223333:user/oncall".into(),
            account: "111122223333".into(),
            user_id: "AIDAONCALL".into(),
        };
        let s = judge_role(arn, Some("AROA1"), Some(&r), Some(&caller));
        assert_eq!(s.state, PrincipalState::Alive);
        assert!(!s.caller_is_creator);
        assert_eq!(
            s.trust.unwrap().decision,
            TrustDecision::AllowedWithConditions
        );
        let me = Caller {
            arn: "arn:aws:sts::111122223333:assumed-role/eks-admin/x".into(),
            account: "111122223333".into(),
            user_id: "AROA1:x".into(),
        };
        assert!(judge_role(arn, Some("AROA1"), Some(&r), Some(&me)).caller_is_creator);
        assert_eq!(
            judge_role(arn, Some("AROA1"), None, Some(&me)).state,
            PrincipalState::Deleted
        );
    }

    #[test]
    fn sso_steps_name_the_permission_set() {
        let steps = sso_sign_in(
            Some("AdministratorAccess"),
            Some("eu-west-1"),
            Some("111122223333"),
        );
        assert!(steps[0].contains("AdministratorAccess"));
        assert!(steps[1].contains("eu-west-1"));
    }
}
