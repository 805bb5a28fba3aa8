//! The authenticator-faithful loader: one data value in, what `ParseMap` would keep out.
//!
//! aws-iam-authenticator (`pkg/mapper/configmap/configmap.go`) reads `mapRoles` and `mapUsers`
//! with `utilyaml.ToJSON` (sigs.k8s.io/yaml on go-yaml v2: YAML 1.1 types, non-string keys
//! stringified, `null`/collection keys and ±Inf/NaN refused) followed by Go's `encoding/json`
//! into `[]RoleMapping` / `[]UserMapping` (field names matched case-insensitively, a value of the
//! wrong type leaves the field empty and keeps the entry), then `Validate()`s each entry.
//! `mapAccounts` is read by go-yaml v2 straight into `[]string`, which keeps the source text of
//! any scalar (so an unquoted account id still loads). This module reproduces those steps on a
//! positioned tree so that every loss can be pointed at.

use super::libyaml;
use super::model::{Section, SectionState, SsoMatcher};
use super::yaml::{self, Node, NodeKind, Pos, Resolved, Style};

/// A struct field of `RoleMapping` / `UserMapping` / `SSOARNMatcher`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    RoleArn,
    Sso,
    Username,
    Groups,
    UserId,
    UserArn,
    PermissionSetName,
    AccountId,
    Partition,
}

impl Field {
    pub fn json_name(self) -> &'static str {
        match self {
            Field::RoleArn => "rolearn",
            Field::Sso => "sso",
            Field::Username => "username",
            Field::Groups => "groups",
            Field::UserId => "userid",
            Field::UserArn => "userarn",
            Field::PermissionSetName => "permissionSetName",
            Field::AccountId => "accountID",
            Field::Partition => "partition",
        }
    }

    fn entry_fields(section: Section) -> &'static [Field] {
        match section {
            Section::MapRoles => &[
                Field::RoleArn,
                Field::Sso,
                Field::Username,
                Field::Groups,
                Field::UserId,
            ],
            _ => &[
                Field::UserArn,
                Field::Username,
                Field::Groups,
                Field::UserId,
            ],
        }
    }

    const SSO_FIELDS: &'static [Field] =
        &[Field::PermissionSetName, Field::AccountId, Field::Partition];
}

/// Go's `encoding/json` key folding: ASCII case-insensitive, plus the two non-ASCII letters
/// that simple-fold onto ASCII ones (`ſ` → s, Kelvin sign → k).
pub fn go_fold_eq(a: &str, b: &str) -> bool {
    let norm = |c: char| match c {
        '\u{017F}' => 'S',
        '\u{212A}' => 'K',
        c => c.to_ascii_uppercase(),
    };
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| norm(x) == norm(y))
}

fn match_field(fields: &[Field], key: &str) -> Option<(Field, bool)> {
    if let Some(f) = fields.iter().find(|f| f.json_name() == key) {
        return Some((*f, true));
    }
    fields
        .iter()
        .find(|f| go_fold_eq(f.json_name(), key))
        .map(|f| (*f, false))
}

/// One key of an entry as the authenticator saw it.
#[derive(Debug, Clone)]
pub struct KeyUse {
    pub key: String,
    pub pos: Pos,
    pub value_pos: Pos,
    /// The struct field it fills, and whether the spelling was exact.
    pub field: Option<(Field, bool)>,
    /// Another key later in Go's (sorted) decoding order filled the same field.
    pub overridden_by: Option<String>,
    /// An earlier identical key in the same YAML mapping, replaced by this one.
    pub replaces: Option<Pos>,
    /// The value's text, when it is a scalar.
    pub raw: Option<String>,
}

/// A value of the wrong JSON type: Go leaves the field (or list item) empty.
#[derive(Debug, Clone)]
pub struct TypeMismatch {
    pub field: Field,
    /// Set for a list item of `groups`.
    pub item: Option<usize>,
    pub found: &'static str,
    /// The scalar text as written (what the author meant), if it was a scalar.
    pub raw: Option<String>,
    pub pos: Pos,
}

