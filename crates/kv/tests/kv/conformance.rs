//! The conformance suite: every test is one function over an [`EngineKind`], and the
//! `conformance!` macro instantiates all of them for each compiled engine. An engine passes only
//! if it passes all of them.

use std::collections::BTreeMap;
use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kv::{
    BATCH_BYTES_MAX, BATCH_OPS_MAX, Batch, BatchProblem, EngineKind, Entry, KEY_BYTES_MAX,
    KvEngine, KvError, Table, VALUE_BYTES_MAX,
};

use crate::common::{all, chain, entry, open};

const EVENTS: Table = Table::new("events");
const HEADS: Table = Table::new("heads");
// Names that are prefixes of one another, to catch key-prefix schemes that leak between tables.
const EV: Table = Table::new("ev");
const EVENTSX: Table = Table::new("eventsx");

macro_rules! conformance {
    ($engine:ident, $kind:expr) => {
        mod $engine {
            const KIND: kv::EngineKind = $kind;

            #[test]
            fn put_get_delete() {
                super::put_get_delete(KIND);
            }
            #[test]
            fn later_operations_on_a_key_win() {
                super::later_operations_on_a_key_win(KIND);
            }
            #[test]
            fn tables_are_separate() {
                super::tables_are_separate(KIND);
            }
            #[test]
            fn multi_table_batch_is_applied_whole() {
                super::multi_table_batch_is_applied_whole(KIND);
            }
            #[test]
            fn scan_bounds_order_and_limit() {
                super::scan_bounds_order_and_limit(KIND);
            }
            #[test]
            fn paging_with_the_last_key() {
                super::paging_with_the_last_key(KIND);
            }
            #[test]
            fn last_is_the_greatest_key() {
                super::last_is_the_greatest_key(KIND);
            }
            #[test]
            fn reopen_keeps_everything() {
                super::reopen_keeps_everything(KIND);
            }
            #[test]
            fn limits_are_refused_with_nothing_written() {
                super::limits_are_refused_with_nothing_written(KIND);
            }
            #[test]
            fn values_at_the_limits_are_stored() {
                super::values_at_the_limits_are_stored(KIND);
            }
            #[test]
            fn batches_at_the_limits_are_stored() {
                super::batches_at_the_limits_are_stored(KIND);
            }
            #[test]
            fn readers_never_see_half_a_batch() {
                super::readers_never_see_half_a_batch(KIND);
            }
            #[test]
            fn other_engines_directory_is_refused() {
                super::other_engines_directory_is_refused(KIND);
            }
            #[test]
            fn reopen_at_once_while_another_store_is_busy() {
                super::reopen_at_once_while_another_store_is_busy(KIND);
            }
            #[test]
            fn a_commit_is_announced_durable_once_before_reads_see_it() {
                super::a_commit_is_announced_durable_once_before_reads_see_it(KIND);
            }
            #[test]
            fn model_with_reopen() {
                crate::model::model_with_reopen(KIND);
            }
        }
    };
}

conformance!(redb, kv::EngineKind::Redb);
#[cfg(feature = "sled")]
conformance!(sled, kv::EngineKind::Sled);

