//! `diagnose` against moto + eks-sim on the drill scenarios: read-only, the lock-out seen by
//! authenticating, the creator named, the ways in ranked with their reasons, the endpoint
//! checked, and JSON for machines.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;

use common::world::{arn, text};
use drill::Drill;
use serde_json::Value;

fn diagnose_json(d: &Drill, extra: &[&str]) -> Value {
    let out = d
        .product()
        .args(["diagnose", "--cluster", &d.cluster, "--output", "json"])
        .args(extra)
        .output()
        .expect("diagnose");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn incident_is_locked_out_with_a_live_creator_first() {
    let d = Drill::start("incident");
    let out = d
        .product()
        .args(["diagnose", "--cluster", &d.cluster])
        .output()
        .expect("diagnose");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("LOCKED OUT: 401"), "{stdout}");
    assert!(stdout.contains("user/admins/platform-admin"), "{stdout}");
    assert!(stdout.contains("reachable from here"), "{stdout}");
    assert!(
        stdout.contains("auth mode:   CONFIG_MAP; creator admin: yes"),
        "{stdout}"
    );
    let first = stdout
        .find("1. become the creator: temporary access key")
        .expect(&stdout);
    let second = stdout
        .find("2. access entry for you, after switching")
        .expect(&stdout);
    assert!(first < second);
    assert!(
        // The Next line carries the cluster's region, so that it runs as shown (review_s3).
        stdout.contains("Next: eks-breakglass recover --cluster prod --region us-east-1\n"),
        "{stdout}"
    );

    let v = diagnose_json(&d, &[]);
    assert_eq!(v["access"]["result"], "unauthorized");
    assert_eq!(v["paths"][0]["kind"], "become_creator");
    assert_eq!(v["paths"][1]["consent"], "--allow-auth-mode-change");
    assert_eq!(
        v["creator"]["creator"]["arn"],
        arn("user/admins/platform-admin")
    );
    assert_eq!(v["cluster"]["auth_mode"], "CONFIG_MAP");
    assert_eq!(v["node_roles"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["aws_auth"]["readable"], false);
    // The first diagnose asked CloudTrail; this second one, seconds later, reuses its answer
    // for the closed window (LookupEvents allows 2 requests/second per account and Region).
    assert!(!d.w.calls("cloudtrail", "LookupEvents").is_empty());
    assert_eq!(v["aws_calls"]["cloudtrail"].as_u64().unwrap_or(0), 0);
    assert!(
        v["creator"]["cloudtrail"]["reused_pages"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{}",
        v["creator"]["cloudtrail"]
    );
    // Read-only: the sim saw no mutating EKS call, IAM is unchanged.
    for action in [
        "CreateAccessEntry",
        "UpdateClusterConfig",
        "AssociateAccessPolicy",
    ] {
        assert_eq!(d.w.calls("eks", action).len(), 0, "{action}");
    }
}

#[test]
fn api_mode_ranks_the_access_entry_first_and_reads_aws_auth_when_in() {
    let d = Drill::start("creator-deleted-api");
    let v = diagnose_json(&d, &[]);
    assert_eq!(v["paths"][0]["kind"], "access_entry");
    assert!(
        v["paths"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("fastest")
    );
    assert!(v["paths"][0]["consent"].is_null());
    let kinds: Vec<&str> = v["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter_map(|p| p["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"recreate_creator"), "{kinds:?}");

    // Once in (recover), diagnose reads aws-auth and lints it.
    let out = d
        .product()
        .args(["recover", "--cluster", &d.cluster, "--yes"])
        .output()
        .expect("recover");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = diagnose_json(&d, &[]);
    assert_eq!(v["access"]["result"], "authenticated");
    assert_eq!(v["paths"][0]["kind"], "already_in");
    assert_eq!(v["aws_auth"]["readable"], true);
    assert_eq!(v["aws_auth"]["errors"], 0, "{}", v["aws_auth"]);
    assert_eq!(
        v["aws_auth"]["node_roles_missing"].as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn recreated_creator_on_config_map_ranks_below_the_access_entry() {
    let d = Drill::start("creator-deleted-configmap");
    let v = diagnose_json(&d, &[]);
    assert_eq!(v["paths"][0]["kind"], "access_entry");
    assert_eq!(v["paths"][0]["consent"], "--allow-auth-mode-change");
    assert_eq!(v["paths"][1]["kind"], "recreate_creator");
    assert!(
        v["paths"][1]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("unique id")
    );
}

#[test]
fn an_unreachable_api_server_is_explained() {
    let d = Drill::start("creator-deleted-api");
    let v = diagnose_json(&d, &["--api-server", "https://127.0.0.1:9"]);
    assert_eq!(v["reachability"]["tcp"], false, "{}", v["reachability"]);
    assert_eq!(v["access"]["result"], "unknown");
    assert!(
        v["notes"].to_string().contains("could not be reached"),
        "{}",
        v["notes"]
    );
    assert!(v["paths"][0]["needs"].to_string().contains("--api-server"));
}
