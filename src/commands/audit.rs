//! `audit`: the fleet view — for every cluster in the accounts and regions asked, is there still a
//! way back in if aws-auth breaks today?
//!
//! This file gathers (accounts, regions, clusters, then per cluster DescribeCluster, the creator
//! recorded on the tags and its IAM state, the break-glass role's access entry, optionally
//! aws-auth) and renders; the judgement is [`crate::recovery::audit::assess`]. Work runs with
//! bounded concurrency (`--concurrency`) on one thread, and every request waits for a token of
//! its account/region/service bucket ([`crate::aws::ratelimit`]), so a big fleet is fast without
//! tripping AWS's throttles. Reads only: nothing is changed.

use crate::aws::ratelimit::Limits;
use crate::aws::{self, AwsContext, AwsError, AwsErrorKind, access, eks, iam, sts, token};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::k8s::{ApiTarget, KubeClient};
use crate::recovery::audit::{
    self, Assessment, AuditError, AwsAuthObservation, BreakglassObservation, CreatorObservation,
    Observation,
};
use crate::recovery::creator::{self, Creator, FindOptions};
use crate::recovery::event::CreatorKind;
use crate::recovery::principal::{self, IamRoleRecord, IamUserRecord, PrincipalState};
use crate::ui::audit::{render_csv, render_table};
use clap::{Args, ValueEnum};
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{OnceCell, Semaphore};

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

/// One account to audit, with credentials for it.
struct Target {
    account: String,
    ctx: AwsContext,
}

/// IAM answers, shared by every cluster of an account (creators are often the same few).
#[derive(Debug, Clone)]
enum IamAnswer {
    User {
        user: Option<IamUserRecord>,
        keys: Option<usize>,
    },
    Role(Option<IamRoleRecord>),
    Failed(String),
}

