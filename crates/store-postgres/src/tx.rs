//! The write transaction: a group of appends (group commit), or one import.
//!
//! 1. `SELECT … FROM verkstall.head FOR UPDATE`: the head row is the commit point and the one
//!    lock every writer of every node takes, so writers are serialised and each one reads the
//!    log as the previous one committed it (READ COMMITTED: every later statement of the
//!    transaction takes a fresh snapshot, after the lock was granted).
//! 2. The time: the database clock (`clock_timestamp()`, microseconds, as stored), or the clock
//!    given at connect, never earlier than the head's `recorded_at`.
//! 3. What the requests touch, read under the lock: stored events with their ids, the streams
//!    they write to, the decisions their `replaces` name. [`crate::plan`] checks each request
//!    in turn against that, plus what the requests before it in the group planned.
//! 4. The rows (in chunks, by `unnest`), the head row, a `NOTIFY`, then `COMMIT`.
//!
//! The unique constraints (`(decision_id, version)`, `event_id`) hold even for a writer that
//! skipped the lock; should one fire, the transaction is rolled back and the request is checked
//! again from the start, where it meets the other writer's events as an ordinary conflict or
//! duplicate. A refusal or a dry run rolls back: nothing is written.
//!
//! If `COMMIT` itself fails with the connection, the outcome is unknown: the caller retries with
//! the same event ids, and idempotency answers with the original positions if it had landed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::rules::StreamEvent;
use domain::{DecisionId, EventData, EventId, NewEvent};
use store::{Clock, ExpectedVersion, Refusal, StoreError};
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use crate::error::{db, is_unique_violation};
use crate::plan::{self, Plan, Request, Stored, Tail};
use crate::{HEAD_CHANNEL, INSERT_CHUNK_ROWS, to_i64, to_u64};

/// Tries of a request whose insert met a unique violation (another writer got there first).
const UNIQUE_VIOLATION_TRIES_MAX: usize = 3;

/// A write request.
pub(crate) struct Write {
    pub events: Vec<NewEvent>,
    pub single: Option<(DecisionId, ExpectedVersion)>,
    pub keep_recorded_at: bool,
    pub dry_run: bool,
}

/// The answer to one write request.
pub(crate) type Answer = Result<Result<Plan, Refusal>, StoreError>;

/// Runs a group of write requests in one transaction (group commit): each is checked against
/// the log as the ones before it in the group leave it, and each is atomic on its own (a
/// refused one writes nothing and does not disturb the others). Should the group's
/// transaction meet a unique violation, each request is run again alone.
pub(crate) async fn write_group(
    client: &mut Client,
    config: &str,
    clock: Option<&Clock>,
    requests: &[Write],
) -> Vec<Answer> {
    let mut answers: Vec<Option<Answer>> = Vec::with_capacity(requests.len());
    let mut checked: Vec<(usize, Vec<EventId>)> = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        match plan::ids(&request.events, request.single.map(|(d, _)| d)) {
            Ok(ids) => {
                answers.push(None);
                checked.push((i, ids));
            }
            Err(refusal) => answers.push(Some(Ok(Err(refusal)))),
        }
    }
    if !checked.is_empty() {
        let mut tries = 0;
        let mut reconnected = false;
        loop {
            tries += 1;
            let group: Vec<(&Write, &[EventId])> = checked
                .iter()
                .map(|(i, ids)| (&requests[*i], ids.as_slice()))
                .collect();
            match attempt(client, clock, &group).await {
                Ok(results) => {
                    for ((i, _), result) in checked.iter().zip(results) {
                        answers[*i] = Some(Ok(result));
                    }
                    break;
                }
                Err(Failure::Unique(error)) if tries < UNIQUE_VIOLATION_TRIES_MAX => {
                    tracing::warn!(%error, "a unique constraint fired under the head lock; checking again");
                    if checked.len() > 1 {
                        // Alone, one at a time: the others are not held up by the one that met it.
                        for (i, ids) in &checked {
                            let result = attempt(client, clock, &[(&requests[*i], ids.as_slice())])
                                .await
                                .map(|mut r| r.pop().expect("one answer for one request"))
                                .map_err(Failure::into_error);
                            answers[*i] = Some(result);
                        }
                        break;
                    }
                }
                Err(failure) => {
                    // The connection was lost: once, on a new one, the group again (its ids
                    // unchanged, so what had committed is answered as a duplicate).
                    if !reconnected
                        && crate::conn::lost(client).await
                        && let Ok((new, _ends_with_the_client)) =
                            crate::conn::connect_client(config).await
                    {
                        tracing::warn!(
                            "the writing connection was lost; running the group again on a new one"
                        );
                        *client = new;
                        reconnected = true;
                        continue;
                    }
                    let error = failure.into_error();
                    for (i, _) in &checked {
                        answers[*i] = Some(Err(crate::error::copy(&error)));
                    }
                    break;
                }
            }
        }
    }
    answers
        .into_iter()
        .map(|a| a.expect("every request is answered"))
        .collect()
}

