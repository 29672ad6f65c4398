//! Generates a demo run and prints how long it took, how much memory it held and what it holds:
//! `cargo run --release -p demo --example demo_stats -- [DECISIONS] [SEED] [collect|stream]`.
//!
//! `collect` (the default) holds the whole run, as `demo::generate` does; `stream` counts events
//! as `demo::stream` hands them out; `fill` fills a fresh embedded store in a temporary directory
//! and verifies it, as `verkstall demo` will.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use demo::{DemoOptions, DemoSummary};
use domain::{DecisionId, EventData, Insats};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let decisions = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(demo::DEFAULT_DECISIONS);
    let seed = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mode = args.get(3).map_or("collect", String::as_str);
    let until = DateTime::parse_from_rfc3339("2026-05-12T09:30:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc);
    let options = DemoOptions {
        decisions,
        ..DemoOptions::new(seed, until)
    };
    let started = Instant::now();
    if mode == "fill" {
        fill(&options);
        return;
    }
    if mode == "stream" {
        let mut summary = DemoSummary::default();
        for event in demo::stream(&options) {
            summary.add(&event);
        }
        let elapsed = started.elapsed();
        println!(
            "streamed {} decisions, {} events in {:.2} s; peak memory {} MiB",
            summary.decisions,
            summary.events,
            elapsed.as_secs_f64(),
            peak_mib()
        );
        return;
    }
    let events = demo::generate(&options);
    let elapsed = started.elapsed();
    let summary = DemoSummary::of(&events);
    println!(
        "generated {} decisions, {} events ({:.2} per decision) in {:.2} s; peak memory {} MiB",
        summary.decisions,
        summary.events,
        summary.events as f64 / summary.decisions as f64,
        elapsed.as_secs_f64(),
        peak_mib()
    );
    for (event_type, count) in &summary.by_type {
        println!("  {event_type:<20} {count:>9}");
    }
    let n = summary.decisions as f64;
    let mut insats: BTreeMap<Insats, (u64, u64)> = BTreeMap::new();
    let mut reported: HashSet<DecisionId> = HashSet::new();
    let mut decision_insats: HashMap<DecisionId, Insats> = HashMap::new();
    let (mut advance, mut protected, mut women) = (0u64, 0u64, 0u64);
    for event in &events {
        match &event.data {
            EventData::DecisionGranted(g) => {
                decision_insats.insert(event.decision_id, g.insats);
                insats.entry(g.insats).or_default().0 += 1;
                advance += u64::from(g.forhandsbesked);
                protected += u64::from(g.person.protected);
                women += u64::from(g.person.id.sex() == domain::Sex::Female);
            }
            EventData::ReportedToIvo(_) => {
                reported.insert(event.decision_id);
            }
            _ => {}
        }
    }
    for decision in &reported {
        if let Some(i) = decision_insats.get(decision) {
            insats.entry(*i).or_default().1 += 1;
        }
    }
    println!(
        "SoL {:.1} %, förhandsbesked {:.1} %, protected {:.1} %, women {:.1} %, reported to IVO {:.1} %",
        100.0 * summary.by_law.get("SoL").copied().unwrap_or(0) as f64 / n,
        100.0 * advance as f64 / n,
        100.0 * protected as f64 / n,
        100.0 * women as f64 / n,
        100.0 * reported.len() as f64 / n,
    );
    for (i, (count, with_report)) in &insats {
        println!(
            "  {:<32} {:>5.1} % of decisions, {:>5.1} % reported to IVO",
            i.short_form(),
            100.0 * *count as f64 / n,
            100.0 * *with_report as f64 / *count as f64
        );
    }
}

/// Fills a fresh embedded store and verifies it, timing both.
fn fill(options: &DemoOptions) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = store::EmbeddedStore::open(dir.path(), None, store::system_clock())
        .expect("the store opens");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let started = Instant::now();
    let summary = runtime
        .block_on(demo::fill(&store, options, &mut |_, _| {}))
        .expect("the demo fills the store");
    let filled = started.elapsed();
    let started = Instant::now();
    let report = store
        .verify(&mut |_, _| {})
        .expect("the storage works")
        .expect("the log verifies");
    println!(
        "filled {} decisions, {} events in {:.2} s; verified {} events in {:.2} s; peak memory {} MiB",
        summary.decisions,
        summary.events,
        filled.as_secs_f64(),
        report.events,
        started.elapsed().as_secs_f64(),
        peak_mib()
    );
}

/// The process's peak resident memory, from Linux's /proc (0 elsewhere).
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}
