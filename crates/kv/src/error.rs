//! [`KvError`]: what failed and where (engine, store path, table, step), wrapping the engine's
//! own error as the `source`.
//!
//! Two kinds of failure, kept apart: a refused batch ([`KvError::BatchRefused`]) is the caller's
//! mistake, nothing was written and the engine stays usable; a failed commit
//! ([`KvError::Commit`]) leaves the disk in an unknown state, so the engine is poisoned and every
//! later call answers [`KvError::Poisoned`] until the store is reopened.

use std::fmt;
use std::path::PathBuf;

use crate::{BATCH_BYTES_MAX, BATCH_OPS_MAX, EngineKind, KEY_BYTES_MAX, Table, VALUE_BYTES_MAX};

/// An error of the key-value layer. Messages do not repeat the `source`; walk
/// [`std::error::Error::source`] for the engine's own words.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// The engine could not open (or create) the store.
    #[error("{engine} store at {}: cannot open", path.display())]
    Open {
        /// The engine.
        engine: EngineKind,
        /// The store directory.
        path: PathBuf,
        /// The engine's error.
        #[source]
        source: EngineError,
    },

    /// A file-system call of this crate's own failed (creating the directory, fsync).
    #[error("{engine} store at {}: cannot {action}", path.display())]
    Io {
        /// The engine.
        engine: EngineKind,
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A read failed; nothing was changed.
    #[error("{engine} store at {}: reading table {table} failed", path.display())]
    Read {
        /// The engine.
        engine: EngineKind,
        /// The store directory.
        path: PathBuf,
        /// The table read.
        table: Table,
        /// The engine's error.
        #[source]
        source: EngineError,
    },

    /// A commit failed after it began writing: whether the batch is on disk is unknown. The
    /// engine is poisoned; reopen the store to recover from what is on disk.
    #[error(
        "{engine} store at {}: commit of a batch of {ops} operations failed while trying to \
         {step}; the store refuses every operation until it is reopened",
        path.display()
    )]
    Commit {
        /// The engine.
        engine: EngineKind,
        /// The store directory.
        path: PathBuf,
        /// Operations in the batch.
        ops: usize,
        /// The step that failed, e.g. "write table events" or "fsync sled/db".
        step: String,
        /// The engine's error.
        #[source]
        source: EngineError,
    },

    /// An earlier commit failed, so this engine refuses everything until the store is reopened.
    #[error(
        "{engine} store at {}: refused because an earlier commit failed ({cause}); reopen the \
         store to recover from what is on disk",
        path.display()
    )]
    Poisoned {
        /// The engine.
        engine: EngineKind,
        /// The store directory.
        path: PathBuf,
        /// The earlier failure, with its chain of causes.
        cause: String,
    },

    /// The batch breaks a limit; it was refused whole and nothing was written.
    #[error(
        "batch refused, nothing written: {}",
        ProblemList { problems, problems_total: *problems_total }
    )]
    BatchRefused {
        /// The problems found, at most [`BATCH_PROBLEMS_LISTED_MAX`](crate::BATCH_PROBLEMS_LISTED_MAX).
        problems: Vec<BatchProblem>,
        /// All problems found, listed or not.
        problems_total: usize,
    },

    /// The directory holds the other engine's store.
    #[error("{} holds a {found} store; it cannot be opened as a {wanted} store", path.display())]
    EngineMismatch {
        /// The store directory.
        path: PathBuf,
        /// The engine whose files are there.
        found: EngineKind,
        /// The engine asked for.
        wanted: EngineKind,
    },

    /// The engine is not compiled into this build.
    #[error("the {kind} engine is not compiled in; build the kv crate with its `{kind}` feature")]
    EngineNotCompiled {
        /// The engine asked for.
        kind: EngineKind,
    },

    /// An engine name that is neither `redb` nor `sled`.
    #[error("unknown key-value engine {name:?}; expected \"redb\" or \"sled\"")]
    UnknownEngine {
        /// The name given.
        name: String,
    },
}

/// One broken limit in a refused batch.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchProblem {
    /// More operations than [`BATCH_OPS_MAX`].
    TooManyOps {
        /// Operations in the batch.
        ops: usize,
    },
    /// More key and value bytes than [`BATCH_BYTES_MAX`].
    TooManyBytes {
        /// Key and value bytes in the batch.
        bytes: usize,
    },
    /// A key longer than [`KEY_BYTES_MAX`].
    KeyTooLong {
        /// Position of the operation in the batch, from 0.
        index: usize,
        /// Its table.
        table: Table,
        /// The key's length.
        key_bytes: usize,
    },
    /// An operation on the table the write-ahead log keeps for itself
    /// ([`WAL_TABLE`](crate::WAL_TABLE)).
    ReservedTable {
        /// Position of the operation in the batch, from 0.
        index: usize,
        /// Its table.
        table: Table,
    },
    /// A value longer than [`VALUE_BYTES_MAX`].
    ValueTooLong {
        /// Position of the operation in the batch, from 0.
        index: usize,
        /// Its table.
        table: Table,
        /// The value's length.
        value_bytes: usize,
    },
}

impl fmt::Display for BatchProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchProblem::TooManyOps { ops } => {
                write!(
                    f,
                    "{ops} operations, more than BATCH_OPS_MAX {BATCH_OPS_MAX}"
                )
            }
            BatchProblem::TooManyBytes { bytes } => write!(
                f,
                "{bytes} bytes of keys and values, more than BATCH_BYTES_MAX {BATCH_BYTES_MAX}"
            ),
            BatchProblem::KeyTooLong {
                index,
                table,
                key_bytes,
            } => write!(
                f,
                "operation {index} (table {table}): key of {key_bytes} bytes, more than \
                 KEY_BYTES_MAX {KEY_BYTES_MAX}"
            ),
            BatchProblem::ReservedTable { index, table } => write!(
                f,
                "operation {index} (table {table}): the table is reserved for the write-ahead log"
            ),
            BatchProblem::ValueTooLong {
                index,
                table,
                value_bytes,
            } => write!(
                f,
                "operation {index} (table {table}): value of {value_bytes} bytes, more than \
                 VALUE_BYTES_MAX {VALUE_BYTES_MAX}"
            ),
        }
    }
}

struct ProblemList<'a> {
    problems: &'a [BatchProblem],
    problems_total: usize,
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, problem) in self.problems.iter().enumerate() {
            if position > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        let unlisted = self.problems_total.saturating_sub(self.problems.len());
        if unlisted > 0 {
            write!(f, "; and {unlisted} more")?;
        }
        Ok(())
    }
}

/// The error of the engine underneath, or of the operating system. The engines' errors are
/// boxed to keep [`KvError`] small on the success path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// redb's error.
    #[error(transparent)]
    Redb(Box<redb::Error>),
    /// sled's error.
    #[cfg(feature = "sled")]
    #[error(transparent)]
    Sled(Box<sled::Error>),
    /// An operating-system error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Data read back from the engine broke an invariant of this crate.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl EngineError {
    /// Wraps any of redb's errors.
    pub(crate) fn redb(error: impl Into<redb::Error>) -> EngineError {
        EngineError::Redb(Box::new(error.into()))
    }

    /// Wraps sled's error.
    #[cfg(feature = "sled")]
    pub(crate) fn sled(error: sled::Error) -> EngineError {
        EngineError::Sled(Box::new(error))
    }
}

/// `error` and its chain of sources, joined by ": ", for messages that outlive the error (a
/// poisoned engine's cause, a stopped writer's reason). A source an error already quotes in its
/// own message is not said again; the deepest cause (the operating system's "No space left on
/// device", say) is what an operator needs most, so it is never left out.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