struct Shared {
    limits: Limits,
    iam: Mutex<HashMap<String, Rc<OnceCell<IamAnswer>>>>,
    deep: Mutex<HashMap<String, Rc<tokio::sync::Mutex<()>>>>,
    deep_search: bool,
    aws_auth: bool,
    breakglass: Option<String>,
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
    let (items, errors) = local.run_until(gather(g, args)).await?;
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

/// Accounts, then regions' cluster lists, then every cluster, each step bounded.
async fn gather(
    g: &Globals,
    args: &AuditArgs,
) -> Result<(Vec<Assessment>, Vec<AuditError>), AppError> {
    let mut errors = Vec::new();
    let targets = targets(g, args, &mut errors).await?;
    let shared = Rc::new(Shared {
        limits: Limits::new(
            (args.rate, args.rate * 2.0),
            // CloudTrail LookupEvents: 2 requests/s per account and region; each `--deep`
            // search starts on a token, and paces its own further pages.
            &[
                ("iam", 10.0, 20.0),
                ("sts", 10.0, 10.0),
                ("cloudtrail", 1.8, 1.0),
            ],
        ),
        iam: Mutex::new(HashMap::new()),
        deep: Mutex::new(HashMap::new()),
        deep_search: args.deep,
        aws_auth: args.aws_auth,
        breakglass: args.breakglass_role.clone(),
    });
    let bar = progress_bar();
    bar.set_message("listing clusters");

    // Cluster lists, one task per account and region.
    let mut lists = tokio::task::JoinSet::new();
    for t in &targets {
        let regions = if args.regions.is_empty() {
            vec![t.ctx.region.clone()]
        } else {
            args.regions.clone()
        };
        for region in regions {
            let ctx = t.ctx.in_region(&region);
            let account = t.account.clone();
            let shared = shared.clone();
            lists.spawn_local(async move {
                shared.limits.acquire(&account, &region, "eks").await;
                let r = eks::list_clusters(&ctx).await;
                (account, ctx, r)
            });
        }
    }
    let mut clusters = Vec::new();
    while let Some(done) = lists.join_next().await {
        let Ok((account, ctx, r)) = done else {
            continue;
        };
        match r {
            Ok(names) => {
                clusters.extend(names.into_iter().map(|n| (account.clone(), ctx.clone(), n)))
            }
            // One account's credentials failing (an expired org-role session) must not end the
            // audit of the others: it is reported with the rest.
            Err(e) => errors.push(AuditError::new(&account, &ctx.region, None, &e)),
        }
    }
    bar.set_length(clusters.len() as u64);
    bar.set_message("assessing");

    // Every cluster, at most `concurrency` at once.
    let sem = Rc::new(Semaphore::new(usize::from(args.concurrency)));
    let mut tasks = tokio::task::JoinSet::new();
    for (account, ctx, name) in clusters {
        let sem = sem.clone();
        let shared = shared.clone();
        let entries = args.entries;
        tasks.spawn_local(async move {
            let _permit = sem.acquire().await;
            let r = observe(&shared, &ctx, &account, &name).await;
            // issue 17: access-entry findings (CONFIG_MAP always; the rest with --entries).
            let extra = match &r {
                Ok(o) => Some(entry_findings(&shared, &ctx, &account, o, entries).await),
                Err(_) => None,
            };
            (account, ctx.region.clone(), name, r.map(|o| (o, extra)))
        });
    }
    let mut items = Vec::new();
    while let Some(done) = tasks.join_next().await {
        bar.inc(1);
        let Ok((account, region, name, r)) = done else {
            continue;
        };
        match r {
            Ok((o, extra)) => {
                let mut a = audit::assess(&o);
                if let Some((found, stale)) = extra {
                    crate::recovery::access_entries::merge_into_assessment(&mut a, found, stale);
                }
                items.push(a)
            }
            Err(e) => errors.push(AuditError::new(&account, &region, Some(&name), &e)),
        }
    }
    bar.finish_and_clear();
    items.sort_by(|a, b| {
        (&a.account, &a.region, &a.cluster).cmp(&(&b.account, &b.region, &b.cluster))
    });
    errors.sort_by(|a, b| {
        (&a.account, &a.region, &a.cluster).cmp(&(&b.account, &b.region, &b.cluster))
    });
    Ok((items, errors))
}

/// issue 17: the access-entry findings of one cluster; CONFIG_MAP needs no call, the rest only
/// with `--entries`. A failure to read the entries becomes a finding, not an audit error.
async fn entry_findings(
    shared: &Shared,
    ctx: &AwsContext,
    account: &str,
    o: &audit::Observation,
    deep: bool,
) -> (Vec<crate::recovery::access_entries::EntryFinding>, bool) {
    let mode = o.facts.effective_auth_mode();
    let creator = match &o.creator {
        audit::CreatorObservation::Known { creator, .. } => Some(creator.arn.clone()),
        _ => None,
    };
    if !deep || !mode.allows_access_entries() {
        let rf = format!(" --region {}", o.facts.region);
        let found = crate::recovery::access_entries::audit_findings(
            &o.facts.name,
            &rf,
            mode,
            &[],
            creator.as_deref(),
            None,
            None,
        );
        return (found, false);
    }
    let bg = shared
        .breakglass
        .as_ref()
        .map(|s| breakglass_arn(s, ctx.partition(), account));
    shared.limits.acquire(account, &ctx.region, "eks").await;
    match crate::aws::entries_read::audit_entries(ctx, &o.facts, creator.as_deref(), bg.as_deref())
        .await
    {
        Ok(r) => r,
        Err(e) => (
            vec![crate::recovery::access_entries::EntryFinding {
                level: audit::Level::Warning,
                code: "access-entries-unreadable",
                message: format!("the access entries could not be judged: {e}"),
                fix: Some(
                    "see `eks-breakglass policy audit` for the permissions audit needs".into(),
                ),
            }],
            false,
        ),
    }
}

/// Credential failures: a cluster's other checks would fail the same way, so stop there.
fn fatal(e: &AwsError) -> bool {
    matches!(
        e.kind,
        AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
    )
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} clusters ({elapsed})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(120));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
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

