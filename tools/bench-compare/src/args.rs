//! The command line, parsed by `clap`; `--help` lists every option with its default.

use std::path::PathBuf;
use std::sync::LazyLock;

use bench_common::args::{
    Checked, all_built, at_least, choices, names, number, positive, positive_numbers,
};
use clap::{Parser, ValueEnum};

use crate::contender::Contender;

/// The largest `--scale` the issue asks for: a million decisions, about six million events.
pub const SCALE_MAX: u32 = 1_000_000;
/// The smallest `--scale` that still gives every report something to show.
pub const SCALE_MIN: u32 = 100;

/// What to measure, and where.
#[derive(Debug, Clone, Parser)]
#[command(
    about = "bench-compare: verkstall (redb, sled, its PostgreSQL store) beside a plain \
             PostgreSQL events table, on the same demo municipality, as one Markdown table.",
    long_about = None,
    override_usage = "cargo build --release -p verkstall (and -p bench-http)   # for the HTTP rows\n       \
                      cargo run --release -p bench-compare --features sled -- [OPTIONS]",
    after_help = "PostgreSQL: scratch databases on VERKSTALL_TEST_POSTGRES (key=value pairs \
                  without dbname), else host=127.0.0.1 port=5432 user=postgres; dropped \
                  afterwards.",
    args_override_self = true
)]
pub struct Args {
    /// Decisions in the demo municipality (100-1000000).
    #[arg(long, value_parser = scale, default_value = "100000")]
    pub scale: u32,
    /// Measured runs; each figure is their median (min-max).
    #[arg(long, value_parser = positive::<usize>, default_value = "3")]
    pub runs: usize,
    /// The demo's seed.
    #[arg(long, value_parser = number::<u64>, default_value = "7")]
    pub seed: u64,
    /// Concurrent writers of the append measurements.
    #[arg(
        long,
        value_parser = positive_numbers::<usize>,
        default_value = "1,16,256"
    )]
    pub writers: ::std::vec::Vec<usize>,
    /// Events appended per append measurement (at least 100).
    #[arg(long, value_parser = append_events, default_value = "5000")]
    pub append_events: u64,
    /// Seconds of each HTTP mixed-load run.
    #[arg(long, value_parser = positive::<u64>, default_value = "20")]
    pub http_seconds: u64,
    /// Connections of the HTTP mixed load.
    #[arg(long, value_parser = positive::<usize>, default_value = "64")]
    pub http_connections: usize,
    /// Where the embedded stores' data go; must be a real disk [default: /var/tmp, else the
    /// current directory, whichever is not tmpfs].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the table to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Which of redb, sled, pg-store, baseline, in column order (by default all this build
    /// has: sled only when built with it).
    #[arg(
        long,
        value_parser = names::<Contender>,
        default_value = DEFAULT_CONTENDERS.as_str()
    )]
    pub contenders: ::std::vec::Vec<Contender>,
    /// Which of replay, http, append (the load and the disk always run).
    #[arg(
        long,
        value_parser = choices::<Measurement>,
        default_value = "replay,http,append"
    )]
    pub measure: ::std::vec::Vec<Measurement>,
    /// The verkstall binary [default: beside this one].
    #[arg(long)]
    pub verkstall: Option<PathBuf>,
    /// The bench-http binary [default: beside this one, else on the PATH].
    #[arg(long)]
    pub bench_http: Option<PathBuf>,
}

/// `--contenders` by default: every contender this build has, in column order.
static DEFAULT_CONTENDERS: LazyLock<String> = LazyLock::new(|| {
    Contender::ALL
        .into_iter()
        .filter(|c| c.is_compiled())
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
});

/// `--scale`: within [`SCALE_MIN`]–[`SCALE_MAX`] decisions.
fn scale(text: &str) -> Result<u32, String> {
    let scale: u32 = number(text)?;
    if !(SCALE_MIN..=SCALE_MAX).contains(&scale) {
        return Err(format!(
            "must be within {SCALE_MIN}–{SCALE_MAX} decisions, not {scale}"
        ));
    }
    Ok(scale)
}

/// `--append-events`: fewer than 100 events measure nothing.
fn append_events(text: &str) -> Result<u64, String> {
    at_least(text, 100)
}

/// A group of measurements, selectable with `--measure` (the load and the disk always run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Measurement {
    /// The replays, their memory, and the two reports.
    Replay,
    /// The HTTP mixed load.
    Http,
    /// The durable appends.
    Append,
}

impl Checked for Args {
    fn check(&self) -> Result<(), String> {
        all_built("--contenders", &self.contenders, |c| c.is_compiled())
    }
}

#[cfg(test)]
mod tests {
    use bench_common::args::{assert_help, parse_words};

    use super::*;

    #[test]
    fn options_take_spaced_or_inline_values() {
        let words = ["--scale", "1_000", "--writers=2,4", "--runs", "5"];
        let args = parse_words::<Args>(&words).expect("valid");
        assert_eq!(args.scale, 1000);
        assert_eq!(args.writers, vec![2, 4]);
        assert_eq!(args.runs, 5);
        assert_eq!(args.append_events, 5000);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let args = parse_words::<Args>(&[]).expect("valid");
        assert_eq!((args.scale, args.runs, args.seed), (100_000, 3, 7));
        assert_eq!(args.writers, vec![1, 16, 256]);
        assert_eq!(args.append_events, 5000);
        assert_eq!((args.http_seconds, args.http_connections), (20, 64));
        let built: Vec<Contender> = Contender::ALL
            .into_iter()
            .filter(|c| c.is_compiled())
            .collect();
        assert_eq!(args.contenders, built);
        assert_eq!(
            args.measure,
            vec![Measurement::Replay, Measurement::Http, Measurement::Append]
        );
        assert!(args.dir.is_none() && args.out.is_none());
        assert!(args.verkstall.is_none() && args.bench_http.is_none());
    }

    #[test]
    fn mistakes_name_the_option() {
        let error = |args: &[&str]| parse_words::<Args>(args).expect_err("refused");
        assert!(error(&["--scale", "2000000"]).contains("--scale"));
        assert!(error(&["--scale", "ten"]).contains("--scale"));
        assert!(error(&["--writers", "0"]).contains("--writers"));
        assert!(error(&["--runs", "0"]).contains("--runs"));
        assert!(error(&["--append-events", "99"]).contains("--append-events"));
        assert!(error(&["--http-seconds", "0"]).contains("--http-seconds"));
        assert!(error(&["--out"]).contains("a value is required for '--out"));
        assert!(error(&["--bogus"]).contains("--bogus"));
        assert!(
            error(&["--contenders", "oracle"])
                .contains("'--contenders <CONTENDERS>': unknown contender `oracle`")
        );
        assert!(
            error(&["--measure", "fly"])
                .contains("'--measure <MEASURE>': `fly` is none of replay, http, append")
        );
        assert_help::<Args>();
    }
}
