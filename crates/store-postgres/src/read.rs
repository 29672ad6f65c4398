//! Reading the log in an order readers can trust: the visibility horizon.
//!
//! Every row carries the id of the transaction that wrote it (`tx`, an `xid8`). A reader takes
//! only the *settled* prefix of the log: positions below the first row whose `tx` is at or above
//! `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running anywhere in
//! the cluster. Every transaction that could still commit a row started at or after that
//! horizon, so nothing settled can ever be joined later by a row with a lower position.
//!
//! A reader that finds the horizon behind the committed head (someone's transaction is still
//! running) waits for it, in short growing steps, at most [`crate::SETTLE_WAIT_MAX`], and then
//! answers with the settled prefix alone: shorter, never with a hole. Nothing is ever skipped on
//! a timer; the wait only decides how fresh an answer is.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{DecisionId, RecordedEvent};
use store::{StoreError, decode_stored_line};
use tokio_postgres::Client;

use crate::error::db;

use crate::{SETTLE_WAIT_MAX, to_i64, to_u64};

/// The first pause while waiting for the horizon; it doubles up to [`SETTLE_STEP_MAX`].
const SETTLE_STEP_FIRST: Duration = Duration::from_millis(1);
/// The longest pause while waiting for the horizon.
pub(crate) const SETTLE_STEP_MAX: Duration = Duration::from_millis(50);

/// The head and the horizon, from one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Horizon {
    /// The committed head (the head row).
    pub committed: u64,
    /// Its `recorded_at`.
    pub committed_at: Option<DateTime<Utc>>,
    /// The last settled position: readers read up to here.
    pub settled: u64,
}

/// The head, its `recorded_at`, and the first event above `$1` not yet settled for readers.
pub(crate) const HORIZON_SQL: &str = "SELECT h.position, h.recorded_at,
        (SELECT min(e.position) FROM verkstall.events e
         WHERE e.position > $1
           AND e.tx >= pg_snapshot_xmin(pg_current_snapshot()))
     FROM verkstall.head h";

/// The head and the horizon now. `floor` is the highest position this reader has seen settled:
/// the first unsettled event lies above it, so the query looks only there.
///
/// Why that is exact: a transaction's id is below every later transaction's, so the oldest
/// running one — `pg_snapshot_xmin` — only ever moves forward. Every event at or below a position
/// once found settled had a transaction id below the xmin of then, so below every later xmin:
/// it can never be an event of `tx >= xmin` again. Without the bound, PostgreSQL plans the
/// `min(position)` as a walk of the whole primary key from position 1, filtering on `tx`: a
/// scan of the whole log on every read, which made a full replay grow with the square of the
/// log.
pub(crate) async fn horizon(client: &Client, floor: &AtomicU64) -> Result<Horizon, StoreError> {
    let above = i64::try_from(floor.load(Ordering::Acquire)).unwrap_or(i64::MAX);
    let row = client.query_one(HORIZON_SQL, &[&above]).await.map_err(db)?;
    let committed = to_u64(row.get(0));
    let unsettled: Option<i64> = row.get(2);
    let settled = unsettled.map_or(committed, |first| to_u64(first - 1).min(committed));
    floor.fetch_max(settled, Ordering::AcqRel);
    Ok(Horizon {
        committed,
        committed_at: row.get(1),
        settled,
    })
}

/// The horizon once it has reached the head committed when asked (read your own writes), or,
/// after [`SETTLE_WAIT_MAX`], as far as it got.
pub(crate) async fn settled(client: &Client, floor: &AtomicU64) -> Result<Horizon, StoreError> {
    let first = horizon(client, floor).await?;
    if first.settled >= first.committed {
        return Ok(first);
    }
    let started = tokio::time::Instant::now();
    let mut step = SETTLE_STEP_FIRST;
    loop {
        tokio::time::sleep(step).await;
        let now = horizon(client, floor).await?;
        if now.settled >= first.committed || started.elapsed() >= SETTLE_WAIT_MAX {
            if now.settled < first.committed {
                tracing::warn!(
                    settled = now.settled,
                    committed = first.committed,
                    "a long transaction holds the readers' horizon back"
                );
            }
            return Ok(now);
        }
        step = (step * 2).min(SETTLE_STEP_MAX);
    }
}

