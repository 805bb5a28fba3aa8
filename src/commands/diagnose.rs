//! `diagnose`: read-only triage of a cluster in trouble, in a few seconds.
//!
//! Everything the on-call engineer would otherwise collect by hand, asked concurrently: who am
//! I, what is the cluster (mode, creator-admin flag, endpoint), can this machine reach the API
//! server, can I authenticate (a SelfSubjectReview; 401 = locked out), what does aws-auth look
//! like when readable, who created the cluster — and then the ways back in, ranked by
//! [`crate::recovery::diagnosis::rank_paths`]. `recover` starts with the same triage.

use crate::arn::PrincipalArn;
use crate::aws::{AwsContext, eks_nodes, sts, token};
use crate::awsauth::{self, AwsAuthDocument, NodeRoleFact};
use crate::cli::Globals;
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::exit;
use crate::k8s::{ApiTarget, KubeClient, KubeError};
use crate::recovery::creator::{self, CreatorReport, FindOptions};
use crate::recovery::diagnosis::{self, CallerAccess, CreatorFacts, RecoveryPath, Situation};
use crate::recovery::recover;
use crate::recovery::trust::Caller;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// How to reach the API server when DescribeCluster's endpoint is not reachable from here.
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// The API server URL to use instead of the cluster's endpoint (a tunnel or bastion, e.g. https://127.0.0.1:8443)
    #[arg(long, value_name = "URL")]
    pub api_server: Option<String>,
    /// The name to check the API server's certificate against (the endpoint's host, through a tunnel)
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// The cluster CA (PEM) instead of DescribeCluster's
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

impl TargetArgs {
    /// The API target for `facts`, with the overrides applied.
    pub fn target(&self, facts: &ClusterFacts) -> Result<ApiTarget, AppError> {
        let server = self
            .api_server
            .clone()
            .or_else(|| facts.endpoint.clone())
            .ok_or_else(|| {
                AppError::failed(
                    format!("cluster {} has no API endpoint yet", facts.name),
                    Some("wait until the cluster is ACTIVE, or pass --api-server URL".to_string()),
                )
            })?;
        let ca_pem = match &self.ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| {
                AppError::usage(
                    format!("cannot read the CA file {}: {e}", p.display()),
                    Some("pass a PEM file with the cluster CA".to_string()),
                )
            })?),
            None => facts.ca_pem.clone(),
        };
        Ok(ApiTarget {
            server,
            ca_pem,
            tls_server_name: self.tls_server_name.clone(),
        })
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  eks-breakglass diagnose --cluster prod\n  \
eks-breakglass diagnose --cluster prod --output json | jq '.paths[0]'\n  \
eks-breakglass diagnose --cluster private-prod --api-server https://127.0.0.1:8443 \\\n      --tls-server-name ABCD.gr7.us-east-1.eks.amazonaws.com\n\n\
Read-only: it changes nothing. The paths are ranked best first; `eks-breakglass recover` takes the\n\
first one it can automate (`--via` picks another).")]
pub struct DiagnoseArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Whether this machine reaches the API server.
#[derive(Debug, Clone, Serialize)]
pub struct Reachability {
    pub server: String,
    /// A TCP connection opened within the timeout.
    pub tcp: bool,
    /// The API server answered over TLS (any HTTP status).
    pub tls: Option<bool>,
    pub detail: String,
    pub ms: u64,
}

/// aws-auth as the caller could read it.
#[derive(Debug, Clone, Serialize)]
pub struct AwsAuthHealth {
    pub readable: bool,
    pub detail: String,
    pub errors: usize,
    pub warnings: usize,
    pub roles: usize,
    pub users: usize,
    pub accounts: usize,
    /// `[CODE] message` of each error.
    pub problems: Vec<String>,
    pub node_roles_missing: Vec<String>,
}

/// Everything the triage found.
#[derive(Debug, Clone, Serialize)]
pub struct Triage {
    pub caller: sts::CallerIdentity,
    pub cluster: ClusterFacts,
    pub reachability: Reachability,
    pub access: CallerAccess,
    pub aws_auth: AwsAuthHealth,
    pub node_roles: Vec<NodeRoleFact>,
    pub node_roles_error: Option<String>,
    pub creator: Option<CreatorReport>,
    pub creator_error: Option<String>,
    pub notes: Vec<String>,
    pub paths: Vec<RecoveryPath>,
    pub elapsed_ms: u64,
    #[serde(skip)]
    pub target: Option<ApiTarget>,
}

