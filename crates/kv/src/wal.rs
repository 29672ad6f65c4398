//! [`Logged`]: a write-ahead log in front of either engine, so that a durable commit costs one
//! `fdatasync` of a few kilobytes written in place, not the engine's own durable commit (redb:
//! every touched B-tree page written anew and two `fdatasync`s; sled: a flush and an `fsync` of
//! its files and directories).
//!
//! # How a commit goes
//! 1. The batch is numbered (its *sequence number*, one more than the last) and written as one
//!    record at the log's end, in a file whose bytes there are already allocated and zeroed, then
//!    `fdatasync`ed: the file's size does not change, so the sync writes no metadata.
//! 2. Only then is the batch applied to the engine without the engine's own durability (redb:
//!    `Durability::None`; sled: `apply_batch` without a flush), together with a put of its
//!    sequence number in the reserved table [`WAL_TABLE`]. Reads see it from here on: never
//!    before it is durable, and whole (each engine applies a batch atomically).
//! 3. When the log is full, and for a batch too large to log
//!    ([`WAL_RECORD_BYTES_MAX`]), the engine commits durably itself (a *checkpoint*: every batch
//!    applied so far is then in the engine's file, with the last sequence number), and the log
//!    starts again at its first byte.
//!
//! # Recovery
//! Opening reads the engine's last durable sequence number `E` and the log from its first byte:
//! records follow one another while each is whole (its length fits, its SHA-256 checks) and
//! numbered one more than the one before. Records numbered `E + 1` onwards are applied, in order,
//! and a checkpoint makes them the engine's own. A record after a torn one was never
//! acknowledged, because each record is synced before the next is written; records left from an
//! earlier round of the log carry numbers at most the checkpoint's, so they end the sequence or
//! are skipped. A sequence that skips `E + 1` is corruption, and opening fails.
//!
//! The log never shrinks and grows by zeroed, fully synced chunks up to [`WAL_BYTES_MAX`].
//!
//! # Direct, synchronous writes
//! Where the file system allows it, a record is written through a second handle opened with
//! `O_DIRECT | O_DSYNC`: one `pwrite` of whole 4 KiB blocks that returns once they are on the
//! device, in place of a `pwrite` into the page cache and an `fdatasync` that writes it back
//! (the kv README gives what it saves). The file's bytes are the same either way: the write
//! starts at the block that holds the log's end, carrying the bytes already there (kept in
//! memory), and pads the last block with zeroes, which end a reading as the zeroes allocated
//! there did. The earlier bytes of that first block are written again unchanged, so a torn
//! write cannot damage an acknowledged record. Where `O_DIRECT` is refused (tmpfs), the log
//! writes through the page cache and syncs, as before.

use std::fs::{File, OpenOptions};
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::{EngineError, chain};
use crate::fsync;
use crate::poison::Poison;
use crate::{
    BATCH_PROBLEMS_LISTED_MAX, Batch, BatchProblem, EngineKind, Entry, KvEngine, KvError, Op, Table,
};

/// Name of the write-ahead log's file inside the store directory.
pub const WAL_FILE_NAME: &str = "kv.wal";
/// The table where each batch records its sequence number; batches of callers may not write it.
pub const WAL_TABLE: Table = Table::new("kv_wal");
/// The one key of [`WAL_TABLE`].
const SEQ_KEY: &[u8] = b"seq";
/// The log's largest size; when the next record does not fit, a checkpoint starts it again.
pub const WAL_BYTES_MAX: u64 = 64 << 20;
/// The log's first size, and the smallest step it grows by.
const WAL_GROWTH_BYTES_MIN: u64 = 1 << 20;
/// The largest record logged: a larger batch (a bulk import's) is committed by the engine
/// durably itself, which costs it little more than the log would.
pub const WAL_RECORD_BYTES_MAX: usize = 4 << 20;
/// Bytes before a record's payload: its length (u32), sequence number (u64) and checksum.
const HEADER_BYTES: usize = 4 + 8 + CHECKSUM_BYTES;
/// Bytes of SHA-256 kept as a record's checksum.
const CHECKSUM_BYTES: usize = 8;
/// An operation's tag in a record: a put.
const TAG_PUT: u8 = 1;
/// An operation's tag in a record: a delete.
const TAG_DELETE: u8 = 2;
/// The block of a direct write: its offset, its length and its buffer's address are multiples
/// of it (4 KiB covers devices of 512-byte and of 4 KiB sectors).
const DIRECT_BLOCK_BYTES: usize = 4096;

