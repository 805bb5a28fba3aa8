//! EKS access entries, read-only: who has an entry, since when, with which access policies.
//!
//! On clusters with access entries, EKS represents the creator's admin as an entry made at
//! creation time with `AmazonEKSClusterAdminPolicy`: a last witness of who created the cluster
//! when CloudTrail has forgotten. Writing entries is `grant`'s business, elsewhere.

use super::{AwsContext, AwsError};
use crate::aws::eks::to_chrono;
use crate::ports::creator_sources::AccessEntryRecord;

/// Every access entry of `cluster`, described; policies (cluster-scoped ones) are listed for
/// `STANDARD` entries only (node and Fargate entries cannot carry access policies).
pub async fn access_entries(
    ctx: &AwsContext,
    cluster: &str,
) -> Result<Vec<AccessEntryRecord>, AwsError> {
    let eks = ctx.eks();
    let mut arns = Vec::new();
    let mut pages = eks
        .list_access_entries()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListAccessEntries", cluster, e))?;
        arns.extend(page.access_entries().iter().cloned());
    }
    let mut out = Vec::with_capacity(arns.len());
    for arn in arns {
        let d = eks
            .describe_access_entry()
            .cluster_name(cluster)
            .principal_arn(&arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("eks:DescribeAccessEntry", &arn, e))?;
        let entry = d.access_entry();
        let entry_type = entry.and_then(|e| e.r#type()).map(str::to_string);
        let created_at = entry.and_then(|e| e.created_at()).and_then(to_chrono);
        let mut policies = Vec::new();
        if entry_type.as_deref().is_none_or(|t| t == "STANDARD") {
            let mut pp = eks
                .list_associated_access_policies()
                .cluster_name(cluster)
                .principal_arn(&arn)
                .into_paginator()
                .send();
            while let Some(page) = pp.next().await {
                let page = page
                    .map_err(|e| AwsError::from_sdk("eks:ListAssociatedAccessPolicies", &arn, e))?;
                // Cluster-scoped associations only: a namespace-scoped admin policy is no
                // admin of the cluster (see `access::associated_policies`).
                policies.extend(
                    page.associated_access_policies()
                        .iter()
                        .filter(|p| crate::aws::access::cluster_scoped(p))
                        .filter_map(|p| p.policy_arn().map(str::to_string)),
                );
            }
        }
        out.push(AccessEntryRecord {
            principal_arn: arn,
            created_at,
            entry_type,
            policies,
        });
    }
    Ok(out)
}
