//! CloudTrail event history (LookupEvents), paced under its rate limit.
//!
//! LookupEvents allows 2 requests per second per account and Region and answers
//! `ThrottlingException` beyond that. The SDK's standard retry would also retry throttling, on
//! its own schedule and invisibly; stacked under our own retries that could send bursts above
//! the limit. So this client has the SDK's retries switched off and [`Pacer`] owns the rhythm:
//! requests are spaced at least [`MIN_INTERVAL`] apart (under 2/s), and a throttled request is
//! retried after an exponential, jittered wait. Each wait is logged at info level (`-v`) so the
//! operator knows why the tool is quiet.
//!
//! The limit is per account and Region, not per process: the on-call engineer runs `diagnose`
//! and then `recover` within seconds, and both ask for the same `CreateCluster` window. An
//! answer for a window that is closed and older than CloudTrail's delivery delay cannot change
//! any more (event history is append-only), so [`LookupCache`] keeps such answers for
//! [`REUSE_TTL`] in the user's state directory and the next run reuses them instead of
//! spending the account's 2 requests/second again (and, on AWS, a LookupEvents round trip of
//! a second or more). Only CloudTrail's historical answer is reused: who the creator is *now*
//! (GetUser/GetRole, its unique id, its access entry) is always asked again.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::ports::creator_sources::LookupPage;
use aws_sdk_cloudtrail::config::retry::RetryConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};
use rand::Rng as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Spacing between LookupEvents requests: 1.8 requests/second at most, under the 2/s limit.
pub const MIN_INTERVAL: Duration = Duration::from_millis(550);
/// Throttled requests are retried this many times before giving up.
pub const MAX_THROTTLE_RETRIES: u32 = 8;
/// First backoff after a throttle: one refill of the 2/s token bucket (500 ms) and a margin;
/// doubles each time, capped at [`MAX_BACKOFF`]. Jitter only lengthens it (see [`backoff`]).
pub const BASE_BACKOFF: Duration = MIN_INTERVAL;
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

/// The wait before retry `attempt` (1-based) after a throttle: exponential from one bucket
/// refill ([`BASE_BACKOFF`]), plus jitter of up to half of it so that several clients do not
/// retry in step. Never shorter than a refill: retrying sooner would only be throttled again.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let exp = BASE_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    exp.mul_f64(1.0 + 0.5 * jitter.clamp(0.0, 1.0))
        .min(MAX_BACKOFF)
}

/// How long a LookupEvents answer is reused: the minutes between `diagnose` and `recover` in
/// one incident. The answers cannot change (see the module docs); the bound keeps the
/// directory small and a run from reusing another incident's lookups.
pub const REUSE_TTL: Duration = Duration::from_secs(15 * 60);

/// LookupEvents answers of closed windows, reused across runs of one caller (see the module
/// docs). Files live in `$XDG_STATE_HOME/eks-breakglass/cloudtrail-lookups/` (0700 directory,
/// 0600 files), one per request, named by the SHA-256 of who asked (caller ARN and unique id,
/// Region) and what (window, page token). Any problem reading or writing it only means the
/// request goes to CloudTrail.
#[derive(Debug, Clone)]
pub struct LookupCache {
    dir: PathBuf,
    /// The topmost directory this tool creates for the cache (`…/eks-breakglass`): it and every
    /// directory below it down to `dir` must be ours (see [`LookupCache::check_dirs`]).
    root: PathBuf,
    scope: String,
    ttl: Duration,
    /// `--dry-run`: stored answers may be read, nothing is written (no directory, no file, no
    /// pruning) — a dry run changes nothing, and what it left would change the next real run.
    read_only: bool,
    /// Whether the operator was already told (once per run) that the directory is not used.
    told: Arc<AtomicBool>,
}

/// A killed writer's temporary file (`.tmpXXXXXX`, never renamed into place) older than this is
/// removed by the next pruning. A live writer holds its file for milliseconds.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredPage {
    scope: String,
    start_ms: i64,
    end_ms: i64,
    token: Option<String>,
    stored_at_ms: i64,
    records: Vec<serde_json::Value>,
    unreadable: usize,
    next_token: Option<String>,
}

