//! Review of issue 13: the product against AWS rules it still gets wrong. Each test is a
//! failing reproduction; the AWS behaviour it expects is cited beside it.

mod common;
use common::world;

use eks_breakglass::recovery::trust::{Caller, TrustDecision, evaluate};
use serde_json::Value;
use world::{World, text};

const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn creator_json(w: &World, cluster: &str) -> (i32, Value, String) {
    let out = w
        .product()
        .args(["creator", "--cluster", cluster, "--output", "json"])
        .output()
        .expect("run creator");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

const PEOPLE: &str = r#"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
      path: /admins/
operator: oncall
"#;

/// On API_AND_CONFIG_MAP the creator's admin IS its access entry's policy. Someone
/// disassociated AmazonEKSClusterAdminPolicy from it (the entry stays, empty): becoming the
/// creator now signs you in with no permission at all, so it cannot repair aws-auth. The
/// product still calls the creator "usable" and proposes assume-creator (exit 0).
#[test]
fn review_a_creator_entry_without_the_admin_policy_is_not_a_way_back_in() {
    let w = World::start_yaml(&format!(
        "{PEOPLE}clusters:\n  - name: prod\n    createdAt: -10d\n    authenticationMode: API_AND_CONFIG_MAP\n    creator: {{user: platform-admin}}\n"
    ));
    let creator = format!("arn:aws:iam::{}:user/admins/platform-admin", w.account());
    w.aws(&[
        "eks",
        "disassociate-access-policy",
        "--cluster-name",
        "prod",
        "--principal-arn",
        &creator,
        "--policy-arn",
        ADMIN_POLICY,
    ]);
    let (code, r, err) = creator_json(&w, "prod");
    assert_eq!(r["creator_entry"]["cluster_admin"], false, "{r:#}");
    assert_ne!(
        code, 0,
        "the creator has no admin policy any more, yet it is proposed as usable: {r:#}\n{err}"
    );
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap_or_default()
            .contains("grant"),
        "{r:#}"
    );
}

/// EKS binds an access entry to the principal's unique id: "If you don't delete the access
/// entry and ever recreate the IAM principal, even if it has the same ARN, the access entry
/// won't work" (EKS API reference, AccessEntry.principalArn). The operator was deleted and
/// recreated; its old entry (with AmazonEKSClusterAdminPolicy) is still listed. `grant` sees
/// "already exists, already associated", plans nothing, and the recreated operator stays
/// locked out; the stale entry should be detected (the principal is younger than the entry)
/// and replaced, with consent.
#[test]
fn review_grant_does_not_keep_a_stale_entry_of_a_recreated_principal() {
    let w = World::start_yaml(
        "region: us-east-1\niam:\n  users:\n    - name: rehired\noperator: rehired\nclusters:\n  - name: prod\n    createdAt: -10d\n    authenticationMode: API_AND_CONFIG_MAP\n    creator: {user: rehired, deleted: true, recreated: true}\n",
    );
    let out = w
        .product()
        .args([
            "grant",
            "--cluster",
            "prod",
            "--yes",
            "--wait",
            "10",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .expect("grant");
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "grant left the recreated operator locked out:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("authenticated"), "{stdout}");
}

fn user() -> Caller {
    Caller {
        arn: "arn:aws:iam::111122223333:user/oncall".into(),
        account: "111122223333".into(),
        user_id: "AIDAONCALL".into(),
    }
}

/// `Deny` + `NotPrincipal` naming the user but not its account: AWS "might deny access to the
/// entire account containing the principal … you must also specify the account ARN of the
/// not-denied principal" (IAM User Guide, "AWS JSON policy elements: NotPrincipal"). The
/// product judges the user exempt and the role "allowed"; it can only be "uncertain".
#[test]
fn review_notprincipal_without_the_account_is_not_read_as_allowed() {
    let p = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"},
        {"Sid":"OnlyOncall","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/oncall"},"Action":"sts:AssumeRole"}]}"#;
    let e = evaluate(p, &user());
    assert_ne!(e.decision, TrustDecision::Allowed, "{e:#?}");
    assert!(!e.lets_in(), "{e:#?}");
}

