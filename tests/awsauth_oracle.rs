//! Ground truth for the aws-auth readers: the product's parser (`aws-auth show`) and eks-sim's
//! loader are compared with `tools/awsauth-oracle`, a small Go program built on the libraries
//! aws-iam-authenticator itself uses (go-yaml v2, sigs.k8s.io/yaml, encoding/json). Two readers
//! we wrote can share a wrong belief; the oracle cannot share it.
//!
//! Cases: every ConfigMap fixture under tests/fixtures/aws-auth, plus a seeded mutation fuzzer
//! (tabs, CR/CRLF, BOM, indentation shifts, YAML 1.1 specials, anchors and merge keys, flow
//! style, case-duplicate keys, comments, document markers, unicode look-alikes, mis-indented
//! list items, quoting) of `ORACLE_CASES` cases (default 5,000; `ORACLE_SEED` picks the seed).
//! The oracle is run once for all cases (JSON lines), the product's `show` path is called as a
//! library (the fixtures also through the binary, to prove it is the same path), eks-sim through
//! its admin API with the data map the API server would store.
//!
//! The oracle binary comes from `tools/awsauth-oracle/build.sh` (scripts/test.sh runs it). A
//! missing oracle is a failure, never a skip.

mod common;
use common::world::{self, World};

use eks_breakglass::awsauth::{self, ClusterFacts, EffectiveMapping};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn oracle_bin() -> PathBuf {
    let p = std::env::var_os("AWSAUTH_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target/awsauth-oracle/awsauth-oracle"));
    assert!(
        p.exists(),
        "the aws-auth oracle {} is missing: build it with tools/awsauth-oracle/build.sh \
         (scripts/test.sh does; it needs Debian's golang-go, golang-gopkg-yaml.v2-dev and \
         golang-k8s-sigs-yaml-dev, and installs them when run as root)",
        p.display()
    );
    // A binary built from another main.go would judge by other rules: refuse it.
    let built = Command::new(&p)
        .arg("-version")
        .output()
        .expect("oracle -version");
    let built = String::from_utf8_lossy(&built.stdout).trim().to_string();
    let src = Command::new("sha256sum")
        .arg(common::root().join("tools/awsauth-oracle/main.go"))
        .output()
        .expect("sha256sum");
    let src = String::from_utf8_lossy(&src.stdout);
    let want = format!(
        "awsauth-oracle main.go sha256:{}",
        src.split_whitespace().next().unwrap_or("")
    );
    assert_eq!(
        built,
        want,
        "the aws-auth oracle {} was not built from tools/awsauth-oracle/main.go as it is now: \
         rebuild it with tools/awsauth-oracle/build.sh",
        p.display()
    );
    p
}

/// Ask the oracle about many manifests in one process.
fn oracle(manifests: &[String]) -> Vec<Value> {
    let mut child = Command::new(oracle_bin())
        .arg("-jsonl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the oracle");
    let mut stdin = child.stdin.take().expect("stdin");
    let requests: Vec<String> = manifests
        .iter()
        .map(|m| json!({ "manifest": m }).to_string())
        .collect();
    let writer = std::thread::spawn(move || {
        for r in requests {
            writeln!(stdin, "{r}").expect("write to the oracle");
        }
    });
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    let verdicts: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(&l.expect("oracle output")).expect("oracle JSON"))
        .collect();
    writer.join().expect("writer");
    assert!(child.wait().expect("oracle").success(), "the oracle failed");
    assert_eq!(verdicts.len(), manifests.len(), "one verdict per case");
    verdicts
}

/// The comparable view: sections, the roles and users the authenticator holds, the account set.
fn normal(
    sections: Value,
    mut roles: Vec<Value>,
    mut users: Vec<Value>,
    accounts: &[String],
) -> Value {
    roles.sort_by_key(Value::to_string);
    users.sort_by_key(Value::to_string);
    let mut acc: Vec<&String> = accounts.iter().collect();
    acc.sort();
    acc.dedup();
    json!({"sections": sections, "roles": roles, "users": users, "accounts": acc})
}

