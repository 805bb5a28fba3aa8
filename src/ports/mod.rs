//! The ports: small traits for what a use case (`crate::workflow`) needs from the world, one
//! file per capability. Adapters in `crate::aws` (and `crate::k8s`) implement them for real;
//! the workflows' unit tests implement them in memory. Records the ports return live beside
//! the trait or in the domain, never in the adapters.

pub mod cluster;
pub mod eks_access;
pub mod iam;
pub mod kube;
pub mod ui;
