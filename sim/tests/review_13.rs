//! Review of issue 13: places where eks-sim's IAM/STS rules are still kinder than AWS.
//! Each test is a failing reproduction; the AWS behaviour it expects is cited beside it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Moto, Sim, aws};
use serde_json::Value;

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/review_13.yaml"
    ))
}

fn run(sim: &Sim, args: &[&str]) -> Value {
    let (ok, out, err) = aws(args, &sim.env());
    assert!(ok, "aws {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or(Value::Null)
}

fn aws_as(
    sim: &Sim,
    key: &str,
    secret: &str,
    token: Option<&str>,
    args: &[&str],
) -> (bool, String, String) {
    let mut env: Vec<(String, String)> = sim
        .env()
        .into_iter()
        .filter(|(k, _)| {
            !k.starts_with("AWS_ACCESS_KEY")
                && !k.starts_with("AWS_SECRET")
                && k != "AWS_SESSION_TOKEN"
        })
        .collect();
    env.push(("AWS_ACCESS_KEY_ID".into(), key.into()));
    env.push(("AWS_SECRET_ACCESS_KEY".into(), secret.into()));
    if let Some(t) = token {
        env.push(("AWS_SESSION_TOKEN".into(), t.into()));
    }
    aws(args, &env)
}

fn creds(v: &Value) -> (String, String, String) {
    let c = &v["Credentials"];
    (
        c["AccessKeyId"].as_str().expect("key").to_string(),
        c["SecretAccessKey"].as_str().expect("secret").to_string(),
        c["SessionToken"].as_str().expect("token").to_string(),
    )
}

/// Retries `f` until it is true (bounded: propagation is 1 s in tests).
fn eventually(mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "never true");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// AWS stores a trust policy's user/role ARN as the principal's unique id: delete and recreate
/// the user and the trust no longer names it ("if you delete and recreate a user or role
/// referenced in a trust policy's Principal element, you must edit the role to replace the
/// ARN" — IAM User Guide, id_roles_create_policy-examples). The sim matches by ARN, so the
/// recreated user still gets in.
#[test]
fn review_trust_naming_a_recreated_user_does_not_let_the_new_user_in() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    run(&sim, &["iam", "create-user", "--user-name", "temp"]);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/temp"},"Action":"sts:AssumeRole"}]}"#;
    run(
        &sim,
        &[
            "iam",
            "create-role",
            "--role-name",
            "trusts-temp",
            "--assume-role-policy-document",
            trust,
        ],
    );
    run(&sim, &["iam", "delete-user", "--user-name", "temp"]);
    run(&sim, &["iam", "create-user", "--user-name", "temp"]);
    let k = run(&sim, &["iam", "create-access-key", "--user-name", "temp"]);
    let key = k["AccessKey"]["AccessKeyId"]
        .as_str()
        .expect("key")
        .to_string();
    let secret = k["AccessKey"]["SecretAccessKey"]
        .as_str()
        .expect("secret")
        .to_string();
    // Wait until the new key (and the new role) have propagated.
    eventually(|| aws_as(&sim, &key, &secret, None, &["sts", "get-caller-identity"]).0);
    std::thread::sleep(Duration::from_secs(2));
    let (ok, out, err) = aws_as(
        &sim,
        &key,
        &secret,
        None,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::123456789012:role/trusts-temp",
            "--role-session-name",
            "xx",
        ],
    );
    assert!(
        !ok,
        "AWS refuses: the trust names the deleted user's unique id, not the new user; the sim let it in: {out}"
    );
    assert!(err.contains("AccessDenied"), "{err}");
}

/// Credentials from GetFederationToken can call GetCallerIdentity (so the product's advice
/// "federated-user credentials with the same name carry the same ARN" is testable) but no
/// other STS operation. Credentials from GetFederationToken cannot call STS operations other than
/// GetCallerIdentity (IAM User Guide, "Compare AWS STS credentials": GetFederationToken
/// "Cannot call … AWS STS API operations except GetCallerIdentity"). The sim lets a federated
/// user assume a role that trusts the account.
#[test]
fn review_federated_user_credentials_cannot_assume_a_role() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let fed = run(
        &sim,
        &[
            "sts",
            "get-federation-token",
            "--name",
            "fed",
            "--policy",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ],
    );
    let (k, s, t) = creds(&fed);
    // GetCallerIdentity is the one STS call federation credentials may make (and EKS tokens
    // are presigned GetCallerIdentity): the sim does not know these credentials at all.
    std::thread::sleep(Duration::from_secs(2));
    let (ok, _, err) = aws_as(&sim, &k, &s, Some(&t), &["sts", "get-caller-identity"]);
    assert!(
        ok,
        "AWS accepts GetFederationToken credentials for GetCallerIdentity; the sim refuses them: {err}"
    );
    let (ok, out, _) = aws_as(
        &sim,
        &k,
        &s,
        Some(&t),
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::123456789012:role/open-role",
            "--role-session-name",
            "xx",
        ],
    );
    assert!(
        !ok,
        "AWS refuses AssumeRole with GetFederationToken credentials; the sim answered: {out}"
    );
}

