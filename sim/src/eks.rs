//! The EKS REST-JSON API subset, as aws-sdk-eks and awscli call it.

use chrono::{DateTime, TimeDelta, Utc};
use hyper::Method;
use serde_json::{Value, json};

use crate::events::{CreateClusterCall, create_cluster_event, identity_actor};
use crate::http::{Req, Resp, json_response, rest_json_error};
use crate::identity::Identity;
use crate::state::{
    ACCESS_POLICIES, AccessEntry, AccessScope, AssociatedPolicy, Cluster, Scope, SharedSim, Update,
    World, default_entry_username, lock, mode_rank, random_hex, tags_json, uuid, write,
};

type ApiError = (u16, &'static str, String);
type Res = Result<Value, ApiError>;
type Page = (Vec<String>, Option<String>);

fn epoch(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn not_found(what: &str) -> (u16, &'static str, String) {
    (404, "ResourceNotFoundException", what.to_string())
}

fn bad(msg: impl Into<String>) -> (u16, &'static str, String) {
    (400, "InvalidParameterException", msg.into())
}

fn cluster_not_found(name: &str) -> (u16, &'static str, String) {
    not_found(&format!("No cluster found for name: {name}."))
}

/// Resolves (action, resource ARN) for the IAM check and the call log.
fn action_of(sim: &SharedSim, method: &Method, seg: &[String]) -> Option<(&'static str, String)> {
    let s: Vec<&str> = seg.iter().map(|s| s.as_str()).collect();
    let carn = |n: &str| sim.cluster_arn(n);
    let entry_arn = |n: &str| {
        format!(
            "arn:{}:eks:{}:{}:access-entry/{n}/*",
            sim.partition, sim.region, sim.account
        )
    };
    Some(match (method.clone(), s.as_slice()) {
        (Method::POST, ["clusters"]) => ("CreateCluster", carn("*")),
        (Method::GET, ["clusters"]) => ("ListClusters", "*".to_string()),
        (Method::GET, ["clusters", n]) => ("DescribeCluster", carn(n)),
        (Method::DELETE, ["clusters", n]) => ("DeleteCluster", carn(n)),
        (Method::GET, ["clusters", n, "node-groups"]) => ("ListNodegroups", carn(n)),
        (Method::GET, ["clusters", n, "node-groups", _]) => ("DescribeNodegroup", carn(n)),
        (Method::GET, ["clusters", n, "fargate-profiles"]) => ("ListFargateProfiles", carn(n)),
        (Method::GET, ["clusters", n, "fargate-profiles", _]) => {
            ("DescribeFargateProfile", carn(n))
        }
        (Method::POST, ["clusters", n, "update-config"]) => ("UpdateClusterConfig", carn(n)),
        (Method::GET, ["clusters", n, "updates"]) => ("ListUpdates", carn(n)),
        (Method::GET, ["clusters", n, "updates", _]) => ("DescribeUpdate", carn(n)),
        (Method::POST, ["clusters", n, "access-entries"]) => ("CreateAccessEntry", carn(n)),
        (Method::GET, ["clusters", n, "access-entries"]) => ("ListAccessEntries", carn(n)),
        (Method::GET, ["clusters", n, "access-entries", _]) => {
            ("DescribeAccessEntry", entry_arn(n))
        }
        (Method::POST, ["clusters", n, "access-entries", _]) => ("UpdateAccessEntry", entry_arn(n)),
        (Method::DELETE, ["clusters", n, "access-entries", _]) => {
            ("DeleteAccessEntry", entry_arn(n))
        }
        (Method::POST, ["clusters", n, "access-entries", _, "access-policies"]) => {
            ("AssociateAccessPolicy", entry_arn(n))
        }
        (Method::GET, ["clusters", n, "access-entries", _, "access-policies"]) => {
            ("ListAssociatedAccessPolicies", entry_arn(n))
        }
        (Method::DELETE, ["clusters", n, "access-entries", _, "access-policies", _]) => {
            ("DisassociateAccessPolicy", entry_arn(n))
        }
        (Method::GET, ["access-policies"]) => ("ListAccessPolicies", "*".to_string()),
        (Method::POST, ["tags", a]) => ("TagResource", a.to_string()),
        (Method::DELETE, ["tags", a]) => ("UntagResource", a.to_string()),
        (Method::GET, ["tags", a]) => ("ListTagsForResource", a.to_string()),
        _ => return None,
    })
}

pub async fn handle(sim: SharedSim, req: Req) -> Resp {
    let seg = req.segments();
    let Some((action, resource)) = action_of(&sim, &req.method, &seg) else {
        return rest_json_error(
            404,
            "UnknownOperationException",
            &format!("No EKS operation for {} {}", req.method, req.path),
        );
    };
    let cluster_name = if seg.first().map(|s| s.as_str()) == Some("clusters") {
        seg.get(1).cloned()
    } else {
        None
    };
    let caller = match sim.caller(req.header("authorization")).await {
        Ok(c) => c,
        Err((status, code, msg)) => {
            sim.record_call("eks", action, None, status, cluster_name.as_deref());
            return rest_json_error(status, code, &msg);
        }
    };
    let iam_action = format!("eks:{action}");
    if sim.denied(&caller, &iam_action) {
        sim.record_call("eks", action, Some(&caller), 403, cluster_name.as_deref());
        let msg = format!(
            "User: {} is not authorized to perform: {iam_action} on resource: {resource} because no identity-based policy allows the {iam_action} action",
            caller.arn
        );
        return rest_json_error(403, "AccessDeniedException", &msg);
    }
    let scope = sim.request_scope(req.header("authorization"), &caller);
    let result = dispatch(&sim, &req, &seg, action, &caller, &scope).await;
    let (status, resp) = match result {
        Ok(v) => (200, json_response(200, &v)),
        Err((status, code, msg)) => (status, rest_json_error(status, code, &msg)),
    };
    sim.record_call(
        "eks",
        action,
        Some(&caller),
        status,
        cluster_name.as_deref(),
    );
    resp
}

pub fn cluster_json(sim: &SharedSim, world: &World, c: &Cluster) -> Value {
    use base64::Engine;
    json!({
        "name": c.name,
        "arn": c.arn,
        "createdAt": epoch(c.created_at),
        "version": c.version,
        "endpoint": format!("https://127.0.0.1:{}", c.port),
        "roleArn": c.role_arn,
        "resourcesVpcConfig": {
            "subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
            "securityGroupIds": [],
            "clusterSecurityGroupId": "sg-0a1b2c3d4e5f60001",
            "vpcId": "vpc-0a1b2c3d4e5f60001",
            "endpointPublicAccess": c.endpoint_public,
            "endpointPrivateAccess": c.endpoint_private,
            "publicAccessCidrs": if c.endpoint_public { json!(["0.0.0.0/0"]) } else { json!([]) },
        },
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
        "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": false}]},
        "identity": {"oidc": {"issuer": format!("https://oidc.eks.{}.amazonaws.com/id/{}", c.region, oidc_id(&c.arn, c.created_at))}},
        "status": if c.update_in_progress() { "UPDATING" } else { "ACTIVE" },
        "certificateAuthority": {"data": base64::engine::general_purpose::STANDARD.encode(&sim.ca_pem)},
        "platformVersion": c.platform_version,
        "tags": tags_json(world, &c.arn),
        "accessConfig": {
            "authenticationMode": c.auth_mode,
            "bootstrapClusterCreatorAdminPermissions": c.bootstrap_admin,
        },
    })
}

