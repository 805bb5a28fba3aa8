//! The run directory and journal a run that changes things keeps, and the lines it says about
//! them. Shared by the workflows (recover, get-in) and the commands that print them; the
//! journal's file I/O itself is `crate::recovery::journal`'s.

use crate::error::AppError;
use crate::recovery::journal::{self, Journal, JournalError};
use crate::recovery::plan::{Plan, UndoReport, Undone};
use std::path::{Path, PathBuf};

impl From<JournalError> for AppError {
    fn from(e: JournalError) -> Self {
        let hint = e.hint();
        AppError::failed(e.to_string(), hint)
    }
}

/// The `cleanup` command that undoes the run in `dir`, acting as the profile the run used: the
/// printed command, run in the same shell, must not act as whoever exported keys there.
/// (The run's region is in its journal, and cleanup uses it.)
pub fn cleanup_command(dir: &Path, profile: Option<&str>) -> String {
    let mut s = format!("eks-breakglass cleanup --journal {}", dir.display());
    if let Some(p) = profile {
        s.push_str(&format!(" --profile {p}"));
    }
    s
}

/// An I/O error of the journal while applying: the run must stop, and say where it is.
pub fn journal_io(dir: &Path, e: std::io::Error) -> AppError {
    AppError::failed(
        format!("cannot write the journal in {}: {e}", dir.display()),
        Some(format!(
            "nothing more was changed; undo what was done with `eks-breakglass cleanup --journal {}`",
            dir.display()
        )),
    )
}

/// The run directory: `--journal-dir`, else a new one under the state directory.
pub fn run_dir(explicit: Option<&Path>, command: &str, cluster: &str) -> Result<PathBuf, AppError> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => Ok(journal::default_runs_dir()?.join(journal::run_dir_name(
            chrono::Utc::now(),
            command,
            cluster,
        ))),
    }
}

/// Opens a new journal for `plan` and records its start.
pub fn start_journal(
    dir: &Path,
    plan: &Plan,
    caller: &str,
    profile: Option<&str>,
) -> Result<Journal, AppError> {
    let mut j = Journal::create(dir)?;
    j.record(journal::Event::RunStarted {
        command: plan.command.clone(),
        cluster: plan.cluster.clone(),
        region: plan.region.clone(),
        caller: caller.to_string(),
        profile: profile.map(str::to_string),
        plan: plan.clone(),
    })
    .map_err(|e| journal_io(dir, e))?;
    Ok(j)
}

/// What undos did, one line each.
pub fn undo_lines(reports: &[UndoReport]) -> Vec<String> {
    reports
        .iter()
        .map(|r| match &r.result {
            Ok(Undone::Reversed(d)) => format!("step {}: undone: {d}", r.step),
            Ok(Undone::AlreadyClean(d)) => format!("step {}: nothing to undo: {d}", r.step),
            Ok(Undone::Skipped(d)) => format!("step {}: left as is: {d}", r.step),
            Err(e) => format!(
                "step {}: UNDO FAILED ({}): {}{}",
                r.step,
                r.description,
                e.message,
                e.hint
                    .as_deref()
                    .map(|h| format!(" — {h}"))
                    .unwrap_or_default()
            ),
        })
        .collect()
}

/// The JSON of undo reports.
pub fn undo_json(reports: &[UndoReport]) -> serde_json::Value {
    serde_json::Value::Array(
        reports
            .iter()
            .map(|r| match &r.result {
                Ok(u) => serde_json::json!({"step": r.step, "undo": r.description, "result": u}),
                Err(e) => serde_json::json!({"step": r.step, "undo": r.description, "error": e}),
            })
            .collect(),
    )
}
