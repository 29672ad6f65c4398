//! [`RedbEngine`]: the key-value layer on redb 4, one database file `kv.redb` in the store
//! directory, one redb table per [`Table`].
//!
//! Durability: every batch is one redb write transaction, committed with
//! `Durability::Immediate` (redb's default, set explicitly) and two-phase commit: redb writes the
//! new tree pages and the inactive commit slot, `fdatasync`s, flips the slot, `fdatasync`s again. When
//! `commit` returns the batch is on disk; after a crash redb opens the last commit slot that was
//! completely written, so a batch is there whole or not at all. Two-phase commit costs a second
//! fsync per batch; without it redb relies on a checksum of the new root alone to reject a torn
//! commit. redb does not fsync the directory that names its file, so the first open does.
//!
//! Behind the write-ahead log ([`crate::Logged`]) the log's batches are committed with
//! `Durability::None` ([`Engine::commit_volatile`]), once the log holds them durably, and
//! [`Engine::commit_durable`] serves the log's checkpoints.
//!
//! Reads run in a redb read transaction: a snapshot of the last commit, which redb publishes only
//! after its fsyncs (a durable commit) or at once (a commit with `Durability::None`, made only of
//! batches the log already holds durably); either way a read never sees part of a batch.

use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::{EngineError, chain};
use crate::fsync;
use crate::poison::Poison;
use crate::wal::Engine;
use crate::{
    Batch, EngineKind, Entry, KvEngine, KvError, Op, REDB_FILE_NAME, SCAN_PREALLOC_ENTRIES_MAX,
    Table, range_is_empty,
};

const ENGINE: EngineKind = EngineKind::Redb;

/// The memory redb keeps for its own page cache and write buffer (its default is 1 GiB). The
/// operating system's page cache already holds the file, so redb's copy saves only a read call
/// per page, while a whole-log read (a rebuild, `verify`, a report replay) passes every page
/// through it: at 1 000 000 decisions a rebuild touched 1 GiB more memory for nothing, and this
/// machine pays for fresh memory in kernel time (peak RSS 2.9 GB → 1.5 GB, system time about
/// halved). 64 MiB holds the tree's upper levels and a large import's dirty pages.
const REDB_CACHE_BYTES: usize = 64 << 20;

/// `ops` in the order they are applied: table by table, each in key order, so that each B-tree
/// is walked once from left to right and a page the transaction has already copied takes the
/// next keys, instead of every random key (event ids) copying a page of its own. Operations on
/// one key keep their order, so the outcome is the batch's.
///
/// Sorted as small records (the table's rank, the key's first eight bytes, the operation's
/// place), not as the operations: comparing two records reads neither operation, and only keys
/// that share their first eight bytes are compared whole. A flush of the index tail (three
/// quarters of a million operations with random keys) spent a tenth of an import sorting
/// operations by reference.
fn in_key_order(ops: &[Op]) -> impl Iterator<Item = &Op> {
    let mut tables: Vec<Table> = Vec::new();
    for op in ops {
        if !tables.contains(&op.table()) {
            tables.push(op.table());
        }
    }
    tables.sort_unstable();
    let mut order: Vec<(u32, u64, u32)> = ops
        .iter()
        .enumerate()
        .map(|(place, op)| {
            let rank = tables
                .iter()
                .position(|t| *t == op.table())
                .expect("every table is listed");
            let mut prefix = [0u8; 8];
            let key = op.key();
            let n = key.len().min(8);
            prefix[..n].copy_from_slice(&key[..n]);
            (
                u32::try_from(rank).expect("few tables"),
                u64::from_be_bytes(prefix),
                u32::try_from(place).expect("a batch holds fewer than 2^32 operations"),
            )
        })
        .collect();
    // A key shorter than eight bytes is padded with zeroes, so equal prefixes may still be
    // different keys: those are compared whole, and the place breaks the remaining ties.
    order.sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| ops[a.2 as usize].key().cmp(ops[b.2 as usize].key()))
            .then(a.2.cmp(&b.2))
    });
    order
        .into_iter()
        .map(move |(_, _, place)| &ops[place as usize])
}

/// Every table stores byte-string keys and values, ordered bytewise.
type Definition = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// A table opened for writing in a write transaction.
type WriteTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

fn definition(table: Table) -> Definition {
    TableDefinition::new(table.name())
}

/// The key-value layer on redb 4. See the module documentation for its durability.
pub struct RedbEngine {
    db: redb::Database,
    dir: PathBuf,
    poison: Poison,
}

