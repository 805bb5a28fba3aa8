//! STS: who am I, and becoming a role.

use super::{AwsContext, AwsError};
use aws_credential_types::Credentials;
use std::time::Duration;

/// A port type (the triage reads it without this adapter).
pub use crate::ports::triage::CallerIdentity;

pub async fn caller_identity(ctx: &AwsContext) -> Result<CallerIdentity, AwsError> {
    let out = ctx
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:GetCallerIdentity", "*", e))?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
    })
}

/// MFA for AssumeRole, when the trust policy requires it.
#[derive(Debug, Clone)]
pub struct Mfa {
    pub serial: String,
    pub code: String,
}

/// A session name that names the operator, as CloudTrail will show it: `eks-breakglass-<user>`,
/// cut to STS's 64 characters and its allowed characters.
pub fn session_name_for_operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".into());
    let cleaned: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c))
        .collect();
    let mut s = format!(
        "eks-breakglass-{}",
        if cleaned.is_empty() {
            "operator"
        } else {
            &cleaned
        }
    );
    s.truncate(64);
    s
}

/// AssumeRole; returns the session's credentials.
pub async fn assume_role(
    ctx: &AwsContext,
    role_arn: &str,
    session_name: &str,
    duration: Option<Duration>,
    mfa: Option<&Mfa>,
) -> Result<Credentials, AwsError> {
    let mut req = ctx
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name);
    if let Some(d) = duration {
        req = req.duration_seconds(i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
    }
    if let Some(m) = mfa {
        req = req.serial_number(&m.serial).token_code(&m.code);
    }
    let out = req
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("sts:AssumeRole", role_arn, e))?;
    let c = out.credentials().ok_or_else(|| {
        AwsError::new(
            "sts:AssumeRole",
            super::AwsErrorKind::Service,
            "AssumeRole returned no credentials",
        )
    })?;
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "eks-breakglass-assume-role",
    ))
}
