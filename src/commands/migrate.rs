//! `migrate`: off aws-auth onto EKS access entries, in two separately consented stages. Parses,
//! builds the adapter, calls the workflow (`workflow::migrate`), applies its plan with the shared
//! plan machinery (journal, Ctrl-C, `cleanup`), prints.

use crate::aws::AwsContext;
use crate::aws::migrate_adapter::AwsMigrateWorld;
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::migrate::PortError;
use crate::ui::plan::{self as plan_ui, Spinner};
use crate::workflow::migrate::{self, MigrateOptions, Refusal};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
# 1. read-only: the whole translation table, what cannot be translated and why\n  \
eks-breakglass migrate --cluster prod --dry-run\n  \
# 2. stage one: switch to API_AND_CONFIG_MAP (one-way), create the entries, verify\n  \
eks-breakglass migrate --cluster prod --allow-auth-mode-change API_AND_CONFIG_MAP \\\n      \
--verify-as arn:aws:iam::123456789012:role/dev-admin\n  \
# 3. stage two, separately, once stage one verified: stop reading aws-auth (one-way)\n  \
eks-breakglass migrate --cluster prod --switch-to-api --allow-auth-mode-change API\n\n\
aws-auth is never written or deleted. Undo stage one's entries (not the mode switch, which EKS\n\
cannot reverse) with `eks-breakglass cleanup --journal DIR --rollback`; the command prints it.")]
pub struct MigrateArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Stage two: switch from API_AND_CONFIG_MAP to API, after checking every translated entry
    #[arg(long)]
    pub switch_to_api: bool,
    /// Consent to a one-way authentication-mode switch, naming the mode (API_AND_CONFIG_MAP for stage one, API for stage two)
    #[arg(long = "allow-auth-mode-change", value_name = "MODE",
          value_parser = ["API_AND_CONFIG_MAP", "API"])]
    pub allow_auth_mode_change: Vec<String>,
    /// Approve an entry that gives NEW access (an aws-auth line that never matched); names the principal ARN (repeatable or comma-separated; --yes never approves a gain)
    #[arg(long = "allow-access-gain", value_name = "ARN", value_delimiter = ',')]
    pub allow_access_gain: Vec<String>,
    /// Stage two: accept what this identity loses at the switch to API (a principal ARN, or an account id for a mapAccounts line), as the refusal names it (repeatable or comma-separated; --yes never approves a loss)
    #[arg(
        long = "allow-access-loss",
        value_name = "ARN|ACCOUNT",
        value_delimiter = ','
    )]
    pub allow_access_loss: Vec<String>,
    /// Stage two: switch to API even though the plan says identities lose access (all of them)
    #[arg(long)]
    pub force: bool,
    /// After the change, assume this role and log in as it, checking it gets what aws-auth gave (repeatable)
    #[arg(long = "verify-as", value_name = "ROLE_ARN", value_parser = crate::arn::role_arn_value)]
    pub verify_as: Vec<String>,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// How long a login retries while new entries propagate, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

fn port(e: PortError) -> AppError {
    AppError::failed(e.message, e.hint)
}

fn refusal(r: &Refusal, cluster: &str) -> AppError {
    let (message, hint) = r.describe(cluster);
    match r {
        Refusal::AccessGain { .. } => AppError::AccessGainNotAllowed(format!("{message}\n{hint}")),
        Refusal::ModeConsent { .. } | Refusal::StageOneFirst | Refusal::AccessLoss { .. } => {
            AppError::usage(message, Some(hint))
        }
        _ => AppError::failed(message, hint),
    }
}

pub async fn run(g: &Globals, args: &MigrateArgs) -> Result<u8, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let world = AwsMigrateWorld::new(&ctx, &args.cluster, Duration::from_secs(args.wait));
    let o = MigrateOptions {
        switch_to_api: args.switch_to_api,
        mode_consent: args.allow_auth_mode_change.clone(),
        allow_access_gain: args.allow_access_gain.clone(),
        verify_as: args.verify_as.clone(),
        allow_access_loss: args.allow_access_loss.clone(),
        force: args.force,
    };
    let p = migrate::prepare(&world, &o).await.map_err(port)?;
    let cluster = p.cluster.name.clone();
    if !g.json() {
        print!("{}", p.translation.render());
        for c in &p.checks {
            println!(
                "  check {} ({}): {}",
                c.principal_arn,
                c.source,
                c.check.describe()
            );
        }
        println!();
    }
    plan_ui::show_plan_with(
        g,
        &p.plan,
        vec![
            (
                "translation",
                serde_json::to_value(&p.translation).unwrap_or_default(),
            ),
            (
                "checks",
                serde_json::to_value(&p.checks).unwrap_or_default(),
            ),
            (
                "refusals",
                serde_json::to_value(&p.refusals).unwrap_or_default(),
            ),
        ],
    );
    if g.dry_run {
        if !g.json() {
            for r in &p.refusals {
                println!("\nwould be refused: {}", r.describe(&cluster).0);
            }
        }
        plan_ui::confirm(g, p.plan.steps.len())?;
        return Ok(exit::OK);
    }
    if let Some(r) = p.refusals.first() {
        return Err(refusal(r, &cluster));
    }
    let interrupt = plan_ui::catch_interrupt();
    let spinner = Spinner::new();
    let mut run = plan_ui::apply_plan(
        g,
        &ctx,
        &p.plan,
        args.journal_dir.as_deref(),
        &p.cluster.caller_arn,
        &interrupt,
        &spinner,
    )
    .await?;
    spinner.set("verifying every translated identity…");
    let report = migrate::verify(&world, &p, &o).await;
    spinner.done();
    if let Some(r) = run.as_mut() {
        match &report {
            Ok(rep) => {
                for l in rep.lines() {
                    r.note(format!("verification: {l}"));
                }
            }
            Err(e) => r.note(format!("verification failed: {}", e.message)),
        }
        r.end(false, "applied").await?;
    }
    let undo = run
        .as_ref()
        .map(|r| format!("{} --rollback", r.cleanup_command()));
    let report = report.map_err(port)?;
    let result = if report.ok() {
        Ok(exit::OK)
    } else {
        Err(AppError::failed(
            "verification found identities that do not get what aws-auth gave them (above); the changes stay in place",
            Some(match &undo {
                Some(u) if !args.switch_to_api => {
                    format!("fix the entries and re-run, or undo the entries with `{u}`")
                }
                _ => format!(
                    "fix the entries (`aws eks describe-access-entry --cluster-name {cluster} --principal-arn ARN`) and re-run"
                ),
            }),
        ))
    };
    if g.json() {
        let mut doc = serde_json::json!({
            "cluster": cluster, "stage": if args.switch_to_api { "api" } else { "entries" },
            "translation": p.translation, "plan": p.plan,
            "journal": run.as_ref().map(|r| r.dir.clone()),
            "verification": report,
        });
        let result = result.map_err(|e| e.into_result(&mut doc));
        println!("{doc}");
        return result;
    }
    if let Some(r) = &run {
        println!("\nApplied. Journal: {}", r.dir.display());
    } else {
        println!("\nNothing to change.");
    }
    println!("Verification:");
    for l in report.lines() {
        println!("  {l}");
    }
    if !args.switch_to_api {
        if let Some(u) = &undo {
            println!(
                "Undo the entries: {u} (the switch to API_AND_CONFIG_MAP stays: EKS cannot go back to CONFIG_MAP)"
            );
        }
        if report.ok() {
            println!(
                "Next, separately, once you have checked the table: eks-breakglass migrate --cluster {cluster} --switch-to-api --allow-auth-mode-change API"
            );
        }
    }
    result
}
