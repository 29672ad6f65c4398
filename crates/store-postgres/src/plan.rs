//! Checking a request against the log as stored, in memory: the pure half of an append or an
//! import. The transaction (`tx.rs`) locks the head, reads what a request touches, and hands it
//! here; whatever this answers is what gets written, or the refusal.
//!
//! The checks themselves are the embedded store's, shared: [`store::staging`] judges a request
//! for every store, so both refuse the same request the same way. This module only adapts what
//! the transaction read ([`Stored`]) to it.

use std::collections::{HashMap, HashSet};

use domain::rules::StreamEvent;
use domain::{DecisionId, EventId, NewEvent, RecordedEvent};
use store::staging;
use store::{Refusal, StoreError};

pub(crate) use store::Tail;
pub(crate) use store::staging::{Plan, Request, Row};

/// What the log holds that a request touches, read under the head lock.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    /// Every stored event whose id the request names (given ids only).
    pub by_id: HashMap<EventId, RecordedEvent>,
    /// Every stream the request writes to, in version order, as the rules see it (absent =
    /// empty).
    pub streams: HashMap<DecisionId, Vec<StreamEvent>>,
    /// The decisions named by a `replaces` of the request that have a stream.
    pub existing: HashSet<DecisionId>,
}

impl staging::Stored for &Stored {
    fn event(&mut self, id: EventId) -> Result<Option<RecordedEvent>, StoreError> {
        Ok(self.by_id.get(&id).cloned())
    }

    fn stream(&mut self, decision_id: DecisionId) -> Result<&[StreamEvent], StoreError> {
        Ok(self.streams.get(&decision_id).map_or(&[], Vec::as_slice))
    }

    fn has_stream(&mut self, decision_id: DecisionId) -> Result<bool, StoreError> {
        Ok(self.existing.contains(&decision_id)
            || self
                .streams
                .get(&decision_id)
                .is_some_and(|stream| !stream.is_empty()))
    }
}

/// The ids of a request, given or generated ([`staging::request_ids`]). Needed before reading,
/// to look the ids up.
pub(crate) fn ids(
    events: &[NewEvent],
    single: Option<DecisionId>,
) -> Result<Vec<EventId>, Refusal> {
    staging::request_ids(events, single)
}

/// Checks a request whole against what is stored and, unless refused, plans its rows
/// ([`staging::plan`]). `Err` only when what is stored does not read back as the store writes it.
pub(crate) fn plan(
    events: Vec<NewEvent>,
    ids: &[EventId],
    request: Request,
    stored: &Stored,
    tail: Tail,
) -> Result<Result<Plan, Refusal>, StoreError> {
    staging::plan(events, ids, request, tail, &mut &*stored)
}
