//! The creator search against an in-memory world (no AWS).

use super::*;
use crate::cluster::AuthMode;
use crate::ports::error::AwsErrorKind;
use crate::recovery::event;
use crate::recovery::event::{CreatorKind, MatchQuality, Tool};
use crate::recovery::principal::PrincipalState;
use crate::recovery::principal::{AccessKeyInfo, IamRoleRecord, IamUserRecord};
use crate::recovery::trust::{Caller, TrustDecision};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::recovery::event::fixtures::{self, ACCOUNT};
use serde_json::json;
use std::collections::HashMap;

/// An in-memory AWS: CloudTrail history with LookupEvents' window and paging semantics, a
/// trail in S3, access entries, IAM principals, and refusals.
#[derive(Default)]
struct World {
    history: Vec<Value>,
    lookups: u32,
    deny: Vec<&'static str>,
    fatal: bool,
    trail: Option<TrailScan>,
    entries: Vec<AccessEntryRecord>,
    users: HashMap<String, IamUserRecord>,
    roles: HashMap<String, IamRoleRecord>,
    keys: HashMap<String, Vec<AccessKeyInfo>>,
}

fn denied(action: &str) -> AwsError {
    AwsError::new(action, AwsErrorKind::AccessDenied, "not authorized")
}

impl World {
    fn check(&self, action: &'static str) -> Result<(), AwsError> {
        if self.fatal {
            return Err(AwsError::new(
                action,
                AwsErrorKind::BadCredentials,
                "expired",
            ));
        }
        if self.deny.contains(&action) {
            return Err(denied(action));
        }
        Ok(())
    }
}

impl CreatorSources for World {
    async fn lookup_create_cluster(
        &mut self,
        w: Window,
        next_token: Option<String>,
    ) -> Result<LookupPage, AwsError> {
        self.lookups += 1;
        self.check("cloudtrail:LookupEvents")?;
        let mut hits: Vec<&Value> = self
            .history
            .iter()
            .filter(|r| r["eventName"] == "CreateCluster")
            .filter(|r| {
                r.get("eventTime")
                    .and_then(event::parse_time)
                    .is_some_and(|t| t >= w.start && t <= w.end)
            })
            .collect();
        hits.sort_by_key(|r| std::cmp::Reverse(r["eventTime"].as_str().map(str::to_string)));
        let from: usize = next_token.map(|t| t.parse().unwrap()).unwrap_or(0);
        let page: Vec<Value> = hits
            .iter()
            .skip(from)
            .take(50)
            .map(|v| (*v).clone())
            .collect();
        let next = (from + 50 < hits.len()).then(|| (from + 50).to_string());
        Ok(LookupPage {
            records: page,
            next_token: next,
            requests: 1,
            ..LookupPage::default()
        })
    }

    async fn trail_records(
        &mut self,
        _bucket: Option<&str>,
        _account: &str,
        _region: &str,
        _cluster: &str,
        _created_at: DateTime<Utc>,
    ) -> Result<TrailScan, AwsError> {
        self.check("s3:ListBucket")?;
        Ok(self.trail.clone().unwrap_or(TrailScan::NoTrail {
            detail: "no trail delivers to S3".into(),
        }))
    }

    async fn access_entries(&mut self, _c: &str) -> Result<Vec<AccessEntryRecord>, AwsError> {
        self.check("eks:ListAccessEntries")?;
        Ok(self.entries.clone())
    }

    async fn get_user(&mut self, name: &str) -> Result<Option<IamUserRecord>, AwsError> {
        self.check("iam:GetUser")?;
        Ok(self.users.get(name).cloned())
    }

    async fn get_role(&mut self, name: &str) -> Result<Option<IamRoleRecord>, AwsError> {
        self.check("iam:GetRole")?;
        Ok(self.roles.get(name).cloned())
    }

    async fn list_access_keys(&mut self, user: &str) -> Result<Vec<AccessKeyInfo>, AwsError> {
        self.check("iam:ListAccessKeys")?;
        Ok(self.keys.get(user).cloned().unwrap_or_default())
    }

