//! `aws-auth lint | show | salvage | render | diff | rules`: the aws-auth engine on files.
//!
//! Thin: read the inputs, call `crate::awsauth`, print. Diagnostics look like rustc's so that
//! an editor or a CI log points straight at the line; `--format sarif` feeds code scanning.

use crate::aws::{AwsContext, eks, token};
use crate::awsauth::{
    self, Analysis, AwsAuthDocument, ClusterFacts, EffectiveMapping, Finding, Mark, NeverReason,
    NodeRoleFact, NodeRoleKind, RULES, RenderOptions, SectionState, Severity,
};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::k8s::{ApiTarget, KubeClient};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{Read, Write};
use std::time::SystemTime;

#[derive(Subcommand, Debug)]
pub enum AwsAuthCommand {
    /// Check aws-auth files the way EKS's authenticator reads them
    #[command(
        after_help = "Examples:\n  eks-breakglass aws-auth lint aws-auth.yaml\n  \
kubectl -n kube-system get configmap aws-auth -o yaml | eks-breakglass aws-auth lint -\n  \
eks-breakglass aws-auth lint -o sarif --deny-warnings manifests/aws-auth.yaml > aws-auth.sarif\n\n\
Exit codes: 0 clean, 2 bad input (not YAML, not a ConfigMap, another ConfigMap, binary, empty),\n\
3 errors found (or warnings, with --deny-warnings). `eks-breakglass aws-auth rules` lists the codes."
    )]
    Lint(LintArgs),
    /// Show the mappings the authenticator would load (ARN, username, groups, line, marks)
    Show(ShowArgs),
    /// Recover what a broken aws-auth still holds: repaired ConfigMap on stdout, report on stderr
    #[command(
        after_help = "Salvage never invents an entry: every entry of the output comes from the\n\
input, and the output lints without errors. Entries it had to leave out are listed as lost."
    )]
    Salvage(SalvageArgs),
    /// Print the canonical YAML of an aws-auth (readable sections rewritten, everything else kept)
    Render(RenderArgs),
    /// Compare two aws-auth versions: who gained, lost or changed access, then a text diff
    Diff(DiffArgs),
    /// List the lint rules (code, severity, meaning)
    Rules,
    /// Restore a known-good aws-auth (file, snapshot, eksctl config, salvage, rebuild): backed up, diffed, verified
    Restore(super::aws_auth_write::RestoreArgs),
    /// A safe `kubectl edit` of aws-auth: lint on save, findings in the reopened file, backup, undo
    Edit(super::aws_auth_edit::EditArgs),
    /// Keep a canonical, git-friendly copy of aws-auth (directory or S3) that `restore --from` reads
    Snapshot(super::aws_auth_snapshot::SnapshotArgs),
}

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