/// The accounts to audit: the profiles', the organisation's, or the current one.
async fn targets(
    g: &Globals,
    args: &AuditArgs,
    errors: &mut Vec<AuditError>,
) -> Result<Vec<Target>, AppError> {
    let mut out = Vec::new();
    if args.org_role.is_some() && args.profiles.len() > 1 {
        return Err(AppError::usage(
            "--org-role takes one --profile (the management account's), not several",
            Some("audit several accounts either by profile or through the organisation".into()),
        ));
    }
    if !args.profiles.is_empty() && args.org_role.is_none() {
        // Who each profile is, all at once (in order of the command line for the results).
        let mut who = tokio::task::JoinSet::new();
        for (n, p) in args.profiles.iter().enumerate() {
            let mut opts = base_options(g, args);
            opts.profile = Some(p.clone());
            let p = p.clone();
            who.spawn_local(async move {
                let ctx = AwsContext::load(&opts).await;
                let id = match &ctx {
                    Ok(c) => Some(sts::caller_identity(c).await),
                    Err(_) => None,
                };
                (n, p, ctx, id)
            });
        }
        let mut answers = Vec::new();
        while let Some(done) = who.join_next().await {
            if let Ok(a) = done {
                answers.push(a);
            }
        }
        answers.sort_by_key(|a| a.0);
        for (_, p, ctx, id) in answers {
            let ctx = match ctx {
                Ok(c) => c,
                // An unknown profile is a usage error, as in every command (not an account
                // that "could not be audited").
                Err(e) if e.is_usage() => return Err(e.into()),
                Err(e) => {
                    errors.push(AuditError::new(&format!("profile:{p}"), "-", None, &e));
                    continue;
                }
            };
            match id {
                // Two profiles of one account (an admin and a read-only one) are audited once;
                // without --regions, profiles of one account in different regions are not
                // duplicates (each is audited in its own region).
                Some(Ok(id))
                    if out.iter().any(|t: &Target| {
                        t.account == id.account
                            && (!args.regions.is_empty() || t.ctx.region == ctx.region)
                    }) =>
                {
                    tracing::info!("profile {p} is account {} again: skipped", id.account);
                }
                Some(Ok(id)) => out.push(Target {
                    account: id.account,
                    ctx,
                }),
                Some(Err(e)) => errors.push(AuditError::new(
                    &format!("profile:{p}"),
                    &ctx.region,
                    None,
                    &e,
                )),
                None => {}
            }
        }
        return Ok(out);
    }
    let base = &AwsContext::load(&base_options(g, args)).await?;
    let me = sts::caller_identity(base).await?;
    let Some(role) = &args.org_role else {
        out.push(Target {
            account: me.account,
            ctx: base.clone(),
        });
        return Ok(out);
    };
    let role_path = role.trim_matches('/');
    let accounts = aws::organizations::list_accounts(base).await?;
    let partition = base.partition();
    let session = "eks-breakglass-audit";
    for a in accounts.iter().filter(|a| a.status == "ACTIVE") {
        if a.id == me.account {
            out.push(Target {
                account: a.id.clone(),
                ctx: base.clone(),
            });
            continue;
        }
        let role_arn = format!("arn:{partition}:iam::{}:role/{role_path}", a.id);
        match sts::assume_role(base, &role_arn, session, None, None).await {
            Ok(creds) => out.push(Target {
                account: a.id.clone(),
                ctx: base.with_credentials(creds),
            }),
            Err(e) => errors.push(AuditError::new(&a.id, "-", None, &e)),
        }
    }
    Ok(out)
}

/// The break-glass role's ARN in `account`: a full ARN as given, a name (with path) made into
/// the account's role ARN.
fn breakglass_arn(spec: &str, partition: &str, account: &str) -> String {
    if spec.starts_with("arn:") {
        spec.to_string()
    } else {
        format!(
            "arn:{partition}:iam::{account}:role/{}",
            spec.trim_matches('/')
        )
    }
}

