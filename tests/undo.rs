//! Undo never widens access and never erases someone else's change: a run's trust statement
//! is taken out exactly (two operators and a colleague on one role), files in the run
//! directory are trusted only as far as the journal vouches for them, IAM objects are deleted
//! only when the journal proves they are the run's, one process at a time owns a run, and the
//! signals a closed terminal or `kill` send are handled like Ctrl-C.

mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, arn, finish, signal, text, xml_all};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;
use support::{Rule, Trap, events};

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

/// The trust policy as a JSON value.
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

/// A second operator: an IAM user with a key, made through the world's IAM endpoint.
fn second_operator(w: &World) -> (String, String) {
    w.aws(&["iam", "create-user", "--user-name", "second-oncall"]);
    let k = w.aws(&["iam", "create-access-key", "--user-name", "second-oncall"]);
    (
        k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string(),
        k["AccessKey"]["SecretAccessKey"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

fn assume_locked(w: &World, jd: &std::path::Path, creds: Option<&(String, String)>) {
    let mut cmd = w.product();
    if let Some((id, secret)) = creds {
        cmd.env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
    let out = cmd
        .args(["assume-creator", "--cluster", "by-locked-role", "--creator"])
        .arg(arn("role/ci/locked-deployer"))
        .args(["--yes", "--wait", "10", "--no-kubeconfig", "--journal-dir"])
        .arg(jd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
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

#[test]
fn two_operators_and_a_colleague_share_a_trust_policy_and_cleanups_in_either_order_keep_the_colleagues_statement()
 {
    let w = World::start("getin");
    let b = second_operator(&w);
    for (round, a_first) in [(1, true), (2, false)] {
        let baseline = trust(&w);
        let (ja, jb) = (w.path(&format!("a{round}")), w.path(&format!("b{round}")));
        assume_locked(&w, &ja, None);
        assume_locked(&w, &jb, Some(&b));
        // Both operators' statements are there, side by side.
        let both = trust(&w);
        let principals: Vec<String> = statements(&both)
            .iter()
            .map(|s| s["Principal"]["AWS"].to_string())
            .collect();
        assert!(
            principals.iter().any(|p| p.contains("user/oncall"))
                && principals.iter().any(|p| p.contains("user/second-oncall")),
            "{both:#}"
        );
        // A colleague adds a statement meanwhile.
        let colleague = json!({"Sid": format!("Colleague{round}"), "Effect": "Allow", "Principal": {"AWS": arn("user/two-keys")}, "Action": "sts:AssumeRole"});
        let mut with_colleague = both.clone();
        with_colleague["Statement"]
            .as_array_mut()
            .unwrap()
            .push(colleague.clone());
        w.aws(&[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            ROLE,
            "--policy-document",
            &with_colleague.to_string(),
        ]);
        let order = if a_first { [&ja, &jb] } else { [&jb, &ja] };
        for jd in order {
            let c = cleanup(&w, jd, &[]);
            assert!(c.status.success(), "{}{}", text(&c.stdout), text(&c.stderr));
        }
        let mut expected = baseline.clone();
        let mut st = statements(&baseline);
        st.push(colleague);
        expected["Statement"] = Value::Array(st);
        assert_eq!(trust(&w), expected, "round {round}");
    }
}

#[test]
fn a_pre_placed_file_in_the_run_directory_is_refused_and_a_tampered_one_is_never_used() {
    let w = World::start("getin");
    let before = w.iam_snapshot();
    // A directory with content is not a fresh run directory: refused before any change.
    let planted = w.path("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::write(planted.join("aws-auth.written.json"), "{}").unwrap();
    let out = w
        .product()
        .args(["assume-creator", "--cluster", "by-locked-role", "--creator"])
        .arg(arn("role/ci/locked-deployer"))
        .args(["--yes", "--no-kubeconfig", "--journal-dir"])
        .arg(&planted)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is not empty; a run directory must be new"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(w.iam_snapshot(), before, "nothing changed");

    // A saved trust policy replaced after the run: cleanup refuses to use it.
    let jd = w.path("run");
    assume_locked(&w, &jd, None);
    let patched = trust(&w);
    let file = jd.join("trust-policy-locked-deployer.json");
    std::fs::write(
        &file,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    let c = cleanup(&w, &jd, &[]);
    assert_eq!(c.status.code(), Some(1));
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    assert!(all.contains("changed after this run saved it"), "{all}");
    assert_eq!(trust(&w), patched, "nothing written from a tampered file");
    assert!(!w.raw_trust(ROLE).contains("%22%2A%22"), "no Principal *");
}

#[test]
fn a_colleagues_key_made_while_the_run_was_cut_off_is_never_deleted() {
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
    signal(&child, "KILL");
    finish(child);
    trap.release();
    // The run's key exists; a colleague makes one in the same window (after deleting an old
    // one: IAM allows two).
    for k in &keys_before {
        w.iam(
            "DeleteAccessKey",
            &[("UserName", "platform-admin"), ("AccessKeyId", k)],
        );
    }
    let runs = w.access_keys("platform-admin");
    assert_eq!(runs.len(), 1);
    let colleague = xml_all(
        &w.iam("CreateAccessKey", &[("UserName", "platform-admin")]),
        "AccessKeyId",
    )
    .pop()
    .unwrap();
    let c = cleanup(&w, &jd, &[]);
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    assert_eq!(c.status.code(), Some(1), "{all}");
    assert!(all.contains("cannot tell which key"), "{all}");
    assert!(all.contains(&colleague) && all.contains(&runs[0]), "{all}");
    assert_eq!(w.access_keys("platform-admin").len(), 2, "none deleted");
    // The operator names the run's key: only that one goes.
    let c = cleanup(&w, &jd, &["--delete-key", &runs[0]]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.access_keys("platform-admin"), vec![colleague]);
}

#[test]
fn a_user_recreated_by_someone_else_after_the_run_is_not_deleted() {
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
    // The recreated user is refused by EKS (new unique id); the user stays until cleanup.
    assert!(jd.join("journal.jsonl").exists(), "{}", text(&out.stderr));
    assert!(
        w.iam("GetUser", &[("UserName", "ex-employee")])
            .contains("ex-employee"),
        "{}",
        text(&out.stderr)
    );
    // Someone deletes it and creates a user of the same name: another principal.
    for k in w.access_keys("ex-employee") {
        w.iam(
            "DeleteAccessKey",
            &[("UserName", "ex-employee"), ("AccessKeyId", &k)],
        );
    }
    w.iam("DeleteUser", &[("UserName", "ex-employee")]);
    w.iam(
        "CreateUser",
        &[("UserName", "ex-employee"), ("Path", "/people/")],
    );
    let theirs = xml_all(&w.iam("GetUser", &[("UserName", "ex-employee")]), "UserId");
    let c = cleanup(&w, &jd, &[]);
    let all = format!("{}{}", text(&c.stdout), text(&c.stderr));
    assert_eq!(c.status.code(), Some(1), "{all}");
    assert!(all.contains("recreated by someone else"), "{all}");
    assert_eq!(
        xml_all(&w.iam("GetUser", &[("UserName", "ex-employee")]), "UserId"),
        theirs,
        "their user stays"
    );
}

#[test]
fn a_second_shell_cannot_clean_up_a_run_that_is_still_alive() {
    let w = World::start("getin");
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
            "--wait",
            "10",
            "--no-kubeconfig",
            "--journal-dir",
            jd.to_str().unwrap(),
        ],
        &[("AWS_ENDPOINT_URL_IAM", &trap.url)],
    );
    assert!(trap.wait_hit(Duration::from_secs(60)));
    let patched = w.raw_trust(ROLE);
    for extra in [&[][..], &["--dry-run"][..]] {
        let c = w
            .product()
            .args(extra)
            .arg("cleanup")
            .arg("--journal")
            .arg(&jd)
            .arg("--yes")
            .output()
            .unwrap();
        assert!(!c.status.success());
        assert!(
            text(&c.stderr).contains("is still alive"),
            "{}",
            text(&c.stderr)
        );
    }
    assert_eq!(w.raw_trust(ROLE), patched, "the live run was not undone");
    trap.release();
    let (code, out, err) = finish(child);
    assert_eq!(code, Some(0), "{out}{err}");
    let started = events(&jd).iter().filter(|e| *e == "run_started").count();
    assert_eq!(started, 1, "one writer in the journal");
    // Once it ended, cleanup works.
    let c = cleanup(&w, &jd, &[]);
    assert!(c.status.success(), "{}", text(&c.stderr));
}

#[test]
fn sigterm_and_sighup_delete_the_temporary_key_like_ctrl_c() {
    for sig in ["TERM", "HUP"] {
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
        signal(&child, sig);
        std::thread::sleep(Duration::from_millis(300));
        trap.release();
        let (code, stdout, stderr) = finish(child);
        assert_eq!(code, Some(130), "SIG{sig}: {stdout}{stderr}");
        assert!(stderr.contains(&format!("SIG{sig}")), "{stderr}");
        assert!(stderr.contains("undone: deleted access key"), "{stderr}");
        assert_eq!(w.access_keys("platform-admin"), keys_before);
        assert!(events(&jd).contains(&"undo_done:1".to_string()));
    }
}

#[test]
fn a_failed_assume_creator_removes_its_trust_statement() {
    let w = World::start("getin");
    let before = w.raw_trust(ROLE);
    let trap = Trap::start(&w.iam_url(), Rule::Deny("sts:AssumeRole".into(), None));
    let jd = w.path("run");
    let out = w
        .product()
        .env("AWS_ENDPOINT_URL_STS", &trap.url)
        .args(["assume-creator", "--cluster", "by-locked-role", "--creator"])
        .arg(arn("role/ci/locked-deployer"))
        .args(["--yes", "--wait", "2", "--no-kubeconfig", "--journal-dir"])
        .arg(&jd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("removed trust statement"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(w.raw_trust(ROLE), before);
}

#[test]
fn keep_without_a_credentials_file_is_refused_and_the_file_keeps_other_profiles() {
    let w = World::start("getin");
    let keys_before = w.access_keys("platform-admin");
    let creator = arn("user/admins/platform-admin");
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-user",
            "--creator",
            &creator,
        ])
        .args(["--yes", "--keep", "--no-kubeconfig"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--credentials-file"));
    assert_eq!(w.access_keys("platform-admin"), keys_before, "no key made");

    // With a file: only the profile's section is written, [default] stays, a backup is made.
    let creds = w.path("credentials");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = AKIADEFAULT\nregion = x\n",
    )
    .unwrap();
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-user",
            "--creator",
            &creator,
        ])
        .args(["--yes", "--keep", "--no-kubeconfig", "--wait", "10"])
        .arg("--credentials-file")
        .arg(&creds)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let now = std::fs::read_to_string(&creds).unwrap();
    assert!(
        now.starts_with("[default]\naws_access_key_id = AKIADEFAULT\nregion = x\n"),
        "{now}"
    );
    assert!(now.contains("[eks-breakglass-by-user]"), "{now}");
    assert_eq!(
        std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let backups: Vec<_> = std::fs::read_dir(w.path(""))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("credentials.eks-breakglass-backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1);

    // A user at the two-keys limit: the kept key is named as ours, with its cleanup command.
    if w.access_keys("platform-admin").len() < 2 {
        w.iam("CreateAccessKey", &[("UserName", "platform-admin")]);
    }
    let kept: Vec<String> = w.access_keys("platform-admin");
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-user",
            "--creator",
            &creator,
        ])
        .args(["--yes", "--no-kubeconfig"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("was created by an earlier eks-breakglass run and kept"),
        "{stdout}"
    );
    assert!(
        stdout.contains("eks-breakglass cleanup --journal"),
        "{stdout}"
    );
    assert!(kept.iter().any(|k| stdout.contains(k)));
}

#[test]
fn an_existing_journal_directory_keeps_its_mode_and_a_torn_journal_still_cleans_up() {
    let w = World::start("getin");
    let before = w.raw_trust(ROLE);
    let jd = w.path("given");
    std::fs::create_dir(&jd).unwrap();
    std::fs::set_permissions(&jd, std::fs::Permissions::from_mode(0o750)).unwrap();
    assume_locked(&w, &jd, None);
    assert_eq!(
        std::fs::metadata(&jd).unwrap().permissions().mode() & 0o777,
        0o750
    );
    // The process died while writing a line.
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(jd.join("journal.jsonl"))
        .unwrap()
        .write_all(b"{\"seq\":99,\"time\":\"2026")
        .unwrap();
    for _ in 0..2 {
        let c = cleanup(&w, &jd, &[]);
        assert!(c.status.success(), "{}{}", text(&c.stdout), text(&c.stderr));
    }
    assert_eq!(w.raw_trust(ROLE), before);
    // Every line of the journal is whole again.
    support::journal(&jd);
}

#[test]
fn a_mode_switch_cut_off_mid_flight_is_shown_by_cleanup() {
    let w = World::start("getin");
    let trap = Trap::start(
        &w.env_value("AWS_ENDPOINT_URL_EKS"),
        Rule::Hold("POST /clusters/by-user/update-config".into()),
    );
    let jd = w.path("run");
    let child = w.spawn(
        &[
            "grant",
            "--cluster",
            "by-user",
            "--allow-auth-mode-change",
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
    let c = cleanup(&w, &jd, &["--dry-run"]);
    let out = text(&c.stdout);
    assert!(
        out.contains("started but never recorded as finished") && out.contains("cannot be undone"),
        "{out}{}",
        text(&c.stderr)
    );
}
