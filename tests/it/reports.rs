//! The report commands as a user meets them, beyond what they print (the golden cases in
//! `golden.rs` pin the content):
//! - exit codes (spec §8): a missing data directory is exit 1 and creates nothing; a bad
//!   `--quarter`, `--as-of`, `--format` or date range is exit 2; the dossier of an unknown
//!   decision is exit 1 with a message naming it;
//! - `--as-of DATE` means the end of that day in Stockholm (spec §5, §8), in winter (UTC+1) and
//!   in summer (UTC+2);
//! - a report asked as of a moment is byte-identical every time, also after later events
//!   (recorded after that moment) are imported (spec §5: "the report as submitted, byte for
//!   byte, forever");
//! - `rebuild`, and losing the projections' snapshot, change no report;
//! - `demo` fills a fresh directory once and refuses a second time, writing nothing; its IVO
//!   worklists carry titles of the grammar of spec §6 that agree with their items, and no
//!   identity number appears where it must not (never in the council's statistics or the
//!   worklists; a protected person's never in their own dossier).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use domain::{EventType, Quarter};
use serde_json::{Value, json};
use verkstall_tests::fixtures::{EXAMPLE_PERSON, decision_id, event, event_id};
use verkstall_tests::{Exit, Output, Scratch};

/// Every format a report can be asked in.
const FORMATS: [&str; 4] = ["json", "csv", "md", "html"];

/// Far enough in the future that every event counts.
const AS_OF_EVERYTHING: &str = "2100-01-01T00:00:00Z";

fn assert_exit(output: &Output, exit: Exit) {
    assert_eq!(
        output.exit, exit,
        "stdout: {}\nstderr: {}",
        output.stdout, output.stderr
    );
}

/// Runs `args` on `scratch`, which must succeed, and returns what it printed.
fn run_ok(scratch: &Scratch, args: &[&str]) -> String {
    let output = scratch.run(args);
    assert_exit(&output, Exit::Done);
    output.stdout
}

/// Runs `args` on `scratch` and parses the JSON it printed.
fn run_json(scratch: &Scratch, args: &[&str]) -> Value {
    let text = run_ok(scratch, args);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}):\n{text}"))
}

/// The event of `event_type` for decision `n` as its event `k`, occurring on `occurred_on`
/// and recorded at `recorded_at`, with `data` when given.
fn recorded(
    event_type: EventType,
    n: u32,
    k: u32,
    occurred_on: &str,
    recorded_at: &str,
    data: Option<Value>,
) -> Value {
    let mut e = event(event_type, n, k, occurred_on);
    e["recorded_at"] = json!(recorded_at);
    if let Some(data) = data {
        e["data"] = data;
    }
    e
}

/// A decision granted on `decided_on`, recorded at `recorded_at`, with nothing optional.
fn granted(n: u32, decided_on: &str, recorded_at: &str) -> Value {
    recorded(
        EventType::DecisionGranted,
        n,
        1,
        decided_on,
        recorded_at,
        Some(json!({
            "person": {"id": EXAMPLE_PERSON, "protected": false},
            "law": "LSS",
            "insats": "lss_9_10"
        })),
    )
}

/// A scratch directory holding `events`, imported with their own `recorded_at`.
fn with_history(events: &[Value]) -> Scratch {
    let scratch = Scratch::new();
    assert_exit(&scratch.import(events, &["--keep-recorded-at"]), Exit::Done);
    scratch
}

// ------------------------------------------------------------------------------ exit codes

#[test]
fn a_report_on_a_missing_data_directory_is_exit_1_and_creates_nothing() {
    let commands: [&[&str]; 6] = [
        &["report", "ivo", "--quarter", "2023Q2"],
        &["report", "council", "--quarter", "2023Q2"],
        &["open-cases", "--on", "2023-06-30"],
        &["deadlines", "--from", "2023-01-01", "--to", "2023-12-31"],
        &["dossier", "d0000001-0000-4000-8000-000000000000"],
        &["rebuild"],
    ];
    for command in commands {
        let scratch = Scratch::new();
        let output = scratch.run(command);
        assert_exit(&output, Exit::Failed);
        assert_eq!(output.stdout, "", "{command:?}");
        assert!(
            output.stderr.contains("does not exist"),
            "{command:?}: {}",
            output.stderr
        );
        assert!(
            !scratch.data().exists(),
            "{command:?} created the data directory"
        );
    }
}

