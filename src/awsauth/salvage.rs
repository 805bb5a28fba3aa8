//! Salvage: recover every entry a broken aws-auth still holds, and say what changed.
//!
//! During an incident the broken ConfigMap is often the only copy of who had access. Sections
//! the authenticator can read are taken as it reads them, with the author's evident intent
//! restored where the file says it (a `username: yes` becomes the string "yes", a role ARN with
//! a path loses the path). Sections it cannot read are re-read line by line, ignoring
//! indentation, tabs and stray characters, so an entry is rebuilt only from `- key: value` lines
//! that are actually there: salvage never invents an entry. Every entry that would still be a
//! lint error is left out and reported as lost, so the output always lints without errors.
//!
//! Salvage never changes *who* an entry is for on its own. A role ARN with a path never matched
//! anybody; rewriting it to the path-less ARN makes it match the role for the first time, and
//! if that role is mapped elsewhere the rewritten entry silently replaces that mapping (the last
//! duplicate wins). So the rewrite happens only for the ARNs the operator names
//! ([`SalvageOptions::fix_arns`], `--salvage-fix-arns`). An assumed-role session ARN is never
//! turned into its role's ARN, not even on request: the session entry was meant for one person,
//! the role entry would be for every session of the role (a session mapped to `system:masters`
//! under a role mapped to `view` would make every session of it cluster-admin).

use super::lint::{ClusterFacts, Severity};
use super::model::{Section, SectionState, SsoMatcher};
use super::parse::{self, Field, SectionLoad, go_fold_eq};
use super::principal::{self, ArnShape};
use super::render::{self, RenderOptions, scalar};
use super::source::{AwsAuthDocument, DataValue};
use super::yaml::{Node, NodeKind};
use serde::Serialize;

/// One line of the salvage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportItem {
    pub section: String,
    /// Line in the original file.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SalvageReport {
    /// Entries present in the output.
    pub recovered: Vec<ReportItem>,
    /// Repairs made to recovered entries or to the ConfigMap.
    pub changed: Vec<ReportItem>,
    /// Entries or lines of the input that are not in the output.
    pub lost: Vec<ReportItem>,
    /// ARNs named in [`SalvageOptions::fix_arns`] that no entry with a path holds (a typo, or
    /// an entry that needs no fix): the caller refuses them rather than ignoring a consent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_fixes: Vec<String>,
}

/// What the operator allows salvage to do beyond reading what is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalvageOptions {
    /// Drop server-side metadata from the output.
    pub clean: bool,
    /// Role ARNs with a path (as written in the input, compared case-insensitively) that may
    /// be rewritten to their path-less ARN, so that they match for the first time.
    pub fix_arns: Vec<String>,
    /// Read only what is written, exactly: no data key renamed (`map_users` stays ignored),
    /// no entry field renamed (`userarn:` under mapRoles stays dropped), no whitespace trimmed
    /// from an ARN. Such repairs turn an entry that never matched into one that matches: the
    /// access diff uses this reading as the "as written" reference, so that a repair of that
    /// kind is shown as NEW access and needs its own consent.
    pub verbatim: bool,
}

impl SalvageOptions {
    fn allows_fix(&self, arn: &str) -> bool {
        self.fix_arns
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(arn.trim()))
    }
}

#[derive(Debug, Clone)]
pub struct Salvaged {
    /// The repaired ConfigMap manifest.
    pub manifest: String,
    pub report: SalvageReport,
}

/// An entry on its way to the output.
#[derive(Debug, Clone, Default)]
struct Entry {
    arn: String,
    username: String,
    groups: Vec<String>,
    sso: Option<SsoMatcher>,
    line: usize,
    changes: Vec<String>,
}

struct Ctx<'a> {
    doc: &'a AwsAuthDocument,
    opts: &'a SalvageOptions,
    /// Fix ARNs that were applied (lower-cased).
    fixes_used: Vec<String>,
    report: SalvageReport,
}

