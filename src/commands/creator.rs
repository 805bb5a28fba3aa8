//! `creator`: who created the cluster, is it still there, and how to become it.
//!
//! Thin: runs [`crate::workflow::creator::find`] over the real adapters (which caller-identity
//! failures end the run, the creator route, the search); [`crate::ui::creator`] renders the
//! report. The exit code is the verdict's
//! (0 usable, 5 unusable, 6 not found) so that a runbook can branch on it.

use crate::aws::AwsContext;
use crate::aws::creator_sources::AwsSources;
use crate::aws::triage_sources::AwsTriage;
use crate::error::AppError;
use crate::ui::creator::render_text;
use crate::workflow;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass creator --cluster prod --region eu-west-1\n  \
eks-breakglass creator --cluster prod --trail-bucket my-trail-logs/org-prefix\n  \
eks-breakglass creator --cluster prod --output json | jq .creator.arn\n\n\
Sources, in order: CloudTrail event history (90 days), the creator recorded on the cluster's\n\
tags (`eks-breakglass record`), the trail's log files in S3, access entries made at creation.\n\
Exit codes: 0 found and usable, 5 found but not usable as things stand, 6 not found."
)]
pub struct CreatorArgs {
    /// Cluster name
    #[arg(long, visible_alias = "cluster-name", value_name = "NAME")]
    pub cluster: String,
    /// Bucket (and prefix) of the CloudTrail trail's log files, for clusters older than 90 days
    /// (default: the trails found with DescribeTrails)
    #[arg(long, value_name = "BUCKET[/PREFIX]")]
    pub trail_bucket: Option<String>,
}

pub async fn run(g: &crate::cli::Globals, args: &CreatorArgs) -> Result<u8, AppError> {
    if args.cluster.trim().is_empty() {
        return Err(AppError::usage(
            "--cluster must not be empty",
            Some("pass the EKS cluster name".into()),
        ));
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let found = workflow::creator::find(
        &AwsTriage::new(&ctx),
        &args.cluster,
        args.trail_bucket.clone(),
        |caller| AwsSources::for_caller(&ctx, caller),
    )
    .await?;
    if let Some(e) = &found.caller_unknown {
        tracing::warn!("cannot tell who you are ({e}); trust policies will not be checked");
    }
    let report = &found.report;
    if g.json() {
        let text = serde_json::to_string_pretty(report)
            .map_err(|e| AppError::failed(format!("cannot render JSON: {e}"), None))?;
        println!("{text}");
    } else {
        // Without a creator admin there is no creator route: said first.
        print!("{}", found.route.render());
        print!("{}", render_text(report));
        if let Some(r) = &found.reveal {
            println!("\n{r}");
        }
    }
    Ok(report.verdict.exit_code)
}
