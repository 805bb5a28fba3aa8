//! Clusters without a creator admin (issue 17, item 4): created with
//! `bootstrapClusterCreatorAdminPermissions: false` (terraform-aws-eks v20+ does it by default),
//! EKS never made the creator an admin. `creator` and `diagnose` say the creator route does not
//! exist and point straight at the access-entry route — and that route really gets the operator in.

mod common;

use common::world::{World, text};
use serde_json::Value;

const SCENARIO: &str = r#"
account: "123456789012"
region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
operator: oncall
clusters:
  - name: prod
    createdAt: -20d
    creator: {user: platform-admin}
    authenticationMode: API_AND_CONFIG_MAP
    bootstrapClusterCreatorAdminPermissions: false
    awsAuth:
      mapRoles: |
        - rolearn: arn:aws:iam::123456789012:role/ops
          username: ops
         groups:
            - system:masters
cloudtrail:
  throttle: {off: true}
"#;

#[test]
fn creator_and_diagnose_say_there_is_no_creator_route_and_go_to_the_access_entry_route() {
    let w = World::start_yaml(SCENARIO);
    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Creator route: does not exist"), "{stdout}");
    assert!(
        stdout.contains(
            "go straight to the access-entry route: `eks-breakglass grant --cluster prod`"
        ),
        "{stdout}"
    );
    let out = w
        .product()
        .args(["diagnose", "--cluster", "prod", "--output", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["paths"][0]["kind"], "access_entry", "{v}");
    assert_eq!(v["access_entries"]["creator_route"]["exists"], false);

    let out = w
        .product()
        .args(["creator", "--cluster", "prod"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("no creator route"), "{stdout}");
    assert!(
        stdout.contains("eks-breakglass grant --cluster prod"),
        "{stdout}"
    );

    // The route it points to works: the operator gets in through its own access entry.
    let out = w
        .product()
        .args(["grant", "--cluster", "prod", "--yes"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("authenticated"), "{stdout}");
}
