//! Presentation shared by several commands: the plan, the confirmation, the spinner, the
//! lines that say what a run did and how to undo it. Workflows never print; commands and the
//! terminal implementation of [`crate::ports::ui::Ui`] do, through here.

pub mod plan;
pub mod recover;
