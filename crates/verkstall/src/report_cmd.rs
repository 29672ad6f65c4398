//! The report commands (spec §8): `report ivo`, `report council`, `open-cases`, `deadlines`,
//! `dossier`, and `rebuild`. Each loads the projection kept beside the log (caught up from the
//! log, never replaying it whole unless it must), asks it *as of* a moment, and renders.

use std::io::Write;

use anyhow::Context;
use api::query::{
    self, DossierQuery, QuarterQuery, QueryError, parse_as_of, parse_date, parse_decision,
    parse_quarter,
};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{DecisionId, Quarter};
use projections::Projection;

use crate::data::{self, Location, OpenedLog};
use crate::exit::CliError;
use crate::format::Format;
use crate::progress;

/// `--as-of` and `--format`, common to every report.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Only what was recorded by this moment: RFC 3339 (2023-07-31T12:00:00Z), or a date, meaning
    /// the end of that day in Stockholm. Default: now.
    #[arg(long, value_name = "WHEN", value_parser = parse_as_of)]
    as_of: Option<DateTime<Utc>>,
    /// The output format: json is the contract; csv, md and html are for people.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

/// `report ivo` and `report council`.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// The quarter's IVO worklist: what to report, as what, with titles (spec §6).
    Ivo(QuarterArgs),
    /// The council's statistics for the quarter, without identity (spec §6).
    Council(QuarterArgs),
}

/// A quarter's report.
#[derive(Debug, clap::Args)]
pub struct QuarterArgs {
    /// The quarter, e.g. 2023Q2 (default: the current quarter in Stockholm).
    #[arg(long, value_parser = parse_quarter)]
    quarter: Option<Quarter>,
    /// Count days waiting to this date (default: the quarter's last day).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    #[command(flatten)]
    report: ReportArgs,
}

/// `open-cases`.
#[derive(Debug, clap::Args)]
pub struct OpenCasesArgs {
    /// The date (default: today in Stockholm).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    #[command(flatten)]
    report: ReportArgs,
}

/// `deadlines`.
#[derive(Debug, clap::Args)]
pub struct DeadlinesArgs {
    /// The first date.
    #[arg(long, value_parser = parse_date)]
    from: NaiveDate,
    /// The last date.
    #[arg(long, value_parser = parse_date)]
    to: NaiveDate,
    #[command(flatten)]
    report: ReportArgs,
}

/// `dossier`.
#[derive(Debug, clap::Args)]
pub struct DossierArgs {
    /// The decision.
    #[arg(value_parser = parse_decision)]
    decision_id: DecisionId,
    /// Count days waiting to this date (default: today in Stockholm, or the `--as-of` date).
    #[arg(long, value_parser = parse_date)]
    on: Option<NaiveDate>,
    #[command(flatten)]
    report: ReportArgs,
}

/// The log, and the projection caught up with it.
struct Loaded {
    opened: OpenedLog,
    projection: Projection,
}

impl Drop for Loaded {
    /// Frees the projection on a thread of its own: at a million decisions freeing its many small
    /// allocations takes a tenth of a one-shot command's time, after the answer is written. The
    /// process may exit before that thread is done; nothing is lost, it only frees memory.
    fn drop(&mut self) {
        let projection = std::mem::replace(&mut self.projection, Projection::new());
        // If no thread can be started, the projection is freed here when the error is dropped.
        let _freed_here_instead = std::thread::Builder::new()
            .name("free-projection".into())
            .spawn(move || drop(projection));
    }
}

/// Opens the log (the data directory's, or the PostgreSQL store `--store` names) and brings
/// the projection saved in the data directory up to date with it.
fn load(location: &Location, show_progress: bool) -> Result<Loaded, CliError> {
    let (opened, head) = open_with_snapshot_room(location)?;
    let store = opened.log.as_store();
    let bar = progress::bar(
        show_progress,
        head,
        "bringing the projections up to date".into(),
    );
    let projection = opened
        .runtime
        .block_on(live::load(
            store,
            &location.path,
            &mut progress::track(&bar),
        ))
        .context("loading the projections")?;
    bar.finish_and_clear();
    Ok(Loaded { opened, projection })
}

