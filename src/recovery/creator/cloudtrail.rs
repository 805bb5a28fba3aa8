//! Source 1: CloudTrail event history. `EventName=CreateCluster` in a window around
//! `createdAt` (indexed for every management event, and a 30-minute window holds every
//! service's CreateCluster events in one page), widened only when nothing matches; paced under
//! LookupEvents' 2 requests/s by the adapter.
use super::super::event::{self, ClusterKey, CreatorEvent};
use super::report::{
    Attempt, AttemptOutcome, Creator, CreatorReport, CreatorSource, FindOptions, LookupStats,
    WindowStats, attempt_for_error, is_fatal, merge_rejected,
};
use crate::cluster::ClusterFacts;
use crate::ports::creator_sources::CreatorSources;
use crate::ports::error::AwsError;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// CloudTrail event history keeps management events this long.
pub const LOOKUP_RETENTION: TimeDelta = TimeDelta::days(90);
/// The half-widths of the lookup windows around `createdAt`, tried in order.
pub const LOOKUP_WINDOWS: [TimeDelta; 3] = [
    TimeDelta::minutes(15),
    TimeDelta::hours(2),
    TimeDelta::days(1),
];
/// How long CloudTrail may take to show an event in its history.
pub const CLOUDTRAIL_DELIVERY_DELAY: TimeDelta = TimeDelta::minutes(20);
/// Pages read per window at most (50 events each) before giving up on that window.
pub const MAX_PAGES_PER_WINDOW: u32 = 20;

/// A time window for LookupEvents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What to ask CloudTrail event history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupPlan {
    /// Windows to try in order.
    Windows(Vec<Window>),
    /// The cluster is older than event history keeps.
    TooOld { age_days: i64 },
}

