//! Crash tests: this test binary re-runs itself as a child (`crash::child`), which commits
//! numbered batches and prints each acknowledgement; the parent SIGKILLs it at a random moment,
//! reopens the store and checks that every acknowledged batch is there, whole, with no gap, and
//! at most one batch more (the one in flight). The next round's child continues from there.
//! The seed is printed; `KV_CRASH_SEED` replays the choice of moments (not the kernel's timing).

use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Bound;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use kv::{Batch, EngineKind, KvEngine, Table};

use crate::common::{Rng, SPAWN_GATE, chain, open, seed};

/// The environment variables that make `crash::child` run, and tell it where and on what.
const CHILD_DIR_VAR: &str = "KV_CRASH_CHILD_DIR";
const CHILD_ENGINE_VAR: &str = "KV_CRASH_CHILD_ENGINE";
/// Marks the child's protocol lines among libtest's own output.
const LINE_PREFIX: &str = "KVCRASH";

/// Kill-and-recover rounds per engine.
const ROUNDS: usize = 20;
/// Most acknowledgements the parent waits for before it kills the child.
const ACKS_PER_ROUND_MAX: u64 = 40;
/// Longest random pause before the kill, in microseconds.
const KILL_DELAY_MICROS_MAX: u64 = 3_000;
/// Longest pause before killing a child that is still starting, in microseconds.
const EARLY_KILL_DELAY_MICROS_MAX: u64 = 40_000;
/// Hang guard, not a timing assertion: a child silent this long has hung.
const CHILD_SILENCE_SECONDS_MAX: u64 = 120;
/// The child stops by itself after this many commits, should it outlive its parent.
const CHILD_COMMITS_MAX: u64 = 100_000;
/// Every this-many batches carries a value large enough for sled to write it as a blob file.
const LARGE_VALUE_EVERY: u64 = 23;
/// Size of those values, in bytes (sled's blob threshold is about 128 KiB).
const LARGE_VALUE_BYTES: usize = 160 * 1024;

const EVENTS: Table = Table::new("events");
const MIRROR: Table = Table::new("mirror");
const HEADS: Table = Table::new("heads");
const HEAD_KEY: &[u8] = b"head";

/// The value batch `n` stores: deterministic, so the parent can check every byte.
fn value_of(n: u64) -> Vec<u8> {
    let len = if n.is_multiple_of(LARGE_VALUE_EVERY) {
        LARGE_VALUE_BYTES
    } else {
        8 + (n % 50) as usize
    };
    let mut value = n.to_be_bytes().repeat(len.div_ceil(8));
    value.truncate(len);
    value
}

/// The child: run only by the crash tests, which set [`CHILD_DIR_VAR`].
#[test]
#[ignore = "the crash tests run it as their child process"]
fn child() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return;
    };
    let kind: EngineKind = std::env::var(CHILD_ENGINE_VAR)
        .expect("engine variable")
        .parse()
        .expect("engine name");
    let engine = open(kind, Path::new(&dir));
    let start = engine
        .last(EVENTS)
        .unwrap()
        .map_or(0, |(key, _)| number(&key));
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| {
        // The parent is gone if this fails: stop quietly.
        if writeln!(out, "{LINE_PREFIX} {line}")
            .and_then(|()| out.flush())
            .is_err()
        {
            std::process::exit(0);
        }
    };
    say(format!("start {start}"));
    for n in start + 1..=start + CHILD_COMMITS_MAX {
        let mut batch = Batch::new();
        batch
            .put(EVENTS, n.to_be_bytes(), value_of(n))
            .put(MIRROR, n.to_be_bytes(), value_of(n))
            .put(HEADS, HEAD_KEY, n.to_be_bytes());
        engine
            .commit(batch)
            .unwrap_or_else(|error| panic!("commit {n}: {}", chain(&error)));
        say(format!("ack {n}"));
    }
}

fn number(key: &[u8]) -> u64 {
    u64::from_be_bytes(key.try_into().expect("an 8-byte key"))
}

/// Reads the whole store after a crash and returns its last batch number, checking that
/// batches `1..=last` are all there, whole, and nothing else.
fn verify(kind: EngineKind, dir: &Path, context: &str) -> u64 {
    let engine = open(kind, dir);
    let events = read_numbered(&*engine, EVENTS, context);
    let mirror = read_numbered(&*engine, MIRROR, context);
    assert_eq!(events, mirror, "{context}: tables events and mirror differ");
    let last = events;
    let head = engine
        .get(HEADS, HEAD_KEY)
        .unwrap()
        .map(|value| number(&value));
    assert_eq!(head, (last > 0).then_some(last), "{context}: heads/head");
    last
}

