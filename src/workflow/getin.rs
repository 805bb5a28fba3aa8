//! Getting in, as `grant`, `assume-creator` and `recover` share it: who the caller is as an
//! IAM principal, whether an existing access entry is stale, what the grant plan starts from,
//! and which way into the creator the facts allow. Through the IAM and EKS-access ports only.

use crate::arn::PrincipalArn;
use crate::error::AppError;
use crate::ports::eks_access::{AccessEntryFacts, EksAccess};
use crate::ports::iam::Iam;
use crate::recovery::creator::Creator;
use crate::recovery::getin::{self, Facts, GrantFacts, Route};
use crate::recovery::principal::PrincipalStatus;

/// The IAM principal behind an ARN: a user as is, a session resolved to its role's real ARN
/// (with the path STS does not show) through GetRole.
pub async fn resolve_principal(iam: &impl Iam, arn: &str) -> Result<String, AppError> {
    let parsed =
        PrincipalArn::parse(arn).map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    match parsed {
        PrincipalArn::User { .. } => Ok(parsed.to_string()),
        PrincipalArn::Role { ref name, .. } => match iam.role_arn(name).await? {
            Some(r) => Ok(r),
            None => Err(AppError::usage(format!("role {arn} does not exist"), None)),
        },
        PrincipalArn::AssumedRole { ref role_name, .. } => match iam.role_arn(role_name).await? {
            Some(r) => Ok(r),
            None => Err(AppError::failed(
                format!("the role behind the session {arn} no longer exists"),
                Some("pass --principal ARN".to_string()),
            )),
        },
        PrincipalArn::Root { .. } | PrincipalArn::FederatedUser { .. } => Err(AppError::usage(
            format!("{arn} cannot have an access entry (only IAM users and roles can)"),
            Some("pass --principal with an IAM user or role ARN".to_string()),
        )),
    }
}

/// Why an existing entry is stale: it was made before its principal (CreateDate), so the
/// principal was deleted and recreated since. EKS binds an entry to the principal's unique id
/// ("if you don't delete the access entry and ever recreate the IAM principal, even if it has
/// the same ARN, the access entry won't work": EKS API reference, AccessEntry.principalArn);
/// the AccessEntry shape carries no principal id, so the dates are the evidence.
pub async fn stale_entry(
    iam: &impl Iam,
    principal: &str,
    entry: &AccessEntryFacts,
) -> Result<Option<String>, AppError> {
    let Some(entry_made) = entry.created_at else {
        return Ok(None);
    };
    let created = match PrincipalArn::parse(principal) {
        Ok(PrincipalArn::User { name, .. }) => iam.user_created(&name).await?,
        Ok(PrincipalArn::Role { name, .. }) => iam.role_created(&name).await?,
        _ => None,
    };
    Ok(created.filter(|c| *c > entry_made).map(|c| {
        format!(
            "the access entry for {principal} was made {} but the principal was created {}: it \
             was deleted and recreated since, and EKS binds an entry to the principal's unique \
             id, so this entry lets nobody in (groups it had: {})",
            entry_made.to_rfc3339(),
            c.to_rfc3339(),
            if entry.kubernetes_groups.is_empty() {
                "none".to_string()
            } else {
                entry.kubernetes_groups.join(", ")
            }
        )
    }))
}

/// What the grant plan starts from: the principal's entry (when the mode honours entries),
/// its policies, and whether it is stale.
pub async fn grant_facts(
    aws: &(impl Iam + EksAccess),
    cluster: &crate::cluster::ClusterFacts,
    region: &str,
    partition: &str,
    principal: &str,
) -> Result<GrantFacts, AppError> {
    let mode = cluster.effective_auth_mode();
    let (entry_exists, (associated, namespace_scoped), stale_entry) =
        if mode.allows_access_entries() {
            match aws.access_entry(&cluster.name, principal).await? {
                Some(entry) => (
                    true,
                    (entry.associated.clone(), entry.namespace_scoped.clone()),
                    stale_entry(aws, principal, &entry).await?,
                ),
                None => (false, Default::default(), None),
            }
        } else {
            (false, Default::default(), None)
        };
    Ok(GrantFacts {
        cluster: cluster.name.clone(),
        region: region.to_string(),
        partition: partition.to_string(),
        auth_mode: mode,
        principal_arn: principal.to_string(),
        entry_exists,
        associated,
        namespace_scoped,
        stale_entry,
    })
}

/// The way into the creator the facts allow: its trust policy (a role) or its keys (a user),
/// read without changing anything.
pub async fn creator_route(
    iam: &impl Iam,
    creator: &Creator,
    status: Option<&PrincipalStatus>,
) -> Result<Route, AppError> {
    let is_role = creator.arn.contains(":role/");
    let name = creator.name.clone().unwrap_or_default();
    let trust_document = if is_role && !name.is_empty() {
        iam.role_trust_policy(&name).await?
    } else {
        None
    };
    let keys = if !is_role && !name.is_empty() {
        iam.access_key_ids(&name).await
    } else {
        None
    };
    Ok(getin::choose_route(&Facts {
        creator,
        status,
        trust_document: trust_document.as_deref(),
        access_keys: keys.as_deref(),
    }))
}
