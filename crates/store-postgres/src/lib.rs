//! verkstall's event store on PostgreSQL: the same [`store::EventStore`] as the embedded store,
//! for deployments of several nodes against one database.
//!
//! [`PgStore::connect`] applies verkstall's schema (versioned migrations in the schema
//! `verkstall`, see [`SCHEMA_VERSION`]) and serves the trait. The event-store logic that is
//! not storage — the §6 rules (`domain::rules::check_append`), the canonical JSON
//! (`RecordedEvent::to_json`), the hash chain (`store::chain_hash`) — is the one the embedded
//! store uses; a log copied from one engine to the other verifies the same.
//!
//! # Guarantees
//! - An append is acknowledged only after its transaction committed (PostgreSQL's durability:
//!   keep `synchronous_commit = on`, and `fsync = on`).
//! - **One global order, one chain.** Every append and import locks the single head row
//!   (`verkstall.head`, the commit point) and updates it in the same transaction as its events.
//!   Writers of all nodes are therefore serialised: each reads the log as the previous writer
//!   committed it, takes the next positions (gap-free, contiguous from 1), links the next hash
//!   (`hash = SHA-256(previous hash ‖ the line without its hash)`, over the bytes as stored),
//!   and checks the §6 rules against the stream as stored, so two concurrent appends can never
//!   both pass against a stale stream. The price: write transactions are not parallel across
//!   nodes. Each node commits the appends waiting in its queue together (group commit), so
//!   throughput grows with concurrent appenders (figures: the crate's `examples/bench.rs`).
//! - **Optimistic concurrency across nodes** is the unique constraint on `(decision_id,
//!   version)`, not a lock of this process; `event_id` is unique too. A request that meets
//!   either is checked again and answered as a conflict or a duplicate.
//! - `recorded_at` comes from the database clock (`clock_timestamp()`, which PostgreSQL keeps to
//!   the microsecond, as the log does), taken after the head lock, and never earlier than the
//!   head's: it never goes backwards along positions, whichever node's clock or whichever
//!   database server (after a failover) is behind.
//! - **Readers never skip an event.** Rows carry their transaction id (`xid8`); readers take
//!   only the prefix below the oldest transaction still running (see [`read`](self#reading)).
//!
//! # Reading
//! With the head row serialising writers, positions are assigned in commit order, and a
//! transaction becomes visible before it releases its locks, so "`position <=` the committed
//! head" would already be a safe bound *today*. Readers nevertheless bound themselves by the
//! transaction ids (`tx < pg_snapshot_xmin(pg_current_snapshot())`): that rule stays true if
//! the writers are ever made concurrent (positions from a sequence, several head rows), on a
//! standby that applies commits in WAL order, and against a writer that took a position
//! without the head lock — cases where the head alone would let a reader pass a position that
//! a slower transaction commits later. It is the proven technique for a gap-free feed from
//! PostgreSQL; a timer that skips a missing position is not used anywhere.
//!
//! Its pitfalls, and what verkstall does about them:
//! - **Long transactions.** The horizon is cluster-wide: any transaction that holds a
//!   transaction id (it wrote something), in any database of the cluster, holds every reader
//!   back until it ends. Readers then wait at most [`SETTLE_WAIT_MAX`] and answer with the
//!   settled prefix (shorter, never with a hole); followers are woken when the horizon moves.
//!   Keep write transactions short on verkstall's cluster (`idle_in_transaction_session_timeout`,
//!   no long batch jobs beside it) and watch `pg_stat_activity.backend_xid` ages. Read-only
//!   transactions (a `pg_dump`) hold no transaction id and do not hold readers back.
//! - **Restore into a new cluster.** A logical dump restored elsewhere keeps the old cluster's
//!   ids in `tx`; the new cluster's counter may be behind them, which would hide those rows from
//!   every reader. At every start, under the migration lock, rows whose `tx` is beyond anything
//!   this cluster has handed out are marked settled (`tx = 0`) and a warning says how many.
//!   A physical copy (`pg_basebackup`, `pg_upgrade`) keeps the counter and needs nothing.
//! - Transaction id wraparound does not apply: `xid8` is the 64-bit, epoch-qualified id.
//!
//! # Following
//! [`EventStore::watch_head`] carries the settled head; it is woken by `LISTEN/NOTIFY` across
//! nodes, and looks again on a timer ([`FOLLOW_POLL_INTERVAL`]) in case a notification was lost.
//! `store::subscription` runs on it unchanged, with checkpoints in `verkstall.checkpoints`.
//!
//! # Connections
//! A store holds three connections: one for writes, owned by a writer task that commits the
//! appends waiting in its queue together, in one transaction (group commit: each append is
//! checked against the log as the ones before it leave it and is atomic on its own; a refused
//! one writes nothing), one for reads (single statements, pipelined), one to listen;
//! [`PgStore::copy_from`] opens one more for its transaction. A lost connection is made again
//! by the store itself (module `conn`: the writer runs the group it lost once more, with its
//! ids, so nothing is written twice; a read runs again; the listener comes back after
//! [`RECONNECT_WAIT`]); a call fails ([`StoreError::Backend`]) only when the database stays out
//! of reach.