/// The decoded fields of one entry (zero values where absent or of the wrong type).
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    pub rolearn: String,
    pub userarn: String,
    pub username: String,
    pub groups: Option<Vec<String>>,
    pub sso: Option<SsoMatcher>,
    pub userid: String,
    /// Where the value that ended up in each field was written.
    pub arn_pos: Option<Pos>,
    pub username_pos: Option<Pos>,
    pub groups_pos: Option<Pos>,
    /// Per element of the `groups` backing array (see `groups_spare`).
    pub group_pos: Vec<Pos>,
    pub sso_pos: Option<Pos>,
    /// Elements of the `groups` slice's backing array past its length (Go keeps them when a
    /// later key shortens the slice, and a still later, longer array decodes onto them).
    pub groups_spare: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RawEntry {
    pub index: usize,
    pub pos: Pos,
    /// Whether the list item was a mapping at all.
    pub is_object: bool,
    pub found: &'static str,
    pub keys: Vec<KeyUse>,
    pub type_errors: Vec<TypeMismatch>,
    pub decoded: Decoded,
    /// `Validate()`'s complaint, when the entry is dropped.
    pub invalid: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RawAccount {
    pub value: String,
    pub pos: Pos,
    /// The YAML type a plain scalar resolves to (`int` for an unquoted account id).
    pub resolved: &'static str,
    pub style: Style,
}

/// Why a section was lost.
#[derive(Debug, Clone)]
pub struct SectionError {
    pub message: String,
    pub pos: Pos,
    /// The value starts with `{` and was taken as JSON.
    pub json: bool,
}

#[derive(Debug, Clone)]
pub struct SectionLoad {
    pub section: Section,
    pub state: SectionState,
    pub error: Option<SectionError>,
    pub entries: Vec<RawEntry>,
    pub accounts: Vec<RawAccount>,
    /// Items of `mapAccounts` that are not scalars (skipped by go-yaml).
    pub skipped_accounts: Vec<(Pos, &'static str)>,
    /// Where the top-level value is, when it is not a list.
    pub not_list: Option<(Pos, &'static str)>,
    pub extra_document: Option<Pos>,
    pub root: Option<Node>,
}

/// `isSkippable`: empty after trimming, `""`, `''` or two backquotes.
pub fn is_skippable(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t == "``" || t == "\"\"" || t == "''"
}

fn json_type(node: &Node) -> Result<&'static str, yaml::YamlError> {
    Ok(match &node.kind {
        NodeKind::Seq(_) => "array",
        NodeKind::Map(_) => "object",
        NodeKind::Scalar { .. } => match yaml::resolve(node)? {
            Resolved::Null => "null",
            Resolved::Bool(_) => "bool",
            Resolved::Int(_) | Resolved::Float(_) => "number",
            Resolved::Str => "string",
        },
    })
}

/// What sigs.k8s.io/yaml's YAMLToJSON refuses: collection or null keys, bad merges, bad tags,
/// and floats JSON cannot hold.
fn check_convertible(node: &Node) -> Result<(), yaml::YamlError> {
    match &node.kind {
        NodeKind::Scalar { .. } => match yaml::resolve(node)? {
            Resolved::Float(f) if !f.is_finite() => Err(yaml::YamlError {
                message: format!(
                    "json: unsupported value: {}",
                    if f.is_nan() {
                        "NaN"
                    } else if f > 0.0 {
                        "+Inf"
                    } else {
                        "-Inf"
                    }
                ),
                pos: node.pos,
            }),
            _ => Ok(()),
        },
        NodeKind::Seq(items) => items.iter().try_for_each(check_convertible),
        NodeKind::Map(pairs) => {
            // go-yaml decodes a duplicate key's values in order into one Go map entry: only
            // the last value reaches JSON (an earlier `.inf` is no error).
            let same_key = |a: &Node, b: &Node| {
                matches!(a.kind, NodeKind::Scalar { .. })
                    && matches!(b.kind, NodeKind::Scalar { .. })
                    && !a.is_merge_key()
                    && yaml::resolve(a).ok() == yaml::resolve(b).ok()
                    && key_string(a) == key_string(b)
            };
            for (i, (k, v)) in pairs.iter().enumerate() {
                let replaced = pairs[i + 1..].iter().any(|(later, _)| same_key(k, later));
                if k.is_merge_key() {
                    let ok = match &v.kind {
                        NodeKind::Map(_) => true,
                        NodeKind::Seq(items) => {
                            items.iter().all(|i| matches!(i.kind, NodeKind::Map(_)))
                        }
                        _ => false,
                    };
                    if !ok {
                        return Err(yaml::YamlError {
                            message: "map merge requires map or sequence of maps as the value"
                                .into(),
                            pos: v.pos,
                        });
                    }
                } else {
                    match &k.kind {
                        NodeKind::Seq(_) | NodeKind::Map(_) => {
                            return Err(yaml::YamlError {
                                message: "invalid map key".into(),
                                pos: k.pos,
                            });
                        }
                        NodeKind::Scalar { .. } => {
                            if yaml::resolve(k)? == Resolved::Null {
                                return Err(yaml::YamlError {
                                    message: "unsupported map key of type: <nil>".into(),
                                    pos: k.pos,
                                });
                            }
                        }
                    }
                }
                if replaced {
                    check_keys_only(v)?;
                } else {
                    check_convertible(v)?;
                }
            }
            Ok(())
        }
    }
}

/// What go-yaml itself refuses while decoding a value that is later replaced: collection keys
/// and bad merges (non-finite floats only fail later, in json.Marshal).
fn check_keys_only(node: &Node) -> Result<(), yaml::YamlError> {
    match &node.kind {
        NodeKind::Scalar { .. } => yaml::resolve(node).map(|_| ()),
        NodeKind::Seq(items) => items.iter().try_for_each(check_keys_only),
        NodeKind::Map(pairs) => {
            for (k, v) in pairs {
                if k.is_merge_key() {
                    let ok = match &v.kind {
                        NodeKind::Map(_) => true,
                        NodeKind::Seq(items) => {
                            items.iter().all(|i| matches!(i.kind, NodeKind::Map(_)))
                        }
                        _ => false,
                    };
                    if !ok {
                        return Err(yaml::YamlError {
                            message: "map merge requires map or sequence of maps as the value"
                                .into(),
                            pos: v.pos,
                        });
                    }
                } else if matches!(k.kind, NodeKind::Seq(_) | NodeKind::Map(_)) {
                    return Err(yaml::YamlError {
                        message: "invalid map key".into(),
                        pos: k.pos,
                    });
                }
                check_keys_only(v)?;
            }
            Ok(())
        }
    }
}

/// The string sigs.k8s.io/yaml makes of a scalar key.
fn key_string(k: &Node) -> String {
    match yaml::resolve(k) {
        Ok(Resolved::Str) => k.scalar_value().unwrap_or_default().to_string(),
        Ok(Resolved::Bool(b)) => b.to_string(),
        Ok(Resolved::Int(i)) => i.to_string(),
        Ok(Resolved::Float(f)) => format!("{}", f as f32),
        _ => k.scalar_value().unwrap_or_default().to_string(),
    }
}

/// The key/value pairs of a mapping after go-yaml v2 built its map: merges applied in place,
/// later duplicates replacing earlier ones.
type Flat<'n> = (String, &'n Node, &'n Node, Option<Pos>, bool);

fn flatten_map<'n>(node: &'n Node, out: &mut Vec<Flat<'n>>, merged: bool) {
    let NodeKind::Map(pairs) = &node.kind else {
        return;
    };
    for (k, v) in pairs {
        if k.is_merge_key() {
            match &v.kind {
                NodeKind::Map(_) => flatten_map(v, out, true),
                NodeKind::Seq(items) => {
                    for item in items.iter().rev() {
                        flatten_map(item, out, true);
                    }
                }
                _ => {}
            }
            continue;
        }
        let key = key_string(k);
        let mut replaced = None;
        if let Some(i) = out.iter().position(|(ek, ..)| *ek == key) {
            // Overriding a merged (`<<`) value is what merges are for; only a key written
            // twice by hand is worth a finding.
            if !out[i].4 && !merged {
                replaced = Some(out[i].1.pos);
            }
            out.remove(i);
        }
        out.push((key, k, v, replaced, merged));
    }
}

fn scalar_raw(node: &Node) -> Option<String> {
    node.scalar_value().map(str::to_string)
}

/// Decode `node` into a Go `string` field. Only a string is stored (and then `true` is
/// returned): `null` is a no-op for a string, and a value of another type is an
/// `UnmarshalTypeError` that leaves the field as it was.
fn decode_string(
    node: &Node,
    field: Field,
    item: Option<usize>,
    target: &mut String,
    errs: &mut Vec<TypeMismatch>,
) -> bool {
    match json_type(node) {
        Ok("string") => {
            if let Some(v) = node.scalar_value() {
                *target = v.to_string();
                return true;
            }
            false
        }
        Ok("null") => false,
        Ok(found) => {
            errs.push(TypeMismatch {
                field,
                item,
                found,
                raw: scalar_raw(node),
                pos: node.pos,
            });
            false
        }
        Err(_) => false,
    }
}

fn decode_object(
    node: &Node,
    fields: &[Field],
    keys: &mut Vec<KeyUse>,
    errs: &mut Vec<TypeMismatch>,
    d: &mut Decoded,
) {
    let mut flat = Vec::new();
    flatten_map(node, &mut flat, false);
    // json.Marshal of a Go map sorts the keys; json.Unmarshal then assigns in that order.
    flat.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut last_for_field: Vec<(Field, usize)> = Vec::new();
    for (key, knode, vnode, replaced, _) in flat {
        let field = match_field(fields, &key);
        let idx = keys.len();
        keys.push(KeyUse {
            key: key.clone(),
            pos: knode.pos,
            value_pos: vnode.pos,
            field,
            overridden_by: None,
            replaces: replaced,
            raw: if field.is_none() {
                scalar_raw(vnode)
            } else {
                None
            },
        });
        let Some((f, _)) = field else { continue };
        if let Some(slot) = last_for_field.iter_mut().find(|(lf, _)| *lf == f) {
            keys[slot.1].overridden_by = Some(key.clone());
            slot.1 = idx;
        } else {
            last_for_field.push((f, idx));
        }
        // Each key is decoded onto what earlier keys left (Go's encoding/json): a value that is
        // not assigned (`null` into a string, a wrong type) leaves the earlier value, and its
        // position, in place.
        match f {
            Field::RoleArn => {
                if decode_string(vnode, f, None, &mut d.rolearn, errs) {
                    d.arn_pos = Some(vnode.pos);
                }
            }
            Field::UserArn => {
                if decode_string(vnode, f, None, &mut d.userarn, errs) {
                    d.arn_pos = Some(vnode.pos);
                }
            }
            Field::Username => {
                if decode_string(vnode, f, None, &mut d.username, errs) {
                    d.username_pos = Some(vnode.pos);
                }
            }
            Field::UserId => {
                decode_string(vnode, f, None, &mut d.userid, errs);
            }
            Field::Groups => {
                match (&vnode.kind, json_type(vnode)) {
                    (NodeKind::Seq(items), _) => {
                        d.groups_pos = Some(vnode.pos);
                        // Go decodes each item into the element already at that index of the
                        // slice's backing array (within its capacity, even past its length: a
                        // slice an earlier key shortened still holds the old elements there),
                        // then sets the length. An empty array makes a fresh empty slice.
                        let mut g = d.groups.take().unwrap_or_default();
                        g.append(&mut d.groups_spare);
                        if items.is_empty() {
                            g.clear();
                        } else if g.len() < items.len() {
                            g.resize(items.len(), String::new());
                        }
                        // `group_pos` runs parallel to the whole backing array.
                        let mut pos: Vec<Pos> = std::mem::take(&mut d.group_pos);
                        pos.truncate(g.len());
                        for (i, item) in items.iter().enumerate() {
                            let stored = decode_string(item, f, Some(i), &mut g[i], errs);
                            if stored || i >= pos.len() {
                                pos.resize(pos.len().max(i + 1), item.pos);
                                pos[i] = item.pos;
                            }
                        }
                        d.groups_spare = g.split_off(items.len());
                        d.group_pos = pos;
                        d.groups = Some(g);
                    }
                    (_, Ok("null")) => {
                        d.groups_pos = Some(vnode.pos);
                        d.groups = None;
                        d.groups_spare.clear();
                        d.group_pos.clear();
                    }
                    (_, Ok(found)) => errs.push(TypeMismatch {
                        field: f,
                        item: None,
                        found,
                        raw: scalar_raw(vnode),
                        pos: vnode.pos,
                    }),
                    (_, Err(_)) => {}
                }
            }
            Field::Sso => {
                d.sso_pos = Some(vnode.pos);
                match json_type(vnode) {
                    Ok("null") => d.sso = None,
                    Ok("object") => {
                        // An object is decoded into the matcher the pointer already holds (an
                        // earlier `SSO:` key's), field by field: what it does not assign stays.
                        let mut sub = Decoded {
                            sso: Some(d.sso.take().unwrap_or_default()),
                            ..Decoded::default()
                        };
                        let mut sub_keys = Vec::new();
                        decode_object(vnode, Field::SSO_FIELDS, &mut sub_keys, errs, &mut sub);
                        keys.extend(sub_keys);
                        d.sso = sub.sso;
                    }
                    Ok(found) => {
                        // Go allocates the pointer before it notices the type mismatch.
                        d.sso.get_or_insert_with(SsoMatcher::default);
                        errs.push(TypeMismatch {
                            field: f,
                            item: None,
                            found,
                            raw: scalar_raw(vnode),
                            pos: vnode.pos,
                        });
                    }
                    Err(_) => {}
                }
            }
            Field::PermissionSetName | Field::AccountId | Field::Partition => {
                let sso = d.sso.get_or_insert_with(SsoMatcher::default);
                let target = match f {
                    Field::PermissionSetName => &mut sso.permission_set_name,
                    Field::AccountId => &mut sso.account_id,
                    _ => &mut sso.partition,
                };
                decode_string(vnode, f, None, target, errs);
            }
        }
    }
}

/// Partitions the authenticator's SSO validation accepts.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_permission_set_name(s: &str) -> bool {
    let n = s.chars().count();
    (1..=32).contains(&n)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// `RoleMapping.Validate()` / `UserMapping.Validate()`.
fn validate(section: Section, d: &Decoded) -> Option<String> {
    match section {
        Section::MapRoles => {
            if d.rolearn.is_empty() && d.sso.is_none() {
                return Some("one of rolearn or SSO must be supplied".into());
            }
            if !d.rolearn.is_empty() && d.sso.is_some() {
                return Some("only one of rolearn or SSO can be supplied".into());
            }
            if let Some(sso) = &d.sso {
                if !is_account_id(&sso.account_id) {
                    return Some(format!(
                        "AccountID '{}' is not a valid AWS Account ID",
                        sso.account_id
                    ));
                }
                if !is_permission_set_name(&sso.permission_set_name) {
                    return Some(format!(
                        "PermissionSetName '{}' is not a valid AWS SSO PermissionSet Name",
                        sso.permission_set_name
                    ));
                }
                if !sso.partition.is_empty() && !PARTITIONS.contains(&sso.partition.as_str()) {
                    return Some(format!(
                        "partition '{}' is not a valid AWS partition",
                        sso.partition
                    ));
                }
            }
            None
        }
        _ => {
            if d.userarn.is_empty() {
                Some("value for userarn must be supplied".into())
            } else {
                None
            }
        }
    }
}

/// `RoleMapping.SSOArnLike()`, including its quirk: a partition that is set is dropped.
pub fn sso_arn_like(sso: &SsoMatcher) -> String {
    let partition = if sso.partition.is_empty() { "aws" } else { "" };
    format!(
        "arn:{partition}:iam::{}:role/AWSReservedSSO_{}_*",
        sso.account_id, sso.permission_set_name
    )
    .to_lowercase()
}

fn empty_load(section: Section, state: SectionState) -> SectionLoad {
    SectionLoad {
        section,
        state,
        error: None,
        entries: Vec::new(),
        accounts: Vec::new(),
        skipped_accounts: Vec::new(),
        not_list: None,
        extra_document: None,
        root: None,
    }
}

/// Load one section's text the way `ParseMap` does. `None` text means the key is absent.
pub fn load_section(section: Section, text: Option<&str>) -> SectionLoad {
    match text {
        Some(t) if yaml::may_nest_deeper_than(t, yaml::SHALLOW_DEPTH) => {
            // Read on a stack sized for go-yaml's 10,000 levels; a tree deeper than an
            // ordinary stack can walk is dropped there (the effective mapping, state and error
            // are kept; lint and salvage then see no tree for this section).
            yaml::on_deep_stack(|| {
                let mut load = load_section_here(section, text);
                if load
                    .root
                    .as_ref()
                    .is_some_and(|r| yaml::depth(r) > yaml::SHALLOW_DEPTH)
                {
                    load.root = None;
                }
                load
            })
            .unwrap_or_else(|| {
                let mut load = empty_load(section, SectionState::Lost);
                load.error = Some(SectionError {
                    message: format!(
                        "this section may nest deeper than {} levels and no thread could be \
                         started to read it: eks-breakglass cannot tell whether the \
                         authenticator loads it",
                        yaml::SHALLOW_DEPTH
                    ),
                    pos: pos_at(t, 0),
                    json: false,
                });
                load
            })
        }
        _ => load_section_here(section, text),
    }
}

/// [`load_section`] on the current thread's stack.
fn load_section_here(section: Section, text: Option<&str>) -> SectionLoad {
    let Some(text) = text else {
        return empty_load(section, SectionState::Absent);
    };
    if is_skippable(text) {
        return empty_load(section, SectionState::Absent);
    }
    if section == Section::MapAccounts {
        return load_accounts(text);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        // utilyaml.ToJSON passes JSON-looking input through; an object is not a list.
        let offset = text.len() - trimmed.len();
        let pos = pos_at(text, offset);
        let mut load = empty_load(section, SectionState::NotAList);
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(_) => load.not_list = Some((pos, "object")),
            Err(e) => {
                load.state = SectionState::Lost;
                load.error = Some(SectionError {
                    message: e.to_string(),
                    pos: pos_at_line_col(text, e.line(), e.column()),
                    json: true,
                });
            }
        }
        return load;
    }
    let scan = libyaml::scan(text);
    if let Some(e) = scan.error {
        let mut load = empty_load(section, SectionState::Lost);
        load.error = Some(SectionError {
            message: e.message.into(),
            pos: e.pos,
            json: false,
        });
        return load;
    }
    let seen = libyaml::as_libyaml_sees_it(text, &scan);
    let doc = match yaml::parse_first_with(seen.as_deref().unwrap_or(text), seen.is_some())
        .and_then(|d| match &scan.late_error {
            None => Ok(d),
            Some(e) => Err(yaml::YamlError {
                message: e.message.into(),
                pos: e.pos,
            }),
        }) {
        Ok(d) => d,
        Err(e) => {
            let mut load = empty_load(section, SectionState::Lost);
            load.error = Some(SectionError {
                message: e.message,
                pos: e.pos,
                json: false,
            });
            return load;
        }
    };
    let mut load = empty_load(section, SectionState::Loaded);
    load.extra_document = doc
        .extra_document
        .or_else(|| scan.document_cut.map(|cut| pos_at(text, cut)));
    let Some(root) = doc.root else {
        return load;
    };
    if let Err(e) = check_convertible(&root) {
        load.state = SectionState::Lost;
        load.error = Some(SectionError {
            message: e.message,
            pos: e.pos,
            json: false,
        });
        load.root = Some(root);
        return load;
    }
    if yaml::depth(&root) > yaml::GO_YAML_MAX_DEPTH {
        // sigs.k8s.io/yaml hands encoding/json a document as deep as the YAML, and its scanner
        // refuses more than 10,000 levels of arrays and objects (flow and block together).
        load.state = SectionState::Lost;
        load.error = Some(SectionError {
            message: "exceeded max depth".into(),
            pos: root.pos,
            json: true,
        });
        load.root = Some(root);
        return load;
    }
    if matches!(root.kind, NodeKind::Scalar { .. })
        && yaml::resolve(&root).ok() == Some(Resolved::Null)
    {
        // JSON `null` into a slice: no error, nothing decoded (`---` alone, `~`, `null`).
        load.root = Some(root);
        return load;
    }
    let NodeKind::Seq(items) = &root.kind else {
        load.state = SectionState::NotAList;
        load.not_list = Some((root.pos, json_type(&root).unwrap_or("value")));
        load.root = Some(root);
        return load;
    };
    let fields = Field::entry_fields(section);
    for (index, item) in items.iter().enumerate() {
        let mut keys = Vec::new();
        let mut errs = Vec::new();
        let mut decoded = Decoded::default();
        let found = json_type(item).unwrap_or("value");
        let is_object = matches!(item.kind, NodeKind::Map(_));
        if is_object {
            decode_object(item, fields, &mut keys, &mut errs, &mut decoded);
        }
        let invalid = validate(section, &decoded);
        load.entries.push(RawEntry {
            index,
            pos: item.pos,
            is_object,
            found,
            keys,
            type_errors: errs,
            decoded,
            invalid,
        });
    }
    load.root = Some(root);
    load
}

