//! The adapter behind the [`TriageSources`] port: STS, DescribeCluster, a TCP probe, a
//! SelfSubjectReview with the caller's EKS token (and a read of aws-auth), the node roles.
//! No decision here: what the answers mean is `workflow::triage`.

use super::{AwsContext, AwsError, eks, eks_nodes, sts, token};
use crate::awsauth::{AwsAuthDocument, NodeRoleFact};
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::k8s::{KubeClient, KubeError};
use crate::ports::triage::{ApiAccess, ApiTarget, CallerIdentity, TcpProbe, TriageSources};
use crate::recovery::diagnosis::CallerAccess;
use crate::workflow::triage::{Triage, TriageOptions, triage};
use std::time::{Duration, Instant, SystemTime};

/// The triage of `cluster` with the real adapters (what `diagnose` and `recover` run).
pub async fn run_triage(
    ctx: &AwsContext,
    cluster: &str,
    api_server: Option<&str>,
    target: impl FnOnce(&ClusterFacts) -> Result<ApiTarget, AppError>,
) -> Result<Triage, AppError> {
    let opts = TriageOptions {
        cluster,
        api_server,
        now: chrono::Utc::now(),
    };
    let mut creator = super::creator_sources::AwsSources::new(ctx);
    triage(&AwsTriage::new(ctx), &mut creator, &opts, target).await
}

/// The triage's reads over the SDK and the Kubernetes client.
pub struct AwsTriage<'a> {
    ctx: &'a AwsContext,
}

impl<'a> AwsTriage<'a> {
    pub fn new(ctx: &'a AwsContext) -> Self {
        AwsTriage { ctx }
    }
}

impl TriageSources for AwsTriage<'_> {
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        sts::caller_identity(self.ctx).await
    }

    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError> {
        eks::describe_cluster(self.ctx, cluster).await
    }

    async fn probe_tcp(&self, server: &str) -> TcpProbe {
        probe_tcp(server).await
    }

    async fn caller_access(&self, facts: &ClusterFacts, target: &ApiTarget) -> ApiAccess {
        caller_access(self.ctx, facts, target).await
    }

    async fn node_roles(&self, cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError> {
        eks_nodes::node_roles(self.ctx, cluster).await
    }
}

impl crate::ports::lookup::ClusterLookup for AwsTriage<'_> {
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        sts::caller_identity(self.ctx).await
    }

    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError> {
        eks::describe_cluster(self.ctx, cluster).await
    }
}

async fn probe_tcp(server: &str) -> TcpProbe {
    let start = Instant::now();
    let uri: Result<http::Uri, _> = server.parse();
    let Ok(uri) = uri else {
        return TcpProbe {
            reachable: false,
            detail: format!("'{server}' is not a URL"),
            ms: 0,
        };
    };
    let host = uri.host().unwrap_or_default().to_string();
    let port = uri.port_u16().unwrap_or(443);
    let res = tokio::task::spawn_blocking(move || {
        use std::net::ToSocketAddrs as _;
        let addrs: Vec<_> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let mut last = format!("{host} resolves to no address");
        for a in addrs {
            match std::net::TcpStream::connect_timeout(&a, Duration::from_secs(3)) {
                Ok(_) => return Ok(format!("TCP connect to {a} ok")),
                Err(e) => last = format!("TCP connect to {a} failed: {e}"),
            }
        }
        Err(last)
    })
    .await;
    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (reachable, detail) = match res {
        Ok(Ok(d)) => (true, d),
        Ok(Err(d)) => (false, d),
        Err(e) => (false, e.to_string()),
    };
    TcpProbe {
        reachable,
        detail,
        ms,
    }
}

/// Authenticates as the caller; reads aws-auth when allowed.
async fn caller_access(ctx: &AwsContext, facts: &ClusterFacts, target: &ApiTarget) -> ApiAccess {
    let (access, answer, aws_auth, detail) = caller_access_parts(ctx, facts, target).await;
    ApiAccess {
        access,
        tls: answer.unwrap_or(None),
        timed_out: answer.is_err(),
        aws_auth,
        detail,
    }
}

