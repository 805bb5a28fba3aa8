//! The recover flow's decisions: the aws-auth to write, and the incident report.
//!
//! `recover` composes what other modules decide — the way in ([`super::diagnosis`]), the get-in
//! plan ([`super::getin`]), the aws-auth write ([`super::restore`]: salvage, node roles, merge
//! with the live object, lint, diff) — into one run. What is its own lives here, pure: the
//! choice of candidate for an incident (a salvage of the broken live object unless a file is
//! given), node roles mapped without their groups superseded (a lost node mapping is what turns
//! a lock-out into an outage), the prediction of who gets in once the new aws-auth is in force
//! (a write that leaves only the temporary creator identity able to log in is the lock-out
//! again, one minute later), and the incident report that the postmortem starts from
//! (Markdown for people, JSON for tools).

use super::restore::{self, AwsAuthObject, Candidate, Prepared};
use crate::awsauth::{self, EffectiveMapping, NodeRoleFact, Section, SectionState, Severity};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// True when `arn` is mapped the way nodes need: an entry in force whose groups include
/// `system:bootstrappers` and `system:nodes` (without them the node authenticates but cannot
/// register, and goes NotReady all the same).
pub fn node_role_mapped(m: &EffectiveMapping, arn: &str) -> bool {
    let want = awsauth::principal::canonical_role_arn(arn)
        .unwrap_or_else(|| arn.to_string())
        .to_ascii_lowercase();
    m.active_roles().any(|r| {
        r.never_matches().is_none()
            && r.arn.to_ascii_lowercase() == want
            && ["system:bootstrappers", "system:nodes"]
                .iter()
                .all(|g| r.groups.iter().any(|x| x == g))
    })
}

/// Node roles that the candidate maps, but without the node groups (a mis-indented list item
/// under `groups:` is one plain scalar, `"system:bootstrappers - system:nodes"`: valid YAML,
/// wrong groups). [`restore::complete_node_roles`] only adds roles that are absent, so here a
/// canonical entry is appended after the incomplete one (the authenticator keeps the last
/// entry of a role ARN). Returns the ARNs superseded.
pub fn supersede_incomplete_node_roles(c: &mut Candidate, facts: &[NodeRoleFact]) -> Vec<String> {
    let mapping = c.object.mapping();
    if matches!(
        mapping.sections.get(Section::MapRoles),
        SectionState::Lost | SectionState::NotAList
    ) {
        return Vec::new();
    }
    let present: Vec<&NodeRoleFact> = facts
        .iter()
        .filter(|f| {
            restore::missing_node_roles(&mapping, std::slice::from_ref(*f)).is_empty()
                && !node_role_mapped(&mapping, &f.arn)
        })
        .collect();
    let mut out = Vec::new();
    for f in present {
        let roles = c.object.data.entry("mapRoles".to_string()).or_default();
        if !roles.is_empty() && !roles.ends_with('\n') {
            roles.push('\n');
        }
        roles.push_str(&restore::node_role_entry(f));
        out.push(f.arn.clone());
    }
    out
}

/// What the operator chose for the aws-auth write, on the command line.
#[derive(Debug, Clone, Default)]
pub struct WriteChoice<'a> {
    /// The cluster's node and Fargate roles (mapped when missing).
    pub node_roles: &'a [NodeRoleFact],
    /// `--salvage-fix-arns`: role ARNs with a path that salvage may rewrite.
    pub fix_arns: &'a [String],
    /// `--map-admin`: principals (role or user ARNs) mapped to `system:masters` on top of the
    /// candidate — with a missing aws-auth, the rebuild's way in for people.
    pub admins: &'a [String],
}