impl Ctx<'_> {
    fn item(&self, section: &str, line: usize, message: String) -> ReportItem {
        ReportItem {
            section: section.to_string(),
            line,
            message,
        }
    }
    fn changed(&mut self, section: &str, line: usize, message: String) {
        let i = self.item(section, line, message);
        self.report.changed.push(i);
    }
    fn lost(&mut self, section: &str, line: usize, message: String) {
        let i = self.item(section, line, message);
        self.report.lost.push(i);
    }
}

/// Repair an aws-auth, changing no entry's ARN. `clean` drops server-side metadata.
pub fn salvage(doc: &AwsAuthDocument, clean: bool) -> Salvaged {
    salvage_with(
        doc,
        &SalvageOptions {
            clean,
            fix_arns: Vec::new(),
            verbatim: false,
        },
    )
}

/// What a broken aws-auth says in its own words: the entries the authenticator would load if
/// only the YAML structure (indentation, tabs, quoting of scalars) were repaired — no key
/// renamed, no ARN trimmed or rewritten. The access diff vouches for these as "as written".
pub fn salvage_verbatim(doc: &AwsAuthDocument) -> Salvaged {
    salvage_with(
        doc,
        &SalvageOptions {
            clean: true,
            fix_arns: Vec::new(),
            verbatim: true,
        },
    )
}

/// Repair an aws-auth with the operator's options.
pub fn salvage_with(doc: &AwsAuthDocument, opts: &SalvageOptions) -> Salvaged {
    let clean = opts.clean;
    let mut cx = Ctx {
        doc,
        opts,
        fixes_used: Vec::new(),
        report: SalvageReport::default(),
    };
    let mut data: Vec<(String, String)> = Vec::new();
    let mut handled: Vec<Section> = Vec::new();
    for entry in &doc.data {
        let section = Section::from_key(&entry.key).or_else(|| {
            near_miss(&entry.key)
                .filter(|s| doc.entry(s.key()).is_none() && !handled.contains(s))
                .filter(|_| !opts.verbatim)
        });
        let Some(section) = section else {
            if let DataValue::Text(t) = &entry.value {
                data.retain(|(k, _)| *k != entry.key);
                data.push((entry.key.clone(), t.clone()));
            }
            continue;
        };
        if section.key() != entry.key {
            cx.changed(
                section.key(),
                entry.key_pos.line,
                format!(
                    "data key {:?} renamed to {} (the authenticator ignored it)",
                    entry.key,
                    section.key()
                ),
            );
        }
        handled.push(section);
        let text = match &entry.value {
            DataValue::Text(t) => t.clone(),
            DataValue::NotString { found } => {
                cx.changed(
                    section.key(),
                    entry.value_pos.line,
                    format!(
                        "{} was a YAML {found}, not a string: turned into a string block",
                        section.key()
                    ),
                );
                node_text(doc, &entry.key)
            }
        };
        let out = salvage_section(&mut cx, section, &entry.key, &text);
        data.retain(|(k, _)| k != section.key());
        if let Some(out) = out {
            data.push((section.key().to_string(), out));
        }
    }
    let manifest = render::render_manifest(doc, &data, RenderOptions { clean });
    cx.report.unused_fixes = opts
        .fix_arns
        .iter()
        .filter(|a| !cx.fixes_used.contains(&a.trim().to_ascii_lowercase()))
        .cloned()
        .collect();
    Salvaged {
        manifest,
        report: cx.report,
    }
}

fn near_miss(key: &str) -> Option<Section> {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    match norm.as_str() {
        "maproles" | "maprole" => Some(Section::MapRoles),
        "mapusers" | "mapuser" => Some(Section::MapUsers),
        "mapaccounts" | "mapaccount" => Some(Section::MapAccounts),
        _ => None,
    }
}

