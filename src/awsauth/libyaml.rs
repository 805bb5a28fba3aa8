//! Where libyaml's scanner (and so go-yaml v2, which is a Go port of it, and so the
//! authenticator) refuses text that YAML 1.2 parsers accept, and which comments it sees that a
//! YAML 1.2 parser would not.
//!
//! The product parses aws-auth sections with a YAML 1.2 parser (granit-parser) for exact source
//! positions. YAML 1.2 and libyaml disagree on whitespace: libyaml skips a tab between tokens
//! only in flow context or where a simple key is *not* allowed, and refuses a tab that would
//! start a token or sit in the indentation of a plain scalar's continuation line or of a block
//! scalar. `\r`, NEL, LS and PS are line breaks to libyaml. And libyaml starts a comment at any
//! `#` found between tokens, even right after a quoted scalar or a flow collection (`"x"#c`),
//! where YAML 1.2 needs a blank first.
//!
//! This module replays libyaml's token scanner (yaml_parser_fetch_next_token and the
//! functions it calls, as read in go-yaml v2.4.0's scannerc.go) just far enough to track what
//! decides those rules: the flow level, the indentation stack, "simple key allowed" and the
//! possible simple key. It does not build tokens; any other scanner error is left to the YAML
//! parser. The differential test against the real library (tests/awsauth_oracle.rs) is what
//! keeps it honest.

