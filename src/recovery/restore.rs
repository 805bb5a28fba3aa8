//! Writing aws-auth without losing anything: the decisions behind `aws-auth restore` and
//! `aws-auth edit`.
//!
//! Every lockout story ends with someone writing aws-auth again, under pressure, and the known
//! ways that goes wrong are few and repeatable: the new version drops `mapAccounts`, an unknown
//! data key, or the labels and annotations another tool relies on (aws-cdk #8786, keikoproj
//! rewrites); it forgets the node roles, so the nodes go NotReady right after people get back in;
//! it carries its own syntax error; or it silently overwrites a colleague's fix made a minute
//! earlier. This module makes those decisions as pure functions, so they are the same for every
//! source and every command, and testable without a cluster:
//!
//! - [`Candidate`]s come from a document (file, snapshot, eksctl, salvage) or from cluster facts
//!   ([`rebuild`]);
//! - [`complete_node_roles`] adds the node group and Fargate roles EKS knows of but the candidate
//!   does not map (unless the operator asks for the candidate exactly);
//! - [`merge`] lays the candidate over the live object: everything of the live object that the
//!   candidate does not replace is kept;
//! - [`prepare`] lints the result (errors refuse the write) and diffs it against the live one;
//! - [`check_written`] compares what the cluster holds after the write with what was predicted.
//!
//! It never talks to the cluster: the command layer reads and writes, through the plan and the
//! journal, so that every write is backed up and undoable.

use crate::awsauth::{
    self, Analysis, AwsAuthDocument, ClusterFacts, EffectiveMapping, MappingDiff, NodeRoleFact,
    NodeRoleKind, Section, SectionState,
    render::{scalar, section_text},
    source::DataValue,
    yaml::NodeKind,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// An aws-auth ConfigMap as far as a write is concerned: data, labels and annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AwsAuthObject {
    pub data: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl AwsAuthObject {
    /// The object as the aws-auth engine reads it.
    pub fn document(&self, origin: &str) -> AwsAuthDocument {
        AwsAuthDocument::from_data(origin, self.data.clone())
    }

    /// What the authenticator would load from it.
    pub fn mapping(&self) -> EffectiveMapping {
        awsauth::effective_from_data(self.data.clone())
    }
}

/// Why a candidate cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    #[error(
        "{origin}: data key {key} is a {found}, not a string; the Kubernetes API refuses such a ConfigMap"
    )]
    NotString {
        origin: String,
        key: String,
        found: &'static str,
    },
    #[error("{origin}: no mapRoles, mapUsers or mapAccounts in it; restoring it would map nobody")]
    Empty { origin: String },
    #[error("{origin}: {detail}")]
    Unreadable { origin: String, detail: String },
    #[error(
        "--salvage-fix-arns {}: the live aws-auth has no role entry with a path under that ARN (give the ARN exactly as aws-auth writes it, path included)",
        arns.join(", ")
    )]
    UnusedFix { arns: Vec<String> },
    #[error(
        "{origin}: its data is {size} bytes; Kubernetes refuses a ConfigMap whose data exceeds {CONFIGMAP_DATA_LIMIT} bytes (1 MiB), so it cannot be written"
    )]
    TooLarge { origin: String, size: usize },
    #[error(
        "{origin}: an eksctl ClusterConfig for cluster {theirs}, not for {ours}; its identity mappings are that cluster's access, not this one's"
    )]
    OtherCluster {
        origin: String,
        theirs: String,
        ours: String,
    },
}

/// An eksctl ClusterConfig names the cluster it is for: taking another cluster's identity
/// mappings as this cluster's aws-auth would give this cluster's access to whoever the other
/// one trusts. Refused before any change; a region is compared only when both are known.
pub fn check_written_for(
    origin: &str,
    written_for: Option<&awsauth::source::ClusterRef>,
    cluster: &str,
    region: Option<&str>,
) -> Result<(), CandidateError> {
    let Some(w) = written_for else {
        return Ok(());
    };
    let name_differs = w.name.as_deref().is_some_and(|n| n != cluster);
    let region_differs = matches!((w.region.as_deref(), region), (Some(a), Some(b)) if a != b);
    if name_differs || region_differs {
        return Err(CandidateError::OtherCluster {
            origin: origin.to_string(),
            theirs: format!(
                "{} ({})",
                w.name.as_deref().unwrap_or("no name"),
                w.region.as_deref().unwrap_or("no region")
            ),
            ours: format!("{cluster} ({})", region.unwrap_or("region not known yet")),
        });
    }
    Ok(())
}

