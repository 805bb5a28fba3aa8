//! EKS and IAM reads for judging access entries: every entry with its type, username, groups,
//! creation time and policy associations (with their scopes), the principal behind each entry
//! as IAM shows it now (unique id, CreateDate), the cluster's managed node and Fargate roles,
//! and the access policies EKS offers (ListAccessPolicies — never a list of our own).
//!
//! Decisions are made in `crate::recovery::access_entries`; this file only asks.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::arn::PrincipalArn;
use crate::aws::eks::to_chrono;
use crate::cluster::ClusterFacts;
use crate::recovery::access_entries::{
    self as ae, AccessScope, Association, EntryView, JudgedEntry, PrincipalNow,
};
use aws_sdk_eks::types::AccessScopeType;

/// Every access entry of `cluster`, described, with its policy associations and their scopes.
pub async fn list_entries(ctx: &AwsContext, cluster: &str) -> Result<Vec<EntryView>, AwsError> {
    let eks = ctx.eks();
    let mut arns = Vec::new();
    let mut pages = eks
        .list_access_entries()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListAccessEntries", cluster, e))?;
        arns.extend(page.access_entries().iter().cloned());
    }
    let mut out = Vec::with_capacity(arns.len());
    for arn in arns {
        if let Some(e) = describe_entry(ctx, cluster, &arn).await? {
            out.push(e);
        }
    }
    Ok(out)
}

/// DescribeAccessEntry + ListAssociatedAccessPolicies (scopes kept). `None` when there is no
/// entry for the principal.
pub async fn describe_entry(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<Option<EntryView>, AwsError> {
    let d = match ctx
        .eks()
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .send()
        .await
    {
        Ok(d) => d,
        Err(e) => {
            let err = AwsError::from_sdk("eks:DescribeAccessEntry", principal_arn, e);
            return if err.kind == AwsErrorKind::NotFound {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let Some(e) = d.access_entry() else {
        return Ok(None);
    };
    let entry_type = e.r#type().unwrap_or("STANDARD").to_string();
    // Access policies go with STANDARD (and Auto Mode EC2) entries only; asking for the others
    // is a wasted call.
    let policies = if matches!(entry_type.as_str(), "STANDARD" | "EC2") {
        associations(ctx, cluster, principal_arn).await?
    } else {
        Vec::new()
    };
    Ok(Some(EntryView {
        principal_arn: e.principal_arn().unwrap_or(principal_arn).to_string(),
        entry_type,
        username: e.username().map(str::to_string),
        kubernetes_groups: e.kubernetes_groups().to_vec(),
        created_at: e.created_at().and_then(to_chrono),
        entry_arn: e.access_entry_arn().map(str::to_string),
        policies,
    }))
}

/// ListAssociatedAccessPolicies, with each association's scope.
pub async fn associations(
    ctx: &AwsContext,
    cluster: &str,
    principal_arn: &str,
) -> Result<Vec<Association>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ctx
        .eks()
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            AwsError::from_sdk("eks:ListAssociatedAccessPolicies", principal_arn, e)
        })?;
        for p in page.associated_access_policies() {
            let Some(arn) = p.policy_arn() else { continue };
            let scope = match p.access_scope() {
                Some(s) if s.r#type() == Some(&AccessScopeType::Namespace) => {
                    AccessScope::Namespace {
                        namespaces: s.namespaces().to_vec(),
                    }
                }
                _ => AccessScope::Cluster,
            };
            out.push(Association {
                policy_arn: arn.to_string(),
                scope,
            });
        }
    }
    Ok(out)
}

