//! `cleanup`: undo a break-glass run from its journal — the scaffolding of getting in, and,
//! only when asked by name, the run's result (`--rollback`).
//!
//! Two different wishes, kept apart on purpose. Right after a successful `recover`, "clean up"
//! means: take away the scaffolding of getting in — temporary keys, trust statements, recreated
//! users and roles — and keep the fix (the restored aws-auth, the access entry). Putting the
//! earlier aws-auth back would lock everyone out again. So plain cleanup removes the
//! scaffolding only; a rollback also reverses the run's result, shows the lint verdict of the
//! aws-auth it would put back, and refuses one that lets no person in (or not the operator)
//! unless forced.
//!
//! What is undone is only what the journal proves is the run's ([`journal::pending_undos`]);
//! irreversible steps — including an authentication-mode switch cut off mid-flight — are
//! listed, never touched. Each undo checks the world's state first (the runner's job), so
//! cleanup twice is safe. The world is reached through `ports::undo`; the operator through
//! `ports::configmap::WriteUi`.

use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::configmap::{Decision, WriteUi};
use crate::ports::undo::UndoWorld;
use crate::recovery::journal::{self, Event, Journal, Record};
use crate::recovery::plan::{self, Applied, Undo};
use crate::recovery::restore::AwsAuthObject;
use crate::recovery::rollback::{self, CallerVerdict, RollbackVerdict};
use crate::workflow::rundir::{cleanup_command, journal_io, undo_json, undo_lines};
use std::path::{Path, PathBuf};

/// What the cleanup was asked.
#[derive(Debug, Clone, Default)]
pub struct CleanupOptions {
    /// Also reverse the run's result.
    pub rollback: bool,
    /// With `rollback`: put back an aws-auth that locks everyone (or the operator) out.
    pub force: bool,
}

/// Which run the journal is of (its `run_started` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOf {
    pub command: String,
    pub cluster: String,
    pub region: String,
}

/// The run the journal records: `None` when it was killed between creating the journal and
/// its first record (nothing was changed); an error when there is no run header but steps.
pub fn run_of(dir: &Path, records: &[Record]) -> Result<Option<RunOf>, AppError> {
    if journal::run_header(records).is_none()
        && !records
            .iter()
            .any(|r| matches!(r.event, Event::StepStarted { .. }))
    {
        return Ok(None);
    }
    journal::run_header(records)
        .map(|(c, cl, r, _)| RunOf {
            command: c.to_string(),
            cluster: cl.to_string(),
            region: r.to_string(),
        })
        .map(Some)
        .ok_or_else(|| {
            AppError::failed(
                format!("{} has no run_started record", dir.display()),
                Some("pass the directory of a run made by eks-breakglass".to_string()),
            )
        })
}

/// An aws-auth rollback and the verdict on the version it would restore.
#[derive(Debug, Clone)]
pub struct Judged {
    pub step: u32,
    pub verdict: Result<RollbackVerdict, String>,
    /// The saved aws-auth itself (to predict who gets in with it).
    pub object: Option<AwsAuthObject>,
    /// Whether the operator running the rollback gets in with it (`Err`: cannot tell).
    pub caller: Option<Result<CallerVerdict, String>>,
    /// The run created aws-auth (there was none before): the undo DELETES it, which lets no
    /// one in through aws-auth — judged as an aws-auth that maps nobody.
    pub deletes: bool,
}

impl Judged {
    /// What the undo puts back, for people.
    pub fn puts_back(&self, v: &RollbackVerdict) -> String {
        if self.deletes {
            format!(
                "no aws-auth at all (the run created it; the undo deletes it): {}",
                v.describe()
            )
        } else {
            v.describe()
        }
    }
}

/// What the cleanup would do, decided from the journal alone.
#[derive(Debug, Clone)]
pub struct CleanupPlan {
    pub run: RunOf,
    /// The undos to make (in journal order; made latest first).
    pub pending: Vec<Applied>,
    /// The run's result, kept (not a rollback).
    pub kept: Vec<Applied>,
    /// Steps that cannot be undone (left as is), with why.
    pub irreversible: Vec<(u32, String)>,
    /// Each aws-auth the rollback would put back, judged.
    pub judged: Vec<Judged>,
}

