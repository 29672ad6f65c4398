//! A full disk: the embedded store refuses to go on, says why, and loses nothing it
//! acknowledged.
//!
//! On a small file system of its own (`.ci/run` mounts one and names it in
//! [`SMALL_DISK_VAR`]), a test appends one event, fills the disk with a file of its own but for
//! a few hundred kilobytes, then appends one event at a time until the store fails. It checks:
//! - the failure is the store's error (not a refusal), and it names the operating system's
//!   cause, "No space left on device", so an operator knows what to do;
//! - every later request is refused with the same cause, and nothing more is written; the
//!   store says it has stopped (`EventStore::stopped`, which the server's `/healthz` asks);
//! - once space is freed, the store opens again: the log verifies, every acknowledged event is
//!   at its acknowledged position, the log has no gap, and appends go on at the next position.
//!
//! An append answered with an error may still be in the log afterwards (its record was durable
//! when the engine failed), as after a crash: only what was acknowledged is promised.
//!
//! Outside CI, without the variable, the test says it was not run; with `CI` set, the missing
//! variable fails it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use store::{EngineKind, EventStore, ExpectedVersion, StoreError, system_clock};

use crate::store_conformance::fixtures::{
    assert_log_shape, decision, event_id, grant, note, open_embedded, read_everything, with_id,
};

/// Names the directory of a small file system the test may fill (`.ci/run` sets it).
const SMALL_DISK_VAR: &str = "VERKSTALL_TEST_SMALL_DISK";
/// Bytes left free when the disk is filled: room for some appends before the store fails.
const LEFT_FREE_BYTES: u64 = 384 * 1024;
/// Appends tried, at most, before the test gives up on the disk ever filling.
const APPENDS_MAX: u64 = 50_000;
/// What the operating system says when the disk is full.
const NO_SPACE: &str = "No space left on device";

/// The small disk is one: the engines' tests take turns on it.
static DISK: Mutex<()> = Mutex::new(());

/// The small disk's directory, or `None` (with a note) when it is not given outside CI.
fn small_disk() -> Option<PathBuf> {
    match std::env::var_os(SMALL_DISK_VAR) {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var_os("CI").is_some() => {
            panic!("{SMALL_DISK_VAR} must name a small file system in CI (.ci/run mounts one)")
        }
        None => {
            eprintln!("disk_full: not run: {SMALL_DISK_VAR} names no small file system");
            None
        }
    }
}

/// Fills the file system `filler` goes on, with `filler`, but for [`LEFT_FREE_BYTES`].
fn fill(filler: &Path) {
    let mut file = std::fs::File::create(filler).unwrap();
    let chunk = vec![0xa5_u8; 1 << 20];
    loop {
        match file.write_all(&chunk) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::StorageFull => break,
            Err(error) => panic!("filling the disk: {error}"),
        }
    }
    file.sync_all().unwrap();
    let written = file.metadata().unwrap().len();
    file.set_len(written.saturating_sub(LEFT_FREE_BYTES))
        .unwrap();
    file.sync_all().unwrap();
}

fn on_a_full_disk(engine: EngineKind) {
    let Some(disk) = small_disk() else { return };
    let _turn = DISK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = tempfile::tempdir_in(&disk).unwrap();
    let data = root.path().join("data");
    let filler = root.path().join("filler");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let store = open_embedded(&data, engine, system_clock());
    assert_eq!(store.stopped(), None);
    // Decisions of ten events each; each append waits for its answer. The first is made before
    // the disk fills, so that the store's files (its write-ahead log's first megabyte) exist.
    let mut acknowledged = Vec::new();
    let first = runtime
        .block_on(store.append(
            decision(0),
            ExpectedVersion::NoStream,
            vec![with_id(grant(decision(0)), event_id(0))],
        ))
        .expect("the store works")
        .expect("accepted");
    acknowledged.push(first.events[0]);
    fill(&filler);
    let failure = runtime.block_on(async {
        for n in 1..APPENDS_MAX {
            let d = decision(n / 10);
            let event = if n % 10 == 0 {
                grant(d)
            } else {
                note(d, &format!("anteckning {n}"))
            };
            let answer = store
                .append(d, ExpectedVersion::Any, vec![with_id(event, event_id(n))])
                .await;
            match answer {
                Ok(Ok(appended)) => acknowledged.push(appended.events[0]),
                Ok(Err(refusal)) => panic!("append {n} refused: {refusal}"),
                Err(error) => return error,
            }
        }
        panic!("{APPENDS_MAX} appends and the disk never filled")
    });
    let said = kv::error_chain(&failure);
    assert!(said.contains(NO_SPACE), "the cause is named: {said}");
    // The store says it has stopped, with the cause (the server's /healthz and /readyz ask).
    let stopped = store.stopped().expect("the store says it has stopped");
    assert!(stopped.contains(NO_SPACE), "{stopped}");
    // Every later request fails the same way, and writes nothing.
    let later = runtime.block_on(store.append(
        decision(1_000_000),
        ExpectedVersion::Any,
        vec![grant(decision(1_000_000))],
    ));
    match later {
        Err(error @ StoreError::Stopped(_)) => {
            let said = kv::error_chain(&error);
            assert!(said.contains(NO_SPACE), "a stopped store says why: {said}");
        }
        other => panic!("after the failure the store refuses writes: {other:?}"),
    }
    drop(store);

    std::fs::remove_file(&filler).unwrap();
    let store = open_embedded(&data, engine, system_clock());
    assert_eq!(store.stopped(), None, "opened again, it takes writes");
    let report = store
        .verify(&mut |_, _| {})
        .expect("the storage reads")
        .unwrap_or_else(|damage| panic!("the log verifies: {damage:?}"));
    let log = runtime.block_on(read_everything(&store));
    assert_log_shape(&log);
    assert_eq!(report.events, log.len() as u64);
    for ack in &acknowledged {
        let stored = log
            .get(usize::try_from(ack.position).unwrap() - 1)
            .unwrap_or_else(|| panic!("acknowledged position {} is in the log", ack.position));
        assert_eq!(
            stored.event_id, ack.event_id,
            "at position {}",
            ack.position
        );
    }
    let next = runtime
        .block_on(store.append(
            decision(2_000_000),
            ExpectedVersion::NoStream,
            vec![grant(decision(2_000_000))],
        ))
        .expect("the store works again")
        .expect("accepted");
    assert_eq!(next.events[0].position, log.len() as u64 + 1);
}

#[test]
fn redb_on_a_full_disk_says_why_and_keeps_what_it_acknowledged() {
    on_a_full_disk(EngineKind::Redb);
}

#[cfg(feature = "sled")]
#[test]
fn sled_on_a_full_disk_says_why_and_keeps_what_it_acknowledged() {
    on_a_full_disk(EngineKind::Sled);
}
