//! Tamper tests: the log is tamper-evident. Someone edits the engine's files on disk with the
//! store closed — one byte of one event; an event with its hash recomputed to match; an event
//! made to disappear — and `EmbeddedStore::verify` (and `verkstall verify`) names exactly the
//! position where the record stops being whole.
//!
//! The edits are made to the engine's files themselves, byte for byte, as a person with a hex
//! editor would make them: the stored line of an event is found by its bytes (it is unique: it
//! ends with its hash) and overwritten in place, with a line of the same length. The test
//! package cannot reach the `kv` layer (it is not one of its dependencies), and editing the
//! files is the stronger test anyway. redb does not check its pages' checksums when it opens a
//! cleanly closed file, so an edit reaches the store as made. sled keeps a CRC on every log
//! message: the edits recompute it, as a careful forger would, except in the one test that shows
//! what sled does with a message whose CRC no longer matches.
//!
//! On PostgreSQL the same cases edit the stored rows with SQL behind the store's back (someone
//! with access to the database): the line, byte for byte, or the row deleted; `PgStore::verify`
//! and `verkstall --store … verify` must name the same positions.

use std::path::{Path, PathBuf};

use domain::{EventId, RecordedEvent};
use store::{
    Damage, EngineKind, EventStore, ExpectedVersion, chain_hash, split_stored_line, system_clock,
};
use store_postgres::{PgStore, ScratchDatabase};

use crate::store_conformance::fixtures::{
    Embedded, TestClock, decision, event_id_from_bits, grant, note, while_not_spawning,
};

/// Events in the log that is tampered with.
const EVENTS: u64 = 30;
/// Decisions they belong to, taken in turn, so that no decision has two neighbouring positions.
const DECISIONS: u64 = 5;
/// The position tampered with, well inside the log.
const TAMPERED: u64 = 12;

/// Where a tampered log lives: an embedded engine's files, or a PostgreSQL database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Engine(EngineKind),
    Postgres,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Engine(engine) => write!(f, "{engine}"),
            Kind::Postgres => f.write_str("PostgreSQL"),
        }
    }
}

/// The store of a tampered log.
enum Place {
    Embedded(Embedded, EngineKind),
    Postgres(ScratchDatabase),
}

/// A log of [`EVENTS`] events, closed, with its stored lines (`lines[p - 1]` is position `p`).
struct Log {
    place: Place,
    lines: Vec<Vec<u8>>,
}

impl Log {
    /// Writes the log on `kind`, checks that it verifies (with the store still open: a sled
    /// log closed and opened once more is laid out otherwise on disk), and closes it.
    fn written(kind: Kind) -> Log {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock = TestClock::standard().clock();
        let (place, lines) = match kind {
            Kind::Engine(engine) => {
                let place = Embedded::new(engine);
                let store = place.open_embedded(clock);
                let lines = runtime.block_on(append_the_log(&store));
                let report = store.verify(&mut |_, _| {}).unwrap().unwrap();
                assert_eq!(report.events, EVENTS, "the untouched log must verify");
                (Place::Embedded(place, engine), lines)
            }
            Kind::Postgres => runtime.block_on(async {
                let database = ScratchDatabase::create().await.unwrap();
                let store = PgStore::connect_with_clock(&database.config(), clock)
                    .await
                    .unwrap();
                let lines = append_the_log(&store).await;
                let report = store.verify(&mut |_, _| {}).await.unwrap().unwrap();
                assert_eq!(report.events, EVENTS, "the untouched log must verify");
                (Place::Postgres(database), lines)
            }),
        };
        assert_eq!(lines.len() as u64, EVENTS);
        Log {
            place,
            lines: lines.into_iter().map(|(_, line)| line).collect(),
        }
    }

    /// The stored line at `position`.
    fn line(&self, position: u64) -> &[u8] {
        &self.lines[(position - 1) as usize]
    }

    /// The engine's folder.
    fn engine_files(&self) -> PathBuf {
        let Place::Embedded(place, _) = &self.place else {
            panic!("a PostgreSQL log has no files of its own");
        };
        store::DataDir::open(&place.path(), None)
            .unwrap()
            .log_path()
    }

