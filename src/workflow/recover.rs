//! `recover`, the whole incident as one use case: from what triage found, choose the way in,
//! plan it with the aws-auth write, have it confirmed once, get in, write aws-auth as the
//! identity that got in, prove it by logging in, remove what was temporary, and return the
//! incident report. The command parses, runs triage, and renders what this returns.
//!
//! ONE plan is shown (get-in steps, the aws-auth write, what runs after), confirmed once, and
//! applied in two phases with one journal: first the get-in steps, then — with the credentials
//! they produced — the aws-auth write. Every exit after the first change says what was changed
//! and the exact command to undo it (`cleanup --journal DIR`) or to continue; the incident
//! report (Markdown and JSON) is written into the run directory whatever the outcome.
//!
//! The aws-auth it writes is never a surprise. Whenever the live aws-auth can be read without a
//! change (you are in, or the creator role trusts you and AssumeRole is enough), the complete
//! candidate, who gains which groups on whose word, and who will get in afterwards are computed
//! and shown before the confirmation and in `--dry-run`, and the consents they need are asked
//! there: `--allow-access-gain ARN` naming each NEW gain, `--force` for a write after which
//! nobody but the temporary identity gets in. When reading it needs a change first (locked out,
//! the way in creates a key or an access entry), the plan says so and the same rules are
//! applied right after getting in, before the write; a refusal then removes the temporary
//! credentials.
//!
//! Everything it needs from the world comes through ports (`crate::ports`): the decisions are
//! the small functions below, and every route is unit-tested with in-memory ports
//! (`recover/tests.rs`).

use super::getin as getin_flow;
use crate::awsauth::principal::{ArnShape, classify};
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::ports::cluster::{RunnerExt, Session};
use crate::ports::eks_access::EksAccess;
use crate::ports::iam::{Iam, Mfa};
use crate::ports::kube::{Kube, LiveAwsAuth, ReadError, Verification};
use crate::ports::ui::{Consent, Decision, Ui};
use crate::recovery::creator::Creator;
use crate::recovery::diagnosis::{self, CallerAccess, MODE_CONSENT, PathKind, RecoveryPath};
use crate::recovery::getin::{self, GetInOptions, Route};
use crate::recovery::journal::{Event, Journal};
use crate::recovery::plan::{self, Action, Applied, Interrupt, Outcome, Plan, SavedState, Undo};
use crate::recovery::principal::PrincipalStatus;
use crate::recovery::recover::{
    self, Check, IncidentReport, Prediction, TimelineEntry, node_role_mapped,
};
use crate::recovery::restore::{self, AwsAuthObject, Candidate, Prepared};
use crate::workflow::restore::{AccessGate, refuse_session_arn, unconsented_gains};
use crate::workflow::rundir::{cleanup_command, journal_io, run_dir, start_journal, undo_lines};
use aws_credential_types::Credentials;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(test)]
mod tests;

/// The file the live aws-auth is saved to before it is replaced (the name `aws-auth restore`
/// uses too).
pub const BACKUP_FILE: &str = "aws-auth.before.json";
/// The object the run wrote.
pub const WRITTEN_FILE: &str = "aws-auth.written.json";
pub const REPORT_MD: &str = "incident-report.md";
pub const REPORT_JSON: &str = "incident-report.json";

/// What triage found, as far as recover decides on it.
#[derive(Debug, Clone)]
pub struct Situation {
    pub caller_arn: String,
    pub caller_account: String,
    pub cluster: ClusterFacts,
    pub access: CallerAccess,
    pub aws_auth_readable: bool,
    pub aws_auth_errors: usize,
    pub creator: CreatorFound,
    pub node_roles: Vec<crate::awsauth::lint::NodeRoleFact>,
    pub paths: Vec<RecoveryPath>,
}

/// The cluster's creator, as triage found it.
#[derive(Debug, Clone)]
pub enum CreatorFound {
    /// The search itself failed.
    Unknown,
    /// Searched and not found: why.
    NotFound { reason: String },
    Found {
        creator: Box<Creator>,
        status: Option<Box<PrincipalStatus>>,
    },
}

