//! `verkstall events`: the stored events as JSON Lines, exactly as stored, with what the store
//! added (position, version, recorded_at, hash); `--after` and `--limit`; never creating a data
//! directory.

use std::collections::HashMap;

use domain::EventType;
use serde_json::Value;
use verkstall_tests::fixtures::{event, history, interleaved};
use verkstall_tests::{Exit, Scratch};

/// Fields the store adds, and the submitted fields, in the one canonical order.
const CANONICAL_FIELDS: [&str; 10] = [
    "position",
    "version",
    "recorded_at",
    "event_id",
    "decision_id",
    "type",
    "occurred_on",
    "actor",
    "data",
    "hash",
];

fn imported(decisions: u32) -> (Scratch, Vec<Value>) {
    let scratch = Scratch::new();
    let events = interleaved(decisions);
    let output = scratch.import(&events, &[]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    (scratch, events)
}

#[test]
fn events_prints_what_was_imported_with_what_the_store_added() {
    let (scratch, submitted) = imported(2);
    let output = scratch.run(&["events"]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    assert_eq!(output.stderr, "");
    assert!(output.stdout.ends_with("}\n"));
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), submitted.len());

    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut previous_hash = store::GENESIS_HASH;
    let mut previous_recorded = None;
    for (i, (line, sent)) in lines.iter().zip(&submitted).enumerate() {
        let stored: Value = serde_json::from_str(line).unwrap();
        let position = i as u64 + 1;
        assert!(
            line.starts_with(&format!(r#"{{"position":{position},"version":"#)),
            "{line}"
        );
        let keys: Vec<&str> = CANONICAL_FIELDS
            .iter()
            .copied()
            .filter(|k| stored.get(k).is_some())
            .collect();
        assert_eq!(keys, CANONICAL_FIELDS, "{line}");
        assert_eq!(stored.as_object().unwrap().len(), CANONICAL_FIELDS.len());
        // What was submitted, unchanged (`data` compared as the event data it means: the
        // canonical JSON may spell a number differently, `8.0` for `8`).
        for field in ["event_id", "decision_id", "type", "occurred_on", "actor"] {
            assert_eq!(stored[field], sent[field], "{field} of line {position}");
        }
        let as_sent = domain::NewEvent::from_json(&sent.to_string()).unwrap();
        let as_stored = domain::RecordedEvent::from_json(line).unwrap();
        assert_eq!(as_stored.data, as_sent.data, "data of line {position}");
        // What the store added.
        assert_eq!(stored["position"], position);
        let version = versions
            .entry(stored["decision_id"].as_str().unwrap().to_owned())
            .or_default();
        *version += 1;
        assert_eq!(stored["version"], *version, "{line}");
        let recorded =
            chrono::DateTime::parse_from_rfc3339(stored["recorded_at"].as_str().unwrap()).unwrap();
        assert!(previous_recorded.is_none_or(|p| p <= recorded), "{line}");
        previous_recorded = Some(recorded);
        // The hash is last and covers the line's bytes as printed: they are the stored bytes.
        let (canonical, hash) = store::split_stored_line(line.as_bytes()).unwrap();
        assert_eq!(
            store::chain_hash(&previous_hash, &canonical),
            hash,
            "{line}"
        );
        previous_hash = hash;
    }
    assert_eq!(versions.values().copied().collect::<Vec<_>>(), [7, 7]);
}

#[test]
fn after_and_limit_select_a_window_of_the_log() {
    let (scratch, _) = imported(2);
    let all = scratch.events(&[]);
    assert_eq!(all.len(), 14);
    assert_eq!(scratch.events(&["--after", "2", "--limit", "3"]), all[2..5]);
    assert_eq!(scratch.events(&["--limit", "3", "--after", "2"]), all[2..5]);
    assert_eq!(scratch.events(&["--after", "12"]), all[12..]);
    assert_eq!(scratch.events(&["--limit", "1"]), all[..1]);
    assert_eq!(scratch.events(&["--after", "0", "--limit", "100"]), all);
    assert!(scratch.events(&["--limit", "0"]).is_empty());
    assert!(scratch.events(&["--after", "14"]).is_empty());
    assert!(scratch.events(&["--after", "1000"]).is_empty());
    assert_eq!(scratch.run(&["events", "--after", "-1"]).exit, Exit::Usage);
    assert_eq!(
        scratch.run(&["events", "--limit", "many"]).exit,
        Exit::Usage
    );
}

#[test]
fn events_pages_through_more_than_one_read_of_the_store() {
    // The store hands out at most 10 000 events per read.
    let (scratch, submitted) = imported(1_500);
    let all = scratch.events(&[]);
    assert_eq!(all.len(), submitted.len());
    assert_eq!(all.len(), 10_500);
    for (i, line) in all.iter().enumerate() {
        assert!(
            line.starts_with(&format!(r#"{{"position":{},"#, i + 1)),
            "line {i}: {line}"
        );
    }
    assert_eq!(
        scratch.events(&["--after", "9998", "--limit", "4"]),
        all[9998..10002]
    );
    assert_eq!(
        scratch.events(&["--after", "499", "--limit", "10001"]),
        all[499..]
    );
}

#[test]
fn events_on_a_missing_data_directory_fails_and_creates_nothing() {
    let scratch = Scratch::new();
    let output = scratch.run(&["events"]);
    assert_eq!(output.exit, Exit::Failed);
    assert!(
        output.stderr.contains("does not exist"),
        "{}",
        output.stderr
    );
    assert_eq!(output.stdout, "");
    assert!(!scratch.data().exists());

    // An existing directory that is not a data directory is left as it is.
    std::fs::create_dir(scratch.data()).unwrap();
    let output = scratch.run(&["events"]);
    assert_eq!(output.exit, Exit::Failed);
    assert!(
        output.stderr.contains("is not a verkstall data directory"),
        "{}",
        output.stderr
    );
    assert_eq!(std::fs::read_dir(scratch.data()).unwrap().count(), 0);
}

#[test]
fn events_on_an_empty_log_prints_nothing() {
    let scratch = Scratch::new();
    // A refused import leaves a data directory with an empty log.
    let refused = scratch.import(&[event(EventType::OrderSent, 1, 1, "2023-01-02")], &[]);
    assert_eq!(refused.exit, Exit::Refused, "{}", refused.stderr);
    let output = scratch.run(&["events"]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    assert_eq!(output.stdout, "");
    assert_eq!(scratch.events(&["--after", "3"]), Vec::<String>::new());
    let output = scratch.import(&history(1), &[]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    assert_eq!(scratch.events(&[]).len(), 7);
}
