//! The simulated world: clusters, access entries, ConfigMaps, CloudTrail, call log; and the
//! EKS authentication + authorisation decision shared by the Kubernetes API servers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::awsauth::{AwsAuth, MapOutcome};
use crate::cloudtrail::{EventStore, Throttle};
use crate::identity::{Identity, principal_name};
use crate::moto::Moto;
use crate::token;

pub const MODES: &[&str] = &["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"];

pub fn mode_rank(mode: &str) -> Option<usize> {
    MODES.iter().position(|m| *m == mode)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Creator {
    /// The IAM principal ARN (user, or role with path), or the root ARN.
    pub arn: String,
    /// The unique id the principal had when it created the cluster.
    pub principal_id: String,
}

#[derive(Debug, Clone)]
pub struct Nodegroup {
    pub name: String,
    pub arn: String,
    pub node_role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct FargateProfile {
    pub name: String,
    pub arn: String,
    pub pod_execution_role_arn: String,
    pub namespaces: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessScope {
    #[serde(rename = "type")]
    pub scope_type: String,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AssociatedPolicy {
    pub policy_arn: String,
    pub scope: AccessScope,
    pub associated_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub principal_arn: String,
    /// Unique id of the principal when the entry was made (EKS binds entries to it).
    pub principal_id: String,
    pub kubernetes_groups: Vec<String>,
    pub username: String,
    pub entry_type: String,
    pub arn: String,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub policies: Vec<AssociatedPolicy>,
    /// Made through CreateAccessEntry: it lets its principal in only once the scenario's
    /// access-entry propagation delay has passed since `created_at` (EKS is eventually
    /// consistent). Entries of the scenario and the creator's are in force already.
    pub propagates: bool,
}

#[derive(Debug, Clone)]
pub struct Update {
    pub id: String,
    pub update_type: String,
    pub params: Vec<(String, String)>,
    pub created_at: DateTime<Utc>,
    pub ready_at: DateTime<Utc>,
    pub applied: bool,
    pub new_mode: Option<String>,
    /// When set, the update ends `Failed` with this error (code, message) and changes nothing.
    pub failure: Option<UpdateFailure>,
    /// A switch away from CONFIG_MAP: the node entries EKS makes for the managed node groups
    /// and Fargate profiles — (role ARN, its unique id when the switch was asked, entry type).
    pub node_entries: Vec<(String, String, String)>,
}

/// How an update fails (scenario `updateFailure`, `PUT /_sim/update-failure`): EKS's
/// `ErrorDetail` (`errorCode` is one of the model's `ErrorCode` values).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateFailure {
    pub error_code: String,
    pub error_message: String,
}

#[derive(Debug, Clone)]
pub struct ConfigMap {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: u64,
    pub created_at: DateTime<Utc>,
    pub labels: Option<Value>,
    pub annotations: Option<Value>,
    pub data: BTreeMap<String, String>,
}

impl ConfigMap {
    pub fn to_json(&self) -> Value {
        let mut meta = json!({
            "name": self.name,
            "namespace": self.namespace,
            "uid": self.uid,
            "resourceVersion": self.resource_version.to_string(),
            "creationTimestamp": self.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        });
        if let Some(l) = &self.labels {
            meta["labels"] = l.clone();
        }
        if let Some(a) = &self.annotations {
            meta["annotations"] = a.clone();
        }
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta, "data": self.data})
    }
}

#[derive(Debug)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    /// The account and region the cluster lives in (the scenario's unless it says otherwise).
    pub account: String,
    pub region: String,
    /// The partition of the world (`aws`, `aws-cn`, …): ARNs the cluster makes carry it.
    pub partition: String,
    pub created_at: DateTime<Utc>,
    pub version: String,
    pub platform_version: String,
    pub role_arn: String,
    pub port: u16,
    pub auth_mode: String,
    pub bootstrap_admin: bool,
    pub legacy_creator_by_arn: bool,
    pub endpoint_public: bool,
    pub endpoint_private: bool,
    pub creator: Option<Creator>,
    pub nodegroups: BTreeMap<String, Nodegroup>,
    pub fargate: BTreeMap<String, FargateProfile>,
    pub access_entries: BTreeMap<String, AccessEntry>,
    pub updates: Vec<Update>,
    pub configmaps: BTreeMap<(String, String), ConfigMap>,
    pub resource_version: u64,
    pub admission: bool,
    pub server: Option<tokio::task::AbortHandle>,
    awsauth_cache: Option<(Option<u64>, Arc<AwsAuth>)>,
}

