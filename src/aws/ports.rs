//! The AWS (and API server) implementations of the ports in `crate::ports`: IAM, STS and EKS
//! access entries on an [`AwsContext`]; the cluster session (kube-system/aws-auth, logging in,
//! the plan runner) on [`AwsWorld`], which knows where the API server is.

use super::plan_runner::AwsRunner;
use super::{AwsContext, AwsErrorKind, access, cluster_api, iam, sts, token};
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::k8s::{ApiTarget, KubeClient, KubeError};
use crate::ports::cluster::{RunnerExt, Session};
use crate::ports::eks_access::{AccessEntryFacts, EksAccess};
use crate::ports::iam::{Iam, Mfa};
use crate::ports::kube::{Kube, LiveAwsAuth, ReadError, Verification};
use crate::recovery::creator::{self, Creator};
use crate::recovery::getin::Route;
use crate::recovery::plan::Interrupt;
use crate::recovery::restore::AwsAuthObject;
use aws_credential_types::Credentials;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

fn sts_mfa(m: Option<&Mfa>) -> Option<sts::Mfa> {
    m.map(|m| sts::Mfa {
        serial: m.serial.clone(),
        code: m.code.clone(),
    })
}

impl Iam for AwsContext {
    async fn role_trust_policy(&self, name: &str) -> Result<Option<String>, AppError> {
        match iam::get_role(self, name).await {
            Ok(r) => Ok(r.and_then(|r| r.trust_policy)),
            Err(e) if e.kind == AwsErrorKind::AccessDenied => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn access_key_ids(&self, name: &str) -> Option<Vec<String>> {
        iam::list_access_keys(self, name)
            .await
            .ok()
            .map(|k| k.into_iter().map(|k| k.access_key_id).collect())
    }

    async fn user_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        Ok(iam::get_user(self, name).await?.and_then(|u| u.created))
    }

    async fn role_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        Ok(iam::get_role(self, name).await?.and_then(|r| r.created))
    }

    async fn role_arn(&self, name: &str) -> Result<Option<String>, AppError> {
        Ok(iam::get_role(self, name).await?.map(|r| r.arn))
    }

    async fn assume_role(
        &self,
        role_arn: &str,
        mfa: Option<&Mfa>,
    ) -> Result<Credentials, AppError> {
        Ok(sts::assume_role(
            self,
            role_arn,
            &sts::session_name_for_operator(),
            None,
            sts_mfa(mfa).as_ref(),
        )
        .await?)
    }

    async fn acquire_credentials(
        &self,
        route: &Route,
        created_key: Option<Credentials>,
        mfa: Option<&Mfa>,
        duration: Option<Duration>,
        wait: Duration,
        interrupt: &Interrupt,
        progress: &impl Fn(&str),
    ) -> Result<Credentials, AppError> {
        acquire_credentials(
            self,
            route,
            created_key,
            sts_mfa(mfa).as_ref(),
            duration,
            wait,
            interrupt,
            progress,
        )
        .await
    }
}

