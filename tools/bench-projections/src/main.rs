//! `bench-projections`: how fast the projections answer once they are in memory, apart from
//! process start and snapshot loading (which `verkstall` commands add on top).
//!
//! It generates the demo municipality (`--decisions`, default 1 000 000), turns its events into
//! stored events in memory (positions, versions; hashes are not needed by the fold), folds them,
//! and times: the fold (events/s), refreshing the open-case index, the IVO report for a past
//! quarter as of a past moment, and open cases now; the memory the projection takes; and saving
//! and reading the snapshot file (`live`) in a temporary directory.
//! Each query is the median of `--runs` (default 5) with min–max. Output: one Markdown table.
//!
//! Usage: `cargo run --release -p bench-projections -- [--decisions N] [--runs N] [--seed N]`
//! (`--help` lists the defaults).

mod args;

use std::time::Instant;

use bench_common::args::Checked;
use chrono::{DateTime, Datelike, Duration, Utc};
use domain::{EventId, Quarter, RecordedEvent};
use projections::Projection;

use crate::args::Args;

/// The allocator the `verkstall` binary uses, so the figures are the product's, counting the
/// bytes allocated and not yet freed: the projection's memory is what folding leaves allocated.
/// (The resident set cannot tell: the allocator reuses memory freed earlier, here the
/// generator's, without growing it.)
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

fn main() {
    let Args {
        decisions,
        runs,
        seed,
    } = Args::parse_checked();
    let runs = runs.max(1);
    let until: DateTime<Utc> = Utc::now();
    let mut options = demo::DemoOptions::new(seed, until);
    options.decisions = decisions;
    eprintln!("generating {decisions} decisions …");
    let started = Instant::now();
    let events = demo::generate(&options);
    let generated = started.elapsed();
    let stored = to_recorded(events);
    let total = stored.len() as u64;

    eprintln!("folding {total} events …");
    let heap_before = ALLOCATOR.allocated();
    let started = Instant::now();
    let mut projection = Projection::new();
    // As `live::catch_up` folds a log.
    projection.reserve(stored.len());
    for event in &stored {
        projection.apply(event).expect("the demo log folds");
    }
    projection.trim();
    let fold = started.elapsed();
    let started = Instant::now();
    projection.refresh_index();
    let index = started.elapsed();
    let heap_after = ALLOCATOR.allocated();
    // The stored events are kept alive above; their size is not the projection's.
    drop(stored);

    let last_year = until.year() - 1;
    let quarter = Quarter::new(last_year, 2).expect("a quarter");
    let as_of = domain::time::end_of_business_day(quarter.ivo_report_due()).expect("in range");
    let today = domain::time::business_date(until);
    let worklist = time(runs, || {
        projections::worklist::ivo_worklist(&projection, quarter, None, as_of)
            .items
            .len()
    });
    let council = time(runs, || {
        projections::council::council_report(&projection, quarter, None, as_of)
            .rows
            .len()
    });
    let open_now = time(runs, || {
        projections::open_cases::open_cases(&projection, today, until + Duration::days(1))
            .items
            .len()
    });
    let open_past = time(runs, || {
        projections::open_cases::open_cases(&projection, quarter.end(), as_of)
            .items
            .len()
    });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = live::snapshot_path(dir.path());
    let started = Instant::now();
    live::save_snapshot(&projection, &path).expect("the snapshot saves");
    let saved = started.elapsed();
    let snapshot_bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    assert!(
        live::read_snapshot(&path).is_some_and(|read| read == projection),
        "the snapshot reads back equal"
    );
    let read_only = time(runs, || {
        live::read_snapshot(&path)
            .expect("the snapshot reads back")
            .len()
    });

    println!("## Projections in memory ({decisions} decisions, {total} events)\n");
    println!(
        "- Command: `cargo run --release -p bench-projections -- --decisions {decisions} --runs {runs} --seed {seed}`"
    );
    println!(
        "- Generated in {:.1} s (not part of any figure below); medians of {runs} runs (min–max)\n",
        generated.as_secs_f64()
    );
    println!("| measurement | figure | target (issue 4) |\n|---|---:|---|");
    println!(
        "| fold (apply every event) | {:.0} events/s ({:.1} s) | rebuild ≥ 1 000 000 events/s |",
        total as f64 / fold.as_secs_f64(),
        fold.as_secs_f64()
    );
    println!(
        "| refresh the open-case index after the fold | {:.2} s | |",
        index.as_secs_f64()
    );
    println!(
        "| memory of the projection (heap it holds after folding and indexing) | {:.0} MiB | ≤ 1 GiB |",
        (heap_after.saturating_sub(heap_before)) as f64 / (1024.0 * 1024.0)
    );
    println!(
        "| IVO worklist {quarter} as of {} ({} items) | {} | ≤ 2 s |",
        domain::event::format_instant(&as_of),
        worklist.0,
        worklist.1
    );
    println!(
        "| council statistics {quarter}, same moment ({} rows) | {} | ≤ 2 s |",
        council.0, council.1
    );
    println!(
        "| open cases now ({} items, from the index) | {} | ≤ 50 ms |",
        open_now.0, open_now.1
    );
    println!(
        "| save the snapshot ({:.0} MB) | {:.2} s | |",
        snapshot_bytes as f64 / 1e6,
        saved.as_secs_f64()
    );
    println!(
        "| read the snapshot (and drop it) | {} | CLI report ≤ 2 s |",
        read_only.1
    );
    println!(
        "| open cases on {} as of a past moment ({} items, full scan) | {} | ≤ 2 s |",
        quarter.end(),
        open_past.0,
        open_past.1
    );
}

/// Runs `query` `runs` times: its result and "median ms (min–max)".
fn time(runs: usize, mut query: impl FnMut() -> usize) -> (usize, String) {
    let mut result = 0;
    let mut millis: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            result = std::hint::black_box(query());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    millis.sort_by(f64::total_cmp);
    let median = millis[millis.len() / 2];
    (
        result,
        format!(
            "{median:.1} ms ({:.1}–{:.1})",
            millis[0],
            millis[millis.len() - 1]
        ),
    )
}

/// The demo's events as a store would hold them: positions and versions in order.
fn to_recorded(events: Vec<domain::NewEvent>) -> Vec<RecordedEvent> {
    let mut versions = std::collections::HashMap::new();
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let version = versions.entry(e.decision_id).or_insert(0u64);
            *version += 1;
            RecordedEvent {
                position: i as u64 + 1,
                version: *version,
                recorded_at: e.recorded_at.expect("the demo sets recorded_at"),
                event_id: e
                    .event_id
                    .unwrap_or_else(|| EventId::from_uuid(Default::default())),
                decision_id: e.decision_id,
                occurred_on: e.occurred_on,
                actor: e.actor,
                data: e.data,
                hash: String::new(),
            }
        })
        .collect()
}
