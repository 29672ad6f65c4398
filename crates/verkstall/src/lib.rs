//! The `verkstall` command line (spec §8): the outermost crate, the only one that knows about
//! arguments, exit codes and output formats on a terminal. It wires the lower crates together
//! and holds no rule of its own.
//!
//! [`run`] takes the arguments and a [`Console`] (standard input, output and error, and whether
//! progress may be drawn), so the black-box tests in `tests/` run the very same code as the
//! binary, in-process.

mod calendar_cmd;
mod data;
mod demo_cmd;
mod events_cmd;
mod exit;
mod format;
mod import_cmd;
mod migrate_cmd;
mod progress;
mod report_cmd;
pub mod scheduling;
mod serve_cmd;
mod token_cmd;
mod verify_cmd;

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use exit::{CliError, Exit};
pub use format::Format;
pub use import_cmd::{IMPORT_EVENTS_MAX, PROBLEMS_LISTED_MAX};

/// verkstall: the record of a municipality's ej verkställda beslut.
#[derive(Debug, Parser)]
#[command(name = "verkstall", version, about, long_about = None)]
struct Cli {
    /// The data directory (default: $VERKSTALL_DATA, else ./verkstall-data).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,

    /// The storage engine of a data directory this command creates (default redb). An existing
    /// directory keeps the engine it was created with; naming another one is an error.
    #[arg(long, global = true, value_enum, value_name = "ENGINE")]
    engine: Option<data::Engine>,

    /// The event store, when it is PostgreSQL: `postgres://USER@HOST/DATABASE` or `key=value`
    /// pairs (default: $VERKSTALL_STORE, else the data directory's embedded store). Read by
    /// `serve`, `verify`, `events`, the reports and `rebuild`; the data directory keeps the
    /// node's local state.
    #[arg(long, global = true, value_name = "URL")]
    store: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a year's non-working weekdays: the calendar the deadlines use (spec §5, §8).
    Calendar(calendar_cmd::CalendarArgs),
    /// Append events from a JSON Lines file (`-` = standard input), all or nothing.
    Import(import_cmd::ImportArgs),
    /// Print the stored events as JSON Lines, exactly as stored.
    Events(events_cmd::EventsArgs),
    /// Re-read the whole log: positions, hash chain, indexes, schemas and rules.
    Verify,
    /// The quarter's reports: the IVO worklist and the council's statistics.
    #[command(subcommand)]
    Report(report_cmd::ReportCommand),
    /// Decisions with an open (waiting) episode on a date.
    OpenCases(report_cmd::OpenCasesArgs),
    /// Routine deadlines falling due between two dates.
    Deadlines(report_cmd::DeadlinesArgs),
    /// One decision's whole record, for a yttrande to IVO.
    Dossier(report_cmd::DossierArgs),
    /// Rebuild the projections from the whole log.
    Rebuild,
    /// Fill a new data directory with a realistic synthetic municipality.
    Demo(demo_cmd::DemoArgs),
    /// Serve the HTTP API until SIGINT or SIGTERM.
    Serve(serve_cmd::ServeArgs),
    /// The HTTP API's tokens: create one for a role, list them.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
    /// Print the API's access log: every read of personal data (who, what, when, why allowed).
    AccessLog,
    /// Copy the data directory's log into an empty PostgreSQL store, exactly, and verify both.
    Migrate(migrate_cmd::MigrateArgs),
}

impl Command {
    /// Whether the command reads the log through `--store`; the others use the data
    /// directory's embedded store, or no log at all.
    fn reads_store(&self) -> bool {
        matches!(
            self,
            Command::Serve(_)
                | Command::Verify
                | Command::Events(_)
                | Command::Report(_)
                | Command::OpenCases(_)
                | Command::Deadlines(_)
                | Command::Dossier(_)
                | Command::Rebuild
        )
    }

    /// Whether the command reads or writes the embedded log (and so must not be given a
    /// `--store` it would not use).
    fn uses_embedded_log(&self) -> bool {
        !matches!(
            self,
            Command::Calendar(_) | Command::Token(_) | Command::AccessLog
        ) && !self.reads_store()
    }
}

/// Where a run reads and writes.
pub struct Console<'a> {
    /// Standard input (`verkstall import -`).
    pub input: &'a mut dyn BufRead,
    /// Standard output: the command's result.
    pub out: &'a mut dyn Write,
    /// Standard error: errors, warnings.
    pub err: &'a mut dyn Write,
    /// Whether progress bars may be drawn on the process's standard error. The binary sets it
    /// when standard error is a terminal; tests leave it off.
    pub progress: bool,
}

/// Runs the command line `args` (the program name first) on `console`.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    console: Console<'_>,
) -> Exit {
    let Console {
        input,
        out,
        err,
        progress,
    } = console;
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let exit = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Done
            };
            let rendered = e.render().to_string();
            let target: &mut dyn Write = if e.use_stderr() { err } else { out };
            // Output errors on a closed pipe are not worth a second error.
            let _ = target.write_all(rendered.as_bytes());
            return exit;
        }
    };
    let location = data::Location {
        path: data_dir(cli.data),
        engine: cli.engine,
        store: cli.store.or_else(|| {
            std::env::var("VERKSTALL_STORE")
                .ok()
                .filter(|s| !s.is_empty())
        }),
    };
    let result = if location.store.is_some() && cli.command.uses_embedded_log() {
        Err(CliError::Usage(
            "this command works on the data directory's embedded log only; a PostgreSQL store \
             (--store or $VERKSTALL_STORE) is read by `serve`, `verify`, `events`, the reports \
             and `rebuild`"
                .into(),
        ))
    } else {
        dispatch(cli.command, &location, input, out, err, progress)
    };
    match result {
        Ok(()) => Exit::Done,
        Err(e) => {
            let _ = writeln!(err, "verkstall: {}", e.message());
            e.exit()
        }
    }
}

/// Runs `command`.
fn dispatch(
    command: Command,
    location: &data::Location,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: bool,
) -> Result<(), CliError> {
    match command {
        Command::Calendar(args) => calendar_cmd::run(&args, out),
        Command::Import(args) => import_cmd::run(&args, location, input, out, err, progress),
        Command::Events(args) => events_cmd::run(&args, location, out),
        Command::Verify => verify_cmd::run(location, out, progress),
        Command::Report(command) => report_cmd::run_report(&command, location, out, progress),
        Command::OpenCases(args) => report_cmd::run_open_cases(&args, location, out, progress),
        Command::Deadlines(args) => report_cmd::run_deadlines(&args, location, out, progress),
        Command::Dossier(args) => report_cmd::run_dossier(&args, location, out, progress),
        Command::Rebuild => report_cmd::run_rebuild(location, out, progress),
        Command::Demo(args) => demo_cmd::run(&args, location, out, progress),
        Command::Serve(args) => serve_cmd::run(&args, location, out, err),
        Command::Token(command) => token_cmd::run(&command, location, out),
        Command::AccessLog => token_cmd::run_access_log(location, out),
        Command::Migrate(args) => migrate_cmd::run(&args, location, out, progress),
    }
}

/// The data directory: `--data`, else `$VERKSTALL_DATA`, else `./verkstall-data` (spec §8).
fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("VERKSTALL_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("verkstall-data"))
}
