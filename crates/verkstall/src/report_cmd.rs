//! The report commands (spec §8): `report ivo`, `report council`, `open-cases`, `deadlines`,
//! `dossier`, and `rebuild`. Each loads the projection kept beside the log (caught up from the
//! log, never replaying it whole unless it must), asks it *as of* a moment, and renders.

use std::io::Write;

use anyhow::{Context, anyhow};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{DecisionId, Quarter};
use projections::Projection;
use store::EventStore;

use crate::data::{self, Location, Opened};
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

fn parse_as_of(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    let date = domain::event::parse_date(text).map_err(|e| format!("{e}; or an RFC 3339 time"))?;
    domain::time::end_of_business_day(date).ok_or_else(|| "the date is out of range".to_owned())
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    domain::event::parse_date(text)
}

fn parse_quarter(text: &str) -> Result<Quarter, String> {
    text.parse()
        .map_err(|e: domain::quarter::QuarterError| e.to_string())
}

fn parse_decision(text: &str) -> Result<DecisionId, String> {
    text.parse()
        .map_err(|_| "expected a decision id (a UUID)".to_owned())
}

/// The store, and the projection caught up with it.
struct Loaded {
    opened: Opened,
    projection: Projection,
}

fn load(location: &Location, show_progress: bool) -> Result<Loaded, CliError> {
    let opened = data::open_existing(location)?;
    let bar = progress::bar(
        show_progress,
        opened.store.committed(),
        "bringing the projections up to date".into(),
    );
    let projection = opened
        .runtime
        .block_on(live::load(
            &opened.store,
            &location.path,
            &mut progress::track(&bar),
        ))
        .context("loading the projections")?;
    bar.finish_and_clear();
    Ok(Loaded { opened, projection })
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn today() -> NaiveDate {
    domain::time::business_date(now())
}

/// Runs `report ivo` / `report council`.
pub fn run_report(
    command: &ReportCommand,
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let loaded = load(location, show_progress)?;
    let text = match command {
        ReportCommand::Ivo(args) => {
            let as_of = args.report.as_of.unwrap_or_else(now);
            let quarter = args.quarter.unwrap_or_else(|| Quarter::containing(today()));
            let report =
                projections::worklist::ivo_worklist(&loaded.projection, quarter, args.on, as_of);
            render::ivo_worklist(&report, args.report.format.into())
        }
        ReportCommand::Council(args) => {
            let as_of = args.report.as_of.unwrap_or_else(now);
            let quarter = args.quarter.unwrap_or_else(|| Quarter::containing(today()));
            let report =
                projections::council::council_report(&loaded.projection, quarter, args.on, as_of);
            render::council(&report, args.report.format.into())
        }
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
    let as_of = args.report.as_of.unwrap_or_else(now);
    let on = args.on.unwrap_or_else(today);
    let report = projections::open_cases::open_cases(&loaded.projection, on, as_of);
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
    if args.to < args.from {
        return Err(CliError::Usage(format!(
            "--to {} is before --from {}",
            args.to, args.from
        )));
    }
    let loaded = load(location, show_progress)?;
    let as_of = args.report.as_of.unwrap_or_else(now);
    let report = projections::deadlines::deadlines(&loaded.projection, args.from, args.to, as_of);
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
    let as_of = args.report.as_of.unwrap_or_else(now);
    let on = args
        .on
        .unwrap_or_else(|| domain::time::business_date(as_of).min(today()));
    let projection = &loaded.projection;
    let position = projection.position_as_of(as_of);
    let not_found = || {
        CliError::Other(anyhow!(
            "there is no decision {} (as of {})",
            args.decision_id,
            domain::event::format_instant(&as_of)
        ))
    };
    let facts = projection
        .decision(args.decision_id)
        .ok_or_else(not_found)?;
    let store = &loaded.opened.store;
    let (stream, head) = loaded
        .opened
        .runtime
        .block_on(async {
            let stream = store.read_stream(args.decision_id, Some(as_of)).await?;
            let head = if position == 0 {
                Vec::new()
            } else {
                store.read_all(position - 1, 1, None).await?
            };
            Ok::<_, store::StoreError>((stream, head))
        })
        .context("reading the decision's events")?;
    let log_head = (position, head.first().map(|e| e.hash.clone()));
    let dossier = projections::dossier::dossier(facts, &stream, projection, on, as_of, log_head)
        .ok_or_else(not_found)?;
    out.write_all(render::dossier(&dossier, args.report.format.into()).as_bytes())?;
    Ok(())
}

/// Runs `rebuild`: folds the whole log into fresh projections and saves them.
pub fn run_rebuild(
    location: &Location,
    out: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let opened = data::open_existing(location)?;
    let bar = progress::bar(
        show_progress,
        opened.store.committed(),
        "rebuilding the projections".into(),
    );
    let started = std::time::Instant::now();
    let projection = opened
        .runtime
        .block_on(live::rebuild(
            &opened.store,
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
