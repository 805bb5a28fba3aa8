//! `aws-auth snapshot` and `restore --from` a snapshot against moto + eks-sim: the canonical
//! copy and its metadata, history for `--at`, S3, and snapshot → break → restore giving back the
//! identical mappings.

#[path = "awsauth_write_support/mod.rs"]
mod aw;
mod common;

use common::world::{World, text};
use serde_json::{Value, json};

fn run(w: &World, args: &[&str]) -> String {
    let out = w.product().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn snapshot_break_restore_gives_back_the_identical_mappings_and_at_picks_history() {
    let w = World::start("aws-auth-incident");
    aw::set_live(&w, "prod", &aw::good_data());
    let good = aw::effective(&w, "prod");
    // The creator on record (as `record` writes it) goes into the metadata.
    let cluster_arn = w.state["clusters"]["prod"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    w.aws(&[
        "eks",
        "tag-resource",
        "--resource-arn",
        &cluster_arn,
        "--tags",
        "eks-breakglass/creator-arn=arn:aws:iam::123456789012:user/admins/platform-admin,eks-breakglass/creator-kind=iam_user",
    ]);
    let snaps = w.path("snaps");
    let s = snaps.to_str().unwrap();
    run(
        &w,
        &["aws-auth", "snapshot", "--cluster", "prod", "--to", s],
    );
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(snaps.join("prod.meta.json")).unwrap())
            .unwrap();
    assert_eq!(
        meta["taken_by"],
        "arn:aws:iam::123456789012:user/admins/platform-admin"
    );
    assert_eq!(meta["lint"]["errors"], 0);
    assert_eq!(meta["lint"]["users"], 2);
    assert_eq!(
        meta["resource_version"],
        json!(aw::resource_version(&w, "prod"))
    );
    assert_eq!(meta["cluster_arn"], json!(cluster_arn));
    assert_eq!(
        meta["creator"]["arn"],
        "arn:aws:iam::123456789012:user/admins/platform-admin"
    );
    let first = std::fs::read_to_string(snaps.join("prod/latest")).unwrap();
    let first = first.trim().to_string();
    assert!(
        snaps
            .join(format!("prod/{first}/prod.aws-auth.yaml"))
            .is_file()
    );
    let yaml = std::fs::read_to_string(snaps.join("prod.aws-auth.yaml")).unwrap();
    assert!(
        !yaml.contains("resourceVersion"),
        "canonical, clean: {yaml}"
    );
    assert!(yaml.contains("team-notes"), "{yaml}");

    // A second, different snapshot one second later.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut second = aw::good_data();
    second["mapUsers"] = json!(
        "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n  groups:\n    - system:masters\n"
    );
    aw::set_live(&w, "prod", &second);
    let second_mapping = aw::effective(&w, "prod");
    run(
        &w,
        &["aws-auth", "snapshot", "--cluster", "prod", "--to", s],
    );

    // Break it the seed's way, then restore the latest: the second version's mappings.
    aw::set_live(&w, "prod", &aw::seed_data());
    assert_ne!(aw::effective(&w, "prod")["users"], second_mapping["users"]);
    run(
        &w,
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "prod",
            "--from",
            s,
            "--yes",
        ],
    );
    let restored = aw::effective(&w, "prod");
    assert_eq!(restored["roles"], second_mapping["roles"]);
    assert_eq!(restored["users"], second_mapping["users"]);
    assert_eq!(restored["accounts"], second_mapping["accounts"]);

    // --at the first snapshot's time: the first version.
    aw::set_live(&w, "prod", &aw::seed_data());
    run(
        &w,
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "prod",
            "--from",
            s,
            "--at",
            &first,
            "--yes",
        ],
    );
    let restored = aw::effective(&w, "prod");
    assert_eq!(restored["roles"], good["roles"]);
    assert_eq!(restored["users"], good["users"]);
    assert_eq!(restored["accounts"], good["accounts"]);
    assert_eq!(aw::live_data(&w, "prod"), aw::good_data());

    // --at before any snapshot: a usage error naming what exists.
    let out = w
        .product()
        .args([
            "aws-auth",
            "restore",
            "--cluster",
            "prod",
            "--from",
            s,
            "--at",
            "2001-01-01",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(&first), "{}", text(&out.stderr));
}

#[test]
fn snapshot_to_s3_and_restore_from_it() {
    let w = World::start("aws-auth-incident");
    aw::set_live(&w, "prod", &aw::good_data());
    let good = aw::effective(&w, "prod");
    w.aws(&["s3api", "create-bucket", "--bucket", "team-snaps"]);
    let out = run(
        &w,
        &[
            "aws-auth",
            "snapshot",
            "--cluster",
            "prod",
            "--to",
            "s3://team-snaps/eks/aws-auth",
        ],
    );
    assert!(
        out.contains("s3://team-snaps/eks/aws-auth/prod/latest"),
        "{out}"
    );
    let listed = w.aws(&["s3api", "list-objects-v2", "--bucket", "team-snaps"]);
    assert_eq!(listed["Contents"].as_array().unwrap().len(), 5, "{listed}");
    aw::set_live(&w, "prod", &aw::seed_data());
    run(
        &w,
        &[
            "aws-auth",
            "restore",
            "--cluster",
            "prod",
            "--from",
            "s3://team-snaps/eks/aws-auth",
            "--yes",
        ],
    );
    let restored = aw::effective(&w, "prod");
    assert_eq!(restored["roles"], good["roles"]);
    assert_eq!(restored["users"], good["users"]);
}
