//! CloudTrail event history: a time-sorted store with per-attribute indexes, LookupEvents
//! semantics (one attribute, window, MaxResults, NextToken bound to its parameters, 90 days),
//! and the per-account token-bucket throttle.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

pub const ATTRIBUTE_KEYS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

#[derive(Debug, Clone)]
pub struct TrailEvent {
    pub event_id: String,
    pub time_ms: i64,
    pub event_name: String,
    pub event_source: String,
    pub read_only: bool,
    pub username: String,
    pub access_key_id: String,
    pub resources: Vec<(String, String)>,
    /// The full CloudTrail record (the `CloudTrailEvent` string is its JSON).
    pub record: Record,
}

/// A record kept as JSON, or rendered when asked for (background noise: 100k records built
/// eagerly would dominate the load time).
#[derive(Clone)]
pub enum Record {
    Full(Arc<Value>),
    Lazy(Arc<dyn Fn(&TrailEvent) -> Value + Send + Sync>),
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Record::Full(v) => write!(f, "Full({v})"),
            Record::Lazy(_) => write!(f, "Lazy"),
        }
    }
}

impl TrailEvent {
    /// The full CloudTrail record.
    pub fn record_value(&self) -> Arc<Value> {
        match &self.record {
            Record::Full(v) => v.clone(),
            Record::Lazy(f) => Arc::new(f(self)),
        }
    }

    /// The `Events[]` item of a LookupEvents answer.
    pub fn to_lookup_json(&self) -> Value {
        let mut v = json!({
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": self.read_only.to_string(),
            "EventTime": self.time_ms as f64 / 1000.0,
            "EventSource": self.event_source,
            "Username": self.username,
            "Resources": self.resources.iter().map(|(t, n)| json!({"ResourceType": t, "ResourceName": n})).collect::<Vec<_>>(),
            "CloudTrailEvent": self.record_value().to_string(),
        });
        if !self.access_key_id.is_empty() {
            v["AccessKeyId"] = json!(self.access_key_id);
        }
        v
    }
}

/// FNV-1a: a fast hasher for the attribute indexes (keys are not attacker-controlled).
#[derive(Default, Clone, Copy)]
pub struct Fnv;

pub struct FnvHasher(u64);

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf29ce484222325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    }
}

