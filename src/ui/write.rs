//! The terminal adapter of `ports::configmap::WriteUi`: stdout/stderr, the confirmation
//! prompts, the spinner and Ctrl-C, as every mutating command has them (`plan_ui`); and of
//! `Editor`: `$KUBE_EDITOR`, else `$EDITOR`, else `vi`, on a private temporary file.

use crate::cli::Globals;
use crate::error::AppError;
use crate::ports::configmap::{Decision, Editor, WriteUi};
use crate::recovery::plan::{Interrupt, Plan};
use crate::ui::plan::{self as plan_ui, Spinner};
use std::io::Write as _;

/// The operator at a terminal (or a pipeline), with the global flags.
pub struct TermUi<'g> {
    g: &'g Globals,
    spinner: Spinner,
}

impl<'g> TermUi<'g> {
    pub fn new(g: &'g Globals) -> TermUi<'g> {
        TermUi {
            g,
            spinner: Spinner::new(),
        }
    }
}

impl WriteUi for TermUi<'_> {
    fn out(&self, text: &str) {
        print!("{text}");
        let _ = std::io::stdout().flush();
    }
    fn err(&self, text: &str) {
        eprint!("{text}");
    }
    fn show_plan(&self, plan: &Plan, extra: Vec<(&str, serde_json::Value)>) {
        plan_ui::show_plan_with(self.g, plan, extra);
    }
    fn confirm(&self, changes: usize) -> Result<Decision, AppError> {
        Ok(match plan_ui::confirm(self.g, changes)? {
            plan_ui::Decision::Apply => Decision::Apply,
            plan_ui::Decision::DryRun => Decision::DryRun,
        })
    }
    fn access_gain_askable(
        &self,
        gains: &[(String, String)],
        flag_hint: &str,
    ) -> Result<(), AppError> {
        plan_ui::access_gain_askable(self.g, gains, flag_hint)
    }
    fn confirm_access_gain(
        &self,
        gains: &[(String, String)],
        flag_hint: &str,
    ) -> Result<(), AppError> {
        plan_ui::confirm_access_gain(self.g, gains, flag_hint)
    }
    fn status(&self, msg: &str) {
        self.spinner.set(msg);
    }
    fn status_done(&self) {
        self.spinner.done();
    }
    fn catch_interrupt(&self) -> Interrupt {
        plan_ui::catch_interrupt()
    }
}

/// The operator's editor on one temporary file (created on the first edit, removed on drop).
#[derive(Default)]
pub struct TermEditor {
    file: std::cell::RefCell<Option<tempfile::NamedTempFile>>,
}

impl Editor for TermEditor {
    fn edit(&self, text: &str) -> Result<String, AppError> {
        let mut file = self.file.borrow_mut();
        if file.is_none() {
            *file = Some(
                tempfile::Builder::new()
                    .prefix("aws-auth-")
                    .suffix(".yaml")
                    .tempfile()
                    .map_err(|e| {
                        AppError::failed(format!("cannot create a temporary file: {e}"), None)
                    })?,
            );
        }
        let path = match file.as_ref() {
            Some(f) => f.path().to_path_buf(),
            None => return Err(AppError::failed("no temporary file", None)),
        };
        {
            let mut f = std::fs::File::create(&path).map_err(|e| {
                AppError::failed(format!("cannot write {}: {e}", path.display()), None)
            })?;
            f.write_all(text.as_bytes()).map_err(|e| {
                AppError::failed(format!("cannot write {}: {e}", path.display()), None)
            })?;
        }
        run_editor(&path)?;
        std::fs::read_to_string(&path)
            .map_err(|e| AppError::failed(format!("cannot read {}: {e}", path.display()), None))
    }
}

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
}
