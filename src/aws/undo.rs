//! The SDK adapter of `ports::undo`: acts as the cleanup's context; the Kubernetes part of an
//! undo (restoring aws-auth) goes as `--role-arn`, through `--api-server`, when given.

use super::plan_runner::AwsRunner;
use super::{AwsContext, cluster_api, eks, sts};
use crate::awsauth::CallerIdentity;
use crate::error::AppError;
use crate::ports::undo::UndoWorld;
use crate::recovery::plan::Interrupt;
use crate::recovery::restore::AwsAuthObject;
use std::path::PathBuf;

/// How the Kubernetes part of the undo reaches the cluster (the run's own way, when it was
/// tunnelled or made as a role).
#[derive(Debug, Clone, Default)]
pub struct KubeUndoAccess {
    pub role_arn: Option<String>,
    pub api_server: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub tls_server_name: Option<String>,
}

pub struct AwsUndo {
    pub ctx: AwsContext,
    pub cluster: String,
    /// Access keys the operator identified as the run's (`--delete-key`).
    pub confirmed_keys: Vec<String>,
    pub kube: KubeUndoAccess,
}

impl UndoWorld for AwsUndo {
    type Runner<'a> = AwsRunner<'a>;

    fn profile(&self) -> Option<&str> {
        self.ctx.profile.as_deref()
    }

    async fn caller(&self) -> Result<CallerIdentity, AppError> {
        let c = sts::caller_identity(&self.ctx).await?;
        Ok(CallerIdentity {
            arn: c.arn,
            account: c.account,
            ..Default::default()
        })
    }

    fn saved_object(&self, file: &str, bytes: &[u8]) -> Result<AwsAuthObject, String> {
        serde_json::from_slice::<k8s_openapi::api::core::v1::ConfigMap>(bytes)
            .map_err(|e| format!("{file} is not a ConfigMap: {e}"))
            .map(|cm| cluster_api::object_of(&cm))
    }

    async fn runner<'a>(
        &'a self,
        dir: PathBuf,
        interrupt: Interrupt,
        status: Box<dyn Fn(&str) + 'a>,
        kube_undo: bool,
    ) -> Result<AwsRunner<'a>, AppError> {
        let mut runner = AwsRunner::new(&self.ctx, dir, interrupt, status);
        runner.confirmed_keys = self.confirmed_keys.clone();
        if let (Some(role), true) = (&self.kube.role_arn, kube_undo) {
            crate::arn::parse_role_arn(role)
                .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
            let session = sts::session_name_for_operator();
            runner.kube_credentials =
                Some(sts::assume_role(&self.ctx, role, &session, None, None).await?);
        }
        if let Some(server) = &self.kube.api_server {
            let ca_pem = match &self.kube.ca_file {
                Some(f) => Some(std::fs::read(f).map_err(|e| {
                    AppError::usage(
                        format!("cannot read the CA file {}: {e}", f.display()),
                        None,
                    )
                })?),
                // A tunnel changes the address, not the cluster's CA: DescribeCluster's.
                None => {
                    eks::describe_cluster(&self.ctx, &self.cluster)
                        .await?
                        .ca_pem
                }
            };
            runner.api_target = Some(crate::k8s::ApiTarget {
                server: server.clone(),
                ca_pem,
                tls_server_name: self.kube.tls_server_name.clone(),
            });
        }
        Ok(runner)
    }
}