/// Splits what the journal proves is the run's into what goes and what stays, and lists what
/// cannot be undone.
pub fn plan_cleanup(run: RunOf, records: &[Record], rollback: bool) -> CleanupPlan {
    let mut all = journal::pending_undos(records);
    if rollback {
        // A fix that reached its create (done or maybe done) is rolled back to no entry: making
        // the deleted entry again after deleting the run's would undo the rollback itself.
        let made: Vec<(String, String)> = all
            .iter()
            .filter_map(|a| match &a.undo {
                Undo::DeleteAccessEntry {
                    cluster,
                    principal_arn,
                    ..
                } => Some((cluster.clone(), principal_arn.clone())),
                _ => None,
            })
            .collect();
        all.retain(|a| match &a.undo {
            Undo::RecreateAccessEntry {
                cluster,
                principal_arn,
                ..
            } => !made.contains(&(cluster.clone(), principal_arn.clone())),
            _ => true,
        });
    }
    let (pending, kept): (Vec<Applied>, Vec<Applied>) = all
        .into_iter()
        .partition(|a| rollback || a.undo.is_temporary_kind());
    let mut irreversible = journal::irreversible_done(records);
    for (step, what) in journal::irreversible_interrupted(records) {
        irreversible.push((
            step,
            format!(
                "{what} — started but never recorded as finished (the run was cut off): it may have happened, and cannot be undone; check the cluster with `aws eks describe-cluster --name {}`",
                run.cluster
            ),
        ));
    }
    CleanupPlan {
        run,
        pending,
        kept,
        irreversible,
        judged: Vec::new(),
    }
}

/// Judges every aws-auth restore of the rollback (the saved file, checked against the
/// journal). An undo with no saved previous version deletes aws-auth (the run created it):
/// it is judged as the empty aws-auth it leaves — nobody gets in through it.
pub fn judge_restores<W: UndoWorld>(world: &W, dir: &Path, undos: &[Applied]) -> Vec<Judged> {
    undos
        .iter()
        .filter_map(|a| match &a.undo {
            Undo::RestoreConfigMap {
                previous_file: Some(f),
                ..
            } => {
                let object = journal::read_saved(dir, f)
                    .map_err(|e| e.to_string())
                    .and_then(|b| world.saved_object(f, &b));
                Some(Judged {
                    step: a.step,
                    verdict: object.as_ref().map(rollback::judge).map_err(Clone::clone),
                    object: object.ok(),
                    caller: None,
                    deletes: false,
                })
            }
            Undo::RestoreConfigMap {
                previous_file: None,
                ..
            } => {
                let none = AwsAuthObject::default();
                Some(Judged {
                    step: a.step,
                    verdict: Ok(rollback::judge(&none)),
                    object: Some(none),
                    caller: None,
                    deletes: true,
                })
            }
            _ => None,
        })
        .collect()
}

/// Predicts, for each restore judged, whether `caller` (who the cleanup acts as) gets in with
/// the aws-auth it puts back (`Err`: who the caller is could not be told).
pub fn judge_caller(
    judged: &mut [Judged],
    caller: &Result<crate::awsauth::CallerIdentity, String>,
) {
    for j in judged {
        if let Some(obj) = &j.object {
            j.caller = Some(
                caller
                    .as_ref()
                    .map_err(Clone::clone)
                    .map(|c| rollback::caller_verdict(obj, c)),
            );
        }
    }
}

/// Refuses a rollback that puts back an aws-auth locking everyone out, or the operator out
/// (or one that cannot be judged), unless `force`.
pub fn refusal(plan: &CleanupPlan, dir: &Path, force: bool) -> Result<(), AppError> {
    if force {
        return Ok(());
    }
    let lockouts: Vec<String> = plan
        .judged
        .iter()
        .filter_map(|j| match &j.verdict {
            Ok(v) if v.locks_everyone_out => Some(format!("step {}: {}", j.step, j.puts_back(v))),
            Err(e) => Some(format!(
                "step {}: cannot judge the saved aws-auth: {e}",
                j.step
            )),
            Ok(_) => None,
        })
        .collect();
    if !lockouts.is_empty() {
        return Err(AppError::usage(
            format!(
                "the rollback would restore an aws-auth that locks everyone out ({}); nothing was changed",
                lockouts.join("; ")
            ),
            Some(format!(
                "remove only the temporary things with `eks-breakglass cleanup --journal {}` (no --rollback); or, if that is really what you want, add --force",
                dir.display()
            )),
        ));
    }
    let locked_self: Vec<String> = plan
        .judged
        .iter()
        .filter_map(|j| match &j.caller {
            Some(Ok(v)) if v.gets_in_as.is_none() => {
                Some(format!("step {}: {}", j.step, v.describe()))
            }
            Some(Err(e)) => Some(format!(
                "step {}: cannot predict whether you get in with it: {e}",
                j.step
            )),
            _ => None,
        })
        .collect();
    if !locked_self.is_empty() {
        return Err(AppError::usage(
            format!(
                "the rollback would lock you out again ({}); nothing was changed",
                locked_self.join("; ")
            ),
            Some(format!(
                "remove only the temporary things with `eks-breakglass cleanup --journal {}` (no --rollback); or, if you accept losing your own access, add --force",
                dir.display()
            )),
        ));
    }
    Ok(())
}

