//! `eks-breakglass aws-auth …` end to end: diagnostics, exit codes, JSON, SARIF, stdin, salvage
//! piped back into lint.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws-auth")
        .join(name)
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("eks-breakglass").expect("binary");
    c.env_remove("AWS_PROFILE").env_remove("AWS_REGION");
    c
}

#[test]
fn lint_points_at_the_seed_mistake_and_exits_3() {
    bin()
        .args(["aws-auth", "lint"])
        .arg(fixture("seed-broken-mapusers.yaml"))
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "error[AA001]: mapUsers is not valid YAML",
        ))
        .stdout(predicate::str::contains("seed-broken-mapusers.yaml:19:"))
        .stdout(predicate::str::contains("19 |      username: bob"))
        .stdout(predicate::str::contains("= fix:"));
}

#[test]
fn clean_file_exits_0() {
    bin()
        .args(["aws-auth", "lint"])
        .arg(fixture("good-basic.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 errors, 0 warnings"));
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    bin()
        .args(["aws-auth", "lint"])
        .arg(fixture("unquoted-account-ids.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[AA020]"));
    bin()
        .args(["aws-auth", "lint", "--deny-warnings"])
        .arg(fixture("unquoted-account-ids.yaml"))
        .assert()
        .code(3);
}

#[test]
fn bad_inputs_exit_2_with_a_clear_message() {
    for (file, text) in [
        ("empty.yaml", "the file is empty"),
        ("binary.bin", "binary data"),
        ("not-yaml.txt", "not YAML or JSON"),
        ("not-configmap.yaml", "not a ConfigMap (found kind Secret)"),
        ("other-configmap.yaml", "named \"coredns\""),
    ] {
        bin()
            .args(["aws-auth", "lint"])
            .arg(fixture(file))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(text));
    }
    bin()
        .args(["aws-auth", "lint", "/nonexistent/aws-auth.yaml"])
        .assert()
        .code(2);
}

#[test]
fn several_files_json_output() {
    let out = bin()
        .args(["--output", "json", "aws-auth", "lint"])
        .arg(fixture("good-basic.yaml"))
        .arg(fixture("role-with-path.yaml"))
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["errors"], 1);
    assert_eq!(v["files"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["files"][1]["findings"][0]["code"], "AA008");
    assert_eq!(v["files"][1]["findings"][0]["line"], 8);
}

#[test]
fn sarif_output() {
    let out = bin()
        .args(["aws-auth", "lint", "--format", "sarif"])
        .arg(fixture("tabs-in-maproles.yaml"))
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("sarif json");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert!(results.iter().any(|r| r["ruleId"] == "AA002"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 9));
    assert!(
        v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .is_some_and(|r| r.len() >= 30)
    );
}

#[test]
fn stdin_and_show_json() {
    let input = std::fs::read(fixture("duplicate-roles.yaml")).expect("fixture");
    let out = bin()
        .args(["--output", "json", "aws-auth", "show", "-"])
        .write_stdin(input)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["roles"][0]["marks"][0]["kind"], "shadowed_by");
    assert_eq!(v["roles"][0]["marks"][0]["line"], 12);
    assert_eq!(v["sections"]["mapRoles"], "loaded");
}

#[test]
fn salvaged_seed_lints_clean() {
    let out = bin()
        .args(["aws-auth", "salvage"])
        .arg(fixture("seed-broken-mapusers.yaml"))
        .assert()
        .code(0)
        .stderr(predicate::str::contains("recovered (3)"))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.contains("user/bob"));
    bin()
        .args(["aws-auth", "lint", "-"])
        .write_stdin(text)
        .assert()
        .code(0);
}

#[test]
fn diff_names_who_changed() {
    bin()
        .args(["aws-auth", "diff"])
        .arg(fixture("good-basic.yaml"))
        .arg(fixture("seed-broken-mapusers.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "- role arn:aws:iam::111122223333:role/Admin",
        ))
        .stdout(predicate::str::contains("! mapUsers: loaded → LOST"))
        .stdout(predicate::str::contains("--- "));
}

#[test]
fn node_role_facts_from_flags() {
    bin()
        .args([
            "aws-auth",
            "lint",
            "--node-role",
            "arn:aws:iam::111122223333:role/other-node-role",
        ])
        .arg(fixture("good-basic.yaml"))
        .assert()
        .code(3)
        .stdout(predicate::str::contains("error[AA022]"));
}

#[test]
fn rules_lists_codes() {
    bin()
        .args(["aws-auth", "rules"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("AA001"))
        .stdout(predicate::str::contains("AA035"));
}
