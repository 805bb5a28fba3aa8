//! AWS Organizations, read-only: the accounts of the organisation, for a fleet-wide audit.

use super::{AwsContext, AwsError};

/// One member account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

/// ListAccounts, every page. Needs the management account (or a delegated administrator).
pub async fn list_accounts(ctx: &AwsContext) -> Result<Vec<OrgAccount>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ctx.organizations().list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let err = AwsError::from_sdk("organizations:ListAccounts", "*", e);
            if err.code.as_deref() == Some("AWSOrganizationsNotInUseException") {
                err.with_hint(
                    "this account is not in an organisation: use --profile P1,P2 to audit several accounts",
                )
            } else {
                err
            }
        })?;
        out.extend(page.accounts().iter().map(|a| {
            OrgAccount {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            }
        }));
    }
    Ok(out)
}
