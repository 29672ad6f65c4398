//! `verkstall import`: all or nothing, every problem named by line and field, idempotent,
//! `--dry-run`, `--keep-recorded-at`, standard input, `--engine`, and no identity number in any
//! message.

use domain::EventType;
use serde_json::{Value, json};
use verkstall_tests::fixtures::{
    self, EXAMPLE_PERSON, decision_id, event, event_id, history, interleaved,
};
use verkstall_tests::{Exit, Output, Scratch};

/// The stored log, line by line (what `verkstall events` prints), or nothing when the data
/// directory does not exist.
fn log_of(scratch: &Scratch) -> Vec<String> {
    if scratch.data().exists() {
        scratch.events(&[])
    } else {
        Vec::new()
    }
}

fn assert_exit(output: &Output, exit: Exit) {
    assert_eq!(
        output.exit, exit,
        "stdout: {}\nstderr: {}",
        output.stdout, output.stderr
    );
}

#[test]
fn a_valid_file_is_imported_whole_and_says_so() {
    let scratch = Scratch::new();
    let output = scratch.import(&interleaved(2), &[]);
    assert_exit(&output, Exit::Done);
    assert_eq!(
        output.stdout,
        "imported 14 events for 2 decisions, positions 1–14\n"
    );
    assert_eq!(output.stderr, "");
    assert_eq!(log_of(&scratch).len(), 14);
}

#[test]
fn importing_the_same_file_again_writes_nothing() {
    let scratch = Scratch::new();
    let file = scratch.file("history.jsonl", &fixtures::jsonl(&interleaved(2)));
    assert_exit(&scratch.run(&["import", &file]), Exit::Done);
    let before = log_of(&scratch);

    let again = scratch.run(&["import", &file]);
    assert_exit(&again, Exit::Done);
    assert_eq!(
        again.stdout,
        "nothing imported: all 14 events already stored\n"
    );
    assert_eq!(log_of(&scratch), before);

    // A file that repeats some stored events and adds new ones writes only the new ones.
    let mut more = history(1);
    more.extend(history(3));
    let output = scratch.import(&more, &[]);
    assert_exit(&output, Exit::Done);
    assert_eq!(
        output.stdout,
        "imported 7 events for 1 decision (7 already stored), positions 15–21\n"
    );
    assert_eq!(log_of(&scratch)[..14], before[..]);
}

/// One broken line in the middle of an otherwise valid file, after a blank line (blank lines
/// are skipped but counted), against a log that already holds events.
fn refuses_one_bad_line(break_it: impl Fn(&mut Value), field: &str) {
    let scratch = Scratch::new();
    assert_exit(&scratch.import(&history(1), &[]), Exit::Done);
    let stored = log_of(&scratch);

    let mut events = history(2);
    break_it(&mut events[3]);
    let mut text = fixtures::jsonl(&events[..3]);
    text.push('\n');
    text += &fixtures::jsonl(&events[3..]);
    let file = scratch.file("broken.jsonl", &text);
    let output = scratch.run(&["import", &file]);

    assert_exit(&output, Exit::Refused);
    assert_eq!(output.stdout, "");
    let expected = format!("line 5: field `{field}`: ");
    assert!(
        output.stderr.contains("nothing written") && output.stderr.contains(&expected),
        "expected {expected:?} in {}",
        output.stderr
    );
    assert_eq!(
        output.stderr.matches("line ").count(),
        1,
        "{}",
        output.stderr
    );
    assert_eq!(log_of(&scratch), stored, "the log is unchanged");
}

#[test]
fn an_unknown_field_refuses_the_whole_file_naming_line_and_field() {
    refuses_one_bad_line(|e| e["colour"] = json!("red"), "colour");
}

#[test]
fn an_impossible_date_refuses_the_whole_file_naming_line_and_field() {
    refuses_one_bad_line(|e| e["occurred_on"] = json!("2023-02-30"), "occurred_on");
}

#[test]
fn a_bad_identity_number_refuses_the_whole_file_naming_line_and_field() {
    refuses_one_bad_line(
        |e| {
            *e = event(EventType::DecisionGranted, 2, 4, "2022-12-08");
            e["data"]["person"]["id"] = json!("19121212-1213");
        },
        "data.person.id",
    );
}

#[test]
fn a_field_the_store_sets_is_refused() {
    refuses_one_bad_line(|e| e["position"] = json!(4), "position");
}

