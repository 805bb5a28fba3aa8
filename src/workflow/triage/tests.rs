//! The triage's decisions against in-memory fakes of its ports: which ways back in come first
//! per cluster mode, creator state and permissions, what is said about reachability, and what
//! a refusal or a broken aws-auth turns into. No AWS, no API server.

use super::*;
use crate::awsauth::NodeRoleKind;
use crate::cluster::AuthMode;
use crate::ports::creator_sources::{AccessEntryRecord, LookupPage, TrailScan};
use crate::ports::error::{AwsError, AwsErrorKind};
use crate::ports::triage::TcpProbe;
use crate::recovery::creator::Window;
use crate::recovery::diagnosis::{MODE_CONSENT, PathKind};
use crate::recovery::event::fixtures::{self, ACCOUNT};
use crate::recovery::principal::{AccessKeyInfo, IamRoleRecord, IamUserRecord, PrincipalState};
use chrono::TimeDelta;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T21:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn created() -> DateTime<Utc> {
    now() - TimeDelta::days(3)
}

fn facts(mode: AuthMode) -> ClusterFacts {
    ClusterFacts {
        name: "prod".into(),
        arn: format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod"),
        region: "eu-west-1".into(),
        status: Some("ACTIVE".into()),
        version: Some("1.29".into()),
        platform_version: None,
        created_at: Some(created()),
        endpoint: Some("https://ABCD.gr7.eu-west-1.eks.amazonaws.com".into()),
        ca_pem: None,
        endpoint_public_access: Some(true),
        endpoint_private_access: Some(false),
        auth_mode: Some(mode),
        bootstrap_creator_admin: Some(true),
        tags: BTreeMap::new(),
    }
}

/// The world as the triage's port sees it.
struct World {
    facts: ClusterFacts,
    describe_denied: bool,
    reachable: bool,
    access: CallerAccess,
    /// aws-auth's data when the caller can read it.
    aws_auth: Option<Vec<(String, String)>>,
    node_roles: Vec<NodeRoleFact>,
}

impl World {
    fn locked_out(mode: AuthMode) -> World {
        World {
            facts: facts(mode),
            describe_denied: false,
            reachable: true,
            access: CallerAccess::Unauthorized,
            aws_auth: None,
            node_roles: Vec::new(),
        }
    }
}

impl TriageSources for World {
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        Ok(CallerIdentity {
            account: ACCOUNT.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/oncall"),
            user_id: "AIDAONCALL".into(),
        })
    }

    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError> {
        if self.describe_denied {
            return Err(AwsError::new(
                "eks:DescribeCluster",
                AwsErrorKind::AccessDenied,
                format!("not authorized to describe {cluster}"),
            ));
        }
        Ok(self.facts.clone())
    }

    async fn probe_tcp(&self, server: &str) -> TcpProbe {
        TcpProbe {
            reachable: self.reachable,
            detail: if self.reachable {
                format!("TCP connect to {server} ok")
            } else {
                format!("TCP connect to {server} failed: timed out")
            },
            ms: 3,
        }
    }

    async fn caller_access(&self, _facts: &ClusterFacts, _target: &ApiTarget) -> ApiAccess {
        let doc = self
            .aws_auth
            .as_ref()
            .map(|d| AwsAuthDocument::from_data("cluster/prod", d.clone()));
        let detail = if doc.is_some() {
            "read as you"
        } else {
            "not readable as you"
        };
        ApiAccess {
            access: self.access.clone(),
            tls: Some(self.reachable),
            timed_out: false,
            aws_auth: doc,
            detail: detail.into(),
        }
    }

    async fn node_roles(&self, _cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError> {
        Ok(self.node_roles.clone())
    }
}

/// CloudTrail, the cluster's access entries and IAM, as the creator search's port sees them.
#[derive(Default)]
struct Trail {
    history: Vec<Value>,
    users: HashMap<String, IamUserRecord>,
    entries: Vec<AccessEntryRecord>,
    /// Actions refused with AccessDenied.
    deny: Vec<&'static str>,
    /// Every call fails with expired credentials.
    expired: bool,
}

