//! `fix-entries`: make stale access entries work again. An entry whose principal was deleted and
//! recreated is bound to the old unique id and lets nobody in; the fix deletes it and makes it
//! again with the same type, username, groups and policies (with their scopes), bound to the
//! principal as it is now. That gives access back to someone who has none today, so each
//! principal needs `--allow-access-gain ARN` on top of the confirmation (`--yes` alone is not
//! enough). Planned, journaled. The delete checks that the entry is still the one the plan
//! showed (ARN and creation time); a run cut off after the delete is finished by `cleanup
//! --journal DIR` (it makes the entry again from the journal, only if there is none); `cleanup
//! --rollback` deletes the recreated entry (the principal is back to no access, as with the stale
//! entry) unless someone added to it since.

use crate::aws::{AwsContext, eks, entries_read, sts};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::access_entries::{self as ae, EntryState, JudgedEntry};
use crate::ui::plan::{self as plan_ui, Spinner};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass fix-entries --cluster prod --dry-run\n  \
eks-breakglass fix-entries --cluster prod --allow-access-gain arn:aws:iam::123456789012:role/ci/deployer --yes\n\n\
A stale entry (its principal was deleted and recreated with the same ARN) looks fine and answers 401.\n\
`eks-breakglass diagnose` and `audit` name them. Undo with `eks-breakglass cleanup --journal DIR`."
)]
pub struct FixEntriesArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Fix only the entry of this principal (repeatable; default: every stale entry)
    #[arg(long, value_name = "ARN")]
    pub principal: Vec<String>,
    /// Approve giving access back to this principal (repeatable; --yes alone never approves it)
    #[arg(long = "allow-access-gain", value_name = "ARN")]
    pub allow_access_gain: Vec<String>,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
}

pub async fn run(g: &Globals, args: &FixEntriesArgs) -> Result<u8, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let caller = sts::caller_identity(&ctx).await?;
    let facts = eks::describe_cluster(&ctx, &args.cluster).await?;
    let judged = entries_read::judged_entries(&ctx, &facts, &[]).await?;
    let chosen: Vec<&JudgedEntry> = judged
        .iter()
        .filter(|j| {
            args.principal.is_empty()
                || args
                    .principal
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&j.entry.principal_arn))
        })
        .collect();
    for p in &args.principal {
        if !chosen
            .iter()
            .any(|j| j.entry.principal_arn.eq_ignore_ascii_case(p))
        {
            return Err(AppError::usage(
                format!("{} has no access entry for {p}", facts.name),
                Some(format!(
                    "list them with `aws eks list-access-entries --cluster-name {}`",
                    facts.name
                )),
            ));
        }
    }
    for j in &chosen {
        if let EntryState::Unknown { why } = &j.state {
            eprintln!(
                "warning: the entry for {} could not be judged: {why}",
                j.entry.principal_arn
            );
        } else if matches!(j.state, EntryState::PrincipalDeleted) {
            eprintln!(
                "note: the entry for {} names a principal that does not exist (orphaned entry; the same \
                 name under another path is another ARN): nothing to make again for it",
                j.entry.principal_arn
            );
        }
    }
    let stale: Vec<&JudgedEntry> = chosen.into_iter().filter(|j| j.is_stale()).collect();
    if stale.is_empty() {
        if !g.json() {
            println!("No stale access entries on {}.", facts.name);
        } else {
            println!("{}", serde_json::json!({"stale": [], "plan": null}));
        }
        return Ok(exit::OK);
    }
    let plan = ae::fix_plan(&facts.name, &ctx.region, &stale);
    plan_ui::show_plan(g, &plan);
    let missing = ae::unconsented(&stale, &args.allow_access_gain);
    if !missing.is_empty() && !g.dry_run {
        let list: Vec<String> = stale
            .iter()
            .filter(|j| missing.contains(&j.entry.principal_arn.as_str()))
            .map(|j| format!("  {} gets: {}", j.entry.principal_arn, ae::grants(&j.entry)))
            .collect();
        return Err(AppError::AccessGainNotAllowed(format!(
            "making these entries again gives access to principals that have none today, and \
             --yes alone never approves that; nothing was changed. Still needing consent:\n{}\n\
             re-run with {} if this is meant",
            list.join("\n"),
            missing
                .iter()
                .map(|p| format!("{} {p}", ae::ACCESS_GAIN_FLAG))
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    let interrupt = plan_ui::catch_interrupt();
    let spinner = Spinner::new();
    let mut run = match plan_ui::apply_plan(
        g,
        &ctx,
        &plan,
        args.journal_dir.as_deref(),
        &caller.arn,
        &interrupt,
        &spinner,
    )
    .await?
    {
        Some(r) => r,
        None => return Ok(exit::OK),
    };
    let lines = run.end(false, "completed").await?;
    let undo = run.cleanup_command();
    if g.json() {
        println!(
            "{}",
            serde_json::json!({
                "fixed": stale.iter().map(|j| &j.entry.principal_arn).collect::<Vec<_>>(),
                "facts": run.facts,
                "journal": run.dir.display().to_string(),
                "undo": undo,
            })
        );
    } else {
        for l in lines {
            println!("{l}");
        }
        for j in &stale {
            println!(
                "made again: the access entry for {} (it takes effect within seconds; log in as it to check)",
                j.entry.principal_arn
            );
        }
        println!("Undo with `{undo}`.");
    }
    Ok(exit::OK)
}
