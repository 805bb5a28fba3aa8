//! EKS: cluster facts, and the list of clusters when a name is wrong.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::cluster::{AuthMode, ClusterFacts};
use base64::Engine as _;
use chrono::{DateTime, Utc};

/// DescribeCluster, turned into [`ClusterFacts`]. An unknown name lists the clusters that do
/// exist in the region, in the hint.
pub async fn describe_cluster(ctx: &AwsContext, name: &str) -> Result<ClusterFacts, AwsError> {
    let out = ctx.eks().describe_cluster().name(name).send().await;
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            let err = AwsError::from_sdk("eks:DescribeCluster", name, e);
            if err.kind == AwsErrorKind::NotFound {
                return Err(unknown_cluster(ctx, name).await);
            }
            return Err(err);
        }
    };
    let c = out.cluster().ok_or_else(|| {
        AwsError::new(
            "eks:DescribeCluster",
            AwsErrorKind::Service,
            format!("no cluster in the answer for {name}"),
        )
    })?;
    let ca_pem = c
        .certificate_authority()
        .and_then(|ca| ca.data())
        .map(|d| {
            base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .map_err(|e| {
                    AwsError::new(
                        "eks:DescribeCluster",
                        AwsErrorKind::Service,
                        format!("the cluster CA in DescribeCluster is not base64: {e}"),
                    )
                })
        })
        .transpose()?;
    let vpc = c.resources_vpc_config();
    let access = c.access_config();
    Ok(ClusterFacts {
        name: c.name().unwrap_or(name).to_string(),
        arn: c.arn().unwrap_or_default().to_string(),
        region: ctx.region.clone(),
        status: c.status().map(|s| s.as_str().to_string()),
        version: c.version().map(str::to_string),
        platform_version: c.platform_version().map(str::to_string),
        created_at: c.created_at().and_then(to_chrono),
        endpoint: c.endpoint().map(str::to_string),
        ca_pem,
        endpoint_public_access: vpc.map(|v| v.endpoint_public_access()),
        endpoint_private_access: vpc.map(|v| v.endpoint_private_access()),
        auth_mode: access
            .and_then(|a| a.authentication_mode())
            .and_then(|m| AuthMode::parse(m.as_str())),
        bootstrap_creator_admin: access
            .and_then(|a| a.bootstrap_cluster_creator_admin_permissions()),
        tags: c
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

pub(crate) fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())
}

/// All cluster names in the context's region.
pub async fn list_clusters(ctx: &AwsContext) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = ctx.eks().list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListClusters", "*", e))?;
        names.extend(page.clusters().iter().cloned());
    }
    Ok(names)
}

async fn unknown_cluster(ctx: &AwsContext, name: &str) -> AwsError {
    let region = &ctx.region;
    let base = AwsError::new(
        "eks:DescribeCluster",
        AwsErrorKind::NotFound,
        format!("no cluster named '{name}' in region {region}"),
    );
    match list_clusters(ctx).await {
        Ok(names) if names.is_empty() => base.with_hint(format!(
            "there are no EKS clusters in {region} for this account; check --region and the account (--profile)"
        )),
        Ok(names) => base.with_hint(format!("clusters in {region}: {}", names.join(", "))),
        Err(e) => base.with_hint(format!(
            "check --cluster and --region (listing the clusters also failed: {e})"
        )),
    }
}
