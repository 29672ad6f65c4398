//! The one writer: a dedicated thread that takes append, import and checkpoint requests from a
//! bounded queue, checks each against the log as it is (the §6 rules included, so two
//! concurrent appends can never both pass against a stale stream), and commits the requests it
//! has gathered in one durable batch (group commit). Each request is atomic on its own: a
//! refused request writes nothing and does not disturb the others in its group.
//!
//! **Pipelined.** The writer thread stages groups; a second thread, the committer, commits them
//! one at a time, in order. (A group of one or two requests handed over while nothing is in
//! flight the writer commits itself: with so few requests waiting there is nothing to stage
//! meanwhile, and the hand-over and the report back would cost two thread wake-ups.) While
//! group N is being committed and fsynced, the writer checks, serialises and hashes group N+1
//! on top of N's staged state, gathering every request that arrives meanwhile, and hands N+1
//! over as soon as N's commit has returned. At most one group is in flight. Group N+1 is staged
//! against state that is not yet durable, so nothing of it is answered before it is itself
//! committed, and if N's commit fails, N+1 is never committed: every request of it is answered
//! with [`StoreError::Stopped`] (its refusals too, since they were judged against N). An append
//! is therefore still acknowledged only after its own batch is durable, and the commits, their
//! anchor records and the published head follow position order. A group is answered as soon
//! as its batch is durable (the write-ahead log's record synced), while the key-value layer
//! applies it; a read waits until what was acknowledged before it is applied
//! ([`Shared::readable`]).
//!
//! The commit point is `meta/head`: it moves in the same batch as the events it covers. An
//! import too large for one batch writes its events in several batches *above* the commit point,
//! where no reader looks, and moves the commit point in the last one; a crash in between leaves
//! entries that opening the store removes. An import runs alone: the writer waits until nothing
//! is in flight before and after it.
//!
//! After any failure to commit, the writer stops taking writes (the outcome on disk is unknown);
//! reopening the store recovers from what is on disk.

use std::collections::{HashMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as sync_mpsc;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use domain::rules::StreamEvent;
use domain::{DecisionId, EventId, NewEvent, RecordedEvent};
use kv::{Batch, KvEngine};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::anchor::Anchor;
use crate::api::{
    Appended, AppendedEvent, ExpectedVersion, ImportOptions, Imported, Refusal, StoreError,
};
use crate::embedded::{Clock, decode_stored_line};
use crate::index_tail::{self, Entries, Entry, IndexTail};
use crate::layout::{
    CHECKPOINTS, EVENT_IDS, EVENTS, HEAD_KEY, META, STREAMS, Tail, decode_u64, position_key,
    read_stream_no, stream_key,
};
use crate::recent::{self, RecentLines};
use crate::staging::{self, Request, Row};

/// Requests waiting for the writer, at most.
pub(crate) const QUEUE_REQUESTS_MAX: usize = 4096;
/// Requests gathered into one group commit, at most.
const GROUP_REQUESTS_MAX: usize = 4096;
/// A group is committed once its batch holds this many operations (well below kv's limit).
const GROUP_BATCH_OPS_MAX: usize = 32_768;
/// A group is committed once its batch holds this many bytes (well below kv's limit).
const GROUP_BATCH_BYTES_MAX: usize = 24 * 1024 * 1024;
/// Events the writer keeps in its streams between groups, at most (beyond it, the least
/// recently used streams go; see [`Streams`]): appends and imports check the streams they
/// extend, and reading and decoding them again was a quarter of the writer's time for appends,
/// and half of it for an import at 1 000 000 decisions. A stream keeps each event as the rules
/// see it ([`StreamEvent`], 44 bytes; a decoded event takes about 440): 2 000 000 of them take
/// 88 MB, about what 250 000 decoded events took. Each stream also counts
/// [`STREAM_COST_EVENTS`] events for its map entry and its list's spare room, so that many short
/// streams cannot take much more. An import may keep its own events beyond this while it runs.
pub(crate) const STREAM_CACHE_EVENTS_MAX: usize = 2_000_000;
/// What a kept stream costs beyond its events, in events (44 bytes each): its map entry (48
/// bytes) and its list's allocation, which grows by doubling. Without it, two million streams
/// of one event each would take about 450 MB within [`STREAM_CACHE_EVENTS_MAX`].
const STREAM_COST_EVENTS: usize = 3;
/// Events in one append request, at most (imports have no such limit).
pub const APPEND_EVENTS_MAX: usize = 1000;
/// Bytes of stored events in one append request, at most.
pub const APPEND_BYTES_MAX: usize = 8 * 1024 * 1024;
/// A group of at most this many requests, handed over while nothing is in flight, is committed
/// on the writer's thread rather than the committer's. With so few requests waiting, the writer
/// would have little to stage while the committer syncs, and the hand-over and the report back
/// cost two thread wake-ups per commit.
const INLINE_GROUP_REQUESTS_MAX: usize = 2;
/// Name of the committer thread (the writer thread is `verkstall-writer`).
pub(crate) const COMMITTER_THREAD_NAME: &str = "verkstall-commit";

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
    /// The committed head: every event up to here is applied to the key-value layer and has
    /// its index entries; readers read positions up to here and no further.
    pub committed: AtomicU64,
    /// Groups durable, and so perhaps answered for (checkpoints too, which move no position).
    /// It runs one ahead of `applied` while a group is applied; a read waits for `applied` to
    /// reach the count it found ([`Shared::readable`]).
    pub acknowledged: AtomicU64,
    /// Groups applied to the key-value layer and published.
    pub applied: AtomicU64,
    /// The acknowledged tail (for `head()`).
    pub tail: std::sync::Mutex<Tail>,
    /// Wakes followers when the head moves.
    pub head_tx: watch::Sender<u64>,
    /// Why the writer stopped taking writes, once it has (the first reason).
    pub stopped: std::sync::OnceLock<String>,
    /// The index entries of the events above `meta/indexed` (`index_tail`).
    pub index: RwLock<IndexTail>,
    /// The lines of the newest appended events (`recent`).
    pub recent: RecentLines,
}

impl Shared {
    /// The group leading to `tail` is durable: it may be answered for.
    fn acknowledge(&self, tail: Tail) {
        *self
            .tail
            .lock()
            .expect("the tail lock is never poisoned: no panics while held") = tail;
        self.acknowledged.fetch_add(1, Ordering::AcqRel);
    }

    /// The group leading to `tail` is applied and indexed: readers may read it.
    fn publish(&self, tail: Tail) {
        self.committed.store(tail.position, Ordering::Release);
        self.applied.fetch_add(1, Ordering::AcqRel);
        self.head_tx.send_replace(tail.position);
    }

    /// The head a read may read up to: `committed`, once every group acknowledged before the
    /// read began is applied (so a read sees every append and checkpoint acknowledged before
    /// it). That is at most the time to apply one group; the wait gives the processor away
    /// meanwhile, and ends when the writer has stopped (reads then fail in the key-value
    /// layer, which a failed commit poisons).
    pub(crate) fn readable(&self) -> u64 {
        let acknowledged = self.acknowledged.load(Ordering::Acquire);
        while self.applied.load(Ordering::Acquire) < acknowledged && self.stopped.get().is_none() {
            std::thread::yield_now();
        }
        self.committed.load(Ordering::Acquire)
    }
}

