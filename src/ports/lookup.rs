//! The two questions every read-side use case starts with: who am I (sts:GetCallerIdentity)
//! and what is the cluster (eks:DescribeCluster). A port of its own so that `workflow::creator`
//! needs no more of the world than that (plus the creator search's own port).

use crate::cluster::ClusterFacts;
use crate::ports::error::AwsError;
use crate::ports::triage::CallerIdentity;

/// Who am I, what is the cluster.
// Used through generics on the current-thread runtime only, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait ClusterLookup {
    /// sts:GetCallerIdentity.
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError>;
    /// eks:DescribeCluster.
    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError>;
}
