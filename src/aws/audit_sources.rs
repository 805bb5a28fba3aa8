//! The fleet audit's adapter: which accounts (profiles, the organisation, or the current one),
//! their clusters per region, and per cluster the [`AuditSources`] port over the SDK — every
//! call waits for a token of its account/region/service bucket ([`super::ratelimit`]) and IAM
//! answers are shared by the clusters of an account. Work runs with bounded concurrency on one
//! thread. What each cluster's answers mean is `workflow::audit`.

use super::context::AwsOptions;
use super::ratelimit::Limits;
use super::{AwsContext, AwsError, access, eks, iam, sts, token};
use crate::awsauth::AwsAuthDocument;
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::k8s::{ApiTarget, KubeClient};
use crate::ports::audit::{AuditSources, IamAnswer};
use crate::recovery::access_entries::JudgedEntry;
use crate::recovery::audit::{Assessment, AuditError};
use crate::recovery::creator::{CreatorReport, FindOptions};
use crate::workflow::{self, audit::AuditOptions};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::SystemTime;
use tokio::sync::{OnceCell, Semaphore};

/// The fleet to audit and how fast.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// The current (or management) account's options.
    pub base: AwsOptions,
    /// Regions (empty: each account's current region).
    pub regions: Vec<String>,
    pub profiles: Vec<String>,
    pub org_role: Option<String>,
    /// EKS requests per second per account and region.
    pub rate: f64,
    pub concurrency: u16,
    pub audit: AuditOptions,
}

/// One account to audit, with credentials for it.
struct Target {
    account: String,
    ctx: AwsContext,
}

/// What the clusters of the whole fleet share: the rate limits, IAM answers per account, and
/// one CloudTrail search at a time per account and region.
struct Shared {
    limits: Limits,
    iam: Mutex<HashMap<String, Rc<OnceCell<IamAnswer>>>>,
    deep: Mutex<HashMap<String, Rc<tokio::sync::Mutex<()>>>>,
}

