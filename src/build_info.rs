//! What this binary was built from (commit, target, profile, compiler), stamped at build time
//! by `build.rs` (see build/info.rs). Shared by `version` and `man` (the page's date), so that
//! neither command imports the other.

use serde::Serialize;

/// Build information of this binary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BuildInfo {
    pub name: &'static str,
    pub version: &'static str,
    /// Full commit hash, or "unknown" (built without git metadata).
    pub commit: &'static str,
    /// `git describe --tags --always`, empty when not built from a git checkout.
    pub describe: &'static str,
    /// The commit's date (ISO 8601), empty when unknown.
    pub commit_date: &'static str,
    /// Where the commit came from: "git", "crate" (a crates.io tarball's .cargo_vcs_info.json)
    /// or "unknown".
    pub source: &'static str,
    /// Built with uncommitted changes to its sources (src/, build/, build.rs, Cargo.toml,
    /// Cargo.lock): the commit alone does not reproduce it.
    pub dirty: bool,
    pub target: &'static str,
    pub profile: &'static str,
    pub rustc: &'static str,
    /// The one TLS stack compiled in.
    pub tls: &'static str,
}

/// This binary's build information.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        commit: env!("EKS_BREAKGLASS_COMMIT"),
        describe: env!("EKS_BREAKGLASS_DESCRIBE"),
        commit_date: env!("EKS_BREAKGLASS_COMMIT_DATE"),
        source: env!("EKS_BREAKGLASS_SOURCE"),
        dirty: matches!(env!("EKS_BREAKGLASS_DIRTY").as_bytes(), b"true"),
        target: env!("EKS_BREAKGLASS_TARGET"),
        profile: env!("EKS_BREAKGLASS_PROFILE"),
        rustc: env!("EKS_BREAKGLASS_RUSTC"),
        tls: "rustls (ring)",
    }
}
