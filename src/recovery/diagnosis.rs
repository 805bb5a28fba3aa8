//! Diagnosis: given what triage found, which ways back into the cluster exist, best first.
//!
//! In an incident the engineer should not have to know EKS's authentication internals to pick
//! a way in. The facts decide: an authentication mode that honours access entries makes the
//! access-entry route the fastest (no creator needed, and AWS's own recommendation); on a
//! CONFIG_MAP cluster it costs a one-way mode switch, so a live creator (a temporary key, an
//! AssumeRole) comes first; a deleted or recreated creator is only a best effort, because EKS
//! binds the creator to its unique id. [`rank_paths`] turns those facts into an ordered list of
//! [`RecoveryPath`]s, each with the reason, what it needs (IAM actions, flags), and the command
//! that takes it. `diagnose` prints the list; `recover` takes the first one it can automate.
//!
//! Pure: no AWS, no printing.

use super::event::CreatorKind;
use super::principal::PrincipalState;
use crate::cluster::AuthMode;
use serde::Serialize;

/// Whether the caller got into the cluster, as the API server answered a SelfSubjectReview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CallerAccess {
    /// The API server let the caller in.
    Authenticated {
        username: String,
        groups: Vec<String>,
        /// Reading kube-system/aws-auth worked (enough rights to repair it).
        can_read_aws_auth: bool,
    },
    /// 401: the caller is locked out (the incident's symptom).
    Unauthorized,
    /// The API server could not be reached or asked (private endpoint, network, TLS).
    Unknown { reason: String },
}

/// What the creator search concluded, reduced to what ranking needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatorFacts {
    pub arn: String,
    pub kind: CreatorKind,
    /// `None` when IAM could not be asked.
    pub state: Option<PrincipalState>,
    pub caller_is_creator: bool,
    /// For a role: the trust policy already lets the caller assume it.
    pub caller_may_assume: bool,
    /// For a user: it already has the most access keys IAM allows.
    pub key_limit_reached: bool,
    /// For a role: a Deny of its trust policy may apply to the caller under a condition that
    /// cannot be evaluated (the statement's label).
    pub trust_uncertain: Option<String>,
    /// API / API_AND_CONFIG_MAP clusters: whether the creator's access entry (its admin
    /// there) still exists; `None` when not applicable or not known.
    pub access_entry: Option<bool>,
}

impl CreatorFacts {
    /// The facts of a creator report (`None` when no creator was found).
    pub fn from_report(r: &super::creator::CreatorReport) -> Option<CreatorFacts> {
        let c = r.creator.as_ref()?;
        let st = r.status.as_ref();
        Some(CreatorFacts {
            arn: c.arn.clone(),
            kind: c.kind,
            state: st
                .map(|s| s.state)
                .filter(|s| *s != PrincipalState::Unknown),
            caller_is_creator: st.is_some_and(|s| s.caller_is_creator),
            caller_may_assume: st.and_then(|s| s.trust.as_ref()).is_some_and(|t| {
                matches!(
                    t.decision,
                    super::trust::TrustDecision::Allowed
                        | super::trust::TrustDecision::AllowedWithConditions
                )
            }),
            key_limit_reached: st
                .and_then(|s| s.user.as_ref())
                .is_some_and(|u| !u.can_add_access_key),
            trust_uncertain: st
                .and_then(|s| s.trust.as_ref())
                .filter(|t| t.decision == super::trust::TrustDecision::Uncertain)
                .map(|t| t.statement.clone().unwrap_or_else(|| "?".into())),
            access_entry: r.creator_entry.as_ref().and_then(|e| e.exists),
        })
    }
}

/// The facts ranking works from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Situation {
    pub cluster: String,
    pub auth_mode: AuthMode,
    /// `Some(false)`: the creator has no implicit admin.
    pub bootstrap_creator_admin: Option<bool>,
    pub caller: CallerAccess,
    /// The caller can have an access entry (an IAM user or role, not root or a federated user).
    pub caller_can_have_entry: bool,
    /// `None`: the creator could not be found.
    pub creator: Option<CreatorFacts>,
    /// Only a private endpoint exists and this machine could not reach it.
    pub endpoint_unreachable: bool,
}