fn load_accounts(text: &str) -> SectionLoad {
    let scan = libyaml::scan(text);
    if let Some(e) = scan.error {
        let mut load = empty_load(Section::MapAccounts, SectionState::Lost);
        load.error = Some(SectionError {
            message: e.message.into(),
            pos: e.pos,
            json: false,
        });
        return load;
    }
    let seen = libyaml::as_libyaml_sees_it(text, &scan);
    let doc = match yaml::parse_first_lazy_binary(seen.as_deref().unwrap_or(text), seen.is_some())
        .and_then(|d| match &scan.late_error {
            None => Ok(d),
            Some(e) => Err(yaml::YamlError {
                message: e.message.into(),
                pos: e.pos,
            }),
        }) {
        Ok(d) => d,
        Err(e) => {
            let mut load = empty_load(Section::MapAccounts, SectionState::Lost);
            load.error = Some(SectionError {
                message: e.message,
                pos: e.pos,
                json: false,
            });
            return load;
        }
    };
    let mut load = empty_load(Section::MapAccounts, SectionState::Loaded);
    load.extra_document = doc
        .extra_document
        .or_else(|| scan.document_cut.map(|cut| pos_at(text, cut)));
    let Some(root) = doc.root else {
        return load;
    };
    match &root.kind {
        NodeKind::Seq(items) => {
            // go-yaml's decoder.sequence: the slice is made with one zero value per item, then
            // filled in order (type errors skipped, later items moved up). A fatal error on an
            // item (`!!binary` that is not base64, `!!int x`) stops it there: Unmarshal
            // returns that error, and the authenticator keeps the slice as it is — what was
            // decoded before, then empty strings.
            for item in items {
                match &item.kind {
                    NodeKind::Scalar { value, style } => {
                        let resolved = match yaml::resolve(item) {
                            Ok(r) => r,
                            Err(e) => {
                                load.state = SectionState::Lost;
                                load.error = Some(SectionError {
                                    message: e.message,
                                    pos: e.pos,
                                    json: false,
                                });
                                let filled = load.accounts.len();
                                for _ in filled..items.len() {
                                    load.accounts.push(RawAccount {
                                        value: String::new(),
                                        pos: item.pos,
                                        resolved: "null",
                                        style: *style,
                                    });
                                }
                                break;
                            }
                        };
                        // go-yaml v2 decodes any non-null scalar into a string as its source
                        // text (a `!!binary` one as the bytes it holds).
                        let v = if resolved == Resolved::Null {
                            String::new()
                        } else {
                            value.clone()
                        };
                        load.accounts.push(RawAccount {
                            value: v,
                            pos: item.pos,
                            resolved: resolved.type_name(),
                            style: *style,
                        });
                    }
                    NodeKind::Seq(_) => load.skipped_accounts.push((item.pos, "list")),
                    NodeKind::Map(_) => load.skipped_accounts.push((item.pos, "mapping")),
                }
            }
        }
        NodeKind::Map(_) => {
            load.state = SectionState::NotAList;
            load.not_list = Some((root.pos, "mapping"));
        }
        NodeKind::Scalar { .. } => match yaml::resolve(&root) {
            Err(e) => {
                // Decoding the scalar fails before its type is checked.
                load.state = SectionState::Lost;
                load.error = Some(SectionError {
                    message: e.message,
                    pos: e.pos,
                    json: false,
                });
            }
            Ok(Resolved::Null) => {}
            Ok(_) => {
                load.state = SectionState::NotAList;
                load.not_list = Some((root.pos, "scalar"));
            }
        },
    }
    load.root = Some(root);
    load
}

