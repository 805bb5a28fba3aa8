//! `recover`: the whole incident in one command — diagnose, get in, restore aws-auth, prove it
//! by logging in, clean up, and leave a report.
//!
//! It composes what the other commands do, so that each piece behaves the same everywhere: the
//! triage of `diagnose`, the plans of `grant` and `assume-creator`, the aws-auth engine's
//! salvage and lint, the journal and `cleanup`. ONE plan is shown (get-in steps, the aws-auth
//! write, what runs after), confirmed once, and applied in two phases with one journal: first
//! the get-in steps, then — with the credentials they produced — the aws-auth write. Every exit
//! after the first change says what was changed and prints the exact command to undo it
//! (`cleanup --journal DIR`) or to continue; the incident report (Markdown and JSON) is written
//! into the run directory whatever the outcome.
//!
//! The aws-auth it writes is never a surprise. Whenever the live aws-auth can be read without a
//! change (you are in, or the creator role trusts you and AssumeRole is enough), the complete
//! candidate, who gains which groups on whose word, and who will get in afterwards are computed
//! and shown before the confirmation and in `--dry-run`, and the consents they need are asked
//! there: `--allow-access-gain ARN` naming each NEW gain, `--force` for a write after which nobody but the
//! temporary identity gets in. When reading it needs a change first (locked out, the way in
//! creates a key or an access entry), the plan says so and the same rules are applied right
//! after getting in, before the write; a refusal then removes the temporary credentials.

