//! CloudTrail event history (LookupEvents), paced under its rate limit.
//!
//! LookupEvents allows 2 requests per second per account and Region and answers
//! `ThrottlingException` beyond that. The SDK's standard retry would also retry throttling, on
//! its own schedule and invisibly; stacked under our own retries that could send bursts above
//! the limit. So this client has the SDK's retries switched off and [`Pacer`] owns the rhythm:
//! requests are spaced at least [`MIN_INTERVAL`] apart (under 2/s), and a throttled request is
//! retried after an exponential, jittered wait. Each wait is logged at info level (`-v`) so the
//! operator knows why the tool is quiet.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::ports::creator_sources::LookupPage;
use aws_sdk_cloudtrail::config::retry::RetryConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};
use rand::Rng as _;
use std::time::{Duration, Instant};

/// Spacing between LookupEvents requests: 1.8 requests/second at most, under the 2/s limit.
pub const MIN_INTERVAL: Duration = Duration::from_millis(550);
/// Throttled requests are retried this many times before giving up.
pub const MAX_THROTTLE_RETRIES: u32 = 8;
/// First backoff after a throttle; doubles each time, capped at [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_millis(1000);
pub const MAX_BACKOFF: Duration = Duration::from_secs(16);
/// Events per page (CloudTrail's maximum).
pub const PAGE_SIZE: i32 = 50;

/// Keeps LookupEvents requests of one process under the rate limit.
#[derive(Debug, Clone)]
pub struct Pacer {
    last: Option<Instant>,
    pub min_interval: Duration,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            last: None,
            min_interval: MIN_INTERVAL,
        }
    }
}

impl Pacer {
    /// How long to wait before the next request, at `now`.
    pub fn delay_at(&self, now: Instant) -> Duration {
        match self.last {
            Some(l) => (l + self.min_interval).saturating_duration_since(now),
            None => Duration::ZERO,
        }
    }

    /// Waits for our turn; returns how long it waited.
    pub async fn wait_turn(&mut self) -> Duration {
        let d = self.delay_at(Instant::now());
        if !d.is_zero() {
            tracing::info!(
                "pacing CloudTrail LookupEvents: waiting {} ms to stay under 2 requests/second",
                d.as_millis()
            );
            tokio::time::sleep(d).await;
        }
        self.last = Some(Instant::now());
        d
    }
}

/// The wait before retry `attempt` (1-based) after a throttle: exponential, with jitter between
/// half and all of it, so that several clients do not retry in step.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let exp = BASE_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    exp.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// The context's CloudTrail client (endpoint, credentials, call log — already registered by
/// `ctx.cloudtrail()`) with the SDK's retries off.
fn client(ctx: &AwsContext) -> aws_sdk_cloudtrail::Client {
    let conf = ctx
        .cloudtrail()
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_cloudtrail::Client::from_conf(conf)
}

fn smithy_time(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_millis(t.timestamp_millis())
}

/// One page of `EventName=CreateCluster` events in `[start, end]`, newest first.
pub async fn lookup_create_cluster(
    ctx: &AwsContext,
    pacer: &mut Pacer,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    next_token: Option<String>,
) -> Result<LookupPage, AwsError> {
    const ACTION: &str = "cloudtrail:LookupEvents";
    let attr = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value("CreateCluster")
        .build()
        .map_err(|e| AwsError::new(ACTION, AwsErrorKind::InvalidInput, e.to_string()))?;
    let ct = client(ctx);
    let mut page = LookupPage::default();
    loop {
        page.waited += pacer.wait_turn().await;
        page.requests += 1;
        tracing::debug!(
            "LookupEvents EventName=CreateCluster {start} .. {end}{}",
            if next_token.is_some() {
                " (next page)"
            } else {
                ""
            }
        );
        let res = ct
            .lookup_events()
            .lookup_attributes(attr.clone())
            .start_time(smithy_time(start))
            .end_time(smithy_time(end))
            .max_results(PAGE_SIZE)
            .set_next_token(next_token.clone())
            .send()
            .await;
        match res {
            Ok(out) => {
                for e in out.events() {
                    match e
                        .cloud_trail_event()
                        .map(serde_json::from_str::<serde_json::Value>)
                    {
                        Some(Ok(v)) => page.records.push(v),
                        _ => page.unreadable += 1,
                    }
                }
                page.next_token = out.next_token().map(str::to_string);
                return Ok(page);
            }
            Err(e) => {
                let err = AwsError::from_sdk(ACTION, &ctx.region, e);
                if err.kind != AwsErrorKind::Throttled || page.throttled >= MAX_THROTTLE_RETRIES {
                    return Err(err);
                }
                page.throttled += 1;
                let wait = backoff(page.throttled, rand::rng().random::<f64>());
                tracing::info!(
                    "CloudTrail throttled LookupEvents (its limit is 2 requests/second per \
                     account and region); waiting {:.1} s before retry {} of {}",
                    wait.as_secs_f64(),
                    page.throttled,
                    MAX_THROTTLE_RETRIES
                );
                tokio::time::sleep(wait).await;
                page.waited += wait;
            }
        }
    }
}

/// A trail that delivers log files to S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailInfo {
    pub name: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub multi_region: bool,
    pub home_region: Option<String>,
    pub organization: bool,
}

/// DescribeTrails: the trails that deliver to S3 and cover `region`.
pub async fn trails_for_region(ctx: &AwsContext, region: &str) -> Result<Vec<TrailInfo>, AwsError> {
    let out = ctx
        .cloudtrail()
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail:DescribeTrails", region, e))?;
    let mut trails: Vec<TrailInfo> = out
        .trail_list()
        .iter()
        .filter_map(|t| {
            Some(TrailInfo {
                name: t.name().unwrap_or_default().to_string(),
                bucket: t.s3_bucket_name().filter(|b| !b.is_empty())?.to_string(),
                prefix: t
                    .s3_key_prefix()
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
                multi_region: t.is_multi_region_trail().unwrap_or(false),
                home_region: t.home_region().map(str::to_string),
                organization: t.is_organization_trail().unwrap_or(false),
            })
        })
        .filter(|t| t.multi_region || t.home_region.as_deref().is_none_or(|h| h == region))
        .collect();
    trails.dedup_by(|a, b| a.bucket == b.bucket && a.prefix == b.prefix);
    Ok(trails)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_stays_under_two_per_second() {
        let mut p = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(p.delay_at(t0), Duration::ZERO);
        p.last = Some(t0);
        let d = p.delay_at(t0 + Duration::from_millis(100));
        assert_eq!(d, Duration::from_millis(450));
        assert_eq!(p.delay_at(t0 + Duration::from_secs(1)), Duration::ZERO);
        // Any two consecutive requests are at least 550 ms apart: < 2 per second.
        assert!(MIN_INTERVAL > Duration::from_millis(500));
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        assert_eq!(backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(10, 1.0), MAX_BACKOFF);
        let b = backoff(2, 0.5);
        assert!(
            b > Duration::from_secs(1) && b < Duration::from_secs(2),
            "{b:?}"
        );
    }

    #[tokio::test]
    async fn the_pacer_really_waits() {
        let mut p = Pacer {
            last: None,
            min_interval: Duration::from_millis(60),
        };
        let t0 = Instant::now();
        assert_eq!(p.wait_turn().await, Duration::ZERO);
        p.wait_turn().await;
        p.wait_turn().await;
        assert!(t0.elapsed() >= Duration::from_millis(120));
    }
}
