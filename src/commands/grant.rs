//! `grant`: the access-entry route — an EKS access entry with AmazonEKSClusterAdminPolicy for a
//! principal (by default the caller), bypassing aws-auth and the creator entirely.
//!
//! On a CONFIG_MAP cluster this needs a one-way switch to API_AND_CONFIG_MAP, which is never
//! made without `--allow-auth-mode-change` on top of the usual confirmation.

use crate::arn::PrincipalArn;
use crate::aws::{AwsContext, eks, sts};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::getin::{self, AUTH_MODE_CONSENT};
use crate::ui::plan::{self as plan_ui, Spinner, Verification};
use crate::workflow::getin as getin_flow;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  eks-breakglass grant --cluster prod\n  \
eks-breakglass grant --cluster prod --principal arn:aws:iam::123456789012:role/team/ops/admin --yes\n  \
eks-breakglass grant --cluster legacy --allow-auth-mode-change --yes\n\n\
The default principal is you: your IAM user, or the IAM role (with its path) behind your session.\n\
Undo with `eks-breakglass cleanup --rollback` (deletes the access entry; a mode switch stays).")]
pub struct GrantArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// The IAM user or role to grant (default: the caller's user, or the role behind its session)
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// Allow switching a CONFIG_MAP cluster to API_AND_CONFIG_MAP (one-way)
    #[arg(long)]
    pub allow_auth_mode_change: bool,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// How long to retry authenticating while the entry propagates, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

pub async fn run(g: &Globals, args: &GrantArgs) -> Result<u8, AppError> {
    if let Some(p) = &args.principal {
        PrincipalArn::parse(p).map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let caller = sts::caller_identity(&ctx).await?;
    let facts = eks::describe_cluster(&ctx, &args.cluster).await?;
    // The default grantee is the caller; its role's path needs GetRole, whose refusal is an
    // answer to show. For another grantee, the caller's principal only decides verification.
    let (principal, caller_principal) = match &args.principal {
        None => {
            let me = getin_flow::resolve_principal(&ctx, &caller.arn).await?;
            (me.clone(), Some(me))
        }
        Some(p) => (
            getin_flow::resolve_principal(&ctx, p).await?,
            getin_flow::resolve_principal(&ctx, &caller.arn).await.ok(),
        ),
    };
    let mut plan = getin::grant_plan(
        &getin_flow::grant_facts(&ctx, &facts, &ctx.region, ctx.partition(), &principal).await?,
    );
    if let Some(n) = getin::session_scope_note(
        &caller.arn,
        &principal,
        "the access entry (cluster admin)",
        &facts.name,
    ) {
        plan.notes.push(n);
    }
    plan_ui::show_plan(g, &plan);
    getin_flow::grant_mode_consent(
        plan.consents().contains(&AUTH_MODE_CONSENT),
        args.allow_auth_mode_change,
        g.dry_run,
        &facts.name,
    )?;
    let interrupt = plan_ui::catch_interrupt();
    let spinner = Spinner::new();
    if g.dry_run {
        plan_ui::confirm(g, plan.steps.len())?;
        return Ok(exit::OK);
    }
    let mut run = plan_ui::apply_plan(
        g,
        &ctx,
        &plan,
        args.journal_dir.as_deref(),
        &caller.arn,
        &interrupt,
        &spinner,
    )
    .await?;
    if run.is_none() && !g.json() {
        println!(
            "\nNothing to change: {principal} already has an access entry with AmazonEKSClusterAdminPolicy."
        );
    }
    let applied_json = run
        .as_ref()
        .map(|r| serde_json::to_value(&r.facts).unwrap_or_default())
        .unwrap_or_default();

    // Verify by doing, when the grantee is us.
    let verification = if getin_flow::grant_verifies(caller_principal.as_deref(), &principal) {
        let creds = ctx.credentials().await?;
        Some(
            plan_ui::verify(
                &facts,
                &creds,
                Duration::from_secs(args.wait),
                &interrupt,
                &spinner,
            )
            .await,
        )
    } else {
        None
    };
    spinner.done();
    if let Some(r) = run.as_mut() {
        if let Some(v) = &verification {
            r.note(format!("verification: {}", v.describe()));
        }
        r.end(false, "applied").await?;
    }
    let dir = run.as_ref().map(|r| r.dir.clone());
    let undo = run.as_ref().map(plan_ui::Run::cleanup_command);
    let result = getin_flow::grant_result(verification.as_ref(), &facts.name, &principal);
    if g.json() {
        // One document: the error, if any, goes into it.
        let mut doc = serde_json::json!({
            "cluster": facts.name, "principal": principal, "plan": plan,
            "journal": dir, "applied": applied_json,
            "verification": verification.as_ref().map(Verification::json),
        });
        let result = result.map_err(|e| e.into_result(&mut doc));
        println!("{doc}");
        return result;
    }
    if let Some(d) = &dir {
        println!("\nApplied. Journal: {}", d.display());
    }
    match &verification {
        Some(v) => println!("Verification: {}", v.describe()),
        None => println!(
            "Not verified: {principal} is not you; authenticate as it (e.g. `eks-breakglass kubeconfig --cluster {}`) to check",
            facts.name
        ),
    }
    if let Some(u) = &undo {
        println!("Undo: {u} --rollback");
    }
    result
}
