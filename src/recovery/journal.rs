//! The journal: an append-only record of every change a run makes, so that it can be undone.
//!
//! A break-glass run can die at any moment — Ctrl-C, a closed laptop, SIGKILL, a lost network —
//! and the changes it made (a trust statement, an access key, an access entry) must never be
//! orphaned. So each run gets a directory (0700) holding `journal.jsonl` (0600): one JSON object
//! per line, appended and fsync'd *before* a step runs ("step_started", with the undo as
//! planned) and *after* ("step_done" with the refined undo, or "step_failed"), and the previous
//! states a step overwrites (a trust policy, later aws-auth) saved byte for byte beside it
//! before the step starts. `cleanup` reads it back with [`pending_undos`]: a step started but
//! not finished is undone with an undo that checks AWS's state first.
//!
//! Secrets never reach the journal: actions and undos carry names and ids only.
//!
//! The run directory is trusted only as far as the journal vouches for it: every saved file's
//! SHA-256 is journaled when it is written ([`Event::FileSaved`]) and checked on every read
//! ([`read_saved`]), so a file placed or edited by someone else is refused instead of being
//! written to IAM or the cluster. A run directory is always fresh (never one with content), and
//! one process at a time writes to it: the journal file carries an advisory lock (`flock`) for
//! as long as the run (or a cleanup) is alive, so a `cleanup` in a second shell refuses a run
//! that is still verifying instead of undoing it under its feet.

use super::plan::{Applied, AwsCall, Plan, StepError, Undo, Undone};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The journal file name inside a run directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The plan about to be applied, and who applies it.
    RunStarted {
        command: String,
        cluster: String,
        region: String,
        caller: String,
        /// The `--profile` the run acted as (absent: the default chain): `cleanup` acts as
        /// the same profile unless told otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
        plan: Plan,
    },
    StepStarted {
        step: u32,
        what: String,
        call: AwsCall,
        undo: Undo,
        temporary: bool,
    },
    StepDone {
        step: u32,
        undo: Undo,
        facts: BTreeMap<String, String>,
    },
    StepFailed {
        step: u32,
        error: StepError,
    },
    UndoStarted {
        step: u32,
        undo: Undo,
    },
    UndoDone {
        step: u32,
        result: Undone,
    },
    UndoFailed {
        step: u32,
        error: StepError,
    },
    /// The run ended: `applied`, `failed`, `interrupted`, `cleaned`, …
    RunFinished {
        status: String,
    },
    /// A free-form note (verification result, hand-over), never a secret.
    Note {
        text: String,
    },
    /// A previous state (or an object to write) was saved in the run directory with this digest;
    /// whatever reads it back checks the digest first.
    FileSaved {
        file: String,
        sha256: String,
    },
}

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot use journal directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} already holds a journal; choose a new directory for a new run")]
    Exists { path: PathBuf },
    #[error("no journal in {path}")]
    Missing { path: PathBuf },
    #[error("no runs under {path}")]
    NoRuns { path: PathBuf },
    #[error("no state directory to keep journals in; pass --journal-dir DIR")]
    NoStateDir,
    #[error("{path} line {line} is not a journal record: {detail}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("{path} already exists and is not empty; a run directory must be new")]
    NotFresh { path: PathBuf },
    #[error("{path} is writable by other users; a run directory must be private")]
    NotPrivate { path: PathBuf },
    #[error(
        "{path} belongs to another user (uid {owner}); a run's journal is trusted only when it is yours"
    )]
    NotOwned { path: PathBuf, owner: u32 },
    #[error("the run in {path} is still alive: another eks-breakglass process holds its journal")]
    Busy { path: PathBuf },
}

