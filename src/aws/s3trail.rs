//! A trail's log files in S3: the only record of a CreateCluster older than 90 days.
//!
//! CloudTrail writes gzipped JSON files `{"Records":[...]}` under
//! `[PREFIX/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` (organization trails add the
//! organization id: `AWSLogs/<o-id>/<account>/…`), named
//! `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz` after their delivery time, a
//! few minutes after the events in them. A busy account has hundreds of files a day, so the
//! files delivered within two hours after `createdAt` are read first, and the rest of the day
//! only when those do not hold the cluster's CreateCluster.

use super::{AwsContext, AwsError, AwsErrorKind};
use crate::ports::creator_sources::TrailScan;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde_json::Value;
use std::io::Read as _;

/// Files delivered this long after `createdAt` are read first.
const FIRST_PASS_AFTER: TimeDelta = TimeDelta::hours(2);
/// …and from this long before (clock skew, files named by period start).
const FIRST_PASS_BEFORE: TimeDelta = TimeDelta::minutes(15);

/// Splits `BUCKET[/PREFIX]` (an `s3://` scheme is accepted) into bucket and prefix.
pub fn split_bucket(spec: &str) -> (String, Option<String>) {
    let s = spec.trim().trim_start_matches("s3://").trim_matches('/');
    match s.split_once('/') {
        Some((b, p)) if !p.trim_matches('/').is_empty() => {
            (b.to_string(), Some(p.trim_matches('/').to_string()))
        }
        Some((b, _)) => (b.to_string(), None),
        None => (s.to_string(), None),
    }
}

/// The folder of one day's files.
pub fn day_prefix(
    prefix: Option<&str>,
    org: Option<&str>,
    account: &str,
    region: &str,
    day: NaiveDate,
) -> String {
    let mut p = String::new();
    if let Some(pre) = prefix {
        p.push_str(pre);
        p.push('/');
    }
    p.push_str("AWSLogs/");
    if let Some(o) = org {
        p.push_str(o);
        p.push('/');
    }
    p.push_str(&format!(
        "{account}/CloudTrail/{region}/{}/",
        day.format("%Y/%m/%d")
    ));
    p
}

/// The delivery time in a log file name, if it follows CloudTrail's naming.
pub fn file_time(key: &str) -> Option<DateTime<Utc>> {
    let file = key.rsplit('/').next()?;
    file.split('_').find_map(|part| {
        NaiveDateTime::parse_from_str(part, "%Y%m%dT%H%MZ")
            .ok()
            .map(|n| Utc.from_utc_datetime(&n))
    })
}

/// Decodes one log file (gzip or plain) into its `Records`.
pub fn records_of(body: &[u8]) -> Result<Vec<Value>, String> {
    let text = if body.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(body)
            .read_to_string(&mut s)
            .map_err(|e| format!("not a valid gzip file: {e}"))?;
        s
    } else {
        String::from_utf8(body.to_vec()).map_err(|e| format!("not UTF-8: {e}"))?
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    match v {
        Value::Object(mut o) => match o.remove("Records") {
            Some(Value::Array(a)) => Ok(a),
            _ => Err("no Records array".into()),
        },
        _ => Err("not a JSON object".into()),
    }
}

/// Keeps the records that could be this cluster's CreateCluster (the domain decides).
fn keep(record: &Value, cluster: &str) -> bool {
    record.get("eventName").and_then(Value::as_str) == Some("CreateCluster")
        && record.get("eventSource").and_then(Value::as_str) == Some("eks.amazonaws.com")
        && {
            let text = record.to_string();
            text.contains(&format!("\"{cluster}\"")) || text.contains(&format!("/{cluster}\""))
        }
}

async fn list_keys(ctx: &AwsContext, bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
    let mut keys = Vec::new();
    let mut pages = ctx
        .s3()
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            AwsError::from_sdk("s3:ListBucket", &format!("s3://{bucket}/{prefix}"), e)
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    Ok(keys)
}

/// Organization ids under `[PREFIX/]AWSLogs/` (organization trails).
async fn org_ids(
    ctx: &AwsContext,
    bucket: &str,
    prefix: Option<&str>,
) -> Result<Vec<String>, AwsError> {
    let base = match prefix {
        Some(p) => format!("{p}/AWSLogs/"),
        None => "AWSLogs/".to_string(),
    };
    let out = ctx
        .s3()
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&base)
        .delimiter("/")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:ListBucket", &format!("s3://{bucket}/{base}"), e))?;
    Ok(out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .filter_map(|p| p.strip_prefix(&base))
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| p.starts_with("o-"))
        .map(str::to_string)
        .collect())
}

async fn read_records(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
    cluster: &str,
) -> Result<Vec<Value>, AwsError> {
    let out = ctx
        .s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:GetObject", &format!("s3://{bucket}/{key}"), e))?;
    let body = out.body.collect().await.map_err(|e| {
        AwsError::new(
            "s3:GetObject",
            AwsErrorKind::Unreachable,
            format!("reading s3://{bucket}/{key}: {e}"),
        )
    })?;
    match records_of(&body.into_bytes()) {
        Ok(r) => Ok(r.into_iter().filter(|r| keep(r, cluster)).collect()),
        Err(why) => {
            tracing::warn!("skipping s3://{bucket}/{key}: {why}");
            Ok(Vec::new())
        }
    }
}

