//! Cleanup's decisions from real journals, with a fake world: what is undone (only what the
//! journal proves, latest first), what stays, what is left because it cannot be undone or the
//! journal cannot say it finished, and which rollbacks are refused.

use super::*;
use crate::awsauth::{self, CallerIdentity};
use crate::ports::configmap::Decision;
use crate::recovery::plan::{Action, Done, Plan, Runner, Step, StepError, Undone};
use crate::recovery::restore;
use crate::workflow::fake_ui::FakeUi;
use std::cell::RefCell;

const OPS: &str = "arn:aws:iam::123456789012:role/ops";
const ME: &str = "arn:aws:sts::123456789012:assumed-role/ops/me";

fn manifest(map_roles: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system", "resourceVersion": "7"},
        "data": {"mapRoles": map_roles},
    }))
    .unwrap()
}

fn ops_admin() -> String {
    manifest(&format!(
        "- rolearn: {OPS}\n  username: ops\n  groups:\n  - system:masters\n"
    ))
}

/// A run that made a temporary key (1), wrote aws-auth over `before` (2) and switched the
/// authentication mode (3) — `cut_off`: the switch was started and never recorded as done.
fn journal_of(dir: &Path, before: &str, cut_off: bool) {
    let mut plan = Plan::new("recover", "prod", "us-east-1");
    plan.push(
        "create a temporary key",
        "get in",
        Action::CreateAccessKey {
            user_name: "breakglass".into(),
        },
        Undo::DeleteAccessKey {
            user_name: "breakglass".into(),
            access_key_id: Some("AKIAEXAMPLE".into()),
            keys_before: Vec::new(),
        },
    )
    .temporary = true;
    let step = plan.push(
        "replace kube-system/aws-auth",
        "fix it",
        Action::WriteConfigMap {
            cluster: "prod".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: "aws-auth.written.json".into(),
            expected_resource_version: Some("7".into()),
        },
        Undo::RestoreConfigMap {
            cluster: "prod".into(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: Some("aws-auth.before.json".into()),
            written_file: Some("aws-auth.written.json".into()),
        },
    );
    step.saves.push(crate::recovery::plan::SavedState {
        file: "aws-auth.before.json".into(),
        description: "before".into(),
        content: before.to_string(),
    });
    step.saves.push(crate::recovery::plan::SavedState {
        file: "aws-auth.written.json".into(),
        description: "written".into(),
        content: ops_admin(),
    });
    plan.push(
        "switch to API_AND_CONFIG_MAP",
        "access entries",
        Action::SwitchAuthMode {
            cluster: "prod".into(),
            from: "CONFIG_MAP".into(),
            to: "API_AND_CONFIG_MAP".into(),
        },
        Undo::Irreversible {
            reason: "EKS cannot switch back".into(),
        },
    );
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
        if cut_off && step.id == 3 {
            break;
        }
        j.record(Event::StepDone {
            step: step.id,
            undo: step.undo.clone(),
            facts: Default::default(),
        })
        .unwrap();
    }
}

/// The world: who the operator is, and an undo runner that records what it undid. With
/// `aws_auth_changed`, someone changed aws-auth after the run wrote it: the undo of the write
/// is refused as the real runner refuses it (their change is left as is).
struct FakeWorld {
    caller: Result<CallerIdentity, String>,
    undone: RefCell<Vec<Undo>>,
    aws_auth_changed: std::cell::Cell<bool>,
}

impl FakeWorld {
    fn as_me() -> FakeWorld {
        FakeWorld {
            caller: Ok(CallerIdentity {
                arn: ME.into(),
                account: "123456789012".into(),
                ..Default::default()
            }),
            undone: RefCell::default(),
            aws_auth_changed: Default::default(),
        }
    }
}

struct FakeRunner<'a>(&'a FakeWorld);

impl Runner for FakeRunner<'_> {
    async fn run(&mut self, _step: &Step) -> Result<Done, StepError> {
        panic!("cleanup runs no step");
    }
    async fn undo(&mut self, undo: &Undo) -> Result<Undone, StepError> {
        if matches!(undo, Undo::RestoreConfigMap { .. }) && self.0.aws_auth_changed.get() {
            return Err(StepError {
                message: "kube-system/aws-auth was changed by someone else after this run wrote it; it is left as is".into(),
                denied_action: None,
                hint: None,
                maybe_changed: false,
            });
        }
        self.0.undone.borrow_mut().push(undo.clone());
        Ok(Undone::Reversed(undo.describe()))
    }
}

