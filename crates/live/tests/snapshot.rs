//! The snapshot is an optimisation, never the truth: load = rebuild, a foreign or damaged
//! snapshot is replaced, and a live subscriber ends where a rebuild ends.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, RwLock};
use std::time::Duration;

use domain::{DecisionId, EventType, NewEvent};
use projections::Projection;
use store::{EmbeddedStore, EventStore, ExpectedVersion, ImportOptions, system_clock};

fn events(decisions: u32) -> Vec<NewEvent> {
    let mut out = Vec::new();
    for n in 0..decisions {
        let decision: DecisionId = format!("00000000-0000-4000-8000-{n:012}").parse().unwrap();
        for event_type in [
            EventType::DecisionGranted,
            EventType::OrderSent,
            EventType::NoteRecorded,
        ] {
            let mut e =
                NewEvent::from_json(&domain::schema::example(event_type).to_string()).unwrap();
            e.decision_id = decision;
            e.event_id = None;
            e.occurred_on = "2023-01-10".parse().unwrap();
            out.push(e);
        }
    }
    out
}

async fn store_with(decisions: u32) -> (tempfile::TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("data"), None, system_clock()).unwrap();
    store
        .import(events(decisions), ImportOptions::default())
        .await
        .unwrap()
        .unwrap();
    (dir, store)
}

#[tokio::test]
async fn load_catches_up_from_the_snapshot_and_equals_a_rebuild() {
    let (dir, store) = store_with(20).await;
    let data = dir.path().join("data");
    let first = live::load(&store, &data, &mut |_, _| {}).await.unwrap();
    assert_eq!(first.head(), 60);
    assert_eq!(
        live::read_snapshot(&live::snapshot_path(&data)),
        Some(first.clone())
    );
    store
        .import(events(25).split_off(60), ImportOptions::default())
        .await
        .unwrap()
        .unwrap();
    let caught_up = live::load(&store, &data, &mut |_, _| {}).await.unwrap();
    assert_eq!(caught_up.head(), 75);
    let rebuilt = live::rebuild(&store, &data, &mut |_, _| {}).await.unwrap();
    assert_eq!(caught_up, rebuilt);
}

#[tokio::test]
async fn a_damaged_or_foreign_snapshot_is_rebuilt() {
    let (dir, store) = store_with(5).await;
    let data = dir.path().join("data");
    let good = live::load(&store, &data, &mut |_, _| {}).await.unwrap();
    std::fs::write(live::snapshot_path(&data), b"VKSTPRJ1 not postcard").unwrap();
    assert_eq!(
        live::load(&store, &data, &mut |_, _| {}).await.unwrap(),
        good
    );
    // A snapshot of another log (same length, other hashes) is not used.
    let (other_dir, other_store) = store_with(5).await;
    let foreign = live::load(&other_store, &other_dir.path().join("data"), &mut |_, _| {})
        .await
        .unwrap();
    assert_ne!(foreign.head_hash(), good.head_hash());
    live::save_snapshot(&foreign, &live::snapshot_path(&data)).unwrap();
    assert_eq!(
        live::load(&store, &data, &mut |_, _| {}).await.unwrap(),
        good
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_subscriber_ends_where_a_rebuild_ends() {
    let (dir, store) = store_with(3).await;
    let data = dir.path().join("data");
    let store: Arc<EmbeddedStore> = Arc::new(store);
    let shared = Arc::new(RwLock::new(Projection::new()));
    let subscriber = Arc::new(live::ProjectionSubscriber::new(
        Arc::clone(&shared),
        &data,
        4,
    ));
    subscriber.align_checkpoint(store.as_ref()).await.unwrap();
    let mut handle = store::subscription::spawn(store.clone(), subscriber, Default::default());
    for n in 100..110u32 {
        let mut e = events(n + 1).pop().unwrap();
        e.event_id = None;
        let mut grant = events(n + 1).swap_remove(3 * n as usize);
        grant.event_id = None;
        store
            .append(grant.decision_id, ExpectedVersion::NoStream, vec![grant, e])
            .await
            .unwrap()
            .unwrap();
    }
    let head = store.head().await.unwrap().position;
    tokio::time::timeout(Duration::from_secs(10), handle.wait_for(head))
        .await
        .unwrap();
    let rebuilt = live::rebuild(store.as_ref(), &data, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(*shared.read().unwrap(), rebuilt);
    handle.stop().await;
}

#[tokio::test]
async fn a_rebuild_of_pages_decoded_in_parts_equals_applying_every_event() {
    // 3 000 decisions: 9 000 events, one page cut into parts decoded on other threads.
    let (dir, store) = store_with(3_000).await;
    let rebuilt = live::rebuild(&store, &dir.path().join("data"), &mut |_, _| {})
        .await
        .unwrap();
    let mut applied = Projection::new();
    for event in store.read_all(0, usize::MAX, None).await.unwrap() {
        applied.apply(&event).unwrap();
    }
    applied.refresh_index();
    assert_eq!(applied.head(), 9_000);
    assert_eq!(rebuilt, applied);
}
