//! What the triage (`workflow::triage`) asks the world: who am I, what is the cluster, does
//! this machine reach its API server, does the API server let me in (and can I read aws-auth),
//! which node roles does the cluster have. The creator search has its own port
//! ([`super::creator_sources`]).
//!
//! One trait for the triage's reads so that the whole triage — which notes, which ways back in —
//! is tested with an in-memory fake. The SDK/Kubernetes adapter is
//! `aws::triage_sources::AwsTriage`. Methods take `&self` so that the independent questions are
//! asked at the same time.

use crate::awsauth::{AwsAuthDocument, NodeRoleFact};
use crate::cluster::ClusterFacts;
use crate::ports::error::AwsError;
use crate::recovery::diagnosis::CallerAccess;
use serde::Serialize;

/// The answer of GetCallerIdentity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// Where the API server is and how to trust it.
#[derive(Debug, Clone)]
pub struct ApiTarget {
    pub server: String,
    /// PEM bundle of the cluster CA.
    pub ca_pem: Option<Vec<u8>>,
    /// The name to check the server certificate against, for tunnels (`--tls-server-name`).
    pub tls_server_name: Option<String>,
}

/// A TCP connection attempt to the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpProbe {
    /// A TCP connection opened within the timeout.
    pub reachable: bool,
    pub detail: String,
    pub ms: u64,
}

/// What authenticating as the caller gave.
#[derive(Debug, Clone)]
pub struct ApiAccess {
    pub access: CallerAccess,
    /// The API server answered over TLS (any HTTP status); `Some(false)` when the connection
    /// or the TLS handshake failed; `None` when not asked or when it gave no answer in time.
    pub tls: Option<bool>,
    /// The API server gave no answer within the adapter's timeout (what that means for
    /// reachability is decided by the triage).
    pub timed_out: bool,
    /// aws-auth as read (an empty document when it does not exist); `None` when unreadable.
    pub aws_auth: Option<AwsAuthDocument>,
    /// How reading aws-auth went, for people.
    pub detail: String,
}

/// The triage's reads.
// Used through generics on the current-thread runtime only, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait TriageSources {
    /// sts:GetCallerIdentity.
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError>;
    /// eks:DescribeCluster.
    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError>;
    /// Opens a TCP connection to `server` (a URL).
    async fn probe_tcp(&self, server: &str) -> TcpProbe;
    /// Authenticates as the caller (SelfSubjectReview) and reads aws-auth when allowed.
    async fn caller_access(&self, facts: &ClusterFacts, target: &ApiTarget) -> ApiAccess;
    /// The IAM roles of the cluster's node groups and Fargate profiles.
    async fn node_roles(&self, cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError>;
}

impl From<&CallerIdentity> for crate::recovery::trust::Caller {
    fn from(me: &CallerIdentity) -> Self {
        crate::recovery::trust::Caller {
            arn: me.arn.clone(),
            account: me.account.clone(),
            user_id: me.user_id.clone(),
        }
    }
}
