//! The local EKS world of the integration tests: moto plus eks-sim built from a scenario, the
//! product pointed at it through the environment only (kubeconfig and state dir inside the
//! world), the sim's admin API (call log, throttle, deny rules, aws-auth), and snapshots of IAM
//! and EKS state to compare before and after.
//!
//! Part of `mod common;` (as `common::world`); tests that use only some of it share it.
#![allow(dead_code)]

use super::{
    CLEAN_ENV_REMOVE, CLEAN_ENV_SET, Moto, ProcessGuard, aws_cli, product, root, wait_until,
};
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "123456789012";

pub fn arn(resource: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{resource}")
}

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
    /// Declared first: the sim stops before the moto it talks to.
    _sim: ProcessGuard,
    pub moto: Moto,
    pub state: Value,
    pub env: Vec<(String, String)>,
    pub admin: String,
    pub dir: tempfile::TempDir,
}

/// One HTTP request without a client library; returns (status, body).
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host_port, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host_port).expect("connect to the sim");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{head}\r\n{body}").expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let buf = String::from_utf8_lossy(&raw).into_owned();
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    let (head, body) = buf.split_once("\r\n\r\n").unwrap_or((&buf, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Every `<tag>…</tag>` text in an XML answer, in order.
pub fn xml_all(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].to_string());
        rest = &after[j + close.len()..];
    }
    out
}

impl World {
    /// Builds the world of `tests/fixtures/scenarios/<name>.yaml`.
    pub fn start(name: &str) -> World {
        World::start_file(&root().join(format!("tests/fixtures/scenarios/{name}.yaml")))
    }