fn sso_json(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    json!([
        v["permissionSetName"],
        v["accountID"],
        v.get("partition").cloned().unwrap_or(json!(""))
    ])
}

fn oracle_view(v: &Value) -> Value {
    if let Some(e) = v["manifest_error"].as_str() {
        return json!({ "manifest_error": e });
    }
    let roles = v["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| {
            json!([
                r["rolearn"],
                r["username"],
                r["groups"],
                sso_json(&r["sso"])
            ])
        })
        .collect();
    let users = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| json!([u["userarn"], u["username"], u["groups"]]))
        .collect();
    let accounts: Vec<String> = v["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    normal(v["sections"].clone(), roles, users, &accounts)
}

fn product_view_of(m: &EffectiveMapping) -> Value {
    let v = serde_json::to_value(m).expect("mapping JSON");
    product_view_json(&v)
}

/// From `aws-auth show --output json`: the entries without a `shadowed_by` mark are what the
/// authenticator's maps hold.
fn product_view_json(v: &Value) -> Value {
    let held = |e: &&Value| {
        !e["marks"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["kind"] == "shadowed_by"))
    };
    let roles = v["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(held)
        .map(|r| {
            json!([
                r["arn"],
                r["username"],
                r["groups"],
                sso_json(r.get("sso").unwrap_or(&Value::Null))
            ])
        })
        .collect();
    let users = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(held)
        .map(|u| json!([u["arn"], u["username"], u["groups"]]))
        .collect();
    let accounts: Vec<String> = v["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["account"].as_str().unwrap_or_default().to_string())
        .collect();
    normal(v["sections"].clone(), roles, users, &accounts)
}

/// The product's reading of a manifest, through the functions `aws-auth show` calls
/// (`read_document`, then `analyze`). A manifest it refuses is compared as a refusal.
fn product_view(name: &str, manifest: &str) -> (Value, Option<BTreeMap<String, String>>) {
    match awsauth::read_document(name, manifest.as_bytes()) {
        Ok(doc) => {
            let data = doc
                .data
                .iter()
                .filter_map(|d| match &d.value {
                    awsauth::source::DataValue::Text(t) => Some((d.key.clone(), t.clone())),
                    awsauth::source::DataValue::NotString { .. } => None,
                })
                .collect();
            let a = awsauth::analyze(&doc, &ClusterFacts::default());
            (product_view_of(&a.effective), Some(data))
        }
        Err(e) => (json!({ "manifest_error": e.to_string() }), None),
    }
}

fn sim_view(w: &World, data: &Value) -> Value {
    let (status, body) = world::http(
        "PUT",
        &format!("{}/clusters/prod/aws-auth", w.admin),
        &[("Content-Type", "application/json")],
        &json!({ "data": data }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = world::http(
        "GET",
        &format!("{}/clusters/prod/effective-mapping", w.admin),
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("sim JSON");
    let roles = v["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| {
            json!([
                r["rolearn"],
                r["username"],
                r["groups"],
                sso_json(r.get("sso").unwrap_or(&Value::Null))
            ])
        })
        .collect();
    let users = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| json!([u["userarn"], u["username"], u["groups"]]))
        .collect();
    let accounts: Vec<String> = v["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    let sections: BTreeMap<String, String> = ["mapRoles", "mapUsers", "mapAccounts"]
        .iter()
        .map(|s| {
            let st = v["sections"][*s]["status"].as_str().unwrap_or("?");
            let st = if st == "error" { "lost" } else { st };
            (s.to_string(), st.to_string())
        })
        .collect();
    normal(json!(sections), roles, users, &accounts)
}

// ---------------------------------------------------------------------------------------------
// The fuzzer: a seeded generator (xorshift; no dependency, reproducible from the seed).

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ROLES: &str = "- rolearn: arn:aws:iam::111122223333:role/eks-node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups:\n    - system:masters\n";
const ROLES_FLOW: &str = "- {rolearn: 'arn:aws:iam::111122223333:role/ops', username: ops, groups: [ledger-ops, view]}\n- rolearn: \"arn:aws:iam::111122223333:role/dev\"\n  username: \"dev:{{SessionName}}\"\n  groups: [\"dev\"]\n";
const ROLES_SSO: &str = "- sso:\n    permissionSetName: Admin\n    accountID: \"111122223333\"\n  username: sso-admin\n  groups:\n  - system:masters\n";
const USERS: &str = "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n    - system:masters\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n  groups: [view]\n";
const ACCOUNTS: &str = "- \"111122223333\"\n- 444455556666\n";

const SPECIALS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "NO",
    "~",
    "null",
    "Null",
    "true",
    "False",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    "1e3",
    ".inf",
    "-.Inf",
    ".NaN",
    "12345678901234567890",
    "2001-12-14",
    "\"\"",
    "''",
    "=",
    "<<",
    "!!str 5",
    "!!binary aGk=",
    "0b101",
    "+12",
    "1:20",
    "-",
    "[]",
    "{}",
    "{{SessionName}}",
    "\"{{SessionName}}\"",
    "*undefined",
    "&a x",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
];

const KEY_VARIANTS: &[&str] = &[
    "RoleArn",
    "ROLEARN",
    "roleARN",
    "UserArn",
    "USERARN",
    "Username",
    "USERNAME",
    "Groups",
    "GROUPS",
    "\u{17f}so",
    "SSO",
    "userid",
    "\u{212a}ey",
    "groupS",
];

const LOOKALIKES: &[(&str, &str)] = &[
    (":", "\u{ff1a}"),
    ("-", "\u{2010}"),
    (" ", "\u{a0}"),
    ("s", "\u{17f}"),
    ("k", "\u{212a}"),
    (" ", "\u{200b}"),
    ("a", "\u{430}"),
    ("\n", "\u{2028}"),
    ("\n", "\u{85}"),
];

fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            spans.push((start, i));
            start = i + 1;
        }
    }
    if start < text.len() {
        spans.push((start, text.len()));
    }
    spans
}

