//! Reaching a cluster's Kubernetes API as an AWS identity, for the aws-auth commands.
//!
//! [`KubeAccess`] says how to reach the API server: the cluster name, the role to assume, and
//! the tunnel overrides. [`connect`] turns it into an authenticated client: DescribeCluster for
//! the endpoint and CA (unless overridden), AssumeRole if asked, an EKS token made locally. The
//! ConfigMap helpers convert between the API's object and what an aws-auth write compares.

use super::{AwsContext, eks, sts, token};
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::k8s::{ApiTarget, KubeClient};
use crate::recovery::restore::AwsAuthObject;
use aws_credential_types::Credentials;
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// How to reach a cluster's API server: the overrides a tunnel needs, and the role to assume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeAccess {
    pub cluster: String,
    /// `--api-server`: instead of DescribeCluster's endpoint (a tunnel or bastion).
    pub api_server: Option<String>,
    /// `--ca-file`: instead of DescribeCluster's CA.
    pub ca_file: Option<String>,
    /// `--tls-server-name`: the name to check the server certificate against.
    pub tls_server_name: Option<String>,
    /// `--role-arn`: the role assumed (from the caller's credentials) to talk to the cluster.
    pub role_arn: Option<String>,
}

/// An authenticated client and what it took to make it.
pub struct Connected {
    pub client: KubeClient,
    /// The credentials of the identity used (handed to the plan runner for the write).
    pub creds: Credentials,
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
        creds,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_configmap_reads_back_as_a_restore_source() {
        let mut o = AwsAuthObject::default();
        o.data.insert(
            "mapUsers".into(),
            "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n".into(),
        );
        o.data.insert("notes".into(), "x".into());
        o.labels.insert("team".into(), "platform".into());
        let mut cm = configmap_of("aws-auth", &o);
        cm.metadata.resource_version = Some("42".into());
        let json = configmap_json(&cm);
        let doc = crate::awsauth::read_document("aws-auth.before.json", json.as_bytes()).unwrap();
        let c = crate::recovery::restore::candidate_from_document(&doc).unwrap();
        assert_eq!(c.object, o);
        assert_eq!(object_of(&cm), o);
    }
}
