//! `creator` end to end: the real binary against moto + eks-sim scenarios (issue 5 acceptance).

mod common;
use common::world;

use serde_json::Value;
use std::time::{Duration, Instant};
use world::World;

/// Runs `creator --output json` and returns (exit code, report, stderr).
fn creator_json(w: &World, cluster: &str, extra: &[&str]) -> (i32, Value, String) {
    let out = w
        .product()
        .args(["creator", "--cluster", cluster, "--output", "json"])
        .args(extra)
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
  roles:
    - name: ops
      path: /team/ops/
      sessions: [bob]
    - name: cfn-exec
      trust: {service: [cloudformation.amazonaws.com]}
operator: oncall
"#;

fn scenario(clusters: &str) -> String {
    format!("{PEOPLE}clusters:\n{clusters}")
}

#[test]
fn iam_user_alive_is_usable_in_one_lookup() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -60d\n    creator: {user: platform-admin}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let c = &r["creator"];
    assert_eq!(
        c["arn"],
        format!("arn:aws:iam::{}:user/admins/platform-admin", w.account())
    );
    assert_eq!(c["kind"], "iam_user");
    assert_eq!(c["unique_id"], w.user("platform-admin")["userId"]);
    assert_eq!(c["source"], "cloudtrail");
    assert!(c["event_id"].is_string() && c["source_ip"].is_string() && c["user_agent"].is_string());
    assert_eq!(r["status"]["state"], "alive");
    assert_eq!(r["status"]["user"]["access_keys"], 1);
    assert_eq!(r["cloudtrail"]["calls"], 1);
    assert_eq!(r["verdict"]["outcome"], "usable");
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap()
            .starts_with("eks-breakglass assume-creator --cluster prod")
    );
    assert_eq!(w.calls("cloudtrail", "LookupEvents").len(), 1);
}

#[test]
fn human_report_ends_with_the_next_command() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -3d\n    creator: {user: platform-admin}\n",
    ));
    let out = w
        .product()
        .args(["creator", "--cluster", "prod"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Creator: arn:aws:iam::"), "{text}");
    assert!(text.contains("Status: alive"), "{text}");
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("Next: eks-breakglass assume-creator --cluster prod"),
        "{text}"
    );
}

#[test]
fn deleted_user_is_found_but_unusable() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -20d\n    creator: {user: platform-admin, deleted: true}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["creator"]["kind"], "iam_user");
    assert_eq!(r["status"]["state"], "deleted");
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap()
            .starts_with("eks-breakglass grant")
    );
}

#[test]
fn recreated_user_has_another_unique_id() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -20d\n    creator: {user: platform-admin, deleted: true, recreated: true}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    let u = w.user("platform-admin");
    assert_eq!(r["status"]["state"], "recreated");
    assert_eq!(r["status"]["expected_unique_id"], u["originalUserId"]);
    assert_eq!(r["status"]["current_unique_id"], u["userId"]);
    assert_ne!(u["originalUserId"], u["userId"]);
    assert!(
        r["status"]["summary"]
            .as_str()
            .unwrap()
            .contains("unique id")
    );
}

#[test]
fn role_with_a_path_assumed_by_a_session() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    creator: {kind: role, role: ops, session: bob}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let acct = w.account();
    let c = &r["creator"];
    assert_eq!(c["kind"], "assumed_role");
    assert_eq!(c["arn"], format!("arn:aws:iam::{acct}:role/team/ops/ops"));
    assert_eq!(c["aws_auth_arn"], format!("arn:aws:iam::{acct}:role/ops"));
    assert_eq!(c["path"], "/team/ops/");
    assert_eq!(c["session_name"], "bob");
    assert_eq!(c["unique_id"], w.role("ops")["roleId"]);
    assert_eq!(r["status"]["state"], "alive");
    // The default trust is the account: the operator may assume it with its own permission.
    assert_eq!(r["status"]["trust"]["decision"], "allowed");
    assert_eq!(r["status"]["trust"]["principal_match"], "account");
}

