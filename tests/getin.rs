//! `assume-creator` against moto + eks-sim: every way in ends with a SelfSubjectReview (or the
//! refusal of a recreated principal), every change is journaled and undone by `cleanup`, and no
//! secret leaves the process unless asked.

mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, arn, text};
use support::{all_files, events};

fn assume(w: &World, cluster: &str, creator: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "assume-creator",
        "--cluster",
        cluster,
        "--creator",
        creator,
        "--wait",
        "3",
    ];
    args.extend_from_slice(extra);
    w.product().args(&args).output().expect("run")
}

#[test]
fn role_that_trusts_the_caller_is_assumed_without_any_change_and_kubectl_gets_in() {
    let w = World::start("getin");
    let before = w.iam_snapshot();
    let jd = w.path("run");
    let out = assume(
        &w,
        "by-role",
        &arn("role/ci/deployer"),
        &["--journal-dir", jd.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("0 change(s)"), "{stdout}");
    assert!(
        stdout.contains("sts:AssumeRole arn:aws:iam::123456789012:role/ci/deployer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("username kubernetes-admin, groups [system:masters"),
        "{stdout}"
    );
    // Nothing changed, so nothing journaled.
    assert!(!jd.exists());
    assert_eq!(w.iam_snapshot(), before);
    // The kubeconfig context works for kubectl, through `token --role-arn`.
    let kc = std::process::Command::new("kubectl")
        .args([
            "--context",
            "by-role-creator",
            "auth",
            "whoami",
            "-o",
            "json",
        ])
        .envs(w.env.clone())
        .env("KUBECONFIG", w.path("kubeconfig"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("kubectl");
    let who: serde_json::Value = serde_json::from_slice(&kc.stdout)
        .unwrap_or_else(|_| panic!("kubectl: {}", text(&kc.stderr)));
    assert_eq!(who["status"]["userInfo"]["username"], "kubernetes-admin");
}

#[test]
fn untrusting_role_gets_one_statement_that_cleanup_restores_byte_for_byte() {
    let w = World::start("getin");
    let before = w.raw_trust("locked-deployer");
    let jd = w.path("run");
    let j = jd.to_str().unwrap();

    // Dry run: the plan, no change.
    let dry = w
        .product()
        .args([
            "--dry-run",
            "assume-creator",
            "--cluster",
            "by-locked-role",
            "--creator",
        ])
        .arg(arn("role/ci/locked-deployer"))
        .output()
        .unwrap();
    assert!(dry.status.success());
    assert!(text(&dry.stdout).contains("iam:UpdateAssumeRolePolicy"));
    assert!(
        text(&dry.stdout).contains("exactly the statement"),
        "{}",
        text(&dry.stdout)
    );
    assert_eq!(w.raw_trust("locked-deployer"), before);

    // Without a terminal and without --yes: exit 4, nothing changed.
    let no = assume(
        &w,
        "by-locked-role",
        &arn("role/ci/locked-deployer"),
        &["--journal-dir", j],
    );
    assert_eq!(no.status.code(), Some(4), "{}", text(&no.stderr));
    assert_eq!(w.raw_trust("locked-deployer"), before);
    assert!(!jd.exists());

    // --require-mfa without an MFA device: refused before any change (AWS would refuse the
    // AssumeRole after the change: the statement admits MFA sessions only).
    let no_device = assume(
        &w,
        "by-locked-role",
        &arn("role/ci/locked-deployer"),
        &["--yes", "--journal-dir", j, "--require-mfa"],
    );
    assert_eq!(
        no_device.status.code(),
        Some(2),
        "{}",
        text(&no_device.stderr)
    );
    assert!(text(&no_device.stderr).contains("--mfa-serial"));
    assert_eq!(w.raw_trust("locked-deployer"), before);
    assert!(!jd.exists());

    let serial = w.enable_mfa("oncall");
    let out = assume(
        &w,
        "by-locked-role",
        &arn("role/ci/locked-deployer"),
        &[
            "--yes",
            "--journal-dir",
            j,
            "--require-mfa",
            "--mfa-serial",
            &serial,
            "--token-code",
            "123456",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("groups [system:masters"), "{stdout}");
    let during = w.raw_trust("locked-deployer");
    assert_ne!(during, before);
    let decoded = percent_decode(&during);
    assert!(
        decoded.contains("arn:aws:iam::123456789012:user/oncall"),
        "{decoded}"
    );
    assert!(decoded.contains("aws:MultiFactorAuthPresent"), "{decoded}");
    // The previous document is saved beside the journal, 0600, exactly as IAM had it.
    let saved = std::fs::read_to_string(jd.join("trust-policy-locked-deployer.json")).unwrap();
    assert_eq!(saved, percent_decode(&before));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(jd.join("trust-policy-locked-deployer.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&jd).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        events(&jd),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "note",
            "run_finished"
        ]
    );

    let c = w
        .product()
        .args(["cleanup", "--journal", j, "--yes"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(
        text(&c.stdout).contains("removed trust statement EksBreakglassTemporaryAccess"),
        "{}",
        text(&c.stdout)
    );
    assert!(text(&c.stdout).contains("byte for byte"));
    assert_eq!(
        w.raw_trust("locked-deployer"),
        before,
        "trust policy not byte-identical"
    );
    // Idempotent.
    let again = w
        .product()
        .args(["cleanup", "--journal", j, "--yes"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("Nothing to undo"),
        "{}",
        text(&again.stdout)
    );
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn user_gets_a_temporary_key_that_is_deleted_when_the_run_ends() {
    let w = World::start("getin");
    let keys_before = w.access_keys("platform-admin");
    let jd = w.path("run");
    let out = assume(
        &w,
        "by-user",
        &arn("user/admins/platform-admin"),
        &[
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
            "--output",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["route"]["route"], "temporary_key");
    assert_eq!(v["verification"]["result"], "authenticated");
    assert_eq!(v["verification"]["username"], "kubernetes-admin");
    assert!(
        v["verification"]["groups"]
            .as_array()
            .unwrap()
            .contains(&"system:masters".into())
    );
    assert_eq!(
        w.access_keys("platform-admin"),
        keys_before,
        "temporary key left behind"
    );
    let ev = events(&jd);
    assert!(ev.contains(&"undo_done:1".to_string()), "{ev:?}");
    // The journal names the key id, never its secret.
    let j = all_files(&jd);
    assert!(j.contains("\"access_key_id\""));
    assert!(!j.to_ascii_lowercase().contains("secret_access_key\":\""));
}

#[test]
fn a_kept_key_is_handed_over_only_as_asked_and_no_secret_leaks() {
    let w = World::start("getin");
    let keys_before = w.access_keys("platform-admin");
    let jd = w.path("run");
    let cred_file = w.path("creds");
    let out = assume(
        &w,
        "by-user",
        &arn("user/admins/platform-admin"),
        &[
            "--yes",
            "--journal-dir",
            jd.to_str().unwrap(),
            "--credentials-file",
            cred_file.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    let creds = std::fs::read_to_string(&cred_file).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&cred_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let secret = creds
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .expect("secret in the credentials file")
        .to_string();
    assert!(secret.len() >= 20);
    assert!(!stdout.contains(&secret), "secret on stdout");
    assert!(!stderr.contains(&secret), "secret on stderr");
    assert!(!all_files(&jd).contains(&secret), "secret in the journal");
    let kubeconfig = std::fs::read_to_string(w.path("kubeconfig")).unwrap();
    assert!(!kubeconfig.contains(&secret), "secret in the kubeconfig");
    assert!(kubeconfig.contains("AWS_SHARED_CREDENTIALS_FILE"));
    // The key was kept (handed over) and works for kubectl through the kubeconfig.
    assert_eq!(w.access_keys("platform-admin").len(), keys_before.len() + 1);
    let kc = std::process::Command::new("kubectl")
        .args([
            "--context",
            "by-user-creator",
            "auth",
            "whoami",
            "-o",
            "json",
        ])
        .env("KUBECONFIG", w.path("kubeconfig"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("kubectl");
    let who: serde_json::Value = serde_json::from_slice(&kc.stdout)
        .unwrap_or_else(|_| panic!("kubectl: {}", text(&kc.stderr)));
    assert!(
        who["status"]["userInfo"]["groups"]
            .as_array()
            .unwrap()
            .contains(&"system:masters".into())
    );
    // --print-env prints the export lines only when asked.
    assert!(!stdout.contains("export AWS_SECRET_ACCESS_KEY"));
    // cleanup deletes the kept key.
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.access_keys("platform-admin"), keys_before);
}

#[test]
fn a_user_with_two_keys_is_explained_and_left_alone() {
    let w = World::start("getin");
    let before = w.access_keys("two-keys");
    assert_eq!(before.len(), 2);
    let out = assume(&w, "by-two-keys", &arn("user/two-keys"), &["--yes"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("already has 2 access keys"), "{stdout}");
    assert!(
        stdout.contains("eks-breakglass grant --cluster by-two-keys"),
        "{stdout}"
    );
    assert_eq!(w.access_keys("two-keys"), before);
}

#[test]
fn a_recreated_user_is_refused_where_eks_matches_the_unique_id() {
    let w = World::start("gone-user");
    let before = w.iam_snapshot();
    let jd = w.path("run");
    let out = assume(
        &w,
        "gone-user",
        &arn("user/people/ex-employee"),
        &["--yes", "--journal-dir", jd.to_str().unwrap()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(5), "{stdout}{stderr}");
    assert!(stdout.contains("new unique id"), "{stdout}");
    assert!(stdout.contains("refused"), "{stdout}");
    assert!(
        stdout.contains("Next: eks-breakglass grant --cluster gone-user"),
        "{stdout}"
    );
    assert!(stderr.contains("recreated principal"), "{stderr}");
    // The recreated user stays (undoable); its temporary key is gone.
    assert!(
        w.iam("GetUser", &[("UserName", "ex-employee")])
            .contains("<UserName>ex-employee</UserName>")
    );
    assert!(w.access_keys("ex-employee").is_empty());
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(
        text(&c.stdout).contains("deleted user ex-employee"),
        "{}",
        text(&c.stdout)
    );
    assert_eq!(w.iam_snapshot(), before);
}

#[test]
fn the_same_recreation_gets_in_on_a_cluster_that_matches_the_creator_by_arn() {
    let w = World::start("gone-user-legacy");
    let out = assume(
        &w,
        "gone-user-legacy",
        &arn("user/people/ex-employee"),
        &["--yes", "--journal-dir", w.path("run").to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("username kubernetes-admin, groups [system:masters"),
        "{stdout}"
    );
}

#[test]
fn a_deleted_role_is_recreated_for_the_operator_only_and_cleanup_deletes_it() {
    let w = World::start("getin");
    let before = w.iam_snapshot();
    let jd = w.path("run");
    let out = assume(
        &w,
        "by-gone-role",
        &arn("role/ci/gone-deployer"),
        &["--yes", "--journal-dir", jd.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("iam:CreateRole"), "{stdout}");
    assert!(stdout.contains("eks:DescribeCluster"), "{stdout}");
    assert!(stdout.contains("refused"), "{stdout}");
    let trust = percent_decode(&w.raw_trust("gone-deployer"));
    assert!(
        trust.contains("arn:aws:iam::123456789012:user/oncall"),
        "{trust}"
    );
    assert!(!trust.contains(":root"), "{trust}");
    let c = w
        .product()
        .args(["cleanup", "--journal", jd.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert_eq!(w.iam_snapshot(), before);
}

#[test]
fn assume_role_is_retried_while_iam_propagates_the_new_trust_and_env_lines_only_when_asked() {
    let w = World::start("getin");
    // STS refuses the first two AssumeRole calls, as it does for seconds after a trust change.
    let trap = support::Trap::start(
        &w.iam_url(),
        support::Rule::Deny("sts:AssumeRole".into(), Some(2)),
    );
    let out = w
        .product()
        .env("AWS_ENDPOINT_URL_STS", &trap.url)
        .args(["assume-creator", "--cluster", "by-locked-role", "--creator"])
        .arg(arn("role/ci/locked-deployer"))
        .args([
            "--yes",
            "--wait",
            "20",
            "--print-env",
            "--no-kubeconfig",
            "--journal-dir",
        ])
        .arg(w.path("run"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(trap.denied(), 2);
    assert!(stdout.contains("groups [system:masters"), "{stdout}");
    assert!(stdout.contains("export AWS_SESSION_TOKEN="), "{stdout}");
    assert!(!w.path("kubeconfig").exists());
}

#[test]
fn the_creator_itself_changes_nothing_and_gets_a_kubeconfig_context() {
    let w = World::start("aws-auth-write");
    let out = w
        .product()
        .args(["assume-creator", "--cluster", "restore-me", "--creator"])
        .arg(arn("user/oncall"))
        .args(["--alias", "breakglass"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("you already are the creator"), "{stdout}");
    assert!(stdout.contains("groups [system:masters"), "{stdout}");
    assert!(stdout.contains("kubeconfig context breakglass"), "{stdout}");
    // No change, so no run directory.
    assert!(!w.path("state/eks-breakglass/runs").exists());
}

#[test]
fn a_role_that_asks_for_mfa_is_assumed_with_it_and_handed_over_by_file() {
    let w = World::start("getin");
    let creator = arn("role/ci/mfa-deployer");
    let no_mfa = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-mfa-role",
            "--creator",
            &creator,
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(no_mfa.status.code(), Some(2), "{}", text(&no_mfa.stderr));
    assert!(text(&no_mfa.stderr).contains("--mfa-serial"));

    // A device that is not the caller's is refused by STS (AccessDenied, not retried).
    let not_mine = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-mfa-role",
            "--creator",
            &creator,
            "--yes",
            "--mfa-serial",
            &arn("mfa/oncall"),
            "--token-code",
            "123456",
        ])
        .output()
        .unwrap();
    assert!(!not_mine.status.success());
    assert!(
        text(&not_mine.stderr).contains("refusal, not propagation"),
        "{}",
        text(&not_mine.stderr)
    );
    w.enable_mfa("oncall");

    let file = w.path("creds");
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-mfa-role",
            "--creator",
            &creator,
            "--yes",
        ])
        .args([
            "--mfa-serial",
            &arn("mfa/oncall"),
            "--token-code",
            "123456",
            "--duration",
            "900",
        ])
        .arg("--credentials-file")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("MFA required"), "{stdout}");
    assert!(stdout.contains("groups [system:masters"), "{stdout}");
    let creds = std::fs::read_to_string(&file).unwrap();
    assert!(creds.contains("aws_session_token = "));
    // Session credentials say when they expire (file and hand-over line).
    assert!(creds.contains("credentials expire at "), "{creds}");
    assert!(stdout.contains("they expire at "), "{stdout}");
    // kubectl's token reads the session from the file (it could not answer an MFA prompt).
    let kubeconfig = std::fs::read_to_string(w.path("kubeconfig")).unwrap();
    assert!(
        kubeconfig.contains("AWS_SHARED_CREDENTIALS_FILE"),
        "{kubeconfig}"
    );
    assert!(!kubeconfig.contains("--role-arn"), "{kubeconfig}");
}
