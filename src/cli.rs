//! The command line: global options and the subcommands, with clap's derive.
//!
//! Only subcommands that work are listed; each lives in its own file under `commands/`.

use crate::cluster::ClusterFacts;
use crate::commands;
use crate::error::AppError;
use crate::k8s::ApiTarget;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Get back into a locked-out Amazon EKS cluster — and keep it from happening again.
#[derive(Parser, Debug)]
#[command(
    name = "eks-breakglass",
    version,
    about,
    long_about = "Get back into a locked-out Amazon EKS cluster, and keep it from happening again.\n\n\
When a bad edit of kube-system/aws-auth locks every IAM user, role and node out, only the\n\
principal that created the cluster still gets in. eks-breakglass finds it, gets you in as it (or\n\
through an EKS access entry), restores aws-auth, proves access works, and leaves a report.",
    after_help = crate::exit::TABLE,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Args, Debug, Clone, Default)]
pub struct Globals {
    /// AWS region of the cluster (default: AWS_REGION, then the profile's region)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config or ~/.aws/credentials; as in the AWS CLI it wins over
    /// exported AWS_ACCESS_KEY_ID, and an unknown profile is an error (default: AWS_PROFILE,
    /// then the standard chain)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Output format for results on stdout: text or json (also sarif for `aws-auth lint`, csv
    /// for `audit`)
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text,
          hide_possible_values = true, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// More detail on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Apply plans without asking for confirmation
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Print the plan and change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Write every AWS call made (IAM action, time) to FILE as JSON lines
    #[arg(long, global = true, value_name = "FILE")]
    pub call_log: Option<std::path::PathBuf>,
    /// The calls of this run, shared by every AWS client it creates.
    #[arg(skip)]
    pub calls: crate::aws::calls::CallLog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    /// SARIF 2.1.0 (`aws-auth lint`)
    Sarif,
    /// Comma-separated values (`audit`)
    Csv,
}

/// Global options that mean nothing for a command, by command path. They stay accepted there
/// (scripts that pass `--region` everywhere keep working) but are not listed in its `--help`:
/// an option on the help page is a promise that it does something. A command missing here
/// lists every global option — in particular `--dry-run`, which `tests/flags.rs` then runs.
const UNUSED_GLOBALS: &[(&[&str], &[&str])] = &[
    (&["token"], &["output", "yes", "dry_run"]),
    (&["kubeconfig"], &["yes"]),
    (&["diagnose"], &["yes", "dry_run"]),
    (&["creator"], &["yes", "dry_run"]),
    (&["audit"], &["yes", "dry_run"]),
    (
        &["policy"],
        &["region", "profile", "yes", "dry_run", "call_log"],
    ),
    (
        &["completions"],
        &["region", "profile", "output", "yes", "dry_run", "call_log"],
    ),
    (&["aws-auth", "lint"], &["yes", "dry_run"]),
    (&["aws-auth", "show"], &["yes", "dry_run"]),
    (&["aws-auth", "salvage"], &["yes", "dry_run"]),
    (&["aws-auth", "render"], &["output", "yes", "dry_run"]),
    (&["aws-auth", "diff"], &["yes", "dry_run"]),
    (
        &["aws-auth", "rules"],
        &["region", "profile", "yes", "dry_run", "call_log"],
    ),
    (&["aws-auth", "snapshot"], &["yes"]),
    (
        &["version"],
        &["region", "profile", "yes", "dry_run", "call_log"],
    ),
    (
        &["man"],
        &["region", "profile", "output", "yes", "call_log"],
    ),
];

/// The command line as parsed: the derive definitions, with the global options a command does
/// not use hidden from its help (see [`UNUSED_GLOBALS`]).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    // Help is printed as written, never re-wrapped to the terminal's width: an example cut in
    // the middle of a command is not safe to copy and paste (the terminal wraps long lines
    // softly, which copies as one line).
    cmd = cmd.term_width(0);
    for (path, unused) in UNUSED_GLOBALS {
        let hidden: Vec<clap::Arg> = globals
            .iter()
            .filter(|a| unused.contains(&a.get_id().as_str()))
            .map(|a| a.clone().hide(true))
            .collect();
        cmd = add_to(cmd, path, &hidden);
    }
    cluster_args(cmd)
}

