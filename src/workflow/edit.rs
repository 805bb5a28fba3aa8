//! `aws-auth edit`: `kubectl edit` for aws-auth, minus the way it locks people out.
//!
//! `kubectl edit` saves whatever YAML the editor leaves, and the API server accepts any string
//! in `data` — so one bad indent in `mapUsers` is saved, and the authenticator drops the whole
//! section. Here the saved file is linted exactly as the authenticator reads it; while it has
//! errors it is reopened with the findings as `#` comments at the top (as `kubectl edit` does for
//! invalid objects), and nothing is written. A valid edit goes through the same write engine as
//! `restore` ([`super::restore::write`]), with no access-gain gate: the operator wrote every line.

use super::restore::{AccessGate, WriteOptions, live_document, write};
use crate::awsauth::{self, RenderOptions};
use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use crate::ports::configmap::{AwsAuthCluster, Editor, WriteUi};
use crate::recovery::restore::{self, AwsAuthObject, Candidate};
// merge: 16a moves finding rendering out of commands/aws_auth.rs.
use crate::ui::awsauth::format_finding_shifted;

/// What `aws-auth edit` was asked.
#[derive(Debug, Clone, Default)]
pub struct EditRequest {
    pub cluster: String,
    /// Apply even with lint errors.
    pub force: bool,
    /// Do not put back node group / Fargate roles the edit removed.
    pub exact: bool,
}

pub const HEADER: &str = "\
# Please edit the object below. Lines beginning with a '#' at the top will be ignored,
# and an empty file will abort the edit. If lint finds errors, this file will be
# reopened with them. kube-system/aws-auth is linted the way EKS's authenticator reads it.
#
";

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

pub fn comment_block(title: &str, body: &str) -> String {
    let mut out = String::from(HEADER);
    out.push_str(&format!("# {title}\n#\n"));
    for l in body.lines() {
        out.push_str(&format!("# {l}\n"));
    }
    out.push_str("#\n");
    out
}

/// What the editing loop ended with.
enum Edited {
    Cancelled { with_errors: bool },
    Object(Candidate),
}

pub async fn edit<C: AwsAuthCluster, U: WriteUi, E: Editor>(
    g: &Globals,
    c: &C,
    ui: &U,
    editor: &E,
    a: &EditRequest,
    w: &WriteOptions,
) -> Result<u8, AppError> {
    let live = c.read_live().await?;
    let node_roles = c.node_roles().await?;
    let original = match &live {
        Some(l) => {
            let doc = live_document(&a.cluster, l)?;
            awsauth::render(&doc, &awsauth::load(&doc), RenderOptions { clean: true })
        }
        None => "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    []\n".to_string(),
    };
    let live_obj = live.as_ref().map(|l| l.object.clone());
    let mut buffer = format!("{HEADER}{original}");
    let mut last_body = original.clone();
    let mut had_errors = false;
    let edited = loop {
        let text = editor.edit(&buffer)?;
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
            ui.err(&findings);
            ui.err(&format!(
                "{} lint error(s): reopening the file\n",
                analysis.errors()
            ));
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
                ui.out(&format!(
                    "{}\n",
                    serde_json::json!({"changed": false, "cancelled": true, "errors": with_errors})
                ));
            } else {
                ui.out(&format!("{msg}\n"));
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
            ui.out("Edit saved without changes to the object: nothing was written.\n");
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
    write(
        g,
        c,
        ui,
        "aws-auth edit",
        live,
        make,
        w,
        a.force,
        AccessGate::Off,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_stripped_and_comments_prefixed() {
        let block = comment_block("2 lint error(s)", "error[AA001]: x\n --> f:1:1");
        assert!(block.lines().all(|l| l.starts_with('#')));
        let body = "apiVersion: v1\n# kept: not at the top\n";
        assert_eq!(strip_header(&format!("{block}{body}")), body);
    }
}

#[cfg(test)]
mod flow_tests {
    //! The editing loop with a fake editor (the saves it returns, in order) and the fake
    //! cluster of the restore tests.
    use super::*;
    use crate::ports::configmap::Decision;
    use crate::workflow::fake_ui::FakeUi;
    use crate::workflow::restore::tests::{DEV, FakeCluster, OPS, roles, yes};
    use std::cell::RefCell;

    /// Returns the given saves in order, and remembers what it was shown.
    struct FakeEditor {
        saves: RefCell<Vec<String>>,
        shown: RefCell<Vec<String>>,
    }

    impl FakeEditor {
        fn saving(saves: &[String]) -> FakeEditor {
            FakeEditor {
                saves: RefCell::new(saves.iter().rev().cloned().collect()),
                shown: RefCell::default(),
            }
        }
    }

    impl Editor for FakeEditor {
        fn edit(&self, text: &str) -> Result<String, AppError> {
            self.shown.borrow_mut().push(text.to_string());
            Ok(self
                .saves
                .borrow_mut()
                .pop()
                .unwrap_or_else(|| text.to_string()))
        }
    }

    fn yaml(map_roles: &str) -> String {
        let indented: String = map_roles.lines().map(|l| format!("    {l}\n")).collect();
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{indented}"
        )
    }

    async fn run(c: &FakeCluster, ui: &FakeUi, editor: &FakeEditor) -> Result<u8, AppError> {
        let dir = tempfile::tempdir().unwrap();
        let w = WriteOptions {
            journal_dir: Some(dir.path().join("run")),
            ..Default::default()
        };
        let req = EditRequest {
            cluster: "prod".into(),
            ..Default::default()
        };
        edit(&yes(), c, ui, editor, &req, &w).await
    }

    #[tokio::test]
    async fn a_save_with_lint_errors_is_reopened_with_them_and_never_written() {
        let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
        let ui = FakeUi::new(Decision::Apply);
        let bad = yaml(&format!(
            "- rolearn: {DEV}\n  username: dev\n  groups: system:masters\n"
        ));
        // Saved with an error, then saved again unchanged: cancelled with the errors.
        let editor = FakeEditor::saving(&[bad.clone(), bad]);
        assert_eq!(run(&c, &ui, &editor).await.unwrap(), exit::FINDINGS);
        assert!(c.written.borrow().is_empty());
        let shown = editor.shown.borrow();
        assert_eq!(shown.len(), 2);
        assert!(shown[1].starts_with(HEADER) && shown[1].contains("lint error(s)"));
        assert!(
            ui.out
                .borrow()
                .contains("Edit cancelled: the errors remain")
        );
    }

    #[tokio::test]
    async fn a_valid_edit_is_written_without_an_access_gain_gate() {
        let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
        let ui = FakeUi::new(Decision::Apply);
        let good = yaml(&format!(
            "- rolearn: {OPS}\n  username: ops\n  groups:\n  - system:masters\n- rolearn: {DEV}\n  username: dev\n  groups:\n  - system:masters\n"
        ));
        let editor = FakeEditor::saving(&[good]);
        assert_eq!(
            run(&c, &ui, &editor).await.unwrap(),
            exit::OK,
            "{}",
            ui.err.borrow()
        );
        assert_eq!(c.written.borrow().len(), 1);
    }

    #[tokio::test]
    async fn an_unchanged_or_emptied_file_cancels() {
        let c = FakeCluster::with(Some(roles(&[(OPS, "system:masters")])));
        let ui = FakeUi::new(Decision::Apply);
        let editor = FakeEditor::saving(&[String::new()]);
        assert_eq!(run(&c, &ui, &editor).await.unwrap(), exit::OK);
        assert!(c.written.borrow().is_empty());
        assert!(ui.out.borrow().contains("Edit cancelled, no changes made."));
    }
}