/// An operator's run dies (kill -9, a closed laptop, or Ctrl-C, which the product answers
/// "interrupted while waiting; the switch goes on in EKS") while EKS is still switching the
/// cluster to API_AND_CONFIG_MAP. Re-running `recover`, as the product itself says to, fails at
/// once with `ResourceInUseException: Cannot update cluster config while another update is in
/// progress` (EKS's refusal while an update runs) and tells the operator to "continue" with
/// the very same command. Expected: the re-run sees the update in progress (DescribeCluster
/// status UPDATING / ListUpdates) and waits for it instead of starting a second one.
#[test]
fn review_a_rerun_after_a_killed_run_waits_for_the_switch_in_progress() {
    let w = World::start_yaml(
        "region: us-east-1\nupdateDelaySeconds: 15\niam:\n  users:\n    - name: oncall\n  roles:\n    - name: terraform-deployer\n      path: /ci/\noperator: oncall\nclusters:\n  - name: legacy\n    createdAt: -120d\n    creator: {role: terraform-deployer, session: terraform, deleted: true}\n    authenticationMode: CONFIG_MAP\n    awsAuth:\n      mapUsers: |\n        - userarn: arn:aws:iam::123456789012:user/oncall\n            username: oncall\n",
    );
    let run1 = w.path("run1");
    let run1 = run1.to_str().expect("path");
    let child = w.spawn(
        &[
            "recover",
            "--cluster",
            "legacy",
            "--yes",
            "--allow-auth-mode-change",
            "--journal-dir",
            run1,
        ],
        &[],
    );
    let start = std::time::Instant::now();
    while w.calls("eks", "UpdateClusterConfig").is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the switch never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    world::signal(&child, "KILL");
    let _ = world::finish(child);
    assert_eq!(
        w.auth_mode("legacy"),
        "CONFIG_MAP",
        "the switch is still running"
    );
    let out = w
        .product()
        .args([
            "recover",
            "--cluster",
            "legacy",
            "--yes",
            "--allow-auth-mode-change",
            "--journal-dir",
        ])
        .arg(w.path("run2"))
        .output()
        .expect("recover again");
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "the re-run did not wait for the update in progress:\n{stdout}\n{stderr}"
    );
}

