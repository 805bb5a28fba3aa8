//! Canonical YAML for an aws-auth ConfigMap.
//!
//! Tools that rewrite aws-auth are a known way to lose access: they drop `mapAccounts`, unknown
//! data keys, labels or annotations (aws-cdk #8786, keikoproj/aws-auth). Rendering therefore
//! keeps everything it does not understand, rewrites only the sections it can read (as the
//! authenticator reads them: what would load, nothing else), and keeps a section it cannot read
//! byte for byte. Server-side bookkeeping (`managedFields`, `resourceVersion`, `uid`, …) is
//! dropped only for a "clean" manifest. Strings are quoted whenever YAML 1.1 would read them as
//! anything but a string, so the output means the same to go-yaml v2.

use super::model::{Section, SectionState};
use super::parse::{RawEntry, SectionLoad};
use super::source::{AwsAuthDocument, DataValue};
use super::yaml::{self, Node, NodeKind, Resolved, Style};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Drop server-side metadata (managedFields, resourceVersion, uid, creationTimestamp,
    /// generation, selfLink, the last-applied-configuration annotation).
    pub clean: bool,
}

const SERVER_FIELDS: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A string as a YAML scalar that go-yaml v2 reads back as the same string.
pub fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !matches!(yaml::resolve_plain(s), Resolved::Str) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first == ' ' {
        return false;
    }
    // Dates and times are strings to go-yaml v2 but timestamps to other YAML 1.1 readers.
    if first.is_ascii_digit() {
        return false;
    }
    if s.ends_with(' ') || s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    s.chars()
        .all(|c| !c.is_control() && c != '\u{FEFF}' && c != '\u{85}')
}

/// A multi-line string as a literal block (`|`), or `None` when only a quoted form is exact.
fn literal_block(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n') {
        return None;
    }
    if s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || c == '\u{FEFF}'
            || c == '\u{85}'
            || c == '\u{2028}'
            || c == '\u{2029}'
    }) {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    if body.is_empty() {
        return None;
    }
    for line in body.split('\n') {
        if line.ends_with(' ') || line.ends_with('\t') {
            return None;
        }
    }
    let first = body.split('\n').next().unwrap_or_default();
    if first.starts_with(' ') || first.starts_with('\t') {
        return None;
    }
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let pad = " ".repeat(indent);
    let mut out = format!("|{chomp}\n");
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&pad);
            out.push_str(line);
            out.push('\n');
        }
    }
    if trailing == 0 {
        // `|-`: the loop already wrote every line.
    }
    Some(out)
}

/// `key: value` for a string value at `indent`, choosing block or quoted form.
fn string_entry(out: &mut String, indent: usize, key: &str, value: &str) {
    let pad = " ".repeat(indent);
    match literal_block(value, indent + 2) {
        Some(block) => out.push_str(&format!("{pad}{}: {block}", scalar(key))),
        None => out.push_str(&format!("{pad}{}: {}\n", scalar(key), scalar(value))),
    }
}

fn scalar_node(n: &Node) -> String {
    match (&n.kind, yaml::resolve(n)) {
        (
            NodeKind::Scalar {
                value,
                style: Style::Plain,
            },
            Ok(r),
        ) if !matches!(r, Resolved::Str) => {
            if r == Resolved::Null {
                "null".to_string()
            } else {
                value.clone()
            }
        }
        (NodeKind::Scalar { value, .. }, _) => scalar(value),
        _ => String::new(),
    }
}

/// Emit a generic node as the value of `key` (or as a list item when `key` is `None`).
fn emit(out: &mut String, indent: usize, key: Option<&str>, n: &Node) {
    let pad = " ".repeat(indent);
    let head = match key {
        Some(k) => format!("{pad}{}:", scalar(k)),
        None => format!("{pad}-"),
    };
    match &n.kind {
        NodeKind::Scalar { value, .. } => {
            let is_str = matches!(yaml::resolve(n), Ok(Resolved::Str));
            if is_str
                && value.contains('\n')
                && let Some(block) = literal_block(value, indent + 2)
            {
                out.push_str(&format!("{head} {block}"));
                return;
            }
            out.push_str(&format!("{head} {}\n", scalar_node(n)));
        }
        NodeKind::Seq(items) => {
            if items.is_empty() {
                out.push_str(&format!("{head} []\n"));
                return;
            }
            out.push_str(&format!("{head}\n"));
            for item in items {
                emit(out, indent + 2, None, item);
            }
        }
        NodeKind::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str(&format!("{head} {{}}\n"));
                return;
            }
            let mut body = String::new();
            for (k, v) in pairs {
                let ks = k.scalar_value().unwrap_or_default().to_string();
                emit(&mut body, indent + 2, Some(&ks), v);
            }
            if key.is_none() {
                // A mapping as a list item: its first key goes on the dash line.
                out.push_str(&format!("{pad}- "));
                out.push_str(&body[indent + 2..]);
            } else {
                out.push_str(&format!("{head}\n"));
                out.push_str(&body);
            }
        }
    }
}

fn groups_yaml(out: &mut String, groups: &[String]) {
    if groups.is_empty() {
        return;
    }
    out.push_str("  groups:\n");
    for g in groups {
        out.push_str(&format!("    - {}\n", scalar(g)));
    }
}