    /// Overwrites the stored line `old` with `new` where it is kept: in the engine's files
    /// (every copy, see [`overwrite`]), or in its row, with SQL. Returns how many places.
    fn overwrite(&self, old: &[u8], new: &[u8], checksums: Checksums) -> usize {
        match &self.place {
            Place::Embedded(_, engine) => {
                overwrite(*engine, &self.engine_files(), old, new, checksums)
            }
            Place::Postgres(database) => {
                let hex =
                    |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
                let sql = format!(
                    "UPDATE verkstall.events SET line = '\\x{}'::bytea WHERE line = '\\x{}'::bytea",
                    hex(new),
                    hex(old)
                );
                let runtime = tokio::runtime::Runtime::new().unwrap();
                let changed = runtime.block_on(database.execute(&sql)).unwrap();
                usize::try_from(changed).unwrap()
            }
        }
    }

    /// The arguments that name this log to the command line.
    fn location_args(&self) -> Vec<String> {
        match &self.place {
            Place::Embedded(place, _) => {
                vec!["--data".into(), place.path().to_str().unwrap().into()]
            }
            Place::Postgres(database) => vec!["--store".into(), database.config()],
        }
    }

    /// Reopens the store and verifies it. Damage found while opening (the anchor shows the
    /// engine came back with less, or other, than it acknowledged) counts as found.
    fn verify(&self) -> Result<u64, Damage> {
        let place = match &self.place {
            Place::Embedded(place, _) => place,
            Place::Postgres(database) => {
                let runtime = tokio::runtime::Runtime::new().unwrap();
                return runtime.block_on(async {
                    let store = PgStore::connect(&database.config()).await.unwrap();
                    store
                        .verify(&mut |_, _| {})
                        .await
                        .unwrap()
                        .map(|report| report.events)
                });
            }
        };
        let opened = crate::store_conformance::fixtures::while_not_spawning(|| {
            store::EmbeddedStore::open(&place.path(), None, system_clock())
        });
        let store = match opened {
            Ok(store) => store,
            Err(store::StoreError::Corrupt { position, detail }) => {
                return Err(Damage { position, detail });
            }
            Err(other) => panic!("opening failed otherwise: {other}"),
        };
        store
            .verify(&mut |_, _| {})
            .unwrap()
            .map(|report| report.events)
    }
}

/// Appends the log's [`EVENTS`] events to `store`; returns its stored lines.
async fn append_the_log(store: &dyn EventStore) -> Vec<(u64, Vec<u8>)> {
    for n in 0..EVENTS {
        let d = decision(n % DECISIONS);
        let mut event = if n < DECISIONS {
            grant(d)
        } else {
            note(d, &format!("Samtal nummer {:03} om insatsen", n + 1))
        };
        event.event_id = Some(descending_event_id(n));
        store
            .append(d, ExpectedVersion::Any, vec![event])
            .await
            .unwrap()
            .unwrap();
    }
    store.read_stored_lines(0, 1_000).await.unwrap()
}

/// Event ids that sort the other way round from positions, so that the event-id index holds
/// positions in descending order and never two ascending neighbours (see
/// [`an_event_made_to_disappear_is_found_missing`]).
fn descending_event_id(n: u64) -> EventId {
    event_id_from_bits(0xefff_ffff_ffff_4fff_bfff_ffff_0000_0000 - u128::from(n))
}

/// `line` with one letter of its note's text changed ("Samtal" becomes "Tamtal"): still valid
/// JSON, still the same length, one byte different.
fn one_byte_changed(line: &[u8]) -> Vec<u8> {
    let at = line
        .windows(b"Samtal".len())
        .position(|w| w == b"Samtal")
        .expect("the tampered event is a note with the fixture's text");
    let mut changed = line.to_vec();
    changed[at] = b'T';
    let text = std::str::from_utf8(&changed).unwrap();
    RecordedEvent::from_json(text).expect("the changed line is still a valid event");
    changed
}

/// `changed` with its hash recomputed over its new bytes and the previous event's hash: the
/// event's own link is right again; the next event's is not.
fn with_recomputed_hash(changed: &[u8], previous: &[u8]) -> Vec<u8> {
    let (_, previous_hash) = split_stored_line(previous).unwrap();
    let (canonical, _) = split_stored_line(changed).unwrap();
    let hash = chain_hash(&previous_hash, &canonical);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    // The line ends with `"hash":"` + 64 hex digits + `"}`.
    let mut line = changed.to_vec();
    let end = line.len() - 2;
    line[end - 64..end].copy_from_slice(hex.as_bytes());
    line
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Where `pattern` occurs in `bytes`.
fn occurrences(bytes: &[u8], pattern: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut at = 0;
    while at + pattern.len() <= bytes.len() {
        if &bytes[at..at + pattern.len()] == pattern {
            found.push(at);
            at += pattern.len();
        } else {
            at += 1;
        }
    }
    found
}

/// Whether an edit keeps sled's checksums right (a careful forger) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checksums {
    Recompute,
    Leave,
}

