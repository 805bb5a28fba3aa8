//! Review of issue 12: cases where `aws-auth show` and the authenticator's own libraries
//! (tools/awsauth-oracle) disagreed. The oracle is the verdict.
//!
//! The first case was the point of the review: the "known open classes" predicate that
//! tests/awsauth_oracle.rs had then skipped the *whole* data map as soon as mapAccounts held an
//! invalid `!!binary`, so a real, dangerous disagreement in mapRoles next to it was counted as
//! "known", never failed. That predicate is gone (every disagreement fails); these stay as
//! regression tests.

use serde_json::Value;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn oracle(manifest: &str) -> Value {
    let bin = std::env::var_os("AWSAUTH_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/awsauth-oracle/awsauth-oracle"));
    let mut child = Command::new(&bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (run tools/awsauth-oracle/build.sh)", bin.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(manifest.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("oracle");
    serde_json::from_slice(&out.stdout).expect("oracle json")
}

fn product(name: &str, manifest: &str) -> Value {
    let path = std::env::temp_dir().join(format!("review12-{}-{name}.yaml", std::process::id()));
    std::fs::write(&path, manifest).expect("write manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_eks-breakglass"))
        .args(["aws-auth", "show", "--output", "json"])
        .arg(&path)
        .output()
        .expect("product");
    let _ = std::fs::remove_file(&path);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "product output is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (mapRoles state, held roles as (key, username, groups)).
fn roles_view(v: &Value, key_field: &str) -> (String, Vec<(String, String, Vec<String>)>) {
    let state = v["sections"]["mapRoles"].as_str().unwrap_or("").to_string();
    let mut roles: Vec<_> = v["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|r| {
            !r["marks"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["kind"] == "shadowed_by"))
        })
        .map(|r| {
            (
                r[key_field].as_str().unwrap_or("").to_string(),
                r["username"].as_str().unwrap_or("").to_string(),
                r["groups"]
                    .as_array()
                    .map(|g| {
                        g.iter()
                            .map(|g| g.as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    roles.sort();
    (state, roles)
}

fn manifest(map_roles: &str, map_accounts: Option<&str>) -> String {
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    let mut m = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n",
    );
    m.push_str("  mapRoles: |\n");
    m.push_str(&indent(map_roles));
    if let Some(a) = map_accounts {
        m.push_str("  mapAccounts: |\n");
        m.push_str(&indent(a));
    }
    m
}

fn assert_agrees(name: &str, manifest: &str) {
    let o = oracle(manifest);
    let p = product(name, manifest);
    let ov = roles_view(&o, "key");
    let pv = roles_view(&p, "key");
    assert_eq!(
        pv, ov,
        "{name}: product (left) and the authenticator's libraries (right) disagree on mapRoles\ninput:\n{manifest}\noracle: {o}"
    );
}

const ADMIN_NULL_TAG: &str = "- rolearn: arn:aws:iam::111122223333:role/Admin
  username: admin
  groups:
    - system:masters
  note: !!null x";

#[test]
fn invalid_binary_in_map_accounts_does_not_hide_a_map_roles_access_gain() {
    // go-yaml: "cannot decode !!str `x` as a !!null" -> mapRoles lost; the product says
    // loaded with system:masters. `- !!binary x` in mapAccounts next to it once made
    // tests/awsauth_oracle.rs excuse the whole case.
    assert_agrees(
        "binary-swallow",
        &manifest(ADMIN_NULL_TAG, Some("- 111122223333\n- !!binary x")),
    );
}

#[test]
fn anchor_name_with_colon_is_not_a_yaml_1_2_anchor() {
    // libyaml: anchor names are [0-9A-Za-z_-]; `&g:x [..]` is anchor `g` on the plain scalar
    // ":x [system:masters]" -> groups is a string, encoding/json leaves groups empty.
    assert_agrees(
        "anchor-colon",
        &manifest(
            "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: &g:x [system:masters]",
            None,
        ),
    );
}

#[test]
fn timestamp_tag_on_a_non_timestamp_loses_the_section() {
    assert_agrees(
        "timestamp-tag",
        &manifest(
            "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: !!timestamp admin\n  groups: [system:masters]",
            None,
        ),
    );
}

#[test]
fn out_of_range_float_is_a_string_to_go_yaml() {
    // go-yaml v2 resolves a plain scalar as a float only if strconv.ParseFloat succeeds;
    // 1e400 overflows, so it stays the string "1e400" and the whole section loads.
    assert_agrees(
        "float-overflow",
        &manifest(
            "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: [system:masters]\n  note: 1e400",
            None,
        ),
    );
}