impl Cluster {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        arn: String,
        scope: &Scope,
        created_at: DateTime<Utc>,
        version: String,
        port: u16,
        auth_mode: String,
        bootstrap_admin: bool,
    ) -> Self {
        Cluster {
            name: name.to_string(),
            arn,
            account: scope.account.clone(),
            region: scope.region.clone(),
            partition: "aws".into(),
            created_at,
            version,
            platform_version: "eks.1".into(),
            role_arn: String::new(),
            port,
            auth_mode,
            bootstrap_admin,
            legacy_creator_by_arn: false,
            endpoint_public: true,
            endpoint_private: false,
            creator: None,
            nodegroups: BTreeMap::new(),
            fargate: BTreeMap::new(),
            access_entries: BTreeMap::new(),
            updates: Vec::new(),
            configmaps: BTreeMap::new(),
            resource_version: 1000,
            admission: false,
            server: None,
            awsauth_cache: None,
        }
    }

    /// Completes updates whose time has come. A successful CONFIG_MAP → API_AND_CONFIG_MAP
    /// switch of a cluster made with `bootstrapClusterCreatorAdminPermissions` gives the
    /// creator its access entry, as EKS does (after the switch, ListAccessEntries shows the
    /// creator's entry beside the node roles'); a failed update changes nothing.
    pub fn settle(&mut self, now: DateTime<Utc>) {
        let mut switched_from_config_map = false;
        let mut node_entries = Vec::new();
        for u in &mut self.updates {
            if !u.applied && now >= u.ready_at {
                u.applied = true;
                if u.failure.is_some() {
                    continue;
                }
                if let Some(m) = &u.new_mode {
                    if self.auth_mode == "CONFIG_MAP" && m != "CONFIG_MAP" {
                        switched_from_config_map = true;
                        node_entries.extend(u.node_entries.iter().cloned());
                    }
                    self.auth_mode = m.clone();
                }
            }
        }
        // "When you switch an existing cluster authenticationMode from CONFIG_MAP to
        // API_AND_CONFIG_MAP entries in the aws-auth ConfigMap managed by MNG and Fargate will
        // be automatically migrated to node type access entries" (aws/containers-roadmap#185,
        // the EKS team's announcement of access entries).
        for (arn, id, entry_type) in node_entries {
            if !self.access_entries.contains_key(&arn) {
                self.add_node_entry(&arn, &id, &entry_type, now);
            }
        }
        if switched_from_config_map
            && self.bootstrap_admin
            && let Some(cr) = self.creator.clone()
            && (cr.arn.contains(":user/") || cr.arn.contains(":role/"))
            && !self.access_entries.contains_key(&cr.arn)
        {
            self.add_creator_entry(&cr.arn, &cr.principal_id, now);
        }
    }

    /// The access entry EKS makes for the creator (AmazonEKSClusterAdminPolicy, cluster
    /// scope), bound to the unique id the creator had when it created the cluster.
    pub fn add_creator_entry(
        &mut self,
        principal_arn: &str,
        principal_id: &str,
        now: DateTime<Utc>,
    ) {
        let arn = format!(
            "arn:{}:eks:{}:{}:access-entry/{}/{}/{}/{}",
            self.partition,
            self.region,
            self.account,
            self.name,
            if principal_arn.contains(":role/") {
                "role"
            } else {
                "user"
            },
            self.account,
            random_hex(8)
        );
        self.access_entries.insert(
            principal_arn.to_string(),
            AccessEntry {
                principal_arn: principal_arn.to_string(),
                principal_id: principal_id.to_string(),
                kubernetes_groups: Vec::new(),
                username: default_entry_username(principal_arn, &self.partition, &self.account),
                entry_type: "STANDARD".into(),
                arn,
                created_at: now,
                modified_at: now,
                propagates: false,
                policies: vec![AssociatedPolicy {
                    policy_arn: format!(
                        "arn:{}:eks::aws:{POLICY_PREFIX}AmazonEKSClusterAdminPolicy",
                        self.partition
                    ),
                    scope: AccessScope {
                        scope_type: "cluster".into(),
                        namespaces: Vec::new(),
                    },
                    associated_at: now,
                    modified_at: now,
                }],
            },
        );
    }

    /// A node access entry EKS makes itself (managed node group: EC2_LINUX; Fargate profile:
    /// FARGATE_LINUX), bound to the role's unique id, in effect at once.
    pub fn add_node_entry(
        &mut self,
        role_arn: &str,
        role_id: &str,
        entry_type: &str,
        now: DateTime<Utc>,
    ) {
        let (username, groups) = if entry_type == "FARGATE_LINUX" {
            (
                "system:node:{{SessionName}}",
                vec![
                    "system:node-proxier".to_string(),
                    "system:nodes".to_string(),
                ],
            )
        } else {
            (
                "system:node:{{EC2PrivateDNSName}}",
                vec!["system:nodes".to_string()],
            )
        };
        let arn = format!(
            "arn:{}:eks:{}:{}:access-entry/{}/role/{}/{}",
            self.partition,
            self.region,
            self.account,
            self.name,
            self.account,
            random_hex(8)
        );
        self.access_entries.insert(
            role_arn.to_string(),
            AccessEntry {
                principal_arn: role_arn.to_string(),
                principal_id: role_id.to_string(),
                kubernetes_groups: groups,
                username: username.to_string(),
                entry_type: entry_type.to_string(),
                arn,
                created_at: now,
                modified_at: now,
                propagates: false,
                policies: Vec::new(),
            },
        );
    }

    pub fn update_in_progress(&self) -> bool {
        self.updates.iter().any(|u| !u.applied)
    }

    pub fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    pub fn aws_auth_data(&self) -> Option<&BTreeMap<String, String>> {
        self.configmaps
            .get(&("kube-system".to_string(), "aws-auth".to_string()))
            .map(|c| &c.data)
    }

    /// The mapping the authenticator holds for the live aws-auth (rebuilt on every change).
    pub fn aws_auth(&mut self) -> Arc<AwsAuth> {
        let rv = self
            .configmaps
            .get(&("kube-system".to_string(), "aws-auth".to_string()))
            .map(|c| c.resource_version);
        if let Some((cached_rv, m)) = &self.awsauth_cache
            && *cached_rv == rv
        {
            return m.clone();
        }
        let m = Arc::new(match self.aws_auth_data() {
            Some(d) => AwsAuth::load(d),
            None => AwsAuth::empty(),
        });
        self.awsauth_cache = Some((rv, m.clone()));
        m
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DenyRule {
    /// A principal ARN (IAM user/role with path, or STS assumed-role ARN), or `*`.
    pub principal: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    pub service: String,
    pub action: String,
    pub caller_arn: Option<String>,
    pub time: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRecord {
    pub time: String,
    pub cluster: String,
    pub allowed: bool,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailConfig {
    pub name: String,
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default = "yes")]
    pub multi_region: bool,
}

fn yes() -> bool {
    true
}

#[derive(Default)]
pub struct World {
    pub clusters: BTreeMap<String, Cluster>,
    pub deny: Vec<DenyRule>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

/// A Kubernetes user after authentication, with what the access policies grant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeUser {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
    /// (policy name, scope) pairs from access entries.
    pub policies: Vec<(String, AccessScope)>,
    /// How the identity was mapped (for the admin auth log).
    pub via: String,
}

/// An (account, region) pair: where a cluster lives, or what an EKS request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

pub struct Sim {
    pub account: String,
    pub region: String,
    pub partition: String,
    pub moto: Moto,
    pub ca_pem: String,
    pub tls: Arc<rustls::ServerConfig>,
    pub world: Mutex<World>,
    pub trail: RwLock<EventStore>,
    pub throttle: Mutex<Throttle>,
    /// LookupEvents paging: (candidates examined per page, delivery delay in ms).
    pub cloudtrail_pages: Mutex<(Option<usize>, i64)>,
    pub calls: Mutex<Vec<CallRecord>>,
    pub auth_log: Mutex<Vec<AuthRecord>>,
    pub update_delay: Mutex<Duration>,
    /// Updates started while this is set end `Failed` with it (scenario `updateFailure`).
    pub update_failure: Mutex<Option<UpdateFailure>>,
    /// IAM/STS rules moto does not enforce, and IAM propagation delays.
    pub iam: crate::iamrules::IamRules,
    /// Added to the real clock when judging session expiry (`PUT /_sim/clock`), so tests can
    /// see an hour-long session expire.
    pub clock_offset: Mutex<chrono::TimeDelta>,
    pub trails: Mutex<Vec<TrailConfig>>,
    pub eks_port: AtomicU16,
    /// The state document (also written to --state), served at /_sim/state.
    pub state_doc: Mutex<Value>,
    /// CreateDate of the principals the scenario built, by unique id. moto stamps every
    /// principal "now", while scenario clusters (and their access entries) are backdated; IAM
    /// never shows a principal younger than the entries made for it. GetUser/GetRole answers
    /// for these ids carry this date instead; a principal recreated later (new id) keeps moto's.
    pub principal_created: Mutex<std::collections::HashMap<String, DateTime<Utc>>>,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

pub fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}

pub fn now_rfc3339() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut out = String::with_capacity(n + 32);
    while out.len() < n {
        out.push_str(&format!("{:032x}", rng.random::<u128>()));
    }
    out.truncate(n);
    out
}