/// Credentials as the creator on `route` (the key the run created, or an AssumeRole), retried
/// while IAM propagates, for at most `wait`.
#[allow(clippy::too_many_arguments)]
async fn acquire_credentials(
    ctx: &AwsContext,
    route: &Route,
    created_key: Option<Credentials>,
    mfa: Option<&sts::Mfa>,
    duration: Option<Duration>,
    wait: Duration,
    interrupt: &Interrupt,
    progress: &impl Fn(&str),
) -> Result<Credentials, AppError> {
    let start = Instant::now();
    let deadline = start + wait;
    let mut attempt = 0u32;
    // Only what this run changed (a trust statement, a new key, user or role) needs time to
    // propagate; a refusal of AssumeRole on a trust policy left as is, is AWS's answer.
    let propagating = !matches!(route, Route::AssumeRole { .. });
    loop {
        attempt += 1;
        let result = match route {
            Route::AlreadyCreator => return Ok(ctx.credentials().await?),
            Route::AssumeRole { role_arn, .. }
            | Route::PatchTrust { role_arn, .. }
            | Route::RecreateRole { role_arn, .. } => {
                sts::assume_role(
                    ctx,
                    role_arn,
                    &sts::session_name_for_operator(),
                    duration,
                    mfa,
                )
                .await
            }
            Route::TemporaryKey { .. } | Route::RecreateUser { .. } => {
                let Some(c) = created_key.clone() else {
                    return Err(AppError::failed("the run created no access key", None));
                };
                // A new key is usable once STS accepts it.
                sts::caller_identity(&ctx.with_credentials(c.clone()))
                    .await
                    .map(|_| c)
            }
            Route::KeyLimit { .. } | Route::Instructions { .. } => {
                return Err(AppError::failed(
                    "no credentials can be obtained on this route",
                    None,
                ));
            }
        };
        match result {
            Ok(c) => return Ok(c),
            Err(e) if !propagating && e.kind == AwsErrorKind::AccessDenied => {
                return Err(e
                    .with_hint(
                        "this run changed nothing in IAM, so this is a refusal, not propagation: \
                         the trust policy (a Deny, or a condition such as MFA or an external id) \
                         or your own IAM policy refuses sts:AssumeRole; run `eks-breakglass creator` \
                         to see the trust verdict, or use `eks-breakglass grant`"
                    )
                    .into());
            }
            Err(e)
                if matches!(
                    e.kind,
                    AwsErrorKind::AccessDenied | AwsErrorKind::BadCredentials
                ) && Instant::now() < deadline =>
            {
                progress(&format!(
                    "waiting for IAM to propagate ({}; attempt {attempt}, {}s of at most {}s)…",
                    e.action,
                    start.elapsed().as_secs(),
                    wait.as_secs()
                ));
                let pause = crate::aws::ratelimit::poll_pause(start.elapsed());
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = interrupt.wait() => return Err(AppError::Interrupted),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

impl EksAccess for AwsContext {
    async fn has_access_entry(&self, cluster: &str, principal: &str) -> Result<bool, AppError> {
        Ok(access::describe_access_entry(self, cluster, principal)
            .await?
            .is_some())
    }

    async fn access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntryFacts>, AppError> {
        let Some(entry) = access::describe_access_entry(self, cluster, principal).await? else {
            return Ok(None);
        };
        let (associated, namespace_scoped) =
            access::associated_policies_by_scope(self, cluster, principal).await?;
        Ok(Some(AccessEntryFacts {
            created_at: entry.created_at,
            kubernetes_groups: entry.kubernetes_groups,
            associated,
            namespace_scoped,
        }))
    }
}

/// One cluster's world as a run sees it: the AWS session, where the API server is (the
/// endpoint and CA DescribeCluster gave, or a tunnel), and what to show while waiting.
pub struct AwsWorld<'a, F: Fn(&str)> {
    pub ctx: &'a AwsContext,
    pub target: ApiTarget,
    pub cluster: ClusterFacts,
    pub progress: &'a F,
}

impl<F: Fn(&str)> Kube for AwsWorld<'_, F> {
    async fn read_aws_auth(&self, creds: &Credentials) -> Result<Option<LiveAwsAuth>, ReadError> {
        let client = cluster_api::client_as(&self.target, &self.cluster, creds)
            .map_err(ReadError::Connect)?;
        let live = client
            .get_configmap("aws-auth")
            .await
            .map_err(|e| ReadError::Read(e.into()))?;
        Ok(live.map(|cm| LiveAwsAuth {
            object: cluster_api::object_of(&cm),
            resource_version: cm.metadata.resource_version.clone(),
            json: cluster_api::configmap_json(&cm),
        }))
    }

    async fn verify(
        &self,
        creds: &Credentials,
        timeout: Duration,
        interrupt: &Interrupt,
    ) -> Verification {
        verify_at(
            &self.target,
            &self.cluster,
            creds,
            timeout,
            interrupt,
            self.progress,
        )
        .await
    }

    fn configmap_json(&self, object: &AwsAuthObject) -> String {
        cluster_api::configmap_json(&cluster_api::configmap_of("aws-auth", object))
    }
}

impl<F: Fn(&str)> Session for AwsWorld<'_, F> {
    type Runner<'r>
        = AwsRunner<'r>
    where
        Self: 'r;

    async fn credentials(&self) -> Result<Credentials, AppError> {
        Ok(self.ctx.credentials().await?)
    }

    fn region(&self) -> &str {
        &self.ctx.region
    }

    fn partition(&self) -> &str {
        self.ctx.partition()
    }

    fn profile(&self) -> Option<&str> {
        self.ctx.profile.as_deref()
    }

    fn call_counts(&self) -> BTreeMap<String, usize> {
        self.ctx.calls.counts_by_service()
    }

    fn runner<'r>(&'r self, dir: PathBuf, interrupt: Interrupt) -> AwsRunner<'r> {
        let progress = self.progress;
        let status = Box::new(move |m: &str| progress(m)) as Box<dyn Fn(&str) + 'r>;
        let mut runner = AwsRunner::new(self.ctx, dir, interrupt, status);
        runner.api_target = Some(self.target.clone());
        runner
    }
}

impl RunnerExt for AwsRunner<'_> {
    fn last_created_key(&self) -> Option<Credentials> {
        self.created_keys().last().map(|k| k.credentials.clone())
    }

    fn act_as(&mut self, creds: Credentials) {
        self.kube_credentials = Some(creds);
    }
}