#[test]
fn a_bad_quarter_as_of_format_or_range_is_wrong_usage() {
    let scratch = with_history(&[granted(1, "2023-01-10", "2023-01-10T09:00:00Z")]);
    let bad: [&[&str]; 9] = [
        &["report", "ivo", "--quarter", "2023Q5"],
        &["report", "council", "--quarter", "23Q1"],
        &["report", "ivo", "--quarter", "2023-Q2"],
        &[
            "report",
            "ivo",
            "--quarter",
            "2023Q2",
            "--as-of",
            "2023-02-30",
        ],
        &[
            "report",
            "ivo",
            "--quarter",
            "2023Q2",
            "--as-of",
            "yesterday",
        ],
        &[
            "open-cases",
            "--on",
            "2023-06-30",
            "--as-of",
            "2023-06-30T25:00:00Z",
        ],
        &["report", "ivo", "--quarter", "2023Q2", "--format", "pdf"],
        &["open-cases", "--on", "2023-06-30", "--format", "xml"],
        &["deadlines", "--from", "2023-06-30", "--to", "2023-06-01"],
    ];
    for args in bad {
        let output = scratch.run(args);
        assert_exit(&output, Exit::Usage);
        assert_eq!(output.stdout, "", "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?} says nothing");
    }
    // The same commands, put right, work: the refusals were about the arguments.
    for args in [
        &[
            "report",
            "ivo",
            "--quarter",
            "2023Q2",
            "--as-of",
            "2023-02-28",
        ][..],
        &["open-cases", "--on", "2023-06-30", "--format", "md"],
        &["deadlines", "--from", "2023-06-01", "--to", "2023-06-30"],
    ] {
        assert_exit(&scratch.run(args), Exit::Done);
    }
}

#[test]
fn the_dossier_of_an_unknown_decision_is_exit_1_and_names_it() {
    let scratch = with_history(&[granted(1, "2023-01-10", "2023-01-10T09:00:00Z")]);
    let unknown = decision_id(2);
    let output = scratch.run(&["dossier", &unknown, "--on", "2023-06-30"]);
    assert_exit(&output, Exit::Failed);
    assert_eq!(output.stdout, "");
    assert!(output.stderr.contains(&unknown), "{}", output.stderr);

    // A decision not yet recorded at --as-of is unknown as of then.
    let known = decision_id(1);
    let output = scratch.run(&["dossier", &known, "--as-of", "2023-01-09"]);
    assert_exit(&output, Exit::Failed);
    assert!(output.stderr.contains(&known), "{}", output.stderr);
    assert_exit(
        &scratch.run(&["dossier", &known, "--as-of", "2023-01-10"]),
        Exit::Done,
    );
}

// ------------------------------------------------------------------------------ --as-of DATE

