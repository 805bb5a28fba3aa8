//! Ports: what the use cases need from the world, as small traits the adapters implement.

pub mod migrate;
