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
    let held = horizon(&store.reader().await.unwrap()).await.unwrap();
    assert_eq!((held.committed, held.settled), (1, 0));
    older.rollback().await.unwrap();
    // Waits (bounded) in case another client of the server holds the horizon for a moment.
    let free = crate::read::settled(&store.reader().await.unwrap())
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