/// An engine under the log: durable commits, plus commits that are visible at once and durable
/// only at the next durable commit.
///
/// Both take a batch the log has checked against the caller's limits, with the log's own put of
/// its sequence number added (one operation of 11 bytes). They do not check it again: a batch
/// at exactly [`BATCH_OPS_MAX`](crate::BATCH_OPS_MAX) operations or
/// [`BATCH_BYTES_MAX`](crate::BATCH_BYTES_MAX) bytes is the caller's right, and refusing it
/// after its record is synced would leave a record no open could replay.
pub(crate) trait Engine: KvEngine {
    /// Applies `batch` atomically, visible to reads at once, durable at the next
    /// [`Engine::commit_durable`] (which makes every batch applied before it durable too).
    fn commit_volatile(&self, batch: Batch) -> Result<(), KvError>;

    /// Applies `batch` atomically and durably, with every batch applied before it.
    fn commit_durable(&self, batch: Batch) -> Result<(), KvError>;
}

/// An engine with the write-ahead log in front. See the module documentation.
pub struct Logged {
    engine: Box<dyn Engine>,
    wal: Mutex<Wal>,
    poison: Poison,
}

impl std::fmt::Debug for Logged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logged")
            .field("engine", &self.engine.kind())
            .field("path", &self.engine.path())
            .finish_non_exhaustive()
    }
}

/// The log file and where it stands.
struct Wal {
    file: File,
    /// The file opened for direct, synchronous writes, where the file system allows it.
    direct: Option<Direct>,
    path: PathBuf,
    /// Where the next record goes.
    end: u64,
    /// Bytes of the file allocated, zeroed or holding records, and synced with its size.
    allocated: u64,
    /// The sequence number of the next batch.
    next_seq: u64,
    /// Whether batches were applied since the last checkpoint.
    unpersisted: bool,
}

