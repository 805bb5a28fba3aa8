//! `assume-creator`: become the principal that created the cluster, and prove it works.
//!
//! The creator report says who it is and what it is today; [`getin::choose_route`] picks the
//! way in; any IAM change is a journaled, undoable plan. Then the new credentials are used for
//! real — a token, a SelfSubjectReview — and handed over only as asked: a kubeconfig context,
//! a credentials file (0600), or export lines. A temporary key is deleted when the run ends
//! unless it is kept (explicitly, or because it was handed over).

use crate::aws::creator_sources::AwsSources;
use crate::aws::{AwsContext, AwsErrorKind, eks, iam, sts};
use crate::cli::Globals;
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::exit;
use crate::kubeconfig::{self, ContextEntry};
use crate::recovery::creator::{self, Creator, CreatorSource, FindOptions};
use crate::recovery::getin::{self, Facts, GetInOptions, Route};
use crate::recovery::plan::Interrupt;
use crate::recovery::principal::PrincipalStatus;
use crate::recovery::trust::Caller;
use crate::ui::plan::{self as plan_ui, Spinner, Verification};
use crate::workflow::getin as getin_flow;
use aws_credential_types::Credentials;
use base64::Engine as _;
use clap::Args;
use std::path::{Path, PathBuf};
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

/// The creator and its status: from `--creator`, or from the creator search.
async fn creator_report(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    caller: &Caller,
    explicit: Option<&str>,
) -> Result<(Creator, Option<PrincipalStatus>), AppError> {
    if let Some(arn) = explicit {
        let c = Creator::from_arn(arn, None, CreatorSource::Tags);
        let status = creator::check_status(&mut AwsSources::new(ctx), &c, Some(caller)).await?;
        return Ok((c, Some(status)));
    }
    let opts = FindOptions {
        caller: Some(caller.clone()),
        ..FindOptions::default()
    };
    let report = crate::aws::creator_sources::find_creator(ctx, facts, &opts).await?;
    match report.creator {
        Some(c) => Ok((c, report.status)),
        None => Err(AppError::Failed {
            message: format!(
                "the creator of {} could not be found: {}",
                facts.name, report.verdict.reason
            ),
            hint: Some(format!(
                "run `eks-breakglass creator --cluster {}` for the details, pass --creator ARN if you know it, or use `eks-breakglass grant --cluster {}`",
                facts.name, facts.name
            )),
        }),
    }
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
    let (creator, status) = creator_report(&ctx, &facts, &caller, args.creator.as_deref()).await?;

    // What the route needs besides the report: the exact trust document, the key ids.
    let is_role = creator.arn.contains(":role/");
    let name = creator.name.clone().unwrap_or_default();
    // `Err(())`: GetRole was refused, the role is unknown (not "deleted").
    let role = if is_role && !name.is_empty() {
        match iam::get_role(&ctx, &name).await {
            Ok(r) => Ok(r),
            Err(e) if e.kind == AwsErrorKind::AccessDenied => Err(()),
            Err(e) => return Err(e.into()),
        }
    } else {
        Ok(None)
    };
    // STS refuses a DurationSeconds above the role's MaxSessionDuration ("The requested
    // DurationSeconds exceeds the MaxSessionDuration set for this role", STS API reference,
    // AssumeRole): known from GetRole now, so refused before any change. A role this run
    // recreates gets IAM's default, 3600 s.
    getin_flow::check_duration(
        args.duration,
        is_role,
        &creator.arn,
        match &role {
            Ok(Some(r)) => Ok(r.max_session_duration),
            Ok(None) => Ok(Some(3600)),
            Err(()) => Err(()),
        },
    )?;
    let trust_document = role.ok().flatten().and_then(|r| r.trust_policy);
    let keys: Option<Vec<String>> = if !is_role && !name.is_empty() {
        match iam::list_access_keys(&ctx, &name).await {
            Ok(k) => Some(k.into_iter().map(|k| k.access_key_id).collect()),
            Err(e) if matches!(e.kind, AwsErrorKind::AccessDenied | AwsErrorKind::NotFound) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let route = getin::choose_route(&Facts {
        creator: &creator,
        status: status.as_ref(),
        trust_document: trust_document.as_deref(),
        access_keys: keys.as_deref(),
    });
    if !g.json() {
        println!(
            "Creator of {}: {} ({}){}",
            facts.name,
            creator.arn,
            creator.kind.describe(),
            status
                .as_ref()
                .map(|s| format!(" — {}", s.summary))
                .unwrap_or_default()
        );
    }
    match &route {
        Route::Instructions { why, steps } => return instructions(g, &facts, why, steps),
        Route::KeyLimit { user_name, keys } => {
            // A key an earlier break-glass run kept is the one to remove: say which, and how.
            let ours = match &args.journal_dir {
                Some(_) => Vec::new(),
                None => crate::recovery::journal::default_runs_dir()
                    .map(|base| crate::recovery::journal::run_keys(&base, user_name))
                    .unwrap_or_default(),
            };
            let (why, steps) = getin_flow::key_limit(user_name, keys, &ours, &facts.name);
            return instructions(g, &facts, &why, &steps);
        }
        _ => {}
    }
    getin_flow::refuse_before_change(
        &route,
        status.as_ref(),
        args.mfa_serial.is_some(),
        args.require_mfa,
        g.dry_run,
    )?;
    let key_route = matches!(
        route,
        Route::TemporaryKey { .. } | Route::RecreateUser { .. }
    );
    getin_flow::check_handover(
        args.keep,
        key_route,
        args.credentials_file.is_some(),
        args.print_env,
    )?;
    // The hand-over file is checked before anything is created: a key made for a file that
    // cannot be written would be a live credential whose secret nobody has.
    if let Some(path) = &args.credentials_file {
        crate::credfile::check_writable(path).map_err(|e| {
            AppError::usage(
                format!(
                    "--credentials-file {}: {e}; nothing was changed",
                    path.display()
                ),
                Some("choose a --credentials-file path in a directory you can write".to_string()),
            )
        })?;
    }
    let keep = args.keep || (key_route && (args.credentials_file.is_some() || args.print_env));
    if keep && !args.keep {
        eprintln!(
            "note: the temporary key is kept because you asked for it to be handed over; remove it with `eks-breakglass cleanup`"
        );
    }
    let mut plan = getin::assume_creator_plan(
        &route,
        &facts.name,
        &ctx.region,
        &GetInOptions {
            operator_arn: operator.clone(),
            require_mfa: args.require_mfa,
            keep,
            cluster_arn: facts.arn.clone(),
            run_id: crate::recovery::journal::new_run_id(chrono::Utc::now()),
        },
    )
    .map_err(|e| AppError::failed(e, None))?;
    if matches!(route, Route::PatchTrust { .. })
        && let Some(n) = getin::session_scope_note(
            &me.arn,
            &operator,
            "the trust statement on the creator role",
            &facts.name,
        )
    {
        plan.notes.push(n);
    }
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
    let creds = match acquire(&ctx, &route, created_key, args, &interrupt, &spinner).await {
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
    let role_arn = match &route {
        Route::AssumeRole { role_arn, .. }
        | Route::PatchTrust { role_arn, .. }
        | Route::RecreateRole { role_arn, .. } => Some(role_arn.clone()),
        _ => None,
    };
    let profile = format!("eks-breakglass-{}", facts.name);
    let mut handed = Vec::new();
    if let Some(path) = &args.credentials_file {
        let backup = match write_credentials_file(path, &profile, &creds) {
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
            expiry_note(&creds)
        ));
    }
    if !args.no_kubeconfig {
        // How kubectl's `token` gets the creator's credentials: the credentials file when one
        // was written (keys; MFA sessions, which cannot be re-assumed without a code), else
        // assuming the role on each token with the operator's own credentials.
        let mfa = args.mfa_serial.is_some();
        // The profile is passed as `token --profile`, which wins over keys exported in the
        // shell kubectl runs from (AWS_PROFILE would lose to them: the context would sign in
        // as the operator instead of the creator).
        let (exec_env, exec_role, exec_profile): (Option<ExecEnv>, Option<&str>, Option<&str>) =
            if let Some(path) = args.credentials_file.as_ref().filter(|_| key_route || mfa) {
                (
                    Some(vec![(
                        "AWS_SHARED_CREDENTIALS_FILE".into(),
                        absolute(path).to_string_lossy().into_owned(),
                    )]),
                    None,
                    Some(profile.as_str()),
                )
            } else if (role_arn.is_some() && !mfa) || matches!(route, Route::AlreadyCreator) {
                (
                    Some(Vec::new()),
                    role_arn.as_deref(),
                    ctx.profile.as_deref(),
                )
            } else {
                (None, None, None)
            };
        match exec_env {
            Some(env) => {
                let path =
                    write_kubeconfig(args, &facts, &ctx.region, exec_role, exec_profile, env)?;
                handed.push(format!(
                    "kubeconfig context {} in {}",
                    args.alias
                        .clone()
                        .unwrap_or_else(|| format!("{}-creator", facts.name)),
                    path.display()
                ));
            }
            None if mfa => handed.push(
                "no kubeconfig context: an MFA session cannot be renewed by kubectl; pass --credentials-file FILE to hand the session over".into(),
            ),
            None => handed.push(
                "no kubeconfig context: the temporary key is deleted when the run ends (use --keep --credentials-file FILE to hand it over)".into(),
            ),
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
        if let Err(e) = print_env(&creds) {
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
    let next = match &verification {
        Verification::Authenticated { .. } => None,
        _ => Some(format!("eks-breakglass grant --cluster {}", facts.name)),
    };
    let result = match &verification {
        Verification::Authenticated { .. } => Ok(exit::OK),
        Verification::Refused { .. } => {
            let recreated = matches!(
                route,
                Route::RecreateUser { .. } | Route::RecreateRole { .. }
            ) || status
                .as_ref()
                .is_some_and(|s| s.state == crate::recovery::principal::PrincipalState::Recreated);
            eprintln!(
                "{}",
                if recreated {
                    "the cluster refuses the recreated principal: EKS bound the creator to the old unique id"
                } else {
                    "the cluster refuses the creator: its implicit admin may have been removed"
                }
            );
            Ok(exit::CREATOR_UNUSABLE)
        }
        Verification::Interrupted => Err(AppError::Interrupted),
        Verification::Failed { error } => Err(AppError::failed(
            format!("could not verify access: {error}"),
            None,
        )),
    };
    if g.json() {
        // One document: the error, if any, goes into it.
        let mut doc = serde_json::json!({
            "cluster": facts.name, "creator": creator, "status": status, "route": route,
            // A creator given with --creator was not searched for: say so.
            "creator_from": if args.creator.is_some() { "--creator" } else { creator.source.as_str() },
            "plan": plan, "journal": dir, "verification": verification.json(),
            "handed_over": handed, "run_end": end_lines, "next_command": next,
            "env": env_json,
        });
        let result = result.map_err(|e| e.into_result(&mut doc));
        println!("{doc}");
        return result;
    } else {
        if let Some(d) = &dir {
            println!("\nApplied. Journal: {}", d.display());
        }
        println!("Verification as the creator: {}", verification.describe());
        for h in &handed {
            println!("Hand-over: {h}");
        }
        for l in &end_lines {
            println!("Run end: {l}");
        }
        if let Some(u) = &undo {
            println!("Undo: {u}");
        }
        if let Some(n) = &next {
            println!("Next: {n}");
        }
    }
    result
}

/// Gets credentials as the creator, retrying while IAM propagates (bounded by `--wait`).
async fn acquire(
    ctx: &AwsContext,
    route: &Route,
    created_key: Option<Credentials>,
    args: &AssumeCreatorArgs,
    interrupt: &Interrupt,
    spinner: &Spinner,
) -> Result<Credentials, AppError> {
    let mfa = match (&args.mfa_serial, &args.token_code) {
        (Some(serial), Some(code)) => Some(sts::Mfa {
            serial: serial.clone(),
            code: code.clone(),
        }),
        _ => None,
    };
    acquire_credentials(
        ctx,
        route,
        created_key,
        mfa.as_ref(),
        args.duration.map(Duration::from_secs),
        Duration::from_secs(args.wait),
        interrupt,
        spinner,
    )
    .await
}

/// Credentials as the creator on `route`, through the IAM port (see
/// [`crate::ports::iam::Iam::acquire_credentials`]).
#[allow(clippy::too_many_arguments)]
pub async fn acquire_credentials(
    ctx: &AwsContext,
    route: &Route,
    created_key: Option<Credentials>,
    mfa: Option<&sts::Mfa>,
    duration: Option<Duration>,
    wait: Duration,
    interrupt: &Interrupt,
    spinner: &Spinner,
) -> Result<Credentials, AppError> {
    let mfa = mfa.map(|m| crate::ports::iam::Mfa {
        serial: m.serial.clone(),
        code: m.code.clone(),
    });
    crate::ports::iam::Iam::acquire_credentials(
        ctx,
        route,
        created_key,
        mfa.as_ref(),
        duration,
        wait,
        interrupt,
        &|m: &str| spinner.set(m),
    )
    .await
}

/// Environment of kubectl's `token` exec plugin.
type ExecEnv = Vec<(String, String)>;

fn instructions(
    g: &Globals,
    facts: &ClusterFacts,
    why: &str,
    steps: &[String],
) -> Result<u8, AppError> {
    if g.json() {
        println!(
            "{}",
            serde_json::json!({"cluster": facts.name, "route": "instructions", "why": why, "steps": steps})
        );
    } else {
        println!("\nNo change can get you in as the creator: {why}.");
        for (i, s) in steps.iter().enumerate() {
            println!("  {}. {s}", i + 1);
        }
    }
    Ok(exit::CREATOR_UNUSABLE)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Writes the credentials as profile `profile` into an AWS shared-credentials file: only that
/// section is replaced, the rest kept, the previous file backed up first, mode 0600.
fn write_credentials_file(
    path: &Path,
    profile: &str,
    c: &Credentials,
) -> Result<Option<PathBuf>, AppError> {
    let mut lines = vec![
        "# written by eks-breakglass assume-creator; remove this section (and run `eks-breakglass cleanup`) when done".to_string(),
        format!("aws_access_key_id = {}", c.access_key_id()),
        format!("aws_secret_access_key = {}", c.secret_access_key()),
    ];
    if let Some(t) = c.session_token() {
        lines.push(format!("aws_session_token = {t}"));
    }
    if let Some(exp) = c.expiry() {
        let at: chrono::DateTime<chrono::Utc> = exp.into();
        lines.insert(
            1,
            format!(
                "# these session credentials expire at {} (STS refuses them after: ExpiredToken)",
                at.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        );
    }
    crate::credfile::write_profile(path, profile, &lines).map_err(|e| {
        AppError::failed(
            format!("cannot write the credentials file {}: {e}", path.display()),
            Some("choose another --credentials-file path".to_string()),
        )
    })
}

/// ", expire at …, in N min" for session credentials (a temporary key never expires by itself).
fn expiry_note(c: &Credentials) -> String {
    match c.expiry() {
        Some(exp) => {
            let at: chrono::DateTime<chrono::Utc> = exp.into();
            let mins = (at - chrono::Utc::now()).num_minutes().max(0);
            format!(
                "; they expire at {} (in {mins} min): assume again after that",
                at.format("%Y-%m-%dT%H:%M:%SZ")
            )
        }
        None => String::new(),
    }
}

fn print_env(c: &Credentials) -> Result<(), AppError> {
    let token = match c.session_token() {
        Some(t) => format!("export AWS_SESSION_TOKEN={t}"),
        None => "unset AWS_SESSION_TOKEN".to_string(),
    };
    let note = expiry_note(c);
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("# session credentials{note}\n")
    };
    super::out(&format!(
        "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n{token}\n{note}",
        c.access_key_id(),
        c.secret_access_key()
    ))
}

fn write_kubeconfig(
    args: &AssumeCreatorArgs,
    facts: &ClusterFacts,
    region: &str,
    role_arn: Option<&str>,
    profile: Option<&str>,
    exec_env: Vec<(String, String)>,
) -> Result<PathBuf, AppError> {
    let path = kubeconfig::default_path(args.kubeconfig.as_deref())?;
    let existing = kubeconfig::read(&path)?;
    let server = facts.endpoint.clone().ok_or_else(|| {
        AppError::failed(format!("cluster {} has no API endpoint", facts.name), None)
    })?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| AppError::failed(format!("cannot find this program's path: {e}"), None))?;
    let mut exec_args = vec![
        "token".to_string(),
        "--cluster".into(),
        facts.name.clone(),
        "--region".into(),
        region.to_string(),
    ];
    if let Some(r) = role_arn {
        exec_args.push("--role-arn".into());
        exec_args.push(r.to_string());
    }
    if let Some(p) = profile {
        exec_args.push("--profile".into());
        exec_args.push(p.to_string());
    }
    let context = args
        .alias
        .clone()
        .unwrap_or_else(|| format!("{}-creator", facts.name));
    let entry = ContextEntry {
        cluster_name: if facts.arn.is_empty() {
            facts.name.clone()
        } else {
            facts.arn.clone()
        },
        server,
        ca_data_b64: facts
            .ca_pem
            .as_ref()
            .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem)),
        tls_server_name: None,
        context_name: context,
        exec_command: exe.to_string_lossy().into_owned(),
        exec_args,
        exec_env,
    };
    let merged = kubeconfig::merge(&path, existing.as_deref(), &entry)?;
    kubeconfig::write_private_atomic(&path, merged.as_bytes()).map_err(|e| {
        kubeconfig::KubeconfigError::Write {
            path: path.clone(),
            source: e,
        }
    })?;
    Ok(path)
}
