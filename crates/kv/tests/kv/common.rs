//! Helpers shared by the tests: opening an engine, reading a whole table, a seeded generator.

use std::ops::Bound;
use std::path::Path;
use std::sync::RwLock;

use kv::{EngineKind, Entry, KvEngine, KvError, Table};

/// Keeps opening a store apart from spawning a child process. Between `fork` and `exec` a child
/// holds a copy of every descriptor of this process, including the locked files of engines that
/// other test threads have open, so a test that drops and reopens its store at that moment finds
/// it still locked. `Command::spawn` returns only after the `exec`, so holding this for writing
/// around `spawn` and for reading around `open` closes that window. Test-only: a program that
/// forks while it reopens its store has the same race (see the README).
pub static SPAWN_GATE: RwLock<()> = RwLock::new(());

/// Opens `kind` at `dir`, or fails the test naming the engine, the path and every cause.
pub fn open(kind: EngineKind, dir: &Path) -> Box<dyn KvEngine> {
    try_open(kind, dir)
        .unwrap_or_else(|error| panic!("open {kind} at {}: {}", dir.display(), chain(&error)))
}

/// [`kv::open`], kept apart from child spawns by [`SPAWN_GATE`].
pub fn try_open(kind: EngineKind, dir: &Path) -> Result<Box<dyn KvEngine>, KvError> {
    let _gate = SPAWN_GATE
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    kv::open(kind, dir)
}

/// `error` with its chain of sources.
pub fn chain(error: &KvError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Every entry of `table`, ascending.
pub fn all(engine: &dyn KvEngine, table: Table) -> Vec<Entry> {
    engine
        .scan(table, Bound::Unbounded, Bound::Unbounded, usize::MAX)
        .unwrap()
}

/// `(key, value)` as owned vectors, for comparisons.
pub fn entry(key: &[u8], value: &[u8]) -> Entry {
    (key.to_vec(), value.to_vec())
}

/// The seed in the environment variable `var`, or one from the clock; printed so that a failing
/// run can be replayed (libtest shows a failed test's output).
pub fn seed(var: &str) -> u64 {
    let seed = match std::env::var(var) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{var}={text:?} is not a u64")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(0x5EED),
    };
    println!("seed: {seed} (replay with {var}={seed})");
    seed
}

/// SplitMix64: a small, seeded, reproducible generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}
