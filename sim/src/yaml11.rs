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

/// go-yaml v2 `Unmarshal` of a YAML list into `[]string` (how the authenticator reads
/// `mapAccounts`): every non-null scalar item keeps its original text (`yes`, `0123`,
/// `123456789012` stay as written); a null item (`~`, `null`, nothing) decodes to `""` and is
/// kept (go-yaml sets the element to its zero value and reports success); a sequence or mapping
/// item is a type error and is skipped (`None`). Such items are never decoded further, so what
/// they contain (bad merges, collection keys) is no error. A document that is not a list is an
/// error.
pub fn yaml_string_list(text: &str) -> Result<Vec<Option<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    libyaml_tabs(text)?;
    let mut builder = Builder {
        raw_strings: true,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| go_style(&e))?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    match builder.root.unwrap_or(Value::Null) {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                Value::Null => Some(String::new()),
                _ => None,
            })
            .collect()),
        Value::String(_) => {
            Err("yaml: unmarshal errors: cannot unmarshal !!str into []string".into())
        }
        _ => Err("yaml: unmarshal errors: cannot unmarshal !!map into []string".into()),
    }
}

/// Converts YAML text to JSON. Only the first document is read (as go-yaml's `Unmarshal`).
/// An empty document is `null`.
pub fn yaml_to_json(text: &str) -> Result<Value, String> {
    // libyaml skips a byte order mark at the start of the stream.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    libyaml_tabs(text)?;
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| go_style(&e))?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or(Value::Null))
}

