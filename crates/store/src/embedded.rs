//! The embedded store: the log over the `kv` layer, on redb or sled.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{DecisionId, NewEvent, RecordedEvent};
use kv::KvEngine;
use tokio::sync::{mpsc, oneshot, watch};

use crate::api::{
    Appended, EventStore, ExpectedVersion, Head, ImportOptions, Imported, Refusal, StoreError,
};
use crate::datadir::DataDir;
use crate::index_tail::IndexTail;
use crate::layout::{
    CHECKPOINTS, EVENTS, HEAD_KEY, META, SUBSCRIBER_NAME_BYTES_MAX, Tail, decode_u64, position_key,
    recorded_at_of_line,
};
use crate::writer::{self, Command, Shared, Tuning};

/// The store's clock: UTC now. Passed in so tests can set the time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Events read from the key-value layer in one scan, at most.
pub const READ_PAGE_EVENTS_MAX: usize = 10_000;
/// A page of `read_all` at least this long is read and decoded in parts on several threads.
pub const READ_SPLIT_EVENTS_MIN: usize = 2_000;
/// The threads one `read_all` page is read and decoded on, at most (fewer on a machine with
/// fewer cores).
pub const READ_THREADS_MAX: usize = 4;

/// The embedded event store. Cheap to share behind an `Arc`; the writer thread stops when the
/// store is dropped.
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    /// `None` only while dropping.
    commands: Option<mpsc::Sender<Command>>,
    writer: Option<std::thread::JoinHandle<()>>,
    data_dir: DataDir,
}

