//! Cost probe, not a test: what a durable commit costs per event as more events share it.
//!
//! The event store used to write three entries per event with each group: the event under its
//! position (keys in order), its id under a random UUID, and its place in its stream (keys
//! spread over the key space). Since the index tail (`store::index_tail`) a group writes the
//! event alone, and the two index entries later, many thousands at a time. This probe fills one
//! engine with `prefill` events written the first way, then commits `PROBE_EVENTS` more in
//! groups of 16, 64, 160 and 512 events per commit, each commit durable (through the
//! write-ahead log: one record, one `fdatasync`, then the engine's in-memory commit), written
//! as `layout` says: `indexed` (the three entries, the default), `events` (the event alone) or
//! `group` (the commit's events in one entry, under the first one's position), and prints the
//! time per event for each group size.
//!
//! If the cost per event were mostly per commit, it would fall in proportion to the group size.
//! What stays when the group grows is the cost of each insert itself.
//!
//! `TMPDIR=/var/tmp cargo run -p kv --release --all-features --example group_probe [prefill
//! [engine [layout]]]` (the directory must be on a real disk: tmpfs makes `fdatasync` free).

#![allow(clippy::expect_used)]

use std::time::Instant;

use kv::{Batch, KvEngine, Table};

mod probe;

const PROBE_PREFILL_EVENTS: u64 = 100_000;
const PROBE_EVENTS: u64 = 32_000;
const PROBE_GROUP_EVENTS: [u64; 4] = [16, 64, 160, 512];
/// Events per commit while filling (a bulk import's size).
const PREFILL_BATCH_EVENTS: u64 = 10_000;
/// Events per stream, on average, as in the demo municipality.
const STREAM_EVENTS: u64 = 6;
const EVENT_BYTES: usize = 600;
const EVENTS: Table = Table::new("events");
const EVENT_IDS: Table = Table::new("event_ids");
const STREAMS: Table = Table::new("streams");

/// splitmix64: random enough for keys, and the same on every run.
struct Keys(u64);

impl Keys {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// How a commit writes its events.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// Each event under its position, with its id and its stream place.
    Indexed,
    /// Each event under its position, alone.
    Events,
    /// The commit's events in one entry, under the first one's position.
    Group,
}

/// Where the next event goes, and the streams' versions so far.
struct Log {
    keys: Keys,
    position: u64,
    versions: Vec<u32>,
    event: Vec<u8>,
    layout: Layout,
}

impl Log {
    fn put_event(&mut self, batch: &mut Batch) {
        self.position += 1;
        let position = self.position.to_be_bytes();
        batch.put(EVENTS, position, self.event.clone());
        if self.layout != Layout::Indexed {
            return;
        }
        let mut id = self.keys.next().to_be_bytes().to_vec();
        id.extend_from_slice(&self.keys.next().to_be_bytes());
        batch.put(EVENT_IDS, id, position);
        let stream = self.keys.next() % self.versions.len() as u64;
        let slot = usize::try_from(stream).expect("a stream index fits a usize");
        self.versions[slot] += 1;
        let mut place = stream.to_be_bytes().to_vec();
        place.extend_from_slice(&self.versions[slot].to_be_bytes());
        batch.put(STREAMS, place, position);
    }

    fn commit(&mut self, engine: &dyn KvEngine, events: u64) {
        let mut batch = Batch::new();
        if self.layout == Layout::Group {
            let first = (self.position + 1).to_be_bytes();
            let count = usize::try_from(events).expect("a group's size fits a usize");
            batch.put(EVENTS, first, self.event.repeat(count));
            self.position += events;
        } else {
            for _ in 0..events {
                self.put_event(&mut batch);
            }
        }
        engine.commit(batch).expect("commit");
    }
}

fn main() {
    let prefill = probe::number_arg(1, PROBE_PREFILL_EVENTS, "prefill");
    let layout = std::env::args().nth(3).unwrap_or_else(|| "indexed".into());
    let probe_layout = match layout.as_str() {
        "indexed" => Layout::Indexed,
        "events" => Layout::Events,
        "group" => Layout::Group,
        other => panic!("layout: indexed, events or group, not {other}"),
    };
    for (kind, engine, _dir) in probe::engines(2) {
        let streams = (prefill / STREAM_EVENTS).max(1);
        let mut log = Log {
            keys: Keys(7),
            position: 0,
            versions: vec![0; usize::try_from(streams).expect("streams fit a usize")],
            event: vec![b'x'; EVENT_BYTES],
            layout: Layout::Indexed,
        };
        let mut filled = 0;
        while filled < prefill {
            let events = PREFILL_BATCH_EVENTS.min(prefill - filled);
            log.commit(engine.as_ref(), events);
            filled += events;
        }
        log.layout = probe_layout;
        for group in PROBE_GROUP_EVENTS {
            let started = Instant::now();
            let mut done = 0;
            while done < PROBE_EVENTS {
                log.commit(engine.as_ref(), group);
                done += group;
            }
            let per_event = started.elapsed().as_secs_f64() * 1e6 / done as f64;
            println!(
                "{kind} ({layout}): {prefill} events before, {group} events per durable commit: \
                 {per_event:.1} µs per event, {:.0} commits/s",
                1e6 / (per_event * group as f64)
            );
        }
    }
}
