//! CloudTrail's awsJson1.1 API: LookupEvents, DescribeTrails, GetTrail.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::cloudtrail::LookupQuery;
use crate::http::{Req, Resp, aws_json_error, response};
use crate::state::{SharedSim, lock, read};

/// botocore sends `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`, the Rust SDK
/// `CloudTrail_20131101.<Op>`: both name the service `CloudTrail_20131101`.
const TARGET_SERVICE: &str = "CloudTrail_20131101.";

pub fn is_cloudtrail(req: &Req) -> bool {
    req.header("x-amz-target")
        .is_some_and(|t| t.contains(TARGET_SERVICE))
}

fn ok(v: &Value) -> Resp {
    response(200, "application/x-amz-json-1.1", v.to_string())
}

fn time_param(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => {
            let secs = n.as_f64().ok_or("bad timestamp")?;
            DateTime::from_timestamp_millis((secs * 1000.0) as i64)
                .map(Some)
                .ok_or_else(|| "timestamp out of range".into())
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| Some(d.with_timezone(&Utc)))
            .map_err(|e| e.to_string()),
        _ => Err("bad timestamp".into()),
    }
}

pub async fn handle(sim: SharedSim, req: Req) -> Resp {
    let action = req
        .header("x-amz-target")
        .and_then(|t| t.rsplit_once(TARGET_SERVICE))
        .map(|(_, op)| op.to_string())
        .unwrap_or_default();
    let caller = match sim.caller(req.header("authorization")).await {
        Ok(c) => c,
        Err((status, code, msg)) => {
            sim.record_call("cloudtrail", &action, None, status, None);
            return aws_json_error(status, code, &msg);
        }
    };
    let iam_action = format!("cloudtrail:{action}");
    if sim.denied(&caller, &iam_action) {
        sim.record_call("cloudtrail", &action, Some(&caller), 400, None);
        let resource = format!(
            "arn:{}:cloudtrail:{}:{}:trail/*",
            sim.partition, sim.region, sim.account
        );
        return aws_json_error(
            400,
            "AccessDeniedException",
            &format!(
                "User: {} is not authorized to perform: {iam_action} on resource: {resource} because no identity-based policy allows the {iam_action} action",
                caller.arn
            ),
        );
    }
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&req.body).unwrap_or(Value::Null)
    };
    let resp = match action.as_str() {
        "LookupEvents" => {
            let scope = sim.request_scope(req.header("authorization"), &caller);
            lookup(&sim, &body, Some(scope))
        }
        "DescribeTrails" => {
            let trails = lock(&sim.trails).clone();
            ok(
                &json!({"trailList": trails.iter().map(|t| trail_json(&sim, t)).collect::<Vec<_>>()}),
            )
        }
        "GetTrail" => {
            let name = body["Name"].as_str().unwrap_or_default().to_string();
            let trails = lock(&sim.trails).clone();
            match trails
                .iter()
                .find(|t| t.name == name || trail_arn(&sim, &t.name) == name)
            {
                Some(t) => ok(&json!({"Trail": trail_json(&sim, t)})),
                None => aws_json_error(
                    400,
                    "TrailNotFoundException",
                    &format!("Unknown trail: {name} for the user: {}", sim.account),
                ),
            }
        }
        other => aws_json_error(
            400,
            "UnknownOperationException",
            &format!("eks-sim does not implement CloudTrail {other}"),
        ),
    };
    sim.record_call(
        "cloudtrail",
        &action,
        Some(&caller),
        resp.status().as_u16(),
        None,
    );
    resp
}

fn trail_arn(sim: &SharedSim, name: &str) -> String {
    format!(
        "arn:{}:cloudtrail:{}:{}:trail/{name}",
        sim.partition, sim.region, sim.account
    )
}

fn trail_json(sim: &SharedSim, t: &crate::state::TrailConfig) -> Value {
    let mut v = json!({
        "Name": t.name,
        "S3BucketName": t.bucket,
        "IncludeGlobalServiceEvents": true,
        "IsMultiRegionTrail": t.multi_region,
        "HomeRegion": sim.region,
        "TrailARN": trail_arn(sim, &t.name),
        "LogFileValidationEnabled": false,
        "HasCustomEventSelectors": false,
        "HasInsightSelectors": false,
        "IsOrganizationTrail": false,
    });
    if !t.prefix.is_empty() {
        v["S3KeyPrefix"] = json!(t.prefix);
    }
    v
}

fn lookup(sim: &SharedSim, body: &Value, scope: Option<crate::state::Scope>) -> Resp {
    if !lock(&sim.throttle).allow() {
        return aws_json_error(400, "ThrottlingException", "Rate exceeded");
    }
    let mut q = LookupQuery::default();
    if let Some(attrs) = body["LookupAttributes"].as_array() {
        for a in attrs {
            let k = a["AttributeKey"].as_str().unwrap_or_default().to_string();
            let v = a["AttributeValue"].as_str().unwrap_or_default().to_string();
            q.attributes.push((k, v));
        }
    }
    match (time_param(&body["StartTime"]), time_param(&body["EndTime"])) {
        (Ok(s), Ok(e)) => {
            q.start = s;
            q.end = e;
        }
        (Err(e), _) | (_, Err(e)) => return aws_json_error(400, "InvalidTimeRangeException", &e),
    }
    q.max_results = body["MaxResults"].as_i64();
    q.next_token = body["NextToken"].as_str().map(|s| s.to_string());
    q.scope = scope.map(|s| (s.account, s.region));
    (q.scan_budget, q.delivery_delay_ms) = *lock(&sim.cloudtrail_pages);
    let started = std::time::Instant::now();
    let store = read(&sim.trail);
    match store.lookup(&q, Utc::now()) {
        Ok((events, next)) => {
            let mut v =
                json!({"Events": events.iter().map(|e| e.to_lookup_json()).collect::<Vec<_>>()});
            if let Some(t) = next {
                v["NextToken"] = json!(t);
            }
            let mut r = ok(&v);
            // In-process time of the query and rendering, for measurements.
            if let Ok(h) =
                hyper::header::HeaderValue::from_str(&started.elapsed().as_micros().to_string())
            {
                r.headers_mut().insert("x-eks-sim-lookup-us", h);
            }
            r
        }
        Err(e) => {
            let (code, msg) = e.code_message();
            aws_json_error(400, code, msg)
        }
    }
}
