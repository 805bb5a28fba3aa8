//! What the fleet audit (`workflow::audit`) asks about one cluster of one account and region.
//!
//! One trait so that how a cluster is judged — which failures end its audit, when the deep
//! creator search runs, what a creator's IAM answer means, the access-entry findings — is tested
//! with an in-memory fake. The SDK adapter (`aws::audit_sources`) paces every call on the
//! account/region/service rate limits and shares IAM answers between the clusters of an account;
//! neither is a decision.

use crate::awsauth::AwsAuthDocument;
use crate::cluster::ClusterFacts;
use crate::ports::error::AwsError;
use crate::recovery::access_entries::JudgedEntry;
use crate::recovery::creator::CreatorReport;
use crate::recovery::principal::{IamRoleRecord, IamUserRecord};

/// IAM's answer about a creator (shared by every cluster of an account).
#[derive(Debug, Clone)]
pub enum IamAnswer {
    /// GetUser (None: no such user) and, when it exists, how many access keys it has (None:
    /// ListAccessKeys refused).
    User {
        user: Option<IamUserRecord>,
        keys: Option<usize>,
    },
    /// GetRole (None: no such role).
    Role(Option<IamRoleRecord>),
    /// The call failed: why.
    Failed(String),
}

/// The reads of the audit of one cluster.
// Used through generics on the current-thread runtime only, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait AuditSources {
    /// The account audited (its id).
    fn account(&self) -> &str;
    /// The account's partition (`aws`, `aws-cn`, …), for ARNs made from names.
    fn partition(&self) -> &str;
    /// eks:DescribeCluster.
    async fn describe_cluster(&self, name: &str) -> Result<ClusterFacts, AwsError>;
    /// iam:GetUser (+ iam:ListAccessKeys) when `user`, else iam:GetRole, of `name`.
    async fn iam_principal(&self, user: bool, name: &str) -> IamAnswer;
    /// The creator search of `creator` (CloudTrail; no trail bucket, no status check).
    async fn find_creator(&self, facts: &ClusterFacts) -> Result<CreatorReport, AwsError>;
    /// eks:DescribeAccessEntry: whether `principal_arn` has an entry.
    async fn has_access_entry(&self, cluster: &str, principal_arn: &str) -> Result<bool, AwsError>;
    /// eks:ListAssociatedAccessPolicies of `principal_arn`'s entry.
    async fn associated_policies(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> Result<Vec<String>, AwsError>;
    /// kube-system/aws-auth read through the API server with our credentials: `Ok(None)` when
    /// it does not exist, `Err(why)` when it cannot be read.
    async fn aws_auth(&self, facts: &ClusterFacts) -> Result<Option<AwsAuthDocument>, String>;
    /// The cluster's access entries, judged (stale, principal deleted, live).
    async fn judged_entries(&self, facts: &ClusterFacts) -> Result<Vec<JudgedEntry>, AwsError>;
    /// eks:ListAccessPolicies: the ARNs of the access policies EKS offers (None: refused).
    async fn offered_policies(&self) -> Option<Vec<String>>;
}