#[test]
fn every_bad_line_is_listed() {
    let scratch = Scratch::new();
    let mut events = interleaved(2);
    events[1]["type"] = json!("Beviljat");
    events[6]["decision_id"] = json!("not-a-uuid");
    events[9]["data"]["reason"] = json!("bored");
    events[12] = events[2].clone();
    let output = scratch.import(&events, &[]);
    assert_exit(&output, Exit::Refused);
    let listed: Vec<&str> = output.stderr.lines().skip(1).collect();
    assert!(
        output
            .stderr
            .starts_with("verkstall: import refused, nothing written: 4 problems in "),
        "{}",
        output.stderr
    );
    assert_eq!(listed.len(), 4, "{}", output.stderr);
    for (line, (number, field)) in listed.iter().zip([
        (2, "type"),
        (7, "decision_id"),
        (10, "data.reason"),
        (13, "event_id"),
    ]) {
        assert!(
            line.starts_with(&format!("line {number}: field `{field}`: ")),
            "{line}"
        );
    }
    assert!(
        listed[3].ends_with("the same id as line 3"),
        "{}",
        listed[3]
    );
    assert!(
        !scratch.data().exists(),
        "a refused file creates no data directory"
    );
}

#[test]
fn problems_beyond_the_listing_cap_are_counted() {
    let scratch = Scratch::new();
    let extra = 7;
    let text = "{\"type\": 1}\n".repeat(verkstall::PROBLEMS_LISTED_MAX + extra);
    let file = scratch.file("junk.jsonl", &text);
    let output = scratch.run(&["import", &file]);
    assert_exit(&output, Exit::Refused);
    let lines: Vec<&str> = output.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1 + verkstall::PROBLEMS_LISTED_MAX + 1,
        "{}",
        output.stderr
    );
    assert!(lines[0].contains(&format!(
        "{} problems",
        verkstall::PROBLEMS_LISTED_MAX + extra
    )));
    assert_eq!(
        lines.last().unwrap(),
        &format!("… and {extra} more problems")
    );
}

#[test]
fn a_rule_break_refuses_the_file_naming_its_line() {
    let scratch = Scratch::new();
    assert_exit(&scratch.import(&history(1), &[]), Exit::Done);
    let stored = log_of(&scratch);
    // Decision 2 is interrupted before it was ever executed.
    let mut events = history(2);
    events.truncate(4);
    events.push(event(EventType::Interrupted, 2, 9, "2023-04-01"));
    events.push(event(EventType::OrderSent, 2, 10, "2023-04-02"));
    let output = scratch.import(&events, &[]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output
            .stderr
            .contains("nothing written: line 5: Interrupted")
            && output.stderr.contains("Interrupted only while executed"),
        "{}",
        output.stderr
    );
    assert_eq!(log_of(&scratch), stored);
}

#[test]
fn a_reused_event_id_with_other_content_is_refused_naming_its_line() {
    let scratch = Scratch::new();
    assert_exit(&scratch.import(&history(1), &[]), Exit::Done);
    let stored = log_of(&scratch);
    let mut events = history(2);
    let mut changed = history(1)[1].clone();
    changed["data"]["provider"] = json!("Another provider");
    events.insert(2, changed);
    let output = scratch.import(&events, &[]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains(&format!(
            "line 3: event id {} is already stored at position 2 with different content",
            event_id(1, 2)
        )),
        "{}",
        output.stderr
    );
    assert_eq!(log_of(&scratch), stored);
}

#[test]
fn lines_without_event_id_get_one_so_a_refusal_still_names_its_line() {
    let scratch = Scratch::new();
    let mut events = history(1);
    for e in &mut events {
        e.as_object_mut().unwrap().remove("event_id");
    }
    let mut broken = events.clone();
    // A second decision in the same stream.
    broken.insert(3, events[0].clone());
    let output = scratch.import(&broken, &[]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains("line 4: DecisionGranted"),
        "{}",
        output.stderr
    );

    let output = scratch.import(&events, &[]);
    assert_exit(&output, Exit::Done);
    assert!(
        output.stderr.contains("warning: 7 lines carry no event_id"),
        "{}",
        output.stderr
    );
    for line in log_of(&scratch) {
        let stored: Value = serde_json::from_str(&line).unwrap();
        let id = stored["event_id"].as_str().unwrap();
        assert!(uuid_like(id), "{id}");
    }
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|&c| c == '-').count() == 4
}

