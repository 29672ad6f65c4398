//! The baseline a team would build instead of verkstall: the event-store shape most .NET and
//! Java event stores use — one PostgreSQL table with a global sequence and a JSONB payload,
//! optimistic concurrency by a unique `(stream_id, version)` — written and read through a real
//! client (tokio-postgres), with `synchronous_commit = on`.
//!
//! It does what such a store does and no more: no hash chain, no §6 rules, no `event_id`
//! idempotency, no gap-free positions (a failed insert burns a sequence value). Its payload is
//! the event as sent on the wire (spec §3); reading decodes it with the domain's own parser
//! into the same [`RecordedEvent`]s verkstall's stores give, so the same fold runs on both.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{DecisionId, NewEvent, RecordedEvent};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

use crate::Error;

/// The table, as the common event stores create it.
const CREATE_TABLE: &str = "
CREATE TABLE events (
    position    bigserial PRIMARY KEY,
    stream_id   uuid NOT NULL,
    version     int NOT NULL,
    type        text NOT NULL,
    data        jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
)";

/// One event appended; the unique constraint refuses a stale expected version.
const APPEND: &str =
    "INSERT INTO events (stream_id, version, type, data) VALUES ($1, $2, $3, $4::text::jsonb)";

/// Many events of a load, kept in the order given.
const LOAD: &str = "
INSERT INTO events (stream_id, version, type, data, recorded_at)
SELECT s, v, t, d::jsonb, r
FROM unnest($1::uuid[], $2::int4[], $3::text[], $4::text[], $5::timestamptz[])
    WITH ORDINALITY AS x(s, v, t, d, r, n)
ORDER BY n";

/// A page of the log, in position order.
const READ: &str = "SELECT position, version, recorded_at, data::text FROM events WHERE position > $1 ORDER BY position LIMIT $2";

/// Connections of the baseline's pool, at most: concurrent writers beyond it share connections
/// (their statements pipelined), as requests share a pool in an application server.
pub const POOL_CONNECTIONS_MAX: usize = 32;

/// A connection to the baseline's database.
async fn connect(config: &str) -> Result<Client, Error> {
    let (client, connection) = tokio_postgres::connect(config, NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            eprintln!("bench-compare: a baseline connection ended: {error}");
        }
    });
    // The server's default, said out loud: a commit returns only once its WAL is flushed.
    client.batch_execute("SET synchronous_commit = on").await?;
    Ok(client)
}

/// The baseline on one database: a pool of connections with the append statement prepared.
pub struct Baseline {
    pool: Vec<(Client, Statement)>,
}

impl Baseline {
    /// Creates the table in the (empty) database at `config` and opens `connections` connections.
    pub async fn create(config: &str, connections: usize) -> Result<Baseline, Error> {
        let first = connect(config).await?;
        first.batch_execute(CREATE_TABLE).await?;
        let mut pool = Vec::new();
        let mut spare = Some(first);
        for _ in 0..connections.clamp(1, POOL_CONNECTIONS_MAX) {
            let client = match spare.take() {
                Some(client) => client,
                None => connect(config).await?,
            };
            let append = client.prepare(APPEND).await?;
            pool.push((client, append));
        }
        Ok(Baseline { pool })
    }

