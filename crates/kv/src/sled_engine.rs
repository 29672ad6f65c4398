//! [`SledEngine`]: the key-value layer on sled 0.34.7 (cargo feature `sled`), in the directory
//! `sled/` inside the store directory.
//!
//! # Layout
//! One sled tree (the default one) holds every table: a key is stored as
//! `[name length as one byte] ++ table name ++ key`. The length byte makes the prefixes of two
//! tables never prefixes of one another, and table names never contain `0xFF` (see [`Table`]),
//! so a table's keys are exactly the range `[prefix, prefix with its last byte + 1)` and keep
//! their bytewise order. A batch is one `sled::Batch` applied with `Tree::apply_batch`, which
//! sled makes atomic for readers (it takes its global write lock) and for recovery (a batch
//! manifest in the log: recovery drops a batch whose records are not all in the log).
//!
//! # What sled 0.34.7 does (read from its source)
//! - `Tree::flush` writes the log buffers into the file `db` and waits with
//!   `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)` (`pagecache/iobuf.rs`), not `fsync`.
//!   That system call flushes no disk write cache and does not persist the file's metadata, such
//!   as its size after the log grew (sled issues #1351 and #1452). It syncs `db` fully only when
//!   truncating segments and from its background flusher thread (every 500 ms by default).
//! - A log record over about 128 KiB (segment 512 KiB / 4) goes to its own file `blobs/<lsn>`,
//!   written with `write_all` and never fsynced (`pagecache/blob_io.rs`); recovery skips a record
//!   whose blob file is missing, and stops reading the log at one whose blob fails its CRC.
//! - `conf` is written at first open and never fsynced; a torn `conf` is rewritten on the next
//!   open. The directories `sled/` and `sled/blobs/` are created and never fsynced.
//! - Snapshots `snap.<lsn>` are written to `snap.<lsn>.generating`, fsynced, renamed, and older
//!   ones deleted, without fsyncing the directory.
//!
//! # What this engine adds
//! After `apply_batch` and `flush`, before `commit` returns: `fsync` of `db`; `fsync` of every
//! blob file and snapshot file not yet synced by us (found by listing their directories); then
//! `fsync` of `sled/blobs/` and of `sled/`. At open it also fsyncs `conf` and the store
//! directory. All of this happens under a write lock that every read takes shared, so a read never
//! sees part of a batch (sled's own iterators lock per step, so a scan could otherwise straddle a
//! batch).
//!
//! Behind the write-ahead log ([`crate::Logged`]) the log's batches are `apply_batch` alone
//! ([`Engine::commit_volatile`]), once the log holds them durably; [`Engine::commit_durable`]
//! serves the log's checkpoints.
//!
//! # What remains a risk
//! - Between sled writing a log record and our fsync, the record can reach the disk before the
//!   blob it points to. A crash then, before `commit` returned, can leave a log that points to a
//!   missing or torn blob: sled skips the record or stops reading the log there. The batch was
//!   not acknowledged, but sled's recovery in that state is not what the crash tests cover
//!   (they do write values large enough to become blobs).
//! - Snapshot renames and deletions by sled's background threads become durable only at the next
//!   commit's directory fsync.
//! - Correctness rests on sled 0.34.7's recovery code, which is no longer developed.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{File, TryLockError};
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crate::error::{EngineError, chain};
use crate::fsync;
use crate::poison::Poison;
use crate::wal::Engine;
use crate::{
    Batch, EngineKind, Entry, KvEngine, KvError, Op, SCAN_PREALLOC_ENTRIES_MAX, SLED_DIR_NAME,
    TABLE_NAME_BYTES_MAX, Table, range_is_empty,
};

const ENGINE: EngineKind = EngineKind::Sled;

// The key prefix stores the table name's length in one byte.
const _: () = assert!(TABLE_NAME_BYTES_MAX <= u8::MAX as usize);

/// sled's data file, its configuration file and its blob directory (names from sled 0.34.7's
/// `config.rs`).
const SLED_DB_FILE: &str = "db";
const SLED_CONF_FILE: &str = "conf";
const SLED_BLOBS_DIR: &str = "blobs";
const SLED_SNAPSHOT_PREFIX: &str = "snap.";

/// The key-value layer on sled 0.34.7, made durable by fsyncing sled's files after each batch.
/// See the module documentation for what sled does and what remains a risk.
pub struct SledEngine {
    db: sled::Db,
    dir: PathBuf,
    /// Held exclusively from `apply_batch` until the batch is fsynced, shared by every read.
    sync: RwLock<SyncState>,
    poison: Poison,
    /// Declared last so that it is dropped after `db`: waits until sled has let go of its file.
    _release: LockRelease,
}

