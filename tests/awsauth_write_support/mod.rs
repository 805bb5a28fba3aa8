//! Helpers for the aws-auth write tests (restore, edit, snapshot): the live ConfigMap and the
//! mapping the simulator's own authenticator loaded (read through its admin API, independent of
//! the product's parser), known-good data, and a scripted `$EDITOR`.
//!
//! Included after `mod common;` with `#[path = "awsauth_write_support/mod.rs"] mod aw;`.
#![allow(dead_code)]

use crate::common::world::World;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub const NODE_ROLE: &str = "arn:aws:iam::123456789012:role/eks-node-role";
pub const FARGATE_ROLE: &str = "arn:aws:iam::123456789012:role/eks-fargate-pod-execution";

/// The live aws-auth as the sim holds it: `{exists, resourceVersion, data}`.
pub fn live(w: &World, cluster: &str) -> Value {
    w.admin_get(&format!("clusters/{cluster}/aws-auth"))
}

pub fn live_data(w: &World, cluster: &str) -> Value {
    live(w, cluster)["data"].clone()
}

pub fn resource_version(w: &World, cluster: &str) -> String {
    live(w, cluster)["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Replaces the live aws-auth data behind the product's back (a colleague, a bad edit).
pub fn set_live(w: &World, cluster: &str, data: &Value) {
    w.admin_put(
        &format!("clusters/{cluster}/aws-auth"),
        &json!({"data": data}),
    );
}

/// What the sim's authenticator loaded: `{roles: [{rolearn, username, groups}], users, accounts, sections}`.
pub fn effective(w: &World, cluster: &str) -> Value {
    w.admin_get(&format!("clusters/{cluster}/effective-mapping"))
}

/// The role ARNs the sim maps, lower-cased.
pub fn mapped_roles(m: &Value) -> Vec<String> {
    m["roles"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            r["rolearn"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect()
}

pub fn mapped_users(m: &Value) -> Vec<(String, String)> {
    m["users"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|u| {
            (
                u["userarn"].as_str().unwrap_or_default().to_string(),
                u["username"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The seed's data with its mistakes fixed: every person and the node and Fargate roles mapped.
pub fn good_data() -> Value {
    json!({
        "mapRoles": "- rolearn: arn:aws:iam::123456789012:role/dev-admin\n  username: dev-admin:{{SessionName}}\n  groups:\n    - system:masters\n- rolearn: arn:aws:iam::123456789012:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n- rolearn: arn:aws:iam::123456789012:role/eks-fargate-pod-execution\n  username: system:node:{{SessionName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n    - system:node-proxier\n",
        "mapUsers": "- userarn: arn:aws:iam::123456789012:user/team/dev/alice\n  username: alice\n  groups:\n    - system:masters\n- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n  groups:\n    - system:masters\n",
        "mapAccounts": "- \"111122223333\"\n",
        "team-notes": "owned by platform; ask #platform before editing",
    })
}

/// The seed's broken data (as the scenario starts).
pub fn seed_data() -> Value {
    json!({
        "mapRoles": "- rolearn: arn:aws:iam::123456789012:role/dev-admin\n  username: dev-admin:{{SessionName}}\n  groups:\n    - system:masters\n- rolearn: arn:aws:iam::123456789012:role/team/ops/ops\n  username: ops\n  groups:\n    - system:masters\n",
        "mapUsers": "- userarn: arn:aws:iam::123456789012:user/team/dev/alice\n  username: alice\n  groups:\n    - system:masters\n- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n groups:\n    - system:masters\n",
        "mapAccounts": "- \"111122223333\"\n",
        "team-notes": "owned by platform; ask #platform before editing",
    })
}

/// The access key of a scenario user (id, secret).
pub fn user_key(w: &World, user: &str) -> (String, String) {
    let k = &w.state["users"][user]["accessKeys"][0];
    (
        k["accessKeyId"].as_str().expect("key id").to_string(),
        k["secretAccessKey"].as_str().expect("secret").to_string(),
    )
}

/// A scripted `$EDITOR` (Python from the test venv). Each call saves what it was shown as
/// `seen-N.yaml` in `dir`, then acts by `EDIT_MODE`:
/// - `mistake-then-empty`: 1st call un-indents the `groups:` of user `EDIT_USER` by one space
///   (the seed's mistake); later calls empty the file (cancel);
/// - `mistake`: un-indents it on every call;
/// - `rename`: renames `username: alice` to `alice2`;
/// - `noop`: saves the file as it is;
/// - `conflict`: a colleague changes `team-notes` (sim admin API) while we rename alice;
/// - `conflict-overlap`: a colleague renames alice to `alice-colleague` while we rename her to `alice2`.
pub fn editor(dir: &Path) -> PathBuf {
    let python = crate::common::venv_bin("python");
    let script = dir.join("editor.py");
    std::fs::write(
        &script,
        format!(
            r#"#!{python}
import json, os, re, sys, urllib.request
path = sys.argv[-1]
d = os.environ["EDIT_DIR"]
mode = os.environ["EDIT_MODE"]
admin = os.environ["SIM_ADMIN"] + "/clusters/" + os.environ.get("EDIT_CLUSTER", "prod") + "/aws-auth"
n = len([f for f in os.listdir(d) if f.startswith("seen-")]) + 1
text = open(path).read()
open(os.path.join(d, "seen-%d.yaml" % n), "w").write(text)
def get():
    return json.load(urllib.request.urlopen(admin))["data"]
def put(data):
    req = urllib.request.Request(admin, data=json.dumps({{"data": data}}).encode(), method="PUT", headers={{"Content-Type": "application/json"}})
    urllib.request.urlopen(req).read()
def mistake(t):
    user = re.escape(os.environ.get("EDIT_USER", "oncall"))
    out, k = re.subn(r"(username: " + user + r"\n)( *)groups:", lambda m: m.group(1) + m.group(2)[1:] + "groups:", t, count=1)
    assert k == 1, t
    return out
if mode == "mistake-then-empty":
    text = mistake(text) if n == 1 else ""
elif mode == "mistake":
    text = mistake(text)
elif mode == "rename":
    text = text.replace("username: alice\n", "username: alice2\n", 1)
elif mode == "conflict":
    data = get(); data["team-notes"] = "changed by a colleague"; put(data)
    text = text.replace("username: alice\n", "username: alice2\n", 1)
elif mode == "conflict-overlap":
    data = get(); data["mapUsers"] = data["mapUsers"].replace("username: alice\n", "username: alice-colleague\n", 1); put(data)
    text = text.replace("username: alice\n", "username: alice2\n", 1)
open(path, "w").write(text)
"#,
            python = python.display()
        ),
    )
    .expect("write editor");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// The run directory of a restore/edit, from the `journal: DIR` line on stderr.
pub fn journal_dir(stderr: &str) -> PathBuf {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("journal: "))
        .unwrap_or_else(|| panic!("no journal line in: {stderr}"));
    PathBuf::from(line.trim())
}
