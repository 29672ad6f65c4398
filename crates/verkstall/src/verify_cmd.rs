//! `verkstall verify`: re-reads the whole log and checks everything the store promises
//! (positions contiguous, each event's schema, the hash chain, `recorded_at` order, stream
//! versions, the indexes, the commit point and the §6 rules of every stream), naming the first
//! damaged position. It never creates a data directory. With `--store` it verifies the
//! PostgreSQL store (where the row's columns and the head row take the indexes' place).

use std::io::Write;

use anyhow::anyhow;

use store::{Damage, StoreError, VerifyReport};

use crate::data::{self, Location, Log};
use crate::exit::CliError;
use crate::format::count;
use crate::progress;

/// Runs `verkstall verify`, on the data directory's embedded store or on `--store`.
pub fn run(location: &Location, out: &mut dyn Write, show_progress: bool) -> Result<(), CliError> {
    let opened = data::open_log(location)?;
    let outcome = match &opened.log {
        Log::Embedded(store) => {
            let bar = progress::bar(show_progress, store.committed(), "verifying".into());
            let outcome = store.verify(&mut progress::track(&bar));
            bar.finish_and_clear();
            outcome
        }
        Log::Postgres(store) => {
            let bar = progress::bar(show_progress, 0, "verifying".into());
            let outcome = opened
                .runtime
                .block_on(store.verify(&mut progress::track(&bar)));
            bar.finish_and_clear();
            outcome
        }
    };
    report(outcome, out)
}

/// Says how a verification went: the counts and the last hash, or the first damage (exit 1).
pub fn report(
    outcome: Result<Result<VerifyReport, Damage>, StoreError>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
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