/// The canonical text of one loaded entry.
pub fn entry_yaml(section: Section, e: &RawEntry) -> String {
    let d = &e.decoded;
    let mut out = String::new();
    match section {
        Section::MapRoles => match &d.sso {
            Some(sso) if d.rolearn.is_empty() => {
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
            _ => out.push_str(&format!("- rolearn: {}\n", scalar(&d.rolearn))),
        },
        _ => out.push_str(&format!("- userarn: {}\n", scalar(&d.userarn))),
    }
    if !d.username.is_empty() {
        out.push_str(&format!("  username: {}\n", scalar(&d.username)));
    }
    groups_yaml(&mut out, d.groups.as_deref().unwrap_or_default());
    out
}

/// The canonical value of a section, or `None` to keep the original text.
pub fn section_text(load: &SectionLoad) -> Option<String> {
    if load.state != SectionState::Loaded {
        return None;
    }
    let mut out = String::new();
    if load.section == Section::MapAccounts {
        for a in &load.accounts {
            out.push_str(&format!(
                "- {}\n",
                serde_json::to_string(&a.value).unwrap_or_default()
            ));
        }
    } else {
        for e in load.entries.iter().filter(|e| e.invalid.is_none()) {
            out.push_str(&entry_yaml(load.section, e));
        }
    }
    if out.is_empty() {
        // Loaded, but nothing in it: keep it a (empty) list rather than an absent value.
        out.push_str("[]\n");
    }
    Some(out)
}

/// Render a manifest from a document with the given data values (in order).
pub fn render_manifest(
    doc: &AwsAuthDocument,
    data: &[(String, String)],
    opts: RenderOptions,
) -> String {
    let data: Vec<(String, DataOut)> = data
        .iter()
        .map(|(k, v)| (k.clone(), DataOut::Text(v.clone())))
        .collect();
    render_manifest_values(doc, &data, opts)
}

/// A data value to write.
#[derive(Debug, Clone)]
pub enum DataOut {
    Text(String),
    /// A value that is not a string, kept as written (the API refuses it; lint says so).
    Node(Node),
}

/// Render a manifest with data values that may be kept as non-string nodes.
pub fn render_manifest_values(
    doc: &AwsAuthDocument,
    data: &[(String, DataOut)],
    opts: RenderOptions,
) -> String {
    let mut out = String::from("apiVersion: v1\nkind: ConfigMap\n");
    let manifest = doc.manifest.as_ref();
    out.push_str("metadata:\n");
    let meta = manifest.and_then(|m| m.get("metadata"));
    out.push_str("  name: aws-auth\n");
    let ns = meta
        .and_then(|m| m.get("namespace"))
        .and_then(|n| n.as_str())
        .unwrap_or("kube-system")
        .to_string();
    out.push_str(&format!("  namespace: {}\n", scalar(&ns)));
    if let Some(NodeKind::Map(pairs)) = meta.map(|m| &m.kind) {
        for (k, v) in pairs {
            let key = k.scalar_value().unwrap_or_default();
            if key == "name" || key == "namespace" {
                continue;
            }
            if opts.clean && SERVER_FIELDS.contains(&key) {
                continue;
            }
            if key == "annotations"
                && opts.clean
                && let NodeKind::Map(ann) = &v.kind
            {
                let kept: Vec<(Node, Node)> = ann
                    .iter()
                    .filter(|(ak, _)| ak.scalar_value() != Some(LAST_APPLIED))
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    let mut nv = v.clone();
                    nv.kind = NodeKind::Map(kept);
                    emit(&mut out, 2, Some(key), &nv);
                }
                continue;
            }
            emit(&mut out, 2, Some(key), v);
        }
    }
    if data.is_empty() {
        out.push_str("data: {}\n");
    } else {
        out.push_str("data:\n");
        for (k, v) in data {
            match v {
                DataOut::Text(t) => string_entry(&mut out, 2, k, t),
                DataOut::Node(n) => emit(&mut out, 2, Some(k), n),
            }
        }
    }
    if let Some(NodeKind::Map(pairs)) = manifest.map(|m| &m.kind) {
        for (k, v) in pairs {
            let key = k.scalar_value().unwrap_or_default();
            if matches!(key, "apiVersion" | "kind" | "metadata" | "data") {
                continue;
            }
            emit(&mut out, 0, Some(key), v);
        }
    }
    out
}

/// Canonical YAML of an aws-auth ConfigMap: readable sections rewritten, everything else kept.
pub fn render(doc: &AwsAuthDocument, loads: &[SectionLoad], opts: RenderOptions) -> String {
    let mut data: Vec<(String, DataOut)> = Vec::new();
    for entry in &doc.data {
        let value = match &entry.value {
            DataValue::Text(t) => DataOut::Text(
                Section::from_key(&entry.key)
                    .and_then(|s| loads.iter().find(|l| l.section == s))
                    .and_then(section_text)
                    .unwrap_or_else(|| t.clone()),
            ),
            DataValue::NotString { .. } => match doc
                .manifest
                .as_ref()
                .and_then(|m| m.get("data"))
                .and_then(|d| d.get(&entry.key))
            {
                Some(n) => DataOut::Node(n.clone()),
                None => continue,
            },
        };
        // A duplicated data key: the API keeps the last; so do we.
        data.retain(|(k, _)| *k != entry.key);
        data.push((entry.key.clone(), value));
    }
    render_manifest_values(doc, &data, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risky_strings_are_quoted() {
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("123456789012"), "\"123456789012\"");
        assert_eq!(scalar("{{SessionName}}"), "\"{{SessionName}}\"");
        assert_eq!(scalar("system:masters"), "system:masters");
        assert_eq!(
            scalar("system:node:{{EC2PrivateDNSName}}"),
            "system:node:{{EC2PrivateDNSName}}"
        );
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("2024-03-01T10:00:00Z"), "\"2024-03-01T10:00:00Z\"");
    }
}
