//! Lint rules: every way an aws-auth can differ from what its author meant, pointed at the line
//! and column of the original file, with a one-line fix.
//!
//! Codes are stable (documented in [`RULES`]); messages may improve. Errors mean "someone or
//! something loses access, or never had the access written down"; warnings mean "works today
//! but by accident, or not as written"; infos are style.

use super::effective::EC2_DNS_TEMPLATE;
use super::model::{EffectiveMapping, Mark, NeverReason, Section, SectionState};
use super::parse::{Field, SectionLoad};
use super::principal::{self, ArnShape};
use super::source::{AwsAuthDocument, DataValue};
use super::yaml::Pos;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One problem, located in the original file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    /// The data key concerned (`mapRoles`, a near-miss key, …), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub line: usize,
    pub column: usize,
    /// Byte offset in the original file.
    pub offset: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A rule of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub name: &'static str,
    pub summary: &'static str,
}

macro_rules! rules {
    ($($code:literal $sev:ident $name:literal $summary:literal;)*) => {
        /// The rule catalogue.
        pub const RULES: &[Rule] = &[$(Rule { code: $code, severity: Severity::$sev, name: $name, summary: $summary }),*];
    };
}

rules! {
    "AA001" Error "section-lost" "a mapRoles/mapUsers/mapAccounts value is not valid YAML (or cannot become JSON): every entry of that section is lost";
    "AA002" Error "tab-indentation" "a tab where go-yaml v2 (libyaml's scanner) refuses it: in indentation, where a token may start (line start, right after `- ` or `? `) or at the start of a line after a lone CR; a tab after `key:` or inside a value is accepted. The section is lost";
    "AA003" Error "unquoted-template" "an unquoted {{...}} template starts a YAML flow mapping (`invalid map key`); the section is lost";
    "AA004" Error "section-not-a-list" "the section is valid YAML but not a list: zero entries";
    "AA005" Error "entry-dropped" "an entry fails the authenticator's validation (no rolearn/sso, both, empty userarn, bad sso fields, not a mapping) and is dropped";
    "AA006" Error "field-ignored" "a field has the wrong type (yes/no/on/off are booleans, 123 a number, groups a scalar): it is left empty, the entry is kept";
    "AA007" Warning "unknown-key" "an entry key the authenticator does not know (role_arn, arn, group): ignored";
    "AA008" Error "role-arn-path" "a role ARN with a path never matches: STS identities are compared without the path";
    "AA009" Error "sso-role-path" "an IAM Identity Center role written with its aws-reserved/sso.amazonaws.com/ path never matches";
    "AA010" Error "assumed-role-arn" "an STS assumed-role (session) ARN never matches: map the role ARN";
    "AA011" Error "malformed-arn" "the ARN can never equal a caller's canonical ARN (syntax, account, service, resource type)";
    "AA012" Error "wildcard-arn" "`*` or `?` in an ARN: the authenticator compares literally, so it never matches";
    "AA013" Warning "ec2-template-outside-node-role" "{{EC2PrivateDNSName}} in a role that is not a node role: login fails unless the session name is an EC2 instance id";
    "AA014" Error "ec2-template-in-user" "{{EC2PrivateDNSName}} in a user mapping: IAM users have no instance session, every login of that user fails";
    "AA015" Warning "duplicate-role" "the same role ARN (case-insensitively) appears again: the last entry wins, this one is ignored";
    "AA016" Warning "duplicate-user" "the same user ARN appears again: the last entry wins, this one is ignored";
    "AA017" Warning "case-variant-users" "user ARNs that differ only in case: which mapping applies is random";
    "AA018" Warning "near-miss-data-key" "a data key like maproles/MapRoles/mapRole: the authenticator only reads mapRoles, mapUsers, mapAccounts";
    "AA019" Info "non-canonical-key" "an entry key in another case (RoleArn): accepted, but write it as the authenticator documents it";
    "AA020" Warning "unquoted-account-id" "an unquoted account id in mapAccounts: go-yaml v2 keeps the text so it loads, but YAML/JSON tools read it as a number";
    "AA021" Error "bad-account-id" "a mapAccounts item that is not a 12-digit account id never matches";
    "AA022" Error "node-role-missing" "a known node group or Fargate role has no effective mapRoles entry: its nodes cannot join";
    "AA023" Warning "node-role-incomplete" "a node or Fargate role mapping lacks the username or groups EKS needs";
    "AA024" Error "data-not-string" "a data value is a list, mapping, number or boolean: the Kubernetes API refuses the ConfigMap";
    "AA025" Info "empty-section" "a section is present but empty (\"\", '', two backquotes): treated as absent";
    "AA026" Warning "sso-matcher" "an sso: matcher entry: the authenticator's SSO matching is feature-gated off by default (uncertain on EKS)";
    "AA027" Warning "arn-in-wrong-section" "a user ARN in mapRoles or a role ARN in mapUsers: it matches, but belongs in the other section";
    "AA028" Warning "extra-document" "the authenticator (go-yaml v2) stops reading the value early: a `---` or `%` directive starts a second document, or content follows the first document's complete root node; everything after it is ignored";
    "AA029" Warning "duplicate-entry-key" "a key is given twice in one entry (or in two spellings): the values are applied in order, usually the later wins";
    "AA030" Warning "unknown-placeholder" "a {{...}} placeholder the authenticator does not know stays literal";
    "AA031" Warning "empty-username" "an entry without a username";
    "AA032" Warning "wrong-namespace" "the ConfigMap is not in kube-system";
    "AA033" Info "eksctl-mapping-skipped" "an eksctl identity mapping that is not an aws-auth entry";
    "AA034" Warning "account-item-not-scalar" "a mapAccounts item that is a list or mapping is skipped";
    "AA035" Info "userid-ignored" "userid is only used by the authenticator's DynamicFile backend, not by aws-auth";
    "AA036" Warning "folded-plain-scalar" "an unquoted value continued on the next line, or holding ` - `: YAML folds it into one value (`- system:masters` then ` - ledger-ops` one space deeper is the single group \"system:masters - ledger-ops\"), where a list item or a key was meant";
}

pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// What kind of node a known node role serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRoleKind {
    Ec2Linux,
    Ec2Windows,
    Fargate,
}

/// A role EKS expects in aws-auth (node group instance role, Fargate pod execution role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NodeRoleFact {
    pub arn: String,
    pub kind: NodeRoleKind,
    /// Node group or Fargate profile name, for messages.
    #[serde(default)]
    pub source: String,
}

/// Facts about the cluster that sharpen the lint (optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClusterFacts {
    pub node_roles: Vec<NodeRoleFact>,
}

const KNOWN_PLACEHOLDERS: &[&str] = &[
    "AccountID",
    "SessionName",
    "SessionNameRaw",
    "AccessKeyID",
    "EC2PrivateDNSName",
];

const NEAR_MISS_KEYS: &[(&str, &str)] = &[
    ("maproles", "mapRoles"),
    ("mapusers", "mapUsers"),
    ("mapaccounts", "mapAccounts"),
    ("maprole", "mapRoles"),
    ("mapuser", "mapUsers"),
    ("mapaccount", "mapAccounts"),
];

fn near_miss_data_key(key: &str) -> Option<&'static str> {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    if Section::from_key(key).is_some() {
        return None;
    }
    NEAR_MISS_KEYS
        .iter()
        .find(|(n, _)| *n == norm)
        .map(|(_, k)| *k)
}

/// Entry keys that mean a known field but are spelled differently than Go can match.
fn near_miss_entry_key(section: Section, key: &str) -> Option<&'static str> {
    let norm: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let arn_field = if section == Section::MapRoles {
        "rolearn"
    } else {
        "userarn"
    };
    match norm.as_str() {
        "rolearn" | "rolearns" | "role" => Some("rolearn"),
        "userarn" | "userarns" | "user" => Some("userarn"),
        "arn" | "iamarn" => Some(arn_field),
        "group" | "groups" | "groupname" | "groupnames" | "k8sgroups" => Some("groups"),
        "username" | "user_name" | "name" | "k8susername" => Some("username"),
        _ => None,
    }
}

/// Split `{{...}}` placeholders out of a template.
fn placeholders(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        out.push(&after[..j]);
        rest = &after[j + 2..];
    }
    out
}

struct Ctx<'a> {
    doc: &'a AwsAuthDocument,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        code: &'static str,
        section: Option<&str>,
        pos: Pos,
        message: String,
        fix: Option<String>,
    ) {
        let severity = rule(code).map(|r| r.severity).unwrap_or(Severity::Error);
        self.out.push(Finding {
            code,
            severity,
            section: section.map(str::to_string),
            line: pos.line.max(1),
            column: pos.column.max(1),
            offset: pos.offset,
            message,
            fix,
        });
    }

    /// Push with a position inside a data value; adds "value line N" when the file position is
    /// only the start of a quoted value.
    fn at(
        &mut self,
        code: &'static str,
        key: &str,
        inner: Pos,
        message: String,
        fix: Option<String>,
    ) {
        let pos = self.doc.locate(key, inner);
        let message = if self.doc.is_exact(key) || self.doc.text.is_empty() {
            message
        } else {
            format!("{message} (line {} of the {key} value)", inner.line)
        };
        self.push(code, Some(key), pos, message, fix);
    }
}

