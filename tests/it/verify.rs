//! `verkstall verify`: a good log reports its counts and last hash; a damaged one names the
//! position and fails; a missing data directory is an error and is not created.

use domain::EventType;
use serde_json::{Value, json};
use verkstall_tests::fixtures::{event, interleaved};
use verkstall_tests::{Exit, Scratch};

#[test]
fn verify_on_a_good_log_reports_the_counts_and_the_last_hash() {
    let scratch = Scratch::new();
    let output = scratch.import(&interleaved(3), &[]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    let last: Value = serde_json::from_str(scratch.events(&[]).last().unwrap()).unwrap();
    let last_hash = last["hash"].as_str().unwrap();

    let output = scratch.run(&["verify"]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    assert_eq!(
        output.stdout,
        format!(
            "verified 21 events in 3 decisions: positions contiguous, hash chain whole, \
             indexes and rules hold; last hash {last_hash}\n"
        )
    );
    assert_eq!(output.stderr, "");
}

#[test]
fn verify_on_an_empty_log_reports_nothing_to_check() {
    let scratch = Scratch::new();
    // A refused import leaves a data directory with an empty log.
    let refused = scratch.import(&[event(EventType::Interrupted, 1, 1, "2023-01-02")], &[]);
    assert_eq!(refused.exit, Exit::Refused, "{}", refused.stderr);
    let output = scratch.run(&["verify"]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    assert!(
        output
            .stdout
            .starts_with("verified 0 events in 0 decisions: ")
            && output
                .stdout
                .ends_with(&format!("last hash {}\n", "0".repeat(64))),
        "{}",
        output.stdout
    );
}

#[test]
fn verify_on_a_missing_data_directory_fails_and_creates_nothing() {
    let scratch = Scratch::new();
    let output = scratch.run(&["verify"]);
    assert_eq!(output.exit, Exit::Failed);
    assert!(
        output.stderr.starts_with("verkstall: data directory ")
            && output.stderr.contains("does not exist"),
        "{}",
        output.stderr
    );
    assert!(!scratch.data().exists());
}

#[test]
fn verify_names_the_position_of_an_event_changed_on_disk() {
    let scratch = Scratch::new();
    let mut events = interleaved(2);
    // A text found nowhere else in the log, in the event at position 4.
    let marker = "Utförare Q7 Norra";
    events[3]["data"] = json!({"provider": marker});
    let output = scratch.import(&events, &[]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    assert_eq!(scratch.run(&["verify"]).exit, Exit::Done);

    // Change one letter of the stored event, in the engine's file, where no API can reach.
    let file = scratch.data().join("log").join("kv.redb");
    let bytes = std::fs::read(&file).unwrap();
    let (from, to) = (marker.as_bytes(), "Utförare Q7 Nurra".as_bytes());
    assert_eq!(from.len(), to.len());
    let found = bytes.windows(from.len()).filter(|w| *w == from).count();
    assert!(
        found > 0,
        "the engine stores values as written, so the text is in its file"
    );
    let mut changed = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            changed.extend_from_slice(to);
            i += from.len();
        } else {
            changed.push(bytes[i]);
            i += 1;
        }
    }
    std::fs::write(&file, changed).unwrap();

    let output = scratch.run(&["verify"]);
    assert_eq!(output.exit, Exit::Failed, "{}", output.stdout);
    assert_eq!(output.stdout, "");
    assert!(
        output
            .stderr
            .starts_with("verkstall: the log is damaged at position 4: the hash does not match"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_data_directory_whose_log_is_gone_is_refused_not_started_afresh() {
    let scratch = Scratch::new();
    let output = scratch.import(&interleaved(1), &[]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    let log = scratch.data().join("log");
    std::fs::remove_dir_all(&log).unwrap();

    for args in [&["verify"][..], &["events"][..]] {
        let output = scratch.run(args);
        assert_eq!(output.exit, Exit::Failed, "{args:?}: {}", output.stdout);
        assert!(
            output.stderr.contains("log is missing"),
            "{args:?}: {}",
            output.stderr
        );
    }
    let output = scratch.import(&interleaved(1), &[]);
    assert_eq!(output.exit, Exit::Failed, "{}", output.stdout);
    assert!(!log.exists(), "no new log was started");

    // An engine folder emptied of its files is the same loss.
    std::fs::create_dir(&log).unwrap();
    assert_eq!(scratch.run(&["verify"]).exit, Exit::Failed);
    assert_eq!(std::fs::read_dir(&log).unwrap().count(), 0);
}