/// Byte offsets of every occurrence of `pat`.
fn occurrences(text: &str, pat: &str) -> Vec<usize> {
    text.match_indices(pat).map(|(i, _)| i).collect()
}

fn insert_at(text: &mut String, at: usize, s: &str) {
    if text.is_char_boundary(at) {
        text.insert_str(at, s);
    }
}

fn mutate(rng: &mut Rng, text: &mut String) -> &'static str {
    let lines = line_spans(text);
    let line = if lines.is_empty() {
        (0, 0)
    } else {
        *rng.pick(&lines)
    };
    match rng.below(22) {
        0 => {
            // A tab after a `:` (key: value, `system:` inside a value, at the end of a line).
            let at = occurrences(text, ":");
            if at.is_empty() {
                return "tab";
            }
            let i = *rng.pick(&at) + 1;
            if rng.chance(50) && text[i..].starts_with(' ') {
                text.replace_range(i..i + 1, "\t");
            } else {
                insert_at(text, i, "\t");
            }
            "tab after colon"
        }
        1 => {
            let at = occurrences(text, "- ");
            if at.is_empty() {
                return "tab";
            }
            let i = *rng.pick(&at) + 1;
            text.replace_range(i..i + 1, "\t");
            "tab after dash"
        }
        2 => {
            insert_at(text, line.0, if rng.chance(50) { "\t" } else { "  \t" });
            "tab in indentation"
        }
        3 => {
            insert_at(text, line.1, if rng.chance(50) { "\t" } else { " \t" });
            "tab at line end"
        }
        4 => {
            let at = occurrences(text, " ");
            if !at.is_empty() {
                let i = *rng.pick(&at);
                text.replace_range(i..i + 1, "\t");
            }
            "space to tab"
        }
        5 => {
            *text = text.replace('\n', "\r\n");
            "CRLF"
        }
        6 => {
            let s = *rng.pick(&["\r", "\r\t", "\r ", " \r"]);
            insert_at(text, line.1, s);
            "stray CR"
        }
        7 => {
            text.insert(0, '\u{feff}');
            "BOM"
        }
        8 => {
            if rng.chance(50) {
                const PADS: [&str; 3] = [" ", "  ", "   "];
                let pad = PADS[rng.below(PADS.len())];
                insert_at(text, line.0, pad);
            } else {
                let l = &text[line.0..line.1];
                let n = l.len() - l.trim_start_matches(' ').len();
                let cut = n.min(1 + rng.below(2));
                text.replace_range(line.0..line.0 + cut, "");
            }
            "indentation shift"
        }
        9 => {
            // Replace a value after `: ` or `- ` with a YAML 1.1 special.
            let mut at = occurrences(text, ": ");
            at.extend(occurrences(text, "- "));
            if at.is_empty() {
                return "special";
            }
            let i = *rng.pick(&at) + 2;
            let end = text[i..].find('\n').map_or(text.len(), |e| i + e);
            let s = *rng.pick(SPECIALS);
            text.replace_range(i..end, s);
            "YAML 1.1 special"
        }
        10 => {
            // Anchor the first item, merge it into another.
            if let Some(i) = text.find("- ") {
                let anchor = *rng.pick(&["&base ", "&base\n  ", "&base "]);
                text.insert_str(i + 2, anchor);
                let merge = *rng.pick(&[
                    "- <<: *base\n  username: merged\n",
                    "- <<: [*base]\n  rolearn: arn:aws:iam::111122223333:role/m\n",
                    "- *base\n",
                    "- {<<: *base, username: m}\n",
                    "- \"<<\": *base\n",
                    "- !!merge <<: *base\n",
                ]);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(merge);
            }
            "anchors/merge"
        }
        11 => {
            // Block list to flow style (or the reverse for a flow list).
            if let Some(i) = text.find("groups:\n") {
                let rest = &text[i + 8..];
                let mut items = Vec::new();
                let mut consumed = 0;
                for l in rest.split_inclusive('\n') {
                    let t = l.trim();
                    if let Some(item) = t.strip_prefix("- ") {
                        items.push(item.to_string());
                        consumed += l.len();
                    } else {
                        break;
                    }
                }
                let flow = format!("groups: [{}]\n", items.join(", "));
                text.replace_range(i..i + 8 + consumed, &flow);
            } else if let Some(i) = text.find("groups: [") {
                text.replace_range(i..i + 9, "groups:\n  - [");
            }
            "flow style"
        }
        12 => {
            // A case variant of a key, on a copy of a line.
            let l = text[line.0..line.1].to_string();
            if let Some(c) = l.find(": ") {
                let indent = l.len() - l.trim_start_matches([' ', '-']).len();
                let key = *rng.pick(KEY_VARIANTS);
                let copy = format!("{}{key}{}\n", " ".repeat(indent), &l[c..]);
                let at = if rng.chance(50) { line.1 + 1 } else { line.0 };
                insert_at(text, at.min(text.len()), &copy);
            }
            "case-duplicate key"
        }
        13 => {
            let s = *rng.pick(&[" # comment", "# c", " #", "\t# tab comment", "#x"]);
            if rng.chance(50) {
                insert_at(text, line.1, s);
            } else {
                insert_at(text, line.0, &format!("{}\n", s.trim_start()));
            }
            "comment"
        }
        14 => {
            let m = *rng.pick(&[
                "---\n",
                "--- ",
                "...\n",
                "--- |\n",
                "---\t\n",
                "%YAML 1.1\n---\n",
            ]);
            if rng.chance(50) {
                text.insert_str(0, m);
            } else {
                insert_at(text, line.0, m);
            }
            "document marker"
        }
        15 => {
            let (from, to) = *rng.pick(LOOKALIKES);
            let at = occurrences(text, from);
            if !at.is_empty() {
                let i = *rng.pick(&at);
                text.replace_range(i..i + from.len(), to);
            }
            "unicode look-alike"
        }
        16 => {
            // `- a` then ` - b`: a list item continued on a mis-indented line.
            let at = occurrences(text, "\n    - ");
            if let Some(&i) = at.first() {
                let shift = *rng.pick(&["\n     - ", "\n   - ", "\n      - ", "\n  - "]);
                text.replace_range(i..i + 7, shift);
            }
            "mis-indented list item"
        }
        17 => {
            // Quote or half-quote a value.
            let at = occurrences(text, ": ");
            if !at.is_empty() {
                let i = *rng.pick(&at) + 2;
                let q = *rng.pick(&["\"", "'", "\"\\t", "'x''", "\"\\"]);
                insert_at(text, i, q);
                if rng.chance(60) {
                    let end = text[i..].find('\n').map_or(text.len(), |e| i + e);
                    insert_at(text, end, &q[..1]);
                }
            }
            "quoting"
        }
        18 => {
            if line.1 > line.0 {
                let i = line.0 + rng.below(line.1 - line.0);
                if text.is_char_boundary(i) && text.is_char_boundary(i + 1) {
                    text.remove(i);
                }
            }
            "deleted character"
        }
        19 => {
            let l = text[line.0..line.1].to_string();
            insert_at(text, line.0, &format!("{l}\n"));
            "duplicated line"
        }
        20 => {
            let s = *rng.pick(&[
                "\n",
                "  \n",
                "\t\n",
                "- \n",
                "-\n",
                "  - \n",
                "? rolearn\n: arn:aws:iam::111122223333:role/q\n",
                "- ? rolearn\n  :\tarn:aws:iam::111122223333:role/q\n",
                "- [a, b]\n",
                "- \"quoted\"\n",
            ]);
            insert_at(text, line.0, s);
            "inserted line"
        }
        _ => {
            let s = *rng.pick(&[
                "{{SessionName}}",
                "{{AccountID}}",
                "system:masters",
                "a: b",
                "x - y",
            ]);
            let at = occurrences(text, ": ");
            if !at.is_empty() {
                let i = *rng.pick(&at) + 2;
                insert_at(text, i, s);
            }
            "inserted text"
        }
    }
}

