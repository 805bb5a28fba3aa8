//! Triage: the read-only look at a cluster in trouble that `diagnose` prints and `recover`
//! starts with.
//!
//! Everything the on-call engineer would otherwise collect by hand, asked concurrently through
//! the [`TriageSources`] and [`CreatorSources`] ports: who am I, what is the cluster (mode,
//! creator-admin flag, endpoint), can this machine reach the API server, can I authenticate (a
//! SelfSubjectReview; 401 = locked out), what does aws-auth look like when readable, who created
//! the cluster. Decided here: what the answers mean (reachability advice, aws-auth health, the
//! [`Situation`]); the ways back in are ranked by [`diagnosis::rank_paths`]. No printing: the
//! report is rendered by `ui::triage`.

use crate::arn::PrincipalArn;
use crate::awsauth::{self, AwsAuthDocument, NodeRoleFact};
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::ports::creator_sources::CreatorSources;
use crate::ports::triage::{ApiAccess, ApiTarget, CallerIdentity, TriageSources};
use crate::recovery::creator::{self, CreatorReport, FindOptions};
use crate::recovery::diagnosis::{self, CallerAccess, CreatorFacts, RecoveryPath, Situation};
use crate::recovery::recover;
use crate::recovery::trust::Caller;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Instant;

/// What to triage.
#[derive(Debug, Clone)]
pub struct TriageOptions<'a> {
    pub cluster: &'a str,
    /// The `--api-server` given (a tunnel or bastion), if any.
    pub api_server: Option<&'a str>,
    /// Now, for the creator search's CloudTrail windows.
    pub now: DateTime<Utc>,
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
    pub caller: CallerIdentity,
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
    /// The command to run next (the first way back in `recover` can take), with the flags this
    /// triage was run with (`--region`, the tunnel's `--api-server`/`--tls-server-name`), so
    /// that it is run as shown against the same cluster and through the same tunnel.
    pub next: Option<String>,
    pub elapsed_ms: u64,
    #[serde(skip)]
    pub target: Option<ApiTarget>,
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
///
/// `target` turns the cluster's facts into the API target (the command applies `--api-server`,
/// `--tls-server-name`, `--ca-file`); `opts.api_server` says whether a tunnel was given, which
/// changes the advice when the endpoint is not reachable.
pub async fn triage<W: TriageSources, C: CreatorSources>(
    world: &W,
    creator_sources: &mut C,
    opts: &TriageOptions<'_>,
    target: impl FnOnce(&ClusterFacts) -> Result<ApiTarget, AppError>,
) -> Result<Triage, AppError> {
    let start = Instant::now();
    let (me, facts) = tokio::join!(
        world.caller_identity(),
        world.describe_cluster(opts.cluster)
    );
    let (me, facts) = (me?, facts?);
    let target = target(&facts)?;
    let caller = Caller {
        arn: me.arn.clone(),
        account: me.account.clone(),
        user_id: me.user_id.clone(),
    };
    creator_sources.known_caller(&caller);
    let find = FindOptions {
        caller: Some(caller),
        now: opts.now,
        ..FindOptions::default()
    };
    let (probe, api, creator_res, roles_res) = tokio::join!(
        world.probe_tcp(&target.server),
        world.caller_access(&facts, &target),
        creator::find_creator_with(creator_sources, &facts, &find),
        world.node_roles(&facts.name),
    );
    let ApiAccess {
        access,
        tls,
        timed_out,
        aws_auth: doc,
        detail: doc_detail,
    } = api;
    // No answer in time counts as not reachable over TLS: at 3 a.m. a hanging endpoint is
    // one to route around (a tunnel, the notes below), not one to wait for.
    let tls = if timed_out { Some(false) } else { tls };
    let (node_roles, node_roles_error) = match roles_res {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let (creator, creator_error) = match creator_res {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let unreachable = !probe.reachable || tls == Some(false);
    let notes = notes(&facts, &target, unreachable, opts.api_server);
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
    let flags = rerun_flags(
        &facts.region,
        opts.api_server,
        target.tls_server_name.as_deref(),
    );
    let paths: Vec<RecoveryPath> = diagnosis::rank_paths(&situation)
        .into_iter()
        .map(|mut p| {
            p.command = with_flags(&p.command, &flags);
            p
        })
        .collect();
    let next = next_command(&facts.name, &paths, &flags);
    let aws_auth = health(doc.as_ref(), doc_detail, &node_roles);
    Ok(Triage {
        caller: me,
        reachability: Reachability {
            server: target.server.clone(),
            tcp: probe.reachable,
            tls,
            detail: probe.detail,
            ms: probe.ms,
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
        next,
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        target: Some(target),
    })
}

/// The flags a command shown by the triage needs to act on the same cluster the same way:
/// `--region` (the cluster's, which may have come from the `--region` flag rather than the
/// environment), and for commands that talk to the API server the tunnel it was reached through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RerunFlags {
    pub region: String,
    pub tunnel: String,
}

/// [`RerunFlags`] for a triage of a cluster in `region`, through `api_server` if given.
pub fn rerun_flags(
    region: &str,
    api_server: Option<&str>,
    tls_server_name: Option<&str>,
) -> RerunFlags {
    let region = if region.is_empty() {
        String::new()
    } else {
        format!(" --region {region}")
    };
    let tunnel = match api_server {
        Some(s) => format!(
            " --api-server {s}{}",
            tls_server_name
                .map(|n| format!(" --tls-server-name {n}"))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    RerunFlags { region, tunnel }
}

/// `command` with the flags it needs appended: the region for every eks-breakglass command, the
/// tunnel for those that reach the API server through `--api-server` (`recover`, `diagnose`).
pub fn with_flags(command: &str, flags: &RerunFlags) -> String {
    if !command.starts_with("eks-breakglass ") {
        return command.to_string();
    }
    let tunnel = ["eks-breakglass recover ", "eks-breakglass diagnose "]
        .iter()
        .any(|c| command.starts_with(c));
    format!(
        "{command}{}{}",
        flags.region,
        if tunnel { flags.tunnel.as_str() } else { "" }
    )
}

/// The "Next:" command: `recover` on the first way back in it can take by itself, with the
/// consent flag that way needs and the flags of [`with_flags`]; `None` when there is none.
pub fn next_command(cluster: &str, paths: &[RecoveryPath], flags: &RerunFlags) -> Option<String> {
    let p = diagnosis::choose(paths, None).ok()?;
    let consent = p
        .consent
        .as_deref()
        .map(|f| format!(" {f}"))
        .unwrap_or_default();
    Some(with_flags(
        &format!("eks-breakglass recover --cluster {cluster}{consent}"),
        flags,
    ))
}

/// What to tell the operator about reaching the API server and the creator's admin.
fn notes(
    facts: &ClusterFacts,
    target: &ApiTarget,
    unreachable: bool,
    api_server: Option<&str>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let endpoint_host = host_of(facts.endpoint.as_deref().unwrap_or(&target.server));
    match (facts.private_only(), unreachable, api_server) {
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
    notes
}

fn host_of(server: &str) -> String {
    server
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| server.to_string())
}

#[cfg(test)]
mod tests;
