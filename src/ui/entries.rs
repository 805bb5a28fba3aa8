//! What the aws-auth read commands add about access entries on a live cluster (issue 17):
//! `aws-auth lint --cluster` names stale entries (a CI gate fails on them), `aws-auth show
//! --cluster` names the mappings an access entry shadows. Text goes to stdout in text mode and
//! to stderr when stdout carries one JSON/SARIF document. (Presentation only: the decisions are
//! `recovery::access_entries`; a candidate for `src/ui/` once that exists.)

use crate::aws::{AwsContext, eks, entries_read};
use crate::awsauth::model::EffectiveMapping;
use crate::cli::Globals;
use crate::error::AppError;
use crate::recovery::access_entries::EntryState;

fn say(g: &Globals, machine: bool, line: &str) {
    if g.json() || machine {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

/// The stale access entries of `cluster`, one finding each (`machine`: stdout holds a
/// document). Returns how many there are.
pub async fn lint_live_entries(
    g: &Globals,
    cluster: &str,
    machine: bool,
) -> Result<usize, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let facts = eks::describe_cluster(&ctx, cluster).await?;
    let stale = entries_read::stale_entries(&ctx, &facts).await?;
    for j in &stale {
        if let EntryState::Stale { cause } = &j.state {
            say(
                g,
                machine,
                &format!(
                    "cluster/{cluster}: error[stale-access-entry]: {cause}\n  fix: eks-breakglass fix-entries --cluster {cluster} --allow-access-gain {}",
                    j.entry.principal_arn
                ),
            );
        }
    }
    if !stale.is_empty() {
        say(
            g,
            machine,
            &format!(
                "cluster/{cluster}: {} stale access entr{}",
                stale.len(),
                if stale.len() == 1 { "y" } else { "ies" }
            ),
        );
    }
    Ok(stale.len())
}

/// The mappings of `mapping` that an access entry of `cluster` shadows.
pub async fn show_shadows(
    g: &Globals,
    cluster: &str,
    mapping: &EffectiveMapping,
) -> Result<(), AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let facts = eks::describe_cluster(&ctx, cluster).await?;
    for l in entries_read::shadows_for(&ctx, &facts, mapping).await {
        say(g, false, &format!("shadowed: {l}"));
    }
    Ok(())
}