async fn caller_access_parts(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    target: &ApiTarget,
) -> (
    CallerAccess,
    // Ok(tls answered) or Err(()) when no answer came in time; Ok(None) when not asked.
    Result<Option<bool>, ()>,
    Option<AwsAuthDocument>,
    String,
) {
    let creds = match ctx.credentials().await {
        Ok(c) => c,
        Err(e) => {
            return (
                CallerAccess::Unknown {
                    reason: e.to_string(),
                },
                Ok(None),
                None,
                e.to_string(),
            );
        }
    };
    let tok = match token::make_token(&creds, &facts.region, &facts.name, SystemTime::now()) {
        Ok(t) => t,
        Err(e) => {
            let r = e.to_string();
            return (
                CallerAccess::Unknown { reason: r.clone() },
                Ok(None),
                None,
                r,
            );
        }
    };
    let client = match KubeClient::new(target, &tok.token) {
        Ok(c) => c,
        Err(e) => {
            let r = e.to_string();
            return (
                CallerAccess::Unknown { reason: r.clone() },
                Ok(None),
                None,
                r,
            );
        }
    };
    let who = tokio::time::timeout(Duration::from_secs(8), client.whoami()).await;
    match who {
        Err(_) => {
            let r = format!("no answer from {} within 8 s", target.server);
            (
                CallerAccess::Unknown { reason: r.clone() },
                Err(()),
                None,
                r,
            )
        }
        Ok(Err(KubeError::Unauthorized)) => (
            CallerAccess::Unauthorized,
            Ok(Some(true)),
            None,
            "not readable as you: the API server answered 401 Unauthorized".into(),
        ),
        Ok(Err(e)) => {
            let tls = !matches!(e, KubeError::Unreachable { .. });
            let r = e.to_string();
            (
                CallerAccess::Unknown { reason: r.clone() },
                Ok(Some(tls)),
                None,
                r,
            )
        }
        Ok(Ok(w)) => {
            let (doc, detail) = match client.get_configmap("aws-auth").await {
                Ok(Some(cm)) => (
                    Some(AwsAuthDocument::from_data(
                        &format!("cluster/{}", facts.name),
                        cm.data.unwrap_or_default(),
                    )),
                    "read as you".to_string(),
                ),
                Ok(None) => (
                    Some(AwsAuthDocument::from_data(
                        "absent",
                        Vec::<(String, String)>::new(),
                    )),
                    "kube-system/aws-auth does not exist".to_string(),
                ),
                Err(e) => (None, format!("not readable as you: {e}")),
            };
            (
                CallerAccess::Authenticated {
                    username: w.username,
                    groups: w.groups,
                    can_read_aws_auth: doc.is_some(),
                },
                Ok(Some(true)),
                doc,
                detail,
            )
        }
    }
}

/// The live aws-auth of `aws-auth lint/show/diff --cluster`: DescribeCluster for the
/// endpoint and CA, a token made locally, a GET (absent: an error naming the fix).
pub async fn read_live_aws_auth(
    ctx: &AwsContext,
    cluster: &str,
) -> Result<AwsAuthDocument, AppError> {
    let facts = eks::describe_cluster(ctx, cluster).await?;
    let server = facts.endpoint.clone().ok_or_else(|| {
        AppError::failed(
            format!("cluster {} has no API endpoint", facts.name),
            Some("wait until the cluster is ACTIVE".to_string()),
        )
    })?;
    let creds = ctx.credentials().await?;
    let tok = token::make_token(&creds, &facts.region, &facts.name, SystemTime::now())?;
    let target = ApiTarget {
        server,
        ca_pem: facts.ca_pem.clone(),
        tls_server_name: None,
    };
    let client = KubeClient::new(&target, &tok.token)?;
    let cm = client.get_configmap("aws-auth").await?.ok_or_else(|| {
        AppError::failed(
            format!("cluster {cluster} has no kube-system/aws-auth ConfigMap"),
            Some("the authenticator then maps nobody through aws-auth; restore one with `eks-breakglass aws-auth restore`".to_string()),
        )
    })?;
    let json = serde_json::to_string(&cm)
        .map_err(|e| AppError::failed(format!("cannot encode the ConfigMap: {e}"), None))?;
    AwsAuthDocument::from_live_json(&format!("cluster/{cluster}"), &json)
        .map_err(crate::ui::input::input_error)
}
