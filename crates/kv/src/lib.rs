//! `kv`: a small ordered key-value layer with two embedded engines, under which the event store
//! keeps its log, stream heads, indexes and subscriber checkpoints.
//!
//! # What it guarantees
//! - **Atomic, durable batches.** [`KvEngine::commit`] applies every put and delete of a
//!   [`Batch`], across any tables, as one unit. When it returns `Ok`, the whole batch is on stable
//!   storage (fsynced) and survives SIGKILL or power loss; after a crash either all of a batch is
//!   there or none of it.
//! - **Reads see committed batches only.** A read never sees part of a batch, and never sees a
//!   batch before its commit has made it durable. Each read call (`get`, `scan`, `scan_rev`,
//!   `last`) is one consistent view; two calls may see different batches.
//! - **Ordered tables.** Keys and values are byte strings; keys are ordered bytewise, per
//!   [`Table`].
//! - **Limits checked before writing.** A batch that breaks a limit ([`KEY_BYTES_MAX`],
//!   [`VALUE_BYTES_MAX`], [`BATCH_OPS_MAX`], [`BATCH_BYTES_MAX`]) is refused whole with
//!   [`KvError::BatchRefused`], listing the problems, and nothing is written.
//! - **A failed commit stops the store.** If a commit fails once it has started writing, its
//!   outcome on disk is unknown (fsync errors cannot be retried safely), so the engine refuses
//!   every later operation with [`KvError::Poisoned`]; reopening recovers from what is on disk.
//!
//! # Engines
//! - [`RedbEngine`] (always compiled): redb 4, one file `kv.redb` in the store directory.
//! - `SledEngine` (cargo feature `sled`): sled 0.34.7 in `sled/` inside the store directory, made
//!   durable by fsyncing its files ourselves, because its own flush does not.
//!
//! The engine is chosen at run time with [`open`] and an [`EngineKind`], which puts the
//! write-ahead log [`Logged`] in front of it: a commit is one record synced in `kv.wal`, then
//! applied to the engine without the engine's own durability; the engine commits durably itself
//! at checkpoints. The crate's README describes the log, durability per engine and what remains a
//! risk.

mod batch;
mod error;
mod fsync;
mod poison;
mod redb_engine;
#[cfg(feature = "sled")]
mod sled_engine;
mod table;
mod wal;

use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::str::FromStr;

pub use batch::{Batch, Op};
pub use error::{BatchProblem, EngineError, KvError, chain as error_chain};
pub use redb_engine::RedbEngine;
#[cfg(feature = "sled")]
pub use sled_engine::SledEngine;
pub use table::Table;
pub use wal::{Logged, WAL_BYTES_MAX, WAL_FILE_NAME, WAL_RECORD_BYTES_MAX, WAL_TABLE};

/// Longest key accepted, in bytes.
pub const KEY_BYTES_MAX: usize = 1024;
/// Longest value accepted, in bytes (16 MiB).
pub const VALUE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most puts and deletes in one batch.
pub const BATCH_OPS_MAX: usize = 1_048_576;
/// Most key and value bytes in one batch, summed over its operations (64 MiB).
pub const BATCH_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Longest table name, in bytes.
pub const TABLE_NAME_BYTES_MAX: usize = 64;
/// Most problems listed in one [`KvError::BatchRefused`]; the error still counts them all.
pub const BATCH_PROBLEMS_LISTED_MAX: usize = 16;
/// Most entries a scan reserves room for before it has read them, so that a large `limit` on a
/// small table costs no large allocation.
pub(crate) const SCAN_PREALLOC_ENTRIES_MAX: usize = 16_384;

/// Name of redb's database file inside the store directory.
pub const REDB_FILE_NAME: &str = "kv.redb";
/// Name of sled's directory inside the store directory.
pub const SLED_DIR_NAME: &str = "sled";

