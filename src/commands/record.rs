//! `record`: find the cluster's creator and write it on the cluster's tags, so that it is still
//! known when CloudTrail has forgotten (after 90 days). Thin: creator discovery is
//! [`crate::aws::creator_sources::find_creator`], the plan is [`crate::recovery::record`], and the
//! change goes through the same confirm/journal/apply path as every mutation.

use crate::aws::{AwsContext, eks, sts};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::creator::FindOptions;
use crate::recovery::record::{RecordFacts, record_plan};
use crate::ui::plan::{self as plan_ui, Spinner};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass record --cluster prod --dry-run\n  \
eks-breakglass record --cluster prod --yes\n  \
for c in $(aws eks list-clusters --query 'clusters[]' --output text); do eks-breakglass record --cluster \"$c\" --yes; done\n\n\
Writes the tags eks-breakglass/creator-arn, creator-kind, creator-id (the unique id EKS binds\n\
to) and creator-recorded-at on the cluster (eks:TagResource). `eks-breakglass creator` reads\n\
them when CloudTrail no longer has the CreateCluster event. Run it while the cluster is younger\n\
than 90 days, or give --trail-bucket for older ones. Undo with `eks-breakglass cleanup --rollback`.\n\
Exit codes: 0 recorded (or already recorded), 6 the creator could not be found."
)]
pub struct RecordArgs {
    /// Cluster name
    #[arg(long, visible_alias = "cluster-name", value_name = "NAME")]
    pub cluster: String,
    /// Bucket (and prefix) of the CloudTrail trail's log files, for clusters older than 90 days
    #[arg(long, value_name = "BUCKET[/PREFIX]")]
    pub trail_bucket: Option<String>,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
}

pub async fn run(g: &Globals, args: &RecordArgs) -> Result<u8, AppError> {
    if args.cluster.trim().is_empty() {
        return Err(AppError::usage(
            "--cluster must not be empty",
            Some("pass the EKS cluster name".into()),
        ));
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let caller = sts::caller_identity(&ctx).await?;
    let facts = eks::describe_cluster(&ctx, &args.cluster).await?;
    // Who created it is all that is recorded: the creator's status today is `creator`'s
    // business, and leaving it out keeps `record` off IAM entirely.
    let opts = FindOptions {
        trail_bucket: args.trail_bucket.clone(),
        caller: None,
        check_status: false,
        now: chrono::Utc::now(),
    };
    let report = crate::aws::creator_sources::find_creator(&ctx, &facts, &opts).await?;
    let Some(found) = report.creator.as_ref() else {
        let tried: Vec<String> = report
            .attempts
            .iter()
            .map(|a| format!("{}: {}", a.source.as_str(), a.detail))
            .collect();
        if g.json() {
            println!(
                "{}",
                serde_json::json!({"cluster": facts.name, "recorded": false, "reason": report.verdict.reason, "attempts": report.attempts})
            );
        } else {
            eprintln!(
                "error: the creator of {} could not be found, so nothing was recorded",
                facts.name
            );
            for t in tried {
                eprintln!("  tried {t}");
            }
            eprintln!(
                "  hint: for clusters older than 90 days pass --trail-bucket BUCKET[/PREFIX]; or run `eks-breakglass creator --cluster {}` for the manual query",
                facts.name
            );
        }
        return Ok(exit::CREATOR_NOT_FOUND);
    };
    let now = chrono::Utc::now();
    let plan = record_plan(&RecordFacts {
        cluster: &facts.name,
        cluster_arn: &facts.arn,
        region: &ctx.region,
        current_tags: &facts.tags,
        creator: found,
        now,
    });
    if plan.is_empty() {
        if g.json() {
            println!(
                "{}",
                serde_json::json!({"cluster": facts.name, "recorded": false, "already_recorded": true, "creator": found})
            );
        } else {
            println!(
                "Nothing to change: {} already records its creator {} ({}).",
                facts.name,
                found.arn,
                found.kind.as_str()
            );
        }
        return Ok(exit::OK);
    }
    plan_ui::show_plan(g, &plan);
    let interrupt = plan_ui::catch_interrupt();
    let spinner = Spinner::new();
    let run = plan_ui::apply_plan(
        g,
        &ctx,
        &plan,
        args.journal_dir.as_deref(),
        &caller.arn,
        &interrupt,
        &spinner,
    )
    .await?;
    let Some(mut run) = run else {
        // Dry run: the plan was printed, nothing changed.
        return Ok(exit::OK);
    };
    run.end(false, "applied").await?;
    if g.json() {
        println!(
            "{}",
            serde_json::json!({
                "cluster": facts.name, "recorded": true, "creator": found,
                "source": found.source.as_str(), "plan": plan, "journal": run.dir,
            })
        );
    } else {
        println!(
            "\nRecorded {} ({}) on {} (found through {}).",
            found.arn,
            found.kind.as_str(),
            facts.name,
            found.source.describe()
        );
        println!("Journal: {}", run.dir.display());
        println!("Undo: {} --rollback", run.cleanup_command());
    }
    Ok(exit::OK)
}
