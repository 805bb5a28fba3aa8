//! A YAML node tree with source positions, resolved the way go-yaml v2 resolves it.
//!
//! Why not serde: the authenticator's behaviour depends on details a typed deserializer hides —
//! YAML 1.1 implicit types (`yes` is a boolean, `0755` an octal number, `123456789012` a
//! number), which keys are not strings, where each value sits in the file. So the text is read
//! into events by granit-parser (which reports byte, line and column spans) and this module
//! builds a small tree and resolves plain scalars with go-yaml v2's rules (`resolve.go`).

use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde::Serialize;
use std::collections::HashMap;

/// A position inside the text that was parsed: 1-based line and column (in characters) and a
/// 0-based byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar { value: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
    /// Explicit tag as written (`!!str`, `!custom`), if any.
    pub tag: Option<Box<str>>,
    /// Whether a collection was written in flow style (`[..]`, `{..}`).
    pub flow: bool,
    /// The node was written as an alias (`*a`) and is a copy of the anchored node. go-yaml v2
    /// keeps alias nodes apart, and an alias is never a merge key.
    pub alias: bool,
}

/// The implicit type go-yaml v2 gives a scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// A string (its text is the scalar's value).
    Str,
}

impl Resolved {
    /// The YAML type name, as go-yaml names it in its messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Resolved::Null => "null",
            Resolved::Bool(_) => "bool",
            Resolved::Int(_) => "int",
            Resolved::Float(_) => "float",
            Resolved::Str => "str",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub pos: Pos,
}

/// One parsed document (the first of the stream, as `yaml.Unmarshal` reads it).
#[derive(Debug, Clone)]
pub struct Document {
    /// `None` when the document holds no node (empty text, only comments).
    pub root: Option<Node>,
    /// Position of a second `---` document, which go-yaml never reads.
    pub extra_document: Option<Pos>,
}

/// go-yaml v2's nesting limit (`max_flow_level`, `max_indents` in scannerc.go: deeper input
/// fails with "exceeded max depth of 10000"; encoding/json then stops at 10,000 too). The
/// product reads as deep: the tree walkers recurse, so a section that may nest deeper than
/// [`SHALLOW_DEPTH`] is read on a thread of its own with a stack sized for this limit
/// (`parse::load_section`, `source::read_document`).
pub const GO_YAML_MAX_DEPTH: usize = 10_000;

/// How deep a tree may be walked on an ordinary thread's stack (2 MiB for a test thread:
/// measured, 500 flow levels fit in a debug build, 1,000 do not).
pub const SHALLOW_DEPTH: usize = 256;

/// The stack of a thread that reads input nested up to [`GO_YAML_MAX_DEPTH`] levels (reserved,
/// not committed: pages are only used as deep as the recursion goes).
pub const DEEP_STACK: usize = 512 * 1024 * 1024;

/// Whether `text` may nest collections deeper than `depth` levels: flow collections need a
/// bracket each, block ones more indentation (at least one column a level, two for `- - x`).
pub fn may_nest_deeper_than(text: &str, depth: usize) -> bool {
    let brackets = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    let widest = text
        .split(['\n', '\r'])
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    brackets + 2 * (widest + 1) > depth
}

/// Runs `f` on a thread with a [`DEEP_STACK`]; `None` when no such thread can be started.
pub fn on_deep_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("deep-yaml".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, f)
            .ok()?;
        Some(match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    })
}

/// How deeply collections nest in `node` (a scalar is 0), without recursing.
pub fn depth(node: &Node) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Node, usize)> = vec![(node, 0)];
    while let Some((n, d)) = stack.pop() {
        match &n.kind {
            NodeKind::Scalar { .. } => deepest = deepest.max(d),
            NodeKind::Seq(items) => {
                deepest = deepest.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            NodeKind::Map(pairs) => {
                deepest = deepest.max(d + 1);
                for (k, v) in pairs {
                    stack.push((k, d + 1));
                    stack.push((v, d + 1));
                }
            }
        }
    }
    deepest
}

/// The message of a collection nested deeper than [`GO_YAML_MAX_DEPTH`] (go-yaml's).
pub fn too_deep_message() -> String {
    format!("exceeded max depth of {GO_YAML_MAX_DEPTH}")
}

