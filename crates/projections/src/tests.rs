//! The §6 rules over given events: given a decision's history, then this worklist item, status,
//! days and title.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::codes::{EndReason, Insats, ReportKind};
use domain::event::{
    Avslutad, DecisionGranted, EventRetracted, Interrupted, Partial, ReportedToIvo, Verkställd,
};
use domain::{DecisionId, EventData, EventId, Person, Quarter, RecordedEvent};

use crate::facts::Projection;
use crate::worklist::{ItemKind, ivo_worklist};

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn decision(n: u128) -> DecisionId {
    format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
}

/// A log under construction; each event is recorded one minute after the previous one.
struct Log {
    events: Vec<RecordedEvent>,
    clock: DateTime<Utc>,
}

impl Log {
    fn new() -> Log {
        Log {
            events: Vec::new(),
            clock: "2020-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    fn at(&mut self, recorded: &str) -> &mut Log {
        self.clock = recorded.parse().unwrap();
        self
    }

    fn add(&mut self, d: DecisionId, on: &str, data: EventData) -> EventId {
        self.clock += Duration::minutes(1);
        let position = self.events.len() as u64 + 1;
        let version = self.events.iter().filter(|e| e.decision_id == d).count() as u64 + 1;
        let event_id: EventId = format!("00000000-0000-4000-9000-{position:012}")
            .parse()
            .unwrap();
        self.events.push(RecordedEvent {
            position,
            version,
            recorded_at: self.clock,
            event_id,
            decision_id: d,
            occurred_on: date(on),
            actor: None,
            data,
            hash: String::new(),
        });
        event_id
    }

    fn grant(
        &mut self,
        d: DecisionId,
        on: &str,
        insats: Insats,
        forhandsbesked: bool,
        replaces: Option<DecisionId>,
    ) {
        let grant = DecisionGranted {
            person: Person {
                id: domain::IdentityNumber::parse("20150101-T123", date("2022-01-01")).unwrap(),
                protected: false,
            },
            law: insats.law(),
            insats,
            forhandsbesked,
            scope: None,
            area: None,
            unit: None,
            replaces,
        };
        self.add(d, on, EventData::DecisionGranted(grant));
    }

    fn projection(&self) -> Projection {
        let mut p = Projection::new();
        for e in &self.events {
            p.apply(e).unwrap();
        }
        p
    }
}

fn executed() -> EventData {
    EventData::Verkställd(Verkställd { partial: None })
}

fn partly() -> EventData {
    EventData::Verkställd(Verkställd {
        partial: Some(Partial {
            executed: 2.0,
            granted: 5.0,
            unit: "h/v".into(),
        }),
    })
}

fn interrupted() -> EventData {
    EventData::Interrupted(Interrupted {
        reason: "Uppdraget avslutat".into(),
    })
}

fn ended() -> EventData {
    EventData::Avslutad(Avslutad {
        reason: EndReason::NeedCeased,
        text: None,
    })
}

fn reported(kind: ReportKind, quarter: &str, reference: &str) -> EventData {
    EventData::ReportedToIvo(ReportedToIvo {
        kind,
        quarter: quarter.parse().unwrap(),
        reference_date: date(reference),
    })
}

fn far_future() -> DateTime<Utc> {
    "2100-01-01T00:00:00Z".parse().unwrap()
}

fn worklist(log: &Log, quarter: &str, on: Option<&str>) -> Vec<crate::worklist::WorklistItem> {
    ivo_worklist(
        &log.projection(),
        quarter.parse::<Quarter>().unwrap(),
        on.map(date),
        far_future(),
    )
    .items
}

#[test]
fn seed_004_the_kontaktperson_is_a_follow_up_in_q2_2023_with_277_days_on_2023_09_11() {
    let mut log = Log::new();
    let d = decision(4);
    log.grant(d, "2022-12-08", Insats::SolKontaktperson, false, None);
    let items = worklist(&log, "2023Q2", Some("2023-09-11"));
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item.kind, ItemKind::FollowUp);
    assert_eq!(item.reference_date, date("2023-03-08"));
    assert_eq!(item.days_waiting, 277);
    assert_eq!(item.status.as_str(), "not_executed");
    assert_eq!(
        item.title,
        "IVO - Återrapportering 2023-03-08, SoL kontaktperson"
    );
    // It was never reported as new in Q1: that is flagged as missed.
    assert_eq!(
        item.missed_earlier,
        vec!["2023Q1".parse::<Quarter>().unwrap()]
    );
}

