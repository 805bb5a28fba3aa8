//! Presentation shared by several commands: reports rendered as text for people.

pub mod audit;
pub mod awsauth;
pub mod creator;
pub mod entries;
pub mod getin;
pub mod input;
pub mod plan;
pub mod recover;
pub mod triage;
pub mod write;

use crate::error::AppError;

/// Writes `text` to standard output. A closed stdout (EPIPE: the reader of `… | head` went
/// away) is returned as [`AppError::StdoutClosed`] instead of the panic `print!` turns it into,
/// so that a command holding temporary credentials can undo them before it exits (141).
pub fn out(text: &str) -> Result<(), AppError> {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                AppError::StdoutClosed
            } else {
                AppError::failed(format!("cannot write to standard output: {e}"), None)
            }
        })
}
