//! Given a stream, when these events are appended, then accepted, or refused because of a rule.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::codes::{EndReason, Insats, Law, NoteKind, ReportKind};
use crate::event::{
    Avslutad, DecisionGranted, EventRetracted, Interrupted, NoteRecorded, OfferDeclined, OfferMade,
    OrderSent, Partial, ReportedToIvo, Verkställd,
};
use crate::person::Person;

const DECISION: DecisionId = DecisionId::from_uuid(Uuid::from_u128(0xD));
const OTHER_DECISION: DecisionId = DecisionId::from_uuid(Uuid::from_u128(0xE));

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn id(n: u128) -> EventId {
    EventId::from_uuid(Uuid::from_u128(n))
}

/// One event of a test stream: id, occurred_on, recorded on (same day unless said), data.
struct Ev {
    id: u128,
    on: &'static str,
    recorded: &'static str,
    data: EventData,
}

fn ev(id: u128, on: &'static str, data: EventData) -> Ev {
    Ev {
        id,
        on,
        recorded: "2030-01-01",
        data,
    }
}

fn grant_replacing(replaces: Option<DecisionId>) -> EventData {
    EventData::DecisionGranted(DecisionGranted {
        person: Person {
            id: identity::IdentityNumber::parse("19121212-1212", date("2023-01-10")).unwrap(),
            protected: false,
        },
        law: Law::Lss,
        insats: Insats::Lss9_4,
        forhandsbesked: false,
        scope: None,
        area: None,
        unit: None,
        replaces,
    })
}

fn grant() -> EventData {
    grant_replacing(None)
}

fn order() -> EventData {
    EventData::OrderSent(OrderSent {
        provider: "Kontaktpersonsenheten".into(),
    })
}

fn offer() -> EventData {
    EventData::OfferMade(OfferMade {
        description: "Kontaktfamilj".into(),
        compensating: true,
    })
}

fn declined(offer: Option<u128>) -> EventData {
    EventData::OfferDeclined(OfferDeclined {
        reason: "Vill vänta".into(),
        offer_event_id: offer.map(id),
    })
}

fn note() -> EventData {
    EventData::NoteRecorded(NoteRecorded {
        kind: NoteKind::Contact,
        text: "Samtal".into(),
    })
}

fn executed() -> EventData {
    EventData::Verkställd(Verkställd { partial: None })
}

