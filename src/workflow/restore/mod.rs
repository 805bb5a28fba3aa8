//! The aws-auth write engine (`aws-auth restore`, `aws-auth edit`), and the checks `recover`
//! shares with it.
//!
//! Restore and edit differ only in where the new version comes from. Everything after that is
//! decided here, so that it is careful the same way: the live object is read (its
//! resourceVersion kept), the new one linted (errors refuse the write), the mapping diff shown,
//! the write planned with its undo and the previous version saved beside the journal, confirmed,
//! applied as a compare-and-swap — a 409 means someone changed aws-auth since it was read: it is
//! re-read and re-diffed, and the operator asked again — and finally verified by reading it back
//! and by authenticating.
//!
//! The engine reaches the cluster through [`AwsAuthCluster`] and the operator through
//! [`WriteUi`] (`ports::configmap`), so that every decision here is tested with fakes (below).

use crate::awsauth::{self, AwsAuthDocument, CallerIdentity, MatchOutcome};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::configmap::{AwsAuthCluster, Decision, LiveAwsAuth, LoggedIn, WriteUi};
use crate::recovery::journal::{Event, Journal};
use crate::recovery::plan::{self, Action, Outcome, Plan, SavedState, Undo};
use crate::recovery::restore::{self, AwsAuthObject, Candidate, Prepared};
use crate::recovery::snapshot;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
// merge: 16a moves these (aws-auth input reading and rendering) out of commands/aws_auth.rs.
pub(crate) use crate::commands::aws_auth::read_input;
use crate::commands::aws_auth::{diff_text, format_finding, input_error};
// merge: 16b moves plan_ui to crate::ui::plan (only its pure helpers are used here).
use crate::commands::plan_ui::{cleanup_command, consent_flags, journal_io, run_dir, undo_lines};

/// What every write takes besides the new version (from `--verify-as`, `--journal-dir`, `--wait`).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Roles that must get in after the write, as the new aws-auth maps them.
    pub verify_as: Vec<String>,
    /// The run directory (default: a new one under the state directory).
    pub journal_dir: Option<PathBuf>,
    /// How long to retry authenticating during verification.
    pub wait: Duration,
}

// ---------------------------------------------------------------------------------------------
// Checks made before anything is read (recover makes them too).

/// A session ARN named as an admin is refused: aws-auth maps roles, not sessions (an
/// assumed-role entry never matches), so the only way to honour it is to map the whole role —
/// every session of it, i.e. everyone who can assume the role. That is not what someone who
/// named one session meant, so they must name the role themselves.
pub fn refuse_session_arn(flag: &str, arn: &str) -> Result<(), AppError> {
    use crate::awsauth::principal::{ArnShape, canonical_role_arn, classify};
    if !matches!(classify(arn), ArnShape::AssumedRole { .. }) {
        return Ok(());
    }
    let role = canonical_role_arn(arn).unwrap_or_else(|| "the role".to_string());
    Err(AppError::usage(
        format!(
            "{flag} {arn}: an assumed-role session ARN. aws-auth cannot map one session; granting it means mapping the whole role {role}, and then EVERYONE who can assume {role} gets system:masters"
        ),
        Some(format!(
            "if that is meant, pass {flag} {role}; to grant one person only, name their IAM user ARN or a role only they can assume"
        )),
    ))
}