/// Every `--cluster`: an empty name is a usage error (not a DescribeCluster of ""), and
/// `--name` is accepted too, as `aws eks describe-cluster` / `update-kubeconfig` spell it.
fn cluster_args(mut cmd: clap::Command) -> clap::Command {
    if cmd.get_arguments().any(|a| a.get_id() == "cluster") {
        let visible = cmd.get_name() == "kubeconfig";
        let has_name = cmd
            .get_arguments()
            .any(|a| a.get_long() == Some("name") || a.get_id() == "name");
        cmd = cmd.mut_arg("cluster", |a| {
            let a = a.value_parser(clap::builder::NonEmptyStringValueParser::new());
            match (has_name, visible) {
                (true, _) => a,
                (false, true) => a.visible_alias("name"),
                (false, false) => a.alias("name"),
            }
        });
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for n in names {
        cmd = cmd.mut_subcommand(n, cluster_args);
    }
    cmd
}

/// Adds `args` to the subcommand at `path`. A subcommand that already has an argument is
/// skipped by clap when it propagates the global one, so the hidden copy is what it gets.
fn add_to(cmd: clap::Command, path: &[&str], args: &[clap::Arg]) -> clap::Command {
    match path.split_first() {
        None => cmd.args(args.iter().cloned()),
        Some((first, rest)) => cmd.mut_subcommand(*first, |sub| add_to(sub, rest, args)),
    }
}

impl Cli {
    /// Parses the process arguments (exits with clap's message on a usage error).
    pub fn parse_args() -> Cli {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let parsed = command()
            .try_get_matches_from(&args)
            .and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
        parsed.unwrap_or_else(|e| {
            // With --output json a usage error is also one JSON line on stdout, like every
            // other error; help and version are not errors.
            if e.use_stderr() && wants_json(&args) {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default();
                let message = first.strip_prefix("error: ").unwrap_or(first);
                println!(
                    "{}",
                    serde_json::json!({"error": {"message": message, "detail": e.to_string(), "exit_code": crate::exit::USAGE}})
                );
            }
            e.exit()
        })
    }
}

/// Whether the raw arguments ask for JSON output, in every spelling clap accepts (`-o json`,
/// `-ojson`, `-o=json`, `--output json`, `--output=json`, and the hidden alias `--format`),
/// for errors found before they are parsed. The last one given wins, as in clap.
fn wants_json(args: &[std::ffi::OsString]) -> bool {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut last = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            break;
        }
        if a == "-o" || a == "--output" || a == "--format" {
            last = args.get(i + 1).cloned();
            i += 2;
            continue;
        }
        for prefix in ["--output=", "--format=", "-o=", "-o"] {
            if let Some(v) = a.strip_prefix(prefix) {
                last = Some(v.to_string());
                break;
            }
        }
        i += 1;
    }
    last.as_deref() == Some("json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_output_json_is_seen_before_parsing() {
        let os = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        for json in [
            &["x", "-o", "json"][..],
            &["x", "-ojson"],
            &["x", "-o=json"],
            &["x", "--output", "json"],
            &["x", "--output=json"],
            &["x", "--format", "json"],
            &["x", "--format=json"],
            &["x", "-o", "text", "-o", "json"],
        ] {
            assert!(wants_json(&os(json)), "{json:?}");
        }
        for not in [
            &["x"][..],
            &["x", "-o", "text"],
            &["x", "--format=sarif"],
            &["x", "-o", "json", "-o", "text"],
            &["x", "--", "-o", "json"],
        ] {
            assert!(!wants_json(&os(not)), "{not:?}");
        }
    }
}

