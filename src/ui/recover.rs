//! The text `recover` ends with: the status, each check, what was cleaned up, the AWS calls,
//! and where the report, the backup and the undo are.

use crate::error::AppError;
use crate::exit;
use crate::recovery::recover::IncidentReport;
use crate::workflow::recover::{BACKUP_FILE, REPORT_MD, RecoverReport};
use crate::workflow::triage::Triage;

/// The end of a run that wrote aws-auth (temporary credentials already gone: a closed stdout
/// only ends the process): one JSON document (the error, if any, in it), or the summary.
pub fn render(json: bool, done: RecoverReport, triage: &Triage) -> Result<u8, AppError> {
    if json {
        let mut doc = serde_json::json!({"report": done.report, "plan": done.plan, "triage": triage, "access": done.access, "predicted": done.predicted});
        let error = done.error.map(|e| e.into_result(&mut doc));
        super::out(&format!("{doc}\n"))?;
        return error.map_or(Ok(exit::OK), Err);
    }
    super::out(&format!("\n{}\n", summary(&done.report)))?;
    done.error.map_or(Ok(exit::OK), Err)
}

/// The closing summary of a run that wrote aws-auth.
pub fn summary(r: &IncidentReport) -> String {
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
