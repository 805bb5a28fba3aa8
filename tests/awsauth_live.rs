//! `aws-auth lint|show|salvage|diff --cluster`: the live kube-system/aws-auth read through
//! DescribeCluster, a locally made EKS token and the Kubernetes API (moto + eks-sim).

mod common;
use common::world;

use world::World;

const SCENARIO: &str = r#"
region: us-east-1
iam:
  users:
    - name: oncall
  roles:
    - name: eks-node-role
      trust: {service: [ec2.amazonaws.com]}
operator: oncall
clusters:
  - name: prod
    creator: {user: oncall}
    awsAuth:
      mapRoles: |
        - rolearn: arn:aws:iam::123456789012:role/eks-node-role
          username: system:node:{{EC2PrivateDNSName}}
          groups:
            - system:bootstrappers
            - system:nodes
      mapUsers: |
        - userarn: arn:aws:iam::123456789012:user/alice
          username: alice
         groups: [system:masters]
cloudtrail:
  throttle: {off: true}
"#;

#[test]
fn live_aws_auth_is_linted_shown_salvaged_and_diffed() {
    let w = World::start_yaml(SCENARIO);
    let out = w
        .product()
        .args(["aws-auth", "lint", "--cluster", "prod"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("error[AA001]: mapUsers is not valid YAML"),
        "{stdout}"
    );
    assert!(stdout.contains("--> cluster/prod/mapUsers:3:"), "{stdout}");
    assert!(stdout.contains("3 |  groups: [system:masters]"), "{stdout}");

    let out = w
        .product()
        .args(["--output", "json", "aws-auth", "show", "--cluster", "prod"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sections"]["mapUsers"], "lost");
    assert_eq!(
        v["roles"][0]["arn"],
        "arn:aws:iam::123456789012:role/eks-node-role"
    );

    let out = w
        .product()
        .args(["aws-auth", "salvage", "--clean", "--cluster", "prod"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let repaired = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(repaired.contains("user/alice"), "{repaired}");
    assert!(!repaired.contains("resourceVersion"), "{repaired}");
    let file = w.dir.path().join("repaired.yaml");
    std::fs::write(&file, &repaired).expect("write");

    let out = w
        .product()
        .args(["aws-auth", "diff", "--cluster", "prod"])
        .arg(&file)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("+ user arn:aws:iam::123456789012:user/alice → alice [system:masters]"),
        "{stdout}"
    );
    assert!(stdout.contains("! mapUsers: LOST"), "{stdout}");
}
