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
    /// When EKS made the entry. An entry older than its principal's CreateDate was made for an
    /// earlier principal of the same ARN: EKS binds entries to the unique id, so it no longer
    /// lets anyone in ("if you … recreate the IAM principal, even if it has the same ARN, the
    /// access entry won't work", EKS API reference, AccessEntry.principalArn).
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
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
            created_at: e.created_at().and_then(crate::aws::eks::to_chrono),
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

/// The policy ARNs associated with an entry **with cluster scope**. A policy associated with a
/// namespace scope grants its rights in those namespaces only (EKS User Guide, "Associate
/// access policies with access entries"): AmazonEKSClusterAdminPolicy on `default` cannot read
/// or repair kube-system/aws-auth, so it is not "already associated" for anything here.
pub async fn associated_policies(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<Vec<String>, AwsError> {
    Ok(associated_policies_by_scope(ctx, cluster, principal_arn)
        .await?
        .0)
}

/// The policy ARNs associated with an entry: (cluster-scoped, namespace-scoped).
pub async fn associated_policies_by_scope(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<(Vec<String>, Vec<String>), AwsError> {
    let (mut cluster_wide, mut namespaced) = (Vec::new(), Vec::new());
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
        for p in page.associated_access_policies() {
            let Some(arn) = p.policy_arn() else { continue };
            if cluster_scoped(p) {
                cluster_wide.push(arn.to_string());
            } else {
                namespaced.push(arn.to_string());
            }
        }
    }
    Ok((cluster_wide, namespaced))
}

/// True when an association's access scope is the whole cluster.
pub fn cluster_scoped(p: &aws_sdk_eks::types::AssociatedAccessPolicy) -> bool {
    p.access_scope()
        .and_then(|s| s.r#type())
        .is_some_and(|t| *t == AccessScopeType::Cluster)
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

/// The id of an update of `cluster` still in progress (ListUpdates + DescribeUpdate), newest
/// first. A run killed while EKS switched the authentication mode leaves that update running,
/// and EKS refuses another one meanwhile ("ResourceInUseException: Cannot update cluster config
/// while another update is in progress"): a re-run joins it instead.
pub async fn update_in_progress(
    ctx: &AwsContext,
    cluster: &str,
) -> Result<Option<String>, AwsError> {
    let mut ids = Vec::new();
    let mut pages = ctx
        .eks()
        .list_updates()
        .name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListUpdates", cluster, e))?;
        ids.extend(page.update_ids().iter().cloned());
    }
    for id in ids.iter().rev() {
        if describe_update(ctx, cluster, id).await? == UpdateState::InProgress {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
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