/// Overwrites every occurrence of `old` with `new` (the same length) in the engine's files —
/// current pages and stale copies alike — and, on sled, recomputes the CRC of every log message
/// touched (unless told to leave them). Returns how many occurrences were overwritten.
fn overwrite(
    engine: EngineKind,
    dir: &Path,
    old: &[u8],
    new: &[u8],
    checksums: Checksums,
) -> usize {
    assert_eq!(old.len(), new.len(), "an edit in place keeps the length");
    let mut overwritten = 0;
    for file in files(dir) {
        let mut bytes = std::fs::read(&file).unwrap();
        let found = occurrences(&bytes, old);
        if found.is_empty() {
            continue;
        }
        let messages: Vec<Option<sled_log::Message>> = match (engine, checksums) {
            (EngineKind::Sled, Checksums::Recompute) => found
                .iter()
                .map(|&at| sled_log::message_around(&bytes, at, old.len()))
                .collect(),
            _ => vec![None; found.len()],
        };
        for (&at, message) in found.iter().zip(&messages) {
            bytes[at..at + new.len()].copy_from_slice(new);
            if let Some(message) = message {
                sled_log::reseal(&mut bytes, message);
            }
        }
        std::fs::write(&file, &bytes).unwrap();
        overwritten += found.len();
    }
    overwritten
}

/// redb's page size (its default).
const REDB_PAGE_BYTES: usize = 4096;

/// Overwrites `old` with `new` in the engine's files where `old` stands in a redb page that also
/// holds `held`; returns how many it overwrote.
fn overwrite_in_pages_holding(dir: &Path, held: &[u8], old: &[u8], new: &[u8]) -> usize {
    assert_eq!(old.len(), new.len(), "an edit in place keeps the length");
    let mut overwritten = 0;
    for file in files(dir) {
        let mut bytes = std::fs::read(&file).unwrap();
        let pages: Vec<usize> = occurrences(&bytes, held)
            .into_iter()
            .map(|at| at / REDB_PAGE_BYTES)
            .collect();
        let found: Vec<usize> = occurrences(&bytes, old)
            .into_iter()
            .filter(|at| pages.contains(&(at / REDB_PAGE_BYTES)))
            .collect();
        if found.is_empty() {
            continue;
        }
        for &at in &found {
            bytes[at..at + new.len()].copy_from_slice(new);
        }
        std::fs::write(&file, &bytes).unwrap();
        overwritten += found.len();
    }
    overwritten
}

/// Just enough of sled 0.34's log format to recompute a message's CRC after an edit (from
/// `sled-0.34.7/src/pagecache/logger.rs` and `serialization.rs`): a message is a header — CRC
/// (u32, little-endian), kind (u8), then length, segment number and page id as sled's varints —
/// followed by `length` bytes of body; the CRC is `!crc32(body ‖ header after the CRC)`.
mod sled_log {
    /// Kinds of the messages that carry tree nodes and their updates, inline in the log.
    const INLINE_NODE: u8 = 8;
    const INLINE_LINK: u8 = 10;
    /// How far before an occurrence its message may begin.
    const MESSAGE_BYTES_MAX: usize = 512 * 1024;

