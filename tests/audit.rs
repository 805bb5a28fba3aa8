//! `audit` against moto + eks-sim: one cluster per verdict (tests/fixtures/scenarios/fleet.yaml),
//! the three output formats, the exit code, and a 200-cluster fleet audited with bounded
//! concurrency giving the same answers as a serial run. Timing is measured by
//! `scripts/bench.sh audit`, never asserted here.

mod common;

use common::world::{World, text};
use serde_json::Value;
use std::collections::BTreeMap;

const ACCOUNT: &str = "123456789012";

/// Writes the creator record that `record` would write, with the id moto made at build time.
fn record(w: &World, cluster: &str, arn: &str, kind: &str, id: &str) {
    let cluster_arn = format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{cluster}");
    let tags = format!(
        "eks-breakglass/creator-arn={arn},eks-breakglass/creator-kind={kind},eks-breakglass/creator-id={id},eks-breakglass/creator-recorded-at=2026-01-01T00:00:00Z"
    );
    w.aws(&[
        "eks",
        "tag-resource",
        "--resource-arn",
        &cluster_arn,
        "--tags",
        &tags,
    ]);
}

fn user(w: &World, name: &str) -> (String, String) {
    let u = &w.state["users"][name];
    (
        u["arn"].as_str().unwrap().to_string(),
        u["originalUserId"].as_str().unwrap().to_string(),
    )
}

fn role(w: &World, name: &str) -> (String, String) {
    let r = &w.state["roles"][name];
    (
        r["arn"].as_str().unwrap().to_string(),
        r["originalRoleId"].as_str().unwrap().to_string(),
    )
}