/// A data value written as a YAML list/mapping instead of a string: its YAML text.
fn node_text(doc: &AwsAuthDocument, key: &str) -> String {
    let Some(node) = doc
        .manifest
        .as_ref()
        .and_then(|m| m.get("data"))
        .and_then(|d| d.get(key))
    else {
        return String::new();
    };
    let mut out = String::new();
    match &node.kind {
        NodeKind::Seq(items) => {
            for item in items {
                emit_item(&mut out, item);
            }
        }
        _ => emit_item(&mut out, node),
    }
    out
}

fn emit_item(out: &mut String, n: &Node) {
    let wrapper = Node {
        kind: NodeKind::Seq(vec![n.clone()]),
        pos: n.pos,
        tag: None,
        flow: false,
        alias: false,
    };
    emit_generic(out, &wrapper);
}

fn emit_generic(out: &mut String, n: &Node) {
    fn go(out: &mut String, indent: usize, n: &Node, first_prefix: Option<&str>) {
        let pad = " ".repeat(indent);
        match &n.kind {
            NodeKind::Scalar { value, .. } => {
                out.push_str(&format!(
                    "{}{}\n",
                    first_prefix.unwrap_or(&pad),
                    scalar(value)
                ));
            }
            NodeKind::Seq(items) => {
                for item in items {
                    match &item.kind {
                        NodeKind::Scalar { value, .. } => {
                            out.push_str(&format!("{pad}- {}\n", scalar(value)))
                        }
                        _ => go(out, indent + 2, item, Some(&format!("{pad}- "))),
                    }
                }
            }
            NodeKind::Map(pairs) => {
                for (i, (k, v)) in pairs.iter().enumerate() {
                    let lead = if i == 0 {
                        first_prefix
                            .map(str::to_string)
                            .unwrap_or_else(|| pad.clone())
                    } else {
                        pad.clone()
                    };
                    let key = scalar(k.scalar_value().unwrap_or_default());
                    match &v.kind {
                        NodeKind::Scalar { value, .. } => {
                            out.push_str(&format!("{lead}{key}: {}\n", scalar(value)))
                        }
                        _ => {
                            out.push_str(&format!("{lead}{key}:\n"));
                            go(out, indent + 2, v, None);
                        }
                    }
                }
            }
        }
    }
    go(out, 0, n, None);
}

