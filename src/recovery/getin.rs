//! Getting in: which way to become the creator, and the plans for it and for an access entry.
//!
//! Once the creator is known, the fastest safe way in depends on what it is today: a role the
//! caller may already assume needs no change at all; a role that does not trust the caller
//! needs one trust statement (reversed byte for byte afterwards); a live user needs a temporary
//! access key; a deleted principal can be recreated with the same path and name — but EKS binds
//! the creator to its unique id, so a recreated principal is most likely refused, and the plan
//! says so and points to `grant`. Root and IAM Identity Center roles cannot be reached by a
//! mutation at all: instructions only. The access-entry route (`grant`) bypasses aws-auth and
//! the creator entirely, at the price of a one-way authentication-mode switch on CONFIG_MAP
//! clusters, which needs explicit consent.
//!
//! Everything here is pure: facts in, a [`Route`] or a [`Plan`] out.

use super::creator::Creator;
use super::event::CreatorKind;
use super::plan::{Action, Plan, SavedState, Undo};
use super::principal::{MAX_ACCESS_KEYS, PrincipalState, PrincipalStatus};
use super::trust::{TrustCondition, TrustDecision};
use crate::cluster::AuthMode;
use serde::Serialize;
use serde_json::{Value, json};

/// The flag a one-way authentication-mode switch needs on top of confirmation.
pub const AUTH_MODE_CONSENT: &str = "--allow-auth-mode-change";
/// The inline policy a recreated role gets.
pub const RECREATED_ROLE_POLICY: &str = "eks-breakglass-describe-cluster";

/// How to become the creator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "route", rename_all = "snake_case")]
pub enum Route {
    /// The caller already is the creator (or a session of its role): nothing to do but verify.
    AlreadyCreator,
    /// The role trusts the caller: AssumeRole, no change.
    AssumeRole {
        role_arn: String,
        /// Conditions the caller faces (MFA, external id…), as sentences.
        conditions: Vec<String>,
        mfa_required: bool,
    },
    /// The role exists but does not trust the caller: add one trust statement, then AssumeRole.
    PatchTrust {
        role_name: String,
        role_arn: String,
        original: String,
    },
    /// The user exists: a temporary access key.
    TemporaryKey {
        user_name: String,
        keys_before: Vec<String>,
    },
    /// The user already has the maximum number of keys: stop and explain.
    KeyLimit {
        user_name: String,
        keys: Vec<String>,
    },
    /// The user was deleted: recreate it (same path and name) with an access key.
    RecreateUser { user_name: String, path: String },
    /// The role was deleted: recreate it (same path and name) trusting the operator only.
    RecreateRole {
        role_name: String,
        path: String,
        role_arn: String,
    },
    /// No mutation can help (root, IAM Identity Center, an explicit Deny, unknown state).
    Instructions { why: String, steps: Vec<String> },
}

/// When the caller is a session of a role, access entries and trust statements name the role
/// (EKS refuses session ARNs in access entries): everyone who can assume the role gets what
/// `what` grants. Said plainly, with the narrower way when one exists.
pub fn session_scope_note(
    caller_arn: &str,
    principal_arn: &str,
    what: &str,
    cluster: &str,
) -> Option<String> {
    if !caller_arn.contains(":assumed-role/") || !principal_arn.contains(":role/") {
        return None;
    }
    Some(format!(
        "you are a session of the role {principal_arn} ({caller_arn}): {what} names the role, not your session, so EVERYONE who can assume {principal_arn} gets this access while it stays. \
         If an IAM principal only you use exists, prefer it: run with its credentials (--profile), or grant it alone with `eks-breakglass grant --cluster {cluster} --principal ARN`"
    ))
}

/// What the command layer knows besides the creator report.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub creator: &'a Creator,
    pub status: Option<&'a PrincipalStatus>,
    /// The role's trust policy exactly as IAM returned it (URL-decoded), for a patch.
    pub trust_document: Option<&'a str>,
    /// The user's access key ids today.
    pub access_keys: Option<&'a [String]>,
}

