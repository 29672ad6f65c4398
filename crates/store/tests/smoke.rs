//! A smoke test of the embedded store: append, read back, verify, reopen. The full conformance
//! suite lives in the workspace's `tests/` package.

#![allow(clippy::unwrap_used, missing_docs)]

use domain::{EventType, NewEvent};
use store::{EmbeddedStore, EventStore, ExpectedVersion, ImportOptions, RefusalKind, system_clock};

fn example(event_type: EventType) -> NewEvent {
    NewEvent::from_json(&domain::schema::example(event_type).to_string()).unwrap()
}

#[tokio::test]
async fn append_read_verify_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path(), None, system_clock()).unwrap();
    let mut grant = example(EventType::DecisionGranted);
    grant.event_id = None;
    let decision = grant.decision_id;
    let appended = store
        .append(decision, ExpectedVersion::NoStream, vec![grant.clone()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(appended.version, 1);
    assert_eq!(appended.events[0].position, 1);
    // The same again, with the generated id: idempotent.
    grant.event_id = Some(appended.events[0].event_id);
    let again = store
        .append(decision, ExpectedVersion::NoStream, vec![grant])
        .await
        .unwrap()
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.events, appended.events);
    // A stale expected version conflicts.
    let mut order = example(EventType::OrderSent);
    order.event_id = None;
    let conflict = store
        .append(decision, ExpectedVersion::NoStream, vec![order.clone()])
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(conflict.kind, RefusalKind::Conflict { actual: 1, .. }),
        "{conflict}"
    );
    store
        .append(decision, ExpectedVersion::Exact(1), vec![order])
        .await
        .unwrap()
        .unwrap();
    // A broken rule is refused.
    let mut interrupted = example(EventType::Interrupted);
    interrupted.event_id = None;
    let refused = store
        .append(decision, ExpectedVersion::Any, vec![interrupted])
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(refused.kind, RefusalKind::Rule(_)), "{refused}");
    // A repeated request answers with the version its first time left the stream at, even
    // after the stream has moved on.
    let grant_again = store.read_stream(decision, None).await.unwrap()[0].clone();
    let mut repeat = example(EventType::DecisionGranted);
    repeat.event_id = Some(grant_again.event_id);
    let repeated = store
        .append(decision, ExpectedVersion::Any, vec![repeat])
        .await
        .unwrap()
        .unwrap();
    assert!(repeated.duplicate);
    assert_eq!(
        repeated.version, 1,
        "the stream is at 2, the original append left it at 1"
    );
    // A checkpoint cannot be beyond the head.
    assert!(store.save_checkpoint("s", 99).await.is_err());
    store.save_checkpoint("s", 2).await.unwrap();
    let stream = store.read_stream(decision, None).await.unwrap();
    assert_eq!(stream.len(), 2);
    let all = store.read_all(0, 100, None).await.unwrap();
    assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2]);
    let report = store.verify(&mut |_, _| {}).unwrap().unwrap();
    assert_eq!((report.events, report.decisions), (2, 1));
    // Dry-run imports write nothing.
    let mut note = example(EventType::NoteRecorded);
    note.event_id = None;
    let dry = store
        .import(
            vec![note],
            ImportOptions {
                dry_run: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dry.appended, 1);
    assert_eq!(store.head().await.unwrap().position, 2);
    drop(store);
    let reopened = EmbeddedStore::open(dir.path(), None, system_clock()).unwrap();
    assert_eq!(reopened.head().await.unwrap().position, 2);
    assert_eq!(reopened.read_all(0, 100, None).await.unwrap(), all);
}
