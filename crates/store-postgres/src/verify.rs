//! `verify` on PostgreSQL, and the check every copied log passes: re-reads the whole log and
//! checks what the store promises — positions contiguous from 1, every event parsing strictly
//! and saying the position it is stored at, every hash link over the bytes as stored,
//! `recorded_at` never going back, stream versions contiguous, each row's columns agreeing with
//! its stored event (they are the indexes readers use), the head row, and the §6 rules of every
//! stream. It names the first damaged position, as the embedded store's `verify` does.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{DecisionId, RecordedEvent};
use store::{
    Damage, GENESIS_HASH, StoreError, VerifyReport, chain_hash, decode_line, decode_stored_line,
    split_stored_line,
};
use uuid::Uuid;

use crate::error::db;
use crate::{PgStore, read, to_i64, to_u64};

/// Events read per statement while verifying.
const VERIFY_PAGE_EVENTS: usize = 4096;

/// The walk along the chain in position order: each stored line is checked against what came
/// before it. Used by [`PgStore::verify`] and on the source of [`PgStore::copy_from`].
#[derive(Debug)]
pub(crate) struct ChainWalk {
    /// The position the next line must have.
    next: u64,
    /// The hash of the last line checked ([`GENESIS_HASH`] before the first).
    pub hash: [u8; 32],
    /// The `recorded_at` of the last line checked.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Each stream's version so far.
    versions: HashMap<DecisionId, u64>,
}

impl ChainWalk {
    pub(crate) fn new() -> ChainWalk {
        ChainWalk {
            next: 1,
            hash: GENESIS_HASH,
            recorded_at: None,
            versions: HashMap::new(),
        }
    }

    /// Checks the line stored at `position` and moves past it.
    pub(crate) fn check(&mut self, position: u64, line: &[u8]) -> Result<RecordedEvent, Damage> {
        let damage = |position, detail: &str| Damage {
            position,
            detail: detail.to_owned(),
        };
        if position != self.next {
            return Err(damage(self.next, "missing from the log"));
        }
        let event = decode_line(position, line).map_err(|error| Damage {
            position,
            detail: match error {
                StoreError::Corrupt { detail, .. } => detail,
                other => other.to_string(),
            },
        })?;
        let Some((canonical, carried)) = split_stored_line(line) else {
            return Err(damage(
                position,
                "the stored event does not end with its hash as the store writes it",
            ));
        };
        let computed = chain_hash(&self.hash, &canonical);
        if computed != carried {
            return Err(damage(
                position,
                "the hash does not match the event's bytes and the previous hash: the event was \
                 changed after it was written, or the chain is broken here",
            ));
        }
        if self.recorded_at.is_some_and(|p| event.recorded_at < p) {
            return Err(damage(
                position,
                "recorded_at is earlier than the previous event's",
            ));
        }
        let version = self.versions.entry(event.decision_id).or_insert(0);
        if event.version != *version + 1 {
            return Err(Damage {
                position,
                detail: format!(
                    "version {} follows version {} of decision {}",
                    event.version, version, event.decision_id
                ),
            });
        }
        *version += 1;
        self.hash = computed;
        self.recorded_at = Some(event.recorded_at);
        self.next += 1;
        Ok(event)
    }

    /// The decisions seen.
    pub(crate) fn decisions(&self) -> HashSet<DecisionId> {
        self.versions.keys().copied().collect()
    }

    /// The last hash, in hex.
    pub(crate) fn hash_hex(&self) -> String {
        store::encode_hex(&self.hash)
    }
}