/// How long dropping a [`SledEngine`] waits for sled's background threads to close its file.
const RELEASE_WAIT_MAX: Duration = Duration::from_secs(10);
/// How often it looks while waiting.
const RELEASE_POLL: Duration = Duration::from_millis(2);

/// Makes closing a sled store synchronous. sled 0.34.7 hands work to a thread pool shared by
/// every database of the process, and those jobs hold the database's file (with its exclusive
/// `flock`) until they finish, so the file can stay locked for a while after the last `Db`
/// handle is dropped. Reopening at once then fails with "could not acquire lock". Dropping this
/// guard (after the `Db`) waits, bounded by [`RELEASE_WAIT_MAX`], until that lock can be taken,
/// and releases it again at once.
struct LockRelease {
    db_path: PathBuf,
}

impl Drop for LockRelease {
    fn drop(&mut self) {
        let Ok(file) = File::open(&self.db_path) else {
            return;
        };
        let started = Instant::now();
        loop {
            match file.try_lock() {
                // Dropping `file` releases the lock.
                Ok(()) => return,
                Err(TryLockError::WouldBlock) if started.elapsed() < RELEASE_WAIT_MAX => {
                    std::thread::sleep(RELEASE_POLL);
                }
                // Still held (by another process, or a job that hangs) or not lockable: opening
                // again will report it, naming the file.
                Err(_) => return,
            }
        }
    }
}

impl std::fmt::Debug for SledEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledEngine")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// What the fsync after a batch needs: the open `db` file and the files already synced.
struct SyncState {
    db_file: File,
    sled_dir: PathBuf,
    blobs_dir: PathBuf,
    synced_blobs: HashSet<OsString>,
    synced_snapshots: HashSet<OsString>,
}

/// A failed step of [`SyncState::sync`]: what was being synced, and why it failed.
type SyncFailure = (String, io::Error);

impl SyncState {
    /// Makes everything sled has written so far durable: `db`, new blob and snapshot files, and
    /// the directories naming them.
    fn sync(&mut self) -> Result<(), SyncFailure> {
        self.db_file
            .sync_all()
            .map_err(|error| (format!("fsync {SLED_DIR_NAME}/{SLED_DB_FILE}"), error))?;
        sync_new_files(&self.blobs_dir, |_| true, &mut self.synced_blobs)?;
        sync_new_files(
            &self.sled_dir,
            |name| name.starts_with(SLED_SNAPSHOT_PREFIX),
            &mut self.synced_snapshots,
        )?;
        for dir in [&self.blobs_dir, &self.sled_dir] {
            fsync::sync_dir(dir)
                .map_err(|error| (format!("fsync the directory {}", dir.display()), error))?;
        }
        Ok(())
    }
}

/// fsyncs the files in `dir` whose names pass `wanted` and are not in `synced`, then sets
/// `synced` to the names present, so that it does not grow with files sled has removed.
fn sync_new_files(
    dir: &Path,
    wanted: impl Fn(&str) -> bool,
    synced: &mut HashSet<OsString>,
) -> Result<(), SyncFailure> {
    let listing_failed = |error| (format!("list {}", dir.display()), error);
    let mut present = HashSet::with_capacity(synced.len());
    for entry in std::fs::read_dir(dir).map_err(listing_failed)? {
        let entry = entry.map_err(listing_failed)?;
        let name = entry.file_name();
        if !wanted(&name.to_string_lossy()) {
            continue;
        }
        if !synced.contains(&name) {
            match File::open(entry.path()).and_then(|file| file.sync_all()) {
                Ok(()) => {}
                // sled removed it since the listing (blob garbage collection, snapshot rename).
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => {
                    return Err((format!("fsync {}", entry.path().display()), error));
                }
            }
        }
        present.insert(name);
    }
    *synced = present;
    Ok(())
}

/// `[name length] ++ name`: the prefix of every key of `table`.
fn table_prefix(table: Table) -> Vec<u8> {
    prefix_with_room(table, 0)
}

/// The prefix of `table`, with room for `key_bytes` more.
fn prefix_with_room(table: Table, key_bytes: usize) -> Vec<u8> {
    let name = table.name().as_bytes();
    let mut prefix = Vec::with_capacity(1 + name.len() + key_bytes);
    prefix.push(u8::try_from(name.len()).expect("TABLE_NAME_BYTES_MAX fits in a byte"));
    prefix.extend_from_slice(name);
    prefix
}