/// Everything about one cluster, as cheaply as the flags allow.
async fn observe(
    shared: &Shared,
    ctx: &AwsContext,
    account: &str,
    name: &str,
) -> Result<Observation, AwsError> {
    let region = ctx.region.clone();
    shared.limits.acquire(account, &region, "eks").await;
    let facts = eks::describe_cluster(ctx, name).await?;
    let mode = facts.effective_auth_mode();

    let creator = match creator::creator_from_tags(&facts.tags) {
        Some(Ok(c)) => check_creator(shared, ctx, account, c).await?,
        Some(Err(why)) if !shared.deep_search => CreatorObservation::BadRecord(why),
        _ if shared.deep_search => deep_search(shared, ctx, account, &facts).await?,
        _ => CreatorObservation::NotRecorded,
    };

    let breakglass = match &shared.breakglass {
        None => BreakglassObservation::NotConfigured,
        Some(spec) => {
            let role_arn = breakglass_arn(spec, ctx.partition(), account);
            if !mode.allows_access_entries() {
                BreakglassObservation::NotApplicable { role_arn }
            } else {
                shared.limits.acquire(account, &region, "eks").await;
                match access::describe_access_entry(ctx, name, &role_arn).await {
                    Ok(None) => BreakglassObservation::Missing { role_arn },
                    Ok(Some(_)) => {
                        shared.limits.acquire(account, &region, "eks").await;
                        match access::associated_policies(ctx, name, &role_arn).await {
                            Ok(policies) => BreakglassObservation::Entry { role_arn, policies },
                            Err(e) if fatal(&e) => return Err(e),
                            Err(e) => BreakglassObservation::Error {
                                role_arn,
                                error: e.to_string(),
                            },
                        }
                    }
                    Err(e) if fatal(&e) => return Err(e),
                    Err(e) => BreakglassObservation::Error {
                        role_arn,
                        error: e.to_string(),
                    },
                }
            }
        }
    };

    let aws_auth = if !shared.aws_auth {
        AwsAuthObservation::NotChecked
    } else if !mode.reads_aws_auth() {
        AwsAuthObservation::NotUsed
    } else {
        read_aws_auth(ctx, &facts).await
    };

    Ok(Observation {
        account: account.to_string(),
        facts,
        creator,
        breakglass,
        aws_auth,
    })
}

/// The creator's state today, from IAM (one GetUser/GetRole per distinct creator and account).
async fn check_creator(
    shared: &Shared,
    ctx: &AwsContext,
    account: &str,
    c: Creator,
) -> Result<CreatorObservation, AwsError> {
    let known = |c: Creator, state, can_add_key, detail| {
        Ok(CreatorObservation::Known {
            creator: Box::new(c),
            state,
            can_add_key,
            detail,
        })
    };
    if c.kind == CreatorKind::Root {
        return known(c, Some(PrincipalState::Root), None, None);
    }
    if let Some(a) = c.account.as_deref()
        && a != account
    {
        let why = format!("the creator belongs to account {a}: audit that account to check it");
        return known(c, None, None, Some(why));
    }
    let Some(name) = c.name.clone() else {
        return known(c, None, None, Some("not an IAM user or role".into()));
    };
    let is_user = matches!(c.kind, CreatorKind::IamUser | CreatorKind::FederatedUser);
    let key = format!("{account}/{}/{name}", if is_user { "user" } else { "role" });
    let cell = match shared.iam.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        Err(_) => Rc::new(OnceCell::new()),
    };
    let answer = cell
        .get_or_init(|| async {
            shared.limits.acquire(account, "global", "iam").await;
            if is_user {
                match iam::get_user(ctx, &name).await {
                    Ok(Some(u)) => {
                        shared.limits.acquire(account, "global", "iam").await;
                        let keys = iam::list_access_keys(ctx, &name)
                            .await
                            .ok()
                            .map(|k| k.len());
                        IamAnswer::User {
                            user: Some(u),
                            keys,
                        }
                    }
                    Ok(None) => IamAnswer::User {
                        user: None,
                        keys: None,
                    },
                    Err(e) => IamAnswer::Failed(e.to_string()),
                }
            } else {
                match iam::get_role(ctx, &name).await {
                    Ok(r) => IamAnswer::Role(r),
                    Err(e) => IamAnswer::Failed(e.to_string()),
                }
            }
        })
        .await
        .clone();
    let expected = c.unique_id.clone();
    match answer {
        IamAnswer::Failed(why) => known(c, None, None, Some(why)),
        IamAnswer::User { user: None, .. } | IamAnswer::Role(None) => {
            known(c, Some(PrincipalState::Deleted), None, None)
        }
        IamAnswer::User {
            user: Some(u),
            keys,
        } => {
            let state = principal::existence(&c.arn, expected.as_deref(), &u.arn, &u.user_id);
            let can_add = keys.map(|k| k < principal::MAX_ACCESS_KEYS);
            known(c, Some(state), can_add, None)
        }
        IamAnswer::Role(Some(r)) => {
            let state = principal::existence(&c.arn, expected.as_deref(), &r.arn, &r.role_id);
            known(c, Some(state), None, None)
        }
    }
}

