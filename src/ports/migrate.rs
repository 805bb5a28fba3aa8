//! What `migrate` needs from the world: the cluster's facts, the live aws-auth, IAM's answer to
//! "which principal is this name", the roles EKS manages, the access entries, and a login.
//!
//! The workflow decides everything from these answers; the adapter (`aws::migrate_adapter`)
//! only asks AWS and the cluster. Tests replace it with an in-memory world.

use crate::awsauth::NodeRoleFact;
use crate::recovery::migrate::LiveEntry;
use std::collections::BTreeMap;
use std::future::Future;

/// A failed call, for people: what failed and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    pub message: String,
    pub hint: Option<String>,
}

impl PortError {
    pub fn new(message: impl Into<String>) -> PortError {
        PortError {
            message: message.into(),
            hint: None,
        }
    }
}

/// The cluster as DescribeCluster (and the caller's identity) tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterView {
    pub name: String,
    pub region: String,
    pub partition: String,
    /// CONFIG_MAP, API_AND_CONFIG_MAP or API.
    pub auth_mode: String,
    /// The caller (the operator), as STS names it.
    pub caller_arn: String,
}

/// kube-system/aws-auth as the API server returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAuthView {
    pub data: BTreeMap<String, String>,
    pub resource_version: Option<String>,
}

/// Whom to log in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAs {
    /// The operator's own credentials.
    Operator,
    /// A role the operator assumes first (`--verify-as`).
    Role(String),
}

/// How a login went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The API server answered a SelfSubjectReview; `admin`: may update configmaps in
    /// kube-system (what system:masters / the admin policy give).
    In {
        username: String,
        groups: Vec<String>,
        admin: bool,
    },
    /// 401 until the wait ran out.
    Refused,
    /// Could not try (AssumeRole refused, no endpoint, …).
    Failed(String),
}

/// An IAM principal kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Role,
}

pub trait MigrateWorld {
    fn cluster(&self) -> impl Future<Output = Result<ClusterView, PortError>>;
    /// `None` when the cluster has no aws-auth.
    fn aws_auth(&self) -> impl Future<Output = Result<Option<AwsAuthView>, PortError>>;
    /// The ARN (with its path) of the IAM user or role of this name; `None` when IAM has none.
    fn principal_arn(
        &self,
        kind: PrincipalKind,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>>;
    /// Managed node group and Fargate profile roles.
    fn node_roles(&self) -> impl Future<Output = Result<Vec<NodeRoleFact>, PortError>>;
    /// Every access entry (API modes only).
    fn access_entries(&self) -> impl Future<Output = Result<Vec<LiveEntry>, PortError>>;
    /// Logs in to the cluster as `who`, retrying while entries propagate: after a 401, and
    /// after an answer `settled` does not accept (e.g. one aws-auth gave, not the new entry),
    /// until the wait runs out; then the last answer.
    fn login<F: Fn(&Login) -> bool>(
        &self,
        who: &LoginAs,
        settled: F,
    ) -> impl Future<Output = Login>;
}
