//! `aws-auth edit` with a scripted `$EDITOR` against moto + eks-sim: the seed's mistake is
//! refused and shown in the reopened file, a correct edit is applied with a backup, a no-op save
//! writes nothing, and a colleague's concurrent change is kept (409, re-read, carried over).

#[path = "awsauth_write_support/mod.rs"]
mod aw;
mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, text};
use serde_json::json;

struct Edit {
    w: World,
    dir: tempfile::TempDir,
}

impl Edit {
    fn new() -> Edit {
        let w = World::start("aws-auth-incident");
        aw::set_live(&w, "prod", &aw::good_data());
        Edit {
            w,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, mode: &str, extra: &[&str]) -> std::process::Output {
        let editor = aw::editor(self.dir.path());
        let mut args = vec!["aws-auth", "edit", "--cluster", "prod"];
        args.extend_from_slice(extra);
        self.w
            .product()
            .env("EDITOR", "/bin/false")
            .env("KUBE_EDITOR", &editor)
            .env("EDIT_DIR", self.dir.path())
            .env("EDIT_MODE", mode)
            .env("SIM_ADMIN", &self.w.admin)
            .args(&args)
            .output()
            .unwrap()
    }

    fn seen(&self, n: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("seen-{n}.yaml")))
            .unwrap_or_else(|_| panic!("the editor was not opened {n} time(s)"))
    }

    fn opened(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("seen-"))
            })
            .count()
    }
}

#[test]
fn the_seeds_mistake_is_not_applied_and_the_findings_are_shown_in_the_reopened_file() {
    let e = Edit::new();
    let rv = aw::resource_version(&e.w, "prod");
    let out = e.run("mistake-then-empty", &["--yes"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(e.opened(), 2);
    let first = e.seen(1);
    assert!(first.contains("username: oncall"), "{first}");
    let second = e.seen(2);
    // The findings, as comments at the top, then the edited object with the mistake.
    let header: Vec<&str> = second.lines().take_while(|l| l.starts_with('#')).collect();
    let header = header.join("\n");
    assert!(header.contains("lint error(s)"), "{second}");
    assert!(header.contains("error[AA"), "{second}");
    assert!(header.contains("mapUsers"), "{second}");
    assert!(
        second.contains("\n     groups:"),
        "the mistake is still there to fix: {second}"
    );
    assert!(text(&out.stdout).contains("Edit cancelled: the errors remain"));
    assert_eq!(
        aw::resource_version(&e.w, "prod"),
        rv,
        "nothing was written"
    );
    assert_eq!(aw::live_data(&e.w, "prod"), aw::good_data());
}

#[test]
fn a_correct_edit_is_applied_with_a_backup_and_undone_by_cleanup() {
    let e = Edit::new();
    let out = e.run("rename", &["--yes"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("~ user arn:aws:iam::123456789012:user/team/dev/alice"),
        "{stdout}"
    );
    let m = aw::effective(&e.w, "prod");
    assert!(
        aw::mapped_users(&m).iter().any(|(_, u)| u == "alice2"),
        "{m}"
    );
    // Everything the edit did not touch is as it was.
    let data = aw::live_data(&e.w, "prod");
    assert_eq!(data["mapAccounts"], aw::good_data()["mapAccounts"]);
    assert_eq!(data["team-notes"], aw::good_data()["team-notes"]);
    assert!(aw::mapped_roles(&m).contains(&aw::NODE_ROLE.to_string()));
    let dir = aw::journal_dir(&stderr);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("aws-auth.before.json")).unwrap())
            .unwrap();
    assert_eq!(saved["data"], aw::good_data());
    let out =
        e.w.product()
            // The creator runs it; the rollback's self-lockout check counts aws-auth entries
            // only (not the creator's implicit admin), so it asks for --force here.
            .args([
                "cleanup",
                "--rollback",
                "--force",
                "--journal",
                dir.to_str().unwrap(),
                "--yes",
            ])
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(aw::live_data(&e.w, "prod"), aw::good_data());
}

#[test]
fn a_no_op_save_changes_nothing_and_says_so() {
    let e = Edit::new();
    let rv = aw::resource_version(&e.w, "prod");
    let out = e.run("noop", &["--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no changes made"),
        "{}",
        text(&out.stdout)
    );
    assert!(!text(&out.stderr).contains("journal: "));
    assert_eq!(aw::resource_version(&e.w, "prod"), rv);
}

#[test]
fn a_colleagues_change_during_the_edit_is_detected_and_both_changes_are_kept() {
    let e = Edit::new();
    let out = e.run("conflict", &["--yes"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("was changed by someone else after it was read"),
        "{stderr}"
    );
    let data = aw::live_data(&e.w, "prod");
    assert_eq!(
        data["team-notes"],
        json!("changed by a colleague"),
        "theirs kept"
    );
    assert!(
        data["mapUsers"]
            .as_str()
            .unwrap()
            .contains("username: alice2"),
        "ours applied"
    );
    let dir = aw::journal_dir(&stderr);
    let events = support::events(&dir);
    assert!(events.contains(&"step_failed:1".to_string()), "{events:?}");
    assert!(events.contains(&"step_done:2".to_string()), "{events:?}");
    // The colleague's version is backed up too.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("aws-auth.before-2.json")).unwrap())
            .unwrap();
    assert_eq!(saved["data"]["team-notes"], json!("changed by a colleague"));
}

#[test]
fn a_concurrent_change_to_the_same_key_stops_with_yes_and_loses_neither_version() {
    let e = Edit::new();
    let out = e.run("conflict-overlap", &["--yes"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stderr.contains("data key mapUsers"), "{stderr}");
    let data = aw::live_data(&e.w, "prod");
    assert!(
        data["mapUsers"]
            .as_str()
            .unwrap()
            .contains("alice-colleague"),
        "the colleague's version stays: {data}"
    );
    let dir = aw::journal_dir(&stderr);
    let ours = std::fs::read_to_string(dir.join("aws-auth.written-2.json")).unwrap();
    assert!(
        ours.contains("alice2"),
        "ours is kept in the run directory: {ours}"
    );
}

#[test]
fn the_line_numbers_in_the_reopened_file_are_those_of_that_file() {
    let e = Edit::new();
    let out = e.run("mistake-then-empty", &["--yes"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let second = e.seen(2);
    let lines: Vec<&str> = second.lines().collect();
    // Every "--> ORIGIN:LINE:COL" in the comments points at the line shown under it, in this
    // very file (below the comments).
    let mut checked = 0;
    for (i, l) in lines.iter().enumerate() {
        let Some(at) = l.split("--> ").nth(1) else {
            continue;
        };
        let mut parts = at.rsplitn(3, ':');
        let _col = parts.next();
        let n: usize = parts.next().unwrap().parse().unwrap();
        let shown = lines[i + 2]
            .trim_start_matches('#')
            .trim_start()
            .split_once(" | ")
            .map(|(num, t)| {
                assert_eq!(num.trim(), n.to_string(), "{second}");
                t.to_string()
            })
            .unwrap_or_else(|| panic!("no source line under {l}: {second}"));
        assert!(n > lines.iter().take_while(|l| l.starts_with('#')).count());
        assert_eq!(lines[n - 1], shown, "line {n} of the file: {second}");
        checked += 1;
    }
    assert!(checked > 0, "{second}");
}
