//! Helpers shared by the renderers' tests: dates, ids and instants from literals, and the two
//! checks every report must pass (JSON is the serde output; rendering is deterministic).

use chrono::{DateTime, NaiveDate, Utc};
use domain::{DecisionId, EventId};
use serde::Serialize;

use crate::Format;

/// A date from its parts.
pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// A moment from RFC 3339.
pub(crate) fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid test instant")
        .with_timezone(&Utc)
}

/// A decision id that reads as its number.
pub(crate) fn id(n: u8) -> DecisionId {
    format!("00000000-0000-4000-8000-0000000000{n:02x}")
        .parse()
        .expect("valid test uuid")
}

/// An event id that reads as its number.
pub(crate) fn event_id(n: u8) -> EventId {
    format!("eeeeeeee-0000-4000-8000-0000000000{n:02x}")
        .parse()
        .expect("valid test uuid")
}

/// The JSON text parses back to exactly the report's serde value, pretty-printed, ending in a
/// newline.
pub(crate) fn assert_json_contract<T: Serialize>(report: &T, json: String) {
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("the output is JSON");
    let expected = serde_json::to_value(report).expect("serialises");
    assert_eq!(parsed, expected);
    assert!(json.ends_with("}\n"), "ends with one newline");
    assert!(json.contains("\n  \""), "pretty-printed");
}

/// Rendering twice gives the same bytes, in every format.
pub(crate) fn assert_deterministic(render: impl Fn(Format) -> String) {
    for format in Format::ALL {
        let (first, second) = (render(format), render(format));
        assert!(!first.is_empty(), "{format} is empty");
        assert_eq!(first, second, "{format} differs between two renderings");
    }
}
