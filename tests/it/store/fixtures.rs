//! What the store's tests share: deterministic ids, small valid events, a clock the test sets,
//! the engines (as openers of an `Arc<dyn EventStore>`), a seeded random number generator,
//! bounded waits, and checks of the log's shape.
//!
//! Everything here is deterministic: ids are derived from numbers, never random, so a failure
//! replays from its seed.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{DecisionId, EventData, EventId, NewEvent, RecordedEvent};
use serde_json::json;
use store::{
    Clock, EmbeddedStore, EngineKind, EventStore, ImportOptions, Imported, Refusal, StoreError,
};

/// The longest any single wait of a test may take before it counts as a hang.
pub(crate) const HANG_TIMEOUT: Duration = Duration::from_secs(120);

/// Events asked for per `read_all` call when reading the whole log.
pub(crate) const READ_PAGE_EVENTS: usize = 5_000;

/// A UUID from 128 bits.
fn uuid_text(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn decision_text(n: u64) -> String {
    uuid_text(0xd000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n))
}

/// Decision number `n` (distinct numbers give distinct decisions).
pub(crate) fn decision(n: u64) -> DecisionId {
    decision_text(n).parse().expect("a well-formed UUID")
}

/// Event id number `n` (distinct numbers give distinct ids, never equal to a decision id).
pub(crate) fn event_id(n: u64) -> EventId {
    uuid_text(0xe000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n))
        .parse()
        .expect("a well-formed UUID")
}

/// An event id from 128 raw bits (for tests that need a particular key order).
pub(crate) fn event_id_from_bits(bits: u128) -> EventId {
    uuid_text(bits).parse().expect("a well-formed UUID")
}

/// A moment, from RFC 3339.
pub(crate) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid RFC 3339 moment in a test")
        .with_timezone(&Utc)
}

/// The decision date of every decision the fixtures grant.
pub(crate) const DECIDED_ON: &str = "2023-01-02";
/// The date of every follow-up event the fixtures make.
pub(crate) const FOLLOW_UP_ON: &str = "2023-01-10";
/// A moment well after both dates: the default time of the test clock.
pub(crate) const NOW: &str = "2024-01-15T10:00:00Z";

fn parse(value: serde_json::Value) -> NewEvent {
    NewEvent::from_json(&value.to_string()).expect("the fixture is a valid event")
}

/// A template event of `decision(0)`, parsed once (parsing thousands is slow in debug builds).
fn template(cell: &'static OnceLock<NewEvent>, json: fn() -> serde_json::Value) -> NewEvent {
    cell.get_or_init(|| parse(json())).clone()
}

/// `DecisionGranted` of `decision`, decided on [`DECIDED_ON`], without an event id.
pub(crate) fn grant(decision: DecisionId) -> NewEvent {
    static GRANT: OnceLock<NewEvent> = OnceLock::new();
    let mut event = template(&GRANT, || {
        json!({
            "decision_id": decision_text(0),
            "type": "DecisionGranted",
            "occurred_on": DECIDED_ON,
            "data": {
                "person": {"id": "19121212-1212", "protected": false},
                "law": "SoL",
                "insats": "sol_kontaktperson"
            }
        })
    });
    event.decision_id = decision;
    event
}

/// `NoteRecorded` of `decision` on [`FOLLOW_UP_ON`] with `text`: allowed at any point after the
/// grant, any number of times.
pub(crate) fn note(decision: DecisionId, text: &str) -> NewEvent {
    static NOTE: OnceLock<NewEvent> = OnceLock::new();
    let mut event = template(&NOTE, || {
        json!({
            "decision_id": decision_text(0),
            "type": "NoteRecorded",
            "occurred_on": FOLLOW_UP_ON,
            "data": {"kind": "contact", "text": "-"}
        })
    });
    event.decision_id = decision;
    if let EventData::NoteRecorded(data) = &mut event.data {
        text.clone_into(&mut data.text);
    }
    event
}

/// `OrderSent` of `decision` on [`FOLLOW_UP_ON`] to `provider`.
pub(crate) fn order(decision: DecisionId, provider: &str) -> NewEvent {
    static ORDER: OnceLock<NewEvent> = OnceLock::new();
    let mut event = template(&ORDER, || {
        json!({
            "decision_id": decision_text(0),
            "type": "OrderSent",
            "occurred_on": FOLLOW_UP_ON,
            "data": {"provider": "-"}
        })
    });
    event.decision_id = decision;
    if let EventData::OrderSent(data) = &mut event.data {
        provider.clone_into(&mut data.provider);
    }
    event
}

