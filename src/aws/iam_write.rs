//! IAM mutations for getting in as the creator: access keys, trust policies, recreated users and
//! roles, and their removal.
//!
//! Separate from the read-only `iam` adapter so that read-only commands cannot reach a write.
//! Removals are idempotent — "already gone" is `Ok(false)` — and delete what IAM insists on
//! first (keys, inline and attached policies, login profile), because a cleanup after a crash
//! must finish without a person untangling `DeleteConflict` by hand. Secrets returned by
//! CreateAccessKey are handed back as SDK credentials and never logged.

use super::{AwsContext, AwsError, AwsErrorKind};
use aws_credential_types::Credentials;

fn gone(err: &AwsError) -> bool {
    err.kind == AwsErrorKind::NotFound
}

/// A new access key: its id (safe to show) and the credentials (secret).
pub struct NewAccessKey {
    pub access_key_id: String,
    pub credentials: Credentials,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// CreateAccessKey for `user`.
pub async fn create_access_key(ctx: &AwsContext, user: &str) -> Result<NewAccessKey, AwsError> {
    let out = ctx
        .iam()
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:CreateAccessKey", user, e))?;
    let k = out.access_key().ok_or_else(|| {
        AwsError::new(
            "iam:CreateAccessKey",
            AwsErrorKind::Service,
            "CreateAccessKey returned no key",
        )
    })?;
    Ok(NewAccessKey {
        access_key_id: k.access_key_id().to_string(),
        credentials: Credentials::new(
            k.access_key_id(),
            k.secret_access_key(),
            None,
            None,
            "eks-breakglass-temporary-key",
        ),
    })
}

/// DeleteAccessKey. `Ok(false)` when the key (or the user) no longer exists.
pub async fn delete_access_key(
    ctx: &AwsContext,
    user: &str,
    key_id: &str,
) -> Result<bool, AwsError> {
    match ctx
        .iam()
        .delete_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("iam:DeleteAccessKey", key_id, e);
            if gone(&err) { Ok(false) } else { Err(err) }
        }
    }
}

