//! Filling a store with a demo run: in chunks, keeping `recorded_at`, into an empty store only.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use domain::{EventData, NewEvent};
use store::{EventStore, ImportOptions, Refusal, StoreError};

use crate::{DemoOptions, stream};

/// Events imported in one `import` call.
pub const IMPORT_CHUNK_EVENTS: usize = 50_000;

/// What a demo run holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Decisions (streams), replacing decisions included.
    pub decisions: u64,
    /// Events in all.
    pub events: u64,
    /// Events by type (`DecisionGranted`, `OrderSent`, …).
    pub by_type: BTreeMap<&'static str, u64>,
    /// Decisions by law (`SoL`, `LSS`).
    pub by_law: BTreeMap<&'static str, u64>,
    /// Decisions that replace an expired one.
    pub replacements: u64,
    /// When the first event was recorded.
    pub first_recorded_at: Option<DateTime<Utc>>,
    /// When the last event was recorded.
    pub last_recorded_at: Option<DateTime<Utc>>,
}

impl DemoSummary {
    /// The summary of `events`.
    pub fn of<'a>(events: impl IntoIterator<Item = &'a NewEvent>) -> DemoSummary {
        let mut summary = DemoSummary::default();
        for event in events {
            summary.add(event);
        }
        summary
    }

    /// Counts one more event.
    pub fn add(&mut self, event: &NewEvent) {
        self.events += 1;
        *self
            .by_type
            .entry(event.data.event_type().as_str())
            .or_default() += 1;
        if let EventData::DecisionGranted(grant) = &event.data {
            self.decisions += 1;
            *self.by_law.entry(grant.law.as_str()).or_default() += 1;
            if grant.replaces.is_some() {
                self.replacements += 1;
            }
        }
        if let Some(at) = event.recorded_at {
            self.first_recorded_at = Some(self.first_recorded_at.map_or(at, |first| first.min(at)));
            self.last_recorded_at = Some(self.last_recorded_at.map_or(at, |last| last.max(at)));
        }
    }
}

/// Why a demo could not be filled in.
#[derive(Debug)]
pub enum DemoError {
    /// The options cannot make a demo (see [`DemoOptions::check`]).
    Options(String),
    /// The store already holds events: a demo goes into an empty store only.
    NotEmpty {
        /// Events already stored.
        events: u64,
    },
    /// The store refused a chunk. The generator promises this never happens: it is a bug.
    Refused {
        /// The position the chunk would have started at.
        first_position: u64,
        /// Why.
        refusal: Refusal,
    },
    /// The store failed.
    Store(StoreError),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Options(why) => write!(f, "demo options: {why}"),
            DemoError::NotEmpty { events } => write!(
                f,
                "the store already holds {events} events; a demo is filled into an empty store only"
            ),
            DemoError::Refused {
                first_position,
                refusal,
            } => write!(
                f,
                "the store refused the demo's events from position {first_position} (a bug in the \
                 demo generator): {refusal}"
            ),
            DemoError::Store(error) => write!(f, "the store failed: {error}"),
        }
    }
}

impl std::error::Error for DemoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DemoError::Refused { refusal, .. } => Some(refusal),
            DemoError::Store(error) => Some(error),
            DemoError::Options(_) | DemoError::NotEmpty { .. } => None,
        }
    }
}

impl From<StoreError> for DemoError {
    fn from(error: StoreError) -> DemoError {
        DemoError::Store(error)
    }
}

/// Generates the demo of `options` and imports it into `store`, which must be empty, in chunks
/// of [`IMPORT_CHUNK_EVENTS`] with `keep_recorded_at`. `progress(done, total)` is called with
/// events imported and events in all, first with `done = 0`.
///
/// Generation streams (see [`crate::stream`]) and runs on the calling task between imports; the
/// run is generated twice, once to count it for `progress`.
///
/// # Errors
/// [`DemoError::Options`] for options [`DemoOptions::check`] refuses, [`DemoError::NotEmpty`]
/// when the store holds events, [`DemoError::Store`] when the store fails. Chunks imported
/// before a failure stay imported.
pub async fn fill(
    store: &dyn EventStore,
    options: &DemoOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<DemoSummary, DemoError> {
    fill_in_chunks(store, options, IMPORT_CHUNK_EVENTS, progress).await
}

/// [`fill`] with chunks of `chunk_events` (tests use small ones to split streams over chunks).
pub(crate) async fn fill_in_chunks(
    store: &dyn EventStore,
    options: &DemoOptions,
    chunk_events: usize,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<DemoSummary, DemoError> {
    assert!(chunk_events > 0, "a chunk holds at least one event");
    options.check()?;
    let head = store.head().await?;
    if head.position > 0 {
        return Err(DemoError::NotEmpty {
            events: head.position,
        });
    }
    let total = stream(options).count() as u64;
    progress(0, total);
    let mut summary = DemoSummary::default();
    let mut chunk = Vec::with_capacity(chunk_events.min(total as usize));
    let mut events = stream(options).peekable();
    while events.peek().is_some() {
        chunk.extend(events.by_ref().take(chunk_events));
        for event in &chunk {
            summary.add(event);
        }
        let options = ImportOptions {
            keep_recorded_at: true,
            dry_run: false,
        };
        let first_position = summary.events - chunk.len() as u64 + 1;
        if let Err(refusal) = store.import(std::mem::take(&mut chunk), options).await? {
            return Err(DemoError::Refused {
                first_position,
                refusal,
            });
        }
        progress(summary.events, total);
    }
    Ok(summary)
}