/// The aws-auth `recover` writes, through the restore engine: the candidate (`from`, or a
/// salvage of the live object, or a rebuild from the node roles when there is no live object),
/// node roles superseded or added, the `--map-admin` principals added, laid over the live
/// object (nothing of it lost), linted and diffed, with who gains what. `Err` says why it
/// cannot be written (lint errors refuse the write).
pub fn prepare(
    live: Option<&AwsAuthObject>,
    from: Option<Candidate>,
    choice: &WriteChoice<'_>,
) -> Result<Prepared, String> {
    let node_roles = choice.node_roles;
    let mut notes = Vec::new();
    let mut candidate = match (from, live) {
        (Some(c), _) => c,
        (None, Some(l)) => {
            let (c, report) =
                restore::salvage_candidate(l, choice.fix_arns).map_err(|e| e.to_string())?;
            for i in &report.changed {
                notes.push(format!(
                    "salvage changed {} line {}: {}",
                    i.section, i.line, i.message
                ));
            }
            for i in &report.lost {
                notes.push(format!(
                    "salvage lost {} line {}: {}",
                    i.section, i.line, i.message
                ));
            }
            c
        }
        (None, None) => {
            notes.push(
                "kube-system/aws-auth does not exist: the new one is a rebuild from the cluster's node and Fargate roles (plus each --map-admin)"
                    .into(),
            );
            restore::rebuild(node_roles, &[])
        }
    };
    for arn in supersede_incomplete_node_roles(&mut candidate, node_roles) {
        notes.push(format!(
            "node role {arn} was mapped without system:bootstrappers/system:nodes: a complete entry supersedes it"
        ));
    }
    for n in add_admins(&mut candidate, choice.admins)? {
        notes.push(n);
    }
    let mut p = restore::prepare(live, candidate, node_roles, false, true);
    p.notes.extend(notes);
    let errors: Vec<String> = p
        .analysis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("[{}] {}", f.code, f.message))
        .collect();
    if let Some(first) = errors.first() {
        return Err(format!(
            "the new aws-auth would have {} lint error(s), the first: {first}",
            errors.len()
        ));
    }
    Ok(p)
}

/// Maps each principal of `admins` to `system:masters` (a role by its path-less ARN, as STS
/// presents it; a user as is), unless the candidate already does. Returns notes.
pub fn add_admins(c: &mut Candidate, admins: &[String]) -> Result<Vec<String>, String> {
    use awsauth::principal::{ArnShape, canonical_role_arn, classify};
    let mut notes = Vec::new();
    for a in admins {
        let (section, entry, arn) = match classify(a) {
            ArnShape::Role { .. } | ArnShape::AssumedRole { .. } => {
                let role = canonical_role_arn(a)
                    .ok_or_else(|| format!("--map-admin {a}: not a role ARN"))?;
                (Section::MapRoles, restore::admin_role_entry(&role), role)
            }
            ArnShape::User { .. } => {
                let name = a.rsplit('/').next().unwrap_or("admin");
                (
                    Section::MapUsers,
                    format!(
                        "- userarn: {}\n  username: {}\n  groups:\n    - system:masters\n",
                        awsauth::render::scalar(a),
                        awsauth::render::scalar(name)
                    ),
                    a.clone(),
                )
            }
            _ => {
                return Err(format!(
                    "--map-admin {a}: give an IAM role or user ARN (or `me`)"
                ));
            }
        };
        let m = c.object.mapping();
        let already = match section {
            Section::MapRoles => m.active_roles().any(|r| {
                r.arn.eq_ignore_ascii_case(&arn) && r.groups.iter().any(|g| g == "system:masters")
            }),
            _ => m.active_users().any(|u| {
                u.arn.eq_ignore_ascii_case(&arn) && u.groups.iter().any(|g| g == "system:masters")
            }),
        };
        if already {
            notes.push(format!(
                "--map-admin {arn}: already mapped to system:masters"
            ));
            continue;
        }
        let text = c.object.data.entry(section.key().to_string()).or_default();
        if text.trim() == "[]" {
            text.clear();
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&entry);
        c.named.push(arn.clone());
        notes.push(format!("--map-admin: {arn} mapped to system:masters"));
    }
    Ok(notes)
}

/// Whether an identity will get in after the write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prediction {
    /// Who (an ARN as STS presents it, or a role ARN for --verify-as).
    pub identity: String,
    /// `operator` or `verify-as`.
    pub role: &'static str,
    /// `None`: cannot be told (the identity is not an IAM/STS principal).
    pub gets_in: Option<bool>,
    pub how: String,
}

/// An identity to predict for.
#[derive(Debug, Clone)]
pub struct Who {
    pub role: &'static str,
    /// As STS presents it (`assumed-role/NAME/SESSION` for a role).
    pub caller_arn: String,
    pub account: String,
    /// A way in that does not depend on aws-auth (an access entry, the creator's admin).
    pub outside_aws_auth: Option<String>,
}

