//! The write engine's decisions, with in-memory fakes of the cluster, the plan runner and the
//! operator: what is written, what is refused (and that nothing is then written), what a 409
//! does, what is verified.

use super::*;
use crate::awsauth::NodeRoleFact;
use crate::ports::configmap::LoginError;
use crate::recovery::plan::{Done, Interrupt, Runner, Step, StepError, Undone};
use crate::workflow::fake_ui::FakeUi;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

pub(crate) const OPS: &str = "arn:aws:iam::123456789012:role/ops";
pub(crate) const DEV: &str = "arn:aws:iam::123456789012:role/dev";
const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/ops/me";

pub(crate) fn roles(entries: &[(&str, &str)]) -> AwsAuthObject {
    let mut text = String::new();
    for (arn, group) in entries {
        text.push_str(&format!(
            "- rolearn: {arn}\n  username: {}\n  groups:\n  - {group}\n",
            arn.rsplit('/').next().unwrap_or("x")
        ));
    }
    let mut o = AwsAuthObject::default();
    o.data.insert("mapRoles".into(), text);
    o
}

fn manifest(object: &AwsAuthObject, rv: Option<u32>) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system",
                     "resourceVersion": rv.map(|v| v.to_string()),
                     "labels": object.labels, "annotations": object.annotations},
        "data": object.data,
    }))
    .unwrap()
}

fn object_of_manifest(json: &str) -> AwsAuthObject {
    let doc = awsauth::read_document("fake", json.as_bytes()).unwrap();
    restore::candidate_from_document(&doc).unwrap().object
}

/// A cluster with one aws-auth and a caller; `concurrent` is written by "someone else" just
/// before this run's write (a failed compare-and-swap).
#[derive(Default)]
pub(crate) struct FakeCluster {
    live: RefCell<Option<(AwsAuthObject, u32)>>,
    pub(crate) written: RefCell<Vec<AwsAuthObject>>,
    concurrent: RefCell<Option<AwsAuthObject>>,
    /// What SelfSubjectReview answers for a --verify-as role (absent: as the live mapping says).
    role_answers: HashMap<String, Result<LoggedIn, LoginError>>,
    /// The read-back returns this instead of what was written (a webhook rewrote it).
    read_back_override: RefCell<Option<AwsAuthObject>>,
    reads: Cell<u32>,
}

impl FakeCluster {
    pub(crate) fn with(live: Option<AwsAuthObject>) -> FakeCluster {
        FakeCluster {
            live: RefCell::new(live.map(|o| (o, 1))),
            ..Default::default()
        }
    }
    fn set_live(&self, o: AwsAuthObject) {
        let rv = self.live.borrow().as_ref().map_or(1, |(_, rv)| rv + 1);
        *self.live.borrow_mut() = Some((o, rv));
    }
}