mod conn;
mod copy;
mod error;
mod follow;
mod plan;
mod read;
mod schema;
mod scratch;
mod tx;
mod verify;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{DecisionId, NewEvent, RecordedEvent};
use store::{
    Appended, Clock, EventStore, ExpectedVersion, Head, ImportOptions, Imported, Refusal,
    StoreError,
};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use tokio_postgres::Client;

use crate::conn::connect_client;
use crate::error::db;

pub use conn::RECONNECT_WAIT;
pub use copy::{COPY_PAGE_EVENTS, Copied, CopyRefused};
pub use follow::FOLLOW_POLL_INTERVAL;
pub use schema::SCHEMA_VERSION;
pub use scratch::{ScratchDatabase, TEST_SERVER_DEFAULT};

/// The limits of one append request and of a subscriber's name are the store contract's, the
/// same on every store.
pub use store::{APPEND_BYTES_MAX, APPEND_EVENTS_MAX, SUBSCRIBER_NAME_BYTES_MAX};
/// Events read in one statement, at most.
pub const READ_PAGE_EVENTS_MAX: usize = 10_000;
/// An import of this many events, at least, is followed by `ANALYZE verkstall.events`, so that
/// the planner knows the log's size at once rather than when autovacuum comes round.
pub const ANALYZE_AFTER_IMPORT_EVENTS: usize = 10_000;
/// Rows inserted by one statement of an import, at most.
pub const INSERT_CHUNK_ROWS: usize = 5_000;
/// Write requests waiting for this node's writer task, at most.
pub const QUEUE_REQUESTS_MAX: usize = 4096;
/// Appends committed together in one transaction (group commit), at most.
pub const GROUP_REQUESTS_MAX: usize = 256;
/// How long a reader waits for the horizon to reach the head it saw committed, at most.
pub const SETTLE_WAIT_MAX: Duration = Duration::from_secs(10);

/// The channel of the head's notifications.
const HEAD_CHANNEL: &str = "verkstall_head";

/// The event store on PostgreSQL. Share it behind an `Arc`; dropping it closes its connections.
pub struct PgStore {
    /// The queue of the writer task, which owns the writing connection.
    writes: mpsc::Sender<Job>,
    reader: Arc<conn::Reader>,
    head: Arc<watch::Sender<u64>>,
    tasks: Vec<AbortHandle>,
    /// How to connect (for a copy's own connection). Never shown: it may hold a password.
    config: String,
}

/// A write request and where its answer goes.
type Job = (tx::Write, oneshot::Sender<tx::Answer>);

impl Drop for PgStore {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("head", &*self.head.borrow())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `config` (a `postgres://` URL or `key=value` pairs), applies
    /// the missing migrations, and starts following the head. `recorded_at` comes from the
    /// database clock. Call on a tokio runtime: the connections run as its tasks.
    pub async fn connect(config: &str) -> Result<PgStore, StoreError> {
        PgStore::open(config, None).await
    }

    /// As [`PgStore::connect`], with `recorded_at` from `clock` instead of the database's
    /// (for tests, and for replaying a log at a given time). It still never goes backwards.
    pub async fn connect_with_clock(config: &str, clock: Clock) -> Result<PgStore, StoreError> {
        PgStore::open(config, Some(clock)).await
    }

