//! Plans: every change to IAM or EKS as data — what, why, the exact AWS call, and its undo.
//!
//! Break-glass work happens under pressure, on the account's most sensitive objects (trust
//! policies, access keys, the cluster's authentication mode). So nothing is changed ad hoc: a
//! command first computes a [`Plan`] — a list of [`Step`]s, each naming the AWS call it will
//! make and the [`Undo`] that reverses it — prints it, and applies it only after confirmation.
//! Because actions and undos are plain serialisable data, the same values are printed, written
//! to the journal before and after each step, and read back by `cleanup` after a crash.
//!
//! This module never calls AWS. [`apply`] drives the steps through a [`Runner`] (implemented by
//! the AWS adapter) and records each one in a [`Journal`]; [`undo_all`] walks undos in reverse.
//! A new kind of change (e.g. an aws-auth write) is a new [`Action`] and [`Undo`] variant plus
//! its arm in the runner; the driver, the journal and `cleanup` need no change.

use super::journal::{Event, Journal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A list of changes to make, in order, with what each means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The command that made the plan (`grant`, `assume-creator`, …).
    pub command: String,
    pub cluster: String,
    pub region: String,
    /// Warnings and consequences the operator must read before confirming.
    pub notes: Vec<String>,
    pub steps: Vec<Step>,
    /// What happens after the changes (not changes themselves): AssumeRole, verification.
    pub then: Vec<String>,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Position in the plan, from 1; journal records refer to it.
    pub id: u32,
    /// What it does, in one line.
    pub what: String,
    /// Why it is needed.
    pub why: String,
    pub action: Action,
    /// How to reverse it, as planned (the runner may refine it once the step ran, e.g. with the
    /// id of the key it created).
    pub undo: Undo,
    /// An extra flag the operator must pass, on top of confirmation, for this step.
    pub consent: Option<String>,
    /// Undone automatically when the run ends (temporary access keys), unless kept.
    pub temporary: bool,
    /// Files to save in the journal directory before the step runs (previous states).
    pub saves: Vec<SavedState>,
}

/// A previous state saved beside the journal, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedState {
    /// File name inside the run directory.
    pub file: String,
    /// What it is, for people.
    pub description: String,
    /// The exact bytes (text), not serialised into the journal itself.
    #[serde(skip)]
    pub content: String,
}

/// An AWS call as shown to people: `service:Action` and its key parameters (never secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsCall {
    pub action: String,
    pub params: BTreeMap<String, String>,
}

impl AwsCall {
    fn new(action: &str, params: &[(&str, &str)]) -> AwsCall {
        AwsCall {
            action: action.to_string(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl std::fmt::Display for AwsCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.action)?;
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !params.is_empty() {
            write!(f, " {}", params.join(" "))?;
        }
        Ok(())
    }
}

/// A change, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `iam:CreateAccessKey`; the secret stays in memory (and in `--credentials-file` if asked).
    CreateAccessKey { user_name: String },
    /// `iam:UpdateAssumeRolePolicy` with a new trust document.
    UpdateAssumeRolePolicy { role_name: String, document: String },
    /// `iam:CreateUser`.
    CreateUser { user_name: String, path: String },
    /// `iam:CreateRole` with a trust document.
    CreateRole {
        role_name: String,
        path: String,
        trust_document: String,
    },
    /// `iam:PutRolePolicy` (an inline policy).
    PutRolePolicy {
        role_name: String,
        policy_name: String,
        document: String,
    },
    /// `eks:UpdateClusterConfig` of the authentication mode, then `eks:DescribeUpdate` until
    /// it is Successful. One-way.
    SwitchAuthMode {
        cluster: String,
        from: String,
        to: String,
    },
    /// `eks:CreateAccessEntry` of type STANDARD.
    CreateAccessEntry {
        cluster: String,
        principal_arn: String,
    },
    /// `eks:CreateAccessEntry` of any type, with a username and Kubernetes groups (`migrate`).
    CreateTypedAccessEntry {
        cluster: String,
        principal_arn: String,
        entry_type: String,
        username: Option<String>,
        kubernetes_groups: Vec<String>,
    },
    /// `eks:DeleteAccessEntry` (a stale entry: its principal was recreated since).
    DeleteAccessEntry {
        cluster: String,
        principal_arn: String,
        /// The entry the plan showed (its ARN and creation time, RFC 3339): checked right
        /// before the delete, so that an entry someone made since is never the one deleted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_entry_arn: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_created_at: Option<String>,
    },
    /// `eks:AssociateAccessPolicy` with cluster scope.
    AssociateAccessPolicy {
        cluster: String,
        principal_arn: String,
        policy_arn: String,
    },
    /// `eks:CreateAccessEntry` with a given type, username and groups: a stale entry made
    /// again as it was (`fix-entries`). `username: None` lets EKS choose its default.
    CreateAccessEntryLike {
        cluster: String,
        principal_arn: String,
        entry_type: String,
        username: Option<String>,
        kubernetes_groups: Vec<String>,
    },
    /// `eks:AssociateAccessPolicy` with cluster scope (`namespaces` empty) or these namespaces.
    AssociateAccessPolicyScoped {
        cluster: String,
        principal_arn: String,
        policy_arn: String,
        namespaces: Vec<String>,
    },
    /// `eks:TagResource`: set these tags on an EKS resource (the creator record of `record`).
    TagResource {
        resource_arn: String,
        tags: BTreeMap<String, String>,
    },
    /// Kubernetes: replace (or create) a ConfigMap in kube-system with the object saved in
    /// `desired_file` (in the run directory). With `expected_resource_version`, the write is
    /// refused when the live object changed since the plan was made (someone else's edit).
    WriteConfigMap {
        cluster: String,
        namespace: String,
        name: String,
        desired_file: String,
        expected_resource_version: Option<String>,
    },
}