/// The CreateCluster records for `cluster` in the trail's files around `created_at`.
pub async fn create_cluster_records(
    ctx: &AwsContext,
    bucket_spec: Option<&str>,
    account: &str,
    region: &str,
    cluster: &str,
    created_at: DateTime<Utc>,
) -> Result<TrailScan, AwsError> {
    let locations: Vec<(String, Option<String>, String)> = match bucket_spec {
        Some(spec) => {
            let (b, p) = split_bucket(spec);
            vec![(b, p, "--trail-bucket".to_string())]
        }
        None => {
            let trails = super::cloudtrail::trails_for_region(ctx, region).await?;
            if trails.is_empty() {
                return Ok(TrailScan::NoTrail {
                    detail: format!(
                        "no CloudTrail trail of this account delivers log files to S3 for {region} \
                         (DescribeTrails): events older than 90 days were not kept anywhere this \
                         tool can read; pass --trail-bucket if the logs are in another account's bucket"
                    ),
                });
            }
            trails
                .into_iter()
                .map(|t| (t.bucket, t.prefix, format!("trail {}", t.name)))
                .collect()
        }
    };
    let mut days = vec![created_at.date_naive()];
    let later = (created_at + FIRST_PASS_AFTER).date_naive();
    if later != days[0] {
        days.push(later);
    }
    let mut last = None;
    for (bucket, prefix, found_by) in locations {
        let mut keys = Vec::new();
        for day in &days {
            keys.extend(
                list_keys(
                    ctx,
                    &bucket,
                    &day_prefix(prefix.as_deref(), None, account, region, *day),
                )
                .await?,
            );
        }
        if keys.is_empty() {
            for org in org_ids(ctx, &bucket, prefix.as_deref()).await? {
                for day in &days {
                    keys.extend(
                        list_keys(
                            ctx,
                            &bucket,
                            &day_prefix(prefix.as_deref(), Some(&org), account, region, *day),
                        )
                        .await?,
                    );
                }
            }
        }
        let location = format!(
            "s3://{bucket}/{}",
            day_prefix(prefix.as_deref(), None, account, region, days[0])
        );
        let (first, rest): (Vec<String>, Vec<String>) = keys.into_iter().partition(|k| {
            file_time(k).is_none_or(|t| {
                t >= created_at - FIRST_PASS_BEFORE && t <= created_at + FIRST_PASS_AFTER
            })
        });
        tracing::info!(
            "reading {} trail log file(s) delivered near {} from s3://{bucket}",
            first.len(),
            created_at.to_rfc3339()
        );
        let mut records = Vec::new();
        let mut files = 0usize;
        for k in &first {
            records.extend(read_records(ctx, &bucket, k, cluster).await?);
            files += 1;
        }
        if records.is_empty() && !rest.is_empty() {
            tracing::info!(
                "not there; reading the other {} file(s) of the day",
                rest.len()
            );
            for k in &rest {
                records.extend(read_records(ctx, &bucket, k, cluster).await?);
                files += 1;
            }
        }
        if !records.is_empty() {
            return Ok(TrailScan::Scanned {
                location,
                found_by,
                files,
                records,
            });
        }
        last = Some(TrailScan::Scanned {
            location,
            found_by,
            files,
            records,
        });
    }
    Ok(last.unwrap_or(TrailScan::NoTrail {
        detail: "no trail location to read".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use serde_json::json;
    use std::io::Write as _;

    #[test]
    fn bucket_specs() {
        assert_eq!(split_bucket("logs"), ("logs".into(), None));
        assert_eq!(
            split_bucket("s3://logs/org/trail/"),
            ("logs".into(), Some("org/trail".into()))
        );
        assert_eq!(split_bucket("logs/"), ("logs".into(), None));
    }

    #[test]
    fn day_folders_and_file_times() {
        let day = NaiveDate::from_ymd_opt(2026, 5, 2).unwrap();
        assert_eq!(
            day_prefix(Some("p"), None, "111122223333", "eu-west-1", day),
            "p/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/05/02/"
        );
        assert_eq!(
            day_prefix(None, Some("o-abc"), "111122223333", "eu-west-1", day),
            "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/05/02/"
        );
        let t = file_time(
            "AWSLogs/1/CloudTrail/eu-west-1/2026/05/02/111122223333_CloudTrail_eu-west-1_20260502T1005Z_abcDEF123.json.gz",
        );
        assert_eq!(
            t.map(|t| t.to_rfc3339()),
            Some("2026-05-02T10:05:00+00:00".into())
        );
        assert_eq!(file_time("x/other.json"), None);
    }

    #[test]
    fn gzip_and_plain_files() {
        let doc = json!({"Records": [
            {"eventName": "CreateCluster", "eventSource": "eks.amazonaws.com", "requestParameters": {"name": "prod"}},
            {"eventName": "CreateCluster", "eventSource": "ecs.amazonaws.com", "requestParameters": {"clusterName": "prod"}},
            {"eventName": "DescribeCluster", "eventSource": "eks.amazonaws.com"}
        ]})
        .to_string();
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(doc.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let recs = records_of(&bytes).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs.iter().filter(|r| keep(r, "prod")).count(), 1);
        assert_eq!(recs.iter().filter(|r| keep(r, "staging")).count(), 0);
        assert_eq!(records_of(doc.as_bytes()).unwrap().len(), 3);
        assert!(records_of(b"{\"x\":1}").is_err());
        assert!(records_of(&[0x1f, 0x8b, 0, 1]).is_err());
    }
}