/// The bounds the writer keeps to. The product uses [`Tuning::default`]; tests make them small,
/// so that what the bounds make rare happens all the time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Events kept in the writer's streams between groups, at most
    /// ([`STREAM_CACHE_EVENTS_MAX`]).
    pub stream_cache_events: usize,
    /// Events in the index tail before the committer flushes it, at most
    /// ([`index_tail::INDEX_TAIL_EVENTS_MAX`]).
    pub index_tail_events: usize,
    /// Events one flush of the index tail writes, at most
    /// ([`index_tail::INDEX_FLUSH_EVENTS_MAX`]).
    pub index_flush_events: usize,
    /// Events one flush writes, at most, when no append waits for it (after an import, at a
    /// clean close: [`index_tail::LONE_FLUSH_EVENTS_MAX`]).
    pub lone_flush_events: usize,
    /// Whether a clean close writes the whole index tail to the tables. Without it, the next
    /// opening rebuilds the tail from the log, as after a crash.
    pub flush_index_at_close: bool,
    /// Groups of at most this many requests handed over while nothing is in flight are
    /// committed on the writer's thread ([`INLINE_GROUP_REQUESTS_MAX`]); 0 hands every group to
    /// the committer.
    pub inline_group_requests: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            stream_cache_events: STREAM_CACHE_EVENTS_MAX,
            index_tail_events: index_tail::INDEX_TAIL_EVENTS_MAX,
            index_flush_events: index_tail::INDEX_FLUSH_EVENTS_MAX,
            lone_flush_events: index_tail::LONE_FLUSH_EVENTS_MAX,
            flush_index_at_close: true,
            inline_group_requests: INLINE_GROUP_REQUESTS_MAX,
        }
    }
}

/// Starts the writer thread (which starts the committer thread and joins it when it ends).
pub(crate) fn spawn(
    shared: Arc<Shared>,
    clock: Clock,
    tail: Tail,
    anchor: Anchor,
    commands: mpsc::Receiver<Command>,
    tuning: Tuning,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (groups, group_rx) = sync_mpsc::sync_channel::<Group>(1);
    let (done_tx, done) = sync_mpsc::channel::<Outcome>();
    let wake = Arc::new(Notify::new());
    let commits = Arc::new(std::sync::Mutex::new(Commits {
        shared: Arc::clone(&shared),
        anchor,
        tuning,
    }));
    let committer = Committer {
        commits: Arc::clone(&commits),
        done: done_tx,
        wake: Arc::clone(&wake),
    };
    let committer = std::thread::Builder::new()
        .name(COMMITTER_THREAD_NAME.into())
        .spawn(move || committer.run(group_rx))?;
    std::thread::Builder::new()
        .name("verkstall-writer".into())
        .spawn(move || {
            Writer {
                shared,
                clock,
                tail,
                stopped: None,
                cache: Streams::bounded(tuning.stream_cache_events),
                in_flight: false,
                in_flight_ids: HashMap::new(),
                commits,
                inline_group_requests: tuning.inline_group_requests,
                groups: Some(groups),
                done,
                wake,
            }
            .run(commands);
            let _ = committer.join();
        })
}

/// A group handed to the committer: its batch (without the commit point), the tail it leads to,
/// the index entries of its events (for the index tail, once it is committed), the replies
/// owed once it is durable, and whether it holds an import (after which the index tail is
/// flushed [`index_tail::LONE_FLUSH_EVENTS_MAX`] events at a time: an import runs alone).
struct Group {
    batch: Batch,
    tail: Tail,
    entries: VecDeque<Entry>,
    owed: Vec<Owed>,
    import: bool,
}

/// What the committer reports about the group it was given.
enum Outcome {
    Committed,
    Failed(String),
}

/// The committer thread: commits each group it is given ([`Commits::commit`]: answers its
/// requests once it is durable, then applies it, adds its index entries to the index tail,
/// records the anchor and publishes the head), flushes the index tail if it has grown beyond
/// its bound, and only then reports the group to the writer. When the writer is done, it writes
/// the whole index tail to the tables.
struct Committer {
    commits: Arc<std::sync::Mutex<Commits>>,
    done: sync_mpsc::Sender<Outcome>,
    wake: Arc<Notify>,
}

impl Committer {
    fn run(self, groups: sync_mpsc::Receiver<Group>) {
        while let Ok(group) = groups.recv() {
            let outcome = lock(&self.commits).commit_and_flush(group);
            // The writer may be gone already (it waits for the last outcome before it ends).
            let _ = self.done.send(outcome);
            self.wake.notify_one();
        }
        let mut commits = lock(&self.commits);
        if commits.tuning.flush_index_at_close && commits.shared.stopped.get().is_none() {
            // A failure here loses nothing: the next opening rebuilds the tail from the log.
            let most = commits.tuning.lone_flush_events;
            let _ = commits.flush_index(0, most);
        }
    }
}

/// The commits themselves, made on the committer thread, or on the writer's for a small group
/// while the committer is idle ([`INLINE_GROUP_REQUESTS_MAX`]): one at a time either way.
struct Commits {
    shared: Arc<Shared>,
    anchor: Anchor,
    tuning: Tuning,
}

/// The commits, locked: never contended, since the writer commits itself only while no group
/// is in flight.
fn lock(commits: &std::sync::Mutex<Commits>) -> std::sync::MutexGuard<'_, Commits> {
    commits
        .lock()
        .expect("the commits' lock is never poisoned: no panics while held")
}

impl Commits {
    /// Commits a group, then flushes the index tail if it has grown beyond its bound.
    fn commit_and_flush(&mut self, group: Group) -> Outcome {
        let most = if group.import {
            self.tuning.lone_flush_events
        } else {
            self.tuning.index_flush_events
        };
        match self.commit(group) {
            Outcome::Committed => self.flush_index(self.tuning.index_tail_events, most),
            failed @ Outcome::Failed(_) => failed,
        }
    }

    fn commit(&mut self, group: Group) -> Outcome {
        let Group {
            mut batch,
            tail,
            entries,
            owed,
            import,
        } = group;
        let lines = if import {
            Vec::new()
        } else {
            recent::lines_of(&batch)
        };
        batch.put(META, HEAD_KEY.to_vec(), tail.encode());
        index_tail::read(&self.shared.index).record_in(&mut batch);
        // Answered as soon as the batch is durable, while the key-value layer applies it: the
        // appenders send their next requests, and the writer stages them, meanwhile.
        let mut owed = Some(owed);
        let shared = &self.shared;
        let committed = shared.kv.commit_announced(batch, &mut || {
            shared.acknowledge(tail);
            answer(owed.take().unwrap_or_default());
        });
        if let Err(error) = committed {
            // Answered already if it was durable: the next opening replays it.
            return self.fail(&StoreError::Kv(error), owed.unwrap_or_default());
        }
        if import {
            self.shared.recent.forget();
        } else {
            self.shared.recent.keep(lines);
        }
        // Before the head moves: a reader that sees the group's events finds their entries.
        let mut index = index_tail::write(&self.shared.index);
        index.recorded();
        index.extend(entries);
        drop(index);
        self.anchor.record(&tail);
        self.shared.publish(tail);
        Outcome::Committed
    }

    /// Flushes the index tail down to `keep` events, `most` at a time. A failure stops the
    /// writer, as a failed commit does (the key-value layer refuses every commit after one has
    /// failed).
    fn flush_index(&mut self, keep: usize, most: usize) -> Outcome {
        match index_tail::flush_down_to(self.shared.kv.as_ref(), &self.shared.index, keep, most) {
            Ok(()) => Outcome::Committed,
            Err(error) => self.fail(&error, Vec::new()),
        }
    }

    fn fail(&mut self, error: &StoreError, owed: Vec<Owed>) -> Outcome {
        // With its causes: the operating system's reason is what an operator acts on.
        let reason = kv::error_chain(error);
        tracing::error!(%reason, "the writer stops taking writes");
        let _ = self.shared.stopped.set(reason.clone());
        // Refusals in the group were judged against committed state and the group's own
        // earlier requests; they stand, as they did before the writer was pipelined.
        answer_stopped(owed, &reason, true);
        Outcome::Failed(reason)
    }
}

