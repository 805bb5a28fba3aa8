//! Review (session 3, 16b): failing tests for what the move of `recover` into a workflow left
//! wrong — decisions reached through the ui port, an exit after the first change that writes
//! no report, and a fake STS kinder than AWS.

use super::*;

/// A terminal that only renders and asks: it shows what it is given and answers the questions
/// the workflow asks as the operator would with `--yes` (no policy of its own). The consent
/// rules ("NEW access needs --allow-access-gain naming it; --yes alone never approves a
/// gain") must be the workflow's, not the port's.
struct RenderOnlyUi(FakeUi);

impl Ui for RenderOnlyUi {
    fn say(&self, text: &str) {
        self.0.say(text)
    }
    fn notice(&self, text: &str) {
        self.0.notice(text)
    }
    fn block(&self, text: &str) -> Result<(), AppError> {
        self.0.block(text)
    }
    fn show_plan(&self, plan: &Plan, extra: Vec<(&str, serde_json::Value)>) {
        self.0.show_plan(plan, extra)
    }
    fn confirm(&self, changes: usize) -> Result<Decision, AppError> {
        self.0.confirm(changes)
    }
    fn catch_interrupt(&self) -> Interrupt {
        self.0.catch_interrupt()
    }
    fn progress(&self, _m: &str) {}
    fn progress_done(&self) {}
    // A renderer has no opinion on access: it asks what it is asked, at a terminal.
    fn can_ask(&self) -> bool {
        true
    }
    fn ask_access_gain_now(&self, _gains: &[(String, String)]) -> Result<Consent, AppError> {
        Ok(Consent::Given)
    }
    async fn ask_access_gain(
        &self,
        _gains: &[(String, String)],
        _i: &Interrupt,
    ) -> Result<Consent, AppError> {
        Ok(Consent::Given)
    }
    async fn confirm_write(&self, _i: &Interrupt) -> Result<Consent, AppError> {
        Ok(Consent::Given)
    }
}

/// The access-gain consent is decided in the ui port (TerminalUi → commands::aws_auth_write::
/// access_gate_pending), not in the workflow: the workflow writes a NEW system:masters mapping
/// nobody named with --allow-access-gain as soon as the Ui does not refuse it itself. The route
/// test `an_access_gain_without_consent_is_refused_...` passes only because FakeUi re-implements
/// the rule.
#[tokio::test]
async fn review_the_workflow_itself_refuses_an_access_gain_nobody_named() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld::default();
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    let ui = RenderOnlyUi(FakeUi::default());
    let mut t = situation(PathKind::AlreadyIn);
    t.access = CallerAccess::Authenticated {
        username: "oncall".into(),
        groups: vec![],
        can_read_aws_auth: true,
    };
    let mut o = options(tmp.path());
    // --from maps dev-admin to system:masters: NEW access; no --allow-access-gain names it.
    o.from = from_with_a_new_role();
    let r = run(&aws, &world, &ui, &t, &o).await;
    assert!(
        matches!(r, Err(AppError::AccessGainNotAllowed(_))),
        "the workflow let a NEW system:masters mapping through on --yes alone (the consent rule lives in the ui port): log {:?}",
        world.log()
    );
    assert!(world.log().is_empty(), "written: {:?}", world.log());
}

/// A session whose credentials cannot be loaded any more once the run has started (an SSO
/// token that expired during the incident, a credential_process that fails).
struct CredentialsGone(FakeWorld);

impl Kube for CredentialsGone {
    async fn read_aws_auth(&self, c: &Credentials) -> Result<Option<LiveAwsAuth>, ReadError> {
        self.0.read_aws_auth(c).await
    }
    async fn verify(&self, c: &Credentials, t: Duration, i: &Interrupt) -> Verification {
        self.0.verify(c, t, i).await
    }
    fn configmap_json(&self, object: &AwsAuthObject) -> String {
        self.0.configmap_json(object)
    }
}

impl Session for CredentialsGone {
    type Runner<'r> = FakeRunner<'r>;
    async fn credentials(&self) -> Result<Credentials, AppError> {
        Err(AppError::failed(
            "the SSO session has expired; run aws sso login",
            None,
        ))
    }
    fn region(&self) -> &str {
        self.0.region()
    }
    fn partition(&self) -> &str {
        self.0.partition()
    }
    fn profile(&self) -> Option<&str> {
        None
    }
    fn call_counts(&self) -> BTreeMap<String, usize> {
        BTreeMap::new()
    }
    fn runner<'r>(&'r self, dir: PathBuf, interrupt: Interrupt) -> FakeRunner<'r> {
        self.0.runner(dir, interrupt)
    }
}

