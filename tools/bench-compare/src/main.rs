//! `bench-compare`: verkstall beside the baseline a municipality's team would build instead (a
//! plain PostgreSQL events table with a JSONB payload and a global sequence), on the same demo
//! municipality, on one machine, in one run, as one Markdown table (issue 7).
//!
//! Contenders: verkstall's embedded store on redb and on sled, verkstall's PostgreSQL store,
//! and the baseline. For each: durable appends by 1, 16 and 256 writers (one event per append
//! with an expected version); the whole log replayed into the projections (the same fold for
//! all), with its peak memory; the IVO report for a past quarter as of a past moment and open
//! cases now, on the projection that replay built; bytes on disk per event beside the raw JSON;
//! and HTTP mixed load against `verkstall serve` (by `bench-http`, when it is built). Each
//! figure is the median of `--runs` with min–max. Below the table, the disk's own floor under
//! the one-writer row ([`floor`]). Run it with `--help` for the options.
//!
//! Honest by construction: nothing changes any store's durability (PostgreSQL keeps
//! `synchronous_commit = on`; the header prints the server's settings), the embedded stores
//! write to a real disk, the contenders take turns within each run, and every answer is checked
//! — including that every contender's reports are the same, byte for byte.

mod args;
mod baseline;
mod contender;
mod floor;
mod http;
mod measure;
mod replay;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bench_common::args::Checked;
use bench_common::command::{build_note, cargo_run, warn_if_debug};
use bench_common::disk::{Mount, scratch_root};
use bench_common::figures::{group_thousands, nearest_rank};
use bench_common::machine::{Before, CpuTicks};
use bench_common::output::{append_misses, write_out};
use domain::NewEvent;

use crate::args::{Args, Measurement};
use crate::contender::{Contender, LOAD_CHUNK_EVENTS, Opened};
use crate::measure::{Decision, Questions};
use crate::table::{Goal, Table, Unit};

/// Anything that stops the benchmark.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The goal: each throughput at least this many times the baseline's.
const THROUGHPUT_RATIO_GOAL: f64 = 3.0;
/// The goal: replay at least this many events per second.
const REPLAY_GOAL_EVENTS_PER_S: f64 = 1_000_000.0;
/// The goal: bytes on disk at most this many times the raw JSON.
const DISK_GOAL_TIMES_RAW: f64 = 2.0;
/// Above this share of CPU time going to other processes, the header warns.
const BUSY_MACHINE_PERCENT: f64 = 10.0;

/// The allocator the `verkstall` binary uses (`crates/verkstall/src/main.rs`), so that
/// verkstall's figures here, measured in this process and its replay children, are the
/// product's: with glibc's malloc a rebuild spends about a quarter of its time allocating.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some(replay::CHILD_FLAG) {
        return match replay::child_main(&argv[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench-compare (replay child): {error}");
                ExitCode::FAILURE
            }
        };
    }
    let args = Args::parse_checked();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-compare: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Row labels, in table order.
struct Labels {
    appends: Vec<(usize, String, String, String)>,
    replay: String,
    replay_memory: String,
    ivo: String,
    open_cases: String,
    disk: String,
    raw: String,
    load: String,
}

impl Labels {
    fn new(writers: &[usize], questions: &Questions) -> Labels {
        Labels {
            appends: writers
                .iter()
                .map(|&w| {
                    let name = format!(
                        "durable append, {w} writer{}, 1 event/append",
                        if w == 1 { "" } else { "s" }
                    );
                    (
                        w,
                        format!("{name}: events/s"),
                        format!("{name}: p50 ms"),
                        format!("{name}: p99 ms"),
                    )
                })
                .collect(),
            replay: "replay the whole log into the projections: events/s".into(),
            replay_memory: "replay: peak RSS growth, MiB".into(),
            ivo: format!(
                "IVO report {} as of {} (on the replayed projection): ms",
                questions.quarter,
                domain::event::format_instant(&questions.as_of)
            ),
            open_cases: "open cases now (on the replayed projection): ms".into(),
            disk: "on disk after the load: bytes/event".into(),
            raw: "raw JSON of the events (import lines): bytes/event".into(),
            load: format!(
                "load (historical import, {} events per call): events/s",
                group_thousands(LOAD_CHUNK_EVENTS as u64)
            ),
        }
    }
}