/// Accounts, then regions' cluster lists, then every cluster, each step bounded.
///
/// Runs on a `LocalSet` (tasks are spawned local: one thread, bounded concurrency).
pub async fn gather(
    args: &FleetOptions,
    bar: &indicatif::ProgressBar,
) -> Result<(Vec<Assessment>, Vec<AuditError>), AppError> {
    let mut errors = Vec::new();
    let targets = targets(args, &mut errors).await?;
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
    });
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
        let audit = args.audit.clone();
        tasks.spawn_local(async move {
            let _permit = sem.acquire().await;
            let src = AwsAudit {
                shared: &shared,
                ctx: &ctx,
                account: &account,
            };
            let r = workflow::audit::assess_cluster(&src, &name, &audit).await;
            (account, ctx.region.clone(), name, r)
        });
    }
    let mut items = Vec::new();
    while let Some(done) = tasks.join_next().await {
        bar.inc(1);
        let Ok((account, region, name, r)) = done else {
            continue;
        };
        match r {
            Ok(a) => items.push(a),
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

/// The accounts to audit: the profiles', the organisation's, or the current one.
async fn targets(
    opts: &FleetOptions,
    errors: &mut Vec<AuditError>,
) -> Result<Vec<Target>, AppError> {
    let args = opts;
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
            let mut opts = args.base.clone();
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
    let base = &AwsContext::load(&args.base).await?;
    let me = sts::caller_identity(base).await?;
    let Some(role) = &args.org_role else {
        out.push(Target {
            account: me.account,
            ctx: base.clone(),
        });
        return Ok(out);
    };
    let role_path = role.trim_matches('/');
    let accounts = super::organizations::list_accounts(base).await?;
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

/// The [`AuditSources`] of one cluster's account and region.
struct AwsAudit<'a> {
    shared: &'a Shared,
    ctx: &'a AwsContext,
    account: &'a str,
}

impl AwsAudit<'_> {
    async fn eks(&self) {
        self.shared
            .limits
            .acquire(self.account, &self.ctx.region, "eks")
            .await;
    }
}

impl AuditSources for AwsAudit<'_> {
    fn account(&self) -> &str {
        self.account
    }

    fn partition(&self) -> &str {
        self.ctx.partition()
    }

    async fn describe_cluster(&self, name: &str) -> Result<ClusterFacts, AwsError> {
        self.eks().await;
        eks::describe_cluster(self.ctx, name).await
    }

    /// One GetUser/GetRole per distinct creator and account, shared by its clusters.
    async fn iam_principal(&self, is_user: bool, name: &str) -> IamAnswer {
        let (shared, ctx, account) = (self.shared, self.ctx, self.account);
        let key = format!("{account}/{}/{name}", if is_user { "user" } else { "role" });
        let cell = match shared.iam.lock() {
            Ok(mut m) => m.entry(key).or_default().clone(),
            Err(_) => Rc::new(OnceCell::new()),
        };
        cell.get_or_init(|| async {
            shared.limits.acquire(account, "global", "iam").await;
            if is_user {
                match iam::get_user(ctx, name).await {
                    Ok(Some(u)) => {
                        shared.limits.acquire(account, "global", "iam").await;
                        let keys = iam::list_access_keys(ctx, name).await.ok().map(|k| k.len());
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
                match iam::get_role(ctx, name).await {
                    Ok(r) => IamAnswer::Role(r),
                    Err(e) => IamAnswer::Failed(e.to_string()),
                }
            }
        })
        .await
        .clone()
    }

    /// One search at a time per account and region (CloudTrail allows 2 requests/second).
    async fn find_creator(&self, facts: &ClusterFacts) -> Result<CreatorReport, AwsError> {
        let (shared, ctx, account) = (self.shared, self.ctx, self.account);
        let lock = match shared.deep.lock() {
            Ok(mut m) => m
                .entry(format!("{account}/{}", ctx.region))
                .or_default()
                .clone(),
            Err(_) => Rc::new(tokio::sync::Mutex::new(())),
        };
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
        super::creator_sources::find_creator(ctx, facts, &opts).await
    }

    async fn has_access_entry(&self, cluster: &str, principal_arn: &str) -> Result<bool, AwsError> {
        self.eks().await;
        Ok(
            access::describe_access_entry(self.ctx, cluster, principal_arn)
                .await?
                .is_some(),
        )
    }

    async fn associated_policies(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> Result<Vec<String>, AwsError> {
        self.eks().await;
        access::associated_policies(self.ctx, cluster, principal_arn).await
    }

    async fn aws_auth(&self, facts: &ClusterFacts) -> Result<Option<AwsAuthDocument>, String> {
        read_aws_auth(self.ctx, facts).await
    }

    async fn judged_entries(&self, facts: &ClusterFacts) -> Result<Vec<JudgedEntry>, AwsError> {
        self.eks().await;
        super::entries_read::judged_entries(self.ctx, facts, &[]).await
    }

    async fn offered_policies(&self) -> Option<Vec<String>> {
        super::entries_read::access_policies(self.ctx)
            .await
            .ok()
            .map(|v| v.into_iter().map(|(_, arn)| arn).collect())
    }
}

/// Reads aws-auth through the API server, with a token made from our credentials.
async fn read_aws_auth(
    ctx: &AwsContext,
    facts: &ClusterFacts,
) -> Result<Option<AwsAuthDocument>, String> {
    let Some(server) = facts.endpoint.clone() else {
        return Err("no API endpoint".into());
    };
    let creds = match ctx.credentials().await {
        Ok(c) => c,
        Err(e) => return Err(e.to_string()),
    };
    let tok = match token::make_token(&creds, &facts.region, &facts.name, SystemTime::now()) {
        Ok(t) => t,
        Err(e) => return Err(e.to_string()),
    };
    let target = ApiTarget {
        server,
        ca_pem: facts.ca_pem.clone(),
        tls_server_name: None,
    };
    let client = match KubeClient::new(&target, &tok.token) {
        Ok(c) => c,
        Err(e) => return Err(e.to_string()),
    };
    match client.get_configmap("aws-auth").await {
        Ok(None) => Ok(None),
        Ok(Some(cm)) => Ok(Some(AwsAuthDocument::from_data(
            &format!("cluster/{}", facts.name),
            cm.data.unwrap_or_default(),
        ))),
        Err(e) => Err(e.to_string()),
    }
}
