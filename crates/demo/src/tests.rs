//! The demo's promises, checked on whole runs: deterministic, §6-valid in every stream and at
//! every moment, nothing after `until`, realistic proportions, and a store that takes it all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::event::Verkställd;
use domain::rules::{StreamEvent, check_append};
use domain::time::{add_months, business_date};
use domain::{
    DecisionId, EventData, EventId, EventType, IdentityKind, Insats, Law, NewEvent, Quarter,
    ReportKind, Sex,
};
use store::{EmbeddedStore, EventStore, ImportOptions};

use super::*;

fn until() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-12T09:30:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
}

/// An awkward "now": 23:30 UTC is already the next day in Stockholm.
fn late_evening() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-30T23:30:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
}

/// Runs with other seeds, sizes and ends than the default run.
fn other_runs() -> Vec<(DemoOptions, Vec<NewEvent>)> {
    [
        options(2, 1500),
        options(3, 1500),
        options(4, 1500),
        DemoOptions {
            decisions: 1500,
            first_year: 2023,
            ..DemoOptions::new(5, late_evening())
        },
    ]
    .into_iter()
    .map(|options| (options, generate(&options)))
    .collect()
}

fn options(seed: u64, decisions: u32) -> DemoOptions {
    DemoOptions {
        decisions,
        ..DemoOptions::new(seed, until())
    }
}

/// The default-size run of seed 1, generated once for the tests that only read it.
fn default_run() -> &'static [NewEvent] {
    static RUN: OnceLock<Vec<NewEvent>> = OnceLock::new();
    RUN.get_or_init(|| generate(&DemoOptions::new(1, until())))
}

/// Each decision's events, in the order returned, decisions in order of their first event.
fn by_decision(events: &[NewEvent]) -> Vec<(DecisionId, Vec<&NewEvent>)> {
    let mut order: Vec<(DecisionId, Vec<&NewEvent>)> = Vec::new();
    let mut slot: HashMap<DecisionId, usize> = HashMap::new();
    for event in events {
        let at = *slot.entry(event.decision_id).or_insert_with(|| {
            order.push((event.decision_id, Vec::new()));
            order.len() - 1
        });
        order[at].1.push(event);
    }
    order
}

fn grant(event: &NewEvent) -> Option<&domain::event::DecisionGranted> {
    match &event.data {
        EventData::DecisionGranted(g) => Some(g),
        _ => None,
    }
}

fn recorded(event: &NewEvent) -> DateTime<Utc> {
    event.recorded_at.expect("every demo event has recorded_at")
}

fn view(event: &NewEvent) -> StreamEvent {
    StreamEvent::of(
        event.event_id.expect("every demo event has an id"),
        event.occurred_on,
        business_date(recorded(event)),
        &event.data,
    )
}

