//! The verdict: usable, unusable or not found, with the next command to run. Pure: a function
//! of the cluster, the creator, its status and the caller.
use super::super::event::CreatorKind;
use super::super::principal::{PrincipalState, PrincipalStatus};
use super::super::trust::{Caller, TrustCondition, TrustDecision};
use super::report::{Creator, ManualStep, Outcome, Verdict};
use crate::cluster::{AuthMode, ClusterFacts};
use crate::exit;

pub(super) fn region_flag(facts: &ClusterFacts) -> String {
    if facts.region.is_empty() {
        String::new()
    } else {
        format!(" --region {}", facts.region)
    }
}

/// The verdict: usable, unusable, or not found, with the next command.
pub fn verdict(
    facts: &ClusterFacts,
    creator: Option<&Creator>,
    status: Option<&PrincipalStatus>,
    caller: Option<&Caller>,
) -> Verdict {
    let cluster = &facts.name;
    let rf = region_flag(facts);
    let grant = format!("eks-breakglass grant --cluster {cluster}{rf}");
    let assume = format!("eks-breakglass assume-creator --cluster {cluster}{rf}");
    let kubeconfig = format!("eks-breakglass kubeconfig --cluster {cluster}{rf}");
    let grant_note = match facts.effective_auth_mode() {
        AuthMode::ConfigMap => "`grant` needs the cluster in API_AND_CONFIG_MAP mode: it will \
                                ask to switch (one-way, needs --allow-auth-mode-change), then \
                                creates an access entry for you"
            .to_string(),
        _ => "`grant` creates an access entry with AmazonEKSClusterAdminPolicy for you".to_string(),
    };
    let unusable = |reason: String, next: Option<String>, steps: Vec<String>| Verdict {
        outcome: Outcome::Unusable,
        exit_code: exit::CREATOR_UNUSABLE,
        reason,
        next_command: next,
        next_steps: steps,
    };
    let usable = |reason: String, next: String, steps: Vec<String>| Verdict {
        outcome: Outcome::Usable,
        exit_code: exit::OK,
        reason,
        next_command: Some(next),
        next_steps: steps,
    };
    let Some(creator) = creator else {
        return Verdict {
            outcome: Outcome::NotFound,
            exit_code: exit::CREATOR_NOT_FOUND,
            reason: "the creator could not be found by any source".into(),
            next_command: Some(grant.clone()),
            next_steps: vec![
                grant_note,
                "or search the control plane logs with the CloudWatch Logs Insights query below"
                    .into(),
            ],
        };
    };
    if facts.bootstrap_creator_admin == Some(false) {
        return unusable(
            "the cluster was created with bootstrapClusterCreatorAdminPermissions=false: the \
             creator has no implicit access (Terraform's EKS module v20+ does this by default)"
                .into(),
            Some(grant),
            vec![grant_note],
        );
    }
    let Some(status) = status else {
        return usable(
            "creator found (status not checked)".into(),
            assume,
            Vec::new(),
        );
    };
    if status.caller_is_creator {
        return usable(
            "you are signed in as the creator: the cluster should let you in".into(),
            kubeconfig,
            vec!["if it does not, the creator admin was removed: use `grant`".into()],
        );
    }
    match status.state {
        PrincipalState::Root => unusable(
            "the account root user created the cluster; tools should not use root credentials"
                .into(),
            Some(grant),
            vec![
                grant_note,
                "or, as a last resort, sign in as root, create a temporary root access key, get \
                 in, fix aws-auth, and delete the key"
                    .into(),
            ],
        ),
        PrincipalState::Deleted | PrincipalState::Recreated => {
            let mut steps = vec![grant_note];
            if creator.kind != CreatorKind::IdentityCenterRole {
                steps.push(format!(
                    "best effort: `{assume}` can recreate the principal with the same path and \
                     name; it gets a new unique id, so only clusters that match the creator by \
                     ARN will honour it"
                ));
            }
            unusable(status.summary.clone(), Some(grant), steps)
        }
        PrincipalState::Unknown => {
            let mut steps = Vec::new();
            for d in &status.denied {
                steps.push(format!(
                    "allow {} to check the creator (see `eks-breakglass policy creator`)",
                    d.action
                ));
            }
            steps.push(grant_note);
            unusable(status.summary.clone(), Some(grant), steps)
        }
        PrincipalState::Alive | PrincipalState::PathChanged | PrincipalState::ExistsUnverified => {
            let mut caveats = Vec::new();
            if status.state == PrincipalState::ExistsUnverified {
                caveats.push(
                    "the creator's unique id at creation time is unknown: if it was recreated, \
                     EKS will refuse it; `assume-creator` verifies by authenticating"
                        .to_string(),
                );
            }
            match creator.kind {
                CreatorKind::IdentityCenterRole => {
                    let steps = status
                        .sso
                        .as_ref()
                        .map(|s| s.sign_in.clone())
                        .unwrap_or_default();
                    let set = creator
                        .permission_set
                        .as_deref()
                        .unwrap_or("the permission set");
                    usable(
                        format!(
                            "the creator is the IAM Identity Center permission set {set}: sign \
                             in to it through SSO"
                        ),
                        "aws configure sso --profile eks-creator && aws sso login --profile eks-creator"
                            .to_string(),
                        [steps, caveats].concat(),
                    )
                }
                CreatorKind::FederatedUser => {
                    // The authenticator sees the federated user itself
                    // (`arn:aws:sts::A:federated-user/NAME`, user id `A:NAME`), not the IAM
                    // user that called GetFederationToken: a key for that user signs in as the
                    // user, another principal, and the creator's admin would not apply.
                    let fed = creator
                        .session_arn
                        .as_deref()
                        .unwrap_or("a federated user (GetFederationToken)");
                    let name = creator.session_name.as_deref().unwrap_or("NAME");
                    unusable(
                        format!(
                            "the cluster was created by the federated user {fed} (GetFederationToken \
                             of {}); EKS knows the creator as that federated identity, not as the \
                             IAM user behind it: a temporary key for {} would sign in as that user \
                             and not get the creator's access",
                            creator.arn, creator.arn
                        ),
                        Some(grant),
                        vec![
                            grant_note,
                            format!(
                                "by hand, at your own judgement: federated-user credentials with the same name \
                                 (`aws sts get-federation-token --name {name} --policy-arns arn:aws:iam::aws:policy/ReadOnlyAccess` \
                                 as an IAM user of the account) carry the same ARN and user id; this tool \
                                 does not mint them for you"
                            ),
                        ],
                    )
                }
                CreatorKind::IamUser => {
                    let keys = status.user.as_ref();
                    match keys {
                        Some(u) if !u.can_add_access_key => unusable(
                            format!(
                                "the creator user already has {} access keys, the most IAM \
                                 allows: no temporary key can be added",
                                u.access_keys
                            ),
                            Some(grant),
                            vec![
                                "delete or rotate one of its keys (check with `aws iam list-access-keys` and the key's last use) and run `assume-creator`".into(),
                                grant_note,
                            ],
                        ),
                        _ => {
                            let mut steps = vec![
                                "`assume-creator` creates a temporary access key for the user \
                                 (journaled; `cleanup` deletes it)"
                                    .to_string(),
                            ];
                            if status.user.is_none() {
                                steps.push(
                                    "its access keys could not be listed: IAM refuses a third key"
                                        .into(),
                                );
                            }
                            usable(
                                "the creator user exists and can get a temporary access key".into(),
                                assume,
                                [steps, caveats].concat(),
                            )
                        }
                    }
                }
                CreatorKind::AssumedRole => {
                    let trust = status.trust.as_ref();
                    match trust.map(|t| t.decision) {
                        Some(TrustDecision::Denied) => unusable(
                            format!(
                                "the creator role's trust policy explicitly denies you (statement {})",
                                trust.and_then(|t| t.statement.as_deref()).unwrap_or("?")
                            ),
                            Some(grant),
                            vec![grant_note],
                        ),
                        Some(TrustDecision::Uncertain) => usable(
                            format!(
                                "the creator role exists, but Deny statement {} of its trust \
                                 policy may apply to you under a condition this tool cannot \
                                 evaluate: only AWS can tell. `assume-creator` tries AssumeRole \
                                 without changing IAM (an added Allow would not beat a Deny)",
                                trust.and_then(|t| t.statement.as_deref()).unwrap_or("?")
                            ),
                            assume,
                            [
                                trust.map(|t| t.notes.clone()).unwrap_or_default(),
                                vec![grant_note],
                                caveats,
                            ]
                            .concat(),
                        ),
                        Some(TrustDecision::Allowed)
                        | Some(TrustDecision::AllowedWithConditions) => {
                            let conds: Vec<String> = trust
                                .map(|t| {
                                    t.conditions.iter().map(TrustCondition::describe).collect()
                                })
                                .unwrap_or_default();
                            let notes: Vec<String> =
                                trust.map(|t| t.notes.clone()).unwrap_or_default();
                            let mfa = trust.is_some_and(|t| {
                                t.conditions
                                    .iter()
                                    .any(|c| matches!(c, TrustCondition::Mfa { .. }))
                            });
                            let next = if mfa {
                                format!("{assume} --mfa-serial ARN --token-code CODE")
                            } else {
                                assume
                            };
                            usable(
                                "the creator role exists and its trust policy lets you assume it"
                                    .into(),
                                next,
                                [conds, notes, caveats].concat(),
                            )
                        }
                        Some(TrustDecision::NotTrusted) | Some(TrustDecision::Unknown) | None => {
                            let who = caller.map(|c| c.arn.as_str()).unwrap_or("you");
                            usable(
                                format!(
                                    "the creator role exists but its trust policy does not let {who} \
                                     assume it: `assume-creator` adds one trust statement for you \
                                     (needs iam:UpdateAssumeRolePolicy; undone by `cleanup`)"
                                ),
                                assume,
                                caveats,
                            )
                        }
                    }
                }
                CreatorKind::Root | CreatorKind::Other => unusable(
                    format!("the creator {} cannot be used by this tool", creator.arn),
                    Some(grant),
                    vec![grant_note],
                ),
            }
        }
    }
}

/// The manual next step when no source answers: the authenticator log of the control plane
/// names the principal behind `kubernetes-admin` whenever the creator signs in.
pub fn logs_insights_step(cluster: &str) -> ManualStep {
    ManualStep {
        log_group: format!("/aws/eks/{cluster}/cluster"),
        query: "fields @timestamp, @message\n\
                | filter @logStream like /^authenticator/\n\
                | filter @message like \"username=kubernetes-admin\"\n\
                | sort @timestamp desc\n\
                | limit 20"
            .to_string(),
        note: "needs the cluster's authenticator logs enabled (control plane logging); the \
               `arn=` and `uid=` fields of the matches name the creator. In the audit log stream \
               (kube-apiserver-audit) filter user.username = \"kubernetes-admin\" and read \
               user.extra.arn."
            .to_string(),
    }
}
