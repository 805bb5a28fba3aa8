//! `grant` against moto + eks-sim: the one-way mode switch only with consent, an access entry
//! with AmazonEKSClusterAdminPolicy proved by authenticating, a refused action that stops the
//! plan and leaves it undoable, and a role session resolved to the real role ARN with its path.

mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, arn, text};
use support::events;

const ADMIN_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

#[test]
fn config_map_cluster_needs_consent_for_the_one_way_switch_then_grants_admin() {
    let w = World::start("getin");
    let jd = w.path("run");
    let j = jd.to_str().unwrap();

    let refused = w
        .product()
        .args(["grant", "--cluster", "by-user", "--yes", "--journal-dir", j])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stdout).contains("ONE-WAY"));
    assert!(text(&refused.stderr).contains("--allow-auth-mode-change"));
    assert_eq!(w.auth_mode("by-user"), "CONFIG_MAP");
    assert_eq!(w.calls("eks", "UpdateClusterConfig").len(), 0);
    assert!(!jd.exists());

    let out = w
        .product()
        .args([
            "grant",
            "--cluster",
            "by-user",
            "--allow-auth-mode-change",
            "--yes",
            "--journal-dir",
            j,
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("cannot be undone"), "{stdout}");
    assert!(
        stdout.contains("authenticated (SelfSubjectReview")
            && stdout.contains("username arn:aws:iam::123456789012:user/oncall"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reading kube-system/aws-auth: allowed"),
        "{stdout}"
    );
    assert_eq!(w.auth_mode("by-user"), "API_AND_CONFIG_MAP");
    // The switch also makes the creator's admin an access entry, as EKS does.
    assert_eq!(
        w.eks_snapshot("by-user"),
        vec![
            format!(
                "entry {} [\"{ADMIN_POLICY}\"]",
                arn("user/admins/platform-admin")
            ),
            format!("entry {} [\"{ADMIN_POLICY}\"]", arn("user/oncall")),
            "mode API_AND_CONFIG_MAP".to_string()
        ]
    );
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "step_started:2",
            "step_done:2",
            "step_started:3",
            "step_done:3",
            "note",
            "run_finished"
        ]
    );

    // The rollback removes the entry; the mode switch stays, and says so.
    let c = w
        .product()
        .args(["cleanup", "--rollback", "--journal", j, "--yes"])
        .output()
        .unwrap();
    let cs = text(&c.stdout);
    assert!(c.status.success(), "{cs}{}", text(&c.stderr));
    assert!(cs.contains("left as is: cannot be undone"), "{cs}");
    assert_eq!(
        w.eks_snapshot("by-user"),
        vec![
            format!(
                "entry {} [\"{ADMIN_POLICY}\"]",
                arn("user/admins/platform-admin")
            ),
            "mode API_AND_CONFIG_MAP".to_string()
        ]
    );
}

/// The creator grants itself on a CONFIG_MAP cluster: the switch makes EKS create the
/// creator's entry, so CreateAccessEntry answers 409 ResourceInUseException. `grant` adopts
/// the entry (it used to abort "appeared meanwhile"), and undo leaves it alone.
#[test]
fn an_entry_made_by_the_switch_is_adopted_not_fatal_and_never_undone() {
    let w = World::start("getin");
    let jd = w.path("run");
    let key = &w.user("platform-admin")["accessKeys"][0];
    let out = w
        .product()
        .env("AWS_ACCESS_KEY_ID", key["accessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            key["secretAccessKey"].as_str().unwrap(),
        )
        .args([
            "grant",
            "--cluster",
            "by-user",
            "--allow-auth-mode-change",
            "--yes",
            "--journal-dir",
        ])
        .arg(&jd)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("authenticated"), "{stdout}");
    let creator_entry = vec![
        format!(
            "entry {} [\"{ADMIN_POLICY}\"]",
            arn("user/admins/platform-admin")
        ),
        "mode API_AND_CONFIG_MAP".to_string(),
    ];
    assert_eq!(w.eks_snapshot("by-user"), creator_entry);
    // Nothing this run made: cleanup changes nothing.
    let c = w
        .product()
        .args(["cleanup", "--journal"])
        .arg(&jd)
        .arg("--yes")
        .output()
        .unwrap();
    let cs = text(&c.stdout);
    assert!(c.status.success(), "{cs}{}", text(&c.stderr));
    assert!(
        cs.contains("already existed when the run reached it"),
        "{cs}"
    );
    assert_eq!(w.eks_snapshot("by-user"), creator_entry);
}

