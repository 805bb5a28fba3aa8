//! The local world for `assume-creator`, `grant` and `cleanup` tests: moto plus eks-sim built
//! from a scenario in tests/fixtures/scenarios, the product
//! pointed at it through the environment only, snapshots of IAM and EKS state to compare before
//! and after, and an IAM "trap": a proxy in front of moto that can hold one call's answer (to
//! kill or interrupt the product in the middle of a step) or answer AccessDenied for one action.
//!
//! Included with `mod common; #[path = "getin_support/mod.rs"] mod support;`.
#![allow(dead_code)]

use crate::common::{Moto, ProcessGuard, product, root, venv_bin, wait_until};
use serde_json::Value;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "123456789012";

pub fn arn(resource: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{resource}")
}

/// moto + eks-sim for one scenario; both stopped on drop.
pub struct World {
    pub moto_url: String,
    pub state: Value,
    pub env: Vec<(String, String)>,
    pub admin: String,
    pub dir: tempfile::TempDir,
    _sim: ProcessGuard,
    _moto: Moto,
}

/// One HTTP request without a client library; returns (status, body).
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (host_port, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host_port).expect("connect");
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

/// The eks-sim binary of this workspace (`cargo test --workspace` builds it).
pub fn sim_bin() -> PathBuf {
    let p = assert_cmd::cargo::cargo_bin("eks-sim");
    assert!(
        p.exists(),
        "{} is missing: build it with `cargo build -p eks-sim`",
        p.display()
    );
    p
}

impl World {
    /// Builds the world of `tests/fixtures/scenarios/<name>.yaml`.
    pub fn start(name: &str) -> World {
        World::start_file(&root().join(format!("tests/fixtures/scenarios/{name}.yaml")))
    }

    /// Builds the world of a scenario file (e.g. `sim/scenarios/incident.yaml`).
    pub fn start_file(scenario: &Path) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let moto = Moto::start();
        let moto_url = moto.url.clone();
        let state_path = dir.path().join("state.json");
        let log = std::fs::File::create(dir.path().join("sim.log")).expect("sim log");
        let child = Command::new(sim_bin())
            .arg("--scenario")
            .arg(scenario)
            .args(["--moto", &moto_url, "--port", "0", "--state"])
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
            "eks-sim did not start: {}",
            std::fs::read_to_string(dir.path().join("sim.log")).unwrap_or_default()
        );
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state"))
                .expect("state JSON");
        let env = state["env"]
            .as_object()
            .expect("env")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let admin = state["adminEndpoint"].as_str().expect("admin").to_string();
        World {
            moto_url,
            state,
            env,
            admin,
            dir,
            _sim: guard,
            _moto: moto,
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
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL_CLOUDTRAIL",
            "AWS_ENDPOINT_URL_S3",
            "KUBERNETES_EXEC_INFO",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
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
            &format!("{}/", self.moto_url),
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &auth),
            ],
            &body,
        );
        assert!(status == 200 || status == 404, "{action}: {status} {body}");
        body
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
        let out = Command::new(venv_bin("aws"))
            .args(args)
            .envs(self.env.clone())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .expect("aws");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if out.stdout.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out.stdout).expect("aws JSON")
        }
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

    /// The sim's call log for one EKS action.
    pub fn calls(&self, action: &str) -> usize {
        let (status, body) = http(
            "GET",
            &format!("{}/calls?service=eks&action={action}", self.admin),
            &[],
            "",
        );
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("calls");
        v["count"].as_u64().unwrap_or(0) as usize
    }

    /// Denies EKS actions to a principal in the sim.
    pub fn deny(&self, principal: &str, actions: &[&str]) {
        let body =
            serde_json::json!({"deny": [{"principal": principal, "actions": actions}]}).to_string();
        let (status, b) = http(
            "PUT",
            &format!("{}/deny", self.admin),
            &[("Content-Type", "application/json")],
            &body,
        );
        assert_eq!(status, 200, "{b}");
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

/// The journal of a run, one JSON value per line.
pub fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line"))
        .collect()
}

