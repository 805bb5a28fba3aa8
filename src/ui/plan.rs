//! What every mutating command shares: printing a plan, asking for confirmation, Ctrl-C, the
//! run directory, the spinner, and verification by authenticating to the cluster.
//!
//! Kept in one place so that `grant`, `assume-creator`, `cleanup` (and later `restore` and
//! `recover`) behave the same way at the moments that matter: before the first change, while
//! waiting on AWS, and when the operator presses Ctrl-C.

use crate::aws::AwsContext;
use crate::aws::plan_runner::AwsRunner;
use crate::cli::Globals;
use crate::cluster::ClusterFacts;
use crate::error::AppError;
use crate::k8s::ApiTarget;
use crate::ports::ui::{Consent, Ui};
use crate::recovery::journal::Event;
use crate::recovery::journal::Journal;
use crate::recovery::plan::{self, Applied, Interrupt, Outcome, Plan};
use aws_credential_types::Credentials;
use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::workflow::rundir::{
    cleanup_command, journal_io, run_dir, start_journal, undo_lines,
};

pub use crate::ports::ui::Decision;

/// Prints the plan: on stdout in text mode, on stderr in JSON mode (stdout is the result).
pub fn show_plan(g: &Globals, plan: &Plan) {
    show_plan_with(g, plan, Vec::new());
}

/// [`show_plan`], with what else a `--dry-run --output json` must carry for a pipeline to judge
/// the plan (the aws-auth access diff, the who-gets-in prediction): top-level keys next to
/// `plan`.
pub fn show_plan_with(g: &Globals, plan: &Plan, extra: Vec<(&str, serde_json::Value)>) {
    if g.json() {
        if g.dry_run {
            let mut v = serde_json::json!({"dry_run": true, "plan": plan});
            if let Some(o) = v.as_object_mut() {
                for (k, x) in extra {
                    o.insert(k.to_string(), x);
                }
            }
            println!("{v}");
        } else {
            eprint!("{}", plan.render());
        }
    } else {
        print!("{}", plan.render());
        let _ = std::io::stdout().flush();
    }
}

/// `--dry-run` stops here; `--yes` goes on; a terminal is asked; otherwise exit 4.
pub fn confirm(g: &Globals, changes: usize) -> Result<Decision, AppError> {
    if g.dry_run {
        if !g.json() {
            println!("\n(dry run: nothing was changed)");
        }
        return Ok(Decision::DryRun);
    }
    if g.yes {
        return Ok(Decision::Apply);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(AppError::NeedsConfirmation(format!(
            "the plan above makes {changes} change(s) and no terminal is attached to confirm them"
        )));
    }
    eprint!("\nApply these {changes} change(s)? Only 'yes' is accepted ('no' stops): ");
    loop {
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| AppError::failed(format!("cannot read the answer: {e}"), None))?;
        match answer_of(&answer, read == 0) {
            Answer::Yes => return Ok(Decision::Apply),
            Answer::No => {
                return Err(AppError::failed(
                    "not confirmed: nothing was changed",
                    Some("re-run and answer 'yes', or pass --yes".to_string()),
                ));
            }
            // A typo at 3 a.m. should not throw the plan away: ask again.
            Answer::Again => {
                eprint!("Please type 'yes' to apply these {changes} change(s), or 'no' to stop: ")
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    Again,
}

/// Only `yes` applies; `no`/`n` (or the end of input) stops; anything else asks again.
fn answer_of(line: &str, end_of_input: bool) -> Answer {
    if end_of_input {
        return Answer::No;
    }
    match line.trim().to_ascii_lowercase().as_str() {
        "yes" => Answer::Yes,
        "no" | "n" => Answer::No,
        _ => Answer::Again,
    }
}

/// The separate consent for NEW access (an identity let in, or given more, than the live
/// aws-auth names): `--yes` never gives it; a terminal is asked to type `allow` after seeing
/// each gain; otherwise exit 4 naming each gain still without consent and the flags that name
/// them (`flag_hint` is put before them in the message, e.g. other flags the re-run needs).
/// `gains` are (identity, line for people).
pub fn confirm_access_gain(
    g: &Globals,
    gains: &[(String, String)],
    flag_hint: &str,
) -> Result<(), AppError> {
    if g.yes || !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(access_gain_refusal(gains, flag_hint));
    }
    ask_access_gain(gains);
    let answer = read_answer()?;
    if answer.trim() == "allow" {
        Ok(())
    } else {
        Err(access_gain_refusal(gains, flag_hint))
    }
}

/// Whether the access-gain consent can be asked for here (a terminal, no --yes); otherwise
/// the refusal (exit 4).
pub fn access_gain_askable(
    g: &Globals,
    gains: &[(String, String)],
    flag_hint: &str,
) -> Result<(), AppError> {
    if g.yes || !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        Err(access_gain_refusal(gains, flag_hint))
    } else {
        Ok(())
    }
}