enum Failure {
    /// A unique constraint fired: worth checking the request again.
    Unique(StoreError),
    Store(StoreError),
}

impl Failure {
    fn into_error(self) -> StoreError {
        match self {
            Failure::Unique(error) | Failure::Store(error) => error,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        Failure::Store(error)
    }
}

async fn attempt(
    client: &mut Client,
    clock: Option<&Clock>,
    group: &[(&Write, &[EventId])],
) -> Result<Vec<Result<Plan, Refusal>>, Failure> {
    let tx = client.transaction().await.map_err(db)?;
    let tail = lock_head(&tx).await?;
    let now = match clock {
        Some(clock) => {
            let now = clock();
            DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
        }
        None => tx
            .query_one("SELECT clock_timestamp()", &[])
            .await
            .map_err(db)?
            .get(0),
    };
    let now = tail.recorded_at.map_or(now, |last| now.max(last));
    let mut stored = read_touched(
        &tx,
        group.iter().flat_map(|(w, _)| w.events.iter()),
        group.iter().flat_map(|(_, ids)| ids.iter()),
    )
    .await?;
    let mut next = tail;
    let mut results = Vec::with_capacity(group.len());
    for (request, ids) in group {
        let planned = plan::plan(
            request.events.clone(),
            ids,
            Request {
                single: request.single,
                keep_recorded_at: request.keep_recorded_at,
                now,
            },
            &stored,
            next,
        )?;
        if let Ok(plan) = &planned
            && !request.dry_run
        {
            // The next request of the group sees this one's events as stored.
            for row in &plan.rows {
                let record = &row.record;
                stored.by_id.insert(record.event_id, record.clone());
                stored.existing.insert(record.decision_id);
                stored
                    .streams
                    .entry(record.decision_id)
                    .or_default()
                    .push(store::staging::stream_event(record));
            }
            next = plan.tail;
        }
        results.push(planned);
    }
    if next == tail {
        // Nothing to write (refusals, duplicates, dry runs): dropping rolls back.
        return Ok(results);
    }
    let rows: Vec<&plan::Row> = group
        .iter()
        .zip(&results)
        .filter(|((request, _), _)| !request.dry_run)
        .filter_map(|(_, result)| result.as_ref().ok())
        .flat_map(|plan| plan.rows.iter())
        .collect();
    match insert_rows(&tx, &rows).await {
        Ok(()) => {}
        Err(error) if is_unique_violation(&error) => return Err(Failure::Unique(db(error))),
        Err(error) => return Err(db(error).into()),
    }
    move_head(&tx, tail.position, next).await?;
    tx.commit().await.map_err(db)?;
    Ok(results)
}

/// Inserts `rows`, in chunks of [`INSERT_CHUNK_ROWS`].
pub(crate) async fn insert_rows(
    tx: &Transaction<'_>,
    rows: &[&plan::Row],
) -> Result<(), tokio_postgres::Error> {
    for chunk in rows.chunks(INSERT_CHUNK_ROWS) {
        let positions: Vec<i64> = chunk.iter().map(|r| to_i64(r.record.position)).collect();
        let decisions: Vec<Uuid> = chunk
            .iter()
            .map(|r| *r.record.decision_id.as_uuid())
            .collect();
        let versions: Vec<i64> = chunk.iter().map(|r| to_i64(r.record.version)).collect();
        let event_ids: Vec<Uuid> = chunk.iter().map(|r| *r.record.event_id.as_uuid()).collect();
        let recorded: Vec<DateTime<Utc>> = chunk.iter().map(|r| r.record.recorded_at).collect();
        let lines: Vec<&[u8]> = chunk.iter().map(|r| r.line.as_slice()).collect();
        let inserted = tx
            .execute(
                "INSERT INTO verkstall.events (position, decision_id, version, event_id, recorded_at, line)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::uuid[],
                                      $5::timestamptz[], $6::bytea[])",
                &[&positions, &decisions, &versions, &event_ids, &recorded, &lines],
            )
            .await?;
        assert_eq!(
            inserted,
            chunk.len() as u64,
            "every planned row is inserted"
        );
    }
    Ok(())
}