/// Pages through `table`, asserting its keys are exactly `1..=n` with their values; returns `n`.
fn read_numbered(engine: &dyn KvEngine, table: Table, context: &str) -> u64 {
    let mut expected = 1_u64;
    let mut from: Option<Vec<u8>> = None;
    loop {
        let low = from.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let page = engine.scan(table, low, Bound::Unbounded, 256).unwrap();
        let Some((last_key, _)) = page.last() else {
            return expected - 1;
        };
        from = Some(last_key.clone());
        for (key, value) in page {
            let n = number(&key);
            assert_eq!(
                n, expected,
                "{context}: table {table} has a gap or a stray key"
            );
            assert!(
                value == value_of(n),
                "{context}: table {table} key {n} has a wrong value"
            );
            expected += 1;
        }
    }
}

/// What the parent learned from one child's output.
struct Protocol {
    start: Option<u64>,
    acked: u64,
}

impl Protocol {
    /// Applies one line of the child's output. Lines without [`LINE_PREFIX`] are libtest's, and
    /// libtest prints `test crash::child ... ` without a newline just before the child's first
    /// line, so the prefix is searched for, not expected at the start.
    fn read(&mut self, line: &str, context: &str) {
        let Some(at) = line.find(LINE_PREFIX) else {
            return;
        };
        let rest = &line[at + LINE_PREFIX.len()..];
        let words: Vec<&str> = rest.split_whitespace().collect();
        match words.as_slice() {
            ["start", n] => {
                let n: u64 = n.parse().expect("start number");
                assert_eq!(
                    n, self.acked,
                    "{context}: the child did not continue from the last batch on disk"
                );
                self.start = Some(n);
            }
            ["ack", n] => {
                let n: u64 = n.parse().expect("ack number");
                assert!(
                    self.start.is_some(),
                    "{context}: acknowledgement before start"
                );
                assert_eq!(
                    n,
                    self.acked + 1,
                    "{context}: acknowledgements out of order"
                );
                self.acked = n;
            }
            _ => panic!("{context}: unreadable line {line:?}"),
        }
    }
}

fn spawn_child(
    kind: EngineKind,
    dir: &Path,
) -> (Child, Receiver<String>, std::thread::JoinHandle<String>) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let gate = SPAWN_GATE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut child = Command::new(exe)
        .args([
            "crash::child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR_VAR, dir)
        .env(CHILD_ENGINE_VAR, kind.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    drop(gate);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _partial_is_fine = stderr.read_to_string(&mut text);
        text
    });
    (child, lines, errors)
}

/// `ROUNDS` rounds of: start the child, let it acknowledge a random number of batches, kill it at
/// a random moment, verify.
pub fn acknowledged_batches_survive_sigkill(kind: EngineKind) {
    let seed = seed("KV_CRASH_SEED");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut on_disk = 0_u64;
    for round in 0..ROUNDS {
        let context = format!("{kind} round {round} (replay with KV_CRASH_SEED={seed})");
        // One round in five kills the child while it may still be opening or recovering.
        let early = rng.below(5) == 0;
        let acks_wanted = if early {
            0
        } else {
            1 + rng.below(ACKS_PER_ROUND_MAX)
        };
        let delay = if early {
            rng.below(EARLY_KILL_DELAY_MICROS_MAX)
        } else {
            rng.below(KILL_DELAY_MICROS_MAX)
        };

        let (mut child, lines, errors) = spawn_child(kind, dir.path());
        let mut protocol = Protocol {
            start: None,
            acked: on_disk,
        };
        while protocol.start.is_none() || protocol.acked < on_disk + acks_wanted {
            if early {
                break;
            }
            match lines.recv_timeout(Duration::from_secs(CHILD_SILENCE_SECONDS_MAX)) {
                Ok(line) => protocol.read(&line, &context),
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!("{context}: the child fell silent");
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait for the child");
                    let errors = errors.join().unwrap_or_default();
                    panic!("{context}: the child ended by itself ({status}):\n{errors}");
                }
            }
        }
        std::thread::sleep(Duration::from_micros(delay));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("wait for the child");
        // Acknowledgements written before the kill are still in the pipe.
        for line in lines.iter() {
            protocol.read(&line, &context);
        }
        let errors = errors.join().unwrap_or_default();
        if errors.contains("panicked") {
            panic!("{context}: the child panicked:\n{errors}");
        }

        let last = verify(kind, dir.path(), &context);
        assert!(
            last >= protocol.acked,
            "{context}: batch {} was acknowledged but the store ends at {last}",
            protocol.acked
        );
        // The child commits one batch at a time and acknowledges each before the next, so at
        // most one unacknowledged batch can have reached the disk.
        assert!(
            last <= protocol.acked + 1,
            "{context}: the store ends at {last}, past the batch in flight after {}",
            protocol.acked
        );
        on_disk = last;
    }
    println!("{kind}: {on_disk} batches after {ROUNDS} kills");
}

#[test]
fn redb_acknowledged_batches_survive_sigkill() {
    acknowledged_batches_survive_sigkill(EngineKind::Redb);
}

#[cfg(feature = "sled")]
#[test]
fn sled_acknowledged_batches_survive_sigkill() {
    acknowledged_batches_survive_sigkill(EngineKind::Sled);
}