pub use crate::workflow::getin::{access_gain_refusal, consent_flags};

/// Prints the access-gain question, each gain on its own line.
pub fn ask_access_gain(gains: &[(String, String)]) {
    let list = gains
        .iter()
        .map(|(_, l)| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    eprint!(
        "\nThe new aws-auth grants NEW access:\n{list}\nType 'allow' to grant each of these (anything else stops, nothing changed): "
    );
    let _ = std::io::stderr().flush();
}

/// An answer typed at a prompt, or the signal that stopped the wait.
#[derive(Debug)]
pub enum Typed {
    Line(String),
    /// Ctrl-C, SIGTERM or SIGHUP while waiting: the caller undoes what the run did.
    Stopped,
}

/// Reads one line from the terminal while the run holds temporary access: the read happens on
/// its own thread, so that Ctrl-C (the run's interrupt flag), SIGTERM and SIGHUP end the wait
/// and the caller can take its undo path instead of the process dying with a live key (a
/// blocking read would swallow Ctrl-C and SIGTERM would kill the process outright).
pub async fn read_answer_interruptible(interrupt: &Interrupt) -> Result<Typed, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_answer());
    });
    let stop = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(mut term), Ok(mut hup)) => {
                    tokio::select! {
                        _ = interrupt.wait() => {}
                        _ = term.recv() => {}
                        _ = hup.recv() => {}
                    }
                }
                _ => interrupt.wait().await,
            }
        }
        #[cfg(not(unix))]
        interrupt.wait().await;
    };
    tokio::select! {
        r = rx => match r {
            Ok(r) => r.map(Typed::Line),
            Err(_) => Err(AppError::failed("cannot read the answer", None)),
        },
        () = stop => {
            eprintln!();
            Ok(Typed::Stopped)
        }
    }
}