/// Chooses the route from the creator report.
pub fn choose_route(f: &Facts<'_>) -> Route {
    let c = f.creator;
    let name = c.name.clone().unwrap_or_default();
    let path = c.path.clone().unwrap_or_else(|| "/".into());
    match c.kind {
        CreatorKind::Root => {
            return Route::Instructions {
                why: "the creator is the account root user; no IAM change can make you root".into(),
                steps: vec![
                    "sign in as the root user (console, with its MFA) and run eks-breakglass with root credentials only if your policy allows it".into(),
                    "better: from any admin identity, run `eks-breakglass grant --cluster CLUSTER` (access entry) if the cluster allows it".into(),
                ],
            };
        }
        CreatorKind::IdentityCenterRole => {
            let steps = f
                .status
                .and_then(|s| s.sso.as_ref())
                .map(|s| s.sign_in.clone())
                .unwrap_or_else(|| {
                    super::principal::sso_sign_in(
                        c.permission_set.as_deref(),
                        c.sso_region.as_deref(),
                        c.account.as_deref(),
                    )
                });
            return Route::Instructions {
                why: "the creator is an IAM Identity Center role: it is reached by signing in to its permission set, never by editing it".into(),
                steps,
            };
        }
        CreatorKind::FederatedUser => {
            // EKS knows the creator as the federated identity; a key for the IAM user that
            // called GetFederationToken signs in as that user, another principal.
            return Route::Instructions {
                why: format!(
                    "the creator is the federated user {} (GetFederationToken of {}): a temporary key for {} would sign in as that user, not as the creator",
                    c.session_arn.as_deref().unwrap_or("(federated user)"),
                    c.arn,
                    c.arn
                ),
                steps: vec![
                    "use `eks-breakglass grant --cluster CLUSTER` (access entry) from an admin identity".into(),
                    format!(
                        "by hand: federated-user credentials with the same name (`aws sts get-federation-token --name {}`) carry the same ARN and user id",
                        c.session_name.as_deref().unwrap_or("NAME")
                    ),
                ],
            };
        }
        CreatorKind::Other => {
            return Route::Instructions {
                why: format!(
                    "the creator {} is not an IAM user or role this tool can become",
                    c.arn
                ),
                steps: vec![
                    "use `eks-breakglass grant --cluster CLUSTER` from an admin identity".into(),
                ],
            };
        }
        _ => {}
    }
    let is_role = c.arn.contains(":role/");
    let Some(status) = f.status else {
        return unknown_state(c, "the creator's status could not be checked");
    };
    if status.caller_is_creator {
        return Route::AlreadyCreator;
    }
    match status.state {
        PrincipalState::Deleted => {
            if is_role {
                Route::RecreateRole {
                    role_name: name,
                    path,
                    role_arn: c.arn.clone(),
                }
            } else {
                Route::RecreateUser {
                    user_name: name,
                    path,
                }
            }
        }
        PrincipalState::Alive
        | PrincipalState::PathChanged
        | PrincipalState::Recreated
        | PrincipalState::ExistsUnverified => {
            let current_arn = status.current_arn.clone().unwrap_or_else(|| c.arn.clone());
            if is_role {
                role_route(&name, &current_arn, status, f.trust_document)
            } else {
                // Without today's key ids a crash could not be cleaned up safely (the undo
                // tells this run's key from the others by them): no key without the list.
                let Some(keys) = f.access_keys.map(<[String]>::to_vec) else {
                    return Route::Instructions {
                        why: format!(
                            "the access keys of user {name} could not be listed (iam:ListAccessKeys); without them a temporary key could not be cleaned up safely"
                        ),
                        steps: vec![
                            "allow iam:ListAccessKeys on the user and re-run".into(),
                            "or use `eks-breakglass grant --cluster CLUSTER`".into(),
                        ],
                    };
                };
                if keys.len() >= MAX_ACCESS_KEYS {
                    Route::KeyLimit {
                        user_name: name,
                        keys,
                    }
                } else {
                    Route::TemporaryKey {
                        user_name: name,
                        keys_before: keys,
                    }
                }
            }
        }
        _ => {
            let why = if status.denied.is_empty() {
                status.summary.clone()
            } else {
                format!(
                    "IAM refused the checks: {}",
                    status
                        .denied
                        .iter()
                        .map(|d| d.action.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            unknown_state(c, &why)
        }
    }
}

fn unknown_state(c: &Creator, why: &str) -> Route {
    Route::Instructions {
        why: format!("{why}; cannot choose a way to become {}", c.arn),
        steps: vec![
            "run `eks-breakglass creator --cluster CLUSTER` to see what is missing".into(),
            "or use `eks-breakglass grant --cluster CLUSTER` (access entry) from an admin identity"
                .into(),
        ],
    }
}

fn role_route(
    name: &str,
    arn: &str,
    status: &PrincipalStatus,
    trust_document: Option<&str>,
) -> Route {
    let trust = status.trust.as_ref();
    match trust.map(|t| t.decision) {
        Some(TrustDecision::Allowed) | Some(TrustDecision::AllowedWithConditions) => {
            let conditions = trust.map(|t| t.conditions.clone()).unwrap_or_default();
            Route::AssumeRole {
                role_arn: arn.to_string(),
                mfa_required: conditions
                    .iter()
                    .any(|c| matches!(c, TrustCondition::Mfa { .. })),
                conditions: conditions.iter().map(TrustCondition::describe).collect(),
            }
        }
        // A Deny that may apply: try AssumeRole as is (AWS decides; nothing is changed), never
        // patch the trust policy (an added Allow does not beat a Deny).
        Some(TrustDecision::Uncertain) => Route::AssumeRole {
            role_arn: arn.to_string(),
            mfa_required: false,
            conditions: trust
                .map(|t| {
                    t.notes
                        .iter()
                        .cloned()
                        .chain(t.conditions.iter().map(TrustCondition::describe))
                        .collect()
                })
                .unwrap_or_default(),
        },
        Some(TrustDecision::Denied) => Route::Instructions {
            why: format!("the trust policy of {arn} explicitly denies you; an added Allow would not help"),
            steps: vec![
                "ask the role's owner to remove the Deny, or use `eks-breakglass grant --cluster CLUSTER`".into(),
            ],
        },
        _ => match trust_document {
            Some(doc) => Route::PatchTrust {
                role_name: name.to_string(),
                role_arn: arn.to_string(),
                original: doc.to_string(),
            },
            None => Route::Instructions {
                why: format!("the trust policy of {arn} could not be read"),
                steps: vec!["grant iam:GetRole to your identity and re-run".into()],
            },
        },
    }
}

fn trust_statement(sid: &str, principal_arn: &str, require_mfa: bool) -> Value {
    super::trust::assume_statement(sid, principal_arn, require_mfa)
}

/// A trust policy that lets only the operator assume a recreated role.
pub fn operator_only_trust(operator_arn: &str, require_mfa: bool) -> String {
    json!({"Version": "2012-10-17", "Statement": [trust_statement("EksBreakglassOperator", operator_arn, require_mfa)]})
        .to_string()
}

/// The inline policy of a recreated role: enough to read the cluster it is meant for.
pub fn describe_cluster_policy(cluster_arn: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "EksBreakglassDescribeCluster",
        "Effect": "Allow",
        "Action": "eks:DescribeCluster",
        "Resource": cluster_arn,
    }]})
    .to_string()
}

