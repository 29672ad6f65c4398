//! The schema verkstall owns in PostgreSQL, and its versioned migrations.
//!
//! Everything lives in the schema `verkstall`. `verkstall.schema_migrations` lists the versions
//! applied. [`migrate`] runs at every start: under a session advisory lock (so nodes starting at
//! once apply each migration exactly once, the others waiting), it applies what is missing, each
//! migration in its own transaction with its row in `schema_migrations`, and refuses a database
//! migrated by a newer verkstall. The lock is held during migration only, never while serving.

use tokio_postgres::Client;

use crate::error::db;
use store::StoreError;

/// One step of the schema.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order. Never edit one that has shipped: add the next.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "the log, its head and the checkpoints",
    sql: include_str!("migrations/0001_log.sql"),
}];

/// The schema version this build knows.
pub const SCHEMA_VERSION: i32 = 1;

/// The advisory lock key held while migrating ("verkstal" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x7665_726b_7374_616c;

/// Applies the missing migrations; returns how many were applied.
pub(crate) async fn migrate(client: &mut Client) -> Result<usize, StoreError> {
    debug_assert_eq!(
        MIGRATIONS.last().map(|m| m.version),
        Some(SCHEMA_VERSION),
        "SCHEMA_VERSION is the last migration"
    );
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(db)?;
    let result = migrate_locked(client).await;
    // Released whatever happened; a dropped connection releases it too.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(db);
    let applied = result?;
    unlocked?;
    Ok(applied)
}

async fn migrate_locked(client: &mut Client) -> Result<usize, StoreError> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS verkstall;
             CREATE TABLE IF NOT EXISTS verkstall.schema_migrations (
                 version    integer     PRIMARY KEY,
                 name       text        NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
             );",
        )
        .await
        .map_err(db)?;
    let newest: Option<i32> = client
        .query_one("SELECT max(version) FROM verkstall.schema_migrations", &[])
        .await
        .map_err(db)?
        .get(0);
    let newest = newest.unwrap_or(0);
    if newest > SCHEMA_VERSION {
        return Err(StoreError::Invalid(format!(
            "the database has schema version {newest}; this verkstall knows versions up to \
             {SCHEMA_VERSION}: upgrade verkstall"
        )));
    }
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|m| m.version > newest) {
        let tx = client.transaction().await.map_err(db)?;
        tx.batch_execute(migration.sql).await.map_err(db)?;
        tx.execute(
            "INSERT INTO verkstall.schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "schema migrated"
        );
        applied += 1;
    }
    restamp_foreign_transaction_ids(client).await?;
    Ok(applied)
}

/// A log restored (`pg_dump`/`pg_restore`, logical replication) into another cluster keeps the
/// old cluster's transaction ids in `tx`; the new cluster's counter may be far behind them, and
/// such rows would stay above every reader's horizon until the counter caught up. A row whose
/// `tx` is at or above this snapshot's `xmax` cannot have been written by this cluster (no such
/// id was handed out yet), and it is committed (we see it): it is marked settled (`tx = 0`).
async fn restamp_foreign_transaction_ids(client: &Client) -> Result<(), StoreError> {
    let restamped = client
        .execute(
            "UPDATE verkstall.events SET tx = '0'::xid8
             WHERE tx >= pg_snapshot_xmax(pg_current_snapshot())",
            &[],
        )
        .await
        .map_err(db)?;
    if restamped > 0 {
        tracing::warn!(
            rows = restamped,
            "events carried transaction ids of another cluster (a restore?); marked settled"
        );
    }
    Ok(())
}
