//! The executor of plans: runs each [`Action`] and [`Undo`] with the SDK adapters.
//!
//! The domain describes changes as data; this is the one place that turns them into AWS calls,
//! so that `grant`, `assume-creator`, `cleanup` (and later `restore`/`recover`) share the same
//! idempotent, state-checking implementation. Secrets (a new key's secret) stay in memory here
//! and are handed to the command that asked for them; only ids reach the journal.

use super::access::{self, UpdateState};
use super::iam_write::{self, NewAccessKey};
use super::{AwsContext, AwsError, AwsErrorKind, eks, token};
use crate::k8s::{ApiTarget, KubeClient, KubeError};
use crate::recovery::journal::Journal;
use crate::recovery::plan::{Action, Done, Interrupt, Runner, Step, StepError, Undo, Undone};
use aws_credential_types::Credentials;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;
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
    /// The identity Kubernetes writes use (the one the run got in with); default: the context's.
    kube_credentials: Option<Credentials>,
    /// The cluster CA from `--ca-file`, instead of DescribeCluster's.
    pub ca_pem_override: Option<Vec<u8>>,
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
            kube_credentials: None,
            ca_pem_override: None,
        }
    }

    /// Kubernetes writes (aws-auth) from now on authenticate with `creds`.
    pub fn use_kube_credentials(&mut self, creds: Credentials) {
        self.kube_credentials = Some(creds);
    }

    /// A client for the cluster's API server as the run's Kubernetes identity.
    async fn kube_client(
        &self,
        cluster: &str,
        api_server: Option<&str>,
        tls_server_name: Option<&str>,
    ) -> Result<KubeClient, AwsError> {
        let facts = eks::describe_cluster(self.ctx, cluster).await?;
        let server = api_server
            .map(str::to_string)
            .or(facts.endpoint.clone())
            .ok_or_else(|| {
                AwsError::new(
                    "eks:DescribeCluster",
                    AwsErrorKind::Service,
                    format!("cluster {cluster} has no API endpoint"),
                )
            })?;
        let creds = match &self.kube_credentials {
            Some(c) => c.clone(),
            None => self.ctx.credentials().await?,
        };
        let tok = token::make_token(&creds, &facts.region, &facts.name, SystemTime::now())
            .map_err(|e| {
                AwsError::new(
                    "sts:GetCallerIdentity",
                    AwsErrorKind::InvalidInput,
                    e.to_string(),
                )
            })?;
        let target = ApiTarget {
            server,
            ca_pem: self.ca_pem_override.clone().or(facts.ca_pem),
            tls_server_name: tls_server_name.map(str::to_string),
        };
        KubeClient::new(&target, &tok.token).map_err(kube_err)
    }

    /// Writes a private file in the run directory (0600), replacing an older one.
    fn write_run_file(&self, name: &str, bytes: &[u8]) -> Result<(), AwsError> {
        crate::kubeconfig::write_private_atomic(&self.journal_dir.join(name), bytes).map_err(|e| {
            AwsError::new(
                "kubernetes:update",
                AwsErrorKind::Service,
                format!(
                    "cannot write {} in the run directory {}: {e}",
                    name,
                    self.journal_dir.display()
                ),
            )
        })
    }

    /// The aws-auth write: read the live object, back it up, build the candidate from the
    /// source (salvage or file) plus the node roles, refuse lint errors, compare-and-swap; on
    /// a concurrent change (409) start over from the new live object, a bounded number of times.
    #[allow(clippy::too_many_arguments)]
    async fn write_aws_auth(
        &self,
        cluster: &str,
        from: Option<&str>,
        node_roles: &[crate::awsauth::NodeRoleFact],
        api_server: Option<&str>,
        tls_server_name: Option<&str>,
        backup_file: &str,
        candidate_file: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        use crate::recovery::recover::{self, Source};
        let client = self
            .kube_client(cluster, api_server, tls_server_name)
            .await?;
        let file_doc = match from {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    AwsError::new(
                        "kubernetes:update",
                        AwsErrorKind::InvalidInput,
                        format!("cannot read {path}: {e}"),
                    )
                })?;
                Some(crate::awsauth::read_document(path, &bytes).map_err(|e| {
                    AwsError::new(
                        "kubernetes:update",
                        AwsErrorKind::InvalidInput,
                        format!("{path}: {e}"),
                    )
                })?)
            }
            None => None,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            (self.status)(&format!(
                "writing kube-system/aws-auth of {cluster} (attempt {attempt})…"
            ));
            let live = client.get_configmap("aws-auth").await.map_err(kube_err)?;
            let live_json = serde_json::to_string_pretty(&live).unwrap_or_else(|_| "null".into());
            self.write_run_file(backup_file, live_json.as_bytes())?;
            let live_doc = live.as_ref().map(|cm| {
                crate::awsauth::AwsAuthDocument::from_data(
                    "live",
                    cm.data.clone().unwrap_or_default(),
                )
            });
            let (source, source_doc) = match (&file_doc, &live_doc) {
                (Some(d), _) => (
                    Source::File(from.unwrap_or_default().to_string()),
                    d.clone(),
                ),
                (None, Some(l)) => (Source::Salvage, l.clone()),
                (None, None) => (
                    Source::Salvage,
                    crate::awsauth::AwsAuthDocument::from_data(
                        "empty",
                        Vec::<(String, String)>::new(),
                    ),
                ),
            };
            let cand = recover::build_candidate(&source, &source_doc, live_doc.as_ref(), node_roles)
                .map_err(|e| {
                    AwsError::new("kubernetes:update", AwsErrorKind::InvalidInput, e.to_string()).with_hint(
                        "nothing was written; fix the source (or pass --from FILE with a known-good aws-auth) and re-run",
                    )
                })?;
            let cand_json = serde_json::to_string_pretty(&cand.data).unwrap_or_default();
            self.write_run_file(candidate_file, cand_json.as_bytes())?;
            let result = match live {
                Some(mut cm) => {
                    cm.data = Some(cand.data.clone());
                    client.replace_configmap(&cm).await
                }
                None => {
                    let mut cm = k8s_openapi::api::core::v1::ConfigMap::default();
                    cm.metadata.name = Some("aws-auth".into());
                    cm.metadata.namespace = Some("kube-system".into());
                    cm.data = Some(cand.data.clone());
                    client.create_configmap(&cm).await
                }
            };
            match result {
                Ok(written) => {
                    let mut facts = BTreeMap::new();
                    facts.insert(
                        "resource_version".into(),
                        written.metadata.resource_version.unwrap_or_default(),
                    );
                    facts.insert("source".into(), source.describe());
                    facts.insert("added_node_roles".into(), cand.added_node_roles.join(", "));
                    facts.insert("diff".into(), diff_summary(&cand.diff));
                    facts.insert("attempts".into(), attempt.to_string());
                    for (i, n) in cand.notes.iter().enumerate() {
                        facts.insert(format!("salvage_note_{i:02}"), n.clone());
                    }
                    return Ok(facts);
                }
                Err(KubeError::Conflict(_)) if attempt < 3 => {
                    (self.status)("aws-auth changed meanwhile (409): reading it again…");
                }
                Err(e) => return Err(kube_err(e)),
            }
        }
    }

    async fn restore_aws_auth(
        &self,
        cluster: &str,
        api_server: Option<&str>,
        tls_server_name: Option<&str>,
        backup_file: &str,
        candidate_file: &str,
    ) -> Result<Undone, AwsError> {
        let read = |name: &str| std::fs::read_to_string(self.journal_dir.join(name)).ok();
        let Some(candidate) = read(candidate_file)
            .and_then(|t| serde_json::from_str::<BTreeMap<String, String>>(&t).ok())
        else {
            return Ok(Undone::AlreadyClean(format!(
                "the run never wrote aws-auth of {cluster}"
            )));
        };
        let backup: Option<k8s_openapi::api::core::v1::ConfigMap> = read(backup_file)
            .and_then(|t| serde_json::from_str(&t).ok())
            .flatten();
        let client = self
            .kube_client(cluster, api_server, tls_server_name)
            .await?;
        let live = client.get_configmap("aws-auth").await.map_err(kube_err)?;
        let live_data = live
            .as_ref()
            .and_then(|c| c.data.clone())
            .unwrap_or_default();
        let backup_data = backup.as_ref().and_then(|c| c.data.clone());
        if live.is_some() && backup_data.as_ref() == Some(&live_data) {
            return Ok(Undone::AlreadyClean(format!(
                "aws-auth of {cluster} is already the saved version"
            )));
        }
        if live.is_none() || live_data != candidate {
            return Err(AwsError::new(
                "kubernetes:update",
                AwsErrorKind::Service,
                format!(
                    "aws-auth of {cluster} was changed after this run wrote it; it is left as is"
                ),
            )
            .with_hint(format!(
                "compare it with {} (before the run) and restore by hand if needed",
                self.journal_dir.join(backup_file).display()
            )));
        }
        let Some(mut cm) = live else {
            return Ok(Undone::AlreadyClean(format!(
                "aws-auth of {cluster} is gone"
            )));
        };
        match backup_data {
            Some(d) => {
                cm.data = Some(d);
                client.replace_configmap(&cm).await.map_err(kube_err)?;
                Ok(Undone::Reversed(format!(
                    "put back the aws-auth of {cluster} from {backup_file}"
                )))
            }
            None => {
                client
                    .delete_configmap("aws-auth")
                    .await
                    .map_err(kube_err)?;
                Ok(Undone::Reversed(format!(
                    "deleted aws-auth of {cluster}: it did not exist before the run"
                )))
            }
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
            Action::WriteAwsAuth {
                cluster,
                from,
                node_roles,
                api_server,
                tls_server_name,
                backup_file,
                candidate_file,
            } => {
                facts = self
                    .write_aws_auth(
                        cluster,
                        from.as_deref(),
                        node_roles,
                        api_server.as_deref(),
                        tls_server_name.as_deref(),
                        backup_file,
                        candidate_file,
                    )
                    .await?;
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
            Undo::RestoreAwsAuth {
                cluster,
                api_server,
                tls_server_name,
                backup_file,
                candidate_file,
            } => {
                self.restore_aws_auth(
                    cluster,
                    api_server.as_deref(),
                    tls_server_name.as_deref(),
                    backup_file,
                    candidate_file,
                )
                .await?
            }
        })
    }
}