#[test]
fn identity_center_role_points_to_sso_sign_in() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    creator: {kind: sso, permissionSet: PlatformAdmin, session: carol@example.com}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let c = &r["creator"];
    assert_eq!(c["kind"], "identity_center_role");
    assert_eq!(c["permission_set"], "PlatformAdmin");
    assert!(
        c["arn"]
            .as_str()
            .unwrap()
            .contains(":role/aws-reserved/sso.amazonaws.com/")
    );
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap()
            .contains("aws sso login")
    );
    assert!(
        r["status"]["sso"]["sign_in"][0]
            .as_str()
            .unwrap()
            .contains("PlatformAdmin")
    );
}

#[test]
fn root_creator_is_said_plainly() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    creator: {kind: root}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["creator"]["kind"], "root");
    assert_eq!(
        r["creator"]["arn"],
        format!("arn:aws:iam::{}:root", w.account())
    );
    assert_eq!(r["status"]["state"], "root");
}

#[test]
fn cloudformation_created_cluster() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    creator: {kind: cloudformation, role: cfn-exec}\n    tags: {alpha.eksctl.io/cluster-name: prod}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    let c = &r["creator"];
    assert_eq!(c["via_cloudformation"], true, "{r:#}\n{err}");
    assert_eq!(c["invoked_by"], "cloudformation.amazonaws.com");
    assert_eq!(c["session_name"], "AWSCloudFormation");
    assert_eq!(c["tool"], "eksctl");
    assert_eq!(
        c["arn"],
        format!("arn:aws:iam::{}:role/cfn-exec", w.account())
    );
    // The role trusts only CloudFormation: assume-creator would add a statement for the operator.
    assert_eq!(r["status"]["trust"]["decision"], "not_trusted");
    assert_eq!(code, 0);
}

#[test]
fn a_reused_name_never_gives_the_old_clusters_creator() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -5d\n    creator: {user: platform-admin}\n    reusedName:\n      createdAt: -6d\n      creator: {user: oncall}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(
        r["creator"]["arn"],
        format!("arn:aws:iam::{}:user/admins/platform-admin", w.account())
    );
}

#[test]
fn bootstrap_creator_admin_disabled_points_to_grant() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    authenticationMode: API_AND_CONFIG_MAP\n    bootstrapClusterCreatorAdminPermissions: false\n    creator: {user: platform-admin}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["creator"]["kind"], "iam_user");
    assert!(
        r["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("no implicit access")
    );
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap()
            .starts_with("eks-breakglass grant --cluster prod")
    );
    let out = w
        .product()
        .args(["creator", "--cluster", "prod"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the creator has NO implicit access"),
        "{text}"
    );
}

#[test]
fn hundred_thousand_events_take_at_most_two_lookups_and_two_seconds() {
    let w = World::start_yaml(
        "region: us-east-1\niam:\n  users:\n    - name: oncall\n    - name: builder\noperator: oncall\n\
         clusters:\n  - name: prod\n    createdAt: -30d\n    creator: {user: builder}\n\
         cloudtrail:\n  throttle: {off: true}\n  noise: {eventsPerDay: 1112, days: 90, seed: 42}\n",
    );
    assert!(
        w.state["cloudtrail"]["events"].as_u64().unwrap_or(0) >= 100_000,
        "{}",
        w.state["cloudtrail"]
    );
    w.clear_calls();
    let t0 = Instant::now();
    let (code, r, err) = creator_json(&w, "prod", &[]);
    let took = t0.elapsed();
    assert_eq!(code, 0, "{r:#}\n{err}");
    let lookups = w.calls("cloudtrail", "LookupEvents").len();
    eprintln!(
        "100k events: {lookups} LookupEvents call(s), {} ms",
        took.as_millis()
    );
    assert!(lookups <= 2, "{lookups} LookupEvents calls");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn throttled_bursts_never_fail_and_say_so_verbosely() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    creator: {user: platform-admin}\n",
    ));
    w.set_throttle(2.0, 2.0);
    // A burst: five runs at once share 2 requests/second.
    // Each run has its own state directory: the burst is five cold searches, none answered
    // from another run's LookupEvents answers.
    let runs: Vec<_> = (0..5)
        .map(|i| {
            let mut cmd =
                std::process::Command::new(assert_cmd::cargo::cargo_bin("eks-breakglass"));
            cmd.args(["creator", "--cluster", "prod", "-v", "--output", "json"])
                .env_remove("AWS_PROFILE")
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .envs(w.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("XDG_STATE_HOME", w.path(&format!("state-{i}")))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn")
        })
        .collect();
    let mut said_throttled = false;
    for child in runs {
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let r: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(r["creator"]["kind"], "iam_user");
        if r["cloudtrail"]["throttled"].as_u64().unwrap_or(0) > 0 {
            assert!(
                err.contains("throttled LookupEvents") && err.contains("waiting"),
                "{err}"
            );
            said_throttled = true;
        }
    }
    let throttled = w
        .calls("cloudtrail", "LookupEvents")
        .iter()
        .filter(|c| c["status"] != 200)
        .count();
    assert!(
        throttled > 0 && said_throttled,
        "the burst was never throttled ({throttled})"
    );
}

