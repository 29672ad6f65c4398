//! For tests of this and other crates (feature `test-support`): a store against a model.
//!
//! [`run`] takes a run of [`Step`]s — appends (right, wrong and loose expectations, events that
//! break a rule, requests sent again), bursts of concurrent appends, imports (whole, refused
//! whole, and dry runs) and reopenings — to any [`EventStore`], and checks every answer against a
//! plain model of the log. After every step each stream reads back as the model has it, and the
//! head is where the model puts it. [`step`] generates steps (proptest).
//!
//! The store's own unit test runs it on a writer that keeps almost no decoded streams; the
//! conformance suite (`tests/it/store_conformance.rs`) runs it on every store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    clippy::panic
)]

use std::collections::HashMap;
use std::sync::Arc;

use domain::rules::Rule;
use domain::{DecisionId, EventId, EventType, NewEvent};
use proptest::prelude::*;

use crate::api::{
    Appended, AppendedEvent, EventStore, ExpectedVersion, ImportOptions, Imported, Refusal,
    RefusalKind,
};

/// Decisions a run writes to.
pub const DECISIONS: u8 = 6;

/// What an append expects of its stream's version.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// The stream's version, as the model has it.
    Right,
    /// One more than that.
    Wrong,
    /// Any version.
    Any,
    /// No stream yet.
    NoStream,
}

/// One step of a run.
#[derive(Debug, Clone)]
pub enum Step {
    /// One event appended to a decision: its grant, or a note.
    Append {
        /// Which decision (below [`DECISIONS`]).
        decision: u8,
        /// Its grant (else a note).
        grant: bool,
        /// What the append expects of the stream's version.
        expect: Expect,
    },
    /// An accepted append sent again, as it was.
    Repeat {
        /// Which, among those accepted so far (modulo their number).
        pick: usize,
    },
    /// Appends sent at once, one event each: a decision with no stream yet gets its grant (and
    /// only that), expecting no stream; one with a stream gets a note for each time it is named,
    /// expecting any version, so the notes may land in any order.
    Burst {
        /// The decisions named; a note marked `true` is sent twice at once: it is stored once,
        /// and the other request is answered as a repeat, whether it lands in the same group
        /// or while the first one's group is in flight.
        decisions: Vec<(u8, bool)>,
    },
    /// Events to these decisions in one import.
    Import {
        /// The decisions, one event each, in order.
        decisions: Vec<u8>,
        /// Adds, last, a second grant to the last decision, which refuses the whole import.
        broken: bool,
        /// Checks only: answered as the import would be, nothing written, nothing kept.
        dry_run: bool,
    },
    /// The store closed and opened again.
    Reopen,
}

/// One step, any of them.
pub fn step() -> impl Strategy<Value = Step> {
    let decision = 0..DECISIONS;
    let expect = prop_oneof![
        6 => Just(Expect::Right),
        1 => Just(Expect::Wrong),
        2 => Just(Expect::Any),
        1 => Just(Expect::NoStream),
    ];
    prop_oneof![
        8 => (decision.clone(), prop::bool::weighted(0.3), expect)
            .prop_map(|(decision, grant, expect)| Step::Append { decision, grant, expect }),
        2 => any::<usize>().prop_map(|pick| Step::Repeat { pick }),
        4 => prop::collection::vec((decision.clone(), prop::bool::weighted(0.25)), 2..16)
            .prop_map(|decisions| Step::Burst { decisions }),
        2 => (
            prop::collection::vec(decision, 1..12),
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.3),
        )
            .prop_map(|(decisions, broken, dry_run)| Step::Import { decisions, broken, dry_run }),
        1 => Just(Step::Reopen),
    ]
}

/// The log as it should be.
#[derive(Debug, Default)]
struct Model {
    /// Each decision's events in version order: id and position.
    streams: HashMap<u8, Vec<(EventId, u64)>>,
    /// The last position.
    head: u64,
    /// Accepted one-event appends, as sent, with what they were answered.
    accepted: Vec<(u8, NewEvent, AppendedEvent)>,
    /// Event ids given so far.
    ids: u128,
}

impl Model {
    fn version(&self, decision: u8) -> u64 {
        self.streams.get(&decision).map_or(0, |s| s.len() as u64)
    }

    fn fresh_id(&mut self) -> EventId {
        self.ids += 1;
        EventId::from_uuid(uuid::Uuid::from_u128(self.ids))
    }

    /// A new event for `decision`: its grant or a note, on the grant's date.
    fn event(&mut self, decision: u8, grant: bool) -> NewEvent {
        let kind = if grant {
            EventType::DecisionGranted
        } else {
            EventType::NoteRecorded
        };
        let mut event = NewEvent::from_json(&domain::schema::example(kind).to_string()).unwrap();
        event.event_id = Some(self.fresh_id());
        event.decision_id = decision_id(decision);
        event.occurred_on = grant_date();
        event.recorded_at = None;
        event
    }

