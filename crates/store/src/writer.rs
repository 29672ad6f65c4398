//! The one writer: a dedicated thread that takes append, import and checkpoint requests from a
//! bounded queue, checks each against the log as it is (the §6 rules included, so two
//! concurrent appends can never both pass against a stale stream), and commits the requests it
//! has gathered in one durable batch (group commit). Each request is atomic on its own: a
//! refused request writes nothing and does not disturb the others in its group.
//!
//! The commit point is `meta/head`: it moves in the same batch as the events it covers. An
//! import too large for one batch writes its events in several batches *above* the commit point,
//! where no reader looks, and moves the commit point in the last one; a crash in between leaves
//! entries that opening the store removes.
//!
//! After any failure to commit, the writer stops taking writes (the outcome on disk is unknown);
//! reopening the store recovers from what is on disk.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use domain::rules::{StreamEvent, check_append};
use domain::time::business_date;
use domain::{DecisionId, EventData, EventId, NewEvent, RecordedEvent};
use kv::{Batch, KvEngine};
use tokio::sync::{mpsc, oneshot, watch};

use crate::anchor::Anchor;
use crate::api::{
    Appended, AppendedEvent, ExpectedVersion, ImportOptions, Imported, Refusal, RefusalKind,
    StoreError,
};
use crate::chain::{chain_hash, encode_hex, stored_line};
use crate::embedded::{Clock, decode_line};
use crate::layout::{
    CHECKPOINTS, EVENT_IDS, EVENTS, HEAD_KEY, META, STREAMS, Tail, decode_u64, position_key,
    stream_key,
};

/// Requests waiting for the writer, at most.
pub(crate) const QUEUE_REQUESTS_MAX: usize = 4096;
/// Requests gathered into one group commit, at most.
const GROUP_REQUESTS_MAX: usize = 1024;
/// A group is committed once its batch holds this many operations (well below kv's limit).
const GROUP_BATCH_OPS_MAX: usize = 32_768;
/// A group is committed once its batch holds this many bytes (well below kv's limit).
const GROUP_BATCH_BYTES_MAX: usize = 24 * 1024 * 1024;
/// Decisions whose decoded streams the writer keeps between groups, at most (then it forgets
/// them all and reads again): appends read the stream they extend, and decoding it again for
/// every append was a quarter of the writer's time.
const STREAM_CACHE_DECISIONS_MAX: usize = 20_000;
/// Events in one append request, at most (imports have no such limit).
pub const APPEND_EVENTS_MAX: usize = 1000;
/// Bytes of stored events in one append request, at most.
pub const APPEND_BYTES_MAX: usize = 8 * 1024 * 1024;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A request to the writer.
pub(crate) enum Command {
    Append {
        decision_id: DecisionId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        reply: Reply<Result<Appended, Refusal>>,
    },
    Import {
        events: Vec<NewEvent>,
        options: ImportOptions,
        reply: Reply<Result<Imported, Refusal>>,
    },
    Checkpoint {
        name: String,
        position: u64,
        reply: Reply<()>,
    },
}

/// What the writer and the readers share.
pub(crate) struct Shared {
    pub kv: Arc<dyn KvEngine>,
    /// The committed head: readers read positions up to here and no further.
    pub committed: AtomicU64,
    /// The committed tail (for `head()`), updated with `committed`.
    pub tail: std::sync::Mutex<Tail>,
    /// Wakes followers when the head moves.
    pub head_tx: watch::Sender<u64>,
}

impl Shared {
    fn publish(&self, tail: Tail) {
        *self
            .tail
            .lock()
            .expect("the tail lock is never poisoned: no panics while held") = tail;
        self.committed.store(tail.position, Ordering::Release);
        self.head_tx.send_replace(tail.position);
    }
}

/// Starts the writer thread.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    clock: Clock,
    tail: Tail,
    anchor: Anchor,
    commands: mpsc::Receiver<Command>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("verkstall-writer".into())
        .spawn(move || {
            Writer {
                shared,
                clock,
                tail,
                anchor,
                stopped: None,
                cache: HashMap::new(),
            }
            .run(commands)
        })
}

struct Writer {
    shared: Arc<Shared>,
    clock: Clock,
    tail: Tail,
    anchor: Anchor,
    stopped: Option<String>,
    /// Decoded streams as committed (at `tail`): lent to each group's `Pending` and taken back
    /// only after its commit succeeded, so it never holds anything uncommitted.
    cache: HashMap<DecisionId, Vec<RecordedEvent>>,
}

