//! Where an aws-auth comes from: a ConfigMap manifest (YAML or JSON, including
//! `kubectl get -o yaml` output and `kind: List`), an eksctl `ClusterConfig`
//! (`iamIdentityMappings`), or the live ConfigMap's data map.
//!
//! The authenticator only ever sees the data strings. People fix the *file*, so every data value
//! keeps a [`Locator`] that maps a position inside the embedded string (line 3 of `mapRoles`)
//! back to the line and column of the original file.

use super::model::Section;
use super::yaml::{self, Node, NodeKind, Pos, Resolved, Style};

/// Why an input is not an aws-auth at all (usage / bad-input errors, not findings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{origin}: the file is empty")]
    Empty { origin: String },
    #[error("{origin}: binary data, not text (a NUL byte or invalid UTF-8 at byte {offset})")]
    Binary { origin: String, offset: usize },
    #[error("{origin}:{line}:{column}: not YAML or JSON: {message}")]
    NotYaml {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: not a ConfigMap (found {found}); expected kind: ConfigMap named aws-auth")]
    NotConfigMap { origin: String, found: String },
    #[error(
        "{origin}: this ConfigMap is named {name:?}; the authenticator only reads kube-system/aws-auth"
    )]
    WrongName { origin: String, name: String },
    #[error(
        "{origin}: its data is {size} bytes, over the 1 MiB a ConfigMap can hold: the API server would refuse it"
    )]
    TooLarge { origin: String, size: usize },
}

/// The most a ConfigMap may hold: the API server's ValidateConfigMap sums `len(value)` over
/// `data` and `binaryData` (values only, keys not counted; binaryData decoded) and refuses more
/// than `MaxSecretSize`, 1 MiB.
pub const CONFIGMAP_DATA_LIMIT: usize = 1024 * 1024;

/// The kind of input that was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    ConfigMapYaml,
    ConfigMapJson,
    EksctlClusterConfig,
    /// A bare mapping of data keys (`mapRoles: |` at the top level).
    DataYaml,
    /// Data strings handed over directly.
    DataMap,
    /// The live ConfigMap read from a cluster: positions are lines inside each data value.
    Live,
}

/// Maps positions in a data value to positions in the original file.
#[derive(Debug, Clone, PartialEq)]
pub enum Locator {
    /// A literal block scalar: value line `i` is file line `first_line + i - 1`, shifted right
    /// by `indent` columns.
    Block { first_line: usize, indent: usize },
    /// Quoted, folded, JSON-string values: everything points at the value's start.
    Fixed(Pos),
    /// No file: positions are those inside the value itself.
    Identity,
    /// Text synthesised from another format: value line `i` comes from `lines[i - 1]`.
    Lines(Vec<Pos>),
}

/// A data value.
#[derive(Debug, Clone, PartialEq)]
pub enum DataValue {
    Text(String),
    /// A list, mapping, number or boolean where the API requires a string.
    NotString {
        found: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct DataEntry {
    pub key: String,
    pub key_pos: Pos,
    pub value: DataValue,
    pub value_pos: Pos,
    pub locator: Locator,
}

/// Something the reader noticed about the input itself.
#[derive(Debug, Clone)]
pub struct SourceNote {
    pub code: &'static str,
    pub pos: Pos,
    pub message: String,
    pub fix: Option<String>,
}

/// One aws-auth, ready to be loaded.
#[derive(Debug, Clone)]
pub struct AwsAuthDocument {
    pub origin: String,
    /// The original text (empty for a data map).
    pub text: String,
    pub format: SourceFormat,
    /// The ConfigMap object (manifests only), for rendering.
    pub manifest: Option<Node>,
    pub data: Vec<DataEntry>,
    pub notes: Vec<SourceNote>,
    /// For an eksctl ClusterConfig: the cluster it was written for (`metadata.name`,
    /// `metadata.region`). A ConfigMap names no cluster.
    pub written_for: Option<ClusterRef>,
    line_starts: Vec<usize>,
}

/// The cluster a source document says it is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterRef {
    pub name: Option<String>,
    pub region: Option<String>,
}

impl AwsAuthDocument {
    /// The size the API server counts against [`CONFIGMAP_DATA_LIMIT`]: the lengths of the
    /// `data` values and of the decoded `binaryData` values.
    pub fn api_data_size(&self) -> usize {
        let data: usize = self
            .data
            .iter()
            .map(|e| match &e.value {
                DataValue::Text(t) => t.len(),
                DataValue::NotString { .. } => 0,
            })
            .sum();
        let binary: usize = match self
            .manifest
            .as_ref()
            .and_then(|m| m.get("binaryData"))
            .map(|b| &b.kind)
        {
            Some(NodeKind::Map(pairs)) => pairs
                .iter()
                .filter_map(|(_, v)| v.scalar_value())
                .map(decoded_len)
                .sum(),
            _ => 0,
        };
        data + binary
    }

