//! aws-auth for people and tools: diagnostics in rustc's layout (an editor or a CI log points
//! straight at the line), SARIF for code scanning, the effective-mapping table, the access diff.
//! Shared by `aws-auth lint/show/diff` and the write side (restore, edit), which show the same.

use crate::awsauth::{
    self, Analysis, AwsAuthDocument, EffectiveMapping, Finding, Mark, NeverReason, RULES,
    SectionState, Severity,
};
use crate::error::AppError;
use crate::workflow::inspect::LintReport;
use std::io::Write as _;

/// One diagnostic in rustc's layout.
pub fn format_finding(doc: &AwsAuthDocument, f: &Finding) -> String {
    format_finding_shifted(doc, f, 0)
}

/// [`format_finding`] for a file that shows the document `offset` lines further down (the
/// reopened file of `aws-auth edit`, under its comment block): the numbers are that file's.
pub fn format_finding_shifted(doc: &AwsAuthDocument, f: &Finding, offset: usize) -> String {
    let mut s = format!("{}[{}]: {}\n", f.severity, f.code, f.message);
    let shown_line = f.line + offset;
    let width = shown_line.to_string().len();
    let pad = " ".repeat(width);
    // A live ConfigMap has no file: point into the data value instead.
    let live = doc.format == awsauth::SourceFormat::Live;
    let (origin, line_text) = match (&f.section, live) {
        (Some(section), true) => (
            format!("{}/{section}", doc.origin),
            doc.value_line_text(section, f.line),
        ),
        _ => (doc.origin.clone(), doc.line_text(f.line)),
    };
    s.push_str(&format!("{pad}--> {origin}:{shown_line}:{}\n", f.column));
    if let Some(text) = line_text {
        let shown: String = text.replace('\t', "→");
        let caret_pad = " ".repeat(f.column.saturating_sub(1));
        s.push_str(&format!(
            "{pad} |\n{shown_line} | {shown}\n{pad} | {caret_pad}^\n"
        ));
    }
    if let Some(fix) = &f.fix {
        s.push_str(&format!("{pad} = fix: {fix}\n"));
    }
    s
}

/// The SARIF 2.1.0 log. Files that could not be read make the invocation unsuccessful
/// (`executionSuccessful: false`, one error notification each), so the log never reads as
/// a clean run.
pub fn sarif(results: &[(AwsAuthDocument, Analysis)], failures: &[String]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let mut out = Vec::new();
    for (doc, a) in results {
        for f in &a.findings {
            let text = match &f.fix {
                Some(fix) => format!("{} Fix: {fix}", f.message),
                None => f.message.clone(),
            };
            out.push(serde_json::json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": sarif_artifact(doc),
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }],
            }));
        }
    }
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "eks-breakglass",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/eks-breakglass/eks-breakglass",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": failures.is_empty(),
                "toolExecutionNotifications": failures
                    .iter()
                    .map(|f| serde_json::json!({"level": "error", "message": {"text": f}}))
                    .collect::<Vec<_>>(),
            }],
            "results": out,
        }],
    })
}

