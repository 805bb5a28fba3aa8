//! Test harness: moto + eks-sim processes (killed on drop), awscli, a tiny HTTP(S) client, and
//! an EKS token presigner for crafted (e.g. expired) tokens.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sim/ has a parent")
        .to_path_buf()
}

pub fn venv_bin(name: &str) -> PathBuf {
    let p = workspace_root().join(".venv/bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: the Python test tools (moto, awscli) are not installed; run scripts/test.sh, which creates <workspace>/.venv",
        p.display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// Starts moto on a port it picks itself (`-p 0`), read from its start-up line: a port
    /// chosen beforehand can be chosen by a parallel test too. stderr is drained for good.
    pub fn start() -> Moto {
        let bin = venv_bin("moto_server");
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let stderr = child.stderr.take().expect("moto's stderr");
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
        let port = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                panic!("moto did not say which port it listens on within 90 s");
            }
        };
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http("GET", port, "/moto-api/data.json", &[], "") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Sim {
    child: Child,
    _dir: tempfile::TempDir,
    pub state: Value,
    pub eks_port: u16,
    pub stderr: PathBuf,
}

impl Sim {
    pub fn start(scenario: &Path, moto: &Moto) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let state_path = dir.path().join("state.json");
        let stderr = dir.path().join("stderr.log");
        let child = Command::new(env!("CARGO_BIN_EXE_eks-sim"))
            .arg("--scenario")
            .arg(scenario)
            .args(["--moto", &moto.url, "--port", "0"])
            // Propagation shortened from the drill defaults, never zero.
            .args(["--propagation-seconds", "1", "--state"])
            .arg(&state_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start eks-sim");
        let mut sim = Sim {
            child,
            _dir: dir,
            state: Value::Null,
            eks_port: 0,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(text) = std::fs::read_to_string(&state_path)
                && let Ok(v) = serde_json::from_str::<Value>(&text)
            {
                sim.eks_port = v["eksPort"].as_u64().expect("eksPort") as u16;
                sim.state = v;
                return sim;
            }
            if let Ok(Some(status)) = sim.child.try_wait() {
                panic!(
                    "eks-sim exited with {status}: {}",
                    std::fs::read_to_string(&sim.stderr).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "eks-sim did not write its state file"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        self.state["env"]
            .as_object()
            .expect("env")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    pub fn user_key(&self, name: &str) -> (String, String) {
        let k = &self.state["users"][name]["accessKeys"][0];
        (
            k["accessKeyId"].as_str().expect("key").to_string(),
            k["secretAccessKey"].as_str().expect("secret").to_string(),
        )
    }

    pub fn session(&self, role: &str, session: &str) -> (String, String, String) {
        let s = &self.state["roles"][role]["sessions"][session];
        (
            s["accessKeyId"].as_str().expect("key").to_string(),
            s["secretAccessKey"].as_str().expect("secret").to_string(),
            s["sessionToken"].as_str().expect("token").to_string(),
        )
    }

    /// The port of a cluster's API server (live state, so clusters created later are found too).
    pub fn cluster_port(&self, cluster: &str) -> u16 {
        if let Some(p) = self.state["clusters"][cluster]["port"].as_u64() {
            return p as u16;
        }
        let (_, live) = self.admin("GET", "state", "");
        live["clusters"][cluster]["port"]
            .as_u64()
            .expect("cluster port") as u16
    }

    pub fn ca_pem(&self) -> String {
        self.state["caPem"].as_str().expect("caPem").to_string()
    }

    pub fn admin(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, text) = http(
            method,
            self.eks_port,
            &format!("/_sim/{path}"),
            &[("content-type", "application/json")],
            body,
        )
        .expect("admin call");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A Kubernetes API call with a bearer token; returns (status, JSON body).
    pub fn kube(
        &self,
        cluster: &str,
        method: &str,
        path: &str,
        token: &str,
        body: &str,
        content_type: &str,
    ) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let (status, text) = https(
            method,
            self.cluster_port(cluster),
            &self.ca_pem(),
            path,
            &[
                ("authorization", auth.as_str()),
                ("content-type", content_type),
                ("accept", "application/json"),
            ],
            body,
        )
        .expect("kube call");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn whoami(&self, cluster: &str, token: &str) -> (u16, Value) {
        self.kube(
            cluster,
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            token,
            r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#,
            "application/json",
        )
    }

    /// The reason the sim logged for the last authentication on `cluster`.
    pub fn last_auth_reason(&self, cluster: &str) -> String {
        let (_, v) = self.admin("GET", &format!("auth-log?cluster={cluster}"), "");
        v["entries"]
            .as_array()
            .and_then(|e| e.last())
            .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `.venv/bin/aws` with only the given environment (plus PATH/HOME); returns (ok, stdout, stderr).
pub fn aws(args: &[&str], env: &[(String, String)]) -> (bool, String, String) {
    let mut cmd = Command::new(venv_bin("aws"));
    cmd.args(args).env_clear();
    for k in ["PATH", "HOME", "LANG", "TMPDIR"] {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/eks-sim-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/eks-sim-test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run aws");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `aws eks get-token` for the given credentials, WITHOUT AWS_ENDPOINT_URL_STS (so the token
/// names the real regional STS host; the sim verifies it locally).
pub fn aws_token(cluster: &str, key: &str, secret: &str, session_token: Option<&str>) -> String {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), key.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), secret.to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
        ("AWS_DEFAULT_REGION".to_string(), "us-east-1".to_string()),
    ];
    if let Some(t) = session_token {
        env.push(("AWS_SESSION_TOKEN".to_string(), t.to_string()));
    }
    let (ok, out, err) = aws(
        &[
            "eks",
            "get-token",
            "--cluster-name",
            cluster,
            "--query",
            "status.token",
            "--output",
            "text",
        ],
        &env,
    );
    assert!(ok, "aws eks get-token failed: {err}");
    out.trim().to_string()
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("hmac key");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// An EKS token presigned at `date` (for crafted cases such as an old X-Amz-Date).
pub fn presigned_token(
    cluster: &str,
    key: &str,
    secret: &str,
    session_token: Option<&str>,
    date: DateTime<Utc>,
) -> String {
    let host = "sts.us-east-1.amazonaws.com";
    let amz_date = date.format("%Y%m%dT%H%M%SZ").to_string();
    let day = date.format("%Y%m%d").to_string();
    let mut params = vec![
        ("Action".to_string(), "GetCallerIdentity".to_string()),
        ("Version".to_string(), "2011-06-15".to_string()),
        (
            "X-Amz-Algorithm".to_string(),
            "AWS4-HMAC-SHA256".to_string(),
        ),
        (
            "X-Amz-Credential".to_string(),
            format!("{key}/{day}/us-east-1/sts/aws4_request"),
        ),
        ("X-Amz-Date".to_string(), amz_date.clone()),
        ("X-Amz-Expires".to_string(), "60".to_string()),
        (
            "X-Amz-SignedHeaders".to_string(),
            "host;x-k8s-aws-id".to_string(),
        ),
    ];
    if let Some(t) = session_token {
        params.push(("X-Amz-Security-Token".to_string(), t.to_string()));
    }
    let mut q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    q.sort();
    let query = q.join("&");
    let creq = format!(
        "GET\n/\n{query}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\nhost;x-k8s-aws-id\n{}",
        hex::encode(Sha256::digest(b""))
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{day}/us-east-1/sts/aws4_request\n{}",
        hex::encode(Sha256::digest(creq.as_bytes()))
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), &day);
    let k = hmac(&k, "us-east-1");
    let k = hmac(&k, "sts");
    let k = hmac(&k, "aws4_request");
    let sig = hex::encode(hmac(&k, &sts));
    let url = format!("https://{host}/?{query}&X-Amz-Signature={sig}");
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

/// The value of a response header in a raw HTTP answer.
pub fn raw_header(raw_head: &str, name: &str) -> Option<String> {
    raw_head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Plain HTTP/1.1 to 127.0.0.1; returns (status, head, body).
pub fn http_full(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    s.write_all(&request_bytes(method, path, headers, body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, head.to_string(), body.to_string()))
}

fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, body.to_string()))
}

/// Plain HTTP/1.1 to 127.0.0.1.
pub fn http(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    s.write_all(&request_bytes(method, path, headers, body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    parse_response(&raw)
}

/// HTTPS/1.1 to 127.0.0.1, trusting only `ca_pem` (so the sim's certificate is checked too).
pub fn https(
    method: &str,
    port: u16,
    ca_pem: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let b64: String = ca_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| e.to_string())?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .map_err(|e| e.to_string())?;
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1")
        .map_err(|e| e.to_string())?
        .to_owned();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(&request_bytes(method, path, headers, body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    parse_response(&raw)
}
