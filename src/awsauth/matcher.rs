//! Who does this aws-auth say a caller is? A pure re-enactment of the authenticator's lookup.
//!
//! Order (`ConfigMapMapper.Map`, then `doMapping`): the caller's canonical ARN (lower-cased) is
//! looked up among role entries, then user entries (both compared case-insensitively); failing
//! both, a caller whose account is in `mapAccounts` gets its canonical ARN as username and no
//! groups. Templates are expanded in the authenticator's order: `{{EC2PrivateDNSName}}` (needs
//! an instance-id session name and an EC2 lookup; any failure refuses the login),
//! `{{AccountID}}`, `{{SessionName}}` (`@` → `-`), `{{SessionNameRaw}}`, `{{AccessKeyID}}`.

use super::model::{EffectiveMapping, Mark};
use super::principal;
use serde::Serialize;

/// The caller, as STS GetCallerIdentity and the token describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    /// The ARN STS returns (`arn:aws:sts::A:assumed-role/NAME/SESSION`, `arn:aws:iam::A:user/x`).
    pub arn: String,
    pub account: String,
    /// The role session name; taken from an assumed-role ARN when not given.
    pub session_name: Option<String>,
    pub access_key_id: String,
    /// The instance's private DNS name, when the caller has looked it up (nodes only).
    pub ec2_private_dns_name: Option<String>,
}

/// Which kind of entry answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Role,
    User,
    Account,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MatchOutcome {
    /// Authenticated as `username` with `groups`.
    Mapped {
        by: MatchedBy,
        /// Source line of the entry (0 for an account match).
        line: usize,
        canonical_arn: String,
        username: String,
        groups: Vec<String>,
        /// Other entries that match equally (case-variant users): the answer is random.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ambiguous_with: Vec<usize>,
    },
    /// An entry matched but rendering its templates fails, so the login is refused.
    TemplateError {
        line: usize,
        canonical_arn: String,
        reason: String,
    },
    /// The identity cannot be canonicalised (not an IAM/STS principal ARN).
    InvalidIdentity {
        reason: String,
    },
    NotMapped {
        canonical_arn: String,
    },
}

fn is_instance_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("i-") else {
        return false;
    };
    (rest.len() == 8 || rest.len() == 17)
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn render_template(template: &str, id: &CallerIdentity, session: &str) -> Result<String, String> {
    let mut t = template.to_string();
    if t.contains("{{EC2PrivateDNSName}}") {
        if !is_instance_id(session) {
            return Err("SessionName did not contain an instance id".into());
        }
        let Some(dns) = &id.ec2_private_dns_name else {
            return Err(format!(
                "{{{{EC2PrivateDNSName}}}} needs an EC2 DescribeInstances lookup of {session}"
            ));
        };
        t = t.replace("{{EC2PrivateDNSName}}", dns);
    }
    t = t.replace("{{AccountID}}", &id.account);
    t = t.replace("{{SessionName}}", &session.replace('@', "-"));
    t = t.replace("{{SessionNameRaw}}", session);
    t = t.replace("{{AccessKeyID}}", &id.access_key_id);
    Ok(t)
}