/// The least stored key greater than every key of `table`: its prefix with the last byte + 1.
fn table_end(table: Table) -> Vec<u8> {
    let mut end = table_prefix(table);
    let last = end.last_mut().expect("a table name is never empty");
    // Table names are ASCII, so the last byte is below 0xFF and cannot overflow.
    *last += 1;
    end
}

fn stored_key(table: Table, key: &[u8]) -> Vec<u8> {
    let mut stored = prefix_with_room(table, key.len());
    stored.extend_from_slice(key);
    stored
}

impl SledEngine {
    /// Opens the store in directory `path`, creating it and sled's directory [`SLED_DIR_NAME`]
    /// inside if they do not exist, and fsyncs what sled created.
    ///
    /// # Errors
    /// [`KvError::Io`] if a directory cannot be created or a file synced;
    /// [`KvError::EngineMismatch`] if the directory holds a redb store; [`KvError::Open`] if sled
    /// cannot open (for example because another process has it open, or its files are corrupt).
    pub fn open(path: &Path) -> Result<SledEngine, KvError> {
        let dir = path.to_path_buf();
        let io_error = |path: &Path, action: &'static str| {
            let path = path.to_path_buf();
            move |source| KvError::Io {
                engine: ENGINE,
                path,
                action,
                source,
            }
        };
        fsync::create_dir_durable(&dir).map_err(io_error(&dir, "create the store directory"))?;
        crate::check_engine_matches(&dir, ENGINE)?;
        let sled_dir = dir.join(SLED_DIR_NAME);
        let db = sled::Config::new()
            .path(&sled_dir)
            .open()
            .map_err(|error| KvError::Open {
                engine: ENGINE,
                path: dir.clone(),
                source: EngineError::sled(error),
            })?;

        let conf = sled_dir.join(SLED_CONF_FILE);
        File::open(&conf)
            .and_then(|file| file.sync_all())
            .map_err(io_error(&conf, "fsync sled's configuration file"))?;
        let db_path = sled_dir.join(SLED_DB_FILE);
        let db_file = File::open(&db_path).map_err(io_error(&db_path, "open sled's data file"))?;
        let mut state = SyncState {
            db_file,
            sled_dir: sled_dir.clone(),
            blobs_dir: sled_dir.join(SLED_BLOBS_DIR),
            synced_blobs: HashSet::new(),
            synced_snapshots: HashSet::new(),
        };
        // Whatever recovery or a previous run left unsynced, and the new files' directories.
        state.sync().map_err(|(step, source)| KvError::Open {
            engine: ENGINE,
            path: dir.clone(),
            source: EngineError::Io(io::Error::new(
                source.kind(),
                format!("cannot {step}: {source}"),
            )),
        })?;
        fsync::sync_dir(&dir).map_err(io_error(&dir, "fsync the store directory"))?;

        Ok(SledEngine {
            db,
            dir,
            sync: RwLock::new(state),
            poison: Poison::default(),
            _release: LockRelease { db_path },
        })
    }

    fn lock_poisoned(&self) -> KvError {
        KvError::Poisoned {
            engine: ENGINE,
            path: self.dir.clone(),
            cause: "a thread panicked while holding the commit lock".to_owned(),
        }
    }

    /// The shared lock every read holds: no commit is between `apply_batch` and its fsync.
    fn read_guard(&self) -> Result<RwLockReadGuard<'_, SyncState>, KvError> {
        let guard = self.sync.read().map_err(|_| self.lock_poisoned())?;
        self.poison.check(ENGINE, &self.dir)?;
        Ok(guard)
    }

    fn read_error(&self, table: Table, source: EngineError) -> KvError {
        KvError::Read {
            engine: ENGINE,
            path: self.dir.clone(),
            table,
            source,
        }
    }

    fn commit_error(&self, ops: usize, step: String, source: EngineError) -> KvError {
        KvError::Commit {
            engine: ENGINE,
            path: self.dir.clone(),
            ops,
            step,
            source,
        }
    }

    fn write(
        &self,
        batch: sled::Batch,
        ops: usize,
        state: &mut SyncState,
        durable: bool,
    ) -> Result<(), KvError> {
        self.db.apply_batch(batch).map_err(|error| {
            self.commit_error(ops, "apply the batch".into(), EngineError::sled(error))
        })?;
        if !durable {
            return Ok(());
        }
        self.db.flush().map_err(|error| {
            self.commit_error(ops, "flush sled's log".into(), EngineError::sled(error))
        })?;
        state
            .sync()
            .map_err(|(step, error)| self.commit_error(ops, step, EngineError::Io(error)))
    }

    fn scan_in(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
        descending: bool,
    ) -> Result<Vec<Entry>, KvError> {
        let _guard = self.read_guard()?;
        if limit == 0 || range_is_empty(from, to) {
            return Ok(Vec::new());
        }
        let prefix = table_prefix(table);
        let low = match from {
            Bound::Included(key) => Bound::Included(stored_key(table, key)),
            Bound::Excluded(key) => Bound::Excluded(stored_key(table, key)),
            Bound::Unbounded => Bound::Included(prefix.clone()),
        };
        let high = match to {
            Bound::Included(key) => Bound::Included(stored_key(table, key)),
            Bound::Excluded(key) => Bound::Excluded(stored_key(table, key)),
            Bound::Unbounded => Bound::Excluded(table_end(table)),
        };
        let range = self.db.range::<Vec<u8>, _>((low, high));
        let mut entries = Vec::with_capacity(limit.min(SCAN_PREALLOC_ENTRIES_MAX));
        let outcome = if descending {
            collect(range.rev(), &prefix, limit, &mut entries)
        } else {
            collect(range, &prefix, limit, &mut entries)
        };
        outcome.map_err(|error| self.read_error(table, error))?;
        Ok(entries)
    }
}

