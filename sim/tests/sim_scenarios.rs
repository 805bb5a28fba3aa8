//! The example scenarios build the worlds they describe; the 100k-event benchmark.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use common::{Moto, Sim, aws, aws_token, http, http_full, raw_header};
use serde_json::Value;

fn scenario(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn run(sim: &Sim, args: &[&str]) -> Value {
    let (ok, out, err) = aws(args, &sim.env());
    assert!(ok, "aws {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

#[test]
fn incident_locks_out_everyone_but_the_creator() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("incident.yaml"), &moto);
    let (_, m) = sim.admin("GET", "clusters/prod/effective-mapping", "");
    assert_eq!(m["sections"]["mapUsers"]["status"], "error", "{m}");
    assert_eq!(m["sections"]["mapRoles"]["status"], "loaded");
    assert!(m["roles"].as_array().expect("roles").iter().all(|r| {
        !r["rolearn"]
            .as_str()
            .unwrap_or_default()
            .ends_with("eks-node-role")
    }));
    // The node role lost its mapping; the creator still gets in.
    let (k, s, t) = sim.session("eks-node-role", "i-0a1b2c3d4e5f60718");
    assert_eq!(
        sim.whoami("prod", &aws_token("prod", &k, &s, Some(&t))).0,
        401
    );
    let (k, s) = sim.user_key("oncall");
    assert_eq!(sim.whoami("prod", &aws_token("prod", &k, &s, None)).0, 401);
    let (k, s) = sim.user_key("platform-admin");
    assert_eq!(sim.whoami("prod", &aws_token("prod", &k, &s, None)).0, 201);
}

#[test]
fn deleted_creator_in_api_mode() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("creator-deleted-api.yaml"), &moto);
    assert_eq!(sim.state["users"]["ex-employee"]["deleted"], true);
    let (ok, _, err) = aws(
        &["iam", "get-user", "--user-name", "ex-employee"],
        &sim.env(),
    );
    assert!(!ok && err.contains("NoSuchEntity"), "{err}");
    // The creator's access entry is still there, bound to the old unique id.
    let entries = run(
        &sim,
        &["eks", "list-access-entries", "--cluster-name", "staging"],
    );
    assert!(
        entries["accessEntries"]
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e == "arn:aws:iam::123456789012:user/people/ex-employee")
    );
    // History names the creator with its original unique id.
    let ev = run(
        &sim,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=ResourceName,AttributeValue=staging",
        ],
    );
    let rec: Value =
        serde_json::from_str(ev["Events"][0]["CloudTrailEvent"].as_str().expect("event"))
            .expect("json");
    assert_eq!(
        rec["userIdentity"]["principalId"],
        sim.state["users"]["ex-employee"]["originalUserId"]
    );
    // Recreating the user through the sim's IAM endpoint gives a new unique id: no access.
    run(
        &sim,
        &[
            "iam",
            "create-user",
            "--user-name",
            "ex-employee",
            "--path",
            "/people/",
        ],
    );
    let key = run(
        &sim,
        &["iam", "create-access-key", "--user-name", "ex-employee"],
    );
    let (k, s) = (
        key["AccessKey"]["AccessKeyId"].as_str().expect("k"),
        key["AccessKey"]["SecretAccessKey"].as_str().expect("s"),
    );
    // The new user and key are refused by STS (InvalidClientTokenId) until IAM propagation
    // (1 s in the harness) has passed; wait that out so the refusal judged is the cluster's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let reason = loop {
        assert_eq!(
            sim.whoami("staging", &aws_token("staging", k, s, None)).0,
            401
        );
        let reason = sim.last_auth_reason("staging");
        if !reason.contains("InvalidClientTokenId") || std::time::Instant::now() > deadline {
            break reason;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    // The old entry is bound to the deleted user's unique id: the new user is not mapped.
    assert!(reason.contains("not mapped"), "{reason}");
}

