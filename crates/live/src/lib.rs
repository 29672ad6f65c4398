//! Keeping the projections current, so a query does not replay the log.
//!
//! The projection lives in memory and on disk as a *snapshot* beside the log
//! (`projections.snapshot` in the data directory): the folded state plus the position and hash
//! of the last event folded in — its durable checkpoint. Opening [`load`]s the snapshot, checks
//! it belongs to this log (the hash at its position must match), and catches up from there;
//! [`ProjectionSubscriber`] keeps it current while a server runs, saving a new snapshot as it
//! goes; [`rebuild`] folds the whole log from nothing and gives the same answer.
//!
//! A snapshot is an optimisation, never the truth: a missing, damaged, foreign or outdated one
//! is replaced by a rebuild from the log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use domain::RecordedEvent;
use projections::{Projection, ProjectionError};
use store::{EventStore, StoreError, Subscriber};

mod snapshot;

pub use snapshot::{read_snapshot, save_snapshot, snapshot_path};

/// The snapshot's file name in the data directory.
pub const SNAPSHOT_FILE_NAME: &str = "projections.snapshot";
/// The subscriber name the projection follows the log under.
pub const SUBSCRIBER_NAME: &str = "projections";
/// Events read from the store per page while catching up.
pub const CATCH_UP_PAGE_EVENTS: usize = 10_000;

/// Why the projection could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log could not be folded (it breaks an invariant the store guarantees).
    #[error("the projection cannot fold the log: {0}")]
    Fold(#[from] ProjectionError),
    /// The snapshot could not be written.
    #[error("cannot save the projection snapshot at {path}: {source}")]
    Save {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Folds everything after the projection's head into it; `progress(done, total)` as it goes.
/// Returns how many events were folded in.
///
/// The next page is read (and decoded, on the store's threads) while this one is folded.
pub async fn catch_up(
    store: &dyn EventStore,
    projection: &mut Projection,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<u64, LiveError> {
    let total = store.head().await?.position;
    let start = projection.head();
    let mut events = store
        .read_all(projection.head(), CATCH_UP_PAGE_EVENTS, None)
        .await?;
    while let Some(last) = events.last().map(|e| e.position) {
        let fold = async {
            for event in &events {
                projection.apply(event)?;
            }
            Ok::<(), ProjectionError>(())
        };
        // `read_all` starts its read when first polled, before the fold runs on this task.
        let (next, folded) = tokio::join!(store.read_all(last, CATCH_UP_PAGE_EVENTS, None), fold);
        folded?;
        progress(projection.head(), total.max(projection.head()));
        events = next?;
    }
    Ok(projection.head() - start)
}

/// Whether a saved projection belongs to this log: its head exists and carries its hash.
async fn belongs_to(store: &dyn EventStore, projection: &Projection) -> Result<bool, StoreError> {
    if projection.head() == 0 {
        return Ok(true);
    }
    let at_head = store.read_all(projection.head() - 1, 1, None).await?;
    Ok(at_head
        .first()
        .is_some_and(|e| e.position == projection.head() && e.hash == projection.head_hash()))
}

/// The projection of the log in `data_dir`: the saved snapshot if it belongs to this log,
/// caught up; else a rebuild. Saves the snapshot when it moved.
pub async fn load(
    store: &dyn EventStore,
    data_dir: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Projection, LiveError> {
    let path = snapshot_path(data_dir);
    let mut projection = match read_snapshot(&path) {
        Some(saved) if belongs_to(store, &saved).await? => saved,
        Some(_) => {
            tracing::warn!(path = %path.display(), "the projection snapshot is not of this log; rebuilding");
            Projection::new()
        }
        None => Projection::new(),
    };
    let folded = catch_up(store, &mut projection, progress).await?;
    projection.refresh_index();
    if folded > 0 {
        save_snapshot(&projection, &path)?;
    }
    Ok(projection)
}

/// Folds the whole log from nothing and saves the result.
pub async fn rebuild(
    store: &dyn EventStore,
    data_dir: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Projection, LiveError> {
    let mut projection = Projection::new();
    catch_up(store, &mut projection, progress).await?;
    projection.refresh_index();
    save_snapshot(&projection, &snapshot_path(data_dir))?;
    Ok(projection)
}

/// Keeps a shared projection current as a subscriber of the log, saving a snapshot every
/// `save_every` events. Redelivered events (at least once) are skipped by position.
pub struct ProjectionSubscriber {
    projection: Arc<RwLock<Projection>>,
    snapshot: PathBuf,
    save_every: u64,
    saved_at: std::sync::atomic::AtomicU64,
}

impl ProjectionSubscriber {
    /// A subscriber folding into `projection`, saving to the snapshot of `data_dir`.
    pub fn new(
        projection: Arc<RwLock<Projection>>,
        data_dir: &Path,
        save_every: u64,
    ) -> ProjectionSubscriber {
        let head = projection.read().map(|p| p.head()).unwrap_or(0);
        ProjectionSubscriber {
            projection,
            snapshot: snapshot_path(data_dir),
            save_every,
            saved_at: std::sync::atomic::AtomicU64::new(head),
        }
    }

    /// Where the subscription must start: the projection's own head (its durable checkpoint is
    /// the snapshot, not the store's subscriber checkpoint).
    pub async fn align_checkpoint(&self, store: &dyn EventStore) -> Result<(), StoreError> {
        let head = self.projection.read().map(|p| p.head()).unwrap_or(0);
        store.save_checkpoint(SUBSCRIBER_NAME, head).await
    }
}

#[async_trait]
impl Subscriber for ProjectionSubscriber {
    fn name(&self) -> &str {
        SUBSCRIBER_NAME
    }

    async fn handle(
        &self,
        events: &[RecordedEvent],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let head = {
            let mut projection = self
                .projection
                .write()
                .map_err(|_| "the projection lock is poisoned")?;
            for event in events {
                if event.position > projection.head() {
                    projection.apply(event)?;
                }
            }
            projection.refresh_index();
            projection.head()
        };
        let saved = self.saved_at.load(std::sync::atomic::Ordering::Acquire);
        if head >= saved + self.save_every {
            let projection = self
                .projection
                .read()
                .map_err(|_| "the projection lock is poisoned")?;
            save_snapshot(&projection, &self.snapshot)?;
            self.saved_at
                .store(head, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }
}
