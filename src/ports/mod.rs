//! Ports: the small traits through which the use cases (`workflow/`) and the domain
//! (`recovery/`) ask the world for facts, so that their decisions are tested with in-memory
//! fakes and the adapters (`aws/`, `k8s`) are the only code that talks to the network.
//!
//! One file per capability. Traits use `async fn` with generics (no `dyn`): every use case runs
//! on the current-thread runtime, so the futures need not be `Send`.

pub mod audit;
pub mod cluster;
pub mod configmap;
pub mod creator_sources;
pub mod eks_access;
pub mod error;
pub mod iam;
pub mod kube;
pub mod lookup;
pub mod migrate;
pub mod triage;
pub mod ui;
pub mod undo;