/// A full `Verkställd` of `decision` on [`FOLLOW_UP_ON`]: allowed once while not executed.
pub(crate) fn verkstalld(decision: DecisionId) -> NewEvent {
    parse(json!({
        "decision_id": decision.to_string(),
        "type": "Verkställd",
        "occurred_on": FOLLOW_UP_ON,
        "data": {}
    }))
}

/// `Interrupted` of `decision` on [`FOLLOW_UP_ON`]: refused unless the decision is executed.
pub(crate) fn interrupted(decision: DecisionId) -> NewEvent {
    parse(json!({
        "decision_id": decision.to_string(),
        "type": "Interrupted",
        "occurred_on": FOLLOW_UP_ON,
        "data": {"reason": "Utföraren avslutade uppdraget."}
    }))
}

/// `event` with its idempotency key set.
pub(crate) fn with_id(mut event: NewEvent, id: EventId) -> NewEvent {
    event.event_id = Some(id);
    event
}

/// `event` carrying `recorded_at` (honoured only by a historical import).
pub(crate) fn recorded(mut event: NewEvent, recorded_at: DateTime<Utc>) -> NewEvent {
    event.recorded_at = Some(recorded_at);
    event
}

/// A clock the test sets: every store call reads it through [`TestClock::clock`].
#[derive(Clone)]
pub(crate) struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    /// A clock standing at `now`.
    pub(crate) fn at(now: DateTime<Utc>) -> TestClock {
        TestClock(Arc::new(Mutex::new(now)))
    }

    /// A clock standing at [`NOW`].
    pub(crate) fn standard() -> TestClock {
        TestClock::at(at(NOW))
    }

    /// Moves the clock to `now` (backwards too).
    pub(crate) fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap() = now;
    }

    /// The clock to give a store.
    pub(crate) fn clock(&self) -> Clock {
        let inner = Arc::clone(&self.0);
        Arc::new(move || *inner.lock().unwrap())
    }
}

/// Where a store lives and how to open it: all the conformance suite needs of an engine.
/// Opening again (after every handle of the previous store is dropped) gives the same log.
pub(crate) trait StoreFactory: Send + Sync {
    /// Opens the store on this factory's log with `clock`.
    fn open(&self, clock: Clock) -> Arc<dyn EventStore>;
}

/// The embedded store in a fresh temporary data directory.
pub(crate) struct Embedded {
    dir: tempfile::TempDir,
    engine: EngineKind,
}

impl Embedded {
    /// A fresh, empty data directory for `engine`.
    pub(crate) fn new(engine: EngineKind) -> Embedded {
        Embedded {
            dir: tempfile::tempdir().unwrap(),
            engine,
        }
    }

    /// The data directory.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Opens the embedded store itself (for `verify` and the engine's files).
    pub(crate) fn open_embedded(&self, clock: Clock) -> EmbeddedStore {
        open_embedded(&self.path(), self.engine, clock)
    }
}

impl StoreFactory for Embedded {
    fn open(&self, clock: Clock) -> Arc<dyn EventStore> {
        Arc::new(self.open_embedded(clock))
    }
}

/// PostgreSQL: a fresh scratch database per factory (created through the server's database
/// `postgres`, dropped with the factory), so the cases run in parallel on one server.
/// Opening again connects again: the PostgreSQL form of reopening a data directory.
pub(crate) struct Postgres {
    database: store_postgres::ScratchDatabase,
}

impl Postgres {
    /// A fresh, empty database on the test server (`VERKSTALL_TEST_POSTGRES`, else
    /// [`store_postgres::TEST_SERVER_DEFAULT`]).
    pub(crate) fn new() -> Postgres {
        let database = block_on(store_postgres::ScratchDatabase::create()).unwrap_or_else(|e| {
            panic!("creating a scratch database (is PostgreSQL running?): {e}")
        });
        Postgres { database }
    }
}

impl StoreFactory for Postgres {
    fn open(&self, clock: Clock) -> Arc<dyn EventStore> {
        let config = self.database.config();
        let store = block_on(store_postgres::PgStore::connect_with_clock(&config, clock))
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.database.name()));
        Arc::new(store)
    }
}