#[test]
fn a_dry_run_checks_everything_and_writes_nothing() {
    let scratch = Scratch::new();
    let output = scratch.import(&interleaved(2), &["--dry-run"]);
    assert_exit(&output, Exit::Done);
    assert_eq!(
        output.stdout,
        "checked 14 events: 14 would be imported for 2 decisions; nothing written\n"
    );
    assert!(
        !scratch.data().exists(),
        "a dry run creates no data directory"
    );

    assert_exit(&scratch.import(&history(1), &[]), Exit::Done);
    let stored = log_of(&scratch);
    let output = scratch.import(&interleaved(2), &["--dry-run"]);
    assert_exit(&output, Exit::Done);
    assert_eq!(
        output.stdout,
        "checked 14 events: 7 would be imported for 1 decision (7 already stored); nothing written\n"
    );
    // The rules are checked against the stored log too.
    let mut second_grant = history(1);
    second_grant.push(event(EventType::DecisionGranted, 1, 8, "2024-06-01"));
    let output = scratch.import(&second_grant, &["--dry-run"]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains("line 8: DecisionGranted"),
        "{}",
        output.stderr
    );
    assert_eq!(log_of(&scratch), stored);
}

/// `history(n)` with each event recorded at nine in the morning of the day it occurred.
fn history_with_recorded_at(n: u32) -> Vec<Value> {
    let mut events = history(n);
    for e in &mut events {
        let day = e["occurred_on"].as_str().unwrap().to_owned();
        e["recorded_at"] = json!(format!("{day}T09:00:00Z"));
    }
    events
}

fn recorded_at_of(line: &str) -> String {
    let stored: Value = serde_json::from_str(line).unwrap();
    stored["recorded_at"].as_str().unwrap().to_owned()
}

#[test]
fn keep_recorded_at_keeps_the_times_and_refuses_them_going_backwards() {
    let scratch = Scratch::new();
    let output = scratch.import(&history_with_recorded_at(1), &["--keep-recorded-at"]);
    assert_exit(&output, Exit::Done);
    assert_eq!(output.stderr, "");
    let stored: Vec<String> = log_of(&scratch).iter().map(|l| recorded_at_of(l)).collect();
    assert_eq!(stored[0], "2022-12-08T09:00:00.000000Z");
    assert_eq!(stored[6], "2024-05-31T09:00:00.000000Z");

    // Decision 2 is older than the log's last event: its times would go backwards.
    let before = log_of(&scratch);
    let mut events = history_with_recorded_at(2);
    events[5]["recorded_at"] = json!("2025-01-10T09:00:00Z");
    events[6]["recorded_at"] = json!("2025-01-09T09:00:00Z");
    for e in &mut events[..5] {
        e["recorded_at"] = json!("2024-06-01T09:00:00Z");
    }
    let output = scratch.import(&events, &["--keep-recorded-at"]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains(
            "line 7: recorded_at 2025-01-09T09:00:00.000000Z is earlier than the previous event's"
        ),
        "{}",
        output.stderr
    );
    assert_eq!(log_of(&scratch), before);

    let mut missing = history_with_recorded_at(3);
    for e in &mut missing {
        e["recorded_at"] = json!("2025-02-01T09:00:00Z");
    }
    missing[2].as_object_mut().unwrap().remove("recorded_at");
    let output = scratch.import(&missing, &["--keep-recorded-at"]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains("line 3: recorded_at is missing"),
        "{}",
        output.stderr
    );
}

#[test]
fn keep_recorded_at_refuses_times_in_the_future() {
    // A future recorded_at would stamp every later append with that time (recorded_at never
    // goes backwards) and make "as of now" lie: history is imported up to now only.
    let scratch = Scratch::new();
    let mut events = history_with_recorded_at(1);
    events[6]["recorded_at"] = json!("2999-01-01T00:00:00Z");
    let output = scratch.import(&events, &["--keep-recorded-at"]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output
            .stderr
            .contains("line 7: recorded_at 2999-01-01T00:00:00.000000Z is in the future"),
        "{}",
        output.stderr
    );
    assert!(log_of(&scratch).is_empty());
}