struct Writer {
    shared: Arc<Shared>,
    clock: Clock,
    /// The tail of everything staged and handed to the committer (the committed tail when
    /// nothing is in flight).
    tail: Tail,
    stopped: Option<String>,
    /// Streams at `tail`, as the rules see them: lent to each group's `Pending` and taken back
    /// when the group is handed to the committer. It may hold the in-flight group's events,
    /// which are not yet durable; if that commit fails the writer stops, so they are never
    /// built on.
    cache: Streams,
    /// Whether a group is being committed.
    in_flight: bool,
    /// The in-flight group's events by id (as `Pending::staged`), until the next group takes
    /// them over: readers of the key-value layer may not see them yet.
    in_flight_ids: HashMap<EventId, RecordedEvent>,
    /// The commits, which the writer makes itself for a small group while nothing is in
    /// flight.
    commits: Arc<std::sync::Mutex<Commits>>,
    /// The most requests of a group the writer commits itself ([`Tuning`]).
    inline_group_requests: usize,
    /// To the committer; `None` once the writer has finished.
    groups: Option<sync_mpsc::SyncSender<Group>>,
    done: sync_mpsc::Receiver<Outcome>,
    wake: Arc<Notify>,
}

/// A reply owed once the group's batch is committed.
enum Owed {
    Append(Reply<Result<Appended, Refusal>>, Result<Appended, Refusal>),
    Import(Reply<Result<Imported, Refusal>>, Imported),
    Checkpoint(Reply<()>),
}

/// Answers a committed group's requests.
fn answer(owed: Vec<Owed>) {
    for o in owed {
        match o {
            Owed::Append(reply, result) => {
                let _ = reply.send(Ok(result));
            }
            Owed::Import(reply, imported) => {
                let _ = reply.send(Ok(Ok(imported)));
            }
            Owed::Checkpoint(reply) => {
                let _ = reply.send(Ok(()));
            }
        }
    }
}

/// Answers the requests of a group that will not be committed. A refusal is still an answer
/// when it was judged against committed state (`refusals_stand`); judged on top of a group that
/// failed, it is not.
fn answer_stopped(owed: Vec<Owed>, reason: &str, refusals_stand: bool) {
    let error = || StoreError::Stopped(reason.to_owned());
    for o in owed {
        match o {
            Owed::Append(reply, Err(refusal)) if refusals_stand => {
                let _ = reply.send(Ok(Err(refusal)));
            }
            Owed::Append(reply, _) => {
                let _ = reply.send(Err(error()));
            }
            Owed::Import(reply, _) => {
                let _ = reply.send(Err(error()));
            }
            Owed::Checkpoint(reply) => {
                let _ = reply.send(Err(error()));
            }
        }
    }
}

/// The group being gathered.
struct Gathering {
    pending: Pending,
    owed: Vec<Owed>,
}

impl Writer {
    fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut gathering: Option<Gathering> = None;
        loop {
            self.collect_outcomes(&mut gathering);
            let ready = gathering.is_some();
            let command = if ready && !self.in_flight {
                // The disk is idle: take what is queued already, then hand the group over.
                match commands.try_recv() {
                    Ok(command) => Some(command),
                    Err(mpsc::error::TryRecvError::Empty) => {
                        self.hand_off(gathering.take());
                        continue;
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                }
            } else if self.in_flight {
                // Wait for a request or for the commit in flight, whichever comes first.
                let wake = Arc::clone(&self.wake);
                let woken = block_on(async {
                    tokio::select! {
                        biased;
                        () = wake.notified() => None,
                        command = commands.recv() => Some(command),
                    }
                });
                match woken {
                    Some(command) => command,
                    None => continue,
                }
            } else {
                commands.blocking_recv()
            };
            let Some(command) = command else { break };
            self.take(command, &mut gathering);
            let full = gathering.as_ref().is_some_and(|g| {
                g.owed.len() >= GROUP_REQUESTS_MAX
                    || g.pending.batch.len() >= GROUP_BATCH_OPS_MAX
                    || g.pending.batch.bytes() >= GROUP_BATCH_BYTES_MAX
            });
            if full {
                self.wait_idle(&mut gathering);
                self.hand_off(gathering.take());
            }
        }
        // The queue is closed: finish what was given, then let the committer end.
        self.wait_idle(&mut gathering);
        self.hand_off(gathering.take());
        self.wait_idle(&mut gathering);
        self.groups = None;
    }

    /// Takes the committer's reports, without waiting.
    fn collect_outcomes(&mut self, gathering: &mut Option<Gathering>) {
        while let Ok(outcome) = self.done.try_recv() {
            self.settle(outcome, gathering);
        }
    }

    /// Waits until no group is in flight.
    fn wait_idle(&mut self, gathering: &mut Option<Gathering>) {
        while self.in_flight {
            match self.done.recv() {
                Ok(outcome) => self.settle(outcome, gathering),
                Err(_) => {
                    // The committer is gone without a word (it panicked): nothing is known.
                    self.in_flight = false;
                    self.stop_with("the committer thread ended".into(), gathering);
                }
            }
        }
    }

    fn settle(&mut self, outcome: Outcome, gathering: &mut Option<Gathering>) {
        self.in_flight = false;
        match outcome {
            Outcome::Committed => {}
            Outcome::Failed(reason) => self.stop_with(reason, gathering),
        }
    }

    /// Stops after a failed commit: the group being gathered was staged on top of it, so none
    /// of it stands, and nothing staged is kept.
    fn stop_with(&mut self, reason: String, gathering: &mut Option<Gathering>) {
        if let Some(g) = gathering.take() {
            answer_stopped(g.owed, &reason, false);
        }
        self.cache.clear();
        self.in_flight_ids.clear();
        if self.stopped.is_none() {
            let _ = self.shared.stopped.set(reason.clone());
            self.stopped = Some(reason);
        }
    }

    /// Hands a gathered group to the committer (which must be idle), or answers it if the
    /// writer has stopped, and takes its streams back as the cache.
    fn hand_off(&mut self, gathering: Option<Gathering>) {
        let Some(Gathering { pending, owed }) = gathering else {
            return;
        };
        assert!(
            !self.in_flight,
            "one group in flight at most: groups commit in order"
        );
        let Pending {
            batch,
            tail,
            streams,
            staged,
            own,
            ..
        } = pending;
        if let Some(reason) = &self.stopped {
            // Something in this group stopped the writer: nothing more is written; refusals
            // in it were judged against committed state.
            answer_stopped(owed, reason, true);
            self.cache.clear();
            self.in_flight_ids.clear();
            return;
        }
        if batch.is_empty() && tail == self.tail {
            // Nothing to write (only duplicates and refusals): answered at once, as committed.
            answer(owed);
            self.keep_streams(streams);
            return;
        }
        let group = Group {
            batch,
            tail,
            import: owed.iter().any(|o| matches!(o, Owed::Import(..))),
            entries: own.into_list(),
            owed,
        };
        if group.owed.len() <= self.inline_group_requests {
            // Committed here: handing it over would cost two thread wake-ups and gain nothing,
            // since the next requests (the answered appenders') come only after its answer.
            let outcome = lock(&self.commits).commit_and_flush(group);
            self.tail = tail;
            self.in_flight_ids.clear();
            self.keep_streams(streams);
            let mut none = None;
            self.settle(outcome, &mut none);
            return;
        }
        let groups = self
            .groups
            .as_ref()
            .expect("the committer lives while the writer runs");
        if groups.send(group).is_err() {
            self.stop_with("the committer thread ended".into(), &mut None);
            return;
        }
        self.tail = tail;
        self.in_flight = true;
        self.in_flight_ids = staged;
        self.cache = streams;
        // The streams this group did not use hold only committed events (the group before it
        // is committed): they may be forgotten now. This group's may not, until it is.
        if self.cache.end_generation(0, true) {
            let mut none = None;
            self.wait_idle(&mut none);
            self.cache.clear();
            self.in_flight_ids.clear();
        }
    }