    /// Appends one event to its stream at `version` (the expected version + 1) on the pool's
    /// connection `slot` (taken modulo the pool's size). `Ok(false)`: the unique constraint
    /// refused it, another writer was first.
    pub async fn append(&self, slot: usize, version: u64, event: &NewEvent) -> Result<bool, Error> {
        let (client, statement) = &self.pool[slot % self.pool.len()];
        let version = i32::try_from(version).map_err(|_| "a stream version beyond i32")?;
        let payload = serde_json::to_string(event)?;
        let inserted = client
            .execute(
                statement,
                &[
                    event.decision_id.as_uuid(),
                    &version,
                    &event.event_type().as_str(),
                    &payload,
                ],
            )
            .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Loads `events` (a historical import: each keeps its `recorded_at`) in one transaction,
    /// `statement_rows` rows per statement; `versions` carries each stream's version across
    /// calls.
    pub async fn load(
        &mut self,
        events: &[NewEvent],
        statement_rows: usize,
        versions: &mut HashMap<DecisionId, i32>,
    ) -> Result<(), Error> {
        let (client, _) = &mut self.pool[0];
        let transaction = client.transaction().await?;
        let load = transaction.prepare(LOAD).await?;
        for chunk in events.chunks(statement_rows.max(1)) {
            let mut streams = Vec::with_capacity(chunk.len());
            let mut numbers = Vec::with_capacity(chunk.len());
            let mut types = Vec::with_capacity(chunk.len());
            let mut payloads = Vec::with_capacity(chunk.len());
            let mut recorded = Vec::with_capacity(chunk.len());
            for event in chunk {
                let version = versions.entry(event.decision_id).or_insert(0);
                *version += 1;
                streams.push(*event.decision_id.as_uuid());
                numbers.push(*version);
                types.push(event.event_type().as_str());
                let at: DateTime<Utc> = event
                    .recorded_at
                    .ok_or("a loaded event carries its recorded_at")?;
                recorded.push(at);
                let mut wire = event.clone();
                wire.recorded_at = None;
                payloads.push(serde_json::to_string(&wire)?);
            }
            transaction
                .execute(&load, &[&streams, &numbers, &types, &payloads, &recorded])
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Rows in the table.
    pub async fn count(&self) -> Result<u64, Error> {
        let (client, _) = &self.pool[0];
        let row = client.query_one("SELECT count(*) FROM events", &[]).await?;
        Ok(u64::try_from(row.get::<_, i64>(0))?)
    }

    /// Bytes the table and its indexes (and TOAST) take: `pg_total_relation_size`.
    pub async fn disk_bytes(&self) -> Result<u64, Error> {
        let (client, _) = &self.pool[0];
        let row = client
            .query_one("SELECT pg_total_relation_size('events')::bigint", &[])
            .await?;
        Ok(u64::try_from(row.get::<_, i64>(0))?)
    }
}

/// A reading connection: pages of the log in position order, decoded into the domain's events.
#[derive(Clone)]
pub struct Reader {
    client: Arc<Client>,
    read: Statement,
}

impl Reader {
    /// Opens a connection for reading the database at `config`.
    pub async fn open(config: &str) -> Result<Reader, Error> {
        let client = connect(config).await?;
        let read = client.prepare(READ).await?;
        Ok(Reader {
            client: Arc::new(client),
            read,
        })
    }

    /// Up to `limit` events after position `after`, decoded from their JSONB payload with the
    /// domain's parser. The baseline's positions are its sequence's values.
    pub async fn page(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, Error> {
        let after = i64::try_from(after)?;
        let limit = i64::try_from(limit)?;
        let rows = self.client.query(&self.read, &[&after, &limit]).await?;
        rows.iter()
            .map(|row| {
                let position = u64::try_from(row.try_get::<_, i64>(0)?)?;
                let version = u64::try_from(row.try_get::<_, i32>(1)?)?;
                let recorded_at: DateTime<Utc> = row.try_get(2)?;
                let payload: &str = row.try_get(3)?;
                let event = NewEvent::from_json(payload)
                    .map_err(|e| format!("the baseline's event at position {position}: {e}"))?;
                Ok(RecordedEvent {
                    position,
                    version,
                    recorded_at,
                    event_id: event.event_id.ok_or_else(|| {
                        format!("the baseline's event at position {position} has no event_id")
                    })?,
                    decision_id: event.decision_id,
                    occurred_on: event.occurred_on,
                    actor: event.actor,
                    data: event.data,
                    hash: String::new(),
                })
            })
            .collect()
    }
}
