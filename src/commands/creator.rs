//! `creator`: who created the cluster, is it still there, and how to become it.
//!
//! Thin: DescribeCluster, who am I, then [`crate::recovery::creator::find_creator`]; this file
//! only renders the report. The exit code is the verdict's (0 usable, 5 unusable, 6 not found)
//! so that a runbook can branch on it.

use crate::aws::{self, AwsContext, AwsErrorKind};
use crate::error::AppError;
use crate::recovery::creator::{self, AttemptOutcome, CreatorReport, FindOptions, Outcome};
use crate::recovery::principal::PrincipalState;
use crate::recovery::trust::{Caller, TrustCondition, TrustDecision};
use clap::Args;
use std::fmt::Write as _;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass creator --cluster prod --region eu-west-1\n  \
eks-breakglass creator --cluster prod --trail-bucket my-trail-logs/org-prefix\n  \
eks-breakglass creator --cluster prod --output json | jq .creator.arn\n\n\
Sources, in order: CloudTrail event history (90 days), the creator recorded on the cluster's\n\
tags (`eks-breakglass record`), the trail's log files in S3, access entries made at creation.\n\
Exit codes: 0 found and usable, 5 found but not usable as things stand, 6 not found."
)]
pub struct CreatorArgs {
    /// Cluster name
    #[arg(long, visible_alias = "cluster-name", value_name = "NAME")]
    pub cluster: String,
    /// Bucket (and prefix) of the CloudTrail trail's log files, for clusters older than 90 days
    /// (default: the trails found with DescribeTrails)
    #[arg(long, value_name = "BUCKET[/PREFIX]")]
    pub trail_bucket: Option<String>,
}