/// The file name a trust policy is saved under before it is changed.
pub fn trust_backup_file(role_name: &str) -> String {
    let clean: String = role_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_+=,.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("trust-policy-{clean}.json")
}

/// Options of `assume-creator` that shape the plan.
#[derive(Debug, Clone, Default)]
pub struct GetInOptions {
    /// The operator's IAM principal (user ARN, or role ARN with path).
    pub operator_arn: String,
    /// Require MFA in trust statements this run adds.
    pub require_mfa: bool,
    /// Keep temporary keys when the run ends.
    pub keep: bool,
    pub cluster_arn: String,
    /// The run's id ([`super::journal::new_run_id`]): it goes into the Sid of a trust statement
    /// the run adds, so that its undo removes that statement and no other.
    pub run_id: String,
}

/// The plan for a route (no steps for routes that change nothing).
pub fn assume_creator_plan(
    route: &Route,
    cluster: &str,
    region: &str,
    opts: &GetInOptions,
) -> Result<Plan, String> {
    let mut plan = Plan::new("assume-creator", cluster, region);
    let verify = format!(
        "verify by authenticating to {cluster} with the new credentials (SelfSubjectReview)"
    );
    match route {
        Route::AlreadyCreator => {
            plan.then
                .push("nothing to change: you already are the creator".into());
            plan.then.push(verify);
        }
        Route::AssumeRole {
            role_arn,
            conditions,
            ..
        } => {
            for c in conditions {
                plan.notes.push(format!("the trust policy asks: {c}"));
            }
            plan.then
                .push(format!("sts:AssumeRole {role_arn} (no change to IAM)"));
            plan.then.push(verify);
        }
        Route::PatchTrust {
            role_name,
            role_arn,
            original,
        } => {
            let sid = super::trust::run_sid(&opts.run_id);
            let statement = trust_statement(&sid, &opts.operator_arn, opts.require_mfa);
            let new = super::trust::add_statement(original, &statement)?;
            let file = trust_backup_file(role_name);
            let step = plan.push(
                format!("add a trust statement to role {role_arn} for {}", opts.operator_arn),
                if opts.operator_arn.contains(":role/") {
                    "the creator role does not trust you; one statement for your role (the principal behind your session: everyone who can assume it can then assume the creator role) lets you assume it"
                } else {
                    "the creator role does not trust you; one statement for your exact ARN (your IAM user) lets you assume it"
                },
                Action::UpdateAssumeRolePolicy {
                    role_name: role_name.clone(),
                    document: new,
                },
                Undo::RemoveTrustStatement {
                    role_name: role_name.clone(),
                    sid,
                    principal_arn: opts.operator_arn.clone(),
                    statement: statement.to_string(),
                    previous_file: file.clone(),
                },
            );
            step.saves.push(SavedState {
                file,
                description: format!("the trust policy of {role_name} before the change"),
                content: original.clone(),
            });
            plan.then.push(format!(
                "sts:AssumeRole {role_arn}, retried while IAM propagates the new trust"
            ));
            plan.then.push(verify);
            plan.then
                .push("the trust statement stays until `eks-breakglass cleanup`".into());
        }
        Route::TemporaryKey {
            user_name,
            keys_before,
        } => {
            key_step(&mut plan, user_name, keys_before.clone(), opts.keep);
            plan.then
                .push(format!("wait until IAM accepts the new key, then {verify}"));
        }
        Route::RecreateUser { user_name, path } => {
            plan.notes.push(recreated_warning("user"));
            plan.push(
                format!("recreate IAM user {path}{user_name}"),
                "the creator user was deleted; a user with the same path and name is the only way to act under its ARN",
                Action::CreateUser {
                    user_name: user_name.clone(),
                    path: path.clone(),
                },
                Undo::DeleteUser {
                    user_name: user_name.clone(),
                    unique_id: None,
                },
            );
            key_step(&mut plan, user_name, Vec::new(), opts.keep);
            plan.then.push(format!(
                "wait until IAM accepts the new key, then {verify}; if refused, the next step is `eks-breakglass grant --cluster {cluster}`"
            ));
        }
        Route::RecreateRole {
            role_name,
            path,
            role_arn,
        } => {
            plan.notes.push(recreated_warning("role"));
            plan.push(
                format!("recreate IAM role {role_arn}, trusting only {}", opts.operator_arn),
                "the creator role was deleted; a role with the same path and name is the only way to act under its ARN",
                Action::CreateRole {
                    role_name: role_name.clone(),
                    path: path.clone(),
                    trust_document: operator_only_trust(&opts.operator_arn, opts.require_mfa),
                },
                Undo::DeleteRole {
                    role_name: role_name.clone(),
                    unique_id: None,
                },
            );
            plan.push(
                format!("allow the recreated role to describe {cluster}"),
                "it needs eks:DescribeCluster on this cluster and nothing else",
                Action::PutRolePolicy {
                    role_name: role_name.clone(),
                    policy_name: RECREATED_ROLE_POLICY.into(),
                    document: describe_cluster_policy(&opts.cluster_arn),
                },
                Undo::DeleteRolePolicy {
                    role_name: role_name.clone(),
                    policy_name: RECREATED_ROLE_POLICY.into(),
                },
            );
            plan.then.push(format!(
                "sts:AssumeRole {role_arn}, retried while IAM propagates the new role, then {verify}; if refused, the next step is `eks-breakglass grant --cluster {cluster}`"
            ));
        }
        Route::KeyLimit { user_name, keys } => {
            return Err(format!(
                "user {user_name} already has {} access keys ({}), the most IAM allows; no temporary key can be added",
                keys.len(),
                keys.join(", ")
            ));
        }
        Route::Instructions { why, .. } => return Err(why.clone()),
    }
    Ok(plan)
}