impl Logged {
    /// Puts the log of directory `dir` in front of `engine`, replaying what the engine lacks.
    pub(crate) fn open(engine: Box<dyn Engine>, dir: &Path) -> Result<Logged, KvError> {
        let kind = engine.kind();
        let path = dir.join(WAL_FILE_NAME);
        let io_error = |action: &'static str| {
            let path = path.clone();
            move |source| KvError::Io {
                engine: kind,
                path,
                action,
                source,
            }
        };
        let existed = path
            .try_exists()
            .map_err(io_error("look for the write-ahead log"))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error("open the write-ahead log"))?;
        if !existed {
            file.sync_all()
                .map_err(io_error("fsync the new write-ahead log"))?;
            fsync::sync_dir(dir).map_err(io_error("fsync the store directory"))?;
        }
        let allocated = file
            .metadata()
            .map_err(io_error("read the write-ahead log's size"))?
            .len();
        let durable = stored_seq(engine.as_ref())?;
        let mut wal = Wal {
            file,
            direct: Direct::open(&path),
            path: path.clone(),
            end: 0,
            allocated,
            next_seq: durable + 1,
            unpersisted: false,
        };
        let corrupt = |message: String| KvError::Open {
            engine: kind,
            path: dir.to_path_buf(),
            source: EngineError::Corrupt(format!("{}: {message}", path.display())),
        };
        let bytes = read_all(&wal.file, allocated).map_err(io_error("read the write-ahead log"))?;
        for record in Records::new(&bytes) {
            if record.seq <= durable {
                continue;
            }
            if record.seq != wal.next_seq {
                return Err(corrupt(format!(
                    "the log goes on at batch {} but the store holds batches up to {durable} \
                     only; batch {} is missing",
                    record.seq, wal.next_seq
                )));
            }
            let mut batch = decode(record.payload).map_err(|problem| {
                corrupt(format!(
                    "batch {} checks but cannot be read: {problem}",
                    record.seq
                ))
            })?;
            batch.put(WAL_TABLE, SEQ_KEY, record.seq.to_be_bytes());
            engine.commit_volatile(batch)?;
            wal.next_seq += 1;
            wal.unpersisted = true;
        }
        if wal.unpersisted {
            checkpoint(engine.as_ref(), &mut wal)?;
        }
        Ok(Logged {
            engine,
            wal: Mutex::new(wal),
            poison: Poison::default(),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Wal>, KvError> {
        self.wal.lock().map_err(|_| KvError::Poisoned {
            engine: self.engine.kind(),
            path: self.engine.path().to_path_buf(),
            cause: "a thread panicked while holding the write-ahead log".to_owned(),
        })
    }

    fn check(&self) -> Result<(), KvError> {
        self.poison.check(self.engine.kind(), self.engine.path())
    }

    /// Commits `batch` (see the module documentation), calling `durable` once it is durable:
    /// after its record's sync, before it is applied to the engine.
    fn commit_locked(
        &self,
        wal: &mut Wal,
        mut batch: Batch,
        durable: &mut dyn FnMut(),
    ) -> Result<(), KvError> {
        let seq = wal.next_seq;
        if HEADER_BYTES + payload_bytes(&batch) > WAL_RECORD_BYTES_MAX {
            batch.put(WAL_TABLE, SEQ_KEY, seq.to_be_bytes());
            self.engine.commit_durable(batch)?;
            wal.next_seq += 1;
            wal.end = 0;
            wal.unpersisted = false;
            durable();
            return Ok(());
        }
        let record = encode(seq, &batch);
        let ops = batch.len();
        let name = wal_name(&wal.path);
        let failed = |step: &str, source: std::io::Error| KvError::Commit {
            engine: self.engine.kind(),
            path: self.engine.path().to_path_buf(),
            ops,
            step: format!("{step} {name}"),
            source: EngineError::Io(source),
        };
        let length = record.len() as u64;
        if wal.end + length > WAL_BYTES_MAX {
            checkpoint(self.engine.as_ref(), wal)?;
        }
        let grown = wal.end + length > wal.allocated;
        if grown {
            // At least the record; doubling, from 1 MiB, up to the largest size (which holds
            // any record after a checkpoint).
            let size = (wal.allocated * 2)
                .clamp(WAL_GROWTH_BYTES_MIN, WAL_BYTES_MAX)
                .max(wal.end + length);
            zero_fill(&wal.file, wal.allocated, size).map_err(|e| failed("grow", e))?;
        }
        // A grown log's size and zeroes are synced with the first record in them: after it
        // when writing through the page cache, before it when writing directly (the direct
        // write syncs only its blocks).
        let sync_growth = |wal: &mut Wal| -> Result<(), KvError> {
            wal.file.sync_all().map_err(|e| failed("fsync", e))?;
            wal.allocated = wal
                .file
                .metadata()
                .map_err(|e| failed("read the size of", e))?
                .len();
            Ok(())
        };
        if wal.direct.is_some() {
            if grown {
                sync_growth(wal)?;
            }
            if let Some(direct) = &mut wal.direct {
                direct
                    .write(wal.end, &record)
                    .map_err(|e| failed("write directly to", e))?;
            }
        } else {
            wal.file
                .write_all_at(&record, wal.end)
                .map_err(|e| failed("write to", e))?;
            if grown {
                sync_growth(wal)?;
            } else {
                wal.file.sync_data().map_err(|e| failed("fdatasync", e))?;
            }
        }
        wal.end += length;
        wal.next_seq += 1;
        batch.put(WAL_TABLE, SEQ_KEY, seq.to_be_bytes());
        wal.unpersisted = true;
        durable();
        self.engine.commit_volatile(batch)
    }
}

/// Refuses a batch that writes [`WAL_TABLE`], which only this log writes.
fn refuse_reserved(batch: &Batch) -> Result<(), KvError> {
    let problems: Vec<BatchProblem> = batch
        .ops()
        .iter()
        .enumerate()
        .filter(|(_, op)| op.table() == WAL_TABLE)
        .map(|(index, op)| BatchProblem::ReservedTable {
            index,
            table: op.table(),
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    let problems_total = problems.len();
    Err(KvError::BatchRefused {
        problems: problems
            .into_iter()
            .take(BATCH_PROBLEMS_LISTED_MAX)
            .collect(),
        problems_total,
    })
}

/// Makes every batch applied so far the engine's own, durably, and starts the log again.
fn checkpoint(engine: &dyn Engine, wal: &mut Wal) -> Result<(), KvError> {
    let mut batch = Batch::new();
    batch.put(WAL_TABLE, SEQ_KEY, (wal.next_seq - 1).to_be_bytes());
    engine.commit_durable(batch)?;
    wal.end = 0;
    wal.unpersisted = false;
    Ok(())
}

/// The file's name, for messages.
fn wal_name(path: &Path) -> String {
    format!("the write-ahead log {}", path.display())
}

/// The sequence number of the last batch the engine holds durably (0: none yet).
fn stored_seq(engine: &dyn Engine) -> Result<u64, KvError> {
    match engine.get(WAL_TABLE, SEQ_KEY)? {
        None => Ok(0),
        Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
            Ok(bytes) => Ok(u64::from_be_bytes(bytes)),
            Err(_) => Err(KvError::Open {
                engine: engine.kind(),
                path: engine.path().to_path_buf(),
                source: EngineError::Corrupt(format!(
                    "the sequence number in table {WAL_TABLE} has {} bytes, not 8",
                    bytes.len()
                )),
            }),
        },
    }
}

/// The log file opened for direct, synchronous writes (see the module documentation).
struct Direct {
    file: File,
    /// The bytes of the log from the start of the block holding its end up to its end.
    partial: Vec<u8>,
    /// A buffer for the next write, with room for a block-aligned run of bytes.
    buffer: Vec<u8>,
}

impl Direct {
    /// The log at `path` opened with `O_DIRECT | O_DSYNC`, or `None` where the file system
    /// refuses it.
    fn open(path: &Path) -> Option<Direct> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
            .open(path)
            .ok()?;
        Some(Direct {
            file,
            partial: Vec::new(),
            buffer: Vec::new(),
        })
    }

    /// Writes `record` at `end`, the log's end, durably: the block holding `end` and those
    /// after it, up to the record's end, in one write.
    fn write(&mut self, end: u64, record: &[u8]) -> std::io::Result<()> {
        let block = DIRECT_BLOCK_BYTES as u64;
        let start = end - end % block;
        let carried = usize::try_from(end - start).unwrap_or(0);
        if carried != self.partial.len() {
            // The log was started again (a checkpoint) or this is the first write.
            self.partial.clear();
            if carried != 0 {
                return Err(std::io::Error::other(
                    "the log's end is inside a block this log did not write",
                ));
            }
        }
        let used = carried + record.len();
        let length = used.div_ceil(DIRECT_BLOCK_BYTES) * DIRECT_BLOCK_BYTES;
        self.buffer.clear();
        self.buffer.resize(length + DIRECT_BLOCK_BYTES, 0);
        let offset = self.buffer.as_ptr().align_offset(DIRECT_BLOCK_BYTES);
        if offset >= DIRECT_BLOCK_BYTES {
            return Err(std::io::Error::other(
                "no block-aligned place in the direct write's buffer",
            ));
        }
        let aligned = &mut self.buffer[offset..offset + length];
        aligned[..carried].copy_from_slice(&self.partial);
        aligned[carried..used].copy_from_slice(record);
        self.file.write_all_at(aligned, start)?;
        let last_block = used - used % DIRECT_BLOCK_BYTES;
        self.partial.clear();
        self.partial.extend_from_slice(&aligned[last_block..used]);
        Ok(())
    }
}

/// The first `length` bytes of `file`.
fn read_all(file: &File, length: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; usize::try_from(length).unwrap_or(usize::MAX)];
    file.read_exact_at(&mut bytes, 0)?;
    Ok(bytes)
}