pub fn uuid() -> String {
    let h = random_hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

pub const POLICY_PREFIX: &str = "cluster-access-policy/";

/// The access policies EKS offers (name, what they allow on ConfigMaps: read, write).
pub const ACCESS_POLICIES: &[(&str, bool, bool)] = &[
    ("AmazonEKSClusterAdminPolicy", true, true),
    ("AmazonEKSAdminPolicy", true, true),
    ("AmazonEKSEditPolicy", true, true),
    ("AmazonEKSViewPolicy", true, false),
    ("AmazonEKSAdminViewPolicy", true, false),
];

impl Sim {
    pub fn policy_arn(&self, name: &str) -> String {
        format!("arn:{}:eks::aws:{POLICY_PREFIX}{name}", self.partition)
    }

    pub fn cluster_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:cluster/{name}",
            self.partition, self.region, self.account
        )
    }

    /// What an EKS or CloudTrail request addresses: the caller's account and the region of
    /// the SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`), as
    /// AWS answers it: a request signed for another region than a cluster's does not see it,
    /// nor that region's CloudTrail events (in a one-region world too).
    pub fn request_scope(&self, authorization: Option<&str>, caller: &Identity) -> Scope {
        let region = authorization
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .filter(|r| !r.is_empty())
            .map(|r| r.to_string())
            .unwrap_or_else(|| self.region.clone());
        Scope {
            account: caller.account.clone(),
            region,
        }
    }

    /// Whether a request addressing `scope` sees cluster `c`.
    pub fn sees(&self, scope: &Scope, c: &Cluster) -> bool {
        c.account == scope.account && c.region == scope.region
    }

    pub fn record_call(
        &self,
        service: &str,
        action: &str,
        caller: Option<&Identity>,
        status: u16,
        cluster: Option<&str>,
    ) {
        self.record_call_arn(
            service,
            action,
            caller.map(|c| c.arn.clone()),
            status,
            cluster,
        );
    }

    pub fn record_call_arn(
        &self,
        service: &str,
        action: &str,
        caller_arn: Option<String>,
        status: u16,
        cluster: Option<&str>,
    ) {
        lock(&self.calls).push(CallRecord {
            service: service.into(),
            action: action.into(),
            caller_arn,
            time: now_rfc3339(),
            status,
            cluster: cluster.map(|c| c.to_string()),
        });
    }

    /// Whether the scenario denies `action` (e.g. `eks:CreateAccessEntry`) to this caller.
    pub fn denied(&self, caller: &Identity, action: &str) -> bool {
        let world = lock(&self.world);
        world.deny.iter().any(|d| {
            (d.principal == "*" || d.principal == caller.arn || d.principal == caller.principal_arn)
                && d.actions.iter().any(|a| {
                    a == action
                        || a == "*"
                        || (a.ends_with(":*") && action.starts_with(&a[..a.len() - 1]))
                })
        })
    }

    /// Now, as session expiry is judged (the real clock plus the test offset).
    pub fn session_clock(&self) -> DateTime<Utc> {
        Utc::now() + *lock(&self.clock_offset)
    }

    /// What AWS refuses about a resolved key before looking at the request: an expired
    /// session (`ExpiredToken`), a key or user too new to be seen yet (`InvalidClientTokenId`).
    pub fn check_key(&self, k: &crate::moto::KeyInfo) -> Result<(), crate::iamrules::Refusal> {
        if let Some(exp) = k.expiration
            && self.session_clock() >= exp
        {
            return Err((
                403,
                "ExpiredToken",
                "The security token included in the request is expired".into(),
            ));
        }
        self.iam
            .key_gate(&k.identity.access_key_id, k.user_name.as_deref())
    }

    /// Resolves the caller of an AWS API request from its SigV4 `Authorization` header.
    pub async fn caller(
        &self,
        authorization: Option<&str>,
    ) -> Result<Identity, (u16, &'static str, String)> {
        let Some(auth) = authorization else {
            return Err((
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into(),
            ));
        };
        let akid = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split('/').next())
            .filter(|k| !k.is_empty())
            .ok_or((
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential' parameter.".to_string(),
            ))?;
        match self.moto.resolve_key(akid).await {
            Ok(k) => match self.check_key(&k) {
                Ok(()) => Ok(k.identity),
                Err((_, "ExpiredToken", m)) => Err((403, "ExpiredTokenException", m)),
                Err(_) => Err((
                    403,
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.".into(),
                )),
            },
            Err(e) if e.starts_with("cannot reach") || e.starts_with("moto") => {
                Err((500, "ServiceException", e))
            }
            Err(_) => Err((
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            )),
        }
    }

    fn log_auth(
        &self,
        cluster: &str,
        allowed: bool,
        reason: String,
        arn: Option<String>,
        username: Option<String>,
    ) {
        let mut log = lock(&self.auth_log);
        if log.len() > 10_000 {
            log.remove(0);
        }
        log.push(AuthRecord {
            time: now_rfc3339(),
            cluster: cluster.into(),
            allowed,
            reason,
            arn,
            username,
        });
    }

    /// EKS authentication of a bearer token presented to `cluster`'s API server.
    pub async fn authenticate(&self, cluster: &str, bearer: &str) -> Result<KubeUser, String> {
        let result = self.authenticate_inner(cluster, bearer).await;
        match &result {
            Ok((u, id)) => self.log_auth(
                cluster,
                true,
                u.via.clone(),
                Some(id.arn.clone()),
                Some(u.username.clone()),
            ),
            Err((reason, id)) => self.log_auth(
                cluster,
                false,
                reason.clone(),
                id.as_ref().map(|i| i.arn.clone()),
                None,
            ),
        }
        result.map(|(u, _)| u).map_err(|(e, _)| e)
    }

    async fn authenticate_inner(
        &self,
        cluster: &str,
        bearer: &str,
    ) -> Result<(KubeUser, Identity), (String, Option<Identity>)> {
        let now = Utc::now();
        let presigned =
            token::parse_token(bearer, cluster, &self.partition, now).map_err(|e| (e, None))?;
        let key = self
            .moto
            .resolve_key(&presigned.access_key_id)
            .await
            .map_err(|e| (format!("sts: {e}"), None))?;
        let id = key.identity.clone();
        self.check_key(&key)
            .map_err(|(_, code, msg)| (format!("sts: {code}: {msg}"), Some(id.clone())))?;
        if key.session_token.as_deref() != presigned.session_token.as_deref() {
            return Err((
                "sts: InvalidClientTokenId: the security token does not match the access key"
                    .into(),
                Some(id),
            ));
        }
        token::verify_signature(&presigned, cluster, &key.secret)
            .map_err(|e| (format!("sts: {e}"), Some(id.clone())))?;

        let mut world = lock(&self.world);
        let Some(c) = world.clusters.get_mut(cluster) else {
            return Err((format!("cluster {cluster} no longer exists"), Some(id)));
        };
        c.settle(now);
        let uid = format!("aws-iam-authenticator:{}:{}", id.account, id.principal_id);
        let mut extra = BTreeMap::new();
        extra.insert("accessKeyId".to_string(), vec![id.access_key_id.clone()]);
        extra.insert("arn".to_string(), vec![id.arn.clone()]);
        extra.insert("canonicalArn".to_string(), vec![id.canonical_arn.clone()]);
        extra.insert("principalId".to_string(), vec![id.principal_id.clone()]);
        extra.insert("sessionName".to_string(), vec![id.session_name.clone()]);
        let mk = |username: String,
                  mut groups: Vec<String>,
                  policies: Vec<(String, AccessScope)>,
                  via: String| {
            if !groups.iter().any(|g| g == "system:authenticated") {
                groups.push("system:authenticated".into());
            }
            KubeUser {
                username,
                uid: uid.clone(),
                groups,
                extra: extra.clone(),
                policies,
                via,
            }
        };

        // 1. Access entries (API modes), bound to the principal's unique id, once they have
        //    propagated (a new entry takes effect after the scenario's delay).
        let entry_delay = chrono::TimeDelta::from_std(crate::iamrules::secs_pub(
            self.iam.propagation().access_entry_seconds,
        ))
        .unwrap_or_default();
        if c.auth_mode != "CONFIG_MAP"
            && let Some(e) = c.access_entries.values().find(|e| {
                e.principal_id == id.principal_id
                    && (!e.propagates || e.created_at + entry_delay <= now)
            })
        {
            let region = self.region.clone();
            let render = |s: &str| crate::awsauth::render_template(s, &id, &region);
            let policies = e
                .policies
                .iter()
                .map(|p| {
                    (
                        p.policy_arn
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                        p.scope.clone(),
                    )
                })
                .collect();
            let username = render(&e.username).map_err(|err| (err, Some(id.clone())))?;
            let groups = e
                .kubernetes_groups
                .iter()
                .map(|g| render(g))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| (err, Some(id.clone())))?;
            let user = mk(
                username,
                groups,
                policies,
                format!("access entry {}", e.principal_arn),
            );
            return Ok((user, id));
        }
        // 2. The cluster creator's implicit admin: CONFIG_MAP clusters only. In the API modes
        //    EKS represents it as an access entry (step 1): delete that entry and the creator
        //    is an ordinary principal (AWS docs, "Grant IAM users access to Kubernetes with
        //    EKS access entries": the creator entry is made at creation or at the switch).
        if c.auth_mode == "CONFIG_MAP"
            && c.bootstrap_admin
            && let Some(cr) = &c.creator
        {
            let by_id = !cr.principal_id.is_empty() && cr.principal_id == id.principal_id;
            let by_arn = c.legacy_creator_by_arn && cr.arn.eq_ignore_ascii_case(&id.principal_arn);
            if by_id || by_arn {
                let via = if by_id {
                    "cluster creator (unique id)"
                } else {
                    "cluster creator (legacy ARN match)"
                };
                let user = mk(
                    "kubernetes-admin".into(),
                    vec!["system:masters".into()],
                    Vec::new(),
                    via.into(),
                );
                return Ok((user, id));
            }
        }
        // 3. aws-auth.
        if c.auth_mode != "API" {
            let mapping = c.aws_auth();
            match mapping.map(&id, &self.region) {
                MapOutcome::Mapped {
                    username,
                    groups,
                    via,
                } => {
                    let user = mk(username, groups, Vec::new(), via);
                    return Ok((user, id));
                }
                MapOutcome::Failed(e) => return Err((e, Some(id))),
                MapOutcome::NotMapped => {}
            }
        }
        Err((format!("ARN is not mapped: {}", id.canonical_arn), Some(id)))
    }
}

