//! The CI integrations of `aws-auth lint`, exercised rather than only written down:
//! `.pre-commit-hooks.yaml` through pre-commit itself (the pinned PyPI release: its manifest
//! check, then `try-repo` on a scratch repository), and the GitHub Actions example's lint step
//! run as the runner would run it, its SARIF validated against the SARIF 2.1.0 schema.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
}

/// PATH with the product's directory first.
fn path_with_product() -> String {
    let bin = assert_cmd::cargo::cargo_bin("eks-breakglass");
    let dir = bin.parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

#[test]
fn pre_commit_accepts_the_hooks_and_the_system_hook_gates_on_lint() {
    let root = common::root();
    if Command::new("git")
        .current_dir(&root)
        .args(["rev-parse", "HEAD"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("skipped: the workspace is not a git checkout (pre-commit try-repo needs one)");
        return;
    }
    let pre_commit = common::venv_bin("pre-commit");
    let out = Command::new(&pre_commit)
        .current_dir(&root)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::create_dir_all(r.join("manifests")).unwrap();
    let fixture = |n: &str| std::fs::read(root.join("tests/fixtures/aws-auth").join(n)).unwrap();
    std::fs::write(
        r.join("manifests/aws-auth.yaml"),
        fixture("good-basic.yaml"),
    )
    .unwrap();
    // Not an aws-auth name: never handed to the hook, even though it would fail lint.
    std::fs::write(r.join("manifests/values.yaml"), "not: [an, aws-auth\n").unwrap();
    git(r, &["init", "-q"]);
    git(r, &["add", "."]);
    let try_repo = |extra: &str| {
        if !extra.is_empty() {
            std::fs::write(r.join("manifests/aws-auth-staging.yaml"), fixture(extra)).unwrap();
            git(r, &["add", "."]);
        }
        Command::new(&pre_commit)
            .current_dir(r)
            .args(["try-repo"])
            .arg(&root)
            .args(["aws-auth-lint-system", "--all-files"])
            .env("PRE_COMMIT_HOME", home.path())
            .env("PATH", path_with_product())
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap()
    };
    let clean = try_repo("");
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(text(&clean).contains("Passed"), "{}", text(&clean));

    let broken = try_repo("seed-broken-mapusers.yaml");
    let t = text(&broken);
    assert!(!broken.status.success(), "{t}");
    assert!(t.contains("exit code: 3"), "{t}");
    assert!(
        t.contains("error[AA001]: mapUsers is not valid YAML"),
        "{t}"
    );
    assert!(t.contains("manifests/aws-auth-staging.yaml:19:"), "{t}");
    assert!(
        !t.contains("values.yaml"),
        "the hook linted a file it should not match: {t}"
    );
}

#[test]
fn the_github_actions_example_lint_step_writes_valid_sarif_and_fails_on_findings() {
    let root = common::root();
    let wf: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root.join("docs/examples/github-actions-aws-auth-lint.yml"))
            .unwrap(),
    )
    .expect("the example workflow is YAML");
    assert_eq!(wf["permissions"]["security-events"], "write");
    let steps = wf["jobs"]["lint"]["steps"].as_array().expect("steps");
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no step {name}"))
            .clone()
    };
    let upload = step("Upload to code scanning");
    assert!(
        upload["uses"]
            .as_str()
            .unwrap()
            .starts_with("github/codeql-action/upload-sarif@")
    );
    assert_eq!(upload["with"]["sarif_file"], "aws-auth.sarif");
    let lint = step("Lint aws-auth");
    assert_eq!(lint["continue-on-error"], true);
    let script = lint["run"].as_str().unwrap().to_string();
    let gate = step("Fail on findings");
    assert_eq!(gate["if"], "steps.lint.outcome == 'failure'");
    let gate_script = gate["run"].as_str().unwrap().to_string();

    // Run the steps as the runner does (bash -e), in a checkout holding the seed's broken file.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::create_dir_all(w.join("manifests")).unwrap();
    std::fs::copy(
        root.join("tests/fixtures/aws-auth/seed-broken-mapusers.yaml"),
        w.join("manifests/aws-auth.yaml"),
    )
    .unwrap();
    let run = |script: &str| {
        Command::new("bash")
            .current_dir(w)
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .env("PATH", path_with_product())
            .env("MANIFESTS", wf["env"]["MANIFESTS"].as_str().unwrap())
            .output()
            .unwrap()
    };
    let out = run(&script);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let sarif = w.join("aws-auth.sarif");
    let check = Command::new(common::venv_bin("python"))
        .arg(root.join("scripts/validate_sarif.py"))
        .arg(&sarif)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));
    let v: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "manifests/aws-auth.yaml"
    );
    let out = run(&gate_script);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("error[AA001]"), "{}", text(&out));
}
