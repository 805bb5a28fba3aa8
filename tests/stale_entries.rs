//! Stale access entries (issue 17, item 2): a principal deleted and recreated with the same ARN
//! keeps its old access entry, which EKS bound to the old unique id — it looks fine and answers
//! 401 (aws/containers-roadmap#2441, terraform-aws-eks#3329). `diagnose` names the entry and the
//! cause; `fix-entries` makes it again (same type, username, groups, policies and scopes) only
//! with a consent naming the principal, writes nothing on `--dry-run`, and is undone by
//! `cleanup --rollback --journal`. Proved by logging in as the principal before and after.

mod common;

use common::world::{World, arn, text};
use eks_breakglass::k8s::{ApiTarget, KubeClient, KubeError, WhoAmI};
use serde_json::Value;
use std::time::{Duration, Instant};

const SCENARIO: &str = r#"
account: "123456789012"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
    - name: ci-bot
      path: /bots/
operator: oncall
clusters:
  - name: prod
    createdAt: -20d
    creator: {user: platform-admin}
    authenticationMode: API_AND_CONFIG_MAP
    accessEntries:
      - principal: ci-bot
        username: ci-bot
        kubernetesGroups: [deployers]
        policies:
          - {policy: AmazonEKSViewPolicy, scope: namespace, namespaces: [apps]}
          - {policy: AmazonEKSEditPolicy, scope: cluster}
cloudtrail:
  throttle: {off: true}
"#;

struct Keys {
    id: String,
    secret: String,
}

