//! The fast decoder gives the strict parser's answer for every line: the same event for every
//! stored line (the examples, the golden cases, generated events), and the same answer —
//! event or error, field and message — for lines damaged at random.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::event::NewEvent;
use crate::schema::example;
use crate::testing::{damage, record, stored_lines};

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
        0.0..=1.0f64,
        0usize..4,
        "[\\x00-\\x7f]{0,3}",
    )
        .prop_map(|(line, at, cut, insert)| damage(&line, at, cut, &insert))
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

proptest! {
    #[test]
    fn a_strings_end_is_its_first_quote_backslash_or_control_character(
        bytes in proptest::collection::vec(any::<u8>(), 0..40)
    ) {
        let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        prop_assert_eq!(string_end(&bytes), naive);
    }

    #[test]
    fn a_hash_is_lower_hex_exactly_when_every_byte_is(
        bytes in proptest::collection::vec(
            prop_oneof![Just(b'0'), Just(b'9'), Just(b'a'), Just(b'f'), any::<u8>()],
            0..70,
        )
    ) {
        let naive = bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        prop_assert_eq!(is_lower_hex(&bytes), naive);
    }
}