impl SledEngine {
    /// Applies `batch` (its limits already checked), then, when `durable`, flushes and fsyncs.
    fn commit_with(&self, batch: Batch, durable: bool) -> Result<(), KvError> {
        self.poison.check(ENGINE, &self.dir)?;
        if batch.is_empty() {
            return Ok(());
        }
        let ops = batch.len();
        let mut sled_batch = sled::Batch::default();
        for op in batch.into_ops() {
            match op {
                Op::Put { table, key, value } => sled_batch.insert(stored_key(table, &key), value),
                Op::Delete { table, key } => sled_batch.remove(stored_key(table, &key)),
            }
        }
        let mut state = self.sync.write().map_err(|_| self.lock_poisoned())?;
        // Another commit may have failed while this one waited for the lock.
        self.poison.check(ENGINE, &self.dir)?;
        let outcome = self.write(sled_batch, ops, &mut state, durable);
        if let Err(error) = &outcome {
            // Poison before releasing the lock: the failed batch may be visible in sled's memory.
            self.poison.set(chain(error));
        }
        drop(state);
        outcome
    }
}

impl Engine for SledEngine {
    /// `apply_batch` alone, under the write lock (so that no scan straddles it): sled writes it
    /// to its log in the background, and durably at the next [`KvEngine::commit`]'s flush and
    /// fsyncs ([`Engine::commit_durable`]). sled recovers its log as a prefix of the batches applied.
    fn commit_volatile(&self, batch: Batch) -> Result<(), KvError> {
        self.commit_with(batch, false)
    }

    fn commit_durable(&self, batch: Batch) -> Result<(), KvError> {
        self.commit_with(batch, true)
    }
}

fn collect(
    range: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    prefix: &[u8],
    limit: usize,
    entries: &mut Vec<Entry>,
) -> Result<(), EngineError> {
    for item in range.take(limit) {
        let (key, value) = item.map_err(EngineError::sled)?;
        let Some(key) = key.strip_prefix(prefix) else {
            return Err(EngineError::Corrupt(format!(
                "sled returned key {key:?} outside the table's prefix {prefix:?}"
            )));
        };
        entries.push((key.to_vec(), value.to_vec()));
    }
    Ok(())
}

impl KvEngine for SledEngine {
    fn kind(&self) -> EngineKind {
        ENGINE
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    fn commit(&self, batch: Batch) -> Result<(), KvError> {
        batch.check()?;
        self.commit_with(batch, true)
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        let _guard = self.read_guard()?;
        let value = self
            .db
            .get(stored_key(table, key))
            .map_err(|error| self.read_error(table, EngineError::sled(error)))?;
        Ok(value.map(|value| value.to_vec()))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_prefixes_are_prefix_free_and_bracket_their_keys() {
        let tables = [
            Table::new("e"),
            Table::new("ev"),
            Table::new("events"),
            Table::new("eventz"),
            Table::new("f"),
        ];
        for a in tables {
            for b in tables {
                if a != b {
                    assert!(!table_prefix(b).starts_with(&table_prefix(a)), "{a} {b}");
                    // The other table's keys are all outside a's range.
                    for key in [&b""[..], b"\x00", b"\xff\xff"] {
                        let stored = stored_key(b, key);
                        assert!(
                            stored < table_prefix(a) || stored >= table_end(a),
                            "{b}/{key:?} inside {a}"
                        );
                    }
                }
            }
            for key in [&b""[..], b"\x00", b"\xff\xff\xff"] {
                let stored = stored_key(a, key);
                assert!(stored >= table_prefix(a) && stored < table_end(a));
            }
        }
    }
}
