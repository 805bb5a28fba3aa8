//! Review (issue 16c): decisions the write engine leaves to its `WriteUi` port. The plan says
//! workflows decide and ui only renders/prompts; the safety rules "--dry-run changes nothing"
//! and "--yes alone never approves an access gain" are read from `Globals` by the TERMINAL
//! adapter (`plan_ui::confirm`, `plan_ui::access_gain_askable`), not by `workflow::restore`.
//! Any other adapter of the port (16b's ui port for recover, a future API front end, a fake)
//! that only prompts then writes in a dry run, or approves a gain under --yes. The existing
//! test `new_access_with_yes_alone_is_refused_and_nothing_written` passes only because its
//! FakeUi has no terminal: it passes identically with `yes: false`, so it asserts nothing
//! about --yes.

use super::*;

/// A dry run writes nothing, whatever the operator's port answers to the confirmation
/// (an adapter that only prompts, and a person who typed "yes").
#[tokio::test]
async fn a_dry_run_writes_nothing_even_when_the_ui_port_answers_apply() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters"), (DEV, "viewers")])));
    // No access gain involved: only a loss, so no consent question either.
    let new = roles(&[(OPS, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let g = Globals {
        dry_run: true,
        ..Default::default()
    };
    let run = restore_with(&g, &c, &ui, &new, &[], &[]).await;
    assert!(
        c.written.borrow().is_empty(),
        "--dry-run wrote aws-auth: the workflow never checks g.dry_run before applying; result {:?}",
        run.result
    );
    assert!(!run.journal.exists(), "--dry-run created a run directory");
}

/// --yes alone never approves NEW access: the workflow must refuse it itself, even when the
/// operator's port has a terminal and would accept a typed consent.
#[tokio::test]
async fn yes_never_approves_a_gain_even_when_the_ui_port_could_ask() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let mut ui = FakeUi::new(Decision::Apply);
    ui.terminal = true;
    ui.allow = true;
    let run = restore_with(&yes(), &c, &ui, &new, &[], &[]).await;
    assert!(
        matches!(run.result, Err(AppError::AccessGainNotAllowed(_))),
        "--yes with no --allow-access-gain {DEV} got {:?}",
        run.result
    );
    assert!(
        c.written.borrow().is_empty(),
        "--yes alone approved system:masters for {DEV}"
    );
}

/// The fake cluster is kinder than the real one: its `whoami` (the operator's own login after
/// the write) always answers "ops [system:masters]", whatever aws-auth now says — while
/// `whoami_as` does consult the live mapping. A write that drops the operator's only mapping
/// (no access entry in this fake world, not the creator) is then "verified" and reported
/// Applied (exit 0); against a real API server step 2 of the verification gets a 401 and the
/// run fails with the rollback hint. No workflow test can therefore see the self-lockout path.
#[tokio::test]
async fn a_write_that_drops_the_operator_fails_verification_as_a_real_cluster_would() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    // The operator (assumed-role/ops/me) is mapped only through OPS; the new version maps DEV.
    let new = roles(&[(DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let run = restore_with(&yes(), &c, &ui, &new, &[DEV], &[]).await;
    assert_eq!(c.written.borrow().len(), 1);
    assert!(
        run.result.is_err(),
        "the operator lost their only mapping, yet verification passed (fake whoami ignores aws-auth):\n{}",
        ui.out.borrow()
    );
}

/// A consent must name the identity that gains. `--allow-access-gain` naming ONE session of a
/// role (alice's assumed-role session) is normalised with `canonical_role_arn` to the role
/// itself, so it approves system:masters for the whole role — every session, i.e. everyone who
/// can assume it. `--admin-role` and `--map-admin` refuse a session ARN for exactly that reason
/// (`refuse_session_arn`: "then EVERYONE who can assume … gets system:masters"); the consent
/// flag silently accepts it.
#[tokio::test]
async fn a_consent_naming_one_session_does_not_approve_the_whole_role() {
    let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
    let new = roles(&[(OPS, "system:masters"), (DEV, "system:masters")]);
    let ui = FakeUi::new(Decision::Apply);
    let alice = "arn:aws:sts::123456789012:assumed-role/dev/alice";
    let run = restore_with(&yes(), &c, &ui, &new, &[alice], &[]).await;
    assert!(
        c.written.borrow().is_empty(),
        "--allow-access-gain {alice} approved system:masters for the whole role {DEV}; result {:?}",
        run.result
    );
    assert!(run.result.is_err());
}

/// An operator UI that keeps the `predictions` shown with each plan.
struct PredUi {
    inner: FakeUi,
    predictions: RefCell<Vec<serde_json::Value>>,
}

impl WriteUi for PredUi {
    fn out(&self, text: &str) {
        self.inner.out(text)
    }
    fn err(&self, text: &str) {
        self.inner.err(text)
    }
    fn show_plan(&self, plan: &Plan, extra: Vec<(&str, serde_json::Value)>) {
        for (k, v) in &extra {
            if *k == "predictions" {
                self.predictions.borrow_mut().push(v.clone());
            }
        }
        self.inner.show_plan(plan, extra)
    }
    fn confirm(&self, changes: usize) -> Result<Decision, AppError> {
        self.inner.confirm(changes)
    }
    fn access_gain_askable(&self, g: &[(String, String)], h: &str) -> Result<(), AppError> {
        self.inner.access_gain_askable(g, h)
    }
    fn confirm_access_gain(&self, g: &[(String, String)], h: &str) -> Result<(), AppError> {
        self.inner.confirm_access_gain(g, h)
    }
    fn status(&self, m: &str) {
        self.inner.status(m)
    }
    fn status_done(&self) {
        self.inner.status_done()
    }
    fn catch_interrupt(&self) -> Interrupt {
        self.inner.catch_interrupt()
    }
}

/// After a 409 the new version is made again against what is now in the cluster, re-diffed and
/// (at a terminal) confirmed again — but the "who gets in" prediction is computed once, before
/// the loop, and the plan of attempt 2 carries the FIRST prediction. Here a colleague removed
/// the operator's role from mapRoles meanwhile; the restore (a source with mapUsers only, so
/// the live mapRoles is kept) is rebased onto that, and will lock the operator out, yet the
/// plan confirmed for attempt 2 still predicts "operator gets in".
#[tokio::test]
async fn the_plan_after_a_409_predicts_who_gets_in_with_the_rebased_version() {
    let before = roles(&[(OPS, "system:masters"), (DEV, "viewers")]);
    let c = FakeCluster::with(Some(before));
    *c.concurrent.borrow_mut() = Some(roles(&[(DEV, "viewers")]));
    let mut new = AwsAuthObject::default();
    new.data.insert(
        "mapUsers".into(),
        "- userarn: arn:aws:iam::123456789012:user/alice\n  username: alice\n  groups:\n  - viewers\n"
            .into(),
    );
    let ui = PredUi {
        inner: FakeUi::new(Decision::Apply),
        predictions: RefCell::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let req = RestoreRequest {
        cluster: "prod".into(),
        from: "known-good.yaml".into(),
        allow_access_gain: vec!["arn:aws:iam::123456789012:user/alice".into()],
        ..Default::default()
    };
    let w = WriteOptions {
        journal_dir: Some(dir.path().join("run")),
        ..Default::default()
    };
    let live = c.read_live().await.unwrap();
    let _ = restore(&yes(), &c, &ui, &req, live, Vec::new(), candidate(&new), &w).await;
    let preds = ui.predictions.borrow();
    assert!(
        preds.len() >= 2,
        "no second plan after the 409: {}",
        ui.inner.err.borrow()
    );
    let operator = |p: &serde_json::Value| {
        p.as_array()
            .and_then(|a| a.iter().find(|x| x["role"] == "operator"))
            .map(|x| x["gets_in"].clone())
    };
    assert_eq!(operator(&preds[0]), Some(serde_json::json!(true)));
    // The premise: what was written after the 409 no longer maps the operator's role.
    let written = c.written.borrow();
    assert_eq!(written.len(), 1);
    assert!(!written[0].data["mapRoles"].contains("role/ops"));
    assert_ne!(
        operator(&preds[1]),
        Some(serde_json::json!(true)),
        "the plan of attempt 2 (rebased on a mapRoles without {OPS}) still predicts the operator gets in: {}",
        preds[1]
    );
}

/// `--at` with a FILE source is refused by the command (`commands/aws_auth_write.rs`), after it
/// has connected to the cluster and read aws-auth, not by `RestoreRequest::source`, which
/// refuses every other flag combination "before anything is read". A decision left in the
/// command; the workflow's check lets it through.
#[test]
fn at_with_a_file_source_is_refused_by_the_request_check() {
    let req = RestoreRequest {
        from: "known-good.yaml".into(),
        at: Some("2026-01-02".into()),
        ..Default::default()
    };
    let got = req.source();
    assert!(
        got.is_err(),
        "--at 2026-01-02 --from known-good.yaml passed the request check: {got:?}"
    );
}
