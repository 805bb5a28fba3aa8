//! `recover`: the whole incident in one command — diagnose, get in, restore aws-auth, prove it
//! by logging in, clean up, and leave a report.
//!
//! This file parses and checks the arguments (a `--from` file is read and refused before
//! anything else), runs triage, builds the adapters, and renders the report. The incident
//! itself — which way in, the plan, the consents, the two phases, verification, undo — is
//! decided in [`crate::workflow::recover`].

use super::aws_auth_write::{candidate_for_cluster, check_verify_as, refuse_session_arn}; // merge: 16c
use crate::aws::AwsContext;
use crate::aws::ports::AwsWorld;
use crate::aws::triage_sources::run_triage;
use crate::cli::Globals;
use crate::cli::TargetArgs;
use crate::error::AppError;
use crate::exit;
use crate::ports::iam::Mfa;
use crate::recovery::restore;
use crate::ui::input::read_input;
use crate::ui::plan::{Spinner, TerminalUi};
use crate::workflow::recover::{self as flow, CreatorFound, Finished, Options, Situation, Tunnel};
use crate::workflow::triage::Triage;
use chrono::Utc;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// You are already in: repair aws-auth with your own identity
    Direct,
    /// An EKS access entry for you
    AccessEntry,
    /// Become the cluster's creator (key, AssumeRole, trust statement, recreation)
    Creator,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Direct => "direct",
            Via::AccessEntry => "access-entry",
            Via::Creator => "creator",
        }
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  eks-breakglass recover --cluster prod\n  \
eks-breakglass recover --cluster prod --yes --verify-as arn:aws:iam::123456789012:role/dev-admin\n  \
eks-breakglass recover --cluster prod --from backups/aws-auth.yaml --yes\n  \
eks-breakglass recover --cluster legacy --allow-auth-mode-change --yes\n  \
eks-breakglass recover --cluster prod --dry-run            # the plan only\n  \
eks-breakglass recover --cluster prod --map-admin me --yes  # aws-auth was deleted: rebuild it with you as admin\n  \
eks-breakglass recover --cluster prod --salvage-fix-arns arn:aws:iam::123456789012:role/team/ops \\\n      --allow-access-gain arn:aws:iam::123456789012:role/ops --yes\n\n\
The way in is the first automatic path of `eks-breakglass diagnose` (--via picks another).\n\
The new aws-auth is a salvage of the live one (every entry that still parses; no entry's ARN\n\
is changed unless --salvage-fix-arns names it) unless --from names a file; a missing aws-auth\n\
is rebuilt from the node and Fargate roles plus each --map-admin. Node and Fargate roles the\n\
cluster has are added when missing. Before any change the plan shows the new aws-auth's access\n\
diff (who gains which groups) and predicts who gets in afterwards, whenever aws-auth can be\n\
read without a change; otherwise both are shown right after getting in, before the write.\n\
NEW access needs --allow-access-gain ARN naming it (--yes is not enough); a write after which nobody but the\n\
temporary identity gets in needs --force. Temporary keys and trust statements are removed at\n\
the end unless --keep. The report (incident-report.md/.json) and the journal are in the run\n\
directory; `eks-breakglass cleanup --journal DIR` removes what was temporary and keeps the fix;
`--rollback` also puts the earlier aws-auth back. Each --verify-as role must get in after the
restore; a role that is refused: the verification fails (exit 1), as in `aws-auth restore`.")]
pub struct RecoverArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// A known-good aws-auth ConfigMap file to restore (default: salvage of the live one)
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// The way in (default: the best automatic path of `diagnose`)
    #[arg(long, value_enum)]
    pub via: Option<Via>,
    /// Allow switching a CONFIG_MAP cluster to API_AND_CONFIG_MAP (one-way) for an access entry
    #[arg(long)]
    pub allow_auth_mode_change: bool,
    /// Also prove that this role gets in after the restore (assumed with your identity); refused:
    /// the verification fails (exit 1) (repeatable)
    #[arg(long = "verify-as", value_name = "ROLE_ARN", value_parser = crate::arn::role_arn_value)]
    pub verify_as: Vec<String>,
    /// Let salvage rewrite this role ARN with a path (as aws-auth writes it) to its path-less ARN, so that it matches for the first time (repeatable or comma-separated; the access it grants is shown first)
    #[arg(
        long = "salvage-fix-arns",
        value_name = "ARN",
        value_delimiter = ',',
        conflicts_with = "from"
    )]
    pub salvage_fix_arns: Vec<String>,
    /// Map this principal to system:masters in the new aws-auth (`me`: you); the way back in for people when aws-auth was deleted (repeatable)
    #[arg(long = "map-admin", value_name = "ARN|me")]
    pub map_admin: Vec<String>,
    /// Approve the NEW access this identity gains (a role or user ARN, or an account id for mapAccounts); only the identities named are approved, anything else NEW is still refused (repeatable or comma-separated; --yes alone never approves a gain)
    #[arg(
        long = "allow-access-gain",
        value_name = "ARN|ACCOUNT",
        value_delimiter = ','
    )]
    pub allow_access_gain: Vec<String>,
    /// Write aws-auth even when the prediction says that nobody but the temporary identity (the creator) would get in afterwards
    #[arg(long)]
    pub force: bool,
    /// Keep temporary access keys and trust statements (remove them later with `cleanup`)
    #[arg(long)]
    pub keep: bool,
    /// MFA device for AssumeRole of the creator role, when its trust policy asks for MFA
    #[arg(long, value_name = "ARN", requires = "token_code")]
    pub mfa_serial: Option<String>,
    /// The current MFA code
    #[arg(long, value_name = "CODE", requires = "mfa_serial")]
    pub token_code: Option<String>,
    /// The run directory for the journal, backups and report (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// How long to retry while IAM, access entries and aws-auth propagate, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// The `--from` file, read and checked before anything else: a file that would be refused
