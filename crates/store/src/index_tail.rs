//! The index tail: the index entries of the newest events, kept in memory and written to the
//! key-value layer's index tables many at a time.
//!
//! Every event has index entries: its place in its stream (`streams`), its id (`event_ids`)
//! and, for a stream's first event, the stream's number (`stream_nos`). Their keys are random
//! (decision and event ids are random UUIDs), so writing them with each group commit rewrote
//! about two B-tree pages per event, at random places, in every commit: half of what a commit
//! of 16 events cost on a fresh store, and four fifths at a million events
//! (`crates/kv/examples/group_probe.rs`, layouts `indexed` and `events`).
//!
//! So the tables hold the entries of every event up to position *I*, `meta/indexed`, and the
//! entries of the events above *I* are only here, in memory:
//! - the committer adds a group's entries once its batch is committed, before the head that
//!   shows the group moves, so a reader never meets a committed event without its entries;
//! - when the tail holds more than [`INDEX_TAIL_EVENTS_MAX`] events, the committer writes the
//!   oldest [`INDEX_FLUSH_EVENTS_MAX`] of them to the tables in one batch with the new *I*
//!   (a *flush*), after answering its group;
//! - a clean close writes them all, so the next opening finds nothing to rebuild;
//! - opening rebuilds the tail from the events above *I* (the log is the truth and the index
//!   is derived from it), so a crash loses nothing: at most [`INDEX_TAIL_EVENTS_MAX`] and a
//!   group's events are read again.
//!
//! A store written before the tail existed has no `meta/indexed`: every event it holds has its
//! entries, so *I* is its head. The first batch the committer writes then records it (an empty
//! new store records 0), so that a later opening never takes events above *I* for indexed.
//!
//! **Readers see each position once.** A reader takes the tail's lock, copies *I* and the
//! entries it needs, lets go, then reads the tables for positions up to that *I* only. A flush
//! commits its batch before it raises *I* and forgets what it wrote, so whatever moment a
//! reader copies the tail at, the tables hold every position up to the *I* it copied, and the
//! tail every one above. An event id is looked up in the tail first and in the table second,
//! for the same reason.
//!
//! **Stream numbers** are given when a stream's first event is flushed, one more than the
//! greatest in `streams`, so in order of the streams' first positions, as before: the entries
//! of the streams written now sit together at the right edge of the `streams` B-tree.

use std::collections::{HashMap, VecDeque};
use std::sync::RwLock;

use domain::{DecisionId, EventId};
use kv::{Batch, KvEngine};

use crate::api::StoreError;
use crate::layout::{
    EVENT_IDS, INDEXED_KEY, META, STREAM_NOS, STREAMS, decode_u64, next_stream_no, position_key,
    stream_key,
};

/// Events the tail holds before the committer flushes it, at most. About 100 bytes an event
/// (its entry, its id's place in a map, its position in its stream's list): about 26 MB. It
/// also bounds what an opening after a crash reads again.
pub(crate) const INDEX_TAIL_EVENTS_MAX: usize = 1 << 18;
/// Events one flush writes, at most: three entries each, and the batch stays within
/// [`kv::BATCH_OPS_MAX`]. A flush holds back the next group's commit for as long as it takes.
pub(crate) const INDEX_FLUSH_EVENTS_MAX: usize = 16_384;
/// Events one flush writes, at most, when no append waits for it: after an import (which runs
/// alone, so a longer flush holds back no one who was not waiting already) and at a clean
/// close: the whole tail, [`INDEX_TAIL_EVENTS_MAX`]. The more entries one flush writes, the
/// more of them share each B-tree page it rewrites (a flush of k random keys into a table of n
/// leaves rewrites about n·(1 − e^(−k/n)) of them). At 1 000 000 decisions (six million entries
/// a table): 16 384 a flush gave the import 34 k events/s, 65 536 gave 41 k, and 262 144 gives
/// about 1.45 times what 65 536 gave on the same hour (33.9 k → 48.8 k, 35.7 k → 52.2 k).
pub(crate) const LONE_FLUSH_EVENTS_MAX: usize = INDEX_TAIL_EVENTS_MAX;
/// Events read per page while rebuilding the tail at opening.
const REBUILD_PAGE_EVENTS: usize = 4_096;