/// SARIF's `artifactLocation` for a document. The schema wants `uri` to be an RFC 3986 URI
/// reference and code scanning resolves a relative one against the checkout: so a relative
/// path is kept relative, percent-encoded (spaces, non-ASCII, `:`), and an absolute one becomes
/// a `file://` URI. Input that is not a file (stdin, a live ConfigMap) gets no `uri` but a
/// description: a made-up path would send a reader to a file that does not exist.
fn sarif_artifact(doc: &AwsAuthDocument) -> serde_json::Value {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    let not_a_file = match doc.format {
        awsauth::SourceFormat::Live | awsauth::SourceFormat::DataMap => Some(format!(
            "live ConfigMap kube-system/aws-auth ({})",
            doc.origin
        )),
        _ if doc.origin == "<stdin>" => Some("standard input".to_string()),
        _ => None,
    };
    if let Some(text) = not_a_file {
        return serde_json::json!({"description": {"text": text}});
    }
    let encoded = utf8_percent_encode(&doc.origin, PATH).to_string();
    let uri = if doc.origin.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    };
    serde_json::json!({"uri": uri})
}

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn mark_text(m: &Mark) -> String {
    match m {
        Mark::NeverMatches { reason } => format!(
            "never matches ({})",
            match reason {
                NeverReason::Path => "path in role ARN",
                NeverReason::SsoPath => "aws-reserved SSO path",
                NeverReason::AssumedRole => "assumed-role ARN",
                NeverReason::Malformed => "malformed ARN",
                NeverReason::Wildcard => "wildcard",
                NeverReason::SsoMatcherDisabled => "sso matcher feature-gated off",
                NeverReason::UserWithEc2Template => "{{EC2PrivateDNSName}} in a user",
            }
        ),
        Mark::ShadowedBy { line } => format!("shadowed by line {line}"),
        Mark::Nondeterministic { lines } => format!(
            "nondeterministic (case variant at line {})",
            lines
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map(|r| r.len()).unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i + 1 == cols {
                    cell.clone()
                } else {
                    format!("{cell:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn state_text(s: SectionState) -> &'static str {
    match s {
        SectionState::Absent => "absent",
        SectionState::Loaded => "loaded",
        SectionState::Lost => "LOST (not valid YAML: no entry loads)",
        SectionState::NotAList => "LOST (not a list: no entry loads)",
    }
}

pub fn show_text(m: &EffectiveMapping) -> String {
    let mut rows = vec![vec![
        "SECTION".to_string(),
        "LINE".into(),
        "ARN".into(),
        "USERNAME".into(),
        "GROUPS".into(),
        "MARKS".into(),
    ]];
    for r in &m.roles {
        let arn = if r.arn.is_empty() {
            format!("sso:{}", r.key)
        } else {
            r.arn.clone()
        };
        rows.push(vec![
            "mapRoles".into(),
            r.line.to_string(),
            arn,
            r.username.clone(),
            r.groups.join(","),
            r.marks.iter().map(mark_text).collect::<Vec<_>>().join("; "),
        ]);
    }
    for u in &m.users {
        rows.push(vec![
            "mapUsers".into(),
            u.line.to_string(),
            u.arn.clone(),
            u.username.clone(),
            u.groups.join(","),
            u.marks.iter().map(mark_text).collect::<Vec<_>>().join("; "),
        ]);
    }
    for acc in &m.accounts {
        rows.push(vec![
            "mapAccounts".into(),
            acc.line.to_string(),
            format!("account {}", acc.account),
            "(caller's ARN)".into(),
            String::new(),
            String::new(),
        ]);
    }
    let mut out = table(&rows);
    out.push_str(&format!(
        "\nmapRoles: {}; mapUsers: {}; mapAccounts: {}\n",
        state_text(m.sections.map_roles),
        state_text(m.sections.map_users),
        state_text(m.sections.map_accounts)
    ));
    out
}

pub fn diff_entry_text(e: &awsauth::diff::DiffEntry) -> String {
    format!("{} → {} [{}]", e.arn, e.username, e.groups.join(", "))
}

/// The mapping-level diff for people: `+`/`-`/`~` per principal, `!` per section state change.
pub fn diff_text(d: &awsauth::MappingDiff) -> String {
    let mut out = String::new();
    for s in &d.sections {
        out.push_str(&format!(
            "! {}: {} → {}\n",
            s.section,
            state_text(s.old),
            state_text(s.new)
        ));
    }
    for (name, ed) in [("role", &d.roles), ("user", &d.users)] {
        for e in &ed.added {
            out.push_str(&format!("+ {name} {}\n", diff_entry_text(e)));
        }
        for e in &ed.removed {
            out.push_str(&format!("- {name} {}\n", diff_entry_text(e)));
        }
        for c in &ed.changed {
            out.push_str(&format!(
                "~ {name} {}\n    was {}\n    now {}\n",
                c.new.arn,
                diff_entry_text(&c.old),
                diff_entry_text(&c.new)
            ));
        }
    }
    for acc in &d.accounts_added {
        out.push_str(&format!("+ account {acc}\n"));
    }
    for acc in &d.accounts_removed {
        out.push_str(&format!("- account {acc}\n"));
    }
    if d.is_empty() {
        out.push_str("no change in effective mappings\n");
    }
    out
}

/// `aws-auth lint` for people: each finding in rustc's layout, then one summary line per input.
pub fn lint_text(results: &[(AwsAuthDocument, Analysis)]) -> String {
    let mut out = String::new();
    for (doc, r) in results {
        for f in &r.findings {
            out.push_str(&format_finding(doc, f));
            out.push('\n');
        }
        let m = &r.effective;
        out.push_str(&format!(
            "{}: {} error{}, {} warning{} ({} role, {} user, {} account entries loaded)\n",
            doc.origin,
            r.errors(),
            if r.errors() == 1 { "" } else { "s" },
            r.warnings(),
            if r.warnings() == 1 { "" } else { "s" },
            m.roles.len(),
            m.users.len(),
            m.accounts.len()
        ));
    }
    out
}

/// `aws-auth lint --output json`: totals, then each input's findings and effective mapping.
pub fn lint_json(r: &crate::workflow::inspect::LintReport) -> serde_json::Value {
    let files: Vec<serde_json::Value> = r
        .results
        .iter()
        .map(|(doc, a)| {
            serde_json::json!({
                "file": doc.origin,
                "format": doc.format,
                "errors": a.errors(),
                "warnings": a.warnings(),
                "findings": a.findings,
                "effective": a.effective,
            })
        })
        .collect();
    serde_json::json!({
        "errors": r.errors,
        "warnings": r.warnings,
        "files": files,
    })
}

/// `aws-auth salvage`'s report for people (on stderr: stdout holds the manifest).
pub fn salvage_text(report: &awsauth::SalvageReport, access: &awsauth::AccessDiff) -> String {
    let mut out = String::new();
    for (title, items) in [
        ("recovered", &report.recovered),
        ("changed", &report.changed),
        ("lost", &report.lost),
    ] {
        out.push_str(&format!("{title} ({}):\n", items.len()));
        for i in items {
            out.push_str(&format!("  {} line {}: {}\n", i.section, i.line, i.message));
        }
    }
    out.push_str(&format!(
        "access, compared with what the input grants now: {}\n",
        access.summary()
    ));
    for l in access.lines() {
        out.push_str(&format!("  {l}\n"));
    }
    out
}

// ------------------------------------------------------------------------------------------
// The read side's output (`aws-auth lint/show/salvage/render/diff/rules`).

/// Writes `s` to stdout, flushed (a closed pipe is an error, not a panic).
pub fn write_out(s: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| AppError::failed(format!("cannot write to stdout: {e}"), None))
}

/// Pretty JSON with a final newline.
pub fn json_string<T: serde::Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| AppError::failed(format!("cannot encode JSON: {e}"), None))
}

/// How the read side prints: SARIF (lint only), JSON or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Text,
    Json,
    Sarif,
}