/// The kinds of ways in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// The caller is already in: repair aws-auth directly.
    AlreadyIn,
    /// An EKS access entry for the caller (`grant`).
    AccessEntry,
    /// Become the creator as it is today (AssumeRole, trust statement, temporary key).
    BecomeCreator,
    /// Recreate a deleted creator with the same path and name (best effort).
    RecreateCreator,
    /// Nothing the tool can do by itself: sign in elsewhere, ask someone.
    Manual,
}

impl PathKind {
    /// The `--via` value of `recover` that selects it.
    pub fn via(self) -> Option<&'static str> {
        match self {
            PathKind::AlreadyIn => Some("direct"),
            PathKind::AccessEntry => Some("access-entry"),
            PathKind::BecomeCreator | PathKind::RecreateCreator => Some("creator"),
            PathKind::Manual => None,
        }
    }
}

/// One way back in, with why it ranks where it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryPath {
    pub kind: PathKind,
    /// Higher is better; the list is sorted by it.
    pub score: u32,
    /// One line: what the path is.
    pub title: String,
    /// Why it ranks here: speed, what it depends on, its risks.
    pub reason: String,
    /// IAM actions and flags it needs.
    pub needs: Vec<String>,
    /// The flag `recover` needs on top of confirmation to take it.
    pub consent: Option<String>,
    /// `recover` can take it by itself (possibly with `consent`).
    pub automatic: bool,
    /// The command that takes it.
    pub command: String,
}

/// The flag that allows the one-way authentication-mode switch.
pub const MODE_CONSENT: &str = super::getin::AUTH_MODE_CONSENT;

/// All ways in for `s`, best first. Paths that cannot work at all are left out; a `Manual`
/// path is always last so that the list is never empty.
pub fn rank_paths(s: &Situation) -> Vec<RecoveryPath> {
    let c = &s.cluster;
    let mut v = Vec::new();
    if let CallerAccess::Authenticated {
        username,
        groups,
        can_read_aws_auth,
    } = &s.caller
    {
        let admin = groups.iter().any(|g| g == "system:masters");
        v.push(RecoveryPath {
            kind: PathKind::AlreadyIn,
            score: if *can_read_aws_auth || admin { 100 } else { 40 },
            title: format!("you are already in (as {username}): repair aws-auth directly"),
            reason: if *can_read_aws_auth || admin {
                "no IAM or EKS change needed: restore aws-auth with your own identity".into()
            } else {
                "you authenticate but cannot read kube-system/aws-auth: your RBAC rights are too narrow to repair it".into()
            },
            needs: vec!["RBAC: get/update configmaps in kube-system".into()],
            consent: None,
            automatic: *can_read_aws_auth || admin,
            command: format!("eks-breakglass recover --cluster {c} --via direct"),
        });
    }
    if s.caller_can_have_entry {
        v.push(access_entry_path(s));
    }
    if let Some(p) = creator_path(s) {
        v.push(p);
    }
    v.sort_by_key(|p| std::cmp::Reverse(p.score));
    v.push(RecoveryPath {
        kind: PathKind::Manual,
        score: 0,
        title: "ask for help: someone who can still get in, or AWS Support".into(),
        reason: "when no path above works: a colleague mapped elsewhere, the creator's owner, or an AWS Support case for the cluster".into(),
        needs: vec![],
        consent: None,
        automatic: false,
        command: format!("eks-breakglass creator --cluster {c}"),
    });
    if s.endpoint_unreachable {
        for p in &mut v {
            p.needs.push(
                "network access to the private API endpoint (--api-server through a tunnel or bastion)"
                    .into(),
            );
        }
    }
    v
}