/// GetSessionToken credentials without MFA cannot call IAM ("You cannot call any IAM API
/// operations unless MFA authentication information is included in the request" — STS API
/// reference, GetSessionToken). The sim passes them through to moto.
#[test]
fn review_session_token_without_mfa_cannot_call_iam() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let st = run(&sim, &["sts", "get-session-token"]);
    let (k, s, t) = creds(&st);
    eventually(|| aws_as(&sim, &k, &s, Some(&t), &["sts", "get-caller-identity"]).0);
    let (ok, out, _) = aws_as(&sim, &k, &s, Some(&t), &["iam", "list-users"]);
    assert!(
        !ok,
        "AWS refuses IAM calls made with GetSessionToken credentials without MFA; the sim answered: {out}"
    );
}

/// `Deny` + `NotPrincipal` naming a role (and its account) but not the assumed-role session:
/// AWS evaluates the session ARN, which is not listed, so the Deny applies (IAM User Guide,
/// "AWS JSON policy elements: NotPrincipal": the session, the role and the account must all be
/// listed; "Principals must always name a specific session"). The sim exempts any session of
/// the role.
#[test]
fn review_notprincipal_naming_the_role_but_not_the_session_still_denies() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let hop = run(
        &sim,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::123456789012:role/hop",
            "--role-session-name",
            "unlisted",
        ],
    );
    let (k, s, t) = creds(&hop);
    let (ok, out, _) = aws_as(
        &sim,
        &k,
        &s,
        Some(&t),
        &[
            "sts",
            "assume-role",
            "--role-arn",
            "arn:aws:iam::123456789012:role/except-hop",
            "--role-session-name",
            "xx",
        ],
    );
    assert!(
        !ok,
        "the session arn:aws:sts::123456789012:assumed-role/hop/unlisted is not in NotPrincipal: AWS denies; the sim answered: {out}"
    );
}

/// CloudTrail does not show an event the moment it happens: "CloudTrail typically delivers
/// events within an average of about 5 minutes of an API call; this time is not guaranteed"
/// (CloudTrail FAQ / User Guide, "How CloudTrail works"). The rule exists
/// (`cloudtrail.deliveryDelaySeconds`) but defaults to 0, so every world — drills included —
/// shows a CreateCluster in LookupEvents immediately, and a "who created this cluster a minute
/// ago" flow passes here that finds nothing in AWS.
#[test]
fn review_cloudtrail_events_are_not_visible_the_moment_they_happen_by_default() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    run(
        &sim,
        &[
            "eks",
            "create-cluster",
            "--name",
            "fresh",
            "--role-arn",
            "arn:aws:iam::123456789012:role/open-role",
            "--resources-vpc-config",
            "subnetIds=subnet-1,subnet-2",
        ],
    );
    let ev = run(
        &sim,
        &[
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=ResourceName,AttributeValue=fresh",
        ],
    );
    let n = ev["Events"].as_array().map_or(0, Vec::len);
    assert_eq!(
        n, 0,
        "CreateCluster of 'fresh' is in LookupEvents the instant it happened: {ev}"
    );
}

/// "You can assign one or more access policies to access entries of type STANDARD. Amazon EKS
/// automatically grants the other types of access entries the permissions required" (EKS User
/// Guide, "Associate access policies with access entries"). The sim associates
/// AmazonEKSClusterAdminPolicy with an EC2_LINUX (node role) entry, so a `grant` that keeps an
/// existing entry of the grantee and associates admin with it passes here and fails in AWS.
#[test]
fn review_access_policies_only_go_to_standard_entries() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let node = "arn:aws:iam::123456789012:role/hop";
    run(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "api",
            "--principal-arn",
            node,
            "--type",
            "EC2_LINUX",
        ],
    );
    let (ok, out, _) = aws(
        &[
            "eks",
            "associate-access-policy",
            "--cluster-name",
            "api",
            "--principal-arn",
            node,
            "--policy-arn",
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "--access-scope",
            "type=cluster",
        ],
        &sim.env(),
    );
    assert!(
        !ok,
        "EKS refuses access policies on an EC2_LINUX entry; the sim associated it: {out}"
    );
}

/// GetRole shows a trust principal that was deleted (or recreated) as the unique id IAM stored
/// when the policy was written, not as its ARN (IAM User Guide, role trust policy examples).
#[test]
fn get_role_shows_a_deleted_trust_principal_as_its_unique_id() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let u = run(&sim, &["iam", "create-user", "--user-name", "gone"]);
    let id = u["User"]["UserId"].as_str().expect("id").to_string();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/gone"},"Action":"sts:AssumeRole"}]}"#;
    run(
        &sim,
        &[
            "iam",
            "create-role",
            "--role-name",
            "trusts-gone",
            "--assume-role-policy-document",
            trust,
        ],
    );
    let before = run(&sim, &["iam", "get-role", "--role-name", "trusts-gone"]);
    let doc = before["Role"]["AssumeRolePolicyDocument"].to_string();
    assert!(doc.contains("user/gone"), "{doc}");
    run(&sim, &["iam", "delete-user", "--user-name", "gone"]);
    let after = run(&sim, &["iam", "get-role", "--role-name", "trusts-gone"]);
    let doc = after["Role"]["AssumeRolePolicyDocument"].to_string();
    assert!(
        doc.contains(&id),
        "the deleted user shows as its id {id}: {doc}"
    );
    assert!(!doc.contains("user/gone"), "{doc}");
}