impl Action {
    /// The AWS call this action makes.
    pub fn call(&self) -> AwsCall {
        match self {
            Action::CreateAccessKey { user_name } => {
                AwsCall::new("iam:CreateAccessKey", &[("UserName", user_name)])
            }
            Action::UpdateAssumeRolePolicy { role_name, .. } => AwsCall::new(
                "iam:UpdateAssumeRolePolicy",
                &[("RoleName", role_name), ("PolicyDocument", "(shown below)")],
            ),
            Action::CreateUser { user_name, path } => {
                AwsCall::new("iam:CreateUser", &[("UserName", user_name), ("Path", path)])
            }
            Action::CreateRole {
                role_name, path, ..
            } => AwsCall::new(
                "iam:CreateRole",
                &[
                    ("RoleName", role_name),
                    ("Path", path),
                    ("AssumeRolePolicyDocument", "(shown below)"),
                ],
            ),
            Action::PutRolePolicy {
                role_name,
                policy_name,
                ..
            } => AwsCall::new(
                "iam:PutRolePolicy",
                &[
                    ("RoleName", role_name),
                    ("PolicyName", policy_name),
                    ("PolicyDocument", "(shown below)"),
                ],
            ),
            Action::SwitchAuthMode { cluster, to, .. } => AwsCall::new(
                "eks:UpdateClusterConfig",
                &[("name", cluster), ("accessConfig.authenticationMode", to)],
            ),
            Action::CreateAccessEntry {
                cluster,
                principal_arn,
            } => AwsCall::new(
                "eks:CreateAccessEntry",
                &[
                    ("clusterName", cluster),
                    ("principalArn", principal_arn),
                    ("type", "STANDARD"),
                ],
            ),
            Action::CreateTypedAccessEntry {
                cluster,
                principal_arn,
                entry_type,
                username,
                kubernetes_groups,
            } => {
                let mut call = AwsCall::new(
                    "eks:CreateAccessEntry",
                    &[
                        ("clusterName", cluster),
                        ("principalArn", principal_arn),
                        ("type", entry_type),
                    ],
                );
                if let Some(u) = username {
                    call.params.insert("username".into(), u.clone());
                }
                if !kubernetes_groups.is_empty() {
                    call.params
                        .insert("kubernetesGroups".into(), kubernetes_groups.join(","));
                }
                call
            }
            Action::DeleteAccessEntry {
                cluster,
                principal_arn,
                ..
            } => AwsCall::new(
                "eks:DeleteAccessEntry",
                &[("clusterName", cluster), ("principalArn", principal_arn)],
            ),
            Action::AssociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
            } => AwsCall::new(
                "eks:AssociateAccessPolicy",
                &[
                    ("clusterName", cluster),
                    ("principalArn", principal_arn),
                    ("policyArn", policy_arn),
                    ("accessScope.type", "cluster"),
                ],
            ),
            Action::CreateAccessEntryLike {
                cluster,
                principal_arn,
                entry_type,
                username,
                kubernetes_groups,
            } => {
                let groups = kubernetes_groups.join(",");
                let mut params = vec![
                    ("clusterName", cluster.as_str()),
                    ("principalArn", principal_arn.as_str()),
                    ("type", entry_type.as_str()),
                ];
                if let Some(u) = username {
                    params.push(("username", u.as_str()));
                }
                if !kubernetes_groups.is_empty() {
                    params.push(("kubernetesGroups", groups.as_str()));
                }
                AwsCall::new("eks:CreateAccessEntry", &params)
            }
            Action::AssociateAccessPolicyScoped {
                cluster,
                principal_arn,
                policy_arn,
                namespaces,
            } => {
                let ns = namespaces.join(",");
                let mut params = vec![
                    ("clusterName", cluster.as_str()),
                    ("principalArn", principal_arn.as_str()),
                    ("policyArn", policy_arn.as_str()),
                ];
                if namespaces.is_empty() {
                    params.push(("accessScope.type", "cluster"));
                } else {
                    params.push(("accessScope.type", "namespace"));
                    params.push(("accessScope.namespaces", ns.as_str()));
                }
                AwsCall::new("eks:AssociateAccessPolicy", &params)
            }
            Action::TagResource { resource_arn, tags } => {
                // Tag values are shown in full: they are what the operator confirms.
                let mut call = AwsCall::new("eks:TagResource", &[("resourceArn", resource_arn)]);
                for (k, v) in tags {
                    call.params.insert(format!("tags.{k}"), v.clone());
                }
                call
            }
            Action::WriteConfigMap {
                cluster,
                namespace,
                name,
                desired_file,
                expected_resource_version,
            } => AwsCall::new(
                "kubernetes:configmaps.update",
                &[
                    ("cluster", cluster),
                    ("namespace", namespace),
                    ("name", name),
                    ("object", desired_file),
                    (
                        "resourceVersion",
                        expected_resource_version.as_deref().unwrap_or("(create)"),
                    ),
                ],
            ),
        }
    }

    /// A document the call sends, to print in full under the call (policies are not secret).
    pub fn document(&self) -> Option<&str> {
        match self {
            Action::UpdateAssumeRolePolicy { document, .. }
            | Action::PutRolePolicy { document, .. } => Some(document),
            Action::CreateRole { trust_document, .. } => Some(trust_document),
            _ => None,
        }
    }
}

