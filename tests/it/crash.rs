//! Crash tests: the store keeps every acknowledged event, at its acknowledged position, when its
//! process is killed with SIGKILL at any moment — and an import cut short by the kill is all
//! or nothing.
//!
//! Each test re-runs this very test binary as a child (`crash::child_appender`, ignored unless
//! started this way) that opens the store and appends from several tasks at once, printing
//! `ack <event_id> <position>` only after the store has acknowledged the append. The parent kills
//! it with SIGKILL after a seeded random number of acknowledgements, reopens the store, and
//! checks: every acknowledged event is at its position, positions run 1..=head without a gap,
//! every stream's versions are contiguous, `EmbeddedStore::verify` passes, and the store takes
//! writes again at the next position. These rounds share one data directory, so later rounds
//! recover a log with history.
//!
//! Then import rounds, each on a fresh directory: the child starts an import larger than one
//! storage batch (its first batch is written above the commit point). One round lets it finish
//! before the kill (it must be there, whole); the others kill it while it writes, at a seeded
//! moment after its first write reaches the engine's files — in its first batch, between its
//! batches, in its last one. After the kill the import is all there or not at all, and a part
//! of it imports again (as new, or as duplicates): a cut import leaves no index entry behind.
//!
//! The append rounds run on PostgreSQL too (`Log::Postgres`): the child appends through
//! `PgStore`, its connections are cut by the kill mid-transaction, and the same checks follow,
//! with `PgStore::verify`.
//!
//! A failure names its seed; set `VERKSTALL_CRASH_SEED` to replay the same kill points.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, PoisonError, mpsc};
use std::time::{Duration, Instant};

use domain::{DecisionId, EventId, NewEvent};
use store::{EmbeddedStore, EngineKind, EventStore, ExpectedVersion, ImportOptions, system_clock};
use store_postgres::{PgStore, ScratchDatabase};

use crate::store_conformance::fixtures::{
    Rng, SPAWN_GATE, assert_log_shape, decision, event_id, grant, note, open_embedded, order,
    read_everything, seed_from_env, with_id,
};

/// The data directory the child opens; set only on the child.
const DIR_VAR: &str = "VERKSTALL_CRASH_DIR";
/// The child's engine.
const ENGINE_VAR: &str = "VERKSTALL_CRASH_ENGINE";
/// The child's PostgreSQL store, in place of the engine, when set.
const STORE_VAR: &str = "VERKSTALL_CRASH_STORE";
/// What the child does: `append` (until killed), or `import` (a few appends, then a large
/// import alone).
const MODE_VAR: &str = "VERKSTALL_CRASH_MODE";
/// The round, which keeps the child's ids apart from earlier rounds'.
const ROUND_VAR: &str = "VERKSTALL_CRASH_ROUND";
/// Replays a run's kill points.
const SEED_VAR: &str = "VERKSTALL_CRASH_SEED";

/// Rounds per engine: appends only, then the import rounds.
const ROUNDS: u64 = 12;
/// The first import round: its import is let finish before the kill; the rounds after it kill
/// their import while it writes.
const FIRST_IMPORT_ROUND: u64 = 10;
/// Most acknowledgements before the kill in an append round.
const KILL_AFTER_ACKS_MAX: u64 = 300;
/// Tasks appending at once in the child.
const APPENDERS: u64 = 6;
/// Acknowledgements the child waits for before it starts its import.
const ACKS_BEFORE_IMPORT: u64 = 10;
/// Decisions in the child's import that is let finish, ten events each: 11 000 events, about
/// 33 000 key-value operations, more than the store commits in one batch (32 768), so the import
/// is written in two batches: the first (10 923 events) above the commit point, the rest with it.
const IMPORT_DECISIONS_FINISHED: u64 = 1_100;
/// Decisions in the imports that are killed: 18 000 events, so that the second batch is large
/// too and a kill often falls between the two.
const IMPORT_DECISIONS_KILLED: u64 = 1_800;

