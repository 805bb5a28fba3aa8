//! EKS bearer tokens: `k8s-aws-v1.` + base64url(presigned STS GetCallerIdentity URL).
//! Format checks as aws-iam-authenticator does them, and our own SigV4 verification of the
//! presigned URL (what STS would do), with the secret moto holds.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
pub const MAX_TOKEN_LEN: usize = 4096;
const ALLOWED_PARAMS: &[&str] = &[
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-security-token",
    "x-amz-signature",
];
/// SHA-256 of the empty payload: what botocore and aws-sigv4 sign for a presigned GET to STS.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A presigned GetCallerIdentity request that passed the format checks.
#[derive(Debug, Clone)]
pub struct Presigned {
    pub host: String,
    /// Query parameters in URL order, decoded.
    pub params: Vec<(String, String)>,
    pub access_key_id: String,
    pub scope_date: String,
    pub scope_region: String,
    pub amz_date: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
    pub session_token: Option<String>,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The partition an STS host belongs to, if it is a valid STS host.
pub fn sts_host_partition(host: &str) -> Option<&'static str> {
    if host == "sts.amazonaws.com" {
        return Some("aws");
    }
    let (region, partition) = if let Some(r) = host
        .strip_prefix("sts.")
        .and_then(|h| h.strip_suffix(".amazonaws.com.cn"))
    {
        (r, "aws-cn")
    } else if let Some(r) = host
        .strip_prefix("sts.")
        .and_then(|h| h.strip_suffix(".amazonaws.com"))
    {
        (
            r,
            if r.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            },
        )
    } else {
        return None;
    };
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !well_formed {
        return None;
    }
    match partition {
        "aws-cn" if parts[0] == "cn" => Some("aws-cn"),
        "aws" if parts[0] != "cn" => Some("aws"),
        "aws-us-gov" => Some("aws-us-gov"),
        _ => None,
    }
}

/// The partition of a region name.
pub fn region_partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Decodes the token and applies the authenticator's checks (everything but the signature).
pub fn parse_token(
    token: &str,
    cluster: &str,
    partition: &str,
    now: DateTime<Utc>,
) -> Result<Presigned, String> {
    if token.len() > MAX_TOKEN_LEN {
        return Err("token is too large".into());
    }
    let Some(b64) = token.strip_prefix(TOKEN_PREFIX) else {
        return Err("token is missing expected \"k8s-aws-v1.\" prefix".into());
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|e| format!("input token was not properly formatted: {e}"))?;
    let text = String::from_utf8(raw)
        .map_err(|_| "input token was not properly formatted: not UTF-8".to_string())?;
    let url = url::Url::parse(&text)
        .map_err(|e| format!("input token was not properly formatted: {e}"))?;
    if url.scheme() != "https" {
        return Err(format!(
            "unexpected scheme {:?} in pre-signed URL",
            url.scheme()
        ));
    }
    let host = url.host_str().unwrap_or_default().to_string();
    if url.port().is_some() || sts_host_partition(&host) != Some(partition) {
        return Err(format!(
            "unexpected hostname {:?} in pre-signed URL",
            url.authority()
        ));
    }
    if url.path() != "/" {
        return Err("unexpected path in pre-signed URL".into());
    }
    let params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for (i, (k, _)) in params.iter().enumerate() {
        let lower = k.to_ascii_lowercase();
        if !ALLOWED_PARAMS.contains(&lower.as_str()) {
            return Err(format!("non-whitelisted query parameter {k:?}"));
        }
        if params[..i].iter().any(|(o, _)| o.eq_ignore_ascii_case(k)) {
            return Err("query parameter with multiple values not supported".into());
        }
    }
    if param(&params, "Action") != Some("GetCallerIdentity") {
        return Err("unexpected action parameter in pre-signed URL".into());
    }
    let signed = param(&params, "X-Amz-SignedHeaders").unwrap_or_default();
    let signed_headers: Vec<String> = signed.split(';').map(|s| s.to_string()).collect();
    if !signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("x-k8s-aws-id"))
    {
        return Err("client did not sign the x-k8s-aws-id header in the pre-signed URL".into());
    }
    let expires: i64 = param(&params, "X-Amz-Expires")
        .ok_or("X-Amz-Expires parameter missing")?
        .parse()
        .map_err(|_| "X-Amz-Expires is not a number".to_string())?;
    if !(0..=900).contains(&expires) {
        return Err(format!("X-Amz-Expires parameter out of range: {expires}"));
    }
    let amz_date = param(&params, "X-Amz-Date")
        .ok_or("X-Amz-Date parameter missing")?
        .to_string();
    let date = NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| "X-Amz-Date is malformed".to_string())?
        .and_utc();
    if now > date + TimeDelta::minutes(15) {
        return Err("X-Amz-Date parameter is expired (15 minute expiration)".into());
    }
    if date > now + TimeDelta::minutes(15) {
        return Err("X-Amz-Date parameter is in the future".into());
    }
    if param(&params, "X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
        return Err("unsupported X-Amz-Algorithm".into());
    }
    let credential =
        param(&params, "X-Amz-Credential").ok_or("X-Amz-Credential parameter missing")?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[3] != "sts" || scope[4] != "aws4_request" {
        return Err("malformed X-Amz-Credential".into());
    }
    if !amz_date.starts_with(scope[1]) {
        return Err("credential scope date does not match X-Amz-Date".into());
    }
    let signature = param(&params, "X-Amz-Signature")
        .ok_or("X-Amz-Signature parameter missing")?
        .to_string();
    let _ = cluster;
    Ok(Presigned {
        host,
        access_key_id: scope[0].to_string(),
        scope_date: scope[1].to_string(),
        scope_region: scope[2].to_string(),
        amz_date,
        signed_headers,
        signature,
        session_token: param(&params, "X-Amz-Security-Token").map(|s| s.to_string()),
        params,
    })
}

