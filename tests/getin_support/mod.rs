//! What only the get-in, grant, cleanup, restore and recover tests need on top of the common
//! world (`common::world`): an IAM "trap", a proxy in front of moto that can hold one call's
//! answer (to kill or interrupt the product in the middle of a step) or answer AccessDenied for
//! one action, and readers of a run's journal.
//!
//! Included with `mod common; #[path = "getin_support/mod.rs"] mod support;`.
#![allow(dead_code)]

use crate::common::wait_until;
use crate::common::world::arn;
use serde_json::Value;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The journal of a run, one JSON value per line.
pub fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line"))
        .collect()
}

/// The events of a journal, as `event:step` strings (without the `file_saved` records that
/// vouch for saved files).
pub fn events(dir: &Path) -> Vec<String> {
    journal(dir)
        .iter()
        .filter(|r| r["event"] != "file_saved")
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
