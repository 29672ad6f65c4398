//! How the log sits in the key-value layer: tables, keys and values.
//!
//! | table | key | value |
//! |---|---|---|
//! | `events` | position (u64 BE) | the stored JSON line (canonical, `hash` last) |
//! | `stream_nos` | decision id (16 bytes) | stream number (u64 BE) |
//! | `streams` | stream number (u64 BE) ‖ version (u64 BE) | position (u64 BE) |
//! | `event_ids` | event id (16 bytes) | position (u64 BE) |
//! | `meta` | `head` | position (u64 BE) ‖ hash (32) ‖ recorded_at (i64 BE, µs since the epoch) |
//! | `meta` | `indexed` | position (u64 BE): the index tables cover the events up to here |
//! | `checkpoints` | subscriber name (UTF-8) | position (u64 BE) |
//!
//! `meta/head` is the commit point: only positions at or below it exist for readers. Entries
//! above it are what a crash left of an unfinished multi-batch import; opening the store
//! removes them (`recovery`).
//!
//! **The index tables** (`stream_nos`, `streams`, `event_ids`) hold the entries of the events
//! up to `meta/indexed`; those of the newer events are in memory, in the index tail
//! (`index_tail`), and written to the tables many at a time. A store without `meta/indexed`
//! (written before the tail existed) has every event's entries in the tables.
//!
//! **Stream numbers.** A decision's stream gets a number when the index entry of its first event
//! is written (`index_tail::flush`), in the same batch: 1, 2, 3, … in order of the streams'
//! first positions, never reused. The `streams` index is keyed by that number rather than by
//! the decision id, so the index entries of the streams being written now sit together at the
//! right edge of the B-tree instead of at random places in it (decision ids are random UUIDs).
//! The next number is one more than the greatest in `streams` (whose last key belongs to the
//! newest stream); recovery removes a number together with the unfinished stream it was given
//! to, after that stream's `streams` entries and before its events, so a number that some
//! decision still holds is never handed out again.

use chrono::{DateTime, Utc};
use kv::{KvEngine, Table};

use crate::api::StoreError;

/// Events by position.
pub(crate) const EVENTS: Table = Table::new("events");
/// Stream numbers by decision.
pub(crate) const STREAM_NOS: Table = Table::new("stream_nos");
/// Positions by stream number and version.
pub(crate) const STREAMS: Table = Table::new("streams");
/// Positions by event id.
pub(crate) const EVENT_IDS: Table = Table::new("event_ids");
/// The commit point.
pub(crate) const META: Table = Table::new("meta");
/// Subscriber checkpoints.
pub(crate) const CHECKPOINTS: Table = Table::new("checkpoints");

/// The key of the commit point in `meta`.
pub(crate) const HEAD_KEY: &[u8] = b"head";
/// The key in `meta` of the last position whose index entries are in the index tables.
pub(crate) const INDEXED_KEY: &[u8] = b"indexed";

/// The longest subscriber name, in bytes.
pub const SUBSCRIBER_NAME_BYTES_MAX: usize = 200;

pub(crate) fn position_key(position: u64) -> [u8; 8] {
    position.to_be_bytes()
}

pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// The key of a stream's entry in `streams`.
pub(crate) fn stream_key(stream_no: u64, version: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&stream_no.to_be_bytes());
    key[8..].copy_from_slice(&version.to_be_bytes());
    key
}

/// The number of a decision's stream, if it has one (it has events).
pub(crate) fn read_stream_no(
    kv: &dyn KvEngine,
    decision: &[u8; 16],
) -> Result<Option<u64>, StoreError> {
    match kv.get(STREAM_NOS, decision)? {
        None => Ok(None),
        Some(value) => decode_u64(&value)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt {
                position: 0,
                detail: "a stream number in the index is not a number".into(),
            }),
    }
}