/// Predicts from the effective mapping (and access entries, the creator's admin) whether
/// `who` gets in once `mapping` is in force.
pub fn predict(mapping: &EffectiveMapping, who: &Who) -> Prediction {
    let base = |gets_in, how| Prediction {
        identity: who.caller_arn.clone(),
        role: who.role,
        gets_in,
        how,
    };
    if let Some(o) = &who.outside_aws_auth {
        return base(
            Some(true),
            format!("through {o} (aws-auth does not decide it)"),
        );
    }
    let id = awsauth::CallerIdentity {
        arn: who.caller_arn.clone(),
        account: who.account.clone(),
        session_name: None,
        access_key_id: String::new(),
        ec2_private_dns_name: None,
    };
    match awsauth::match_identity(mapping, &id) {
        // Getting in means authenticating AND having the rights a recovery needs (read and
        // write kube-system/aws-auth). Only system:masters is known to give them before the
        // write; any other group depends on RBAC bindings the run cannot see beforehand, so
        // such an identity is not counted as getting in (its rights are checked after).
        awsauth::MatchOutcome::Mapped {
            username,
            groups,
            line,
            ..
        } => {
            let at = if line > 0 {
                format!(" (line {line})")
            } else {
                String::new()
            };
            if groups.iter().any(|g| g == "system:masters") {
                base(
                    Some(true),
                    format!(
                        "mapped by the new aws-auth{at} as {username} [{}]: cluster-admin",
                        groups.join(", ")
                    ),
                )
            } else {
                base(
                    None,
                    format!(
                        "authenticates (mapped by the new aws-auth{at} as {username} [{}]) but without system:masters: whether it may read and repair kube-system/aws-auth depends on RBAC bindings, not known before the write",
                        groups.join(", ")
                    ),
                )
            }
        }
        awsauth::MatchOutcome::NotMapped { canonical_arn } => base(
            Some(false),
            format!(
                "{canonical_arn} is not mapped by the new aws-auth and has no access entry: 401"
            ),
        ),
        awsauth::MatchOutcome::TemplateError { reason, .. } => base(
            Some(false),
            format!("its entry cannot be rendered ({reason}): the login is refused"),
        ),
        awsauth::MatchOutcome::InvalidIdentity { reason } => base(None, reason),
    }
}

/// True when none of `preds` gets in: after the run only the temporary identity (the creator)
/// would, and it is removed at the end.
pub fn nobody_gets_in(preds: &[Prediction]) -> bool {
    !preds.iter().any(|p| p.gets_in == Some(true))
}

/// The STS form of a `--verify-as` role (a session of it), for [`predict`].
pub fn session_of(role_arn: &str) -> Option<(String, String)> {
    let canonical = awsauth::principal::canonical_role_arn(role_arn)?;
    let rest = canonical.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next()?;
    let _service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    let name = parts.next()?.strip_prefix("role/")?;
    Some((
        format!("arn:{partition}:sts::{account}:assumed-role/{name}/eks-breakglass-verify"),
        account.to_string(),
    ))
}

/// One moment of the run.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub what: String,
}

/// A check made by logging in.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Who (an ARN, or a node role).
    pub identity: String,
    pub ok: bool,
    pub detail: String,
}

/// Everything the postmortem needs from one `recover` run.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentReport {
    pub cluster: String,
    pub region: String,
    /// `recovered`, `failed`, `interrupted`, `dry_run`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub operator: String,
    /// The way in that was taken.
    pub path: String,
    /// Identities that acted, and as what.
    pub identities: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Every AWS call, counted per service.
    pub aws_calls: BTreeMap<String, usize>,
    pub aws_calls_total: usize,
    /// Changes that were made (and are still in place unless noted).
    pub changes: Vec<String>,
    /// Temporary credentials removed at the end of the run.
    pub cleaned_up: Vec<String>,
    pub checks: Vec<Check>,
    /// Files in the run directory that hold previous states.
    pub backups: Vec<String>,
    pub journal_dir: String,
    /// The command that undoes the run.
    pub undo_command: String,
    /// What to run next, when the run did not finish.
    pub next_command: Option<String>,
    pub error: Option<String>,
}

