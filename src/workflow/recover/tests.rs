//! Every route `recover` can take, with in-memory ports: what is planned, what is applied,
//! what is verified, what is undone, and what is refused before any change.

use super::*;
use crate::awsauth::lint::{NodeRoleFact, NodeRoleKind};
use crate::cluster::AuthMode;
use crate::ports::eks_access::AccessEntryFacts;
use crate::ports::kube::WhoAmI;
use crate::recovery::creator::CreatorSource;
use crate::recovery::plan::{Done, Runner, Step, StepError, Undone};
use crate::recovery::principal::PrincipalState;
use crate::recovery::trust::{PrincipalMatch, TrustDecision, TrustEvaluation};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

const ACCOUNT: &str = "123456789012";
const OPERATOR: &str = "arn:aws:iam::123456789012:user/oncall";
const NODE: &str = "arn:aws:iam::123456789012:role/eks-node-role";
const CREATOR_ROLE: &str = "arn:aws:iam::123456789012:role/creator";
const CREATOR_USER: &str = "arn:aws:iam::123456789012:user/creator";
const VERIFY_ROLE: &str = "arn:aws:iam::123456789012:role/dev-admin";
/// The incident: the operator's entry has a broken indentation, so nobody is let in by it;
/// salvage recovers it (no NEW access: the live aws-auth names the operator).
const BROKEN_USERS: &str = "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n groups:\n    - system:masters\n";

/// A `--from` file that also maps a role nothing in the live aws-auth names: NEW access.
fn from_with_a_new_role() -> Option<(PathBuf, Candidate)> {
    let mut data = BTreeMap::new();
    data.insert(
        "mapUsers".to_string(),
        "- userarn: arn:aws:iam::123456789012:user/oncall\n  username: oncall\n  groups:\n    - system:masters\n".to_string(),
    );
    data.insert(
        "mapRoles".to_string(),
        format!("- rolearn: {VERIFY_ROLE}\n  username: dev\n  groups:\n    - system:masters\n"),
    );
    let object = AwsAuthObject {
        data,
        ..AwsAuthObject::default()
    };
    Some((
        PathBuf::from("good.yaml"),
        Candidate {
            origin: "good.yaml".into(),
            object,
            named: Vec::new(),
        },
    ))
}

fn creds(id: &str) -> Credentials {
    Credentials::new(id, "secret", None, None, "test")
}

fn broken_aws_auth() -> LiveAwsAuth {
    let mut data = BTreeMap::new();
    data.insert("mapUsers".to_string(), BROKEN_USERS.to_string());
    LiveAwsAuth {
        object: AwsAuthObject {
            data,
            ..AwsAuthObject::default()
        },
        resource_version: Some("41".into()),
        json: "{\"live\":true}".into(),
    }
}

/// IAM, STS and access entries.
#[derive(Default)]
struct FakeAws {
    /// role name → (ARN with path, trust policy).
    roles: BTreeMap<String, (String, Option<String>)>,
    /// Role ARNs AssumeRole succeeds for (as the operator, without MFA unless given).
    assumable: BTreeSet<String>,
    /// (cluster, principal) → its entry.
    entries: BTreeMap<String, AccessEntryFacts>,
    /// When principals were created (stale entries).
    created: BTreeMap<String, DateTime<Utc>>,
    assumed: RefCell<Vec<String>>,
    acquired: RefCell<Vec<String>>,
}

impl Iam for FakeAws {
    async fn role_trust_policy(&self, name: &str) -> Result<Option<String>, AppError> {
        Ok(self.roles.get(name).and_then(|r| r.1.clone()))
    }
    async fn access_key_ids(&self, _name: &str) -> Option<Vec<String>> {
        Some(vec!["AKIAOLDKEY".into()])
    }
    async fn user_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        Ok(self.created.get(name).copied())
    }
    async fn role_created(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        Ok(self.created.get(name).copied())
    }
    async fn role_arn(&self, name: &str) -> Result<Option<String>, AppError> {
        Ok(self.roles.get(name).map(|r| r.0.clone()))
    }
    async fn assume_role(
        &self,
        role_arn: &str,
        _mfa: Option<&Mfa>,
    ) -> Result<Credentials, AppError> {
        self.assumed.borrow_mut().push(role_arn.to_string());
        if self.assumable.contains(role_arn) {
            Ok(creds(&format!("ASIA-{role_arn}")))
        } else {
            Err(AppError::failed(
                format!("AccessDenied: sts:AssumeRole {role_arn}"),
                None,
            ))
        }
    }
    async fn acquire_credentials(
        &self,
        route: &Route,
        created_key: Option<Credentials>,
        _mfa: Option<&Mfa>,
        _duration: Option<Duration>,
        _wait: Duration,
        _interrupt: &Interrupt,
        _progress: &impl Fn(&str),
    ) -> Result<Credentials, AppError> {
        self.acquired
            .borrow_mut()
            .push(route_name(route).to_string());
        match route {
            Route::TemporaryKey { .. } | Route::RecreateUser { .. } => {
                created_key.ok_or_else(|| AppError::failed("the run created no access key", None))
            }
            Route::AssumeRole { role_arn, .. }
            | Route::PatchTrust { role_arn, .. }
            | Route::RecreateRole { role_arn, .. } => Ok(creds(&format!("ASIA-{role_arn}"))),
            Route::AlreadyCreator => Ok(creds("AKIA-OPERATOR")),
            _ => Err(AppError::failed("no credentials on this route", None)),
        }
    }
}

