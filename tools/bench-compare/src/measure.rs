//! The measurements: replaying the log into the projections (with its peak memory), the two
//! reports on the projection a replay built, and durable appends by concurrent writers.
//!
//! Only the contender's work is timed: the events are generated and picked before any clock
//! starts, and every answer is checked (a refused append, a short replay or a report that
//! differs between contenders fails the benchmark rather than flattering anyone).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bench_common::figures::nearest_rank;
use chrono::{DateTime, Datelike, Utc};
use domain::{DecisionId, EventData, NewEvent, Quarter};
use projections::Projection;

use crate::Error;
use crate::contender::{Appender, Pages};

/// One decision's stream, as a case system appends it.
pub struct Decision {
    /// Its events, in the order they were recorded (the order the §6 rules accept them).
    pub events: Vec<NewEvent>,
}

/// Picks whole streams from the demo for the append measurements: the first decisions granted,
/// until they hold at least `events` events over at least `writers` decisions. Decisions that
/// replace another are left out (the one they replace might be another writer's, not yet
/// appended). `recorded_at` is dropped: an append is recorded now.
pub fn pick_streams(demo: &[NewEvent], events: u64, writers: usize) -> Vec<Decision> {
    let wanted = usize::try_from(events).unwrap_or(usize::MAX).max(writers);
    let mut order: Vec<DecisionId> = Vec::new();
    let mut streams: HashMap<DecisionId, Vec<NewEvent>> = HashMap::new();
    for event in demo {
        if let EventData::DecisionGranted(grant) = &event.data
            && grant.replaces.is_none()
            && order.len() < wanted
        {
            order.push(event.decision_id);
            streams.insert(event.decision_id, Vec::new());
        }
        if let Some(stream) = streams.get_mut(&event.decision_id) {
            let mut event = event.clone();
            event.recorded_at = None;
            stream.push(event);
        }
    }
    let mut picked = Vec::new();
    let mut total = 0u64;
    for id in order {
        if total >= events && picked.len() >= writers {
            break;
        }
        let stream = streams.remove(&id).expect("every ordered id has a stream");
        total += stream.len() as u64;
        picked.push(Decision { events: stream });
    }
    picked
}

/// What a replay did.
pub struct Replayed {
    /// The projection it built, its open-case index refreshed: ready to answer.
    pub projection: Projection,
    /// Reading, decoding and folding the whole log, and refreshing the index.
    pub elapsed: Duration,
    /// Growth of the process's peak resident set over its size before the replay, in bytes.
    pub peak_rss_growth: u64,
}

/// Replays the whole log (`events` events) read through `pages` into a new projection.
/// verkstall's stores go through `live::catch_up`, the code a server and every command run; the
/// baseline through the same loop a team would write on its table: the next page read (and
/// decoded) on another task while this one is folded, pages of the same size.
pub async fn replay(pages: &Pages, expected: u64) -> Result<Replayed, Error> {
    reset_peak_rss();
    let rss_before = memory_status("VmRSS:");
    let started = Instant::now();
    let mut projection = Projection::new();
    match &pages {
        Pages::Verkstall(store) => {
            live::catch_up(store.as_ref(), &mut projection, &mut |_, _| {}).await?;
        }
        Pages::Baseline(_) => {
            let page_events = live::CATCH_UP_PAGE_EVENTS;
            let mut events = pages.page(0, page_events).await?;
            while let Some(last) = events.last().map(|e| e.position) {
                let reader = pages.clone();
                let next = tokio::spawn(async move { reader.page(last, page_events).await });
                for event in &events {
                    projection.apply(event)?;
                }
                events = next.await??;
            }
        }
    }
    projection.refresh_index();
    let elapsed = started.elapsed();
    let peak_rss_growth = memory_status("VmHWM:").saturating_sub(rss_before);
    if projection.head() != expected {
        return Err(format!(
            "the replay ended at position {}, but the log holds {expected} events",
            projection.head()
        )
        .into());
    }
    Ok(Replayed {
        projection,
        elapsed,
        peak_rss_growth,
    })
}

/// The questions asked of every replayed projection.
#[derive(Debug, Clone, Copy)]
pub struct Questions {
    /// The past quarter of the IVO report: last year's Q2.
    pub quarter: Quarter,
    /// The past moment it is asked as of: the end of the day it was due.
    pub as_of: DateTime<Utc>,
    /// "Now" for open cases: when the benchmark began (the demo runs up to it).
    pub now: DateTime<Utc>,
}

