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

use crate::deadlines::{episode_deadlines, next_deadline};
use crate::episodes::episodes;
use crate::facts::Projection;
use crate::open_cases::open_cases;
use crate::stored::FoldEvent;
use crate::worklist::{is_reported, ivo_worklist};

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
    let mut granted_on = [start; 6];
    let mut events: Vec<RecordedEvent> = Vec::new();
    for s in steps {
        day += Duration::days(s.days);
        recorded += Duration::hours(s.days * 24 + 1);
        let decision: DecisionId = format!("00000000-0000-4000-8000-{:012}", s.decision)
            .parse()
            .unwrap();
        let data = if !granted[s.decision] {
            granted[s.decision] = true;
            granted_on[s.decision] = day - Duration::days(s.days % 7);
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
                // A report of the decision's own episode: new in the quarter of its reference
                // date, or a follow-up in one of the next two.
                6 => {
                    let reference_date = crate::episodes::reference_date(granted_on[s.decision]);
                    let first = Quarter::containing(reference_date);
                    let quarter = match s.days % 3 {
                        0 => first,
                        1 => first.next(),
                        _ => first.next().next(),
                    };
                    EventData::ReportedToIvo(ReportedToIvo {
                        kind: if quarter == first {
                            ReportKind::New
                        } else {
                            ReportKind::FollowUp
                        },
                        quarter,
                        reference_date,
                    })
                }
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
    fn folding_stored_lines_equals_applying_the_decoded_events(
        steps in prop::collection::vec(step(), 1..80),
        refreshes in prop::collection::vec(0usize..80, 0..4),
    ) {
        let events = log(&steps);
        let mut applied = Projection::new();
        let mut folded = Projection::new();
        for (i, e) in events.iter().enumerate() {
            applied.apply(e).unwrap();
            let line = e.to_json();
            folded.fold(FoldEvent::from_stored_line(&line).unwrap()).unwrap();
            // The index refreshed now and then, as a server does.
            if refreshes.contains(&i) {
                applied.refresh_index();
                folded.refresh_index();
            }
        }
        prop_assert_eq!(&folded, &applied);
        let mut whole = replay(&events);
        whole.refresh_index();
        folded.refresh_index();
        prop_assert_eq!(&folded, &whole);
        prop_assert_eq!(folded.stale().count(), 0);
    }

    #[test]
    fn folding_all_stops_at_a_gap_with_the_head_and_hash_before_it(
        steps in prop::collection::vec(step(), 3..40),
        gap in 1usize..40,
    ) {
        let events = log(&steps);
        // An event left out before the last: the one after it is out of order.
        let gap = gap.min(events.len() - 2);
        let lines: Vec<String> = events.iter().map(RecordedEvent::to_json).collect();
        let mut folded = Projection::new();
        let result = folded.fold_all(
            lines[..gap]
                .iter()
                .chain(&lines[gap + 1..])
                .map(|line| FoldEvent::from_stored_line(line).unwrap()),
        );
        prop_assert!(result.is_err());
        prop_assert_eq!(folded.head(), gap as u64);
        prop_assert_eq!(folded.head_hash(), events[gap - 1].hash.as_str());
        prop_assert_eq!(&folded, &replay(&events[..gap]));
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

    #[test]
    fn open_cases_from_the_index_equal_a_full_scan(
        steps in prop::collection::vec(step(), 1..80),
        later in 0i64..800,
    ) {
        let events = log(&steps);
        let scanning = replay(&events);
        let mut indexed = scanning.clone();
        indexed.refresh_index();
        let latest = events.iter().map(|e| e.occurred_on).max().unwrap();
        let now: DateTime<Utc> = "2100-01-01T00:00:00Z".parse().unwrap();
        let on = latest + Duration::days(later);
        prop_assert!(indexed.open_index(on, indexed.head()).is_some());
        prop_assert!(scanning.open_index(on, scanning.head()).is_none());
        prop_assert_eq!(open_cases(&indexed, on, now), open_cases(&scanning, on, now));
    }

    #[test]
    fn the_next_deadline_is_the_first_of_the_deadlines(
        steps in prop::collection::vec(step(), 1..80),
        on_days in prop::collection::vec(-30i64..900, 1..6),
    ) {
        let events = log(&steps);
        let projection = replay(&events);
        let first: NaiveDate = "2023-01-02".parse().unwrap();
        for decision in projection.decisions() {
            let view = decision.view(projection.head()).unwrap();
            for episode in episodes(&view) {
                for &days in &on_days {
                    let on = first + Duration::days(days);
                    let until = on + Duration::days(450);
                    let slow = episode_deadlines(&view, &episode, until)
                        .into_iter()
                        .filter(|&(_, due)| due >= on)
                        .min_by_key(|&(kind, due)| (due, kind));
                    let fast = next_deadline(&episode, on, until, |kind, quarter| {
                        is_reported(&view, &episode, kind, quarter)
                    });
                    prop_assert_eq!(fast, slow);
                }
            }
        }
    }
}