/// Look a caller up in an effective mapping.
pub fn match_identity(m: &EffectiveMapping, id: &CallerIdentity) -> MatchOutcome {
    let Some(canonical) = principal::canonicalize_caller(&id.arn) else {
        return MatchOutcome::InvalidIdentity {
            reason: format!("{} is not an IAM or STS principal ARN", id.arn),
        };
    };
    let lower = canonical.to_lowercase();
    let session = id
        .session_name
        .clone()
        .or_else(|| principal::session_name(&id.arn).map(str::to_string))
        .unwrap_or_default();
    let expand = |username: &str,
                  groups: &[String],
                  line: usize|
     -> Result<(String, Vec<String>), MatchOutcome> {
        let err = |reason: String| MatchOutcome::TemplateError {
            line,
            canonical_arn: canonical.clone(),
            reason,
        };
        let u = render_template(username, id, &session).map_err(err)?;
        let mut gs = Vec::new();
        for g in groups {
            gs.push(
                render_template(g, id, &session).map_err(|r| MatchOutcome::TemplateError {
                    line,
                    canonical_arn: canonical.clone(),
                    reason: r,
                })?,
            );
        }
        Ok((u, gs))
    };
    // Roles: keys are unique after last-one-wins; plain ARNs compare with EqualFold.
    if let Some(r) = m
        .active_roles()
        .find(|r| !r.arn.is_empty() && r.arn.to_lowercase() == lower)
    {
        return match expand(&r.username, &r.groups, r.line) {
            Ok((username, groups)) => MatchOutcome::Mapped {
                by: MatchedBy::Role,
                line: r.line,
                canonical_arn: canonical,
                username,
                groups,
                ambiguous_with: Vec::new(),
            },
            Err(e) => e,
        };
    }
    let users: Vec<_> = m
        .active_users()
        .filter(|u| u.arn.to_lowercase() == lower)
        .collect();
    if let Some(u) = users.first() {
        let ambiguous_with = users.iter().skip(1).map(|o| o.line).collect();
        let _ = u
            .marks
            .iter()
            .any(|mk| matches!(mk, Mark::Nondeterministic { .. }));
        return match expand(&u.username, &u.groups, u.line) {
            Ok((username, groups)) => MatchOutcome::Mapped {
                by: MatchedBy::User,
                line: u.line,
                canonical_arn: canonical,
                username,
                groups,
                ambiguous_with,
            },
            Err(e) => e,
        };
    }
    if m.accounts.iter().any(|a| a.account == id.account) {
        return MatchOutcome::Mapped {
            by: MatchedBy::Account,
            line: 0,
            canonical_arn: canonical.clone(),
            username: canonical,
            groups: Vec::new(),
            ambiguous_with: Vec::new(),
        };
    }
    MatchOutcome::NotMapped {
        canonical_arn: canonical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsauth::effective_from_data;

    #[test]
    fn assumed_role_session_expands_templates() {
        let m = effective_from_data([(
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: \"admin:{{SessionName}}\"\n  groups: [system:masters]\n",
        )]);
        let id = CallerIdentity {
            arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com".into(),
            account: "111122223333".into(),
            ..CallerIdentity::default()
        };
        match match_identity(&m, &id) {
            MatchOutcome::Mapped {
                username, groups, ..
            } => {
                assert_eq!(username, "admin:alice-example.com");
                assert_eq!(groups, vec!["system:masters".to_string()]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn path_role_never_matches_and_accounts_fall_back() {
        let m = effective_from_data([
            (
                "mapRoles",
                "- rolearn: arn:aws:iam::111122223333:role/team/Admin\n  username: admin\n",
            ),
            ("mapAccounts", "- \"111122223333\"\n"),
        ]);
        let id = CallerIdentity {
            arn: "arn:aws:sts::111122223333:assumed-role/Admin/s".into(),
            account: "111122223333".into(),
            ..CallerIdentity::default()
        };
        match match_identity(&m, &id) {
            MatchOutcome::Mapped { by, username, .. } => {
                assert_eq!(by, MatchedBy::Account);
                assert_eq!(username, "arn:aws:iam::111122223333:role/Admin");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ec2_template_needs_an_instance_session() {
        let m = effective_from_data([(
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/Node\n  username: system:node:{{EC2PrivateDNSName}}\n",
        )]);
        let id = CallerIdentity {
            arn: "arn:aws:sts::111122223333:assumed-role/Node/bob".into(),
            account: "111122223333".into(),
            ..CallerIdentity::default()
        };
        assert!(matches!(
            match_identity(&m, &id),
            MatchOutcome::TemplateError { .. }
        ));
    }
}
