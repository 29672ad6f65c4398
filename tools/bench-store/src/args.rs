//! The command line, parsed by hand: `clap` lives in the `verkstall` crate only (the layering
//! test in `tests/it/layering.rs` keeps it so), and eight options do not need it.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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
#[derive(Debug, Clone)]
pub struct Args {
    /// Engines, in column order.
    pub engines: Vec<Engine>,
    /// Concurrent appenders of the one-event-per-append measurements.
    pub appenders: Vec<usize>,
    /// Events appended per measurement (per appender count, and by the batched variant).
    pub events: u64,
    /// Events loaded for the full read.
    pub read_events: u64,
    /// Which measurements to take.
    pub measure: Vec<Measurement>,
    /// Measured runs; each figure is their median.
    pub runs: usize,
    /// Whether a discarded warm-up run comes first.
    pub warmup: bool,
    /// Where the temporary data directories go (None: /var/tmp, else the current directory).
    pub dir: Option<PathBuf>,
    /// A file to write the table to, besides stdout.
    pub out: Option<PathBuf>,
}

/// A group of measurements, selectable with `--measure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measurement {
    /// One event per append, for each `--appenders` count.
    Append,
    /// A decision's 10-event history per append, 16 appenders.
    Batched,
    /// The bulk load, the two full reads, and the bytes per event.
    Read,
}

impl FromStr for Measurement {
    type Err = String;

    fn from_str(name: &str) -> Result<Measurement, String> {
        match name {
            "append" => Ok(Measurement::Append),
            "batched" => Ok(Measurement::Batched),
            "read" => Ok(Measurement::Read),
            _ => Err(format!("unknown measurement `{name}`")),
        }
    }
}

/// The usage text, for `--help` and for mistakes.
pub const USAGE: &str = "\
bench-store: durable append and full-read throughput of the event store, per engine.

USAGE:
    cargo run --release -p bench-store --features sled -- [OPTIONS]

OPTIONS:
    --engines LIST      engines, comma-separated: redb, sled, postgres [default: redb, and sled
                        when built with it]; postgres uses a scratch database per measurement
                        on the server $VERKSTALL_TEST_POSTGRES names (key=value pairs without
                        dbname) [default: host=127.0.0.1 port=5432 user=postgres]
    --appenders LIST    concurrent appenders, one event per append [default: 1,16,256]
    --events N          events appended per measurement [default: 20000]
    --read-events N     events loaded (by import) and then read back whole [default: 200000]
    --measure LIST      which of append, batched, read [default: all three]
    --runs N            measured runs; each figure is their median (min-max) [default: 3]
    --no-warmup         skip the discarded warm-up run (1/10 size)
    --dir DIR           where the temporary data directories go; must be a real disk
                        [default: /var/tmp, else the current directory, whichever is not tmpfs]
    --out FILE          also write the table to FILE
    -h, --help          this text
";

impl Args {
    /// Parses the arguments after the program name. `Ok(None)` means help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
        let mut parsed = Args {
            engines: EngineKind::ALL
                .into_iter()
                .filter(|e| e.is_compiled())
                .map(Engine::Embedded)
                .collect(),
            appenders: vec![1, 16, 256],
            events: 20_000,
            read_events: 200_000,
            measure: vec![Measurement::Append, Measurement::Batched, Measurement::Read],
            runs: 3,
            warmup: true,
            dir: None,
            out: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    (name.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match name.as_str() {
                "-h" | "--help" => return Ok(None),
                "--engines" => parsed.engines = list(&name, &value()?)?,
                "--appenders" => parsed.appenders = list(&name, &value()?)?,
                "--events" => parsed.events = number(&name, &value()?)?,
                "--read-events" => parsed.read_events = number(&name, &value()?)?,
                "--measure" => parsed.measure = list(&name, &value()?)?,
                "--runs" => parsed.runs = number(&name, &value()?)?,
                "--no-warmup" => parsed.warmup = false,
                "--dir" => parsed.dir = Some(PathBuf::from(value()?)),
                "--out" => parsed.out = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        parsed.check()?;
        Ok(Some(parsed))
    }

    fn check(&self) -> Result<(), String> {
        if self.engines.is_empty() || self.appenders.is_empty() || self.measure.is_empty() {
            return Err("--engines, --appenders and --measure need at least one value each".into());
        }
        if let Some(engine) = self.engines.iter().find(|e| !e.is_compiled()) {
            return Err(format!(
                "this build has no {engine} engine: build with --features sled"
            ));
        }
        if self.appenders.contains(&0) || self.runs == 0 {
            return Err("--appenders and --runs must be at least 1".into());
        }
        if self.events < 100 || self.read_events < 100 {
            return Err("--events and --read-events must be at least 100".into());
        }
        Ok(())
    }
}

fn number<T: FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{name}: `{text}` is not a number"))
}

fn list<T: FromStr>(name: &str, text: &str) -> Result<Vec<T>, String> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            item.trim()
                .parse()
                .map_err(|_| format!("{name}: `{item}` is not understood"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn options_take_spaced_or_inline_values() {
        let args = parse(&[
            "--engines",
            "redb",
            "--appenders=2,4",
            "--events",
            "1_000",
            "--no-warmup",
        ])
        .expect("valid")
        .expect("not help");
        assert_eq!(args.engines, vec![Engine::Embedded(EngineKind::Redb)]);
        assert_eq!(args.appenders, vec![2, 4]);
        assert_eq!(args.events, 1000);
        assert!(!args.warmup);
        let args = parse(&["--engines", "redb,postgres"])
            .expect("valid")
            .expect("not help");
        assert_eq!(
            args.engines,
            vec![Engine::Embedded(EngineKind::Redb), Engine::Postgres]
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            parse(&["--appenders", "0"])
                .expect_err("zero")
                .contains("at least 1")
        );
        assert!(
            parse(&["--bogus"])
                .expect_err("unknown")
                .contains("--bogus")
        );
        assert!(
            parse(&["--events"])
                .expect_err("no value")
                .contains("needs a value")
        );
        assert!(
            parse(&["--engines", "rocks"])
                .expect_err("unknown engine")
                .contains("rocks")
        );
        assert!(parse(&["--help"]).expect("help").is_none());
    }
}