/// `--deep`: the creator search of `creator`, one cluster at a time per account and region
/// (CloudTrail allows 2 requests/second there), then the IAM check.
async fn deep_search(
    shared: &Shared,
    ctx: &AwsContext,
    account: &str,
    facts: &crate::cluster::ClusterFacts,
) -> Result<CreatorObservation, AwsError> {
    let lock = match shared.deep.lock() {
        Ok(mut m) => m
            .entry(format!("{account}/{}", ctx.region))
            .or_default()
            .clone(),
        Err(_) => Rc::new(tokio::sync::Mutex::new(())),
    };
    let report = {
        let _turn = lock.lock().await;
        shared
            .limits
            .acquire(account, &ctx.region, "cloudtrail")
            .await;
        let opts = FindOptions {
            trail_bucket: None,
            caller: None,
            check_status: false,
            now: chrono::Utc::now(),
        };
        crate::aws::creator_sources::find_creator(ctx, facts, &opts).await?
    };
    match report.creator {
        Some(c) => check_creator(shared, ctx, account, c).await,
        None => Ok(CreatorObservation::NotFound(report.verdict.reason)),
    }
}

/// Reads and lints aws-auth through the API server, with a token made from our credentials.
async fn read_aws_auth(
    ctx: &AwsContext,
    facts: &crate::cluster::ClusterFacts,
) -> AwsAuthObservation {
    let Some(server) = facts.endpoint.clone() else {
        return AwsAuthObservation::Unreadable("no API endpoint".into());
    };
    let creds = match ctx.credentials().await {
        Ok(c) => c,
        Err(e) => return AwsAuthObservation::Unreadable(e.to_string()),
    };
    let tok = match token::make_token(&creds, &facts.region, &facts.name, SystemTime::now()) {
        Ok(t) => t,
        Err(e) => return AwsAuthObservation::Unreadable(e.to_string()),
    };
    let target = ApiTarget {
        server,
        ca_pem: facts.ca_pem.clone(),
        tls_server_name: None,
    };
    let client = match KubeClient::new(&target, &tok.token) {
        Ok(c) => c,
        Err(e) => return AwsAuthObservation::Unreadable(e.to_string()),
    };
    match client.get_configmap("aws-auth").await {
        Ok(None) => AwsAuthObservation::Missing,
        Ok(Some(cm)) => {
            let data = cm.data.unwrap_or_default();
            let doc = crate::awsauth::AwsAuthDocument::from_data(
                &format!("cluster/{}", facts.name),
                data,
            );
            let analysis = crate::awsauth::analyze(&doc, &crate::awsauth::ClusterFacts::default());
            let first_error = analysis
                .findings
                .iter()
                .find(|f| f.severity == crate::awsauth::Severity::Error)
                .map(|f| f.message.clone());
            AwsAuthObservation::Linted {
                errors: analysis.errors(),
                warnings: analysis.warnings(),
                first_error,
            }
        }
        Err(e) => AwsAuthObservation::Unreadable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakglass_names_become_account_arns() {
        assert_eq!(
            breakglass_arn("breakglass/eks-admin", "aws", "111122223333"),
            "arn:aws:iam::111122223333:role/breakglass/eks-admin"
        );
        assert_eq!(
            breakglass_arn("arn:aws:iam::1:role/x", "aws", "2"),
            "arn:aws:iam::1:role/x"
        );
    }
}