/// The principal behind an entry ARN, as IAM shows it now (GetUser / GetRole by name).
/// A refusal is an answer (`Unknown`), so that one missing permission does not hide the rest.
pub async fn principal_now(ctx: &AwsContext, arn: &str) -> PrincipalNow {
    let res = match PrincipalArn::parse(arn) {
        Ok(PrincipalArn::User { name, .. }) => super::iam::get_user(ctx, &name)
            .await
            .map(|u| u.map(|u| (u.user_id, u.created, u.arn))),
        Ok(PrincipalArn::Role { name, .. }) => super::iam::get_role(ctx, &name)
            .await
            .map(|r| r.map(|r| (r.role_id, r.created, r.arn))),
        _ => {
            return PrincipalNow::Unknown {
                why: format!("{arn} is not an IAM user or role"),
            };
        }
    };
    match res {
        // Same name under another path is another ARN: the entry's principal is gone.
        Ok(Some((_, _, now))) if !now.eq_ignore_ascii_case(arn) => PrincipalNow::Deleted,
        Ok(Some((id, created, _))) => PrincipalNow::Exists {
            unique_id: Some(id),
            created,
        },
        Ok(None) => PrincipalNow::Deleted,
        Err(e) => PrincipalNow::Unknown { why: e.to_string() },
    }
}

/// Principals of another account cannot be looked up with this account's IAM.
fn same_account(arn: &str, facts: &ClusterFacts) -> bool {
    let cluster_account = facts.arn.split(':').nth(4).unwrap_or_default();
    arn.split(':').nth(4).unwrap_or_default() == cluster_account || cluster_account.is_empty()
}

/// Every entry of the cluster, judged (stale, principal deleted, live) and marked when AWS
/// manages it. `bound` gives, per principal ARN, a unique id known from elsewhere (the
/// creator's CloudTrail record). Empty on CONFIG_MAP clusters (no entries there).
pub async fn judged_entries(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    bound: &[(String, String)],
) -> Result<Vec<JudgedEntry>, AwsError> {
    if !facts.effective_auth_mode().allows_access_entries() {
        return Ok(Vec::new());
    }
    let entries = list_entries(ctx, &facts.name).await?;
    // Managed node group and Fargate roles: their node entries are EKS's own. A refusal only
    // means those entries are not recognised as EKS's.
    let managed: Vec<String> = super::eks_nodes::node_roles(ctx, &facts.name)
        .await
        .map(|r| r.into_iter().map(|f| f.arn).collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let now = if same_account(&e.principal_arn, facts) {
            principal_now(ctx, &e.principal_arn).await
        } else {
            PrincipalNow::Unknown {
                why: "the principal is in another account".into(),
            }
        };
        let id = bound
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(&e.principal_arn))
            .map(|(_, id)| id.as_str());
        let state = ae::judge(&e, &now, id);
        let aws_managed = ae::aws_managed(&e, &managed);
        out.push(JudgedEntry {
            entry: e,
            state,
            aws_managed,
        });
    }
    Ok(out)
}

/// ListAccessPolicies: the access policies EKS offers (name, ARN).
pub async fn access_policies(ctx: &AwsContext) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    let mut pages = ctx.eks().list_access_policies().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("eks:ListAccessPolicies", "", e))?;
        for p in page.access_policies() {
            if let (Some(n), Some(a)) = (p.name(), p.arn()) {
                out.push((n.to_string(), a.to_string()));
            }
        }
    }
    Ok(out)
}

/// aws-auth as EKS would load it, read as the caller (None when the caller cannot read it).
pub async fn live_mapping(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    target: &crate::k8s::ApiTarget,
) -> Option<crate::awsauth::model::EffectiveMapping> {
    let creds = ctx.credentials().await.ok()?;
    let tok = super::token::make_token(
        &creds,
        &facts.region,
        &facts.name,
        std::time::SystemTime::now(),
    )
    .ok()?;
    let client = crate::k8s::KubeClient::new(target, &tok.token).ok()?;
    let cm = tokio::time::timeout(
        std::time::Duration::from_secs(8),
        client.get_configmap("aws-auth"),
    )
    .await
    .ok()?
    .ok()??;
    Some(crate::awsauth::effective_from_data(
        cm.data.unwrap_or_default(),
    ))
}

