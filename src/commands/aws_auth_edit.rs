//! `aws-auth edit`: `kubectl edit` for aws-auth, minus the way it locks people out.
//!
//! `kubectl edit` saves whatever YAML the editor leaves, and the API server accepts any string
//! in `data` — so one bad indent in `mapUsers` is saved, and the authenticator drops the whole
//! section. Here the saved file is linted exactly as the authenticator reads it; while it has
//! errors it is reopened with the findings as `#` comments at the top (as `kubectl edit` does for
//! invalid objects), and nothing is written. A valid edit goes through the same write path as
//! `restore`: diff, plan, backup in the journal, compare-and-swap, verification, undo.

use super::aws_auth::format_finding_shifted;
use crate::aws::configmap::Session;
use crate::awsauth::{self, RenderOptions};
use crate::cli::Globals;
use crate::cli::{ApiArgs, WriteArgs};
use crate::error::AppError;
use crate::exit;
use crate::ports::configmap::AwsAuthCluster as _;
use crate::recovery::restore::{self, AwsAuthObject, Candidate};
use crate::ui::write::TermUi;
use crate::workflow::restore as wf;
use clap::Args;
use std::io::Write as _;

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

const HEADER: &str = "\
# Please edit the object below. Lines beginning with a '#' at the top will be ignored,
# and an empty file will abort the edit. If lint finds errors, this file will be
# reopened with them. kube-system/aws-auth is linted the way EKS's authenticator reads it.
#
";

/// The editor command: `$KUBE_EDITOR`, `$EDITOR`, `vi`, split on whitespace.
pub fn editor_command() -> Vec<String> {
    choose_editor(
        std::env::var("KUBE_EDITOR").ok(),
        std::env::var("EDITOR").ok(),
    )
}

/// The first of `kube_editor`, `editor` that names a command (split on whitespace, as kubectl
/// does), else `vi`.
pub fn choose_editor(kube_editor: Option<String>, editor: Option<String>) -> Vec<String> {
    for v in [kube_editor, editor].into_iter().flatten() {
        let parts: Vec<String> = v.split_whitespace().map(str::to_string).collect();
        if !parts.is_empty() {
            return parts;
        }
    }
    vec!["vi".to_string()]
}

/// The file without the `#` comment lines at its top.
pub fn strip_header(text: &str) -> String {
    let mut lines = text.split_inclusive('\n').peekable();
    while lines
        .peek()
        .is_some_and(|l| l.trim_start().starts_with('#'))
    {
        lines.next();
    }
    lines.collect()
}

fn comment_block(title: &str, body: &str) -> String {
    let mut out = String::from(HEADER);
    out.push_str(&format!("# {title}\n#\n"));
    for l in body.lines() {
        out.push_str(&format!("# {l}\n"));
    }
    out.push_str("#\n");
    out
}

fn run_editor(path: &std::path::Path) -> Result<(), AppError> {
    let cmd = editor_command();
    let status = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .arg(path)
        .status()
        .map_err(|e| {
            AppError::usage(
                format!("cannot start the editor {}: {e}", cmd.join(" ")),
                Some("set KUBE_EDITOR or EDITOR to an editor that is installed".to_string()),
            )
        })?;
    if !status.success() {
        return Err(AppError::failed(
            format!(
                "the editor {} exited with {status}; nothing was changed",
                cmd.join(" ")
            ),
            None,
        ));
    }
    Ok(())
}

/// What the editing loop ended with.
enum Edited {
    Cancelled { with_errors: bool },
    Object(Candidate),
}

