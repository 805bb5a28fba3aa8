//! Reaching a cluster's Kubernetes API as an AWS identity, and the ConfigMap steps of plans.
//!
//! aws-auth writes are plan steps like IAM changes, so that they are journaled and undone by
//! `cleanup` — which may run in another process, after a crash, with only the journal to go by.
//! [`KubeAccess`] (in the journal) says how the run reached the API server: the cluster name,
//! the role it assumed, and the tunnel overrides. [`connect`] turns it into an authenticated
//! client: DescribeCluster for the endpoint and CA (unless overridden), AssumeRole if asked, an
//! EKS token made locally.

use super::{AwsContext, eks, sts, token};
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::k8s::{ApiTarget, KubeClient, KubeError};
use crate::recovery::journal::Journal;
use crate::recovery::plan::{KubeAccess, StepError, Undone};
use crate::recovery::restore::AwsAuthObject;
use aws_credential_types::Credentials;
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

/// An authenticated client and what it took to make it.
pub struct Connected {
    pub client: KubeClient,
    pub facts: ClusterFacts,
    /// The context of the identity used (the assumed role's, with `role_arn`).
    pub ctx: AwsContext,
    pub target: ApiTarget,
}

/// The API server address and CA for `access`: the overrides, else DescribeCluster's.
pub fn target_for(access: &KubeAccess, facts: &ClusterFacts) -> Result<ApiTarget, AppError> {
    let server = match &access.api_server {
        Some(s) => s.clone(),
        None => facts.endpoint.clone().ok_or_else(|| {
            AppError::failed(
                format!("cluster {} has no API endpoint", facts.name),
                Some("wait until the cluster is ACTIVE".to_string()),
            )
        })?,
    };
    let ca_pem = match &access.ca_file {
        Some(f) => Some(std::fs::read(f).map_err(|e| {
            AppError::usage(
                format!("cannot read the CA file {f}: {e}"),
                Some("pass the cluster CA bundle (PEM) with --ca-file".to_string()),
            )
        })?),
        None => facts.ca_pem.clone(),
    };
    Ok(ApiTarget {
        server,
        ca_pem,
        tls_server_name: access.tls_server_name.clone(),
    })
}

/// The context of the identity to use: `ctx` itself, or `role_arn` assumed from it.
pub async fn identity_ctx(
    ctx: &AwsContext,
    role_arn: Option<&str>,
) -> Result<AwsContext, AppError> {
    match role_arn {
        None => Ok(ctx.clone()),
        Some(r) => {
            let creds =
                sts::assume_role(ctx, r, &sts::session_name_for_operator(), None, None).await?;
            Ok(ctx.with_credentials(creds))
        }
    }
}

/// A client for the cluster as `creds`.
pub fn client_as(
    target: &ApiTarget,
    facts: &ClusterFacts,
    creds: &Credentials,
) -> Result<KubeClient, AppError> {
    let tok = token::make_token(creds, &facts.region, &facts.name, SystemTime::now())?;
    Ok(KubeClient::new(target, &tok.token)?)
}

/// Connects to the cluster of `access` from the caller's context `ctx`.
pub async fn connect(ctx: &AwsContext, access: &KubeAccess) -> Result<Connected, AppError> {
    let facts = eks::describe_cluster(ctx, &access.cluster).await?;
    let target = target_for(access, &facts)?;
    let id_ctx = identity_ctx(ctx, access.role_arn.as_deref()).await?;
    let creds = id_ctx.credentials().await?;
    let client = client_as(&target, &facts, &creds)?;
    Ok(Connected {
        client,
        facts,
        ctx: id_ctx,
        target,
    })
}

/// The parts of a ConfigMap a write cares about.
pub fn object_of(cm: &ConfigMap) -> AwsAuthObject {
    AwsAuthObject {
        data: cm.data.clone().unwrap_or_default().into_iter().collect(),
        labels: cm
            .metadata
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        annotations: cm
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    }
}

/// The ConfigMap to send for `object` (no resourceVersion: the step sets it).
pub fn configmap_of(name: &str, object: &AwsAuthObject) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.to_string());
    cm.metadata.namespace = Some("kube-system".to_string());
    let map =
        |m: &BTreeMap<String, String>| (!m.is_empty()).then(|| m.clone().into_iter().collect());
    cm.metadata.labels = map(&object.labels);
    cm.metadata.annotations = map(&object.annotations);
    cm.data = Some(object.data.clone().into_iter().collect());
    cm
}

