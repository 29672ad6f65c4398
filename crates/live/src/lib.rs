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
use projections::{FoldEvent, Projection, ProjectionError};
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
/// It reads stored lines, not decoded events: the fold's reading of a line
/// ([`FoldEvent::from_stored_line`]) skips what the projection does not keep. Each page is read
/// (on the store's thread) while the one before is decoded, on every core, and folded.
pub async fn catch_up(
    store: &dyn EventStore,
    projection: &mut Projection,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<u64, LiveError> {
    let total = store.head().await?.position;
    let start = projection.head();
    projection.reserve(usize::try_from(total.saturating_sub(start)).unwrap_or(0));
    let mut lines = store
        .read_stored_lines(projection.head(), CATCH_UP_PAGE_EVENTS)
        .await?;
    while let Some(&(last, _)) = lines.last() {
        let fold = async { fold_lines(projection, &lines) };
        // `read_stored_lines` starts its read when first polled, before the fold runs on this
        // task.
        let (next, folded) =
            tokio::join!(store.read_stored_lines(last, CATCH_UP_PAGE_EVENTS), fold);
        folded?;
        progress(projection.head(), total.max(projection.head()));
        lines = next?;
    }
    projection.trim();
    Ok(projection.head() - start)
}

/// Lines per part of a page decoded at a time, at least.
const DECODE_PART_LINES_MIN: usize = 1_000;
/// Parts a page is decoded in, at most.
const DECODE_PARTS_MAX: usize = 8;
/// Threads decoding a page, at most.
const DECODE_THREADS_MAX: usize = 4;

/// Decodes a page of stored lines on other threads, one per core, and folds it in, in order,
/// on this one: folding is the one part that cannot be shared, so this thread does nothing else.
/// The page is cut into parts that the decoding threads take in turn, so folding starts as soon
/// as the first part is decoded.
fn fold_lines(projection: &mut Projection, lines: &[(u64, Vec<u8>)]) -> Result<(), LiveError> {
    let parts = (lines.len() / DECODE_PART_LINES_MIN).clamp(1, DECODE_PARTS_MAX);
    // Asking the machine for its cores reads several files (cgroups): only when there are
    // parts to share.
    let threads = if parts > 1 {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(DECODE_THREADS_MAX)
            .min(parts)
    } else {
        1
    };
    if threads == 1 {
        projection.fold_all(decode_lines(lines)?)?;
        return Ok(());
    }
    let parts: Vec<&[(u64, Vec<u8>)]> = lines.chunks(lines.len().div_ceil(parts)).collect();
    let (senders, receivers): (Vec<_>, Vec<_>) = parts
        .iter()
        .map(|_| std::sync::mpsc::sync_channel(1))
        .unzip();
    std::thread::scope(|scope| {
        let mut senders: Vec<_> = senders.into_iter().map(Some).collect();
        for thread in 0..threads {
            // This thread's turns: parts thread, thread + threads, …
            let turns: Vec<_> = (thread..parts.len())
                .step_by(threads)
                .map(|part| (parts[part], senders[part].take()))
                .collect();
            scope.spawn(move || {
                for (part, sender) in turns {
                    let decoded = decode_lines(part);
                    let failed = decoded.is_err();
                    // The receiver is gone only when folding stopped at an error.
                    if sender.is_some_and(|s| s.send(decoded).is_err()) || failed {
                        return;
                    }
                }
            });
        }
        for receiver in receivers {
            let Ok(decoded) = receiver.recv() else {
                // Only a decoding thread that panicked leaves a part unsent: the scope passes
                // its panic on when this returns.
                break;
            };
            projection.fold_all(decoded?)?;
        }
        Ok(())
    })
}

/// The fold's reading of each line; a line that does not decode, or is not at its position,
/// is damage in the store.
fn decode_lines(lines: &[(u64, Vec<u8>)]) -> Result<Vec<FoldEvent<'_>>, StoreError> {
    lines
        .iter()
        .map(|(position, line)| {
            store::decode_with(*position, line, FoldEvent::from_stored_line, |e| {
                e.fact.position
            })
        })
        .collect()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use domain::{EventType, NewEvent, RecordedEvent};

    use super::*;

    /// `count` stored lines of one decision's grant followed by notes.
    fn lines(count: u64) -> Vec<(u64, Vec<u8>)> {
        (1..=count)
            .map(|position| {
                let event_type = if position == 1 {
                    EventType::DecisionGranted
                } else {
                    EventType::NoteRecorded
                };
                let new =
                    NewEvent::from_json(&domain::schema::example(event_type).to_string()).unwrap();
                let event = RecordedEvent {
                    position,
                    version: position,
                    recorded_at: "2023-01-02T10:11:12.123456Z".parse().unwrap(),
                    event_id: domain::EventId::from_uuid(uuid::Uuid::from_u128(
                        u128::from(position) | (0x4000 << 64),
                    )),
                    decision_id: new.decision_id,
                    occurred_on: new.occurred_on,
                    actor: None,
                    data: new.data,
                    hash: format!("{position:064x}"),
                };
                (position, event.to_json().into_bytes())
            })
            .collect()
    }

    #[test]
    fn a_page_decoded_in_parts_folds_in_order() {
        let lines = lines(5_000);
        let mut projection = Projection::new();
        fold_lines(&mut projection, &lines).unwrap();
        assert_eq!(projection.head(), 5_000);
        assert_eq!(projection.head_hash(), format!("{:064x}", 5_000));
        let facts = &projection.decisions().next().unwrap().facts;
        assert!(facts.windows(2).all(|w| w[0].position + 1 == w[1].position));
    }

    #[test]
    fn a_damaged_line_in_any_part_is_named_by_its_position_and_nothing_after_it_is_folded() {
        for damaged in [2, 1_999, 4_321, 5_000] {
            let mut lines = lines(5_000);
            lines[damaged - 1].1.truncate(40);
            let mut projection = Projection::new();
            match fold_lines(&mut projection, &lines) {
                Err(LiveError::Store(StoreError::Corrupt { position, .. })) => {
                    assert_eq!(position, damaged as u64);
                }
                other => panic!("{other:?}"),
            }
            // Folding stops at the part that holds it.
            assert!(projection.head() < damaged as u64, "{}", projection.head());
        }
        // A line stored at another position than it says.
        let mut lines = lines(3_000);
        let moved = std::mem::take(&mut lines[2_500].1);
        lines[2_500].1 = std::mem::replace(&mut lines[2_501].1, moved);
        let mut projection = Projection::new();
        assert!(matches!(
            fold_lines(&mut projection, &lines),
            Err(LiveError::Store(StoreError::Corrupt {
                position: 2_501,
                ..
            }))
        ));
    }
}