/// `--verify-as` names roles to assume after the write (with the caller's credentials) and
/// log in as. Only an IAM role ARN can be assumed: a user ARN cannot (its keys are not ours),
/// a session ARN is the role's session, anything else is a typo. Refused before any change,
/// in --dry-run too, instead of leaving it out of the prediction and retrying a 401.
pub fn check_verify_as(roles: &[String]) -> Result<(), AppError> {
    use crate::awsauth::principal::{ArnShape, canonical_role_arn, classify};
    for r in roles {
        let why = match classify(r) {
            ArnShape::Role { .. } => continue,
            ArnShape::User { .. } => {
                "an IAM user ARN: a user cannot be assumed, so the run cannot log in as it (check a user yourself with its own keys: `eks-breakglass diagnose --cluster NAME`)".to_string()
            }
            ArnShape::AssumedRole { .. } => format!(
                "an assumed-role session ARN: give the role, {}",
                canonical_role_arn(r).unwrap_or_else(|| "arn:aws:iam::ACCOUNT:role/NAME".into())
            ),
            _ => "not an IAM role ARN".to_string(),
        };
        return Err(AppError::usage(
            format!("--verify-as {r}: {why}"),
            Some(
                "give --verify-as arn:aws:iam::ACCOUNT:role/NAME (a role you can assume)"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}

/// Where a restore's new version comes from (`--from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// What still parses in the live aws-auth.
    Salvage,
    /// Node group and Fargate roles from EKS, plus each `--admin-role`.
    Rebuild,
    /// Snapshots under `s3://BUCKET/PREFIX`.
    S3(String),
    /// Snapshots under a local directory.
    Dir(PathBuf),
    /// One file (or `-`).
    File(String),
}

/// What `aws-auth restore` was asked, as plain options.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    pub cluster: String,
    pub from: String,
    pub at: Option<String>,
    pub exact: bool,
    pub admin_roles: Vec<String>,
    pub salvage_fix_arns: Vec<String>,
    pub allow_access_gain: Vec<String>,
}

impl RestoreRequest {
    /// The source `--from` names, after the flag combinations that cannot apply are refused
    /// (before anything is read).
    pub fn source(&self) -> Result<Source, AppError> {
        if self.at.is_some() && matches!(self.from.as_str(), "salvage" | "rebuild") {
            return Err(AppError::usage(
                "--at applies to snapshot sources only",
                None,
            ));
        }
        if !self.salvage_fix_arns.is_empty() && self.from != "salvage" {
            return Err(AppError::usage(
                "--salvage-fix-arns applies to --from salvage only",
                Some("fix the ARNs in the source file instead".to_string()),
            ));
        }
        if !self.admin_roles.is_empty() && self.from != "rebuild" {
            return Err(AppError::usage(
                "--admin-role applies to --from rebuild only",
                Some("add roles to the source file instead".to_string()),
            ));
        }
        for r in &self.admin_roles {
            refuse_session_arn("--admin-role", r)?;
        }
        Ok(match self.from.as_str() {
            "salvage" => Source::Salvage,
            "rebuild" => Source::Rebuild,
            s if s.starts_with("s3://") => Source::S3(s.to_string()),
            s if Path::new(s).is_dir() => Source::Dir(PathBuf::from(s)),
            s => Source::File(s.to_string()),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Candidates: the new version, from bytes, a snapshot, the live object.

fn candidate_error(e: restore::CandidateError) -> AppError {
    AppError::usage(
        e.to_string(),
        Some(
            "give an aws-auth with mapRoles/mapUsers/mapAccounts as strings (`data.mapRoles: |`)"
                .to_string(),
        ),
    )
}

/// The live ConfigMap as an aws-auth document (metadata kept, for rendering).
pub fn live_document(cluster: &str, live: &LiveAwsAuth) -> Result<AwsAuthDocument, AppError> {
    AwsAuthDocument::from_live_json(&format!("cluster/{cluster}"), &live.raw_json)
        .map_err(input_error)
}

/// A candidate from bytes read from `origin`.
pub fn candidate_from_bytes(origin: &str, bytes: &[u8]) -> Result<Candidate, AppError> {
    candidate_for_cluster(origin, bytes, None, None)
}

/// A candidate from bytes read from `origin`, refused when it says it is for another cluster
/// (an eksctl ClusterConfig's metadata.name / metadata.region).
pub fn candidate_for_cluster(
    origin: &str,
    bytes: &[u8],
    cluster: Option<&str>,
    region: Option<&str>,
) -> Result<Candidate, AppError> {
    let doc = awsauth::read_document(origin, bytes).map_err(input_error)?;
    if let Some(cluster) = cluster {
        restore::check_written_for(origin, doc.written_for.as_ref(), cluster, region).map_err(
            |e| {
                AppError::usage(
                    e.to_string(),
                    Some(format!(
                        "give the aws-auth (or the eksctl ClusterConfig) of {cluster} itself"
                    )),
                )
            },
        )?;
    }
    restore::candidate_from_document(&doc).map_err(candidate_error)
}

/// `--at TIME`, parsed.
pub fn parse_at(at: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    at.map(|a| {
        snapshot::parse_at(a).ok_or_else(|| {
            AppError::usage(
                format!("--at {a}: not a time"),
                Some("use RFC 3339 (2026-01-02T10:00:00Z), a date (2026-01-02) or a snapshot name (20260102T100000Z)".to_string()),
            )
        })
    })
    .transpose()
}

/// Reads the snapshot of `cluster` under a local directory.
pub fn snapshot_from_dir(
    dir: &Path,
    cluster: &str,
    at: Option<&str>,
) -> Result<Candidate, AppError> {
    let at_time = parse_at(at)?;
    let history = dir.join(cluster);
    let mut names: Vec<String> = std::fs::read_dir(&history)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let path = match snapshot::pick(&names, at_time) {
        Some(name) => dir.join(snapshot::yaml_path(cluster, name)),
        None if at_time.is_none() && dir.join(snapshot::yaml_name(cluster)).is_file() => {
            dir.join(snapshot::yaml_name(cluster))
        }
        None => {
            return Err(AppError::usage(
                format!(
                    "no snapshot of {cluster} in {}{}",
                    dir.display(),
                    at.map(|a| format!(" taken at or before {a}"))
                        .unwrap_or_default()
                ),
                Some(format!(
                    "snapshots taken: {}; take one with `eks-breakglass aws-auth snapshot --cluster {cluster} --to {}`",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    },
                    dir.display()
                )),
            ));
        }
    };
    let bytes = read_input(&path.display().to_string())?;
    candidate_from_bytes(&format!("snapshot {}", path.display()), &bytes)
}

/// The snapshot to restore among those under `url` (sorted names of snapshot directories):
/// the key of its YAML under `prefix`, relative to the prefix.
pub fn pick_s3_snapshot(
    url: &str,
    cluster: &str,
    mut names: Vec<String>,
    at: Option<&str>,
) -> Result<String, AppError> {
    let at_time = parse_at(at)?;
    names.sort();
    let Some(name) = snapshot::pick(&names, at_time) else {
        return Err(AppError::usage(
            format!("no snapshot of {cluster} under {url}"),
            Some(format!(
                "take one with `eks-breakglass aws-auth snapshot --cluster {cluster} --to {url}`"
            )),
        ));
    };
    Ok(snapshot::yaml_path(cluster, name))
}

/// The candidate `--from salvage` makes of the live object, with what salvage changed or lost
/// (printed as `salvage: …` lines).
pub fn salvage<U: WriteUi>(
    ui: &U,
    cluster: &str,
    live: Option<&LiveAwsAuth>,
    fixes: &[String],
) -> Result<Candidate, AppError> {
    let live = live.ok_or_else(|| {
        AppError::usage(
            format!("{cluster} has no aws-auth to salvage"),
            Some("use --from rebuild, a snapshot or a file".to_string()),
        )
    })?;
    let (c, report) = restore::salvage_candidate(&live.object, fixes).map_err(candidate_error)?;
    for (what, items) in [("changed", &report.changed), ("lost", &report.lost)] {
        for item in items {
            ui.err(&format!(
                "salvage: {what}: {} line {}: {}\n",
                item.section, item.line, item.message
            ));
        }
    }
    Ok(c)
}

/// `aws-auth restore` once the candidate is made: prepared against the live object (and again
/// after a 409 — a salvage made again from the version then in the cluster), the access gain
/// gated by `--allow-access-gain`, then [`write`].
#[allow(clippy::too_many_arguments)]
pub async fn restore<C: AwsAuthCluster, U: WriteUi>(
    g: &Globals,
    cluster: &C,
    ui: &U,
    req: &RestoreRequest,
    live: Option<LiveAwsAuth>,
    node_roles: Vec<awsauth::NodeRoleFact>,
    candidate: Candidate,
    w: &WriteOptions,
) -> Result<u8, AppError> {
    let exact = req.exact;
    let salvage = req.from == "salvage";
    let fixes = req.salvage_fix_arns.clone();
    let make = move |live: Option<&AwsAuthObject>| {
        let c = match live.filter(|_| salvage) {
            Some(l) => restore::salvage_candidate(l, &fixes)
                .map(|(c, _)| c)
                .unwrap_or_else(|_| candidate.clone()),
            None => candidate.clone(),
        };
        restore::prepare(live, c, &node_roles, exact, true)
    };
    let gate = AccessGate::On {
        allowed: req.allow_access_gain.clone(),
    };
    write(
        g,
        cluster,
        ui,
        "aws-auth restore",
        live,
        make,
        w,
        false,
        gate,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The consent a new access gain needs.

/// Whether a write that grants new access needs its own consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessGate {
    /// The operator wrote every line of the new version (`aws-auth edit`).
    Off,
    /// A version the operator did not write line by line (restore, salvage, rebuild):
    /// new access needs `--allow-access-gain` naming it, or a typed consent. `allowed` are the
    /// identities named.
    On { allowed: Vec<String> },
}

/// The NEW gains of `p` no consent names (identity, line for people), and the consents that
/// name no new gain.
pub fn unconsented_gains(p: &Prepared, gate: &AccessGate) -> (Vec<(String, String)>, Vec<String>) {
    let AccessGate::On { allowed } = gate else {
        return (Vec::new(), Vec::new());
    };
    let new = p
        .access
        .unconsented(allowed)
        .iter()
        .map(|c| (c.identity.clone(), c.describe()))
        .collect();
    let unused = p.access.unused_consents(allowed);
    (new, unused.into_iter().map(str::to_string).collect())
}

/// Asks for (or refuses without) the consent a new access gain needs. In `--dry-run` only says
/// what a real run needs.
pub fn access_gate<U: WriteUi>(
    ui: &U,
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<(), AppError> {
    let new = access_gate_pending(ui, g, p, gate, flag_hint)?;
    if new.is_empty() {
        return Ok(());
    }
    ui.confirm_access_gain(&new, flag_hint)
}

/// Everything of [`access_gate`] but the question: the NEW gains still to be consented to at a
/// terminal (empty: nothing to ask). Refuses (exit 4) when there is no terminal or with --yes;
/// in --dry-run says what a real run needs and asks nothing.
pub fn access_gate_pending<U: WriteUi>(
    ui: &U,
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let (new, unused) = unconsented_gains(p, gate);
    if !unused.is_empty() {
        ui.err(&format!(
            "note: --allow-access-gain {}: this write gives no NEW access to that identity (nothing to approve)\n",
            unused.join(", ")
        ));
    }
    if new.is_empty() {
        return Ok(Vec::new());
    }
    if g.dry_run {
        let msg = format!(
            "\nThis write grants NEW access ({} identit{}) without a consent naming it; a real run needs {flag_hint}{} (--yes alone is not enough):\n{}\n",
            new.len(),
            if new.len() == 1 { "y" } else { "ies" },
            consent_flags(&new),
            new.iter()
                .map(|(_, l)| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        say(ui, g, &msg);
        return Ok(Vec::new());
    }
    ui.access_gain_askable(&new, flag_hint)?;
    Ok(new)
}

/// Text for people: stdout, or stderr when stdout carries the JSON result.
fn say<U: WriteUi>(ui: &U, g: &Globals, text: &str) {
    if g.json() { ui.err(text) } else { ui.out(text) }
}

// ---------------------------------------------------------------------------------------------
// The write.

fn print_findings(prepared: &Prepared) -> String {
    let doc = prepared.object.document("candidate");
    let mut out = String::new();
    for f in &prepared.analysis.findings {
        out.push_str(&format_finding(&doc, f));
    }
    out
}

/// Refuses a version with lint errors: prints them; `Some(exit code)` to stop.
fn refuse<U: WriteUi>(
    ui: &U,
    g: &Globals,
    p: &Prepared,
    force: bool,
) -> Result<Option<u8>, AppError> {
    if p.errors() == 0 {
        return Ok(None);
    }
    ui.err(&print_findings(p));
    if p.introduced_errors() == 0 {
        ui.err(&format!(
            "warning: {} lint error(s) above are already in the live aws-auth, in what the new version keeps of it; \
             the restore does not make them worse (fix them later with `eks-breakglass aws-auth edit`)\n",
            p.errors()
        ));
        return Ok(None);
    }
    if force {
        ui.err(&format!(
            "warning: the new version has {} lint error(s); --force writes it anyway after confirmation\n",
            p.introduced_errors()
        ));
        return Ok(None);
    }
    ui.err(&format!(
        "refused: the new version has {} lint error(s); the authenticator would lose what is shown above. Nothing was written.\n",
        p.introduced_errors()
    ));
    if g.json() {
        ui.out(&format!(
            "{}\n",
            serde_json::json!({"changed": false, "refused": "lint_errors", "findings": p.analysis.findings})
        ));
    }
    Ok(Some(exit::FINDINGS))
}

/// Shows what the write changes: notes, the mapping diff, the text diff with -v.
fn show_change<U: WriteUi>(ui: &U, g: &Globals, live: Option<&AwsAuthObject>, p: &Prepared) {
    let mut out = String::new();
    for n in &p.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(&format!(
        "\nChange of kube-system/aws-auth ({}):\n",
        if live.is_some() {
            "replace"
        } else {
            "create: there is none now"
        }
    ));
    out.push_str(&diff_text(&p.diff));
    out.push('\n');
    if !p.access.changes.is_empty() {
        out.push_str(&format!(
            "\nWho gains or loses access ({}):\n",
            p.access.summary()
        ));
        for l in p.access.lines() {
            out.push_str(&format!("  {l}\n"));
        }
    }
    if g.verbose > 0 {
        let render = |o: &AwsAuthObject| {
            let doc = o.document("x");
            awsauth::render::render_manifest(
                &doc,
                &o.data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>(),
                awsauth::RenderOptions { clean: true },
            )
        };
        let old = live.map(render).unwrap_or_default();
        out.push('\n');
        out.push_str(&awsauth::text_diff(&old, &render(&p.object), "live", "new"));
    }
    if p.analysis.warnings() > 0 {
        out.push_str(&format!(
            "\n{} lint warning(s) in the new version:\n{}",
            p.analysis.warnings(),
            print_findings(p)
        ));
    }
    say(ui, g, &out);
}

/// The plan of one write attempt (`attempt` numbers the step and the files).
pub fn write_plan<C: AwsAuthCluster>(
    c: &C,
    command: &str,
    live: Option<&LiveAwsAuth>,
    p: &Prepared,
    attempt: u32,
) -> Plan {
    let suffix = if attempt == 1 {
        String::new()
    } else {
        format!("-{attempt}")
    };
    let before = format!("aws-auth.before{suffix}.json");
    let written = format!("aws-auth.written{suffix}.json");
    let rv = live.and_then(|l| l.resource_version.clone());
    let mut plan = Plan::new(command, c.cluster(), c.region());
    plan.notes = p.notes.clone();
    let step = plan.push(
        match &rv {
            Some(v) => format!("replace kube-system/aws-auth (as read: resourceVersion {v})"),
            None => "create kube-system/aws-auth".to_string(),
        },
        "put the new mappings in force (a compare-and-swap: a change made meanwhile is detected, not overwritten)",
        Action::WriteConfigMap {
            cluster: c.cluster().to_string(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: written.clone(),
            expected_resource_version: rv,
        },
        Undo::RestoreConfigMap {
            cluster: c.cluster().to_string(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: live.map(|_| before.clone()),
            written_file: Some(written.clone()),
        },
    );
    step.id = attempt;
    if let Some(l) = live {
        step.saves.push(SavedState {
            file: before,
            description: "the aws-auth before this write, as read".into(),
            content: l.saved_json.clone(),
        });
    }
    step.saves.push(SavedState {
        file: written,
        description: "the aws-auth this step writes".into(),
        content: c.manifest_json(&p.object),
    });
    plan.then
        .push("read aws-auth back and compare its effective mapping with the prediction".into());
    plan.then.push(format!(
        "authenticate as {} (SelfSubjectReview)",
        c.caller_arn()
    ));
    plan
}

/// Who gets in once the new version is in force: you (the identity used) and each
/// --verify-as role, from the new effective mapping and their access entries. Whether you are
/// the cluster creator (an implicit admin outside aws-auth) is not looked up here, so a
/// refusal of you by the mapping is shown as unknown, not as REFUSED.
pub async fn predictions<C: AwsAuthCluster>(
    c: &C,
    w: &WriteOptions,
    p: &Prepared,
) -> Vec<crate::recovery::recover::Prediction> {
    use crate::recovery::recover::{self, Who};
    let mapping = p.object.mapping();
    let operator = c
        .resolve_principal(c.caller_arn())
        .await
        .unwrap_or_else(|_| c.caller_arn().to_string());
    let outside = c
        .has_access_entry(&operator)
        .await
        .then(|| format!("the access entry of {operator}"));
    let mut you = recover::predict(
        &mapping,
        &Who {
            role: "operator",
            caller_arn: c.caller_arn().to_string(),
            account: c.caller_account().to_string(),
            outside_aws_auth: outside,
        },
    );
    if you.gets_in == Some(false) {
        you.gets_in = None;
        you.how.push_str(
            " (unless you are the cluster creator, whose implicit admin aws-auth restore does not check)",
        );
    }
    let mut out = vec![you];
    for role in &w.verify_as {
        let Some((arn, account)) = recover::session_of(role) else {
            continue;
        };
        let outside = c
            .has_access_entry(role)
            .await
            .then(|| format!("the access entry of {role}"));
        out.push(recover::predict(
            &mapping,
            &Who {
                role: "verify-as",
                caller_arn: arn,
                account,
                outside_aws_auth: outside,
            },
        ));
    }
    out
}

/// Whether the live aws-auth is no longer the version `read` (a failed compare-and-swap).
async fn changed_since<C: AwsAuthCluster>(c: &C, read: Option<&LiveAwsAuth>) -> bool {
    let rv = |l: Option<&LiveAwsAuth>| l.map(|l| l.resource_version.clone());
    match c.read_live().await {
        Ok(now) => rv(now.as_ref()) != rv(read),
        Err(_) => false,
    }
}

/// The shared write: refuse lint errors (unless `force`), plan, confirm, journal, apply with
/// the resourceVersion read, handle a 409, verify. `make` builds the new version against a
/// live object (called again after a 409). `gate` decides whether new access needs its own
/// consent.
#[allow(clippy::too_many_arguments)]
pub async fn write<C: AwsAuthCluster, U: WriteUi>(
    g: &Globals,
    c: &C,
    ui: &U,
    command: &str,
    mut live: Option<LiveAwsAuth>,
    make: impl Fn(Option<&AwsAuthObject>) -> Prepared,
    w: &WriteOptions,
    force: bool,
    gate: AccessGate,
) -> Result<u8, AppError> {
    let mut live_obj = live.as_ref().map(|l| l.object.clone());
    let mut prepared = make(live_obj.as_ref());
    if let Some(code) = refuse(ui, g, &prepared, force)? {
        return Ok(code);
    }
    if prepared.unchanged {
        verify_unchanged(g, c, ui, &prepared, w).await?;
        let msg = "no change: the live aws-auth already is this version; nothing was written";
        if g.json() {
            ui.out(&format!(
                "{}\n",
                serde_json::json!({"cluster": c.cluster(), "changed": false, "message": msg})
            ));
        } else {
            ui.out(&format!("{msg}\n"));
        }
        return Ok(exit::OK);
    }
    show_change(ui, g, live_obj.as_ref(), &prepared);
    let preds = predictions(c, w, &prepared).await;
    let lines: Vec<String> = preds
        .iter()
        .map(|p| {
            format!(
                "    {} {} {}: {}",
                match p.gets_in {
                    Some(true) => "gets in ",
                    Some(false) => "REFUSED ",
                    None => "unknown ",
                },
                p.role,
                p.identity,
                p.how
            )
        })
        .collect();
    say(
        ui,
        g,
        &format!("  after the write (predicted):\n{}\n", lines.join("\n")),
    );
    access_gate(ui, g, &prepared, &gate, "")?;
    let interrupt = ui.catch_interrupt();
    let mut attempt = 1u32;
    let mut journal: Option<Journal> = None;
    let mut dir = PathBuf::new();
    let mut runner: Option<C::Runner<'_>> = None;
    loop {
        let plan = write_plan(c, command, live.as_ref(), &prepared, attempt);
        let (needs, _) = unconsented_gains(&prepared, &gate);
        let needs: Vec<String> = needs.into_iter().map(|(id, _)| id).collect();
        ui.show_plan(
            &plan,
            vec![
                (
                    "access",
                    serde_json::to_value(&prepared.access).unwrap_or_default(),
                ),
                (
                    "needs_consent",
                    serde_json::to_value(needs).unwrap_or_default(),
                ),
                (
                    "predictions",
                    serde_json::to_value(&preds).unwrap_or_default(),
                ),
            ],
        );
        if (attempt == 1 || !g.yes) && ui.confirm(1)? == Decision::DryRun {
            return Ok(exit::OK);
        }
        if journal.is_none() {
            dir = run_dir(w.journal_dir.as_deref(), "aws-auth", &plan.cluster)?;
            journal = Some(crate::commands::plan_ui::start_journal(
                &dir,
                &plan,
                c.caller_arn(),
                c.profile(),
            )?);
            ui.err(&format!("journal: {}\n", dir.display()));
            let status = Box::new(move |m: &str| ui.status(m)) as Box<dyn Fn(&str) + '_>;
            runner = Some(c.runner(dir.clone(), interrupt.clone(), status));
        }
        let (Some(j), Some(r)) = (journal.as_mut(), runner.as_mut()) else {
            return Err(AppError::failed("the journal could not be opened", None));
        };
        let report = plan::apply(&plan, j, r, &interrupt)
            .await
            .map_err(|e| journal_io(&dir, e))?;
        ui.status_done();
        match report.outcome {
            Outcome::Applied => break,
            Outcome::Interrupted { .. } => {
                let undone = plan::undo_all(&report.applied, j, r)
                    .await
                    .map_err(|e| journal_io(&dir, e))?;
                for l in undo_lines(&undone) {
                    ui.err(&format!("{l}\n"));
                }
                let _ = j.record(Event::RunFinished {
                    status: "interrupted".into(),
                });
                return Err(AppError::Interrupted);
            }
            Outcome::Failed { error, .. }
                if attempt < 5 && changed_since(c, live.as_ref()).await =>
            {
                let _ = j.record(Event::Note {
                    text: format!(
                        "attempt {attempt}: aws-auth changed since it was read (compare-and-swap refused); re-reading it"
                    ),
                });
                ui.err(&format!(
                    "\nkube-system/aws-auth was changed by someone else after it was read ({}); nothing was written. Re-reading it.\n",
                    error.message
                ));
                let read_before = live_obj.take();
                live = c.read_live().await?;
                live_obj = live.as_ref().map(|l| l.object.clone());
                prepared = make(live_obj.as_ref());
                let lost =
                    restore::overwritten(read_before.as_ref(), live_obj.as_ref(), &prepared.object);
                if let Some(code) = refuse(ui, g, &prepared, force)? {
                    let _ = j.record(Event::RunFinished {
                        status: "refused".into(),
                    });
                    return Ok(code);
                }
                if prepared.unchanged {
                    let _ = j.record(Event::RunFinished {
                        status: "unchanged".into(),
                    });
                    verify_unchanged(g, c, ui, &prepared, w).await?;
                    ui.out(
                        "no change: the concurrent change already made aws-auth this version; nothing was written\n",
                    );
                    return Ok(exit::OK);
                }
                say(
                    ui,
                    g,
                    "\nThe change, against the version now in the cluster:\n",
                );
                show_change(ui, g, live_obj.as_ref(), &prepared);
                if let Err(e) = access_gate(ui, g, &prepared, &gate, "") {
                    let _ = j.record(Event::RunFinished {
                        status: "refused".into(),
                    });
                    return Err(e);
                }
                attempt += 1;
                if !lost.is_empty() {
                    ui.err(&format!(
                        "The other change touched what this write also changes; writing would overwrite its {}.\n",
                        lost.join(", ")
                    ));
                }
                if g.yes && !lost.is_empty() {
                    let _ = j.record(Event::RunFinished {
                        status: "conflict".into(),
                    });
                    let kept = dir.join(format!("aws-auth.written-{attempt}.json"));
                    let _ = j.save_file(
                        &format!("aws-auth.written-{attempt}.json"),
                        c.manifest_json(&prepared.object).as_bytes(),
                    );
                    return Err(AppError::NeedsConfirmation(format!(
                        "aws-auth changed while this run was writing it, and writing now would overwrite part of the other change ({}); nothing was written. Your version is kept in {}",
                        lost.join(", "),
                        kept.display()
                    )));
                }
            }
            Outcome::Failed { error, .. } if error.maybe_changed => {
                let _ = j.record(Event::RunFinished {
                    status: "failed".into(),
                });
                return Err(AppError::failed(
                    format!(
                        "the write of kube-system/aws-auth got no answer ({}); it may or may not have been applied",
                        error.message
                    ),
                    Some(format!(
                        "check with `eks-breakglass aws-auth show --cluster {}`; to put the previous version back: {} --rollback",
                        c.cluster(),
                        cleanup_command(&dir, c.profile())
                    )),
                ));
            }
            Outcome::Failed { error, .. } => {
                let _ = j.record(Event::RunFinished {
                    status: "failed".into(),
                });
                return Err(AppError::failed(
                    format!("the write of kube-system/aws-auth failed: {}; nothing was changed", error.message),
                    Some(error.hint.unwrap_or_else(|| {
                        "fix the cause and run the command again; the previous version stays as it was".to_string()
                    })),
                ));
            }
        }
    }
    let mut j = journal.ok_or_else(|| AppError::failed("no journal", None))?;
    let outcome = verify(c, ui, &prepared, w).await;
    ui.status_done();
    for line in &outcome.lines {
        let _ = j.record(Event::Note {
            text: format!("verification: {line}"),
        });
    }
    let _ = j.record(Event::RunFinished {
        status: if outcome.ok {
            "applied".into()
        } else {
            "applied_unverified".into()
        },
    });
    let error = (!outcome.ok).then(|| {
        AppError::failed(
            "aws-auth was written but the verification failed (see above)",
            Some(format!(
                "to put the previous version back: {} --rollback",
                cleanup_command(&dir, c.profile())
            )),
        )
    });
    if g.json() {
        // One document: the error, if any, goes into it.
        let mut doc = serde_json::json!({
            "cluster": c.cluster(), "changed": true, "journal": dir,
            "backup": live.as_ref().map(|_| dir.join(if attempt == 1 { "aws-auth.before.json".to_string() } else { format!("aws-auth.before-{attempt}.json") })),
            "diff": prepared.diff, "access": prepared.access, "verification": outcome.json, "verified": outcome.ok,
        });
        let error = error.map(|e| e.into_result(&mut doc));
        ui.out(&format!("{doc}\n"));
        return error.map_or(Ok(exit::OK), Err);
    }
    let mut out = format!("\nApplied. Journal and backup: {}\n", dir.display());
    for l in &outcome.lines {
        out.push_str(&format!("  {l}\n"));
    }
    out.push_str(&format!(
        "Undo: {} --rollback\n",
        cleanup_command(&dir, c.profile())
    ));
    ui.out(&out);
    error.map_or(Ok(exit::OK), Err)
}

// ---------------------------------------------------------------------------------------------
// Verification.

/// What verification found.
pub struct Verified {
    pub ok: bool,
    pub lines: Vec<String>,
    pub json: serde_json::Value,
}

/// After a write: the read-back equals the prediction, the identity used still gets in, each
/// `--verify-as` role gets in as predicted.
pub async fn verify<C: AwsAuthCluster, U: WriteUi>(
    c: &C,
    ui: &U,
    p: &Prepared,
    w: &WriteOptions,
) -> Verified {
    let mut lines = Vec::new();
    let mut ok = true;
    let mut json = serde_json::Map::new();
    // 1. Read back: the effective mapping must be the predicted one, nothing written lost.
    match c.read_live().await {
        Ok(Some(l)) => {
            let problems = restore::check_written(&p.object, &l.object);
            if problems.is_empty() {
                lines.push(format!(
                    "read back: the effective mapping equals the prediction ({} role, {} user, {} account entries)",
                    p.analysis.effective.roles.len(),
                    p.analysis.effective.users.len(),
                    p.analysis.effective.accounts.len()
                ));
            } else {
                ok = false;
                lines.extend(problems.iter().map(|x| format!("read back: {x}")));
            }
            json.insert(
                "read_back".into(),
                serde_json::json!({"ok": problems.is_empty(), "problems": problems}),
            );
        }
        Ok(None) => {
            ok = false;
            lines.push("read back: kube-system/aws-auth is gone".into());
        }
        Err(e) => {
            ok = false;
            lines.push(format!("read back failed: {e}"));
        }
    }
    // 2. The identity used still gets in.
    match c.whoami().await {
        Ok(who) => {
            lines.push(format!(
                "authenticated as {} → username {}, groups [{}]",
                c.caller_arn(),
                who.username,
                who.groups.join(", ")
            ));
            json.insert("identity".into(), serde_json::json!({"arn": c.caller_arn(), "username": who.username, "groups": who.groups}));
        }
        Err(e) => {
            ok = false;
            lines.push(format!("authenticating as {} failed: {e}", c.caller_arn()));
        }
    }
    // 3. Each --verify-as role is mapped as predicted.
    let mut roles = Vec::new();
    for role in &w.verify_as {
        let (good, line, v) = verify_role(c, ui, p, role, w.wait).await;
        ok &= good;
        lines.push(line);
        roles.push(v);
    }
    json.insert("verify_as".into(), serde_json::Value::Array(roles));
    Verified {
        ok,
        lines,
        json: serde_json::Value::Object(json),
    }
}

/// Nothing to write: `--verify-as` still means "this identity must get in", checked against
/// the live aws-auth (which already is the wanted version); a refused role fails (exit 1).
/// Not in a dry run, which only says what would be done.
async fn verify_unchanged<C: AwsAuthCluster, U: WriteUi>(
    g: &Globals,
    c: &C,
    ui: &U,
    p: &Prepared,
    w: &WriteOptions,
) -> Result<(), AppError> {
    if w.verify_as.is_empty() || g.dry_run {
        return Ok(());
    }
    let mut failed = Vec::new();
    for role in &w.verify_as {
        let (good, line, _) = verify_role(c, ui, p, role, w.wait).await;
        ui.status_done();
        ui.err(&format!("  verification: {line}\n"));
        if !good {
            failed.push(role.clone());
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(AppError::failed(
        format!(
            "nothing was written (aws-auth already is this version), but --verify-as failed: {} not let in as required",
            failed.join(", ")
        ),
        Some(format!(
            "map the role in aws-auth (e.g. `eks-breakglass aws-auth edit --cluster {}`), or drop --verify-as",
            c.cluster()
        )),
    ))
}

/// The verdict on one login of a `--verify-as` role, against what the new mapping predicts:
/// `None` while the answer may still change (the mapping not in force yet: retry).
pub fn verify_verdict(
    role: &str,
    expected: &MatchOutcome,
    answer: &Result<LoggedIn, crate::ports::configmap::LoginError>,
) -> Option<(bool, String)> {
    match (expected, answer) {
        (
            MatchOutcome::Mapped {
                username, groups, ..
            },
            Ok(got),
        ) => {
            if &got.username == username && groups.iter().all(|g| got.groups.contains(g)) {
                Some((
                    true,
                    format!(
                        "{role}: authenticated as {} [{}], as the mapping predicts",
                        got.username,
                        got.groups.join(", ")
                    ),
                ))
            } else {
                None
            }
        }
        (MatchOutcome::Mapped { .. }, Err(_)) => None,
        // --verify-as names an identity that must get in (the same meaning as in
        // `recover`): refused is a failed verification, even when the new aws-auth
        // predicted it, because the operator asked for that identity to have access.
        (_, Err(e)) if e.unauthorized => Some((
            false,
            format!(
                "{role}: refused (401): the new aws-auth does not map it, and --verify-as asks that it gets in"
            ),
        )),
        (_, Ok(got)) => Some((
            true,
            format!(
                "{role}: authenticated as {} [{}], though not through aws-auth (an access entry, or the creator)",
                got.username,
                got.groups.join(", ")
            ),
        )),
        (_, Err(e)) => Some((false, format!("{role}: {e}"))),
    }
}

async fn verify_role<C: AwsAuthCluster, U: WriteUi>(
    c: &C,
    ui: &U,
    p: &Prepared,
    role: &str,
    wait: Duration,
) -> (bool, String, serde_json::Value) {
    let (who, login) = match c.assume(role).await {
        Ok(x) => x,
        Err(msg) => {
            return (
                false,
                format!("{role}: {msg}"),
                serde_json::json!({"role": role, "ok": false, "error": msg}),
            );
        }
    };
    let expected = awsauth::match_identity(
        &p.analysis.effective,
        &CallerIdentity {
            arn: who.arn.clone(),
            account: who.account.clone(),
            session_name: None,
            access_key_id: who.access_key_id.clone(),
            ec2_private_dns_name: None,
        },
    );
    let start = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        ui.status(&format!("authenticating as {role} (attempt {attempts})…"));
        let answer = c.whoami_as(&login).await;
        if let Some((good, line)) = verify_verdict(role, &expected, &answer) {
            return (
                good,
                line,
                serde_json::json!({"role": role, "ok": good, "expected": expected, "attempts": attempts}),
            );
        }
        if start.elapsed() >= wait {
            let got = match &answer {
                Ok(w) => format!("username {} groups [{}]", w.username, w.groups.join(", ")),
                Err(e) => e.to_string(),
            };
            return (
                false,
                format!(
                    "{role}: expected {}, the cluster answered {got}",
                    serde_json::to_string(&expected).unwrap_or_default()
                ),
                serde_json::json!({"role": role, "ok": false, "expected": expected, "got": got}),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
pub(crate) mod tests;
