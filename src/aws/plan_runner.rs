//! The executor of plans: runs each [`Action`] and [`Undo`] with the SDK adapters.
//!
//! The domain describes changes as data; this is the one place that turns them into AWS calls,
//! so that `grant`, `assume-creator`, `cleanup` (and later `restore`/`recover`) share the same
//! idempotent, state-checking implementation. Secrets (a new key's secret) stay in memory here
//! and are handed to the command that asked for them; only ids reach the journal.

use super::access::{self, UpdateState};
use super::cluster_api;
use super::iam_write::{self, NewAccessKey};
use super::{AwsContext, AwsError, AwsErrorKind};
use crate::error::AppError;
use crate::recovery::journal::Journal;
use crate::recovery::plan::{Action, Done, Interrupt, Runner, Step, StepError, Undo, Undone};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Runs plans against AWS.
pub struct AwsRunner<'a> {
    ctx: &'a AwsContext,
    journal_dir: PathBuf,
    interrupt: Interrupt,
    /// How long to wait for an EKS update (the authentication mode switch) to finish.
    pub update_timeout: Duration,
    /// How often to poll DescribeUpdate.
    pub poll_every: Duration,
    /// Shows what is being waited for (a spinner in a terminal).
    status: Box<dyn Fn(&str) + 'a>,
    keys: Vec<NewAccessKey>,
    /// The last ConfigMap write was refused with 409 (someone changed it since it was read):
    /// the command re-reads, re-diffs and asks again.
    pub configmap_conflict: bool,
}

