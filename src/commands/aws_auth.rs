//! `aws-auth lint | show | salvage | render | diff | rules`: the aws-auth engine on files.
//!
//! Thin: read the inputs, call `crate::awsauth`, print. Diagnostics look like rustc's so that
//! an editor or a CI log points straight at the line; `--format sarif` feeds code scanning.

use crate::aws::{AwsContext, entries_read};
use crate::awsauth::{self, AwsAuthDocument, ClusterFacts, NodeRoleFact, NodeRoleKind};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ui::awsauth::{
    Out, print_diff, print_lint, print_rules, print_salvage, print_show, write_out,
};
use crate::ui::input::{read_doc, read_docs};
use crate::workflow::inspect;
use clap::{Args, ValueEnum};

#[derive(Args, Debug, Clone, Default)]
pub struct FactsArgs {
    /// A node group instance role that must be mapped (repeatable)
    #[arg(long = "node-role", value_name = "ARN")]
    pub node_roles: Vec<String>,
    /// A Windows node group instance role that must be mapped (repeatable)
    #[arg(long = "windows-node-role", value_name = "ARN")]
    pub windows_node_roles: Vec<String>,
    /// A Fargate pod execution role that must be mapped (repeatable)
    #[arg(long = "fargate-role", value_name = "ARN")]
    pub fargate_roles: Vec<String>,
}

