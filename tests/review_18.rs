//! Review of issue 18: breaks found in scripts/aws-acceptance.sh, the only part of the change
//! that touches real AWS. The script reads the eks-breakglass/acceptance=disposable tag with the
//! AWS CLI and then acts with the product; if the two resolve a different region or account,
//! the tag of one cluster licenses the breaking of another.
//!
//! The world here is a loopback stub (tests/review_18/sigv4_stub.py) that answers STS and EKS
//! DescribeCluster and logs the SigV4 credential scope (access key, region) of every request:
//! the cluster is tagged disposable only in eu-west-1 under the sandbox key. The real AWS CLI
//! (the pinned v1 in .venv, which the script's header supports) and the real product run
//! against it through AWS_ENDPOINT_URL_<SERVICE>.

#[path = "../build/info.rs"]
#[allow(dead_code)]
mod info;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Stub {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stub {
    fn start() -> Stub {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(root().join(".venv/bin/python"))
            .arg(root().join("tests/review_18/sigv4_stub.py"))
            .arg(dir.path().join("requests.log"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start stub");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        let port = line.trim().parse().expect("port number");
        std::fs::write(
            dir.path().join("config"),
            "[default]\nregion = eu-west-1\n[profile sandbox]\nregion = eu-west-1\n[profile prod]\nregion = eu-west-1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            "[default]\naws_access_key_id = AKIASANDBOX00000000\naws_secret_access_key = s\n\
             [sandbox]\naws_access_key_id = AKIASANDBOX00000000\naws_secret_access_key = s\n\
             [prod]\naws_access_key_id = AKIAPROD000000000000\naws_secret_access_key = p\n",
        )
        .unwrap();
        let kubectl = dir.path().join("kubectl");
        std::fs::write(
            &kubectl,
            "#!/bin/sh\necho \"kubectl $*\" >> \"$(dirname \"$0\")/kubectl.log\"\nexit 0\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
        Stub { child, port, dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Runs the kit with a clean environment plus `env`; returns (exit code, stderr+stdout).
    fn run_kit(&self, env: &[(&str, &str)], run_dir: &Path) -> (Option<i32>, String) {
        let endpoint = format!("http://127.0.0.1:{}", self.port);
        let out = Command::new("bash")
            .arg(root().join("scripts/aws-acceptance.sh"))
            .args(["--cluster", "shared", "--i-understand", "--run-dir"])
            .arg(run_dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.dir.path())
            .env("AWS_CONFIG_FILE", self.path("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_EKS", &endpoint)
            .env("AWS_ENDPOINT_URL_STS", &endpoint)
            .env(
                "EKS_BREAKGLASS",
                assert_cmd::cargo::cargo_bin("eks-breakglass"),
            )
            .env("AWS_CLI", root().join(".venv/bin/aws"))
            .env("PYTHON", root().join(".venv/bin/python"))
            .env("KUBECTL", self.path("kubectl"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("run aws-acceptance.sh");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        (out.status.code(), text)
    }

    /// (region, access key) of every EKS request, in order.
    fn eks_scopes(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.path("requests.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("eks "))
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f[1].to_string(), f[2].to_string())
            })
            .collect()
    }
}

/// The first EKS request is the script's tag check (AWS CLI); every later EKS request is the
/// product acting. All must address the same (region, account) as the tag check, or the script
/// must refuse.
fn assert_product_acts_where_the_tag_was_read(stub: &Stub, code: Option<i32>, out: &str) {
    let scopes = stub.eks_scopes();
    // A refusal (exit 2) before any AWS call is the safest outcome (the identity or region is
    // ambiguous, so nothing is read or acted on); otherwise the tag check must have happened.
    if scopes.is_empty() && code == Some(2) {
        return;
    }
    assert!(!scopes.is_empty(), "no EKS request: {out}");
    let checked = &scopes[0];
    let elsewhere: Vec<_> = scopes[1..].iter().filter(|s| *s != checked).collect();
    assert!(
        code == Some(2) || elsewhere.is_empty(),
        "the tag eks-breakglass/acceptance=disposable was read from the cluster in {checked:?} \
         (region, access key) but the product went on to act on {elsewhere:?}, whose cluster is \
         tagged 'prod' (exit {code:?}):\n{out}"
    );
}

#[test]
fn acceptance_kit_reads_the_tag_in_the_region_the_product_acts_on() {
    // AWS_REGION exported over a profile region: the product (and AWS CLI v2) use AWS_REGION;
    // AWS CLI v1 (pinned in .venv, supported by the script) ignores AWS_REGION and uses the
    // profile's region. The tag is read in eu-west-1, the product acts in us-west-2.
    let stub = Stub::start();
    let run_dir = stub.path("run-region");
    let (code, out) = stub.run_kit(&[("AWS_REGION", "us-west-2")], &run_dir);
    assert_product_acts_where_the_tag_was_read(&stub, code, &out);
}

#[test]
fn acceptance_kit_reads_the_tag_in_the_account_the_product_acts_on() {
    // AWS_DEFAULT_PROFILE wins over AWS_PROFILE in AWS CLI v1 (botocore); the product reads
    // AWS_PROFILE only. The tag is read with the sandbox account, the product acts with prod.
    let stub = Stub::start();
    let run_dir = stub.path("run-profile");
    let (code, out) = stub.run_kit(
        &[("AWS_DEFAULT_PROFILE", "sandbox"), ("AWS_PROFILE", "prod")],
        &run_dir,
    );
    assert_product_acts_where_the_tag_was_read(&stub, code, &out);
}

#[test]
fn a_refused_run_leaves_an_existing_run_dir_as_it_was() {
    // "Nothing was changed", says the refusal; but `chmod 700 "$run_dir"` ran on the user's
    // existing directory before the tag check (with --run-dir . or $HOME, or /tmp as root).
    use std::os::unix::fs::PermissionsExt;
    let stub = Stub::start();
    let run_dir = stub.path("mine");
    std::fs::create_dir(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out) = stub.run_kit(
        &[
            ("AWS_REGION", "us-west-2"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ],
        &run_dir,
    );
    assert_eq!(
        code,
        Some(2),
        "expected a refusal (untagged cluster): {out}"
    );
    let mode = std::fs::metadata(&run_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o755,
        "a refused run changed the mode of the existing --run-dir from 755 to {mode:o}: {out}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=r", "-c", "user.email=r@example.com"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

#[test]
fn version_follows_a_new_commit_after_git_packed_the_branch_ref() {
    // build.rs watches HEAD, packed-refs, refs/tags and the branch's loose ref *if it exists*.
    // After `git gc` / `git pack-refs` (git runs gc --auto by itself) the branch ref lives only
    // in packed-refs; the next commit writes a new loose ref and touches none of the watched
    // paths, so cargo keeps the old build script output and `version` names the old commit.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "Cargo.toml"]);
    git(d, &["commit", "-q", "-m", "one"]);
    git(d, &["pack-refs", "--all"]);
    let before = info::collect(d);
    assert_eq!(before.source, "git");
    let stamp = |p: &PathBuf| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let stamps: Vec<_> = before.watch.iter().map(stamp).collect();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"y\"\n").unwrap();
    git(d, &["commit", "-q", "-am", "two"]);
    let after = info::collect(d);
    assert_ne!(before.commit, after.commit);
    let changed: Vec<_> = before
        .watch
        .iter()
        .zip(&stamps)
        .filter(|(p, s)| stamp(p) != **s)
        .map(|(p, _)| p.clone())
        .collect();
    assert!(
        !changed.is_empty(),
        "a new commit ({}) changed none of the paths build.rs tells cargo to watch {:?}: \
         cargo keeps the stamped commit {} and `version` lies",
        after.commit,
        before.watch,
        before.commit
    );
}

#[test]
fn the_documented_cronjob_can_start_the_image() {
    // docs/container.md's CronJob sets runAsNonRoot: true and no runAsUser; the Dockerfile ends
    // with `USER nonroot:nonroot`, a name. The kubelet cannot verify a name and refuses to
    // start the container: "container has runAsNonRoot and image has non-numeric user
    // (nonroot), cannot verify user is non-root" (CreateContainerConfigError); see
    // kubernetes-sigs/cluster-proportional-autoscaler#109 (same base image, same USER line).
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let user = dockerfile
        .lines()
        .rev()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .next()
        .map(|u| u.trim().to_string())
        .unwrap_or_default();
    let doc = std::fs::read_to_string(root().join("docs/container.md")).unwrap();
    let non_root_without_uid = doc.contains("runAsNonRoot: true") && !doc.contains("runAsUser");
    let numeric = !user.is_empty()
        && user
            .split(':')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    assert!(
        !non_root_without_uid || user.is_empty() || numeric,
        "docs/container.md's CronJob (runAsNonRoot: true, no runAsUser) cannot start an image \
         whose USER is '{user}': use `USER 65532:65532` (or no USER: distroless :nonroot is \
         already 65532)"
    );
}

#[test]
fn man_dir_is_all_or_nothing_and_dry_run_predicts_the_failure() {
    // A page path that cannot be written (here a directory already has its name): the real run
    // writes the 24 pages before it and then fails (exit 1), half-written; --dry-run said all
    // was well (exit 0). Project rule: bad input gets a clear error and nothing is half-written.
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man");
    std::fs::create_dir_all(man.join("eks-breakglass-aws-auth-snapshot.1")).unwrap();
    let dry = Command::new(assert_cmd::cargo::cargo_bin("eks-breakglass"))
        .args(["man", "--dry-run", "--dir"])
        .arg(&man)
        .output()
        .unwrap();
    let real = Command::new(assert_cmd::cargo::cargo_bin("eks-breakglass"))
        .args(["man", "--dir"])
        .arg(&man)
        .output()
        .unwrap();
    let written = std::fs::read_dir(&man)
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert_eq!(
        dry.status.code(),
        real.status.code(),
        "--dry-run exit {:?} but the real run exit {:?}: {}",
        dry.status.code(),
        real.status.code(),
        String::from_utf8_lossy(&real.stderr)
    );
    assert!(
        real.status.success() || written == 0,
        "the failed run left {written} pages behind: {}",
        String::from_utf8_lossy(&real.stderr)
    );
}

#[test]
fn a_run_killed_after_the_break_does_not_report_passed() {
    // SIGTERM (a CI timeout) or SIGHUP (the SSH session drops) while `recover` runs, with
    // aws-auth broken for real: bash runs the EXIT trap with $? = 0, so report() writes
    // "acceptance: PASSED" into report.md and skips "The cluster's aws-auth may still be
    // broken ... put it back with ...". The product and kubectl are stand-ins here
    // (tests/review_18/fake-*): the break succeeds, recover takes a while.
    let stub = Stub::start();
    let run_dir = stub.path("run-killed");
    let endpoint = format!("http://127.0.0.1:{}", stub.port);
    let out_path = stub.path("out.txt");
    let mut child = Command::new("bash")
        .arg(root().join("scripts/aws-acceptance.sh"))
        .args(["--cluster", "shared", "--i-understand", "--run-dir"])
        .arg(&run_dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", stub.dir.path())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", stub.path("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", stub.path("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_EKS", &endpoint)
        .env("AWS_ENDPOINT_URL_STS", &endpoint)
        .env(
            "EKS_BREAKGLASS",
            root().join("tests/review_18/fake-eks-breakglass"),
        )
        .env("AWS_CLI", root().join(".venv/bin/aws"))
        .env("PYTHON", root().join(".venv/bin/python"))
        .env("KUBECTL", root().join("tests/review_18/fake-kubectl"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(stub.path("err.txt")).unwrap())
        .spawn()
        .unwrap();
    let mut seen = false;
    for _ in 0..120 {
        let err = std::fs::read_to_string(stub.path("err.txt")).unwrap_or_default();
        if err.contains("recover: working") {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(
        seen,
        "never reached recover: {}",
        std::fs::read_to_string(stub.path("err.txt")).unwrap_or_default()
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    // The fake recover (`sleep 5`) is orphaned by the signal and ends by itself.
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap_or_default();
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(
        !report.contains("acceptance: PASSED"),
        "killed (status {status:?}) during recover with aws-auth broken, yet report.md says:\n{report}"
    );
    assert!(
        out.contains("may still be broken") || report.contains("may still be broken"),
        "no way-back instructions after a kill with aws-auth broken:\n{out}\n{report}"
    );
}