#[test]
fn a_cluster_200_days_old_is_found_in_the_trail_logs() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -200d\n    creator: {user: platform-admin}\n\
         cloudtrail:\n  trail: {name: main, bucket: org-trail-logs, prefix: audit}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["creator"]["source"], "s3-trail");
    assert_eq!(
        r["creator"]["arn"],
        format!("arn:aws:iam::{}:user/admins/platform-admin", w.account())
    );
    assert_eq!(r["attempts"][0]["outcome"], "skipped");
    assert!(
        r["attempts"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("90 days")
    );
    assert!(w.calls("cloudtrail", "LookupEvents").is_empty());
    // The bucket can also be named explicitly.
    let (code, r, _) = creator_json(&w, "prod", &["--trail-bucket", "org-trail-logs/audit"]);
    assert_eq!(code, 0);
    assert!(
        r["attempts"][2]["detail"]
            .as_str()
            .unwrap()
            .contains("--trail-bucket"),
        "{r:#}"
    );
}

#[test]
fn no_trail_means_not_found_with_the_manual_step() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -200d\n    creator: {user: platform-admin}\n",
    ));
    let out = w
        .product()
        .args(["creator", "--cluster", "prod"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(6));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("90 days"), "{text}");
    assert!(text.contains("no CloudTrail trail"), "{text}");
    assert!(text.contains("username=kubernetes-admin"), "{text}");
    assert!(text.contains("Verdict: creator NOT FOUND"), "{text}");
}