impl EksAccess for FakeAws {
    async fn has_access_entry(&self, _cluster: &str, principal: &str) -> Result<bool, AppError> {
        Ok(self.entries.contains_key(principal))
    }
    async fn access_entry(
        &self,
        _cluster: &str,
        principal: &str,
    ) -> Result<Option<AccessEntryFacts>, AppError> {
        Ok(self.entries.get(principal).cloned())
    }
}

/// The cluster: aws-auth, who can read it, who gets in before and after the write, and what
/// the plan runner did.
struct FakeWorld {
    aws_auth: RefCell<Option<LiveAwsAuth>>,
    /// Access key ids that can read aws-auth (before the write: the way in).
    readers: RefCell<BTreeSet<String>>,
    /// Access key ids let in after the write (the prediction's truth); before it, `readers`.
    in_after_write: BTreeSet<String>,
    written: Cell<bool>,
    /// The object handed to `configmap_json` (what the write step saves and writes).
    pending: RefCell<Option<AwsAuthObject>>,
    /// What the runner did, in order: `run: …`, `undo: …`, `write aws-auth`.
    log: RefCell<Vec<String>>,
    /// A step whose action name contains this fails (AWS denies it).
    fail_step: Option<&'static str>,
    /// The access key the run creates is let in (false: a recreated creator, new unique id).
    new_key_let_in: bool,
}

impl Default for FakeWorld {
    fn default() -> Self {
        FakeWorld {
            aws_auth: RefCell::new(Some(broken_aws_auth())),
            readers: RefCell::new(BTreeSet::new()),
            in_after_write: ["AKIA-OPERATOR".to_string()].into_iter().collect(),
            written: Cell::new(false),
            pending: RefCell::new(None),
            log: RefCell::new(Vec::new()),
            fail_step: None,
            new_key_let_in: true,
        }
    }
}

impl FakeWorld {
    fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

impl Kube for FakeWorld {
    async fn read_aws_auth(&self, c: &Credentials) -> Result<Option<LiveAwsAuth>, ReadError> {
        let id = c.access_key_id().to_string();
        let can = if self.written.get() {
            self.in_after_write.contains(&id) || self.readers.borrow().contains(&id)
        } else {
            self.readers.borrow().contains(&id)
        };
        if can {
            Ok(self.aws_auth.borrow().clone())
        } else {
            Err(ReadError::Read(AppError::failed("Unauthorized", None)))
        }
    }
    async fn verify(&self, c: &Credentials, _t: Duration, _i: &Interrupt) -> Verification {
        let id = c.access_key_id().to_string();
        let gets_in = if self.written.get() {
            self.in_after_write.contains(&id)
        } else {
            self.readers.borrow().contains(&id)
        };
        if gets_in {
            Verification::Authenticated {
                who: WhoAmI {
                    username: id,
                    uid: None,
                    groups: vec!["system:masters".into()],
                    extra: BTreeMap::new(),
                },
                attempts: 1,
                can_read_aws_auth: true,
                can_update_aws_auth: true,
            }
        } else {
            Verification::Refused { attempts: 1 }
        }
    }
    fn configmap_json(&self, object: &AwsAuthObject) -> String {
        *self.pending.borrow_mut() = Some(object.clone());
        "{\"written\":true}".into()
    }
}

struct FakeRunner<'r> {
    world: &'r FakeWorld,
    key: Option<Credentials>,
}

fn action_name(a: &Action) -> String {
    let debug = format!("{a:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Runner for FakeRunner<'_> {
    async fn run(&mut self, step: &Step) -> Result<Done, StepError> {
        let name = action_name(&step.action);
        if self.world.fail_step.is_some_and(|f| name.contains(f)) {
            return Err(StepError {
                message: format!("AccessDenied: {name}"),
                denied_action: Some(name),
                hint: None,
                maybe_changed: false,
            });
        }
        self.world.log.borrow_mut().push(format!("run: {name}"));
        match &step.action {
            Action::CreateAccessKey { .. } => {
                self.key = Some(creds("AKIA-NEWKEY"));
                // The new key is the creator's: it reads and writes aws-auth.
                if self.world.new_key_let_in {
                    self.world.readers.borrow_mut().insert("AKIA-NEWKEY".into());
                }
            }
            Action::CreateAccessEntry { .. } => {
                self.world
                    .readers
                    .borrow_mut()
                    .insert("AKIA-OPERATOR".into());
            }
            Action::WriteConfigMap { .. } => {
                let object = self.world.pending.borrow().clone().unwrap_or_default();
                *self.world.aws_auth.borrow_mut() = Some(LiveAwsAuth {
                    object,
                    resource_version: Some("42".into()),
                    json: String::new(),
                });
                self.world.written.set(true);
                self.world.log.borrow_mut().push("write aws-auth".into());
            }
            _ => {}
        }
        Ok(Done {
            undo: step.undo.clone(),
            facts: BTreeMap::new(),
        })
    }
    async fn undo(&mut self, undo: &Undo) -> Result<Undone, StepError> {
        let name = format!("{undo:?}");
        let name = name
            .split([' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string();
        self.world.log.borrow_mut().push(format!("undo: {name}"));
        Ok(Undone::Reversed(name))
    }
}

impl RunnerExt for FakeRunner<'_> {
    fn last_created_key(&self) -> Option<Credentials> {
        self.key.clone()
    }
    fn act_as(&mut self, _creds: Credentials) {}
}

impl Session for FakeWorld {
    type Runner<'r> = FakeRunner<'r>;
    async fn credentials(&self) -> Result<Credentials, AppError> {
        Ok(creds("AKIA-OPERATOR"))
    }
    fn region(&self) -> &str {
        "eu-west-1"
    }
    fn partition(&self) -> &str {
        "aws"
    }
    fn profile(&self) -> Option<&str> {
        None
    }
    fn call_counts(&self) -> BTreeMap<String, usize> {
        BTreeMap::new()
    }
    fn runner<'r>(&'r self, _dir: PathBuf, _interrupt: Interrupt) -> FakeRunner<'r> {
        FakeRunner {
            world: self,
            key: None,
        }
    }
}

