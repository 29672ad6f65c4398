//! Throughput probe, not a test: writes `PROBE_ENTRIES` small entries into one table of each
//! compiled engine, then reads them all back in pages of `PROBE_PAGE_ENTRIES`, the way the event
//! store replays its log, and prints entries per second.
//!
//! `cargo run -p kv --release --all-features --example scan_probe [entries [engine [page]]]`

#![allow(clippy::expect_used)]

use std::ops::Bound;
use std::time::Instant;

use kv::{Batch, Table};

mod probe;

const PROBE_ENTRIES: u64 = 1_000_000;
const PROBE_BATCH_ENTRIES: u64 = 10_000;
const PROBE_PAGE_ENTRIES: usize = 1_000;
const PROBE_VALUE_BYTES: usize = 100;
const EVENTS: Table = Table::new("events");

fn main() {
    let entries = probe::number_arg(1, PROBE_ENTRIES, "entries");
    let page_entries: usize = probe::number_arg(3, PROBE_PAGE_ENTRIES, "page");
    for (kind, engine, _dir) in probe::engines(2) {
        let started = Instant::now();
        let mut n = 0_u64;
        while n < entries {
            let mut batch = Batch::new();
            for _ in 0..PROBE_BATCH_ENTRIES.min(entries - n) {
                n += 1;
                batch.put(
                    EVENTS,
                    n.to_be_bytes(),
                    vec![(n % 251) as u8; PROBE_VALUE_BYTES],
                );
            }
            engine.commit(batch).expect("commit");
        }
        let wrote = started.elapsed();

        // Twice: the first pass also pays for what the writes left behind (sled's epoch garbage).
        let mut scans = Vec::new();
        for _ in 0..2 {
            let started = Instant::now();
            let mut read = 0_u64;
            let mut from: Option<Vec<u8>> = None;
            loop {
                let low = from.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                let page = engine
                    .scan(EVENTS, low, Bound::Unbounded, page_entries)
                    .expect("scan");
                let Some((last, _)) = page.last() else { break };
                from = Some(last.clone());
                read += page.len() as u64;
            }
            let scanned = started.elapsed();
            assert_eq!(
                read, entries,
                "{kind}: read back a different number of entries"
            );
            scans.push(scanned);
        }
        println!(
            "{kind}: wrote {entries} entries of {PROBE_VALUE_BYTES} B in batches of \
             {PROBE_BATCH_ENTRIES} in {wrote:.2?} ({:.0}/s); scanned them in pages of \
             {page_entries} in {:.2?} ({:.0}/s), then again in {:.2?} ({:.0}/s)",
            entries as f64 / wrote.as_secs_f64(),
            scans[0],
            entries as f64 / scans[0].as_secs_f64(),
            scans[1],
            entries as f64 / scans[1].as_secs_f64(),
        );
    }
}
