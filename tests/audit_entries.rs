//! `audit` and access entries (issue 17, item 6): CONFIG_MAP clusters are flagged, `--entries`
//! finds stale entries (a stale break-glass entry is no way back in), clusters whose only admin is
//! the creator, and policies EKS does not offer (the offer is read with ListAccessPolicies); the
//! node entry EKS keeps for a managed node group raises nothing.

mod common;

use common::world::{World, text};
use serde_json::Value;
use std::collections::BTreeMap;

const SCENARIO: &str = r#"
account: "123456789012"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
  roles:
    - name: breakglass
    - name: eks-node-role
operator: oncall
clusters:
  - name: legacy
    createdAt: -30d
    creator: {user: platform-admin}
  - name: creator-only
    createdAt: -20d
    creator: {user: platform-admin}
    authenticationMode: API
    nodegroups:
      - name: general
        nodeRole: eks-node-role
    accessEntries:
      - principal: eks-node-role
        type: EC2_LINUX
  - name: guarded
    createdAt: -10d
    creator: {user: platform-admin}
    authenticationMode: API_AND_CONFIG_MAP
    accessEntries:
      - principal: breakglass
        policies:
          - {policy: AmazonEKSClusterAdminPolicy, scope: cluster}
cloudtrail:
  throttle: {off: true}
"#;

fn audit(w: &World, extra: &[&str]) -> (Option<i32>, BTreeMap<String, Value>) {
    let out = w
        .product()
        .args([
            "audit",
            "--breakglass-role",
            "breakglass",
            "--deep",
            "--output",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let by = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cluster"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    (out.status.code(), by)
}

fn codes(c: &Value) -> Vec<String> {
    c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn config_map_stale_entries_and_a_creator_only_admin_are_flagged_but_eks_node_entries_are_not() {
    let w = World::start_yaml(SCENARIO);

    let (code, c) = audit(&w, &["--entries"]);
    // Findings, but every cluster still has a way back in (legacy and creator-only: the creator).
    assert_eq!(code, Some(0), "{c:?}");
    assert!(
        codes(&c["legacy"]).contains(&"config-map-only".to_string()),
        "{:?}",
        c["legacy"]
    );
    let creator_only = codes(&c["creator-only"]);
    assert!(
        creator_only.contains(&"only-admin-is-creator".to_string()),
        "{creator_only:?}"
    );
    // The node group's EC2_LINUX entry is EKS's: no finding names it.
    assert!(
        !c["creator-only"]["findings"]
            .to_string()
            .contains("eks-node-role"),
        "{}",
        c["creator-only"]
    );
    assert_eq!(c["guarded"]["path"], "access_entry");
    assert_eq!(c["guarded"]["flagged"], false);
    assert!(
        !codes(&c["guarded"])
            .iter()
            .any(|x| x.contains("stale") || x == "only-admin-is-creator"),
        "another admin (breakglass) exists: {}",
        c["guarded"]
    );
    // ListAccessPolicies was asked (the offer is EKS's, not a list of ours).
    assert!(!w.calls("eks", "ListAccessPolicies").is_empty());

    // The break-glass role is deleted and recreated: its entry is stale, the way back in is gone.
    w.aws(&["iam", "delete-role", "--role-name", "breakglass"]);
    w.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "breakglass",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    ]);
    let (code, c) = audit(&w, &["--entries"]);
    assert_eq!(code, Some(3));
    let g = &c["guarded"];
    assert_eq!(g["flagged"], true, "{g}");
    assert_eq!(g["breakglass_entry"], "stale", "{g}");
    let gc = codes(g);
    assert_eq!(gc[0], "no-breakglass-path", "{gc:?}");
    assert!(gc.contains(&"stale-access-entry".to_string()), "{gc:?}");
    assert!(
        g["findings"]
            .to_string()
            .contains("fix-entries --cluster guarded"),
        "{g}"
    );

    // Without --entries: no entry calls, and the stale entry goes unseen (the old behaviour);
    // CONFIG_MAP is still flagged (it costs no call).
    w.clear_calls();
    let (_, c) = audit(&w, &[]);
    assert!(codes(&c["legacy"]).contains(&"config-map-only".to_string()));
    assert_eq!(c["guarded"]["flagged"], false);
    assert!(w.calls("eks", "ListAccessPolicies").is_empty());
}
