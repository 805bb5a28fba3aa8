//! What `cleanup` needs from the world to undo a run from its journal.
//!
//! The decisions — what the journal proves is the run's, what stays, what a rollback would
//! put back and whether that locks people out — are made in `workflow::cleanup`; this port
//! only answers who is acting, reads a saved aws-auth, and builds the runner that makes the
//! undo calls (adapter: `aws::undo::AwsUndo`).

use crate::awsauth::CallerIdentity;
use crate::error::AppError;
use crate::recovery::plan::{Interrupt, Runner};
use crate::recovery::restore::AwsAuthObject;
use std::path::PathBuf;

pub trait UndoWorld {
    /// The runner that makes the undo calls.
    type Runner<'a>: Runner
    where
        Self: 'a;

    /// The profile the cleanup acts as (printed in the command to run again).
    fn profile(&self) -> Option<&str>;
    /// Who the cleanup acts as (sts:GetCallerIdentity).
    fn caller(&self) -> impl Future<Output = Result<CallerIdentity, AppError>>;
    /// An aws-auth saved in the run directory (`file`, its bytes), as the object it holds.
    fn saved_object(&self, file: &str, bytes: &[u8]) -> Result<AwsAuthObject, String>;
    /// The runner for the run in `dir`. `kube_undo`: an undo writes aws-auth (the Kubernetes
    /// access the operator gave — a role to assume — is set up for it).
    fn runner<'a>(
        &'a self,
        dir: PathBuf,
        interrupt: Interrupt,
        status: Box<dyn Fn(&str) + 'a>,
        kube_undo: bool,
    ) -> impl Future<Output = Result<Self::Runner<'a>, AppError>>;
}