#[test]
fn missing_permissions_name_the_action_and_keep_the_partial_result() {
    let w = World::start_yaml(&format!(
        "{}clusters:\n  - name: prod\n    createdAt: -10d\n    creator: {{user: platform-admin}}\n    tags:\n      eks-breakglass/creator-arn: arn:aws:iam::123456789012:user/admins/platform-admin\n      eks-breakglass/creator-kind: iam_user\n\
         deny:\n  - principal: \"*\"\n    actions: [\"cloudtrail:LookupEvents\"]\n",
        PEOPLE
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "{err}"
    );
    assert_eq!(r["attempts"][0]["outcome"], "denied", "{r:#}");
    assert_eq!(r["attempts"][0]["action"], "cloudtrail:LookupEvents");
    // The tags still answer; the id is unknown, so "same principal" stays unproven.
    assert_eq!(r["creator"]["source"], "tags");
    assert_eq!(r["status"]["state"], "exists_unverified");
    assert_eq!(code, 0);
    let out = w
        .product()
        .args(["creator", "--cluster", "prod"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DENIED") && text.contains("cloudtrail:LookupEvents"),
        "{text}"
    );
    assert!(
        text.contains("missing permissions: cloudtrail:LookupEvents"),
        "{text}"
    );
}

#[test]
fn an_old_cluster_without_a_trail_is_found_through_its_creator_access_entry() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -200d\n    authenticationMode: API_AND_CONFIG_MAP\n    creator: {kind: role, role: ops, session: bob}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let c = &r["creator"];
    assert_eq!(c["source"], "access-entry");
    assert_eq!(
        c["arn"],
        format!("arn:aws:iam::{}:role/team/ops/ops", w.account())
    );
    assert_eq!(c["kind"], "assumed_role");
    let outcomes: Vec<&str> = r["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["skipped", "not_found", "not_found", "answered"]);
    // An access entry does not carry the unique id: "same principal" stays unproven.
    assert_eq!(r["status"]["state"], "exists_unverified");
}

#[test]
fn an_mfa_trust_policy_is_a_condition_the_next_command_names() {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"sts:ExternalId":"breakglass"}}}]}"#;
    let w = World::start_yaml(&format!(
        "region: us-east-1\niam:\n  users:\n    - name: oncall\n  roles:\n    - name: guarded-admin\n      trustPolicy: '{trust}'\n\
         operator: oncall\nclusters:\n  - name: prod\n    createdAt: -10d\n    creator: {{kind: role, role: guarded-admin}}\n"
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    let t = &r["status"]["trust"];
    assert_eq!(t["decision"], "allowed_with_conditions");
    let kinds: Vec<&str> = t["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["mfa", "external_id"]);
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap()
            .contains("--mfa-serial")
    );
}

#[test]
fn a_user_with_two_access_keys_cannot_get_a_temporary_one() {
    let w = World::start_yaml(
        "region: us-east-1\niam:\n  users:\n    - name: oncall\n    - name: builder\n      accessKeys: 2\noperator: oncall\n\
         clusters:\n  - name: prod\n    createdAt: -10d\n    creator: {user: builder}\n",
    );
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["status"]["user"]["access_keys"], 2);
    assert_eq!(r["status"]["user"]["can_add_access_key"], false);
    assert!(
        r["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("2 access keys")
    );
}

/// CloudTrail answers short pages, and empty ones that still carry a NextToken (here: a
/// cluster in eu-west-1, whose LookupEvents examines one candidate per page and skips the two
/// newer us-east-1 CreateCluster events of the window with empty pages). The search pages on
/// until the token is gone and still finds the creator.
#[test]
fn short_and_empty_cloudtrail_pages_are_paged_through() {
    let w = World::start_yaml(&format!(
        "{PEOPLE}clusters:\n  - name: prod\n    region: eu-west-1\n    createdAt: -28800m\n    creator: {{user: platform-admin}}\n  - name: dev-a\n    createdAt: -28790m\n    creator: {{user: oncall}}\n  - name: dev-b\n    createdAt: -28795m\n    creator: {{user: oncall}}\ncloudtrail:\n  throttle: {{off: true}}\n  scanPerPage: 1\n"
    ));
    let (code, r, err) = creator_json(&w, "prod", &["--region", "eu-west-1"]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(
        r["creator"]["arn"],
        format!("arn:aws:iam::{}:user/admins/platform-admin", w.account())
    );
    assert_eq!(r["creator"]["source"], "cloudtrail");
    let calls = r["cloudtrail"]["calls"].as_u64().unwrap_or_default();
    assert!(
        calls >= 3,
        "two empty pages, then the event: {:#}",
        r["cloudtrail"]
    );
    let lookups = w.calls("cloudtrail", "LookupEvents").len();
    assert_eq!(lookups as u64, calls, "every LookupEvents call is counted");
}

/// The issue's repro: a creator role whose trust lets the account in but denies everyone whose
/// aws:PrincipalArn is StringNotLike role/ci/* was judged "already lets you assume it". The
/// Deny is evaluated now (the caller is a user: denied, naming the statement), and the sim's
/// STS agrees by refusing the AssumeRole.
#[test]
fn a_deny_with_a_negated_condition_is_not_read_as_allowed() {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},{"Sid":"OnlyCi","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/ci/*"}}}]}"#;
    let w = World::start_yaml(&format!(
        "{}    - name: ci-creator\n      trustPolicy: '{trust}'\noperator: oncall\nclusters:\n  - name: prod\n    createdAt: -10d\n    creator: {{role: ci-creator, session: terraform}}\n",
        PEOPLE.trim_end().trim_end_matches("operator: oncall")
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["status"]["trust"]["decision"], "denied", "{r:#}");
    assert_eq!(r["status"]["trust"]["statement"], "OnlyCi");
    let d = w
        .product()
        .args(["diagnose", "--cluster", "prod"])
        .output()
        .expect("diagnose");
    let text = String::from_utf8_lossy(&d.stdout);
    assert!(!text.contains("already lets you assume it"), "{text}");
    // AWS (the sim's STS) agrees.
    let (ok, _, err) = {
        let out = std::process::Command::new(common::venv_bin("aws"))
            .args([
                "sts",
                "assume-role",
                "--role-arn",
                "arn:aws:iam::123456789012:role/ci-creator",
                "--role-session-name",
                "probe",
            ])
            .env_clear()
            .envs(w.env_pairs())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .expect("aws");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert!(!ok && err.contains("AccessDenied"), "{err}");
}

/// Identity Center roles with and without the Region in their path (older permission sets
/// were provisioned under `/aws-reserved/sso.amazonaws.com/` only): both are recognised, the
/// Region is read when the path has one.
#[test]
fn identity_center_roles_with_and_without_the_region_in_their_path() {
    let w = World::start_yaml(&scenario(
        "  - name: new\n    createdAt: -10d\n    creator: {kind: sso, permissionSet: PlatformAdmin}\n  - name: old\n    createdAt: -12d\n    creator: {kind: sso, permissionSet: LegacyAdmin, ssoRegionInPath: false}\n",
    ));
    for (cluster, set, region) in [
        ("new", "PlatformAdmin", Some("us-east-1")),
        ("old", "LegacyAdmin", None),
    ] {
        let (code, r, err) = creator_json(&w, cluster, &[]);
        assert_eq!(code, 0, "{r:#}\n{err}");
        let c = &r["creator"];
        assert_eq!(c["kind"], "identity_center_role", "{cluster}");
        assert_eq!(c["permission_set"], set);
        assert_eq!(c["sso_region"].as_str(), region, "{cluster}: {c:#}");
        let arn = c["arn"].as_str().unwrap();
        match region {
            Some(rg) => assert!(
                arn.contains(&format!("/sso.amazonaws.com/{rg}/AWSReservedSSO_")),
                "{arn}"
            ),
            None => assert!(arn.contains("/sso.amazonaws.com/AWSReservedSSO_"), "{arn}"),
        }
        assert!(
            r["verdict"]["next_command"]
                .as_str()
                .unwrap()
                .contains("aws sso login")
        );
    }
}

/// A cluster created by a federated user (GetFederationToken of an IAM user): EKS's creator
/// is the federated identity, so the tool explains it and never offers a key for the IAM
/// user behind it (which would sign in as another principal: the sim refuses it as creator).
#[test]
fn a_federated_user_creator_is_explained_not_fixed_with_a_key() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    creator: {kind: federated, user: platform-admin, session: deploy-bot}\n",
    ));
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["creator"]["kind"], "federated_user");
    let reason = r["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("federated-user/deploy-bot"), "{reason}");
    assert!(reason.contains("not as the IAM user behind it"), "{reason}");
    assert!(
        r["verdict"]["next_command"]
            .as_str()
            .unwrap()
            .contains("grant")
    );
    // assume-creator makes no key for the IAM user.
    let keys_before = w.access_keys("platform-admin");
    let out = w
        .product()
        .args(["assume-creator", "--cluster", "prod", "--yes"])
        .output()
        .expect("assume-creator");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("federated user"), "{text}");
    assert_eq!(w.access_keys("platform-admin"), keys_before);
    assert!(w.calls("iam", "CreateAccessKey").is_empty());
}