/// Indicator for a literal block scalar that holds `text` exactly (content indented by 4).
fn literal_block(text: &str) -> Option<String> {
    if text.is_empty()
        || text.contains(['\r', '\u{feff}', '\u{85}', '\u{2028}', '\u{2029}'])
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return None;
    }
    let trailing = text.len() - text.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|2{chomp}\n");
    for l in text.trim_end_matches('\n').split('\n') {
        if l.is_empty() {
            out.push('\n');
        } else {
            out.push_str("    ");
            out.push_str(l);
            out.push('\n');
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    Some(out)
}

fn manifest(rng: &mut Rng, data: &[(&str, String)]) -> String {
    if rng.chance(5) {
        let m: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        return serde_json::to_string_pretty(&json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": m,
        }))
        .expect("JSON");
    }
    let mut out = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n",
    );
    for (k, v) in data {
        let block = if rng.chance(80) {
            literal_block(v)
        } else {
            None
        };
        match block {
            Some(b) => out.push_str(&format!("  {k}: {b}")),
            None => out.push_str(&format!(
                "  {k}: {}\n",
                serde_json::to_string(v).expect("JSON string")
            )),
        }
    }
    out
}

fn fuzz_cases(seed: u64, n: usize) -> Vec<(String, String)> {
    let mut rng = Rng(seed.max(1));
    let bases: [&[(&str, &str)]; 5] = [
        &[("mapRoles", ROLES), ("mapUsers", USERS)],
        &[("mapRoles", ROLES_FLOW), ("mapAccounts", ACCOUNTS)],
        &[("mapRoles", ROLES_SSO), ("mapUsers", USERS)],
        &[("mapUsers", USERS), ("mapAccounts", ACCOUNTS)],
        &[
            ("mapRoles", ROLES),
            ("mapUsers", USERS),
            ("mapAccounts", ACCOUNTS),
        ],
    ];
    (0..n)
        .map(|i| {
            let base = *rng.pick(&bases);
            let target = rng.below(base.len());
            let mut data: Vec<(&str, String)> =
                base.iter().map(|(k, v)| (*k, v.to_string())).collect();
            let mut classes = Vec::new();
            for _ in 0..1 + rng.below(3) {
                classes.push(mutate(&mut rng, &mut data[target].1));
            }
            let name = format!("fuzz #{i} ({}: {})", data[target].0, classes.join(", "));
            (name, manifest(&mut rng, &data))
        })
        .collect()
}

