use super::*;
use crate::awsauth::{NodeRoleFact, NodeRoleKind};
use crate::ports::migrate::AwsAuthView;
use std::cell::RefCell;
use std::collections::BTreeMap;

const A: &str = "111122223333";

fn arn(r: &str) -> String {
    format!("arn:aws:iam::{A}:{r}")
}

/// An in-memory world: IAM principals by name, aws-auth, entries, and login answers.
struct Fake {
    mode: String,
    caller: String,
    aws_auth: Option<BTreeMap<String, String>>,
    iam: BTreeMap<String, String>,
    nodes: Vec<NodeRoleFact>,
    entries: Vec<LiveEntry>,
    logins: BTreeMap<String, Login>,
    /// What a login answers first (aws-auth, before the entry takes effect).
    early: BTreeMap<String, Login>,
    /// Whether the login waits (true) or the wait already ran out (false).
    waits: bool,
    asked: RefCell<Vec<String>>,
}

impl Fake {
    fn new(mode: &str, roles: &str) -> Fake {
        let mut iam = BTreeMap::new();
        for r in ["admin", "dev", "mng", "creator"] {
            iam.insert(format!("role:{r}"), arn(&format!("role/{r}")));
        }
        iam.insert(
            "role:AWSReservedSSO_Dev_0123456789abcdef".into(),
            arn("role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef"),
        );
        iam.insert("role:ops".into(), arn("role/team/ops"));
        Fake {
            mode: mode.into(),
            caller: arn("user/oncall"),
            aws_auth: Some(BTreeMap::from([(
                "mapRoles".to_string(),
                roles.to_string(),
            )])),
            iam,
            nodes: vec![NodeRoleFact {
                arn: arn("role/mng"),
                kind: NodeRoleKind::Ec2Linux,
                source: "node group general".into(),
            }],
            entries: Vec::new(),
            logins: BTreeMap::new(),
            early: BTreeMap::new(),
            waits: true,
            asked: RefCell::new(Vec::new()),
        }
    }
}

