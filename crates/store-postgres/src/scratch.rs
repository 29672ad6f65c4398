//! Scratch databases for tests: a uniquely named database per test, dropped afterwards, so tests
//! on one PostgreSQL server run in parallel without seeing each other.

use std::sync::atomic::{AtomicU64, Ordering};

use store::StoreError;
use tokio_postgres::NoTls;

use crate::error::db;

/// The server tests use unless `VERKSTALL_TEST_POSTGRES` says otherwise (`key=value` pairs,
/// without `dbname`).
pub const TEST_SERVER_DEFAULT: &str = "host=127.0.0.1 port=5432 user=postgres";

/// A fresh, empty database, dropped (with any connection still open to it) when this is.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates a uniquely named database on the test server (`VERKSTALL_TEST_POSTGRES`, else
    /// [`TEST_SERVER_DEFAULT`]), through its database `postgres`.
    pub async fn create() -> Result<ScratchDatabase, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let server = std::env::var("VERKSTALL_TEST_POSTGRES")
            .unwrap_or_else(|_| TEST_SERVER_DEFAULT.to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "verkstall_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(&server, &format!("CREATE DATABASE {name}")).await?;
        Ok(ScratchDatabase { server, name })
    }

    /// The connection string of the database.
    pub fn config(&self) -> String {
        format!("{} dbname={}", self.server, self.name)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs one SQL statement on the database, on a connection of its own, behind any store's
    /// back (tamper tests edit stored rows this way); returns the rows it touched or returned.
    pub async fn execute(&self, sql: &str) -> Result<u64, StoreError> {
        let (client, connection) = tokio_postgres::connect(&self.config(), NoTls)
            .await
            .map_err(db)?;
        let driver = tokio::spawn(connection);
        let result = client.execute(sql, &[]).await.map_err(db);
        drop(client);
        let _ = driver.await;
        result
    }
}

impl Drop for ScratchDatabase {
    /// Drops the database on a thread of its own (a runtime of its own, whatever the caller's
    /// context), forcing out connections still open.
    fn drop(&mut self) {
        let (server, sql) = (
            self.server.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::Stopped(e.to_string()))?;
            runtime.block_on(admin(&server, &sql))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, name = %self.name, "scratch database not dropped")
            }
            Err(_) => tracing::warn!(name = %self.name, "dropping the scratch database panicked"),
        }
    }
}

async fn admin(server: &str, sql: &str) -> Result<(), StoreError> {
    let (client, connection) = tokio_postgres::connect(&format!("{server} dbname=postgres"), NoTls)
        .await
        .map_err(db)?;
    let driver = tokio::spawn(connection);
    let result = client.batch_execute(sql).await.map_err(db);
    drop(client);
    let _ = driver.await;
    result
}