fn by_name(report: &Value) -> BTreeMap<String, Value> {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cluster"].as_str().unwrap().to_string(), c.clone()))
        .collect()
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
fn every_verdict_of_a_small_fleet() {
    let w = World::start("fleet");
    let (pa, pa_id) = user(&w, "platform-admin");
    let (rehired, rehired_old_id) = user(&w, "rehired");
    let (two, two_id) = user(&w, "two-keys");
    let (dep, dep_id) = role(&w, "deployer");
    let (gone, gone_id) = role(&w, "gone-deployer");
    for c in [
        "creator-user-ok",
        "entry-viewer",
        "private-entry",
        "broken-auth",
    ] {
        record(&w, c, &pa, "iam_user", &pa_id);
    }
    record(&w, "creator-role-ok", &dep, "assumed_role", &dep_id);
    record(&w, "creator-gone", &gone, "assumed_role", &gone_id);
    record(
        &w,
        "creator-recreated",
        &rehired,
        "iam_user",
        &rehired_old_id,
    );
    record(&w, "creator-two-keys", &two, "iam_user", &two_id);

    let calls = w.path("audit-calls.jsonl");
    let out = w
        .product()
        .args([
            "audit",
            "--breakglass-role",
            "breakglass/breakglass",
            "--aws-auth",
            "--output",
            "json",
            "--call-log",
            calls.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = by_name(&report);
    assert_eq!(c.len(), 10, "{report}");

    let ok = |name: &str, path: &str| {
        assert_eq!(c[name]["flagged"], false, "{name}: {}", c[name]);
        assert_eq!(c[name]["path"], path, "{name}: {}", c[name]);
    };
    let flagged = |name: &str, code: &str| {
        assert_eq!(c[name]["flagged"], true, "{name}: {}", c[name]);
        assert_eq!(c[name]["path"], "none");
        assert_eq!(c[name]["findings"][0]["code"], "no-breakglass-path");
        assert!(
            codes(&c[name]).contains(&code.to_string()),
            "{name}: {}",
            c[name]
        );
    };
    ok("entry-ok", "access_entry");
    assert_eq!(c["entry-ok"]["breakglass_entry"], "present");
    assert_eq!(c["entry-ok"]["creator_state"], "not_recorded");
    ok("creator-user-ok", "creator");
    assert_eq!(c["creator-user-ok"]["creator_state"], "alive");
    assert_eq!(c["creator-user-ok"]["creator_same_id"], true);
    assert_eq!(c["creator-user-ok"]["creator_source"], "tags");
    assert_eq!(c["creator-user-ok"]["breakglass_entry"], "not_applicable");
    ok("creator-role-ok", "creator");
    ok("private-entry", "access_entry");
    assert_eq!(c["private-entry"]["endpoint"], "private");
    assert!(codes(&c["private-entry"]).contains(&"endpoint-private-only".to_string()));
    ok("broken-auth", "creator");
    assert_eq!(
        c["broken-auth"]["aws_auth"], "errors",
        "{}",
        c["broken-auth"]
    );
    assert!(codes(&c["broken-auth"]).contains(&"aws-auth-errors".to_string()));
    // No aws-auth at all there: the operator is not let in to read it.
    assert_eq!(c["creator-user-ok"]["aws_auth"], "unreadable");
    assert_eq!(c["entry-viewer"]["aws_auth"], "not_used");

    flagged("creator-gone", "creator-unusable");
    assert_eq!(c["creator-gone"]["creator_state"], "deleted");
    flagged("creator-recreated", "creator-unusable");
    assert_eq!(c["creator-recreated"]["creator_state"], "recreated");
    assert_eq!(c["creator-recreated"]["creator_same_id"], false);
    flagged("creator-two-keys", "creator-unusable");
    flagged("entry-viewer", "breakglass-entry-not-admin");
    assert!(codes(&c["entry-viewer"]).contains(&"creator-admin-disabled".to_string()));
    assert_eq!(c["entry-viewer"]["creator_admin"], false);
    flagged("not-recorded", "creator-not-recorded");

    assert_eq!(report["summary"]["flagged"], 5);
    assert_eq!(report["summary"]["via_access_entry"], 2);
    assert_eq!(report["summary"]["via_creator"], 3);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);

    // One IAM lookup per distinct creator, not per cluster.
    let log = common::read(&calls);
    let get_user = log.matches("\"iam:GetUser\"").count();
    assert_eq!(get_user, 3, "{log}");

    // The table names the flagged clusters and their fixes; CSV has a line per cluster.
    let out = w
        .product()
        .args(["audit", "--breakglass-role", "breakglass/breakglass"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let table = text(&out.stdout);
    assert!(table.starts_with("ACCOUNT"), "{table}");
    assert!(table.contains("NONE (flagged)"), "{table}");
    assert!(
        table.contains("fix: `eks-breakglass record --cluster not-recorded --region us-east-1`"),
        "{table}"
    );
    assert!(table.contains("10 cluster(s) in 1 account(s), 1 region(s): 5 flagged"));
    let out = w
        .product()
        .args(["audit", "--format", "csv"])
        .output()
        .unwrap();
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 11, "{csv}");
    assert!(lines[0].starts_with("account,region,cluster,arn,auth_mode"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",creator-gone,") && l.contains(",true,"))
    );
}

#[test]
fn a_region_that_cannot_be_listed_is_an_error_not_a_crash() {
    let w = World::start("fleet");
    w.deny(&w.operator(), &["eks:ListClusters"]);
    let out = w.product().args(["audit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Could not audit"), "{stdout}");
    assert!(stdout.contains("eks:ListClusters"), "{stdout}");
}

#[test]
fn two_hundred_clusters_concurrently_match_a_serial_run() {
    let w = World::start("fleet-200");
    let run = |concurrency: &str| -> Value {
        let out = w
            .product()
            .args([
                "audit",
                "--breakglass-role",
                "breakglass/breakglass",
                "--concurrency",
                concurrency,
                "--rate",
                "80",
                "--output",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let par = run("16");
    let ser = run("1");
    assert_eq!(par["summary"]["clusters"], 200);
    // 20 with a deleted creator, 30 without a record; 50 in through the access entry.
    assert_eq!(par["summary"]["flagged"], 50);
    assert_eq!(par["summary"]["via_access_entry"], 50);
    assert_eq!(par["summary"]["via_creator"], 100);
    assert_eq!(par["clusters"], ser["clusters"]);
    assert_eq!(par["calls"], ser["calls"]);
}

#[test]
fn profiles_are_audited_once_per_account_and_a_failing_profile_is_reported() {
    let w = World::start("fleet");
    let env = |k: &str| {
        w.env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    // Each profile reaches the world through its own endpoint_url (the SDK's profile setting).
    let endpoint = env("AWS_ENDPOINT_URL_EKS");
    let (key, secret) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"));
    let profile = |name: &str, key: &str| {
        format!(
            "[profile {name}]\nregion = us-east-1\naws_access_key_id = {key}\naws_secret_access_key = {secret}\nendpoint_url = {endpoint}\n"
        )
    };
    let config = w.path("aws-config");
    std::fs::write(
        &config,
        [
            profile("admin", &key),
            profile("readonly", &key),
            // No credentials at all (an SSO profile nobody logged in to).
            "[profile stale]\nregion = us-east-1\n".to_string(),
        ]
        .join("\n"),
    )
    .unwrap();
    let mut cmd = common::product();
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "audit",
            "--profiles",
            "admin,readonly,stale",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["clusters"], 10, "{}", report["summary"]);
    assert_eq!(report["summary"]["accounts"], 1);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["account"], "profile:stale");
    assert_eq!(errors[0]["action"], "sts:GetCallerIdentity");
}

#[test]
fn deep_finds_unrecorded_creators() {
    let w = World::start("fleet");
    let out = w
        .product()
        .args(["audit", "--deep", "--output", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    let c = by_name(&report);
    let nr = &c["not-recorded"];
    assert_eq!(nr["creator_source"], "cloudtrail", "{nr}");
    assert_eq!(nr["creator_state"], "alive");
    assert_eq!(nr["path"], "creator");
    assert!(codes(nr).contains(&"creator-not-recorded".to_string()));
    assert_eq!(c["creator-gone"]["creator_state"], "deleted");
    assert_eq!(c["creator-recreated"]["creator_state"], "recreated");
}

/// An AWS Organization in moto with two member accounts, clusters in two regions of each, all in
/// one eks-sim world (tests/fixtures/scenarios/org.yaml): `audit --org-role` lists the accounts,
/// assumes the organization role in each member, and finds every cluster in its own account and
/// region (CloudTrail, with --deep, answers per account and region too).
#[test]
fn org_role_reaches_every_member_account_and_region() {
    let w = World::start("org");
    let org = &w.state["organization"]["accounts"];
    let payments = org["payments"]["id"].as_str().unwrap().to_string();
    let analytics = org["analytics"]["id"].as_str().unwrap().to_string();
    assert!(payments != ACCOUNT && analytics != ACCOUNT && payments != analytics);
    let calls = w.path("org-calls.jsonl");
    let out = w
        .product()
        .args([
            "audit",
            "--org-role",
            "OrganizationAccountAccessRole",
            "--regions",
            "us-east-1,eu-west-1",
            "--deep",
            "--output",
            "json",
            "--call-log",
            calls.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["summary"]["clusters"], 6, "{report}");
    assert_eq!(report["summary"]["accounts"], 3, "{report}");
    assert_eq!(report["summary"]["regions"], 2, "{report}");
    let c = by_name(&report);
    // The deleted deployer belongs to the management account: from a member account the
    // product cannot check it (it says so) and, with no other way in, flags the cluster.
    let expect = [
        ("mgmt-ok", ACCOUNT, "us-east-1", false, "alive"),
        ("mgmt-eu-gone", ACCOUNT, "eu-west-1", true, "deleted"),
        ("pay-ok", payments.as_str(), "us-east-1", false, "alive"),
        (
            "pay-eu-gone",
            payments.as_str(),
            "eu-west-1",
            true,
            "unknown",
        ),
        ("ana-eu-ok", analytics.as_str(), "eu-west-1", false, "alive"),
        ("ana-gone", analytics.as_str(), "us-east-1", true, "unknown"),
    ];
    for (name, account, region, flagged, state) in expect {
        let r = &c[name];
        assert_eq!(r["account"], account, "{r}");
        assert_eq!(r["region"], region, "{r}");
        assert_eq!(
            r["arn"],
            format!("arn:aws:eks:{region}:{account}:cluster/{name}").as_str(),
            "{r}"
        );
        assert_eq!(r["flagged"], flagged, "{r}");
        assert_eq!(r["creator_source"], "cloudtrail", "{r}");
        assert_eq!(r["creator_state"], state, "{r}");
    }
    let log = common::read(&calls);
    assert_eq!(log.matches("\"organizations:ListAccounts\"").count(), 1);
    assert_eq!(log.matches("\"sts:AssumeRole\"").count(), 2, "{log}");
}

#[test]
fn profiles_in_two_regions_make_one_report() {
    let us = World::start("fleet");
    let eu = World::start("fleet-eu");
    let profile = |name: &str, w: &World, region: &str| {
        let env = |k: &str| {
            w.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        format!(
            "[profile {name}]\nregion = {region}\naws_access_key_id = {}\naws_secret_access_key = {}\nendpoint_url = {}\n",
            env("AWS_ACCESS_KEY_ID"),
            env("AWS_SECRET_ACCESS_KEY"),
            env("AWS_ENDPOINT_URL_EKS")
        )
    };
    let config = us.path("aws-config");
    std::fs::write(
        &config,
        [
            profile("prod-us", &us, "us-east-1"),
            profile("prod-eu", &eu, "eu-west-1"),
        ]
        .join("\n"),
    )
    .unwrap();
    let mut cmd = common::product();
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "audit",
            "--profiles",
            "prod-us,prod-eu",
            "--breakglass-role",
            "breakglass/breakglass",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 13, "{csv}");
    assert_eq!(rows.iter().filter(|r| r.contains(",eu-west-1,")).count(), 3);
    let eu_entry = rows.iter().find(|r| r.contains(",eu-entry,")).unwrap();
    assert!(
        eu_entry.contains("arn:aws:eks:eu-west-1:123456789012:cluster/eu-entry")
            && eu_entry.contains(",access_entry,false,"),
        "{eu_entry}"
    );
    // Sorted by account, region, cluster: the eu-west-1 rows come first.
    assert!(rows[0].contains(",eu-west-1,"), "{csv}");
}