/// Everything `diagnose` says about access entries: stale ones (with the cause and the fix),
/// aws-auth mappings they shadow, whether the creator route exists, and the "reveal the
/// creator" discovery route. Never fails: what cannot be read is said in `error`.
pub async fn diagnose(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    target: Option<&crate::k8s::ApiTarget>,
    creator_known: bool,
) -> ae::EntriesDiagnosis {
    let mode = facts.effective_auth_mode();
    let (entries, error) = match judged_entries(ctx, facts, &[]).await {
        Ok(e) => (e, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let shadows = match target {
        Some(t) if mode == crate::cluster::AuthMode::ApiAndConfigMap && !entries.is_empty() => {
            match live_mapping(ctx, facts, t).await {
                Some(m) => ae::shadowing(mode, &m, &entries),
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    ae::EntriesDiagnosis {
        entries,
        shadows,
        creator_route: ae::creator_route(&facts.name, facts.bootstrap_creator_admin),
        reveal_creator: ae::reveal_creator_route(
            &facts.name,
            mode,
            facts.bootstrap_creator_admin,
            creator_known,
        ),
        error,
    }
}

/// The aws-auth mappings of `mapping` that an access entry of the cluster shadows, described
/// (which ones: [`ae::shadow_descriptions`]).
pub async fn shadows_for(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    mapping: &crate::awsauth::model::EffectiveMapping,
) -> Vec<String> {
    let mode = facts.effective_auth_mode();
    if !ae::shadows_possible(mode) {
        return Vec::new();
    }
    let entries = judged_entries(ctx, facts, &[])
        .await
        .map_err(|e| e.to_string());
    ae::shadow_descriptions(mode, mapping, entries)
}

/// Every access entry of a cluster, judged, for a live lint (which ones count:
/// [`ae::lintable_stale`]).
pub async fn stale_entries(
    ctx: &AwsContext,
    facts: &ClusterFacts,
) -> Result<Vec<JudgedEntry>, AwsError> {
    Ok(ae::lintable_stale(judged_entries(ctx, facts, &[]).await?))
}

/// `aws-auth lint --cluster`'s stale entries: DescribeCluster, then [`stale_entries`].
pub async fn stale_entries_of(
    opts: &super::context::AwsOptions,
    cluster: &str,
) -> Result<Vec<JudgedEntry>, crate::error::AppError> {
    let ctx = AwsContext::load(opts).await?;
    let facts = super::eks::describe_cluster(&ctx, cluster).await?;
    Ok(stale_entries(&ctx, &facts).await?)
}

/// `aws-auth show --cluster`'s shadowed mappings: DescribeCluster, then [`shadows_for`].
pub async fn shadows_of(
    opts: &super::context::AwsOptions,
    cluster: &str,
    mapping: &crate::awsauth::model::EffectiveMapping,
) -> Result<Vec<String>, crate::error::AppError> {
    let ctx = AwsContext::load(opts).await?;
    let facts = super::eks::describe_cluster(&ctx, cluster).await?;
    Ok(shadows_for(&ctx, &facts, mapping).await)
}

/// The access-entry findings of `audit --entries` for one cluster: CONFIG_MAP, stale entries,
/// deleted principals, the creator as the only admin, policies EKS does not offer; and whether
/// the break-glass role's own entry is stale. CONFIG_MAP costs no call.
pub async fn audit_entries(
    ctx: &AwsContext,
    facts: &ClusterFacts,
    creator_arn: Option<&str>,
    breakglass_arn: Option<&str>,
) -> Result<(Vec<ae::EntryFinding>, bool), AwsError> {
    let mode = facts.effective_auth_mode();
    let rf = if facts.region.is_empty() {
        String::new()
    } else {
        format!(" --region {}", facts.region)
    };
    let entries = judged_entries(ctx, facts, &[]).await?;
    let offered = if mode.allows_access_entries() {
        access_policies(ctx)
            .await
            .ok()
            .map(|v| v.into_iter().map(|(_, arn)| arn).collect::<Vec<_>>())
    } else {
        None
    };
    let found = ae::audit_findings(
        &facts.name,
        &rf,
        mode,
        &entries,
        creator_arn,
        None,
        offered.as_deref(),
    );
    let breakglass_stale = breakglass_arn.is_some_and(|b| {
        entries
            .iter()
            .any(|j| j.is_stale() && j.entry.principal_arn.eq_ignore_ascii_case(b))
    });
    Ok((found, breakglass_stale))
}
