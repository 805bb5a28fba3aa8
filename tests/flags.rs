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
    (
        k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string(),
        k["AccessKey"]["SecretAccessKey"]
            .as_str()
            .unwrap()
            .to_string(),
    )
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
