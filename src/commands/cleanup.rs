//! `cleanup`: remove what a break-glass run left behind, from its journal — and, only when
//! asked by name, roll the run back. The decisions (what the journal proves, what stays, what
//! a rollback may put back) are `workflow::cleanup`'s; this file parses the arguments, picks
//! the identity to act as (the run's profile, from its journal), and prints.

use crate::aws::AwsContext;
use crate::aws::undo::{AwsUndo, KubeUndoAccess};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::journal::{self, Journal};
use crate::ui::write::TermUi;
use crate::workflow::cleanup::{self as wf, CleanupOptions};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass cleanup                       # the latest run\n  \
eks-breakglass cleanup --journal DIR --yes\n  \
eks-breakglass cleanup --journal DIR --rollback --dry-run\n\n\
cleanup removes what the run made only to get in (temporary access keys, its trust statements,\n\
recreated users and roles) and keeps what it fixed (the restored aws-auth, access entries).\n\
cleanup --rollback also reverses the run's result: it puts the earlier aws-auth back (refused\n\
when that version lets no person in, or not you, unless --force) and deletes the access\n\
entries it made (only while they are the very entries it made).\n\
An authentication-mode switch cannot be undone and is only listed."
)]
pub struct CleanupArgs {
    /// The run directory to undo (default: the latest run under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Also reverse the run's result: put the earlier aws-auth back, delete the access entries
    /// and policy associations it made, put tags back (default: only temporary things go)
    #[arg(long)]
    pub rollback: bool,
    /// With --rollback: restore an earlier aws-auth even when it lets no person in, or not you
    #[arg(long, requires = "rollback")]
    pub force: bool,
    /// An access key you identified as the run's when the journal could not record its id
    /// (the run was killed while IAM answered); repeatable
    #[arg(long, value_name = "ACCESS_KEY_ID")]
    pub delete_key: Vec<String>,
    /// Assume this role for the Kubernetes part of the undo (restoring aws-auth), e.g. the
    /// creator role the run used; AWS undos always use your own credentials
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// For the Kubernetes part of the undo: the API server URL, when the run went through a
    /// tunnel or bastion (default: the cluster's endpoint from DescribeCluster)
    #[arg(long, value_name = "URL")]
    pub api_server: Option<String>,
    /// With --api-server: the cluster CA bundle (PEM)
    #[arg(long, value_name = "FILE", requires = "api_server")]
    pub ca_file: Option<PathBuf>,
    /// With --api-server: the name to check the server certificate against
    #[arg(long, value_name = "NAME", requires = "api_server")]
    pub tls_server_name: Option<String>,
}

pub async fn run(g: &Globals, args: &CleanupArgs) -> Result<u8, AppError> {
    let dir = wf::run_dir_of(args.journal.as_deref())?;
    // One writer per run: a run still alive (applying, verifying) holds its journal. A dry run
    // only checks; a real cleanup holds the lock until it ends.
    let mut held = None;
    if g.dry_run {
        journal::check_not_busy(&dir)?;
    } else {
        held = Some(Journal::open(&dir)?.0);
    }
    let records = journal::read_records(&dir)?;
    let Some(run) = wf::run_of(&dir, &records)? else {
        // Killed between creating the journal and its first record: nothing was changed.
        if g.json() {
            println!("{}", serde_json::json!({"journal": dir, "undone": []}));
        } else {
            println!(
                "Nothing to undo in {}: the run stopped before it recorded anything (no change was made).",
                dir.display()
            );
        }
        return Ok(exit::OK);
    };
    // Who acts: --profile, else the profile the run acted as (its journal says), so that the
    // undo is made by the identity that made the change, not by whoever exported keys here.
    // The context is loaded (the profile checked) before anything is shown, as in every
    // command: a dry run refuses an unknown profile as the real run does.
    let mut opts = g.aws_options();
    if opts.profile.is_none()
        && let Some(p) = journal::run_profile(&records)
    {
        eprintln!(
            "profile: {p} (the one the run used, from its journal; --profile to act as another)"
        );
        opts.profile = Some(p.to_string());
    }
    // The run's region, unless the operator says otherwise.
    if opts.region.is_none() {
        opts.region = Some(run.region.clone());
    }
    let world = AwsUndo {
        ctx: AwsContext::load(&opts).await?,
        cluster: run.cluster.clone(),
        confirmed_keys: args.delete_key.clone(),
        kube: KubeUndoAccess {
            role_arn: args.role_arn.clone(),
            api_server: args.api_server.clone(),
            ca_file: args.ca_file.clone(),
            tls_server_name: args.tls_server_name.clone(),
        },
    };
    let options = CleanupOptions {
        rollback: args.rollback,
        force: args.force,
    };
    wf::cleanup(
        g,
        &world,
        &TermUi::new(g),
        &dir,
        held,
        &records,
        run,
        &options,
    )
    .await
}
