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
    let d = super::version::build_info().commit_date;
    d.get(..10).unwrap_or_default().to_string()
}

fn write_pages(dir: &Path, pages: &[Page]) -> Result<(), AppError> {
    let hint = || {
        Some(format!(
            "choose a directory you can write to: --dir {}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::failed(format!("cannot create {}: {e}", dir.display()), hint()))?;
    for p in pages {
        let path = dir.join(&p.file_name);
        std::fs::write(&path, &p.roff).map_err(|e| {
            AppError::failed(format!("cannot write {}: {e}", path.display()), hint())
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
            // --dry-run: the list of what would be written, and nothing written.
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
