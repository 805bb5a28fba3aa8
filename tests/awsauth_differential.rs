//! Two independent implementations of the authenticator's reading of aws-auth must agree:
//! for every fixture, what `eks-breakglass aws-auth show` says is loaded equals what eks-sim's
//! own loader (written separately, on another YAML library) holds after the same data is
//! written to a cluster.

mod common;
use common::world;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use world::{World, http};

/// The data map of a fixture manifest, when it is a ConfigMap whose values are all strings
/// (the only kind the Kubernetes API server would store).
fn data_of(path: &std::path::Path) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut doc: Value = serde_saphyr::from_str(&text).ok()?;
    if doc["kind"] == "List" {
        doc = doc["items"][0].clone();
    }
    if doc["kind"] != "ConfigMap" || doc["metadata"]["name"] != "aws-auth" {
        return None;
    }
    let data = doc["data"].as_object()?;
    data.iter()
        .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect()
}

/// What the product says the authenticator holds: entries not shadowed by a later duplicate
/// (roles by lower-cased ARN, users by the exact ARN).
fn product_view(w: &World, path: &std::path::Path) -> Value {
    let out = w
        .product()
        .args(["aws-auth", "show", "--output", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 3),
        "show {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let shadowed = |e: &Value| {
        e["marks"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["kind"] == "shadowed_by"))
    };
    let mut roles: Vec<Value> = v["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !shadowed(e))
        .map(|e| json!([e["arn"], e["username"], e["groups"], e.get("sso").is_some()]))
        .collect();
    let mut users: Vec<Value> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !shadowed(e))
        .map(|e| json!([e["arn"], e["username"], e["groups"]]))
        .collect();
    roles.sort_by_key(Value::to_string);
    users.sort_by_key(Value::to_string);
    let accounts: Vec<Value> = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            if a.is_object() {
                a["account"].clone()
            } else {
                a.clone()
            }
        })
        .collect();
    let sections: BTreeMap<String, String> = ["mapRoles", "mapUsers", "mapAccounts"]
        .iter()
        .map(|s| (s.to_string(), section_state(&v["sections"][*s])))
        .collect();
    json!({"roles": roles, "users": users, "accounts": accounts, "sections": sections})
}

fn section_state(v: &Value) -> String {
    let s = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v["status"].as_str().unwrap_or("?").to_string());
    match s.as_str() {
        "loaded" | "absent" => s,
        _ => "error".to_string(),
    }
}

/// What eks-sim's loader holds for the same data.
fn sim_view(w: &World, data: &BTreeMap<String, String>) -> Value {
    let (status, body) = http(
        "PUT",
        &format!("{}/clusters/prod/aws-auth", w.admin),
        &[("Content-Type", "application/json")],
        &json!({"data": data}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        "GET",
        &format!("{}/clusters/prod/effective-mapping", w.admin),
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut roles: Vec<Value> = v["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            json!([
                e["rolearn"].as_str().unwrap_or(""),
                e["username"],
                e["groups"],
                e.get("sso").is_some()
            ])
        })
        .collect();
    let mut users: Vec<Value> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["userarn"], e["username"], e["groups"]]))
        .collect();
    roles.sort_by_key(Value::to_string);
    users.sort_by_key(Value::to_string);
    let sections: BTreeMap<String, String> = ["mapRoles", "mapUsers", "mapAccounts"]
        .iter()
        .map(|s| (s.to_string(), section_state(&v["sections"][*s])))
        .collect();
    json!({"roles": roles, "users": users, "accounts": v["accounts"], "sections": sections})
}

#[test]
fn product_and_sim_load_the_same_mappings() {
    let w = World::start_yaml(&common::read(&common::fixture(
        "scenarios/differential.yaml",
    )));
    let dir = common::fixture("aws-auth");
    let mut compared = Vec::new();
    let mut disagreements = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.contains(".expected.") || name.ends_with(".oracle.json") {
            continue;
        }
        let Some(data) = data_of(&path) else { continue };
        let ours = product_view(&w, &path);
        let theirs = sim_view(&w, &data);
        if ours != theirs {
            disagreements.push(format!("{name}:\n  product: {ours}\n  sim:     {theirs}"));
        }
        compared.push(name);
    }
    assert!(
        compared.len() >= 30,
        "only {} fixtures were ConfigMaps: {compared:?}",
        compared.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} fixtures disagree:\n{}",
        disagreements.len(),
        compared.len(),
        disagreements.join("\n")
    );
    eprintln!("product and sim agree on {} fixtures", compared.len());
}
