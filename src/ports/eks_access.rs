//! What getting in needs from EKS access entries: whether one exists for a principal, and
//! what it already carries (the grant plan adds only what is missing).

use crate::error::AppError;
use chrono::{DateTime, Utc};

/// An existing access entry, as far as the get-in decisions need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessEntryFacts {
    /// When EKS made it (a principal created after it makes it stale).
    pub created_at: Option<DateTime<Utc>>,
    pub kubernetes_groups: Vec<String>,
    /// Policies associated with cluster scope.
    pub associated: Vec<String>,
    /// Policies associated with a namespace scope only.
    pub namespace_scoped: Vec<String>,
}

pub trait EksAccess {
    /// Whether `principal` has an access entry on `cluster`.
    fn has_access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> impl Future<Output = Result<bool, AppError>>;
    /// The entry of `principal` on `cluster` with its associated policies; `None`: there is none.
    fn access_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> impl Future<Output = Result<Option<AccessEntryFacts>, AppError>>;
}
