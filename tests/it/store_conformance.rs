//! The store conformance suite: one set of cases, written once against `Arc<dyn EventStore>`,
//! run on every engine: redb always, sled with `--features sled`, and PostgreSQL always (a
//! scratch database per case on the server `.ci/run` starts; see `fixtures::Postgres`). On
//! PostgreSQL, "reopening" a store is connecting again to the same database.
//!
//! It proves, on each engine: optimistic concurrency (`Any`, `NoStream`, `Exact`) with refusals
//! that write nothing; exactly one winner per version when appenders race on one stream; no
//! lost event and no gap ever visible to a reader when many streams are written at once; the §6
//! rules checked inside the single writer (two racing `Verkställd`, one refused); `recorded_at`
//! from the store's clock and never going backwards; idempotent appends by `event_id`; reads
//! *as of* a moment; imports all or nothing, larger than one storage batch, with kept times and
//! dry runs; answers and reads that agree with a plain model over a long random run; and
//! subscribers that catch up, follow live, keep their checkpoint across a reopen,
//! get every event after failures, and cannot block appends or one another.
//!
//! Concurrency cases run on a multi-thread runtime; every wait is bounded (a hang fails, no
//! duration is asserted).

#[path = "store/fixtures.rs"]
pub(crate) mod fixtures;

/// The cases, one function each, generic over the engine.
mod cases {
    use std::collections::{HashMap, HashSet};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    use std::time::Duration;

    use chrono::{DateTime, TimeZone, Utc};
    use domain::rules::Rule;
    use domain::{DecisionId, EventId, NewEvent, RecordedEvent};
    use store::{
        Appended, AppendedEvent, EventStore, ExpectedVersion, Head, ImportOptions, Imported,
        Refusal, RefusalKind, Subscriber, SubscriptionOptions, SubscriptionStatus, subscription,
    };
    use tokio::sync::{Barrier, mpsc, oneshot};

    use super::fixtures::*;

    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    type Handled<'a> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'a>>;

    /// What a reader can observe of the whole store.
    #[derive(Debug, PartialEq)]
    struct Snapshot {
        head: Head,
        events: Vec<RecordedEvent>,
    }

    async fn snapshot(store: &dyn EventStore) -> Snapshot {
        Snapshot {
            head: store.head().await.unwrap(),
            events: read_everything(store).await,
        }
    }

    fn conflict(decision_id: DecisionId, expected: ExpectedVersion, actual: u64) -> Refusal {
        Refusal {
            index: None,
            kind: RefusalKind::Conflict {
                decision_id,
                expected,
                actual,
            },
        }
    }

    fn positions(events: &[RecordedEvent]) -> Vec<u64> {
        events.iter().map(|e| e.position).collect()
    }

    fn ids(events: &[RecordedEvent]) -> Vec<EventId> {
        events.iter().map(|e| e.event_id).collect()
    }

    /// `n` notes of `decision`, with ids `first_id..`.
    fn notes(decision: DecisionId, first_id: u64, n: u64) -> Vec<NewEvent> {
        (0..n)
            .map(|i| {
                with_id(
                    note(decision, &format!("note {}", first_id + i)),
                    event_id(first_id + i),
                )
            })
            .collect()
    }

    // ---------------------------------------------------------------- expected version

    pub(crate) async fn expected_any_appends_at_whatever_version(factory: &dyn StoreFactory) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        let first = accepted(store.append(d, ExpectedVersion::Any, vec![grant(d)]).await);
        assert_eq!(first.version, 1);
        assert!(!first.duplicate);
        assert_eq!((first.events[0].position, first.events[0].version), (1, 1));
        let second = accepted(store.append(d, ExpectedVersion::Any, notes(d, 10, 2)).await);
        assert_eq!(second.version, 3);
        assert_eq!(
            second.events,
            vec![
                AppendedEvent {
                    event_id: event_id(10),
                    position: 2,
                    version: 2
                },
                AppendedEvent {
                    event_id: event_id(11),
                    position: 3,
                    version: 3
                },
            ]
        );
        let other = decision(2);
        let third = accepted(
            store
                .append(other, ExpectedVersion::Any, vec![grant(other)])
                .await,
        );
        assert_eq!((third.version, third.events[0].position), (1, 4));
        let stream = store.read_stream(d, None).await.unwrap();
        assert_eq!(
            stream.iter().map(|e| e.version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(positions(&stream), [1, 2, 3]);
        assert_log_shape(&read_everything(store.as_ref()).await);
    }

    pub(crate) async fn expected_no_stream_is_refused_once_the_stream_exists(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        let first = accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        assert_eq!(first.version, 1);
        let before = snapshot(store.as_ref()).await;
        let late = with_id(note(d, "late"), event_id(7));
        let refusal = refused(
            store
                .append(d, ExpectedVersion::NoStream, vec![late.clone()])
                .await,
        );
        assert_eq!(refusal, conflict(d, ExpectedVersion::NoStream, 1));
        // A second grant with NoStream: the same answer, whatever the content.
        let refusal = refused(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        assert_eq!(refusal, conflict(d, ExpectedVersion::NoStream, 1));
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a refusal wrote something"
        );
        // The refused event's id was not taken: it is a fresh event now.
        let later = accepted(store.append(d, ExpectedVersion::Exact(1), vec![late]).await);
        assert!(!later.duplicate);
        assert_eq!(later.events[0].position, 2);
    }

    pub(crate) async fn expected_exact_is_refused_when_wrong_reporting_the_actual_version(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        accepted(
            store
                .append(d, ExpectedVersion::Exact(0), vec![grant(d)])
                .await,
        );
        accepted(
            store
                .append(d, ExpectedVersion::Exact(1), notes(d, 1, 1))
                .await,
        );
        let before = snapshot(store.as_ref()).await;
        for stale in [0, 1, 3, 99] {
            let refusal = refused(
                store
                    .append(d, ExpectedVersion::Exact(stale), notes(d, 100, 3))
                    .await,
            );
            assert_eq!(refusal, conflict(d, ExpectedVersion::Exact(stale), 2));
        }
        let other = decision(2);
        let refusal = refused(
            store
                .append(other, ExpectedVersion::Exact(1), vec![grant(other)])
                .await,
        );
        assert_eq!(refusal, conflict(other, ExpectedVersion::Exact(1), 0));
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a refusal wrote something"
        );
        assert!(store.read_stream(other, None).await.unwrap().is_empty());
        // With the right version the very same events go in, fresh.
        let appended = accepted(
            store
                .append(d, ExpectedVersion::Exact(2), notes(d, 100, 3))
                .await,
        );
        assert_eq!(appended.version, 5);
        assert!(!appended.duplicate);
        assert_eq!(
            appended
                .events
                .iter()
                .map(|e| e.position)
                .collect::<Vec<_>>(),
            [3, 4, 5]
        );
    }

    // ---------------------------------------------------------------- concurrency

