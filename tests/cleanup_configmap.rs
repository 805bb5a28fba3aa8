//! The plan framework's Kubernetes writes (what `aws-auth restore` and `recover` build on): a
//! journaled ConfigMap replacement with the previous object saved beside the journal, refused
//! when someone else changed it since the plan, and put back by `cleanup`.

mod common;
#[path = "getin_support/mod.rs"]
mod support;

use common::world::{World, http, text};
use eks_breakglass::aws::AwsContext;
use eks_breakglass::aws::plan_runner::AwsRunner;
use eks_breakglass::aws::{eks, token};
use eks_breakglass::k8s::{ApiTarget, KubeClient};
use eks_breakglass::recovery::journal::{Event, Journal};
use eks_breakglass::recovery::plan::{self, Action, Interrupt, Outcome, Plan, SavedState, Undo};
use std::collections::BTreeMap;
use support::events;

async fn operator_context(w: &World) -> AwsContext {
    let creds = aws_credential_types::Credentials::new(
        w.env_value("AWS_ACCESS_KEY_ID"),
        w.env_value("AWS_SECRET_ACCESS_KEY"),
        None,
        None,
        "test",
    );
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(w.env_value("AWS_ENDPOINT_URL_EKS"))
        .credentials_provider(creds)
        .http_client(eks_breakglass::aws::context::http_client())
        .load()
        .await;
    AwsContext {
        config,
        region: "us-east-1".into(),
        profile: None,
        calls: Default::default(),
        dry_run: false,
    }
}

fn live_data(w: &World) -> serde_json::Value {
    let (status, body) = http(
        "GET",
        &format!("{}/clusters/restore-me/aws-auth", w.admin),
        &[],
        "",
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["data"].clone()
}

fn write_plan(rv: Option<String>, desired: &str, previous: &str) -> Plan {
    let mut p = Plan::new("aws-auth restore", "restore-me", "us-east-1");
    let step = p.push(
        "replace kube-system/aws-auth",
        "the live one is broken",
        Action::WriteConfigMap {
            cluster: "restore-me".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: "aws-auth-desired.json".into(),
            expected_resource_version: rv,
        },
        Undo::RestoreConfigMap {
            cluster: "restore-me".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: Some("aws-auth-before.json".into()),
            written_file: None,
        },
    );
    step.saves = vec![
        SavedState {
            file: "aws-auth-before.json".into(),
            description: "aws-auth before the change".into(),
            content: previous.to_string(),
        },
        SavedState {
            file: "aws-auth-desired.json".into(),
            description: "aws-auth to write".into(),
            content: desired.to_string(),
        },
    ];
    p
}

#[tokio::test]
async fn a_journaled_aws_auth_write_is_refused_on_a_stale_version_and_undone_by_cleanup() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let w = World::start("aws-auth-write");
    let before = live_data(&w);
    let ctx = operator_context(&w).await;

    // The live object, through the product's own adapters, as the operator (the creator).
    let facts = eks::describe_cluster(&ctx, "restore-me").await.unwrap();
    let creds = ctx.credentials().await.unwrap();
    let tok = token::make_token(
        &creds,
        "us-east-1",
        "restore-me",
        std::time::SystemTime::now(),
    )
    .unwrap();
    let target = ApiTarget {
        server: facts.endpoint.clone().unwrap(),
        ca_pem: facts.ca_pem.clone(),
        tls_server_name: None,
    };
    let kube = KubeClient::new(&target, &tok.token).unwrap();
    let current = kube.get_configmap("aws-auth").await.unwrap().unwrap();
    let rv = current.metadata.resource_version.clone();
    let mut desired = current.clone();
    let fixed: BTreeMap<String, String> = [(
        "mapUsers".to_string(),
        "- userarn: arn:aws:iam::123456789012:user/alice\n  username: alice\n  groups: [system:masters]\n".to_string(),
    )]
    .into();
    desired.data = Some(fixed.clone());
    let (previous_json, desired_json) = (
        serde_json::to_string(&current).unwrap(),
        serde_json::to_string(&desired).unwrap(),
    );

    let run = w.path("run");
    let plan = write_plan(rv.clone(), &desired_json, &previous_json);
    let mut journal = Journal::create(&run).unwrap();
    journal
        .record(Event::RunStarted {
            command: plan.command.clone(),
            cluster: plan.cluster.clone(),
            region: plan.region.clone(),
            caller: w.operator(),
            profile: None,
            plan: plan.clone(),
        })
        .unwrap();
    let interrupt = Interrupt::new();
    let mut runner = AwsRunner::new(&ctx, run.clone(), interrupt.clone(), Box::new(|_| {}));
    let report = plan::apply(&plan, &mut journal, &mut runner, &interrupt)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Applied);
    assert_eq!(live_data(&w), serde_json::to_value(&fixed).unwrap());
    assert!(report.facts[&1].contains_key("resource_version"));
    // The previous object is beside the journal, as it was.
    assert_eq!(
        std::fs::read_to_string(run.join("aws-auth-before.json")).unwrap(),
        previous_json
    );
    drop(journal);

    // A plan made against the old resourceVersion (someone edited meanwhile) is refused.
    let stale_dir = w.path("stale");
    let stale = write_plan(rv, &previous_json, &previous_json);
    let mut j2 = Journal::create(&stale_dir).unwrap();
    let mut r2 = AwsRunner::new(&ctx, stale_dir.clone(), interrupt.clone(), Box::new(|_| {}));
    let report = plan::apply(&stale, &mut j2, &mut r2, &interrupt)
        .await
        .unwrap();
    match report.outcome {
        Outcome::Failed { error, .. } => {
            assert!(
                error.message.contains("changed since the plan"),
                "{}",
                error.message
            );
            assert!(!error.maybe_changed);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(report.applied.is_empty());
    assert_eq!(live_data(&w), serde_json::to_value(&fixed).unwrap());

    // cleanup (the product) puts the saved object back.
    let mut cmd = w.product();
    cmd.env("AWS_ENDPOINT_URL_EKS", w.env_value("AWS_ENDPOINT_URL_EKS"));
    let out = tokio::task::spawn_blocking(move || {
        cmd.args(["cleanup", "--rollback", "--force", "--journal"])
            .arg(&run)
            .arg("--yes")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("restored kube-system/aws-auth from aws-auth-before.json"),
        "{stdout}"
    );
    assert_eq!(live_data(&w), before);
    assert_eq!(
        events(&w.path("run")),
        [
            "run_started",
            "step_started:1",
            "step_done:1",
            "undo_started:1",
            "undo_done:1",
            "run_finished"
        ]
    );
}
