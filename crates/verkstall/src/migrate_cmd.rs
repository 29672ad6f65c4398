//! `verkstall migrate --to postgres://…`: copies the data directory's embedded log into an empty
//! PostgreSQL store, keeping every position, `recorded_at`, stored byte and hash, all or nothing.
//!
//! In order: the source is verified whole (a damaged log is not copied); the copy runs in one
//! transaction that first refuses a target holding any event (exit 4, nothing written) and
//! checks each line's chain as it goes (`store_postgres::PgStore::copy_from`); then the target
//! is verified whole and its head hash compared with the source's. The embedded log is left as
//! it was; the data directory goes on holding the node's local state.

use std::io::Write;

use anyhow::anyhow;
use store_postgres::CopyRefused;

use crate::data::{self, Location};
use crate::exit::CliError;
use crate::format::count;
use crate::progress;

/// Arguments of `verkstall migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The PostgreSQL store to copy into (`postgres://USER@HOST/DATABASE` or `key=value`
    /// pairs); its log must be empty.
    #[arg(long, value_name = "URL")]
    to: String,
}

/// Runs `verkstall migrate`.
pub fn run(
    args: &MigrateArgs,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let opened = data::open_existing(location)?;
    let source = &opened.store;
    let target = data::connect_postgres(&opened.runtime, &args.to)?;

    let bar = progress::bar(
        show_progress,
        source.committed(),
        "verifying the source".into(),
    );
    let verified = source.verify(&mut progress::track(&bar));
    bar.finish_and_clear();
    let source_report = match verified.map_err(|e| anyhow!(e).context("verifying the source"))? {
        Ok(report) => report,
        Err(damage) => {
            return Err(CliError::Other(anyhow!(
                "the source log is damaged at position {}: {}; nothing was copied",
                damage.position,
                damage.detail
            )));
        }
    };

    let bar = progress::bar(show_progress, source_report.events, "copying".into());
    let copied = opened
        .runtime
        .block_on(target.copy_from(source, &mut progress::track(&bar)));
    bar.finish_and_clear();
    let copied = match copied
        .map_err(|e| anyhow!(e).context("copying into PostgreSQL; nothing was written"))?
    {
        Ok(copied) => copied,
        Err(refused @ CopyRefused::NotEmpty { .. }) => {
            return Err(CliError::Conflict(format!(
                "{refused}; nothing was written"
            )));
        }
        Err(refused @ CopyRefused::Source(_)) => {
            return Err(CliError::Other(anyhow!("{refused}; nothing was written")));
        }
    };

    let bar = progress::bar(show_progress, copied.events, "verifying the copy".into());
    let verified = opened
        .runtime
        .block_on(target.verify(&mut progress::track(&bar)));
    bar.finish_and_clear();
    let target_report = match verified.map_err(|e| anyhow!(e).context("verifying the copy"))? {
        Ok(report) => report,
        Err(damage) => {
            return Err(CliError::Other(anyhow!(
                "the copy was committed but does not verify at position {}: {}",
                damage.position,
                damage.detail
            )));
        }
    };
    if target_report != source_report {
        return Err(CliError::Other(anyhow!(
            "the copy differs from the source: {} events ending in hash {} against {} ending in {}",
            target_report.events,
            target_report.head_hash,
            source_report.events,
            source_report.head_hash
        )));
    }
    writeln!(
        out,
        "migrated {} in {} to PostgreSQL; both sides verify; last hash {}",
        count(copied.events, "event", "events"),
        count(copied.decisions, "decision", "decisions"),
        copied.head_hash
    )?;
    Ok(())
}
