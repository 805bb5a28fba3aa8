//! The terminal adapter of `ports::configmap::WriteUi`: stdout/stderr, the confirmation
//! prompts, the spinner and Ctrl-C, as every mutating command has them (`plan_ui`).

use crate::cli::Globals;
// merge: 16b moves plan_ui to crate::ui::plan.
use crate::commands::plan_ui::{self, Spinner};
use crate::error::AppError;
use crate::ports::configmap::{Decision, WriteUi};
use crate::recovery::plan::{Interrupt, Plan};
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
