//! The ports: small traits for what a use case needs from the world (adapters in `aws`,
//! `k8s` and `ui`; in-memory fakes in the workflows' tests).

pub mod configmap;
pub mod undo;