pub async fn run(g: &Globals, cmd: &AwsAuthCommand) -> Result<u8, AppError> {
    match cmd {
        AwsAuthCommand::Lint(a) => {
            let live = match &a.cluster {
                Some(c) => Some(read_live(g, c).await?),
                None => None,
            };
            let code = lint(g, a, live)?;
            // issue 17: stale access entries of the live cluster are findings too.
            let machine =
                a.format == LintFormat::Sarif || g.output == crate::cli::OutputFormat::Sarif;
            match &a.cluster {
                Some(c)
                    if super::entries_ui::lint_live_entries(g, c, machine).await? > 0
                        && code == exit::OK =>
                {
                    Ok(exit::FINDINGS)
                }
                _ => Ok(code),
            }
        }
        AwsAuthCommand::Show(a) => {
            let doc = source(g, &a.file, &a.cluster).await?;
            // issue 17: mappings an access entry shadows (EKS uses the entry).
            let effective = a
                .cluster
                .as_ref()
                .map(|_| awsauth::analyze(&doc, &ClusterFacts::default()).effective);
            let code = show(g, a, doc)?;
            if let (Some(c), Some(m)) = (&a.cluster, &effective) {
                super::entries_ui::show_shadows(g, c, m).await?;
            }
            Ok(code)
        }
        AwsAuthCommand::Salvage(a) => salvage(g, a, source(g, &a.file, &a.cluster).await?),
        AwsAuthCommand::Render(a) => render(a, source(g, &a.file, &a.cluster).await?),
        AwsAuthCommand::Diff(a) => {
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
        AwsAuthCommand::Rules => rules(g),
        AwsAuthCommand::Restore(a) => super::aws_auth_write::restore(g, a).await,
        AwsAuthCommand::Edit(a) => super::aws_auth_edit::run(g, a).await,
        AwsAuthCommand::Snapshot(a) => super::aws_auth_snapshot::run(g, a).await,
    }
}

/// The most an input file may hold. Kubernetes limits a ConfigMap's data to 1 MiB; a manifest
/// adds metadata (annotations are limited to 256 KiB), so anything over 2 MiB cannot be an
/// aws-auth the API server would have stored — and is refused without being read.
pub(crate) const INPUT_LIMIT: u64 = 2 * 1024 * 1024;

fn too_large(what: &str, size: Option<u64>) -> AppError {
    let size = size.map_or_else(|| "more than 2 MiB".to_string(), |n| format!("{n} bytes"));
    AppError::usage(
        format!(
            "{what} is {size}: larger than any aws-auth ConfigMap (Kubernetes limits a ConfigMap's data to 1 MiB)"
        ),
        Some("give the aws-auth ConfigMap itself (`kubectl -n kube-system get configmap aws-auth -o yaml`), not a bundle or a log".into()),
    )
}

pub(crate) fn read_input(path: &str) -> Result<Vec<u8>, AppError> {
    let read_err = |e: std::io::Error| {
        AppError::usage(
            format!("cannot read {path}: {e}"),
            Some("give the path of an aws-auth ConfigMap manifest, or - for stdin".into()),
        )
    };
    let mut buf = Vec::new();
    if path == "-" {
        // Read one byte past the limit at most: a 50 MB pipe is refused, not buffered.
        std::io::stdin()
            .take(INPUT_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| AppError::usage(format!("cannot read stdin: {e}"), None))?;
        if buf.len() as u64 > INPUT_LIMIT {
            return Err(too_large("stdin", None));
        }
    } else {
        let file = std::fs::File::open(path).map_err(read_err)?;
        if let Ok(meta) = file.metadata()
            && meta.is_file()
            && meta.len() > INPUT_LIMIT
        {
            return Err(too_large(path, Some(meta.len())));
        }
        file.take(INPUT_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(read_err)?;
        if buf.len() as u64 > INPUT_LIMIT {
            return Err(too_large(path, None));
        }
    }
    Ok(buf)
}

pub(crate) fn input_error(e: awsauth::InputError) -> AppError {
    let hint = match &e {
        awsauth::InputError::WrongName { .. } => {
            Some("export it with: kubectl -n kube-system get configmap aws-auth -o yaml".into())
        }
        awsauth::InputError::TooLarge { .. } => {
            Some("split it, or check that this is the aws-auth the cluster holds".into())
        }
        awsauth::InputError::Empty { .. } | awsauth::InputError::Binary { .. } => {
            Some("give a ConfigMap manifest in YAML or JSON".into())
        }
        _ => Some(
            "expected a ConfigMap named aws-auth (YAML or JSON), kubectl get -o yaml output, or an eksctl ClusterConfig".into(),
        ),
    };
    AppError::usage(e.to_string(), hint)
}

fn read_doc(path: &str) -> Result<AwsAuthDocument, AppError> {
    let bytes = read_input(path)?;
    let origin = if path == "-" { "<stdin>" } else { path };
    let doc = awsauth::read_document(origin, &bytes).map_err(input_error)?;
    // Over 1 MiB of data (as the API server counts it) is refused by read_document.
    Ok(doc)
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

// ------------------------------------------------------------------------------------------
// lint

/// One diagnostic in rustc's layout.
pub fn format_finding(doc: &AwsAuthDocument, f: &Finding) -> String {
    format_finding_shifted(doc, f, 0)
}

/// [`format_finding`] for a file that shows the document `offset` lines further down (the
/// reopened file of `aws-auth edit`, under its comment block): the numbers are that file's.
pub fn format_finding_shifted(doc: &AwsAuthDocument, f: &Finding, offset: usize) -> String {
    let mut s = format!("{}[{}]: {}\n", f.severity, f.code, f.message);
    let shown_line = f.line + offset;
    let width = shown_line.to_string().len();
    let pad = " ".repeat(width);
    // A live ConfigMap has no file: point into the data value instead.
    let live = doc.format == awsauth::SourceFormat::Live;
    let (origin, line_text) = match (&f.section, live) {
        (Some(section), true) => (
            format!("{}/{section}", doc.origin),
            doc.value_line_text(section, f.line),
        ),
        _ => (doc.origin.clone(), doc.line_text(f.line)),
    };
    s.push_str(&format!("{pad}--> {origin}:{shown_line}:{}\n", f.column));
    if let Some(text) = line_text {
        let shown: String = text.replace('\t', "→");
        let caret_pad = " ".repeat(f.column.saturating_sub(1));
        s.push_str(&format!(
            "{pad} |\n{shown_line} | {shown}\n{pad} | {caret_pad}^\n"
        ));
    }
    if let Some(fix) = &f.fix {
        s.push_str(&format!("{pad} = fix: {fix}\n"));
    }
    s
}

/// The SARIF 2.1.0 log. Files that could not be read make the invocation unsuccessful
/// (`executionSuccessful: false`, one error notification each), so the log never reads as
/// a clean run.
fn sarif(results: &[(AwsAuthDocument, Analysis)], failures: &[String]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let mut out = Vec::new();
    for (doc, a) in results {
        for f in &a.findings {
            let text = match &f.fix {
                Some(fix) => format!("{} Fix: {fix}", f.message),
                None => f.message.clone(),
            };
            out.push(serde_json::json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": sarif_artifact(doc),
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }],
            }));
        }
    }
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "eks-breakglass",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/eks-breakglass/eks-breakglass",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": failures.is_empty(),
                "toolExecutionNotifications": failures
                    .iter()
                    .map(|f| serde_json::json!({"level": "error", "message": {"text": f}}))
                    .collect::<Vec<_>>(),
            }],
            "results": out,
        }],
    })
}

