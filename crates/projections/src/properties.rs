//! Properties of the fold: a projection built by one replay equals one kept live through any
//! chunking (with a saved-and-loaded snapshot between chunks), and a report asked as of a moment
//! is byte-identical after more events are recorded.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::codes::{DelayReason, EndReason, Insats, ReportKind};
use domain::event::{
    Avslutad, DecisionGranted, DelayReasonRecorded, EventRetracted, Interrupted, OrderSent,
    Partial, ReportedToIvo, Verkställd,
};
use domain::{DecisionId, EventData, EventId, Person, Quarter, RecordedEvent};
use proptest::prelude::*;

use crate::facts::Projection;
use crate::worklist::ivo_worklist;

/// One step of a generated history: which decision, how many days later, what.
#[derive(Debug, Clone)]
struct Step {
    decision: usize,
    days: i64,
    what: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (0usize..6, 0i64..60, 0u8..9).prop_map(|(decision, days, what)| Step {
        decision,
        days,
        what,
    })
}

/// Turns steps into a log: a decision is granted on its first step; later steps add events.
/// The fold does not check the §6 rules (the store does), so any sequence will do here.
fn log(steps: &[Step]) -> Vec<RecordedEvent> {
    let start: NaiveDate = "2023-01-02".parse().unwrap();
    let mut recorded: DateTime<Utc> = "2023-01-02T08:00:00Z".parse().unwrap();
    let mut day = start;
    let mut granted = [false; 6];
    let mut events: Vec<RecordedEvent> = Vec::new();
    for s in steps {
        day += Duration::days(s.days);
        recorded += Duration::hours(s.days * 24 + 1);
        let decision: DecisionId = format!("00000000-0000-4000-8000-{:012}", s.decision)
            .parse()
            .unwrap();
        let data = if !granted[s.decision] {
            granted[s.decision] = true;
            EventData::DecisionGranted(DecisionGranted {
                person: Person {
                    id: domain::IdentityNumber::parse("19900101-T124", start).unwrap(),
                    protected: false,
                },
                law: domain::Law::Lss,
                insats: Insats::Lss9_9,
                forhandsbesked: s.what % 2 == 0,
                scope: None,
                area: None,
                unit: None,
                replaces: None,
            })
        } else {
            match s.what {
                0 => EventData::OrderSent(OrderSent {
                    provider: "Boendeteamet".into(),
                }),
                1 => EventData::Verkställd(Verkställd { partial: None }),
                2 => EventData::Verkställd(Verkställd {
                    partial: Some(Partial {
                        executed: 1.0,
                        granted: 2.0,
                        unit: "dagar".into(),
                    }),
                }),
                3 => EventData::Interrupted(Interrupted {
                    reason: "Flytt".into(),
                }),
                4 => EventData::Avslutad(Avslutad {
                    reason: EndReason::Moved,
                    text: None,
                }),
                5 => EventData::DelayReasonRecorded(DelayReasonRecorded {
                    reason: DelayReason::NoPlaceAvailable,
                    text: None,
                }),
                6 => EventData::ReportedToIvo(ReportedToIvo {
                    kind: ReportKind::New,
                    quarter: Quarter::containing(day),
                    reference_date: day,
                }),
                7 => match events
                    .iter()
                    .rev()
                    .find(|e| e.decision_id == decision && e.version > 1)
                {
                    Some(target) => EventData::EventRetracted(EventRetracted {
                        event_id: target.event_id,
                        reason: "Fel".into(),
                    }),
                    None => EventData::OrderSent(OrderSent {
                        provider: "Utförare".into(),
                    }),
                },
                _ => EventData::CostEstimated(domain::event::CostEstimated {
                    sek_per_month: 9000.0,
                }),
            }
        };
        let position = events.len() as u64 + 1;
        let version = events.iter().filter(|e| e.decision_id == decision).count() as u64 + 1;
        events.push(RecordedEvent {
            position,
            version,
            recorded_at: recorded,
            event_id: EventId::from_uuid(uuid_from(position)),
            decision_id: decision,
            occurred_on: day - Duration::days(s.days % 7),
            actor: None,
            data,
            hash: format!("{position:064x}"),
        });
    }
    events
}

fn uuid_from(n: u64) -> uuid::Uuid {
    uuid::Uuid::from_u128(u128::from(n) | (0x4000 << 64))
}

fn replay(events: &[RecordedEvent]) -> Projection {
    let mut p = Projection::new();
    for e in events {
        p.apply(e).unwrap();
    }
    p
}

proptest! {
    #[test]
    fn one_replay_equals_any_chunking_through_snapshots(
        steps in prop::collection::vec(step(), 1..80),
        cuts in prop::collection::vec(0usize..80, 0..6),
    ) {
        let events = log(&steps);
        let whole = replay(&events);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(events.len())).collect();
        cuts.sort_unstable();
        let mut live = Projection::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([events.len()]) {
            for e in &events[from..cut.max(from)] {
                live.apply(e).unwrap();
            }
            from = cut.max(from);
            // Saved and loaded between chunks, as a restarted process would.
            live = postcard::from_bytes(&postcard::to_stdvec(&live).unwrap()).unwrap();
        }
        prop_assert_eq!(&live, &whole);
        let quarter = Quarter::containing("2023-06-30".parse().unwrap());
        let far: DateTime<Utc> = "2100-01-01T00:00:00Z".parse().unwrap();
        prop_assert_eq!(ivo_worklist(&live, quarter, None, far), ivo_worklist(&whole, quarter, None, far));
    }

    #[test]
    fn a_report_as_of_a_moment_never_changes(
        steps in prop::collection::vec(step(), 2..80),
        split in 1usize..80,
    ) {
        let events = log(&steps);
        let split = split.min(events.len() - 1).max(1);
        let as_of = events[split - 1].recorded_at;
        let before = replay(&events[..split]);
        let after = replay(&events);
        for quarter in ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1"] {
            let q: Quarter = quarter.parse().unwrap();
            let then = serde_json::to_string(&ivo_worklist(&before, q, None, as_of)).unwrap();
            let again = serde_json::to_string(&ivo_worklist(&before, q, None, as_of)).unwrap();
            let later = serde_json::to_string(&ivo_worklist(&after, q, None, as_of)).unwrap();
            prop_assert_eq!(&then, &again);
            prop_assert_eq!(&then, &later, "events recorded after the moment changed the report");
        }
    }
}