impl Drop for EmbeddedStore {
    /// Closes the queue, lets the writer finish what it was given, and waits for it, so the
    /// engine's files are released when the store is gone.
    fn drop(&mut self) {
        self.commands = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl EmbeddedStore {
    /// Opens the store in data directory `path`, creating it with `engine` (redb by default) if
    /// it does not exist. Removes whatever a crash left above the commit point.
    pub fn open(
        path: &Path,
        engine: Option<kv::EngineKind>,
        clock: Clock,
    ) -> Result<EmbeddedStore, StoreError> {
        Self::open_tuned(path, engine, clock, Tuning::default())
    }

    /// [`EmbeddedStore::open`], with the writer keeping to other bounds: tests make them small,
    /// so that streams are forgotten and read again, and the index tail flushed, all the time.
    pub(crate) fn open_tuned(
        path: &Path,
        engine: Option<kv::EngineKind>,
        clock: Clock,
        tuning: Tuning,
    ) -> Result<EmbeddedStore, StoreError> {
        let mut data_dir = DataDir::open(path, engine)?;
        let kv: Arc<dyn KvEngine> =
            Arc::from(open_engine(data_dir.engine(), &data_dir.log_path())?);
        if data_dir.is_new() {
            data_dir.finish_creation()?;
        }
        let tail = recover(kv.as_ref())?;
        crate::anchor::check(data_dir.path(), &tail, |position| {
            Ok(kv
                .get(EVENTS, &position_key(position))?
                .and_then(|line| crate::chain::split_stored_line(&line))
                .map(|(_, hash)| hash))
        })?;
        let anchor = crate::anchor::Anchor::open(data_dir.path())?;
        let index = IndexTail::load(kv.as_ref(), tail.position)?;
        let (head_tx, _) = watch::channel(tail.position);
        let shared = Arc::new(Shared {
            kv,
            committed: AtomicU64::new(tail.position),
            acknowledged: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            tail: std::sync::Mutex::new(tail),
            head_tx,
            stopped: std::sync::OnceLock::new(),
            index: std::sync::RwLock::new(index),
            recent: crate::recent::RecentLines::default(),
        });
        let (commands, receiver) = mpsc::channel(writer::QUEUE_REQUESTS_MAX);
        let writer = writer::spawn(Arc::clone(&shared), clock, tail, anchor, receiver, tuning)
            .map_err(|e| StoreError::DataDir {
                path: path.display().to_string(),
                detail: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(EmbeddedStore {
            shared,
            commands: Some(commands),
            writer: Some(writer),
            data_dir,
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// The key-value engine under the log (for `verify` and for tests that tamper with it). It
    /// may not hold the last acknowledged group yet, while it is applied: [`Self::committed`]
    /// waits for it.
    pub fn kv(&self) -> &Arc<dyn KvEngine> {
        &self.shared.kv
    }

    /// What the writer and the readers share (for `verify`).
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The committed head position: every append acknowledged before the call is below it.
    pub fn committed(&self) -> u64 {
        self.shared.readable()
    }

    /// Up to `limit` stored lines after `after`, exactly as stored (canonical JSON, hash last):
    /// what `verkstall events` prints.
    pub fn read_lines(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let upto = self.committed();
        read_lines(self.shared.kv.as_ref(), after, upto, limit)
    }

    async fn send<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let commands = self.commands.as_ref().ok_or(StoreError::Closed)?;
        commands
            .send(make(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer
            .await
            .map_err(|_| StoreError::Stopped("the writer thread ended".into()))?
    }

    /// Runs a small read (one decision's stream, one key, a search over positions) on the
    /// caller's thread. It touches a handful of pages, which a serving node holds in memory;
    /// handing it to the blocking pool and waking the task again cost more than the read
    /// (`bench-http`, three runs each: the server's CPU per request fell from 101–123 to
    /// 80–98 µs when these reads stopped going through it). Pages of the log go through
    /// [`Self::blocking`], but for small ones ([`Self::is_small_page`]).
    fn small_read<T>(
        &self,
        work: impl FnOnce(&Shared, u64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        work(&self.shared, self.shared.readable())
    }

    /// Whether a page of the log after `after` of at most `limit` events holds so few events
    /// now ([`SMALL_PAGE_EVENTS_MAX`]) that it is a small read: what a follower of the log
    /// reads after each commit (the server's projection, the live stream, webhooks).
    fn is_small_page(&self, after: u64, limit: usize) -> bool {
        let events = self.committed().saturating_sub(after);
        events.min(u64::try_from(limit).unwrap_or(u64::MAX)) <= SMALL_PAGE_EVENTS_MAX
    }

    /// Runs a read of many events on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Shared, u64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || work(&shared, shared.readable()))
            .await
            .map_err(|e| StoreError::Stopped(format!("a read task failed: {e}")))?
    }
}

/// Events of the log read as a small read, on the caller's thread, at most
/// ([`EmbeddedStore::is_small_page`]); more go to the blocking pool.
const SMALL_PAGE_EVENTS_MAX: u64 = 32;

/// How long opening waits for another holder of the engine's file lock to let go, at most.
const OPEN_LOCK_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the engine, waiting a little while its files are still locked by a process that is
/// ending (or by a child process in the instant between fork and exec, which briefly holds the
/// parent's file locks).
fn open_engine(kind: kv::EngineKind, path: &Path) -> Result<Box<dyn KvEngine>, kv::KvError> {
    let started = std::time::Instant::now();
    loop {
        match kv::open(kind, path) {
            Err(error) if is_lock_held(&error) && started.elapsed() < OPEN_LOCK_WAIT_MAX => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// Whether an open failed only because the engine's files are locked by another holder.
fn is_lock_held(error: &kv::KvError) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = cause {
        let text = e.to_string().to_lowercase();
        if text.contains("already open")
            || text.contains("could not acquire lock")
            || text.contains("resource temporarily unavailable")
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Reads the commit point and removes what a crash left above it.
fn recover(kv: &dyn KvEngine) -> Result<Tail, StoreError> {
    let tail = match kv.get(META, HEAD_KEY)? {
        Some(value) => Tail::decode(&value).ok_or_else(|| StoreError::Corrupt {
            position: 0,
            detail: "the commit point (meta/head) is unreadable".into(),
        })?,
        None => Tail::EMPTY,
    };
    if tail.position > 0 && kv.get(EVENTS, &position_key(tail.position))?.is_none() {
        return Err(StoreError::Corrupt {
            position: tail.position,
            detail: "the commit point names a position that is not stored".into(),
        });
    }
    crate::recovery::remove_above_head(kv, tail.position)?;
    Ok(tail)
}

/// Decodes a stored line, strictly (the schema check of `verify`), and checks it says the
/// position it is stored at; anything else is [`StoreError::Corrupt`] naming that position. For
/// every store (the PostgreSQL one too): the stored line is the same canonical JSON everywhere.
pub fn decode_line(position: u64, line: &[u8]) -> Result<RecordedEvent, StoreError> {
    decode_with(position, line, RecordedEvent::from_json, |e| e.position)
}

/// Decodes a stored line for reading: the fast path for the canonical form the store writes,
/// with the strict parser's result for every line and its error, naming the field, for a
/// damaged one.
pub fn decode_stored_line(position: u64, line: &[u8]) -> Result<RecordedEvent, StoreError> {
    decode_with(position, line, RecordedEvent::from_stored_json, |e| {
        e.position
    })
}

/// Decodes a stored line with `parse`, any reading of it (a whole event, or what a fold keeps
/// of one), and checks that it says the position it is stored at (`position_of`); anything else
/// is [`StoreError::Corrupt`] naming that position.
pub fn decode_with<'a, T>(
    position: u64,
    line: &'a [u8],
    parse: impl FnOnce(&'a str) -> Result<T, domain::ParseError>,
    position_of: impl FnOnce(&T) -> u64,
) -> Result<T, StoreError> {
    let text = std::str::from_utf8(line).map_err(|_| StoreError::Corrupt {
        position,
        detail: "the stored event is not UTF-8".into(),
    })?;
    let decoded = parse(text).map_err(|e| StoreError::Corrupt {
        position,
        detail: format!("the stored event does not parse: {e}"),
    })?;
    let says = position_of(&decoded);
    if says != position {
        return Err(StoreError::Corrupt {
            position,
            detail: format!("the event stored here says position {says}"),
        });
    }
    Ok(decoded)
}

/// Up to `limit` stored lines after `after` and up to `upto` (at most [`READ_PAGE_EVENTS_MAX`]),
/// with their positions; a gap is [`StoreError::Corrupt`].
pub(crate) fn read_lines(
    kv: &dyn KvEngine,
    after: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    if after >= upto || limit == 0 {
        return Ok(Vec::new());
    }
    let limit = limit
        .min(READ_PAGE_EVENTS_MAX)
        .min(usize::try_from(upto - after).unwrap_or(usize::MAX));
    let entries = kv.scan(
        EVENTS,
        Bound::Excluded(&position_key(after)),
        Bound::Included(&position_key(upto)),
        limit,
    )?;
    let mut lines = Vec::with_capacity(entries.len());
    for (expected, (key, line)) in (after + 1..).zip(entries) {
        let position = decode_u64(&key).unwrap_or(0);
        // No gap is ever visible: the commit point moves only over contiguous positions.
        if position != expected {
            return Err(StoreError::Corrupt {
                position: expected,
                detail: "missing from the log".into(),
            });
        }
        lines.push((position, line));
    }
    Ok(lines)
}

/// Up to `limit` events after `after`, decoded. A long page is split into contiguous parts,
/// each read (in a read transaction of its own) and decoded on a thread of its own: decoding
/// costs more than reading, and the parts are independent.
fn read_events(
    kv: &dyn KvEngine,
    after: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    if after >= upto || limit == 0 {
        return Ok(Vec::new());
    }
    let count = limit
        .min(READ_PAGE_EVENTS_MAX)
        .min(usize::try_from(upto - after).unwrap_or(usize::MAX));
    // Asking the machine for its cores reads several files (cgroups): only for a page long
    // enough to split, not for every small read.
    let parts = count / (READ_SPLIT_EVENTS_MIN / 2).max(1);
    let threads = if parts > 1 {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(READ_THREADS_MAX)
            .min(parts)
    } else {
        1
    };
    let last = after + count as u64;
    if threads == 1 {
        return read_decoded(kv, after, last, count);
    }
    let bounds: Vec<u64> = (0..=threads)
        .map(|i| after + (count * i / threads) as u64)
        .collect();
    let parts: Vec<Result<Vec<RecordedEvent>, StoreError>> = std::thread::scope(|scope| {
        let others: Vec<_> = bounds[1..]
            .windows(2)
            .map(|part| scope.spawn(|| read_decoded(kv, part[0], part[1], 0)))
            .collect();
        let first = read_decoded(kv, bounds[0], bounds[1], count);
        std::iter::once(first)
            .chain(others.into_iter().map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }))
            .collect()
    });
    let mut events: Vec<RecordedEvent> = Vec::new();
    for (part, end) in parts.into_iter().zip(&bounds[1..]) {
        let part = part?;
        if events.is_empty() {
            // The first part, with room for the whole page.
            events = part;
        } else {
            events.extend(part);
        }
        // A part that ends early must not be followed by the next one: no gap is ever returned.
        let reached = events.last().map_or(after, |e| e.position);
        if reached != *end {
            return Err(StoreError::Corrupt {
                position: reached + 1,
                detail: "missing from the log".into(),
            });
        }
    }
    Ok(events)
}

/// The events after `after` up to `last`, decoded.
fn read_decoded(
    kv: &dyn KvEngine,
    after: u64,
    last: u64,
    capacity: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let lines = read_lines(kv, after, last, usize::MAX)?;
    // Sized once (for the whole page when this is its first part, which the others are
    // appended to): collecting through `Result` would grow the vector from nothing, copying
    // every decoded event about twice.
    let mut events = Vec::with_capacity(capacity.max(lines.len()));
    for (position, line) in lines {
        events.push(decode_stored_line(position, &line)?);
    }
    Ok(events)
}

/// The last position recorded at or before `as_of`: a binary search, since `recorded_at` never
/// goes backwards along positions.
fn position_as_of(kv: &dyn KvEngine, upto: u64, as_of: DateTime<Utc>) -> Result<u64, StoreError> {
    let (mut low, mut high) = (0u64, upto);
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        let line = kv
            .get(EVENTS, &position_key(mid))?
            .ok_or_else(|| StoreError::Corrupt {
                position: mid,
                detail: "missing from the log".into(),
            })?;
        let recorded = recorded_at_of_line(&line).ok_or_else(|| StoreError::Corrupt {
            position: mid,
            detail: "the stored event has no readable recorded_at".into(),
        })?;
        if recorded <= as_of {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    Ok(low)
}

#[async_trait]
impl EventStore for EmbeddedStore {
    async fn append(
        &self,
        decision_id: DecisionId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Result<Appended, Refusal>, StoreError> {
        self.send(|reply| Command::Append {
            decision_id,
            expected,
            events,
            reply,
        })
        .await
    }

    async fn import(
        &self,
        events: Vec<NewEvent>,
        options: ImportOptions,
    ) -> Result<Result<Imported, Refusal>, StoreError> {
        self.send(|reply| Command::Import {
            events,
            options,
            reply,
        })
        .await
    }

    async fn read_stream(
        &self,
        decision_id: DecisionId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.small_read(|shared, committed| {
            let upto = match as_of {
                Some(as_of) => position_as_of(shared.kv.as_ref(), committed, as_of)?,
                None => committed,
            };
            writer::read_stream_from(shared, decision_id, upto)
        })
    }

    async fn read_stream_lines(
        &self,
        decision_id: DecisionId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.small_read(|shared, committed| {
            writer::read_stream_lines(shared, decision_id, committed, as_of)
        })
    }

    async fn read_all(
        &self,
        after: u64,
        limit: usize,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let read = move |shared: &Shared, committed| {
            let kv = shared.kv.as_ref();
            let upto = match as_of {
                Some(as_of) => position_as_of(kv, committed, as_of)?,
                None => committed,
            };
            read_events(kv, after, upto, limit)
        };
        if self.is_small_page(after, limit) {
            return self.small_read(read);
        }
        self.blocking(read).await
    }

    async fn read_stored_lines(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let read = move |shared: &Shared, committed| {
            read_lines(shared.kv.as_ref(), after, committed, limit)
        };
        if self.is_small_page(after, limit) {
            return self.small_read(read);
        }
        self.blocking(read).await
    }

    async fn position_as_of(&self, as_of: DateTime<Utc>) -> Result<u64, StoreError> {
        self.small_read(|shared, committed| position_as_of(shared.kv.as_ref(), committed, as_of))
    }

    async fn head(&self) -> Result<Head, StoreError> {
        let tail = *self
            .shared
            .tail
            .lock()
            .expect("the tail lock is never poisoned");
        Ok(Head {
            position: tail.position,
            recorded_at: tail.recorded_at,
        })
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.shared.head_tx.subscribe()
    }

    /// The writer's reason, once a failed commit (or a failed read while staging) stopped it.
    fn stopped(&self) -> Option<String> {
        self.shared.stopped.get().cloned()
    }

    async fn checkpoint(&self, subscriber: &str) -> Result<u64, StoreError> {
        self.small_read(
            |shared, _| match shared.kv.get(CHECKPOINTS, subscriber.as_bytes())? {
                None => Ok(0),
                Some(value) => decode_u64(&value).ok_or_else(|| StoreError::Corrupt {
                    position: 0,
                    detail: format!("the checkpoint of subscriber {subscriber} is not a position"),
                }),
            },
        )
    }

    async fn save_checkpoint(&self, subscriber: &str, position: u64) -> Result<(), StoreError> {
        if subscriber.is_empty() || subscriber.len() > SUBSCRIBER_NAME_BYTES_MAX {
            return Err(StoreError::Invalid(format!(
                "a subscriber name has 1 to {SUBSCRIBER_NAME_BYTES_MAX} bytes"
            )));
        }
        let committed = self.committed();
        if position > committed {
            return Err(StoreError::Invalid(format!(
                "a checkpoint at position {position} is beyond the log's head ({committed})"
            )));
        }
        let name = subscriber.to_owned();
        self.send(|reply| Command::Checkpoint {
            name,
            position,
            reply,
        })
        .await
    }
}

#[cfg(test)]
mod read_tests {
    //! `read_all` in parts on several threads gives what one strict pass over the stored lines
    //! gives, and refuses a log with a hole or a damaged line, naming the position.

    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::layout::EVENTS;
    use domain::EventType;
    use kv::Batch;

    /// Events in the test log: more than two split pages' worth, not a multiple of a page.
    const LOG_EVENTS: u64 = 4_567;

    fn log() -> (tempfile::TempDir, EmbeddedStore, tokio::runtime::Runtime) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path(), None, system_clock()).unwrap();
        let example = domain::schema::example(EventType::DecisionGranted).to_string();
        let events = (0..LOG_EVENTS)
            .map(|i| {
                let mut event = NewEvent::from_json(&example).unwrap();
                event.event_id = None;
                event.decision_id = DecisionId::from_uuid(uuid::Uuid::from_u128(u128::from(i) + 1));
                // Every third actor is escaped on the wire: read by the strict parser.
                event.actor = Some(if i % 3 == 0 {
                    format!("handläggare \"{i}\"")
                } else {
                    format!("handläggare {i}")
                });
                event
            })
            .collect();
        runtime
            .block_on(store.import(events, ImportOptions::default()))
            .unwrap()
            .unwrap();
        // Applied to the key-value layer, which the tests edit.
        store.committed();
        (dir, store, runtime)
    }

    fn strict(store: &EmbeddedStore, after: u64, limit: usize) -> Vec<RecordedEvent> {
        store
            .read_lines(after, limit)
            .unwrap()
            .into_iter()
            .map(|(position, line)| decode_line(position, &line).unwrap())
            .collect()
    }

    #[test]
    fn pages_of_every_size_are_the_strict_decoding_of_the_stored_lines() {
        let (_dir, store, runtime) = log();
        for limit in [
            1,
            999,
            READ_SPLIT_EVENTS_MIN,
            2_001,
            3_333,
            READ_PAGE_EVENTS_MAX,
        ] {
            let mut after = 0;
            loop {
                let page = runtime
                    .block_on(store.read_all(after, limit, None))
                    .unwrap();
                assert_eq!(
                    page,
                    strict(&store, after, limit),
                    "after {after}, limit {limit}"
                );
                let Some(last) = page.last() else { break };
                assert_eq!(
                    page.len(),
                    limit.min(usize::try_from(LOG_EVENTS - after).unwrap())
                );
                after = last.position;
            }
            assert_eq!(after, LOG_EVENTS);
        }
    }

    fn corrupt_position(result: Result<Vec<RecordedEvent>, StoreError>) -> u64 {
        match result {
            Err(StoreError::Corrupt { position, .. }) => position,
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn a_hole_in_any_part_is_named() {
        // The last position of the first part, the first of the second, one inside the last.
        for hole in [2_283, 2_284, 4_500] {
            let (_dir, store, runtime) = log();
            let mut batch = Batch::new();
            batch.delete(EVENTS, position_key(hole).to_vec());
            store.kv().commit(batch).unwrap();
            let read = runtime.block_on(store.read_all(0, READ_PAGE_EVENTS_MAX, None));
            assert_eq!(corrupt_position(read), hole);
        }
    }

    #[test]
    fn a_damaged_line_in_any_part_is_named() {
        let (_dir, store, runtime) = log();
        for damaged in [1, 2_284, LOG_EVENTS] {
            let line = store
                .kv()
                .get(EVENTS, &position_key(damaged))
                .unwrap()
                .unwrap();
            let text = String::from_utf8(line).unwrap();
            let mut batch = Batch::new();
            let broken = text.replacen("\"law\":\"SoL\"", "\"law\":\"LSS\"", 1);
            assert_ne!(broken, text);
            batch.put(EVENTS, position_key(damaged).to_vec(), broken.into_bytes());
            store.kv().commit(batch).unwrap();
            let read = runtime.block_on(store.read_all(0, READ_PAGE_EVENTS_MAX, None));
            match read {
                Err(StoreError::Corrupt { position, detail }) => {
                    assert_eq!(position, damaged);
                    assert!(detail.contains("data.insats"), "{detail}");
                }
                other => panic!("expected corruption, got {other:?}"),
            }
            let mut batch = Batch::new();
            batch.put(EVENTS, position_key(damaged).to_vec(), text.into_bytes());
            store.kv().commit(batch).unwrap();
        }
        assert_eq!(
            runtime
                .block_on(store.read_all(0, READ_PAGE_EVENTS_MAX, None))
                .unwrap()
                .len(),
            usize::try_from(LOG_EVENTS).unwrap()
        );
    }
}