/// The most data a ConfigMap may hold: Kubernetes `ValidateConfigMap` refuses an object whose
/// data values together exceed `core.MaxSecretSize` (1 MiB). Checked before any change, so that
/// a run never gets in only to have the write refused.
pub const CONFIGMAP_DATA_LIMIT: usize = 1024 * 1024;

/// What the live aws-auth says in its own words: a verbatim salvage (YAML structure repaired,
/// no key renamed, no ARN trimmed or rewritten — see [`awsauth::salvage_verbatim`]; empty
/// when there is none). Gains it vouches for restore what the file says, they are not new.
pub fn as_written(live: Option<&AwsAuthObject>) -> EffectiveMapping {
    match live {
        None => EffectiveMapping::default(),
        Some(l) => {
            let s = awsauth::salvage_verbatim(&l.document("live aws-auth as written"));
            awsauth::read_document("as written", s.manifest.as_bytes())
                .map(|d| awsauth::analyze(&d, &awsauth::ClusterFacts::default()).effective)
                .unwrap_or_else(|_| l.mapping())
        }
    }
}

/// The aws-auth to restore, before it is merged with the live object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidate {
    /// Where it came from, for messages (`snapshot …`, `salvage of the live aws-auth`, a path).
    pub origin: String,
    pub object: AwsAuthObject,
    /// Principals the operator named on the command line for this candidate (`--admin-role`,
    /// `--map-admin`): what they gain is consented to by name.
    pub named: Vec<String>,
}

fn string_map(node: Option<&crate::awsauth::yaml::Node>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(NodeKind::Map(pairs)) = node.map(|n| &n.kind) {
        for (k, v) in pairs {
            if let (Some(k), Some(v)) = (k.scalar_value(), v.scalar_value()) {
                out.insert(k.to_string(), v.to_string());
            }
        }
    }
    out
}

/// A candidate from a document: its data strings, and its labels and annotations.
pub fn candidate_from_document(doc: &AwsAuthDocument) -> Result<Candidate, CandidateError> {
    let mut data = BTreeMap::new();
    for entry in &doc.data {
        match &entry.value {
            DataValue::Text(t) => {
                data.insert(entry.key.clone(), t.clone());
            }
            DataValue::NotString { found } => {
                return Err(CandidateError::NotString {
                    origin: doc.origin.clone(),
                    key: entry.key.clone(),
                    found,
                });
            }
        }
    }
    let size: usize = data.values().map(String::len).sum();
    if size > CONFIGMAP_DATA_LIMIT {
        return Err(CandidateError::TooLarge {
            origin: doc.origin.clone(),
            size,
        });
    }
    if !Section::ALL.iter().any(|s| data.contains_key(s.key())) {
        return Err(CandidateError::Empty {
            origin: doc.origin.clone(),
        });
    }
    let meta = doc.manifest.as_ref().and_then(|m| m.get("metadata"));
    Ok(Candidate {
        origin: doc.origin.clone(),
        object: AwsAuthObject {
            data,
            labels: string_map(meta.and_then(|m| m.get("labels"))),
            annotations: string_map(meta.and_then(|m| m.get("annotations"))),
        },
        named: Vec::new(),
    })
}

/// What still parses in a (broken) live object, as a candidate: made from the data strings
/// again after every re-read, so that a salvage never carries an older version's values.
/// `fix_arns` are the role ARNs with a path the operator allows salvage to rewrite
/// (`--salvage-fix-arns`); no other entry changes whom it is for.
pub fn salvage_candidate(
    live: &AwsAuthObject,
    fix_arns: &[String],
) -> Result<(Candidate, awsauth::SalvageReport), CandidateError> {
    let origin = "salvage of the live aws-auth";
    let salvaged = awsauth::salvage_with(
        &live.document(origin),
        &awsauth::SalvageOptions {
            clean: true,
            fix_arns: fix_arns.to_vec(),
            verbatim: false,
        },
    );
    if !salvaged.report.unused_fixes.is_empty() {
        return Err(CandidateError::UnusedFix {
            arns: salvaged.report.unused_fixes.clone(),
        });
    }
    let doc = awsauth::read_document(origin, salvaged.manifest.as_bytes()).map_err(|e| {
        CandidateError::Unreadable {
            origin: origin.to_string(),
            detail: e.to_string(),
        }
    })?;
    Ok((candidate_from_document(&doc)?, salvaged.report))
}

