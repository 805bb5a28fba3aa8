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
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
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

    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage { .. } => exit::USAGE,
            AppError::Kubeconfig(e) if e.is_input_error() => exit::USAGE,
            AppError::Token(_) => exit::USAGE,
            AppError::Aws(e) if e.is_usage() => exit::USAGE,
            AppError::NeedsConfirmation(_) => exit::NEEDS_CONFIRMATION,
            AppError::Interrupted => exit::INTERRUPTED,
            AppError::StdoutClosed => exit::CLOSED_PIPE,
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
            AppError::Interrupted => None,
            AppError::StdoutClosed => Some(
                "the reader of the output went away (`| head`, a closed terminal); whatever the run had changed was undone as on Ctrl-C (see the journal); re-run with the output redirected to a file".into(),
            ),
        }
    }
}