/// A ConfigMap as pretty JSON (what the journal directory keeps, and `restore --from` reads).
pub fn configmap_json(cm: &ConfigMap) -> String {
    let mut v = serde_json::to_value(cm).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("apiVersion".into(), "v1".into());
        o.insert("kind".into(), "ConfigMap".into());
    }
    serde_json::to_string_pretty(&v)
        .map(|s| s + "\n")
        .unwrap_or_default()
}

fn read_saved(dir: &Path, file: &str) -> Result<ConfigMap, AppError> {
    let bytes = Journal::read_file(dir, file).map_err(|e| {
        AppError::failed(
            format!("cannot read {}: {e}", dir.join(file).display()),
            Some("the run directory must hold the files the journal names".to_string()),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AppError::failed(
            format!("{} is not a ConfigMap: {e}", dir.join(file).display()),
            None,
        )
    })
}

/// A step error from an application error; a lost connection during a write may have changed it.
pub fn step_error(e: &AppError) -> StepError {
    StepError {
        message: e.to_string(),
        denied_action: match e {
            AppError::Aws(a) if a.kind == super::AwsErrorKind::AccessDenied => {
                Some(a.action.clone())
            }
            _ => None,
        },
        hint: e.hint(),
        maybe_changed: matches!(
            e,
            AppError::Kube(KubeError::Unreachable { .. } | KubeError::Other(_))
        ),
    }
}

/// Runs a `WriteConfigMap` step.
pub async fn write_step(
    ctx: &AwsContext,
    dir: &Path,
    access: &KubeAccess,
    name: &str,
    resource_version: Option<&str>,
    file: &str,
) -> Result<BTreeMap<String, String>, AppError> {
    let mut cm = read_saved(dir, file)?;
    let c = connect(ctx, access).await?;
    let written = match resource_version {
        Some(rv) => {
            cm.metadata.resource_version = Some(rv.to_string());
            c.client.replace_configmap(&cm).await?
        }
        None => c.client.create_configmap(&cm).await?,
    };
    let mut facts = BTreeMap::new();
    if let Some(rv) = written.metadata.resource_version {
        facts.insert("resource_version".to_string(), rv);
    }
    facts.insert("configmap".to_string(), format!("kube-system/{name}"));
    Ok(facts)
}

/// Runs a `RestoreConfigMap` undo: only when the cluster still holds what the run wrote.
pub async fn restore_undo(
    ctx: &AwsContext,
    dir: &Path,
    access: &KubeAccess,
    name: &str,
    previous_file: Option<&str>,
    written_file: &str,
) -> Result<Undone, AppError> {
    let written = object_of(&read_saved(dir, written_file)?);
    let previous = match previous_file {
        Some(f) => Some(read_saved(dir, f)?),
        None => None,
    };
    let c = connect(ctx, access).await?;
    let current = c.client.get_configmap(name).await?;
    let current_obj = current.as_ref().map(object_of);
    if current_obj.as_ref() == previous.as_ref().map(object_of).as_ref() {
        return Ok(Undone::AlreadyClean(format!(
            "kube-system/{name} is as it was before the run"
        )));
    }
    if current_obj.as_ref() != Some(&written) {
        let how = match previous_file {
            Some(f) => format!(
                "compare it with {} and, to put that version back, run `eks-breakglass aws-auth restore --cluster {} --from {}`",
                dir.join(f).display(),
                access.cluster,
                dir.join(f).display()
            ),
            None => format!(
                "delete it yourself if it must go: kubectl -n kube-system delete configmap {name}"
            ),
        };
        return Err(AppError::failed(
            format!(
                "kube-system/{name} was changed by someone else after this run wrote it; it is left as is"
            ),
            Some(how),
        ));
    }
    let rv = current.and_then(|c| c.metadata.resource_version);
    match previous {
        Some(prev) => {
            let mut body = configmap_of(name, &object_of(&prev));
            body.metadata.resource_version = rv;
            c.client.replace_configmap(&body).await?;
            Ok(Undone::Reversed(format!(
                "put back kube-system/{name} from {}",
                previous_file.unwrap_or_default()
            )))
        }
        None => {
            c.client.delete_configmap(name).await?;
            Ok(Undone::Reversed(format!(
                "deleted kube-system/{name} (the run had created it)"
            )))
        }
    }
}