/// The canonical mapRoles entry for a node or Fargate role, as EKS itself writes it (the ARN
/// without its path: STS identities never carry it).
pub fn node_role_entry(fact: &NodeRoleFact) -> String {
    let arn = awsauth::principal::canonical_role_arn(&fact.arn).unwrap_or_else(|| fact.arn.clone());
    let (username, groups): (&str, &[&str]) = match fact.kind {
        NodeRoleKind::Ec2Linux => (
            "system:node:{{EC2PrivateDNSName}}",
            &["system:bootstrappers", "system:nodes"],
        ),
        NodeRoleKind::Ec2Windows => (
            "system:node:{{EC2PrivateDNSName}}",
            &[
                "system:bootstrappers",
                "system:nodes",
                "eks:kube-proxy-windows",
            ],
        ),
        NodeRoleKind::Fargate => (
            "system:node:{{SessionName}}",
            &[
                "system:bootstrappers",
                "system:nodes",
                "system:node-proxier",
            ],
        ),
    };
    let mut out = format!(
        "- rolearn: {}\n  username: {}\n  groups:\n",
        scalar(&arn),
        scalar(username)
    );
    for g in groups {
        out.push_str(&format!("    - {}\n", scalar(g)));
    }
    out
}

/// The entry for an admin role of a rebuild (`system:masters`, username from the session).
pub fn admin_role_entry(arn: &str) -> String {
    let canonical = awsauth::principal::canonical_role_arn(arn).unwrap_or_else(|| arn.to_string());
    let name = canonical.rsplit('/').next().unwrap_or("admin");
    format!(
        "- rolearn: {}\n  username: {}\n  groups:\n    - system:masters\n",
        scalar(&canonical),
        scalar(&format!("{name}:{{{{SessionName}}}}"))
    )
}

/// An aws-auth made from what EKS knows: node group and Fargate roles, plus admin roles.
pub fn rebuild(node_roles: &[NodeRoleFact], admin_roles: &[String]) -> Candidate {
    let mut roles = String::new();
    for f in node_roles {
        roles.push_str(&node_role_entry(f));
    }
    for a in admin_roles {
        roles.push_str(&admin_role_entry(a));
    }
    let mut data = BTreeMap::new();
    data.insert(
        "mapRoles".to_string(),
        if roles.is_empty() {
            "[]\n".into()
        } else {
            roles
        },
    );
    Candidate {
        origin: "rebuild from cluster facts".into(),
        object: AwsAuthObject {
            data,
            ..AwsAuthObject::default()
        },
        named: admin_roles.to_vec(),
    }
}

fn canonical_lower(arn: &str) -> String {
    awsauth::principal::canonical_role_arn(arn)
        .unwrap_or_else(|| arn.to_string())
        .to_ascii_lowercase()
}

/// The node and Fargate roles of `facts` that no role entry of `mapping` would match.
pub fn missing_node_roles(mapping: &EffectiveMapping, facts: &[NodeRoleFact]) -> Vec<NodeRoleFact> {
    facts
        .iter()
        .filter(|f| {
            let want = canonical_lower(&f.arn);
            !mapping
                .active_roles()
                .any(|r| r.never_matches().is_none() && r.arn.to_ascii_lowercase() == want)
        })
        .cloned()
        .collect()
}

/// Adds the missing node roles to the candidate's mapRoles (rewritten canonically when entries
/// are added; left byte for byte otherwise). Returns the roles that were missing.
pub fn complete_node_roles(
    candidate: &mut Candidate,
    facts: &[NodeRoleFact],
    exact: bool,
) -> Vec<NodeRoleFact> {
    let missing = missing_node_roles(&candidate.object.mapping(), facts);
    if exact || missing.is_empty() {
        return missing;
    }
    let doc = candidate.object.document(&candidate.origin);
    let loads = awsauth::load(&doc);
    let Some(roles) = loads.iter().find(|l| l.section == Section::MapRoles) else {
        return missing;
    };
    // A mapRoles that does not load is left as written (lint refuses it): rewriting it would
    // drop every entry it holds.
    if matches!(roles.state, SectionState::Lost | SectionState::NotAList) {
        return missing;
    }
    let current = section_text(roles)
        .filter(|t| t.trim() != "[]")
        .unwrap_or_default();
    let mut text = current;
    let mut seen = Vec::new();
    for f in &missing {
        let key = canonical_lower(&f.arn);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        text.push_str(&node_role_entry(f));
    }
    candidate.object.data.insert("mapRoles".into(), text);
    missing
}

