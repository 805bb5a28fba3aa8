//! Flags that must mean what AWS CLI and kubectl users expect, against moto + eks-sim:
//! an explicit `--profile` wins over exported keys (and an unknown one is an error), everywhere
//! a profile is handed on (kubeconfig contexts); `--dry-run` changes nothing in any command
//! that takes it; `--verify-as` means one thing.

mod common;

use common::world::{World, arn, text};
use common::{product, venv_bin};
use std::path::{Path, PathBuf};

/// A profile `name` with the given key in a credentials file, and a config file naming it
/// (with a region): both in `dir`. Returns (config file, credentials file).
fn profile_files(dir: &Path, name: &str, key: &str, secret: &str) -> (PathBuf, PathBuf) {
    let config = dir.join("aws-config");
    let creds = dir.join("aws-credentials");
    std::fs::write(&config, format!("[profile {name}]\nregion = us-east-1\n")).unwrap();
    std::fs::write(
        &creds,
        format!("[{name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    (config, creds)
}

/// A new access key of `user`, created through the world's IAM endpoint (so the sim can
/// verify tokens signed with it).
fn new_key(w: &World, user: &str) -> (String, String) {
    let k = w.aws(&["iam", "create-access-key", "--user-name", user]);
    let key = k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    let secret = k["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_string();
    // A new key takes effect only after IAM's propagation delay: wait for it, as a user would.
    w.wait_for_key(&key, &secret);
    (key, secret)
}

/// kubectl `auth whoami` through a context, with the operator's keys exported in its
/// environment (the shell of an on-call engineer who exported them earlier).
fn kubectl_whoami_with_exported_keys(w: &World, context: &str) -> serde_json::Value {
    let kc = std::process::Command::new("kubectl")
        .args(["--context", context, "auth", "whoami", "-o", "json"])
        .env("KUBECONFIG", w.path("kubeconfig"))
        .env("AWS_ACCESS_KEY_ID", w.env_value("AWS_ACCESS_KEY_ID"))
        .env(
            "AWS_SECRET_ACCESS_KEY",
            w.env_value("AWS_SECRET_ACCESS_KEY"),
        )
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("kubectl");
    serde_json::from_slice(&kc.stdout).unwrap_or_else(|_| {
        panic!(
            "kubectl {context}: {}{}",
            text(&kc.stdout),
            text(&kc.stderr)
        )
    })
}

fn groups(who: &serde_json::Value) -> Vec<String> {
    who["status"]["userInfo"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|g| g.as_str().map(str::to_string))
        .collect()
}

#[test]
fn an_explicit_profile_wins_over_exported_keys_and_an_unknown_one_is_an_error() {
    let w = World::start("getin");
    let (key, secret) = new_key(&w, "platform-admin");
    let (config, creds) = profile_files(w.dir.path(), "creator", &key, &secret);
    let with_files = |cmd: &mut assert_cmd::Command| {
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds);
    };

    // The AWS CLI, with the same environment: the profile wins, an unknown one is an error.
    let aws = |profile: &str| {
        std::process::Command::new(venv_bin("aws"))
            .args(["sts", "get-caller-identity", "--profile", profile])
            .args(["--output", "json"])
            .env_remove("AWS_ENDPOINT_URL")
            .envs(w.env.iter().cloned())
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .output()
            .expect("aws")
    };
    let cli = aws("creator");
    assert!(cli.status.success(), "{}", text(&cli.stderr));
    assert!(
        text(&cli.stdout).contains("user/admins/platform-admin"),
        "{}",
        text(&cli.stdout)
    );
    let cli = aws("nope");
    assert!(!cli.status.success());
    assert!(
        text(&cli.stderr).contains("could not be found"),
        "{}",
        text(&cli.stderr)
    );

    // diagnose --profile creator runs as the creator, though the operator's keys are exported.
    let mut cmd = w.product();
    with_files(&mut cmd);
    let out = cmd
        .args(["diagnose", "--cluster", "by-user", "--profile", "creator"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("You: {}", arn("user/admins/platform-admin"))),
        "{stdout}"
    );

    // An unknown profile is a usage error that names it, before any AWS call.
    let mut cmd = w.product();
    with_files(&mut cmd);
    let out = cmd
        .args(["diagnose", "--cluster", "by-user", "--profile", "nope"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'nope' could not be found"), "{stderr}");
    assert!(
        stderr.contains("creator"),
        "the hint lists the profiles: {stderr}"
    );
    // Also without any profile file and without exported keys.
    let out = product()
        .args(["token", "--cluster", "by-user", "--profile", "nope"])
        .args(["--region", "us-east-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // The kubeconfig context of `kubeconfig --profile creator` signs in as the creator for
    // kubectl run from a shell with the operator's keys exported.
    let mut cmd = w.product();
    with_files(&mut cmd);
    let out = cmd
        .args(["kubeconfig", "--cluster", "by-user", "--profile", "creator"])
        .args(["--alias", "by-user-profile"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // kubectl's environment holds the profile files too (the plugin reads them).
    let kc = std::process::Command::new("kubectl")
        .args([
            "--context",
            "by-user-profile",
            "auth",
            "whoami",
            "-o",
            "json",
        ])
        .env("KUBECONFIG", w.path("kubeconfig"))
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_ACCESS_KEY_ID", w.env_value("AWS_ACCESS_KEY_ID"))
        .env(
            "AWS_SECRET_ACCESS_KEY",
            w.env_value("AWS_SECRET_ACCESS_KEY"),
        )
        .envs(
            w.env
                .iter()
                .filter(|(k, _)| k.starts_with("AWS_ENDPOINT_URL"))
                .cloned(),
        )
        .output()
        .expect("kubectl");
    let who: serde_json::Value = serde_json::from_slice(&kc.stdout)
        .unwrap_or_else(|_| panic!("kubectl: {}{}", text(&kc.stdout), text(&kc.stderr)));
    assert!(
        groups(&who).contains(&"system:masters".to_string()),
        "{who}"
    );
}

#[test]
fn the_creator_context_of_assume_creator_signs_in_as_the_creator_despite_exported_keys() {
    let w = World::start("getin");
    let cred_file = w.path("creds");
    let out = w
        .product()
        .args([
            "assume-creator",
            "--cluster",
            "by-user",
            "--wait",
            "3",
            "--yes",
        ])
        .args(["--keep", "--credentials-file", cred_file.to_str().unwrap()])
        .args(["--journal-dir", w.path("run").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The sim's endpoints reach kubectl's plugin through the environment, as for the operator.
    let who = kubectl_whoami_with_exported_keys(&w, "by-user-creator");
    assert!(
        groups(&who).contains(&"system:masters".to_string()),
        "signed in as the operator instead of the creator: {who}"
    );
}

const BROKEN_AWS_AUTH: &str = r#"      mapRoles: |
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

/// Two broken clusters: `mine` (created by the operator, who may write aws-auth) and `theirs`
/// (created by platform-admin: getting in takes a temporary key); `spare`, where an earlier
/// run left a key behind for `cleanup`.
fn dry_run_world() -> World {
    World::start_yaml(&format!(
        "region: us-east-1
iam:
  users:
    - name: oncall
    - name: platform-admin
      path: /admins/
    - name: spare-admin
  roles:
    - name: eks-node-role
      trust: {{service: [ec2.amazonaws.com]}}
operator: oncall
clusters:
  - name: mine
    creator: {{user: oncall}}
    awsAuth:
{BROKEN_AWS_AUTH}  - name: theirs
    creator: {{user: platform-admin}}
    awsAuth:
{BROKEN_AWS_AUTH}  - name: spare
    creator: {{user: spare-admin}}
cloudtrail:
  throttle: {{off: true}}
updateDelaySeconds: 1
"
    ))
}

/// Every leaf command (`["aws-auth", "restore"]`) that lists `--dry-run` in its help.
fn commands_with_dry_run() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().collect();
        if subs.is_empty() {
            if cmd
                .get_arguments()
                .any(|a| a.get_id() == "dry_run" && !a.is_hide_set())
            {
                out.push(path.clone());
            }
            return;
        }
        for s in subs {
            path.push(s.get_name().to_string());
            walk(s, path, out);
            path.pop();
        }
    }
    let mut cmd = eks_breakglass::cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut Vec::new(), &mut out);
    out
}

/// Every file under `dir` (path → content), but the sim's own files.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if ["sim.log", "state.json", "scenario.yaml"].contains(&rel.as_str()) {
                continue;
            }
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Everything a command could change: IAM, EKS (mode, access entries, tags), aws-auth.
fn world_state(w: &World) -> Vec<String> {
    let mut out = w.iam_snapshot();
    for c in ["mine", "theirs", "spare"] {
        out.extend(w.eks_snapshot(c));
        let arn = w.admin_get("state")["clusters"][c]["arn"]
            .as_str()
            .unwrap()
            .to_string();
        out.push(format!(
            "tags {c} {}",
            w.aws(&["eks", "list-tags-for-resource", "--resource-arn", &arn])
        ));
        out.push(format!(
            "aws-auth {c} {}",
            w.admin_get(&format!("clusters/{c}/aws-auth"))
        ));
    }
    out
}

/// Mutating calls the sim saw (EKS, Kubernetes, IAM) since the last clear.
fn mutating_calls(w: &World) -> Vec<String> {
    let mut out = Vec::new();
    for service in ["eks", "k8s", "iam"] {
        for c in w.admin_get(&format!("calls?service={service}"))["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let action = c["action"].as_str().unwrap_or_default().to_string();
            let reads = ["Describe", "List", "Get", "GET ", "Lookup", "Simulate"];
            let review = action.contains("selfsubject");
            if !reads.iter().any(|r| action.starts_with(r)) && !review {
                out.push(format!("{service} {action}"));
            }
        }
    }
    out
}

#[test]
fn dry_run_changes_nothing_in_any_command_that_takes_it() {
    let w = dry_run_world();
    let editor = w.path("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\ncat > \"$1\" <<'EOF'\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/eks-node-role\n      username: system:node:{{EC2PrivateDNSName}}\n      groups: [system:bootstrappers, system:nodes]\nEOF\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = w.path("home");
    let cwd = w.path("cwd");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let creds = w.path("creds");
    let run = |args: &[&str]| {
        w.product()
            .args(args)
            .env("HOME", &home)
            .env("KUBE_EDITOR", &editor)
            .current_dir(&cwd)
            .output()
            .unwrap()
    };
    // A run that left something behind for `cleanup` to undo: a kept temporary key (and the
    // proof that the call log sees a change).
    w.clear_calls();
    let out = run(&[
        "assume-creator",
        "--cluster",
        "spare",
        "--yes",
        "--keep",
        "--wait",
        "3",
        "--credentials-file",
        creds.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seen = mutating_calls(&w);
    assert!(
        seen.iter().any(|c| c == "iam CreateAccessKey"),
        "the call log misses changes: {seen:?}"
    );
    let snapshots = w.path("snapshots");
    let man_dir = w.dir.path().join("man-pages");

    // How to run each command; a command that lists --dry-run and is missing here fails the
    // test, so that a new one cannot escape it.
    let how = |path: &str| -> Option<Vec<String>> {
        let v: &[&str] = match path {
            "kubeconfig" => &["--cluster", "mine"],
            "recover" => &["--cluster", "theirs"],
            "grant" => &["--cluster", "mine", "--allow-auth-mode-change"],
            "migrate" => &[
                "--cluster",
                "mine",
                "--allow-auth-mode-change",
                "API_AND_CONFIG_MAP",
            ],
            "assume-creator" => &["--cluster", "theirs"],
            "fix-entries" => &["--cluster", "mine"],
            "reveal-creator" => &["--cluster", "spare", "--allow-auth-mode-change"],
            "cleanup" => &[],
            "record" => &["--cluster", "mine"],
            "aws-auth restore" => &["--cluster", "mine", "--from", "salvage"],
            "aws-auth edit" => &["--cluster", "mine"],
            "aws-auth snapshot" => &["--cluster", "mine", "--to", snapshots.to_str().unwrap()],
            "man" => &["--dir", man_dir.to_str().unwrap()],
            _ => return None,
        };
        Some(v.iter().map(|s| s.to_string()).collect())
    };
    let commands = commands_with_dry_run();
    assert!(commands.len() >= 9, "{commands:?}");
    let mut failures = Vec::new();
    // IAM, EKS and aws-auth compared once around all the runs (awscli is slow); each run is
    // also checked on its own through the sim's call log.
    let state_before = world_state(&w);
    for path in &commands {
        let name = path.join(" ");
        let extra =
            how(&name).unwrap_or_else(|| panic!("`{name}` takes --dry-run: add it to this test"));
        let files_before = files(w.dir.path());
        w.clear_calls();
        for output in ["text", "json"] {
            let mut args: Vec<String> = path.clone();
            args.extend(extra.iter().cloned());
            // --yes too: a dry run must win over it.
            args.extend(["--dry-run", "--yes", "--output", output].map(String::from));
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&argv);
            if !out.status.success() {
                failures.push(format!(
                    "{name} ({output}): exit {:?}: {}{}",
                    out.status.code(),
                    text(&out.stdout),
                    text(&out.stderr)
                ));
            }
        }
        let files_after = files(w.dir.path());
        if files_after != files_before {
            let changed: Vec<&String> = files_after
                .keys()
                .chain(files_before.keys())
                .filter(|k| files_after.get(*k) != files_before.get(*k))
                .collect();
            failures.push(format!("{name}: files changed: {changed:?}"));
        }
        let calls = mutating_calls(&w);
        if !calls.is_empty() {
            failures.push(format!("{name}: mutating calls {calls:?}"));
        }
    }
    let state_after = world_state(&w);
    if state_after != state_before {
        failures.push(format!(
            "IAM, EKS or aws-auth changed:\n  before {state_before:?}\n  after  {state_after:?}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_verify_as_identity_that_is_refused_fails_the_run_in_restore_and_in_recover_alike() {
    // Two clusters the operator created, each with a broken aws-auth; dev-admin trusts the
    // account (the operator may assume it) but no version of aws-auth maps it.
    let w = World::start_yaml(&format!(
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
  - name: by-restore
    creator: {{user: oncall}}
    awsAuth:
{BROKEN_AWS_AUTH}  - name: by-recover
    creator: {{user: oncall}}
    awsAuth:
{BROKEN_AWS_AUTH}cloudtrail:
  throttle: {{off: true}}
updateDelaySeconds: 1
"
    ));
    let dev_admin = arn("role/dev-admin");
    let restore = w
        .product()
        .args(["aws-auth", "restore", "--cluster", "by-restore"])
        .args(["--from", "salvage", "--yes", "--wait", "3"])
        .args(["--verify-as", &dev_admin])
        .args(["--journal-dir", w.path("restore-run").to_str().unwrap()])
        .output()
        .unwrap();
    let recover = w
        .product()
        .args(["recover", "--cluster", "by-recover", "--yes", "--wait", "3"])
        .args(["--verify-as", &dev_admin])
        .args(["--journal-dir", w.path("recover-run").to_str().unwrap()])
        .output()
        .unwrap();
    let (restore_out, recover_out) = (
        format!("{}{}", text(&restore.stdout), text(&restore.stderr)),
        format!("{}{}", text(&recover.stdout), text(&recover.stderr)),
    );
    // One meaning: --verify-as names an identity that must get in; refused is a failed
    // verification, exit 1, in both commands.
    assert_eq!(recover.status.code(), Some(1), "{recover_out}");
    // The triage recover shows does not tell the operator to start what is already running.
    assert!(recover_out.contains("Ways back in"), "{recover_out}");
    assert!(
        !recover_out.contains("Next: eks-breakglass recover"),
        "{recover_out}"
    );
    assert_eq!(restore.status.code(), Some(1), "{restore_out}");
    assert!(restore_out.contains("refused"), "{restore_out}");
    assert!(restore_out.contains("verification failed"), "{restore_out}");
    // The help of both says the same.
    for cmd in [
        &["recover", "--help"][..],
        &["aws-auth", "restore", "--help"][..],
    ] {
        let help = text(&product().args(cmd).output().unwrap().stdout);
        assert!(
            help.contains("refused: the verification fails (exit 1)"),
            "{cmd:?}: {help}"
        );
    }
}

#[test]
fn short_flags_name_alias_and_an_empty_cluster_behave_like_kubectl_and_aws() {
    // -o json, as --output json.
    let out = product()
        .args(["aws-auth", "rules", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON with -o json");
    // -y is --yes: accepted where plans are confirmed (here it fails later, on the journal).
    let out = product()
        .args(["cleanup", "-y", "--journal", "/nonexistent/run"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("unexpected argument"));
    // --name, as `aws eks describe-cluster --name` / `update-kubeconfig --name`.
    let out = product()
        .args(["token", "--name", "prod", "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("k8s-aws-v1."));
    let help = text(
        &product()
            .args(["kubeconfig", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(help.contains("--name"), "{help}");
    // --cluster "" is a usage error in every command that takes --cluster, before any AWS call.
    for cmd in [
        &["diagnose"][..],
        &["recover"],
        &["token"],
        &["kubeconfig"],
        &["aws-auth", "restore", "--from", "salvage"],
        &["aws-auth", "lint"],
    ] {
        let out = product()
            .args(cmd)
            .args(["--cluster", "", "--region", "us-east-1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("--cluster"),
            "{cmd:?}: {}",
            text(&out.stderr)
        );
    }
    // Global options that do nothing for a command are not on its help page.
    let help = text(
        &product()
            .args(["diagnose", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        !help.contains("--dry-run") && !help.contains("--yes"),
        "{help}"
    );
    let help = text(
        &product()
            .args(["recover", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        help.contains("--dry-run") && help.contains("-y, --yes"),
        "{help}"
    );
    // … but still accepted, so that scripts passing them everywhere keep working.
    let out = product()
        .args(["aws-auth", "rules", "--dry-run", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    // More than a pipe buffer of output, and the reader gone before the first write.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("eks-breakglass"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no panic, no backtrace");
}

#[test]
fn an_sso_profile_without_a_login_says_to_run_aws_sso_login() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n\n\
[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n\n\
[profile legacy]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = us-east-1\n",
    )
    .unwrap();
    for (how, profile) in [("--profile", "corp"), ("AWS_PROFILE", "legacy")] {
        let mut cmd = product();
        cmd.args(["diagnose", "--cluster", "prod"])
            .env("HOME", dir.path())
            .env("AWS_CONFIG_FILE", &config);
        if how == "--profile" {
            cmd.args(["--profile", profile]);
        } else {
            cmd.env("AWS_PROFILE", profile);
        }
        let out = cmd.output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("run `aws sso login --profile {profile}`")),
            "{how}: {stderr}"
        );
        for noise in ["network", "ProviderError", "sso/cache", "could not reach"] {
            assert!(!stderr.contains(noise), "{how}: {noise}: {stderr}");
        }
    }
}

#[test]
fn no_color_is_honoured_on_a_terminal() {
    // `script` gives the program a terminal; -vv logs each AWS call in colour.
    let bin = assert_cmd::cargo::cargo_bin("eks-breakglass");
    let line = format!(
        "{} -vv aws-auth lint --cluster prod --region us-east-1",
        bin.display()
    );
    let run = |no_color: Option<&str>| {
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"]);
        for var in common::CLEAN_ENV_REMOVE {
            cmd.env_remove(var);
        }
        cmd.envs(common::CLEAN_ENV_SET.iter().copied())
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        text(&cmd.output().expect("script").stdout)
    };
    let coloured = run(None);
    assert!(
        coloured.contains("\u{1b}["),
        "no colour to remove: {coloured}"
    );
    let plain = run(Some("1"));
    assert!(
        plain.contains("DEBUG AWS call eks:DescribeCluster"),
        "{plain}"
    );
    assert!(!plain.contains("\u{1b}["), "{plain:?}");
}

/// Runs the product in a pseudo-terminal and types each answer after each prompt it prints
/// (`?` or `:` at the end of a line that asks); prints the transcript, exits with its code.
const PTY_ANSWERS: &str = r#"
import os, pty, select, sys, time
answers = os.environ["ANSWERS"].split(",")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf, given, deadline = b"", 0, time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    asked = buf.count(b"Only 'yes' is accepted") + buf.count(b"Please type 'yes'")
    if asked > given and given < len(answers):
        os.write(fd, answers[given].encode() + b"\n")
        given += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn the_prompt_asks_again_after_an_unexpected_answer() {
    let w = dry_run_world();
    let driver = w.path("answers.py");
    std::fs::write(&driver, PTY_ANSWERS).unwrap();
    let drive = |answers: &str| {
        std::process::Command::new(venv_bin("python"))
            .arg(&driver)
            .arg(assert_cmd::cargo::cargo_bin("eks-breakglass"))
            .args(["record", "--cluster", "mine"])
            .env("ANSWERS", answers)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .envs(w.env.clone())
            .env("XDG_STATE_HOME", w.path("state"))
            .output()
            .unwrap()
    };
    let arn = w.admin_get("state")["clusters"]["mine"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let tags = || w.aws(&["eks", "list-tags-for-resource", "--resource-arn", &arn])["tags"].clone();
    let before = tags();
    // A typo is asked again, then "no" stops: nothing changed.
    let out = drive("yse,no");
    let transcript = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{transcript}");
    assert!(transcript.contains("Please type 'yes'"), "{transcript}");
    assert!(transcript.contains("nothing was changed"), "{transcript}");
    assert_eq!(tags(), before);
    // A typo, then "yes": applied.
    let out = drive("y,yes");
    let transcript = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{transcript}");
    assert_ne!(tags(), before, "{transcript}");
}

#[test]
fn with_output_json_an_error_is_also_json_on_stdout() {
    // An AWS error (no credentials), and a usage error found by the parser.
    for args in [
        &[
            "diagnose",
            "--cluster",
            "prod",
            "--region",
            "us-east-1",
            "-o",
            "json",
        ][..],
        &["diagnose", "--cluster", "", "--output", "json"],
        &[
            "diagnose",
            "--cluster",
            "prod",
            "--profile",
            "nope",
            "--output=json",
        ],
    ] {
        let out = product().args(args).output().unwrap();
        let code = out.status.code().unwrap();
        assert_ne!(code, 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{args:?}: {}", text(&out.stdout)));
        assert_eq!(v["error"]["exit_code"], code, "{v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty(), "{v}");
        // The text stays on stderr for the human.
        assert!(text(&out.stderr).contains("error: "), "{args:?}");
    }
    // Text mode keeps stdout empty on errors.
    let out = product()
        .args(["diagnose", "--cluster", "prod", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
}

#[test]
fn help_examples_are_printed_as_written_at_any_terminal_width() {
    fn leaves(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        if let Some(after) = cmd.get_after_help() {
            out.push((path.clone(), after.to_string()));
        }
        for s in cmd.get_subcommands() {
            path.push(s.get_name().to_string());
            leaves(s, path, out);
            path.pop();
        }
    }
    let mut all = Vec::new();
    leaves(&eks_breakglass::cli::command(), &mut Vec::new(), &mut all);
    assert!(all.len() > 10);
    for (path, after) in all {
        let help = text(
            &product()
                .args(&path)
                .arg("--help")
                .env("COLUMNS", "40")
                .output()
                .unwrap()
                .stdout,
        );
        let lines: Vec<&str> = help.lines().collect();
        for line in after.lines().filter(|l| l.contains("eks-breakglass ")) {
            assert!(
                lines.contains(&line),
                "{path:?}: example cut by the terminal width: {line:?}\n{help}"
            );
        }
    }
}

#[test]
fn drill_lists_its_scenarios_and_the_organization_one_runs() {
    let drill = common::root().join("scripts/drill.sh");
    let out = std::process::Command::new(&drill)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for e in std::fs::read_dir(common::root().join("sim/scenarios")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            help.contains(&format!("  {name} ")),
            "{name} missing: {help}"
        );
    }
    // An unknown scenario lists them too, and is a usage error.
    let out = std::process::Command::new(&drill)
        .arg("no-such-scenario")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("organization"));
    // `organization` used to fail with "no cluster named 'analytics-eu'": it is a fleet drill.
    let bins = assert_cmd::cargo::cargo_bin("eks-breakglass");
    let _ = common::world::sim_bin();
    let out = std::process::Command::new(&drill)
        .arg("organization")
        .env("DRILL_BIN_DIR", bins.parent().unwrap())
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("audit finished (exit 3: clusters flagged)"),
        "{all}"
    );
    assert!(all.contains("analytics-eu"), "{all}");
}

#[test]
fn nodes_go_not_ready_is_said_only_when_the_lost_section_held_node_roles() {
    let dir = tempfile::tempdir().unwrap();
    let lint = |name: &str, map_roles: &str| {
        let f = dir.path().join(name);
        std::fs::write(
            &f,
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{map_roles}"
            ),
        )
        .unwrap();
        let out = product()
            .args(["aws-auth", "lint"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    let people = lint(
        "people.yaml",
        "    - rolearn: arn:aws:iam::123456789012:role/dev\n      username: dev\n     groups: [system:masters]\n",
    );
    assert!(people.contains("loads none of its"), "{people}");
    assert!(!people.contains("NotReady"), "{people}");
    let nodes = lint(
        "nodes.yaml",
        "    - rolearn: arn:aws:iam::123456789012:role/eks-node-role\n      username: system:node:{{EC2PrivateDNSName}}\n     groups: [system:bootstrappers, system:nodes]\n",
    );
    assert!(nodes.contains("nodes go NotReady"), "{nodes}");
}

#[test]
fn lint_refuses_a_file_larger_than_any_configmap_fast_and_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n";
    let mut f = std::fs::File::create(&big).unwrap();
    use std::io::Write as _;
    f.write_all(head.as_bytes()).unwrap();
    let line =
        "    - rolearn: arn:aws:iam::123456789012:role/r\n      username: r\n      groups: [g]\n";
    let chunk = line.repeat(50_000 / line.len() * 20);
    while f.metadata().unwrap().len() < 50_000_000 {
        f.write_all(chunk.as_bytes()).unwrap();
    }
    drop(f);
    for from_stdin in [false, true] {
        let started = std::time::Instant::now();
        let mut cmd = product();
        cmd.args(["aws-auth", "lint"]);
        if from_stdin {
            cmd.arg("-").pipe_stdin(&big).unwrap();
        } else {
            cmd.arg(&big);
        }
        let out = cmd.output().unwrap();
        let took = started.elapsed();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("1 MiB"), "{stderr}");
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    }
    // Under the file cap but with more data than a ConfigMap holds: said as such too.
    let mid = dir.path().join("mid.yaml");
    let mut text_ = String::from(head);
    while text_.len() < 1_300_000 {
        text_.push_str(line);
    }
    std::fs::write(&mid, &text_).unwrap();
    let out = product()
        .args(["aws-auth", "lint"])
        .arg(&mid)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("over the 1 MiB a ConfigMap can hold"),
        "{stderr}"
    );
}

#[test]
fn one_output_vocabulary_with_the_old_format_spelling_kept() {
    let file = common::fixture("awsauth");
    let any = std::fs::read_dir(&file)
        .ok()
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.is_file());
    let dir = tempfile::tempdir().unwrap();
    let path = any.unwrap_or_else(|| {
        let p = dir.path().join("aws-auth.yaml");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::123456789012:user/a\n      username: a\n      groups: [system:masters]\n",
        )
        .unwrap();
        p
    });
    let sarif = |args: &[&str]| {
        let out = product()
            .args(["aws-auth", "lint"])
            .args(args)
            .arg(&path)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{args:?}: {}", text(&out.stderr)));
        v["version"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(sarif(&["-o", "sarif"]), "2.1.0");
    assert_eq!(sarif(&["--format", "sarif"]), "2.1.0");
    // Where sarif or csv mean nothing, they are a usage error that says where they apply.
    let out = product()
        .args(["diagnose", "--cluster", "prod", "-o", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("aws-auth lint"),
        "{}",
        text(&out.stderr)
    );
    let out = product()
        .args(["aws-auth", "lint", "-o", "csv"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("audit"), "{}", text(&out.stderr));
    // The old spellings are hidden from the help, the new one says what applies.
    let help = text(
        &product()
            .args(["aws-auth", "lint", "--help"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(!help.contains("--format"), "{help}");
    assert!(help.contains("sarif"), "{help}");
}

#[test]
fn audit_takes_region_repeated_or_as_a_list_like_the_old_regions() {
    let w = World::start("org");
    let summary = |args: &[&str]| {
        let out = w
            .product()
            .args(["audit", "--org-role", "OrganizationAccountAccessRole"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["summary"].clone()
    };
    let new = summary(&[
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "-o",
        "json",
    ]);
    assert_eq!(new["regions"], 2, "{new}");
    assert_eq!(new["accounts"], 3, "{new}");
    assert_eq!(
        new,
        summary(&["--region", "us-east-1,eu-west-1", "-o", "json"])
    );
    assert_eq!(
        new,
        summary(&["--regions", "us-east-1,eu-west-1", "--output", "json"])
    );
    // -o csv: the same clusters, one line each after the header.
    let out = w
        .product()
        .args(["audit", "--org-role", "OrganizationAccountAccessRole"])
        .args(["--region", "us-east-1,eu-west-1", "-o", "csv"])
        .output()
        .unwrap();
    let csv = text(&out.stdout);
    assert_eq!(
        csv.lines().count() as u64,
        new["clusters"].as_u64().unwrap() + 1,
        "{csv}"
    );
}
