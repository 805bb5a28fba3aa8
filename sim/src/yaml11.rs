//! YAML -> JSON conversion with YAML 1.1 scalar resolution, as the Go `sigs.k8s.io/yaml`
//! (go-yaml v2) stack that aws-iam-authenticator uses does it.
//!
//! Built on yaml-rust2's event parser (not the product's serde-saphyr) with our own scalar
//! resolution, so that the simulator and the product are two independent implementations.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

pub const NOT_A_LIST_STR: &str = "yaml: unmarshal errors: cannot unmarshal !!str into []string";
pub const NOT_A_LIST_MAP: &str = "yaml: unmarshal errors: cannot unmarshal !!map into []string";

/// A `mapAccounts` text go-yaml cannot decode. `kept` is what the authenticator still holds:
/// go-yaml's `decoder.sequence` makes the slice with one zero value per item and fills it in
/// order, so a fatal error on an item (an invalid `!!binary`, `!!int x`) leaves the strings
/// decoded before it followed by empty strings.
#[derive(Debug, Clone, PartialEq)]
pub struct StringListError {
    pub message: String,
    pub kept: Vec<String>,
}

impl From<String> for StringListError {
    fn from(message: String) -> Self {
        StringListError {
            message,
            kept: Vec::new(),
        }
    }
}

/// go-yaml v2 `Unmarshal` of a YAML list into `[]string` (how the authenticator reads
/// `mapAccounts`): every non-null scalar item keeps its original text (`yes`, `0123`,
/// `123456789012` stay as written); a null item (`~`, `null`, nothing) decodes to `""` and is
/// kept (go-yaml sets the element to its zero value and reports success); a sequence or mapping
/// item is a type error and is skipped (`None`). Such items are never decoded further, so what
/// they contain (bad merges, collection keys, an invalid `!!binary`) is no error. A document
/// that is not a list is an error.
pub fn yaml_string_list(text: &str) -> Result<Vec<Option<String>>, StringListError> {
    let text_in = text;
    let (text, restore_bom, block_scalars) = libyaml_view(text)?;
    let mut builder = Builder {
        raw_strings: true,
        restore_bom,
        block_scalars,
        ..Builder::default()
    };
    parse_into(&text, &mut builder)?;
    libyaml_late_error(text_in)?;
    if let Some(err) = builder.error {
        return Err(err.into());
    }
    match builder.root.unwrap_or(Value::Null) {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            let mut out = Vec::new();
            for v in &items {
                match v {
                    Value::String(s) => match s.strip_prefix(FATAL) {
                        Some(message) => {
                            let mut kept: Vec<String> = out.into_iter().flatten().collect();
                            let filled = kept.len();
                            kept.extend((filled..items.len()).map(|_| String::new()));
                            return Err(StringListError {
                                message: message.to_string(),
                                kept,
                            });
                        }
                        None => out.push(Some(s.clone())),
                    },
                    Value::Null => out.push(Some(String::new())),
                    _ => out.push(None),
                }
            }
            Ok(out)
        }
        Value::String(s) => match s.strip_prefix(FATAL) {
            Some(message) => Err(message.to_string().into()),
            None => Err(NOT_A_LIST_STR.to_string().into()),
        },
        _ => Err(NOT_A_LIST_MAP.to_string().into()),
    }
}

/// Marks, in a `mapAccounts` text, a scalar go-yaml fails to decode (only an error if go-yaml
/// decodes it: a root scalar or a list item, not what a type-errored item holds).
const FATAL: &str = "\u{0}\u{fffe}fatal:";

/// Converts YAML text to JSON. Only the first document is read (as go-yaml's `Unmarshal`).
/// An empty document is `null`.
pub fn yaml_to_json(text: &str) -> Result<Value, String> {
    let text_in = text;
    let (text, restore_bom, block_scalars) = libyaml_view(text)?;
    let mut builder = Builder {
        restore_bom,
        block_scalars,
        ..Builder::default()
    };
    parse_into(&text, &mut builder)?;
    libyaml_late_error(text_in)?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    let root = builder.root.unwrap_or(Value::Null);
    if let Some(err) = non_finite(&root) {
        return Err(err.to_string());
    }
    Ok(root)
}

/// Marks a non-finite float value until the document is complete.
const NON_FINITE: &str = "\u{0}\u{fffe}non-finite:";

fn non_finite(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => s.strip_prefix(NON_FINITE),
        Value::Array(items) => items.iter().find_map(non_finite),
        Value::Object(map) => map.values().find_map(non_finite),
        _ => None,
    }
}

/// What yaml-rust2 must read to see what go-yaml v2 sees (see [`libyaml`]), or go-yaml's
/// scanner error. The flag says whether byte order marks were set aside (to be given back); the
/// list holds libyaml's value of each block scalar that has no content line.
pub fn libyaml_view(text: &str) -> Result<(String, bool, Vec<Option<String>>), String> {
    let mut scan = libyaml::scan(text);
    if let Some(e) = scan.error {
        return Err(format!("yaml: line {}: {}", e.pos.line, e.message));
    }
    // yaml-rust2 refuses a quoted scalar continued on a line indented less than its block;
    // libyaml folds those blanks away whatever they are.
    scan.indent_quoted_lines = true;
    let (view, restore) = match libyaml::as_libyaml_sees_it(text, &scan) {
        Some(t) => (t, true),
        None => (text.to_string(), false),
    };
    // libyaml's reader drops one byte order mark at the start of the stream (a second one is
    // the scanner's business, and the view has already turned it into what go-yaml sees).
    let view = match view.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => view,
    };
    Ok((view, restore, std::mem::take(&mut scan.block_scalars)))
}

/// go-yaml's nesting limit (`max_flow_level`, `max_indents` in scannerc.go).
const GO_YAML_MAX_DEPTH: usize = 10_000;

/// yaml-rust2 keeps its flow level in a `u8` and refuses flow collections nested deeper than
/// that ("recursion limit exceeded"); go-yaml reads 10,000 levels.
const YAML_RUST2_MAX_FLOW: usize = 250;

/// Parse the first document of `text` into `builder`: with yaml-rust2, or, for flow nesting
/// yaml-rust2 cannot hold, with granit-parser (limits set to go-yaml's), whose events are
/// handed to the same builder.
fn parse_into(text: &str, builder: &mut Builder) -> Result<(), String> {
    if libyaml::scan(text).max_flow <= YAML_RUST2_MAX_FLOW {
        let mut parser = Parser::new_from_str(text);
        return parser.load(builder, false).map_err(|e| go_style(&e));
    }
    use granit_parser::{Event as G, ScalarStyle as S};
    let mut parser = granit_parser::Parser::new_from_str_with_options(
        text,
        granit_parser::options! {
            flow_nesting_limit: GO_YAML_MAX_DEPTH,
            block_nesting_limit: GO_YAML_MAX_DEPTH,
        },
    );
    let tag = |t: Option<std::borrow::Cow<'_, granit_parser::Tag>>| {
        t.map(|t| {
            let (handle, suffix) = t.parts();
            Tag {
                handle: handle.to_string(),
                suffix: suffix.to_string(),
            }
        })
    };
    for next in parser.by_ref() {
        let (ev, span) = next.map_err(|e| {
            let line = e.marker().line();
            if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
                format!("yaml: line {line}: exceeded max depth of {GO_YAML_MAX_DEPTH}")
            } else {
                format!("yaml: line {line}: {}", e.info())
            }
        })?;
        let line = span.start.line();
        let ev = match ev {
            G::StreamStart => Event::StreamStart,
            G::StreamEnd => Event::StreamEnd,
            G::DocumentStart(..) => Event::DocumentStart,
            G::DocumentEnd => {
                builder.event(Event::DocumentEnd, line);
                // go-yaml reads the first document only.
                return Ok(());
            }
            G::Alias(id) => Event::Alias(id),
            G::Scalar(v, style, anchor, t) => {
                let style = match style {
                    S::Plain => TScalarStyle::Plain,
                    S::SingleQuoted => TScalarStyle::SingleQuoted,
                    S::DoubleQuoted => TScalarStyle::DoubleQuoted,
                    S::Literal => TScalarStyle::Literal,
                    _ => TScalarStyle::Folded,
                };
                Event::Scalar(v.into_owned(), style, anchor, tag(t))
            }
            G::SequenceStart(_, anchor, t) => Event::SequenceStart(anchor, tag(t)),
            G::MappingStart(_, anchor, t) => Event::MappingStart(anchor, tag(t)),
            G::SequenceEnd => Event::SequenceEnd,
            G::MappingEnd => Event::MappingEnd,
            _ => continue,
        };
        builder.event(ev, line);
    }
    Ok(())
}

/// The structural error libyaml raised that yaml-rust2 may not see (checked after it parsed).
fn libyaml_late_error(text: &str) -> Result<(), String> {
    match libyaml::scan(text).late_error {
        Some(e) => Err(format!("yaml: line {}: {}", e.pos.line, e.message)),
        None => Ok(()),
    }
}