/// Position of a byte offset inside `text`.
pub fn pos_at(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Pos {
        line,
        column: text[line_start..offset].chars().count() + 1,
        offset,
    }
}

fn pos_at_line_col(text: &str, line: usize, col: usize) -> Pos {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let byte = l
                .char_indices()
                .nth(col.saturating_sub(1))
                .map(|(b, _)| b)
                .unwrap_or(l.len());
            return pos_at(text, offset + byte);
        }
        offset += l.len();
    }
    pos_at(text, text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sections nested up to go-yaml's limits load on an ordinary test thread (2 MiB stack)
    /// without overflowing it; one level more is lost as the authenticator loses it (verdicts
    /// of tools/awsauth-oracle): mapRoles goes through encoding/json, whose 10,000 levels
    /// count the list and the entry (a `groups` 9,998 flow levels deep is a type error, 9,999
    /// is "exceeded max depth"); mapAccounts only through go-yaml (10,000 flow levels in an
    /// item: a type error; 10,001: "exceeded max depth of 10000").
    #[test]
    fn deep_sections_are_read_to_the_authenticator_s_limits() {
        let roles = |k: usize| {
            format!(
                "- rolearn: arn:aws:iam::111122223333:role/a\n  username: a\n  groups: {}{}\n",
                "[".repeat(k),
                "]".repeat(k)
            )
        };
        let accounts =
            |k: usize| format!("- \"111122223333\"\n- {}{}\n", "[".repeat(k), "]".repeat(k));
        let load = load_section(Section::MapRoles, Some(&roles(9_998)));
        assert_eq!(load.state, SectionState::Loaded);
        assert_eq!(load.entries.len(), 1);
        let load = load_section(Section::MapRoles, Some(&roles(9_999)));
        assert_eq!(load.state, SectionState::Lost);
        let load = load_section(Section::MapRoles, Some(&roles(10_001)));
        assert_eq!(load.state, SectionState::Lost);
        assert!(
            load.error
                .is_some_and(|e| e.message == "exceeded max depth of 10000"),
            "go-yaml's message"
        );
        let load = load_section(Section::MapAccounts, Some(&accounts(10_000)));
        assert_eq!(load.state, SectionState::Loaded);
        let load = load_section(Section::MapAccounts, Some(&accounts(10_001)));
        assert_eq!(load.state, SectionState::Lost);
    }

    #[test]
    fn crazy_case_keys_and_wrong_types() {
        let l = load_section(
            Section::MapRoles,
            Some(
                "- RoleArn: arn:aws:iam::111122223333:role/a\n  username: yes\n  groups: system:masters\n",
            ),
        );
        assert_eq!(l.state, SectionState::Loaded);
        let e = &l.entries[0];
        assert!(e.invalid.is_none());
        assert_eq!(e.decoded.rolearn, "arn:aws:iam::111122223333:role/a");
        assert_eq!(e.decoded.username, "");
        assert_eq!(e.decoded.groups, None);
        assert_eq!(e.type_errors.len(), 2);
    }

    #[test]
    fn unquoted_template_loses_the_section() {
        let l = load_section(
            Section::MapRoles,
            Some("- rolearn: arn:aws:iam::111122223333:role/a\n  username: {{SessionName}}\n"),
        );
        assert_eq!(l.state, SectionState::Lost);
        let err = l.error.expect("error");
        assert_eq!(err.pos.line, 2);
    }

    #[test]
    fn sso_scalar_allocates_the_pointer() {
        let l = load_section(
            Section::MapRoles,
            Some("- rolearn: arn:aws:iam::111122223333:role/a\n  sso: \"\"\n"),
        );
        assert_eq!(
            l.entries[0].invalid.as_deref(),
            Some("only one of rolearn or SSO can be supplied")
        );
    }

    #[test]
    fn a_fatal_item_error_keeps_the_accounts_decoded_before_it() {
        // go-yaml v2.4.0 (tools/awsauth-oracle): error, accounts {"111122223333", ""}.
        let l = load_section(
            Section::MapAccounts,
            Some("- \"111122223333\"\n- [!!binary x]\n- !!binary x\n- \"444455556666\"\n"),
        );
        assert_eq!(l.state, SectionState::Lost);
        let got: Vec<&str> = l.accounts.iter().map(|a| a.value.as_str()).collect();
        // The slice had four places: one filled, three zero values.
        assert_eq!(got, ["111122223333", "", "", ""]);
        let l = load_section(Section::MapAccounts, Some("!!int abc"));
        assert_eq!(l.state, SectionState::Lost);
        assert!(l.accounts.is_empty());
    }

    #[test]
    fn unquoted_accounts_keep_their_text() {
        let l = load_section(
            Section::MapAccounts,
            Some("- 012345678901\n- \"222233334444\"\n"),
        );
        assert_eq!(l.accounts[0].value, "012345678901");
        assert_eq!(l.accounts[0].resolved, "float");
        assert_eq!(l.accounts[1].value, "222233334444");
    }

    #[test]
    fn sorted_key_order_decides_duplicates() {
        let l = load_section(
            Section::MapUsers,
            Some(
                "- userarn: arn:aws:iam::111122223333:user/low\n  UserArn: arn:aws:iam::111122223333:user/up\n",
            ),
        );
        assert_eq!(
            l.entries[0].decoded.userarn,
            "arn:aws:iam::111122223333:user/low"
        );
    }

    #[test]
    fn tagged_merge_keys_merge_and_quoted_ones_do_not() {
        let text = "- &base {rolearn: arn:aws:iam::111122223333:role/base, username: base}\n\
                    - !!merge \"<<\": *base\n  username: a\n\
                    - ! '<<': *base\n  username: b\n\
                    - \"<<\": *base\n  username: c\n";
        let l = load_section(Section::MapRoles, Some(text));
        assert_eq!(l.state, SectionState::Loaded);
        let arns: Vec<&str> = l
            .entries
            .iter()
            .map(|e| e.decoded.rolearn.as_str())
            .collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::111122223333:role/base",
                "arn:aws:iam::111122223333:role/base",
                "arn:aws:iam::111122223333:role/base",
                "",
            ]
        );
        assert_eq!(l.entries[1].decoded.username, "a");
        assert!(l.entries[1].invalid.is_none());
        assert!(l.entries[2].invalid.is_none());
        // A plain quoted "<<" is the literal key `<<`: unknown, so the entry has no rolearn.
        assert!(
            l.entries[3]
                .keys
                .iter()
                .any(|k| k.key == "<<" && k.field.is_none())
        );
        assert!(l.entries[3].invalid.is_some());
        // A tagged merge with a scalar value fails the section like a plain one.
        let l = load_section(Section::MapRoles, Some("- !!merge \"<<\": 1\n"));
        assert_eq!(l.state, SectionState::Lost);
        let l = load_section(Section::MapRoles, Some("- \"<<\": 1\n  rolearn: x\n"));
        assert_eq!(l.state, SectionState::Loaded);
    }

    #[test]
    fn null_under_a_later_spelling_leaves_the_earlier_value() {
        // "SSO" < "sso": the second object is decoded into the matcher the first allocated.
        let l = load_section(
            Section::MapRoles,
            Some(
                "- SSO: {permissionSetName: Admin, accountID: '111122223333'}\n  sso: {permissionSetName: null}\n  username: a\n",
            ),
        );
        let e = &l.entries[0];
        assert!(e.invalid.is_none(), "{:?}", e.invalid);
        let sso = e.decoded.sso.as_ref().expect("sso");
        assert_eq!(sso.permission_set_name, "Admin");
        assert_eq!(sso.account_id, "111122223333");
        // A later object assigns what it holds and keeps the rest.
        let l = load_section(
            Section::MapRoles,
            Some(
                "- SSO: {permissionSetName: Admin, accountID: '111122223333'}\n  sso: {PermissionSetName: Dev, partition: aws}\n",
            ),
        );
        let sso = l.entries[0].decoded.sso.as_ref().expect("sso");
        assert_eq!(
            (
                sso.permission_set_name.as_str(),
                sso.account_id.as_str(),
                sso.partition.as_str()
            ),
            ("Dev", "111122223333", "aws")
        );
        // null into the pointer itself makes it nil.
        let l = load_section(
            Section::MapRoles,
            Some(
                "- SSO: {permissionSetName: Admin, accountID: '111122223333'}\n  sso: null\n  rolearn: arn:aws:iam::111122223333:role/r\n",
            ),
        );
        assert!(l.entries[0].decoded.sso.is_none());
        assert!(l.entries[0].invalid.is_none());
        // null or a wrong type into a string leaves the earlier value and its position.
        let l = load_section(
            Section::MapRoles,
            Some(
                "- RoleArn: arn:aws:iam::111122223333:role/a\n  rolearn: null\n  UserName: u\n  username: 5\n",
            ),
        );
        let d = &l.entries[0].decoded;
        assert_eq!(d.rolearn, "arn:aws:iam::111122223333:role/a");
        assert_eq!(d.arn_pos.map(|p| p.line), Some(1));
        assert_eq!(d.username, "u");
        assert_eq!(d.username_pos.map(|p| p.line), Some(3));
    }

    #[test]
    fn groups_decode_onto_the_earlier_slice() {
        let groups = |text: &str| {
            load_section(Section::MapRoles, Some(text)).entries[0]
                .decoded
                .groups
                .clone()
        };
        let arn = "- rolearn: arn:aws:iam::111122223333:role/a\n";
        // null into the slice makes it nil.
        assert_eq!(
            groups(&format!("{arn}  Groups: [a]\n  groups: null\n")),
            None
        );
        // Items are decoded onto the elements there: null or a wrong type keeps the old one.
        assert_eq!(
            groups(&format!("{arn}  Groups: [a, b, c]\n  groups: [x, null]\n")),
            Some(vec!["x".to_string(), "b".to_string()])
        );
        // Shortening keeps the backing array; a longer array later decodes onto it again.
        // Order: GROUPS < Groups < groups.
        assert_eq!(
            groups(&format!(
                "{arn}  GROUPS: [a, b, c]\n  Groups: [x]\n  groups: [z, null, 7]\n"
            )),
            Some(vec!["z".to_string(), "b".to_string(), "c".to_string()])
        );
        // An empty array is a fresh empty slice: nothing is kept behind it.
        assert_eq!(
            groups(&format!(
                "{arn}  GROUPS: [a, b]\n  Groups: []\n  groups: [null, null]\n"
            )),
            Some(vec![String::new(), String::new()])
        );
        // A wrong type leaves the slice as it was.
        assert_eq!(
            groups(&format!("{arn}  Groups: [a]\n  groups: x\n")),
            Some(vec!["a".to_string()])
        );
    }

    #[test]
    fn tabs_as_go_yaml_reads_them() {
        // go-yaml v2 skips a tab after a simple key's `:`: the entry loads.
        let l = load_section(Section::MapRoles, Some("- rolearn: x\n  username:\tbob\n"));
        assert_eq!(l.state, SectionState::Loaded);
        assert_eq!(l.entries[0].decoded.username, "bob");
        // A tab in the indentation of a continuation line loses the section.
        let l = load_section(Section::MapRoles, Some("- rolearn: x\n\tusername: bob\n"));
        assert_eq!(l.state, SectionState::Lost);
    }

    #[test]
    fn folding_matches_go() {
        assert!(go_fold_eq("rolearn", "ROLEARN"));
        assert!(go_fold_eq("sso", "\u{017F}so"));
        assert!(!go_fold_eq("rolearn", "role_arn"));
    }
}
