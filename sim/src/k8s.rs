//! One Kubernetes API server per cluster over HTTPS: discovery, ConfigMaps, SelfSubjectReview,
//! SelfSubjectAccessReview, with EKS authentication and the optional aws-auth admission.

use std::collections::BTreeMap;

use chrono::Utc;
use hyper::Method;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::awsauth::AwsAuth;
use crate::http::{Req, Resp, json_response, serve};
use crate::state::{ConfigMap, KubeUser, SharedSim, authorize, lock, uuid};

pub const WEBHOOK: &str = "eks-aws-auth-configmap-validation-webhook";

/// Binds 127.0.0.1:0 and serves the cluster's API; returns the port and an abort handle.
pub async fn spawn_cluster_server(
    sim: SharedSim,
    cluster: String,
) -> Result<(u16, tokio::task::AbortHandle), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("binding a port for cluster {cluster}: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let tls = sim.tls.clone();
    let task = tokio::spawn(async move {
        let sim2 = sim.clone();
        serve(listener, Some(tls), move |req| {
            let sim = sim2.clone();
            let cluster = cluster.clone();
            async move { handle(sim, cluster, req).await }
        })
        .await;
    });
    Ok((port, task.abort_handle()))
}

pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Resp {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    json_response(code, &v)
}

fn forbidden(user: &KubeUser, verb: &str, name: Option<&str>, ns: &str) -> Resp {
    let what = match name {
        Some(n) => format!("configmaps {n:?} is forbidden"),
        None => "configmaps is forbidden".to_string(),
    };
    status(
        403,
        "Forbidden",
        &format!(
            "{what}: User {:?} cannot {verb} resource \"configmaps\" in API group \"\" in the namespace {ns:?}",
            user.username
        ),
        Some(json!({"name": name.unwrap_or_default(), "kind": "configmaps"})),
    )
}

fn not_found(name: &str) -> Resp {
    status(
        404,
        "NotFound",
        &format!("configmaps {name:?} not found"),
        Some(json!({"name": name, "kind": "configmaps"})),
    )
}

fn conflict(name: &str) -> Resp {
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on configmaps {name:?}: the object has been modified; please apply your changes to the latest version and try again"
        ),
        Some(json!({"name": name, "kind": "configmaps"})),
    )
}

fn version_json(sim: &SharedSim, cluster: &str) -> Value {
    let world = lock(&sim.world);
    let v = world
        .clusters
        .get(cluster)
        .map(|c| c.version.clone())
        .unwrap_or_else(|| "1.31".into());
    let minor = v.split('.').nth(1).unwrap_or("31").to_string();
    json!({
        "major": "1",
        "minor": format!("{minor}+"),
        "gitVersion": format!("v{v}.0-eks-sim"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-01-01T00:00:00Z",
        "goVersion": "go1.22.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn discovery(path: &str, port: u16) -> Option<Value> {
    Some(match path {
        "/api" => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": format!("127.0.0.1:{port}")}],
        }),
        "/apis" => json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {"name": "authentication.k8s.io", "versions": [{"groupVersion": "authentication.k8s.io/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "authentication.k8s.io/v1", "version": "v1"}},
                {"name": "authorization.k8s.io", "versions": [{"groupVersion": "authorization.k8s.io/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": "authorization.k8s.io/v1", "version": "v1"}},
            ],
        }),
        "/api/v1" => json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {"name": "configmaps", "singularName": "configmap", "namespaced": true, "kind": "ConfigMap",
                 "verbs": ["create", "delete", "get", "list", "patch", "update"], "shortNames": ["cm"]},
            ],
        }),
        "/apis/authentication.k8s.io/v1" => json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": "authentication.k8s.io/v1",
            "resources": [
                {"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]},
                {"name": "tokenreviews", "singularName": "tokenreview", "namespaced": false, "kind": "TokenReview", "verbs": ["create"]},
            ],
        }),
        "/apis/authorization.k8s.io/v1" => json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": "authorization.k8s.io/v1",
            "resources": [
                {"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]},
            ],
        }),
        "/openapi/v3" => {
            json!({"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=EKSSIM0001"}}})
        }
        "/openapi/v3/api/v1" => openapi_v3_core(),
        _ => return None,
    })
}

