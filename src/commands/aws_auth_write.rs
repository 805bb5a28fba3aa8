//! `aws-auth restore`, and the one write path every aws-auth write goes through.
//!
//! Restore and edit differ only in where the new version comes from. Everything after that is
//! shared here, so that it is careful the same way: the live object is read (its
//! resourceVersion kept), the new one linted (errors refuse the write), the mapping diff shown,
//! the write planned with its undo and the previous version saved beside the journal, confirmed,
//! applied as a compare-and-swap — a 409 means someone changed aws-auth since it was read: it is
//! re-read and re-diffed, and the operator asked again — and finally verified by reading it back
//! and by authenticating.

use super::aws_auth::{diff_text, format_finding, input_error, read_input};
use super::plan_ui::{self, Decision};
use crate::aws::cluster_api::{self, Connected, KubeAccess};
use crate::aws::plan_runner::AwsRunner;
use crate::aws::{AwsContext, eks_nodes, s3_objects, sts};
use crate::awsauth::{self, AwsAuthDocument, CallerIdentity, MatchOutcome, NodeRoleFact};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::k8s::KubeError;
use crate::recovery::journal::{Event, Journal};
use crate::recovery::plan::{self, Action, Outcome, Plan, SavedState, Undo};
use crate::recovery::restore::{self, AwsAuthObject, Candidate, Prepared};
use crate::recovery::snapshot;
use clap::Args;
use k8s_openapi::api::core::v1::ConfigMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How to reach the API server (shared by restore, edit and snapshot).
#[derive(Args, Debug, Clone, Default)]
pub struct ApiArgs {
    /// Talk to the cluster as this IAM role, assumed from your credentials first (e.g. the creator's role)
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// API server URL to use instead of DescribeCluster's endpoint (a tunnel or bastion to a private endpoint)
    #[arg(long, value_name = "URL")]
    pub api_server: Option<String>,
    /// Cluster CA bundle (PEM) to use instead of DescribeCluster's
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Name to check the server certificate against (the endpoint's host name, through a tunnel)
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

impl ApiArgs {
    pub fn access(&self, cluster: &str) -> KubeAccess {
        KubeAccess {
            cluster: cluster.to_string(),
            api_server: self.api_server.clone(),
            ca_file: self.ca_file.as_ref().map(|p| p.display().to_string()),
            tls_server_name: self.tls_server_name.clone(),
            role_arn: self.role_arn.clone(),
        }
    }
}

/// What every write takes on top of the API access.
#[derive(Args, Debug, Clone, Default)]
pub struct WriteArgs {
    /// After the write, assume this role and prove it gets in as the new aws-auth maps it;
    /// refused: the verification fails (exit 1) (repeatable)
    #[arg(long = "verify-as", value_name = "ROLE_ARN", value_parser = crate::arn::role_arn_value)]
    pub verify_as: Vec<String>,
    /// The run directory for the journal and backups (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// How long to retry authenticating during verification, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}

#[derive(Args, Debug)]
#[command(after_help = "Sources (--from):\n  \
FILE            an aws-auth ConfigMap (YAML or JSON, `kubectl get -o yaml` output, a backup\n                  from a run directory) or an eksctl ClusterConfig (iamIdentityMappings)\n  \
DIR             a snapshot directory written by `aws-auth snapshot --to DIR`: the latest, or\n                  with --at TIME the latest taken at or before TIME\n  \
s3://BUCKET/P   the same, in S3\n  \
salvage         what still parses in the live (broken) aws-auth; no entry's ARN is changed\n                  (a role ARN with a path is left out) unless --salvage-fix-arns names it\n  \
rebuild         node group and Fargate roles from EKS, plus each --admin-role\n\n\
What is kept: the live object's labels, annotations and data keys the source lacks; a mapping\n\
section the source lacks is kept when it loads. Node and Fargate roles EKS knows of are added\n\
when the source misses them (not with --exact). The previous object is saved in the run\n\
directory, and `eks-breakglass cleanup --rollback` puts it back (unless someone changed aws-auth since;\n\
give cleanup the same --role-arn, --api-server and --ca-file the restore used).\n\n\
Who gains what: before the plan, every identity whose access changes is listed (groups before\n\
-> after, system:masters flagged). A gain that nothing in the live aws-auth names (not a node\n\
role, not an --admin-role) is NEW access: --yes alone refuses it (exit 4); --allow-access-gain ARN\n\
allows the gain of the identity it names only (an account id for mapAccounts; repeatable), a\n\
terminal lists each gain and asks you to type `allow`; --dry-run shows it.\n\n\
A concurrent change (409): the object is re-read and re-diffed; in a terminal you are asked\n\
again (if you confirm, the version you replace is saved in the run directory too); with --yes\n\
the write is retried\n\
only if it overwrites nothing the other change touched (data key, label, annotation), otherwise\n\
nothing is written (exit 4) and your version is kept in the run directory.\n\n\
Examples:\n  \
eks-breakglass aws-auth restore --cluster prod --from salvage\n  \
eks-breakglass aws-auth restore --cluster prod --from salvage --salvage-fix-arns arn:aws:iam::123456789012:role/team/ops --dry-run\n  \
eks-breakglass aws-auth restore --cluster prod --from ./aws-auth-snapshots --at 2026-01-02T10:00:00Z\n  \
eks-breakglass aws-auth restore --cluster prod --from rebuild --admin-role arn:aws:iam::123456789012:role/ops --yes\n  \
eks-breakglass aws-auth restore --cluster prod --from known-good.yaml --verify-as arn:aws:iam::123456789012:role/dev-admin\n  \
eks-breakglass aws-auth restore --cluster prod --from s3://team-bucket/aws-auth --api-server https://127.0.0.1:8443 \\\n      --tls-server-name ABCD.gr7.us-east-1.eks.amazonaws.com\n\n\
Each --verify-as role must get in after the write, as the new aws-auth maps it; a role that is\n\
refused: the verification fails (exit 1), as in `recover`.\n\n\
Exit codes: 0 restored and verified (or nothing to change), 1 write refused or verification failed,\n\
2 bad source, 3 the candidate has lint errors (nothing written), 4 needs confirmation (or\n\
an --allow-access-gain naming each NEW gain).")]
pub struct RestoreArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// FILE, snapshot DIR, s3://BUCKET/PREFIX, `salvage` or `rebuild` (see below)
    #[arg(long, value_name = "SOURCE")]
    pub from: String,
    /// With a snapshot source: the latest snapshot taken at or before TIME (RFC 3339, or a date)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Do not add node group / Fargate roles the source lacks (they are still reported)
    #[arg(long)]
    pub exact: bool,
    /// With `--from rebuild`: a role to map to system:masters (repeatable)
    #[arg(long = "admin-role", value_name = "ARN")]
    pub admin_roles: Vec<String>,
    /// With `--from salvage`: let salvage rewrite this role ARN with a path (as written in aws-auth) to its path-less ARN, so that it matches for the first time (repeatable or comma-separated)
    #[arg(long = "salvage-fix-arns", value_name = "ARN", value_delimiter = ',')]
    pub salvage_fix_arns: Vec<String>,
    /// Approve the NEW access this identity gains (a role or user ARN, or an account id for mapAccounts); only the identities named are approved, anything else NEW is still refused (repeatable or comma-separated; --yes alone never approves a gain)
    #[arg(
        long = "allow-access-gain",
        value_name = "ARN|ACCOUNT",
        value_delimiter = ','
    )]
    pub allow_access_gain: Vec<String>,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// A connection to the cluster for writing aws-auth.
pub struct Session {
    /// The caller's context (journaled writes and cleanup start from it).
    pub base: AwsContext,
    pub access: KubeAccess,
    pub conn: Connected,
    /// Who the identity used is (GetCallerIdentity of the identity used).
    pub caller: sts::CallerIdentity,
}

impl Session {
    pub async fn open(g: &Globals, cluster: &str, api: &ApiArgs) -> Result<Session, AppError> {
        let base = AwsContext::load(&g.aws_options()).await?;
        let access = api.access(cluster);
        let conn = cluster_api::connect(&base, &access).await?;
        let caller = sts::caller_identity(&conn.ctx).await?;
        Ok(Session {
            base,
            access,
            conn,
            caller,
        })
    }