impl LookupCache {
    /// The cache of `caller` (ARN and unique id: a recreated principal or another session is
    /// another caller) in `region`, under the user's state directory; `None` without one.
    pub fn for_caller(region: &str, caller_arn: &str, caller_id: &str) -> Option<LookupCache> {
        let root = dirs::state_dir()
            .or_else(dirs::data_local_dir)?
            .join("eks-breakglass");
        let mut c = LookupCache::at(
            &root.join("cloudtrail-lookups"),
            region,
            caller_arn,
            caller_id,
        );
        c.root = root;
        Some(c)
    }

    /// The same, in `dir` (which this tool creates, and nothing above it).
    pub fn at(dir: &Path, region: &str, caller_arn: &str, caller_id: &str) -> LookupCache {
        LookupCache {
            dir: dir.to_path_buf(),
            root: dir.to_path_buf(),
            scope: format!("{region}\n{caller_arn}\n{caller_id}"),
            ttl: REUSE_TTL,
            read_only: false,
            told: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same cache, read but never written when `read_only` (`--dry-run`).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> LookupCache {
        self.read_only = read_only;
        self
    }

    /// Whether the answer for `[start, end]` is final at `now`: the window has closed and
    /// CloudTrail's delivery delay has passed since, so no event can still appear in it.
    pub fn is_final(end: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        end + crate::recovery::creator::CLOUDTRAIL_DELIVERY_DELAY <= now
    }

    fn file(&self, start: DateTime<Utc>, end: DateTime<Utc>, token: Option<&str>) -> PathBuf {
        let key = format!(
            "{}\n{}\n{}\n{}",
            self.scope,
            start.timestamp_millis(),
            end.timestamp_millis(),
            token.unwrap_or("")
        );
        self.dir.join(format!(
            "{}.json",
            crate::recovery::journal::sha256_hex(key.as_bytes())
        ))
    }

    /// The directories from [`LookupCache::root`] down to the cache directory.
    fn chain(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .dir
            .ancestors()
            .take_while(|a| a.starts_with(&self.root))
            .map(Path::to_path_buf)
            .collect();
        v.reverse();
        v
    }

    /// Why the directories (those that exist) are not ours to use, if they are not: each must
    /// be a real directory (not a symlink), owned by the user running the tool and not writable
    /// by group or others — as ssh requires of ~/.ssh. Another local user's directory could
    /// hold a planted `CreateCluster` answer naming their principal as the creator.
    fn check_dirs(&self) -> Result<(), String> {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let uid = crate::recovery::journal::own_uid()
            .map_err(|e| format!("cannot tell which user this process runs as: {e}"))?;
        for d in self.chain() {
            let m = match std::fs::symlink_metadata(&d) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("{}: {e}", d.display())),
            };
            if !m.is_dir() {
                return Err(format!(
                    "{} is not a directory (or is a symlink)",
                    d.display()
                ));
            }
            if m.uid() != uid {
                return Err(format!(
                    "{} is owned by uid {}, not by this user (uid {uid})",
                    d.display(),
                    m.uid()
                ));
            }
            if m.permissions().mode() & 0o022 != 0 {
                return Err(format!("{} is writable by group or others", d.display()));
            }
        }
        Ok(())
    }

