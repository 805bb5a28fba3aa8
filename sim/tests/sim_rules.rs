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
    assert_eq!(st, 401, "the creator without its entry must be refused: {v}");
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
            && err.trim_end().ends_with(
                "Unsupported authentication mode update from CONFIG_MAP to API"
            ),
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
    assert_eq!(c["cluster"]["accessConfig"]["authenticationMode"], "CONFIG_MAP");
    assert_eq!(c["cluster"]["status"], "ACTIVE");
    // Back to succeeding: the retry works.
    let (st, _) = sim.admin("PUT", "update-failure", "{}");
    assert_eq!(st, 200);
    let u = switch_mode(&sim, "cm2", "API_AND_CONFIG_MAP");
    assert_eq!(u["status"], "Successful", "{u}");
    assert_eq!(entries(&sim, "cm2").len(), 1);
}