    /// A log message: where its header begins, how long the header is, how long the body is.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Message {
        start: usize,
        header: usize,
        body: usize,
    }

    /// sled's varint (`impl Serialize for u64`): the value and its length in bytes.
    fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
        let first = *bytes.first()?;
        Some(match first {
            0..=240 => (u64::from(first), 1),
            241..=248 => (
                240 + 256 * (u64::from(first) - 241) + u64::from(*bytes.get(1)?),
                2,
            ),
            249 => (
                2288 + 256 * u64::from(*bytes.get(1)?) + u64::from(*bytes.get(2)?),
                3,
            ),
            _ => {
                let size = usize::from(first) - 247;
                let mut aligned = [0u8; 8];
                aligned[..size].copy_from_slice(bytes.get(1..=size)?);
                (u64::from_le_bytes(aligned), size + 1)
            }
        })
    }

    /// The message at `start`, if a well-formed one (its CRC right) begins there.
    fn message_at(bytes: &[u8], start: usize) -> Option<Message> {
        let kind = *bytes.get(start + 4)?;
        if kind != INLINE_NODE && kind != INLINE_LINK {
            return None;
        }
        let mut header = 5;
        let (body, used) = varint(&bytes[start + header..])?;
        header += used;
        for _ in 0..2 {
            header += varint(&bytes[start + header..])?.1;
        }
        let body = usize::try_from(body)
            .ok()
            .filter(|b| *b <= MESSAGE_BYTES_MAX)?;
        let message = Message {
            start,
            header,
            body,
        };
        (bytes.len() >= start + header + body && crc(bytes, message) == stored_crc(bytes, message))
            .then_some(message)
    }

    /// The message whose body holds `bytes[at..at + len]`: the nearest one that begins before it.
    pub(super) fn message_around(bytes: &[u8], at: usize, len: usize) -> Option<Message> {
        (at.saturating_sub(MESSAGE_BYTES_MAX)..at)
            .rev()
            .find_map(|start| {
                message_at(bytes, start)
                    .filter(|m| m.start + m.header <= at && at + len <= m.start + m.header + m.body)
            })
    }

    /// Writes the message's CRC for its bytes as they are now.
    pub(super) fn reseal(bytes: &mut [u8], message: &Message) {
        let crc = crc(bytes, *message);
        bytes[message.start..message.start + 4].copy_from_slice(&crc.to_le_bytes());
    }

    fn stored_crc(bytes: &[u8], m: Message) -> u32 {
        u32::from_le_bytes(bytes[m.start..m.start + 4].try_into().expect("four bytes"))
    }

    fn crc(bytes: &[u8], m: Message) -> u32 {
        let body = &bytes[m.start + m.header..m.start + m.header + m.body];
        let header = &bytes[m.start + 4..m.start + m.header];
        !crc32(body.iter().chain(header))
    }

    /// CRC-32 (IEEE 802.3, reflected), as `crc32fast` computes it.
    fn crc32<'a>(bytes: impl Iterator<Item = &'a u8>) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc32_is_the_standard_one() {
        assert_eq!(crc32(b"123456789".iter()), 0xcbf4_3926);
    }
}

// ------------------------------------------------------------------------------- the cases

fn a_changed_byte_is_found_at_its_position(kind: Kind) {
    let log = Log::written(kind);
    let line = log.line(TAMPERED);
    let edits = log.overwrite(line, &one_byte_changed(line), Checksums::Recompute);
    assert!(
        edits >= 1,
        "the stored line was not found in the {kind} store"
    );
    let damage = log.verify().expect_err("verify must find the changed byte");
    assert_eq!(damage.position, TAMPERED, "{damage}");
    assert!(damage.detail.contains("hash"), "{damage}");
}

fn a_recomputed_hash_breaks_the_chain_at_the_next_position(kind: Kind) {
    let log = Log::written(kind);
    let line = log.line(TAMPERED);
    let forged = with_recomputed_hash(&one_byte_changed(line), log.line(TAMPERED - 1));
    let edits = log.overwrite(line, &forged, Checksums::Recompute);
    assert!(
        edits >= 1,
        "the stored line was not found in the {kind} store"
    );
    let damage = log.verify().expect_err("verify must find the broken chain");
    assert_eq!(damage.position, TAMPERED + 1, "{damage}");
}

fn the_last_event_with_a_recomputed_hash_is_found_at_the_commit_point(kind: Kind) {
    let log = Log::written(kind);
    let line = log.line(EVENTS);
    let forged = with_recomputed_hash(&one_byte_changed(line), log.line(EVENTS - 1));
    let edits = log.overwrite(line, &forged, Checksums::Recompute);
    assert!(
        edits >= 1,
        "the stored line was not found in the {kind} store"
    );
    let damage = log
        .verify()
        .expect_err("verify must find that the commit point disagrees");
    assert_eq!(damage.position, EVENTS, "{damage}");
    assert!(damage.detail.contains("commit point"), "{damage}");
}