fn salvage_section(
    cx: &mut Ctx<'_>,
    section: Section,
    data_key: &str,
    text: &str,
) -> Option<String> {
    let load = parse::load_section(section, Some(text));
    let key = section.key();
    let file_line = |cx: &Ctx<'_>, inner_line: usize| {
        cx.doc
            .locate(
                data_key,
                super::yaml::Pos {
                    line: inner_line,
                    column: 1,
                    offset: 0,
                },
            )
            .line
    };
    if load.state == SectionState::Absent {
        return Some(text.to_string());
    }
    if section == Section::MapAccounts {
        let mut accounts: Vec<(String, usize)> = match load.state {
            SectionState::Loaded => load
                .accounts
                .iter()
                .map(|a| (a.value.clone(), a.pos.line))
                .collect(),
            _ => {
                let l = file_line(cx, load.error.as_ref().map(|e| e.pos.line).unwrap_or(1));
                cx.changed(
                    key,
                    l,
                    "mapAccounts did not load; re-read line by line".into(),
                );
                loose_accounts(text)
            }
        };
        let mut out = String::new();
        accounts.retain(|(a, line)| {
            let ok = a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                let fl = file_line(cx, *line);
                cx.lost(key, fl, format!("{a:?} is not a 12-digit account id"));
            }
            ok
        });
        for (a, line) in &accounts {
            let fl = file_line(cx, *line);
            let i = cx.item(key, fl, format!("account {a}"));
            cx.report.recovered.push(i);
            out.push_str(&format!(
                "- {}\n",
                serde_json::to_string(a).unwrap_or_default()
            ));
        }
        return Some(out);
    }
    let entries: Vec<Entry> = match load.state {
        SectionState::Loaded => from_load(cx, &load, data_key),
        SectionState::NotAList
            if matches!(load.root.as_ref().map(|r| &r.kind), Some(NodeKind::Map(_))) =>
        {
            let l = file_line(cx, load.not_list.map(|n| n.0.line).unwrap_or(1));
            cx.changed(
                key,
                l,
                format!("{key} was a single mapping, not a list: wrapped in a list"),
            );
            let wrapped: String = text
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        format!("- {l}\n")
                    } else {
                        format!("  {l}\n")
                    }
                })
                .collect();
            let reload = parse::load_section(section, Some(&wrapped));
            from_load(cx, &reload, data_key)
        }
        _ => {
            let l = file_line(cx, load.error.as_ref().map(|e| e.pos.line).unwrap_or(1));
            let why = load
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "not a list".into());
            cx.changed(
                key,
                l,
                format!("{key} did not load ({why}); re-read line by line, ignoring indentation"),
            );
            loose_entries(cx, section, data_key, text)
        }
    };
    let mut out = String::new();
    // Role ARNs in force so far (lower-cased) and their lines: a fixed ARN that collides with
    // another entry replaces or is replaced by it (the last duplicate wins), which is said.
    let mut seen: Vec<(String, usize)> = Vec::new();
    for mut e in entries {
        match finish(cx, section, &mut e) {
            Finish::Keep => {}
            Finish::Drop => continue,
            Finish::NeverMatched(why) => {
                cx.lost(key, e.line, format!("{}: {why}", describe(&e)));
                continue;
            }
        }
        if section == Section::MapRoles && !e.arn.is_empty() {
            let k = e.arn.to_ascii_lowercase();
            if let Some((_, other)) = seen.iter().find(|(s, _)| *s == k)
                && e.changes.iter().any(|c| c.contains("--salvage-fix-arns"))
            {
                e.changes.push(format!(
                    "the fixed ARN is also mapped at line {other}: this later entry wins over it"
                ));
            }
            seen.push((k, e.line));
        }
        let yaml = entry_text(section, &e);
        // Keep only entries that lint without errors on their own.
        let probe = AwsAuthDocument::from_data("salvage", [(key.to_string(), yaml.clone())]);
        let a = super::analyze(&probe, &ClusterFacts::default());
        if let Some(f) = a.findings.iter().find(|f| f.severity == Severity::Error) {
            cx.lost(key, e.line, format!("{}: {}", describe(&e), f.message));
            continue;
        }
        for c in &e.changes {
            cx.changed(key, e.line, format!("{}: {c}", describe(&e)));
        }
        let i = cx.item(key, e.line, describe(&e));
        cx.report.recovered.push(i);
        out.push_str(&yaml);
    }
    Some(out)
}

fn describe(e: &Entry) -> String {
    let who = if e.arn.is_empty() {
        e.sso
            .as_ref()
            .map(|s| format!("sso {}/{}", s.account_id, s.permission_set_name))
            .unwrap_or_default()
    } else {
        e.arn.clone()
    };
    if e.username.is_empty() {
        who
    } else {
        format!("{who} as {}", e.username)
    }
}

fn entry_text(section: Section, e: &Entry) -> String {
    let mut out = String::new();
    match (&e.sso, section) {
        (Some(sso), Section::MapRoles) if e.arn.is_empty() => {
            out.push_str("- sso:\n");
            out.push_str(&format!(
                "    permissionSetName: {}\n    accountID: {}\n",
                scalar(&sso.permission_set_name),
                scalar(&sso.account_id)
            ));
            if !sso.partition.is_empty() {
                out.push_str(&format!("    partition: {}\n", scalar(&sso.partition)));
            }
        }
        (_, Section::MapRoles) => out.push_str(&format!("- rolearn: {}\n", scalar(&e.arn))),
        _ => out.push_str(&format!("- userarn: {}\n", scalar(&e.arn))),
    }
    if !e.username.is_empty() {
        out.push_str(&format!("  username: {}\n", scalar(&e.username)));
    }
    if !e.groups.is_empty() {
        out.push_str("  groups:\n");
        for g in &e.groups {
            out.push_str(&format!("    - {}\n", scalar(g)));
        }
    }
    out
}

