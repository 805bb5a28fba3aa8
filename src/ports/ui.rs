//! How a workflow talks to the operator without printing: text to show, the plan, the
//! confirmation, the consents asked at a terminal, and progress while waiting. The terminal
//! implementation is `crate::ui::plan::TerminalUi`; unit tests script the answers.
//!
//! The rules of consent stay in the workflow (`--yes` alone never approves an access gain);
//! the port only asks and reports what was answered.

use crate::error::AppError;
use crate::recovery::plan::{Interrupt, Plan};
use crate::recovery::restore::Prepared;

/// What the operator decided at the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Apply,
    DryRun,
}

/// An answer to a question asked while the run holds temporary access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Given,
    /// Ctrl-C, SIGTERM or SIGHUP at the question: the run must undo what it did.
    Stopped,
}

pub trait Ui {
    /// Text for people: stdout, or stderr when stdout is JSON.
    fn say(&self, text: &str);
    /// A line on stderr (what the run is doing or did; never the result).
    fn notice(&self, text: &str);
    /// Text that is part of the result in text mode (stdout; stderr when stdout is JSON); a
    /// closed stdout is `AppError::StdoutClosed`.
    fn block(&self, text: &str) -> Result<(), AppError>;
    /// The plan, with what else a `--dry-run --output json` carries (top-level keys).
    fn show_plan(&self, plan: &Plan, extra: Vec<(&str, serde_json::Value)>);
    /// `--dry-run` stops here; `--yes` goes on; a terminal is asked; otherwise exit 4.
    fn confirm(&self, changes: usize) -> Result<Decision, AppError>;
    /// From now on Ctrl-C, SIGTERM and SIGHUP set the returned flag instead of ending the
    /// process (the run undoes what it did).
    fn catch_interrupt(&self) -> Interrupt;
    /// Progress while waiting (a spinner in a terminal); `progress_done` clears it.
    fn progress(&self, message: &str);
    fn progress_done(&self);
    /// The access-gain consent before any change: refuses NEW access that no
    /// `--allow-access-gain` in `allowed` names, asking at a terminal (said only in --dry-run).
    fn access_gate(&self, p: &Prepared, allowed: &[String]) -> Result<(), AppError>;
    /// Everything of [`Ui::access_gate`] but the question: the NEW gains still to be consented
    /// to at a terminal (empty: nothing to ask).
    fn access_gate_pending(
        &self,
        p: &Prepared,
        allowed: &[String],
    ) -> Result<Vec<(String, String)>, AppError>;
    /// Asks at the terminal to allow `gains` (only `allow` is accepted; anything else refuses
    /// with exit 4).
    fn ask_access_gain(
        &self,
        gains: &[(String, String)],
        interrupt: &Interrupt,
    ) -> impl Future<Output = Result<Consent, AppError>>;
    /// Asks to write the aws-auth just shown (`--yes` answers; a terminal is asked; otherwise
    /// exit 4).
    fn confirm_write(
        &self,
        interrupt: &Interrupt,
    ) -> impl Future<Output = Result<Consent, AppError>>;
}