const _: () = assert!(3 * INDEX_FLUSH_EVENTS_MAX < kv::BATCH_OPS_MAX);
const _: () = assert!(3 * LONE_FLUSH_EVENTS_MAX < kv::BATCH_OPS_MAX);

/// The index entries of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub position: u64,
    pub decision_id: DecisionId,
    pub version: u64,
    pub event_id: EventId,
}

/// How the tail hashes ids: foldhash, randomly seeded per process like std's SipHash (a caller
/// cannot choose ids that collide), and several times faster on 16-byte keys.
type IdHasher = foldhash::fast::RandomState;

/// The index entries of contiguous events, looked up by event id and by decision, or (a group's,
/// which the writer finds otherwise until they are committed) only listed.
#[derive(Debug, Default)]
pub(crate) struct Entries {
    /// In position order.
    list: VecDeque<Entry>,
    /// Whether `ids` and `streams` are kept.
    lookups: bool,
    /// Each event's position by its id.
    ids: HashMap<EventId, u64, IdHasher>,
    /// Each decision's positions here, in version order.
    streams: HashMap<DecisionId, Vec<u64>, IdHasher>,
}

impl Entries {
    /// Entries looked up by event id and by decision.
    pub(crate) fn with_lookups() -> Entries {
        Entries {
            lookups: true,
            ..Entries::default()
        }
    }

    /// Adds the entries of the event after the last one here.
    pub(crate) fn push(&mut self, entry: Entry) {
        debug_assert!(
            self.list
                .back()
                .is_none_or(|last| last.position + 1 == entry.position),
            "the entries are of contiguous positions"
        );
        if self.lookups {
            self.ids.insert(entry.event_id, entry.position);
            self.streams
                .entry(entry.decision_id)
                .or_default()
                .push(entry.position);
        }
        self.list.push_back(entry);
    }

    /// The position of the event with this id, if it is here (and looked up).
    pub(crate) fn position_of(&self, event_id: EventId) -> Option<u64> {
        self.ids.get(&event_id).copied()
    }

    /// A decision's positions here, in version order (when looked up).
    pub(crate) fn stream(&self, decision_id: DecisionId) -> &[u64] {
        self.streams.get(&decision_id).map_or(&[], Vec::as_slice)
    }

    /// How many events' entries are here.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The entries, in position order.
    pub(crate) fn into_list(self) -> VecDeque<Entry> {
        self.list
    }

    /// Forgets the entries of every position up to `position` (they are the oldest).
    fn forget_up_to(&mut self, position: u64) {
        while let Some(first) = self.list.front().copied() {
            if first.position > position {
                break;
            }
            self.list.pop_front();
            self.ids.remove(&first.event_id);
            if let Some(positions) = self.streams.get_mut(&first.decision_id) {
                debug_assert_eq!(positions.first(), Some(&first.position));
                positions.remove(0);
                if positions.is_empty() {
                    self.streams.remove(&first.decision_id);
                }
            }
        }
    }
}

/// The entries of the events above `meta/indexed`. See the module documentation.
#[derive(Debug)]
pub(crate) struct IndexTail {
    /// *I*: every event up to here has its entries in the tables.
    indexed: u64,
    /// Whether `meta/indexed` is written (see the module documentation).
    recorded: bool,
    entries: Entries,
}

impl Default for IndexTail {
    /// The tail of an empty store.
    fn default() -> IndexTail {
        IndexTail {
            indexed: 0,
            recorded: false,
            entries: Entries::with_lookups(),
        }
    }
}

