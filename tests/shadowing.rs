//! Shadowing (issue 17, item 3): on an API_AND_CONFIG_MAP cluster "access entries take
//! precedence over ConfigMap entries for the same IAM principal" (EKS User Guide, "Migrating
//! existing aws-auth ConfigMap entries to access entries"). `aws-auth show --cluster`, `diagnose`
//! and `aws-auth restore`'s prediction say which mapping is shadowed and what the principal
//! really gets — checked against the sim by logging in as that principal.

mod common;

use common::world::{World, text};
use eks_breakglass::k8s::{ApiTarget, KubeClient, WhoAmI};
use serde_json::Value;

const SCENARIO: &str = r#"
account: "123456789012"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
  roles:
    - name: deployer
      path: /team/
      sessions: [ci]
    - name: viewer
      sessions: [v]
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
      - principal: deployer
        username: deployer-from-entry
        kubernetesGroups: [entry-deployers]
        policies:
          - {policy: AmazonEKSViewPolicy, scope: namespace, namespaces: [apps]}
    awsAuth:
      mapRoles: |
        - rolearn: arn:aws:iam::123456789012:role/deployer
          username: deployer-from-aws-auth
          groups:
            - system:masters
        - rolearn: arn:aws:iam::123456789012:role/viewer
          username: viewer
          groups:
            - viewers
cloudtrail:
  throttle: {off: true}
"#;

fn whoami_session(w: &World, role: &str, session: &str) -> WhoAmI {
    let s = &w.role(role)["sessions"][session];
    let out = w
        .product()
        .args(["token", "--cluster", "prod"])
        .env("AWS_ACCESS_KEY_ID", s["accessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            s["secretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", s["sessionToken"].as_str().unwrap())
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
        .expect("the deployer gets in")
}

#[test]
fn show_diagnose_and_restore_say_which_mapping_an_entry_shadows_and_what_it_really_gives() {
    let w = World::start_yaml(SCENARIO);
    let deployer = "arn:aws:iam::123456789012:role/team/deployer";

    // What EKS (the sim) really does: the entry, not aws-auth's system:masters.
    let me = whoami_session(&w, "deployer", "ci");
    assert_eq!(me.username, "deployer-from-entry");
    assert!(!me.groups.contains(&"system:masters".to_string()), "{me:?}");

    let out = w
        .product()
        .args(["aws-auth", "show", "--cluster", "prod"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let shadowed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("shadowed:"))
        .collect();
    assert_eq!(shadowed.len(), 1, "only deployer has both: {stdout}");
    let line = shadowed[0];
    assert!(
        line.contains("arn:aws:iam::123456789012:role/deployer"),
        "{line}"
    );
    assert!(line.contains(deployer), "{line}");
    assert!(
        line.contains("really gets username deployer-from-entry; groups entry-deployers; policies AmazonEKSViewPolicy (namespaces apps)"),
        "{line}"
    );

    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("shadowed: mapRoles") && stdout.contains("deployer-from-entry"),
        "{stdout}"
    );

    // restore's prediction says it too (a dry run of the same aws-auth plus one user).
    let file = w.path("aws-auth.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/deployer\n      username: deployer-from-aws-auth\n      groups:\n        - system:masters\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/oncall\n      username: oncall\n      groups:\n        - system:masters\n",
    )
    .unwrap();
    let out = w
        .product()
        .args(["aws-auth", "restore", "--cluster", "prod", "--from"])
        .arg(&file)
        .arg("--dry-run")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("shadowed: mapRoles")
            && stdout.contains("really gets username deployer-from-entry"),
        "{stdout}{}",
        text(&out.stderr)
    );
}
