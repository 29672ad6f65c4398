//! `verkstall calendar`: the shape of spec §8 and the days themselves.

use serde_json::Value;
use verkstall_tests::{Exit, verkstall};

#[test]
fn calendar_2024_as_json_has_the_shape_of_spec_section_8() {
    let output = verkstall(&["calendar", "--year", "2024", "--format", "json"]);
    assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
    let json: Value = serde_json::from_str(&output.stdout).unwrap();
    let object = json.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["non_working_days", "year"]
    );
    assert_eq!(json["year"], 2024);
    let days = json["non_working_days"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = days
        .iter()
        .map(|d| {
            assert_eq!(d.as_object().unwrap().len(), 2, "{d}");
            (d["date"].as_str().unwrap(), d["name"].as_str().unwrap())
        })
        .collect();
    // 2024, written out by hand: the weekdays that are not working days.
    assert_eq!(
        pairs,
        [
            ("2024-01-01", "Nyårsdagen"),
            ("2024-03-29", "Långfredagen"),
            ("2024-04-01", "Annandag påsk"),
            ("2024-05-01", "Första maj"),
            ("2024-05-09", "Kristi himmelsfärdsdag"),
            ("2024-06-06", "Sveriges nationaldag"),
            ("2024-06-21", "Midsommarafton"),
            ("2024-12-24", "Julafton"),
            ("2024-12-25", "Juldagen"),
            ("2024-12-26", "Annandag jul"),
            ("2024-12-31", "Nyårsafton"),
        ]
    );
}

#[test]
fn calendar_defaults_to_json_and_renders_for_people() {
    let json = verkstall(&["calendar", "--year", "2025"]);
    assert_eq!(json.exit, Exit::Done);
    assert!(serde_json::from_str::<Value>(&json.stdout).is_ok());
    let md = verkstall(&[
        "--data",
        "/nonexistent",
        "calendar",
        "--year",
        "2025",
        "--format",
        "md",
    ]);
    assert_eq!(md.exit, Exit::Done, "{}", md.stderr);
    assert!(
        md.stdout
            .contains("| 2025-06-06 | fredag | Sveriges nationaldag |"),
        "{}",
        md.stdout
    );
    let csv = verkstall(&["calendar", "--year", "2008", "--format", "csv"]);
    assert!(
        csv.stdout
            .contains("2008-05-01,torsdag,\"Första maj, Kristi himmelsfärdsdag\"\n"),
        "{}",
        csv.stdout
    );
    let html = verkstall(&["calendar", "--year", "2025", "--format", "html"]);
    assert!(html.stdout.contains("<td>Julafton</td>"), "{}", html.stdout);
}

#[test]
fn calendar_refuses_years_outside_its_range_and_bad_usage() {
    let output = verkstall(&["calendar", "--year", "1899"]);
    assert_eq!(output.exit, Exit::Usage);
    assert!(
        output.stderr.contains("--year") && output.stderr.contains("1900"),
        "{}",
        output.stderr
    );
    assert_eq!(verkstall(&["calendar"]).exit, Exit::Usage);
    assert_eq!(
        verkstall(&["calendar", "--year", "2024", "--format", "pdf"]).exit,
        Exit::Usage
    );
    assert_eq!(verkstall(&["no-such-command"]).exit, Exit::Usage);
    assert_eq!(verkstall(&["--help"]).exit, Exit::Done);
}