/// Text with its invisible characters made visible.
fn visible(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\t' => out.push('→'),
            '\r' => out.push('␍'),
            '\n' => out.push_str("↵\n"),
            '\u{feff}' => out.push_str("<BOM>"),
            c if c.is_ascii() && !c.is_control() => out.push(c),
            c => out.push_str(&format!("<U+{:04X}>", c as u32)),
        }
    }
    out
}

fn fixture_cases() -> Vec<(String, String)> {
    let dir = common::fixture("aws-auth");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| {
            let n = p.to_string_lossy();
            !n.contains(".expected.") && !n.ends_with(".oracle.json")
        })
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.file_name()?.to_string_lossy().to_string(), text))
        })
        .collect()
}

struct Outcome {
    compared: usize,
    /// eksctl ClusterConfig / bare data files: no ConfigMap for the oracle to read.
    not_configmap: usize,
    product: Vec<String>,
    sim: Vec<String>,
}

fn run(cases: &[(String, String)], w: &World, check_binary: bool) -> Outcome {
    let manifests: Vec<String> = cases.iter().map(|(_, m)| m.clone()).collect();
    let verdicts = oracle(&manifests);
    let mut out = Outcome {
        compared: 0,
        not_configmap: 0,
        product: Vec::new(),
        sim: Vec::new(),
    };
    for ((name, manifest), verdict) in cases.iter().zip(&verdicts) {
        let truth = oracle_view(verdict);
        let (ours, data) = product_view(name, manifest);
        let readable = |who: &str, got: &Value| {
            format!(
                "--- {name}\ninput:\n{}\noracle: {}\n{who}: {got}\n",
                visible(manifest),
                serde_json::to_string(verdict).unwrap_or_default(),
            )
        };
        let format = awsauth::read_document(name, manifest.as_bytes()).map(|d| d.format);
        if matches!(
            format,
            Ok(awsauth::SourceFormat::EksctlClusterConfig | awsauth::SourceFormat::DataYaml)
        ) {
            // Not a ConfigMap: the product turns it into one itself; nothing for the oracle.
            out.not_configmap += 1;
            continue;
        }
        if verdict["manifest_error"].is_string() {
            // kubectl would refuse this manifest: there is nothing the authenticator reads. The
            // product must not claim a reading either: it refuses the file, or holds a data
            // value that is not a string (lint error) so that nobody applies it.
            let refused = ours["manifest_error"].is_string()
                || awsauth::read_document(name, manifest.as_bytes()).is_ok_and(|d| {
                    d.data
                        .iter()
                        .any(|e| matches!(e.value, awsauth::source::DataValue::NotString { .. }))
                });
            if !refused {
                out.product.push(readable("product", &ours));
            }
            out.compared += 1;
            continue;
        }
        out.compared += 1;
        let theirs = sim_view(w, &verdict["data"]);
        if theirs != truth {
            out.sim.push(readable("sim", &theirs));
        }
        let truth_data: BTreeMap<String, String> =
            serde_json::from_value(verdict["data"].clone()).unwrap_or_default();
        if data.as_ref() != Some(&truth_data) {
            out.product.push(readable(
                "product (data map as read from the manifest)",
                &json!(data),
            ));
        } else if ours != truth {
            out.product.push(readable("product", &ours));
        }
        if check_binary {
            let cmd = common::product()
                .args(["aws-auth", "show", "--output", "json", "-"])
                .write_stdin(manifest.as_bytes().to_vec())
                .output()
                .expect("run show");
            let shown: Value = serde_json::from_slice(&cmd.stdout).unwrap_or(Value::Null);
            assert_eq!(
                product_view_json(&shown),
                ours,
                "{name}: `aws-auth show --output json` and the library disagree"
            );
        }
    }
    out
}