/// Decision 1 recorded at 23:30 Stockholm time on `day`, decision 2 at 00:30 the next day
/// (both decided on `day`): `--as-of DAY` knows the first only.
fn as_of_a_date_is_the_end_of_the_stockholm_day(
    day: &str,
    at_23_30: &str,
    at_00_30: &str,
    end_utc: &str,
) {
    let scratch = with_history(&[granted(1, day, at_23_30), granted(2, day, at_00_30)]);
    let ids = |report: &Value| -> Vec<String> {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["decision_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let report = run_json(&scratch, &["open-cases", "--on", day, "--as-of", day]);
    assert_eq!(report["as_of"], end_utc);
    assert_eq!(ids(&report), [decision_id(1)], "as of {day}");
    // The same moment written out: the date means exactly it.
    let explicit = run_json(&scratch, &["open-cases", "--on", day, "--as-of", end_utc]);
    assert_eq!(explicit, report);
    // The next day knows both.
    let next = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .succ_opt()
        .unwrap()
        .to_string();
    let later = run_json(&scratch, &["open-cases", "--on", day, "--as-of", &next]);
    assert_eq!(
        ids(&later),
        [decision_id(1), decision_id(2)],
        "as of {next}"
    );
}

#[test]
fn as_of_a_winter_date_is_the_end_of_that_day_in_stockholm_utc_plus_1() {
    as_of_a_date_is_the_end_of_the_stockholm_day(
        "2023-01-15",
        "2023-01-15T22:30:00Z",
        "2023-01-15T23:30:00Z",
        "2023-01-15T22:59:59.999999Z",
    );
}

#[test]
fn as_of_a_summer_date_is_the_end_of_that_day_in_stockholm_utc_plus_2() {
    as_of_a_date_is_the_end_of_the_stockholm_day(
        "2023-06-30",
        "2023-06-30T21:30:00Z",
        "2023-06-30T22:30:00Z",
        "2023-06-30T21:59:59.999999Z",
    );
}

// ------------------------------------------------------------------------------ as of T, forever

/// Every report command, as of `as_of`, in each of `formats`: `(command line, output)`.
fn every_report(
    scratch: &Scratch,
    as_of: &str,
    decisions: &[String],
    formats: &[&str],
) -> BTreeMap<String, String> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    for quarter in ["2023Q1", "2023Q2", "2023Q3", "2023Q4"] {
        commands.push(words(&format!("report ivo --quarter {quarter}")));
        commands.push(words(&format!("report council --quarter {quarter}")));
    }
    commands.push(words("open-cases --on 2023-06-30"));
    commands.push(words("deadlines --from 2023-01-01 --to 2023-12-31"));
    for decision in decisions {
        commands.push(words(&format!("dossier {decision} --on 2023-09-30")));
    }
    let mut out = BTreeMap::new();
    for command in commands {
        for format in formats {
            let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
            args.extend(["--as-of", as_of, "--format", format]);
            out.insert(args.join(" "), run_ok(scratch, &args));
        }
    }
    out
}

#[test]
fn a_report_as_of_a_moment_is_the_same_bytes_forever() {
    // Known by the submission of the Q2 report (2023-07-20): two decisions waiting, one
    // reported, a note on the second.
    let first = [
        granted(1, "2023-01-10", "2023-01-10T09:00:00Z"),
        granted(2, "2023-02-14", "2023-02-14T09:00:00Z"),
        recorded(
            EventType::NoteRecorded,
            2,
            2,
            "2023-04-03",
            "2023-04-03T09:00:00Z",
            None,
        ),
        recorded(
            EventType::ReportedToIvo,
            1,
            2,
            "2023-07-14",
            "2023-07-14T09:00:00Z",
            Some(json!({"kind": "new", "quarter": "2023Q2", "reference_date": "2023-04-10"})),
        ),
    ];
    let scratch = with_history(&first);
    let decisions = [decision_id(1), decision_id(2), decision_id(3)];
    let submitted = "2023-07-20";
    let before = every_report(&scratch, submitted, &decisions[..2], &FORMATS);
    assert_eq!(
        before,
        every_report(&scratch, submitted, &decisions[..2], &FORMATS),
        "asked twice"
    );
    let later_before = every_report(&scratch, AS_OF_EVERYTHING, &decisions[..2], &["json"]);

    // Learnt later: decision 1 had in fact been executed in May (late registration), the
    // note on decision 2 was recorded in error, and a third decision.
    let second = [
        recorded(
            EventType::Verkställd,
            1,
            3,
            "2023-05-22",
            "2023-08-30T12:00:00Z",
            Some(json!({})),
        ),
        recorded(
            EventType::EventRetracted,
            2,
            3,
            "2023-09-01",
            "2023-09-01T09:00:00Z",
            Some(json!({"event_id": event_id(2, 2), "reason": "Fel beslut."})),
        ),
        granted(3, "2023-03-01", "2023-09-05T09:00:00Z"),
    ];
    assert_exit(
        &scratch.import(&second, &["--keep-recorded-at"]),
        Exit::Done,
    );
    // And something recorded now, without an explicit recorded_at.
    let mut now = event(EventType::NoteRecorded, 3, 2, "2023-09-06");
    now["data"]["text"] = json!("Registrerad i dag.");
    assert_exit(&scratch.import(&[now], &[]), Exit::Done);

    let after = every_report(&scratch, submitted, &decisions[..2], &FORMATS);
    for (command, text) in &before {
        assert_eq!(
            &after[command], text,
            "`{command}` changed after later events were imported"
        );
    }
    // The later events do change what is known now: the test above could have failed.
    let later_after = every_report(&scratch, AS_OF_EVERYTHING, &decisions[..2], &["json"]);
    let changed: Vec<&String> = later_before
        .keys()
        .filter(|c| later_before[*c] != later_after[*c])
        .collect();
    assert!(
        changed
            .iter()
            .any(|c| c.starts_with("report ivo --quarter 2023Q2 "))
            && changed
                .iter()
                .any(|c| c.starts_with("report council --quarter 2023Q2 "))
            && changed
                .iter()
                .any(|c| c.starts_with(&format!("dossier {}", decisions[1]))),
        "{changed:?}"
    );
    // Decision 3 did not exist as of the submission.
    let output = scratch.run(&["dossier", &decisions[2], "--as-of", submitted]);
    assert_exit(&output, Exit::Failed);
}

// ------------------------------------------------------------------------------ rebuild

/// Every report of the demo's history in JSON: each quarter's worklist and statistics, open
/// cases and deadlines on several dates, and a sample of dossiers.
fn every_json_report(
    scratch: &Scratch,
    quarters: &[Quarter],
    decisions: &[String],
) -> BTreeMap<String, String> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let words = |s: String| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    for quarter in quarters {
        commands.push(words(format!("report ivo --quarter {quarter}")));
        commands.push(words(format!("report council --quarter {quarter}")));
        commands.push(words(format!("open-cases --on {}", quarter.end())));
        commands.push(words(format!(
            "deadlines --from {} --to {}",
            quarter.start(),
            quarter.end()
        )));
    }
    for decision in decisions {
        commands.push(words(format!("dossier {decision}")));
    }
    commands
        .into_iter()
        .map(|command| {
            let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
            args.extend(["--as-of", AS_OF_EVERYTHING, "--format", "json"]);
            (args.join(" "), run_ok(scratch, &args))
        })
        .collect()
}

