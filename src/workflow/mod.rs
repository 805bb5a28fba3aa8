//! The use cases: each takes its ports (`crate::ports`) and plain options, decides, and
//! returns a report that the command renders. Workflows never print and never touch the
//! network themselves, so every route they can take is unit-tested with in-memory ports.

pub mod getin;
pub mod recover;