/// Writes zeroes over `[from, to)` of `file`.
fn zero_fill(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let zeroes = vec![0_u8; CHUNK];
    let mut at = from;
    while at < to {
        let step = usize::try_from(to - at).map_or(CHUNK, |left| left.min(CHUNK));
        file.write_all_at(&zeroes[..step], at)?;
        at += step as u64;
    }
    Ok(())
}

/// The checksum of a record: SHA-256 over its length, sequence number and payload, cut short.
fn checksum(length: &[u8], seq: &[u8], payload: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let digest = Sha256::new()
        .chain_update(length)
        .chain_update(seq)
        .chain_update(payload)
        .finalize();
    let mut sum = [0; CHECKSUM_BYTES];
    sum.copy_from_slice(&digest[..CHECKSUM_BYTES]);
    sum
}

/// `batch` as the record numbered `seq`: length, sequence number, checksum, then each operation
/// (tag, table name's length and name, key's length and key, and for a put the value's length and
/// value; lengths little-endian).
fn encode(seq: u64, batch: &Batch) -> Vec<u8> {
    let mut record = vec![0; HEADER_BYTES];
    record.reserve(payload_bytes(batch));
    for op in batch.ops() {
        let name = op.table().name().as_bytes();
        record.push(match op {
            Op::Put { .. } => TAG_PUT,
            Op::Delete { .. } => TAG_DELETE,
        });
        record.push(name.len() as u8);
        record.extend_from_slice(name);
        push_bytes(&mut record, op.key());
        if let Op::Put { value, .. } = op {
            push_bytes(&mut record, value);
        }
    }
    let length = u32::try_from(record.len() - HEADER_BYTES)
        .unwrap_or(u32::MAX)
        .to_le_bytes();
    let seq = seq.to_le_bytes();
    let sum = checksum(&length, &seq, &record[HEADER_BYTES..]);
    record[..4].copy_from_slice(&length);
    record[4..12].copy_from_slice(&seq);
    record[12..HEADER_BYTES].copy_from_slice(&sum);
    record
}

/// Bytes of `batch`'s operations in a record (without the header), counted before encoding, so
/// that a batch too large to log is never copied.
fn payload_bytes(batch: &Batch) -> usize {
    batch
        .ops()
        .iter()
        .map(|op| {
            let value = match op {
                Op::Put { value, .. } => 4 + value.len(),
                Op::Delete { .. } => 0,
            };
            2 + op.table().name().len() + 4 + op.key().len() + value
        })
        .sum()
}

fn push_bytes(record: &mut Vec<u8>, bytes: &[u8]) {
    record.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    record.extend_from_slice(bytes);
}

