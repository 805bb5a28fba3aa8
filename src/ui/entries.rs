//! What the aws-auth read commands add about access entries on a live cluster (issue 17):
//! `aws-auth lint --cluster` names stale entries (a CI gate fails on them), `aws-auth show
//! --cluster` names the mappings an access entry shadows. Text goes to stdout in text mode and
//! to stderr when stdout carries one JSON/SARIF document. Rendering only: the reads are
//! `aws::entries_read` (`stale_entries_of`, `shadows_of`), the decisions (which entries are
//! stale, which count, what is shadowed) `recovery::access_entries`.

use crate::cli::Globals;
use crate::recovery::access_entries::{EntryState, JudgedEntry};

fn say(g: &Globals, machine: bool, line: &str) {
    if g.json() || machine {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// The lines for the stale access entries of `cluster`: one finding each with its fix, then
/// the count (nothing when there are none).
pub fn stale_lines(cluster: &str, stale: &[JudgedEntry]) -> Vec<String> {
    let mut out = Vec::new();
    for j in stale {
        if let EntryState::Stale { cause } = &j.state {
            out.push(format!(
                "cluster/{cluster}: error[stale-access-entry]: {cause}\n  fix: eks-breakglass fix-entries --cluster {cluster} --allow-access-gain {}",
                j.entry.principal_arn
            ));
        }
    }
    if !stale.is_empty() {
        out.push(format!(
            "cluster/{cluster}: {} stale access entr{}",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" }
        ));
    }
    out
}

/// Prints the stale entries of `cluster` (`machine`: stdout holds a document); returns how
/// many there are.
pub fn print_stale(g: &Globals, cluster: &str, machine: bool, stale: &[JudgedEntry]) -> usize {
    for l in stale_lines(cluster, stale) {
        say(g, machine, &l);
    }
    stale.len()
}

/// Prints the mappings an access entry shadows.
pub fn print_shadows(g: &Globals, shadows: &[String]) {
    for l in shadows {
        say(g, false, &format!("shadowed: {l}"));
    }
}
