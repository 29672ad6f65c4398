//! `verkstall verify`: re-reads the whole log and checks everything the store promises
//! (positions contiguous, each event's schema, the hash chain, `recorded_at` order, stream
//! versions, the indexes, the commit point and the §6 rules of every stream), naming the first
//! damaged position. It never creates a data directory.

use std::io::Write;

use anyhow::anyhow;

use crate::data::{self, Location};
use crate::exit::CliError;
use crate::format::count;
use crate::progress;

/// Runs `verkstall verify`.
pub fn run(location: &Location, out: &mut dyn Write, show_progress: bool) -> Result<(), CliError> {
    let opened = data::open_existing(location)?;
    let store = &opened.store;
    let bar = progress::bar(show_progress, store.committed(), "verifying".into());
    let outcome = store.verify(&mut progress::track(&bar));
    bar.finish_and_clear();
    match outcome {
        Err(error) => Err(anyhow!(error).context("verifying the log").into()),
        Ok(Err(damage)) if damage.position == 0 => Err(CliError::Other(anyhow!(
            "the log is damaged: {}",
            damage.detail
        ))),
        Ok(Err(damage)) => Err(CliError::Other(anyhow!(
            "the log is damaged at position {}: {}",
            damage.position,
            damage.detail
        ))),
        Ok(Ok(report)) => {
            writeln!(
                out,
                "verified {} in {}: positions contiguous, hash chain whole, indexes and rules \
                 hold; last hash {}",
                count(report.events, "event", "events"),
                count(report.decisions, "decision", "decisions"),
                report.head_hash
            )?;
            Ok(())
        }
    }
}
