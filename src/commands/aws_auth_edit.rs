//! `aws-auth edit`: `kubectl edit` for aws-auth, minus the way it locks people out.
//!
//! `kubectl edit` saves whatever YAML the editor leaves, and the API server accepts any string
//! in `data` — so one bad indent in `mapUsers` is saved, and the authenticator drops the whole
//! section. Here the saved file is linted exactly as the authenticator reads it; while it has
//! errors it is reopened with the findings as `#` comments at the top (as `kubectl edit` does for
//! invalid objects), and nothing is written. A valid edit goes through the same write path as
//! `restore`: diff, plan, backup in the journal, compare-and-swap, verification, undo.
//! The loop and what it decides are `workflow::edit`'s; the editor is `ui::write::TermEditor`.

use crate::aws::configmap::Session;
use crate::cli::{ApiArgs, Globals, WriteArgs};
use crate::error::AppError;
use crate::ui::write::{TermEditor, TermUi};
use crate::workflow::edit::{self as wf, EditRequest};
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "The editor is $KUBE_EDITOR, else $EDITOR, else vi; it is split on whitespace like\n\
kubectl does (EDITOR=\"code --wait\" works), and the file's path is added as the last argument.\n\n\
On save, the file is linted the way EKS reads it. With errors, it is reopened with the findings\n\
as # comments at the top; save it unchanged, or empty it, to cancel. A save that changes\n\
nothing writes nothing. Node group and Fargate roles EKS knows of are put back if the edit\n\
removed them (not with --exact).\n\n\
Examples:\n  \
eks-breakglass aws-auth edit --cluster prod\n  \
KUBE_EDITOR=nano eks-breakglass aws-auth edit --cluster prod --verify-as arn:aws:iam::123456789012:role/dev-admin\n\n\
Exit codes: 0 applied (or nothing changed), 1 write refused or verification failed,\n\
3 cancelled while lint errors remained, 4 needs confirmation."
)]
pub struct EditArgs {
    /// Cluster name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// Apply even with lint errors (asks for confirmation; with --yes it does not ask)
    #[arg(long)]
    pub force: bool,
    /// Do not put back node group / Fargate roles the edit removed
    #[arg(long)]
    pub exact: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub async fn run(g: &Globals, a: &EditArgs) -> Result<u8, AppError> {
    crate::workflow::restore::check_verify_as(&a.write.verify_as)?;
    let s = Session::open(g, a.api.access(&a.cluster)).await?;
    let req = EditRequest {
        cluster: a.cluster.clone(),
        force: a.force,
        exact: a.exact,
    };
    let w = a.write.options();
    wf::edit(g, &s, &TermUi::new(g), &TermEditor::default(), &req, &w).await
}