#[test]
fn deleted_creator_in_configmap_mode_with_trail_in_s3() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("creator-deleted-configmap.yaml"), &moto);
    let role = &sim.state["roles"]["terraform-deployer"];
    assert_eq!(role["recreated"], true);
    assert_ne!(role["roleId"], role["originalRoleId"]);
    // The cluster is older than 90 days: event history does not have it ...
    let ev = run(
        &sim,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=CreateCluster",
        ],
    );
    assert_eq!(ev["Events"].as_array().map(|a| a.len()), Some(0));
    // ... the trail does.
    let trails = run(&sim, &["cloudtrail", "describe-trails"]);
    assert_eq!(
        trails["trailList"][0]["S3BucketName"],
        "org-cloudtrail-logs"
    );
    let trail = run(
        &sim,
        &["cloudtrail", "get-trail", "--name", "management-events"],
    );
    assert_eq!(trail["Trail"]["IsMultiRegionTrail"], true);
    let listing = run(
        &sim,
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "org-cloudtrail-logs",
        ],
    );
    let keys: Vec<String> = listing["Contents"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["Key"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(
        |k| k.starts_with("AWSLogs/123456789012/CloudTrail/us-east-1/") && k.ends_with(".json.gz")
    ));
    let dir = tempfile::tempdir().expect("tmp");
    let mut found = Vec::new();
    for k in &keys {
        let out = dir.path().join("obj.gz");
        run(
            &sim,
            &[
                "s3api",
                "get-object",
                "--bucket",
                "org-cloudtrail-logs",
                "--key",
                k,
                out.to_str().expect("path"),
            ],
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&out).expect("open"))
            .read_to_string(&mut text)
            .expect("gunzip");
        let v: Value = serde_json::from_str(&text).expect("json");
        found.push(v["Records"][0].clone());
    }
    let current = found
        .iter()
        .find(|r| r["userIdentity"]["type"] == "AssumedRole")
        .expect("the terraform CreateCluster");
    assert_eq!(
        current["userIdentity"]["sessionContext"]["sessionIssuer"]["principalId"],
        role["originalRoleId"]
    );
    assert_eq!(
        current["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        "arn:aws:iam::123456789012:role/ci/terraform-deployer"
    );
    assert!(
        current["userAgent"]
            .as_str()
            .unwrap_or_default()
            .contains("Terraform/")
    );
    assert!(
        found.iter().any(|r| r["userIdentity"]["type"] == "IAMUser"),
        "the reused name's older CreateCluster"
    );
    // Both sections are broken: nobody is let in except... nobody (the creator was recreated).
    let (k, s) = sim.user_key("oncall");
    assert_eq!(
        sim.whoami("legacy", &aws_token("legacy", &k, &s, None)).0,
        401
    );
}

