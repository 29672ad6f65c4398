//! The model test: random sequences of batches, reads and reopens, run on an engine and on a
//! `BTreeMap` per table; every read must agree. Part of the conformance suite. The seed is
//! printed; `KV_MODEL_SEED` replays it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use kv::{Batch, EngineKind, Entry, KvEngine, Table};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::common::{chain, open, seed};

/// Cases per engine: each opens a fresh store and fsyncs every batch, so keep it modest.
const MODEL_CASES: u32 = 48;
/// Most steps in one case.
const MODEL_STEPS_MAX: usize = 40;

/// Names that are prefixes of one another and neighbours in byte order.
const TABLES: [Table; 3] = [Table::new("a"), Table::new("ab"), Table::new("b")];

#[derive(Clone, Debug)]
enum ModelOp {
    Put {
        table: usize,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        table: usize,
        key: Vec<u8>,
    },
}

#[derive(Clone, Debug)]
enum Step {
    Commit(Vec<ModelOp>),
    Reopen,
    Get {
        table: usize,
        key: Vec<u8>,
    },
    Scan {
        table: usize,
        from: Bound<Vec<u8>>,
        to: Bound<Vec<u8>>,
        limit: usize,
        reverse: bool,
    },
    Last {
        table: usize,
    },
}

/// Short keys over a few bytes, with the edges 0x00 and 0xFF, so that keys collide often.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![0x00_u8, 0x01, 0x61, 0x7F, 0xFF]),
        0..4,
    )
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded),
    ]
}

fn model_op() -> impl Strategy<Value = ModelOp> {
    let table = 0..TABLES.len();
    prop_oneof![
        3 => (table.clone(), key(), prop::collection::vec(any::<u8>(), 0..6))
            .prop_map(|(table, key, value)| ModelOp::Put { table, key, value }),
        1 => (table, key()).prop_map(|(table, key)| ModelOp::Delete { table, key }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let table = 0..TABLES.len();
    prop_oneof![
        5 => prop::collection::vec(model_op(), 0..6).prop_map(Step::Commit),
        1 => Just(Step::Reopen),
        2 => (table.clone(), key()).prop_map(|(table, key)| Step::Get { table, key }),
        3 => (table.clone(), bound(), bound(), 0..6_usize, any::<bool>()).prop_map(
            |(table, from, to, limit, reverse)| Step::Scan { table, from, to, limit, reverse }
        ),
        1 => table.prop_map(|table| Step::Last { table }),
    ]
}

type Model = [BTreeMap<Vec<u8>, Vec<u8>>; 3];

fn model_scan(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    from: &Bound<Vec<u8>>,
    to: &Bound<Vec<u8>>,
    limit: usize,
    reverse: bool,
) -> Vec<Entry> {
    let inside = |key: &Vec<u8>| {
        let above = match from {
            Bound::Included(low) => key >= low,
            Bound::Excluded(low) => key > low,
            Bound::Unbounded => true,
        };
        let below = match to {
            Bound::Included(high) => key <= high,
            Bound::Excluded(high) => key < high,
            Bound::Unbounded => true,
        };
        above && below
    };
    // A filter, not BTreeMap::range, so that the model never panics on inverted bounds.
    let matching = model
        .iter()
        .filter(|(key, _)| inside(key))
        .map(|(key, value)| (key.clone(), value.clone()));
    if reverse {
        matching.rev().take(limit).collect()
    } else {
        matching.take(limit).collect()
    }
}

fn run_case(kind: EngineKind, dir: &Path, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut engine: Box<dyn KvEngine> = open(kind, dir);
    let mut model: Model = Default::default();
    for (index, step) in steps.iter().enumerate() {
        match step {
            Step::Commit(ops) => {
                let mut batch = Batch::new();
                for op in ops {
                    match op {
                        ModelOp::Put { table, key, value } => {
                            batch.put(TABLES[*table], key.clone(), value.clone());
                            model[*table].insert(key.clone(), value.clone());
                        }
                        ModelOp::Delete { table, key } => {
                            batch.delete(TABLES[*table], key.clone());
                            model[*table].remove(key);
                        }
                    }
                }
                engine.commit(batch).map_err(|error| {
                    TestCaseError::fail(format!("step {index}: {}", chain(&error)))
                })?;
            }
            Step::Reopen => {
                drop(engine);
                engine = open(kind, dir);
            }
            Step::Get { table, key } => {
                let got = engine.get(TABLES[*table], key).unwrap();
                prop_assert_eq!(got.as_ref(), model[*table].get(key), "step {}", index);
            }
            Step::Scan {
                table,
                from,
                to,
                limit,
                reverse,
            } => {
                let (low, high) = (
                    from.as_ref().map(Vec::as_slice),
                    to.as_ref().map(Vec::as_slice),
                );
                let got = if *reverse {
                    engine.scan_rev(TABLES[*table], low, high, *limit)
                } else {
                    engine.scan(TABLES[*table], low, high, *limit)
                }
                .unwrap();
                let want = model_scan(&model[*table], from, to, *limit, *reverse);
                prop_assert_eq!(got, want, "step {}", index);
            }
            Step::Last { table } => {
                let got = engine.last(TABLES[*table]).unwrap();
                let want = model[*table]
                    .last_key_value()
                    .map(|(key, value)| (key.clone(), value.clone()));
                prop_assert_eq!(got, want, "step {}", index);
            }
        }
    }
    // Finally everything, after one more reopen.
    drop(engine);
    let engine = open(kind, dir);
    for (table, model) in TABLES.iter().zip(&model) {
        let got = engine
            .scan(*table, Bound::Unbounded, Bound::Unbounded, usize::MAX)
            .unwrap();
        let want = model_scan(
            model,
            &Bound::Unbounded,
            &Bound::Unbounded,
            usize::MAX,
            false,
        );
        prop_assert_eq!(got, want, "final contents of table {}", table);
    }
    Ok(())
}

/// Runs [`MODEL_CASES`] random cases on `kind`.
pub fn model_with_reopen(kind: EngineKind) {
    let seed = seed("KV_MODEL_SEED");
    let mut seed_bytes = [0_u8; 32];
    for (chunk, word) in seed_bytes.chunks_mut(8).zip(0_u64..) {
        chunk.copy_from_slice(&(seed ^ word.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes());
    }
    let config = Config {
        cases: MODEL_CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let steps = prop::collection::vec(step(), 1..=MODEL_STEPS_MAX);
    let outcome = runner.run(&steps, |steps| {
        let dir = tempfile::tempdir().expect("temporary directory");
        run_case(kind, dir.path(), &steps)
    });
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, steps)) => panic!(
            "{kind} failed the model test (replay with KV_MODEL_SEED={seed}): {reason}\n\
             minimal steps: {steps:#?}"
        ),
        Err(TestError::Abort(reason)) => {
            panic!("{kind} model test aborted (KV_MODEL_SEED={seed}): {reason}")
        }
    }
}