/// Just enough OpenAPI v3 for kubectl to see that ConfigMap PATCH supports server-side field
/// validation (`fieldValidation`), so `kubectl edit`/`apply` need no client-side schemas.
fn openapi_v3_core() -> Value {
    let gvk = json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    let params = json!([
        {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "namespace", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        {"name": "force", "in": "query", "schema": {"type": "boolean"}},
    ]);
    let op = |id: &str, action: &str| {
        json!({
            "operationId": id,
            "parameters": params,
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        })
    };
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.31.0"},
        "paths": {
            "/api/v1/namespaces/{namespace}/configmaps/{name}": {
                "get": op("readCoreV1NamespacedConfigMap", "get"),
                "put": op("replaceCoreV1NamespacedConfigMap", "put"),
                "patch": op("patchCoreV1NamespacedConfigMap", "patch"),
                "delete": op("deleteCoreV1NamespacedConfigMap", "delete"),
            },
        },
        "components": {"schemas": {
            "io.k8s.api.core.v1.ConfigMap": {
                "type": "object",
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "data": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
                    "binaryData": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                    "immutable": {"type": "boolean"},
                },
                "x-kubernetes-group-version-kind": [gvk],
            },
        }},
    })
}

pub async fn handle(sim: SharedSim, cluster: String, req: Req) -> Resp {
    let path = req.path.trim_end_matches('/').to_string();
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        path
    };
    if req.method == Method::GET {
        match path.as_str() {
            "/version" => return json_response(200, &version_json(&sim, &cluster)),
            "/healthz" | "/livez" | "/readyz" => {
                return crate::http::response(200, "text/plain", "ok");
            }
            _ => {}
        }
    }
    let token = req
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let Some(token) = token else {
        sim.record_call(
            "k8s",
            &format!("{} {}", req.method, path),
            None,
            401,
            Some(&cluster),
        );
        return status(401, "Unauthorized", "Unauthorized", None);
    };
    let user = match sim.authenticate(&cluster, &token).await {
        Ok(u) => u,
        Err(e) => {
            tracing::info!(cluster, "authentication refused: {e}");
            sim.record_call(
                "k8s",
                &format!("{} {}", req.method, path),
                None,
                401,
                Some(&cluster),
            );
            return status(401, "Unauthorized", "Unauthorized", None);
        }
    };
    let port = lock(&sim.world)
        .clusters
        .get(&cluster)
        .map(|c| c.port)
        .unwrap_or_default();
    let resp = route(&sim, &cluster, &user, &req, &path, port);
    sim.record_call_arn(
        "k8s",
        &format!("{} {}", req.method, path),
        user.extra.get("arn").and_then(|a| a.first()).cloned(),
        resp.status().as_u16(),
        Some(&cluster),
    );
    resp
}