impl std::fmt::Debug for RedbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbEngine")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl RedbEngine {
    /// Opens the store in directory `path`, creating the directory and the database file
    /// [`REDB_FILE_NAME`] if they do not exist. After a crash redb repairs the file here, which
    /// reads the whole file.
    ///
    /// # Errors
    /// [`KvError::Io`] if the directory cannot be created or synced; [`KvError::EngineMismatch`]
    /// if it holds a sled store; [`KvError::Open`] if redb cannot open the file (for example
    /// because another process has it open).
    pub fn open(path: &Path) -> Result<RedbEngine, KvError> {
        let dir = path.to_path_buf();
        fsync::create_dir_durable(&dir).map_err(|source| KvError::Io {
            engine: ENGINE,
            path: dir.clone(),
            action: "create the store directory",
            source,
        })?;
        crate::check_engine_matches(&dir, ENGINE)?;
        let file = dir.join(REDB_FILE_NAME);
        let db = redb::Database::builder()
            .set_cache_size(REDB_CACHE_BYTES)
            .create(&file)
            .map_err(|error| KvError::Open {
                engine: ENGINE,
                path: dir.clone(),
                source: EngineError::redb(error),
            })?;
        // redb syncs the file's contents, never the directory entry that names the file: without
        // this, a store created just before a power loss could vanish with its first batches.
        File::open(&file)
            .and_then(|handle| handle.sync_all())
            .map_err(|source| KvError::Io {
                engine: ENGINE,
                path: file.clone(),
                action: "fsync the database file",
                source,
            })?;
        fsync::sync_dir(&dir).map_err(|source| KvError::Io {
            engine: ENGINE,
            path: dir.clone(),
            action: "fsync the store directory",
            source,
        })?;
        Ok(RedbEngine {
            db,
            dir,
            poison: Poison::default(),
        })
    }

    fn commit_error(&self, ops: usize, step: String, error: impl Into<redb::Error>) -> KvError {
        KvError::Commit {
            engine: ENGINE,
            path: self.dir.clone(),
            ops,
            step,
            source: EngineError::redb(error),
        }
    }

    fn read_error(&self, table: Table, error: impl Into<redb::Error>) -> KvError {
        KvError::Read {
            engine: ENGINE,
            path: self.dir.clone(),
            table,
            source: EngineError::redb(error),
        }
    }

    fn write(&self, batch: &Batch, durability: redb::Durability) -> Result<(), KvError> {
        let ops = batch.len();
        let mut txn = self
            .db
            .begin_write()
            .map_err(|error| self.commit_error(ops, "begin a write transaction".into(), error))?;
        txn.set_durability(durability)
            .map_err(|error| self.commit_error(ops, "set the durability".into(), error))?;
        txn.set_two_phase_commit(true);
        {
            // A batch touches few tables; open each once.
            let mut open: Vec<(Table, WriteTable<'_>)> = Vec::new();
            for op in in_key_order(batch.ops()) {
                let table = op.table();
                let position = match open.iter().position(|(name, _)| *name == table) {
                    Some(position) => position,
                    None => {
                        let handle = txn.open_table(definition(table)).map_err(|error| {
                            self.commit_error(ops, format!("open table {table}"), error)
                        })?;
                        open.push((table, handle));
                        open.len() - 1
                    }
                };
                let handle = &mut open[position].1;
                let outcome = match op {
                    Op::Put { key, value, .. } => {
                        handle.insert(key.as_slice(), value.as_slice()).map(drop)
                    }
                    Op::Delete { key, .. } => handle.remove(key.as_slice()).map(drop),
                };
                outcome.map_err(|error| {
                    self.commit_error(ops, format!("write table {table}"), error)
                })?;
            }
        }
        txn.commit()
            .map_err(|error| self.commit_error(ops, "commit and fsync".into(), error))
    }

    /// Commits `batch` (its limits already checked) with `durability`; poisons on failure.
    fn commit_with(&self, batch: &Batch, durability: redb::Durability) -> Result<(), KvError> {
        self.poison.check(ENGINE, &self.dir)?;
        if batch.is_empty() {
            return Ok(());
        }
        let outcome = self.write(batch, durability);
        if let Err(error) = &outcome {
            self.poison.set(chain(error));
        }
        outcome
    }

    /// Runs `read` on `table` in a fresh read transaction; a table never written reads as
    /// `empty`.
    fn read<R>(
        &self,
        table: Table,
        empty: impl FnOnce() -> R,
        read: impl FnOnce(
            &redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
        ) -> Result<R, redb::StorageError>,
    ) -> Result<R, KvError> {
        self.poison.check(ENGINE, &self.dir)?;
        let txn = self
            .db
            .begin_read()
            .map_err(|error| self.read_error(table, error))?;
        let handle = match txn.open_table(definition(table)) {
            Ok(handle) => handle,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(empty()),
            Err(error) => return Err(self.read_error(table, error)),
        };
        read(&handle).map_err(|error| self.read_error(table, error))
    }

    fn scan_in(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        descending: bool,
    ) -> Result<Vec<Entry>, KvError> {
        if limit == 0 || range_is_empty(from, to) {
            self.poison.check(ENGINE, &self.dir)?;
            return Ok(Vec::new());
        }
        self.read(table, Vec::new, |handle| {
            let range = handle.range::<&[u8]>((from, to))?;
            let mut entries = Vec::with_capacity(limit.min(SCAN_PREALLOC_ENTRIES_MAX));
            if descending {
                collect(range.rev(), limit, &mut entries)?;
            } else {
                collect(range, limit, &mut entries)?;
            }
            Ok(entries)
        })
    }
}

