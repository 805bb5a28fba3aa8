//! Talking to moto.
//!
//! * Identity and existence come from moto's IAM query API (GetUser, ListAccessKeys, GetRole),
//!   asked at authentication time (cached for a moment, dropped on any IAM/STS change seen).
//! * Secrets: moto's `/moto-api/data.json` lists every access key and STS session with its
//!   secret, but it also keeps deleted principals and answers 500 as soon as an IAM user has
//!   been deleted (moto 5.2.5: `User.group_list` raises for a deleted user). So the sim also
//!   learns secrets from every CreateAccessKey / AssumeRole / GetSessionToken answer that passes
//!   through it: its own world building and its IAM/STS pass-through proxy (see `forward`).
//!   Secrets of an access key id never change, so what was learnt stays valid.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::identity::{Identity, PrincipalKind, arn_parts, canonicalize, principal_name};
use crate::state::lock;

/// What the sim knows about an access key id.
#[derive(Debug, Clone, Default)]
pub struct KnownKey {
    pub secret: String,
    pub session_token: Option<String>,
    /// Long-term key of this IAM user.
    pub user_name: Option<String>,
    /// Role session: the role ARN (with path), the session ARN and `AROA…:session`.
    pub role_arn: Option<String>,
    pub assumed_arn: Option<String>,
    pub assumed_id: Option<String>,
    /// GetSessionToken credentials: the long-term key they were made from.
    pub parent_key: Option<String>,
    /// Temporary credentials: when STS said they expire.
    pub expiration: Option<chrono::DateTime<chrono::Utc>>,
    /// GetSessionToken credentials made with SerialNumber + TokenCode.
    pub session_mfa: bool,
    /// GetFederationToken credentials: the federated user's ARN and id (`ACCOUNT:name`).
    pub federated: Option<(String, String)>,
}

