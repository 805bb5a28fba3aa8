//! String-level reading of the ARNs written in aws-auth, as the authenticator compares them.
//!
//! The authenticator never parses the ARNs of aws-auth: it lower-cases them and compares them
//! with the *canonical* ARN of the caller (`arn.Canonicalize`: an STS assumed-role session
//! becomes `arn:P:iam::A:role/NAME`, without any path; users, roles, root and federated users
//! stay as STS returns them). So an entry can load and still never match; this module says why,
//! and what to write instead. It deliberately does not depend on the crate's general ARN code:
//! it must reproduce the authenticator's string comparison, nothing cleverer.

use super::model::{NeverReason, Section};

/// Partitions the authenticator's canonicaliser accepts.
const KNOWN_PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// What an ARN written in aws-auth is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnShape {
    /// `arn:P:iam::A:role/[PATH/]NAME`
    Role {
        partition: String,
        account: String,
        path: String,
        name: String,
    },
    /// `arn:P:iam::A:user/[PATH/]NAME`
    User {
        account: String,
    },
    /// `arn:P:iam::A:root`
    Root,
    /// `arn:P:sts::A:assumed-role/NAME/SESSION`
    AssumedRole {
        partition: String,
        account: String,
        role: String,
    },
    /// `arn:P:sts::A:federated-user/NAME`
    FederatedUser,
    /// Contains `*` or `?`.
    Wildcard,
    Malformed(String),
}

fn is_iam_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Classify an ARN (case-insensitively, as the comparison is).
pub fn classify(arn: &str) -> ArnShape {
    if arn.contains('*') || arn.contains('?') {
        return ArnShape::Wildcard;
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || !parts[0].eq_ignore_ascii_case("arn") {
        return ArnShape::Malformed(
            "not of the form arn:PARTITION:SERVICE::ACCOUNT:RESOURCE".into(),
        );
    }
    let partition = parts[1].to_ascii_lowercase();
    let service = parts[2].to_ascii_lowercase();
    let region = parts[3];
    let account = parts[4].to_string();
    let resource = parts[5];
    if !KNOWN_PARTITIONS.contains(&partition.as_str()) {
        return ArnShape::Malformed(format!("unknown partition {:?}", parts[1]));
    }
    if !region.is_empty() {
        return ArnShape::Malformed("IAM and STS ARNs have an empty region field".into());
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return ArnShape::Malformed(format!("account {account:?} is not 12 digits"));
    }
    let lower = resource.to_ascii_lowercase();
    match service.as_str() {
        "iam" => {
            if lower == "root" {
                return ArnShape::Root;
            }
            let (kind, rest) = match lower.split_once('/') {
                Some((k, _)) => (k.to_string(), &resource[k.len() + 1..]),
                None => (lower.clone(), ""),
            };
            let segments: Vec<&str> = rest.split('/').collect();
            let Some((name, path)) = segments.split_last() else {
                return ArnShape::Malformed("no resource name".into());
            };
            if !is_iam_name(name) {
                return ArnShape::Malformed(format!("{name:?} is not a valid IAM name"));
            }
            match kind.as_str() {
                "role" => ArnShape::Role {
                    partition,
                    account,
                    path: path.join("/"),
                    name: name.to_string(),
                },
                "user" => ArnShape::User { account },
                other => ArnShape::Malformed(format!(
                    "an IAM {other} is not a principal that can authenticate"
                )),
            }
        }
        "sts" => {
            if let Some(rest) = resource.strip_prefix("assumed-role/").or_else(|| {
                lower
                    .starts_with("assumed-role/")
                    .then(|| &resource["assumed-role/".len()..])
            }) {
                let role = rest.split('/').next().unwrap_or_default().to_string();
                if role.is_empty() {
                    return ArnShape::Malformed("assumed-role ARN without a role name".into());
                }
                ArnShape::AssumedRole {
                    partition,
                    account,
                    role,
                }
            } else if lower.starts_with("federated-user/") {
                ArnShape::FederatedUser
            } else {
                ArnShape::Malformed("not an STS principal ARN".into())
            }
        }
        other => ArnShape::Malformed(format!("service {other:?} has no principals")),
    }
}

/// Why an ARN written in `section` can never equal a canonical caller ARN.
pub fn never_reason(section: Section, arn: &str) -> Option<NeverReason> {
    match classify(arn) {
        ArnShape::Wildcard => Some(NeverReason::Wildcard),
        ArnShape::Malformed(_) => Some(NeverReason::Malformed),
        ArnShape::AssumedRole { .. } => Some(NeverReason::AssumedRole),
        ArnShape::Role { path, .. } if !path.is_empty() => {
            if is_sso_path(&path) {
                Some(NeverReason::SsoPath)
            } else {
                Some(NeverReason::Path)
            }
        }
        // A user ARN keeps its path in STS answers, so user paths are fine in both sections.
        _ => {
            let _ = section;
            None
        }
    }
}

pub fn is_sso_path(path: &str) -> bool {
    path.to_ascii_lowercase()
        .starts_with("aws-reserved/sso.amazonaws.com")
}

/// The ARN the authenticator compares against, for a role written with a path or an assumed-role
/// session: `arn:P:iam::A:role/NAME`.
pub fn canonical_role_arn(arn: &str) -> Option<String> {
    match classify(arn) {
        ArnShape::Role {
            partition,
            account,
            name,
            ..
        } => Some(format!("arn:{partition}:iam::{account}:role/{name}")),
        ArnShape::AssumedRole {
            partition,
            account,
            role,
        } => Some(format!("arn:{partition}:iam::{account}:role/{role}")),
        _ => None,
    }
}

/// The canonical ARN STS identities are compared as (`arn.Canonicalize`). `None` when the
/// authenticator would refuse the identity.
pub fn canonicalize_caller(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return None;
    }
    let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5]);
    match service {
        "sts" => {
            if resource.starts_with("federated-user/") {
                return Some(arn.to_string());
            }
            let rest = resource.strip_prefix("assumed-role/")?;
            let segs: Vec<&str> = rest.split('/').collect();
            if segs.len() < 2 {
                return None;
            }
            let role = segs[..segs.len() - 1].join("/");
            Some(format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        "iam" => {
            let kind = resource.split('/').next().unwrap_or_default();
            matches!(kind, "role" | "user" | "root").then(|| arn.to_string())
        }
        _ => None,
    }
}

/// The session name of an assumed-role ARN.
pub fn session_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let rest = resource.strip_prefix("assumed-role/")?;
    rest.rsplit('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sessions() {
        assert_eq!(
            never_reason(Section::MapRoles, "arn:aws:iam::111122223333:role/team/dev"),
            Some(NeverReason::Path)
        );
        assert_eq!(
            never_reason(
                Section::MapRoles,
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_abc"
            ),
            Some(NeverReason::SsoPath)
        );
        assert_eq!(
            canonical_role_arn("arn:aws:sts::111122223333:assumed-role/Admin/alice"),
            Some("arn:aws:iam::111122223333:role/Admin".into())
        );
        assert_eq!(
            never_reason(Section::MapUsers, "arn:aws:iam::111122223333:user/ops/bob"),
            None
        );
        assert_eq!(
            canonicalize_caller("arn:aws:sts::111122223333:assumed-role/Admin/alice"),
            Some("arn:aws:iam::111122223333:role/Admin".into())
        );
        assert_eq!(
            never_reason(Section::MapRoles, "arn:aws:iam::1111:role/x"),
            Some(NeverReason::Malformed)
        );
    }
}