type Guarded<'a> = (
    redb::AccessGuard<'a, &'static [u8]>,
    redb::AccessGuard<'a, &'static [u8]>,
);

fn collect<'a>(
    range: impl Iterator<Item = Result<Guarded<'a>, redb::StorageError>>,
    limit: usize,
    entries: &mut Vec<Entry>,
) -> Result<(), redb::StorageError> {
    for item in range.take(limit) {
        let (key, value) = item?;
        entries.push((key.value().to_vec(), value.value().to_vec()));
    }
    Ok(())
}

impl Engine for RedbEngine {
    /// One write transaction with `Durability::None`: redb publishes it to new read transactions
    /// at once and writes it to disk at the next commit with `Durability::Immediate`; after a
    /// crash before that, the file opens at the last durable commit.
    fn commit_volatile(&self, batch: Batch) -> Result<(), KvError> {
        self.commit_with(&batch, redb::Durability::None)
    }

    fn commit_durable(&self, batch: Batch) -> Result<(), KvError> {
        self.commit_with(&batch, redb::Durability::Immediate)
    }
}

impl KvEngine for RedbEngine {
    fn kind(&self) -> EngineKind {
        ENGINE
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    fn commit(&self, batch: Batch) -> Result<(), KvError> {
        batch.check()?;
        self.commit_durable(batch)
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.read(
            table,
            || None,
            |handle| Ok(handle.get(key)?.map(|value| value.value().to_vec())),
        )
    }

    fn get_many(&self, table: Table, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        self.read(
            table,
            || vec![None; keys.len()],
            |handle| {
                keys.iter()
                    .map(|key| Ok(handle.get(*key)?.map(|value| value.value().to_vec())))
                    .collect()
            },
        )
    }

    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, KvError> {
        self.scan_in(table, from, to, limit, false)
    }

    fn scan_rev(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, KvError> {
        self.scan_in(table, from, to, limit, true)
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, KvError> {
        self.read(
            table,
            || None,
            |handle| {
                Ok(handle
                    .last()?
                    .map(|(key, value)| (key.value().to_vec(), value.value().to_vec())))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TABLES: [Table; 3] = [Table::new("b"), Table::new("a"), Table::new("events")];

    /// An operation from a few tables and short keys, so that tables, equal keys, keys that
    /// share eight bytes and keys shorter than eight bytes all come up.
    fn op() -> impl Strategy<Value = Op> {
        (
            0..TABLES.len(),
            prop::collection::vec(prop_oneof![Just(0_u8), Just(1), Just(255)], 0..11),
            any::<bool>(),
            any::<u8>(),
        )
            .prop_map(|(table, key, put, value)| {
                let table = TABLES[table];
                if put {
                    Op::Put {
                        table,
                        key,
                        value: vec![value],
                    }
                } else {
                    Op::Delete { table, key }
                }
            })
    }

    proptest! {
        /// The order is the stable sort by table and key, which the engine applied before.
        #[test]
        fn operations_go_table_by_table_in_key_order_and_keep_their_order_on_one_key(
            ops in prop::collection::vec(op(), 0..200)
        ) {
            let mut expected: Vec<&Op> = ops.iter().collect();
            expected.sort_by(|a, b| (a.table(), a.key()).cmp(&(b.table(), b.key())));
            let got: Vec<&Op> = in_key_order(&ops).collect();
            prop_assert_eq!(got.len(), expected.len());
            for (got, expected) in got.iter().zip(&expected) {
                prop_assert!(std::ptr::eq(*got, *expected));
            }
        }
    }
}