fn route(
    sim: &SharedSim,
    cluster: &str,
    user: &KubeUser,
    req: &Req,
    path: &str,
    port: u16,
) -> Resp {
    if req.method == Method::GET
        && let Some(d) = discovery(path, port)
    {
        return json_response(200, &d);
    }
    let seg: Vec<String> = req.segments();
    let s: Vec<&str> = seg.iter().map(|s| s.as_str()).collect();
    match (req.method.clone(), s.as_slice()) {
        (Method::POST, ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]) => {
            json_response(
                201,
                &json!({
                    "kind": "SelfSubjectReview",
                    "apiVersion": "authentication.k8s.io/v1",
                    "metadata": {"creationTimestamp": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()},
                    "status": {"userInfo": {"username": user.username, "uid": user.uid, "groups": user.groups, "extra": user.extra}},
                }),
            )
        }
        (
            Method::POST,
            [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectaccessreviews",
            ],
        ) => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let ra = &body["spec"]["resourceAttributes"];
            let verb = ra["verb"].as_str().unwrap_or("get");
            let resource = ra["resource"].as_str().unwrap_or("");
            let group = ra["group"].as_str().unwrap_or("");
            let ns = ra["namespace"].as_str();
            let allowed = if user.groups.iter().any(|g| g == "system:masters") {
                true
            } else if resource == "configmaps" && group.is_empty() {
                authorize(user, verb, ns)
            } else {
                authorize(user, verb, ns)
                    && user.policies.iter().any(|(n, s)| {
                        n == "AmazonEKSClusterAdminPolicy" && s.scope_type == "cluster"
                    })
            };
            let mut out = body.clone();
            if !out.is_object() {
                out = json!({"spec": {}});
            }
            out["kind"] = json!("SelfSubjectAccessReview");
            out["apiVersion"] = json!("authorization.k8s.io/v1");
            out["metadata"] = json!({"creationTimestamp": null});
            out["status"] = if allowed {
                json!({"allowed": true, "reason": "allowed by eks-sim authorizer"})
            } else {
                json!({"allowed": false})
            };
            json_response(201, &out)
        }
        (_, ["api", "v1", "namespaces", ns, "configmaps"]) => {
            configmaps(sim, cluster, user, req, ns, None)
        }
        (_, ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            configmaps(sim, cluster, user, req, ns, Some(name))
        }
        (Method::GET, ["api", "v1", "configmaps"]) => configmaps(sim, cluster, user, req, "", None),
        _ => status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        ),
    }
}

/// Kubernetes refuses a ConfigMap whose data values together exceed 1 MiB
/// (`ValidateConfigMap`: the sum of the data and binaryData value lengths against
/// `core.MaxSecretSize`, a `field.TooLong` on the object).
pub const CONFIGMAP_DATA_LIMIT: usize = 1024 * 1024;

fn too_long(name: &str, data: &BTreeMap<String, String>) -> Option<Resp> {
    let total: usize = data.values().map(String::len).sum();
    (total > CONFIGMAP_DATA_LIMIT).then(|| {
        status(
            422,
            "Invalid",
            &format!(
                "ConfigMap {name:?} is invalid: []: Too long: must have at most {CONFIGMAP_DATA_LIMIT} bytes"
            ),
            Some(json!({"name": name, "kind": "ConfigMap", "causes": [{"reason": "FieldValueTooLong", "message": format!("Too long: must have at most {CONFIGMAP_DATA_LIMIT} bytes"), "field": "[]"}]})),
        )
    })
}

/// The admission check for aws-auth writes (when the cluster has it switched on).
pub fn admission_error(data: &BTreeMap<String, String>) -> Option<String> {
    let m = AwsAuth::load(data);
    for key in ["mapRoles", "mapUsers", "mapAccounts"] {
        if let Some(s) = m.sections.get(key)
            && let Some(e) = &s.error
        {
            return Some(format!(
                "admission webhook \"{WEBHOOK}\" denied the request: {key}: {e}"
            ));
        }
    }
    None
}

fn parse_data(obj: &Value) -> Result<Option<BTreeMap<String, String>>, String> {
    match obj.get("data") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                match v {
                    Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    Value::Null => {}
                    other => {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field ConfigMap.data of type string",
                            kind_of(other)
                        ));
                    }
                }
            }
            Ok(Some(out))
        }
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field ConfigMap.data of type map[string]string",
            kind_of(other)
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "string",
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn wants_table(req: &Req) -> bool {
    req.header("accept").is_some_and(|a| a.contains("as=Table"))
}

/// Kubernetes' `duration.HumanDuration`, as the Age column shows it.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 192 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else if d % 365 == 0 {
        format!("{}y", d / 365)
    } else {
        format!("{}y{}d", d / 365, d % 365)
    }
}

/// A server-side `meta.k8s.io/v1` Table of ConfigMaps (NAME, DATA, AGE), as kubectl asks for.
fn table(items: &[&ConfigMap], rv: u64) -> Value {
    let now = Utc::now();
    let col = |name: &str, ty: &str, fmt: &str, desc: &str| json!({"name": name, "type": ty, "format": fmt, "description": desc, "priority": 0});
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv.to_string()},
        "columnDefinitions": [
            col("Name", "string", "name", "Name must be unique within a namespace."),
            col("Data", "string", "", "Data contains the configuration data."),
            col("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ],
        "rows": items.iter().map(|cm| {
            let obj = cm.to_json();
            json!({
                "cells": [cm.name, cm.data.len(), human_duration((now - cm.created_at).num_seconds())],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]},
            })
        }).collect::<Vec<_>>(),
    })
}

