//! The fast decoder gives the strict parser's answer for every line: the same event for every
//! stored line (the examples, the golden cases, generated events), and the same answer —
//! event or error, field and message — for lines damaged at random.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::event::NewEvent;
use crate::schema::example;

/// A new event as the store records it.
fn record(new: &NewEvent, position: u64, actor: Option<String>, hash: String) -> RecordedEvent {
    RecordedEvent {
        position,
        version: position % 7 + 1,
        recorded_at: new
            .recorded_at
            .unwrap_or_else(|| "2023-01-02T10:11:12.123456Z".parse().unwrap()),
        event_id: new
            .event_id
            .unwrap_or_else(|| "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d".parse().unwrap()),
        decision_id: new.decision_id,
        occurred_on: new.occurred_on,
        actor,
        data: new.data.clone(),
        hash,
    }
}

/// Every example of `events-schema/` and every event of the golden cases, as stored lines.
fn stored_lines() -> Vec<String> {
    let mut news: Vec<NewEvent> = EventType::ALL
        .iter()
        .map(|&t| NewEvent::from_json(&example(t).to_string()).unwrap())
        .collect();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|entry| entry.unwrap().path().join("events.jsonl"))
        .filter(|path| path.exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "golden cases in {}", golden.display());
    for case in cases {
        for text in std::fs::read_to_string(&case).unwrap().lines() {
            if let Ok(new) = NewEvent::from_json(text) {
                news.push(new);
            }
        }
    }
    assert!(news.len() > 100, "{} events", news.len());
    news.iter()
        .zip(1u64..)
        .map(|(new, position)| {
            record(new, position, new.actor.clone(), format!("{position:064x}")).to_json()
        })
        .collect()
}

/// The fast path decodes `text` itself (no fallback) and agrees with the strict parser.
#[track_caller]
fn fast_and_equal(text: &str) {
    let strict = RecordedEvent::from_json(text).unwrap();
    let fast = decode_canonical(text).unwrap_or_else(|| panic!("not decoded fast: {text}"));
    assert_eq!(fast, strict, "{text}");
    assert_eq!(RecordedEvent::from_stored_json(text).unwrap(), strict);
}

/// Both parsers give the same answer for `text`, whatever it is.
#[track_caller]
fn same_answer(text: &str) {
    assert_eq!(
        RecordedEvent::from_stored_json(text),
        RecordedEvent::from_json(text),
        "{text}"
    );
    if let Some(fast) = decode_canonical(text) {
        assert_eq!(Ok(fast), RecordedEvent::from_json(text), "{text}");
    }
}

#[test]
fn every_example_and_golden_event_decodes_fast_to_the_same_event() {
    for text in stored_lines() {
        fast_and_equal(&text);
    }
}

