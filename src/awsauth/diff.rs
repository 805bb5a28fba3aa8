//! Compare two aws-auth versions the way it matters: who gained, lost or changed access.
//!
//! A text diff of aws-auth hides what changed for whom (a re-indented block looks like a
//! rewrite; a duplicate added far below silently replaces an entry). The mapping diff compares
//! the entries the authenticator keeps in force (the last of each role ARN, each user ARN as
//! written), keyed the way it looks them up; the text diff is there for review.

use super::model::{EffectiveMapping, NeverReason, SectionState};
use serde::Serialize;

/// An entry in a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    pub arn: String,
    pub username: String,
    pub groups: Vec<String>,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_matches: Option<NeverReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub key: String,
    pub old: DiffEntry,
    pub new: DiffEntry,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntryDiff {
    pub added: Vec<DiffEntry>,
    pub removed: Vec<DiffEntry>,
    pub changed: Vec<Changed>,
}

impl EntryDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionChange {
    pub section: &'static str,
    pub old: SectionState,
    pub new: SectionState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MappingDiff {
    pub roles: EntryDiff,
    pub users: EntryDiff,
    pub accounts_added: Vec<String>,
    pub accounts_removed: Vec<String>,
    pub sections: Vec<SectionChange>,
}

impl MappingDiff {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
            && self.users.is_empty()
            && self.accounts_added.is_empty()
            && self.accounts_removed.is_empty()
            && self.sections.is_empty()
    }
}

fn diff_entries(old: Vec<(String, DiffEntry)>, new: Vec<(String, DiffEntry)>) -> EntryDiff {
    let mut d = EntryDiff::default();
    for (k, o) in &old {
        match new.iter().find(|(nk, _)| nk == k) {
            None => d.removed.push(o.clone()),
            Some((_, n)) => {
                if o.username != n.username
                    || o.groups != n.groups
                    || o.arn != n.arn
                    || o.never_matches != n.never_matches
                {
                    d.changed.push(Changed {
                        key: k.clone(),
                        old: o.clone(),
                        new: n.clone(),
                    });
                }
            }
        }
    }
    for (k, n) in &new {
        if !old.iter().any(|(ok, _)| ok == k) {
            d.added.push(n.clone());
        }
    }
    d
}

fn roles(m: &EffectiveMapping) -> Vec<(String, DiffEntry)> {
    m.active_roles()
        .map(|r| {
            (
                r.key.clone(),
                DiffEntry {
                    arn: if r.arn.is_empty() {
                        r.key.clone()
                    } else {
                        r.arn.clone()
                    },
                    username: r.username.clone(),
                    groups: r.groups.clone(),
                    line: r.line,
                    never_matches: r.never_matches(),
                },
            )
        })
        .collect()
}

fn users(m: &EffectiveMapping) -> Vec<(String, DiffEntry)> {
    m.active_users()
        .map(|u| {
            (
                u.arn.clone(),
                DiffEntry {
                    arn: u.arn.clone(),
                    username: u.username.clone(),
                    groups: u.groups.clone(),
                    line: u.line,
                    never_matches: u.never_matches(),
                },
            )
        })
        .collect()
}

/// Mapping-level difference between two effective mappings.
pub fn diff_mappings(old: &EffectiveMapping, new: &EffectiveMapping) -> MappingDiff {
    let oa: Vec<&str> = old.accounts.iter().map(|a| a.account.as_str()).collect();
    let na: Vec<&str> = new.accounts.iter().map(|a| a.account.as_str()).collect();
    let mut accounts_added: Vec<String> = na
        .iter()
        .filter(|a| !oa.contains(a))
        .map(|a| a.to_string())
        .collect();
    let mut accounts_removed: Vec<String> = oa
        .iter()
        .filter(|a| !na.contains(a))
        .map(|a| a.to_string())
        .collect();
    accounts_added.dedup();
    accounts_removed.dedup();
    let sections = super::model::Section::ALL
        .iter()
        .filter(|s| old.sections.get(**s) != new.sections.get(**s))
        .map(|s| SectionChange {
            section: s.key(),
            old: old.sections.get(*s),
            new: new.sections.get(*s),
        })
        .collect();
    MappingDiff {
        roles: diff_entries(roles(old), roles(new)),
        users: diff_entries(users(old), users(new)),
        accounts_added,
        accounts_removed,
        sections,
    }
}

/// A unified text diff (3 lines of context).
pub fn text_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsauth::effective_from_data;

    #[test]
    fn added_removed_changed() {
        let old = effective_from_data([(
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/A\n  username: a\n- rolearn: arn:aws:iam::111122223333:role/B\n  username: b\n",
        )]);
        let new = effective_from_data([(
            "mapRoles",
            "- rolearn: arn:aws:iam::111122223333:role/A\n  username: a2\n- rolearn: arn:aws:iam::111122223333:role/C\n  username: c\n",
        )]);
        let d = diff_mappings(&old, &new);
        assert_eq!(d.roles.added.len(), 1);
        assert_eq!(d.roles.removed.len(), 1);
        assert_eq!(d.roles.changed.len(), 1);
        assert_eq!(d.roles.changed[0].new.username, "a2");
        assert!(text_diff("a\n", "b\n", "old", "new").contains("-a"));
    }
}
