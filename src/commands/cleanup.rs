//! `cleanup`: remove what a break-glass run left behind, from its journal — and, only when
//! asked by name, roll the run back.
//!
//! Two different wishes, kept apart on purpose. Right after a successful `recover`, "clean up"
//! means: take away the scaffolding of getting in — temporary keys, trust statements, recreated
//! users and roles — and keep the fix (the restored aws-auth, the access entry). Putting the
//! earlier aws-auth back would lock everyone out again. So plain `cleanup` removes the
//! scaffolding only; `cleanup --rollback` also reverses the run's result, shows the lint verdict
//! of the aws-auth it would put back, and refuses one that lets no person in unless `--force`.
//!
//! Each undo checks AWS's state first (cleanup twice, or after a partial cleanup, is safe) and
//! removes only what the journal proves is the run's; a run still alive (its journal locked by
//! another process) is refused; irreversible steps — including an authentication-mode switch
//! cut off mid-flight — are listed.

use super::plan_ui::{self, Decision};
use crate::aws::AwsContext;
use crate::aws::plan_runner::AwsRunner;
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::journal::{self, Event, Journal};
use crate::recovery::plan::{self, Applied, Undo};
use crate::recovery::rollback::{self, RollbackVerdict};
use clap::Args;
use std::path::{Path, PathBuf};

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

/// An aws-auth rollback and the verdict on the version it would restore.
struct Judged {
    step: u32,
    verdict: Result<RollbackVerdict, String>,
    /// The saved aws-auth itself (to predict who gets in with it).
    object: Option<crate::recovery::restore::AwsAuthObject>,
    /// Whether the operator running the rollback gets in with it (`Err`: cannot tell).
    caller: Option<Result<rollback::CallerVerdict, String>>,
}

/// Judges every aws-auth restore of the rollback (the saved file, checked against the journal).
fn judge_restores(dir: &Path, undos: &[Applied]) -> Vec<Judged> {
    undos
        .iter()
        .filter_map(|a| match &a.undo {
            Undo::RestoreConfigMap {
                previous_file: Some(f),
                ..
            } => {
                let object = journal::read_saved(dir, f)
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        serde_json::from_slice::<k8s_openapi::api::core::v1::ConfigMap>(&b)
                            .map_err(|e| format!("{f} is not a ConfigMap: {e}"))
                    })
                    .map(|cm| crate::aws::cluster_api::object_of(&cm));
                Some(Judged {
                    step: a.step,
                    verdict: object.as_ref().map(rollback::judge).map_err(Clone::clone),
                    object: object.ok(),
                    caller: None,
                })
            }
            _ => None,
        })
        .collect()
}

