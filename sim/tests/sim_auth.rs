//! EKS authentication and authorisation against the sim's per-cluster API servers, with tokens
//! from `aws eks get-token` (and crafted ones for the expiry cases).

mod common;

use std::path::Path;

use chrono::{TimeDelta, Utc};
use common::{Moto, Sim, aws, aws_token, presigned_token};
use serde_json::Value;

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/auth.yaml"
    ))
}

fn groups(v: &Value) -> Vec<String> {
    v["status"]["userInfo"]["groups"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn username(v: &Value) -> String {
    v["status"]["userInfo"]["username"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn tokens_are_verified_and_mapped_like_eks() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let (ck, cs) = sim.user_key("creator");

    // Anonymous: /version is public, everything else needs a token.
    let (st, _) = sim.kube("alpha", "GET", "/version", "", "", "application/json");
    assert_eq!(st, 200);
    let (st, v) = sim.kube(
        "alpha",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        "",
        "",
        "application/json",
    );
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["kind"], "Status");

    // The creator: kubernetes-admin in system:masters (matched by unique id).
    let creator = aws_token("alpha", &ck, &cs, None);
    let (st, v) = sim.whoami("alpha", &creator);
    assert_eq!(st, 201, "{v}");
    assert_eq!(username(&v), "kubernetes-admin");
    assert!(groups(&v).contains(&"system:masters".to_string()));
    assert_eq!(
        v["status"]["userInfo"]["extra"]["principalId"][0],
        sim.state["users"]["creator"]["userId"]
    );

    // A role mapped in aws-auth, used through an assumed-role session (templates rendered).
    let (k, s, t) = sim.session("mapped", "alice@example.com");
    let (st, v) = sim.whoami("alpha", &aws_token("alpha", &k, &s, Some(&t)));
    assert_eq!(st, 201, "{v}");
    assert_eq!(username(&v), "mapped:alice-example.com");
    assert_eq!(
        groups(&v),
        vec!["viewers".to_string(), "system:authenticated".to_string()]
    );
    // ... who has no rights on ConfigMaps: 403 with a Kubernetes Status.
    let tok = aws_token("alpha", &k, &s, Some(&t));
    let (st, v) = sim.kube(
        "alpha",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 403, "{v}");
    assert_eq!(v["reason"], "Forbidden");

    // A user with a path, mapped in mapUsers.
    let (k, s) = sim.user_key("carol");
    let (st, v) = sim.whoami("alpha", &aws_token("alpha", &k, &s, None));
    assert_eq!(st, 201, "{v}");
    assert_eq!(username(&v), "carol");

    // A node role: {{EC2PrivateDNSName}} from an instance-id session; a non-instance session fails the login.
    let (k, s, t) = sim.session("eks-node-role", "i-0123456789abcdef0");
    let (st, v) = sim.whoami("alpha", &aws_token("alpha", &k, &s, Some(&t)));
    assert_eq!(st, 201, "{v}");
    assert!(
        username(&v).starts_with("system:node:ip-10-0-") && username(&v).ends_with(".ec2.internal"),
        "{v}"
    );
    let (k, s, t) = sim.session("eks-node-role", "not-an-instance");
    let (st, _) = sim.whoami("alpha", &aws_token("alpha", &k, &s, Some(&t)));
    assert_eq!(st, 401);
    assert!(sim.last_auth_reason("alpha").contains("EC2PrivateDNSName"));

    // An access entry with AmazonEKSClusterAdminPolicy (API_AND_CONFIG_MAP cluster).
    let (k, s) = sim.user_key("eve");
    let tok = aws_token("beta", &k, &s, None);
    let (st, v) = sim.whoami("beta", &tok);
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        username(&v),
        sim.state["users"]["eve"]["arn"]
            .as_str()
            .unwrap_or_default()
    );
    let (st, v) = sim.kube(
        "beta",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 200, "{v}");
    // An EC2_LINUX access entry maps a node session like EKS does.
    let (k, s, t) = sim.session("eks-node-role", "i-0123456789abcdef0");
    let (st, v) = sim.whoami("beta", &aws_token("beta", &k, &s, Some(&t)));
    assert_eq!(st, 201, "{v}");
    assert!(username(&v).starts_with("system:node:ip-10-0-"), "{v}");
    assert_eq!(
        groups(&v),
        vec![
            "system:nodes".to_string(),
            "system:authenticated".to_string()
        ]
    );
    // A namespace-scoped view policy reads but cannot write.
    let (k, s) = sim.user_key("mallory");
    let tok = aws_token("beta", &k, &s, None);
    let (st, _) = sim.kube(
        "beta",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 200);
    let (st, _) = sim.kube(
        "beta",
        "DELETE",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 403);
    // The creator of an API_AND_CONFIG_MAP cluster is represented by an access entry.
    let (st, v) = sim.whoami("beta", &aws_token("beta", &ck, &cs, None));
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        username(&v),
        sim.state["users"]["creator"]["arn"]
            .as_str()
            .unwrap_or_default()
    );

    // Refusals (401):
    // a wrong secret,
    let (st, _) = sim.whoami("alpha", &aws_token("alpha", &ck, "not-the-secret", None));
    assert_eq!(st, 401);
    assert!(
        sim.last_auth_reason("alpha")
            .contains("SignatureDoesNotMatch")
    );
    // X-Amz-Date 16 minutes old (14 minutes is still fine),
    let (st, v) = sim.whoami(
        "alpha",
        &presigned_token("alpha", &ck, &cs, None, Utc::now() - TimeDelta::minutes(14)),
    );
    assert_eq!(
        st, 201,
        "a correctly presigned 14-minute-old token must pass: {v}"
    );
    let (st, _) = sim.whoami(
        "alpha",
        &presigned_token("alpha", &ck, &cs, None, Utc::now() - TimeDelta::minutes(16)),
    );
    assert_eq!(st, 401);
    assert!(sim.last_auth_reason("alpha").contains("expired"));
    // a token made for another cluster name,
    let (st, _) = sim.whoami("alpha", &aws_token("beta", &ck, &cs, None));
    assert_eq!(st, 401);
    // an unmapped principal,
    let (k, s) = sim.user_key("mallory");
    let (st, _) = sim.whoami("alpha", &aws_token("alpha", &k, &s, None));
    assert_eq!(st, 401);
    assert!(sim.last_auth_reason("alpha").contains("not mapped"));
    // a mapped role whose rolearn carries a path,
    let (k, s, t) = sim.session("pathy", "bob");
    let (st, _) = sim.whoami("alpha", &aws_token("alpha", &k, &s, Some(&t)));
    assert_eq!(st, 401);
    // a session token that does not belong to the key,
    let (k, s, _) = sim.session("mapped", "alice@example.com");
    let (st, _) = sim.whoami("alpha", &aws_token("alpha", &k, &s, Some("bogus")));
    assert_eq!(st, 401);
    // everyone but the creator when mapRoles and mapUsers hold YAML syntax errors,
    let (k, s) = sim.user_key("carol");
    assert_eq!(
        sim.whoami("broken", &aws_token("broken", &k, &s, None)).0,
        401
    );
    let (k, s, t) = sim.session("mapped", "alice@example.com");
    assert_eq!(
        sim.whoami("broken", &aws_token("broken", &k, &s, Some(&t)))
            .0,
        401
    );
    let (st, v) = sim.whoami("broken", &aws_token("broken", &ck, &cs, None));
    assert_eq!(st, 201, "{v}");
    // and the creator of a cluster made with bootstrapClusterCreatorAdminPermissions=false.
    assert_eq!(
        sim.whoami("nobootstrap", &aws_token("nobootstrap", &ck, &cs, None))
            .0,
        401
    );

    // The effective mapping the sim loaded.
    let (st, m) = sim.admin("GET", "clusters/broken/effective-mapping", "");
    assert_eq!(st, 200);
    assert_eq!(m["sections"]["mapRoles"]["status"], "error");
    assert_eq!(m["sections"]["mapUsers"]["status"], "error");
    let (_, m) = sim.admin("GET", "clusters/alpha/effective-mapping", "");
    assert_eq!(m["roles"].as_array().map(|r| r.len()), Some(3));
    assert_eq!(
        m["users"][0]["userarn"],
        "arn:aws:iam::123456789012:user/team/dev/carol"
    );
}