/// The operator: `--yes` (or not), `--dry-run`, and the answers typed after getting in.
struct FakeUi {
    dry_run: bool,
    yes: bool,
    /// The answer to the write question after getting in.
    write_answer: Result<Consent, ()>,
    /// The answer to the access-gain question after getting in (`None`: no terminal).
    allow_answer: Option<Consent>,
    interrupt: Interrupt,
    said: RefCell<Vec<String>>,
    plans: Cell<usize>,
}

impl Default for FakeUi {
    fn default() -> Self {
        FakeUi {
            dry_run: false,
            yes: true,
            write_answer: Ok(Consent::Given),
            allow_answer: None,
            interrupt: Interrupt::new(),
            said: RefCell::new(Vec::new()),
            plans: Cell::new(0),
        }
    }
}

impl FakeUi {
    fn text(&self) -> String {
        self.said.borrow().join("\n")
    }
}

impl Ui for FakeUi {
    fn say(&self, text: &str) {
        self.said.borrow_mut().push(text.to_string());
    }
    fn notice(&self, text: &str) {
        self.said.borrow_mut().push(text.to_string());
    }
    fn block(&self, text: &str) -> Result<(), AppError> {
        self.said.borrow_mut().push(text.to_string());
        Ok(())
    }
    fn show_plan(&self, plan: &Plan, _extra: Vec<(&str, serde_json::Value)>) {
        self.plans.set(self.plans.get() + 1);
        self.said.borrow_mut().push(plan.render());
    }
    fn confirm(&self, changes: usize) -> Result<Decision, AppError> {
        if self.dry_run {
            Ok(Decision::DryRun)
        } else if self.yes {
            Ok(Decision::Apply)
        } else {
            Err(AppError::NeedsConfirmation(format!("{changes} change(s)")))
        }
    }
    fn catch_interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }
    fn progress(&self, _message: &str) {}
    fn progress_done(&self) {}
    fn can_ask(&self) -> bool {
        self.allow_answer.is_some()
    }
    fn ask_access_gain_now(&self, _gains: &[(String, String)]) -> Result<Consent, AppError> {
        Ok(self.allow_answer.unwrap_or(Consent::Refused))
    }
    async fn ask_access_gain(
        &self,
        _gains: &[(String, String)],
        _i: &Interrupt,
    ) -> Result<Consent, AppError> {
        Ok(self.allow_answer.unwrap_or(Consent::Refused))
    }
    async fn confirm_write(&self, _i: &Interrupt) -> Result<Consent, AppError> {
        if self.yes {
            return Ok(Consent::Given);
        }
        Ok(self.write_answer.unwrap_or(Consent::Refused))
    }
}

fn cluster(mode: AuthMode) -> ClusterFacts {
    ClusterFacts {
        name: "prod".into(),
        arn: format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"),
        region: "eu-west-1".into(),
        status: Some("ACTIVE".into()),
        version: Some("1.31".into()),
        platform_version: None,
        created_at: None,
        endpoint: Some("https://127.0.0.1:1".into()),
        ca_pem: None,
        endpoint_public_access: Some(true),
        endpoint_private_access: Some(false),
        auth_mode: Some(mode),
        bootstrap_creator_admin: Some(true),
        tags: BTreeMap::new(),
    }
}

fn path(kind: PathKind, consent: Option<&str>) -> RecoveryPath {
    RecoveryPath {
        kind,
        score: 90,
        title: format!("{kind:?}"),
        reason: "test".into(),
        needs: Vec::new(),
        consent: consent.map(str::to_string),
        automatic: true,
        command: "eks-breakglass recover --cluster prod".into(),
    }
}