/// Lint a loaded aws-auth.
pub fn lint(
    doc: &AwsAuthDocument,
    loads: &[SectionLoad],
    effective: &EffectiveMapping,
    facts: &ClusterFacts,
) -> Vec<Finding> {
    let mut cx = Ctx {
        doc,
        out: Vec::new(),
    };
    for note in &doc.notes {
        cx.push(
            note.code,
            None,
            note.pos,
            note.message.clone(),
            note.fix.clone(),
        );
    }
    data_keys(&mut cx);
    for load in loads {
        section(&mut cx, load);
    }
    mapping_rules(&mut cx, effective);
    node_roles(&mut cx, loads, effective, facts);
    cx.out
        .sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    cx.out.dedup();
    cx.out
}

fn data_keys(cx: &mut Ctx<'_>) {
    let doc = cx.doc;
    for entry in &doc.data {
        if let DataValue::NotString { found } = &entry.value {
            cx.push(
                "AA024",
                Some(&entry.key),
                entry.value_pos,
                format!(
                    "data.{} is {}, not a string: the Kubernetes API refuses this ConfigMap",
                    entry.key,
                    article(found)
                ),
                Some(format!(
                    "write it as a string block: `{}: |` followed by the indented YAML",
                    entry.key
                )),
            );
        }
        if let Some(real) = near_miss_data_key(&entry.key) {
            let present = doc.entry(real).is_some();
            cx.push(
                "AA018",
                Some(&entry.key),
                entry.key_pos,
                format!(
                    "data key {:?} is ignored: the authenticator reads only {real} (case-sensitive){}",
                    entry.key,
                    if present {
                        ""
                    } else {
                        ", so these mappings do not exist"
                    }
                ),
                Some(format!("rename the key to {real}")),
            );
        }
    }
}

/// Entries a lost section appears to hold: `- key: value` lines (or `- "account"` items).
fn count_entries_estimate(section: Section, text: &str) -> usize {
    text.lines()
        .filter(|l| {
            let t = l.trim_start_matches([' ', '\t']);
            let Some(rest) = t.strip_prefix('-') else {
                return false;
            };
            if section == Section::MapAccounts {
                return !rest.trim().is_empty();
            }
            let rest = rest.trim_start_matches([' ', '\t']);
            if rest.is_empty() {
                return true;
            }
            let key_end = rest
                .char_indices()
                .find(|(i, c)| {
                    *c == ':' && matches!(rest[i + 1..].chars().next(), None | Some(' ' | '\t'))
                })
                .map(|(i, _)| i);
            key_end.is_some_and(|k| {
                k > 0
                    && rest[..k]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-\"'".contains(c))
            })
        })
        .count()
}

/// Whether the text of a lost mapRoles held node roles (the groups or username EKS gives
/// nodes and Fargate pods): only then do nodes go NotReady, and only then is it said.
fn holds_node_roles(text: &str) -> bool {
    ["system:nodes", "system:node:", "system:node-proxier"]
        .iter()
        .any(|m| text.contains(m))
}

fn section(cx: &mut Ctx<'_>, load: &SectionLoad) {
    let key = load.section.key();
    let Some(entry) = cx.doc.section_entry(load.section) else {
        return;
    };
    let DataValue::Text(text) = &entry.value else {
        return;
    };
    if load.state == SectionState::Absent {
        if !text.is_empty() {
            cx.push(
                "AA025",
                Some(key),
                entry.value_pos,
                format!("{key} is empty ({:?}); treated as absent", text.trim()),
                None,
            );
        }
        return;
    }
    if let Some(err) = &load.error {
        let estimate = count_entries_estimate(load.section, text);
        let what = match (load.section, estimate) {
            (Section::MapAccounts, 1) => "account",
            (Section::MapAccounts, _) => "accounts",
            (_, 1) => "entry",
            _ => "entries",
        };
        let nodes = if load.section == Section::MapRoles && holds_node_roles(text) {
            " (node roles included: nodes go NotReady)"
        } else {
            ""
        };
        let kind = if err.json {
            "starts with `{` so it is read as JSON, and is not valid JSON"
        } else {
            "is not valid YAML"
        };
        cx.at(
            "AA001",
            key,
            err.pos,
            format!(
                "{key} {kind} ({}): the authenticator loads none of its {estimate} {what}{nodes}",
                err.message,
            ),
            Some(
                "fix the YAML at this position, or run `eks-breakglass aws-auth salvage` to recover the entries"
                    .into(),
            ),
        );
        tabs(cx, key, text);
        if err.message.contains("invalid map key") {
            unquoted_template(cx, key, text, err.pos);
        }
    }
    if let Some((pos, found)) = load.not_list {
        cx.at(
            "AA004",
            key,
            pos,
            format!(
                "{key} is {}, not a list: zero entries are loaded",
                article(found)
            ),
            Some(format!(
                "write {key} as a YAML list of entries, each starting with `- `"
            )),
        );
    }
    if let Some(pos) = load.extra_document {
        cx.at(
            "AA028",
            key,
            pos,
            format!(
                "{key}: go-yaml stops reading here (a second document, or text after the complete first one): everything from here on is ignored"
            ),
            Some("remove it, or indent it into the list it belongs to".into()),
        );
    }
    if let Some(root) = &load.root {
        folded_scalars(cx, key, text, root);
    }
    if load.section == Section::MapAccounts {
        accounts(cx, load);
    } else {
        entries(cx, load);
    }
}