/// Upper bound on nodes produced by alias expansion (go-yaml refuses "excessive aliasing").
const MAX_NODES: usize = 2_000_000;

fn pos_of(text: &str, m: &granit_parser::Marker) -> Pos {
    let offset = m.byte_offset().unwrap_or(0).min(text.len());
    Pos {
        line: m.line().max(1),
        column: m.col() + 1,
        offset,
    }
}

fn scan_error(text: &str, e: &ScanError) -> YamlError {
    if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
        return YamlError {
            message: too_deep_message(),
            pos: pos_of(text, e.marker()),
        };
    }
    YamlError {
        message: e.info(),
        pos: pos_of(text, e.marker()),
    }
}

enum Frame {
    Seq(Node, Vec<Node>),
    Map(Node, Vec<(Node, Node)>, Option<Node>),
}

struct Builder<'t> {
    text: &'t str,
    /// Give back the byte order marks `libyaml::as_libyaml_sees_it` set aside.
    restore_bom: bool,
    stack: Vec<(Frame, usize)>,
    anchors: HashMap<usize, Node>,
    produced: usize,
}

impl<'t> Builder<'t> {
    fn node_count(n: &Node) -> usize {
        match &n.kind {
            NodeKind::Scalar { .. } => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Self::node_count).sum::<usize>(),
            NodeKind::Map(pairs) => {
                1 + pairs
                    .iter()
                    .map(|(k, v)| Self::node_count(k) + Self::node_count(v))
                    .sum::<usize>()
            }
        }
    }

    /// Attach a finished node to its parent; returns it back when it is the document root.
    fn push(&mut self, node: Node, anchor: usize) -> Option<Node> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => Some(node),
            Some((Frame::Seq(_, items), _)) => {
                items.push(node);
                None
            }
            Some((Frame::Map(_, pairs, pending), _)) => {
                match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => pairs.push((key, node)),
                }
                None
            }
        }
    }
}

/// The resolved tag, in go-yaml's `shortTag` form: `tag:yaml.org,2002:x` however it was spelled
/// (`!!x`, `!<tag:yaml.org,2002:x>`, a `%TAG` handle) is `!!x`; the non-specific tag is `!`.
fn tag_text(tag: &Option<std::borrow::Cow<'_, granit_parser::Tag>>) -> Option<Box<str>> {
    tag.as_ref().map(|t| {
        let (handle, suffix) = t.parts();
        let full = format!("{handle}{suffix}");
        match full.strip_prefix("tag:yaml.org,2002:") {
            Some(short) => format!("!!{short}").into_boxed_str(),
            None => full.into_boxed_str(),
        }
    })
}

