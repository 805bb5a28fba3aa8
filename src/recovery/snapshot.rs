//! Snapshots of aws-auth: a known-good copy kept where the team can find it in an incident.
//!
//! The fastest restore is from a copy taken when things worked. A snapshot is meant to live in
//! git (or S3), so it is canonical text that diffs well from one day to the next, plus a small
//! metadata file saying when it was taken, by whom, from which object version, how it linted,
//! and who created the cluster (the one fact nobody remembers during an incident).
//!
//! Layout under a directory or an S3 prefix (`ROOT`):
//!
//! ```text
//! ROOT/<cluster>.aws-auth.yaml                  the latest copy (stable path: git diffs)
//! ROOT/<cluster>.meta.json                      its metadata
//! ROOT/<cluster>/<YYYYMMDDTHHMMSSZ>/<cluster>.aws-auth.yaml   every snapshot, kept
//! ROOT/<cluster>/<YYYYMMDDTHHMMSSZ>/<cluster>.meta.json
//! ROOT/<cluster>/latest                         the name of the latest snapshot directory
//! ```
//!
//! `restore --from ROOT` takes the latest; `--at TIME` the latest taken at or before TIME.
//! This module only names files and picks snapshots; reading and writing them is the adapters'.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// The format of a snapshot directory name (UTC, sortable).
pub const STAMP_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// The pointer file naming the latest snapshot directory.
pub const LATEST: &str = "latest";

/// What a snapshot says about itself (`<cluster>.meta.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub cluster: String,
    pub cluster_arn: String,
    pub region: String,
    pub taken_at: DateTime<Utc>,
    /// The caller that took it (STS GetCallerIdentity ARN).
    pub taken_by: String,
    /// The resourceVersion of the ConfigMap copied.
    pub resource_version: Option<String>,
    pub lint: LintSummary,
    /// The cluster's creator, when known (from the cluster's tags).
    pub creator: Option<serde_json::Value>,
    pub tool_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintSummary {
    pub errors: usize,
    pub warnings: usize,
    pub roles: usize,
    pub users: usize,
    pub accounts: usize,
}

/// The file names of one cluster's snapshot.
pub fn yaml_name(cluster: &str) -> String {
    format!("{cluster}.aws-auth.yaml")
}

pub fn meta_name(cluster: &str) -> String {
    format!("{cluster}.meta.json")
}

/// The directory name of a snapshot taken at `t`.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format(STAMP_FORMAT).to_string()
}

/// Reads a snapshot directory name back.
pub fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, STAMP_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

/// Reads `--at`: RFC 3339, a date-time without zone (UTC), a date (end of that day, UTC), or a
/// snapshot directory name.
pub fn parse_at(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(t) = parse_stamp(s) {
        return Some(t);
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(n.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|n| n.and_utc())
}

/// The snapshot to restore among directory names: the latest at or before `at` (or the latest).
pub fn pick(names: &[String], at: Option<DateTime<Utc>>) -> Option<&str> {
    names
        .iter()
        .filter_map(|n| parse_stamp(n).map(|t| (t, n.as_str())))
        .filter(|(t, _)| at.is_none_or(|a| *t <= a))
        .max_by_key(|(t, _)| *t)
        .map(|(_, n)| n)
}

/// Every file a snapshot writes, as (path relative to the root, content), history first and the
/// pointer and stable copies last, so that an interrupted write never points at a missing copy.
pub fn files(
    cluster: &str,
    taken_at: DateTime<Utc>,
    yaml: &str,
    meta: &str,
) -> Vec<(String, String)> {
    let st = stamp(taken_at);
    vec![
        (
            format!("{cluster}/{st}/{}", yaml_name(cluster)),
            yaml.to_string(),
        ),
        (
            format!("{cluster}/{st}/{}", meta_name(cluster)),
            meta.to_string(),
        ),
        (format!("{cluster}/{LATEST}"), format!("{st}\n")),
        (yaml_name(cluster), yaml.to_string()),
        (meta_name(cluster), meta.to_string()),
    ]
}

/// The YAML of snapshot `name` of `cluster`, relative to the root.
pub fn yaml_path(cluster: &str, name: &str) -> String {
    format!("{cluster}/{name}/{}", yaml_name(cluster))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn stamps_round_trip_and_pick_the_latest_before() {
        let a = stamp(t("2026-01-01T10:00:00Z"));
        let b = stamp(t("2026-01-02T10:00:00Z"));
        assert_eq!(a, "20260101T100000Z");
        let names = vec![b.clone(), a.clone(), "notes".to_string()];
        assert_eq!(pick(&names, None), Some(b.as_str()));
        assert_eq!(pick(&names, parse_at("2026-01-01")), Some(a.as_str()));
        assert_eq!(
            pick(&names, parse_at("2026-01-02T09:00:00Z")),
            Some(a.as_str())
        );
        assert_eq!(pick(&names, parse_at("2025-12-31")), None);
        assert_eq!(parse_at(&b), Some(t("2026-01-02T10:00:00Z")));
        assert_eq!(
            parse_at("2026-01-02 10:00:00"),
            Some(t("2026-01-02T10:00:00Z"))
        );
        assert!(parse_at("yesterday").is_none());
    }

    #[test]
    fn files_write_history_before_pointer() {
        let f = files("prod", t("2026-01-01T10:00:00Z"), "y", "m");
        assert_eq!(f[0].0, "prod/20260101T100000Z/prod.aws-auth.yaml");
        assert_eq!(
            f[2],
            ("prod/latest".to_string(), "20260101T100000Z\n".to_string())
        );
        assert_eq!(f[3].0, "prod.aws-auth.yaml");
        assert_eq!(yaml_path("prod", "20260101T100000Z"), f[0].0);
    }
}