impl JournalError {
    pub fn hint(&self) -> Option<String> {
        match self {
            JournalError::Exists { .. } => Some("pass another --journal-dir, or omit it".into()),
            JournalError::Missing { .. } | JournalError::NoRuns { .. } => Some(
                "pass the run directory printed by the command that made the changes (--journal DIR)"
                    .into(),
            ),
            JournalError::NoStateDir => Some("pass --journal-dir DIR".into()),
            JournalError::NotFresh { .. } => Some(
                "pass a --journal-dir that does not exist yet (it is created 0700), or omit it".into(),
            ),
            JournalError::NotPrivate { .. } => Some(
                "pass a --journal-dir that only you can write to (chmod go-w), or omit it".into(),
            ),
            JournalError::NotOwned { .. } => Some(
                "run cleanup as the user who made the run; if you trust this journal anyway, copy the run directory into a new private (0700) directory of yours, read journal.jsonl, and pass that copy with --journal".into(),
            ),
            JournalError::Busy { .. } => Some(
                "wait for that run to end (or stop it with Ctrl-C, which undoes it), then run cleanup again"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    file: File,
    seq: u64,
}

/// Where runs go by default: `$XDG_STATE_HOME/eks-breakglass/runs` (or the platform's state or
/// local data directory).
pub fn default_runs_dir() -> Result<PathBuf, JournalError> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("eks-breakglass").join("runs"))
        .ok_or(JournalError::NoStateDir)
}

/// The directory name of a new run: sortable by time, naming the command and the cluster.
pub fn run_dir_name(now: DateTime<Utc>, command: &str, cluster: &str) -> String {
    let clean: String = cluster
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{command}-{clean}", now.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// The most recent run directory under `base` (names sort by time).
pub fn latest_run(base: &Path) -> Result<PathBuf, JournalError> {
    let rd = std::fs::read_dir(base).map_err(|_| JournalError::NoRuns {
        path: base.to_path_buf(),
    })?;
    let mut runs: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(JOURNAL_FILE).is_file())
        .collect();
    runs.sort();
    runs.pop().ok_or(JournalError::NoRuns {
        path: base.to_path_buf(),
    })
}

/// Creates `dir` (and missing parents) with mode 0700. An existing directory is used only when
/// it is empty and not writable by others, and its mode is left as it is (it may be shared
/// on purpose): a pre-placed file would otherwise be taken for one of the run's.
fn make_fresh_dir(dir: &Path) -> Result<(), JournalError> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::symlink_metadata(dir) {
        Ok(meta) => {
            if !meta.is_dir() {
                return Err(JournalError::NotFresh {
                    path: dir.to_path_buf(),
                });
            }
            let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
            if entries.next().is_some() {
                return Err(JournalError::NotFresh {
                    path: dir.to_path_buf(),
                });
            }
            if meta.permissions().mode() & 0o022 != 0 {
                return Err(JournalError::NotPrivate {
                    path: dir.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(dir)),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new run id: the time and a random part, letters and digits only (it goes into IAM
/// statement ids, which allow nothing else).
pub fn new_run_id(now: DateTime<Utc>) -> String {
    format!(
        "{}{:06x}",
        now.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u32>() & 0x00ff_ffff
    )
}

/// Takes the run's lock on its journal file, or says the run is alive.
fn lock(file: &File, dir: &Path, exclusive: bool) -> Result<(), JournalError> {
    let r = if exclusive {
        file.try_lock()
    } else {
        file.try_lock_shared()
    };
    match r {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(JournalError::Busy {
            path: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(io_err(dir)(e)),
    }
}

/// The uid this process creates files as (no `unsafe`, no extra dependency: the owner of an
/// anonymous temporary file).
pub(crate) fn own_uid() -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt as _;
    Ok(tempfile::tempfile()?.metadata()?.uid())
}

/// The journal is the only proof of what a run made, and cleanup deletes what it names: a run
/// directory or journal that another user owns or can write could name anyone's key. The same
/// rule as [`Journal::create`] (not writable by group/others), plus: owned by us.
fn check_trusted(dir: &Path) -> Result<(), JournalError> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let uid = own_uid().map_err(io_err(dir))?;
    for path in [dir.to_path_buf(), dir.join(JOURNAL_FILE)] {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Missing {
                    path: dir.to_path_buf(),
                });
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        if meta.file_type().is_symlink() || meta.permissions().mode() & 0o022 != 0 {
            return Err(JournalError::NotPrivate { path });
        }
        if meta.uid() != uid {
            return Err(JournalError::NotOwned {
                path,
                owner: meta.uid(),
            });
        }
    }
    Ok(())
}

/// Refuses when another process holds the run's journal (a run still alive), without taking
/// the lock for longer than the check (for `--dry-run`, which writes nothing).
pub fn check_not_busy(dir: &Path) -> Result<(), JournalError> {
    check_trusted(dir)?;
    let path = dir.join(JOURNAL_FILE);
    let file = File::open(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            JournalError::Missing {
                path: dir.to_path_buf(),
            }
        } else {
            io_err(&path)(e)
        }
    })?;
    lock(&file, dir, false)
}

/// Why a saved file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SavedFileError {
    #[error(
        "{file} in {dir} was not saved by this run (the journal has no record of it); refusing to use it"
    )]
    NotRecorded { dir: PathBuf, file: String },
    #[error(
        "{file} in {dir} changed after this run saved it (SHA-256 {found}, journaled {expected}); refusing to use it"
    )]
    Mismatch {
        dir: PathBuf,
        file: String,
        expected: String,
        found: String,
    },
    #[error("cannot read {file} in {dir}: {source}")]
    Io {
        dir: PathBuf,
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Reads a file the run saved, after checking it against the digest the journal recorded.
pub fn read_saved(dir: &Path, file: &str) -> Result<Vec<u8>, SavedFileError> {
    let records = read_records(dir)?;
    let expected = records
        .iter()
        .rev()
        .find_map(|r| match &r.event {
            Event::FileSaved { file: f, sha256 } if f == file => Some(sha256.clone()),
            _ => None,
        })
        .ok_or_else(|| SavedFileError::NotRecorded {
            dir: dir.to_path_buf(),
            file: file.to_string(),
        })?;
    let bytes = std::fs::read(dir.join(file)).map_err(|source| SavedFileError::Io {
        dir: dir.to_path_buf(),
        file: file.to_string(),
        source,
    })?;
    let found = sha256_hex(&bytes);
    if found != expected {
        return Err(SavedFileError::Mismatch {
            dir: dir.to_path_buf(),
            file: file.to_string(),
            expected,
            found,
        });
    }
    Ok(bytes)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Journal {
    /// Starts a new run in `dir` (created 0700, or an existing empty private directory) and
    /// locks it for as long as the returned journal lives; refuses a directory with content.
    pub fn create(dir: &Path) -> Result<Journal, JournalError> {
        make_fresh_dir(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    JournalError::Exists {
                        path: dir.to_path_buf(),
                    }
                } else {
                    JournalError::Io {
                        path: path.clone(),
                        source: e,
                    }
                }
            })?;
        lock(&file, dir, true)?;
        sync_dir(dir);
        Ok(Journal {
            dir: dir.to_path_buf(),
            file,
            seq: 0,
        })
    }

    /// Reopens an existing run's journal to append (cleanup), locked like [`Journal::create`]
    /// (a run still alive is refused); returns it with its records. A torn last line (the
    /// process died while writing it) is cut off first, so that the next record starts on a
    /// line of its own.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Record>), JournalError> {
        check_trusted(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    JournalError::Missing {
                        path: dir.to_path_buf(),
                    }
                } else {
                    io_err(&path)(e)
                }
            })?;
        lock(&file, dir, true)?;
        let records = read_records(dir)?;
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut text).map_err(io_err(&path))?;
        let last_line = text
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(&text[..], |i| &text[i + 1..]);
        let whole_last = serde_json::from_slice::<Record>(last_line).is_ok();
        let torn = if !text.is_empty() && !text.ends_with(b"\n") && whole_last {
            // A whole record that only lacks its newline (read_records, and so the dry run,
            // counts it): keep it and end its line.
            file.write_all(b"\n").map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            None
        } else if !text.is_empty() && !text.ends_with(b"\n") {
            let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            file.set_len(keep as u64).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            Some(text.len() - keep)
        } else {
            None
        };
        let seq = records.last().map(|r| r.seq).unwrap_or(0);
        let mut journal = Journal {
            dir: dir.to_path_buf(),
            file,
            seq,
        };
        if let Some(n) = torn {
            journal
                .record(Event::Note {
                    text: format!(
                        "cut off a torn last line ({n} bytes) left by a process that died while writing it"
                    ),
                })
                .map_err(io_err(&path))?;
        }
        Ok((journal, records))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record and fsyncs it before returning.
    pub fn record(&mut self, event: Event) -> std::io::Result<()> {
        self.seq += 1;
        let rec = Record {
            seq: self.seq,
            time: Utc::now(),
            event,
        };
        let mut line = serde_json::to_string(&rec).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }

    /// Saves a previous state (or an object to write) beside the journal (0600, fsync'd), byte
    /// for byte, and journals its SHA-256. A file of that name already there was not written by
    /// this run: refused, never trusted.
    pub fn save_file(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.dir.join(name);
        if name.contains('/') || name.starts_with('.') || name == JOURNAL_FILE {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad saved-state file name {name}"),
            ));
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "{} already exists: this run did not write it; refusing to use the run directory",
                            path.display()
                        ),
                    )
                } else {
                    e
                }
            })?;
        f.write_all(bytes)?;
        f.sync_all()?;
        sync_dir(&self.dir);
        self.record(Event::FileSaved {
            file: name.to_string(),
            sha256: sha256_hex(bytes),
        })?;
        Ok(path)
    }
}