/// How to reverse a change, as data. Every undo is idempotent and checks AWS's state first, so
/// that it is safe to run after a crash in the middle of the step it reverses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Undo {
    /// The step cannot be reversed (e.g. an authentication mode switch); `reason` says why.
    Irreversible { reason: String },
    /// Delete the key this run created: `access_key_id` once known; before that (a crash
    /// between the call and the journal), every key of the user not in `keys_before`.
    DeleteAccessKey {
        user_name: String,
        access_key_id: Option<String>,
        keys_before: Vec<String>,
    },
    /// Put back the trust policy saved in `previous_file` (in the run directory), byte for byte
    /// — only while the live policy is still the one the run wrote (older journals).
    RestoreAssumeRolePolicy {
        role_name: String,
        previous_file: String,
    },
    /// Remove exactly the trust statement this run added: the statement whose `Sid` (which
    /// carries the run's id), principal and content are `statement`. Every other statement —
    /// including ones added by others after the run — stays. When nothing else changed, the
    /// policy saved in `previous_file` is put back byte for byte.
    RemoveTrustStatement {
        role_name: String,
        sid: String,
        principal_arn: String,
        /// The statement as added (JSON).
        statement: String,
        previous_file: String,
    },
    /// Delete a user this run created, with its keys and policies — only the user whose unique
    /// id is `unique_id` (a user recreated later under the same name is someone else's).
    DeleteUser {
        user_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unique_id: Option<String>,
    },
    /// Delete a role this run created, with its inline and attached policies — only the role
    /// whose unique id is `unique_id`.
    DeleteRole {
        role_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unique_id: Option<String>,
    },
    /// Delete an inline role policy.
    DeleteRolePolicy {
        role_name: String,
        policy_name: String,
    },
    /// Make an entry again from its journaled content: the undo of `fix-entries`' delete of a
    /// stale entry. Only ever acts when there is no entry for the principal (a run cut off
    /// between its delete and its create); an entry there now is left alone.
    RecreateAccessEntry {
        cluster: String,
        principal_arn: String,
        content: EntryContent,
    },
    /// Delete an access entry (its policy associations go with it).
    DeleteAccessEntry {
        cluster: String,
        principal_arn: String,
        /// What the run made the entry with (groups, username, the policies it associated):
        /// an entry someone added to since is not deleted (the difference is shown).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        made: Option<EntryContent>,
        /// The ARN of the entry the run created (set when it was made): a different entry for
        /// the same principal (deleted and created again by someone) is not the run's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry_arn: Option<String>,
    },
    /// Disassociate a policy from an entry that existed before the run.
    DisassociateAccessPolicy {
        cluster: String,
        principal_arn: String,
        policy_arn: String,
        /// The ARN of the entry the policy was associated with, when the run created that
        /// entry: another entry for the same principal is someone else's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry_arn: Option<String>,
    },
    /// Put tags back as they were: remove the keys the run added (`eks:UntagResource`) and
    /// set the previous values of the keys it changed (`eks:TagResource`).
    RestoreTags {
        resource_arn: String,
        remove: Vec<String>,
        previous: BTreeMap<String, String>,
        /// The tags the run wrote: a tag whose value is no longer this one was changed by
        /// someone after the run and is left as it is (empty in older journals).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        written: BTreeMap<String, String>,
    },
    /// Put a ConfigMap back as saved in `previous_file` (data, labels, annotations), over
    /// whatever is live now; `None` means it did not exist: delete it.
    RestoreConfigMap {
        cluster: String,
        namespace: String,
        name: String,
        previous_file: Option<String>,
        /// The object the run wrote (in the run directory). When given, the undo only acts if
        /// the cluster still holds it: a change someone made after the run is never overwritten.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        written_file: Option<String>,
    },
}

