//! `events-schema/` and the Rust types never disagree.
//!
//! The schemas and examples are generated from the code (`domain::schema`); this test fails when
//! the committed files differ (`VERKSTALL_BLESS=1` rewrites them on purpose), and it checks that
//! the schemas and the parser accept the same examples and refuse the same broken variants.

use std::fs;

use domain::{EventType, NewEvent};
use serde_json::{Value, json};
use verkstall_tests::{blessing, workspace_root};

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    text
}

/// Compares a committed file with what the code generates (or rewrites it when blessing).
fn check_file(relative: &str, expected: &str) {
    let path = workspace_root().join(relative);
    if blessing() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, expected).unwrap();
        return;
    }
    let actual = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{relative} differs from what the code generates; run `VERKSTALL_BLESS=1 cargo test -p verkstall-tests schema` and review the diff"
    );
}

fn validator(event_type: EventType) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&domain::schema::event_schema(event_type))
        .unwrap()
}

#[test]
fn committed_schemas_and_examples_are_the_generated_ones() {
    for &event_type in EventType::ALL {
        let name = event_type.as_str();
        check_file(
            &format!("events-schema/{name}.schema.json"),
            &pretty(&domain::schema::event_schema(event_type)),
        );
        check_file(
            &format!("events-schema/examples/{name}.json"),
            &pretty(&domain::schema::example(event_type)),
        );
    }
    let listed: Vec<String> = fs::read_dir(workspace_root().join("events-schema"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    assert_eq!(
        listed.len(),
        EventType::ALL.len(),
        "a schema file without an event type: {listed:?}"
    );
}

#[test]
fn every_example_is_valid_for_both_schema_and_parser() {
    for &event_type in EventType::ALL {
        let example = domain::schema::example(event_type);
        assert!(
            validator(event_type).is_valid(&example),
            "{event_type}: schema refuses its example"
        );
        NewEvent::from_json(&example.to_string()).unwrap();
        // Each example is valid for its own type only.
        for &other in EventType::ALL.iter().filter(|&&t| t != event_type) {
            assert!(
                !validator(other).is_valid(&example),
                "{other}'s schema accepts a {event_type}"
            );
        }
    }
}

/// Broken variants of an example: each must be refused by the schema and by the parser alike.
fn broken_variants(example: &Value) -> Vec<(String, Value)> {
    let mut variants = Vec::new();
    let mut push = |what: String, value: Value| variants.push((what, value));
    let mut extra = example.clone();
    extra["colour"] = json!("red");
    push("unknown top-level field".into(), extra);
    let mut extra = example.clone();
    extra["data"]["colour"] = json!("red");
    push("unknown data field".into(), extra);
    for field in ["type", "decision_id", "occurred_on", "data"] {
        let mut missing = example.clone();
        missing.as_object_mut().unwrap().remove(field);
        push(format!("without {field}"), missing);
    }
    for (field, value) in example["data"].as_object().unwrap() {
        let mut wrong = example.clone();
        let replacement = match value {
            Value::Bool(_) | Value::Number(_) | Value::Object(_) => json!("text"),
            _ => json!(12.5),
        };
        wrong["data"][field] = replacement;
        push(format!("data.{field} of the wrong JSON type"), wrong);
    }
    for date in ["2023-02-30", "2023-2-3", "20230203"] {
        let mut bad = example.clone();
        bad["occurred_on"] = json!(date);
        push(format!("occurred_on {date}"), bad);
    }
    let mut bad = example.clone();
    bad["decision_id"] = json!("not-a-uuid");
    push("decision_id not a UUID".into(), bad);
    let mut bad = example.clone();
    bad["actor"] = json!("");
    push("empty actor".into(), bad);
    variants
}

#[test]
fn schema_and_parser_refuse_the_same_broken_events() {
    for &event_type in EventType::ALL {
        let validator = validator(event_type);
        let example = domain::schema::example(event_type);
        for (what, value) in broken_variants(&example) {
            let schema_ok = validator.is_valid(&value);
            let parser_ok = NewEvent::from_json(&value.to_string()).is_ok();
            assert!(!schema_ok, "{event_type} {what}: the schema accepts it");
            assert!(!parser_ok, "{event_type} {what}: the parser accepts it");
        }
    }
}

#[test]
fn every_required_data_field_is_required_by_both() {
    for &event_type in EventType::ALL {
        let schema = domain::schema::event_schema(event_type);
        let required: Vec<&str> = schema["properties"]["data"]["required"]
            .as_array()
            .map(|r| r.iter().map(|f| f.as_str().unwrap()).collect())
            .unwrap_or_default();
        let example = domain::schema::example(event_type);
        for (field, _) in example["data"].as_object().unwrap() {
            let mut without = example.clone();
            without["data"].as_object_mut().unwrap().remove(field);
            let schema_ok = validator(event_type).is_valid(&without);
            let parser_ok = NewEvent::from_json(&without.to_string()).is_ok();
            assert_eq!(
                schema_ok, parser_ok,
                "{event_type} without data.{field}: schema {schema_ok}, parser {parser_ok}"
            );
            assert_eq!(
                !schema_ok,
                required.contains(&field.as_str()),
                "{event_type} data.{field}"
            );
        }
    }
}
