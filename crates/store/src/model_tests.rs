//! The embedded store against the model of [`crate::testing`], on a writer that keeps almost no
//! decoded streams between groups.
//!
//! The writer's stream cache is what this is for. Its bound is a few events here (250 000 in
//! the product), so streams are forgotten and read back from the key-value layer all the time,
//! also while a group is in flight: a stream forgotten too early, or kept stale, shows as a
//! wrong version, a wrong rule decision, an event stored twice or a stream that reads back
//! otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use crate::api::EventStore;
use crate::embedded::{EmbeddedStore, system_clock};
use crate::testing::{run, step};

fn open(dir: &Path, engine: kv::EngineKind, stream_cache_events: usize) -> Arc<dyn EventStore> {
    Arc::new(
        EmbeddedStore::open_with_stream_cache(
            dir,
            Some(engine),
            system_clock(),
            stream_cache_events,
        )
        .expect("the store opens"),
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
    fn the_store_answers_and_reads_back_as_the_model_with_a_tiny_stream_cache(
        steps in prop::collection::vec(step(), 1..40),
        stream_cache_events in prop_oneof![Just(1_usize), Just(3), Just(8), Just(250_000)],
        engine in prop::sample::select(engines()),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        runtime.block_on(run(steps, &mut || open(dir.path(), engine, stream_cache_events)));
    }
}