/// go-yaml's `!!binary`: standard base64 (line breaks ignored); the bytes become a Go string,
/// which encoding/json writes with U+FFFD for invalid UTF-8.
fn decode_binary(value: &str) -> Option<String> {
    use base64::Engine as _;
    let compact: String = value.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parse the first document of `text`. Errors are syntax errors (the authenticator would fail
/// the whole section on them).
pub fn parse_first(text: &str) -> Result<Document, YamlError> {
    parse_first_with(text, false)
}

/// [`parse_first`] of a text prepared by `libyaml::as_libyaml_sees_it` (`restore_bom`: turn its
/// placeholders back into byte order marks inside scalars).
pub fn parse_first_with(text: &str, restore_bom: bool) -> Result<Document, YamlError> {
    parse_first_opts(text, restore_bom, false)
}

/// The tag an invalid `!!binary` scalar gets from [`parse_first_lazy_binary`]: go-yaml decodes
/// base64 only when it decodes that node into a Go value, and [`resolve`] fails it then.
pub const INVALID_BINARY_TAG: &str = "!!binary (invalid base64)";

/// [`parse_first_with`] for a text go-yaml decodes only in part (`mapAccounts` into
/// `[]string`: a list or mapping item is a type error and its contents are never decoded): an
/// invalid `!!binary` scalar does not fail the parse; it is tagged [`INVALID_BINARY_TAG`] and
/// fails when it is resolved.
pub fn parse_first_lazy_binary(text: &str, restore_bom: bool) -> Result<Document, YamlError> {
    parse_first_opts(text, restore_bom, true)
}

fn parse_first_opts(
    text: &str,
    restore_bom: bool,
    lazy_binary: bool,
) -> Result<Document, YamlError> {
    let mut docs = parse_documents(text, true, restore_bom, lazy_binary)?;
    let extra = docs.get(1).map(|d| d.1);
    let root = if docs.is_empty() {
        None
    } else {
        docs.swap_remove(0).0
    };
    Ok(Document {
        root,
        extra_document: extra,
    })
}

/// Parse every document of a stream (for manifests holding several objects).
pub fn parse_all(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_all_with(text, false)
}

/// [`parse_all`] of a text prepared by `libyaml::as_libyaml_sees_it` (`restore_bom` as in
/// [`parse_first_with`]).
pub fn parse_all_with(text: &str, restore_bom: bool) -> Result<Vec<Node>, YamlError> {
    Ok(parse_documents(text, false, restore_bom, false)?
        .into_iter()
        .filter_map(|(n, _)| n)
        .collect())
}

/// Returns (root, position of the document start) per document. With `first_only`, parsing
/// stops after the first document; the start of a second one is still reported.
fn parse_documents(
    text: &str,
    first_only: bool,
    restore_bom: bool,
    lazy_binary: bool,
) -> Result<Vec<(Option<Node>, Pos)>, YamlError> {
    let mut parser = Parser::new_from_str_with_options(
        text,
        granit_parser::options! {
            flow_nesting_limit: GO_YAML_MAX_DEPTH,
            block_nesting_limit: GO_YAML_MAX_DEPTH,
        },
    );
    let mut b = Builder {
        text,
        restore_bom,
        stack: Vec::new(),
        anchors: HashMap::new(),
        produced: 0,
    };
    let mut docs: Vec<(Option<Node>, Pos)> = Vec::new();
    let mut current_root: Option<Node> = None;
    let mut doc_start = Pos::default();
    loop {
        let next = parser.next();
        let (event, span): (Event<'_>, Span) = match next {
            None => break,
            Some(Err(e)) => {
                if first_only && !docs.is_empty() {
                    // go-yaml never reads past the first document.
                    break;
                }
                return Err(scan_error(text, &e));
            }
            Some(Ok(ev)) => ev,
        };
        let start = pos_of(text, &span.start);
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                if first_only && !docs.is_empty() {
                    docs.push((None, start));
                    break;
                }
                doc_start = start;
                current_root = None;
                b.anchors.clear();
            }
            Event::DocumentEnd => {
                docs.push((current_root.take(), doc_start));
            }
            Event::Alias(id) => {
                let Some(target) = b.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        message: "unknown anchor referenced".into(),
                        pos: start,
                    });
                };
                b.produced += Builder::node_count(&target);
                if b.produced > MAX_NODES {
                    return Err(YamlError {
                        message: "document contains excessive aliasing".into(),
                        pos: start,
                    });
                }
                let mut target = target;
                target.alias = true;
                if let Some(root) = b.push(target, 0) {
                    current_root = Some(root);
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                b.produced += 1;
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    _ => Style::Folded,
                };
                let mut tag = tag_text(&tag);
                let mut value = value.into_owned();
                if b.restore_bom {
                    value = value.replace(super::libyaml::BOM_PLACEHOLDER, "\u{feff}");
                }
                if tag.as_deref() == Some("!!binary") {
                    // go-yaml decodes !!binary (base64) into the bytes it holds.
                    match decode_binary(&value) {
                        Some(decoded) => value = decoded,
                        None if lazy_binary => tag = Some(INVALID_BINARY_TAG.into()),
                        None => {
                            return Err(YamlError {
                                message: INVALID_BINARY.into(),
                                pos: start,
                            });
                        }
                    }
                }
                let node = Node {
                    kind: NodeKind::Scalar { value, style },
                    pos: start,
                    tag,
                    flow: false,
                    alias: false,
                };
                if let Some(root) = b.push(node, anchor) {
                    current_root = Some(root);
                }
            }
            Event::SequenceStart(style, anchor, tag) => {
                b.produced += 1;
                let node = Node {
                    kind: NodeKind::Seq(Vec::new()),
                    pos: start,
                    tag: tag_text(&tag),
                    flow: matches!(style, granit_parser::StructureStyle::Flow),
                    alias: false,
                };
                b.stack.push((Frame::Seq(node, Vec::new()), anchor));
            }
            Event::MappingStart(style, anchor, tag) => {
                b.produced += 1;
                let node = Node {
                    kind: NodeKind::Map(Vec::new()),
                    pos: start,
                    tag: tag_text(&tag),
                    flow: matches!(style, granit_parser::StructureStyle::Flow),
                    alias: false,
                };
                b.stack.push((Frame::Map(node, Vec::new(), None), anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((frame, anchor)) = b.stack.pop() else {
                    return Err(YamlError {
                        message: "unbalanced collection end".into(),
                        pos: start,
                    });
                };
                let node = match frame {
                    Frame::Seq(mut n, items) => {
                        n.kind = NodeKind::Seq(items);
                        n
                    }
                    Frame::Map(mut n, pairs, _) => {
                        n.kind = NodeKind::Map(pairs);
                        n
                    }
                };
                if let Some(root) = b.push(node, anchor) {
                    current_root = Some(root);
                }
            }
            _ => {}
        }
        if b.produced > MAX_NODES {
            return Err(YamlError {
                message: "document is too large".into(),
                pos: start,
            });
        }
    }
    let _ = b.text;
    Ok(docs)
}

