//! `eks-breakglass kubeconfig` against moto's EKS: merging, file safety, and bad input.

mod common;

use common::{Moto, product};
use std::path::Path;

const OTHER: &str = "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://other.example.com
  name: other
contexts:
- context:
    cluster: other
    user: other
  name: other
current-context: other
users:
- name: other
  user:
    token: keep-me
preferences: {}
";

fn world() -> Moto {
    let moto = Moto::start();
    for name in ["prod", "staging"] {
        moto.aws(&[
            "eks",
            "create-cluster",
            "--name",
            name,
            "--role-arn",
            "arn:aws:iam::123456789012:role/eks",
            "--resources-vpc-config",
            "subnetIds=subnet-1",
        ]);
    }
    moto
}

fn run(moto: &Moto, kc: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["kubeconfig", "--kubeconfig", kc.to_str().unwrap()];
    args.extend_from_slice(extra);
    product()
        .args(&args)
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL_EKS", &moto.url)
        .output()
        .unwrap()
}

fn yaml(p: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn merges_without_touching_other_clusters() {
    let moto = world();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(&kc, OTHER).unwrap();
    let out = run(&moto, &kc, &["--cluster", "prod"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &moto,
        &kc,
        &[
            "--cluster",
            "prod",
            "--alias",
            "prod-bg",
            "--role-arn",
            "arn:aws:iam::123456789012:role/admin",
        ],
    );
    assert!(out.status.success());
    // Running the same command twice replaces, never duplicates.
    assert!(
        run(&moto, &kc, &["--cluster", "prod", "--alias", "prod-bg"])
            .status
            .success()
    );

    let v = yaml(&kc);
    let arn = "arn:aws:eks:us-east-1:123456789012:cluster/prod";
    let names = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("clusters"), ["other", arn]);
    assert_eq!(names("contexts"), ["other", arn, "prod-bg"]);
    assert_eq!(names("users"), ["other", arn, "prod-bg"]);
    assert_eq!(v["current-context"], "prod-bg");
    assert_eq!(v["users"][0]["user"]["token"], "keep-me");
    assert_eq!(
        v["clusters"][0]["cluster"]["server"],
        "https://other.example.com"
    );
    let exec = &v["users"][1]["user"]["exec"];
    let exe = exec["command"].as_str().unwrap();
    assert!(
        Path::new(exe).is_absolute() && exe.ends_with("eks-breakglass"),
        "{exe}"
    );
    let args: Vec<&str> = exec["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        ["token", "--cluster", "prod", "--region", "us-east-1"]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&kc).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // kubectl, when installed, reads the result.
    match which("kubectl") {
        None => eprintln!("skipped: kubectl not installed"),
        Some(kubectl) => {
            let out = std::process::Command::new(kubectl)
                .args([
                    "config",
                    "view",
                    "-o",
                    "json",
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
            let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(view["current-context"], "prod-bg");
            assert_eq!(view["contexts"].as_array().unwrap().len(), 3);
        }
    }
}

pub fn which(prog: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(prog))
            .find(|p| p.is_file())
    })
}

#[test]
fn unknown_cluster_lists_the_ones_that_exist() {
    let moto = world();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    let out = run(&moto, &kc, &["--cluster", "prdo"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no cluster named 'prdo' in region us-east-1"),
        "{err}"
    );
    assert!(
        err.contains("hint: clusters in us-east-1: prod, staging")
            || err.contains("hint: clusters in us-east-1: staging, prod"),
        "{err}"
    );
    assert!(!kc.exists(), "nothing may be written on failure");
}

#[test]
fn unknown_region_is_explained() {
    // In real AWS an unknown region has no endpoint: the name does not resolve. A closed
    // loopback port stands in for that here.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    let out = product()
        .args([
            "kubeconfig",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--cluster",
            "prod",
            "--region",
            "eu-middle-9",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("region 'eu-middle-9' is not one this build knows"),
        "{err}"
    );
    assert!(
        err.contains("could not reach the AWS endpoint for eks:DescribeCluster"),
        "{err}"
    );
    assert!(err.contains("hint:") && err.contains("--region"), "{err}");
    assert!(!kc.exists());

    // A name that cannot be a region at all is refused before any call.
    let moto = world();
    let out = run(&moto, &kc, &["--cluster", "prod", "--region", "eu_west_1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid AWS region name"));
    assert!(!kc.exists());
}

#[test]
fn malformed_or_unreadable_kubeconfig_is_left_untouched() {
    let moto = world();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    let broken = "apiVersion: v1\nclusters:\n- name: a\n  cluster: {server: [\n";
    std::fs::write(&kc, broken).unwrap();
    let out = run(&moto, &kc, &["--cluster", "prod"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not valid YAML") && err.contains("hint: the file was left untouched"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), broken);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );

    std::fs::write(&kc, "kind: Pod\napiVersion: v1\n").unwrap();
    let out = run(&moto, &kc, &["--cluster", "prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a kubeconfig"));

    // A directory where the file should be: unreadable.
    let as_dir = dir.path().join("isdir");
    std::fs::create_dir(&as_dir).unwrap();
    let out = run(&moto, &as_dir, &["--cluster", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read kubeconfig") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn malformed_role_arn_is_refused_before_anything() {
    let moto = world();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    let out = run(
        &moto,
        &kc,
        &[
            "--cluster",
            "prod",
            "--role-arn",
            "arn:aws:iam::123456789012:role",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint: a role ARN looks like"));
    assert!(!kc.exists());
}
