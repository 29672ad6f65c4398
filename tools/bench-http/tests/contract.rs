//! The machine-readable contract issue 7's comparison builds on: with `--json`, standard output
//! is exactly one JSON object with these names, and a clean run exits 0. Runs the real binary
//! end to end (a small demo, its own server as a child process, a one-second load).

use std::process::Command;

const FIELDS: [&str; 10] = [
    "appends_per_s",
    "reads_per_s",
    "requests_per_s",
    "p50_ms",
    "p99_ms",
    "append_p50_ms",
    "append_p99_ms",
    "read_p50_ms",
    "read_p99_ms",
    "errors",
];

#[test]
fn json_mode_prints_one_object_with_the_contract_fields() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_bench-http"))
        .args(["--decisions", "40", "--warmup", "0", "--requests", "300"])
        .args(["--connections", "4", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .expect("bench-http runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let object = value.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = FIELDS;
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(object["errors"], 0);
    for field in FIELDS.iter().filter(|f| **f != "errors") {
        let figure = object[*field].as_f64().expect("a number");
        assert!(figure > 0.0, "{field} = {figure}");
    }
    let rate = |f: &str| object[f].as_f64().expect("a number");
    let sum = rate("appends_per_s") + rate("reads_per_s");
    assert!(
        (sum - rate("requests_per_s")).abs() < 1e-6 * sum.max(1.0),
        "{value}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("readable").count(),
        0,
        "the demo data directory is removed"
    );
}
