//! The measurements, each on a fresh data directory: durable appends by concurrent appenders,
//! a bulk load by import, and reading the whole log back raw and decoded.
//!
//! Only the store's work is timed: the events are built and parsed before the clock starts, and
//! every answer is checked (a refused append or a short read fails the benchmark rather than
//! flattering it).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_common::figures::nearest_rank;
use domain::RecordedEvent;
use domain::event::EventType;
use store::{EmbeddedStore, EventStore, ExpectedVersion, ImportOptions, system_clock};
use store_postgres::{PgStore, ScratchDatabase};
use tokio::runtime::Runtime;

use crate::args::Engine;
use crate::process::{self, ThreadTimes};
use crate::workload::{self, Decision};

/// Anything that stops a measurement.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Events per `import` call while loading the log for the read measurements.
pub const IMPORT_CHUNK_EVENTS: u64 = 20_000;
/// Events per `read_stored_lines` / `read_all` page.
pub const READ_PAGE_EVENTS: usize = 10_000;

/// What one append measurement did.
pub struct AppendRun {
    /// Events appended.
    pub events: u64,
    /// Append calls made.
    pub appends: u64,
    /// From the first append sent to the last one acknowledged.
    pub elapsed: Duration,
    /// Each append call's latency, sorted.
    pub latencies: Vec<Duration>,
    /// How the store's writer thread (checking and staging) spent the measurement (the
    /// embedded store; PostgreSQL's work is in its server's processes).
    pub writer: Option<ThreadTimes>,
    /// How the store's committer thread (the key-value commits and their fsyncs) spent it.
    pub committer: Option<ThreadTimes>,
    /// Bytes written to the data directory's disk during the measurement, by every process (the
    /// embedded store).
    pub disk_bytes_written: Option<u64>,
}

impl AppendRun {
    /// Events per second.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// Append calls per second.
    pub fn appends_per_s(&self) -> f64 {
        self.appends as f64 / self.elapsed.as_secs_f64()
    }

    /// The writer thread's CPU time per event, in microseconds (the kernel's share of its
    /// fsyncs included): what caps throughput when the writer has a core to itself, and less
    /// sensitive to a busy machine than the rates.
    pub fn writer_cpu_us_per_event(&self) -> Option<f64> {
        self.writer
            .map(|w| w.on_cpu_ns as f64 / 1000.0 / self.events as f64)
    }

    /// The committer thread's CPU time per event, in microseconds (the engine's commit, the
    /// kernel's share of its writes and fsyncs included).
    pub fn committer_cpu_us_per_event(&self) -> Option<f64> {
        self.committer
            .map(|c| c.on_cpu_ns as f64 / 1000.0 / self.events as f64)
    }

    /// The share of the measurement the writer thread was running on a CPU, in percent.
    pub fn writer_on_cpu_percent(&self) -> Option<f64> {
        self.writer
            .map(|w| 100.0 * w.on_cpu_ns as f64 / self.elapsed.as_nanos() as f64)
    }

    /// The share of the measurement the writer thread was ready but waiting for a CPU, in
    /// percent.
    pub fn writer_waiting_percent(&self) -> Option<f64> {
        self.writer
            .map(|w| 100.0 * w.waiting_ns as f64 / self.elapsed.as_nanos() as f64)
    }