impl Trail {
    fn check(&self, action: &'static str) -> Result<(), AwsError> {
        if self.expired {
            return Err(AwsError::new(
                action,
                AwsErrorKind::BadCredentials,
                "the security token included in the request is expired",
            ));
        }
        if self.deny.contains(&action) {
            return Err(AwsError::new(
                action,
                AwsErrorKind::AccessDenied,
                "not authorized",
            ));
        }
        Ok(())
    }

    /// A cluster created by the IAM user alice, who still exists (same unique id) or not.
    fn created_by_alice(alive: bool) -> Trail {
        let t = created();
        let mut w = Trail::default();
        w.history.push(fixtures::record(
            fixtures::iam_user("alice", "AIDAALICE"),
            "prod",
            &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            Some(t.timestamp() as f64),
        ));
        if alive {
            w.users.insert(
                "alice".into(),
                IamUserRecord {
                    arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
                    user_id: "AIDAALICE".into(),
                    name: "alice".into(),
                    path: "/".into(),
                    created: None,
                },
            );
        }
        w
    }

    fn with_alice_entry(mut self) -> Trail {
        self.entries.push(AccessEntryRecord {
            principal_arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            created_at: Some(created()),
            entry_type: Some("STANDARD".into()),
            policies: vec![
                "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".into(),
            ],
        });
        self
    }
}