fn key_step(plan: &mut Plan, user_name: &str, keys_before: Vec<String>, keep: bool) {
    let step = plan.push(
        format!("create a temporary access key for user {user_name}"),
        "a key of the creator user is how to act as it; it is deleted when the run ends unless --keep",
        Action::CreateAccessKey {
            user_name: user_name.to_string(),
        },
        Undo::DeleteAccessKey {
            user_name: user_name.to_string(),
            access_key_id: None,
            keys_before,
        },
    );
    step.temporary = !keep;
}

fn recreated_warning(kind: &str) -> String {
    format!(
        "a recreated {kind} gets a new unique id; EKS binds the creator to the old id, so it will most likely NOT be let in (only clusters that match the creator by ARN would); the run verifies it"
    )
}

/// What `grant` knows before planning.
#[derive(Debug, Clone)]
pub struct GrantFacts {
    pub cluster: String,
    pub region: String,
    pub partition: String,
    pub auth_mode: AuthMode,
    /// The principal to grant (IAM user or role ARN with path).
    pub principal_arn: String,
    pub entry_exists: bool,
    /// Policies already associated with the existing entry, with cluster scope.
    pub associated: Vec<String>,
    /// Policies associated with the existing entry with a namespace scope only.
    pub namespace_scoped: Vec<String>,
    /// The existing entry was made before its principal (deleted and recreated since, same
    /// ARN): EKS bound it to the old unique id, so it lets nobody in. Why, to show.
    pub stale_entry: Option<String>,
}