/// Kubernetes authorisation, simple but honest: system:masters or AmazonEKSClusterAdminPolicy
/// (cluster scope) may do everything; access policies grant ConfigMap read/write in their scope.
pub fn authorize(user: &KubeUser, verb: &str, namespace: Option<&str>) -> bool {
    if user.groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    let write = !matches!(verb, "get" | "list" | "watch");
    user.policies.iter().any(|(name, scope)| {
        let in_scope = scope.scope_type == "cluster"
            || namespace.is_some_and(|ns| {
                scope
                    .namespaces
                    .iter()
                    .any(|n| n == ns || (n.ends_with('*') && ns.starts_with(&n[..n.len() - 1])))
            });
        if name == "AmazonEKSClusterAdminPolicy" && scope.scope_type == "cluster" {
            return true;
        }
        let Some((_, r, w)) = ACCESS_POLICIES.iter().find(|(n, _, _)| n == name) else {
            return false;
        };
        in_scope && if write { *w } else { *r }
    })
}

/// The default username EKS gives an access entry.
pub fn default_entry_username(principal_arn: &str, partition: &str, account: &str) -> String {
    if principal_arn.contains(":role/") {
        let name = principal_name(principal_arn).unwrap_or_default();
        format!("arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}")
    } else {
        principal_arn.to_string()
    }
}