impl CreatorSources for Trail {
    async fn lookup_create_cluster(
        &mut self,
        w: Window,
        _next_token: Option<String>,
    ) -> Result<LookupPage, AwsError> {
        self.check("cloudtrail:LookupEvents")?;
        let records = self
            .history
            .iter()
            .filter(|r| {
                r["eventTime"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .is_some_and(|t| t >= w.start && t <= w.end)
            })
            .cloned()
            .collect();
        Ok(LookupPage {
            records,
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
        self.check("cloudtrail:DescribeTrails")?;
        Ok(TrailScan::NoTrail {
            detail: "no trail delivers to S3".into(),
        })
    }

    async fn access_entries(&mut self, _cluster: &str) -> Result<Vec<AccessEntryRecord>, AwsError> {
        self.check("eks:ListAccessEntries")?;
        Ok(self.entries.clone())
    }

    async fn get_user(&mut self, name: &str) -> Result<Option<IamUserRecord>, AwsError> {
        self.check("iam:GetUser")?;
        Ok(self.users.get(name).cloned())
    }

    async fn get_role(&mut self, _name: &str) -> Result<Option<IamRoleRecord>, AwsError> {
        self.check("iam:GetRole")?;
        Ok(None)
    }

    async fn list_access_keys(&mut self, _user: &str) -> Result<Vec<AccessKeyInfo>, AwsError> {
        self.check("iam:ListAccessKeys")?;
        Ok(Vec::new())
    }

    async fn list_mfa_devices(&mut self, _user: &str) -> Result<Vec<String>, AwsError> {
        self.check("iam:ListMFADevices")?;
        Ok(Vec::new())
    }
}

fn target_of(f: &ClusterFacts) -> Result<ApiTarget, AppError> {
    Ok(ApiTarget {
        server: f.endpoint.clone().unwrap_or_default(),
        ca_pem: None,
        tls_server_name: None,
    })
}

async fn run(world: &World, trail: &mut Trail, api_server: Option<&str>) -> Triage {
    let opts = TriageOptions {
        cluster: "prod",
        api_server,
        now: now(),
    };
    triage(world, trail, &opts, target_of).await.unwrap()
}

fn kinds(t: &Triage) -> Vec<PathKind> {
    t.paths.iter().map(|p| p.kind).collect()
}

/// CONFIG_MAP, locked out, the creator alive: becoming the creator comes first (no one-way
/// mode switch); the access entry is offered behind the mode-change consent.
#[tokio::test]
async fn config_map_with_a_live_creator_becomes_the_creator_first() {
    let t = run(
        &World::locked_out(AuthMode::ConfigMap),
        &mut Trail::created_by_alice(true),
        None,
    )
    .await;
    let rep = t.creator.as_ref().unwrap();
    assert_eq!(
        rep.creator.as_ref().unwrap().arn,
        format!("arn:aws:iam::{ACCOUNT}:user/alice")
    );
    assert_eq!(t.paths[0].kind, PathKind::BecomeCreator, "{:?}", kinds(&t));
    assert!(t.paths[0].automatic);
    let entry = t
        .paths
        .iter()
        .find(|p| p.kind == PathKind::AccessEntry)
        .expect("an access-entry path");
    assert_eq!(entry.consent.as_deref(), Some(MODE_CONSENT));
    assert_eq!(t.paths.last().unwrap().kind, PathKind::Manual);
    assert!(t.notes.is_empty(), "{:?}", t.notes);
}

/// API_AND_CONFIG_MAP, locked out: an access entry for the caller is the fastest way in,
/// without any consent to a mode change, even with a usable creator.
#[tokio::test]
async fn access_entry_mode_takes_the_access_entry_first() {
    let t = run(
        &World::locked_out(AuthMode::ApiAndConfigMap),
        &mut Trail::created_by_alice(true).with_alice_entry(),
        None,
    )
    .await;
    assert_eq!(t.paths[0].kind, PathKind::AccessEntry, "{:?}", kinds(&t));
    assert_eq!(t.paths[0].consent, None);
    assert!(t.paths.iter().any(|p| p.kind == PathKind::BecomeCreator));
}

/// A deleted creator cannot be become as it was: its recreation is only a best effort, ranked
/// below the access entry.
#[tokio::test]
async fn a_deleted_creator_ranks_recreation_below_the_access_entry() {
    let t = run(
        &World::locked_out(AuthMode::ConfigMap),
        &mut Trail::created_by_alice(false),
        None,
    )
    .await;
    let st = t.creator.as_ref().unwrap().status.as_ref().unwrap();
    assert_eq!(st.state, PrincipalState::Deleted);
    let k = kinds(&t);
    assert!(!k.contains(&PathKind::BecomeCreator), "{k:?}");
    let entry = k.iter().position(|p| *p == PathKind::AccessEntry).unwrap();
    let recreate = k
        .iter()
        .position(|p| *p == PathKind::RecreateCreator)
        .unwrap();
    assert!(entry < recreate, "{k:?}");
}

/// Already in, with a readable but broken aws-auth: repair directly; the health names the
/// errors and the node role that lost its mapping.
#[tokio::test]
async fn an_authenticated_caller_repairs_directly_and_sees_the_damage() {
    let node = format!("arn:aws:iam::{ACCOUNT}:role/eks-nodes");
    let mut w = World::locked_out(AuthMode::ConfigMap);
    w.access = CallerAccess::Authenticated {
        username: "admin".into(),
        groups: vec!["system:masters".into()],
        can_read_aws_auth: true,
    };
    // A tab in YAML: the whole mapRoles section is lost.
    w.aws_auth = Some(vec![(
        "mapRoles".into(),
        format!("- rolearn: {node}\n\tusername: system:node:{{{{EC2PrivateDNSName}}}}\n"),
    )]);
    w.node_roles = vec![NodeRoleFact {
        arn: node.clone(),
        kind: NodeRoleKind::Ec2Linux,
        source: "node group ng-1".into(),
    }];
    let t = run(&w, &mut Trail::created_by_alice(true), None).await;
    assert_eq!(t.paths[0].kind, PathKind::AlreadyIn, "{:?}", kinds(&t));
    assert!(t.paths[0].automatic);
    assert!(t.aws_auth.readable);
    assert!(t.aws_auth.errors > 0, "{:?}", t.aws_auth);
    assert_eq!(t.aws_auth.problems.len(), t.aws_auth.errors);
    assert_eq!(t.aws_auth.node_roles_missing, vec![node]);
}

/// Without CloudTrail, EKS-access or IAM read permissions the creator is not found, every
/// refusal is named, and the triage still ranks the ways in.
#[tokio::test]
async fn refusals_are_named_and_the_triage_goes_on() {
    let mut trail = Trail::created_by_alice(true);
    trail.deny = vec![
        "cloudtrail:LookupEvents",
        "cloudtrail:DescribeTrails",
        "eks:ListAccessEntries",
    ];
    let t = run(
        &World::locked_out(AuthMode::ApiAndConfigMap),
        &mut trail,
        None,
    )
    .await;
    let rep = t.creator.as_ref().unwrap();
    assert!(rep.creator.is_none());
    let denied = rep.denied_actions();
    assert!(denied.contains(&"cloudtrail:LookupEvents"), "{denied:?}");
    assert!(denied.contains(&"eks:ListAccessEntries"), "{denied:?}");
    assert_eq!(t.paths[0].kind, PathKind::AccessEntry, "{:?}", kinds(&t));
    assert!(!kinds(&t).contains(&PathKind::BecomeCreator));
}

/// A creator found but IAM refusing GetUser: status unknown, named, and no path claims the
/// creator is usable for sure.
#[tokio::test]
async fn an_unverifiable_creator_is_reported_with_the_missing_permission() {
    let mut trail = Trail::created_by_alice(true);
    trail.deny = vec!["iam:GetUser"];
    let t = run(&World::locked_out(AuthMode::ConfigMap), &mut trail, None).await;
    let rep = t.creator.as_ref().unwrap();
    assert!(rep.creator.is_some());
    assert!(rep.denied_actions().contains(&"iam:GetUser"));
    assert_eq!(rep.status.as_ref().unwrap().state, PrincipalState::Unknown);
}

/// Expired credentials end the creator search; the triage reports it instead of failing.
#[tokio::test]
async fn a_failed_creator_search_is_reported_not_fatal() {
    let mut trail = Trail::created_by_alice(true);
    trail.expired = true;
    let t = run(&World::locked_out(AuthMode::ConfigMap), &mut trail, None).await;
    assert!(t.creator.is_none());
    assert!(
        t.creator_error.as_deref().unwrap().contains("expired"),
        "{:?}",
        t.creator_error
    );
    assert_eq!(t.paths.last().unwrap().kind, PathKind::Manual);
}

/// A private-only endpoint that does not answer: the advice is a tunnel, or — when a tunnel
/// was given — to check it.
#[tokio::test]
async fn an_unreachable_private_endpoint_gets_tunnel_advice() {
    let mut w = World::locked_out(AuthMode::ConfigMap);
    w.facts.endpoint_public_access = Some(false);
    w.facts.endpoint_private_access = Some(true);
    w.reachable = false;
    w.access = CallerAccess::Unknown {
        reason: "timed out".into(),
    };
    let t = run(&w, &mut Trail::created_by_alice(true), None).await;
    assert!(!t.reachability.tcp);
    assert_eq!(t.notes.len(), 1, "{:?}", t.notes);
    assert!(
        t.notes[0].contains("ssh -N -L 8443:ABCD.gr7.eu-west-1.eks.amazonaws.com:443")
            && t.notes[0].contains("--api-server https://127.0.0.1:8443"),
        "{}",
        t.notes[0]
    );
    let t = run(
        &w,
        &mut Trail::created_by_alice(true),
        Some("https://127.0.0.1:8443"),
    )
    .await;
    assert!(
        t.notes[0].contains("the tunnel https://127.0.0.1:8443 did not answer"),
        "{}",
        t.notes[0]
    );
}

/// A cluster made without creator admin says so: the creator has nothing to give.
#[tokio::test]
async fn no_creator_admin_is_noted_and_not_offered() {
    let mut w = World::locked_out(AuthMode::ApiAndConfigMap);
    w.facts.bootstrap_creator_admin = Some(false);
    let t = run(&w, &mut Trail::created_by_alice(true), None).await;
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("bootstrapClusterCreatorAdminPermissions=false")),
        "{:?}",
        t.notes
    );
    assert!(
        !kinds(&t).contains(&PathKind::BecomeCreator),
        "{:?}",
        kinds(&t)
    );
}

/// DescribeCluster refused: nothing to triage, and the error names the action.
#[tokio::test]
async fn describe_cluster_refused_is_an_error_naming_the_action() {
    let mut w = World::locked_out(AuthMode::ConfigMap);
    w.describe_denied = true;
    let opts = TriageOptions {
        cluster: "prod",
        api_server: None,
        now: now(),
    };
    let e = triage(&w, &mut Trail::default(), &opts, target_of)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("eks:DescribeCluster"), "{e}");
}

