//! EKS: the roles nodes authenticate with — managed node group instance roles and Fargate pod
//! execution roles.
//!
//! A restore that forgets them makes nodes go NotReady minutes after people got back in. EKS
//! lists them (ListNodegroups/DescribeNodegroup, ListFargateProfiles/DescribeFargateProfile);
//! self-managed node roles are listed nowhere and only survive in aws-auth itself.

use super::{AwsContext, AwsError};
use crate::awsauth::{NodeRoleFact, NodeRoleKind};

/// Every node group and Fargate profile role of `cluster`, in listing order.
pub async fn node_roles(ctx: &AwsContext, cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError> {
    let eks = ctx.eks();
    let mut out = Vec::new();
    let mut groups = Vec::new();
    let mut pages = eks
        .list_nodegroups()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListNodegroups", cluster, e))?;
        groups.extend(page.nodegroups().iter().cloned());
    }
    for g in groups {
        let d = eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(&g)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("eks:DescribeNodegroup", &g, e))?;
        let Some(ng) = d.nodegroup() else { continue };
        let Some(role) = ng.node_role() else { continue };
        let windows = ng
            .ami_type()
            .is_some_and(|t| t.as_str().to_ascii_uppercase().contains("WINDOWS"));
        out.push(NodeRoleFact {
            arn: role.to_string(),
            kind: if windows {
                NodeRoleKind::Ec2Windows
            } else {
                NodeRoleKind::Ec2Linux
            },
            source: format!("node group {g}"),
        });
    }
    let mut profiles = Vec::new();
    let mut pages = eks
        .list_fargate_profiles()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListFargateProfiles", cluster, e))?;
        profiles.extend(page.fargate_profile_names().iter().cloned());
    }
    for p in profiles {
        let d = eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(&p)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("eks:DescribeFargateProfile", &p, e))?;
        if let Some(role) = d.fargate_profile().and_then(|f| f.pod_execution_role_arn()) {
            out.push(NodeRoleFact {
                arn: role.to_string(),
                kind: NodeRoleKind::Fargate,
                source: format!("Fargate profile {p}"),
            });
        }
    }
    Ok(out)
}
