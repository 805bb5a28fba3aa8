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
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

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
    /// Who writes Kubernetes objects (default: the context's credentials), e.g. the creator's.
    pub kube_credentials: Option<Credentials>,
    /// Where the API server is, when not the endpoint DescribeCluster gives (a tunnel).
    pub api_target: Option<ApiTarget>,
    kube: BTreeMap<String, KubeClient>,
    /// Access entries this run found existing (409) and adopted: (cluster, principal) → the
    /// policies they had then.
    adopted: BTreeMap<(String, String), Vec<String>>,
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
            poll_every: Duration::from_millis(250),
            status,
            keys: Vec::new(),
            kube_credentials: None,
            api_target: None,
            kube: BTreeMap::new(),
            adopted: BTreeMap::new(),
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

    /// UpdateClusterConfig of the authentication mode. When EKS refuses it because an update
    /// is already running (a killed earlier run's switch, most likely), wait for that update;
    /// then the mode is `to` already (done) or the switch is asked again, once.
    async fn switch_auth_mode(
        &self,
        cluster: &str,
        to: &str,
        facts: &mut BTreeMap<String, String>,
    ) -> Result<String, AwsError> {
        match access::update_auth_mode(self.ctx, cluster, to).await {
            Ok(id) => Ok(id),
            Err(e) if e.code.as_deref() == Some("ResourceInUseException") => {
                let Some(running) = access::update_in_progress(self.ctx, cluster).await? else {
                    return Err(e);
                };
                facts.insert("joined_update_id".into(), running.clone());
                let how = self.wait_for_update(cluster, &running).await?;
                if how != "successful" {
                    return Ok(running);
                }
                let now = eks::describe_cluster(self.ctx, cluster).await?;
                if now.effective_auth_mode().as_str() == to {
                    Ok(running)
                } else {
                    access::update_auth_mode(self.ctx, cluster, to).await
                }
            }
            Err(e) => Err(e),
        }
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
            let pause = super::ratelimit::poll_pause(start.elapsed()).max(self.poll_every);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
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
                let id = self.switch_auth_mode(cluster, to, &mut facts).await?;
                facts.insert("update_id".into(), id.clone());
                let how = self.wait_for_update(cluster, &id).await?;
                facts.insert("update_status".into(), how.into());
            }
            Action::CreateAccessEntry {
                cluster,
                principal_arn,
            } => {
                if !access::create_access_entry(self.ctx, cluster, principal_arn).await? {
                    // 409 ResourceInUseException: the entry exists (EKS makes the creator's
                    // at the CONFIG_MAP -> API_AND_CONFIG_MAP switch, or someone else made
                    // it). Adopt it: the run goes on, and undo leaves it (and the policies
                    // it already had) alone, since this run did not make them.
                    let existing =
                        access::associated_policies(self.ctx, cluster, principal_arn).await?;
                    facts.insert("adopted".into(), "true".into());
                    facts.insert("policies_before".into(), existing.join(","));
                    undo = Undo::Irreversible {
                        reason: format!(
                            "the access entry for {principal_arn} already existed when the run reached it (not made by this run): left as is"
                        ),
                    };
                    self.adopted
                        .insert((cluster.clone(), principal_arn.clone()), existing);
                }
            }
            Action::DeleteAccessEntry {
                cluster,
                principal_arn,
            } => {
                access::delete_access_entry(self.ctx, cluster, principal_arn).await?;
            }
            Action::AssociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
            } => {
                let already = self
                    .adopted
                    .get(&(cluster.clone(), principal_arn.clone()))
                    .is_some_and(|before| before.iter().any(|p| p == policy_arn));
                if already {
                    facts.insert("adopted".into(), "true".into());
                    undo = Undo::Irreversible {
                        reason: format!(
                            "{policy_arn} was already associated with the adopted entry for {principal_arn}: left as is"
                        ),
                    };
                } else {
                    access::associate_cluster_policy(self.ctx, cluster, principal_arn, policy_arn)
                        .await?
                }
            }
            Action::TagResource { resource_arn, tags } => {
                super::eks_tags::tag_resource(self.ctx, resource_arn, tags).await?
            }
            Action::WriteConfigMap { .. } => {
                return Err(AwsError::new(
                    "kubernetes:configmaps.update",
                    AwsErrorKind::Service,
                    "a Kubernetes write is not an AWS call",
                ));
            }
        }
        Ok(Done { undo, facts })
    }

    /// A client for `cluster`'s API server, authenticated with a fresh EKS token.
    async fn kube(&mut self, cluster: &str) -> Result<KubeClient, StepError> {
        if let Some(k) = self.kube.get(cluster) {
            return Ok(k.clone());
        }
        let target = match &self.api_target {
            Some(t) => t.clone(),
            None => {
                let facts = eks::describe_cluster(self.ctx, cluster)
                    .await
                    .map_err(|e| step_error(&e))?;
                let server = facts
                    .endpoint
                    .ok_or_else(|| plain_error(format!("cluster {cluster} has no API endpoint")))?;
                ApiTarget {
                    server,
                    ca_pem: facts.ca_pem,
                    tls_server_name: None,
                }
            }
        };
        let creds = match &self.kube_credentials {
            Some(c) => c.clone(),
            None => self.ctx.credentials().await.map_err(|e| step_error(&e))?,
        };
        let tok = token::make_token(&creds, &self.ctx.region, cluster, SystemTime::now())
            .map_err(|e| plain_error(e.to_string()))?;
        let client = KubeClient::new(&target, &tok.token).map_err(|e| kube_error(&e))?;
        self.kube.insert(cluster.to_string(), client.clone());
        Ok(client)
    }

    async fn write_configmap(&mut self, step: &Step) -> Result<Done, StepError> {
        let Action::WriteConfigMap {
            cluster,
            namespace,
            name,
            desired_file,
            expected_resource_version,
        } = &step.action
        else {
            return Err(plain_error("not a ConfigMap write".into()));
        };
        only_kube_system(namespace)?;
        let mut desired = self.read_configmap_file(desired_file)?;
        desired.metadata.name = Some(name.clone());
        desired.metadata.namespace = Some(namespace.clone());
        let kube = self.kube(cluster).await?;
        let current = kube.get_configmap(name).await.map_err(|e| kube_error(&e))?;
        let written = match current {
            Some(cur) => {
                let live = cur.metadata.resource_version.clone();
                if let Some(expected) = expected_resource_version
                    && live.as_deref() != Some(expected.as_str())
                {
                    return Err(StepError {
                        message: format!(
                            "{namespace}/{name} changed since the plan was made (resourceVersion {} instead of {expected})",
                            live.as_deref().unwrap_or("?")
                        ),
                        denied_action: None,
                        hint: Some("someone else edited it: re-run to see the new diff".into()),
                        maybe_changed: false,
                    });
                }
                desired.metadata.resource_version = live;
                kube.replace_configmap(&desired).await
            }
            None if expected_resource_version.is_some() => {
                return Err(StepError {
                    message: format!("{namespace}/{name} was deleted since the plan was made"),
                    denied_action: None,
                    hint: Some("re-run to plan from what exists now".into()),
                    maybe_changed: false,
                });
            }
            None => {
                desired.metadata.resource_version = None;
                kube.create_configmap(&desired).await
            }
        }
        .map_err(|e| kube_error(&e))?;
        let mut facts = BTreeMap::new();
        if let Some(rv) = written.metadata.resource_version {
            facts.insert("resource_version".into(), rv);
        }
        Ok(Done {
            undo: step.undo.clone(),
            facts,
        })
    }

    fn read_configmap_file(&self, file: &str) -> Result<ConfigMap, StepError> {
        let bytes = Journal::read_file(&self.journal_dir, file).map_err(|e| {
            plain_error(format!(
                "cannot read {}: {e}",
                self.journal_dir.join(file).display()
            ))
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| plain_error(format!("{file} is not a ConfigMap: {e}")))
    }

    async fn restore_configmap(
        &mut self,
        cluster: &str,
        namespace: &str,
        name: &str,
        previous_file: Option<&str>,
        written_file: Option<&str>,
    ) -> Result<Undone, StepError> {
        only_kube_system(namespace)?;
        let kube = self.kube(cluster).await?;
        if let Some(w) = written_file {
            self.still_as_written(&kube, cluster, namespace, name, previous_file, w)
                .await?;
        }
        let Some(file) = previous_file else {
            return match kube.delete_configmap(name).await {
                Ok(()) => Ok(Undone::Reversed(format!(
                    "deleted {namespace}/{name} (it did not exist before the run)"
                ))),
                Err(KubeError::NotFound(_)) => Ok(Undone::AlreadyClean(format!(
                    "{namespace}/{name} does not exist"
                ))),
                Err(e) => Err(kube_error(&e)),
            };
        };
        let mut prev = self.read_configmap_file(file)?;
        prev.metadata.uid = None;
        prev.metadata.creation_timestamp = None;
        prev.metadata.managed_fields = None;
        prev.metadata.name = Some(name.to_string());
        prev.metadata.namespace = Some(namespace.to_string());
        let current = kube.get_configmap(name).await.map_err(|e| kube_error(&e))?;
        match current {
            Some(cur)
                if cur.data == prev.data
                    && cur.binary_data == prev.binary_data
                    && cur.metadata.labels == prev.metadata.labels
                    && cur.metadata.annotations == prev.metadata.annotations =>
            {
                Ok(Undone::AlreadyClean(format!(
                    "{namespace}/{name} is already as saved in {file}"
                )))
            }
            Some(cur) => {
                prev.metadata.resource_version = cur.metadata.resource_version;
                kube.replace_configmap(&prev)
                    .await
                    .map_err(|e| kube_error(&e))?;
                Ok(Undone::Reversed(format!(
                    "restored {namespace}/{name} from {file}"
                )))
            }
            None => {
                prev.metadata.resource_version = None;
                kube.create_configmap(&prev)
                    .await
                    .map_err(|e| kube_error(&e))?;
                Ok(Undone::Reversed(format!(
                    "recreated {namespace}/{name} from {file}"
                )))
            }
        }
    }

    /// Refuses to undo a ConfigMap write when the cluster holds neither what the run wrote nor
    /// what was there before: someone changed it since, and their change is left in place.
    async fn still_as_written(
        &self,
        kube: &KubeClient,
        cluster: &str,
        namespace: &str,
        name: &str,
        previous_file: Option<&str>,
        written_file: &str,
    ) -> Result<(), StepError> {
        let same = |a: &ConfigMap, b: &ConfigMap| {
            a.data.clone().unwrap_or_default() == b.data.clone().unwrap_or_default()
                && a.metadata.labels.clone().unwrap_or_default()
                    == b.metadata.labels.clone().unwrap_or_default()
                && a.metadata.annotations.clone().unwrap_or_default()
                    == b.metadata.annotations.clone().unwrap_or_default()
        };
        let written = self.read_configmap_file(written_file)?;
        let previous = previous_file
            .map(|f| self.read_configmap_file(f))
            .transpose()?;
        let current = kube.get_configmap(name).await.map_err(|e| kube_error(&e))?;
        let untouched = match (&current, &previous) {
            (None, None) => true,
            (Some(c), _) if same(c, &written) => true,
            (Some(c), Some(p)) => same(c, p),
            _ => false,
        };
        if untouched {
            return Ok(());
        }
        let dir = self.journal_dir.display();
        Err(StepError {
            message: format!(
                "{namespace}/{name} was changed by someone else after this run wrote it; it is left as is"
            ),
            denied_action: None,
            hint: Some(match previous_file {
                Some(f) => format!(
                    "compare it with {dir}/{f}; to put that version back: eks-breakglass aws-auth restore --cluster {cluster} --from {dir}/{f}"
                ),
                None => format!(
                    "it did not exist before the run; delete it yourself if it must go: kubectl -n {namespace} delete configmap {name}"
                ),
            }),
            maybe_changed: false,
        })
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
            Undo::RestoreTags {
                resource_arn,
                remove,
                previous,
            } => {
                let mut exists = true;
                if !remove.is_empty() {
                    exists =
                        super::eks_tags::untag_resource(self.ctx, resource_arn, remove).await?;
                }
                if exists && !previous.is_empty() {
                    match super::eks_tags::tag_resource(self.ctx, resource_arn, previous).await {
                        Ok(()) => {}
                        Err(e) if e.kind == AwsErrorKind::NotFound => exists = false,
                        Err(e) => return Err(e),
                    }
                }
                done(
                    exists,
                    format!("put the tags of {resource_arn} back as they were"),
                    format!("{resource_arn} no longer exists"),
                )
            }
            Undo::RestoreConfigMap { .. } => {
                return Err(AwsError::new(
                    "kubernetes:configmaps.update",
                    AwsErrorKind::Service,
                    "a Kubernetes write is not an AWS call",
                ));
            }
        })
    }
}