impl PgStore {
    /// Re-reads and re-checks the whole log (module docs); `progress(done, total)` is called as
    /// it goes. `Ok(Err(damage))` names the first damaged position (0 for the head row); `Err`
    /// means the database failed. Reads the settled log (`read::settled`): a log that is being
    /// appended to is verified as far as it was settled when the verification began.
    pub async fn verify(
        &self,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Result<VerifyReport, Damage>, StoreError> {
        let horizon = read::settled(&*self.reader().await?, &self.reader.floor).await?;
        let total = horizon.settled;
        let damage = |position: u64, detail: &str| {
            Ok(Err(Damage {
                position,
                detail: detail.to_owned(),
            }))
        };
        let mut walk = ChainWalk::new();
        let mut after = 0u64;
        while after < total {
            let rows = self
                .reader()
                .await?
                .query(
                    "SELECT position, decision_id, version, event_id, recorded_at, line
                     FROM verkstall.events WHERE position > $1 AND position <= $2
                     ORDER BY position",
                    // The page's exact range, as `read::lines` reads it.
                    &[
                        &to_i64(after),
                        &to_i64(total.min(after + VERIFY_PAGE_EVENTS as u64)),
                    ],
                )
                .await
                .map_err(db)?;
            if rows.is_empty() {
                return damage(after + 1, "missing from the log");
            }
            for row in rows {
                let position = to_u64(row.get(0));
                let event = match walk.check(position, row.get(5)) {
                    Ok(event) => event,
                    Err(found) => return Ok(Err(found)),
                };
                let columns_agree = row.get::<_, Uuid>(1) == *event.decision_id.as_uuid()
                    && to_u64(row.get(2)) == event.version
                    && row.get::<_, Uuid>(3) == *event.event_id.as_uuid()
                    && row.get::<_, DateTime<Utc>>(4) == event.recorded_at;
                if !columns_agree {
                    return damage(
                        position,
                        "the row's columns (decision, version, event id, recorded_at) do not \
                         say what its stored event says",
                    );
                }
                after = position;
            }
            progress(after, total);
        }
        let head = self
            .reader()
            .await?
            .query_one(
                "SELECT position, hash, recorded_at FROM verkstall.head",
                &[],
            )
            .await
            .map_err(db)?;
        // A head beyond `total` was moved by appends since: those are not verified here.
        if to_u64(head.get(0)) == total
            && (head.get::<_, &[u8]>(1) != walk.hash.as_slice()
                || head.get::<_, Option<DateTime<Utc>>>(2) != walk.recorded_at)
        {
            return damage(
                total,
                "the head row (the commit point) does not match the last event",
            );
        }
        if let Err(found) = self.verify_rules(&walk.decisions(), total).await? {
            return Ok(Err(found));
        }
        Ok(Ok(VerifyReport {
            events: total,
            decisions: walk.decisions().len() as u64,
            head_hash: walk.hash_hex(),
        }))
    }

    /// The §6 rules of every stream at or below `upto`, read stream by stream in one ordered
    /// pass over the `(decision_id, version)` index.
    async fn verify_rules(
        &self,
        decisions: &HashSet<DecisionId>,
        upto: u64,
    ) -> Result<Result<(), Damage>, StoreError> {
        let mut last = (Uuid::nil(), 0i64);
        let mut stream: Vec<RecordedEvent> = Vec::new();
        loop {
            let rows = self
                .reader()
                .await?
                .query(
                    "SELECT position, line, decision_id, version FROM verkstall.events
                     WHERE (decision_id, version) > ($1, $2) AND position <= $3
                     ORDER BY decision_id, version LIMIT $4",
                    &[
                        &last.0,
                        &last.1,
                        &to_i64(upto),
                        &to_i64(VERIFY_PAGE_EVENTS as u64),
                    ],
                )
                .await
                .map_err(db)?;
            let Some(end) = rows.last() else { break };
            last = (end.get(2), end.get(3));
            for row in &rows {
                let event = decode_stored_line(to_u64(row.get(0)), row.get(1))?;
                if stream
                    .first()
                    .is_some_and(|e| e.decision_id != event.decision_id)
                {
                    if let Err(found) = store::check_stored_stream(&stream, decisions) {
                        return Ok(Err(found));
                    }
                    stream.clear();
                }
                stream.push(event);
            }
        }
        Ok(store::check_stored_stream(&stream, decisions))
    }
}