fn situation(kind: PathKind) -> Situation {
    Situation {
        caller_arn: OPERATOR.into(),
        caller_account: ACCOUNT.into(),
        cluster: cluster(AuthMode::ApiAndConfigMap),
        access: CallerAccess::Unauthorized,
        aws_auth_readable: false,
        aws_auth_errors: 0,
        creator: CreatorFound::Unknown,
        node_roles: vec![NodeRoleFact {
            arn: NODE.into(),
            kind: NodeRoleKind::Ec2Linux,
            source: "ng-1".into(),
        }],
        paths: vec![path(kind, None)],
    }
}

/// A creator that is alive, with the trust verdict `trust` (roles) for the operator.
fn with_creator(t: &mut Situation, arn: &str, state: PrincipalState, trust: Option<TrustDecision>) {
    let mut status = PrincipalStatus::new(state, "s");
    status.trust = trust.map(|decision| TrustEvaluation {
        decision,
        principal_match: Some(PrincipalMatch::Account),
        statement: None,
        conditions: vec![],
        notes: vec![],
    });
    t.creator = CreatorFound::Found {
        creator: Box::new(Creator::from_arn(arn, None, CreatorSource::Cloudtrail)),
        status: Some(Box::new(status)),
    };
}

fn options(dir: &Path) -> Options {
    Options {
        cluster: "prod".into(),
        from: None,
        via: None,
        allow_auth_mode_change: false,
        verify_as: Vec::new(),
        salvage_fix_arns: Vec::new(),
        map_admin: Vec::new(),
        allow_access_gain: Vec::new(),
        force: false,
        keep: false,
        mfa: None,
        journal_dir: Some(dir.join("run")),
        wait: Duration::ZERO,
        dry_run: false,
        yes: true,
        profile: None,
        region: None,
        tunnel: Tunnel::default(),
        started: Utc::now(),
    }
}

fn aws() -> FakeAws {
    let mut a = FakeAws::default();
    a.roles.insert(
        "creator".into(),
        (CREATOR_ROLE.into(), Some("{\"Statement\":[]}".into())),
    );
    a
}

async fn recover(
    aws: &FakeAws,
    world: &FakeWorld,
    ui: &FakeUi,
    t: &Situation,
    o: &Options,
) -> Result<Finished, AppError> {
    run(aws, world, ui, t, o).await
}

fn done(r: Result<Finished, AppError>) -> RecoverReport {
    match r {
        Ok(Finished::Done(r)) => *r,
        Ok(Finished::DryRun) => panic!("a dry run"),
        Err(e) => panic!("failed: {e} / {:?}", e.hint()),
    }
}

fn check(r: &RecoverReport, identity: &str) -> bool {
    r.report
        .checks
        .iter()
        .find(|c| c.identity == identity)
        .is_some_and(|c| c.ok)
}

fn report_file(o: &Options) -> serde_json::Value {
    let dir = o.journal_dir.clone().unwrap_or_default();
    let text = std::fs::read_to_string(dir.join(REPORT_JSON)).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

#[tokio::test]
async fn direct_you_are_in_the_write_is_shown_before_the_plan_and_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let (aws, world, ui) = (aws(), FakeWorld::default(), FakeUi::default());
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    let mut t = situation(PathKind::AlreadyIn);
    t.access = CallerAccess::Authenticated {
        username: "oncall".into(),
        groups: vec![],
        can_read_aws_auth: true,
    };
    let o = options(tmp.path());
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(r.report.status, "recovered");
    assert!(r.error.is_none());
    // Known before the plan: shown once, read as you, not asked again after getting in.
    assert!(
        ui.text()
            .contains("computed from the live aws-auth read as you")
    );
    assert_eq!(ui.text().matches("The aws-auth write (step 1)").count(), 1);
    assert_eq!(world.log(), ["run: WriteConfigMap", "write aws-auth"]);
    assert!(check(&r, "kube-system/aws-auth") && check(&r, OPERATOR) && check(&r, NODE));
    // The node role is mapped, the backup and the written object are named in the report.
    assert_eq!(r.report.backups, [BACKUP_FILE, WRITTEN_FILE]);
    assert_eq!(report_file(&o)["status"], "recovered");
    assert!(aws.assumed.borrow().is_empty());
}

#[tokio::test]
async fn access_entry_new_is_created_the_write_computed_after_getting_in_and_the_entry_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let (aws, world, ui) = (aws(), FakeWorld::default(), FakeUi::default());
    let t = situation(PathKind::AccessEntry);
    let o = options(tmp.path());
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(r.report.status, "recovered");
    assert!(
        ui.text()
            .contains("the new aws-auth cannot be computed yet")
    );
    assert!(ui.text().contains(
        "computed from the live aws-auth read as you (arn:aws:iam::123456789012:user/oncall)"
    ));
    assert_eq!(
        world.log(),
        [
            "run: CreateAccessEntry",
            "run: AssociateAccessPolicy",
            "run: WriteConfigMap",
            "write aws-auth"
        ]
    );
    // The access entry is not temporary: nothing is undone at the end.
    assert!(r.report.cleaned_up.is_empty());
    assert!(
        r.plan
            .notes
            .iter()
            .any(|n| n.contains("the access entry stays"))
    );
}

