//! Review of the undo change: each test is a break found by a hostile reviewer, reproduced
//! against moto + eks-sim with the real binary. They fail until the product is fixed.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;

use common::world::{World, arn, text};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;

const ROLE: &str = "locked-deployer";

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

fn trust(w: &World) -> Value {
    serde_json::from_str(&percent_decode(&w.raw_trust(ROLE))).expect("trust JSON")
}

fn statements(v: &Value) -> Vec<Value> {
    match &v["Statement"] {
        Value::Array(a) => a.clone(),
        o @ Value::Object(_) => vec![o.clone()],
        _ => vec![],
    }
}

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
}
