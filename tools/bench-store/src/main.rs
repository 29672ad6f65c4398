//! `bench-store`: durable append throughput with 1, 16 and 256 concurrent appenders, and reading
//! the whole log in order, for each store engine side by side, as one Markdown table.
//!
//! Honest by construction: every append is durable (the store acknowledges only after its group
//! commit is fsynced; nothing here changes its settings), every measurement gets a fresh data
//! directory on a real disk (tmpfs is refused unless named with `--dir`, and then flagged), a
//! warm-up run is discarded, engines take turns run by run so drift on a busy machine hits both,
//! and every answer of the store is checked. Run it with `--help` for the options.

mod args;
mod measure;
mod process;
mod report;
mod workload;

use std::path::Path;
use std::process::ExitCode;

use bench_common::args::Checked;
use bench_common::command::{build_note, cargo_run, warn_if_debug};
use bench_common::disk::{Mount, scratch_root};
use bench_common::figures::group_thousands;
use bench_common::machine::{self, Before, CpuTicks};
use bench_common::output::{append_misses, write_out};
use domain::event::EventType;
use store::EngineKind;

use crate::args::{Args, Engine, Measurement};
use crate::measure::{Error, IMPORT_CHUNK_EVENTS, READ_PAGE_EVENTS};
use crate::report::{Table, Target, Unit};

/// Appenders of the batched variant.
const BATCH_APPENDERS: usize = 16;
/// The target for redb: durable events per second with this many appenders.
const APPEND_TARGET_APPENDERS: usize = 256;
const APPEND_TARGET_EVENTS_PER_S: f64 = 50_000.0;
/// The target for redb: events read and decoded per second.
const READ_TARGET_EVENTS_PER_S: f64 = 1_000_000.0;
/// Above this share of CPU time going elsewhere (other processes, other guests), the header
/// warns that the machine was busy.
const BUSY_MACHINE_PERCENT: f64 = 10.0;
/// The warm-up run is this many times smaller than a measured one.
const WARMUP_DIVISOR: u64 = 10;

/// The allocator the `verkstall` binary uses, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse_checked();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-store: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Error> {
    warn_if_debug("bench-store");
    let (root, mount) = scratch_root("bench-store", args.dir.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let before = Before::now();

    let mut table = Table::new(&args.engines);
    let first_run = if args.warmup { 0 } else { 1 };
    for run in first_run..=args.runs {
        let divisor = if run == 0 { WARMUP_DIVISOR } else { 1 };
        let label = if run == 0 {
            "warm-up".to_owned()
        } else {
            format!("run {run}/{}", args.runs)
        };
        // Engines take turns within each run, so a slow patch of a shared machine hits both.
        for &engine in &args.engines {
            let dir = root.path().join(format!("run{run}-{engine}"));
            let rows = measure_engine(&runtime, engine, &dir, run, args, divisor, &label)?;
            if run > 0 {
                for (name, unit, target, value) in rows.0 {
                    table.record(engine, &name, unit, target, value);
                }
            }
        }
    }

    let header = header(args, &root, &mount, &before);
    let mut text = format!("{header}\n{}", table.render());
    append_misses(&mut text, "Missed targets", &table.misses());
    print!("{text}");
    write_out(args.out.as_deref(), &text)?;
    Ok(())
}

/// One run's values, row by row.
#[derive(Default)]
struct Rows(Vec<(String, Unit, Option<Target>, f64)>);

impl Rows {
    fn add(&mut self, label: String, unit: Unit, value: f64) {
        self.0.push((label, unit, None, value));
    }

    fn add_with_target(&mut self, label: String, unit: Unit, target: Option<Target>, value: f64) {
        self.0.push((label, unit, target, value));
    }

    /// A row the engine measured, or none (shown as `–`) for one it does not.
    fn add_some(&mut self, label: String, unit: Unit, value: Option<f64>) {
        if let Some(value) = value {
            self.add(label, unit, value);
        }
    }
}

