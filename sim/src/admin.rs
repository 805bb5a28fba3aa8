//! The test/admin API under `/_sim/` on the EKS port (no AWS auth).

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};

use crate::cloudtrail::Throttle;
use crate::http::{Req, Resp, json_response, response};
use crate::state::{ConfigMap, DenyRule, SharedSim, effective_mapping, lock, read, uuid, write};

fn err(status: u16, msg: &str) -> Resp {
    json_response(status, &json!({"error": msg}))
}

pub async fn handle(sim: SharedSim, req: Req) -> Resp {
    let seg = req.segments();
    let s: Vec<&str> = seg.iter().map(|s| s.as_str()).collect();
    match (req.method.clone(), &s[1..]) {
        (Method::GET, ["state"]) => {
            let mut doc = lock(&sim.state_doc).clone();
            let mut world = lock(&sim.world);
            let now = chrono::Utc::now();
            for c in world.clusters.values_mut() {
                c.settle(now);
            }
            doc["clusters"] = crate::state::clusters_json(&world);
            json_response(200, &doc)
        }
        (Method::GET, ["ca.pem"]) => response(200, "application/x-pem-file", sim.ca_pem.clone()),
        (Method::GET, ["calls"]) => {
            let calls = lock(&sim.calls);
            let items: Vec<Value> = calls
                .iter()
                .filter(|c| req.query_param("service").is_none_or(|s| c.service == s))
                .filter(|c| req.query_param("action").is_none_or(|a| c.action == a))
                .filter(|c| {
                    req.query_param("cluster")
                        .is_none_or(|a| c.cluster.as_deref() == Some(a))
                })
                .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
                .collect();
            json_response(200, &json!({"count": items.len(), "calls": items}))
        }
        (Method::DELETE, ["calls"]) => {
            lock(&sim.calls).clear();
            json_response(200, &json!({}))
        }
        (Method::GET, ["auth-log"]) => {
            let log = lock(&sim.auth_log);
            let items: Vec<Value> = log
                .iter()
                .filter(|c| req.query_param("cluster").is_none_or(|a| c.cluster == a))
                .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
                .collect();
            json_response(200, &json!({"count": items.len(), "entries": items}))
        }
        (Method::DELETE, ["auth-log"]) => {
            lock(&sim.auth_log).clear();
            json_response(200, &json!({}))
        }
        (Method::GET, ["cloudtrail", "events"]) => {
            let store = read(&sim.trail);
            json_response(200, &json!({"count": store.len()}))
        }
        (Method::DELETE, ["cloudtrail", "events"]) => {
            write(&sim.trail).clear();
            json_response(200, &json!({"count": 0}))
        }
        (Method::GET, ["cloudtrail", "throttle"]) => {
            let t = lock(&sim.throttle);
            json_response(
                200,
                &json!({"off": t.rate.is_none(), "rate": t.rate, "burst": t.burst}),
            )
        }
        (Method::PUT, ["cloudtrail", "throttle"]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let off = body["off"].as_bool().unwrap_or(false);
            let rate = body["rate"].as_f64().unwrap_or(2.0);
            let burst = body["burst"].as_f64().unwrap_or(rate.max(1.0));
            *lock(&sim.throttle) = Throttle::new(if off { None } else { Some(rate) }, burst);
            json_response(
                200,
                &json!({"off": off, "rate": if off { None } else { Some(rate) }, "burst": burst}),
            )
        }
        (Method::GET, ["deny"]) => json_response(200, &json!({"deny": lock(&sim.world).deny})),
        (Method::PUT, ["deny"]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            match serde_json::from_value::<Vec<DenyRule>>(body["deny"].clone()) {
                Ok(rules) => {
                    lock(&sim.world).deny = rules.clone();
                    json_response(200, &json!({"deny": rules}))
                }
                Err(e) => err(
                    400,
                    &format!(
                        "body must be {{\"deny\": [{{\"principal\": ARN, \"actions\": [..]}}]}}: {e}"
                    ),
                ),
            }
        }
        (Method::PUT, ["update-delay"]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let secs = body["seconds"].as_f64().unwrap_or(0.0).max(0.0);
            *lock(&sim.update_delay) = Duration::from_secs_f64(secs);
            json_response(200, &json!({"seconds": secs}))
        }
        (Method::PUT, ["cloudtrail", "pages"]) => {
            // {"scanPerPage": 3, "deliveryDelaySeconds": 60}; null/absent = full pages, no delay.
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let scan = body["scanPerPage"].as_u64().map(|n| n.max(1) as usize);
            let delay = (body["deliveryDelaySeconds"]
                .as_f64()
                .unwrap_or(0.0)
                .max(0.0)
                * 1000.0) as i64;
            *lock(&sim.cloudtrail_pages) = (scan, delay);
            json_response(
                200,
                &json!({"scanPerPage": scan, "deliveryDelaySeconds": delay as f64 / 1000.0}),
            )
        }
        (Method::GET, ["imposed-waits"]) => {
            let (waits, total) = sim.iam.imposed_waits();
            json_response(200, &json!({"totalSeconds": total, "waits": waits}))
        }
        (Method::DELETE, ["imposed-waits"]) => {
            sim.iam.clear_imposed();
            json_response(200, &json!({"totalSeconds": 0.0, "waits": []}))
        }
        (Method::GET, ["propagation"]) => json_response(200, &json!(sim.iam.propagation())),
        (Method::PUT, ["propagation"]) => {
            // {"seconds": 1} sets every delay; or the four fields of scenario `propagation`.
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let p = match body.get("seconds").and_then(Value::as_f64) {
                Some(s) => Ok(crate::iamrules::Propagation::uniform(s)),
                None => serde_json::from_value::<crate::iamrules::Propagation>(body),
            };
            match p {
                Ok(p) => {
                    *lock(&sim.iam.propagation) = p;
                    json_response(200, &json!(p))
                }
                Err(e) => err(
                    400,
                    &format!("body must be {{\"seconds\": N}} or {{\"accessKeySeconds\": …}}: {e}"),
                ),
            }
        }
        (Method::PUT, ["clock"]) => {
            // {"advanceSeconds": 3700}: sessions are judged as if that much time had passed.
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let secs = body["advanceSeconds"].as_f64().unwrap_or(0.0);
            let mut off = lock(&sim.clock_offset);
            *off += chrono::TimeDelta::milliseconds((secs * 1000.0) as i64);
            json_response(
                200,
                &json!({"offsetSeconds": off.num_milliseconds() as f64 / 1000.0}),
            )
        }
        (Method::PUT, ["update-failure"]) => {
            // {"errorCode": "AccessDenied", "errorMessage": "…"} or {} to succeed again.
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if body.as_object().is_some_and(|o| o.is_empty()) {
                *lock(&sim.update_failure) = None;
                return json_response(200, &json!({"failure": null}));
            }
            match serde_json::from_value::<crate::state::UpdateFailure>(body) {
                Ok(f) => {
                    *lock(&sim.update_failure) = Some(f.clone());
                    json_response(200, &json!({"failure": f}))
                }
                Err(e) => err(
                    400,
                    &format!(
                        "body must be {{\"errorCode\": CODE, \"errorMessage\": TEXT}} or {{}}: {e}"
                    ),
                ),
            }
        }
        (Method::GET, ["clusters", name, "effective-mapping"]) => {
            let mut world = lock(&sim.world);
            match world.clusters.get_mut(*name) {
                Some(c) => json_response(200, &effective_mapping(c)),
                None => err(404, &format!("no cluster {name}")),
            }
        }
        (Method::GET, ["clusters", name, "aws-auth"]) => {
            let world = lock(&sim.world);
            let Some(c) = world.clusters.get(*name) else {
                return err(404, &format!("no cluster {name}"));
            };
            match c
                .configmaps
                .get(&("kube-system".to_string(), "aws-auth".to_string()))
            {
                Some(cm) => json_response(
                    200,
                    &json!({"exists": true, "resourceVersion": cm.resource_version.to_string(), "data": cm.data}),
                ),
                None => json_response(200, &json!({"exists": false, "data": null})),
            }
        }
        (Method::PUT, ["clusters", name, "aws-auth"]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let Ok(data) = serde_json::from_value::<BTreeMap<String, String>>(body["data"].clone())
            else {
                return err(
                    400,
                    "body must be {\"data\": {\"mapRoles\": \"...\", ...}} with string values",
                );
            };
            let mut world = lock(&sim.world);
            let Some(c) = world.clusters.get_mut(*name) else {
                return err(404, &format!("no cluster {name}"));
            };
            let rv = c.next_resource_version();
            set_aws_auth(c, data, rv);
            json_response(200, &json!({"resourceVersion": rv.to_string()}))
        }
        (Method::DELETE, ["clusters", name, "aws-auth"]) => {
            let mut world = lock(&sim.world);
            let Some(c) = world.clusters.get_mut(*name) else {
                return err(404, &format!("no cluster {name}"));
            };
            c.configmaps
                .remove(&("kube-system".to_string(), "aws-auth".to_string()));
            c.next_resource_version();
            json_response(200, &json!({"exists": false}))
        }
        (Method::PUT, ["clusters", name, "admission"]) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let mut world = lock(&sim.world);
            let Some(c) = world.clusters.get_mut(*name) else {
                return err(404, &format!("no cluster {name}"));
            };
            c.admission = body["enabled"].as_bool().unwrap_or(false);
            json_response(200, &json!({"enabled": c.admission}))
        }
        _ => err(
            404,
            &format!("no admin endpoint {} {}", req.method, req.path),
        ),
    }
}

/// Creates or replaces kube-system/aws-auth (no admission, no auth).
pub fn set_aws_auth(c: &mut crate::state::Cluster, data: BTreeMap<String, String>, rv: u64) {
    let key = ("kube-system".to_string(), "aws-auth".to_string());
    match c.configmaps.get_mut(&key) {
        Some(cm) => {
            cm.data = data;
            cm.resource_version = rv;
        }
        None => {
            c.configmaps.insert(
                key,
                ConfigMap {
                    namespace: "kube-system".into(),
                    name: "aws-auth".into(),
                    uid: uuid(),
                    resource_version: rv,
                    created_at: c.created_at,
                    labels: None,
                    annotations: None,
                    data,
                },
            );
        }
    }
}