    /// The live aws-auth (`None` when it does not exist).
    pub async fn read_live(&self) -> Result<Option<ConfigMap>, AppError> {
        Ok(self.conn.client.get_configmap("aws-auth").await?)
    }

    pub async fn node_roles(&self) -> Result<Vec<NodeRoleFact>, AppError> {
        Ok(eks_nodes::node_roles(&self.base, &self.conn.facts.name).await?)
    }
}

/// The live ConfigMap as an aws-auth document (metadata kept, for rendering).
pub fn live_document(cluster: &str, cm: &ConfigMap) -> Result<AwsAuthDocument, AppError> {
    let json = serde_json::to_string(cm)
        .map_err(|e| AppError::failed(format!("cannot encode the ConfigMap: {e}"), None))?;
    AwsAuthDocument::from_live_json(&format!("cluster/{cluster}"), &json).map_err(input_error)
}

fn candidate_error(e: restore::CandidateError) -> AppError {
    AppError::usage(
        e.to_string(),
        Some(
            "give an aws-auth with mapRoles/mapUsers/mapAccounts as strings (`data.mapRoles: |`)"
                .to_string(),
        ),
    )
}

/// A candidate from bytes read from `origin`.
pub fn candidate_from_bytes(origin: &str, bytes: &[u8]) -> Result<Candidate, AppError> {
    candidate_for_cluster(origin, bytes, None, None)
}

/// A candidate from bytes read from `origin`, refused when it says it is for another cluster
/// (an eksctl ClusterConfig's metadata.name / metadata.region).
pub fn candidate_for_cluster(
    origin: &str,
    bytes: &[u8],
    cluster: Option<&str>,
    region: Option<&str>,
) -> Result<Candidate, AppError> {
    let doc = awsauth::read_document(origin, bytes).map_err(input_error)?;
    if let Some(cluster) = cluster {
        restore::check_written_for(origin, doc.written_for.as_ref(), cluster, region).map_err(
            |e| {
                AppError::usage(
                    e.to_string(),
                    Some(format!(
                        "give the aws-auth (or the eksctl ClusterConfig) of {cluster} itself"
                    )),
                )
            },
        )?;
    }
    restore::candidate_from_document(&doc).map_err(candidate_error)
}

/// Reads the snapshot of `cluster` under a local directory.
fn snapshot_from_dir(dir: &Path, cluster: &str, at: Option<&str>) -> Result<Candidate, AppError> {
    let at_time = parse_at(at)?;
    let history = dir.join(cluster);
    let mut names: Vec<String> = std::fs::read_dir(&history)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let path = match snapshot::pick(&names, at_time) {
        Some(name) => dir.join(snapshot::yaml_path(cluster, name)),
        None if at_time.is_none() && dir.join(snapshot::yaml_name(cluster)).is_file() => {
            dir.join(snapshot::yaml_name(cluster))
        }
        None => {
            return Err(AppError::usage(
                format!(
                    "no snapshot of {cluster} in {}{}",
                    dir.display(),
                    at.map(|a| format!(" taken at or before {a}"))
                        .unwrap_or_default()
                ),
                Some(format!(
                    "snapshots taken: {}; take one with `eks-breakglass aws-auth snapshot --cluster {cluster} --to {}`",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    },
                    dir.display()
                )),
            ));
        }
    };
    let bytes = read_input(&path.display().to_string())?;
    candidate_from_bytes(&format!("snapshot {}", path.display()), &bytes)
}