/// HTTP rows: label, unit, and the field of the figures.
const HTTP_ROWS: [(&str, Unit); 8] = [
    ("HTTP mixed load: requests/s", Unit::PerSecond),
    ("HTTP mixed load: p50 ms", Unit::Milliseconds),
    ("HTTP mixed load: p99 ms", Unit::Milliseconds),
    ("HTTP mixed load: appends/s", Unit::PerSecond),
    ("HTTP mixed load: reads/s", Unit::PerSecond),
    ("HTTP mixed load: append p99 ms", Unit::Milliseconds),
    ("HTTP mixed load: read p99 ms", Unit::Milliseconds),
    ("HTTP mixed load: failed requests", Unit::Count),
];

fn run(args: &Args) -> Result<(), Error> {
    warn_if_debug("bench-compare");
    let (root, mount) = scratch_root("bench-compare", args.dir.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let before = Before::now();
    let postgres = runtime.block_on(postgres_settings())?;
    let questions = Questions::at(before.at)?;
    let labels = Labels::new(&args.writers, &questions);
    let mut table = Table::new();
    declare_rows(&mut table, &labels);

    // The demo, generated once, before any clock starts.
    let mut options = demo::DemoOptions::new(args.seed, before.at);
    options.decisions = args.scale;
    eprintln!(
        "generating the demo municipality: {} decisions …",
        args.scale
    );
    let events = demo::generate(&options);
    let raw_bytes: u64 = events
        .iter()
        .map(|e| serde_json::to_string(e).map(|line| line.len() as u64 + 1))
        .sum::<Result<u64, _>>()?;
    let total = events.len() as u64;
    let raw_per_event = raw_bytes as f64 / total as f64;
    let writers_max = args.writers.iter().copied().max().unwrap_or(1);
    let streams = measure::pick_streams(&events, args.append_events, writers_max);
    eprintln!(
        "{} events, {raw_per_event:.0} bytes of JSON each; {} streams picked for the appends",
        group_thousands(total),
        streams.len()
    );
    table.goal(
        &labels.disk,
        Unit::Bytes,
        Goal::AtMost(DISK_GOAL_TIMES_RAW * raw_per_event),
        &format!(
            "≤ {DISK_GOAL_TIMES_RAW}× raw ({} bytes)",
            group_thousands((DISK_GOAL_TIMES_RAW * raw_per_event).round() as u64)
        ),
    );

    let contenders = args.contenders.clone();
    for c in Contender::ALL
        .into_iter()
        .filter(|c| !contenders.contains(c))
    {
        let why = if c.is_compiled() {
            "not measured (`--contenders`)"
        } else {
            "not built (`--features sled`)"
        };
        for (label, unit) in table_rows(&labels) {
            table.note(c, &label, unit, why);
        }
    }

    // Load each contender once, then measure its disk. The embedded stores are closed (the
    // replay children open them); the databases are kept until the end.
    let mut loaded: Vec<Loaded> = Vec::new();
    for &contender in &contenders {
        let dir = root.path().join(format!("log-{contender}"));
        let opened = runtime.block_on(load(contender, &dir, &events))?;
        let (opened, elapsed) = opened;
        let disk = runtime.block_on(opened.disk_bytes())?;
        eprintln!(
            "{contender}: loaded in {:.1} s ({:.0} events/s), {:.0} bytes/event on disk",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            disk as f64 / total as f64
        );
        let settling = Instant::now();
        runtime.block_on(opened.settle())?;
        eprintln!(
            "{contender}: settled after the load in {:.1} s (not timed)",
            settling.elapsed().as_secs_f64()
        );
        table.record(
            contender,
            &labels.load,
            Unit::PerSecond,
            total as f64 / elapsed.as_secs_f64(),
        );
        table.record(
            contender,
            &labels.disk,
            Unit::Bytes,
            disk as f64 / total as f64,
        );
        table.record(contender, &labels.raw, Unit::Bytes, raw_per_event);
        let place = opened.place();
        let keep = matches!(opened, Opened::Postgres { .. } | Opened::Baseline { .. });
        loaded.push(Loaded {
            contender,
            place,
            events: total,
            _database: keep.then_some(opened),
        });
    }
    drop(events);

    // Replays and reports, contenders taking turns within each run.
    let replay_runs = if args.measure.contains(&Measurement::Replay) {
        args.runs
    } else {
        0
    };
    for run in 1..=replay_runs {
        let mut first_answers: Option<(Contender, u64, u64)> = None;
        for log in &loaded {
            let contender = log.contender;
            let replayed = replay::in_child(contender, &log.place, log.events, questions.now)?;
            let (ivo, ivo_items, ivo_digest) = replayed.ivo;
            let (open, open_items, open_digest) = replayed.open_cases;
            eprintln!(
                "run {run}/{} {contender}: replay {:.2} s, peak RSS +{} MiB; IVO report {ivo_items} items in {:.1} ms; \
                 {open_items} open cases in {:.1} ms",
                args.runs,
                replayed.elapsed.as_secs_f64(),
                replayed.peak_rss_growth >> 20,
                ivo.as_secs_f64() * 1000.0,
                open.as_secs_f64() * 1000.0,
            );
            match first_answers {
                None => first_answers = Some((contender, ivo_digest, open_digest)),
                Some((first, first_ivo, first_open)) => {
                    if first_ivo != ivo_digest || first_open != open_digest {
                        return Err(format!(
                            "{contender}'s reports differ from {first}'s: the replays disagree"
                        )
                        .into());
                    }
                }
            }
            table.record(
                contender,
                &labels.replay,
                Unit::PerSecond,
                log.events as f64 / replayed.elapsed.as_secs_f64(),
            );
            table.record(
                contender,
                &labels.replay_memory,
                Unit::Mebibytes,
                replayed.peak_rss_growth as f64 / f64::from(1 << 20),
            );
            table.record(
                contender,
                &labels.ivo,
                Unit::Milliseconds,
                ivo.as_secs_f64() * 1000.0,
            );
            table.record(
                contender,
                &labels.open_cases,
                Unit::Milliseconds,
                open.as_secs_f64() * 1000.0,
            );
        }
    }

    // HTTP mixed load on the redb data directory, once its store is closed.
    let redb_dir = root.path().join(format!("log-{}", Contender::Redb));
    let http_asked =
        args.measure.contains(&Measurement::Http) && contenders.contains(&Contender::Redb);
    let http = http_load(args, http_asked, &redb_dir, root.path(), &mut table);
    drop(loaded);

    // Durable appends, each into a fresh store.
    let append_runs = if args.measure.contains(&Measurement::Append) {
        args.runs
    } else {
        0
    };
    let probe_floor = args.writers.contains(&1) && contenders.contains(&Contender::Baseline);
    let mut floors = Vec::new();
    for run in 1..=append_runs {
        if probe_floor {
            let floor = floor::measure(root.path(), floor::FLOOR_WRITES).map_err(|e| {
                format!(
                    "the disk's floor probe (durable 4 KiB writes in {}): {e}",
                    root.path().display()
                )
            })?;
            eprintln!(
                "run {run}/{}: one durable 4 KiB write: p50 {:.1} µs, mean {:.1} µs ({} writes)",
                args.runs, floor.p50_us, floor.mean_us, floor.writes
            );
            floors.push(floor);
        }
        for &(writers, ref rate, ref p50, ref p99) in &labels.appends {
            for &contender in &contenders {
                let dir = root
                    .path()
                    .join(format!("append-{run}-{writers}-{contender}"));
                let result = runtime.block_on(append(contender, &dir, writers, &streams))?;
                eprintln!(
                    "run {run}/{} {contender}: {writers} writers: {} events in {:.2} s, {:.0} events/s, \
                     p50 {:.2} ms, p99 {:.2} ms",
                    args.runs,
                    result.events,
                    result.elapsed.as_secs_f64(),
                    result.events_per_s(),
                    result.latency_ms(50.0),
                    result.latency_ms(99.0),
                );
                table.record(contender, rate, Unit::PerSecond, result.events_per_s());
                table.record(contender, p50, Unit::Milliseconds, result.latency_ms(50.0));
                table.record(contender, p99, Unit::Milliseconds, result.latency_ms(99.0));
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
            }
        }
    }

    let header = header(
        args, &root, &mount, &before, &postgres, total, raw_bytes, &http,
    );
    let mut text = format!("{header}\n{}", table.render());
    append_misses(&mut text, "Goals missed", &table.misses());
    let one_writer = labels
        .appends
        .iter()
        .find(|a| a.0 == 1)
        .map(|a| a.1.as_str());
    if let Some(baseline) = one_writer.and_then(|rate| table.median(Contender::Baseline, rate)) {
        text.push_str(&one_writer_ceiling(&floors, baseline));
    }
    print!("{text}");
    write_out(args.out.as_deref(), &text)?;
    Ok(())
}

/// The paragraph on the one-writer row's ceiling on this disk (empty without a probe).
fn one_writer_ceiling(floors: &[floor::Floor], baseline_per_s: f64) -> String {
    let Some(floor) = median_floor(floors) else {
        return String::new();
    };
    let how = if floor.direct {
        "`O_DIRECT | O_DSYNC`, as verkstall's write-ahead log writes"
    } else {
        "`pwrite` and `fdatasync`: this file system refuses `O_DIRECT`"
    };
    format!(
        "\n**The one-writer row's ceiling on this disk.** Before each run's appends, {} durable 4 KiB writes in place \
         ({how}) took p50 {:.1} µs, mean {:.1} µs (of {} runs, the one with the median mean). \
         One writer waits for each append to be durable, so however little else a store did, it could append at most \
         {} events/s here: {:.2}× the baseline's one-writer median ({} events/s), against the goal of {THROUGHPUT_RATIO_GOAL}×.\n",
        floor.writes,
        floor.p50_us,
        floor.mean_us,
        floors.len(),
        group_thousands(floor.writes_per_s().round() as u64),
        floor.ceiling_over(baseline_per_s),
        group_thousands(baseline_per_s.round() as u64),
    )
}

/// The probe whose mean is the median of the runs' means (of an even count, the lower).
fn median_floor(floors: &[floor::Floor]) -> Option<floor::Floor> {
    let mut sorted = floors.to_vec();
    sorted.sort_by(|a, b| a.mean_us.total_cmp(&b.mean_us));
    nearest_rank(&sorted, 0.5).copied()
}

/// A loaded log: where a replay child finds it, and what keeps it (a scratch database).
struct Loaded {
    contender: Contender,
    place: String,
    events: u64,
    /// The open store of a database contender: dropping it drops the database.
    _database: Option<Opened>,
}

/// Creates the rows in table order, with their goals.
fn declare_rows(table: &mut Table, labels: &Labels) {
    for (label, unit) in table_rows(labels) {
        table.note(Contender::Redb, &label, unit, "–");
    }
    for (_, rate, _, _) in &labels.appends {
        table.goal(
            rate,
            Unit::PerSecond,
            Goal::RatioAtLeast(THROUGHPUT_RATIO_GOAL),
            &format!("≥ {THROUGHPUT_RATIO_GOAL}× baseline"),
        );
    }
    table.goal(
        &labels.replay,
        Unit::PerSecond,
        Goal::AtLeast(REPLAY_GOAL_EVENTS_PER_S),
        &format!(
            "≥ {} events/s",
            group_thousands(REPLAY_GOAL_EVENTS_PER_S as u64)
        ),
    );
}

/// Every row but the HTTP ones, in table order.
fn table_rows(labels: &Labels) -> Vec<(String, Unit)> {
    let mut rows = Vec::new();
    for (_, rate, p50, p99) in &labels.appends {
        rows.push((rate.clone(), Unit::PerSecond));
        rows.push((p50.clone(), Unit::Milliseconds));
        rows.push((p99.clone(), Unit::Milliseconds));
    }
    rows.extend([
        (labels.replay.clone(), Unit::PerSecond),
        (labels.replay_memory.clone(), Unit::Mebibytes),
        (labels.ivo.clone(), Unit::Milliseconds),
        (labels.open_cases.clone(), Unit::Milliseconds),
        (labels.disk.clone(), Unit::Bytes),
        (labels.raw.clone(), Unit::Bytes),
        (labels.load.clone(), Unit::PerSecond),
    ]);
    rows
}

/// Opens a fresh store of `contender` and loads the demo into it, one chunk per call; the
/// time of the calls alone.
async fn load(
    contender: Contender,
    dir: &Path,
    events: &[NewEvent],
) -> Result<(Opened, std::time::Duration), Error> {
    let mut opened = contender.open(dir, 1).await?;
    let started = Instant::now();
    for chunk in events.chunks(LOAD_CHUNK_EVENTS) {
        opened.load(chunk).await?;
    }
    let elapsed = started.elapsed();
    let stored = opened.events().await?;
    if stored != events.len() as u64 {
        return Err(format!(
            "{contender} holds {stored} events after loading {}",
            events.len()
        )
        .into());
    }
    Ok((opened, elapsed))
}

/// One append measurement into a fresh store; the store is closed (and a scratch database
/// dropped) before returning.
async fn append(
    contender: Contender,
    dir: &Path,
    writers: usize,
    streams: &[Decision],
) -> Result<measure::AppendRun, Error> {
    let opened = contender.open(dir, writers).await?;
    let result = measure::appends(&opened.appender(), writers, streams).await?;
    let stored = opened.events().await?;
    if stored != result.events {
        return Err(format!(
            "{contender} holds {stored} events after {} appends",
            result.events
        )
        .into());
    }
    Ok(result)
}

/// What `bench-http` measured, or why it did not run.
type HttpOutcome = Result<(PathBuf, usize), String>;

/// Runs the HTTP mixed load `--runs` times against `verkstall serve` on `data` (when `asked`),
/// recording the figures in the redb column and why there are none elsewhere.
fn http_load(args: &Args, asked: bool, data: &Path, root: &Path, table: &mut Table) -> HttpOutcome {
    for (label, unit) in HTTP_ROWS {
        table.note(Contender::Baseline, label, unit, "n/a (no server)");
        // `verkstall serve --store` serves a PostgreSQL log too; this tool measures the redb one.
        for contender in [Contender::Sled, Contender::Postgres] {
            table.note(
                contender,
                label,
                unit,
                "not measured (this tool serves the redb log only)",
            );
        }
    }
    let outcome = (|| -> Result<(PathBuf, usize), String> {
        if !asked {
            return Err("not asked for (`--measure`, `--contenders`)".into());
        }
        let bench_http = http::locate(args.bench_http.as_deref(), "bench-http", true)?;
        let verkstall = http::locate(args.verkstall.as_deref(), "verkstall", false)
            .map_err(|why| format!("{why} (cargo build --release -p verkstall)"))?;
        eprintln!("starting verkstall serve on the redb log …");
        let server = http::Server::start(&verkstall, data, &root.join("serve.log"))
            .map_err(|e| e.to_string())?;
        for run in 1..=args.runs {
            let figures = server
                .load(&bench_http, args.http_seconds, args.http_connections)
                .map_err(|e| e.to_string())?;
            eprintln!("run {run}/{}: HTTP mixed load: {figures:?}", args.runs);
            let values = [
                figures.requests_per_s,
                figures.p50_ms,
                figures.p99_ms,
                figures.appends_per_s,
                figures.reads_per_s,
                figures.append_p99_ms,
                figures.read_p99_ms,
                figures.errors,
            ];
            for ((label, unit), value) in HTTP_ROWS.iter().zip(values) {
                table.record(Contender::Redb, label, *unit, value);
            }
            if figures.errors > 0.0 {
                eprintln!("run {run}: bench-http counted {} errors", figures.errors);
            }
        }
        Ok((bench_http, args.http_connections))
    })();
    if let Err(why) = &outcome {
        eprintln!("HTTP mixed load not measured: {why}");
        for (label, unit) in HTTP_ROWS {
            table.note(
                Contender::Redb,
                label,
                unit,
                "not measured (the header says why)",
            );
        }
    }
    outcome
}

/// The PostgreSQL server's settings that decide what its figures mean.
async fn postgres_settings() -> Result<String, Error> {
    let database = store_postgres::ScratchDatabase::create().await?;
    let (client, connection) =
        tokio_postgres::connect(&database.config(), tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    let mut settings = Vec::new();
    for name in [
        "server_version",
        "synchronous_commit",
        "fsync",
        "wal_sync_method",
        "shared_buffers",
        "data_directory",
    ] {
        let value: String = match client.query_one(&format!("SHOW {name}"), &[]).await {
            Ok(row) => row.get(0),
            Err(_) => "(not shown to this user)".into(),
        };
        settings.push(format!("{name} = {value}"));
    }
    drop(client);
    let _ = driver.await;
    Ok(settings.join(", "))
}

/// What ran, where, and how the figures were taken.
#[allow(clippy::too_many_arguments)]
fn header(
    args: &Args,
    root: &tempfile::TempDir,
    mount: &Mount,
    before: &Before,
    postgres: &str,
    events: u64,
    raw_bytes: u64,
    http: &HttpOutcome,
) -> String {
    let (others, steal) = CpuTicks::now().others_and_steal_since(before.cpu);
    let command = cargo_run("bench-compare", Contender::Sled.is_compiled());
    let build = build_note();
    let disk = mount.durability_note("the embedded append figures");
    let busy = if others + steal > BUSY_MACHINE_PERCENT {
        format!(
            "- **The machine was busy**: other processes used {others:.0} % of its CPU time and the hypervisor stole {steal:.0} %; \
             every rate is a lower bound, for every contender alike (they took turns).\n"
        )
    } else {
        String::new()
    };
    let writers: Vec<String> = args.writers.iter().map(|w| w.to_string()).collect();
    let http = match http {
        Ok((path, connections)) => format!(
            "`{}` against `verkstall serve` on the redb log, {connections} connections, {} s per run (tokens: registrar, auditor)",
            path.display(),
            args.http_seconds
        ),
        Err(why) => format!("not measured: {why}"),
    };
    format!(
        "## verkstall beside a plain PostgreSQL events table ({} decisions, {} events)\n\
         \n\
         - Command: `{command}` ({build})\n\
         - Machine: {}; started {}\n\
         - PostgreSQL (verkstall's store and the baseline, scratch databases on one server): {postgres}\n\
         - Embedded data under {}: {disk}\n\
         - Each cell: median of {} run(s) (min–max); contenders take turns within each run. Ratio = verkstall (redb) ÷ baseline.\n\
         - The log: the demo municipality (seed {}), {} bytes of JSON Lines as `verkstall import --keep-recorded-at` takes them, \
         loaded once per contender in calls of {} events (the baseline: one transaction per call, {} rows per INSERT, as verkstall's PostgreSQL store inserts); \
         after its load and its disk measurement, each PostgreSQL database is settled, untimed: `VACUUM (ANALYZE)`, then `CHECKPOINT`.\n\
         - Appends: {} events of whole demo streams, one event per append with the expected version, by {} concurrent writers (tokio tasks), \
         each into a fresh store; verkstall acknowledges after its group commit is durable, the baseline after its INSERT commits \
         (its own transaction, `synchronous_commit = on`, a pool of up to {} connections shared by the writers, conflicts caught by `unique(stream_id, version)`).\n\
         - Replay: each in a fresh process of its own (this program, `--replay-child`): the whole log read in position order, {} per page, decoded, folded by `projections::Projection::apply` and indexed; \
         verkstall through `live::catch_up`, the baseline by `SELECT … ORDER BY position` with the JSONB payload parsed by the domain's parser, \
         the next page read while this one folds. Peak RSS growth: the child's `VmHWM` after the replay minus its `VmRSS` before.\n\
         - Reports: computed on the projection each replay built, so they measure the fold's state, not the store; every contender's answers are checked to be byte-identical.\n\
         - Disk: `du` of the data directory (redb, sled); `pg_total_relation_size` of the tables with their indexes and TOAST (PostgreSQL; the server's WAL not counted).\n\
         - HTTP mixed load: {http}\n{busy}",
        group_thousands(u64::from(args.scale)),
        group_thousands(events),
        before.machine_and_load(),
        before.started(),
        mount.describe(root.path()),
        args.runs,
        args.seed,
        group_thousands(raw_bytes),
        group_thousands(LOAD_CHUNK_EVENTS as u64),
        group_thousands(store_postgres::INSERT_CHUNK_ROWS as u64),
        group_thousands(args.append_events),
        writers.join(", "),
        baseline::POOL_CONNECTIONS_MAX,
        group_thousands(live::CATCH_UP_PAGE_EVENTS as u64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor(p50_us: f64, mean_us: f64) -> floor::Floor {
        floor::Floor {
            writes: 2000,
            p50_us,
            mean_us,
            direct: true,
        }
    }

    #[test]
    fn the_ceiling_takes_the_run_with_the_median_mean() {
        let text = one_writer_ceiling(
            &[floor(90.0, 150.0), floor(80.0, 100.0), floor(85.0, 125.0)],
            3200.0,
        );
        assert!(
            text.contains("p50 85.0 µs, mean 125.0 µs (of 3 runs"),
            "{text}"
        );
        assert!(text.contains("at most 8 000 events/s"), "{text}");
        assert!(
            text.contains("2.50× the baseline's one-writer median (3 200 events/s)"),
            "{text}"
        );
    }

    #[test]
    fn of_two_runs_the_ceiling_takes_the_lower_mean() {
        let text = one_writer_ceiling(&[floor(90.0, 150.0), floor(80.0, 100.0)], 5000.0);
        assert!(text.contains("mean 100.0 µs (of 2 runs"), "{text}");
        assert!(
            text.contains("at most 10 000 events/s here: 2.00×"),
            "{text}"
        );
    }

    #[test]
    fn without_a_probe_there_is_no_ceiling() {
        assert_eq!(one_writer_ceiling(&[], 3200.0), "");
    }
}