/// RFC 3986 percent-encoding as SigV4 wants it (unreserved characters kept).
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical request STS rebuilds for the presigned GET, with the `x-k8s-aws-id` header
/// the authenticator sends (this cluster's name).
pub fn canonical_request(p: &Presigned, cluster: &str) -> Result<String, String> {
    let mut pairs: Vec<(String, String)> = p
        .params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers = String::new();
    for h in &p.signed_headers {
        let value = match h.as_str() {
            "host" => p.host.clone(),
            "x-k8s-aws-id" => cluster.to_string(),
            other => {
                return Err(format!(
                    "signed header {other:?} is not sent by the authenticator"
                ));
            }
        };
        headers.push_str(&format!("{h}:{value}\n"));
    }
    Ok(format!(
        "GET\n/\n{}\n{}\n{}\n{}",
        query.join("&"),
        headers,
        p.signed_headers.join(";"),
        EMPTY_PAYLOAD_SHA256
    ))
}

/// Computes the SigV4 signature of the presigned request for `secret`.
pub fn compute_signature(p: &Presigned, cluster: &str, secret: &str) -> Result<String, String> {
    let creq = canonical_request(p, cluster)?;
    let scope = format!("{}/{}/sts/aws4_request", p.scope_date, p.scope_region);
    let sts = format!(
        "AWS4-HMAC-SHA256\n{}\n{}\n{}",
        p.amz_date,
        scope,
        hex::encode(Sha256::digest(creq.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), p.scope_date.as_bytes());
    let k_region = hmac(&k_date, p.scope_region.as_bytes());
    let k_service = hmac(&k_region, b"sts");
    let k_signing = hmac(&k_service, b"aws4_request");
    Ok(hex::encode(hmac(&k_signing, sts.as_bytes())))
}

/// Verifies the signature; the error text is what STS would answer.
pub fn verify_signature(p: &Presigned, cluster: &str, secret: &str) -> Result<(), String> {
    let expected = compute_signature(p, cluster, secret)?;
    let given = p.signature.to_ascii_lowercase();
    let same = expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err("SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // Computed by botocore (SigV4QueryAuth, as `aws eks get-token` does) for fixed credentials.
    const BOTO_URL: &str = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261128%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261128T211901Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=6ce9a9346d0fa56a8eae2685cd4b4809ea7fdbc99d09c236dac573b965290c19";
    const BOTO_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const BOTO_URL_SESSION: &str = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20261128%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261128T211901Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FQoGZXIvYXdzEBYaD%2B%2F%3Dtok&X-Amz-Signature=164eddd7c306dd08c5c80aabd7405bebf2717525fae9caf03b9b535d7865ebbb";

    fn tok(url: &str) -> String {
        format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    fn at(min: u32, sec: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 21, min, sec)
            .single()
            .expect("valid date")
    }

    #[test]
    fn botocore_presigned_url_verifies() {
        let p = parse_token(&tok(BOTO_URL), "prod", "aws", at(20, 0)).expect("format ok");
        assert_eq!(p.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        verify_signature(&p, "prod", BOTO_SECRET).expect("signature ok");
        assert!(verify_signature(&p, "prod", "wrong").is_err());
        assert!(verify_signature(&p, "staging", BOTO_SECRET).is_err());
        let p = parse_token(&tok(BOTO_URL_SESSION), "prod", "aws", at(20, 0)).expect("format ok");
        assert_eq!(p.session_token.as_deref(), Some("FQoGZXIvYXdzEBYaD+/=tok"));
        verify_signature(&p, "prod", "secret2/abc+def").expect("signature ok");
    }

    #[test]
    fn expiry_is_fifteen_minutes_after_date() {
        assert!(parse_token(&tok(BOTO_URL), "prod", "aws", at(34, 1)).is_ok());
        let err = parse_token(&tok(BOTO_URL), "prod", "aws", at(34, 2)).expect_err("expired");
        assert!(err.contains("expired"), "{err}");
    }

    #[test]
    fn format_checks() {
        let now = at(20, 0);
        assert!(parse_token("k8s-aws-v2.abc", "prod", "aws", now).is_err());
        let padded = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE.encode(format!("{BOTO_URL}&"))
        );
        assert!(parse_token(&padded, "prod", "aws", now).is_err());
        for bad in [
            BOTO_URL.replace("https://", "http://"),
            BOTO_URL.replace("sts.us-east-1.amazonaws.com", "sts.example.com"),
            BOTO_URL.replace(
                "sts.us-east-1.amazonaws.com",
                "sts.cn-north-1.amazonaws.com.cn",
            ),
            BOTO_URL.replace(
                "sts.us-east-1.amazonaws.com/",
                "sts.us-east-1.amazonaws.com/x",
            ),
            BOTO_URL.replace("GetCallerIdentity", "AssumeRole"),
            BOTO_URL.replace("host%3Bx-k8s-aws-id", "host"),
            BOTO_URL.replace("X-Amz-Expires=60", "X-Amz-Expires=901"),
            format!("{BOTO_URL}&Foo=bar"),
            format!("{BOTO_URL}&Action=GetCallerIdentity"),
        ] {
            assert!(
                parse_token(&tok(&bad), "prod", "aws", now).is_err(),
                "{bad}"
            );
        }
        let long = format!("{TOKEN_PREFIX}{}", "A".repeat(MAX_TOKEN_LEN));
        assert!(parse_token(&long, "prod", "aws", now).is_err());
    }

    #[test]
    fn sts_hosts() {
        assert_eq!(sts_host_partition("sts.amazonaws.com"), Some("aws"));
        assert_eq!(
            sts_host_partition("sts.eu-west-1.amazonaws.com"),
            Some("aws")
        );
        assert_eq!(
            sts_host_partition("sts.cn-north-1.amazonaws.com.cn"),
            Some("aws-cn")
        );
        assert_eq!(
            sts_host_partition("sts.us-gov-west-1.amazonaws.com"),
            Some("aws-us-gov")
        );
        assert_eq!(sts_host_partition("sts.evil.com"), None);
        assert_eq!(
            sts_host_partition("sts.us-east-1.amazonaws.com.evil.com"),
            None
        );
    }
}
