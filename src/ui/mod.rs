//! Presentation shared by several commands: reports rendered as text for people.

pub mod audit;
pub mod awsauth;
pub mod creator;
pub mod entries;
pub mod input;
pub mod plan;
pub mod recover;
pub mod triage;
pub mod write;
