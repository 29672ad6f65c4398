//! Checking a request against the log as stored, in memory: the pure half of an append or an
//! import. The transaction (`tx.rs`) locks the head, reads what a request touches, and hands it
//! here; whatever this answers is what gets written, or the refusal.
//!
//! The checks and their order are those of the embedded store's writer (`store/src/writer.rs`),
//! so both engines refuse the same request the same way (the conformance suite compares them):
//! ids (given or generated, each once), idempotency by `event_id`, the expected version,
//! `recorded_at`, the §6 rules stream by stream with the new events in their place, then
//! positions, versions and the hash chain in request order.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::rules::{StreamEvent, check_append};
use domain::time::business_date;
use domain::{DecisionId, EventData, EventId, NewEvent, RecordedEvent};
use store::{
    AppendedEvent, ExpectedVersion, Imported, Refusal, RefusalKind, StoreError, chain_hash,
    split_stored_line,
};

use crate::APPEND_EVENTS_MAX;

/// The head of the log as the transaction found it (locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    pub position: u64,
    pub hash: [u8; 32],
    pub recorded_at: Option<DateTime<Utc>>,
}

/// What the log holds that a request touches, read under the head lock.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    /// Every stored event whose id the request names (given ids only).
    pub by_id: HashMap<EventId, RecordedEvent>,
    /// Every stream the request writes to, in version order (absent = empty).
    pub streams: HashMap<DecisionId, Vec<RecordedEvent>>,
    /// The decisions named by a `replaces` of the request that have a stream.
    pub existing: HashSet<DecisionId>,
}

/// One event ready to insert: its record and its stored line (canonical JSON, hash last).
#[derive(Debug)]
pub(crate) struct Row {
    pub record: RecordedEvent,
    pub line: Vec<u8>,
}

/// A request that passed every check.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Each submitted event, in the order submitted (stored or to be written).
    pub events: Vec<AppendedEvent>,
    /// The events to write, in position order.
    pub rows: Vec<Row>,
    /// The head after writing them.
    pub tail: Tail,
    /// For a one-stream append: the stream's version afterwards.
    pub version: u64,
    /// Events already stored with the same content.
    pub duplicates: u64,
    /// Decisions written to.
    pub decisions: u64,
}

impl Plan {
    pub(crate) fn imported(&self) -> Imported {
        Imported {
            appended: self.rows.len() as u64,
            duplicates: self.duplicates,
            decisions: self.decisions,
            first_position: self.rows.first().map(|r| r.record.position),
            last_position: self.rows.last().map(|r| r.record.position),
        }
    }
}

fn at(index: usize, kind: RefusalKind) -> Refusal {
    Refusal {
        index: Some(index),
        kind,
    }
}

fn whole(kind: RefusalKind) -> Refusal {
    Refusal { index: None, kind }
}

