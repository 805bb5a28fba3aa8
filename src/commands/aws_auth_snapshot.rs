//! `aws-auth snapshot`: a known-good copy of aws-auth, with who created the cluster.
//!
//! Run it daily (cron, CI) into a git repository or an S3 prefix; in an incident,
//! `aws-auth restore --from DIR` puts the latest (or `--at TIME`) back. The copy is the
//! canonical rendering (stable, diffable), the metadata says when, by whom, from which
//! resourceVersion, how it linted, and the creator recorded on the cluster's tags.

use crate::aws::configmap::Session;
use crate::aws::s3_objects;
use crate::awsauth::{self, ClusterFacts, RenderOptions};
use crate::cli::ApiArgs;
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::configmap::AwsAuthCluster as _;
use crate::recovery::creator;
use crate::recovery::snapshot::{self, LintSummary, SnapshotMeta};
use crate::workflow::restore as wf;
use clap::Args;
use std::path::Path;

#[derive(Args, Debug)]
#[command(after_help = "Layout (under DIR, or s3://BUCKET/PREFIX):\n  \
<cluster>.aws-auth.yaml                      the latest copy (a stable path for git diffs)\n  \
<cluster>.meta.json                          its metadata\n  \
<cluster>/<YYYYMMDDTHHMMSSZ>/<cluster>.aws-auth.yaml   every snapshot, kept\n  \
<cluster>/<YYYYMMDDTHHMMSSZ>/<cluster>.meta.json\n  \
<cluster>/latest                             the name of the latest snapshot directory\n\n\
The metadata holds: taken_at, taken_by (caller ARN), region, cluster ARN, resourceVersion,\n\
the lint summary, and the creator when the cluster's eks-breakglass/creator-* tags name it.\n\
Files are written 0600 (a backup); a snapshot with lint errors is still taken, and says so.\n\
With --dry-run it reads aws-auth and lists the files it would write, and writes none.\n\n\
Examples:\n  \
eks-breakglass aws-auth snapshot --cluster prod --to ./aws-auth-snapshots\n  \
eks-breakglass aws-auth snapshot --cluster prod --to s3://team-bucket/aws-auth\n  \
eks-breakglass aws-auth restore --cluster prod --from ./aws-auth-snapshots --at 2026-01-02")]
pub struct SnapshotArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Where to keep it: a directory, or s3://BUCKET/PREFIX
    #[arg(long, value_name = "DIR|S3URL")]
    pub to: String,
    #[command(flatten)]
    pub api: ApiArgs,
}

fn write_local(root: &Path, rel: &str, content: &str) -> Result<(), AppError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            AppError::failed(format!("cannot create {}: {e}", parent.display()), None)
        })?;
    }
    crate::kubeconfig::write_private_atomic(&path, content.as_bytes())
        .map_err(|e| AppError::failed(format!("cannot write {}: {e}", path.display()), None))
}

pub async fn run(g: &Globals, a: &SnapshotArgs) -> Result<u8, AppError> {
    let s = Session::open(g, a.api.access(&a.cluster)).await?;
    let cm = s.read_live().await?.ok_or_else(|| {
        AppError::failed(
            format!(
                "cluster {} has no kube-system/aws-auth to snapshot",
                a.cluster
            ),
            None,
        )
    })?;
    let doc = wf::live_document(&a.cluster, &cm)?;
    let analysis = awsauth::analyze(&doc, &ClusterFacts::default());
    let yaml = awsauth::render(&doc, &analysis.loads, RenderOptions { clean: true });
    let now = chrono::Utc::now();
    let creator = match creator::creator_from_tags(&s.conn.facts.tags) {
        Some(Ok(c)) => serde_json::to_value(&c).ok(),
        _ => None,
    };
    let meta = SnapshotMeta {
        cluster: s.conn.facts.name.clone(),
        cluster_arn: s.conn.facts.arn.clone(),
        region: s.conn.facts.region.clone(),
        taken_at: now,
        taken_by: s.caller.arn.clone(),
        resource_version: cm.resource_version.clone(),
        lint: LintSummary {
            errors: analysis.errors(),
            warnings: analysis.warnings(),
            roles: analysis.effective.roles.len(),
            users: analysis.effective.users.len(),
            accounts: analysis.effective.accounts.len(),
        },
        creator,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let meta_json = serde_json::to_string_pretty(&meta)
        .map(|m| m + "\n")
        .map_err(|e| AppError::failed(format!("cannot encode the metadata: {e}"), None))?;
    let files = snapshot::files(&meta.cluster, now, &yaml, &meta_json);
    let s3 = match a.to.starts_with("s3://") {
        true => Some(s3_objects::parse_url(&a.to).ok_or_else(|| {
            AppError::usage(format!("{} is not an s3://BUCKET/PREFIX URL", a.to), None)
        })?),
        false => None,
    };
    let root = Path::new(&a.to);
    let targets: Vec<String> = files
        .iter()
        .map(|(rel, _)| match &s3 {
            Some((bucket, prefix)) => format!("s3://{bucket}/{}", s3_objects::key(prefix, rel)),
            None => root.join(rel).display().to_string(),
        })
        .collect();
    if g.dry_run {
        if g.json() {
            println!(
                "{}",
                serde_json::json!({"dry_run": true, "files": targets, "meta": meta})
            );
        } else {
            println!(
                "Would write the snapshot of {} (resourceVersion {}): {} error(s), {} warning(s):",
                meta.cluster,
                meta.resource_version.as_deref().unwrap_or("?"),
                meta.lint.errors,
                meta.lint.warnings
            );
            for f in &targets {
                println!("  {f}");
            }
            println!("\n(dry run: nothing was written)");
        }
        return Ok(exit::OK);
    }
    match &s3 {
        Some((bucket, prefix)) => {
            for (rel, content) in &files {
                let key = s3_objects::key(prefix, rel);
                s3_objects::put(&s.base, bucket, &key, content).await?;
            }
        }
        None => {
            for (rel, content) in &files {
                write_local(root, rel, content)?;
            }
        }
    }
    let written = targets;
    if g.json() {
        println!("{}", serde_json::json!({"files": written, "meta": meta}));
    } else {
        println!(
            "Snapshot of {} (resourceVersion {}) taken: {} error(s), {} warning(s); {} role, {} user, {} account entries.",
            meta.cluster,
            meta.resource_version.as_deref().unwrap_or("?"),
            meta.lint.errors,
            meta.lint.warnings,
            meta.lint.roles,
            meta.lint.users,
            meta.lint.accounts
        );
        for f in &written {
            println!("  {f}");
        }
        if meta.lint.errors > 0 {
            println!("warning: this copy has lint errors; it is not a known-good version");
        }
        println!(
            "Restore it with: eks-breakglass aws-auth restore --cluster {} --from {}",
            meta.cluster, a.to
        );
    }
    Ok(exit::OK)
}