    /// A new group's work, starting from the staged state and the cached streams.
    fn fresh(&mut self) -> Pending {
        let mut pending = Pending::new(Arc::clone(&self.shared), self.tail);
        pending.streams = std::mem::take(&mut self.cache);
        if self.in_flight {
            pending.earlier = std::mem::take(&mut self.in_flight_ids);
        } else {
            self.in_flight_ids.clear();
        }
        pending
    }

    /// Stages one request into the group being gathered (starting one if needed).
    fn take(&mut self, command: Command, gathering: &mut Option<Gathering>) {
        if let Some(reason) = &self.stopped {
            reply_stopped(command, reason);
            return;
        }
        match command {
            Command::Append {
                decision_id,
                expected,
                events,
                reply,
            } => {
                let g = self.gathering(gathering);
                // Not earlier than anything staged, in this group or the one in flight.
                let now = now_after(&self.clock, g.pending.tail.recorded_at);
                match g
                    .pending
                    .stage(events, Some((decision_id, expected)), false, now, false)
                {
                    Ok(Ok(staged)) => g.owed.push(Owed::Append(reply, Ok(staged.into_appended()))),
                    Ok(Err(refusal)) => g.owed.push(Owed::Append(reply, Err(refusal))),
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
                let g = self.gathering(gathering);
                g.pending.batch.put(
                    CHECKPOINTS,
                    name.into_bytes(),
                    position_key(position).to_vec(),
                );
                g.owed.push(Owed::Checkpoint(reply));
            }
            Command::Import {
                events,
                options,
                reply,
            } => {
                // Whatever is staged goes first; the import then runs alone.
                self.wait_idle(gathering);
                self.hand_off(gathering.take());
                self.wait_idle(gathering);
                self.import(events, options, reply);
                self.wait_idle(gathering);
            }
        }
    }

    fn gathering<'g>(&mut self, gathering: &'g mut Option<Gathering>) -> &'g mut Gathering {
        gathering.get_or_insert_with(|| Gathering {
            pending: self.fresh(),
            owed: Vec::new(),
        })
    }

    /// Keeps a group's streams when nothing is in flight (all they hold is committed).
    fn keep_streams(&mut self, streams: Streams) {
        self.cache = streams;
        if self.cache.end_generation(0, false) {
            self.cache.clear();
        }
    }

    /// Runs an import while nothing is in flight; its last batch, which moves the commit point,
    /// goes through the committer like a group.
    fn import(
        &mut self,
        events: Vec<NewEvent>,
        options: ImportOptions,
        reply: Reply<Result<Imported, Refusal>>,
    ) {
        if let Some(reason) = &self.stopped {
            let _ = reply.send(Err(StoreError::Stopped(reason.clone())));
            return;
        }
        let now = now_after(&self.clock, self.tail.recorded_at);
        let mut pending = Pending::new(Arc::clone(&self.shared), self.tail);
        // Its partial batches go above the head: their events are found through these.
        pending.own = Entries::with_lookups();
        // Nothing is in flight, so the cache is the committed streams: the import starts from
        // them and keeps them true (a dry run leaves them be). A refused import drops them.
        if !options.dry_run {
            pending.streams = std::mem::take(&mut self.cache);
        }
        let staged =
            match pending.stage(events, None, options.keep_recorded_at, now, options.dry_run) {
                Ok(Ok(staged)) => staged,
                Ok(Err(refusal)) => {
                    let _ = reply.send(Ok(Err(refusal)));
                    return;
                }
                Err(error) => {
                    let _ = reply.send(Err(self.stop(&error)));
                    return;
                }
            };
        let imported = staged.imported();
        if options.dry_run || imported.appended == 0 {
            let _ = reply.send(Ok(Ok(imported)));
            return;
        }
        // The staged batches above the commit point were committed as they filled; this one
        // moves the commit point.
        if let Some(error) = pending.partial_error.take() {
            let _ = reply.send(Err(self.stop(&error)));
            return;
        }
        // Its streams become the cache, as a group's do (`hand_off` bounds them).
        self.hand_off(Some(Gathering {
            pending,
            owed: vec![Owed::Import(reply, imported)],
        }));
    }

    fn stop(&mut self, error: &StoreError) -> StoreError {
        let reason = kv::error_chain(error);
        tracing::error!(%reason, "the writer stops taking writes");
        let _ = self.shared.stopped.set(reason.clone());
        self.stopped = Some(reason.clone());
        StoreError::Stopped(reason)
    }
}

/// The store's time for a new event: the clock, to the microsecond (what is stored), never
/// earlier than `last` — recorded_at never goes backwards, whatever the clock does.
fn now_after(clock: &Clock, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let clock = clock();
    let now = DateTime::from_timestamp_micros(clock.timestamp_micros()).unwrap_or(clock);
    last.map_or(now, |last| now.max(last))
}

/// Runs a future to completion on this thread, parking it while the future waits. The writer
/// waits on the queue and on the committer at once this way; both wake-ups come from tokio's
/// channels and notifications, which need no runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        // A spurious wake-up only polls again.
        std::thread::park();
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
    shared: Arc<Shared>,
    /// Positions at or below this are in the key-value layer and valid for this writer.
    kv_limit: u64,
    tail: Tail,
    batch: Batch,
    /// Streams read or written in this group (and kept from earlier ones): every event, in
    /// version order, as the rules see it.
    streams: Streams,
    /// The index entries of the events staged here, for the index tail once they are
    /// committed. An import's partial batches are committed above the head, where the index
    /// tail does not reach: their events are found through these.
    own: Entries,
    /// Events staged in this group (not yet in the key-value layer), by id.
    staged: HashMap<EventId, RecordedEvent>,
    /// Events of the group in flight, by id: they may not be readable from the key-value layer
    /// yet.
    earlier: HashMap<EventId, RecordedEvent>,
    /// A failure while committing a partial import batch, reported when the import ends.
    partial_error: Option<StoreError>,
    /// While an import is planned: the positions of its ids that the key-value layer holds
    /// (`Pending::look_up_ids`), so each is not looked up alone.
    indexed: Option<HashMap<EventId, u64>>,
    /// The events of the import being staged (0 for a group of appends): its streams may hold
    /// this many beyond [`STREAM_CACHE_EVENTS_MAX`] between its partial commits.
    importing: usize,
}

