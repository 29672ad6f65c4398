//! Durable append throughput and full-log read on PostgreSQL, in the shape of `tools/bench-store`
//! (which measures the embedded engines): appenders each appending their own decisions' events
//! one per append, in stream order, with the exact expected version; then a log loaded by
//! imports and read whole in order. Every answer is checked. Each measurement gets a scratch
//! database on the server of `VERKSTALL_TEST_POSTGRES` (else 127.0.0.1:5432, user postgres).
//!
//! `cargo run --release -p store-postgres --example bench -- [APPENDS] [READ_EVENTS]`
//! (defaults 4000 and 100000). Nothing is tuned: the server's own settings (`synchronous_commit`
//! is printed), so every acknowledged append is durable as the server is configured.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{DecisionId, NewEvent};
use store::{EventStore, ExpectedVersion, ImportOptions};
use store_postgres::{PgStore, ScratchDatabase};

/// Events per decision in the append runs (a grant, then notes).
const EVENTS_PER_DECISION: u64 = 20;
/// Events per import while loading the log to read.
const IMPORT_CHUNK_EVENTS: usize = 10_000;
/// Events asked for per `read_all`.
const READ_PAGE_EVENTS: usize = 10_000;

fn decision(n: u64) -> DecisionId {
    format!("d0000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

fn event(d: DecisionId, version: u64) -> NewEvent {
    let json = if version == 0 {
        format!(
            r#"{{"type":"DecisionGranted","decision_id":"{d}","occurred_on":"2023-01-02","data":{{"person":{{"id":"19121212-1212","protected":false}},"law":"SoL","insats":"sol_kontaktperson"}}}}"#
        )
    } else {
        format!(
            r#"{{"type":"NoteRecorded","decision_id":"{d}","occurred_on":"2023-01-10","data":{{"kind":"contact","text":"Kontakt nummer {version} med den enskilde."}}}}"#
        )
    };
    NewEvent::from_json(&json).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// `nodes` stores on one database, `per_node` appenders each, `appends` appends in all.
async fn appends(nodes: usize, per_node: usize, appends: u64) {
    let db = ScratchDatabase::create().await.unwrap();
    let mut stores = Vec::new();
    for _ in 0..nodes {
        stores.push(Arc::new(PgStore::connect(&db.config()).await.unwrap()));
    }
    let appenders = (nodes * per_node) as u64;
    let per_appender = appends / appenders;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for a in 0..appenders {
        let store = Arc::clone(&stores[(a as usize) % nodes]);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_appender as usize);
            for i in 0..per_appender {
                let n = a * 1_000_000 + i / EVENTS_PER_DECISION;
                let version = i % EVENTS_PER_DECISION;
                let expected = if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                };
                let d = decision(n);
                let t = Instant::now();
                let appended = store
                    .append(d, expected, vec![event(d, version)])
                    .await
                    .unwrap()
                    .unwrap();
                latencies.push(t.elapsed());
                assert_eq!(appended.version, version + 1);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let total = per_appender * appenders;
    assert_eq!(stores[0].head().await.unwrap().position, total);
    latencies.sort();
    println!(
        "| append, {nodes} node(s) x {per_node} appender(s) | {total} | {:.2} s | {:.0} events/s | p50 {:.2} ms, p99 {:.2} ms |",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    );
}

/// Loads `events` by imports, then reads the whole log in order.
async fn load_and_read(events: u64) {
    let db = ScratchDatabase::create().await.unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    let decisions = events / EVENTS_PER_DECISION;
    let all: Vec<NewEvent> = (0..decisions)
        .flat_map(|n| (0..EVENTS_PER_DECISION).map(move |v| event(decision(n), v)))
        .collect();
    let started = Instant::now();
    for chunk in all.chunks(IMPORT_CHUNK_EVENTS) {
        store
            .import(chunk.to_vec(), ImportOptions::default())
            .await
            .unwrap()
            .unwrap();
    }
    let loaded = started.elapsed();
    let total = decisions * EVENTS_PER_DECISION;
    println!(
        "| import, chunks of {IMPORT_CHUNK_EVENTS} | {total} | {:.2} s | {:.0} events/s | |",
        loaded.as_secs_f64(),
        total as f64 / loaded.as_secs_f64()
    );
    let started = Instant::now();
    let mut last = 0u64;
    loop {
        let page = store.read_all(last, READ_PAGE_EVENTS, None).await.unwrap();
        let Some(end) = page.last() else { break };
        assert_eq!(page[0].position, last + 1);
        last = end.position;
    }
    let read = started.elapsed();
    assert_eq!(last, total);
    println!(
        "| read whole log in order, pages of {READ_PAGE_EVENTS} (decoded) | {total} | {:.2} s | {:.0} events/s | |",
        read.as_secs_f64(),
        total as f64 / read.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let append_count: u64 = args.next().map_or(4000, |a| a.parse().unwrap());
    let read_count: u64 = args.next().map_or(100_000, |a| a.parse().unwrap());
    {
        let db = ScratchDatabase::create().await.unwrap();
        let (client, connection) = tokio_postgres::connect(&db.config(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        for setting in [
            "server_version",
            "synchronous_commit",
            "fsync",
            "wal_sync_method",
        ] {
            let row = client
                .query_one(&format!("SHOW {setting}"), &[])
                .await
                .unwrap();
            println!("{setting} = {}", row.get::<_, String>(0));
        }
    }
    println!("\n| measurement | events | time | throughput | latency |\n|---|---|---|---|---|");
    for (nodes, per_node) in [(1, 1), (1, 16), (4, 4), (4, 64)] {
        appends(nodes, per_node, append_count).await;
    }
    load_and_read(read_count).await;
}