/// go-yaml's error shape: `yaml: line N: <what>`.
fn go_style(e: &yaml_rust2::scanner::ScanError) -> String {
    // go-yaml reports libyaml's problem without its context ("while parsing a block mapping").
    let info = e.info();
    let problem = match info.split_once(", ") {
        Some((context, problem)) if context.starts_with("while ") => problem,
        _ => info,
    };
    format!("yaml: line {}: {problem}", e.marker().line())
}

enum Node {
    Scalar(Value, String),
    Complex(Value),
    /// A `<<` that go-yaml takes for a merge key (see [`is_merge_key`]); an ordinary `"<<"`
    /// string anywhere but in key position.
    MergeKey,
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Scalar(v, _) | Node::Complex(v) => v,
            Node::MergeKey => Value::String("<<".into()),
        }
    }
}

/// A mapping's key waiting for its value.
enum Pending {
    Key(String),
    Merge,
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map(Map<String, Value>, Option<Pending>, usize),
}

const MERGE_TAG: &str = "tag:yaml.org,2002:merge";
const WANT_MAP: &str = "yaml: map merge requires map or sequence of maps as the value";

/// go-yaml v2 `isMerge`: the scalar `<<` that is implicit (plain and untagged, or tagged with the
/// non-specific `!`, as libyaml's `plain_implicit`), or is explicitly tagged `!!merge`.
fn is_merge_key(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> bool {
    if text != "<<" {
        return false;
    }
    match tag {
        None => style == TScalarStyle::Plain,
        Some(t) => {
            (t.handle.is_empty() && t.suffix == "!")
                || format!("{}{}", t.handle, t.suffix) == MERGE_TAG
        }
    }
}

/// go-yaml v2 `decoder.merge` into a map: a mapping's pairs are written into the map being
/// built, replacing what earlier keys wrote (later keys replace them in turn: v2 decodes a
/// mapping strictly in document order); a sequence of mappings is merged from its last item to
/// its first, so that earlier items win. Anything else fails the whole document.
fn apply_merge(map: &mut Map<String, Value>, value: Value) -> Result<(), String> {
    match value {
        Value::Object(pairs) => {
            for (k, v) in pairs {
                map.insert(k, v);
            }
            Ok(())
        }
        Value::Array(items) => {
            if !items.iter().all(Value::is_object) {
                return Err(WANT_MAP.into());
            }
            for item in items.into_iter().rev() {
                apply_merge(map, item)?;
            }
            Ok(())
        }
        _ => Err(WANT_MAP.into()),
    }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    anchors: HashMap<usize, Value>,
    error: Option<String>,
    done: bool,
    /// go-yaml decoding into a `string`: a non-null scalar keeps its original text.
    raw_strings: bool,
    /// Give back the byte order marks `libyaml_view` set aside.
    restore_bom: bool,
    /// libyaml's value of each block scalar without content, in order (see `libyaml_view`):
    /// yaml-rust2 reads `|` with nothing under it as "\n", libyaml as "".
    block_scalars: Vec<Option<String>>,
    /// Block scalars seen so far.
    block_index: usize,
}

impl Builder {
    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    fn insert(&mut self, node: Node, line: usize) {
        // Decoding into `[]string` never looks inside a mapping (it is a type error as a whole),
        // so nothing there can fail the document.
        let decoded = !self.raw_strings;
        let error = match self.stack.last_mut() {
            None => {
                self.root = Some(node.into_value());
                None
            }
            Some(Frame::Seq(items, _)) => {
                items.push(node.into_value());
                None
            }
            Some(Frame::Map(map, pending, _)) => match pending.take() {
                None => match node {
                    Node::MergeKey => {
                        *pending = Some(Pending::Merge);
                        None
                    }
                    // sigs.k8s.io/yaml cannot make a JSON key of a null key.
                    Node::Scalar(Value::Null, _) if decoded => {
                        Some("unsupported map key of type: <nil>".to_string())
                    }
                    Node::Scalar(_, key) => {
                        *pending = Some(Pending::Key(key));
                        None
                    }
                    Node::Complex(_) if decoded => {
                        Some(format!("yaml: line {line}: invalid map key"))
                    }
                    // Keep the pairs aligned; the mapping is never decoded anyway.
                    Node::Complex(_) => {
                        *pending = Some(Pending::Key(String::new()));
                        None
                    }
                },
                Some(Pending::Key(key)) => {
                    map.insert(key, node.into_value());
                    None
                }
                Some(Pending::Merge) if decoded => apply_merge(map, node.into_value()).err(),
                Some(Pending::Merge) => None,
            },
        };
        if let Some(e) = error {
            self.fail(e);
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.event(ev, mark.line());
    }
}

impl Builder {
    /// One parser event (from yaml-rust2, or from granit-parser for deep flow nesting).
    fn event(&mut self, ev: Event, line: usize) {
        if self.error.is_some() || self.done {
            return;
        }
        match ev {
            Event::DocumentEnd => {
                if self.stack.is_empty() {
                    self.done = true;
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(v) => {
                    let key = scalar_key(&v);
                    let node = match key {
                        Some(k) => Node::Scalar(v, k),
                        None => Node::Complex(v),
                    };
                    self.insert(node, line);
                }
                None => self.fail(format!("yaml: line {line}: unknown anchor")),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let text = if self.restore_bom {
                    text.replace(libyaml::BOM_PLACEHOLDER, "\u{feff}")
                } else {
                    text
                };
                let text = if matches!(style, TScalarStyle::Literal | TScalarStyle::Folded) {
                    self.block_index += 1;
                    match self.block_scalars.get(self.block_index - 1) {
                        Some(Some(empty)) => empty.clone(),
                        _ => text,
                    }
                } else {
                    text
                };
                let resolved = resolve_scalar(&text, style, tag.as_ref());
                // An infinite or NaN key is fine: sigs.k8s.io/yaml formats float keys itself
                // (`.inf`, `-.inf`, `.nan`); only such a value has no JSON form.
                let is_key = matches!(self.stack.last(), Some(Frame::Map(_, None, _)));
                let resolved = match resolved {
                    Ok(Value::Null) => Ok(Value::Null),
                    // go-yaml keeps a scalar's text for a string target, except that it
                    // decodes !!binary first.
                    Ok(v @ Value::String(_)) if self.raw_strings && is_binary(tag.as_ref()) => {
                        Ok(v)
                    }
                    Ok(_) if self.raw_strings => Ok(Value::String(text.clone())),
                    // go-yaml's resolve fails before it looks at the target (`!!null x`, an
                    // invalid `!!binary`); only the JSON stage's non-finite floats do not
                    // concern a string target.
                    Err(e) if self.raw_strings && e.starts_with("json: unsupported value") => {
                        Ok(Value::String(text.clone()))
                    }
                    // Decoding into `[]string`: the error counts only where go-yaml decodes
                    // this scalar (see `yaml_string_list`).
                    Err(e) if self.raw_strings => Ok(Value::String(format!("{FATAL}yaml: {e}"))),
                    Err(_) if is_key => Ok(Value::String(text.to_ascii_lowercase())),
                    // json.Marshal fails only if the value is still there at the end (a later
                    // duplicate key replaces it): marked now, checked in `yaml_to_json`.
                    Err(e) if e.starts_with("json: unsupported value") => {
                        Ok(Value::String(format!("{NON_FINITE}{e}")))
                    }
                    other => other,
                };
                match resolved {
                    Ok(v) => {
                        if anchor > 0 {
                            self.anchors.insert(anchor, v.clone());
                        }
                        if is_merge_key(&text, style, tag.as_ref()) {
                            self.insert(Node::MergeKey, line);
                            return;
                        }
                        let key = scalar_key(&v).unwrap_or(text);
                        self.insert(Node::Scalar(v, key), line);
                    }
                    Err(e) => self.fail(format!("yaml: line {line}: {e}")),
                }
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(Map::new(), None, anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(items, a)) => (Value::Array(items), a),
                    Some(Frame::Map(map, _, a)) => (Value::Object(map), a),
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.insert(Node::Complex(v), line);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
        }
    }
}

fn is_binary(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| {
        (t.handle == "!!" || t.handle == "tag:yaml.org,2002:") && t.suffix == "binary"
    })
}

/// The JSON object key a scalar becomes (sigs.k8s.io/yaml stringifies non-string keys).
fn scalar_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some("null".to_string()),
        _ => None,
    }
}

const TRUE_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const FALSE_WORDS: &[&str] = &[
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];

/// The floats JSON cannot hold (go-yaml resolves them; json.Marshal then fails).
const INFINITIES: &[&str] = &[
    ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN",
    ".NAN",
];

/// YAML 1.1 resolution of one scalar, as go-yaml v2 does it for plain scalars.
pub fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
            match tag.suffix.as_str() {
                "str" => return Ok(Value::String(text.to_string())),
                // go-yaml's resolve checks the tag: a timestamp stays its text (interface{}),
                // anything else fails "cannot decode !!str `admin` as a !!timestamp".
                "timestamp" => {
                    if is_go_timestamp(text) {
                        return Ok(Value::String(text.to_string()));
                    }
                    return Err(format!(
                        "cannot decode !!{} `{text}` as a !!timestamp",
                        type_name(&resolve_plain(text))
                    ));
                }
                // go-yaml decodes base64 into the bytes (a Go string; JSON writes U+FFFD for
                // invalid UTF-8).
                "binary" => {
                    use base64::Engine as _;
                    let compact: String =
                        text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
                    return base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .map(|b| Value::String(String::from_utf8_lossy(&b).into_owned()))
                        .map_err(|_| "!!binary value contains invalid base64 data".to_string());
                }
                "null" => {
                    return match resolve_plain(text) {
                        Some(Value::Null) => Ok(Value::Null),
                        other => Err(format!(
                            "cannot decode !!{} `{text}` as a !!null",
                            type_name(&other)
                        )),
                    };
                }
                // go-yaml's resolve: the text (whatever its style) is resolved as a plain
                // scalar and must give the tag's type (an int is a float too).
                "float" if INFINITIES.contains(&text) => {
                    return Err(format!("json: unsupported value: {text}"));
                }
                t @ ("bool" | "int" | "float") => {
                    let implicit = resolve_plain(text);
                    let fits = match (t, &implicit) {
                        ("bool", Some(Value::Bool(_))) => true,
                        ("int", Some(Value::Number(n))) => !n.is_f64(),
                        ("float", Some(Value::Number(_))) => true,
                        _ => false,
                    };
                    if !fits {
                        return Err(format!(
                            "cannot decode !!{} `{text}` as a !!{t}",
                            type_name(&implicit)
                        ));
                    }
                    return Ok(implicit.unwrap_or(Value::Null));
                }
                // Any other tag (`!!merge`, `!!seq`, a misspelt `!!sr`) is not resolvable:
                // go-yaml keeps the text as a string.
                _ => return Ok(Value::String(text.to_string())),
            }
        }
        return Ok(Value::String(text.to_string()));
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    if INFINITIES.contains(&text) {
        return Err(format!("json: unsupported value: {text}"));
    }
    Ok(resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string())))
}