/// `commit_announced` calls its hook once per commit: for a batch logged in the write-ahead log,
/// once its record is synced and before reads see the batch; for a batch too large to log, once
/// the engine's own durable commit made it visible; for an empty batch, at once. A refused batch
/// is never announced. After the call the batch is read back.
fn a_commit_is_announced_durable_once_before_reads_see_it(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    let seen = |batch: Batch, key: &[u8]| -> (usize, Option<Option<Vec<u8>>>) {
        let mut calls = 0;
        let mut read = None;
        engine
            .commit_announced(batch, &mut || {
                calls += 1;
                read = Some(engine.get(EVENTS, key).expect("read"));
            })
            .expect("commit");
        (calls, read)
    };
    let mut small = Batch::new();
    small.put(EVENTS, b"small".to_vec(), b"v".to_vec());
    assert_eq!(
        seen(small, b"small"),
        (1, Some(None)),
        "announced before it is read"
    );
    assert_eq!(
        engine.get(EVENTS, b"small").expect("read"),
        Some(b"v".to_vec())
    );
    // Over the largest record the log takes: the engine commits it durably itself.
    let mut large = Batch::new();
    large.put(
        EVENTS,
        b"large".to_vec(),
        vec![7; kv::WAL_RECORD_BYTES_MAX + 1],
    );
    let (calls, read) = seen(large, b"large");
    assert_eq!(calls, 1);
    assert_eq!(
        read.flatten().map(|v| v.len()),
        Some(kv::WAL_RECORD_BYTES_MAX + 1)
    );
    assert_eq!(
        seen(Batch::new(), b"none"),
        (1, Some(None)),
        "an empty batch at once"
    );
    let mut refused = Batch::new();
    refused.put(EVENTS, vec![1; KEY_BYTES_MAX + 1], b"v".to_vec());
    let mut calls = 0;
    assert!(
        engine
            .commit_announced(refused, &mut || calls += 1)
            .is_err()
    );
    assert_eq!(calls, 0, "a refused batch is not announced");
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

fn commit(engine: &dyn KvEngine, batch: Batch) {
    engine
        .commit(batch)
        .unwrap_or_else(|error| panic!("commit: {}", chain(&error)));
}

fn put_get_delete(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    assert_eq!(engine.kind(), kind);
    assert_eq!(engine.path(), dir.path());
    assert_eq!(engine.get(EVENTS, b"a").unwrap(), None, "fresh table");

    let mut batch = Batch::new();
    batch
        .put(EVENTS, b"a".as_slice(), b"1".as_slice())
        .put(EVENTS, b"".as_slice(), b"empty key".as_slice())
        .put(EVENTS, b"b".as_slice(), b"".as_slice());
    commit(&*engine, batch);
    assert_eq!(engine.get(EVENTS, b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(
        engine.get(EVENTS, b"").unwrap(),
        Some(b"empty key".to_vec())
    );
    assert_eq!(
        engine.get(EVENTS, b"b").unwrap(),
        Some(Vec::new()),
        "an empty value is not an absent one"
    );
    assert_eq!(engine.get(EVENTS, b"c").unwrap(), None);
    let keys: [&[u8]; 5] = [b"c", b"b", b"a", b"", b"a"];
    assert_eq!(
        engine.get_many(EVENTS, &keys).unwrap(),
        keys.map(|key| engine.get(EVENTS, key).unwrap()),
        "each as get gives it, in the order asked"
    );
    assert_eq!(
        engine.get_many(Table::new("never_written"), &keys).unwrap(),
        vec![None; 5],
        "a table never written"
    );
    assert!(engine.get_many(EVENTS, &[]).unwrap().is_empty());

    let mut batch = Batch::new();
    batch
        .put(EVENTS, b"a".as_slice(), b"2".as_slice())
        .delete(EVENTS, b"b".as_slice())
        .delete(EVENTS, b"never there".as_slice());
    commit(&*engine, batch);
    assert_eq!(engine.get(EVENTS, b"a").unwrap(), Some(b"2".to_vec()));
    assert_eq!(engine.get(EVENTS, b"b").unwrap(), None);
    assert_eq!(
        all(&*engine, EVENTS),
        vec![entry(b"", b"empty key"), entry(b"a", b"2")]
    );

    // An empty batch is a no-op.
    commit(&*engine, Batch::new());
    assert_eq!(all(&*engine, EVENTS).len(), 2);
}

fn later_operations_on_a_key_win(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    let mut batch = Batch::new();
    batch
        .put(EVENTS, b"k".as_slice(), b"first".as_slice())
        .delete(EVENTS, b"k".as_slice())
        .put(EVENTS, b"k".as_slice(), b"third".as_slice())
        .put(EVENTS, b"gone".as_slice(), b"x".as_slice())
        .delete(EVENTS, b"gone".as_slice());
    commit(&*engine, batch);
    assert_eq!(all(&*engine, EVENTS), vec![entry(b"k", b"third")]);
    // Many keys, each written four times with others between (an engine may apply a batch in
    // another order, so long as each key's operations keep theirs): the last write wins.
    let mut batch = Batch::new();
    for round in 0..4u8 {
        for key in (0..64u8).rev() {
            batch.put(EVENTS, vec![b'm', key], vec![round, key]);
        }
    }
    for key in (0..64u8).step_by(2) {
        batch.delete(EVENTS, vec![b'm', key]);
    }
    commit(&*engine, batch);
    let mut expected = vec![entry(b"k", b"third")];
    expected.extend(
        (1..64u8)
            .step_by(2)
            .map(|key| entry(&[b'm', key], &[3, key])),
    );
    assert_eq!(all(&*engine, EVENTS), expected);
}

fn tables_are_separate(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    let mut batch = Batch::new();
    for (table, value) in [(EV, "ev"), (EVENTS, "events"), (EVENTSX, "eventsx")] {
        batch.put(table, b"k".as_slice(), value);
        batch.put(table, format!("{value}-only"), value);
    }
    batch.put(HEADS, vec![0xFF; 8], b"greatest".as_slice());
    commit(&*engine, batch);

    for (table, value) in [(EV, "ev"), (EVENTS, "events"), (EVENTSX, "eventsx")] {
        assert_eq!(
            engine.get(table, b"k").unwrap(),
            Some(value.as_bytes().to_vec())
        );
        let mut expected = vec![
            entry(b"k", value.as_bytes()),
            entry(format!("{value}-only").as_bytes(), value.as_bytes()),
        ];
        expected.sort();
        assert_eq!(all(&*engine, table), expected, "table {table}");
        assert_eq!(
            engine
                .scan_rev(table, Unbounded, Unbounded, usize::MAX)
                .unwrap(),
            expected.iter().rev().cloned().collect::<Vec<_>>(),
            "table {table} reversed"
        );
        assert_eq!(engine.last(table).unwrap(), expected.last().cloned());
    }
    assert_eq!(engine.get(EVENTS, b"ev-only").unwrap(), None);

    let mut batch = Batch::new();
    batch.delete(EVENTS, b"k".as_slice());
    commit(&*engine, batch);
    assert_eq!(engine.get(EVENTS, b"k").unwrap(), None);
    assert!(engine.get(EV, b"k").unwrap().is_some());
    assert!(engine.get(EVENTSX, b"k").unwrap().is_some());
    assert_eq!(all(&*engine, Table::new("never_written")), vec![]);
    assert_eq!(engine.last(Table::new("never_written")).unwrap(), None);
}

fn multi_table_batch_is_applied_whole(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    let mut batch = Batch::new();
    for n in 0_u64..100 {
        batch.put(EVENTS, n.to_be_bytes(), format!("event {n}"));
    }
    batch.put(HEADS, b"stream".as_slice(), 99_u64.to_be_bytes());
    batch.put(EV, b"index".as_slice(), b"x".as_slice());
    commit(&*engine, batch);
    assert_eq!(all(&*engine, EVENTS).len(), 100);
    assert_eq!(
        engine.get(HEADS, b"stream").unwrap(),
        Some(99_u64.to_be_bytes().to_vec())
    );
    assert!(engine.get(EV, b"index").unwrap().is_some());

    // One bad operation anywhere refuses the whole batch, in every table.
    let mut batch = Batch::new();
    batch.put(HEADS, b"stream".as_slice(), 100_u64.to_be_bytes());
    batch.put(EVENTS, 100_u64.to_be_bytes(), b"event 100".as_slice());
    batch.delete(EV, b"index".as_slice());
    batch.put(EVENTS, vec![0; KEY_BYTES_MAX + 1], b"bad".as_slice());
    assert!(matches!(
        engine.commit(batch),
        Err(KvError::BatchRefused { .. })
    ));
    assert_eq!(
        engine.get(HEADS, b"stream").unwrap(),
        Some(99_u64.to_be_bytes().to_vec())
    );
    assert_eq!(all(&*engine, EVENTS).len(), 100);
    assert!(engine.get(EV, b"index").unwrap().is_some());
}

/// Keys with the edge bytes 0x00 and 0xFF, prefixes of one another, and the empty key.
fn edge_keys() -> Vec<Vec<u8>> {
    let keys: [&[u8]; 10] = [
        b"",
        b"\x00",
        b"\x00\x00",
        b"\x00\x01",
        b"\x01",
        b"a",
        b"ab",
        b"b",
        b"\xff",
        b"\xff\xff",
    ];
    keys.iter().map(|key| key.to_vec()).collect()
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

fn model_range(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    from: Bound<&[u8]>,
    to: Bound<&[u8]>,
) -> Vec<Entry> {
    let empty = match (from, to) {
        (Included(low), Included(high)) => low > high,
        (Included(low) | Excluded(low), Excluded(high)) | (Excluded(low), Included(high)) => {
            low >= high
        }
        _ => false,
    };
    if empty {
        return Vec::new();
    }
    model
        .range((owned(from), owned(to)))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

fn scan_bounds_order_and_limit(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    let mut model = BTreeMap::new();
    let mut batch = Batch::new();
    // Insert in a scrambled order; the engine must order bytewise.
    let keys = edge_keys();
    for (position, key) in keys.iter().enumerate().rev() {
        let value = vec![position as u8; position];
        batch.put(EVENTS, key.clone(), value.clone());
        model.insert(key.clone(), value);
    }
    // Neighbours in other tables must never appear.
    batch.put(EV, b"a".as_slice(), b"other".as_slice());
    batch.put(EVENTSX, b"".as_slice(), b"other".as_slice());
    commit(&*engine, batch);

    let mut bounds: Vec<Bound<&[u8]>> = vec![Unbounded];
    let probes: [&[u8]; 4] = [b"\x00\x00\x00", b"aa", b"c", b"\xff\xff\xff"];
    for key in keys.iter().map(Vec::as_slice).chain(probes) {
        bounds.push(Included(key));
        bounds.push(Excluded(key));
    }
    let mut checked = 0;
    for &from in &bounds {
        for &to in &bounds {
            let expected = model_range(&model, from, to);
            for limit in [0, 1, 3, usize::MAX] {
                let forward = engine.scan(EVENTS, from, to, limit).unwrap();
                let want: Vec<Entry> = expected.iter().take(limit).cloned().collect();
                assert_eq!(forward, want, "scan {from:?}..{to:?} limit {limit}");
                let backward = engine.scan_rev(EVENTS, from, to, limit).unwrap();
                let want: Vec<Entry> = expected.iter().rev().take(limit).cloned().collect();
                assert_eq!(backward, want, "scan_rev {from:?}..{to:?} limit {limit}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, bounds.len() * bounds.len() * 4);
}

fn paging_with_the_last_key(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    let total = 1_000_u64;
    let mut batch = Batch::new();
    for n in 1..=total {
        batch.put(EVENTS, n.to_be_bytes(), n.to_le_bytes());
    }
    commit(&*engine, batch);

    for page in [1_usize, 7, 100, 999, 1000, 5000] {
        let mut seen = Vec::new();
        let mut from: Option<Vec<u8>> = None;
        loop {
            let low = from.as_deref().map_or(Unbounded, Excluded);
            let entries = engine.scan(EVENTS, low, Unbounded, page).unwrap();
            assert!(entries.len() <= page);
            let Some((last_key, _)) = entries.last() else {
                break;
            };
            from = Some(last_key.clone());
            seen.extend(entries);
        }
        let numbers: Vec<u64> = seen
            .iter()
            .map(|(key, value)| {
                let n = u64::from_be_bytes(key.as_slice().try_into().unwrap());
                assert_eq!(value, &n.to_le_bytes());
                n
            })
            .collect();
        assert_eq!(numbers, (1..=total).collect::<Vec<_>>(), "page {page}");

        // Backwards, from the end.
        let mut seen = Vec::new();
        let mut to: Option<Vec<u8>> = None;
        loop {
            let high = to.as_deref().map_or(Unbounded, Excluded);
            let entries = engine.scan_rev(EVENTS, Unbounded, high, page).unwrap();
            let Some((last_key, _)) = entries.last() else {
                break;
            };
            to = Some(last_key.clone());
            seen.extend(entries.into_iter().map(|(key, _)| key));
        }
        let expected: Vec<Vec<u8>> = (1..=total)
            .rev()
            .map(|n| n.to_be_bytes().to_vec())
            .collect();
        assert_eq!(seen, expected, "backwards page {page}");
    }
}

fn last_is_the_greatest_key(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());
    assert_eq!(engine.last(EVENTS).unwrap(), None);
    let mut batch = Batch::new();
    batch
        .put(EVENTS, b"b".as_slice(), b"2".as_slice())
        .put(EVENTS, b"a".as_slice(), b"1".as_slice())
        .put(EVENTS, b"b\x00".as_slice(), b"3".as_slice())
        .put(EVENTSX, b"\xff".as_slice(), b"other table".as_slice());
    commit(&*engine, batch);
    assert_eq!(engine.last(EVENTS).unwrap(), Some(entry(b"b\x00", b"3")));

    let mut batch = Batch::new();
    batch.delete(EVENTS, b"b\x00".as_slice());
    commit(&*engine, batch);
    assert_eq!(engine.last(EVENTS).unwrap(), Some(entry(b"b", b"2")));

    let mut batch = Batch::new();
    batch
        .delete(EVENTS, b"a".as_slice())
        .delete(EVENTS, b"b".as_slice());
    commit(&*engine, batch);
    assert_eq!(engine.last(EVENTS).unwrap(), None);
    assert_eq!(
        engine.last(EVENTSX).unwrap(),
        Some(entry(b"\xff", b"other table"))
    );
}

fn reopen_keeps_everything(kind: EngineKind) {
    let dir = tempdir();
    let mut expected = Vec::new();
    for round in 0_u64..4 {
        let engine = open(kind, dir.path());
        assert_eq!(all(&*engine, EVENTS), expected, "after reopen {round}");
        assert_eq!(
            engine.get(HEADS, b"round").unwrap(),
            round.checked_sub(1).map(|r| r.to_be_bytes().to_vec())
        );
        let mut batch = Batch::new();
        for n in 0..50_u64 {
            let key = (round * 50 + n).to_be_bytes();
            batch.put(EVENTS, key, vec![round as u8; n as usize]);
            expected.push((key.to_vec(), vec![round as u8; n as usize]));
        }
        batch.put(HEADS, b"round".as_slice(), round.to_be_bytes());
        commit(&*engine, batch);
        // A delete must survive a reopen too.
        let mut batch = Batch::new();
        batch.delete(EVENTS, (round * 50).to_be_bytes());
        commit(&*engine, batch);
        expected.retain(|(key, _)| key.as_slice() != (round * 50).to_be_bytes());
    }
    let engine = open(kind, dir.path());
    assert_eq!(all(&*engine, EVENTS), expected);
}

/// Dropping an engine closes it: it can be opened again at once, even while another store of
/// the same engine in this process keeps its background work busy (sled 0.34.7 shares one thread
/// pool between databases, and a job of that pool can hold a dropped database's locked file).
fn reopen_at_once_while_another_store_is_busy(kind: EngineKind) {
    const REOPENS: u64 = 100;
    let busy_dir = tempdir();
    let stop = Arc::new(AtomicBool::new(false));
    let busy = {
        let stop = Arc::clone(&stop);
        let engine = open(kind, busy_dir.path());
        std::thread::spawn(move || {
            let mut n = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                let mut batch = Batch::new();
                batch.put(EVENTS, n.to_be_bytes(), vec![7; 4096]);
                commit(&*engine, batch);
                n += 1;
            }
        })
    };
    let dir = tempdir();
    for round in 0..REOPENS {
        let engine = open(kind, dir.path());
        assert_eq!(
            engine.get(HEADS, b"round").unwrap(),
            round.checked_sub(1).map(|r| r.to_be_bytes().to_vec()),
            "after reopen {round}"
        );
        let mut batch = Batch::new();
        batch.put(HEADS, b"round".as_slice(), round.to_be_bytes());
        batch.put(EVENTS, round.to_be_bytes(), vec![1; 64 * 1024]);
        commit(&*engine, batch);
    }
    stop.store(true, Ordering::Relaxed);
    busy.join().expect("the busy store's thread");
}

fn assert_refused(engine: &dyn KvEngine, batch: Batch, expected: &[BatchProblem]) {
    match engine.commit(batch) {
        Err(KvError::BatchRefused {
            problems,
            problems_total,
        }) => {
            assert_eq!(problems, expected);
            assert_eq!(problems_total, expected.len());
        }
        other => panic!("expected a refused batch, got {other:?}"),
    }
}

fn limits_are_refused_with_nothing_written(kind: EngineKind) {
    let dir = tempdir();
    let engine = open(kind, dir.path());

    let mut batch = Batch::new();
    batch
        .put(EVENTS, b"fine".as_slice(), b"1".as_slice())
        .put(HEADS, vec![7; KEY_BYTES_MAX + 1], b"".as_slice())
        .put(EVENTS, b"big".as_slice(), vec![0; VALUE_BYTES_MAX + 1])
        .delete(EV, vec![7; KEY_BYTES_MAX + 1]);
    assert_refused(
        &*engine,
        batch,
        &[
            BatchProblem::KeyTooLong {
                index: 1,
                table: HEADS,
                key_bytes: KEY_BYTES_MAX + 1,
            },
            BatchProblem::ValueTooLong {
                index: 2,
                table: EVENTS,
                value_bytes: VALUE_BYTES_MAX + 1,
            },
            BatchProblem::KeyTooLong {
                index: 3,
                table: EV,
                key_bytes: KEY_BYTES_MAX + 1,
            },
        ],
    );

    let mut batch = Batch::new();
    for n in 0..=BATCH_OPS_MAX as u64 {
        batch.put(EVENTS, n.to_be_bytes(), b"".as_slice());
    }
    assert_refused(
        &*engine,
        batch,
        &[BatchProblem::TooManyOps {
            ops: BATCH_OPS_MAX + 1,
        }],
    );

    let values = BATCH_BYTES_MAX / VALUE_BYTES_MAX + 1;
    let mut batch = Batch::new();
    for n in 0..values as u64 {
        batch.put(EVENTS, n.to_be_bytes(), vec![1; VALUE_BYTES_MAX]);
    }
    assert_refused(
        &*engine,
        batch,
        &[BatchProblem::TooManyBytes {
            bytes: values * (VALUE_BYTES_MAX + 8),
        }],
    );

    for table in [EVENTS, HEADS, EV] {
        assert_eq!(all(&*engine, table), vec![], "table {table} written");
    }
    // A refused batch does not poison the engine.
    let mut batch = Batch::new();
    batch.put(EVENTS, b"after".as_slice(), b"ok".as_slice());
    commit(&*engine, batch);
    assert_eq!(all(&*engine, EVENTS), vec![entry(b"after", b"ok")]);
    drop(engine);
    let engine = open(kind, dir.path());
    assert_eq!(all(&*engine, EVENTS), vec![entry(b"after", b"ok")]);
}

fn values_at_the_limits_are_stored(kind: EngineKind) {
    let dir = tempdir();
    let longest_key = vec![0xAB; KEY_BYTES_MAX];
    let largest_value: Vec<u8> = (0..VALUE_BYTES_MAX).map(|n| (n % 251) as u8).collect();
    {
        let engine = open(kind, dir.path());
        let mut batch = Batch::new();
        batch
            .put(EVENTS, longest_key.clone(), largest_value.clone())
            .put(EVENTS, b"small".as_slice(), b"1".as_slice());
        commit(&*engine, batch);
        assert_eq!(
            engine.get(EVENTS, &longest_key).unwrap().as_ref(),
            Some(&largest_value)
        );
    }
    let engine = open(kind, dir.path());
    assert_eq!(
        engine.get(EVENTS, &longest_key).unwrap().as_ref(),
        Some(&largest_value),
        "after reopen"
    );
    assert_eq!(
        engine.last(EVENTS).unwrap(),
        Some((longest_key, largest_value))
    );
}

/// A batch of exactly `BATCH_OPS_MAX` operations, and one of exactly `BATCH_BYTES_MAX` bytes,
/// are accepted, and are there after a reopen (what the key-value layer adds to a batch of its
/// own, the write-ahead log's sequence number, must not count against the caller's limits).
fn batches_at_the_limits_are_stored(kind: EngineKind) {
    let dir = tempdir();
    let most_ops: Vec<Entry> = (0..BATCH_OPS_MAX as u32)
        .map(|n| (n.to_be_bytes().to_vec(), vec![1]))
        .collect();
    let value_bytes = BATCH_BYTES_MAX / 4 - 1;
    let most_bytes: Vec<Entry> = (0..4_u8).map(|n| (vec![n], vec![n; value_bytes])).collect();
    {
        let engine = open(kind, dir.path());
        let mut batch = Batch::new();
        for (key, value) in &most_ops {
            batch.put(EVENTS, key.clone(), value.clone());
        }
        assert_eq!(batch.len(), BATCH_OPS_MAX);
        commit(&*engine, batch);
        let mut batch = Batch::new();
        for (key, value) in &most_bytes {
            batch.put(HEADS, key.clone(), value.clone());
        }
        assert_eq!(batch.bytes(), BATCH_BYTES_MAX);
        commit(&*engine, batch);
        assert_eq!(all(&*engine, EVENTS).len(), BATCH_OPS_MAX);
    }
    let engine = open(kind, dir.path());
    assert_eq!(all(&*engine, EVENTS), most_ops, "after reopen");
    assert_eq!(all(&*engine, HEADS), most_bytes, "after reopen");
}

/// Keys per batch in table `events` for [`readers_never_see_half_a_batch`]: enough that a scan
/// takes long enough for a commit to land in the middle of it (with 4, removing the sled engine's
/// read lock went unnoticed; with 64 it fails every run).
const BATCH_KEYS: u64 = 64;
/// Batches the writer commits in [`readers_never_see_half_a_batch`].
const WRITER_BATCHES: u64 = 300;

/// `events` must hold exactly the keys `(n, 0..BATCH_KEYS)` of one batch `n`, all with value `n`.
fn batch_number_in_events(entries: &[Entry]) -> u64 {
    if entries.is_empty() {
        return 0;
    }
    let n = u64::from_be_bytes(entries[0].1.as_slice().try_into().unwrap());
    let expected: Vec<Entry> = (0..BATCH_KEYS)
        .map(|part| {
            let mut key = n.to_be_bytes().to_vec();
            key.extend_from_slice(&part.to_be_bytes());
            (key, n.to_be_bytes().to_vec())
        })
        .collect();
    assert_eq!(entries, expected, "a scan saw parts of different batches");
    n
}

fn head_number(engine: &dyn KvEngine) -> u64 {
    engine.last(HEADS).unwrap().map_or(0, |(key, _)| {
        u64::from_be_bytes(key.as_slice().try_into().unwrap())
    })
}

fn readers_never_see_half_a_batch(kind: EngineKind) {
    let dir = tempdir();
    let engine: Arc<dyn KvEngine> = Arc::from(open(kind, dir.path()));
    let writing = Arc::new(AtomicBool::new(true));

    let readers: Vec<_> = (0..2)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let writing = Arc::clone(&writing);
            std::thread::spawn(move || {
                let mut reads = 0_u64;
                loop {
                    // Checked before reading, so that one full check runs after the writer ends.
                    let last_round = !writing.load(Ordering::Acquire);
                    // Batch n replaces events' keys with n's and adds key n to heads, so each
                    // read of one table is one batch, and a later read of the other table can
                    // only be at the same batch or a newer one.
                    let events = engine
                        .scan(EVENTS, Unbounded, Unbounded, usize::MAX)
                        .unwrap();
                    let n = batch_number_in_events(&events);
                    let head = head_number(&*engine);
                    assert!(head >= n, "heads at {head} after events at {n}");
                    let events = engine
                        .scan(EVENTS, Unbounded, Unbounded, usize::MAX)
                        .unwrap();
                    let later = batch_number_in_events(&events);
                    assert!(later >= head, "events at {later} after heads at {head}");
                    reads += 1;
                    if last_round {
                        assert_eq!(later, WRITER_BATCHES, "the last batch is visible");
                        return reads;
                    }
                }
            })
        })
        .collect();

    for n in 1..=WRITER_BATCHES {
        let mut batch = Batch::new();
        for part in 0..BATCH_KEYS {
            let mut old = (n - 1).to_be_bytes().to_vec();
            old.extend_from_slice(&part.to_be_bytes());
            batch.delete(EVENTS, old);
        }
        for part in 0..BATCH_KEYS {
            let mut key = n.to_be_bytes().to_vec();
            key.extend_from_slice(&part.to_be_bytes());
            batch.put(EVENTS, key, n.to_be_bytes());
        }
        batch.put(HEADS, n.to_be_bytes(), b"".as_slice());
        commit(&*engine, batch);
    }
    writing.store(false, Ordering::Release);
    for reader in readers {
        let reads = reader.join().expect("a reader saw half a batch");
        assert!(reads > 0);
    }
}

fn other_engines_directory_is_refused(kind: EngineKind) {
    let dir = tempdir();
    drop(open(kind, dir.path()));
    for other in EngineKind::ALL {
        if other == kind || !other.is_compiled() {
            continue;
        }
        match crate::common::try_open(other, dir.path()) {
            Err(KvError::EngineMismatch { found, wanted, .. }) => {
                assert_eq!((found, wanted), (kind, other));
            }
            Err(error) => panic!("wrong error: {}", chain(&error)),
            Ok(_) => panic!("{kind} store opened as {other}"),
        }
    }
    // The store itself still opens.
    drop(open(kind, dir.path()));
}