/// What [`finish`] decided for an entry.
enum Finish {
    Keep,
    /// Dropped, already reported.
    Drop,
    /// The entry never matched anybody and salvage may not make it match: left out, with why.
    NeverMatched(String),
}

/// Fix what the file says was meant, never who an entry is for (unless named in
/// `--salvage-fix-arns`).
fn finish(cx: &mut Ctx<'_>, section: Section, e: &mut Entry) -> Finish {
    let key = section.key();
    if e.arn.is_empty() && e.sso.is_none() {
        cx.lost(
            key,
            e.line,
            format!(
                "entry without {}",
                if section == Section::MapRoles {
                    "rolearn"
                } else {
                    "userarn"
                }
            ),
        );
        return Finish::Drop;
    }
    if e.arn.is_empty() {
        return Finish::Keep;
    }
    let trimmed = e.arn.trim().to_string();
    if trimmed != e.arn {
        if cx.opts.verbatim {
            return Finish::Drop;
        }
        e.changes.push("whitespace around the ARN removed".into());
        e.arn = trimmed;
    }
    match principal::classify(&e.arn) {
        ArnShape::Role { path, .. } if !path.is_empty() => {
            let Some(c) = principal::canonical_role_arn(&e.arn) else {
                return Finish::Keep;
            };
            if cx.opts.allows_fix(&e.arn) {
                cx.fixes_used.push(e.arn.to_ascii_lowercase());
                e.changes.push(format!(
                    "path {path}/ removed from the role ARN as asked (--salvage-fix-arns): it never matched, now it maps {c}"
                ));
                e.arn = c;
                Finish::Keep
            } else {
                Finish::NeverMatched(format!(
                    "a role ARN with a path never matched anybody, and salvage does not make it match on its own; \
                     to map {c} with these groups, pass --salvage-fix-arns {} (the access it grants is shown before anything is written)",
                    e.arn
                ))
            }
        }
        ArnShape::AssumedRole { .. } if section == Section::MapRoles => {
            let role = principal::canonical_role_arn(&e.arn).unwrap_or_default();
            Finish::NeverMatched(format!(
                "an assumed-role session ARN never matched anybody; salvage does not map its role {role} instead \
                 (that would give these groups to every session of the role). Map the role yourself if that is meant"
            ))
        }
        _ => Finish::Keep,
    }
}