/// The windows around `created_at`: ±15 min, ±2 h, ±1 day, each clamped to the 90 days that
/// event history keeps (a window reaching past them is cut, one wholly outside is dropped).
/// Without `created_at` the whole history is one window.
pub fn lookup_plan(created_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> LookupPlan {
    let oldest = now - LOOKUP_RETENTION;
    let Some(c) = created_at else {
        return LookupPlan::Windows(vec![Window {
            start: oldest,
            end: now,
        }]);
    };
    if c < oldest - LOOKUP_WINDOWS[0] {
        return LookupPlan::TooOld {
            age_days: (now - c).num_days(),
        };
    }
    let mut out: Vec<Window> = Vec::new();
    for half in LOOKUP_WINDOWS {
        let w = Window {
            start: (c - half).max(oldest),
            end: (c + half).min(now),
        };
        if w.start >= w.end || out.last().is_some_and(|l| *l == w) {
            continue;
        }
        out.push(w);
    }
    if out.is_empty() {
        out.push(Window {
            start: oldest,
            end: now,
        });
    }
    LookupPlan::Windows(out)
}

pub(super) async fn from_cloudtrail<S: CreatorSources>(
    src: &mut S,
    facts: &ClusterFacts,
    key: &ClusterKey<'_>,
    opts: &FindOptions,
    report: &mut CreatorReport,
) -> Result<Option<Creator>, AwsError> {
    let windows = match lookup_plan(facts.created_at, opts.now) {
        LookupPlan::TooOld { age_days } => {
            report.attempts.push(Attempt {
                source: CreatorSource::Cloudtrail,
                outcome: AttemptOutcome::Skipped,
                detail: format!(
                    "the cluster was created {age_days} days ago; CloudTrail event history keeps \
                     only the last 90 days"
                ),
                action: None,
            });
            return Ok(None);
        }
        LookupPlan::Windows(w) => w,
    };
    let mut stats = LookupStats {
        lookup_attribute: "EventName=CreateCluster".into(),
        ..LookupStats::default()
    };
    let mut outcome: Option<Attempt> = None;
    let mut found = None;
    'windows: for w in windows {
        let mut ws = WindowStats {
            start: w.start,
            end: w.end,
            pages: 0,
            events: 0,
            candidates: 0,
        };
        let mut candidates: Vec<CreatorEvent> = Vec::new();
        let mut token = None;
        loop {
            let page = match src.lookup_create_cluster(w, token.take()).await {
                Ok(p) => p,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    stats.calls += 1;
                    outcome = Some(attempt_for_error(
                        CreatorSource::Cloudtrail,
                        &e,
                        "LookupEvents",
                    ));
                    stats.windows.push(ws);
                    break 'windows;
                }
            };
            ws.pages += 1;
            ws.events += page.records.len() + page.unreadable;
            stats.calls += page.requests;
            stats.throttled += page.throttled;
            stats.waited_ms += u64::try_from(page.waited.as_millis()).unwrap_or(u64::MAX);
            stats.reused_pages += u32::from(page.reused.is_some());
            let mut exact = false;
            for r in &page.records {
                if let Ok(ev) = event::parse_create_cluster(r)
                    && ev.cluster_name.as_deref() == Some(facts.name.as_str())
                {
                    exact |= ev.cluster_arn.as_deref() == Some(facts.arn.as_str())
                        && matches!((ev.cluster_created_at, facts.created_at),
                            (Some(a), Some(b)) if (a - b).abs() <= event::CREATED_AT_TOLERANCE);
                    candidates.push(ev);
                }
            }
            // Newest first: once today's cluster's own event is in hand, older pages only
            // hold older clusters.
            match page.next_token {
                Some(t) if !exact && ws.pages < MAX_PAGES_PER_WINDOW => token = Some(t),
                Some(_) if !exact => {
                    report.notes.push(format!(
                        "stopped reading the window {} – {} after {} pages",
                        w.start.to_rfc3339(),
                        w.end.to_rfc3339(),
                        ws.pages
                    ));
                    break;
                }
                _ => break,
            }
        }
        ws.candidates = candidates.len();
        stats.windows.push(ws);
        let choice = event::choose_event(candidates, key);
        merge_rejected(&mut report.rejected_events, choice.rejected);
        if let Some((ev, quality)) = choice.chosen {
            stats.match_quality = Some(quality);
            found = Some(Creator::from_event(ev, CreatorSource::Cloudtrail));
            break;
        }
    }
    let attempt = match (&found, outcome) {
        (Some(c), _) => Attempt {
            source: CreatorSource::Cloudtrail,
            outcome: AttemptOutcome::Answered,
            detail: format!(
                "CreateCluster event {} at {}{}",
                c.event_id.as_deref().unwrap_or("?"),
                c.event_time.map(|t| t.to_rfc3339()).unwrap_or_default(),
                if stats.reused_pages > 0 {
                    " (event history as a run minutes ago read it: the window is closed, \
                     its events cannot change)"
                } else {
                    ""
                }
            ),
            action: None,
        },
        (None, Some(a)) => a,
        (None, None) => {
            let span = match (stats.windows.first(), stats.windows.last()) {
                (Some(f), Some(l)) => format!(
                    " between {} and {}",
                    l.start.min(f.start).to_rfc3339(),
                    l.end.max(f.end).to_rfc3339()
                ),
                _ => String::new(),
            };
            let reused = if report.rejected_events.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} CreateCluster event(s) for the name belong to an earlier cluster)",
                    report.rejected_events.len()
                )
            };
            Attempt {
                source: CreatorSource::Cloudtrail,
                outcome: AttemptOutcome::NotFound,
                detail: format!(
                    "no successful EKS CreateCluster for '{}'{span}{reused}{fresh}",
                    facts.name,
                    fresh = if facts
                        .created_at
                        .is_some_and(|c| opts.now - c < CLOUDTRAIL_DELIVERY_DELAY)
                    {
                        " (the cluster is only minutes old: CloudTrail can take up to 15 \
                         minutes to show an event; run again shortly)"
                    } else {
                        ""
                    }
                ),
                action: None,
            }
        }
    };
    report.attempts.push(attempt);
    report.cloudtrail = Some(stats);
    Ok(found)
}