/// Authenticates to the cluster at `target` as `creds` (a token made locally) and asks who it
/// is; retries 401s until `timeout` (IAM and access entries take a moment to propagate).
pub async fn verify_at(
    target: &ApiTarget,
    facts: &ClusterFacts,
    creds: &Credentials,
    timeout: Duration,
    interrupt: &Interrupt,
    progress: &impl Fn(&str),
) -> Verification {
    let start = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let tok = match token::make_token(creds, &facts.region, &facts.name, SystemTime::now()) {
            Ok(t) => t,
            Err(e) => {
                return Verification::Failed {
                    error: e.to_string(),
                };
            }
        };
        let client = match KubeClient::new(target, &tok.token) {
            Ok(c) => c,
            Err(e) => {
                return Verification::Failed {
                    error: e.to_string(),
                };
            }
        };
        match client.whoami().await {
            Ok(who) => {
                let can_read_aws_auth = client.get_configmap("aws-auth").await.is_ok();
                let can_update_aws_auth = client
                    .can_i("update", "configmaps", Some("kube-system"))
                    .await
                    .unwrap_or(false);
                return Verification::Authenticated {
                    who,
                    attempts,
                    can_read_aws_auth,
                    can_update_aws_auth,
                };
            }
            Err(KubeError::Unauthorized) => {
                if start.elapsed() >= timeout {
                    return Verification::Refused { attempts };
                }
            }
            Err(e) => {
                return Verification::Failed {
                    error: e.to_string(),
                };
            }
        }
        progress(&format!(
            "authenticating to {} (attempt {attempts}, {}s, waiting for propagation)…",
            facts.name,
            start.elapsed().as_secs()
        ));
        let pause = crate::aws::ratelimit::poll_pause(start.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = interrupt.wait() => return Verification::Interrupted,
        }
    }
}

/// What the creator route needs besides the creator report: the role's trust document and
/// MaxSessionDuration (`Err(())`: GetRole refused, unknown — not "deleted"; a role the run
/// recreates gets IAM's default, 3600 s), or the user's access key ids.
pub struct CreatorLookup {
    pub is_role: bool,
    pub role_max: Result<Option<i32>, ()>,
    pub trust_document: Option<String>,
    pub keys: Option<Vec<String>>,
}

/// Reads what [`CreatorLookup`] holds for `creator`.
pub async fn creator_lookup(
    ctx: &AwsContext,
    creator: &crate::recovery::creator::Creator,
) -> Result<CreatorLookup, AppError> {
    let is_role = creator.arn.contains(":role/");
    let name = creator.name.clone().unwrap_or_default();
    let role = if is_role && !name.is_empty() {
        match iam::get_role(ctx, &name).await {
            Ok(r) => Ok(r),
            Err(e) if e.kind == AwsErrorKind::AccessDenied => Err(()),
            Err(e) => return Err(e.into()),
        }
    } else {
        Ok(None)
    };
    let role_max = match &role {
        Ok(Some(r)) => Ok(r.max_session_duration),
        Ok(None) => Ok(Some(3600)),
        Err(()) => Err(()),
    };
    let trust_document = role.ok().flatten().and_then(|r| r.trust_policy);
    let keys = if !is_role && !name.is_empty() {
        match iam::list_access_keys(ctx, &name).await {
            Ok(k) => Some(k.into_iter().map(|k| k.access_key_id).collect()),
            Err(e) if matches!(e.kind, AwsErrorKind::AccessDenied | AwsErrorKind::NotFound) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    Ok(CreatorLookup {
        is_role,
        role_max,
        trust_document,
        keys,
    })
}

/// The creator and its status: from `--creator`, or from the creator search.
pub async fn creator_report(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    caller: &crate::recovery::trust::Caller,
    explicit: Option<&str>,
) -> Result<(Creator, Option<crate::recovery::principal::PrincipalStatus>), AppError> {
    if let Some(arn) = explicit {
        let c = Creator::from_arn(arn, None, creator::CreatorSource::Tags);
        let status = creator::check_status(
            &mut super::creator_sources::AwsSources::new(ctx),
            &c,
            Some(caller),
        )
        .await?;
        return Ok((c, Some(status)));
    }
    let opts = creator::FindOptions {
        caller: Some(caller.clone()),
        ..creator::FindOptions::default()
    };
    let report = super::creator_sources::find_creator(ctx, facts, &opts).await?;
    match report.creator {
        Some(c) => Ok((c, report.status)),
        None => Err(AppError::Failed {
            message: format!(
                "the creator of {} could not be found: {}",
                facts.name, report.verdict.reason
            ),
            hint: Some(format!(
                "run `eks-breakglass creator --cluster {}` for the details, pass --creator ARN if you know it, or use `eks-breakglass grant --cluster {}`",
                facts.name, facts.name
            )),
        }),
    }
}