fn the_command_line_names_the_damaged_position(kind: Kind) {
    let log = Log::written(kind);
    let mut args = log.location_args();
    args.push("verify".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let intact = while_not_spawning(|| verkstall_tests::verkstall(&args));
    assert_eq!(
        intact.exit,
        verkstall_tests::Exit::Done,
        "{}",
        intact.stderr
    );
    let line = log.line(TAMPERED);
    log.overwrite(line, &one_byte_changed(line), Checksums::Recompute);
    let damaged = while_not_spawning(|| verkstall_tests::verkstall(&args));
    assert_ne!(
        damaged.exit,
        verkstall_tests::Exit::Done,
        "{}",
        damaged.stdout
    );
    assert_ne!(
        damaged.exit,
        verkstall_tests::Exit::Usage,
        "{}",
        damaged.stderr
    );
    assert!(
        damaged.stderr.contains(&format!("position {TAMPERED}")),
        "stderr does not name position {TAMPERED}: {}",
        damaged.stderr
    );
}

/// An event made to disappear from the log. On PostgreSQL its row is deleted. On redb the key
/// of position p is overwritten with p − 1 in redb's page, so that the log holds p − 1 twice and
/// p nowhere — what deleting the entry leaves, as far as any read can tell. The keys are found
/// as the 16 bytes of two neighbouring positions (big-endian) in a page that also holds event
/// p's stored line: the leaf of the log's own table (the event-id index holds positions in
/// descending order and no decision has neighbouring positions, and a branch page, whose child
/// page numbers may well be neighbours, holds no event).
fn an_event_made_to_disappear_is_found_missing(kind: Kind) {
    let log = Log::written(kind);
    let p = TAMPERED;
    let edits = match &log.place {
        Place::Postgres(database) => {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let sql = format!("DELETE FROM verkstall.events WHERE position = {p}");
            usize::try_from(runtime.block_on(database.execute(&sql)).unwrap()).unwrap()
        }
        Place::Embedded(_, engine) => {
            assert_eq!(
                *engine,
                EngineKind::Redb,
                "the key edit knows redb's page layout only"
            );
            let key = |p: u64| p.to_be_bytes();
            let pair = |a: u64, b: u64| [key(a), key(b)].concat();
            let dir = log.engine_files();
            let line = log.line(p);
            // p in the middle of its page, or first in it.
            overwrite_in_pages_holding(&dir, line, &pair(p - 1, p), &pair(p - 1, p - 1))
                + overwrite_in_pages_holding(&dir, line, &pair(p, p + 1), &pair(p - 1, p + 1))
        }
    };
    assert!(edits >= 1, "position {p} was not found in the {kind} store");
    let damage = log
        .verify()
        .expect_err("verify must find the missing event");
    assert_eq!(damage.position, p, "{damage}");
    assert!(damage.detail.contains("missing"), "{damage}");
}

/// sled drops a log message whose CRC does not match, and with it every later message: the
/// store then opens an older log — commit point included — in which nothing looks wrong.
#[cfg(feature = "sled")]
fn a_changed_byte_that_breaks_sleds_checksum_is_found(kind: Kind) {
    assert_eq!(kind, Kind::Engine(EngineKind::Sled));
    let log = Log::written(kind);
    let line = log.line(TAMPERED);
    let edits = log.overwrite(line, &one_byte_changed(line), Checksums::Leave);
    assert!(
        edits >= 1,
        "the stored line was not found in the sled store"
    );
    // sled recovers an older log when a record's checksum fails, dropping every later commit:
    // the events are gone, but never silently — the anchor names the first one lost.
    let damage = log.verify().expect_err("the loss must be found");
    assert_eq!(damage.position, TAMPERED, "{damage}");
    assert!(
        damage
            .detail
            .contains(&format!("position {EVENTS} was committed")),
        "{damage}"
    );
}

/// Instantiates the cases for one engine.
macro_rules! tamper_tests {
    ($engine:ident, $kind:expr; $( $(#[$attr:meta])* $case:ident ),* $(,)?) => {
        mod $engine {
            $(
                $(#[$attr])*
                #[test]
                fn $case() {
                    use super::Kind;
                    super::$case($kind);
                }
            )*
        }
    };
}

tamper_tests!(redb, Kind::Engine(store::EngineKind::Redb);
    a_changed_byte_is_found_at_its_position,
    a_recomputed_hash_breaks_the_chain_at_the_next_position,
    the_last_event_with_a_recomputed_hash_is_found_at_the_commit_point,
    the_command_line_names_the_damaged_position,
    an_event_made_to_disappear_is_found_missing,
);

#[cfg(feature = "sled")]
tamper_tests!(sled, Kind::Engine(store::EngineKind::Sled);
    a_changed_byte_is_found_at_its_position,
    a_recomputed_hash_breaks_the_chain_at_the_next_position,
    the_last_event_with_a_recomputed_hash_is_found_at_the_commit_point,
    the_command_line_names_the_damaged_position,
    a_changed_byte_that_breaks_sleds_checksum_is_found,
);

tamper_tests!(postgres, Kind::Postgres;
    a_changed_byte_is_found_at_its_position,
    a_recomputed_hash_breaks_the_chain_at_the_next_position,
    the_last_event_with_a_recomputed_hash_is_found_at_the_commit_point,
    the_command_line_names_the_damaged_position,
    an_event_made_to_disappear_is_found_missing,
);
