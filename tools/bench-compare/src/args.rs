//! The command line, parsed by hand: `clap` lives in the `verkstall` crate only (the layering
//! test keeps it so).

use std::path::PathBuf;
use std::str::FromStr;

use crate::contender::Contender;

/// The largest `--scale` the issue asks for: a million decisions, about six million events.
pub const SCALE_MAX: u32 = 1_000_000;
/// The smallest `--scale` that still gives every report something to show.
pub const SCALE_MIN: u32 = 100;

/// What to measure, and where.
#[derive(Debug, Clone)]
pub struct Args {
    /// Decisions in the demo municipality.
    pub scale: u32,
    /// The demo's seed.
    pub seed: u64,
    /// Measured runs; each figure is their median.
    pub runs: usize,
    /// Concurrent writers of the append measurements.
    pub writers: Vec<usize>,
    /// Events appended per append measurement.
    pub append_events: u64,
    /// Seconds of each HTTP mixed-load run.
    pub http_seconds: u64,
    /// Connections of the HTTP mixed load.
    pub http_connections: usize,
    /// Where the embedded stores' data directories go (None: /var/tmp, else the current directory).
    pub dir: Option<PathBuf>,
    /// A file to write the table to, besides stdout.
    pub out: Option<PathBuf>,
    /// The `verkstall` binary (None: beside this one).
    pub verkstall: Option<PathBuf>,
    /// The `bench-http` binary (None: beside this one, else on the PATH).
    pub bench_http: Option<PathBuf>,
    /// Which contenders, in column order.
    pub contenders: Vec<Contender>,
    /// Which measurements to take.
    pub measure: Vec<Measurement>,
}

/// A group of measurements, selectable with `--measure` (the load and the disk always run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measurement {
    /// The replays, their memory, and the two reports.
    Replay,
    /// The HTTP mixed load.
    Http,
    /// The durable appends.
    Append,
}

impl FromStr for Measurement {
    type Err = String;

    fn from_str(name: &str) -> Result<Measurement, String> {
        match name {
            "replay" => Ok(Measurement::Replay),
            "http" => Ok(Measurement::Http),
            "append" => Ok(Measurement::Append),
            _ => Err(format!("unknown measurement `{name}`")),
        }
    }
}

/// The usage text, for `--help` and for mistakes.
pub const USAGE: &str = "\
bench-compare: verkstall (redb, sled, its PostgreSQL store) beside a plain PostgreSQL events
table, on the same demo municipality, as one Markdown table.

USAGE:
    cargo build --release -p verkstall (and -p bench-http)   # for the HTTP rows
    cargo run --release -p bench-compare --features sled -- [OPTIONS]

OPTIONS:
    --scale N              decisions in the demo municipality (100-1000000) [default: 100000]
    --runs N               measured runs; each figure is their median (min-max) [default: 3]
    --seed N               the demo's seed [default: 7]
    --writers LIST         concurrent writers of the append measurements [default: 1,16,256]
    --append-events N      events appended per append measurement [default: 5000]
    --http-seconds N       seconds of each HTTP mixed-load run [default: 20]
    --http-connections N   connections of the HTTP mixed load [default: 64]
    --dir DIR              where the embedded stores' data go; must be a real disk
                           [default: /var/tmp, else the current directory, whichever is not tmpfs]
    --out FILE             also write the table to FILE
    --contenders LIST      which of redb, sled, pg-store, baseline [default: all built]
    --measure LIST         which of replay, http, append (the load and disk always run)
                           [default: all three]
    --verkstall PATH       the verkstall binary [default: beside this one]
    --bench-http PATH      the bench-http binary [default: beside this one, else on the PATH]
    -h, --help             this text

PostgreSQL: scratch databases on VERKSTALL_TEST_POSTGRES (key=value pairs without dbname),
else host=127.0.0.1 port=5432 user=postgres; dropped afterwards.
";