impl Questions {
    /// The questions for a demo generated up to `now`.
    pub fn at(now: DateTime<Utc>) -> Result<Questions, Error> {
        let quarter = Quarter::new(domain::time::business_date(now).year() - 1, 2)?;
        let as_of = domain::time::end_of_business_day(quarter.ivo_report_due())
            .ok_or("the report's due date is within the calendar")?;
        Ok(Questions {
            quarter,
            as_of,
            now,
        })
    }
}

/// One report's answer: its time, its size, and its JSON (to check every contender gives the
/// same).
pub struct Answer {
    /// Time to compute it.
    pub elapsed: Duration,
    /// Items in it.
    pub items: usize,
    /// Its JSON, as the API sends it.
    pub json: String,
}

/// The IVO worklist for the past quarter, as of the past moment.
pub fn ivo_report(projection: &Projection, questions: &Questions) -> Result<Answer, Error> {
    let started = Instant::now();
    let report =
        projections::worklist::ivo_worklist(projection, questions.quarter, None, questions.as_of);
    let elapsed = started.elapsed();
    Ok(Answer {
        elapsed,
        items: report.items.len(),
        json: serde_json::to_string(&report)?,
    })
}

/// Open cases now.
pub fn open_cases_now(projection: &Projection, questions: &Questions) -> Result<Answer, Error> {
    let today = domain::time::business_date(questions.now);
    let started = Instant::now();
    let report = projections::open_cases::open_cases(projection, today, questions.now);
    let elapsed = started.elapsed();
    Ok(Answer {
        elapsed,
        items: report.items.len(),
        json: serde_json::to_string(&report)?,
    })
}

/// What one append measurement did.
pub struct AppendRun {
    /// Events appended.
    pub events: u64,
    /// From the first append sent to the last one acknowledged.
    pub elapsed: Duration,
    /// Each append's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl AppendRun {
    /// Events (= appends) per second.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`-th latency percentile (nearest rank), in milliseconds.
    pub fn latency_ms(&self, p: f64) -> f64 {
        nearest_rank(&self.latencies, p / 100.0).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// `writers` tokio tasks, each appending its share of `streams` one event per append with the
/// expected version, every stream in order, into the fresh store `appender` writes to.
pub async fn appends(
    appender: &Appender,
    writers: usize,
    streams: &[Decision],
) -> Result<AppendRun, Error> {
    let mut shares: Vec<Vec<Vec<NewEvent>>> = (0..writers).map(|_| Vec::new()).collect();
    for (i, decision) in streams.iter().enumerate() {
        shares[i % writers].push(decision.events.clone());
    }
    let events: u64 = streams.iter().map(|d| d.events.len() as u64).sum();
    let started = Instant::now();
    let tasks: Vec<_> = shares
        .into_iter()
        .enumerate()
        .map(|(writer, share)| {
            let appender = appender.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for stream in share {
                    for (version, event) in (0u64..).zip(stream) {
                        let sent = Instant::now();
                        appender.append(writer, version, event).await?;
                        latencies.push(sent.elapsed());
                    }
                }
                Ok::<_, Error>(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(AppendRun {
        events,
        elapsed,
        latencies,
    })
}

/// Resets the process's peak resident set (`VmHWM`) to its current size (Linux ≥ 4.0; where
/// it cannot, the peak stays the process's own and the figure is an upper bound).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A `/proc/self/status` line's figure, in bytes (0 where there is none).
pub fn memory_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with(field))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picked_streams_are_whole_and_begin_with_their_grant() {
        let mut options = demo::DemoOptions::new(7, Utc::now());
        options.decisions = 300;
        let demo = demo::generate(&options);
        let picked = pick_streams(&demo, 200, 16);
        let total: usize = picked.iter().map(|d| d.events.len()).sum();
        assert!(total >= 200 && picked.len() >= 16, "{total} events");
        for decision in &picked {
            let id = decision.events[0].decision_id;
            assert!(matches!(
                &decision.events[0].data,
                EventData::DecisionGranted(g) if g.replaces.is_none()
            ));
            let whole = demo.iter().filter(|e| e.decision_id == id).count();
            assert_eq!(decision.events.len(), whole, "the stream is whole");
            assert!(decision.events.iter().all(|e| e.recorded_at.is_none()));
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let run = AppendRun {
            events: 4,
            elapsed: Duration::from_secs(2),
            latencies: (1..=4).map(Duration::from_millis).collect(),
        };
        assert_eq!(run.events_per_s(), 2.0);
        assert_eq!(run.latency_ms(50.0), 2.0);
        assert_eq!(run.latency_ms(99.0), 4.0);
    }
}