/// Ctrl-C — and SIGTERM and SIGHUP, which a closed terminal, `kill` or a CI timeout send — set
/// the returned flag instead of killing the process, so that the current step finishes, the
/// journal stays consistent and temporary keys are deleted. A second signal is only reported.
pub fn catch_interrupt() -> Interrupt {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = Interrupt::new();
    let i = interrupt.clone();
    let term = signal(SignalKind::terminate());
    let hup = signal(SignalKind::hangup());
    tokio::spawn(async move {
        let (mut term, mut hup) = (term.ok(), hup.ok());
        loop {
            let name = tokio::select! {
                r = tokio::signal::ctrl_c() => match r {
                    Ok(()) => "interrupt",
                    Err(_) => break,
                },
                Some(()) = async { match term.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => "SIGTERM",
                Some(()) = async { match hup.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => "SIGHUP",
            };
            if i.is_set() {
                eprintln!("\n{name}: still finishing the current step and undoing; please wait");
            } else {
                eprintln!("\n{name}: finishing the current step, then undoing this run's changes");
            }
            i.trigger();
        }
    });
    interrupt
}

/// A spinner on stderr while waiting (drawn only when stderr is a terminal). It appears on
/// the first message and disappears with [`Spinner::done`], so that it never draws over a
/// prompt or the plan.
#[derive(Default)]
pub struct Spinner(std::cell::RefCell<Option<indicatif::ProgressBar>>);

impl Spinner {
    pub fn new() -> Spinner {
        Spinner::default()
    }

    pub fn set(&self, msg: &str) {
        let mut bar = self.0.borrow_mut();
        let pb = bar.get_or_insert_with(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        pb.set_message(msg.to_string());
    }

    pub fn done(&self) {
        if let Some(pb) = self.0.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.done();
    }
}

pub use crate::ports::kube::Verification;

/// Authenticates to the cluster as `creds` (a token made locally, the endpoint and CA from
/// DescribeCluster) and asks who it is; retries 401s until `timeout` (IAM and access entries
/// take a moment to propagate).
pub async fn verify(
    facts: &ClusterFacts,
    creds: &Credentials,
    timeout: Duration,
    interrupt: &Interrupt,
    spinner: &Spinner,
) -> Verification {
    let Some(server) = facts.endpoint.clone() else {
        return Verification::Failed {
            error: format!("cluster {} has no API endpoint", facts.name),
        };
    };
    let target = ApiTarget {
        server,
        ca_pem: facts.ca_pem.clone(),
        tls_server_name: None,
    };
    verify_at(&target, facts, creds, timeout, interrupt, spinner).await
}

/// [`verify`] against an explicit API target (a tunnel: `--api-server`, `--tls-server-name`).
pub async fn verify_at(
    target: &ApiTarget,
    facts: &ClusterFacts,
    creds: &Credentials,
    timeout: Duration,
    interrupt: &Interrupt,
    spinner: &Spinner,
) -> Verification {
    crate::aws::ports::verify_at(target, facts, creds, timeout, interrupt, &|m: &str| {
        spinner.set(m)
    })
    .await
}

pub use crate::workflow::rundir::undo_json;

/// A run that cannot go on (`e`): when interrupted, undone like any Ctrl-C; otherwise
/// everything it changed is undone (said after `why`, when given). Returns the error to end
/// with (the undo's own, if it failed to run).
pub async fn abandon(
    run: Option<&mut Run<'_>>,
    interrupted: bool,
    why: Option<&str>,
    e: AppError,
) -> AppError {
    let Some(r) = run else { return e };
    if interrupted {
        return r.interrupted().await;
    }
    if let Some(why) = why {
        eprintln!("{why}");
    }
    match r.undo_everything("failed").await {
        Ok(lines) => {
            for l in lines {
                eprintln!("{l}");
            }
            e
        }
        Err(undo) => undo,
    }
}

/// A plan being applied: its run directory, journal and runner, and the steps that ran.
pub struct Run<'a> {
    pub dir: PathBuf,
    pub journal: Journal,
    pub runner: AwsRunner<'a>,
    /// Steps whose changes are in place, in order.
    pub applied: Vec<Applied>,
    /// Ids and other non-secret facts each step produced.
    pub facts: BTreeMap<u32, BTreeMap<String, String>>,
    /// The `--profile` the run acts as, for the commands it prints.
    pub profile: Option<String>,
}

/// Confirms, journals and applies `plan` the way every mutating command does. `Ok(None)` on a
/// dry run (or an empty plan). When a step fails, temporary keys are deleted, the rest stays
/// (undoable), and the error names the action AWS denied and the `cleanup` command; on Ctrl-C
/// the current step finishes and everything the run did is undone (exit 130).
pub async fn apply_plan<'a>(
    g: &Globals,
    ctx: &'a AwsContext,
    plan: &Plan,
    journal_dir: Option<&Path>,
    caller: &str,
    interrupt: &Interrupt,
    spinner: &'a Spinner,
) -> Result<Option<Run<'a>>, AppError> {
    if plan.is_empty() || confirm(g, plan.steps.len())? == Decision::DryRun {
        return Ok(None);
    }
    let dir = run_dir(journal_dir, &plan.command, &plan.cluster)?;
    let journal = start_journal(&dir, plan, caller, ctx.profile.as_deref())?;
    eprintln!("journal: {}", dir.display());
    let status = Box::new(move |m: &str| spinner.set(m)) as Box<dyn Fn(&str) + 'a>;
    let runner = AwsRunner::new(ctx, dir.clone(), interrupt.clone(), status);
    let mut run = Run {
        dir,
        journal,
        runner,
        applied: Vec::new(),
        facts: BTreeMap::new(),
        profile: ctx.profile.clone(),
    };
    let report = plan::apply(plan, &mut run.journal, &mut run.runner, interrupt)
        .await
        .map_err(|e| journal_io(&run.dir, e))?;
    spinner.done();
    run.applied = report.applied;
    run.facts = report.facts;
    match report.outcome {
        Outcome::Applied => Ok(Some(run)),
        Outcome::Interrupted { .. } => Err(run.interrupted().await),
        Outcome::Failed { step, error } => {
            let lines = run.end(false, "failed").await?;
            for l in lines {
                eprintln!("{l}");
            }
            let denied = error
                .denied_action
                .as_deref()
                .map(|a| format!(" (AWS denied {a})"))
                .unwrap_or_default();
            Err(AppError::failed(
                format!(
                    "step {step} failed{denied}: {}; the steps before it stay applied and undoable",
                    error.message
                ),
                Some(format!(
                    "{}undo with `{}`",
                    error
                        .hint
                        .as_deref()
                        .map(|h| format!("{h}; "))
                        .unwrap_or_default(),
                    run.cleanup_command()
                )),
            ))
        }
    }
}