/// Prints a lint report; the exit code is the report's.
pub fn print_lint(mut report: LintReport, out: Out) -> Result<u8, AppError> {
    // Nothing was linted: only the error (as JSON, by main, with -o json).
    if out != Out::Sarif
        && let Some(e) = report.only_error()
    {
        return Err(e);
    }
    match out {
        Out::Sarif => {
            let failures: Vec<String> = report.unread.iter().map(ToString::to_string).collect();
            write_out(&json_string(&sarif(&report.results, &failures))?)?;
        }
        Out::Json => {
            let mut doc = lint_json(&report);
            // One document: the read errors go into it.
            if let Some(message) = report.failure() {
                let causes: Vec<String> = report.unread.iter().map(ToString::to_string).collect();
                let e = AppError::usage(message, Some(causes.join("; "))).into_result(&mut doc);
                write_out(&json_string(&doc)?)?;
                return Err(e);
            }
            write_out(&json_string(&doc)?)?;
        }
        Out::Text => write_out(&lint_text(&report.results))?,
    }
    report.exit()
}

/// Prints the effective mapping of `doc`; on text, a hint to lint when it has findings
/// (`lint_args`: what to pass `aws-auth lint` for the same input).
pub fn print_show(doc: &AwsAuthDocument, out: Out, lint_args: &str) -> Result<(), AppError> {
    let analysis = awsauth::analyze(doc, &awsauth::ClusterFacts::default());
    if out == Out::Json {
        return write_out(&json_string(&analysis.effective)?);
    }
    write_out(&show_text(&analysis.effective))?;
    if analysis.errors() + analysis.warnings() > 0 {
        eprintln!(
            "{} error(s), {} warning(s): run `eks-breakglass aws-auth lint {lint_args}` for details",
            analysis.errors(),
            analysis.warnings(),
        );
    }
    Ok(())
}

/// Prints a salvage: the manifest on stdout, the report on stderr.
pub fn print_salvage(
    out_: &crate::workflow::inspect::SalvageOutcome,
    out: Out,
) -> Result<(), AppError> {
    write_out(&out_.salvaged.manifest)?;
    if out == Out::Json {
        let mut v = serde_json::to_value(&out_.salvaged.report)
            .map_err(|e| AppError::failed(format!("cannot encode the report: {e}"), None))?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "access".into(),
                serde_json::to_value(&out_.access).unwrap_or_default(),
            );
        }
        eprint!("{}", json_string(&v)?);
    } else {
        eprint!("{}", salvage_text(&out_.salvaged.report, &out_.access));
    }
    Ok(())
}

/// Prints a diff: the mapping changes, then the text diff of the clean renderings.
pub fn print_diff(d: &awsauth::MappingDiff, text: &str, out: Out) -> Result<(), AppError> {
    if out == Out::Json {
        return write_out(&json_string(
            &serde_json::json!({"mapping": d, "text": text}),
        )?);
    }
    let mut s = diff_text(d);
    if !text.is_empty() {
        s.push('\n');
        s.push_str(text);
    }
    write_out(&s)
}

/// Prints the lint rules.
pub fn print_rules(out: Out) -> Result<(), AppError> {
    if out == Out::Json {
        return write_out(&json_string(&RULES)?);
    }
    let mut rows = vec![vec![
        "CODE".to_string(),
        "SEVERITY".into(),
        "NAME".into(),
        "MEANING".into(),
    ]];
    for r in RULES {
        rows.push(vec![
            r.code.into(),
            r.severity.to_string(),
            r.name.into(),
            r.summary.into(),
        ]);
    }
    write_out(&table(&rows))
}
