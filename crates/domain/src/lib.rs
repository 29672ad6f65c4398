//! verkstall's domain core: the events on the wire, the value types they carry, and the stream
//! rules of spec §6.
//!
//! This crate does no I/O, reads no clock and no environment: time and identifiers come in as
//! arguments. It knows nothing of storage, HTTP or the command line; those crates depend on it,
//! never the other way round (a test in `tests/` reads `cargo metadata` to keep it so).
//!
//! - [`event`]: the event envelope and every event type, with strict parsing whose errors name
//!   the field.
//! - [`codes`]: law, insats, delay reasons and the other closed vocabularies of spec §4.
//! - [`quarter`]: reporting quarters (`2023Q2`).
//! - [`rules`]: the §6 stream rules as one pure function over a stream and new events.
//! - [`schema`]: the JSON Schemas published in `events-schema/`, generated from these types.
//! - [`time`]: business dates (Europe/Stockholm) and the calendar re-exported from `calendar`.

pub mod codes;
pub mod event;
pub mod ids;
pub mod person;
pub mod quarter;
pub mod redact;
pub mod rules;
pub mod schema;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod time;

pub use codes::{Area, DelayReason, EndReason, Insats, Law, NoteKind, ReportKind};
pub use event::{EventData, EventType, NewEvent, ParseError, RecordedEvent};
pub use identity::{IdentityKind, IdentityNumber, Sex};
pub use ids::{DecisionId, EventId};
pub use person::Person;
pub use quarter::Quarter;
