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
use crate::ui::awsauth::{diff_text, format_finding};
use crate::ui::input::input_error;
pub(crate) use crate::ui::input::read_input;
mod gate;
mod source;
mod verify;
pub use gate::{AccessGate, access_gate, access_gate_pending, unconsented_gains};
pub use source::{
    RestoreRequest, Source, candidate_for_cluster, candidate_from_bytes, live_document, parse_at,
    pick_s3_snapshot, salvage, snapshot_from_dir,
};
use verify::verify_unchanged;
pub use verify::{Verified, verify, verify_verdict};

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
    let mut text = format!("  after the write (predicted):\n{}\n", lines.join("\n"));
    // Mappings an access entry shadows: the principal really gets the entry (issue 17).
    for l in c.shadowed(&prepared.object.mapping()).await {
        text.push_str(&format!("    shadowed: {l}\n"));
    }
    say(ui, g, &text);
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

#[cfg(test)]
pub(crate) mod tests;
