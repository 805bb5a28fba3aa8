//! ARNs: parsing, and the canonical forms that EKS compares.
//!
//! The lock-out story turns on small ARN details: STS returns `assumed-role/NAME/SESSION` without
//! the role's path, aws-auth matches role ARNs without the path, access entries want the real
//! role ARN with its path. This module is the one place that knows those shapes.

use std::fmt;

/// A parsed ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

/// Why a string is not the ARN that was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("'{0}' is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")]
    Malformed(String),
    #[error("'{arn}' is not an IAM {expected} ARN")]
    WrongType { arn: String, expected: &'static str },
}

impl ArnError {
    pub fn hint(&self) -> String {
        match self {
            ArnError::Malformed(_) | ArnError::WrongType { .. } => {
                "a role ARN looks like arn:aws:iam::123456789012:role/NAME (or role/PATH/NAME)"
                    .into()
            }
        }
    }
}

impl Arn {
    pub fn parse(s: &str) -> Result<Arn, ArnError> {
        let mut parts = s.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(ArnError::Malformed(s.to_string()));
        };
        if partition.is_empty() || service.is_empty() || resource.is_empty() {
            return Err(ArnError::Malformed(s.to_string()));
        }
        Ok(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// The kinds of IAM principal ARN the tool deals with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalArn {
    /// `arn:P:iam::A:user/PATH/NAME`.
    User {
        partition: String,
        account: String,
        path: String,
        name: String,
    },
    /// `arn:P:iam::A:role/PATH/NAME`.
    Role {
        partition: String,
        account: String,
        path: String,
        name: String,
    },
    /// `arn:P:sts::A:assumed-role/NAME/SESSION`.
    AssumedRole {
        partition: String,
        account: String,
        role_name: String,
        session: String,
    },
    /// `arn:P:sts::A:federated-user/NAME`.
    FederatedUser {
        partition: String,
        account: String,
        name: String,
    },
    /// `arn:P:iam::A:root`.
    Root { partition: String, account: String },
}

impl PrincipalArn {
    pub fn parse(s: &str) -> Result<PrincipalArn, ArnError> {
        let arn = Arn::parse(s)?;
        let partition = arn.partition.clone();
        let account = arn.account.clone();
        let bad = || ArnError::WrongType {
            arn: s.to_string(),
            expected: "user, role or session",
        };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match arn.service.as_str() {
            "iam" => {
                if arn.resource == "root" {
                    return Ok(PrincipalArn::Root { partition, account });
                }
                let (kind, rest) = arn.resource.split_once('/').ok_or_else(bad)?;
                let (path, name) = split_path(rest);
                if name.is_empty() {
                    return Err(bad());
                }
                match kind {
                    "user" => Ok(PrincipalArn::User {
                        partition,
                        account,
                        path,
                        name,
                    }),
                    "role" => Ok(PrincipalArn::Role {
                        partition,
                        account,
                        path,
                        name,
                    }),
                    _ => Err(bad()),
                }
            }
            "sts" => {
                let (kind, rest) = arn.resource.split_once('/').ok_or_else(bad)?;
                match kind {
                    "assumed-role" => {
                        let (role_name, session) = rest.split_once('/').ok_or_else(bad)?;
                        if role_name.is_empty() || session.is_empty() {
                            return Err(bad());
                        }
                        Ok(PrincipalArn::AssumedRole {
                            partition,
                            account,
                            role_name: role_name.to_string(),
                            session: session.to_string(),
                        })
                    }
                    "federated-user" if !rest.is_empty() => Ok(PrincipalArn::FederatedUser {
                        partition,
                        account,
                        name: rest.to_string(),
                    }),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    pub fn account(&self) -> &str {
        match self {
            PrincipalArn::User { account, .. }
            | PrincipalArn::Role { account, .. }
            | PrincipalArn::AssumedRole { account, .. }
            | PrincipalArn::FederatedUser { account, .. }
            | PrincipalArn::Root { account, .. } => account,
        }
    }

    pub fn partition(&self) -> &str {
        match self {
            PrincipalArn::User { partition, .. }
            | PrincipalArn::Role { partition, .. }
            | PrincipalArn::AssumedRole { partition, .. }
            | PrincipalArn::FederatedUser { partition, .. }
            | PrincipalArn::Root { partition, .. } => partition,
        }
    }

    /// The ARN the EKS authenticator compares against aws-auth: an assumed-role session becomes
    /// `role/NAME` **without** the role's path (STS never reports it), a role with a path loses it.
    pub fn authenticator_form(&self) -> String {
        match self {
            PrincipalArn::Role {
                partition,
                account,
                name,
                ..
            }
            | PrincipalArn::AssumedRole {
                partition,
                account,
                role_name: name,
                ..
            } => {
                format!("arn:{partition}:iam::{account}:role/{name}")
            }
            other => other.to_string(),
        }
    }
}

impl fmt::Display for PrincipalArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalArn::User {
                partition,
                account,
                path,
                name,
            } => {
                write!(f, "arn:{partition}:iam::{account}:user{path}{name}")
            }
            PrincipalArn::Role {
                partition,
                account,
                path,
                name,
            } => {
                write!(f, "arn:{partition}:iam::{account}:role{path}{name}")
            }
            PrincipalArn::AssumedRole {
                partition,
                account,
                role_name,
                session,
            } => {
                write!(
                    f,
                    "arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}"
                )
            }
            PrincipalArn::FederatedUser {
                partition,
                account,
                name,
            } => {
                write!(f, "arn:{partition}:sts::{account}:federated-user/{name}")
            }
            PrincipalArn::Root { partition, account } => {
                write!(f, "arn:{partition}:iam::{account}:root")
            }
        }
    }
}

/// Splits `team/dev/name` into the IAM path `/team/dev/` and `name`; no path gives `/`.
fn split_path(rest: &str) -> (String, String) {
    match rest.rsplit_once('/') {
        Some((path, name)) => (format!("/{path}/"), name.to_string()),
        None => ("/".to_string(), rest.to_string()),
    }
}

/// Parses an IAM role ARN (`--role-arn`, `--admin-role`, …), refusing sessions and users.
pub fn parse_role_arn(s: &str) -> Result<PrincipalArn, ArnError> {
    match PrincipalArn::parse(s) {
        Ok(p @ PrincipalArn::Role { .. }) => Ok(p),
        Ok(_) | Err(ArnError::WrongType { .. }) => Err(ArnError::WrongType {
            arn: s.to_string(),
            expected: "role",
        }),
        Err(e) => Err(e),
    }
}

/// A command-line value that must be a role ARN (`--verify-as`): refused while parsing, so that
/// bad input stops the command before anything is read or written (exit 2).
pub fn role_arn_value(s: &str) -> Result<String, String> {
    parse_role_arn(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("{e}; {}", e.hint()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_principals_and_paths() {
        let r = PrincipalArn::parse("arn:aws:iam::123456789012:role/team/dev/admin").unwrap();
        assert_eq!(
            r,
            PrincipalArn::Role {
                partition: "aws".into(),
                account: "123456789012".into(),
                path: "/team/dev/".into(),
                name: "admin".into()
            }
        );
        assert_eq!(
            r.to_string(),
            "arn:aws:iam::123456789012:role/team/dev/admin"
        );
        assert_eq!(
            r.authenticator_form(),
            "arn:aws:iam::123456789012:role/admin"
        );
        let u = PrincipalArn::parse("arn:aws-cn:iam::123456789012:user/alice").unwrap();
        assert_eq!(u.to_string(), "arn:aws-cn:iam::123456789012:user/alice");
        let s = PrincipalArn::parse("arn:aws:sts::123456789012:assumed-role/admin/bob@example.com")
            .unwrap();
        assert_eq!(
            s.authenticator_form(),
            "arn:aws:iam::123456789012:role/admin"
        );
        assert!(matches!(
            PrincipalArn::parse("arn:aws:iam::123456789012:root").unwrap(),
            PrincipalArn::Root { .. }
        ));
    }

    #[test]
    fn refuses_malformed() {
        assert!(matches!(
            parse_role_arn("admin"),
            Err(ArnError::Malformed(_))
        ));
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::12345:role/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/").is_err());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/x").is_ok());
    }
}
