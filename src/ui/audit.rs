//! The fleet audit for people (a table, then the flagged clusters with their fixes, then what
//! could not be read) and for spreadsheets (CSV).

use crate::recovery::audit::{self, Assessment, AuditError};
use std::io::IsTerminal as _;
use std::time::Duration;

fn creator_cell(a: &Assessment) -> String {
    match (&a.creator_source, a.creator_state.as_str()) {
        (Some(src), state) => format!("{state} ({src})"),
        (None, state) => state.to_string(),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) | None => "yes",
        Some(false) => "no",
    }
}

/// The table, then the flagged clusters with their fixes, then errors.
pub fn render_table(items: &[Assessment], errors: &[AuditError]) -> String {
    let header = [
        "ACCOUNT",
        "REGION",
        "CLUSTER",
        "MODE",
        "CREATOR-ADMIN",
        "CREATOR",
        "BREAK-GLASS",
        "AWS-AUTH",
        "ENDPOINT",
    ];
    let rows: Vec<[String; 9]> = items
        .iter()
        .map(|a| {
            [
                a.account.clone(),
                a.region.clone(),
                a.cluster.clone(),
                a.auth_mode.clone(),
                yes_no(a.creator_admin).to_string(),
                creator_cell(a),
                if a.flagged {
                    "NONE (flagged)".to_string()
                } else {
                    a.path.as_str().to_string()
                },
                a.aws_auth.clone(),
                a.endpoint.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    let flagged: Vec<&Assessment> = items.iter().filter(|a| a.flagged).collect();
    if !flagged.is_empty() {
        out.push_str("\nFlagged: no way back in if aws-auth breaks\n");
        for a in flagged {
            out.push_str(&format!("  {} {} {}\n", a.account, a.region, a.cluster));
            for f in a.findings.iter().filter(|f| f.level != audit::Level::Info) {
                out.push_str(&format!("    - {}: {}\n", f.level.as_str(), f.message));
                if let Some(fix) = &f.fix {
                    out.push_str(&format!("      fix: {fix}\n"));
                }
            }
        }
    }
    if !errors.is_empty() {
        out.push_str("\nCould not audit:\n");
        for e in errors {
            out.push_str(&format!(
                "  {} {}{}: {}\n",
                e.account,
                e.region,
                e.cluster
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default(),
                e.message
            ));
        }
    }
    out.push('\n');
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One line per cluster; findings joined with "; ".
pub fn render_csv(items: &[Assessment]) -> String {
    let mut out = String::from(
        "account,region,cluster,arn,auth_mode,creator_admin,endpoint,creator_arn,creator_kind,\
         creator_source,creator_state,creator_same_id,breakglass_entry,aws_auth,path,flagged,findings\n",
    );
    let opt_bool = |b: Option<bool>| b.map(|b| b.to_string()).unwrap_or_default();
    for a in items {
        let findings: Vec<String> = a
            .findings
            .iter()
            .map(|f| format!("{}:{}", f.level.as_str(), f.code))
            .collect();
        let cells = [
            a.account.clone(),
            a.region.clone(),
            a.cluster.clone(),
            a.arn.clone(),
            a.auth_mode.clone(),
            opt_bool(a.creator_admin),
            a.endpoint.clone(),
            a.creator_arn.clone().unwrap_or_default(),
            a.creator_kind.clone().unwrap_or_default(),
            a.creator_source.clone().unwrap_or_default(),
            a.creator_state.clone(),
            opt_bool(a.creator_same_id),
            a.breakglass_entry.clone(),
            a.aws_auth.clone(),
            a.path.as_str().to_string(),
            a.flagged.to_string(),
            findings.join("; "),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// The progress bar of `audit` on a terminal's stderr (hidden otherwise).
pub fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} clusters ({elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(120));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