fn report(what: &str, o: &Outcome) {
    // ORACLE_DUMP=FILE writes every disagreement, for studying a long run.
    if let Some(path) = std::env::var_os("ORACLE_DUMP") {
        let all = format!(
            "PRODUCT\n{}\nSIM\n{}",
            o.product.join("\n"),
            o.sim.join("\n")
        );
        std::fs::write(&path, all).expect("write ORACLE_DUMP");
    }
    let shown = |v: &[String]| v.iter().take(8).cloned().collect::<Vec<_>>().join("\n");
    let rate = |n: usize| 100.0 * n as f64 / o.compared.max(1) as f64;
    // Printed before the verdict, so that a long run by hand shows its rates either way.
    eprintln!(
        "{what}: {} cases compared; product disagrees on {} ({:.3} %), eks-sim on {} ({:.3} %)",
        o.compared,
        o.product.len(),
        rate(o.product.len()),
        o.sim.len(),
        rate(o.sim.len()),
    );
    assert!(
        o.product.is_empty() && o.sim.is_empty(),
        "{what}: of {} cases, the product disagrees with the oracle on {} and eks-sim on {} \
         (100 % agreement is required; nothing is excused).\n\
         First product disagreements:\n{}\nFirst eks-sim disagreements:\n{}",
        o.compared,
        o.product.len(),
        o.sim.len(),
        shown(&o.product),
        shown(&o.sim),
    );
}

