//! Presentation shared by several commands: reports rendered as text for people.

pub mod triage;
