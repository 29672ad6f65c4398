//! The command line, parsed by `clap`; `--help` lists every option with its default.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use bench_common::args::{Checked, number, positive};
use clap::Parser;
use verkstall::scheduling::Scheduling;

use crate::workload::{Kind, READ_WEIGHTS};

/// How long to measure: a time, or a number of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Measure for this long.
    Duration(Duration),
    /// Measure this many requests.
    Requests(u64),
}

/// What to run, against what.
#[derive(Debug, Clone, Parser)]
#[command(
    about = "bench-http: mixed appends and reads against verkstall's HTTP API, as a case system \
             and its users send them; prints one Markdown table (or, with --json, one JSON \
             object).",
    long_about = None,
    override_usage = "cargo run --release -p bench-http -- [OPTIONS]",
    after_help = "Without --url it starts `verkstall serve` itself (a child process) on a fresh \
                  demo municipality in a temporary data directory, with a registrar and an \
                  auditor token of its own, and stops it gracefully at the end.\n\n\
                  Exit status: 0 when every request was answered with a 2xx; 1 when any was not \
                  (any 5xx, a refused append of the tool's own streams, a broken connection), \
                  or the run could not start.",
    args_override_self = true
)]
pub struct Args {
    /// A running server, http://HOST:PORT (then both tokens are needed); kept as `HOST:PORT`.
    /// Without it the tool starts one on a fresh demo directory.
    #[arg(long, value_parser = url)]
    pub url: Option<String>,
    /// A registrar (or admin) token, for the appends.
    #[arg(long)]
    pub registrar_token: Option<String>,
    /// An auditor (or admin) token, for the reads.
    #[arg(long)]
    pub reader_token: Option<String>,
    /// Measure for this long (unless --requests is given after it).
    #[arg(
        long,
        value_parser = seconds,
        default_value = "20",
        overrides_with = "requests"
    )]
    pub duration: Duration,
    /// Measure this many requests instead of a duration.
    #[arg(
        long,
        value_parser = positive::<u64>,
        overrides_with = "duration"
    )]
    pub requests: Option<u64>,
    /// Run this long first, not counted.
    #[arg(long, value_parser = seconds, default_value = "3")]
    pub warmup: Duration,
    /// Concurrent clients, each on one keep-alive connection.
    #[arg(long, value_parser = positive::<usize>, default_value = "32")]
    pub connections: usize,
    /// Threads of the load generator.
    #[arg(long, value_parser = positive::<usize>, default_value = "1")]
    pub client_threads: usize,
    /// How Linux schedules the load generator's threads. `batch` (SCHED_BATCH): answers
    /// arriving do not make it preempt the server it shares the cores with, as a load generator
    /// on another machine would not.
    #[arg(long, value_enum, default_value_t = Scheduling::Batch)]
    pub client_scheduling: Scheduling,
    /// How a server started here schedules its threads: `verkstall serve --scheduling`.
    #[arg(long, value_enum, default_value_t = Scheduling::Batch)]
    pub server_scheduling: Scheduling,
    /// Percent of requests that are reads.
    #[arg(
        long,
        value_parser = clap::value_parser!(u32).range(0..=100),
        default_value = "80"
    )]
    pub read_percent: u32,
    /// The reads' weights, how often each read is made relative to the others; e.g. state=1
    /// for decision states alone.
    #[arg(
        long,
        value_parser = read_mix,
        default_value = DEFAULT_READ_MIX.as_str()
    )]
    pub read_mix: ::std::vec::Vec<(Kind, u32)>,
    /// Decisions in the demo municipality of a server started here.
    #[arg(long, value_parser = positive::<u32>, default_value = "3000")]
    pub decisions: u32,
    /// Seed of the workload's choices.
    #[arg(long, value_parser = number::<u64>, default_value = "1")]
    pub seed: u64,
    /// Where the demo data directory of a server started here goes [default: /var/tmp].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the table: appends_per_s, reads_per_s,
    /// requests_per_s, p50_ms, p99_ms, append_p50_ms, append_p99_ms, read_p50_ms, read_p99_ms,
    /// errors.
    #[arg(long)]
    pub json: bool,
    /// Also write the table to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `--read-mix` by default: [`READ_WEIGHTS`], as the option is written.
static DEFAULT_READ_MIX: LazyLock<String> = LazyLock::new(|| {
    READ_WEIGHTS
        .iter()
        .map(|&(kind, weight)| {
            let name = kind.read_name().expect("READ_WEIGHTS holds reads only");
            format!("{name}={weight}")
        })
        .collect::<Vec<_>>()
        .join(",")
});

