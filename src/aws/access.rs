//! EKS writes for the access-entry route: access entries, access policies, and the
//! authentication-mode switch (UpdateClusterConfig + DescribeUpdate).
//!
//! Kept apart from the read-only `eks_access` so that read-only commands cannot reach a write.
//! "Already there" and "already gone" are answers here (`Ok(false)`), not errors, because plans
//! and undos must be idempotent: a re-run or a cleanup after a crash meets them routinely.

use super::{AwsContext, AwsError, AwsErrorKind};
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AuthenticationMode, UpdateAccessConfigRequest, UpdateStatus,
};

/// The partition-aware ARN of AmazonEKSClusterAdminPolicy.
pub fn cluster_admin_policy_arn(partition: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
}

/// An access entry as DescribeAccessEntry reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessEntry {
    pub principal_arn: String,
    pub entry_type: Option<String>,
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    /// The entry's own ARN: it ends in an id EKS makes per creation, so an entry deleted and
    /// created again for the same principal has another ARN — the entry's identity.
    pub entry_arn: Option<String>,
    pub created_at: Option<String>,
}

/// DescribeAccessEntry; `None` when there is no entry for the principal.
pub async fn describe_access_entry(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<Option<AccessEntry>, AwsError> {
    match ctx
        .eks()
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .send()
        .await
    {
        Ok(o) => Ok(o.access_entry().map(|e| AccessEntry {
            principal_arn: e.principal_arn().unwrap_or(principal_arn).to_string(),
            entry_type: e.r#type().map(str::to_string),
            username: e.username().map(str::to_string),
            kubernetes_groups: e.kubernetes_groups().to_vec(),
            entry_arn: e.access_entry_arn().map(str::to_string),
            created_at: e.created_at().map(|t| t.to_string()),
        })),
        Err(e) => {
            let err = AwsError::from_sdk("eks:DescribeAccessEntry", principal_arn, e);
            if err.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// CreateAccessEntry of type STANDARD: `Ok(Some(entry ARN))` when made (the ARN may be empty if
/// EKS did not say it), `Ok(None)` when the entry already exists.
pub async fn create_access_entry(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<Option<String>, AwsError> {
    match ctx
        .eks()
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .r#type("STANDARD")
        .send()
        .await
    {
        Ok(o) => Ok(Some(
            o.access_entry()
                .and_then(|e| e.access_entry_arn())
                .unwrap_or_default()
                .to_string(),
        )),
        Err(e) => {
            let err = AwsError::from_sdk("eks:CreateAccessEntry", principal_arn, e);
            if err.code.as_deref() == Some("ResourceInUseException") {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// DeleteAccessEntry. `Ok(false)` when there was none.
pub async fn delete_access_entry(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<bool, AwsError> {
    match ctx
        .eks()
        .delete_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("eks:DeleteAccessEntry", principal_arn, e);
            if err.kind == AwsErrorKind::NotFound {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

/// The policy ARNs associated with an entry.
pub async fn associated_policies(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ctx
        .eks()
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            AwsError::from_sdk("eks:ListAssociatedAccessPolicies", principal_arn, e)
        })?;
        out.extend(
            page.associated_access_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string)),
        );
    }
    Ok(out)
}

/// AssociateAccessPolicy with cluster scope (idempotent on EKS's side).
pub async fn associate_cluster_policy(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    policy_arn: &str,
) -> Result<(), AwsError> {
    let scope = AccessScope::builder()
        .r#type(AccessScopeType::Cluster)
        .build();
    ctx.eks()
        .associate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .policy_arn(policy_arn)
        .access_scope(scope)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("eks:AssociateAccessPolicy", principal_arn, e))
}

/// DisassociateAccessPolicy. `Ok(false)` when it was not associated (or the entry is gone).
pub async fn disassociate_policy(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    policy_arn: &str,
) -> Result<bool, AwsError> {
    match ctx
        .eks()
        .disassociate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .policy_arn(policy_arn)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("eks:DisassociateAccessPolicy", principal_arn, e);
            if err.kind == AwsErrorKind::NotFound {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

/// UpdateClusterConfig of the authentication mode; returns the update id.
pub async fn update_auth_mode(
    ctx: &AwsContext,
    cluster: &str,
    to: &str,
) -> Result<String, AwsError> {
    let mode = AuthenticationMode::from(to);
    let out = ctx
        .eks()
        .update_cluster_config()
        .name(cluster)
        .access_config(
            UpdateAccessConfigRequest::builder()
                .authentication_mode(mode)
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("eks:UpdateClusterConfig", cluster, e))?;
    out.update()
        .and_then(|u| u.id())
        .map(str::to_string)
        .ok_or_else(|| {
            AwsError::new(
                "eks:UpdateClusterConfig",
                AwsErrorKind::Service,
                "UpdateClusterConfig returned no update id",
            )
        })
}

/// Where an EKS update is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateState {
    InProgress,
    Successful,
    /// Failed or cancelled, with EKS's error messages.
    Failed(String),
}

/// DescribeUpdate.
pub async fn describe_update(
    ctx: &AwsContext,
    cluster: &str,
    update_id: &str,
) -> Result<UpdateState, AwsError> {
    let out = ctx
        .eks()
        .describe_update()
        .name(cluster)
        .update_id(update_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("eks:DescribeUpdate", cluster, e))?;
    let Some(u) = out.update() else {
        return Ok(UpdateState::InProgress);
    };
    Ok(match u.status() {
        Some(UpdateStatus::Successful) => UpdateState::Successful,
        Some(UpdateStatus::Failed) | Some(UpdateStatus::Cancelled) => {
            let msgs: Vec<String> = u
                .errors()
                .iter()
                .map(|e| e.error_message().unwrap_or("no message").to_string())
                .collect();
            UpdateState::Failed(if msgs.is_empty() {
                "the update failed".into()
            } else {
                msgs.join("; ")
            })
        }
        _ => UpdateState::InProgress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_policy_arn_follows_the_partition() {
        assert_eq!(
            cluster_admin_policy_arn("aws-cn"),
            "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
    }
}