#[tokio::test]
async fn access_entry_adopted_when_it_exists_with_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let mut aws = aws();
    aws.entries.insert(
        OPERATOR.into(),
        AccessEntryFacts {
            associated: vec![
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
            ],
            ..AccessEntryFacts::default()
        },
    );
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    let t = situation(PathKind::AccessEntry);
    let r = done(recover(&aws, &world, &ui, &t, &options(tmp.path())).await);
    assert_eq!(r.report.status, "recovered");
    assert!(
        !world.log().iter().any(|l| l.contains("CreateAccessEntry")),
        "{:?}",
        world.log()
    );
}

#[tokio::test]
async fn access_entry_stale_is_deleted_and_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let mut aws = aws();
    let entry_made = Utc::now() - chrono::Duration::days(30);
    aws.entries.insert(
        OPERATOR.into(),
        AccessEntryFacts {
            created_at: Some(entry_made),
            associated: vec![
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
            ],
            ..AccessEntryFacts::default()
        },
    );
    // The user was deleted and recreated after its entry was made.
    aws.created
        .insert("oncall".into(), Utc::now() - chrono::Duration::days(1));
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    let t = situation(PathKind::AccessEntry);
    let r = done(recover(&aws, &world, &ui, &t, &options(tmp.path())).await);
    assert_eq!(r.report.status, "recovered");
    let log = world.log();
    assert_eq!(log[0], "run: DeleteAccessEntry", "{log:?}");
    assert_eq!(log[1], "run: CreateAccessEntry", "{log:?}");
}

#[tokio::test]
async fn auth_mode_change_needs_its_consent_before_anything_and_is_planned_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (aws, world, ui) = (aws(), FakeWorld::default(), FakeUi::default());
    let mut t = situation(PathKind::AccessEntry);
    t.cluster = cluster(AuthMode::ConfigMap);
    t.paths = vec![path(PathKind::AccessEntry, Some(MODE_CONSENT))];
    let mut o = options(tmp.path());
    let e = recover(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("switching to API_AND_CONFIG_MAP is one-way"),
        "{e}"
    );
    assert!(e.hint().unwrap_or_default().contains(MODE_CONSENT));
    assert_eq!(ui.plans.get(), 0, "refused before the plan");
    assert!(world.log().is_empty());
    o.allow_auth_mode_change = true;
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(world.log()[0], "run: SwitchAuthMode", "{:?}", world.log());
    assert_eq!(r.report.status, "recovered");
}

#[tokio::test]
async fn creator_assume_role_reads_before_the_plan_and_reuses_that_session() {
    let tmp = tempfile::tempdir().unwrap();
    let mut aws = aws();
    aws.assumable.insert(CREATOR_ROLE.into());
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world
        .readers
        .borrow_mut()
        .insert(format!("ASIA-{CREATOR_ROLE}"));
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(
        &mut t,
        CREATOR_ROLE,
        PrincipalState::Alive,
        Some(TrustDecision::Allowed),
    );
    let r = done(recover(&aws, &world, &ui, &t, &options(tmp.path())).await);
    assert_eq!(r.report.status, "recovered");
    assert!(ui.text().contains("read as the creator role"));
    // Assumed once (an MFA code is accepted once), never acquired again.
    assert_eq!(*aws.assumed.borrow(), [CREATOR_ROLE]);
    assert!(aws.acquired.borrow().is_empty());
    assert!(
        r.report
            .timeline
            .iter()
            .any(|e| e.what.contains("not assumed again"))
    );
    assert_eq!(world.log(), ["run: WriteConfigMap", "write aws-auth"]);
}

#[tokio::test]
async fn creator_trust_statement_is_temporary_and_removed_at_the_end() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world
        .readers
        .borrow_mut()
        .insert(format!("ASIA-{CREATOR_ROLE}"));
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(
        &mut t,
        CREATOR_ROLE,
        PrincipalState::Alive,
        Some(TrustDecision::NotTrusted),
    );
    let r = done(recover(&aws, &world, &ui, &t, &options(tmp.path())).await);
    assert_eq!(r.report.status, "recovered");
    assert_eq!(
        *aws.acquired.borrow(),
        ["AssumeRole after a trust statement"]
    );
    let log = world.log();
    assert_eq!(
        log.first().map(String::as_str),
        Some("run: UpdateAssumeRolePolicy")
    );
    assert!(
        log.last().is_some_and(|l| l.starts_with("undo: ")),
        "{log:?}"
    );
    assert!(!r.report.cleaned_up.is_empty());
}

#[tokio::test]
async fn creator_new_key_gets_in_and_the_key_is_deleted_unless_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let r = done(recover(&aws, &world, &ui, &t, &options(tmp.path())).await);
    assert_eq!(r.report.status, "recovered");
    assert_eq!(*aws.acquired.borrow(), ["a temporary access key"]);
    assert!(
        r.report
            .identities
            .iter()
            .any(|i| i.starts_with("get-in: the creator"))
    );
    assert_eq!(
        world.log(),
        [
            "run: CreateAccessKey",
            "run: WriteConfigMap",
            "write aws-auth",
            "undo: DeleteAccessKey"
        ]
    );
    // --keep: the key stays, and the report says so.
    let tmp = tempfile::tempdir().unwrap();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    let mut o = options(tmp.path());
    o.keep = true;
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert!(!world.log().iter().any(|l| l.starts_with("undo")));
    assert!(
        r.report
            .cleaned_up
            .iter()
            .any(|l| l.starts_with("kept (--keep)"))
    );
}