impl UndoWorld for FakeWorld {
    type Runner<'a> = FakeRunner<'a>;
    fn profile(&self) -> Option<&str> {
        None
    }
    async fn caller(&self) -> Result<CallerIdentity, AppError> {
        self.caller.clone().map_err(|e| AppError::failed(e, None))
    }
    fn saved_object(&self, file: &str, bytes: &[u8]) -> Result<AwsAuthObject, String> {
        let doc = awsauth::read_document(file, bytes).map_err(|e| e.to_string())?;
        restore::candidate_from_document(&doc)
            .map(|c| c.object)
            .map_err(|e| e.to_string())
    }
    async fn runner<'a>(
        &'a self,
        _dir: PathBuf,
        _interrupt: crate::recovery::plan::Interrupt,
        _status: Box<dyn Fn(&str) + 'a>,
        _kube_undo: bool,
    ) -> Result<FakeRunner<'a>, AppError> {
        Ok(FakeRunner(self))
    }
}

async fn clean(
    g: &Globals,
    world: &FakeWorld,
    ui: &FakeUi,
    dir: &Path,
    opts: CleanupOptions,
) -> Result<u8, AppError> {
    let held = (!g.dry_run).then(|| Journal::open(dir).unwrap().0);
    let records = journal::read_records(dir).unwrap();
    let run = run_of(dir, &records).unwrap().unwrap();
    cleanup(g, world, ui, dir, held, &records, run, &opts).await
}

fn yes() -> Globals {
    Globals {
        yes: true,
        ..Default::default()
    }
}

fn rollback(force: bool) -> CleanupOptions {
    CleanupOptions {
        rollback: true,
        force,
    }
}

#[tokio::test]
async fn plain_cleanup_removes_the_scaffolding_and_keeps_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    journal_of(&dir, &ops_admin(), false);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::Apply);
    let code = clean(&yes(), &world, &ui, &dir, CleanupOptions::default()).await;
    assert_eq!(code.unwrap(), exit::OK);
    {
        let undone = world.undone.borrow();
        assert_eq!(undone.len(), 1);
        assert!(matches!(undone[0], Undo::DeleteAccessKey { .. }));
        let out = ui.out.borrow();
        assert!(
            out.contains("step 2 stays (the run's result, kept)"),
            "{out}"
        );
        assert!(out.contains("! step 3: left as is: ") && out.contains("EKS cannot switch back"));
        assert!(out.contains("--rollback"));
    }
    // The journal says it is clean: a second cleanup has nothing to do.
    let ui2 = FakeUi::new(Decision::Apply);
    let code = clean(&yes(), &world, &ui2, &dir, CleanupOptions::default()).await;
    assert_eq!(code.unwrap(), exit::OK);
    assert_eq!(world.undone.borrow().len(), 1);
    assert!(ui2.out.borrow().contains("Nothing to undo in"));
}

#[tokio::test]
async fn a_rollback_undoes_everything_latest_first_when_you_still_get_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    journal_of(&dir, &ops_admin(), false);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::Apply);
    assert_eq!(
        clean(&yes(), &world, &ui, &dir, rollback(false))
            .await
            .unwrap(),
        exit::OK
    );
    let undone = world.undone.borrow();
    assert_eq!(undone.len(), 2);
    assert!(matches!(undone[0], Undo::RestoreConfigMap { .. }));
    assert!(matches!(undone[1], Undo::DeleteAccessKey { .. }));
    assert!(ui.out.borrow().contains("puts back: "));
}

#[tokio::test]
async fn a_rollback_to_an_aws_auth_that_lets_no_one_in_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    journal_of(&dir, &manifest("- rolearn: [broken\n"), false);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::Apply);
    let e = clean(&yes(), &world, &ui, &dir, rollback(false))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("locks everyone out"), "{e}");
    assert!(world.undone.borrow().is_empty(), "nothing is undone");
    // Plain cleanup of the same run is still allowed, and --force makes the rollback.
    let ui = FakeUi::new(Decision::Apply);
    assert_eq!(
        clean(&yes(), &world, &ui, &dir, rollback(true))
            .await
            .unwrap(),
        exit::OK
    );
    assert_eq!(world.undone.borrow().len(), 2);
}