fn expiration_of(xml: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    xml_tag(xml, "Expiration")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// What an access key resolves to.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub identity: Identity,
    pub secret: String,
    pub session_token: Option<String>,
    /// Temporary credentials: when they expire.
    pub expiration: Option<chrono::DateTime<chrono::Utc>>,
    /// Long-term key: the user it belongs to.
    pub user_name: Option<String>,
    /// GetSessionToken credentials made without MFA: IAM refuses them ("You cannot call any IAM
    /// API operations unless MFA authentication information is included in the request", STS
    /// API reference, GetSessionToken).
    pub session_without_mfa: bool,
    /// GetFederationToken credentials: no IAM call, no STS call but GetCallerIdentity (IAM
    /// User Guide, "Compare AWS STS credentials").
    pub federated: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DataAccessKey {
    access_key_id: String,
    secret_access_key: String,
    user_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DataAssumedRole {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    arn: String,
    role_arn: String,
    user_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DataIam {
    #[serde(rename = "AccessKey")]
    access_keys: Vec<DataAccessKey>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DataSts {
    #[serde(rename = "AssumedRole")]
    assumed_roles: Vec<DataAssumedRole>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DataJson {
    iam: DataIam,
    sts: DataSts,
}

pub struct Moto {
    pub base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    keys: Mutex<HashMap<String, KnownKey>>,
    ids: Mutex<HashMap<String, (Instant, KeyInfo)>>,
    cache_ttl: Duration,
    region: String,
    /// (MFA serial, one-time code) pairs STS has already accepted: AWS accepts a TOTP code
    /// once ("MultiFactorAuthentication failed with invalid MFA one time pass code" on reuse,
    /// aws/aws-cli#2279); moto accepts any code any number of times.
    used_mfa_codes: Mutex<std::collections::HashSet<(String, String)>>,
}

/// Minimal XML text extraction for moto's query-API answers (first occurrence).
pub fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#43;", "+")
            .replace("&amp;", "&"),
    )
}

/// All `<AccessKeyId>` blocks of a ListAccessKeys answer, with their status.
fn listed_keys(xml: &str) -> Vec<(String, String)> {
    xml.split("<member>")
        .skip(1)
        .filter_map(|m| {
            Some((
                xml_tag(m, "AccessKeyId")?,
                xml_tag(m, "Status").unwrap_or_default(),
            ))
        })
        .collect()
}

/// The access key id in a SigV4 `Authorization` header.
pub fn header_access_key(auth: &str) -> Option<&str> {
    auth.split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .filter(|k| !k.is_empty())
}

/// (service, action) of a query-API request (from its parameters and credential scope).
pub fn query_action(params: &[(String, String)], auth: Option<&str>) -> (String, String) {
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let service = auth
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .map(|s| s.to_string())
        .unwrap_or_else(|| {
            if action.starts_with("AssumeRole")
                || action.starts_with("GetCallerIdentity")
                || action.starts_with("GetSessionToken")
            {
                "sts".into()
            } else {
                "iam".into()
            }
        });
    (service, action)
}

/// The (serial, code) of an STS call that presents an MFA one-time code.
fn mfa_code(params: &[(String, String)], auth: Option<&str>) -> Option<(String, String)> {
    let (_, action) = query_action(params, auth);
    if !matches!(action.as_str(), "AssumeRole" | "GetSessionToken") {
        return None;
    }
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some((param("SerialNumber")?, param("TokenCode")?))
}

/// STS's answer to a one-time code presented again.
fn mfa_reused() -> (u16, hyper::HeaderMap, Bytes) {
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/xml"),
    );
    let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>MultiFactorAuthentication failed with invalid MFA one time pass code. </Message></Error><RequestId>eks-sim-mfa-reused</RequestId></ErrorResponse>";
    (403, headers, Bytes::from(body))
}

fn is_mutation(action: &str) -> bool {
    !(action.starts_with("Get") || action.starts_with("List"))
}

impl Moto {
    pub fn new(base: &str, region: &str, cache_ttl: Duration) -> Self {
        Moto {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            keys: Mutex::new(HashMap::new()),
            ids: Mutex::new(HashMap::new()),
            cache_ttl,
            region: region.to_string(),
            used_mfa_codes: Mutex::new(std::collections::HashSet::new()),
        }
    }

    async fn send(
        &self,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
        let resp = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .map_err(|_| format!("moto at {} did not answer within 30 s", self.base))?
            .map_err(|e| format!("cannot reach moto at {}: {e}", self.base))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading moto's answer: {e}"))?
            .to_bytes();
        Ok((status, headers, body))
    }

    fn auth_header(&self, service: &str) -> String {
        // moto does not check signatures; it routes by the credential scope's service.
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAEKSSIMBUILDER000/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        )
    }

    /// Learns credentials from a successful query-API answer; drops cached identities on changes.
    pub fn observe(&self, params: &[(String, String)], auth: Option<&str>, xml: &str) {
        let (_, action) = query_action(params, auth);
        let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let learned = match action.as_str() {
            "CreateAccessKey" => xml_tag(xml, "AccessKeyId")
                .zip(xml_tag(xml, "SecretAccessKey"))
                .map(|(id, secret)| {
                    (
                        id,
                        KnownKey {
                            secret,
                            user_name: xml_tag(xml, "UserName"),
                            ..Default::default()
                        },
                    )
                }),
            "AssumeRole" | "AssumeRoleWithWebIdentity" | "AssumeRoleWithSAML" => {
                xml_tag(xml, "AccessKeyId")
                    .zip(xml_tag(xml, "SecretAccessKey"))
                    .map(|(id, secret)| {
                        (
                            id,
                            KnownKey {
                                secret,
                                session_token: xml_tag(xml, "SessionToken"),
                                role_arn: param("RoleArn"),
                                assumed_arn: xml_tag(xml, "Arn"),
                                assumed_id: xml_tag(xml, "AssumedRoleId"),
                                expiration: expiration_of(xml),
                                ..Default::default()
                            },
                        )
                    })
            }
            "GetSessionToken" | "GetFederationToken" => xml_tag(xml, "AccessKeyId")
                .zip(xml_tag(xml, "SecretAccessKey"))
                .map(|(id, secret)| {
                    (
                        id,
                        KnownKey {
                            secret,
                            session_token: xml_tag(xml, "SessionToken"),
                            parent_key: auth.and_then(header_access_key).map(|s| s.to_string()),
                            expiration: expiration_of(xml),
                            session_mfa: action == "GetSessionToken"
                                && param("SerialNumber").is_some()
                                && param("TokenCode").is_some(),
                            federated: (action == "GetFederationToken")
                                .then(|| xml_tag(xml, "Arn").zip(xml_tag(xml, "FederatedUserId")))
                                .flatten(),
                            ..Default::default()
                        },
                    )
                }),
            _ => None,
        };
        if let Some((id, k)) = learned {
            lock(&self.keys).insert(id, k);
        }
        if is_mutation(&action) {
            lock(&self.ids).clear();
        }
    }

    /// Calls moto's query API (IAM, STS) and returns the XML body; non-2xx answers are errors
    /// `"<Code>: <Message>"`.
    pub async fn query(&self, service: &str, params: &[(&str, &str)]) -> Result<String, String> {
        self.query_in(None, service, params).await
    }

    /// [`Moto::query`] in another moto account (`x-moto-account-id`; default: moto's own).
    pub async fn query_in(
        &self,
        account: Option<&str>,
        service: &str,
        params: &[(&str, &str)],
    ) -> Result<String, String> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let auth = self.auth_header(service);
        let mut builder = hyper::Request::post(format!("{}/", self.base))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .header("authorization", &auth);
        if let Some(a) = account {
            builder = builder.header("x-moto-account-id", a);
        }
        let req = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, _, body) = self.send(req).await?;
        let text = String::from_utf8_lossy(&body).into_owned();
        if !(200..300).contains(&status) {
            let code = xml_tag(&text, "Code").unwrap_or_default();
            let msg = xml_tag(&text, "Message").unwrap_or_else(|| text.clone());
            return Err(format!("{code}: {msg}"));
        }
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.observe(&owned, Some(&auth), &text);
        Ok(text)
    }

    /// Calls a JSON 1.1 API of moto (e.g. Organizations: target
    /// `AWSOrganizationsV20161128.CreateAccount`) as the management (moto's default) account.
    pub async fn json_call(
        &self,
        service: &str,
        target: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let req = hyper::Request::post(format!("{}/", self.base))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .header("authorization", self.auth_header(service))
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let (status, _, body) = self.send(req).await?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(format!(
                "{target}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(v)
    }

    /// Passes a request through to moto unchanged (the IAM/STS proxy) and learns from it.
    pub async fn forward(
        &self,
        req: &crate::http::Req,
    ) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
        let query = if req.query.is_empty() {
            String::new()
        } else {
            format!(
                "?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&req.query)
                    .finish()
            )
        };
        let mut builder = hyper::Request::builder()
            .method(req.method.clone())
            .uri(format!("{}{}{query}", self.base, req.path));
        for (k, v) in &req.headers {
            if k != hyper::header::HOST
                && k != hyper::header::CONTENT_LENGTH
                && k != hyper::header::CONNECTION
            {
                builder = builder.header(k, v);
            }
        }
        let out = builder
            .body(Full::new(req.body.clone()))
            .map_err(|e| e.to_string())?;
        let mut params = req.query.clone();
        params.extend(
            url::form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
        // The code is consumed by the first call that presents it (reserved atomically, so two
        // concurrent calls cannot both pass) and given back only if moto refused the call.
        let mfa = mfa_code(&params, req.header("authorization"));
        if let Some(m) = &mfa
            && !lock(&self.used_mfa_codes).insert(m.clone())
        {
            return Ok(mfa_reused());
        }
        let release = || {
            if let Some(m) = &mfa {
                lock(&self.used_mfa_codes).remove(m);
            }
        };
        let (status, headers, body) = match self.send(out).await {
            Ok(r) => r,
            Err(e) => {
                release();
                return Err(e);
            }
        };
        if !(200..300).contains(&status) {
            release();
        } else {
            self.observe(
                &params,
                req.header("authorization"),
                &String::from_utf8_lossy(&body),
            );
        }
        Ok((status, headers, body))
    }

    /// `PUT` an object (or, with an empty path below the bucket, the bucket) into moto's S3.
    pub async fn s3_put(&self, path: &str, body: Vec<u8>) -> Result<(), String> {
        let req = hyper::Request::put(format!("{}/{}", self.base, path.trim_start_matches('/')))
            .header("authorization", self.auth_header("s3"))
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, _, body) = self.send(req).await?;
        if !(200..300).contains(&status) {
            return Err(format!(
                "moto S3 PUT {path}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    /// CreateBucket in moto's S3. Outside us-east-1 S3 needs the Region as a
    /// LocationConstraint (without it: `IllegalLocationConstraintException`).
    pub async fn s3_create_bucket(&self, bucket: &str, region: &str) -> Result<(), String> {
        let body = if region == "us-east-1" {
            Vec::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
            )
            .into_bytes()
        };
        self.s3_put(bucket, body).await
    }

    /// Learns secrets from `/moto-api/data.json` when moto can produce it.
    async fn learn_from_data_json(&self) -> Result<(), String> {
        let req = hyper::Request::get(format!("{}/moto-api/data.json", self.base))
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let (status, _, body) = self.send(req).await?;
        if status != 200 {
            return Err(format!(
                "moto's /moto-api/data.json answered {status} (moto cannot list its state once an IAM user has been deleted); \
                 keys created since then are known to eks-sim only when created through its IAM/STS endpoint"
            ));
        }
        let data: DataJson =
            serde_json::from_slice(&body).map_err(|e| format!("moto data.json: {e}"))?;
        let mut keys = lock(&self.keys);
        for k in data.iam.access_keys {
            if let Some(user) = k.user_name {
                keys.entry(k.access_key_id).or_insert(KnownKey {
                    secret: k.secret_access_key,
                    user_name: Some(user),
                    ..Default::default()
                });
            }
        }
        for s in data.sts.assumed_roles {
            keys.entry(s.access_key_id).or_insert(KnownKey {
                secret: s.secret_access_key,
                session_token: Some(s.session_token),
                role_arn: Some(s.role_arn),
                assumed_arn: Some(s.arn),
                assumed_id: Some(s.user_id),
                ..Default::default()
            });
        }
        Ok(())
    }

    async fn known(&self, akid: &str) -> Result<KnownKey, String> {
        if let Some(k) = lock(&self.keys).get(akid).cloned() {
            return Ok(k);
        }
        let learned = self.learn_from_data_json().await;
        if let Some(k) = lock(&self.keys).get(akid).cloned() {
            return Ok(k);
        }
        Err(match learned {
            Ok(()) => "InvalidClientTokenId: The security token included in the request is invalid"
                .to_string(),
            Err(e) => format!("InvalidClientTokenId: unknown access key {akid}: {e}"),
        })
    }

    /// The current (ARN, unique id) of an IAM user or role ARN, if it exists now with that ARN.
    pub async fn principal(&self, arn: &str) -> Result<Option<(String, String)>, String> {
        let Some(name) = principal_name(arn) else {
            return Ok(None);
        };
        let (action, key, id_tag) = if arn.contains(":user/") {
            ("GetUser", "UserName", "UserId")
        } else if arn.contains(":role/") {
            ("GetRole", "RoleName", "RoleId")
        } else {
            return Ok(None);
        };
        let account = arn_parts(arn)
            .map(|p| p.3.to_string())
            .filter(|a| !a.is_empty());
        match self
            .query_in(
                account.as_deref(),
                "iam",
                &[("Action", action), ("Version", "2010-05-08"), (key, name)],
            )
            .await
        {
            Ok(xml) => {
                let found_arn = xml_tag(&xml, "Arn").unwrap_or_default();
                let id = xml_tag(&xml, id_tag).unwrap_or_default();
                Ok((found_arn == arn).then_some((found_arn, id)))
            }
            Err(e) if e.starts_with("NoSuchEntity") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Resolves an access key to the identity STS GetCallerIdentity would return, and its secret.
    pub async fn resolve_key(&self, akid: &str) -> Result<KeyInfo, String> {
        if let Some((at, info)) = lock(&self.ids).get(akid).cloned()
            && at.elapsed() < self.cache_ttl
        {
            return Ok(info);
        }
        let info = self.resolve_uncached(akid, 0).await?;
        lock(&self.ids).insert(akid.to_string(), (Instant::now(), info.clone()));
        Ok(info)
    }

    async fn resolve_uncached(&self, akid: &str, depth: u8) -> Result<KeyInfo, String> {
        let k = self.known(akid).await?;
        if let Some(role_arn) = &k.role_arn {
            let name = principal_name(role_arn).unwrap_or_default().to_string();
            // The role lives in the account its ARN names (a member account after a
            // cross-account AssumeRole); moto answers for that account with x-moto-account-id.
            let role_account = arn_parts(role_arn)
                .map(|p| p.3.to_string())
                .filter(|a| !a.is_empty());
            let xml = match self
                .query_in(
                    role_account.as_deref(),
                    "iam",
                    &[
                        ("Action", "GetRole"),
                        ("Version", "2010-05-08"),
                        ("RoleName", &name),
                    ],
                )
                .await
            {
                Ok(x) => x,
                Err(e) if e.starts_with("NoSuchEntity") => {
                    return Err(format!(
                        "the role {role_arn} behind this session no longer exists"
                    ));
                }
                Err(e) => return Err(e),
            };
            let role_id = xml_tag(&xml, "RoleId").unwrap_or_default();
            let current_arn = xml_tag(&xml, "Arn").unwrap_or_default();
            let assumed_id = k.assumed_id.clone().unwrap_or_default();
            if assumed_id.split(':').next() != Some(role_id.as_str()) {
                return Err(format!(
                    "the role {role_arn} was deleted and recreated since this session was issued"
                ));
            }
            let assumed_arn = k.assumed_arn.clone().unwrap_or_default();
            let (partition, account) = arn_parts(&current_arn)
                .map(|p| (p.0.to_string(), p.3.to_string()))
                .unwrap_or_default();
            let session = assumed_id
                .split_once(':')
                .map(|x| x.1.to_string())
                .unwrap_or_default();
            return Ok(KeyInfo {
                identity: Identity {
                    kind: PrincipalKind::AssumedRole,
                    canonical_arn: canonicalize(&assumed_arn),
                    arn: assumed_arn,
                    principal_arn: current_arn,
                    principal_id: role_id,
                    user_id: assumed_id,
                    account,
                    partition,
                    session_name: session,
                    access_key_id: akid.to_string(),
                },
                secret: k.secret,
                session_token: k.session_token,
                expiration: k.expiration,
                user_name: None,
                session_without_mfa: false,
                federated: false,
            });
        }
        if let Some(parent) = &k.parent_key {
            if depth > 0 {
                return Err("nested session credentials".into());
            }
            let p = Box::pin(self.resolve_uncached(parent, depth + 1)).await?;
            let mut identity = p.identity;
            identity.access_key_id = akid.to_string();
            if let Some((arn, id)) = &k.federated {
                // A federated user is its own principal (`arn:…:sts::A:federated-user/NAME`):
                // nothing made for the IAM user behind it (access entry, aws-auth, trust)
                // names it.
                identity.arn = arn.clone();
                identity.canonical_arn = arn.clone();
                identity.principal_arn = arn.clone();
                identity.principal_id = id.clone();
                identity.user_id = id.clone();
            }
            return Ok(KeyInfo {
                identity,
                secret: k.secret,
                session_token: k.session_token,
                expiration: k.expiration,
                user_name: None,
                session_without_mfa: k.federated.is_none() && !k.session_mfa,
                federated: k.federated.is_some(),
            });
        }
        let Some(user) = &k.user_name else {
            return Err("access key without an owner".into());
        };
        let xml = match self
            .query(
                "iam",
                &[
                    ("Action", "GetUser"),
                    ("Version", "2010-05-08"),
                    ("UserName", user),
                ],
            )
            .await
        {
            Ok(x) => x,
            Err(e) if e.starts_with("NoSuchEntity") => {
                return Err(format!(
                    "InvalidClientTokenId: the user {user} behind this access key no longer exists"
                ));
            }
            Err(e) => return Err(e),
        };
        let arn = xml_tag(&xml, "Arn").unwrap_or_default();
        let user_id = xml_tag(&xml, "UserId").unwrap_or_default();
        let keys_xml = self
            .query(
                "iam",
                &[
                    ("Action", "ListAccessKeys"),
                    ("Version", "2010-05-08"),
                    ("UserName", user),
                ],
            )
            .await?;
        match listed_keys(&keys_xml)
            .into_iter()
            .find(|(id, _)| id == akid)
        {
            Some((_, status)) if status == "Active" => {}
            Some(_) => return Err("InvalidClientTokenId: the access key is inactive".into()),
            None => return Err("InvalidClientTokenId: the access key was deleted".into()),
        }
        let (partition, account) = arn_parts(&arn)
            .map(|p| (p.0.to_string(), p.3.to_string()))
            .unwrap_or_default();
        Ok(KeyInfo {
            identity: Identity {
                kind: PrincipalKind::IamUser,
                arn: arn.clone(),
                canonical_arn: arn.clone(),
                principal_arn: arn,
                principal_id: user_id.clone(),
                user_id,
                account,
                partition,
                session_name: String::new(),
                access_key_id: akid.to_string(),
            },
            secret: k.secret,
            session_token: None,
            expiration: None,
            user_name: Some(user.clone()),
            session_without_mfa: false,
            federated: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_helpers() {
        let xml = "<ListAccessKeysResult><AccessKeyMetadata><member><UserName>a</UserName><AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status></member><member><AccessKeyId>AKIA2</AccessKeyId><Status>Inactive</Status></member></AccessKeyMetadata></ListAccessKeysResult>";
        assert_eq!(
            listed_keys(xml),
            vec![
                ("AKIA1".to_string(), "Active".to_string()),
                ("AKIA2".to_string(), "Inactive".to_string())
            ]
        );
        assert_eq!(
            xml_tag("<S>a&amp;b&#43;c</S>", "S").as_deref(),
            Some("a&b+c")
        );
        assert_eq!(
            header_access_key(
                "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/iam/aws4_request, SignedHeaders=host"
            ),
            Some("AKIAX")
        );
    }

    #[test]
    fn an_mfa_code_is_recognised_on_assume_role_and_get_session_token_only() {
        let p = |action: &str| {
            vec![
                ("Action".to_string(), action.to_string()),
                (
                    "SerialNumber".to_string(),
                    "arn:aws:iam::1:mfa/x".to_string(),
                ),
                ("TokenCode".to_string(), "123456".to_string()),
            ]
        };
        assert!(mfa_code(&p("AssumeRole"), None).is_some());
        assert!(mfa_code(&p("GetSessionToken"), None).is_some());
        assert!(mfa_code(&p("GetCallerIdentity"), None).is_none());
        assert_eq!(mfa_reused().0, 403);
    }

    #[test]
    fn observes_created_keys_and_sessions() {
        let m = Moto::new(
            "http://127.0.0.1:1",
            "us-east-1",
            Duration::from_millis(100),
        );
        let p = |a: &str| {
            vec![
                ("Action".to_string(), a.to_string()),
                ("RoleArn".to_string(), "arn:aws:iam::1:role/p/r".to_string()),
            ]
        };
        m.observe(&p("CreateAccessKey"), None, "<AccessKey><UserName>u</UserName><AccessKeyId>AKIA1</AccessKeyId><SecretAccessKey>s1</SecretAccessKey></AccessKey>");
        m.observe(&p("AssumeRole"), None, "<Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s2</SecretAccessKey><SessionToken>t</SessionToken></Credentials><AssumedRoleUser><AssumedRoleId>AROA1:x</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/x</Arn></AssumedRoleUser>");
        let keys = lock(&m.keys);
        assert_eq!(keys["AKIA1"].user_name.as_deref(), Some("u"));
        assert_eq!(
            keys["ASIA1"].role_arn.as_deref(),
            Some("arn:aws:iam::1:role/p/r")
        );
        assert_eq!(keys["ASIA1"].assumed_id.as_deref(), Some("AROA1:x"));
    }
}