async fn probe_tcp(server: &str) -> (bool, String, u64) {
    let start = Instant::now();
    let uri: Result<http::Uri, _> = server.parse();
    let Ok(uri) = uri else {
        return (false, format!("'{server}' is not a URL"), 0);
    };
    let host = uri.host().unwrap_or_default().to_string();
    let port = uri.port_u16().unwrap_or(443);
    let res = tokio::task::spawn_blocking(move || {
        use std::net::ToSocketAddrs as _;
        let addrs: Vec<_> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let mut last = format!("{host} resolves to no address");
        for a in addrs {
            match std::net::TcpStream::connect_timeout(&a, Duration::from_secs(3)) {
                Ok(_) => return Ok(format!("TCP connect to {a} ok")),
                Err(e) => last = format!("TCP connect to {a} failed: {e}"),
            }
        }
        Err(last)
    })
    .await;
    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    match res {
        Ok(Ok(d)) => (true, d, ms),
        Ok(Err(d)) => (false, d, ms),
        Err(e) => (false, e.to_string(), ms),
    }
}

/// Authenticates as the caller; reads aws-auth when allowed.
async fn caller_access(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    target: &ApiTarget,
) -> (CallerAccess, Option<bool>, Option<AwsAuthDocument>, String) {
    let creds = match ctx.credentials().await {
        Ok(c) => c,
        Err(e) => {
            return (
                CallerAccess::Unknown {
                    reason: e.to_string(),
                },
                None,
                None,
                e.to_string(),
            );
        }
    };
    let tok = match token::make_token(&creds, &facts.region, &facts.name, SystemTime::now()) {
        Ok(t) => t,
        Err(e) => {
            let r = e.to_string();
            return (CallerAccess::Unknown { reason: r.clone() }, None, None, r);
        }
    };
    let client = match KubeClient::new(target, &tok.token) {
        Ok(c) => c,
        Err(e) => {
            let r = e.to_string();
            return (CallerAccess::Unknown { reason: r.clone() }, None, None, r);
        }
    };
    let who = tokio::time::timeout(Duration::from_secs(8), client.whoami()).await;
    match who {
        Err(_) => {
            let r = format!("no answer from {} within 8 s", target.server);
            (
                CallerAccess::Unknown { reason: r.clone() },
                Some(false),
                None,
                r,
            )
        }
        Ok(Err(KubeError::Unauthorized)) => (
            CallerAccess::Unauthorized,
            Some(true),
            None,
            "not readable as you: the API server answered 401 Unauthorized".into(),
        ),
        Ok(Err(e)) => {
            let tls = !matches!(e, KubeError::Unreachable { .. });
            let r = e.to_string();
            (
                CallerAccess::Unknown { reason: r.clone() },
                Some(tls),
                None,
                r,
            )
        }
        Ok(Ok(w)) => {
            let (doc, detail) = match client.get_configmap("aws-auth").await {
                Ok(Some(cm)) => (
                    Some(AwsAuthDocument::from_data(
                        &format!("cluster/{}", facts.name),
                        cm.data.unwrap_or_default(),
                    )),
                    "read as you".to_string(),
                ),
                Ok(None) => (
                    Some(AwsAuthDocument::from_data(
                        "absent",
                        Vec::<(String, String)>::new(),
                    )),
                    "kube-system/aws-auth does not exist".to_string(),
                ),
                Err(e) => (None, format!("not readable as you: {e}")),
            };
            (
                CallerAccess::Authenticated {
                    username: w.username,
                    groups: w.groups,
                    can_read_aws_auth: doc.is_some(),
                },
                Some(true),
                doc,
                detail,
            )
        }
    }
}

fn health(doc: Option<&AwsAuthDocument>, detail: String, roles: &[NodeRoleFact]) -> AwsAuthHealth {
    let Some(doc) = doc else {
        return AwsAuthHealth {
            readable: false,
            detail,
            errors: 0,
            warnings: 0,
            roles: 0,
            users: 0,
            accounts: 0,
            problems: vec![],
            node_roles_missing: vec![],
        };
    };
    let a = awsauth::analyze(
        doc,
        &awsauth::ClusterFacts {
            node_roles: roles.to_vec(),
        },
    );
    AwsAuthHealth {
        readable: true,
        detail,
        errors: a.errors(),
        warnings: a.warnings(),
        roles: a.effective.active_roles().count(),
        users: a.effective.active_users().count(),
        accounts: a.effective.accounts.len(),
        problems: a
            .findings
            .iter()
            .filter(|f| f.severity == awsauth::Severity::Error)
            .map(|f| format!("[{}] {}", f.code, f.message))
            .collect(),
        node_roles_missing: roles
            .iter()
            .filter(|r| !recover::node_role_mapped(&a.effective, &r.arn))
            .map(|r| r.arn.clone())
            .collect(),
    }
}