#[tokio::test]
async fn a_rollback_that_locks_you_out_or_cannot_tell_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let someone_else = manifest(
        "- rolearn: arn:aws:iam::123456789012:role/dev\n  username: dev\n  groups:\n  - system:masters\n",
    );
    journal_of(&dir, &someone_else, false);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::Apply);
    let e = clean(&yes(), &world, &ui, &dir, rollback(false))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("would lock you out again"), "{e}");
    assert!(world.undone.borrow().is_empty());
    // Who you are cannot be told: refused too (not guessed).
    let blind = FakeWorld {
        caller: Err("ExpiredToken".into()),
        undone: RefCell::default(),
        aws_auth_changed: Default::default(),
    };
    let e = clean(
        &yes(),
        &blind,
        &FakeUi::new(Decision::Apply),
        &dir,
        rollback(false),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("cannot predict whether you get in"),
        "{e}"
    );
    assert!(blind.undone.borrow().is_empty());
}

#[tokio::test]
async fn a_dry_run_shows_the_undos_and_makes_none() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    journal_of(&dir, &ops_admin(), false);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::DryRun);
    let g = Globals {
        dry_run: true,
        ..Default::default()
    };
    assert_eq!(
        clean(&g, &world, &ui, &dir, rollback(false)).await.unwrap(),
        exit::OK
    );
    assert!(world.undone.borrow().is_empty());
    let out = ui.out.borrow();
    assert!(out.contains("Rollback plan for run"));
    assert!(out.contains("undo step 2:") && out.contains("undo step 1:"));
}

#[tokio::test]
async fn a_switch_cut_off_mid_flight_is_listed_as_may_have_happened_never_undone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    journal_of(&dir, &ops_admin(), true);
    let world = FakeWorld::as_me();
    let ui = FakeUi::new(Decision::Apply);
    assert_eq!(
        clean(&yes(), &world, &ui, &dir, rollback(false))
            .await
            .unwrap(),
        exit::OK
    );
    assert!(
        ui.out
            .borrow()
            .contains("started but never recorded as finished (the run was cut off)")
    );
    assert!(
        world
            .undone
            .borrow()
            .iter()
            .all(|u| !matches!(u, Undo::Irreversible { .. }))
    );
}

#[tokio::test]
async fn an_undo_that_fails_leaves_the_cleanup_incomplete_and_a_second_run_finishes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    journal_of(&dir, &ops_admin(), false);
    let world = FakeWorld::as_me();
    world.aws_auth_changed.set(true);
    let ui = FakeUi::new(Decision::Apply);
    let e = clean(&yes(), &world, &ui, &dir, rollback(false))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("1 undo(s) failed; the others were done"),
        "{e}"
    );
    assert!(
        e.hint().unwrap_or_default().contains("cleanup --journal"),
        "{:?}",
        e.hint()
    );
    {
        // The key went; aws-auth (changed by someone else) was left as is.
        let undone = world.undone.borrow();
        assert_eq!(undone.len(), 1, "{undone:?}");
        assert!(matches!(undone[0], Undo::DeleteAccessKey { .. }));
    }
    let records = journal::read_records(&dir).unwrap();
    assert!(
        records.iter().any(|r| matches!(
            &r.event,
            Event::RunFinished { status } if status == "cleanup_incomplete"
        )),
        "the journal does not say the cleanup is incomplete"
    );
    assert!(
        ui.out.borrow().contains("changed by someone else"),
        "{}",
        ui.out.borrow()
    );
    // Once the cause is gone, cleanup again does only what is left.
    world.aws_auth_changed.set(false);
    let ui = FakeUi::new(Decision::Apply);
    assert_eq!(
        clean(&yes(), &world, &ui, &dir, rollback(false))
            .await
            .unwrap(),
        exit::OK
    );
    let undone = world.undone.borrow();
    assert_eq!(undone.len(), 2, "{undone:?}");
    assert!(matches!(undone[1], Undo::RestoreConfigMap { .. }));
}

#[test]
fn a_journal_killed_before_its_first_record_has_nothing_to_undo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    drop(Journal::create(&dir).unwrap());
    let records = journal::read_records(&dir).unwrap();
    assert_eq!(run_of(&dir, &records).unwrap(), None);
}

mod review;
