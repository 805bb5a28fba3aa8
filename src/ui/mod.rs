//! Presentation shared by several commands (adapters of the ui ports).

pub mod write;