/// AA036: a plain scalar that YAML folded from several lines, or that holds ` - ` — the shape
/// of a list item or key that lost its place (a mis-indented `- item`, a `key: value` indented
/// too deep). It loads, as one value nobody meant.
fn folded_scalars(cx: &mut Ctx<'_>, key: &str, text: &str, node: &super::yaml::Node) {
    use super::yaml::{NodeKind, Style};
    match &node.kind {
        NodeKind::Seq(items) => {
            for i in items.iter().filter(|i| !i.alias) {
                folded_scalars(cx, key, text, i);
            }
        }
        NodeKind::Map(pairs) => {
            for (k, v) in pairs.iter().filter(|(k, v)| !k.alias && !v.alias) {
                folded_scalars(cx, key, text, k);
                folded_scalars(cx, key, text, v);
            }
        }
        NodeKind::Scalar { value, style } => {
            if *style != Style::Plain || node.alias {
                return;
            }
            let Some(rest) = text.get(node.pos.offset..) else {
                return;
            };
            let first_line = rest.split(['\n', '\r']).next().unwrap_or("").trim_end();
            let spans_lines = !first_line.is_empty()
                && value.len() > first_line.len()
                && value.starts_with(first_line);
            if spans_lines {
                let next_start = node.pos.offset + rest.find(['\n', '\r']).unwrap_or(0);
                let next_text = text[next_start..].trim_start_matches(['\n', '\r']);
                let next_off = text.len() - next_text.len();
                let cont = next_text
                    .split(['\n', '\r'])
                    .next()
                    .unwrap_or("")
                    .trim_start_matches([' ', '\t']);
                let at = super::parse::pos_at(text, next_off + next_text.find(cont).unwrap_or(0));
                let fix = if let Some(item) = cont.strip_prefix("- ") {
                    format!(
                        "if {item:?} is a list item of its own, indent `- {item}` exactly like the item above it"
                    )
                } else if cont.contains(": ") {
                    "if this line is a key of the entry, indent it exactly like the keys above it"
                        .to_string()
                } else {
                    "put the whole value on one line, quoted".to_string()
                };
                cx.at(
                    "AA036",
                    key,
                    at,
                    format!(
                        "this line continues the value above (YAML folds the lines): the authenticator reads the single value {value:?}"
                    ),
                    Some(fix),
                );
            } else if value.contains(" - ") {
                cx.at(
                    "AA036",
                    key,
                    node.pos,
                    format!("the value {value:?} holds ` - `: it is one value, not a list"),
                    Some("if these are list items, put each `- item` on its own line".into()),
                );
            }
        }
    }
}