fn access_entry_path(s: &Situation) -> RecoveryPath {
    let c = &s.cluster;
    let mut needs = vec![
        "eks:CreateAccessEntry".to_string(),
        "eks:AssociateAccessPolicy".to_string(),
    ];
    match s.auth_mode {
        AuthMode::ConfigMap => {
            needs.insert(0, "eks:UpdateClusterConfig".into());
            needs.push(MODE_CONSENT.into());
            RecoveryPath {
                kind: PathKind::AccessEntry,
                score: 70,
                title: "access entry for you, after switching the cluster to API_AND_CONFIG_MAP".into(),
                reason: "no creator needed, but the authentication-mode switch is ONE-WAY (aws-auth keeps working beside access entries) and takes a few minutes".into(),
                needs,
                consent: Some(MODE_CONSENT.into()),
                automatic: true,
                command: format!("eks-breakglass recover --cluster {c} --via access-entry {MODE_CONSENT}"),
            }
        }
        AuthMode::ApiAndConfigMap | AuthMode::Api => RecoveryPath {
            kind: PathKind::AccessEntry,
            score: 90,
            title: "access entry for you (AmazonEKSClusterAdminPolicy)".into(),
            reason: format!(
                "fastest: no creator needed and no change to IAM; the cluster is in {} mode, which honours access entries",
                s.auth_mode.as_str()
            ),
            needs,
            consent: None,
            automatic: true,
            command: format!("eks-breakglass recover --cluster {c} --via access-entry"),
        },
    }
}