/// Decisions in the child's import in `round`.
fn import_decisions(round: u64) -> u64 {
    if round == FIRST_IMPORT_ROUND {
        IMPORT_DECISIONS_FINISHED
    } else {
        IMPORT_DECISIONS_KILLED
    }
}
/// Events per decision in the child's import.
const IMPORT_EVENTS_PER_DECISION: u64 = 10;
/// The longest the parent waits for a line from the child before calling it a hang.
const CHILD_SILENCE_MAX: Duration = Duration::from_secs(60);
/// The child ends itself after this long, so that no child outlives a dead parent.
const CHILD_LIFETIME_MAX: Duration = Duration::from_secs(180);

/// The id space of one round: round, task and sequence number packed into 64 bits.
fn id_number(round: u64, task: u64, seq: u64) -> u64 {
    (round << 48) | (task << 36) | seq
}

/// The task number of the child's import in the id space.
const IMPORT_TASK: u64 = 0xfff;

/// Positions appended after each kill: more than the import part's first events take.
const REUSED_POSITIONS: u64 = 60;
/// Decisions of the import imported again after a kill.
const IMPORT_PART_DECISIONS: u64 = 50;

/// The events of the first [`IMPORT_PART_DECISIONS`] decisions of the child's import for
/// `round`, in the order submitted: their grants took the first positions of the import.
fn import_part(round: u64) -> Vec<NewEvent> {
    let part: std::collections::HashSet<DecisionId> = (0..IMPORT_PART_DECISIONS)
        .map(|n| decision(id_number(round, IMPORT_TASK, n)))
        .collect();
    import_events(round)
        .into_iter()
        .filter(|e| part.contains(&e.decision_id))
        .collect()
}

/// The ids of the child's import for `round`, in the order submitted.
fn import_ids(round: u64) -> Vec<EventId> {
    (0..IMPORT_EVENTS_PER_DECISION)
        .flat_map(|k| {
            (0..import_decisions(round))
                .map(move |n| event_id(id_number(round, IMPORT_TASK, n * 16 + k)))
        })
        .collect()
}

/// The child's import for `round`: interleaved over its decisions, in the order submitted.
fn import_events(round: u64) -> Vec<NewEvent> {
    let decisions = import_decisions(round);
    let mut events = Vec::with_capacity((decisions * IMPORT_EVENTS_PER_DECISION) as usize);
    for k in 0..IMPORT_EVENTS_PER_DECISION {
        for n in 0..decisions {
            let d = decision(id_number(round, IMPORT_TASK, n));
            let id = event_id(id_number(round, IMPORT_TASK, n * 16 + k));
            events.push(match k {
                0 => with_id(grant(d), id),
                1 => with_id(order(d, "Importerad utförare"), id),
                _ => with_id(note(d, &format!("import {round}/{n}/{k}")), id),
            });
        }
    }
    events
}

/// The child: appends until it is killed. Ignored unless a crash test starts it.
#[test]
#[ignore = "the crash tests' child process: runs only when a crash test starts it"]
fn child_appender() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let log = match std::env::var(STORE_VAR) {
        Ok(config) => Log::Postgres(config),
        Err(_) => Log::Embedded(
            PathBuf::from(dir),
            std::env::var(ENGINE_VAR).unwrap().parse().unwrap(),
        ),
    };
    let import = std::env::var(MODE_VAR).unwrap() == "import";
    let round: u64 = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
    std::thread::spawn(|| {
        std::thread::sleep(CHILD_LIFETIME_MAX);
        eprintln!("child: lived {CHILD_LIFETIME_MAX:?}; ending");
        std::process::exit(3);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(child(log, import, round));
}

/// Prints lines and flushes; ends the process when the parent has gone (nobody reads).
fn say(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            std::process::exit(0);
        }
    }
    if out.flush().is_err() {
        std::process::exit(0);
    }
}

/// Ends the child with a message the parent will show.
fn child_failed(what: String) -> ! {
    eprintln!("child: {what}");
    std::process::exit(2)
}

