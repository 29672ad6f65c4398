//! The visibility horizon, seen from inside: a transaction that started before an append and
//! is still running holds that append back from readers until it ends.

#![allow(clippy::unwrap_used)]

use domain::NewEvent;
use store::{EventStore, ExpectedVersion};
use tokio_postgres::NoTls;

use crate::read::horizon;
use crate::{PgStore, ScratchDatabase};

fn grant() -> NewEvent {
    NewEvent::from_json(
        r#"{"type":"DecisionGranted","decision_id":"d0000000-0000-4000-8000-000000000001",
            "occurred_on":"2023-01-02","data":{"person":{"id":"19121212-1212","protected":false},
            "law":"SoL","insats":"sol_kontaktperson"}}"#,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_running_transaction_holds_the_horizon_until_it_ends() {
    let db = ScratchDatabase::create().await.unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    // Another database of the cluster: transaction ids are cluster-wide, so is the horizon.
    let other = ScratchDatabase::create().await.unwrap();
    let (mut client, connection) = tokio_postgres::connect(&other.config(), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let older = client.transaction().await.unwrap();
    older
        .query_one("SELECT pg_current_xact_id()", &[])
        .await
        .unwrap();
    let d = grant().decision_id;
    store
        .append(d, ExpectedVersion::NoStream, vec![grant()])
        .await
        .unwrap()
        .unwrap();
    let held = horizon(&store.reader().await.unwrap(), &store.reader.floor)
        .await
        .unwrap();
    assert_eq!((held.committed, held.settled), (1, 0));
    older.rollback().await.unwrap();
    // Waits (bounded) in case another client of the server holds the horizon for a moment.
    let free = crate::read::settled(&store.reader().await.unwrap(), &store.reader.floor)
        .await
        .unwrap();
    assert_eq!((free.committed, free.settled), (1, 1));
    assert_eq!(store.read_all(0, 10, None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_database_that_is_not_there_is_a_backend_failure_that_says_what_postgresql_said() {
    let db = ScratchDatabase::create().await.unwrap();
    let missing = format!("{}_missing", db.config());
    match PgStore::connect(&missing).await {
        Err(store::StoreError::Backend { backend, detail }) => {
            assert_eq!(backend, "PostgreSQL");
            // 3D000: invalid_catalog_name, the database does not exist.
            assert!(detail.contains("SQLSTATE 3D000"), "{detail}");
        }
        Err(other) => panic!("expected a backend failure, got {other:?}"),
        Ok(_) => panic!("connected to a database that does not exist"),
    }
}

/// The horizon's query looks only above the floor: with the log settled, it reads none of the
/// events below (before the floor, it walked the whole primary key on every read, so a replay
/// grew with the square of the log).
#[tokio::test]
async fn the_horizon_reads_only_above_what_was_seen_settled() {
    let db = ScratchDatabase::create().await.unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    let events: Vec<_> = (0..300u32)
        .map(|n| {
            let mut event = grant();
            event.decision_id = domain::DecisionId::from_uuid(uuid::Uuid::from_u128(
                0xd000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n),
            ));
            event
        })
        .collect();
    store
        .import(events, store::ImportOptions::default())
        .await
        .unwrap()
        .unwrap();
    let client = store.reader().await.unwrap();
    let seen = crate::read::settled(&client, &store.reader.floor)
        .await
        .unwrap();
    assert_eq!(seen.settled, 300);
    let floor = store
        .reader
        .floor
        .load(std::sync::atomic::Ordering::Acquire);
    assert_eq!(floor, 300);
    let examined = |above: i64| {
        let client = std::sync::Arc::clone(&client);
        async move {
            let sql = crate::read::HORIZON_SQL.replace("$1", &above.to_string());
            let answer = client
                .simple_query(&format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}"))
                .await
                .unwrap();
            let text = answer
                .iter()
                .find_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .expect("EXPLAIN answers one row");
            rows_read(&serde_json::from_str(&text).unwrap())
        }
    };
    // From nothing, the scan meets every event; from the floor, none.
    assert!(examined(0).await >= 300);
    assert_eq!(examined(300).await, 0);
}

/// The rows every scan of `verkstall.events` in a plan read: returned plus removed by a filter.
fn rows_read(plan: &serde_json::Value) -> u64 {
    let mut total = 0;
    let mut nodes = vec![&plan[0]["Plan"]];
    while let Some(node) = nodes.pop() {
        if node["Relation Name"] == "events" {
            total += node["Actual Rows"].as_u64().unwrap_or(0)
                + node["Rows Removed by Filter"].as_u64().unwrap_or(0);
        }
        if let Some(children) = node["Plans"].as_array() {
            nodes.extend(children);
        }
    }
    total
}

/// Whether `ANALYZE verkstall.events` has been run by hand (autovacuum's runs are counted apart).
async fn analyzed(store: &PgStore) -> bool {
    store
        .reader()
        .await
        .unwrap()
        .query_one(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
             WHERE schemaname = 'verkstall' AND relname = 'events'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// After a bulk import the planner knows the log's size at once (before, it planned pages of a
/// freshly loaded log as sorts of the whole rest of it); a small import leaves that to
/// autovacuum.
#[tokio::test]
async fn a_bulk_import_brings_the_planners_statistics_up_to_date() {
    let db = ScratchDatabase::create().await.unwrap();
    let store = PgStore::connect(&db.config()).await.unwrap();
    let grants = |from: u32, count: u32| -> Vec<NewEvent> {
        (from..from + count)
            .map(|n| {
                let mut event = grant();
                event.decision_id = domain::DecisionId::from_uuid(uuid::Uuid::from_u128(
                    0xd000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n),
                ));
                event
            })
            .collect()
    };
    let small = u32::try_from(crate::ANALYZE_AFTER_IMPORT_EVENTS).unwrap() - 1;
    store
        .import(grants(0, small), store::ImportOptions::default())
        .await
        .unwrap()
        .unwrap();
    assert!(!analyzed(&store).await);
    store
        .import(grants(small, small + 1), store::ImportOptions::default())
        .await
        .unwrap()
        .unwrap();
    assert!(analyzed(&store).await);
}