// ---- review (session 3, 16a): what `diagnose` tells the on-call engineer to run next ----

/// A private-only cluster reached through a tunnel (`diagnose --api-server … --tls-server-name …`):
/// the "Next:" line and the `recover` paths are the commands the operator copies at 3 a.m. They
/// drop the tunnel flags, so the `recover` they name goes to the private endpoint that the
/// triage just showed is unreachable from here (its own note says to pass --api-server).
/// `creator`'s verdict, by contrast, carries the flags its next command needs (`--region`).
#[tokio::test]
async fn review_s3_next_command_keeps_the_tunnel_flags() {
    let mut w = World::locked_out(AuthMode::ConfigMap);
    w.facts.endpoint_public_access = Some(false);
    w.facts.endpoint_private_access = Some(true);
    let tunnel = "https://127.0.0.1:8443";
    let host = "ABCD.gr7.eu-west-1.eks.amazonaws.com";
    let opts = TriageOptions {
        cluster: "prod",
        api_server: Some(tunnel),
        now: now(),
    };
    let t = triage(&w, &mut Trail::created_by_alice(true), &opts, |_f| {
        Ok(ApiTarget {
            server: tunnel.into(),
            ca_pem: None,
            tls_server_name: Some(host.into()),
        })
    })
    .await
    .unwrap();
    let text = crate::ui::triage::render(&t);
    let next = text
        .lines()
        .find(|l| l.starts_with("Next: "))
        .unwrap_or_else(|| panic!("no Next line in:\n{text}"));
    assert!(
        next.contains(&format!("--api-server {tunnel}")) && next.contains(host),
        "the Next command drops the tunnel diagnose was run through: {next}"
    );
    for p in t.paths.iter().filter(|p| p.command.contains(" recover ")) {
        assert!(
            p.command.contains("--api-server"),
            "path '{}' runs: {}",
            p.title,
            p.command
        );
    }
}