#[test]
fn api_and_config_map_cluster_never_touches_the_mode_and_a_second_grant_changes_nothing() {
    let w = World::start("getin");
    let out = w
        .product()
        .args([
            "grant",
            "--cluster",
            "api-cluster",
            "--yes",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(!stdout.contains("UpdateClusterConfig"), "{stdout}");
    assert!(stdout.contains("2 change(s)"), "{stdout}");
    assert_eq!(w.calls("eks", "UpdateClusterConfig").len(), 0);
    assert_eq!(w.auth_mode("api-cluster"), "API_AND_CONFIG_MAP");
    assert!(stdout.contains("authenticated"), "{stdout}");

    let again = w
        .product()
        .args(["grant", "--cluster", "api-cluster", "--output", "json"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again.stderr));
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["plan"]["steps"].as_array().unwrap().len(), 0);
    assert!(
        v["plan"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    assert_eq!(v["verification"]["result"], "authenticated");
    assert_eq!(w.calls("eks", "UpdateClusterConfig").len(), 0);
}

#[test]
fn a_denied_action_stops_the_plan_names_the_action_and_leaves_it_undoable() {
    let w = World::start("getin");
    w.deny(&w.operator(), &["eks:AssociateAccessPolicy"]);
    let before = w.eks_snapshot("api-cluster");
    let jd = w.path("run");
    let out = w
        .product()
        .args([
            "grant",
            "--cluster",
            "api-cluster",
            "--yes",
            "--journal-dir",
        ])
        .arg(&jd)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("step 2 failed (AWS denied eks:AssociateAccessPolicy)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("eks-breakglass cleanup --journal"),
        "{stderr}"
    );
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "step_started:2",
            "step_failed:2",
            "run_finished"
        ]
    );
    let during = w.eks_snapshot("api-cluster");
    assert!(
        during.contains(&format!("entry {} []", arn("user/oncall"))),
        "{during:?}"
    );
    let c = w
        .product()
        .args(["cleanup", "--rollback", "--journal"])
        .arg(&jd)
        .arg("--yes")
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.eks_snapshot("api-cluster"), before);
}

#[test]
fn a_role_session_is_granted_as_its_real_role_arn_with_path() {
    let w = World::start("getin");
    let s = w.aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        &arn("role/ci/deployer"),
        "--role-session-name",
        "alice",
    ]);
    let c = &s["Credentials"];
    let out = w
        .product()
        .env("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            c["SecretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap())
        .args([
            "grant",
            "--cluster",
            "api-cluster",
            "--yes",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("principalArn=arn:aws:iam::123456789012:role/ci/deployer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("username arn:aws:sts::123456789012:assumed-role/deployer/alice"),
        "{stdout}"
    );
}

#[test]
fn without_a_terminal_and_without_yes_it_needs_confirmation() {
    let w = World::start("getin");
    let before = w.eks_snapshot("api-cluster");
    let out = w
        .product()
        .args(["grant", "--cluster", "api-cluster"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("eks:CreateAccessEntry"));
    assert_eq!(w.eks_snapshot("api-cluster"), before);
}

/// An authentication-mode update that ends `Failed` (DescribeUpdate with errors): grant stops
/// there, says why in EKS's words, and creates no access entry; the mode is unchanged.
#[test]
fn a_failed_mode_update_stops_the_plan_with_eks_error() {
    let w = World::start("getin");
    w.admin_put(
        "update-failure",
        &serde_json::json!({"errorCode": "AccessDenied", "errorMessage": "The cluster role is not authorized to perform this update"}),
    );
    let out = w
        .product()
        .args([
            "grant",
            "--cluster",
            "by-user",
            "--allow-auth-mode-change",
            "--yes",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains("failed: The cluster role is not authorized to perform this update"),
        "{stderr}"
    );
    assert_eq!(w.auth_mode("by-user"), "CONFIG_MAP");
    assert!(w.calls("eks", "CreateAccessEntry").is_empty());
}
