//! `reveal-creator`: the discovery route for a CONFIG_MAP cluster whose creator no record names
//! (CloudTrail forgot it after 90 days, no trail, no tag). Switching the cluster to
//! API_AND_CONFIG_MAP makes EKS show the creator's implicit admin as an access entry; this
//! command makes that one-way switch — only with `--allow-auth-mode-change` on top of the
//! confirmation, after explaining the trade — and then names the creator from the entry.

use crate::aws::{AwsContext, eks, entries_read, sts};
use crate::cli::Globals;
use crate::cluster::AuthMode;
use crate::error::AppError;
use crate::exit;
use crate::recovery::access_entries as ae;
use crate::recovery::getin::AUTH_MODE_CONSENT;
use crate::ui::plan::{self as plan_ui, Spinner};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass reveal-creator --cluster legacy --dry-run\n  \
eks-breakglass reveal-creator --cluster legacy --allow-auth-mode-change --yes\n\n\
Use it when `eks-breakglass creator` finds no record of the creator. The switch is ONE-WAY.\n\
Then keep the creator on record: `eks-breakglass record --cluster NAME`."
)]
pub struct RevealCreatorArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Allow switching the CONFIG_MAP cluster to API_AND_CONFIG_MAP (one-way)
    #[arg(long)]
    pub allow_auth_mode_change: bool,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
}

pub async fn run(g: &Globals, args: &RevealCreatorArgs) -> Result<u8, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let caller = sts::caller_identity(&ctx).await?;
    let facts = eks::describe_cluster(&ctx, &args.cluster).await?;
    if facts.effective_auth_mode() != AuthMode::ConfigMap {
        // Nothing to reveal: the creator's admin (if any) is already an access entry.
        let entries = entries_read::list_entries(&ctx, &facts.name).await?;
        return Err(AppError::usage(
            format!(
                "{} is in {} mode already: nothing to reveal{}",
                facts.name,
                facts.effective_auth_mode().as_str(),
                match ae::revealed_creator(&entries) {
                    Some(e) => format!(" (its only admin entry is {})", e.principal_arn),
                    None => String::new(),
                }
            ),
            Some(format!(
                "`eks-breakglass creator --cluster {}` reads the access entries",
                facts.name
            )),
        ));
    }
    if facts.bootstrap_creator_admin == Some(false) {
        return Err(AppError::usage(
            format!(
                "{} was created without a creator admin: the switch would reveal nothing",
                facts.name
            ),
            None,
        ));
    }
    let plan = ae::reveal_plan(&facts.name, &ctx.region);
    plan_ui::show_plan(g, &plan);
    if !args.allow_auth_mode_change && !g.dry_run {
        return Err(AppError::usage(
            format!(
                "switching {} to API_AND_CONFIG_MAP is one-way and is not done without {AUTH_MODE_CONSENT}",
                facts.name
            ),
            Some(format!(
                "re-run with {AUTH_MODE_CONSENT} if the trade above is acceptable; otherwise look for the creator in the organisation's CloudTrail trail (S3) or ask AWS Support"
            )),
        ));
    }
    let interrupt = plan_ui::catch_interrupt();
    let spinner = Spinner::new();
    let Some(mut run) = plan_ui::apply_plan(
        g,
        &ctx,
        &plan,
        args.journal_dir.as_deref(),
        &caller.arn,
        &interrupt,
        &spinner,
    )
    .await?
    else {
        return Ok(exit::OK);
    };
    let _ = run.end(false, "completed").await?;
    let entries = entries_read::list_entries(&ctx, &facts.name).await?;
    let creator = ae::revealed_creator(&entries);
    if g.json() {
        println!(
            "{}",
            serde_json::json!({
                "cluster": facts.name,
                "creator": creator.map(|e| &e.principal_arn),
                "entry": creator,
                "journal": run.dir.display().to_string(),
            })
        );
    } else {
        match creator {
            Some(e) => println!(
                "\nCreator (revealed by EKS's access entry, made {}): {}\nKeep it on record (the creator tags `record` writes): `aws eks tag-resource --resource-arn {} --tags eks-breakglass/creator-arn={}`",
                e.created_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "?".into()),
                e.principal_arn,
                facts.arn,
                e.principal_arn
            ),
            None => println!(
                "\nThe switch is done, but the access entries do not name one admin ({} entries): see `aws eks list-access-entries --cluster-name {}`",
                entries.len(),
                facts.name
            ),
        }
    }
    Ok(if creator.is_some() {
        exit::OK
    } else {
        exit::CREATOR_NOT_FOUND
    })
}