/// `diagnose --region eu-west-1` (the region given as a flag, not in the environment): the
/// "Next:" line names `recover --cluster prod` without the region, so copied as shown it runs
/// against the default region's cluster of that name (another cluster, or not found), while
/// `creator`'s verdict in the same report says `--region eu-west-1`.
#[tokio::test]
async fn review_s3_next_command_keeps_the_region() {
    let t = run(
        &World::locked_out(AuthMode::ConfigMap),
        &mut Trail::created_by_alice(true),
        None,
    )
    .await;
    let creator_next = t
        .creator
        .as_ref()
        .and_then(|r| r.verdict.next_command.clone())
        .unwrap_or_default();
    assert!(
        creator_next.contains("--region eu-west-1"),
        "{creator_next}"
    );
    let text = crate::ui::triage::render(&t);
    let next = text
        .lines()
        .find(|l| l.starts_with("Next: "))
        .unwrap_or_else(|| panic!("no Next line in:\n{text}"));
    assert!(
        next.contains("--region eu-west-1"),
        "creator's verdict says `{creator_next}` but diagnose says `{next}`"
    );
}

/// The world of [`World`], except that eks:ListNodegroups is refused — as the real adapter
/// (`aws::eks_nodes::node_roles`) returns it for an on-call role without that permission.
struct NodeRolesDenied(World);

