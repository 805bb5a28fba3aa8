//! Review (issue 16c): the compare-and-swap of an aws-auth write when the plan was made with NO
//! aws-auth in the cluster. `workflow::restore::write_plan` then plans "create
//! kube-system/aws-auth" with `expected_resource_version: None`. If someone (a colleague, EKS
//! adding a managed node group) creates aws-auth between the read and the write, the Kubernetes
//! API's create answers 409 AlreadyExists: the new object is detected, not overwritten. The
//! product's runner instead sees the object and REPLACES it (no precondition), so the
//! colleague's aws-auth is lost — the "change made meanwhile is detected, not overwritten"
//! promise the plan step prints does not hold for a create. The unit-test fake runner
//! (`workflow::restore::tests::FakeRunner`) has the same hole, so no workflow test can see it.

mod common;

use common::world::{World, http};
use eks_breakglass::aws::AwsContext;
use eks_breakglass::aws::plan_runner::AwsRunner;
use eks_breakglass::recovery::journal::{Event, Journal};
use eks_breakglass::recovery::plan::{self, Action, Interrupt, Outcome, Plan, SavedState, Undo};

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
        dry_run: false,
        calls: Default::default(),
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

#[tokio::test]
async fn a_create_planned_against_no_aws_auth_does_not_overwrite_one_created_meanwhile() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // restore-me has an aws-auth: it stands for the one a colleague created after this run
    // read the cluster and found none.
    let w = World::start("aws-auth-write");
    let theirs = live_data(&w);
    let ctx = operator_context(&w).await;

    // Exactly the step write_plan makes when the live read found no aws-auth.
    let desired = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapUsers": "- userarn: arn:aws:iam::123456789012:user/alice\n  username: alice\n  groups: [system:masters]\n"},
    })
    .to_string();
    let mut p = Plan::new("aws-auth restore", "restore-me", "us-east-1");
    let step = p.push(
        "create kube-system/aws-auth",
        "put the new mappings in force (a compare-and-swap: a change made meanwhile is detected, not overwritten)",
        Action::WriteConfigMap {
            cluster: "restore-me".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: "aws-auth.written.json".into(),
            expected_resource_version: None,
        },
        Undo::RestoreConfigMap {
            cluster: "restore-me".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: None,
            written_file: Some("aws-auth.written.json".into()),
        },
    );
    step.saves.push(SavedState {
        file: "aws-auth.written.json".into(),
        description: "the aws-auth this step writes".into(),
        content: desired,
    });

    let run = w.path("run");
    let mut journal = Journal::create(&run).unwrap();
    journal
        .record(Event::RunStarted {
            command: p.command.clone(),
            cluster: p.cluster.clone(),
            region: p.region.clone(),
            caller: w.operator(),
            profile: None,
            plan: p.clone(),
        })
        .unwrap();
    let interrupt = Interrupt::new();
    let mut runner = AwsRunner::new(&ctx, run.clone(), interrupt.clone(), Box::new(|_| {}));
    let report = plan::apply(&p, &mut journal, &mut runner, &interrupt)
        .await
        .unwrap();
    assert!(
        matches!(report.outcome, Outcome::Failed { .. }),
        "a create planned against NO aws-auth must be refused when one exists now (409 AlreadyExists), got {:?}",
        report.outcome
    );
    assert_eq!(
        live_data(&w),
        theirs,
        "the aws-auth created meanwhile was overwritten"
    );
}
