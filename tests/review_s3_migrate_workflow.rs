//! Review (session 3, issue 17 item 1): `workflow::migrate::prepare` with an in-memory world
//! (IAM by name, as the adapter asks it). Each test here failed on the reviewed code.

use eks_breakglass::awsauth::NodeRoleFact;
use eks_breakglass::ports::migrate::{
    AwsAuthView, ClusterView, Login, LoginAs, MigrateWorld, PortError, PrincipalKind,
};
use eks_breakglass::recovery::migrate::{LiveEntry, Outcome, admin_policy};
use eks_breakglass::recovery::plan::Action;
use eks_breakglass::workflow::migrate::{MigrateOptions, prepare};
use std::collections::BTreeMap;

const LOCAL: &str = "111122223333";

/// IAM of the operator's account (LOCAL) only, as GetRole/GetUser answer it: by name.
struct Fake {
    roles: &'static str,
    users: &'static str,
    iam: BTreeMap<String, String>,
}

impl MigrateWorld for Fake {
    async fn cluster(&self) -> Result<ClusterView, PortError> {
        Ok(ClusterView {
            name: "prod".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            auth_mode: "CONFIG_MAP".into(),
            caller_arn: format!("arn:aws:iam::{LOCAL}:user/oncall"),
        })
    }
    async fn aws_auth(&self) -> Result<Option<AwsAuthView>, PortError> {
        let mut data = BTreeMap::new();
        if !self.roles.is_empty() {
            data.insert("mapRoles".to_string(), self.roles.to_string());
        }
        if !self.users.is_empty() {
            data.insert("mapUsers".to_string(), self.users.to_string());
        }
        Ok(Some(AwsAuthView {
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
        Ok(self.iam.get(&format!("{k}:{name}")).cloned())
    }
    async fn node_roles(&self) -> Result<Vec<NodeRoleFact>, PortError> {
        Ok(Vec::new())
    }
    async fn access_entries(&self) -> Result<Vec<LiveEntry>, PortError> {
        Err(PortError::new("CONFIG_MAP: no access entries API"))
    }
    async fn login<F: Fn(&Login) -> bool>(&self, _who: &LoginAs, _settled: F) -> Login {
        Login::Refused
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// aws-auth maps a role of ANOTHER account (999999999999) as system:masters. The operator's
/// account happens to have a role of the same name, which aws-auth does not map at all. The
/// adapter resolves a path-less role by its NAME in the operator's account, so the translation
/// makes the LOCAL role cluster admin — access aws-auth never gave it, with no consent asked —
/// while the cross-account role, which does get in today, gets no entry.
#[test]
fn review_cross_account_role_is_not_resolved_to_the_local_role_of_the_same_name() {
    let foreign = "arn:aws:iam::999999999999:role/admin";
    let local = format!("arn:aws:iam::{LOCAL}:role/admin");
    let w = Fake {
        roles: "- rolearn: arn:aws:iam::999999999999:role/admin\n  username: central-admin:{{SessionName}}\n  groups: [system:masters]\n",
        users: "",
        iam: BTreeMap::from([("role:admin".to_string(), local.clone())]),
    };
    let o = MigrateOptions {
        mode_consent: vec!["API_AND_CONFIG_MAP".into()],
        ..Default::default()
    };
    let p = rt().block_on(prepare(&w, &o)).unwrap();
    let local_admin = p.plan.steps.iter().any(|s| {
        matches!(&s.action, Action::AssociateAccessPolicy { principal_arn, policy_arn, .. }
            if *principal_arn == local && *policy_arn == admin_policy("aws"))
    });
    let local_entry = p.plan.steps.iter().any(|s| {
        matches!(&s.action, Action::CreateTypedAccessEntry { principal_arn, .. } if *principal_arn == local)
    });
    assert!(
        !local_entry && !local_admin,
        "aws-auth maps {foreign}; the plan gives {local} (never mapped) an entry (cluster admin: {local_admin}), refusals {:?}:\n{}",
        p.refusals,
        p.translation.render()
    );
}

/// aws-auth names a user without the path IAM has (user/alice vs user/team/dev/alice): that
/// line never matched (an IAM user's STS ARN carries its path), so no entry is right — but the
/// reason printed must not say IAM has no such user: it has, under a path.
#[test]
fn review_user_path_mismatch_is_not_reported_as_no_such_user() {
    let w = Fake {
        roles: "",
        users: "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [viewers]\n",
        iam: BTreeMap::from([(
            "user:alice".to_string(),
            format!("arn:aws:iam::{LOCAL}:user/team/dev/alice"),
        )]),
    };
    let p = rt()
        .block_on(prepare(&w, &MigrateOptions::default()))
        .unwrap();
    let row = &p.translation.rows[0];
    assert!(matches!(row.outcome, Outcome::NotTranslated), "{row:?}");
    let why = row.reason.clone().unwrap_or_default();
    assert!(
        !why.contains("NoSuchEntity") && why.contains("team/dev"),
        "IAM has user/team/dev/alice; the table says: {why}"
    );
}
