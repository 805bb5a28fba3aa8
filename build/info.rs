//! Build information for `eks-breakglass version`, shared by `build.rs` (which runs it) and
//! `tests/build_info.rs` (which runs it against a git checkout, a crate tarball and a bare
//! directory).
//!
//! Why a separate file: a build script cannot be unit-tested in place, and the three sources
//! must be tried in a fixed order so that a crate built from a tarball never reports the
//! commit of whatever git repository happens to contain the build directory:
//! 1. `.cargo_vcs_info.json`, which `cargo package`/`cargo publish` writes into every crate
//!    tarball (the commit the crate was packaged from);
//! 2. `git`, only when the crate's own `Cargo.toml` is tracked by the repository found from
//!    the crate directory (so `target/package/…` inside a checkout does not count);
//! 3. nothing: "unknown", never an error (a build without git must still succeed).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the build knows about the source it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Full commit hash, or "unknown".
    pub commit: String,
    /// `git describe --tags --always` (e.g. `v0.1.0-3-gd97c75d`), or "" when not from git.
    pub describe: String,
    /// The commit's date (ISO 8601), or "" when unknown.
    pub commit_date: String,
    /// Where it came from: "git", "crate" (`.cargo_vcs_info.json`) or "unknown".
    pub source: &'static str,
    /// Built from a tree whose build inputs (src/, build/, build.rs, Cargo.toml, Cargo.lock)
    /// differ from the commit (git), or a tarball packaged from such a tree (`"dirty": true`).
    pub dirty: bool,
    /// Files whose change must re-run the build script (git HEAD, the branch ref, tags).
    pub watch: Vec<PathBuf>,
}

impl SourceInfo {
    fn unknown() -> Self {
        SourceInfo {
            commit: "unknown".into(),
            describe: String::new(),
            commit_date: String::new(),
            source: "unknown",
            dirty: false,
            watch: Vec::new(),
        }
    }
}

/// Collects the source information for the crate in `manifest_dir`.
pub fn collect(manifest_dir: &Path) -> SourceInfo {
    if let Some(info) = from_vcs_info(manifest_dir) {
        return info;
    }
    if let Some(info) = from_git(manifest_dir) {
        return info;
    }
    SourceInfo::unknown()
}

/// `.cargo_vcs_info.json`: `{"git": {"sha1": "…", "dirty": true}, "path_in_vcs": ""}`.
/// Read with a tiny scanner (build scripts should not pull a JSON parser for one field).
fn from_vcs_info(dir: &Path) -> Option<SourceInfo> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + "\"sha1\"".len()..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    let sha = &rest[start..start + len];
    if sha.is_empty() || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(SourceInfo {
        commit: sha.to_string(),
        describe: String::new(),
        commit_date: String::new(),
        source: "crate",
        dirty: text.contains("\"dirty\": true") || text.contains("\"dirty\":true"),
        watch: Vec::new(),
    })
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    Some(s.trim().to_string())
}

fn from_git(dir: &Path) -> Option<SourceInfo> {
    // Our own Cargo.toml must be tracked: a crate unpacked under some other checkout
    // (cargo's target/package/, a vendor directory) is not that checkout's commit.
    git(dir, &["ls-files", "--error-unmatch", "--", "Cargo.toml"])?;
    let commit = git(dir, &["rev-parse", "--verify", "HEAD"])?;
    let describe = git(dir, &["describe", "--tags", "--always", "--abbrev=12"]).unwrap_or_default();
    let commit_date = git(dir, &["log", "-1", "--format=%cI", "HEAD"]).unwrap_or_default();
    let mut watch = Vec::new();
    // refs/heads as a whole: a commit on a branch whose ref git had packed (`git gc`,
    // `pack-refs`) writes a new loose ref there and touches neither HEAD nor packed-refs.
    // `--git-path` resolves each name in a linked worktree (HEAD its own, refs in commondir).
    let mut paths = vec![
        "HEAD".to_string(),
        "packed-refs".into(),
        "refs/heads".into(),
        "refs/tags".into(),
    ];
    if let Some(head_ref) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        paths.push(head_ref);
    }
    for p in paths {
        if let Some(path) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", &p],
        ) {
            let path = PathBuf::from(path);
            // Only existing paths: cargo treats a missing one as always changed.
            if path.exists() {
                watch.push(path);
            }
        }
    }
    // Dirty only for what the binary is built from (untracked files do not count). Cheap:
    // git compares stat data with the index. The inputs and the index are watched so that an
    // edit (or `git add`/commit) re-runs this and the marker follows.
    let inputs = ["src", "build", "build.rs", "Cargo.toml", "Cargo.lock"];
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(inputs);
    let dirty = git(dir, &status).is_some_and(|s| !s.is_empty());
    for input in inputs {
        let path = dir.join(input);
        if path.exists() {
            watch.push(path);
        }
    }
    if let Some(index) = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", "index"],
    ) {
        let index = PathBuf::from(index);
        if index.exists() {
            watch.push(index);
        }
    }
    Some(SourceInfo {
        commit,
        describe,
        commit_date,
        source: "git",
        dirty,
        watch,
    })
}