fn parse_at(at: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    at.map(|a| {
        snapshot::parse_at(a).ok_or_else(|| {
            AppError::usage(
                format!("--at {a}: not a time"),
                Some("use RFC 3339 (2026-01-02T10:00:00Z), a date (2026-01-02) or a snapshot name (20260102T100000Z)".to_string()),
            )
        })
    })
    .transpose()
}

async fn snapshot_from_s3(
    ctx: &AwsContext,
    url: &str,
    cluster: &str,
    at: Option<&str>,
) -> Result<Candidate, AppError> {
    let (bucket, prefix) = s3_objects::parse_url(url)
        .ok_or_else(|| AppError::usage(format!("{url} is not an s3://BUCKET/PREFIX URL"), None))?;
    let at_time = parse_at(at)?;
    let mut names = s3_objects::list_dirs(ctx, &bucket, &s3_objects::key(&prefix, cluster)).await?;
    names.sort();
    let Some(name) = snapshot::pick(&names, at_time) else {
        return Err(AppError::usage(
            format!("no snapshot of {cluster} under {url}"),
            Some(format!(
                "take one with `eks-breakglass aws-auth snapshot --cluster {cluster} --to {url}`"
            )),
        ));
    };
    let key = s3_objects::key(&prefix, &snapshot::yaml_path(cluster, name));
    let text = s3_objects::get(ctx, &bucket, &key)
        .await?
        .ok_or_else(|| AppError::failed(format!("s3://{bucket}/{key} is missing"), None))?;
    candidate_from_bytes(&format!("snapshot s3://{bucket}/{key}"), text.as_bytes())
}

pub async fn restore(g: &Globals, a: &RestoreArgs) -> Result<u8, AppError> {
    check_verify_as(&a.write.verify_as)?;
    if a.at.is_some() && matches!(a.from.as_str(), "salvage" | "rebuild") {
        return Err(AppError::usage(
            "--at applies to snapshot sources only",
            None,
        ));
    }
    if !a.salvage_fix_arns.is_empty() && a.from != "salvage" {
        return Err(AppError::usage(
            "--salvage-fix-arns applies to --from salvage only",
            Some("fix the ARNs in the source file instead".to_string()),
        ));
    }
    if !a.admin_roles.is_empty() && a.from != "rebuild" {
        return Err(AppError::usage(
            "--admin-role applies to --from rebuild only",
            Some("add roles to the source file instead".to_string()),
        ));
    }
    for r in &a.admin_roles {
        refuse_session_arn("--admin-role", r)?;
    }
    let s = Session::open(g, &a.cluster, &a.api).await?;
    let live = s.read_live().await?;
    let node_roles = s.node_roles().await?;
    let candidate = match a.from.as_str() {
        "salvage" => {
            let cm = live.as_ref().ok_or_else(|| {
                AppError::usage(
                    format!("{} has no aws-auth to salvage", a.cluster),
                    Some("use --from rebuild, a snapshot or a file".to_string()),
                )
            })?;
            let (c, report) =
                restore::salvage_candidate(&cluster_api::object_of(cm), &a.salvage_fix_arns)
                    .map_err(candidate_error)?;
            for (what, items) in [("changed", &report.changed), ("lost", &report.lost)] {
                for item in items {
                    eprintln!(
                        "salvage: {what}: {} line {}: {}",
                        item.section, item.line, item.message
                    );
                }
            }
            c
        }
        "rebuild" => restore::rebuild(&node_roles, &a.admin_roles),
        src if src.starts_with("s3://") => {
            snapshot_from_s3(&s.base, src, &a.cluster, a.at.as_deref()).await?
        }
        src if Path::new(src).is_dir() => {
            snapshot_from_dir(Path::new(src), &a.cluster, a.at.as_deref())?
        }
        src => {
            if a.at.is_some() {
                return Err(AppError::usage(
                    format!("--at needs a snapshot directory or s3:// URL, and {src} is a file"),
                    None,
                ));
            }
            candidate_for_cluster(
                src,
                &read_input(src)?,
                Some(&a.cluster),
                Some(&s.base.region),
            )?
        }
    };
    let exact = a.exact;
    let salvage = a.from == "salvage";
    let fixes = a.salvage_fix_arns.clone();
    // After a 409, a salvage is made again from the version now in the cluster.
    let make = move |live: Option<&AwsAuthObject>| {
        let c = match live.filter(|_| salvage) {
            Some(l) => restore::salvage_candidate(l, &fixes)
                .map(|(c, _)| c)
                .unwrap_or_else(|_| candidate.clone()),
            None => candidate.clone(),
        };
        restore::prepare(live, c, &node_roles, exact, true)
    };
    let gate = AccessGate::On {
        allowed: a.allow_access_gain.clone(),
    };
    write(g, &s, "aws-auth restore", live, make, &a.write, false, gate).await
}

fn print_findings(prepared: &Prepared) -> String {
    let doc = prepared.object.document("candidate");
    let mut out = String::new();
    for f in &prepared.analysis.findings {
        out.push_str(&format_finding(&doc, f));
    }
    out
}

