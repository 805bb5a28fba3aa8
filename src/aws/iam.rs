//! IAM, read-only: does a user or role exist, with which unique id, path and trust policy; how
//! many access keys and MFA devices a user has.
//!
//! "Does not exist" is an answer here, not an error: GetUser/GetRole's `NoSuchEntity` becomes
//! `Ok(None)`. Mutations live in `iam_write.rs`, so that read-only commands cannot reach them.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::aws::eks::to_chrono;
use crate::recovery::principal::{AccessKeyInfo, IamRoleRecord, IamUserRecord};

/// GetUser by name (the last segment of the ARN). `None` when there is no such user.
pub async fn get_user(ctx: &AwsContext, name: &str) -> Result<Option<IamUserRecord>, AwsError> {
    let out = match ctx.iam().get_user().user_name(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetUser", name, e);
            return if err.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    Ok(out.user().map(|u| IamUserRecord {
        arn: u.arn().to_string(),
        user_id: u.user_id().to_string(),
        name: u.user_name().to_string(),
        path: u.path().to_string(),
        created: to_chrono(u.create_date()),
    }))
}

/// GetRole by name, with the trust policy URL-decoded. `None` when there is no such role.
pub async fn get_role(ctx: &AwsContext, name: &str) -> Result<Option<IamRoleRecord>, AwsError> {
    let out = match ctx.iam().get_role().role_name(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetRole", name, e);
            return if err.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    Ok(out.role().map(|r| IamRoleRecord {
        arn: r.arn().to_string(),
        role_id: r.role_id().to_string(),
        name: r.role_name().to_string(),
        path: r.path().to_string(),
        created: to_chrono(r.create_date()),
        trust_policy: r.assume_role_policy_document().map(decode_policy),
        max_session_duration: r.max_session_duration(),
    }))
}

/// IAM returns policy documents URL-encoded (RFC 3986). Some servers send them plain: a document
/// that already looks like JSON is left alone.
pub fn decode_policy(doc: &str) -> String {
    let t = doc.trim_start();
    if t.starts_with('{') {
        return doc.to_string();
    }
    percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| doc.to_string())
}

/// ListAccessKeys (ids and status only; IAM never returns secrets here).
pub async fn list_access_keys(
    ctx: &AwsContext,
    user: &str,
) -> Result<Vec<AccessKeyInfo>, AwsError> {
    let mut keys = Vec::new();
    let mut pages = ctx
        .iam()
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("iam:ListAccessKeys", user, e))?;
        keys.extend(page.access_key_metadata().iter().map(|k| {
            AccessKeyInfo {
                access_key_id: k.access_key_id().unwrap_or_default().to_string(),
                status: k
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                created: k.create_date().and_then(to_chrono),
            }
        }));
    }
    Ok(keys)
}

/// ListMFADevices: the serial numbers (ARNs) of the user's MFA devices.
pub async fn list_mfa_devices(ctx: &AwsContext, user: &str) -> Result<Vec<String>, AwsError> {
    let mut devices = Vec::new();
    let mut pages = ctx
        .iam()
        .list_mfa_devices()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("iam:ListMFADevices", user, e))?;
        devices.extend(
            page.mfa_devices()
                .iter()
                .map(|d| d.serial_number().to_string()),
        );
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_are_url_decoded() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_policy(enc),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        let plain = r#"{"Version":"2012-10-17"}"#;
        assert_eq!(decode_policy(plain), plain);
    }
}
