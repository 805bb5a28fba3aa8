//! Talking to moto: IAM/STS query API (to build the world), `/moto-api/data.json` (to resolve
//! access keys to identities and secrets), S3 (to write trail files).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::identity::{Identity, PrincipalKind, canonicalize};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoAccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub status: String,
    pub user_name: Option<String>,
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoUser {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub path: String,
    pub account_id: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoRole {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub path: String,
    pub account_id: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoAssumedRole {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub arn: String,
    pub role_arn: String,
    pub session_name: String,
    pub user_id: String,
    pub account_id: String,
    pub partition: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoIam {
    #[serde(rename = "AccessKey")]
    pub access_keys: Vec<MotoAccessKey>,
    #[serde(rename = "User")]
    pub users: Vec<MotoUser>,
    #[serde(rename = "Role")]
    pub roles: Vec<MotoRole>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoSts {
    #[serde(rename = "AssumedRole")]
    pub assumed_roles: Vec<MotoAssumedRole>,
}

/// The part of moto's state the sim reads.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MotoSnapshot {
    pub iam: MotoIam,
    pub sts: MotoSts,
}

/// What an access key resolves to.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub identity: Identity,
    pub secret: String,
    pub session_token: Option<String>,
}

impl MotoSnapshot {
    pub fn user_by_arn(&self, arn: &str) -> Option<&MotoUser> {
        self.iam.users.iter().find(|u| u.arn == arn)
    }

    pub fn role_by_arn(&self, arn: &str) -> Option<&MotoRole> {
        self.iam.roles.iter().find(|r| r.arn == arn)
    }

    /// The unique id of an IAM user or role ARN, if it exists now.
    pub fn unique_id(&self, arn: &str) -> Option<String> {
        self.user_by_arn(arn)
            .map(|u| u.id.clone())
            .or_else(|| self.role_by_arn(arn).map(|r| r.id.clone()))
    }

    /// Resolves an access key to the identity GetCallerIdentity would return, and its secret.
    pub fn resolve_key(&self, access_key_id: &str) -> Result<KeyInfo, String> {
        if let Some(s) = self
            .sts
            .assumed_roles
            .iter()
            .find(|s| s.access_key_id == access_key_id)
        {
            let role = self
                .role_by_arn(&s.role_arn)
                .filter(|r| s.user_id.split(':').next() == Some(r.id.as_str()))
                .ok_or_else(|| {
                    format!(
                        "the role {} behind this session no longer exists",
                        s.role_arn
                    )
                })?;
            let partition = if s.partition.is_empty() {
                "aws".to_string()
            } else {
                s.partition.clone()
            };
            return Ok(KeyInfo {
                identity: Identity {
                    kind: PrincipalKind::AssumedRole,
                    arn: s.arn.clone(),
                    canonical_arn: canonicalize(&s.arn),
                    principal_arn: role.arn.clone(),
                    principal_id: role.id.clone(),
                    user_id: s.user_id.clone(),
                    account: s.account_id.clone(),
                    partition,
                    session_name: s.session_name.clone(),
                    access_key_id: access_key_id.to_string(),
                },
                secret: s.secret_access_key.clone(),
                session_token: Some(s.session_token.clone()),
            });
        }
        let key = self
            .iam
            .access_keys
            .iter()
            .find(|k| k.access_key_id == access_key_id && k.user_name.is_some())
            .ok_or_else(|| {
                "InvalidClientTokenId: The security token included in the request is invalid"
                    .to_string()
            })?;
        if key.status != "Active" {
            return Err("InvalidClientTokenId: the access key is inactive".into());
        }
        let name = key.user_name.clone().unwrap_or_default();
        let user = self
            .iam
            .users
            .iter()
            .find(|u| u.name == name)
            .ok_or_else(|| format!("the user {name} behind this access key no longer exists"))?;
        let partition = user.arn.split(':').nth(1).unwrap_or("aws").to_string();
        Ok(KeyInfo {
            identity: Identity {
                kind: PrincipalKind::IamUser,
                arn: user.arn.clone(),
                canonical_arn: user.arn.clone(),
                principal_arn: user.arn.clone(),
                principal_id: user.id.clone(),
                user_id: user.id.clone(),
                account: user.account_id.clone(),
                partition,
                session_name: String::new(),
                access_key_id: access_key_id.to_string(),
            },
            secret: key.secret_access_key.clone(),
            session_token: None,
        })
    }
}

pub struct Moto {
    pub base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    cache: Mutex<Option<(Instant, Arc<MotoSnapshot>)>>,
    cache_ttl: Duration,
    region: String,
}

/// Minimal XML text extraction for moto's query-API answers.
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

impl Moto {
    pub fn new(base: &str, region: &str, cache_ttl: Duration) -> Self {
        Moto {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            cache: Mutex::new(None),
            cache_ttl,
            region: region.to_string(),
        }
    }

    async fn send(&self, req: hyper::Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
        let resp = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .map_err(|_| format!("moto at {} did not answer within 30 s", self.base))?
            .map_err(|e| format!("cannot reach moto at {}: {e}", self.base))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading moto's answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    }

    fn auth_header(&self, service: &str) -> String {
        // moto does not check signatures; it routes by the credential scope's service.
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAEKSSIMBUILDER000/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        )
    }

    /// Calls moto's query API (IAM, STS) and returns the XML body; non-2xx answers are errors.
    pub async fn query(&self, service: &str, params: &[(&str, &str)]) -> Result<String, String> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let req = hyper::Request::post(format!("{}/", self.base))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .header("authorization", self.auth_header(service))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, body) = self.send(req).await?;
        let text = String::from_utf8_lossy(&body).into_owned();
        if !(200..300).contains(&status) {
            let code = xml_tag(&text, "Code").unwrap_or_default();
            let msg = xml_tag(&text, "Message").unwrap_or_else(|| text.clone());
            return Err(format!(
                "moto {service} {:?}: {status} {code}: {msg}",
                params.first().map(|p| p.1)
            ));
        }
        self.invalidate();
        Ok(text)
    }

    /// `PUT` an object into a moto S3 bucket (path-style); creates nothing else.
    pub async fn s3_put(&self, path: &str, body: Vec<u8>) -> Result<(), String> {
        let req = hyper::Request::put(format!("{}/{}", self.base, path.trim_start_matches('/')))
            .header("authorization", self.auth_header("s3"))
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let (status, body) = self.send(req).await?;
        if !(200..300).contains(&status) {
            return Err(format!(
                "moto S3 PUT {path}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(())
    }

    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cache.lock() {
            *c = None;
        }
    }

    /// moto's state, cached for a short time. `fresh` forces a reload.
    pub async fn snapshot(&self, fresh: bool) -> Result<Arc<MotoSnapshot>, String> {
        if !fresh
            && let Ok(c) = self.cache.lock()
            && let Some((at, snap)) = c.as_ref()
            && at.elapsed() < self.cache_ttl
        {
            return Ok(snap.clone());
        }
        let req = hyper::Request::get(format!("{}/moto-api/data.json", self.base))
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let (status, body) = self.send(req).await?;
        if status != 200 {
            return Err(format!("moto /moto-api/data.json answered {status}"));
        }
        let snap: MotoSnapshot =
            serde_json::from_slice(&body).map_err(|e| format!("moto data.json: {e}"))?;
        let snap = Arc::new(snap);
        if let Ok(mut c) = self.cache.lock() {
            *c = Some((Instant::now(), snap.clone()));
        }
        Ok(snap)
    }

    /// Resolves an access key; a key not in the cached state forces a reload (new principals).
    pub async fn resolve_key(&self, access_key_id: &str) -> Result<KeyInfo, String> {
        let snap = self.snapshot(false).await?;
        match snap.resolve_key(access_key_id) {
            Ok(k) => Ok(k),
            Err(_) => self.snapshot(true).await?.resolve_key(access_key_id),
        }
    }
}
