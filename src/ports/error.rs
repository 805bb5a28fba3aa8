//! The error every port returns: an AWS call (or the way to it) that failed, classified.
//!
//! Why here and not in `aws/`: the domain decides on the *kind* of failure (a refusal is a
//! finding — "allow iam:GetRole" —, missing credentials end the search), so the type belongs to
//! the contract between the domain and the adapters, not to the SDK side. Only the adapters
//! build it from SDK errors (`AwsError::from_sdk` in `aws/mod.rs`); fakes build it with
//! [`AwsError::new`].

use std::error::Error as StdError;
use std::fmt;

/// What kind of failure AWS (or the way to it) reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwsErrorKind {
    /// The caller lacks an IAM permission.
    AccessDenied,
    /// No credentials could be found.
    NoCredentials,
    /// Credentials were found but are expired or invalid.
    BadCredentials,
    /// The named resource does not exist.
    NotFound,
    /// AWS throttled us beyond what retries absorbed.
    Throttled,
    /// AWS refused the request's parameters.
    InvalidInput,
    /// The request never got an answer (DNS, TLS, timeout, connection refused).
    Unreachable,
    /// Anything else AWS said.
    Service,
}

/// An AWS call that failed, with the IAM action it needed and a hint that names the fix.
#[derive(Debug)]
pub struct AwsError {
    /// IAM action, e.g. `eks:DescribeCluster`.
    pub action: String,
    pub kind: AwsErrorKind,
    /// AWS's error code, when it gave one.
    pub code: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The SDK error behind it (set by the adapters).
    pub(crate) source: Option<Box<dyn StdError + Send + Sync>>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            AwsErrorKind::AccessDenied => {
                write!(f, "access denied: {} ({})", self.action, self.message)
            }
            // Pseudo-actions ("credentials", "configuration") are not IAM actions: just say it.
            _ if !self.action.contains(':') || self.kind == AwsErrorKind::NotFound => {
                write!(f, "{}", self.message)
            }
            _ => write!(f, "{} failed: {}", self.action, self.message),
        }
    }
}

impl StdError for AwsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl AwsError {
    pub fn new(action: &str, kind: AwsErrorKind, message: impl Into<String>) -> Self {
        AwsError {
            action: action.to_string(),
            kind,
            code: None,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// True when the error comes from what the user typed rather than from AWS's state.
    pub fn is_usage(&self) -> bool {
        matches!(self.kind, AwsErrorKind::InvalidInput)
    }
}
