//! Events for other crates' tests (feature `test-support`): every example of `events-schema/`
//! and every event of the golden cases under `tests/golden/`, as the store would record them.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::path::Path;

use crate::event::{EventType, NewEvent, RecordedEvent};
use crate::schema::example;

/// A new event as the store records it, at `position`, with `actor` and `hash`.
pub fn record(new: &NewEvent, position: u64, actor: Option<String>, hash: String) -> RecordedEvent {
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

/// Every example of `events-schema/` (one of each type, first, in [`EventType::ALL`] order) and
/// every event of the golden cases, as stored lines at positions 1, 2, …
pub fn stored_lines() -> Vec<String> {
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

/// `line` with the bytes from about `at` (a fraction of its length, 0 to 1) for `cut` bytes
/// replaced by `insert`, the cut widened to whole characters: damage for property tests.
pub fn damage(line: &str, at: f64, cut: usize, insert: &str) -> String {
    let mut start = ((line.len() as f64) * at.clamp(0.0, 1.0)) as usize;
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + cut).min(line.len());
    while !line.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{insert}{}", &line[..start], &line[end..])
}
