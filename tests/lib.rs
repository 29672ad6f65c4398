//! Helpers for verkstall's black-box tests (`it/`): run the command line in-process, find the
//! workspace, bless golden files on purpose.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use verkstall::Exit;

/// What a command line run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// The exit code.
    pub exit: Exit,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `verkstall ARGS…` in-process, exactly as the binary would, with empty standard input.
pub fn verkstall(args: &[&str]) -> Output {
    verkstall_with_input(args, b"")
}

/// Runs `verkstall ARGS…` in-process with `input` as standard input (`verkstall import -`).
/// Standard error is not a terminal here: no progress is drawn.
pub fn verkstall_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut stdin = input;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let argv = std::iter::once("verkstall").chain(args.iter().copied());
    let exit = verkstall::run(
        argv,
        verkstall::Console {
            input: &mut stdin,
            out: &mut stdout,
            err: &mut stderr,
            progress: false,
        },
    );
    Output {
        exit,
        stdout: String::from_utf8(stdout).expect("verkstall writes UTF-8"),
        stderr: String::from_utf8(stderr).expect("verkstall writes UTF-8"),
    }
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// Whether golden files may be rewritten: set `VERKSTALL_BLESS=1` to accept new output on purpose.
pub fn blessing() -> bool {
    std::env::var_os("VERKSTALL_BLESS").is_some_and(|v| v == "1")
}

/// Event fixtures for the command-line tests: lines built from the schema's examples
/// (`domain::schema::example`), with the ids and dates a test needs.
pub mod fixtures {
    use domain::EventType;
    use serde_json::{Value, json};

    /// The identity number in the schema's example of `DecisionGranted`: it must never appear
    /// in any message.
    pub const EXAMPLE_PERSON: &str = "19121212-1212";

    /// The id of test decision `n` (a valid UUID v4 that does not look like an identity number).
    pub fn decision_id(n: u32) -> String {
        format!("d{n:07x}-0000-4000-8000-000000000000")
    }

    /// The id of event `k` of test decision `n`.
    pub fn event_id(n: u32, k: u32) -> String {
        format!("e{n:07x}-{k:04x}-4000-8000-000000000000")
    }

    /// The schema's example of `event_type`, for decision `n`, as its event `k`, on `occurred_on`.
    pub fn event(event_type: EventType, n: u32, k: u32, occurred_on: &str) -> Value {
        let mut event = domain::schema::example(event_type);
        event["decision_id"] = json!(decision_id(n));
        event["event_id"] = json!(event_id(n, k));
        event["occurred_on"] = json!(occurred_on);
        event
    }

    /// A whole, valid history of decision `n`: granted, ordered, a contact, a delay reason,
    /// fully executed, interrupted, ended — seven events that obey every rule of spec §6.
    pub fn history(n: u32) -> Vec<Value> {
        let mut executed = event(EventType::Verkställd, n, 5, "2023-09-11");
        executed["data"] = json!({});
        vec![
            event(EventType::DecisionGranted, n, 1, "2022-12-08"),
            event(EventType::OrderSent, n, 2, "2022-12-09"),
            event(EventType::NoteRecorded, n, 3, "2023-02-20"),
            event(EventType::DelayReasonRecorded, n, 4, "2023-03-01"),
            executed,
            event(EventType::Interrupted, n, 6, "2024-01-15"),
            event(EventType::Avslutad, n, 7, "2024-05-31"),
        ]
    }

    /// The histories of decisions `1..=decisions`, interleaved event by event, as a log would
    /// hold them.
    pub fn interleaved(decisions: u32) -> Vec<Value> {
        let histories: Vec<Vec<Value>> = (1..=decisions).map(history).collect();
        let longest = histories.iter().map(Vec::len).max().unwrap_or(0);
        (0..longest)
            .flat_map(|k| histories.iter().filter_map(move |h| h.get(k).cloned()))
            .collect()
    }

    /// Events as JSON Lines.
    pub fn jsonl(events: &[Value]) -> String {
        events.iter().map(|e| format!("{e}\n")).collect()
    }
}

/// A scratch data directory (not created until a command creates it) in a fresh temporary
/// directory, with files beside it; removed when dropped.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch::new()
    }
}

impl Scratch {
    /// A fresh temporary directory.
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The data directory's path.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Writes `text` to a file `name` beside the data directory and returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("writing a test file");
        path.to_str().expect("temporary paths are UTF-8").to_owned()
    }

    /// Runs `verkstall --data DATA ARGS…`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, b"")
    }

    /// Runs `verkstall --data DATA ARGS…` with `input` as standard input.
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        let data = self.data();
        let data = data.to_str().expect("temporary paths are UTF-8");
        let argv: Vec<&str> = ["--data", data]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        verkstall_with_input(&argv, input)
    }

    /// Writes `events` to a new file and runs `verkstall import FILE ARGS…` on it.
    pub fn import(&self, events: &[serde_json::Value], args: &[&str]) -> Output {
        let name = format!("import-{}.jsonl", NEXT_FILE.fetch_add(1, Ordering::Relaxed));
        let file = self.file(&name, &fixtures::jsonl(events));
        let argv: Vec<&str> = ["import", file.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        self.run(&argv)
    }

    /// `verkstall events ARGS…`, which must succeed: its lines.
    pub fn events(&self, args: &[&str]) -> Vec<String> {
        let argv: Vec<&str> = std::iter::once("events")
            .chain(args.iter().copied())
            .collect();
        let output = self.run(&argv);
        assert_eq!(output.exit, Exit::Done, "{}", output.stderr);
        output.stdout.lines().map(str::to_owned).collect()
    }
}

/// Numbers the files `Scratch::import` writes.
static NEXT_FILE: AtomicU64 = AtomicU64::new(0);
