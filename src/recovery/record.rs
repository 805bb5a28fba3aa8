//! `record`: write the cluster's creator on the cluster itself, as tags.
//!
//! CloudTrail event history forgets a cluster's CreateCluster event after 90 days, and the
//! creator is exactly what an incident needs. Tags live as long as the cluster, are readable by
//! anyone allowed `eks:DescribeCluster` (the first call of every recovery), and cost nothing; so
//! `record` copies the creator there while CloudTrail still knows it, and `creator` reads the
//! tags when CloudTrail cannot answer. Writing tags is a change like any other: planned, shown,
//! confirmed, journaled, and undone by putting back exactly the tags that were there.
//!
//! Pure: the creator and the current tags in, a [`Plan`] out.

use super::creator::{CREATOR_TAG_KEYS, Creator, TAG_CREATOR_RECORDED_AT, creator_tags};
use super::plan::{Action, Plan, Undo};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What `record` knows before planning.
#[derive(Debug, Clone)]
pub struct RecordFacts<'a> {
    pub cluster: &'a str,
    pub cluster_arn: &'a str,
    pub region: &'a str,
    /// The cluster's tags today (DescribeCluster).
    pub current_tags: &'a BTreeMap<String, String>,
    pub creator: &'a Creator,
    pub now: DateTime<Utc>,
}

/// The tags to write, or `None` when the record on the cluster already says the same (the
/// recording time alone is not a reason to write again).
pub fn tags_to_write(f: &RecordFacts<'_>) -> Option<BTreeMap<String, String>> {
    let wanted: BTreeMap<String, String> = creator_tags(f.creator, f.now).into_iter().collect();
    let same = wanted
        .iter()
        .filter(|(k, _)| k.as_str() != TAG_CREATOR_RECORDED_AT)
        .all(|(k, v)| f.current_tags.get(k) == Some(v));
    // A stale id tag (the new record has no id) must go too: rewrite.
    let stale_id = CREATOR_TAG_KEYS
        .iter()
        .any(|k| f.current_tags.contains_key(*k) && !wanted.contains_key(*k));
    if same && !stale_id {
        None
    } else {
        Some(wanted)
    }
}

/// The plan: one TagResource, undone by restoring the previous values and removing the keys
/// that were not there. Empty when the cluster already carries the same record.
pub fn record_plan(f: &RecordFacts<'_>) -> Plan {
    let mut plan = Plan::new("record", f.cluster, f.region);
    let Some(tags) = tags_to_write(f) else {
        return plan;
    };
    let mut remove = Vec::new();
    let mut previous = BTreeMap::new();
    for k in tags.keys() {
        match f.current_tags.get(k) {
            Some(v) => {
                previous.insert(k.clone(), v.clone());
            }
            None => remove.push(k.clone()),
        }
    }
    let stale: Vec<&str> = CREATOR_TAG_KEYS
        .iter()
        .copied()
        .filter(|k| f.current_tags.contains_key(*k) && !tags.contains_key(*k))
        .collect();
    if !stale.is_empty() {
        plan.notes.push(format!(
            "the cluster carries an older record with {} that the new one does not have; TagResource \
             cannot remove it and `creator` would still read it: remove it with \
             `aws eks untag-resource --resource-arn {} --tag-keys {}`",
            stale.join(", "),
            f.cluster_arn,
            stale.join(" ")
        ));
    }
    let c = f.creator;
    let what = format!(
        "record the creator {} ({}) on the cluster's tags",
        c.arn,
        c.kind.as_str()
    );
    let why = format!(
        "found through {}; CloudTrail forgets it after 90 days, tags last as long as the cluster \
         and `creator` reads them when CloudTrail cannot answer",
        c.source.describe()
    );
    plan.push(
        what,
        why,
        Action::TagResource {
            resource_arn: f.cluster_arn.to_string(),
            tags: tags.clone(),
        },
        Undo::RestoreTags {
            resource_arn: f.cluster_arn.to_string(),
            remove,
            previous,
            written: tags,
        },
    );
    plan.then
        .push("nothing else: the tags are the record (check with `eks-breakglass creator`)".into());
    plan
}

/// What a rollback of `record` does with the live tags.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagRestore {
    /// Keys the run added, still as it wrote them: removed.
    pub untag: Vec<String>,
    /// Keys the run overwrote, still as it wrote them: their earlier values back.
    pub retag: BTreeMap<String, String>,
    /// Keys someone changed (or removed) after the run, for people: left as they are.
    pub changed: Vec<String>,
}

