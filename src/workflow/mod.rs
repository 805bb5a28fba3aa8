//! Use cases: each takes its ports and plain options and returns a report the command prints.

pub mod migrate;
