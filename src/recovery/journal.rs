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

use super::plan::{Applied, AwsCall, Plan, StepError, Undo, Undone};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
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

fn make_private_dir(dir: &Path) -> Result<(), JournalError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err(dir))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Journal {
    /// Starts a new run in `dir` (created 0700); refuses a directory that already has a journal.
    pub fn create(dir: &Path) -> Result<Journal, JournalError> {
        make_private_dir(dir)?;
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
        sync_dir(dir);
        Ok(Journal {
            dir: dir.to_path_buf(),
            file,
            seq: 0,
        })
    }

    /// Reopens an existing run's journal to append (cleanup); returns it with its records.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Record>), JournalError> {
        let records = read_records(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let seq = records.last().map(|r| r.seq).unwrap_or(0);
        Ok((
            Journal {
                dir: dir.to_path_buf(),
                file,
                seq,
            },
            records,
        ))
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

    /// Saves a previous state beside the journal (0600, fsync'd), byte for byte; an existing
    /// file of that name is kept (the first saved state is the one to restore).
    pub fn save_file(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.dir.join(name);
        if name.contains('/') || name.starts_with('.') {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad saved-state file name {name}"),
            ));
        }
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(bytes)?;
                f.sync_all()?;
                sync_dir(&self.dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        Ok(path)
    }

    /// Reads a saved state back.
    pub fn read_file(dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(dir.join(name))
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
    order
        .into_iter()
        .filter_map(|s| by_step.remove(&s).map(|(a, _)| a))
        .filter(|a| a.undo.is_reversible())
        .collect()
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
        j.save_file("trust-r.json", b"second").unwrap();
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
        assert_eq!(
            Journal::read_file(&dir, "trust-r.json").unwrap(),
            b"{ \"a\" : 1 }"
        );
        assert!(matches!(
            Journal::create(&dir),
            Err(JournalError::Exists { .. })
        ));
        let (mut j2, recs) = Journal::open(&dir).unwrap();
        assert_eq!(recs.len(), 1);
        j2.record(Event::RunFinished {
            status: "cleaned".into(),
        })
        .unwrap();
        let recs = read_records(&dir).unwrap();
        assert_eq!(recs.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert!(Journal::save_file(&j2, "../x", b"").is_err());
    }

    #[test]
    fn torn_last_line_is_ignored_but_corruption_elsewhere_is_not() {
        let t = tempfile::tempdir().unwrap();
        let mut j = Journal::create(t.path()).unwrap();
        j.record(started(1, key_undo(None))).unwrap();
        let path = t.path().join(JOURNAL_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"seq\":2,\"ti").unwrap();
        assert_eq!(read_records(t.path()).unwrap().len(), 1);
        f.write_all(b"\n{}\n").unwrap();
        assert!(matches!(
            read_records(t.path()),
            Err(JournalError::Corrupt { line: 2, .. })
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