#[test]
fn titles_have_the_forms_of_seed_001() {
    let mut log = Log::new();
    let (a, b, c, e) = (decision(1), decision(2), decision(3), decision(5));
    log.grant(a, "2022-12-08", Insats::Lss9_10, true, None); // r = 2023-03-08
    log.grant(b, "2022-10-01", Insats::Lss9_10, false, None);
    log.add(b, "2022-10-02", executed());
    log.add(b, "2022-12-08", interrupted()); // interruption episode, r = 2023-03-08
    log.grant(c, "2022-10-01", Insats::Lss9_10, false, None); // r = 2023-01-01
    log.add(c, "2023-05-02", executed());
    log.grant(e, "2022-10-01", Insats::Lss9_10, false, None);
    log.add(e, "2023-05-02", ended());
    let titles: Vec<String> = worklist(&log, "2023Q1", None)
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert!(
        titles.contains(&"IVO - Nyrapportering 2023-03-08, Förhandsbesked, 9§10".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"IVO - Nyrapportering avbrott 2023-03-08, 9§10".to_owned()),
        "{titles:?}"
    );
    let titles: Vec<String> = worklist(&log, "2023Q2", None)
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert!(
        !titles
            .iter()
            .any(|t| t.contains("Återrapportering") && t.contains("Förhandsbesked")),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"IVO - Återrapportering 2023-03-08, 9§10".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"IVO - Slutrapportering, verkställt 2023-05-02, 9§10".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"IVO - Slutrapportering, avslutat 2023-05-02, 9§10".to_owned()),
        "{titles:?}"
    );
}

#[test]
fn executed_on_the_reference_date_is_not_reportable_the_day_after_is() {
    let mut log = Log::new();
    let (on_day, day_after) = (decision(1), decision(2));
    log.grant(on_day, "2023-01-15", Insats::Lss9_4, false, None);
    log.add(on_day, "2023-04-15", executed());
    log.grant(day_after, "2023-01-15", Insats::Lss9_4, false, None);
    log.add(day_after, "2023-04-16", executed());
    let items = worklist(&log, "2023Q2", None);
    assert_eq!(
        items.iter().map(|i| i.decision_id).collect::<Vec<_>>(),
        [day_after]
    );
    assert_eq!(items[0].kind, ItemKind::New);
    assert_eq!(items[0].status.as_str(), "executed");
    assert_eq!(items[0].executed_on, Some(date("2023-04-16")));
    assert_eq!(items[0].days_waiting, 91);
}

#[test]
fn month_end_is_clamped() {
    let mut log = Log::new();
    let d = decision(1);
    log.grant(d, "2023-11-30", Insats::SolHemtjanst, false, None);
    let items = worklist(&log, "2024Q1", None);
    assert_eq!(items[0].reference_date, date("2024-02-29"));
    assert_eq!(
        items[0].title,
        "IVO - Nyrapportering 2024-02-29, SoL hemtjänst"
    );
}

#[test]
fn the_reference_date_decides_the_quarter_of_the_new_report() {
    let mut log = Log::new();
    let (late_march, early_april) = (decision(1), decision(2));
    log.grant(late_march, "2022-12-31", Insats::Lss9_4, false, None); // r = 2023-03-31
    log.grant(early_april, "2023-01-01", Insats::Lss9_4, false, None); // r = 2023-04-01
    let q1: Vec<_> = worklist(&log, "2023Q1", None)
        .into_iter()
        .map(|i| (i.decision_id, i.kind))
        .collect();
    assert_eq!(q1, [(late_march, ItemKind::New)]);
    let q2: Vec<_> = worklist(&log, "2023Q2", None)
        .into_iter()
        .map(|i| (i.decision_id, i.kind))
        .collect();
    assert_eq!(
        q2,
        [
            (late_march, ItemKind::FollowUp),
            (early_april, ItemKind::New)
        ]
    );
}

#[test]
fn a_partial_execution_keeps_the_episode_waiting() {
    let mut log = Log::new();
    let d = decision(1);
    log.grant(d, "2023-01-10", Insats::SolHemtjanst, false, None);
    log.add(d, "2023-02-01", partly());
    let items = worklist(&log, "2023Q2", None);
    assert_eq!(items[0].kind, ItemKind::New);
    assert_eq!(items[0].status.as_str(), "partially_executed");
    assert_eq!(items[0].executed_on, None);
}

