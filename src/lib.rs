//! eks-breakglass: get back into a locked-out Amazon EKS cluster, and keep it from happening again.
//!
//! The crate is split so that a reader can find where a decision is made from file names alone:
//! the domain (`awsauth`, `recovery`) knows nothing of clap or printing; `commands` are thin;
//! only the adapters (`aws`, `k8s`) touch the network.

pub mod arn;
pub mod aws;
pub mod awsauth;
pub mod build_info;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod credfile;
pub mod error;
pub mod exit;
pub mod k8s;
pub mod kubeconfig;
pub mod policy;
pub mod ports;
pub mod recovery;
pub mod ui;
pub mod workflow;