/// The object to write: the live object, with the candidate laid over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub object: AwsAuthObject,
    /// What was kept from the live object or left out of it, for people.
    pub notes: Vec<String>,
}

/// Lays `candidate` over `live`. The candidate's data keys, labels and annotations win; every
/// other data key, label and annotation of the live object is kept. A mapping section that the
/// candidate lacks is kept from the live object when it loads; a live section that does not
/// load is left out (it is in the backup) and said so.
pub fn merge(live: Option<&AwsAuthObject>, candidate: &Candidate) -> Merged {
    let mut object = candidate.object.clone();
    let mut notes = Vec::new();
    let Some(live) = live else {
        return Merged { object, notes };
    };
    let live_mapping = live.mapping();
    for (k, v) in &live.data {
        if object.data.contains_key(k) {
            continue;
        }
        match Section::from_key(k) {
            Some(s) => match live_mapping.sections.get(s) {
                SectionState::Lost | SectionState::NotAList => notes.push(format!(
                    "the live {k} does not load (not valid YAML or not a list) and the candidate has none: it is left out (it is in the backup)"
                )),
                _ => {
                    notes.push(format!("kept the live {k} (the candidate has none)"));
                    object.data.insert(k.clone(), v.clone());
                }
            },
            None => {
                notes.push(format!("kept the live data key {k}"));
                object.data.insert(k.clone(), v.clone());
            }
        }
    }
    for (k, v) in &live.labels {
        object.labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in &live.annotations {
        object
            .annotations
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
    Merged { object, notes }
}

/// A write, ready to be planned: the object, its lint, and what changes for whom.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub object: AwsAuthObject,
    pub analysis: Analysis,
    pub diff: MappingDiff,
    /// Node or Fargate roles the candidate did not map (added unless exact).
    pub missing_node_roles: Vec<NodeRoleFact>,
    pub notes: Vec<String>,
    /// Nothing would change (data, labels and annotations equal the live object's).
    pub unchanged: bool,
    /// Who gains or loses access, and on whose word (see [`awsauth::access`]).
    pub access: awsauth::AccessDiff,
    /// Lint errors the live object already has, unchanged, in what the new version keeps of it
    /// (e.g. a role ARN with a path that never matched). Reported, not refused: the write does
    /// not make them worse, and refusing would block a restore at 3 a.m. over an old entry.
    pub preexisting_errors: usize,
}

impl Prepared {
    /// All lint errors of the new version.
    pub fn errors(&self) -> usize {
        self.analysis.errors()
    }

    /// The lint errors the write would introduce: these refuse it.
    pub fn introduced_errors(&self) -> usize {
        self.errors().saturating_sub(self.preexisting_errors)
    }
}

/// How many of `new`'s errors the `old` analysis has too (same rule, section and message).
fn preexisting(new: &Analysis, old: Option<&Analysis>) -> usize {
    let Some(old) = old else { return 0 };
    let key = |f: &crate::awsauth::Finding| (f.code, f.section.clone(), f.message.clone());
    let mut old_errors: Vec<_> = old
        .findings
        .iter()
        .filter(|f| f.severity == crate::awsauth::Severity::Error)
        .map(key)
        .collect();
    new.findings
        .iter()
        .filter(|f| f.severity == crate::awsauth::Severity::Error)
        .filter(|f| {
            let k = key(f);
            match old_errors.iter().position(|o| *o == k) {
                Some(i) => {
                    old_errors.swap_remove(i);
                    true
                }
                None => false,
            }
        })
        .count()
}

/// Completes, merges, lints and diffs a candidate against the live object. `merge_live` lays
/// the candidate over the live object (restore: nothing of the live object is lost); without
/// it the candidate is the whole new object (edit: the operator saw and edited all of it).
pub fn prepare(
    live: Option<&AwsAuthObject>,
    mut candidate: Candidate,
    node_roles: &[NodeRoleFact],
    exact: bool,
    merge_live: bool,
) -> Prepared {
    // Merge first, then complete: node roles are added to the mapRoles that will be written —
    // the candidate's, or the live one kept because the candidate has none. Completing the
    // candidate first would give it a mapRoles holding only node roles, and the live mapRoles
    // would be dropped.
    let mut merged = merge(if merge_live { live } else { None }, &candidate);
    candidate.object = merged.object.clone();
    let missing = complete_node_roles(&mut candidate, node_roles, exact);
    merged.object = candidate.object.clone();
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|f| format!("{} ({})", f.arn, f.source))
            .collect();
        merged.notes.insert(
            0,
            if exact || !missing_node_roles(&candidate.object.mapping(), &missing).is_empty() {
                format!(
                    "node/Fargate roles EKS knows of are NOT mapped by the new version (--exact, or a mapRoles that does not load), and their nodes will be refused: {}",
                    names.join(", ")
                )
            } else {
                format!(
                    "the candidate did not map these node/Fargate roles; added so that nodes keep joining: {}",
                    names.join(", ")
                )
            },
        );
    }
    // With --exact the operator chose to leave node roles out: the note above warns, the lint
    // does not refuse it.
    let facts = ClusterFacts {
        node_roles: if exact {
            Vec::new()
        } else {
            node_roles.to_vec()
        },
    };
    let analysis = awsauth::analyze(&merged.object.document("candidate"), &facts);
    let live_analysis = live.map(|l| awsauth::analyze(&l.document("live"), &facts));
    let preexisting_errors = preexisting(&analysis, live_analysis.as_ref());
    let old = live.map(AwsAuthObject::mapping).unwrap_or_default();
    let diff = awsauth::diff_mappings(&old, &analysis.effective);
    let node_arns: Vec<String> = node_roles.iter().map(|f| f.arn.clone()).collect();
    let access = awsauth::access_diff(
        &old,
        &as_written(live),
        &analysis.effective,
        &node_arns,
        &candidate.named,
    );
    Prepared {
        access,
        unchanged: live == Some(&merged.object),
        object: merged.object,
        analysis,
        diff,
        missing_node_roles: missing,
        notes: merged.notes,
        preexisting_errors,
    }
}

