//! The use cases: each takes its ports and plain options and returns what the command prints.

pub mod cleanup;
pub mod edit;
pub mod restore;

#[cfg(test)]
pub(crate) mod fake_ui;
