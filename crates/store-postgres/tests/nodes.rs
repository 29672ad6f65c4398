//! Several nodes on one database: what the conformance suite cannot show with one `PgStore`
//! (whose own appends queue behind one connection). Each test gets a scratch database; every
//! wait is bounded.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use domain::{DecisionId, EventId, NewEvent, RecordedEvent};
use store::{EventStore, ExpectedVersion, GENESIS_HASH, RefusalKind, chain_hash};
use store_postgres::{PgStore, SCHEMA_VERSION, ScratchDatabase};
use tokio::sync::Barrier;

const NODES: usize = 3;
const HANG: Duration = Duration::from_secs(120);

fn decision(n: u64) -> DecisionId {
    format!("d0000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

fn event_id(n: u64) -> EventId {
    format!("e0000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

fn event(d: DecisionId, id: EventId, kind: &str) -> NewEvent {
    let (type_, occurred, data) = match kind {
        "grant" => (
            "DecisionGranted",
            "2023-01-02",
            r#"{"person":{"id":"19121212-1212","protected":false},"law":"SoL","insats":"sol_kontaktperson"}"#,
        ),
        "order" => ("OrderSent", "2023-01-10", r#"{"provider":"Utförare"}"#),
        "verkstalld" => ("Verkställd", "2023-01-10", "{}"),
        _ => (
            "NoteRecorded",
            "2023-01-10",
            r#"{"kind":"contact","text":"-"}"#,
        ),
    };
    NewEvent::from_json(&format!(
        r#"{{"type":"{type_}","decision_id":"{d}","event_id":"{id}","occurred_on":"{occurred}","data":{data}}}"#
    ))
    .unwrap()
}

async fn nodes(db: &ScratchDatabase) -> Vec<Arc<PgStore>> {
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        nodes.push(Arc::new(PgStore::connect(&db.config()).await.unwrap()));
    }
    nodes
}

async fn read_everything(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut all: Vec<RecordedEvent> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e.position);
        let page = store.read_all(after, 1000, None).await.unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Positions 1..=n, versions contiguous per stream, `recorded_at` never going back, and every
/// hash link recomputed from the canonical bytes.
fn assert_chain(events: &[RecordedEvent]) {
    let mut previous = GENESIS_HASH;
    let mut versions: HashMap<DecisionId, u64> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1);
        let version = versions.entry(e.decision_id).or_default();
        *version += 1;
        assert_eq!(e.version, *version);
        if i > 0 {
            assert!(events[i - 1].recorded_at <= e.recorded_at);
        }
        let link = chain_hash(&previous, e.to_json_without_hash().as_bytes());
        let hex: String = link.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(e.hash, hex, "the chain breaks at position {}", e.position);
        previous = link;
    }
}

async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(HANG, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: a hang"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_racing_on_one_stream_one_winner_per_version() {
    const PER_NODE: usize = 4;
    const ROUNDS: u64 = 8;
    let db = ScratchDatabase::create().await.unwrap();
    let nodes = nodes(&db).await;
    let d = decision(1);
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(NODES * PER_NODE));
        let mut tasks = Vec::new();
        for (n, node) in nodes.iter().enumerate() {
            for k in 0..PER_NODE {
                let (node, barrier) = (Arc::clone(node), Arc::clone(&barrier));
                let id = event_id(round * 100 + (n * PER_NODE + k) as u64);
                let e = event(d, id, if round == 0 { "grant" } else { "note" });
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    node.append(d, ExpectedVersion::Exact(round), vec![e])
                        .await
                        .unwrap()
                }));
            }
        }
        let mut winners = 0;
        for task in tasks {
            match within("a racing append", task).await.unwrap() {
                Ok(appended) => {
                    winners += 1;
                    assert_eq!(appended.version, round + 1);
                }
                Err(refusal) => assert!(
                    matches!(refusal.kind, RefusalKind::Conflict { actual, .. } if actual == round + 1),
                    "{refusal}"
                ),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    for node in &nodes {
        let all = read_everything(node.as_ref()).await;
        assert_eq!(all.len() as u64, ROUNDS);
        assert_chain(&all);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_checking_rules_see_each_others_events() {
    const DECISIONS: u64 = 6;
    let db = ScratchDatabase::create().await.unwrap();
    let nodes = nodes(&db).await;
    for n in 0..DECISIONS {
        let d = decision(n);
        let appended = nodes[0]
            .append(
                d,
                ExpectedVersion::NoStream,
                vec![
                    event(d, event_id(n * 10), "grant"),
                    event(d, event_id(n * 10 + 1), "order"),
                ],
            )
            .await
            .unwrap();
        assert!(appended.is_ok());
    }
    // Every node tries a full Verkställd of every decision, with Any: only the rules stop them.
    let barrier = Arc::new(Barrier::new(NODES * DECISIONS as usize));
    let mut tasks = Vec::new();
    for (k, node) in nodes.iter().enumerate() {
        for n in 0..DECISIONS {
            let (node, barrier) = (Arc::clone(node), Arc::clone(&barrier));
            tasks.push(tokio::spawn(async move {
                let d = decision(n);
                let e = event(d, event_id(1000 + n * 10 + k as u64), "verkstalld");
                barrier.wait().await;
                (
                    n,
                    node.append(d, ExpectedVersion::Any, vec![e]).await.unwrap(),
                )
            }));
        }
    }
    let mut accepted: HashMap<u64, usize> = HashMap::new();
    for task in tasks {
        let (n, result) = within("a racing Verkställd", task).await.unwrap();
        match result {
            Ok(_) => *accepted.entry(n).or_default() += 1,
            Err(refusal) => assert!(matches!(refusal.kind, RefusalKind::Rule(_)), "{refusal}"),
        }
    }
    for n in 0..DECISIONS {
        assert_eq!(accepted.get(&n), Some(&1), "decision {n}");
    }
    assert_chain(&read_everything(nodes[1].as_ref()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_on_one_node_is_woken_by_appends_on_another() {
    let db = ScratchDatabase::create().await.unwrap();
    let nodes = nodes(&db).await;
    let mut head = nodes[1].watch_head();
    assert_eq!(*head.borrow(), 0);
    let d = decision(1);
    nodes[0]
        .append(
            d,
            ExpectedVersion::NoStream,
            vec![event(d, event_id(1), "grant")],
        )
        .await
        .unwrap()
        .unwrap();
    within("the other node's head", head.wait_for(|p| *p >= 1))
        .await
        .unwrap();
    assert_eq!(nodes[1].head().await.unwrap().position, 1);
    assert_eq!(read_everything(nodes[2].as_ref()).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unique_constraints_hold_without_the_head_lock() {
    let db = ScratchDatabase::create().await.unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    let d = decision(1);
    store
        .append(
            d,
            ExpectedVersion::NoStream,
            vec![event(d, event_id(1), "grant")],
        )
        .await
        .unwrap()
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&db.config(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // Another version 1 of the same stream, and another row with the same event id.
    for sql in [
        "INSERT INTO verkstall.events (position, decision_id, version, event_id, recorded_at, line)
         SELECT 2, decision_id, 1, gen_random_uuid(), recorded_at, line FROM verkstall.events",
        "INSERT INTO verkstall.events (position, decision_id, version, event_id, recorded_at, line)
         SELECT 2, decision_id, 2, event_id, recorded_at, line FROM verkstall.events",
    ] {
        let error = client.execute(sql, &[]).await.unwrap_err();
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
            "{error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_apply_once_however_many_nodes_start_at_once() {
    let db = ScratchDatabase::create().await.unwrap();
    let config = db.config();
    let mut starts = Vec::new();
    for _ in 0..6 {
        let config = config.clone();
        starts.push(tokio::spawn(async move {
            PgStore::connect(&config).await.map(|_| ())
        }));
    }
    for start in starts {
        within("a start", start).await.unwrap().unwrap();
    }
    // Once more, later: nothing to do.
    drop(PgStore::connect(&config).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM verkstall.schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    // A database migrated by a newer verkstall is refused.
    client
        .execute(
            "INSERT INTO verkstall.schema_migrations (version, name) VALUES ($1, 'from the future')",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    let refused = PgStore::connect(&config).await.unwrap_err();
    assert!(
        refused.to_string().contains("upgrade verkstall"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_restored_from_another_cluster_are_readable_after_a_start() {
    let db = ScratchDatabase::create().await.unwrap();
    let d = decision(1);
    {
        let store = PgStore::connect(&db.config()).await.unwrap();
        store
            .append(
                d,
                ExpectedVersion::NoStream,
                vec![
                    event(d, event_id(1), "grant"),
                    event(d, event_id(2), "note"),
                ],
            )
            .await
            .unwrap()
            .unwrap();
    }
    // What a restore into a younger cluster looks like: transaction ids this cluster has not
    // handed out yet.
    let (client, connection) = tokio_postgres::connect(&db.config(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE verkstall.events SET tx = ((pg_snapshot_xmax(pg_current_snapshot())::text::bigint
                                               + 1000000)::text)::xid8",
            &[],
        )
        .await
        .unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    let all = read_everything(&store).await;
    assert_eq!(all.len(), 2);
    assert_chain(&all);
    let settled: i64 = client
        .query_one(
            "SELECT count(*) FROM verkstall.events WHERE tx = '0'::xid8",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(settled, 2);
}

/// Every connection of a store ended by the server (`pg_terminate_backend`, as a restart or a
/// failover ends them): the store connects again by itself. The next append, read and head
/// after the loss succeed, nothing is lost or written twice, and the head's watch (woken by the
/// listening connection, which connects again too) follows the new appends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_connects_again_after_the_server_ends_its_connections() {
    const ROUNDS: u64 = 3;
    let db = ScratchDatabase::create().await.unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    let mut watch = store.watch_head();
    let d = decision(1);
    store
        .append(
            d,
            ExpectedVersion::NoStream,
            vec![event(d, event_id(0), "grant")],
        )
        .await
        .unwrap()
        .unwrap();
    for round in 1..=ROUNDS {
        // Its three connections (writing, reading, listening) are up again first.
        let started = std::time::Instant::now();
        while db
            .execute(
                "SELECT 1 FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap()
            < 3
        {
            assert!(
                started.elapsed() < HANG,
                "round {round}: not connected again"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let ended = db
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        // The writing, reading and listening connections.
        assert!(ended >= 3, "round {round}: {ended} connections ended");
        let appended = store
            .append(
                d,
                ExpectedVersion::Exact(round),
                vec![event(d, event_id(round), "note")],
            )
            .await
            .unwrap_or_else(|e| panic!("round {round}: the append after the loss failed: {e}"))
            .unwrap();
        assert_eq!(appended.events[0].position, round + 1, "round {round}");
        assert!(!appended.duplicate);
        let head = store.head().await.unwrap();
        assert_eq!(head.position, round + 1, "round {round}");
        tokio::time::timeout(HANG, watch.wait_for(|h| *h == round + 1))
            .await
            .unwrap_or_else(|_| panic!("round {round}: the head's watch did not follow"))
            .unwrap();
    }
    // Ended once more, then read first: the read runs again on a new connection.
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await
    .unwrap();
    let all = read_everything(&store).await;
    assert_eq!(all.len() as u64, ROUNDS + 1);
    assert_chain(&all);
    let ids: Vec<EventId> = all.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (0..=ROUNDS).map(event_id).collect::<Vec<_>>());
    let report = store.verify(&mut |_, _| {}).await.unwrap().unwrap();
    assert_eq!(report.events, ROUNDS + 1);
}