use super::diagnose::{self, TargetArgs, Triage};
use super::plan_ui::{self, Decision, Spinner, Verification};
use crate::aws::plan_runner::AwsRunner;
use crate::aws::{AwsContext, AwsErrorKind, access, cluster_api, iam, sts};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::k8s::{ApiTarget, KubeClient};
use crate::recovery::diagnosis::{self, MODE_CONSENT, PathKind, RecoveryPath};
use crate::recovery::getin::{self, Facts, GetInOptions, GrantFacts, Route};
use crate::recovery::journal::{Event, Journal};
use crate::recovery::plan::{self, Action, Applied, Interrupt, Outcome, Plan, SavedState, Undo};
use crate::recovery::recover::{self, Check, IncidentReport, TimelineEntry, node_role_mapped};
use crate::recovery::restore::{self, AwsAuthObject, Prepared};
use chrono::Utc;
use clap::{Args, ValueEnum};
use k8s_openapi::api::core::v1::ConfigMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file the live aws-auth is saved to before it is replaced (the name `aws-auth restore`
/// uses too).
pub const BACKUP_FILE: &str = "aws-auth.before.json";
/// The object the run wrote.
pub const WRITTEN_FILE: &str = "aws-auth.written.json";
pub const REPORT_MD: &str = "incident-report.md";
pub const REPORT_JSON: &str = "incident-report.json";

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

/// What the run has done so far, for the report and for every exit.
struct Record {
    report: IncidentReport,
}

impl Record {
    fn event(&mut self, what: impl Into<String>) {
        let what = what.into();
        tracing::info!("{what}");
        self.report.timeline.push(TimelineEntry {
            at: Utc::now(),
            what,
        });
    }
}

/// The continue command: the same recover, with the flags that matter.
fn continue_command(g: &Globals, args: &RecoverArgs, path: Option<&RecoveryPath>) -> String {
    let mut s = format!("eks-breakglass recover --cluster {}", args.cluster);
    // The same identity and region as this run.
    if let Some(p) = &g.profile {
        s.push_str(&format!(" --profile {p}"));
    }
    if let Some(r) = &g.region {
        s.push_str(&format!(" --region {r}"));
    }
    if let Some(f) = &args.from {
        s.push_str(&format!(" --from {}", f.display()));
    }
    if let Some(v) = args.via {
        s.push_str(&format!(" --via {}", v.as_str()));
    }
    if args.allow_auth_mode_change || path.is_some_and(|p| p.consent.is_some()) {
        s.push_str(&format!(" {MODE_CONSENT}"));
    }
    for v in &args.verify_as {
        s.push_str(&format!(" --verify-as {v}"));
    }
    for a in &args.salvage_fix_arns {
        s.push_str(&format!(" --salvage-fix-arns {a}"));
    }
    for a in &args.map_admin {
        s.push_str(&format!(" --map-admin {a}"));
    }
    for a in &args.allow_access_gain {
        s.push_str(&format!(" --allow-access-gain {a}"));
    }
    if args.force {
        s.push_str(" --force");
    }
    if let Some(a) = &args.target.api_server {
        s.push_str(&format!(" --api-server {a}"));
    }
    if let Some(t) = &args.target.tls_server_name {
        s.push_str(&format!(" --tls-server-name {t}"));
    }
    s
}

pub async fn run(g: &Globals, args: &RecoverArgs) -> Result<u8, AppError> {
    super::aws_auth_write::check_verify_as(&args.verify_as)?;
    for a in args.map_admin.iter().filter(|a| *a != "me") {
        use crate::awsauth::principal::{ArnShape, classify};
        super::aws_auth_write::refuse_session_arn("--map-admin", a)?;
        if !matches!(
            classify(a),
            ArnShape::Role { .. } | ArnShape::User { .. } | ArnShape::AssumedRole { .. }
        ) {
            return Err(AppError::usage(
                format!("--map-admin {a}: not an IAM role or user ARN"),
                Some(
                    "give arn:aws:iam::ACCOUNT:role/NAME, arn:aws:iam::ACCOUNT:user/NAME, or `me`"
                        .to_string(),
                ),
            ));
        }
    }
    // A --from file is read (and refused) before anything else.
    let from_candidate = match &args.from {
        Some(f) => {
            let bytes = super::aws_auth::read_input(&f.display().to_string())?;
            let region = g.region.clone().or_else(|| {
                ["AWS_REGION", "AWS_DEFAULT_REGION"]
                    .iter()
                    .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
            });
            let c = super::aws_auth_write::candidate_for_cluster(
                &f.display().to_string(),
                &bytes,
                Some(&args.cluster),
                region.as_deref(),
            )?;
            // Every input is checked before the first change (and in --dry-run): a file that
            // would be refused after getting in must be refused now.
            if let Err(why) =
                recover::prepare(None, Some(c.clone()), &recover::WriteChoice::default())
            {
                return Err(bad_file(f, &why));
            }
            let written_for = crate::awsauth::read_document("--from", &bytes)
                .ok()
                .and_then(|d| d.written_for);
            Some((c, written_for))
        }
        None => None,
    };
    let ctx = AwsContext::load(&g.aws_options()).await?;
    // The region may come from the profile: the eksctl ClusterConfig's region is compared
    // again once it is known (still before any change).
    let from_candidate = match from_candidate {
        Some((c, written_for)) => {
            if let (Some(f), Err(e)) = (
                &args.from,
                restore::check_written_for(
                    &args
                        .from
                        .as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default(),
                    written_for.as_ref(),
                    &args.cluster,
                    Some(&ctx.region),
                ),
            ) {
                return Err(AppError::usage(
                    e.to_string(),
                    Some(format!(
                        "give the aws-auth (or the eksctl ClusterConfig) of {} itself, not {}",
                        args.cluster,
                        f.display()
                    )),
                ));
            }
            Some(c)
        }
        None => None,
    };
    let started = Utc::now();
    let mut rec = Record {
        report: IncidentReport {
            cluster: args.cluster.clone(),
            region: ctx.region.clone(),
            status: "started".into(),
            started_at: started,
            finished_at: started,
            operator: String::new(),
            path: String::new(),
            identities: Vec::new(),
            timeline: Vec::new(),
            aws_calls: Default::default(),
            aws_calls_total: 0,
            changes: Vec::new(),
            cleaned_up: Vec::new(),
            checks: Vec::new(),
            backups: Vec::new(),
            journal_dir: String::new(),
            undo_command: String::new(),
            next_command: None,
            error: None,
        },
    };
    rec.event(format!("recover of {} started", args.cluster));
    let triage = diagnose::triage(&ctx, &args.cluster, &args.target).await?;
    rec.report.operator = triage.caller.arn.clone();
    rec.report
        .identities
        .push(format!("operator: {} (ran the tool)", triage.caller.arn));
    rec.event(format!(
        "triage: {}; aws-auth {}; creator {}",
        match &triage.access {
            diagnosis::CallerAccess::Authenticated { username, .. } =>
                format!("operator authenticated as {username}"),
            diagnosis::CallerAccess::Unauthorized => "operator locked out (401)".into(),
            diagnosis::CallerAccess::Unknown { reason } =>
                format!("API server not asked: {reason}"),
        },
        if triage.aws_auth.readable {
            format!("{} error(s)", triage.aws_auth.errors)
        } else {
            "not readable".into()
        },
        triage
            .creator
            .as_ref()
            .and_then(|r| r.creator.as_ref())
            .map(|c| c.arn.clone())
            .unwrap_or_else(|| "not found".into())
    ));
    if !g.json() {
        print!("{}", diagnose::render_in_recover(&triage));
    }
    let path = diagnosis::choose(&triage.paths, args.via.map(Via::as_str))
        .map_err(|why| {
            AppError::failed(
                format!("recover cannot get into {}: {why}", args.cluster),
                Some(
                    triage
                        .paths
                        .iter()
                        .map(|p| format!("{} — {}", p.title, p.command))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            )
        })?
        .clone();
    rec.report.path = path.title.clone();
    if path.consent.as_deref() == Some(MODE_CONSENT) && !args.allow_auth_mode_change && !g.dry_run {
        return Err(AppError::usage(
            format!(
                "the way in is an access entry, and {} is in CONFIG_MAP mode: switching to API_AND_CONFIG_MAP is one-way and needs {MODE_CONSENT}",
                args.cluster
            ),
            Some(format!(
                "re-run as `{}` (aws-auth keeps working after the switch){}",
                continue_command(g, args, Some(&path)),
                if triage
                    .paths
                    .iter()
                    .any(|p| p.kind == PathKind::RecreateCreator)
                {
                    format!(
                        ", or try the creator anyway (best effort): `eks-breakglass recover --cluster {} --via creator`",
                        args.cluster
                    )
                } else {
                    String::new()
                }
            )),
        ));
    }
    let target = triage
        .target
        .clone()
        .ok_or_else(|| AppError::failed("no API target", None))?;
    let operator = super::grant::resolve_principal(&ctx, &triage.caller.arn).await?;

    let admins: Vec<String> = args
        .map_admin
        .iter()
        .map(|a| {
            if a == "me" {
                operator.clone()
            } else {
                a.clone()
            }
        })
        .collect();
    let choice = recover::WriteChoice {
        node_roles: &triage.node_roles,
        fix_arns: &args.salvage_fix_arns,
        admins: &admins,
    };

    // The get-in part of the plan.
    let (mut plan, route) = getin_plan(&ctx, &triage, &path, &operator, args).await?;
    plan.command = "recover".into();
    if let Some(n) = role_scope_note(
        &triage.caller.arn,
        &operator,
        &path,
        route.as_ref(),
        &args.map_admin,
        &args.cluster,
    ) {
        plan.notes.push(n);
    }
    let getin_steps = plan.steps.len();

    // The aws-auth the run will write, computed before anything changes whenever the live one
    // can be read without a change (as you, or as the creator role through AssumeRole).
    // When the read assumed the creator role, its session is the get-in credential too: an
    // MFA one-time code is accepted once by STS, so the role is never assumed twice.
    let (before, assumed_before) = read_before(&ctx, &triage, route.as_ref(), &target, args).await;
    let whos = identities(&ctx, &triage, &path, &operator, args).await;
    let planned: Option<(Prepared, Vec<recover::Prediction>)> = match &before {
        LiveRead::Known { live, .. } => {
            let live_obj = live.as_deref().map(cluster_api::object_of);
            let p = recover::prepare(live_obj.as_ref(), from_candidate.clone(), &choice)
                .map_err(|why| refused_candidate(args, &why))?;
            let preds = predictions(&p, &whos);
            Some((p, preds))
        }
        LiveRead::Unknown { .. } => None,
    };
    let write = plan.push(
        format!(
            "restore kube-system/aws-auth of {}: {}",
            args.cluster,
            match (&args.from, &before) {
                (Some(f), _) => format!("from {}", f.display()),
                (None, LiveRead::Known { live: None, .. }) =>
                    "a rebuild (there is no aws-auth): node and Fargate roles, plus each --map-admin".into(),
                (None, LiveRead::Known { .. }) => "salvage of the live one".into(),
                (None, LiveRead::Unknown { .. }) => "salvage of the live one (a rebuild from node roles and --map-admin if there is none)".into(),
            }
        ),
        format!(
            "the lock-out comes from aws-auth; the new one is linted (errors refused), keeps every other key, and maps the cluster's node roles{} so nodes stay Ready",
            if triage.node_roles.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    triage
                        .node_roles
                        .iter()
                        .map(|r| r.arn.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        Action::WriteConfigMap {
            cluster: args.cluster.clone(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: WRITTEN_FILE.into(),
            // Shown only: the real step carries the resourceVersion read after getting in.
            expected_resource_version: Some("(as read after getting in)".into()),
        },
        Undo::RestoreConfigMap {
            cluster: args.cluster.clone(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: Some(BACKUP_FILE.into()),
            written_file: Some(WRITTEN_FILE.into()),
        },
    );
    write.what.push_str(
        " (read as the identity that got in, backed up first, written as a compare-and-swap on the resourceVersion read)",
    );
    let mut then = vec![match &route {
        Some(r) => format!(
            "get credentials as the creator ({}) and prove them by logging in",
            route_name(r)
        ),
        None => "log in as you (retried while the access entry propagates)".into(),
    }];
    then.push(format!(
        "write the aws-auth (step {}), then prove access by logging in: as you{}, and check every node role is mapped in what the cluster loaded",
        getin_steps + 1,
        if args.verify_as.is_empty() {
            String::new()
        } else {
            format!(" and as {}", args.verify_as.join(", "))
        }
    ));
    if plan.steps.iter().any(|s| s.temporary) {
        then.push("delete the temporary credentials (unless --keep)".into());
    }
    then.push("write the incident report (Markdown and JSON) into the run directory".into());
    plan.then = then;

    match (&before, &planned) {
        (LiveRead::Known { read_as, .. }, Some((p, preds))) => {
            say(g, &write_block(getin_steps + 1, read_as, p, preds));
        }
        (LiveRead::Unknown { why }, _) => {
            plan.notes.push(format!(
                "the new aws-auth cannot be computed yet: {why}. It is computed right after getting in (step {}), and shown with who gains which groups and who will get in; the write is made only if it grants no NEW access (or --allow-access-gain) and lets you or a --verify-as identity in (or --force) — otherwise the run stops there and removes its temporary credentials. If aws-auth does not exist, it is rebuilt from the node and Fargate roles{}",
                getin_steps.max(1),
                if admins.is_empty() {
                    " only: add --map-admin me (or a role) to be let in by it".to_string()
                } else {
                    format!(" plus {}", admins.join(", "))
                }
            ));
        }
        _ => {}
    }
    let extra = match &planned {
        Some((p, preds)) => vec![
            (
                "access",
                serde_json::to_value(&p.access).unwrap_or_default(),
            ),
            (
                "needs_consent",
                serde_json::to_value(
                    p.access
                        .unconsented(&args.allow_access_gain)
                        .iter()
                        .map(|c| c.identity.clone())
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default(),
            ),
            (
                "predictions",
                serde_json::to_value(preds).unwrap_or_default(),
            ),
            (
                "nobody_but_the_temporary_identity_gets_in",
                serde_json::Value::Bool(recover::nobody_gets_in(preds)),
            ),
        ],
        None => vec![(
            "access",
            serde_json::json!({"known": false, "why": "the new aws-auth is computed right after getting in"}),
        )],
    };
    plan_ui::show_plan_with(g, &plan, extra);
    if let Some((p, preds)) = &planned {
        // The consents, before any change (and said in --dry-run).
        lockout_gate(g, args, preds)?;
        super::aws_auth_write::access_gate(g, p, &gate(args), "")?;
    }
    if plan_ui::confirm(g, plan.steps.len())? == Decision::DryRun {
        return Ok(exit::OK);
    }
    let dir = plan_ui::run_dir(args.journal_dir.as_deref(), "recover", &args.cluster)?;
    let mut journal =
        plan_ui::start_journal(&dir, &plan, &triage.caller.arn, ctx.profile.as_deref())?;
    rec.report.journal_dir = dir.display().to_string();
    rec.report.undo_command = undo_command(&dir, &args.target, ctx.profile.as_deref());
    rec.report.next_command = Some(continue_command(g, args, Some(&path)));
    eprintln!("journal: {}", dir.display());
    rec.event(format!(
        "plan confirmed: {} change(s), way in: {}",
        plan.steps.len(),
        path.title
    ));

    let interrupt = plan_ui::catch_interrupt();
    let spinner = Spinner::new();
    let status = {
        let s = &spinner;
        Box::new(move |m: &str| s.set(m)) as Box<dyn Fn(&str)>
    };
    let mut runner = AwsRunner::new(&ctx, dir.clone(), interrupt.clone(), status);
    runner.api_target = Some(target.clone());
    let mut run = RunState {
        ctx: &ctx,
        args,
        dir: dir.clone(),
        applied: Vec::new(),
        spinner: &spinner,
        interrupt: interrupt.clone(),
    };

    // Phase 1: get in.
    let mut sub = plan.clone();
    sub.steps.truncate(getin_steps);
    run.apply(&sub, &mut journal, &mut runner, &mut rec).await?;
    let wait = Duration::from_secs(args.wait);
    let (creds, who) = match &route {
        Some(r) => {
            let key = runner.created_keys().last().map(|k| k.credentials.clone());
            let mfa = match (&args.mfa_serial, &args.token_code) {
                (Some(s), Some(c)) => Some(sts::Mfa {
                    serial: s.clone(),
                    code: c.clone(),
                }),
                _ => None,
            };
            let reused = match (r, &assumed_before) {
                (Route::AssumeRole { role_arn, .. }, Some(c)) => {
                    rec.event(format!(
                        "using the session of {role_arn} assumed to read aws-auth before the plan (not assumed again: an MFA code is accepted once)"
                    ));
                    Some(c.clone())
                }
                _ => None,
            };
            let creds = match reused {
                Some(c) => c,
                None => match super::assume_creator::acquire_credentials(
                    &ctx,
                    r,
                    key,
                    mfa.as_ref(),
                    None,
                    wait,
                    &interrupt,
                    &spinner,
                )
                .await
                {
                    Ok(c) => c,
                    Err(e) => return Err(run.fail(&mut journal, &mut runner, &mut rec, e).await),
                },
            };
            let creator = triage
                .creator
                .as_ref()
                .and_then(|c| c.creator.as_ref())
                .map(|c| c.arn.clone())
                .unwrap_or_default();
            (creds, format!("the creator {creator}"))
        }
        None => (ctx.credentials().await?, format!("you ({operator})")),
    };
    let v = plan_ui::verify_at(&target, &triage.cluster, &creds, wait, &interrupt, &spinner).await;
    rec.event(format!("logged in as {who}: {}", v.describe()));
    let _ = journal.record(Event::Note {
        text: format!("get-in verification as {who}: {}", v.describe()),
    });
    match &v {
        Verification::Authenticated { .. } => {}
        Verification::Interrupted => {
            return Err(run.interrupted(&mut journal, &mut runner, &mut rec).await);
        }
        Verification::Refused { .. } => {
            let hint = if matches!(path.kind, PathKind::RecreateCreator) {
                format!(
                    "the cluster refuses the recreated creator (EKS bound it to the old unique id): take the access-entry path: `eks-breakglass recover --cluster {} --via access-entry {MODE_CONSENT}`",
                    args.cluster
                )
            } else {
                format!(
                    "the identity is not let in; check `eks-breakglass diagnose --cluster {}`",
                    args.cluster
                )
            };
            let e = AppError::failed(
                format!("could not get in as {who}: {}", v.describe()),
                Some(hint),
            );
            return Err(run.fail(&mut journal, &mut runner, &mut rec, e).await);
        }
        Verification::Failed { error } => {
            let e = AppError::failed(format!("could not get in as {who}: {error}"), None);
            return Err(run.fail(&mut journal, &mut runner, &mut rec, e).await);
        }
    }
    rec.report
        .identities
        .push(format!("get-in: {who} — {}", v.describe()));
    runner.kube_credentials = Some(creds.clone());

    // Phase 2: the aws-auth write, as the identity that got in: read the live object, prepare
    // the new one with the restore engine, then the compare-and-swap step.
    let client = match cluster_api::client_as(&target, &triage.cluster, &creds) {
        Ok(c) => c,
        Err(e) => return Err(run.fail(&mut journal, &mut runner, &mut rec, e).await),
    };
    let live = match client.get_configmap("aws-auth").await {
        Ok(l) => l,
        Err(e) => {
            return Err(run
                .fail(&mut journal, &mut runner, &mut rec, e.into())
                .await);
        }
    };
    let live_obj = live.as_ref().map(cluster_api::object_of);
    let prepared = match recover::prepare(live_obj.as_ref(), from_candidate.clone(), &choice) {
        Ok(p) => p,
        Err(why) => {
            let e = refused_candidate(args, &why);
            rec.report.next_command = Some(next_after_refusal(args));
            return Err(run.fail(&mut journal, &mut runner, &mut rec, e).await);
        }
    };
    let preds = predictions(&prepared, &whos);
    let diff = diff_summary(&prepared.diff);
    rec.event(format!(
        "new aws-auth prepared: {diff}; access: {}{}",
        prepared.access.summary(),
        if prepared.notes.is_empty() {
            String::new()
        } else {
            format!("; {}", prepared.notes.join("; "))
        }
    ));
    let _ = journal.record(Event::Note {
        text: format!(
            "aws-auth candidate: {}; predicted: {}",
            prepared.access.summary(),
            preds
                .iter()
                .map(|p| format!(
                    "{} {}",
                    p.identity,
                    match p.gets_in {
                        Some(true) => "gets in",
                        Some(false) => "refused",
                        None => "unknown",
                    }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    // What was shown before the confirmation still holds, or the operator sees the new one.
    let shown = planned.as_ref().map(|(p, pr)| {
        (
            restore::diff_signature(&p.diff),
            p.access.clone(),
            pr.clone(),
        )
    });
    let same = shown.as_ref().is_some_and(|(sig, acc, pr)| {
        *sig == restore::diff_signature(&prepared.diff) && *acc == prepared.access && *pr == preds
    });
    if !same {
        if shown.is_some() {
            say(
                g,
                "\nkube-system/aws-auth changed after the plan was shown; the write now is:",
            );
        }
        let block = write_block(getin_steps + 1, &format!("as {who}"), &prepared, &preds);
        if g.json() {
            eprintln!("{block}");
        } else if let Err(e) = super::out(&format!("{block}\n")) {
            return Err(run
                .output_failed(&mut journal, &mut runner, &mut rec, e)
                .await);
        }
        // The questions asked here come while the run holds temporary access: Ctrl-C,
        // SIGTERM or SIGHUP at them undoes the run (the temporary key is removed, journaled).
        let pending = lockout_gate(g, args, &preds).and_then(|()| {
            super::aws_auth_write::access_gate_pending(g, &prepared, &gate(args), "")
        });
        let gates = match pending {
            Ok(gains) if !gains.is_empty() => {
                plan_ui::ask_access_gain(&gains);
                match plan_ui::read_answer_interruptible(&interrupt).await {
                    Ok(plan_ui::Typed::Stopped) => {
                        return Err(run.interrupted(&mut journal, &mut runner, &mut rec).await);
                    }
                    Ok(plan_ui::Typed::Line(a)) if a.trim() == "allow" => Ok(()),
                    Ok(plan_ui::Typed::Line(_)) => Err(plan_ui::access_gain_refusal(&gains, "")),
                    Err(e) => Err(e),
                }
            }
            other => other.map(|_| ()),
        };
        let gates = match gates {
            Ok(()) if !g.yes => {
                use std::io::{IsTerminal as _, Write as _};
                if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
                    eprint!("\nWrite this aws-auth? Only 'yes' is accepted: ");
                    let _ = std::io::stderr().flush();
                    match plan_ui::read_answer_interruptible(&interrupt).await {
                        Ok(plan_ui::Typed::Stopped) => {
                            return Err(run.interrupted(&mut journal, &mut runner, &mut rec).await);
                        }
                        Ok(plan_ui::Typed::Line(a)) if a.trim() == "yes" => Ok(()),
                        Ok(plan_ui::Typed::Line(_)) => Err(AppError::failed(
                            "not confirmed: aws-auth was not written",
                            Some("re-run and answer 'yes', or pass --yes".to_string()),
                        )),
                        Err(e) => Err(e),
                    }
                } else {
                    plan_ui::confirm(g, 1).map(|_| ())
                }
            }
            other => other,
        };
        if let Err(e) = gates {
            rec.report.next_command = Some(match &e {
                // The same run, with a consent that names each gain still refused: the
                // operator decides whether it is meant (the file itself lints clean).
                AppError::AccessGainNotAllowed(_) => format!(
                    "{} --yes {}   # only if these gains are meant; otherwise fix the source",
                    continue_command(g, args, Some(&path)),
                    prepared
                        .access
                        .unconsented(&args.allow_access_gain)
                        .iter()
                        .map(|c| format!("--allow-access-gain {}", c.identity))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                _ => next_after_refusal(args),
            });
            return Err(run.fail(&mut journal, &mut runner, &mut rec, e).await);
        }
    }
    let mut step = plan.steps[getin_steps].clone();
    step.action = Action::WriteConfigMap {
        cluster: args.cluster.clone(),
        namespace: "kube-system".into(),
        name: "aws-auth".into(),
        desired_file: WRITTEN_FILE.into(),
        expected_resource_version: live
            .as_ref()
            .and_then(|c| c.metadata.resource_version.clone()),
    };
    step.undo = Undo::RestoreConfigMap {
        cluster: args.cluster.clone(),
        namespace: "kube-system".into(),
        name: "aws-auth".into(),
        previous_file: live.as_ref().map(|_| BACKUP_FILE.to_string()),
        written_file: Some(WRITTEN_FILE.into()),
    };
    if let Some(cm) = &live {
        step.saves.push(SavedState {
            file: BACKUP_FILE.into(),
            description: "the aws-auth before the write, as read".into(),
            content: cluster_api::configmap_json(cm),
        });
        rec.report.backups.push(BACKUP_FILE.into());
    }
    step.saves.push(SavedState {
        file: WRITTEN_FILE.into(),
        description: "the aws-auth the run writes".into(),
        content: cluster_api::configmap_json(&cluster_api::configmap_of(
            "aws-auth",
            &prepared.object,
        )),
    });
    rec.report.backups.push(WRITTEN_FILE.into());
    let mut sub = plan.clone();
    sub.steps = vec![step];
    run.apply(&sub, &mut journal, &mut runner, &mut rec).await?;

    // Verification by doing.
    verify_all(
        &run,
        &triage,
        &target,
        &client,
        &prepared.object,
        &preds,
        &mut rec,
    )
    .await;
    if interrupt.is_set() {
        // Ctrl-C/SIGTERM/SIGHUP while proving access: the temporary credentials go as
        // promised; the aws-auth write is the fix and stays (a rollback is asked by name).
        rec.event("interrupted during verification: removing temporary credentials");
        let lines = run
            .end_temporary(&mut journal, &mut runner, &mut rec)
            .await?;
        for l in &lines {
            eprintln!("{l}");
        }
        rec.report.cleaned_up.extend(lines);
        rec.report.status = "interrupted".into();
        let _ = journal.record(Event::RunFinished {
            status: "interrupted".into(),
        });
        finish_report(&ctx, &dir, &mut rec);
        eprintln!(
            "interrupted during verification: temporary credentials removed; the restored aws-auth stays (roll it back with `{} --rollback`)",
            rec.report.undo_command
        );
        return Err(AppError::Interrupted);
    }

    // Temporary credentials go.
    let lines = run
        .end_temporary(&mut journal, &mut runner, &mut rec)
        .await?;
    rec.report.cleaned_up.extend(lines);
    let all_ok = rec.report.checks.iter().all(|c| c.ok);
    rec.report.status = if all_ok {
        "recovered"
    } else {
        "restored_unverified"
    }
    .into();
    rec.report.next_command = if all_ok {
        None
    } else {
        Some(format!(
            "eks-breakglass diagnose --cluster {}",
            args.cluster
        ))
    };
    rec.event(format!("run finished: {}", rec.report.status));
    let _ = journal.record(Event::RunFinished {
        status: rec.report.status.clone(),
    });
    finish_report(&ctx, &dir, &mut rec);
    let error = (!all_ok).then(|| {
        AppError::failed(
            "aws-auth was restored but not every identity could log in (see the checks above)",
            Some(format!(
                "read {} and run `eks-breakglass diagnose --cluster {}`; undo with `{}`",
                dir.join(REPORT_MD).display(),
                args.cluster,
                rec.report.undo_command
            )),
        )
    });
    // The run has ended (temporary credentials gone): a closed stdout only ends the process.
    if g.json() {
        // One document: the error, if any, goes into it.
        let mut doc = serde_json::json!({"report": rec.report, "plan": plan, "triage": triage, "access": prepared.access, "predicted": preds});
        let error = error.map(|e| e.into_result(&mut doc));
        super::out(&format!("{doc}\n"))?;
        return error.map_or(Ok(exit::OK), Err);
    }
    super::out(&format!("\n{}\n", summary(&rec.report)))?;
    error.map_or(Ok(exit::OK), Err)
}

/// The live aws-auth as far as it can be known before the first change.
enum LiveRead {
    /// Read (`None`: there is no aws-auth), and as whom.
    Known {
        live: Option<Box<ConfigMap>>,
        read_as: String,
    },
    /// Reading it needs a change first (you are locked out; getting in changes IAM or EKS).
    Unknown { why: String },
}

/// Reads the live aws-auth without changing anything: as you when you are in, or as the
/// creator role when its trust policy already lets you assume it (AssumeRole changes nothing).
/// Returns the creator role's session when it was assumed, for the get-in step to reuse.
async fn read_before(
    ctx: &AwsContext,
    t: &Triage,
    route: Option<&Route>,
    target: &ApiTarget,
    args: &RecoverArgs,
) -> (LiveRead, Option<aws_credential_types::Credentials>) {
    let mut assumed = None;
    let read = read_before_as(ctx, t, route, target, args, &mut assumed).await;
    (read, assumed)
}

async fn read_before_as(
    ctx: &AwsContext,
    t: &Triage,
    route: Option<&Route>,
    target: &ApiTarget,
    args: &RecoverArgs,
    assumed: &mut Option<aws_credential_types::Credentials>,
) -> LiveRead {
    let you_in = matches!(
        t.access,
        diagnosis::CallerAccess::Authenticated {
            can_read_aws_auth: true,
            ..
        }
    ) || matches!(route, Some(Route::AlreadyCreator));
    let (creds, read_as) = if you_in {
        match ctx.credentials().await {
            Ok(c) => (c, format!("as you ({})", t.caller.arn)),
            Err(e) => {
                return LiveRead::Unknown {
                    why: format!("your credentials: {e}"),
                };
            }
        }
    } else if let Some(Route::AssumeRole {
        role_arn,
        mfa_required,
        ..
    }) = route
    {
        let mfa = match (&args.mfa_serial, &args.token_code) {
            (Some(s), Some(c)) => Some(sts::Mfa {
                serial: s.clone(),
                code: c.clone(),
            }),
            _ => None,
        };
        if *mfa_required && mfa.is_none() {
            return LiveRead::Unknown {
                why: format!("assuming {role_arn} needs MFA (--mfa-serial, --token-code)"),
            };
        }
        match sts::assume_role(
            ctx,
            role_arn,
            &sts::session_name_for_operator(),
            None,
            mfa.as_ref(),
        )
        .await
        {
            Ok(c) => {
                *assumed = Some(c.clone());
                (
                    c,
                    format!("as the creator role {role_arn} (AssumeRole: no change)"),
                )
            }
            Err(e) => {
                return LiveRead::Unknown {
                    why: format!("assuming {role_arn} to read it failed: {e}"),
                };
            }
        }
    } else {
        return LiveRead::Unknown {
            why: "you are locked out, and the way in changes IAM or EKS first".into(),
        };
    };
    let client = match cluster_api::client_as(target, &t.cluster, &creds) {
        Ok(c) => c,
        Err(e) => {
            return LiveRead::Unknown { why: e.to_string() };
        }
    };
    match client.get_configmap("aws-auth").await {
        Ok(live) => LiveRead::Known {
            live: live.map(Box::new),
            read_as,
        },
        Err(e) => LiveRead::Unknown {
            why: format!("reading it {read_as} failed: {e}"),
        },
    }
}

/// Whether `principal` has an access entry (only asked when the mode honours them).
async fn has_access_entry(ctx: &AwsContext, t: &Triage, principal: &str) -> bool {
    t.cluster.effective_auth_mode().allows_access_entries()
        && matches!(
            access::describe_access_entry(ctx, &t.cluster.name, principal).await,
            Ok(Some(_))
        )
}

/// The identities whose access after the write is predicted: you, and each --verify-as.
async fn identities(
    ctx: &AwsContext,
    t: &Triage,
    path: &RecoveryPath,
    operator: &str,
    args: &RecoverArgs,
) -> Vec<recover::Who> {
    let outside = if path.kind == PathKind::AccessEntry {
        Some(format!("the access entry this run creates for {operator}"))
    } else if has_access_entry(ctx, t, operator).await {
        Some(format!("the access entry of {operator}"))
    } else if t
        .creator
        .as_ref()
        .and_then(|r| r.creator.as_ref())
        .is_some_and(|c| {
            t.cluster.bootstrap_creator_admin != Some(false) && c.arn.eq_ignore_ascii_case(operator)
        })
    {
        Some("the cluster creator's implicit admin".to_string())
    } else {
        None
    };
    let mut out = vec![recover::Who {
        role: "operator",
        caller_arn: t.caller.arn.clone(),
        account: t.caller.account.clone(),
        outside_aws_auth: outside,
    }];
    for role in &args.verify_as {
        let Some((arn, account)) = recover::session_of(role) else {
            continue;
        };
        let outside = has_access_entry(ctx, t, role)
            .await
            .then(|| format!("the access entry of {role}"));
        out.push(recover::Who {
            role: "verify-as",
            caller_arn: arn,
            account,
            outside_aws_auth: outside,
        });
    }
    out
}

fn predictions(p: &Prepared, whos: &[recover::Who]) -> Vec<recover::Prediction> {
    whos.iter()
        .map(|w| recover::predict(&p.analysis.effective, w))
        .collect()
}

/// The aws-auth write as people read it: what changes for whom, and who gets in afterwards.
fn write_block(step: usize, read_as: &str, p: &Prepared, preds: &[recover::Prediction]) -> String {
    let mut s = format!(
        "\nThe aws-auth write (step {step}), computed from the live aws-auth read {read_as}:\n  entries: {}\n",
        diff_summary(&p.diff)
    );
    s.push_str(&format!(
        "  who gains or loses access: {}\n",
        p.access.summary()
    ));
    for l in p.access.lines() {
        s.push_str(&format!("    {l}\n"));
    }
    for n in &p.notes {
        s.push_str(&format!("  - {n}\n"));
    }
    s.push_str("  after the write (predicted):\n");
    for pr in preds {
        s.push_str(&format!(
            "    {} {} {}: {}\n",
            match pr.gets_in {
                Some(true) => "gets in ",
                Some(false) => "REFUSED ",
                None => "unknown ",
            },
            pr.role,
            pr.identity,
            pr.how
        ));
    }
    s
}

/// Text for people: stdout, or stderr when stdout is JSON.
fn say(g: &Globals, text: &str) {
    if g.json() {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
}

fn gate(args: &RecoverArgs) -> super::aws_auth_write::AccessGate {
    super::aws_auth_write::AccessGate::On {
        allowed: args.allow_access_gain.clone(),
    }
}

/// Refuses (without --force) a write after which nobody but the temporary identity gets in.
fn lockout_gate(
    g: &Globals,
    args: &RecoverArgs,
    preds: &[recover::Prediction],
) -> Result<(), AppError> {
    if !recover::nobody_gets_in(preds) || args.force {
        return Ok(());
    }
    let who = preds
        .iter()
        .map(|p| format!("{} ({})", p.identity, p.how))
        .collect::<Vec<_>>()
        .join("; ");
    let options = format!(
        "choose before any change: `--map-admin me` (or a role ARN) to be mapped to system:masters in the new aws-auth; \
         `--from FILE` with a known-good aws-auth that maps you; the access-entry route (`eks-breakglass recover --cluster {} --via access-entry`); \
         or --force to write it anyway",
        args.cluster
    );
    if g.dry_run {
        say(
            g,
            &format!(
                "\nA real run REFUSES this write: after it, nobody but the temporary identity would get in ({who}).\n{options}"
            ),
        );
        return Ok(());
    }
    Err(AppError::failed(
        format!(
            "refused: after this aws-auth write nobody but the temporary identity would get in — {who}; nothing of aws-auth was written"
        ),
        Some(options),
    ))
}

/// A candidate that cannot be written.
fn refused_candidate(args: &RecoverArgs, why: &str) -> AppError {
    AppError::failed(
        format!("nothing written: {why}"),
        Some(match &args.from {
            Some(f) => format!(
                "check {} with `eks-breakglass aws-auth lint {}`, fix it, and run recover again",
                f.display(),
                f.display()
            ),
            None => "pass --from FILE with a known-good aws-auth (a backup, a snapshot export); `eks-breakglass aws-auth salvage --cluster NAME` shows what salvage recovers and loses".to_string(),
        }),
    )
}

/// The next command after a refused write: never the same command again.
fn next_after_refusal(args: &RecoverArgs) -> String {
    match &args.from {
        Some(f) => format!(
            "eks-breakglass aws-auth lint {}   # fix what it reports, then run recover again",
            f.display()
        ),
        None => format!(
            "eks-breakglass diagnose --cluster {}   # then recover with --from FILE, --map-admin, --allow-access-gain or --force, as the refusal says",
            args.cluster
        ),
    }
}

/// A --from file that would be refused: said before anything else runs.
fn bad_file(f: &Path, why: &str) -> AppError {
    AppError::usage(
        format!("{}: {why}; nothing was changed", f.display()),
        Some(format!(
            "check it with `eks-breakglass aws-auth lint {}` and fix it, or leave out --from to salvage the live aws-auth",
            f.display()
        )),
    )
}

/// When you act through a session of a role, access entries and trust statements name the
/// role: say that plainly.
fn role_scope_note(
    caller: &str,
    principal: &str,
    path: &RecoveryPath,
    route: Option<&Route>,
    map_admin: &[String],
    cluster: &str,
) -> Option<String> {
    let what = if path.kind == PathKind::AccessEntry {
        "the access entry (cluster admin)"
    } else if matches!(route, Some(Route::PatchTrust { .. })) {
        "the trust statement on the creator role"
    } else if map_admin.iter().any(|a| a == "me") {
        "the --map-admin me entry (system:masters)"
    } else {
        return None;
    };
    getin::session_scope_note(caller, principal, what, cluster)
}

/// The cleanup command of the run: the journal, and the tunnel the run used (the aws-auth undo
/// goes through it too).
fn undo_command(dir: &Path, t: &TargetArgs, profile: Option<&str>) -> String {
    let mut s = plan_ui::cleanup_command(dir, profile);
    if let Some(a) = &t.api_server {
        s.push_str(&format!(" --api-server {a}"));
        if let Some(n) = &t.tls_server_name {
            s.push_str(&format!(" --tls-server-name {n}"));
        }
        if let Some(c) = &t.ca_file {
            s.push_str(&format!(" --ca-file {}", c.display()));
        }
    }
    s
}

fn route_name(r: &Route) -> &'static str {
    match r {
        Route::AlreadyCreator => "you are the creator",
        Route::AssumeRole { .. } => "AssumeRole",
        Route::PatchTrust { .. } => "AssumeRole after a trust statement",
        Route::TemporaryKey { .. } => "a temporary access key",
        Route::RecreateUser { .. } => "a recreated user's key",
        Route::RecreateRole { .. } => "AssumeRole of the recreated role",
        Route::KeyLimit { .. } | Route::Instructions { .. } => "none",
    }
}

/// The get-in plan of `path`, and the creator route when it goes through the creator.
async fn getin_plan(
    ctx: &AwsContext,
    t: &Triage,
    path: &RecoveryPath,
    operator: &str,
    args: &RecoverArgs,
) -> Result<(Plan, Option<Route>), AppError> {
    let cluster = &t.cluster;
    match path.kind {
        PathKind::AlreadyIn => Ok((Plan::new("recover", &cluster.name, &ctx.region), None)),
        PathKind::AccessEntry => {
            let mode = cluster.effective_auth_mode();
            let (entry_exists, (associated, namespace_scoped), stale_entry) = if mode
                .allows_access_entries()
            {
                match access::describe_access_entry(ctx, &cluster.name, operator).await? {
                    Some(entry) => (
                        true,
                        access::associated_policies_by_scope(ctx, &cluster.name, operator).await?,
                        super::grant::stale_entry(ctx, operator, &entry).await?,
                    ),
                    None => (false, Default::default(), None),
                }
            } else {
                (false, Default::default(), None)
            };
            let mut plan = getin::grant_plan(&GrantFacts {
                cluster: cluster.name.clone(),
                region: ctx.region.clone(),
                partition: ctx.partition().to_string(),
                auth_mode: mode,
                principal_arn: operator.to_string(),
                entry_exists,
                associated,
                namespace_scoped,
                stale_entry,
            });
            plan.then.clear();
            plan.notes.push(
                "the access entry stays after the run (AWS's recommended break-glass); `cleanup` removes it"
                    .into(),
            );
            Ok((plan, None))
        }
        PathKind::BecomeCreator | PathKind::RecreateCreator => {
            let report = t.creator.as_ref().ok_or_else(|| {
                AppError::failed(
                    "the creator is unknown",
                    Some(format!(
                        "run `eks-breakglass creator --cluster {}`",
                        cluster.name
                    )),
                )
            })?;
            let creator = report.creator.as_ref().ok_or_else(|| {
                AppError::failed(
                    format!(
                        "the creator of {} could not be found: {}",
                        cluster.name, report.verdict.reason
                    ),
                    Some(format!(
                        "use `eks-breakglass recover --cluster {} --via access-entry`",
                        cluster.name
                    )),
                )
            })?;
            let is_role = creator.arn.contains(":role/");
            let name = creator.name.clone().unwrap_or_default();
            let trust_document = if is_role && !name.is_empty() {
                match iam::get_role(ctx, &name).await {
                    Ok(r) => r.and_then(|r| r.trust_policy),
                    Err(e) if e.kind == AwsErrorKind::AccessDenied => None,
                    Err(e) => return Err(e.into()),
                }
            } else {
                None
            };
            let keys: Option<Vec<String>> = if !is_role && !name.is_empty() {
                iam::list_access_keys(ctx, &name)
                    .await
                    .ok()
                    .map(|k| k.into_iter().map(|k| k.access_key_id).collect())
            } else {
                None
            };
            let route = getin::choose_route(&Facts {
                creator,
                status: report.status.as_ref(),
                trust_document: trust_document.as_deref(),
                access_keys: keys.as_deref(),
            });
            let mut plan = getin::assume_creator_plan(
                &route,
                &cluster.name,
                &ctx.region,
                &GetInOptions {
                    operator_arn: operator.to_string(),
                    require_mfa: false,
                    keep: args.keep,
                    cluster_arn: cluster.arn.clone(),
                    run_id: crate::recovery::journal::new_run_id(Utc::now()),
                },
            )
            .map_err(|why| {
                AppError::failed(
                    format!("cannot become the creator {}: {why}", creator.arn),
                    Some(format!(
                        "take the access-entry path: `eks-breakglass recover --cluster {} --via access-entry`",
                        cluster.name
                    )),
                )
            })?;
            // In recover, everything the creator route changes is temporary: the run ends
            // with aws-auth repaired, and the creator's key or trust statement must not stay.
            if !args.keep {
                for s in &mut plan.steps {
                    s.temporary = true;
                }
            }
            plan.then.clear();
            Ok((plan, Some(route)))
        }
        PathKind::Manual => Err(AppError::failed(
            format!("no automatic way into {}: {}", cluster.name, path.reason),
            Some(path.command.clone()),
        )),
    }
}

/// Proves access by logging in, and checks what the cluster loaded.
async fn verify_all(
    run: &RunState<'_>,
    t: &Triage,
    target: &ApiTarget,
    client: &KubeClient,
    written: &AwsAuthObject,
    preds: &[recover::Prediction],
    rec: &mut Record,
) {
    let wait = Duration::from_secs(run.args.wait);
    // A refusal the prediction expects is checked once, not retried for --wait seconds.
    let wait_for = |role: &str, identity: &str| {
        let refused = preds.iter().any(|p| {
            p.role == role
                && p.gets_in == Some(false)
                && (role == "operator" || p.identity == identity)
        });
        if refused { Duration::ZERO } else { wait }
    };
    // What the cluster holds now, read back and compared with the prediction.
    match client.get_configmap("aws-auth").await {
        Ok(Some(cm)) => {
            let reread = cluster_api::object_of(&cm);
            let problems = restore::check_written(written, &reread);
            rec.report.checks.push(Check {
                identity: "kube-system/aws-auth".into(),
                ok: problems.is_empty(),
                detail: if problems.is_empty() {
                    "read back: the effective mapping the cluster holds equals the prediction, nothing else changed".into()
                } else {
                    problems.join("; ")
                },
            });
            let effective = reread.mapping();
            for r in &t.node_roles {
                let ok = node_role_mapped(&effective, &r.arn);
                rec.report.checks.push(Check {
                    identity: r.arn.clone(),
                    ok,
                    detail: if ok {
                        format!(
                            "node role ({}) mapped in the aws-auth the cluster loaded",
                            r.source
                        )
                    } else {
                        format!(
                            "node role ({}) NOT mapped with the node groups: its nodes cannot join",
                            r.source
                        )
                    },
                });
            }
        }
        Ok(None) => rec.report.checks.push(Check {
            identity: "kube-system/aws-auth".into(),
            ok: false,
            detail: "aws-auth does not exist after the write".into(),
        }),
        Err(e) => rec.report.checks.push(Check {
            identity: "kube-system/aws-auth".into(),
            ok: false,
            detail: format!("cannot read it back: {e}"),
        }),
    }
    // The operator, with the identity they run everything else with.
    match run.ctx.credentials().await {
        Ok(c) => {
            let v = plan_ui::verify_at(
                target,
                &t.cluster,
                &c,
                wait_for("operator", ""),
                &run.interrupt,
                run.spinner,
            )
            .await;
            rec.event(format!("verified as the operator: {}", v.describe()));
            // Getting in means the rights to check and repair aws-auth, not only a login.
            let ok = v.has_recovery_rights();
            rec.report.checks.push(Check {
                identity: t.caller.arn.clone(),
                ok,
                detail: if v.is_authenticated() && !ok {
                    format!(
                        "{} — NOT recovered: you authenticate but cannot read and update kube-system/aws-auth (no system:masters, no RBAC binding for it)",
                        v.describe()
                    )
                } else {
                    v.describe()
                },
            });
        }
        Err(e) => rec.report.checks.push(Check {
            identity: t.caller.arn.clone(),
            ok: false,
            detail: e.to_string(),
        }),
    }
    for role in &run.args.verify_as {
        let v = match sts::assume_role(run.ctx, role, &sts::session_name_for_operator(), None, None)
            .await
        {
            Ok(c) => {
                let w = wait_for(
                    "verify-as",
                    &recover::session_of(role).map(|s| s.0).unwrap_or_default(),
                );
                plan_ui::verify_at(target, &t.cluster, &c, w, &run.interrupt, run.spinner).await
            }
            Err(e) => Verification::Failed {
                error: format!("cannot assume {role}: {e}"),
            },
        };
        rec.event(format!("verified as {role}: {}", v.describe()));
        rec.report.identities.push(format!("verify-as: {role}"));
        rec.report.checks.push(Check {
            identity: role.clone(),
            ok: v.is_authenticated(),
            detail: v.describe(),
        });
    }
}

/// The run in progress: what every exit path needs.
struct RunState<'a> {
    ctx: &'a AwsContext,
    args: &'a RecoverArgs,
    dir: PathBuf,
    applied: Vec<Applied>,
    spinner: &'a Spinner,
    interrupt: Interrupt,
}

impl RunState<'_> {
    async fn apply(
        &mut self,
        sub: &Plan,
        journal: &mut Journal,
        runner: &mut AwsRunner<'_>,
        rec: &mut Record,
    ) -> Result<(), AppError> {
        if sub.steps.is_empty() {
            return Ok(());
        }
        let report = plan::apply(sub, journal, runner, &self.interrupt)
            .await
            .map_err(|e| plan_ui::journal_io(&self.dir, e))?;
        self.spinner.done();
        for a in &report.applied {
            if let Some(step) = sub.steps.iter().find(|s| s.id == a.step) {
                let facts = report
                    .facts
                    .get(&a.step)
                    .map(|f| {
                        f.iter()
                            .filter(|(k, _)| !k.starts_with("salvage_note"))
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                rec.event(format!(
                    "step {} done: {}{}",
                    step.id,
                    step.what,
                    if facts.is_empty() {
                        String::new()
                    } else {
                        format!(" ({facts})")
                    }
                ));
                rec.report.changes.push(format!(
                    "step {}: {}{} — undo: {}",
                    step.id,
                    step.what,
                    if a.uncertain {
                        " (outcome unknown)"
                    } else {
                        ""
                    },
                    a.undo.describe()
                ));
            }
        }
        self.applied.extend(report.applied.clone());
        match report.outcome {
            Outcome::Applied => Ok(()),
            Outcome::Interrupted { .. } => Err(self.interrupted(journal, runner, rec).await),
            Outcome::Failed { step, error } => {
                let what = sub
                    .steps
                    .iter()
                    .find(|s| s.id == step)
                    .map(|s| s.what.clone())
                    .unwrap_or_default();
                let denied = error
                    .denied_action
                    .as_deref()
                    .map(|a| format!(" (denied: {a})"))
                    .unwrap_or_default();
                let e = AppError::failed(
                    format!("step {step} ({what}) failed{denied}: {}", error.message),
                    error.hint.clone(),
                );
                Err(self.fail(journal, runner, rec, e).await)
            }
        }
    }

    /// Deletes temporary credentials (unless --keep); returns what was done.
    async fn end_temporary(
        &mut self,
        journal: &mut Journal,
        runner: &mut AwsRunner<'_>,
        rec: &mut Record,
    ) -> Result<Vec<String>, AppError> {
        if self.args.keep {
            return Ok(self
                .applied
                .iter()
                .filter(|a| a.temporary || matches!(a.undo, Undo::DeleteAccessKey { .. }))
                .map(|a| format!("kept (--keep): {}", a.undo.describe()))
                .collect());
        }
        let temp: Vec<Applied> = self
            .applied
            .iter()
            .filter(|a| a.temporary)
            .cloned()
            .collect();
        if temp.is_empty() {
            return Ok(Vec::new());
        }
        let undone = plan::undo_all(&temp, journal, runner)
            .await
            .map_err(|e| plan_ui::journal_io(&self.dir, e))?;
        let lines = plan_ui::undo_lines(&undone);
        for l in &lines {
            rec.event(format!("cleanup: {l}"));
        }
        self.applied.retain(|a| !a.temporary);
        Ok(lines)
    }

    /// A failure after the first change: temporary credentials go, the rest stays undoable;
    /// the report is written and the error says what changed and how to undo or continue.
    async fn fail(
        &mut self,
        journal: &mut Journal,
        runner: &mut AwsRunner<'_>,
        rec: &mut Record,
        e: AppError,
    ) -> AppError {
        self.spinner.done();
        rec.event(format!("failed: {e}"));
        match self.end_temporary(journal, runner, rec).await {
            Ok(lines) => rec.report.cleaned_up.extend(lines),
            Err(err) => return err,
        }
        let _ = journal.record(Event::RunFinished {
            status: "failed".into(),
        });
        rec.report.status = "failed".into();
        rec.report.error = Some(e.to_string());
        finish_report(self.ctx, &self.dir, rec);
        let changed: Vec<String> = self
            .applied
            .iter()
            .map(|a| format!("step {} (undo: {})", a.step, a.undo.describe()))
            .collect();
        eprintln!("\nrecover stopped: {e}");
        if let Some(h) = e.hint() {
            eprintln!("  why/what to do: {h}");
        }
        eprintln!(
            "  changed so far: {}",
            if rec.report.changes.is_empty() {
                "nothing".to_string()
            } else {
                rec.report.changes.join("; ")
            }
        );
        if !rec.report.cleaned_up.is_empty() {
            eprintln!("  removed again: {}", rec.report.cleaned_up.join("; "));
        }
        eprintln!(
            "  still in place: {}",
            if changed.is_empty() {
                "nothing".into()
            } else {
                changed.join("; ")
            }
        );
        eprintln!("  undo:     {}", rec.report.undo_command);
        eprintln!(
            "  continue: {}",
            rec.report.next_command.clone().unwrap_or_default()
        );
        eprintln!("  report:   {}", self.dir.join(REPORT_MD).display());
        // A refusal for want of consent keeps its exit code (4), wherever it happens: the
        // same refusal before getting in and after.
        match e {
            AppError::AccessGainNotAllowed(m) => AppError::AccessGainNotAllowed(format!(
                "recover of {} stopped before writing aws-auth: {m}",
                self.args.cluster
            )),
            AppError::NeedsConfirmation(m) => AppError::NeedsConfirmation(format!(
                "recover of {} stopped before writing aws-auth: {m}",
                self.args.cluster
            )),
            e => AppError::failed(
                format!("recover of {} failed: {e}", self.args.cluster),
                Some(format!(
                    "undo with `{}`, or fix the cause and continue with `{}`",
                    rec.report.undo_command,
                    rec.report.next_command.clone().unwrap_or_default()
                )),
            ),
        }
    }

    /// Printing failed mid-run: a closed stdout is treated as Ctrl-C (everything the run did is
    /// undone, the journal says `interrupted`) and ends with exit 141; any other write error
    /// is a failure.
    async fn output_failed(
        &mut self,
        journal: &mut Journal,
        runner: &mut AwsRunner<'_>,
        rec: &mut Record,
        e: AppError,
    ) -> AppError {
        if !matches!(e, AppError::StdoutClosed) {
            return self.fail(journal, runner, rec, e).await;
        }
        rec.event("standard output closed: undoing the run's changes as on Ctrl-C");
        match self.interrupted(journal, runner, rec).await {
            AppError::Interrupted => AppError::StdoutClosed,
            other => other,
        }
    }

    /// Ctrl-C: undo everything the run did, write the report.
    async fn interrupted(
        &mut self,
        journal: &mut Journal,
        runner: &mut AwsRunner<'_>,
        rec: &mut Record,
    ) -> AppError {
        self.spinner.done();
        rec.event("interrupted (Ctrl-C): undoing the run's changes");
        let applied = self.applied.clone();
        match plan::undo_all(&applied, journal, runner).await {
            Ok(undone) => {
                for l in plan_ui::undo_lines(&undone) {
                    eprintln!("{l}");
                    rec.report.cleaned_up.push(l);
                }
            }
            Err(e) => return plan_ui::journal_io(&self.dir, e),
        }
        let _ = journal.record(Event::RunFinished {
            status: "interrupted".into(),
        });
        rec.report.status = "interrupted".into();
        finish_report(self.ctx, &self.dir, rec);
        eprintln!("journal: {}", self.dir.display());
        AppError::Interrupted
    }
}

/// Fills the call counts and the end time, and writes the report files (0600).
fn finish_report(ctx: &AwsContext, dir: &Path, rec: &mut Record) {
    rec.report.finished_at = Utc::now();
    rec.report.aws_calls = ctx.calls.counts_by_service();
    rec.report.aws_calls_total = rec.report.aws_calls.values().sum();
    let md = rec.report.markdown();
    let json = serde_json::to_string_pretty(&rec.report).unwrap_or_default();
    for (name, body) in [(REPORT_MD, md), (REPORT_JSON, json)] {
        if let Err(e) = crate::kubeconfig::write_private_atomic(&dir.join(name), body.as_bytes()) {
            eprintln!(
                "warning: cannot write the report {}: {e}",
                dir.join(name).display()
            );
        }
    }
}

fn summary(r: &IncidentReport) -> String {
    let mut s = format!(
        "Recover of {}: {} in {:.1} s\n",
        r.cluster,
        r.status.to_uppercase(),
        (r.finished_at - r.started_at).num_milliseconds() as f64 / 1000.0
    );
    for c in &r.checks {
        s.push_str(&format!(
            "  {} {}: {}\n",
            if c.ok { "ok  " } else { "FAIL" },
            c.identity,
            c.detail
        ));
    }
    for l in &r.cleaned_up {
        s.push_str(&format!("  cleanup: {l}\n"));
    }
    s.push_str(&format!(
        "AWS calls: {} ({})\n",
        r.aws_calls_total,
        r.aws_calls
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s.push_str(&format!("Report:  {}/{}\n", r.journal_dir, REPORT_MD));
    s.push_str(&format!("Backup:  {}/{}\n", r.journal_dir, BACKUP_FILE));
    s.push_str(&format!(
        "Undo:    {} --rollback   (puts the earlier aws-auth back; plain cleanup keeps the fix)\n",
        r.undo_command
    ));
    s
}

/// Who gains, loses or changes access, in one line.
fn diff_summary(d: &crate::awsauth::MappingDiff) -> String {
    let names = |v: &[crate::awsauth::diff::DiffEntry]| {
        v.iter()
            .map(|e| e.arn.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = format!(
        "roles +{} -{} ~{}, users +{} -{} ~{}",
        d.roles.added.len(),
        d.roles.removed.len(),
        d.roles.changed.len(),
        d.users.added.len(),
        d.users.removed.len(),
        d.users.changed.len()
    );
    for (label, v) in [
        ("roles added", &d.roles.added),
        ("users added", &d.users.added),
        ("roles removed", &d.roles.removed),
        ("users removed", &d.users.removed),
    ] {
        if !v.is_empty() {
            s.push_str(&format!("; {label}: {}", names(v)));
        }
    }
    s
}
