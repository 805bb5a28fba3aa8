//! A local EKS world for `creator` tests: moto plus eks-sim built from a scenario, the product
//! pointed at it through the environment only, and the sim's admin API (call log, throttle,
//! deny rules) for what the tests measure.
//!
//! Included by tests with `mod common; #[path = "common/world.rs"] mod world;`.
#![allow(dead_code)]

use crate::common::{Moto, ProcessGuard, product, wait_until};
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The eks-sim binary of this workspace (built by `cargo build -p eks-sim`).
pub fn sim_bin() -> PathBuf {
    let p = assert_cmd::cargo::cargo_bin("eks-sim");
    assert!(
        p.exists(),
        "{} is missing: build the simulator first with `cargo build -p eks-sim`",
        p.display()
    );
    p
}

/// moto + eks-sim running one scenario; both stopped on drop.
pub struct World {
    pub moto: Moto,
    pub state: Value,
    pub env: Vec<(String, String)>,
    pub admin: String,
    pub dir: tempfile::TempDir,
    _sim: ProcessGuard,
}

/// One HTTP request without a client library; returns (status, body).
pub fn http(method: &str, url: &str, body: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host_port, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host_port).expect("connect to the sim");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).expect("read");
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // Chunked answers: keep the JSON between the first '{' and the last '}'.
    let body = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if b >= a => body[a..=b].to_string(),
        _ => body,
    };
    (status, body)
}

impl World {
    /// Builds the world of `scenario` (YAML text).
    pub fn start(scenario: &str) -> World {
        let moto = Moto::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let sc = dir.path().join("scenario.yaml");
        std::fs::write(&sc, scenario).expect("write scenario");
        let state_path = dir.path().join("state.json");
        let log = std::fs::File::create(dir.path().join("sim.log")).expect("sim log");
        let child = Command::new(sim_bin())
            .arg("--scenario")
            .arg(&sc)
            .args(["--moto", &moto.url, "--port", "0", "--state"])
            .arg(&state_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start eks-sim");
        let guard = ProcessGuard {
            child,
            name: "eks-sim".into(),
        };
        let ready = wait_until(Duration::from_secs(120), || state_path.exists());
        assert!(
            ready,
            "eks-sim did not write its state: {}",
            std::fs::read_to_string(dir.path().join("sim.log")).unwrap_or_default()
        );
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state"))
                .expect("state JSON");
        let env = state["env"]
            .as_object()
            .expect("env in state")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let admin = state["adminEndpoint"]
            .as_str()
            .expect("adminEndpoint")
            .to_string();
        World {
            moto,
            state,
            env,
            admin,
            dir,
            _sim: guard,
        }
    }

    /// The product, with this world's environment (operator credentials, endpoints, region).
    pub fn product(&self) -> assert_cmd::Command {
        let mut cmd = product();
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// Calls the sim recorded for `service`/`action` since the last [`World::clear_calls`].
    pub fn calls(&self, service: &str, action: &str) -> Vec<Value> {
        let (status, body) = http(
            "GET",
            &format!("{}/calls?service={service}&action={action}", self.admin),
            "",
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("calls JSON");
        v["calls"].as_array().cloned().unwrap_or_default()
    }

    pub fn clear_calls(&self) {
        let (status, body) = http("DELETE", &format!("{}/calls", self.admin), "");
        assert_eq!(status, 200, "{body}");
    }

    pub fn set_throttle(&self, rate: f64, burst: f64) {
        let (status, body) = http(
            "PUT",
            &format!("{}/cloudtrail/throttle", self.admin),
            &format!("{{\"rate\": {rate}, \"burst\": {burst}}}"),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// A user's or role's entry in the sim's state (ids, original ids, arn).
    pub fn user(&self, name: &str) -> &Value {
        &self.state["users"][name]
    }

    pub fn role(&self, name: &str) -> &Value {
        &self.state["roles"][name]
    }

    pub fn account(&self) -> &str {
        self.state["account"].as_str().unwrap_or_default()
    }
}
