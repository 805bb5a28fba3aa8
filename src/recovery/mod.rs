//! Recovery: who can still get in, and how to become them.
//!
//! When aws-auth is broken, the cluster's creator is usually the only principal EKS still lets
//! in. This module finds it ([`creator`]), reads the CloudTrail record it came from ([`event`]),
//! judges whether it is still the same principal ([`principal`]) and whether the caller may
//! become it ([`trust`]). It knows nothing of clap or printing and never calls the SDK: AWS is
//! reached through the ports in `crate::ports` (implemented by `crate::aws`), which the tests
//! replace with in-memory fakes. See docs/architecture.md.

pub mod access_entries;
pub mod audit;
pub mod creator;
pub mod diagnosis;
pub mod event;
pub mod getin;
pub mod journal;
pub mod migrate;
pub mod plan;
pub mod principal;
pub mod record;
pub mod recover;
pub mod restore;
pub mod rollback;
pub mod snapshot;
pub mod trust;