/// `Deny … "Bool": {"aws:MultiFactorAuthPresent": "false"}` (no IfExists) does not deny a
/// caller using long-term access keys: for them the key is absent, and a Bool condition on an
/// absent key does not match ("aws:MultiFactorAuthPresent … is not present when … called with
/// long-term credentials … use BoolIfExists" — IAM User Guide, AWS global condition context
/// keys). eks-sim's STS agrees and lets the operator's long-term key assume the role. The
/// product reads the Deny as "MFA required" and refuses to assume the creator role without
/// an MFA device the operator may not have: the fastest way back in is blocked by the tool.
#[test]
fn review_a_bool_mfa_deny_without_ifexists_does_not_block_a_long_term_key() {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},{"Sid":"NoMfaNoEntry","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let w = World::start_yaml(&format!(
        "region: us-east-1\niam:\n  users:\n    - name: oncall\n  roles:\n    - name: deployer\n      trustPolicy: '{trust}'\noperator: oncall\nclusters:\n  - name: prod\n    createdAt: -10d\n    creator: {{role: deployer, session: terraform}}\n"
    ));
    // AWS (the sim's STS) lets the long-term key in without MFA.
    let sts = w.aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        "arn:aws:iam::123456789012:role/deployer",
        "--role-session-name",
        "probe",
    ]);
    assert!(sts["Credentials"]["AccessKeyId"].is_string(), "{sts}");
    let (code, r, err) = creator_json(&w, "prod");
    assert_eq!(code, 0, "{r:#}\n{err}");
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "prod",
            "--yes",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .expect("assume-creator");
    assert!(
        out.status.success(),
        "the product refused what AWS allows: trust judged {:#}\n{}\n{}",
        r["status"]["trust"],
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A trust policy with no Allow for the caller and a Deny "unless MFA"
/// (`BoolIfExists aws:MultiFactorAuthPresent false`, the documented idiom). The evaluation
/// drops the Deny when no Allow matches ("not trusted", the Deny not even mentioned), so
/// `assume-creator` widens the role's trust (UpdateAssumeRolePolicy) for a caller without MFA,
/// then AssumeRole is refused by the Deny, and the refusal is retried as "IAM propagation".
/// Expected: the Deny is reported and the run refuses before changing IAM without
/// --mfa-serial (as it does for --require-mfa).
#[test]
fn review_a_deny_unless_mfa_is_not_forgotten_when_no_allow_matches() {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Sid":"MfaOnly","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let w = World::start_yaml(&format!(
        "region: us-east-1\niam:\n  users:\n    - name: oncall\n  roles:\n    - name: deployer\n      trustPolicy: '{trust}'\noperator: oncall\nclusters:\n  - name: prod\n    createdAt: -10d\n    creator: {{role: deployer, session: terraform}}\n"
    ));
    let (_, r, _) = creator_json(&w, "prod");
    let judged = r["status"]["trust"].to_string();
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "prod",
            "--yes",
            "--wait",
            "10",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .expect("assume-creator");
    let updates = w.calls("iam", "UpdateAssumeRolePolicy").len();
    assert_eq!(
        updates,
        0,
        "the trust was widened for a caller the Deny refuses anyway (judged {judged}):\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        judged.contains("MfaOnly"),
        "the Deny is not reported: {judged}"
    );
}

/// AmazonEKSClusterAdminPolicy associated with a *namespace* scope (say `default`) gives
/// admin in that namespace only: not kube-system, where aws-auth lives (EKS User Guide,
/// "Associate access policies with access entries": the access scope is `cluster` or
/// `namespace`). `grant` compares policy ARNs only: it reports "AmazonEKSClusterAdminPolicy is
/// already associated", changes nothing, and the operator still cannot read or repair aws-auth.
#[test]
fn review_grant_does_not_take_a_namespace_scoped_admin_policy_for_cluster_admin() {
    let w = World::start_yaml(&format!(
        "{PEOPLE}clusters:\n  - name: prod\n    createdAt: -10d\n    authenticationMode: API_AND_CONFIG_MAP\n    creator: {{user: platform-admin}}\n"
    ));
    let me = format!("arn:aws:iam::{}:user/oncall", w.account());
    w.aws(&[
        "eks",
        "create-access-entry",
        "--cluster-name",
        "prod",
        "--principal-arn",
        &me,
    ]);
    w.aws(&[
        "eks",
        "associate-access-policy",
        "--cluster-name",
        "prod",
        "--principal-arn",
        &me,
        "--policy-arn",
        ADMIN_POLICY,
        "--access-scope",
        "type=namespace,namespaces=default",
    ]);
    let out = w
        .product()
        .args(["grant", "--cluster", "prod", "--yes", "--output", "json"])
        .output()
        .expect("grant");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let steps = v["plan"]["steps"].as_array().map_or(0, Vec::len);
    assert!(
        steps > 0,
        "a namespace-scoped admin policy was taken for cluster admin; nothing planned: {v:#}\n{}",
        text(&out.stderr)
    );
}

/// `assume-creator --duration 7200` for a role whose MaxSessionDuration is the default 3600:
/// AWS refuses the AssumeRole ("The requested DurationSeconds exceeds the MaxSessionDuration
/// set for this role.", STS API reference, AssumeRole DurationSeconds), and the sim does too.
/// The role's MaxSessionDuration is known before any change (GetRole), yet the run first
/// widens the role's trust (UpdateAssumeRolePolicy), then fails: a mutation that could not
/// succeed, against "everything written is computed, validated … before the first mutation".
#[test]
fn review_a_duration_above_max_session_duration_is_refused_before_changing_iam() {
    let w = World::start_yaml(
        "region: us-east-1\niam:\n  users:\n    - name: oncall\n  roles:\n    - name: deployer\n      trust: {service: [ec2.amazonaws.com]}\noperator: oncall\nclusters:\n  - name: prod\n    createdAt: -10d\n    creator: {role: deployer, session: terraform}\n",
    );
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "prod",
            "--yes",
            "--duration",
            "7200",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .expect("assume-creator");
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert_eq!(
        w.calls("iam", "UpdateAssumeRolePolicy").len(),
        0,
        "the trust was changed for an AssumeRole that could not succeed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Wait loops show progress on long waits: on a terminal, `grant` says what it is waiting for
/// (IAM/EKS propagation of the new access entry), the attempt and the seconds so far, instead
/// of sitting silent for the several seconds AWS takes.
#[test]
fn a_long_wait_for_propagation_shows_progress_on_a_terminal() {
    use std::io::Read as _;
    let w = World::start("getin");
    w.admin_put("propagation", &serde_json::json!({"seconds": 3}));
    let bin = assert_cmd::cargo::cargo_bin("eks-breakglass");
    let line = format!(
        "{} grant --cluster api-cluster --yes --journal-dir {}",
        bin.display(),
        w.path("run").display()
    );
    // A terminal (script(1)): the spinner draws only there.
    let mut cmd = std::process::Command::new("script");
    for var in common::CLEAN_ENV_REMOVE {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .envs(common::CLEAN_ENV_SET.iter().copied())
        .envs(w.env_pairs())
        .args(["-qfec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut seen)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{seen}");
    assert!(
        seen.contains("waiting for propagation") && seen.contains("attempt"),
        "no progress while waiting:\n{seen}"
    );
    assert!(seen.contains("authenticated"), "{seen}");
}