use super::yaml::Pos;

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
        if marker && c == '.' && self.started && !self.content && self.out.document_cut.is_none() {
            // `---` then `...`: the first document is empty (null) and over.
            self.out.document_cut = Some(self.offset());
            return false;
        }
        if marker && c == '-' && self.started && !self.content && self.out.document_cut.is_none() {
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
                    let colon_in_flow = self.flow > 0 && self.at(0) == Some(':') && !self.blankz(1);
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
        if self.flow > 0 && self.at(0) == Some('-') && matches!(self.at(1), Some(',' | ']' | '}')) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Option<(usize, usize, &'static str)> {
        scan(text)
            .error
            .map(|e| (e.pos.line, e.pos.column, e.message))
    }

    #[test]
    fn tabs_after_a_simple_key_are_skipped() {
        // Verified against go-yaml v2.4.0 (tools/awsauth-oracle): these all load.
        assert_eq!(err("- userarn: x\n  username:\talice\n"), None);
        assert_eq!(err("- rolearn: x\n  groups:\t\n    - a\n"), None);
        assert_eq!(
            err("- rolearn: x\n  groups:\n    - system:\tmasters\n"),
            None
        );
        assert_eq!(err("- a: b\tc\n- d: \"\te\"\n"), None);
        assert_eq!(err("- a: b # \tc\n"), None);
    }

    #[test]
    fn tabs_where_a_token_may_start_fail() {
        assert_eq!(err("-\tx\n"), Some((1, 2, TAB_CANNOT_START)));
        assert_eq!(err("- \"a\"\n\tb: c\n"), Some((2, 1, TAB_CANNOT_START)));
        assert_eq!(err("? a\n:\tb\n"), Some((2, 2, TAB_CANNOT_START)));
        // A plain scalar continued on a line indented with a tab.
        assert_eq!(
            err("- a: b\n\tc: d\n"),
            Some((2, 1, TAB_VIOLATES_INDENTATION))
        );
        // A CRLF file with a stray tab: `\r` alone is a line break to libyaml.
        assert_eq!(
            err("- userarn: a\r\n  username: a\r\t\n- userarn: b\r\n"),
            Some((3, 1, TAB_VIOLATES_INDENTATION))
        );
        assert_eq!(err("- \"a\"\r\t\n- b\n"), Some((2, 1, TAB_CANNOT_START)));
    }

    #[test]
    fn block_scalar_indentation_tabs_fail() {
        assert_eq!(err("- a: |\n\tx\n"), Some((2, 1, TAB_IN_BLOCK_INDENTATION)));
        assert_eq!(err("- a: |\n    x\n    \ty\n"), None);
    }

    #[test]
    fn comments_right_after_a_token() {
        let text = "- \"111122223333\"# c\n- [view]#x\n- a#b\n";
        let s = scan(text);
        assert_eq!(s.error, None);
        assert_eq!(s.tight_comments.len(), 2);
        assert_eq!(
            as_libyaml_sees_it(text, &s).as_deref(),
            Some("- \"111122223333\"   \n- [view]  \n- a#b\n")
        );
    }

    #[test]
    fn directives() {
        assert_eq!(err("%FOO\n- a\n"), Some((1, 1, UNKNOWN_DIRECTIVE)));
        assert_eq!(
            err("%YAML 1.2\n---\n- a\n"),
            Some((1, 1, INCOMPATIBLE_VERSION))
        );
        let text = "- rolearn: a\n%YAML 1.1\n---\n  username: b\n";
        let s = scan(text);
        assert_eq!(s.error, None);
        assert_eq!(
            as_libyaml_sees_it(text, &s).as_deref(),
            Some("- rolearn: a\n")
        );
    }

    #[test]
    fn nothing_after_the_root_node_is_read() {
        // Verified with go-yaml v2.4.0: the root is complete, what follows is never scanned.
        let cut = |text: &str| {
            let s = scan(text);
            (s.error.map(|e| e.message), s.document_cut)
        };
        assert_eq!(cut("--- |\n- a\n  \t- b\n"), (None, Some(6)));
        assert_eq!(cut("  - \n-\t\"x\"\n"), (None, Some(5)));
        assert_eq!(cut("- a\n- b\n"), (None, None));
        assert_eq!(cut("a: b\nc: d\n"), (None, None));
        assert_eq!(cut("- a\n---\n\t- b\n"), (None, None));
        assert_eq!(cut("---\n---\t\n- a\n"), (None, Some(4)));
    }

    #[test]
    fn what_libyaml_accepts_and_yaml_1_2_does_not() {
        // Each verified with go-yaml v2.4.0 (tools/awsauth-oracle).
        let seen = |text: &str| as_libyaml_sees_it(text, &scan(text));
        // `\'` in double quotes is an apostrophe.
        assert_eq!(seen("- \"a\\'b\"\n").as_deref(), Some("- \"a'b\"\n"));
        // A directive's comment needs no blank; the next line does not allow a simple key.
        assert_eq!(err("%YAML 1.1# c\n---\n- a\n"), None);
        assert_eq!(err("%YAML 1.1\r\t\n---\n- a\n"), None);
        // An anchor name must end at a blank or an indicator.
        assert_eq!(err("- &base\u{200b}\"x\"\n"), Some((1, 8, ANCHOR_END)));
        // `---` then `...`: an empty first document, nothing else is read.
        assert_eq!(scan("---\t\n...\n-\tx\n").document_cut, Some(5));
        // Anchor names are [0-9A-Za-z_-]: `&g:x [..]` is anchor `g` on the plain ":x [..]".
        assert_eq!(
            seen("groups: &g:x [system:masters]\n").as_deref(),
            Some("groups: &g :x [system:masters]\n")
        );
        assert_eq!(seen("a: &g?x\n").as_deref(), Some("a: &g ?x\n"));
        // In flow context `:` after the name is a value indicator.
        assert_eq!(seen("[&g:x]\n").as_deref(), Some("[&g : x]\n"));
        // A lone `-` before `,`/`]`/`}` in flow context is the plain scalar `-`.
        assert_eq!(
            seen("g: [system:masters, -]\n").as_deref(),
            Some("g: [system:masters, \"-\"]\n")
        );
        assert_eq!(seen("g: [-, a]\n").as_deref(), Some("g: [\"-\", a]\n"));
        assert_eq!(seen("g: [-a, a]\n"), None);
    }

    #[test]
    fn document_end_before_any_document() {
        assert_eq!(err("...\n- a\n"), Some((1, 1, DOCUMENT_END_FIRST)));
        assert_eq!(err("- a\n...\n"), None);
    }

    #[test]
    fn two_byte_order_marks_make_go_yaml_skip_a_character_at_each_line_start() {
        // Verified with go-yaml v2.4.0: "did not find expected '-' indicator" (the second
        // line's `-` is skipped), and a plain scalar above is complete before the skip.
        let text = "\u{feff}\u{feff}- 1\n- 2\n";
        let s = scan(text);
        assert_eq!(s.bom_skips, vec![(3, 3), (10, 1)]);
        assert_eq!(
            as_libyaml_sees_it(text, &s).as_deref(),
            Some("\u{feff} - 1\n#\n  2\n")
        );
        // One byte order mark is only dropped by the reader.
        assert!(scan("\u{feff}- 1\n- 2\n").bom_skips.is_empty());
    }

    #[test]
    fn directive_parameters_end_the_line() {
        assert_eq!(err("%YAML 1.1 ---\n- a\n"), Some((1, 1, DIRECTIVE_TAIL)));
        assert_eq!(err("%YAML 1.1 # c\n---\n- a\n"), None);
        assert_eq!(err("%YAML 1.1# c\n---\n- a\n"), None);
    }

    #[test]
    fn parser_errors_a_yaml_1_2_parser_does_not_raise() {
        let late = |text: &str| scan(text).late_error.map(|e| e.message);
        assert_eq!(late("a: 1\n: 2\n"), Some(EXPECTED_KEY));
        assert_eq!(late("? a\n: 2\n"), None);
        // Only peeked after a complete root scalar: never parsed.
        assert_eq!(late("a\n  b\n  : c\n"), None);
        assert_eq!(late("- {a: b, groups:[x]}\n"), Some(FLOW_ENTRY_EXPECTED));
        assert_eq!(late("- {a: b, groups: [x]}\n"), None);
    }

    /// LS/PS in a quoted scalar (checked with tools/awsauth-oracle): kept where a fold would
    /// give a space, the blanks around them folded away; the YAML 1.2 parser reads the rewrite.
    #[test]
    fn line_separators_in_quoted_scalars_keep_the_character() {
        let value = |text: &str| {
            let s = scan(text);
            let seen = as_libyaml_sees_it(text, &s).expect("rewritten");
            let doc = super::super::yaml::parse_first_with(&seen, true).expect("parses");
            match doc.root.map(|r| r.kind) {
                Some(super::super::yaml::NodeKind::Scalar { value, .. }) => value,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(value("\"a  \u{2028}    b\"\n"), "a\u{2028}b");
        assert_eq!(value("'c\u{2028}\n\n   d'\n"), "c\u{2028}\n\nd");
        assert_eq!(value("\"e\\\n \u{2029} f\"\n"), "e\u{2029}f");
        assert_eq!(value("\"g\n\u{2028}h\"\n"), "g\u{2028}h");
    }

    #[test]
    fn block_scalars_without_content_and_quoted_continuations() {
        let s = scan("- |\n- >+\n\n\n- |\n  x\n");
        assert_eq!(
            s.block_scalars,
            vec![Some(String::new()), Some("\n\n".into()), None]
        );
        let text = "- a: 'x\r'\n";
        let mut s = scan(text);
        assert_eq!(s.quoted_lines, vec![(8, 2)]);
        s.indent_quoted_lines = true;
        assert_eq!(
            as_libyaml_sees_it(text, &s).as_deref(),
            Some("- a: 'x\n   '\n")
        );
    }
}