/// A stable 32-hex-digit OIDC issuer id per cluster incarnation.
fn oidc_id(arn: &str, created: DateTime<Utc>) -> String {
    let mut out = String::new();
    for salt in 0..2u64 {
        let mut h: u64 = 0xcbf29ce484222325 ^ salt;
        for b in arn.bytes().chain(created.timestamp_millis().to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
        out.push_str(&format!("{h:016X}"));
    }
    out
}

fn update_json(u: &Update) -> Value {
    json!({
        "id": u.id,
        "status": match (u.applied, &u.failure) {
            (false, _) => "InProgress",
            (true, None) => "Successful",
            (true, Some(_)) => "Failed",
        },
        "type": u.update_type,
        "params": u.params.iter().map(|(t, v)| json!({"type": t, "value": v})).collect::<Vec<_>>(),
        "createdAt": epoch(u.created_at),
        "errors": match (&u.failure, u.applied) {
            (Some(f), true) => json!([{"errorCode": f.error_code, "errorMessage": f.error_message, "resourceIds": []}]),
            _ => json!([]),
        },
    })
}

fn entry_json(sim: &SharedSim, world: &World, cluster: &str, e: &AccessEntry) -> Value {
    json!({
        "clusterName": cluster,
        "principalArn": e.principal_arn,
        "kubernetesGroups": e.kubernetes_groups,
        "accessEntryArn": e.arn,
        "createdAt": epoch(e.created_at),
        "modifiedAt": epoch(e.modified_at),
        "tags": tags_json(world, &e.arn),
        "username": e.username,
        "type": e.entry_type,
    })
    .as_object()
    .map(|o| {
        let _ = sim;
        Value::Object(o.clone())
    })
    .unwrap_or(Value::Null)
}

fn policy_json(p: &AssociatedPolicy) -> Value {
    json!({
        "policyArn": p.policy_arn,
        "accessScope": {"type": p.scope.scope_type, "namespaces": p.scope.namespaces},
        "associatedAt": epoch(p.associated_at),
        "modifiedAt": epoch(p.modified_at),
    })
}

/// Paginates a list of names with an opaque numeric token.
fn paginate(
    items: Vec<String>,
    req: &Req,
    max_default: usize,
    max_limit: usize,
) -> Result<Page, ApiError> {
    let max = match req.query_param("maxResults") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| bad("maxResults must be a number"))?,
        None => max_default,
    };
    if max < 1 || max > max_limit {
        return Err(bad(format!("maxResults must be between 1 and {max_limit}")));
    }
    let start = match req.query_param("nextToken") {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| bad("The nextToken is not valid"))?,
        None => 0,
    };
    let page: Vec<String> = items.iter().skip(start).take(max).cloned().collect();
    let next = if start + max < items.len() {
        Some((start + max).to_string())
    } else {
        None
    };
    Ok((page, next))
}

fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        v["nextToken"] = json!(t);
    }
    v
}

