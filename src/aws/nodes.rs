//! The node roles EKS knows for a cluster: managed node groups' instance roles and Fargate
//! profiles' pod execution roles.
//!
//! A restore that forgets them takes the nodes down with the people (they go NotReady when
//! their mapping disappears), so `recover` adds any that the candidate aws-auth lacks.
//! Self-managed node roles are not listed anywhere in EKS: only what still parses in aws-auth
//! keeps them.

use super::{AwsContext, AwsError};
use crate::awsauth::{NodeRoleFact, NodeRoleKind};

/// Every node group instance role and Fargate pod execution role of `cluster`.
pub async fn node_roles(ctx: &AwsContext, cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError> {
    let eks = ctx.eks();
    let mut out: Vec<NodeRoleFact> = Vec::new();
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
        if let Some(ng) = d.nodegroup()
            && let Some(role) = ng.node_role()
        {
            let windows = ng
                .ami_type()
                .is_some_and(|t| t.as_str().to_ascii_uppercase().contains("WINDOWS"));
            push(
                &mut out,
                role,
                if windows {
                    NodeRoleKind::Ec2Windows
                } else {
                    NodeRoleKind::Ec2Linux
                },
                &g,
            );
        }
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
            push(&mut out, role, NodeRoleKind::Fargate, &p);
        }
    }
    Ok(out)
}

fn push(out: &mut Vec<NodeRoleFact>, arn: &str, kind: NodeRoleKind, source: &str) {
    if !out.iter().any(|r| r.arn.eq_ignore_ascii_case(arn)) {
        out.push(NodeRoleFact {
            arn: arn.to_string(),
            kind,
            source: source.to_string(),
        });
    }
}