    /// The `p`-th latency percentile (nearest rank), in milliseconds.
    pub fn latency_ms(&self, p: f64) -> f64 {
        nearest_rank(&self.latencies, p / 100.0).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// Builds at least `events` events as whole streams of `stream`, over at least `appenders`
/// decisions (so every appender has work), before any clock starts.
pub fn build_decisions(
    salt: u32,
    events: u64,
    appenders: usize,
    stream: &[EventType],
) -> Result<Vec<Decision>, Error> {
    let per_stream = stream.len() as u64;
    let count = events.div_ceil(per_stream).max(appenders as u64);
    Ok(workload::decisions(salt, 0, count, stream)?)
}

/// Where one measurement's log lives: a fresh data directory, or a fresh scratch database
/// (dropped with this).
pub struct Place {
    engine: Engine,
    dir: std::path::PathBuf,
    database: Option<ScratchDatabase>,
}

impl Place {
    /// A fresh place for `engine`: the data directory `dir` (created on opening), or a new
    /// scratch database.
    pub fn new(runtime: &Runtime, engine: Engine, dir: &Path) -> Result<Place, Error> {
        let database = match engine {
            Engine::Embedded(_) => None,
            Engine::Postgres => Some(runtime.block_on(ScratchDatabase::create())?),
        };
        Ok(Place {
            engine,
            dir: dir.to_path_buf(),
            database,
        })
    }

    /// Opens (or reopens) the store.
    pub fn open(&self, runtime: &Runtime) -> Result<Arc<dyn EventStore>, Error> {
        Ok(match (self.engine, &self.database) {
            (Engine::Embedded(kind), _) => {
                Arc::new(EmbeddedStore::open(&self.dir, Some(kind), system_clock())?)
            }
            (Engine::Postgres, Some(database)) => {
                Arc::new(runtime.block_on(PgStore::connect(&database.config()))?)
            }
            (Engine::Postgres, None) => unreachable!("a PostgreSQL place has its database"),
        })
    }

    /// Bytes the log takes on disk (the data directory; PostgreSQL's are the server's).
    pub fn disk_bytes(&self) -> Result<Option<u64>, Error> {
        Ok(match self.engine {
            Engine::Embedded(_) => Some(bench_common::disk::disk_usage(&self.dir)?),
            Engine::Postgres => None,
        })
    }

    /// Removes the data directory (the database goes when this is dropped).
    pub fn remove(self) -> Result<(), Error> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)?;
        }
        Ok(())
    }
}

/// The log's head, checked to be `events`.
fn check_head(runtime: &Runtime, store: &dyn EventStore, events: u64) -> Result<(), Error> {
    let head = runtime.block_on(store.head())?.position;
    if head != events {
        return Err(format!("the log holds {head} events after appending {events}").into());
    }
    Ok(())
}

/// `appenders` tokio tasks, each appending its own decisions' events in stream order,
/// `events_per_append` per call with `ExpectedVersion::Exact(version)`, against a fresh store at
/// `place`.
pub fn appends(
    runtime: &Runtime,
    place: &Place,
    appenders: usize,
    events_per_append: usize,
    decisions: Vec<Decision>,
) -> Result<AppendRun, Error> {
    let store = place.open(runtime)?;
    let embedded = matches!(place.engine, Engine::Embedded(_));
    let events: u64 = decisions.iter().map(|d| d.events.len() as u64).sum();
    let mut shares: Vec<Vec<Decision>> = (0..appenders).map(|_| Vec::new()).collect();
    for (i, decision) in decisions.into_iter().enumerate() {
        shares[i % appenders].push(decision);
    }
    let writer_before = ThreadTimes::of_writer();
    let committer_before = ThreadTimes::of_committer();
    let written_before = process::device_bytes_written(&place.dir);
    let (elapsed, latencies) = runtime.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = shares
            .into_iter()
            .map(|share| tokio::spawn(append_share(Arc::clone(&store), share, events_per_append)))
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        Ok::<_, Error>((started.elapsed(), latencies))
    })?;
    let writer = embedded.then(|| ThreadTimes::of_writer().since(writer_before));
    let committer = embedded.then(|| ThreadTimes::of_committer().since(committer_before));
    let disk_bytes_written = match (embedded, written_before) {
        (true, Some(before)) => {
            process::device_bytes_written(&place.dir).map(|after| after.saturating_sub(before))
        }
        _ => None,
    };
    let appends = latencies.len() as u64;
    let mut latencies = latencies;
    latencies.sort_unstable();
    check_head(runtime, store.as_ref(), events)?;
    Ok(AppendRun {
        events,
        appends,
        elapsed,
        latencies,
        writer,
        committer,
        disk_bytes_written,
    })
}

/// One appender: its decisions one after another, each stream in order, as a case system
/// records a decision's life.
async fn append_share(
    store: Arc<dyn EventStore>,
    share: Vec<Decision>,
    events_per_append: usize,
) -> Result<Vec<Duration>, Error> {
    let mut latencies = Vec::new();
    for decision in share {
        let mut version = 0;
        let mut rest = decision.events;
        while !rest.is_empty() {
            let tail = rest.split_off(events_per_append.min(rest.len()));
            let chunk = std::mem::replace(&mut rest, tail);
            let sent = Instant::now();
            let appended = store
                .append(decision.id, ExpectedVersion::Exact(version), chunk)
                .await?;
            latencies.push(sent.elapsed());
            version = appended
                .map_err(|refusal| format!("decision {}: append refused: {refusal}", decision.id))?
                .version;
        }
    }
    Ok(latencies)
}