/// An access entry's content as a run made it (or found it): type, username, groups, and each
/// access policy with its scope (`namespaces` empty: cluster scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EntryContent {
    pub entry_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default)]
    pub kubernetes_groups: Vec<String>,
    #[serde(default)]
    pub policies: Vec<PolicyScope>,
}

/// One access policy association: the policy and its namespaces (empty: cluster scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyScope {
    pub policy_arn: String,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

impl PolicyScope {
    pub fn describe(&self) -> String {
        let name = self
            .policy_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.policy_arn);
        if self.namespaces.is_empty() {
            format!("{name} (cluster)")
        } else {
            format!("{name} (namespaces {})", self.namespaces.join(","))
        }
    }
}

impl Undo {
    /// What the undo does, for people.
    pub fn describe(&self) -> String {
        match self {
            Undo::Irreversible { reason } => format!("cannot be undone: {reason}"),
            Undo::DeleteAccessKey {
                user_name,
                access_key_id,
                ..
            } => match access_key_id {
                Some(k) => format!("delete access key {k} of user {user_name}"),
                None => format!("delete the access key this run created for user {user_name}"),
            },
            Undo::RestoreAssumeRolePolicy {
                role_name,
                previous_file,
            } => format!(
                "restore the trust policy of role {role_name} byte for byte from {previous_file} (only if nobody changed it since)"
            ),
            Undo::RemoveTrustStatement {
                role_name,
                sid,
                principal_arn,
                ..
            } => format!(
                "remove from the trust policy of role {role_name} exactly the statement {sid} for {principal_arn} (every other statement stays)"
            ),
            Undo::DeleteUser {
                user_name,
                unique_id,
            } => format!(
                "delete user {user_name}{} with its access keys and policies",
                unique_id
                    .as_deref()
                    .map(|id| format!(" (unique id {id}, the one this run created)"))
                    .unwrap_or_default()
            ),
            Undo::DeleteRole {
                role_name,
                unique_id,
            } => format!(
                "delete role {role_name}{} with its policies",
                unique_id
                    .as_deref()
                    .map(|id| format!(" (unique id {id}, the one this run created)"))
                    .unwrap_or_default()
            ),
            Undo::DeleteRolePolicy {
                role_name,
                policy_name,
            } => format!("delete inline policy {policy_name} of role {role_name}"),
            Undo::DeleteAccessEntry {
                cluster,
                principal_arn,
                ..
            } => format!("delete the access entry of {principal_arn} on {cluster}"),
            Undo::RecreateAccessEntry {
                cluster,
                principal_arn,
                content,
            } => format!(
                "if {principal_arn} has no access entry on {cluster} (the run stopped before making it again): make the {} entry again as the plan showed (groups [{}]; {})",
                content.entry_type,
                content.kubernetes_groups.join(", "),
                content
                    .policies
                    .iter()
                    .map(PolicyScope::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Undo::DisassociateAccessPolicy {
                principal_arn,
                policy_arn,
                ..
            } => format!("disassociate {policy_arn} from the access entry of {principal_arn}"),
            Undo::RestoreTags {
                resource_arn,
                remove,
                previous,
                ..
            } => {
                let mut parts = Vec::new();
                if !remove.is_empty() {
                    parts.push(format!("remove tag(s) {}", remove.join(", ")));
                }
                if !previous.is_empty() {
                    let keys: Vec<&str> = previous.keys().map(String::as_str).collect();
                    parts.push(format!(
                        "put back the previous value of {}",
                        keys.join(", ")
                    ));
                }
                if parts.is_empty() {
                    parts.push("nothing".into());
                }
                format!("{} on {resource_arn}", parts.join(" and "))
            }
            Undo::RestoreConfigMap {
                cluster,
                namespace,
                name,
                previous_file,
                written_file,
            } => {
                let guard = if written_file.is_some() {
                    " (only if nobody changed it since)"
                } else {
                    ""
                };
                match previous_file {
                    Some(f) => format!("restore {namespace}/{name} on {cluster} from {f}{guard}"),
                    None => format!(
                        "delete {namespace}/{name} on {cluster} (it did not exist before){guard}"
                    ),
                }
            }
        }
    }

    /// The AWS call the undo makes (`None` when irreversible).
    pub fn call(&self) -> Option<AwsCall> {
        Some(match self {
            Undo::Irreversible { .. } => return None,
            Undo::DeleteAccessKey { user_name, .. } => {
                AwsCall::new("iam:DeleteAccessKey", &[("UserName", user_name)])
            }
            Undo::RestoreAssumeRolePolicy { role_name, .. }
            | Undo::RemoveTrustStatement { role_name, .. } => {
                AwsCall::new("iam:UpdateAssumeRolePolicy", &[("RoleName", role_name)])
            }
            Undo::DeleteUser { user_name, .. } => {
                AwsCall::new("iam:DeleteUser", &[("UserName", user_name)])
            }
            Undo::DeleteRole { role_name, .. } => {
                AwsCall::new("iam:DeleteRole", &[("RoleName", role_name)])
            }
            Undo::DeleteRolePolicy {
                role_name,
                policy_name,
            } => AwsCall::new(
                "iam:DeleteRolePolicy",
                &[("RoleName", role_name), ("PolicyName", policy_name)],
            ),
            Undo::DeleteAccessEntry {
                cluster,
                principal_arn,
                ..
            } => AwsCall::new(
                "eks:DeleteAccessEntry",
                &[("clusterName", cluster), ("principalArn", principal_arn)],
            ),
            Undo::RecreateAccessEntry {
                cluster,
                principal_arn,
                ..
            } => AwsCall::new(
                "eks:CreateAccessEntry",
                &[("clusterName", cluster), ("principalArn", principal_arn)],
            ),
            Undo::DisassociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
                ..
            } => AwsCall::new(
                "eks:DisassociateAccessPolicy",
                &[
                    ("clusterName", cluster),
                    ("principalArn", principal_arn),
                    ("policyArn", policy_arn),
                ],
            ),
            Undo::RestoreTags {
                resource_arn,
                remove,
                previous,
                ..
            } => {
                let action = if remove.is_empty() {
                    "eks:TagResource"
                } else {
                    "eks:UntagResource"
                };
                let keys = remove
                    .iter()
                    .chain(previous.keys())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",");
                AwsCall::new(action, &[("resourceArn", resource_arn), ("tagKeys", &keys)])
            }
            Undo::RestoreConfigMap {
                cluster,
                namespace,
                name,
                previous_file,
                ..
            } => AwsCall::new(
                if previous_file.is_some() {
                    "kubernetes:configmaps.update"
                } else {
                    "kubernetes:configmaps.delete"
                },
                &[
                    ("cluster", cluster),
                    ("namespace", namespace),
                    ("name", name),
                ],
            ),
        })
    }

