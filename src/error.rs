//! The top-level error: every layer's error, each with a hint that names the fix.
//!
//! Domain and adapter modules have their own `thiserror` types; this one only gathers them so
//! that `main` can print one cause chain and pick one exit code.

use crate::exit;

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad usage or bad input, with a hint on how to call it right.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// A failure with a plain message and a hint.
    #[error("{message}")]
    Failed {
        message: String,
        hint: Option<String>,
    },
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Kube(#[from] crate::k8s::KubeError),
    #[error(transparent)]
    Kubeconfig(#[from] crate::kubeconfig::KubeconfigError),
    #[error(transparent)]
    Token(#[from] crate::aws::token::TokenError),
    /// A command that needs confirmation, where none could be asked for.
    #[error("{0}")]
    NeedsConfirmation(String),
    /// A write that grants new access, without the consent that names it (`--yes` is not it).
    #[error("{0}")]
    AccessGainNotAllowed(String),
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// An error the command already put into its JSON result on stdout (`"error"`), so that
    /// stdout holds one document: `main` prints it on stderr only.
    #[error("{0}")]
    InResult(Box<AppError>),
    /// Standard output went away (EPIPE) while the command still had something to say.
    #[error("standard output was closed before the command finished")]
    StdoutClosed,
}

impl AppError {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        AppError::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn failed(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        AppError::Failed {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The causes worth showing: the source chain, skipping what the message already says and
    /// (unless `verbose`) the SDK's raw error under an AWS error.
    pub fn causes(&self, verbose: bool) -> Vec<String> {
        if let AppError::InResult(inner) = self {
            return inner.causes(verbose);
        }
        let mut causes = Vec::new();
        let mut seen = self.to_string();
        let mut cur = std::error::Error::source(self);
        if matches!(self, AppError::Aws(_)) && !verbose {
            cur = None;
        }
        while let Some(c) = cur {
            let text = c.to_string();
            if !seen.contains(&text) {
                seen.push_str(&text);
                causes.push(text);
            }
            cur = c.source();
        }
        causes
    }

    /// The error as the `"error"` member of a JSON document: message, causes, hint, exit code.
    pub fn json(&self, verbose: bool) -> serde_json::Value {
        serde_json::json!({
            "message": self.to_string(),
            "causes": self.causes(verbose),
            "hint": self.hint(),
            "exit_code": self.exit_code(),
        })
    }

    /// Puts this error into `doc` (a JSON result about to be printed) as its `"error"`, and
    /// returns the error to end the command with: stdout then holds one document.
    pub fn into_result(self, doc: &mut serde_json::Value) -> AppError {
        if let Some(o) = doc.as_object_mut() {
            o.insert("error".into(), self.json(false));
        }
        AppError::InResult(Box::new(self))
    }

    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage { .. } => exit::USAGE,
            AppError::Kubeconfig(e) if e.is_input_error() => exit::USAGE,
            AppError::Token(_) => exit::USAGE,
            AppError::Aws(e) if e.is_usage() => exit::USAGE,
            AppError::NeedsConfirmation(_) | AppError::AccessGainNotAllowed(_) => {
                exit::NEEDS_CONFIRMATION
            }
            AppError::Interrupted => exit::INTERRUPTED,
            AppError::StdoutClosed => exit::CLOSED_PIPE,
            AppError::InResult(e) => e.exit_code(),
            _ => exit::ERROR,
        }
    }

    /// What to do about it, if we know.
    pub fn hint(&self) -> Option<String> {
        match self {
            AppError::Usage { hint, .. } | AppError::Failed { hint, .. } => hint.clone(),
            AppError::Aws(e) => e.hint.clone(),
            AppError::Kube(e) => e.hint(),
            AppError::Kubeconfig(e) => e.hint(),
            AppError::Token(e) => e.hint(),
            AppError::NeedsConfirmation(_) => Some(
                "review the plan, then re-run with --yes (or run it in a terminal to be asked)"
                    .into(),
            ),
            AppError::AccessGainNotAllowed(_) => Some(
                "review who gains what above; if it is meant, re-run with an --allow-access-gain naming each identity listed (--yes alone never approves new access)"
                    .into(),
            ),
            AppError::Interrupted => None,
            AppError::InResult(e) => e.hint(),
            AppError::StdoutClosed => Some(
                "the reader of the output went away (`| head`, a closed terminal); whatever the run had changed was undone as on Ctrl-C (see the journal); re-run with the output redirected to a file".into(),
            ),
        }
    }
}
