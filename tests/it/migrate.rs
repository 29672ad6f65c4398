//! `verkstall migrate --to postgres://…`: an embedded log copied into PostgreSQL is the same
//! log, byte for byte (every position, version, `recorded_at` and hash is inside the stored
//! line), and verifies there with the same last hash; a target that holds anything is refused
//! (exit 4) and left as it was; a copy that fails part-way leaves the target empty.
//!
//! Each test runs on a scratch database of its own (`store_postgres::ScratchDatabase`).

use std::sync::Arc;

use store::{EventStore, ImportOptions};
use store_postgres::{COPY_PAGE_EVENTS, CopyRefused, PgStore};
use verkstall_tests::fixtures::interleaved;
use verkstall_tests::{Exit, Scratch};

use crate::pg::{replace_in_stored_line, scratch_database};
use crate::store_conformance::fixtures::{accepted, decision, grant};

/// The last hash `verify` prints.
fn last_hash(verified: &str) -> &str {
    verified
        .trim_end()
        .rsplit_once("last hash ")
        .map(|(_, hash)| hash)
        .unwrap_or_else(|| panic!("no last hash in {verified:?}"))
}

#[test]
fn a_migrated_log_is_the_same_bytes_and_verifies_with_the_same_last_hash() {
    let (_runtime, database) = scratch_database();
    let config = database.config();
    let scratch = Scratch::new();
    let events = interleaved(4);
    // Two imports and so two `recorded_at`s; 28 events in 4 decisions.
    for part in events.chunks(16) {
        let imported = scratch.import(part, &[]);
        assert_eq!(imported.exit, Exit::Done, "{}", imported.stderr);
    }
    let source_verified = scratch.run(&["verify"]);
    assert_eq!(
        source_verified.exit,
        Exit::Done,
        "{}",
        source_verified.stderr
    );

    let migrated = scratch.run(&["migrate", "--to", &config]);
    assert_eq!(migrated.exit, Exit::Done, "{}", migrated.stderr);
    assert!(
        migrated
            .stdout
            .starts_with("migrated 28 events in 4 decisions to PostgreSQL; both sides verify"),
        "{}",
        migrated.stdout
    );

    let copied = scratch.run(&["--store", &config, "events"]);
    assert_eq!(copied.exit, Exit::Done, "{}", copied.stderr);
    let source = scratch.events(&[]);
    assert_eq!(source.len(), 28);
    assert_eq!(
        copied.stdout.lines().collect::<Vec<_>>(),
        source,
        "the copy is the source, byte for byte"
    );
    let target_verified = scratch.run(&["--store", &config, "verify"]);
    assert_eq!(
        target_verified.exit,
        Exit::Done,
        "{}",
        target_verified.stderr
    );
    assert_eq!(
        last_hash(&target_verified.stdout),
        last_hash(&source_verified.stdout)
    );
    assert_eq!(
        last_hash(&migrated.stdout),
        last_hash(&source_verified.stdout)
    );
}

#[test]
fn a_target_holding_a_log_is_refused_and_left_as_it_was() {
    let (runtime, database) = scratch_database();
    let config = database.config();
    let scratch = Scratch::new();
    let imported = scratch.import(&interleaved(2), &[]);
    assert_eq!(imported.exit, Exit::Done, "{}", imported.stderr);

    // A target with one event of its own.
    runtime.block_on(async {
        let target = PgStore::connect(&config).await.unwrap();
        let d = decision(77);
        accepted(
            target
                .append(d, store::ExpectedVersion::NoStream, vec![grant(d)])
                .await,
        );
    });
    let before = scratch.run(&["--store", &config, "events"]).stdout;
    assert_eq!(before.lines().count(), 1);

    let refused = scratch.run(&["migrate", "--to", &config]);
    assert_eq!(refused.exit, Exit::Conflict, "{}", refused.stderr);
    assert_eq!(
        refused.stderr,
        "verkstall: the target already holds a log (its head is at position 1); a log is \
         copied only into an empty database; nothing was written\n"
    );
    assert_eq!(refused.stdout, "");
    assert_eq!(scratch.run(&["--store", &config, "events"]).stdout, before);

    // Migrating twice: the second run meets the first's copy.
    let (_runtime2, second) = scratch_database();
    let migrated = scratch.run(&["migrate", "--to", &second.config()]);
    assert_eq!(migrated.exit, Exit::Done, "{}", migrated.stderr);
    let again = scratch.run(&["migrate", "--to", &second.config()]);
    assert_eq!(again.exit, Exit::Conflict, "{}", again.stderr);
    assert!(again.stderr.contains("position 14"), "{}", again.stderr);
}