/// The plan of `grant`: (mode switch), access entry, admin policy.
pub fn grant_plan(f: &GrantFacts) -> Plan {
    let mut plan = Plan::new("grant", &f.cluster, &f.region);
    let policy = format!(
        "arn:{}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        f.partition
    );
    if f.auth_mode == AuthMode::ConfigMap {
        plan.notes.push(format!(
            "{} is in CONFIG_MAP mode: access entries need API_AND_CONFIG_MAP. The switch is ONE-WAY (EKS cannot go back to CONFIG_MAP); aws-auth keeps working alongside access entries",
            f.cluster
        ));
        plan.notes.push(
            "at the switch EKS turns the creator's implicit admin into an access entry (AmazonEKSClusterAdminPolicy): nobody gains access, it becomes visible and deletable; if that entry is the grantee's, this run adopts it and never deletes it".into(),
        );
        let step = plan.push(
            "switch the authentication mode to API_AND_CONFIG_MAP",
            "access entries are only honoured in API_AND_CONFIG_MAP or API mode",
            Action::SwitchAuthMode {
                cluster: f.cluster.clone(),
                from: "CONFIG_MAP".into(),
                to: "API_AND_CONFIG_MAP".into(),
            },
            Undo::Irreversible {
                reason: "EKS authentication mode changes are one-way (CONFIG_MAP -> API_AND_CONFIG_MAP -> API); at this switch EKS itself creates an access entry for the cluster's creator (AmazonEKSClusterAdminPolicy) — AWS's, not this run's, so no cleanup or rollback removes it: delete it by hand with `aws eks delete-access-entry` if it is not wanted".into(),
            },
        );
        step.consent = Some(AUTH_MODE_CONSENT.into());
    }
    let stale = f.entry_exists && f.stale_entry.is_some();
    if let (true, Some(why)) = (f.entry_exists, &f.stale_entry) {
        // Never adopt a stale entry: it looks granted and lets nobody in. Deleted, then made
        // again (bound to the principal as it is now), with the cluster-scoped policies it had.
        plan.push(
            format!("delete the stale access entry for {}", f.principal_arn),
            why.clone(),
            Action::DeleteAccessEntry {
                cluster: f.cluster.clone(),
                principal_arn: f.principal_arn.clone(),
                expect_entry_arn: None,
                expect_created_at: None,
            },
            Undo::Irreversible {
                reason: "the deleted entry was bound to a principal that no longer exists and let nobody in; it cannot be made again for that principal".into(),
            },
        );
    }
    if f.entry_exists && !stale {
        plan.notes.push(format!(
            "an access entry for {} already exists; it is kept as is",
            f.principal_arn
        ));
    } else {
        plan.push(
            format!("create a STANDARD access entry for {}", f.principal_arn),
            "an access entry lets the principal in without aws-auth",
            Action::CreateAccessEntry {
                cluster: f.cluster.clone(),
                principal_arn: f.principal_arn.clone(),
            },
            Undo::DeleteAccessEntry {
                cluster: f.cluster.clone(),
                principal_arn: f.principal_arn.clone(),
                // What this run associates with it, all at cluster scope.
                made: Some(super::plan::EntryContent {
                    entry_type: "STANDARD".into(),
                    username: None,
                    kubernetes_groups: Vec::new(),
                    policies: f
                        .associated
                        .iter()
                        .filter(|p| stale && **p != policy)
                        .chain(std::iter::once(&policy))
                        .map(|p| super::plan::PolicyScope {
                            policy_arn: p.clone(),
                            namespaces: Vec::new(),
                        })
                        .collect(),
                }),
                entry_arn: None,
            },
        );
    }
    if stale {
        for other in f.associated.iter().filter(|p| **p != policy) {
            plan.push(
                format!("associate {other} with cluster scope again"),
                "the stale entry had it; the new entry keeps what the old one granted",
                Action::AssociateAccessPolicy {
                    cluster: f.cluster.clone(),
                    principal_arn: f.principal_arn.clone(),
                    policy_arn: other.clone(),
                },
                Undo::DisassociateAccessPolicy {
                    cluster: f.cluster.clone(),
                    principal_arn: f.principal_arn.clone(),
                    policy_arn: other.clone(),
                    entry_arn: None,
                },
            );
        }
        if !f.namespace_scoped.is_empty() {
            plan.notes.push(format!(
                "the stale entry also had namespace-scoped policies ({}): this run does not \
                 associate them again",
                f.namespace_scoped.join(", ")
            ));
        }
    }
    if !stale && f.associated.iter().any(|p| p == &policy) {
        plan.notes
            .push("AmazonEKSClusterAdminPolicy is already associated".into());
    } else {
        let undo = if !stale && f.namespace_scoped.iter().any(|p| p == &policy) {
            // Associating with cluster scope replaces the namespace scope; disassociating
            // would then remove the namespace-scoped rights the entry had before this run.
            plan.notes.push(
                "AmazonEKSClusterAdminPolicy is associated with a namespace scope only, which \
                 cannot reach kube-system/aws-auth: this run widens it to the cluster"
                    .into(),
            );
            Undo::Irreversible {
                reason: "the policy was associated with a namespace scope before this run; \
                         undo cannot restore that scope (re-associate it with \
                         `aws eks associate-access-policy --access-scope type=namespace,…`)"
                    .into(),
            }
        } else {
            Undo::DisassociateAccessPolicy {
                cluster: f.cluster.clone(),
                principal_arn: f.principal_arn.clone(),
                policy_arn: policy.clone(),
                entry_arn: None,
            }
        };
        plan.push(
            "associate AmazonEKSClusterAdminPolicy with cluster scope",
            "cluster admin rights, to repair aws-auth and everything else",
            Action::AssociateAccessPolicy {
                cluster: f.cluster.clone(),
                principal_arn: f.principal_arn.clone(),
                policy_arn: policy,
            },
            undo,
        );
    }
    plan.then.push(
        "wait for the access entry to take effect by authenticating (SelfSubjectReview), with a bounded retry"
            .into(),
    );
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::creator::CreatorSource;
    use crate::recovery::trust::{PrincipalMatch, TrustEvaluation};

    const ROLE: &str = "arn:aws:iam::111122223333:role/ci/deployer";
    const USER: &str = "arn:aws:iam::111122223333:user/people/ann";
    const OPERATOR: &str = "arn:aws:iam::111122223333:user/oncall";

    fn status(state: PrincipalState) -> PrincipalStatus {
        PrincipalStatus::new(state, "s")
    }

    fn trust(decision: TrustDecision, conditions: Vec<TrustCondition>) -> TrustEvaluation {
        TrustEvaluation {
            decision,
            principal_match: Some(PrincipalMatch::Account),
            statement: None,
            conditions,
            notes: vec![],
        }
    }

    fn route(
        arn: &str,
        st: Option<&PrincipalStatus>,
        doc: Option<&str>,
        keys: Option<&[String]>,
    ) -> Route {
        let c = Creator::from_arn(arn, None, CreatorSource::Cloudtrail);
        choose_route(&Facts {
            creator: &c,
            status: st,
            trust_document: doc,
            access_keys: keys,
        })
    }

    #[test]
    fn role_routes_follow_trust() {
        let mut s = status(PrincipalState::Alive);
        s.trust = Some(trust(
            TrustDecision::AllowedWithConditions,
            vec![TrustCondition::Mfa {
                key: "aws:MultiFactorAuthPresent".into(),
                requirement: "true".into(),
            }],
        ));
        assert!(matches!(
            route(ROLE, Some(&s), None, None),
            Route::AssumeRole {
                mfa_required: true,
                ..
            }
        ));
        s.trust = Some(trust(TrustDecision::NotTrusted, vec![]));
        let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
        assert!(matches!(
            route(ROLE, Some(&s), Some(doc), None),
            Route::PatchTrust { ref role_name, .. } if role_name == "deployer"
        ));
        s.trust = Some(trust(TrustDecision::Denied, vec![]));
        assert!(matches!(
            route(ROLE, Some(&s), Some(doc), None),
            Route::Instructions { .. }
        ));
        // A Deny that may apply: try AssumeRole as is, never patch the trust policy.
        s.trust = Some(trust(TrustDecision::Uncertain, vec![]));
        assert!(matches!(
            route(ROLE, Some(&s), Some(doc), None),
            Route::AssumeRole { .. }
        ));
        s.caller_is_creator = true;
        assert_eq!(route(ROLE, Some(&s), None, None), Route::AlreadyCreator);
        assert!(matches!(
            route(ROLE, Some(&status(PrincipalState::Deleted)), None, None),
            Route::RecreateRole { ref path, .. } if path == "/ci/"
        ));
    }

    /// A federated-user creator is explained: a key for the IAM user behind it would sign in
    /// as another principal.
    #[test]
    fn a_federated_user_creator_gets_no_key_for_its_parent() {
        let mut c = Creator::from_arn(USER, None, CreatorSource::Cloudtrail);
        c.kind = CreatorKind::FederatedUser;
        c.session_arn = Some("arn:aws:sts::111122223333:federated-user/ann-fed".into());
        c.session_name = Some("ann-fed".into());
        let s = status(PrincipalState::Alive);
        let keys = vec!["AKIA1".to_string()];
        let r = choose_route(&Facts {
            creator: &c,
            status: Some(&s),
            trust_document: None,
            access_keys: Some(&keys),
        });
        match r {
            Route::Instructions { why, steps } => {
                assert!(why.contains("federated-user/ann-fed"), "{why}");
                assert!(steps.iter().any(|s| s.contains("grant")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn user_routes_follow_keys_and_existence() {
        let s = status(PrincipalState::Alive);
        let one = vec!["AKIA1".to_string()];
        assert_eq!(
            route(USER, Some(&s), None, Some(&one)),
            Route::TemporaryKey {
                user_name: "ann".into(),
                keys_before: one.clone()
            }
        );
        let two = vec!["AKIA1".to_string(), "AKIA2".to_string()];
        assert!(matches!(
            route(USER, Some(&s), None, Some(&two)),
            Route::KeyLimit { .. }
        ));
        assert_eq!(
            route(USER, Some(&status(PrincipalState::Deleted)), None, None),
            Route::RecreateUser {
                user_name: "ann".into(),
                path: "/people/".into()
            }
        );
        // Recreated: still try (a legacy cluster matches by ARN); verification tells.
        assert!(matches!(
            route(
                USER,
                Some(&status(PrincipalState::Recreated)),
                None,
                Some(&[])
            ),
            Route::TemporaryKey { .. }
        ));
        assert!(matches!(
            route(USER, None, None, None),
            Route::Instructions { .. }
        ));
        assert!(matches!(
            route("arn:aws:iam::111122223333:root", None, None, None),
            Route::Instructions { .. }
        ));
    }

    #[test]
    fn plans_per_route() {
        let opts = GetInOptions {
            operator_arn: OPERATOR.into(),
            require_mfa: false,
            keep: false,
            cluster_arn: "arn:aws:eks:us-east-1:111122223333:cluster/prod".into(),
            run_id: "20260101T000000Zabc123".into(),
        };
        let p = assume_creator_plan(
            &Route::PatchTrust {
                role_name: "deployer".into(),
                role_arn: ROLE.into(),
                original: "{\"Version\":\"2012-10-17\",\"Statement\":[]}".into(),
            },
            "prod",
            "us-east-1",
            &opts,
        )
        .unwrap();
        assert_eq!(p.steps.len(), 1);
        assert_eq!(
            p.steps[0].saves[0].content,
            "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
        );
        assert!(matches!(
            &p.steps[0].undo,
            Undo::RemoveTrustStatement { sid, principal_arn, .. }
                if sid == "EksBreakglassTemporaryAccess20260101T000000Zabc123" && principal_arn == OPERATOR
        ));

        let p = assume_creator_plan(
            &Route::RecreateUser {
                user_name: "ann".into(),
                path: "/people/".into(),
            },
            "prod",
            "us-east-1",
            &opts,
        )
        .unwrap();
        assert_eq!(p.steps.len(), 2);
        assert!(p.steps[1].temporary);
        assert!(p.notes[0].contains("new unique id"));

        let p = assume_creator_plan(
            &Route::RecreateRole {
                role_name: "deployer".into(),
                path: "/ci/".into(),
                role_arn: ROLE.into(),
            },
            "prod",
            "us-east-1",
            &opts,
        )
        .unwrap();
        assert!(p.steps[0].action.document().unwrap().contains(OPERATOR));
        assert!(
            p.steps[1]
                .action
                .document()
                .unwrap()
                .contains("cluster/prod")
        );
        assert!(
            assume_creator_plan(
                &Route::KeyLimit {
                    user_name: "a".into(),
                    keys: vec!["1".into(), "2".into()]
                },
                "p",
                "r",
                &opts
            )
            .is_err()
        );
    }

    #[test]
    fn grant_plans() {
        let mut f = GrantFacts {
            cluster: "prod".into(),
            region: "cn-north-1".into(),
            partition: "aws-cn".into(),
            auth_mode: AuthMode::ConfigMap,
            principal_arn: OPERATOR.into(),
            entry_exists: false,
            associated: vec![],
            namespace_scoped: vec![],
            stale_entry: None,
        };
        let p = grant_plan(&f);
        assert_eq!(p.steps.len(), 3);
        assert_eq!(p.consents(), vec![AUTH_MODE_CONSENT]);
        assert!(!p.steps[0].undo.is_reversible());
        assert!(
            p.render()
                .contains("arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
        );

        f.auth_mode = AuthMode::ApiAndConfigMap;
        let p = grant_plan(&f);
        assert_eq!(p.steps.len(), 2);
        assert!(p.consents().is_empty());
        assert!(
            !p.steps
                .iter()
                .any(|s| matches!(s.action, Action::SwitchAuthMode { .. }))
        );

        f.entry_exists = true;
        let p = grant_plan(&f);
        assert_eq!(p.steps.len(), 1);
        assert!(matches!(
            p.steps[0].undo,
            Undo::DisassociateAccessPolicy { .. }
        ));

        f.associated =
            vec!["arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into()];
        assert!(grant_plan(&f).is_empty());

        // A stale entry (principal recreated) is deleted and made again, never adopted.
        f.stale_entry = Some("made before the principal".into());
        let p = grant_plan(&f);
        assert!(matches!(
            p.steps[0].action,
            Action::DeleteAccessEntry { .. }
        ));
        assert!(matches!(
            p.steps[1].action,
            Action::CreateAccessEntry { .. }
        ));
        assert!(matches!(
            p.steps[2].action,
            Action::AssociateAccessPolicy { .. }
        ));
        assert_eq!(p.steps.len(), 3);

        // A namespace-scoped admin policy is no cluster admin.
        f.stale_entry = None;
        f.associated = vec![];
        f.namespace_scoped =
            vec!["arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into()];
        let p = grant_plan(&f);
        assert_eq!(p.steps.len(), 1);
        assert!(!p.steps[0].undo.is_reversible());
    }
}
