//! `bench-http`: a load generator for verkstall's HTTP API. A fixed number of clients, each on
//! one keep-alive connection, send mixed appends (new decisions and follow-up events with exact
//! expected versions, as a case system sends them) and the reads users make (a decision's
//! state, events and dossier, open cases, the IVO worklist), for a duration or a number of
//! requests after a warm-up that is not counted. It prints one Markdown table — requests/s per
//! kind and in total, p50, p99 and max latency, errors by status — or, with `--json`, one JSON
//! object (the contract issue 7's comparison reads). Any answer that is not the expected 2xx
//! makes it exit 1. Run it with `--help` for the options.

mod args;
mod client;
mod machine;
mod report;
mod server;
mod workload;

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bench_common::args::Checked;
use http::HeaderValue;
use uuid::Uuid;

use crate::args::{Args, Span};
use crate::client::{Connection, MEASURING, STOPPING, Shared, WARMING_UP};
use crate::report::Summary;

/// Events of the log read before the run to find decisions to read, at most.
const DISCOVER_EVENTS_MAX: u64 = 50_000;
/// Events per page while finding decisions.
const DISCOVER_PAGE_EVENTS: u64 = 10_000;

/// The allocator the `verkstall` binary uses, so the server it runs as a child is the product.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some(server::CHILD_MODE) {
        argv.next();
        return ExitCode::from(server::run_child(argv.collect()));
    }
    let args = Args::parse_checked();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("bench-http: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What the load run saw, besides the figures.
struct Measured {
    summary: Summary,
    /// Cores busy while measuring: the server (when started here), this tool, all others.
    cores: (f64, f64, f64),
    /// Decisions found on the server before the run.
    known: usize,
    /// Open cases today before the run and after it: the open-case list and the worklist grow
    /// with them, so a run that changed them much measured other answers than it began with.
    open_cases: (usize, usize),
}

/// Runs everything; `Ok(false)` when a request failed or the server did not stop cleanly.
fn run(args: &Args) -> Result<bool, String> {
    bench_common::command::warn_if_debug("bench-http");
    let load_before = bench_common::machine::load_average();
    let started = match &args.url {
        Some(_) => None,
        None => {
            eprintln!(
                "bench-http: filling a demo municipality of {} decisions and starting `verkstall serve` …",
                args.decisions
            );
            Some(server::start(
                args.dir.as_deref(),
                args.decisions,
                args.server_scheduling,
            )?)
        }
    };
    let (authority, registrar, reader) = match (&started, &args.url) {
        (Some(s), _) => (s.authority.clone(), s.registrar.clone(), s.reader.clone()),
        (None, Some(url)) => (
            url.clone(),
            args.registrar_token.clone().unwrap_or_default(),
            args.reader_token.clone().unwrap_or_default(),
        ),
        (None, None) => unreachable!("a server is started when no --url is given"),
    };
    // Before the runtime starts its threads, which take the policy.
    args.client_scheduling.apply().map_err(|e| {
        format!(
            "cannot run the load generator as --client-scheduling {}: {e}",
            args.client_scheduling.as_str()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the client's runtime: {e}"))?;
    let pid = started.as_ref().map(server::Started::pid);
    let measured = runtime.block_on(load(args, authority.clone(), &registrar, &reader, pid))?;
    drop(runtime);
    let load_after = bench_common::machine::load_average();
    let server_line = match &started {
        Some(s) => format!(
            "`verkstall serve --scheduling {}` started by the tool (a child process, redb), tokens of roles registrar and auditor; `verkstall demo` said: {}",
            args.server_scheduling.as_str(),
            s.demo
        ),
        None => format!("`http://{authority}`, already running"),
    };
    let stopped = started.map(server::Started::stop).transpose()?;
    let header = header(args, &server_line, &measured, &load_before, &load_after);
    let table = measured.summary.to_markdown(&header);
    bench_common::output::write_out(args.out.as_deref(), &table)?;
    if args.json {
        println!("{}", measured.summary.to_json());
    } else {
        print!("{table}");
    }
    let mut clean = true;
    if measured.summary.error_count() > 0 {
        eprintln!(
            "bench-http: FAILED: {} requests were not answered with the expected 2xx (see the errors by status)",
            measured.summary.error_count()
        );
        clean = false;
    }
    if let Some(status) = stopped.filter(|s| !s.success()) {
        eprintln!("bench-http: FAILED: the server did not shut down cleanly ({status})");
        clean = false;
    }
    Ok(clean)
}

/// Finds decisions to read, runs the clients through the warm-up and the measurement.
async fn load(
    args: &Args,
    authority: String,
    registrar: &str,
    reader: &str,
    server_pid: Option<u32>,
) -> Result<Measured, String> {
    let bearer = |token: &str| {
        HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "a token must be printable ASCII".to_owned())
    };
    let reader = bearer(reader)?;
    let (known, open_before) = discover(&authority, &reader).await?;
    let shared = Arc::new(Shared {
        authority,
        registrar: bearer(registrar)?,
        reader,
        phase: AtomicU8::new(WARMING_UP),
        measuring_since: OnceLock::new(),
        requests_left: AtomicI64::new(-1),
        read_percent: args.read_percent,
        read_mix: args.read_mix.clone(),
        known: known.into_iter().collect(),
        today: chrono::Utc::now().date_naive(),
    });
    let clients: Vec<_> = (0..args.connections as u64)
        .map(|n| tokio::spawn(client::run(Arc::clone(&shared), n, args.seed)))
        .collect();
    tokio::time::sleep(args.warmup).await;
    if let Span::Requests(n) = args.span() {
        shared
            .requests_left
            .store(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Release);
    }
    let cpu_before = machine::CpuTimes::now(server_pid);
    let since = *shared.measuring_since.get_or_init(Instant::now);
    shared.phase.store(MEASURING, Ordering::Release);
    if let Span::Duration(d) = args.span() {
        tokio::time::sleep(d).await;
        shared.phase.store(STOPPING, Ordering::Release);
    }
    let mut records = Vec::with_capacity(clients.len());
    for client in clients {
        records.push(client.await.map_err(|e| format!("a client failed: {e}"))?);
    }
    let cpu_after = machine::CpuTimes::now(server_pid);
    let last = records
        .iter()
        .filter_map(|r| r.last_done)
        .max()
        .unwrap_or(since);
    let seconds = last.duration_since(since).as_secs_f64();
    let open_after = open_cases(&mut Connection::new(&shared.authority), &shared.reader)
        .await?
        .len();
    Ok(Measured {
        summary: Summary::of(records, seconds),
        cores: cpu_after.cores_since(&cpu_before, since.elapsed().as_secs_f64()),
        known: shared.known.len(),
        open_cases: (open_before, open_after),
    })
}

/// The decision of an item or an event.
fn decision_of(value: &serde_json::Value) -> Option<Uuid> {
    value["decision_id"].as_str()?.parse().ok()
}

/// The decisions of today's open cases, one for each case (a decision may have more than one).
async fn open_cases(
    connection: &mut Connection,
    reader: &HeaderValue,
) -> Result<Vec<Uuid>, String> {
    let open = client::get_json(connection, "/v1/open-cases", reader)
        .await
        .map_err(|e| format!("the reader token cannot read open cases: {e}"))?;
    let items = open["items"]
        .as_array()
        .ok_or("the open cases came without their items")?;
    Ok(items.iter().filter_map(decision_of).collect())
}

/// Decisions on the server before the run: the open cases, and those granted in the first
/// [`DISCOVER_EVENTS_MAX`] events of the log; and how many open cases there are.
async fn discover(
    authority: &str,
    reader: &HeaderValue,
) -> Result<(BTreeSet<Uuid>, usize), String> {
    let mut connection = Connection::new(authority);
    let open = open_cases(&mut connection, reader).await?;
    let open_count = open.len();
    let mut found: BTreeSet<Uuid> = open.into_iter().collect();
    let mut after = 0;
    while after < DISCOVER_EVENTS_MAX {
        let path = format!("/v1/events?after={after}&limit={DISCOVER_PAGE_EVENTS}");
        let page = client::get_json(&mut connection, &path, reader)
            .await
            .map_err(|e| format!("the reader token (auditor) cannot read the log: {e}"))?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        found.extend(
            events
                .iter()
                .filter(|e| e["type"] == "DecisionGranted")
                .filter_map(decision_of),
        );
        let next = page["next_after"].as_u64().unwrap_or(after);
        if events.is_empty() || next == after {
            break;
        }
        after = next;
    }
    Ok((found, open_count))
}

/// What ran, where, and beside what.
fn header(args: &Args, server: &str, measured: &Measured, before: &str, after: &str) -> String {
    let mut argv = Vec::new();
    let mut secret = false;
    for arg in std::env::args().skip(1) {
        let shown = if secret {
            "…".to_owned()
        } else if arg.contains(char::is_whitespace) {
            format!("'{arg}'")
        } else {
            arg.clone()
        };
        secret = matches!(arg.as_str(), "--registrar-token" | "--reader-token");
        argv.push(
            shown
                .split_once("-token=")
                .map_or(shown.clone(), |(n, _)| format!("{n}-token=…")),
        );
    }
    let build = if cfg!(debug_assertions) {
        "**a debug build: these figures mean nothing**"
    } else {
        "release build"
    };
    let span = match args.span() {
        Span::Duration(d) => format!("{:.1} s", d.as_secs_f64()),
        Span::Requests(n) => format!("{n} requests"),
    };
    let (server_cores, tool_cores, other_cores) = measured.cores;
    let rate = measured.summary.total.per_s;
    let server_cpu = if args.url.is_none() && rate > 0.0 {
        // CPU per request is steadier than a rate on a shared machine: it does not depend on
        // how much of the CPU the server was given.
        format!(
            "the server {server_cores:.2} cores ({:.0} µs of CPU per request), ",
            server_cores / rate * 1e6
        )
    } else {
        String::new()
    };
    format!(
        "## verkstall HTTP API under load ({})\n\
         \n\
         - Command: `cargo run --release -p bench-http -- {}` ({build})\n\
         - Machine: {}; load average {before} at the start, {after} at the end; CPU while measuring: \
         {server_cpu}the load generator {tool_cores:.2} cores, other processes {other_cores:.2} cores\n\
         - Server: {server}\n\
         - Load: {} clients, each one keep-alive HTTP/1.1 connection with one request at a time, on a {}-thread \
         load generator in the same machine (scheduled `{}`); {} % reads (weights: {}), the rest appends (new decisions, and follow-up events on each client's own decisions with \
         `If-Match` at the exact version); reads of single decisions over {} decisions found before the run and the \
         client's own; {} open cases before the run, {} after it\n\
         - Measured: {span} after a {:.1} s warm-up that is not counted ({:.2} s to the last counted answer); \
         latency from sending to the answer's last byte\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        argv.join(" "),
        machine::describe(),
        args.connections,
        args.client_threads,
        args.client_scheduling.as_str(),
        args.read_percent,
        args.read_mix
            .iter()
            .map(|(k, w)| format!("{} {w}", k.label().trim_start_matches("read: ")))
            .collect::<Vec<_>>()
            .join(", "),
        measured.known,
        measured.open_cases.0,
        measured.open_cases.1,
        args.warmup.as_secs_f64(),
        measured.summary.seconds,
    )
}