/// Deletes ci-bot and creates it again (same path and name: a new unique id), with a new key
/// made through the sim's IAM endpoint (so the sim can verify tokens signed with it).
fn recreate_ci_bot(w: &World) -> Keys {
    for k in w.access_keys("ci-bot") {
        w.aws(&[
            "iam",
            "delete-access-key",
            "--user-name",
            "ci-bot",
            "--access-key-id",
            &k,
        ]);
    }
    w.aws(&["iam", "delete-user", "--user-name", "ci-bot"]);
    // CreateDate has a one-second grain: make sure the new user is visibly younger.
    std::thread::sleep(Duration::from_millis(1100));
    w.aws(&[
        "iam",
        "create-user",
        "--user-name",
        "ci-bot",
        "--path",
        "/bots/",
    ]);
    let k = w.aws(&["iam", "create-access-key", "--user-name", "ci-bot"]);
    let keys = Keys {
        id: k["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
        secret: k["AccessKey"]["SecretAccessKey"].as_str().unwrap().into(),
    };
    w.wait_for_key(&keys.id, &keys.secret);
    keys
}

fn whoami(w: &World, keys: &Keys) -> Result<WhoAmI, KubeError> {
    let out = w
        .product()
        .args(["token", "--cluster", "prod"])
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = v["status"]["token"].as_str().unwrap().to_string();
    let target = ApiTarget {
        server: w.state["clusters"]["prod"]["endpoint"]
            .as_str()
            .unwrap()
            .into(),
        ca_pem: Some(w.state["caPem"].as_str().unwrap().as_bytes().to_vec()),
        tls_server_name: None,
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { KubeClient::new(&target, &token)?.whoami().await })
}

/// Logs in as `keys` until it works (a new entry propagates in ~1 s in the test world).
fn login_within(w: &World, keys: &Keys, limit: Duration) -> WhoAmI {
    let start = Instant::now();
    loop {
        match whoami(w, keys) {
            Ok(me) => return me,
            Err(e) if start.elapsed() > limit => panic!("still refused after {limit:?}: {e:?}"),
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

fn entry_of(w: &World, principal: &str) -> (Value, Vec<(String, Value)>) {
    let e = w.aws(&[
        "eks",
        "describe-access-entry",
        "--cluster-name",
        "prod",
        "--principal-arn",
        principal,
    ])["accessEntry"]
        .clone();
    let pol = w.aws(&[
        "eks",
        "list-associated-access-policies",
        "--cluster-name",
        "prod",
        "--principal-arn",
        principal,
    ]);
    let mut p: Vec<(String, Value)> = pol["associatedAccessPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["policyArn"].as_str().unwrap().to_string(),
                a["accessScope"].clone(),
            )
        })
        .collect();
    p.sort_by(|a, b| a.0.cmp(&b.0));
    (e, p)
}

#[test]
fn a_stale_entry_is_named_with_its_cause_and_the_fix_lets_the_principal_in_again() {
    let w = World::start_yaml(SCENARIO);
    let bot = arn("user/bots/ci-bot");
    let (before_entry, before_policies) = entry_of(&w, &bot);
    let keys = recreate_ci_bot(&w);

    // The stale entry lets nobody in: 401.
    match whoami(&w, &keys) {
        Err(KubeError::Unauthorized) => {}
        other => panic!("the recreated ci-bot should be refused (stale entry): {other:?}"),
    }

    // diagnose names the entry and the cause, and the fix.
    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(&format!("STALE entry {bot}")), "{stdout}");
    assert!(stdout.contains("deleted and recreated"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "eks-breakglass fix-entries --cluster prod --allow-access-gain {bot}"
        )),
        "{stdout}"
    );
    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod", "--output", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stale: Vec<&Value> = v["access_entries"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["state"]["state"] == "stale")
        .collect();
    assert_eq!(stale.len(), 1, "{v}");
    assert_eq!(stale[0]["entry"]["principal_arn"], bot.as_str());

    let snapshot = w.eks_snapshot("prod");
    // --yes alone is not a consent to give access back: refused (exit 4), nothing written.
    let out = w
        .product()
        .args(["fix-entries", "--cluster", "prod", "--yes"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{}{stderr}", text(&out.stdout));
    assert!(
        stderr.contains(&format!("--allow-access-gain {bot}")),
        "{stderr}"
    );
    assert_eq!(w.eks_snapshot("prod"), snapshot);

    // --dry-run shows the plan (an access change, the same groups and scopes) and writes nothing.
    let out = w
        .product()
        .args(["fix-entries", "--cluster", "prod", "--dry-run"])
        .output()
        .unwrap();
    let plan = text(&out.stdout);
    assert!(out.status.success(), "{plan}{}", text(&out.stderr));
    assert!(plan.contains("ACCESS CHANGE"), "{plan}");
    assert!(plan.contains("kubernetesGroups=deployers"), "{plan}");
    assert!(plan.contains("accessScope.namespaces=apps"), "{plan}");
    assert!(plan.contains("nothing was changed"), "{plan}");
    assert_eq!(w.eks_snapshot("prod"), snapshot);
    assert!(w.calls("eks", "DeleteAccessEntry").is_empty());

    // With the consent naming ci-bot: applied, journaled; ci-bot logs in again, as the entry says.
    let jd = w.path("fix-run");
    let out = w
        .product()
        .args([
            "fix-entries",
            "--cluster",
            "prod",
            "--yes",
            "--allow-access-gain",
            &bot,
            "--journal-dir",
        ])
        .arg(&jd)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let me = login_within(&w, &keys, Duration::from_secs(15));
    assert_eq!(me.username, "ci-bot");
    assert!(me.groups.contains(&"deployers".to_string()), "{me:?}");
    let (after_entry, after_policies) = entry_of(&w, &bot);
    for k in ["type", "username", "kubernetesGroups"] {
        assert_eq!(after_entry[k], before_entry[k], "{k}");
    }
    assert_ne!(
        after_entry["accessEntryArn"],
        before_entry["accessEntryArn"]
    );
    assert_eq!(after_policies, before_policies);
    // diagnose has nothing stale to say any more.
    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod"])
        .output()
        .unwrap();
    assert!(
        !text(&out.stdout).contains("STALE"),
        "{}",
        text(&out.stdout)
    );

    // Undo: the entry this run made is deleted; ci-bot is back to no access (as with the stale one).
    let out = w
        .product()
        .args(["cleanup", "--rollback", "--journal"])
        .arg(&jd)
        .arg("--yes")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let entries = w.aws(&["eks", "list-access-entries", "--cluster-name", "prod"]);
    assert!(
        !entries["accessEntries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == bot.as_str()),
        "{entries}"
    );
    assert!(whoami(&w, &keys).is_err());
}

const LINTED: &str = r#"
account: "123456789012"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
    - name: ci-bot
      path: /bots/
      accessKeys: 0
operator: oncall
clusters:
  - name: prod
    createdAt: -20d
    creator: {user: platform-admin}
    authenticationMode: API_AND_CONFIG_MAP
    accessEntries:
      - principal: oncall
        policies:
          - {policy: AmazonEKSClusterAdminPolicy, scope: cluster}
      - principal: ci-bot
        kubernetesGroups: [deployers]
    awsAuth:
      mapUsers: |
        - userarn: arn:aws:iam::123456789012:user/oncall
          username: oncall
          groups:
            - system:masters
cloudtrail:
  throttle: {off: true}
"#;

#[test]
fn a_live_lint_fails_on_a_stale_entry_and_passes_once_it_is_fixed() {
    let w = World::start_yaml(LINTED);
    let bot = arn("user/bots/ci-bot");
    let lint = |w: &World| {
        w.product()
            .args(["aws-auth", "lint", "--cluster", "prod"])
            .output()
            .unwrap()
    };
    let out = lint(&w);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        !text(&out.stdout).contains("stale"),
        "{}",
        text(&out.stdout)
    );

    w.aws(&["iam", "delete-user", "--user-name", "ci-bot"]);
    w.aws(&[
        "iam",
        "create-user",
        "--user-name",
        "ci-bot",
        "--path",
        "/bots/",
    ]);
    let out = lint(&w);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "error[stale-access-entry]: the access entry for {bot}"
        )),
        "{stdout}"
    );
    // JSON stays one document on stdout; the finding goes to stderr, the exit code says it.
    let out = w
        .product()
        .args(["aws-auth", "lint", "--cluster", "prod", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let _: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(text(&out.stderr).contains("stale-access-entry"));

    let out = w
        .product()
        .args([
            "fix-entries",
            "--cluster",
            "prod",
            "--yes",
            "--allow-access-gain",
            &bot,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = lint(&w);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