impl TriageSources for NodeRolesDenied {
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        self.0.caller_identity().await
    }
    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError> {
        self.0.describe_cluster(cluster).await
    }
    async fn probe_tcp(&self, server: &str) -> TcpProbe {
        self.0.probe_tcp(server).await
    }
    async fn caller_access(&self, facts: &ClusterFacts, target: &ApiTarget) -> ApiAccess {
        self.0.caller_access(facts, target).await
    }
    async fn node_roles(&self, cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError> {
        Err(AwsError::new(
            "eks:ListNodegroups",
            AwsErrorKind::AccessDenied,
            format!("not authorized to list the node groups of {cluster}"),
        ))
    }
}

/// Node roles not listable (eks:ListNodegroups denied): aws-auth's health is then judged without
/// the node-role check, so "node role not mapped (its nodes go NotReady)" can never show. The
/// report knows (`node_roles_error`), but `diagnose`'s text never says it, so an aws-auth that
/// dropped the node role reads as "0 error(s)" with no hint that this was not checked.
#[tokio::test]
async fn review_s3_unlisted_node_roles_are_said_in_the_text() {
    let mut w = World::locked_out(AuthMode::ConfigMap);
    w.access = CallerAccess::Authenticated {
        username: "admin".into(),
        groups: vec!["system:masters".into()],
        can_read_aws_auth: true,
    };
    // A valid aws-auth that maps an admin but not the node role.
    w.aws_auth = Some(vec![(
        "mapRoles".into(),
        format!(
            "- rolearn: arn:aws:iam::{ACCOUNT}:role/admin\n  username: admin\n  groups:\n    - system:masters\n"
        ),
    )]);
    let opts = TriageOptions {
        cluster: "prod",
        api_server: None,
        now: now(),
    };
    let t = triage(
        &NodeRolesDenied(w),
        &mut Trail::created_by_alice(true),
        &opts,
        target_of,
    )
    .await
    .unwrap();
    assert!(t.node_roles_error.is_some());
    let text = crate::ui::triage::render(&t);
    assert!(
        text.contains("eks:ListNodegroups"),
        "the refusal to list node roles is not in diagnose's text:\n{text}"
    );
}

/// The world of [`World`], except that the API server gives no answer in time.
struct NoAnswer(World);

impl TriageSources for NoAnswer {
    async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        self.0.caller_identity().await
    }
    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterFacts, AwsError> {
        self.0.describe_cluster(cluster).await
    }
    async fn probe_tcp(&self, server: &str) -> TcpProbe {
        self.0.probe_tcp(server).await
    }
    async fn caller_access(&self, _facts: &ClusterFacts, target: &ApiTarget) -> ApiAccess {
        let r = format!("no answer from {} within 8 s", target.server);
        ApiAccess {
            access: CallerAccess::Unknown { reason: r.clone() },
            tls: None,
            timed_out: true,
            aws_auth: None,
            detail: r,
        }
    }
    async fn node_roles(&self, cluster: &str) -> Result<Vec<NodeRoleFact>, AwsError> {
        self.0.node_roles(cluster).await
    }
}

/// A TCP connection opens but the API server never answers: the triage (not the adapter)
/// decides that this endpoint is not reachable, and says so.
#[tokio::test]
async fn no_answer_in_time_counts_as_unreachable() {
    let opts = TriageOptions {
        cluster: "prod",
        api_server: None,
        now: now(),
    };
    let t = triage(
        &NoAnswer(World::locked_out(AuthMode::ConfigMap)),
        &mut Trail::created_by_alice(true),
        &opts,
        target_of,
    )
    .await
    .unwrap();
    assert!(t.reachability.tcp);
    assert_eq!(t.reachability.tls, Some(false));
    assert!(
        t.notes.iter().any(|n| n.contains("could not be reached")),
        "{:?}",
        t.notes
    );
    assert!(crate::ui::triage::render(&t).contains("NOT reachable from here"));
}