/// The log a report or rebuild reads, and its head. With `--store`, the data directory holds
/// only this node's state (here, the projection's snapshot), so it is made if it does not exist
/// yet; the embedded log's directory must exist (a command that only reads never creates a log).
fn open_with_snapshot_room(location: &Location) -> Result<(OpenedLog, u64), CliError> {
    // Connected first: a store that cannot be reached leaves no directory behind.
    let opened = data::open_log(location)?;
    if location.store.is_some() {
        std::fs::create_dir_all(&location.path).with_context(|| {
            format!(
                "creating the data directory {} for the projection's snapshot",
                location.path.display()
            )
        })?;
    }
    let head = opened
        .runtime
        .block_on(opened.log.as_store().head())
        .context("reading the head of the log")?
        .position;
    Ok((opened, head))
}

impl QuarterArgs {
    fn query(&self) -> QuarterQuery {
        QuarterQuery {
            quarter: self.quarter,
            on: self.on,
            as_of: self.report.as_of,
        }
    }
}

/// A question the projections could not answer, as the command line says it.
fn query_error(error: QueryError) -> CliError {
    match error {
        QueryError::Invalid(text) => CliError::Usage(text),
        QueryError::NotFound(text) => CliError::Other(anyhow::anyhow!(text)),
        QueryError::Store(error) => {
            CliError::Other(anyhow::Error::new(error).context("reading the decision's events"))
        }
    }
}

/// Runs `report ivo` / `report council`.
pub fn run_report(
    command: &ReportCommand,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let loaded = load(location, show_progress)?;
    let now = Utc::now();
    let text = match command {
        ReportCommand::Ivo(args) => render::ivo_worklist(
            &query::ivo_worklist(&loaded.projection, &args.query(), now),
            args.report.format.into(),
        ),
        ReportCommand::Council(args) => render::council(
            &query::council(&loaded.projection, &args.query(), now),
            args.report.format.into(),
        ),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Runs `open-cases`.
pub fn run_open_cases(
    args: &OpenCasesArgs,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let loaded = load(location, show_progress)?;
    let report = query::open_cases(&loaded.projection, args.on, args.report.as_of, Utc::now());
    out.write_all(render::open_cases(&report, args.report.format.into()).as_bytes())?;
    Ok(())
}

/// Runs `deadlines`.
pub fn run_deadlines(
    args: &DeadlinesArgs,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    // Checked before the data directory is opened: wrong usage is wrong usage (exit 2).
    query::check_range(args.from, args.to).map_err(query_error)?;
    let loaded = load(location, show_progress)?;
    let report = query::deadlines(
        &loaded.projection,
        args.from,
        args.to,
        args.report.as_of,
        Utc::now(),
    )
    .map_err(query_error)?;
    out.write_all(render::deadlines(&report, args.report.format.into()).as_bytes())?;
    Ok(())
}

/// Runs `dossier`.
pub fn run_dossier(
    args: &DossierArgs,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let loaded = load(location, show_progress)?;
    let query = DossierQuery::new(args.decision_id, args.on, args.report.as_of, Utc::now());
    let point = query::log_point(&loaded.projection, query.as_of);
    let inputs = loaded
        .opened
        .runtime
        .block_on(query::read_dossier_inputs(
            loaded.opened.log.as_store(),
            &query,
            point,
        ))
        .map_err(query_error)?;
    let dossier = query::dossier(&loaded.projection, &query, inputs).map_err(query_error)?;
    out.write_all(render::dossier(&dossier, args.report.format.into()).as_bytes())?;
    Ok(())
}

/// Runs `rebuild`: folds the whole log into fresh projections and saves them.
pub fn run_rebuild(
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let (opened, head) = open_with_snapshot_room(location)?;
    let store = opened.log.as_store();
    let bar = progress::bar(show_progress, head, "rebuilding the projections".into());
    let started = std::time::Instant::now();
    let projection = opened
        .runtime
        .block_on(live::rebuild(
            store,
            &location.path,
            &mut progress::track(&bar),
        ))
        .context("rebuilding the projections")?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "rebuilt the projections from {} events ({} decisions) in {seconds:.1} s",
        projection.head(),
        projection.len()
    )?;
    Ok(())
}