#[test]
fn an_interruption_opens_its_own_episode() {
    let mut log = Log::new();
    let d = decision(1);
    log.grant(d, "2023-01-10", Insats::Lss9_7, false, None);
    log.add(d, "2023-02-01", executed());
    log.add(d, "2023-05-20", interrupted()); // r = 2023-08-20
    assert!(worklist(&log, "2023Q2", None).is_empty());
    let items = worklist(&log, "2023Q3", None);
    assert_eq!(
        (items[0].kind, items[0].episode, items[0].start_date),
        (ItemKind::NewInterruption, 2, date("2023-05-20"))
    );
    log.add(d, "2023-09-01", executed());
    let items = worklist(&log, "2023Q3", None);
    assert_eq!(
        items[0].status.as_str(),
        "executed",
        "new whatever happened after r"
    );
    assert_eq!(
        items[0].days_waiting,
        (date("2023-09-01") - date("2023-05-20")).num_days()
    );
}

#[test]
fn finals_come_in_the_quarter_the_episode_closes_and_then_nothing() {
    let mut log = Log::new();
    let d = decision(1);
    log.grant(d, "2023-01-10", Insats::Lss9_9, false, None);
    log.add(d, "2023-08-15", ended());
    assert_eq!(worklist(&log, "2023Q2", None)[0].kind, ItemKind::New);
    let q3 = worklist(&log, "2023Q3", None);
    assert_eq!(
        (q3[0].kind, q3[0].status.as_str(), q3[0].ended_on),
        (ItemKind::Final, "ended", Some(date("2023-08-15")))
    );
    assert!(worklist(&log, "2023Q4", None).is_empty());
}

#[test]
fn reports_recorded_mark_items_reported_and_missing_ones_are_flagged() {
    let mut log = Log::new();
    let d = decision(1);
    log.grant(d, "2023-01-10", Insats::Lss9_9, false, None); // r = 2023-04-10
    log.add(
        d,
        "2023-07-20",
        reported(ReportKind::New, "2023Q2", "2023-04-10"),
    );
    let q2 = worklist(&log, "2023Q2", None);
    assert!(q2[0].reported);
    let q4 = worklist(&log, "2023Q4", None);
    assert!(!q4[0].reported);
    assert_eq!(
        q4[0].missed_earlier,
        vec!["2023Q3".parse::<Quarter>().unwrap()]
    );
    // A report of the wrong kind does not count.
    log.add(
        d,
        "2023-10-20",
        reported(ReportKind::Final, "2023Q3", "2023-04-10"),
    );
    assert_eq!(worklist(&log, "2023Q4", None)[0].missed_earlier.len(), 1);
}

#[test]
fn a_replacement_of_a_decision_never_executed_says_so() {
    let mut log = Log::new();
    let (old, new, other) = (decision(1), decision(2), decision(3));
    log.grant(old, "2022-06-01", Insats::Lss9_4, false, None);
    log.add(
        old,
        "2022-12-31",
        EventData::Avslutad(Avslutad {
            reason: EndReason::Expired,
            text: None,
        }),
    );
    log.grant(new, "2023-01-01", Insats::Lss9_4, false, Some(old));
    log.grant(other, "2023-01-01", Insats::Lss9_4, false, None);
    let items = worklist(&log, "2023Q2", None);
    let flags: Vec<_> = items
        .iter()
        .map(|i| (i.decision_id, i.previous_not_executed))
        .collect();
    assert_eq!(flags, [(new, true), (other, false)]);
}

#[test]
fn a_retraction_removes_its_event_from_every_answer() {
    let mut log = Log::new();
    let d = decision(1);
    log.grant(d, "2023-01-10", Insats::Lss9_9, false, None);
    let wrong = log.add(d, "2023-02-01", executed());
    assert!(worklist(&log, "2023Q2", None).is_empty());
    log.add(
        d,
        "2023-02-02",
        EventData::EventRetracted(EventRetracted {
            event_id: wrong,
            reason: "Fel beslut".into(),
        }),
    );
    assert_eq!(
        worklist(&log, "2023Q2", None)[0].status.as_str(),
        "not_executed"
    );
}

#[test]
fn as_of_sees_only_what_was_recorded_by_then_and_late_registration_counts_after() {
    let mut log = Log::new();
    let d = decision(1);
    log.at("2023-01-10T08:00:00Z")
        .grant(d, "2023-01-10", Insats::Lss9_9, false, None);
    // Executed on 2023-03-01, but recorded only in August (late registration).
    log.at("2023-08-05T08:00:00Z")
        .add(d, "2023-03-01", executed());
    let projection = log.projection();
    let q2 = "2023Q2".parse::<Quarter>().unwrap();
    let as_submitted = ivo_worklist(
        &projection,
        q2,
        None,
        "2023-07-31T12:00:00Z".parse().unwrap(),
    );
    assert_eq!(
        as_submitted.items.len(),
        1,
        "as known when the Q2 report was made"
    );
    let now = ivo_worklist(&projection, q2, None, far_future());
    assert!(
        now.items.is_empty(),
        "executed before the reference date: never reportable"
    );
    let before_everything = ivo_worklist(
        &projection,
        q2,
        None,
        "2022-01-01T00:00:00Z".parse().unwrap(),
    );
    assert!(before_everything.items.is_empty());
}