/// The data directory's projections snapshot.
const SNAPSHOT_FILE: &str = "projections.snapshot";

#[test]
fn rebuild_and_a_lost_snapshot_change_no_report() {
    let scratch = Scratch::new();
    run_ok(&scratch, &["demo", "--decisions", "150", "--seed", "11"]);
    let demo = Demo::read(&scratch);
    let quarters = demo.past_quarters();
    let sample: Vec<String> = demo.decisions.iter().step_by(15).cloned().collect();
    let before = every_json_report(&scratch, &quarters, &sample);
    assert!(
        before.values().any(|r| r.contains("\"title\"")),
        "the demo gives worklists with items"
    );

    let snapshot = scratch.data().join(SNAPSHOT_FILE);
    assert!(snapshot.is_file(), "the demo leaves a snapshot");
    std::fs::remove_file(&snapshot).unwrap();
    let without = every_json_report(&scratch, &quarters, &sample);
    assert_eq!(without, before, "reports after losing the snapshot");

    let output = run_ok(&scratch, &["rebuild"]);
    assert!(
        output.starts_with("rebuilt the projections from "),
        "{output}"
    );
    assert!(snapshot.is_file(), "rebuild saves a snapshot");
    let rebuilt = every_json_report(&scratch, &quarters, &sample);
    assert_eq!(rebuilt, before, "reports after rebuild");
}

// ------------------------------------------------------------------------------ demo

/// What the demo wrote: every decision, and each one's person.
struct Demo {
    /// Decision ids, in log order.
    decisions: Vec<String>,
    /// Decision id → (identity number, protected).
    persons: BTreeMap<String, (String, bool)>,
    /// The log, as `verkstall events` prints it.
    log: Vec<String>,
}

impl Demo {
    fn read(scratch: &Scratch) -> Demo {
        let log = scratch.events(&[]);
        let mut decisions = Vec::new();
        let mut persons = BTreeMap::new();
        for line in &log {
            let e: Value = serde_json::from_str(line).unwrap();
            if e["type"] == "DecisionGranted" {
                let id = e["decision_id"].as_str().unwrap().to_owned();
                let person = &e["data"]["person"];
                persons.insert(
                    id.clone(),
                    (
                        person["id"].as_str().unwrap().to_owned(),
                        person["protected"].as_bool().unwrap_or(false),
                    ),
                );
                decisions.push(id);
            }
        }
        Demo {
            decisions,
            persons,
            log,
        }
    }

    /// The four quarters of last year: complete, and inside the demo's history (which starts
    /// years before this one).
    fn past_quarters(&self) -> Vec<Quarter> {
        let year = Utc::now().year() - 1;
        (1..=4).map(|n| Quarter::new(year, n).unwrap()).collect()
    }