impl IndexTail {
    /// Rebuilds the tail of a store whose commit point is `head`, from the events above
    /// `meta/indexed` (its head when there is none: a store from before the tail).
    pub(crate) fn load(kv: &dyn KvEngine, head: u64) -> Result<IndexTail, StoreError> {
        let recorded = kv.get(META, INDEXED_KEY)?;
        let indexed = match &recorded {
            None => head,
            Some(value) => decode_u64(value).ok_or_else(|| StoreError::Corrupt {
                position: 0,
                detail: "the index's extent (meta/indexed) is not a position".into(),
            })?,
        };
        if indexed > head {
            return Err(StoreError::Corrupt {
                position: indexed,
                detail: format!(
                    "the index reaches position {indexed}, beyond the commit point {head}"
                ),
            });
        }
        let mut tail = IndexTail {
            indexed,
            recorded: recorded.is_some(),
            entries: Entries::with_lookups(),
        };
        let mut after = indexed;
        while after < head {
            let page = crate::embedded::read_lines(kv, after, head, REBUILD_PAGE_EVENTS)?;
            let Some(&(last, _)) = page.last() else {
                return Err(StoreError::Corrupt {
                    position: after + 1,
                    detail: "missing from the log".into(),
                });
            };
            for (position, line) in page {
                let envelope = crate::writer::stored_envelope(position, &line)?;
                tail.entries.push(Entry {
                    position,
                    decision_id: envelope.decision_id,
                    version: envelope.version,
                    event_id: envelope.event_id,
                });
            }
            after = last;
        }
        Ok(tail)
    }

    /// *I*: every event up to here has its entries in the tables.
    pub(crate) fn indexed(&self) -> u64 {
        self.indexed
    }

    /// The entries above *I*.
    pub(crate) fn entries(&self) -> &Entries {
        &self.entries
    }

    /// Puts `meta/indexed` into `batch` unless it is written already; [`IndexTail::recorded`]
    /// once the batch is committed.
    pub(crate) fn record_in(&self, batch: &mut Batch) {
        if !self.recorded {
            batch.put(
                META,
                INDEXED_KEY.to_vec(),
                position_key(self.indexed).to_vec(),
            );
        }
    }

    /// `meta/indexed` is written: the batch of [`IndexTail::record_in`] is committed.
    pub(crate) fn recorded(&mut self) {
        self.recorded = true;
    }

    /// Adds a committed group's entries (the events right after those here).
    pub(crate) fn extend(&mut self, entries: impl IntoIterator<Item = Entry>) {
        for entry in entries {
            debug_assert_eq!(
                entry.position,
                self.indexed + self.entries.len() as u64 + 1,
                "the tail holds contiguous positions above I"
            );
            self.entries.push(entry);
        }
    }
}

/// Writes the oldest entries of the tail, at most `most` events' (at least one), to the tables
/// in one batch with the new *I*, then forgets them. Only the committer flushes (or the writer
/// committing in its place), so nothing else changes the tail's oldest entries meanwhile.
pub(crate) fn flush(
    kv: &dyn KvEngine,
    tail: &RwLock<IndexTail>,
    most: usize,
) -> Result<(), StoreError> {
    let (indexed, chunk): (u64, Vec<Entry>) = {
        let tail = read(tail);
        (
            tail.indexed,
            tail.entries
                .list
                .iter()
                .take(most.max(1))
                .copied()
                .collect(),
        )
    };
    let Some(last) = chunk.last().map(|e| e.position) else {
        return Ok(());
    };
    debug_assert_eq!(chunk[0].position, indexed + 1, "a flush starts above I");
    let mut numbers = stream_numbers(kv, &chunk)?;
    let mut next_no = next_stream_no(kv)?;
    let mut batch = Batch::new();
    for entry in &chunk {
        let position = position_key(entry.position).to_vec();
        let no = if entry.version == 1 {
            let no = next_no;
            next_no += 1;
            numbers.insert(entry.decision_id, no);
            batch.put(
                STREAM_NOS,
                entry.decision_id.as_bytes().to_vec(),
                no.to_be_bytes().to_vec(),
            );
            no
        } else {
            *numbers
                .get(&entry.decision_id)
                .ok_or_else(|| StoreError::Corrupt {
                    position: entry.position,
                    detail: format!(
                        "version {} of decision {} follows no stream in the index",
                        entry.version, entry.decision_id
                    ),
                })?
        };
        batch.put(
            STREAMS,
            stream_key(no, entry.version).to_vec(),
            position.clone(),
        );
        batch.put(EVENT_IDS, entry.event_id.as_bytes().to_vec(), position);
    }
    batch.put(META, INDEXED_KEY.to_vec(), position_key(last).to_vec());
    kv.commit(batch)?;
    let mut tail = write(tail);
    tail.entries.forget_up_to(last);
    tail.indexed = last;
    tail.recorded = true;
    Ok(())
}

