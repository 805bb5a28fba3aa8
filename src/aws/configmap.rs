//! The SDK/kube adapter of `ports::configmap`: one cluster's aws-auth, reached as one
//! identity (the caller's, or `--role-arn`'s, through `--api-server` when tunnelled).

use super::cluster_api::{self, Connected, KubeAccess};
use super::plan_runner::AwsRunner;
use super::{AwsContext, eks_nodes, sts};
use crate::awsauth::{CallerIdentity, NodeRoleFact};
use crate::cli::Globals;
use crate::error::AppError;
use crate::k8s::{KubeError, WhoAmI};
use crate::ports::configmap::{AwsAuthCluster, LiveAwsAuth, LoggedIn, LoginError};
use crate::recovery::plan::Interrupt;
use crate::recovery::restore::AwsAuthObject;
use aws_credential_types::Credentials;
use k8s_openapi::api::core::v1::ConfigMap;
use std::path::PathBuf;

/// A connection to the cluster for reading and writing aws-auth.
pub struct Session {
    /// The caller's context (journaled writes and cleanup start from it).
    pub base: AwsContext,
    pub access: KubeAccess,
    pub conn: Connected,
    /// Who the identity used is (GetCallerIdentity of the identity used).
    pub caller: sts::CallerIdentity,
}

impl Session {
    pub async fn open(g: &Globals, access: KubeAccess) -> Result<Session, AppError> {
        let base = AwsContext::load(&g.aws_options()).await?;
        let conn = cluster_api::connect(&base, &access).await?;
        let caller = sts::caller_identity(&conn.ctx).await?;
        Ok(Session {
            base,
            access,
            conn,
            caller,
        })
    }
}

/// A ConfigMap as the port's record of it.
pub fn live_of(cm: &ConfigMap) -> Result<LiveAwsAuth, AppError> {
    let raw_json = serde_json::to_string(cm)
        .map_err(|e| AppError::failed(format!("cannot encode the ConfigMap: {e}"), None))?;
    Ok(LiveAwsAuth {
        object: cluster_api::object_of(cm),
        resource_version: cm.metadata.resource_version.clone(),
        raw_json,
        saved_json: cluster_api::configmap_json(cm),
    })
}

fn logged_in(r: Result<WhoAmI, AppError>) -> Result<LoggedIn, LoginError> {
    match r {
        Ok(w) => Ok(LoggedIn {
            username: w.username,
            groups: w.groups,
        }),
        Err(e) => Err(LoginError {
            unauthorized: matches!(e, AppError::Kube(KubeError::Unauthorized)),
            message: e.to_string(),
        }),
    }
}

impl AwsAuthCluster for Session {
    type Login = Credentials;
    type Runner<'a> = AwsRunner<'a>;

    fn cluster(&self) -> &str {
        &self.conn.facts.name
    }
    fn region(&self) -> &str {
        &self.conn.facts.region
    }
    fn profile(&self) -> Option<&str> {
        self.base.profile.as_deref()
    }
    fn caller_arn(&self) -> &str {
        &self.caller.arn
    }
    fn caller_account(&self) -> &str {
        &self.caller.account
    }

    async fn read_live(&self) -> Result<Option<LiveAwsAuth>, AppError> {
        match self.conn.client.get_configmap("aws-auth").await? {
            Some(cm) => live_of(&cm).map(Some),
            None => Ok(None),
        }
    }

    async fn node_roles(&self) -> Result<Vec<NodeRoleFact>, AppError> {
        Ok(eks_nodes::node_roles(&self.base, &self.conn.facts.name).await?)
    }

    fn manifest_json(&self, object: &AwsAuthObject) -> String {
        cluster_api::configmap_json(&cluster_api::configmap_of("aws-auth", object))
    }

    async fn whoami(&self) -> Result<LoggedIn, LoginError> {
        logged_in(self.conn.client.whoami().await.map_err(AppError::from))
    }

    async fn assume(&self, role: &str) -> Result<(CallerIdentity, Credentials), String> {
        let ctx = cluster_api::identity_ctx(&self.base, Some(role))
            .await
            .map_err(|e| format!("cannot assume it: {e}"))?;
        let (creds, who) = match (ctx.credentials().await, sts::caller_identity(&ctx).await) {
            (Ok(c), Ok(w)) => (c, w),
            (Err(e), _) => return Err(e.to_string()),
            (_, Err(e)) => return Err(e.to_string()),
        };
        let id = CallerIdentity {
            arn: who.arn,
            account: who.account,
            session_name: None,
            access_key_id: creds.access_key_id().to_string(),
            ec2_private_dns_name: None,
        };
        Ok((id, creds))
    }

    async fn whoami_as(&self, login: &Credentials) -> Result<LoggedIn, LoginError> {
        let answer = match cluster_api::client_as(&self.conn.target, &self.conn.facts, login) {
            Ok(c) => c.whoami().await.map_err(AppError::from),
            Err(e) => Err(e),
        };
        logged_in(answer)
    }

    async fn shadowed(&self, mapping: &crate::awsauth::EffectiveMapping) -> Vec<String> {
        super::entries_read::shadows_for(&self.base, &self.conn.facts, mapping).await
    }

    async fn has_access_entry(&self, principal: &str) -> bool {
        let facts = &self.conn.facts;
        if !facts.effective_auth_mode().allows_access_entries() {
            return false;
        }
        // A stale entry (or one whose principal is gone) lets nobody in: not a way in.
        let Ok(Some(entry)) =
            super::entries_read::describe_entry(&self.base, &facts.name, principal).await
        else {
            return false;
        };
        let now = super::entries_read::principal_now(&self.base, &entry.principal_arn).await;
        !matches!(
            crate::recovery::access_entries::judge(&entry, &now, None),
            crate::recovery::access_entries::EntryState::Stale { .. }
                | crate::recovery::access_entries::EntryState::PrincipalDeleted
        )
    }

    async fn resolve_principal(&self, arn: &str) -> Result<String, AppError> {
        crate::workflow::getin::resolve_principal(&self.base, arn).await
    }

    fn runner<'a>(
        &'a self,
        dir: PathBuf,
        interrupt: Interrupt,
        status: Box<dyn Fn(&str) + 'a>,
    ) -> AwsRunner<'a> {
        let mut r = AwsRunner::new(&self.base, dir, interrupt, status);
        // The write goes the way the live object was read: same identity, same endpoint.
        r.kube_credentials = Some(self.conn.creds.clone());
        r.api_target = Some(self.conn.target.clone());
        r
    }
}
