//! An in-memory operator for the workflows' unit tests: records what is printed and answers
//! the questions as told.

use crate::error::AppError;
use crate::ports::configmap::{Decision, WriteUi};
use crate::recovery::plan::{Interrupt, Plan};
use std::cell::{Cell, RefCell};

/// The operator: `decision` at the confirmation, `terminal` to be asked for an access gain,
/// `allow` typed when asked.
pub struct FakeUi {
    pub out: RefCell<String>,
    pub err: RefCell<String>,
    pub decision: Decision,
    pub terminal: bool,
    pub allow: bool,
    pub plans: Cell<u32>,
    pub confirms: Cell<u32>,
}

impl FakeUi {
    pub fn new(decision: Decision) -> FakeUi {
        FakeUi {
            out: RefCell::default(),
            err: RefCell::default(),
            decision,
            terminal: false,
            allow: false,
            plans: Cell::new(0),
            confirms: Cell::new(0),
        }
    }
}

impl WriteUi for FakeUi {
    fn out(&self, text: &str) {
        self.out.borrow_mut().push_str(text);
    }
    fn err(&self, text: &str) {
        self.err.borrow_mut().push_str(text);
    }
    fn show_plan(&self, plan: &Plan, _extra: Vec<(&str, serde_json::Value)>) {
        self.plans.set(self.plans.get() + 1);
        self.out.borrow_mut().push_str(&plan.render());
    }
    fn confirm(&self, _changes: usize) -> Result<Decision, AppError> {
        self.confirms.set(self.confirms.get() + 1);
        Ok(self.decision)
    }
    fn access_gain_askable(&self, gains: &[(String, String)], hint: &str) -> Result<(), AppError> {
        if self.terminal {
            Ok(())
        } else {
            Err(crate::ui::plan::access_gain_refusal(gains, hint))
        }
    }
    fn confirm_access_gain(&self, gains: &[(String, String)], hint: &str) -> Result<(), AppError> {
        self.access_gain_askable(gains, hint)?;
        if self.allow {
            Ok(())
        } else {
            Err(crate::ui::plan::access_gain_refusal(gains, hint))
        }
    }
    fn status(&self, _msg: &str) {}
    fn status_done(&self) {}
    fn catch_interrupt(&self) -> Interrupt {
        Interrupt::new()
    }
}
