//! What the authenticator holds in memory after reading aws-auth, and where each piece came from.
//!
//! The shapes mirror aws-iam-authenticator's `config.RoleMapping` / `config.UserMapping` and its
//! map store (roles keyed by the lower-cased ARN, users keyed by the ARN as written), plus the
//! source line of each entry and "marks" that explain why an entry that loaded still never
//! applies. `EffectiveMapping` serialises to a small, stable JSON shape that the simulator's
//! independent implementation is compared against:
//!
//! ```json
//! {
//!   "roles": [{"arn": "arn:aws:iam::111122223333:role/Admin", "key": "arn:aws:iam::111122223333:role/admin",
//!              "username": "admin", "groups": ["system:masters"], "line": 8,
//!              "marks": [{"kind": "shadowed_by", "line": 12}]}],
//!   "users": [{"arn": "...", "username": "...", "groups": [], "line": 14,
//!              "marks": [{"kind": "never_matches", "reason": "path"}]}],
//!   "accounts": [{"account": "444455556666", "line": 23}],
//!   "sections": {"mapRoles": "loaded", "mapUsers": "lost", "mapAccounts": "absent"}
//! }
//! ```
//!
//! `roles`/`users` hold every entry that passed validation, in source order; the ones the
//! authenticator keeps in its map are those without a `shadowed_by` mark. `marks` is omitted when
//! empty; an `sso` entry has `"arn": ""` and an `"sso"` object. Section states: `absent`,
//! `loaded`, `lost` (not YAML / not convertible), `not_a_list`.

use serde::Serialize;
use std::fmt;

/// The three data keys the authenticator reads (case-sensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Section {
    #[serde(rename = "mapRoles")]
    MapRoles,
    #[serde(rename = "mapUsers")]
    MapUsers,
    #[serde(rename = "mapAccounts")]
    MapAccounts,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::MapRoles, Section::MapUsers, Section::MapAccounts];

    pub fn key(self) -> &'static str {
        match self {
            Section::MapRoles => "mapRoles",
            Section::MapUsers => "mapUsers",
            Section::MapAccounts => "mapAccounts",
        }
    }

    pub fn from_key(key: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.key() == key)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The alpha `sso` matcher of a role entry (feature-gated in the authenticator).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SsoMatcher {
    #[serde(rename = "permissionSetName")]
    pub permission_set_name: String,
    #[serde(rename = "accountID")]
    pub account_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub partition: String,
}

/// Why an entry that loaded can never match an authenticated identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NeverReason {
    /// `role/some/path/name`: STS identities are canonicalised without the path.
    Path,
    /// An IAM Identity Center role with its `aws-reserved/sso.amazonaws.com/` path.
    SsoPath,
    /// An STS `assumed-role/…/session` ARN: canonical identities are IAM role ARNs.
    AssumedRole,
    /// Not an ARN the canonicaliser can ever produce.
    Malformed,
    /// `*` or `?`: the authenticator compares ARNs literally.
    Wildcard,
    /// An `sso:` matcher: the authenticator's SSO matching is feature-gated off by default
    /// (uncertain on EKS).
    SsoMatcherDisabled,
    /// A `{{EC2PrivateDNSName}}` template in a user mapping: IAM users have no instance
    /// session, so rendering fails and the login is refused.
    UserWithEc2Template,
}

/// A note attached to a loaded entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mark {
    NeverMatches {
        reason: NeverReason,
    },
    /// A later entry with the same lookup key replaced this one (last one wins).
    ShadowedBy {
        line: usize,
    },
    /// Another user entry differs only in case; which one answers is decided by Go's random map
    /// iteration order.
    Nondeterministic {
        lines: Vec<usize>,
    },
}

/// A role entry as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveRole {
    /// The `rolearn` as written (empty for an `sso` entry).
    pub arn: String,
    /// The authenticator's map key: lower-cased ARN, or the SSO ARN-like pattern.
    pub key: String,
    pub username: String,
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoMatcher>,
    /// Line of the entry in the original file (or in the data value when there is no file).
    pub line: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
}

/// A user entry as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveUser {
    pub arn: String,
    pub username: String,
    pub groups: Vec<String>,
    pub line: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
}

/// An account of `mapAccounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveAccount {
    pub account: String,
    pub line: usize,
}

/// How a section fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionState {
    /// No such data key, or a value that is empty / `""` / `''` / two backquotes.
    Absent,
    /// Parsed; entries loaded.
    Loaded,
    /// Not valid YAML (or not convertible to JSON): every entry of the section is lost.
    Lost,
    /// Valid YAML but not a list: zero entries.
    NotAList,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionStates {
    #[serde(rename = "mapRoles")]
    pub map_roles: SectionState,
    #[serde(rename = "mapUsers")]
    pub map_users: SectionState,
    #[serde(rename = "mapAccounts")]
    pub map_accounts: SectionState,
}

impl Default for SectionStates {
    fn default() -> Self {
        SectionStates {
            map_roles: SectionState::Absent,
            map_users: SectionState::Absent,
            map_accounts: SectionState::Absent,
        }
    }
}

impl SectionStates {
    pub fn get(&self, s: Section) -> SectionState {
        match s {
            Section::MapRoles => self.map_roles,
            Section::MapUsers => self.map_users,
            Section::MapAccounts => self.map_accounts,
        }
    }

    pub fn set(&mut self, s: Section, state: SectionState) {
        match s {
            Section::MapRoles => self.map_roles = state,
            Section::MapUsers => self.map_users = state,
            Section::MapAccounts => self.map_accounts = state,
        }
    }
}

/// Everything the authenticator would load from one aws-auth, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct EffectiveMapping {
    pub roles: Vec<EffectiveRole>,
    pub users: Vec<EffectiveUser>,
    pub accounts: Vec<EffectiveAccount>,
    pub sections: SectionStates,
}

impl EffectiveRole {
    pub fn is_shadowed(&self) -> bool {
        self.marks
            .iter()
            .any(|m| matches!(m, Mark::ShadowedBy { .. }))
    }

    pub fn never_matches(&self) -> Option<NeverReason> {
        self.marks.iter().find_map(|m| match m {
            Mark::NeverMatches { reason } => Some(*reason),
            _ => None,
        })
    }

    /// In force: not shadowed (it may still never match).
    pub fn is_winner(&self) -> bool {
        !self.is_shadowed()
    }
}

impl EffectiveUser {
    pub fn is_shadowed(&self) -> bool {
        self.marks
            .iter()
            .any(|m| matches!(m, Mark::ShadowedBy { .. }))
    }

    pub fn never_matches(&self) -> Option<NeverReason> {
        self.marks.iter().find_map(|m| match m {
            Mark::NeverMatches { reason } => Some(*reason),
            _ => None,
        })
    }
}

impl EffectiveMapping {
    /// Role entries the authenticator keeps in its map (the last of each key).
    pub fn active_roles(&self) -> impl Iterator<Item = &EffectiveRole> {
        self.roles.iter().filter(|r| !r.is_shadowed())
    }

    /// User entries the authenticator keeps in its map.
    pub fn active_users(&self) -> impl Iterator<Item = &EffectiveUser> {
        self.users.iter().filter(|u| !u.is_shadowed())
    }
}
