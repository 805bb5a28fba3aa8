//! S3: plain objects under a prefix — where `aws-auth snapshot --to s3://…` keeps its copies.

use super::{AwsContext, AwsError, AwsErrorKind};

/// `s3://BUCKET/PREFIX` → (bucket, prefix without slashes at the ends).
pub fn parse_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    Some((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// `prefix/rel`, or `rel` for an empty prefix.
pub fn key(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

pub async fn put(ctx: &AwsContext, bucket: &str, key: &str, body: &str) -> Result<(), AwsError> {
    ctx.s3()
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:PutObject", &format!("s3://{bucket}/{key}"), e))?;
    Ok(())
}

/// The object's text; `None` when there is no such key.
pub async fn get(ctx: &AwsContext, bucket: &str, key: &str) -> Result<Option<String>, AwsError> {
    let out = match ctx.s3().get_object().bucket(bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) => {
            let err = AwsError::from_sdk("s3:GetObject", &format!("s3://{bucket}/{key}"), e);
            if err.kind == AwsErrorKind::NotFound || err.code.as_deref() == Some("NoSuchKey") {
                return Ok(None);
            }
            return Err(err);
        }
    };
    let body = out.body.collect().await.map_err(|e| {
        AwsError::new(
            "s3:GetObject",
            AwsErrorKind::Unreachable,
            format!("reading s3://{bucket}/{key}: {e}"),
        )
    })?;
    Ok(Some(
        String::from_utf8_lossy(&body.into_bytes()).into_owned(),
    ))
}

/// The "directory" names right under `prefix/` (common prefixes with the delimiter `/`).
pub async fn list_dirs(
    ctx: &AwsContext,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, AwsError> {
    let base = format!("{}/", prefix.trim_end_matches('/'));
    let mut out = Vec::new();
    let mut pages = ctx
        .s3()
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&base)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            AwsError::from_sdk("s3:ListBucket", &format!("s3://{bucket}/{base}"), e)
        })?;
        out.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .filter_map(|p| p.strip_prefix(&base))
                .map(|p| p.trim_end_matches('/').to_string()),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_keys() {
        assert_eq!(
            parse_url("s3://b/team/snaps/"),
            Some(("b".into(), "team/snaps".into()))
        );
        assert_eq!(parse_url("s3://b"), Some(("b".into(), String::new())));
        assert_eq!(parse_url("s3:///x"), None);
        assert_eq!(key("", "prod/latest"), "prod/latest");
        assert_eq!(key("p", "prod/latest"), "p/prod/latest");
    }
}