fn article(word: &str) -> String {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

fn tabs(cx: &mut Ctx<'_>, key: &str, text: &str) {
    if let Some(e) = super::libyaml::scan(text).error
        && text
            .get(e.pos.offset..)
            .is_some_and(|t| t.starts_with('\t'))
    {
        let why = match e.message {
            super::libyaml::TAB_VIOLATES_INDENTATION => {
                "a tab in the indentation of a continuation line"
            }
            super::libyaml::TAB_IN_BLOCK_INDENTATION => {
                "a tab in the indentation of a block scalar"
            }
            _ => {
                "a tab where a token may start (line start, after `- `, `? ` or a complex key's `:`)"
            }
        };
        // A lone CR right before the tab: go-yaml broke the line there.
        let after_cr = text.as_bytes().get(e.pos.offset.wrapping_sub(1)) == Some(&b'\r');
        let (why, fix) = if after_cr {
            (
                "a tab right after a stray carriage return (`\\r` is a line break to go-yaml, so the tab starts a new line)",
                "remove the stray `\\r` and the tab (save the file with one kind of line ending)",
            )
        } else {
            (
                why,
                "replace the tab with spaces, aligned with the sibling keys",
            )
        };
        cx.at(
            "AA002",
            key,
            e.pos,
            format!("{why}: go-yaml v2 stops with \"{}\"", e.message),
            Some(fix.into()),
        );
    }
}

fn unquoted_template(cx: &mut Ctx<'_>, key: &str, text: &str, err: Pos) {
    let Some(line) = text.lines().nth(err.line.saturating_sub(1)) else {
        return;
    };
    let Some(col) = line.find("{{") else {
        return;
    };
    let (field, value) = match line[..col].trim_end().strip_suffix(':') {
        Some(f) => (
            f.trim_start_matches([' ', '-']).trim().to_string(),
            line[col..].trim_end(),
        ),
        None => (String::new(), line[col..].trim_end()),
    };
    let inner = Pos {
        line: err.line,
        column: line[..col].chars().count() + 1,
        offset: 0,
    };
    let fix = if field.is_empty() {
        format!("quote it: \"{value}\"")
    } else {
        format!("quote it: {field}: \"{value}\"")
    };
    cx.at(
        "AA003",
        key,
        inner,
        format!("unquoted template {value}: YAML reads `{{{{` as a nested flow mapping"),
        Some(fix),
    );
}

fn accounts(cx: &mut Ctx<'_>, load: &SectionLoad) {
    let key = load.section.key();
    for a in &load.accounts {
        let valid = a.value.len() == 12 && a.value.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            cx.at(
                "AA021",
                key,
                a.pos,
                format!(
                    "mapAccounts item {:?} is not a 12-digit account id: it never matches",
                    a.value
                ),
                Some("write the 12-digit account id, quoted: - \"111122223333\"".into()),
            );
        } else if a.style == super::yaml::Style::Plain && a.resolved != "str" {
            cx.at(
                "AA020",
                key,
                a.pos,
                format!(
                    "account id {} is unquoted: YAML 1.1 reads it as a {}; the authenticator keeps the text, other tools may not",
                    a.value,
                    if a.resolved == "int" { "number" } else { a.resolved }
                ),
                Some(format!("quote it: - \"{}\"", a.value)),
            );
        }
    }
    for (pos, found) in &load.skipped_accounts {
        cx.at(
            "AA034",
            key,
            *pos,
            format!(
                "mapAccounts item is {}, not an account id: skipped",
                article(found)
            ),
            None,
        );
    }
}

fn field_name(f: Field) -> &'static str {
    f.json_name()
}