    /// The event that continues `decision`'s stream validly: its grant if it has none yet.
    fn next_event(&mut self, decision: u8, version: u64) -> NewEvent {
        self.event(decision, version == 0)
    }

    fn record(&mut self, decision: u8, event_id: EventId, position: u64) {
        self.streams
            .entry(decision)
            .or_default()
            .push((event_id, position));
    }
}

fn decision_id(decision: u8) -> DecisionId {
    DecisionId::from_uuid(uuid::Uuid::from_u128(0xd0_0000 + u128::from(decision)))
}

fn grant_date() -> chrono::NaiveDate {
    NewEvent::from_json(&domain::schema::example(EventType::DecisionGranted).to_string())
        .unwrap()
        .occurred_on
}

/// The rule an append of one event breaks, if any, on a stream at `version`.
fn rule_broken(grant: bool, version: u64) -> Option<Rule> {
    match (grant, version) {
        (true, 0) | (false, 1..) => None,
        (true, _) => Some(Rule::ExactlyOneDecision),
        (false, 0) => Some(Rule::BeginsWithDecision),
    }
}

/// Runs `steps` on the store `open` opens (its log empty at first; opened again, after every
/// handle of the last one is dropped, it gives the same log), panicking at the first answer or
/// read that the model does not give.
pub async fn run(steps: Vec<Step>, open: &mut dyn FnMut() -> Arc<dyn EventStore>) {
    let mut store = open();
    let mut model = Model::default();
    for (n, step) in steps.into_iter().enumerate() {
        let context = format!("step {n}: {step:?}");
        match step {
            Step::Append {
                decision,
                grant,
                expect,
            } => {
                let version = model.version(decision);
                let event = model.event(decision, grant);
                let event_id = event.event_id.unwrap();
                let expected = match expect {
                    Expect::Right => ExpectedVersion::Exact(version),
                    Expect::Wrong => ExpectedVersion::Exact(version + 1),
                    Expect::Any => ExpectedVersion::Any,
                    Expect::NoStream => ExpectedVersion::NoStream,
                };
                let answer = store
                    .append(decision_id(decision), expected, vec![event.clone()])
                    .await
                    .expect("the store works");
                let conflict = match expected {
                    ExpectedVersion::Exact(v) => v != version,
                    ExpectedVersion::NoStream => version > 0,
                    ExpectedVersion::Any => false,
                };
                if conflict {
                    assert_eq!(
                        answer,
                        Err(Refusal {
                            index: None,
                            kind: RefusalKind::Conflict {
                                decision_id: decision_id(decision),
                                expected,
                                actual: version,
                            },
                        }),
                        "{context}"
                    );
                } else if let Some(rule) = rule_broken(grant, version) {
                    match answer {
                        Err(Refusal {
                            index: Some(0),
                            kind: RefusalKind::Rule(violation),
                        }) => assert_eq!(violation.rule, rule, "{context}"),
                        other => panic!("{context}: refused by {rule:?} expected, got {other:?}"),
                    }
                } else {
                    let appended = AppendedEvent {
                        event_id,
                        position: model.head + 1,
                        version: version + 1,
                    };
                    assert_eq!(
                        answer,
                        Ok(Appended {
                            events: vec![appended],
                            version: version + 1,
                            duplicate: false,
                        }),
                        "{context}"
                    );
                    model.head += 1;
                    model.record(decision, event_id, model.head);
                    model.accepted.push((decision, event, appended));
                }
            }
            Step::Repeat { pick } => {
                if model.accepted.is_empty() {
                    continue;
                }
                let (decision, event, original) =
                    model.accepted[pick % model.accepted.len()].clone();
                // Whatever it expects now, a request already stored is answered as it was.
                let answer = store
                    .append(
                        decision_id(decision),
                        ExpectedVersion::Exact(u64::MAX),
                        vec![event],
                    )
                    .await
                    .expect("the store works");
                assert_eq!(
                    answer,
                    Ok(Appended {
                        events: vec![original],
                        version: original.version,
                        duplicate: true,
                    }),
                    "{context}"
                );
            }
            Step::Burst { decisions } => {
                let mut granted = Vec::new();
                let mut tasks = Vec::new();
                for (decision, twice) in decisions {
                    let version = model.version(decision);
                    let expected = match version {
                        0 if granted.contains(&decision) => continue,
                        0 => ExpectedVersion::NoStream,
                        _ => ExpectedVersion::Any,
                    };
                    granted.push(decision);
                    let event = model.next_event(decision, version);
                    let copies = if twice && version > 0 { 2 } else { 1 };
                    for _ in 0..copies {
                        let store = Arc::clone(&store);
                        let event = event.clone();
                        tasks.push(tokio::spawn(async move {
                            let event_id = event.event_id.unwrap();
                            let answer = store
                                .append(decision_id(decision), expected, vec![event])
                                .await
                                .expect("the store works");
                            (decision, event_id, answer)
                        }));
                    }
                }
                let mut answers: HashMap<EventId, Vec<Appended>> = HashMap::new();
                let mut landed = Vec::new();
                for task in tasks {
                    let (decision, event_id, answer) = task.await.unwrap();
                    let appended = answer.unwrap_or_else(|r| panic!("{context}: refused: {r}"));
                    assert_eq!(appended.events[0].event_id, event_id, "{context}");
                    assert_eq!(appended.version, appended.events[0].version, "{context}");
                    if !appended.duplicate {
                        landed.push((
                            appended.events[0].position,
                            decision,
                            event_id,
                            appended.version,
                        ));
                    }
                    answers.entry(event_id).or_default().push(appended);
                }
                for (event_id, answers) in &answers {
                    let stored = answers.iter().filter(|a| !a.duplicate).count();
                    assert_eq!(stored, 1, "{context}: {event_id} stored once: {answers:?}");
                    assert!(
                        answers.iter().all(|a| a.events == answers[0].events),
                        "{context}: {event_id} answered alike: {answers:?}"
                    );
                }
                let sent = answers.len() as u64;
                landed.sort_unstable();
                let positions: Vec<u64> = landed.iter().map(|l| l.0).collect();
                let expected: Vec<u64> = (model.head + 1..=model.head + sent).collect();
                assert_eq!(positions, expected, "{context}: positions without gaps");
                // In position order, each decision's versions go on from the model's, one by one.
                for (position, decision, event_id, version) in landed {
                    assert_eq!(
                        version,
                        model.version(decision) + 1,
                        "{context}: {decision}"
                    );
                    model.record(decision, event_id, position);
                }
                model.head += sent;
            }
            Step::Import {
                decisions,
                broken,
                dry_run,
            } => {
                let mut versions: HashMap<u8, u64> = HashMap::new();
                let mut events = Vec::new();
                for &decision in &decisions {
                    let version = versions
                        .entry(decision)
                        .or_insert_with(|| model.version(decision));
                    events.push(model.next_event(decision, *version));
                    *version += 1;
                }
                let last = *decisions.last().expect("at least one");
                if broken {
                    events.push(model.event(last, true));
                }
                let options = ImportOptions {
                    keep_recorded_at: false,
                    dry_run,
                };
                let answer = store
                    .import(events.clone(), options)
                    .await
                    .expect("the store works");
                if broken {
                    match answer {
                        Err(Refusal {
                            index: Some(index),
                            kind: RefusalKind::Rule(violation),
                        }) => {
                            assert_eq!(index, decisions.len(), "{context}");
                            assert_eq!(violation.rule, Rule::ExactlyOneDecision, "{context}");
                        }
                        other => panic!("{context}: refused whole expected, got {other:?}"),
                    }
                } else {
                    let appended = events.len() as u64;
                    assert_eq!(
                        answer,
                        Ok(Imported {
                            appended,
                            duplicates: 0,
                            decisions: versions.len() as u64,
                            first_position: Some(model.head + 1),
                            last_position: Some(model.head + appended),
                        }),
                        "{context}"
                    );
                    if !dry_run {
                        for (event, &decision) in events.iter().zip(&decisions) {
                            model.head += 1;
                            model.record(decision, event.event_id.unwrap(), model.head);
                        }
                    }
                }
            }
            Step::Reopen => {
                drop(store);
                store = open();
            }
        }
        check(store.as_ref(), &model, &context).await;
    }
}

/// Every stream reads back as the model has it, versions 1, 2, …, and the head is the model's.
async fn check(store: &dyn EventStore, model: &Model, context: &str) {
    for decision in 0..DECISIONS {
        let events = store
            .read_stream(decision_id(decision), None)
            .await
            .expect("the store works");
        let lines = store
            .read_stream_lines(decision_id(decision), None)
            .await
            .expect("the store works");
        let as_lines: Vec<(u64, Vec<u8>)> = events
            .iter()
            .map(|e| (e.position, e.to_json().into_bytes()))
            .collect();
        assert!(
            lines == as_lines,
            "{context}: decision {decision}: its stored lines are not its events"
        );
        let stored: Vec<(EventId, u64, u64)> = events
            .into_iter()
            .map(|e| (e.event_id, e.position, e.version))
            .collect();
        let expected: Vec<(EventId, u64, u64)> = model
            .streams
            .get(&decision)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .zip(1..)
            .map(|(&(id, position), version)| (id, position, version))
            .collect();
        assert_eq!(stored, expected, "{context}: decision {decision}");
    }
    let head = store.head().await.expect("the store works");
    assert_eq!(head.position, model.head, "{context}: the head");
}
