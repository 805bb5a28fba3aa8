//! The world of `migrate` through the SDK and the cluster's API server: implements
//! [`MigrateWorld`], and the one write migrate adds to the plan runner (CreateAccessEntry with
//! a type, username and groups).
//!
//! Logins are real: a token made locally from the operator's (or an assumed role's)
//! credentials, presented to the endpoint and CA DescribeCluster returns; 401s are retried
//! while new entries propagate (EKS access entries are eventually consistent, EKS User Guide,
//! "Create access entries").

use super::{AwsContext, AwsError, AwsErrorKind, access, eks, eks_nodes, iam, sts, token};
use crate::awsauth::NodeRoleFact;
use crate::cluster::ClusterFacts;
use crate::k8s::{ApiTarget, KubeClient, KubeError};
use crate::ports::migrate::{
    AwsAuthView, ClusterView, Login, LoginAs, MigrateWorld, PortError, PrincipalKind,
};
use crate::recovery::migrate::LiveEntry;
use aws_credential_types::Credentials;
use std::time::{Duration, Instant, SystemTime};

impl From<AwsError> for PortError {
    fn from(e: AwsError) -> Self {
        PortError {
            message: e.to_string(),
            hint: e.hint.clone(),
        }
    }
}

fn kube_port_error(e: &KubeError) -> PortError {
    PortError {
        message: e.to_string(),
        hint: e.hint(),
    }
}