/// The reserved prefix `name` starts with ("can't start with system:, eks:, aws:, amazon:, or
/// iam:", EKS User Guide, "Create access entries").
fn reserved_prefix(name: &str) -> Option<&'static str> {
    ["system:", "eks:", "aws:", "amazon:", "iam:"]
        .into_iter()
        .find(|p| name.starts_with(p))
}

fn string_list(v: &Value, key: &str) -> Result<Option<Vec<String>>, (u16, &'static str, String)> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.to_string())
                    .ok_or_else(|| bad(format!("{key} must be a list of strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad(format!("{key} must be a list of strings"))),
    }
}

fn check_entry_names(
    username: Option<&str>,
    groups: &[String],
) -> Result<(), (u16, &'static str, String)> {
    // EKS's texts, as users report them: "InvalidParameterException: The username must not
    // begin with system:" (aws-ia/terraform-aws-eks-blueprints#2004) and "The kubernetes group
    // name system:masters is invalid, it cannot start with system:"
    // (terraform-aws-modules/terraform-aws-eks#2915, aws/karpenter-provider-aws#7558).
    if let Some(u) = username
        && let Some(p) = reserved_prefix(u)
    {
        return Err(bad(format!("The username must not begin with {p}")));
    }
    // "If you add either {{SessionName}} or {{SessionNameRaw}} to your username, the username
    // must include a colon before {{SessionName}}" (EKS User Guide, "Create access entries").
    // The rule is documented; EKS's wording of the refusal is not known to us.
    if let Some(u) = username
        && let Some(i) = u.find("{{SessionName")
        && !u[..i].contains(':')
    {
        return Err(bad(format!(
            "The username {u} is invalid: it must include a colon before {{{{SessionName}}}}"
        )));
    }
    for g in groups {
        if let Some(p) = reserved_prefix(g) {
            return Err(bad(format!(
                "The kubernetes group name {g} is invalid, it cannot start with {p}"
            )));
        }
    }
    Ok(())
}

async fn dispatch(
    sim: &SharedSim,
    req: &Req,
    seg: &[String],
    action: &str,
    caller: &Identity,
    scope: &Scope,
) -> Res {
    let now = Utc::now();
    let body = req
        .json_body()
        .map_err(|e| (400, "InvalidRequestException", e))?;
    if action == "CreateCluster" {
        return create_cluster(sim, req, &body, caller, scope).await;
    }
    // A cluster of another account or region does not exist for this request.
    if seg.first().map(|s| s.as_str()) == Some("clusters")
        && let Some(n) = seg.get(1)
        && lock(&sim.world)
            .clusters
            .get(n)
            .is_some_and(|c| !sim.sees(scope, c))
    {
        return Err(cluster_not_found(n));
    }
    if action == "CreateAccessEntry" {
        // The principal's unique id comes from moto (outside the world lock).
        let principal = body
            .get("principalArn")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let unique = sim
            .moto
            .principal(&principal)
            .await
            .map_err(|e| (500, "ServerException", e))?
            .map(|(_, id)| id);
        let mut world = lock(&sim.world);
        return create_access_entry(sim, &mut world, &seg[1], &body, &principal, unique, now);
    }
    // A switch away from CONFIG_MAP makes node entries for the managed node groups and Fargate
    // profiles (see `Cluster::settle`); their roles' unique ids come from moto, outside the lock.
    let node_entries = if action == "UpdateClusterConfig" {
        node_entry_ids(sim, seg.get(1).map(String::as_str).unwrap_or_default()).await?
    } else {
        Vec::new()
    };
    let mut world = lock(&sim.world);
    for c in world.clusters.values_mut() {
        c.settle(now);
    }
    let world = &mut *world;
    let s: Vec<&str> = seg.iter().map(|s| s.as_str()).collect();
    match (action, s.as_slice()) {
        ("ListClusters", _) => {
            let names: Vec<String> = world
                .clusters
                .values()
                .filter(|c| sim.sees(scope, c))
                .map(|c| c.name.clone())
                .collect();
            let (page, next) = paginate(names, req, 100, 100)?;
            Ok(with_token(json!({"clusters": page}), next))
        }
        ("DescribeCluster", [_, n]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            Ok(json!({"cluster": cluster_json(sim, world, c)}))
        }
        ("DeleteCluster", [_, n]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let mut v = cluster_json(sim, world, c);
            v["status"] = json!("DELETING");
            if let Some(c) = world.clusters.remove(*n) {
                if let Some(h) = &c.server {
                    h.abort();
                }
                world.tags.remove(&c.arn);
            }
            Ok(json!({"cluster": v}))
        }
        ("ListNodegroups", [_, n, _]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let (page, next) = paginate(c.nodegroups.keys().cloned().collect(), req, 100, 100)?;
            Ok(with_token(json!({"nodegroups": page}), next))
        }
        ("DescribeNodegroup", [_, n, _, ng]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let g = c
                .nodegroups
                .get(*ng)
                .ok_or_else(|| not_found(&format!("No node group found for name: {ng}.")))?;
            Ok(json!({"nodegroup": {
                "nodegroupName": g.name,
                "nodegroupArn": g.arn,
                "clusterName": c.name,
                "version": c.version,
                "releaseVersion": format!("{}.0-20240101", c.version),
                "createdAt": epoch(g.created_at),
                "modifiedAt": epoch(g.created_at),
                "status": "ACTIVE",
                "capacityType": "ON_DEMAND",
                "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 2},
                "instanceTypes": ["m5.large"],
                "subnets": ["subnet-0a1b2c3d4e5f60001"],
                "amiType": "AL2023_x86_64_STANDARD",
                "nodeRole": g.node_role,
                "labels": {},
                "health": {"issues": []},
                "tags": tags_json(world, &g.arn),
            }}))
        }
        ("ListFargateProfiles", [_, n, _]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let (page, next) = paginate(c.fargate.keys().cloned().collect(), req, 100, 100)?;
            Ok(with_token(json!({"fargateProfileNames": page}), next))
        }
        ("DescribeFargateProfile", [_, n, _, fp]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let p = c
                .fargate
                .get(*fp)
                .ok_or_else(|| not_found(&format!("No Fargate Profile found with name: {fp}.")))?;
            Ok(json!({"fargateProfile": {
                "fargateProfileName": p.name,
                "fargateProfileArn": p.arn,
                "clusterName": c.name,
                "createdAt": epoch(p.created_at),
                "podExecutionRoleArn": p.pod_execution_role_arn,
                "subnets": ["subnet-0a1b2c3d4e5f60001"],
                "selectors": p.namespaces.iter().map(|ns| json!({"namespace": ns})).collect::<Vec<_>>(),
                "status": "ACTIVE",
                "tags": tags_json(world, &p.arn),
            }}))
        }
        ("UpdateClusterConfig", [_, n, _]) => {
            update_cluster_config(sim, world, n, &body, now, &node_entries)
        }
        ("ListUpdates", [_, n, _]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let (page, next) = paginate(
                c.updates.iter().map(|u| u.id.clone()).collect(),
                req,
                100,
                100,
            )?;
            Ok(with_token(json!({"updateIds": page}), next))
        }
        ("DescribeUpdate", [_, n, _, id]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            let u = c
                .updates
                .iter()
                .find(|u| u.id == *id)
                .ok_or_else(|| not_found(&format!("No update found for ID: {id}.")))?;
            Ok(json!({"update": update_json(u)}))
        }
        ("ListAccessEntries", [_, n, _]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let filter = req.query_param("associatedPolicyArn");
            let names: Vec<String> = c
                .access_entries
                .values()
                .filter(|e| filter.is_none_or(|p| e.policies.iter().any(|a| a.policy_arn == p)))
                .map(|e| e.principal_arn.clone())
                .collect();
            let (page, next) = paginate(names, req, 100, 100)?;
            Ok(with_token(json!({"accessEntries": page}), next))
        }
        ("DescribeAccessEntry", [_, n, _, p]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let e = find_entry(c, p)?;
            Ok(json!({"accessEntry": entry_json(sim, world, n, e)}))
        }
        ("UpdateAccessEntry", [_, n, _, p]) => {
            let c = world
                .clusters
                .get_mut(*n)
                .ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let groups = string_list(&body, "kubernetesGroups")?;
            let username = body
                .get("username")
                .and_then(|v| v.as_str())
                .map(|s| s.to_string());
            let key = find_entry(c, p)?.principal_arn.clone();
            let e = c
                .access_entries
                .get_mut(&key)
                .ok_or_else(|| not_found("access entry vanished"))?;
            if e.entry_type == "STANDARD" {
                check_entry_names(username.as_deref(), groups.as_deref().unwrap_or(&[]))?;
            }
            if let Some(g) = groups {
                e.kubernetes_groups = g;
            }
            if let Some(u) = username {
                e.username = u;
            }
            e.modified_at = now;
            let e = e.clone();
            Ok(json!({"accessEntry": entry_json(sim, world, n, &e)}))
        }
        ("DeleteAccessEntry", [_, n, _, p]) => {
            let c = world
                .clusters
                .get_mut(*n)
                .ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let key = find_entry(c, p)?.principal_arn.clone();
            if let Some(e) = c.access_entries.remove(&key) {
                world.tags.remove(&e.arn);
            }
            Ok(json!({}))
        }
        ("AssociateAccessPolicy", [_, n, _, p, _]) => {
            let c = world
                .clusters
                .get_mut(*n)
                .ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let policy_arn = body
                .get("policyArn")
                .and_then(|v| v.as_str())
                .ok_or_else(|| bad("policyArn is required"))?
                .to_string();
            let known = ACCESS_POLICIES
                .iter()
                .any(|(name, _, _)| sim.policy_arn(name) == policy_arn);
            if !known {
                return Err(bad(format!(
                    "The policyArn {policy_arn} is not a valid access policy."
                )));
            }
            let scope = body.get("accessScope").cloned().unwrap_or(Value::Null);
            let scope_type = scope
                .get("type")
                .and_then(|v| v.as_str())
                .ok_or_else(|| bad("accessScope.type is required"))?
                .to_string();
            let namespaces = string_list(&scope, "namespaces")?.unwrap_or_default();
            match scope_type.as_str() {
                "cluster" if !namespaces.is_empty() => {
                    return Err(bad(
                        "Namespaces can't be specified for a cluster access scope.",
                    ));
                }
                "namespace" if namespaces.is_empty() => {
                    return Err(bad(
                        "At least one namespace must be specified for a namespace access scope.",
                    ));
                }
                "cluster" | "namespace" => {}
                other => return Err(bad(format!("Invalid access scope type {other}"))),
            }
            let entry = find_entry(c, p)?;
            // "You can assign one or more access policies to access entries of type STANDARD.
            // Amazon EKS automatically grants the other types of access entries the permissions
            // required" (EKS User Guide, "Associate access policies with access entries");
            // EKS Auto Mode's `EC2` entries take AmazonEKSAutoNodePolicy (EKS User Guide,
            // "Create node class access entry"). The message is ours.
            if entry.entry_type != "STANDARD" && entry.entry_type != "EC2" {
                return Err((
                    400,
                    "InvalidRequestException",
                    format!(
                        "Access policies can only be associated with access entries of type STANDARD; the access entry for {} is of type {}.",
                        entry.principal_arn, entry.entry_type
                    ),
                ));
            }
            let key = entry.principal_arn.clone();
            let e = c
                .access_entries
                .get_mut(&key)
                .ok_or_else(|| not_found("access entry vanished"))?;
            let scope = AccessScope {
                scope_type,
                namespaces,
            };
            let assoc = match e.policies.iter_mut().find(|a| a.policy_arn == policy_arn) {
                Some(a) => {
                    a.scope = scope;
                    a.modified_at = now;
                    a.clone()
                }
                None => {
                    let a = AssociatedPolicy {
                        policy_arn,
                        scope,
                        associated_at: now,
                        modified_at: now,
                    };
                    e.policies.push(a.clone());
                    a
                }
            };
            Ok(
                json!({"clusterName": n, "principalArn": e.principal_arn, "associatedAccessPolicy": policy_json(&assoc)}),
            )
        }
        ("ListAssociatedAccessPolicies", [_, n, _, p, _]) => {
            let c = world.clusters.get(*n).ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let e = find_entry(c, p)?;
            Ok(json!({
                "clusterName": n,
                "principalArn": e.principal_arn,
                "associatedAccessPolicies": e.policies.iter().map(policy_json).collect::<Vec<_>>(),
            }))
        }
        ("DisassociateAccessPolicy", [_, n, _, p, _, policy]) => {
            let c = world
                .clusters
                .get_mut(*n)
                .ok_or_else(|| cluster_not_found(n))?;
            require_api_mode(c)?;
            let key = find_entry(c, p)?.principal_arn.clone();
            let e = c
                .access_entries
                .get_mut(&key)
                .ok_or_else(|| not_found("access entry vanished"))?;
            let before = e.policies.len();
            e.policies.retain(|a| a.policy_arn != *policy);
            if e.policies.len() == before {
                return Err(not_found(&format!(
                    "The access policy {policy} is not associated with the access entry."
                )));
            }
            Ok(json!({}))
        }
        ("ListAccessPolicies", _) => Ok(json!({"accessPolicies": ACCESS_POLICIES
            .iter()
            .map(|(name, _, _)| json!({"name": name, "arn": sim.policy_arn(name)}))
            .collect::<Vec<_>>()})),
        ("TagResource", [_, arn]) => {
            check_taggable(sim, scope, world, arn)?;
            let tags = body
                .get("tags")
                .and_then(|t| t.as_object())
                .ok_or_else(|| bad("tags is required"))?;
            let entry = world.tags.entry(arn.to_string()).or_default();
            for (k, v) in tags {
                entry.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
            Ok(json!({}))
        }
        ("UntagResource", [_, arn]) => {
            check_taggable(sim, scope, world, arn)?;
            let keys = req.query_all("tagKeys");
            if let Some(t) = world.tags.get_mut(*arn) {
                for k in keys {
                    t.remove(&k);
                }
            }
            Ok(json!({}))
        }
        ("ListTagsForResource", [_, arn]) => {
            check_taggable(sim, scope, world, arn)?;
            Ok(json!({"tags": tags_json(world, arn)}))
        }
        _ => Err((
            400,
            "InvalidRequestException",
            format!("malformed request for {action}"),
        )),
    }
}

fn check_taggable(
    sim: &SharedSim,
    scope: &Scope,
    world: &World,
    arn: &str,
) -> Result<(), (u16, &'static str, String)> {
    let exists = world.clusters.values().any(|c| {
        sim.sees(scope, c)
            && (c.arn == arn
                || c.nodegroups.values().any(|n| n.arn == arn)
                || c.fargate.values().any(|f| f.arn == arn)
                || c.access_entries.values().any(|e| e.arn == arn))
    });
    if exists {
        Ok(())
    } else if arn.starts_with("arn:") {
        Err(not_found(&format!("Resource {arn} not found")))
    } else {
        Err(bad(format!("Invalid ARN: {arn}")))
    }
}

fn require_api_mode(c: &Cluster) -> Result<(), (u16, &'static str, String)> {
    if c.auth_mode == "CONFIG_MAP" {
        return Err((
            400,
            "InvalidRequestException",
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.".into(),
        ));
    }
    Ok(())
}

fn find_entry<'a>(
    c: &'a Cluster,
    principal: &str,
) -> Result<&'a AccessEntry, (u16, &'static str, String)> {
    c.access_entries.get(principal).ok_or_else(|| {
        not_found("The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.")
    })
}

fn create_access_entry(
    sim: &SharedSim,
    world: &mut World,
    cluster: &str,
    body: &Value,
    principal: &str,
    unique: Option<String>,
    now: DateTime<Utc>,
) -> Res {
    let c = world
        .clusters
        .get_mut(cluster)
        .ok_or_else(|| cluster_not_found(cluster))?;
    c.settle(now);
    require_api_mode(c)?;
    if principal.is_empty() {
        return Err(bad("principalArn is required"));
    }
    if principal.contains(":sts:") || principal.contains(":assumed-role/") {
        return Err(bad(format!(
            "The specified principalArn is invalid: {principal}. STS assumed-role ARNs are not supported; use the IAM role ARN."
        )));
    }
    if !(principal.contains(":user/") || principal.contains(":role/")) {
        return Err(bad(format!(
            "The specified principalArn is invalid: {principal}."
        )));
    }
    let Some(unique) = unique else {
        return Err(bad(format!(
            "The specified principalArn is invalid: invalid principal {principal}."
        )));
    };
    if c.access_entries.contains_key(principal) {
        return Err((
            409,
            "ResourceInUseException",
            "The specified access entry resource is already in use on this cluster.".into(),
        ));
    }
    let entry_type = body
        .get("type")
        .and_then(|v| v.as_str())
        .unwrap_or("STANDARD")
        .to_string();
    if ![
        "STANDARD",
        "EC2_LINUX",
        "EC2_WINDOWS",
        "FARGATE_LINUX",
        "EC2",
        "HYBRID_LINUX",
        "HYPERPOD_LINUX",
    ]
    .contains(&entry_type.as_str())
    {
        return Err(bad(format!("The type {entry_type} is not valid.")));
    }
    // "For nodes (EC2, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, and HYBRID_LINUX), the only valid
    // ARN is IAM roles" (EKS API Reference, CreateAccessEntry principalArn); "If the type of the
    // access entry is anything other than STANDARD ..., the ARN must be in the same AWS account
    // that your cluster is in" (EKS User Guide, "Create access entries"). The error code is
    // EKS's InvalidParameterException; the wording is ours (no real text found).
    if entry_type != "STANDARD" {
        if !principal.contains(":role/") {
            return Err(bad(format!(
                "The specified principalArn is invalid: {principal}. Only IAM roles are valid for access entries of type {entry_type}."
            )));
        }
        if principal.split(':').nth(4) != Some(c.account.as_str()) {
            return Err(bad(format!(
                "The specified principalArn is invalid: {principal}. Access entries of type {entry_type} must name a role in the cluster's account {}.",
                c.account
            )));
        }
    }
    let groups = string_list(body, "kubernetesGroups")?.unwrap_or_default();
    let username = body
        .get("username")
        .and_then(|v| v.as_str())
        .map(|s| s.to_string());
    if entry_type == "STANDARD" {
        check_entry_names(username.as_deref(), &groups)?;
    } else if username.is_some() || !groups.is_empty() {
        return Err(bad(format!(
            "username and kubernetesGroups can't be specified for access entries of type {entry_type}."
        )));
    }
    let (username, groups) = match entry_type.as_str() {
        "STANDARD" => (
            username
                .unwrap_or_else(|| default_entry_username(principal, &sim.partition, &c.account)),
            groups,
        ),
        "FARGATE_LINUX" => (
            "system:node:{{SessionName}}".into(),
            vec!["system:node-proxier".into(), "system:nodes".into()],
        ),
        _ => (
            "system:node:{{EC2PrivateDNSName}}".into(),
            vec!["system:nodes".into()],
        ),
    };
    let arn = format!(
        "arn:{}:eks:{}:{}:access-entry/{}/{}/{}/{}",
        sim.partition,
        c.region,
        c.account,
        cluster,
        if principal.contains(":role/") {
            "role"
        } else {
            "user"
        },
        c.account,
        random_hex(8)
    );
    let entry = AccessEntry {
        principal_arn: principal.to_string(),
        principal_id: unique,
        kubernetes_groups: groups,
        username,
        entry_type,
        arn: arn.clone(),
        created_at: now,
        modified_at: now,
        policies: Vec::new(),
        // EKS, like IAM, is eventually consistent: a new entry lets its principal in after a
        // delay (scenario `propagation.accessEntrySeconds`).
        propagates: true,
    };
    sim.iam.impose(
        "new access entry (EKS propagation)",
        crate::iamrules::secs_pub(sim.iam.propagation().access_entry_seconds),
    );
    c.access_entries
        .insert(principal.to_string(), entry.clone());
    if let Some(tags) = body.get("tags").and_then(|t| t.as_object()) {
        world.tags.insert(
            arn,
            tags.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
        );
    }
    Ok(json!({"accessEntry": entry_json(sim, world, cluster, &entry)}))
}

/// The (role ARN, unique id, entry type) of every managed node group and Fargate profile role
/// of `cluster` that IAM knows, when it is in CONFIG_MAP mode (nothing otherwise).
async fn node_entry_ids(
    sim: &SharedSim,
    cluster: &str,
) -> Result<Vec<(String, String, String)>, (u16, &'static str, String)> {
    let roles: Vec<(String, &'static str)> = {
        let world = lock(&sim.world);
        match world.clusters.get(cluster) {
            Some(c) if c.auth_mode == "CONFIG_MAP" => c
                .nodegroups
                .values()
                .map(|g| (g.node_role.clone(), "EC2_LINUX"))
                .chain(
                    c.fargate
                        .values()
                        .map(|f| (f.pod_execution_role_arn.clone(), "FARGATE_LINUX")),
                )
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut out = Vec::new();
    for (arn, entry_type) in roles {
        if out
            .iter()
            .any(|(a, _, _): &(String, String, String)| *a == arn)
        {
            continue;
        }
        if let Some((_, id)) = sim
            .moto
            .principal(&arn)
            .await
            .map_err(|e| (500, "ServerException", e))?
        {
            out.push((arn, id, entry_type.to_string()));
        }
    }
    Ok(out)
}

fn update_cluster_config(
    sim: &SharedSim,
    world: &mut World,
    name: &str,
    body: &Value,
    now: DateTime<Utc>,
    node_entries: &[(String, String, String)],
) -> Res {
    let delay = *lock(&sim.update_delay);
    let failure = lock(&sim.update_failure).clone();
    let c = world
        .clusters
        .get_mut(name)
        .ok_or_else(|| cluster_not_found(name))?;
    let mut params = Vec::new();
    let mut new_mode = None;
    let update_type;
    if let Some(ac) = body.get("accessConfig") {
        if ac.get("bootstrapClusterCreatorAdminPermissions").is_some() {
            return Err(bad(
                "bootstrapClusterCreatorAdminPermissions can't be updated.",
            ));
        }
        let mode = ac
            .get("authenticationMode")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("accessConfig.authenticationMode is required"))?;
        let (Some(to), Some(from)) = (mode_rank(mode), mode_rank(&c.auth_mode)) else {
            return Err(bad(format!("Unsupported authentication mode: {mode}")));
        };
        // One step forward only: CONFIG_MAP -> API_AND_CONFIG_MAP -> API. EKS answers the
        // same message for a no-op, a step back and a skipped step (CONFIG_MAP -> API), e.g.
        // "InvalidParameterException ... Unsupported authentication mode update from
        // CONFIG_MAP to API" (AWS EKS workshop, access management, switching modes).
        if to != from + 1 {
            return Err(bad(format!(
                "Unsupported authentication mode update from {} to {mode}",
                c.auth_mode
            )));
        }
        if c.update_in_progress() {
            return Err((
                409,
                "ResourceInUseException",
                "Cannot update cluster config while another update is in progress".into(),
            ));
        }
        params.push(("AuthenticationMode".to_string(), mode.to_string()));
        new_mode = Some(mode.to_string());
        update_type = "AccessConfigUpdate";
    } else if let Some(vpc) = body.get("resourcesVpcConfig") {
        if c.update_in_progress() {
            return Err((
                409,
                "ResourceInUseException",
                "Cannot update cluster config while another update is in progress".into(),
            ));
        }
        if let Some(p) = vpc.get("endpointPublicAccess").and_then(|v| v.as_bool()) {
            c.endpoint_public = p;
            params.push(("EndpointPublicAccess".into(), p.to_string()));
        }
        if let Some(p) = vpc.get("endpointPrivateAccess").and_then(|v| v.as_bool()) {
            c.endpoint_private = p;
            params.push(("EndpointPrivateAccess".into(), p.to_string()));
        }
        update_type = "EndpointAccessUpdate";
    } else {
        return Err(bad("No changes needed"));
    }
    let u = Update {
        id: uuid(),
        update_type: update_type.into(),
        params,
        created_at: now,
        ready_at: now + TimeDelta::from_std(delay).unwrap_or_default(),
        applied: false,
        new_mode,
        failure,
        node_entries: node_entries.to_vec(),
    };
    c.updates.push(u.clone());
    sim.iam.impose(&format!("EKS update {update_type}"), delay);
    c.settle(now);
    let u = c
        .updates
        .iter()
        .find(|x| x.id == u.id)
        .cloned()
        .unwrap_or(u);
    Ok(json!({"update": update_json(&u)}))
}

/// Parameters of a cluster to create (from the API or a scenario).
pub struct NewCluster {
    pub name: String,
    pub version: String,
    pub role_arn: String,
    pub auth_mode: String,
    pub bootstrap: bool,
    pub endpoint_public: bool,
    pub endpoint_private: bool,
    pub created_at: DateTime<Utc>,
    /// Where the cluster lives.
    pub scope: Scope,
}

impl Scope {
    pub fn cluster_arn(&self, partition: &str, name: &str) -> String {
        format!(
            "arn:{partition}:eks:{}:{}:cluster/{name}",
            self.region, self.account
        )
    }
}

/// Creates a cluster with its own Kubernetes API listener; does not record events.
pub async fn create_cluster_record(
    sim: &SharedSim,
    p: &NewCluster,
) -> Result<(), (u16, &'static str, String)> {
    if lock(&sim.world).clusters.contains_key(&p.name) {
        return Err((
            409,
            "ResourceInUseException",
            format!("Cluster already exists with name: {}", p.name),
        ));
    }
    let (port, handle) = crate::k8s::spawn_cluster_server(sim.clone(), p.name.clone())
        .await
        .map_err(|e| (500, "ServerException", e))?;
    let mut c = Cluster::new(
        &p.name,
        p.scope.cluster_arn(&sim.partition, &p.name),
        &p.scope,
        p.created_at,
        p.version.clone(),
        port,
        p.auth_mode.clone(),
        p.bootstrap,
    );
    c.role_arn = p.role_arn.clone();
    c.partition = sim.partition.clone();
    c.endpoint_public = p.endpoint_public;
    c.endpoint_private = p.endpoint_private;
    c.platform_version = platform_version(&p.version);
    c.server = Some(handle);
    let mut world = lock(&sim.world);
    if world.clusters.contains_key(&p.name) {
        handle_abort(&c);
        return Err((
            409,
            "ResourceInUseException",
            format!("Cluster already exists with name: {}", p.name),
        ));
    }
    world.clusters.insert(p.name.clone(), c);
    Ok(())
}

fn handle_abort(c: &Cluster) {
    if let Some(h) = &c.server {
        h.abort();
    }
}

pub fn platform_version(version: &str) -> String {
    let _ = version;
    "eks.7".to_string()
}

async fn create_cluster(
    sim: &SharedSim,
    req: &Req,
    body: &Value,
    caller: &Identity,
    scope: &Scope,
) -> Res {
    let now = Utc::now();
    let name = body
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let valid_name = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let version = body
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("1.31")
        .to_string();
    let role_arn = body
        .get("roleArn")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let ac = body.get("accessConfig").cloned().unwrap_or(Value::Null);
    let auth_mode = ac
        .get("authenticationMode")
        .and_then(|v| v.as_str())
        .unwrap_or("CONFIG_MAP")
        .to_string();
    let bootstrap = ac
        .get("bootstrapClusterCreatorAdminPermissions")
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    let vpc = body
        .get("resourcesVpcConfig")
        .cloned()
        .unwrap_or(Value::Null);
    let p = NewCluster {
        name: name.clone(),
        version: version.clone(),
        role_arn: role_arn.clone(),
        auth_mode: auth_mode.clone(),
        bootstrap,
        endpoint_public: vpc
            .get("endpointPublicAccess")
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
        endpoint_private: vpc
            .get("endpointPrivateAccess")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        created_at: now,
        scope: scope.clone(),
    };
    let result = if !valid_name {
        Err(bad(format!("The cluster name {name:?} is not valid.")))
    } else if role_arn.is_empty() {
        Err(bad("roleArn is required"))
    } else if mode_rank(&auth_mode).is_none() {
        Err(bad(format!("Unsupported authentication mode: {auth_mode}")))
    } else if auth_mode == "CONFIG_MAP" && !bootstrap {
        // The text EKS answers (terraform-aws-modules/terraform-aws-eks#3026, #3206).
        Err(bad(
            "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP",
        ))
    } else {
        create_cluster_record(sim, &p).await
    };
    let mut actor = identity_actor(caller);
    actor.user_agent = req.header("user-agent").unwrap_or_default().to_string();
    actor.source_ip = req.peer.ip().to_string();
    let arn = scope.cluster_arn(&sim.partition, &name);
    let err = result
        .as_ref()
        .err()
        .map(|(_, code, msg)| (*code, msg.as_str()));
    let ev = create_cluster_event(
        &actor,
        &CreateClusterCall {
            region: &scope.region,
            account: &scope.account,
            time: now,
            name: &name,
            arn: &arn,
            version: &version,
            role_arn: &role_arn,
            auth_mode: &auth_mode,
            bootstrap,
            endpoint_public: p.endpoint_public,
            endpoint_private: p.endpoint_private,
            error: err,
        },
    );
    write(&sim.trail).push(ev);
    result?;
    let mut world = lock(&sim.world);
    if let Some(tags) = body.get("tags").and_then(|t| t.as_object()) {
        world.tags.insert(
            arn.clone(),
            tags.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
        );
    }
    let c = world
        .clusters
        .get_mut(&name)
        .ok_or_else(|| cluster_not_found(&name))?;
    c.creator = Some(crate::state::Creator {
        arn: caller.principal_arn.clone(),
        principal_id: caller.principal_id.clone(),
    });
    if auth_mode != "CONFIG_MAP" && bootstrap {
        add_creator_entry(sim, c, &caller.principal_arn, &caller.principal_id, now);
    }
    let c = world
        .clusters
        .get(&name)
        .ok_or_else(|| cluster_not_found(&name))?;
    let mut v = cluster_json(sim, &world, c);
    v["status"] = json!("CREATING");
    Ok(json!({"cluster": v}))
}

/// The access entry EKS makes for the creator of a cluster created in an API mode.
pub fn add_creator_entry(
    _sim: &SharedSim,
    c: &mut Cluster,
    principal_arn: &str,
    principal_id: &str,
    now: DateTime<Utc>,
) {
    c.add_creator_entry(principal_arn, principal_id, now);
}
