//! `aws-auth restore`: put a known version of aws-auth back (a file, a snapshot, salvage,
//! rebuild). The arguments are turned into a [`RestoreRequest`], the source read, and the
//! write engine in `workflow::restore` does the rest (diff, consent, plan, compare-and-swap,
//! verification, undo).

use crate::aws::configmap::Session;
use crate::aws::s3_objects;
use crate::cli::Globals;
pub use crate::cli::{ApiArgs, WriteArgs};
use crate::error::AppError;
use crate::ports::configmap::AwsAuthCluster as _;
use crate::recovery::restore::{self, Candidate, Prepared};
use crate::ui::write::TermUi;
use crate::workflow::restore::{self as wf, RestoreRequest, Source};
use clap::Args;

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
    /// Approve the NEW access this identity gains (a role or user ARN, or an account id for mapAccounts); only the identities named are approved, anything else NEW is still refused (repeatable or comma-separated; --yes alone never approves a gain; an assumed-role session ARN approves nothing: aws-auth maps the whole role, so name the role)
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

impl RestoreArgs {
    fn request(&self) -> RestoreRequest {
        RestoreRequest {
            cluster: self.cluster.clone(),
            from: self.from.clone(),
            at: self.at.clone(),
            exact: self.exact,
            admin_roles: self.admin_roles.clone(),
            salvage_fix_arns: self.salvage_fix_arns.clone(),
            allow_access_gain: self.allow_access_gain.clone(),
        }
    }
}

/// The snapshot under `s3://BUCKET/PREFIX` (`--at`: the latest taken at or before it).
async fn snapshot_from_s3(
    s: &Session,
    url: &str,
    cluster: &str,
    at: Option<&str>,
) -> Result<Candidate, AppError> {
    let (bucket, prefix) = s3_objects::parse_url(url)
        .ok_or_else(|| AppError::usage(format!("{url} is not an s3://BUCKET/PREFIX URL"), None))?;
    wf::parse_at(at)?;
    let names = s3_objects::list_dirs(&s.base, &bucket, &s3_objects::key(&prefix, cluster)).await?;
    let key = s3_objects::key(&prefix, &wf::pick_s3_snapshot(url, cluster, names, at)?);
    let text = s3_objects::get(&s.base, &bucket, &key)
        .await?
        .ok_or_else(|| AppError::failed(format!("s3://{bucket}/{key} is missing"), None))?;
    wf::candidate_from_bytes(&format!("snapshot s3://{bucket}/{key}"), text.as_bytes())
}

pub async fn restore(g: &Globals, a: &RestoreArgs) -> Result<u8, AppError> {
    wf::check_verify_as(&a.write.verify_as)?;
    let req = a.request();
    let source = req.source()?;
    let s = Session::open(g, a.api.access(&a.cluster)).await?;
    let ui = TermUi::new(g);
    let live = s.read_live().await?;
    let node_roles = s.node_roles().await?;
    let candidate = match &source {
        Source::Salvage => wf::salvage(&ui, &a.cluster, live.as_ref(), &a.salvage_fix_arns)?,
        Source::Rebuild => restore::rebuild(&node_roles, &a.admin_roles),
        Source::S3(url) => snapshot_from_s3(&s, url, &a.cluster, a.at.as_deref()).await?,
        Source::Dir(dir) => wf::snapshot_from_dir(dir, &a.cluster, a.at.as_deref())?,
        Source::File(src) => wf::candidate_for_cluster(
            src,
            &wf::read_input(src)?,
            Some(&a.cluster),
            Some(&s.base.region),
        )?,
    };
    let w = a.write.options();
    wf::restore(g, &s, &ui, &req, live, node_roles, candidate, &w).await
}

// merge: 16b — what recover calls today, with the signatures it calls; the engine is
// `crate::workflow::restore` (recover's workflow calls it there with its own ui port).
pub use crate::workflow::restore::{
    AccessGate, candidate_for_cluster, check_verify_as, refuse_session_arn,
};

/// [`wf::access_gate`] at the terminal.
pub fn access_gate(
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<(), AppError> {
    wf::access_gate(&TermUi::new(g), g, p, gate, flag_hint)
}

/// [`wf::access_gate_pending`] at the terminal.
pub fn access_gate_pending(
    g: &Globals,
    p: &Prepared,
    gate: &AccessGate,
    flag_hint: &str,
) -> Result<Vec<(String, String)>, AppError> {
    wf::access_gate_pending(&TermUi::new(g), g, p, gate, flag_hint)
}
