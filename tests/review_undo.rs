//! Review of the undo change: each test is a break found by a hostile reviewer, reproduced
//! against moto + eks-sim with the real binary. They fail until the product is fixed.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, arn, finish, text};
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;
use support::{Rule, Trap};

fn cleanup(w: &World, jd: &std::path::Path, extra: &[&str]) -> std::process::Output {
    w.product()
        .arg("cleanup")
        .args(extra)
        .arg("--journal")
        .arg(jd)
        .arg("--yes")
        .output()
        .unwrap()
}

fn keep_run(w: &World, creds: &std::path::Path, jd: &std::path::Path) -> std::process::Output {
    w.product()
        .args([
            "assume-creator",
            "--cluster",
            "by-user",
            "--creator",
            &arn("user/admins/platform-admin"),
        ])
        .args(["--yes", "--keep", "--no-kubeconfig", "--wait", "10"])
        .arg("--credentials-file")
        .arg(creds)
        .arg("--journal-dir")
        .arg(jd)
        .output()
        .unwrap()
}

/// `[work] # production` is a section header to the AWS CLI (botocore reads the file with
/// Python's configparser, whose section pattern `\[(?P<header>.+)\]` is matched at the start of
/// the line, so text after the `]` is allowed). `credfile::merge_profile` only accepts a line
/// that *ends* with `]`, so it takes `[work] # production` for a line of the profile it is
/// replacing and drops the whole `[work]` profile — its secret is gone.
#[test]
fn review_credentials_file_merge_keeps_a_profile_whose_header_has_a_trailing_comment() {
    let w = World::start("getin");
    let creds = w.path("credentials");
    let before = "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n\
                  [eks-breakglass-by-user]\naws_access_key_id = AKIAOLDRUN\naws_secret_access_key = o\n\n\
                  [work] # production account\naws_access_key_id = AKIAWORKPROFILE\naws_secret_access_key = worksecret\n";
    std::fs::write(&creds, before).unwrap();
    let out = keep_run(&w, &creds, &w.path("run"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let now = std::fs::read_to_string(&creds).unwrap();
    assert!(now.contains("[eks-breakglass-by-user]"), "{now}");
    assert!(
        now.contains("[work] # production account")
            && now.contains("AKIAWORKPROFILE")
            && now.contains("worksecret"),
        "the [work] profile was erased from the credentials file:\n{now}"
    );
}

/// The journal is the only proof of what a run made, and `Journal::open` (cleanup) trusts a
/// run directory and journal that anyone can write: only `Journal::create` checks the mode.
/// A journal line edited to name a colleague's key makes `cleanup --yes` delete that key.
#[test]
fn review_cleanup_refuses_a_journal_others_can_write_instead_of_deleting_the_key_it_names() {
    let w = World::start("getin");
    let creds = w.path("credentials");
    let jd = w.path("run");
    let out = keep_run(&w, &creds, &jd);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours: Vec<String> = w.access_keys("platform-admin");
    // A colleague's user and key, nothing to do with the run.
    w.aws(&["iam", "create-user", "--user-name", "colleague"]);
    let k = w.aws(&["iam", "create-access-key", "--user-name", "colleague"]);
    let colleague_key = k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    // Someone else can write the run directory (shared box, wrong umask, a dir they prepared).
    std::fs::set_permissions(&jd, std::fs::Permissions::from_mode(0o777)).unwrap();
    let jf = jd.join("journal.jsonl");
    std::fs::set_permissions(&jf, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut journal = std::fs::read_to_string(&jf).unwrap();
    for key in &ours {
        journal = journal.replace(key.as_str(), &colleague_key);
    }
    journal = journal.replace("\"platform-admin\"", "\"colleague\"");
    std::fs::write(&jf, journal).unwrap();

    let c = cleanup(&w, &jd, &[]);
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    assert_eq!(
        w.access_keys("colleague"),
        vec![colleague_key.clone()],
        "cleanup deleted the colleague's key {colleague_key} that a writable journal named:\n{all}"
    );
    assert!(!c.status.success(), "{all}");
}

/// `--credentials-file` implies keeping the key, but the path is only tried after
/// CreateAccessKey: a path that cannot be written (its parent is a file) leaves a live key of
/// the creator whose secret nobody has — exactly what refusing `--keep` without a file was
/// meant to prevent. The path must be checked before the first mutation, or the key deleted.
#[test]
fn review_an_unwritable_credentials_file_does_not_leave_a_live_key_nobody_has() {
    let w = World::start("getin");
    let keys_before = w.access_keys("platform-admin");
    let not_a_dir = w.path("not-a-dir");
    std::fs::write(&not_a_dir, "x").unwrap();
    let creds = not_a_dir.join("credentials");
    let out = keep_run(&w, &creds, &w.path("run"));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{all}");
    assert_eq!(
        w.access_keys("platform-admin"),
        keys_before,
        "a live key of the creator was left behind, its secret written nowhere:\n{all}"
    );
}

mod rollback {
    use super::common::world::text;
    use super::drill::Drill;
    use std::path::Path;

    fn cleanup(d: &Drill, dir: &Path, extra: &[&str]) -> std::process::Output {
        d.product()
            .arg("cleanup")
            .args(extra)
            .arg("--yes")
            .arg("--journal")
            .arg(dir)
            .output()
            .expect("cleanup")
    }

    /// In the incident drill the aws-auth before the run still maps one person (the dev-admin
    /// role), but not the operator who ran recover. `cleanup --rollback --yes` puts it back
    /// with no word that the operator running it is locked out again: the plan says only
    /// "1 person entry(ies) in force", and `--yes` alone applies it. The safety rule is to
    /// predict who gets in before applying; the operator losing access needs saying, by name,
    /// and a consent that names it.
    #[test]
    fn review_rollback_that_locks_the_operator_out_says_so_and_needs_more_than_yes() {
        let d = Drill::start("incident");
        let dir = d.run_dir("run");
        let out = d
            .product()
            .args(["recover", "--cluster", &d.cluster, "--yes", "--wait", "20"])
            .arg("--journal-dir")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let fixed = d.aws_auth_data();
        let operator = d.w.operator();
        let c = cleanup(&d, &dir, &["--rollback"]);
        let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
        assert_eq!(
            d.aws_auth_data(),
            fixed,
            "cleanup --rollback --yes locked the operator {operator} out again without saying so:\n{all}"
        );
        assert!(all.contains(&operator), "{all}");
    }

    /// A rollback deletes the run's access entry by principal alone. A colleague who deleted
    /// it and created their own entry for that principal (a new entry: new ARN, new createdAt,
    /// their own username and groups) loses it to `cleanup --rollback --force`, although the
    /// entry is provably not the run's any more.
    #[test]
    fn review_rollback_does_not_delete_an_access_entry_a_colleague_recreated() {
        let d = Drill::start("creator-deleted-api");
        let dir = d.run_dir("run");
        let out = d
            .product()
            .args(["recover", "--cluster", &d.cluster, "--yes", "--wait", "20"])
            .arg("--journal-dir")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let operator = d.w.operator();
        let entries = |d: &Drill| -> Vec<String> {
            d.w.eks_snapshot(&d.cluster)
                .into_iter()
                .filter(|l| l.starts_with("entry "))
                .collect()
        };
        assert!(entries(&d).iter().any(|e| e.contains(&operator)));
        // A colleague replaces it with an entry of their own for the same principal.
        d.w.aws(&[
            "eks",
            "delete-access-entry",
            "--cluster-name",
            &d.cluster,
            "--principal-arn",
            &operator,
        ]);
        d.w.aws(&[
            "eks",
            "create-access-entry",
            "--cluster-name",
            &d.cluster,
            "--principal-arn",
            &operator,
            "--username",
            "colleague-made",
            "--kubernetes-groups",
            "colleague-group",
        ]);
        let colleagues = d.w.aws(&[
            "eks",
            "describe-access-entry",
            "--cluster-name",
            &d.cluster,
            "--principal-arn",
            &operator,
        ]);
        let c = cleanup(&d, &dir, &["--rollback", "--force"]);
        let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
        let now =
            d.w.eks_snapshot(&d.cluster)
                .into_iter()
                .filter(|l| l.starts_with("entry ") && l.contains(&operator))
                .count();
        assert_eq!(
            now, 1,
            "the colleague's access entry {} was deleted by the rollback:\n{all}",
            colleagues["accessEntry"]["accessEntryArn"]
        );
    }
}

/// `cleanup --rollback` of a `record` run untags the keys the run added and re-tags the old
/// values without looking at what is there now: a colleague who corrected the recorded
/// creator afterwards (a different value under the same key) has the correction erased.
#[test]
fn review_rollback_of_record_keeps_a_tag_a_colleague_changed_since() {
    let w = World::start("getin");
    let jd = w.path("record-run");
    let out = w
        .product()
        .args(["record", "--cluster", "by-user", "--yes", "--journal-dir"])
        .arg(&jd)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cluster_arn = w.aws(&["eks", "describe-cluster", "--name", "by-user"])["cluster"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let corrected = arn("role/platform/real-creator");
    w.aws(&[
        "eks",
        "tag-resource",
        "--resource-arn",
        &cluster_arn,
        "--tags",
        &format!("eks-breakglass/creator-arn={corrected}"),
    ]);
    let c = cleanup(&w, &jd, &["--rollback"]);
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    let tags = w.aws(&["eks", "describe-cluster", "--name", "by-user"])["cluster"]["tags"].clone();
    assert_eq!(
        tags["eks-breakglass/creator-arn"],
        corrected.as_str(),
        "the rollback erased the colleague's tag; tags now {tags}:\n{all}"
    );
}

/// The run recreated a deleted creator user; a colleague then gives that same user (same
/// unique id, so the journal's ownership check passes) an access key of their own. Plain
/// `cleanup` deletes the user "with its keys and policies": the colleague's key, which the
/// journal never recorded, goes with it, with no word in the plan.
#[test]
fn review_cleanup_does_not_delete_a_colleagues_key_on_a_user_the_run_recreated() {
    let w = World::start("gone-user");
    let jd = w.path("run");
    let out = w
        .product()
        .args(["assume-creator", "--cluster", "gone-user", "--creator"])
        .arg(arn("user/people/ex-employee"))
        .args(["--yes", "--wait", "3", "--no-kubeconfig", "--journal-dir"])
        .arg(&jd)
        .output()
        .unwrap();
    assert!(jd.join("journal.jsonl").exists(), "{}", text(&out.stderr));
    let run_keys = w.access_keys("ex-employee");
    let k = w.aws(&["iam", "create-access-key", "--user-name", "ex-employee"]);
    let theirs = k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    let c = cleanup(&w, &jd, &[]);
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    let left = w.iam_snapshot().join("\n");
    assert!(
        left.contains(&theirs),
        "cleanup deleted the colleague's key {theirs} (run's keys were {run_keys:?}); IAM now {left}:\n{all}"
    );
}

/// The undo of a trust statement is a read-modify-write of the whole trust policy (IAM has no
/// compare-and-swap for it). A colleague's statement added between cleanup's GetRole and its
/// UpdateAssumeRolePolicy is erased, and cleanup reports success: it never reads the policy
/// back to check that only its statement went.
#[test]
fn review_trust_undo_does_not_erase_a_statement_added_while_cleanup_runs() {
    let w = World::start("getin");
    let role = "locked-deployer";
    let jd = w.path("a");
    let out = w
        .product()
        .args(["assume-creator", "--cluster", "by-locked-role", "--creator"])
        .arg(arn("role/ci/locked-deployer"))
        .args(["--yes", "--wait", "10", "--no-kubeconfig", "--journal-dir"])
        .arg(&jd)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let trap = Trap::start(&w.iam_url(), Rule::Hold("GetRole".into()));
    let child = w.spawn(
        &["cleanup", "--yes", "--journal", jd.to_str().unwrap()],
        &[("AWS_ENDPOINT_URL_IAM", &trap.url)],
    );
    assert!(
        trap.wait_hit(Duration::from_secs(60)),
        "cleanup never read the role"
    );
    // Meanwhile a colleague adds their own statement.
    let mut live: serde_json::Value =
        serde_json::from_str(&percent_decode(&w.raw_trust(role))).unwrap();
    let colleague = serde_json::json!({"Sid": "ColleagueMeanwhile", "Effect": "Allow", "Principal": {"AWS": arn("user/two-keys")}, "Action": "sts:AssumeRole"});
    live["Statement"]
        .as_array_mut()
        .unwrap()
        .push(colleague.clone());
    w.aws(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        role,
        "--policy-document",
        &live.to_string(),
    ]);
    trap.release();
    let (code, stdout, stderr) = finish(child);
    let after: serde_json::Value =
        serde_json::from_str(&percent_decode(&w.raw_trust(role))).unwrap();
    assert!(
        after["Statement"]
            .as_array()
            .is_some_and(|st| st.contains(&colleague)),
        "cleanup (exit {code:?}) erased the colleague's statement added while it ran; policy now {after}\n{stdout}{stderr}"
    );
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// A last record that is whole JSON but lacks its newline (a short write on a full disk, or
/// the file saved by an editor that drops the final newline) is a valid record to
/// `read_records` — `cleanup --dry-run` plans with it — but `Journal::open` cuts it off as a
/// "torn" tail before the real cleanup reads the journal. Here that record is the step_done
/// naming the key: the dry run says it deletes the key, the real cleanup then cannot tell
/// which key is the run's and deletes nothing, and the record is gone from the journal.
#[test]
fn review_a_whole_last_record_without_newline_is_not_cut_off_by_cleanup() {
    let w = World::start("getin");
    let creds = w.path("credentials");
    let jd = w.path("run");
    let out = keep_run(&w, &creds, &jd);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let jf = jd.join("journal.jsonl");
    let journal = std::fs::read_to_string(&jf).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    let done = lines
        .iter()
        .position(|l| l.contains("\"event\":\"step_done\""))
        .expect("step_done");
    let key: serde_json::Value = serde_json::from_str(lines[done]).unwrap();
    let key = key["undo"]["access_key_id"].as_str().unwrap().to_string();
    std::fs::write(&jf, lines[..=done].join("\n")).unwrap();

    let dry = w
        .product()
        .args(["cleanup", "--dry-run", "--yes", "--journal"])
        .arg(&jd)
        .output()
        .unwrap();
    assert!(
        text(&dry.stdout).contains(&format!("delete access key {key}")),
        "{}",
        text(&dry.stdout)
    );
    let c = cleanup(&w, &jd, &[]);
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    assert!(
        !w.access_keys("platform-admin").contains(&key),
        "the dry run planned to delete {key}; the real cleanup did not:\n{all}"
    );
    assert!(c.status.success(), "{all}");
}

/// The run's trust document is computed when the plan is made and written after the
/// operator confirms it, without reading the policy again: a colleague's statement added
/// while the plan sits at the "Apply?" prompt is overwritten by the run's write. (The undo
/// cannot bring it back either: it is not in the saved "before" copy.)
#[test]
fn review_adding_the_run_statement_after_the_prompt_keeps_a_statement_added_meanwhile() {
    use std::io::{Read as _, Write as _};
    let w = World::start("getin");
    let role = "locked-deployer";
    let jd = w.path("a");
    let bin = assert_cmd::cargo::cargo_bin("eks-breakglass");
    let line = format!(
        "{} assume-creator --cluster by-locked-role --creator {} --wait 10 --no-kubeconfig --journal-dir {}",
        bin.display(),
        arn("role/ci/locked-deployer"),
        jd.display()
    );
    // A terminal (script(1)) so that the product asks.
    let mut cmd = std::process::Command::new("script");
    for var in common::CLEAN_ENV_REMOVE {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .envs(common::CLEAN_ENV_SET.iter().copied())
        .envs(w.env_pairs())
        .args(["-qfec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    let mut seen = String::new();
    let start = std::time::Instant::now();
    while !seen.contains("Only 'yes' is accepted") {
        if let Ok(s) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push_str(&s);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no prompt: {seen}"
        );
    }
    // At the prompt, a colleague adds a statement.
    let mut live: serde_json::Value =
        serde_json::from_str(&percent_decode(&w.raw_trust(role))).unwrap();
    let colleague = serde_json::json!({"Sid": "ColleagueMeanwhile", "Effect": "Allow", "Principal": {"AWS": arn("user/two-keys")}, "Action": "sts:AssumeRole"});
    live["Statement"]
        .as_array_mut()
        .unwrap()
        .push(colleague.clone());
    w.aws(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        role,
        "--policy-document",
        &live.to_string(),
    ]);
    child.stdin.as_mut().unwrap().write_all(b"yes\n").unwrap();
    let status = child.wait().unwrap();
    while let Ok(s) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push_str(&s);
    }
    let after: serde_json::Value =
        serde_json::from_str(&percent_decode(&w.raw_trust(role))).unwrap();
    assert!(
        after["Statement"]
            .as_array()
            .is_some_and(|st| st.contains(&colleague)),
        "assume-creator ({status}) overwrote the colleague's statement added at the prompt; policy now {after}\n{seen}"
    );
}
