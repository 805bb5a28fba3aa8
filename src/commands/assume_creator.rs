//! `assume-creator`: become the principal that created the cluster, and prove it works.
//!
//! The creator report says who it is and what it is today; [`getin::choose_route`] picks the
//! way in; any IAM change is a journaled, undoable plan. Then the new credentials are used for
//! real — a token, a SelfSubjectReview — and handed over only as asked: a kubeconfig context,
//! a credentials file (0600), or export lines. A temporary key is deleted when the run ends
//! unless it is kept (explicitly, or because it was handed over).

use crate::aws::{AwsContext, eks, sts};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::iam::{Iam as _, Mfa};
use crate::recovery::getin::{self, Facts, Route};
use crate::recovery::trust::Caller;
use crate::ui::getin as ui;
use crate::ui::plan::{self as plan_ui, Spinner, Verification};
use crate::workflow::getin::{self as getin_flow, KubeconfigExec};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass assume-creator --cluster prod --yes\n  \
eks-breakglass assume-creator --cluster prod --mfa-serial arn:aws:iam::123456789012:mfa/me --token-code 123456\n  \
eks-breakglass assume-creator --cluster prod --keep --credentials-file ~/.aws/eks-creator --yes\n\n\
Ways in, chosen from the creator report: AssumeRole (no change); one trust statement for you\n\
(exactly that statement removed by `cleanup`); a temporary access key for a user (deleted when the run\n\
ends unless --keep); recreating a deleted user or role (EKS will most likely refuse it: it has a\n\
new unique id). Root and IAM Identity Center creators get instructions only."
)]
pub struct AssumeCreatorArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// The creator's ARN, when already known (skips the CloudTrail search)
    #[arg(long, value_name = "ARN")]
    pub creator: Option<String>,
    /// MFA device for AssumeRole, when the trust policy asks for MFA
    #[arg(long, value_name = "ARN", requires = "token_code")]
    pub mfa_serial: Option<String>,
    /// The current MFA code
    #[arg(long, value_name = "CODE", requires = "mfa_serial")]
    pub token_code: Option<String>,
    /// Session duration for AssumeRole, in seconds (default: the role's default, 1 hour)
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Make a trust statement or recreated role added by this run require MFA
    #[arg(long)]
    pub require_mfa: bool,
    /// Keep a temporary access key when the run ends (remove it later with `cleanup`)
    #[arg(long)]
    pub keep: bool,
    /// Write the credentials to this file (mode 0600) as an AWS shared-credentials profile
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Print `export AWS_…` lines with the credentials on stdout
    #[arg(long)]
    pub print_env: bool,
    /// The kubeconfig to add a context to (default: first path in KUBECONFIG, else ~/.kube/config)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Context name (default: <cluster>-creator)
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    /// Do not write a kubeconfig context
    #[arg(long)]
    pub no_kubeconfig: bool,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// How long to retry while IAM and EKS propagate new credentials, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}

pub async fn run(g: &Globals, args: &AssumeCreatorArgs) -> Result<u8, AppError> {
    if let Some(c) = &args.creator {
        crate::arn::PrincipalArn::parse(c)
            .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let me = sts::caller_identity(&ctx).await?;
    let caller = Caller {
        arn: me.arn.clone(),
        account: me.account.clone(),
        user_id: me.user_id.clone(),
    };
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
            // A key an earlier break-glass run kept is the one to remove: say which, and how.
            let ours = match &args.journal_dir {
                Some(_) => Vec::new(),
                None => crate::recovery::journal::default_runs_dir()
                    .map(|base| crate::recovery::journal::run_keys(&base, user_name))
                    .unwrap_or_default(),
            };
            let (why, steps) = getin_flow::key_limit(user_name, keys, &ours, &facts.name);
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
    if keep && !args.keep {
        eprintln!(
            "note: the temporary key is kept because you asked for it to be handed over; remove it with `eks-breakglass cleanup`"
        );
    }
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
        Err(e) => {
            if let Some(r) = run.as_mut() {
                if interrupt.is_set() {
                    return Err(r.interrupted().await);
                }
                // No credentials came of the run: nothing it changed (a trust statement, a
                // recreated principal, a key) is of use, so all of it goes now.
                for l in r.undo_everything("failed").await? {
                    eprintln!("{l}");
                }
            }
            return Err(e);
        }
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
        let backup = match ui::write_credentials_file(path, &profile, &creds) {
            Ok(b) => b,
            Err(e) => {
                // The secret went nowhere: the key (and everything else the run made for it)
                // is of no use to anyone and goes now, journaled.
                if let Some(r) = run.as_mut() {
                    eprintln!(
                        "the credentials could not be written; undoing the run so that no key is left whose secret nobody has:"
                    );
                    for l in r.undo_everything("failed").await? {
                        eprintln!("{l}");
                    }
                }
                return Err(e);
            }
        };
        handed.push(format!(
            "credentials written to {} (profile {profile}, mode 0600; other profiles kept{}){}",
            path.display(),
            backup
                .map(|b| format!(", previous file backed up to {}", b.display()))
                .unwrap_or_default(),
            ui::expiry_note(&creds)
        ));
    }
    if !args.no_kubeconfig {
        // The profile is passed as `token --profile`, which wins over keys exported in the
        // shell kubectl runs from (AWS_PROFILE would lose to them).
        let context = (args.alias.clone()).unwrap_or_else(|| format!("{}-creator", facts.name));
        let exec = getin_flow::kubeconfig_exec(
            &route,
            args.credentials_file.is_some(),
            args.mfa_serial.is_some(),
        );
        let (env, role, profile_arg) = match (&exec, &args.credentials_file) {
            (KubeconfigExec::CredentialsFile, Some(path)) => (
                vec![(
                    "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                    ui::absolute(path).to_string_lossy().into_owned(),
                )],
                None,
                Some(profile.as_str()),
            ),
            (KubeconfigExec::Operator { role }, _) => (Vec::new(), *role, ctx.profile.as_deref()),
            (KubeconfigExec::None { why }, _) => {
                handed.push(why.to_string());
                (Vec::new(), None, None)
            }
            (KubeconfigExec::CredentialsFile, None) => (Vec::new(), None, None),
        };
        if !matches!(exec, KubeconfigExec::None { .. }) {
            let k = args.kubeconfig.as_deref();
            let path =
                ui::write_kubeconfig(k, &context, &facts, &ctx.region, role, profile_arg, env)?;
            handed.push(format!(
                "kubeconfig context {context} in {}",
                path.display()
            ));
        }
    }
    // Export lines only when asked: in text mode as shell lines, in JSON mode in the document.
    let env_json = (args.print_env && g.json()).then(|| {
        serde_json::json!({
            "AWS_ACCESS_KEY_ID": creds.access_key_id(),
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key(),
            "AWS_SESSION_TOKEN": creds.session_token(),
        })
    });
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
    let (result, next) = (outcome.result, outcome.next);
    let from = match args.creator {
        Some(_) => "--creator",
        None => creator.source.as_str(),
    };
    let doc = serde_json::json!({
        "cluster": facts.name, "creator": creator, "status": status, "route": route,
        // A creator given with --creator was not searched for: say so.
        "creator_from": from,
        "plan": plan, "journal": dir, "verification": verification.json(),
        "handed_over": handed, "run_end": end_lines, "next_command": next,
        "env": env_json,
    });
    let end = ui::End {
        dir,
        verification,
        handed,
        end_lines,
        undo,
        next,
    };
    end.render(g.json(), doc, result)
}