#[derive(Default)]
pub struct EventStore {
    /// Sorted by time ascending (ties: insertion order).
    events: Vec<TrailEvent>,
    /// attribute key -> value -> ascending positions in `events`.
    /// (EventId is not indexed: it is unique, a scan of the window finds it.)
    index: HashMap<&'static str, HashMap<String, Vec<u32>, Fnv>>,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::enum_variant_names)]
pub enum LookupError {
    InvalidLookupAttributes(String),
    InvalidTimeRange(String),
    InvalidMaxResults(String),
    InvalidNextToken(String),
}

impl LookupError {
    pub fn code_message(&self) -> (&'static str, &str) {
        match self {
            LookupError::InvalidLookupAttributes(m) => ("InvalidLookupAttributesException", m),
            LookupError::InvalidTimeRange(m) => ("InvalidTimeRangeException", m),
            LookupError::InvalidMaxResults(m) => ("InvalidMaxResultsException", m),
            LookupError::InvalidNextToken(m) => ("InvalidNextTokenException", m),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct LookupQuery {
    pub attributes: Vec<(String, String)>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    /// Only events of this (account, region) (`recipientAccountId`, `awsRegion`); `None` = all.
    pub scope: Option<(String, String)>,
    /// Examine at most this many stored candidates per page: like CloudTrail, a page can then
    /// be short, or empty, and still carry a NextToken. `None`: fill every page.
    pub scan_budget: Option<usize>,
    /// Events show up this long after they happened (CloudTrail's delivery delay).
    pub delivery_delay_ms: i64,
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    h
}

impl EventStore {
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn clear(&mut self) {
        self.events.clear();
        self.index.clear();
    }

    #[cfg(test)]
    pub fn events(&self) -> &[TrailEvent] {
        &self.events
    }

    fn index_one(&mut self, pos: usize) {
        let ev = &self.events[pos];
        for key in ATTRIBUTE_KEYS {
            let map = self.index.entry(key).or_default();
            let mut add = |v: &str| match map.get_mut(v) {
                Some(list) => list.push(pos as u32),
                None => {
                    map.insert(v.to_string(), vec![pos as u32]);
                }
            };
            match *key {
                "EventName" => add(&ev.event_name),
                "ReadOnly" => add(if ev.read_only { "true" } else { "false" }),
                "Username" => add(&ev.username),
                "EventSource" => add(&ev.event_source),
                "AccessKeyId" => add(&ev.access_key_id),
                "ResourceType" => ev.resources.iter().for_each(|r| add(&r.0)),
                "ResourceName" => ev.resources.iter().for_each(|r| add(&r.1)),
                _ => {}
            }
        }
    }

    fn rebuild_index(&mut self) {
        self.index.clear();
        for pos in 0..self.events.len() {
            self.index_one(pos);
        }
    }

    /// Adds many events at once (sorts and indexes once).
    pub fn extend(&mut self, events: Vec<TrailEvent>) {
        self.events.extend(events);
        self.events.sort_by_key(|e| e.time_ms);
        self.rebuild_index();
    }

    pub fn push(&mut self, ev: TrailEvent) {
        let pos = self.events.partition_point(|e| e.time_ms <= ev.time_ms);
        if pos == self.events.len() {
            self.events.push(ev);
            self.index_one(pos);
        } else {
            self.events.insert(pos, ev);
            self.rebuild_index();
        }
    }

    /// LookupEvents. Returns (events newest first, next token).
    pub fn lookup(
        &self,
        q: &LookupQuery,
        now: DateTime<Utc>,
    ) -> Result<(Vec<&TrailEvent>, Option<String>), LookupError> {
        if q.attributes.len() > 1 {
            return Err(LookupError::InvalidLookupAttributes(
                "You can only specify one lookup attribute. Specify one lookup attribute and try again.".into(),
            ));
        }
        let attr = q.attributes.first();
        if let Some((k, _)) = attr
            && !ATTRIBUTE_KEYS.contains(&k.as_str())
        {
            return Err(LookupError::InvalidLookupAttributes(format!(
                "Invalid lookup attribute key {k:?}: must be one of {}",
                ATTRIBUTE_KEYS.join(", ")
            )));
        }
        let max = q.max_results.unwrap_or(50);
        if !(1..=50).contains(&max) {
            return Err(LookupError::InvalidMaxResults(format!(
                "Value {max} for MaxResults is invalid. MaxResults must be between 1 and 50."
            )));
        }
        if let (Some(s), Some(e)) = (q.start, q.end)
            && s > e
        {
            return Err(LookupError::InvalidTimeRange(
                "Start time must be before end time.".into(),
            ));
        }
        let oldest = (now - TimeDelta::days(90)).timestamp_millis();
        let lo_ms = q
            .start
            .map(|s| s.timestamp_millis())
            .unwrap_or(i64::MIN)
            .max(oldest);
        let hi_ms = q
            .end
            .map(|e| e.timestamp_millis())
            .unwrap_or(i64::MAX)
            .min(now.timestamp_millis() - q.delivery_delay_ms.max(0));
        let fingerprint = format!(
            "{:016x}",
            fnv(&format!(
                "{:?}|{:?}|{:?}",
                attr,
                q.start.map(|s| s.timestamp_millis()),
                q.end.map(|e| e.timestamp_millis())
            ))
        );
        let mut cursor = usize::MAX;
        if let Some(tok) = &q.next_token {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(tok)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| LookupError::InvalidNextToken("Invalid NextToken".into()))?;
            let (fp, pos) = decoded
                .split_once(':')
                .ok_or_else(|| LookupError::InvalidNextToken("Invalid NextToken".into()))?;
            if fp != fingerprint {
                return Err(LookupError::InvalidNextToken(
                    "The NextToken was used with different request parameters than the request that returned it.".into(),
                ));
            }
            cursor = pos
                .parse()
                .map_err(|_| LookupError::InvalidNextToken("Invalid NextToken".into()))?;
        }
        let in_scope = |pos: usize| {
            q.scope.as_ref().is_none_or(|(account, region)| {
                let r = self.events[pos].record_value();
                r["recipientAccountId"].as_str() == Some(account.as_str())
                    && r["awsRegion"].as_str() == Some(region.as_str())
            })
        };
        let in_window = |pos: usize| {
            let t = self.events[pos].time_ms;
            t >= lo_ms && t <= hi_ms
        };
        // Candidate positions, ascending; take from the newest end of the window.
        let mut out = Vec::new();
        let mut next = None;
        let take = max as usize;
        let budget = q.scan_budget.unwrap_or(usize::MAX).max(1);
        let mut examined = 0usize;
        match attr {
            None => {
                let lo = self.events.partition_point(|e| e.time_ms < lo_ms);
                let hi = self
                    .events
                    .partition_point(|e| e.time_ms <= hi_ms)
                    .min(cursor);
                let mut pos = hi;
                while pos > lo {
                    if examined == budget {
                        next = Some(pos);
                        break;
                    }
                    examined += 1;
                    pos -= 1;
                    if out.len() == take {
                        next = Some(pos + 1);
                        break;
                    }
                    if !in_scope(pos) {
                        continue;
                    }
                    out.push(&self.events[pos]);
                }
            }
            Some((k, v)) if k == "EventId" => {
                let lo = self.events.partition_point(|e| e.time_ms < lo_ms);
                let hi = self
                    .events
                    .partition_point(|e| e.time_ms <= hi_ms)
                    .min(cursor);
                if let Some(pos) = (lo..hi).find(|p| &self.events[*p].event_id == v)
                    && in_scope(pos)
                {
                    out.push(&self.events[pos]);
                }
            }
            Some((k, v)) => {
                let empty = Vec::new();
                let list = self
                    .index
                    .get(k.as_str())
                    .and_then(|m| m.get(v))
                    .unwrap_or(&empty);
                let lo = list.partition_point(|p| self.events[*p as usize].time_ms < lo_ms);
                let hi = list.partition_point(|p| {
                    self.events[*p as usize].time_ms <= hi_ms && (*p as usize) < cursor
                });
                let mut i = hi;
                while i > lo {
                    if examined == budget {
                        next = Some(list[i - 1] as usize + 1);
                        break;
                    }
                    examined += 1;
                    i -= 1;
                    let pos = list[i] as usize;
                    if !in_window(pos) {
                        continue;
                    }
                    if out.len() == take {
                        next = Some(pos + 1);
                        break;
                    }
                    if !in_scope(pos) {
                        continue;
                    }
                    out.push(&self.events[pos]);
                }
            }
        }
        let token = next.map(|p| {
            base64::engine::general_purpose::STANDARD.encode(format!("{fingerprint}:{p}"))
        });
        Ok((out, token))
    }
}

/// Token-bucket throttle for LookupEvents.
#[derive(Debug, Clone)]
pub struct Throttle {
    /// Requests per second; `None` = off.
    pub rate: Option<f64>,
    pub burst: f64,
    tokens: f64,
    last: Instant,
}

impl Throttle {
    pub fn new(rate: Option<f64>, burst: f64) -> Self {
        Throttle {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    pub fn allow(&mut self) -> bool {
        self.allow_at(Instant::now())
    }

    pub fn allow_at(&mut self, now: Instant) -> bool {
        let Some(rate) = self.rate else { return true };
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ev(id: usize, t: DateTime<Utc>, name: &str, user: &str) -> TrailEvent {
        TrailEvent {
            event_id: format!("id-{id}"),
            time_ms: t.timestamp_millis(),
            event_name: name.into(),
            event_source: "eks.amazonaws.com".into(),
            read_only: false,
            username: user.into(),
            access_key_id: String::new(),
            resources: vec![("AWS::EKS::Cluster".into(), "prod".into())],
            record: Record::Full(Arc::new(json!({}))),
        }
    }

    fn store(now: DateTime<Utc>) -> EventStore {
        let mut s = EventStore::default();
        let mut evs = Vec::new();
        for i in 0..200 {
            let name = if i % 2 == 0 {
                "CreateCluster"
            } else {
                "DescribeCluster"
            };
            evs.push(ev(
                i,
                now - TimeDelta::days(100) + TimeDelta::hours(12 * i as i64),
                name,
                "alice",
            ));
        }
        s.extend(evs);
        s
    }

    /// CloudTrail can answer short and even empty pages that still carry a NextToken; a
    /// client must page until the token is gone. Every event is still seen exactly once.
    #[test]
    fn short_and_empty_pages_still_carry_a_token() {
        let now = Utc::now();
        let s = store(now);
        for attrs in [
            vec![],
            vec![("EventName".to_string(), "CreateCluster".to_string())],
        ] {
            let full = LookupQuery {
                attributes: attrs.clone(),
                ..Default::default()
            };
            let mut expected = Vec::new();
            let mut q = full.clone();
            loop {
                let (page, tok) = s.lookup(&q, now).expect("lookup");
                expected.extend(page.into_iter().map(|e| e.event_id.clone()));
                match tok {
                    Some(t) => q.next_token = Some(t),
                    None => break,
                }
            }
            // Scope to another region: every examined candidate is filtered out.
            let mut q = LookupQuery {
                attributes: attrs.clone(),
                scan_budget: Some(7),
                ..Default::default()
            };
            let (page, tok) = s.lookup(&q, now).expect("lookup");
            assert!(page.len() <= 7);
            assert!(tok.is_some());
            let mut seen = Vec::new();
            let mut empty_with_token = 0;
            q.scope = None;
            q.next_token = None;
            loop {
                let (page, tok) = s.lookup(&q, now).expect("lookup");
                if page.is_empty() && tok.is_some() {
                    empty_with_token += 1;
                }
                seen.extend(page.into_iter().map(|e| e.event_id.clone()));
                match tok {
                    Some(t) => q.next_token = Some(t),
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{attrs:?}");
            let mut scoped = LookupQuery {
                attributes: attrs,
                scan_budget: Some(7),
                scope: Some(("999999999999".into(), "eu-west-1".into())),
                ..Default::default()
            };
            let (page, tok) = s.lookup(&scoped, now).expect("lookup");
            assert!(
                page.is_empty() && tok.is_some(),
                "an empty page with a token"
            );
            scoped.next_token = tok;
            empty_with_token += 1;
            assert!(empty_with_token > 0);
        }
    }

    #[test]
    fn events_show_up_after_the_delivery_delay() {
        let now = Utc::now();
        let mut s = store(now);
        s.push(ev(
            999,
            now - TimeDelta::seconds(30),
            "CreateCluster",
            "bob",
        ));
        let mut q = LookupQuery {
            attributes: vec![("Username".into(), "bob".into())],
            ..Default::default()
        };
        assert_eq!(s.lookup(&q, now).expect("lookup").0.len(), 1);
        q.delivery_delay_ms = 60_000;
        assert_eq!(s.lookup(&q, now).expect("lookup").0.len(), 0);
        assert_eq!(
            s.lookup(&q, now + TimeDelta::seconds(31))
                .expect("lookup")
                .0
                .len(),
            1
        );
    }

    #[test]
    fn newest_first_window_and_ninety_days() {
        let now = Utc::now();
        let s = store(now);
        let q = LookupQuery {
            max_results: Some(50),
            ..Default::default()
        };
        let (page, tok) = s.lookup(&q, now).expect("lookup");
        assert_eq!(page.len(), 50);
        assert!(page.windows(2).all(|w| w[0].time_ms >= w[1].time_ms));
        assert!(tok.is_some());
        // Everything reachable is within 90 days.
        let mut all = Vec::new();
        let mut q = LookupQuery {
            attributes: vec![("EventName".into(), "CreateCluster".into())],
            ..Default::default()
        };
        loop {
            let (page, tok) = s.lookup(&q, now).expect("lookup");
            all.extend(page.into_iter().map(|e| e.time_ms));
            match tok {
                Some(t) => q.next_token = Some(t),
                None => break,
            }
        }
        let oldest = (now - TimeDelta::days(90)).timestamp_millis();
        assert!(all.iter().all(|t| *t >= oldest));
        assert_eq!(
            all.len(),
            s.events()
                .iter()
                .filter(|e| e.event_name == "CreateCluster" && e.time_ms >= oldest)
                .count()
        );
        let mut sorted = all.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(all, sorted);
    }

    #[test]
    fn errors() {
        let now = Utc::now();
        let s = store(now);
        let two = LookupQuery {
            attributes: vec![
                ("EventName".into(), "a".into()),
                ("Username".into(), "b".into()),
            ],
            ..Default::default()
        };
        assert!(matches!(
            s.lookup(&two, now),
            Err(LookupError::InvalidLookupAttributes(_))
        ));
        let max = LookupQuery {
            max_results: Some(51),
            ..Default::default()
        };
        assert!(matches!(
            s.lookup(&max, now),
            Err(LookupError::InvalidMaxResults(_))
        ));
        let q = LookupQuery {
            max_results: Some(5),
            ..Default::default()
        };
        let (_, tok) = s.lookup(&q, now).expect("lookup");
        let other = LookupQuery {
            attributes: vec![("Username".into(), "alice".into())],
            next_token: tok,
            ..Default::default()
        };
        assert!(matches!(
            s.lookup(&other, now),
            Err(LookupError::InvalidNextToken(_))
        ));
        let range = LookupQuery {
            start: Some(now),
            end: Some(now - TimeDelta::days(1)),
            ..Default::default()
        };
        assert!(matches!(
            s.lookup(&range, now),
            Err(LookupError::InvalidTimeRange(_))
        ));
    }

    #[test]
    fn window_by_attribute() {
        let now = Utc::now();
        let s = store(now);
        let q = LookupQuery {
            attributes: vec![("EventName".into(), "DescribeCluster".into())],
            start: Some(now - TimeDelta::days(10)),
            end: Some(now - TimeDelta::days(5)),
            ..Default::default()
        };
        let (page, tok) = s.lookup(&q, now).expect("lookup");
        assert!(tok.is_none());
        assert_eq!(page.len(), 5);
        assert!(page.iter().all(|e| e.event_name == "DescribeCluster"));
    }

    #[test]
    fn event_id_lookup() {
        let now = Utc::now();
        let s = store(now);
        let q = LookupQuery {
            attributes: vec![("EventId".into(), "id-150".into())],
            ..Default::default()
        };
        let (page, tok) = s.lookup(&q, now).expect("lookup");
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].event_id, "id-150");
        assert!(tok.is_none());
        // Older than 90 days: not returned.
        let q = LookupQuery {
            attributes: vec![("EventId".into(), "id-5".into())],
            ..Default::default()
        };
        assert!(s.lookup(&q, now).expect("lookup").0.is_empty());
    }

    #[test]
    fn throttle_bucket() {
        let start = Instant::now();
        let mut t = Throttle::new(Some(2.0), 2.0);
        assert!(t.allow_at(start));
        assert!(t.allow_at(start));
        assert!(!t.allow_at(start));
        assert!(t.allow_at(start + Duration::from_millis(500)));
        assert!(!t.allow_at(start + Duration::from_millis(600)));
        let mut off = Throttle::new(None, 0.0);
        assert!((0..100).all(|_| off.allow_at(start)));
    }
}
