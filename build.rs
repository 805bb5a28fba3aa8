//! Stamps the binary with where it was built from, for `eks-breakglass version`: the commit
//! (git, or the `.cargo_vcs_info.json` of a crate tarball, or "unknown"), the target, the
//! profile and the compiler. Never fails the build for want of git. See build/info.rs.

#[path = "build/info.rs"]
mod info;

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/info.rs");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let vcs_info = dir.join(".cargo_vcs_info.json");
    if vcs_info.exists() {
        println!("cargo:rerun-if-changed={}", vcs_info.display());
    }
    let src = info::collect(&dir);
    for path in &src.watch {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    // Not from git (a crate tarball, or no git): also watch `<crate>/.git`, which does not
    // exist, so cargo runs this script again on the next build. Without it, a checkout sharing
    // the target directory with such a build (`cargo publish --dry-run` verifies the tarball in
    // target/package/ with the same target directory) would keep the tarball's "unknown" or
    // packaged commit, since cargo judges freshness by this run's list of watched files.
    let dot_git = dir.join(".git");
    if src.source != "git" && !dot_git.exists() {
        println!("cargo:rerun-if-changed={}", dot_git.display());
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "unknown".into());
    let pairs = [
        ("EKS_BREAKGLASS_COMMIT", src.commit),
        ("EKS_BREAKGLASS_DESCRIBE", src.describe),
        ("EKS_BREAKGLASS_COMMIT_DATE", src.commit_date),
        ("EKS_BREAKGLASS_SOURCE", src.source.to_string()),
        ("EKS_BREAKGLASS_DIRTY", src.dirty.to_string()),
        ("EKS_BREAKGLASS_TARGET", var("TARGET")),
        ("EKS_BREAKGLASS_PROFILE", var("PROFILE")),
        ("EKS_BREAKGLASS_RUSTC", rustc_version),
    ];
    for (k, v) in pairs {
        // One line each: a newline in a value would end the directive.
        println!("cargo:rustc-env={k}={}", v.replace(['\n', '\r'], " "));
    }
}