impl Pending {
    fn new(shared: Arc<Shared>, tail: Tail) -> Pending {
        Pending {
            shared,
            kv_limit: tail.position,
            tail,
            batch: Batch::new(),
            streams: Streams::default(),
            own: Entries::default(),
            staged: HashMap::new(),
            earlier: HashMap::new(),
            partial_error: None,
            indexed: None,
            importing: 0,
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
        let ids = match staging::request_ids(&events, single.map(|(d, _)| d)) {
            Ok(ids) => ids,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let request = Request {
            single,
            keep_recorded_at,
            now,
        };
        if single.is_none() {
            self.indexed = Some(self.look_up_ids(&ids)?);
        }
        let plan = staging::plan(events, &ids, request, self.tail, self);
        self.indexed = None;
        let plan = match plan? {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let staged = Staged {
            first_position: plan.rows.first().map(|r| r.record.position),
            last_position: plan.rows.last().map(|r| r.record.position),
            version: plan.version,
            appended: plan.rows.len() as u64,
            duplicates: plan.duplicates,
            decisions: plan.decisions,
            events: plan.events,
        };
        if dry_run {
            return Ok(Ok(staged));
        }
        if single.is_none() {
            self.importing = plan.rows.len();
        }
        for row in plan.rows {
            self.put(row)?;
            if single.is_none()
                && (self.batch.len() >= GROUP_BATCH_OPS_MAX
                    || self.batch.bytes() >= GROUP_BATCH_BYTES_MAX)
            {
                self.commit_above_head();
            }
        }
        Ok(Ok(staged))
    }

    fn put(&mut self, row: Row) -> Result<(), StoreError> {
        let Row { record, line, hash } = row;
        // Normally read while checking; an import's partial commit may have dropped it since.
        self.stream(record.decision_id)?;
        self.batch
            .put(EVENTS, position_key(record.position).to_vec(), line);
        // The index entries go to the index tail once the group is committed.
        self.own.push(Entry {
            position: record.position,
            decision_id: record.decision_id,
            version: record.version,
            event_id: record.event_id,
        });
        debug_assert_eq!(
            record.position,
            self.tail.position + 1,
            "positions are contiguous"
        );
        self.tail = Tail {
            position: record.position,
            hash,
            recorded_at: Some(record.recorded_at),
        };
        self.streams
            .push(record.decision_id, staging::stream_event(&record));
        self.staged.insert(record.event_id, record);
        Ok(())
    }

    /// Commits an import's full batch *above* the commit point: no reader sees it until the
    /// import's last batch moves the commit point. What the streams held is now in the
    /// key-value layer, below `kv_limit`, so they are kept only within their bound (the import's
    /// own events beyond [`STREAM_CACHE_EVENTS_MAX`]); an import's `Pending` is not used for
    /// anything else afterwards.
    fn commit_above_head(&mut self) {
        if self.partial_error.is_some() {
            self.batch = Batch::new();
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        match self.shared.kv.commit(batch) {
            Ok(()) => {
                self.kv_limit = self.tail.position;
                // Nothing of the import is in flight: any stream may go.
                let beyond = self.streams.end_generation(self.importing, false);
                debug_assert!(!beyond, "streams not in flight can all be forgotten");
                self.staged.clear();
            }
            Err(error) => self.partial_error = Some(StoreError::Kv(error)),
        }
    }

    /// A decision's stream, as this group sees it.
    fn stream(&mut self, decision_id: DecisionId) -> Result<&[StreamEvent], StoreError> {
        if self.streams.used_mut(decision_id).is_none() {
            // Not kept, so none of its events is in flight or staged in this group; an
            // import's partial batches, committed above the head, are in `own`.
            let mut positions = stream_positions(&self.shared, decision_id, self.kv_limit)?;
            positions.extend(
                self.own
                    .stream(decision_id)
                    .iter()
                    .filter(|&&p| p <= self.kv_limit),
            );
            let stream = Stream {
                events: read_events(self.shared.kv.as_ref(), &positions)?
                    .iter()
                    .map(staging::stream_event)
                    .collect(),
                used: 0,
            };
            self.streams.insert(decision_id, stream);
        }
        Ok(&self
            .streams
            .get(decision_id)
            .expect("the stream was just read")
            .events)
    }

    /// The positions of those of `ids` that are committed (an import runs with nothing in
    /// flight): the index tail's first, then the table's, looked up in one read, in key order:
    /// an import's ids are many and random, and looking them up one by one was a read
    /// transaction and a walk down the index for each.
    fn look_up_ids(&self, ids: &[EventId]) -> Result<HashMap<EventId, u64>, StoreError> {
        let mut found = HashMap::new();
        let mut sorted: Vec<&EventId> = Vec::with_capacity(ids.len());
        {
            let tail = index_tail::read(&self.shared.index);
            for id in ids {
                match tail.entries().position_of(*id) {
                    Some(position) => {
                        found.insert(*id, position);
                    }
                    None => sorted.push(id),
                }
            }
        }
        sorted.sort_unstable_by_key(|id| id.as_bytes());
        let keys: Vec<&[u8]> = sorted.iter().map(|id| id.as_bytes().as_slice()).collect();
        let values = self.shared.kv.get_many(EVENT_IDS, &keys)?;
        for (id, value) in sorted.into_iter().zip(values) {
            if let Some(value) = value {
                found.insert(*id, index_position(*id, &value)?);
            }
        }
        Ok(found)
    }

    /// The stored or staged event with this id.
    fn find_event(&mut self, event_id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        for staged in [&self.staged, &self.earlier] {
            if let Some(event) = staged.get(&event_id) {
                return Ok(Some(event.clone()));
            }
        }
        let position = match self.own.position_of(event_id) {
            Some(position) => Some(position),
            None => match &self.indexed {
                Some(indexed) => indexed.get(&event_id).copied(),
                None => {
                    index_tail::position_of(self.shared.kv.as_ref(), &self.shared.index, event_id)?
                }
            },
        };
        let Some(position) = position else {
            return Ok(None);
        };
        if position > self.kv_limit {
            return Ok(None);
        }
        read_event(self.shared.kv.as_ref(), position).map(Some)
    }
}

impl staging::Stored for Pending {
    fn event(&mut self, id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        self.find_event(id)
    }

    fn stream(&mut self, decision_id: DecisionId) -> Result<&[StreamEvent], StoreError> {
        Pending::stream(self, decision_id)
    }
}

/// The position an entry of the event id index holds.
fn index_position(event_id: EventId, value: &[u8]) -> Result<u64, StoreError> {
    decode_u64(value).ok_or_else(|| StoreError::Corrupt {
        position: 0,
        detail: format!("the index entry of event {event_id} is not a position"),
    })
}

/// The event at a position.
pub(crate) fn read_event(kv: &dyn KvEngine, position: u64) -> Result<RecordedEvent, StoreError> {
    let mut events = read_events(kv, &[position])?;
    Ok(events.pop().expect("one position asked, one event read"))
}

/// The events at `positions` (each stored), in that order, read in one go
/// ([`KvEngine::get_many`]), each decoded as the log is read ([`decode_stored_line`]: fast for
/// the canonical lines the store writes, the strict parser's result for any other).
fn read_events(kv: &dyn KvEngine, positions: &[u64]) -> Result<Vec<RecordedEvent>, StoreError> {
    let keys: Vec<_> = positions.iter().map(|&p| position_key(p)).collect();
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
    let lines = kv.get_many(EVENTS, &keys)?;
    positions
        .iter()
        .zip(lines)
        .map(|(&position, line)| {
            let line = line.ok_or_else(|| StoreError::Corrupt {
                position,
                detail: "an index names this position, but no event is stored there".into(),
            })?;
            decode_stored_line(position, &line)
        })
        .collect()
}

/// A decision's stream as the writer keeps it: its events in version order, and when it was
/// last used (`Streams::uses`).
#[derive(Default)]
struct Stream {
    events: Vec<StreamEvent>,
    used: u64,
}

/// The writer's streams, each event as the rules see it, bounded by the events they hold (each
/// stream counting [`STREAM_COST_EVENTS`] more), least recently used forgotten first. A
/// generation (a group, or an import's partial batch) may be in flight when it ends: the streams
/// it used are never forgotten then, while the ones used before it hold only events the
/// key-value layer holds already, so the next use reads them back.
struct Streams {
    by_decision: HashMap<DecisionId, Stream>,
    /// Uses so far: each use of a stream is numbered.
    uses: u64,
    /// The first use of the current generation.
    generation_start: u64,
    /// Events in all the streams, each stream counting `stream_cost` more.
    events: usize,
    /// Events kept beyond a generation's end, at most: [`STREAM_CACHE_EVENTS_MAX`].
    bound: usize,
    /// What a stream costs beyond its events, counted in events: [`STREAM_COST_EVENTS`].
    stream_cost: usize,
}

impl Default for Streams {
    fn default() -> Streams {
        Streams::bounded(STREAM_CACHE_EVENTS_MAX)
    }
}

impl Streams {
    /// No streams yet, keeping at most `bound` events beyond a generation's end.
    fn bounded(bound: usize) -> Streams {
        Streams {
            by_decision: HashMap::new(),
            uses: 0,
            generation_start: 0,
            events: 0,
            bound,
            stream_cost: STREAM_COST_EVENTS,
        }
    }

    fn get(&self, decision_id: DecisionId) -> Option<&Stream> {
        self.by_decision.get(&decision_id)
    }

    /// A kept stream, marked as used now.
    fn used_mut(&mut self, decision_id: DecisionId) -> Option<&mut Stream> {
        let stream = self.by_decision.get_mut(&decision_id)?;
        self.uses += 1;
        stream.used = self.uses;
        Some(stream)
    }

    /// Keeps a stream read from the key-value layer.
    fn insert(&mut self, decision_id: DecisionId, mut stream: Stream) {
        self.uses += 1;
        stream.used = self.uses;
        self.events += stream.events.len() + self.stream_cost;
        if let Some(old) = self.by_decision.insert(decision_id, stream) {
            self.events -= old.events.len() + self.stream_cost;
        }
    }

    /// Adds a staged event to its stream, which is kept.
    fn push(&mut self, decision_id: DecisionId, event: StreamEvent) {
        let stream = self
            .used_mut(decision_id)
            .expect("a staged event's stream is read before it");
        stream.events.push(event);
        self.events += 1;
    }

    /// Ends this generation. Beyond the bound (and `allowance` more), forgets the least
    /// recently used streams, down to three quarters of it (so that not every generation
    /// sorts them); when the generation is `in_flight`, none it used. Returns whether the rest
    /// is still beyond: the caller then forgets them too ([`Streams::clear`]), once the
    /// key-value layer holds what they hold.
    fn end_generation(&mut self, allowance: usize, in_flight: bool) -> bool {
        let generation_start = self.generation_start;
        self.generation_start = self.uses + 1;
        let bound = self.bound.saturating_add(allowance);
        if self.events <= bound {
            return false;
        }
        let low = (self.bound / 4 * 3).saturating_add(allowance);
        let mut by_use: Vec<(u64, DecisionId)> = self
            .by_decision
            .iter()
            .map(|(decision_id, stream)| (stream.used, *decision_id))
            .collect();
        by_use.sort_unstable();
        for (used, decision_id) in by_use {
            if self.events <= low || (in_flight && used >= generation_start) {
                break;
            }
            let forgotten = self
                .by_decision
                .remove(&decision_id)
                .expect("listed from the map");
            self.events -= forgotten.events.len() + self.stream_cost;
        }
        self.events > bound
    }

    fn clear(&mut self) {
        self.by_decision.clear();
        self.events = 0;
    }
}

/// A decision's events in version order, up to position `limit`.
pub(crate) fn read_stream_from(
    shared: &Shared,
    decision_id: DecisionId,
    limit: u64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let positions = stream_positions(shared, decision_id, limit)?;
    positions
        .iter()
        .zip(lines_at(shared, &positions)?)
        .map(|(&position, line)| decode_stored_line(position, &line))
        .collect()
}

/// [`read_stream_from`], every line read from the key-value layer (none taken from those kept
/// in memory): what `verify` checks is what is stored.
pub(crate) fn read_stream_stored(
    shared: &Shared,
    decision_id: DecisionId,
    limit: u64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let positions = stream_positions(shared, decision_id, limit)?;
    read_events(shared.kv.as_ref(), &positions)
}

/// A stored event's line: kept among the newest (`recent`), or read.
enum Line {
    Kept(Arc<[u8]>),
    Read(Vec<u8>),
}

impl std::ops::Deref for Line {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Line::Kept(line) => line,
            Line::Read(line) => line,
        }
    }
}

impl Line {
    fn into_vec(self) -> Vec<u8> {
        match self {
            Line::Kept(line) => line.to_vec(),
            Line::Read(line) => line,
        }
    }
}

/// The lines at `positions` (each committed), in that order: those kept among the newest
/// appended ([`Shared::recent`]), the others read from the key-value layer in one go.
fn lines_at(shared: &Shared, positions: &[u64]) -> Result<Vec<Line>, StoreError> {
    let kept = shared.recent.get(positions);
    let missing: Vec<[u8; 8]> = positions
        .iter()
        .zip(&kept)
        .filter(|(_, line)| line.is_none())
        .map(|(&p, _)| position_key(p))
        .collect();
    let keys: Vec<&[u8]> = missing.iter().map(|k| k.as_slice()).collect();
    let mut read = if keys.is_empty() {
        Vec::new()
    } else {
        shared.kv.get_many(EVENTS, &keys)?
    }
    .into_iter();
    positions
        .iter()
        .zip(kept)
        .map(|(&position, kept)| match kept {
            Some(line) => Ok(Line::Kept(line)),
            None => read
                .next()
                .flatten()
                .map(Line::Read)
                .ok_or_else(|| StoreError::Corrupt {
                    position,
                    detail: "an index names this position, but no event is stored there".into(),
                }),
        })
        .collect()
}

/// The positions of a decision's committed events in version order, up to position `limit`:
/// the index tables' up to the index tail's start, then the tail's (`index_tail` says why a
/// position is never missed or seen twice).
fn stream_positions(
    shared: &Shared,
    decision_id: DecisionId,
    limit: u64,
) -> Result<Vec<u64>, StoreError> {
    let (indexed, above) = index_tail::stream_above_indexed(&shared.index, decision_id);
    let mut positions = indexed_positions(shared.kv.as_ref(), decision_id, indexed.min(limit))?;
    positions.extend(above.into_iter().filter(|&p| p <= limit));
    Ok(positions)
}

/// The positions of a decision's events in version order, up to position `limit`, as the
/// index tables hold them.
pub(crate) fn indexed_positions(
    kv: &dyn KvEngine,
    decision_id: DecisionId,
    limit: u64,
) -> Result<Vec<u64>, StoreError> {
    let Some(no) = read_stream_no(kv, decision_id.as_bytes())? else {
        return Ok(Vec::new());
    };
    let from = stream_key(no, 0);
    let to = stream_key(no, u64::MAX);
    let mut positions = Vec::new();
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
                positions.push(position);
            }
            next = Bound::Excluded(key.clone());
        }
        if !full {
            return Ok(positions);
        }
    }
}

