//! EKS bearer tokens: a SigV4-presigned STS `GetCallerIdentity` URL, as `aws eks get-token` makes.
//!
//! The EKS authenticator calls that URL on the caller's behalf and learns who signed it. So the
//! token is built offline from credentials alone — no network call — which is also why this is
//! fast enough to be kubectl's exec plugin. The rules the server checks (and this code keeps):
//! `https`, the regional STS host of the partition, only the presign query parameters,
//! `X-Amz-Expires=60`, and the header `x-k8s-aws-id: <cluster>` signed.

use super::partition;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use std::time::{Duration, SystemTime};

/// The prefix every EKS token starts with.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The signed header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// How long the presigned URL itself claims to be valid (what `aws eks get-token` uses).
pub const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);
/// EKS accepts a token for 15 minutes after its X-Amz-Date; kubectl is told 14, to refresh early.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// A token and when kubectl should stop using it.
#[derive(Debug, Clone)]
pub struct EksToken {
    pub token: String,
    pub expiration: DateTime<Utc>,
}

/// Why no token could be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cluster name must not be empty")]
    EmptyCluster,
    #[error(transparent)]
    Region(#[from] partition::InvalidRegion),
    #[error("could not sign the token: {0}")]
    Sign(String),
}

impl TokenError {
    pub fn hint(&self) -> Option<String> {
        match self {
            TokenError::EmptyCluster => Some("pass --cluster NAME".into()),
            TokenError::Region(e) => Some(match e.suggestion {
                Some(s) => format!("did you mean --region {s}?"),
                None => "pass a region such as --region us-east-1".into(),
            }),
            TokenError::Sign(_) => None,
        }
    }
}

/// Presigns the token URL for `cluster` in `region` with `credentials`, as of `now`.
pub fn presign_url(
    credentials: &Credentials,
    region: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<String, TokenError> {
    if cluster.is_empty() {
        return Err(TokenError::EmptyCluster);
    }
    partition::validate_region(region)?;
    let host = partition::sts_host(region);
    let base = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::Sign(e.to_string()))?
        .into();
    let headers = [("host", host.as_str()), (CLUSTER_ID_HEADER, cluster)];
    let request = SignableRequest::new(
        "GET",
        base.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::Sign(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| TokenError::Sign(e.to_string()))?
        .into_parts();
    let mut url = base;
    for (name, value) in instructions.params() {
        url.push('&');
        url.push_str(name);
        url.push('=');
        url.push_str(&percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string());
    }
    Ok(url)
}

/// Characters escaped in query values: everything but SigV4's unreserved set.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Makes the bearer token for `cluster`.
pub fn make_token(
    credentials: &Credentials,
    region: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<EksToken, TokenError> {
    let url = presign_url(credentials, region, cluster, now)?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes())
    );
    let expiration = DateTime::<Utc>::from(now + TOKEN_LIFETIME);
    Ok(EksToken { token, expiration })
}

/// The `client.authentication.k8s.io` API versions kubectl may ask for.
pub const EXEC_API_V1: &str = "client.authentication.k8s.io/v1";
pub const EXEC_API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// Picks the ExecCredential apiVersion from `KUBERNETES_EXEC_INFO`, as `aws eks get-token` does:
/// v1 or v1beta1 when named there, v1beta1 otherwise. The second value is a warning to print.
pub fn exec_api_version(exec_info: Option<&str>) -> (&'static str, Option<String>) {
    let Some(raw) = exec_info.filter(|s| !s.trim().is_empty()) else {
        return (EXEC_API_V1BETA1, None);
    };
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(raw);
    match parsed {
        Err(_) => (
            EXEC_API_V1BETA1,
            Some("KUBERNETES_EXEC_INFO is not valid JSON; using client.authentication.k8s.io/v1beta1".into()),
        ),
        Ok(v) => match v.get("apiVersion").and_then(|a| a.as_str()) {
            Some(EXEC_API_V1) => (EXEC_API_V1, None),
            Some(EXEC_API_V1BETA1) => (EXEC_API_V1BETA1, None),
            Some(other) => (
                EXEC_API_V1BETA1,
                Some(format!(
                    "KUBERNETES_EXEC_INFO asks for unsupported apiVersion {other}; using {EXEC_API_V1BETA1}"
                )),
            ),
            None => (EXEC_API_V1BETA1, None),
        },
    }
}