/// The batch a record's payload holds.
fn decode(mut payload: &[u8]) -> Result<Batch, String> {
    let mut batch = Batch::new();
    while let Some((&tag, rest)) = payload.split_first() {
        let (&name_length, rest) = rest.split_first().ok_or("a table name is cut off")?;
        let (name, rest) = split(rest, usize::from(name_length), "a table name")?;
        let name = std::str::from_utf8(name).map_err(|_| "a table name is not UTF-8")?;
        let table = Table::interned(name)?;
        if table == WAL_TABLE {
            return Err(format!(
                "an operation writes the reserved table {WAL_TABLE}"
            ));
        }
        let (key, rest) = split_counted(rest, "a key")?;
        payload = match tag {
            TAG_PUT => {
                let (value, rest) = split_counted(rest, "a value")?;
                batch.put(table, key, value);
                rest
            }
            TAG_DELETE => {
                batch.delete(table, key);
                rest
            }
            other => return Err(format!("unknown operation tag {other}")),
        };
    }
    if batch.is_empty() {
        return Err("no operation".to_owned());
    }
    Ok(batch)
}

fn split<'a>(bytes: &'a [u8], length: usize, what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    if bytes.len() < length {
        return Err(format!("{what} is cut off"));
    }
    Ok(bytes.split_at(length))
}

fn split_counted<'a>(bytes: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    let (length, rest) = split(bytes, 4, what)?;
    let length = u32::from_le_bytes(length.try_into().expect("four bytes"));
    split(rest, length as usize, what)
}

/// A whole record read back.
#[derive(Debug, PartialEq, Eq)]
struct Record<'a> {
    seq: u64,
    payload: &'a [u8],
}

/// The records of a log, from its first byte, while each is whole and numbered one more than the
/// one before.
struct Records<'a> {
    bytes: &'a [u8],
    at: usize,
    last: Option<u64>,
}