#[test]
fn without_keep_recorded_at_the_times_are_ignored_with_a_warning() {
    let scratch = Scratch::new();
    let output = scratch.import(&history_with_recorded_at(1), &[]);
    assert_exit(&output, Exit::Done);
    assert!(
        output
            .stderr
            .contains("warning: recorded_at on 7 lines was ignored"),
        "{}",
        output.stderr
    );
    for line in log_of(&scratch) {
        let recorded = recorded_at_of(&line);
        // The store's clock, not the lines' 2022–2024: no earlier than when this was written.
        assert!(recorded.as_str() > "2025-01-01", "{recorded}");
    }
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let scratch = Scratch::new();
    let text = fixtures::jsonl(&history(1));
    let output = scratch.run_with_input(&["import", "-"], text.as_bytes());
    assert_exit(&output, Exit::Done);
    assert_eq!(
        output.stdout,
        "imported 7 events for 1 decision, positions 1–7\n"
    );
    assert_eq!(log_of(&scratch).len(), 7);

    let output = scratch.run_with_input(&["import", "-"], b"{\"type\":\"OrderSent\"}\n");
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains("in standard input\nline 1: field `"),
        "{}",
        output.stderr
    );
}

#[test]
fn an_empty_file_imports_nothing_and_says_so() {
    let scratch = Scratch::new();
    let file = scratch.file("empty.jsonl", "\n  \n\r\n");
    let output = scratch.run(&["import", &file]);
    assert_exit(&output, Exit::Done);
    assert!(
        output.stdout.starts_with("nothing to import: "),
        "{}",
        output.stdout
    );
    assert!(!scratch.data().exists());
}

#[test]
fn crlf_line_endings_and_a_byte_order_mark_are_accepted() {
    let scratch = Scratch::new();
    let text = format!(
        "\u{feff}{}",
        fixtures::jsonl(&history(1)).replace('\n', "\r\n")
    );
    let file = scratch.file("windows.jsonl", &text);
    assert_exit(&scratch.run(&["import", &file]), Exit::Done);
    assert_eq!(log_of(&scratch).len(), 7);
}

#[test]
fn a_file_that_cannot_be_read_fails_naming_it() {
    let scratch = Scratch::new();
    let missing = scratch.data().with_file_name("no-such-file.jsonl");
    let output = scratch.run(&["import", missing.to_str().unwrap()]);
    assert_exit(&output, Exit::Failed);
    assert!(
        output.stderr.contains("cannot read") && output.stderr.contains("no-such-file.jsonl"),
        "{}",
        output.stderr
    );
    assert!(!scratch.data().exists());
}

#[test]
fn a_line_that_is_not_utf8_is_refused_naming_it() {
    let scratch = Scratch::new();
    let mut bytes = fixtures::jsonl(&history(1)[..2]).into_bytes();
    bytes.extend_from_slice(b"{\"type\": \"\xff\"}\n");
    let path = scratch.data().with_file_name("latin1.jsonl");
    std::fs::write(&path, bytes).unwrap();
    let output = scratch.run(&["import", path.to_str().unwrap()]);
    assert_exit(&output, Exit::Refused);
    assert!(
        output.stderr.contains("line 3: not UTF-8 text"),
        "{}",
        output.stderr
    );
}

