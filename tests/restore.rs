//! `aws-auth restore` against moto + eks-sim on the seed incident: every source, nothing of the
//! live object lost, node roles kept, lint errors refused, admission rejections shown verbatim,
//! verification by authenticating, and a run killed after the write undone by `cleanup`.

#[path = "awsauth_write_support/mod.rs"]
mod aw;
mod common;
#[path = "getin_support/mod.rs"]
mod support;

use aw::{FARGATE_ROLE, NODE_ROLE};
use common::world::{World, finish, signal, text};
use serde_json::json;
use std::os::unix::fs::PermissionsExt as _;
use support::{Rule, Trap, events};

fn restore(w: &World, args: &[&str]) -> std::process::Output {
    let mut all = vec!["aws-auth", "restore", "--cluster", "prod"];
    all.extend_from_slice(args);
    w.product().args(&all).output().expect("run")
}

fn ok(out: &std::process::Output) -> (String, String) {
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{o}\nstderr:\n{e}",
        out.status.code()
    );
    (o, e)
}

#[test]
fn salvage_of_the_seed_gives_people_and_nodes_back_and_is_proved_by_logging_in() {
    let w = World::start("aws-auth-incident");
    let before = aw::live_data(&w, "prod");
    let out = restore(
        &w,
        &[
            "--from",
            "salvage",
            "--yes",
            "--verify-as",
            "arn:aws:iam::123456789012:role/dev-admin",
        ],
    );
    let (stdout, stderr) = ok(&out);
    // The plan names the write, its compare-and-swap and its undo; the diff names who gains.
    assert!(stdout.contains("kubernetes:configmaps.update"), "{stdout}");
    assert!(
        stdout.contains("+ user arn:aws:iam::123456789012:user/oncall"),
        "{stdout}"
    );
    assert!(
        stdout.contains("eks-node-role"),
        "node role added: {stdout}"
    );
    // Verified: read back, the identity used, and dev-admin mapped as predicted.
    assert!(
        stdout.contains("read back: the effective mapping equals the prediction"),
        "{stdout}"
    );
    assert!(stdout.contains("username kubernetes-admin"), "{stdout}");
    assert!(
        stdout.contains("role/dev-admin: authenticated as dev-admin:"),
        "{stdout}"
    );
    // The sim's own authenticator: both users, the node and Fargate roles, the account.
    let m = aw::effective(&w, "prod");
    let users: Vec<String> = aw::mapped_users(&m).into_iter().map(|u| u.1).collect();
    assert_eq!(users, vec!["alice", "oncall"], "{m}");
    let roles = aw::mapped_roles(&m);
    assert!(roles.contains(&NODE_ROLE.to_string()), "{roles:?}");
    assert!(roles.contains(&FARGATE_ROLE.to_string()), "{roles:?}");
    assert_eq!(m["accounts"], json!(["111122223333"]));
    let data = aw::live_data(&w, "prod");
    assert_eq!(data["team-notes"], before["team-notes"]);
    // The broken version is saved beside the journal, 0600, byte for byte.
    let dir = aw::journal_dir(&stderr);
    let saved = dir.join("aws-auth.before.json");
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(saved["data"], before);
    assert_eq!(
        events(&dir),
        vec![
            "run_started",
            "step_started:1",
            "step_done:1",
            "note",
            "note",
            "note",
            "run_finished"
        ]
    );
    // The operator locked out by the seed gets in again.
    let (k, s) = aw::user_key(&w, "oncall");
    let out = w
        .product()
        .env("AWS_ACCESS_KEY_ID", k)
        .env("AWS_SECRET_ACCESS_KEY", s)
        .args(["aws-auth", "show", "--cluster", "prod"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn restore_from_a_file_keeps_accounts_unknown_keys_labels_annotations_and_node_roles() {
    let w = World::start("aws-auth-incident");
    // 1. A file with labels, annotations, an unknown key, mapAccounts; no node roles.
    let first = w.path("first.yaml");
    std::fs::write(
        &first,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n  labels:\n    app.kubernetes.io/managed-by: platform\n  annotations:\n    platform/owner: team-a\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/dev-admin\n      username: dev-admin:{{SessionName}}\n      groups:\n        - system:masters\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n      groups:\n        - system:masters\n  mapAccounts: |\n    - \"444455556666\"\n  extra-key: kept\n",
    )
    .unwrap();
    // It maps a new account: NEW access, which --yes alone does not approve (issue 14.1).
    let out = restore(&w, &["--from", first.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("account 444455556666"),
        "{}",
        text(&out.stderr)
    );
    ok(&restore(
        &w,
        &[
            "--from",
            first.to_str().unwrap(),
            "--yes",
            "--allow-access-gain",
            "444455556666",
        ],
    ));
    let m = aw::effective(&w, "prod");
    assert!(aw::mapped_roles(&m).contains(&NODE_ROLE.to_string()), "{m}");
    // 2. A file with only mapUsers: everything else of the live object stays.
    let second = w.path("second.yaml");
    std::fs::write(
        &second,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/team/dev/alice\n      username: alice\n      groups:\n        - system:masters\n",
    )
    .unwrap();
    // alice is no longer mapped (the first file left her out): mapping her again is new access.
    let (stdout, _) = ok(&restore(
        &w,
        &[
            "--from",
            second.to_str().unwrap(),
            "--yes",
            "--allow-access-gain",
            "arn:aws:iam::123456789012:user/team/dev/alice",
        ],
    ));
    assert!(stdout.contains("kept the live mapAccounts"), "{stdout}");
    let data = aw::live_data(&w, "prod");
    assert_eq!(data["mapAccounts"], "- \"444455556666\"\n");
    assert_eq!(data["extra-key"], "kept");
    assert_eq!(
        data["team-notes"],
        "owned by platform; ask #platform before editing"
    );
    assert!(data["mapRoles"].as_str().unwrap().contains("eks-node-role"));
    let m = aw::effective(&w, "prod");
    assert_eq!(
        aw::mapped_users(&m),
        vec![(
            "arn:aws:iam::123456789012:user/team/dev/alice".to_string(),
            "alice".to_string()
        )]
    );
    // Labels and annotations, as the API server holds them.
    let out = w
        .product()
        .args(["aws-auth", "render", "--cluster", "prod"])
        .output()
        .unwrap();
    let (rendered, _) = ok(&out);
    assert!(
        rendered.contains("app.kubernetes.io/managed-by: platform"),
        "{rendered}"
    );
    assert!(rendered.contains("platform/owner: team-a"), "{rendered}");
}

#[test]
fn rebuild_maps_node_group_fargate_and_admin_roles_without_paths() {
    let w = World::start("aws-auth-incident");
    let (stdout, _) = ok(&restore(
        &w,
        &[
            "--from",
            "rebuild",
            "--admin-role",
            "arn:aws:iam::123456789012:role/team/ops/ops",
            "--yes",
        ],
    ));
    assert!(
        stdout.contains("does not load"),
        "the broken live mapUsers is left out, and said so: {stdout}"
    );
    let m = aw::effective(&w, "prod");
    let roles = aw::mapped_roles(&m);
    assert_eq!(
        roles,
        vec![
            NODE_ROLE.to_string(),
            FARGATE_ROLE.to_string(),
            "arn:aws:iam::123456789012:role/ops".to_string()
        ],
        "{m}"
    );
    assert_eq!(m["accounts"], json!(["111122223333"]), "mapAccounts kept");
}

#[test]
fn a_candidate_with_lint_errors_is_refused_with_exit_3_and_nothing_is_written() {
    let w = World::start("aws-auth-incident");
    let rv = aw::resource_version(&w, "prod");
    let bad = w.path("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n     groups:\n        - system:masters\n",
    )
    .unwrap();
    let out = restore(&w, &["--from", bad.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused: the new version has"), "{stderr}");
    assert!(stderr.contains("error["), "{stderr}");
    assert_eq!(aw::resource_version(&w, "prod"), rv);
    assert!(
        !stderr.contains("journal: "),
        "no run was started: {stderr}"
    );
}

#[test]
fn restore_without_confirmation_or_terminal_changes_nothing_and_dry_run_only_plans() {
    let w = World::start("aws-auth-incident");
    let rv = aw::resource_version(&w, "prod");
    let out = restore(&w, &["--from", "salvage"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let out = restore(&w, &["--from", "salvage", "--dry-run"]);
    let (stdout, _) = ok(&out);
    assert!(stdout.contains("dry run"), "{stdout}");
    assert_eq!(aw::resource_version(&w, "prod"), rv);
}

#[test]
fn a_restore_killed_after_the_write_is_undone_by_cleanup_with_the_broken_version_backed_up() {
    let w = World::start("aws-auth-incident");
    let before = aw::live_data(&w, "prod");
    // STS through a trap that holds AssumeRole: the write is done, verification (--verify-as)
    // hangs, and the process is killed there.
    let sts = w.env_value("AWS_ENDPOINT_URL_STS");
    let trap = Trap::start(&sts, Rule::Hold("AssumeRole".into()));
    let jd = w.path("run");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("eks-breakglass"));
    for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "KUBERNETES_EXEC_INFO"] {
        cmd.env_remove(var);
    }
    let child = cmd
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(w.env.clone())
        .env("XDG_STATE_HOME", w.path("state"))
        .env("AWS_ENDPOINT_URL_STS", &trap.url)
        .args([
            "aws-auth",
            "restore",
            "--cluster",
            "prod",
            "--from",
            "salvage",
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
            "--verify-as",
            "arn:aws:iam::123456789012:role/dev-admin",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        trap.wait_hit(std::time::Duration::from_secs(60)),
        "AssumeRole never came"
    );
    signal(&child, "KILL");
    let _ = finish(child);
    assert_ne!(aw::live_data(&w, "prod"), before, "the write happened");
    assert_eq!(
        events(&jd),
        vec!["run_started", "step_started:1", "step_done:1"],
        "killed before verification ended"
    );
    trap.release();
    let out = w
        .product()
        .args([
            "cleanup",
            "--rollback",
            "--force",
            "--journal",
            jd.to_str().unwrap(),
            "--yes",
        ])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert!(
        stdout.contains("restored kube-system/aws-auth from aws-auth.before.json"),
        "{stdout}"
    );
    assert_eq!(
        aw::live_data(&w, "prod"),
        before,
        "the cluster is as before the run"
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(jd.join("aws-auth.before.json")).unwrap())
            .unwrap();
    assert_eq!(saved["data"], before, "the broken version is backed up");
    // Idempotent: a second cleanup has nothing to do.
    let out = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert!(stdout.contains("Nothing to undo"), "{stdout}");
}

#[test]
fn cleanup_leaves_a_version_someone_changed_since_and_says_how_to_restore() {
    let w = World::start("aws-auth-incident");
    let jd = w.path("run");
    ok(&restore(
        &w,
        &[
            "--from",
            "salvage",
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
    ));
    let mut colleague = aw::live_data(&w, "prod");
    colleague["team-notes"] = json!("a colleague was here");
    aw::set_live(&w, "prod", &colleague);
    let out = w
        .product()
        .args([
            "cleanup",
            "--rollback",
            "--force",
            "--journal",
            jd.to_str().unwrap(),
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("changed by someone else"), "{all}");
    assert!(
        all.contains("aws-auth restore --cluster prod --from"),
        "{all}"
    );
    assert_eq!(
        aw::live_data(&w, "prod"),
        colleague,
        "the colleague's change stays"
    );
}

#[test]
fn an_admission_webhook_rejection_is_printed_verbatim() {
    let w = World::start("aws-auth-incident");
    let dir = tempfile::tempdir().unwrap();
    let editor = aw::editor(dir.path());
    let rv = aw::resource_version(&w, "prod-guarded");
    let out = w
        .product()
        .env("KUBE_EDITOR", &editor)
        .env("EDIT_DIR", dir.path())
        .env("EDIT_MODE", "mistake")
        .env("EDIT_USER", "dev-admin:{{SessionName}}")
        .env("EDIT_CLUSTER", "prod-guarded")
        .env("SIM_ADMIN", &w.admin)
        .args([
            "aws-auth",
            "edit",
            "--cluster",
            "prod-guarded",
            "--force",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "admission webhook \"eks-aws-auth-configmap-validation-webhook\" denied the request: mapRoles:"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(aw::resource_version(&w, "prod-guarded"), rv);
}

/// Runs the product in a pseudo-terminal (so that it asks for confirmation), and, at the first
/// prompt, lets a colleague change `team-notes` through the sim's admin API before answering
/// "yes"; answers "yes" to every later prompt. Prints the transcript; exits with the product's
/// exit code.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time, urllib.request
admin = os.environ["SIM_ADMIN"] + "/clusters/prod/aws-auth"
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf, answered, deadline = b"", 0, time.time() + 120
prompt = b"Only 'yes' is accepted"
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    if buf.count(prompt) > answered:
        if answered == 0:
            data = json.load(urllib.request.urlopen(admin))["data"]
            data["team-notes"] = "changed by a colleague"
            req = urllib.request.Request(admin, data=json.dumps({"data": data}).encode(), method="PUT", headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req).read()
        os.write(fd, b"yes\n")
        answered += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
sys.stdout.write("\nPROMPTS=%d\n" % answered)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn a_concurrent_write_between_confirmation_and_write_is_detected_re_diffed_and_asked_again() {
    let w = World::start("aws-auth-incident");
    let fixed = w.path("fixed.yaml");
    std::fs::write(
        &fixed,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n      groups:\n        - system:masters\n",
    )
    .unwrap();
    let driver = w.path("drive_prompt.py");
    std::fs::write(&driver, PTY_DRIVER).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("eks-breakglass");
    let out = std::process::Command::new(common::venv_bin("python"))
        .arg(&driver)
        .arg(&bin)
        .args(["aws-auth", "restore", "--cluster", "prod", "--from"])
        .arg(&fixed)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .envs(w.env.clone())
        .env("XDG_STATE_HOME", w.path("state"))
        .env("SIM_ADMIN", &w.admin)
        .output()
        .unwrap();
    let transcript = text(&out.stdout);
    assert!(out.status.success(), "{transcript}{}", text(&out.stderr));
    assert!(
        transcript.contains("PROMPTS=2"),
        "asked again: {transcript}"
    );
    assert!(
        transcript.contains("changed by someone else after it was read"),
        "{transcript}"
    );
    assert!(
        transcript.contains("The change, against the version now in the cluster"),
        "{transcript}"
    );
    // Neither change is lost: the colleague's note and the restored user.
    let data = aw::live_data(&w, "prod");
    assert_eq!(data["team-notes"], "changed by a colleague");
    let m = aw::effective(&w, "prod");
    assert_eq!(
        aw::mapped_users(&m),
        vec![(
            "arn:aws:iam::123456789012:user/oncall".to_string(),
            "oncall".to_string()
        )]
    );
}

#[test]
fn an_eksctl_config_through_an_explicit_api_server_and_ca_is_restored_and_undone_through_it() {
    let w = World::start("aws-auth-incident");
    let before = aw::live_data(&w, "prod");
    let cfg = w.path("cluster.yaml");
    std::fs::write(
        &cfg,
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-east-1\niamIdentityMappings:\n  - arn: arn:aws:iam::123456789012:role/dev-admin\n    username: \"dev-admin:{{SessionName}}\"\n    groups: [system:masters]\n  - arn: arn:aws:iam::123456789012:user/oncall\n    username: oncall\n    groups: [system:masters]\n",
    )
    .unwrap();
    // The "tunnel": the endpoint and CA given explicitly instead of DescribeCluster's.
    let ca = w.path("ca.pem");
    std::fs::write(&ca, w.state["caPem"].as_str().unwrap()).unwrap();
    let endpoint = w.state["clusters"]["prod"]["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let jd = w.path("run");
    let (stdout, _) = ok(&restore(
        &w,
        &[
            "--from",
            cfg.to_str().unwrap(),
            "--api-server",
            &endpoint,
            "--ca-file",
            ca.to_str().unwrap(),
            "--journal-dir",
            jd.to_str().unwrap(),
            "--yes",
        ],
    ));
    assert!(stdout.contains("kept the live mapAccounts"), "{stdout}");
    let m = aw::effective(&w, "prod");
    assert_eq!(
        aw::mapped_users(&m),
        vec![(
            "arn:aws:iam::123456789012:user/oncall".to_string(),
            "oncall".to_string()
        )]
    );
    let roles = aw::mapped_roles(&m);
    assert!(roles.contains(&"arn:aws:iam::123456789012:role/dev-admin".to_string()));
    assert!(roles.contains(&NODE_ROLE.to_string()), "{roles:?}");
    assert_eq!(m["accounts"], json!(["111122223333"]));
    // Cleanup goes through the same tunnel.
    let out = w
        .product()
        .args([
            "cleanup",
            "--rollback",
            "--force",
            "--journal",
            jd.to_str().unwrap(),
            "--yes",
            "--api-server",
            &endpoint,
            "--ca-file",
            ca.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(aw::live_data(&w, "prod"), before);
}

#[test]
fn role_arn_is_the_identity_used_and_a_version_that_locks_it_out_fails_verification() {
    let w = World::start("aws-auth-incident");
    // Only dev-admin is mapped (mapRoles loads, mapUsers is the seed's broken one).
    let mut data = aw::seed_data();
    data["mapRoles"] = json!(
        "- rolearn: arn:aws:iam::123456789012:role/dev-admin\n  username: dev-admin:{{SessionName}}\n  groups:\n    - system:masters\n"
    );
    aw::set_live(&w, "prod", &data);
    let (k, s) = aw::user_key(&w, "oncall");
    let as_oncall = |args: &[&str]| {
        w.product()
            .env("AWS_ACCESS_KEY_ID", &k)
            .env("AWS_SECRET_ACCESS_KEY", &s)
            .args(args)
            .output()
            .unwrap()
    };
    // oncall itself is locked out...
    let out = as_oncall(&[
        "aws-auth",
        "restore",
        "--cluster",
        "prod",
        "--from",
        "salvage",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
    // ...but gets in as dev-admin; this version maps oncall and drops dev-admin, so the
    // identity used loses access: the write is done, and verification says so.
    let file = w.path("no-dev-admin.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    []\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n      groups:\n        - system:masters\n",
    )
    .unwrap();
    let jd = w.path("run");
    let out = as_oncall(&[
        "aws-auth",
        "restore",
        "--cluster",
        "prod",
        "--from",
        file.to_str().unwrap(),
        "--role-arn",
        "arn:aws:iam::123456789012:role/dev-admin",
        "--journal-dir",
        jd.to_str().unwrap(),
        "--yes",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    // The identity used cannot even read it back any more.
    assert!(stdout.contains("read back failed"), "{stdout}");
    assert!(
        stdout.contains("authenticating as arn:aws:sts::123456789012:assumed-role/dev-admin/"),
        "{stdout}"
    );
    assert!(stderr.contains("verification failed"), "{stderr}");
    // The hint is the run's undo command (`plan_ui::cleanup_command`: journal, then the run's
    // --profile if any), with --rollback.
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("to put the previous version back")
                && l.contains(&format!(
                    "eks-breakglass cleanup --journal {}",
                    jd.display()
                ))
                && l.contains("--rollback")),
        "{stderr}"
    );
    // oncall (mapped now) undoes it with its own identity.
    let out = as_oncall(&[
        "cleanup",
        "--rollback",
        "--force",
        "--journal",
        jd.to_str().unwrap(),
        "--yes",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(aw::live_data(&w, "prod"), data);
}

#[test]
fn a_deleted_aws_auth_is_created_exact_keeps_the_source_as_is_and_cleanup_deletes_it_again() {
    let w = World::start("aws-auth-incident");
    let (status, body) = common::world::http(
        "DELETE",
        &format!("{}/clusters/prod/aws-auth", w.admin),
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let file = w.path("people.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n      groups:\n        - system:masters\n",
    )
    .unwrap();
    let jd = w.path("run");
    let (stdout, _) = ok(&restore(
        &w,
        &[
            "--from",
            file.to_str().unwrap(),
            "--exact",
            "--journal-dir",
            jd.to_str().unwrap(),
            "--yes",
            // Everything a deleted aws-auth is rebuilt with is new access.
            "--allow-access-gain",
            "arn:aws:iam::123456789012:user/oncall",
        ],
    ));
    assert!(stdout.contains("create kube-system/aws-auth"), "{stdout}");
    assert!(
        stdout.contains("are NOT mapped by the new version"),
        "{stdout}"
    );
    assert!(live_exists(&w));
    let m = aw::effective(&w, "prod");
    assert!(
        aw::mapped_roles(&m).is_empty(),
        "--exact adds no node role: {m}"
    );
    assert!(
        !jd.join("aws-auth.before.json").exists(),
        "there was nothing to back up"
    );
    // Deleting aws-auth lets no one in through it: like restoring one that maps nobody, the
    // rollback is refused without --force (nothing deleted)...
    let rollback = |force: bool| {
        let mut args = vec![
            "cleanup",
            "--rollback",
            "--journal",
            jd.to_str().unwrap(),
            "--yes",
        ];
        if force {
            args.push("--force");
        }
        w.product().args(&args).output().unwrap()
    };
    let out = rollback(false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("locks everyone out"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no aws-auth at all"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(live_exists(&w), "refused, yet aws-auth was deleted");
    // ... and with it, deletes what the run created.
    ok(&rollback(true));
    assert!(!live_exists(&w), "cleanup deletes what the run created");
}

fn live_exists(w: &World) -> bool {
    aw::live(w, "prod")["exists"].as_bool().unwrap_or(false)
}
