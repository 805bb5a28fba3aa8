//! `man`: manual pages generated from the clap definitions (clap_mangen), so they can never
//! drift from `--help`. One page per command and subcommand (`eks-breakglass-aws-auth-lint.1`…),
//! written to `--dir` for packagers and the release archives, or the top page on stdout.
//!
//! Every page is rendered in memory before the first file is written, so a failure leaves no
//! half-set of pages behind.

use crate::cli::Globals;
use crate::error::AppError;
use crate::exit;
use clap::{Args, CommandFactory};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  eks-breakglass man | man -l -\n  \
eks-breakglass man --dir /usr/local/share/man/man1 && mandb -q\n  \
eks-breakglass man --dir ./man && man -l ./man/eks-breakglass-recover.1")]
pub struct ManArgs {
    /// Write every page (one per command and subcommand, section 1) into DIR, created if missing;
    /// the paths are listed on stdout (with --dry-run: listed, not written)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// One rendered page: file name (`eks-breakglass-recover.1`) and roff source.
#[derive(Debug, Clone)]
pub struct Page {
    pub file_name: String,
    pub roff: Vec<u8>,
}

/// Renders the pages of the whole command tree (hidden commands and `help` left out).
pub fn pages() -> Result<Vec<Page>, AppError> {
    let mut cmd = crate::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let date = date_of_commit();
    let mut out = Vec::new();
    render_tree(&cmd, &date, &mut out)?;
    Ok(out)
}

fn render_tree(cmd: &clap::Command, date: &str, out: &mut Vec<Page>) -> Result<(), AppError> {
    let man = clap_mangen::Man::new(cmd.clone()).date(date.to_string());
    let mut roff = Vec::new();
    man.render(&mut roff)
        .map_err(|e| AppError::failed(format!("cannot render the man page: {e}"), None))?;
    out.push(Page {
        file_name: man.get_filename(),
        roff,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        render_tree(sub, date, out)?;
    }
    Ok(())
}

/// The build's commit date (YYYY-MM-DD), so pages are reproducible; empty when unknown.
fn date_of_commit() -> String {
    let d = crate::build_info::build_info().commit_date;
    d.get(..10).unwrap_or_default().to_string()
}

/// Checks every target before anything is written (and in --dry-run, which writes nothing):
/// `dir` is a directory or can be created under a writable directory, and no page path is
/// taken by something that is not a regular file. A failure here leaves the disk untouched,
/// and --dry-run predicts it.
fn check_targets(dir: &Path, pages: &[Page]) -> Result<(), AppError> {
    let elsewhere = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("man");
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(AppError::usage(
                format!("--dir {} exists and is not a directory", dir.display()),
                Some(format!(
                    "name a directory (created if missing), e.g. --dir {}",
                    elsewhere.display()
                )),
            ));
        }
        Ok(m) => {
            if m.permissions().readonly() {
                return Err(AppError::failed(
                    format!("cannot write into {}: it is read-only", dir.display()),
                    Some("choose a directory you can write to with --dir".to_string()),
                ));
            }
            for p in pages {
                let path = dir.join(&p.file_name);
                if let Ok(pm) = std::fs::symlink_metadata(&path)
                    && !pm.is_file()
                {
                    return Err(AppError::failed(
                        format!(
                            "cannot write the page {}: something that is not a regular file (a directory or a link) has its name",
                            path.display()
                        ),
                        Some(format!(
                            "move {} out of the way, or choose another --dir",
                            path.display()
                        )),
                    ));
                }
            }
        }
        Err(_) => {
            // Created on the real run: its nearest existing ancestor must be a writable directory.
            let mut up = dir.parent();
            while let Some(a) = up {
                let a = if a.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    a
                };
                if let Ok(m) = std::fs::metadata(a) {
                    if !m.is_dir() || m.permissions().readonly() {
                        return Err(AppError::failed(
                            format!(
                                "cannot create {}: {} is not a writable directory",
                                dir.display(),
                                a.display()
                            ),
                            Some("choose a directory you can write to with --dir".to_string()),
                        ));
                    }
                    break;
                }
                up = a.parent();
            }
        }
    }
    Ok(())
}

/// Writes every page atomically (a temporary file in `dir`, renamed over the page). The
/// temporary files are all written first; only then are they renamed, so a write failure
/// (disk full) leaves no page behind.
fn write_pages(dir: &Path, pages: &[Page]) -> Result<(), AppError> {
    let hint = || Some("choose a directory you can write to with --dir".to_string());
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::failed(format!("cannot create {}: {e}", dir.display()), hint()))?;
    let mut staged = Vec::with_capacity(pages.len());
    for p in pages {
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", p.file_name))
            .tempfile_in(dir)
            .map_err(|e| {
                AppError::failed(format!("cannot write in {}: {e}", dir.display()), hint())
            })?;
        tmp.write_all(&p.roff)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| {
                AppError::failed(format!("cannot write in {}: {e}", dir.display()), hint())
            })?;
        // Pages are readable by everyone, like the rest of /usr/share/man.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644)).map_err(
            |e| AppError::failed(format!("cannot write in {}: {e}", dir.display()), hint()),
        )?;
        staged.push((tmp, dir.join(&p.file_name)));
    }
    for (tmp, path) in staged {
        tmp.persist(&path).map_err(|e| {
            AppError::failed(
                format!("cannot write {}: {}", path.display(), e.error),
                hint(),
            )
        })?;
    }
    Ok(())
}

pub fn run(g: &Globals, args: &ManArgs) -> Result<u8, AppError> {
    let pages = pages()?;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| AppError::failed(format!("cannot write to stdout: {e}"), None);
    match &args.dir {
        Some(dir) => {
            // --dry-run: the same checks, the list of what would be written, nothing written.
            check_targets(dir, &pages)?;
            if !g.dry_run {
                write_pages(dir, &pages)?;
            }
            for p in &pages {
                writeln!(out, "{}", dir.join(&p.file_name).display()).map_err(io)?;
            }
        }
        None => {
            if let Some(top) = pages.first() {
                out.write_all(&top.roff).map_err(io)?;
            }
        }
    }
    out.flush().map_err(io)?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_command_with_the_standard_sections() {
        let pages = pages().expect("pages");
        let names: Vec<&str> = pages.iter().map(|p| p.file_name.as_str()).collect();
        assert_eq!(names[0], "eks-breakglass.1");
        for want in [
            "eks-breakglass-recover.1",
            "eks-breakglass-aws-auth.1",
            "eks-breakglass-aws-auth-lint.1",
            "eks-breakglass-man.1",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("-help")), "{names:?}");
        let top = String::from_utf8(pages[0].roff.clone()).expect("utf-8");
        assert!(top.contains("\n.TH eks-breakglass 1 "), "{top}");
        for section in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH SUBCOMMANDS",
        ] {
            assert!(top.contains(section), "{section} missing");
        }
    }
}