fn partly_executed() -> EventData {
    EventData::Verkställd(Verkställd {
        partial: Some(Partial {
            executed: 2.0,
            granted: 5.0,
            unit: "timmar/vecka".into(),
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

fn reported() -> EventData {
    EventData::ReportedToIvo(ReportedToIvo {
        kind: ReportKind::Final,
        quarter: "2023Q2".parse().unwrap(),
        reference_date: date("2023-04-10"),
    })
}

fn retract(target: u128) -> EventData {
    EventData::EventRetracted(EventRetracted {
        event_id: id(target),
        reason: "Fel beslut".into(),
    })
}

fn view(events: &[Ev]) -> Vec<StreamEvent> {
    events
        .iter()
        .map(|e| StreamEvent::of(id(e.id), date(e.on), date(e.recorded), &e.data))
        .collect()
}

fn check(given: &[Ev], when: &[Ev]) -> Result<(), RuleViolation> {
    check_append(DECISION, &view(given), &view(when), &|d| {
        d == OTHER_DECISION
    })
}

#[track_caller]
fn accepted(given: &[Ev], when: &[Ev]) {
    if let Err(violation) = check(given, when) {
        panic!("expected accepted, refused: {violation}");
    }
}

#[track_caller]
fn refused(given: &[Ev], when: &[Ev], rule: Rule, at: u128) -> RuleViolation {
    match check(given, when) {
        Ok(()) => panic!("expected refused by {rule:?}, accepted"),
        Err(violation) => {
            assert_eq!(violation.rule, rule, "{violation}");
            assert_eq!(violation.event_id, id(at), "{violation}");
            violation
        }
    }
}

fn decided() -> Vec<Ev> {
    vec![ev(1, "2023-01-10", grant())]
}

fn executed_stream() -> Vec<Ev> {
    vec![
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", executed()),
    ]
}

#[test]
fn a_whole_life_is_accepted() {
    accepted(
        &[],
        &[
            ev(1, "2023-01-10", grant()),
            ev(2, "2023-01-11", order()),
            ev(3, "2023-02-01", offer()),
            ev(4, "2023-02-03", declined(Some(3))),
            ev(5, "2023-03-01", note()),
            ev(6, "2023-04-01", partly_executed()),
            ev(7, "2023-05-01", executed()),
            ev(8, "2023-08-01", interrupted()),
            ev(9, "2023-12-01", executed()),
            ev(10, "2024-02-01", ended()),
            ev(11, "2024-02-02", reported()),
            ev(12, "2024-02-03", note()),
            ev(13, "2024-02-04", retract(12)),
        ],
    );
}

#[test]
fn the_stream_begins_with_decision_granted() {
    refused(
        &[],
        &[ev(1, "2023-01-10", order())],
        Rule::BeginsWithDecision,
        1,
    );
    // Same day, but the order has the lower position: it comes first.
    refused(
        &[],
        &[ev(1, "2023-01-10", order()), ev(2, "2023-01-10", grant())],
        Rule::BeginsWithDecision,
        1,
    );
}

#[test]
fn the_stream_has_exactly_one_decision() {
    refused(
        &decided(),
        &[ev(2, "2023-02-01", grant())],
        Rule::ExactlyOneDecision,
        2,
    );
}

#[test]
fn nothing_occurs_before_the_decision_date() {
    refused(
        &decided(),
        &[ev(2, "2023-01-09", order())],
        Rule::NothingBeforeDecision,
        2,
    );
    accepted(&decided(), &[ev(2, "2023-01-10", order())]);
}

#[test]
fn interrupted_only_while_executed() {
    refused(
        &decided(),
        &[ev(2, "2023-02-01", interrupted())],
        Rule::InterruptedOnlyWhileExecuted,
        2,
    );
    let partly = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", partly_executed()),
    ];
    refused(
        &partly,
        &[ev(3, "2023-03-01", interrupted())],
        Rule::InterruptedOnlyWhileExecuted,
        3,
    );
    accepted(&executed_stream(), &[ev(3, "2023-03-01", interrupted())]);
    // An interrupted decision waits again: a second interruption needs a new execution.
    let stream = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", executed()),
        ev(3, "2023-03-01", interrupted()),
    ];
    refused(
        &stream,
        &[ev(4, "2023-04-01", interrupted())],
        Rule::InterruptedOnlyWhileExecuted,
        4,
    );
}

#[test]
fn verkställd_only_while_not_fully_executed() {
    refused(
        &executed_stream(),
        &[ev(3, "2023-03-01", executed())],
        Rule::VerkställdOnlyWhileNotExecuted,
        3,
    );
    refused(
        &executed_stream(),
        &[ev(3, "2023-03-01", partly_executed())],
        Rule::VerkställdOnlyWhileNotExecuted,
        3,
    );
    let partly = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", partly_executed()),
    ];
    accepted(&partly, &[ev(3, "2023-03-01", executed())]);
}

#[test]
fn after_avslutad_only_reports_notes_and_retractions() {
    let ended_stream = [ev(1, "2023-01-10", grant()), ev(2, "2023-03-01", ended())];
    refused(
        &ended_stream,
        &[ev(3, "2023-03-02", executed())],
        Rule::NothingAfterAvslutad,
        3,
    );
    refused(
        &ended_stream,
        &[ev(3, "2023-03-02", order())],
        Rule::NothingAfterAvslutad,
        3,
    );
    refused(
        &ended_stream,
        &[ev(3, "2023-03-02", ended())],
        Rule::NothingAfterAvslutad,
        3,
    );
    accepted(
        &ended_stream,
        &[
            ev(3, "2023-03-02", reported()),
            ev(4, "2023-03-02", note()),
            ev(5, "2023-03-03", retract(4)),
        ],
    );
}

#[test]
fn nothing_occurs_after_the_date_it_is_recorded() {
    let tomorrow = Ev {
        id: 2,
        on: "2023-02-02",
        recorded: "2023-02-01",
        data: order(),
    };
    let violation = refused(&decided(), &[tomorrow], Rule::NotAfterRecorded, 2);
    assert!(violation.detail.contains("2023-02-01"), "{violation}");
    accepted(
        &decided(),
        &[Ev {
            id: 2,
            on: "2023-02-01",
            recorded: "2023-02-01",
            data: order(),
        }],
    );
}

#[test]
fn replaces_names_an_existing_decision() {
    let unknown = DecisionId::from_uuid(Uuid::from_u128(0xF));
    refused(
        &[],
        &[ev(1, "2023-01-10", grant_replacing(Some(unknown)))],
        Rule::ReplacesExistingDecision,
        1,
    );
    refused(
        &[],
        &[ev(1, "2023-01-10", grant_replacing(Some(DECISION)))],
        Rule::ReplacesExistingDecision,
        1,
    );
    accepted(
        &[],
        &[ev(1, "2023-01-10", grant_replacing(Some(OTHER_DECISION)))],
    );
}

#[test]
fn a_retraction_names_an_event_of_the_stream_not_already_retracted() {
    let stream = [ev(1, "2023-01-10", grant()), ev(2, "2023-01-12", note())];
    refused(
        &stream,
        &[ev(3, "2023-01-13", retract(99))],
        Rule::RetractionNamesEventInStream,
        3,
    );
    let retracted = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-01-12", note()),
        ev(3, "2023-01-13", retract(2)),
    ];
    refused(
        &retracted,
        &[ev(4, "2023-01-14", retract(2))],
        Rule::RetractionNamesEventInStream,
        4,
    );
    // Retracting the retraction restores the note: allowed.
    accepted(&retracted, &[ev(4, "2023-01-14", retract(3))]);
}

#[test]
fn a_retraction_must_leave_a_valid_stream() {
    let stream = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", executed()),
        ev(3, "2023-03-01", interrupted()),
    ];
    // Without the execution, the interruption would interrupt nothing.
    let violation = refused(
        &stream,
        &[ev(4, "2023-03-02", retract(2))],
        Rule::RetractionKeepsStreamValid,
        4,
    );
    assert!(
        violation.detail.contains("Interrupted only while executed"),
        "{violation}"
    );
    refused(
        &stream,
        &[ev(4, "2023-03-02", retract(1))],
        Rule::RetractionKeepsStreamValid,
        4,
    );
    accepted(&stream, &[ev(4, "2023-03-02", retract(3))]);
}