impl<'a> Records<'a> {
    fn new(bytes: &'a [u8]) -> Records<'a> {
        Records {
            bytes,
            at: 0,
            last: None,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        let header = self
            .bytes
            .get(self.at..self.at.checked_add(HEADER_BYTES)?)?;
        let (length, rest) = header.split_at(4);
        let (seq, sum) = rest.split_at(8);
        let payload_length = u32::from_le_bytes(length.try_into().ok()?) as usize;
        if payload_length == 0 {
            return None;
        }
        let start = self.at + HEADER_BYTES;
        let payload = self.bytes.get(start..start.checked_add(payload_length)?)?;
        if checksum(length, seq, payload) != sum {
            return None;
        }
        let seq = u64::from_le_bytes(seq.try_into().ok()?);
        if self
            .last
            .is_some_and(|last| last.checked_add(1) != Some(seq))
        {
            return None;
        }
        self.last = Some(seq);
        self.at = start + payload_length;
        Some(Record { seq, payload })
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        // A clean close makes the next open replay nothing. If it fails, the log still holds every
        // batch, and the next open replays them.
        if self.check().is_err() {
            return;
        }
        if let Ok(wal) = self.wal.get_mut()
            && wal.unpersisted
        {
            let _replayed_at_next_open = checkpoint(self.engine.as_ref(), wal);
        }
    }
}

impl KvEngine for Logged {
    fn kind(&self) -> EngineKind {
        self.engine.kind()
    }

    fn path(&self) -> &Path {
        self.engine.path()
    }

    fn commit(&self, batch: Batch) -> Result<(), KvError> {
        self.commit_announced(batch, &mut || {})
    }

    fn commit_announced(&self, batch: Batch, durable: &mut dyn FnMut()) -> Result<(), KvError> {
        batch.check()?;
        refuse_reserved(&batch)?;
        self.check()?;
        if batch.is_empty() {
            durable();
            return Ok(());
        }
        let mut wal = self.lock()?;
        // Another commit may have failed while this one waited for the lock.
        self.check()?;
        let outcome = self.commit_locked(&mut wal, batch, durable);
        if let Err(error) = &outcome {
            self.poison.set(chain(error));
        }
        outcome
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.check()?;
        self.engine.get(table, key)
    }

    fn get_many(&self, table: Table, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        self.check()?;
        self.engine.get_many(table, keys)
    }

    fn scan(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, KvError> {
        self.check()?;
        self.engine.scan(table, from, to, limit)
    }

    fn scan_rev(
        &self,
        table: Table,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, KvError> {
        self.check()?;
        self.engine.scan_rev(table, from, to, limit)
    }

    fn last(&self, table: Table) -> Result<Option<Entry>, KvError> {
        self.check()?;
        self.engine.last(table)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;

    const T: Table = Table::new("t");
    const U: Table = Table::new("u");

    type Map = BTreeMap<(Table, Vec<u8>), Vec<u8>>;

    /// An engine in memory: what is applied, and what a crash may leave: the state at the last
    /// durable commit, or (as sled, whose background flusher writes applied batches) the state
    /// after any batch applied since.
    struct Memory {
        live: Mutex<Map>,
        durable: Arc<Mutex<Vec<Map>>>,
        dir: PathBuf,
    }

    impl Memory {
        /// An engine holding `durable`, as after a crash.
        fn recovered(durable: Map, dir: &Path) -> Memory {
            Memory {
                live: Mutex::new(durable.clone()),
                durable: Arc::new(Mutex::new(vec![durable])),
                dir: dir.to_path_buf(),
            }
        }

        fn apply(&self, batch: Batch) {
            let mut live = self.live.lock().expect("live");
            apply_to(&mut live, batch);
        }
    }

    impl Engine for Memory {
        fn commit_volatile(&self, batch: Batch) -> Result<(), KvError> {
            self.apply(batch);
            let live = self.live.lock().expect("live").clone();
            self.durable.lock().expect("durable").push(live);
            Ok(())
        }

        fn commit_durable(&self, batch: Batch) -> Result<(), KvError> {
            self.apply(batch);
            *self.durable.lock().expect("durable") = vec![self.live.lock().expect("live").clone()];
            Ok(())
        }
    }

    impl KvEngine for Memory {
        fn kind(&self) -> EngineKind {
            EngineKind::Redb
        }

        fn path(&self) -> &Path {
            &self.dir
        }

        fn commit(&self, batch: Batch) -> Result<(), KvError> {
            self.commit_durable(batch)
        }

        fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
            Ok(self
                .live
                .lock()
                .expect("live")
                .get(&(table, key.to_vec()))
                .cloned())
        }

        fn scan(
            &self,
            table: Table,
            _from: Bound<&[u8]>,
            _to: Bound<&[u8]>,
            limit: usize,
        ) -> Result<Vec<Entry>, KvError> {
            Ok(self
                .live
                .lock()
                .expect("live")
                .iter()
                .filter(|((t, _), _)| *t == table)
                .take(limit)
                .map(|((_, key), value)| (key.clone(), value.clone()))
                .collect())
        }

        fn scan_rev(
            &self,
            table: Table,
            from: Bound<&[u8]>,
            to: Bound<&[u8]>,
            limit: usize,
        ) -> Result<Vec<Entry>, KvError> {
            let mut all = self.scan(table, from, to, usize::MAX)?;
            all.reverse();
            all.truncate(limit);
            Ok(all)
        }
    }

    /// The caller's tables of `map` (without the log's sequence number).
    fn callers(map: &Map) -> Map {
        map.iter()
            .filter(|((table, _), _)| *table != WAL_TABLE)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    fn open(memory: Memory, dir: &Path) -> (Logged, Arc<Mutex<Vec<Map>>>) {
        let durable = Arc::clone(&memory.durable);
        let logged = Logged::open(Box::new(memory), dir).expect("open");
        (logged, durable)
    }

    fn live(logged: &Logged) -> Map {
        let mut all = Map::new();
        for table in [T, U, WAL_TABLE] {
            for (key, value) in logged
                .scan(table, Bound::Unbounded, Bound::Unbounded, 1 << 20)
                .expect("scan")
            {
                all.insert((table, key), value);
            }
        }
        all
    }

    fn batch_of(ops: &[(bool, u8, u8, usize)]) -> Batch {
        let mut batch = Batch::new();
        for &(in_t, key, fill, bytes) in ops {
            let table = if in_t { T } else { U };
            if bytes == 0 {
                batch.delete(table, vec![key]);
            } else {
                batch.put(table, vec![key], vec![fill; bytes]);
            }
        }
        batch
    }

    /// A log written through the direct handle holds, byte for byte, the records written
    /// through the page cache would: records one after another from its first byte, zeroes
    /// after the last. Batches of many sizes, so that records end inside blocks, exactly at
    /// their ends, and span several. Reopened, it replays every batch.
    #[test]
    fn direct_writes_leave_the_bytes_the_page_cache_would() {
        let dir = tempfile::tempdir().expect("dir");
        let (logged, _durable) = open(Memory::recovered(Map::new(), dir.path()), dir.path());
        let direct = logged.wal.lock().expect("wal").direct.is_some();
        eprintln!("direct writes on this file system: {direct}");
        let mut expected = Vec::new();
        let mut model = Map::new();
        let first_seq = logged.wal.lock().expect("wal").next_seq;
        let mut ends_on_a_block = false;
        for (seq, i) in (first_seq..).zip(0..60_usize) {
            // Values of 1 byte to 3 blocks; one record that ends exactly on a block's end.
            let size = match i {
                7 => DIRECT_BLOCK_BYTES - expected.len() % DIRECT_BLOCK_BYTES,
                _ => (i * 997 + 1) % (3 * DIRECT_BLOCK_BYTES),
            };
            let fill = u8::try_from(i % 256).expect("byte");
            // A record with a value of one byte, then the value grown to make the record `size`.
            let smallest = encode(seq, &batch_of(&[(true, 0, fill, 1)])).len();
            let value = (size + 1).saturating_sub(smallest).max(1);
            let batch = batch_of(&[(true, 0, fill, value)]);
            expected.extend(encode(seq, &batch));
            ends_on_a_block |= expected.len() % DIRECT_BLOCK_BYTES == 0;
            logged.commit(batch.clone()).expect("commit");
            apply_to(&mut model, batch);
        }
        assert!(ends_on_a_block, "a record ends exactly on a block's end");
        assert_ne!(
            expected.len() % DIRECT_BLOCK_BYTES,
            0,
            "the log ends inside a block"
        );
        let bytes = std::fs::read(dir.path().join(WAL_FILE_NAME)).expect("read the log");
        assert_eq!(&bytes[..expected.len()], expected.as_slice());
        assert!(
            bytes[expected.len()..].iter().all(|&b| b == 0),
            "zeroes after the log"
        );
        std::mem::forget(logged);
        let (logged, _durable) = open(Memory::recovered(Map::new(), dir.path()), dir.path());
        assert_eq!(callers(&live(&logged)), model);
    }

    #[test]
    fn records_round_trip() {
        let batch = batch_of(&[(true, 1, 7, 3), (false, 2, 0, 0), (true, 0, 9, 1)]);
        let record = encode(42, &batch);
        assert_eq!(record.len(), HEADER_BYTES + payload_bytes(&batch));
        let records: Vec<Record<'_>> = Records::new(&record).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].seq, 42);
        assert_eq!(decode(records[0].payload).expect("decode"), batch);
    }

    #[test]
    fn reading_stops_at_zeroes_a_torn_record_a_bad_sum_and_a_gap_in_the_numbers() {
        let batch = batch_of(&[(true, 1, 7, 100)]);
        let seqs = |bytes: &[u8]| Records::new(bytes).map(|r| r.seq).collect::<Vec<u64>>();
        let mut log: Vec<u8> = (5..9).flat_map(|seq| encode(seq, &batch)).collect();
        let whole = log.len();
        log.extend_from_slice(&[0; 64]);
        assert_eq!(seqs(&log), [5, 6, 7, 8]);
        let one = encode(5, &batch).len();
        // Torn: the last record cut anywhere.
        for cut in [whole - 1, whole - one + HEADER_BYTES, whole - one + 3] {
            assert_eq!(seqs(&log[..cut]), [5, 6, 7], "cut at {cut}");
        }
        // A flipped byte in the third record's payload, or in its header.
        for at in [2 * one + HEADER_BYTES + 10, 2 * one + 5, 2 * one + 13] {
            let mut damaged = log.clone();
            damaged[at] ^= 0x40;
            assert_eq!(seqs(&damaged), [5, 6], "flip at {at}");
        }
        // A record from an earlier round of the log ends the sequence.
        let mut stale: Vec<u8> = (5..7).flat_map(|seq| encode(seq, &batch)).collect();
        stale.extend(encode(3, &batch));
        stale.extend(encode(4, &batch));
        assert_eq!(seqs(&stale), [5, 6]);
    }

    #[test]
    fn replay_applies_what_the_engine_lacks_and_only_that() {
        let dir = tempfile::tempdir().expect("dir");
        let mut engine_has = Map::new();
        engine_has.insert((WAL_TABLE, SEQ_KEY.to_vec()), 2_u64.to_be_bytes().to_vec());
        engine_has.insert((T, vec![0]), b"engine".to_vec());
        let log: Vec<u8> = (1..=5_u8)
            .flat_map(|seq| encode(u64::from(seq), &batch_of(&[(true, seq, seq, 1)])))
            .collect();
        std::fs::write(dir.path().join(WAL_FILE_NAME), &log).expect("write");
        let (logged, durable) = open(Memory::recovered(engine_has, dir.path()), dir.path());
        let expected: Map = [
            ((T, vec![0]), b"engine".to_vec()),
            ((T, vec![3]), vec![3]),
            ((T, vec![4]), vec![4]),
            ((T, vec![5]), vec![5]),
        ]
        .into();
        assert_eq!(callers(&live(&logged)), expected);
        // Replayed batches are the engine's own at once (a checkpoint).
        assert_eq!(callers(&durable.lock().expect("durable")[0]), expected);
        assert_eq!(
            logged.get(WAL_TABLE, SEQ_KEY).expect("get"),
            Some(5_u64.to_be_bytes().to_vec())
        );
        logged
            .commit(batch_of(&[(false, 9, 9, 1)]))
            .expect("commit");
        assert_eq!(
            logged.get(WAL_TABLE, SEQ_KEY).expect("get"),
            Some(6_u64.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn a_log_that_skips_a_batch_the_engine_lacks_is_corrupt() {
        let dir = tempfile::tempdir().expect("dir");
        let log: Vec<u8> = (2..=3)
            .flat_map(|seq| encode(seq, &batch_of(&[(true, 1, 1, 1)])))
            .collect();
        std::fs::write(dir.path().join(WAL_FILE_NAME), &log).expect("write");
        let error = Logged::open(
            Box::new(Memory::recovered(Map::new(), dir.path())),
            dir.path(),
        )
        .expect_err("a gap must not open");
        let message = chain(&error);
        assert!(message.contains("batch 1 is missing"), "{message}");
    }

    #[test]
    fn the_reserved_table_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("dir");
        let (logged, _) = open(Memory::recovered(Map::new(), dir.path()), dir.path());
        let mut batch = batch_of(&[(true, 1, 1, 1)]);
        batch.put(WAL_TABLE, SEQ_KEY, 99_u64.to_be_bytes());
        let error = logged.commit(batch).expect_err("refused");
        assert!(
            matches!(
                error,
                KvError::BatchRefused {
                    problems_total: 1,
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().contains("operation 1 (table kv_wal)"),
            "{error}"
        );
        assert!(callers(&live(&logged)).is_empty());
        logged
            .commit(batch_of(&[(true, 1, 1, 1)]))
            .expect("still usable");
    }

    /// One step of the crash model.
    #[derive(Debug, Clone)]
    enum Step {
        /// Commit a batch: ops of (table T?, key, fill, value bytes; 0 = delete).
        Commit(Vec<(bool, u8, u8, usize)>),
        /// Commit one batch too large to log.
        CommitLarge(u8),
        /// Crash, leaving the engine as it was after one of the batches applied since its last
        /// durable commit (chosen by `kept`), and this many bytes of a next record (torn) or of
        /// garbage after the log's end; then reopen.
        Crash {
            kept: usize,
            torn: usize,
            garbage: bool,
        },
        /// Close cleanly and reopen.
        Reopen,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            8 => prop::collection::vec((any::<bool>(), 0_u8..8, any::<u8>(), 0_usize..3000), 1..6)
                .prop_map(Step::Commit),
            1 => any::<u8>().prop_map(Step::CommitLarge),
            2 => (any::<usize>(), 0_usize..5000, any::<bool>())
                .prop_map(|(kept, torn, garbage)| Step::Crash { kept, torn, garbage }),
            1 => Just(Step::Reopen),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the commits and crashes (with torn or garbage bytes after the last
        /// acknowledged record), every acknowledged batch is there after reopening, in order, and
        /// nothing else.
        #[test]
        fn acknowledged_batches_survive_crashes(steps in prop::collection::vec(step(), 1..40)) {
            let dir = tempfile::tempdir().expect("dir");
            let (mut logged, mut durable) = open(Memory::recovered(Map::new(), dir.path()), dir.path());
            let mut model = Map::new();
            for step in steps {
                match step {
                    Step::Commit(ops) => {
                        let batch = batch_of(&ops);
                        logged.commit(batch.clone()).expect("commit");
                        apply_to(&mut model, batch);
                    }
                    Step::CommitLarge(fill) => {
                        let batch = batch_of(&[(true, 200, fill, WAL_RECORD_BYTES_MAX + 1)]);
                        logged.commit(batch.clone()).expect("commit");
                        apply_to(&mut model, batch);
                    }
                    Step::Crash { kept, torn, garbage } => {
                        let (end, seq) = {
                            let wal = logged.wal.lock().expect("wal");
                            (wal.end, wal.next_seq)
                        };
                        let left = {
                            let states = durable.lock().expect("durable");
                            states[kept % states.len()].clone()
                        };
                        std::mem::forget(logged);
                        // The batch being committed when the machine stopped: its record is
                        // cut short, but bytes left there by an earlier cut record may complete
                        // it, and then it is committed (its outcome was unknown, never refused).
                        let in_flight = batch_of(&[(true, 250, 1, 2000)]);
                        let tail: Vec<u8> = if garbage {
                            (0..torn).map(|i| (i * 31 + 7) as u8).collect()
                        } else {
                            let next = encode(seq, &in_flight);
                            next[..torn.min(next.len() - 1)].to_vec()
                        };
                        let file = OpenOptions::new()
                            .write(true)
                            .open(dir.path().join(WAL_FILE_NAME))
                            .expect("open log");
                        file.write_all_at(&tail, end).expect("tear");
                        (logged, durable) = open(Memory::recovered(left, dir.path()), dir.path());
                        let mut with_in_flight = model.clone();
                        apply_to(&mut with_in_flight, in_flight);
                        if callers(&live(&logged)) == with_in_flight {
                            model = with_in_flight;
                        }
                    }
                    Step::Reopen => {
                        let left = {
                            drop(logged);
                            let states = durable.lock().expect("durable");
                            states.first().expect("a durable state").clone()
                        };
                        (logged, durable) = open(Memory::recovered(left, dir.path()), dir.path());
                    }
                }
                prop_assert_eq!(callers(&live(&logged)), model.clone());
            }
        }
    }

    fn apply_to(model: &mut Map, batch: Batch) {
        for op in batch.into_ops() {
            match op {
                Op::Put { table, key, value } => {
                    model.insert((table, key), value);
                }
                Op::Delete { table, key } => {
                    model.remove(&(table, key));
                }
            }
        }
    }
}