impl From<&crate::workflow::triage::Triage> for Situation {
    /// What triage found, as recover decides on it.
    fn from(t: &crate::workflow::triage::Triage) -> Situation {
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
}

impl Situation {
    fn creator_arn(&self) -> Option<&str> {
        match &self.creator {
            CreatorFound::Found { creator, .. } => Some(creator.arn.as_str()),
            _ => None,
        }
    }
}

/// The tunnel flags of the run (`--api-server`, `--tls-server-name`, `--ca-file`), repeated
/// in the commands it prints.
#[derive(Debug, Clone, Default)]
pub struct Tunnel {
    pub api_server: Option<String>,
    pub tls_server_name: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// The operator's choices (the command line, parsed and checked).
#[derive(Debug, Clone)]
pub struct Options {
    pub cluster: String,
    /// `--from`, and the candidate read from it (checked before anything else).
    pub from: Option<(PathBuf, Candidate)>,
    /// `--via`: `direct`, `access-entry` or `creator`.
    pub via: Option<&'static str>,
    pub allow_auth_mode_change: bool,
    pub verify_as: Vec<String>,
    pub salvage_fix_arns: Vec<String>,
    pub map_admin: Vec<String>,
    pub allow_access_gain: Vec<String>,
    pub force: bool,
    pub keep: bool,
    pub mfa: Option<Mfa>,
    pub journal_dir: Option<PathBuf>,
    pub wait: Duration,
    pub dry_run: bool,
    /// `--yes`: the plan and the write are confirmed; never an access gain.
    pub yes: bool,
    /// `--profile` and `--region` as given (repeated in the continue command).
    pub profile: Option<String>,
    pub region: Option<String>,
    pub tunnel: Tunnel,
    /// When the run started (before triage).
    pub started: DateTime<Utc>,
}

impl Options {
    fn file(&self) -> Option<&Path> {
        self.from.as_ref().map(|(f, _)| f.as_path())
    }
    fn candidate(&self) -> Option<Candidate> {
        self.from.as_ref().map(|(_, c)| c.clone())
    }
}

/// How a run ended without an error.
#[derive(Debug)]
pub enum Finished {
    /// `--dry-run`: the plan was shown, nothing changed.
    DryRun,
    /// aws-auth was written; `error` is set when not every identity could log in.
    Done(Box<RecoverReport>),
}

/// What the command renders after a run that wrote aws-auth.
#[derive(Debug)]
pub struct RecoverReport {
    pub report: IncidentReport,
    pub plan: Plan,
    pub access: crate::awsauth::AccessDiff,
    pub predicted: Vec<Prediction>,
    /// aws-auth was restored but a check failed: the run's error (exit 1).
    pub error: Option<AppError>,
}

/// `--map-admin` values that are not `me`, an IAM role or user ARN are refused before anything
/// runs; a session ARN too (aws-auth cannot map one session: it would map the whole role).
pub fn check_map_admin(map_admin: &[String]) -> Result<(), AppError> {
    for a in map_admin.iter().filter(|a| *a != "me") {
        refuse_session_arn("--map-admin", a)?;
        if !matches!(classify(a), ArnShape::Role { .. } | ArnShape::User { .. }) {
            return Err(AppError::usage(
                format!("--map-admin {a}: not an IAM role or user ARN"),
                Some(
                    "give arn:aws:iam::ACCOUNT:role/NAME, arn:aws:iam::ACCOUNT:user/NAME, or `me`"
                        .to_string(),
                ),
            ));
        }
    }
    Ok(())
}

/// The `--from` file's bytes, read and checked before anything else: a file that would be
/// refused after getting in is refused now. Returns the candidate and the cluster an eksctl
/// ClusterConfig names (its region is compared again once the profile's region is known:
/// [`check_from_cluster`]). `region` is the one given (flag or environment), if any.
pub fn read_from(
    f: &Path,
    bytes: &[u8],
    cluster: &str,
    region: Option<&str>,
) -> Result<(Candidate, Option<crate::awsauth::source::ClusterRef>), AppError> {
    let name = f.display().to_string();
    let c = crate::workflow::restore::candidate_for_cluster(&name, bytes, Some(cluster), region)?;
    check_from(f, &c)?;
    let written_for = crate::awsauth::read_document("--from", bytes)
        .ok()
        .and_then(|d| d.written_for);
    Ok((c, written_for))
}

/// A `--from` file is checked before anything else (and in --dry-run): a file that would be
/// refused after getting in is refused now.
pub fn check_from(f: &Path, c: &Candidate) -> Result<(), AppError> {
    recover::prepare(None, Some(c.clone()), &recover::WriteChoice::default())
        .map(|_| ())
        .map_err(|why| bad_file(f, &why))
}

/// The cluster (and region) an eksctl ClusterConfig `--from` names must be this one; the
/// region may come from the profile, so this is checked once it is known (still before any
/// change).
pub fn check_from_cluster(
    f: &Path,
    written_for: Option<&crate::awsauth::source::ClusterRef>,
    cluster: &str,
    region: &str,
) -> Result<(), AppError> {
    restore::check_written_for(&f.display().to_string(), written_for, cluster, Some(region))
        .map_err(|e| {
            AppError::usage(
                e.to_string(),
                Some(format!(
                    "give the aws-auth (or the eksctl ClusterConfig) of {cluster} itself, not {}",
                    f.display()
                )),
            )
        })
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

/// What the run has done so far, for the report and for every exit.
struct Record {
    report: IncidentReport,
}

impl Record {
    fn event(&mut self, what: impl Into<String>) {
        self.event_at(Utc::now(), what);
    }
    fn event_at(&mut self, at: DateTime<Utc>, what: impl Into<String>) {
        let what = what.into();
        tracing::info!("{what}");
        self.report.timeline.push(TimelineEntry { at, what });
    }
}

fn new_record(o: &Options, region: &str) -> Record {
    Record {
        report: IncidentReport {
            cluster: o.cluster.clone(),
            region: region.to_string(),
            status: "started".into(),
            started_at: o.started,
            finished_at: o.started,
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
    }
}

/// The triage line of the timeline.
fn triage_event(t: &Situation) -> String {
    format!(
        "triage: {}; aws-auth {}; creator {}",
        match &t.access {
            CallerAccess::Authenticated { username, .. } =>
                format!("operator authenticated as {username}"),
            CallerAccess::Unauthorized => "operator locked out (401)".into(),
            CallerAccess::Unknown { reason } => format!("API server not asked: {reason}"),
        },
        if t.aws_auth_readable {
            format!("{} error(s)", t.aws_auth_errors)
        } else {
            "not readable".into()
        },
        t.creator_arn().unwrap_or("not found")
    )
}

/// The continue command: the same recover, with the flags that matter.
pub fn continue_command(o: &Options, path: Option<&RecoveryPath>) -> String {
    let mut s = format!("eks-breakglass recover --cluster {}", o.cluster);
    // The same identity and region as this run.
    if let Some(p) = &o.profile {
        s.push_str(&format!(" --profile {p}"));
    }
    if let Some(r) = &o.region {
        s.push_str(&format!(" --region {r}"));
    }
    if let Some(f) = o.file() {
        s.push_str(&format!(" --from {}", f.display()));
    }
    if let Some(v) = o.via {
        s.push_str(&format!(" --via {v}"));
    }
    if o.allow_auth_mode_change || path.is_some_and(|p| p.consent.is_some()) {
        s.push_str(&format!(" {MODE_CONSENT}"));
    }
    for v in &o.verify_as {
        s.push_str(&format!(" --verify-as {v}"));
    }
    for a in &o.salvage_fix_arns {
        s.push_str(&format!(" --salvage-fix-arns {a}"));
    }
    for a in &o.map_admin {
        s.push_str(&format!(" --map-admin {a}"));
    }
    for a in &o.allow_access_gain {
        s.push_str(&format!(" --allow-access-gain {a}"));
    }
    // A one-time code is accepted once: the continue command asks for a new one.
    if let Some(m) = &o.mfa {
        s.push_str(&format!(" --mfa-serial {} --token-code NEW_CODE", m.serial));
    }
    if o.force {
        s.push_str(" --force");
    }
    if let Some(a) = &o.tunnel.api_server {
        s.push_str(&format!(" --api-server {a}"));
    }
    if let Some(t) = &o.tunnel.tls_server_name {
        s.push_str(&format!(" --tls-server-name {t}"));
    }
    s
}

/// The way in: `--via`, else the first automatic path of triage.
pub fn choose_path(t: &Situation, o: &Options) -> Result<RecoveryPath, AppError> {
    diagnosis::choose(&t.paths, o.via)
        .map_err(|why| {
            AppError::failed(
                format!("recover cannot get into {}: {why}", o.cluster),
                Some(
                    t.paths
                        .iter()
                        .map(|p| format!("{} — {}", p.title, p.command))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            )
        })
        .cloned()
}

/// The one-way auth mode switch an access entry needs is refused without its consent (said
/// only, in --dry-run).
pub fn mode_consent_gate(t: &Situation, o: &Options, path: &RecoveryPath) -> Result<(), AppError> {
    if path.consent.as_deref() != Some(MODE_CONSENT) || o.allow_auth_mode_change || o.dry_run {
        return Ok(());
    }
    Err(AppError::usage(
        format!(
            "the way in is an access entry, and {} is in CONFIG_MAP mode: switching to API_AND_CONFIG_MAP is one-way and needs {MODE_CONSENT}",
            o.cluster
        ),
        Some(format!(
            "re-run as `{}` (aws-auth keeps working after the switch){}",
            continue_command(o, Some(path)),
            if t.paths.iter().any(|p| p.kind == PathKind::RecreateCreator) {
                format!(
                    ", or try the creator anyway (best effort): `eks-breakglass recover --cluster {} --via creator`",
                    o.cluster
                )
            } else {
                String::new()
            }
        )),
    ))
}

/// Runs the incident. `Err` is the run's error, after everything temporary was removed and the
/// report written (when the run got as far as a run directory).
pub async fn run<A, W, U>(
    aws: &A,
    world: &W,
    ui: &U,
    t: &Situation,
    o: &Options,
) -> Result<Finished, AppError>
where
    A: Iam + EksAccess,
    W: Session + Kube,
    U: Ui,
{
    let (p, rec) = plan_incident(aws, world, ui, t, o).await?;
    // A dry run is this workflow's decision (its refusals only said what a real run refuses):
    // it ends here whatever the terminal would answer.
    if o.dry_run {
        ui.dry_run_done();
        return Ok(Finished::DryRun);
    }
    if ui.confirm(p.plan.steps.len())? == Decision::DryRun {
        ui.dry_run_done();
        return Ok(Finished::DryRun);
    }
    let mut run = start(world, ui, o, t, &p, rec)?;
    // Phase 1: get in.
    let (creds, who) = get_in(aws, &mut run, t, &p).await?;
    // Phase 2: the aws-auth write, as the identity that got in.
    let (prepared, preds) = write_aws_auth(&mut run, t, &p, &creds, &who).await?;
    // Verification by doing.
    verify_all(aws, &mut run, t, &creds, &prepared.object, &preds).await;
    let error = finish(&mut run).await?;
    Ok(Finished::Done(Box::new(RecoverReport {
        report: run.rec.report,
        plan: p.plan,
        access: prepared.access,
        predicted: preds,
        error,
    })))
}

/// The plan and what was learnt making it (shown, consents before any change given).
struct Planned {
    path: RecoveryPath,
    operator: String,
    /// `--map-admin`, with `me` resolved.
    admins: Vec<String>,
    plan: Plan,
    /// The creator route, when the way in goes through the creator.
    route: Option<Route>,
    getin_steps: usize,
    /// The write computed before any change, when aws-auth could be read without one.
    shown: Option<(Prepared, Vec<Prediction>)>,
    /// The identities whose access after the write is predicted.
    whos: Vec<recover::Who>,
    /// The creator role's session assumed to read aws-auth (reused to get in).
    assumed_before: Option<Credentials>,
}

fn write_choice<'a>(
    t: &'a Situation,
    o: &'a Options,
    admins: &'a [String],
) -> recover::WriteChoice<'a> {
    recover::WriteChoice {
        node_roles: &t.node_roles,
        fix_arns: &o.salvage_fix_arns,
        admins,
    }
}

/// Everything before the confirmation: the way in, its plan, the aws-auth write when it can
/// be known without a change, the plan shown, and the consents asked before any change.
async fn plan_incident<A, W, U>(
    aws: &A,
    world: &W,
    ui: &U,
    t: &Situation,
    o: &Options,
) -> Result<(Planned, Record), AppError>
where
    A: Iam + EksAccess,
    W: Session + Kube,
    U: Ui,
{
    let mut rec = new_record(o, world.region());
    rec.event_at(o.started, format!("recover of {} started", o.cluster));
    rec.report.operator = t.caller_arn.clone();
    rec.report
        .identities
        .push(format!("operator: {} (ran the tool)", t.caller_arn));
    rec.event(triage_event(t));
    let path = choose_path(t, o)?;
    rec.report.path = path.title.clone();
    mode_consent_gate(t, o, &path)?;
    let operator = getin_flow::resolve_principal(aws, &t.caller_arn).await?;
    let admins = admins(&o.map_admin, &operator);
    let choice = write_choice(t, o, &admins);

    // The get-in part of the plan.
    let (mut plan, route) = getin_plan(aws, world, t, &path, &operator, o).await?;
    if let Some(r) = &route {
        mfa_gate(t, o, &path, r)?;
    }
    plan.command = "recover".into();
    if let Some(n) = role_scope_note(
        &t.caller_arn,
        &operator,
        &path,
        route.as_ref(),
        &o.map_admin,
        &o.cluster,
    ) {
        plan.notes.push(n);
    }
    let getin_steps = plan.steps.len();

    // The aws-auth the run will write, computed before anything changes whenever the live one
    // can be read without a change (as you, or as the creator role through AssumeRole).
    // When the read assumed the creator role, its session is the get-in credential too: an
    // MFA one-time code is accepted once by STS, so the role is never assumed twice.
    let (before, assumed_before) = read_before(aws, world, t, route.as_ref(), o).await;
    let whos = identities(aws, t, &path, &operator, o).await;
    let planned: Option<(Prepared, Vec<Prediction>)> = match &before {
        LiveRead::Known { live, .. } => {
            let live_obj = live.as_ref().map(|l| &l.object);
            let p = recover::prepare(live_obj, o.candidate(), &choice)
                .map_err(|why| refused_candidate(o, &why))?;
            let preds = predictions(&p, &whos);
            Some((p, preds))
        }
        LiveRead::Unknown { .. } => None,
    };
    push_write_step(&mut plan, t, o, &before);
    plan.then = then_lines(&plan, route.as_ref(), getin_steps, o);

    match (&before, &planned) {
        (LiveRead::Known { read_as, .. }, Some((p, preds))) => {
            ui.say(&write_block(getin_steps + 1, read_as, p, preds));
        }
        (LiveRead::Unknown { why }, _) => {
            plan.notes
                .push(unknown_write_note(why, getin_steps, &admins));
        }
        _ => {}
    }
    ui.show_plan(&plan, plan_extra(planned.as_ref(), o));
    if let Some((p, preds)) = &planned {
        // The consents, before any change (and said in --dry-run).
        lockout_gate(ui, o, preds)?;
        let gains = pending_gains(ui, o, p)?;
        if !gains.is_empty() && ui.ask_access_gain_now(&gains)? != Consent::Given {
            return Err(getin_flow::access_gain_refusal(&gains, ""));
        }
    }
    Ok((
        Planned {
            path,
            operator,
            admins,
            plan,
            route,
            getin_steps,
            shown: planned,
            whos,
            assumed_before,
        },
        rec,
    ))
}

/// The confirmed run starts: its directory and journal, and from here on Ctrl-C, SIGTERM and
/// SIGHUP undo the run (before, they end the process).
fn start<'w, W: Session + Kube, U: Ui>(
    world: &'w W,
    ui: &'w U,
    o: &'w Options,
    t: &Situation,
    p: &Planned,
    mut rec: Record,
) -> Result<Run<'w, W, U>, AppError> {
    let dir = run_dir(o.journal_dir.as_deref(), "recover", &o.cluster)?;
    let journal = start_journal(&dir, &p.plan, &t.caller_arn, world.profile())?;
    rec.report.journal_dir = dir.display().to_string();
    rec.report.undo_command = undo_command(&dir, &o.tunnel, world.profile());
    rec.report.next_command = Some(continue_command(o, Some(&p.path)));
    ui.notice(&format!("journal: {}", dir.display()));
    rec.event(format!(
        "plan confirmed: {} change(s), way in: {}",
        p.plan.steps.len(),
        p.path.title
    ));