fn from_load(cx: &mut Ctx<'_>, load: &SectionLoad, data_key: &str) -> Vec<Entry> {
    let key = load.section.key();
    let mut out = Vec::new();
    for raw in &load.entries {
        let line = cx.doc.locate(data_key, raw.pos).line;
        if !raw.is_object {
            cx.lost(
                key,
                line,
                format!("item {} is a {}, not an entry", raw.index + 1, raw.found),
            );
            continue;
        }
        let d = &raw.decoded;
        let mut e = Entry {
            arn: if load.section == Section::MapRoles {
                d.rolearn.clone()
            } else {
                d.userarn.clone()
            },
            username: d.username.clone(),
            groups: d.groups.clone().unwrap_or_default(),
            sso: d.sso.clone(),
            line,
            changes: Vec::new(),
        };
        for t in &raw.type_errors {
            let Some(rawtext) = &t.raw else { continue };
            match (t.field, t.item) {
                (Field::Username, _) => {
                    e.username = rawtext.clone();
                    e.changes.push(format!(
                        "username {rawtext} was read as a {}: now the string \"{rawtext}\"",
                        t.found
                    ));
                }
                (Field::Groups, None) => {
                    e.groups = vec![rawtext.clone()];
                    e.changes.push(format!(
                        "groups was the single string {rawtext:?}: now a list"
                    ));
                }
                (Field::Groups, Some(i)) => {
                    if let Some(g) = e.groups.get_mut(i) {
                        *g = rawtext.clone();
                        e.changes.push(format!(
                            "group {rawtext} was read as a {}: now a string",
                            t.found
                        ));
                    }
                }
                (Field::RoleArn | Field::UserArn, _) => {
                    e.arn = rawtext.clone();
                }
                _ => {}
            }
        }
        if raw.invalid.is_some() {
            // Dropped by the authenticator: recover only when a near-miss key holds the ARN.
            let arn_field = if load.section == Section::MapRoles {
                "rolearn"
            } else {
                "userarn"
            };
            let renamed = raw.keys.iter().find(|k| {
                k.field.is_none()
                    && matches!(
                        k.key
                            .chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .collect::<String>()
                            .to_ascii_lowercase()
                            .as_str(),
                        "rolearn" | "userarn" | "arn" | "iamarn"
                    )
            });
            match (renamed, e.sso.is_some(), e.arn.is_empty()) {
                (Some(k), false, true) if !cx.opts.verbatim => {
                    let value = k.raw.clone().unwrap_or_default();
                    if value.is_empty() {
                        cx.lost(
                            key,
                            line,
                            format!(
                                "entry {} was dropped by the authenticator: {}",
                                raw.index + 1,
                                raw.invalid.clone().unwrap_or_default()
                            ),
                        );
                        continue;
                    }
                    e.arn = value;
                    e.changes.push(format!(
                        "key {:?} renamed to {arn_field} (the authenticator dropped this entry)",
                        k.key
                    ));
                }
                _ => {
                    cx.lost(
                        key,
                        line,
                        format!(
                            "entry {} was dropped by the authenticator: {}",
                            raw.index + 1,
                            raw.invalid.clone().unwrap_or_default()
                        ),
                    );
                    continue;
                }
            }
        }
        out.push(e);
    }
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        if v.starts_with('"')
            && let Ok(s) = serde_json::from_str::<String>(v)
        {
            return s;
        }
        return v[1..v.len() - 1].replace("''", "'");
    }
    // An unquoted value ends at a comment.
    match v.find(" #") {
        Some(i) => v[..i].trim_end().to_string(),
        None => v.to_string(),
    }
}

/// `key: value` with a YAML-ish key; ARNs in the value may contain `:`.
fn split_key(s: &str) -> Option<(&str, &str)> {
    let idx = s
        .char_indices()
        .find(|(i, c)| *c == ':' && (s[i + 1..].is_empty() || s[i + 1..].starts_with([' ', '\t'])))
        .map(|(i, _)| i)?;
    let key = s[..idx].trim().trim_matches(['"', '\'']);
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then(|| (key, s[idx + 1..].trim()))
}

fn loose_accounts(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim_matches([' ', '\t']);
        if let Some(v) = t.strip_prefix('-') {
            let v = unquote(v);
            if !v.is_empty() {
                out.push((v, i + 1));
            }
        }
    }
    out
}

