//! What getting in needs from IAM and STS: the creator's trust policy and keys, who the
//! caller is as a principal, the date a principal was made (stale access entries), a role's real ARN, and
//! credentials as the creator.
//!
//! Errors are [`AppError`]s whose text is the adapter's (the same words the operator saw
//! before the ports existed).

use crate::error::AppError;
use crate::recovery::getin::Route;
use crate::recovery::plan::Interrupt;
use aws_credential_types::Credentials;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// An MFA device and its current one-time code, for AssumeRole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    pub serial: String,
    pub code: String,
}

pub trait Iam {
    /// The trust policy of role `name`; `None` when the role is gone or reading it is denied
    /// (the route is then chosen without it).
    fn role_trust_policy(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, AppError>>;
    /// The access key ids of user `name`; `None` when they cannot be listed.
    fn access_key_ids(&self, name: &str) -> impl Future<Output = Option<Vec<String>>>;
    /// When IAM user `name` was created (`None`: it does not exist).
    fn user_created(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, AppError>>;
    /// When IAM role `name` was created (`None`: it does not exist).
    fn role_created(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, AppError>>;
    /// The ARN (with its path) of IAM role `name` (`None`: it does not exist).
    fn role_arn(&self, name: &str) -> impl Future<Output = Result<Option<String>, AppError>>;
    /// AssumeRole of `role_arn` with the operator's identity (changes nothing in IAM).
    fn assume_role(
        &self,
        role_arn: &str,
        mfa: Option<&Mfa>,
    ) -> impl Future<Output = Result<Credentials, AppError>>;
    /// Credentials as the creator on `route` (the key the run created, or an AssumeRole),
    /// retried while IAM propagates, for at most `wait`; `progress` says what is waited for.
    #[allow(clippy::too_many_arguments)]
    fn acquire_credentials(
        &self,
        route: &Route,
        created_key: Option<Credentials>,
        mfa: Option<&Mfa>,
        duration: Option<Duration>,
        wait: Duration,
        interrupt: &Interrupt,
        progress: &impl Fn(&str),
    ) -> impl Future<Output = Result<Credentials, AppError>>;
}