    fn new(origin: &str, text: String, format: SourceFormat) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        AwsAuthDocument {
            origin: origin.to_string(),
            text,
            format,
            manifest: None,
            data: Vec::new(),
            notes: Vec::new(),
            written_for: None,
            line_starts,
        }
    }

    /// Build from the data strings of a live ConfigMap.
    pub fn from_data<I, K, V>(origin: &str, data: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut doc = AwsAuthDocument::new(origin, String::new(), SourceFormat::DataMap);
        for (k, v) in data {
            doc.data.push(DataEntry {
                key: k.into(),
                key_pos: Pos::default(),
                value: DataValue::Text(v.into()),
                value_pos: Pos::default(),
                locator: Locator::Identity,
            });
        }
        doc
    }

    /// Read the live ConfigMap (as the JSON the API returns). Metadata is kept for rendering;
    /// positions are lines inside each data value, since there is no file to point at.
    pub fn from_live_json(origin: &str, json: &str) -> Result<AwsAuthDocument, InputError> {
        let mut doc = read_document(origin, json.as_bytes())?;
        doc.format = SourceFormat::Live;
        doc.text = String::new();
        doc.line_starts = vec![0];
        for d in &mut doc.data {
            d.locator = Locator::Identity;
        }
        doc.notes.clear();
        Ok(doc)
    }

    /// Line `line` (1-based) of the value of data key `key`.
    pub fn value_line_text(&self, key: &str, line: usize) -> Option<&str> {
        self.data_text(key)?.lines().nth(line.checked_sub(1)?)
    }

    /// The text of a data key, if it is present and a string.
    pub fn data_text(&self, key: &str) -> Option<&str> {
        self.data
            .iter()
            .rev()
            .find(|d| d.key == key)
            .and_then(|d| match &d.value {
                DataValue::Text(t) => Some(t.as_str()),
                DataValue::NotString { .. } => None,
            })
    }

    pub fn entry(&self, key: &str) -> Option<&DataEntry> {
        self.data.iter().rev().find(|d| d.key == key)
    }

    pub fn section_entry(&self, section: Section) -> Option<&DataEntry> {
        self.entry(section.key())
    }

    /// The text of line `line` (1-based) of the original file, without its line break.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .map(|l| l.trim_end_matches('\n').trim_end_matches('\r'))
    }

    /// Byte offset of a 1-based line and column (in characters) of the original file.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(text) = self.line_text(line) else {
            return self.text.len();
        };
        let start = self.line_starts[line - 1];
        start
            + text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map(|(b, _)| b)
                .unwrap_or(text.len())
    }

    /// Map a position inside the value of data key `key` to the original file.
    pub fn locate(&self, key: &str, inner: Pos) -> Pos {
        let Some(entry) = self.entry(key) else {
            return inner;
        };
        match &entry.locator {
            Locator::Identity => inner,
            Locator::Fixed(p) => *p,
            Locator::Block { first_line, indent } => {
                let line = first_line + inner.line.saturating_sub(1);
                let column = inner.column + indent;
                Pos {
                    line,
                    column,
                    offset: self.offset_of(line, column),
                }
            }
            Locator::Lines(lines) => lines
                .get(inner.line.saturating_sub(1))
                .or(lines.last())
                .copied()
                .unwrap_or(entry.value_pos),
        }
    }

    /// Whether positions inside `key`'s value are exact in the file.
    pub fn is_exact(&self, key: &str) -> bool {
        matches!(
            self.entry(key).map(|e| &e.locator),
            Some(Locator::Block { .. } | Locator::Identity)
        )
    }
}