#[tokio::test]
async fn creator_you_already_are_changes_nothing_to_get_in() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, OPERATOR, PrincipalState::Alive, None);
    if let CreatorFound::Found {
        status: Some(s), ..
    } = &mut t.creator
    {
        s.caller_is_creator = true;
    }
    let r = done(recover(&aws, &world, &ui, &t, &options(tmp.path())).await);
    assert_eq!(r.report.status, "recovered");
    assert!(ui.text().contains("read as you"));
    assert_eq!(world.log(), ["run: WriteConfigMap", "write aws-auth"]);
}

#[tokio::test]
async fn creator_recreated_is_refused_by_the_cluster_then_everything_temporary_goes() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    // EKS bound the creator to the old unique id: the recreated user's key is not let in.
    let world = FakeWorld {
        new_key_let_in: false,
        ..FakeWorld::default()
    };
    let ui = FakeUi::default();
    let mut t = situation(PathKind::RecreateCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Deleted, None);
    let o = options(tmp.path());
    let e = recover(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert!(e.to_string().contains("recover of prod failed"), "{e}");
    assert!(
        ui.text()
            .contains("the cluster refuses the recreated creator"),
        "{}",
        ui.text()
    );
    let log = world.log();
    assert_eq!(
        log[..2],
        ["run: CreateUser", "run: CreateAccessKey"],
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l == "write aws-auth"), "{log:?}");
    // Both the key and the recreated user go (in recover, the creator route is temporary).
    assert_eq!(
        log.iter().filter(|l| l.starts_with("undo: ")).count(),
        2,
        "{log:?}"
    );
    assert_eq!(report_file(&o)["status"], "failed");
}

#[tokio::test]
async fn lockout_is_refused_before_any_change_without_force_and_written_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld {
        in_after_write: BTreeSet::new(),
        ..FakeWorld::default()
    };
    let ui = FakeUi::default();
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    // No aws-auth at all: the rebuild maps only the node role, nobody gets in.
    *world.aws_auth.borrow_mut() = None;
    let mut t = situation(PathKind::AlreadyIn);
    t.access = CallerAccess::Authenticated {
        username: "oncall".into(),
        groups: vec![],
        can_read_aws_auth: true,
    };
    let mut o = options(tmp.path());
    let e = recover(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("nobody but the temporary identity would get in"),
        "{e}"
    );
    assert!(e.hint().unwrap_or_default().contains("--map-admin me"));
    assert!(world.log().is_empty(), "nothing applied");
    assert!(!tmp.path().join("run").exists(), "no run directory");
    // --dry-run says it and refuses nothing.
    let dry = FakeUi {
        dry_run: true,
        ..FakeUi::default()
    };
    o.dry_run = true;
    assert!(matches!(
        recover(&aws, &world, &dry, &t, &o).await,
        Ok(Finished::DryRun)
    ));
    assert!(dry.text().contains("A real run REFUSES this write"));
    // --force writes it.
    o.dry_run = false;
    o.force = true;
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(r.report.status, "restored_unverified");
    assert!(world.log().iter().any(|l| l == "write aws-auth"));
}

#[tokio::test]
async fn an_access_gain_without_consent_is_refused_before_any_change_and_named_consent_allows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    let mut t = situation(PathKind::AlreadyIn);
    t.access = CallerAccess::Authenticated {
        username: "oncall".into(),
        groups: vec![],
        can_read_aws_auth: true,
    };
    let mut o = options(tmp.path());
    // A NEW admin that nothing in the live aws-auth names.
    o.from = from_with_a_new_role();
    let e = recover(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert!(matches!(e, AppError::AccessGainNotAllowed(_)), "{e}");
    assert!(world.log().is_empty());
    o.allow_access_gain = vec![VERIFY_ROLE.into()];
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(r.report.status, "recovered");
}

#[tokio::test]
async fn an_access_gain_seen_after_getting_in_stops_the_run_and_removes_the_temporary_key() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let mut o = options(tmp.path());
    o.from = from_with_a_new_role();
    let e = recover(&aws, &world, &ui, &t, &o).await.unwrap_err();
    // Exit 4 kept, wherever the refusal happens.
    assert!(matches!(e, AppError::AccessGainNotAllowed(_)), "{e}");
    assert!(e.to_string().contains("stopped before writing aws-auth"));
    let log = world.log();
    assert_eq!(log, ["run: CreateAccessKey", "undo: DeleteAccessKey"]);
    let report = report_file(&o);
    assert_eq!(report["status"], "failed");
    assert!(
        report["next_command"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("--allow-access-gain {VERIFY_ROLE}")),
        "{report}"
    );
}

#[tokio::test]
async fn stopped_at_the_write_question_undoes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld::default();
    // The plan is confirmed at a terminal, then Ctrl-C at the write question.
    let ui = ConfirmingUi(FakeUi {
        yes: false,
        write_answer: Ok(Consent::Stopped),
        ..FakeUi::default()
    });
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let e = run(&aws, &world, &ui, &t, &options(tmp.path()))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Interrupted), "{e}");
    assert_eq!(
        world.log(),
        ["run: CreateAccessKey", "undo: DeleteAccessKey"]
    );
}