    async fn open(config: &str, clock: Option<Clock>) -> Result<PgStore, StoreError> {
        let mut tasks = Vec::new();
        let (mut writer, task) = connect_client(config).await?;
        tasks.push(task);
        let (reader, task) = connect_client(config).await?;
        tasks.push(task);
        let reader = Arc::new(conn::Reader::new(config, reader));
        schema::migrate(&mut writer).await?;
        let wake = Arc::new(Notify::new());
        tasks.push(
            tokio::spawn(follow::listen(config.to_owned(), Arc::clone(&wake))).abort_handle(),
        );
        let start = read::horizon(&*reader.client().await?, &reader.floor).await?;
        let head = Arc::new(watch::channel(start.settled).0);
        tasks.push(
            tokio::spawn(follow::follow(
                Arc::clone(&reader),
                Arc::clone(&head),
                Arc::clone(&wake),
            ))
            .abort_handle(),
        );
        let (writes, queue) = mpsc::channel(QUEUE_REQUESTS_MAX);
        tasks.push(
            tokio::spawn(run_writer(writer, config.to_owned(), clock, queue, wake)).abort_handle(),
        );
        Ok(PgStore {
            writes,
            reader,
            head,
            tasks,
            config: config.to_owned(),
        })
    }

    async fn write(&self, request: tx::Write) -> tx::Answer {
        let (reply, answer) = oneshot::channel();
        self.writes
            .send((request, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer
            .await
            .map_err(|_| StoreError::Stopped("the writer task ended".into()))?
    }

    /// Brings PostgreSQL's statistics of the log up to date after a bulk load, rather than
    /// waiting for autovacuum: until then the planner takes the log for a small table and reads
    /// pages of it in the wrong way (whole ranges sorted on disk). Only a hint to the planner:
    /// if it fails, the failure is logged and the load stands.
    pub(crate) async fn analyze(&self) {
        let analyzed = async {
            self.reader()
                .await?
                .batch_execute("ANALYZE verkstall.events")
                .await
                .map_err(db)
        };
        if let Err(error) = analyzed.await {
            tracing::warn!(%error, "could not update the statistics of the log after a bulk load");
        }
    }

    /// The reading connection (connected again if it was lost).
    async fn reader(&self) -> Result<Arc<Client>, StoreError> {
        self.reader.client().await
    }

    /// Runs `read` on the reading connection; when it fails because that connection was lost,
    /// once more on a new one (a read changes nothing, so running it again is always safe).
    async fn reading<T, F>(
        &self,
        read: impl Fn(Arc<Client>, Arc<AtomicU64>) -> F,
    ) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        let client = self.reader().await?;
        let floor = &self.reader.floor;
        match read(Arc::clone(&client), Arc::clone(floor)).await {
            Err(error @ StoreError::Backend { .. }) => {
                if !conn::lost(&client).await {
                    return Err(error);
                }
                read(self.reader.replace(&client).await?, Arc::clone(floor)).await
            }
            other => other,
        }
    }
}

/// The position readers read up to (waiting a little for a lagging horizon), or with `as_of`
/// the last one recorded by then.
async fn upto(
    client: &Client,
    floor: &AtomicU64,
    as_of: Option<DateTime<Utc>>,
) -> Result<u64, StoreError> {
    let settled = read::settled(client, floor).await?.settled;
    match as_of {
        Some(as_of) => read::position_as_of(client, settled, as_of).await,
        None => Ok(settled),
    }
}

#[async_trait]
impl EventStore for PgStore {
    async fn append(
        &self,
        decision_id: DecisionId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Result<Appended, Refusal>, StoreError> {
        let planned = self
            .write(tx::Write {
                events,
                single: Some((decision_id, expected)),
                keep_recorded_at: false,
                dry_run: false,
            })
            .await?;
        Ok(planned.map(|plan| Appended {
            duplicate: plan.rows.is_empty(),
            version: plan.version,
            events: plan.events,
        }))
    }

    async fn import(
        &self,
        events: Vec<NewEvent>,
        options: ImportOptions,
    ) -> Result<Result<Imported, Refusal>, StoreError> {
        let bulk = events.len() >= ANALYZE_AFTER_IMPORT_EVENTS && !options.dry_run;
        let planned = self
            .write(tx::Write {
                events,
                single: None,
                keep_recorded_at: options.keep_recorded_at,
                dry_run: options.dry_run,
            })
            .await?;
        if bulk && planned.is_ok() {
            self.analyze().await;
        }
        Ok(planned.map(|plan| plan.imported()))
    }

    async fn read_stream(
        &self,
        decision_id: DecisionId,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.reading(move |c, floor| async move {
            read::stream(&c, decision_id, upto(&c, &floor, as_of).await?).await
        })
        .await
    }

    async fn read_all(
        &self,
        after: u64,
        limit: usize,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.reading(move |c, floor| async move {
            read::events(&c, after, upto(&c, &floor, as_of).await?, limit).await
        })
        .await
    }

    async fn read_stored_lines(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.reading(move |c, floor| async move {
            read::lines(&c, after, upto(&c, &floor, None).await?, limit).await
        })
        .await
    }

    async fn position_as_of(&self, as_of: DateTime<Utc>) -> Result<u64, StoreError> {
        self.reading(move |c, floor| async move { upto(&c, &floor, Some(as_of)).await })
            .await
    }

    async fn head(&self) -> Result<Head, StoreError> {
        self.reading(|c, floor| async move {
            let c = &*c;
            let now = read::settled(c, &floor).await?;
            if now.settled == 0 {
                return Ok(Head {
                    position: 0,
                    recorded_at: None,
                });
            }
            let recorded_at = if now.settled == now.committed {
                now.committed_at
            } else {
                Some(read::recorded_at(c, now.settled).await?)
            };
            Ok(Head {
                position: now.settled,
                recorded_at,
            })
        })
        .await
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    async fn checkpoint(&self, subscriber: &str) -> Result<u64, StoreError> {
        let subscriber = subscriber.to_owned();
        self.reading(|c, _| {
            let subscriber = subscriber.clone();
            async move {
                let row = c
                    .query_opt(
                        "SELECT position FROM verkstall.checkpoints WHERE subscriber = $1",
                        &[&subscriber],
                    )
                    .await
                    .map_err(db)?;
                Ok(row.map_or(0, |r| to_u64(r.get(0))))
            }
        })
        .await
    }

    async fn save_checkpoint(&self, subscriber: &str, position: u64) -> Result<(), StoreError> {
        if subscriber.is_empty() || subscriber.len() > SUBSCRIBER_NAME_BYTES_MAX {
            return Err(StoreError::Invalid(format!(
                "a subscriber name has 1 to {SUBSCRIBER_NAME_BYTES_MAX} bytes"
            )));
        }
        // Saving again what was saved changes nothing: safe to run twice.
        let subscriber = subscriber.to_owned();
        self.reading(|c, floor| {
            let subscriber = subscriber.clone();
            async move {
                let committed = read::horizon(&c, &floor).await?.committed;
                if position > committed {
                    return Err(StoreError::Invalid(format!(
                        "a checkpoint at position {position} is beyond the log's head ({committed})"
                    )));
                }
                c.execute(
                    "INSERT INTO verkstall.checkpoints (subscriber, position) VALUES ($1, $2)
                 ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position",
                    &[&subscriber, &to_i64(position)],
                )
                .await
                .map_err(db)?;
                Ok(())
            }
        })
        .await
    }
}

/// The writer task: takes the queued appends that are waiting (up to [`GROUP_REQUESTS_MAX`]) and
/// commits them in one transaction; an import runs alone. Ends when the store is dropped.
async fn run_writer(
    mut client: Client,
    config: String,
    clock: Option<Clock>,
    mut queue: mpsc::Receiver<Job>,
    wake: Arc<Notify>,
) {
    let mut held: Option<Job> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut group = vec![first];
        if group[0].0.single.is_some() {
            while group.len() < GROUP_REQUESTS_MAX {
                match queue.try_recv() {
                    Ok(job) if job.0.single.is_some() => group.push(job),
                    Ok(job) => {
                        held = Some(job);
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        if client.is_closed() {
            match connect_client(&config).await {
                Ok((new, _ends_with_the_client)) => {
                    tracing::warn!("the writing connection was lost; connected again");
                    client = new;
                }
                // The group fails on the closed connection; the next one tries again.
                Err(error) => tracing::warn!(%error, "the writing connection is lost"),
            }
        }
        let (writes, replies): (Vec<tx::Write>, Vec<_>) = group.into_iter().unzip();
        let answers = tx::write_group(&mut client, &config, clock.as_ref(), &writes).await;
        if answers
            .iter()
            .any(|a| matches!(a, Ok(Ok(plan)) if !plan.rows.is_empty()))
        {
            // This node's followers need not wait for the NOTIFY to come back.
            wake.notify_one();
        }
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}

/// A position or version as PostgreSQL's `bigint`.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).expect("positions and versions stay below 2^63")
}

/// A `bigint` read back (the columns are checked to be positive).
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).expect("the schema keeps positions and versions non-negative")
}

#[cfg(test)]
mod tests;