/// Prints the 100k-event load time and LookupEvents latency (a measurement, not an assertion).
#[test]
fn noise_100k_measurement() {
    let moto = Moto::start();
    let started = Instant::now();
    let sim = Sim::start(&scenario("noise-100k.yaml"), &moto);
    let ready = started.elapsed();
    let events = sim.state["cloudtrail"]["events"]
        .as_u64()
        .unwrap_or_default();
    assert!(events >= 100_000, "{events}");
    let (key, _) = sim.user_key("oncall");
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=0"
    );
    let headers = [
        (
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        ),
        ("content-type", "application/x-amz-json-1.1"),
        ("authorization", auth.as_str()),
    ];
    let now = chrono::Utc::now().timestamp();
    let bodies = [
        format!(r#"{{"StartTime": {}, "EndTime": {}, "MaxResults": 50}}"#, now - 40 * 86400, now - 39 * 86400),
        format!(
            r#"{{"LookupAttributes": [{{"AttributeKey": "EventName", "AttributeValue": "CreateCluster"}}], "StartTime": {}, "EndTime": {}, "MaxResults": 50}}"#,
            now - 60 * 86400,
            now - 30 * 86400
        ),
        r#"{"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "oncall"}], "MaxResults": 50}"#.to_string(),
    ];
    // Warm the identity cache once.
    http("POST", sim.eks_port, "/", &headers, &bodies[0]).expect("warm");
    let mut worst = 0.0f64;
    let mut total = 0.0f64;
    let mut inproc_worst = 0.0f64;
    let mut inproc_total = 0.0f64;
    let n = 30;
    for i in 0..n {
        let t = Instant::now();
        let (st, head, body) = http_full(
            "POST",
            sim.eks_port,
            "/",
            &headers,
            &bodies[i % bodies.len()],
        )
        .expect("lookup");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let inproc = raw_header(&head, "x-eks-sim-lookup-us")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_default()
            / 1000.0;
        assert_eq!(st, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        assert!(!v["Events"].as_array().expect("events").is_empty());
        worst = worst.max(ms);
        total += ms;
        inproc_worst = inproc_worst.max(inproc);
        inproc_total += inproc;
    }
    println!(
        "eks-sim 100k: {events} events; world built in {} ms (state file after {:.0} ms incl. process start); \
         LookupEvents one-page window over HTTP: avg {:.1} ms, worst {:.1} ms; inside the sim (query + rendering the page): \
         avg {:.2} ms, worst {:.2} ms ({n} calls)",
        sim.state["cloudtrail"]["loadMs"],
        ready.as_secs_f64() * 1000.0,
        total / n as f64,
        worst,
        inproc_total / n as f64,
        inproc_worst
    );
}

fn names(v: &Value) -> Vec<String> {
    v["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| c.as_str().expect("name").to_string())
        .collect()
}

#[test]
fn organization_accounts_and_regions_in_one_world() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("organization.yaml"), &moto);
    let payments = sim.state["organization"]["accounts"]["payments"]["id"]
        .as_str()
        .expect("payments id")
        .to_string();
    assert_ne!(payments, "123456789012");
    assert_eq!(
        sim.state["clusters"]["payments-eu"]["arn"],
        format!("arn:aws:eks:eu-west-1:{payments}:cluster/payments-eu").as_str()
    );
    let mgmt = sim.env();
    let in_region = |env: &[(String, String)], args: &[&str], region: &str| {
        let mut a = args.to_vec();
        a.extend(["--region", region]);
        aws(&a, env)
    };
    let list = |env: &[(String, String)], region: &str| {
        let (ok, out, err) = in_region(env, &["eks", "list-clusters"], region);
        assert!(ok, "{err}");
        names(&serde_json::from_str(&out).expect("json"))
    };
    assert_eq!(list(&mgmt, "us-east-1"), ["mgmt-prod"]);
    assert_eq!(list(&mgmt, "eu-west-1"), ["mgmt-eu"]);
    assert!(list(&mgmt, "ap-southeast-2").is_empty());
    // Another region's or account's cluster does not exist for this request.
    let (ok, _, err) = in_region(
        &mgmt,
        &["eks", "describe-cluster", "--name", "mgmt-eu"],
        "us-east-1",
    );
    assert!(!ok && err.contains("ResourceNotFoundException"), "{err}");

    // The organization role in the member account, assumed through the sim's STS.
    let role = format!("arn:aws:iam::{payments}:role/OrganizationAccountAccessRole");
    let creds = run(
        &sim,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role,
            "--role-session-name",
            "audit",
        ],
    );
    let c = &creds["Credentials"];
    let mut member: Vec<(String, String)> = mgmt
        .iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY_ID") && k != "AWS_SECRET_ACCESS_KEY")
        .cloned()
        .collect();
    for (k, f) in [
        ("AWS_ACCESS_KEY_ID", "AccessKeyId"),
        ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
        ("AWS_SESSION_TOKEN", "SessionToken"),
    ] {
        member.push((k.into(), c[f].as_str().expect("credential").to_string()));
    }
    assert_eq!(list(&member, "us-east-1"), ["payments-prod"]);
    assert_eq!(list(&member, "eu-west-1"), ["payments-eu"]);
    let (ok, _, err) = in_region(
        &member,
        &["eks", "describe-cluster", "--name", "mgmt-prod"],
        "us-east-1",
    );
    assert!(!ok && err.contains("ResourceNotFoundException"), "{err}");
    let (ok, out, err) = in_region(
        &member,
        &["eks", "describe-cluster", "--name", "payments-eu"],
        "eu-west-1",
    );
    assert!(ok, "{err}");
    let d: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        d["cluster"]["arn"],
        sim.state["clusters"]["payments-eu"]["arn"]
    );

    // CloudTrail answers per account and region too.
    let lookup = |env: &[(String, String)], name: &str, region: &str| {
        let (ok, out, err) = in_region(
            env,
            &[
                "cloudtrail",
                "lookup-events",
                "--lookup-attributes",
                &format!("AttributeKey=ResourceName,AttributeValue={name}"),
            ],
            region,
        );
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(&out).expect("json");
        v["Events"].as_array().expect("events").len()
    };
    assert_eq!(lookup(&member, "payments-prod", "us-east-1"), 1);
    assert_eq!(lookup(&member, "payments-prod", "eu-west-1"), 0);
    assert_eq!(lookup(&mgmt, "payments-prod", "us-east-1"), 0);

    // A cluster created by the member session lives in its account and region.
    let (ok, out, err) = in_region(
        &member,
        &[
            "eks",
            "create-cluster",
            "--name",
            "payments-new",
            "--role-arn",
            &format!("arn:aws:iam::{payments}:role/eks-cluster-role"),
            "--resources-vpc-config",
            "subnetIds=subnet-1",
        ],
        "eu-west-1",
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v["cluster"]["arn"],
        format!("arn:aws:eks:eu-west-1:{payments}:cluster/payments-new").as_str()
    );
    assert_eq!(list(&member, "eu-west-1"), ["payments-eu", "payments-new"]);
    assert_eq!(list(&mgmt, "eu-west-1"), ["mgmt-eu"]);

    // The member session authenticates to the cluster its role created.
    let (k, s, t) = (
        c["AccessKeyId"].as_str().expect("key"),
        c["SecretAccessKey"].as_str().expect("secret"),
        c["SessionToken"].as_str().expect("token"),
    );
    assert_eq!(
        sim.whoami("payments-prod", &aws_token("payments-prod", k, s, Some(t)))
            .0,
        201
    );
}