/// The `streams` index entry of a decision's event at `version`: the position it names.
pub(crate) fn read_stream_entry(
    kv: &dyn KvEngine,
    decision: &[u8; 16],
    version: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    match read_stream_no(kv, decision)? {
        None => Ok(None),
        Some(no) => Ok(kv.get(STREAMS, &stream_key(no, version))?),
    }
}

/// The number the next new stream gets: one more than the greatest in `streams`.
pub(crate) fn next_stream_no(kv: &dyn KvEngine) -> Result<u64, StoreError> {
    match kv.last(STREAMS)? {
        None => Ok(1),
        Some((key, _)) => key
            .get(..8)
            .and_then(decode_u64)
            .map(|no| no + 1)
            .ok_or_else(|| StoreError::Corrupt {
                position: 0,
                detail: "the last key of the stream index is not a stream number".into(),
            }),
    }
}

/// The head of the log: the last position, its chain hash and its `recorded_at` (the commit
/// point, in the embedded store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// The last position (0 for an empty log).
    pub position: u64,
    /// Its chain hash ([`crate::GENESIS_HASH`] for an empty log).
    pub hash: [u8; 32],
    /// Its `recorded_at` (`None` for an empty log).
    pub recorded_at: Option<DateTime<Utc>>,
}

impl Tail {
    pub(crate) const EMPTY: Tail = Tail {
        position: 0,
        hash: crate::chain::GENESIS_HASH,
        recorded_at: None,
    };

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut value = Vec::with_capacity(48);
        value.extend_from_slice(&self.position.to_be_bytes());
        value.extend_from_slice(&self.hash);
        let micros = self.recorded_at.map_or(i64::MIN, |t| t.timestamp_micros());
        value.extend_from_slice(&micros.to_be_bytes());
        value
    }

    pub(crate) fn decode(value: &[u8]) -> Option<Tail> {
        if value.len() != 48 {
            return None;
        }
        let position = decode_u64(&value[..8])?;
        let hash: [u8; 32] = value[8..40].try_into().ok()?;
        let micros = i64::from_be_bytes(value[40..48].try_into().ok()?);
        let recorded_at = if micros == i64::MIN {
            None
        } else {
            Some(DateTime::from_timestamp_micros(micros)?)
        };
        Some(Tail {
            position,
            hash,
            recorded_at,
        })
    }
}

/// The `recorded_at` of a stored line, read without parsing the whole event (for the binary
/// search behind *as of*). The canonical line begins `{"position":…,"version":…,"recorded_at":"…"`.
pub(crate) fn recorded_at_of_line(line: &[u8]) -> Option<DateTime<Utc>> {
    const MARKER: &[u8] = br#""recorded_at":""#;
    let start = line
        .windows(MARKER.len())
        .take(64)
        .position(|w| w == MARKER)?
        + MARKER.len();
    let end = start + line[start..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&line[start..end]).ok()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_round_trips() {
        for tail in [
            Tail::EMPTY,
            Tail {
                position: 42,
                hash: [7; 32],
                recorded_at: Some("2024-01-02T03:04:05.123456Z".parse().expect("time")),
            },
        ] {
            assert_eq!(Tail::decode(&tail.encode()), Some(tail));
        }
        assert_eq!(Tail::decode(b"short"), None);
    }

    #[test]
    fn recorded_at_is_read_from_the_line() {
        let line = br#"{"position":1,"version":1,"recorded_at":"2023-01-02T10:11:12.000001Z","event_id":"x"}"#;
        assert_eq!(
            recorded_at_of_line(line),
            Some("2023-01-02T10:11:12.000001Z".parse().expect("time"))
        );
        assert_eq!(recorded_at_of_line(b"{}"), None);
    }

    #[test]
    fn stream_keys_sort_by_stream_number_then_version() {
        let a = stream_key(1, 2);
        let b = stream_key(1, 10);
        let c = stream_key(2, 1);
        let d = stream_key(256, 1);
        assert!(a < b && b < c && c < d);
    }
}
