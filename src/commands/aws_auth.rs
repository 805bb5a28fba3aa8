//! `aws-auth lint | show | salvage | render | diff | rules`: the aws-auth engine on files.
//!
//! Thin: read the inputs, call `crate::awsauth`, print. Diagnostics look like rustc's so that
//! an editor or a CI log points straight at the line; `--format sarif` feeds code scanning.

use crate::aws::{AwsContext, eks, token};
use crate::awsauth::{
    self, AwsAuthDocument, ClusterFacts, NodeRoleFact, NodeRoleKind, RULES, RenderOptions,
};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::k8s::{ApiTarget, KubeClient};
use crate::ui::awsauth::{lint_json, lint_text, salvage_text, sarif, show_text, table};
use crate::ui::input::read_doc;
use crate::workflow::inspect;
use clap::{Args, ValueEnum};
use std::io::Write;

// merge: aws_auth_write/aws_auth_edit (16c) and recover (16b) import these from here; they
// live in `ui::awsauth` and `ui::input` now — point those imports there and delete this.
pub use crate::ui::awsauth::{diff_text, format_finding, format_finding_shifted};
pub use crate::ui::input::{input_error, read_input};
use std::time::SystemTime;

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
        Some(c)
            if crate::ui::entries::lint_live_entries(g, c, machine).await? > 0
                && code == exit::OK =>
        {
            Ok(exit::FINDINGS)
        }
        _ => Ok(code),
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
    let code = show(g, a, doc)?;
    if let (Some(c), Some(m)) = (&a.cluster, &effective) {
        crate::ui::entries::show_shadows(g, c, m).await?;
    }
    Ok(code)
}

/// `aws-auth salvage`.
pub async fn run_salvage(g: &Globals, a: &SalvageArgs) -> Result<u8, AppError> {
    salvage(g, a, source(g, &a.file, &a.cluster).await?)
}

/// `aws-auth render`.
pub async fn run_render(g: &Globals, a: &RenderArgs) -> Result<u8, AppError> {
    render(a, source(g, &a.file, &a.cluster).await?)
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
    diff(g, old, new)
}

/// The live aws-auth: DescribeCluster for the endpoint and CA, a token made locally, a GET.
pub async fn read_live(g: &Globals, cluster: &str) -> Result<AwsAuthDocument, AppError> {
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let facts = eks::describe_cluster(&ctx, cluster).await?;
    let server = facts.endpoint.clone().ok_or_else(|| {
        AppError::failed(
            format!("cluster {} has no API endpoint", facts.name),
            Some("wait until the cluster is ACTIVE".to_string()),
        )
    })?;
    let creds = ctx.credentials().await?;
    let tok = token::make_token(&creds, &facts.region, &facts.name, SystemTime::now())?;
    let target = ApiTarget {
        server,
        ca_pem: facts.ca_pem.clone(),
        tls_server_name: None,
    };
    let client = KubeClient::new(&target, &tok.token)?;
    let cm = client.get_configmap("aws-auth").await?.ok_or_else(|| {
        AppError::failed(
            format!("cluster {cluster} has no kube-system/aws-auth ConfigMap"),
            Some("the authenticator then maps nobody through aws-auth; restore one with `eks-breakglass aws-auth restore`".to_string()),
        )
    })?;
    let json = serde_json::to_string(&cm)
        .map_err(|e| AppError::failed(format!("cannot encode the ConfigMap: {e}"), None))?;
    AwsAuthDocument::from_live_json(&format!("cluster/{cluster}"), &json).map_err(input_error)
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

fn write_out(s: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| AppError::failed(format!("cannot write to stdout: {e}"), None))
}

fn json_string<T: serde::Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| AppError::failed(format!("cannot encode JSON: {e}"), None))
}

