//! The fleet audit's decisions for one cluster against an in-memory fake of its port: which
//! failures end a cluster's audit, what IAM's answer about the creator means, when the deep
//! search runs, and the access-entry findings. No AWS.

use super::*;
use crate::cluster::{AuthMode, ClusterFacts};
use crate::ports::error::AwsErrorKind;
use crate::recovery::access_entries::{EntryState, EntryView, JudgedEntry};
use crate::recovery::audit::Path;
use crate::recovery::creator::CreatorReport;
use crate::recovery::principal::IamUserRecord;
use std::cell::Cell;
use std::collections::BTreeMap;

const ACCOUNT: &str = "111122223333";
const BG: &str = "arn:aws:iam::111122223333:role/breakglass";

fn facts(mode: AuthMode, creator: Option<&str>) -> ClusterFacts {
    let mut tags = BTreeMap::new();
    if let Some(c) = creator {
        tags.insert("eks-breakglass/creator-arn".to_string(), c.to_string());
        tags.insert(
            "eks-breakglass/creator-id".to_string(),
            "AIDAALICE".to_string(),
        );
    }
    ClusterFacts {
        name: "prod".into(),
        arn: format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"),
        region: "eu-west-1".into(),
        status: Some("ACTIVE".into()),
        version: Some("1.29".into()),
        platform_version: None,
        created_at: None,
        endpoint: Some("https://ABCD.gr7.eu-west-1.eks.amazonaws.com".into()),
        ca_pem: None,
        endpoint_public_access: Some(true),
        endpoint_private_access: Some(false),
        auth_mode: Some(mode),
        bootstrap_creator_admin: Some(true),
        tags,
    }
}

struct Fake {
    facts: ClusterFacts,
    /// GetUser's answer for alice (None: deleted) and her key count.
    alice: Option<(String, usize)>,
    iam_calls: Cell<usize>,
    searches: Cell<usize>,
    entry: bool,
    policies: Result<Vec<String>, AwsErrorKind>,
    entries: Result<Vec<JudgedEntry>, AwsErrorKind>,
    entries_calls: Cell<usize>,
}

impl Fake {
    fn new(mode: AuthMode) -> Fake {
        Fake {
            facts: facts(mode, Some(&format!("arn:aws:iam::{ACCOUNT}:user/alice"))),
            alice: Some(("AIDAALICE".into(), 1)),
            iam_calls: Cell::new(0),
            searches: Cell::new(0),
            entry: true,
            policies: Ok(vec![
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
            ]),
            entries: Ok(Vec::new()),
            entries_calls: Cell::new(0),
        }
    }
}

fn err(kind: AwsErrorKind, action: &'static str) -> AwsError {
    AwsError::new(action, kind, "refused")
}

impl AuditSources for Fake {
    fn account(&self) -> &str {
        ACCOUNT
    }
    fn partition(&self) -> &str {
        "aws"
    }
    async fn describe_cluster(&self, _name: &str) -> Result<ClusterFacts, AwsError> {
        Ok(self.facts.clone())
    }
    async fn iam_principal(&self, user: bool, name: &str) -> IamAnswer {
        self.iam_calls.set(self.iam_calls.get() + 1);
        assert!(user && name == "alice", "{user} {name}");
        IamAnswer::User {
            user: self.alice.as_ref().map(|(id, _)| IamUserRecord {
                arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
                user_id: id.clone(),
                name: "alice".into(),
                path: "/".into(),
                created: None,
            }),
            keys: self.alice.as_ref().map(|(_, k)| *k),
        }
    }
    async fn find_creator(&self, _facts: &ClusterFacts) -> Result<CreatorReport, AwsError> {
        self.searches.set(self.searches.get() + 1);
        Err(err(AwsErrorKind::BadCredentials, "cloudtrail:LookupEvents"))
    }
    async fn has_access_entry(&self, _c: &str, arn: &str) -> Result<bool, AwsError> {
        assert_eq!(arn, BG);
        Ok(self.entry)
    }
    async fn associated_policies(&self, _c: &str, _arn: &str) -> Result<Vec<String>, AwsError> {
        self.policies
            .clone()
            .map_err(|k| err(k, "eks:ListAssociatedAccessPolicies"))
    }
    async fn aws_auth(&self, _facts: &ClusterFacts) -> Result<Option<AwsAuthDocument>, String> {
        Ok(None)
    }
    async fn judged_entries(&self, _facts: &ClusterFacts) -> Result<Vec<JudgedEntry>, AwsError> {
        self.entries_calls.set(self.entries_calls.get() + 1);
        self.entries
            .clone()
            .map_err(|k| err(k, "eks:ListAccessEntries"))
    }
    async fn offered_policies(&self) -> Option<Vec<String>> {
        None
    }
}

use crate::awsauth::AwsAuthDocument;

fn opts() -> AuditOptions {
    AuditOptions {
        deep_search: false,
        aws_auth: false,
        breakglass: Some("breakglass".into()),
        entries: false,
    }
}

#[test]
fn breakglass_names_become_account_arns() {
    assert_eq!(
        breakglass_arn("breakglass/eks-admin", "aws", "111122223333"),
        "arn:aws:iam::111122223333:role/breakglass/eks-admin"
    );
    assert_eq!(
        breakglass_arn("arn:aws:iam::1:role/x", "aws", "2"),
        "arn:aws:iam::1:role/x"
    );
}