fn start_world() -> World {
    World::start_yaml(&common::read(&common::fixture(
        "scenarios/differential.yaml",
    )))
}

/// Fixtures named after a class of disagreement fixed in issue 12 carry the oracle's verdict
/// (`<case>.oracle.json`, written from tools/awsauth-oracle): the oracle must still say the
/// same, so the class stays pinned to what go-yaml does even if the fixture or the oracle
/// changes.
#[test]
fn fixtures_keep_the_oracle_verdict_they_were_named_for() {
    let dir = common::fixture("aws-auth");
    let mut pinned: Vec<(String, String, Value)> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| {
            let p = e.expect("entry").path();
            let n = p.file_name()?.to_string_lossy().to_string();
            let case = n.strip_suffix(".oracle.json")?.to_string();
            let verdict: Value =
                serde_json::from_str(&std::fs::read_to_string(&p).ok()?).expect("verdict JSON");
            let input = std::fs::read_to_string(dir.join(format!("{case}.yaml"))).ok()?;
            Some((case, input, verdict))
        })
        .collect();
    pinned.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(pinned.len() >= 9, "only {} pinned fixtures", pinned.len());
    let inputs: Vec<String> = pinned.iter().map(|(_, i, _)| i.clone()).collect();
    for ((case, _, want), got) in pinned.iter().zip(oracle(&inputs)) {
        for k in ["sections", "roles", "users", "accounts", "errors"] {
            assert_eq!(got[k], want[k], "{case}: the oracle's {k} changed");
        }
    }
}

#[test]
fn fixtures_agree_with_the_authenticator_libraries() {
    let _ = oracle_bin();
    let w = start_world();
    let cases = fixture_cases();
    let o = run(&cases, &w, true);
    assert!(o.compared >= 40, "only {} fixtures compared", o.compared);
    report("fixtures", &o);
}

#[test]
fn fuzzed_aws_auth_agrees_with_the_authenticator_libraries() {
    let _ = oracle_bin();
    let n: usize = std::env::var("ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let seed: u64 = std::env::var("ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_a115_a0de);
    eprintln!("fuzzing {n} cases with ORACLE_SEED={seed}");
    let w = start_world();
    let cases = fuzz_cases(seed, n);
    let o = run(&cases, &w, false);
    report(&format!("fuzz (ORACLE_SEED={seed})"), &o);
}
