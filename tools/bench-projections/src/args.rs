//! The command line, parsed by `clap`; `--help` lists every option with its default.

use bench_common::args::{Checked, number};
use clap::Parser;

/// What to generate and how often to time each query.
#[derive(Debug, Clone, Parser)]
#[command(
    about = "bench-projections: how fast the projections answer once they are in memory, apart \
             from process start and snapshot loading; prints one Markdown table.",
    long_about = None,
    override_usage = "cargo run --release -p bench-projections -- [OPTIONS]",
    args_override_self = true
)]
pub struct Args {
    /// Decisions in the demo municipality.
    #[arg(long, value_parser = number::<u32>, default_value = "1000000")]
    pub decisions: u32,
    /// Runs of each query; each figure is their median (min-max). 0 counts as 1.
    #[arg(long, value_parser = number::<usize>, default_value = "5")]
    pub runs: usize,
    /// The demo's seed.
    #[arg(long, value_parser = number::<u64>, default_value = "7")]
    pub seed: u64,
}

impl Checked for Args {}

#[cfg(test)]
mod tests {
    use bench_common::args::{assert_help, parse_words};

    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let args: Args = parse_words(&[]).expect("valid");
        assert_eq!((args.decisions, args.runs, args.seed), (1_000_000, 5, 7));
        let words = ["--decisions", "2000", "--runs=3", "--seed", "9"];
        let args: Args = parse_words(&words).expect("valid");
        assert_eq!((args.decisions, args.runs, args.seed), (2000, 3, 9));
    }

    #[test]
    fn mistakes_name_the_option() {
        let error = |words: &[&str]| parse_words::<Args>(words).expect_err("refused");
        assert!(error(&["--decisions", "5000000000"]).contains("--decisions"));
        assert!(error(&["--runs", "many"]).contains("--runs"));
        assert!(error(&["--seed"]).contains("--seed"));
        assert!(error(&["--bogus"]).contains("--bogus"));
        assert_help::<Args>();
    }
}