/// Reads every record of a run. A torn last line (the process died while writing it) is
/// ignored; a bad line elsewhere is an error.
pub fn read_records(dir: &Path) -> Result<Vec<Record>, JournalError> {
    let path = dir.join(JOURNAL_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(JournalError::Missing {
                path: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            // A torn line that an older version appended after: the torn record is lost, the
            // record written after it is whole at the end of the line.
            Err(_) if after_torn(line).is_some() => out.extend(after_torn(line)),
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path,
                    line: i + 1,
                    detail: e.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// The whole record at the end of a line whose start is a torn record (not JSON at all).
fn after_torn(line: &str) -> Option<Record> {
    if serde_json::from_str::<serde_json::Value>(line).is_ok() {
        return None;
    }
    let at = line.rfind("{\"seq\":").filter(|at| *at > 0)?;
    serde_json::from_str::<Record>(&line[at..]).ok()
}

/// The steps of a run whose changes are (or may be) still in place, in the order they ran:
/// "done" steps with their refined undo, and steps started but never finished (or failed in a
/// way that may have changed something) with their planned undo, marked uncertain. A step whose
/// undo already succeeded is left out, so running cleanup twice does nothing the second time.
pub fn pending_undos(records: &[Record]) -> Vec<Applied> {
    let mut by_step: BTreeMap<u32, (Applied, u64)> = BTreeMap::new();
    let mut order: Vec<u32> = Vec::new();
    for r in records {
        match &r.event {
            Event::StepStarted {
                step,
                undo,
                temporary,
                ..
            } => {
                if !order.contains(step) {
                    order.push(*step);
                }
                by_step.insert(
                    *step,
                    (
                        Applied {
                            step: *step,
                            undo: undo.clone(),
                            temporary: *temporary,
                            uncertain: true,
                        },
                        r.seq,
                    ),
                );
            }
            Event::StepDone { step, undo, .. } => {
                if let Some((a, _)) = by_step.get_mut(step) {
                    a.undo = undo.clone();
                    a.uncertain = false;
                }
            }
            Event::StepFailed { step, error } if !error.maybe_changed => {
                by_step.remove(step);
            }
            Event::UndoDone { step, .. } => {
                by_step.remove(step);
            }
            _ => {}
        }
    }
    let pending: Vec<Applied> = order
        .into_iter()
        .filter_map(|s| by_step.remove(&s).map(|(a, _)| a))
        .filter(|a| a.undo.is_reversible())
        .collect();
    // A key whose id was never journaled, on a user this run created (its unique id known):
    // deleting that user deletes the key with it, and no one else's key can be on it.
    let own_users: Vec<String> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::StepDone {
                undo:
                    Undo::DeleteUser {
                        user_name,
                        unique_id: Some(_),
                    },
                ..
            } => Some(user_name.clone()),
            _ => None,
        })
        .collect();
    pending
        .into_iter()
        .filter(|a| {
            !matches!(&a.undo, Undo::DeleteAccessKey { user_name, access_key_id: None, .. }
                if own_users.contains(user_name))
        })
        .collect()
}

/// Access keys of `user` that runs under `base` created and that are still in place as far as
/// their journals know (kept with `--keep`, or left by a run that died): key id and run directory.
pub fn run_keys(base: &Path, user: &str) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(records) = read_records(&dir) else {
            continue;
        };
        for a in pending_undos(&records) {
            if let Undo::DeleteAccessKey {
                user_name,
                access_key_id: Some(id),
                ..
            } = &a.undo
                && user_name == user
            {
                out.push((id.clone(), dir.clone()));
            }
        }
    }
    out
}