/// A diff without source lines, to tell whether two diffs make the same change for the same
/// principals (lines move when someone else edits the object).
pub fn diff_signature(d: &MappingDiff) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, ed) in [("role", &d.roles), ("user", &d.users)] {
        for e in &ed.added {
            out.push(format!("+{kind} {} {} {:?}", e.arn, e.username, e.groups));
        }
        for e in &ed.removed {
            out.push(format!("-{kind} {} {} {:?}", e.arn, e.username, e.groups));
        }
        for c in &ed.changed {
            out.push(format!(
                "~{kind} {} {} {:?} -> {} {:?}",
                c.key, c.old.username, c.old.groups, c.new.username, c.new.groups
            ));
        }
    }
    for a in &d.accounts_added {
        out.push(format!("+account {a}"));
    }
    for a in &d.accounts_removed {
        out.push(format!("-account {a}"));
    }
    for s in &d.sections {
        out.push(format!("!{} {:?} -> {:?}", s.section, s.old, s.new));
    }
    out.sort();
    out
}

/// Compares the object the cluster holds after the write with the one written: the same
/// effective mapping, and every data key, label and annotation written is there unchanged.
/// Returns the differences, empty when it matches.
pub fn check_written(written: &AwsAuthObject, reread: &AwsAuthObject) -> Vec<String> {
    let mut out = Vec::new();
    if written.mapping() != reread.mapping() {
        let d = awsauth::diff_mappings(&written.mapping(), &reread.mapping());
        out.push(format!(
            "the effective mapping the cluster holds differs from the prediction: {}",
            diff_signature(&d).join("; ")
        ));
    }
    for (what, a, b) in [
        ("data key", &written.data, &reread.data),
        ("label", &written.labels, &reread.labels),
        ("annotation", &written.annotations, &reread.annotations),
    ] {
        for (k, v) in a {
            match b.get(k) {
                None => out.push(format!("{what} {k} is missing after the write")),
                Some(x) if x != v => out.push(format!("{what} {k} differs after the write")),
                Some(_) => {}
            }
        }
    }
    out
}

fn maps(o: Option<&AwsAuthObject>) -> [Option<&BTreeMap<String, String>>; 3] {
    [
        o.map(|x| &x.data),
        o.map(|x| &x.labels),
        o.map(|x| &x.annotations),
    ]
}

const PARTS: [&str; 3] = ["data key", "label", "annotation"];