/// The ExecCredential document kubectl reads from the plugin's stdout.
pub fn exec_credential_json(token: &EksToken, api_version: &str) -> String {
    let doc = serde_json::json!({
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {},
        "status": {
            "expirationTimestamp": token.expiration.to_rfc3339_opts(SecondsFormat::Secs, true),
            "token": token.token,
        }
    });
    doc.to_string()
}

/// Decodes a token back to its URL (for tests and `diagnose`).
pub fn decode_token(token: &str) -> Option<String> {
    let b64 = token.strip_prefix(TOKEN_PREFIX)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "test",
        )
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn url_has_exactly_the_presign_parameters() {
        let url = presign_url(
            &creds(Some("SESSION/TOKEN+x=")),
            "eu-west-1",
            "prod",
            at(1_700_000_000),
        )
        .unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.scheme(), "https");
        assert_eq!(parsed.host_str(), Some("sts.eu-west-1.amazonaws.com"));
        assert_eq!(parsed.path(), "/");
        let mut names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "Action",
                "Version",
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Date",
                "X-Amz-Expires",
                "X-Amz-Security-Token",
                "X-Amz-Signature",
                "X-Amz-SignedHeaders"
            ]
        );
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["X-Amz-Expires"], "60");
        assert_eq!(q["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        assert_eq!(q["X-Amz-Date"], "20231114T221320Z");
        assert_eq!(
            q["X-Amz-Credential"],
            "AKIDEXAMPLE/20231114/eu-west-1/sts/aws4_request"
        );
        assert_eq!(q["X-Amz-Security-Token"], "SESSION/TOKEN+x=");
    }

    #[test]
    fn no_session_token_no_parameter() {
        let url = presign_url(&creds(None), "us-east-1", "prod", at(1_700_000_000)).unwrap();
        assert!(!url.contains("X-Amz-Security-Token"));
    }

    #[test]
    fn token_round_trips_and_is_unpadded() {
        let t = make_token(&creds(None), "us-east-1", "prod", at(1_700_000_000)).unwrap();
        assert!(t.token.starts_with(TOKEN_PREFIX));
        assert!(!t.token.contains('='));
        let url = decode_token(&t.token).unwrap();
        assert!(url.starts_with("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity"));
        assert_eq!(t.expiration.timestamp(), 1_700_000_000 + 14 * 60);
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(matches!(
            presign_url(&creds(None), "us-east-1", "", at(0)),
            Err(TokenError::EmptyCluster)
        ));
        assert!(matches!(
            presign_url(&creds(None), "useast1", "x", at(0)),
            Err(TokenError::Region(_))
        ));
    }

    #[test]
    fn exec_info_selects_api_version() {
        assert_eq!(exec_api_version(None).0, EXEC_API_V1BETA1);
        assert_eq!(
            exec_api_version(Some(
                r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}"#
            ))
            .0,
            EXEC_API_V1
        );
        let (v, warn) = exec_api_version(Some(
            r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
        ));
        assert_eq!(v, EXEC_API_V1BETA1);
        assert!(warn.is_some());
        assert!(exec_api_version(Some("{nope")).1.is_some());
    }

    #[test]
    fn exec_credential_shape() {
        let t = EksToken {
            token: "k8s-aws-v1.abc".into(),
            expiration: DateTime::<Utc>::from(at(1_700_000_000)),
        };
        let v: serde_json::Value =
            serde_json::from_str(&exec_credential_json(&t, EXEC_API_V1BETA1)).unwrap();
        assert_eq!(v["kind"], "ExecCredential");
        assert_eq!(v["apiVersion"], EXEC_API_V1BETA1);
        assert_eq!(v["spec"], serde_json::json!({}));
        assert_eq!(v["status"]["expirationTimestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(v["status"]["token"], "k8s-aws-v1.abc");
    }
}