/// The numbers of the streams whose later events `chunk` holds and whose first event is
/// flushed already, read in one go, in key order.
fn stream_numbers(
    kv: &dyn KvEngine,
    chunk: &[Entry],
) -> Result<HashMap<DecisionId, u64>, StoreError> {
    let created: std::collections::HashSet<DecisionId> = chunk
        .iter()
        .filter(|e| e.version == 1)
        .map(|e| e.decision_id)
        .collect();
    let mut older: Vec<DecisionId> = chunk
        .iter()
        .filter(|e| !created.contains(&e.decision_id))
        .map(|e| e.decision_id)
        .collect();
    older.sort_unstable_by_key(|d| *d.as_bytes());
    older.dedup();
    let keys: Vec<&[u8]> = older.iter().map(|d| d.as_bytes().as_slice()).collect();
    let mut numbers = HashMap::with_capacity(older.len() + created.len());
    for (decision_id, value) in older.iter().zip(kv.get_many(STREAM_NOS, &keys)?) {
        if let Some(value) = value {
            let no = decode_u64(&value).ok_or_else(|| StoreError::Corrupt {
                position: 0,
                detail: format!("the stream number of decision {decision_id} is not a number"),
            })?;
            numbers.insert(*decision_id, no);
        }
    }
    Ok(numbers)
}

/// Flushes until the tail holds at most `keep` events, `most` at a time.
pub(crate) fn flush_down_to(
    kv: &dyn KvEngine,
    tail: &RwLock<IndexTail>,
    keep: usize,
    most: usize,
) -> Result<(), StoreError> {
    while read(tail).entries.len() > keep {
        flush(kv, tail, most)?;
    }
    Ok(())
}

/// The tail, for reading.
pub(crate) fn read(tail: &RwLock<IndexTail>) -> std::sync::RwLockReadGuard<'_, IndexTail> {
    tail.read()
        .expect("the index tail's lock is never poisoned: no panics while held")
}

/// The tail, for writing (the committer's, or the writer's committing in its place).
pub(crate) fn write(tail: &RwLock<IndexTail>) -> std::sync::RwLockWriteGuard<'_, IndexTail> {
    tail.write()
        .expect("the index tail's lock is never poisoned: no panics while held")
}

/// What a reader copies of the tail for one decision: *I*, and the decision's positions
/// above it.
pub(crate) fn stream_above_indexed(
    tail: &RwLock<IndexTail>,
    decision_id: DecisionId,
) -> (u64, Vec<u64>) {
    let tail = read(tail);
    (tail.indexed, tail.entries.stream(decision_id).to_vec())
}

/// The position of an event by its id: the tail's, else the table's (in that order: see the
/// module documentation).
pub(crate) fn position_of(
    kv: &dyn KvEngine,
    tail: &RwLock<IndexTail>,
    event_id: EventId,
) -> Result<Option<u64>, StoreError> {
    if let Some(position) = read(tail).entries.position_of(event_id) {
        return Ok(Some(position));
    }
    match kv.get(EVENT_IDS, event_id.as_bytes())? {
        None => Ok(None),
        Some(value) => decode_u64(&value)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                position: 0,
                detail: format!("the index entry of event {event_id} is not a position"),
            }),
    }
}