/// The last position at or below `upto` recorded at or before `as_of` (0 if none).
pub(crate) async fn position_as_of(
    client: &Client,
    upto: u64,
    as_of: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let row = client
        .query_opt(
            "SELECT position FROM verkstall.events
             WHERE recorded_at <= $1 AND position <= $2
             ORDER BY recorded_at DESC, position DESC LIMIT 1",
            &[&as_of, &to_i64(upto)],
        )
        .await
        .map_err(db)?;
    Ok(row.map_or(0, |r| to_u64(r.get(0))))
}

/// Up to `limit` events after `after`, at or below `upto`, checked to be contiguous.
pub(crate) async fn events(
    client: &Client,
    after: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    lines(client, after, upto, limit)
        .await?
        .into_iter()
        .map(|(position, line)| decode_stored_line(position, &line))
        .collect()
}

/// Up to `limit` stored lines after `after`, at or below `upto`, exactly as stored, checked to
/// be contiguous.
pub(crate) async fn lines(
    client: &Client,
    after: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    if after >= upto || limit == 0 {
        return Ok(Vec::new());
    }
    let limit = limit
        .min(crate::READ_PAGE_EVENTS_MAX)
        .min(usize::try_from(upto - after).unwrap_or(usize::MAX));
    // The exact range of the page (positions are contiguous), not `LIMIT` over everything up to
    // `upto`: with statistics that do not yet know a freshly loaded table, PostgreSQL planned
    // the latter as reading and sorting the whole rest of the log for every page.
    let rows = client
        .query(
            "SELECT position, line FROM verkstall.events
             WHERE position > $1 AND position <= $2 ORDER BY position",
            &[&to_i64(after), &to_i64(after + limit as u64)],
        )
        .await
        .map_err(db)?;
    let mut lines = Vec::with_capacity(rows.len());
    for (expected, row) in (after + 1..).zip(rows) {
        let position = to_u64(row.get(0));
        if position != expected {
            return Err(StoreError::Corrupt {
                position: expected,
                detail: "missing from the log".into(),
            });
        }
        lines.push((position, row.get(1)));
    }
    if lines.len() < limit {
        return Err(StoreError::Corrupt {
            position: after + lines.len() as u64 + 1,
            detail: "missing from the log".into(),
        });
    }
    Ok(lines)
}

/// One decision's events at or below `upto`, in version order.
pub(crate) async fn stream(
    client: &Client,
    decision_id: DecisionId,
    upto: u64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = client
        .query(
            "SELECT position, line FROM verkstall.events
             WHERE decision_id = $1 AND position <= $2 ORDER BY version",
            &[decision_id.as_uuid(), &to_i64(upto)],
        )
        .await
        .map_err(db)?;
    let mut events: Vec<RecordedEvent> = Vec::with_capacity(rows.len());
    for row in &rows {
        let event = decode_stored_line(to_u64(row.get(0)), row.get(1))?;
        if event.version != events.len() as u64 + 1 {
            return Err(StoreError::Corrupt {
                position: event.position,
                detail: format!(
                    "version {} of decision {decision_id} follows version {}",
                    event.version,
                    events.len()
                ),
            });
        }
        events.push(event);
    }
    Ok(events)
}

/// The `recorded_at` of the event at `position`.
pub(crate) async fn recorded_at(
    client: &Client,
    position: u64,
) -> Result<DateTime<Utc>, StoreError> {
    let row = client
        .query_opt(
            "SELECT recorded_at FROM verkstall.events WHERE position = $1",
            &[&to_i64(position)],
        )
        .await
        .map_err(db)?;
    row.map(|r| r.get(0)).ok_or_else(|| StoreError::Corrupt {
        position,
        detail: "missing from the log".into(),
    })
}