#[test]
fn no_identity_number_appears_in_any_refusal() {
    let scratch = Scratch::new();
    assert_exit(&scratch.import(&history(1), &[]), Exit::Done);
    let grant = |k: u32| event(EventType::DecisionGranted, 2, k, "2022-12-08");
    let mut unknown_field = grant(1);
    unknown_field["data"]["person"]["name"] = json!(EXAMPLE_PERSON);
    let mut wrong_type = grant(2);
    wrong_type["data"]["person"]["protected"] = json!(EXAMPLE_PERSON);
    let mut wrong_law = grant(3);
    wrong_law["data"]["law"] = json!(EXAMPLE_PERSON);
    let mut wrong_id = grant(4);
    wrong_id["data"]["person"]["id"] = json!("19121212-1213");
    let mut as_a_number = grant(5);
    as_a_number["data"]["person"]["id"] = json!(191212121212_u64);
    let mut in_the_type = grant(6);
    in_the_type["type"] = json!(EXAMPLE_PERSON);
    let broken_json = format!("{{\"type\": \"DecisionGranted\", \"person\": \"{EXAMPLE_PERSON}\"");

    let mut outputs = Vec::new();
    for line in [
        unknown_field.to_string(),
        wrong_type.to_string(),
        wrong_law.to_string(),
        wrong_id.to_string(),
        as_a_number.to_string(),
        in_the_type.to_string(),
        broken_json.clone(),
    ] {
        outputs.push(scratch.run_with_input(&["import", "-"], format!("{line}\n").as_bytes()));
    }
    // All of them in one file, and a file named after the person.
    let all = [
        unknown_field.to_string(),
        wrong_type.to_string(),
        wrong_law.to_string(),
        wrong_id.to_string(),
        broken_json,
    ]
    .join("\n");
    let named = scratch.file(&format!("{EXAMPLE_PERSON}.jsonl"), &all);
    outputs.push(scratch.run(&["import", &named]));
    let missing = scratch
        .data()
        .with_file_name(format!("{EXAMPLE_PERSON}-missing.jsonl"));
    outputs.push(scratch.run(&["import", missing.to_str().unwrap()]));
    // A valid line whose stream breaks a rule: a second decision for decision 1.
    let mut second = grant(7);
    second["decision_id"] = json!(decision_id(1));
    outputs.push(scratch.import(&[second], &[]));

    let forms = [EXAMPLE_PERSON, "191212121212", "121212-1212", "1212121212"];
    for output in &outputs {
        assert_ne!(output.exit, Exit::Done, "{}", output.stdout);
        assert!(!output.stderr.is_empty());
        for form in forms {
            assert!(!output.stderr.contains(form), "{form} in {}", output.stderr);
            assert!(!output.stdout.contains(form), "{form} in {}", output.stdout);
        }
    }
    assert_eq!(log_of(&scratch).len(), 7);
}

#[test]
fn engine_is_accepted_before_or_after_the_command_for_a_new_directory() {
    let scratch = Scratch::new();
    let file = scratch.file("one.jsonl", &fixtures::jsonl(&history(1)));
    assert_exit(
        &scratch.run(&["import", &file, "--engine", "redb"]),
        Exit::Done,
    );
    let engine = std::fs::read_to_string(scratch.data().join(store::ENGINE_FILE_NAME)).unwrap();
    assert_eq!(engine.trim(), "redb");
    assert_exit(&scratch.run(&["--engine", "redb", "events"]), Exit::Done);
    assert_exit(
        &scratch.run(&["--engine", "postgres", "events"]),
        Exit::Usage,
    );
}

#[cfg(feature = "sled")]
#[test]
fn engine_sled_creates_a_sled_directory_that_keeps_its_engine() {
    let scratch = Scratch::new();
    let file = scratch.file("one.jsonl", &fixtures::jsonl(&history(1)));
    assert_exit(
        &scratch.run(&["--engine", "sled", "import", &file]),
        Exit::Done,
    );
    let engine = std::fs::read_to_string(scratch.data().join(store::ENGINE_FILE_NAME)).unwrap();
    assert_eq!(engine.trim(), "sled");
    // Without --engine, the directory's own engine is used.
    assert_eq!(log_of(&scratch).len(), 7);
    assert_exit(&scratch.run(&["verify"]), Exit::Done);

    let more = scratch.file("two.jsonl", &fixtures::jsonl(&history(2)));
    let output = scratch.run(&["import", &more, "--engine", "redb"]);
    assert_exit(&output, Exit::Failed);
    assert!(
        output
            .stderr
            .contains("created with --engine sled, not redb"),
        "{}",
        output.stderr
    );
    assert_exit(&scratch.run(&["--engine", "redb", "events"]), Exit::Failed);
    assert_eq!(log_of(&scratch).len(), 7);
}

#[cfg(not(feature = "sled"))]
#[test]
fn engine_sled_is_refused_by_a_build_without_it() {
    let scratch = Scratch::new();
    let file = scratch.file("one.jsonl", &fixtures::jsonl(&history(1)));
    let output = scratch.run(&["--engine", "sled", "import", &file]);
    assert_exit(&output, Exit::Failed);
    assert!(
        output.stderr.contains("no sled engine"),
        "{}",
        output.stderr
    );
}

#[test]
fn naming_another_engine_for_an_existing_directory_is_refused() {
    let scratch = Scratch::new();
    assert_exit(&scratch.import(&history(1), &[]), Exit::Done);
    let output = scratch.import(&history(2), &["--engine", "sled"]);
    assert_exit(&output, Exit::Failed);
    assert!(
        output
            .stderr
            .contains("created with --engine redb, not sled"),
        "{}",
        output.stderr
    );
    assert_eq!(log_of(&scratch).len(), 7);
}
