//! What the tool knows about one EKS cluster, read from DescribeCluster.
//!
//! Kept apart from the SDK's types so that the domain (creator discovery, recovery plans, audit)
//! can reason about a cluster without depending on the adapter.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// EKS authentication modes; changes are one-way: CONFIG_MAP -> API_AND_CONFIG_MAP -> API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthMode {
    ConfigMap,
    ApiAndConfigMap,
    Api,
}

impl AuthMode {
    pub fn parse(s: &str) -> Option<AuthMode> {
        match s {
            "CONFIG_MAP" => Some(AuthMode::ConfigMap),
            "API_AND_CONFIG_MAP" => Some(AuthMode::ApiAndConfigMap),
            "API" => Some(AuthMode::Api),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ConfigMap => "CONFIG_MAP",
            AuthMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthMode::Api => "API",
        }
    }

    /// Whether access entries are honoured in this mode.
    pub fn allows_access_entries(self) -> bool {
        !matches!(self, AuthMode::ConfigMap)
    }

    /// Whether aws-auth is read in this mode.
    pub fn reads_aws_auth(self) -> bool {
        !matches!(self, AuthMode::Api)
    }
}

/// One cluster, as DescribeCluster reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterFacts {
    pub name: String,
    pub arn: String,
    pub region: String,
    pub status: Option<String>,
    pub version: Option<String>,
    pub platform_version: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The API server URL.
    pub endpoint: Option<String>,
    /// The cluster CA, PEM (decoded from DescribeCluster's base64).
    #[serde(skip)]
    pub ca_pem: Option<Vec<u8>>,
    pub endpoint_public_access: Option<bool>,
    pub endpoint_private_access: Option<bool>,
    /// `None` on clusters that predate access entries (treated as CONFIG_MAP).
    pub auth_mode: Option<AuthMode>,
    /// `Some(false)` means the creator has no implicit admin.
    pub bootstrap_creator_admin: Option<bool>,
    pub tags: BTreeMap<String, String>,
}

impl ClusterFacts {
    /// The effective authentication mode (clusters without accessConfig behave as CONFIG_MAP).
    pub fn effective_auth_mode(&self) -> AuthMode {
        self.auth_mode.unwrap_or(AuthMode::ConfigMap)
    }

    /// True when only a private endpoint exists: reachable from inside the VPC only.
    pub fn private_only(&self) -> bool {
        self.endpoint_public_access == Some(false) && self.endpoint_private_access == Some(true)
    }
}
