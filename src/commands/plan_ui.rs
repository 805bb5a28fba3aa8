//! Moved to [`crate::ui::plan`] (presentation shared by several commands). This re-export keeps
//! the commands other engineers are editing in parallel compiling until their imports point
//! there; it goes once they do.

pub use crate::ui::plan::*;