impl AwsAuthCluster for FakeCluster {
    type Login = String;
    type Runner<'a> = FakeRunner<'a>;
    fn cluster(&self) -> &str {
        "prod"
    }
    fn region(&self) -> &str {
        "us-east-1"
    }
    fn profile(&self) -> Option<&str> {
        None
    }
    fn caller_arn(&self) -> &str {
        CALLER
    }
    fn caller_account(&self) -> &str {
        "123456789012"
    }
    async fn read_live(&self) -> Result<Option<LiveAwsAuth>, AppError> {
        self.reads.set(self.reads.get() + 1);
        let live = self.live.borrow().clone();
        Ok(live.map(|(o, rv)| {
            let o = if self.written.borrow().is_empty() {
                o
            } else {
                self.read_back_override.borrow().clone().unwrap_or(o)
            };
            LiveAwsAuth {
                raw_json: manifest(&o, Some(rv)),
                saved_json: manifest(&o, Some(rv)),
                object: o,
                resource_version: Some(rv.to_string()),
            }
        }))
    }
    async fn node_roles(&self) -> Result<Vec<NodeRoleFact>, AppError> {
        Ok(Vec::new())
    }
    fn manifest_json(&self, object: &AwsAuthObject) -> String {
        manifest(object, None)
    }
    /// As the API server answers: the operator is let in only as the aws-auth held maps them
    /// (no access entry, not the creator, in this world); otherwise 401.
    async fn whoami(&self) -> Result<LoggedIn, LoginError> {
        let live = self.live.borrow().clone();
        let mapping = live.map(|(o, _)| o.mapping()).unwrap_or_default();
        match awsauth::match_identity(
            &mapping,
            &CallerIdentity {
                arn: CALLER.into(),
                account: "123456789012".into(),
                ..Default::default()
            },
        ) {
            MatchOutcome::Mapped {
                username, groups, ..
            } => Ok(LoggedIn { username, groups }),
            _ => Err(LoginError {
                unauthorized: true,
                message: "Unauthorized".into(),
            }),
        }
    }
    async fn assume(&self, role: &str) -> Result<(CallerIdentity, String), String> {
        let name = role.rsplit('/').next().unwrap_or("x");
        Ok((
            CallerIdentity {
                arn: format!("arn:aws:sts::123456789012:assumed-role/{name}/verify"),
                account: "123456789012".into(),
                access_key_id: "ASIAFAKE".into(),
                ..Default::default()
            },
            role.to_string(),
        ))
    }
    async fn whoami_as(&self, login: &String) -> Result<LoggedIn, LoginError> {
        if let Some(a) = self.role_answers.get(login) {
            return a.clone();
        }
        let live = self.live.borrow().clone();
        let mapping = live.map(|(o, _)| o.mapping()).unwrap_or_default();
        let name = login.rsplit('/').next().unwrap_or("x");
        match awsauth::match_identity(
            &mapping,
            &CallerIdentity {
                arn: format!("arn:aws:sts::123456789012:assumed-role/{name}/verify"),
                account: "123456789012".into(),
                ..Default::default()
            },
        ) {
            MatchOutcome::Mapped {
                username, groups, ..
            } => Ok(LoggedIn { username, groups }),
            _ => Err(LoginError {
                unauthorized: true,
                message: "Unauthorized".into(),
            }),
        }
    }
    async fn has_access_entry(&self, _principal: &str) -> bool {
        false
    }
    async fn shadowed(&self, _mapping: &crate::awsauth::EffectiveMapping) -> Vec<String> {
        Vec::new()
    }
    async fn resolve_principal(&self, _arn: &str) -> Result<String, AppError> {
        Ok(OPS.into())
    }
    fn runner<'a>(
        &'a self,
        dir: PathBuf,
        _interrupt: Interrupt,
        _status: Box<dyn Fn(&str) + 'a>,
    ) -> FakeRunner<'a> {
        FakeRunner { c: self, dir }
    }
}

/// Writes as the API server would: a compare-and-swap on the resourceVersion.
pub(crate) struct FakeRunner<'a> {
    c: &'a FakeCluster,
    dir: PathBuf,
}

impl Runner for FakeRunner<'_> {
    async fn run(&mut self, step: &Step) -> Result<Done, StepError> {
        let Action::WriteConfigMap {
            desired_file,
            expected_resource_version,
            ..
        } = &step.action
        else {
            panic!("a restore only writes aws-auth");
        };
        if let Some(other) = self.c.concurrent.borrow_mut().take() {
            self.c.set_live(other);
        }
        let now = self.c.live.borrow().as_ref().map(|(_, rv)| rv.to_string());
        // A planned create is a POST: an object that exists answers 409 AlreadyExists.
        if expected_resource_version.is_none() && now.is_some() {
            return Err(StepError {
                message: "configmaps \"aws-auth\" already exists (409 AlreadyExists)".into(),
                denied_action: None,
                hint: None,
                maybe_changed: false,
            });
        }
        if expected_resource_version.is_some() && *expected_resource_version != now {
            return Err(StepError {
                message: "Conflict (409)".into(),
                denied_action: None,
                hint: None,
                maybe_changed: false,
            });
        }
        let json = std::fs::read_to_string(self.dir.join(desired_file)).unwrap();
        let o = object_of_manifest(&json);
        self.c.set_live(o.clone());
        self.c.written.borrow_mut().push(o);
        Ok(Done {
            undo: step.undo.clone(),
            facts: Default::default(),
        })
    }
    async fn undo(&mut self, _undo: &Undo) -> Result<Undone, StepError> {
        Ok(Undone::AlreadyClean("nothing".into()))
    }
}

fn candidate(o: &AwsAuthObject) -> Candidate {
    candidate_from_bytes("known-good.yaml", manifest(o, None).as_bytes()).unwrap()
}

struct Run {
    result: Result<u8, AppError>,
    /// The run directory the write was given.
    journal: PathBuf,
    _dir: tempfile::TempDir,
}

