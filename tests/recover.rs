//! `recover` against moto + eks-sim, on the drill scenarios: the locked-out cluster ends with
//! verified access for the people and the node roles, a report with call counts, temporary
//! credentials gone; a run killed in the middle is cleaned up from its journal; failures say
//! what changed and the exact command to undo or continue.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{arn, finish, signal, text};
use drill::{Drill, report};
use serde_json::Value;
use std::time::Duration;
use support::{Rule, Trap};

fn recover(d: &Drill, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    d.product()
        .args(["recover", "--cluster", &d.cluster, "--yes", "--journal-dir"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("run recover")
}

fn checks(r: &Value) -> Vec<(String, bool)> {
    r["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["identity"].as_str().unwrap_or_default().to_string(),
                c["ok"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn calls(r: &Value, svc: &str) -> u64 {
    r["aws_calls"][svc].as_u64().unwrap_or(0)
}

#[test]
fn incident_creator_alive_recovers_people_and_nodes_with_a_temporary_key() {
    let d = Drill::start("incident");
    let node = arn("role/eks-node-role");
    assert!(
        !d.sim_maps_role(&node),
        "the incident starts with the node role unmapped"
    );
    assert!(
        d.whoami_as_session("eks-node-role", "i-0a1b2c3d4e5f60718")
            .is_none(),
        "nodes are locked out too"
    );
    let keys_before = d.w.access_keys("platform-admin");
    let dir = d.run_dir("run");
    let out = recover(&d, &dir, &["--verify-as", &arn("role/dev-admin")]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The plan went through the creator, a live IAM user: one temporary key, then the write.
    assert!(
        stdout.contains("create a temporary access key for user platform-admin"),
        "{stdout}"
    );
    assert!(stdout.contains("RECOVERED"), "{stdout}");

    let r = report(&dir);
    assert_eq!(r["status"], "recovered");
    for (who, ok) in checks(&r) {
        assert!(ok, "check failed for {who}: {r:#}");
    }
    let who: Vec<String> = checks(&r).into_iter().map(|(w, _)| w).collect();
    for needed in [
        node.clone(),
        arn("role/eks-fargate-pod-execution"),
        arn("user/oncall"),
        arn("role/dev-admin"),
        "kube-system/aws-auth".to_string(),
    ] {
        assert!(who.contains(&needed), "no check for {needed}: {who:?}");
    }
    // The report counts every AWS call, per service (the creator search included).
    for svc in ["eks", "iam", "sts", "cloudtrail"] {
        assert!(
            calls(&r, svc) > 0,
            "no {svc} calls counted: {}",
            r["aws_calls"]
        );
    }
    assert_eq!(
        r["aws_calls_total"].as_u64(),
        Some(
            ["eks", "iam", "sts", "cloudtrail"]
                .iter()
                .map(|s| calls(&r, s))
                .sum::<u64>()
                + calls(&r, "s3")
        )
    );
    let md = std::fs::read_to_string(dir.join("incident-report.md")).expect("markdown report");
    assert!(
        md.contains("## Timeline") && md.contains("## AWS calls") && md.contains("## How to undo")
    );
    assert!(md.contains(&format!(
        "eks-breakglass cleanup --journal {}",
        dir.display()
    )));

    // Outside the product: the node logs in again (kubectl, the node's own session) and the
    // sim's independent reading of aws-auth maps both node roles and the people.
    let node_who = d
        .whoami_as_session("eks-node-role", "i-0a1b2c3d4e5f60718")
        .expect("the node logs in after recover");
    let username = node_who["status"]["userInfo"]["username"]
        .as_str()
        .unwrap_or_default();
    assert!(username.starts_with("system:node:"), "{node_who}");
    assert!(d.sim_maps_role(&arn("role/eks-fargate-pod-execution")));
    let data = d.aws_auth_data();
    assert!(
        data["mapUsers"]
            .as_str()
            .unwrap_or_default()
            .contains("user/oncall")
    );
    assert!(
        data["mapUsers"]
            .as_str()
            .unwrap_or_default()
            .contains("user/team/dev/alice")
    );

    // The temporary key is gone; the broken aws-auth is backed up.
    assert_eq!(d.w.access_keys("platform-admin"), keys_before);
    let backup = std::fs::read_to_string(dir.join("aws-auth.before.json")).expect("backup");
    assert!(
        backup.contains(r"username: oncall\n groups:"),
        "the broken mapUsers, as it was: {backup}"
    );
    use std::os::unix::fs::PermissionsExt as _;
    for f in [
        "aws-auth.before.json",
        "incident-report.md",
        "incident-report.json",
    ] {
        let mode = std::fs::metadata(dir.join(f))
            .expect("file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    // No secret in what the run printed or wrote.
    let secret = d.w.env_value("AWS_SECRET_ACCESS_KEY");
    let files = support::all_files(&dir);
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret) && !files.contains(&secret));
}

#[test]
fn creator_deleted_on_api_and_config_map_goes_through_an_access_entry() {
    let d = Drill::start("creator-deleted-api");
    let dir = d.run_dir("run");
    let out = recover(&d, &dir, &["--output", "json"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // JSON on stdout: the plan, the triage and the report; the plan went to stderr for people.
    let v: Value = serde_json::from_str(&stdout).expect("one JSON document on stdout");
    let steps: Vec<&str> = v["plan"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["action"]["type"].as_str())
        .collect();
    assert_eq!(
        steps,
        vec![
            "create_access_entry",
            "associate_access_policy",
            "write_config_map"
        ],
        "no mode switch on an API_AND_CONFIG_MAP cluster"
    );
    assert_eq!(v["triage"]["paths"][0]["kind"], "access_entry");
    assert_eq!(v["report"]["status"], "recovered");
    assert!(stderr.contains("Plan (recover"), "{stderr}");
    let r = report(&dir);
    assert_eq!(r["status"], "recovered", "{r:#}");
    assert!(checks(&r).iter().all(|(_, ok)| *ok), "{r:#}");
    assert!(calls(&r, "eks") > 0 && calls(&r, "sts") > 0);
    assert!(d.sim_maps_role(&arn("role/eks-node-role")));
    assert_eq!(d.w.auth_mode(&d.cluster), "API_AND_CONFIG_MAP");
    let entries = d.w.eks_snapshot(&d.cluster).join("\n");
    assert!(
        entries.contains("user/oncall") && entries.contains("AmazonEKSClusterAdminPolicy"),
        "{entries}"
    );
    // The salvaged mapUsers lints clean: nothing invented (the one broken entry is kept).
    assert!(
        d.aws_auth_data()["mapUsers"]
            .as_str()
            .unwrap_or_default()
            .contains("user/nobody")
    );
}

#[test]
fn creator_deleted_on_config_map_needs_consent_then_switches_and_recovers() {
    let d = Drill::start("creator-deleted-configmap");
    let before = d.aws_auth_data();
    assert!(
        !d.sim_maps_role(&arn("role/eks-node-role")),
        "nodes start without their groups"
    );
    // Without the consent flag: refused before any change, with the exact command.
    let dir = d.run_dir("refused");
    let out = recover(&d, &dir, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--allow-auth-mode-change"), "{stderr}");
    assert!(
        stderr.contains("--via creator"),
        "the best-effort alternative is named: {stderr}"
    );
    assert!(!dir.exists(), "no run directory: nothing was changed");
    assert_eq!(d.w.auth_mode(&d.cluster), "CONFIG_MAP");
    assert_eq!(d.aws_auth_data(), before);

    let dir = d.run_dir("run");
    let out = recover(&d, &dir, &["--allow-auth-mode-change"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(d.w.auth_mode(&d.cluster), "API_AND_CONFIG_MAP");
    let r = report(&dir);
    assert_eq!(r["status"], "recovered", "{r:#}");
    assert!(d.sim_maps_role(&arn("role/eks-node-role")));
    // Both broken sections were salvaged: the node role's groups and the operator are back.
    let data = d.aws_auth_data();
    assert!(
        data["mapRoles"]
            .as_str()
            .unwrap_or_default()
            .contains("system:nodes")
    );
    assert!(
        r["changes"].to_string().contains("cannot be undone"),
        "the one-way switch is reported: {}",
        r["changes"]
    );
}

#[test]
fn killed_in_the_middle_then_cleanup_returns_to_the_state_before() {
    let d = Drill::start("incident");
    let iam_before = d.w.iam_snapshot();
    let aws_auth_before = d.aws_auth_data();
    // Hold the deletion of the temporary key (the run's last change) and kill the process.
    let trap = Trap::start(&d.w.iam_url(), Rule::Hold("DeleteAccessKey".into()));
    let dir = d.run_dir("run");
    let child = d.spawn(
        &[
            "recover",
            "--cluster",
            &d.cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
        &trap.url,
    );
    assert!(
        trap.wait_hit(Duration::from_secs(90)),
        "the run never reached DeleteAccessKey"
    );
    signal(&child, "KILL");
    let (code, _, _) = finish(child);
    assert_eq!(code, None, "killed by a signal");
    trap.release();
    assert_ne!(
        d.aws_auth_data(),
        aws_auth_before,
        "aws-auth was written before the kill"
    );
    assert!(
        dir.join("aws-auth.before.json").exists(),
        "the broken aws-auth is backed up"
    );

    let out = d
        .product()
        .args(["cleanup", "--yes", "--journal"])
        .arg(&dir)
        .output()
        .expect("cleanup");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    // Plain cleanup removes what was temporary and keeps the fix.
    assert!(stdout.contains("kube-system/aws-auth"), "{stdout}");
    assert!(stdout.contains("--rollback"), "{stdout}");
    assert_eq!(d.w.iam_snapshot(), iam_before, "IAM as before the run");
    assert_ne!(d.aws_auth_data(), aws_auth_before, "the fix is kept");
    // The rollback, asked by name, puts the earlier aws-auth back. The earlier version maps
    // nobody who runs it (the operator's entry is the broken one): the rollback's self-lockout
    // check refuses that without --force (it counts aws-auth entries only), so it is forced.
    let out = d
        .product()
        .args(["cleanup", "--rollback", "--force", "--yes", "--journal"])
        .arg(&dir)
        .output()
        .expect("cleanup");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        d.aws_auth_data(),
        aws_auth_before,
        "aws-auth as before the run"
    );
    let backup = std::fs::read_to_string(dir.join("aws-auth.before.json")).expect("backup kept");
    assert!(backup.contains("user/oncall"));
    // Cleanup is idempotent.
    let again = d
        .product()
        .args(["cleanup", "--yes", "--journal"])
        .arg(&dir)
        .output()
        .expect("cleanup");
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("Nothing to undo"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn a_denied_step_says_what_changed_and_how_to_undo_or_continue() {
    let d = Drill::start("creator-deleted-api");
    let eks_before = d.w.eks_snapshot(&d.cluster);
    d.w.deny(&arn("user/oncall"), &["eks:AssociateAccessPolicy"]);
    let dir = d.run_dir("run");
    let out = recover(&d, &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("eks:AssociateAccessPolicy"),
        "the denied action is named: {stderr}"
    );
    assert!(stderr.contains("changed so far: step 1"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "eks-breakglass cleanup --journal {}",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("eks-breakglass recover --cluster {}", d.cluster)),
        "{stderr}"
    );
    let r = report(&dir);
    assert_eq!(r["status"], "failed");
    assert!(
        r["error"]
            .as_str()
            .unwrap_or_default()
            .contains("AssociateAccessPolicy")
    );

    // Roll back from the journal: EKS as before.
    d.w.deny(&arn("user/nobody"), &[]);
    let out = d
        .product()
        .args(["cleanup", "--rollback", "--yes", "--journal"])
        .arg(&dir)
        .output()
        .expect("cleanup");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(d.w.eks_snapshot(&d.cluster), eks_before);
}

#[test]
fn a_denied_first_step_changes_nothing_and_deletes_no_key() {
    let d = Drill::start("incident");
    let trap = Trap::start(
        &d.w.iam_url(),
        Rule::Deny("iam:CreateAccessKey".into(), None),
    );
    let dir = d.run_dir("run");
    let child = d.spawn(
        &[
            "recover",
            "--cluster",
            &d.cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
        &trap.url,
    );
    let (code, _, stderr) = finish(child);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("iam:CreateAccessKey"), "{stderr}");
    assert!(stderr.contains("changed so far: nothing"), "{stderr}");
    assert!(
        stderr.contains("undo:") && stderr.contains("continue:"),
        "{stderr}"
    );
    assert_eq!(report(&dir)["status"], "failed");
}

#[test]
fn a_private_endpoint_is_recovered_through_a_tunnel_with_the_server_name_checked() {
    let d =
        Drill::start_file(&common::root().join("tests/fixtures/scenarios/recover-private.yaml"));
    let port = drill::tunnel(&d.api_host_port());
    let server = format!("https://127.0.0.1:{port}");
    let dir = d.run_dir("run");
    // The sim's serving certificate names `kubernetes` (and localhost, 127.0.0.1): checking the
    // certificate against that name through the tunnel is what --tls-server-name is for.
    let out = recover(
        &d,
        &dir,
        &["--api-server", &server, "--tls-server-name", "kubernetes"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("private endpoint only; it is reachable from here"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("endpoint:    {server}")),
        "{stdout}"
    );
    let r = report(&dir);
    assert_eq!(r["status"], "recovered", "{r:#}");
    assert!(checks(&r).iter().all(|(_, ok)| *ok), "{r:#}");
    // The undo command goes through the same tunnel, and works.
    let undo = r["undo_command"]
        .as_str()
        .expect("undo command")
        .to_string();
    assert!(
        undo.ends_with(&format!(
            "--api-server {server} --tls-server-name kubernetes"
        )),
        "{undo}"
    );
    let args: Vec<&str> = undo.split_whitespace().skip(1).collect();
    let out = d
        .product()
        .args(&args)
        .args(["--rollback", "--force", "--yes"])
        .output()
        .expect("cleanup");
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        d.aws_auth_data()["mapUsers"]
            .as_str()
            .unwrap_or_default()
            .contains("\n groups:"),
        "the broken aws-auth is back"
    );
    // A wrong server name is refused by TLS: nothing is trusted by accident.
    let out = d
        .product()
        .args(["diagnose", "--cluster", &d.cluster, "--output", "json"])
        .args([
            "--api-server",
            &server,
            "--tls-server-name",
            "not-the-cluster.example",
        ])
        .output()
        .expect("diagnose");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["access"]["result"], "unknown", "{}", v["access"]);
    // A tunnel that is down: the private endpoint is explained with the ssh command and the name.
    let out = d
        .product()
        .args([
            "diagnose",
            "--cluster",
            &d.cluster,
            "--api-server",
            "https://127.0.0.1:9",
        ])
        .output()
        .expect("diagnose");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "has a private endpoint only, and the tunnel https://127.0.0.1:9 did not answer"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("ssh -N -L 8443:127.0.0.1:443 bastion"),
        "{stdout}"
    );
    assert!(
        stdout.contains("needs: ") && stdout.contains("--api-server through a tunnel"),
        "{stdout}"
    );
}

#[test]
fn from_a_known_good_file_writes_it_with_the_node_roles_added() {
    let d = Drill::start("incident");
    let file = d.w.path("known-good.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/dev-admin\n      username: dev-admin:{{SessionName}}\n      groups:\n        - system:masters\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n      groups:\n        - system:masters\n",
    )
    .expect("write the file");
    let dir = d.run_dir("run");
    let out = recover(&d, &dir, &["--from", file.to_str().unwrap_or_default()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("restore kube-system/aws-auth of prod: from"),
        "{stdout}"
    );
    let data = d.aws_auth_data();
    let users = data["mapUsers"].as_str().unwrap_or_default();
    assert!(
        users.contains("user/oncall") && !users.contains("alice"),
        "the file's mapUsers: {users}"
    );
    assert!(
        d.sim_maps_role(&arn("role/eks-node-role")),
        "node roles added"
    );
    assert!(d.sim_maps_role(&arn("role/eks-fargate-pod-execution")));
    // The live mapRoles that the file does not name is kept (it loads).
    assert!(
        data["mapRoles"]
            .as_str()
            .unwrap_or_default()
            .contains("role/dev-admin")
    );
    assert_eq!(report(&dir)["status"], "recovered");

    // A file that lints with errors is refused before anything is changed.
    let bad = d.w.path("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n     groups:\n        - system:masters\n").expect("write");
    let keys = d.w.access_keys("platform-admin");
    let before = d.aws_auth_data();
    let out = recover(
        &d,
        &d.run_dir("bad"),
        &[
            "--via",
            "direct",
            "--from",
            bad.to_str().unwrap_or_default(),
        ],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("lint error"), "{stderr}");
    assert_eq!(d.aws_auth_data(), before);
    assert_eq!(d.w.access_keys("platform-admin"), keys);
}

#[test]
fn ctrl_c_during_a_step_finishes_it_then_undoes_the_run() {
    let d = Drill::start("incident");
    let iam_before = d.w.iam_snapshot();
    let aws_auth_before = d.aws_auth_data();
    let trap = Trap::start(&d.w.iam_url(), Rule::Hold("CreateAccessKey".into()));
    let dir = d.run_dir("run");
    let child = d.spawn(
        &[
            "recover",
            "--cluster",
            &d.cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap_or_default(),
        ],
        &trap.url,
    );
    assert!(
        trap.wait_hit(Duration::from_secs(90)),
        "the run never reached CreateAccessKey"
    );
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    trap.release();
    let (code, _, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("undone: deleted access key"), "{stderr}");
    assert_eq!(
        d.w.iam_snapshot(),
        iam_before,
        "the key made by the interrupted step is gone"
    );
    assert_eq!(d.aws_auth_data(), aws_auth_before, "aws-auth untouched");
    assert_eq!(report(&dir)["status"], "interrupted");
    let events = support::events(&dir);
    assert_eq!(
        events.last().map(String::as_str),
        Some("run_finished"),
        "{events:?}"
    );
}
