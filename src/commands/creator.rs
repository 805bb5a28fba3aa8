//! `creator`: who created the cluster, is it still there, and how to become it.
//!
//! Thin: DescribeCluster, who am I, then [`crate::recovery::creator::find_creator_with`] over
//! the real adapters; [`crate::ui::creator`] renders the report. The exit code is the verdict's
//! (0 usable, 5 unusable, 6 not found) so that a runbook can branch on it.

use crate::aws::{self, AwsContext, AwsErrorKind};
use crate::error::AppError;
use crate::recovery::creator::FindOptions;
use crate::recovery::trust::Caller;
use crate::ui::creator::render_text;
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
    let facts = aws::eks::describe_cluster(&ctx, &args.cluster).await?;
    // issue 17: without a creator admin there is no creator route: said first.
    let route =
        crate::recovery::access_entries::creator_route(&facts.name, facts.bootstrap_creator_admin);
    if !g.json() {
        print!("{}", route.render());
    }
    let caller = match aws::sts::caller_identity(&ctx).await {
        Ok(c) => Some(Caller {
            arn: c.arn,
            account: c.account,
            user_id: c.user_id,
        }),
        Err(e)
            if matches!(
                e.kind,
                AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
            ) =>
        {
            return Err(e.into());
        }
        Err(e) => {
            tracing::warn!("cannot tell who you are ({e}); trust policies will not be checked");
            None
        }
    };
    let opts = FindOptions {
        trail_bucket: args.trail_bucket.clone(),
        caller,
        ..FindOptions::default()
    };
    let report = crate::aws::creator_sources::find_creator(&ctx, &facts, &opts).await?;
    if g.json() {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| AppError::failed(format!("cannot render JSON: {e}"), None))?;
        println!("{text}");
    } else {
        print!("{}", render_text(&report));
        // issue 17: no record of the creator on a CONFIG_MAP cluster: the discovery route.
        if let Some(r) = crate::recovery::access_entries::reveal_creator_route(
            &facts.name,
            facts.effective_auth_mode(),
            facts.bootstrap_creator_admin,
            report.creator.is_some(),
        ) {
            println!("\n{r}");
        }
    }
    Ok(report.verdict.exit_code)
}
