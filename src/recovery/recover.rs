//! The recover flow's decisions: the aws-auth to write, and the incident report.
//!
//! `recover` composes what other modules decide — the way in ([`super::diagnosis`]), the get-in
//! plan ([`super::getin`]), the aws-auth engine ([`crate::awsauth`]) — into one run. What is its
//! own lives here, pure: the candidate aws-auth (the chosen source, with every node and Fargate
//! role the cluster has added back, because a lost node mapping is what turns a lock-out into
//! an outage), the check that it lints clean and still lets the operator in, and the incident
//! report that the postmortem starts from (Markdown for people, JSON for tools).

use crate::awsauth::{
    self, AwsAuthDocument, ClusterFacts as AuthFacts, EffectiveMapping, MappingDiff, NodeRoleFact,
    NodeRoleKind, Severity,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the new aws-auth comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Source {
    /// What still parses in the live, broken ConfigMap (`aws-auth salvage`).
    Salvage,
    /// A ConfigMap manifest (a backup, a snapshot export, git).
    File(String),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Salvage => {
                "salvage of the live aws-auth (every entry that still parses, repaired)".into()
            }
            Source::File(p) => format!("the file {p}"),
        }
    }
}

/// The aws-auth that will be written, and how it was made.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The ConfigMap's new data (every key: the three sections and any others kept as they were).
    pub data: BTreeMap<String, String>,
    /// Node and Fargate roles added because the source lacked them.
    pub added_node_roles: Vec<String>,
    /// What salvage recovered, changed or lost (empty for a file).
    pub notes: Vec<String>,
    /// Who gains, loses or changes access compared with what the cluster loads today.
    pub diff: MappingDiff,
    #[serde(skip)]
    pub effective: EffectiveMapping,
}

/// Why no candidate could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    #[error("the candidate aws-auth has {count} lint error(s): {first}")]
    LintErrors { count: usize, first: String },
    #[error("the source has no mapRoles or mapUsers at all")]
    Empty,
}

/// The text data of a document: the keys whose values are strings.
pub fn text_data(doc: &AwsAuthDocument) -> BTreeMap<String, String> {
    doc.data
        .iter()
        .filter_map(|e| match &e.value {
            awsauth::source::DataValue::Text(t) => Some((e.key.clone(), t.clone())),
            awsauth::source::DataValue::NotString { .. } => None,
        })
        .collect()
}

fn node_entry_yaml(role: &NodeRoleFact) -> String {
    let mut groups = vec!["system:bootstrappers", "system:nodes"];
    match role.kind {
        NodeRoleKind::Ec2Linux => {}
        NodeRoleKind::Ec2Windows => groups.push("eks:kube-proxy-windows"),
        NodeRoleKind::Fargate => groups.push("system:node-proxier"),
    }
    let username = match role.kind {
        NodeRoleKind::Fargate => "system:node:{{SessionName}}",
        _ => "system:node:{{EC2PrivateDNSName}}",
    };
    let mut s = format!(
        "- rolearn: {}\n  username: {username}\n  groups:\n",
        role.arn
    );
    for g in groups {
        s.push_str(&format!("    - {g}\n"));
    }
    s
}

/// True when the mapping has an entry in force for `arn` (compared as the authenticator does:
/// case-insensitively, without the role's path).
pub fn role_mapped(m: &EffectiveMapping, arn: &str) -> bool {
    let want = awsauth::principal::canonical_role_arn(arn)
        .unwrap_or_else(|| arn.to_string())
        .to_ascii_lowercase();
    m.active_roles()
        .any(|r| r.never_matches().is_none() && r.arn.to_ascii_lowercase() == want)
}

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

/// Adds an entry for every node role not mapped (or mapped without the node groups) in
/// `data`; returns the ARNs added. An incomplete entry is superseded by the appended one (the
/// authenticator keeps the last entry of a role ARN).
pub fn complete_node_roles(
    data: &mut BTreeMap<String, String>,
    node_roles: &[NodeRoleFact],
) -> Vec<String> {
    let effective = awsauth::effective_from_data(data.clone());
    let mut added = Vec::new();
    let mut extra = String::new();
    for r in node_roles {
        let canonical =
            awsauth::principal::canonical_role_arn(&r.arn).unwrap_or_else(|| r.arn.clone());
        if node_role_mapped(&effective, &canonical) || added.contains(&canonical) {
            continue;
        }
        extra.push_str(&node_entry_yaml(&NodeRoleFact {
            arn: canonical.clone(),
            kind: r.kind,
            source: r.source.clone(),
        }));
        added.push(canonical);
    }
    if !extra.is_empty() {
        let roles = data.entry("mapRoles".to_string()).or_default();
        if !roles.is_empty() && !roles.ends_with('\n') {
            roles.push('\n');
        }
        roles.push_str(&extra);
    }
    added
}