    /// Whether the directory is ours to use (see [`LookupCache::check_dirs`]); if not, says so
    /// once (`-v`) and the request goes to CloudTrail.
    fn usable_dir(&self) -> bool {
        match self.check_dirs() {
            Ok(()) => true,
            Err(why) => {
                if !self.told.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        "not reusing or keeping CloudTrail LookupEvents answers: {why} \
                         (remove or fix the directory to use it again)"
                    );
                }
                false
            }
        }
    }

    /// A stored answer for this request, younger than the TTL at `now`, with its age.
    pub fn get(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<(LookupPage, Duration)> {
        if !self.usable_dir() {
            return None;
        }
        let path = self.file(start, end, token);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        {
            use std::os::unix::fs::MetadataExt as _;
            let uid = crate::recovery::journal::own_uid().ok()?;
            if !meta.is_file() || meta.uid() != uid {
                return None;
            }
        }
        let doc: StoredPage = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        if doc.scope != self.scope
            || doc.start_ms != start.timestamp_millis()
            || doc.end_ms != end.timestamp_millis()
            || doc.token.as_deref() != token
        {
            return None;
        }
        let age =
            Duration::from_millis(u64::try_from(now.timestamp_millis() - doc.stored_at_ms).ok()?);
        if age > self.ttl {
            return None;
        }
        Some((
            LookupPage {
                records: doc.records,
                unreadable: doc.unreadable,
                next_token: doc.next_token,
                reused: Some(age),
                ..LookupPage::default()
            },
            age,
        ))
    }

    /// Stores `page` (the answer for this request) if it is final; prunes expired answers.
    pub fn put(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        token: Option<&str>,
        page: &LookupPage,
        now: DateTime<Utc>,
    ) {
        if self.read_only || !Self::is_final(end, now) {
            return;
        }
        if let Err(e) = self.write(start, end, token, page, now) {
            tracing::debug!(
                "not keeping the LookupEvents answer in {}: {e}",
                self.dir.display()
            );
        }
    }

    fn write(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        token: Option<&str>,
        page: &LookupPage,
        now: DateTime<Utc>,
    ) -> std::io::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::DirBuilderExt as _;
        // Checked before creating anything too: a directory of another user above ours is not
        // written into.
        if !self.usable_dir() {
            return Err(std::io::Error::other("not a directory of ours"));
        }
        if std::fs::symlink_metadata(&self.dir).is_err() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)?;
        }
        if !self.usable_dir() {
            return Err(std::io::Error::other("not a directory of ours"));
        }
        self.prune(now);
        let doc = StoredPage {
            scope: self.scope.clone(),
            start_ms: start.timestamp_millis(),
            end_ms: end.timestamp_millis(),
            token: token.map(str::to_string),
            stored_at_ms: now.timestamp_millis(),
            records: page.records.clone(),
            unreadable: page.unreadable,
            next_token: page.next_token.clone(),
        };
        // A temporary file (0600) renamed into place: a reader sees a whole answer or none.
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(&serde_json::to_vec(&doc).map_err(std::io::Error::other)?)?;
        tmp.persist(self.file(start, end, token))
            .map_err(|e| e.error)?;
        Ok(())
    }

    /// Removes answers older than the TTL, and temporary files that a killed writer left
    /// (never renamed into place) older than [`STALE_TEMP_AGE`].
    fn prune(&self, now: DateTime<Utc>) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let before = |age: Duration| {
            std::time::SystemTime::from(now)
                .checked_sub(age)
                .unwrap_or(std::time::UNIX_EPOCH)
        };
        let (answers, temps) = (before(self.ttl), before(STALE_TEMP_AGE));
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            let cutoff = if p.extension().is_some_and(|x| x == "json") {
                answers
            } else if e.file_name().to_string_lossy().starts_with(".tmp") {
                temps
            } else {
                continue;
            };
            if e.metadata()
                .is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|t| t < cutoff))
            {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
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

/// One page of `EventName=CreateCluster` events in `[start, end]`, newest first: from `cache`
/// when it holds this answer, else from CloudTrail (and then kept in `cache` if final).
pub async fn lookup_create_cluster(
    ctx: &AwsContext,
    pacer: &mut Pacer,
    cache: Option<&LookupCache>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    next_token: Option<String>,
) -> Result<LookupPage, AwsError> {
    if let Some((page, age)) =
        cache.and_then(|c| c.get(start, end, next_token.as_deref(), Utc::now()))
    {
        tracing::info!(
            "LookupEvents EventName=CreateCluster {start} .. {end}: reusing the answer CloudTrail \
             gave {:.0} s ago (the window is closed; its events cannot change)",
            age.as_secs_f64()
        );
        return Ok(page);
    }
    let page = lookup_create_cluster_live(ctx, pacer, start, end, next_token.clone()).await?;
    if let Some(c) = cache {
        c.put(start, end, next_token.as_deref(), &page, Utc::now());
    }
    Ok(page)
}

async fn lookup_create_cluster_live(
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
        // The first retry waits one refill of the 2/s bucket (and at most half as long again):
        // never sooner, which would be throttled again, and not a second blindly.
        assert_eq!(backoff(1, 0.0), Duration::from_millis(550));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(825));
        assert!(backoff(1, 0.0) > Duration::from_millis(500));
        assert_eq!(backoff(3, 0.0), Duration::from_millis(2200));
        assert_eq!(backoff(10, 1.0), MAX_BACKOFF);
        let b = backoff(2, 0.5);
        assert!(
            b > Duration::from_millis(1100) && b < Duration::from_millis(1650),
            "{b:?}"
        );
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn page(arn: &str) -> LookupPage {
        LookupPage {
            records: vec![serde_json::json!({"userIdentity": {"arn": arn}})],
            next_token: Some("tok-2".into()),
            requests: 1,
            ..LookupPage::default()
        }
    }

    #[test]
    fn a_closed_windows_answer_is_reused_by_the_same_caller_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("lookups");
        let c = LookupCache::at(&base, "us-east-1", "arn:aws:iam::1:user/oncall", "AIDA1");
        let (start, end) = (t("2026-01-01T10:00:00Z"), t("2026-01-01T10:30:00Z"));
        let now = t("2026-01-05T00:00:00Z");
        assert!(c.get(start, end, None, now).is_none());
        c.put(start, end, None, &page("arn:aws:iam::1:user/creator"), now);
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&base).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let f = std::fs::read_dir(&base).unwrap().next().unwrap().unwrap();
        assert_eq!(f.metadata().unwrap().permissions().mode() & 0o777, 0o600);

        let later = now + chrono::TimeDelta::seconds(40);
        let (p, age) = c.get(start, end, None, later).expect("reused");
        assert_eq!(age, Duration::from_secs(40));
        assert_eq!(p.reused, Some(age));
        assert_eq!(p.requests, 0, "no request was sent for it");
        assert_eq!(p.records, page("arn:aws:iam::1:user/creator").records);
        assert_eq!(p.next_token.as_deref(), Some("tok-2"));
        // Another page, window, Region or caller (a recreated user has a new unique id) asks.
        assert!(c.get(start, end, Some("tok-2"), later).is_none());
        assert!(
            c.get(start, t("2026-01-01T10:31:00Z"), None, later)
                .is_none()
        );
        for other in [
            LookupCache::at(&base, "eu-west-1", "arn:aws:iam::1:user/oncall", "AIDA1"),
            LookupCache::at(&base, "us-east-1", "arn:aws:iam::1:user/oncall", "AIDA2"),
            LookupCache::at(&base, "us-east-1", "arn:aws:iam::2:user/oncall", "AIDA1"),
        ] {
            assert!(other.get(start, end, None, later).is_none());
        }
        // Past the TTL it is asked again.
        let expired =
            now + chrono::TimeDelta::from_std(REUSE_TTL).unwrap() + chrono::TimeDelta::seconds(1);
        assert!(c.get(start, end, None, expired).is_none());
    }

    #[test]
    fn a_window_that_may_still_receive_events_is_never_kept() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("lookups");
        let c = LookupCache::at(&base, "us-east-1", "arn:aws:iam::1:user/oncall", "AIDA1");
        let (start, end) = (t("2026-01-01T10:00:00Z"), t("2026-01-01T10:30:00Z"));
        // Ten minutes after the window closed CloudTrail may still deliver events into it (an
        // empty answer now is not the final answer).
        let soon = end + chrono::TimeDelta::minutes(10);
        assert!(!LookupCache::is_final(end, soon));
        c.put(start, end, None, &LookupPage::default(), soon);
        assert!(c.get(start, end, None, soon).is_none());
        let late = end + crate::recovery::creator::CLOUDTRAIL_DELIVERY_DELAY;
        assert!(LookupCache::is_final(end, late));
    }

    #[test]
    fn a_directory_writable_by_others_is_not_used() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("lookups");
        std::fs::create_dir(&base).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o777)).unwrap();
        let c = LookupCache::at(&base, "us-east-1", "arn:aws:iam::1:user/oncall", "AIDA1");
        let (start, end) = (t("2026-01-01T10:00:00Z"), t("2026-01-01T10:30:00Z"));
        let now = t("2026-01-05T00:00:00Z");
        c.put(start, end, None, &page("arn:aws:iam::1:user/creator"), now);
        assert_eq!(std::fs::read_dir(&base).unwrap().count(), 0);
        // An answer planted there by someone else is not read either.
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
        c.put(start, end, None, &page("arn:aws:iam::1:user/creator"), now);
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(c.get(start, end, None, now).is_none());
    }

    /// Review (session 3): a lookup directory that another local user owns (mode 0755: not
    /// writable by "others", so the mode check passes) holds answers that user wrote: a planted
    /// `CreateCluster` record naming their principal as the creator would be read as history.
    /// Only a directory (and files) owned by the user running the tool may be trusted, as ssh
    /// does for ~/.ssh. Needs root to give the directory away; otherwise it cannot be set up.
    #[test]
    fn review_a_directory_owned_by_another_user_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("lookups");
        let c = LookupCache::at(&base, "us-east-1", "arn:aws:iam::1:user/oncall", "AIDA1");
        let (start, end) = (t("2026-01-01T10:00:00Z"), t("2026-01-01T10:30:00Z"));
        let now = t("2026-01-05T00:00:00Z");
        // The other user's answer, in the file the victim's run will look for.
        c.put(start, end, None, &page("arn:aws:iam::1:user/mallory"), now);
        let nobody = 65534;
        if std::os::unix::fs::chown(&base, Some(nobody), Some(nobody)).is_err() {
            eprintln!("not root: cannot give the directory to another user; nothing to check");
            return;
        }
        for f in std::fs::read_dir(&base).unwrap() {
            std::os::unix::fs::chown(f.unwrap().path(), Some(nobody), Some(nobody)).unwrap();
        }
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        let got = c.get(start, end, None, now + chrono::TimeDelta::seconds(30));
        assert!(
            got.is_none(),
            "an answer in a directory owned by uid {nobody} was reused: {:?}",
            got.map(|(p, _)| p.records)
        );
    }

    /// Review (session 3): a run killed (kill -9, power loss) between creating its temporary
    /// file and renaming it into place leaves `.tmpXXXXXX` behind, with a copy of the
    /// CreateCluster records in it. The pruning only looks at `*.json`, so such leftovers stay
    /// forever, whatever their age; "Delete the directory to forget it" is the only way out.
    #[test]
    fn review_a_killed_writers_temporary_file_is_pruned_when_old() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("lookups");
        let c = LookupCache::at(&base, "us-east-1", "arn:aws:iam::1:user/oncall", "AIDA1");
        let (start, end) = (t("2026-01-01T10:00:00Z"), t("2026-01-01T10:30:00Z"));
        let now = Utc::now();
        c.put(start, end, None, &page("arn:aws:iam::1:user/creator"), now);
        // What a killed writer leaves: tempfile's name in the same directory, a day old.
        let left = base.join(".tmpAbC123");
        std::fs::write(&left, br#"{"records":[{"userIdentity":{"arn":"x"}}]"#).unwrap();
        let day_ago = std::time::SystemTime::now() - Duration::from_secs(24 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&left)
            .unwrap()
            .set_modified(day_ago)
            .unwrap();
        // A later run stores another answer (and prunes).
        let (s2, e2) = (t("2026-01-02T10:00:00Z"), t("2026-01-02T10:30:00Z"));
        c.put(s2, e2, None, &page("arn:aws:iam::1:user/creator"), now);
        assert!(
            !left.exists(),
            "a day-old leftover of a killed write is still in {}",
            base.display()
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
