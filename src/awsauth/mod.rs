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

pub mod diff;
pub mod effective;
pub mod lint;
pub mod matcher;
pub mod model;
pub mod parse;
pub mod principal;
pub mod render;
pub mod salvage;
pub mod source;
pub mod yaml;

pub use diff::{MappingDiff, diff_mappings, text_diff};
pub use lint::{ClusterFacts, Finding, NodeRoleFact, NodeRoleKind, RULES, Rule, Severity};
pub use matcher::{CallerIdentity, MatchOutcome, match_identity};
pub use model::{
    EffectiveAccount, EffectiveMapping, EffectiveRole, EffectiveUser, Mark, NeverReason, Section,
    SectionState, SsoMatcher,
};
pub use render::{RenderOptions, render};
pub use salvage::{SalvageReport, Salvaged, salvage};
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

/// Load the three sections of a document as `ParseMap` does.
pub fn load(doc: &AwsAuthDocument) -> Vec<SectionLoad> {
    Section::ALL
        .iter()
        .map(|s| parse::load_section(*s, doc.data_text(s.key())))
        .collect()
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