/// The triage, with every independent question asked at the same time.
pub async fn triage(
    ctx: &AwsContext,
    cluster: &str,
    target_args: &TargetArgs,
) -> Result<Triage, AppError> {
    let start = Instant::now();
    let (me, facts) = tokio::join!(
        sts::caller_identity(ctx),
        crate::aws::eks::describe_cluster(ctx, cluster)
    );
    let (me, facts) = (me?, facts?);
    let target = target_args.target(&facts)?;
    let caller = Caller {
        arn: me.arn.clone(),
        account: me.account.clone(),
        user_id: me.user_id.clone(),
    };
    let opts = FindOptions {
        caller: Some(caller),
        ..FindOptions::default()
    };
    let ((tcp, tcp_detail, tcp_ms), (access, tls, doc, doc_detail), creator_res, roles_res) = tokio::join!(
        probe_tcp(&target.server),
        caller_access(ctx, &facts, &target),
        creator::find_creator(ctx, &facts, &opts),
        eks_nodes::node_roles(ctx, &facts.name),
    );
    let (node_roles, node_roles_error) = match roles_res {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let (creator, creator_error) = match creator_res {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let mut notes = Vec::new();
    let unreachable = !tcp || tls == Some(false);
    let endpoint_host = host_of(facts.endpoint.as_deref().unwrap_or(&target.server));
    match (facts.private_only(), unreachable, &target_args.api_server) {
        (true, true, None) => notes.push(format!(
            "{} has a private endpoint only: it is reachable from inside its VPC. Go through a bastion or tunnel \
             (e.g. `ssh -N -L 8443:{endpoint_host}:443 bastion`) and pass --api-server https://127.0.0.1:8443 --tls-server-name {endpoint_host}",
            facts.name
        )),
        (true, true, Some(tunnel)) => notes.push(format!(
            "{} has a private endpoint only, and the tunnel {tunnel} did not answer: check that it is up \
             (e.g. `ssh -N -L 8443:{endpoint_host}:443 bastion`) and that --tls-server-name is {endpoint_host}",
            facts.name
        )),
        (true, false, _) => notes.push(format!(
            "{} has a private endpoint only; it is reachable from here (inside the VPC, or through --api-server)",
            facts.name
        )),
        (false, true, _) => notes.push(format!(
            "the API server {} could not be reached from here: check the network, proxies and the endpoint's public access CIDRs",
            target.server
        )),
        (false, false, _) => {}
    }
    if facts.bootstrap_creator_admin == Some(false) {
        notes.push("the cluster was created with bootstrapClusterCreatorAdminPermissions=false: its creator has no implicit access".into());
    }
    let situation = Situation {
        cluster: facts.name.clone(),
        auth_mode: facts.effective_auth_mode(),
        bootstrap_creator_admin: facts.bootstrap_creator_admin,
        caller: access.clone(),
        caller_can_have_entry: matches!(
            PrincipalArn::parse(&me.arn),
            Ok(PrincipalArn::User { .. } | PrincipalArn::AssumedRole { .. })
        ),
        creator: creator.as_ref().and_then(CreatorFacts::from_report),
        endpoint_unreachable: unreachable,
    };
    let paths = diagnosis::rank_paths(&situation);
    let aws_auth = health(doc.as_ref(), doc_detail, &node_roles);
    Ok(Triage {
        caller: me,
        reachability: Reachability {
            server: target.server.clone(),
            tcp,
            tls,
            detail: tcp_detail,
            ms: tcp_ms,
        },
        cluster: facts,
        access,
        aws_auth,
        node_roles,
        node_roles_error,
        creator,
        creator_error,
        notes,
        paths,
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        target: Some(target),
    })
}

fn host_of(server: &str) -> String {
    server
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| server.to_string())
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// The triage for people.
pub fn render(t: &Triage) -> String {
    render_parts(t, true)
}

/// The triage as `recover` shows it: without the "Next: eks-breakglass recover" line, which
/// would tell the operator to start what is already running.
pub fn render_in_recover(t: &Triage) -> String {
    render_parts(t, false)
}

fn render_parts(t: &Triage, next: bool) -> String {
    let c = &t.cluster;
    let mut s = format!(
        "Cluster {} ({}): {}, Kubernetes {}, platform {}\n",
        c.name,
        c.region,
        c.status.as_deref().unwrap_or("?"),
        c.version.as_deref().unwrap_or("?"),
        c.platform_version.as_deref().unwrap_or("?")
    );
    let r = &t.reachability;
    s.push_str(&format!(
        "  endpoint:    {} (public: {}, private: {}) — {}\n",
        r.server,
        yes_no(c.endpoint_public_access),
        yes_no(c.endpoint_private_access),
        if r.tcp && r.tls != Some(false) {
            format!("reachable from here ({} ms)", r.ms)
        } else {
            format!("NOT reachable from here: {}", r.detail)
        }
    ));
    s.push_str(&format!(
        "  auth mode:   {}{}; creator admin: {}\n",
        c.effective_auth_mode().as_str(),
        if c.auth_mode.is_none() {
            " (no accessConfig: legacy)"
        } else {
            ""
        },
        yes_no(c.bootstrap_creator_admin)
    ));
    s.push_str(&format!("\nYou: {}\n", t.caller.arn));
    s.push_str(&format!(
        "  Kubernetes:  {}\n",
        match &t.access {
            CallerAccess::Authenticated {
                username, groups, ..
            } => format!("authenticated as {username} [{}]", groups.join(", ")),
            CallerAccess::Unauthorized =>
                "LOCKED OUT: 401 Unauthorized (your identity is not mapped; aws-auth is the usual cause)"
                    .into(),
            CallerAccess::Unknown { reason } => format!("could not ask: {reason}"),
        }
    ));
    let a = &t.aws_auth;
    s.push_str("\naws-auth: ");
    if a.readable {
        s.push_str(&format!(
            "{} error(s), {} warning(s); loaded {} role(s), {} user(s), {} account(s)\n",
            a.errors, a.warnings, a.roles, a.users, a.accounts
        ));
        for p in &a.problems {
            s.push_str(&format!("  - {p}\n"));
        }
        for n in &a.node_roles_missing {
            s.push_str(&format!(
                "  - node role not mapped: {n} (its nodes go NotReady)\n"
            ));
        }
    } else {
        s.push_str(&format!("{}\n", a.detail));
    }
    if !t.node_roles.is_empty() {
        s.push_str(&format!(
            "  node roles the cluster has: {}\n",
            t.node_roles
                .iter()
                .map(|r| r.arn.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s.push_str("\nCreator: ");
    match (&t.creator, &t.creator_error) {
        (Some(rep), _) => match &rep.creator {
            Some(cr) => {
                s.push_str(&format!(
                    "{} ({}, from {})\n",
                    cr.arn,
                    cr.kind.describe(),
                    cr.source.describe()
                ));
                if let Some(st) = &rep.status {
                    s.push_str(&format!("  status: {}\n", st.summary));
                }
            }
            None => s.push_str(&format!("not found: {}\n", rep.verdict.reason)),
        },
        (None, Some(e)) => s.push_str(&format!("could not be searched: {e}\n")),
        (None, None) => s.push_str("not searched\n"),
    }
    for n in &t.notes {
        s.push_str(&format!("\n! {n}\n"));
    }
    s.push_str("\nWays back in (best first):\n");
    for (i, p) in t.paths.iter().enumerate() {
        s.push_str(&format!("  {}. {}\n", i + 1, p.title));
        s.push_str(&format!("     why:   {}\n", p.reason));
        if !p.needs.is_empty() {
            s.push_str(&format!("     needs: {}\n", p.needs.join(", ")));
        }
        s.push_str(&format!("     run:   {}\n", p.command));
    }
    if next && let Ok(p) = diagnosis::choose(&t.paths, None) {
        s.push_str(&format!(
            "\nNext: eks-breakglass recover --cluster {}{}\n",
            c.name,
            p.consent
                .as_deref()
                .map(|f| format!(" {f}"))
                .unwrap_or_default()
        ));
    }
    s.push_str(&format!("(triage took {} ms)\n", t.elapsed_ms));
    s
}

pub async fn run(g: &Globals, args: &DiagnoseArgs) -> Result<u8, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let t = triage(&ctx, &args.cluster, &args.target).await?;
    // issue 17: access entries (stale, shadowing, creator route, reveal the creator).
    let known = t.creator.as_ref().is_some_and(|r| r.creator.is_some());
    let entries =
        crate::aws::entries_read::diagnose(&ctx, &t.cluster, t.target.as_ref(), known).await;
    if g.json() {
        let mut v = serde_json::to_value(&t)
            .map_err(|e| AppError::failed(format!("cannot encode JSON: {e}"), None))?;
        v["access_entries"] = serde_json::to_value(&entries).unwrap_or_default();
        v["aws_calls"] = serde_json::json!(ctx.calls.counts_by_service());
        println!("{v}");
    } else {
        print!("{}{}", render(&t), entries.render(&t.cluster.name));
    }
    Ok(exit::OK)
}