    let interrupt = ui.catch_interrupt();
    let runner = world.runner(dir.clone(), interrupt.clone());
    Ok(Run {
        world,
        ui,
        o,
        interrupt: interrupt.clone(),
        dir,
        journal,
        runner,
        applied: Vec::new(),
        rec,
    })
}

/// Phase 1: the get-in steps, then credentials of the identity that got in, proven by logging
/// in; returns them and who it is (for people).
async fn get_in<A: Iam, W: Session + Kube, U: Ui>(
    aws: &A,
    run: &mut Run<'_, W, U>,
    t: &Situation,
    p: &Planned,
) -> Result<(Credentials, String), AppError> {
    let (world, o) = (run.world, run.o);
    let mut sub = p.plan.clone();
    sub.steps.truncate(p.getin_steps);
    run.apply(&sub).await?;
    let got = match p.route.as_ref() {
        None => world
            .credentials()
            .await
            .map(|c| (c, format!("you ({})", p.operator))),
        Some(r) => creator_credentials(aws, run, r, p.assumed_before.clone())
            .await
            .map(|c| {
                (
                    c,
                    format!("the creator {}", t.creator_arn().unwrap_or_default()),
                )
            }),
    };
    let (creds, who) = match got {
        Ok(got) => got,
        // Ctrl-C (SIGTERM, SIGHUP) while waiting for the new key: undone like any Ctrl-C.
        Err(AppError::Interrupted) => return Err(run.interrupted().await),
        Err(_) if run.interrupt.is_set() => return Err(run.interrupted().await),
        Err(e) => return Err(run.fail(e).await),
    };
    let v = world.verify(&creds, o.wait, &run.interrupt).await;
    run.rec
        .event(format!("logged in as {who}: {}", v.describe()));
    run.note(format!("get-in verification as {who}: {}", v.describe()));
    match &v {
        Verification::Authenticated { .. } => {}
        Verification::Interrupted => return Err(run.interrupted().await),
        Verification::Refused { .. } => {
            let e = AppError::failed(
                format!("could not get in as {who}: {}", v.describe()),
                Some(refused_hint(&p.path, &o.cluster)),
            );
            return Err(run.fail(e).await);
        }
        Verification::Failed { error } => {
            let e = AppError::failed(format!("could not get in as {who}: {error}"), None);
            return Err(run.fail(e).await);
        }
    }
    run.rec
        .report
        .identities
        .push(format!("get-in: {who} — {}", v.describe()));
    run.runner.act_as(creds.clone());
    Ok((creds, who))
}

/// Phase 2: read the live aws-auth as the identity that got in, prepare the new one with the
/// restore engine (shown and asked again unless it is the one shown before the confirmation),
/// then the compare-and-swap write.
async fn write_aws_auth<W: Session + Kube, U: Ui>(
    run: &mut Run<'_, W, U>,
    t: &Situation,
    p: &Planned,
    creds: &Credentials,
    who: &str,
) -> Result<(Prepared, Vec<Prediction>), AppError> {
    let (world, ui, o) = (run.world, run.ui, run.o);
    let interrupt = run.interrupt.clone();
    let choice = write_choice(t, o, &p.admins);
    let live = match world.read_aws_auth(creds).await {
        Ok(l) => l,
        Err(ReadError::Connect(e) | ReadError::Read(e)) => return Err(run.fail(e).await),
    };
    let prepared = match recover::prepare(live.as_ref().map(|l| &l.object), o.candidate(), &choice)
    {
        Ok(p) => p,
        Err(why) => {
            let e = refused_candidate(o, &why);
            run.rec.report.next_command = Some(next_after_refusal(o));
            return Err(run.fail(e).await);
        }
    };
    let preds = predictions(&prepared, &p.whos);
    run.rec.event(format!(
        "new aws-auth prepared: {}; access: {}{}",
        diff_summary(&prepared.diff),
        prepared.access.summary(),
        if prepared.notes.is_empty() {
            String::new()
        } else {
            format!("; {}", prepared.notes.join("; "))
        }
    ));
    run.note(candidate_note(&prepared, &preds));
    // What was shown before the confirmation still holds, or the operator sees the new one.
    if !same_as_shown(p.shown.as_ref(), &prepared, &preds) {
        if p.shown.is_some() {
            ui.say("\nkube-system/aws-auth changed after the plan was shown; the write now is:");
        }
        let block = write_block(p.getin_steps + 1, &format!("as {who}"), &prepared, &preds);
        if let Err(e) = ui.block(&format!("{block}\n")) {
            return Err(run.output_failed(e).await);
        }
        match consents_after_getting_in(ui, o, &prepared, &preds, &interrupt).await {
            Ok(Consent::Stopped) => return Err(run.interrupted().await),
            // (A refused answer is an Err from there.)
            Ok(Consent::Given | Consent::Refused) => {}
            Err(e) => {
                run.rec.report.next_command = Some(match &e {
                    // The same run, with a consent that names each gain still refused: the
                    // operator decides whether it is meant (the file itself lints clean).
                    AppError::AccessGainNotAllowed(_) => format!(
                        "{} --yes {}   # only if these gains are meant; otherwise fix the source",
                        continue_command(o, Some(&p.path)),
                        prepared
                            .access
                            .unconsented(&o.allow_access_gain)
                            .iter()
                            .map(|c| format!("--allow-access-gain {}", c.identity))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    _ => next_after_refusal(o),
                });
                return Err(run.fail(e).await);
            }
        }
    }
    let step = write_step(
        &p.plan,
        p.getin_steps,
        o,
        live.as_ref(),
        &world.configmap_json(&prepared.object),
    );
    if live.is_some() {
        run.rec.report.backups.push(BACKUP_FILE.into());
    }
    run.rec.report.backups.push(WRITTEN_FILE.into());
    let mut sub = p.plan.clone();
    sub.steps = vec![step];
    run.apply(&sub).await?;
    Ok((prepared, preds))
}

/// The end of a run that wrote aws-auth: temporary credentials go (also when Ctrl-C came
/// while proving access: the write is the fix and stays), the status and the report. The
/// error is set when a check failed.
async fn finish<W: Session + Kube, U: Ui>(
    run: &mut Run<'_, W, U>,
) -> Result<Option<AppError>, AppError> {
    let (ui, o) = (run.ui, run.o);
    if run.interrupt.is_set() {
        // Ctrl-C/SIGTERM/SIGHUP while proving access: the temporary credentials go as
        // promised; the aws-auth write is the fix and stays (a rollback is asked by name).
        run.rec
            .event("interrupted during verification: removing temporary credentials");
        let lines = run.end_temporary().await?;
        for l in &lines {
            ui.notice(l);
        }
        run.rec.report.cleaned_up.extend(lines);
        run.rec.report.status = "interrupted".into();
        run.finished("interrupted");
        run.finish_report();
        ui.notice(&format!(
            "interrupted during verification: temporary credentials removed; the restored aws-auth stays (roll it back with `{} --rollback`)",
            run.rec.report.undo_command
        ));
        return Err(AppError::Interrupted);
    }

    // Temporary credentials go.
    let lines = run.end_temporary().await?;
    run.rec.report.cleaned_up.extend(lines);
    let all_ok = run.rec.report.checks.iter().all(|c| c.ok);
    run.rec.report.status = if all_ok {
        "recovered"
    } else {
        "restored_unverified"
    }
    .into();
    run.rec.report.next_command =
        (!all_ok).then(|| format!("eks-breakglass diagnose --cluster {}", o.cluster));
    let status = run.rec.report.status.clone();
    run.rec.event(format!("run finished: {status}"));
    run.finished(&status);
    run.finish_report();
    let error = (!all_ok).then(|| {
        AppError::failed(
            "aws-auth was restored but not every identity could log in (see the checks above)",
            Some(format!(
                "read {} and run `eks-breakglass diagnose --cluster {}`; undo with `{}`",
                run.dir.join(REPORT_MD).display(),
                o.cluster,
                run.rec.report.undo_command
            )),
        )
    });
    Ok(error)
}

/// `--map-admin` with `me` resolved to the operator's principal.
fn admins(map_admin: &[String], operator: &str) -> Vec<String> {
    map_admin
        .iter()
        .map(|a| {
            if a == "me" {
                operator.to_string()
            } else {
                a.clone()
            }
        })
        .collect()
}

/// The write step of the plan, as shown before getting in.
fn push_write_step(plan: &mut Plan, t: &Situation, o: &Options, before: &LiveRead) {
    let write = plan.push(
        format!(
            "restore kube-system/aws-auth of {}: {}",
            o.cluster,
            match (o.file(), before) {
                (Some(f), _) => format!("from {}", f.display()),
                (None, LiveRead::Known { live: None, .. }) =>
                    "a rebuild (there is no aws-auth): node and Fargate roles, plus each --map-admin".into(),
                (None, LiveRead::Known { .. }) => "salvage of the live one".into(),
                (None, LiveRead::Unknown { .. }) => "salvage of the live one (a rebuild from node roles and --map-admin if there is none)".into(),
            }
        ),
        format!(
            "the lock-out comes from aws-auth; the new one is linted (errors refused), keeps every other key, and maps the cluster's node roles{} so nodes stay Ready",
            if t.node_roles.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    t.node_roles
                        .iter()
                        .map(|r| r.arn.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        Action::WriteConfigMap {
            cluster: o.cluster.clone(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: WRITTEN_FILE.into(),
            // Shown only: the real step carries the resourceVersion read after getting in.
            expected_resource_version: Some("(as read after getting in)".into()),
        },
        Undo::RestoreConfigMap {
            cluster: o.cluster.clone(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: Some(BACKUP_FILE.into()),
            written_file: Some(WRITTEN_FILE.into()),
        },
    );
    write.what.push_str(
        " (read as the identity that got in, backed up first, written as a compare-and-swap on the resourceVersion read)",
    );
}

/// What runs after the plan's steps, in order.
fn then_lines(plan: &Plan, route: Option<&Route>, getin_steps: usize, o: &Options) -> Vec<String> {
    let mut then = vec![match route {
        Some(r) => format!(
            "get credentials as the creator ({}) and prove them by logging in",
            route_name(r)
        ),
        None => "log in as you (retried while the access entry propagates)".into(),
    }];
    then.push(format!(
        "write the aws-auth (step {}), then prove access by logging in: as you{}, and check every node role is mapped in what the cluster loaded",
        getin_steps + 1,
        if o.verify_as.is_empty() {
            String::new()
        } else {
            format!(" and as {}", o.verify_as.join(", "))
        }
    ));
    if plan.steps.iter().any(|s| s.temporary) {
        then.push("delete the temporary credentials (unless --keep)".into());
    }
    then.push("write the incident report (Markdown and JSON) into the run directory".into());
    then
}

/// The plan's note when the new aws-auth can only be computed after getting in.
fn unknown_write_note(why: &str, getin_steps: usize, admins: &[String]) -> String {
    format!(
        "the new aws-auth cannot be computed yet: {why}. It is computed right after getting in (step {}), and shown with who gains which groups and who will get in; the write is made only if it grants no NEW access (or --allow-access-gain) and lets you or a --verify-as identity in (or --force) — otherwise the run stops there and removes its temporary credentials. If aws-auth does not exist, it is rebuilt from the node and Fargate roles{}",
        getin_steps.max(1),
        if admins.is_empty() {
            " only: add --map-admin me (or a role) to be let in by it".to_string()
        } else {
            format!(" plus {}", admins.join(", "))
        }
    )
}

/// What a `--dry-run --output json` carries next to the plan.
fn plan_extra(
    planned: Option<&(Prepared, Vec<Prediction>)>,
    o: &Options,
) -> Vec<(&'static str, serde_json::Value)> {
    match planned {
        Some((p, preds)) => vec![
            (
                "access",
                serde_json::to_value(&p.access).unwrap_or_default(),
            ),
            (
                "needs_consent",
                serde_json::to_value(
                    p.access
                        .unconsented(&o.allow_access_gain)
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
    }
}

/// Credentials as the creator: the session assumed to read aws-auth before the plan (reused:
/// an MFA code is accepted once), or acquired on the route (the key the run created, or an
/// AssumeRole, retried while IAM propagates).
async fn creator_credentials<A: Iam, W: Session + Kube, U: Ui>(
    aws: &A,
    run: &mut Run<'_, W, U>,
    route: &Route,
    assumed_before: Option<Credentials>,
) -> Result<Credentials, AppError> {
    if let (Route::AssumeRole { role_arn, .. }, Some(c)) = (route, assumed_before) {
        run.rec.event(format!(
            "using the session of {role_arn} assumed to read aws-auth before the plan (not assumed again: an MFA code is accepted once)"
        ));
        return Ok(c);
    }
    let key = run.runner.last_created_key();
    let ui = run.ui;
    aws.acquire_credentials(
        route,
        key,
        run.o.mfa.as_ref(),
        None,
        run.o.wait,
        &run.interrupt,
        &|m: &str| ui.progress(m),
    )
    .await
}

/// Why the identity that should have got in was refused, and what to do.
fn refused_hint(path: &RecoveryPath, cluster: &str) -> String {
    if matches!(path.kind, PathKind::RecreateCreator) {
        format!(
            "the cluster refuses the recreated creator (EKS bound it to the old unique id): take the access-entry path: `eks-breakglass recover --cluster {cluster} --via access-entry {MODE_CONSENT}`"
        )
    } else {
        format!("the identity is not let in; check `eks-breakglass diagnose --cluster {cluster}`")
    }
}

/// The journal note of the candidate computed after getting in.
fn candidate_note(p: &Prepared, preds: &[Prediction]) -> String {
    format!(
        "aws-auth candidate: {}; predicted: {}",
        p.access.summary(),
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
    )
}

/// Whether the write computed after getting in is the one shown before the confirmation (the
/// same entries diff, access changes and predictions): then it is not asked again.
pub fn same_as_shown(
    shown: Option<&(Prepared, Vec<Prediction>)>,
    now: &Prepared,
    preds: &[Prediction],
) -> bool {
    shown.is_some_and(|(p, pr)| {
        restore::diff_signature(&p.diff) == restore::diff_signature(&now.diff)
            && p.access == now.access
            && pr.as_slice() == preds
    })
}

/// The consents for a write first seen after getting in: the lock-out gate, the access-gain
/// consent (asked at a terminal), and the write itself (`--yes` or a terminal). The questions
/// come while the run holds temporary access: Ctrl-C, SIGTERM or SIGHUP at them is `Stopped`.
async fn consents_after_getting_in(
    ui: &impl Ui,
    o: &Options,
    prepared: &Prepared,
    preds: &[Prediction],
    interrupt: &Interrupt,
) -> Result<Consent, AppError> {
    lockout_gate(ui, o, preds)?;
    let gains = pending_gains(ui, o, prepared)?;
    if !gains.is_empty() {
        match ui.ask_access_gain(&gains, interrupt).await? {
            Consent::Given => {}
            Consent::Stopped => return Ok(Consent::Stopped),
            Consent::Refused => return Err(getin_flow::access_gain_refusal(&gains, "")),
        }
    }
    match ui.confirm_write(interrupt).await? {
        Consent::Refused => Err(AppError::failed(
            "not confirmed: aws-auth was not written",
            Some("re-run and answer 'yes', or pass --yes".to_string()),
        )),
        c => Ok(c),
    }
}

/// The access-gain consent: NEW access no `--allow-access-gain` names is refused with `--yes`
/// (which never approves a gain) or without a terminal to ask; a dry run only says what a real
/// run needs. Returns the gains still to be asked about at the terminal (empty: none).
pub fn pending_gains(
    ui: &impl Ui,
    o: &Options,
    p: &Prepared,
) -> Result<Vec<(String, String)>, AppError> {
    let gate = AccessGate::On {
        allowed: o.allow_access_gain.clone(),
    };
    let (new, unused) = unconsented_gains(p, &gate);
    if !unused.is_empty() {
        ui.notice(&format!(
            "note: --allow-access-gain {}: this write gives no NEW access to that identity (nothing to approve)",
            unused.join(", ")
        ));
    }
    if new.is_empty() {
        return Ok(Vec::new());
    }
    if o.dry_run {
        ui.say(&format!(
            "\nThis write grants NEW access ({} identit{}) without a consent naming it; a real run needs {} (--yes alone is not enough):\n{}\n",
            new.len(),
            if new.len() == 1 { "y" } else { "ies" },
            getin_flow::consent_flags(&new),
            new.iter()
                .map(|(_, l)| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        return Ok(Vec::new());
    }
    if o.yes || !ui.can_ask() {
        return Err(getin_flow::access_gain_refusal(&new, ""));
    }
    Ok(new)
}

/// A creator role that only lets sessions with MFA in cannot be assumed without a code: STS
/// answers AccessDenied. Refused before any change (as `assume-creator` does), naming the flags.
fn mfa_gate(
    t: &Situation,
    o: &Options,
    path: &RecoveryPath,
    route: &Route,
) -> Result<(), AppError> {
    let status = match &t.creator {
        CreatorFound::Found { status, .. } => status.as_deref(),
        _ => None,
    };
    getin_flow::refuse_before_change(route, status, o.mfa.is_some(), false, o.dry_run).map_err(
        |e| {
            AppError::usage(
                format!(
                    "recover of {} cannot take the creator route: {e}",
                    o.cluster
                ),
                Some(format!(
                    "{}; re-run as `{} --mfa-serial ARN --token-code CODE`",
                    e.hint().unwrap_or_default(),
                    continue_command(o, Some(path))
                )),
            )
        },
    )
}

/// The aws-auth write step as it runs: the compare-and-swap on the resourceVersion read, the
/// backup of what was read and the object written.
fn write_step(
    plan: &Plan,
    getin_steps: usize,
    o: &Options,
    live: Option<&LiveAwsAuth>,
    written_json: &str,
) -> plan::Step {
    let mut step = plan.steps[getin_steps].clone();
    step.action = Action::WriteConfigMap {
        cluster: o.cluster.clone(),
        namespace: "kube-system".into(),
        name: "aws-auth".into(),
        desired_file: WRITTEN_FILE.into(),
        expected_resource_version: live.and_then(|l| l.resource_version.clone()),
    };
    step.undo = Undo::RestoreConfigMap {
        cluster: o.cluster.clone(),
        namespace: "kube-system".into(),
        name: "aws-auth".into(),
        previous_file: live.map(|_| BACKUP_FILE.to_string()),
        written_file: Some(WRITTEN_FILE.into()),
    };
    if let Some(l) = live {
        step.saves.push(SavedState {
            file: BACKUP_FILE.into(),
            description: "the aws-auth before the write, as read".into(),
            content: l.json.clone(),
        });
    }
    step.saves.push(SavedState {
        file: WRITTEN_FILE.into(),
        description: "the aws-auth the run writes".into(),
        content: written_json.to_string(),
    });
    step
}

/// The live aws-auth as far as it can be known before the first change.
#[derive(Debug)]
pub enum LiveRead {
    /// Read (`None`: there is no aws-auth), and as whom.
    Known {
        live: Option<LiveAwsAuth>,
        read_as: String,
    },
    /// Reading it needs a change first (you are locked out; getting in changes IAM or EKS).
    Unknown { why: String },
}

/// Whether the operator can read aws-auth as themselves before any change.
fn you_are_in(t: &Situation, route: Option<&Route>) -> bool {
    matches!(
        t.access,
        CallerAccess::Authenticated {
            can_read_aws_auth: true,
            ..
        }
    ) || matches!(route, Some(Route::AlreadyCreator))
}

/// Reads the live aws-auth without changing anything: as you when you are in, or as the
/// creator role when its trust policy already lets you assume it (AssumeRole changes nothing).
/// Returns the creator role's session when it was assumed, for the get-in step to reuse.
async fn read_before(
    aws: &impl Iam,
    world: &(impl Session + Kube),
    t: &Situation,
    route: Option<&Route>,
    o: &Options,
) -> (LiveRead, Option<Credentials>) {
    let mut assumed = None;
    let (creds, read_as) = if you_are_in(t, route) {
        match world.credentials().await {
            Ok(c) => (c, format!("as you ({})", t.caller_arn)),
            Err(e) => {
                let why = format!("your credentials: {e}");
                return (LiveRead::Unknown { why }, None);
            }
        }
    } else if let Some(Route::AssumeRole {
        role_arn,
        mfa_required,
        ..
    }) = route
    {
        if *mfa_required && o.mfa.is_none() {
            let why = format!("assuming {role_arn} needs MFA (--mfa-serial, --token-code)");
            return (LiveRead::Unknown { why }, None);
        }
        match aws.assume_role(role_arn, o.mfa.as_ref()).await {
            Ok(c) => {
                assumed = Some(c.clone());
                (
                    c,
                    format!("as the creator role {role_arn} (AssumeRole: no change)"),
                )
            }
            Err(e) => {
                let why = format!("assuming {role_arn} to read it failed: {e}");
                return (LiveRead::Unknown { why }, None);
            }
        }
    } else {
        let why = "you are locked out, and the way in changes IAM or EKS first".to_string();
        return (LiveRead::Unknown { why }, None);
    };
    let read = match world.read_aws_auth(&creds).await {
        Ok(live) => LiveRead::Known { live, read_as },
        Err(ReadError::Connect(e)) => LiveRead::Unknown { why: e.to_string() },
        Err(ReadError::Read(e)) => LiveRead::Unknown {
            why: format!("reading it {read_as} failed: {e}"),
        },
    };
    (read, assumed)
}

/// Whether `principal` has an access entry (only asked when the mode honours them).
async fn has_access_entry(aws: &impl EksAccess, t: &Situation, principal: &str) -> bool {
    t.cluster.effective_auth_mode().allows_access_entries()
        && matches!(
            aws.has_access_entry(&t.cluster.name, principal).await,
            Ok(true)
        )
}

/// The identities whose access after the write is predicted: you, and each --verify-as.
async fn identities(
    aws: &impl EksAccess,
    t: &Situation,
    path: &RecoveryPath,
    operator: &str,
    o: &Options,
) -> Vec<recover::Who> {
    let outside = if path.kind == PathKind::AccessEntry {
        Some(format!("the access entry this run creates for {operator}"))
    } else if has_access_entry(aws, t, operator).await {
        Some(format!("the access entry of {operator}"))
    } else if t.creator_arn().is_some_and(|c| {
        t.cluster.bootstrap_creator_admin != Some(false) && c.eq_ignore_ascii_case(operator)
    }) {
        Some("the cluster creator's implicit admin".to_string())
    } else {
        None
    };
    let mut out = vec![recover::Who {
        role: "operator",
        caller_arn: t.caller_arn.clone(),
        account: t.caller_account.clone(),
        outside_aws_auth: outside,
    }];
    for role in &o.verify_as {
        let Some((arn, account)) = recover::session_of(role) else {
            continue;
        };
        let outside = has_access_entry(aws, t, role)
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

fn predictions(p: &Prepared, whos: &[recover::Who]) -> Vec<Prediction> {
    whos.iter()
        .map(|w| recover::predict(&p.analysis.effective, w))
        .collect()
}

/// The aws-auth write as people read it: what changes for whom, and who gets in afterwards.
pub fn write_block(step: usize, read_as: &str, p: &Prepared, preds: &[Prediction]) -> String {
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

/// Refuses (without --force) a write after which nobody but the temporary identity gets in.
fn lockout_gate(ui: &impl Ui, o: &Options, preds: &[Prediction]) -> Result<(), AppError> {
    if !recover::nobody_gets_in(preds) || o.force {
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
        o.cluster
    );
    if o.dry_run {
        ui.say(&format!(
            "\nA real run REFUSES this write: after it, nobody but the temporary identity would get in ({who}).\n{options}"
        ));
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
fn refused_candidate(o: &Options, why: &str) -> AppError {
    AppError::failed(
        format!("nothing written: {why}"),
        Some(match o.file() {
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
fn next_after_refusal(o: &Options) -> String {
    match o.file() {
        Some(f) => format!(
            "eks-breakglass aws-auth lint {}   # fix what it reports, then run recover again",
            f.display()
        ),
        None => format!(
            "eks-breakglass diagnose --cluster {}   # then recover with --from FILE, --map-admin, --allow-access-gain or --force, as the refusal says",
            o.cluster
        ),
    }
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
fn undo_command(dir: &Path, t: &Tunnel, profile: Option<&str>) -> String {
    let mut s = cleanup_command(dir, profile);
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
    aws: &(impl Iam + EksAccess),
    world: &impl Session,
    t: &Situation,
    path: &RecoveryPath,
    operator: &str,
    o: &Options,
) -> Result<(Plan, Option<Route>), AppError> {
    let cluster = &t.cluster;
    match path.kind {
        PathKind::AlreadyIn => Ok((Plan::new("recover", &cluster.name, world.region()), None)),
        PathKind::AccessEntry => {
            let facts =
                getin_flow::grant_facts(aws, cluster, world.region(), world.partition(), operator)
                    .await?;
            let mut plan = getin::grant_plan(&facts);
            plan.then.clear();
            plan.notes.push(
                "the access entry stays after the run (AWS's recommended break-glass); `cleanup` removes it"
                    .into(),
            );
            Ok((plan, None))
        }
        PathKind::BecomeCreator | PathKind::RecreateCreator => {
            let (creator, status) = match &t.creator {
                CreatorFound::Found { creator, status } => (creator, status),
                CreatorFound::Unknown => {
                    return Err(AppError::failed(
                        "the creator is unknown",
                        Some(format!(
                            "run `eks-breakglass creator --cluster {}`",
                            cluster.name
                        )),
                    ));
                }
                CreatorFound::NotFound { reason } => {
                    return Err(AppError::failed(
                        format!(
                            "the creator of {} could not be found: {reason}",
                            cluster.name
                        ),
                        Some(format!(
                            "use `eks-breakglass recover --cluster {} --via access-entry`",
                            cluster.name
                        )),
                    ));
                }
            };
            let route = getin_flow::creator_route(aws, creator, status.as_deref()).await?;
            let mut plan = getin::assume_creator_plan(
                &route,
                &cluster.name,
                world.region(),
                &GetInOptions {
                    operator_arn: operator.to_string(),
                    require_mfa: false,
                    keep: o.keep,
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
            if !o.keep {
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

/// A refusal the prediction expects is checked once, not retried for --wait seconds.
fn wait_for(preds: &[Prediction], wait: Duration, role: &str, identity: &str) -> Duration {
    let refused = preds.iter().any(|p| {
        p.role == role && p.gets_in == Some(false) && (role == "operator" || p.identity == identity)
    });
    if refused { Duration::ZERO } else { wait }
}

/// The checks of what the cluster holds after the write, read back as the identity that got
/// in: the effective mapping equals the prediction, and every node role is mapped.
fn readback_checks(
    t: &Situation,
    written: &AwsAuthObject,
    reread: Result<Option<LiveAwsAuth>, ReadError>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    match reread {
        Ok(Some(l)) => {
            let problems = restore::check_written(written, &l.object);
            checks.push(Check {
                identity: "kube-system/aws-auth".into(),
                ok: problems.is_empty(),
                detail: if problems.is_empty() {
                    "read back: the effective mapping the cluster holds equals the prediction, nothing else changed".into()
                } else {
                    problems.join("; ")
                },
            });
            let effective = l.object.mapping();
            for r in &t.node_roles {
                let ok = node_role_mapped(&effective, &r.arn);
                checks.push(Check {
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
        Ok(None) => checks.push(Check {
            identity: "kube-system/aws-auth".into(),
            ok: false,
            detail: "aws-auth does not exist after the write".into(),
        }),
        Err(ReadError::Connect(e) | ReadError::Read(e)) => checks.push(Check {
            identity: "kube-system/aws-auth".into(),
            ok: false,
            detail: format!("cannot read it back: {e}"),
        }),
    }
    checks
}

/// The operator's check: getting in means the rights to check and repair aws-auth, not only
/// a login.
fn operator_check(caller: &str, v: &Verification) -> Check {
    let ok = v.has_recovery_rights();
    Check {
        identity: caller.to_string(),
        ok,
        detail: if v.is_authenticated() && !ok {
            format!(
                "{} — NOT recovered: you authenticate but cannot read and update kube-system/aws-auth (no system:masters, no RBAC binding for it)",
                v.describe()
            )
        } else {
            v.describe()
        },
    }
}

/// Proves access by logging in, and checks what the cluster loaded.
async fn verify_all<A: Iam, W: Session + Kube, U: Ui>(
    aws: &A,
    run: &mut Run<'_, W, U>,
    t: &Situation,
    creds: &Credentials,
    written: &AwsAuthObject,
    preds: &[Prediction],
) {
    let (world, o, interrupt) = (run.world, run.o, run.interrupt.clone());
    // What the cluster holds now, read back and compared with the prediction.
    let reread = world.read_aws_auth(creds).await;
    let checks = readback_checks(t, written, reread);
    run.rec.report.checks.extend(checks);
    // The operator, with the identity they run everything else with.
    match world.credentials().await {
        Ok(c) => {
            let w = wait_for(preds, o.wait, "operator", "");
            let v = world.verify(&c, w, &interrupt).await;
            run.rec
                .event(format!("verified as the operator: {}", v.describe()));
            run.rec
                .report
                .checks
                .push(operator_check(&t.caller_arn, &v));
        }
        Err(e) => run.rec.report.checks.push(Check {
            identity: t.caller_arn.clone(),
            ok: false,
            detail: e.to_string(),
        }),
    }
    for role in &o.verify_as {
        let v = match aws.assume_role(role, None).await {
            Ok(c) => {
                let identity = recover::session_of(role).map(|s| s.0).unwrap_or_default();
                let w = wait_for(preds, o.wait, "verify-as", &identity);
                world.verify(&c, w, &interrupt).await
            }
            Err(e) => Verification::Failed {
                error: format!("cannot assume {role}: {e}"),
            },
        };
        run.rec
            .event(format!("verified as {role}: {}", v.describe()));
        run.rec.report.identities.push(format!("verify-as: {role}"));
        run.rec.report.checks.push(Check {
            identity: role.clone(),
            ok: v.is_authenticated(),
            detail: v.describe(),
        });
    }
}

/// The run in progress, after the confirmation: what every exit path needs.
struct Run<'w, W: Session + 'w, U: Ui> {
    world: &'w W,
    ui: &'w U,
    o: &'w Options,
    interrupt: Interrupt,
    dir: PathBuf,
    journal: Journal,
    runner: W::Runner<'w>,
    /// Steps whose changes are in place, in order.
    applied: Vec<Applied>,
    rec: Record,
}

impl<'w, W: Session + 'w, U: Ui> Run<'w, W, U> {
    /// Records a note (never a secret).
    fn note(&mut self, text: String) {
        let _ = self.journal.record(Event::Note { text });
    }

    fn finished(&mut self, status: &str) {
        let _ = self.journal.record(Event::RunFinished {
            status: status.to_string(),
        });
    }

    async fn apply(&mut self, sub: &Plan) -> Result<(), AppError> {
        if sub.steps.is_empty() {
            return Ok(());
        }
        let report = plan::apply(sub, &mut self.journal, &mut self.runner, &self.interrupt)
            .await
            .map_err(|e| journal_io(&self.dir, e))?;
        self.ui.progress_done();
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
                self.rec.event(format!(
                    "step {} done: {}{}",
                    step.id,
                    step.what,
                    if facts.is_empty() {
                        String::new()
                    } else {
                        format!(" ({facts})")
                    }
                ));
                self.rec.report.changes.push(format!(
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
            Outcome::Interrupted { .. } => Err(self.interrupted().await),
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
                Err(self.fail(e).await)
            }
        }
    }

    /// Deletes temporary credentials (unless --keep); returns what was done.
    async fn end_temporary(&mut self) -> Result<Vec<String>, AppError> {
        if self.o.keep {
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
        let undone = plan::undo_all(&temp, &mut self.journal, &mut self.runner)
            .await
            .map_err(|e| journal_io(&self.dir, e))?;
        let lines = undo_lines(&undone);
        for l in &lines {
            self.rec.event(format!("cleanup: {l}"));
        }
        self.applied.retain(|a| !a.temporary);
        Ok(lines)
    }

    /// A failure after the first change: temporary credentials go, the rest stays undoable;
    /// the report is written and the error says what changed and how to undo or continue.
    async fn fail(&mut self, e: AppError) -> AppError {
        self.ui.progress_done();
        self.rec.event(format!("failed: {e}"));
        match self.end_temporary().await {
            Ok(lines) => self.rec.report.cleaned_up.extend(lines),
            Err(err) => return err,
        }
        self.finished("failed");
        self.rec.report.status = "failed".into();
        self.rec.report.error = Some(e.to_string());
        self.finish_report();
        for l in stopped_lines(&e, &self.rec.report, &self.applied, &self.dir) {
            self.ui.notice(&l);
        }
        stopped_error(e, &self.o.cluster, &self.rec.report)
    }

    /// Printing failed mid-run: a closed stdout is treated as Ctrl-C (everything the run did is
    /// undone, the journal says `interrupted`) and ends with exit 141; any other write error
    /// is a failure.
    async fn output_failed(&mut self, e: AppError) -> AppError {
        if !matches!(e, AppError::StdoutClosed) {
            return self.fail(e).await;
        }
        self.rec
            .event("standard output closed: undoing the run's changes as on Ctrl-C");
        match self.interrupted().await {
            AppError::Interrupted => AppError::StdoutClosed,
            other => other,
        }
    }

    /// Ctrl-C: undo everything the run did, write the report.
    async fn interrupted(&mut self) -> AppError {
        self.ui.progress_done();
        self.rec
            .event("interrupted (Ctrl-C): undoing the run's changes");
        let applied = self.applied.clone();
        match plan::undo_all(&applied, &mut self.journal, &mut self.runner).await {
            Ok(undone) => {
                for l in undo_lines(&undone) {
                    self.ui.notice(&l);
                    self.rec.report.cleaned_up.push(l);
                }
            }
            Err(e) => return journal_io(&self.dir, e),
        }
        self.finished("interrupted");
        self.rec.report.status = "interrupted".into();
        self.finish_report();
        self.ui.notice(&format!("journal: {}", self.dir.display()));
        AppError::Interrupted
    }

    /// Fills the call counts and the end time, and writes the report files (0600).
    fn finish_report(&mut self) {
        let r = &mut self.rec.report;
        r.finished_at = Utc::now();
        r.aws_calls = self.world.call_counts();
        r.aws_calls_total = r.aws_calls.values().sum();
        let md = r.markdown();
        let json = serde_json::to_string_pretty(r).unwrap_or_default();
        for (name, body) in [(REPORT_MD, md), (REPORT_JSON, json)] {
            let path = self.dir.join(name);
            if let Err(e) = self.world.write_private(&path, body.as_bytes()) {
                self.ui.notice(&format!(
                    "warning: cannot write the report {}: {e}",
                    path.display()
                ));
            }
        }
    }
}

/// What a stopped run says on stderr: why, what changed, what was removed again, what is still
/// in place, and the commands to undo or continue.
fn stopped_lines(e: &AppError, r: &IncidentReport, applied: &[Applied], dir: &Path) -> Vec<String> {
    let changed: Vec<String> = applied
        .iter()
        .map(|a| format!("step {} (undo: {})", a.step, a.undo.describe()))
        .collect();
    let mut out = vec![format!("\nrecover stopped: {e}")];
    if let Some(h) = e.hint() {
        out.push(format!("  why/what to do: {h}"));
    }
    out.push(format!(
        "  changed so far: {}",
        if r.changes.is_empty() {
            "nothing".to_string()
        } else {
            r.changes.join("; ")
        }
    ));
    if !r.cleaned_up.is_empty() {
        out.push(format!("  removed again: {}", r.cleaned_up.join("; ")));
    }
    out.push(format!(
        "  still in place: {}",
        if changed.is_empty() {
            "nothing".into()
        } else {
            changed.join("; ")
        }
    ));
    out.push(format!("  undo:     {}", r.undo_command));
    out.push(format!(
        "  continue: {}",
        r.next_command.clone().unwrap_or_default()
    ));
    out.push(format!("  report:   {}", dir.join(REPORT_MD).display()));
    out
}

/// The error a stopped run ends with. A refusal for want of consent keeps its exit code (4),
/// wherever it happens: the same refusal before getting in and after.
fn stopped_error(e: AppError, cluster: &str, r: &IncidentReport) -> AppError {
    match e {
        AppError::AccessGainNotAllowed(m) => AppError::AccessGainNotAllowed(format!(
            "recover of {cluster} stopped before writing aws-auth: {m}"
        )),
        AppError::NeedsConfirmation(m) => AppError::NeedsConfirmation(format!(
            "recover of {cluster} stopped before writing aws-auth: {m}"
        )),
        e => AppError::failed(
            format!("recover of {cluster} failed: {e}"),
            Some(format!(
                "undo with `{}`, or fix the cause and continue with `{}`",
                r.undo_command,
                r.next_command.clone().unwrap_or_default()
            )),
        ),
    }
}

/// Who gains, loses or changes access, in one line.
pub fn diff_summary(d: &crate::awsauth::MappingDiff) -> String {
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
