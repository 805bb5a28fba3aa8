//! From loaded sections to the authenticator's in-memory view.
//!
//! `saveMap` puts roles in a map keyed by the lower-cased ARN (so a later duplicate silently
//! replaces an earlier one) and users in a map keyed by the ARN *as written* (so two users that
//! differ only in case both stay, and lookup — a loop over a Go map with `strings.EqualFold` —
//! returns either of them at random). This module computes that view and marks each entry.

use super::model::{
    EffectiveAccount, EffectiveMapping, EffectiveRole, EffectiveUser, Mark, NeverReason, Section,
    SectionStates,
};
use super::parse::{SectionLoad, sso_arn_like};
use super::principal;
use super::source::AwsAuthDocument;
use std::collections::HashMap;

pub const EC2_DNS_TEMPLATE: &str = "{{EC2PrivateDNSName}}";

/// Build the effective mapping from the three section loads.
pub fn build(doc: &AwsAuthDocument, loads: &[SectionLoad]) -> EffectiveMapping {
    let mut m = EffectiveMapping {
        sections: SectionStates::default(),
        ..EffectiveMapping::default()
    };
    for load in loads {
        m.sections.set(load.section, load.state);
        let key = load.section.key();
        match load.section {
            Section::MapRoles => {
                for e in load.entries.iter().filter(|e| e.invalid.is_none()) {
                    let d = &e.decoded;
                    let mut marks = Vec::new();
                    let lookup = if d.rolearn.is_empty() {
                        marks.push(Mark::NeverMatches {
                            reason: NeverReason::SsoMatcherDisabled,
                        });
                        d.sso.as_ref().map(sso_arn_like).unwrap_or_default()
                    } else {
                        if let Some(reason) = principal::never_reason(Section::MapRoles, &d.rolearn)
                        {
                            marks.push(Mark::NeverMatches { reason });
                        }
                        d.rolearn.to_lowercase()
                    };
                    m.roles.push(EffectiveRole {
                        arn: d.rolearn.clone(),
                        key: lookup,
                        username: d.username.clone(),
                        groups: d.groups.clone().unwrap_or_default(),
                        sso: d.sso.clone(),
                        line: doc.locate(key, e.pos).line,
                        marks,
                    });
                }
            }
            Section::MapUsers => {
                for e in load.entries.iter().filter(|e| e.invalid.is_none()) {
                    let d = &e.decoded;
                    let mut marks = Vec::new();
                    if let Some(reason) = principal::never_reason(Section::MapUsers, &d.userarn) {
                        marks.push(Mark::NeverMatches { reason });
                    } else if d.username.contains(EC2_DNS_TEMPLATE)
                        || d.groups
                            .iter()
                            .flatten()
                            .any(|g| g.contains(EC2_DNS_TEMPLATE))
                    {
                        marks.push(Mark::NeverMatches {
                            reason: NeverReason::UserWithEc2Template,
                        });
                    }
                    m.users.push(EffectiveUser {
                        arn: d.userarn.clone(),
                        username: d.username.clone(),
                        groups: d.groups.clone().unwrap_or_default(),
                        line: doc.locate(key, e.pos).line,
                        marks,
                    });
                }
            }
            Section::MapAccounts => {
                for a in &load.accounts {
                    m.accounts.push(EffectiveAccount {
                        account: a.value.clone(),
                        line: doc.locate(key, a.pos).line,
                    });
                }
            }
        }
    }
    // Roles: the last entry of each key wins.
    let mut last_role: HashMap<&str, usize> = HashMap::new();
    for (i, r) in m.roles.iter().enumerate() {
        last_role.insert(r.key.as_str(), i);
    }
    let role_shadow: Vec<Option<usize>> = m
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let last = last_role[r.key.as_str()];
            (last != i).then(|| m.roles[last].line)
        })
        .collect();
    for (r, shadow) in m.roles.iter_mut().zip(role_shadow) {
        if let Some(line) = shadow {
            r.marks.push(Mark::ShadowedBy { line });
        }
    }
    // Users: keyed by the exact ARN; case variants stay side by side.
    let mut last_user: HashMap<&str, usize> = HashMap::new();
    for (i, u) in m.users.iter().enumerate() {
        last_user.insert(u.arn.as_str(), i);
    }
    let user_shadow: Vec<Option<usize>> = m
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let last = last_user[u.arn.as_str()];
            (last != i).then(|| m.users[last].line)
        })
        .collect();
    let mut by_lower: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, shadow) in user_shadow.iter().enumerate() {
        if shadow.is_none() {
            by_lower
                .entry(m.users[i].arn.to_lowercase())
                .or_default()
                .push(i);
        }
    }
    let mut variants: Vec<Vec<usize>> = vec![Vec::new(); m.users.len()];
    for group in by_lower.values().filter(|g| g.len() > 1) {
        for &i in group {
            variants[i] = group
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| m.users[j].line)
                .collect();
        }
    }
    for ((u, shadow), lines) in m.users.iter_mut().zip(user_shadow).zip(variants) {
        if let Some(line) = shadow {
            u.marks.push(Mark::ShadowedBy { line });
        }
        if !lines.is_empty() {
            u.marks.push(Mark::Nondeterministic { lines });
        }
    }
    m
}