    /// Builds the world of `scenario` (YAML text).
    pub fn start_yaml(scenario: &str) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let sc = dir.path().join("scenario.yaml");
        std::fs::write(&sc, scenario).expect("write scenario");
        World::launch(dir, &sc)
    }

    /// Builds the world of a scenario file (e.g. `sim/scenarios/incident.yaml`).
    pub fn start_file(scenario: &Path) -> World {
        World::launch(tempfile::tempdir().expect("tempdir"), scenario)
    }

    fn launch(dir: tempfile::TempDir, scenario: &Path) -> World {
        let moto = Moto::start();
        let state_path = dir.path().join("state.json");
        let log = std::fs::File::create(dir.path().join("sim.log")).expect("sim log");
        let child = Command::new(sim_bin())
            .arg("--scenario")
            .arg(scenario)
            .args(["--moto", &moto.url, "--port", "0"])
            // IAM/EKS propagation shortened from the drill's several seconds, but not zero:
            // every wait of the product is still exercised.
            .args(["--propagation-seconds", "1", "--state"])
            .arg(&state_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start eks-sim");
        let guard = ProcessGuard {
            child,
            name: "eks-sim".into(),
        };
        assert!(
            wait_until(Duration::from_secs(120), || state_path.exists()),
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
            _sim: guard,
            moto,
            state,
            env,
            admin,
            dir,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn env_pairs(&self) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        env.push((
            "KUBECONFIG".into(),
            self.path("kubeconfig").display().to_string(),
        ));
        env.push((
            "XDG_STATE_HOME".into(),
            self.path("state").display().to_string(),
        ));
        env
    }

    /// The product with this world's environment; kubeconfig and state dir inside the world.
    pub fn product(&self) -> assert_cmd::Command {
        let mut cmd = product();
        cmd.envs(self.env_pairs());
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// The product as a plain process (to signal it), with endpoint overrides (a trap).
    pub fn spawn(&self, args: &[&str], overrides: &[(&str, &str)]) -> std::process::Child {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("eks-breakglass"));
        for var in CLEAN_ENV_REMOVE {
            cmd.env_remove(var);
        }
        cmd.envs(CLEAN_ENV_SET.iter().copied())
            .envs(self.env_pairs())
            .envs(overrides.iter().copied())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("spawn the product")
    }

    /// An IAM query answered by moto (XML).
    pub fn iam(&self, action: &str, params: &[(&str, &str)]) -> String {
        let mut body = format!("Action={action}&Version=2010-05-08");
        for (k, v) in params {
            body.push_str(&format!("&{k}={}", urlencode(v)));
        }
        let key = self.env_value("AWS_ACCESS_KEY_ID");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
        );
        let (status, body) = http(
            "POST",
            &format!("{}/", self.moto.url),
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &auth),
            ],
            &body,
        );
        assert!(status == 200 || status == 404, "{action}: {status} {body}");
        body
    }

    /// Gives `user` a virtual MFA device (through the sim's IAM endpoint, as AWS would need it:
    /// STS checks that an AssumeRole's SerialNumber is the caller's device). Returns its serial.
    pub fn enable_mfa(&self, user: &str) -> String {
        let dir = self.path("mfa");
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join(format!("{user}.png"));
        let d = self.aws(&[
            "iam",
            "create-virtual-mfa-device",
            "--virtual-mfa-device-name",
            user,
            "--outfile",
            png.to_str().unwrap(),
            "--bootstrap-method",
            "QRCodePNG",
        ]);
        let serial = d["VirtualMFADevice"]["SerialNumber"]
            .as_str()
            .unwrap()
            .to_string();
        self.aws(&[
            "iam",
            "enable-mfa-device",
            "--user-name",
            user,
            "--serial-number",
            &serial,
            "--authentication-code1",
            "123456",
            "--authentication-code2",
            "654321",
        ]);
        serial
    }

    /// Waits until a just-created access key is accepted (IAM is eventually consistent: the sim
    /// refuses a new key with `InvalidClientTokenId` until its propagation delay has passed, as
    /// AWS does), as a user would: `sts get-caller-identity` with that key, retried for up to
    /// 10 s. Panics with the last error if it never is.
    pub fn wait_for_key(&self, key: &str, secret: &str) {
        let start = Instant::now();
        loop {
            let out = Command::new(super::venv_bin("aws"))
                .args(["sts", "get-caller-identity", "--output", "json"])
                .env_remove("AWS_ENDPOINT_URL")
                .env_remove("AWS_SESSION_TOKEN")
                .env_remove("AWS_PROFILE")
                .envs(self.env.iter().cloned())
                .env("AWS_ACCESS_KEY_ID", key)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .output()
                .expect("cannot run aws");
            if out.status.success() {
                return;
            }
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "access key {key} still not accepted after 10 s: {err}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The IAM/STS endpoint the product uses: the sim's pass-through to moto (it learns the
    /// secrets of keys and sessions created through it, to authenticate them later).
    pub fn iam_url(&self) -> String {
        self.env_value("AWS_ENDPOINT_URL_IAM")
    }

    pub fn env_value(&self, k: &str) -> String {
        self.env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The trust policy exactly as IAM stores it (the raw, URL-encoded form GetRole returns).
    pub fn raw_trust(&self, role: &str) -> String {
        xml_all(
            &self.iam("GetRole", &[("RoleName", role)]),
            "AssumeRolePolicyDocument",
        )
        .pop()
        .expect("trust policy")
    }

    pub fn access_keys(&self, user: &str) -> Vec<String> {
        let mut k = xml_all(
            &self.iam("ListAccessKeys", &[("UserName", user)]),
            "AccessKeyId",
        );
        k.sort();
        k
    }

    /// IAM as the tests compare it: users with ids, paths and keys; roles with ids, paths,
    /// raw trust policies and inline/attached policies.
    pub fn iam_snapshot(&self) -> Vec<String> {
        let mut out = Vec::new();
        let users = self.iam("ListUsers", &[]);
        for ((name, id), path) in xml_all(&users, "UserName")
            .into_iter()
            .zip(xml_all(&users, "UserId"))
            .zip(xml_all(&users, "Path"))
        {
            out.push(format!(
                "user {path}{name} {id} keys={:?}",
                self.access_keys(&name)
            ));
        }
        let roles = self.iam("ListRoles", &[]);
        for ((name, id), path) in xml_all(&roles, "RoleName")
            .into_iter()
            .zip(xml_all(&roles, "RoleId"))
            .zip(xml_all(&roles, "Path"))
        {
            let inline = xml_all(
                &self.iam("ListRolePolicies", &[("RoleName", &name)]),
                "member",
            );
            let attached = xml_all(
                &self.iam("ListAttachedRolePolicies", &[("RoleName", &name)]),
                "PolicyArn",
            );
            out.push(format!(
                "role {path}{name} {id} trust={} inline={inline:?} attached={attached:?}",
                self.raw_trust(&name)
            ));
        }
        out.sort();
        out
    }

    /// awscli against this world, as the operator; JSON out.
    pub fn aws(&self, args: &[&str]) -> Value {
        aws_cli(args, &self.env)
    }

    /// awscli against moto itself, as the operator (Organizations is not behind the sim).
    pub fn moto_aws(&self, args: &[&str]) -> Value {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--endpoint-url", &self.moto.url, "--output", "json"])
            .collect();
        aws_cli(&args, &self.env)
    }

    /// An organisation in moto: the management account (ours) and one member account; returns
    /// the member's account id.
    pub fn org_with_member(&self) -> String {
        self.moto_aws(&[
            "organizations",
            "create-organization",
            "--feature-set",
            "ALL",
        ]);
        let member = self.moto_aws(&[
            "organizations",
            "create-account",
            "--email",
            "member@example.com",
            "--account-name",
            "member",
        ]);
        member["CreateAccountStatus"]["AccountId"]
            .as_str()
            .expect("member account id")
            .to_string()
    }

    pub fn auth_mode(&self, cluster: &str) -> String {
        self.aws(&["eks", "describe-cluster", "--name", cluster])["cluster"]["accessConfig"]["authenticationMode"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// EKS as the tests compare it: mode, entries and their policies.
    pub fn eks_snapshot(&self, cluster: &str) -> Vec<String> {
        let mut out = vec![format!("mode {}", self.auth_mode(cluster))];
        if out[0] == "mode CONFIG_MAP" {
            return out;
        }
        let entries = self.aws(&["eks", "list-access-entries", "--cluster-name", cluster]);
        for e in entries["accessEntries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let p = e.as_str().unwrap_or_default();
            let pol = self.aws(&[
                "eks",
                "list-associated-access-policies",
                "--cluster-name",
                cluster,
                "--principal-arn",
                p,
            ]);
            let names: Vec<String> = pol["associatedAccessPolicies"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|x| x["policyArn"].as_str().unwrap_or_default().to_string())
                .collect();
            out.push(format!("entry {p} {names:?}"));
        }
        out.sort();
        out
    }

    /// GET on the sim's admin API (`path` without the leading slash); JSON out.
    pub fn admin_get(&self, path: &str) -> Value {
        let (status, body) = http("GET", &format!("{}/{path}", self.admin), &[], "");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("admin JSON")
    }

    /// PUT of a JSON body on the sim's admin API.
    pub fn admin_put(&self, path: &str, body: &Value) {
        let (status, b) = http(
            "PUT",
            &format!("{}/{path}", self.admin),
            &[("Content-Type", "application/json")],
            &body.to_string(),
        );
        assert_eq!(status, 200, "{path}: {b}");
    }

    /// Calls the sim recorded for `service`/`action` since the last [`World::clear_calls`].
    pub fn calls(&self, service: &str, action: &str) -> Vec<Value> {
        self.admin_get(&format!("calls?service={service}&action={action}"))["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn clear_calls(&self) {
        let (status, body) = http("DELETE", &format!("{}/calls", self.admin), &[], "");
        assert_eq!(status, 200, "{body}");
    }

    pub fn set_throttle(&self, rate: f64, burst: f64) {
        self.admin_put(
            "cloudtrail/throttle",
            &serde_json::json!({"rate": rate, "burst": burst}),
        );
    }

    /// Denies EKS actions to a principal in the sim.
    pub fn deny(&self, principal: &str, actions: &[&str]) {
        self.admin_put(
            "deny",
            &serde_json::json!({"deny": [{"principal": principal, "actions": actions}]}),
        );
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

    pub fn operator(&self) -> String {
        arn("user/oncall")
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends a signal to a child process (SIGINT = 2, SIGKILL = 9).
pub fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{sig} failed");
}

/// Waits for a child with a deadline; returns (exit code, stdout, stderr).
pub fn finish(mut child: std::process::Child) -> (Option<i32>, String, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut out = String::new();
            let mut err = String::new();
            if let Some(mut o) = child.stdout.take() {
                let _ = o.read_to_string(&mut out);
            }
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return (status.code(), out, err);
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the product did not end"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stdout of a finished assert_cmd output, as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
