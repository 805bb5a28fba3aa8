//! Review of the `flags` change: each test is a break found by a hostile reviewer, run against
//! moto + eks-sim with the real binary.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;

use common::world::{arn, text};
use drill::Drill;
use std::io::BufRead as _;

/// The on-call engineer pipes recover into `head` (or the terminal goes away): stdout closes
/// after the plan, while the run holds a temporary key of the creator. The run must still delete
/// that key (temporary keys are deleted on failure), not vanish with exit 141.
#[test]
fn a_stdout_closed_mid_recover_still_deletes_the_temporary_key() {
    let d = Drill::start("incident");
    let keys_before = d.w.access_keys("platform-admin");
    let dir = d.run_dir("run");
    let mut child = d.w.spawn(
        &[
            "recover",
            "--cluster",
            &d.cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    // Read the triage and the plan, then go away (like `| head -40`).
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut seen = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        seen.push_str(&l);
        seen.push('\n');
        if l.contains("write the incident report") {
            break;
        }
    }
    drop(lines);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    let keys_after = d.w.access_keys("platform-admin");
    assert!(
        seen.contains("create a temporary access key"),
        "the plan: {seen}"
    );
    assert_eq!(
        keys_after,
        keys_before,
        "a temporary key of the creator was left behind (exit {:?}); stderr: {stderr}; journal: {}",
        out.status.code(),
        std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default()
    );
}

/// The JSON documents on stdout (a script does `json.load(stdout)`: it needs exactly one).
fn json_docs(stdout: &str) -> Result<Vec<serde_json::Value>, String> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{e}: {stdout}"))
}

/// `--format` is kept as a hidden alias of `--output`, and `-o=json` is clap's spelling of
/// `-o json`: a usage error with either must be JSON on stdout as with `-o json`.
#[test]
fn a_usage_error_is_json_on_stdout_with_every_spelling_of_output_json() {
    let mut failures = Vec::new();
    for spelling in [
        &["--format", "json"][..],
        &["--format=json"][..],
        &["-o=json"][..],
        &["--output", "json"][..],
    ] {
        let out = common::product()
            .args(["aws-auth", "lint"])
            .args(spelling)
            .args(["--no-such-flag", "x.yaml"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{spelling:?}");
        let stdout = text(&out.stdout);
        let docs = json_docs(&stdout);
        if !matches!(&docs, Ok(d) if d.len() == 1 && d[0]["error"].is_object()) {
            failures.push(format!("{spelling:?}: stdout is not one JSON error: {stdout:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With `-o json`, recover whose `--verify-as` identity is refused prints its report as JSON
/// and then the error as JSON: stdout holds two documents, which `jq .report` or
/// `json.load` cannot read as one result.
#[test]
fn recover_with_output_json_prints_one_json_document_when_verification_fails() {
    let d = Drill::start("incident");
    d.w.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "nobody-maps-me",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    ]);
    let dir = d.run_dir("run");
    let out = d
        .product()
        .args(["recover", "--cluster", &d.cluster, "--yes", "-o", "json", "--journal-dir"])
        .arg(&dir)
        .args(["--verify-as", &arn("role/nobody-maps-me")])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let docs = json_docs(&stdout).unwrap();
    assert_eq!(
        docs.len(),
        1,
        "stdout holds {} JSON documents: {:?}",
        docs.len(),
        docs.iter()
            .map(|d| d.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
}
