//! `record` against moto + eks-sim: the creator written on the cluster's tags (planned, dry run
//! changes nothing, journaled, undone by `cleanup`), and `creator` still answering from the tags
//! once the CloudTrail history is gone.

mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, arn, http, text};
use serde_json::Value;

fn tags(w: &World, cluster: &str) -> Value {
    w.aws(&["eks", "describe-cluster", "--name", cluster])["cluster"]["tags"].clone()
}

#[test]
fn record_then_forget_cloudtrail_and_creator_answers_from_the_tags() {
    let w = World::start("getin");
    let creator_arn = arn("user/admins/platform-admin");

    // Dry run: the plan, no change.
    let dry = w
        .product()
        .args(["record", "--cluster", "by-user", "--dry-run"])
        .output()
        .unwrap();
    let stdout = text(&dry.stdout);
    assert!(dry.status.success(), "{stdout}{}", text(&dry.stderr));
    assert!(stdout.contains("eks:TagResource"), "{stdout}");
    assert!(stdout.contains(&creator_arn), "{stdout}");
    assert!(
        tags(&w, "by-user")
            .get("eks-breakglass/creator-arn")
            .is_none()
    );
    assert_eq!(w.calls("eks", "TagResource").len(), 0);

    // Without --yes and without a terminal: exit 4, nothing changed.
    let unconfirmed = w
        .product()
        .args(["record", "--cluster", "by-user"])
        .output()
        .unwrap();
    assert_eq!(unconfirmed.status.code(), Some(4));
    assert_eq!(w.calls("eks", "TagResource").len(), 0);

    let jd = w.path("record-run");
    let out = w
        .product()
        .args([
            "record",
            "--cluster",
            "by-user",
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Recorded"), "{stdout}");
    let t = tags(&w, "by-user");
    assert_eq!(t["eks-breakglass/creator-arn"], creator_arn.as_str());
    assert_eq!(t["eks-breakglass/creator-kind"], "iam_user");
    let expected_id = w.state["users"]["platform-admin"]["originalUserId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(t["eks-breakglass/creator-id"], expected_id.as_str());
    assert!(stdout.contains("CloudTrail"), "{stdout}");
    assert!(
        t["eks-breakglass/creator-recorded-at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let journal = support::events(&jd);
    assert!(
        journal.iter().any(|e| e == "step_done:1"),
        "journal: {journal:?}"
    );

    // A second run changes nothing.
    let again = w
        .product()
        .args(["record", "--cluster", "by-user", "--yes"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(text(&again.stdout).contains("Nothing to change"));
    assert_eq!(w.calls("eks", "TagResource").len(), 1);

    // CloudTrail forgets everything.
    let (status, body) = http("DELETE", &format!("{}/cloudtrail/events", w.admin), &[], "");
    assert_eq!(status, 200, "{body}");

    let out = w
        .product()
        .args(["creator", "--cluster", "by-user", "--output", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(report["creator"]["arn"], creator_arn.as_str());
    assert_eq!(report["creator"]["source"], "tags");
    assert_eq!(report["creator"]["unique_id"], expected_id.as_str());
    assert_eq!(report["attempts"][0]["source"], "cloudtrail");
    assert_eq!(report["attempts"][0]["outcome"], "not_found", "{report}");
    assert_eq!(report["attempts"][1]["source"], "tags");
    assert_eq!(report["attempts"][1]["outcome"], "answered");
    // Same unique id as recorded: the creator is the principal EKS knows.
    assert_eq!(report["status"]["state"], "alive", "{report}");
    assert_eq!(out.status.code(), Some(0));

    // cleanup puts the tags back as they were.
    let out = w
        .product()
        .args([
            "cleanup",
            "--rollback",
            "--journal",
            jd.to_str().unwrap(),
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let t = tags(&w, "by-user");
    assert!(t.get("eks-breakglass/creator-arn").is_none(), "{t}");
    assert!(t.get("eks-breakglass/creator-id").is_none(), "{t}");
}

#[test]
fn record_without_any_source_records_nothing_and_exits_6() {
    let w = World::start("getin");
    let (status, _) = http("DELETE", &format!("{}/cloudtrail/events", w.admin), &[], "");
    assert_eq!(status, 200);
    let out = w
        .product()
        .args(["record", "--cluster", "by-role", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing was recorded"));
    assert_eq!(w.calls("eks", "TagResource").len(), 0);
}
