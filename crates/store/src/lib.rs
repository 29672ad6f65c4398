//! verkstall's event store: the log that is the product's memory and its evidence in court.
//!
//! - [`EventStore`] is the one trait every store implements (the embedded one here; PostgreSQL
//!   later): append to a decision's stream with an expected version, import many streams all or
//!   nothing, read a stream or the global log, each optionally *as of* a recorded moment, and
//!   follow the log live.
//! - [`EmbeddedStore`] keeps the log over the `kv` layer (redb by default, sled behind a
//!   feature). All the event-store logic — positions, stream versions, indexes, idempotency, the
//!   §6 rules, the hash chain — is written once here; the engines only commit batches and scan.
//! - [`subscription`] runs [`Subscriber`]s with durable checkpoints: catch up, then follow live,
//!   at least once, retried with back-off, never blocking appends.
//!
//! # Guarantees
//! - An append is acknowledged only after its batch is durably committed.
//! - Positions are contiguous from 1, with no gap ever, also after a crash; a reader never sees
//!   a position before every lower one is committed.
//! - `recorded_at` comes from the store's clock and never goes backwards.
//! - Every event carries `hash = SHA-256(previous hash ‖ canonical bytes)`, over the bytes as
//!   stored; [`EmbeddedStore::verify`] re-reads and re-checks everything.
//! - An anchor file beside the engine ([`ANCHOR_FILE_NAME`]) records the committed head after
//!   every commit; opening refuses a log that comes back with less than it acknowledged.
//! - Errors come in two tiers: a [`Refusal`] (conflict, broken rule, reused event id) is an
//!   ordinary answer and changes nothing; a [`StoreError`] (I/O, corruption) stops writes.

mod anchor;
mod api;
mod chain;
mod datadir;
mod embedded;
mod index_tail;
mod layout;
#[cfg(test)]
mod model_tests;
mod recent;
mod recovery;
pub mod staging;
pub mod subscription;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod verify;
mod writer;

pub use anchor::ANCHOR_FILE_NAME;
pub use api::{
    Appended, AppendedEvent, EventStore, ExpectedVersion, Head, ImportOptions, Imported, Refusal,
    RefusalKind, StoreError,
};
pub use chain::{GENESIS_HASH, chain_hash, encode_hex, split_stored_line};
pub use datadir::{DataDir, ENGINE_FILE_NAME};
pub use embedded::{
    Clock, EmbeddedStore, decode_line, decode_stored_line, decode_with, system_clock,
};
pub use kv::EngineKind;
pub use layout::{SUBSCRIBER_NAME_BYTES_MAX, Tail};
pub use subscription::{Subscriber, SubscriptionHandle, SubscriptionOptions, SubscriptionStatus};
pub use verify::{Damage, VerifyReport, check_stored_stream};
pub use writer::{APPEND_BYTES_MAX, APPEND_EVENTS_MAX};
