//! `cleanup` after the worst moments: SIGKILL between IAM making a change and the journal
//! recording it, Ctrl-C in the middle of a step, and IAM refusing a step. IAM's calls go through
//! a trap in front of moto that holds one answer (so the product can be killed at exactly that
//! point) or answers AccessDenied; the state after cleanup is compared with the state before.

mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, arn, finish, signal, text};
use std::time::Duration;
use support::{Rule, Trap, events};

#[test]
fn sigkill_after_iam_created_a_key_but_before_the_journal_knew_then_cleanup_restores_iam() {
    let w = World::start("gone-user");
    let before = w.iam_snapshot();
    let trap = Trap::start(&w.iam_url(), Rule::Hold("CreateAccessKey".into()));
    let jd = w.path("run");
    let creator = arn("user/people/ex-employee");
    let child = w.spawn(
        &[
            "assume-creator",
            "--cluster",
            "gone-user",
            "--creator",
            &creator,
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_IAM", &trap.url)],
    );
    assert!(
        trap.wait_hit(Duration::from_secs(60)),
        "CreateAccessKey never came"
    );
    signal(&child, "KILL");
    let (code, _, _) = finish(child);
    assert_eq!(code, None, "killed by a signal");
    trap.release();
    // The user and a key exist; the journal saw the key's step start, never end.
    assert_eq!(w.access_keys("ex-employee").len(), 1);
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "step_started:2"
        ]
    );

    // The key's id never reached the journal. The user is provably the run's (its unique id
    // was journaled), but that does not make every key on it the run's: a colleague may have
    // given it one (review finding 6). So cleanup refuses, naming the key and --delete-key;
    // no key is ever "found by comparing". (This test used to expect the user deleted with the
    // unrecorded key, unasked.)
    let key = w.access_keys("ex-employee").remove(0);
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    assert!(!c.status.success(), "{all}");
    assert!(
        all.contains(&key) && all.contains("--delete-key") && all.contains("cannot tell which key"),
        "{all}"
    );
    assert_eq!(w.access_keys("ex-employee"), vec![key.clone()]);
    let c = w
        .product()
        .args([
            "cleanup",
            "--journal",
            jd.to_str().unwrap(),
            "--yes",
            "--delete-key",
            &key,
        ])
        .output()
        .unwrap();
    let out = text(&c.stdout);
    assert!(c.status.success(), "{out}{}", text(&c.stderr));
    assert!(!out.contains("found by comparing"), "{out}");
    assert!(out.contains("deleted user ex-employee"), "{out}");
    assert_eq!(w.iam_snapshot(), before);
    // And the same journal cleans nothing twice.
    let again = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(text(&again.stdout).contains("Nothing to undo"));
}

#[test]
fn sigkill_right_after_the_trust_policy_changed_then_cleanup_restores_it_byte_for_byte() {
    let w = World::start("getin");
    let before = w.iam_snapshot();
    let trust_before = w.raw_trust("locked-deployer");
    let trap = Trap::start(&w.iam_url(), Rule::Hold("UpdateAssumeRolePolicy".into()));
    let jd = w.path("run");
    let creator = arn("role/ci/locked-deployer");
    let child = w.spawn(
        &[
            "assume-creator",
            "--cluster",
            "by-locked-role",
            "--creator",
            &creator,
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_IAM", &trap.url)],
    );
    assert!(trap.wait_hit(Duration::from_secs(60)));
    signal(&child, "KILL");
    finish(child);
    trap.release();
    assert_ne!(w.raw_trust("locked-deployer"), trust_before);
    assert_eq!(events(&jd), ["run_started", "step_started:1"]);

    // Default journal: the latest run under the state directory is not this one (it was given
    // with --journal-dir), so name it.
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.raw_trust("locked-deployer"), trust_before);
    assert_eq!(w.iam_snapshot(), before);
}

#[test]
fn ctrl_c_during_a_step_lets_it_finish_then_undoes_the_run_and_deletes_the_key() {
    let w = World::start("getin");
    let keys_before = w.access_keys("platform-admin");
    let trap = Trap::start(&w.iam_url(), Rule::Hold("CreateAccessKey".into()));
    let jd = w.path("run");
    let creator = arn("user/admins/platform-admin");
    let child = w.spawn(
        &[
            "assume-creator",
            "--cluster",
            "by-user",
            "--creator",
            &creator,
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_IAM", &trap.url)],
    );
    assert!(trap.wait_hit(Duration::from_secs(60)));
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    trap.release();
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupt"), "{stderr}");
    assert!(stderr.contains("undone: deleted access key"), "{stderr}");
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "undo_started:1",
            "undo_done:1",
            "run_finished"
        ]
    );
    let last = support::journal(&jd).pop().unwrap();
    assert_eq!(last["status"], "interrupted");
    assert_eq!(w.access_keys("platform-admin"), keys_before);
    // Nothing left for cleanup.
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(
        text(&c.stdout).contains("Nothing to undo"),
        "{}",
        text(&c.stdout)
    );
}

