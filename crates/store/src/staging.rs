//! Checking a request against the log and planning what it writes: the one place where an
//! append or an import is judged, for every store. The embedded writer
//! (`writer.rs`) and the PostgreSQL store (`store_postgres::plan`) differ only in how they find
//! what is stored — the writer reads its key-value layer and caches, PostgreSQL reads under its
//! head lock — and hand that in as a [`Stored`].
//!
//! The checks, in order: the request's size and its ids (given or generated, each once; for a
//! one-stream append, every event of that stream); idempotency by `event_id`; the expected
//! version; `recorded_at`; the §6 rules stream by stream with the new events in their place;
//! then positions, versions and the hash chain, in request order. The first check that fails
//! is the refusal, naming the event it concerns.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::rules::{StreamEvent, check_append};
use domain::time::business_date;
use domain::{DecisionId, EventData, EventId, NewEvent, RecordedEvent};

use crate::api::{AppendedEvent, ExpectedVersion, Imported, Refusal, RefusalKind, StoreError};
use crate::chain::{chain_hash, encode_hex, stored_line};
use crate::layout::Tail;
use crate::writer::{APPEND_BYTES_MAX, APPEND_EVENTS_MAX};

/// What is stored, as a request needs it: looked up by the store that plans the request.
pub trait Stored {
    /// The stored event with this id, if any.
    fn event(&mut self, id: EventId) -> Result<Option<RecordedEvent>, StoreError>;
    /// A decision's stored events in version order, as the rules see them (empty when it has
    /// none).
    fn stream(&mut self, decision_id: DecisionId) -> Result<&[StreamEvent], StoreError>;
    /// Whether a decision has a stream (what a `replaces` must name).
    fn has_stream(&mut self, decision_id: DecisionId) -> Result<bool, StoreError> {
        Ok(!self.stream(decision_id)?.is_empty())
    }
}

/// What a request asks for, beside its events.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// A one-stream append: the decision and the expected version; `None` for an import.
    pub single: Option<(DecisionId, ExpectedVersion)>,
    /// Keep each event's `recorded_at` (a historical import).
    pub keep_recorded_at: bool,
    /// The store's time for new events, already not earlier than the head's.
    pub now: DateTime<Utc>,
}

/// One event ready to write.
#[derive(Debug)]
pub struct Row {
    /// The event as stored.
    pub record: RecordedEvent,
    /// Its stored line: canonical JSON with `hash` last, the bytes the chain covers.
    pub line: Vec<u8>,
    /// Its chain hash.
    pub hash: [u8; 32],
}

/// A request that passed every check.
#[derive(Debug)]
pub struct Plan {
    /// Each submitted event, in the order submitted (stored already, or to be written).
    pub events: Vec<AppendedEvent>,
    /// The events to write, in position order.
    pub rows: Vec<Row>,
    /// The head after writing them.
    pub tail: Tail,
    /// For a one-stream append: the stream's version afterwards (0 for an import).
    pub version: u64,
    /// Events already stored with the same content.
    pub duplicates: u64,
    /// Decisions written to.
    pub decisions: u64,
}

impl Plan {
    /// What an import of this plan reports.
    pub fn imported(&self) -> Imported {
        Imported {
            appended: self.rows.len() as u64,
            duplicates: self.duplicates,
            decisions: self.decisions,
            first_position: self.rows.first().map(|r| r.record.position),
            last_position: self.rows.last().map(|r| r.record.position),
        }
    }
}

