//! The AWS rules the sim enforces where moto and a lenient sim would not: the creator's admin
//! is an access entry outside CONFIG_MAP mode, authentication-mode refusals with EKS's texts,
//! failed updates. Each rule is cited in sim/README.md ("Rules the sim enforces").

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Moto, Sim, aws, aws_token};
use serde_json::Value;

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rules.yaml"
    ))
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

fn entries(sim: &Sim, cluster: &str) -> Vec<String> {
    run(
        sim,
        &["eks", "list-access-entries", "--cluster-name", cluster],
    )["accessEntries"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts an update of the authentication mode and waits until it leaves InProgress.
fn switch_mode(sim: &Sim, cluster: &str, mode: &str) -> Value {
    let u = run(
        sim,
        &[
            "eks",
            "update-cluster-config",
            "--name",
            cluster,
            "--access-config",
            &format!("authenticationMode={mode}"),
        ],
    );
    assert_eq!(u["update"]["status"], "InProgress", "{u}");
    let id = u["update"]["id"].as_str().expect("update id").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = run(
            sim,
            &[
                "eks",
                "describe-update",
                "--name",
                cluster,
                "--update-id",
                &id,
            ],
        );
        if d["update"]["status"] != "InProgress" {
            return d["update"].clone();
        }
        assert!(Instant::now() < deadline, "update never finished");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_creator_admin_is_an_access_entry_outside_config_map() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let (ck, cs) = sim.user_key("creator");
    let creator_arn = sim.state["users"]["creator"]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // API_AND_CONFIG_MAP: the creator gets in through its access entry...
    assert_eq!(entries(&sim, "api1"), vec![creator_arn.clone()]);
    let (st, v) = sim.whoami("api1", &aws_token("api1", &ck, &cs, None));
    assert_eq!(st, 201, "{v}");
    assert!(sim.last_auth_reason("api1").contains("access entry"));
    // ... and without it, not at all (no implicit admin beside the entry).
    run(
        &sim,
        &[
            "eks",
            "delete-access-entry",
            "--cluster-name",
            "api1",
            "--principal-arn",
            &creator_arn,
        ],
    );
    let (st, v) = sim.whoami("api1", &aws_token("api1", &ck, &cs, None));
    assert_eq!(
        st, 401,
        "the creator without its entry must be refused: {v}"
    );
    assert!(sim.last_auth_reason("api1").contains("not mapped"));

    // A recreated creator (new unique id) does not match the entry made for the old one.
    let rehired = sim.state["users"]["rehired"]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(entries(&sim, "api2"), vec![rehired]);
    let (rk, rs) = sim.user_key("rehired");
    let (st, _) = sim.whoami("api2", &aws_token("api2", &rk, &rs, None));
    assert_eq!(st, 401);

    // CONFIG_MAP: the implicit admin, no access entries at all.
    let (st, v) = sim.whoami("cm", &aws_token("cm", &ck, &cs, None));
    assert_eq!(st, 201, "{v}");
    assert!(sim.last_auth_reason("cm").contains("cluster creator"));
    let err = fails(
        &sim,
        &["eks", "list-access-entries", "--cluster-name", "cm"],
    );
    assert!(err.contains("InvalidRequestException"), "{err}");

    // CONFIG_MAP -> API in one step: refused with EKS's text.
    let err = fails(
        &sim,
        &[
            "eks",
            "update-cluster-config",
            "--name",
            "cm",
            "--access-config",
            "authenticationMode=API",
        ],
    );
    assert!(
        err.contains("(InvalidParameterException)")
            && err
                .trim_end()
                .ends_with("Unsupported authentication mode update from CONFIG_MAP to API"),
        "{err}"
    );

    // CONFIG_MAP -> API_AND_CONFIG_MAP: the creator's entry appears and is what lets it in.
    let u = switch_mode(&sim, "cm", "API_AND_CONFIG_MAP");
    assert_eq!(u["status"], "Successful", "{u}");
    assert_eq!(entries(&sim, "cm"), vec![creator_arn.clone()]);
    let e = run(
        &sim,
        &[
            "eks",
            "list-associated-access-policies",
            "--cluster-name",
            "cm",
            "--principal-arn",
            &creator_arn,
        ],
    );
    assert_eq!(
        e["associatedAccessPolicies"][0]["policyArn"],
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    );
    let (st, _) = sim.whoami("cm", &aws_token("cm", &ck, &cs, None));
    assert_eq!(st, 201);
    assert!(sim.last_auth_reason("cm").contains("access entry"));
    run(
        &sim,
        &[
            "eks",
            "delete-access-entry",
            "--cluster-name",
            "cm",
            "--principal-arn",
            &creator_arn,
        ],
    );
    assert_eq!(sim.whoami("cm", &aws_token("cm", &ck, &cs, None)).0, 401);
    // A no-op and a step back get the same message.
    for mode in ["API_AND_CONFIG_MAP", "CONFIG_MAP"] {
        let err = fails(
            &sim,
            &[
                "eks",
                "update-cluster-config",
                "--name",
                "cm",
                "--access-config",
                &format!("authenticationMode={mode}"),
            ],
        );
        assert!(
            err.trim_end().ends_with(&format!(
                "Unsupported authentication mode update from API_AND_CONFIG_MAP to {mode}"
            )),
            "{err}"
        );
    }
}

/// An authentication-mode update takes as long as the scenario (here: the admin knob drills
/// use) says: InProgress, with the old mode in force, until then; Successful only after.
#[test]
fn an_auth_mode_update_takes_as_long_as_the_world_says() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let delay = Duration::from_secs(4);
    let (st, _) = sim.admin("PUT", "update-delay", r#"{"seconds": 4}"#);
    assert_eq!(st, 200);
    let t0 = Instant::now();
    let u = run(
        &sim,
        &[
            "eks",
            "update-cluster-config",
            "--name",
            "cm",
            "--access-config",
            "authenticationMode=API_AND_CONFIG_MAP",
        ],
    );
    let id = u["update"]["id"].as_str().expect("update id").to_string();
    let describe = || {
        run(
            &sim,
            &["eks", "describe-update", "--name", "cm", "--update-id", &id],
        )["update"]
            .clone()
    };
    let mode = || {
        run(&sim, &["eks", "describe-cluster", "--name", "cm"])["cluster"]["accessConfig"]
            ["authenticationMode"]
            .clone()
    };
    // Asked well before the delay is over (awscli calls are slow on a loaded machine: only
    // answers that certainly came before the end are judged).
    let early = describe();
    let early_mode = mode();
    if t0.elapsed() < delay {
        assert_eq!(early["status"], "InProgress", "{early}");
        assert_eq!(
            early_mode, "CONFIG_MAP",
            "the new mode before the update ended"
        );
    }
    let deadline = t0 + Duration::from_secs(60);
    loop {
        let before = t0.elapsed();
        let d = describe();
        if d["status"] != "InProgress" {
            assert_eq!(d["status"], "Successful", "{d}");
            assert!(
                t0.elapsed() >= delay,
                "the update ended after {before:?}, before the world's {delay:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "update never finished");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(mode(), "API_AND_CONFIG_MAP");
}

#[test]
fn eks_refusals_and_failed_updates() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);

    // CreateCluster: CONFIG_MAP without the creator's admin is refused.
    let err = fails(
        &sim,
        &[
            "eks",
            "create-cluster",
            "--name",
            "nope",
            "--role-arn",
            "arn:aws:iam::123456789012:role/eks-cluster-role",
            "--resources-vpc-config",
            "subnetIds=subnet-1",
            "--access-config",
            "authenticationMode=CONFIG_MAP,bootstrapClusterCreatorAdminPermissions=false",
        ],
    );
    assert!(
        err.contains("(InvalidParameterException)")
            && err.contains(
                "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP"
            ),
        "{err}"
    );

    // A scenario can make updates fail: DescribeUpdate ends Failed with its errors, the mode
    // stays, and no access entry appears.
    let (st, _) = sim.admin(
        "PUT",
        "update-failure",
        r#"{"errorCode": "AccessDenied", "errorMessage": "The cluster role is not authorized"}"#,
    );
    assert_eq!(st, 200);
    let u = switch_mode(&sim, "cm2", "API_AND_CONFIG_MAP");
    assert_eq!(u["status"], "Failed", "{u}");
    assert_eq!(u["errors"][0]["errorCode"], "AccessDenied", "{u}");
    assert_eq!(
        u["errors"][0]["errorMessage"],
        "The cluster role is not authorized"
    );
    let c = run(&sim, &["eks", "describe-cluster", "--name", "cm2"]);
    assert_eq!(
        c["cluster"]["accessConfig"]["authenticationMode"],
        "CONFIG_MAP"
    );
    assert_eq!(c["cluster"]["status"], "ACTIVE");
    // Back to succeeding: the retry works.
    let (st, _) = sim.admin("PUT", "update-failure", "{}");
    assert_eq!(st, 200);
    let u = switch_mode(&sim, "cm2", "API_AND_CONFIG_MAP");
    assert_eq!(u["status"], "Successful", "{u}");
    assert_eq!(entries(&sim, "cm2").len(), 1);
}

/// `aws` as the given credentials (the sim's endpoints, nothing else of the operator).
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

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::123456789012:role/{name}")
}

fn assume(sim: &Sim, role: &str, extra: &[&str]) -> (bool, String, String) {
    let arn = role_arn(role);
    let mut args = vec![
        "sts",
        "assume-role",
        "--role-arn",
        &arn,
        "--role-session-name",
        "test",
    ];
    args.extend_from_slice(extra);
    aws(&args, &sim.env())
}

/// Retries `f` until it succeeds (bounded).
fn eventually(mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never took effect"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sts_rules_in_front_of_moto() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let oncall = "arn:aws:iam::123456789012:user/oncall";

    // Trust policy: a Deny with a negated condition refuses the account's users.
    let (ok, _, err) = assume(&sim, "ci-only", &[]);
    assert!(!ok);
    assert!(
        err.contains("(AccessDenied)")
            && err.contains(&format!(
                "User: {oncall} is not authorized to perform: sts:AssumeRole on resource: {}",
                role_arn("ci-only")
            )),
        "{err}"
    );
    // sts:ExternalId.
    assert!(!assume(&sim, "ext-role", &[]).0);
    assert!(!assume(&sim, "ext-role", &["--external-id", "x2"]).0);
    let (ok, _, err) = assume(&sim, "ext-role", &["--external-id", "x1"]);
    assert!(ok, "{err}");
    // aws:MultiFactorAuthPresent: no MFA, a device that is not the caller's, then its own.
    assert!(!assume(&sim, "mfa-role", &[]).0);
    let serial = "arn:aws:iam::123456789012:mfa/oncall";
    let (_, _, err) = assume(
        &sim,
        "mfa-role",
        &["--serial-number", serial, "--token-code", "123456"],
    );
    assert!(err.contains("MultiFactorAuthentication failed"), "{err}");
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
            serial,
            "--authentication-code1",
            "123456",
            "--authentication-code2",
            "654321",
        ],
    );
    let (ok, _, err) = assume(
        &sim,
        "mfa-role",
        &["--serial-number", serial, "--token-code", "123456"],
    );
    assert!(ok, "{err}");

    // MaxSessionDuration (3600 by default), then raised.
    let (ok, _, err) = assume(&sim, "open-role", &["--duration-seconds", "7200"]);
    assert!(!ok);
    assert!(
        err.contains("(ValidationError)")
            && err.contains(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            ),
        "{err}"
    );
    run(
        &sim,
        &[
            "iam",
            "update-role",
            "--role-name",
            "open-role",
            "--max-session-duration",
            "43200",
        ],
    );
    let s = run(
        &sim,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn("open-role"),
            "--role-session-name",
            "long",
            "--duration-seconds",
            "7200",
        ],
    );
    let c = &s["Credentials"];
    let (k, sec, tok) = (
        c["AccessKeyId"].as_str().unwrap_or_default().to_string(),
        c["SecretAccessKey"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        c["SessionToken"].as_str().unwrap_or_default().to_string(),
    );
    // Role chaining: at most one hour, whatever MaxSessionDuration says.
    let arn = role_arn("open-role");
    let chain = |d: &str| {
        aws_as(
            &sim,
            &k,
            &sec,
            Some(&tok),
            &[
                "sts",
                "assume-role",
                "--role-arn",
                &arn,
                "--role-session-name",
                "chained",
                "--duration-seconds",
                d,
            ],
        )
    };
    let (ok, _, err) = chain("7200");
    assert!(!ok);
    assert!(
        err.contains("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."),
        "{err}"
    );
    assert!(chain("3600").0);

    // Sessions expire: STS, the EKS API and EKS authentication all say so.
    let (st, _) = sim.admin("PUT", "clock", r#"{"advanceSeconds": 7300}"#);
    assert_eq!(st, 200);
    let (ok, _, err) = aws_as(&sim, &k, &sec, Some(&tok), &["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("(ExpiredToken)"), "{err}");
    let (ok, _, err) = aws_as(
        &sim,
        &k,
        &sec,
        Some(&tok),
        &["eks", "describe-cluster", "--name", "cm"],
    );
    assert!(!ok && err.contains("ExpiredTokenException"), "{err}");
    let (ok, _, err) = aws_as(
        &sim,
        &k,
        &sec,
        Some(&tok),
        &["cloudtrail", "lookup-events", "--max-results", "1"],
    );
    assert!(!ok && err.contains("ExpiredTokenException"), "{err}");
    let (st, _) = sim.whoami("cm", &aws_token("cm", &k, &sec, Some(&tok)));
    assert_eq!(st, 401);
    assert!(sim.last_auth_reason("cm").contains("ExpiredToken"));
    let (st, _) = sim.admin("PUT", "clock", r#"{"advanceSeconds": -7300}"#);
    assert_eq!(st, 200);

    // Propagation: a trust-policy change is seen after the delay, not before. (Delays long
    // enough for slow awscli calls first, then short ones: the same clock decides.)
    let slow = || {
        assert_eq!(
            sim.admin("PUT", "propagation", r#"{"seconds": 600}"#).0,
            200
        )
    };
    let fast = || {
        assert_eq!(
            sim.admin("PUT", "propagation", r#"{"seconds": 0.5}"#).0,
            200
        )
    };
    slow();
    run(
        &sim,
        &[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            "ext-role",
            "--policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/oncall"},"Action":"sts:AssumeRole"}]}"#,
        ],
    );
    assert!(
        !assume(&sim, "ext-role", &[]).0,
        "a trust change must not be seen at once"
    );
    fast();
    eventually(|| assume(&sim, "ext-role", &[]).0);
    slow();
    // A new role: not assumable at once.
    run(
        &sim,
        &[
            "iam",
            "create-role",
            "--role-name",
            "fresh",
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        ],
    );
    assert!(!assume(&sim, "fresh", &[]).0);
    fast();
    eventually(|| assume(&sim, "fresh", &[]).0);
    slow();
    // A new access key: refused (InvalidClientTokenId) until it has propagated; then an
    // inactive key is refused for good.
    let key = run(
        &sim,
        &["iam", "create-access-key", "--user-name", "rehired"],
    );
    let nk = key["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ns = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (ok, _, err) = aws_as(&sim, &nk, &ns, None, &["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("(InvalidClientTokenId)"), "{err}");
    fast();
    eventually(|| aws_as(&sim, &nk, &ns, None, &["sts", "get-caller-identity"]).0);
    run(
        &sim,
        &[
            "iam",
            "update-access-key",
            "--user-name",
            "rehired",
            "--access-key-id",
            &nk,
            "--status",
            "Inactive",
        ],
    );
    std::thread::sleep(Duration::from_millis(600));
    let (ok, _, err) = aws_as(&sim, &nk, &ns, None, &["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("(InvalidClientTokenId)"), "{err}");
    let (st, _) = sim.whoami("cm", &aws_token("cm", &nk, &ns, None));
    assert_eq!(st, 401);
}

/// A new access entry lets its principal in after the propagation delay, not before.
#[test]
fn a_new_access_entry_takes_effect_after_the_delay() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let (k, s) = sim.user_key("oncall");
    let oncall = sim.state["users"]["oncall"]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Long enough for the awscli calls below whatever the machine's load; shortened after.
    let (st, _) = sim.admin("PUT", "propagation", r#"{"seconds": 600}"#);
    assert_eq!(st, 200);
    run(
        &sim,
        &[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "api1",
            "--principal-arn",
            &oncall,
        ],
    );
    run(
        &sim,
        &[
            "eks",
            "associate-access-policy",
            "--cluster-name",
            "api1",
            "--principal-arn",
            &oncall,
            "--policy-arn",
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "--access-scope",
            "type=cluster",
        ],
    );
    let (st, _) = sim.whoami("api1", &aws_token("api1", &k, &s, None));
    assert_eq!(
        st,
        401,
        "a brand-new entry must not work at once: {}",
        sim.last_auth_reason("api1")
    );
    let (st, _) = sim.admin("PUT", "propagation", r#"{"seconds": 1}"#);
    assert_eq!(st, 200);
    eventually(|| sim.whoami("api1", &aws_token("api1", &k, &s, None)).0 == 201);
}

/// A world wholly outside us-east-1 starts (the trail bucket is created with its
/// LocationConstraint), and trail log files go under each event's Region.
#[test]
fn a_world_outside_us_east_1_files_events_under_their_region() {
    let moto = Moto::start();
    let sim = Sim::start(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/eu-world.yaml"
        )),
        &moto,
    );
    assert_eq!(sim.state["region"], "eu-central-1");
    let v = run(
        &sim,
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            "org-cloudtrail-logs-eu",
        ],
    );
    let keys: Vec<String> = v["Contents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["Key"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let account = sim.state["account"].as_str().unwrap_or_default();
    for region in ["eu-central-1", "eu-west-1"] {
        assert!(
            keys.iter().any(
                |k| k.starts_with(&format!("AWSLogs/{account}/CloudTrail/{region}/"))
                    && k.contains(&format!("_CloudTrail_{region}_"))
            ),
            "{region}: {keys:?}"
        );
    }
    let loc = run(
        &sim,
        &[
            "s3api",
            "get-bucket-location",
            "--bucket",
            "org-cloudtrail-logs-eu",
        ],
    );
    assert_eq!(loc["LocationConstraint"], "eu-central-1");
}

/// A request signed for another region sees that region only, in a one-region world too: no
/// cluster there, and none of this region's CloudTrail events.
#[test]
fn requests_signed_for_another_region_see_that_region_only() {
    let moto = Moto::start();
    let sim = Sim::start(fixture(), &moto);
    let here = run(&sim, &["eks", "describe-cluster", "--name", "cm"]);
    assert_eq!(here["cluster"]["name"], "cm");
    let err = fails(
        &sim,
        &[
            "eks",
            "describe-cluster",
            "--name",
            "cm",
            "--region",
            "eu-west-1",
        ],
    );
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    let count = |region: &str| {
        run(
            &sim,
            &[
                "cloudtrail",
                "lookup-events",
                "--region",
                region,
                "--lookup-attributes",
                "AttributeKey=EventName,AttributeValue=CreateCluster",
                "--max-results",
                "50",
                "--no-paginate",
            ],
        )["Events"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default()
    };
    assert!(count("us-east-1") > 0);
    assert_eq!(count("eu-west-1"), 0);
}

/// What aws-auth allows and an access entry does not: `system:` groups and usernames (refused
/// with EKS's texts), `{{SessionName}}` without a colon before it, and an IAM Identity Center
/// role named as aws-auth names it (without its `aws-reserved/sso.amazonaws.com/` path): EKS
/// resolves the principal in IAM, and no role has that ARN.
#[test]
fn entries_refuse_what_only_aws_auth_accepts() {
    let moto = Moto::start();
    let sim = Sim::start(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrate_rules.yaml"),
        &moto,
    );
    let sso = "arn:aws:iam::123456789012:role/AWSReservedSSO_Admins_0123456789abcdef";
    let sso_full = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admins_0123456789abcdef";
    let err = fails(
        &sim,
        &create_entry(sso_full, &["--kubernetes-groups", "system:masters"]),
    );
    assert!(
        err.contains(
            "The kubernetes group name system:masters is invalid, it cannot start with system:"
        ),
        "{err}"
    );
    let err = fails(
        &sim,
        &create_entry(sso_full, &["--username", "system:admin"]),
    );
    assert!(
        err.contains("The username must not begin with system:"),
        "{err}"
    );
    let err = fails(
        &sim,
        &create_entry(sso_full, &["--username", "admin{{SessionName}}"]),
    );
    assert!(err.contains("colon before {{SessionName}}"), "{err}");
    let err = fails(&sim, &create_entry(sso, &[]));
    assert!(
        err.contains("InvalidParameterException") && err.contains("invalid principal"),
        "the path-less SSO ARN is no principal: {err}"
    );
    assert!(
        entries(&sim, "api1")
            .iter()
            .all(|e| !e.contains("AWSReservedSSO"))
    );
    let e = run(
        &sim,
        &create_entry(
            sso_full,
            &[
                "--username",
                "admin:{{SessionName}}",
                "--kubernetes-groups",
                "admins",
            ],
        ),
    );
    assert_eq!(e["accessEntry"]["username"], "admin:{{SessionName}}");
    assert_eq!(e["accessEntry"]["principalArn"], sso_full);
}

/// At the switch from CONFIG_MAP, EKS turns the managed node group and Fargate profile roles
/// into node access entries itself ("entries in the aws-auth ConfigMap managed by MNG and
/// Fargate will be automatically migrated to node type access entries", aws/containers-roadmap#185).
#[test]
fn the_switch_makes_node_entries_for_managed_node_groups_and_fargate() {
    let moto = Moto::start();
    let sim = Sim::start(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrate_rules.yaml"),
        &moto,
    );
    let d = switch_mode(&sim, "cm", "API_AND_CONFIG_MAP");
    assert_eq!(d["status"], "Successful", "{d}");
    for (role, kind, user) in [
        (
            "eks-node-role",
            "EC2_LINUX",
            "system:node:{{EC2PrivateDNSName}}",
        ),
        (
            "eks-fargate-pod-execution",
            "FARGATE_LINUX",
            "system:node:{{SessionName}}",
        ),
    ] {
        let e = run(
            &sim,
            &[
                "eks",
                "describe-access-entry",
                "--cluster-name",
                "cm",
                "--principal-arn",
                &format!("arn:aws:iam::123456789012:role/{role}"),
            ],
        );
        assert_eq!(e["accessEntry"]["type"], kind, "{e}");
        assert_eq!(e["accessEntry"]["username"], user, "{e}");
    }
    // The creator's entry too; nothing else.
    assert_eq!(entries(&sim, "cm").len(), 3, "{:?}", entries(&sim, "cm"));
}

fn create_entry<'a>(principal: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "eks",
        "create-access-entry",
        "--cluster-name",
        "api1",
        "--principal-arn",
        principal,
    ];
    a.extend_from_slice(extra);
    a
}