/// SARIF's `artifactLocation` for a document. The schema wants `uri` to be an RFC 3986 URI
/// reference and code scanning resolves a relative one against the checkout: so a relative
/// path is kept relative, percent-encoded (spaces, non-ASCII, `:`), and an absolute one becomes
/// a `file://` URI. Input that is not a file (stdin, a live ConfigMap) gets no `uri` but a
/// description: a made-up path would send a reader to a file that does not exist.
fn sarif_artifact(doc: &AwsAuthDocument) -> serde_json::Value {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    let not_a_file = match doc.format {
        awsauth::SourceFormat::Live | awsauth::SourceFormat::DataMap => Some(format!(
            "live ConfigMap kube-system/aws-auth ({})",
            doc.origin
        )),
        _ if doc.origin == "<stdin>" => Some("standard input".to_string()),
        _ => None,
    };
    if let Some(text) = not_a_file {
        return serde_json::json!({"description": {"text": text}});
    }
    let encoded = utf8_percent_encode(&doc.origin, PATH).to_string();
    let uri = if doc.origin.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    };
    serde_json::json!({"uri": uri})
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn lint(g: &Globals, a: &LintArgs, live: Option<AwsAuthDocument>) -> Result<u8, AppError> {
    let facts = a.facts.facts();
    let mut results = Vec::new();
    // Files that could not be read: never reported as linted (a CI gate reading `errors: 0`
    // or an empty SARIF log would take an unread file for a clean one).
    let mut bad: Vec<AppError> = Vec::new();
    if let Some(doc) = live {
        let analysis = awsauth::analyze(&doc, &facts);
        results.push((doc, analysis));
    }
    for path in &a.files {
        match read_doc(path) {
            Ok(doc) => {
                let analysis = awsauth::analyze(&doc, &facts);
                results.push((doc, analysis));
            }
            Err(e) => {
                if a.files.len() > 1 {
                    eprintln!("error: {e}");
                }
                bad.push(e);
            }
        }
    }
    let sarif_out = a.format == LintFormat::Sarif || g.output == crate::cli::OutputFormat::Sarif;
    // Nothing was linted: only the error (as JSON, by main, with -o json).
    if results.is_empty() && a.files.len() == 1 && !sarif_out && !bad.is_empty() {
        return Err(bad.remove(0));
    }
    let errors: usize = results.iter().map(|(_, r)| r.errors()).sum();
    let warnings: usize = results.iter().map(|(_, r)| r.warnings()).sum();
    // What ends the command when a file could not be read: that error for one file, exit 2
    // after the others' results for several.
    let failure = match bad.len() {
        0 => None,
        1 if a.files.len() == 1 => Some(bad[0].to_string()),
        n => Some(format!("{n} of {} files could not be read", a.files.len())),
    };
    if sarif_out {
        let failures: Vec<String> = bad.iter().map(ToString::to_string).collect();
        write_out(&json_string(&sarif(&results, &failures))?)?;
    } else if g.json() {
        let files: Vec<serde_json::Value> = results
            .iter()
            .map(|(doc, r)| {
                serde_json::json!({
                    "file": doc.origin,
                    "format": doc.format,
                    "errors": r.errors(),
                    "warnings": r.warnings(),
                    "findings": r.findings,
                    "effective": r.effective,
                })
            })
            .collect();
        let mut doc = serde_json::json!({
            "errors": errors,
            "warnings": warnings,
            "files": files,
        });
        // One document: the read errors go into it.
        if let Some(message) = &failure {
            let e = AppError::usage(
                message.clone(),
                Some(
                    bad.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            );
            let e = e.into_result(&mut doc);
            write_out(&json_string(&doc)?)?;
            return Err(e);
        }
        write_out(&json_string(&doc)?)?;
    } else {
        let mut out = String::new();
        for (doc, r) in &results {
            for f in &r.findings {
                out.push_str(&format_finding(doc, f));
                out.push('\n');
            }
            let m = &r.effective;
            out.push_str(&format!(
                "{}: {} error{}, {} warning{} ({} role, {} user, {} account entries loaded)\n",
                doc.origin,
                r.errors(),
                if r.errors() == 1 { "" } else { "s" },
                r.warnings(),
                if r.warnings() == 1 { "" } else { "s" },
                m.roles.len(),
                m.users.len(),
                m.accounts.len()
            ));
        }
        write_out(&out)?;
    }
    if !bad.is_empty() {
        if a.files.len() == 1 {
            return Err(bad.remove(0));
        }
        return Ok(exit::USAGE);
    }
    if errors > 0 || (a.deny_warnings && warnings > 0) {
        Ok(exit::FINDINGS)
    } else {
        Ok(exit::OK)
    }
}

// ------------------------------------------------------------------------------------------
// show

fn mark_text(m: &Mark) -> String {
    match m {
        Mark::NeverMatches { reason } => format!(
            "never matches ({})",
            match reason {
                NeverReason::Path => "path in role ARN",
                NeverReason::SsoPath => "aws-reserved SSO path",
                NeverReason::AssumedRole => "assumed-role ARN",
                NeverReason::Malformed => "malformed ARN",
                NeverReason::Wildcard => "wildcard",
                NeverReason::SsoMatcherDisabled => "sso matcher feature-gated off",
                NeverReason::UserWithEc2Template => "{{EC2PrivateDNSName}} in a user",
            }
        ),
        Mark::ShadowedBy { line } => format!("shadowed by line {line}"),
        Mark::Nondeterministic { lines } => format!(
            "nondeterministic (case variant at line {})",
            lines
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map(|r| r.len()).unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i + 1 == cols {
                    cell.clone()
                } else {
                    format!("{cell:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn state_text(s: SectionState) -> &'static str {
    match s {
        SectionState::Absent => "absent",
        SectionState::Loaded => "loaded",
        SectionState::Lost => "LOST (not valid YAML: no entry loads)",
        SectionState::NotAList => "LOST (not a list: no entry loads)",
    }
}

pub fn show_text(m: &EffectiveMapping) -> String {
    let mut rows = vec![vec![
        "SECTION".to_string(),
        "LINE".into(),
        "ARN".into(),
        "USERNAME".into(),
        "GROUPS".into(),
        "MARKS".into(),
    ]];
    for r in &m.roles {
        let arn = if r.arn.is_empty() {
            format!("sso:{}", r.key)
        } else {
            r.arn.clone()
        };
        rows.push(vec![
            "mapRoles".into(),
            r.line.to_string(),
            arn,
            r.username.clone(),
            r.groups.join(","),
            r.marks.iter().map(mark_text).collect::<Vec<_>>().join("; "),
        ]);
    }
    for u in &m.users {
        rows.push(vec![
            "mapUsers".into(),
            u.line.to_string(),
            u.arn.clone(),
            u.username.clone(),
            u.groups.join(","),
            u.marks.iter().map(mark_text).collect::<Vec<_>>().join("; "),
        ]);
    }
    for acc in &m.accounts {
        rows.push(vec![
            "mapAccounts".into(),
            acc.line.to_string(),
            format!("account {}", acc.account),
            "(caller's ARN)".into(),
            String::new(),
            String::new(),
        ]);
    }
    let mut out = table(&rows);
    out.push_str(&format!(
        "\nmapRoles: {}; mapUsers: {}; mapAccounts: {}\n",
        state_text(m.sections.map_roles),
        state_text(m.sections.map_users),
        state_text(m.sections.map_accounts)
    ));
    out
}

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
    let s = awsauth::salvage_with(
        &doc,
        &awsauth::SalvageOptions {
            clean: a.clean,
            fix_arns: a.salvage_fix_arns.clone(),
            verbatim: false,
        },
    );
    if !s.report.unused_fixes.is_empty() {
        return Err(AppError::usage(
            format!(
                "--salvage-fix-arns {}: no role entry with a path has that ARN",
                s.report.unused_fixes.join(", ")
            ),
            Some("give the ARN exactly as aws-auth writes it, path included".to_string()),
        ));
    }
    // Who the salvaged version lets in, compared with what the input grants now and with
    // what it writes (a salvage that changes no ARN).
    let now = awsauth::analyze(&doc, &awsauth::ClusterFacts::default()).effective;
    let as_written = awsauth::salvage_verbatim(&doc);
    let mapping_of = |text: &str| {
        awsauth::read_document("salvaged", text.as_bytes())
            .map(|d| awsauth::analyze(&d, &awsauth::ClusterFacts::default()).effective)
            .unwrap_or_default()
    };
    let access = awsauth::access_diff(
        &now,
        &mapping_of(&as_written.manifest),
        &mapping_of(&s.manifest),
        &[],
        &[],
    );
    write_out(&s.manifest)?;
    if g.json() {
        let mut v = serde_json::to_value(&s.report)
            .map_err(|e| AppError::failed(format!("cannot encode the report: {e}"), None))?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "access".into(),
                serde_json::to_value(&access).unwrap_or_default(),
            );
        }
        eprint!("{}", json_string(&v)?);
    } else {
        let mut out = String::new();
        for (title, items) in [
            ("recovered", &s.report.recovered),
            ("changed", &s.report.changed),
            ("lost", &s.report.lost),
        ] {
            out.push_str(&format!("{title} ({}):\n", items.len()));
            for i in items {
                out.push_str(&format!("  {} line {}: {}\n", i.section, i.line, i.message));
            }
        }
        out.push_str(&format!(
            "access, compared with what the input grants now: {}\n",
            access.summary()
        ));
        for l in access.lines() {
            out.push_str(&format!("  {l}\n"));
        }
        eprint!("{out}");
    }
    Ok(exit::OK)
}

fn render(a: &RenderArgs, doc: AwsAuthDocument) -> Result<u8, AppError> {
    let loads = awsauth::load(&doc);
    write_out(&awsauth::render(
        &doc,
        &loads,
        RenderOptions { clean: a.clean },
    ))?;
    Ok(exit::OK)
}

fn diff_entry_text(e: &awsauth::diff::DiffEntry) -> String {
    format!("{} → {} [{}]", e.arn, e.username, e.groups.join(", "))
}

/// The mapping-level diff for people: `+`/`-`/`~` per principal, `!` per section state change.
pub fn diff_text(d: &awsauth::MappingDiff) -> String {
    let mut out = String::new();
    for s in &d.sections {
        out.push_str(&format!(
            "! {}: {} → {}\n",
            s.section,
            state_text(s.old),
            state_text(s.new)
        ));
    }
    for (name, ed) in [("role", &d.roles), ("user", &d.users)] {
        for e in &ed.added {
            out.push_str(&format!("+ {name} {}\n", diff_entry_text(e)));
        }
        for e in &ed.removed {
            out.push_str(&format!("- {name} {}\n", diff_entry_text(e)));
        }
        for c in &ed.changed {
            out.push_str(&format!(
                "~ {name} {}\n    was {}\n    now {}\n",
                c.new.arn,
                diff_entry_text(&c.old),
                diff_entry_text(&c.new)
            ));
        }
    }
    for acc in &d.accounts_added {
        out.push_str(&format!("+ account {acc}\n"));
    }
    for acc in &d.accounts_removed {
        out.push_str(&format!("- account {acc}\n"));
    }
    if d.is_empty() {
        out.push_str("no change in effective mappings\n");
    }
    out
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

fn rules(g: &Globals) -> Result<u8, AppError> {
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