pub async fn run(g: &crate::cli::Globals, args: &CreatorArgs) -> Result<u8, AppError> {
    if args.cluster.trim().is_empty() {
        return Err(AppError::usage(
            "--cluster must not be empty",
            Some("pass the EKS cluster name".into()),
        ));
    }
    let ctx = AwsContext::load(&g.aws_options()).await?;
    let facts = aws::eks::describe_cluster(&ctx, &args.cluster).await?;
    // issue 17: without a creator admin there is no creator route: said first.
    let route =
        crate::recovery::access_entries::creator_route(&facts.name, facts.bootstrap_creator_admin);
    if !g.json() {
        print!("{}", route.render());
    }
    let caller = match aws::sts::caller_identity(&ctx).await {
        Ok(c) => Some(Caller {
            arn: c.arn,
            account: c.account,
            user_id: c.user_id,
        }),
        Err(e)
            if matches!(
                e.kind,
                AwsErrorKind::NoCredentials | AwsErrorKind::BadCredentials
            ) =>
        {
            return Err(e.into());
        }
        Err(e) => {
            tracing::warn!("cannot tell who you are ({e}); trust policies will not be checked");
            None
        }
    };
    let opts = FindOptions {
        trail_bucket: args.trail_bucket.clone(),
        caller,
        ..FindOptions::default()
    };
    let report = creator::find_creator(&ctx, &facts, &opts).await?;
    if g.json() {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| AppError::failed(format!("cannot render JSON: {e}"), None))?;
        println!("{text}");
    } else {
        print!("{}", render_text(&report));
        // issue 17: no record of the creator on a CONFIG_MAP cluster: the discovery route.
        if let Some(r) = crate::recovery::access_entries::reveal_creator_route(
            &facts.name,
            facts.effective_auth_mode(),
            facts.bootstrap_creator_admin,
            report.creator.is_some(),
        ) {
            println!("\n{r}");
        }
    }
    Ok(report.verdict.exit_code)
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The human report: what was found, what it means, what to run next.
pub fn render_text(r: &CreatorReport) -> String {
    let mut o = String::new();
    let c = &r.cluster;
    let _ = writeln!(
        o,
        "Cluster {} ({}), created {}, authentication mode {}",
        c.name,
        c.region,
        time(c.created_at),
        c.authentication_mode
            .map(|m| m.as_str())
            .unwrap_or("CONFIG_MAP (no access config)")
    );
    if c.bootstrap_cluster_creator_admin_permissions == Some(false) {
        let _ = writeln!(
            o,
            "  bootstrapClusterCreatorAdminPermissions=false: the creator has NO implicit access to this cluster"
        );
    }
    let _ = writeln!(o);
    match &r.creator {
        Some(cr) => {
            let _ = writeln!(o, "Creator: {}", cr.arn);
            let mut kind = cr.kind.describe().to_string();
            if let Some(s) = &cr.session_name {
                let _ = write!(kind, ", session {s}");
            }
            if let Some(ps) = &cr.permission_set {
                let _ = write!(kind, ", permission set {ps}");
            }
            let _ = writeln!(o, "  kind          {kind}");
            if let Some(id) = &cr.unique_id {
                let _ = writeln!(o, "  unique id     {id}");
            }
            if let Some(a) = &cr.aws_auth_arn
                && a != &cr.arn
            {
                let _ = writeln!(
                    o,
                    "  aws-auth ARN  {a}  (aws-auth matches roles without their path)"
                );
            }
            let mut how = Vec::new();
            if cr.tool != crate::recovery::event::Tool::Unknown {
                how.push(cr.tool.describe().to_string());
            }
            if cr.via_cloudformation && cr.tool != crate::recovery::event::Tool::Cloudformation {
                how.push("via CloudFormation".to_string());
            }
            if !how.is_empty() {
                let _ = writeln!(o, "  made with     {}", how.join(", "));
            }
            if cr.event_id.is_some() || cr.event_time.is_some() {
                let _ = writeln!(
                    o,
                    "  event         {} at {}{}",
                    cr.event_id.as_deref().unwrap_or("?"),
                    time(cr.event_time),
                    cr.source_ip
                        .as_deref()
                        .map(|ip| format!(" from {ip}"))
                        .unwrap_or_default()
                );
            }
            if let Some(ua) = &cr.user_agent {
                let _ = writeln!(o, "  user agent    {ua}");
            }
            let _ = writeln!(o, "  found in      {}", cr.source.describe());
        }
        None => {
            let _ = writeln!(o, "Creator: not found");
        }
    }
    if let Some(s) = &r.status {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Status: {} - {}",
            s.state.as_str().replace('_', " "),
            s.summary
        );
        if s.state == PrincipalState::Recreated || s.state == PrincipalState::PathChanged {
            let _ = writeln!(
                o,
                "  unique id     then {}, now {}",
                s.expected_unique_id.as_deref().unwrap_or("?"),
                s.current_unique_id.as_deref().unwrap_or("?")
            );
            if let Some(a) = &s.current_arn {
                let _ = writeln!(o, "  now           {a}");
            }
        }
        if let Some(u) = &s.user {
            let _ = writeln!(
                o,
                "  access keys   {} of 2 ({} active){}",
                u.access_keys,
                u.active_access_keys,
                if u.can_add_access_key {
                    ""
                } else {
                    ": no room for a temporary key"
                }
            );
            let _ = writeln!(o, "  MFA devices   {}", u.mfa_devices.len());
        }
        if let Some(t) = &s.trust {
            let verdict = match t.decision {
                TrustDecision::Allowed => "lets you assume it",
                TrustDecision::AllowedWithConditions => "lets you assume it, with conditions",
                TrustDecision::NotTrusted => "does not name you",
                TrustDecision::Denied => "explicitly denies you",
                TrustDecision::Uncertain => {
                    "may deny you: a Deny with a condition this check cannot evaluate"
                }
                TrustDecision::Unknown => "could not be read",
            };
            let _ = writeln!(
                o,
                "  trust policy  {verdict}{}",
                t.statement
                    .as_deref()
                    .map(|st| format!(" (statement {st})"))
                    .unwrap_or_default()
            );
            for cond in &t.conditions {
                let _ = writeln!(o, "                - {}", cond.describe());
            }
            for n in &t.notes {
                let _ = writeln!(o, "                - {n}");
            }
            if t.conditions
                .iter()
                .any(|c| matches!(c, TrustCondition::Unknown { .. }))
            {
                let _ = writeln!(
                    o,
                    "                (unknown conditions are listed, not evaluated)"
                );
            }
        }
        if s.caller_is_creator {
            let _ = writeln!(o, "  you           are signed in as the creator");
        }
        for d in &s.denied {
            let _ = writeln!(o, "  denied        {} ({})", d.action, d.message);
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Search:");
    for a in &r.attempts {
        let outcome = match a.outcome {
            AttemptOutcome::Answered => "answered",
            AttemptOutcome::NotFound => "not found",
            AttemptOutcome::Skipped => "skipped",
            AttemptOutcome::Denied => "DENIED",
            AttemptOutcome::Failed => "failed",
        };
        let _ = writeln!(
            o,
            "  {:<13} {:<10} {}",
            a.source.as_str(),
            outcome,
            a.detail
        );
    }
    if let Some(ct) = &r.cloudtrail {
        let _ = writeln!(
            o,
            "  (LookupEvents {}: {} call(s), {} throttled, {} ms waiting)",
            ct.lookup_attribute, ct.calls, ct.throttled, ct.waited_ms
        );
    }
    for rej in &r.rejected_events {
        let _ = writeln!(
            o,
            "  not chosen: {} at {}: {}",
            rej.event_id.as_deref().unwrap_or("?"),
            time(rej.event_time),
            rej.reason
        );
    }
    for n in &r.notes {
        let _ = writeln!(o, "  note: {n}");
    }
    let denied = r.denied_actions();
    if !denied.is_empty() {
        let _ = writeln!(
            o,
            "  missing permissions: {} (the report above is partial)",
            denied.join(", ")
        );
    }
    if let Some(m) = &r.manual_next_step {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Manual next step: CloudWatch Logs Insights on log group {}:",
            m.log_group
        );
        for line in m.query.lines() {
            let _ = writeln!(o, "    {line}");
        }
        let _ = writeln!(o, "  {}", m.note);
    }
    let v = &r.verdict;
    let _ = writeln!(o);
    let label = match v.outcome {
        Outcome::Usable => "usable",
        Outcome::Unusable => "NOT usable as things stand",
        Outcome::NotFound => "creator NOT FOUND",
    };
    let _ = writeln!(o, "Verdict: {label} - {}", v.reason);
    for s in &v.next_steps {
        let _ = writeln!(o, "  - {s}");
    }
    if let Some(n) = &v.next_command {
        let _ = writeln!(o, "Next: {n}");
    }
    o
}