impl Globals {
    pub fn aws_options(&self) -> crate::aws::context::AwsOptions {
        crate::aws::context::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            calls: self.calls.clone(),
            dry_run: self.dry_run,
        }
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// Refuses `-o sarif` / `-o csv` where they mean nothing (`command` names the command).
    pub fn check_output(&self, command: &str) -> Result<(), crate::error::AppError> {
        let (format, only) = match self.output {
            OutputFormat::Sarif => ("sarif", "aws-auth lint"),
            OutputFormat::Csv => ("csv", "audit"),
            OutputFormat::Text | OutputFormat::Json => return Ok(()),
        };
        if command == only {
            return Ok(());
        }
        Err(crate::error::AppError::usage(
            format!("--output {format} applies to `eks-breakglass {only}` only"),
            Some(format!(
                "use --output text or --output json with `{command}`"
            )),
        ))
    }
}

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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print an EKS token as an ExecCredential (a fast `aws eks get-token`)
    Token(commands::token::TokenArgs),
    /// Add or update a kubeconfig context for a cluster that authenticates with `token`
    Kubeconfig(commands::kubeconfig::KubeconfigArgs),
    /// Read-only triage: who you are, can you get in, aws-auth health, the creator, ranked ways back in
    Diagnose(commands::diagnose::DiagnoseArgs),
    /// The whole recovery in one command: diagnose, get in, restore aws-auth, verify, clean up, report
    Recover(commands::recover::RecoverArgs),
    /// Find the IAM principal that created a cluster and judge whether it can still get in
    Creator(commands::creator::CreatorArgs),
    /// Create an EKS access entry with cluster admin for you (or --principal): planned, journaled, undoable
    Grant(commands::grant::GrantArgs),
    /// Move off aws-auth onto EKS access entries: translate, create, verify each identity, then (separately) switch to API
    Migrate(commands::migrate::MigrateArgs),
    /// Make stale access entries (principal deleted and recreated) work again: planned, journaled, undoable
    #[command(name = "fix-entries")]
    FixEntries(commands::fix_entries::FixEntriesArgs),
    /// Reveal a CONFIG_MAP cluster's unknown creator: the one-way switch that makes EKS show its admin entry
    #[command(name = "reveal-creator")]
    RevealCreator(commands::reveal_creator::RevealCreatorArgs),
    /// Become the cluster's creator (assume its role, a temporary key, …) and prove it by logging in
    #[command(name = "assume-creator")]
    AssumeCreator(commands::assume_creator::AssumeCreatorArgs),
    /// Undo what a break-glass run changed, from its journal (default: the latest run)
    Cleanup(commands::cleanup::CleanupArgs),
    /// Write the cluster's creator on its tags, so it is known after CloudTrail forgets (90 days)
    Record(commands::record::RecordArgs),
    /// Fleet view over accounts and regions: which clusters would have no way back in today
    Audit(commands::audit::AuditArgs),
    /// Print the minimum IAM policy a command needs (all commands when none is named)
    Policy(commands::policy::PolicyArgs),
    /// Print shell completions
    Completions(commands::completions::CompletionsArgs),
    /// Print the version with the commit, target and compiler this binary was built from
    Version(commands::version::VersionArgs),
    /// Print or write the manual pages (generated from these definitions)
    Man(commands::man::ManArgs),
    /// Lint, show, salvage, render and diff aws-auth exactly as EKS's authenticator reads it
    #[command(subcommand, name = "aws-auth")]
    AwsAuth(AwsAuthCommand),
}

/// `aws-auth` subcommands: the read side (`commands::aws_auth`) and the write side
/// (`commands::aws_auth_write`, `_edit`, `_snapshot`), routed by `commands::run`.
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
    Lint(commands::aws_auth::LintArgs),
    /// Show the mappings the authenticator would load (ARN, username, groups, line, marks)
    Show(commands::aws_auth::ShowArgs),
    /// Recover what a broken aws-auth still holds: repaired ConfigMap on stdout, report on stderr
    #[command(
        after_help = "Salvage never invents an entry: every entry of the output comes from the\n\
input, and the output lints without errors. Entries it had to leave out are listed as lost."
    )]
    Salvage(commands::aws_auth::SalvageArgs),
    /// Print the canonical YAML of an aws-auth (readable sections rewritten, everything else kept)
    Render(commands::aws_auth::RenderArgs),
    /// Compare two aws-auth versions: who gained, lost or changed access, then a text diff
    Diff(commands::aws_auth::DiffArgs),
    /// List the lint rules (code, severity, meaning)
    Rules,
    /// Restore a known-good aws-auth (file, snapshot, eksctl config, salvage, rebuild): backed up, diffed, verified
    Restore(commands::aws_auth_write::RestoreArgs),
    /// A safe `kubectl edit` of aws-auth: lint on save, findings in the reopened file, backup, undo
    Edit(commands::aws_auth_edit::EditArgs),
    /// Keep a canonical, git-friendly copy of aws-auth (directory or S3) that `restore --from` reads
    Snapshot(commands::aws_auth_snapshot::SnapshotArgs),
}

