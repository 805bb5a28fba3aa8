//! `kubeconfig`: a context whose user runs this binary's `token` — a break-glass kubeconfig.

use crate::aws::{AwsContext, eks};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::kubeconfig::{self, ContextEntry};
use base64::Engine as _;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass kubeconfig --cluster prod --region eu-west-1\n  \
eks-breakglass kubeconfig --cluster prod --role-arn arn:aws:iam::123456789012:role/admin --alias prod-breakglass\n\n\
Merges like `aws eks update-kubeconfig`: other clusters, users and contexts are kept; the file\n\
is written atomically with mode 0600; the new context becomes current. With --dry-run it says\n\
what it would add and writes nothing."
)]
pub struct KubeconfigArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Authenticate as this role (the exec plugin assumes it for each token)
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The kubeconfig file (default: first path in KUBECONFIG, else ~/.kube/config)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Context name (default: the cluster ARN)
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
}

pub async fn run(g: &Globals, args: &KubeconfigArgs) -> Result<u8, AppError> {
    if let Some(role) = &args.role_arn {
        crate::arn::parse_role_arn(role)
            .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    }
    let path = kubeconfig::default_path(args.kubeconfig.as_deref())?;
    // Fail on an unreadable or malformed file before any AWS call.
    let existing = kubeconfig::read(&path)?;
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let facts = eks::describe_cluster(&ctx, &args.cluster).await?;
    let server = facts.endpoint.clone().ok_or_else(|| {
        AppError::failed(
            format!(
                "cluster {} has no API endpoint yet (status {})",
                facts.name,
                facts.status.as_deref().unwrap_or("unknown")
            ),
            Some("wait until the cluster is ACTIVE".to_string()),
        )
    })?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| AppError::failed(format!("cannot find this program's path: {e}"), None))?;
    let mut exec_args = vec![
        "token".to_string(),
        "--cluster".to_string(),
        facts.name.clone(),
        "--region".to_string(),
        ctx.region.clone(),
    ];
    if let Some(role) = &args.role_arn {
        exec_args.push("--role-arn".into());
        exec_args.push(role.clone());
    }
    // The profile goes on the command line, not in AWS_PROFILE: an explicit --profile wins
    // over keys exported in the shell kubectl runs from, AWS_PROFILE does not.
    let mut exec_env = Vec::new();
    if let Some(p) = &ctx.profile {
        exec_args.push("--profile".into());
        exec_args.push(p.clone());
    } else if let Some(p) = crate::aws::context::env_profile() {
        // A profile from AWS_PROFILE is pinned in the context as the AWS CLI's
        // update-kubeconfig pins it (`env: AWS_PROFILE`): kubectl in another shell, without
        // that variable, signs in as the same profile, not the default identity. It stays an
        // environment variable, so keys exported where kubectl runs win, as they did here.
        exec_env.push(("AWS_PROFILE".to_string(), p));
    }
    let cluster_name = if facts.arn.is_empty() {
        facts.name.clone()
    } else {
        facts.arn.clone()
    };
    let entry = ContextEntry {
        cluster_name: cluster_name.clone(),
        server,
        ca_data_b64: facts
            .ca_pem
            .as_ref()
            .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem)),
        tls_server_name: None,
        context_name: args.alias.clone().unwrap_or(cluster_name),
        exec_command: exe.to_string_lossy().into_owned(),
        exec_args,
        exec_env,
    };
    let merged = kubeconfig::merge(&path, existing.as_deref(), &entry)?;
    if g.dry_run {
        // Everything above ran (the existing file parsed and merged); nothing is written and
        // the current context stays as it is.
        if g.json() {
            println!(
                "{}",
                serde_json::json!({"dry_run": true, "kubeconfig": path, "context": entry.context_name, "cluster": entry.cluster_name, "server": entry.server, "exec": {"command": entry.exec_command, "args": entry.exec_args}})
            );
        } else {
            println!(
                "Would add context {} to {} and make it the current context:
  cluster {} at {}
  user runs: {} {}

(dry run: nothing was written)",
                entry.context_name,
                path.display(),
                entry.cluster_name,
                entry.server,
                entry.exec_command,
                entry.exec_args.join(" ")
            );
        }
        return Ok(exit::OK);
    }
    kubeconfig::write_private_atomic(&path, merged.as_bytes()).map_err(|e| {
        kubeconfig::KubeconfigError::Write {
            path: path.clone(),
            source: e,
        }
    })?;
    if g.json() {
        println!(
            "{}",
            serde_json::json!({"kubeconfig": path, "context": entry.context_name, "cluster": entry.cluster_name, "server": entry.server})
        );
    } else {
        println!(
            "Updated context {} in {}",
            entry.context_name,
            path.display()
        );
    }
    Ok(exit::OK)
}