/// Every measurement for one engine in one run, each in its own fresh data directory under
/// `dir`, removed afterwards.
fn measure_engine(
    runtime: &tokio::runtime::Runtime,
    engine: Engine,
    dir: &Path,
    run: usize,
    args: &Args,
    divisor: u64,
    label: &str,
) -> Result<Rows, Error> {
    let mut rows = Rows::default();
    let cx = Context {
        runtime,
        engine,
        salt: u32::try_from(run).unwrap_or(u32::MAX),
        label,
    };
    let mut variants: Vec<(usize, usize)> = Vec::new();
    if args.measure.contains(&Measurement::Append) {
        variants.extend(args.appenders.iter().map(|&c| (c, 1)));
    }
    if args.measure.contains(&Measurement::Batched) {
        variants.push((BATCH_APPENDERS, workload::HISTORY.len()));
    }
    for (appenders, per_append) in variants {
        let events = (args.events / divisor).max(100);
        let data = dir.join(format!("append-{appenders}x{per_append}"));
        measure_appends(&cx, &data, events, appenders, per_append, &mut rows)?;
    }
    if args.measure.contains(&Measurement::Read) {
        let events = (args.read_events / divisor).max(100);
        measure_reads(&cx, &dir.join("read"), events, &mut rows)?;
    }
    Ok(rows)
}

/// What the measurements of one engine in one run share.
struct Context<'a> {
    runtime: &'a tokio::runtime::Runtime,
    engine: Engine,
    /// Keeps the ids of different runs apart.
    salt: u32,
    /// The run, for progress lines.
    label: &'a str,
}

/// One append measurement: `appenders` tasks, `per_append` events per append call.
fn measure_appends(
    cx: &Context<'_>,
    data: &Path,
    events: u64,
    appenders: usize,
    per_append: usize,
    rows: &mut Rows,
) -> Result<(), Error> {
    let Context {
        runtime,
        engine,
        salt,
        label,
    } = *cx;
    let stream: &[EventType] = if per_append == 1 {
        &workload::APPEND_STREAM
    } else {
        &workload::HISTORY
    };
    let decisions = measure::build_decisions(salt, events, appenders, stream)?;
    let place = measure::Place::new(runtime, engine, data)?;
    let result = measure::appends(runtime, &place, appenders, per_append, decisions)?;
    place.remove()?;
    let written_per_event = result
        .disk_bytes_written
        .map(|bytes| bytes as f64 / result.events as f64);
    let shown = |value: Option<f64>, decimals: usize| {
        value.map_or("–".to_owned(), |v| format!("{v:.decimals$}"))
    };
    eprintln!(
        "{label} {engine}: {appenders} appenders × {per_append} event(s)/append: {} events in {:.2} s, \
         {:.0} events/s, {:.0} appends/s, p50 {:.2} ms, p99 {:.2} ms, writer on CPU {}% ({} µs/event), \
         waiting for a CPU {}%, committer {} µs/event, {} bytes written/event",
        result.events,
        result.elapsed.as_secs_f64(),
        result.events_per_s(),
        result.appends_per_s(),
        result.latency_ms(50.0),
        result.latency_ms(99.0),
        shown(result.writer_on_cpu_percent(), 0),
        shown(result.writer_cpu_us_per_event(), 1),
        shown(result.writer_waiting_percent(), 0),
        shown(result.committer_cpu_us_per_event(), 1),
        shown(written_per_event, 0),
    );
    let name = match (appenders, per_append) {
        (1, 1) => "durable append, 1 appender, 1 event/append".to_owned(),
        (_, 1) => format!("durable append, {appenders} appenders, 1 event/append"),
        _ => format!("durable append, {appenders} appenders, {per_append} events/append"),
    };
    if per_append == 1 {
        let target = (appenders == APPEND_TARGET_APPENDERS).then_some(Target {
            at_least: APPEND_TARGET_EVENTS_PER_S,
        });
        rows.add_with_target(
            format!("{name}: events/s (= appends/s)"),
            Unit::PerSecond,
            target,
            result.events_per_s(),
        );
    } else {
        rows.add(
            format!("{name}: events/s"),
            Unit::PerSecond,
            result.events_per_s(),
        );
        rows.add(
            format!("{name}: appends/s"),
            Unit::PerSecond,
            result.appends_per_s(),
        );
    }
    rows.add(
        format!("{name}: latency p50, ms"),
        Unit::Milliseconds,
        result.latency_ms(50.0),
    );
    rows.add(
        format!("{name}: latency p99, ms"),
        Unit::Milliseconds,
        result.latency_ms(99.0),
    );
    rows.add_some(
        format!("{name}: writer thread CPU per event, µs"),
        Unit::Microseconds,
        result.writer_cpu_us_per_event(),
    );
    rows.add_some(
        format!("{name}: committer thread CPU per event, µs"),
        Unit::Microseconds,
        result.committer_cpu_us_per_event(),
    );
    rows.add_some(
        format!("{name}: writer thread waiting for a CPU, % of wall"),
        Unit::Percent,
        result.writer_waiting_percent(),
    );
    rows.add_some(
        format!("{name}: bytes the disk wrote per event (all processes)"),
        Unit::Bytes,
        written_per_event,
    );
    Ok(())
}

