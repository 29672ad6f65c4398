//! The command line, parsed by `clap`; `--help` lists every option with its default.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::LazyLock;

use bench_common::args::{
    Checked, all_built, at_least, choices, names, positive, positive_numbers,
};
use clap::{Parser, ValueEnum};
use store::EngineKind;

/// A store measured: an embedded engine, or PostgreSQL (a scratch database per measurement on
/// the server `VERKSTALL_TEST_POSTGRES` names, else `store_postgres::TEST_SERVER_DEFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The embedded store on this engine.
    Embedded(EngineKind),
    /// The PostgreSQL store.
    Postgres,
}

impl Engine {
    /// Whether this build has it.
    pub fn is_compiled(self) -> bool {
        match self {
            Engine::Embedded(kind) => kind.is_compiled(),
            Engine::Postgres => true,
        }
    }

    /// Whether the targets (set for the embedded store) apply to it.
    pub fn has_targets(self) -> bool {
        matches!(self, Engine::Embedded(_))
    }
}

impl FromStr for Engine {
    type Err = String;

    fn from_str(name: &str) -> Result<Engine, String> {
        match name {
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            other => other
                .parse()
                .map(Engine::Embedded)
                .map_err(|_| format!("unknown engine `{other}`")),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::Embedded(kind) => write!(f, "{kind}"),
            Engine::Postgres => f.write_str("postgres"),
        }
    }
}

/// What to measure, and where.
#[derive(Debug, Clone, Parser)]
#[command(
    about = "bench-store: durable append and full-read throughput of the event store, per engine.",
    long_about = None,
    override_usage = "cargo run --release -p bench-store --features sled -- [OPTIONS]",
    after_help = "postgres uses a scratch database per measurement on the server \
                  $VERKSTALL_TEST_POSTGRES names (key=value pairs without dbname) \
                  [default: host=127.0.0.1 port=5432 user=postgres].",
    args_override_self = true
)]
pub struct Args {
    /// Engines, comma-separated, in column order: redb, sled, postgres (by default every
    /// engine this build has: redb, and sled when built with it).
    #[arg(
        long,
        value_parser = names::<Engine>,
        default_value = DEFAULT_ENGINES.as_str()
    )]
    pub engines: ::std::vec::Vec<Engine>,
    /// Concurrent appenders, one event per append.
    #[arg(
        long,
        value_parser = positive_numbers::<usize>,
        default_value = "1,16,256"
    )]
    pub appenders: ::std::vec::Vec<usize>,
    /// Events appended per measurement (per appender count, and by the batched variant).
    #[arg(long, value_parser = at_least_100, default_value = "20000")]
    pub events: u64,
    /// Events loaded (by import) and then read back whole.
    #[arg(long, value_parser = at_least_100, default_value = "200000")]
    pub read_events: u64,
    /// Which of append, batched, read.
    #[arg(
        long,
        value_parser = choices::<Measurement>,
        default_value = "append,batched,read"
    )]
    pub measure: ::std::vec::Vec<Measurement>,
    /// Measured runs; each figure is their median (min-max).
    #[arg(long, value_parser = positive::<usize>, default_value = "3")]
    pub runs: usize,
    /// Whether a discarded warm-up run (1/10 size) comes first; `--no-warmup` skips it.
    #[arg(
        long = "no-warmup",
        action = clap::ArgAction::SetFalse,
        help = "Skip the discarded warm-up run (1/10 size)"
    )]
    pub warmup: bool,
    /// Where the temporary data directories go; must be a real disk [default: /var/tmp, else
    /// the current directory, whichever is not tmpfs].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the table to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `--engines` by default: every engine this build has, in [`EngineKind::ALL`]'s order.
static DEFAULT_ENGINES: LazyLock<String> = LazyLock::new(|| {
    EngineKind::ALL
        .into_iter()
        .filter(|e| e.is_compiled())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(",")
});

/// `--events` and `--read-events`: fewer than 100 events measure nothing.
fn at_least_100(text: &str) -> Result<u64, String> {
    at_least(text, 100)
}

/// A group of measurements, selectable with `--measure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Measurement {
    /// One event per append, for each `--appenders` count.
    Append,
    /// A decision's 10-event history per append, 16 appenders.
    Batched,
    /// The bulk load, the two full reads, and the bytes per event.
    Read,
}

impl Checked for Args {
    fn check(&self) -> Result<(), String> {
        all_built("--engines", &self.engines, |e| e.is_compiled())
    }
}

#[cfg(test)]
mod tests {
    use bench_common::args::{assert_help, parse_words};

    use super::*;

    #[test]
    fn options_take_spaced_or_inline_values() {
        let words = [
            "--engines",
            "redb",
            "--appenders=2,4",
            "--events",
            "1_000",
            "--no-warmup",
        ];
        let args = parse_words::<Args>(&words).expect("valid");
        assert_eq!(args.engines, vec![Engine::Embedded(EngineKind::Redb)]);
        assert_eq!(args.appenders, vec![2, 4]);
        assert_eq!(args.events, 1000);
        assert!(!args.warmup);
        let args = parse_words::<Args>(&["--engines", "redb,postgres"]).expect("valid");
        assert_eq!(
            args.engines,
            vec![Engine::Embedded(EngineKind::Redb), Engine::Postgres]
        );
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let args = parse_words::<Args>(&[]).expect("valid");
        assert_eq!(args.engines[0], Engine::Embedded(EngineKind::Redb));
        assert!(args.engines.iter().all(|e| e.is_compiled()));
        assert_eq!(args.appenders, vec![1, 16, 256]);
        assert_eq!((args.events, args.read_events), (20_000, 200_000));
        assert_eq!(
            args.measure,
            vec![Measurement::Append, Measurement::Batched, Measurement::Read]
        );
        assert_eq!(args.runs, 3);
        assert!(args.warmup);
        assert!(args.dir.is_none() && args.out.is_none());
        let twice = parse_words::<Args>(&["--runs", "1", "--runs", "2"]).expect("valid");
        assert_eq!(twice.runs, 2, "the last one counts");
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            parse_words::<Args>(&["--appenders", "0"])
                .expect_err("zero")
                .contains("at least 1")
        );
        assert!(
            parse_words::<Args>(&["--bogus"])
                .expect_err("unknown")
                .contains("--bogus")
        );
        assert!(
            parse_words::<Args>(&["--events"])
                .expect_err("no value")
                .contains("a value is required for '--events")
        );
        assert!(
            parse_words::<Args>(&["--read-events", "99"])
                .expect_err("too few")
                .contains("'--read-events <READ_EVENTS>': must be at least 100")
        );
        assert!(
            parse_words::<Args>(&["--engines", "rocks"])
                .expect_err("unknown engine")
                .contains("rocks")
        );
        assert_help::<Args>();
    }
}
