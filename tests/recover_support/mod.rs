//! The drill worlds for `diagnose` and `recover` tests: the scenarios of `sim/scenarios/` (the
//! ones `scripts/drill.sh` runs), with the product pointed at them through the environment
//! only, plus checks made outside the product (kubectl, the sim's admin API).
//!
//! Included with `mod common; #[path = "recover_support/mod.rs"] mod drill;`.
#![allow(dead_code)]

use crate::common::world::World;
use crate::common::{CLEAN_ENV_SET, root};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A drill scenario's world.
pub struct Drill {
    pub w: World,
    pub cluster: String,
}

/// A TCP tunnel to `target` (`host:port`) on a free local port, like `ssh -L`; returns the
/// local port. Runs until the test process ends.
pub fn tunnel(target: &str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the tunnel");
    let port = listener.local_addr().expect("addr").port();
    let target = target.to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let target = target.clone();
            std::thread::spawn(move || {
                let Ok(up) = TcpStream::connect(&target) else {
                    return;
                };
                let (Ok(c2), Ok(u2)) = (conn.try_clone(), up.try_clone()) else {
                    return;
                };
                std::thread::spawn(move || pump(u2, c2));
                pump(conn, up);
            });
        }
    });
    port
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}

impl Drill {
    /// The world of `sim/scenarios/<name>.yaml`.
    pub fn start(name: &str) -> Drill {
        Drill::start_file(&root().join(format!("sim/scenarios/{name}.yaml")))
    }

    /// The world of a scenario file.
    pub fn start_file(scenario: &Path) -> Drill {
        let w = World::start_file(scenario);
        let cluster = w.state["clusters"]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .expect("a cluster");
        Drill { w, cluster }
    }

    /// The product in this world.
    pub fn product(&self) -> assert_cmd::Command {
        self.w.product()
    }

    /// The product as a plain process, IAM pointed at `iam_url` (a trap).
    pub fn spawn(&self, args: &[&str], iam_url: &str) -> std::process::Child {
        self.w.spawn(args, &[("AWS_ENDPOINT_URL_IAM", iam_url)])
    }

    pub fn admin_get(&self, path: &str) -> Value {
        self.w.admin_get(path)
    }

    /// The data of kube-system/aws-auth as the sim holds it.
    pub fn aws_auth_data(&self) -> Value {
        self.admin_get(&format!("clusters/{}/aws-auth", self.cluster))["data"].clone()
    }

    /// The sim's own effective mapping (its independent reading of aws-auth).
    pub fn effective_mapping(&self) -> Value {
        self.admin_get(&format!("clusters/{}/effective-mapping", self.cluster))
    }

    /// True when the sim (its own reading of aws-auth) maps `role_arn` as nodes need it: the
    /// entry in force (the last one of that ARN) has system:bootstrappers and system:nodes.
    pub fn sim_maps_role(&self, role_arn: &str) -> bool {
        let m = self.effective_mapping();
        let last = m["roles"].as_array().into_iter().flatten().rfind(|r| {
            r["rolearn"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(role_arn))
        });
        let groups: Vec<&str> = last
            .and_then(|r| r["groups"].as_array())
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        groups.contains(&"system:bootstrappers") && groups.contains(&"system:nodes")
    }

    /// `kubectl auth whoami` with the credentials of a role session from the scenario (a node),
    /// through a kubeconfig written by `eks-breakglass kubeconfig`; `None` when refused.
    pub fn whoami_as_session(&self, role: &str, session: &str) -> Option<Value> {
        let s = &self.w.state["roles"][role]["sessions"][session];
        let kc = self.w.path(&format!("kubeconfig-{role}"));
        let out = self
            .product()
            .args(["kubeconfig", "--cluster", &self.cluster, "--kubeconfig"])
            .arg(&kc)
            .output()
            .expect("kubeconfig");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = assert_cmd::cargo::cargo_bin("eks-breakglass");
        let mut cmd = Command::new("kubectl");
        cmd.env_clear()
            .env(
                "PATH",
                format!(
                    "{}:/usr/bin:/bin",
                    bin.parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default()
                        .display()
                ),
            )
            .env("HOME", self.w.path("home"))
            .env("KUBECONFIG", &kc)
            .envs(CLEAN_ENV_SET.iter().copied())
            .envs(self.w.env.clone())
            .env("AWS_ACCESS_KEY_ID", s["accessKeyId"].as_str().expect("key"))
            .env(
                "AWS_SECRET_ACCESS_KEY",
                s["secretAccessKey"].as_str().expect("secret"),
            )
            .env(
                "AWS_SESSION_TOKEN",
                s["sessionToken"].as_str().expect("token"),
            )
            .args(["--request-timeout=20s", "auth", "whoami", "-o", "json"]);
        let out = cmd.output().expect("kubectl");
        if out.status.success() {
            Some(serde_json::from_slice(&out.stdout).expect("whoami JSON"))
        } else {
            None
        }
    }

    /// The cluster's API server as `host:port` (what DescribeCluster's endpoint names).
    pub fn api_host_port(&self) -> String {
        let port = self.w.state["clusters"][&self.cluster]["port"]
            .as_u64()
            .expect("cluster port");
        format!("127.0.0.1:{port}")
    }

    pub fn run_dir(&self, name: &str) -> PathBuf {
        self.w.path(name)
    }
}

/// The incident report of a run directory.
pub fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("incident-report.json")).expect("report JSON");
    serde_json::from_str(&text).expect("report is JSON")
}