/// A decision's events exactly as stored, in version order, up to position `limit` and
/// recorded at or before `as_of`: [`crate::EventStore::read_stream_lines`]. Each line is
/// checked to be the event the stream's index names there (its position, its decision, the
/// next version) from its envelope, without decoding its data.
pub(crate) fn read_stream_lines(
    shared: &Shared,
    decision_id: DecisionId,
    limit: u64,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let positions = stream_positions(shared, decision_id, limit)?;
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = Vec::with_capacity(positions.len());
    for (&position, line) in positions.iter().zip(lines_at(shared, &positions)?) {
        let Envelope {
            decision_id: event_decision,
            version,
            recorded_at,
            ..
        } = stored_envelope(position, &line)?;
        let expected = lines.len() as u64 + 1;
        if event_decision != decision_id || version != expected {
            return Err(StoreError::Corrupt {
                position,
                detail: format!(
                    "the stream index places version {expected} of decision {decision_id} here, but the event stored here is version {version} of decision {event_decision}"
                ),
            });
        }
        // `recorded_at` never goes backwards along positions: the rest are later still.
        if as_of.is_some_and(|as_of| recorded_at > as_of) {
            break;
        }
        lines.push((position, line.into_vec()));
    }
    Ok(lines)
}

/// What the index and the readers of a stream need of a stored event.
pub(crate) struct Envelope {
    pub decision_id: DecisionId,
    pub version: u64,
    pub recorded_at: DateTime<Utc>,
    pub event_id: EventId,
}