#[test]
fn configmaps_conflicts_and_admission() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let (ck, cs) = sim.user_key("creator");
    let tok = aws_token("broken", &ck, &cs, None);
    let path = "/api/v1/namespaces/kube-system/configmaps/aws-auth";
    let (st, cm) = sim.kube("broken", "GET", path, &tok, "", "application/json");
    assert_eq!(st, 200);
    let rv = cm["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();

    // The admission webhook refuses an unparsable mapRoles, verbatim like EKS's.
    let mut bad = cm.clone();
    bad["data"]["mapUsers"] = Value::String(String::new());
    let (st, v) = sim.kube(
        "broken",
        "PUT",
        path,
        &tok,
        &bad.to_string(),
        "application/json",
    );
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("admission webhook \"eks-aws-auth-configmap-validation-webhook\" denied the request: mapRoles"), "{v}");

    // A good replace with the current resourceVersion succeeds; a stale one conflicts.
    let mut good = cm.clone();
    good["data"] = serde_json::json!({"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/mapped\n  username: mapped\n  groups: [system:masters]\n"});
    let (st, v) = sim.kube(
        "broken",
        "PUT",
        path,
        &tok,
        &good.to_string(),
        "application/json",
    );
    assert_eq!(st, 200, "{v}");
    assert_ne!(v["metadata"]["resourceVersion"].as_str(), Some(rv.as_str()));
    let (st, v) = sim.kube(
        "broken",
        "PUT",
        path,
        &tok,
        &good.to_string(),
        "application/json",
    );
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["reason"], "Conflict");

    // The new mapping takes effect at once.
    let (k, s, t) = sim.session("mapped", "alice@example.com");
    let (st, v) = sim.whoami("broken", &aws_token("broken", &k, &s, Some(&t)));
    assert_eq!(st, 201, "{v}");

    // Merge patch (and strategic merge patch treated as merge patch).
    let (st, v) = sim.kube(
        "broken",
        "PATCH",
        path,
        &tok,
        r#"{"data":{"mapAccounts":"- \"123456789012\"\n"}}"#,
        "application/strategic-merge-patch+json",
    );
    assert_eq!(st, 200, "{v}");
    assert!(v["data"]["mapRoles"].is_string() && v["data"]["mapAccounts"].is_string());
    let (st, _) = sim.kube(
        "broken",
        "PATCH",
        path,
        &tok,
        r#"{"metadata":{"resourceVersion":"1"},"data":{"x":"y"}}"#,
        "application/merge-patch+json",
    );
    assert_eq!(st, 409);

    // Create, list, delete.
    let (st, _) = sim.kube(
        "broken",
        "POST",
        "/api/v1/namespaces/kube-system/configmaps",
        &tok,
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"},"data":{"a":"b"}}"#,
        "application/json",
    );
    assert_eq!(st, 201);
    let (st, _) = sim.kube(
        "broken",
        "POST",
        "/api/v1/namespaces/kube-system/configmaps",
        &tok,
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}"#,
        "application/json",
    );
    assert_eq!(st, 409);
    let (st, v) = sim.kube(
        "broken",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 200);
    assert_eq!(v["items"].as_array().map(|i| i.len()), Some(2));
    let (st, _) = sim.kube(
        "broken",
        "DELETE",
        "/api/v1/namespaces/kube-system/configmaps/other",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 200);
    let (st, v) = sim.kube(
        "broken",
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/other",
        &tok,
        "",
        "application/json",
    );
    assert_eq!(st, 404);
    assert_eq!(v["reason"], "NotFound");

    // SelfSubjectAccessReview.
    let ssar = r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"namespace":"kube-system","verb":"update","resource":"configmaps","name":"aws-auth"}}}"#;
    let (st, v) = sim.kube(
        "broken",
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        &tok,
        ssar,
        "application/json",
    );
    assert_eq!(st, 201);
    assert_eq!(v["status"]["allowed"], true);

    // Admin API: raw aws-auth set/get bypasses admission and auth.
    let (st, _) = sim.admin(
        "PUT",
        "clusters/broken/aws-auth",
        r#"{"data":{"mapRoles":"- rolearn: [\n"}}"#,
    );
    assert_eq!(st, 200);
    let (_, v) = sim.admin("GET", "clusters/broken/aws-auth", "");
    assert_eq!(v["data"]["mapRoles"], "- rolearn: [\n");
}