/// A reply owed once the group's batch is committed.
enum Owed {
    Append(Reply<Result<Appended, Refusal>>, Result<Appended, Refusal>),
    Checkpoint(Reply<()>),
}

impl Writer {
    fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            let mut group = vec![first];
            while group.len() < GROUP_REQUESTS_MAX {
                match commands.try_recv() {
                    Ok(command) => group.push(command),
                    Err(_) => break,
                }
            }
            self.process(group);
        }
    }

    /// A new group's work, starting from the committed state and the cached streams.
    fn fresh(&mut self) -> Pending {
        let mut pending = Pending::new(Arc::clone(&self.shared.kv), self.tail);
        pending.streams = std::mem::take(&mut self.cache);
        pending
    }

    fn process(&mut self, group: Vec<Command>) {
        let mut pending = self.fresh();
        let mut owed = Vec::new();
        for command in group {
            if let Some(reason) = &self.stopped {
                reply_stopped(command, reason);
                continue;
            }
            match command {
                Command::Append {
                    decision_id,
                    expected,
                    events,
                    reply,
                } => {
                    // Not earlier than anything staged in this group either.
                    let now = self.now_after(pending.tail.recorded_at);
                    match pending.stage(events, Some((decision_id, expected)), false, now, false) {
                        Ok(Ok(staged)) => {
                            owed.push(Owed::Append(reply, Ok(staged.into_appended())))
                        }
                        Ok(Err(refusal)) => owed.push(Owed::Append(reply, Err(refusal))),
                        Err(error) => {
                            let _ = reply.send(Err(self.stop(&error)));
                        }
                    }
                }
                Command::Checkpoint {
                    name,
                    position,
                    reply,
                } => {
                    pending.batch.put(
                        CHECKPOINTS,
                        name.into_bytes(),
                        position_key(position).to_vec(),
                    );
                    owed.push(Owed::Checkpoint(reply));
                }
                Command::Import {
                    events,
                    options,
                    reply,
                } => {
                    // Whatever is staged goes first; the import then runs alone.
                    self.commit(
                        std::mem::replace(
                            &mut pending,
                            Pending::new(Arc::clone(&self.shared.kv), self.tail),
                        ),
                        std::mem::take(&mut owed),
                    );
                    let result = self.import(events, options);
                    let _ = reply.send(result);
                    pending = self.fresh();
                }
            }
            if pending.batch.len() >= GROUP_BATCH_OPS_MAX
                || pending.batch.bytes() >= GROUP_BATCH_BYTES_MAX
            {
                self.commit(
                    std::mem::replace(
                        &mut pending,
                        Pending::new(Arc::clone(&self.shared.kv), self.tail),
                    ),
                    std::mem::take(&mut owed),
                );
                pending = self.fresh();
            }
        }
        self.commit(pending, owed);
    }

    /// The store's time for a new event: the clock, to the microsecond (what is stored), never
    /// earlier than `last` — recorded_at never goes backwards, whatever the clock does.
    fn now_after(&self, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
        let clock = (self.clock)();
        let now = DateTime::from_timestamp_micros(clock.timestamp_micros()).unwrap_or(clock);
        last.map_or(now, |last| now.max(last))
    }

    /// Commits a group's batch with the commit point, then answers every request in it.
    fn commit(&mut self, mut pending: Pending, owed: Vec<Owed>) {
        let streams = std::mem::take(&mut pending.streams);
        if owed.is_empty() && pending.batch.is_empty() {
            // Nothing staged: what was read is the committed state.
            self.keep_streams(streams);
            return;
        }
        if let Some(reason) = self.stopped.clone() {
            // Something in this group stopped the writer: nothing more is written.
            for o in owed {
                match o {
                    Owed::Append(reply, Err(refusal)) => {
                        let _ = reply.send(Ok(Err(refusal)));
                    }
                    Owed::Append(reply, Ok(_)) => {
                        let _ = reply.send(Err(StoreError::Stopped(reason.clone())));
                    }
                    Owed::Checkpoint(reply) => {
                        let _ = reply.send(Err(StoreError::Stopped(reason.clone())));
                    }
                }
            }
            return;
        }
        let wrote = pending.tail != self.tail || !pending.batch.is_empty();
        if wrote {
            pending
                .batch
                .put(META, HEAD_KEY.to_vec(), pending.tail.encode());
            if let Err(error) = self.shared.kv.commit(pending.batch) {
                self.stop(&StoreError::Kv(error));
                return self.commit(Pending::new(Arc::clone(&self.shared.kv), self.tail), owed);
            }
            self.tail = pending.tail;
            self.anchor.record(&self.tail);
            self.shared.publish(self.tail);
        }
        // Committed: the group's streams are now the committed state.
        self.keep_streams(streams);
        for o in owed {
            match o {
                Owed::Append(reply, result) => {
                    let _ = reply.send(Ok(result));
                }
                Owed::Checkpoint(reply) => {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    fn keep_streams(&mut self, streams: HashMap<DecisionId, Vec<RecordedEvent>>) {
        self.cache = if streams.len() > STREAM_CACHE_DECISIONS_MAX {
            HashMap::new()
        } else {
            streams
        };
    }

    fn import(
        &mut self,
        events: Vec<NewEvent>,
        options: ImportOptions,
    ) -> Result<Result<Imported, Refusal>, StoreError> {
        if let Some(reason) = &self.stopped {
            return Err(StoreError::Stopped(reason.clone()));
        }
        // An import reads and writes around the cache; forgetting it keeps it true.
        if !options.dry_run {
            self.cache.clear();
        }
        let now = self.now_after(self.tail.recorded_at);
        let mut pending = Pending::new(Arc::clone(&self.shared.kv), self.tail);
        let staged =
            match pending.stage(events, None, options.keep_recorded_at, now, options.dry_run) {
                Ok(Ok(staged)) => staged,
                Ok(Err(refusal)) => return Ok(Err(refusal)),
                Err(error) => return Err(self.stop(&error)),
            };
        let imported = staged.imported();
        if options.dry_run || imported.appended == 0 {
            return Ok(Ok(imported));
        }
        // The staged batches above the commit point were committed as they filled; this one
        // moves the commit point.
        if let Some(error) = pending.partial_error.take() {
            return Err(self.stop(&error));
        }
        pending
            .batch
            .put(META, HEAD_KEY.to_vec(), pending.tail.encode());
        if let Err(error) = self.shared.kv.commit(pending.batch) {
            return Err(self.stop(&StoreError::Kv(error)));
        }
        self.tail = pending.tail;
        self.anchor.record(&self.tail);
        self.shared.publish(self.tail);
        Ok(Ok(imported))
    }

    fn stop(&mut self, error: &StoreError) -> StoreError {
        let reason = error.to_string();
        tracing::error!(%reason, "the writer stops taking writes");
        self.stopped = Some(reason.clone());
        StoreError::Stopped(reason)
    }
}

fn reply_stopped(command: Command, reason: &str) {
    let error = || StoreError::Stopped(reason.to_owned());
    match command {
        Command::Append { reply, .. } => {
            let _ = reply.send(Err(error()));
        }
        Command::Import { reply, .. } => {
            let _ = reply.send(Err(error()));
        }
        Command::Checkpoint { reply, .. } => {
            let _ = reply.send(Err(error()));
        }
    }
}

/// What a staged request did.
struct Staged {
    events: Vec<AppendedEvent>,
    first_position: Option<u64>,
    last_position: Option<u64>,
    version: u64,
    appended: u64,
    duplicates: u64,
    decisions: u64,
}

impl Staged {
    fn into_appended(self) -> Appended {
        Appended {
            duplicate: self.appended == 0,
            version: self.version,
            events: self.events,
        }
    }

    fn imported(&self) -> Imported {
        Imported {
            appended: self.appended,
            duplicates: self.duplicates,
            decisions: self.decisions,
            first_position: self.first_position,
            last_position: self.last_position,
        }
    }
}

/// A group's work in progress: the batch being built, the tail it leads to, and what it has
/// staged (which readers of the key-value layer cannot see yet).
struct Pending {
    kv: Arc<dyn KvEngine>,
    /// Positions at or below this are in the key-value layer and valid for this writer.
    kv_limit: u64,
    tail: Tail,
    batch: Batch,
    /// Streams read or written in this group: every event, in version order.
    streams: HashMap<DecisionId, Vec<RecordedEvent>>,
    /// Events staged in this group (not yet in the key-value layer), by id.
    staged: HashMap<EventId, (DecisionId, usize)>,
    /// A failure while committing a partial import batch, reported when the import ends.
    partial_error: Option<StoreError>,
}

/// One event checked and ready to stage.
struct Prepared {
    record: RecordedEvent,
    line: Vec<u8>,
    hash: [u8; 32],
}

impl Pending {
    fn new(kv: Arc<dyn KvEngine>, tail: Tail) -> Pending {
        Pending {
            kv,
            kv_limit: tail.position,
            tail,
            batch: Batch::new(),
            streams: HashMap::new(),
            staged: HashMap::new(),
            partial_error: None,
        }
    }

    /// Checks a request whole and, unless refused (or a dry run), stages it.
    fn stage(
        &mut self,
        events: Vec<NewEvent>,
        single: Option<(DecisionId, ExpectedVersion)>,
        keep_recorded_at: bool,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<Result<Staged, Refusal>, StoreError> {
        if events.is_empty() {
            return Ok(Err(Refusal::whole(RefusalKind::Invalid(
                "the request holds no events".into(),
            ))));
        }
        if single.is_some() && events.len() > APPEND_EVENTS_MAX {
            return Ok(Err(Refusal::whole(RefusalKind::Invalid(format!(
                "an append holds at most {APPEND_EVENTS_MAX} events; use an import for more"
            )))));
        }
        // Ids: given, or generated; each once.
        let mut ids = Vec::with_capacity(events.len());
        let mut seen = HashSet::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            if let Some((decision_id, _)) = single
                && event.decision_id != decision_id
            {
                return Ok(Err(Refusal::at(
                    i,
                    RefusalKind::Invalid(format!(
                        "the event belongs to decision {}, not to {decision_id}",
                        event.decision_id
                    )),
                )));
            }
            let id = event
                .event_id
                .unwrap_or_else(|| EventId::from_uuid(uuid::Uuid::new_v4()));
            if !seen.insert(id) {
                return Ok(Err(Refusal::at(
                    i,
                    RefusalKind::Invalid(format!("event id {id} appears twice in the request")),
                )));
            }
            ids.push(id);
        }
        // Idempotency: an id already stored with the same content is not written again.
        let mut duplicate_of: Vec<Option<AppendedEvent>> = vec![None; events.len()];
        for (i, event) in events.iter().enumerate() {
            if let Some(stored) = self.find_event(ids[i])? {
                if !same_content(&stored, event) {
                    return Ok(Err(Refusal::at(
                        i,
                        RefusalKind::EventIdReused {
                            event_id: ids[i],
                            position: stored.position,
                        },
                    )));
                }
                duplicate_of[i] = Some(AppendedEvent {
                    event_id: ids[i],
                    position: stored.position,
                    version: stored.version,
                });
            }
        }
        let fresh: Vec<usize> = (0..events.len())
            .filter(|&i| duplicate_of[i].is_none())
            .collect();
        // Expected version (a fully repeated request is answered as it was the first time).
        if let Some((decision_id, expected)) = single {
            let actual = self.stream(decision_id)?.len() as u64;
            if fresh.is_empty() {
                // Answered as the first time: the version that append left the stream at.
                let original = duplicate_of
                    .iter()
                    .flatten()
                    .map(|e| e.version)
                    .max()
                    .unwrap_or(actual);
                return Ok(Ok(Staged {
                    events: duplicate_of.into_iter().flatten().collect(),
                    first_position: None,
                    last_position: None,
                    version: original,
                    appended: 0,
                    duplicates: events.len() as u64,
                    decisions: 1,
                }));
            }
            let matches = match expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => actual == 0,
                ExpectedVersion::Exact(v) => v == actual,
            };
            if !matches {
                return Ok(Err(Refusal::whole(RefusalKind::Conflict {
                    decision_id,
                    expected,
                    actual,
                })));
            }
        }
        // recorded_at: the store's clock, or the kept history, never going backwards.
        let mut recorded = vec![now; events.len()];
        let mut last = self.tail.recorded_at;
        for &i in &fresh {
            let at = if keep_recorded_at {
                match events[i].recorded_at {
                    Some(at) => at,
                    None => {
                        return Ok(Err(Refusal::at(i, RefusalKind::Invalid(
                            "recorded_at is missing: a historical import keeps every event's recorded_at".into(),
                        ))));
                    }
                }
            } else {
                now
            };
            if keep_recorded_at && at > now {
                return Ok(Err(Refusal::at(
                    i,
                    RefusalKind::Invalid(format!(
                        "recorded_at {} is in the future: history can only be imported up to now ({})",
                        domain::event::format_instant(&at),
                        domain::event::format_instant(&now)
                    )),
                )));
            }
            if let Some(previous) = last
                && at < previous
            {
                return Ok(Err(Refusal::at(
                    i,
                    RefusalKind::Invalid(format!(
                        "recorded_at {} is earlier than the previous event's {}",
                        domain::event::format_instant(&at),
                        domain::event::format_instant(&previous)
                    )),
                )));
            }
            last = Some(at);
            recorded[i] = at;
        }
        // The §6 rules, stream by stream, with the new events in their place.
        let mut by_stream: Vec<(DecisionId, Vec<usize>)> = Vec::new();
        let mut slot: HashMap<DecisionId, usize> = HashMap::new();
        for &i in &fresh {
            let d = events[i].decision_id;
            let at = *slot.entry(d).or_insert_with(|| {
                by_stream.push((d, Vec::new()));
                by_stream.len() - 1
            });
            by_stream[at].1.push(i);
        }
        let mut known = HashSet::new();
        for &i in &fresh {
            if let EventData::DecisionGranted(grant) = &events[i].data
                && let Some(replaced) = grant.replaces
                && (slot.contains_key(&replaced) || !self.stream(replaced)?.is_empty())
            {
                known.insert(replaced);
            }
        }
        let index_of: HashMap<EventId, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        for (decision_id, indices) in &by_stream {
            let existing = self.stream(*decision_id)?;
            let stored: Vec<StreamEvent<'_>> = existing.iter().map(stream_event).collect();
            let new: Vec<StreamEvent<'_>> = indices
                .iter()
                .map(|&i| StreamEvent {
                    event_id: ids[i],
                    occurred_on: events[i].occurred_on,
                    recorded_on: business_date(recorded[i]),
                    data: &events[i].data,
                })
                .collect();
            if let Err(violation) =
                check_append(*decision_id, &stored, &new, &|d| known.contains(&d))
            {
                let index = index_of
                    .get(&violation.event_id)
                    .copied()
                    .filter(|&i| duplicate_of[i].is_none());
                return Ok(Err(Refusal {
                    index,
                    kind: RefusalKind::Rule(violation),
                }));
            }
        }
        // Positions, versions and the hash chain, in request order.
        let mut versions: HashMap<DecisionId, u64> = HashMap::new();
        for (decision_id, _) in &by_stream {
            versions.insert(*decision_id, self.stream(*decision_id)?.len() as u64);
        }
        let mut tail = self.tail;
        let mut prepared = Vec::with_capacity(fresh.len());
        let mut bytes = 0usize;
        let mut results = duplicate_of;
        for (i, event) in events.into_iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            let version = versions
                .get_mut(&event.decision_id)
                .expect("every fresh event's stream was counted");
            *version += 1;
            let mut record = RecordedEvent {
                position: tail.position + 1,
                version: *version,
                recorded_at: recorded[i],
                event_id: ids[i],
                decision_id: event.decision_id,
                occurred_on: event.occurred_on,
                actor: event.actor,
                data: event.data,
                hash: String::new(),
            };
            let canonical = record.to_json_without_hash();
            let hash = chain_hash(&tail.hash, canonical.as_bytes());
            let line = stored_line(canonical.as_bytes(), &hash);
            record.hash = encode_hex(&hash);
            bytes += line.len();
            tail = Tail {
                position: record.position,
                hash,
                recorded_at: Some(record.recorded_at),
            };
            results[i] = Some(AppendedEvent {
                event_id: record.event_id,
                position: record.position,
                version: record.version,
            });
            prepared.push(Prepared { record, line, hash });
        }
        if single.is_some() && bytes > APPEND_BYTES_MAX {
            return Ok(Err(Refusal::whole(RefusalKind::Invalid(format!(
                "the events take {bytes} bytes; an append holds at most {APPEND_BYTES_MAX}"
            )))));
        }
        let staged = Staged {
            first_position: prepared.first().map(|p| p.record.position),
            last_position: prepared.last().map(|p| p.record.position),
            version: single.map_or(0, |(d, _)| versions.get(&d).copied().unwrap_or(0)),
            appended: prepared.len() as u64,
            duplicates: (results.len() - prepared.len()) as u64,
            decisions: by_stream.len() as u64,
            events: results
                .into_iter()
                .map(|r| r.expect("every event is stored or staged"))
                .collect(),
        };
        if dry_run {
            return Ok(Ok(staged));
        }
        for p in prepared {
            self.put(p);
            if single.is_none()
                && (self.batch.len() >= GROUP_BATCH_OPS_MAX
                    || self.batch.bytes() >= GROUP_BATCH_BYTES_MAX)
            {
                self.commit_above_head();
            }
        }
        Ok(Ok(staged))
    }

    fn put(&mut self, p: Prepared) {
        let record = p.record;
        let position = position_key(record.position).to_vec();
        self.batch.put(EVENTS, position.clone(), p.line);
        self.batch.put(
            STREAMS,
            stream_key(record.decision_id.as_bytes(), record.version).to_vec(),
            position.clone(),
        );
        self.batch
            .put(EVENT_IDS, record.event_id.as_bytes().to_vec(), position);
        debug_assert_eq!(
            record.position,
            self.tail.position + 1,
            "positions are contiguous"
        );
        self.tail = Tail {
            position: record.position,
            hash: p.hash,
            recorded_at: Some(record.recorded_at),
        };
        let stream = self.streams.entry(record.decision_id).or_default();
        self.staged
            .insert(record.event_id, (record.decision_id, stream.len()));
        stream.push(record);
    }

    /// Commits an import's full batch *above* the commit point: no reader sees it until the
    /// import's last batch moves the commit point. The caches are dropped (what they held is now
    /// in the key-value layer, below `kv_limit`); an import's `Pending` is not used for anything
    /// else afterwards.
    fn commit_above_head(&mut self) {
        if self.partial_error.is_some() {
            self.batch = Batch::new();
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        match self.kv.commit(batch) {
            Ok(()) => {
                self.kv_limit = self.tail.position;
                self.streams.clear();
                self.staged.clear();
            }
            Err(error) => self.partial_error = Some(StoreError::Kv(error)),
        }
    }

    /// A decision's stream, as this group sees it.
    fn stream(&mut self, decision_id: DecisionId) -> Result<&Vec<RecordedEvent>, StoreError> {
        if !self.streams.contains_key(&decision_id) {
            let events = read_stream_from(self.kv.as_ref(), decision_id, self.kv_limit)?;
            self.streams.insert(decision_id, events);
        }
        Ok(&self.streams[&decision_id])
    }

    /// The stored or staged event with this id.
    fn find_event(&mut self, event_id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        if let Some(&(decision_id, at)) = self.staged.get(&event_id) {
            return Ok(Some(self.streams[&decision_id][at].clone()));
        }
        let Some(value) = self.kv.get(EVENT_IDS, event_id.as_bytes())? else {
            return Ok(None);
        };
        let position = decode_u64(&value).ok_or_else(|| StoreError::Corrupt {
            position: 0,
            detail: format!("the index entry of event {event_id} is not a position"),
        })?;
        if position > self.kv_limit {
            return Ok(None);
        }
        read_event(self.kv.as_ref(), position).map(Some)
    }
}

fn stream_event(event: &RecordedEvent) -> StreamEvent<'_> {
    StreamEvent {
        event_id: event.event_id,
        occurred_on: event.occurred_on,
        recorded_on: business_date(event.recorded_at),
        data: &event.data,
    }
}

/// Whether a stored event and a submitted one say the same thing (`recorded_at` aside).
fn same_content(stored: &RecordedEvent, new: &NewEvent) -> bool {
    stored.decision_id == new.decision_id
        && stored.occurred_on == new.occurred_on
        && stored.actor == new.actor
        && stored.data == new.data
}

/// The event at a position.
pub(crate) fn read_event(kv: &dyn KvEngine, position: u64) -> Result<RecordedEvent, StoreError> {
    let line = kv
        .get(EVENTS, &position_key(position))?
        .ok_or_else(|| StoreError::Corrupt {
            position,
            detail: "an index names this position, but no event is stored there".into(),
        })?;
    decode_line(position, &line)
}

/// A decision's events in version order, up to position `limit`.
pub(crate) fn read_stream_from(
    kv: &dyn KvEngine,
    decision_id: DecisionId,
    limit: u64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let from = stream_key(decision_id.as_bytes(), 0);
    let to = stream_key(decision_id.as_bytes(), u64::MAX);
    let mut events = Vec::new();
    let mut next = Bound::Excluded(from.to_vec());
    loop {
        let page = kv.scan(
            STREAMS,
            next.as_ref().map(Vec::as_slice),
            Bound::Included(&to),
            1024,
        )?;
        let full = page.len() == 1024;
        for (key, value) in &page {
            let position = decode_u64(value).ok_or_else(|| StoreError::Corrupt {
                position: 0,
                detail: format!("the stream index of decision {decision_id} holds a value that is not a position"),
            })?;
            if position <= limit {
                events.push(read_event(kv, position)?);
            }
            next = Bound::Excluded(key.clone());
        }
        if !full {
            return Ok(events);
        }
    }
}