/// Moves the head row (locked by [`lock_head`]) from `from` to `next`, and sends the
/// notification that wakes every node's followers at commit.
pub(crate) async fn move_head(
    tx: &Transaction<'_>,
    from: u64,
    next: Tail,
) -> Result<(), StoreError> {
    let updated = tx
        .execute(
            "UPDATE verkstall.head SET position = $1, hash = $2, recorded_at = $3
             WHERE position = $4",
            &[
                &to_i64(next.position),
                &next.hash.as_slice(),
                &next.recorded_at,
                &to_i64(from),
            ],
        )
        .await
        .map_err(db)?;
    if updated != 1 {
        return Err(StoreError::Corrupt {
            position: from,
            detail: "the head row moved while this transaction held its lock".into(),
        });
    }
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&HEAD_CHANNEL, &next.position.to_string()],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// Locks the head row and reads it.
pub(crate) async fn lock_head(tx: &Transaction<'_>) -> Result<Tail, StoreError> {
    let row = tx
        .query_one(
            "SELECT position, hash, recorded_at FROM verkstall.head FOR UPDATE",
            &[],
        )
        .await
        .map_err(db)?;
    let position = to_u64(row.get(0));
    let hash: Vec<u8> = row.get(1);
    let hash: [u8; 32] = hash.try_into().map_err(|_| StoreError::Corrupt {
        position,
        detail: "the head row's hash is not 32 bytes".into(),
    })?;
    Ok(Tail {
        position,
        hash,
        recorded_at: row.get(2),
    })
}

/// What the request touches: stored events with its ids, the streams it writes to, and which
/// decisions named by its `replaces` exist.
async fn read_touched<'a>(
    tx: &Transaction<'_>,
    events: impl Iterator<Item = &'a NewEvent> + Clone,
    ids: impl Iterator<Item = &'a EventId>,
) -> Result<Stored, StoreError> {
    let id_uuids: Vec<Uuid> = ids.map(|id| *id.as_uuid()).collect();
    let mut stored = Stored::default();
    for row in tx
        .query(
            "SELECT position, line FROM verkstall.events WHERE event_id = ANY($1)",
            &[&id_uuids],
        )
        .await
        .map_err(db)?
    {
        let event = store::decode_line(to_u64(row.get(0)), row.get(1))?;
        stored.by_id.insert(event.event_id, event);
    }
    let decisions: Vec<Uuid> = events
        .clone()
        .map(|e| *e.decision_id.as_uuid())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut streams: HashMap<DecisionId, Vec<StreamEvent>> = HashMap::new();
    for row in tx
        .query(
            "SELECT position, line FROM verkstall.events WHERE decision_id = ANY($1)
             ORDER BY decision_id, version",
            &[&decisions],
        )
        .await
        .map_err(db)?
    {
        let event = store::decode_line(to_u64(row.get(0)), row.get(1))?;
        let stream = streams.entry(event.decision_id).or_default();
        if event.version != stream.len() as u64 + 1 {
            return Err(StoreError::Corrupt {
                position: event.position,
                detail: format!(
                    "version {} of decision {} follows version {}",
                    event.version,
                    event.decision_id,
                    stream.len()
                ),
            });
        }
        stream.push(store::staging::stream_event(&event));
    }
    stored.streams = streams;
    let replaced: Vec<Uuid> = events
        .filter_map(|e| match &e.data {
            EventData::DecisionGranted(grant) => grant.replaces.map(|d| *d.as_uuid()),
            _ => None,
        })
        .collect();
    if !replaced.is_empty() {
        for row in tx
            .query(
                "SELECT DISTINCT decision_id FROM verkstall.events WHERE decision_id = ANY($1)",
                &[&replaced],
            )
            .await
            .map_err(db)?
        {
            stored.existing.insert(DecisionId::from_uuid(row.get(0)));
        }
    }
    Ok(stored)
}