impl Args {
    /// How long to measure: `--requests` if given, else `--duration`.
    pub fn span(&self) -> Span {
        self.requests
            .map_or(Span::Duration(self.duration), Span::Requests)
    }
}

impl Checked for Args {
    fn check(&self) -> Result<(), String> {
        if self.url.is_some() && (self.registrar_token.is_none() || self.reader_token.is_none()) {
            return Err(
                "--url needs --registrar-token and --reader-token (a running server's tokens)"
                    .to_owned(),
            );
        }
        if self.url.is_none() && (self.registrar_token.is_some() || self.reader_token.is_some()) {
            return Err(
                "tokens are given only with --url; a server started here makes its own".to_owned(),
            );
        }
        Ok(())
    }
}

/// `http://HOST:PORT` (a trailing `/` or `/v1` is dropped); no TLS.
fn url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .ok_or("must start with http:// (the tool speaks plain HTTP/1.1)")?;
    let authority = rest.trim_end_matches('/').trim_end_matches("/v1");
    if authority.is_empty() || authority.contains('/') {
        return Err("must be http://HOST:PORT".to_owned());
    }
    Ok(authority.to_owned())
}

/// `state=50,events=15,…`: the reads named, with their weights; the others are not made.
fn read_mix(text: &str) -> Result<Vec<(Kind, u32)>, String> {
    let mix = text
        .split(',')
        .map(|item| {
            let (name, weight) = item
                .split_once('=')
                .ok_or_else(|| format!("`{item}` is not NAME=WEIGHT"))?;
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.read_name() == Some(name.trim()))
                .ok_or_else(|| {
                    format!(
                        "unknown read `{name}`; the reads are state, events, dossier, open-cases \
                         and ivo"
                    )
                })?;
            Ok((kind, number(weight)?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    if mix.iter().all(|&(_, w)| w == 0) {
        return Err("needs a weight above 0".to_owned());
    }
    Ok(mix)
}

/// A number of seconds, 0–86400, fractions allowed.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err("must be a number of seconds, 0–86400".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use bench_common::args::{assert_help, parse_words};

    use super::*;

    #[test]
    fn the_contract_of_issue_7_parses() {
        let args = parse_words::<Args>(&[
            "--url",
            "http://127.0.0.1:8080/v1",
            "--registrar-token",
            "vks_a",
            "--reader-token",
            "vks_b",
            "--duration",
            "5",
            "--connections",
            "8",
            "--json",
        ])
        .expect("valid");
        assert_eq!(args.url.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(args.span(), Span::Duration(Duration::from_secs(5)));
        assert_eq!(args.connections, 8);
        assert!(args.json);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let args = parse_words::<Args>(&[]).expect("valid");
        assert_eq!(args.span(), Span::Duration(Duration::from_secs(20)));
        assert_eq!(args.warmup, Duration::from_secs(3));
        assert_eq!((args.connections, args.client_threads), (32, 1));
        assert_eq!(args.read_percent, 80);
        assert_eq!(args.read_mix, READ_WEIGHTS);
        assert_eq!((args.decisions, args.seed), (3000, 1));
        assert!(!args.json && args.url.is_none() && args.dir.is_none() && args.out.is_none());
    }

    #[test]
    fn the_last_of_duration_and_requests_counts() {
        let requests =
            parse_words::<Args>(&["--duration", "5", "--requests", "300"]).expect("valid");
        assert_eq!(requests.span(), Span::Requests(300));
        let duration =
            parse_words::<Args>(&["--requests", "300", "--duration", "5"]).expect("valid");
        assert_eq!(duration.span(), Span::Duration(Duration::from_secs(5)));
    }

    #[test]
    fn mistakes_name_the_option() {
        for (args, named) in [
            (&["--url", "http://h:1"][..], "--registrar-token"),
            (&["--registrar-token", "t"], "--url"),
            (&["--connections", "0"], "--connections"),
            (&["--read-percent", "101"], "--read-percent"),
            (&["--duration", "soon"], "--duration"),
            (&["--url", "https://h:1"], "--url"),
            (&["--bogus"], "--bogus"),
            (&["--read-mix", "state=1,gossip=2"], "gossip"),
            (&["--read-mix", "state=0"], "--read-mix"),
        ] {
            let error = parse_words::<Args>(args).expect_err("refused");
            assert!(error.contains(named), "{args:?}: {error}");
        }
        assert_help::<Args>();
        let only = parse_words::<Args>(&["--read-mix", "state=1,open-cases=3"]).expect("valid");
        assert_eq!(
            only.read_mix,
            [(Kind::ReadState, 1), (Kind::ReadOpenCases, 3)]
        );
    }
}