    pub(crate) async fn racing_appenders_on_one_stream_one_winner_per_version(
        factory: &dyn StoreFactory,
    ) {
        const TASKS: u64 = 32;
        const ROUNDS: u64 = 12;
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        let mut winners: Vec<AppendedEvent> = Vec::new();
        let mut losers: Vec<EventId> = Vec::new();
        for round in 0..ROUNDS {
            let barrier = Arc::new(Barrier::new(TASKS as usize));
            let mut tasks = Vec::new();
            for task in 0..TASKS {
                let id = event_id(round * 1000 + task);
                let event = if round == 0 {
                    with_id(grant(d), id)
                } else {
                    with_id(note(d, &format!("round {round} task {task}")), id)
                };
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    (
                        id,
                        store
                            .append(d, ExpectedVersion::Exact(round), vec![event])
                            .await,
                    )
                }));
            }
            let mut won = Vec::new();
            for task in tasks {
                let (id, result) = within("a racing append", task).await.unwrap();
                match result.unwrap() {
                    Ok(appended) => won.push((id, appended)),
                    Err(refusal) => {
                        assert_eq!(
                            refusal,
                            conflict(d, ExpectedVersion::Exact(round), round + 1),
                            "round {round}: a loser must see the winner's version"
                        );
                        losers.push(id);
                    }
                }
            }
            assert_eq!(
                won.len(),
                1,
                "round {round}: exactly one append wins: {won:?}"
            );
            let (id, appended) = won.pop().unwrap();
            assert_eq!(appended.version, round + 1);
            assert_eq!(appended.events.len(), 1);
            assert_eq!(appended.events[0].event_id, id);
            assert_eq!(appended.events[0].version, round + 1);
            winners.push(appended.events[0]);
        }
        let stream = store.read_stream(d, None).await.unwrap();
        assert_eq!(
            stream.iter().map(|e| e.version).collect::<Vec<_>>(),
            (1..=ROUNDS).collect::<Vec<_>>()
        );
        for (event, winner) in stream.iter().zip(&winners) {
            assert_eq!(
                (event.event_id, event.position, event.version),
                (winner.event_id, winner.position, winner.version),
                "a winner's event is not where it was acknowledged"
            );
        }
        let all = read_everything(store.as_ref()).await;
        assert_log_shape(&all);
        assert_eq!(all.len() as u64, ROUNDS);
        let stored: HashSet<EventId> = ids(&all).into_iter().collect();
        assert!(
            losers.iter().all(|id| !stored.contains(id)),
            "a refused append left its event in the log"
        );
    }

    pub(crate) async fn many_streams_at_once_lose_nothing_and_readers_never_see_a_gap(
        factory: &dyn StoreFactory,
    ) {
        const TASKS: u64 = 64;
        const APPENDS: u64 = 50;
        let store = factory.open(TestClock::standard().clock());
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (store, done) = (Arc::clone(&store), Arc::clone(&done));
            tokio::spawn(async move {
                let mut head = store.watch_head();
                let mut last_seen = 0u64;
                let mut versions: HashMap<DecisionId, u64> = HashMap::new();
                let mut reads = 0u64;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let page = store.read_all(last_seen, 700, None).await.unwrap();
                    reads += 1;
                    for event in &page {
                        assert_eq!(
                            event.position,
                            last_seen + 1,
                            "the reader saw a gap after position {last_seen}"
                        );
                        last_seen = event.position;
                        let version = versions.entry(event.decision_id).or_insert(0);
                        *version += 1;
                        assert_eq!(event.version, *version, "a stream version was skipped");
                    }
                    if page.is_empty() {
                        if finished {
                            return (last_seen, reads);
                        }
                        // Woken by the head, or after a short while to look at `done` again.
                        let _ =
                            tokio::time::timeout(Duration::from_millis(20), head.changed()).await;
                    }
                }
            })
        };
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let d = decision(task);
                let mut acked = Vec::new();
                for i in 0..APPENDS {
                    let id = event_id(task * 1000 + i);
                    let (expected, event) = if i == 0 {
                        (ExpectedVersion::NoStream, with_id(grant(d), id))
                    } else {
                        (
                            ExpectedVersion::Exact(i),
                            with_id(note(d, &format!("{task}/{i}")), id),
                        )
                    };
                    let appended = accepted(store.append(d, expected, vec![event]).await);
                    assert_eq!(appended.version, i + 1);
                    acked.push(appended.events[0]);
                }
                acked
            }));
        }
        let mut acked = Vec::new();
        for task in tasks {
            acked.extend(within("an appender", task).await.unwrap());
        }
        done.store(true, Ordering::Release);
        let (last_seen, reads) = within("the reader", reader).await.unwrap();
        let total = TASKS * APPENDS;
        assert_eq!(
            last_seen, total,
            "the reader did not reach the head ({reads} reads)"
        );
        let all = read_everything(store.as_ref()).await;
        assert_log_shape(&all);
        assert_eq!(all.len() as u64, total);
        assert_eq!(store.head().await.unwrap().position, total);
        for ack in acked {
            let event = &all[(ack.position - 1) as usize];
            assert_eq!(
                (event.event_id, event.version),
                (ack.event_id, ack.version),
                "an acknowledged event is not at its position"
            );
        }
    }

    pub(crate) async fn rules_are_checked_inside_the_writer(factory: &dyn StoreFactory) {
        const DECISIONS: u64 = 16;
        const RACERS: u64 = 2;
        let store = factory.open(TestClock::standard().clock());
        for n in 0..DECISIONS {
            let d = decision(n);
            accepted(
                store
                    .append(
                        d,
                        ExpectedVersion::NoStream,
                        vec![grant(d), order(d, "Utförare")],
                    )
                    .await,
            );
        }
        let barrier = Arc::new(Barrier::new((DECISIONS * RACERS) as usize));
        let mut tasks = Vec::new();
        for n in 0..DECISIONS {
            for racer in 0..RACERS {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                tasks.push(tokio::spawn(async move {
                    let d = decision(n);
                    let event = with_id(verkstalld(d), event_id(n * 10 + racer));
                    barrier.wait().await;
                    (n, store.append(d, ExpectedVersion::Any, vec![event]).await)
                }));
            }
        }
        let mut accepted_per_decision: HashMap<u64, u64> = HashMap::new();
        for task in tasks {
            let (n, result) = within("a racing Verkställd", task).await.unwrap();
            match result.unwrap() {
                Ok(appended) => {
                    assert_eq!(appended.version, 3);
                    *accepted_per_decision.entry(n).or_insert(0) += 1;
                }
                Err(Refusal {
                    index,
                    kind: RefusalKind::Rule(violation),
                }) => {
                    assert_eq!(index, Some(0));
                    assert_eq!(
                        violation.rule,
                        Rule::VerkställdOnlyWhileNotExecuted,
                        "{violation}"
                    );
                }
                Err(other) => panic!("refused for another reason than the rule: {other}"),
            }
        }
        for n in 0..DECISIONS {
            assert_eq!(
                accepted_per_decision.get(&n),
                Some(&1),
                "decision {n}: exactly one full Verkställd is accepted"
            );
            let stream = store.read_stream(decision(n), None).await.unwrap();
            let executed = stream
                .iter()
                .filter(|e| e.event_type() == domain::EventType::Verkställd)
                .count();
            assert_eq!(executed, 1);
        }
        assert_log_shape(&read_everything(store.as_ref()).await);
    }

    // ---------------------------------------------------------------- recorded_at

    pub(crate) async fn recorded_at_comes_from_the_store_clock(factory: &dyn StoreFactory) {
        let clock = TestClock::at(at("2024-01-15T10:00:00.123456Z"));
        let store = factory.open(clock.clock());
        let d = decision(1);
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        clock.set(at("2024-02-01T08:30:00.000001Z"));
        // A recorded_at sent with an ordinary append is not honoured.
        let claimed = recorded(note(d, "claims to be old"), at("2023-01-05T00:00:00Z"));
        accepted(
            store
                .append(d, ExpectedVersion::Exact(1), vec![claimed])
                .await,
        );
        let events = read_everything(store.as_ref()).await;
        assert_eq!(
            events.iter().map(|e| e.recorded_at).collect::<Vec<_>>(),
            [
                at("2024-01-15T10:00:00.123456Z"),
                at("2024-02-01T08:30:00.000001Z")
            ]
        );
        let head = store.head().await.unwrap();
        assert_eq!(
            head,
            Head {
                position: 2,
                recorded_at: Some(at("2024-02-01T08:30:00.000001Z"))
            }
        );
    }

    pub(crate) async fn recorded_at_never_goes_backwards_when_the_clock_does(
        factory: &dyn StoreFactory,
    ) {
        let clock = TestClock::at(at("2024-03-10T12:00:00Z"));
        let store = factory.open(clock.clock());
        let d = decision(1);
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        clock.set(at("2024-03-01T12:00:00Z"));
        accepted(
            store
                .append(d, ExpectedVersion::Exact(1), notes(d, 1, 2))
                .await,
        );
        clock.set(at("2024-03-20T12:00:00Z"));
        accepted(
            store
                .append(d, ExpectedVersion::Exact(3), notes(d, 3, 1))
                .await,
        );
        clock.set(at("2024-03-15T12:00:00Z"));
        // Not even an import without kept times goes back.
        import(store.as_ref(), notes(d, 4, 1), ImportOptions::default()).await;
        drop(store);
        // Nor does a store reopened with a clock that is behind.
        let store = factory.open(clock.clock());
        clock.set(at("2024-01-01T00:00:00Z"));
        accepted(
            store
                .append(d, ExpectedVersion::Exact(5), notes(d, 5, 1))
                .await,
        );
        let times: Vec<DateTime<Utc>> = read_everything(store.as_ref())
            .await
            .iter()
            .map(|e| e.recorded_at)
            .collect();
        assert_eq!(
            times,
            [
                at("2024-03-10T12:00:00Z"),
                at("2024-03-10T12:00:00Z"),
                at("2024-03-10T12:00:00Z"),
                at("2024-03-20T12:00:00Z"),
                at("2024-03-20T12:00:00Z"),
                at("2024-03-20T12:00:00Z"),
            ]
        );
    }

    pub(crate) async fn recorded_at_never_goes_backwards_under_concurrent_appends(
        factory: &dyn StoreFactory,
    ) {
        const TASKS: u64 = 32;
        const ROUNDS: u64 = 8;
        // A clock that goes back a millisecond every time it is read.
        let ticks = Arc::new(AtomicI64::new(0));
        let clock: store::Clock = {
            let ticks = Arc::clone(&ticks);
            let start = at("2024-06-01T12:00:00Z");
            Arc::new(move || {
                start - chrono::Duration::milliseconds(ticks.fetch_add(1, Ordering::SeqCst))
            })
        };
        let store = factory.open(clock);
        for round in 0..ROUNDS {
            let barrier = Arc::new(Barrier::new(TASKS as usize));
            let mut tasks = Vec::new();
            for task in 0..TASKS {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                tasks.push(tokio::spawn(async move {
                    let d = decision(task);
                    let event = if round == 0 {
                        grant(d)
                    } else {
                        note(d, &format!("round {round}"))
                    };
                    barrier.wait().await;
                    store
                        .append(d, ExpectedVersion::Exact(round), vec![event])
                        .await
                }));
            }
            for task in tasks {
                let result = within("an append", task).await.unwrap();
                accepted(result);
            }
        }
        let all = read_everything(store.as_ref()).await;
        assert_log_shape(&all);
        assert_eq!(all.len() as u64, TASKS * ROUNDS);
        for pair in all.windows(2) {
            assert!(
                pair[0].recorded_at <= pair[1].recorded_at,
                "recorded_at went back from position {} to {}",
                pair[0].position,
                pair[1].position
            );
        }
    }

    pub(crate) async fn head_is_the_last_event_as_stored(factory: &dyn StoreFactory) {
        // A clock with more precision than the log keeps (nanoseconds).
        let clock = TestClock::at(Utc.timestamp_opt(1_717_243_200, 123_456_789).unwrap());
        let store = factory.open(clock.clock());
        let d = decision(1);
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        let last = read_everything(store.as_ref()).await.pop().unwrap();
        let head = store.head().await.unwrap();
        assert_eq!(
            head,
            Head {
                position: 1,
                recorded_at: Some(last.recorded_at)
            }
        );
        drop(store);
        let store = factory.open(clock.clock());
        assert_eq!(
            store.head().await.unwrap(),
            head,
            "the head changed on reopening"
        );
    }

    // ---------------------------------------------------------------- idempotency

    pub(crate) async fn a_repeated_append_returns_the_original_positions(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        let first_request = vec![with_id(grant(d), event_id(1))];
        let first = accepted(
            store
                .append(d, ExpectedVersion::NoStream, first_request.clone())
                .await,
        );
        let second_request = vec![
            with_id(order(d, "Utförare"), event_id(2)),
            with_id(note(d, "beställt"), event_id(3)),
        ];
        let second = accepted(
            store
                .append(d, ExpectedVersion::Exact(1), second_request.clone())
                .await,
        );
        let other = decision(2);
        accepted(
            store
                .append(other, ExpectedVersion::NoStream, vec![grant(other)])
                .await,
        );
        let before = snapshot(store.as_ref()).await;
        // The same request again, as a client retrying after a lost answer would send it.
        let again = accepted(
            store
                .append(d, ExpectedVersion::Exact(1), second_request.clone())
                .await,
        );
        assert!(again.duplicate);
        assert_eq!(again.events, second.events);
        assert_eq!(again.version, 3);
        // Also with the expected version of the time, now stale, and with Any.
        let again = accepted(
            store
                .append(d, ExpectedVersion::NoStream, first_request.clone())
                .await,
        );
        assert!(again.duplicate);
        assert_eq!(again.events, first.events);
        let again = accepted(store.append(d, ExpectedVersion::Any, second_request).await);
        assert!(again.duplicate);
        assert_eq!(again.events, second.events);
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a repeated request wrote something"
        );
        // Events already stored, sent again through an import: skipped, nothing written.
        let imported = import(store.as_ref(), first_request, ImportOptions::default()).await;
        assert_eq!(
            imported,
            Imported {
                appended: 0,
                duplicates: 1,
                decisions: 0,
                first_position: None,
                last_position: None
            }
        );
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a repeated import wrote something"
        );
    }

    pub(crate) async fn an_event_id_reused_with_other_content_is_refused(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        accepted(
            store
                .append(
                    d,
                    ExpectedVersion::NoStream,
                    vec![with_id(grant(d), event_id(1))],
                )
                .await,
        );
        accepted(
            store
                .append(
                    d,
                    ExpectedVersion::Exact(1),
                    vec![with_id(note(d, "original"), event_id(2))],
                )
                .await,
        );
        let before = snapshot(store.as_ref()).await;
        let reused = |index| Refusal {
            index: Some(index),
            kind: RefusalKind::EventIdReused {
                event_id: event_id(2),
                position: 2,
            },
        };
        // Other text.
        let refusal = refused(
            store
                .append(
                    d,
                    ExpectedVersion::Exact(2),
                    vec![with_id(note(d, "changed"), event_id(2))],
                )
                .await,
        );
        assert_eq!(refusal, reused(0));
        // Another actor.
        let mut by_someone_else = with_id(note(d, "original"), event_id(2));
        by_someone_else.actor = Some("someone.else".into());
        let refusal = refused(
            store
                .append(d, ExpectedVersion::Any, vec![by_someone_else])
                .await,
        );
        assert_eq!(refusal, reused(0));
        // Another decision, behind a new event in the same request.
        let other = decision(2);
        let refusal = refused(
            store
                .append(
                    other,
                    ExpectedVersion::NoStream,
                    vec![
                        with_id(grant(other), event_id(3)),
                        with_id(note(other, "original"), event_id(2)),
                    ],
                )
                .await,
        );
        assert_eq!(refusal, reused(1));
        // The same through an import.
        let refusal = refused(
            store
                .import(
                    vec![
                        with_id(grant(other), event_id(3)),
                        with_id(note(d, "changed"), event_id(2)),
                    ],
                    ImportOptions::default(),
                )
                .await,
        );
        assert_eq!(refusal, reused(1));
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a refusal wrote something"
        );
    }

    pub(crate) async fn a_request_mixing_a_stored_event_and_a_new_one_writes_only_the_new(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        let grant_event = with_id(grant(d), event_id(1));
        let stored = with_id(note(d, "stored"), event_id(2));
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant_event])
                .await,
        );
        let first = accepted(
            store
                .append(d, ExpectedVersion::Exact(1), vec![stored.clone()])
                .await,
        );
        let fresh = with_id(order(d, "Utförare"), event_id(3));
        let mixed = accepted(
            store
                .append(
                    d,
                    ExpectedVersion::Exact(2),
                    vec![stored.clone(), fresh.clone()],
                )
                .await,
        );
        assert_eq!(
            mixed,
            Appended {
                events: vec![
                    first.events[0],
                    AppendedEvent {
                        event_id: event_id(3),
                        position: 3,
                        version: 3
                    },
                ],
                version: 3,
                duplicate: false,
            }
        );
        let all = read_everything(store.as_ref()).await;
        assert_eq!(ids(&all), [event_id(1), event_id(2), event_id(3)]);
        // Repeated whole: a duplicate, with the same positions.
        let again = accepted(
            store
                .append(d, ExpectedVersion::Exact(2), vec![stored.clone(), fresh])
                .await,
        );
        assert_eq!(
            again,
            Appended {
                duplicate: true,
                ..mixed
            }
        );
        // A mix whose new event comes with a stale version is a conflict; nothing is written.
        let newer = with_id(note(d, "newer"), event_id(4));
        let refusal = refused(
            store
                .append(
                    d,
                    ExpectedVersion::Exact(2),
                    vec![stored.clone(), newer.clone()],
                )
                .await,
        );
        assert_eq!(refusal, conflict(d, ExpectedVersion::Exact(2), 3));
        // The same id twice in one request is refused at the second.
        let refusal = refused(
            store
                .append(d, ExpectedVersion::Exact(3), vec![newer.clone(), newer])
                .await,
        );
        assert_eq!(refusal.index, Some(1));
        assert!(matches!(refusal.kind, RefusalKind::Invalid(_)), "{refusal}");
        assert_eq!(read_everything(store.as_ref()).await, all);
    }

    // ---------------------------------------------------------------- as of

    pub(crate) async fn as_of_reads_see_only_what_was_recorded_by_then(factory: &dyn StoreFactory) {
        let (t1, t2, t3) = (
            at("2024-02-01T09:00:00Z"),
            at("2024-02-02T09:00:00Z"),
            at("2024-02-03T09:00:00Z"),
        );
        let clock = TestClock::at(t1);
        let store = factory.open(clock.clock());
        let (a, b) = (decision(1), decision(2));
        accepted(
            store
                .append(a, ExpectedVersion::NoStream, vec![grant(a), note(a, "t1")])
                .await,
        );
        clock.set(t2);
        accepted(
            store
                .append(b, ExpectedVersion::NoStream, vec![grant(b)])
                .await,
        );
        clock.set(t3);
        accepted(
            store
                .append(a, ExpectedVersion::Exact(2), vec![order(a, "t3")])
                .await,
        );
        let second = chrono::Duration::seconds(1);
        let cases: [(DateTime<Utc>, u64, usize, usize); 8] = [
            // (as of, position, events of a, events of b)
            (t1 - second, 0, 0, 0),
            (t1, 2, 2, 0),
            (t1 + second, 2, 2, 0),
            (t2 - second, 2, 2, 0),
            (t2, 3, 2, 1),
            (t3 - second, 3, 2, 1),
            (t3, 4, 3, 1),
            (t3 + chrono::Duration::days(365), 4, 3, 1),
        ];
        let all = read_everything(store.as_ref()).await;
        for (as_of, position, in_a, in_b) in cases {
            assert_eq!(
                store.position_as_of(as_of).await.unwrap(),
                position,
                "as of {as_of}"
            );
            let log = store.read_all(0, 100, Some(as_of)).await.unwrap();
            assert_eq!(log, all[..position as usize], "read_all as of {as_of}");
            let stream_a = store.read_stream(a, Some(as_of)).await.unwrap();
            assert_eq!(
                positions(&stream_a),
                positions(
                    &all[..position as usize]
                        .iter()
                        .filter(|e| e.decision_id == a)
                        .cloned()
                        .collect::<Vec<_>>()
                )
            );
            assert_eq!(stream_a.len(), in_a, "stream a as of {as_of}");
            assert_eq!(
                store.read_stream(b, Some(as_of)).await.unwrap().len(),
                in_b,
                "stream b as of {as_of}"
            );
            assert!(log.iter().all(|e| e.recorded_at <= as_of));
        }
        // `after` and `limit` combine with as_of.
        let page = store.read_all(1, 100, Some(t2)).await.unwrap();
        assert_eq!(positions(&page), [2, 3]);
        let page = store.read_all(1, 1, Some(t3)).await.unwrap();
        assert_eq!(positions(&page), [2]);
        assert!(store.read_all(3, 100, Some(t2)).await.unwrap().is_empty());
    }

    pub(crate) async fn position_as_of_agrees_with_a_model_with_ties(factory: &dyn StoreFactory) {
        let start = at("2024-04-01T00:00:00Z");
        let clock = TestClock::at(start);
        let store = factory.open(clock.clock());
        let mut rng = Rng::new(0x5eed_0a50f);
        let mut recorded: Vec<DateTime<Utc>> = Vec::new();
        let mut now = start;
        let decisions: Vec<DecisionId> = (0..5).map(decision).collect();
        let mut versions = vec![0u64; decisions.len()];
        for i in 0..60u64 {
            // Often the same moment as the event before (ties), sometimes later.
            if rng.between(0, 2) == 0 {
                now += chrono::Duration::minutes(rng.between(1, 90) as i64);
            }
            clock.set(now);
            let k = (i as usize) % decisions.len();
            let d = decisions[k];
            let event = if versions[k] == 0 {
                grant(d)
            } else {
                note(d, &format!("{i}"))
            };
            accepted(
                store
                    .append(d, ExpectedVersion::Exact(versions[k]), vec![event])
                    .await,
            );
            versions[k] += 1;
            recorded.push(now);
        }
        let last = *recorded.last().unwrap();
        let mut probes = recorded.clone();
        probes.extend(recorded.iter().map(|t| *t - chrono::Duration::seconds(1)));
        probes.extend([
            start - chrono::Duration::days(1),
            last + chrono::Duration::days(1),
        ]);
        let stored = store.read_stored_lines(0, 1000).await.unwrap();
        for as_of in probes {
            let model = recorded.iter().filter(|t| **t <= as_of).count() as u64;
            assert_eq!(
                store.position_as_of(as_of).await.unwrap(),
                model,
                "as of {as_of}"
            );
            let log = store.read_all(0, 1000, Some(as_of)).await.unwrap();
            assert_eq!(log.len() as u64, model, "read_all as of {as_of}");
            for (k, d) in decisions.iter().enumerate() {
                let expected = log.iter().filter(|e| e.decision_id == *d).count();
                let stream = store.read_stream(*d, Some(as_of)).await.unwrap();
                assert_eq!(stream.len(), expected, "decision {k} as of {as_of}");
                // Its lines are those of the log, exactly as stored, at its events' positions.
                let lines = store.read_stream_lines(*d, Some(as_of)).await.unwrap();
                let expected_lines: Vec<(u64, Vec<u8>)> = stored
                    .iter()
                    .filter(|(p, _)| stream.iter().any(|e| e.position == *p))
                    .cloned()
                    .collect();
                assert!(
                    lines == expected_lines,
                    "the stored lines of decision {k} as of {as_of}"
                );
            }
        }
    }

    // ---------------------------------------------------------------- import

    pub(crate) async fn an_import_is_all_or_nothing(factory: &dyn StoreFactory) {
        let store = factory.open(TestClock::standard().clock());
        let seed = decision(99);
        accepted(
            store
                .append(seed, ExpectedVersion::NoStream, vec![grant(seed)])
                .await,
        );
        let before = snapshot(store.as_ref()).await;
        let mut events = Vec::new();
        for n in 0..3 {
            let d = decision(n);
            events.push(with_id(grant(d), event_id(n * 10)));
            events.push(with_id(order(d, "Utförare"), event_id(n * 10 + 1)));
        }
        // Interrupted while not executed: the last event breaks a rule.
        let bad = with_id(interrupted(decision(2)), event_id(1000));
        let mut with_bad = events.clone();
        with_bad.push(bad);
        let refusal = refused(
            store
                .import(with_bad.clone(), ImportOptions::default())
                .await,
        );
        assert_eq!(refusal.index, Some(with_bad.len() - 1));
        match &refusal.kind {
            RefusalKind::Rule(violation) => {
                assert_eq!(violation.rule, Rule::InterruptedOnlyWhileExecuted);
                assert_eq!(violation.event_id, event_id(1000));
            }
            other => panic!("refused for another reason: {other}"),
        }
        // A bad event in the middle, in a stream other than the others'.
        let mut middle = events.clone();
        middle.insert(3, with_id(interrupted(seed), event_id(1001)));
        let refusal = refused(store.import(middle, ImportOptions::default()).await);
        assert_eq!(refusal.index, Some(3));
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a refused import wrote something"
        );
        for n in 0..3 {
            assert!(
                store
                    .read_stream(decision(n), None)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        // Without the bad event it lands whole, right after what was there.
        let imported = import(store.as_ref(), events.clone(), ImportOptions::default()).await;
        assert_eq!(
            imported,
            Imported {
                appended: 6,
                duplicates: 0,
                decisions: 3,
                first_position: Some(2),
                last_position: Some(7)
            }
        );
        let all = read_everything(store.as_ref()).await;
        assert_log_shape(&all);
        assert_eq!(
            ids(&all[1..]),
            events
                .iter()
                .map(|e| e.event_id.unwrap())
                .collect::<Vec<_>>()
        );
    }

    pub(crate) async fn an_import_larger_than_one_batch_lands_whole(factory: &dyn StoreFactory) {
        const DECISIONS: u64 = 4_000;
        const PER_DECISION: u64 = 10;
        let store = factory.open(TestClock::standard().clock());
        // Something in the log first, so the import starts above position 1.
        let first = decision(1_000_000);
        accepted(
            store
                .append(
                    first,
                    ExpectedVersion::NoStream,
                    vec![grant(first), note(first, "a"), note(first, "b")],
                )
                .await,
        );
        let mut events = Vec::with_capacity((DECISIONS * PER_DECISION) as usize);
        // Interleaved: every decision's grant, then every decision's second event, and so on.
        for k in 0..PER_DECISION {
            for n in 0..DECISIONS {
                let d = decision(n);
                let id = event_id(n * 100 + k);
                events.push(match k {
                    0 => with_id(grant(d), id),
                    1 => with_id(order(d, &format!("Utförare {n}")), id),
                    _ => with_id(note(d, &format!("{n}/{k}")), id),
                });
            }
        }
        let expected_ids: Vec<EventId> = events.iter().map(|e| e.event_id.unwrap()).collect();
        let total = DECISIONS * PER_DECISION;
        let imported = within(
            "the large import",
            store.import(events, ImportOptions::default()),
        )
        .await;
        assert_eq!(
            accepted(imported),
            Imported {
                appended: total,
                duplicates: 0,
                decisions: DECISIONS,
                first_position: Some(4),
                last_position: Some(total + 3)
            }
        );
        assert_eq!(store.head().await.unwrap().position, total + 3);
        let all = read_everything(store.as_ref()).await;
        assert_log_shape(&all);
        assert_eq!(all.len() as u64, total + 3);
        assert_eq!(
            ids(&all[3..]),
            expected_ids,
            "the import's events are not in the order given"
        );
        for n in [0, 1, 1_999, 3_999] {
            let stream = store.read_stream(decision(n), None).await.unwrap();
            assert_eq!(stream.len() as u64, PER_DECISION);
            assert_eq!(
                ids(&stream),
                (0..PER_DECISION)
                    .map(|k| event_id(n * 100 + k))
                    .collect::<Vec<_>>()
            );
        }
        // The log goes on after it.
        let next = accepted(
            store
                .append(first, ExpectedVersion::Exact(3), vec![note(first, "c")])
                .await,
        );
        assert_eq!(next.events[0].position, total + 4);
        // Appends and a second import build on the imported streams (a store may keep them
        // decoded): every event gets its stream's next version, none is lost or overwritten.
        for n in [0, 3_999] {
            let d = decision(n);
            let appended = accepted(
                store
                    .append(
                        d,
                        ExpectedVersion::Exact(PER_DECISION),
                        vec![note(d, "after")],
                    )
                    .await,
            );
            assert_eq!(appended.version, PER_DECISION + 1);
        }
        let again: Vec<NewEvent> = (0..DECISIONS)
            .map(|n| with_id(note(decision(n), "again"), event_id(n * 100 + 50)))
            .collect();
        let imported = within(
            "the second import",
            store.import(again, ImportOptions::default()),
        )
        .await;
        assert_eq!(accepted(imported).appended, DECISIONS);
        for n in [0, 1, 1_999, 3_999] {
            let stream = store.read_stream(decision(n), None).await.unwrap();
            let appended_after = u64::from(n == 0 || n == 3_999);
            let versions: Vec<u64> = stream.iter().map(|e| e.version).collect();
            assert_eq!(
                versions,
                (1..=PER_DECISION + appended_after + 1).collect::<Vec<_>>(),
                "decision {n}'s stream after the appends and the second import"
            );
            assert_eq!(stream.last().unwrap().event_id, event_id(n * 100 + 50));
        }
        assert_log_shape(&read_everything(store.as_ref()).await);
    }

    pub(crate) async fn an_import_keeping_recorded_at_keeps_times_and_refuses_going_back(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::at(at("2024-06-01T12:00:00Z")).clock());
        let keep = ImportOptions {
            keep_recorded_at: true,
            dry_run: false,
        };
        let (a, b) = (decision(1), decision(2));
        let times = [
            at("2023-01-05T10:00:00.000001Z"),
            at("2023-01-20T10:00:00Z"),
            at("2023-01-20T10:00:00Z"),
            at("2023-03-01T15:30:00Z"),
        ];
        let history = vec![
            recorded(with_id(grant(a), event_id(1)), times[0]),
            recorded(with_id(grant(b), event_id(2)), times[1]),
            recorded(with_id(note(a, "tie"), event_id(3)), times[2]),
            recorded(with_id(order(b, "Utförare"), event_id(4)), times[3]),
        ];
        // Going backwards inside the import: refused at the event that goes back.
        let mut backwards = history.clone();
        backwards.swap(2, 3);
        let refusal = refused(store.import(backwards, keep).await);
        assert_eq!(refusal.index, Some(3));
        assert!(matches!(refusal.kind, RefusalKind::Invalid(_)), "{refusal}");
        // A missing recorded_at: refused at that event.
        let mut missing = history.clone();
        missing[1].recorded_at = None;
        let refusal = refused(store.import(missing, keep).await);
        assert_eq!(refusal.index, Some(1));
        assert!(matches!(refusal.kind, RefusalKind::Invalid(_)), "{refusal}");
        assert!(read_everything(store.as_ref()).await.is_empty());
        // In order: the times are kept.
        let imported = import(store.as_ref(), history, keep).await;
        assert_eq!(imported.appended, 4);
        let all = read_everything(store.as_ref()).await;
        assert_eq!(all.iter().map(|e| e.recorded_at).collect::<Vec<_>>(), times);
        assert_eq!(store.head().await.unwrap().recorded_at, Some(times[3]));
        assert_eq!(
            store
                .position_as_of(at("2023-01-20T10:00:00Z"))
                .await
                .unwrap(),
            3
        );
        // Going back from the log's last event: refused at the first event.
        let refusal = refused(
            store
                .import(
                    vec![recorded(with_id(note(a, "old"), event_id(5)), times[2])],
                    keep,
                )
                .await,
        );
        assert_eq!(refusal.index, Some(0));
        assert!(matches!(refusal.kind, RefusalKind::Invalid(_)), "{refusal}");
        assert_eq!(read_everything(store.as_ref()).await, all);
        // Ordinary appends go on with the clock.
        accepted(
            store
                .append(a, ExpectedVersion::Exact(2), vec![note(a, "now")])
                .await,
        );
        let last = read_everything(store.as_ref()).await.pop().unwrap();
        assert_eq!(last.recorded_at, at("2024-06-01T12:00:00Z"));
    }

    pub(crate) async fn an_import_keeping_recorded_at_refuses_times_after_the_clock(
        factory: &dyn StoreFactory,
    ) {
        let now = at("2024-06-01T12:00:00Z");
        let store = factory.open(TestClock::at(now).clock());
        let keep = ImportOptions {
            keep_recorded_at: true,
            dry_run: false,
        };
        let d = decision(1);
        // History cannot have been recorded after now: a time from the future would hold every
        // later append's recorded_at at it (recorded_at never goes backwards).
        let future = recorded(with_id(grant(d), event_id(1)), at("2030-01-01T00:00:00Z"));
        let refusal = refused(store.import(vec![future], keep).await);
        assert_eq!(refusal.index, Some(0));
        assert!(read_everything(store.as_ref()).await.is_empty());
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        let last = read_everything(store.as_ref()).await.pop().unwrap();
        assert_eq!(last.recorded_at, now);
    }

    /// The store answers, and reads back, as a plain model of the log over one long run of
    /// random steps (`store::testing`): appends with every kind of expectation, rule breaks,
    /// requests sent again, concurrent bursts (some requests twice at once), imports whole and
    /// refused, and reopenings. The run comes from a fixed seed; a failure names its step.
    pub(crate) async fn the_store_agrees_with_a_model_over_a_random_run(
        factory: &dyn StoreFactory,
    ) {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let steps = proptest::collection::vec(store::testing::step(), MODEL_RUN_STEPS)
            .new_tree(&mut runner)
            .expect("a run of steps")
            .current();
        let clock = TestClock::standard();
        store::testing::run(steps, &mut || factory.open(clock.clock())).await;
    }

    /// Steps of the model run: enough for every kind of step many times over.
    const MODEL_RUN_STEPS: usize = 300;

    pub(crate) async fn a_dry_run_import_writes_nothing(factory: &dyn StoreFactory) {
        let store = factory.open(TestClock::standard().clock());
        let seed = decision(99);
        accepted(
            store
                .append(
                    seed,
                    ExpectedVersion::NoStream,
                    vec![grant(seed), note(seed, "x")],
                )
                .await,
        );
        let before = snapshot(store.as_ref()).await;
        let mut events = Vec::new();
        for n in 0..3 {
            let d = decision(n);
            events.push(with_id(grant(d), event_id(n * 10)));
            events.push(with_id(note(d, "y"), event_id(n * 10 + 1)));
        }
        let dry = ImportOptions {
            keep_recorded_at: false,
            dry_run: true,
        };
        let would = import(store.as_ref(), events.clone(), dry).await;
        let expected = Imported {
            appended: 6,
            duplicates: 0,
            decisions: 3,
            first_position: Some(3),
            last_position: Some(8),
        };
        assert_eq!(would, expected);
        // Twice: still nothing there, the same answer.
        assert_eq!(import(store.as_ref(), events.clone(), dry).await, expected);
        // A dry run of a refused import is refused the same way.
        let mut bad = events.clone();
        bad.push(with_id(interrupted(decision(0)), event_id(1000)));
        let refusal = refused(store.import(bad.clone(), dry).await);
        let real_refusal = refused(store.import(bad, ImportOptions::default()).await);
        assert_eq!(refusal, real_refusal);
        assert_eq!(
            snapshot(store.as_ref()).await,
            before,
            "a dry run wrote something"
        );
        for n in 0..3 {
            assert!(
                store
                    .read_stream(decision(n), None)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        // The ids were not taken: the real import writes them, where the dry run said.
        assert_eq!(
            import(store.as_ref(), events, ImportOptions::default()).await,
            expected
        );
    }

    // ---------------------------------------------------------------- subscriptions

    /// Short back-offs and small batches, so retries and paging happen within a test.
    fn quick() -> SubscriptionOptions {
        SubscriptionOptions {
            batch_events_max: 4,
            backoff_initial: Duration::from_millis(1),
            backoff_max: Duration::from_millis(10),
            save_checkpoints: true,
        }
    }

    /// Records every batch it is offered, and handles it.
    struct Recorder {
        name: String,
        batches: std::sync::Mutex<Vec<Vec<u64>>>,
    }

    impl Recorder {
        fn new(name: &str) -> Arc<Recorder> {
            Arc::new(Recorder {
                name: name.into(),
                batches: std::sync::Mutex::new(Vec::new()),
            })
        }

        fn seen(&self) -> Vec<u64> {
            self.batches.lock().unwrap().concat()
        }
    }

    impl Subscriber for Recorder {
        fn name(&self) -> &str {
            &self.name
        }

        fn handle<'a, 'b, 'c>(&'a self, events: &'b [RecordedEvent]) -> Handled<'c>
        where
            'a: 'c,
            'b: 'c,
            Self: 'c,
        {
            Box::pin(async move {
                self.batches.lock().unwrap().push(positions(events));
                Ok(())
            })
        }
    }

    /// How the test answers one offer to [`Scripted`]: handled, or failed with this message.
    type Verdict = oneshot::Sender<Result<(), String>>;

    /// Asks the test what to answer for every batch, until told to handle everything.
    struct Scripted {
        calls: mpsc::UnboundedSender<(Vec<u64>, Verdict)>,
        always_ok: AtomicBool,
        handled: std::sync::Mutex<Vec<u64>>,
    }

    impl Subscriber for Scripted {
        fn name(&self) -> &str {
            "scripted"
        }

        fn handle<'a, 'b, 'c>(&'a self, events: &'b [RecordedEvent]) -> Handled<'c>
        where
            'a: 'c,
            'b: 'c,
            Self: 'c,
        {
            Box::pin(async move {
                let offered = positions(events);
                if !self.always_ok.load(Ordering::SeqCst) {
                    let (reply, verdict) = oneshot::channel();
                    self.calls
                        .send((offered.clone(), reply))
                        .map_err(|_| "the test is gone")?;
                    verdict.await.map_err(|_| "the test is gone")??;
                }
                self.handled.lock().unwrap().extend(offered);
                Ok(())
            })
        }
    }

    /// Never finishes handling its first batch.
    struct Stuck {
        called: tokio::sync::Notify,
    }

    impl Subscriber for Stuck {
        fn name(&self) -> &str {
            "stuck"
        }

        fn handle<'a, 'b, 'c>(&'a self, _events: &'b [RecordedEvent]) -> Handled<'c>
        where
            'a: 'c,
            'b: 'c,
            Self: 'c,
        {
            Box::pin(async move {
                self.called.notify_one();
                std::future::pending::<()>().await;
                Ok(())
            })
        }
    }

    /// Grants `d` and appends `n` notes to it, one append each: positions 1 to `n + 1` of a
    /// new store.
    async fn grant_with_notes(store: &dyn EventStore, d: DecisionId, n: u64) {
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        append_notes(store, d, 1, n).await;
    }

    /// Appends `n` notes to `d` (which exists at `version`), one append each.
    async fn append_notes(store: &dyn EventStore, d: DecisionId, version: u64, n: u64) {
        for i in 0..n {
            let appended = within(
                "an append",
                store.append(
                    d,
                    ExpectedVersion::Exact(version + i),
                    vec![note(d, &format!("{}", version + i))],
                ),
            )
            .await;
            accepted(appended);
        }
    }

    pub(crate) async fn a_subscriber_catches_up_from_its_checkpoint_then_follows_live(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        grant_with_notes(store.as_ref(), d, 9).await;
        store.save_checkpoint("recorder", 4).await.unwrap();
        let recorder = Recorder::new("recorder");
        let mut handle = subscription::spawn(Arc::clone(&store), recorder.clone(), quick());
        let status = within("catching up", handle.wait_for(10)).await;
        assert_eq!(status.position, 10);
        assert_eq!(
            recorder.seen(),
            (5..=10).collect::<Vec<_>>(),
            "not caught up from the checkpoint"
        );
        assert!(
            recorder
                .batches
                .lock()
                .unwrap()
                .iter()
                .all(|b| b.len() <= 4),
            "a batch was too large"
        );
        // Live: appended after the subscriber caught up.
        append_notes(store.as_ref(), d, 10, 7).await;
        let status = within("following live", handle.wait_for(17)).await;
        assert_eq!(
            status,
            SubscriptionStatus {
                name: "recorder".into(),
                position: 17,
                failures: 0,
                last_error: None
            }
        );
        assert_eq!(recorder.seen(), (5..=17).collect::<Vec<_>>());
        assert_eq!(store.checkpoint("recorder").await.unwrap(), 17);
        within("stopping", handle.stop()).await;
    }

    pub(crate) async fn a_subscription_that_saves_no_checkpoints_leaves_the_one_it_started_from(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        grant_with_notes(store.as_ref(), d, 5).await;
        store.save_checkpoint("own-progress", 2).await.unwrap();
        let recorder = Recorder::new("own-progress");
        let options = SubscriptionOptions {
            save_checkpoints: false,
            ..quick()
        };
        let mut handle = subscription::spawn(Arc::clone(&store), recorder.clone(), options);
        within("catching up", handle.wait_for(6)).await;
        append_notes(store.as_ref(), d, 6, 3).await;
        let status = within("following live", handle.wait_for(9)).await;
        assert_eq!(status.position, 9, "the status follows what was handled");
        assert_eq!(recorder.seen(), (3..=9).collect::<Vec<_>>());
        within("stopping", handle.stop()).await;
        assert_eq!(
            store.checkpoint("own-progress").await.unwrap(),
            2,
            "the checkpoint moved"
        );
    }

    pub(crate) async fn a_subscriber_checkpoint_survives_reopening(factory: &dyn StoreFactory) {
        let clock = TestClock::standard();
        let d = decision(1);
        {
            let store = factory.open(clock.clock());
            grant_with_notes(store.as_ref(), d, 9).await;
            let recorder = Recorder::new("durable");
            let mut handle = subscription::spawn(Arc::clone(&store), recorder.clone(), quick());
            within("catching up", handle.wait_for(10)).await;
            within("stopping", handle.stop()).await;
            assert_eq!(recorder.seen(), (1..=10).collect::<Vec<_>>());
        }
        let store = factory.open(clock.clock());
        assert_eq!(store.checkpoint("durable").await.unwrap(), 10);
        assert_eq!(store.checkpoint("never-ran").await.unwrap(), 0);
        append_notes(store.as_ref(), d, 10, 3).await;
        let recorder = Recorder::new("durable");
        let mut handle = subscription::spawn(Arc::clone(&store), recorder.clone(), quick());
        within("resuming", handle.wait_for(13)).await;
        assert_eq!(
            recorder.seen(),
            [11, 12, 13],
            "did not resume after its checkpoint"
        );
        within("stopping", handle.stop()).await;
    }

    pub(crate) async fn a_subscriber_that_fails_twice_gets_every_event_in_order(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        grant_with_notes(store.as_ref(), d, 5).await;
        let (calls_tx, mut calls) = mpsc::unbounded_channel();
        let scripted = Arc::new(Scripted {
            calls: calls_tx,
            always_ok: AtomicBool::new(false),
            handled: std::sync::Mutex::new(Vec::new()),
        });
        let mut handle = subscription::spawn(Arc::clone(&store), scripted.clone(), quick());
        // First offer: fail it.
        let (offered, reply) = within("the first offer", calls.recv()).await.unwrap();
        assert_eq!(offered, [1, 2, 3, 4]);
        assert_eq!(handle.status().failures, 0);
        reply.send(Err("first failure".into())).unwrap();
        // More events arrive while it is failing.
        append_notes(store.as_ref(), d, 6, 3).await;
        // Second offer: the same batch again, after a back-off; fail it too.
        let (offered, reply) = within("the second offer", calls.recv()).await.unwrap();
        assert_eq!(
            offered,
            [1, 2, 3, 4],
            "a failed batch must be offered again"
        );
        let status = handle.status();
        assert_eq!((status.failures, status.position), (1, 0));
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("first failure")),
            "{status:?}"
        );
        reply.send(Err("second failure".into())).unwrap();
        // Third offer: succeed, and from now on handle everything.
        let (offered, reply) = within("the third offer", calls.recv()).await.unwrap();
        assert_eq!(offered, [1, 2, 3, 4]);
        let status = handle.status();
        assert_eq!((status.failures, status.position), (2, 0));
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("second failure")),
            "{status:?}"
        );
        scripted.always_ok.store(true, Ordering::SeqCst);
        reply.send(Ok(())).unwrap();
        let status = within("recovering", handle.wait_for(9)).await;
        assert_eq!(
            status,
            SubscriptionStatus {
                name: "scripted".into(),
                position: 9,
                failures: 0,
                last_error: None
            }
        );
        append_notes(store.as_ref(), d, 9, 2).await;
        within("following live", handle.wait_for(11)).await;
        assert_eq!(
            *scripted.handled.lock().unwrap(),
            (1..=11).collect::<Vec<_>>()
        );
        assert_eq!(store.checkpoint("scripted").await.unwrap(), 11);
        within("stopping", handle.stop()).await;
    }

    pub(crate) async fn a_stuck_subscriber_blocks_neither_appends_nor_other_subscribers(
        factory: &dyn StoreFactory,
    ) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        grant_with_notes(store.as_ref(), d, 4).await;
        let stuck = Arc::new(Stuck {
            called: tokio::sync::Notify::new(),
        });
        // The stuck subscription is left running: it cannot be stopped (see
        // `stopping_a_stuck_subscriber_returns`); the runtime ends it with the test.
        let stuck_handle = subscription::spawn(Arc::clone(&store), stuck.clone(), quick());
        within(
            "the stuck subscriber's first offer",
            stuck.called.notified(),
        )
        .await;
        let healthy = Recorder::new("healthy");
        let mut healthy_handle = subscription::spawn(Arc::clone(&store), healthy.clone(), quick());
        append_notes(store.as_ref(), d, 5, 20).await;
        let other = decision(2);
        accepted(
            within(
                "an import",
                store.import(vec![grant(other)], ImportOptions::default()),
            )
            .await,
        );
        let status = within("the healthy subscriber", healthy_handle.wait_for(26)).await;
        assert_eq!(status.position, 26);
        assert_eq!(healthy.seen(), (1..=26).collect::<Vec<_>>());
        assert_eq!(stuck_handle.status().position, 0);
        assert_eq!(store.checkpoint("stuck").await.unwrap(), 0);
        within("stopping the healthy subscriber", healthy_handle.stop()).await;
        drop(stuck_handle);
    }

    pub(crate) async fn stopping_a_stuck_subscriber_returns(factory: &dyn StoreFactory) {
        let store = factory.open(TestClock::standard().clock());
        let d = decision(1);
        accepted(
            store
                .append(d, ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
        let stuck = Arc::new(Stuck {
            called: tokio::sync::Notify::new(),
        });
        let handle = subscription::spawn(Arc::clone(&store), stuck.clone(), quick());
        within(
            "the stuck subscriber's first offer",
            stuck.called.notified(),
        )
        .await;
        let stopped = tokio::time::timeout(Duration::from_secs(10), handle.stop()).await;
        assert!(
            stopped.is_ok(),
            "SubscriptionHandle::stop did not return while the subscriber was stuck"
        );
    }
}

/// Instantiates every case for one engine, in a module named after it.
macro_rules! conformance_suite {
    ($engine:ident, $factory:expr; $( $(#[$attr:meta])* $case:ident ),* $(,)?) => {
        mod $engine {
            #[allow(unused_imports)]
            use super::fixtures::*;
            $(
                $(#[$attr])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let factory = $factory;
                    super::cases::$case(&factory).await;
                }
            )*
        }
    };
}

/// The list of cases, written once.
macro_rules! every_case {
    ($engine:ident, $factory:expr) => {
        conformance_suite!($engine, $factory;
            expected_any_appends_at_whatever_version,
            expected_no_stream_is_refused_once_the_stream_exists,
            expected_exact_is_refused_when_wrong_reporting_the_actual_version,
            racing_appenders_on_one_stream_one_winner_per_version,
            many_streams_at_once_lose_nothing_and_readers_never_see_a_gap,
            rules_are_checked_inside_the_writer,
            recorded_at_comes_from_the_store_clock,
            recorded_at_never_goes_backwards_when_the_clock_does,
            recorded_at_never_goes_backwards_under_concurrent_appends,
            head_is_the_last_event_as_stored,
            a_repeated_append_returns_the_original_positions,
            an_event_id_reused_with_other_content_is_refused,
            a_request_mixing_a_stored_event_and_a_new_one_writes_only_the_new,
            as_of_reads_see_only_what_was_recorded_by_then,
            position_as_of_agrees_with_a_model_with_ties,
            an_import_is_all_or_nothing,
            an_import_larger_than_one_batch_lands_whole,
            an_import_keeping_recorded_at_keeps_times_and_refuses_going_back,
            an_import_keeping_recorded_at_refuses_times_after_the_clock,
            a_dry_run_import_writes_nothing,
            the_store_agrees_with_a_model_over_a_random_run,
            a_subscriber_catches_up_from_its_checkpoint_then_follows_live,
            a_subscriber_checkpoint_survives_reopening,
            a_subscription_that_saves_no_checkpoints_leaves_the_one_it_started_from,
            a_subscriber_that_fails_twice_gets_every_event_in_order,
            a_stuck_subscriber_blocks_neither_appends_nor_other_subscribers,
            stopping_a_stuck_subscriber_returns,
        );
    };
}

every_case!(redb, Embedded::new(store::EngineKind::Redb));
#[cfg(feature = "sled")]
every_case!(sled, Embedded::new(store::EngineKind::Sled));
every_case!(postgres, Postgres::new());
