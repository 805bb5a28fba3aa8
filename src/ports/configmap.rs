//! What an aws-auth write (restore, edit) needs from the world, as small traits.
//!
//! The write engine in `workflow::restore` decides — what to write, what to refuse, what to ask,
//! what to verify — and reaches the cluster and the operator only through these ports, so that
//! its decisions can be tested with in-memory fakes. The SDK/kube adapter is
//! `aws::configmap::Session`; the terminal adapter is `ui::write::TermUi`.
//! (16b's `ports::kube` / `ports::ui` cover similar ground for recover; the lead unifies them.)

use crate::awsauth::{CallerIdentity, NodeRoleFact};
use crate::error::AppError;
use crate::recovery::plan::{Interrupt, Plan, Runner};
use crate::recovery::restore::AwsAuthObject;
use std::path::PathBuf;

/// kube-system/aws-auth as read from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveAwsAuth {
    pub object: AwsAuthObject,
    /// The version read: the write is a compare-and-swap against it.
    pub resource_version: Option<String>,
    /// The ConfigMap as read (compact JSON, for an aws-auth document of it).
    pub raw_json: String,
    /// The ConfigMap as read, as the run directory keeps it (pretty JSON, `restore --from`
    /// reads it back).
    pub saved_json: String,
}

/// Who the API server says a caller is (SelfSubjectReview).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIn {
    pub username: String,
    pub groups: Vec<String>,
}

/// Why a login failed: a 401 (the authenticator refused the identity) or anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginError {
    pub unauthorized: bool,
    pub message: String,
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One cluster's aws-auth, reached as one identity (the one the write is made as).
pub trait AwsAuthCluster {
    /// The credentials of an identity assumed for `--verify-as`.
    type Login;
    /// The plan runner that makes the write (same identity, same endpoint as the read).
    type Runner<'a>: Runner
    where
        Self: 'a;

    fn cluster(&self) -> &str;
    fn region(&self) -> &str;
    /// The profile of the caller's context (printed in the undo command).
    fn profile(&self) -> Option<&str>;
    /// The ARN of the identity used (GetCallerIdentity).
    fn caller_arn(&self) -> &str;
    fn caller_account(&self) -> &str;

    /// The live aws-auth (`None` when it does not exist).
    fn read_live(&self) -> impl Future<Output = Result<Option<LiveAwsAuth>, AppError>>;
    /// Node group and Fargate roles EKS knows of.
    fn node_roles(&self) -> impl Future<Output = Result<Vec<NodeRoleFact>, AppError>>;
    /// The ConfigMap JSON the run directory keeps for `object` (what a write sends).
    fn manifest_json(&self, object: &AwsAuthObject) -> String;

    /// Who the identity used is to the API server.
    fn whoami(&self) -> impl Future<Output = Result<LoggedIn, LoginError>>;
    /// Assumes `role` with the caller's credentials: who it is, and its credentials. The
    /// error is the whole message ("cannot assume it: …").
    fn assume(
        &self,
        role: &str,
    ) -> impl Future<Output = Result<(CallerIdentity, Self::Login), String>>;
    /// Who `login` is to the API server.
    fn whoami_as(&self, login: &Self::Login) -> impl Future<Output = Result<LoggedIn, LoginError>>;

    /// Whether `principal` has an access entry in force (the cluster's mode allows entries).
    fn has_access_entry(&self, principal: &str) -> impl Future<Output = bool>;
    /// The mappings of `mapping` an access entry shadows, each said with what the principal
    /// really gets from its entry (an entry wins over aws-auth for the same principal).
    fn shadowed(
        &self,
        mapping: &crate::awsauth::EffectiveMapping,
    ) -> impl Future<Output = Vec<String>>;
    /// The IAM principal behind an ARN (a session resolved to its role's ARN with path).
    fn resolve_principal(&self, arn: &str) -> impl Future<Output = Result<String, AppError>>;

    /// The runner for a run journaled in `dir`.
    fn runner<'a>(
        &'a self,
        dir: PathBuf,
        interrupt: Interrupt,
        status: Box<dyn Fn(&str) + 'a>,
    ) -> Self::Runner<'a>;
}

/// What the operator decided at the confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Apply,
    DryRun,
}

/// The operator: where text goes, the questions, the progress line, Ctrl-C.
pub trait WriteUi {
    /// Text on standard output.
    fn out(&self, text: &str);
    /// Text on standard error.
    fn err(&self, text: &str);
    /// The plan (stdout in text mode; in JSON mode the dry-run document with `extra` keys).
    fn show_plan(&self, plan: &Plan, extra: Vec<(&str, serde_json::Value)>);
    /// `--dry-run` stops, `--yes` goes on, a terminal is asked, otherwise exit 4.
    fn confirm(&self, changes: usize) -> Result<Decision, AppError>;
    /// Whether the access-gain consent can be asked here; otherwise the refusal (exit 4).
    fn access_gain_askable(
        &self,
        gains: &[(String, String)],
        flag_hint: &str,
    ) -> Result<(), AppError>;
    /// Asks for the access-gain consent (typed `allow`), or refuses (exit 4).
    fn confirm_access_gain(
        &self,
        gains: &[(String, String)],
        flag_hint: &str,
    ) -> Result<(), AppError>;
    /// The progress line while waiting.
    fn status(&self, msg: &str);
    /// Removes the progress line.
    fn status_done(&self);
    /// Ctrl-C, SIGTERM and SIGHUP set the returned flag instead of killing the process.
    fn catch_interrupt(&self) -> Interrupt;
}

/// The operator's text editor (`aws-auth edit`).
pub trait Editor {
    /// Opens `text` in the editor and returns the file as saved. Called again to reopen the
    /// file with the findings (the same file each time, as `kubectl edit` does).
    fn edit(&self, text: &str) -> Result<String, AppError>;
}