// ---------------------------------------------------------------------------------------------
// go-yaml v2 scalar resolution (YAML 1.1)

fn map_lookup(s: &str) -> Option<Resolved> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Resolved::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)` accepted forms (after go-yaml
/// removed underscores): optional sign, `0x`/`0o`/`0b` prefixes, a leading `0` for octal.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        if v > (i64::MAX as u128) + 1 {
            return None;
        }
        Some(-(v as i128))
    } else if v > u64::MAX as u128 {
        None
    } else {
        Some(v as i128)
    }
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Resolve a plain (unquoted, untagged) scalar as go-yaml v2 does.
pub fn resolve_plain(s: &str) -> Resolved {
    let Some(first) = s.chars().next() else {
        return Resolved::Null;
    };
    let hinted = first.is_ascii_digit() || "+-.yYnNtTfFoO~".contains(first);
    if !hinted {
        return Resolved::Str;
    }
    if let Some(r) = map_lookup(s) {
        return r;
    }
    if first.is_ascii_digit() || first == '+' || first == '-' {
        let plain: String = s.chars().filter(|&c| c != '_').collect();
        if let Some(i) = go_parse_int(&plain) {
            return Resolved::Int(i);
        }
        if is_yaml_style_float(&plain)
            && let Some(f) = go_parse_float(&plain)
        {
            return Resolved::Float(f);
        }
        return Resolved::Str;
    }
    if first == '.'
        && is_yaml_style_float(s)
        && let Some(f) = go_parse_float(s)
    {
        return Resolved::Float(f);
    }
    Resolved::Str
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms `yamlStyleFloat` lets through: it fails with
/// `ErrRange` when the value overflows (`1e400`), and go-yaml then keeps the scalar a string.
/// Underflow (`1e-400`) is not an error: it is 0.
fn go_parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// go-yaml v2's `parseTimestamp` (resolve.go): the text starts with a 4-digit year and `-`, and
/// Go's `time.Parse` accepts it with one of `2006-1-2T15:4:5.999999999Z07:00`,
/// `2006-1-2t15:4:5.999999999Z07:00`, `2006-1-2 15:4:5.999999999` or `2006-1-2`.
pub fn go_parse_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    // Go's getnum: one digit, or two when the second is a digit.
    fn num(b: &[u8], i: &mut usize) -> Option<u32> {
        let d0 = *b.get(*i).filter(|c| c.is_ascii_digit())?;
        *i += 1;
        let mut v = u32::from(d0 - b'0');
        if let Some(d1) = b.get(*i).filter(|c| c.is_ascii_digit()) {
            v = v * 10 + u32::from(d1 - b'0');
            *i += 1;
        }
        Some(v)
    }
    let mut i = 5;
    let Some(month) = num(b, &mut i) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(b, &mut i) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day < 1 || day > days {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    for (k, max) in [(0, 23), (1, 59), (2, 59)] {
        if k > 0 {
            if b.get(i) != Some(&b':') {
                return false;
            }
            i += 1;
        }
        match num(b, &mut i) {
            Some(v) if v <= max => {}
            _ => return false,
        }
    }
    // Fractional seconds: `.` or `,` then 1..9 digits (optional).
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start > 9 {
            return false;
        }
    }
    if !zoned {
        return i == b.len();
    }
    let rest = &b[i..];
    if rest == b"Z" {
        return true;
    }
    rest.len() == 6
        && matches!(rest[0], b'+' | b'-')
        && rest[1..3].iter().all(u8::is_ascii_digit)
        && rest[3] == b':'
        && rest[4..6].iter().all(u8::is_ascii_digit)
        && (rest[1] - b'0') * 10 + (rest[2] - b'0') < 24
        && (rest[4] - b'0') * 10 + (rest[5] - b'0') < 60
}

/// go-yaml's error for a `!!binary` scalar that is not base64.
pub const INVALID_BINARY: &str = "!!binary value contains invalid base64 data";

/// Resolve any scalar node: quoted and block scalars are strings; explicit tags are honoured.
/// An error means go-yaml refuses the document (e.g. `!!int abc`).
pub fn resolve(node: &Node) -> Result<Resolved, YamlError> {
    let NodeKind::Scalar { value, style } = &node.kind else {
        return Ok(Resolved::Null);
    };
    match node.tag.as_deref() {
        None => {
            if *style == Style::Plain {
                Ok(resolve_plain(value))
            } else {
                Ok(Resolved::Str)
            }
        }
        Some("!") | Some("!!str") | Some("!!binary") => Ok(Resolved::Str),
        Some(INVALID_BINARY_TAG) => Err(YamlError {
            message: INVALID_BINARY.into(),
            pos: node.pos,
        }),
        // go-yaml's resolve (resolve.go) checks every resolvable tag: `!!null x` and
        // `!!timestamp admin` fail with "cannot decode !!str `x` as a !!null".
        Some("!!null") => match resolve_plain(value) {
            Resolved::Null => Ok(Resolved::Null),
            other => Err(cannot_decode(value, &other, "!!null", node.pos)),
        },
        Some("!!timestamp") => {
            if go_parse_timestamp(value) {
                // go-yaml gives a timestamp to an interface{} as its text.
                Ok(Resolved::Str)
            } else {
                Err(cannot_decode(
                    value,
                    &resolve_plain(value),
                    "!!timestamp",
                    node.pos,
                ))
            }
        }
        Some(t @ ("!!bool" | "!!int" | "!!float")) => {
            let implicit = resolve_plain(value);
            let ok = matches!(
                (t, &implicit),
                ("!!bool", Resolved::Bool(_))
                    | ("!!int", Resolved::Int(_))
                    | ("!!float", Resolved::Float(_) | Resolved::Int(_))
            );
            if ok {
                Ok(implicit)
            } else {
                Err(cannot_decode(value, &implicit, t, node.pos))
            }
        }
        Some(_) => Ok(Resolved::Str),
    }
}

/// go-yaml's "cannot decode !!<resolved> `<value>` as a <tag>".
fn cannot_decode(value: &str, resolved: &Resolved, tag: &str, pos: Pos) -> YamlError {
    YamlError {
        message: format!(
            "cannot decode !!{} `{value}` as a {tag}",
            resolved.type_name()
        ),
        pos,
    }
}

impl Node {
    pub fn scalar_value(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn style(&self) -> Option<Style> {
        match &self.kind {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// go-yaml v2's merge key (`decode.go`, `isMerge`): a scalar (not an alias) `<<` that is
    /// implicit or tagged `tag:yaml.org,2002:merge`. Implicit is libyaml's `plain_implicit`: plain
    /// and untagged, or tagged with the non-specific `!` whatever its style. So `<<`, `!!merge
    /// "<<"`, `! "<<"` and `! <<` merge; `"<<"`, `'<<'`, `!!str <<` and `*alias` are the
    /// ordinary key `<<`.
    pub fn is_merge_key(&self) -> bool {
        let NodeKind::Scalar { value, style } = &self.kind else {
            return false;
        };
        if value != "<<" || self.alias {
            return false;
        }
        match self.tag.as_deref() {
            None => *style == Style::Plain,
            Some(tag) => tag == "!" || tag == "!!merge",
        }
    }

    /// Look up a string key in a mapping node (exact match, last one wins as in go-yaml).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.scalar_value() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The scalar as a string if it resolves to a string.
    pub fn as_str(&self) -> Option<&str> {
        match resolve(self) {
            Ok(Resolved::Str) => self.scalar_value(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_scalars_resolve_like_go_yaml_v2() {
        assert_eq!(resolve_plain("yes"), Resolved::Bool(true));
        assert_eq!(resolve_plain("Off"), Resolved::Bool(false));
        assert_eq!(resolve_plain("n"), Resolved::Bool(false));
        assert_eq!(resolve_plain("0755"), Resolved::Int(0o755));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(
            resolve_plain("123456789012"),
            Resolved::Int(123_456_789_012)
        );
        assert_eq!(
            resolve_plain("012345678901"),
            Resolved::Float(12_345_678_901.0)
        );
        assert_eq!(resolve_plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(resolve_plain(".5"), Resolved::Float(0.5));
        assert!(matches!(resolve_plain(".inf"), Resolved::Float(f) if f.is_infinite()));
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("nope"), Resolved::Str);
        assert_eq!(resolve_plain("2001-12-14"), Resolved::Str);
        assert_eq!(resolve_plain("12:30"), Resolved::Str);
        assert_eq!(resolve_plain("system:masters"), Resolved::Str);
    }

    #[test]
    fn null_timestamp_tags_and_float_overflow_follow_go_yaml_resolve() {
        let first = |text: &str| {
            let root = parse_first(text).expect("parses").root.expect("root");
            let NodeKind::Map(pairs) = root.kind else {
                panic!("mapping expected")
            };
            resolve(&pairs[0].1)
        };
        assert_eq!(first("a: !!null ~\n"), Ok(Resolved::Null));
        assert_eq!(first("a: !!null\n"), Ok(Resolved::Null));
        let e = first("a: !!null x\n").expect_err("go-yaml fails");
        assert_eq!(e.message, "cannot decode !!str `x` as a !!null");
        let e = first("a: !!timestamp admin\n").expect_err("go-yaml fails");
        assert_eq!(e.message, "cannot decode !!str `admin` as a !!timestamp");
        assert!(first("a: !!timestamp 12\n").is_err());
        assert_eq!(first("a: !!timestamp 2001-12-14\n"), Ok(Resolved::Str));
        for ok in [
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14T21:59:43Z",
            "2001-1-2 3:4:5",
            "2001-12-14 21:59:43.123456789",
            "2000-02-29",
        ] {
            assert!(go_parse_timestamp(ok), "{ok}");
        }
        for bad in [
            "2001-13-01",
            "2001-02-29",
            "01-12-14",
            "2001-12-14x",
            "2001-12-14T25:00:00Z",
        ] {
            assert!(!go_parse_timestamp(bad), "{bad}");
        }
        // strconv.ParseFloat fails on overflow (not underflow): the scalar stays a string.
        assert_eq!(resolve_plain("1e400"), Resolved::Str);
        assert_eq!(resolve_plain("-1e999"), Resolved::Str);
        assert_eq!(resolve_plain("1e-400"), Resolved::Float(0.0));
    }

    /// go-yaml's limits, level-exact (checked with tools/awsauth-oracle): 10,000 flow levels
    /// and 10,000 block indentation levels are read, one more is "exceeded max depth of 10000".
    /// The parser builds the tree without recursing; the tree is dropped on a deep stack.
    #[test]
    fn nesting_is_read_to_go_yaml_s_limit() {
        let flow = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        let block = |n: usize| {
            let mut t = String::new();
            for i in 0..n - 1 {
                t.push_str(&" ".repeat(i));
                t.push_str("k:\n");
            }
            t.push_str(&" ".repeat(n - 1));
            t.push_str("k: v\n");
            t
        };
        on_deep_stack(|| {
            let doc = parse_first(&flow(GO_YAML_MAX_DEPTH)).expect("10,000 flow levels");
            assert_eq!(doc.root.as_ref().map(depth), Some(GO_YAML_MAX_DEPTH + 1));
            assert!(parse_first(&block(GO_YAML_MAX_DEPTH)).is_ok());
            for text in [
                flow(GO_YAML_MAX_DEPTH + 1),
                flow(20_000),
                block(GO_YAML_MAX_DEPTH + 1),
            ] {
                let e = parse_first(&text).expect_err("too deep");
                assert_eq!(e.message, "exceeded max depth of 10000");
            }
        })
        .expect("thread");
    }

    #[test]
    fn positions_are_reported_per_node() {
        let doc = parse_first("a: 1\nb:\n  - x\n").expect("parses");
        let root = doc.root.expect("root");
        let b = root.get("b").expect("b");
        let NodeKind::Seq(items) = &b.kind else {
            panic!("seq expected")
        };
        assert_eq!(items[0].pos.line, 3);
        assert_eq!(items[0].pos.column, 5);
        assert_eq!(items[0].pos.offset, 12);
    }

    #[test]
    fn tabs_and_unquoted_templates() {
        assert!(parse_first("- rolearn: a\n\tusername: b\n").is_err());
        let doc = parse_first("- username: {{SessionName}}\n").expect("flow map parses");
        assert!(doc.root.is_some());
    }

    /// The first key of the first mapping of `text`.
    fn first_key(text: &str) -> Node {
        let root = parse_first(text).expect("parses").root.expect("root");
        let NodeKind::Map(pairs) = root.kind else {
            panic!("mapping expected")
        };
        pairs[0].0.clone()
    }

    #[test]
    fn merge_keys_follow_go_yaml_v2_is_merge() {
        // Implicit (plain untagged, or the non-specific `!` in any style) or tagged !!merge.
        for text in [
            "<<: {a: 1}\n",
            "!!merge <<: {a: 1}\n",
            "!!merge \"<<\": {a: 1}\n",
            "!!merge '<<': {a: 1}\n",
            "! \"<<\": {a: 1}\n",
            "! <<: {a: 1}\n",
            "!<!> '<<': {a: 1}\n",
            "!<tag:yaml.org,2002:merge> \"<<\": {a: 1}\n",
            "%TAG !y! tag:yaml.org,2002:\n--- \n!y!merge \"<<\": {a: 1}\n",
        ] {
            assert!(first_key(text).is_merge_key(), "{text:?} is a merge key");
        }
        // Quoted or block without a tag, another tag, another value, or an alias: the key `<<`.
        for text in [
            "\"<<\": {a: 1}\n",
            "'<<': {a: 1}\n",
            "? >-\n  <<\n: {a: 1}\n",
            "!!str <<: {a: 1}\n",
            "!custom <<: {a: 1}\n",
            "!!merge x: {a: 1}\n",
            "<<<: {a: 1}\n",
        ] {
            assert!(
                !first_key(text).is_merge_key(),
                "{text:?} is not a merge key"
            );
        }
        let doc = parse_first("- &k <<\n- *k : {a: 1}\n").expect("parses");
        let NodeKind::Seq(items) = doc.root.expect("root").kind else {
            panic!("sequence expected")
        };
        let NodeKind::Map(pairs) = &items[1].kind else {
            panic!("mapping expected")
        };
        assert!(pairs[0].0.alias);
        assert!(
            !pairs[0].0.is_merge_key(),
            "an aliased << is an ordinary key"
        );
    }

    #[test]
    fn tags_are_kept_in_short_form() {
        assert_eq!(first_key("!!str a: 1\n").tag.as_deref(), Some("!!str"));
        assert_eq!(
            first_key("!<tag:yaml.org,2002:str> a: 1\n").tag.as_deref(),
            Some("!!str")
        );
        assert_eq!(first_key("! a: 1\n").tag.as_deref(), Some("!"));
        assert_eq!(first_key("!x a: 1\n").tag.as_deref(), Some("!x"));
    }

    #[test]
    fn second_document_is_reported_not_read() {
        let doc = parse_first("- a\n---\n- b: [\n").expect("first document parses");
        assert!(doc.extra_document.is_some());
    }
}