/// The whole cleanup of the run in `dir` (`held`: its journal, locked; `None` in a dry run).
#[allow(clippy::too_many_arguments)]
pub async fn cleanup<W: UndoWorld, U: WriteUi>(
    g: &Globals,
    world: &W,
    ui: &U,
    dir: &Path,
    held: Option<Journal>,
    records: &[Record],
    run: RunOf,
    opts: &CleanupOptions,
) -> Result<u8, AppError> {
    let mut p = plan_cleanup(run, records, opts.rollback);
    p.judged = judge_restores(world, dir, &p.pending);
    // Predict, before anything is shown or applied, whether the operator running the rollback
    // gets in with the aws-auth it puts back (the authenticator's lookup on the saved version),
    // as the identity the cleanup acts as.
    if p.judged.iter().any(|j| j.object.is_some()) {
        let caller = world
            .caller()
            .await
            .map_err(|e| format!("cannot tell who you are (sts:GetCallerIdentity): {e}"));
        judge_caller(&mut p.judged, &caller);
    }
    let left = left_lines(&p.irreversible, &p.kept, dir);
    if p.pending.is_empty() {
        if g.json() {
            let mut v = serde_json::json!({"journal": dir, "undone": []});
            extend(&mut v, left_json(&p));
            ui.out(&format!("{v}\n"));
        } else {
            ui.out(&format!("Nothing to undo in {}.\n{left}", dir.display()));
        }
        return Ok(exit::OK);
    }
    show_undo_plan(ui, g, dir, &p, &left, opts.rollback);
    refusal(&p, dir, opts.force)?;
    // --dry-run changes nothing, whatever the operator's port answers: decided here.
    if g.dry_run {
        if !g.json() {
            ui.out("\n(dry run: nothing was changed)\n");
        }
        return Ok(exit::OK);
    }
    if ui.confirm(p.pending.len())? == Decision::DryRun {
        return Ok(exit::OK);
    }
    let Some(mut journal) = held else {
        return Ok(exit::OK);
    };
    let interrupt = ui.catch_interrupt();
    let status = Box::new(move |m: &str| ui.status(m)) as Box<dyn Fn(&str) + '_>;
    let kube_undo = p
        .pending
        .iter()
        .any(|a| matches!(a.undo, Undo::RestoreConfigMap { .. }));
    let mut runner = world
        .runner(dir.to_path_buf(), interrupt, status, kube_undo)
        .await?;
    let reports = plan::undo_all(&p.pending, &mut journal, &mut runner)
        .await
        .map_err(|e| journal_io(dir, e))?;
    ui.status_done();
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    let _ = journal.record(Event::RunFinished {
        status: if failed == 0 {
            "cleaned".into()
        } else {
            "cleanup_incomplete".into()
        },
    });
    if g.json() {
        let mut v = serde_json::json!({"journal": dir, "rollback": opts.rollback, "undone": undo_json(&reports)});
        extend(&mut v, left_json(&p));
        ui.out(&format!("{v}\n"));
    } else {
        let mut out = format!(
            "\n{} of {}:\n",
            if opts.rollback { "Rollback" } else { "Cleanup" },
            dir.display()
        );
        for l in undo_lines(&reports) {
            out.push_str(&format!("  {l}\n"));
        }
        out.push_str(&left);
        ui.out(&out);
    }
    if failed > 0 {
        return Err(AppError::failed(
            format!("{failed} undo(s) failed; the others were done"),
            Some(format!(
                "fix the cause above and run `{}` again (it only redoes what is left)",
                cleanup_command(dir, world.profile())
            )),
        ));
    }
    Ok(exit::OK)
}

