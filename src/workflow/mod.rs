//! Use cases: each takes its ports (`crate::ports`) and plain options, decides, and returns a
//! report that a command renders. No printing, no SDK: decisions are tested with in-memory fakes
//! of the ports, and the integration tests in `tests/` remain the end-to-end proof.

pub mod audit;
pub mod cleanup;
pub mod creator;
pub mod edit;
pub mod getin;
pub mod inspect;
pub mod migrate;
pub mod recover;
pub mod restore;
pub mod rundir;
pub mod triage;

#[cfg(test)]
pub(crate) mod fake_ui;