/// Re-read a broken section line by line.
fn loose_entries(cx: &mut Ctx<'_>, section: Section, data_key: &str, text: &str) -> Vec<Entry> {
    let key = section.key();
    let fields: &[Field] = if section == Section::MapRoles {
        &[Field::RoleArn, Field::Username, Field::Groups]
    } else {
        &[Field::UserArn, Field::Username, Field::Groups]
    };
    let loc = |cx: &Ctx<'_>, line: usize| {
        cx.doc
            .locate(
                data_key,
                super::yaml::Pos {
                    line,
                    column: 1,
                    offset: 0,
                },
            )
            .line
    };
    let mut entries: Vec<Entry> = Vec::new();
    let mut last_field: Option<Field> = None;
    let mut saw_groups_list = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim_matches([' ', '\t']).trim_end_matches('\r');
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (dash, rest) = if t == "-" {
            (true, "")
        } else if let Some(r) = t.strip_prefix("- ").or_else(|| t.strip_prefix("-\t")) {
            (true, r.trim_matches([' ', '\t']))
        } else {
            (false, t)
        };
        let kv = split_key(rest);
        if dash
            && kv.is_none()
            && !rest.is_empty()
            && last_field == Some(Field::Groups)
            && saw_groups_list
        {
            if let Some(e) = entries.last_mut() {
                e.groups.push(unquote(rest));
            }
            continue;
        }
        if dash {
            let line = loc(cx, n);
            entries.push(Entry {
                line,
                ..Entry::default()
            });
            last_field = None;
            saw_groups_list = false;
            if rest.is_empty() {
                continue;
            }
        }
        let Some((k, v)) = kv else {
            let line = loc(cx, n);
            cx.lost(key, line, format!("line not understood: {}", t.trim()));
            continue;
        };
        if entries.is_empty() {
            let line = loc(cx, n);
            entries.push(Entry {
                line,
                ..Entry::default()
            });
            if let Some(e) = entries.last_mut() {
                e.changes.push("the entry had no leading `- `".into());
            }
        }
        let field = fields
            .iter()
            .find(|f| go_fold_eq(f.json_name(), k))
            .copied()
            .or_else(|| {
                let norm: String = k
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                match norm.as_str() {
                    "rolearn" | "arn" if section == Section::MapRoles => Some(Field::RoleArn),
                    "userarn" | "arn" if section == Section::MapUsers => Some(Field::UserArn),
                    "group" | "groups" => Some(Field::Groups),
                    "username" => Some(Field::Username),
                    _ => None,
                }
            });
        let Some(e) = entries.last_mut() else {
            continue;
        };
        let Some(field) = field else {
            e.changes.push(format!("unknown key {k:?} left out"));
            last_field = None;
            continue;
        };
        if !go_fold_eq(field.json_name(), k) {
            if cx.opts.verbatim && matches!(field, Field::RoleArn | Field::UserArn) {
                e.changes.push(format!("unknown key {k:?} left out"));
                last_field = None;
                continue;
            }
            e.changes
                .push(format!("key {k:?} read as {}", field.json_name()));
        }
        last_field = Some(field);
        match field {
            Field::RoleArn | Field::UserArn => e.arn = unquote(v),
            Field::Username => e.username = unquote(v),
            Field::Groups => {
                let v = v.trim();
                if v.is_empty() {
                    saw_groups_list = true;
                    e.groups.clear();
                } else if v.starts_with('[') && v.ends_with(']') {
                    e.groups = v[1..v.len() - 1]
                        .split(',')
                        .map(unquote)
                        .filter(|g| !g.is_empty())
                        .collect();
                } else {
                    e.groups = vec![unquote(v)];
                    e.changes
                        .push("groups was a single string: now a list".into());
                }
            }
            _ => {}
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEWER_WORLD: &str = "- rolearn: arn:aws:iam::123456789012:role/viewer\n  username: viewer\n  groups:\n    - view-only\n- rolearn: arn:aws:sts::123456789012:assumed-role/viewer/alice\n  username: alice\n  groups:\n    - system:masters\n";

    fn roles_of(s: &Salvaged) -> Vec<(String, Vec<String>)> {
        let doc = crate::awsauth::read_document("out", s.manifest.as_bytes()).unwrap();
        let a = crate::awsauth::analyze(&doc, &ClusterFacts::default());
        a.effective
            .active_roles()
            .map(|r| (r.arn.clone(), r.groups.clone()))
            .collect()
    }

    #[test]
    fn the_verbatim_reading_renames_no_key_and_trims_no_arn() {
        let roles = "- rolearn: arn:aws:iam::123456789012:role/viewer\n  username: v\n  groups: [view-only]\n- userarn: arn:aws:iam::123456789012:role/viewer\n  username: a\n  groups: [system:masters]\n- rolearn: \" arn:aws:iam::123456789012:role/viewer\"\n  username: a\n  groups: [system:masters]\n";
        let users = "- userarn: arn:aws:iam::123456789012:user/x\n  username: x\n  groups: [system:masters]\n";
        let doc = AwsAuthDocument::from_data("t", [("mapRoles", roles), ("map_users", users)]);
        // The repairing salvage revives all three (what the access diff must call NEW).
        let repaired = salvage(&doc, true);
        let r = roles_of(&repaired);
        assert_eq!(
            r.last().map(|(_, g)| g.clone()),
            Some(vec!["system:masters".to_string()]),
            "{r:?}"
        );
        assert!(repaired.manifest.contains("mapUsers"));
        // The verbatim reading keeps only what the authenticator would load as written.
        let v = salvage_verbatim(&doc);
        let r = roles_of(&v);
        assert_eq!(
            r,
            vec![(
                "arn:aws:iam::123456789012:role/viewer".to_string(),
                vec!["view-only".to_string()]
            )]
        );
        assert!(!v.manifest.contains("mapUsers"), "{}", v.manifest);
    }

    #[test]
    fn a_session_entry_is_never_merged_into_its_role() {
        let doc = AwsAuthDocument::from_data("t", [("mapRoles", VIEWER_WORLD)]);
        for fix in [
            vec![],
            vec!["arn:aws:sts::123456789012:assumed-role/viewer/alice".to_string()],
        ] {
            let s = salvage_with(
                &doc,
                &SalvageOptions {
                    clean: true,
                    fix_arns: fix,
                    verbatim: false,
                },
            );
            assert_eq!(
                roles_of(&s),
                vec![(
                    "arn:aws:iam::123456789012:role/viewer".to_string(),
                    vec!["view-only".to_string()]
                )],
                "{}",
                s.manifest
            );
            assert!(
                s.report
                    .lost
                    .iter()
                    .any(|l| l.message.contains("every session of the role")),
                "{:?}",
                s.report
            );
        }
    }

    #[test]
    fn a_role_arn_with_a_path_is_fixed_only_when_named() {
        let text = "- rolearn: arn:aws:iam::123456789012:role/ops\n  username: ops\n  groups: [view]\n- rolearn: arn:aws:iam::123456789012:role/team/ops\n  username: ops\n  groups: [system:masters]\n";
        let doc = AwsAuthDocument::from_data("t", [("mapRoles", text)]);
        let s = salvage(&doc, true);
        assert_eq!(
            roles_of(&s),
            vec![(
                "arn:aws:iam::123456789012:role/ops".to_string(),
                vec!["view".to_string()]
            )]
        );
        assert!(
            s.report.lost[0]
                .message
                .contains("--salvage-fix-arns arn:aws:iam::123456789012:role/team/ops"),
            "{:?}",
            s.report.lost
        );
        let fixed = salvage_with(
            &doc,
            &SalvageOptions {
                clean: true,
                fix_arns: vec![
                    "ARN:AWS:IAM::123456789012:ROLE/TEAM/OPS".into(),
                    "arn:aws:iam::1:role/x/y".into(),
                ],
                verbatim: false,
            },
        );
        assert_eq!(
            roles_of(&fixed),
            vec![(
                "arn:aws:iam::123456789012:role/ops".to_string(),
                vec!["system:masters".to_string()]
            )],
            "the fixed entry comes last and wins"
        );
        assert!(
            fixed
                .report
                .changed
                .iter()
                .any(|c| c.message.contains("this later entry wins")),
            "{:?}",
            fixed.report.changed
        );
        assert_eq!(
            fixed.report.unused_fixes,
            vec!["arn:aws:iam::1:role/x/y".to_string()]
        );
    }
}
