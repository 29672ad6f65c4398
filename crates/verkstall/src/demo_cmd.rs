//! `verkstall demo`: fills a new data directory with a realistic synthetic municipality, then
//! brings the projections up to date so the first report is fast.

use std::io::Write;

use anyhow::Context;
use chrono::{Datelike, Utc};

use crate::data::{self, Location};
use crate::exit::CliError;
use crate::progress;

/// Arguments of `verkstall demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The seed: the same seed and size give the same municipality.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many decisions (a mid-sized municipality by default).
    #[arg(long, default_value_t = demo::DEFAULT_DECISIONS)]
    decisions: u32,
    /// How many years of history before this year.
    #[arg(long, default_value_t = demo::DEFAULT_YEARS_BACK)]
    years: i32,
}

/// Runs `verkstall demo`.
pub fn run(
    args: &DemoArgs,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let until = Utc::now();
    let mut options = demo::DemoOptions::new(args.seed, until);
    options.decisions = args.decisions;
    options.first_year = domain::time::business_date(until).year() - args.years;
    options
        .check()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let opened = data::open_for_writing(location)?;
    let bar = progress::bar(show_progress, 0, "generating and importing the demo".into());
    let summary = opened
        .runtime
        .block_on(demo::fill(
            &opened.store,
            &options,
            &mut progress::track(&bar),
        ))
        .map_err(|e| match e {
            demo::DemoError::NotEmpty { .. } => CliError::Refused(format!(
                "{e}; the demo fills only a new data directory (name another with --data)"
            )),
            other => CliError::Other(anyhow::Error::new(other)),
        })?;
    bar.finish_and_clear();
    let bar = progress::bar(
        show_progress,
        opened.store.committed(),
        "bringing the projections up to date".into(),
    );
    opened
        .runtime
        .block_on(live::load(
            &opened.store,
            &location.path,
            &mut progress::track(&bar),
        ))
        .context("building the projections")?;
    bar.finish_and_clear();
    writeln!(
        out,
        "demo municipality (seed {}): {} events for {} decisions from {} to {} in {}",
        args.seed,
        summary.events,
        summary.decisions,
        options.first_year,
        domain::time::business_date(until),
        location.path.display()
    )?;
    Ok(())
}
