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
    let n = m.roles.len();
    for i in 0..n {
        if let Some(last) = (i + 1..n).rev().find(|&j| m.roles[j].key == m.roles[i].key) {
            let line = m.roles[last].line;
            m.roles[i].marks.push(Mark::ShadowedBy { line });
        }
    }
    // Users: keyed by the exact ARN; case variants stay side by side.
    let n = m.users.len();
    for i in 0..n {
        if let Some(last) = (i + 1..n).rev().find(|&j| m.users[j].arn == m.users[i].arn) {
            let line = m.users[last].line;
            m.users[i].marks.push(Mark::ShadowedBy { line });
        }
    }
    let winners: Vec<usize> = (0..n).filter(|&i| !m.users[i].is_shadowed()).collect();
    for &i in &winners {
        let lines: Vec<usize> = winners
            .iter()
            .filter(|&&j| j != i && m.users[j].arn.to_lowercase() == m.users[i].arn.to_lowercase())
            .map(|&j| m.users[j].line)
            .collect();
        if !lines.is_empty() {
            m.users[i].marks.push(Mark::Nondeterministic { lines });
        }
    }
    m
}
