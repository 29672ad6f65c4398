//! The parser: every example parses and round-trips; every kind of bad input is refused with
//! the field named and no identity number repeated.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::*;
use crate::schema::example;

fn line(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}

#[track_caller]
fn refused(value: &Value, field: &str) -> ParseError {
    match NewEvent::from_json(&line(value)) {
        Ok(event) => panic!("expected refusal at {field}, parsed {event:?}"),
        Err(error) => {
            assert_eq!(error.field, field, "{error}");
            error
        }
    }
}

fn grant() -> Value {
    example(EventType::DecisionGranted)
}

#[test]
fn every_example_parses_and_round_trips() {
    for &event_type in EventType::ALL {
        let text = line(&example(event_type));
        let event = NewEvent::from_json(&text).unwrap();
        assert_eq!(event.event_type(), event_type);
        let again = serde_json::to_string(&event).unwrap();
        assert_eq!(NewEvent::from_json(&again).unwrap(), event, "{again}");
    }
}

#[test]
fn wire_names_are_exact() {
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "DecisionGranted",
            "OrderSent",
            "OfferMade",
            "OfferDeclined",
            "NoteRecorded",
            "DelayReasonRecorded",
            "Interrupted",
            "Verkställd",
            "Avslutad",
            "ReportedToIvo",
            "CostEstimated",
            "EventRetracted",
        ]
    );
    assert_eq!(EventType::from_name("verkställd"), None);
    assert_eq!(EventType::from_name("Verkstalld"), None);
}

