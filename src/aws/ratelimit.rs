//! Client-side rate limits for fleet-wide work: a token bucket per account, region and service.
//!
//! AWS throttles each API per account and region (IAM per account: it is global). A fleet audit
//! with many requests in flight would otherwise hit those limits all at once and lean on the
//! SDK's retries, which back off blindly and slow every other tool of the account too. A small
//! bucket per (account, region, service) spreads the requests out: `rate` per second on average,
//! `burst` at once. The SDK's standard retry stays underneath for the throttles that still come.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64) -> TokenBucket {
        let rate = rate.max(0.001);
        let burst = burst.max(1.0);
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token at `now`; returns how long to wait before the request may go (the token is
    /// taken either way, so concurrent callers queue up in order).
    pub fn reserve_at(&self, now: Instant) -> Duration {
        let Ok(mut s) = self.state.lock() else {
            return Duration::ZERO;
        };
        let (tokens, last) = *s;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let available = (tokens + elapsed * self.rate).min(self.burst) - 1.0;
        *s = (available, now.max(last));
        if available >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-available / self.rate)
        }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let wait = self.reserve_at(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Buckets by key (`account/region/service`), made on first use.
#[derive(Debug, Clone)]
pub struct Limits {
    rates: HashMap<&'static str, (f64, f64)>,
    default: (f64, f64),
    buckets: Arc<Mutex<HashMap<String, Arc<TokenBucket>>>>,
}

impl Limits {
    /// `default` (rate, burst) for every service, with per-service overrides.
    pub fn new(default: (f64, f64), overrides: &[(&'static str, f64, f64)]) -> Limits {
        Limits {
            rates: overrides.iter().map(|(s, r, b)| (*s, (*r, *b))).collect(),
            default,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn bucket(&self, account: &str, region: &str, service: &'static str) -> Arc<TokenBucket> {
        let key = format!("{account}/{region}/{service}");
        let (rate, burst) = self.rates.get(service).copied().unwrap_or(self.default);
        match self.buckets.lock() {
            Ok(mut m) => m
                .entry(key)
                .or_insert_with(|| Arc::new(TokenBucket::new(rate, burst)))
                .clone(),
            Err(_) => Arc::new(TokenBucket::new(rate, burst)),
        }
    }

    /// Waits until a request to `service` in `account`/`region` may go. IAM is global: pass the
    /// same region (e.g. `global`) for every IAM call of an account.
    pub async fn acquire(&self, account: &str, region: &str, service: &'static str) {
        self.bucket(account, region, service).acquire().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_rate() {
        let b = TokenBucket::new(10.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(b.reserve_at(t0), Duration::ZERO);
        }
        // The fourth waits one token's time, the fifth two.
        let w4 = b.reserve_at(t0);
        let w5 = b.reserve_at(t0);
        assert!((w4.as_secs_f64() - 0.1).abs() < 1e-6, "{w4:?}");
        assert!((w5.as_secs_f64() - 0.2).abs() < 1e-6, "{w5:?}");
        // A second later the bucket is full again (capped at the burst).
        let t1 = t0 + Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(b.reserve_at(t1), Duration::ZERO, "refilled");
        }
        assert!(b.reserve_at(t1) > Duration::ZERO);
    }

    #[test]
    fn buckets_are_per_key() {
        let l = Limits::new((1.0, 1.0), &[("iam", 5.0, 5.0)]);
        let t = Instant::now();
        assert_eq!(
            l.bucket("1", "us-east-1", "eks").reserve_at(t),
            Duration::ZERO
        );
        assert!(l.bucket("1", "us-east-1", "eks").reserve_at(t) > Duration::ZERO);
        assert_eq!(
            l.bucket("1", "eu-west-1", "eks").reserve_at(t),
            Duration::ZERO
        );
        assert_eq!(
            l.bucket("2", "us-east-1", "eks").reserve_at(t),
            Duration::ZERO
        );
        for _ in 0..5 {
            assert_eq!(l.bucket("1", "global", "iam").reserve_at(t), Duration::ZERO);
        }
    }
}

/// How long to pause before polling again something AWS finishes on its own time (IAM
/// propagation, an EKS update, an access entry taking effect): a fortieth of the time waited
/// so far, at least [`POLL_FLOOR`] and at most [`POLL_CEILING`]. The end of a wait is noticed
/// late by at most a fortieth of it (or 100 ms): on a 5 s IAM propagation that is 125 ms at
/// most, about 60 ms on average (a twentieth with a 250 ms floor was 250 ms, about 0.13 s on
/// average: the largest part of the tool's own time in a drill after triage). Short waits are
/// polled at most 10 times a second, one light request each (a SelfSubjectReview, an
/// AssumeRole) — far below what STS and the API server take; the number of polls of a long
/// wait still grows only logarithmically, and the pause reaches the ceiling after 400 s.
/// Callers that poll a scarcer API keep their own floor (DescribeUpdate: 250 ms, see
/// `plan_runner`).
pub fn poll_pause(elapsed: Duration) -> Duration {
    (elapsed / 40).clamp(POLL_FLOOR, POLL_CEILING)
}

/// The shortest pause between polls (see [`poll_pause`]).
pub const POLL_FLOOR: Duration = Duration::from_millis(100);
/// The longest pause between polls (see [`poll_pause`]).
pub const POLL_CEILING: Duration = Duration::from_secs(10);

#[cfg(test)]
mod poll_tests {
    use super::*;

    #[test]
    fn the_pause_grows_with_the_wait_and_stays_bounded() {
        assert_eq!(poll_pause(Duration::ZERO), Duration::from_millis(100));
        // At the end of a 5 s IAM propagation: noticed within 125 ms.
        assert_eq!(
            poll_pause(Duration::from_secs(5)),
            Duration::from_millis(125)
        );
        assert_eq!(
            poll_pause(Duration::from_secs(8)),
            Duration::from_millis(200)
        );
        assert_eq!(
            poll_pause(Duration::from_secs(600)),
            Duration::from_secs(10)
        );
        // Polling late by at most a fortieth of the elapsed wait (or 100 ms) bounds the overshoot.
        for secs in [1u64, 5, 30, 120] {
            let e = Duration::from_secs(secs);
            assert!(poll_pause(e) <= (e / 40).max(Duration::from_millis(100)));
        }
        // A long wait is not polled more than logarithmically: a 15-minute wait (an EKS update
        // on a bad day) takes fewer than 300 polls.
        let (mut t, mut polls) = (Duration::ZERO, 0);
        while t < Duration::from_secs(900) {
            t += poll_pause(t);
            polls += 1;
        }
        assert!(polls < 300, "{polls} polls");
        // Never more than 10 polls a second.
        assert!(POLL_FLOOR >= Duration::from_millis(100));
    }
}