#[test]
fn a_retracted_event_no_longer_counts() {
    let stream = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", executed()),
        ev(3, "2023-02-02", retract(2)),
    ];
    // With the execution retracted, the decision can be executed (again) and not interrupted.
    accepted(&stream, &[ev(4, "2023-03-01", executed())]);
    refused(
        &stream,
        &[ev(4, "2023-03-01", interrupted())],
        Rule::InterruptedOnlyWhileExecuted,
        4,
    );
}

#[test]
fn a_late_registered_event_is_checked_in_its_place() {
    let stream = executed_stream(); // executed on 2023-02-01
    // Registered now, but it occurred before the execution: nothing to interrupt then.
    refused(
        &stream,
        &[ev(3, "2023-01-20", interrupted())],
        Rule::InterruptedOnlyWhileExecuted,
        3,
    );
    // A late full execution before the stored one breaks the stored one, which is named.
    let violation = refused(
        &stream,
        &[ev(3, "2023-01-20", executed())],
        Rule::VerkställdOnlyWhileNotExecuted,
        2,
    );
    assert!(violation.detail.contains("accepted before"), "{violation}");
    // A late partial execution before it is fine: the stored full execution completes it.
    accepted(&stream, &[ev(3, "2023-01-20", partly_executed())]);
}

#[test]
fn ties_on_a_date_go_by_position() {
    accepted(
        &decided(),
        &[
            ev(2, "2023-02-01", executed()),
            ev(3, "2023-02-01", interrupted()),
        ],
    );
    refused(
        &decided(),
        &[
            ev(2, "2023-02-01", interrupted()),
            ev(3, "2023-02-01", executed()),
        ],
        Rule::InterruptedOnlyWhileExecuted,
        2,
    );
}

#[test]
fn a_decline_names_an_offer_of_the_stream() {
    let stream = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", offer()),
        ev(3, "2023-02-02", note()),
    ];
    accepted(&stream, &[ev(4, "2023-02-03", declined(Some(2)))]);
    accepted(&stream, &[ev(4, "2023-02-03", declined(None))]);
    refused(
        &stream,
        &[ev(4, "2023-02-03", declined(Some(3)))],
        Rule::DeclineNamesOffer,
        4,
    );
    refused(
        &stream,
        &[ev(4, "2023-02-03", declined(Some(77)))],
        Rule::DeclineNamesOffer,
        4,
    );
}

#[test]
fn a_stored_stream_checked_whole_passes_and_a_broken_one_fails() {
    // `verify` re-checks a stored stream by passing it whole as new events.
    let good = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", executed()),
    ];
    accepted(&[], &good);
    let broken = [
        ev(1, "2023-01-10", grant()),
        ev(2, "2023-02-01", interrupted()),
    ];
    refused(&[], &broken, Rule::InterruptedOnlyWhileExecuted, 2);
}

#[test]
fn the_status_fold_follows_the_events() {
    use ExecutionStatus::*;
    let mut status = NotExecuted;
    for (data, expected) in [
        (order(), NotExecuted),
        (partly_executed(), PartiallyExecuted),
        (executed(), Executed),
        (interrupted(), NotExecuted),
        (executed(), Executed),
        (ended(), Ended),
        (note(), Ended),
    ] {
        status = next_status(status, &data).unwrap();
        assert_eq!(status, expected, "after {:?}", data.event_type());
    }
}
