//! The product's tokens against eks-sim's EKS authentication (issue 3's acceptance): who gets
//! in and as whom, and who is refused — with tokens made by `eks-breakglass token`, checked by
//! really authenticating (SelfSubjectReview), and kubectl through a kubeconfig written by
//! `eks-breakglass kubeconfig`.

mod common;
use common::world;

use aws_credential_types::Credentials;
use eks_breakglass::aws::token::make_token;
use eks_breakglass::k8s::{ApiTarget, KubeClient, KubeError, WhoAmI};
use serde_json::Value;
use std::time::{Duration, SystemTime};
use world::World;

struct Keys {
    id: String,
    secret: String,
    session: Option<String>,
}

fn user_keys(w: &World, user: &str) -> Keys {
    let k = &w.user(user)["accessKeys"][0];
    Keys {
        id: k["accessKeyId"].as_str().unwrap().into(),
        secret: k["secretAccessKey"].as_str().unwrap().into(),
        session: None,
    }
}

fn session_keys(w: &World, role: &str, session: &str) -> Keys {
    let s = &w.role(role)["sessions"][session];
    Keys {
        id: s["accessKeyId"].as_str().unwrap().into(),
        secret: s["secretAccessKey"].as_str().unwrap().into(),
        session: Some(s["sessionToken"].as_str().unwrap().into()),
    }
}