async fn restore_with(
    g: &Globals,
    c: &FakeCluster,
    ui: &FakeUi,
    new: &AwsAuthObject,
    allow: &[&str],
    verify_as: &[&str],
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let req = RestoreRequest {
        cluster: "prod".into(),
        from: "known-good.yaml".into(),
        allow_access_gain: allow.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let w = WriteOptions {
        verify_as: verify_as.iter().map(|s| s.to_string()).collect(),
        journal_dir: Some(dir.path().join("run")),
        wait: Duration::from_millis(0),
    };
    let live = c.read_live().await.unwrap();
    let result = restore(g, c, ui, &req, live, Vec::new(), candidate(new), &w).await;
    Run {
        result,
        journal: dir.path().join("run"),
        _dir: dir,
    }
}

pub(crate) fn yes() -> Globals {
    Globals {
        yes: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_same_version_writes_nothing_and_opens_no_journal() {
    let live = roles(&[(OPS, "system:masters")]);
    let c = FakeCluster::with(Some(live.clone()));
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &live, &[], &[]).await;
    assert_eq!(run.result.unwrap(), exit::OK);
    assert!(c.written.borrow().is_empty());
    assert!(!run.journal.exists());
    assert!(
        ui.out
            .borrow()
            .contains("no change: the live aws-auth already is this version")
    );
    assert_eq!(ui.confirms.get(), 0);
}

#[tokio::test]
async fn a_version_with_new_lint_errors_is_refused_before_any_plan() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let mut bad = roles(&[(OPS, "system:masters")]);
    bad.data
        .insert("mapUsers".into(), "- userarn: [not, a, string\n".into());
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &bad, &[], &[]).await;
    assert_eq!(run.result.unwrap(), exit::FINDINGS);
    assert!(c.written.borrow().is_empty());
    assert_eq!(ui.plans.get(), 0);
    assert!(ui.err.borrow().contains("refused: the new version has"));
}

#[tokio::test]
async fn new_access_with_yes_alone_is_refused_and_nothing_written() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    // An operator port that could ask and would type `allow`: only --yes refuses here.
    let mut ui = FakeUi::new(Decision::Apply);
    ui.terminal = true;
    ui.allow = true;
    let run = restore_with(&yes(), &c, &ui, &new, &[], &[]).await;
    let e = run.result.unwrap_err();
    assert!(matches!(e, AppError::AccessGainNotAllowed(_)), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("--allow-access-gain {DEV}"))
    );
    assert!(c.written.borrow().is_empty());
    assert_eq!(ui.confirms.get(), 0, "refused before the plan is confirmed");
}

#[tokio::test]
async fn a_consent_naming_another_identity_does_not_approve_the_gain() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let other = "arn:aws:iam::123456789012:role/other";
    let run = restore_with(&yes(), &c, &ui, &new, &[other], &[]).await;
    assert!(matches!(run.result, Err(AppError::AccessGainNotAllowed(_))));
    assert!(ui.err.borrow().contains(&format!(
        "--allow-access-gain {other}: this write gives no NEW access"
    )));
    assert!(c.written.borrow().is_empty());
}

#[tokio::test]
async fn a_session_consent_is_refused_telling_to_name_the_role_everyone_can_assume() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let alice = "arn:aws:sts::123456789012:assumed-role/dev/alice";
    let run = restore_with(&yes(), &c, &ui, &new, &[alice], &[]).await;
    let e = run.result.unwrap_err();
    assert!(matches!(e, AppError::AccessGainNotAllowed(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "--allow-access-gain {alice}: an assumed-role session ARN approves nothing"
        )) && text.contains(&format!("EVERYONE who can assume {DEV}"))
            && text.contains(&format!("name the role: --allow-access-gain {DEV}")),
        "{text}"
    );
    // Not called a typo ("gives no NEW access").
    assert!(
        !ui.err.borrow().contains("gives no NEW access"),
        "{}",
        ui.err.borrow()
    );
    assert!(c.written.borrow().is_empty());
    // Naming the role approves it.
    let run = restore_with(&yes(), &c, &ui, &new, &[DEV], &[]).await;
    assert_eq!(run.result.unwrap(), exit::OK);
}

#[tokio::test]
async fn a_named_gain_is_written_with_a_cas_journaled_and_verified() {
    let before = roles(&[(OPS, "system:masters")]);
    let c = FakeCluster::with(Some(before.clone()));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[DEV], &[DEV]).await;
    assert_eq!(run.result.unwrap(), exit::OK, "{}", ui.out.borrow());
    let written = c.written.borrow();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].mapping(), new.mapping());
    // The previous version is kept beside the journal, and the write was a CAS on it.
    let saved = std::fs::read_to_string(run.journal.join("aws-auth.before.json")).unwrap();
    assert_eq!(object_of_manifest(&saved), before);
    assert!(
        ui.out
            .borrow()
            .contains("replace kube-system/aws-auth (as read: resourceVersion 1)")
    );
    let out = ui.out.borrow();
    assert!(out.contains("read back: the effective mapping equals the prediction"));
    assert!(out.contains(&format!(
        "{DEV}: authenticated as dev [system:masters], as the mapping predicts"
    )));
    assert!(out.contains("Undo: eks-breakglass cleanup --journal"));
}

