//! The plan tells the truth before anything changes (issues 14.1, 14.4, 15.3, 15.4), against
//! moto + eks-sim with the real binary:
//! - salvage never widens access on its own: a session entry is never merged into its role, a
//!   role ARN with a path is fixed only when named (`--salvage-fix-arns`), and a gain that
//!   nothing in the live aws-auth names is shown (also in `--dry-run`) and needs
//!   `--allow-access-gain ARN` naming it — `--yes` alone is refused (exit 4) with nothing changed;
//! - `recover` predicts who gets in after the write and refuses, without `--force`, a write
//!   that lets nobody but the temporary creator identity in (aws-auth deleted outright);
//! - a `--from` file is checked before the first change, in `--dry-run` too.
//!
//! Logins are checked outside the product: kubectl with a viewer session's own credentials,
//! and the sim's independent reading of aws-auth.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;

use common::root;
use common::world::text;
use drill::{Drill, report};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const VIEWER: &str = "arn:aws:iam::123456789012:role/viewer";
const VIEWER_WITH_PATH: &str = "arn:aws:iam::123456789012:role/people/viewer";

fn scenario(name: &str) -> std::path::PathBuf {
    root().join(format!("tests/fixtures/scenarios/{name}.yaml"))
}

fn run(d: &Drill, args: &[&str]) -> (Option<i32>, String, String) {
    let out = d.product().args(args).output().expect("run the product");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn rv(d: &Drill) -> String {
    d.admin_get(&format!("clusters/{}/aws-auth", d.cluster))["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The groups a viewer session really gets (kubectl auth whoami with its own credentials).
fn viewer_groups(d: &Drill, session: &str) -> Vec<String> {
    let who = d
        .whoami_as_session("viewer", session)
        .unwrap_or_else(|| panic!("viewer/{session} is refused"));
    who["status"]["userInfo"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn calls_in(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["operation"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn recover_salvage_never_makes_viewer_sessions_cluster_admin() {
    let d = Drill::start_file(&scenario("viewer-session"));
    assert!(
        !viewer_groups(&d, "bob").contains(&"system:masters".to_string()),
        "the world starts with viewers as viewers"
    );
    let dir = d.run_dir("run");
    let (code, stdout, stderr) = run(
        &d,
        &[
            "recover",
            "--cluster",
            "prod",
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    // Every viewer session is still a viewer (it used to end cluster-admin).
    for s in ["alice", "bob"] {
        let groups = viewer_groups(&d, s);
        assert!(
            !groups.contains(&"system:masters".to_string()),
            "viewer/{s} became cluster-admin: {groups:?}\n{stdout}"
        );
        assert!(groups.contains(&"view-only".to_string()), "{groups:?}");
    }
    // The plan said, before the confirmation, why the two entries are left out.
    assert!(
        stdout.contains("salvage does not map its role"),
        "the session entry is reported: {stdout}"
    );
    assert!(
        stdout.contains(&format!("--salvage-fix-arns {VIEWER_WITH_PATH}")),
        "the path entry names its opt-in: {stdout}"
    );
    let plan_at = stdout.find("Plan (recover").expect("the plan is shown");
    let block_at = stdout
        .find("who gains or loses access")
        .expect("the access diff is shown");
    assert!(
        block_at < plan_at,
        "the access diff comes with the plan: {stdout}"
    );
    // The people of the broken mapUsers are back.
    assert_eq!(report(&dir)["status"], "recovered");
    let users = d.aws_auth_data()["mapUsers"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(users.contains("user/oncall"), "{users}");
}

#[test]
fn a_fixed_path_arn_that_makes_viewers_admin_is_shown_in_dry_run_and_needs_allow_access_gain() {
    let d = Drill::start_file(&scenario("viewer-session"));
    let before = rv(&d);
    let base = [
        "recover",
        "--cluster",
        "prod",
        "--salvage-fix-arns",
        VIEWER_WITH_PATH,
    ];
    // --dry-run: the gain is shown, named, and the flag it needs; nothing changes.
    let mut args = base.to_vec();
    args.push("--dry-run");
    let (code, stdout, stderr) = run(&d, &args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let gain = stdout
        .lines()
        .find(|l| l.contains(&format!("+ role {VIEWER}:")))
        .unwrap_or_else(|| panic!("no gain line for {VIEWER}: {stdout}"));
    assert!(
        gain.contains("CLUSTER ADMIN (system:masters)") && gain.contains("NEW"),
        "{gain}"
    );
    assert!(stdout.contains("--allow-access-gain"), "{stdout}");
    assert_eq!(rv(&d), before, "--dry-run wrote aws-auth");

    // --yes alone: refused before any change (exit 4), the gain named.
    let dir = d.run_dir("refused");
    let mut args = base.to_vec();
    args.extend(["--yes", "--journal-dir", dir.to_str().unwrap_or_default()]);
    let (code, stdout, stderr) = run(&d, &args);
    assert_eq!(code, Some(4), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("--allow-access-gain") && stderr.contains(VIEWER),
        "{stderr}"
    );
    assert_eq!(rv(&d), before, "written without the consent");
    assert!(!dir.exists(), "a run was started");
    assert!(!viewer_groups(&d, "bob").contains(&"system:masters".to_string()));

    // With the consent that names it: written, and the viewers are admins as asked.
    let dir = d.run_dir("allowed");
    let mut args = base.to_vec();
    args.extend([
        "--yes",
        "--allow-access-gain",
        VIEWER,
        "--journal-dir",
        dir.to_str().unwrap_or_default(),
    ]);
    let (code, stdout, stderr) = run(&d, &args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(viewer_groups(&d, "bob").contains(&"system:masters".to_string()));
}

#[test]
fn restore_from_salvage_shows_and_gates_the_same_gain() {
    let d = Drill::start_file(&scenario("viewer-session"));
    let before = rv(&d);
    let restore = |extra: &[&str]| {
        let mut a = vec![
            "aws-auth",
            "restore",
            "--cluster",
            "prod",
            "--from",
            "salvage",
        ];
        a.extend_from_slice(extra);
        run(&d, &a)
    };
    // Without a fix: no gain for the viewer role; the session is not merged.
    let (code, stdout, stderr) = restore(&["--dry-run"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains(&format!("+ role {VIEWER}:")), "{stdout}");
    assert!(stdout.contains("(0 new)"), "{stdout}");
    assert!(stderr.contains("salvage does not map its role"), "{stderr}");
    // A session ARN cannot be "fixed".
    let (code, _, stderr) = restore(&[
        "--salvage-fix-arns",
        "arn:aws:sts::123456789012:assumed-role/viewer/alice",
        "--yes",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--salvage-fix-arns"), "{stderr}");
    // The path fix: shown in --dry-run, refused with --yes alone, nothing written.
    let (code, stdout, _) = restore(&["--salvage-fix-arns", VIEWER_WITH_PATH, "--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("CLUSTER ADMIN (system:masters)") && stdout.contains("--allow-access-gain"),
        "{stdout}"
    );
    let (code, _, stderr) = restore(&["--salvage-fix-arns", VIEWER_WITH_PATH, "--yes"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains(VIEWER), "{stderr}");
    assert_eq!(rv(&d), before);
    // Plain salvage with --yes: no new access, written.
    let (code, stdout, stderr) = restore(&["--yes"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(!viewer_groups(&d, "alice").contains(&"system:masters".to_string()));
}

#[test]
fn a_missing_aws_auth_that_would_let_nobody_in_is_refused_before_any_change_then_rebuilt_with_map_admin()
 {
    let d = Drill::start_file(&scenario("aws-auth-missing"));
    let cluster = "by-role";
    let exists = |d: &Drill| d.admin_get(&format!("clusters/{cluster}/aws-auth"))["exists"].clone();
    // --dry-run: read as the creator role (AssumeRole, no change), predicted and said.
    let (code, stdout, stderr) = run(&d, &["recover", "--cluster", cluster, "--dry-run"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("aws-auth does not exist"), "{stdout}");
    assert!(stdout.contains("REFUSED  operator"), "{stdout}");
    assert!(stdout.contains("A real run REFUSES this write"), "{stdout}");
    // --yes: refused before the first change; no journal, no aws-auth.
    let dir = d.run_dir("refused");
    let (code, stdout, stderr) = run(
        &d,
        &[
            "recover",
            "--cluster",
            cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("nobody but the temporary identity"),
        "{stderr}"
    );
    assert!(stderr.contains("--map-admin me"), "{stderr}");
    assert!(!dir.exists(), "a run was started");
    assert_eq!(exists(&d), Value::Bool(false));
    // The choice made up front: rebuilt with the operator as admin, verified by logging in.
    let dir = d.run_dir("rebuilt");
    let (code, stdout, stderr) = run(
        &d,
        &[
            "recover",
            "--cluster",
            cluster,
            "--map-admin",
            "me",
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("gets in  operator"), "{stdout}");
    assert_eq!(report(&dir)["status"], "recovered");
    let m = d.admin_get(&format!("clusters/{cluster}/effective-mapping"));
    let roles: Vec<&str> = m["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["rolearn"].as_str())
        .collect();
    assert!(
        roles.contains(&"arn:aws:iam::123456789012:role/eks-node-role"),
        "{m}"
    );
}

#[test]
fn a_missing_aws_auth_seen_only_after_getting_in_stops_before_the_write_without_waiting() {
    let d = Drill::start_file(&scenario("aws-auth-missing"));
    let cluster = "by-key";
    let keys = d.w.access_keys("builder");
    let dir = d.run_dir("run");
    let start = Instant::now();
    let (code, stdout, stderr) = run(
        &d,
        &[
            "recover",
            "--cluster",
            cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
    );
    let took = start.elapsed();
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    // The plan said what happens when aws-auth turns out to be missing.
    assert!(
        stdout.contains("If aws-auth does not exist, it is rebuilt"),
        "{stdout}"
    );
    assert!(
        stderr.contains("nobody but the temporary identity"),
        "{stderr}"
    );
    assert!(
        took < Duration::from_secs(40),
        "no minute of retrying a predictable 401: {took:?}"
    );
    // Nothing written, the temporary key gone, and the next command is not the same one.
    assert_eq!(
        d.admin_get(&format!("clusters/{cluster}/aws-auth"))["exists"],
        Value::Bool(false)
    );
    assert_eq!(d.w.access_keys("builder"), keys);
    let continue_line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("continue:"))
        .unwrap_or_default();
    assert!(
        !continue_line.contains(&format!("recover --cluster {cluster}")),
        "{continue_line}"
    );
    // With the choice: rebuilt, the operator let in.
    let dir = d.run_dir("rebuilt");
    let (code, stdout, stderr) = run(
        &d,
        &[
            "recover",
            "--cluster",
            cluster,
            "--map-admin",
            "me",
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(report(&dir)["status"], "recovered");
    assert_eq!(d.w.access_keys("builder"), keys);
}

#[test]
fn recover_checks_a_from_file_before_the_first_change_in_dry_run_too() {
    let d = Drill::start("incident");
    let bad = d.w.path("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n     groups:\n        - system:masters\n",
    )
    .expect("write");
    let before = d.aws_auth_data();
    for dry in [true, false] {
        let log = d.w.path(&format!("calls-{dry}.jsonl"));
        let mut args = vec![
            "--call-log",
            log.to_str().unwrap_or_default(),
            "recover",
            "--cluster",
            "prod",
            "--from",
            bad.to_str().unwrap_or_default(),
        ];
        args.push(if dry { "--dry-run" } else { "--yes" });
        let (code, stdout, stderr) = run(&d, &args);
        assert_eq!(code, Some(2), "dry={dry}\n{stdout}\n{stderr}");
        assert!(
            stderr.contains("bad.yaml") && stderr.contains("lint"),
            "{stderr}"
        );
        assert!(!stderr.contains("continue:"), "{stderr}");
        let calls = calls_in(&log);
        assert!(
            !calls.iter().any(|c| c.starts_with("Create")
                || c.starts_with("Update")
                || c.starts_with("Associate")),
            "a change was made before the file was checked: {calls:?}"
        );
    }
    assert_eq!(d.aws_auth_data(), before);
}

#[test]
fn a_role_session_operator_is_told_that_everyone_who_can_assume_the_role_gets_access() {
    let w = common::world::World::start("getin");
    let role = "arn:aws:iam::123456789012:role/ci/deployer";
    let s = w.aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        role,
        "--role-session-name",
        "alice",
    ]);
    let c = &s["Credentials"];
    let as_session = |args: &[&str]| {
        let out = w
            .product()
            .env(
                "AWS_ACCESS_KEY_ID",
                c["AccessKeyId"].as_str().unwrap_or_default(),
            )
            .env(
                "AWS_SECRET_ACCESS_KEY",
                c["SecretAccessKey"].as_str().unwrap_or_default(),
            )
            .env(
                "AWS_SESSION_TOKEN",
                c["SessionToken"].as_str().unwrap_or_default(),
            )
            .args(args)
            .output()
            .expect("run");
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let everyone = format!("EVERYONE who can assume {role}");
    // The access entry names the role, not the session.
    let (code, stdout, stderr) = as_session(&["grant", "--cluster", "api-cluster", "--dry-run"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(&everyone), "{stdout}");
    assert!(stdout.contains("--principal ARN"), "{stdout}");
    // So does the trust statement on a creator role that does not trust the caller.
    let (code, stdout, stderr) =
        as_session(&["assume-creator", "--cluster", "by-locked-role", "--dry-run"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(&everyone), "{stdout}");
    assert!(!stdout.contains("your exact ARN"), "{stdout}");
}

#[test]
fn aws_auth_salvage_of_a_file_changes_no_arn_unless_named_and_says_who_gains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("aws-auth.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/viewer\n      username: viewer\n      groups:\n        - view-only\n    - rolearn: arn:aws:sts::123456789012:assumed-role/viewer/alice\n      username: alice\n      groups:\n        - system:masters\n    - rolearn: arn:aws:iam::123456789012:role/people/viewer\n      username: viewer-admin\n      groups:\n        - system:masters\n",
    )
    .expect("write");
    let salvage = |extra: &[&str]| {
        let out = common::product()
            .args(["aws-auth", "salvage"])
            .arg(&file)
            .args(extra)
            .output()
            .expect("run");
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, stdout, stderr) = salvage(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains("system:masters"), "{stdout}");
    assert!(stderr.contains("(0 new)"), "{stderr}");
    let (code, stdout, stderr) = salvage(&["--salvage-fix-arns", VIEWER_WITH_PATH]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("system:masters"), "{stdout}");
    assert!(
        stderr.contains(&format!("+ role {VIEWER}:"))
            && stderr.contains("CLUSTER ADMIN")
            && stderr.contains("NEW"),
        "{stderr}"
    );
    let (code, _, stderr) = salvage(&[
        "--salvage-fix-arns",
        "arn:aws:sts::123456789012:assumed-role/viewer/alice",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
}