/// The bulk load and the full reads.
fn measure_reads(cx: &Context<'_>, data: &Path, events: u64, rows: &mut Rows) -> Result<(), Error> {
    let Context {
        runtime,
        engine,
        salt,
        label,
    } = *cx;
    let place = measure::Place::new(runtime, engine, data)?;
    let read = measure::load_and_read(runtime, &place, salt, events)?;
    place.remove()?;
    let n = read.events as f64;
    let mb = read.line_bytes as f64 / 1e6;
    let per_s = |elapsed: std::time::Duration| n / elapsed.as_secs_f64();
    let mb_per_s = |elapsed: std::time::Duration| mb / elapsed.as_secs_f64();
    eprintln!(
        "{label} {engine}: {} events: import {:.2} s, read_stored_lines {:.3} s, decode alone {:.3} s, read_all {:.3} s, \
         {} bytes/event on disk, {:.0} bytes/event JSON",
        read.events,
        read.import_elapsed.as_secs_f64(),
        read.raw_elapsed.as_secs_f64(),
        read.decode_only_elapsed.as_secs_f64(),
        read.decode_elapsed.as_secs_f64(),
        read.disk_bytes
            .map_or("–".to_owned(), |bytes| format!("{:.0}", bytes as f64 / n)),
        read.line_bytes as f64 / n
    );
    let load = format!(
        "bulk load, import {} events/call",
        group_thousands(IMPORT_CHUNK_EVENTS)
    );
    rows.add(
        format!("{load}: events/s"),
        Unit::PerSecond,
        per_s(read.import_elapsed),
    );
    let raw = "full read, raw lines (`read_stored_lines`)";
    rows.add(
        format!("{raw}: events/s"),
        Unit::PerSecond,
        per_s(read.raw_elapsed),
    );
    rows.add(
        format!("{raw}: MB/s"),
        Unit::MegabytesPerSecond,
        mb_per_s(read.raw_elapsed),
    );
    let alone = "JSON decode alone (`RecordedEvent::from_stored_json`, as `read_all` decodes, on those lines in memory)";
    rows.add(
        format!("{alone}: events/s"),
        Unit::PerSecond,
        per_s(read.decode_only_elapsed),
    );
    let decoded = "full read, decoded (`read_all` → `RecordedEvent`)";
    let target = Some(Target {
        at_least: READ_TARGET_EVENTS_PER_S,
    });
    rows.add_with_target(
        format!("{decoded}: events/s"),
        Unit::PerSecond,
        target,
        per_s(read.decode_elapsed),
    );
    rows.add(
        format!("{decoded}: MB/s"),
        Unit::MegabytesPerSecond,
        mb_per_s(read.decode_elapsed),
    );
    rows.add_some(
        "on disk after the load (du): bytes/event".into(),
        Unit::Bytes,
        read.disk_bytes.map(|bytes| bytes as f64 / n),
    );
    rows.add(
        "stored JSON line: bytes/event".into(),
        Unit::Bytes,
        read.line_bytes as f64 / n,
    );
    Ok(())
}

