//! The Kubernetes adapter: a client built from an endpoint, a CA and an EKS token.
//!
//! No kubeconfig is needed — in an incident the kubeconfig is often what is missing or wrong.
//! The endpoint and CA come from DescribeCluster (or `--api-server`/`--ca-file` for a tunnel),
//! and the token from [`crate::aws::token`], so "can this identity get in?" is answered by
//! really authenticating, with a SelfSubjectReview.

use k8s_openapi::api::authentication::v1::{SelfSubjectReview, SelfSubjectReviewStatus};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The target is a port type (the triage decides on it without this adapter).
pub use crate::ports::triage::ApiTarget;

/// What went wrong talking to the API server.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error(
        "the API server refused the token (401 Unauthorized): this identity is not mapped to any Kubernetes user"
    )]
    Unauthorized,
    #[error("forbidden (403): {0}")]
    Forbidden(String),
    #[error("conflict (409): {0}")]
    Conflict(String),
    #[error("not found (404): {0}")]
    NotFound(String),
    #[error("the change was refused: {0}")]
    Rejected(String),
    #[error("cannot reach the API server at {server}: {detail}")]
    Unreachable { server: String, detail: String },
    #[error("bad cluster CA: {0}")]
    BadCa(String),
    #[error("invalid API server URL '{0}'")]
    BadUrl(String),
    #[error("Kubernetes API error: {0}")]
    Other(String),
}