/// The `--profile` a run acted as, from its first record.
pub fn run_profile(records: &[Record]) -> Option<&str> {
    records.iter().find_map(|r| match &r.event {
        Event::RunStarted { profile, .. } => profile.as_deref(),
        _ => None,
    })
}

/// The plan and command of a run, from its first record.
pub fn run_header(records: &[Record]) -> Option<(&str, &str, &str, &Plan)> {
    records.iter().find_map(|r| match &r.event {
        Event::RunStarted {
            command,
            cluster,
            region,
            plan,
            ..
        } => Some((command.as_str(), cluster.as_str(), region.as_str(), plan)),
        _ => None,
    })
}

/// The run's irreversible steps that ran (shown by cleanup: "left as is").
pub fn irreversible_done(records: &[Record]) -> Vec<(u32, String)> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::StepDone { step, undo, .. } if !undo.is_reversible() => {
                Some((*step, undo.describe()))
            }
            _ => None,
        })
        .collect()
}

/// The run's irreversible steps that were started and never finished (the process was killed
/// in the middle of, say, an authentication-mode switch): they may have happened, cannot be
/// undone, and must be said.
pub fn irreversible_interrupted(records: &[Record]) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for r in records {
        match &r.event {
            Event::StepStarted {
                step, what, undo, ..
            } if !undo.is_reversible() => {
                out.push((*step, format!("{what} ({})", undo.describe())))
            }
            Event::StepDone { step, .. } => out.retain(|(s, _)| s != step),
            Event::StepFailed { step, error } if !error.maybe_changed => {
                out.retain(|(s, _)| s != step)
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::plan::{Action, Undone};
    use std::os::unix::fs::PermissionsExt as _;

    fn key_undo(id: Option<&str>) -> Undo {
        Undo::DeleteAccessKey {
            user_name: "u".into(),
            access_key_id: id.map(str::to_string),
            keys_before: vec![],
        }
    }

    fn started(step: u32, undo: Undo) -> Event {
        Event::StepStarted {
            step,
            what: "x".into(),
            call: Action::CreateAccessKey {
                user_name: "u".into(),
            }
            .call(),
            undo,
            temporary: false,
        }
    }

    #[test]
    fn private_modes_append_and_read_back() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("run");
        let mut j = Journal::create(&dir).unwrap();
        j.record(started(1, key_undo(None))).unwrap();
        j.save_file("trust-r.json", b"{ \"a\" : 1 }").unwrap();
        assert!(j.save_file("trust-r.json", b"second").is_err());
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        for f in [JOURNAL_FILE, "trust-r.json"] {
            assert_eq!(
                std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777,
                0o600,
                "{f}"
            );
        }
        assert_eq!(read_saved(&dir, "trust-r.json").unwrap(), b"{ \"a\" : 1 }");
        assert!(matches!(
            Journal::create(&dir),
            Err(JournalError::NotFresh { .. })
        ));
        // One writer at a time: the run holds its journal.
        assert!(matches!(
            Journal::open(&dir),
            Err(JournalError::Busy { .. })
        ));
        assert!(matches!(
            check_not_busy(&dir),
            Err(JournalError::Busy { .. })
        ));
        drop(j);
        check_not_busy(&dir).unwrap();
        let (mut j2, recs) = Journal::open(&dir).unwrap();
        assert_eq!(recs.len(), 2);
        j2.record(Event::RunFinished {
            status: "cleaned".into(),
        })
        .unwrap();
        let recs = read_records(&dir).unwrap();
        assert_eq!(
            recs.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(j2.save_file("../x", b"").is_err());
    }

    #[test]
    fn saved_files_are_checked_against_the_journal() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("run");
        let mut j = Journal::create(&dir).unwrap();
        j.save_file("aws-auth.before.json", b"{}").unwrap();
        std::fs::write(dir.join("planted.json"), b"{}").unwrap();
        assert!(matches!(
            read_saved(&dir, "planted.json"),
            Err(SavedFileError::NotRecorded { .. })
        ));
        std::fs::write(dir.join("aws-auth.before.json"), b"{\"x\":1}").unwrap();
        assert!(matches!(
            read_saved(&dir, "aws-auth.before.json"),
            Err(SavedFileError::Mismatch { .. })
        ));
    }

    #[test]
    fn an_existing_directory_must_be_empty_and_private_and_keeps_its_mode() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("given");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        drop(Journal::create(&dir).unwrap());
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o750,
            "an existing directory is not chmod'ed"
        );
        let shared = t.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(
            Journal::create(&shared),
            Err(JournalError::NotPrivate { .. })
        ));
    }

    #[test]
    fn torn_last_line_is_ignored_but_corruption_elsewhere_is_not() {
        let t = tempfile::tempdir().unwrap();
        let mut j = Journal::create(t.path()).unwrap();
        j.record(started(1, key_undo(None))).unwrap();
        drop(j);
        let path = t.path().join(JOURNAL_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"seq\":2,\"ti").unwrap();
        assert_eq!(read_records(t.path()).unwrap().len(), 1);
        // Reopening cuts the torn tail off, so the next record starts on its own line.
        let (mut j, recs) = Journal::open(t.path()).unwrap();
        assert_eq!(recs.len(), 1);
        j.record(Event::RunFinished {
            status: "cleaned".into(),
        })
        .unwrap();
        drop(j);
        let recs = read_records(t.path()).unwrap();
        assert_eq!(recs.len(), 3, "{recs:?}");
        assert!(matches!(recs[1].event, Event::Note { .. }));
        // A journal that an older version appended to after a torn line still reads.
        let t2 = tempfile::tempdir().unwrap();
        let mut j = Journal::create(t2.path()).unwrap();
        j.record(started(1, key_undo(None))).unwrap();
        drop(j);
        let path2 = t2.path().join(JOURNAL_FILE);
        let mut f2 = OpenOptions::new().append(true).open(&path2).unwrap();
        f2.write_all(b"{\"seq\":2,\"ti").unwrap();
        f2.write_all(
            format!(
                "{}\n",
                serde_json::to_string(&rec(3, Event::RunFinished { status: "x".into() })).unwrap()
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(read_records(t2.path()).unwrap().len(), 2);
        f.write_all(b"{}\n").unwrap();
        assert!(matches!(
            read_records(t.path()),
            Err(JournalError::Corrupt { line: 4, .. })
        ));
    }

    fn rec(seq: u64, event: Event) -> Record {
        Record {
            seq,
            time: Utc::now(),
            event,
        }
    }

    #[test]
    fn pending_undos_follow_the_run() {
        let entry = Undo::DeleteAccessEntry {
            cluster: "c".into(),
            principal_arn: "p".into(),
            made: None,
            entry_arn: None,
        };
        let records = vec![
            rec(
                1,
                started(
                    1,
                    Undo::Irreversible {
                        reason: "one-way".into(),
                    },
                ),
            ),
            rec(
                2,
                Event::StepDone {
                    step: 1,
                    undo: Undo::Irreversible {
                        reason: "one-way".into(),
                    },
                    facts: BTreeMap::new(),
                },
            ),
            rec(3, started(2, entry.clone())),
            rec(
                4,
                Event::StepDone {
                    step: 2,
                    undo: entry.clone(),
                    facts: BTreeMap::new(),
                },
            ),
            rec(5, started(3, key_undo(None))),
        ];
        let p = pending_undos(&records);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].step, p[0].uncertain), (2, false));
        assert_eq!((p[1].step, p[1].uncertain), (3, true));
        assert_eq!(irreversible_done(&records).len(), 1);

        // A failed step that AWS refused changed nothing; one that timed out may have.
        let mut failed = records.clone();
        failed.push(rec(
            6,
            Event::StepFailed {
                step: 3,
                error: StepError {
                    message: "denied".into(),
                    denied_action: Some("iam:CreateAccessKey".into()),
                    hint: None,
                    maybe_changed: false,
                },
            },
        ));
        assert_eq!(pending_undos(&failed).len(), 1);

        // Once undone, nothing is pending: cleanup is idempotent.
        let mut cleaned = records;
        cleaned.push(rec(
            6,
            Event::UndoDone {
                step: 3,
                result: Undone::AlreadyClean("no key".into()),
            },
        ));
        cleaned.push(rec(
            7,
            Event::UndoDone {
                step: 2,
                result: Undone::Reversed("deleted".into()),
            },
        ));
        assert!(pending_undos(&cleaned).is_empty());
    }

    #[test]
    fn latest_run_sorts_by_name_and_names_sort_by_time() {
        let t = tempfile::tempdir().unwrap();
        let t1 = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let t2 = t1 + chrono::TimeDelta::seconds(1);
        let a = t.path().join(run_dir_name(t1, "grant", "prod"));
        let b = t.path().join(run_dir_name(t2, "grant", "a/b"));
        Journal::create(&a).unwrap();
        Journal::create(&b).unwrap();
        assert_eq!(latest_run(t.path()).unwrap(), b);
        assert!(b.to_string_lossy().ends_with("-grant-a_b"));
        assert!(matches!(
            latest_run(&t.path().join("none")),
            Err(JournalError::NoRuns { .. })
        ));
    }
}