/// Read an aws-auth from bytes. `origin` names the input in messages (`-` for stdin).
pub fn read_document(origin: &str, bytes: &[u8]) -> Result<AwsAuthDocument, InputError> {
    let origin_s = origin.to_string();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(InputError::Binary {
            origin: origin_s,
            offset,
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(e) => {
            return Err(InputError::Binary {
                origin: origin_s,
                offset: e.valid_up_to(),
            });
        }
    };
    if text.trim().is_empty() {
        return Err(InputError::Empty { origin: origin_s });
    }
    let is_json = text.trim_start().starts_with('{');
    // kubectl decodes a YAML manifest with go-yaml v2 (libyaml), for which NEL, LS and PS are
    // line breaks (YAML 1.2 parsers take them as content). NEL becomes a plain line break there
    // (same byte length here); LS and PS below.
    let mut text = text;
    if !is_json && let Some((line, rest)) = bad_document_separator(&text) {
        // kubectl splits a YAML stream with apimachinery's YAMLReader before any YAML parser
        // sees it (on the text as read: NEL is not a line break to it); it refuses a `---` line with anything but a comment after it.
        return Err(InputError::NotYaml {
            origin: origin_s,
            line,
            column: 4,
            message: format!(
                "invalid Yaml document separator: {rest} (kubectl allows only a comment after \
                 `---`; put the content on the next line)"
            ),
        });
    }
    // LS and PS: kubectl's go-yaml breaks the line there and keeps the character (in a quoted
    // scalar, where another break would fold to a space; in a plain scalar's fold). The
    // manifest is read through the same libyaml replay as a section value, which rewrites
    // those places so that the YAML 1.2 parser reads go-yaml's strings.
    let mut view: Option<String> = None;
    if !is_json {
        if text.contains(['\u{2028}', '\u{2029}']) {
            let scan = super::libyaml::scan(&text);
            if let Some(e) = scan.error.as_ref().or(scan.late_error.as_ref()) {
                return Err(InputError::NotYaml {
                    origin: origin_s,
                    line: e.pos.line,
                    column: e.pos.column,
                    message: e.message.to_string(),
                });
            }
            view = super::libyaml::as_libyaml_sees_it(&text, &scan);
        } else if text.contains('\u{85}') {
            text = text.replace('\u{85}', "\r\n");
        }
    }
    let parsed = view.as_deref().unwrap_or(&text);
    if yaml::may_nest_deeper_than(parsed, yaml::SHALLOW_DEPTH) {
        // The tree is walked and dropped on a stack sized for go-yaml's 10,000 levels.
        return yaml::on_deep_stack(|| read_objects(origin, &text, parsed, view.is_some()))
            .unwrap_or_else(|| {
                Err(InputError::NotYaml {
                    origin: origin_s,
                    line: 1,
                    column: 1,
                    message: format!(
                        "this file may nest deeper than {} levels and no thread could be started \
                         to read it",
                        yaml::SHALLOW_DEPTH
                    ),
                })
            });
    }
    read_objects(origin, &text, parsed, view.is_some())
}

/// The objects of a manifest (`parsed`: the text the YAML 1.2 parser reads, `text` as given):
/// the first aws-auth ConfigMap, eksctl ClusterConfig or data mapping.
fn read_objects(
    origin: &str,
    text: &str,
    parsed: &str,
    restore_bom: bool,
) -> Result<AwsAuthDocument, InputError> {
    let origin_s = origin.to_string();
    let is_json = text.trim_start().starts_with('{');
    let docs = match yaml::parse_all_with(parsed, restore_bom) {
        Ok(d) => d,
        Err(e) => {
            return Err(InputError::NotYaml {
                origin: origin_s,
                line: e.pos.line,
                column: e.pos.column,
                message: e.message,
            });
        }
    };
    let mut found: Vec<String> = Vec::new();
    let mut wrong_name: Option<String> = None;
    for root in docs {
        let candidates = if str_field(&root, "kind").as_deref() == Some("List") {
            take_items(root)
        } else {
            vec![root]
        };
        for obj in candidates {
            match classify(&obj) {
                Kind::ConfigMap => {
                    let name = obj
                        .get("metadata")
                        .and_then(|m| str_field(m, "name"))
                        .unwrap_or_default();
                    if name != "aws-auth" {
                        wrong_name.get_or_insert(name);
                        continue;
                    }
                    let fmt = if is_json {
                        SourceFormat::ConfigMapJson
                    } else {
                        SourceFormat::ConfigMapYaml
                    };
                    return within_limit(from_configmap(origin, text, obj, fmt));
                }
                Kind::Eksctl => return Ok(from_eksctl(origin, text, &obj)),
                Kind::Data => {
                    let mut doc =
                        AwsAuthDocument::new(origin, text.to_string(), SourceFormat::DataYaml);
                    read_data(&mut doc, &obj);
                    return within_limit(doc);
                }
                Kind::Other(k) => found.push(k),
            }
        }
    }
    if let Some(name) = wrong_name {
        return Err(InputError::WrongName {
            origin: origin_s,
            name,
        });
    }
    Err(InputError::NotConfigMap {
        origin: origin_s,
        found: if found.is_empty() {
            "no Kubernetes object".to_string()
        } else {
            found.join(", ")
        },
    })
}

/// The length of base64 `text` once decoded (whitespace ignored, as in a folded YAML value).
fn decoded_len(text: &str) -> usize {
    let chars = text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    let padding = text
        .trim_end()
        .bytes()
        .rev()
        .take_while(|&b| b == b'=')
        .count();
    (chars / 4 * 3 + (chars % 4).saturating_sub(1)).saturating_sub(padding.min(2))
}

/// Refuses a document the API server could not hold (over 1 MiB of data): such a file was never
/// the aws-auth EKS read.
fn within_limit(doc: AwsAuthDocument) -> Result<AwsAuthDocument, InputError> {
    let size = doc.api_data_size();
    if size > CONFIGMAP_DATA_LIMIT {
        return Err(InputError::TooLarge {
            origin: doc.origin,
            size,
        });
    }
    Ok(doc)
}

/// The `items` of a `kind: List`.
fn take_items(root: Node) -> Vec<Node> {
    let NodeKind::Map(pairs) = root.kind else {
        return Vec::new();
    };
    pairs
        .into_iter()
        .rev()
        .find(|(k, _)| k.scalar_value() == Some("items"))
        .map(|(_, v)| match v.kind {
            NodeKind::Seq(items) => items,
            _ => Vec::new(),
        })
        .unwrap_or_default()
}

enum Kind {
    ConfigMap,
    Eksctl,
    Data,
    Other(String),
}

fn str_field(node: &Node, key: &str) -> Option<String> {
    node.get(key).and_then(|n| n.as_str()).map(str::to_string)
}

fn classify(obj: &Node) -> Kind {
    if !matches!(obj.kind, NodeKind::Map(_)) {
        let what = match &obj.kind {
            NodeKind::Seq(_) => "a YAML list",
            _ => "a scalar",
        };
        return Kind::Other(what.to_string());
    }
    let kind = str_field(obj, "kind");
    let api = str_field(obj, "apiVersion").unwrap_or_default();
    match kind.as_deref() {
        Some("ConfigMap") => Kind::ConfigMap,
        Some("ClusterConfig") if api.starts_with("eksctl.io/") => Kind::Eksctl,
        Some(k) => Kind::Other(format!("kind {k}")),
        None => {
            if Section::ALL.iter().any(|s| obj.get(s.key()).is_some()) {
                Kind::Data
            } else {
                Kind::Other("a mapping without kind".to_string())
            }
        }
    }
}

fn from_configmap(origin: &str, text: &str, obj: Node, format: SourceFormat) -> AwsAuthDocument {
    let mut doc = AwsAuthDocument::new(origin, text.to_string(), format);
    if let Some(meta) = obj.get("metadata")
        && let Some(ns) = meta.get("namespace")
    {
        let ns_s = ns.as_str().unwrap_or_default();
        if ns_s != "kube-system" {
            doc.notes.push(SourceNote {
                code: "AA032",
                pos: ns.pos,
                message: format!(
                    "namespace is {ns_s:?}: the authenticator only reads the aws-auth of kube-system"
                ),
                fix: Some("set metadata.namespace: kube-system".into()),
            });
        }
    }
    if let Some(data) = obj.get("data") {
        read_data(&mut doc, data);
    }
    doc.manifest = Some(obj);
    doc
}

/// Where the content of a literal block starts. granit-parser's span of a literal scalar
/// begins at its first non-blank content line, at the content's indentation.
fn block_locator(value: &Node) -> Locator {
    let leading_blank = value
        .scalar_value()
        .map(|v| v.chars().take_while(|c| *c == '\n').count())
        .unwrap_or(0);
    Locator::Block {
        first_line: value.pos.line.saturating_sub(leading_blank).max(1),
        indent: value.pos.column.saturating_sub(1),
    }
}

fn read_data(doc: &mut AwsAuthDocument, data: &Node) {
    let NodeKind::Map(pairs) = &data.kind else {
        return;
    };
    for (k, v) in pairs {
        let key = k.scalar_value().unwrap_or_default().to_string();
        let (value, locator) = match &v.kind {
            NodeKind::Scalar { value, style } => match yaml::resolve(v) {
                Ok(Resolved::Str) => {
                    let loc = if *style == Style::Literal {
                        block_locator(v)
                    } else {
                        Locator::Fixed(v.pos)
                    };
                    (DataValue::Text(value.clone()), loc)
                }
                // `mapRoles:` with nothing after it: JSON null, stored as "".
                Ok(Resolved::Null) => (DataValue::Text(String::new()), Locator::Fixed(v.pos)),
                Ok(r) => (
                    DataValue::NotString {
                        found: r.type_name(),
                    },
                    Locator::Fixed(v.pos),
                ),
                Err(_) => (
                    DataValue::NotString { found: "value" },
                    Locator::Fixed(v.pos),
                ),
            },
            NodeKind::Seq(_) => (
                DataValue::NotString { found: "list" },
                Locator::Fixed(v.pos),
            ),
            NodeKind::Map(_) => (
                DataValue::NotString { found: "mapping" },
                Locator::Fixed(v.pos),
            ),
        };
        doc.data.push(DataEntry {
            key,
            key_pos: k.pos,
            value,
            value_pos: v.pos,
            locator,
        });
    }
}

/// Quote a string for YAML as a JSON string (always valid YAML, never re-typed).
pub fn json_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

fn scalar_text(n: &Node) -> String {
    n.scalar_value().unwrap_or_default().to_string()
}

/// eksctl `iamIdentityMappings` → the aws-auth eksctl would write. Role ARNs go to
/// `mapRoles`, user and root ARNs to `mapUsers`, `account` items to `mapAccounts`.
fn from_eksctl(origin: &str, text: &str, obj: &Node) -> AwsAuthDocument {
    let mut doc = AwsAuthDocument::new(origin, text.to_string(), SourceFormat::EksctlClusterConfig);
    let meta = obj.get("metadata");
    let field = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(|n| n.scalar_value())
            .map(str::to_string)
    };
    doc.written_for = Some(ClusterRef {
        name: field("name"),
        region: field("region"),
    });
    let mut roles = (String::new(), Vec::new());
    let mut users = (String::new(), Vec::new());
    let mut accounts = (String::new(), Vec::new());
    let Some(NodeKind::Seq(items)) = obj.get("iamIdentityMappings").map(|n| &n.kind) else {
        return doc;
    };
    for item in items {
        if let Some(acc) = item.get("account") {
            accounts
                .0
                .push_str(&format!("- {}\n", json_quote(&scalar_text(acc))));
            accounts.1.push(acc.pos);
            continue;
        }
        if item.get("serviceName").is_some() {
            doc.notes.push(SourceNote {
                code: "AA033",
                pos: item.pos,
                message: "serviceName mappings are turned into RBAC objects by eksctl, not aws-auth entries; not checked".into(),
                fix: None,
            });
            continue;
        }
        let Some(arn) = item.get("arn") else {
            doc.notes.push(SourceNote {
                code: "AA033",
                pos: item.pos,
                message: "identity mapping without arn or account: eksctl refuses it".into(),
                fix: Some("add arn: arn:aws:iam::ACCOUNT:role/NAME".into()),
            });
            continue;
        };
        let arn_s = scalar_text(arn);
        let is_user = arn_s.contains(":user/") || arn_s.ends_with(":root");
        let (buf, lines) = if is_user { &mut users } else { &mut roles };
        let key = if is_user { "userarn" } else { "rolearn" };
        buf.push_str(&format!("- {key}: {}\n", json_quote(&arn_s)));
        lines.push(arn.pos);
        if let Some(u) = item.get("username") {
            buf.push_str(&format!("  username: {}\n", json_quote(&scalar_text(u))));
            lines.push(u.pos);
        }
        if let Some(g) = item.get("groups") {
            buf.push_str("  groups:\n");
            lines.push(g.pos);
            if let NodeKind::Seq(gs) = &g.kind {
                for gi in gs {
                    buf.push_str(&format!("    - {}\n", json_quote(&scalar_text(gi))));
                    lines.push(gi.pos);
                }
            }
        }
    }
    for (key, (buf, lines)) in [
        ("mapRoles", roles),
        ("mapUsers", users),
        ("mapAccounts", accounts),
    ] {
        if lines.is_empty() {
            continue;
        }
        doc.data.push(DataEntry {
            key: key.to_string(),
            key_pos: lines[0],
            value: DataValue::Text(buf),
            value_pos: lines[0],
            locator: Locator::Lines(lines),
        });
    }
    doc
}

