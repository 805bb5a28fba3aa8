//! The SDK adapter behind the [`CreatorSources`] port: CloudTrail (paced), the trail's S3 logs,
//! EKS access entries and IAM reads. No decision here: the search is `recovery::creator`.

use super::AwsContext;
use crate::cluster::ClusterFacts;
use crate::ports::creator_sources::{AccessEntryRecord, CreatorSources, LookupPage, TrailScan};
use crate::ports::error::AwsError;
use crate::recovery::creator::{CreatorReport, FindOptions, Window, find_creator_with};
use crate::recovery::principal::{AccessKeyInfo, IamRoleRecord, IamUserRecord};
use chrono::{DateTime, Utc};

/// Finds the creator with the real AWS adapters. See [`crate::recovery::creator::find_creator_with`].
pub async fn find_creator(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    opts: &FindOptions,
) -> Result<CreatorReport, AwsError> {
    let mut sources = AwsSources::for_caller(ctx, opts.caller.as_ref());
    find_creator_with(&mut sources, facts, opts).await
}

/// The real adapters behind [`CreatorSources`].
pub struct AwsSources<'a> {
    ctx: &'a AwsContext,
    pacer: crate::aws::cloudtrail::Pacer,
    /// LookupEvents answers of earlier runs of the same caller (none: always ask).
    cache: Option<crate::aws::cloudtrail::LookupCache>,
}

impl<'a> AwsSources<'a> {
    /// The adapters, reusing `caller`'s earlier CloudTrail answers when the caller is known.
    pub fn for_caller(
        ctx: &'a AwsContext,
        caller: Option<&crate::recovery::trust::Caller>,
    ) -> Self {
        let mut sources = AwsSources::new(ctx);
        if let Some(c) = caller {
            // A dry run reads earlier answers but keeps none (it changes nothing).
            sources.cache =
                crate::aws::cloudtrail::LookupCache::for_caller(&ctx.region, &c.arn, &c.user_id)
                    .map(|cache| cache.read_only(ctx.dry_run));
        }
        sources
    }

    pub fn new(ctx: &'a AwsContext) -> Self {
        AwsSources {
            ctx,
            pacer: crate::aws::cloudtrail::Pacer::default(),
            cache: None,
        }
    }
}

impl CreatorSources for AwsSources<'_> {
    fn known_caller(&mut self, c: &crate::recovery::trust::Caller) {
        if self.cache.is_none() {
            // A dry run reads earlier answers but keeps none (it changes nothing).
            self.cache = crate::aws::cloudtrail::LookupCache::for_caller(
                &self.ctx.region,
                &c.arn,
                &c.user_id,
            )
            .map(|cache| cache.read_only(self.ctx.dry_run));
        }
    }

    async fn lookup_create_cluster(
        &mut self,
        window: Window,
        next_token: Option<String>,
    ) -> Result<LookupPage, AwsError> {
        crate::aws::cloudtrail::lookup_create_cluster(
            self.ctx,
            &mut self.pacer,
            self.cache.as_ref(),
            window.start,
            window.end,
            next_token,
        )
        .await
    }

    async fn trail_records(
        &mut self,
        bucket: Option<&str>,
        account: &str,
        region: &str,
        cluster: &str,
        created_at: DateTime<Utc>,
    ) -> Result<TrailScan, AwsError> {
        crate::aws::s3trail::create_cluster_records(
            self.ctx, bucket, account, region, cluster, created_at,
        )
        .await
    }

    async fn access_entries(&mut self, cluster: &str) -> Result<Vec<AccessEntryRecord>, AwsError> {
        crate::aws::eks_access::access_entries(self.ctx, cluster).await
    }

    async fn get_user(&mut self, name: &str) -> Result<Option<IamUserRecord>, AwsError> {
        crate::aws::iam::get_user(self.ctx, name).await
    }

    async fn get_role(&mut self, name: &str) -> Result<Option<IamRoleRecord>, AwsError> {
        crate::aws::iam::get_role(self.ctx, name).await
    }

    async fn list_access_keys(&mut self, user: &str) -> Result<Vec<AccessKeyInfo>, AwsError> {
        crate::aws::iam::list_access_keys(self.ctx, user).await
    }

    async fn list_mfa_devices(&mut self, user: &str) -> Result<Vec<String>, AwsError> {
        crate::aws::iam::list_mfa_devices(self.ctx, user).await
    }
}
