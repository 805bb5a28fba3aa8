//! scripts/aws-acceptance.sh — the real-AWS acceptance kit — run as CI runs it: against the
//! local world (moto + eks-sim, endpoints from the environment), never against AWS.
//!
//! The script must refuse without --i-understand (before any call) and on a cluster without the
//! eks-breakglass/acceptance=disposable tag (after read-only calls, nothing changed); on the
//! tagged cluster it breaks aws-auth the seed's way, recovers, verifies, restores, and reports
//! timings and every AWS call; where the validating webhook refuses the seed's break, it says
//! so and `--break unmap` does the run with valid YAML.

mod common;

use common::world::World;
use serde_json::Value;
use std::process::{Command, Output};

fn have_kubectl() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_kit(w: &World, args: &[&str]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(common::root().join("scripts/aws-acceptance.sh"));
    for var in common::CLEAN_ENV_REMOVE {
        cmd.env_remove(var);
    }
    cmd.envs(common::CLEAN_ENV_SET.iter().copied())
        .envs(w.env_pairs())
        .env(
            "EKS_BREAKGLASS",
            assert_cmd::cargo::cargo_bin("eks-breakglass"),
        )
        .env("AWS_CLI", common::venv_bin("aws"))
        .env("PYTHON", common::venv_bin("python"))
        .args(args)
        .arg("--run-dir")
        .arg(w.path(&format!("run-{}", args.join("_").replace(['-', '='], ""))))
        .stdin(std::process::Stdio::null());
    cmd.output().expect("run scripts/aws-acceptance.sh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn live_data(w: &World, cluster: &str) -> Value {
    w.admin_get(&format!("clusters/{cluster}/aws-auth"))["data"].clone()
}

fn k8s_writes(w: &World, cluster: &str) -> usize {
    w.admin_get(&format!("calls?service=k8s&cluster={cluster}"))["calls"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter(|x| x["action"].as_str().is_some_and(|a| a.starts_with("PUT ")))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn refuses_then_breaks_recovers_verifies_and_restores_on_eks_sim() {
    if !have_kubectl() {
        eprintln!("skipped: kubectl not installed");
        return;
    }
    let w = World::start("acceptance");
    let original = live_data(&w, "acceptance");
    let untagged = live_data(&w, "untagged");
    let keys_before = w.access_keys("platform-admin");
    w.clear_calls();

    // No --i-understand: refused before any call.
    let out = run_kit(&w, &["--cluster", "acceptance"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr).contains("--i-understand"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        w.admin_get("calls")["count"],
        0,
        "calls were made without consent"
    );

    // A cluster without the tag: refused after read-only calls; nothing written.
    let out = run_kit(&w, &["--cluster", "untagged", "--i-understand"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = text(&out.stderr);
    assert!(err.contains("not tagged"), "{err}");
    assert!(
        err.contains("eks-breakglass/acceptance=disposable"),
        "{err}"
    );
    assert!(err.contains("found: 'keep'"), "{err}");
    assert_eq!(live_data(&w, "untagged"), untagged);
    assert_eq!(k8s_writes(&w, "untagged"), 0);
    let calls = w.admin_get("calls");
    for c in calls["calls"].as_array().unwrap() {
        let action = c["action"].as_str().unwrap_or_default();
        assert!(
            matches!(action, "DescribeCluster" | "GetCallerIdentity"),
            "a refused run called {action}"
        );
    }

    // The tagged cluster: the whole run.
    let out = run_kit(&w, &["--cluster", "acceptance", "--i-understand"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("# eks-breakglass acceptance: PASSED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the caller was locked out by it: yes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("recover got in via: become the creator"),
        "{stdout}"
    );
    for step in [
        "| preflight |",
        "| snapshot |",
        "| break |",
        "| recover |",
        "| verify |",
        "| restore |",
        "| total |",
    ] {
        assert!(stdout.contains(step), "{step} missing: {stdout}");
    }
    // The calls the run made, from the product's --call-log and the script's own reads.
    assert!(stdout.contains("iam:CreateAccessKey 1"), "{stdout}");
    assert!(stdout.contains("iam:DeleteAccessKey 1"), "{stdout}");
    assert!(
        stdout.contains("this script (AWS CLI): eks:DescribeCluster 2, sts:GetCallerIdentity 1"),
        "{stdout}"
    );
    // It really broke the cluster: the break, recover's write (restore: no change).
    assert!(k8s_writes(&w, "acceptance") >= 2);
    // And the cluster ends as it started: same aws-auth, no key left on the creator.
    assert_eq!(live_data(&w, "acceptance"), original);
    assert_eq!(w.access_keys("platform-admin"), keys_before);
    assert_eq!(w.auth_mode("acceptance"), "CONFIG_MAP");
    // The report is also a file in the run directory.
    let report = std::fs::read_to_string(w.path("run-cluster_acceptance_iunderstand/report.md"))
        .expect("report.md");
    assert!(report.contains("PASSED"));
}

#[test]
fn a_webhook_that_refuses_the_seed_break_is_named_and_unmap_runs_instead() {
    if !have_kubectl() {
        eprintln!("skipped: kubectl not installed");
        return;
    }
    let w = World::start("acceptance");
    let original = live_data(&w, "acceptance");
    w.admin_put(
        "clusters/acceptance/admission",
        &serde_json::json!({"enabled": true}),
    );

    let out = run_kit(&w, &["--cluster", "acceptance", "--i-understand"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert!(err.contains("validating webhook refuses"), "{err}");
    assert!(err.contains("--break unmap"), "{err}");
    assert!(
        text(&out.stdout).contains("FAILED at: break"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        live_data(&w, "acceptance"),
        original,
        "a refused break changed aws-auth"
    );

    let out = run_kit(
        &w,
        &[
            "--cluster",
            "acceptance",
            "--i-understand",
            "--break",
            "unmap",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("acceptance: PASSED"), "{stdout}");
    assert!(
        stdout.contains("break: unmap; the caller was locked out by it: yes"),
        "{stdout}"
    );
    assert_eq!(live_data(&w, "acceptance"), original);
}