/// After the access entry was created (a change that stays), the operator's credentials fail
/// to load: `get_in` returns the raw error with `?` — no `fail()`: no incident report, no
/// `RunFinished` in the journal, no "changed so far / undo / continue" lines. The module doc
/// promises the report "whatever the outcome" and that every exit after the first change says
/// what changed and how to undo it. (The same `?` was in main's recover.rs: kept by the move.)
#[tokio::test]
async fn review_an_error_after_the_first_change_still_writes_the_report_and_says_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = CredentialsGone(FakeWorld::default());
    let ui = FakeUi::default();
    let t = situation(PathKind::AccessEntry);
    let o = options(tmp.path());
    let e = run(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert_eq!(
        world.0.log()[..2],
        ["run: CreateAccessEntry", "run: AssociateAccessPolicy"],
        "the access entry was made"
    );
    let report = report_file(&o);
    assert_eq!(
        report["status"], "failed",
        "no incident report after a change (error: {e}); report: {report}"
    );
    assert!(
        ui.text().contains("changed so far: step 1"),
        "the operator is not told what changed: {e}"
    );
    assert!(
        e.hint().unwrap_or_default().contains("cleanup --journal"),
        "no undo command in the error: {e} / {:?}",
        e.hint()
    );
}

/// STS as AWS runs it: AssumeRole of a role whose trust policy requires MFA fails with
/// AccessDenied when no SerialNumber/TokenCode is given ("If the role being assumed requires
/// MFA and if the TokenCode value is missing or expired, the AssumeRole call returns an
/// 'access denied' error", STS API reference, AssumeRoleRequest.TokenCode).
struct StrictSts(FakeAws);

impl Iam for StrictSts {
    async fn role_trust_policy(&self, name: &str) -> Result<Option<String>, AppError> {
        self.0.role_trust_policy(name).await
    }
    async fn access_key_ids(&self, name: &str) -> Option<Vec<String>> {
        self.0.access_key_ids(name).await
    }
    async fn user_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        self.0.user_created(name).await
    }
    async fn role_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        self.0.role_created(name).await
    }
    async fn role_arn(&self, name: &str) -> Result<Option<String>, AppError> {
        self.0.role_arn(name).await
    }
    async fn assume_role(
        &self,
        role_arn: &str,
        mfa: Option<&Mfa>,
    ) -> Result<Credentials, AppError> {
        self.0.assume_role(role_arn, mfa).await
    }
    async fn acquire_credentials(
        &self,
        route: &Route,
        created_key: Option<Credentials>,
        mfa: Option<&Mfa>,
        duration: Option<Duration>,
        wait: Duration,
        interrupt: &Interrupt,
        progress: &impl Fn(&str),
    ) -> Result<Credentials, AppError> {
        if let Route::AssumeRole {
            role_arn,
            mfa_required: true,
            ..
        } = route
            && mfa.is_none()
        {
            return Err(AppError::failed(
                format!(
                    "AccessDenied: User: {OPERATOR} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
                ),
                None,
            ));
        }
        self.0
            .acquire_credentials(route, created_key, mfa, duration, wait, interrupt, progress)
            .await
    }
}

impl EksAccess for StrictSts {
    async fn has_access_entry(&self, cluster: &str, principal: &str) -> Result<bool, AppError> {
        self.0.has_access_entry(cluster, principal).await
    }
    async fn access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntryFacts>, AppError> {
        self.0.access_entry(cluster, principal).await
    }
}

/// The route test `a_creator_role_that_needs_mfa_is_read_only_after_getting_in_when_no_code_is_given`
/// asserts "recovered" for an MFA-only creator role with no code: it passes only because
/// FakeAws::acquire_credentials never refuses AssumeRole. Against STS the run confirms the
/// plan, opens a run directory, then fails at get-in with an AccessDenied whose hints never
/// name --mfa-serial/--token-code (the continue command does not either). `assume-creator`
/// refuses this case before any change (workflow::getin::refuse_before_change); recover does
/// not call it.
#[tokio::test]
async fn review_an_mfa_only_creator_role_without_a_code_is_refused_before_the_run_naming_the_flags()
{
    let tmp = tempfile::tempdir().unwrap();
    let mut inner = aws();
    inner.assumable.insert(CREATOR_ROLE.into());
    let aws = StrictSts(inner);
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world
        .readers
        .borrow_mut()
        .insert(format!("ASIA-{CREATOR_ROLE}"));
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_ROLE, PrincipalState::Alive, None);
    if let CreatorFound::Found {
        status: Some(s), ..
    } = &mut t.creator
    {
        s.trust = Some(TrustEvaluation {
            decision: TrustDecision::AllowedWithConditions,
            principal_match: Some(PrincipalMatch::Account),
            statement: None,
            conditions: vec![crate::recovery::trust::TrustCondition::Mfa {
                key: "aws:MultiFactorAuthPresent".into(),
                requirement: "true".into(),
            }],
            notes: vec![],
        });
    }
    let o = options(tmp.path());
    let r = run(&aws, &world, &ui, &t, &o).await;
    let e = match r {
        Err(e) => e,
        Ok(_) => panic!("recovered without an MFA code"),
    };
    let said = format!("{e} / {}", e.hint().unwrap_or_default());
    assert!(
        said.contains("--mfa-serial"),
        "the refusal does not name --mfa-serial/--token-code: {said}"
    );
    assert!(
        !tmp.path().join("run").exists(),
        "the plan was confirmed and a run started for a way in that STS refuses: {said}"
    );
}