fn creator_path(s: &Situation) -> Option<RecoveryPath> {
    let c = &s.cluster;
    let cr = s.creator.as_ref()?;
    let via = format!("eks-breakglass recover --cluster {c} --via creator");
    if s.bootstrap_creator_admin == Some(false) {
        return Some(RecoveryPath {
            kind: PathKind::Manual,
            score: 5,
            title: format!("the creator {} has no implicit access", cr.arn),
            reason: "the cluster was created with bootstrapClusterCreatorAdminPermissions=false: becoming the creator does not help".into(),
            needs: vec![],
            consent: None,
            automatic: false,
            command: format!("eks-breakglass creator --cluster {c}"),
        });
    }
    if s.auth_mode.allows_access_entries() && cr.access_entry == Some(false) {
        return Some(RecoveryPath {
            kind: PathKind::Manual,
            score: 5,
            title: format!("the creator {} has no access entry any more", cr.arn),
            reason: format!(
                "in {} mode the creator's admin is its access entry, and it was deleted: becoming the creator does not help",
                s.auth_mode.as_str()
            ),
            needs: vec![],
            consent: None,
            automatic: false,
            command: format!("eks-breakglass creator --cluster {c}"),
        });
    }
    match cr.kind {
        CreatorKind::Root => {
            return Some(manual(
                c,
                "the creator is the account root user",
                "nobody can become root through IAM: sign in as root (with its MFA), or take the access-entry path",
                15,
            ));
        }
        CreatorKind::IdentityCenterRole => {
            return Some(manual(
                c,
                &format!(
                    "sign in to the creator's IAM Identity Center permission set ({})",
                    cr.arn
                ),
                "SSO roles are reached by signing in to their permission set (aws sso login), never by editing them; then re-run as that role",
                60,
            ));
        }
        CreatorKind::FederatedUser => {
            return Some(manual(
                c,
                &format!(
                    "the creator is a federated user (GetFederationToken) of {}",
                    cr.arn
                ),
                "EKS knows the creator as the federated identity, not the IAM user behind it: a key for that user would not get the creator's access; the access-entry path is the way in",
                10,
            ));
        }
        CreatorKind::Other => return None,
        _ => {}
    }
    let is_role = cr.arn.contains(":role/");
    if cr.caller_is_creator {
        return Some(RecoveryPath {
            kind: PathKind::BecomeCreator,
            score: 95,
            title: format!("you are the creator ({})", cr.arn),
            reason: if s.auth_mode.allows_access_entries() {
                "the creator's access entry lets it in; nothing to change to get in".into()
            } else {
                "the creator keeps implicit system:masters; nothing to change to get in".into()
            },
            needs: vec![],
            consent: None,
            automatic: true,
            command: via,
        });
    }
    let (title, reason, needs, score, kind) = match cr.state {
        Some(PrincipalState::Alive | PrincipalState::PathChanged | PrincipalState::ExistsUnverified) if is_role => {
            if let Some(stmt) = &cr.trust_uncertain {
                (
                    format!("become the creator: try assuming role {} (its trust policy may deny you)", cr.arn),
                    format!("Deny statement {stmt} of its trust policy may apply to you under a condition this tool cannot evaluate: only AssumeRole can tell; no change to IAM (an added Allow would not beat a Deny)"),
                    vec!["sts:AssumeRole".to_string()],
                    50,
                    PathKind::BecomeCreator,
                )
            } else if cr.caller_may_assume {
                (
                    format!("become the creator: assume role {}", cr.arn),
                    "the creator role is alive and its trust policy already lets you assume it: no change to IAM".to_string(),
                    vec!["sts:AssumeRole".to_string()],
                    85,
                    PathKind::BecomeCreator,
                )
            } else {
                (
                    format!("become the creator: add one trust statement to role {}, then assume it", cr.arn),
                    "the creator role is alive but does not trust you: one statement for your principal (your IAM user; for a session, its role — then everyone who can assume that role), restored byte for byte afterwards".to_string(),
                    vec!["iam:GetRole".into(), "iam:UpdateAssumeRolePolicy".into(), "sts:AssumeRole".into()],
                    75,
                    PathKind::BecomeCreator,
                )
            }
        }
        Some(PrincipalState::Alive | PrincipalState::PathChanged | PrincipalState::ExistsUnverified) => {
            if cr.key_limit_reached {
                return Some(manual(
                    c,
                    &format!("the creator user {} already has 2 access keys", cr.arn),
                    "IAM allows 2 keys per user: deactivate one after checking its last use, then re-run",
                    10,
                ));
            }
            (
                format!("become the creator: temporary access key for IAM user {}", cr.arn),
                "the creator user is alive and keeps implicit system:masters; the key is deleted when the run ends".to_string(),
                vec!["iam:ListAccessKeys".into(), "iam:CreateAccessKey".into(), "iam:DeleteAccessKey".into()],
                80,
                PathKind::BecomeCreator,
            )
        }
        Some(PrincipalState::Recreated) => (
            format!("creator recreated (same ARN, new unique id): try it anyway, best effort ({})", cr.arn),
            "EKS binds the creator to the old unique id: most likely refused (only clusters that match the creator by ARN let it in); verified by logging in".to_string(),
            if is_role {
                vec!["iam:UpdateAssumeRolePolicy".into(), "sts:AssumeRole".into()]
            } else {
                vec!["iam:CreateAccessKey".into()]
            },
            20,
            PathKind::RecreateCreator,
        ),
        Some(PrincipalState::Deleted) => (
            format!("creator deleted: recreate {} (best effort)", cr.arn),
            "a recreated principal gets a new unique id and EKS most likely refuses it; it is undone by cleanup".to_string(),
            if is_role {
                vec!["iam:CreateRole".into(), "iam:PutRolePolicy".into(), "sts:AssumeRole".into()]
            } else {
                vec!["iam:CreateUser".into(), "iam:CreateAccessKey".into()]
            },
            15,
            PathKind::RecreateCreator,
        ),
        _ => {
            return Some(manual(
                c,
                &format!("the creator {} could not be checked", cr.arn),
                "IAM did not say whether it exists: run `eks-breakglass creator` for the missing permissions",
                10,
            ));
        }
    };
    Some(RecoveryPath {
        kind,
        score,
        title,
        reason,
        needs,
        consent: None,
        automatic: true,
        command: via,
    })
}

fn manual(cluster: &str, title: &str, reason: &str, score: u32) -> RecoveryPath {
    RecoveryPath {
        kind: PathKind::Manual,
        score,
        title: title.to_string(),
        reason: reason.to_string(),
        needs: vec![],
        consent: None,
        automatic: false,
        command: format!("eks-breakglass creator --cluster {cluster}"),
    }
}