/// One key-value pair read from a table: `(key, value)`.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An embedded, ordered, durable key-value engine.
///
/// Object safe, so the engine can be chosen at run time (`Box<dyn KvEngine>`). All methods are
/// synchronous and may be called from any thread; commits are serialised inside the engine.
pub trait KvEngine: Send + Sync + 'static {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// The store directory this engine was opened on.
    fn path(&self) -> &Path;

    /// Applies every operation of `batch`, in order (a later operation on the same key wins),
    /// atomically and durably: on `Ok` the whole batch is fsynced; after a crash either all of
    /// it is on disk or none of it. An empty batch is a no-op that returns `Ok`.
    ///
    /// # Errors
    /// [`KvError::BatchRefused`] if the batch breaks a limit (nothing is written, the engine
    /// stays usable); [`KvError::Commit`] if writing or syncing failed (the engine is poisoned
    /// afterwards); [`KvError::Poisoned`] if an earlier commit failed.
    fn commit(&self, batch: Batch) -> Result<(), KvError>;

    /// As [`KvEngine::commit`], calling `durable` once, as soon as the batch is durable: behind
    /// the write-ahead log ([`Logged`]) that is when its record is synced, before the batch is
    /// applied to the engine and reads see it, so the caller can answer for the batch while it
    /// is applied; elsewhere, after the commit. Once `durable` is called the batch survives a
    /// crash even if this then fails (the log replays it at the next opening); the engine is
    /// poisoned after such a failure, as after any.
    ///
    /// # Errors
    /// As [`KvEngine::commit`]; `durable` is not called when the batch is refused or its record
    /// could not be synced.
    fn commit_announced(&self, batch: Batch, durable: &mut dyn FnMut()) -> Result<(), KvError> {
        self.commit(batch)?;
        durable();
        Ok(())
    }

    /// The value stored under `key` in `table`, if any.
    ///
    /// # Errors
    /// [`KvError::Read`] if the engine failed to read; [`KvError::Poisoned`] after a failed
    /// commit.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;

    /// The value stored under each of `keys` in `table`, in the order of `keys`: what
    /// [`KvEngine::get`] gives for each, read in one read transaction where the engine has them
    /// (redb), so a decision's events cost one transaction, not one each.
    ///
    /// # Errors
    /// As [`KvEngine::get`].
    fn get_many(&self, table: Table, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        keys.iter().map(|key| self.get(table, key)).collect()
    }

    /// At most `limit` entries of `table` with keys between `from` and `to`, in ascending key
    /// order. To page, pass `Bound::Excluded(last key seen)` as the next `from`. An empty or
    /// inverted range, or `limit == 0`, gives an empty result.
    ///
    /// # Errors
    /// As [`KvEngine::get`].
    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, KvError>;

    /// As [`KvEngine::scan`], in descending key order: the first entry is the greatest key in
    /// the range. To page backwards, pass `Bound::Excluded(last key seen)` as the next `to`.
    ///
    /// # Errors
    /// As [`KvEngine::get`].
    fn scan_rev(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, KvError>;

    /// The entry with the greatest key in `table`, if the table has any (the event store uses it
    /// to recover the head of its log on open).
    ///
    /// # Errors
    /// As [`KvEngine::get`].
    fn last(&self, table: Table) -> Result<Option<Entry>, KvError> {
        Ok(self
            .scan_rev(table, Bound::Unbounded, Bound::Unbounded, 1)?
            .pop())
    }
}

/// The engines this crate knows; parsed from and shown as `"redb"` and `"sled"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// [`RedbEngine`]: always compiled.
    Redb,
    /// `SledEngine`: compiled with the cargo feature `sled`.
    Sled,
}

impl EngineKind {
    /// Every engine kind, compiled in or not.
    pub const ALL: [EngineKind; 2] = [EngineKind::Redb, EngineKind::Sled];