impl Args {
    /// Parses the arguments after the program name. `Ok(None)` means help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
        let mut parsed = Args {
            scale: 100_000,
            seed: 7,
            runs: 3,
            writers: vec![1, 16, 256],
            append_events: 5_000,
            http_seconds: 20,
            http_connections: 64,
            dir: None,
            out: None,
            verkstall: None,
            bench_http: None,
            contenders: Contender::ALL
                .into_iter()
                .filter(|c| c.is_compiled())
                .collect(),
            measure: vec![Measurement::Replay, Measurement::Http, Measurement::Append],
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
                "--scale" => parsed.scale = number(&name, &value()?)?,
                "--runs" => parsed.runs = number(&name, &value()?)?,
                "--seed" => parsed.seed = number(&name, &value()?)?,
                "--writers" => parsed.writers = list(&name, &value()?)?,
                "--append-events" => parsed.append_events = number(&name, &value()?)?,
                "--http-seconds" => parsed.http_seconds = number(&name, &value()?)?,
                "--http-connections" => parsed.http_connections = number(&name, &value()?)?,
                "--dir" => parsed.dir = Some(PathBuf::from(value()?)),
                "--out" => parsed.out = Some(PathBuf::from(value()?)),
                "--verkstall" => parsed.verkstall = Some(PathBuf::from(value()?)),
                "--bench-http" => parsed.bench_http = Some(PathBuf::from(value()?)),
                "--contenders" => parsed.contenders = named(&name, &value()?)?,
                "--measure" => parsed.measure = named(&name, &value()?)?,
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        parsed.check()?;
        Ok(Some(parsed))
    }

    fn check(&self) -> Result<(), String> {
        if !(SCALE_MIN..=SCALE_MAX).contains(&self.scale) {
            return Err(format!(
                "--scale must be within {SCALE_MIN}–{SCALE_MAX} decisions, not {}",
                self.scale
            ));
        }
        if self.contenders.is_empty() || self.measure.is_empty() {
            return Err("--contenders and --measure need at least one value each".into());
        }
        if let Some(c) = self.contenders.iter().find(|c| !c.is_compiled()) {
            return Err(format!(
                "--contenders: this build has no {c}: build with --features sled"
            ));
        }
        if self.runs == 0 {
            return Err("--runs must be at least 1".into());
        }
        if self.writers.is_empty() || self.writers.contains(&0) {
            return Err("--writers needs one or more counts, each at least 1".into());
        }
        if self.append_events < 100 {
            return Err("--append-events must be at least 100".into());
        }
        if self.http_seconds == 0 || self.http_connections == 0 {
            return Err("--http-seconds and --http-connections must be at least 1".into());
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
        .map(|item| number(name, item))
        .collect()
}

fn named<T: FromStr<Err = String>>(name: &str, text: &str) -> Result<Vec<T>, String> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| item.trim().parse().map_err(|why| format!("{name}: {why}")))
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
        let args = parse(&["--scale", "1_000", "--writers=2,4", "--runs", "5"])
            .expect("valid")
            .expect("not help");
        assert_eq!(args.scale, 1000);
        assert_eq!(args.writers, vec![2, 4]);
        assert_eq!(args.runs, 5);
        assert_eq!(args.append_events, 5000);
    }

    #[test]
    fn mistakes_name_the_option() {
        let error = |args: &[&str]| parse(args).expect_err("refused");
        assert!(error(&["--scale", "2000000"]).contains("--scale"));
        assert!(error(&["--scale", "ten"]).contains("--scale"));
        assert!(error(&["--writers", "0"]).contains("--writers"));
        assert!(error(&["--runs", "0"]).contains("--runs"));
        assert!(error(&["--out"]).contains("--out needs a value"));
        assert!(error(&["--bogus"]).contains("--bogus"));
        assert!(
            error(&["--contenders", "oracle"]).contains("--contenders: unknown contender `oracle`")
        );
        assert!(error(&["--measure", "fly"]).contains("--measure: unknown measurement `fly`"));
        assert!(parse(&["--help"]).expect("help").is_none());
    }
}
