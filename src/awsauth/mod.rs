//! The aws-auth domain: how EKS's authenticator reads `kube-system/aws-auth`.
//!
//! One bad save of aws-auth is how most EKS lockouts start, and the authenticator fails
//! silently: a section that does not parse loads nothing, a role ARN with a path loads and never
//! matches, a duplicate quietly replaces its twin. This module models aws-iam-authenticator's
//! reading of the ConfigMap exactly (see `parse` for the evidence it follows) so the tool can say
//! what a given aws-auth really grants ([`EffectiveMapping`]), what is wrong with it and where
//! ([`Finding`]), repair what can be repaired ([`salvage`]), and write and compare it
//! ([`render`], [`diff`]). It knows nothing of clap, terminals or the network.
//!
//! Pipeline: bytes → [`source::read_document`] (ConfigMap YAML/JSON, `kubectl get -o yaml`,
//! eksctl ClusterConfig) or [`AwsAuthDocument::from_data`] (live data map) → [`analyze`] →
//! [`Analysis`] (effective mapping + findings).

pub mod access;
pub mod diff;
pub mod effective;
pub mod libyaml;
pub mod lint;
pub mod matcher;
pub mod model;
pub mod parse;
pub mod principal;
pub mod render;
pub mod salvage;
pub mod source;
pub mod yaml;

pub use access::{AccessDiff, Basis, IdentityChange, access_diff};
pub use diff::{MappingDiff, diff_mappings, text_diff};
pub use lint::{ClusterFacts, Finding, NodeRoleFact, NodeRoleKind, RULES, Rule, Severity};
pub use matcher::{CallerIdentity, MatchOutcome, match_identity};
pub use model::{
    EffectiveAccount, EffectiveMapping, EffectiveRole, EffectiveUser, Mark, NeverReason, Section,
    SectionState, SsoMatcher,
};
pub use render::{RenderOptions, render};
pub use salvage::{
    SalvageOptions, SalvageReport, Salvaged, salvage, salvage_verbatim, salvage_with,
};
pub use source::{AwsAuthDocument, InputError, SourceFormat, read_document};

use parse::SectionLoad;

/// The result of reading one aws-auth the way the authenticator does.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub effective: EffectiveMapping,
    pub findings: Vec<Finding>,
    pub loads: Vec<SectionLoad>,
}

impl Analysis {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }
}

/// Above this many bytes of section text, sections are parsed on their own threads.
const PARALLEL_THRESHOLD: usize = 64 * 1024;

/// Load the three sections of a document as `ParseMap` does.
pub fn load(doc: &AwsAuthDocument) -> Vec<SectionLoad> {
    let total: usize = Section::ALL
        .iter()
        .filter_map(|s| doc.data_text(s.key()))
        .map(str::len)
        .sum();
    if total < PARALLEL_THRESHOLD {
        return Section::ALL
            .iter()
            .map(|s| parse::load_section(*s, doc.data_text(s.key())))
            .collect();
    }
    // Sections are independent (a broken one does not affect the others), so a large
    // aws-auth is read section by section in parallel.
    std::thread::scope(|scope| {
        let handles: Vec<_> = Section::ALL
            .iter()
            .map(|s| {
                let text = doc.data_text(s.key());
                let section = *s;
                scope.spawn(move || parse::load_section(section, text))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(load) => load,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Load, build the effective mapping and lint.
pub fn analyze(doc: &AwsAuthDocument, facts: &ClusterFacts) -> Analysis {
    let loads = load(doc);
    let effective = effective::build(doc, &loads);
    let findings = lint::lint(doc, &loads, &effective, facts);
    Analysis {
        effective,
        findings,
        loads,
    }
}

/// The effective mapping of live ConfigMap data (no file positions: lines are value lines).
pub fn effective_from_data<I, K, V>(data: I) -> EffectiveMapping
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let doc = AwsAuthDocument::from_data("aws-auth", data);
    effective::build(&doc, &load(&doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_documents_load_the_same_in_parallel() {
        let mut roles = String::new();
        for i in 0..2000 {
            roles.push_str(&format!(
                "- rolearn: arn:aws:iam::111122223333:role/r{i}\n  username: u{i}\n  groups: [g]\n"
            ));
        }
        roles.push_str("- rolearn: arn:aws:iam::111122223333:role/r7\n  username: again\n");
        let doc = AwsAuthDocument::from_data(
            "big",
            [
                ("mapRoles", roles),
                ("mapUsers", "- userarn: x\n\tusername: y\n".into()),
            ],
        );
        assert!(doc.data_text("mapRoles").map(str::len).unwrap_or(0) > PARALLEL_THRESHOLD);
        let parallel = effective::build(&doc, &load(&doc));
        let sequential: Vec<SectionLoad> = Section::ALL
            .iter()
            .map(|s| parse::load_section(*s, doc.data_text(s.key())))
            .collect();
        assert_eq!(parallel, effective::build(&doc, &sequential));
        assert_eq!(parallel.roles.len(), 2001);
        assert!(parallel.roles[7].is_shadowed());
        assert_eq!(parallel.sections.map_users, SectionState::Lost);
    }
}
