//! The reference clients (awscli, kubectl) work against the sim unchanged.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Moto, Sim, aws, aws_token, http};
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

fn fails(sim: &Sim, args: &[&str]) -> String {
    let (ok, out, err) = aws(args, &sim.env());
    assert!(!ok, "aws {args:?} should fail: {out}");
    err
}

#[test]
fn awscli_eks_and_cloudtrail() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("incident.yaml"), &moto);
    let (st, _) = sim.admin("PUT", "update-delay", r#"{"seconds": 0.5}"#);
    assert_eq!(st, 200);

    // describe-cluster: the endpoint is the cluster's own API server, the CA is the sim's.
    let c = &run(&sim, &["eks", "describe-cluster", "--name", "prod"])["cluster"];
    assert_eq!(c["endpoint"], sim.state["clusters"]["prod"]["endpoint"]);
    assert_eq!(c["status"], "ACTIVE");
    assert_eq!(c["accessConfig"]["authenticationMode"], "CONFIG_MAP");
    assert_eq!(
        c["accessConfig"]["bootstrapClusterCreatorAdminPermissions"],
        true
    );
    let ca = base64::engine::general_purpose::STANDARD
        .decode(c["certificateAuthority"]["data"].as_str().expect("ca"))
        .expect("b64");
    assert_eq!(String::from_utf8(ca).expect("pem"), sim.ca_pem());
    let age_days = (chrono::Utc::now().timestamp() as f64
        - c["createdAt"].as_f64().expect("createdAt"))
        / 86400.0;
    assert!((59.9..60.1).contains(&age_days), "{age_days}");
    assert_eq!(run(&sim, &["eks", "list-clusters"])["clusters"][0], "prod");
    assert_eq!(
        run(
            &sim,
            &[
                "eks",
                "describe-nodegroup",
                "--cluster-name",
                "prod",
                "--nodegroup-name",
                "general"
            ]
        )["nodegroup"]["nodeRole"],
        "arn:aws:iam::123456789012:role/eks-node-role"
    );
    assert_eq!(
        run(
            &sim,
            &[
                "eks",
                "describe-fargate-profile",
                "--cluster-name",
                "prod",
                "--fargate-profile-name",
                "fp-default"
            ]
        )["fargateProfile"]["podExecutionRoleArn"],
        "arn:aws:iam::123456789012:role/eks-fargate-pod-execution"
    );
    let err = fails(&sim, &["eks", "describe-cluster", "--name", "nope"]);
    assert!(err.contains("ResourceNotFoundException"), "{err}");

    // Tags.
    let arn = c["arn"].as_str().expect("arn").to_string();
    run(
        &sim,
        &[
            "eks",
            "tag-resource",
            "--resource-arn",
            &arn,
            "--tags",
            "eks-breakglass/creator=x,team=platform",
        ],
    );
    run(
        &sim,
        &[
            "eks",
            "untag-resource",
            "--resource-arn",
            &arn,
            "--tag-keys",
            "team",
        ],
    );
    let tags = run(
        &sim,
        &["eks", "list-tags-for-resource", "--resource-arn", &arn],
    );
    assert_eq!(
        tags["tags"],
        serde_json::json!({"eks-breakglass/creator": "x"})
    );

    // Access entries are refused in CONFIG_MAP mode, with EKS's error.
    let oncall = sim.state["users"]["oncall"]["arn"]
        .as_str()
        .expect("arn")
        .to_string();
    let err = fails(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            &oncall,
        ],
    );
    assert!(
        err.contains("InvalidRequestException") && err.contains("authentication mode"),
        "{err}"
    );

    // update-cluster-config: CONFIG_MAP -> API_AND_CONFIG_MAP, asynchronous.
    let u = run(
        &sim,
        &[
            "eks",
            "update-cluster-config",
            "--name",
            "prod",
            "--access-config",
            "authenticationMode=API_AND_CONFIG_MAP",
        ],
    );
    let id = u["update"]["id"].as_str().expect("update id").to_string();
    assert_eq!(u["update"]["status"], "InProgress");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let d = run(
            &sim,
            &[
                "eks",
                "describe-update",
                "--name",
                "prod",
                "--update-id",
                &id,
            ],
        );
        if d["update"]["status"] == "Successful" {
            break;
        }
        assert!(Instant::now() < deadline, "update never finished");
        std::thread::sleep(Duration::from_millis(200));
    }
    let c = run(&sim, &["eks", "describe-cluster", "--name", "prod"]);
    assert_eq!(
        c["cluster"]["accessConfig"]["authenticationMode"],
        "API_AND_CONFIG_MAP"
    );
    // ... and the one-way rule.
    let err = fails(
        &sim,
        &[
            "eks",
            "update-cluster-config",
            "--name",
            "prod",
            "--access-config",
            "authenticationMode=CONFIG_MAP",
        ],
    );
    assert!(
        err.contains("InvalidParameterException")
            && err.contains("Unsupported authentication mode update"),
        "{err}"
    );

    // The AWS-recommended recovery: access entry + AmazonEKSClusterAdminPolicy.
    let e = run(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            &oncall,
        ],
    );
    assert_eq!(e["accessEntry"]["username"], oncall.as_str());
    let err = fails(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            &oncall,
        ],
    );
    assert!(err.contains("ResourceInUseException"), "{err}");
    let err = fails(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            "arn:aws:sts::123456789012:assumed-role/dev-admin/x",
        ],
    );
    assert!(err.contains("InvalidParameterException"), "{err}");
    let err = fails(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            "arn:aws:iam::123456789012:role/dev-admin",
            "--username",
            "system:admin",
        ],
    );
    assert!(err.contains("InvalidParameterException"), "{err}");
    let policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    let a = run(
        &sim,
        &[
            "eks",
            "associate-access-policy",
            "--cluster-name",
            "prod",
            "--principal-arn",
            &oncall,
            "--policy-arn",
            policy,
            "--access-scope",
            "type=cluster",
        ],
    );
    assert_eq!(a["associatedAccessPolicy"]["policyArn"], policy);
    let l = run(
        &sim,
        &[
            "eks",
            "list-associated-access-policies",
            "--cluster-name",
            "prod",
            "--principal-arn",
            &oncall,
        ],
    );
    assert_eq!(
        l["associatedAccessPolicies"].as_array().map(|a| a.len()),
        Some(1)
    );
    assert!(
        run(
            &sim,
            &["eks", "list-access-entries", "--cluster-name", "prod"]
        )["accessEntries"]
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e == oncall.as_str())
    );
    // The operator is now cluster admin through the access entry.
    let (k, s) = sim.user_key("oncall");
    let tok = aws_token("prod", &k, &s, None);
    let (st, v) = sim.kube(
        "prod",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 200, "{v}");

    // CloudTrail: the seeded CreateCluster carries the creator's real unique id from moto.
    let ev = run(
        &sim,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=CreateCluster",
        ],
    );
    let eks: Vec<Value> = ev["Events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e["CloudTrailEvent"].as_str()?).ok())
        .filter(|r| {
            r["eventSource"] == "eks.amazonaws.com"
                && r.get("errorCode").is_none()
                && r["responseElements"]["cluster"]["name"] == "prod"
        })
        .collect();
    assert_eq!(eks.len(), 1, "one successful EKS CreateCluster for prod");
    assert_eq!(
        eks[0]["userIdentity"]["principalId"],
        sim.state["users"]["platform-admin"]["userId"]
    );
    assert_eq!(
        eks[0]["userIdentity"]["arn"],
        "arn:aws:iam::123456789012:user/admins/platform-admin"
    );
    let err = fails(
        &sim,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=CreateCluster",
            "AttributeKey=Username,AttributeValue=x",
        ],
    );
    assert!(err.contains("InvalidLookupAttributesException"), "{err}");

    // A CreateCluster made through the sim is recorded with the caller's identity and user agent
    // (shown at once: this test sets CloudTrail's delivery delay to 0).
    sim.admin("PUT", "cloudtrail/pages", r#"{"deliveryDelaySeconds": 0}"#);
    run(
        &sim,
        &[
            "eks",
            "create-cluster",
            "--name",
            "drill",
            "--role-arn",
            "arn:aws:iam::123456789012:role/eks-cluster-role",
            "--resources-vpc-config",
            "subnetIds=subnet-1",
        ],
    );
    let ev = run(
        &sim,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=ResourceName,AttributeValue=drill",
            "--max-results",
            "5",
        ],
    );
    let rec: Value =
        serde_json::from_str(ev["Events"][0]["CloudTrailEvent"].as_str().expect("event"))
            .expect("json");
    assert_eq!(rec["userIdentity"]["arn"], oncall.as_str());
    assert_eq!(
        rec["userIdentity"]["principalId"],
        sim.state["users"]["oncall"]["userId"]
    );
    assert!(
        rec["userAgent"]
            .as_str()
            .unwrap_or_default()
            .starts_with("aws-cli/"),
        "{rec}"
    );
    assert_eq!(rec["sourceIPAddress"], "127.0.0.1");
    // ... and its creator is cluster admin on its brand-new API server.
    let tok = aws_token("drill", &k, &s, None);
    let (st, v) = sim.whoami("drill", &tok);
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"]["userInfo"]["username"], "kubernetes-admin");

    // Missing permissions answer AccessDeniedException with AWS's text.
    let (st, _) = sim.admin("PUT", "deny", &format!(r#"{{"deny":[{{"principal":"{oncall}","actions":["eks:CreateAccessEntry","cloudtrail:LookupEvents"]}}]}}"#));
    assert_eq!(st, 200);
    let err = fails(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            "arn:aws:iam::123456789012:role/dev-admin",
        ],
    );
    assert!(
        err.contains("AccessDeniedException")
            && err.contains(&format!("User: {oncall} is not authorized to perform: eks:CreateAccessEntry on resource: arn:aws:eks:us-east-1:123456789012:cluster/prod because no identity-based policy allows the eks:CreateAccessEntry action")),
        "{err}"
    );
    let err = fails(&sim, &["cloudtrail", "lookup-events", "--max-results", "1"]);
    assert!(err.contains("AccessDeniedException"), "{err}");
    sim.admin("PUT", "deny", r#"{"deny":[]}"#);

    // Reset history: lookups find nothing.
    sim.admin("DELETE", "cloudtrail/events", "");
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

    // The call log counts API calls.
    let (_, calls) = sim.admin("GET", "calls?service=eks&action=CreateAccessEntry", "");
    assert!(calls["count"].as_u64().unwrap_or_default() >= 5, "{calls}");
}

#[test]
fn lookup_events_throttle() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("incident.yaml"), &moto);
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
    // The scenario's 2/s, burst 2: two immediate calls pass.
    for _ in 0..2 {
        let (st, body) =
            http("POST", sim.eks_port, "/", &headers, r#"{"MaxResults": 1}"#).expect("call");
        assert_eq!(st, 200, "{body}");
    }
    // A slow refill makes the count independent of how fast this machine is.
    let (st, _) = sim.admin("PUT", "cloudtrail/throttle", r#"{"rate": 0.2, "burst": 2}"#);
    assert_eq!(st, 200);
    let mut throttled = 0;
    let mut ok = 0;
    for _ in 0..6 {
        let (st, body) =
            http("POST", sim.eks_port, "/", &headers, r#"{"MaxResults": 1}"#).expect("call");
        if st == 400 && body.contains("ThrottlingException") {
            throttled += 1;
        } else if st == 200 {
            ok += 1;
        }
    }
    assert!(
        throttled >= 3 && ok >= 2,
        "burst 2 at 2/s: ok={ok} throttled={throttled}"
    );
    sim.admin("PUT", "cloudtrail/throttle", r#"{"off": true}"#);
    for _ in 0..5 {
        let (st, _) =
            http("POST", sim.eks_port, "/", &headers, r#"{"MaxResults": 1}"#).expect("call");
        assert_eq!(st, 200);
    }
}

#[test]
fn kubectl_through_exec_plugin() {
    if !Path::new("/usr/bin/kubectl").exists()
        && std::process::Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .output()
            .is_err()
    {
        eprintln!("skipped: kubectl not installed");
        return;
    }
    let moto = Moto::start();
    let sim = Sim::start(&scenario("incident.yaml"), &moto);
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).expect("ca");
    let (k, s) = sim.user_key("platform-admin");
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: {server}\n    certificate-authority: {ca}\ncontexts:\n- name: prod\n  context: {{cluster: prod, user: creator}}\ncurrent-context: prod\nusers:\n- name: creator\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {aws}\n      args: [eks, get-token, --cluster-name, prod, --region, us-east-1]\n      env:\n      - {{name: AWS_ACCESS_KEY_ID, value: \"{k}\"}}\n      - {{name: AWS_SECRET_ACCESS_KEY, value: \"{s}\"}}\n      - {{name: AWS_CONFIG_FILE, value: /nonexistent}}\n      interactiveMode: Never\n",
        server = sim.state["clusters"]["prod"]["endpoint"]
            .as_str()
            .expect("endpoint"),
        ca = ca.display(),
        aws = common::venv_bin("aws").display(),
    );
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, kubeconfig).expect("kubeconfig");
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["get", "configmap", "aws-auth", "-n", "kube-system"])
        .env_remove("AWS_ENDPOINT_URL_STS")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("kubectl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("aws-auth") && stdout.contains("DATA"),
        "{stdout}"
    );
}

/// STS accepts an MFA one-time code once (AWS: "MultiFactorAuthentication failed with invalid
/// MFA one time pass code", aws/aws-cli#2279); moto accepts it again, the sim does not.
#[test]
fn an_mfa_code_is_accepted_once() {
    let moto = Moto::start();
    let sim = Sim::start(&scenario("incident.yaml"), &moto);
    // The device must be one of the caller's (the operator, oncall): STS refuses any other
    // serial with the same message, so enable it first (IAM calls: they consume no STS code).
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("qr.png");
    run(
        &sim,
        &[
            "iam",
            "create-virtual-mfa-device",
            "--virtual-mfa-device-name",
            "oncall",
            "--outfile",
            png.to_str().unwrap_or_default(),
            "--bootstrap-method",
            "QRCodePNG",
        ],
    );
    run(
        &sim,
        &[
            "iam",
            "enable-mfa-device",
            "--user-name",
            "oncall",
            "--serial-number",
            "arn:aws:iam::123456789012:mfa/oncall",
            "--authentication-code1",
            "123456",
            "--authentication-code2",
            "654321",
        ],
    );
    let assume = [
        "sts",
        "assume-role",
        "--role-arn",
        "arn:aws:iam::123456789012:role/dev-admin",
        "--role-session-name",
        "mfa-once",
        "--serial-number",
        "arn:aws:iam::123456789012:mfa/oncall",
        "--token-code",
        "123456",
    ];
    let first = run(&sim, &assume);
    assert!(first["Credentials"]["AccessKeyId"].is_string(), "{first}");
    let err = fails(&sim, &assume);
    assert!(
        err.contains("AccessDenied")
            && err.contains("MultiFactorAuthentication failed with invalid MFA one time pass code"),
        "{err}"
    );
    // Another code is accepted.
    let mut other = assume;
    other[9] = "654321";
    let again = run(&sim, &other);
    assert!(again["Credentials"]["AccessKeyId"].is_string(), "{again}");
}