impl<'a> AwsRunner<'a> {
    pub fn new(
        ctx: &'a AwsContext,
        journal_dir: PathBuf,
        interrupt: Interrupt,
        status: Box<dyn Fn(&str) + 'a>,
    ) -> AwsRunner<'a> {
        AwsRunner {
            ctx,
            journal_dir,
            interrupt,
            update_timeout: Duration::from_secs(20 * 60),
            poll_every: Duration::from_millis(500),
            status,
            keys: Vec::new(),
            configmap_conflict: false,
        }
    }

    /// The access keys this run created (with their secrets), oldest first.
    pub fn created_keys(&self) -> &[NewAccessKey] {
        &self.keys
    }

    /// Forgets a key whose undo ran.
    pub fn forget_key(&mut self, key_id: &str) {
        self.keys.retain(|k| k.access_key_id != key_id);
    }

    async fn wait_for_update(
        &self,
        cluster: &str,
        update_id: &str,
    ) -> Result<&'static str, AwsError> {
        let start = Instant::now();
        loop {
            match access::describe_update(self.ctx, cluster, update_id).await? {
                UpdateState::Successful => return Ok("successful"),
                UpdateState::Failed(msg) => {
                    return Err(AwsError::new(
                        "eks:UpdateClusterConfig",
                        AwsErrorKind::Service,
                        format!("the authentication mode update {update_id} failed: {msg}"),
                    ));
                }
                UpdateState::InProgress => {}
            }
            if start.elapsed() > self.update_timeout {
                return Err(AwsError::new(
                    "eks:DescribeUpdate",
                    AwsErrorKind::Service,
                    format!(
                        "update {update_id} still in progress after {}s",
                        self.update_timeout.as_secs()
                    ),
                )
                .with_hint(format!(
                    "check it with `aws eks describe-update --name {cluster} --update-id {update_id}`, then re-run"
                )));
            }
            (self.status)(&format!(
                "waiting for EKS update {update_id} (authentication mode) to finish… {}s",
                start.elapsed().as_secs()
            ));
            tokio::select! {
                _ = tokio::time::sleep(self.poll_every) => {}
                _ = self.interrupt.wait() => return Ok("interrupted while waiting; the switch goes on in EKS"),
            }
        }
    }

    async fn run_action(&mut self, step: &Step) -> Result<Done, AwsError> {
        let mut facts = BTreeMap::new();
        let mut undo = step.undo.clone();
        match &step.action {
            Action::CreateAccessKey { user_name } => {
                let key = iam_write::create_access_key(self.ctx, user_name).await?;
                facts.insert("access_key_id".into(), key.access_key_id.clone());
                if let Undo::DeleteAccessKey { access_key_id, .. } = &mut undo {
                    *access_key_id = Some(key.access_key_id.clone());
                }
                self.keys.push(key);
            }
            Action::UpdateAssumeRolePolicy {
                role_name,
                document,
            } => iam_write::update_assume_role_policy(self.ctx, role_name, document).await?,
            Action::CreateUser { user_name, path } => {
                match iam_write::create_user(self.ctx, user_name, path).await? {
                    Some(id) => {
                        facts.insert("unique_id".into(), id);
                    }
                    None => return Err(already_exists("iam:CreateUser", "user", user_name)),
                }
            }
            Action::CreateRole {
                role_name,
                path,
                trust_document,
            } => match iam_write::create_role(self.ctx, role_name, path, trust_document).await? {
                Some(id) => {
                    facts.insert("unique_id".into(), id);
                }
                None => return Err(already_exists("iam:CreateRole", "role", role_name)),
            },
            Action::PutRolePolicy {
                role_name,
                policy_name,
                document,
            } => iam_write::put_role_policy(self.ctx, role_name, policy_name, document).await?,
            Action::SwitchAuthMode { cluster, to, .. } => {
                let id = access::update_auth_mode(self.ctx, cluster, to).await?;
                facts.insert("update_id".into(), id.clone());
                let how = self.wait_for_update(cluster, &id).await?;
                facts.insert("update_status".into(), how.into());
            }
            Action::CreateAccessEntry {
                cluster,
                principal_arn,
            } => {
                if !access::create_access_entry(self.ctx, cluster, principal_arn).await? {
                    return Err(AwsError::new(
                        "eks:CreateAccessEntry",
                        AwsErrorKind::Service,
                        format!("an access entry for {principal_arn} appeared meanwhile (not made by this run)"),
                    )
                    .with_hint("re-run: the new plan will use the existing entry"));
                }
            }
            Action::AssociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
            } => {
                access::associate_cluster_policy(self.ctx, cluster, principal_arn, policy_arn)
                    .await?
            }
            // Kubernetes writes are not AWS calls: `Runner::run` sends them to `cluster_api`.
            Action::WriteConfigMap { .. } => {
                return Err(AwsError::new(
                    "kubernetes:UpdateConfigMap",
                    AwsErrorKind::Service,
                    "a ConfigMap write is run through Runner::run",
                ));
            }
        }
        Ok(Done { undo, facts })
    }

    async fn run_undo(&mut self, undo: &Undo) -> Result<Undone, AwsError> {
        let done = |changed: bool, yes: String, no: String| {
            if changed {
                Undone::Reversed(yes)
            } else {
                Undone::AlreadyClean(no)
            }
        };
        Ok(match undo {
            Undo::Irreversible { reason } => Undone::Skipped(reason.clone()),
            Undo::DeleteAccessKey {
                user_name,
                access_key_id: Some(id),
                ..
            } => {
                let changed = iam_write::delete_access_key(self.ctx, user_name, id).await?;
                self.forget_key(id);
                done(
                    changed,
                    format!("deleted access key {id} of user {user_name}"),
                    format!("access key {id} of user {user_name} was already gone"),
                )
            }
            Undo::DeleteAccessKey {
                user_name,
                access_key_id: None,
                keys_before,
            } => {
                // The run died between CreateAccessKey and the journal: every key the user has
                // now that it did not have before the run is this run's.
                let Some(now) = iam_write::access_key_ids(self.ctx, user_name).await? else {
                    return Ok(Undone::AlreadyClean(format!(
                        "user {user_name} no longer exists"
                    )));
                };
                let new: Vec<String> = now
                    .into_iter()
                    .filter(|k| !keys_before.contains(k))
                    .collect();
                for k in &new {
                    iam_write::delete_access_key(self.ctx, user_name, k).await?;
                    self.forget_key(k);
                }
                if new.is_empty() {
                    Undone::AlreadyClean(format!("user {user_name} has no key made by this run"))
                } else {
                    Undone::Reversed(format!(
                        "deleted access key(s) {} of user {user_name} (found by comparing with the keys before the run)",
                        new.join(", ")
                    ))
                }
            }
            Undo::RestoreAssumeRolePolicy {
                role_name,
                previous_file,
            } => {
                let bytes = Journal::read_file(&self.journal_dir, previous_file).map_err(|e| {
                    AwsError::new(
                        "iam:UpdateAssumeRolePolicy",
                        AwsErrorKind::InvalidInput,
                        format!(
                            "cannot read the saved trust policy {}: {e}",
                            self.journal_dir.join(previous_file).display()
                        ),
                    )
                })?;
                let doc = String::from_utf8_lossy(&bytes).into_owned();
                match iam_write::update_assume_role_policy(self.ctx, role_name, &doc).await {
                    Ok(()) => Undone::Reversed(format!(
                        "restored the trust policy of role {role_name} from {previous_file}"
                    )),
                    Err(e) if e.kind == AwsErrorKind::NotFound => {
                        Undone::AlreadyClean(format!("role {role_name} no longer exists"))
                    }
                    Err(e) => return Err(e),
                }
            }
            Undo::DeleteUser { user_name } => {
                let changed = iam_write::delete_user_with_attachments(self.ctx, user_name).await?;
                done(
                    changed,
                    format!("deleted user {user_name} with its keys and policies"),
                    format!("user {user_name} was already gone"),
                )
            }
            Undo::DeleteRole { role_name } => {
                let changed = iam_write::delete_role_with_policies(self.ctx, role_name).await?;
                done(
                    changed,
                    format!("deleted role {role_name} with its policies"),
                    format!("role {role_name} was already gone"),
                )
            }
            Undo::DeleteRolePolicy {
                role_name,
                policy_name,
            } => {
                let changed =
                    iam_write::delete_role_policy(self.ctx, role_name, policy_name).await?;
                done(
                    changed,
                    format!("deleted inline policy {policy_name} of role {role_name}"),
                    format!("inline policy {policy_name} of role {role_name} was already gone"),
                )
            }
            Undo::DeleteAccessEntry {
                cluster,
                principal_arn,
            } => {
                let changed = access::delete_access_entry(self.ctx, cluster, principal_arn).await?;
                done(
                    changed,
                    format!("deleted the access entry of {principal_arn} on {cluster}"),
                    format!("the access entry of {principal_arn} on {cluster} was already gone"),
                )
            }
            Undo::RestoreConfigMap { .. } => {
                return Err(AwsError::new(
                    "kubernetes:UpdateConfigMap",
                    AwsErrorKind::Service,
                    "a ConfigMap restore is run through Runner::undo",
                ));
            }
            Undo::DisassociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
            } => {
                let changed =
                    access::disassociate_policy(self.ctx, cluster, principal_arn, policy_arn)
                        .await?;
                done(
                    changed,
                    format!("disassociated {policy_arn} from {principal_arn}"),
                    format!("{policy_arn} was not associated with {principal_arn}"),
                )
            }
        })
    }
}

