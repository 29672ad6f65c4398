//! The embedded store against the model of [`crate::testing`], on a writer that keeps almost no
//! decoded streams between groups and an index tail of a few events.
//!
//! The writer's stream cache and the index tail are what this is for. The cache's bound is a
//! few events here (250 000 in the product), so streams are forgotten and read back from the
//! key-value layer all the time, also while a group is in flight: a stream forgotten too early,
//! or kept stale, shows as a wrong version, a wrong rule decision, an event stored twice or a
//! stream that reads back otherwise. Groups of one or two requests are committed on the
//! writer's thread in some runs and handed to the committer in others. The index tail is
//! flushed after nearly every group, a few events at a time, so streams are read back half from
//! the index tables and half from the tail; and a reopening may find the tail unflushed, as
//! after a crash, and rebuild it from the log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use crate::api::EventStore;
use crate::embedded::{EmbeddedStore, system_clock};
use crate::testing::{run, step};
use crate::writer::Tuning;

fn open(dir: &Path, engine: kv::EngineKind, tuning: Tuning) -> Arc<dyn EventStore> {
    Arc::new(
        EmbeddedStore::open_tuned(dir, Some(engine), system_clock(), tuning)
            .expect("the store opens"),
    )
}

/// Bounds of the stream cache and the index tail, mostly tiny.
fn tuning() -> impl Strategy<Value = Tuning> {
    (
        prop_oneof![Just(1_usize), Just(3), Just(8), Just(250_000)],
        prop_oneof![Just(0_usize), Just(2), Just(5), Just(1 << 18)],
        prop_oneof![Just(1_usize), Just(3), Just(16_384)],
        prop_oneof![Just(1_usize), Just(4), Just(1 << 18)],
        any::<bool>(),
        prop_oneof![Just(0_usize), Just(1), Just(2)],
    )
        .prop_map(
            |(
                stream_cache_events,
                index_tail_events,
                index_flush_events,
                lone_flush_events,
                flush_index_at_close,
                inline_group_requests,
            )| {
                Tuning {
                    stream_cache_events,
                    index_tail_events,
                    index_flush_events,
                    lone_flush_events,
                    flush_index_at_close,
                    inline_group_requests,
                }
            },
        )
}

fn engines() -> Vec<kv::EngineKind> {
    kv::EngineKind::ALL
        .into_iter()
        .filter(|kind| kind.is_compiled())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_store_answers_and_reads_back_as_the_model_with_a_tiny_stream_cache_and_index_tail(
        steps in prop::collection::vec(step(), 1..40),
        tuning in tuning(),
        engine in prop::sample::select(engines()),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        runtime.block_on(run(steps, &mut || open(dir.path(), engine, tuning)));
        // The index tables and the tail, as the last close left them, agree with the log.
        let store = EmbeddedStore::open_tuned(dir.path(), Some(engine), system_clock(), tuning)
            .expect("the store opens");
        let verified = store.verify(&mut |_, _| {}).expect("the store reads");
        prop_assert!(verified.is_ok(), "verify: {verified:?}");
    }
}