    /// The engine's name: `"redb"` or `"sled"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EngineKind::Redb => "redb",
            EngineKind::Sled => "sled",
        }
    }

    /// Whether this build can open this engine.
    pub const fn is_compiled(self) -> bool {
        match self {
            EngineKind::Redb => true,
            EngineKind::Sled => cfg!(feature = "sled"),
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EngineKind {
    type Err = KvError;

    fn from_str(name: &str) -> Result<EngineKind, KvError> {
        EngineKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| KvError::UnknownEngine {
                name: name.to_owned(),
            })
    }
}

/// Opens (creating if needed) the store in directory `path` with the engine `kind`, behind the
/// write-ahead log [`Logged`] (replaying what the engine lacks after a crash).
///
/// The directory belongs to the engine: redb keeps [`REDB_FILE_NAME`] in it, sled keeps
/// [`SLED_DIR_NAME`]. Opening a directory that holds the other engine's store is refused.
///
/// # Errors
/// [`KvError::EngineNotCompiled`] for `Sled` without the `sled` feature;
/// [`KvError::EngineMismatch`]; [`KvError::Open`] or [`KvError::Io`] if the engine cannot open.
pub fn open(kind: EngineKind, path: &Path) -> Result<Box<dyn KvEngine>, KvError> {
    match kind {
        EngineKind::Redb => Ok(Box::new(Logged::open(
            Box::new(RedbEngine::open(path)?),
            path,
        )?)),
        #[cfg(feature = "sled")]
        EngineKind::Sled => Ok(Box::new(Logged::open(
            Box::new(SledEngine::open(path)?),
            path,
        )?)),
        #[cfg(not(feature = "sled"))]
        EngineKind::Sled => Err(KvError::EngineNotCompiled { kind }),
    }
}

/// Refuses to open `dir` as `wanted` when it already holds the other engine's store.
pub(crate) fn check_engine_matches(dir: &Path, wanted: EngineKind) -> Result<(), KvError> {
    let (other, marker) = match wanted {
        EngineKind::Redb => (EngineKind::Sled, SLED_DIR_NAME),
        EngineKind::Sled => (EngineKind::Redb, REDB_FILE_NAME),
    };
    let found = dir
        .join(marker)
        .try_exists()
        .map_err(|source| KvError::Io {
            engine: wanted,
            path: dir.to_path_buf(),
            action: "look for another engine's files in the store directory",
            source,
        })?;
    if found {
        return Err(KvError::EngineMismatch {
            path: dir.to_path_buf(),
            found: other,
            wanted,
        });
    }
    Ok(())
}

/// Whether no key can lie between `from` and `to` because the bounds are inverted or meet
/// (the engines' range functions may panic on such bounds, so they never see them).
pub(crate) fn range_is_empty(from: Bound<&[u8]>, to: Bound<&[u8]>) -> bool {
    match (from, to) {
        (Bound::Included(low), Bound::Included(high)) => low > high,
        (Bound::Included(low) | Bound::Excluded(low), Bound::Excluded(high))
        | (Bound::Excluded(low), Bound::Included(high)) => low >= high,
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_kind_round_trips_through_its_name() {
        for kind in EngineKind::ALL {
            assert_eq!(kind.as_str().parse::<EngineKind>().ok(), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(EngineKind::Redb.as_str(), "redb");
        assert_eq!(EngineKind::Sled.as_str(), "sled");
    }

    #[test]
    fn engine_kind_refuses_unknown_names() {
        for name in ["", "Redb", "REDB", "rocksdb", "sled ", " redb"] {
            let error = name.parse::<EngineKind>().expect_err(name);
            assert!(
                matches!(&error, KvError::UnknownEngine { name: n } if n == name),
                "{error}"
            );
        }
    }

    #[test]
    fn empty_ranges() {
        use Bound::{Excluded as E, Included as I, Unbounded as U};
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        type Case<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>, bool);
        let cases: [Case<'_>; 12] = [
            (I(a), I(a), false),
            (I(a), E(a), true),
            (E(a), I(a), true),
            (E(a), E(a), true),
            (I(b), I(a), true),
            (E(b), E(a), true),
            (I(a), I(b), false),
            (E(a), E(b), false),
            (U, I(a), false),
            (I(b), U, false),
            (U, U, false),
            (E(a), U, false),
        ];
        for (from, to, empty) in cases {
            assert_eq!(range_is_empty(from, to), empty, "{from:?}..{to:?}");
        }
    }

    #[cfg(not(feature = "sled"))]
    #[test]
    fn sled_is_refused_when_not_compiled() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let error = open(EngineKind::Sled, dir.path())
            .err()
            .expect("sled must be refused without the feature");
        assert!(
            matches!(
                error,
                KvError::EngineNotCompiled {
                    kind: EngineKind::Sled
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("`sled` feature"), "{error}");
    }
}