fn plain_error(message: String) -> StepError {
    StepError {
        message,
        denied_action: None,
        hint: None,
        maybe_changed: false,
    }
}

fn only_kube_system(namespace: &str) -> Result<(), StepError> {
    if namespace == "kube-system" {
        Ok(())
    } else {
        Err(plain_error(format!(
            "only ConfigMaps in kube-system can be written (asked: {namespace})"
        )))
    }
}

/// A step error from a Kubernetes error: RBAC refusals name what was refused.
pub fn kube_error(e: &KubeError) -> StepError {
    StepError {
        message: e.to_string(),
        denied_action: matches!(e, KubeError::Forbidden(_) | KubeError::Unauthorized)
            .then(|| "kubernetes: configmaps in kube-system".to_string()),
        hint: e.hint(),
        maybe_changed: matches!(e, KubeError::Unreachable { .. }),
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
        if matches!(step.action, Action::WriteConfigMap { .. }) {
            return self.write_configmap(step).await;
        }
        self.run_action(step).await.map_err(|e| step_error(&e))
    }

    async fn undo(&mut self, undo: &Undo) -> Result<Undone, StepError> {
        if let Undo::RestoreConfigMap {
            cluster,
            namespace,
            name,
            previous_file,
            written_file,
        } = undo
        {
            return self
                .restore_configmap(
                    cluster,
                    namespace,
                    name,
                    previous_file.as_deref(),
                    written_file.as_deref(),
                )
                .await;
        }
        self.run_undo(undo).await.map_err(|e| step_error(&e))
    }
}