impl IncidentReport {
    /// The report as Markdown, for the postmortem.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "# Incident report: EKS cluster `{}` ({})\n\n",
            self.cluster, self.region
        );
        s.push_str(&format!("- **Status:** {}\n", self.status));
        s.push_str(&format!(
            "- **Started:** {}  **Finished:** {} ({:.1} s)\n",
            self.started_at.to_rfc3339(),
            self.finished_at.to_rfc3339(),
            (self.finished_at - self.started_at).num_milliseconds() as f64 / 1000.0
        ));
        s.push_str(&format!("- **Operator:** `{}`\n", self.operator));
        s.push_str(&format!("- **Way in:** {}\n", self.path));
        if let Some(e) = &self.error {
            s.push_str(&format!("- **Error:** {e}\n"));
        }
        s.push_str("\n## Identities used\n\n");
        for i in &self.identities {
            s.push_str(&format!("- {i}\n"));
        }
        s.push_str("\n## Timeline (UTC)\n\n| time | event |\n|---|---|\n");
        for t in &self.timeline {
            s.push_str(&format!(
                "| {} | {} |\n",
                t.at.format("%H:%M:%S%.3f"),
                t.what.replace('|', "\\|")
            ));
        }
        s.push_str(&format!(
            "\n## AWS calls ({} in total)\n\n| service | calls |\n|---|---|\n",
            self.aws_calls_total
        ));
        for (k, v) in &self.aws_calls {
            s.push_str(&format!("| {k} | {v} |\n"));
        }
        s.push_str("\n## What changed\n\n");
        list(&mut s, &self.changes, "nothing");
        s.push_str("\n## Temporary credentials removed\n\n");
        list(&mut s, &self.cleaned_up, "none");
        s.push_str("\n## Verification (by logging in)\n\n");
        for c in &self.checks {
            s.push_str(&format!(
                "- {} `{}`: {}\n",
                if c.ok { "OK" } else { "FAILED" },
                c.identity,
                c.detail
            ));
        }
        if self.checks.is_empty() {
            s.push_str("- none made\n");
        }
        s.push_str("\n## Backups\n\n");
        for b in &self.backups {
            s.push_str(&format!("- `{}/{b}`\n", self.journal_dir));
        }
        if self.backups.is_empty() {
            s.push_str("- none\n");
        }
        s.push_str(&format!(
            "\n## How to undo\n\n```sh\n{0}\n```\n\nremoves what was temporary (keys, the run's trust statements, recreated principals) and keeps the fix. \
             To roll the whole run back — the earlier aws-auth from the backup above, the access entries it made — add `--rollback`:\n\n```sh\n{0} --rollback\n```\n\n\
             An authentication-mode switch cannot be undone.\n",
            self.undo_command
        ));
        if let Some(n) = &self.next_command {
            s.push_str(&format!("\n## Next\n\n```sh\n{n}\n```\n"));
        }
        s
    }
}