fn lint(g: &Globals, a: &LintArgs, live: Option<AwsAuthDocument>) -> Result<u8, AppError> {
    let files = a
        .files
        .iter()
        .map(|path| {
            let doc = read_doc(path);
            if let Err(e) = &doc
                && a.files.len() > 1
            {
                eprintln!("error: {e}");
            }
            doc
        })
        .collect();
    let mut report = inspect::lint(live, files, &a.facts.facts(), a.deny_warnings);
    let sarif_out = a.format == LintFormat::Sarif || g.output == crate::cli::OutputFormat::Sarif;
    // Nothing was linted: only the error (as JSON, by main, with -o json).
    if !sarif_out && let Some(e) = report.only_error() {
        return Err(e);
    }
    if sarif_out {
        let failures: Vec<String> = report.unread.iter().map(ToString::to_string).collect();
        write_out(&json_string(&sarif(&report.results, &failures))?)?;
    } else if g.json() {
        let mut doc = lint_json(&report);
        // One document: the read errors go into it.
        if let Some(message) = report.failure() {
            let causes: Vec<String> = report.unread.iter().map(ToString::to_string).collect();
            let e = AppError::usage(message, Some(causes.join("; "))).into_result(&mut doc);
            write_out(&json_string(&doc)?)?;
            return Err(e);
        }
        write_out(&json_string(&doc)?)?;
    } else {
        write_out(&lint_text(&report.results))?;
    }
    report.exit()
}

// ------------------------------------------------------------------------------------------
// show

fn show(g: &Globals, a: &ShowArgs, doc: AwsAuthDocument) -> Result<u8, AppError> {
    let analysis = awsauth::analyze(&doc, &ClusterFacts::default());
    if g.json() {
        write_out(&json_string(&analysis.effective)?)?;
    } else {
        write_out(&show_text(&analysis.effective))?;
        if analysis.errors() + analysis.warnings() > 0 {
            eprintln!(
                "{} error(s), {} warning(s): run `eks-breakglass aws-auth lint {}` for details",
                analysis.errors(),
                analysis.warnings(),
                match (&a.cluster, &a.file) {
                    (Some(c), _) => format!("--cluster {c}"),
                    (None, Some(f)) => f.clone(),
                    (None, None) => String::new(),
                }
            );
        }
    }
    Ok(exit::OK)
}

// ------------------------------------------------------------------------------------------
// salvage, render, diff, rules

fn salvage(g: &Globals, a: &SalvageArgs, doc: AwsAuthDocument) -> Result<u8, AppError> {
    let out = inspect::salvage(&doc, a.clean, &a.salvage_fix_arns)?;
    write_out(&out.salvaged.manifest)?;
    if g.json() {
        let mut v = serde_json::to_value(&out.salvaged.report)
            .map_err(|e| AppError::failed(format!("cannot encode the report: {e}"), None))?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "access".into(),
                serde_json::to_value(&out.access).unwrap_or_default(),
            );
        }
        eprint!("{}", json_string(&v)?);
    } else {
        eprint!("{}", salvage_text(&out.salvaged.report, &out.access));
    }
    Ok(exit::OK)
}

// ------------------------------------------------------------------------------------------
// render

fn render(a: &RenderArgs, doc: AwsAuthDocument) -> Result<u8, AppError> {
    let loads = awsauth::load(&doc);
    write_out(&awsauth::render(
        &doc,
        &loads,
        RenderOptions { clean: a.clean },
    ))?;
    Ok(exit::OK)
}

fn diff(g: &Globals, old: AwsAuthDocument, new: AwsAuthDocument) -> Result<u8, AppError> {
    let (ol, nl) = (awsauth::load(&old), awsauth::load(&new));
    let (om, nm) = (
        awsauth::effective::build(&old, &ol),
        awsauth::effective::build(&new, &nl),
    );
    let d = awsauth::diff_mappings(&om, &nm);
    let opts = RenderOptions { clean: true };
    let text = awsauth::text_diff(
        &awsauth::render(&old, &ol, opts),
        &awsauth::render(&new, &nl, opts),
        &old.origin,
        &new.origin,
    );
    if g.json() {
        write_out(&json_string(
            &serde_json::json!({"mapping": d, "text": text}),
        )?)?;
        return Ok(exit::OK);
    }
    let mut out = diff_text(&d);
    if !text.is_empty() {
        out.push('\n');
        out.push_str(&text);
    }
    write_out(&out)?;
    Ok(exit::OK)
}

/// `aws-auth rules`.
pub fn rules(g: &Globals) -> Result<u8, AppError> {
    if g.json() {
        write_out(&json_string(&RULES)?)?;
    } else {
        let mut rows = vec![vec![
            "CODE".to_string(),
            "SEVERITY".into(),
            "NAME".into(),
            "MEANING".into(),
        ]];
        for r in RULES {
            rows.push(vec![
                r.code.into(),
                r.severity.to_string(),
                r.name.into(),
                r.summary.into(),
            ]);
        }
        write_out(&table(&rows))?;
    }
    Ok(exit::OK)
}