/// apimachinery's `YAMLReader.Read` (k8s.io/apimachinery/pkg/util/yaml/decoder.go), which
/// kubectl reads YAML manifests with: a line that starts with `---` ends a document only if
/// what follows, trimmed, is empty or a comment; anything else is "invalid Yaml document
/// separator". Returns the 1-based line and the trimmed rest.
fn bad_document_separator(text: &str) -> Option<(usize, String)> {
    text.split('\n').enumerate().find_map(|(i, line)| {
        let rest = line.strip_prefix("---")?.trim();
        (!rest.is_empty() && !rest.starts_with('#')).then(|| (i + 1, rest.to_string()))
    })
}

#[cfg(test)]
mod separator_tests {
    use super::bad_document_separator;

    #[test]
    fn kubectl_refuses_content_on_a_separator_line() {
        assert_eq!(
            bad_document_separator("a: 1\n--- b: 2\n"),
            Some((2, "b: 2".to_string()))
        );
        assert_eq!(
            bad_document_separator("---foo\n"),
            Some((1, "foo".to_string()))
        );
        assert_eq!(
            bad_document_separator("--- # c\r\n---\t\n---\na: 1\n"),
            None
        );
        assert_eq!(bad_document_separator(" --- b\n"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_size_is_what_the_api_server_counts_values_and_decoded_binary_data() {
        assert_eq!(decoded_len("AAAA"), 3);
        assert_eq!(decoded_len("AAA="), 2);
        assert_eq!(decoded_len("AA=="), 1);
        assert_eq!(decoded_len("AAA"), 2);
        assert_eq!(decoded_len("AAAA\nAAAA"), 6);
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: \"abc\"\n  a-long-key-not-counted: \"de\"\nbinaryData:\n  blob: AAAA\n";
        let doc = read_document("x", text.as_bytes()).unwrap();
        assert_eq!(doc.api_data_size(), 3 + 2 + 3);
    }
}