fn entries(cx: &mut Ctx<'_>, load: &SectionLoad) {
    let key = load.section.key();
    let section = load.section;
    for e in &load.entries {
        if !e.is_object {
            cx.at(
                "AA005",
                key,
                e.pos,
                format!(
                    "entry {} is {}, not a mapping: dropped",
                    e.index + 1,
                    article(e.found)
                ),
                Some("write each entry as a mapping (rolearn/userarn, username, groups)".into()),
            );
            continue;
        }
        for k in &e.keys {
            match k.field {
                None => {
                    let hint = near_miss_entry_key(section, &k.key);
                    cx.at(
                        "AA007",
                        key,
                        k.pos,
                        format!("unknown key {:?}: ignored by the authenticator", k.key),
                        hint.map(|h| format!("rename it to {h}")),
                    );
                }
                Some((f, false)) => cx.at(
                    "AA019",
                    key,
                    k.pos,
                    format!(
                        "key {:?} is read as {} (keys match case-insensitively)",
                        k.key,
                        f.json_name()
                    ),
                    Some(format!("write it as {}", f.json_name())),
                ),
                Some((Field::UserId, true)) => cx.at(
                    "AA035",
                    key,
                    k.pos,
                    "userid is not used when mappings come from aws-auth".into(),
                    None,
                ),
                _ => {}
            }
            if let Some(winner) = &k.overridden_by {
                cx.at(
                    "AA029",
                    key,
                    k.pos,
                    format!(
                        "{:?} and {winner:?} fill the same field: they are applied in order, so {winner:?} overrides it (a null leaves the earlier value, an object merges into it)",
                        k.key
                    ),
                    Some(format!("keep one of {:?} and {winner:?}", k.key)),
                );
            }
            if let Some(first) = k.replaces {
                cx.at(
                    "AA029",
                    key,
                    k.pos,
                    format!(
                        "key {:?} is given twice in this entry (first at value line {}): the later value overrides the first (a null leaves it, an object merges into it)",
                        k.key, first.line
                    ),
                    Some("remove one of them".into()),
                );
            }
        }
        for t in &e.type_errors {
            let what = match t.item {
                Some(i) => format!("groups item {}", i + 1),
                None => field_name(t.field).to_string(),
            };
            let raw = t.raw.clone().unwrap_or_default();
            let (msg, fix) = match (t.field, t.item, t.found) {
                (Field::Groups, None, "string") => (
                    format!(
                        "groups is a single string ({raw:?}), not a list: the entry gets no groups"
                    ),
                    format!(
                        "write it as a list: groups: [{}]",
                        super::render::scalar(&raw)
                    ),
                ),
                (_, _, "bool") => (
                    format!("{what} `{raw}` is a YAML 1.1 boolean, not a string: left empty"),
                    format!("quote it: \"{raw}\""),
                ),
                (_, _, "number") => (
                    format!("{what} `{raw}` is a number, not a string: left empty"),
                    format!("quote it: \"{raw}\""),
                ),
                (_, _, found) => (
                    format!("{what} is {}, not a string: left empty", article(found)),
                    format!("write {what} as a quoted string"),
                ),
            };
            cx.at("AA006", key, t.pos, msg, Some(fix));
        }
        if let Some(reason) = &e.invalid {
            let hint = e
                .keys
                .iter()
                .find_map(|k| {
                    if k.field.is_none() {
                        near_miss_entry_key(section, &k.key)
                            .filter(|h| *h == "rolearn" || *h == "userarn")
                            .map(|h| format!("rename {:?} to {h}", k.key))
                    } else {
                        None
                    }
                })
                .unwrap_or_else(|| {
                    if reason.starts_with("AccountID") {
                        "write sso.accountID as a quoted 12-digit string".into()
                    } else if reason.starts_with("PermissionSetName") {
                        "use the permission set name: 1-32 letters, digits or _+=,.@-".into()
                    } else if reason.starts_with("partition") {
                        "use a known partition (aws, aws-cn, aws-us-gov, ...) or leave it out"
                            .into()
                    } else if reason.starts_with("only one") {
                        "keep either rolearn or sso, not both".into()
                    } else if section == Section::MapRoles {
                        "give the entry a rolearn".into()
                    } else {
                        "give the entry a userarn".into()
                    }
                });
            cx.at(
                "AA005",
                key,
                e.pos,
                format!(
                    "entry {} is dropped by the authenticator: {reason}",
                    e.index + 1
                ),
                Some(hint),
            );
            continue;
        }
        // Loaded entries: ARN, templates, username.
        let d = &e.decoded;
        let arn = if section == Section::MapRoles {
            &d.rolearn
        } else {
            &d.userarn
        };
        let arn_pos = d.arn_pos.unwrap_or(e.pos);
        if !arn.is_empty() {
            arn_rules(cx, section, arn, arn_pos);
        } else if d.sso.is_some() {
            cx.at(
                "AA026",
                key,
                d.sso_pos.unwrap_or(e.pos),
                "sso matcher: the authenticator's SSO role matching is feature-gated off by default (uncertain on EKS), so this entry may never match".into(),
                Some("map the role ARN arn:aws:iam::ACCOUNT:role/AWSReservedSSO_<PermissionSet>_<suffix> instead".into()),
            );
        }
        if d.username.is_empty() && !e.type_errors.iter().any(|t| t.field == Field::Username) {
            cx.at(
                "AA031",
                key,
                e.pos,
                "entry has no username: the authenticator returns an empty Kubernetes username"
                    .into(),
                Some("add username: <name> (or a template such as \"{{SessionName}}\")".into()),
            );
        }
        let mut templates: Vec<(&str, Pos)> =
            vec![(d.username.as_str(), d.username_pos.unwrap_or(e.pos))];
        for (i, g) in d.groups.iter().flatten().enumerate() {
            templates.push((g.as_str(), d.group_pos.get(i).copied().unwrap_or(e.pos)));
        }
        for (t, pos) in &templates {
            for p in placeholders(t) {
                if !KNOWN_PLACEHOLDERS.contains(&p) {
                    let close = KNOWN_PLACEHOLDERS
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(p));
                    cx.at(
                        "AA030",
                        key,
                        *pos,
                        format!("placeholder {{{{{p}}}}} is not one the authenticator knows: it stays literal"),
                        Some(match close {
                            Some(c) => format!("write {{{{{c}}}}} (placeholders are case-sensitive)"),
                            None => "use {{AccountID}}, {{SessionName}}, {{SessionNameRaw}}, {{AccessKeyID}} or {{EC2PrivateDNSName}}".into(),
                        }),
                    );
                }
            }
        }
        let has_ec2 = templates.iter().any(|(t, _)| t.contains(EC2_DNS_TEMPLATE));
        if has_ec2 {
            let pos = templates
                .iter()
                .find(|(t, _)| t.contains(EC2_DNS_TEMPLATE))
                .map(|(_, p)| *p)
                .unwrap_or(e.pos);
            if section == Section::MapUsers {
                cx.at(
                    "AA014",
                    key,
                    pos,
                    "{{EC2PrivateDNSName}} in a user mapping: IAM users have no instance session, so every login of this user fails".into(),
                    Some("use a fixed username, or {{SessionName}} in a role mapping".into()),
                );
            } else {
                let groups = d.groups.clone().unwrap_or_default();
                let node_like = groups
                    .iter()
                    .any(|g| g == "system:nodes" || g == "system:bootstrappers");
                if !node_like {
                    cx.at(
                        "AA013",
                        key,
                        pos,
                        "{{EC2PrivateDNSName}} in a role that is not mapped as a node role: every login fails unless the session name is an EC2 instance id".into(),
                        Some("use {{SessionName}} for people, keep {{EC2PrivateDNSName}} for node roles".into()),
                    );
                }
            }
        }
    }
}