    /// The identity numbers in `text`, with the decision each belongs to.
    fn identities_in<'a>(&'a self, text: &str) -> Vec<(&'a str, &'a str)> {
        self.persons
            .iter()
            .filter(|(_, (id, _))| text.contains(id.as_str()))
            .map(|(decision, (id, _))| (decision.as_str(), id.as_str()))
            .collect()
    }
}

#[test]
fn demo_fills_a_fresh_directory_once_and_then_refuses_writing_nothing() {
    let scratch = Scratch::new();
    let output = scratch.run(&["demo", "--decisions", "120", "--seed", "5"]);
    assert_exit(&output, Exit::Done);
    assert!(
        output.stdout.starts_with("demo municipality (seed 5): "),
        "{}",
        output.stdout
    );
    let demo = Demo::read(&scratch);
    assert_eq!(demo.decisions.len(), 120);
    let snapshot = std::fs::read(scratch.data().join(SNAPSHOT_FILE)).unwrap();

    let again = scratch.run(&["demo", "--decisions", "120", "--seed", "6"]);
    assert_exit(&again, Exit::Refused);
    assert_eq!(again.stdout, "");
    assert!(
        again.stderr.contains("new data directory"),
        "{}",
        again.stderr
    );
    assert_eq!(scratch.events(&[]), demo.log, "the log is unchanged");
    assert_eq!(
        std::fs::read(scratch.data().join(SNAPSHOT_FILE)).unwrap(),
        snapshot,
        "the snapshot is unchanged"
    );
}

/// The short form of each insats code, as spec §4's table writes it.
fn short_form(insats: &str) -> &'static str {
    match insats {
        "lss_9_2" => "9§2",
        "lss_9_3" => "9§3",
        "lss_9_4" => "9§4",
        "lss_9_5" => "9§5",
        "lss_9_6" => "9§6",
        "lss_9_7" => "9§7",
        "lss_9_8" => "9§8",
        "lss_9_9" => "9§9",
        "lss_9_10" => "9§10",
        "sol_sarskilt_boende" => "SoL särskilt boende",
        "sol_bostad_sarskild_service" => "SoL bostad med särskild service",
        "sol_hemtjanst" => "SoL hemtjänst",
        "sol_boendestod" => "SoL boendestöd",
        "sol_kontaktperson" => "SoL kontaktperson",
        "sol_kontaktfamilj" => "SoL kontaktfamilj",
        "sol_korttidsvistelse" => "SoL korttidsvistelse",
        "sol_dagverksamhet" => "SoL dagverksamhet",
        "sol_familjehem" => "SoL familjehem",
        "sol_hvb" => "SoL HVB",
        "sol_oppenvard" => "SoL öppenvård",
        "sol_ledsagning" => "SoL ledsagning",
        "sol_avlosning" => "SoL avlösning",
        "sol_sysselsattning" => "SoL sysselsättning",
        "sol_ovrigt" => "SoL övrigt bistånd",
        other => panic!("{other} is not an insats code of spec §4"),
    }
}