/// How to reach the API server (shared by `aws-auth restore`, `edit` and `snapshot`).
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
    pub ca_file: Option<std::path::PathBuf>,
    /// Name to check the server certificate against (the endpoint's host name, through a tunnel)
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

impl ApiArgs {
    pub fn access(&self, cluster: &str) -> crate::aws::cluster_api::KubeAccess {
        crate::aws::cluster_api::KubeAccess {
            cluster: cluster.to_string(),
            api_server: self.api_server.clone(),
            ca_file: self.ca_file.as_ref().map(|p| p.display().to_string()),
            tls_server_name: self.tls_server_name.clone(),
            role_arn: self.role_arn.clone(),
        }
    }
}

/// What every aws-auth write (`restore`, `edit`) takes on top of the API access.
#[derive(Args, Debug, Clone, Default)]
pub struct WriteArgs {
    /// After the write, assume this role and prove it gets in as the new aws-auth maps it;
    /// refused: the verification fails (exit 1) (repeatable)
    #[arg(long = "verify-as", value_name = "ROLE_ARN", value_parser = crate::arn::role_arn_value)]
    pub verify_as: Vec<String>,
    /// The run directory for the journal and backups (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<std::path::PathBuf>,
    /// How long to retry authenticating during verification, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}

impl WriteArgs {
    pub fn options(&self) -> crate::workflow::restore::WriteOptions {
        crate::workflow::restore::WriteOptions {
            verify_as: self.verify_as.clone(),
            journal_dir: self.journal_dir.clone(),
            wait: std::time::Duration::from_secs(self.wait),
        }
    }
}

/// `assume-creator`'s arguments.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass assume-creator --cluster prod --yes\n  \
eks-breakglass assume-creator --cluster prod --mfa-serial arn:aws:iam::123456789012:mfa/me --token-code 123456\n  \
eks-breakglass assume-creator --cluster prod --keep --credentials-file ~/.aws/eks-creator --yes\n\n\
Ways in, chosen from the creator report: AssumeRole (no change); one trust statement for you\n\
(exactly that statement removed by `cleanup`); a temporary access key for a user (deleted when the run\n\
ends unless --keep); recreating a deleted user or role (EKS will most likely refuse it: it has a\n\
new unique id). Root and IAM Identity Center creators get instructions only."
)]
pub struct AssumeCreatorArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// The creator's ARN, when already known (skips the CloudTrail search)
    #[arg(long, value_name = "ARN")]
    pub creator: Option<String>,
    /// MFA device for AssumeRole, when the trust policy asks for MFA
    #[arg(long, value_name = "ARN", requires = "token_code")]
    pub mfa_serial: Option<String>,
    /// The current MFA code
    #[arg(long, value_name = "CODE", requires = "mfa_serial")]
    pub token_code: Option<String>,
    /// Session duration for AssumeRole, in seconds (default: the role's default, 1 hour)
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Make a trust statement or recreated role added by this run require MFA
    #[arg(long)]
    pub require_mfa: bool,
    /// Keep a temporary access key when the run ends (remove it later with `cleanup`)
    #[arg(long)]
    pub keep: bool,
    /// Write the credentials to this file (mode 0600) as an AWS shared-credentials profile
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Print `export AWS_…` lines with the credentials on stdout
    #[arg(long)]
    pub print_env: bool,
    /// The kubeconfig to add a context to (default: first path in KUBECONFIG, else ~/.kube/config)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Context name (default: <cluster>-creator)
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    /// Do not write a kubeconfig context
    #[arg(long)]
    pub no_kubeconfig: bool,
    /// The run directory for the journal (default: a new one under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
    /// How long to retry while IAM and EKS propagate new credentials, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}