fn already_exists(action: &str, kind: &str, name: &str) -> AwsError {
    AwsError::new(
        action,
        AwsErrorKind::Service,
        format!("{kind} {name} exists already (created by someone else since the plan was made)"),
    )
    .with_hint("re-run the command: the new plan starts from what exists now")
}

/// A step error from an AWS error: which action was denied, and whether something may have
/// changed (only when the request's outcome is unknown).
pub fn step_error(e: &AwsError) -> StepError {
    StepError {
        message: e.to_string(),
        denied_action: (e.kind == AwsErrorKind::AccessDenied).then(|| e.action.clone()),
        hint: e.hint.clone(),
        maybe_changed: e.kind == AwsErrorKind::Unreachable,
    }
}

impl Runner for AwsRunner<'_> {
    async fn run(&mut self, step: &Step) -> Result<Done, StepError> {
        if let Action::WriteConfigMap {
            access,
            name,
            resource_version,
            file,
        } = &step.action
        {
            self.configmap_conflict = false;
            return match cluster_api::write_step(
                self.ctx,
                &self.journal_dir,
                access,
                name,
                resource_version.as_deref(),
                file,
            )
            .await
            {
                Ok(facts) => Ok(Done {
                    undo: step.undo.clone(),
                    facts,
                }),
                Err(e) => {
                    self.configmap_conflict =
                        matches!(e, AppError::Kube(crate::k8s::KubeError::Conflict(_)));
                    Err(cluster_api::step_error(&e))
                }
            };
        }
        self.run_action(step).await.map_err(|e| step_error(&e))
    }

    async fn undo(&mut self, undo: &Undo) -> Result<Undone, StepError> {
        if let Undo::RestoreConfigMap {
            access,
            name,
            previous_file,
            written_file,
        } = undo
        {
            return cluster_api::restore_undo(
                self.ctx,
                &self.journal_dir,
                access,
                name,
                previous_file.as_deref(),
                written_file,
            )
            .await
            .map_err(|e| cluster_api::step_error(&e));
        }
        self.run_undo(undo).await.map_err(|e| step_error(&e))
    }
}
