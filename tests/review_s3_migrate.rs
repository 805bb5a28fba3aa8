//! Review (session 3, issue 17 item 1): `migrate` against moto + eks-sim with the real binary,
//! checked by logging in. Each test here failed on the reviewed code.

mod common;
use common::world;

use aws_credential_types::Credentials;
use eks_breakglass::aws::token::make_token;
use eks_breakglass::k8s::{ApiTarget, KubeClient, KubeError};
use std::time::{Duration, Instant, SystemTime};
use world::{World, arn, text};

/// (username, groups, may update kube-system configmaps); `None`: 401.
fn login(w: &World, cluster: &str, creds: &Credentials) -> Option<(String, Vec<String>, bool)> {
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
                Some((who.username, who.groups, admin))
            }
            Err(KubeError::Unauthorized) => None,
            Err(e) => panic!("login to {cluster}: {e}"),
        }
    })
}

fn session(w: &World, role: &str, s: &str) -> Credentials {
    let k = &w.role(role)["sessions"][s];
    Credentials::new(
        k["accessKeyId"].as_str().unwrap(),
        k["secretAccessKey"].as_str().unwrap(),
        Some(k["sessionToken"].as_str().unwrap().to_string()),
        None,
        "test",
    )
}

/// aws-auth maps role team/ops twice: with its path as system:masters (never matches) and
/// without it as [viewers] (what EKS reads). Before: ops gets in with viewers, not admin. The
/// refusal asks for `--allow-access-gain` on ops' ARN, calling it "new access" (it is not: ops
/// gets in today); the operator gives it. After stage one, ops logs in as CLUSTER ADMIN: the dead
/// line became the entry (created first), the live line was "adopted" on 409.
#[test]
fn review_dead_path_line_makes_ops_cluster_admin_after_stage_one() {
    let w = World::start("review_s3_migrate");
    let c = "twolines";
    let ops = session(&w, "ops", "amy");
    let before = login(&w, c, &ops).expect("ops gets in before");
    assert!(
        !before.2 && before.1.iter().any(|g| g == "viewers"),
        "fixture: ops is a viewer before: {before:?}"
    );
    let journal = w.path("review-migrate");
    let mut args = vec![
        "migrate".to_string(),
        "--cluster".into(),
        c.into(),
        "--allow-auth-mode-change".into(),
        "API_AND_CONFIG_MAP".into(),
        "--journal-dir".into(),
        journal.to_str().unwrap().into(),
        "--yes".into(),
        "--wait".into(),
        "20".into(),
    ];
    let out = w.product().args(&args).output().unwrap();
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    if !out.status.success() && e.contains("--allow-access-gain") {
        // What the refusal tells the operator to do.
        args.push("--allow-access-gain".into());
        args.push(arn("role/team/ops"));
        let out = w.product().args(&args).output().unwrap();
        let (o2, e2) = (text(&out.stdout), text(&out.stderr));
        eprintln!("second run: {o2}\n{e2}");
    } else {
        eprintln!("first run: {o}\n{e}");
    }
    // Let the new entry take effect.
    let start = Instant::now();
    let mut after = login(&w, c, &ops);
    while start.elapsed() < Duration::from_secs(15) && after.as_ref().is_none_or(|a| !a.2) {
        std::thread::sleep(Duration::from_millis(500));
        after = login(&w, c, &ops);
    }
    let after = after.expect("ops gets in after stage one");
    assert!(
        !after.2,
        "ops was a viewer before ({before:?}) and is cluster admin after migrate's stage one ({after:?})"
    );
}