/// STS/IAM as the real adapter behaves while a new key propagates: Ctrl-C (or SIGTERM/SIGHUP)
/// during the wait ends `acquire_credentials` with `AppError::Interrupted`
/// (aws/ports.rs: `_ = interrupt.wait() => return Err(AppError::Interrupted)`).
struct CtrlCWhileKeyPropagates(FakeAws);

impl Iam for CtrlCWhileKeyPropagates {
    async fn role_trust_policy(&self, name: &str) -> Result<Option<String>, AppError> {
        self.0.role_trust_policy(name).await
    }
    async fn access_key_ids(&self, name: &str) -> Option<Vec<String>> {
        self.0.access_key_ids(name).await
    }
    async fn user_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        self.0.user_created(name).await
    }
    async fn role_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        self.0.role_created(name).await
    }
    async fn role_arn(&self, name: &str) -> Result<Option<String>, AppError> {
        self.0.role_arn(name).await
    }
    async fn assume_role(
        &self,
        role_arn: &str,
        mfa: Option<&Mfa>,
    ) -> Result<Credentials, AppError> {
        self.0.assume_role(role_arn, mfa).await
    }
    async fn acquire_credentials(
        &self,
        _route: &Route,
        _created_key: Option<Credentials>,
        _mfa: Option<&Mfa>,
        _duration: Option<Duration>,
        _wait: Duration,
        interrupt: &Interrupt,
        _progress: &impl Fn(&str),
    ) -> Result<Credentials, AppError> {
        interrupt.trigger();
        Err(AppError::Interrupted)
    }
}

impl EksAccess for CtrlCWhileKeyPropagates {
    async fn has_access_entry(&self, cluster: &str, principal: &str) -> Result<bool, AppError> {
        self.0.has_access_entry(cluster, principal).await
    }
    async fn access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntryFacts>, AppError> {
        self.0.access_entry(cluster, principal).await
    }
}

/// Ctrl-C while the run waits for its new key to propagate is handled as a FAILURE
/// (`get_in`: `Err(e) => run.fail(e)`): the run ends "failed" with exit 1 instead of
/// "interrupted" (130), and with --keep the temporary key the run just created STAYS — while the
/// same Ctrl-C a second earlier (during the step) or later (at the login check) undoes
/// everything (`interrupted()` → undo_all). (Kept from main's recover.rs by the move.)
#[tokio::test]
async fn review_ctrl_c_while_the_new_key_propagates_undoes_the_run_like_any_other_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = CtrlCWhileKeyPropagates(aws());
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let mut o = options(tmp.path());
    o.keep = true;
    let e = run(&aws, &world, &ui, &t, &o).await.unwrap_err();
    let report = report_file(&o);
    assert!(
        world.log().iter().any(|l| l == "undo: DeleteAccessKey"),
        "Ctrl-C left the temporary key in place: log {:?}; error {e}; report status {}",
        world.log(),
        report["status"]
    );
    assert!(matches!(e, AppError::Interrupted), "exit is not 130: {e}");
    assert_eq!(report["status"], "interrupted");
}

/// `--dry-run` has two sources of truth: `Options::dry_run` relaxes the refusals (the lock-out
/// gate and the auth-mode consent only SAY what a real run refuses), while whether the run then
/// stops is the ui port's decision (`ui.confirm` returning `Decision::DryRun`). A Ui that
/// confirms (the ConfirmingUi of the route tests does) turns a dry run into a real run with the
/// refusals off: here it writes an aws-auth after which nobody but the node role gets in,
/// without --force.
#[tokio::test]
async fn review_a_dry_run_is_the_workflows_decision_and_never_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld {
        in_after_write: BTreeSet::new(),
        ..FakeWorld::default()
    };
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    // No aws-auth: the rebuild maps only the node role, nobody gets in.
    *world.aws_auth.borrow_mut() = None;
    let ui = ConfirmingUi(FakeUi {
        dry_run: true,
        ..FakeUi::default()
    });
    let mut t = situation(PathKind::AlreadyIn);
    t.access = CallerAccess::Authenticated {
        username: "oncall".into(),
        groups: vec![],
        can_read_aws_auth: true,
    };
    let mut o = options(tmp.path());
    o.dry_run = true;
    let r = run(&aws, &world, &ui, &t, &o).await;
    assert!(
        world.log().is_empty(),
        "--dry-run wrote (lock-out refusal skipped, no --force): {:?}",
        world.log()
    );
    assert!(matches!(r, Ok(Finished::DryRun)));
    assert!(!tmp.path().join("run").exists());
}

/// `check_map_admin`'s doc says a session ARN is refused, and the route test is named
/// "takes me, roles and users only", but it accepts `assumed-role` sessions: the refusal stayed
/// in the command (`commands::aws_auth_write::refuse_session_arn`: "aws-auth cannot map one
/// session; granting it means mapping the whole role, and then EVERYONE who can assume it gets
/// system:masters"). The workflow's own check lets that access widening through.
#[test]
fn review_map_admin_refuses_a_session_arn_in_the_workflow() {
    let e = check_map_admin(&["arn:aws:sts::123456789012:assumed-role/admin/alice".into()]);
    assert!(e.is_err(), "a session ARN is accepted as --map-admin");
}
