//! Copying a whole log into an empty PostgreSQL store (`verkstall migrate`), keeping every
//! position, version, event id, `recorded_at`, stored byte and hash exactly.
//!
//! The copy runs in one transaction on a connection of its own, holding the head row's lock
//! from the first statement to `COMMIT`: no other writer, on any node, can write in between, and
//! a failure anywhere (the source damaged, the database gone, the process killed) leaves the
//! target as it was, empty. A target that already holds a log is refused before anything is
//! written. Each source line is checked as it is copied ([`ChainWalk`]: contiguous, strictly
//! parsed, linked to the previous hash, `recorded_at` in order, versions contiguous), so the
//! copy can only commit a log whose chain ends at the source's head hash.

use store::{Damage, EventStore, StoreError};

use crate::error::db;
use crate::plan::{Row, Tail};
use crate::verify::ChainWalk;
use crate::{PgStore, tx};

/// Events read from the source and inserted per step.
pub const COPY_PAGE_EVENTS: usize = 10_000;

/// A copy that committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Events copied.
    pub events: u64,
    /// Decisions (streams) copied.
    pub decisions: u64,
    /// The hash of the last event (hex), the same on both sides.
    pub head_hash: String,
}

/// A copy that was refused: nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyRefused {
    /// The target already holds events.
    #[error(
        "the target already holds a log (its head is at position {head}); a log is copied only \
         into an empty database"
    )]
    NotEmpty {
        /// The target's head position.
        head: u64,
    },
    /// The source log does not verify.
    #[error("the source log is damaged at position {}: {}", .0.position, .0.detail)]
    Source(Damage),
}

impl PgStore {
    /// Copies every event of `source`, up to the head it has when the copy begins, into this
    /// store, which must be empty (module docs). `progress(done, total)` is called after each
    /// step. Afterwards verify both sides and compare their head hashes.
    pub async fn copy_from(
        &self,
        source: &dyn EventStore,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Result<Copied, CopyRefused>, StoreError> {
        let total = source.head().await?.position;
        let (mut client, connection) = crate::conn::connect_client(&self.config).await?;
        let copied = async {
            let transaction = client.transaction().await.map_err(db)?;
            let tail = tx::lock_head(&transaction).await?;
            let any: bool = transaction
                .query_one("SELECT EXISTS (SELECT 1 FROM verkstall.events)", &[])
                .await
                .map_err(db)?
                .get(0);
            if tail.position != 0 || any {
                // Dropping the transaction rolls it back: nothing was written.
                return Ok(Err(CopyRefused::NotEmpty {
                    head: tail.position,
                }));
            }
            let mut walk = ChainWalk::new();
            let mut after = 0u64;
            while after < total {
                let page = source.read_stored_lines(after, COPY_PAGE_EVENTS).await?;
                if page.is_empty() {
                    return Ok(Err(CopyRefused::Source(Damage {
                        position: after + 1,
                        detail: "missing from the log".into(),
                    })));
                }
                let mut rows = Vec::with_capacity(page.len());
                for (position, line) in page.into_iter().take_while(|(p, _)| *p <= total) {
                    match walk.check(position, &line) {
                        Ok(record) => rows.push(Row {
                            record,
                            line,
                            hash: walk.hash,
                        }),
                        Err(damage) => return Ok(Err(CopyRefused::Source(damage))),
                    }
                    after = position;
                }
                let rows: Vec<&Row> = rows.iter().collect();
                tx::insert_rows(&transaction, &rows).await.map_err(db)?;
                progress(after, total);
            }
            if total > 0 {
                let next = Tail {
                    position: total,
                    hash: walk.hash,
                    recorded_at: walk.recorded_at,
                };
                tx::move_head(&transaction, 0, next).await?;
            }
            transaction.commit().await.map_err(db)?;
            Ok(Ok(Copied {
                events: total,
                decisions: walk.decisions().len() as u64,
                head_hash: walk.hash_hex(),
            }))
        }
        .await;
        drop(client);
        connection.abort();
        if matches!(copied, Ok(Ok(_))) {
            self.analyze().await;
        }
        copied
    }
}
