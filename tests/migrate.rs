//! `migrate` against moto + eks-sim, with the real binary (issue 17's acceptance): a CONFIG_MAP
//! cluster with a managed node group, a self-managed node role, Fargate, an IAM Identity Center
//! role, a templated username, users with paths, mapAccounts, and a creator role that EKS gives
//! an access entry at the switch. Every identity that logged in before logs in after — each
//! tested by logging in as it — aws-auth is untouched byte for byte, the plan names what could
//! not be translated, and undo before the API switch removes exactly the entries migrate made.

mod common;
use common::world;

use aws_credential_types::Credentials;
use eks_breakglass::aws::token::make_token;
use eks_breakglass::k8s::{ApiTarget, KubeClient, KubeError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};
use world::{World, arn, text};

/// Who logs in, by the credentials the scenario made.
fn identities(w: &World) -> Vec<(&'static str, Credentials)> {
    let user = |name: &str| {
        let k = &w.user(name)["accessKeys"][0];
        Credentials::new(
            k["accessKeyId"].as_str().unwrap(),
            k["secretAccessKey"].as_str().unwrap(),
            None,
            None,
            "test",
        )
    };
    let session = |role: &str, s: &str| {
        let k = &w.role(role)["sessions"][s];
        Credentials::new(
            k["accessKeyId"].as_str().unwrap(),
            k["secretAccessKey"].as_str().unwrap(),
            Some(k["sessionToken"].as_str().unwrap().to_string()),
            None,
            "test",
        )
    };
    vec![
        ("oncall", user("oncall")),
        ("alice", user("alice")),
        ("node", session("eks-node-role", "i-0a1b2c3d4e5f60718")),
        (
            "self-managed node",
            session("self-managed-node-role", "i-0fedcba9876543210"),
        ),
        (
            "fargate",
            session("eks-fargate-pod-execution", "fargate-ip-10-0-1-23"),
        ),
        (
            "sso developer",
            session(
                "AWSReservedSSO_Developers_0123456789abcdef",
                "carol@example.com",
            ),
        ),
        ("dev-admin", session("dev-admin", "bob")),
        ("creator", session("deployer", "terraform")),
    ]
}

/// What the API server says about an identity: username, groups, may it update kube-system
/// configmaps (admin). `None`: refused (401).
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    username: String,
    groups: Vec<String>,
    admin: bool,
}

fn login(w: &World, cluster: &str, creds: &Credentials) -> Option<Seen> {
    let target = ApiTarget {
        server: w.state["clusters"][cluster]["endpoint"]
            .as_str()
            .unwrap()
            .into(),
        ca_pem: Some(w.state["caPem"].as_str().unwrap().as_bytes().to_vec()),
        tls_server_name: None,
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tok = make_token(creds, "us-east-1", cluster, SystemTime::now()).unwrap();
        let client = KubeClient::new(&target, &tok.token).unwrap();
        match client.whoami().await {
            Ok(who) => {
                let admin = client
                    .can_i("update", "configmaps", Some("kube-system"))
                    .await
                    .unwrap();
                Some(Seen {
                    username: who.username,
                    groups: who.groups,
                    admin,
                })
            }
            Err(KubeError::Unauthorized) => None,
            Err(e) => panic!("login to {cluster}: {e}"),
        }
    })
}

fn everyone(w: &World, cluster: &str) -> BTreeMap<&'static str, Option<Seen>> {
    identities(w)
        .into_iter()
        .map(|(who, c)| (who, login(w, cluster, &c)))
        .collect()
}