/// The candidate from `source_doc` (the live ConfigMap for a salvage, or a file), completed with
/// the cluster's node roles, checked with the lint; `live` is what the cluster holds today (its
/// non-aws-auth keys are kept when the file does not name them).
pub fn build_candidate(
    source: &Source,
    source_doc: &AwsAuthDocument,
    live: Option<&AwsAuthDocument>,
    node_roles: &[NodeRoleFact],
) -> Result<Candidate, CandidateError> {
    let mut notes = Vec::new();
    let mut data = match source {
        Source::Salvage => {
            let s = awsauth::salvage(source_doc, true);
            for i in &s.report.changed {
                notes.push(format!(
                    "changed: {} line {}: {}",
                    i.section, i.line, i.message
                ));
            }
            for i in &s.report.lost {
                notes.push(format!(
                    "lost: {} line {}: {}",
                    i.section, i.line, i.message
                ));
            }
            match awsauth::read_document("salvage", s.manifest.as_bytes()) {
                Ok(d) => text_data(&d),
                Err(_) => text_data(source_doc),
            }
        }
        Source::File(_) => text_data(source_doc),
    };
    if let Some(l) = live {
        for (k, v) in text_data(l) {
            if awsauth::Section::from_key(&k).is_none() {
                data.entry(k).or_insert(v);
            }
        }
    }
    if !data.contains_key("mapRoles") && !data.contains_key("mapUsers") && node_roles.is_empty() {
        return Err(CandidateError::Empty);
    }
    let added_node_roles = complete_node_roles(&mut data, node_roles);
    let doc = AwsAuthDocument::from_data("candidate", data.clone());
    let analysis = awsauth::analyze(
        &doc,
        &AuthFacts {
            node_roles: node_roles.to_vec(),
        },
    );
    let errors: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if let Some(first) = errors.first() {
        return Err(CandidateError::LintErrors {
            count: errors.len(),
            first: format!("[{}] {}", first.code, first.message),
        });
    }
    let before = live
        .map(|l| awsauth::effective_from_data(text_data(l)))
        .unwrap_or_default();
    Ok(Candidate {
        diff: awsauth::diff_mappings(&before, &analysis.effective),
        effective: analysis.effective,
        data,
        added_node_roles,
        notes,
    })
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
            "\n## How to undo\n\n```sh\n{}\n```\n\nIt reverses the run's changes in reverse order (the aws-auth write is put back from the backup above, \
             access entries and keys are deleted, trust policies restored byte for byte); an authentication-mode switch cannot be undone.\n",
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

    const BROKEN_USERS: &str = "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n groups:\n    - system:masters\n";

    #[test]
    fn salvage_candidate_gets_node_roles_and_lints_clean() {
        let live = AwsAuthDocument::from_data(
            "live",
            [
                (
                    "mapRoles",
                    "- rolearn: arn:aws:iam::123456789012:role/team/ops/ops\n  username: ops\n  groups: [system:masters]\n",
                ),
                ("mapUsers", BROKEN_USERS),
                ("mapAccounts", "- \"123456789012\"\n"),
                ("custom", "kept"),
            ],
        );
        let c = build_candidate(&Source::Salvage, &live, Some(&live), &facts()).unwrap();
        assert_eq!(
            c.added_node_roles,
            vec![NODE.to_string(), FARGATE.to_string()]
        );
        assert!(node_role_mapped(&c.effective, NODE));
        assert!(
            c.effective
                .active_users()
                .any(|u| u.arn.ends_with("user/oncall"))
        );
        assert_eq!(c.data["custom"], "kept");
        assert!(c.data["mapAccounts"].contains("123456789012"));
        assert!(c.data["mapRoles"].contains("system:node-proxier"));
        assert!(!c.diff.is_empty());
        assert!(c.notes.iter().any(|n| n.contains("path")), "{:?}", c.notes);
        // A second completion adds nothing: the roles are mapped now.
        let mut again = c.data.clone();
        assert!(complete_node_roles(&mut again, &facts()).is_empty());
    }

    #[test]
    fn a_node_role_without_its_groups_is_superseded() {
        // `- a\n   - b` under groups is one plain scalar "a - b": valid YAML, wrong groups.
        let live = AwsAuthDocument::from_data(
            "live",
            [(
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n   - system:nodes\n",
            )],
        );
        let before = awsauth::effective_from_data(text_data(&live));
        assert!(role_mapped(&before, NODE) && !node_role_mapped(&before, NODE));
        let c = build_candidate(&Source::Salvage, &live, Some(&live), &facts()[..1]).unwrap();
        assert_eq!(c.added_node_roles, vec![NODE.to_string()]);
        assert!(node_role_mapped(&c.effective, NODE));
    }

    #[test]
    fn a_file_with_errors_is_refused_and_keeps_live_extra_keys() {
        let file = AwsAuthDocument::from_data("f", [("mapUsers", BROKEN_USERS)]);
        let err = build_candidate(&Source::File("f".into()), &file, None, &[]).unwrap_err();
        assert!(matches!(err, CandidateError::LintErrors { .. }), "{err}");
        let good = AwsAuthDocument::from_data(
            "f",
            [(
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n  groups: [system:masters]\n",
            )],
        );
        let live = AwsAuthDocument::from_data("live", [("other", "x")]);
        let c = build_candidate(&Source::File("f".into()), &good, Some(&live), &facts()).unwrap();
        assert_eq!(c.data["other"], "x");
        assert_eq!(c.added_node_roles.len(), 2);
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
            backups: vec!["aws-auth-before.json".into()],
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
            "/runs/x/aws-auth-before.json",
            "eks-breakglass cleanup --journal /runs/x",
            "OK `x`",
        ] {
            assert!(md.contains(needle), "{needle}\n{md}");
        }
    }
}