#[test]
fn recreated_creator_is_a_different_principal() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let (old_key, old_secret) = sim.user_key("creator");
    // Through the sim's IAM endpoint (state env), as the product does; deletion is seen either way.
    let env = sim.env();
    let run = |args: &[&str]| {
        let (ok, out, err) = aws(args, &env);
        assert!(ok, "aws {args:?}: {err}");
        out
    };
    run(&[
        "iam",
        "delete-access-key",
        "--user-name",
        "creator",
        "--access-key-id",
        &old_key,
    ]);
    run(&["iam", "delete-user", "--user-name", "creator"]);
    // The deleted user's key no longer authenticates.
    assert_eq!(
        sim.whoami("alpha", &aws_token("alpha", &old_key, &old_secret, None))
            .0,
        401
    );
    run(&[
        "iam",
        "create-user",
        "--user-name",
        "creator",
        "--path",
        "/admins/",
    ]);
    let out = run(&["iam", "create-access-key", "--user-name", "creator"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    let (k, s) = (
        v["AccessKey"]["AccessKeyId"].as_str().expect("key"),
        v["AccessKey"]["SecretAccessKey"].as_str().expect("secret"),
    );
    // The new key takes effect after IAM's propagation delay (as in AWS): wait until the
    // legacy cluster (which matches the creator by ARN) lets it in, so that the 401 below is
    // the unique-id rule and not a key that is not live yet.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (st, v) = loop {
        let (st, v) = sim.whoami("legacy", &aws_token("legacy", k, s, None));
        if st == 201 || std::time::Instant::now() > deadline {
            break (st, v);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // A cluster that matches the creator by ARN (legacy behaviour) lets the new user in ...
    assert_eq!(st, 201, "{v}");
    // ... but same ARN, new unique id: no creator access on a current cluster.
    assert_eq!(sim.whoami("alpha", &aws_token("alpha", k, s, None)).0, 401);
    assert_eq!(username(&v), "kubernetes-admin");
}
