//! An authenticated AWS identity, as STS GetCallerIdentity (answered from moto's state) gives it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PrincipalKind {
    IamUser,
    AssumedRole,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub kind: PrincipalKind,
    /// What GetCallerIdentity returns as `Arn`: the user ARN (with path) or the STS assumed-role ARN.
    pub arn: String,
    /// The authenticator's canonical ARN: the user ARN, or `arn:P:iam::A:role/NAME` (no path).
    pub canonical_arn: String,
    /// The IAM principal behind the identity, with its path (user ARN or role ARN).
    pub principal_arn: String,
    /// The principal's unique id (moto's user id, or the AROA… role id).
    pub principal_id: String,
    /// GetCallerIdentity `UserId` (user id, or `AROA…:session`).
    pub user_id: String,
    pub account: String,
    pub partition: String,
    pub session_name: String,
    pub access_key_id: String,
}

/// Splits `arn:partition:service:region:account:resource`.
pub fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    if it.next()? != "arn" {
        return None;
    }
    let partition = it.next()?;
    let service = it.next()?;
    let region = it.next()?;
    let account = it.next()?;
    let resource = it.next()?;
    Some((partition, service, region, account, resource))
}

/// `arn:P:sts::A:assumed-role/NAME/SESSION` -> `arn:P:iam::A:role/NAME`; other ARNs unchanged.
pub fn canonicalize(arn: &str) -> String {
    if let Some((partition, "sts", _, account, resource)) = arn_parts(arn) {
        let parts: Vec<&str> = resource.split('/').collect();
        if parts.len() >= 3 && parts[0] == "assumed-role" {
            return format!("arn:{partition}:iam::{account}:role/{}", parts[1]);
        }
    }
    arn.to_string()
}

/// The last path segment of an IAM user/role ARN (its name).
pub fn principal_name(arn: &str) -> Option<&str> {
    let (_, _, _, _, resource) = arn_parts(arn)?;
    resource.rsplit('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_arns() {
        assert_eq!(
            canonicalize("arn:aws:sts::123456789012:assumed-role/admin/alice@example.com"),
            "arn:aws:iam::123456789012:role/admin"
        );
        assert_eq!(
            canonicalize("arn:aws:iam::123456789012:user/team/bob"),
            "arn:aws:iam::123456789012:user/team/bob"
        );
        assert_eq!(
            principal_name("arn:aws:iam::123456789012:role/a/b/c"),
            Some("c")
        );
    }
}