    pub fn is_reversible(&self) -> bool {
        !matches!(self, Undo::Irreversible { .. })
    }

    /// True for the scaffolding of getting in — temporary keys, trust statements, recreated
    /// principals — which `cleanup` always removes; false for the run's result (an aws-auth
    /// write, an access entry and its policy, tags), which only a rollback (`cleanup
    /// --rollback`) reverses: removing it could lock everyone out again.
    pub fn is_temporary_kind(&self) -> bool {
        matches!(
            self,
            Undo::DeleteAccessKey { .. }
                | Undo::RestoreAssumeRolePolicy { .. }
                | Undo::RemoveTrustStatement { .. }
                | Undo::DeleteUser { .. }
                | Undo::DeleteRole { .. }
                | Undo::DeleteRolePolicy { .. }
                // Finishing a fix cut off between its delete and its create: without it the
                // entry's content would only live in the journal.
                | Undo::RecreateAccessEntry { .. }
        )
    }
}

impl Plan {
    pub fn new(command: &str, cluster: &str, region: &str) -> Plan {
        Plan {
            command: command.to_string(),
            cluster: cluster.to_string(),
            region: region.to_string(),
            notes: Vec::new(),
            steps: Vec::new(),
            then: Vec::new(),
        }
    }

    /// Appends a step, numbering it.
    pub fn push(
        &mut self,
        what: impl Into<String>,
        why: impl Into<String>,
        action: Action,
        undo: Undo,
    ) -> &mut Step {
        let id = u32::try_from(self.steps.len() + 1).unwrap_or(u32::MAX);
        self.steps.push(Step {
            id,
            what: what.into(),
            why: why.into(),
            action,
            undo,
            consent: None,
            temporary: false,
            saves: Vec::new(),
        });
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }

    /// The consent flags this plan needs on top of confirmation.
    pub fn consents(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .steps
            .iter()
            .filter_map(|s| s.consent.as_deref())
            .collect();
        v.dedup();
        v
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as text, the way it is printed before anything runs.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Plan ({}, cluster {}, region {}): {} change(s)\n",
            self.command,
            self.cluster,
            self.region,
            self.steps.len()
        ));
        for n in &self.notes {
            out.push_str(&format!("  ! {n}\n"));
        }
        for s in &self.steps {
            out.push_str(&format!("\n  {}. {}\n", s.id, s.what));
            out.push_str(&format!("     why:  {}\n", s.why));
            out.push_str(&format!("     call: {}\n", s.action.call()));
            if let Some(doc) = s.action.document() {
                for line in pretty_json(doc).lines() {
                    out.push_str(&format!("           {line}\n"));
                }
            }
            out.push_str(&format!("     undo: {}", s.undo.describe()));
            if s.temporary {
                out.push_str(" (done automatically when the run ends, unless --keep)");
            }
            out.push('\n');
            for saved in &s.saves {
                out.push_str(&format!(
                    "     saves: {} ({}) in the journal directory first\n",
                    saved.file, saved.description
                ));
            }
            if let Some(c) = &s.consent {
                out.push_str(&format!("     needs: {c} (on top of confirmation)\n"));
            }
        }
        if !self.then.is_empty() {
            out.push_str("\n  then:\n");
            for t in &self.then {
                out.push_str(&format!("   - {t}\n"));
            }
        }
        out
    }
}

fn pretty_json(doc: &str) -> String {
    serde_json::from_str::<serde_json::Value>(doc)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| doc.to_string())
}

/// What a step produced: the undo, refined with what is now known, and facts worth recording
/// (ids, never secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub undo: Undo,
    pub facts: BTreeMap<String, String>,
}

/// Why a step or an undo failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    pub message: String,
    /// The IAM action AWS refused, when it was a permission problem.
    pub denied_action: Option<String>,
    pub hint: Option<String>,
    /// False when AWS answered with an error (nothing changed); true when the outcome is
    /// unknown (timeout, connection lost) and the state must be checked before undoing.
    pub maybe_changed: bool,
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum Undone {
    /// The change was reversed.
    Reversed(String),
    /// There was nothing left to reverse (already gone, or never made).
    AlreadyClean(String),
    /// Irreversible: left as is.
    Skipped(String),
}