/// The ids of a request, given or generated, refusing an empty or oversized append, an id that
/// appears twice and (for a one-stream append) an event of another decision. A store that
/// reads ahead looks these ids up before [`plan`].
pub fn request_ids(
    events: &[NewEvent],
    single: Option<DecisionId>,
) -> Result<Vec<EventId>, Refusal> {
    if events.is_empty() {
        return Err(Refusal::whole(RefusalKind::Invalid(
            "the request holds no events".into(),
        )));
    }
    if single.is_some() && events.len() > APPEND_EVENTS_MAX {
        return Err(Refusal::whole(RefusalKind::Invalid(format!(
            "an append holds at most {APPEND_EVENTS_MAX} events; use an import for more"
        ))));
    }
    let mut ids = Vec::with_capacity(events.len());
    let mut seen = HashSet::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        if let Some(decision_id) = single
            && event.decision_id != decision_id
        {
            return Err(Refusal::at(
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
            return Err(Refusal::at(
                i,
                RefusalKind::Invalid(format!("event id {id} appears twice in the request")),
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Checks a request whole against what is stored after `tail` and, unless refused, plans its
/// rows. `ids` are [`request_ids`] of `events`. `Err` only when what is stored cannot be read.
pub fn plan(
    events: Vec<NewEvent>,
    ids: &[EventId],
    request: Request,
    tail: Tail,
    stored: &mut dyn Stored,
) -> Result<Result<Plan, Refusal>, StoreError> {
    let Request {
        single,
        keep_recorded_at,
        now,
    } = request;
    debug_assert_eq!(ids.len(), events.len());
    // Idempotency: an id already stored with the same content is not written again.
    let mut duplicate_of: Vec<Option<AppendedEvent>> = vec![None; events.len()];
    for (i, event) in events.iter().enumerate() {
        if let Some(found) = stored.event(ids[i])? {
            if !same_content(&found, event) {
                return Ok(Err(Refusal::at(
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
        let actual = stored.stream(decision_id)?.len() as u64;
        if fresh.is_empty() {
            // The version that append left the stream at.
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
            return Ok(Err(Refusal::whole(RefusalKind::Conflict {
                decision_id,
                expected,
                actual,
            })));
        }
    }
    let recorded = match recorded_at(&events, &fresh, keep_recorded_at, now, tail) {
        Ok(recorded) => recorded,
        Err(refusal) => return Ok(Err(refusal)),
    };
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
            && (slot.contains_key(&replaced) || stored.has_stream(replaced)?)
        {
            known.insert(replaced);
        }
    }
    let index_of: HashMap<EventId, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut versions: HashMap<DecisionId, u64> = HashMap::with_capacity(by_stream.len());
    for (decision_id, indices) in &by_stream {
        let existing = stored.stream(*decision_id)?;
        versions.insert(*decision_id, existing.len() as u64);
        let new: Vec<StreamEvent> = indices
            .iter()
            .map(|&i| {
                StreamEvent::of(
                    ids[i],
                    events[i].occurred_on,
                    business_date(recorded[i]),
                    &events[i].data,
                )
            })
            .collect();
        if let Err(violation) = check_append(*decision_id, existing, &new, &|d| known.contains(&d))
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
        let line = stored_line(canonical.as_bytes(), &hash);
        record.hash = encode_hex(&hash);
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
        rows.push(Row { record, line, hash });
    }
    if single.is_some() && bytes > APPEND_BYTES_MAX {
        return Ok(Err(Refusal::whole(RefusalKind::Invalid(format!(
            "the events take {bytes} bytes; an append holds at most {APPEND_BYTES_MAX}"
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

/// Each fresh event's `recorded_at`: the store's clock, or the kept history, never going
/// backwards from `tail` along the request.
fn recorded_at(
    events: &[NewEvent],
    fresh: &[usize],
    keep_recorded_at: bool,
    now: DateTime<Utc>,
    tail: Tail,
) -> Result<Vec<DateTime<Utc>>, Refusal> {
    let mut recorded = vec![now; events.len()];
    let mut last = tail.recorded_at;
    for &i in fresh {
        let moment = if keep_recorded_at {
            events[i].recorded_at.ok_or_else(|| {
                Refusal::at(
                    i,
                    RefusalKind::Invalid(
                        "recorded_at is missing: a historical import keeps every event's \
                         recorded_at"
                            .into(),
                    ),
                )
            })?
        } else {
            now
        };
        if keep_recorded_at && moment > now {
            return Err(Refusal::at(
                i,
                RefusalKind::Invalid(format!(
                    "recorded_at {} is in the future: history can only be imported up to now ({})",
                    domain::event::format_instant(&moment),
                    domain::event::format_instant(&now)
                )),
            ));
        }
        if let Some(previous) = last
            && moment < previous
        {
            return Err(Refusal::at(
                i,
                RefusalKind::Invalid(format!(
                    "recorded_at {} is earlier than the previous event's {}",
                    domain::event::format_instant(&moment),
                    domain::event::format_instant(&previous)
                )),
            ));
        }
        last = Some(moment);
        recorded[i] = moment;
    }
    Ok(recorded)
}

/// A stored event as the rules see it.
pub fn stream_event(event: &RecordedEvent) -> StreamEvent {
    StreamEvent::of(
        event.event_id,
        event.occurred_on,
        business_date(event.recorded_at),
        &event.data,
    )
}

/// Whether a stored event and a submitted one say the same thing (`recorded_at` aside).
fn same_content(stored: &RecordedEvent, new: &NewEvent) -> bool {
    stored.decision_id == new.decision_id
        && stored.occurred_on == new.occurred_on
        && stored.actor == new.actor
        && stored.data == new.data
}