/// Everyone as seen now, once new entries had time to propagate.
fn everyone_settled(
    w: &World,
    cluster: &str,
    ok: impl Fn(&BTreeMap<&'static str, Option<Seen>>) -> bool,
) -> BTreeMap<&'static str, Option<Seen>> {
    let start = Instant::now();
    loop {
        let now = everyone(w, cluster);
        if ok(&now) || start.elapsed() > Duration::from_secs(20) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// kube-system/aws-auth as the sim holds it: data and resourceVersion.
fn aws_auth(w: &World, cluster: &str) -> Value {
    w.admin_get(&format!("clusters/{cluster}/aws-auth"))
}

fn entries(w: &World, cluster: &str) -> Vec<String> {
    let mut v: Vec<String> =
        w.aws(&["eks", "list-access-entries", "--cluster-name", cluster])["accessEntries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect();
    v.sort();
    v
}

fn non_system(groups: &[String]) -> Vec<String> {
    let mut g: Vec<String> = groups
        .iter()
        .filter(|g| !g.starts_with("system:"))
        .cloned()
        .collect();
    g.sort();
    g
}

/// The same access as before: in, the same non-system groups, admin where it was admin, nodes
/// still system:nodes, and the same username (except where an adopted entry names it otherwise).
fn same_access(who: &str, before: &Seen, after: &Seen, username_may_change: bool) {
    assert_eq!(
        non_system(&before.groups),
        non_system(&after.groups),
        "{who}: groups {before:?} -> {after:?}"
    );
    assert_eq!(
        before.admin, after.admin,
        "{who}: admin {before:?} -> {after:?}"
    );
    if before.groups.iter().any(|g| g == "system:nodes") {
        assert!(
            after.groups.iter().any(|g| g == "system:nodes"),
            "{who}: {after:?}"
        );
    }
    if !username_may_change {
        assert_eq!(before.username, after.username, "{who}");
    }
}

fn migrate(w: &World, args: &[&str]) -> (i32, String, String) {
    let out = w.product().arg("migrate").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn migrate_keeps_everyone_in_leaves_aws_auth_alone_and_names_what_it_cannot_translate() {
    let w = World::start("migrate");
    let c = "legacy";
    let aws_auth_before = aws_auth(&w, c);
    let before = everyone(&w, c);
    for (who, seen) in &before {
        assert!(seen.is_some(), "{who} logs in before the migration");
    }

    // --dry-run: the whole table, what cannot be translated and why; nothing written.
    let (code, out, err) = migrate(&w, &["--cluster", c, "--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for expected in [
        "CANNOT TRANSLATE",
        "210987654321",
        "account-wide",
        "role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developers_0123456789abcdef",
        "username developer:{{SessionName}}",
        "username dev-admin:{{SessionName}}",
        "EKS-managed",
        "FARGATE_LINUX",
        "EC2_LINUX arn:aws:iam::123456789012:role/self-managed-node-role",
        "AmazonEKSClusterAdminPolicy",
        "would be refused",
        "--allow-auth-mode-change API_AND_CONFIG_MAP",
        "(dry run: nothing was changed)",
    ] {
        assert!(out.contains(expected), "dry run lacks {expected:?}:\n{out}");
    }
    assert_eq!(w.auth_mode(c), "CONFIG_MAP");

    // Without the consent naming the mode: refused, nothing changed.
    let (code, out, err) = migrate(&w, &["--cluster", c, "--yes"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("--allow-auth-mode-change API_AND_CONFIG_MAP"),
        "{err}"
    );
    assert_eq!(w.auth_mode(c), "CONFIG_MAP");

    // Stage one.
    let journal = w.path("migrate-legacy");
    let (code, out, err) = migrate(
        &w,
        &[
            "--cluster",
            c,
            "--allow-auth-mode-change",
            "API_AND_CONFIG_MAP",
            "--verify-as",
            &arn("role/dev-admin"),
            "--journal-dir",
            journal.to_str().unwrap(),
            "--yes",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(w.auth_mode(c), "API_AND_CONFIG_MAP");
    assert!(out.contains("login as the operator"), "{out}");
    assert!(out.contains("Next, separately"), "{out}");
    // The entries EKS made at the switch (the creator's, the managed node group's, the Fargate
    // profile's) were adopted, not a 409 failure.
    let journal_text = std::fs::read_to_string(journal.join("journal.jsonl")).unwrap();
    for p in [
        "role/ci/deployer",
        "role/eks-node-role",
        "role/eks-fargate-pod-execution",
    ] {
        let adopted = format!("the access entry for {} already existed", arn(p));
        assert!(
            journal_text.contains(&adopted),
            "{p} adopted: {journal_text}"
        );
    }
    assert!(
        journal_text.contains("\"adopted\":\"true\""),
        "{journal_text}"
    );
    let made = entries(&w, c);
    for p in [
        arn("role/ci/deployer"),
        arn("role/eks-node-role"),
        arn("role/self-managed-node-role"),
        arn("role/eks-fargate-pod-execution"),
        arn(
            "role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Developers_0123456789abcdef",
        ),
        arn("role/dev-admin"),
        arn("user/oncall"),
        arn("user/team/dev/alice"),
    ] {
        assert!(made.contains(&p), "{p} has an entry: {made:?}");
    }
    assert_eq!(aws_auth(&w, c), aws_auth_before, "aws-auth untouched");

    // Stage two, separately: API. aws-auth is no longer read; everyone still gets in.
    let (code, out, err) = migrate(&w, &["--cluster", c, "--switch-to-api", "--yes"]);
    assert_eq!(
        code, 2,
        "the API switch needs its own consent: {out}\n{err}"
    );
    assert!(err.contains("--allow-auth-mode-change API"), "{err}");
    // The mode consent and --yes do not approve the predicted loss of mapAccounts' principals:
    // that needs a consent naming it.
    let (code, out, err) = migrate(
        &w,
        &[
            "--cluster",
            c,
            "--switch-to-api",
            "--allow-auth-mode-change",
            "API",
            "--yes",
        ],
    );
    assert_eq!(code, 2, "a loss needs its own consent: {out}\n{err}");
    assert!(
        err.contains("--allow-access-loss 210987654321"),
        "the refusal names the loss and its consent: {err}"
    );
    assert_eq!(w.auth_mode(c), "API_AND_CONFIG_MAP", "nothing switched");
    let (code, out, err) = migrate(
        &w,
        &[
            "--cluster",
            c,
            "--switch-to-api",
            "--allow-auth-mode-change",
            "API",
            "--allow-access-loss",
            "210987654321",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("210987654321"),
        "the switch names who loses access: {out}"
    );
    assert_eq!(w.auth_mode(c), "API");
    let after = everyone_settled(&w, c, |m| m.values().all(Option::is_some));
    for (who, seen) in &before {
        let b = seen.as_ref().unwrap();
        let a = after[who]
            .as_ref()
            .unwrap_or_else(|| panic!("{who} no longer logs in after the switch to API"));
        // The creator's entry is EKS's (adopted): its username is EKS's default, not aws-auth's.
        same_access(who, b, a, *who == "creator");
    }
    assert_eq!(aws_auth(&w, c), aws_auth_before, "aws-auth untouched");
}

#[test]
fn undo_before_the_api_switch_removes_exactly_the_entries_migrate_made() {
    let w = World::start("migrate");
    let c = "legacy-undo";
    let aws_auth_before = aws_auth(&w, c);
    let before = everyone(&w, c);
    let journal = w.path("migrate-undo");
    let (code, out, err) = migrate(
        &w,
        &[
            "--cluster",
            c,
            "--allow-auth-mode-change",
            "API_AND_CONFIG_MAP",
            "--journal-dir",
            journal.to_str().unwrap(),
            "--yes",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("Undo the entries: eks-breakglass cleanup --journal")
            && out.contains("--rollback"),
        "{out}"
    );
    assert!(entries(&w, c).len() >= 8, "{:?}", entries(&w, c));

    let out = w
        .product()
        .args([
            "cleanup",
            "--journal",
            journal.to_str().unwrap(),
            "--rollback",
            "--yes",
        ])
        .output()
        .unwrap();
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{o}\n{e}");
    // Only the entries EKS made at the switch stay (the creator's, the managed node group's and
    // the Fargate profile's): migrate adopted them, so its undo leaves them alone.
    assert_eq!(
        entries(&w, c),
        vec![
            arn("role/ci/deployer"),
            arn("role/eks-fargate-pod-execution"),
            arn("role/eks-node-role"),
        ]
    );
    // The mode cannot go back, and cleanup says so.
    assert_eq!(w.auth_mode(c), "API_AND_CONFIG_MAP");
    assert!(
        format!("{o}{e}").contains("cannot go back to CONFIG_MAP"),
        "{o}\n{e}"
    );
    assert_eq!(aws_auth(&w, c), aws_auth_before, "aws-auth untouched");
    // Everyone gets in as before (through aws-auth again).
    let after = everyone_settled(&w, c, |m| m.values().all(Option::is_some));
    for (who, seen) in &before {
        let a = after[who]
            .as_ref()
            .unwrap_or_else(|| panic!("{who} no longer logs in after the undo"));
        same_access(who, seen.as_ref().unwrap(), a, *who == "creator");
    }
}
