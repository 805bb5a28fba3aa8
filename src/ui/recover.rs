//! The text `recover` ends with: the status, each check, what was cleaned up, the AWS calls,
//! and where the report, the backup and the undo are.

use crate::recovery::recover::IncidentReport;
use crate::workflow::recover::{BACKUP_FILE, REPORT_MD};

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