#[tokio::test]
async fn a_terminal_that_types_allow_approves_the_gain() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let mut ui = FakeUi::new(Decision::Apply);
    ui.terminal = true;
    ui.allow = true;
    let run = restore_with(&Globals::default(), &c, &ui, &new, &[], &[]).await;
    assert_eq!(run.result.unwrap(), exit::OK);
    assert_eq!(c.written.borrow().len(), 1);
}

#[tokio::test]
async fn a_dry_run_shows_the_needed_consent_and_writes_nothing() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::DryRun);
    let g = Globals {
        dry_run: true,
        ..Default::default()
    };
    let run = restore_with(&g, &c, &ui, &new, &[], &[DEV]).await;
    assert_eq!(run.result.unwrap(), exit::OK);
    assert!(c.written.borrow().is_empty());
    assert!(!run.journal.exists());
    let out = ui.out.borrow();
    assert!(out.contains("This write grants NEW access (1 identity)"));
    assert!(out.contains(&format!("--allow-access-gain {DEV}")));
    assert!(out.contains("after the write (predicted)"));
}

#[tokio::test]
async fn a_concurrent_change_the_write_would_overwrite_is_not_written_with_yes() {
    let before = roles(&[(OPS, "system:masters"), (DEV, "viewers")]);
    let c = FakeCluster::with(Some(before));
    // Someone else adds a role to mapRoles meanwhile; this write (taking DEV away) replaces
    // mapRoles too, so writing would drop their entry.
    let other = "arn:aws:iam::123456789012:role/other";
    *c.concurrent.borrow_mut() = Some(roles(&[
        (OPS, "system:masters"),
        (DEV, "viewers"),
        (other, "viewers"),
    ]));
    let new = roles(&[(OPS, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[], &[]).await;
    let e = run.result.unwrap_err();
    assert!(matches!(e, AppError::NeedsConfirmation(_)), "{e}");
    assert!(
        c.written.borrow().is_empty(),
        "the other change is not overwritten"
    );
    assert!(run.journal.join("aws-auth.written-2.json").is_file());
    assert!(
        ui.err
            .borrow()
            .contains("was changed by someone else after it was read")
    );
}

#[tokio::test]
async fn a_concurrent_change_elsewhere_is_rebased_on_and_written_at_the_new_version() {
    let before = roles(&[(OPS, "system:masters")]);
    let c = FakeCluster::with(Some(before.clone()));
    // The other change adds a label only: the restore's mapRoles overwrites nothing of it.
    let mut other = before.clone();
    other.labels.insert("team".into(), "platform".into());
    *c.concurrent.borrow_mut() = Some(other);
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[DEV], &[]).await;
    assert_eq!(run.result.unwrap(), exit::OK, "{}", ui.err.borrow());
    let written = c.written.borrow();
    assert_eq!(written.len(), 1);
    assert_eq!(
        written[0].labels.get("team").map(String::as_str),
        Some("platform")
    );
    assert!(run.journal.join("aws-auth.before-2.json").is_file());
    assert!(ui.out.borrow().contains("as read: resourceVersion 2"));
}

#[tokio::test]
async fn an_aws_auth_created_meanwhile_is_shown_and_not_overwritten_with_yes() {
    // None when read; someone creates one before this run's create (409 AlreadyExists).
    let c = FakeCluster::with(None);
    let theirs = roles(&[(DEV, "viewers")]);
    *c.concurrent.borrow_mut() = Some(theirs.clone());
    let new = roles(&[(OPS, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[OPS], &[]).await;
    let e = run.result.unwrap_err();
    assert!(matches!(e, AppError::NeedsConfirmation(_)), "{e}");
    assert!(c.written.borrow().is_empty(), "their aws-auth was replaced");
    assert_eq!(
        c.live.borrow().as_ref().map(|(o, _)| o.clone()),
        Some(theirs)
    );
    let err = ui.err.borrow();
    assert!(
        err.contains("was created (there was none when read) by someone else"),
        "{err}"
    );
    assert!(err.contains("overwrite its data key mapRoles"), "{err}");
    // The difference against their version is shown.
    assert!(
        ui.out
            .borrow()
            .contains("The change, against the version now in the cluster"),
        "{}",
        ui.out.borrow()
    );
}

#[tokio::test]
async fn an_aws_auth_created_meanwhile_is_replaced_only_when_confirmed_again() {
    let c = FakeCluster::with(None);
    *c.concurrent.borrow_mut() = Some(roles(&[(DEV, "viewers")]));
    let new = roles(&[(OPS, "system:masters")]);
    let mut ui = FakeUi::new(Decision::Apply);
    ui.terminal = true;
    let run = restore_with(&Globals::default(), &c, &ui, &new, &[OPS], &[]).await;
    assert_eq!(run.result.unwrap(), exit::OK, "{}", ui.err.borrow());
    assert_eq!(ui.confirms.get(), 2, "asked again after the 409");
    assert_eq!(c.written.borrow().len(), 1);
    assert!(ui.out.borrow().contains("as read: resourceVersion 1"));
}

#[tokio::test]
async fn a_read_back_that_differs_from_the_prediction_fails_the_verification() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    *c.read_back_override.borrow_mut() = Some(roles(&[(OPS, "system:masters")]));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[DEV], &[]).await;
    let e = run.result.unwrap_err();
    assert!(e.to_string().contains("the verification failed"), "{e}");
    assert_eq!(c.written.borrow().len(), 1);
    assert!(ui.out.borrow().contains("read back: "));
}

#[tokio::test]
async fn a_verify_as_role_the_cluster_refuses_fails_the_run() {
    let mut c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    c.role_answers.insert(
        DEV.into(),
        Err(LoginError {
            unauthorized: true,
            message: "Unauthorized".into(),
        }),
    );
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[DEV], &[DEV]).await;
    assert!(run.result.is_err());
    assert!(ui.out.borrow().contains(&format!("{DEV}: expected ")));
}