/// What ran, where, and how the figures were taken.
fn header(args: &Args, root: &tempfile::TempDir, mount: &Mount, before: &Before) -> String {
    let (others, steal) = CpuTicks::now().others_and_steal_since(before.cpu);
    let command = cargo_run("bench-store", EngineKind::Sled.is_compiled());
    let build = build_note();
    let disk = mount.durability_note("the append figures");
    let engines: Vec<String> = args.engines.iter().map(|e| e.to_string()).collect();
    let warmup = if args.warmup {
        format!("after one discarded warm-up run at 1/{WARMUP_DIVISOR} size")
    } else {
        "no warm-up run".into()
    };
    let appenders: Vec<String> = args.appenders.iter().map(|c| c.to_string()).collect();
    let postgres = if args.engines.contains(&Engine::Postgres) {
        let server = std::env::var("VERKSTALL_TEST_POSTGRES")
            .unwrap_or_else(|_| store_postgres::TEST_SERVER_DEFAULT.to_owned())
            .split_whitespace()
            .filter(|pair| !pair.starts_with("password"))
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "- postgres: `PgStore` on a scratch database per measurement on the server `{server}` (on this machine unless named otherwise), \
             durable as the server is set (`fsync`, `synchronous_commit`); an append is acknowledged after its group's `COMMIT`. \
             The server's own CPU and disk writes are not this process's, so those rows show –.\n"
        )
    } else {
        String::new()
    };
    let busy = if others + steal > BUSY_MACHINE_PERCENT {
        format!(
            "- **The machine was busy** ({:.0} % of its CPU went to other processes or guests): the throughputs are lower bounds; \
             \"writer thread waiting for a CPU\" shows how much each measurement lost, and the writer's CPU per event is the steadier figure.\n",
            others + steal
        )
    } else {
        String::new()
    };
    format!(
        "## Event store: durable append and full read ({})\n\
         \n\
         - Command: `{command}` ({build})\n\
         - Machine: {}; while it ran, other processes used {others:.0} % of the machine's CPU time \
         and the hypervisor stole {steal:.0} %; started {}\n\
         - Data: fresh directory per measurement under {}: {disk}\n\
         - Each cell: median of {} run(s) (min–max), {warmup}; engines take turns within each run\n\
         - Appends: {} events per measurement; appenders {} (each a tokio task on a {}-thread runtime) append their own decisions' streams \
         (DecisionGranted with a valid personnummer, OrderSent, NoteRecorded, OfferMade, Verkställd) with `ExpectedVersion::Exact(v)`; \
         every append acknowledged only after the store's group commit is fsynced. The batched variant sends a decision's 10-event history in one append.\n\
         - Reads: {} events (10-event histories) loaded with `import`, {} per call; the store reopened (its cache cold, the OS page cache warm) \
         and read whole in order, {} per page; MB = 10^6 bytes of stored JSON lines.\n{postgres}{busy}",
        engines.join(" vs "),
        before.machine_and_load(),
        before.started(),
        mount.describe(root.path()),
        args.runs,
        args.events,
        appenders.join(", "),
        machine::cores(),
        args.read_events,
        group_thousands(IMPORT_CHUNK_EVENTS),
        group_thousands(READ_PAGE_EVENTS as u64),
    )
}