impl Undone {
    pub fn detail(&self) -> &str {
        match self {
            Undone::Reversed(s) | Undone::AlreadyClean(s) | Undone::Skipped(s) => s,
        }
    }
}

/// Carries out actions and undos against the real world (the AWS adapter implements it).
pub trait Runner {
    /// The step as it must run *now*, when what it writes depends on state that may have moved
    /// since the plan was made (a trust policy edited while the plan waited at the prompt):
    /// `None` runs the step as planned. Called before the step's saved states are written, so
    /// the "before" saved is the state the write starts from.
    fn prepare(&mut self, _step: &Step) -> impl Future<Output = Result<Option<Step>, StepError>> {
        async { Ok(None) }
    }
    fn run(&mut self, step: &Step) -> impl Future<Output = Result<Done, StepError>>;
    fn undo(&mut self, undo: &Undo) -> impl Future<Output = Result<Undone, StepError>>;
}

/// Set by Ctrl-C: the driver finishes the current step and starts no other.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
}

impl Interrupt {
    pub fn new() -> Interrupt {
        Interrupt::default()
    }
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    /// Completes when interrupted (immediately if already); for `select!` around waits.
    pub async fn wait(&self) {
        while !self.is_set() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// How an apply ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Outcome {
    /// Every step ran.
    Applied,
    /// A step failed; later steps did not run.
    Failed { step: u32, error: StepError },
    /// Ctrl-C: the current step finished, later ones did not run.
    Interrupted { after_step: Option<u32> },
}

/// A step that ran (or may have), with the undo that reverses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub step: u32,
    pub undo: Undo,
    pub temporary: bool,
    /// The step did not finish normally: its undo must check AWS's state.
    pub uncertain: bool,
}

/// The result of [`apply`].
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub outcome: Outcome,
    /// Steps whose changes are (or may be) in place, in the order they ran.
    pub applied: Vec<Applied>,
    pub facts: BTreeMap<u32, BTreeMap<String, String>>,
}

/// Runs the plan's steps in order, journaling each before and after; stops at the first
/// failure or after the step during which Ctrl-C came. Never undoes anything itself.
pub async fn apply<R: Runner>(
    plan: &Plan,
    journal: &mut Journal,
    runner: &mut R,
    interrupt: &Interrupt,
) -> std::io::Result<ApplyReport> {
    let mut report = ApplyReport {
        outcome: Outcome::Applied,
        applied: Vec::new(),
        facts: BTreeMap::new(),
    };
    let mut last_done = None;
    for step in &plan.steps {
        if interrupt.is_set() {
            report.outcome = Outcome::Interrupted {
                after_step: last_done,
            };
            return Ok(report);
        }
        let prepared = match runner.prepare(step).await {
            Ok(p) => p,
            Err(error) => {
                // Nothing was written yet: the step failed before it started.
                journal.record(Event::StepFailed {
                    step: step.id,
                    error: error.clone(),
                })?;
                report.outcome = Outcome::Failed {
                    step: step.id,
                    error,
                };
                return Ok(report);
            }
        };
        let step = prepared.as_ref().unwrap_or(step);
        for saved in &step.saves {
            journal.save_file(&saved.file, saved.content.as_bytes())?;
        }
        journal.record(Event::StepStarted {
            step: step.id,
            what: step.what.clone(),
            call: step.action.call(),
            undo: step.undo.clone(),
            temporary: step.temporary,
        })?;
        match runner.run(step).await {
            Ok(done) => {
                journal.record(Event::StepDone {
                    step: step.id,
                    undo: done.undo.clone(),
                    facts: done.facts.clone(),
                })?;
                report.applied.push(Applied {
                    step: step.id,
                    undo: done.undo,
                    temporary: step.temporary,
                    uncertain: false,
                });
                report.facts.insert(step.id, done.facts);
                last_done = Some(step.id);
            }
            Err(error) => {
                journal.record(Event::StepFailed {
                    step: step.id,
                    error: error.clone(),
                })?;
                if error.maybe_changed {
                    report.applied.push(Applied {
                        step: step.id,
                        undo: step.undo.clone(),
                        temporary: step.temporary,
                        uncertain: true,
                    });
                }
                report.outcome = Outcome::Failed {
                    step: step.id,
                    error,
                };
                return Ok(report);
            }
        }
    }
    if interrupt.is_set() {
        report.outcome = Outcome::Interrupted {
            after_step: last_done,
        };
    }
    Ok(report)
}

