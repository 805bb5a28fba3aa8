//! `audit`: the fleet view — for every cluster in the accounts and regions asked, is there still a
//! way back in if aws-auth breaks today?
//!
//! Thin: checks the flags, runs the fleet fan-out of [`crate::aws::audit_sources::gather`]
//! (accounts, regions, clusters, with bounded concurrency and per-account/region/service rate
//! limits, so a big fleet is fast without tripping AWS's throttles), which audits each cluster
//! with [`crate::workflow::audit`] (what to look at, which failures end a cluster's audit, what
//! the creator's IAM answer means, the access-entry findings) and judges it with
//! [`crate::recovery::audit::assess`]; renders with [`crate::ui::audit`]. Reads only.

use crate::aws;
use crate::aws::audit_sources::{FleetOptions, gather};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::recovery::audit;
use crate::ui::audit::{progress_bar, render_csv, render_table};
use crate::workflow::audit::AuditOptions;
use clap::{Args, ValueEnum};
use std::time::Instant;

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  eks-breakglass audit --region us-east-1,eu-west-1\n  \
eks-breakglass audit --profile prod --profile staging --breakglass-role breakglass/eks-admin -o csv > fleet.csv\n  \
eks-breakglass audit --org-role OrganizationAccountAccessRole --region us-east-1 --region eu-west-1 -o json\n  \
eks-breakglass audit --deep --aws-auth --concurrency 4\n\n\
For each cluster: authentication mode, creator-admin flag, the creator (from the tags written by\n\
`eks-breakglass record`; with --deep also CloudTrail, the S3 trail and access entries) and whether\n\
it is alive and the same principal, the break-glass role's access entry, aws-auth lint status\n\
(--aws-auth) and endpoint access. A cluster is flagged when neither an admin access entry for\n\
the break-glass role nor a usable creator exists.\n\n\
Regions: every --region named (repeated or comma-separated), or the current one (AWS_REGION,\n\
the profile's). --regions/--profiles are the old spellings. Listing the\n\
account's enabled regions needs EC2 or Account APIs this tool does not use: name them.\n\
Requests are limited per account and region (--rate for EKS; IAM 10/s per account; CloudTrail\n\
searches, with --deep, one at a time per region at under 2/s).\n\
Exit codes: 0 every cluster has a way in, 3 at least one is flagged, 1 something could not be\n\
listed or described (and nothing was flagged)."
)]
pub struct AuditArgs {
    /// Regions to audit: repeat --region or give a comma list (default: the current region)
    // The id is the global option's, so audit's repeatable --region replaces it (the old
    // spelling --regions stays as a hidden alias).
    #[arg(
        long = "region",
        id = "region",
        alias = "regions",
        value_delimiter = ',',
        value_name = "REGION"
    )]
    pub regions: Vec<String>,
    /// Profiles: repeat --profile or give a comma list; several audit the account of each
    /// (its credentials); with --org-role, one profile for the management account
    #[arg(
        long = "profile",
        id = "profile",
        alias = "profiles",
        value_delimiter = ',',
        value_name = "PROFILE"
    )]
    pub profiles: Vec<String>,
    /// Audit every active account of the organisation, assuming this role (name, with path if
    /// any) in each; the current account is audited with the current credentials
    #[arg(long, value_name = "ROLE")]
    pub org_role: Option<String>,
    /// The designated break-glass role: a full ARN, or a role name (with path) taken in each
    /// cluster's account
    #[arg(long, value_name = "ARN|NAME")]
    pub breakglass_role: Option<String>,
    /// When a cluster has no creator record on its tags, search for the creator (CloudTrail,
    /// S3 trail, access entries); slow: CloudTrail allows 2 requests/s per region
    #[arg(long)]
    pub deep: bool,
    /// Also read and lint kube-system/aws-auth through each cluster's API server (needs network
    /// access to the endpoints and a mapping for you)
    #[arg(long)]
    pub aws_auth: bool,
    /// Also judge each cluster's access entries: stale ones (principal recreated), the creator
    /// as the only admin, policies EKS does not offer (more calls per cluster)
    #[arg(long)]
    pub entries: bool,
    /// Clusters assessed at once
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// EKS requests per second per account and region (bursts up to twice as many)
    #[arg(long, default_value_t = 20.0, value_name = "PER_SECOND")]
    pub rate: f64,
    /// Output format: the old spelling of `--output` (table = text; kept for scripts)
    #[arg(long, value_enum, value_name = "FORMAT", hide = true)]
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub async fn run(g: &Globals, args: &AuditArgs) -> Result<u8, AppError> {
    // A region or profile named twice (`--region a,a`, or `--region a --regions a` in a script
    // half migrated to the new spelling) is audited once, in the order first named.
    let mut args = args.clone();
    dedup_in_order(&mut args.regions);
    dedup_in_order(&mut args.profiles);
    let args = &args;
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        return Err(AppError::usage(
            "--rate must be a positive number of requests per second",
            None,
        ));
    }
    for r in &args.regions {
        aws::partition::validate_region(r).map_err(|e| {
            AppError::usage(
                e.to_string(),
                e.suggestion.map(|s| format!("did you mean {s}?")),
            )
        })?;
    }
    if let Some(b) = &args.breakglass_role
        && b.starts_with("arn:")
    {
        crate::arn::parse_role_arn(b)
            .map_err(|e| AppError::usage(e.to_string(), Some(e.hint())))?;
    }
    let format = match (args.format, g.output) {
        (Some(f), _) => f,
        (None, crate::cli::OutputFormat::Json) => Format::Json,
        (None, crate::cli::OutputFormat::Csv) => Format::Csv,
        (None, _) => Format::Table,
    };
    let started = Instant::now();
    let local = tokio::task::LocalSet::new();
    let fleet = FleetOptions {
        base: base_options(g, args),
        regions: args.regions.clone(),
        profiles: args.profiles.clone(),
        org_role: args.org_role.clone(),
        rate: args.rate,
        concurrency: args.concurrency,
        audit: AuditOptions {
            deep_search: args.deep,
            aws_auth: args.aws_auth,
            breakglass: args.breakglass_role.clone(),
            entries: args.entries,
        },
    };
    let bar = progress_bar();
    let (items, errors) = local.run_until(gather(&fleet, &bar)).await?;
    let elapsed = started.elapsed();
    let summary = audit::summarize(&items, errors.len());
    match format {
        Format::Json => {
            let v = serde_json::json!({
                "summary": summary,
                "clusters": items,
                "errors": errors,
                "elapsed_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                "calls": g.calls.counts_by_service(),
            });
            let text = serde_json::to_string_pretty(&v)
                .map_err(|e| AppError::failed(format!("cannot render JSON: {e}"), None))?;
            println!("{text}");
        }
        Format::Csv => print!("{}", render_csv(&items)),
        Format::Table => {
            print!("{}", render_table(&items, &errors));
            let calls: usize = g.calls.counts_by_service().values().sum();
            println!(
                "{} cluster(s) in {} account(s), {} region(s): {} flagged, {} with an admin access \
                 entry, {} through the creator; {} creator(s) not recorded on tags. {:.1}s, {calls} AWS call(s).",
                summary.clusters,
                summary.accounts,
                summary.regions,
                summary.flagged,
                summary.via_access_entry,
                summary.via_creator,
                summary.creator_not_recorded,
                elapsed.as_secs_f64()
            );
        }
    }
    Ok(if summary.flagged > 0 {
        exit::FINDINGS
    } else if !errors.is_empty() {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// Drops repeated values, keeping the first of each.
fn dedup_in_order(v: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

/// The options of the current (or management) account: audit's own --region/--profile
/// replace the global ones, so the first region named, and with --org-role the one profile
/// named, stand for the global options.
fn base_options(g: &Globals, args: &AuditArgs) -> crate::aws::context::AwsOptions {
    let mut opts = g.aws_options();
    if opts.region.is_none() {
        opts.region = args.regions.first().cloned();
    }
    if args.org_role.is_some() && opts.profile.is_none() {
        opts.profile = args.profiles.first().cloned();
    }
    opts
}