/// CreateAccessEntry of any type: `Ok(Some(entry ARN))` when made (empty if EKS did not say),
/// `Ok(None)` when an entry for the principal already exists (409 ResourceInUseException).
pub async fn create_typed_access_entry(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    entry_type: &str,
    username: Option<&str>,
    groups: &[String],
) -> Result<Option<String>, AwsError> {
    let mut req = ctx
        .eks()
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .r#type(entry_type);
    if let Some(u) = username {
        req = req.username(u);
    }
    if !groups.is_empty() {
        req = req.set_kubernetes_groups(Some(groups.to_vec()));
    }
    match req.send().await {
        Ok(o) => Ok(Some(
            o.access_entry()
                .and_then(|e| e.access_entry_arn())
                .unwrap_or_default()
                .to_string(),
        )),
        Err(e) => {
            let err = AwsError::from_sdk("eks:CreateAccessEntry", principal_arn, e);
            if err.code.as_deref() == Some("ResourceInUseException") {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// `migrate`'s world: one cluster, as the operator.
pub struct AwsMigrateWorld<'a> {
    pub ctx: &'a AwsContext,
    pub cluster: String,
    /// How long a login retries 401s (propagation of new entries).
    pub wait: Duration,
    facts: tokio::sync::OnceCell<ClusterFacts>,
}

impl<'a> AwsMigrateWorld<'a> {
    pub fn new(ctx: &'a AwsContext, cluster: &str, wait: Duration) -> AwsMigrateWorld<'a> {
        AwsMigrateWorld {
            ctx,
            cluster: cluster.to_string(),
            wait,
            facts: tokio::sync::OnceCell::new(),
        }
    }

    async fn facts(&self) -> Result<&ClusterFacts, AwsError> {
        self.facts
            .get_or_try_init(|| eks::describe_cluster(self.ctx, &self.cluster))
            .await
    }

    async fn target(&self) -> Result<(ApiTarget, ClusterFacts), PortError> {
        let f = self.facts().await?;
        let server = f.endpoint.clone().ok_or_else(|| {
            PortError::new(format!("cluster {} has no API endpoint", self.cluster))
        })?;
        Ok((
            ApiTarget {
                server,
                ca_pem: f.ca_pem.clone(),
                tls_server_name: None,
            },
            f.clone(),
        ))
    }

    fn client(
        &self,
        target: &ApiTarget,
        f: &ClusterFacts,
        creds: &Credentials,
    ) -> Result<KubeClient, PortError> {
        let tok = token::make_token(creds, &f.region, &f.name, SystemTime::now())
            .map_err(|e| PortError::new(e.to_string()))?;
        KubeClient::new(target, &tok.token).map_err(|e| kube_port_error(&e))
    }

    async fn login_with<F: Fn(&Login) -> bool>(&self, creds: &Credentials, settled: F) -> Login {
        let (target, f) = match self.target().await {
            Ok(t) => t,
            Err(e) => return Login::Failed(e.message),
        };
        let start = Instant::now();
        loop {
            let client = match self.client(&target, &f, creds) {
                Ok(c) => c,
                Err(e) => return Login::Failed(e.message),
            };
            match client.whoami().await {
                Ok(who) => {
                    let admin = client
                        .can_i("update", "configmaps", Some("kube-system"))
                        .await
                        .unwrap_or(false);
                    let login = Login::In {
                        username: who.username,
                        groups: who.groups,
                        admin,
                    };
                    if settled(&login) || start.elapsed() >= self.wait {
                        return login;
                    }
                }
                Err(KubeError::Unauthorized) if start.elapsed() < self.wait => {}
                Err(KubeError::Unauthorized) => return Login::Refused,
                Err(e) => return Login::Failed(e.to_string()),
            }
            tokio::time::sleep(super::ratelimit::poll_pause(start.elapsed())).await;
        }
    }
}

impl MigrateWorld for AwsMigrateWorld<'_> {
    async fn cluster(&self) -> Result<ClusterView, PortError> {
        let f = self.facts().await?.clone();
        let caller = sts::caller_identity(self.ctx).await?;
        Ok(ClusterView {
            name: f.name.clone(),
            region: f.region.clone(),
            partition: self.ctx.partition().to_string(),
            auth_mode: f.effective_auth_mode().as_str().to_string(),
            caller_arn: caller.arn,
        })
    }

    async fn aws_auth(&self) -> Result<Option<AwsAuthView>, PortError> {
        let (target, f) = self.target().await?;
        let creds = self.ctx.credentials().await?;
        let client = self.client(&target, &f, &creds)?;
        let cm = client
            .get_configmap("aws-auth")
            .await
            .map_err(|e| kube_port_error(&e))?;
        Ok(cm.map(|cm| AwsAuthView {
            data: cm.data.unwrap_or_default().into_iter().collect(),
            resource_version: cm.metadata.resource_version,
        }))
    }

    async fn principal_arn(
        &self,
        kind: PrincipalKind,
        name: &str,
    ) -> Result<Option<String>, PortError> {
        Ok(match kind {
            PrincipalKind::Role => iam::get_role(self.ctx, name).await?.map(|r| r.arn),
            PrincipalKind::User => iam::get_user(self.ctx, name).await?.map(|u| u.arn),
        })
    }

    async fn node_roles(&self) -> Result<Vec<NodeRoleFact>, PortError> {
        Ok(eks_nodes::node_roles(self.ctx, &self.cluster).await?)
    }

    async fn access_entries(&self) -> Result<Vec<LiveEntry>, PortError> {
        let eks = self.ctx.eks();
        let mut arns = Vec::new();
        let mut pages = eks
            .list_access_entries()
            .cluster_name(&self.cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("eks:ListAccessEntries", &self.cluster, e))?;
            arns.extend(page.access_entries().iter().cloned());
        }
        let mut out = Vec::new();
        for arn in arns {
            let Some(e) = access::describe_access_entry(self.ctx, &self.cluster, &arn).await?
            else {
                continue;
            };
            let entry_type = e.entry_type.clone().unwrap_or_else(|| "STANDARD".into());
            let policies = if entry_type == "STANDARD" {
                access::associated_policies(self.ctx, &self.cluster, &arn).await?
            } else {
                Vec::new()
            };
            out.push(LiveEntry {
                principal_arn: e.principal_arn,
                entry_type,
                username: e.username,
                groups: e.kubernetes_groups,
                policies,
            });
        }
        Ok(out)
    }

    async fn login<F: Fn(&Login) -> bool>(&self, who: &LoginAs, settled: F) -> Login {
        let creds = match who {
            LoginAs::Operator => match self.ctx.credentials().await {
                Ok(c) => c,
                Err(e) => return Login::Failed(e.to_string()),
            },
            LoginAs::Role(arn) => {
                match sts::assume_role(self.ctx, arn, "eks-breakglass-migrate-verify", None, None)
                    .await
                {
                    Ok(c) => c,
                    Err(e) if e.kind == AwsErrorKind::AccessDenied => {
                        return Login::Failed(format!("cannot assume {arn} to log in as it: {e}"));
                    }
                    Err(e) => return Login::Failed(e.to_string()),
                }
            }
        };
        self.login_with(&creds, settled).await
    }
}
