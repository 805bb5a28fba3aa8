//! EKS writes that make a stale access entry again as it was: an entry with a given type,
//! username and groups, and policy associations with their scopes (cluster or namespaces).
//!
//! Kept apart from `access.rs` (the admin-entry route of `grant`, which always makes STANDARD
//! entries with cluster-scoped policies) because `fix-entries` must reproduce what existed —
//! a node entry stays a node entry, a namespace-scoped view stays namespace-scoped.

use super::{AwsContext, AwsError};
use aws_sdk_eks::types::{AccessScope, AccessScopeType};

/// CreateAccessEntry with the given type, username (`None`: EKS's default) and groups.
/// `Ok(Some(entry ARN))` when made, `Ok(None)` when an entry for the principal exists already.
pub async fn create_entry_like(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    entry_type: &str,
    username: Option<&str>,
    groups: &[String],
) -> Result<Option<String>, AwsError> {
    let mut req = ctx
        .eks()
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .r#type(entry_type);
    // Only STANDARD entries take a username and groups (EKS refuses them on node types).
    if entry_type == "STANDARD" {
        if let Some(u) = username {
            req = req.username(u);
        }
        for g in groups {
            req = req.kubernetes_groups(g);
        }
    }
    match req.send().await {
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

/// AssociateAccessPolicy with cluster scope (`namespaces` empty) or a namespace scope.
pub async fn associate_scoped(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    policy_arn: &str,
    namespaces: &[String],
) -> Result<(), AwsError> {
    let scope = if namespaces.is_empty() {
        AccessScope::builder()
            .r#type(AccessScopeType::Cluster)
            .build()
    } else {
        AccessScope::builder()
            .r#type(AccessScopeType::Namespace)
            .set_namespaces(Some(namespaces.to_vec()))
            .build()
    };
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
