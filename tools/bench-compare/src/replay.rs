//! Each replay runs in a process of its own (this program again, with `--replay-child`), so
//! its peak memory is its own: in one long process, a replay reuses the memory the previous
//! one freed and its growth reads as nothing. The child opens the log the parent loaded, replays
//! it, asks the two reports, and prints one JSON line; the parent checks and records it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::contender::Contender;
use crate::measure::{self, Questions};

/// The first argument that makes this program a replay child.
pub const CHILD_FLAG: &str = "--replay-child";

/// What a child measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildReplay {
    /// Reading, decoding, folding and indexing the whole log.
    pub elapsed: Duration,
    /// Growth of the child's peak resident set over its size when the replay began, bytes.
    pub peak_rss_growth: u64,
    /// The IVO report's time, items, and a digest of its JSON.
    pub ivo: (Duration, u64, u64),
    /// Open cases now: time, items, digest.
    pub open_cases: (Duration, u64, u64),
}

/// Replays the log of `contender` at `place` (`events` events) in a child process, the reports
/// asked as of `now`.
pub fn in_child(
    contender: Contender,
    place: &str,
    events: u64,
    now: DateTime<Utc>,
) -> Result<ChildReplay, Error> {
    let output = Command::new(std::env::current_exe()?)
        .arg(CHILD_FLAG)
        .arg(contender.short())
        .arg(place)
        .arg(events.to_string())
        .arg(domain::event::format_instant(&now))
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "the replay of {contender} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    let text = String::from_utf8(output.stdout)?;
    let value: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("the replay child of {contender} printed no JSON line: {e}"))?;
    let field = |name: &str| -> Result<u64, Error> {
        value
            .get(name)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("the replay child's field `{name}` is missing").into())
    };
    let micros = |name: &str| field(name).map(Duration::from_micros);
    Ok(ChildReplay {
        elapsed: micros("replay_us")?,
        peak_rss_growth: field("peak_rss_growth")?,
        ivo: (micros("ivo_us")?, field("ivo_items")?, field("ivo_digest")?),
        open_cases: (
            micros("open_us")?,
            field("open_items")?,
            field("open_digest")?,
        ),
    })
}

/// The child: `--replay-child CONTENDER PLACE EVENTS NOW`. Prints one JSON line.
pub fn child_main(args: &[String]) -> Result<(), Error> {
    let [contender, place, events, now] = args else {
        return Err(format!("usage: {CHILD_FLAG} CONTENDER PLACE EVENTS NOW").into());
    };
    let contender: Contender = contender.parse()?;
    let events: u64 = events
        .parse()
        .map_err(|_| format!("EVENTS: `{events}` is not a number"))?;
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(now)
        .map_err(|e| format!("NOW: {e}"))?
        .with_timezone(&Utc);
    let questions = Questions::at(now)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let pages = runtime.block_on(contender.attach(place))?;
    let replayed = runtime.block_on(measure::replay(&pages, events))?;
    let ivo = measure::ivo_report(&replayed.projection, &questions)?;
    let open = measure::open_cases_now(&replayed.projection, &questions)?;
    let digest = |json: &str| {
        let mut hasher = DefaultHasher::new();
        json.hash(&mut hasher);
        hasher.finish()
    };
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    println!(
        "{}",
        serde_json::json!({
            "replay_us": micros(replayed.elapsed),
            "peak_rss_growth": replayed.peak_rss_growth,
            "ivo_us": micros(ivo.elapsed),
            "ivo_items": ivo.items,
            "ivo_digest": digest(&ivo.json),
            "open_us": micros(open.elapsed),
            "open_items": open.items,
            "open_digest": digest(&open.json),
        })
    );
    Ok(())
}