/// The ids of a request, given or generated, refusing one that appears twice and (for a
/// one-stream append) an event of another decision. Needed before reading, to look the ids up.
pub(crate) fn ids(
    events: &[NewEvent],
    single: Option<DecisionId>,
) -> Result<Vec<EventId>, Refusal> {
    if events.is_empty() {
        return Err(whole(RefusalKind::Invalid(
            "the request holds no events".into(),
        )));
    }
    if single.is_some() && events.len() > APPEND_EVENTS_MAX {
        return Err(whole(RefusalKind::Invalid(format!(
            "an append holds at most {APPEND_EVENTS_MAX} events; use an import for more"
        ))));
    }
    let mut ids = Vec::with_capacity(events.len());
    let mut seen = HashSet::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        if let Some(decision_id) = single
            && event.decision_id != decision_id
        {
            return Err(at(
                i,
                RefusalKind::Invalid(format!(
                    "the event belongs to decision {}, not to {decision_id}",
                    event.decision_id
                )),
            ));
        }
        let id = event
            .event_id
            .unwrap_or_else(|| EventId::from_uuid(uuid::Uuid::new_v4()));
        if !seen.insert(id) {
            return Err(at(
                i,
                RefusalKind::Invalid(format!("event id {id} appears twice in the request")),
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// What a request asks for, beside its events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request {
    /// A one-stream append: the decision and the expected version; `None` for an import.
    pub single: Option<(DecisionId, ExpectedVersion)>,
    /// Keep each event's `recorded_at` (historical import).
    pub keep_recorded_at: bool,
    /// The store's time for new events, already not earlier than the head's.
    pub now: DateTime<Utc>,
}

/// Checks a request whole against what is stored and, unless refused, plans its rows.
/// `Err` only when what is stored does not read back as the store writes it.
pub(crate) fn plan(
    events: Vec<NewEvent>,
    ids: &[EventId],
    request: Request,
    stored: &Stored,
    tail: Tail,
) -> Result<Result<Plan, Refusal>, StoreError> {
    let Request {
        single,
        keep_recorded_at,
        now,
    } = request;
    debug_assert_eq!(ids.len(), events.len());
    let empty = Vec::new();
    let stream = |d: &DecisionId| stored.streams.get(d).unwrap_or(&empty);
    // Idempotency: an id already stored with the same content is not written again.
    let mut duplicate_of: Vec<Option<AppendedEvent>> = vec![None; events.len()];
    for (i, event) in events.iter().enumerate() {
        if let Some(found) = stored.by_id.get(&ids[i]) {
            if !same_content(found, event) {
                return Ok(Err(at(
                    i,
                    RefusalKind::EventIdReused {
                        event_id: ids[i],
                        position: found.position,
                    },
                )));
            }
            duplicate_of[i] = Some(AppendedEvent {
                event_id: ids[i],
                position: found.position,
                version: found.version,
            });
        }
    }
    let fresh: Vec<usize> = (0..events.len())
        .filter(|&i| duplicate_of[i].is_none())
        .collect();
    // Expected version (a fully repeated request is answered as it was the first time).
    if let Some((decision_id, expected)) = single {
        let actual = stream(&decision_id).len() as u64;
        if fresh.is_empty() {
            let original = duplicate_of
                .iter()
                .flatten()
                .map(|e| e.version)
                .max()
                .unwrap_or(actual);
            return Ok(Ok(Plan {
                duplicates: events.len() as u64,
                events: duplicate_of.into_iter().flatten().collect(),
                rows: Vec::new(),
                tail,
                version: original,
                decisions: 1,
            }));
        }
        let matches = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(v) => v == actual,
        };
        if !matches {
            return Ok(Err(whole(RefusalKind::Conflict {
                decision_id,
                expected,
                actual,
            })));
        }
    }
    // recorded_at: the store's clock, or the kept history, never going backwards.
    let mut recorded = vec![now; events.len()];
    let mut last = tail.recorded_at;
    for &i in &fresh {
        let moment = if keep_recorded_at {
            match events[i].recorded_at {
                Some(moment) => moment,
                None => {
                    return Ok(Err(at(
                        i,
                        RefusalKind::Invalid(
                            "recorded_at is missing: a historical import keeps every event's recorded_at".into(),
                        ),
                    )));
                }
            }
        } else {
            now
        };
        if keep_recorded_at && moment > now {
            return Ok(Err(at(
                i,
                RefusalKind::Invalid(format!(
                    "recorded_at {} is in the future: history can only be imported up to now ({})",
                    domain::event::format_instant(&moment),
                    domain::event::format_instant(&now)
                )),
            )));
        }
        if let Some(previous) = last
            && moment < previous
        {
            return Ok(Err(at(
                i,
                RefusalKind::Invalid(format!(
                    "recorded_at {} is earlier than the previous event's {}",
                    domain::event::format_instant(&moment),
                    domain::event::format_instant(&previous)
                )),
            )));
        }
        last = Some(moment);
        recorded[i] = moment;
    }
    // The §6 rules, stream by stream, with the new events in their place.
    let mut by_stream: Vec<(DecisionId, Vec<usize>)> = Vec::new();
    let mut slot: HashMap<DecisionId, usize> = HashMap::new();
    for &i in &fresh {
        let d = events[i].decision_id;
        let index = *slot.entry(d).or_insert_with(|| {
            by_stream.push((d, Vec::new()));
            by_stream.len() - 1
        });
        by_stream[index].1.push(i);
    }
    let mut known = HashSet::new();
    for &i in &fresh {
        if let EventData::DecisionGranted(grant) = &events[i].data
            && let Some(replaced) = grant.replaces
            && (slot.contains_key(&replaced)
                || stored.existing.contains(&replaced)
                || !stream(&replaced).is_empty())
        {
            known.insert(replaced);
        }
    }
    let index_of: HashMap<EventId, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for (decision_id, indices) in &by_stream {
        let existing = stream(decision_id);
        let views: Vec<StreamEvent<'_>> = existing.iter().map(stream_event).collect();
        let new: Vec<StreamEvent<'_>> = indices
            .iter()
            .map(|&i| StreamEvent {
                event_id: ids[i],
                occurred_on: events[i].occurred_on,
                recorded_on: business_date(recorded[i]),
                data: &events[i].data,
            })
            .collect();
        if let Err(violation) = check_append(*decision_id, &views, &new, &|d| known.contains(&d)) {
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
    let mut versions: HashMap<DecisionId, u64> = by_stream
        .iter()
        .map(|(d, _)| (*d, stream(d).len() as u64))
        .collect();
    let mut next = tail;
    let mut rows = Vec::with_capacity(fresh.len());
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
            position: next.position + 1,
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
        let hash = chain_hash(&next.hash, canonical.as_bytes());
        record.hash = hex(&hash);
        let line = record.to_json().into_bytes();
        // The line must split back into exactly what was hashed: the chain covers the bytes
        // as stored, and `verify` of either engine re-reads them so.
        match split_stored_line(&line) {
            Some((covered, carried)) if covered == canonical.as_bytes() && carried == hash => {}
            _ => {
                return Err(StoreError::Corrupt {
                    position: record.position,
                    detail: "the canonical line does not carry its hash last".into(),
                });
            }
        }
        bytes += line.len();
        next = Tail {
            position: record.position,
            hash,
            recorded_at: Some(record.recorded_at),
        };
        results[i] = Some(AppendedEvent {
            event_id: record.event_id,
            position: record.position,
            version: record.version,
        });
        rows.push(Row { record, line });
    }
    if single.is_some() && bytes > crate::APPEND_BYTES_MAX {
        return Ok(Err(whole(RefusalKind::Invalid(format!(
            "the events take {bytes} bytes; an append holds at most {}",
            crate::APPEND_BYTES_MAX
        )))));
    }
    Ok(Ok(Plan {
        version: single.map_or(0, |(d, _)| versions.get(&d).copied().unwrap_or(0)),
        duplicates: (results.len() - rows.len()) as u64,
        decisions: by_stream.len() as u64,
        events: results
            .into_iter()
            .map(|r| r.expect("every event is stored or planned"))
            .collect(),
        rows,
        tail: next,
    }))
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
/// The embedded store's writer has the same (private) function; both must agree.
fn same_content(stored: &RecordedEvent, new: &NewEvent) -> bool {
    stored.decision_id == new.decision_id
        && stored.occurred_on == new.occurred_on
        && stored.actor == new.actor
        && stored.data == new.data
}

/// Lowercase hex, as the stored `hash` field is written.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(out, "{b:02x}").expect("writing to a String cannot fail");
    }
    out
}