impl MigrateWorld for Fake {
    async fn cluster(&self) -> Result<ClusterView, PortError> {
        Ok(ClusterView {
            name: "prod".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            auth_mode: self.mode.clone(),
            caller_arn: self.caller.clone(),
        })
    }
    async fn aws_auth(&self) -> Result<Option<AwsAuthView>, PortError> {
        Ok(self.aws_auth.clone().map(|data| AwsAuthView {
            data,
            resource_version: Some("1".into()),
        }))
    }
    async fn principal_arn(
        &self,
        kind: PrincipalKind,
        name: &str,
    ) -> Result<Option<String>, PortError> {
        let k = match kind {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
        };
        self.asked.borrow_mut().push(format!("{k}:{name}"));
        Ok(self.iam.get(&format!("{k}:{name}")).cloned())
    }
    async fn node_roles(&self) -> Result<Vec<NodeRoleFact>, PortError> {
        Ok(self.nodes.clone())
    }
    async fn access_entries(&self) -> Result<Vec<LiveEntry>, PortError> {
        if self.mode == "CONFIG_MAP" {
            // As EKS answers: no access entries API in CONFIG_MAP.
            return Err(PortError::new(
                "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
            ));
        }
        Ok(self.entries.clone())
    }
    async fn login<F: Fn(&Login) -> bool>(&self, who: &LoginAs, settled: F) -> Login {
        let key = match who {
            LoginAs::Operator => "operator".to_string(),
            LoginAs::Role(r) => r.clone(),
        };
        // The first answer (aws-auth's, while the entry propagates) when there is one that
        // `settled` refuses, then the entry's.
        if let Some(early) = self.early.get(&key)
            && !settled(early)
            && self.waits
        {
            return self.logins.get(&key).cloned().unwrap_or(Login::Refused);
        }
        if let Some(early) = self.early.get(&key) {
            return early.clone();
        }
        self.logins.get(&key).cloned().unwrap_or(Login::Refused)
    }
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn roles() -> String {
    format!(
        "- rolearn: {}\n  username: admin\n  groups: [system:masters]\n\
         - rolearn: {}\n  username: \"dev:{{{{SessionName}}}}\"\n  groups: [developers]\n\
         - rolearn: {}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups: [system:bootstrappers, system:nodes]\n",
        arn("role/admin"),
        arn("role/AWSReservedSSO_Dev_0123456789abcdef"),
        arn("role/mng"),
    )
}

fn opts(consent: &[&str]) -> MigrateOptions {
    MigrateOptions {
        mode_consent: consent.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn config_map_cluster_needs_the_consent_naming_the_mode_and_lists_no_entries() {
    let w = Fake::new("CONFIG_MAP", &roles());
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    assert_eq!(
        p.refusals,
        vec![Refusal::ModeConsent {
            mode: "API_AND_CONFIG_MAP".into()
        }]
    );
    assert!(!p.translation.entries_known);
    // A consent naming the other mode is no consent.
    let p = run(prepare(&w, &opts(&["API"]))).expect("prepare");
    assert_eq!(p.refusals.len(), 1);
    let p = run(prepare(&w, &opts(&["API_AND_CONFIG_MAP"]))).expect("prepare");
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
    assert_eq!(p.plan.steps.len(), 5, "{}", p.plan.render());
    // The SSO role was resolved by name through IAM, to its aws-reserved path.
    assert!(
        w.asked
            .borrow()
            .contains(&"role:AWSReservedSSO_Dev_0123456789abcdef".to_string())
    );
    assert!(
        p.plan
            .render()
            .contains("role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev")
    );
}

#[test]
fn a_role_written_with_a_path_iam_does_not_have_is_not_translated() {
    // aws-auth says role/other/ops; IAM's ops role lives under /team/.
    let w = Fake::new(
        "API_AND_CONFIG_MAP",
        &format!(
            "- rolearn: {}\n  username: ops\n  groups: [system:masters]\n",
            arn("role/other/ops")
        ),
    );
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    assert!(matches!(
        p.translation.rows[0].outcome,
        crate::recovery::migrate::Outcome::NotTranslated
    ));
    assert!(p.plan.steps.is_empty());
    // Written with the path IAM has: an access gain (aws-auth never matched it).
    let w = Fake::new(
        "API_AND_CONFIG_MAP",
        &format!(
            "- rolearn: {}\n  username: ops\n  groups: [system:masters]\n",
            arn("role/team/ops")
        ),
    );
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    assert!(
        matches!(&p.refusals[..], [Refusal::AccessGain { gains }] if gains[0].0 == arn("role/team/ops"))
    );
    let mut o = opts(&[]);
    o.allow_access_gain = vec![arn("role/team/ops")];
    let p = run(prepare(&w, &o)).expect("prepare");
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
}

#[test]
fn the_api_switch_needs_stage_one_every_entry_and_its_own_consent() {
    let w = Fake::new("CONFIG_MAP", &roles());
    let mut o = opts(&["API"]);
    o.switch_to_api = true;
    let p = run(prepare(&w, &o)).expect("prepare");
    assert!(
        p.refusals.contains(&Refusal::StageOneFirst),
        "{:?}",
        p.refusals
    );

    let mut w = Fake::new("API_AND_CONFIG_MAP", &roles());
    let p = run(prepare(&w, &o)).expect("prepare");
    let Some(Refusal::WouldLoseAccess { identities }) = p.refusals.first() else {
        panic!("{:?}", p.refusals)
    };
    assert_eq!(identities.len(), 3, "{identities:?}");

    w.entries = vec![
        LiveEntry {
            principal_arn: arn("role/admin"),
            entry_type: "STANDARD".into(),
            username: Some("admin".into()),
            groups: vec![],
            policies: vec![crate::recovery::migrate::admin_policy("aws")],
        },
        LiveEntry {
            principal_arn: arn(
                "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef",
            ),
            entry_type: "STANDARD".into(),
            username: Some("dev:{{SessionName}}".into()),
            groups: vec!["developers".into()],
            policies: vec![],
        },
        LiveEntry {
            principal_arn: arn("role/mng"),
            entry_type: "EC2_LINUX".into(),
            username: Some("system:node:{{EC2PrivateDNSName}}".into()),
            groups: vec!["system:nodes".into()],
            policies: vec![],
        },
    ];
    let p = run(prepare(&w, &o)).expect("prepare");
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
    assert!(
        p.checks.iter().all(|c| c.check == Check::Same),
        "{:?}",
        p.checks
    );
    assert_eq!(p.plan.consents(), vec!["--allow-auth-mode-change API"]);
    // Without the consent naming API: refused.
    o.mode_consent = vec!["API_AND_CONFIG_MAP".into()];
    let p = run(prepare(&w, &o)).expect("prepare");
    assert_eq!(
        p.refusals,
        vec![Refusal::ModeConsent { mode: "API".into() }]
    );
}

#[test]
fn verification_logs_in_and_judges_against_the_translation() {
    let mut w = Fake::new("API_AND_CONFIG_MAP", &roles());
    w.caller = format!("arn:aws:sts::{A}:assumed-role/admin/oncall");
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    // The operator is the admin role: it must come out as cluster admin.
    w.logins.insert(
        "operator".into(),
        Login::In {
            username: "admin".into(),
            groups: vec!["system:authenticated".into()],
            admin: false,
        },
    );
    let sso = arn("role/AWSReservedSSO_Dev_0123456789abcdef");
    w.logins.insert(
        sso.clone(),
        Login::In {
            username: "dev:eks-breakglass-migrate-verify".into(),
            groups: vec!["developers".into(), "system:authenticated".into()],
            admin: false,
        },
    );
    let o = MigrateOptions {
        verify_as: vec![sso.clone()],
        ..Default::default()
    };
    let r = run(verify(&w, &p, &o)).expect("verify");
    assert!(!r.logins[0].ok, "{:?}", r.logins[0]);
    assert!(
        r.logins[0].detail.contains("not cluster admin"),
        "{}",
        r.logins[0].detail
    );
    assert!(r.logins[1].ok, "{:?}", r.logins[1]);
    assert!(!r.ok(), "entries missing and a login short of admin");
    assert!(r.checks.iter().all(|c| c.check == Check::Missing));

    w.logins.insert(
        "operator".into(),
        Login::In {
            username: "admin".into(),
            groups: vec!["system:authenticated".into()],
            admin: true,
        },
    );
    let r = run(verify(&w, &p, &o)).expect("verify");
    assert!(r.logins.iter().all(|l| l.ok), "{:?}", r.logins);
    // A refused login is a failure whatever the translation says.
    w.logins.remove(&sso);
    let r = run(verify(&w, &p, &o)).expect("verify");
    assert!(r.logins[1].detail.contains("refused"), "{:?}", r.logins[1]);
}

#[test]
fn no_aws_auth_and_api_mode_are_refused() {
    let mut w = Fake::new("API_AND_CONFIG_MAP", "");
    w.aws_auth = None;
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    assert_eq!(p.refusals, vec![Refusal::NoAwsAuth]);
    let w = Fake::new("API", &roles());
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    assert!(p.refusals.contains(&Refusal::AlreadyApi));
}

#[test]
fn a_login_aws_auth_answered_does_not_prove_the_entry() {
    let mut w = Fake::new("API_AND_CONFIG_MAP", &roles());
    w.caller = format!("arn:aws:sts::{A}:assumed-role/admin/oncall");
    let p = run(prepare(&w, &opts(&[]))).expect("prepare");
    // aws-auth answers first (system:masters: no entry can give that group), then the entry.
    w.early.insert(
        "operator".into(),
        Login::In {
            username: "admin".into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
            admin: true,
        },
    );
    w.logins.insert(
        "operator".into(),
        Login::In {
            username: "admin".into(),
            groups: vec!["system:authenticated".into()],
            admin: true,
        },
    );
    let r = run(verify(&w, &p, &MigrateOptions::default())).expect("verify");
    assert!(
        r.logins[0].ok,
        "waited for the entry's answer: {:?}",
        r.logins[0]
    );
    // The wait ran out with aws-auth still answering: not proven.
    w.waits = false;
    let r = run(verify(&w, &p, &MigrateOptions::default())).expect("verify");
    assert!(!r.logins[0].ok, "{:?}", r.logins[0]);
    assert!(
        r.logins[0].detail.contains("only aws-auth gives"),
        "{}",
        r.logins[0].detail
    );
}

#[test]
fn the_api_switch_names_each_loss_and_needs_a_consent_naming_it_or_force() {
    // ops keeps its entry but loses the username system:ops (EKS refuses it in an entry).
    let roles = format!(
        "- rolearn: {}\n  username: system:ops\n  groups: [ops]\n",
        arn("role/admin")
    );
    let mut w = Fake::new("API_AND_CONFIG_MAP", &roles);
    w.entries = vec![LiveEntry {
        principal_arn: arn("role/admin"),
        entry_type: "STANDARD".into(),
        username: Some(m::default_username(&arn("role/admin"))),
        groups: vec!["ops".into()],
        policies: vec![],
    }];
    let mut o = opts(&["API"]);
    o.switch_to_api = true;
    let p = run(prepare(&w, &o)).expect("prepare");
    let Some(Refusal::AccessLoss { losses }) = p.refusals.first() else {
        panic!("a loss needs its own consent: {:?}", p.refusals)
    };
    assert_eq!(losses[0].0, arn("role/admin"));
    assert!(losses[0].1.contains("system:ops"), "{losses:?}");
    assert!(
        p.plan.notes.iter().any(|n| n.contains("system:ops")),
        "{:?}",
        p.plan.notes
    );
    let hint = p.refusals[0].describe("prod").1;
    assert!(
        hint.contains(&format!("--allow-access-loss {}", arn("role/admin"))),
        "{hint}"
    );

    o.allow_access_loss = vec![arn("role/admin")];
    let p = run(prepare(&w, &o)).expect("prepare");
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);

    o.allow_access_loss.clear();
    o.force = true;
    let p = run(prepare(&w, &o)).expect("prepare");
    assert!(p.refusals.is_empty(), "{:?}", p.refusals);
}