/// A node on the PostgreSQL store answers the reports from its own data directory's snapshot,
/// made there on first use: the very answers the embedded log gives, and a rebuild folds the
/// same log.
#[test]
fn reports_and_rebuild_read_the_postgresql_store_and_answer_as_the_embedded_log() {
    let (_runtime, database) = scratch_database();
    let config = database.config();
    let scratch = Scratch::new();
    let imported = scratch.import(&interleaved(4), &[]);
    assert_eq!(imported.exit, Exit::Done, "{}", imported.stderr);
    let migrated = scratch.run(&["migrate", "--to", &config]);
    assert_eq!(migrated.exit, Exit::Done, "{}", migrated.stderr);

    // Asked as of the moment the log was last recorded, so both answers name one moment.
    let last: serde_json::Value =
        serde_json::from_str(scratch.events(&[]).last().unwrap()).unwrap();
    let as_of = last["recorded_at"].as_str().unwrap().to_owned();
    // A node with no data directory yet: a store that cannot be reached makes none; the store
    // makes one, for the snapshot.
    let node = Scratch::new();
    let unreachable = node.run(&[
        "--store",
        "host=127.0.0.1 port=1 user=postgres connect_timeout=2",
        "open-cases",
    ]);
    assert_eq!(unreachable.exit, Exit::Failed, "{}", unreachable.stderr);
    assert!(!node.data().exists());
    let decision = verkstall_tests::fixtures::decision_id(2);
    for question in [
        &["report", "ivo", "--quarter", "2023Q2", "--format", "json"][..],
        &[
            "report",
            "council",
            "--quarter",
            "2023Q2",
            "--format",
            "csv",
        ][..],
        &["open-cases", "--on", "2023-06-30", "--format", "json"][..],
        &["deadlines", "--from", "2023-01-01", "--to", "2023-12-31"][..],
        &[
            "dossier",
            &decision,
            "--on",
            "2023-09-11",
            "--format",
            "json",
        ][..],
    ] {
        let args: Vec<&str> = question
            .iter()
            .copied()
            .chain(["--as-of", as_of.as_str()])
            .collect();
        let args = args.as_slice();
        let embedded = scratch.run(args);
        assert_eq!(embedded.exit, Exit::Done, "{args:?}: {}", embedded.stderr);
        let with_store: Vec<&str> = ["--store", config.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let on_postgres = node.run(&with_store);
        assert_eq!(
            on_postgres.exit,
            Exit::Done,
            "{args:?}: {}",
            on_postgres.stderr
        );
        assert!(
            on_postgres.stdout.len() > 100,
            "{args:?}: {}",
            on_postgres.stdout
        );
        assert_eq!(on_postgres.stdout, embedded.stdout, "{args:?}");
    }
    assert!(node.data().join("projections.snapshot").is_file());

    let rebuilt = node.run(&["--store", &config, "rebuild"]);
    assert_eq!(rebuilt.exit, Exit::Done, "{}", rebuilt.stderr);
    assert!(
        rebuilt
            .stdout
            .starts_with("rebuilt the projections from 28 events (4 decisions)"),
        "{}",
        rebuilt.stdout
    );
}

#[test]
fn migrate_refuses_a_store_that_is_no_postgresql_connection_string() {
    let scratch = Scratch::new();
    let imported = scratch.import(&interleaved(1), &[]);
    assert_eq!(imported.exit, Exit::Done, "{}", imported.stderr);
    let refused = scratch.run(&["migrate", "--to", "/var/lib/verkstall"]);
    assert_eq!(refused.exit, Exit::Usage, "{}", refused.stderr);
    assert!(refused.stderr.contains("--store"), "{}", refused.stderr);
}

#[test]
fn a_command_that_reads_the_embedded_log_only_refuses_a_store() {
    let scratch = Scratch::new();
    let imported = scratch.import(&interleaved(1), &[]);
    assert_eq!(imported.exit, Exit::Done, "{}", imported.stderr);
    for args in [
        &["--store", "postgres://nowhere/x", "import", "-"][..],
        &[
            "--store",
            "postgres://nowhere/x",
            "migrate",
            "--to",
            "postgres://nowhere/y",
        ][..],
    ] {
        let refused = scratch.run(args);
        assert_eq!(refused.exit, Exit::Usage, "{args:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("embedded log only") && !refused.stderr.contains("nowhere"),
            "{args:?}: {}",
            refused.stderr
        );
    }
}

/// A copy that meets a damaged line after it has inserted a whole page rolls back: the target
/// is empty afterwards (nothing of the first page is left behind), and takes a good copy then.
#[test]
fn a_copy_that_fails_part_way_leaves_the_target_empty() {
    let (runtime, source_db) = scratch_database();
    let (_runtime2, target_db) = scratch_database();
    let events = COPY_PAGE_EVENTS as u64 + 50;
    let damaged = COPY_PAGE_EVENTS as u64 + 20;
    runtime.block_on(async {
        let source = Arc::new(PgStore::connect(&source_db.config()).await.unwrap());
        let grants = (0..events).map(|n| grant(decision(n))).collect();
        accepted(source.import(grants, ImportOptions::default()).await);
        let target = PgStore::connect(&target_db.config()).await.unwrap();

        // Behind the store's back: the granted service's law changed in one stored line.
        let changed =
            replace_in_stored_line(&source_db, damaged, r#""law":"SoL""#, r#""law":"LSS""#).await;
        assert_eq!(changed, 1);
        let refused = target
            .copy_from(source.as_ref(), &mut |_, _| {})
            .await
            .unwrap();
        match refused {
            Err(CopyRefused::Source(damage)) => assert_eq!(damage.position, damaged, "{damage}"),
            other => panic!("expected the damaged source to be refused, got {other:?}"),
        }
        let left = target_db
            .execute("SELECT 1 FROM verkstall.events")
            .await
            .unwrap();
        assert_eq!(left, 0, "rows of the failed copy were left behind");
        assert_eq!(target.head().await.unwrap().position, 0);

        // Mended, the source copies whole into the same target.
        let mended =
            replace_in_stored_line(&source_db, damaged, r#""law":"LSS""#, r#""law":"SoL""#).await;
        assert_eq!(mended, 1);
        let copied = target
            .copy_from(source.as_ref(), &mut |_, _| {})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(copied.events, events);
        let verified = target.verify(&mut |_, _| {}).await.unwrap().unwrap();
        assert_eq!(verified.head_hash, copied.head_hash);
        assert_eq!(verified.events, events);
    });
}