#[cfg(test)]
mod tests {
    //! The index tail against the tables: flushes move entries without a reader missing or
    //! doubling one, an opening rebuilds what no flush wrote, and `verify` names an entry that
    //! points elsewhere on either side of *I*.

    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::{EventType, NewEvent};

    use super::*;
    use crate::layout::EVENTS;
    use crate::writer::Tuning;
    use crate::{EmbeddedStore, EventStore, ExpectedVersion, ImportOptions, system_clock};

    /// Decisions of the test log, each with [`VERSIONS`] events, appended in turns.
    const DECISIONS: u128 = 3;
    const VERSIONS: u64 = 4;

    fn decision(n: u128) -> DecisionId {
        DecisionId::from_uuid(uuid::Uuid::from_u128(n + 1))
    }

    fn event(event_type: EventType, decision_id: DecisionId) -> NewEvent {
        let mut event =
            NewEvent::from_json(&domain::schema::example(event_type).to_string()).unwrap();
        event.event_id = None;
        event.decision_id = decision_id;
        event
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A store that keeps at most `tail` events in its index tail, flushing `flush` at a time,
    /// and writes the rest at close only when `flush_at_close`.
    fn open(
        dir: &std::path::Path,
        tail: usize,
        flush: usize,
        flush_at_close: bool,
    ) -> EmbeddedStore {
        let tuning = Tuning {
            index_tail_events: tail,
            index_flush_events: flush,
            lone_flush_events: flush,
            flush_index_at_close: flush_at_close,
            ..Tuning::default()
        };
        EmbeddedStore::open_tuned(dir, None, system_clock(), tuning).unwrap()
    }

    /// Appends the test log: versions in turns, so that every flush cuts streams in two.
    fn write_log(store: &EmbeddedStore, runtime: &tokio::runtime::Runtime) {
        for version in 1..=VERSIONS {
            for n in 0..DECISIONS {
                let kind = if version == 1 {
                    EventType::DecisionGranted
                } else {
                    EventType::NoteRecorded
                };
                runtime
                    .block_on(store.append(
                        decision(n),
                        ExpectedVersion::Exact(version - 1),
                        vec![event(kind, decision(n))],
                    ))
                    .unwrap()
                    .unwrap();
            }
        }
        // The committer flushes after it answers; a checkpoint, answered after it, waits for
        // that flush.
        runtime.block_on(store.save_checkpoint("test", 0)).unwrap();
    }

    /// A runtime, a data directory and a store on it (see [`open`]) holding the test log.
    fn written(
        tail: usize,
        flush: usize,
        flush_at_close: bool,
    ) -> (tokio::runtime::Runtime, tempfile::TempDir, EmbeddedStore) {
        let runtime = runtime();
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), tail, flush, flush_at_close);
        write_log(&store, &runtime);
        (runtime, dir, store)
    }

    /// Each decision's stream as read: positions and versions.
    fn streams(store: &EmbeddedStore, runtime: &tokio::runtime::Runtime) -> Vec<Vec<(u64, u64)>> {
        (0..DECISIONS)
            .map(|n| {
                runtime
                    .block_on(store.read_stream(decision(n), None))
                    .unwrap()
                    .iter()
                    .map(|e| (e.position, e.version))
                    .collect()
            })
            .collect()
    }

    /// Decision n's version v is at position (v − 1) · DECISIONS + n + 1.
    fn expected_streams() -> Vec<Vec<(u64, u64)>> {
        let per_version = u64::try_from(DECISIONS).unwrap();
        (0..per_version)
            .map(|n| {
                (1..=VERSIONS)
                    .map(|v| ((v - 1) * per_version + n + 1, v))
                    .collect()
            })
            .collect()
    }

    fn indexed_of(store: &EmbeddedStore) -> (u64, usize) {
        let tail = read(&store.shared().index);
        (tail.indexed(), tail.entries().len())
    }

    #[test]
    fn a_flush_moves_the_oldest_entries_to_the_tables_and_readers_see_each_position_once() {
        // At most 5 events in the tail, 2 written at a time: after 12 appends, 8 are in the
        // tables and 4 in the tail.
        let (runtime, _dir, store) = written(5, 2, false);
        assert_eq!(indexed_of(&store), (8, 4));
        assert_eq!(streams(&store, &runtime), expected_streams());
        let kv = store.kv().as_ref();
        assert_eq!(
            kv.get(META, INDEXED_KEY)
                .unwrap()
                .as_deref()
                .and_then(decode_u64),
            Some(8)
        );
        let ids = |positions: std::ops::RangeInclusive<u64>| -> Vec<Option<u64>> {
            positions
                .map(|p| {
                    kv.get(EVENT_IDS, event_id_at(kv, p).as_bytes())
                        .unwrap()
                        .as_deref()
                        .and_then(decode_u64)
                })
                .collect()
        };
        assert_eq!(ids(1..=8), (1..=8).map(Some).collect::<Vec<_>>());
        assert_eq!(ids(9..=12), vec![None; 4], "the tail is not in the tables");
        // Streams were numbered in order of their first events, when those were flushed.
        for n in 0..DECISIONS {
            assert_eq!(
                crate::layout::read_stream_no(kv, decision(n).as_bytes()).unwrap(),
                Some(u64::try_from(n).unwrap() + 1)
            );
        }
        // A reader that copied the tail before a flush reads the tables only up to the I it
        // copied: the flushed positions come from its copy, once.
        let (indexed, above) = stream_above_indexed(&store.shared().index, decision(0));
        assert_eq!((indexed, above.clone()), (8, vec![10]));
        flush(kv, &store.shared().index, usize::MAX).unwrap();
        assert_eq!(indexed_of(&store), (12, 0));
        let mut positions = crate::writer::indexed_positions(kv, decision(0), indexed).unwrap();
        positions.extend(above);
        assert_eq!(positions, vec![1, 4, 7, 10]);
        assert_eq!(streams(&store, &runtime), expected_streams());
        let verified = store.verify(&mut |_, _| {}).unwrap();
        assert!(verified.is_ok(), "{verified:?}");
    }

    #[test]
    fn an_opening_rebuilds_the_tail_that_no_flush_wrote() {
        let (runtime, dir, store) = written(5, 2, false);
        drop(store);
        // Closed without writing the tail, as a crash leaves it.
        let store = open(dir.path(), 5, 2, false);
        assert_eq!(indexed_of(&store), (8, 4));
        assert_eq!(streams(&store, &runtime), expected_streams());
        // An event id of the tail is known: the same event again is a duplicate.
        let line = store.read_lines(11, 1).unwrap().pop().unwrap().1;
        let stored = crate::decode_line(12, &line).unwrap();
        let mut again = event(EventType::NoteRecorded, stored.decision_id);
        again.event_id = Some(stored.event_id);
        again.occurred_on = stored.occurred_on;
        again.actor = stored.actor.clone();
        again.data = stored.data.clone();
        let imported = runtime
            .block_on(store.import(vec![again], ImportOptions::default()))
            .unwrap()
            .unwrap();
        assert_eq!((imported.appended, imported.duplicates), (0, 1));
        drop(store);
        // A clean close writes it all.
        let store = open(dir.path(), 5, 2, true);
        drop(store);
        let store = open(dir.path(), 5, 2, true);
        assert_eq!(indexed_of(&store), (12, 0));
        assert_eq!(streams(&store, &runtime), expected_streams());
    }

    #[test]
    fn a_store_without_an_index_extent_is_indexed_up_to_its_head_and_then_records_it() {
        let (runtime, dir, store) = written(0, 16, true);
        // As a store written before the tail existed: every entry in the tables, no extent.
        let mut batch = Batch::new();
        batch.delete(META, INDEXED_KEY.to_vec());
        store.kv().commit(batch).unwrap();
        drop(store);
        let store = open(dir.path(), 1 << 10, 16, false);
        assert_eq!(indexed_of(&store), (12, 0));
        let kv = store.kv().as_ref();
        assert_eq!(kv.get(META, INDEXED_KEY).unwrap(), None);
        runtime
            .block_on(store.append(
                decision(0),
                ExpectedVersion::Exact(VERSIONS),
                vec![event(EventType::NoteRecorded, decision(0))],
            ))
            .unwrap()
            .unwrap();
        store.committed();
        assert_eq!(
            kv.get(META, INDEXED_KEY)
                .unwrap()
                .as_deref()
                .and_then(decode_u64),
            Some(12),
            "the first commit records the extent, which the new event is above"
        );
        drop(store);
        let store = open(dir.path(), 1 << 10, 16, false);
        assert_eq!(indexed_of(&store), (12, 1));
        assert_eq!(
            runtime
                .block_on(store.read_stream(decision(0), None))
                .unwrap()
                .len(),
            usize::try_from(VERSIONS).unwrap() + 1
        );
    }

    /// `verify` on a store whose tables hold positions 1–8 and whose tail holds 9–12, after
    /// `tamper` changed its tables: the damage it names.
    fn verify_after(tamper: impl FnOnce(&dyn KvEngine)) -> crate::Damage {
        let (_runtime, _dir, store) = written(5, 2, false);
        assert_eq!(indexed_of(&store), (8, 4));
        tamper(store.kv().as_ref());
        store.verify(&mut |_, _| {}).unwrap().unwrap_err()
    }

    fn event_id_at(kv: &dyn KvEngine, position: u64) -> EventId {
        let line = kv.get(EVENTS, &position_key(position)).unwrap().unwrap();
        crate::writer::stored_envelope(position, &line)
            .unwrap()
            .event_id
    }

    fn put(kv: &dyn KvEngine, table: kv::Table, key: Vec<u8>, value: u64) {
        let mut batch = Batch::new();
        batch.put(table, key, position_key(value).to_vec());
        kv.commit(batch).unwrap();
    }

    #[test]
    fn verify_names_an_entry_of_the_tables_that_is_missing_or_points_elsewhere() {
        let damage = verify_after(|kv| {
            let mut batch = Batch::new();
            batch.delete(EVENT_IDS, event_id_at(kv, 5).as_bytes().to_vec());
            kv.commit(batch).unwrap();
        });
        assert_eq!(damage.position, 5, "{damage}");
        assert!(damage.detail.contains("event id index"), "{damage}");
        let damage = verify_after(|kv| put(kv, STREAMS, stream_key(2, 2).to_vec(), 4));
        // Decision 1 (stream 2) has its version 2 at position 5.
        assert_eq!(damage.position, 5, "{damage}");
        assert!(damage.detail.contains("stream index"), "{damage}");
    }

    #[test]
    fn verify_names_an_entry_above_the_extent_that_points_elsewhere() {
        let damage =
            verify_after(|kv| put(kv, EVENT_IDS, event_id_at(kv, 10).as_bytes().to_vec(), 3));
        assert_eq!(damage.position, 10, "{damage}");
        assert!(damage.detail.contains("event id index"), "{damage}");
        // Decision 2 (stream 3) has its version 4 at position 12, in the tail.
        let damage = verify_after(|kv| put(kv, STREAMS, stream_key(3, 4).to_vec(), 9));
        assert_eq!(damage.position, 12, "{damage}");
        assert!(damage.detail.contains("stream index"), "{damage}");
    }
}