/// Shows what the write changes: notes, the mapping diff, the text diff with -v.
fn show_change(g: &Globals, live: Option<&AwsAuthObject>, p: &Prepared) {
    let mut out = String::new();
    for n in &p.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(&format!(
        "\nChange of kube-system/aws-auth ({}):\n",
        if live.is_some() {
            "replace"
        } else {
            "create: there is none now"
        }
    ));
    out.push_str(&diff_text(&p.diff));
    out.push('\n');
    if !p.access.changes.is_empty() {
        out.push_str(&format!(
            "\nWho gains or loses access ({}):\n",
            p.access.summary()
        ));
        for l in p.access.lines() {
            out.push_str(&format!("  {l}\n"));
        }
    }
    if g.verbose > 0 {
        let render = |o: &AwsAuthObject| {
            let doc = o.document("x");
            awsauth::render::render_manifest(
                &doc,
                &o.data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>(),
                awsauth::RenderOptions { clean: true },
            )
        };
        let old = live.map(render).unwrap_or_default();
        out.push('\n');
        out.push_str(&awsauth::text_diff(&old, &render(&p.object), "live", "new"));
    }
    if p.analysis.warnings() > 0 {
        out.push_str(&format!(
            "\n{} lint warning(s) in the new version:\n{}",
            p.analysis.warnings(),
            print_findings(p)
        ));
    }
    if g.json() {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
}

/// The plan of one write attempt (`attempt` numbers the step and the files).
fn write_plan(
    s: &Session,
    command: &str,
    live: Option<&ConfigMap>,
    p: &Prepared,
    attempt: u32,
) -> Plan {
    let suffix = if attempt == 1 {
        String::new()
    } else {
        format!("-{attempt}")
    };
    let before = format!("aws-auth.before{suffix}.json");
    let written = format!("aws-auth.written{suffix}.json");
    let rv = live.and_then(|c| c.metadata.resource_version.clone());
    let mut plan = Plan::new(command, &s.conn.facts.name, &s.conn.facts.region);
    plan.notes = p.notes.clone();
    let step = plan.push(
        match &rv {
            Some(v) => format!("replace kube-system/aws-auth (as read: resourceVersion {v})"),
            None => "create kube-system/aws-auth".to_string(),
        },
        "put the new mappings in force (a compare-and-swap: a change made meanwhile is detected, not overwritten)",
        Action::WriteConfigMap {
            cluster: s.conn.facts.name.clone(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            desired_file: written.clone(),
            expected_resource_version: rv,
        },
        Undo::RestoreConfigMap {
            cluster: s.conn.facts.name.clone(),
            namespace: "kube-system".into(),
            name: "aws-auth".into(),
            previous_file: live.map(|_| before.clone()),
            written_file: Some(written.clone()),
        },
    );
    step.id = attempt;
    if let Some(cm) = live {
        step.saves.push(SavedState {
            file: before,
            description: "the aws-auth before this write, as read".into(),
            content: cluster_api::configmap_json(cm),
        });
    }
    step.saves.push(SavedState {
        file: written,
        description: "the aws-auth this step writes".into(),
        content: cluster_api::configmap_json(&cluster_api::configmap_of("aws-auth", &p.object)),
    });
    plan.then
        .push("read aws-auth back and compare its effective mapping with the prediction".into());
    plan.then.push(format!(
        "authenticate as {} (SelfSubjectReview)",
        s.caller.arn
    ));
    plan
}

/// Whether a write that grants new access needs its own consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessGate {
    /// The operator wrote every line of the new version (`aws-auth edit`).
    Off,
    /// A version the operator did not write line by line (restore, salvage, rebuild):
    /// new access needs `--allow-access-gain` naming it, or a typed consent. `allowed` are the
    /// identities named.
    On { allowed: Vec<String> },
}

/// Asks for (or refuses without) the consent a new access gain needs. In `--dry-run` only says
/// what a real run needs.
pub fn access_gate(
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<(), AppError> {
    let new = access_gate_pending(g, p, gate, flag_hint)?;
    if new.is_empty() {
        return Ok(());
    }
    plan_ui::confirm_access_gain(g, &new, flag_hint)
}

/// Everything of [`access_gate`] but the question: the NEW gains still to be consented to at a
/// terminal (empty: nothing to ask). Refuses (exit 4) when there is no terminal or with --yes;
/// in --dry-run says what a real run needs and asks nothing.
pub fn access_gate_pending(
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let AccessGate::On { allowed } = gate else {
        return Ok(Vec::new());
    };
    let unused = p.access.unused_consents(allowed);
    if !unused.is_empty() {
        eprintln!(
            "note: --allow-access-gain {}: this write gives no NEW access to that identity (nothing to approve)",
            unused.join(", ")
        );
    }
    let new: Vec<(String, String)> = p
        .access
        .unconsented(allowed)
        .iter()
        .map(|c| (c.identity.clone(), c.describe()))
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    if g.dry_run {
        let msg = format!(
            "\nThis write grants NEW access ({} identit{}) without a consent naming it; a real run needs {flag_hint}{} (--yes alone is not enough):\n{}\n",
            new.len(),
            if new.len() == 1 { "y" } else { "ies" },
            plan_ui::consent_flags(&new),
            new.iter()
                .map(|(_, l)| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        if g.json() {
            eprint!("{msg}");
        } else {
            print!("{msg}");
        }
        return Ok(Vec::new());
    }
    plan_ui::access_gain_askable(g, &new, flag_hint)?;
    Ok(new)
}

/// Who gets in once the new version is in force: you (the identity used) and each
/// --verify-as role, from the new effective mapping and their access entries. Whether you are
/// the cluster creator (an implicit admin outside aws-auth) is not looked up here, so a
/// refusal of you by the mapping is shown as unknown, not as REFUSED.
async fn predictions(
    s: &Session,
    w: &WriteArgs,
    p: &Prepared,
) -> Vec<crate::recovery::recover::Prediction> {
    use crate::recovery::recover::{self, Who};
    let facts = &s.conn.facts;
    let entry = |principal: String| async move {
        facts.effective_auth_mode().allows_access_entries()
            && matches!(
                crate::aws::access::describe_access_entry(&s.base, &facts.name, &principal).await,
                Ok(Some(_))
            )
    };
    let mapping = p.object.mapping();
    let operator = super::grant::resolve_principal(&s.base, &s.caller.arn)
        .await
        .unwrap_or_else(|_| s.caller.arn.clone());
    let outside = entry(operator.clone())
        .await
        .then(|| format!("the access entry of {operator}"));
    let mut you = recover::predict(
        &mapping,
        &Who {
            role: "operator",
            caller_arn: s.caller.arn.clone(),
            account: s.caller.account.clone(),
            outside_aws_auth: outside,
        },
    );
    if you.gets_in == Some(false) {
        you.gets_in = None;
        you.how.push_str(
            " (unless you are the cluster creator, whose implicit admin aws-auth restore does not check)",
        );
    }
    let mut out = vec![you];
    for role in &w.verify_as {
        let Some((arn, account)) = recover::session_of(role) else {
            continue;
        };
        let outside = entry(role.clone())
            .await
            .then(|| format!("the access entry of {role}"));
        out.push(recover::predict(
            &mapping,
            &Who {
                role: "verify-as",
                caller_arn: arn,
                account,
                outside_aws_auth: outside,
            },
        ));
    }
    out
}

/// The shared write: refuse lint errors (unless `force`), plan, confirm, journal, apply with
/// the resourceVersion read, handle a 409, verify. `make` builds the new version against a
/// live object (called again after a 409). `gate` decides whether new access needs its own
/// consent.
#[allow(clippy::too_many_arguments)]
pub async fn write(
    g: &Globals,
    s: &Session,
    command: &str,
    mut live: Option<ConfigMap>,
    make: impl Fn(Option<&AwsAuthObject>) -> Prepared,
    w: &WriteArgs,
    force: bool,
    gate: AccessGate,
) -> Result<u8, AppError> {
    let mut live_obj = live.as_ref().map(cluster_api::object_of);
    let mut prepared = make(live_obj.as_ref());
    if let Some(code) = refuse(g, &prepared, force)? {
        return Ok(code);
    }
    if prepared.unchanged {
        verify_unchanged(g, s, &prepared, w).await?;
        let msg = "no change: the live aws-auth already is this version; nothing was written";
        if g.json() {
            println!(
                "{}",
                serde_json::json!({"cluster": s.conn.facts.name, "changed": false, "message": msg})
            );
        } else {
            println!("{msg}");
        }
        return Ok(exit::OK);
    }
    show_change(g, live_obj.as_ref(), &prepared);
    let preds = predictions(s, w, &prepared).await;
    let lines: Vec<String> = preds
        .iter()
        .map(|p| {
            format!(
                "    {} {} {}: {}",
                match p.gets_in {
                    Some(true) => "gets in ",
                    Some(false) => "REFUSED ",
                    None => "unknown ",
                },
                p.role,
                p.identity,
                p.how
            )
        })
        .collect();
    let mut text = format!("  after the write (predicted):\n{}", lines.join("\n"));
    // issue 17: mappings an access entry shadows (the principal really gets the entry).
    for l in
        crate::aws::entries_read::shadows_for(&s.base, &s.conn.facts, &prepared.object.mapping())
            .await
    {
        text.push_str(&format!("\n    shadowed: {l}"));
    }
    if g.json() {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
    access_gate(g, &prepared, &gate, "")?;
    let interrupt = plan_ui::catch_interrupt();
    let spinner = plan_ui::Spinner::new();
    let mut attempt = 1u32;
    let mut journal: Option<Journal> = None;
    let mut dir = PathBuf::new();
    let mut runner: Option<AwsRunner> = None;
    loop {
        let plan = write_plan(s, command, live.as_ref(), &prepared, attempt);
        let needs: Vec<String> = match &gate {
            AccessGate::On { allowed } => prepared
                .access
                .unconsented(allowed)
                .iter()
                .map(|c| c.identity.clone())
                .collect(),
            AccessGate::Off => Vec::new(),
        };
        plan_ui::show_plan_with(
            g,
            &plan,
            vec![
                (
                    "access",
                    serde_json::to_value(&prepared.access).unwrap_or_default(),
                ),
                (
                    "needs_consent",
                    serde_json::to_value(needs).unwrap_or_default(),
                ),
                (
                    "predictions",
                    serde_json::to_value(&preds).unwrap_or_default(),
                ),
            ],
        );
        if (attempt == 1 || !g.yes) && plan_ui::confirm(g, 1)? == Decision::DryRun {
            return Ok(exit::OK);
        }
        if journal.is_none() {
            dir = plan_ui::run_dir(w.journal_dir.as_deref(), "aws-auth", &plan.cluster)?;
            journal = Some(plan_ui::start_journal(
                &dir,
                &plan,
                &s.caller.arn,
                s.base.profile.as_deref(),
            )?);
            eprintln!("journal: {}", dir.display());
            let status = {
                let sp = &spinner;
                Box::new(move |m: &str| sp.set(m)) as Box<dyn Fn(&str) + '_>
            };
            let mut r = AwsRunner::new(&s.base, dir.clone(), interrupt.clone(), status);
            // The write goes the way the live object was read: same identity, same endpoint.
            r.kube_credentials = Some(s.conn.creds.clone());
            r.api_target = Some(s.conn.target.clone());
            runner = Some(r);
        }
        let (Some(j), Some(r)) = (journal.as_mut(), runner.as_mut()) else {
            return Err(AppError::failed("the journal could not be opened", None));
        };
        let report = plan::apply(&plan, j, r, &interrupt)
            .await
            .map_err(|e| plan_ui::journal_io(&dir, e))?;
        spinner.done();
        match report.outcome {
            Outcome::Applied => break,
            Outcome::Interrupted { .. } => {
                let undone = plan::undo_all(&report.applied, j, r)
                    .await
                    .map_err(|e| plan_ui::journal_io(&dir, e))?;
                for l in plan_ui::undo_lines(&undone) {
                    eprintln!("{l}");
                }
                let _ = j.record(Event::RunFinished {
                    status: "interrupted".into(),
                });
                return Err(AppError::Interrupted);
            }
            Outcome::Failed { error, .. }
                if attempt < 5 && changed_since(s, live.as_ref()).await =>
            {
                let _ = j.record(Event::Note {
                    text: format!(
                        "attempt {attempt}: aws-auth changed since it was read (compare-and-swap refused); re-reading it"
                    ),
                });
                eprintln!(
                    "\nkube-system/aws-auth was changed by someone else after it was read ({}); nothing was written. Re-reading it.",
                    error.message
                );
                let read_before = live_obj.take();
                live = s.read_live().await?;
                live_obj = live.as_ref().map(cluster_api::object_of);
                prepared = make(live_obj.as_ref());
                let lost =
                    restore::overwritten(read_before.as_ref(), live_obj.as_ref(), &prepared.object);
                if let Some(code) = refuse(g, &prepared, force)? {
                    let _ = j.record(Event::RunFinished {
                        status: "refused".into(),
                    });
                    return Ok(code);
                }
                if prepared.unchanged {
                    let _ = j.record(Event::RunFinished {
                        status: "unchanged".into(),
                    });
                    verify_unchanged(g, s, &prepared, w).await?;
                    println!(
                        "no change: the concurrent change already made aws-auth this version; nothing was written"
                    );
                    return Ok(exit::OK);
                }
                let head = "\nThe change, against the version now in the cluster:";
                if g.json() {
                    eprintln!("{head}");
                } else {
                    println!("{head}");
                }
                show_change(g, live_obj.as_ref(), &prepared);
                if let Err(e) = access_gate(g, &prepared, &gate, "") {
                    let _ = j.record(Event::RunFinished {
                        status: "refused".into(),
                    });
                    return Err(e);
                }
                attempt += 1;
                if !lost.is_empty() {
                    eprintln!(
                        "The other change touched what this write also changes; writing would overwrite its {}.",
                        lost.join(", ")
                    );
                }
                if g.yes && !lost.is_empty() {
                    let _ = j.record(Event::RunFinished {
                        status: "conflict".into(),
                    });
                    let kept = dir.join(format!("aws-auth.written-{attempt}.json"));
                    let _ = j.save_file(
                        &format!("aws-auth.written-{attempt}.json"),
                        cluster_api::configmap_json(&cluster_api::configmap_of(
                            "aws-auth",
                            &prepared.object,
                        ))
                        .as_bytes(),
                    );
                    return Err(AppError::NeedsConfirmation(format!(
                        "aws-auth changed while this run was writing it, and writing now would overwrite part of the other change ({}); nothing was written. Your version is kept in {}",
                        lost.join(", "),
                        kept.display()
                    )));
                }
            }
            Outcome::Failed { error, .. } if error.maybe_changed => {
                let _ = j.record(Event::RunFinished {
                    status: "failed".into(),
                });
                return Err(AppError::failed(
                    format!(
                        "the write of kube-system/aws-auth got no answer ({}); it may or may not have been applied",
                        error.message
                    ),
                    Some(format!(
                        "check with `eks-breakglass aws-auth show --cluster {}`; to put the previous version back: {} --rollback",
                        s.conn.facts.name,
                        plan_ui::cleanup_command(&dir, s.base.profile.as_deref())
                    )),
                ));
            }
            Outcome::Failed { error, .. } => {
                let _ = j.record(Event::RunFinished {
                    status: "failed".into(),
                });
                return Err(AppError::failed(
                    format!("the write of kube-system/aws-auth failed: {}; nothing was changed", error.message),
                    Some(error.hint.unwrap_or_else(|| {
                        "fix the cause and run the command again; the previous version stays as it was".to_string()
                    })),
                ));
            }
        }
    }
    let mut j = journal.ok_or_else(|| AppError::failed("no journal", None))?;
    let outcome = verify(s, &prepared, w, &spinner).await;
    spinner.done();
    for line in &outcome.lines {
        let _ = j.record(Event::Note {
            text: format!("verification: {line}"),
        });
    }
    let _ = j.record(Event::RunFinished {
        status: if outcome.ok {
            "applied".into()
        } else {
            "applied_unverified".into()
        },
    });
    let error = (!outcome.ok).then(|| {
        AppError::failed(
            "aws-auth was written but the verification failed (see above)",
            Some(format!(
                "to put the previous version back: {} --rollback",
                plan_ui::cleanup_command(&dir, s.base.profile.as_deref())
            )),
        )
    });
    if g.json() {
        // One document: the error, if any, goes into it.
        let mut doc = serde_json::json!({
            "cluster": s.conn.facts.name, "changed": true, "journal": dir,
            "backup": live.as_ref().map(|_| dir.join(if attempt == 1 { "aws-auth.before.json".to_string() } else { format!("aws-auth.before-{attempt}.json") })),
            "diff": prepared.diff, "access": prepared.access, "verification": outcome.json, "verified": outcome.ok,
        });
        let error = error.map(|e| e.into_result(&mut doc));
        println!("{doc}");
        return error.map_or(Ok(exit::OK), Err);
    }
    println!("\nApplied. Journal and backup: {}", dir.display());
    for l in &outcome.lines {
        println!("  {l}");
    }
    println!(
        "Undo: {} --rollback",
        plan_ui::cleanup_command(&dir, s.base.profile.as_deref())
    );
    error.map_or(Ok(exit::OK), Err)
}

/// Whether the live aws-auth is no longer the version `read` (a failed compare-and-swap).
async fn changed_since(s: &Session, read: Option<&ConfigMap>) -> bool {
    let rv = |c: Option<&ConfigMap>| c.map(|c| c.metadata.resource_version.clone());
    match s.read_live().await {
        Ok(now) => rv(now.as_ref()) != rv(read),
        Err(_) => false,
    }
}

/// Refuses a version with lint errors: prints them; `Some(exit code)` to stop.
fn refuse(g: &Globals, p: &Prepared, force: bool) -> Result<Option<u8>, AppError> {
    if p.errors() == 0 {
        return Ok(None);
    }
    eprint!("{}", print_findings(p));
    if p.introduced_errors() == 0 {
        eprintln!(
            "warning: {} lint error(s) above are already in the live aws-auth, in what the new version keeps of it; \
             the restore does not make them worse (fix them later with `eks-breakglass aws-auth edit`)",
            p.errors()
        );
        return Ok(None);
    }
    if force {
        eprintln!(
            "warning: the new version has {} lint error(s); --force writes it anyway after confirmation",
            p.introduced_errors()
        );
        return Ok(None);
    }
    eprintln!(
        "refused: the new version has {} lint error(s); the authenticator would lose what is shown above. Nothing was written.",
        p.introduced_errors()
    );
    if g.json() {
        println!(
            "{}",
            serde_json::json!({"changed": false, "refused": "lint_errors", "findings": p.analysis.findings})
        );
    }
    Ok(Some(exit::FINDINGS))
}

/// What verification found.
struct Verified {
    ok: bool,
    lines: Vec<String>,
    json: serde_json::Value,
}

async fn verify(s: &Session, p: &Prepared, w: &WriteArgs, spinner: &plan_ui::Spinner) -> Verified {
    let mut lines = Vec::new();
    let mut ok = true;
    let mut json = serde_json::Map::new();
    // 1. Read back: the effective mapping must be the predicted one, nothing written lost.
    match s.read_live().await {
        Ok(Some(cm)) => {
            let problems = restore::check_written(&p.object, &cluster_api::object_of(&cm));
            if problems.is_empty() {
                lines.push(format!(
                    "read back: the effective mapping equals the prediction ({} role, {} user, {} account entries)",
                    p.analysis.effective.roles.len(),
                    p.analysis.effective.users.len(),
                    p.analysis.effective.accounts.len()
                ));
            } else {
                ok = false;
                lines.extend(problems.iter().map(|x| format!("read back: {x}")));
            }
            json.insert(
                "read_back".into(),
                serde_json::json!({"ok": problems.is_empty(), "problems": problems}),
            );
        }
        Ok(None) => {
            ok = false;
            lines.push("read back: kube-system/aws-auth is gone".into());
        }
        Err(e) => {
            ok = false;
            lines.push(format!("read back failed: {e}"));
        }
    }
    // 2. The identity used still gets in.
    match s.conn.client.whoami().await {
        Ok(who) => {
            lines.push(format!(
                "authenticated as {} → username {}, groups [{}]",
                s.caller.arn,
                who.username,
                who.groups.join(", ")
            ));
            json.insert("identity".into(), serde_json::json!({"arn": s.caller.arn, "username": who.username, "groups": who.groups}));
        }
        Err(e) => {
            ok = false;
            lines.push(format!("authenticating as {} failed: {e}", s.caller.arn));
        }
    }
    // 3. Each --verify-as role is mapped as predicted.
    let mut roles = Vec::new();
    for role in &w.verify_as {
        let (good, line, v) = verify_role(s, p, role, Duration::from_secs(w.wait), spinner).await;
        ok &= good;
        lines.push(line);
        roles.push(v);
    }
    json.insert("verify_as".into(), serde_json::Value::Array(roles));
    Verified {
        ok,
        lines,
        json: serde_json::Value::Object(json),
    }
}

/// Nothing to write: `--verify-as` still means "this identity must get in", checked against
/// the live aws-auth (which already is the wanted version); a refused role fails (exit 1).
/// Not in a dry run, which only says what would be done.
async fn verify_unchanged(
    g: &Globals,
    s: &Session,
    p: &Prepared,
    w: &WriteArgs,
) -> Result<(), AppError> {
    if w.verify_as.is_empty() || g.dry_run {
        return Ok(());
    }
    let spinner = plan_ui::Spinner::new();
    let mut failed = Vec::new();
    for role in &w.verify_as {
        let (good, line, _) = verify_role(s, p, role, Duration::from_secs(w.wait), &spinner).await;
        spinner.done();
        eprintln!("  verification: {line}");
        if !good {
            failed.push(role.clone());
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(AppError::failed(
        format!(
            "nothing was written (aws-auth already is this version), but --verify-as failed: {} not let in as required",
            failed.join(", ")
        ),
        Some(format!(
            "map the role in aws-auth (e.g. `eks-breakglass aws-auth edit --cluster {}`), or drop --verify-as",
            s.conn.facts.name
        )),
    ))
}

async fn verify_role(
    s: &Session,
    p: &Prepared,
    role: &str,
    wait: Duration,
    spinner: &plan_ui::Spinner,
) -> (bool, String, serde_json::Value) {
    let fail = |msg: String| {
        (
            false,
            format!("{role}: {msg}"),
            serde_json::json!({"role": role, "ok": false, "error": msg}),
        )
    };
    let ctx = match cluster_api::identity_ctx(&s.base, Some(role)).await {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot assume it: {e}")),
    };
    let (creds, who) = match (ctx.credentials().await, sts::caller_identity(&ctx).await) {
        (Ok(c), Ok(w)) => (c, w),
        (Err(e), _) => return fail(e.to_string()),
        (_, Err(e)) => return fail(e.to_string()),
    };
    let expected = awsauth::match_identity(
        &p.analysis.effective,
        &CallerIdentity {
            arn: who.arn.clone(),
            account: who.account.clone(),
            session_name: None,
            access_key_id: creds.access_key_id().to_string(),
            ec2_private_dns_name: None,
        },
    );
    let start = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        spinner.set(&format!("authenticating as {role} (attempt {attempts})…"));
        let answer = match cluster_api::client_as(&s.conn.target, &s.conn.facts, &creds) {
            Ok(c) => c.whoami().await.map_err(AppError::from),
            Err(e) => Err(e),
        };
        let verdict = match (&expected, &answer) {
            (
                MatchOutcome::Mapped {
                    username, groups, ..
                },
                Ok(got),
            ) => {
                if &got.username == username && groups.iter().all(|g| got.groups.contains(g)) {
                    Some((
                        true,
                        format!(
                            "{role}: authenticated as {} [{}], as the mapping predicts",
                            got.username,
                            got.groups.join(", ")
                        ),
                    ))
                } else {
                    None
                }
            }
            (MatchOutcome::Mapped { .. }, Err(_)) => None,
            // --verify-as names an identity that must get in (the same meaning as in
            // `recover`): refused is a failed verification, even when the new aws-auth
            // predicted it, because the operator asked for that identity to have access.
            (_, Err(AppError::Kube(KubeError::Unauthorized))) => Some((
                false,
                format!(
                    "{role}: refused (401): the new aws-auth does not map it, and --verify-as asks that it gets in"
                ),
            )),
            (_, Ok(got)) => Some((
                true,
                format!(
                    "{role}: authenticated as {} [{}], though not through aws-auth (an access entry, or the creator)",
                    got.username,
                    got.groups.join(", ")
                ),
            )),
            (_, Err(e)) => Some((false, format!("{role}: {e}"))),
        };
        if let Some((good, line)) = verdict {
            return (
                good,
                line,
                serde_json::json!({"role": role, "ok": good, "expected": expected, "attempts": attempts}),
            );
        }
        if start.elapsed() >= wait {
            let got = match &answer {
                Ok(w) => format!("username {} groups [{}]", w.username, w.groups.join(", ")),
                Err(e) => e.to_string(),
            };
            return (
                false,
                format!(
                    "{role}: expected {}, the cluster answered {got}",
                    serde_json::to_string(&expected).unwrap_or_default()
                ),
                serde_json::json!({"role": role, "ok": false, "expected": expected, "got": got}),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A session ARN named as an admin is refused: aws-auth maps roles, not sessions (an
/// assumed-role entry never matches), so the only way to honour it is to map the whole role —
/// every session of it, i.e. everyone who can assume the role. That is not what someone who
/// named one session meant, so they must name the role themselves.
pub fn refuse_session_arn(flag: &str, arn: &str) -> Result<(), AppError> {
    use crate::awsauth::principal::{ArnShape, canonical_role_arn, classify};
    if !matches!(classify(arn), ArnShape::AssumedRole { .. }) {
        return Ok(());
    }
    let role = canonical_role_arn(arn).unwrap_or_else(|| "the role".to_string());
    Err(AppError::usage(
        format!(
            "{flag} {arn}: an assumed-role session ARN. aws-auth cannot map one session; granting it means mapping the whole role {role}, and then EVERYONE who can assume {role} gets system:masters"
        ),
        Some(format!(
            "if that is meant, pass {flag} {role}; to grant one person only, name their IAM user ARN or a role only they can assume"
        )),
    ))
}

/// `--verify-as` names roles to assume after the write (with the caller's credentials) and
/// log in as. Only an IAM role ARN can be assumed: a user ARN cannot (its keys are not ours),
/// a session ARN is the role's session, anything else is a typo. Refused before any change,
/// in --dry-run too, instead of leaving it out of the prediction and retrying a 401.
pub fn check_verify_as(roles: &[String]) -> Result<(), AppError> {
    use crate::awsauth::principal::{ArnShape, canonical_role_arn, classify};
    for r in roles {
        let why = match classify(r) {
            ArnShape::Role { .. } => continue,
            ArnShape::User { .. } => {
                "an IAM user ARN: a user cannot be assumed, so the run cannot log in as it (check a user yourself with its own keys: `eks-breakglass diagnose --cluster NAME`)".to_string()
            }
            ArnShape::AssumedRole { .. } => format!(
                "an assumed-role session ARN: give the role, {}",
                canonical_role_arn(r).unwrap_or_else(|| "arn:aws:iam::ACCOUNT:role/NAME".into())
            ),
            _ => "not an IAM role ARN".to_string(),
        };
        return Err(AppError::usage(
            format!("--verify-as {r}: {why}"),
            Some(
                "give --verify-as arn:aws:iam::ACCOUNT:role/NAME (a role you can assume)"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}
