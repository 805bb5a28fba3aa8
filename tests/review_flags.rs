//! Review of the `flags` change: each test is a break found by a hostile reviewer, run against
//! moto + eks-sim with the real binary.

mod common;
#[path = "recover_support/mod.rs"]
mod drill;

use common::world::{arn, text};
use drill::Drill;
use std::io::BufRead as _;

/// The on-call engineer pipes recover into `head` (or the terminal goes away): stdout closes
/// after the plan, while the run holds a temporary key of the creator. The run must still delete
/// that key (temporary keys are deleted on failure), not vanish with exit 141.
#[test]
fn a_stdout_closed_mid_recover_still_deletes_the_temporary_key() {
    let d = Drill::start("incident");
    let keys_before = d.w.access_keys("platform-admin");
    let dir = d.run_dir("run");
    let mut child = d.w.spawn(
        &[
            "recover",
            "--cluster",
            &d.cluster,
            "--yes",
            "--journal-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    // Read the triage and the plan, then go away (like `| head -40`).
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut seen = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        seen.push_str(&l);
        seen.push('\n');
        if l.contains("write the incident report") {
            break;
        }
    }
    drop(lines);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    let keys_after = d.w.access_keys("platform-admin");
    assert!(
        seen.contains("create a temporary access key"),
        "the plan: {seen}"
    );
    assert_eq!(
        keys_after,
        keys_before,
        "a temporary key of the creator was left behind (exit {:?}); stderr: {stderr}; journal: {}",
        out.status.code(),
        std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default()
    );
    // Treated as an interruption: undone, journaled as such, the hint on stderr, exit 141.
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default();
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(journal.contains(r#""status":"interrupted""#), "{journal}");
    assert!(stderr.contains("standard output was closed"), "{stderr}");
}

/// The JSON documents on stdout (a script does `json.load(stdout)`: it needs exactly one).
fn json_docs(stdout: &str) -> Result<Vec<serde_json::Value>, String> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{e}: {stdout}"))
}

/// `--format` is kept as a hidden alias of `--output`, and `-o=json` is clap's spelling of
/// `-o json`: a usage error with either must be JSON on stdout as with `-o json`.
#[test]
fn a_usage_error_is_json_on_stdout_with_every_spelling_of_output_json() {
    let mut failures = Vec::new();
    for spelling in [
        &["--format", "json"][..],
        &["--format=json"][..],
        &["-o=json"][..],
        &["--output", "json"][..],
    ] {
        let out = common::product()
            .args(["aws-auth", "lint"])
            .args(spelling)
            .args(["--no-such-flag", "x.yaml"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{spelling:?}");
        let stdout = text(&out.stdout);
        let docs = json_docs(&stdout);
        if !matches!(&docs, Ok(d) if d.len() == 1 && d[0]["error"].is_object()) {
            failures.push(format!(
                "{spelling:?}: stdout is not one JSON error: {stdout:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With `-o json`, recover whose `--verify-as` identity is refused prints its report as JSON
/// and then the error as JSON: stdout holds two documents, which `jq .report` or
/// `json.load` cannot read as one result.
#[test]
fn recover_with_output_json_prints_one_json_document_when_verification_fails() {
    let d = Drill::start("incident");
    d.w.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "nobody-maps-me",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    ]);
    let dir = d.run_dir("run");
    let out = d
        .product()
        .args([
            "recover",
            "--cluster",
            &d.cluster,
            "--yes",
            "-o",
            "json",
            "--journal-dir",
        ])
        .arg(&dir)
        .args(["--verify-as", &arn("role/nobody-maps-me")])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let docs = json_docs(&stdout).unwrap();
    assert_eq!(
        docs.len(),
        1,
        "stdout holds {} JSON documents: {:?}",
        docs.len(),
        docs.iter()
            .map(|d| d.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
}

/// `aws-auth lint -o json` of a file it cannot read (missing, empty, over the size cap) prints
/// a clean lint result — `{"errors": 0, "warnings": 0, "files": []}` — before the JSON error:
/// a CI gate doing `jq .errors` reads 0 for a file that was never linted.
#[test]
fn lint_output_json_of_an_unreadable_file_is_only_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.yaml");
    let mut failures = Vec::new();
    for f in [&missing, &empty] {
        let out = common::product()
            .args(["aws-auth", "lint", "-o", "json"])
            .arg(f)
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
        let docs = json_docs(&stdout).unwrap();
        if docs.len() != 1 || !docs[0]["error"].is_object() {
            failures.push(format!("{}: stdout: {stdout}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const BROKEN: &str = r#"    creator: {user: oncall}
    awsAuth:
      mapRoles: |
        - rolearn: arn:aws:iam::123456789012:role/eks-node-role
          username: system:node:{{EC2PrivateDNSName}}
          groups:
            - system:bootstrappers
            - system:nodes
      mapUsers: |
        - userarn: arn:aws:iam::123456789012:user/alice
          username: alice
         groups: [system:masters]
"#;

/// Clusters `names`, each created by the operator with a broken aws-auth; role dev-admin exists
/// (the operator may assume it) and no aws-auth maps it.
fn broken_world(names: &[&str]) -> common::world::World {
    let clusters: String = names
        .iter()
        .map(|n| format!("  - name: {n}\n{BROKEN}"))
        .collect();
    common::world::World::start_yaml(&format!(
        "region: us-east-1
iam:
  users:
    - name: oncall
  roles:
    - name: eks-node-role
      trust: {{service: [ec2.amazonaws.com]}}
    - name: dev-admin
operator: oncall
clusters:
{clusters}cloudtrail:
  throttle: {{off: true}}
updateDelaySeconds: 1
"
    ))
}

fn restore(w: &common::world::World, cluster: &str, verify_as: &str) -> std::process::Output {
    w.product()
        .args(["aws-auth", "restore", "--cluster", cluster])
        .args(["--from", "salvage", "--yes", "--wait", "3"])
        .args(["--verify-as", verify_as])
        .args([
            "--journal-dir",
            w.path(&format!("run-{cluster}")).to_str().unwrap(),
        ])
        .output()
        .unwrap()
}

/// `--verify-as` takes a role ARN (it is assumed after the write). A user ARN or a bare name
/// can never be verified, yet that is only found out after aws-auth was written: bad input must
/// be refused (exit 2) before the first change, as every other input.
#[test]
fn a_verify_as_that_is_not_a_role_arn_is_refused_before_aws_auth_is_written() {
    let w = broken_world(&["c0", "c1"]);
    let mut failures = Vec::new();
    for (cluster, bad) in [("c0", arn("user/oncall")), ("c1", "dev-admin".to_string())] {
        let path = format!("clusters/{cluster}/aws-auth");
        let before = w.admin_get(&path);
        let out = restore(&w, cluster, &bad);
        let after = w.admin_get(&path);
        if out.status.code() != Some(2) || after != before {
            failures.push(format!(
                "--verify-as {bad}: exit {:?}, aws-auth {}: {}",
                out.status.code(),
                if after == before {
                    "unchanged"
                } else {
                    "WRITTEN"
                },
                text(&out.stderr)
                    .lines()
                    .rev()
                    .take(6)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// "--verify-as means one thing: the identity must get in". When aws-auth already matches
/// (a second run, or a colleague fixed it), restore has nothing to write — and then does not
/// verify the named identity at all: exit 0 for a role nobody maps.
#[test]
fn a_refused_verify_as_fails_restore_even_when_there_is_nothing_to_write() {
    let w = broken_world(&["c0"]);
    let first = restore(&w, "c0", &arn("role/dev-admin"));
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    // The same command again: aws-auth is already the salvaged one; dev-admin still refused.
    let out = w
        .product()
        .args(["aws-auth", "restore", "--cluster", "c0"])
        .args(["--from", "salvage", "--yes", "--wait", "3"])
        .args(["--verify-as", &arn("role/dev-admin")])
        .args(["--journal-dir", w.path("run-again").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "dev-admin is refused, yet: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `AWS_PROFILE=creator eks-breakglass kubeconfig --cluster theirs`: the run signs in as the
/// creator profile, but the context it writes names no profile, so kubectl (in a shell without
/// that AWS_PROFILE: another terminal, a later shift) signs in as the default identity. The
/// AWS CLI's `update-kubeconfig` pins the session's profile — from --profile *or* AWS_PROFILE —
/// in the context (awscli/customizations/eks/update_kubeconfig.py: `if self._session.profile:`
/// env AWS_PROFILE).
#[test]
fn a_kubeconfig_context_written_under_aws_profile_signs_in_as_that_profile() {
    let w = common::world::World::start_yaml(
        r#"region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
      path: /admins/
operator: oncall
clusters:
  - name: theirs
    creator: {user: platform-admin}
    awsAuth:
      mapUsers: |
        - userarn: arn:aws:iam::123456789012:user/oncall
          username: oncall
          groups: [viewers]
cloudtrail:
  throttle: {off: true}
updateDelaySeconds: 1
"#,
    );
    let k = w.aws(&["iam", "create-access-key", "--user-name", "platform-admin"]);
    // A new key takes effect only after IAM's propagation delay: wait for it, as a user would.
    w.wait_for_key(
        k["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        k["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
    );
    let creds = w.path("aws-credentials");
    std::fs::write(
        &creds,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[creator]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            w.env_value("AWS_ACCESS_KEY_ID"),
            w.env_value("AWS_SECRET_ACCESS_KEY"),
            k["AccessKey"]["AccessKeyId"].as_str().unwrap(),
            k["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
        ),
    )
    .unwrap();
    let out = w
        .product()
        .args(["kubeconfig", "--cluster", "theirs", "--alias", "ctx"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_PROFILE", "creator")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // kubectl later, in a shell with the same files but AWS_PROFILE not set.
    let kc = std::process::Command::new("kubectl")
        .args(["--context", "ctx", "auth", "whoami", "-o", "json"])
        .envs(w.env.iter().cloned())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("KUBECONFIG", w.path("kubeconfig"))
        .output()
        .expect("kubectl");
    let who: serde_json::Value = serde_json::from_slice(&kc.stdout)
        .unwrap_or_else(|_| panic!("kubectl: {}{}", text(&kc.stdout), text(&kc.stderr)));
    let user = who["status"]["userInfo"]["username"]
        .as_str()
        .unwrap_or_default();
    assert_ne!(
        user,
        "oncall",
        "the context made under AWS_PROFILE=creator signs in as the default identity: {who}\nkubeconfig:\n{}",
        std::fs::read_to_string(w.path("kubeconfig")).unwrap_or_default()
    );
}

/// An unknown `--profile` is a usage error (exit 2) everywhere — except in `cleanup --dry-run`,
/// which shows the undo plan and exits 0: the dry run says "fine" for a command that then fails
/// (`cleanup --yes --profile nope` exits 2 after showing the same plan).
#[test]
fn cleanup_dry_run_refuses_an_unknown_profile_as_the_real_run_does() {
    let w = broken_world(&["c0"]);
    let out = w
        .product()
        .args(["record", "--cluster", "c0", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let real = w
        .product()
        .args(["cleanup", "--yes", "--profile", "nope"])
        .output()
        .unwrap();
    let dry = w
        .product()
        .args(["cleanup", "--dry-run", "--profile", "nope"])
        .output()
        .unwrap();
    assert_eq!(
        dry.status.code(),
        Some(2),
        "cleanup --dry-run --profile nope: {}{} (the real run: exit {:?})",
        text(&dry.stdout),
        text(&dry.stderr),
        real.status.code()
    );
}

/// An aws-auth manifest with a `padding` data key of `pad` bytes (and `binary` bytes of
/// binaryData, base64-encoded as kubectl prints it).
fn sized_aws_auth(pad: usize, binary: usize) -> (String, usize) {
    use base64::Engine as _;
    let map_roles = "- rolearn: arn:aws:iam::123456789012:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n";
    let mut s = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n",
    );
    for l in map_roles.lines() {
        s.push_str(&format!("    {l}\n"));
    }
    s.push_str(&format!("  padding: {}\n", "a".repeat(pad)));
    if binary > 0 {
        s.push_str(&format!(
            "binaryData:\n  blob: {}\n",
            base64::engine::general_purpose::STANDARD.encode(vec![0u8; binary])
        ));
    }
    (s, map_roles.len())
}

/// The API server's limit (ValidateConfigMap, pkg/apis/core/validation/validation.go) sums
/// `len(value)` over `data` and `binaryData` — values only, keys not counted, binaryData
/// counted — and refuses above 1 MiB. The product counts keys too and ignores binaryData, so
/// it refuses, as "the API server would refuse it", an aws-auth the cluster can hold, and
/// passes one it would refuse.
#[test]
fn the_one_mib_check_counts_what_the_api_server_counts() {
    let dir = tempfile::tempdir().unwrap();
    let lint = |name: &str, body: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, body).unwrap();
        let out = common::product()
            .args(["aws-auth", "lint"])
            .arg(&f)
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    let mut failures = Vec::new();
    // Values exactly 1 MiB: the API server stores it.
    let (_, roles) = sized_aws_auth(0, 0);
    let (body, _) = sized_aws_auth(1024 * 1024 - roles, 0);
    let (code, stderr) = lint("values-exactly-1mib.yaml", &body);
    if code != Some(0) {
        failures.push(format!(
            "data values of exactly 1 MiB (keys not counted by the API server): exit {code:?}: {stderr}"
        ));
    }
    // 600 000 bytes of data values + 600 000 bytes of binaryData: the API server refuses it.
    let (body, _) = sized_aws_auth(600_000, 600_000);
    let (code, stderr) = lint("with-binary-data.yaml", &body);
    if !stderr.contains("1 MiB") {
        failures.push(format!(
            "data + binaryData over 1 MiB passes: exit {code:?}: {stderr}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `assume-creator --print-env` keeps the key because its secret is handed over on stdout. When
/// stdout is gone (the reader left after the plan) the hand-over fails — exit 141 — yet the key
/// stays live, and its secret was printed to nobody: issue 15 item 6's "a live key whose
/// secret nobody has". A failed hand-over must delete the key.
#[test]
fn a_stdout_closed_in_assume_creator_still_deletes_the_temporary_key() {
    let w = common::world::World::start_yaml(
        r#"region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
      path: /admins/
operator: oncall
clusters:
  - name: theirs
    creator: {user: platform-admin}
    awsAuth:
      mapUsers: |
        - userarn: arn:aws:iam::123456789012:user/alice
          username: alice
         groups: [system:masters]
cloudtrail:
  throttle: {off: true}
updateDelaySeconds: 1
"#,
    );
    let keys_before = w.access_keys("platform-admin");
    let mut child = w.spawn(
        &[
            "assume-creator",
            "--cluster",
            "theirs",
            "--yes",
            "--wait",
            "3",
            "--print-env",
            "--no-kubeconfig",
            "--journal-dir",
            w.path("run").to_str().unwrap(),
        ],
        &[],
    );
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut seen = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        seen.push_str(&l);
        seen.push('\n');
        if l.contains("wait until IAM accepts the new key") {
            break;
        }
    }
    drop(lines);
    let out = child.wait_with_output().unwrap();
    assert!(seen.contains("create a temporary access key"), "{seen}");
    assert_eq!(
        w.access_keys("platform-admin"),
        keys_before,
        "the creator's temporary key is still live (exit {:?}); stderr: {}",
        out.status.code(),
        text(&out.stderr)
    );
}

/// `AWS_PROFILE` names the profile as `--profile` does (the AWS CLI treats both alike: "The
/// config profile (nope) could not be found"). With `AWS_PROFILE=nope` the product says it
/// "could not reach the AWS endpoint" and hints at the network and proxy: exit 1, the on-call
/// engineer debugs the network instead of the typo.
#[test]
fn an_unknown_aws_profile_from_the_environment_is_named_not_blamed_on_the_network() {
    let w = broken_world(&["c0"]);
    let creds = w.path("aws-credentials");
    std::fs::write(
        &creds,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            w.env_value("AWS_ACCESS_KEY_ID"),
            w.env_value("AWS_SECRET_ACCESS_KEY"),
        ),
    )
    .unwrap();
    let aws = std::process::Command::new(common::venv_bin("aws"))
        .args(["sts", "get-caller-identity"])
        .envs(w.env.iter().cloned())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_PROFILE", "nope")
        .output()
        .unwrap();
    assert!(
        text(&aws.stderr).contains("could not be found"),
        "the AWS CLI: {}",
        text(&aws.stderr)
    );
    let out = w
        .product()
        .args(["diagnose", "--cluster", "c0"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_PROFILE", "nope")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        out.status.code() == Some(2)
            && stderr.contains("'nope' could not be found")
            && !stderr.contains("check the network"),
        "exit {:?}: {stderr}",
        out.status.code()
    );
}

/// `--credentials-file` writes "an AWS shared-credentials profile"; given the operator's own
/// ~/.aws/credentials (the natural place for a profile), it replaces the whole file: every
/// other profile — the operator's own keys, needed for `cleanup` — is gone. (Pre-existing, not
/// from this change; found while attacking the creator context.)
#[test]
fn credentials_file_adds_its_profile_without_deleting_the_others() {
    let w = common::world::World::start_yaml(
        r#"region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
      path: /admins/
operator: oncall
clusters:
  - name: theirs
    creator: {user: platform-admin}
cloudtrail:
  throttle: {off: true}
updateDelaySeconds: 1
"#,
    );
    let creds = w.path("home-aws-credentials");
    let mine = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[prod-readonly]\naws_access_key_id = AKIAEXAMPLEREADONLY1\naws_secret_access_key = example\n",
        w.env_value("AWS_ACCESS_KEY_ID"),
        w.env_value("AWS_SECRET_ACCESS_KEY"),
    );
    std::fs::write(&creds, &mine).unwrap();
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "theirs",
            "--yes",
            "--wait",
            "3",
        ])
        .args(["--keep", "--no-kubeconfig", "--credentials-file"])
        .arg(&creds)
        .args(["--journal-dir", w.path("run").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&creds).unwrap();
    assert!(
        after.contains("[eks-breakglass-theirs]")
            && after.contains("[default]")
            && after.contains("[prod-readonly]"),
        "the operator's profiles were replaced; the file now holds:\n{}",
        after
            .lines()
            .filter(|l| l.starts_with('['))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `--region` is "repeatable or a comma list" in audit, with `--regions` kept as an alias:
/// `--region us-east-1,us-east-1` (or `--region us-east-1 --regions us-east-1`, a script half
/// migrated) audits every cluster twice — 4 clusters, 4 flagged, where there are 2.
#[test]
fn audit_counts_each_cluster_once_when_a_region_is_named_twice() {
    let w = broken_world(&["c0", "c1"]);
    let mut failures = Vec::new();
    for regions in [
        &["--region", "us-east-1,us-east-1"][..],
        &["--region", "us-east-1", "--regions", "us-east-1"][..],
    ] {
        let out = w
            .product()
            .args(["audit", "-o", "json"])
            .args(regions)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}{}", text(&out.stdout), text(&out.stderr)));
        if v["summary"]["clusters"] != 2 || v["summary"]["flagged"] != 2 {
            failures.push(format!("{regions:?}: summary {}", v["summary"]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// "An unknown profile is a usage error (as the AWS CLI)": everywhere exit 2 — but
/// `audit --profile nope` exits 1, an audit that "could not be audited", the same code as an
/// AWS outage in one account.
#[test]
fn audit_with_an_unknown_profile_is_a_usage_error_like_every_command() {
    let w = broken_world(&["c0"]);
    let out = w
        .product()
        .args(["audit", "--profile", "nope"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// eks-sim must be as strict as AWS: a cluster of us-east-1 is not found in eu-west-1. The sim
/// answers ListClusters/DescribeCluster in every region, so a product bug that uses the wrong
/// region (a `--region` lost between the global option and audit's list, a profile's region
/// winning over AWS_REGION) passes every test. Seen: `diagnose --region eu-west-1` describes
/// "Cluster c0 (eu-west-1): ACTIVE" and `audit --region eu-west-1` lists c0 and c1.
#[test]
fn eks_sim_does_not_find_a_cluster_in_another_region() {
    let w = broken_world(&["c0"]);
    let listed = w.aws(&["eks", "list-clusters", "--region", "eu-west-1"]);
    let out = w
        .product()
        .args(["diagnose", "--cluster", "c0", "--region", "eu-west-1"])
        .output()
        .unwrap();
    assert!(
        listed["clusters"].as_array().is_some_and(|c| c.is_empty()) && out.status.code() == Some(1),
        "eu-west-1 lists {listed}; diagnose there: exit {:?} {}",
        out.status.code(),
        text(&out.stdout).lines().next().unwrap_or_default()
    );
}

/// `aws-auth lint -o sarif` of a file it cannot read prints a SARIF log with zero results and no
/// failed invocation (exit 2, the error on stderr only): uploaded to code scanning, it reads as
/// "aws-auth clean". SARIF 2.1.0 says a failed run as `invocations[].executionSuccessful: false`
/// (with a toolExecutionNotification); printing no log at all would also do.
#[test]
fn lint_output_sarif_of_an_unreadable_file_does_not_look_clean() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let out = common::product()
        .args(["aws-auth", "lint", "-o", "sarif"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    if stdout.trim().is_empty() {
        return;
    }
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        serde_json::Value::Bool(false),
        "a SARIF log that reads as a clean run: {stdout}"
    );
}

/// The undo command a run prints (`Undo: eks-breakglass cleanup --journal DIR`) drops the
/// `--profile` the run was made with, and cleanup does not take it from the journal: run as
/// printed, in the same shell (keys of another identity exported), the undo acts as that other
/// identity — which may not be allowed to, or is simply not who the operator chose.
#[test]
fn the_printed_undo_command_acts_as_the_profile_the_run_used() {
    let w = broken_world(&["c0"]);
    let dir = w.path("aws");
    std::fs::create_dir_all(&dir).unwrap();
    let (config, creds) = (dir.join("config"), dir.join("credentials"));
    std::fs::write(
        &creds,
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            w.env_value("AWS_ACCESS_KEY_ID"),
            w.env_value("AWS_SECRET_ACCESS_KEY")
        ),
    )
    .unwrap();
    std::fs::write(
        &config,
        format!(
            "[profile admin]\nrole_arn = {}\nsource_profile = base\nregion = us-east-1\n",
            arn("role/dev-admin")
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        w.product()
            .args(args)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .output()
            .unwrap()
    };
    let out = run(&["record", "--cluster", "c0", "--profile", "admin", "--yes"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let tagged_by: Vec<String> = w
        .calls("eks", "TagResource")
        .iter()
        .map(|c| c["callerArn"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        tagged_by
            .iter()
            .all(|c| c.contains("assumed-role/dev-admin")),
        "{tagged_by:?}"
    );
    let undo = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Undo: eks-breakglass "))
        .unwrap_or_else(|| panic!("no undo line: {stdout}"))
        .to_string();
    w.clear_calls();
    let mut args: Vec<&str> = undo.split_whitespace().collect();
    args.push("--yes");
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let untagged_by: Vec<String> = w
        .calls("eks", "UntagResource")
        .iter()
        .map(|c| c["callerArn"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        !untagged_by.is_empty()
            && untagged_by
                .iter()
                .all(|c| c.contains("assumed-role/dev-admin")),
        "`{undo}` (as printed by `record --profile admin`) ran as {untagged_by:?}"
    );
}