/// after getting in is refused now. The eksctl ClusterConfig's region is compared again once
/// the profile's region is known.
fn read_from(
    g: &Globals,
    args: &RecoverArgs,
) -> Result<
    Option<(
        restore::Candidate,
        Option<crate::awsauth::source::ClusterRef>,
    )>,
    AppError,
> {
    let Some(f) = &args.from else {
        return Ok(None);
    };
    let bytes = read_input(&f.display().to_string())?;
    let region = g.region.clone().or_else(|| {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
    });
    let c = candidate_for_cluster(
        &f.display().to_string(),
        &bytes,
        Some(&args.cluster),
        region.as_deref(),
    )?;
    flow::check_from(f, &c)?;
    let written_for = crate::awsauth::read_document("--from", &bytes)
        .ok()
        .and_then(|d| d.written_for);
    Ok(Some((c, written_for)))
}

/// What triage found, as the workflow decides on it.
fn situation(t: &Triage) -> Situation {
    Situation {
        caller_arn: t.caller.arn.clone(),
        caller_account: t.caller.account.clone(),
        cluster: t.cluster.clone(),
        access: t.access.clone(),
        aws_auth_readable: t.aws_auth.readable,
        aws_auth_errors: t.aws_auth.errors,
        creator: match &t.creator {
            None => CreatorFound::Unknown,
            Some(r) => match &r.creator {
                Some(c) => CreatorFound::Found {
                    creator: Box::new(c.clone()),
                    status: r.status.clone().map(Box::new),
                },
                None => CreatorFound::NotFound {
                    reason: r.verdict.reason.clone(),
                },
            },
        },
        node_roles: t.node_roles.clone(),
        paths: t.paths.clone(),
    }
}

pub async fn run(g: &Globals, args: &RecoverArgs) -> Result<u8, AppError> {
    check_verify_as(&args.verify_as)?;
    for a in args.map_admin.iter().filter(|a| *a != "me") {
        refuse_session_arn("--map-admin", a)?;
    }
    flow::check_map_admin(&args.map_admin)?;
    let from = read_from(g, args)?;
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let from = match (from, &args.from) {
        (Some((c, written_for)), Some(f)) => {
            flow::check_from_cluster(f, written_for.as_ref(), &args.cluster, &ctx.region)?;
            Some((f.clone(), c))
        }
        _ => None,
    };
    let started = Utc::now();
    let api_server = args.target.api_server.as_deref();
    let triage = run_triage(&ctx, &args.cluster, api_server, |f| args.target.target(f)).await?;
    if !g.json() {
        print!("{}", crate::ui::triage::render_in_recover(&triage));
    }
    let t = situation(&triage);
    let target = triage
        .target
        .clone()
        .ok_or_else(|| AppError::failed("no API target", None))?;
    let o = Options {
        cluster: args.cluster.clone(),
        from,
        via: args.via.map(Via::as_str),
        allow_auth_mode_change: args.allow_auth_mode_change,
        verify_as: args.verify_as.clone(),
        salvage_fix_arns: args.salvage_fix_arns.clone(),
        map_admin: args.map_admin.clone(),
        allow_access_gain: args.allow_access_gain.clone(),
        force: args.force,
        keep: args.keep,
        mfa: match (&args.mfa_serial, &args.token_code) {
            (Some(serial), Some(code)) => Some(Mfa {
                serial: serial.clone(),
                code: code.clone(),
            }),
            _ => None,
        },
        journal_dir: args.journal_dir.clone(),
        wait: Duration::from_secs(args.wait),
        dry_run: g.dry_run,
        profile: g.profile.clone(),
        region: g.region.clone(),
        tunnel: Tunnel {
            api_server: args.target.api_server.clone(),
            tls_server_name: args.target.tls_server_name.clone(),
            ca_file: args.target.ca_file.clone(),
        },
        started,
    };
    let spinner = Spinner::new();
    let progress = |m: &str| spinner.set(m);
    let world = AwsWorld {
        ctx: &ctx,
        target,
        cluster: triage.cluster.clone(),
        progress: &progress,
    };
    let ui = TerminalUi {
        g,
        spinner: &spinner,
    };
    let done = match flow::run(&ctx, &world, &ui, &t, &o).await? {
        Finished::DryRun => return Ok(exit::OK),
        Finished::Done(r) => r,
    };
    // The run has ended (temporary credentials gone): a closed stdout only ends the process.
    if g.json() {
        // One document: the error, if any, goes into it.
        let mut doc = serde_json::json!({"report": done.report, "plan": done.plan, "triage": triage, "access": done.access, "predicted": done.predicted});
        let error = done.error.map(|e| e.into_result(&mut doc));
        super::out(&format!("{doc}\n"))?;
        return error.map_or(Ok(exit::OK), Err);
    }
    super::out(&format!(
        "\n{}\n",
        crate::ui::recover::summary(&done.report)
    ))?;
    done.error.map_or(Ok(exit::OK), Err)
}