fn extend(v: &mut serde_json::Value, more: serde_json::Value) {
    if let (Some(o), serde_json::Value::Object(l)) = (v.as_object_mut(), more) {
        o.extend(l);
    }
}

fn left_json(p: &CleanupPlan) -> serde_json::Value {
    serde_json::json!({
        "left_as_is": p.irreversible.iter().map(|(s, w)| serde_json::json!({"step": s, "what": w})).collect::<Vec<_>>(),
        "kept": p.kept.iter().map(|a| serde_json::json!({"step": a.step, "what": a.undo.describe()})).collect::<Vec<_>>(),
    })
}

/// What stays, for people: irreversible steps, and the run's result when not rolling back.
pub fn left_lines(irreversible: &[(u32, String)], kept: &[Applied], dir: &Path) -> String {
    let mut out = String::new();
    for (step, what) in irreversible {
        out.push_str(&format!("  ! step {step}: left as is: {what}\n"));
    }
    for a in kept {
        out.push_str(&format!(
            "  = step {} stays (the run's result, kept): {}\n",
            a.step,
            a.undo.describe()
        ));
    }
    if !kept.is_empty() {
        out.push_str(&format!(
            "    to reverse the result too (it may lock people out again): eks-breakglass cleanup --journal {} --rollback\n",
            dir.display()
        ));
    }
    out
}

/// The undo plan: the undos themselves (the calls they make), latest first.
fn show_undo_plan<U: WriteUi>(
    ui: &U,
    g: &Globals,
    dir: &Path,
    p: &CleanupPlan,
    left: &str,
    rollback: bool,
) {
    if g.json() && g.dry_run {
        ui.out(&format!(
            "{}\n",
            serde_json::json!({
                "dry_run": true, "journal": dir, "rollback": rollback,
                "undo": p.pending.iter().rev().collect::<Vec<_>>(),
                "restores": p.judged.iter().map(|j| serde_json::json!({
                    "step": j.step,
                    "verdict": j.verdict.as_ref().ok(),
                    "caller": j.caller.as_ref().and_then(|c| c.as_ref().ok()),
                    "deletes": j.deletes,
                    "error": j.verdict.as_ref().err(),
                })).collect::<Vec<_>>(),
            })
        ));
        return;
    }
    let RunOf {
        command,
        cluster,
        region,
    } = &p.run;
    let mut out = format!(
        "{} plan for run {} ({command}, cluster {cluster}, region {region}): {} undo(s)\n",
        if rollback { "Rollback" } else { "Cleanup" },
        dir.display(),
        p.pending.len()
    );
    out.push_str(left);
    for a in p.pending.iter().rev() {
        out.push_str(&format!(
            "\n  - undo step {}: {}\n",
            a.step,
            a.undo.describe()
        ));
        if a.uncertain {
            out.push_str("    (the step did not finish: AWS's state is checked first)\n");
        }
        if let Some(call) = a.undo.call() {
            out.push_str(&format!("    call: {call}\n"));
        }
        if let Some(j) = p.judged.iter().find(|j| j.step == a.step) {
            match &j.verdict {
                Ok(v) => out.push_str(&format!("    puts back: {}\n", j.puts_back(v))),
                Err(e) => out.push_str(&format!("    puts back: cannot be judged: {e}\n")),
            }
            match &j.caller {
                Some(Ok(v)) => out.push_str(&format!("    {}\n", v.describe())),
                Some(Err(e)) => out.push_str(&format!(
                    "    whether you get in with it: cannot tell ({e})\n"
                )),
                None => {}
            }
        }
    }
    if g.json() { ui.err(&out) } else { ui.out(&out) }
}

/// The run directory to clean: the one named, else the latest run under the state directory.
pub fn run_dir_of(explicit: Option<&Path>) -> Result<PathBuf, AppError> {
    Ok(match explicit {
        Some(d) => d.to_path_buf(),
        None => journal::latest_run(&journal::default_runs_dir()?)?,
    })
}

#[cfg(test)]
mod tests;