pub async fn run(g: &Globals, args: &CleanupArgs) -> Result<u8, AppError> {
    let dir = match &args.journal {
        Some(d) => d.clone(),
        None => journal::latest_run(&journal::default_runs_dir()?)?,
    };
    // One writer per run: a run still alive (applying, verifying) holds its journal. A dry run
    // only checks; a real cleanup holds the lock until it ends.
    let mut held = None;
    if g.dry_run {
        journal::check_not_busy(&dir)?;
    } else {
        held = Some(Journal::open(&dir)?.0);
    }
    let records = journal::read_records(&dir)?;
    if journal::run_header(&records).is_none()
        && !records
            .iter()
            .any(|r| matches!(r.event, Event::StepStarted { .. }))
    {
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
    }
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
    let all = journal::pending_undos(&records);
    let (pending, kept): (Vec<Applied>, Vec<Applied>) = all
        .into_iter()
        .partition(|a| args.rollback || a.undo.is_temporary_kind());
    let mut irreversible = journal::irreversible_done(&records);
    for (step, what) in journal::irreversible_interrupted(&records) {
        irreversible.push((
            step,
            format!(
                "{what} — started but never recorded as finished (the run was cut off): it may have happened, and cannot be undone; check the cluster with `aws eks describe-cluster --name {cluster}`"
            ),
        ));
    }
    let mut judged = judge_restores(&dir, &pending);
    // Predict, before anything is shown or applied, whether the operator running the rollback
    // gets in with the aws-auth it puts back (the authenticator's lookup on the saved version),
    // as the identity the cleanup acts as.
    if judged.iter().any(|j| j.object.is_some()) {
        let caller = crate::aws::sts::caller_identity(&ctx)
            .await
            .map_err(|e| format!("cannot tell who you are (sts:GetCallerIdentity): {e}"));
        for j in &mut judged {
            if let Some(obj) = &j.object {
                j.caller = Some(caller.as_ref().map_err(Clone::clone).map(|c| {
                    rollback::caller_verdict(
                        obj,
                        &crate::awsauth::CallerIdentity {
                            arn: c.arn.clone(),
                            account: c.account.clone(),
                            ..Default::default()
                        },
                    )
                }));
            }
        }
    }
    let left_json = |kept: &[Applied]| {
        serde_json::json!({
            "left_as_is": irreversible.iter().map(|(s, w)| serde_json::json!({"step": s, "what": w})).collect::<Vec<_>>(),
            "kept": kept.iter().map(|a| serde_json::json!({"step": a.step, "what": a.undo.describe()})).collect::<Vec<_>>(),
        })
    };
    if pending.is_empty() {
        if g.json() {
            let mut v = serde_json::json!({"journal": dir, "undone": []});
            if let (Some(o), serde_json::Value::Object(l)) = (v.as_object_mut(), left_json(&kept)) {
                o.extend(l);
            }
            println!("{v}");
        } else {
            println!("Nothing to undo in {}.", dir.display());
            print!("{}", left_lines(&irreversible, &kept, &dir));
        }
        return Ok(exit::OK);
    }
    show_undo_plan(
        g,
        &dir,
        (&command, &cluster, &region),
        &pending,
        &judged,
        &left_lines(&irreversible, &kept, &dir),
        args.rollback,
    );
    // A rollback to an aws-auth that lets nobody in is the lock-out again: not without --force.
    let lockouts: Vec<String> = judged
        .iter()
        .filter_map(|j| match &j.verdict {
            Ok(v) if v.locks_everyone_out => Some(format!("step {}: {}", j.step, v.describe())),
            Err(e) => Some(format!(
                "step {}: cannot judge the saved aws-auth: {e}",
                j.step
            )),
            Ok(_) => None,
        })
        .collect();
    if !lockouts.is_empty() && !args.force {
        return Err(AppError::usage(
            format!(
                "the rollback would restore an aws-auth that locks everyone out ({}); nothing was changed",
                lockouts.join("; ")
            ),
            Some(format!(
                "remove only the temporary things with `eks-breakglass cleanup --journal {}` (no --rollback); or, if that is really what you want, add --force",
                dir.display()
            )),
        ));
    }
    let locked_self: Vec<String> = judged
        .iter()
        .filter_map(|j| match &j.caller {
            Some(Ok(v)) if v.gets_in_as.is_none() => {
                Some(format!("step {}: {}", j.step, v.describe()))
            }
            Some(Err(e)) => Some(format!(
                "step {}: cannot predict whether you get in with it: {e}",
                j.step
            )),
            _ => None,
        })
        .collect();
    if !locked_self.is_empty() && !args.force {
        return Err(AppError::usage(
            format!(
                "the rollback would lock you out again ({}); nothing was changed",
                locked_self.join("; ")
            ),
            Some(format!(
                "remove only the temporary things with `eks-breakglass cleanup --journal {}` (no --rollback); or, if you accept losing your own access, add --force",
                dir.display()
            )),
        ));
    }
    if plan_ui::confirm(g, pending.len())? == Decision::DryRun {
        return Ok(exit::OK);
    }
    let Some(mut journal) = held else {
        return Ok(exit::OK);
    };
    let interrupt = plan_ui::catch_interrupt();
    let spinner = plan_ui::Spinner::new();
    let status = {
        let s = &spinner;
        Box::new(move |m: &str| s.set(m)) as Box<dyn Fn(&str)>
    };
    let mut runner = AwsRunner::new(&ctx, dir.clone(), interrupt, status);
    runner.confirmed_keys = args.delete_key.clone();
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
        let mut v = serde_json::json!({"journal": dir, "rollback": args.rollback, "undone": plan_ui::undo_json(&reports)});
        if let (Some(o), serde_json::Value::Object(l)) = (v.as_object_mut(), left_json(&kept)) {
            o.extend(l);
        }
        println!("{v}");
    } else {
        println!(
            "\n{} of {}:",
            if args.rollback { "Rollback" } else { "Cleanup" },
            dir.display()
        );
        for l in plan_ui::undo_lines(&reports) {
            println!("  {l}");
        }
        print!("{}", left_lines(&irreversible, &kept, &dir));
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

/// What stays, for people: irreversible steps, and the run's result when not rolling back.
fn left_lines(irreversible: &[(u32, String)], kept: &[Applied], dir: &Path) -> String {
    let mut out = String::new();
    for (step, what) in irreversible {
        out.push_str(&format!("  ! step {step}: left as is: {what}\n"));
    }
    for a in kept {
        out.push_str(&format!(
            "  = step {} stays (the run's result, kept): {}\n",
            a.step,
            a.undo.describe()
        ));
    }
    if !kept.is_empty() {
        out.push_str(&format!(
            "    to reverse the result too (it may lock people out again): eks-breakglass cleanup --journal {} --rollback\n",
            dir.display()
        ));
    }
    out
}

/// The undo plan: the undos themselves (the calls they make), latest first.
fn show_undo_plan(
    g: &Globals,
    dir: &Path,
    (command, cluster, region): (&str, &str, &str),
    pending: &[Applied],
    judged: &[Judged],
    left: &str,
    rollback: bool,
) {
    if g.json() && g.dry_run {
        println!(
            "{}",
            serde_json::json!({
                "dry_run": true, "journal": dir, "rollback": rollback,
                "undo": pending.iter().rev().collect::<Vec<_>>(),
                "restores": judged.iter().map(|j| serde_json::json!({
                    "step": j.step,
                    "verdict": j.verdict.as_ref().ok(),
                    "caller": j.caller.as_ref().and_then(|c| c.as_ref().ok()),
                    "error": j.verdict.as_ref().err(),
                })).collect::<Vec<_>>(),
            })
        );
        return;
    }
    let mut out = format!(
        "{} plan for run {} ({command}, cluster {cluster}, region {region}): {} undo(s)\n",
        if rollback { "Rollback" } else { "Cleanup" },
        dir.display(),
        pending.len()
    );
    out.push_str(left);
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
        if let Some(j) = judged.iter().find(|j| j.step == a.step) {
            match &j.verdict {
                Ok(v) => out.push_str(&format!("    puts back: {}\n", v.describe())),
                Err(e) => out.push_str(&format!("    puts back: cannot be judged: {e}\n")),
            }
            match &j.caller {
                Some(Ok(v)) => out.push_str(&format!("    {}\n", v.describe())),
                Some(Err(e)) => out.push_str(&format!(
                    "    whether you get in with it: cannot tell ({e})\n"
                )),
                None => {}
            }
        }
    }
    if g.json() {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
}