/// A terminal that confirms the plan and answers the later questions as scripted.
struct ConfirmingUi(FakeUi);

impl Ui for ConfirmingUi {
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
    fn confirm(&self, _changes: usize) -> Result<Decision, AppError> {
        Ok(Decision::Apply)
    }
    fn catch_interrupt(&self) -> Interrupt {
        self.0.catch_interrupt()
    }
    fn progress(&self, _m: &str) {}
    fn progress_done(&self) {}
    fn can_ask(&self) -> bool {
        self.0.can_ask()
    }
    fn ask_access_gain_now(&self, gains: &[(String, String)]) -> Result<Consent, AppError> {
        self.0.ask_access_gain_now(gains)
    }
    async fn ask_access_gain(
        &self,
        gains: &[(String, String)],
        i: &Interrupt,
    ) -> Result<Consent, AppError> {
        self.0.ask_access_gain(gains, i).await
    }
    async fn confirm_write(&self, i: &Interrupt) -> Result<Consent, AppError> {
        self.0.confirm_write(i).await
    }
}

#[tokio::test]
async fn dry_run_shows_the_plan_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld::default();
    let ui = FakeUi {
        dry_run: true,
        ..FakeUi::default()
    };
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let mut o = options(tmp.path());
    o.dry_run = true;
    assert!(matches!(
        recover(&aws, &world, &ui, &t, &o).await,
        Ok(Finished::DryRun)
    ));
    assert_eq!(ui.plans.get(), 1);
    assert!(
        ui.text()
            .contains("create a temporary access key for user creator"),
        "{}",
        ui.text()
    );
    assert!(world.log().is_empty());
    assert!(!tmp.path().join("run").exists());
}

#[tokio::test]
async fn a_denied_step_says_what_changed_and_undoes_the_temporary_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld {
        fail_step: Some("WriteConfigMap"),
        ..FakeWorld::default()
    };
    let ui = FakeUi::default();
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let o = options(tmp.path());
    let e = recover(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert!(e.to_string().contains("(denied: WriteConfigMap)"), "{e}");
    assert!(
        e.hint()
            .unwrap_or_default()
            .contains("eks-breakglass cleanup --journal")
    );
    assert_eq!(
        world.log(),
        ["run: CreateAccessKey", "undo: DeleteAccessKey"]
    );
    assert!(ui.text().contains("recover stopped:"));
    assert!(ui.text().contains("  removed again: "));
}

#[tokio::test]
async fn a_verify_as_role_that_is_refused_leaves_the_fix_unverified() {
    let tmp = tempfile::tempdir().unwrap();
    let mut aws = aws();
    aws.assumable.insert(VERIFY_ROLE.into());
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    world.readers.borrow_mut().insert("AKIA-OPERATOR".into());
    let mut t = situation(PathKind::AlreadyIn);
    t.access = CallerAccess::Authenticated {
        username: "oncall".into(),
        groups: vec![],
        can_read_aws_auth: true,
    };
    let mut o = options(tmp.path());
    o.verify_as = vec![VERIFY_ROLE.into()];
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(r.report.status, "restored_unverified");
    assert!(!check(&r, VERIFY_ROLE));
    assert!(r.error.is_some());
    assert_eq!(
        r.report.next_command.as_deref(),
        Some("eks-breakglass diagnose --cluster prod")
    );
}

#[tokio::test]
async fn interrupted_while_verifying_removes_the_temporary_key_and_keeps_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let world = FakeWorld::default();
    let ui = FakeUi::default();
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(&mut t, CREATOR_USER, PrincipalState::Alive, None);
    let o = options(tmp.path());
    // Ctrl-C lands while the run proves access (after the write).
    let world = InterruptAfterWrite {
        inner: world,
        interrupt: ui.interrupt.clone(),
    };
    let e = run(&aws, &world, &ui, &t, &o).await.unwrap_err();
    assert!(matches!(e, AppError::Interrupted), "{e}");
    let log = world.inner.log();
    assert_eq!(
        log,
        [
            "run: CreateAccessKey",
            "run: WriteConfigMap",
            "write aws-auth",
            "undo: DeleteAccessKey"
        ]
    );
    assert!(ui.text().contains("the restored aws-auth stays"));
    assert_eq!(report_file(&o)["status"], "interrupted");
}

/// A cluster whose login check, once aws-auth is written, arrives with Ctrl-C.
struct InterruptAfterWrite {
    inner: FakeWorld,
    interrupt: Interrupt,
}

impl Kube for InterruptAfterWrite {
    async fn read_aws_auth(&self, c: &Credentials) -> Result<Option<LiveAwsAuth>, ReadError> {
        self.inner.read_aws_auth(c).await
    }
    async fn verify(&self, c: &Credentials, t: Duration, i: &Interrupt) -> Verification {
        if self.inner.written.get() {
            self.interrupt.trigger();
        }
        self.inner.verify(c, t, i).await
    }
    fn configmap_json(&self, object: &AwsAuthObject) -> String {
        self.inner.configmap_json(object)
    }
}