/// The JSON the effective-mapping admin endpoint answers.
pub fn effective_mapping(c: &mut Cluster) -> Value {
    let m = c.aws_auth();
    let mut v = serde_json::to_value(&*m).unwrap_or(Value::Null);
    v["configMapPresent"] = json!(c.aws_auth_data().is_some());
    v["authenticationMode"] = json!(c.auth_mode);
    v
}

pub fn set_port(p: &AtomicU16, port: u16) {
    p.store(port, Ordering::SeqCst);
}

pub type SharedSim = Arc<Sim>;

/// The `clusters` part of the state document (live: includes clusters created through the API).
pub fn clusters_json(world: &World) -> Value {
    let map: serde_json::Map<String, Value> = world
        .clusters
        .values()
        .map(|c| {
            (
                c.name.clone(),
                json!({
                    "arn": c.arn,
                    "account": c.account,
                    "region": c.region,
                    "endpoint": format!("https://127.0.0.1:{}", c.port),
                    "port": c.port,
                    "createdAt": c.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "authenticationMode": c.auth_mode,
                    "bootstrapClusterCreatorAdminPermissions": c.bootstrap_admin,
                    "creator": c.creator,
                }),
            )
        })
        .collect();
    Value::Object(map)
}

pub fn tags_json(world: &World, arn: &str) -> Value {
    json!(world.tags.get(arn).cloned().unwrap_or_default())
}