/// On an API_AND_CONFIG_MAP cluster the creator's admin is its access entry: once it is
/// deleted, `creator` and `diagnose` stop proposing to become the creator.
#[test]
fn a_deleted_creator_entry_is_seen_before_proposing_the_creator() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -10d\n    authenticationMode: API_AND_CONFIG_MAP\n    creator: {user: platform-admin}\n",
    ));
    let creator = format!("arn:aws:iam::{}:user/admins/platform-admin", w.account());
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["creator_entry"]["exists"], true);
    w.aws(&[
        "eks",
        "delete-access-entry",
        "--cluster-name",
        "prod",
        "--principal-arn",
        &creator,
    ]);
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["creator_entry"]["exists"], false);
    assert!(
        r["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("no access entry for"),
        "{r:#}"
    );
    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod", "--output", "json"])
        .output()
        .expect("diagnose");
    let d: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let paths = d["paths"].as_array().unwrap();
    assert!(
        !paths.iter().any(|p| p["kind"] == "become_creator"),
        "{paths:#?}"
    );
    assert!(
        paths.iter().any(|p| p["title"]
            .as_str()
            .unwrap_or_default()
            .contains("no access entry any more")),
        "{paths:#?}"
    );
}

/// On call, `diagnose` and then `recover` run within seconds and both search CloudTrail for
/// the same `CreateCluster` window (LookupEvents: 2 requests/second per account and Region).
/// The second run reuses the first one's answer for a window that is closed and older than the
/// delivery delay (its events cannot change), but asks IAM again about the creator: a creator
/// deleted in between is seen as deleted. A window that may still receive events (a cluster
/// minutes old) is asked every time.
#[test]
fn a_second_run_reuses_the_cloudtrail_answer_but_never_the_creators_status() {
    let w = World::start_yaml(&scenario(
        "  - name: prod\n    createdAt: -20d\n    creator: {user: platform-admin}\n  - name: fresh\n    createdAt: -2m\n    creator: {user: platform-admin}\n",
    ));
    let creator = format!("arn:aws:iam::{}:user/admins/platform-admin", w.account());
    let (code, r, err) = creator_json(&w, "prod", &[]);
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["creator"]["arn"], creator);
    assert_eq!(r["status"]["state"], "alive");
    assert_eq!(r["cloudtrail"]["calls"], 1);
    assert_eq!(r["cloudtrail"]["reused_pages"], 0);
    assert_eq!(w.calls("cloudtrail", "LookupEvents").len(), 1);

    // The creator leaves between the two runs.
    for k in w.access_keys("platform-admin") {
        w.iam(
            "DeleteAccessKey",
            &[("UserName", "platform-admin"), ("AccessKeyId", &k)],
        );
    }
    w.iam("DeleteUser", &[("UserName", "platform-admin")]);
    let (code, r, err) = creator_json(&w, "prod", &["-v"]);
    assert_eq!(code, 5, "{r:#}\n{err}");
    assert_eq!(r["creator"]["arn"], creator, "the same event, read again");
    assert_eq!(
        r["status"]["state"], "deleted",
        "IAM was asked again: {r:#}"
    );
    assert_eq!(r["cloudtrail"]["calls"], 0);
    assert_eq!(r["cloudtrail"]["reused_pages"], 1);
    assert!(
        r["attempts"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("its events cannot change"),
        "{:#}",
        r["attempts"]
    );
    assert!(err.contains("reusing the answer CloudTrail gave"), "{err}");
    assert_eq!(
        w.calls("cloudtrail", "LookupEvents").len(),
        1,
        "no second LookupEvents"
    );

    // A cluster two minutes old: its window is still open, every run asks.
    w.clear_calls();
    creator_json(&w, "fresh", &[]);
    creator_json(&w, "fresh", &[]);
    assert!(
        w.calls("cloudtrail", "LookupEvents").len() >= 2,
        "an open window was answered from an earlier run"
    );
    let dir = w.path("state/eks-breakglass/cloudtrail-lookups");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in std::fs::read_dir(&dir).unwrap() {
        let m = f.unwrap().metadata().unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
}
