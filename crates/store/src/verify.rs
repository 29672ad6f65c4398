//! `verify`: re-reads the whole log and checks everything the store promises — positions
//! contiguous, every event parsing strictly, every hash link, `recorded_at` never going back,
//! stream versions contiguous, the indexes, the commit point, and the §6 rules of every stream.
//! It names the first damaged position.
//!
//! The index tables must point at every event up to `meta/indexed`; above it, the index tail
//! (rebuilt from the log when the store opened) holds the entries, and an entry the tables hold
//! there anyway must point at the event too.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;

use domain::rules::check_append;
use domain::{DecisionId, RecordedEvent};

use crate::api::StoreError;
use crate::chain::{GENESIS_HASH, chain_hash_of_line, encode_hex};
use crate::embedded::{EmbeddedStore, decode_line};
use crate::index_tail;
use crate::layout::{
    EVENT_IDS, EVENTS, HEAD_KEY, META, Tail, decode_u64, position_key, read_stream_entry,
};
use crate::writer::read_stream_stored;

/// Events read per page while verifying.
const VERIFY_PAGE_EVENTS: usize = 4096;

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Decisions (streams) checked.
    pub decisions: u64,
    /// The hash of the last event (hex): publish it to anchor the record.
    pub head_hash: String,
}

/// The first damage found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: {detail}")]
pub struct Damage {
    /// The first damaged position (0 for the commit point or an index entry of no position).
    pub position: u64,
    /// What is wrong.
    pub detail: String,
}

impl EmbeddedStore {
    /// Re-reads and re-checks the whole log. `progress(done, total)` is called as it goes.
    /// `Ok(Err(damage))` names the first damaged position; `Err` means the storage itself failed.
    pub fn verify(
        &self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Result<VerifyReport, Damage>, StoreError> {
        let shared = self.shared();
        // Every acknowledged group applied, so the commit point read below is the last one.
        shared.readable();
        let kv = shared.kv.as_ref();
        let damage = |position: u64, detail: String| Ok(Err(Damage { position, detail }));
        // A flush while this runs moves entries from the tail to the tables: below the extent
        // read here, the tables must hold them; above it, either may.
        let indexed = index_tail::read(&shared.index).indexed();
        let Some(tail) = (match kv.get(META, HEAD_KEY)? {
            None => Some(Tail::EMPTY),
            Some(value) => Tail::decode(&value),
        }) else {
            return damage(0, "the commit point (meta/head) is unreadable".into());
        };
        let total = tail.position;
        let mut previous_hash = GENESIS_HASH;
        let mut previous_recorded = None;
        let mut versions: BTreeMap<DecisionId, u64> = BTreeMap::new();
        let mut expected = 1u64;
        let mut after = 0u64;
        while after < total {
            let page = kv.scan(
                EVENTS,
                Bound::Excluded(&position_key(after)),
                Bound::Included(&position_key(total)),
                VERIFY_PAGE_EVENTS,
            )?;
            if page.is_empty() {
                return damage(expected, "missing from the log".into());
            }
            for (key, line) in page {
                let position = decode_u64(&key).unwrap_or(0);
                if position != expected {
                    return damage(expected, "missing from the log".into());
                }
                let event = match decode_line(position, &line) {
                    Ok(event) => event,
                    Err(error) => return damage(position, error.to_string()),
                };
                let Some(computed) = chain_hash_of_line(&previous_hash, &line) else {
                    return damage(
                        position,
                        "the stored event is too short to carry a hash".into(),
                    );
                };
                if encode_hex(&computed) != event.hash {
                    return damage(
                        position,
                        "the hash does not match the event's bytes and the previous hash: the event was changed after it was written, or the chain is broken here".into(),
                    );
                }
                if previous_recorded.is_some_and(|p| event.recorded_at < p) {
                    return damage(
                        position,
                        "recorded_at is earlier than the previous event's".into(),
                    );
                }
                let version = versions.entry(event.decision_id).or_insert(0);
                if event.version != *version + 1 {
                    return damage(
                        position,
                        format!(
                            "version {} follows version {} of decision {}",
                            event.version, version, event.decision_id
                        ),
                    );
                }
                *version += 1;
                let in_tables = position <= indexed;
                let entry = read_stream_entry(kv, event.decision_id.as_bytes(), event.version)?;
                let entry = entry.as_deref().map(decode_u64);
                if entry.map_or(in_tables, |entry| entry != Some(position)) {
                    return damage(
                        position,
                        "the stream index does not point at this event".into(),
                    );
                }
                // The tail before the table, as every lookup reads them: a flush between the two
                // moves an entry from the first to the second, never the other way.
                let in_tail = index_tail::read(&shared.index)
                    .entries()
                    .position_of(event.event_id);
                let entry = kv.get(EVENT_IDS, event.event_id.as_bytes())?;
                let entry = entry.as_deref().map(decode_u64);
                if entry.map_or(in_tables, |entry| entry != Some(position))
                    || in_tail.is_some_and(|p| p != position)
                    || (!in_tables && entry.is_none() && in_tail.is_none())
                {
                    return damage(
                        position,
                        "the event id index does not point at this event".into(),
                    );
                }
                previous_hash = computed;
                previous_recorded = Some(event.recorded_at);
                expected += 1;
                after = position;
            }
            progress(after, total);
        }
        if tail.hash != previous_hash || tail.recorded_at != previous_recorded {
            return damage(
                total,
                "the commit point does not match the last event".into(),
            );
        }
        // The §6 rules, stream by stream, as they stand.
        let decisions: HashSet<DecisionId> = versions.keys().copied().collect();
        for &decision_id in versions.keys() {
            let stream = read_stream_stored(shared, decision_id, total)?;
            if let Some(misplaced) = (1..)
                .zip(&stream)
                .find(|(version, event)| {
                    event.version != *version || event.decision_id != decision_id
                })
                .map(|(_, event)| event.position)
                .or_else(|| {
                    let count = versions.get(&decision_id).copied().unwrap_or(0);
                    (stream.len() as u64 != count).then_some(0)
                })
            {
                return damage(
                    misplaced,
                    format!(
                        "the stream index of decision {decision_id} does not list its events in order"
                    ),
                );
            }
            if let Err(damaged) = check_stored_stream(&stream, &decisions) {
                return Ok(Err(damaged));
            }
        }
        Ok(Ok(VerifyReport {
            events: total,
            decisions: versions.len() as u64,
            head_hash: encode_hex(&previous_hash),
        }))
    }
}

/// One stored stream (in version order) against the §6 rules as it stands, `decisions` being
/// every decision of the log (what a `replaces` may name): the damage names the event that
/// breaks a rule. Every store's `verify` checks its streams with this.
pub fn check_stored_stream(
    stream: &[RecordedEvent],
    decisions: &HashSet<DecisionId>,
) -> Result<(), Damage> {
    let Some(first) = stream.first() else {
        return Ok(());
    };
    let views: Vec<_> = stream.iter().map(crate::staging::stream_event).collect();
    check_append(first.decision_id, &[], &views, &|d| decisions.contains(&d)).map_err(|violation| {
        Damage {
            position: stream
                .iter()
                .find(|e| e.event_id == violation.event_id)
                .map_or(0, |e| e.position),
            detail: format!("the stream breaks a rule: {violation}"),
        }
    })
}
