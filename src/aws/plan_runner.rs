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
use crate::recovery::journal;
use crate::recovery::plan::{Action, Done, Interrupt, Runner, Step, StepError, Undo, Undone};
use crate::recovery::trust;
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
    /// Access keys the operator named as this run's (`cleanup --delete-key`), for an undo whose
    /// key id the journal never learnt.
    pub confirmed_keys: Vec<String>,
    kube: BTreeMap<String, KubeClient>,
    /// Access entries this run found existing (409) and adopted: (cluster, principal) → the
    /// policies they had then.
    adopted: BTreeMap<(String, String), Vec<String>>,
    /// Access entries this run created: (cluster, principal) → the entry's ARN.
    created_entries: BTreeMap<(String, String), String>,
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
            confirmed_keys: Vec::new(),
            kube: BTreeMap::new(),
            adopted: BTreeMap::new(),
            created_entries: BTreeMap::new(),
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
                        if let Undo::DeleteUser { unique_id, .. } = &mut undo {
                            *unique_id = Some(id.clone());
                        }
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
                    if let Undo::DeleteRole { unique_id, .. } = &mut undo {
                        *unique_id = Some(id.clone());
                    }
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
                let created = access::create_access_entry(self.ctx, cluster, principal_arn).await?;
                if let Some(entry) = created.as_ref().filter(|a| !a.is_empty()) {
                    facts.insert("entry_arn".into(), entry.clone());
                    self.created_entries
                        .insert((cluster.clone(), principal_arn.clone()), entry.clone());
                    if let Undo::DeleteAccessEntry { entry_arn, .. } = &mut undo {
                        *entry_arn = Some(entry.clone());
                    }
                }
                if created.is_none() {
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
            Action::CreateTypedAccessEntry {
                cluster,
                principal_arn,
                entry_type,
                username,
                kubernetes_groups,
            } => {
                let created = super::migrate_adapter::create_typed_access_entry(
                    self.ctx,
                    cluster,
                    principal_arn,
                    entry_type,
                    username.as_deref(),
                    kubernetes_groups,
                )
                .await?;
                match created {
                    Some(entry) => {
                        facts.insert("entry_arn".into(), entry.clone());
                        self.created_entries
                            .insert((cluster.clone(), principal_arn.clone()), entry.clone());
                        if let Undo::DeleteAccessEntry { entry_arn, .. } = &mut undo
                            && !entry.is_empty()
                        {
                            *entry_arn = Some(entry);
                        }
                    }
                    None => {
                        // 409: the entry exists (the creator's, or one EKS made for a managed
                        // node group or Fargate profile at the switch): adopted as it is, and
                        // undo leaves it alone.
                        // Node entries carry no access policies.
                        let existing = if entry_type == "STANDARD" {
                            access::associated_policies(self.ctx, cluster, principal_arn).await?
                        } else {
                            Vec::new()
                        };
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
            }
            Action::DeleteAccessEntry {
                cluster,
                principal_arn,
                expect_entry_arn,
                expect_created_at,
            } => {
                self.check_entry_as_planned(
                    cluster,
                    principal_arn,
                    expect_entry_arn.as_deref(),
                    expect_created_at.as_deref(),
                )
                .await?;
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
                        .await?;
                    if let (Some(ours), Undo::DisassociateAccessPolicy { entry_arn, .. }) = (
                        self.created_entries
                            .get(&(cluster.clone(), principal_arn.clone())),
                        &mut undo,
                    ) {
                        *entry_arn = Some(ours.clone());
                    }
                }
            }
            Action::CreateAccessEntryLike {
                cluster,
                principal_arn,
                entry_type,
                username,
                kubernetes_groups,
            } => {
                let made = super::entries_write::create_entry_like(
                    self.ctx,
                    cluster,
                    principal_arn,
                    entry_type,
                    username.as_deref(),
                    kubernetes_groups,
                )
                .await?;
                // An entry made by someone since the plan is not ours to adopt or undo.
                let entry = made.ok_or_else(|| {
                    already_exists("eks:CreateAccessEntry", "access entry for", principal_arn)
                })?;
                if !entry.is_empty() {
                    facts.insert("entry_arn".into(), entry.clone());
                    self.created_entries
                        .insert((cluster.clone(), principal_arn.clone()), entry.clone());
                    if let Undo::DeleteAccessEntry { entry_arn, .. } = &mut undo {
                        *entry_arn = Some(entry);
                    }
                }
            }
            Action::AssociateAccessPolicyScoped {
                cluster,
                principal_arn,
                policy_arn,
                namespaces,
            } => {
                super::entries_write::associate_scoped(
                    self.ctx,
                    cluster,
                    principal_arn,
                    policy_arn,
                    namespaces,
                )
                .await?;
                if let (Some(ours), Undo::DisassociateAccessPolicy { entry_arn, .. }) = (
                    self.created_entries
                        .get(&(cluster.clone(), principal_arn.clone())),
                    &mut undo,
                ) {
                    *entry_arn = Some(ours.clone());
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
        // Planned as a create (there was none when the plan was made): always a POST, never a
        // replace of whatever stands there now.
        let current = match expected_resource_version {
            Some(_) => kube.get_configmap(name).await.map_err(|e| kube_error(&e))?,
            None => None,
        };
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
            // A create (POST): if someone created it meanwhile, the API server answers 409
            // AlreadyExists — their object is never replaced.
            None => {
                desired.metadata.resource_version = None;
                kube.create_configmap(&desired).await
            }
        }
        .map_err(|e| match e {
            KubeError::Conflict(m) if expected_resource_version.is_none() => StepError {
                message: format!(
                    "{namespace}/{name} was created by someone else since the plan was made (there was none then); nothing was overwritten ({m})"
                ),
                denied_action: None,
                hint: Some("re-run to see the difference against the version now in the cluster".into()),
                maybe_changed: false,
            },
            e => kube_error(&e),
        })?;
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
        let bytes =
            journal::read_saved(&self.journal_dir, file).map_err(|e| plain_error(e.to_string()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| plain_error(format!("{file} is not a ConfigMap: {e}")))
    }

    /// Puts a ConfigMap back as it was before the run. Decided on ONE read of the live object,
    /// and written as a compare-and-swap on that read's resourceVersion: a change made by
    /// someone else — before the undo or during it — is never overwritten. With `written_file`,
    /// the undo only acts while the cluster still holds what the run wrote.
    async fn restore_configmap(
        &mut self,
        cluster: &str,
        namespace: &str,
        name: &str,
        previous_file: Option<&str>,
        written_file: Option<&str>,
    ) -> Result<Undone, StepError> {
        only_kube_system(namespace)?;
        let previous = previous_file
            .map(|f| self.read_configmap_file(f))
            .transpose()?;
        let written = written_file
            .map(|f| self.read_configmap_file(f))
            .transpose()?;
        let kube = self.kube(cluster).await?;
        let current = kube.get_configmap(name).await.map_err(|e| kube_error(&e))?;
        match (&current, &previous) {
            (None, None) => {
                return Ok(Undone::AlreadyClean(format!(
                    "{namespace}/{name} does not exist"
                )));
            }
            (Some(c), Some(p)) if same_configmap(c, p) => {
                return Ok(Undone::AlreadyClean(format!(
                    "{namespace}/{name} is already as saved in {}",
                    previous_file.unwrap_or_default()
                )));
            }
            _ => {}
        }
        if let Some(w) = &written
            && !current.as_ref().is_some_and(|c| same_configmap(c, w))
        {
            return Err(self.changed_since(
                cluster,
                namespace,
                name,
                previous_file,
                current.as_ref(),
                w,
            ));
        }
        let conflict = |e: KubeError| match e {
            KubeError::Conflict(_) => StepError {
                message: format!(
                    "{namespace}/{name} changed while the undo was writing it; nothing was overwritten"
                ),
                denied_action: None,
                hint: Some(
                    "run cleanup again: it re-reads and decides on what is there now".into(),
                ),
                maybe_changed: false,
            },
            e => kube_error(&e),
        };
        match (current, previous) {
            (Some(cur), None) => {
                let rv = cur.metadata.resource_version.clone().unwrap_or_default();
                match kube.delete_configmap_at(name, &rv).await {
                    Ok(()) => Ok(Undone::Reversed(format!(
                        "deleted {namespace}/{name} (it did not exist before the run)"
                    ))),
                    Err(KubeError::NotFound(_)) => Ok(Undone::AlreadyClean(format!(
                        "{namespace}/{name} does not exist"
                    ))),
                    Err(e) => Err(conflict(e)),
                }
            }
            (Some(cur), Some(mut prev)) => {
                clean_metadata(&mut prev, namespace, name);
                prev.metadata.resource_version = cur.metadata.resource_version;
                kube.replace_configmap(&prev).await.map_err(conflict)?;
                Ok(Undone::Reversed(format!(
                    "restored {namespace}/{name} from {}",
                    previous_file.unwrap_or_default()
                )))
            }
            (None, Some(mut prev)) => {
                clean_metadata(&mut prev, namespace, name);
                prev.metadata.resource_version = None;
                kube.create_configmap(&prev).await.map_err(conflict)?;
                Ok(Undone::Reversed(format!(
                    "recreated {namespace}/{name} from {}",
                    previous_file.unwrap_or_default()
                )))
            }
            (None, None) => Ok(Undone::AlreadyClean(format!(
                "{namespace}/{name} does not exist"
            ))),
        }
    }

    /// The refusal when the cluster holds neither what the run wrote nor what was there before:
    /// someone changed it since; their change stays, and the difference is shown.
    fn changed_since(
        &self,
        cluster: &str,
        namespace: &str,
        name: &str,
        previous_file: Option<&str>,
        current: Option<&ConfigMap>,
        written: &ConfigMap,
    ) -> StepError {
        let dir = self.journal_dir.display();
        let text = |c: Option<&ConfigMap>| {
            c.map(|c| {
                let mut out = String::new();
                for (k, v) in c.data.clone().unwrap_or_default() {
                    out.push_str(&format!("{k}:\n{v}\n"));
                }
                out
            })
            .unwrap_or_else(|| "(deleted)\n".into())
        };
        let (was, now) = (text(Some(written)), text(current));
        let diff = similar::TextDiff::from_lines(&was, &now)
            .unified_diff()
            .header("as this run wrote it", "live now")
            .to_string();
        StepError {
            message: format!(
                "{namespace}/{name} was changed by someone else after this run wrote it; it is left as is. The difference:\n{diff}"
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
        }
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
                // The run died between CreateAccessKey and the journal: a key the user has now
                // and did not have before may be this run's — or a colleague's made meanwhile.
                // Nothing proves which, so none is deleted unless the operator names it.
                let Some(now) = super::iam::list_access_keys(self.ctx, user_name)
                    .await
                    .map(Some)
                    .or_else(|e| {
                        if e.kind == AwsErrorKind::NotFound {
                            Ok(None)
                        } else {
                            Err(e)
                        }
                    })?
                else {
                    return Ok(Undone::AlreadyClean(format!(
                        "user {user_name} no longer exists"
                    )));
                };
                let new: Vec<_> = now
                    .into_iter()
                    .filter(|k| !keys_before.contains(&k.access_key_id))
                    .collect();
                if new.is_empty() {
                    return Ok(Undone::AlreadyClean(format!(
                        "user {user_name} has no key made since the run started"
                    )));
                }
                let named: Vec<String> = new
                    .iter()
                    .map(|k| k.access_key_id.clone())
                    .filter(|k| self.confirmed_keys.contains(k))
                    .collect();
                if named.is_empty() {
                    let listed: Vec<String> = new
                        .iter()
                        .map(|k| {
                            format!(
                                "{} (created {})",
                                k.access_key_id,
                                k.created
                                    .map(|t| t.to_rfc3339())
                                    .unwrap_or_else(|| "at an unknown time".into())
                            )
                        })
                        .collect();
                    return Err(AwsError::new(
                        "iam:DeleteAccessKey",
                        AwsErrorKind::InvalidInput,
                        format!(
                            "cannot tell which key of user {user_name} this run created: the run stopped before IAM's answer was journaled, and these keys appeared since it started: {}; none was deleted",
                            listed.join(", ")
                        ),
                    )
                    .with_hint(format!(
                        "check each with `aws iam get-access-key-last-used --access-key-id ID`; if one is the run's, run cleanup again with `--delete-key ID` (or `aws iam delete-access-key --user-name {user_name} --access-key-id ID`); a key that is someone else's stays"
                    )));
                }
                for k in &named {
                    iam_write::delete_access_key(self.ctx, user_name, k).await?;
                    self.forget_key(k);
                }
                Undone::Reversed(format!(
                    "deleted access key(s) {} of user {user_name} (named by you with --delete-key)",
                    named.join(", ")
                ))
            }
            Undo::RestoreAssumeRolePolicy {
                role_name,
                previous_file,
            } => {
                // Older journals: the whole saved policy, put back only when the live one is
                // still the one saved (nothing to do) — otherwise it would erase others' changes.
                let saved = self.saved_text(previous_file, "iam:UpdateAssumeRolePolicy")?;
                let Some(role) = super::iam::get_role(self.ctx, role_name).await? else {
                    return Ok(Undone::AlreadyClean(format!(
                        "role {role_name} no longer exists"
                    )));
                };
                let live = role.trust_policy.unwrap_or_default();
                if json_equal(&live, &saved) {
                    Undone::AlreadyClean(format!(
                        "the trust policy of role {role_name} is already as saved in {previous_file}"
                    ))
                } else {
                    return Err(AwsError::new(
                        "iam:UpdateAssumeRolePolicy",
                        AwsErrorKind::InvalidInput,
                        format!(
                            "this run's journal does not say which statement it added to the trust policy of role {role_name}, and the policy now differs from the one saved; putting the saved one back could erase someone else's change, so nothing was written.\nnow:\n{live}\nsaved before the run:\n{saved}"
                        ),
                    )
                    .with_hint(format!(
                        "remove the statement the run added by hand: `aws iam update-assume-role-policy --role-name {role_name} --policy-document file://EDITED.json`"
                    )));
                }
            }
            Undo::RemoveTrustStatement {
                role_name,
                sid,
                principal_arn,
                statement,
                previous_file,
            } => {
                let original = self.saved_text(previous_file, "iam:UpdateAssumeRolePolicy")?;
                let ours: serde_json::Value = serde_json::from_str(statement).map_err(|e| {
                    AwsError::new(
                        "iam:UpdateAssumeRolePolicy",
                        AwsErrorKind::InvalidInput,
                        format!("the journaled statement is not JSON: {e}"),
                    )
                })?;
                let Some(role) = super::iam::get_role(self.ctx, role_name).await? else {
                    return Ok(Undone::AlreadyClean(format!(
                        "role {role_name} no longer exists"
                    )));
                };
                let live = role.trust_policy.unwrap_or_default();
                let bad = |m: String| {
                    AwsError::new("iam:UpdateAssumeRolePolicy", AwsErrorKind::InvalidInput, m)
                };
                match trust::remove_statement(&live, &ours, &original).map_err(bad)? {
                    trust::Removal::Absent => Undone::AlreadyClean(format!(
                        "the trust policy of role {role_name} has no statement {sid}"
                    )),
                    trust::Removal::Changed { found, written } => {
                        return Err(bad(format!(
                            "the statement {sid} in the trust policy of role {role_name} is not the one this run added (someone changed it); it is left as is.\nwritten by this run:\n{written}\nthere now:\n{found}"
                        ))
                        .with_hint(format!(
                            "look at it with `aws iam get-role --role-name {role_name}` and remove it by hand if it must go"
                        )));
                    }
                    trust::Removal::Removed { .. } => {
                        // IAM has no compare-and-swap for trust policies: read the policy again
                        // right before the write and remove our statement from *that* (a
                        // statement someone added since the first read stays), then read it
                        // back and say loudly if anything else went missing.
                        let Some(fresh) = super::iam::get_role(self.ctx, role_name).await? else {
                            return Ok(Undone::AlreadyClean(format!(
                                "role {role_name} no longer exists"
                            )));
                        };
                        let fresh = fresh.trust_policy.unwrap_or_default();
                        let (document, restores_original) = match trust::remove_statement(
                            &fresh, &ours, &original,
                        )
                        .map_err(bad)?
                        {
                            trust::Removal::Removed {
                                document,
                                restores_original,
                            } => (document, restores_original),
                            trust::Removal::Absent => {
                                return Ok(Undone::AlreadyClean(format!(
                                    "the trust policy of role {role_name} has no statement {sid}"
                                )));
                            }
                            trust::Removal::Changed { found, written } => {
                                return Err(bad(format!(
                                    "the statement {sid} in the trust policy of role {role_name} was changed by someone while cleanup ran; it is left as is.\nwritten by this run:\n{written}\nthere now:\n{found}"
                                )));
                            }
                        };
                        iam_write::update_assume_role_policy(self.ctx, role_name, &document)
                            .await?;
                        let back = super::iam::get_role(self.ctx, role_name)
                            .await?
                            .and_then(|r| r.trust_policy)
                            .unwrap_or_default();
                        let lost = trust::lost_statements(&fresh, &back)
                            .into_iter()
                            .filter(|st| *st != ours)
                            .map(|st| st.to_string())
                            .collect::<Vec<_>>();
                        if !lost.is_empty() {
                            return Err(bad(format!(
                                "LOST: after removing {sid} from the trust policy of role {role_name}, these statements that were there just before the write are missing (someone wrote the policy at the same moment; IAM has no compare-and-swap):\n{}\npolicy now:\n{back}",
                                lost.join("\n")
                            ))
                            .with_hint(format!(
                                "put them back by hand: `aws iam update-assume-role-policy --role-name {role_name} --policy-document file://FIXED.json`"
                            )));
                        }
                        Undone::Reversed(if restores_original {
                            format!(
                                "removed trust statement {sid} for {principal_arn} from role {role_name}: the policy is byte for byte the one saved in {previous_file}"
                            )
                        } else {
                            format!(
                                "removed trust statement {sid} for {principal_arn} from role {role_name}; the statements others changed since stay"
                            )
                        })
                    }
                }
            }
            Undo::DeleteUser {
                user_name,
                unique_id,
            } => {
                let Some(user) = super::iam::get_user(self.ctx, user_name).await? else {
                    return Ok(Undone::AlreadyClean(format!(
                        "user {user_name} was already gone"
                    )));
                };
                self.owned("user", user_name, unique_id.as_deref(), &user.user_id)?;
                // The same user, but not everything on it is the run's: a key or policy someone
                // gave it since would go with it. Only what the journal recorded may.
                let Some((keys, inline, attached)) =
                    iam_write::user_attachments(self.ctx, user_name).await?
                else {
                    return Ok(Undone::AlreadyClean(format!(
                        "user {user_name} was already gone"
                    )));
                };
                let (ours, cut_off) = self.journaled_keys(user_name);
                let mut foreign: Vec<String> = keys
                    .iter()
                    .filter(|k| !ours.contains(*k) && !self.confirmed_keys.contains(*k))
                    .map(|k| format!("access key {k}"))
                    .collect();
                foreign.extend(inline.iter().map(|p| format!("inline policy {p}")));
                foreign.extend(attached.iter().map(|p| format!("attached policy {p}")));
                if !foreign.is_empty() {
                    let mut how: Vec<String> = keys
                        .iter()
                        .filter(|k| !ours.contains(*k) && !self.confirmed_keys.contains(*k))
                        .map(|k| format!("aws iam delete-access-key --user-name {user_name} --access-key-id {k}"))
                        .collect();
                    how.extend(inline.iter().map(|p| {
                        format!(
                            "aws iam delete-user-policy --user-name {user_name} --policy-name {p}"
                        )
                    }));
                    how.extend(attached.iter().map(|p| {
                        format!(
                            "aws iam detach-user-policy --user-name {user_name} --policy-arn {p}"
                        )
                    }));
                    let why = if cut_off {
                        " (the run was cut off while IAM created a key for it, so it cannot tell which key is the run's)"
                    } else {
                        ""
                    };
                    return Err(AwsError::new(
                        "iam:DeleteUser",
                        AwsErrorKind::InvalidInput,
                        format!(
                            "user {user_name} (recreated by this run) carries what this run's journal never recorded: {}{why}; deleting the user would delete them too, so it is left as is",
                            foreign.join(", ")
                        ),
                    )
                    .with_hint(format!(
                        "if a key is the run's, run cleanup again with `--delete-key ID`; anything else is someone else's: ask who added it, and if it must go, remove it by hand ({}), then run cleanup again",
                        how.join("; ")
                    )));
                }
                let changed = iam_write::delete_user_with_attachments(self.ctx, user_name).await?;
                done(
                    changed,
                    format!(
                        "deleted user {user_name} ({}) with its keys and policies",
                        user.user_id
                    ),
                    format!("user {user_name} was already gone"),
                )
            }
            Undo::DeleteRole {
                role_name,
                unique_id,
            } => {
                let Some(role) = super::iam::get_role(self.ctx, role_name).await? else {
                    return Ok(Undone::AlreadyClean(format!(
                        "role {role_name} was already gone"
                    )));
                };
                self.owned("role", role_name, unique_id.as_deref(), &role.role_id)?;
                let changed = iam_write::delete_role_with_policies(self.ctx, role_name).await?;
                done(
                    changed,
                    format!(
                        "deleted role {role_name} ({}) with its policies",
                        role.role_id
                    ),
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
                entry_arn,
                made,
            } => {
                if let Some(ours) = entry_arn
                    && let Some(gone) = self
                        .check_entry_is_ours(cluster, principal_arn, ours, "eks:DeleteAccessEntry")
                        .await?
                {
                    return Ok(gone);
                }
                if let Some(made) = made {
                    super::entries_write::check_entry_as_made(
                        self.ctx,
                        cluster,
                        principal_arn,
                        made,
                    )
                    .await?;
                }
                let changed = access::delete_access_entry(self.ctx, cluster, principal_arn).await?;
                done(
                    changed,
                    format!("deleted the access entry of {principal_arn} on {cluster}"),
                    format!("the access entry of {principal_arn} on {cluster} was already gone"),
                )
            }
            Undo::RecreateAccessEntry {
                cluster,
                principal_arn,
                content,
            } => {
                let made =
                    super::entries_write::recreate_entry(self.ctx, cluster, principal_arn, content)
                        .await?;
                done(
                    made,
                    format!(
                        "made the access entry of {principal_arn} on {cluster} again from the journal (the run stopped after deleting it)"
                    ),
                    format!(
                        "{principal_arn} has an access entry on {cluster} (made by the run or since): left as is"
                    ),
                )
            }
            Undo::DisassociateAccessPolicy {
                cluster,
                principal_arn,
                policy_arn,
                entry_arn,
            } => {
                if let Some(ours) = entry_arn
                    && let Some(gone) = self
                        .check_entry_is_ours(
                            cluster,
                            principal_arn,
                            ours,
                            "eks:DisassociateAccessPolicy",
                        )
                        .await?
                {
                    return Ok(gone);
                }
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
                written,
            } if !written.is_empty() => {
                // Only the tags still as the run wrote them are the run's to put back; a value
                // someone changed since is theirs now and stays (said below).
                let Some(live) = super::eks_tags::list_tags(self.ctx, resource_arn).await? else {
                    return Ok(Undone::AlreadyClean(format!(
                        "{resource_arn} no longer exists"
                    )));
                };
                let plan =
                    crate::recovery::record::tags_to_restore(&live, remove, previous, written);
                if !plan.untag.is_empty() {
                    super::eks_tags::untag_resource(self.ctx, resource_arn, &plan.untag).await?;
                }
                if !plan.retag.is_empty() {
                    super::eks_tags::tag_resource(self.ctx, resource_arn, &plan.retag).await?;
                }
                let mut msg = if plan.untag.is_empty() && plan.retag.is_empty() {
                    format!("nothing of the run's left to put back on {resource_arn}")
                } else {
                    format!("put the run's tags of {resource_arn} back as they were")
                };
                if !plan.changed.is_empty() {
                    msg.push_str(&format!(
                        "; LEFT AS IS, changed by someone since the run: {}",
                        plan.changed.join("; ")
                    ));
                }
                if plan.untag.is_empty() && plan.retag.is_empty() && plan.changed.is_empty() {
                    Undone::AlreadyClean(msg)
                } else {
                    Undone::Reversed(msg)
                }
            }
            Undo::RestoreTags {
                resource_arn,
                remove,
                previous,
                ..
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

impl AwsRunner<'_> {
    /// The access keys of `user` that this run's journal records (created by it), and whether
    /// a key step on that user was cut off before IAM's answer was journaled.
    fn journaled_keys(&self, user: &str) -> (Vec<String>, bool) {
        let records = journal::read_records(&self.journal_dir).unwrap_or_default();
        let started: Vec<u32> = records
            .iter()
            .filter_map(|r| match &r.event {
                journal::Event::StepStarted {
                    step,
                    undo: Undo::DeleteAccessKey { user_name, .. },
                    ..
                } if user_name == user => Some(*step),
                _ => None,
            })
            .collect();
        let cut_off = started.iter().any(|s| {
            !records.iter().any(|r| {
                matches!(&r.event, journal::Event::StepDone { step, .. } if step == s)
                    || matches!(&r.event, journal::Event::StepFailed { step, error } if step == s && !error.maybe_changed)
            })
        });
        let mut out = Vec::new();
        for r in &records {
            if let journal::Event::StepDone {
                undo:
                    Undo::DeleteAccessKey {
                        user_name,
                        access_key_id: Some(id),
                        ..
                    },
                ..
            } = &r.event
                && user_name == user
            {
                out.push(id.clone());
            }
        }
        (out, cut_off)
    }

    /// A saved file of the run, as text, checked against the journal's digest.
    fn saved_text(&self, file: &str, action: &str) -> Result<String, AwsError> {
        journal::read_saved(&self.journal_dir, file)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| AwsError::new(action, AwsErrorKind::InvalidInput, e.to_string()))
    }

    /// Refuses to delete a principal the journal does not prove is this run's: its unique id
    /// must be the one CreateUser/CreateRole returned to this run.
    fn owned(
        &self,
        kind: &str,
        name: &str,
        recorded: Option<&str>,
        live: &str,
    ) -> Result<(), AwsError> {
        let action = if kind == "user" {
            "iam:DeleteUser"
        } else {
            "iam:DeleteRole"
        };
        match recorded {
            Some(id) if id == live => Ok(()),
            Some(id) => Err(AwsError::new(
                action,
                AwsErrorKind::InvalidInput,
                format!(
                    "{kind} {name} now has unique id {live}, not {id} (the one this run created): it was deleted and recreated by someone else since; it is left as is"
                ),
            )),
            None => Err(AwsError::new(
                action,
                AwsErrorKind::InvalidInput,
                format!(
                    "{kind} {name} (unique id {live}) exists, but the run stopped before IAM's answer was journaled, so nothing proves it is the one this run created; it is left as is"
                ),
            )
            .with_hint(format!(
                "if it is the run's (look at its creation date and description), delete it yourself: `aws iam delete-{kind} --{kind}-name {name}` after removing its keys and policies"
            ))),
        }
    }
}

/// Two policy documents equal as JSON values (text that is not JSON compares as text).
fn json_equal(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The parts of a ConfigMap an undo compares: data, binary data, labels, annotations.
fn same_configmap(a: &ConfigMap, b: &ConfigMap) -> bool {
    a.data.clone().unwrap_or_default() == b.data.clone().unwrap_or_default()
        && a.binary_data.clone().unwrap_or_default() == b.binary_data.clone().unwrap_or_default()
        && a.metadata.labels.clone().unwrap_or_default()
            == b.metadata.labels.clone().unwrap_or_default()
        && a.metadata.annotations.clone().unwrap_or_default()
            == b.metadata.annotations.clone().unwrap_or_default()
}

/// A saved object made ready to write back: server-set metadata dropped, name and namespace set.
fn clean_metadata(cm: &mut ConfigMap, namespace: &str, name: &str) {
    cm.metadata.uid = None;
    cm.metadata.creation_timestamp = None;
    cm.metadata.managed_fields = None;
    cm.metadata.name = Some(name.to_string());
    cm.metadata.namespace = Some(namespace.to_string());
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

impl AwsRunner<'_> {
    /// `None` when the live access entry of `principal_arn` is the one this run created (ARN
    /// `ours`); `Some(already clean)` when there is none; an error naming both when another
    /// entry (deleted and made again by someone) stands there — it is not the run's to touch.
    /// Right before a planned delete: the entry there now must be the one the plan showed
    /// (same entry ARN, same creation time). Someone may have replaced it while the plan
    /// waited for "yes", or another run may have; then nothing is changed and the difference
    /// is shown. EKS's DeleteAccessEntry takes only the principal, so this read is the check.
    async fn check_entry_as_planned(
        &self,
        cluster: &str,
        principal_arn: &str,
        entry_arn: Option<&str>,
        created_at: Option<&str>,
    ) -> Result<(), AwsError> {
        if entry_arn.is_none() && created_at.is_none() {
            return Ok(());
        }
        let live = access::describe_access_entry(self.ctx, cluster, principal_arn).await?;
        let live_made = live
            .as_ref()
            .and_then(|l| l.created_at)
            .map(|t| t.to_rfc3339());
        let same = live.as_ref().is_some_and(|l| {
            entry_arn.is_none_or(|a| l.entry_arn.as_deref() == Some(a))
                && created_at.is_none_or(|c| {
                    live_made.as_deref() == Some(c)
                        || matches!(
                            (chrono::DateTime::parse_from_rfc3339(c), l.created_at),
                            (Ok(p), Some(n)) if p == n
                        )
                })
        });
        if same {
            return Ok(());
        }
        let now = match &live {
            None => "no entry at all (someone deleted it)".to_string(),
            Some(l) => format!(
                "{} (created {}, username {}, groups [{}])",
                l.entry_arn.as_deref().unwrap_or("(no ARN)"),
                live_made.as_deref().unwrap_or("?"),
                l.username.as_deref().unwrap_or("-"),
                l.kubernetes_groups.join(", ")
            ),
        };
        Err(AwsError::new(
            "eks:DeleteAccessEntry",
            AwsErrorKind::InvalidInput,
            format!(
                "the access entry of {principal_arn} on {cluster} changed since the plan was made (someone replaced it, or another run did): nothing was deleted.\nthe plan showed: {} (created {})\nthere now: {now}",
                entry_arn.unwrap_or("?"),
                created_at.unwrap_or("?")
            ),
        )
        .with_hint("look at the entry as it is now and re-run to plan again".to_string()))
    }

    async fn check_entry_is_ours(
        &self,
        cluster: &str,
        principal_arn: &str,
        ours: &str,
        call: &str,
    ) -> Result<Option<Undone>, AwsError> {
        let Some(live) = access::describe_access_entry(self.ctx, cluster, principal_arn).await?
        else {
            return Ok(Some(Undone::AlreadyClean(format!(
                "the access entry of {principal_arn} on {cluster} was already gone"
            ))));
        };
        if live.entry_arn.as_deref() == Some(ours) {
            return Ok(None);
        }
        Err(AwsError::new(
            call,
            AwsErrorKind::InvalidInput,
            format!(
                "the access entry of {principal_arn} on {cluster} is not the one this run created (someone deleted it and made another): it is left as is.\ncreated by this run: {ours}\nthere now: {} (created {}, username {}, groups [{}])",
                live.entry_arn.as_deref().unwrap_or("(no ARN)"),
                live.created_at.map_or_else(|| "?".to_string(), |t| t.to_rfc3339()),
                live.username.as_deref().unwrap_or("-"),
                live.kubernetes_groups.join(", ")
            ),
        )
        .with_hint(format!(
            "if it must go anyway: `aws eks delete-access-entry --cluster-name {cluster} --principal-arn {principal_arn}`"
        )))
    }
}

impl Runner for AwsRunner<'_> {
    /// A trust statement is added to the policy as it is right before the write, not as it was
    /// when the plan was made: IAM has no compare-and-swap, and a statement someone added while
    /// the plan waited at the prompt would otherwise be overwritten. The fresh read is saved as
    /// the "before".
    async fn prepare(&mut self, step: &Step) -> Result<Option<Step>, StepError> {
        let (
            Action::UpdateAssumeRolePolicy { role_name, .. },
            Undo::RemoveTrustStatement { statement, .. },
        ) = (&step.action, &step.undo)
        else {
            return Ok(None);
        };
        let err = |m: String| {
            step_error(&AwsError::new(
                "iam:UpdateAssumeRolePolicy",
                AwsErrorKind::InvalidInput,
                m,
            ))
        };
        let role = super::iam::get_role(self.ctx, role_name)
            .await
            .map_err(|e| step_error(&e))?
            .ok_or_else(|| {
                err(format!(
                    "role {role_name} no longer exists (deleted since the plan was made); nothing was written"
                ))
            })?;
        let fresh = role.trust_policy.unwrap_or_default();
        let ours: serde_json::Value = serde_json::from_str(statement)
            .map_err(|e| err(format!("the planned statement is not JSON: {e}")))?;
        let document = trust::add_statement(&fresh, &ours).map_err(err)?;
        let mut prepared = step.clone();
        if let Action::UpdateAssumeRolePolicy { document: d, .. } = &mut prepared.action {
            *d = document;
        }
        for saved in &mut prepared.saves {
            saved.content = fresh.clone();
        }
        Ok(Some(prepared))
    }

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