#[test]
fn iam_refusing_a_step_stops_the_plan_names_the_action_and_everything_stays_undoable() {
    let w = World::start("getin");
    let before = w.iam_snapshot();
    let trap = Trap::start(&w.iam_url(), Rule::Deny("iam:PutRolePolicy".into(), None));
    let jd = w.path("run");
    let out = w
        .product()
        .env("AWS_ENDPOINT_URL_IAM", &trap.url)
        .args(["assume-creator", "--cluster", "by-gone-role", "--creator"])
        .arg(arn("role/ci/gone-deployer"))
        .args(["--yes", "--journal-dir"])
        .arg(&jd)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("step 2 failed (AWS denied iam:PutRolePolicy)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("eks-breakglass cleanup --journal"),
        "{stderr}"
    );
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "step_started:2",
            "step_failed:2",
            "run_finished"
        ]
    );
    // The role made by step 1 is there, and cleanup takes it away.
    assert!(
        w.iam("GetRole", &[("RoleName", "gone-deployer")])
            .contains("<RoleName>gone-deployer</RoleName>")
    );
    let c = w
        .product()
        .args(["cleanup", "--journal"])
        .arg(&jd)
        .arg("--yes")
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.iam_snapshot(), before);
}

#[test]
fn cleanup_without_a_journal_takes_the_latest_run() {
    let w = World::start("getin");
    let before = w.raw_trust("locked-deployer");
    let out = w
        .product()
        .args(["assume-creator", "--cluster", "by-locked-role", "--creator"])
        .arg(arn("role/ci/locked-deployer"))
        .args(["--yes", "--wait", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(w.raw_trust("locked-deployer"), before);
    let runs = w.path("state/eks-breakglass/runs");
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 1);
    let c = w.product().args(["cleanup", "--yes"]).output().unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.raw_trust("locked-deployer"), before);
}

#[test]
fn ctrl_c_while_waiting_for_iam_propagation_undoes_the_trust_statement() {
    let w = World::start("getin");
    let before = w.raw_trust("locked-deployer");
    let trap = Trap::start(&w.iam_url(), Rule::Deny("sts:AssumeRole".into(), None));
    let jd = w.path("run");
    let creator = arn("role/ci/locked-deployer");
    let child = w.spawn(
        &[
            "assume-creator",
            "--cluster",
            "by-locked-role",
            "--creator",
            &creator,
            "--yes",
            "--wait",
            "60",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_STS", &trap.url)],
    );
    assert!(trap.wait_hit(Duration::from_secs(60)));
    assert_ne!(w.raw_trust("locked-deployer"), before);
    signal(&child, "INT");
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert_eq!(w.raw_trust("locked-deployer"), before);
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "undo_started:1",
            "undo_done:1",
            "run_finished"
        ]
    );
}

#[test]
fn sigkill_in_the_middle_of_grant_then_cleanup_restores_eks() {
    let w = World::start("getin");
    let before = w.eks_snapshot("api-cluster");
    // Hold AssociateAccessPolicy's answer: the entry exists, the policy is associated, the
    // journal only knows that step 2 started.
    let trap = Trap::start(
        &w.env_value("AWS_ENDPOINT_URL_EKS"),
        Rule::Hold("POST /clusters/api-cluster/access-entries/".into()),
    );
    let jd = w.path("run");
    let child = w.spawn(
        &[
            "grant",
            "--cluster",
            "api-cluster",
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_EKS", &trap.url)],
    );
    assert!(trap.wait_hit(Duration::from_secs(60)));
    signal(&child, "KILL");
    finish(child);
    trap.release();
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "step_started:2"
        ]
    );
    let granted = w.eks_snapshot("api-cluster");
    assert_ne!(granted, before);
    // Plain cleanup removes temporary things only: the access entry is the run's result.
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(
        text(&c.stdout).contains("--rollback"),
        "{}",
        text(&c.stdout)
    );
    assert_eq!(w.eks_snapshot("api-cluster"), granted);
    let c = w
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
    let out = text(&c.stdout);
    assert!(c.status.success(), "{out}{}", text(&c.stderr));
    assert!(out.contains("disassociated"), "{out}");
    assert!(out.contains("deleted the access entry"), "{out}");
    assert_eq!(w.eks_snapshot("api-cluster"), before);
}