impl FactsArgs {
    pub fn facts(&self) -> ClusterFacts {
        let mut node_roles = Vec::new();
        for (list, kind) in [
            (&self.node_roles, NodeRoleKind::Ec2Linux),
            (&self.windows_node_roles, NodeRoleKind::Ec2Windows),
            (&self.fargate_roles, NodeRoleKind::Fargate),
        ] {
            for arn in list {
                node_roles.push(NodeRoleFact {
                    arn: arn.clone(),
                    kind,
                    source: String::new(),
                });
            }
        }
        ClusterFacts { node_roles }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LintFormat {
    /// rustc-like diagnostics (or JSON with --output json)
    #[default]
    Human,
    /// SARIF 2.1.0 for code scanning
    Sarif,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// aws-auth files (ConfigMap YAML/JSON, `kubectl get -o yaml` output, eksctl ClusterConfig); `-` for stdin
    #[arg(required_unless_present = "cluster", value_name = "FILE")]
    pub files: Vec<String>,
    /// Read the live kube-system/aws-auth of this EKS cluster (needs access to it)
    #[arg(long, value_name = "NAME", conflicts_with = "files")]
    pub cluster: Option<String>,
    /// Fail (exit 3) on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
    /// Report format: the old spelling of `--output sarif` (kept for scripts)
    #[arg(long, value_enum, default_value_t = LintFormat::Human, hide = true)]
    pub format: LintFormat,
    #[command(flatten)]
    pub facts: FactsArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// aws-auth file; `-` for stdin
    #[arg(value_name = "FILE", required_unless_present = "cluster")]
    pub file: Option<String>,
    /// Read the live kube-system/aws-auth of this EKS cluster instead of a file
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    pub cluster: Option<String>,
}

#[derive(Args, Debug)]
pub struct SalvageArgs {
    /// The broken aws-auth; `-` for stdin
    #[arg(value_name = "FILE", required_unless_present = "cluster")]
    pub file: Option<String>,
    /// Read the live kube-system/aws-auth of this EKS cluster instead of a file
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    pub cluster: Option<String>,
    /// Drop server-side metadata (managedFields, resourceVersion, uid, …) from the output
    #[arg(long)]
    pub clean: bool,
    /// Rewrite this role ARN with a path (as written) to its path-less ARN, so that it matches for the first time (repeatable or comma-separated; by default salvage changes no entry's ARN)
    #[arg(long = "salvage-fix-arns", value_name = "ARN", value_delimiter = ',')]
    pub salvage_fix_arns: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// aws-auth file; `-` for stdin
    #[arg(value_name = "FILE", required_unless_present = "cluster")]
    pub file: Option<String>,
    /// Read the live kube-system/aws-auth of this EKS cluster instead of a file
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    pub cluster: Option<String>,
    /// Drop server-side metadata (managedFields, resourceVersion, uid, …)
    #[arg(long)]
    pub clean: bool,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old version; `-` for stdin (with --cluster: the file to compare the live aws-auth to)
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new version
    #[arg(value_name = "NEW", required_unless_present = "cluster")]
    pub new: Option<String>,
    /// Compare the live aws-auth of this cluster (old) with the file OLD (new): what applying
    /// the file would change
    #[arg(long, value_name = "NAME", conflicts_with = "new")]
    pub cluster: Option<String>,
}

/// `aws-auth lint`: files (and `--cluster`'s live ConfigMap).
pub async fn run_lint(g: &Globals, a: &LintArgs) -> Result<u8, AppError> {
    let live = match &a.cluster {
        Some(c) => Some(read_live(g, c).await?),
        None => None,
    };
    let code = lint(g, a, live)?;
    // Stale access entries of the live cluster are findings too (issue 17).
    let machine = a.format == LintFormat::Sarif || g.output == crate::cli::OutputFormat::Sarif;
    match &a.cluster {
        Some(c) => {
            let stale = entries_read::stale_entries_of(&g.aws_options(), c).await?;
            let n = crate::ui::entries::print_stale(g, c, machine, &stale);
            Ok(if n > 0 && code == exit::OK {
                exit::FINDINGS
            } else {
                code
            })
        }
        None => Ok(code),
    }
}

/// `aws-auth show`.
pub async fn run_show(g: &Globals, a: &ShowArgs) -> Result<u8, AppError> {
    let doc = source(g, &a.file, &a.cluster).await?;
    // Mappings an access entry shadows (EKS uses the entry; issue 17).
    let effective = a
        .cluster
        .as_ref()
        .map(|_| awsauth::analyze(&doc, &ClusterFacts::default()).effective);
    let lint_args = match (&a.cluster, &a.file) {
        (Some(c), _) => format!("--cluster {c}"),
        (None, Some(f)) => f.clone(),
        (None, None) => String::new(),
    };
    print_show(&doc, out(g), &lint_args)?;
    let code = exit::OK;
    if let (Some(c), Some(m)) = (&a.cluster, &effective) {
        let shadows = entries_read::shadows_of(&g.aws_options(), c, m).await?;
        crate::ui::entries::print_shadows(g, &shadows);
    }
    Ok(code)
}

/// `aws-auth salvage`.
pub async fn run_salvage(g: &Globals, a: &SalvageArgs) -> Result<u8, AppError> {
    let doc = source(g, &a.file, &a.cluster).await?;
    print_salvage(
        &inspect::salvage(&doc, a.clean, &a.salvage_fix_arns)?,
        out(g),
    )?;
    Ok(exit::OK)
}

/// `aws-auth render`.
pub async fn run_render(g: &Globals, a: &RenderArgs) -> Result<u8, AppError> {
    let doc = source(g, &a.file, &a.cluster).await?;
    write_out(&inspect::render(&doc, a.clean))?;
    Ok(exit::OK)
}

/// `aws-auth diff OLD NEW`, or `diff FILE --cluster NAME` (live first).
pub async fn run_diff(g: &Globals, a: &DiffArgs) -> Result<u8, AppError> {
    let (old, new) = match (&a.cluster, &a.new) {
        (Some(c), _) => (read_live(g, c).await?, read_doc(&a.old)?),
        (None, Some(n)) => (read_doc(&a.old)?, read_doc(n)?),
        (None, None) => {
            return Err(AppError::usage(
                "give OLD and NEW files, or FILE --cluster NAME",
                None,
            ));
        }
    };
    let (d, text) = inspect::diff(&old, &new);
    print_diff(&d, &text, out(g))?;
    Ok(exit::OK)
}

/// The live aws-auth (see [`crate::aws::triage_sources::read_live_aws_auth`]).
async fn read_live(g: &Globals, cluster: &str) -> Result<AwsAuthDocument, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    crate::aws::triage_sources::read_live_aws_auth(&ctx, cluster).await
}

async fn source(
    g: &Globals,
    file: &Option<String>,
    cluster: &Option<String>,
) -> Result<AwsAuthDocument, AppError> {
    match (file, cluster) {
        (_, Some(c)) => read_live(g, c).await,
        (Some(f), None) => read_doc(f),
        (None, None) => Err(AppError::usage(
            "give a FILE (or - for stdin) or --cluster NAME",
            None,
        )),
    }
}

fn lint(g: &Globals, a: &LintArgs, live: Option<AwsAuthDocument>) -> Result<u8, AppError> {
    let files = read_docs(&a.files);
    let report = inspect::lint(live, files, &a.facts.facts(), a.deny_warnings);
    let sarif = a.format == LintFormat::Sarif || g.output == crate::cli::OutputFormat::Sarif;
    print_lint(report, if sarif { Out::Sarif } else { out(g) })
}

fn out(g: &Globals) -> Out {
    if g.json() { Out::Json } else { Out::Text }
}

/// `aws-auth rules`.
pub fn rules(g: &Globals) -> Result<u8, AppError> {
    print_rules(out(g))?;
    Ok(exit::OK)
}