/// go-yaml v2's `parseTimestamp` (resolve.go): the text starts with a 4-digit year and `-`, and
/// Go's `time.Parse` accepts it with one of `2006-1-2T15:4:5.999999999Z07:00`,
/// `2006-1-2t15:4:5.999999999Z07:00`, `2006-1-2 15:4:5.999999999` or `2006-1-2`.
fn is_go_timestamp(s: &str) -> bool {
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

/// go-yaml's short name of what a scalar resolves to (for its "cannot decode" message).
fn type_name(v: &Option<Value>) -> &'static str {
    match v {
        None | Some(Value::String(_)) => "str",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(n)) if n.is_f64() => "float",
        Some(_) => "int",
    }
}

fn resolve_plain(text: &str) -> Option<Value> {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    if TRUE_WORDS.contains(&text) {
        return Some(Value::Bool(true));
    }
    if FALSE_WORDS.contains(&text) {
        return Some(Value::Bool(false));
    }
    let first = text.as_bytes().first().copied()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(i) = parse_go_int(&cleaned) {
        return Some(Value::Number(Number::from(i)));
    }
    if is_yaml_float(text) {
        let f: f64 = text.parse().ok()?;
        return Number::from_f64(f).map(Value::Number);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, 0x / 0o / 0b prefixes, a leading 0 means octal.
fn parse_go_int(s: &str) -> Option<i64> {
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
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
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

#[cfg(test)]
mod tests {

    #[test]
    fn go_yaml_cases_yaml_rust2_reads_otherwise() {
        // Each verified with go-yaml v2.4.0 (tools/awsauth-oracle).
        // A fatal item error in []string keeps the strings before it, then zero values.
        let e = yaml_string_list("- \"111122223333\"\n- [!!binary x]\n- !!binary x\n- \"4\"\n")
            .expect_err("invalid base64");
        assert_eq!(e.kept, ["111122223333", "", "", ""]);
        // A block scalar with no content line is "".
        assert_eq!(
            yaml_string_list("- \"1\"\n- |\n").expect("loads"),
            [Some("1".to_string()), Some(String::new())]
        );
        // Unresolvable tags keep the text; a tag the text does not resolve to fails.
        assert_eq!(
            yaml_to_json("- username: !!sr 5\n").expect("loads"),
            serde_json::json!([{"username": "5"}])
        );
        assert!(yaml_to_json("- note: !!bool maybe\n").is_err());
        // A quoted scalar continued at column 0 (a lone CR is a line break to libyaml).
        assert_eq!(
            yaml_to_json("- username: 'admin\r'\n  groups: [a]\n").expect("loads"),
            serde_json::json!([{"username": "admin ", "groups": ["a"]}])
        );
        // Flow nesting deeper than yaml-rust2's u8 flow level.
        let deep = format!("- x: {}{}\n", "[".repeat(300), "]".repeat(300));
        assert!(yaml_to_json(&deep).is_ok());
        // Two byte order marks: the second line's `-` is skipped.
        assert!(yaml_string_list("\u{feff}\u{feff}- 1\n- 2\n").is_err());
        // LS in a plain scalar's fold stays in the value.
        assert_eq!(
            yaml_to_json("- g: a\u{2028}    b\n").expect("loads"),
            serde_json::json!([{"g": "a\u{2028}b"}])
        );
        // ... but a scalar folded there that turns out to be a key spans lines: an error.
        assert!(yaml_to_json("- g: [a\u{2028}- b: c]\n").is_err());
        // LS in a quoted scalar's fold stays too (the blanks around it go), and a line feed
        // after it is kept as well (tools/awsauth-oracle).
        assert_eq!(
            yaml_to_json(
                "- g: \"a  \u{2028}    b\"\n  h: 'c\u{2028}\n\n   d'\n  i: \"e\\\n \u{2028} f\"\n"
            )
            .expect("loads"),
            serde_json::json!([{"g": "a\u{2028}b", "h": "c\u{2028}\n\nd", "i": "e\u{2028}f"}])
        );
    }
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml11_scalars() {
        let v = yaml_to_json("a: yes\nb: off\nc: 123456789012\nd: '123'\ne: 0x1f\nf: 1.5\ng: ~\nh: text\ni: 0755\nj: \"yes\"\n").expect("parses");
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": 123456789012i64, "d": "123", "e": 31, "f": 1.5, "g": null, "h": "text", "i": 493, "j": "yes"})
        );
    }

    #[test]
    fn syntax_errors_and_invalid_keys() {
        assert!(yaml_to_json("- a: 1\n  b: 2\n c: 3\n").is_err());
        assert!(yaml_to_json("- username: {{SessionName}}\n").is_err());
        assert!(yaml_to_json("- a: 1\n\t b: 2\n").is_err());
    }

    #[test]
    fn string_lists_keep_original_text() {
        assert_eq!(
            yaml_string_list("- \"123456789012\"\n- 210987654321\n- yes\n- 0123\n- ~\n- {a: b}\n")
                .expect("list"),
            vec![
                Some("123456789012".into()),
                Some("210987654321".into()),
                Some("yes".into()),
                Some("0123".into()),
                Some(String::new()),
                None
            ]
        );
        assert!(yaml_string_list("a: b\n").is_err());
        assert_eq!(
            yaml_string_list("").expect("empty"),
            Vec::<Option<String>>::new()
        );
    }

    #[test]
    fn libyaml_tab_rule() {
        // Checked against go-yaml v2.4.0 (tools/awsauth-oracle).
        for bad in [
            "- \ta: b\n",
            "-\ta: b\n",
            "\ta: b\n",
            "- a: b\n\tc: d\n",
            "a: |\n  x\n\ty\n",
        ] {
            assert!(yaml_to_json(bad).is_err(), "{bad:?}");
        }
        // A tab after a simple key's `:` is skipped (no simple key may start there), and a
        // tab-only line after a complete value is blank.
        for good in ["a:\tb\n", "a: b\n  \t\n"] {
            assert!(yaml_to_json(good).is_ok(), "{good:?}");
        }
        for good in [
            "a: b\t# c\n",
            "a: b\t\n",
            "a: [b,\tc]\n",
            "a: \"x\ty\"\n",
            "a: 'x\ty'\n",
            "a: |\n  x\n  \ty\n",
            "a: b # \tc\n",
            "{\"a\":\t\"b\"}",
        ] {
            assert!(
                yaml_to_json(good).is_ok(),
                "{good:?}: {:?}",
                yaml_to_json(good)
            );
        }
        // go-yaml v2 loads this one (`y` is the YAML 1.1 boolean true).
        assert_eq!(
            yaml_to_json("- rolearn: x\n  username:\ty\n").expect("tab after key"),
            serde_json::from_str::<Value>(r#"[{"rolearn": "x", "username": true}]"#).expect("json")
        );
        assert_eq!(
            yaml_to_json("- rolearn: x\n-\ty\n").expect_err("tab after dash"),
            "yaml: line 2: found character that cannot start any token"
        );
    }

    #[test]
    fn first_document_only_and_empty() {
        assert_eq!(yaml_to_json("").expect("empty"), Value::Null);
        assert_eq!(yaml_to_json("- a\n---\n- b\n").expect("docs"), json!(["a"]));
    }

    #[test]
    fn merge_keys() {
        // go-yaml v2 decodes a mapping in document order: a merge replaces the keys written
        // before it, keys written after it replace merged ones; in a sequence of merges the
        // earlier mappings win.
        assert_eq!(
            yaml_to_json("a: &x {k: 1, l: 1}\nb:\n  <<: *x\n  l: 2\n").expect("merge"),
            json!({"a": {"k": 1, "l": 1}, "b": {"k": 1, "l": 2}})
        );
        assert_eq!(
            yaml_to_json("b:\n  l: 2\n  <<: {k: 1, l: 1}\n").expect("merge"),
            json!({"b": {"l": 1, "k": 1}})
        );
        assert_eq!(
            yaml_to_json("- &p {a: 1, b: 1}\n- &q {b: 2, c: 2}\n- <<: [*p, *q]\n").expect("seq")[2],
            json!({"a": 1, "b": 1, "c": 2})
        );
        // Explicitly tagged merges count; a quoted or aliased `<<` is an ordinary key.
        assert_eq!(
            yaml_to_json("!!merge <<: {a: 1}\n").expect("tagged"),
            json!({"a": 1})
        );
        assert_eq!(
            yaml_to_json("! \"<<\": {a: 1}\n").expect("non-specific tag"),
            json!({"a": 1})
        );
        assert_eq!(
            yaml_to_json("\"<<\": {a: 1}\n").expect("quoted"),
            json!({"<<": {"a": 1}})
        );
        assert_eq!(
            yaml_to_json("x: &m <<\n*m : 1\n").expect("alias key"),
            json!({"x": "<<", "<<": 1})
        );
        for bad in [
            "<<: 1\n",
            "<<: ~\n",
            "<<: [{a: 1}, 2]\n",
            "<<: [[a]]\n",
            "a: &s str\n<<: *s\n",
        ] {
            assert_eq!(
                yaml_to_json(bad).expect_err(bad),
                "yaml: map merge requires map or sequence of maps as the value"
            );
        }
    }

    #[test]
    fn infinite_keys_are_fine_infinite_values_are_not() {
        assert_eq!(
            yaml_to_json("- rolearn: x\n  .inf: a\n  -.Inf: b\n  .NaN: c\n").expect("keys"),
            json!([{"rolearn": "x", ".inf": "a", "-.inf": "b", ".nan": "c"}])
        );
        assert!(yaml_to_json("- rolearn: x\n  a: .inf\n").is_err());
    }

    #[test]
    fn null_map_key_cannot_become_json() {
        assert!(yaml_to_json("~: a\n").is_err());
        assert!(yaml_to_json("- {null: a}\n").is_err());
        assert_eq!(
            yaml_to_json("\"null\": a\n").expect("string"),
            json!({"null": "a"})
        );
    }

    #[test]
    fn anchors_and_aliases() {
        assert_eq!(
            yaml_to_json("a: &x [1, 2]\nb: *x\n").expect("alias"),
            json!({"a": [1, 2], "b": [1, 2]})
        );
    }
}

/// libyaml's scanner rules that a YAML 1.2 parser (yaml-rust2) does not have: where a tab is
/// refused, `\r`/NEL/LS/PS as line breaks, comments right after a token, directives, and that
/// go-yaml reads nothing after the first document's root node. A replay of go-yaml v2.4.0's
/// scannerc.go state (flow level, indentation stack, "simple key allowed"), kept honest by the
/// differential test against the real library (tests/awsauth_oracle.rs, tools/awsauth-oracle).
#[allow(dead_code)]
mod libyaml {
    /// A position: 1-based line and column (characters), byte offset.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Pos {
        pub line: usize,
        pub column: usize,
        pub offset: usize,
    }

    /// A scanner error libyaml raises and a YAML 1.2 parser does not.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ScanError {
        pub pos: Pos,
        /// go-yaml's wording (without the `yaml: line N:` prefix).
        pub message: &'static str,
    }

    pub const TAB_CANNOT_START: &str = "found character that cannot start any token";
    pub const TAB_VIOLATES_INDENTATION: &str = "found a tab character that violates indentation";
    pub const TAB_IN_BLOCK_INDENTATION: &str =
        "found a tab character where an indentation space is expected";
    pub const DOCUMENT_END_FIRST: &str = "did not find expected node content";
    pub const UNKNOWN_DIRECTIVE: &str = "found unknown directive name";
    pub const INCOMPATIBLE_VERSION: &str = "found incompatible YAML document";
    pub const ANCHOR_END: &str = "did not find expected alphabetic or numeric character";
    pub const CANNOT_START: &str = "found character that cannot start any token";
    pub const ENTRY_NOT_ALLOWED: &str = "block sequence entries are not allowed in this context";
    pub const KEY_NOT_ALLOWED: &str = "mapping keys are not allowed in this context";
    pub const VALUE_NOT_ALLOWED: &str = "mapping values are not allowed in this context";
    pub const EXPECTED_KEY: &str = "did not find expected key";
    pub const DIRECTIVE_TAIL: &str = "did not find expected comment or line break";
    pub const DOCUMENT_INDICATOR: &str = "found unexpected document indicator";
    pub const FLOW_ENTRY_EXPECTED: &str = "did not find expected ',' or ']' / '}'";

    /// go-yaml reads its input in chunks of this many bytes (`input_raw_buffer_size`).
    const CHUNK: usize = 512;

    /// What libyaml sees in a text that a YAML 1.2 parser may not.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Scan {
        pub error: Option<ScanError>,
        /// Byte ranges of comments that start right after a token with no blank before the `#`
        /// (libyaml: a comment; YAML 1.2: an error or part of a scalar).
        pub tight_comments: Vec<(usize, usize)>,
        /// The text has line breaks other than `\n` and `\r\n` (a lone `\r`, NEL, LS, PS).
        pub unusual_breaks: bool,
        /// A `%` directive after content: libyaml ends the first document there (go-yaml reads
        /// only the first), where YAML 1.2 wants a `...` first.
        pub document_cut: Option<usize>,
        /// Byte offsets of tabs libyaml skips as mere separation between tokens (some YAML 1.2
        /// parsers refuse a tab after `key:`; a space there means the same to libyaml).
        pub separator_tabs: Vec<usize>,
        /// Byte offsets of `\'` escapes in double-quoted scalars (libyaml: an apostrophe; not a
        /// YAML 1.2 escape).
        pub quote_escapes: Vec<usize>,
        /// Byte offsets where an anchor or alias name ends at an indicator with no blank before
        /// it (`&g:x`, `&g?x`): libyaml's names are only `[0-9A-Za-z_-]`, YAML 1.2 names run to
        /// the next blank. A space is put there; `true` when the indicator is a `:` in flow
        /// context, which libyaml takes as a value indicator, so a space goes after it too.
        pub anchor_ends: Vec<(usize, bool)>,
        /// Byte offsets of a plain scalar `-` right before `,`, `]` or `}` in flow context
        /// (`[a, -]`): libyaml reads the scalar `-`, YAML 1.2 needs a safe character after a
        /// leading `-`. It is quoted (`"-"`, the same string).
        pub flow_dashes: Vec<usize>,
        /// A structural error libyaml raises where a YAML 1.2 parser would usually fail too (and
        /// point better): reported only when the YAML 1.2 parser accepts the text.
        pub late_error: Option<ScanError>,
        /// (byte offset, byte length) of characters go-yaml skips at the start of a line because
        /// the text starts with two byte order marks (see [`Scanner::bom_skip`]); each becomes a
        /// space.
        pub bom_skips: Vec<(usize, usize)>,
        /// Byte offsets of the starts of continuation lines of quoted scalars in block context,
        /// with the column the enclosing block is indented to: libyaml never checks their
        /// indentation (their leading blanks are folded away), some YAML 1.2 parsers want them
        /// indented deeper than the block.
        pub quoted_lines: Vec<(usize, i64)>,
        /// Set by a caller whose YAML 1.2 parser wants [`Scan::quoted_lines`] indented deeper than
        /// their block: [`as_libyaml_sees_it`] then puts spaces there (the value is the same:
        /// leading blanks of a quoted scalar's continuation line are folded away).
        pub indent_quoted_lines: bool,
        /// One per block scalar, in document order: libyaml's value when it has no content line
        /// (`""`, or the empty lines' breaks with `+`), `None` when it has content.
        pub block_scalars: Vec<Option<String>>,
        /// The deepest flow collection nesting scanned.
        pub max_flow: usize,
        /// Folds of a plain scalar at a single LS or PS line break: (start of the blanks before
        /// the break, start of the next line's content). libyaml keeps the LS/PS there in place
        /// of the space a fold gives; the text becomes that one character (the scalar is then on
        /// one line for a YAML 1.2 parser, to which LS and PS are ordinary characters).
        pub ls_folds: Vec<(usize, usize)>,
        /// Line breaks inside a quoted scalar where one is LS or PS: (start of the blanks before
        /// them, or of the `\` of an escaped line break; end of the blanks after them; libyaml's
        /// value for that stretch; the quote). libyaml keeps LS and PS in the value where another
        /// break folds to a space (`"a<LS>  b"` is `a<LS>b`); a YAML 1.2 parser reads them as
        /// content. The stretch is rewritten so that a YAML 1.2 parser reads libyaml's value.
        pub quoted_ls: Vec<QuotedLs>,
    }

    /// One stretch of [`Scan::quoted_ls`].
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct QuotedLs {
        pub start: usize,
        pub end: usize,
        /// What libyaml puts in the value there (only `\n`, LS and PS).
        pub value: String,
        pub quote: char,
        /// The column continuation lines must be indented deeper than (the enclosing block's).
        pub indent: i64,
    }

    /// libyaml's `read_line`: CRLF, CR, LF and NEL are `\n` in a value, LS and PS are kept.
    fn read_line(c: char) -> char {
        if matches!(c, '\u{2028}' | '\u{2029}') {
            c
        } else {
            '\n'
        }
    }

    struct Scanner<'a> {
        text: &'a str,
        chars: Vec<(usize, char)>,
        i: usize,
        line: usize,
        column: usize,
        flow: usize,
        simple_key_allowed: bool,
        indent: i64,
        indents: Vec<i64>,
        /// One possible simple key per flow level: (line, column, char index).
        simple_keys: Vec<Option<(usize, usize, usize)>>,
        tokens: usize,
        /// A block collection was opened at the document level (the root is one).
        block_root: bool,
        /// The last token completed a scalar or flow collection at the document level: the root,
        /// unless a `:` follows and makes it a key.
        root_scalar: bool,
        /// Something other than directives and `---` was scanned.
        content: bool,
        last_plain: bool,
        /// A `---` was scanned.
        started: bool,
        /// go-yaml's `is_bom` looks at the start of its decoded buffer, not at the reading
        /// position: when the text (after the byte order mark the reader drops) starts with a
        /// second one, every time the scanner looks for the next token at column 0 it skips one
        /// character, whatever it is, until the buffer is refilled (input is read in 512-byte
        /// chunks; a refill moves the unread characters to the start of the buffer).
        bom_buffer: bool,
        /// The node properties (anchor, tag) scanned so far for the root node, when the root
        /// starts with them: libyaml's parser takes at most one anchor and one tag, and a third
        /// property (a second anchor or tag) ends the root as an empty scalar.
        root_props: Option<(bool, bool)>,
        /// Columns of `?` complex keys in block context still waiting for their `:`.
        complex_keys: Vec<usize>,
        /// This token is only peeked after the root node (see [`Scanner::fail_parser`]).
        peek_only: bool,
        out: Scan,
    }

    fn is_break(c: char) -> bool {
        matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
    }

    fn is_blank(c: char) -> bool {
        c == ' ' || c == '\t'
    }

    impl<'a> Scanner<'a> {
        fn at(&self, k: usize) -> Option<char> {
            self.chars.get(self.i + k).map(|(_, c)| *c)
        }

        fn blankz(&self, k: usize) -> bool {
            self.at(k)
                .is_none_or(|c| is_blank(c) || is_break(c) || c == '\0')
        }

        fn offset(&self) -> usize {
            self.chars.get(self.i).map_or(self.text.len(), |(o, _)| *o)
        }

        fn pos(&self) -> Pos {
            Pos {
                line: self.line,
                column: self.column + 1,
                offset: self.offset(),
            }
        }

        fn skip(&mut self) {
            self.i += 1;
            self.column += 1;
        }

        /// Consume one line break (`\r\n` counts as one).
        fn skip_break(&mut self) {
            match self.at(0) {
                Some('\r') if self.at(1) == Some('\n') => self.i += 2,
                Some(c) => {
                    if c != '\n' {
                        self.out.unusual_breaks = true;
                    }
                    self.i += 1;
                }
                None => {}
            }
            self.line += 1;
            self.column = 0;
        }

        /// An error of libyaml's parser (not its scanner): none when the scanner only peeks the
        /// token after a complete root node, which the parser never reads.
        fn fail_parser(&mut self, message: &'static str) -> bool {
            if self.peek_only {
                return true;
            }
            self.fail_late(message)
        }

        fn fail_late(&mut self, message: &'static str) -> bool {
            self.out.late_error = Some(ScanError {
                pos: self.pos(),
                message,
            });
            false
        }

        fn fail(&mut self, message: &'static str) -> bool {
            self.out.error = Some(ScanError {
                pos: self.pos(),
                message,
            });
            false
        }

        fn roll_indent(&mut self, column: usize) {
            if self.flow == 0 && self.indent < column as i64 {
                if self.indent < 0 {
                    self.block_root = true;
                }
                self.indents.push(self.indent);
                self.indent = column as i64;
            }
        }

        fn unroll_indent(&mut self, column: i64) {
            if self.flow > 0 {
                return;
            }
            while self.indent > column {
                self.indent = self.indents.pop().unwrap_or(-1);
            }
        }

        /// A possible simple key that a `:` here would complete (same line, within 1024 chars).
        fn valid_key(&self) -> bool {
            let (line, i) = (self.line, self.i);
            self.simple_keys
                .last()
                .copied()
                .flatten()
                .is_some_and(|(l, _, ki)| l == line && ki + 1024 >= i)
        }

        fn save_simple_key(&mut self) {
            if self.simple_key_allowed
                && let Some(k) = self.simple_keys.last_mut()
            {
                *k = Some((self.line, self.column, self.i));
            }
        }

        fn remove_simple_key(&mut self) {
            if let Some(k) = self.simple_keys.last_mut() {
                *k = None;
            }
        }

        /// Whether go-yaml's start-of-line byte order mark check fires here (see `bom_buffer`).
        /// The buffer holds the first 512 bytes of input until the scanner asks for characters
        /// past them (a few characters before the end of the chunk).
        fn bom_skip(&self) -> bool {
            self.bom_buffer
                && self.column == 0
                && self.i < self.chars.len()
                && (self.text.len() <= CHUNK || self.offset() + 4 <= CHUNK)
        }

        /// yaml_parser_scan_to_next_token.
        fn scan_to_next_token(&mut self) {
            loop {
                if self.bom_skip() {
                    let (at, c) = self.chars[self.i];
                    self.out.bom_skips.push((at, c.len_utf8()));
                    // `skip`: one character, even a line break, and the column moves on.
                    self.skip();
                }
                while let Some(c) = self.at(0) {
                    if c == ' ' || ((self.flow > 0 || !self.simple_key_allowed) && c == '\t') {
                        if c == '\t' {
                            let at = self.offset();
                            self.out.separator_tabs.push(at);
                        }
                        self.skip();
                    } else {
                        break;
                    }
                }
                if self.at(0) == Some('#') {
                    let start = self.offset();
                    let tight = self.i > 0 && {
                        let prev = self.chars[self.i - 1].1;
                        !is_blank(prev) && !is_break(prev) && prev != '\u{feff}'
                    };
                    while self.at(0).is_some_and(|c| !is_break(c)) {
                        self.skip();
                    }
                    if tight {
                        self.out.tight_comments.push((start, self.offset()));
                    }
                }
                match self.at(0) {
                    Some(c) if is_break(c) => {
                        self.skip_break();
                        if self.flow == 0 {
                            self.simple_key_allowed = true;
                        }
                    }
                    _ => return,
                }
            }
        }

        /// yaml_parser_fetch_next_token, reduced to its effect on the state. Returns false to stop.
        fn next_token(&mut self) -> bool {
            self.scan_to_next_token();
            // Stale simple keys: a key must end on its line and within 1024 characters.
            let (line, i) = (self.line, self.i);
            for k in self.simple_keys.iter_mut() {
                if k.is_some_and(|(l, _, ki)| l < line || ki + 1024 < i) {
                    *k = None;
                }
            }
            self.unroll_indent(self.column as i64);
            let Some(c) = self.at(0) else {
                return false;
            };
            let first = self.tokens == 0;
            self.tokens += 1;
            let marker = self.column == 0
                && (c == '%'
                    || ((c == '-' || c == '.')
                        && self.at(1) == Some(c)
                        && self.at(2) == Some(c)
                        && self.blankz(3)));
            if marker
                && c == '.'
                && self.started
                && !self.content
                && self.out.document_cut.is_none()
            {
                // `---` then `...`: the first document is empty (null) and over.
                self.out.document_cut = Some(self.offset());
                return false;
            }
            if marker
                && c == '-'
                && self.started
                && !self.content
                && self.out.document_cut.is_none()
            {
                // `---` twice: the first document is empty (null).
                self.out.document_cut = Some(self.offset());
                return false;
            }
            if marker && c == '-' {
                self.started = true;
            }
            if marker && c == '%' && self.started && self.out.document_cut.is_none() {
                // A directive after `---`: the (empty) first document is over.
                self.out.document_cut = Some(self.offset());
                self.fetch(c, first);
                return false;
            }
            if marker && self.content {
                // The first document is over: go-yaml peeks this token (a directive is checked
                // while it is scanned) and reads no further.
                if c == '%' {
                    self.fetch(c, first);
                }
                return false;
            }
            // go-yaml's Unmarshal stops once the root node is complete: the parser peeks one token
            // for the document's implicit end and never scans the rest (a YAML 1.2 parser does,
            // and refuses it).
            let root_done = !marker
                && self.flow == 0
                && ((self.block_root && self.indent < 0)
                    || (self.root_scalar && !(c == ':' && self.blankz(1) && self.valid_key())));
            self.root_scalar = false;
            if root_done && self.out.document_cut.is_none() {
                self.out.document_cut = Some(self.offset());
            }
            let was_content = self.content;
            if !marker {
                self.content = true;
            }
            if matches!(c, '&' | '!') && !root_done && self.out.document_cut.is_none() {
                let anchor = c == '&';
                match self.root_props {
                    Some((a, t)) if (anchor && a) || (!anchor && t) => {
                        // `--- &a &b - x`: the root is an empty scalar (null) and complete; go-yaml
                        // reads no further (a YAML 1.2 parser refuses two anchors).
                        self.out.document_cut = Some(self.offset());
                        return false;
                    }
                    Some((a, t)) => self.root_props = Some((a || anchor, t || !anchor)),
                    None if !was_content => self.root_props = Some((anchor, !anchor)),
                    None => {}
                }
            } else {
                self.root_props = None;
            }
            self.peek_only = root_done;
            let go_on = self.fetch(c, first);
            let top = self.flow == 0 && self.indent < 0;
            if top && (matches!(c, '\'' | '"' | '|' | '>' | '*' | ']' | '}') || self.last_plain) {
                self.root_scalar = true;
            }
            go_on && !root_done
        }

        /// One token: its effect on the state. Returns false to stop.
        fn fetch(&mut self, c: char, first: bool) -> bool {
            self.last_plain = false;
            if self.column == 0 && c == '%' {
                // A directive: libyaml knows YAML (version 1.1 only, says go-yaml) and TAG.
                let start = self.offset();
                let line_end = self.text[start..]
                    .find(['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}'])
                    .map_or(self.text.len(), |e| start + e);
                let line = &self.text[start..line_end];
                if let Some(h) = line.find('#')
                    && h > 0
                    && !line[..h].ends_with([' ', '\t'])
                {
                    self.out.tight_comments.push((start + h, line_end));
                }
                let mut words = self.text[start + 1..line_end]
                    .split([' ', '\t'])
                    .filter(|w| !w.is_empty());
                let name = words.next();
                // The parameters: a version for YAML, a handle and a prefix for TAG; after them
                // only blanks and a comment (yaml_parser_scan_directive).
                let params = match name {
                    Some("YAML") => 1,
                    Some("TAG") => 2,
                    _ => return self.fail(UNKNOWN_DIRECTIVE),
                };
                let mut rest: Vec<&str> = words.collect();
                if name == Some("YAML")
                    && let Some(first) = rest.first_mut()
                    && let Some(h) = first.find('#')
                {
                    // A version number ends at its last digit: `1.1#c` is followed by a comment.
                    *first = &first[..h];
                    rest.truncate(1);
                }
                if name == Some("YAML") && rest.first().is_some_and(|v| *v != "1.1") {
                    return self.fail(INCOMPATIBLE_VERSION);
                }
                if rest.len() > params && !rest[params].starts_with('#') {
                    return self.fail(DIRECTIVE_TAIL);
                }
                if self.content && self.out.document_cut.is_none() {
                    self.out.document_cut = Some(start);
                }
                self.unroll_indent(-1);
                self.remove_simple_key();
                self.simple_key_allowed = false;
                while self.at(0).is_some_and(|c| !is_break(c)) {
                    self.skip();
                }
                // The directive scanner eats its line break itself: the next line does not start
                // with "simple key allowed" (a tab there is skipped).
                if self.at(0).is_some() {
                    self.skip_break();
                }
                return true;
            }
            if self.column == 0
                && (self.at(0) == Some('-') || self.at(0) == Some('.'))
                && self.at(1) == Some(c)
                && self.at(2) == Some(c)
                && self.blankz(3)
            {
                if c == '.' && first {
                    return self.fail(DOCUMENT_END_FIRST);
                }
                self.unroll_indent(-1);
                self.remove_simple_key();
                self.simple_key_allowed = false;
                for _ in 0..3 {
                    self.skip();
                }
                return true;
            }
            match c {
                '[' | '{' => {
                    self.save_simple_key();
                    self.flow += 1;
                    self.out.max_flow = self.out.max_flow.max(self.flow);
                    self.simple_keys.push(None);
                    self.simple_key_allowed = true;
                    self.skip();
                }
                ']' | '}' => {
                    self.remove_simple_key();
                    if self.flow > 0 {
                        self.flow -= 1;
                        self.simple_keys.pop();
                    }
                    self.simple_key_allowed = false;
                    self.skip();
                }
                ',' if self.flow > 0 => {
                    self.remove_simple_key();
                    self.simple_key_allowed = true;
                    self.skip();
                }
                '-' if self.blankz(1) => {
                    if self.flow == 0 {
                        if !self.simple_key_allowed {
                            return self.fail_late(ENTRY_NOT_ALLOWED);
                        }
                        self.roll_indent(self.column);
                    }
                    self.remove_simple_key();
                    self.simple_key_allowed = true;
                    self.skip();
                }
                '?' if self.flow > 0 || self.blankz(1) => {
                    if self.flow == 0 {
                        if !self.simple_key_allowed {
                            return self.fail_late(KEY_NOT_ALLOWED);
                        }
                        self.complex_keys.push(self.column);
                        self.roll_indent(self.column);
                    }
                    self.remove_simple_key();
                    self.simple_key_allowed = self.flow == 0;
                    self.skip();
                }
                ':' if self.flow > 0 || self.blankz(1) => {
                    let (line, i) = (self.line, self.i);
                    let key = self
                        .simple_keys
                        .last()
                        .copied()
                        .flatten()
                        .filter(|(l, _, ki)| *l == line && ki + 1024 >= i);
                    match key {
                        Some((_, column, _)) => {
                            self.roll_indent(column);
                            self.remove_simple_key();
                            self.simple_key_allowed = false;
                        }
                        None => {
                            if self.flow == 0 {
                                if !self.simple_key_allowed {
                                    return self.fail_late(VALUE_NOT_ALLOWED);
                                }
                                // A value with no key: the parser wants the KEY token a `?` at
                                // this column gave (`? a` then `: b`); without one, "did not find
                                // expected key" (YAML 1.2 parsers read an empty key).
                                match self.complex_keys.iter().rposition(|&c| c == self.column) {
                                    Some(k) => {
                                        self.complex_keys.truncate(k);
                                    }
                                    None => {
                                        if !self.fail_parser(EXPECTED_KEY) {
                                            return false;
                                        }
                                    }
                                }
                                self.roll_indent(self.column);
                            }
                            self.simple_key_allowed = self.flow == 0;
                        }
                    }
                    self.skip();
                }
                '*' | '&' => {
                    self.save_simple_key();
                    self.simple_key_allowed = false;
                    self.skip();
                    while self
                        .at(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        self.skip();
                    }
                    // An anchor or alias name ends at a blank or an indicator.
                    if !(self.blankz(0)
                        || matches!(
                            self.at(0),
                            Some('?' | ':' | ',' | ']' | '}' | '%' | '@' | '`')
                        ))
                    {
                        return self.fail(ANCHOR_END);
                    }
                    if !self.blankz(0) {
                        let colon_in_flow =
                            self.flow > 0 && self.at(0) == Some(':') && !self.blankz(1);
                        self.out.anchor_ends.push((self.offset(), colon_in_flow));
                    }
                }
                '!' => {
                    self.save_simple_key();
                    self.simple_key_allowed = false;
                    while !self.blankz(0) {
                        self.skip();
                    }
                }
                '|' | '>' if self.flow == 0 => {
                    self.remove_simple_key();
                    self.simple_key_allowed = true;
                    return self.block_scalar();
                }
                '\'' | '"' => {
                    self.save_simple_key();
                    self.simple_key_allowed = false;
                    return self.quoted(c);
                }
                '\t' => return self.fail(TAB_CANNOT_START),
                // No plain scalar starts with these (`|`/`>` only start block scalars in block
                // context, `%` directives only at column 0).
                '@' | '`' | '|' | '>' | '%' => return self.fail(CANNOT_START),
                _ if self.blankz(0) => return false,
                _ => {
                    self.save_simple_key();
                    self.simple_key_allowed = false;
                    self.last_plain = true;
                    return self.plain();
                }
            }
            true
        }

        fn quoted(&mut self, q: char) -> bool {
            self.skip();
            while let Some(c) = self.at(0) {
                if self.column == 0
                    && matches!(
                        (self.at(0), self.at(1), self.at(2)),
                        (Some('-'), Some('-'), Some('-')) | (Some('.'), Some('.'), Some('.'))
                    )
                    && self.blankz(3)
                {
                    // A line of a quoted scalar that starts with a document marker (also after
                    // LS or PS, which a YAML 1.2 parser reads as content).
                    return self.fail(DOCUMENT_INDICATOR);
                }
                if q == '\'' && c == '\'' {
                    if self.at(1) == Some('\'') {
                        self.skip();
                        self.skip();
                        continue;
                    }
                    self.skip();
                    return true;
                }
                if q == '"' && c == '\\' {
                    if self.at(1) == Some('\'') {
                        let at = self.offset();
                        self.out.quote_escapes.push(at);
                    }
                    if self.at(1).is_some_and(is_break) {
                        // An escaped line break: no break of its own in the value, then the
                        // blanks and breaks that follow as after any break.
                        let start = self.offset();
                        self.skip();
                        let escaped = self.at(0).unwrap_or('\n');
                        self.skip_break();
                        self.quoted_blanks(q, start, Some(escaped));
                    } else {
                        self.skip();
                        self.skip();
                    }
                    continue;
                }
                if q == '"' && c == '"' {
                    self.skip();
                    return true;
                }
                if is_blank(c) || is_break(c) {
                    let start = self.offset();
                    self.quoted_blanks(q, start, None);
                } else {
                    self.skip();
                }
            }
            true
        }

        /// The blanks and line breaks inside a quoted scalar (yaml_parser_scan_flow_scalar's
        /// "consume blank characters" and "join the whitespaces or fold line breaks"), from
        /// `start`; `escaped`: the line break of a `\` escape just consumed.
        fn quoted_blanks(&mut self, q: char, start: usize, escaped: Option<char>) {
            let mut leading_break: Option<char> = None;
            let mut trailing: String = String::new();
            let mut odd = escaped.is_some_and(|c| matches!(c, '\u{2028}' | '\u{2029}'));
            let mut leading_blanks = escaped.is_some();
            let mut lines: Vec<usize> = Vec::new();
            if escaped.is_some() && self.flow == 0 {
                lines.push(self.offset());
            }
            while let Some(c) = self.at(0) {
                if is_blank(c) {
                    self.skip();
                } else if is_break(c) {
                    odd |= matches!(c, '\u{2028}' | '\u{2029}');
                    if leading_blanks {
                        trailing.push(read_line(c));
                    } else {
                        leading_break = Some(read_line(c));
                        leading_blanks = true;
                    }
                    self.skip_break();
                    if self.flow == 0 {
                        lines.push(self.offset());
                    }
                } else {
                    break;
                }
            }
            if !odd {
                let indent = self.indent;
                self.out
                    .quoted_lines
                    .extend(lines.into_iter().map(|at| (at, indent)));
                return;
            }
            let value = match leading_break {
                Some('\n') if trailing.is_empty() => " ".to_string(),
                Some('\n') => trailing,
                Some(b) => format!("{b}{trailing}"),
                None => trailing,
            };
            let end = self.offset();
            self.out.quoted_ls.push(QuotedLs {
                start,
                end,
                value,
                quote: q,
                indent: self.indent,
            });
        }

        /// yaml_parser_scan_plain_scalar.
        fn plain(&mut self) -> bool {
            let indent = self.indent + 1;
            if self.flow > 0
                && self.at(0) == Some('-')
                && matches!(self.at(1), Some(',' | ']' | '}'))
            {
                self.out.flow_dashes.push(self.offset());
            }
            let mut leading_blanks = false;
            // A fold whose first line break is LS or PS, with no empty line after it: libyaml puts
            // that character in the value where another break would give a space. (start of the
            // blanks before it, start of the next line's content)
            let mut ls_fold: Option<(usize, usize)> = None;
            let mut joined: Vec<(usize, usize)> = Vec::new();
            loop {
                if self.column == 0
                    && matches!(
                        (self.at(0), self.at(1), self.at(2)),
                        (Some('-'), Some('-'), Some('-')) | (Some('.'), Some('.'), Some('.'))
                    )
                    && self.blankz(3)
                {
                    break;
                }
                if self.at(0) == Some('#') {
                    break;
                }
                while !self.blankz(0) {
                    let c = self.at(0).unwrap_or(' ');
                    if (c == ':' && self.blankz(1))
                        || (self.flow > 0 && matches!(c, ',' | '?' | '[' | ']' | '{' | '}'))
                    {
                        // `{groups:[a]}`: the plain scalar is `groups:` and a flow collection
                        // follows it with no `,` between: the parser fails. (YAML 1.2 parsers may
                        // read `groups: [a]`.)
                        if self.flow > 0
                            && matches!(c, '[' | '{')
                            && self.i > 0
                            && self.chars[self.i - 1].1 == ':'
                        {
                            return self.fail_parser(FLOW_ENTRY_EXPECTED);
                        }
                        break;
                    }
                    if let Some(fold) = ls_fold.take() {
                        // The scalar goes on after the fold: it is joined here.
                        joined.push(fold);
                    }
                    leading_blanks = false;
                    self.skip();
                }
                ls_fold = None;
                let Some(c) = self.at(0) else { break };
                if !(is_blank(c) || is_break(c)) {
                    break;
                }
                let blanks_start = self.offset();
                let mut breaks = 0;
                let mut first_break = ' ';
                while let Some(c) = self.at(0) {
                    if is_blank(c) {
                        if leading_blanks && (self.column as i64) < indent && c == '\t' {
                            return self.fail(TAB_VIOLATES_INDENTATION);
                        }
                        self.skip();
                    } else if is_break(c) {
                        if breaks == 0 {
                            first_break = c;
                        }
                        breaks += 1;
                        self.skip_break();
                        leading_blanks = true;
                    } else {
                        break;
                    }
                }
                if breaks == 1 && matches!(first_break, '\u{2028}' | '\u{2029}') {
                    ls_fold = Some((blanks_start, self.offset()));
                }
                if self.flow == 0 && (self.column as i64) < indent {
                    break;
                }
            }
            // A scalar followed by `:` would be a key: spanning lines, it is none to libyaml (an
            // error follows), so it must keep its line breaks for a YAML 1.2 parser too.
            let key = self.at(0) == Some(':') && (self.flow > 0 || self.blankz(1));
            if !key {
                self.out.ls_folds.extend(joined);
            }
            if leading_blanks {
                self.simple_key_allowed = true;
            }
            true
        }

        /// yaml_parser_scan_block_scalar, for its indentation rules.
        fn block_scalar(&mut self) -> bool {
            self.skip();
            let record = self.out.block_scalars.len();
            self.out.block_scalars.push(None);
            let mut increment: i64 = 0;
            let mut keep = false;
            for _ in 0..2 {
                match self.at(0) {
                    Some(c @ ('+' | '-')) => {
                        keep = c == '+';
                        self.skip();
                    }
                    Some(d @ '1'..='9') => {
                        increment = i64::from(d as u8 - b'0');
                        self.skip();
                    }
                    _ => {}
                }
            }
            while self.at(0).is_some_and(is_blank) {
                self.skip();
            }
            if self.at(0) == Some('#') {
                let start = self.offset();
                let tight = self.i > 0 && !is_blank(self.chars[self.i - 1].1);
                while self.at(0).is_some_and(|c| !is_break(c)) {
                    self.skip();
                }
                if tight {
                    self.out.tight_comments.push((start, self.offset()));
                }
            }
            if self.at(0).is_some_and(|c| !is_break(c)) {
                // "did not find expected comment or line break": not ours to report.
                return false;
            }
            if self.at(0).is_some() {
                self.skip_break();
            }
            let mut indent: i64 = if increment > 0 {
                if self.indent >= 0 {
                    self.indent + increment
                } else {
                    increment
                }
            } else {
                0
            };
            let line = self.line;
            if !self.block_breaks(&mut indent) {
                return false;
            }
            if !(self.column as i64 == indent && self.at(0).is_some()) {
                // No content line: clip and strip give "", keep gives the empty lines' breaks.
                let breaks = if keep { self.line - line } else { 0 };
                self.out.block_scalars[record] = Some("\n".repeat(breaks));
            }
            while self.column as i64 == indent && self.at(0).is_some() {
                while self.at(0).is_some_and(|c| !is_break(c)) {
                    self.skip();
                }
                if self.at(0).is_none() {
                    break;
                }
                self.skip_break();
                if !self.block_breaks(&mut indent) {
                    return false;
                }
            }
            true
        }

        /// yaml_parser_scan_block_scalar_breaks.
        fn block_breaks(&mut self, indent: &mut i64) -> bool {
            let mut max_indent: i64 = 0;
            loop {
                while (*indent == 0 || (self.column as i64) < *indent) && self.at(0) == Some(' ') {
                    self.skip();
                }
                if self.column as i64 > max_indent {
                    max_indent = self.column as i64;
                }
                if (*indent == 0 || (self.column as i64) < *indent) && self.at(0) == Some('\t') {
                    return self.fail(TAB_IN_BLOCK_INDENTATION);
                }
                match self.at(0) {
                    Some(c) if is_break(c) => self.skip_break(),
                    _ => break,
                }
            }
            if *indent == 0 {
                *indent = max_indent.max(self.indent + 1).max(1);
            }
            true
        }
    }

    /// Replay libyaml's scanner over `text` (one aws-auth data value).
    pub fn scan(text: &str) -> Scan {
        // libyaml's reader drops a byte order mark at the start of the stream.
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let skipped = text.len() - body.len();
        let mut s = Scanner {
            text,
            chars: body.char_indices().map(|(o, c)| (o + skipped, c)).collect(),
            i: 0,
            line: 1,
            column: 0,
            flow: 0,
            simple_key_allowed: true,
            indent: -1,
            indents: Vec::new(),
            simple_keys: vec![None],
            tokens: 0,
            block_root: false,
            root_scalar: false,
            content: false,
            last_plain: false,
            started: false,
            bom_buffer: body.starts_with('\u{feff}'),
            root_props: None,
            complex_keys: Vec::new(),
            peek_only: false,
            out: Scan::default(),
        };
        while s.next_token() {}
        s.out
    }

    /// The placeholder for a byte order mark inside the text (libyaml: an ordinary character; YAML
    /// 1.2 parsers skip it), given back by `yaml::parse_first_with`.
    pub const BOM_PLACEHOLDER: char = '\u{E000}';

    /// The text a YAML 1.2 parser should read to see what libyaml sees, when it differs:
    /// tabs that only separate tokens become spaces; a lone CR becomes a line feed; comments that
    /// start right after a token become blanks; NEL, LS and PS become line breaks
    /// (`\r\n`, ` \r\n`: same byte length); a byte order mark after the first character becomes
    /// [`BOM_PLACEHOLDER`] (same length); the text ends where go-yaml stops reading. Byte offsets
    /// of what is kept stay where they were, except after a `\'` escape (libyaml's apostrophe in
    /// double quotes), which becomes `'`.
    pub fn as_libyaml_sees_it(text: &str, scan: &Scan) -> Option<String> {
        let odd_breaks = text.contains(['\u{85}', '\u{2028}', '\u{2029}']);
        let inner_bom = text
            .strip_prefix('\u{feff}')
            .unwrap_or(text)
            .contains('\u{feff}')
            && !text.contains(BOM_PLACEHOLDER);
        let lone_cr = text
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\r' && w[1] != b'\n')
            || text.ends_with('\r');
        if scan.tight_comments.is_empty()
            && scan.document_cut.is_none()
            && scan.separator_tabs.is_empty()
            && !odd_breaks
            && !inner_bom
            && !lone_cr
            && scan.quote_escapes.is_empty()
            && scan.anchor_ends.is_empty()
            && scan.flow_dashes.is_empty()
            && scan.bom_skips.is_empty()
            && (!scan.indent_quoted_lines || scan.quoted_lines.is_empty())
            && scan.quoted_ls.is_empty()
        {
            return None;
        }
        let mut out = text.to_string();
        for &at in &scan.separator_tabs {
            out.replace_range(at..at + 1, " ");
        }
        if lone_cr {
            // A lone CR is a line break to libyaml, like LF (same byte length).
            let mut bytes = std::mem::take(&mut out).into_bytes();
            for i in 0..bytes.len() {
                if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
                    bytes[i] = b'\n';
                }
            }
            out = String::from_utf8(bytes).unwrap_or_default();
        }
        for &(start, end) in scan.tight_comments.iter().rev() {
            let blanks = " ".repeat(end - start);
            out.replace_range(start..end, &blanks);
        }
        if odd_breaks {
            out = out
                .replace('\u{85}', "\r\n")
                .replace(['\u{2028}', '\u{2029}'], " \r\n");
        }
        if inner_bom {
            let lead = if out.starts_with('\u{feff}') { 3 } else { 0 };
            let rest = out[lead..].replace('\u{feff}', &BOM_PLACEHOLDER.to_string());
            out.replace_range(lead.., &rest);
        }
        if let Some(cut) = scan.document_cut {
            out.truncate(cut);
        }
        // `\'` -> `'` (one byte shorter) and a space after an anchor name (one longer) change
        // lengths, so they come last, from the end (columns after them on that line shift).
        let mut edits: Vec<(usize, u8)> = scan.quote_escapes.iter().map(|&at| (at, 0)).collect();
        for &(at, colon) in &scan.anchor_ends {
            edits.push((at, 1));
            if colon {
                edits.push((at + 1, 1));
            }
        }
        edits.extend(scan.flow_dashes.iter().map(|&at| (at, 2)));
        edits.extend(scan.bom_skips.iter().map(|&(at, _)| (at, 3)));
        edits.extend(scan.ls_folds.iter().map(|&(at, _)| (at, 5)));
        edits.extend(scan.quoted_ls.iter().map(|q| (q.start, 6)));
        // Continuation lines of quoted scalars whose leading blanks (how many) become spaces
        // deeper than the block.
        let mut pads: Vec<(usize, usize)> = Vec::new();
        if scan.indent_quoted_lines {
            for &(at, indent) in &scan.quoted_lines {
                let line = &text[at.min(text.len())..];
                let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
                let marker = (line.starts_with("---") || line.starts_with("..."))
                    && line[3..].starts_with([' ', '\t', '\r', '\n']) | (line.len() == 3);
                let tabs = line[..blanks].contains('\t');
                if (blanks as i64 <= indent || tabs) && !marker {
                    pads.push((at, blanks));
                    edits.push((at, 4));
                }
            }
        }
        edits.sort_unstable();
        // A skipped character keeps its byte length until here (NEL, LS and PS were rewritten as
        // line breaks of the same length).
        let width = |at: usize| -> usize {
            scan.bom_skips
                .iter()
                .find(|(o, _)| *o == at)
                .map_or(1, |(_, w)| *w)
        };
        for &(at, kind) in edits.iter().rev() {
            if kind == 0 && at + 2 <= out.len() {
                out.replace_range(at..at + 2, "'");
            } else if kind == 1 && at <= out.len() && out.is_char_boundary(at) {
                out.insert(at, ' ');
            } else if kind == 2 && out.get(at..at + 1) == Some("-") {
                out.replace_range(at..at + 1, "\"-\"");
            } else if kind == 5 {
                let end = scan
                    .ls_folds
                    .iter()
                    .find(|(o, _)| *o == at)
                    .map_or(at, |(_, e)| *e);
                let sep = text[at..end]
                    .chars()
                    .find(|c| matches!(c, '\u{2028}' | '\u{2029}'))
                    .unwrap_or('\u{2028}');
                if end <= out.len() && out.is_char_boundary(at) && out.is_char_boundary(end) {
                    out.replace_range(at..end, &sep.to_string());
                }
            } else if kind == 6 {
                let Some(q) = scan.quoted_ls.iter().find(|q| q.start == at) else {
                    continue;
                };
                if q.end <= out.len() && out.is_char_boundary(at) && out.is_char_boundary(q.end) {
                    out.replace_range(at..q.end, &quoted_value_text(q));
                }
            } else if kind == 4 && at <= out.len() && out.is_char_boundary(at) {
                let blanks = pads.iter().find(|(o, _)| *o == at).map_or(0, |(_, n)| *n);
                let indent = scan
                    .quoted_lines
                    .iter()
                    .find(|(o, _)| *o == at)
                    .map_or(0, |(_, i)| *i);
                let width = usize::try_from(indent + 1).unwrap_or(0).max(1);
                if at + blanks <= out.len() && out.is_char_boundary(at + blanks) {
                    out.replace_range(at..at + blanks, &" ".repeat(width));
                }
            } else if kind == 3 {
                // go-yaml skipped this character as if it were a byte order mark: the column
                // moves on by one, like a space. Whatever came before was complete when the
                // scanner got here (a plain scalar above ended at column 0, before the skip): a
                // comment line says so to a YAML 1.2 parser, which would otherwise continue that
                // scalar on a line now indented by one more.
                let w = width(at);
                if at + w <= out.len() && out.is_char_boundary(at) && out.is_char_boundary(at + w) {
                    let first = text.strip_prefix('\u{feff}').map_or(0, |_| 3);
                    out.replace_range(at..at + w, if at > first { "#\n " } else { " " });
                }
            }
        }
        Some(out)
    }

    /// Text that a YAML 1.2 parser reads, inside the quotes of `q.quote`, as libyaml's value
    /// `q.value` of that stretch: escapes in double quotes (on one line); in single quotes LS and
    /// PS as they are (content to YAML 1.2) and each run of `k` line feeds as a fold of `k + 1`
    /// line breaks onto a line indented deeper than the block.
    fn quoted_value_text(q: &QuotedLs) -> String {
        let mut out = String::new();
        if q.quote == '"' {
            for c in q.value.chars() {
                match c {
                    '\n' => out.push_str("\\n"),
                    ' ' => out.push(' '),
                    '\u{2028}' => out.push_str("\\u2028"),
                    _ => out.push_str("\\u2029"),
                }
            }
            return out;
        }
        let pad = " ".repeat(usize::try_from(q.indent + 1).unwrap_or(0).max(1));
        let mut feeds = 0;
        for c in q.value.chars().chain(std::iter::once('\0')) {
            if c == '\n' {
                feeds += 1;
                continue;
            }
            if feeds > 0 {
                out.push_str(&"\n".repeat(feeds + 1));
                out.push_str(&pad);
                feeds = 0;
            }
            if c != '\0' {
                out.push(c);
            }
        }
        out
    }
}