/// What the load and the two full reads did.
pub struct ReadRun {
    /// Events loaded and read.
    pub events: u64,
    /// Time spent in `import` calls.
    pub import_elapsed: Duration,
    /// Bytes the data directory takes on disk after the load (`du`; the embedded store).
    pub disk_bytes: Option<u64>,
    /// Bytes of the stored JSON lines, summed.
    pub line_bytes: u64,
    /// Reading every stored line in order with `read_stored_lines`.
    pub raw_elapsed: Duration,
    /// Decoding the lines `read_stored_lines` gave, in memory, as `read_all` does: the JSON share of
    /// `read_all`.
    pub decode_only_elapsed: Duration,
    /// Reading and decoding every event in order with `read_all`.
    pub decode_elapsed: Duration,
}

/// Loads about `events` events (whole 10-event histories) by `import` into a fresh store at
/// `place`, then reads the log back whole: raw, then decoded, each after reopening the store
/// (its own cache cold, the OS page cache warm).
pub fn load_and_read(
    runtime: &Runtime,
    place: &Place,
    salt: u32,
    events: u64,
) -> Result<ReadRun, Error> {
    let per_history = workload::HISTORY.len() as u64;
    let histories = events.div_ceil(per_history);
    let chunk_histories = IMPORT_CHUNK_EVENTS / per_history;
    let store = place.open(runtime)?;
    let mut import_elapsed = Duration::ZERO;
    let mut first = 0;
    while first < histories {
        let count = chunk_histories.min(histories - first);
        let chunk: Vec<_> = workload::decisions(salt, first, count, &workload::HISTORY)?
            .into_iter()
            .flat_map(|d| d.events)
            .collect();
        let expected = chunk.len() as u64;
        let started = Instant::now();
        let imported = runtime.block_on(store.import(chunk, ImportOptions::default()))?;
        import_elapsed += started.elapsed();
        let imported = imported.map_err(|refusal| format!("import refused: {refusal}"))?;
        if imported.appended != expected {
            return Err(format!("import wrote {} of {expected} events", imported.appended).into());
        }
        first += count;
    }
    let events = runtime.block_on(store.head())?.position;
    drop(store);
    let disk_bytes = place.disk_bytes()?;

    let store = place.open(runtime)?;
    let started = Instant::now();
    let (mut after, mut line_bytes) = (0u64, 0u64);
    let mut pages = Vec::new();
    loop {
        let page = runtime.block_on(store.read_stored_lines(after, READ_PAGE_EVENTS))?;
        let Some(&(last, _)) = page.last() else { break };
        line_bytes += page.iter().map(|(_, line)| line.len() as u64).sum::<u64>();
        after = last;
        pages.push(page);
    }
    let raw_elapsed = started.elapsed();
    check_read("read_stored_lines", after, events)?;
    drop(store);

    let started = Instant::now();
    for page in &pages {
        let decoded = page
            .iter()
            .map(|(position, line)| {
                let event = RecordedEvent::from_stored_json(std::str::from_utf8(line)?)?;
                if event.position == *position {
                    Ok(event)
                } else {
                    Err(Error::from(format!(
                        "position {position} holds {}",
                        event.position
                    )))
                }
            })
            .collect::<Result<Vec<_>, Error>>()?;
        std::hint::black_box(&decoded);
    }
    let decode_only_elapsed = started.elapsed();
    drop(pages);

    let store = place.open(runtime)?;
    let started = Instant::now();
    let after = runtime.block_on(async {
        let mut after = 0u64;
        loop {
            let page = store.read_all(after, READ_PAGE_EVENTS, None).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            std::hint::black_box(&page);
        }
        Ok::<_, Error>(after)
    })?;
    let decode_elapsed = started.elapsed();
    check_read("read_all", after, events)?;
    drop(store);

    Ok(ReadRun {
        events,
        import_elapsed,
        disk_bytes,
        line_bytes,
        raw_elapsed,
        decode_only_elapsed,
        decode_elapsed,
    })
}

fn check_read(what: &str, last: u64, events: u64) -> Result<(), Error> {
    if last == events {
        Ok(())
    } else {
        Err(format!("{what} ended at position {last}, but the log holds {events} events").into())
    }
}