/// The ids of a user's access keys; `None` when the user does not exist.
pub async fn access_key_ids(ctx: &AwsContext, user: &str) -> Result<Option<Vec<String>>, AwsError> {
    match super::iam::list_access_keys(ctx, user).await {
        Ok(keys) => Ok(Some(keys.into_iter().map(|k| k.access_key_id).collect())),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// UpdateAssumeRolePolicy with `document`, sent exactly as given.
pub async fn update_assume_role_policy(
    ctx: &AwsContext,
    role: &str,
    document: &str,
) -> Result<(), AwsError> {
    ctx.iam()
        .update_assume_role_policy()
        .role_name(role)
        .policy_document(document)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("iam:UpdateAssumeRolePolicy", role, e))
}

/// CreateUser with a path; returns the new unique id. `Ok(None)` when it already exists.
pub async fn create_user(
    ctx: &AwsContext,
    user: &str,
    path: &str,
) -> Result<Option<String>, AwsError> {
    match ctx
        .iam()
        .create_user()
        .user_name(user)
        .path(path)
        .send()
        .await
    {
        Ok(o) => Ok(Some(
            o.user()
                .map(|u| u.user_id().to_string())
                .unwrap_or_default(),
        )),
        Err(e) => {
            let err = AwsError::from_sdk("iam:CreateUser", user, e);
            if err.code.as_deref() == Some("EntityAlreadyExists") {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// CreateRole with a path and trust document; returns the new unique id. `Ok(None)` when it
/// already exists.
pub async fn create_role(
    ctx: &AwsContext,
    role: &str,
    path: &str,
    trust: &str,
) -> Result<Option<String>, AwsError> {
    match ctx
        .iam()
        .create_role()
        .role_name(role)
        .path(path)
        .assume_role_policy_document(trust)
        .description("Recreated by eks-breakglass to get back into an EKS cluster; remove with `eks-breakglass cleanup`")
        .send()
        .await
    {
        Ok(o) => Ok(Some(o.role().map(|r| r.role_id().to_string()).unwrap_or_default())),
        Err(e) => {
            let err = AwsError::from_sdk("iam:CreateRole", role, e);
            if err.code.as_deref() == Some("EntityAlreadyExists") {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// PutRolePolicy (an inline policy).
pub async fn put_role_policy(
    ctx: &AwsContext,
    role: &str,
    name: &str,
    document: &str,
) -> Result<(), AwsError> {
    ctx.iam()
        .put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("iam:PutRolePolicy", role, e))
}

/// DeleteRolePolicy. `Ok(false)` when it (or the role) is gone.
pub async fn delete_role_policy(
    ctx: &AwsContext,
    role: &str,
    name: &str,
) -> Result<bool, AwsError> {
    match ctx
        .iam()
        .delete_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("iam:DeleteRolePolicy", role, e);
            if gone(&err) { Ok(false) } else { Err(err) }
        }
    }
}

/// Deletes a role with its inline and attached policies. `Ok(false)` when it is gone.
pub async fn delete_role_with_policies(ctx: &AwsContext, role: &str) -> Result<bool, AwsError> {
    let iam = ctx.iam();
    let inline = match iam.list_role_policies().role_name(role).send().await {
        Ok(o) => o.policy_names().to_vec(),
        Err(e) => {
            let err = AwsError::from_sdk("iam:ListRolePolicies", role, e);
            return if gone(&err) { Ok(false) } else { Err(err) };
        }
    };
    for p in inline {
        delete_role_policy(ctx, role, &p).await?;
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", role, e))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            iam.detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:DetachRolePolicy", role, e))?;
        }
    }
    match iam.delete_role().role_name(role).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("iam:DeleteRole", role, e);
            if gone(&err) { Ok(false) } else { Err(err) }
        }
    }
}

/// Deletes a user with its access keys, inline and attached policies and login profile.
/// `Ok(false)` when it is gone.
/// A user's access keys, inline policy names and attached policy ARNs; `None` when the user is
/// gone. What `delete_user_with_attachments` would delete, to be checked first.
pub async fn user_attachments(
    ctx: &AwsContext,
    user: &str,
) -> Result<Option<(Vec<String>, Vec<String>, Vec<String>)>, AwsError> {
    let iam = ctx.iam();
    let Some(keys) = access_key_ids(ctx, user).await? else {
        return Ok(None);
    };
    let inline = match iam.list_user_policies().user_name(user).send().await {
        Ok(o) => o.policy_names().to_vec(),
        Err(e) => {
            let err = AwsError::from_sdk("iam:ListUserPolicies", user, e);
            return if gone(&err) { Ok(None) } else { Err(err) };
        }
    };
    let attached = match iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
    {
        Ok(o) => o
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect(),
        Err(e) => {
            let err = AwsError::from_sdk("iam:ListAttachedUserPolicies", user, e);
            return if gone(&err) { Ok(None) } else { Err(err) };
        }
    };
    Ok(Some((keys, inline, attached)))
}

pub async fn delete_user_with_attachments(ctx: &AwsContext, user: &str) -> Result<bool, AwsError> {
    let iam = ctx.iam();
    let Some(keys) = access_key_ids(ctx, user).await? else {
        return Ok(false);
    };
    for k in keys {
        delete_access_key(ctx, user, &k).await?;
    }
    let inline = iam
        .list_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListUserPolicies", user, e))?;
    for p in inline.policy_names() {
        iam.delete_user_policy()
            .user_name(user)
            .policy_name(p)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:DeleteUserPolicy", user, e))?;
    }
    let attached = iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListAttachedUserPolicies", user, e))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            iam.detach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:DetachUserPolicy", user, e))?;
        }
    }
    if let Err(e) = iam.delete_login_profile().user_name(user).send().await {
        let err = AwsError::from_sdk("iam:DeleteLoginProfile", user, e);
        if !gone(&err) {
            return Err(err);
        }
    }
    match iam.delete_user().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("iam:DeleteUser", user, e);
            if gone(&err) { Ok(false) } else { Err(err) }
        }
    }
}
