//! Review (issue 16c): a rollback of a run that CREATED aws-auth (the cluster had none: the
//! step's undo has `previous_file: None`) deletes aws-auth (`AwsRunner::restore_configmap`,
//! "(Some(cur), None) => delete_configmap_at"). `judge_restores` only judges undos with a
//! saved previous file, so this rollback is never judged: no "locks everyone out" and no
//! "would lock you out again" refusal, and no `--force` is needed — although putting back
//! "no aws-auth" lets no person in through aws-auth, exactly like restoring one that maps
//! nobody (which IS refused). The operator who recovered by creating aws-auth is mapped only
//! by what the run wrote; the rollback takes that away without asking for --force.

use super::*;

/// A run that created aws-auth (none before) mapping the operator's role.
fn created_journal(dir: &Path) {
    let mut plan = Plan::new("aws-auth restore", "prod", "us-east-1");
    let step = plan.push(
        "create kube-system/aws-auth",
        "put the new mappings in force",
        Action::WriteConfigMap {
            cluster: "prod".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: "aws-auth.written.json".into(),
            expected_resource_version: None,
        },
        Undo::RestoreConfigMap {
            cluster: "prod".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: None,
            written_file: Some("aws-auth.written.json".into()),
        },
    );
    step.saves.push(crate::recovery::plan::SavedState {
        file: "aws-auth.written.json".into(),
        description: "written".into(),
        content: ops_admin(),
    });
    let mut j = Journal::create(dir).unwrap();
    j.record(Event::RunStarted {
        command: plan.command.clone(),
        cluster: plan.cluster.clone(),
        region: plan.region.clone(),
        caller: ME.into(),
        profile: None,
        plan: plan.clone(),
    })
    .unwrap();
    for step in &plan.steps {
        for s in &step.saves {
            j.save_file(&s.file, s.content.as_bytes()).unwrap();
        }
        j.record(Event::StepStarted {
            step: step.id,
            what: step.what.clone(),
            call: step.action.call(),
            undo: step.undo.clone(),
            temporary: step.temporary,
        })
        .unwrap();
        j.record(Event::StepDone {
            step: step.id,
            undo: step.undo.clone(),
            facts: Default::default(),
        })
        .unwrap();
    }
}

#[tokio::test]
async fn a_rollback_that_deletes_the_aws_auth_the_run_created_is_refused_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    created_journal(&dir);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::Apply);
    let result = clean(&yes(), &world, &ui, &dir, rollback(false)).await;
    assert!(
        world.undone.borrow().is_empty(),
        "the rollback deleted aws-auth (the only thing mapping {ME}) without --force; result {result:?}; plan shown:\n{}",
        ui.out.borrow()
    );
    assert!(
        result.is_err(),
        "expected a lockout refusal, got {result:?}"
    );
}