#[test]
fn every_event_type_takes_the_fast_path() {
    let lines = stored_lines();
    for event_type in EventType::ALL {
        let needle = format!(r#""type":"{event_type}""#);
        assert!(
            lines.iter().any(|l| l.contains(&needle)),
            "no stored line of type {event_type}"
        );
    }
}

#[test]
fn a_line_that_is_not_canonical_is_read_by_the_strict_parser() {
    let text = stored_lines().remove(0);
    let value: Value = serde_json::from_str(&text).unwrap();
    // Another field order, whitespace, an escape: valid, not canonical.
    let spaced = serde_json::to_string_pretty(&value).unwrap();
    let reordered = value.to_string();
    let escaped = text.replacen("handlaggare", r"h\u0061ndlaggare", 1);
    for other in [&spaced, &reordered, &escaped] {
        assert_ne!(other, &text);
        assert!(decode_canonical(other).is_none(), "{other}");
        assert_eq!(
            RecordedEvent::from_stored_json(other).unwrap(),
            RecordedEvent::from_json(&text).unwrap()
        );
    }
}

#[test]
fn a_damaged_line_gives_the_strict_parsers_error() {
    let text = stored_lines().remove(0);
    let cases = [
        text.replacen(r#""position":1"#, r#""position":01"#, 1),
        text.replacen(r#""position":1"#, r#""position":-1"#, 1),
        text.replacen(r#""position":1"#, r#""position":18446744073709551616"#, 1),
        text.replacen("2023-01-02T10:11:12", "2023-02-30T10:11:12", 1),
        text.replacen("2023-01-02T10:11:12", "2023-01-02T24:11:12", 1),
        text.replacen("2022-12-08", "2022-13-08", 1),
        text.replacen("DecisionGranted", "DecisionGrunted", 1),
        text.replacen("9a8b7c6d", "9a8b7c6g", 1),
        text.replacen("19121212-1212", "19121212-1213", 1),
        text.replacen(r#""law":"SoL""#, r#""law":"LSS""#, 1),
        text.replacen(r#""actor":"handlaggare.anna""#, r#""actor":"""#, 1),
        text.replacen(
            r#""actor":"handlaggare.anna""#,
            r#""actor":"19121212-1212""#,
            1,
        ),
        text.replacen(r#","hash""#, r#","hush""#, 1),
        text.replacen(r#","data":{"#, r#","data":{"x":1,"#, 1),
        text.replacen(r#","data":{"#, r#","data":[{"#, 1),
        text.replacen(r#","data":"#, r#","actor":"b","data":"#, 1),
        text[..text.len() - 1].to_owned(),
        format!("{text} x"),
        String::new(),
    ];
    for damaged in &cases {
        assert_ne!(damaged, &text);
        assert!(
            RecordedEvent::from_stored_json(damaged).is_err(),
            "{damaged}"
        );
        same_answer(damaged);
    }
    // The strict parser takes any string as the hash (the chain checks it): not canonical,
    // still valid.
    for odd in [
        text.replacen(r#""hash":""#, r#""hash":"0"#, 1),
        text.replacen(r#""hash":"00"#, r#""hash":"AB"#, 1),
    ] {
        assert!(decode_canonical(&odd).is_none(), "{odd}");
        same_answer(&odd);
    }
    // Ids, dates and instants are read by their own parsers: an escape, a control character or
    // a character outside ASCII in one is refused by them, as by the strict parser.
    for odd in [
        text.replacen("9a8b7c6d", "9a8b7c6\\u0064", 1),
        text.replacen("9a8b7c6d", "9a8b7c6\u{1}", 1),
        text.replacen("9a8b7c6d", "9a8b7c6é", 1),
        text.replacen("2022-12-08", "2022-12-0\\u0038", 1),
        text.replacen("2023-01-02T10:11:12", "2023-01-02T10:11:1\u{7}", 1),
        text.replacen("2023-01-02T10:11:12", "2023-01-02T10:11:1é", 1),
    ] {
        assert_ne!(odd, text);
        same_answer(&odd);
    }
    // The same id in capitals is the same id, for both parsers.
    let capitals = text.replacen("9a8b7c6d", "9A8B7C6D", 1);
    fast_and_equal(&capitals);
    assert_eq!(
        RecordedEvent::from_stored_json(&capitals).unwrap(),
        RecordedEvent::from_json(&text).unwrap()
    );
    let mut oversized: Value = serde_json::from_str(&text).unwrap();
    oversized["data"]["unit"] = json!("x".repeat(EVENT_BYTES_MAX));
    same_answer(&oversized.to_string());
}

/// Free-text fields of each type, which may hold any text.
const TEXT_FIELDS: &[(EventType, &str)] = &[
    (EventType::DecisionGranted, "unit"),
    (EventType::OrderSent, "provider"),
    (EventType::OfferMade, "description"),
    (EventType::OfferDeclined, "reason"),
    (EventType::NoteRecorded, "text"),
    (EventType::DelayReasonRecorded, "text"),
    (EventType::Interrupted, "reason"),
    (EventType::Avslutad, "text"),
    (EventType::EventRetracted, "reason"),
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .åäöÅÄÖé/-]{1,30}",
        any::<String>(),
        "[\"\\\\\u{1}\u{7f}\u{2028}a ]{0,8}",
    ]
}

fn generated_line() -> impl Strategy<Value = String> {
    (
        0..EventType::ALL.len(),
        any::<u64>(),
        0i64..4_102_444_800_000_000,
        proptest::option::of(text()),
        text(),
        prop_oneof!["[0-9a-f]{64}", ".{0,70}"],
    )
        .prop_map(|(kind, position, micros, actor, free, hash)| {
            let event_type = EventType::ALL[kind];
            let mut value = example(event_type);
            if let Some(&(_, field)) = TEXT_FIELDS.iter().find(|(t, _)| *t == event_type) {
                value["data"][field] = json!(free);
            }
            let new = NewEvent::from_json(&value.to_string());
            let recorded_at = DateTime::from_timestamp_micros(micros).unwrap();
            match new {
                Ok(new) => {
                    let mut event = record(&new, position, actor, hash);
                    event.recorded_at = recorded_at;
                    event.to_json()
                }
                // A generated text the parser refuses (empty, blank): damaged data.
                Err(_) => value.to_string(),
            }
        })
}

/// A line with one byte range replaced.
fn damaged_line() -> impl Strategy<Value = String> {
    (
        generated_line(),
        any::<prop::sample::Index>(),
        0usize..4,
        "[\\x00-\\x7f]{0,3}",
    )
        .prop_map(|(line, at, cut, insert)| {
            let mut at = at.index(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(line.len());
            while !line.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{insert}{}", &line[..at], &line[end..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_stored_lines_give_the_same_answer(line in generated_line()) {
        same_answer(&line);
    }

    #[test]
    fn damaged_stored_lines_give_the_same_answer(line in damaged_line()) {
        same_answer(&line);
    }
}