#[test]
fn projections_refuse_gaps() {
    let mut log = Log::new();
    log.grant(decision(1), "2023-01-10", Insats::Lss9_9, false, None);
    log.grant(decision(2), "2023-01-10", Insats::Lss9_9, false, None);
    let mut p = Projection::new();
    assert!(p.apply(&log.events[1]).is_err());
    p.apply(&log.events[0]).unwrap();
    assert!(p.apply(&log.events[0]).is_err());
}

#[test]
fn open_cases_from_the_index_equal_a_full_scan() {
    let mut log = Log::new();
    let (waiting, executed_late, ended_one) = (decision(1), decision(2), decision(3));
    log.grant(waiting, "2023-01-10", Insats::Lss9_9, false, None);
    log.grant(executed_late, "2023-01-10", Insats::Lss9_4, false, None);
    log.add(executed_late, "2023-06-01", executed());
    log.grant(ended_one, "2023-01-10", Insats::Lss9_4, false, None);
    log.add(ended_one, "2023-03-01", ended());
    let mut projection = log.projection();
    let now = far_future();
    let on = date("2023-12-31");
    let scanned = crate::open_cases::open_cases(&projection, on, now);
    projection.refresh_index();
    let indexed = crate::open_cases::open_cases(&projection, on, now);
    assert_eq!(indexed, scanned);
    assert_eq!(
        indexed
            .items
            .iter()
            .map(|i| i.decision_id)
            .collect::<Vec<_>>(),
        [waiting]
    );
    // On an earlier date the index does not answer: a full scan finds the late execution open.
    let earlier = crate::open_cases::open_cases(&projection, date("2023-04-20"), now);
    let ids: Vec<_> = earlier.items.iter().map(|i| i.decision_id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&executed_late));
    // A change marks the index stale until refreshed; answers stay right either way.
    log.add(waiting, "2023-12-01", executed());
    let mut projection = log.projection();
    assert!(
        crate::open_cases::open_cases(&projection, on, now)
            .items
            .is_empty()
    );
    projection.refresh_index();
    assert!(
        crate::open_cases::open_cases(&projection, on, now)
            .items
            .is_empty()
    );
}

#[test]
fn a_projection_put_back_together_finds_its_decisions_and_folds_on() {
    let mut log = Log::new();
    for n in [3, 1, 2] {
        log.grant(decision(n), "2023-01-10", Insats::Lss9_9, false, None);
    }
    log.add(decision(2), "2023-02-01", executed());
    let whole = log.projection();
    let parts = |p: &Projection| crate::facts::ProjectionParts {
        head: p.head(),
        head_hash: p.head_hash().to_owned(),
        latest_occurred: p.latest_occurred(),
        recorded: p.recorded_changes().to_vec(),
        open: Vec::new(),
        stale: p.stale().copied().collect(),
    };
    let mut sorted: Vec<_> = whole.decisions().cloned().collect();
    sorted.sort_by_key(|d| d.decision_id);
    let unsorted: Vec<_> = sorted.iter().rev().cloned().collect();
    for decisions in [
        vec![sorted.clone()],
        vec![unsorted[..1].to_vec(), unsorted[1..].to_vec()],
    ] {
        let mut again = Projection::from_parts(parts(&whole), decisions).unwrap();
        assert_eq!(again, whole);
        for n in [1, 2, 3] {
            assert_eq!(again.decision(decision(n)), whole.decision(decision(n)));
        }
        assert_eq!(again.decision(decision(9)), None);
        // Folding on after being put back together gives what one fold gives.
        let mut longer = Log::new();
        longer.events = log.events.clone();
        longer.clock = log.clock;
        longer.grant(decision(0), "2023-03-01", Insats::Lss9_4, false, None);
        longer.add(decision(1), "2023-03-02", ended());
        for event in &longer.events[log.events.len()..] {
            again.apply(event).unwrap();
        }
        assert_eq!(again, longer.projection());
        assert!(again.decision(decision(0)).is_some());
    }
    let twice = vec![sorted.clone(), sorted[..1].to_vec()];
    assert!(
        Projection::from_parts(parts(&whole), twice).is_none(),
        "a decision twice"
    );
}