async fn child(log: Log, import: bool, round: u64) {
    let store = log.open().await.into_store();
    if !import {
        appenders(&store, round, u64::MAX).await;
        return;
    }
    let events = import_events(round);
    // A few appends first; then the import runs alone, so that the first write the parent
    // sees after `import-start` is the import's first batch.
    appenders(&store, round, ACKS_BEFORE_IMPORT).await;
    say(&["import-start".into()]);
    let clock = Instant::now();
    let imported = match store.import(events, ImportOptions::default()).await {
        Ok(Ok(imported)) => imported,
        Ok(Err(refusal)) => child_failed(format!("import refused: {refusal}")),
        Err(error) => child_failed(format!("import failed: {error}")),
    };
    say(&[format!(
        "imported {} {} {}",
        imported.first_position.unwrap(),
        imported.last_position.unwrap(),
        clock.elapsed().as_millis()
    )]);
    std::future::pending::<()>().await
}

/// Appends from [`APPENDERS`] tasks at once, printing every acknowledged event, until `acks`
/// appends are acknowledged (or for ever); returns when every task has stopped.
async fn appenders(store: &Arc<dyn EventStore>, round: u64, acks: u64) {
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..APPENDERS {
        let (store, done) = (Arc::clone(store), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            for k in 0.. {
                let d = decision(id_number(round, task, k));
                let mut version = 0u64;
                for step in 0..6u64 {
                    if done.load(std::sync::atomic::Ordering::SeqCst) >= acks {
                        return;
                    }
                    let mut next = || {
                        seq += 1;
                        event_id(id_number(round, task, seq))
                    };
                    let events = match step {
                        0 => vec![with_id(grant(d), next())],
                        // Two events in one append: acknowledged together, atomically.
                        s if s % 2 == 1 => vec![
                            with_id(order(d, &format!("Utförare {s}")), next()),
                            with_id(note(d, &format!("step {s}")), next()),
                        ],
                        s => vec![with_id(note(d, &format!("step {s}")), next())],
                    };
                    let expected = if version == 0 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(version)
                    };
                    let appended = match store.append(d, expected, events).await {
                        Ok(Ok(appended)) => appended,
                        Ok(Err(refusal)) => child_failed(format!("append refused: {refusal}")),
                        Err(error) => child_failed(format!("append failed: {error}")),
                    };
                    version = appended.version;
                    let lines: Vec<String> = appended
                        .events
                        .iter()
                        .map(|e| format!("ack {} {}", e.event_id, e.position))
                        .collect();
                    say(&lines);
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// What the parent learnt from one child before and after killing it.
#[derive(Default)]
struct Heard {
    acks: Vec<(EventId, u64)>,
    import_started: bool,
    /// First and last position of the import, if the child saw it finish.
    imported: Option<(u64, u64)>,
    /// How long the import took in the child, in milliseconds.
    import_millis: Option<u64>,
}

impl Heard {
    fn take(&mut self, line: &str, context: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["ack", id, position] => {
                let id = id
                    .parse()
                    .unwrap_or_else(|_| panic!("{context}: a bad ack line {line:?}"));
                let position = position
                    .parse()
                    .unwrap_or_else(|_| panic!("{context}: a bad ack line {line:?}"));
                self.acks.push((id, position));
            }
            ["import-start"] => self.import_started = true,
            ["imported", first, last, millis] => {
                self.imported = Some((first.parse().unwrap(), last.parse().unwrap()));
                self.import_millis = Some(millis.parse().unwrap());
            }
            // libtest's own lines.
            _ => {}
        }
    }
}

/// A copy of this test binary in `dir` (a hard link where possible), so that a rebuild of the
/// binary while the test runs cannot change or remove the child's program.
fn private_copy_of_this_binary(dir: &Path) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let copy = dir.join("crash-child");
    if std::fs::hard_link(&exe, &copy).is_err() {
        std::fs::copy(&exe, &copy).unwrap();
    }
    copy
}

/// Starts the child on `dir`, its output read line by line on a thread.
fn start_child(
    exe: &Path,
    log: &Log,
    import: bool,
    round: u64,
) -> (
    Child,
    mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    let gate = SPAWN_GATE.write().unwrap_or_else(PoisonError::into_inner);
    let mut command = Command::new(exe);
    match log {
        Log::Embedded(dir, engine) => command.env(DIR_VAR, dir).env(ENGINE_VAR, engine.as_str()),
        Log::Postgres(config) => command
            .env(DIR_VAR, std::env::temp_dir())
            .env(STORE_VAR, config),
    };
    let mut child = command
        .args([
            "--exact",
            "crash::child_appender",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(MODE_VAR, if import { "import" } else { "append" })
        .env(ROUND_VAR, round.to_string())
        .env_remove(SEED_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(gate);
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    (child, lines, stderr)
}

/// Runs one round: starts the child, kills it at the chosen moment, returns what it said.
fn run_round(exe: &Path, log: &Log, round: u64, kill: Kill, context: &str) -> Heard {
    let import = !matches!(kill, Kill::Acknowledged(_));
    let (mut child, lines, stderr) = start_child(exe, log, import, round);
    let mut heard = Heard::default();
    loop {
        match kill {
            Kill::Acknowledged(n) if heard.acks.len() as u64 >= n => break,
            Kill::ImportFinished if heard.imported.is_some() => break,
            Kill::WhileImportWrites(permille) if heard.import_started => {
                let started = Instant::now();
                let Log::Embedded(dir, _) = log else {
                    panic!("{context}: an import is killed while it writes only on an engine");
                };
                wait_for_a_write(dir, &lines, &mut heard, context);
                let checks = started.elapsed();
                std::thread::sleep(checks * permille as u32 / 1000);
                break;
            }
            _ => {}
        }
        match lines.recv_timeout(CHILD_SILENCE_MAX) {
            Ok(line) => heard.take(&line, context),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{context}: the child said nothing for {CHILD_SILENCE_MAX:?}: a hang");
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                let stderr = stderr.join().unwrap_or_default();
                panic!("{context}: the child ended before it was killed ({status}): {stderr}");
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "{context}: the child was not killed: {status}"
    );
    // Whatever the child printed before it died was acknowledged: read it to the end.
    for line in lines.iter() {
        heard.take(&line, context);
    }
    heard
}

/// The log a round runs on: an engine's data directory, or a PostgreSQL database.
#[derive(Debug, Clone)]
enum Log {
    Embedded(PathBuf, EngineKind),
    Postgres(String),
}

/// A log, open.
enum Opened {
    Embedded(EmbeddedStore),
    Postgres(PgStore),
}

impl Log {
    /// Opens the store (after a kill: recovers it), or panics saying why.
    async fn open(&self) -> Opened {
        match self {
            Log::Embedded(dir, engine) => {
                Opened::Embedded(open_embedded(dir, *engine, system_clock()))
            }
            Log::Postgres(config) => Opened::Postgres(
                PgStore::connect(config)
                    .await
                    .unwrap_or_else(|e| panic!("connecting to PostgreSQL: {e}")),
            ),
        }
    }
}

impl Opened {
    fn as_store(&self) -> &dyn EventStore {
        match self {
            Opened::Embedded(store) => store,
            Opened::Postgres(store) => store,
        }
    }

    fn into_store(self) -> Arc<dyn EventStore> {
        match self {
            Opened::Embedded(store) => Arc::new(store),
            Opened::Postgres(store) => Arc::new(store),
        }
    }

    /// The store's own `verify`: the report, or the first damage.
    async fn verify(&self) -> Result<store::VerifyReport, store::Damage> {
        match self {
            Opened::Embedded(store) => store.verify(&mut |_, _| {}),
            Opened::Postgres(store) => store.verify(&mut |_, _| {}).await,
        }
        .unwrap_or_else(|error| panic!("verify failed: {error}"))
    }
}

/// When to kill the child.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// After this many acknowledged events.
    Acknowledged(u64),
    /// Once the child reports its large import done (the import must survive).
    ImportFinished,
    /// After the import's first write reaches the engine's files (its first batch, above the
    /// commit point), wait this many thousandths of the time it took to get there (the import's
    /// checks), then kill: in its first batch, between its batches, in its last one, or after.
    WhileImportWrites(u64),
}

/// The sizes and modification times of the engine's files: they change when a batch is written.
fn files_fingerprint(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    fn walk(dir: &Path, into: &mut Vec<(PathBuf, u64, std::time::SystemTime)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&entry.path(), into);
            } else if let Ok(modified) = meta.modified() {
                into.push((entry.path(), meta.len(), modified));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
}

/// Waits until the engine's files change (the import's first write), still collecting the
/// child's lines; returns at once if the child reports the import finished.
fn wait_for_a_write(dir: &Path, lines: &mpsc::Receiver<String>, heard: &mut Heard, context: &str) {
    let before = files_fingerprint(dir);
    let started = Instant::now();
    while files_fingerprint(dir) == before && heard.imported.is_none() {
        assert!(
            started.elapsed() < CHILD_SILENCE_MAX,
            "{context}: the import wrote nothing: a hang"
        );
        while let Ok(line) = lines.try_recv() {
            heard.take(&line, context);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Reopens the store after a kill and checks everything the child was told.
fn check_after_kill(log: &Log, round: u64, heard: &Heard, context: &str) -> ImportOutcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let opened = log.open().await;
        let store = opened.as_store();
        let all = read_everything(store).await;
        assert_log_shape(&all);
        let head = store.head().await.unwrap();
        assert_eq!(head.position, all.len() as u64, "{context}: the head is not the last event");
        for (id, position) in &heard.acks {
            let stored = all.get((*position - 1) as usize).map(|e| e.event_id);
            assert_eq!(
                stored,
                Some(*id),
                "{context}: acknowledged event {id} is not at its position {position} after the kill"
            );
        }
        let report = opened
            .verify()
            .await
            .unwrap_or_else(|damage| panic!("{context}: verify found damage after the kill: {damage}"));
        assert_eq!(report.events, head.position, "{context}: verify checked another number of events");
        let outcome = if heard.import_started {
            let wanted = import_ids(round);
            let at: HashMap<EventId, u64> = all.iter().map(|e| (e.event_id, e.position)).collect();
            let present: Vec<u64> = wanted.iter().filter_map(|id| at.get(id).copied()).collect();
            if present.is_empty() {
                assert_eq!(heard.imported, None, "{context}: the child saw its import finish, but it is gone");
                ImportOutcome::Absent
            } else {
                assert_eq!(
                    present.len(),
                    wanted.len(),
                    "{context}: only {} of the import's {} events survived the kill",
                    present.len(),
                    wanted.len()
                );
                let first = present[0];
                assert!(
                    present.iter().enumerate().all(|(i, p)| *p == first + i as u64),
                    "{context}: the import's events are not contiguous, in the order given"
                );
                if let Some(imported) = heard.imported {
                    assert_eq!(imported, (first, first + present.len() as u64 - 1), "{context}: the import moved");
                }
                ImportOutcome::Whole
            }
        } else {
            ImportOutcome::NotStarted
        };
        // The store takes writes again after recovering, at the next position. These appends
        // also take the positions a cut import had written above the commit point.
        for n in 0..REUSED_POSITIONS {
            let d: DecisionId = decision(id_number(round, 0xffe, n));
            let appended = granted(
                store.append(d, ExpectedVersion::NoStream, vec![grant(d)]).await,
                context,
            );
            assert_eq!(appended.events[0].position, head.position + 1 + n, "{context}");
        }
        if outcome != ImportOutcome::NotStarted {
            // A cut import left nothing behind (no index entry naming a position now taken by
            // another event): a part of it imports again as new; a whole one, as duplicates.
            let part = import_part(round);
            let size = part.len() as u64;
            let imported = granted(store.import(part, ImportOptions::default()).await, context);
            let expected = if outcome == ImportOutcome::Whole { (0, size) } else { (size, 0) };
            assert_eq!(
                (imported.appended, imported.duplicates),
                expected,
                "{context}: importing part of the import again after the kill"
            );
            if outcome == ImportOutcome::Absent {
                let report = opened.verify().await.unwrap_or_else(|damage| {
                    panic!("{context}: verify found damage after importing again: {damage}")
                });
                assert_eq!(report.events, store.head().await.unwrap().position, "{context}");
            }
        }
        outcome
    })
}

/// The value of an accepted request; panics naming the round (and its seed) otherwise.
fn granted<T>(result: Result<Result<T, store::Refusal>, store::StoreError>, context: &str) -> T {
    match result {
        Ok(Ok(value)) => value,
        Ok(Err(refusal)) => panic!("{context}: refused after the kill: {refusal}"),
        Err(error) => panic!("{context}: the store failed after the kill: {error}"),
    }
}

/// What became of a round's import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportOutcome {
    NotStarted,
    Absent,
    Whole,
}

/// Many rounds of kill and reopen on one data directory.
fn survives_sigkill(engine: EngineKind) {
    let seed = seed_from_env(SEED_VAR);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let exe = private_copy_of_this_binary(dir.path());
    eprintln!("crash test on {engine}: seed {seed} (replay with {SEED_VAR}={seed})");
    let mut rng = Rng::new(seed);
    let mut outcomes = Vec::new();
    for round in 1..=ROUNDS {
        let kill = match round {
            r if r < FIRST_IMPORT_ROUND => Kill::Acknowledged(rng.between(1, KILL_AFTER_ACKS_MAX)),
            FIRST_IMPORT_ROUND => Kill::ImportFinished,
            _ => Kill::WhileImportWrites(rng.between(400, 1600)),
        };
        let context = format!("crash test on {engine}, seed {seed}, round {round}, kill {kill:?}");
        // The append rounds share one log, each recovering the history the last one left; each
        // import round starts a fresh log, so that checking it stays cheap.
        let data = if round < FIRST_IMPORT_ROUND {
            data.clone()
        } else {
            dir.path().join(format!("import-{round}"))
        };
        let clock = Instant::now();
        let log = Log::Embedded(data, engine);
        let heard = run_round(&exe, &log, round, kill, &context);
        let ran = clock.elapsed();
        let outcome = check_after_kill(&log, round, &heard, &context);
        if matches!(kill, Kill::ImportFinished) {
            assert_eq!(outcome, ImportOutcome::Whole, "{context}");
        }
        outcomes.push((
            round,
            heard.acks.len(),
            outcome,
            heard.import_millis,
            ran.as_millis(),
            clock.elapsed().as_millis(),
        ));
    }
    eprintln!(
        "rounds (round, acknowledged events, import, import ms, child ms, round ms): {outcomes:?}"
    );
}

#[test]
fn redb_keeps_every_acknowledged_event_through_sigkill() {
    survives_sigkill(EngineKind::Redb);
}

#[cfg(feature = "sled")]
#[test]
fn sled_keeps_every_acknowledged_event_through_sigkill() {
    survives_sigkill(EngineKind::Sled);
}

/// Append rounds on PostgreSQL, on one database: the child appends through `PgStore` from
/// several tasks and is killed with SIGKILL after a seeded number of acknowledgements, its
/// connections cut mid-transaction. (The import rounds watch an engine's files, so they run on
/// the engines only; an import on PostgreSQL is one transaction.)
#[test]
fn postgres_keeps_every_acknowledged_event_through_sigkill() {
    let seed = seed_from_env(SEED_VAR);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime
        .block_on(ScratchDatabase::create())
        .unwrap_or_else(|e| panic!("creating a scratch database (is PostgreSQL running?): {e}"));
    let dir = tempfile::tempdir().unwrap();
    let exe = private_copy_of_this_binary(dir.path());
    let log = Log::Postgres(database.config());
    eprintln!("crash test on PostgreSQL: seed {seed} (replay with {SEED_VAR}={seed})");
    let mut rng = Rng::new(seed);
    let mut acknowledged = Vec::new();
    for round in 1..FIRST_IMPORT_ROUND {
        let kill = Kill::Acknowledged(rng.between(1, KILL_AFTER_ACKS_MAX));
        let context =
            format!("crash test on PostgreSQL, seed {seed}, round {round}, kill {kill:?}");
        let heard = run_round(&exe, &log, round, kill, &context);
        let outcome = check_after_kill(&log, round, &heard, &context);
        assert_eq!(outcome, ImportOutcome::NotStarted, "{context}");
        acknowledged.push(heard.acks.len());
    }
    eprintln!("acknowledged events per round: {acknowledged:?}");
}