#[test]
fn a_recorded_event_round_trips_byte_for_byte() {
    let new = NewEvent::from_json(&line(&grant())).unwrap();
    let recorded = RecordedEvent {
        position: 7,
        version: 1,
        recorded_at: "2023-01-02T10:11:12.123456Z".parse().unwrap(),
        event_id: new.event_id.unwrap(),
        decision_id: new.decision_id,
        occurred_on: new.occurred_on,
        actor: new.actor.clone(),
        data: new.data.clone(),
        hash: "ab".repeat(32),
    };
    let text = recorded.to_json();
    assert!(
        text.starts_with(
            r#"{"position":7,"version":1,"recorded_at":"2023-01-02T10:11:12.123456Z","#
        ),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(r#""hash":"{}"}}"#, "ab".repeat(32))),
        "{text}"
    );
    let parsed = RecordedEvent::from_json(&text).unwrap();
    assert_eq!(parsed, recorded);
    assert_eq!(parsed.to_json(), text);
    assert!(!recorded.to_json_without_hash().contains("hash"));
    // A new event may not carry what the store sets.
    assert_eq!(NewEvent::from_json(&text).unwrap_err().field, "position");
}

#[test]
fn the_type_must_be_known() {
    let mut value = grant();
    value["type"] = json!("DecisionMade");
    let error = refused(&value, "type");
    assert!(
        error.message.contains("unknown event type `DecisionMade`"),
        "{error}"
    );
    value["type"] = json!(7);
    refused(&value, "type");
}

#[test]
fn unknown_fields_are_refused_where_they_are() {
    let mut value = grant();
    value["colour"] = json!("red");
    refused(&value, "colour");
    let mut value = grant();
    value["data"]["colour"] = json!("red");
    refused(&value, "data.colour");
    let mut value = grant();
    value["data"]["person"]["name"] = json!("Anna");
    refused(&value, "data.person.name");
    let mut value = example(EventType::Verkställd);
    value["data"]["partial"]["hours"] = json!(3);
    refused(&value, "data.partial.hours");
}

#[test]
fn missing_fields_are_named() {
    for field in ["type", "decision_id", "occurred_on", "data"] {
        let mut value = grant();
        value.as_object_mut().unwrap().remove(field);
        refused(&value, field);
    }
    let mut value = example(EventType::OrderSent);
    value["data"] = json!({});
    refused(&value, "data.provider");
}

#[test]
fn wrong_types_are_named() {
    let mut value = grant();
    value["data"]["forhandsbesked"] = json!("yes");
    refused(&value, "data.forhandsbesked");
    let mut value = grant();
    value["decision_id"] = json!("not-a-uuid");
    refused(&value, "decision_id");
    let mut value = example(EventType::CostEstimated);
    value["data"]["sek_per_month"] = json!("4200");
    refused(&value, "data.sek_per_month");
    let mut value = example(EventType::ReportedToIvo);
    value["data"]["quarter"] = json!("2023Q5");
    refused(&value, "data.quarter");
}

#[test]
fn impossible_dates_are_refused() {
    for (date, needle) in [
        ("2023-02-30", "not a real date"),
        ("2023-13-01", "not a real date"),
        ("2023-2-3", "YYYY-MM-DD"),
        ("1899-12-31", "1900"),
        ("2201-01-01", "2200"),
    ] {
        let mut value = grant();
        value["occurred_on"] = json!(date);
        let error = refused(&value, "occurred_on");
        assert!(error.message.contains(needle), "{date}: {error}");
    }
    let mut value = example(EventType::ReportedToIvo);
    value["data"]["reference_date"] = json!("2023-02-29");
    refused(&value, "data.reference_date");
    let mut value = grant();
    value["recorded_at"] = json!("yesterday");
    refused(&value, "recorded_at");
}

#[test]
fn the_insats_must_belong_to_the_law() {
    let mut value = grant();
    value["data"]["law"] = json!("LSS");
    let error = refused(&value, "data.insats");
    assert!(error.message.contains("sol_kontaktperson"), "{error}");
    let mut value = grant();
    value["data"]["insats"] = json!("lss_9_99");
    refused(&value, "data.insats");
}

#[test]
fn amounts_texts_and_actors_are_checked() {
    let mut value = example(EventType::Verkställd);
    value["data"]["partial"]["executed"] = json!(8);
    refused(&value, "data.partial.executed");
    let mut value = example(EventType::CostEstimated);
    value["data"]["sek_per_month"] = json!(0);
    refused(&value, "data.sek_per_month");
    let mut value = example(EventType::OrderSent);
    value["data"]["provider"] = json!("   ");
    refused(&value, "data.provider");
    let mut value = example(EventType::NoteRecorded);
    value["data"]["text"] = json!("x".repeat(TEXT_CHARS_MAX + 1));
    refused(&value, "data.text");
    let mut value = example(EventType::OrderSent);
    value["actor"] = json!("19121212-1212");
    let error = refused(&value, "actor");
    assert!(!error.to_string().contains("1212"), "{error}");
}

#[test]
fn duplicate_fields_and_trailing_text_are_refused() {
    let text = line(&grant());
    let duplicated = text.replacen("{", r#"{"occurred_on":"2022-12-08","#, 1);
    assert!(
        NewEvent::from_json(&duplicated)
            .unwrap_err()
            .message
            .contains("duplicate field")
    );
    assert_eq!(
        NewEvent::from_json(&format!("{text} {{}}"))
            .unwrap_err()
            .field,
        "."
    );
    assert!(NewEvent::from_json("[]").is_err());
}

#[test]
fn data_before_type_is_parsed_the_same() {
    let value = example(EventType::OfferMade);
    let text = format!(
        r#"{{"data":{},"decision_id":{},"occurred_on":{},"type":"OfferMade"}}"#,
        value["data"], value["decision_id"], value["occurred_on"]
    );
    let event = NewEvent::from_json(&text).unwrap();
    assert_eq!(event.event_type(), EventType::OfferMade);
    let bad = text.replace("compensating", "compensated");
    assert_eq!(
        NewEvent::from_json(&bad).unwrap_err().field,
        "data.compensated"
    );
}

#[test]
fn identity_numbers_are_checked_and_never_repeated() {
    for bad in [
        "19121212-1213",
        "19121312-1212",
        "1912121212",
        "20150101-X123",
        "abc",
    ] {
        let mut value = grant();
        value["data"]["person"]["id"] = json!(bad);
        let error = refused(&value, "data.person.id");
        let shown = format!("{error} {error:?}");
        let digits: String = bad.chars().filter(char::is_ascii_digit).collect();
        assert!(digits.len() < 6 || !shown.contains(&digits), "{shown}");
        assert!(!shown.contains(bad) || bad == "abc", "{shown}");
    }
    // A number in the wrong place is not echoed by serde's message either.
    let mut value = grant();
    value["data"]["person"]["protected"] = json!("19121212-1212");
    let error = refused(&value, "data.person.protected");
    assert!(!format!("{error:?}").contains("19121212-1212"), "{error:?}");
    // A parsed event's Debug never shows the number.
    let event = NewEvent::from_json(&line(&grant())).unwrap();
    let debug = format!("{event:?}");
    assert!(
        !debug.contains("19121212") && !debug.contains("1212-1212"),
        "{debug}"
    );
}

#[test]
fn a_ten_digit_number_takes_its_century_from_the_decision_date() {
    let mut value = grant();
    value["data"]["person"]["id"] = json!("121212-1212");
    let event = NewEvent::from_json(&line(&value)).unwrap();
    let EventData::DecisionGranted(g) = &event.data else {
        panic!("a grant")
    };
    assert_eq!(g.person.id.birth_date().to_string(), "2012-12-12");
    value["data"]["person"]["id"] = json!("121212+1212");
    let event = NewEvent::from_json(&line(&value)).unwrap();
    let EventData::DecisionGranted(g) = &event.data else {
        panic!("a grant")
    };
    assert_eq!(g.person.id.birth_date().to_string(), "1912-12-12");
    // And the number is kept exactly as written.
    assert_eq!(g.person.id.reveal(), "121212+1212");
}

#[test]
fn oversized_events_are_refused_before_parsing() {
    let mut value = example(EventType::NoteRecorded);
    value["data"]["text"] = json!("x".repeat(EVENT_BYTES_MAX));
    refused(&value, ".");
}