#[test]
fn the_same_options_give_the_same_bytes_and_another_seed_does_not() {
    let json = |events: &[NewEvent]| {
        events
            .iter()
            .map(|e| serde_json::to_string(e).expect("an event serialises"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = json(default_run());
    let second = json(&generate(&DemoOptions::new(1, until())));
    assert!(first == second, "two runs of the same options differ");
    let other = json(&generate(&DemoOptions::new(2, until())));
    assert_ne!(first, other);
}

#[test]
fn a_run_has_exactly_the_decisions_asked_for() {
    for decisions in [0, 1, 2, 57, 3000] {
        let summary = DemoSummary::of(&generate(&options(5, decisions)));
        assert_eq!(summary.decisions, u64::from(decisions));
    }
    assert_eq!(DemoSummary::of(default_run()).decisions, 3000);
}

#[test]
fn every_stream_obeys_the_rules_whole_and_at_every_moment_it_was_recorded() {
    let mut runs = other_runs();
    runs.push((DemoOptions::new(1, until()), default_run().to_vec()));
    for (options, events) in runs {
        let seed = options.seed;
        let mut earlier: HashSet<DecisionId> = HashSet::new();
        for (decision_id, stream) in by_decision(&events) {
            let views: Vec<StreamEvent> = stream.iter().map(|e| view(e)).collect();
            let exists = |d: DecisionId| earlier.contains(&d);
            if let Err(violation) = check_append(decision_id, &[], &views, &exists) {
                panic!("seed {seed}, decision {decision_id}: {violation}");
            }
            // One event at a time, as a store appending live would have seen it.
            for k in 0..views.len() {
                if let Err(violation) =
                    check_append(decision_id, &views[..k], &views[k..=k], &exists)
                {
                    panic!("seed {seed}, decision {decision_id}, event {k}: {violation}");
                }
            }
            earlier.insert(decision_id);
        }
    }
}

#[test]
fn time_runs_forward_and_stops_at_until() {
    let mut runs = other_runs();
    runs.push((DemoOptions::new(1, until()), default_run().to_vec()));
    for (options, events) in runs {
        let until = || options.until;
        let mut previous: Option<DateTime<Utc>> = None;
        let mut ids: HashSet<EventId> = HashSet::new();
        let mut position: HashMap<EventId, usize> = HashMap::new();
        let mut granted: HashSet<DecisionId> = HashSet::new();
        let until_date = business_date(until());
        assert_eq!(
            DemoSummary::of(&events).decisions,
            u64::from(options.decisions)
        );
        for (index, event) in events.iter().enumerate() {
            let at = recorded(event);
            assert!(
                previous.is_none_or(|p| p <= at),
                "recorded_at goes back at {index}"
            );
            previous = Some(at);
            assert!(at <= until(), "recorded after until at {index}");
            assert!(
                event.occurred_on <= business_date(at),
                "occurs after it is recorded at {index}"
            );
            assert!(event.occurred_on <= until_date);
            let id = event.event_id.expect("an id");
            assert!(ids.insert(id), "event id {id} twice");
            position.insert(id, index);
            let actor = event.actor.as_deref().expect("an actor");
            assert!(
                actor.contains('.') && !actor.chars().any(|c| c.is_ascii_digit()),
                "{actor}"
            );
            match &event.data {
                EventData::EventRetracted(r) => {
                    assert!(position.get(&r.event_id).is_some_and(|&p| p < index));
                }
                EventData::OfferDeclined(d) => {
                    if let Some(offer) = d.offer_event_id {
                        assert!(position.get(&offer).is_some_and(|&p| p < index));
                    }
                }
                EventData::DecisionGranted(g) => {
                    if let Some(replaced) = g.replaces {
                        assert!(granted.contains(&replaced), "replaces a later decision");
                    }
                    granted.insert(event.decision_id);
                }
                _ => {}
            }
        }
    }
}

#[test]
fn streaming_gives_what_sorting_the_whole_run_gives() {
    let events = generate(&options(11, 600));
    let mut sorted = events.clone();
    sorted.sort_by_key(recorded);
    assert_eq!(events.len(), sorted.len());
    assert!(
        events
            .iter()
            .zip(&sorted)
            .all(|(a, b)| recorded(a) == recorded(b))
    );
    // Within a stream, the returned order is the order the events were drawn in.
    let streamed: Vec<_> = stream(&options(11, 600)).collect();
    assert_eq!(events, streamed);
}

#[test]
fn persons_are_reserve_numbers_of_plausible_ages() {
    let mut protected = 0u32;
    let mut women = 0u32;
    let mut decisions = 0u32;
    for event in default_run() {
        let Some(g) = grant(event) else { continue };
        decisions += 1;
        let id = &g.person.id;
        assert_eq!(id.kind(), IdentityKind::ReserveNumber);
        let text = id.reveal();
        if g.person.protected {
            protected += 1;
            assert!(text[8..].starts_with("-TF"), "protected persons have -TFNN");
        } else {
            assert!(text[8..].starts_with("-T") && !text[8..].starts_with("-TF"));
        }
        if id.sex() == Sex::Female {
            women += 1;
        }
        let age = event
            .occurred_on
            .years_since(id.birth_date())
            .expect("born before");
        let ages = match g.insats {
            Insats::Lss9_6 | Insats::Lss9_5 | Insats::SolKontaktfamilj | Insats::SolFamiljehem => {
                0..18
            }
            Insats::Lss9_8 => 8..20,
            Insats::SolSarskiltBoende | Insats::SolDagverksamhet | Insats::SolAvlosning => 65..100,
            Insats::Lss9_9 | Insats::Lss9_10 => 19..65,
            _ => 0..100,
        };
        assert!(ages.contains(&age), "{:?} at {age}", g.insats);
    }
    let share = |n: u32| f64::from(n) / f64::from(decisions);
    assert!(
        (0.005..0.04).contains(&share(protected)),
        "protected {}",
        share(protected)
    );
    assert!(
        (0.45..0.55).contains(&share(women)),
        "women {}",
        share(women)
    );
}

/// The reportable episodes of a stream (spec §6) whose reference date has come by `until`, as
/// (kind, start, closed).
fn episodes(stream: &[&NewEvent]) -> Vec<(ReportKind, NaiveDate, Option<NaiveDate>)> {
    let mut order: Vec<&NewEvent> = stream.to_vec();
    order.sort_by_key(|e| e.occurred_on);
    let retracted: HashSet<EventId> = stream
        .iter()
        .filter_map(|e| match &e.data {
            EventData::EventRetracted(r) => Some(r.event_id),
            _ => None,
        })
        .collect();
    let mut episodes: Vec<(ReportKind, NaiveDate, Option<NaiveDate>)> = Vec::new();
    for event in order {
        if event.event_id.is_some_and(|id| retracted.contains(&id)) {
            continue;
        }
        match &event.data {
            EventData::DecisionGranted(_) => {
                episodes.push((ReportKind::New, event.occurred_on, None))
            }
            EventData::Interrupted(_) => {
                episodes.push((ReportKind::NewInterruption, event.occurred_on, None));
            }
            EventData::Verkställd(Verkställd { partial: None }) | EventData::Avslutad(_) => {
                if let Some(last) = episodes.last_mut().filter(|e| e.2.is_none()) {
                    last.2 = Some(event.occurred_on);
                }
            }
            _ => {}
        }
    }
    episodes
        .into_iter()
        .filter(|(_, start, closed)| {
            let r = add_months(*start, 3).expect("in range");
            r <= business_date(until()) && closed.is_none_or(|c| c > r)
        })
        .collect()
}

#[test]
fn reports_name_their_episode_quarter_and_kind_and_a_few_are_missed() {
    let events = default_run();
    let cutoff = business_date(until());
    let (mut due, mut reported) = (0u32, 0u32);
    for (_, stream) in by_decision(events) {
        let episodes = episodes(&stream);
        let reports: Vec<&domain::event::ReportedToIvo> = stream
            .iter()
            .filter_map(|e| match &e.data {
                EventData::ReportedToIvo(r) => Some(r),
                _ => None,
            })
            .collect();
        for report in &reports {
            let episode = episodes
                .iter()
                .find(|(_, start, _)| add_months(*start, 3) == Some(report.reference_date))
                .expect("a report names the reference date of a reportable episode");
            assert!(report.quarter >= Quarter::containing(report.reference_date));
            let first = report.quarter == Quarter::containing(report.reference_date);
            match report.kind {
                ReportKind::New | ReportKind::NewInterruption => {
                    assert!(first && report.kind == episode.0);
                }
                ReportKind::FollowUp => assert!(!first),
                ReportKind::Final => {
                    let closed = episode.2.expect("a final report is of a closed episode");
                    assert!(!first && report.quarter.contains(closed));
                }
            }
        }
        // Obligations of quarters whose reporting month has passed.
        for (_, start, closed) in &episodes {
            let r = add_months(*start, 3).expect("in range");
            let mut quarter = Quarter::containing(r);
            while quarter.ivo_report_due() < cutoff {
                let open_at_start = closed.is_none_or(|c| c >= quarter.start());
                if quarter != Quarter::containing(r) && !open_at_start {
                    break;
                }
                due += 1;
                if reports
                    .iter()
                    .any(|x| x.quarter == quarter && x.reference_date == r)
                {
                    reported += 1;
                }
                quarter = quarter.next();
            }
        }
    }
    let share = f64::from(reported) / f64::from(due);
    assert!(due > 200, "{due} reports due");
    assert!(
        (0.9..0.995).contains(&share),
        "{reported} of {due} reported"
    );
}

#[test]
fn proportions_are_those_documented() {
    let events = default_run();
    let summary = DemoSummary::of(events);
    for &event_type in EventType::ALL {
        assert!(
            summary
                .by_type
                .get(event_type.as_str())
                .is_some_and(|&n| n > 0),
            "no {event_type} in a default run"
        );
    }
    let decisions = summary.decisions as f64;
    let sol = summary.by_law[Law::SoL.as_str()] as f64 / decisions;
    assert!((0.55..0.65).contains(&sol), "SoL {sol}");
    let streams = by_decision(events);
    let reportable = streams
        .iter()
        .filter(|(_, s)| !episodes(s).is_empty())
        .count() as f64;
    assert!(
        (0.05..0.40).contains(&(reportable / decisions)),
        "reportable {}",
        reportable / decisions
    );
    let advance = events
        .iter()
        .filter_map(grant)
        .filter(|g| g.forhandsbesked)
        .count() as f64;
    assert!(
        (0.02..0.09).contains(&(advance / decisions)),
        "förhandsbesked {}",
        advance / decisions
    );
    // Housing and contact persons wait most (IVO 2015), hemtjänst least.
    let mut waits: BTreeMap<Insats, (u32, u32)> = BTreeMap::new();
    for (_, stream) in &streams {
        let g = grant(stream[0]).expect("streams begin with their decision");
        let entry = waits.entry(g.insats).or_default();
        entry.0 += 1;
        entry.1 += u32::from(!episodes(stream).is_empty());
    }
    let rate = |insats| {
        let (n, waiting) = waits[&insats];
        f64::from(waiting) / f64::from(n)
    };
    assert!(rate(Insats::Lss9_9) > 2.0 * rate(Insats::SolHemtjanst));
    assert!(rate(Insats::Lss9_4) > 2.0 * rate(Insats::SolHemtjanst));
    assert!(rate(Insats::SolSarskiltBoende) > 2.0 * rate(Insats::SolHemtjanst));
    // More recent years have slightly more decisions.
    let mut by_year: BTreeMap<i32, u32> = BTreeMap::new();
    for event in events.iter().filter(|e| grant(e).is_some()) {
        *by_year.entry(event.occurred_on.year()).or_default() += 1;
    }
    let first = by_year[&(until().year() - 4)];
    let last_full = by_year[&(until().year() - 1)];
    assert!(last_full > first, "{by_year:?}");
    // Late registrations exist: events recorded weeks after they occurred.
    let late = events
        .iter()
        .filter(|e| (business_date(recorded(e)) - e.occurred_on).num_days() >= 14)
        .count();
    assert!(late > 50, "{late} late registrations");
    // Partial executions are followed by full ones.
    let partial = events
        .iter()
        .filter(|e| matches!(&e.data, EventData::Verkställd(v) if v.partial.is_some()))
        .count();
    assert!(partial > 10, "{partial} partial executions");
}

#[test]
fn options_outside_the_calendar_are_refused() {
    let mut bad = DemoOptions::new(1, until());
    bad.first_year = until().year() + 1;
    assert!(matches!(bad.check(), Err(DemoError::Options(_))));
    bad.first_year = 1850;
    assert!(matches!(bad.check(), Err(DemoError::Options(_))));
    assert!(DemoOptions::new(1, until()).check().is_ok());
    // A run that starts in until's own year is fine, however short.
    let short = DemoOptions {
        first_year: until().year(),
        decisions: 50,
        ..DemoOptions::new(3, until())
    };
    assert_eq!(DemoSummary::of(&generate(&short)).decisions, 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn fill_imports_everything_and_the_store_verifies() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path(), None, store::system_clock()).expect("opens");
    let options = options(21, 400);
    let mut calls: Vec<(u64, u64)> = Vec::new();
    // Small chunks split streams over imports: each part must be valid as the store sees it.
    let summary = fill::fill_in_chunks(&store, &options, 97, &mut |done, total| {
        calls.push((done, total));
    })
    .await
    .expect("fills");
    let expected = DemoSummary::of(&generate(&options));
    assert_eq!(summary, expected);
    assert_eq!(store.head().await.expect("head").position, summary.events);
    assert_eq!(calls.first(), Some(&(0, summary.events)));
    assert_eq!(calls.last(), Some(&(summary.events, summary.events)));
    assert_eq!(calls.len() as u64, 1 + summary.events.div_ceil(97));
    let report = store
        .verify(&mut |_, _| {})
        .expect("storage works")
        .expect("the log verifies");
    assert_eq!(report.events, summary.events);
    assert_eq!(report.decisions, summary.decisions);
}

#[tokio::test(flavor = "multi_thread")]
async fn fill_refuses_a_store_that_holds_events() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path(), None, store::system_clock()).expect("opens");
    let first: Vec<NewEvent> = generate(&options(4, 1));
    store
        .import(
            first,
            ImportOptions {
                keep_recorded_at: true,
                dry_run: false,
            },
        )
        .await
        .expect("storage works")
        .expect("imports");
    let before = store.head().await.expect("head").position;
    let result = fill(&store, &options(4, 10), &mut |_, _| {}).await;
    let error = result.expect_err("refused");
    assert!(matches!(error, DemoError::NotEmpty { events } if events == before));
    assert!(error.to_string().contains("empty store"));
    assert_eq!(store.head().await.expect("head").position, before);
}