/// The title spec §6 gives `item`, built from the item's own fields.
fn title_of(item: &Value) -> String {
    let field = |name: &str| {
        item[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {item}"))
    };
    let short = short_form(field("insats"));
    let r = field("reference_date");
    match field("kind") {
        "new" if item["forhandsbesked"] == true => {
            format!("IVO - Nyrapportering {r}, Förhandsbesked, {short}")
        }
        "new" => format!("IVO - Nyrapportering {r}, {short}"),
        "new_interruption" => format!("IVO - Nyrapportering avbrott {r}, {short}"),
        "follow_up" => format!("IVO - Återrapportering {r}, {short}"),
        "final" => match field("status") {
            "executed" => format!(
                "IVO - Slutrapportering, verkställt {}, {short}",
                field("executed_on")
            ),
            "ended" => format!(
                "IVO - Slutrapportering, avslutat {}, {short}",
                field("ended_on")
            ),
            other => panic!("a final item with status {other}: {item}"),
        },
        other => panic!("kind {other}: {item}"),
    }
}

/// A title's shape alone, whatever the item says: `IVO - ` then one of the five forms of spec
/// §6, a real date, and a short form of §4.
fn title_has_the_grammar_of_section_6(title: &str) -> bool {
    let Some(rest) = title.strip_prefix("IVO - ") else {
        return false;
    };
    let rest = [
        "Nyrapportering avbrott ",
        "Nyrapportering ",
        "Återrapportering ",
        "Slutrapportering, verkställt ",
        "Slutrapportering, avslutat ",
    ]
    .iter()
    .find_map(|form| rest.strip_prefix(form));
    let Some((date, rest)) = rest.and_then(|r| r.split_once(", ")) else {
        return false;
    };
    let short = rest.strip_prefix("Förhandsbesked, ").unwrap_or(rest);
    let forhandsbesked_only_when_new = rest == short || title.starts_with("IVO - Nyrapportering 2");
    NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
        && forhandsbesked_only_when_new
        && domain::Insats::ALL
            .iter()
            .any(|i| short_form(i.code()) == short)
}

#[test]
fn demo_worklists_have_titles_of_the_grammar_and_no_identity_appears_where_it_must_not() {
    let scratch = Scratch::new();
    run_ok(&scratch, &["demo", "--decisions", "300", "--seed", "7"]);
    let demo = Demo::read(&scratch);
    let quarters = demo.past_quarters();

    // Titles: every item of last year's four worklists.
    let mut items = 0;
    let mut forms = std::collections::BTreeSet::new();
    for quarter in &quarters {
        let report = run_json(
            &scratch,
            &[
                "report",
                "ivo",
                "--quarter",
                &quarter.to_string(),
                "--as-of",
                AS_OF_EVERYTHING,
            ],
        );
        for item in report["items"].as_array().unwrap() {
            items += 1;
            let title = item["title"].as_str().unwrap();
            assert!(title_has_the_grammar_of_section_6(title), "{title}");
            assert_eq!(title, title_of(item), "{item}");
            forms.insert(item["kind"].as_str().unwrap().to_owned());
        }
    }
    assert!(items > 0, "last year's worklists are empty");
    assert!(forms.len() >= 3, "the demo reaches only {forms:?}");

    // Identity: none in the worklists, the council's statistics, open cases or deadlines, in
    // any format; the council's shows no decision id either.
    for quarter in &quarters[1..3] {
        let commands = [
            format!("report ivo --quarter {quarter}"),
            format!("report council --quarter {quarter}"),
            format!("open-cases --on {}", quarter.end()),
        ];
        for command in &commands {
            for format in FORMATS {
                let mut args: Vec<&str> = command.split_whitespace().collect();
                args.extend(["--as-of", AS_OF_EVERYTHING, "--format", format]);
                let text = run_ok(&scratch, &args);
                assert_eq!(demo.identities_in(&text), [], "{args:?}");
                if args[1] == "council" {
                    let leaked: Vec<&String> = demo
                        .decisions
                        .iter()
                        .filter(|d| text.contains(d.as_str()))
                        .collect();
                    assert!(leaked.is_empty(), "{args:?} shows decision ids {leaked:?}");
                }
            }
        }
    }
    let year = quarters[0].year();
    for format in FORMATS {
        let text = run_ok(
            &scratch,
            &[
                "deadlines",
                "--from",
                &format!("{year}-01-01"),
                "--to",
                &format!("{year}-12-31"),
                "--as-of",
                AS_OF_EVERYTHING,
                "--format",
                format,
            ],
        );
        assert_eq!(demo.identities_in(&text), [], "deadlines --format {format}");
    }

    // Dossiers: a protected person's number never; an unprotected person's only their own.
    let protected: Vec<&String> = demo
        .persons
        .iter()
        .filter(|(_, (_, p))| *p)
        .map(|(d, _)| d)
        .collect();
    let unprotected: Vec<&String> = demo
        .persons
        .iter()
        .filter(|(_, (_, p))| !*p)
        .map(|(d, _)| d)
        .collect();
    assert!(!protected.is_empty(), "the demo has protected persons");
    for decision in protected.iter().take(4).chain(unprotected.iter().take(2)) {
        for format in FORMATS {
            let args = [
                "dossier",
                decision.as_str(),
                "--as-of",
                AS_OF_EVERYTHING,
                "--format",
                format,
            ];
            let text = run_ok(&scratch, &args);
            let (own, is_protected) = &demo.persons[decision.as_str()];
            for (whose, id) in demo.identities_in(&text) {
                assert!(
                    whose == decision.as_str() && !is_protected,
                    "{args:?} shows the identity number of decision {whose}'s person"
                );
                assert_eq!(id, own);
            }
        }
    }
}
