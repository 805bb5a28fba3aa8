//! `token`: the ExecCredential kubectl asks its exec plugin for.
//!
//! Without `--role-arn` no network call is made: the token is a URL signed locally.

use crate::aws::{self, AwsContext, token};
use crate::error::AppError;
use crate::exit;
use clap::Args;
use std::time::SystemTime;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass token --cluster prod --region eu-west-1\n  \
eks-breakglass token --cluster prod --role-arn arn:aws:iam::123456789012:role/breakglass\n\n\
The output is what `aws eks get-token` prints; kubectl reads it through an exec user\n\
(see `eks-breakglass kubeconfig`). KUBERNETES_EXEC_INFO selects the apiVersion."
)]
pub struct TokenArgs {
    /// Cluster name (the token is valid for this cluster only)
    #[arg(long, visible_alias = "cluster-name", value_name = "NAME")]
    pub cluster: String,
    /// Assume this IAM role first and make the token as the role
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
}

pub async fn run(g: &crate::cli::Globals, args: &TokenArgs) -> Result<u8, AppError> {
    if args.cluster.trim().is_empty() {
        return Err(AppError::usage(
            "--cluster must not be empty",
            Some("pass the EKS cluster name".into()),
        ));
    }
    if let Some(role) = &args.role_arn {
        crate::arn::parse_role_arn(role)
            .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let creds = match &args.role_arn {
        None => ctx.credentials().await?,
        Some(role) => {
            let session = aws::sts::session_name_for_operator();
            aws::sts::assume_role(&ctx, role, &session, None, None).await?
        }
    };
    let tok = token::make_token(&creds, &ctx.region, &args.cluster, SystemTime::now())?;
    let (api_version, warning) =
        token::exec_api_version(std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref());
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    println!("{}", token::exec_credential_json(&tok, api_version));
    Ok(exit::OK)
}
