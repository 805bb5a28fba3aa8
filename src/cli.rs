//! The command line: global options and the subcommands, with clap's derive.
//!
//! Only subcommands that work are listed; each lives in its own file under `commands/`.

use crate::commands;
use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Output format for results on stdout
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// More detail on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Apply plans without asking for confirmation
    #[arg(long, global = true)]
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
}

impl Globals {
    pub fn aws_options(&self) -> crate::aws::context::AwsOptions {
        crate::aws::context::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            calls: self.calls.clone(),
        }
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
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
    AwsAuth(commands::aws_auth::AwsAuthCommand),
}
