//! The command line, parsed by hand: `clap` lives in the `verkstall` crate only (the layering
//! test in `tests/it/layering.rs` keeps it so).

use std::path::PathBuf;
use std::time::Duration;

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
#[derive(Debug, Clone)]
pub struct Args {
    /// A running server (`http://HOST:PORT`); `None`: start one on a fresh demo directory.
    pub url: Option<String>,
    /// A token of role registrar (or admin), for appends.
    pub registrar_token: Option<String>,
    /// A token of role auditor (or admin), for the reads.
    pub reader_token: Option<String>,
    /// How long to measure.
    pub span: Span,
    /// How long to run before measuring; not counted.
    pub warmup: Duration,
    /// Concurrent clients, each on its own keep-alive connection.
    pub connections: usize,
    /// Threads of the client's runtime.
    pub client_threads: usize,
    /// Percent of requests that are reads.
    pub read_percent: u32,
    /// How often each read is made, relative to the others.
    pub read_mix: Vec<(Kind, u32)>,
    /// Decisions in the demo municipality of a server started here.
    pub decisions: u32,
    /// Seed of the workload's choices.
    pub seed: u64,
    /// Where the demo data directory of a server started here goes.
    pub dir: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the table.
    pub json: bool,
    /// Also write the table to this file.
    pub out: Option<PathBuf>,
}

/// The usage text, for `--help` and for mistakes.
pub const USAGE: &str = "\
bench-http: mixed appends and reads against verkstall's HTTP API, as a case system and its
users send them; prints one Markdown table (or, with --json, one JSON object).

USAGE:
    cargo run --release -p bench-http -- [OPTIONS]

Without --url it starts `verkstall serve` itself (a child process) on a fresh demo municipality
in a temporary data directory, with a registrar and an auditor token of its own, and stops it
gracefully at the end.

OPTIONS:
    --url URL               a running server, http://HOST:PORT (then both tokens are needed)
    --registrar-token T     a registrar (or admin) token, for the appends
    --reader-token T        an auditor (or admin) token, for the reads
    --duration SECS         measure for this long [default: 20]
    --requests N            measure this many requests instead of a duration
    --warmup SECS           run this long first, not counted [default: 3]
    --connections N         concurrent clients, each on one keep-alive connection [default: 32]
    --client-threads N      threads of the load generator [default: 1]
    --read-percent P        percent of requests that are reads [default: 80]
    --read-mix LIST         the reads' weights, e.g. state=1 for decision states alone
                            [default: state=50,events=15,dossier=15,open-cases=15,ivo=5]
    --decisions N           decisions in the demo municipality [default: 3000]
    --seed N                seed of the workload's choices [default: 1]
    --dir DIR               where the demo data directory goes [default: /var/tmp]
    --json                  print one JSON object on stdout: appends_per_s, reads_per_s,
                            requests_per_s, p50_ms, p99_ms, append_p50_ms, append_p99_ms,
                            read_p50_ms, read_p99_ms, errors
    --out FILE              also write the table to FILE
    -h, --help              this text

Exit status: 0 when every request was answered with a 2xx; 1 when any was not (any 5xx, a
refused append of the tool's own streams, a broken connection), or the run could not start.
";

impl Args {
    /// Parses the arguments after the program name. `Ok(None)` means help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
        let mut parsed = Args {
            url: None,
            registrar_token: None,
            reader_token: None,
            span: Span::Duration(Duration::from_secs(20)),
            warmup: Duration::from_secs(3),
            connections: 32,
            client_threads: 1,
            read_percent: 80,
            read_mix: READ_WEIGHTS.to_vec(),
            decisions: 3000,
            seed: 1,
            dir: None,
            json: false,
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
                "--url" => parsed.url = Some(url(&value()?)?),
                "--registrar-token" => parsed.registrar_token = Some(value()?),
                "--reader-token" => parsed.reader_token = Some(value()?),
                "--duration" => {
                    parsed.span =
                        Span::Duration(Duration::from_secs_f64(seconds(&name, &value()?)?));
                }
                "--requests" => parsed.span = Span::Requests(positive(&name, &value()?)?),
                "--warmup" => parsed.warmup = Duration::from_secs_f64(seconds(&name, &value()?)?),
                "--connections" => parsed.connections = positive(&name, &value()?)?,
                "--client-threads" => parsed.client_threads = positive(&name, &value()?)?,
                "--read-percent" => {
                    parsed.read_percent = number(&name, &value()?)?;
                    if parsed.read_percent > 100 {
                        return Err(format!("{name} must be 0–100"));
                    }
                }
                "--read-mix" => parsed.read_mix = read_mix(&value()?)?,
                "--decisions" => parsed.decisions = positive(&name, &value()?)?,
                "--seed" => parsed.seed = number(&name, &value()?)?,
                "--dir" => parsed.dir = Some(PathBuf::from(value()?)),
                "--json" => parsed.json = true,
                "--out" => parsed.out = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if parsed.url.is_some()
            && (parsed.registrar_token.is_none() || parsed.reader_token.is_none())
        {
            return Err(
                "--url needs --registrar-token and --reader-token (a running server's tokens)"
                    .to_owned(),
            );
        }
        if parsed.url.is_none()
            && (parsed.registrar_token.is_some() || parsed.reader_token.is_some())
        {
            return Err(
                "tokens are given only with --url; a server started here makes its own".to_owned(),
            );
        }
        Ok(Some(parsed))
    }
}

/// `http://HOST:PORT` (a trailing `/` or `/v1` is dropped); no TLS.
fn url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .ok_or("--url must start with http:// (the tool speaks plain HTTP/1.1)")?;
    let authority = rest.trim_end_matches('/').trim_end_matches("/v1");
    if authority.is_empty() || authority.contains('/') {
        return Err("--url must be http://HOST:PORT".to_owned());
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
                .ok_or_else(|| format!("--read-mix: `{item}` is not NAME=WEIGHT"))?;
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.read_name() == Some(name.trim()))
                .ok_or_else(|| {
                    format!(
                        "--read-mix: unknown read `{name}`; the reads are state, events, dossier, \
                         open-cases and ivo"
                    )
                })?;
            Ok((kind, number("--read-mix", weight.trim())?))
        })
        .collect::<Result<Vec<_>, String>>()?;
    if mix.iter().all(|&(_, w)| w == 0) {
        return Err("--read-mix needs a weight above 0".to_owned());
    }
    Ok(mix)
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} must be a whole number ≥ 0"))
}

fn positive<T: std::str::FromStr + PartialEq + Default>(
    name: &str,
    text: &str,
) -> Result<T, String> {
    let n: T = number(name, text)?;
    if n == T::default() {
        return Err(format!("{name} must be at least 1"));
    }
    Ok(n)
}

fn seconds(name: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!("{name} must be a number of seconds, 0–86400")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn the_contract_of_issue_7_parses() {
        let args = parse(&[
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
        .expect("valid")
        .expect("not help");
        assert_eq!(args.url.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(args.span, Span::Duration(Duration::from_secs(5)));
        assert_eq!(args.connections, 8);
        assert!(args.json);
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
            let error = parse(args).expect_err("refused");
            assert!(error.contains(named), "{args:?}: {error}");
        }
        assert!(parse(&["--help"]).expect("help").is_none());
        let only = parse(&["--read-mix", "state=1,open-cases=3"])
            .expect("valid")
            .expect("args");
        assert_eq!(
            only.read_mix,
            [(Kind::ReadState, 1), (Kind::ReadOpenCases, 3)]
        );
    }
}