fn list(s: &mut String, items: &[String], empty: &str) {
    if items.is_empty() {
        s.push_str(&format!("- {empty}\n"));
    }
    for i in items {
        s.push_str(&format!("- {i}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsauth::NodeRoleKind;

    const NODE: &str = "arn:aws:iam::123456789012:role/eks-node-role";
    const FARGATE: &str = "arn:aws:iam::123456789012:role/eks-fargate-pod-execution";

    fn facts() -> Vec<NodeRoleFact> {
        vec![
            NodeRoleFact {
                arn: NODE.into(),
                kind: NodeRoleKind::Ec2Linux,
                source: "general".into(),
            },
            NodeRoleFact {
                arn: FARGATE.into(),
                kind: NodeRoleKind::Fargate,
                source: "fp".into(),
            },
        ]
    }

    fn choice(node_roles: &[NodeRoleFact]) -> WriteChoice<'_> {
        WriteChoice {
            node_roles,
            ..WriteChoice::default()
        }
    }

    fn object(pairs: &[(&str, &str)]) -> AwsAuthObject {
        AwsAuthObject {
            data: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..AwsAuthObject::default()
        }
    }

    const BROKEN_USERS: &str = "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n groups:\n    - system:masters\n";

    #[test]
    fn salvage_of_the_incident_maps_people_and_nodes_and_keeps_other_keys() {
        let live = object(&[
            (
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/team/ops/ops\n  username: ops\n  groups: [system:masters]\n",
            ),
            ("mapUsers", BROKEN_USERS),
            ("mapAccounts", "- \"123456789012\"\n"),
            ("custom", "kept"),
        ]);
        let p = prepare(Some(&live), None, &choice(&facts())).unwrap();
        let m = p.object.mapping();
        assert!(node_role_mapped(&m, NODE) && node_role_mapped(&m, FARGATE));
        assert!(m.active_users().any(|u| u.arn.ends_with("user/oncall")));
        assert_eq!(p.object.data["custom"], "kept");
        assert!(p.object.data["mapAccounts"].contains("123456789012"));
        assert!(!p.diff.is_empty());
    }

    #[test]
    fn a_node_role_without_its_groups_is_superseded() {
        let live = object(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n   - system:nodes\n",
        )]);
        assert!(!node_role_mapped(&live.mapping(), NODE));
        let p = prepare(Some(&live), None, &choice(&facts()[..1])).unwrap();
        assert!(
            node_role_mapped(&p.object.mapping(), NODE),
            "{:?}",
            p.object.data
        );
        assert!(
            p.notes.iter().any(|n| n.contains("supersedes")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn a_file_with_errors_is_refused_and_no_live_object_is_a_rebuild() {
        let bad = Candidate {
            origin: "f".into(),
            object: object(&[("mapUsers", BROKEN_USERS)]),
            named: Vec::new(),
        };
        let err = prepare(None, Some(bad), &choice(&[])).unwrap_err();
        assert!(err.contains("lint error"), "{err}");
        let p = prepare(None, None, &choice(&facts())).unwrap();
        assert!(node_role_mapped(&p.object.mapping(), FARGATE));
    }

    #[test]
    fn a_rebuild_without_admins_lets_nobody_in_and_map_admin_changes_that() {
        let who = |outside: Option<String>| Who {
            role: "operator",
            caller_arn: "arn:aws:iam::123456789012:user/oncall".into(),
            account: "123456789012".into(),
            outside_aws_auth: outside,
        };
        let p = prepare(None, None, &choice(&facts())).unwrap();
        let pred = predict(&p.object.mapping(), &who(None));
        assert_eq!(pred.gets_in, Some(false), "{pred:?}");
        assert!(nobody_gets_in(&[pred]));
        assert!(p.notes.iter().any(|n| n.contains("does not exist")));
        // Through an access entry, aws-auth does not decide it.
        let pred = predict(&p.object.mapping(), &who(Some("its access entry".into())));
        assert_eq!(pred.gets_in, Some(true));
        // --map-admin: the user (and a session's role, without its path) mapped, named.
        let admins = vec![
            "arn:aws:iam::123456789012:user/oncall".to_string(),
            "arn:aws:sts::123456789012:assumed-role/sre/alice".to_string(),
        ];
        let f = facts();
        let p = prepare(
            None,
            None,
            &WriteChoice {
                node_roles: &f,
                admins: &admins,
                ..WriteChoice::default()
            },
        )
        .unwrap();
        let pred = predict(&p.object.mapping(), &who(None));
        assert_eq!(pred.gets_in, Some(true), "{pred:?}");
        assert!(pred.how.contains("system:masters"), "{}", pred.how);
        assert!(p.access.new_gains().is_empty(), "{:?}", p.access);
        let (session, account) = session_of("arn:aws:iam::123456789012:role/team/sre").unwrap();
        assert_eq!(
            session,
            "arn:aws:sts::123456789012:assumed-role/sre/eks-breakglass-verify"
        );
        assert_eq!(account, "123456789012");
        let pred = predict(
            &p.object.mapping(),
            &Who {
                role: "verify-as",
                caller_arn: session,
                account,
                outside_aws_auth: None,
            },
        );
        assert_eq!(pred.gets_in, Some(true), "{pred:?}");
        assert!(
            add_admins(
                &mut Candidate::default(),
                &["arn:aws:iam::1:group/x".into()]
            )
            .is_err()
        );
    }

    #[test]
    fn report_markdown_has_every_section() {
        let t = Utc::now();
        let r = IncidentReport {
            cluster: "prod".into(),
            region: "us-east-1".into(),
            status: "recovered".into(),
            started_at: t,
            finished_at: t,
            operator: "arn:aws:iam::1:user/oncall".into(),
            path: "temporary key".into(),
            identities: vec!["operator".into()],
            timeline: vec![TimelineEntry {
                at: t,
                what: "a | b".into(),
            }],
            aws_calls: BTreeMap::from([("eks".to_string(), 3), ("iam".to_string(), 2)]),
            aws_calls_total: 5,
            changes: vec!["wrote aws-auth".into()],
            cleaned_up: vec![],
            checks: vec![Check {
                identity: "x".into(),
                ok: true,
                detail: "in".into(),
            }],
            backups: vec!["aws-auth.before.json".into()],
            journal_dir: "/runs/x".into(),
            undo_command: "eks-breakglass cleanup --journal /runs/x".into(),
            next_command: None,
            error: None,
        };
        let md = r.markdown();
        for needle in [
            "## Timeline",
            "a \\| b",
            "| eks | 3 |",
            "5 in total",
            "/runs/x/aws-auth.before.json",
            "eks-breakglass cleanup --journal /runs/x",
            "OK `x`",
        ] {
            assert!(md.contains(needle), "{needle}\n{md}");
        }
    }

    #[test]
    fn mapped_without_system_masters_is_not_predicted_to_get_in() {
        let m = awsauth::effective_from_data([(
            "mapUsers",
            "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n",
        )]);
        let pred = predict(
            &m,
            &Who {
                role: "operator",
                caller_arn: "arn:aws:iam::123456789012:user/oncall".into(),
                account: "123456789012".into(),
                outside_aws_auth: None,
            },
        );
        assert_eq!(pred.gets_in, None, "{pred:?}");
        assert!(pred.how.contains("without system:masters"), "{}", pred.how);
        assert!(nobody_gets_in(&[pred]));
    }
}