/// After a 409: the keys (data, labels, annotations) that someone else changed between `read`
/// and `now` and that writing `ours` would overwrite with something else. Empty means the write
/// loses nobody's change.
pub fn overwritten(
    read: Option<&AwsAuthObject>,
    now: Option<&AwsAuthObject>,
    ours: &AwsAuthObject,
) -> Vec<String> {
    let mut out = Vec::new();
    let ours_maps = maps(Some(ours));
    for (i, part) in PARTS.iter().enumerate() {
        let (r, n, o) = (maps(read)[i], maps(now)[i], ours_maps[i]);
        let mut keys: Vec<&String> = r.into_iter().chain(n).flat_map(|m| m.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let (rv, nv) = (r.and_then(|m| m.get(k)), n.and_then(|m| m.get(k)));
            if rv != nv && o.and_then(|m| m.get(k)) != nv {
                out.push(format!("{part} {k}"));
            }
        }
    }
    out
}

/// An edit made on `original`, carried over to `now` key by key: what the operator changed
/// (data keys, labels, annotations) comes from `edited`, everything else from `now`.
pub fn rebase(
    original: Option<&AwsAuthObject>,
    edited: &AwsAuthObject,
    now: Option<&AwsAuthObject>,
) -> AwsAuthObject {
    let mut out = AwsAuthObject::default();
    for (i, e) in maps(Some(edited)).into_iter().enumerate() {
        let (o, n) = (maps(original)[i], maps(now)[i]);
        let mut keys: Vec<&String> = o
            .into_iter()
            .chain(e)
            .chain(n)
            .flat_map(|m| m.keys())
            .collect();
        keys.sort();
        keys.dedup();
        let target = match i {
            0 => &mut out.data,
            1 => &mut out.labels,
            _ => &mut out.annotations,
        };
        for k in keys {
            let (ov, ev, nv) = (
                o.and_then(|m| m.get(k)),
                e.and_then(|m| m.get(k)),
                n.and_then(|m| m.get(k)),
            );
            let chosen = if ev == ov { nv } else { ev };
            if let Some(v) = chosen {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = "arn:aws:iam::123456789012:role/eks-node-role";

    fn obj(data: &[(&str, &str)]) -> AwsAuthObject {
        AwsAuthObject {
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..AwsAuthObject::default()
        }
    }

    fn node(arn: &str, kind: NodeRoleKind) -> NodeRoleFact {
        NodeRoleFact {
            arn: arn.into(),
            kind,
            source: "general".into(),
        }
    }

    #[test]
    fn merge_keeps_accounts_unknown_keys_labels_and_annotations() {
        let mut live = obj(&[
            (
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/a\n  username: a\n",
            ),
            ("mapAccounts", "- \"111122223333\"\n"),
            ("team-notes", "keep me"),
        ]);
        live.labels.insert("app".into(), "x".into());
        live.annotations.insert("owner".into(), "platform".into());
        let mut cand = Candidate {
            origin: "f".into(),
            object: obj(&[(
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/b\n  username: b\n",
            )]),
            named: Vec::new(),
        };
        cand.object.labels.insert("new".into(), "y".into());
        let m = merge(Some(&live), &cand);
        assert_eq!(m.object.data["mapAccounts"], "- \"111122223333\"\n");
        assert_eq!(m.object.data["team-notes"], "keep me");
        assert!(m.object.data["mapRoles"].contains("role/b"));
        assert_eq!(m.object.labels.len(), 2);
        assert_eq!(m.object.annotations["owner"], "platform");
        assert!(
            m.notes.iter().any(|n| n.contains("mapAccounts")),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn merge_leaves_out_a_broken_live_section_the_candidate_lacks() {
        let live = obj(&[("mapUsers", "- userarn: x\n  username: a\n groups: []\n")]);
        let cand = Candidate {
            origin: "rebuild".into(),
            object: obj(&[("mapRoles", "[]\n")]),
            named: Vec::new(),
        };
        let m = merge(Some(&live), &cand);
        assert!(!m.object.data.contains_key("mapUsers"));
        assert!(m.notes[0].contains("left out"), "{:?}", m.notes);
    }

    #[test]
    fn node_roles_are_added_without_path_unless_exact() {
        let facts = vec![
            node(
                "arn:aws:iam::123456789012:role/nodes/eks-node-role",
                NodeRoleKind::Ec2Linux,
            ),
            node("arn:aws:iam::123456789012:role/fp", NodeRoleKind::Fargate),
        ];
        let base = Candidate {
            origin: "f".into(),
            object: obj(&[(
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/fp\n  username: system:node:{{SessionName}}\n  groups: [system:bootstrappers, system:nodes, system:node-proxier]\n",
            )]),
            named: Vec::new(),
        };
        let mut exact = base.clone();
        let missing = complete_node_roles(&mut exact, &facts, true);
        assert_eq!(missing.len(), 1);
        assert_eq!(exact, base);
        let mut c = base.clone();
        complete_node_roles(&mut c, &facts, false);
        let m = c.object.mapping();
        assert!(
            m.roles
                .iter()
                .any(|r| r.arn == NODE && r.groups.contains(&"system:nodes".to_string()))
        );
        assert!(missing_node_roles(&m, &facts).is_empty());
        let p = prepare(None, c, &facts, false, true);
        assert_eq!(p.errors(), 0, "{:?}", p.analysis.findings);
    }

    #[test]
    fn a_candidate_without_map_roles_keeps_the_live_one_and_completes_it() {
        let live = obj(&[
            (
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/admin\n  username: admin\n  groups: [system:masters]\n",
            ),
            (
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n groups: []\n",
            ),
        ]);
        let cand = Candidate {
            origin: "f".into(),
            object: obj(&[(
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n  groups: [devs]\n",
            )]),
            named: Vec::new(),
        };
        let p = prepare(
            Some(&live),
            cand,
            &[node(NODE, NodeRoleKind::Ec2Linux)],
            false,
            true,
        );
        let m = p.object.mapping();
        assert!(
            m.roles
                .iter()
                .any(|r| r.arn == "arn:aws:iam::123456789012:role/admin"),
            "the live mapRoles was dropped: {:?}",
            p.object.data
        );
        assert!(missing_node_roles(&m, &[node(NODE, NodeRoleKind::Ec2Linux)]).is_empty());
        assert_eq!(p.errors(), 0, "{:?}", p.analysis.findings);
    }

    #[test]
    fn errors_already_in_the_live_object_do_not_refuse_a_restore() {
        let with_path = "- rolearn: arn:aws:iam::123456789012:role/team/ops\n  username: ops\n  groups: [system:masters]\n";
        let live = obj(&[("mapRoles", with_path)]);
        let cand = Candidate {
            origin: "f".into(),
            object: obj(&[(
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n",
            )]),
            named: Vec::new(),
        };
        let p = prepare(Some(&live), cand, &[], false, true);
        assert_eq!(p.errors(), 1, "{:?}", p.analysis.findings);
        assert_eq!(p.introduced_errors(), 0);
        // The same entry brought in by the candidate is an error the write introduces.
        let cand = Candidate {
            origin: "f".into(),
            object: obj(&[("mapRoles", with_path)]),
            named: Vec::new(),
        };
        let p = prepare(Some(&obj(&[])), cand, &[], false, true);
        assert_eq!(p.introduced_errors(), 1);
    }

    #[test]
    fn a_broken_map_roles_is_never_rewritten_to_add_node_roles() {
        let broken = "- rolearn: arn:aws:iam::123456789012:role/a\n  username: a\n groups: []\n";
        let mut c = Candidate {
            origin: "f".into(),
            object: obj(&[("mapRoles", broken)]),
            named: Vec::new(),
        };
        let missing = complete_node_roles(&mut c, &[node(NODE, NodeRoleKind::Ec2Linux)], false);
        assert_eq!(missing.len(), 1);
        assert_eq!(c.object.data["mapRoles"], broken);
    }

    #[test]
    fn prepare_refuses_nothing_itself_but_counts_lint_errors() {
        let cand = Candidate {
            origin: "f".into(),
            object: obj(&[(
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n groups:\n    - system:masters\n",
            )]),
            named: Vec::new(),
        };
        let p = prepare(None, cand, &[], true, true);
        assert!(p.errors() > 0);
    }

    #[test]
    fn salvage_candidate_recovers_the_seed_users_and_keeps_other_keys() {
        let live = obj(&[
            (
                "mapUsers",
                "- userarn: arn:aws:iam::123456789012:user/a\n  username: a\n  groups:\n    - system:masters\n- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n groups:\n    - system:masters\n",
            ),
            ("team-notes", "x"),
        ]);
        let (c, _) = salvage_candidate(&live, &[]).unwrap();
        let m = c.object.mapping();
        assert_eq!(m.users.len(), 2, "{m:?}");
        assert_eq!(c.object.data["team-notes"], "x");
    }

    #[test]
    fn rebuild_maps_node_fargate_and_admin_roles() {
        let c = rebuild(
            &[
                node(NODE, NodeRoleKind::Ec2Linux),
                node("arn:aws:iam::123456789012:role/fp", NodeRoleKind::Fargate),
            ],
            &["arn:aws:iam::123456789012:role/team/ops/admin".to_string()],
        );
        let p = prepare(None, c, &[], true, true);
        assert_eq!(p.errors(), 0, "{:?}", p.analysis.findings);
        let roles = &p.analysis.effective.roles;
        assert_eq!(roles.len(), 3);
        assert_eq!(roles[2].arn, "arn:aws:iam::123456789012:role/admin");
        assert_eq!(roles[2].groups, vec!["system:masters"]);
        assert_eq!(roles[1].username, "system:node:{{SessionName}}");
    }

    #[test]
    fn rebase_keeps_both_changes_and_overwritten_names_the_overlap() {
        let read = obj(&[("mapUsers", "a"), ("notes", "old"), ("mapRoles", "r")]);
        let now = obj(&[("mapUsers", "a"), ("notes", "theirs"), ("mapRoles", "r")]);
        let edited = obj(&[("mapUsers", "mine"), ("notes", "old"), ("mapRoles", "r")]);
        let merged = rebase(Some(&read), &edited, Some(&now));
        assert_eq!(merged.data["mapUsers"], "mine");
        assert_eq!(merged.data["notes"], "theirs");
        assert!(overwritten(Some(&read), Some(&now), &merged).is_empty());
        let now2 = obj(&[("mapUsers", "theirs"), ("notes", "old"), ("mapRoles", "r")]);
        let merged2 = rebase(Some(&read), &edited, Some(&now2));
        assert_eq!(
            overwritten(Some(&read), Some(&now2), &merged2),
            vec!["data key mapUsers".to_string()]
        );
        let mut gone = now.clone();
        gone.data.remove("mapRoles");
        assert!(
            !rebase(Some(&read), &edited, Some(&gone))
                .data
                .contains_key("mapRoles")
        );
    }

    #[test]
    fn unchanged_and_diff_signature_ignore_lines() {
        let live = obj(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/a\n  username: a\n",
        )]);
        let same = Candidate {
            origin: "f".into(),
            object: live.clone(),
            named: Vec::new(),
        };
        assert!(prepare(Some(&live), same, &[], true, true).unchanged);
        let shifted = obj(&[(
            "mapRoles",
            "- rolearn: arn:aws:iam::123456789012:role/z\n  username: z\n- rolearn: arn:aws:iam::123456789012:role/a\n  username: a\n",
        )]);
        let cand = Candidate {
            origin: "f".into(),
            object: obj(&[(
                "mapRoles",
                "- rolearn: arn:aws:iam::123456789012:role/a\n  username: a\n- rolearn: arn:aws:iam::123456789012:role/z\n  username: z\n- rolearn: arn:aws:iam::123456789012:role/n\n  username: n\n",
            )]),
            named: Vec::new(),
        };
        let d1 = prepare(Some(&live), cand.clone(), &[], true, true).diff;
        let d2 = prepare(Some(&shifted), cand, &[], true, true).diff;
        assert_ne!(diff_signature(&d1), diff_signature(&d2));
        assert!(check_written(&live, &live).is_empty());
        let mut lost = live.clone();
        lost.data.clear();
        assert_eq!(check_written(&live, &lost).len(), 2);
    }

    #[test]
    fn an_eksctl_config_of_another_cluster_is_refused() {
        let doc = awsauth::read_document(
            "c.yaml",
            b"apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: staging\n  region: eu-west-1\niamIdentityMappings:\n  - arn: arn:aws:iam::123456789012:role/viewer\n    groups: [system:masters]\n    username: v\n",
        )
        .expect("reads");
        let w = doc.written_for.as_ref();
        assert!(check_written_for("c.yaml", w, "prod", None).is_err());
        assert!(check_written_for("c.yaml", w, "staging", Some("us-east-1")).is_err());
        assert!(check_written_for("c.yaml", w, "staging", Some("eu-west-1")).is_ok());
        assert!(check_written_for("c.yaml", None, "prod", Some("us-east-1")).is_ok());
    }
}
