//! How a workflow talks to the operator without printing: text to show, the plan, the
//! confirmation, the consents asked at a terminal, and progress while waiting. The terminal
//! implementation is `crate::ui::plan::TerminalUi`; unit tests script the answers.
//!
//! The rules of consent stay in the workflow (`--yes` alone never approves an access gain);
//! the port only asks and reports what was answered.

use crate::error::AppError;
use crate::recovery::plan::{Interrupt, Plan};

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
    /// Anything but the consent was answered.
    Refused,
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
    /// The end of a dry run (the workflow decides it): says nothing was changed.
    fn dry_run_done(&self) {}
    /// `--yes` goes on; a terminal is asked; otherwise exit 4. (A dry run never gets here.)
    fn confirm(&self, changes: usize) -> Result<Decision, AppError>;
    /// From now on Ctrl-C, SIGTERM and SIGHUP set the returned flag instead of ending the
    /// process (the run undoes what it did).
    fn catch_interrupt(&self) -> Interrupt;
    /// Progress while waiting (a spinner in a terminal); `progress_done` clears it.
    fn progress(&self, message: &str);
    fn progress_done(&self);
    /// Whether questions can be asked here (a terminal on stdin and stderr). The workflow
    /// decides what needs asking; `--yes` never answers an access-gain question.
    fn can_ask(&self) -> bool;
    /// Asks, before any change (nothing to undo yet), to allow `gains` (identity, line for
    /// people): `Given` only when `allow` is typed, else `Refused`.
    fn ask_access_gain_now(&self, gains: &[(String, String)]) -> Result<Consent, AppError>;
    /// Asks at the terminal, while the run holds temporary access, to allow `gains` (`Given`
    /// only when `allow` is typed, else `Refused`; Ctrl-C/SIGTERM/SIGHUP at it: `Stopped`).
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
