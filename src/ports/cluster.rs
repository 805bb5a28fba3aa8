//! The session a run acts in: the operator's own credentials, the region and partition, the
//! AWS calls made so far (for the report), and the plan runner that applies journaled steps
//! against this cluster ([`crate::recovery::plan::Runner`], implemented by the AWS adapter).

use crate::error::AppError;
use crate::recovery::plan::{Interrupt, Runner};
use aws_credential_types::Credentials;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a run needs of the plan runner beyond applying and undoing steps.
pub trait RunnerExt: Runner {
    /// The newest access key a step of this run created, with its secret.
    fn last_created_key(&self) -> Option<Credentials>;
    /// Kubernetes objects are written as `creds` from now on (the identity that got in).
    fn act_as(&mut self, creds: Credentials);
}

pub trait Session {
    type Runner<'r>: RunnerExt
    where
        Self: 'r;
    /// The operator's own credentials.
    fn credentials(&self) -> impl Future<Output = Result<Credentials, AppError>>;
    fn region(&self) -> &str;
    fn partition(&self) -> &str;
    /// The `--profile` the run acts as (said in the commands it prints).
    fn profile(&self) -> Option<&str>;
    /// AWS calls so far, by service.
    fn call_counts(&self) -> BTreeMap<String, usize>;
    /// A runner for a run journaled in `dir`.
    fn runner<'r>(&'r self, dir: PathBuf, interrupt: Interrupt) -> Self::Runner<'r>;
    /// Writes a file of the run directory only the operator can read (0600), atomically (the
    /// incident report). The local disk unless a fake says otherwise.
    fn write_private(&self, path: &Path, body: &[u8]) -> std::io::Result<()> {
        crate::kubeconfig::write_private_atomic(path, body)
    }
}
