//! What `cleanup --rollback` would put back, judged before it is put back.
//!
//! A rollback restores the aws-auth that was live before the run — during an incident, that is
//! the broken one that locked everyone out. So the plan shows the lint verdict of that version
//! and who it lets in, and a version that lets no person in (only node roles, or nothing that
//! loads) is refused unless forced: rolling back must never be the way back into the lock-out by
//! accident.

use super::restore::AwsAuthObject;
use crate::awsauth::{self, Severity};
use serde::Serialize;

/// The verdict on an aws-auth a rollback would restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackVerdict {
    /// Lint errors (what the authenticator would drop or fail on).
    pub errors: usize,
    pub first_error: Option<String>,
    /// Role and user entries in force that can match someone and are not node-only.
    pub people: usize,
    /// Nobody but the creator and access entries could log in with it.
    pub locks_everyone_out: bool,
}

impl RollbackVerdict {
    /// One line for the plan.
    pub fn describe(&self) -> String {
        let lint = match (&self.first_error, self.errors) {
            (_, 0) => "lint: no errors".to_string(),
            (Some(first), n) => format!("lint: {n} error(s), the first: {first}"),
            (None, n) => format!("lint: {n} error(s)"),
        };
        if self.locks_everyone_out {
            format!(
                "{lint}; it maps NO person (only node roles, or nothing that loads): restoring it locks everyone out again"
            )
        } else {
            format!("{lint}; {} person entry(ies) in force", self.people)
        }
    }
}

/// Whether the operator running the rollback gets in through the aws-auth it puts back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerVerdict {
    pub caller_arn: String,
    /// `Some(username)` when aws-auth maps the caller (the authenticator's lookup).
    pub gets_in_as: Option<String>,
    /// Why not, for people (when `gets_in_as` is `None`).
    pub why_not: Option<String>,
}

impl CallerVerdict {
    pub fn describe(&self) -> String {
        match (&self.gets_in_as, &self.why_not) {
            (Some(u), _) => format!("you ({}) get in through it as {u}", self.caller_arn),
            (None, why) => format!(
                "YOU ({}) would be locked out by it{} (access entries are not counted)",
                self.caller_arn,
                why.as_deref().map(|w| format!(": {w}")).unwrap_or_default()
            ),
        }
    }
}

/// Predicts, with the authenticator's own lookup on the effective mapping, whether `caller`
/// (the operator running the rollback) gets in through the aws-auth `obj` puts back.
pub fn caller_verdict(obj: &AwsAuthObject, caller: &awsauth::CallerIdentity) -> CallerVerdict {
    let analysis = awsauth::analyze(&obj.document("aws-auth"), &Default::default());
    let (gets_in_as, why_not) = match awsauth::match_identity(&analysis.effective, caller) {
        awsauth::MatchOutcome::Mapped { username, .. } => (Some(username), None),
        awsauth::MatchOutcome::TemplateError { reason, .. } => (
            None,
            Some(format!(
                "the entry that matches you fails to render: {reason}"
            )),
        ),
        awsauth::MatchOutcome::InvalidIdentity { reason } => (None, Some(reason)),
        awsauth::MatchOutcome::NotMapped { canonical_arn } => (
            None,
            Some(format!("no entry in force maps {canonical_arn}")),
        ),
    };
    CallerVerdict {
        caller_arn: caller.arn.clone(),
        gets_in_as,
        why_not,
    }
}

const NODE_GROUPS: &[&str] = &[
    "system:bootstrappers",
    "system:nodes",
    "system:node-proxier",
];

/// Judges the aws-auth object a rollback would write back.
pub fn judge(obj: &AwsAuthObject) -> RollbackVerdict {
    let analysis = awsauth::analyze(&obj.document("aws-auth"), &Default::default());
    let errors: Vec<String> = analysis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("[{}] {}", f.code, f.message))
        .collect();
    let m = &analysis.effective;
    let person = |groups: &[String]| groups.iter().any(|g| !NODE_GROUPS.contains(&g.as_str()));
    let people = m
        .active_roles()
        .filter(|r| r.never_matches().is_none() && person(&r.groups))
        .count()
        + m.active_users()
            .filter(|u| u.never_matches().is_none() && person(&u.groups))
            .count();
    RollbackVerdict {
        errors: errors.len(),
        first_error: errors.first().cloned(),
        people,
        locks_everyone_out: people == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(roles: &str) -> AwsAuthObject {
        AwsAuthObject {
            data: [("mapRoles".to_string(), roles.to_string())].into(),
            ..AwsAuthObject::default()
        }
    }

    #[test]
    fn the_caller_is_told_whether_the_restored_version_lets_them_in() {
        let good = obj(
            "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: a\n  groups: [system:masters]\n",
        );
        let admin = awsauth::CallerIdentity {
            arn: "arn:aws:sts::111122223333:assumed-role/admin/s".into(),
            account: "111122223333".into(),
            ..Default::default()
        };
        assert_eq!(
            caller_verdict(&good, &admin).gets_in_as.as_deref(),
            Some("a")
        );
        let oncall = awsauth::CallerIdentity {
            arn: "arn:aws:iam::111122223333:user/oncall".into(),
            account: "111122223333".into(),
            ..Default::default()
        };
        let v = caller_verdict(&good, &oncall);
        assert!(v.gets_in_as.is_none(), "{v:?}");
        assert!(v.describe().contains("user/oncall") && v.describe().contains("locked out"));
    }

    #[test]
    fn a_broken_or_node_only_version_locks_everyone_out() {
        let broken = obj(
            "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: a\n groups: [system:masters]\n",
        );
        let v = judge(&broken);
        assert!(v.errors > 0 && v.locks_everyone_out, "{v:?}");
        assert!(v.describe().contains("locks everyone out"));
        let nodes = obj(
            "- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n",
        );
        assert!(judge(&nodes).locks_everyone_out);
        let good = obj(
            "- rolearn: arn:aws:iam::111122223333:role/admin\n  username: a\n  groups: [system:masters]\n",
        );
        let v = judge(&good);
        assert_eq!((v.errors, v.people, v.locks_everyone_out), (0, 1, false));
    }
}
