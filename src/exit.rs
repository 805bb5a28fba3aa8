//! Exit codes, in one place, because runbooks and CI scripts branch on them.
//!
//! They are documented in `docs/exit-codes.md` and in `eks-breakglass --help`; changing one is a
//! breaking change.

/// Success.
pub const OK: u8 = 0;
/// A runtime error: AWS refused, the network failed, a file could not be written.
pub const ERROR: u8 = 1;
/// Bad usage or bad input: a malformed argument, an unreadable or malformed input file.
pub const USAGE: u8 = 2;
/// `aws-auth lint` found errors (or warnings with `--deny-warnings`); `audit` flagged a cluster.
pub const FINDINGS: u8 = 3;
/// A change needs confirmation and none could be asked for (no terminal, no `--yes`).
pub const NEEDS_CONFIRMATION: u8 = 4;
/// `creator`: the creator was found but cannot be used to get in as things stand.
pub const CREATOR_UNUSABLE: u8 = 5;
/// `creator`: the creator could not be found by any means.
pub const CREATOR_NOT_FOUND: u8 = 6;
/// Interrupted by Ctrl-C (128 + SIGINT), after cleaning up.
pub const INTERRUPTED: u8 = 130;
/// Standard output was closed by its reader (`… | head`), as a process killed by SIGPIPE
/// (128 + 13) reports it; a run that had changed something undid it first, as on Ctrl-C.
pub const CLOSED_PIPE: u8 = 141;

/// One line per code, for `--help` and the docs.
pub const TABLE: &str = "\
Exit codes:
  0    success
  1    error (AWS refused, network, I/O)
  2    usage or bad input
  3    problems found (aws-auth lint errors, audit flagged clusters)
  4    needs confirmation (re-run with --yes, or in a terminal)
  5    creator found but not usable as things stand
  6    creator not found
  130  interrupted (Ctrl-C)
  141  stdout closed by its reader (`| head`); the run's changes were undone";