/// Runs `future` to completion from synchronous code inside a multi-thread tokio runtime (the
/// factories are synchronous; PostgreSQL's connections are tasks of the test's runtime).
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// Taken exclusively while this process spawns a child, shared while it opens a store.
///
/// A child holds copies of the parent's file descriptors from the moment it is forked until it
/// execs, and with them the lock an engine keeps on its file: a store dropped and reopened in
/// that window is refused as "already open". `Command::spawn` returns only after the exec, so a
/// store opened under this gate never meets a half-spawned child.
pub(crate) static SPAWN_GATE: RwLock<()> = RwLock::new(());

/// Runs `open` (anything that opens a store) where no child is being spawned.
pub(crate) fn while_not_spawning<T>(open: impl FnOnce() -> T) -> T {
    let _gate = SPAWN_GATE.read().unwrap_or_else(PoisonError::into_inner);
    open()
}

/// Opens the embedded store in `path` with `engine`, or panics saying why.
pub(crate) fn open_embedded(path: &Path, engine: EngineKind, clock: Clock) -> EmbeddedStore {
    while_not_spawning(|| EmbeddedStore::open(path, Some(engine), clock))
        .unwrap_or_else(|e| panic!("opening the {engine} store in {}: {e}", path.display()))
}

/// The value of an accepted request; panics with the refusal or the store's error otherwise.
#[track_caller]
pub(crate) fn accepted<T>(result: Result<Result<T, Refusal>, StoreError>) -> T {
    match result {
        Ok(Ok(value)) => value,
        Ok(Err(refusal)) => panic!("refused: {refusal} ({refusal:?})"),
        Err(error) => panic!("the store failed: {error}"),
    }
}

/// The refusal of a refused request; panics if it was accepted or the store failed.
#[track_caller]
pub(crate) fn refused<T: std::fmt::Debug>(
    result: Result<Result<T, Refusal>, StoreError>,
) -> Refusal {
    match result {
        Ok(Err(refusal)) => refusal,
        Ok(Ok(value)) => panic!("accepted, but should have been refused: {value:?}"),
        Err(error) => panic!("the store failed: {error}"),
    }
}

/// An import with `options`, accepted.
pub(crate) async fn import(
    store: &dyn EventStore,
    events: Vec<NewEvent>,
    options: ImportOptions,
) -> Imported {
    accepted(store.import(events, options).await)
}

/// Waits for `future`, failing the test if it takes longer than [`HANG_TIMEOUT`] (a hang, not
/// a slowness: no test asserts on durations).
pub(crate) async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(HANG_TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {HANG_TIMEOUT:?}: a hang"))
}

/// The whole log, read page by page, checking that positions run 1, 2, 3, … without a gap.
pub(crate) async fn read_everything(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut all: Vec<RecordedEvent> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e.position);
        let page = store.read_all(after, READ_PAGE_EVENTS, None).await.unwrap();
        if page.is_empty() {
            return all;
        }
        for event in page {
            assert_eq!(
                event.position,
                all.len() as u64 + 1,
                "the log has a gap or repeats a position"
            );
            all.push(event);
        }
    }
}

/// Checks that the positions of `events` are exactly 1..=n and that every decision's
/// versions run 1, 2, 3, … in log order.
#[track_caller]
pub(crate) fn assert_log_shape(events: &[RecordedEvent]) {
    let mut versions = std::collections::HashMap::new();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(
            event.position,
            i as u64 + 1,
            "positions are not contiguous from 1"
        );
        let version = versions.entry(event.decision_id).or_insert(0u64);
        *version += 1;
        assert_eq!(
            event.version, *version,
            "decision {} has version {} at position {} where {} was due",
            event.decision_id, event.version, event.position, *version
        );
    }
}

/// SplitMix64: a tiny seeded generator, so a failure replays from its seed.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "an empty range");
        low + self.next_u64() % (high - low + 1)
    }
}

/// A seed: `VAR` from the environment if set (to replay a failure), else a fresh one.
pub(crate) fn seed_from_env(var: &str) -> u64 {
    match std::env::var(var) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={text:?} is not a number")),
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            Rng::new(now.as_nanos() as u64 ^ u64::from(std::process::id())).next_u64()
        }
    }
}