impl Run<'_> {
    /// The command that undoes this run (see [`cleanup_command`]).
    pub fn cleanup_command(&self) -> String {
        cleanup_command(&self.dir, self.profile.as_deref())
    }

    /// Records a note (never a secret).
    pub fn note(&mut self, text: String) {
        let _ = self.journal.record(Event::Note { text });
    }

    /// Ctrl-C: undoes everything the run did, in reverse; returns the error to end with.
    pub async fn interrupted(&mut self) -> AppError {
        let applied = self.applied.clone();
        match plan::undo_all(&applied, &mut self.journal, &mut self.runner).await {
            Ok(undone) => {
                for l in undo_lines(&undone) {
                    eprintln!("{l}");
                }
                let _ = self.journal.record(Event::RunFinished {
                    status: "interrupted".into(),
                });
                eprintln!("journal: {}", self.dir.display());
                AppError::Interrupted
            }
            Err(e) => journal_io(&self.dir, e),
        }
    }

    /// A run that failed before it was of any use (no credentials came of it): everything it
    /// changed is undone, so that no trust statement or principal is left behind; returns what
    /// was done, for people.
    pub async fn undo_everything(&mut self, status: &str) -> Result<Vec<String>, AppError> {
        let applied = self.applied.clone();
        let undone = plan::undo_all(&applied, &mut self.journal, &mut self.runner)
            .await
            .map_err(|e| journal_io(&self.dir, e))?;
        let failed = undone.iter().any(|u| u.result.is_err());
        let mut lines = undo_lines(&undone);
        if failed {
            lines.push(format!(
                "some changes are still in place; remove them with `eks-breakglass cleanup --journal {}`",
                self.dir.display()
            ));
        }
        self.applied.clear();
        let _ = self.journal.record(Event::RunFinished {
            status: status.to_string(),
        });
        Ok(lines)
    }

    /// Printing failed mid-run: a closed stdout is treated as Ctrl-C (everything undone, the
    /// journal says `interrupted`) and ends with exit 141; other errors are returned as they are
    /// after the temporary keys are deleted.
    pub async fn output_failed(&mut self, e: AppError) -> AppError {
        if !matches!(e, AppError::StdoutClosed) {
            return match self.end(false, "failed").await {
                Ok(lines) => {
                    for l in lines {
                        eprintln!("{l}");
                    }
                    e
                }
                Err(err) => err,
            };
        }
        eprintln!("standard output closed: undoing this run's changes as on Ctrl-C");
        match self.interrupted().await {
            AppError::Interrupted => AppError::StdoutClosed,
            other => other,
        }
    }

    /// Ends the run: deletes temporary keys unless `keep`, records `status`; returns what was
    /// done with the temporary changes, for people.
    pub async fn end(&mut self, keep: bool, status: &str) -> Result<Vec<String>, AppError> {
        let lines = if keep {
            self.applied
                .iter()
                .filter(|a| a.temporary || matches!(a.undo, plan::Undo::DeleteAccessKey { .. }))
                .map(|a| {
                    format!(
                        "kept: {} — remove it with `{}`",
                        a.undo.describe(),
                        self.cleanup_command()
                    )
                })
                .collect()
        } else {
            let temp: Vec<Applied> = self
                .applied
                .iter()
                .filter(|a| a.temporary)
                .cloned()
                .collect();
            let undone = plan::undo_all(&temp, &mut self.journal, &mut self.runner)
                .await
                .map_err(|e| journal_io(&self.dir, e))?;
            undo_lines(&undone)
        };
        let _ = self.journal.record(Event::RunFinished {
            status: status.to_string(),
        });
        Ok(lines)
    }
}

