//! No identity number appears in any `Debug` output or error message: a property over random
//! valid numbers put where they belong and where they do not.

use domain::{EventType, NewEvent};
use proptest::prelude::*;
use serde_json::json;

/// A valid personnummer `YYYYMMDD-NNNC` for the birth date and serial.
fn personnummer(year: i32, month: u32, day: u32, serial: u32) -> String {
    let short = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
    let sum: u32 = short
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    format!(
        "{year}{month:02}{day:02}-{serial:03}{}",
        (10 - sum % 10) % 10
    )
}

proptest! {
    #[test]
    fn identity_numbers_never_reach_debug_or_errors(
        year in 1920i32..2020, month in 1u32..=12, day in 1u32..=28, serial in 0u32..1000, place in 0usize..6,
    ) {
        let number = personnummer(year, month, day, serial);
        let mut event = domain::schema::example(EventType::DecisionGranted);
        event["data"]["person"]["id"] = json!(number);
        // Valid and in its place: parsed, and Debug does not show it.
        let parsed = NewEvent::from_json(&event.to_string()).expect("a valid grant");
        let debug = format!("{parsed:?}");
        for form in [number.clone(), number.replace('-', ""), number[2..].to_owned()] {
            prop_assert!(!debug.contains(&form), "{}", debug);
        }
        // In the wrong place, or spoiled: refused, and the message does not repeat it.
        let mut bad = event.clone();
        match place {
            0 => bad["data"]["person"]["protected"] = json!(number),
            1 => bad["data"]["law"] = json!(number),
            2 => bad["actor"] = json!(number),
            3 => bad["data"]["person"]["id"] = json!(format!("{}0", &number[..12])),
            4 => bad["data"]["unit"] = json!(number.replace('-', "").parse::<u64>().expect("digits")),
            _ => bad["data"]["person"]["id"] = json!(number.replace('-', "/")),
        }
        if let Err(error) = NewEvent::from_json(&bad.to_string()) {
            let shown = format!("{error} {error:?}");
            prop_assert!(!shown.contains(&number), "{}", shown);
            prop_assert!(!shown.contains(&number.replace('-', "")), "{}", shown);
            prop_assert!(!shown.contains(&number[2..]), "{}", shown);
        } else {
            prop_assert!(place == 3 && number.ends_with('0'), "place {} was accepted", place);
        }
    }
}
