//! EKS writes that make a stale access entry again as it was: an entry with a given type,
//! username and groups, and policy associations with their scopes (cluster or namespaces).
//!
//! Kept apart from `access.rs` (the admin-entry route of `grant`, which always makes STANDARD
//! entries with cluster-scoped policies) because `fix-entries` must reproduce what existed —
//! a node entry stays a node entry, a namespace-scoped view stays namespace-scoped.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::recovery::plan::{EntryContent, PolicyScope};
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

/// Makes an entry again from its journaled content (type, username, groups, each policy with
/// its scope): the undo of a `fix-entries` delete when the run stopped before making the entry
/// again. `Ok(false)` when the principal has an entry already (made by the run, or by someone
/// since): that entry is left alone.
pub async fn recreate_entry(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    content: &EntryContent,
) -> Result<bool, AwsError> {
    let made = create_entry_like(
        ctx,
        cluster,
        principal_arn,
        &content.entry_type,
        content.username.as_deref(),
        &content.kubernetes_groups,
    )
    .await?;
    if made.is_none() {
        return Ok(false);
    }
    for p in &content.policies {
        associate_scoped(ctx, cluster, principal_arn, &p.policy_arn, &p.namespaces).await?;
    }
    Ok(true)
}

/// Before the undo deletes an entry a run made: the entry must still be what the run made it
/// (its groups and username, and no association beyond the run's). Something a colleague added
/// since would go with the entry, so the undo refuses and shows the difference.
pub async fn check_entry_as_made(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
    made: &EntryContent,
) -> Result<(), AwsError> {
    let Some(live) = super::entries_read::describe_entry(ctx, cluster, principal_arn).await? else {
        return Ok(());
    };
    let mut diff = Vec::new();
    let mut groups_live = live.kubernetes_groups.clone();
    let mut groups_made = made.kubernetes_groups.clone();
    groups_live.sort();
    groups_made.sort();
    if groups_live != groups_made {
        diff.push(format!(
            "Kubernetes groups: made [{}], now [{}]",
            groups_made.join(", "),
            groups_live.join(", ")
        ));
    }
    if let Some(u) = &made.username
        && live.username.as_deref() != Some(u.as_str())
    {
        diff.push(format!(
            "username: made {u}, now {}",
            live.username.as_deref().unwrap_or("-")
        ));
    }
    for a in &live.policies {
        let now = PolicyScope {
            policy_arn: a.policy_arn.clone(),
            namespaces: match &a.scope {
                crate::recovery::access_entries::AccessScope::Cluster => Vec::new(),
                crate::recovery::access_entries::AccessScope::Namespace { namespaces } => {
                    namespaces.clone()
                }
            },
        };
        let ours = made.policies.iter().any(|p| {
            let (mut x, mut y) = (p.namespaces.clone(), now.namespaces.clone());
            x.sort();
            y.sort();
            p.policy_arn == now.policy_arn && x == y
        });
        if !ours {
            diff.push(format!("associated since: {}", now.describe()));
        }
    }
    if diff.is_empty() {
        return Ok(());
    }
    Err(AwsError::new(
        "eks:DeleteAccessEntry",
        AwsErrorKind::InvalidInput,
        format!(
            "the access entry of {principal_arn} on {cluster} is no longer as this run made it: deleting it would erase what someone added since, so it is left as is.\n  {}",
            diff.join("\n  ")
        ),
    )
    .with_hint(format!(
        "remove what this run added by hand, or if the whole entry must go anyway: `aws eks delete-access-entry --cluster-name {cluster} --principal-arn {principal_arn}`"
    )))
}
