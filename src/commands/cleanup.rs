//! `cleanup`: undo what a break-glass run left behind, from its journal.
//!
//! Reads the run's journal, works out which changes are (or may be) still in place — including a
//! step that was started but never recorded as finished because the process died — and undoes
//! them in reverse order. Each undo checks AWS's state first, so running cleanup twice, or after
//! a partial cleanup, is safe; irreversible steps (an authentication-mode switch) are listed.

use super::plan_ui::{self, Decision};
use crate::aws::AwsContext;
use crate::aws::plan_runner::AwsRunner;
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::journal::{self, Event, Journal};
use crate::recovery::plan::{self, Applied};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass cleanup                       # the latest run\n  \
eks-breakglass cleanup --journal ~/.local/state/eks-breakglass/runs/20260101T000000.000Z-grant-prod --yes\n\n\
Undoes in reverse order: temporary access keys, trust-policy statements, recreated users and\n\
roles, access entries. An authentication-mode switch cannot be undone and is only listed."
)]
pub struct CleanupArgs {
    /// The run directory to undo (default: the latest run under the state directory)
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
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
    let dir = match &args.journal {
        Some(d) => d.clone(),
        None => journal::latest_run(&journal::default_runs_dir()?)?,
    };
    let records = journal::read_records(&dir)?;
    let (command, cluster, region) = journal::run_header(&records)
        .map(|(c, cl, r, _)| (c.to_string(), cl.to_string(), r.to_string()))
        .ok_or_else(|| {
            AppError::failed(
                format!("{} has no run_started record", dir.display()),
                Some("pass the directory of a run made by eks-breakglass".to_string()),
            )
        })?;
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
        opts.region = Some(region.clone());
    }
    let ctx = AwsContext::load(&opts).await?;
    let pending = journal::pending_undos(&records);
    let irreversible = journal::irreversible_done(&records);
    if pending.is_empty() {
        if g.json() {
            println!(
                "{}",
                serde_json::json!({"journal": dir, "undone": [], "left_as_is": irreversible.iter().map(|(s, w)| serde_json::json!({"step": s, "what": w})).collect::<Vec<_>>()})
            );
        } else {
            println!("Nothing to undo in {}.", dir.display());
            for (step, what) in &irreversible {
                println!("  step {step} stays: {what}");
            }
        }
        return Ok(exit::OK);
    }
    show_undo_plan(
        g,
        &dir,
        &command,
        &cluster,
        &region,
        &pending,
        &irreversible,
    );
    if plan_ui::confirm(g, pending.len())? == Decision::DryRun {
        return Ok(exit::OK);
    }
    let (mut journal, _) = Journal::open(&dir)?;
    let interrupt = plan_ui::catch_interrupt();
    let spinner = plan_ui::Spinner::new();
    let status = {
        let s = &spinner;
        Box::new(move |m: &str| s.set(m)) as Box<dyn Fn(&str)>
    };
    let mut runner = AwsRunner::new(&ctx, dir.clone(), interrupt, status);
    let kube_undo = pending
        .iter()
        .any(|a| matches!(a.undo, plan::Undo::RestoreConfigMap { .. }));
    if let (Some(role), true) = (&args.role_arn, kube_undo) {
        crate::arn::parse_role_arn(role)
            .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
        let session = crate::aws::sts::session_name_for_operator();
        runner.kube_credentials =
            Some(crate::aws::sts::assume_role(&ctx, role, &session, None, None).await?);
    }
    if let Some(server) = &args.api_server {
        let ca_pem = match &args.ca_file {
            Some(f) => Some(std::fs::read(f).map_err(|e| {
                AppError::usage(
                    format!("cannot read the CA file {}: {e}", f.display()),
                    None,
                )
            })?),
            // A tunnel changes the address, not the cluster's CA: DescribeCluster's.
            None => {
                crate::aws::eks::describe_cluster(&ctx, &cluster)
                    .await?
                    .ca_pem
            }
        };
        runner.api_target = Some(crate::k8s::ApiTarget {
            server: server.clone(),
            ca_pem,
            tls_server_name: args.tls_server_name.clone(),
        });
    }
    let reports = plan::undo_all(&pending, &mut journal, &mut runner)
        .await
        .map_err(|e| plan_ui::journal_io(&dir, e))?;
    spinner.done();
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    let _ = journal.record(Event::RunFinished {
        status: if failed == 0 {
            "cleaned".into()
        } else {
            "cleanup_incomplete".into()
        },
    });
    if g.json() {
        println!(
            "{}",
            serde_json::json!({"journal": dir, "undone": plan_ui::undo_json(&reports), "left_as_is": irreversible.iter().map(|(s, w)| serde_json::json!({"step": s, "what": w})).collect::<Vec<_>>()})
        );
    } else {
        println!("\nCleanup of {}:", dir.display());
        for l in plan_ui::undo_lines(&reports) {
            println!("  {l}");
        }
        for (step, what) in &irreversible {
            println!("  step {step}: left as is: {what}");
        }
    }
    if failed > 0 {
        return Err(AppError::failed(
            format!("{failed} undo(s) failed; the others were done"),
            Some(format!(
                "fix the cause above and run `{}` again (it only redoes what is left)",
                plan_ui::cleanup_command(&dir, ctx.profile.as_deref())
            )),
        ));
    }
    Ok(exit::OK)
}

/// The undo plan: the undos themselves (the calls they make), latest first.
fn show_undo_plan(
    g: &Globals,
    dir: &std::path::Path,
    command: &str,
    cluster: &str,
    region: &str,
    pending: &[Applied],
    irreversible: &[(u32, String)],
) {
    if g.json() && g.dry_run {
        println!(
            "{}",
            serde_json::json!({"dry_run": true, "journal": dir, "undo": pending.iter().rev().collect::<Vec<_>>()})
        );
        return;
    }
    let mut out = format!(
        "Cleanup plan for run {} ({command}, cluster {cluster}, region {region}): {} undo(s)\n",
        dir.display(),
        pending.len()
    );
    for (step, what) in irreversible {
        out.push_str(&format!("  ! step {step} stays: {what}\n"));
    }
    for a in pending.iter().rev() {
        out.push_str(&format!(
            "\n  - undo step {}: {}\n",
            a.step,
            a.undo.describe()
        ));
        if a.uncertain {
            out.push_str("    (the step did not finish: AWS's state is checked first)\n");
        }
        if let Some(call) = a.undo.call() {
            out.push_str(&format!("    call: {call}\n"));
        }
    }
    if g.json() {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
}
