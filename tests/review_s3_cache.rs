//! Review (session 3, issue 13): the CloudTrail LookupEvents answers kept across runs in
//! `$XDG_STATE_HOME/eks-breakglass/cloudtrail-lookups`.

mod common;

use common::world::World;

/// "--dry-run changes nothing, in every command": a dry run that leaves a file behind in the
/// user's state directory has changed something — and what it left changes what the next,
/// real run does (recover reuses the dry run's CloudTrail answer instead of asking). A
/// `recover --dry-run` must not create the lookup cache.
#[test]
fn review_recover_dry_run_writes_no_cloudtrail_cache() {
    let w = World::start_file(&common::root().join("sim/scenarios/incident.yaml"));
    let dir = w.path("state/eks-breakglass/cloudtrail-lookups");
    assert!(!dir.exists(), "the world starts without a cache");
    let out = w
        .product()
        .args([
            "--dry-run",
            "recover",
            "--cluster",
            "prod",
            "--yes",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .expect("run recover --dry-run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !w.calls("cloudtrail", "LookupEvents").is_empty(),
        "the dry run searched CloudTrail (precondition); stderr: {err}"
    );
    let left: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !dir.exists(),
        "recover --dry-run wrote {} ({} file(s): {left:?}); exit {:?}",
        dir.display(),
        left.len(),
        out.status.code()
    );
}