impl KubeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            KubeError::Unauthorized => Some(
                "this is the lock-out symptom: run `eks-breakglass diagnose --cluster NAME` to find a way in".into(),
            ),
            KubeError::Forbidden(_) => Some("the identity is known to the cluster but lacks RBAC rights for this".into()),
            KubeError::Conflict(_) => Some("someone changed the object meanwhile: re-read it and retry".into()),
            KubeError::Unreachable { .. } => Some(
                "a private-only endpoint is reachable only from inside the VPC: go through a bastion or tunnel \
                 and pass --api-server https://LOCAL:PORT --tls-server-name <endpoint host>"
                    .into(),
            ),
            KubeError::BadCa(_) => Some("pass the cluster CA with --ca-file, or check DescribeCluster's certificateAuthority".into()),
            _ => None,
        }
    }

    fn from_kube(server: &str, e: kube::Error) -> KubeError {
        match e {
            kube::Error::Api(status) => {
                let msg = status.message.clone();
                match status.code {
                    401 => KubeError::Unauthorized,
                    403 => KubeError::Forbidden(msg),
                    404 => KubeError::NotFound(msg),
                    409 => KubeError::Conflict(msg),
                    400 | 422 => KubeError::Rejected(msg),
                    _ => KubeError::Other(format!("{} {}: {}", status.code, status.reason, msg)),
                }
            }
            other => {
                let text = chain(&other);
                if text.contains("401") || text.to_ascii_lowercase().contains("unauthorized") {
                    KubeError::Unauthorized
                } else {
                    KubeError::Unreachable {
                        server: server.to_string(),
                        detail: text,
                    }
                }
            }
        }
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// An authenticated client for one identity.
#[derive(Clone)]
pub struct KubeClient {
    client: kube::Client,
    server: String,
}

/// Who the API server says we are (a port type: the login check's answer).
pub use crate::ports::kube::WhoAmI;

impl KubeClient {
    /// Builds a client for `target` authenticating with the bearer `token`.
    pub fn new(target: &ApiTarget, token: &str) -> Result<KubeClient, KubeError> {
        let url: http::Uri = target
            .server
            .parse()
            .map_err(|_| KubeError::BadUrl(target.server.clone()))?;
        let mut config = kube::Config::new(url);
        if let Some(pem) = &target.ca_pem {
            let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
                .map(|c| c.map(|c| c.as_ref().to_vec()))
                .collect::<Result<_, _>>()
                .map_err(|e| KubeError::BadCa(e.to_string()))?;
            if certs.is_empty() {
                return Err(KubeError::BadCa("no certificate in the PEM data".into()));
            }
            config.root_cert = Some(certs);
        }
        config.tls_server_name = target.tls_server_name.clone();
        config.auth_info.token = Some(secrecy::SecretString::from(token.to_string()));
        config.connect_timeout = Some(std::time::Duration::from_secs(10));
        config.read_timeout = Some(std::time::Duration::from_secs(30));
        config.default_namespace = "kube-system".into();
        let client = kube::Client::try_from(config).map_err(|e| KubeError::Other(chain(&e)))?;
        Ok(KubeClient {
            client,
            server: target.server.clone(),
        })
    }

    /// Authenticates and returns who the cluster thinks we are (SelfSubjectReview).
    pub async fn whoami(&self) -> Result<WhoAmI, KubeError> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let review = api
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .map_err(|e| KubeError::from_kube(&self.server, e))?;
        let info = review
            .status
            .and_then(|s: SelfSubjectReviewStatus| s.user_info)
            .unwrap_or_default();
        Ok(WhoAmI {
            username: info.username.unwrap_or_default(),
            uid: info.uid,
            groups: info.groups.unwrap_or_default(),
            extra: info.extra.unwrap_or_default().into_iter().collect(),
        })
    }

    /// Asks the API server whether this identity may `verb` the `resource` (SelfSubjectAccessReview):
    /// how admin rights are shown for identities that are not in `system:masters`, such as an
    /// access entry with AmazonEKSClusterAdminPolicy.
    pub async fn can_i(
        &self,
        verb: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<bool, KubeError> {
        use k8s_openapi::api::authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.to_string()),
                    resource: Some(resource.to_string()),
                    namespace: namespace.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| KubeError::from_kube(&self.server, e))?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }

    fn configmaps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), "kube-system")
    }

    /// Reads a ConfigMap in kube-system; `None` when it does not exist.
    pub async fn get_configmap(&self, name: &str) -> Result<Option<ConfigMap>, KubeError> {
        match self.configmaps().get_opt(name).await {
            Ok(cm) => Ok(cm),
            Err(e) => Err(KubeError::from_kube(&self.server, e)),
        }
    }

    /// Replaces a ConfigMap; the object's resourceVersion makes this a compare-and-swap (409 on
    /// a concurrent change).
    pub async fn replace_configmap(&self, cm: &ConfigMap) -> Result<ConfigMap, KubeError> {
        let name = cm.metadata.name.clone().unwrap_or_default();
        self.configmaps()
            .replace(&name, &PostParams::default(), cm)
            .await
            .map_err(|e| KubeError::from_kube(&self.server, e))
    }

    /// Creates a ConfigMap (when aws-auth was deleted).
    pub async fn create_configmap(&self, cm: &ConfigMap) -> Result<ConfigMap, KubeError> {
        self.configmaps()
            .create(&PostParams::default(), cm)
            .await
            .map_err(|e| KubeError::from_kube(&self.server, e))
    }

    /// Deletes a ConfigMap only while it is still at `resource_version` (409 otherwise): an
    /// undo must not delete a version someone wrote after the read.
    pub async fn delete_configmap_at(
        &self,
        name: &str,
        resource_version: &str,
    ) -> Result<(), KubeError> {
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                resource_version: Some(resource_version.to_string()),
                uid: None,
            }),
            ..DeleteParams::default()
        };
        self.configmaps()
            .delete(name, &dp)
            .await
            .map(|_| ())
            .map_err(|e| KubeError::from_kube(&self.server, e))
    }

    /// Deletes a ConfigMap (undo of a create).
    pub async fn delete_configmap(&self, name: &str) -> Result<(), KubeError> {
        self.configmaps()
            .delete(name, &DeleteParams::default())
            .await
            .map(|_| ())
            .map_err(|e| KubeError::from_kube(&self.server, e))
    }
}