/// The events of a journal, as `event:step` strings.
pub fn events(dir: &Path) -> Vec<String> {
    journal(dir)
        .iter()
        .map(|r| match r["step"].as_u64() {
            Some(s) => format!("{}:{s}", r["event"].as_str().unwrap_or_default()),
            None => r["event"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Every file of a directory, concatenated (to grep for secrets).
pub fn all_files(dir: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        if e.path().is_file() {
            s.push_str(&String::from_utf8_lossy(
                &std::fs::read(e.path()).expect("read"),
            ));
        }
    }
    s
}

/// What the trap does to the matching call: an IAM or STS Query `Action`, or a REST call named
/// by the start of its request line (`POST /clusters/c/access-entries/`).
#[derive(Clone, Debug)]
pub enum Rule {
    /// Forward it, then hold the answer until released.
    Hold(String),
    /// Answer AccessDenied without forwarding, the first `times` calls (`None`: always);
    /// the action is named `service:Action`, e.g. `iam:PutRolePolicy`, `sts:AssumeRole`.
    Deny(String, Option<u32>),
}

struct TrapState {
    upstream: String,
    rule: Mutex<Option<Rule>>,
    hit: AtomicBool,
    release: AtomicBool,
    denied: std::sync::atomic::AtomicU32,
}

/// A proxy in front of moto's IAM endpoint that holds or denies one action.
pub struct Trap {
    pub url: String,
    state: Arc<TrapState>,
}

impl Trap {
    pub fn start(moto_url: &str, rule: Rule) -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind trap");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(TrapState {
            upstream: moto_url.trim_start_matches("http://").to_string(),
            rule: Mutex::new(Some(rule)),
            hit: AtomicBool::new(false),
            release: AtomicBool::new(false),
            denied: std::sync::atomic::AtomicU32::new(0),
        });
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        Trap { url, state }
    }

    /// Waits until the matching call was made (and, for Hold, answered by moto).
    pub fn wait_hit(&self, timeout: Duration) -> bool {
        wait_until(timeout, || self.state.hit.load(Ordering::SeqCst))
    }

    /// How many calls were answered AccessDenied.
    pub fn denied(&self) -> u32 {
        self.state.denied.load(Ordering::SeqCst)
    }

    /// Lets a held answer go (and every later one through).
    pub fn release(&self) {
        self.state.release.store(true, Ordering::SeqCst);
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.release();
    }
}

fn read_message(r: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let lower = head.to_ascii_lowercase();
    let mut body = Vec::new();
    if let Some(len) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        body.resize(len, 0);
        r.read_exact(&mut body).ok()?;
    } else if lower.contains("transfer-encoding: chunked") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        let head_fixed: String = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("transfer-encoding"))
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\r\n"))
            .collect();
        return Some((
            format!("{head_fixed}Content-Length: {}\r\n\r\n", body.len()),
            body,
        ));
    }
    Some((head, body))
}

fn serve(conn: TcpStream, st: &TrapState) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut r = BufReader::new(conn);
    while let Some((head, body)) = read_message(&mut r) {
        let text = String::from_utf8_lossy(&body).into_owned();
        let rule = st.rule.lock().map(|g| g.clone()).unwrap_or(None);
        let request_line = head.lines().next().unwrap_or_default().to_string();
        // A Query API action (`Action=X` in the body), or a REST call by the start of its
        // request line (`POST /clusters/c/access-entries/`).
        let matches = |action: &str| {
            text.contains(&format!("Action={action}&"))
                || text.ends_with(&format!("Action={action}"))
                || (action.contains(' ') && request_line.starts_with(action))
        };
        if let Some(Rule::Deny(full, times)) = &rule
            && let Some((service, action)) = full.split_once(':')
            && matches(action)
            && times.is_none_or(|n| st.denied.load(Ordering::SeqCst) < n)
        {
            st.hit.store(true, Ordering::SeqCst);
            st.denied.fetch_add(1, Ordering::SeqCst);
            let xml = format!(
                "<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: {} is not authorized to perform: {full}</Message></Error><RequestId>trap</RequestId></ErrorResponse>",
                arn("user/oncall")
            );
            let resp = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
                xml.len()
            );
            if out.write_all(resp.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let Ok(mut up) = TcpStream::connect(&st.upstream) else {
            return;
        };
        if up
            .write_all(head.as_bytes())
            .and_then(|_| up.write_all(&body))
            .is_err()
        {
            return;
        }
        let mut ur = BufReader::new(up);
        let Some((rhead, rbody)) = read_message(&mut ur) else {
            return;
        };
        if let Some(Rule::Hold(action)) = &rule
            && matches(action)
            && !st.release.load(Ordering::SeqCst)
        {
            st.hit.store(true, Ordering::SeqCst);
            let start = Instant::now();
            while !st.release.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(120) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if out
            .write_all(rhead.as_bytes())
            .and_then(|_| out.write_all(&rbody))
            .is_err()
        {
            return;
        }
    }
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