/// A Kubernetes failure of a step, in the runner's error type: the API server's words, and
/// whether the write may have happened.
fn kube_err(e: KubeError) -> AwsError {
    let kind = match &e {
        KubeError::Unreachable { .. } => AwsErrorKind::Unreachable,
        KubeError::Unauthorized | KubeError::Forbidden(_) => AwsErrorKind::AccessDenied,
        KubeError::Rejected(_) => AwsErrorKind::InvalidInput,
        _ => AwsErrorKind::Service,
    };
    let hint = e.hint();
    let mut err = AwsError::new("kubernetes:update", kind, e.to_string());
    if let Some(h) = hint {
        err = err.with_hint(h);
    }
    err
}

/// One line saying who gains and loses access.
pub fn diff_summary(d: &crate::awsauth::MappingDiff) -> String {
    let names = |v: &[crate::awsauth::diff::DiffEntry]| {
        v.iter()
            .map(|e| e.arn.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = format!(
        "roles +{} -{} ~{}, users +{} -{} ~{}",
        d.roles.added.len(),
        d.roles.removed.len(),
        d.roles.changed.len(),
        d.users.added.len(),
        d.users.removed.len(),
        d.users.changed.len()
    );
    for (label, v) in [
        ("roles added", &d.roles.added),
        ("users added", &d.users.added),
        ("roles removed", &d.roles.removed),
        ("users removed", &d.users.removed),
    ] {
        if !v.is_empty() {
            s.push_str(&format!("; {label}: {}", names(v)));
        }
    }
    s
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
        self.run_action(step).await.map_err(|e| step_error(&e))
    }

    async fn undo(&mut self, undo: &Undo) -> Result<Undone, StepError> {
        self.run_undo(undo).await.map_err(|e| step_error(&e))
    }
}