#[tokio::test]
async fn verify_as_on_an_unchanged_version_still_requires_the_role_to_get_in() {
    let live = roles(&[(OPS, "system:masters")]);
    let c = FakeCluster::with(Some(live.clone()));
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &live, &[], &[DEV]).await;
    let e = run.result.unwrap_err();
    assert!(e.to_string().contains("--verify-as failed"), "{e}");
    assert!(ui.err.borrow().contains("refused (401)"));
    assert!(c.written.borrow().is_empty());
}

#[test]
fn verdicts_retry_only_while_the_mapping_may_not_be_in_force_yet() {
    let mapped = MatchOutcome::Mapped {
        by: awsauth::matcher::MatchedBy::Role,
        line: 1,
        canonical_arn: DEV.into(),
        username: "dev".into(),
        groups: vec!["system:masters".into()],
        ambiguous_with: Vec::new(),
    };
    let e401 = Err(LoginError {
        unauthorized: true,
        message: "Unauthorized".into(),
    });
    // Mapped but refused: the new aws-auth may not be read yet — retry.
    assert_eq!(verify_verdict(DEV, &mapped, &e401), None);
    let not_mapped = MatchOutcome::NotMapped {
        canonical_arn: DEV.into(),
    };
    // Not mapped and refused: --verify-as asked that it gets in.
    let (ok, line) = verify_verdict(DEV, &not_mapped, &e401).unwrap();
    assert!(!ok && line.contains("refused (401)"));
    // Not mapped but let in: by something else (an access entry, the creator).
    let other = Ok(LoggedIn {
        username: "x".into(),
        groups: vec![],
    });
    let (ok, line) = verify_verdict(DEV, &not_mapped, &other).unwrap();
    assert!(ok && line.contains("though not through aws-auth"));
}

#[test]
fn flags_that_cannot_apply_to_the_source_are_refused_before_anything_is_read() {
    let req = |from: &str| RestoreRequest {
        from: from.into(),
        ..Default::default()
    };
    let mut r = req("salvage");
    r.at = Some("2026-01-02".into());
    assert!(
        r.source()
            .unwrap_err()
            .to_string()
            .contains("--at applies to snapshot sources only")
    );
    let mut r = req("rebuild");
    r.salvage_fix_arns = vec![OPS.into()];
    assert!(r.source().is_err());
    let mut r = req("salvage");
    r.admin_roles = vec![OPS.into()];
    assert!(r.source().is_err());
    let mut r = req("rebuild");
    r.admin_roles = vec!["arn:aws:sts::123456789012:assumed-role/ops/me".into()];
    assert!(
        r.source()
            .unwrap_err()
            .to_string()
            .contains("EVERYONE who can assume")
    );
    assert_eq!(
        req("s3://b/p").source().unwrap(),
        Source::S3("s3://b/p".into())
    );
    assert_eq!(req("salvage").source().unwrap(), Source::Salvage);
    assert!(check_verify_as(&["arn:aws:iam::123456789012:user/u".into()]).is_err());
    assert!(check_verify_as(&[DEV.into()]).is_ok());
}

mod review;