fn arn_rules(cx: &mut Ctx<'_>, section: Section, arn: &str, pos: Pos) {
    let key = section.key();
    match principal::classify(arn) {
        ArnShape::Wildcard => cx.at(
            "AA012",
            key,
            pos,
            format!("{arn} contains a wildcard: ARNs are compared literally, it never matches"),
            Some("list each role ARN explicitly".into()),
        ),
        ArnShape::Malformed(why) => cx.at(
            "AA011",
            key,
            pos,
            format!("{arn:?} never matches: {why}"),
            Some(if section == Section::MapRoles {
                "write arn:aws:iam::ACCOUNT:role/NAME".into()
            } else {
                "write arn:aws:iam::ACCOUNT:user/NAME".into()
            }),
        ),
        ArnShape::AssumedRole { .. } => {
            let fixed = principal::canonical_role_arn(arn).unwrap_or_default();
            cx.at(
                "AA010",
                key,
                pos,
                format!("{arn} is an STS session ARN: callers are compared as IAM role ARNs, so it never matches"),
                Some(format!("map the role instead: {fixed}")),
            );
        }
        ArnShape::Role { path, .. } if !path.is_empty() => {
            let fixed = principal::canonical_role_arn(arn).unwrap_or_default();
            if principal::is_sso_path(&path) {
                cx.at(
                    "AA009",
                    key,
                    pos,
                    format!(
                        "IAM Identity Center role written with its path {path}/: it never matches"
                    ),
                    Some(format!("use the ARN without the path: {fixed}")),
                );
            } else {
                cx.at(
                    "AA008",
                    key,
                    pos,
                    format!("role ARN with path {path}/: callers are compared without the path, so it never matches"),
                    Some(format!("use the ARN without the path: {fixed}")),
                );
            }
        }
        ArnShape::User { .. } if section == Section::MapRoles => cx.at(
            "AA027",
            key,
            pos,
            "a user ARN in mapRoles: it matches that user, but belongs in mapUsers as userarn"
                .into(),
            Some("move the entry to mapUsers with key userarn".into()),
        ),
        ArnShape::Role { .. } if section == Section::MapUsers => cx.at(
            "AA027",
            key,
            pos,
            "a role ARN in mapUsers: it matches that role, but belongs in mapRoles as rolearn"
                .into(),
            Some("move the entry to mapRoles with key rolearn".into()),
        ),
        _ => {}
    }
}