pub async fn run(g: &Globals, a: &EditArgs) -> Result<u8, AppError> {
    wf::check_verify_as(&a.write.verify_as)?;
    let s = Session::open(g, a.api.access(&a.cluster)).await?;
    let live = s.read_live().await?;
    let node_roles = s.node_roles().await?;
    let original = match &live {
        Some(cm) => {
            let doc = wf::live_document(&a.cluster, cm)?;
            awsauth::render(&doc, &awsauth::load(&doc), RenderOptions { clean: true })
        }
        None => "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    []\n".to_string(),
    };
    let live_obj = live.as_ref().map(|l| l.object.clone());
    let file = tempfile::Builder::new()
        .prefix("aws-auth-")
        .suffix(".yaml")
        .tempfile()
        .map_err(|e| AppError::failed(format!("cannot create a temporary file: {e}"), None))?;
    let path = file.path().to_path_buf();
    let mut buffer = format!("{HEADER}{original}");
    let mut last_body = original.clone();
    let mut had_errors = false;
    let edited = loop {
        {
            let mut f = std::fs::File::create(&path).map_err(|e| {
                AppError::failed(format!("cannot write {}: {e}", path.display()), None)
            })?;
            f.write_all(buffer.as_bytes()).map_err(|e| {
                AppError::failed(format!("cannot write {}: {e}", path.display()), None)
            })?;
        }
        run_editor(&path)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AppError::failed(format!("cannot read {}: {e}", path.display()), None))?;
        let body = strip_header(&text);
        if body.trim().is_empty() || body == last_body {
            break Edited::Cancelled {
                with_errors: had_errors,
            };
        }
        last_body = body.clone();
        let doc = match awsauth::read_document("edited aws-auth", body.as_bytes()) {
            Ok(d) => d,
            Err(e) => {
                had_errors = true;
                buffer = format!(
                    "{}{body}",
                    comment_block(
                        "The edited file is not an aws-auth ConfigMap:",
                        &e.to_string()
                    )
                );
                continue;
            }
        };
        let candidate = match restore::candidate_from_document(&doc) {
            Ok(c) => c,
            Err(e) => {
                had_errors = true;
                buffer = format!(
                    "{}{body}",
                    comment_block("The edited file cannot be saved:", &e.to_string())
                );
                continue;
            }
        };
        let analysis = awsauth::analyze(&doc, &awsauth::ClusterFacts::default());
        if analysis.errors() > 0 && !a.force {
            had_errors = true;
            let errors: Vec<&awsauth::Finding> = analysis
                .findings
                .iter()
                .filter(|f| f.severity == awsauth::Severity::Error)
                .collect();
            let title = format!(
                "{} lint error(s): EKS would drop what they point at. Nothing was saved. Line numbers are those of this file.",
                analysis.errors()
            );
            // The findings go above the object, so they point that many lines further down:
            // the numbers are those of the file the editor shows (the count of lines does not
            // depend on the numbers, so one pass at offset 0 measures the block).
            let render = |offset: usize| -> String {
                errors
                    .iter()
                    .map(|f| format_finding_shifted(&doc, f, offset))
                    .collect()
            };
            let block_lines = comment_block(&title, &render(0)).lines().count();
            let findings = render(block_lines);
            eprint!("{findings}");
            eprintln!("{} lint error(s): reopening the file", analysis.errors());
            buffer = format!("{}{body}", comment_block(&title, &findings));
            continue;
        }
        break Edited::Object(candidate);
    };
    let candidate = match edited {
        Edited::Cancelled { with_errors } => {
            let msg = if with_errors {
                "Edit cancelled: the errors remain; nothing was changed."
            } else {
                "Edit cancelled, no changes made."
            };
            if g.json() {
                println!(
                    "{}",
                    serde_json::json!({"changed": false, "cancelled": true, "errors": with_errors})
                );
            } else {
                println!("{msg}");
            }
            return Ok(if with_errors {
                exit::FINDINGS
            } else {
                exit::OK
            });
        }
        Edited::Object(c) => c,
    };
    if let Some(lo) = &live_obj {
        let probe = restore::prepare(Some(lo), candidate.clone(), &node_roles, true, false);
        if probe.unchanged {
            println!("Edit saved without changes to the object: nothing was written.");
            return Ok(exit::OK);
        }
    }
    let exact = a.exact;
    let origin = candidate.origin.clone();
    let edited = candidate.object;
    // After a 409 the edit is carried over to the new version key by key (see `rebase`).
    let make = move |live: Option<&AwsAuthObject>| {
        let object = restore::rebase(live_obj.as_ref(), &edited, live);
        let candidate = Candidate {
            origin: origin.clone(),
            object,
            named: Vec::new(),
        };
        restore::prepare(live, candidate, &node_roles, exact, false)
    };
    wf::write(
        g,
        &s,
        &TermUi::new(g),
        "aws-auth edit",
        live,
        make,
        &a.write.options(),
        a.force,
        wf::AccessGate::Off,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_is_kube_editor_then_editor_then_vi_split_on_whitespace() {
        assert_eq!(
            choose_editor(Some("code --wait".into()), Some("nano".into())),
            vec!["code", "--wait"]
        );
        assert_eq!(
            choose_editor(Some("  ".into()), Some("nano".into())),
            vec!["nano"]
        );
        assert_eq!(choose_editor(None, None), vec!["vi"]);
    }

    #[test]
    fn header_is_stripped_and_comments_prefixed() {
        let block = comment_block("2 lint error(s)", "error[AA001]: x\n --> f:1:1");
        assert!(block.lines().all(|l| l.starts_with('#')));
        let body = "apiVersion: v1\n# kept: not at the top\n";
        assert_eq!(strip_header(&format!("{block}{body}")), body);
    }
}