/// The path `recover` takes: the first automatic one (or the first of the kind `via` names).
/// `Err` carries why none fits.
pub fn choose<'a>(
    paths: &'a [RecoveryPath],
    via: Option<&str>,
) -> Result<&'a RecoveryPath, String> {
    let mut candidates = paths.iter().filter(|p| p.automatic);
    let found = match via {
        Some(v) => candidates.find(|p| p.kind.via() == Some(v)),
        None => candidates.next(),
    };
    found.ok_or_else(|| match via {
        Some(v) => format!("the path --via {v} is not available for this cluster"),
        None => "no path can be taken automatically".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn situation(mode: AuthMode, creator: Option<CreatorFacts>) -> Situation {
        Situation {
            cluster: "prod".into(),
            auth_mode: mode,
            bootstrap_creator_admin: Some(true),
            caller: CallerAccess::Unauthorized,
            caller_can_have_entry: true,
            creator,
            endpoint_unreachable: false,
        }
    }

    fn creator(arn: &str, state: PrincipalState) -> CreatorFacts {
        CreatorFacts {
            arn: arn.into(),
            kind: if arn.contains(":role/") {
                CreatorKind::AssumedRole
            } else {
                CreatorKind::IamUser
            },
            state: Some(state),
            caller_is_creator: false,
            caller_may_assume: false,
            key_limit_reached: false,
            trust_uncertain: None,
            access_entry: None,
        }
    }

    const USER: &str = "arn:aws:iam::123456789012:user/admins/platform-admin";
    const ROLE: &str = "arn:aws:iam::123456789012:role/ci/terraform-deployer";

    fn kinds(p: &[RecoveryPath]) -> Vec<PathKind> {
        p.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn config_map_with_live_creator_prefers_the_creator_over_a_one_way_switch() {
        let s = situation(
            AuthMode::ConfigMap,
            Some(creator(USER, PrincipalState::Alive)),
        );
        let p = rank_paths(&s);
        assert_eq!(
            kinds(&p),
            vec![
                PathKind::BecomeCreator,
                PathKind::AccessEntry,
                PathKind::Manual
            ]
        );
        assert!(
            p[0].title.contains("temporary access key"),
            "{}",
            p[0].title
        );
        assert!(p[0].needs.contains(&"iam:CreateAccessKey".to_string()));
        assert_eq!(p[1].consent.as_deref(), Some(MODE_CONSENT));
        assert!(p[1].reason.contains("ONE-WAY"));
        assert_eq!(choose(&p, None).unwrap().kind, PathKind::BecomeCreator);
        assert_eq!(
            choose(&p, Some("access-entry")).unwrap().kind,
            PathKind::AccessEntry
        );
    }

    #[test]
    fn access_entries_come_first_when_the_mode_allows_them() {
        let s = situation(
            AuthMode::ApiAndConfigMap,
            Some(creator(USER, PrincipalState::Alive)),
        );
        let p = rank_paths(&s);
        assert_eq!(p[0].kind, PathKind::AccessEntry);
        assert!(p[0].reason.contains("fastest"));
        assert!(p[0].needs.contains(&"eks:CreateAccessEntry".to_string()));
        assert!(p[0].consent.is_none());
        assert_eq!(p[1].kind, PathKind::BecomeCreator);
    }

    #[test]
    fn a_deleted_creator_entry_rules_the_creator_out_outside_config_map() {
        for mode in [AuthMode::ApiAndConfigMap, AuthMode::Api] {
            let mut cr = creator(USER, PrincipalState::Alive);
            cr.access_entry = Some(false);
            let p = rank_paths(&situation(mode, Some(cr)));
            assert_eq!(
                kinds(&p),
                vec![PathKind::AccessEntry, PathKind::Manual, PathKind::Manual]
            );
            assert!(
                p[1].title.contains("no access entry any more"),
                "{}",
                p[1].title
            );
            // With its entry, the creator is a way in, in API mode too.
            let mut cr = creator(USER, PrincipalState::Alive);
            cr.access_entry = Some(true);
            let p = rank_paths(&situation(mode, Some(cr)));
            assert_eq!(p[1].kind, PathKind::BecomeCreator, "{mode:?}");
        }
    }

    #[test]
    fn an_uncertain_trust_is_tried_not_patched() {
        let mut cr = creator(ROLE, PrincipalState::Alive);
        cr.trust_uncertain = Some("OnlyCi".into());
        let p = rank_paths(&situation(AuthMode::ConfigMap, Some(cr)));
        let become_creator = p
            .iter()
            .find(|p| p.kind == PathKind::BecomeCreator)
            .expect("a creator path");
        assert!(
            become_creator.title.contains("try assuming"),
            "{}",
            become_creator.title
        );
        assert!(become_creator.reason.contains("OnlyCi"));
        assert_eq!(become_creator.needs, vec!["sts:AssumeRole".to_string()]);
    }

    #[test]
    fn deleted_or_recreated_creator_is_only_best_effort() {
        for state in [PrincipalState::Deleted, PrincipalState::Recreated] {
            let s = situation(AuthMode::ConfigMap, Some(creator(ROLE, state)));
            let p = rank_paths(&s);
            assert_eq!(
                kinds(&p),
                vec![
                    PathKind::AccessEntry,
                    PathKind::RecreateCreator,
                    PathKind::Manual
                ],
                "{state:?}"
            );
            assert!(p[1].reason.contains("unique id"));
            // recover takes the access entry, which needs the consent flag
            assert_eq!(
                choose(&p, None).unwrap().consent.as_deref(),
                Some(MODE_CONSENT)
            );
        }
    }

    #[test]
    fn already_in_comes_first_and_roles_route_by_trust() {
        let mut s = situation(
            AuthMode::ConfigMap,
            Some(creator(ROLE, PrincipalState::Alive)),
        );
        s.caller = CallerAccess::Authenticated {
            username: "oncall".into(),
            groups: vec!["system:masters".into()],
            can_read_aws_auth: true,
        };
        let p = rank_paths(&s);
        assert_eq!(p[0].kind, PathKind::AlreadyIn);
        assert!(p[1].title.contains("trust statement"), "{}", p[1].title);
        let mut cr = creator(ROLE, PrincipalState::Alive);
        cr.caller_may_assume = true;
        s.creator = Some(cr);
        let p = rank_paths(&s);
        assert!(p[1].title.contains("assume role"));
        assert_eq!(p[1].needs, vec!["sts:AssumeRole".to_string()]);
    }

    #[test]
    fn no_creator_admin_sso_root_and_unreachable_endpoints() {
        let mut s = situation(
            AuthMode::ConfigMap,
            Some(creator(USER, PrincipalState::Alive)),
        );
        s.bootstrap_creator_admin = Some(false);
        let p = rank_paths(&s);
        assert_eq!(p[0].kind, PathKind::AccessEntry);
        assert!(p.iter().any(|x| x.title.contains("no implicit access")));

        let mut sso = creator(
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
            PrincipalState::Alive,
        );
        sso.kind = CreatorKind::IdentityCenterRole;
        let mut s = situation(AuthMode::ConfigMap, Some(sso));
        s.caller_can_have_entry = false;
        s.endpoint_unreachable = true;
        let p = rank_paths(&s);
        assert_eq!(p[0].kind, PathKind::Manual);
        assert!(p[0].title.contains("permission set"));
        assert!(choose(&p, None).is_err());
        assert!(
            p.iter()
                .all(|x| x.needs.iter().any(|n| n.contains("--api-server")))
        );

        let s = situation(AuthMode::ConfigMap, None);
        let p = rank_paths(&s);
        assert_eq!(kinds(&p), vec![PathKind::AccessEntry, PathKind::Manual]);
    }
}
