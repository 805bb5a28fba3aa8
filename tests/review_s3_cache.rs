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

/// The other half of the rule above: a dry run may *read* answers a real run kept (that changes
/// nothing), so `recover --dry-run` after `creator` does not spend CloudTrail's 2/s again.
#[test]
fn a_dry_run_reuses_an_earlier_answer_and_keeps_nothing_new() {
    let w = World::start_file(&common::root().join("sim/scenarios/incident.yaml"));
    let dir = w.path("state/eks-breakglass/cloudtrail-lookups");
    let out = w
        .product()
        .args(["creator", "--cluster", "prod"])
        .output()
        .expect("run creator");
    assert!(
        !w.calls("cloudtrail", "LookupEvents").is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = std::fs::read_dir(&dir)
        .expect("creator kept its answer")
        .count();
    w.clear_calls();
    let out = w
        .product()
        .args(["--dry-run", "-v", "recover", "--cluster", "prod", "--yes"])
        .arg("--journal-dir")
        .arg(w.path("run"))
        .output()
        .expect("run recover --dry-run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("reusing the answer CloudTrail gave"), "{err}");
    assert!(w.calls("cloudtrail", "LookupEvents").is_empty(), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), kept);
}

/// A state directory of another local user (here `…/eks-breakglass`, above the cache directory
/// the tool creates) is neither read nor written into; `-v` says why, once per run.
#[test]
fn a_state_directory_owned_by_another_user_is_neither_read_nor_written() {
    use std::os::unix::fs::PermissionsExt as _;
    let w = World::start_file(&common::root().join("sim/scenarios/incident.yaml"));
    let top = w.path("state/eks-breakglass");
    std::fs::create_dir_all(&top).unwrap();
    std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::os::unix::fs::chown(&top, Some(65534), Some(65534)).is_err() {
        eprintln!("not root: cannot give the directory to another user; nothing to check");
        return;
    }
    for _ in 0..2 {
        w.clear_calls();
        let out = w
            .product()
            .args(["-v", "creator", "--cluster", "prod"])
            .output()
            .expect("run creator");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.matches("not reusing or keeping CloudTrail LookupEvents answers")
                .count(),
            1,
            "{err}"
        );
        assert!(err.contains("owned by uid 65534"), "{err}");
        assert!(!w.calls("cloudtrail", "LookupEvents").is_empty(), "{err}");
        assert!(!top.join("cloudtrail-lookups").exists());
    }
}
