//! `version`: the version plus where the binary was built from (commit, target, profile,
//! compiler), so that a bug report or an incident report names exactly which build ran.
//!
//! The values are stamped at build time by `build.rs` (see build/info.rs for how the commit is
//! found, and why a crate built from a tarball says "unknown" or the packaged commit instead of
//! guessing). `--version` stays the one-line clap form.

use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  eks-breakglass version\n  eks-breakglass version --output json"
)]
pub struct VersionArgs {}

pub use crate::build_info::{BuildInfo, build_info};

/// The human form, one fact per line.
pub fn render_text(b: &BuildInfo) -> String {
    let commit = match (b.source, b.describe.is_empty()) {
        ("unknown", _) => "unknown (built without git metadata)".to_string(),
        ("crate", _) => format!("{} (from the crate's .cargo_vcs_info.json)", b.commit),
        // `describe` says more than the hash only when a tag is behind it.
        (_, false) if !b.commit.starts_with(b.describe) => format!("{} ({})", b.commit, b.describe),
        _ => b.commit.to_string(),
    };
    let commit = if b.dirty {
        format!("{commit}, dirty (built with uncommitted changes)")
    } else {
        commit
    };
    let mut s = format!("{} {}\n", b.name, b.version);
    s.push_str(&format!("commit:      {commit}\n"));
    if !b.commit_date.is_empty() {
        s.push_str(&format!("commit date: {}\n", b.commit_date));
    }
    s.push_str(&format!("target:      {}\n", b.target));
    s.push_str(&format!("profile:     {}\n", b.profile));
    s.push_str(&format!("compiler:    {}\n", b.rustc));
    s.push_str(&format!("tls:         {}\n", b.tls));
    s
}

pub fn run(g: &Globals, _args: &VersionArgs) -> Result<u8, AppError> {
    let b = build_info();
    let text = if g.json() {
        serde_json::to_string_pretty(&b)
            .map(|s| s + "\n")
            .map_err(|e| AppError::failed(format!("cannot encode JSON: {e}"), None))?
    } else {
        render_text(&b)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| AppError::failed(format!("cannot write to stdout: {e}"), None))?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(source: &'static str, describe: &'static str) -> BuildInfo {
        BuildInfo {
            name: "eks-breakglass",
            version: "0.1.0",
            commit: if source == "unknown" {
                "unknown"
            } else {
                "0123456789abcdef0123456789abcdef01234567"
            },
            describe,
            commit_date: "",
            source,
            dirty: false,
            target: "x86_64-unknown-linux-musl",
            profile: "release",
            rustc: "rustc 1.95.0",
            tls: "rustls (ring)",
        }
    }

    #[test]
    fn text_says_where_the_commit_came_from() {
        let t = render_text(&info("git", "v0.1.0-3-g0123456789ab"));
        assert!(t.starts_with("eks-breakglass 0.1.0\n"));
        assert!(t.contains(
            "commit:      0123456789abcdef0123456789abcdef01234567 (v0.1.0-3-g0123456789ab)\n"
        ));
        assert!(!t.contains("commit date"));
        let t = render_text(&info("git", "0123456789ab"));
        assert!(t.contains("commit:      0123456789abcdef0123456789abcdef01234567\n"));
        let t = render_text(&info("crate", ""));
        assert!(t.contains("(from the crate's .cargo_vcs_info.json)"));
        let t = render_text(&info("unknown", ""));
        assert!(t.contains("commit:      unknown (built without git metadata)\n"));
        assert!(t.contains("target:      x86_64-unknown-linux-musl\n"));
        assert!(!t.contains("dirty"));
        let mut d = info("git", "0123456789ab");
        d.dirty = true;
        assert!(render_text(&d).contains(
            "commit:      0123456789abcdef0123456789abcdef01234567, dirty (built with uncommitted changes)\n"
        ));
    }
}
