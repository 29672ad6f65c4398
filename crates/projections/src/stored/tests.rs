//! The fold's reading of a stored line is the reading of the fully decoded event: for every
//! example and golden event (each type by the fast path), for lines spelled otherwise, and for
//! lines damaged at random wherever the full decoder still accepts them.

#![allow(clippy::unwrap_used)]

use domain::NewEvent;
use domain::schema::example;
use domain::testing::{damage, record, stored_lines};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// A new event as the store records it, as its stored line.
fn stored(new: &NewEvent, position: u64) -> String {
    record(
        new,
        position,
        new.actor.clone(),
        format!("{:064x}", position * 7919),
    )
    .to_json()
}

/// The full decoder's reading of `line`, as the fold reads it.
fn decoded(line: &str) -> Result<FoldEvent<'static>, ParseError> {
    RecordedEvent::from_stored_json(line).map(|e| FoldEvent::of(&e).into_owned())
}

/// The fold reads `line` by the fast path, and reads it as the full decoder does.
#[track_caller]
fn fast_and_equal(line: &str) {
    let fast = read_canonical(line).unwrap_or_else(|| panic!("not read fast: {line}"));
    assert_eq!(fast, decoded(line).unwrap(), "{line}");
    assert_eq!(FoldEvent::from_stored_line(line).unwrap(), fast);
}

/// Wherever the full decoder accepts `line`, the fold reads it the same. Where it refuses it,
/// the fold either refuses it too or reads it as the undamaged `original`: the damage is then
/// in what the fold does not read (a free text, an unknown field, the actor), never in what it
/// keeps.
#[track_caller]
fn same_where_valid(original: &str, line: &str) {
    match decoded(line) {
        Ok(event) => assert_eq!(FoldEvent::from_stored_line(line), Ok(event), "{line}"),
        Err(error) => {
            if let Ok(event) = FoldEvent::from_stored_line(line) {
                assert_eq!(event, decoded(original).unwrap(), "{line}: {error}");
            }
        }
    }
}

#[test]
fn every_example_and_golden_event_is_read_fast_as_decoded() {
    // One of each type first (see `stored_lines`), then the golden cases.
    for line in stored_lines() {
        fast_and_equal(&line);
    }
}

#[test]
fn a_grant_keeps_no_identity_number_only_what_it_gives() {
    let line = stored(
        &NewEvent::from_json(&example(EventType::DecisionGranted).to_string()).unwrap(),
        1,
    );
    let event = FoldEvent::from_stored_line(&line).unwrap();
    let grant = event.grant.expect("a grant");
    let decoded = RecordedEvent::from_stored_json(&line).unwrap();
    let EventData::DecisionGranted(g) = &decoded.data else {
        panic!("a grant");
    };
    assert_eq!(grant.sex, g.person.id.sex());
    assert_eq!(grant.birth_date, g.person.id.birth_date());
    assert!(!format!("{grant:?}").contains(g.person.id.reveal()));
}

#[test]
fn a_line_not_spelled_canonically_is_decoded_in_full_to_the_same_reading() {
    for line in stored_lines().into_iter().take(EventType::ALL.len()) {
        let value: Value = serde_json::from_str(&line).unwrap();
        let spaced = serde_json::to_string_pretty(&value).unwrap();
        let reordered = value.to_string();
        let escaped_actor = line.replacen(r#""actor":"h"#, r#""actor":"\u0068"#, 1);
        let escaped_id = line.replacen(r#""id":"1"#, r#""id":"\u0031"#, 1);
        for other in [spaced, reordered, escaped_actor, escaped_id] {
            if other == line {
                continue;
            }
            assert!(read_canonical(&other).is_none(), "{other}");
            assert_eq!(
                FoldEvent::from_stored_line(&other).unwrap(),
                decoded(&line).unwrap()
            );
        }
    }
}

#[test]
fn a_line_the_full_decoder_refuses_in_what_the_fold_reads_is_refused() {
    let line = stored(
        &NewEvent::from_json(&example(EventType::ReportedToIvo).to_string()).unwrap(),
        3,
    );
    let value: Value = serde_json::from_str(&line).unwrap();
    let mut cases = Vec::new();
    for (field, bad) in [
        ("kind", json!("annan")),
        ("quarter", json!("2023Q5")),
        ("reference_date", json!("2023-02-30")),
    ] {
        let mut damaged = value.clone();
        damaged["data"][field] = bad;
        cases.push(damaged.to_string());
    }
    cases.push(line.replacen(r#""position":3"#, r#""position":03"#, 1));
    cases.push(line[..line.len() - 1].to_owned());
    for damaged in cases {
        assert!(decoded(&damaged).is_err(), "{damaged}");
        assert_eq!(
            FoldEvent::from_stored_line(&damaged),
            decoded(&damaged),
            "{damaged}"
        );
    }
}

/// A stored line, and the same with one byte range replaced.
fn damaged_line() -> impl Strategy<Value = (String, String)> {
    let lines = stored_lines();
    (
        0..lines.len(),
        0.0..=1.0f64,
        0usize..4,
        "[\\x00-\\x7f]{0,3}",
    )
        .prop_map(move |(which, at, cut, insert)| {
            let line = &lines[which];
            (line.clone(), damage(line, at, cut, &insert))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn damaged_lines_are_read_as_the_full_decoder_reads_them(
        (original, line) in damaged_line()
    ) {
        same_where_valid(&original, &line);
    }
}