/// A token from the product binary, as kubectl would get it.
fn product_token(w: &World, keys: &Keys, cluster: &str) -> String {
    let mut cmd = w.product();
    cmd.args(["token", "--cluster", cluster])
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret);
    match &keys.session {
        Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
        None => cmd.env_remove("AWS_SESSION_TOKEN"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["status"]["token"].as_str().unwrap().to_string()
}

fn target(w: &World, cluster: &str) -> ApiTarget {
    ApiTarget {
        server: w.state["clusters"][cluster]["endpoint"]
            .as_str()
            .unwrap()
            .into(),
        ca_pem: Some(w.state["caPem"].as_str().unwrap().as_bytes().to_vec()),
        tls_server_name: None,
    }
}

fn rt() -> tokio::runtime::Runtime {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn whoami(w: &World, cluster: &str, token: &str) -> Result<WhoAmI, KubeError> {
    let t = target(w, cluster);
    rt().block_on(async { KubeClient::new(&t, token)?.whoami().await })
}

fn assert_refused(r: Result<WhoAmI, KubeError>, what: &str) {
    match r {
        Err(KubeError::Unauthorized) => {}
        other => panic!("{what}: expected 401, got {other:?}"),
    }
}

#[test]
fn who_gets_in_and_as_whom() {
    let w = World::start_yaml(&common::read(&common::fixture(
        "scenarios/auth-matrix.yaml",
    )));

    // The creator on a CONFIG_MAP cluster: implicit system:masters, shown as kubernetes-admin.
    let creator = user_keys(&w, "platform-admin");
    let me = whoami(&w, "broken", &product_token(&w, &creator, "broken")).unwrap();
    assert_eq!(me.username, "kubernetes-admin");
    assert!(me.groups.contains(&"system:masters".to_string()), "{me:?}");
    // On an access-entry cluster EKS represents the creator as an admin access entry instead.
    let t = target(&w, "prod");
    let token = product_token(&w, &creator, "prod");
    let admin = rt().block_on(async {
        KubeClient::new(&t, &token)?
            .can_i("update", "configmaps", Some("kube-system"))
            .await
    });
    assert!(admin.unwrap(), "the creator is cluster admin on prod");

    // A role mapped in aws-auth, used through an assumed-role session ({{SessionName}}: @ -> -).
    let me = whoami(
        &w,
        "prod",
        &product_token(
            &w,
            &session_keys(&w, "dev-admin", "alice@example.com"),
            "prod",
        ),
    )
    .unwrap();
    assert_eq!(me.username, "dev-admin:alice-example.com");
    assert!(me.groups.contains(&"system:masters".to_string()), "{me:?}");

    // A user with a path, mapped in mapUsers (user ARNs keep their path).
    let me = whoami(
        &w,
        "prod",
        &product_token(&w, &user_keys(&w, "alice"), "prod"),
    )
    .unwrap();
    assert_eq!(me.username, "alice");
    assert!(me.groups.contains(&"devs".to_string()), "{me:?}");

    // An access entry with AmazonEKSClusterAdminPolicy: in, and allowed everything.
    let eve_token = product_token(&w, &user_keys(&w, "eve"), "prod");
    let me = whoami(&w, "prod", &eve_token).unwrap();
    assert!(me.username.contains("eve"), "{me:?}");
    let t = target(&w, "prod");
    let admin = rt().block_on(async {
        KubeClient::new(&t, &eve_token)?
            .can_i("update", "configmaps", Some("kube-system"))
            .await
    });
    assert!(
        admin.unwrap(),
        "the cluster admin policy allows writing aws-auth"
    );
}

#[test]
fn who_is_refused() {
    let w = World::start_yaml(&common::read(&common::fixture(
        "scenarios/auth-matrix.yaml",
    )));
    let creator = user_keys(&w, "platform-admin");

    // A wrong secret: the presigned signature does not verify.
    let wrong = Credentials::new(&creator.id, "not-the-secret", None, None, "test");
    let t = make_token(&wrong, "us-east-1", "prod", SystemTime::now()).unwrap();
    assert_refused(whoami(&w, "prod", &t.token), "wrong secret");

    // X-Amz-Date 16 minutes old: past EKS's 15 minutes.
    let right = Credentials::new(&creator.id, &creator.secret, None, None, "test");
    let old = make_token(
        &right,
        "us-east-1",
        "prod",
        SystemTime::now() - Duration::from_secs(16 * 60),
    )
    .unwrap();
    assert_refused(whoami(&w, "prod", &old.token), "16-minute-old token");
    // …while 14 minutes old still works.
    let fresh = make_token(
        &right,
        "us-east-1",
        "prod",
        SystemTime::now() - Duration::from_secs(14 * 60),
    )
    .unwrap();
    assert!(whoami(&w, "prod", &fresh.token).is_ok());

    // A token made for another cluster name.
    assert_refused(
        whoami(&w, "prod", &product_token(&w, &creator, "broken")),
        "token for another cluster",
    );

    // An unmapped principal.
    assert_refused(
        whoami(
            &w,
            "prod",
            &product_token(&w, &user_keys(&w, "mallory"), "prod"),
        ),
        "unmapped",
    );

    // A mapped role whose rolearn carries a path never matches.
    assert_refused(
        whoami(
            &w,
            "prod",
            &product_token(&w, &session_keys(&w, "ops", "bob"), "prod"),
        ),
        "rolearn with a path",
    );

    // mapRoles and mapUsers with YAML errors: everyone but the creator is out.
    assert_refused(
        whoami(
            &w,
            "broken",
            &product_token(&w, &user_keys(&w, "alice"), "broken"),
        ),
        "broken mapUsers",
    );
    assert_refused(
        whoami(
            &w,
            "broken",
            &product_token(
                &w,
                &session_keys(&w, "dev-admin", "alice@example.com"),
                "broken",
            ),
        ),
        "broken mapRoles",
    );
    let me = whoami(&w, "broken", &product_token(&w, &creator, "broken")).unwrap();
    assert_eq!(me.username, "kubernetes-admin");
}

#[test]
fn kubectl_through_the_product_kubeconfig() {
    let Some(kubectl) = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!("skipped: kubectl not installed");
        return;
    };
    let w = World::start_yaml(&common::read(&common::fixture(
        "scenarios/auth-matrix.yaml",
    )));
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    let keys = user_keys(&w, "platform-admin");
    let out = w
        .product()
        .args([
            "kubeconfig",
            "--cluster",
            "prod",
            "--alias",
            "prod-bg",
            "--kubeconfig",
            kc.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // kubectl runs the exec plugin with this environment: the creator's key and the sim's endpoints.
    let mut cmd = std::process::Command::new(kubectl);
    cmd.args([
        "--kubeconfig",
        kc.to_str().unwrap(),
        "get",
        "configmap",
        "aws-auth",
        "-n",
        "kube-system",
        "-o",
        "json",
    ])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", dir.path())
    .env("AWS_ACCESS_KEY_ID", &keys.id)
    .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
    .env("AWS_CONFIG_FILE", "/dev/null")
    .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cm: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cm["metadata"]["name"], "aws-auth");
    assert!(
        cm["data"]["mapRoles"]
            .as_str()
            .unwrap()
            .contains("dev-admin")
    );
}

#[test]
fn the_call_log_counts_each_aws_call_once() {
    let w = World::start_yaml(&common::read(&common::fixture(
        "scenarios/auth-matrix.yaml",
    )));
    w.clear_calls();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.jsonl");
    let out = w
        .product()
        .args([
            "creator",
            "--cluster",
            "prod",
            "--call-log",
            log.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: Vec<Value> = common::read(&log)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |action: &str| ours.iter().filter(|r| r["action"] == action).count();
    let sim_lookups = w.calls("cloudtrail", "LookupEvents").len();
    assert!(sim_lookups >= 1);
    assert_eq!(
        count("cloudtrail:LookupEvents"),
        sim_lookups,
        "LookupEvents in the call log vs received by the sim"
    );
    assert_eq!(
        count("eks:DescribeCluster"),
        w.calls("eks", "DescribeCluster").len()
    );
}
