//! `assume-creator`: become the principal that created the cluster, and prove it works.
//!
//! The creator report says who it is and what it is today; [`getin::choose_route`] picks the
//! way in; any IAM change is a journaled, undoable plan. Then the new credentials are used for
//! real — a token, a SelfSubjectReview — and handed over only as asked: a kubeconfig context,
//! a credentials file (0600), or export lines. A temporary key is deleted when the run ends
//! unless it is kept (explicitly, or because it was handed over).

use crate::aws::{AwsContext, eks, sts};
pub use crate::cli::AssumeCreatorArgs;
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::iam::{Iam as _, Mfa};
use crate::recovery::getin::{self, Facts, Route};
use crate::recovery::trust::Caller;
use crate::ui::getin as ui;
use crate::ui::plan::{self as plan_ui, Spinner, Verification};
use crate::workflow::getin as getin_flow;
use std::time::Duration;

pub async fn run(g: &Globals, args: &AssumeCreatorArgs) -> Result<u8, AppError> {
    if let Some(c) = &args.creator {
        crate::arn::PrincipalArn::parse(c)
            .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let me = sts::caller_identity(&ctx).await?;
    let caller = Caller::from(&me);
    let facts = eks::describe_cluster(&ctx, &args.cluster).await?;
    let operator = crate::workflow::getin::resolve_principal(&ctx, &me.arn).await?;
    let (creator, status) =
        crate::aws::ports::creator_report(&ctx, &facts, &caller, args.creator.as_deref()).await?;

    let l = crate::aws::ports::creator_lookup(&ctx, &creator).await?;
    // STS refuses a DurationSeconds above the role's MaxSessionDuration ("The requested
    // DurationSeconds exceeds the MaxSessionDuration set for this role", STS API reference,
    // AssumeRole): known from GetRole now, so refused before any change.
    getin_flow::check_duration(args.duration, l.is_role, &creator.arn, l.role_max)?;
    let (trust_document, keys) = (l.trust_document, l.keys);
    let route = getin::choose_route(&Facts {
        creator: &creator,
        status: status.as_ref(),
        trust_document: trust_document.as_deref(),
        access_keys: keys.as_deref(),
    });
    if !g.json() {
        println!(
            "{}",
            ui::creator_line(&facts.name, &creator, status.as_ref())
        );
    }
    match &route {
        Route::Instructions { why, steps } => return ui::instructions(g, &facts, why, steps),
        Route::KeyLimit { user_name, keys } => {
            let (why, steps) = getin_flow::key_limit_here(
                user_name,
                keys,
                args.journal_dir.is_some(),
                &facts.name,
            );
            return ui::instructions(g, &facts, &why, &steps);
        }
        _ => {}
    }
    // The hand-over file is checked before anything is created: a key made for a file that
    // cannot be written would be a live credential whose secret nobody has.
    let checks = getin_flow::CreatorChecks {
        mfa_given: args.mfa_serial.is_some(),
        require_mfa: args.require_mfa,
        dry_run: g.dry_run,
        keep: args.keep,
        credentials_file: args.credentials_file.as_deref(),
        print_env: args.print_env,
    };
    let keep = getin_flow::before_change(&route, status.as_ref(), &checks, |p| {
        crate::credfile::check_writable(p).map_err(|e| e.to_string())
    })?;
    ui::note_kept(keep && !args.keep);
    let plan = getin_flow::creator_plan(
        &route,
        &facts,
        &ctx.region,
        &me.arn,
        &operator,
        args.require_mfa,
        keep,
    )?;
    plan_ui::show_plan(g, &plan);
    if plan.is_empty() && g.dry_run {
        return Ok(exit::OK);
    }

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
        &me.arn,
        &interrupt,
        &spinner,
    )
    .await?;

    // Credentials as the creator.
    let created_key = run
        .as_ref()
        .and_then(|r| r.runner.created_keys().last())
        .map(|k| k.credentials.clone());
    let mfa = (args.mfa_serial.clone().zip(args.token_code.clone()))
        .map(|(serial, code)| Mfa { serial, code });
    let creds = match ctx
        .acquire_credentials(
            &route,
            created_key,
            mfa.as_ref(),
            args.duration.map(Duration::from_secs),
            Duration::from_secs(args.wait),
            &interrupt,
            &|m: &str| spinner.set(m),
        )
        .await
    {
        Ok(c) => c,
        // No credentials came of the run: nothing it changed (a trust statement, a recreated
        // principal, a key) is of use, so all of it goes now.
        Err(e) => return Err(plan_ui::abandon(run.as_mut(), interrupt.is_set(), None, e).await),
    };
    let verification = plan_ui::verify(
        &facts,
        &creds,
        Duration::from_secs(args.wait),
        &interrupt,
        &spinner,
    )
    .await;
    spinner.done();
    if let Some(r) = run.as_mut() {
        r.note(format!("verification: {}", verification.describe()));
        if matches!(verification, Verification::Interrupted) {
            return Err(r.interrupted().await);
        }
    }

    // Hand-over, only as asked.
    let profile = format!("eks-breakglass-{}", facts.name);
    let mut handed = Vec::new();
    if let Some(path) = &args.credentials_file {
        match ui::hand_over_file(path, &profile, &creds) {
            Ok(line) => handed.push(line),
            // The secret went nowhere: the key (and everything else the run made for it) is of
            // no use to anyone and goes now, journaled.
            Err(e) => {
                let why = "the credentials could not be written; undoing the run so that no key is left whose secret nobody has:";
                return Err(plan_ui::abandon(run.as_mut(), false, Some(why), e).await);
            }
        }
    }
    if !args.no_kubeconfig {
        let exec = getin_flow::kubeconfig_exec(
            &route,
            args.credentials_file.is_some(),
            args.mfa_serial.is_some(),
        );
        let to = ui::KubeconfigTo {
            file: args.kubeconfig.as_deref(),
            alias: args.alias.as_deref(),
            credentials_file: args.credentials_file.as_deref(),
            profile: &profile,
            operator_profile: ctx.profile.as_deref(),
        };
        handed.push(ui::hand_over_kubeconfig(&exec, &to, &facts, &ctx.region)?);
    }
    // Export lines only when asked: in text mode as shell lines, in JSON mode in the document.
    let env_json = (args.print_env && g.json()).then(|| ui::env_json(&creds));
    if args.print_env && !g.json() {
        // The key is kept only because its secret is handed over here: when stdout is gone,
        // nobody has the secret, so the run is undone instead (exit 141).
        if let Err(e) = ui::print_env(&creds) {
            return Err(match run.as_mut() {
                Some(r) => r.output_failed(e).await,
                None => e,
            });
        }
    }

    // Temporary keys go when the run ends, unless kept.
    let mut end_lines = Vec::new();
    if let Some(r) = run.as_mut() {
        end_lines = r.end(keep, "applied").await?;
    }
    let dir = run.as_ref().map(|r| r.dir.clone());
    let undo = run.as_ref().map(plan_ui::Run::cleanup_command);
    let outcome = getin_flow::creator_outcome(&verification, &route, status.as_ref(), &facts.name);
    if let Some(why) = outcome.refused {
        eprintln!("{why}");
    }
    let from = match args.creator {
        Some(_) => "--creator",
        None => creator.source.as_str(),
    };
    let doc = serde_json::json!({
        "cluster": facts.name, "creator": creator, "status": status, "route": route,
        // A creator given with --creator was not searched for: say so.
        "creator_from": from,
        "plan": plan, "journal": dir, "verification": verification.json(),
        "handed_over": handed, "run_end": end_lines, "next_command": outcome.next,
        "env": env_json,
    });
    let end = ui::End {
        dir,
        verification,
        handed,
        end_lines,
        undo,
        next: outcome.next,
    };
    end.render(g.json(), doc, outcome.result)
}