/// What happened to one undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    pub step: u32,
    pub description: String,
    pub result: Result<Undone, StepError>,
}

/// Runs `undos` in reverse order, journaling each; continues past failures so that one stuck
/// undo does not leave the others in place. Idempotent: each undo checks AWS's state.
pub async fn undo_all<R: Runner>(
    undos: &[Applied],
    journal: &mut Journal,
    runner: &mut R,
) -> std::io::Result<Vec<UndoReport>> {
    let mut out = Vec::new();
    for a in undos.iter().rev() {
        journal.record(Event::UndoStarted {
            step: a.step,
            undo: a.undo.clone(),
        })?;
        let result = runner.undo(&a.undo).await;
        match &result {
            Ok(u) => journal.record(Event::UndoDone {
                step: a.step,
                result: u.clone(),
            })?,
            Err(e) => journal.record(Event::UndoFailed {
                step: a.step,
                error: e.clone(),
            })?,
        }
        out.push(UndoReport {
            step: a.step,
            description: a.undo.describe(),
            result,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_call_undo_documents_and_consent() {
        let mut p = Plan::new("grant", "prod", "eu-west-1");
        p.notes.push("one-way".into());
        let s = p.push(
            "switch to API_AND_CONFIG_MAP",
            "access entries need it",
            Action::SwitchAuthMode {
                cluster: "prod".into(),
                from: "CONFIG_MAP".into(),
                to: "API_AND_CONFIG_MAP".into(),
            },
            Undo::Irreversible {
                reason: "EKS mode changes are one-way".into(),
            },
        );
        s.consent = Some("--allow-auth-mode-change".into());
        p.push(
            "trust the caller",
            "so that it can assume the role",
            Action::UpdateAssumeRolePolicy {
                role_name: "r".into(),
                document: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
            },
            Undo::RestoreAssumeRolePolicy {
                role_name: "r".into(),
                previous_file: "trust-r.json".into(),
            },
        );
        let text = p.render();
        assert!(text.contains("eks:UpdateClusterConfig"), "{text}");
        assert!(text.contains("accessConfig.authenticationMode=API_AND_CONFIG_MAP"));
        assert!(text.contains("cannot be undone"));
        assert!(text.contains("needs: --allow-auth-mode-change"));
        assert!(text.contains("\"Version\": \"2012-10-17\""));
        assert!(text.contains("byte for byte"));
        assert_eq!(p.consents(), vec!["--allow-auth-mode-change"]);
        assert_eq!(p.steps[1].id, 2);
    }

    #[test]
    fn actions_and_undos_round_trip_as_json() {
        let a = Action::AssociateAccessPolicy {
            cluster: "c".into(),
            principal_arn: "arn:aws:iam::111122223333:role/x".into(),
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["type"], "associate_access_policy");
        assert_eq!(serde_json::from_value::<Action>(v).unwrap(), a);
        let u = Undo::DeleteAccessKey {
            user_name: "u".into(),
            access_key_id: None,
            keys_before: vec!["AKIA1".into()],
        };
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(serde_json::from_value::<Undo>(v).unwrap(), u);
        assert!(
            u.call()
                .unwrap()
                .to_string()
                .starts_with("iam:DeleteAccessKey")
        );
        assert!(!Undo::Irreversible { reason: "x".into() }.is_reversible());
    }

    #[test]
    fn saved_state_content_is_not_serialised() {
        let s = SavedState {
            file: "f".into(),
            description: "d".into(),
            content: "SECRET-ISH".into(),
        };
        assert!(!serde_json::to_string(&s).unwrap().contains("SECRET-ISH"));
    }

    #[tokio::test]
    async fn interrupt_wait_returns_once_triggered() {
        let i = Interrupt::new();
        let j = i.clone();
        let waiter = tokio::spawn(async move { j.wait().await });
        tokio::task::yield_now().await;
        i.trigger();
        waiter.await.unwrap();
        assert!(i.is_set());
        i.wait().await;
    }
}