/// Compares the live tags with what the run wrote: only untouched ones are the run's to put
/// back; one already back as before is skipped quietly (a second rollback).
pub fn tags_to_restore(
    live: &BTreeMap<String, String>,
    remove: &[String],
    previous: &BTreeMap<String, String>,
    written: &BTreeMap<String, String>,
) -> TagRestore {
    let mut out = TagRestore::default();
    for (key, ours) in written {
        let now = live.get(key);
        let before = previous.get(key);
        let added = remove.contains(key);
        if now == Some(ours) {
            if added {
                out.untag.push(key.clone());
            } else if let Some(b) = before {
                out.retag.insert(key.clone(), b.clone());
            }
        } else if (added && now.is_none()) || (before.is_some() && now == before) {
            // Already as before the run.
        } else {
            out.changed.push(match now {
                Some(v) => format!("{key}={v} (the run wrote {ours})"),
                None => format!("{key} removed (the run wrote {ours})"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::creator::{CreatorSource, TAG_CREATOR_ARN, TAG_CREATOR_ID};
    use crate::recovery::event::CreatorKind;

    #[test]
    fn a_tag_changed_since_the_run_is_left_and_said() {
        let m = |p: &[(&str, &str)]| -> BTreeMap<String, String> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let written = m(&[("a", "run"), ("b", "run"), ("c", "run")]);
        let previous = m(&[("b", "old")]);
        let remove = vec!["a".to_string(), "c".to_string()];
        let live = m(&[("a", "run"), ("b", "run"), ("c", "colleague")]);
        let r = tags_to_restore(&live, &remove, &previous, &written);
        assert_eq!(r.untag, vec!["a".to_string()]);
        assert_eq!(r.retag, m(&[("b", "old")]));
        assert_eq!(r.changed.len(), 1);
        assert!(r.changed[0].contains("c=colleague"));
        // Once put back, a second rollback has nothing to do and nothing to say.
        let again = tags_to_restore(
            &m(&[("b", "old"), ("c", "colleague")]),
            &remove,
            &previous,
            &written,
        );
        assert_eq!((again.untag.len(), again.retag.len()), (0, 0));
        assert_eq!(again.changed.len(), 1);
    }

    fn creator() -> Creator {
        let mut c = Creator::from_arn(
            "arn:aws:iam::123456789012:user/admins/platform-admin",
            Some(CreatorKind::IamUser),
            CreatorSource::Cloudtrail,
        );
        c.unique_id = Some("AIDAEXAMPLE".into());
        c
    }

    fn facts<'a>(c: &'a Creator, tags: &'a BTreeMap<String, String>) -> RecordFacts<'a> {
        RecordFacts {
            cluster: "prod",
            cluster_arn: "arn:aws:eks:us-east-1:123456789012:cluster/prod",
            region: "us-east-1",
            current_tags: tags,
            creator: c,
            now: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn new_record_tags_the_cluster_and_undo_removes_the_added_keys() {
        let c = creator();
        let mut tags = BTreeMap::new();
        tags.insert("team".to_string(), "platform".to_string());
        let plan = record_plan(&facts(&c, &tags));
        assert_eq!(plan.steps.len(), 1);
        let Action::TagResource { tags: written, .. } = &plan.steps[0].action else {
            panic!("not a TagResource: {:?}", plan.steps[0].action);
        };
        assert_eq!(
            written[TAG_CREATOR_ARN],
            "arn:aws:iam::123456789012:user/admins/platform-admin"
        );
        assert_eq!(written[TAG_CREATOR_ID], "AIDAEXAMPLE");
        assert_eq!(written[TAG_CREATOR_RECORDED_AT], "2026-01-02T03:04:05Z");
        let Undo::RestoreTags {
            remove, previous, ..
        } = &plan.steps[0].undo
        else {
            panic!("not RestoreTags");
        };
        assert_eq!(remove.len(), 4);
        assert!(previous.is_empty());
        let text = plan.render();
        assert!(text.contains("eks:TagResource"), "{text}");
        assert!(
            text.contains("tags.eks-breakglass/creator-id=AIDAEXAMPLE"),
            "{text}"
        );
    }

    #[test]
    fn same_record_is_not_written_again() {
        let c = creator();
        let mut tags: BTreeMap<String, String> = creator_tags(
            &c,
            DateTime::parse_from_rfc3339("2025-05-05T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        )
        .into_iter()
        .collect();
        tags.insert("team".into(), "platform".into());
        assert!(record_plan(&facts(&c, &tags)).is_empty());
    }

    #[test]
    fn changed_record_keeps_previous_values_for_the_undo() {
        let c = creator();
        let mut tags = BTreeMap::new();
        tags.insert(
            TAG_CREATOR_ARN.to_string(),
            "arn:aws:iam::123456789012:user/someone-else".to_string(),
        );
        let plan = record_plan(&facts(&c, &tags));
        let Undo::RestoreTags {
            remove, previous, ..
        } = &plan.steps[0].undo
        else {
            panic!("not RestoreTags");
        };
        assert_eq!(
            previous[TAG_CREATOR_ARN],
            "arn:aws:iam::123456789012:user/someone-else"
        );
        assert!(!remove.contains(&TAG_CREATOR_ARN.to_string()));
        assert!(remove.contains(&TAG_CREATOR_ID.to_string()));
    }

    #[test]
    fn a_stale_id_is_reported_when_the_new_record_has_none() {
        let mut c = creator();
        c.unique_id = None;
        let mut tags: BTreeMap<String, String> = BTreeMap::new();
        tags.insert(TAG_CREATOR_ARN.into(), c.arn.clone());
        tags.insert(TAG_CREATOR_ID.into(), "AIDAOLD".into());
        let plan = record_plan(&facts(&c, &tags));
        assert_eq!(plan.steps.len(), 1);
        assert!(plan.notes[0].contains(TAG_CREATOR_ID), "{:?}", plan.notes);
    }
}