/// libyaml's tab rule, which go-yaml v2 inherits and yaml-rust2 (YAML 1.2) does not have:
/// while looking for the next token, libyaml skips a tab only in flow context or where a simple
/// key is not allowed. In block context a simple key is allowed at the start of a line and
/// after the indicators `-`, `?` and `:`, so a tab there is "found character that cannot start
/// any token" (`username:\tx`, `-\tx`, a tab in the indentation). Inside a block scalar, a tab
/// in the indentation is "found a tab character where an indentation space is expected".
/// Quoted scalars, comments and text after a scalar on the same line are not affected.
pub fn libyaml_tabs(text: &str) -> Result<(), String> {
    let b: Vec<char> = text.chars().collect();
    let n = b.len();
    let blank_or_end = |i: usize| i >= n || matches!(b[i], ' ' | '\t' | '\n' | '\r');
    let (mut i, mut line, mut flow, mut simple_key_allowed) = (0usize, 1usize, 0usize, true);
    let mut line_start = 0usize;
    let cannot_start = |line: usize| {
        Err(format!(
            "yaml: line {line}: found character that cannot start any token"
        ))
    };
    while i < n {
        // Whitespace before a token.
        while i < n && (b[i] == ' ' || (b[i] == '\t' && (flow > 0 || !simple_key_allowed))) {
            i += 1;
        }
        if i >= n {
            break;
        }
        let c = b[i];
        if c == '\t' {
            return cannot_start(line);
        }
        if c == '#' {
            while i < n && b[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '\n' || c == '\r' {
            if c == '\r' && i + 1 < n && b[i + 1] == '\n' {
                i += 1;
            }
            i += 1;
            line += 1;
            line_start = i;
            if flow == 0 {
                simple_key_allowed = true;
            }
            continue;
        }
        if i == line_start
            && i + 3 <= n
            && (b[i..i + 3] == ['-', '-', '-'] || b[i..i + 3] == ['.', '.', '.'])
            && blank_or_end(i + 3)
        {
            i += 3;
            simple_key_allowed = false;
            continue;
        }
        match c {
            '-' | '?' if flow == 0 && blank_or_end(i + 1) => {
                i += 1;
                simple_key_allowed = true;
            }
            ':' if blank_or_end(i + 1) || flow > 0 => {
                i += 1;
                simple_key_allowed = flow == 0;
            }
            '[' | '{' => {
                flow += 1;
                i += 1;
                simple_key_allowed = true;
            }
            ']' | '}' => {
                flow = flow.saturating_sub(1);
                i += 1;
                simple_key_allowed = false;
            }
            ',' if flow > 0 => {
                i += 1;
                simple_key_allowed = true;
            }
            '\'' | '"' => {
                i += 1;
                while i < n {
                    if b[i] == '\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    if c == '"' && b[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == c {
                        if c == '\'' && i + 1 < n && b[i + 1] == '\'' {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                simple_key_allowed = false;
            }
            '|' | '>' if flow == 0 => {
                // The block scalar's parent indentation: the column of the key on this line.
                let mut key_col = 0;
                let mut k = line_start;
                while k < i
                    && (b[k] == ' ' || ((b[k] == '-' || b[k] == '?') && blank_or_end(k + 1)))
                {
                    k += 1;
                }
                if k < i {
                    key_col = k - line_start;
                }
                while i < n && b[i] != '\n' {
                    i += 1;
                }
                // Content lines: empty, or indented more than the parent.
                let mut block_indent: Option<usize> = None;
                while i < n {
                    let start = i + 1;
                    let mut j = start;
                    let mut spaces = 0;
                    while j < n && b[j] == ' ' {
                        j += 1;
                        spaces += 1;
                    }
                    let empty = j >= n
                        || b[j] == '\n'
                        || (b[j] == '\t'
                            && b[j..]
                                .iter()
                                .take_while(|ch| **ch != '\n')
                                .all(|ch| ch.is_whitespace()));
                    if !empty && spaces <= key_col && b[j] != '\t' {
                        break;
                    }
                    if !empty && b[j] == '\t' && block_indent.is_none_or(|bi| spaces < bi) {
                        return Err(format!(
                            "yaml: line {}: found a tab character where an indentation space is expected",
                            line + 1
                        ));
                    }
                    if !empty && block_indent.is_none() {
                        block_indent = Some(spaces);
                    }
                    i = start;
                    line += 1;
                    line_start = i;
                    while i < n && b[i] != '\n' {
                        i += 1;
                    }
                }
                simple_key_allowed = true;
            }
            _ => {
                // Anchors, aliases, tags and plain scalars: up to a blank (then `: `, ` #`, or
                // the end of the line), or a flow indicator in flow context.
                while i < n && b[i] != '\n' && b[i] != '\r' {
                    if (b[i] == ' ' || b[i] == '\t') && i + 1 < n && b[i + 1] == '#' {
                        break;
                    }
                    if b[i] == ':' && (blank_or_end(i + 1) || flow > 0) {
                        break;
                    }
                    if flow > 0 && matches!(b[i], ',' | '[' | ']' | '{' | '}') {
                        break;
                    }
                    i += 1;
                }
                simple_key_allowed = false;
            }
        }
    }
    Ok(())
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
}

impl Builder {
    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    fn insert(&mut self, node: Node, mark: Marker) {
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
                        Some(format!("yaml: line {}: invalid map key", mark.line()))
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
                    self.insert(node, mark);
                }
                None => self.fail(format!("yaml: line {}: unknown anchor", mark.line())),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let resolved = resolve_scalar(&text, style, tag.as_ref());
                // An infinite or NaN key is fine: sigs.k8s.io/yaml formats float keys itself
                // (`.inf`, `-.inf`, `.nan`); only such a value has no JSON form.
                let is_key = matches!(self.stack.last(), Some(Frame::Map(_, None, _)));
                let resolved = match resolved {
                    Ok(Value::Null) => Ok(Value::Null),
                    Ok(_) | Err(_) if self.raw_strings => Ok(Value::String(text.clone())),
                    Err(_) if is_key => Ok(Value::String(text.to_ascii_lowercase())),
                    other => other,
                };
                match resolved {
                    Ok(v) => {
                        if anchor > 0 {
                            self.anchors.insert(anchor, v.clone());
                        }
                        if is_merge_key(&text, style, tag.as_ref()) {
                            self.insert(Node::MergeKey, mark);
                            return;
                        }
                        let key = scalar_key(&v).unwrap_or(text);
                        self.insert(Node::Scalar(v, key), mark);
                    }
                    Err(e) => self.fail(format!("yaml: line {}: {e}", mark.line())),
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
                self.insert(Node::Complex(v), mark);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
        }
    }
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

/// YAML 1.1 resolution of one scalar, as go-yaml v2 does it for plain scalars.
pub fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
            match tag.suffix.as_str() {
                "str" | "binary" | "timestamp" => return Ok(Value::String(text.to_string())),
                "null" => return Ok(Value::Null),
                _ => {
                    return Ok(
                        resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string()))
                    );
                }
            }
        }
        return Ok(Value::String(text.to_string()));
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    if matches!(
        text,
        ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    ) {
        return Err(format!("json: unsupported value: {text}"));
    }
    Ok(resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string())))
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
        for bad in [
            "a:\tb\n",
            "- \ta: b\n",
            "-\ta: b\n",
            "\ta: b\n",
            "- a: b\n\tc: d\n",
            "a: b\n  \t\n",
            "a: |\n  x\n\ty\n",
        ] {
            assert!(yaml_to_json(bad).is_err(), "{bad:?}");
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
        assert_eq!(
            yaml_to_json("- rolearn: x\n  username:\ty\n").expect_err("tab"),
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