    async fn list_mfa_devices(&mut self, _user: &str) -> Result<Vec<String>, AwsError> {
        self.check("iam:ListMFADevices")?;
        Ok(Vec::new())
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T21:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn facts(created: DateTime<Utc>) -> ClusterFacts {
    ClusterFacts {
        name: "prod".into(),
        arn: format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"),
        region: "eu-west-1".into(),
        status: Some("ACTIVE".into()),
        version: Some("1.29".into()),
        platform_version: None,
        created_at: Some(created),
        endpoint: None,
        ca_pem: None,
        endpoint_public_access: Some(true),
        endpoint_private_access: Some(false),
        auth_mode: Some(AuthMode::ApiAndConfigMap),
        bootstrap_creator_admin: Some(true),
        tags: BTreeMap::new(),
    }
}

fn admin_entry(principal: &str, created: DateTime<Utc>) -> AccessEntryRecord {
    AccessEntryRecord {
        principal_arn: principal.into(),
        created_at: Some(created),
        entry_type: Some("STANDARD".into()),
        policies: vec![format!(
            "arn:aws:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}"
        )],
    }
}

/// On API* clusters the creator's admin is its access entry: without it, becoming the
/// creator gets nobody in, and the verdict says so instead of proposing it.
#[tokio::test]
async fn a_creator_without_its_access_entry_is_not_proposed() {
    let created = now() - TimeDelta::days(3);
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let mut w = World::default();
    w.history.push(create(
        fixtures::iam_user("alice", "AIDAALICE"),
        "prod",
        created,
    ));
    w.users.insert("alice".into(), user("alice", "AIDAALICE"));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(r.creator_entry.as_ref().unwrap().exists, Some(false));
    assert_eq!(r.verdict.outcome, Outcome::Unusable);
    assert!(
        r.verdict.reason.contains("no access entry"),
        "{}",
        r.verdict.reason
    );
    assert!(r.verdict.next_command.as_deref().unwrap().contains("grant"));
    // With the entry: usable.
    w.entries.push(admin_entry(&alice, created));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(r.creator_entry.as_ref().unwrap().exists, Some(true));
    assert_eq!(r.verdict.outcome, Outcome::Usable);
    // CONFIG_MAP: the implicit admin, no entry to look for.
    w.entries.clear();
    let mut f = facts(created);
    f.auth_mode = Some(AuthMode::ConfigMap);
    let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
    assert!(r.creator_entry.is_none());
    assert_eq!(r.verdict.outcome, Outcome::Usable);
}

fn caller() -> Caller {
    Caller {
        arn: format!("arn:aws:iam::{ACCOUNT}:user/oncall"),
        account: ACCOUNT.into(),
        user_id: "AIDAONCALL".into(),
    }
}

fn opts() -> FindOptions {
    FindOptions {
        trail_bucket: None,
        caller: Some(caller()),
        check_status: true,
        now: now(),
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn create(ui: Value, name: &str, t: DateTime<Utc>) -> Value {
    fixtures::record(ui, name, &iso(t), Some(t.timestamp() as f64))
}

fn user(name: &str, id: &str) -> IamUserRecord {
    IamUserRecord {
        arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        user_id: id.into(),
        name: name.into(),
        path: "/".into(),
        created: None,
    }
}

/// Background noise: other services' CreateCluster and other clusters, every 10 minutes.
fn noise(around: DateTime<Utc>, n: i64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let t = around - TimeDelta::minutes(10 * i);
            let mut r = create(fixtures::iam_user("ci", "AIDACI"), &format!("ecs-{i}"), t);
            r["eventSource"] = json!(if i % 2 == 0 {
                "ecs.amazonaws.com"
            } else {
                "redshift.amazonaws.com"
            });
            r
        })
        .collect()
}

#[tokio::test]
async fn cloudtrail_answers_in_one_call_and_the_user_is_usable() {
    let created = now() - TimeDelta::days(30);
    let mut w = World {
        history: noise(created + TimeDelta::days(1), 500),
        ..World::default()
    };
    w.history.push(create(
        fixtures::iam_user("alice", "AIDAALICE"),
        "prod",
        created,
    ));
    let mut failed = create(
        fixtures::iam_user("mallory", "AIDAMAL"),
        "prod",
        created - TimeDelta::minutes(3),
    );
    failed["errorCode"] = json!("ResourceInUseException");
    w.history.push(failed);
    w.users.insert("alice".into(), user("alice", "AIDAALICE"));
    // An API_AND_CONFIG_MAP cluster: the creator's admin is its access entry.
    w.entries.push(admin_entry(
        &format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        created,
    ));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    let c = r.creator.as_ref().unwrap();
    assert_eq!(c.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(c.source, CreatorSource::Cloudtrail);
    assert_eq!(w.lookups, 1);
    let ct = r.cloudtrail.as_ref().unwrap();
    assert_eq!(ct.calls, 1);
    assert_eq!(ct.match_quality, Some(MatchQuality::ArnAndCreatedAt));
    let s = r.status.as_ref().unwrap();
    assert_eq!(s.state, PrincipalState::Alive);
    assert_eq!(r.verdict.outcome, Outcome::Usable);
    assert_eq!(r.verdict.exit_code, exit::OK);
    assert!(
        r.verdict
            .next_command
            .as_deref()
            .unwrap()
            .starts_with("eks-breakglass assume-creator --cluster prod")
    );
    assert_eq!(r.attempts.len(), 1);
}

#[tokio::test]
async fn the_window_widens_only_when_needed() {
    let created = now() - TimeDelta::days(10);
    let mut w = World::default();
    // The event's own time is 40 minutes off, but its response names this cluster.
    let mut ev = create(fixtures::iam_user("alice", "AIDAALICE"), "prod", created);
    ev["eventTime"] = json!(iso(created - TimeDelta::minutes(40)));
    w.history.push(ev);
    w.users.insert("alice".into(), user("alice", "AIDAALICE"));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert!(r.creator.is_some());
    assert_eq!(w.lookups, 2);
    assert_eq!(r.cloudtrail.unwrap().windows.len(), 2);
}

#[tokio::test]
async fn a_reused_name_never_picks_the_old_cluster() {
    let created = now() - TimeDelta::days(5);
    let old = created - TimeDelta::hours(20);
    let mut w = World::default();
    w.history.push(create(
        fixtures::iam_user("old-admin", "AIDAOLD"),
        "prod",
        old,
    ));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert!(r.creator.is_none(), "{:?}", r.creator);
    assert_eq!(r.verdict.exit_code, exit::CREATOR_NOT_FOUND);
    assert!(r.rejected_events[0].reason.contains("reused"));
    assert!(r.attempts[0].detail.contains("earlier cluster"));
    w.history.push(create(
        fixtures::iam_user("new-admin", "AIDANEW"),
        "prod",
        created,
    ));
    w.users
        .insert("new-admin".into(), user("new-admin", "AIDANEW"));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(r.creator.unwrap().unique_id.as_deref(), Some("AIDANEW"));
}

#[tokio::test]
async fn old_clusters_skip_cloudtrail_and_read_the_s3_trail() {
    let created = now() - TimeDelta::days(200);
    let mut w = World {
        trail: Some(TrailScan::Scanned {
            location: "s3://trail/AWSLogs/".into(),
            found_by: "trail main".into(),
            files: 3,
            records: vec![create(
                fixtures::iam_user("alice", "AIDAALICE"),
                "prod",
                created,
            )],
        }),
        ..World::default()
    };
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(w.lookups, 0);
    assert_eq!(r.attempts[0].outcome, AttemptOutcome::Skipped);
    assert!(r.attempts[0].detail.contains("200 days"));
    let c = r.creator.unwrap();
    assert_eq!(c.source, CreatorSource::S3Trail);
    // Alice is gone today.
    assert_eq!(r.status.unwrap().state, PrincipalState::Deleted);
    assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
    assert!(
        r.verdict
            .next_command
            .unwrap()
            .starts_with("eks-breakglass grant")
    );
}

#[tokio::test]
async fn nothing_answers_gives_the_manual_query_and_exit_6() {
    let created = now() - TimeDelta::days(200);
    let mut f = facts(created);
    f.auth_mode = Some(AuthMode::ConfigMap);
    let mut w = World::default();
    let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
    assert!(r.creator.is_none());
    assert_eq!(r.verdict.outcome, Outcome::NotFound);
    assert_eq!(r.verdict.exit_code, exit::CREATOR_NOT_FOUND);
    let outcomes: Vec<_> = r.attempts.iter().map(|a| (a.source, a.outcome)).collect();
    assert_eq!(
        outcomes,
        vec![
            (CreatorSource::Cloudtrail, AttemptOutcome::Skipped),
            (CreatorSource::Tags, AttemptOutcome::NotFound),
            (CreatorSource::S3Trail, AttemptOutcome::NotFound),
            (CreatorSource::AccessEntry, AttemptOutcome::Skipped),
        ]
    );
    let m = r.manual_next_step.unwrap();
    assert_eq!(m.log_group, "/aws/eks/prod/cluster");
    assert!(m.query.contains("username=kubernetes-admin"));
}

#[tokio::test]
async fn denied_lookup_is_reported_and_the_tags_answer() {
    let created = now() - TimeDelta::days(3);
    let mut f = facts(created);
    let recorded = Creator {
        unique_id: Some("AROAADMIN".into()),
        ..Creator::from_arn(
            &format!("arn:aws:iam::{ACCOUNT}:role/platform/eks-admin"),
            None,
            CreatorSource::Cloudtrail,
        )
    };
    f.tags = creator_tags(&recorded, now()).into_iter().collect();
    let mut w = World {
        deny: vec!["cloudtrail:LookupEvents", "iam:GetRole"],
        ..World::default()
    };
    let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
    assert_eq!(r.attempts[0].outcome, AttemptOutcome::Denied);
    assert_eq!(
        r.attempts[0].action.as_deref(),
        Some("cloudtrail:LookupEvents")
    );
    let c = r.creator.as_ref().unwrap();
    assert_eq!(c.source, CreatorSource::Tags);
    assert_eq!(c.kind, CreatorKind::AssumedRole);
    assert_eq!(c.unique_id.as_deref(), Some("AROAADMIN"));
    assert_eq!(c.path.as_deref(), Some("/platform/"));
    assert_eq!(
        c.aws_auth_arn.as_deref(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/eks-admin").as_str())
    );
    assert_eq!(r.status.as_ref().unwrap().state, PrincipalState::Unknown);
    assert_eq!(
        r.denied_actions(),
        vec!["cloudtrail:LookupEvents", "iam:GetRole"]
    );
    assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
}

#[tokio::test]
async fn access_entries_made_with_the_cluster_answer_last() {
    let created = now() - TimeDelta::days(120);
    let admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    let role = format!("arn:aws:iam::{ACCOUNT}:role/team/creator");
    let mut w = World {
        entries: vec![
            AccessEntryRecord {
                principal_arn: format!("arn:aws:iam::{ACCOUNT}:role/node"),
                created_at: Some(created + TimeDelta::seconds(5)),
                entry_type: Some("EC2_LINUX".into()),
                policies: Vec::new(),
            },
            AccessEntryRecord {
                principal_arn: format!("arn:aws:iam::{ACCOUNT}:role/later-admin"),
                created_at: Some(created + TimeDelta::days(2)),
                entry_type: Some("STANDARD".into()),
                policies: vec![admin.into()],
            },
            AccessEntryRecord {
                principal_arn: role.clone(),
                created_at: Some(created + TimeDelta::seconds(2)),
                entry_type: Some("STANDARD".into()),
                policies: vec![admin.into()],
            },
        ],
        ..World::default()
    };
    w.roles.insert(
        "creator".into(),
        IamRoleRecord {
            arn: role.clone(),
            role_id: "AROACREATOR".into(),
            name: "creator".into(),
            path: "/team/".into(),
            created: None,
            trust_policy: Some(json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string()),
            max_session_duration: None,
        },
    );
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    let c = r.creator.as_ref().unwrap();
    assert_eq!(c.source, CreatorSource::AccessEntry);
    assert_eq!(c.arn, role);
    let s = r.status.as_ref().unwrap();
    assert_eq!(s.state, PrincipalState::ExistsUnverified);
    assert_eq!(
        s.trust.as_ref().unwrap().decision,
        TrustDecision::NotTrusted
    );
    // Not trusted, but assume-creator can add a trust statement.
    assert_eq!(r.verdict.outcome, Outcome::Usable);
    assert!(r.verdict.reason.contains("adds one trust statement"));
}

#[tokio::test]
async fn bootstrap_admin_disabled_points_to_grant_but_names_the_creator() {
    let created = now() - TimeDelta::days(1);
    let mut f = facts(created);
    f.bootstrap_creator_admin = Some(false);
    let mut w = World::default();
    w.history.push(create(
        fixtures::iam_user("alice", "AIDAALICE"),
        "prod",
        created,
    ));
    w.users.insert("alice".into(), user("alice", "AIDAALICE"));
    let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
    assert!(r.creator.is_some());
    assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
    assert!(r.verdict.reason.contains("no implicit access"));
    assert!(
        r.verdict
            .next_command
            .unwrap()
            .contains("grant --cluster prod")
    );
}

#[tokio::test]
async fn a_user_with_two_keys_or_recreated_is_unusable() {
    let created = now() - TimeDelta::days(1);
    let mut w = World::default();
    w.history.push(create(
        fixtures::iam_user("alice", "AIDAALICE"),
        "prod",
        created,
    ));
    w.users.insert("alice".into(), user("alice", "AIDAALICE"));
    let key = |id: &str| AccessKeyInfo {
        access_key_id: id.into(),
        status: "Active".into(),
        created: None,
    };
    w.keys
        .insert("alice".into(), vec![key("AKIA1"), key("AKIA2")]);
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
    assert!(r.verdict.reason.contains("2 access keys"));
    w.users
        .insert("alice".into(), user("alice", "AIDANEWALICE"));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(r.status.unwrap().state, PrincipalState::Recreated);
    assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);
}

#[tokio::test]
async fn identity_center_root_and_cloudformation_creators() {
    let created = now() - TimeDelta::days(1);
    let sso =
        "aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_0123456789abcdef";
    let mut w = World::default();
    w.history.push(create(
        fixtures::assumed_role(sso, "AROASSO", "carol@example.com"),
        "prod",
        created,
    ));
    w.roles.insert(
        "AWSReservedSSO_PlatformAdmin_0123456789abcdef".into(),
        IamRoleRecord {
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{sso}"),
            role_id: "AROASSO".into(),
            name: "AWSReservedSSO_PlatformAdmin_0123456789abcdef".into(),
            path: "/aws-reserved/sso.amazonaws.com/eu-west-1/".into(),
            created: None,
            trust_policy: None,
            max_session_duration: None,
        },
    );
    w.entries.push(admin_entry(
        &format!("arn:aws:iam::{ACCOUNT}:role/{sso}"),
        created,
    ));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    let c = r.creator.as_ref().unwrap();
    assert_eq!(c.kind, CreatorKind::IdentityCenterRole);
    assert_eq!(c.permission_set.as_deref(), Some("PlatformAdmin"));
    assert_eq!(r.verdict.outcome, Outcome::Usable);
    assert!(
        r.verdict
            .next_command
            .as_deref()
            .unwrap()
            .contains("aws sso login")
    );
    assert!(r.status.unwrap().sso.unwrap().sign_in[0].contains("PlatformAdmin"));

    let mut w = World::default();
    w.history.push(create(fixtures::root(), "prod", created));
    let r = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap();
    assert_eq!(r.status.unwrap().state, PrincipalState::Root);
    assert_eq!(r.verdict.exit_code, exit::CREATOR_UNUSABLE);

    let mut w = World::default();
    let mut ev = create(
        fixtures::assumed_role("cfn-exec", "AROACFN", "AWSCloudFormation"),
        "prod",
        created,
    );
    ev["invokedBy"] = json!("cloudformation.amazonaws.com");
    ev["userAgent"] = json!("cloudformation.amazonaws.com");
    w.history.push(ev);
    let mut f = facts(created);
    f.tags
        .insert("alpha.eksctl.io/cluster-name".into(), "prod".into());
    let r = find_creator_with(&mut w, &f, &opts()).await.unwrap();
    let c = r.creator.unwrap();
    assert!(c.via_cloudformation);
    assert_eq!(c.tool, Tool::Eksctl);
    assert!(r.notes.iter().any(|n| n.contains("service role")));
}

#[tokio::test]
async fn a_cluster_minutes_old_says_cloudtrail_may_lag() {
    let mut w = World::default();
    let r = find_creator_with(&mut w, &facts(now() - TimeDelta::minutes(4)), &opts())
        .await
        .unwrap();
    assert_eq!(r.attempts[0].outcome, AttemptOutcome::NotFound);
    assert!(
        r.attempts[0].detail.contains("up to 15 minutes"),
        "{:?}",
        r.attempts[0]
    );
    let r = find_creator_with(&mut w, &facts(now() - TimeDelta::days(4)), &opts())
        .await
        .unwrap();
    assert!(!r.attempts[0].detail.contains("minutes old"));
}

#[tokio::test]
async fn bad_credentials_end_the_search() {
    let created = now() - TimeDelta::days(1);
    let mut w = World {
        fatal: true,
        ..World::default()
    };
    let e = find_creator_with(&mut w, &facts(created), &opts())
        .await
        .unwrap_err();
    assert_eq!(e.kind, AwsErrorKind::BadCredentials);
}

#[test]
fn windows_widen_and_respect_retention() {
    let n = now();
    let LookupPlan::Windows(w) = lookup_plan(Some(n - TimeDelta::days(10)), n) else {
        panic!("expected windows");
    };
    assert_eq!(w.len(), 3);
    assert_eq!(w[0].end - w[0].start, TimeDelta::minutes(30));
    // Created minutes ago: windows are cut at now.
    let LookupPlan::Windows(w) = lookup_plan(Some(n - TimeDelta::minutes(5)), n) else {
        panic!("expected windows");
    };
    assert!(w.iter().all(|x| x.end == n));
    // On the edge of retention: cut at 90 days.
    let LookupPlan::Windows(w) = lookup_plan(Some(n - TimeDelta::days(90)), n) else {
        panic!("expected windows");
    };
    assert!(w.iter().all(|x| x.start >= n - LOOKUP_RETENTION));
    assert_eq!(
        lookup_plan(Some(n - TimeDelta::days(91)), n),
        LookupPlan::TooOld { age_days: 91 }
    );
    assert_eq!(
        lookup_plan(None, n),
        LookupPlan::Windows(vec![Window {
            start: n - LOOKUP_RETENTION,
            end: n
        }])
    );
}

#[test]
fn tags_round_trip_and_refuse_garbage() {
    let c = Creator {
        unique_id: Some("AIDAALICE".into()),
        ..Creator::from_arn(
            &format!("arn:aws:iam::{ACCOUNT}:user/ops/alice"),
            None,
            CreatorSource::Cloudtrail,
        )
    };
    let tags: BTreeMap<String, String> = creator_tags(&c, now()).into_iter().collect();
    assert_eq!(tags[TAG_CREATOR_KIND], "iam_user");
    assert_eq!(tags[TAG_CREATOR_RECORDED_AT], "2026-11-28T21:00:00Z");
    let back = creator_from_tags(&tags).unwrap().unwrap();
    assert_eq!(
        (back.arn.as_str(), back.kind, back.unique_id.as_deref()),
        (c.arn.as_str(), CreatorKind::IamUser, Some("AIDAALICE"))
    );
    assert_eq!(back.recorded_at, Some(now()));
    assert!(creator_from_tags(&BTreeMap::new()).is_none());
    let bad: BTreeMap<String, String> = [(TAG_CREATOR_ARN.to_string(), "alice".to_string())].into();
    assert!(creator_from_tags(&bad).unwrap().is_err());
}
