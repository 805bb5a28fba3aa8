//! `diagnose`: read-only triage of a cluster in trouble, in a few seconds.
//!
//! Thin: builds the adapters, runs [`crate::workflow::triage`] (where the questions are asked
//! concurrently and the ways back in ranked by [`crate::recovery::diagnosis::rank_paths`]),
//! prints [`crate::ui::triage::render`] or the report as JSON. `recover` starts with the same
//! triage.

use crate::aws::AwsContext;
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use clap::Args;

use crate::cli::TargetArgs;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  eks-breakglass diagnose --cluster prod\n  \
eks-breakglass diagnose --cluster prod --output json | jq '.paths[0]'\n  \
eks-breakglass diagnose --cluster private-prod --api-server https://127.0.0.1:8443 \\\n      --tls-server-name ABCD.gr7.us-east-1.eks.amazonaws.com\n\n\
Read-only: it changes nothing. The paths are ranked best first; `eks-breakglass recover` takes the\n\
first one it can automate (`--via` picks another).")]
pub struct DiagnoseArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub async fn run(g: &Globals, args: &DiagnoseArgs) -> Result<u8, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let api_server = args.target.api_server.as_deref();
    let t = crate::aws::triage_sources::run_triage(&ctx, &args.cluster, api_server, |f| {
        args.target.target(f)
    })
    .await?;
    // Access entries: stale ones, shadowed mappings, the creator route, revealing the creator.
    let known = t.creator.as_ref().is_some_and(|r| r.creator.is_some());
    let entries =
        crate::aws::entries_read::diagnose(&ctx, &t.cluster, t.target.as_ref(), known).await;
    if g.json() {
        let mut v = serde_json::to_value(&t)
            .map_err(|e| AppError::failed(format!("cannot encode JSON: {e}"), None))?;
        v["access_entries"] = serde_json::to_value(&entries).unwrap_or_default();
        v["aws_calls"] = serde_json::json!(ctx.calls.counts_by_service());
        println!("{v}");
    } else {
        print!(
            "{}{}",
            crate::ui::triage::render(&t),
            entries.render(&t.cluster.name)
        );
    }
    Ok(exit::OK)
}
