//! The stored lines of the newest appended events, kept in memory for the readers.
//!
//! A decision read just after it was appended to (the case officer checking what was just
//! recorded, an integrator following up a webhook) reads the events of its stream, the newest
//! of them among the last appended. Reading them from the key-value layer costs a read
//! transaction and a walk down the events table for each; the committer has the lines in hand
//! when it commits them. So after each append group is committed, its events' lines are kept
//! here by position, the newest [`RECENT_LINES_BYTES_MAX`] bytes of them, and reads take the
//! lines they find here before they ask the key-value layer for the rest.
//!
//! An event's line never changes once committed, and a reader asks only for positions it found
//! committed (through the indexes, up to the readable head), so a line found here is the line
//! the key-value layer holds. Lines are kept only after their batch committed: a failed commit
//! leaves nothing here. The positions kept follow one another; an import (which is not kept:
//! it would only push every append out) breaks the run, and the lines kept before it are
//! forgotten.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use kv::{Batch, Op};

use crate::layout::{EVENTS, decode_u64};

/// Bytes of lines kept at most; the oldest are forgotten first.
pub(crate) const RECENT_LINES_BYTES_MAX: usize = 32 << 20;

/// The kept lines: those of the positions from `first` on, in order.
#[derive(Debug)]
pub(crate) struct RecentLines {
    kept: Mutex<Kept>,
}

impl Default for RecentLines {
    fn default() -> RecentLines {
        RecentLines::bounded(RECENT_LINES_BYTES_MAX)
    }
}

/// The events' lines of a batch, by position.
pub(crate) type Lines = Vec<(u64, Arc<[u8]>)>;

/// The events' lines `batch` writes, to keep once it is committed.
pub(crate) fn lines_of(batch: &Batch) -> Lines {
    batch
        .ops()
        .iter()
        .filter_map(|op| match op {
            Op::Put { table, key, value } if *table == EVENTS => {
                Some((decode_u64(key)?, Arc::from(value.as_slice())))
            }
            _ => None,
        })
        .collect()
}

#[derive(Debug, Default)]
struct Kept {
    first: u64,
    lines: VecDeque<Arc<[u8]>>,
    bytes: usize,
    bound: usize,
}

impl RecentLines {
    /// Nothing kept yet; at most `bound` bytes of lines kept.
    pub(crate) fn bounded(bound: usize) -> RecentLines {
        RecentLines {
            kept: Mutex::new(Kept {
                bound,
                ..Kept::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `lines` ([`lines_of`] a batch just committed): an append group's, whose events
    /// follow the last ones kept.
    pub(crate) fn keep(&self, lines: Lines) {
        let mut kept = self.lock();
        for (position, line) in lines {
            if kept.lines.is_empty() || position != kept.first + kept.lines.len() as u64 {
                kept.lines.clear();
                kept.bytes = 0;
                kept.first = position;
            }
            kept.bytes += line.len();
            kept.lines.push_back(line);
            while kept.bytes > kept.bound {
                let Some(oldest) = kept.lines.pop_front() else {
                    break;
                };
                kept.bytes -= oldest.len();
                kept.first += 1;
            }
        }
    }

    /// Forgets every line: an import's events break the run of positions.
    pub(crate) fn forget(&self) {
        let mut kept = self.lock();
        kept.lines.clear();
        kept.bytes = 0;
    }

    /// The kept line of each of `positions`, where there is one.
    pub(crate) fn get(&self, positions: &[u64]) -> Vec<Option<Arc<[u8]>>> {
        let kept = self.lock();
        positions
            .iter()
            .map(|&position| {
                let at = usize::try_from(position.checked_sub(kept.first)?).ok()?;
                kept.lines.get(at).cloned()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{META, position_key};

    fn batch(positions: std::ops::RangeInclusive<u64>, bytes: usize) -> Batch {
        let mut batch = Batch::new();
        batch.put(META, b"head".to_vec(), b"not an event".to_vec());
        for position in positions {
            let line = vec![b'a' + (position % 26) as u8; bytes];
            batch.put(EVENTS, position_key(position).to_vec(), line);
        }
        batch
    }

    fn line(position: u64, bytes: usize) -> Option<Arc<[u8]>> {
        Some(Arc::from(vec![b'a' + (position % 26) as u8; bytes]))
    }

    #[test]
    fn keeps_the_newest_lines_within_its_bound_and_only_events() {
        let recent = RecentLines::bounded(40);
        recent.keep(lines_of(&batch(1..=2, 10)));
        recent.keep(lines_of(&batch(3..=5, 10)));
        assert_eq!(
            recent.get(&[5, 1, 2, 3, 4, 6, 0]),
            [
                line(5, 10),
                None,
                line(2, 10),
                line(3, 10),
                line(4, 10),
                None,
                None
            ],
            "the oldest forgotten past 40 bytes; nothing beyond the newest"
        );
        assert_eq!(
            recent.lock().lines.len(),
            4,
            "the head's put is not an event"
        );
    }

    #[test]
    fn a_break_in_the_positions_or_an_import_forgets_what_was_kept() {
        let recent = RecentLines::bounded(1 << 20);
        recent.keep(lines_of(&batch(1..=3, 5)));
        recent.keep(lines_of(&batch(10..=11, 5)));
        assert_eq!(recent.get(&[2, 10, 11]), [None, line(10, 5), line(11, 5)]);
        recent.forget();
        assert_eq!(recent.get(&[10, 11]), [None, None]);
        recent.keep(lines_of(&batch(12..=12, 5)));
        assert_eq!(recent.get(&[11, 12]), [None, line(12, 5)]);
    }
}