/// The terminal implementation of the [`Ui`] port: text on stdout (stderr when stdout is
/// JSON), questions on stderr, answers from stdin, a spinner while waiting.
pub struct TerminalUi<'a> {
    pub g: &'a Globals,
    pub spinner: &'a Spinner,
}

impl Ui for TerminalUi<'_> {
    fn say(&self, text: &str) {
        if self.g.json() {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    fn notice(&self, text: &str) {
        eprintln!("{text}");
    }

    fn block(&self, text: &str) -> Result<(), AppError> {
        if self.g.json() {
            eprint!("{text}");
            Ok(())
        } else {
            super::out(text)
        }
    }

    fn show_plan(&self, plan: &Plan, extra: Vec<(&str, serde_json::Value)>) {
        show_plan_with(self.g, plan, extra);
    }

    fn dry_run_done(&self) {
        if !self.g.json() {
            println!("\n(dry run: nothing was changed)");
        }
    }

    fn confirm(&self, changes: usize) -> Result<Decision, AppError> {
        confirm(self.g, changes)
    }

    fn catch_interrupt(&self) -> Interrupt {
        catch_interrupt()
    }

    fn progress(&self, message: &str) {
        self.spinner.set(message);
    }

    fn progress_done(&self) {
        self.spinner.done();
    }

    fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn ask_access_gain_now(&self, gains: &[(String, String)]) -> Result<Consent, AppError> {
        ask_access_gain(gains);
        Ok(if read_answer()?.trim() == "allow" {
            Consent::Given
        } else {
            Consent::Refused
        })
    }

    async fn ask_access_gain(
        &self,
        gains: &[(String, String)],
        interrupt: &Interrupt,
    ) -> Result<Consent, AppError> {
        ask_access_gain(gains);
        match read_answer_interruptible(interrupt).await? {
            Typed::Stopped => Ok(Consent::Stopped),
            Typed::Line(a) if a.trim() == "allow" => Ok(Consent::Given),
            Typed::Line(_) => Ok(Consent::Refused),
        }
    }

    async fn confirm_write(&self, interrupt: &Interrupt) -> Result<Consent, AppError> {
        if self.g.yes {
            return Ok(Consent::Given);
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return confirm(self.g, 1).map(|_| Consent::Given);
        }
        eprint!("\nWrite this aws-auth? Only 'yes' is accepted: ");
        let _ = std::io::stderr().flush();
        match read_answer_interruptible(interrupt).await? {
            Typed::Stopped => Ok(Consent::Stopped),
            Typed::Line(a) if a.trim() == "yes" => Ok(Consent::Given),
            Typed::Line(_) => Err(AppError::failed(
                "not confirmed: aws-auth was not written",
                Some("re-run and answer 'yes', or pass --yes".to_string()),
            )),
        }
    }
}

/// One line from the terminal.
fn read_answer() -> Result<String, AppError> {
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| AppError::failed(format!("cannot read the answer: {e}"), None))?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_applies_no_stops_and_anything_else_asks_again() {
        assert_eq!(answer_of("yes\n", false), Answer::Yes);
        assert_eq!(answer_of("  YES \n", false), Answer::Yes);
        assert_eq!(answer_of("no\n", false), Answer::No);
        assert_eq!(answer_of("n\n", false), Answer::No);
        assert_eq!(answer_of("", true), Answer::No);
        for typo in ["yse\n", "y\n", "\n", "ja\n"] {
            assert_eq!(answer_of(typo, false), Answer::Again, "{typo:?}");
        }
    }
}