fn configmaps(
    sim: &SharedSim,
    cluster: &str,
    user: &KubeUser,
    req: &Req,
    ns: &str,
    name: Option<&str>,
) -> Resp {
    let verb = match (req.method.clone(), name) {
        (Method::GET, Some(_)) => "get",
        (Method::GET, None) => "list",
        (Method::POST, None) => "create",
        (Method::PUT, Some(_)) => "update",
        (Method::PATCH, Some(_)) => "patch",
        (Method::DELETE, Some(_)) => "delete",
        _ => {
            return status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            );
        }
    };
    let ns_opt = if ns.is_empty() { None } else { Some(ns) };
    if !authorize(user, verb, ns_opt) {
        return forbidden(user, verb, name, ns);
    }
    let mut world = lock(&sim.world);
    let Some(c) = world.clusters.get_mut(cluster) else {
        return status(503, "ServiceUnavailable", "cluster is gone", None);
    };
    let key = |n: &str| (ns.to_string(), n.to_string());
    match verb {
        "get" => {
            let n = name.unwrap_or_default();
            match c.configmaps.get(&key(n)) {
                Some(cm) if wants_table(req) => {
                    json_response(200, &table(&[cm], c.resource_version))
                }
                Some(cm) => json_response(200, &cm.to_json()),
                None => not_found(n),
            }
        }
        "list" if wants_table(req) => {
            let items: Vec<&ConfigMap> = c
                .configmaps
                .values()
                .filter(|cm| ns.is_empty() || cm.namespace == ns)
                .collect();
            json_response(200, &table(&items, c.resource_version))
        }
        "list" => {
            let items: Vec<Value> = c
                .configmaps
                .values()
                .filter(|cm| ns.is_empty() || cm.namespace == ns)
                .map(|cm| cm.to_json())
                .collect();
            json_response(
                200,
                &json!({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": c.resource_version.to_string()}, "items": items}),
            )
        }
        "create" => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => {
                    return status(
                        400,
                        "BadRequest",
                        &format!("the body of the request was in an unknown format: {e}"),
                        None,
                    );
                }
            };
            let Some(n) = body["metadata"]["name"].as_str().map(|s| s.to_string()) else {
                return status(
                    422,
                    "Invalid",
                    "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required",
                    None,
                );
            };
            if c.configmaps.contains_key(&key(&n)) {
                return status(
                    409,
                    "AlreadyExists",
                    &format!("configmaps {n:?} already exists"),
                    Some(json!({"name": n, "kind": "configmaps"})),
                );
            }
            let data = match parse_data(&body) {
                Ok(d) => d.unwrap_or_default(),
                Err(e) => return status(400, "BadRequest", &e, None),
            };
            if let Some(r) = too_long(&n, &data) {
                return r;
            }
            if c.admission
                && ns == "kube-system"
                && n == "aws-auth"
                && let Some(e) = admission_error(&data)
            {
                return status(400, "BadRequest", &e, None);
            }
            let rv = c.next_resource_version();
            let cm = ConfigMap {
                namespace: ns.to_string(),
                name: n.clone(),
                uid: uuid(),
                resource_version: rv,
                created_at: Utc::now(),
                labels: body["metadata"]
                    .get("labels")
                    .cloned()
                    .filter(|v| v.is_object()),
                annotations: body["metadata"]
                    .get("annotations")
                    .cloned()
                    .filter(|v| v.is_object()),
                data,
            };
            let out = cm.to_json();
            c.configmaps.insert(key(&n), cm);
            json_response(201, &out)
        }
        "update" | "patch" => {
            let n = name.unwrap_or_default();
            let Some(current) = c.configmaps.get(&key(n)).cloned() else {
                return not_found(n);
            };
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => {
                    return status(
                        400,
                        "BadRequest",
                        &format!("the body of the request was in an unknown format: {e}"),
                        None,
                    );
                }
            };
            let new_obj = if verb == "update" {
                body
            } else {
                let ct = req.header("content-type").unwrap_or_default();
                if !(ct.starts_with("application/merge-patch+json")
                    || ct.starts_with("application/strategic-merge-patch+json"))
                {
                    return status(
                        415,
                        "UnsupportedMediaType",
                        &format!(
                            "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got {ct:?})"
                        ),
                        None,
                    );
                }
                let mut obj = current.to_json();
                let given_rv = body["metadata"]["resourceVersion"]
                    .as_str()
                    .map(|s| s.to_string());
                merge_patch(&mut obj, &body);
                if let Some(rv) = given_rv {
                    obj["metadata"]["resourceVersion"] = json!(rv);
                } else {
                    obj["metadata"]["resourceVersion"] = json!("");
                }
                obj
            };
            if let Some(rv) = new_obj["metadata"]["resourceVersion"].as_str()
                && !rv.is_empty()
                && rv != current.resource_version.to_string()
            {
                return conflict(n);
            }
            if new_obj["metadata"]["name"].as_str().is_some_and(|x| x != n) {
                return status(
                    400,
                    "BadRequest",
                    "the name of the object does not match the name on the URL",
                    None,
                );
            }
            let data = match parse_data(&new_obj) {
                Ok(d) => d.unwrap_or_default(),
                Err(e) => return status(400, "BadRequest", &e, None),
            };
            if let Some(r) = too_long(n, &data) {
                return r;
            }
            if c.admission
                && ns == "kube-system"
                && n == "aws-auth"
                && let Some(e) = admission_error(&data)
            {
                return status(400, "BadRequest", &e, None);
            }
            let rv = c.next_resource_version();
            let cm = ConfigMap {
                resource_version: rv,
                labels: new_obj["metadata"]
                    .get("labels")
                    .cloned()
                    .filter(|v| v.is_object()),
                annotations: new_obj["metadata"]
                    .get("annotations")
                    .cloned()
                    .filter(|v| v.is_object()),
                data,
                ..current
            };
            let out = cm.to_json();
            c.configmaps.insert(key(n), cm);
            json_response(200, &out)
        }
        _ => {
            let n = name.unwrap_or_default();
            let Some(current) = c.configmaps.get(&key(n)).cloned() else {
                return not_found(n);
            };
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if let Some(rv) = body["preconditions"]["resourceVersion"].as_str()
                && rv != current.resource_version.to_string()
            {
                return conflict(n);
            }
            c.configmaps.remove(&key(n));
            c.next_resource_version();
            json_response(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                        "details": {"name": n, "kind": "configmaps", "uid": current.uid}}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3600), "60m");
        assert_eq!(human_duration(5 * 3600), "5h");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(60 * 86400), "60d");
        assert_eq!(human_duration(800 * 86400), "2y70d");
    }

    #[test]
    fn merge_patch_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn a_configmap_over_one_mib_of_data_is_invalid() {
        let mut data = BTreeMap::new();
        data.insert("a".to_string(), "x".repeat(CONFIGMAP_DATA_LIMIT));
        assert!(too_long("aws-auth", &data).is_none());
        data.insert("b".to_string(), "y".to_string());
        assert!(too_long("aws-auth", &data).is_some());
    }

    #[test]
    fn admission_refuses_unparsable_sections_only() {
        let mut data = BTreeMap::new();
        data.insert(
            "mapRoles".to_string(),
            "- rolearn: x\n  username: y\n".to_string(),
        );
        assert_eq!(admission_error(&data), None);
        data.insert(
            "mapUsers".to_string(),
            "- userarn: x\n  username: y\n   groups: []\n".to_string(),
        );
        let e = admission_error(&data).expect("refused");
        assert!(e.starts_with("admission webhook \"eks-aws-auth-configmap-validation-webhook\" denied the request: mapUsers: yaml:"), "{e}");
    }
}