impl Session for InterruptAfterWrite {
    type Runner<'r> = FakeRunner<'r>;
    async fn credentials(&self) -> Result<Credentials, AppError> {
        self.inner.credentials().await
    }
    fn region(&self) -> &str {
        self.inner.region()
    }
    fn partition(&self) -> &str {
        self.inner.partition()
    }
    fn profile(&self) -> Option<&str> {
        None
    }
    fn call_counts(&self) -> BTreeMap<String, usize> {
        BTreeMap::new()
    }
    fn runner<'r>(&'r self, dir: PathBuf, interrupt: Interrupt) -> FakeRunner<'r> {
        self.inner.runner(dir, interrupt)
    }
}

#[tokio::test]
async fn a_creator_that_cannot_be_become_or_found_stops_before_the_plan_with_the_access_entry_way()
{
    let tmp = tempfile::tempdir().unwrap();
    let aws = aws();
    let (world, ui) = (FakeWorld::default(), FakeUi::default());
    // The root user created the cluster: no IAM change makes you root.
    let mut t = situation(PathKind::BecomeCreator);
    with_creator(
        &mut t,
        "arn:aws:iam::123456789012:root",
        PrincipalState::Root,
        None,
    );
    let e = recover(&aws, &world, &ui, &t, &options(tmp.path()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot become the creator"), "{e}");
    assert!(e.hint().unwrap_or_default().contains("--via access-entry"));
    // Not found by triage.
    t.creator = CreatorFound::NotFound {
        reason: "no CreateCluster event".into(),
    };
    let e = recover(&aws, &world, &ui, &t, &options(tmp.path()))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("could not be found: no CreateCluster event"),
        "{e}"
    );
    assert_eq!(ui.plans.get(), 0);
    assert!(world.log().is_empty());
}

#[tokio::test]
/// STS refuses AssumeRole of an MFA-only role without a code (AccessDenied; STS API reference,
/// AssumeRoleRequest.TokenCode): refused before any change, naming the flags. (This test said
/// "recovered" before: FakeAws never refused the AssumeRole.) With a code, the session assumed
/// to read aws-auth before the plan is the get-in credential (the code is accepted once).
async fn a_creator_role_that_needs_mfa_is_refused_without_a_code_and_assumed_once_with_one() {
    let tmp = tempfile::tempdir().unwrap();
    let mut aws = aws();
    aws.assumable.insert(CREATOR_ROLE.into());
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
    let e = recover(&aws, &world, &ui, &t, &options(tmp.path()))
        .await
        .unwrap_err();
    assert!(
        e.hint().unwrap_or_default().contains("--mfa-serial"),
        "{e} / {:?}",
        e.hint()
    );
    assert!(world.log().is_empty(), "{:?}", world.log());
    assert!(!tmp.path().join("run").exists());
    assert!(aws.assumed.borrow().is_empty());

    let mut o = options(tmp.path());
    o.mfa = Some(Mfa {
        serial: format!("arn:aws:iam::{ACCOUNT}:mfa/oncall"),
        code: "123456".into(),
    });
    let r = done(recover(&aws, &world, &ui, &t, &o).await);
    assert_eq!(r.report.status, "recovered");
    assert_eq!(
        aws.assumed.borrow().len(),
        1,
        "assumed once, before the plan"
    );
    assert!(
        aws.acquired.borrow().is_empty(),
        "{:?}",
        aws.acquired.borrow()
    );
}

#[tokio::test]
async fn no_automatic_way_in_names_the_ways_there_are() {
    let tmp = tempfile::tempdir().unwrap();
    let (aws, world, ui) = (aws(), FakeWorld::default(), FakeUi::default());
    let mut t = situation(PathKind::Manual);
    t.paths[0].automatic = false;
    let e = recover(&aws, &world, &ui, &t, &options(tmp.path()))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("recover cannot get into prod"),
        "{e}"
    );
    assert!(
        e.hint()
            .unwrap_or_default()
            .contains("Manual — eks-breakglass")
    );
    assert!(world.log().is_empty());
}

#[test]
fn the_continue_command_repeats_the_flags_that_matter() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(tmp.path());
    o.profile = Some("oncall".into());
    o.via = Some("access-entry");
    o.verify_as = vec![VERIFY_ROLE.into()];
    o.force = true;
    o.tunnel.api_server = Some("https://127.0.0.1:8443".into());
    let p = path(PathKind::AccessEntry, Some(MODE_CONSENT));
    assert_eq!(
        continue_command(&o, Some(&p)),
        format!(
            "eks-breakglass recover --cluster prod --profile oncall --via access-entry {MODE_CONSENT} --verify-as {VERIFY_ROLE} --force --api-server https://127.0.0.1:8443"
        )
    );
}

#[test]
fn map_admin_takes_me_roles_and_users_only() {
    assert!(check_map_admin(&["me".into(), VERIFY_ROLE.into(), OPERATOR.into()]).is_ok());
    let e = check_map_admin(&["arn:aws:s3:::bucket".into()]).unwrap_err();
    assert!(e.to_string().contains("not an IAM role or user ARN"));
}
mod review_s3;