#[tokio::test]
async fn an_admin_breakglass_entry_is_the_way_in() {
    let f = Fake::new(AuthMode::ApiAndConfigMap);
    let a = assess_cluster(&f, "prod", &opts()).await.unwrap();
    assert_eq!(a.path, Path::AccessEntry);
    assert!(!a.flagged);
    assert_eq!(
        f.entries_calls.get(),
        0,
        "entries are judged only with --entries"
    );
}

#[tokio::test]
async fn expired_credentials_end_the_cluster_a_refusal_does_not() {
    let mut f = Fake::new(AuthMode::ApiAndConfigMap);
    f.policies = Err(AwsErrorKind::BadCredentials);
    let e = assess_cluster(&f, "prod", &opts()).await.unwrap_err();
    assert!(fatal(&e));
    f.policies = Err(AwsErrorKind::AccessDenied);
    let o = observe(&f, "prod", &opts()).await.unwrap();
    assert!(
        matches!(&o.breakglass, BreakglassObservation::Error { error, .. } if error.contains("ListAssociatedAccessPolicies")),
        "{:?}",
        o.breakglass
    );
}

#[tokio::test]
async fn the_creator_is_judged_from_iam() {
    // Alive, same unique id, one key: a key can be added.
    let f = Fake::new(AuthMode::ConfigMap);
    let o = observe(&f, "prod", &opts()).await.unwrap();
    match &o.creator {
        CreatorObservation::Known {
            state, can_add_key, ..
        } => {
            assert_eq!(*state, Some(PrincipalState::Alive));
            assert_eq!(*can_add_key, Some(true));
        }
        other => panic!("{other:?}"),
    }
    // Two keys: none can be added. Recreated (another unique id): not the creator.
    let mut f = Fake::new(AuthMode::ConfigMap);
    f.alice = Some(("AIDANEW".into(), 2));
    let o = observe(&f, "prod", &opts()).await.unwrap();
    match &o.creator {
        CreatorObservation::Known {
            state, can_add_key, ..
        } => {
            assert_ne!(*state, Some(PrincipalState::Alive));
            assert_eq!(*can_add_key, Some(false));
        }
        other => panic!("{other:?}"),
    }
    // Deleted.
    let mut f = Fake::new(AuthMode::ConfigMap);
    f.alice = None;
    let o = observe(&f, "prod", &opts()).await.unwrap();
    assert!(matches!(
        &o.creator,
        CreatorObservation::Known {
            state: Some(PrincipalState::Deleted),
            ..
        }
    ));
}

#[tokio::test]
async fn a_creator_of_another_account_is_not_checked_from_this_one() {
    let mut f = Fake::new(AuthMode::ConfigMap);
    f.facts = facts(
        AuthMode::ConfigMap,
        Some("arn:aws:iam::999999999999:user/alice"),
    );
    let o = observe(&f, "prod", &opts()).await.unwrap();
    assert_eq!(f.iam_calls.get(), 0);
    assert!(matches!(
        &o.creator,
        CreatorObservation::Known { state: None, detail: Some(d), .. } if d.contains("999999999999")
    ));
}

#[tokio::test]
async fn the_deep_search_runs_only_when_asked_and_its_credential_failure_ends_the_cluster() {
    let mut f = Fake::new(AuthMode::ConfigMap);
    f.facts = facts(AuthMode::ConfigMap, None);
    let o = observe(&f, "prod", &opts()).await.unwrap();
    assert!(matches!(o.creator, CreatorObservation::NotRecorded));
    assert_eq!(f.searches.get(), 0);
    let deep = AuditOptions {
        deep_search: true,
        ..opts()
    };
    assert!(observe(&f, "prod", &deep).await.is_err());
    assert_eq!(f.searches.get(), 1);
}

#[tokio::test]
async fn config_map_clusters_get_their_entry_finding_without_a_call() {
    let f = Fake::new(AuthMode::ConfigMap);
    let o = observe(&f, "prod", &opts()).await.unwrap();
    let entries = AuditOptions {
        entries: true,
        ..opts()
    };
    let (found, stale) = entry_findings(&f, &o, &entries).await;
    assert!(
        found.iter().any(|x| x.code == "config-map-only"),
        "{found:?}"
    );
    assert!(!stale);
    assert_eq!(f.entries_calls.get(), 0);
}

#[tokio::test]
async fn unreadable_entries_are_a_finding_and_a_stale_breakglass_entry_is_no_way_in() {
    let entries = AuditOptions {
        entries: true,
        ..opts()
    };
    let mut f = Fake::new(AuthMode::ApiAndConfigMap);
    f.entries = Err(AwsErrorKind::AccessDenied);
    let a = assess_cluster(&f, "prod", &entries).await.unwrap();
    assert!(
        a.findings
            .iter()
            .any(|x| x.code == "access-entries-unreadable"),
        "{:?}",
        a.findings
    );
    let mut f = Fake::new(AuthMode::ApiAndConfigMap);
    f.entries = Ok(vec![JudgedEntry {
        entry: EntryView {
            principal_arn: BG.into(),
            entry_type: "STANDARD".into(),
            username: None,
            kubernetes_groups: vec![],
            created_at: None,
            entry_arn: None,
            policies: vec![],
        },
        state: EntryState::Stale {
            cause: "the role was recreated".into(),
        },
        aws_managed: None,
    }]);
    let a = assess_cluster(&f, "prod", &entries).await.unwrap();
    assert_eq!(a.breakglass_entry, "stale");
    assert_ne!(a.path, Path::AccessEntry);
}
