//! Shared helpers for integration tests: the pinned Python venv, moto on a free loopback port,
//! and process guards that stop what a test started.
#![allow(dead_code)]

pub mod world;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (where Cargo.toml and .venv live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A program from the test venv (`moto_server`, `aws`, `python`).
pub fn venv_bin(name: &str) -> PathBuf {
    let p = root().join(".venv").join("bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/test.sh once, it creates the test venv (moto, awscli) from scripts/requirements-test.txt",
        p.display()
    );
    p
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// Kills the child process when dropped.
pub struct ProcessGuard {
    pub child: Child,
    pub name: String,
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A moto server for IAM, STS and S3 on a free loopback port; stopped on drop.
pub struct Moto {
    pub url: String,
    pub port: u16,
    _guard: ProcessGuard,
}

/// A minimal HTTP GET for readiness checks, without pulling an HTTP client into the tests.
pub fn http_get(host_port: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(host_port).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// Polls `ready` until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Moto {
    /// Starts moto on a port it picks itself (`-p 0`) and reads the port from its start-up
    /// line. Choosing a free port first and handing it over is racy when tests run in
    /// parallel: two tests can pick the same port, and the loser then talks to the winner's
    /// moto. stderr keeps being drained so that moto's request log never blocks it.
    pub fn start() -> Moto {
        let mut child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start moto_server");
        let stderr = child.stderr.take().expect("moto's stderr");
        let guard = ProcessGuard {
            child,
            name: "moto".into(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .split("Running on http://127.0.0.1:")
                    .nth(1)
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(90))
            .expect("moto did not say which port it listens on within 90 s");
        let hp = format!("127.0.0.1:{port}");
        assert!(
            wait_until(Duration::from_secs(30), || http_get(&hp, "/moto-api/")
                .is_some()),
            "moto did not answer on {hp}"
        );
        Moto {
            url: format!("http://{hp}"),
            port,
            _guard: guard,
        }
    }

    /// Environment that points AWS clients at this moto, with moto's default account.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL_IAM".into(), self.url.clone()),
            ("AWS_ENDPOINT_URL_STS".into(), self.url.clone()),
            ("AWS_ENDPOINT_URL_S3".into(), self.url.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "AKIAIOSFODNN7EXAMPLE".into()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        ]
    }

    /// Runs the venv's awscli against this moto and returns its JSON output.
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        let mut env = self.env();
        env.push(("AWS_ENDPOINT_URL".into(), self.url.clone()));
        aws_cli(args, &env)
    }
}

/// What the product never inherits from the test's environment: profiles, ambient credentials,
/// endpoint overrides, kubeconfig, so that a test sets exactly what it means.
pub const CLEAN_ENV_REMOVE: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EKS",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_CLOUDTRAIL",
    "AWS_ENDPOINT_URL_S3",
    "KUBECONFIG",
    "KUBERNETES_EXEC_INFO",
];

/// What the product always gets: no profile files, no instance metadata, and a catch-all
/// endpoint on a closed loopback port, so that a service a test forgot to point somewhere fails
/// fast instead of ever reaching out to real AWS.
pub const CLEAN_ENV_SET: &[(&str, &str)] = &[
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ("AWS_CONFIG_FILE", "/dev/null"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Runs the venv's awscli with `env` (and no profile files, no inherited catch-all endpoint);
/// returns its JSON output, `Null` when it prints nothing.
pub fn aws_cli(args: &[&str], env: &[(String, String)]) -> serde_json::Value {
    let out = Command::new(venv_bin("aws"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .envs(env.iter().cloned())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("cannot run aws");
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("aws printed no JSON")
    }
}

/// The product binary with a clean AWS environment ([`CLEAN_ENV_REMOVE`], [`CLEAN_ENV_SET`]).
pub fn product() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("eks-breakglass").expect("binary built");
    for var in CLEAN_ENV_REMOVE {
        cmd.env_remove(var);
    }
    cmd.envs(CLEAN_ENV_SET.iter().copied());
    cmd
}

/// Path of a file in tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests").join("fixtures").join(rel)
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}