impl Envelope {
    fn of(
        decision_id: DecisionId,
        version: u64,
        recorded_at: DateTime<Utc>,
        event_id: EventId,
    ) -> Envelope {
        Envelope {
            decision_id,
            version,
            recorded_at,
            event_id,
        }
    }
}

/// The envelope of the event stored at `position` as `line`, read from its canonical spelling
/// without its data, else from the line decoded whole (which names what is wrong with a damaged
/// one).
pub(crate) fn stored_envelope(position: u64, line: &[u8]) -> Result<Envelope, StoreError> {
    let envelope = std::str::from_utf8(line)
        .ok()
        .and_then(domain::event::StoredEnvelope::parse);
    let (envelope, stored_at) = match envelope {
        Some(e) => (
            Envelope::of(e.decision_id, e.version, e.recorded_at, e.event_id),
            e.position,
        ),
        None => {
            let e = decode_stored_line(position, line)?;
            (
                Envelope::of(e.decision_id, e.version, e.recorded_at, e.event_id),
                e.position,
            )
        }
    };
    if stored_at != position {
        return Err(StoreError::Corrupt {
            position,
            detail: format!("the event stored here says it is at position {stored_at}"),
        });
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;
    use std::sync::mpsc::{Receiver, Sender, channel};

    use domain::EventType;
    use kv::{EngineKind, Entry, KvError, RedbEngine, Table};

    use super::*;

    /// A redb engine whose commits stop at a gate: the test learns that a commit has begun,
    /// and says whether it succeeds or fails. Every `get` is reported too.
    struct GatedKv {
        inner: RedbEngine,
        commit_begun: Mutex<Sender<()>>,
        gate: Mutex<Receiver<bool>>,
        gets: Mutex<Sender<()>>,
    }

    impl KvEngine for GatedKv {
        fn kind(&self) -> EngineKind {
            self.inner.kind()
        }
        fn path(&self) -> &Path {
            self.inner.path()
        }
        fn commit(&self, batch: Batch) -> Result<(), KvError> {
            let _ = self.commit_begun.lock().expect("lock").send(());
            if self.gate.lock().expect("lock").recv().unwrap_or(false) {
                self.inner.commit(batch)
            } else {
                Err(KvError::Poisoned {
                    engine: EngineKind::Redb,
                    path: self.inner.path().to_path_buf(),
                    cause: "the test failed this commit".into(),
                })
            }
        }
        fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
            let _ = self.gets.lock().expect("lock").send(());
            self.inner.get(table, key)
        }
        fn scan(
            &self,
            table: Table,
            from: Bound<&[u8]>,
            to: Bound<&[u8]>,
            limit: usize,
        ) -> Result<Vec<Entry>, KvError> {
            self.inner.scan(table, from, to, limit)
        }
        fn scan_rev(
            &self,
            table: Table,
            from: Bound<&[u8]>,
            to: Bound<&[u8]>,
            limit: usize,
        ) -> Result<Vec<Entry>, KvError> {
            self.inner.scan_rev(table, from, to, limit)
        }
        fn last(&self, table: Table) -> Result<Option<Entry>, KvError> {
            self.inner.last(table)
        }
    }

    fn event(event_type: EventType, decision_id: DecisionId) -> NewEvent {
        let mut event =
            NewEvent::from_json(&domain::schema::example(event_type).to_string()).expect("example");
        event.event_id = Some(EventId::from_uuid(uuid::Uuid::new_v4()));
        event.decision_id = decision_id;
        event
    }

    fn recorded(decision_id: DecisionId, version: u64) -> RecordedEvent {
        RecordedEvent {
            position: version,
            version,
            recorded_at: DateTime::UNIX_EPOCH,
            event_id: EventId::from_uuid(uuid::Uuid::new_v4()),
            decision_id,
            occurred_on: chrono::NaiveDate::MIN,
            actor: Some("test".into()),
            data: event(EventType::NoteRecorded, decision_id).data,
            hash: String::new(),
        }
    }

    /// A stream of `events` events.
    fn stream(decision_id: DecisionId, events: u64) -> Stream {
        Stream {
            events: (1..=events)
                .map(|v| staging::stream_event(&recorded(decision_id, v)))
                .collect(),
            used: 0,
        }
    }

    /// Given streams bounded to 8 events, when a generation ends within the bound (or within
    /// an allowance beyond it), nothing is forgotten; beyond it, the least recently used streams
    /// are forgotten down to 6 events, never one the generation in flight used (the caller is
    /// told when those alone are beyond), and any when nothing is in flight.
    #[test]
    fn streams_beyond_their_bound_forget_the_least_recently_used() {
        let d = |n: u128| DecisionId::from_uuid(uuid::Uuid::from_u128(n));
        let kept = |streams: &Streams| {
            let mut kept: Vec<_> = streams.by_decision.keys().copied().collect();
            kept.sort_unstable();
            (kept, streams.events)
        };
        let mut streams = Streams {
            bound: 8,
            stream_cost: 0,
            ..Streams::default()
        };
        streams.insert(d(1), stream(d(1), 3));
        streams.insert(d(2), stream(d(2), 3));
        assert!(!streams.end_generation(0, true));
        assert_eq!(kept(&streams), (vec![d(1), d(2)], 6), "within the bound");
        // Reads a third stream and writes to the first: the second is the least recent.
        streams.insert(d(3), stream(d(3), 2));
        streams.push(d(1), staging::stream_event(&recorded(d(1), 4)));
        assert!(!streams.end_generation(0, true));
        assert_eq!(kept(&streams), (vec![d(1), d(3)], 6), "the second went");
        streams.insert(d(4), stream(d(4), 2));
        assert!(!streams.end_generation(0, true));
        assert_eq!(kept(&streams).1, 8, "at the bound, nothing goes");
        // Uses the fourth and reads a fifth: the third, then the first, go (to 6 or fewer).
        streams.used_mut(d(4)).expect("kept");
        streams.insert(d(5), stream(d(5), 1));
        assert!(!streams.end_generation(0, true));
        assert_eq!(kept(&streams), (vec![d(4), d(5)], 3));
        // A generation in flight that reads more than the bound: the older ones go, its own
        // stay, and the caller is told.
        streams.insert(d(6), stream(d(6), 9));
        assert!(streams.end_generation(0, true), "9 events in flight");
        assert_eq!(kept(&streams), (vec![d(6)], 9));
        // Nothing in flight: even the generation's own streams may go.
        streams.insert(d(7), stream(d(7), 1));
        assert!(!streams.end_generation(0, false));
        assert_eq!(
            kept(&streams),
            (vec![d(7)], 1),
            "the sixth went though just used"
        );
        // An allowance (an import's own events) raises the bound.
        streams.insert(d(8), stream(d(8), 9));
        assert!(!streams.end_generation(2, true));
        assert_eq!(kept(&streams).1, 10);
        streams.insert(d(8), stream(d(8), 10));
        assert_eq!(streams.events, 11, "a stream read again replaces its count");
        streams.clear();
        assert_eq!(kept(&streams), (vec![], 0));
    }

    /// Each stream counts its cost beyond its events: within a bound of 12, three streams of
    /// one event each (cost 3) fit, a fourth does not, and going down to three quarters of the
    /// bound takes two of them.
    #[test]
    fn a_stream_counts_its_own_cost() {
        let d = |n: u128| DecisionId::from_uuid(uuid::Uuid::from_u128(n));
        let mut streams = Streams::bounded(12);
        assert_eq!(streams.stream_cost, STREAM_COST_EVENTS);
        streams.stream_cost = 3;
        for n in 1..=3 {
            streams.insert(d(n), stream(d(n), 1));
        }
        assert_eq!(streams.events, 12);
        assert!(!streams.end_generation(0, true));
        assert_eq!(streams.by_decision.len(), 3, "at the bound, nothing goes");
        streams.insert(d(4), stream(d(4), 1));
        assert!(!streams.end_generation(0, true));
        // Down to three quarters of 12: the two least recent go (forgetting only the first
        // would leave 12).
        assert_eq!(streams.events, 8);
        assert!(streams.get(d(3)).is_some() && streams.get(d(4)).is_some());
    }

    /// The cache's bound in events is worked out from this size ([`STREAM_CACHE_EVENTS_MAX`]).
    #[test]
    fn an_event_kept_in_a_stream_takes_44_bytes() {
        assert_eq!(std::mem::size_of::<StreamEvent>(), 44);
    }

    type AppendAnswer = oneshot::Receiver<Result<Result<Appended, Refusal>, StoreError>>;

    /// A writer on `kv` of a new store in `dir`: what it shares, its queue, its thread.
    fn start(
        kv: Arc<dyn KvEngine>,
        dir: &Path,
    ) -> (
        Arc<Shared>,
        mpsc::Sender<Command>,
        std::thread::JoinHandle<()>,
    ) {
        let (head_tx, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            kv,
            committed: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            tail: std::sync::Mutex::new(Tail::EMPTY),
            head_tx,
            stopped: std::sync::OnceLock::new(),
            index: RwLock::new(IndexTail::default()),
            recent: RecentLines::default(),
        });
        let anchor = Anchor::open(dir).expect("anchor");
        let (commands, receiver) = mpsc::channel(QUEUE_REQUESTS_MAX);
        let writer = spawn(
            Arc::clone(&shared),
            crate::system_clock(),
            Tail::EMPTY,
            anchor,
            receiver,
            // Every group to the committer: the tests stage groups on top of one in flight.
            Tuning {
                inline_group_requests: 0,
                ..Tuning::default()
            },
        )
        .expect("spawn");
        (shared, commands, writer)
    }

    /// A stream's stored lines are checked against its index: a line at one of its positions
    /// that is another decision's event, or says another position, is named as damage, not
    /// sent as the stream's.
    #[test]
    fn a_stream_line_that_is_not_the_event_its_index_names_is_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv: Arc<dyn KvEngine> =
            Arc::new(RedbEngine::open(&dir.path().join("kv")).expect("open"));
        let (shared, commands, writer) = start(Arc::clone(&kv), dir.path());
        let a = DecisionId::from_uuid(uuid::Uuid::new_v4());
        let b = DecisionId::from_uuid(uuid::Uuid::new_v4());
        for (decision, expected, event_type) in [
            (a, ExpectedVersion::NoStream, EventType::DecisionGranted),
            (b, ExpectedVersion::NoStream, EventType::DecisionGranted),
            (b, ExpectedVersion::Exact(1), EventType::OrderSent),
            (a, ExpectedVersion::Exact(1), EventType::OrderSent),
        ] {
            let answer = append(&commands, decision, expected, event(event_type, decision));
            assert!(matches!(answer.blocking_recv(), Ok(Ok(Ok(_)))), "appended");
        }
        drop(commands);
        writer.join().expect("the writer ends");
        let head = shared.committed.load(Ordering::Acquire);
        assert_eq!(head, 4);
        let whole = read_stream_lines(&shared, a, head, None).expect("read");
        assert_eq!(
            whole.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            [1, 4],
            "a's events as stored"
        );
        let line_of = |position: u64| -> String {
            let key = position_key(position);
            let line = kv.get(EVENTS, &key).expect("get").expect("stored");
            String::from_utf8(line).expect("utf-8")
        };
        let put = |position: u64, line: String| {
            let mut batch = Batch::new();
            batch.put(EVENTS, position_key(position).to_vec(), line.into_bytes());
            kv.commit(batch).expect("tampered");
        };
        let a_second = line_of(4);
        let kept: Vec<Option<Vec<u8>>> = shared
            .recent
            .get(&[1, 4])
            .into_iter()
            .map(|line| line.map(|l| l.to_vec()))
            .collect();
        assert_eq!(
            kept,
            [
                Some(line_of(1).into_bytes()),
                Some(a_second.clone().into_bytes())
            ],
            "each append's lines are kept as stored"
        );
        // What is checked is what the key-value layer holds, not the lines kept in memory
        // since their append (`recent`), which tampering beneath the store does not change.
        shared.recent.forget();
        // b's second event (version 2, as a's there), saying it is at position 4, where a's
        // second event is.
        put(
            4,
            line_of(3).replacen("\"position\":3,", "\"position\":4,", 1),
        );
        match read_stream_lines(&shared, a, head, None) {
            Err(StoreError::Corrupt {
                position: 4,
                detail,
            }) => {
                assert!(detail.contains(&b.to_string()), "{detail}");
            }
            other => panic!("another decision's event was read as a's: {other:?}"),
        }
        // a's second event, left where it was stored but saying position 2.
        put(
            4,
            a_second.replacen("\"position\":4,", "\"position\":2,", 1),
        );
        match read_stream_lines(&shared, a, head, None) {
            Err(StoreError::Corrupt { position: 4, .. }) => {}
            other => panic!("an event saying another position was read: {other:?}"),
        }
    }

    fn append(
        commands: &mpsc::Sender<Command>,
        decision_id: DecisionId,
        expected: ExpectedVersion,
        event: NewEvent,
    ) -> AppendAnswer {
        let (reply, answer) = oneshot::channel();
        commands
            .blocking_send(Command::Append {
                decision_id,
                expected,
                events: vec![event],
                reply,
            })
            .expect("the writer runs");
        answer
    }

    /// Given an append whose commit is under way, when a second append to the same stream is
    /// staged on top of it and the first commit then fails, then neither is acknowledged,
    /// nothing is published, and later appends are refused: the second was judged against a
    /// state that never became durable.
    #[test]
    fn a_group_staged_on_a_failed_commit_is_never_acknowledged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (begun_tx, commit_begun) = channel();
        let (gate, gate_rx) = channel();
        let (gets_tx, gets) = channel();
        let kv: Arc<dyn KvEngine> = Arc::new(GatedKv {
            inner: RedbEngine::open(&dir.path().join("kv")).expect("open"),
            commit_begun: Mutex::new(begun_tx),
            gate: Mutex::new(gate_rx),
            gets: Mutex::new(gets_tx),
        });
        let (shared, commands, writer) = start(kv, dir.path());
        let decision = DecisionId::from_uuid(uuid::Uuid::new_v4());

        let first = append(
            &commands,
            decision,
            ExpectedVersion::NoStream,
            event(EventType::DecisionGranted, decision),
        );
        commit_begun.recv().expect("the first commit begins");
        while gets.try_recv().is_ok() {}
        let second = append(
            &commands,
            decision,
            ExpectedVersion::Exact(1),
            event(EventType::OrderSent, decision),
        );
        // The second append is being checked (it looks its event id up) while the first commits.
        gets.recv().expect("the second append is staged");
        gate.send(false).expect("the commit waits");

        for (name, answer) in [("first", first), ("second", second)] {
            match answer.blocking_recv().expect("answered") {
                Err(StoreError::Stopped(_)) => {}
                Err(other) => panic!("the {name} append failed otherwise: {other}"),
                Ok(result) => panic!(
                    "the {name} append was answered {:?}",
                    result.map(|a| a.version)
                ),
            }
        }
        let third = append(
            &commands,
            decision,
            ExpectedVersion::Any,
            event(EventType::NoteRecorded, decision),
        );
        assert!(matches!(
            third.blocking_recv().expect("answered"),
            Err(StoreError::Stopped(_))
        ));
        assert_eq!(shared.committed.load(Ordering::Acquire), 0);
        // Nothing else was committed: the gate would have been asked again.
        drop(commands);
        drop(gate);
        writer.join().expect("the writer ends");
        assert!(
            commit_begun.try_recv().is_err(),
            "no second commit was tried"
        );
    }
}