fn mapping_rules(cx: &mut Ctx<'_>, m: &EffectiveMapping) {
    let doc = cx.doc;
    let pos_of_line = |key: &str, line: usize| -> Pos {
        // Effective entries carry file lines; point at the first non-blank column.
        let col = doc
            .line_text(line)
            .map(|t| t.chars().take_while(|c| *c == ' ' || *c == '-').count() + 1)
            .unwrap_or(1);
        let _ = key;
        Pos {
            line,
            column: col,
            offset: doc.offset_of(line, col),
        }
    };
    for r in &m.roles {
        for mark in &r.marks {
            if let Mark::ShadowedBy { line } = mark {
                let shown = if r.arn.is_empty() { &r.key } else { &r.arn };
                let p = pos_of_line("mapRoles", r.line);
                cx.push(
                    "AA015",
                    Some("mapRoles"),
                    p,
                    format!("{shown} is mapped again at line {line}: the last entry wins, this one is ignored"),
                    Some("merge the two entries into one".into()),
                );
            }
        }
    }
    for u in &m.users {
        for mark in &u.marks {
            match mark {
                Mark::ShadowedBy { line } => {
                    let p = pos_of_line("mapUsers", u.line);
                    cx.push(
                        "AA016",
                        Some("mapUsers"),
                        p,
                        format!("{} is mapped again at line {line}: the last entry wins, this one is ignored", u.arn),
                        Some("merge the two entries into one".into()),
                    );
                }
                Mark::Nondeterministic { lines } => {
                    let p = pos_of_line("mapUsers", u.line);
                    let others: Vec<String> = lines.iter().map(usize::to_string).collect();
                    cx.push(
                        "AA017",
                        Some("mapUsers"),
                        p,
                        format!(
                            "{} differs only in case from the user at line {}: which mapping applies is random",
                            u.arn,
                            others.join(", ")
                        ),
                        Some("keep one entry, spelled exactly as IAM spells the user".into()),
                    );
                }
                Mark::NeverMatches { .. } => {}
            }
        }
    }
    let _ = NeverReason::Path;
}

fn node_roles(cx: &mut Ctx<'_>, loads: &[SectionLoad], m: &EffectiveMapping, facts: &ClusterFacts) {
    if facts.node_roles.is_empty() {
        return;
    }
    let doc = cx.doc;
    let roles_lost = loads
        .iter()
        .any(|l| l.section == Section::MapRoles && l.state != SectionState::Loaded);
    let anchor = doc
        .section_entry(Section::MapRoles)
        .map(|e| e.key_pos)
        .unwrap_or(Pos {
            line: 1,
            column: 1,
            offset: 0,
        });
    for fact in &facts.node_roles {
        let canonical =
            principal::canonical_role_arn(&fact.arn).unwrap_or_else(|| fact.arn.clone());
        let lookup = canonical.to_lowercase();
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
        let label = match fact.kind {
            NodeRoleKind::Fargate => "Fargate pod execution role",
            _ => "node role",
        };
        let from = if fact.source.is_empty() {
            String::new()
        } else {
            format!(" ({})", fact.source)
        };
        let snippet = format!(
            "- rolearn: {canonical}\n  username: {username}\n  groups:\n{}",
            groups
                .iter()
                .map(|g| format!("    - {g}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let found = m
            .active_roles()
            .find(|r| r.key == lookup && r.never_matches().is_none());
        match found {
            None => {
                let why = if roles_lost {
                    "mapRoles is not loaded, so"
                } else if m.roles.iter().any(|r| {
                    principal::canonical_role_arn(&r.arn)
                        .map(|c| c.to_lowercase() == lookup)
                        .unwrap_or(false)
                }) {
                    "it is only written in a form that never matches, so"
                } else {
                    "it has no entry, so"
                };
                cx.push(
                    "AA022",
                    Some("mapRoles"),
                    anchor,
                    format!("{label} {canonical}{from} is not mapped: {why} its nodes cannot join or go NotReady"),
                    Some(format!("add to mapRoles: {}", snippet.replace('\n', " ⏎ "))),
                );
            }
            Some(r) => {
                let missing: Vec<&str> = groups
                    .iter()
                    .copied()
                    .filter(|g| !r.groups.iter().any(|x| x == g))
                    .collect();
                let username_ok = r.username == username
                    || (fact.kind == NodeRoleKind::Fargate
                        && r.username == "system:node:{{EC2PrivateDNSName}}");
                if !missing.is_empty() || !username_ok {
                    let mut what = Vec::new();
                    if !username_ok {
                        what.push(format!("username should be {username}"));
                    }
                    if !missing.is_empty() {
                        what.push(format!("groups lack {}", missing.join(", ")));
                    }
                    cx.push(
                        "AA023",
                        Some("mapRoles"),
                        Pos {
                            line: r.line,
                            column: 1,
                            offset: doc.offset_of(r.line, 1),
                        },
                        format!(
                            "{label} {canonical}{from} is mapped, but {}",
                            what.join("; ")
                        ),
                        Some(format!("use: {}", snippet.replace('\n', " ⏎ "))),
                    );
                }
            }
        }
    }
}
