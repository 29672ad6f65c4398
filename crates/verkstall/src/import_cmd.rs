//! `verkstall import FILE|-`: appends JSON Lines events, all or nothing (spec §8).
//!
//! The file is read and parsed whole before the store is touched: every line that is not an
//! acceptable event is listed (`line N: field `x`: message`, up to [`PROBLEMS_LISTED_MAX`]) and
//! the file is refused with exit 3, nothing written, no data directory created. Then one
//! `EventStore::import` checks the §6 rules and writes everything or nothing; a refusal names
//! the line it concerns. Lines without `event_id` get a fresh one first.
//!
//! No message quotes a line back: parse errors come redacted from the domain, the store's
//! refusals are built from typed values, and the input's name is redacted too, so an identity
//! number in the input never reaches standard error.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use domain::event::EVENT_BYTES_MAX;
use domain::redact::redact_identity_like;
use domain::{EventId, NewEvent};
use store::{EventStore, ImportOptions, Imported, Refusal, RefusalKind};

use crate::data::{self, Location, Opened};
use crate::exit::CliError;
use crate::format::count;
use crate::progress;

/// Problems listed when a file is refused, at most; the rest are counted.
pub const PROBLEMS_LISTED_MAX: usize = 50;
/// Events in one import, at most: the whole file is held in memory and imported as one
/// all-or-nothing request. Split a larger history into several files.
pub const IMPORT_EVENTS_MAX: usize = 2_000_000;
/// Bytes of one line, at most (an event is at most `EVENT_BYTES_MAX`, plus a line ending).
const LINE_BYTES_MAX: usize = EVENT_BYTES_MAX + 2;

/// Arguments of `verkstall import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The JSON Lines file to import, one event a line; `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Check everything (the lines, the rules against the stored log), write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep each line's `recorded_at`, for importing history: every line must carry one, and
    /// they must not go backwards, from the log's last event on.
    #[arg(long)]
    keep_recorded_at: bool,
}

/// The input, read and parsed.
#[derive(Default)]
struct Parsed {
    /// The events, in file order.
    events: Vec<NewEvent>,
    /// The line number of each event.
    lines: Vec<u64>,
    /// The first problems found, each `line N: …`.
    problems: Vec<String>,
    /// Every problem found, listed or not.
    problem_count: usize,
    /// Events that carry `recorded_at`.
    with_recorded_at: u64,
    /// Events that carry no `event_id`.
    without_event_id: u64,
}

impl Parsed {
    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < PROBLEMS_LISTED_MAX {
            self.problems.push(text);
        }
    }

    /// The refusal listing every problem (up to the cap).
    fn refusal(&self, name: &str) -> CliError {
        let mut text = format!(
            "import refused, nothing written: {} in {name}",
            count(self.problem_count as u64, "problem", "problems")
        );
        for problem in &self.problems {
            text.push('\n');
            text.push_str(problem);
        }
        let unlisted = self.problem_count - self.problems.len();
        if unlisted > 0 {
            let noun = if unlisted == 1 { "problem" } else { "problems" };
            text += &format!("\n… and {unlisted} more {noun}");
        }
        CliError::Refused(text)
    }
}

/// Runs `verkstall import`.
pub fn run(
    args: &ImportArgs,
    location: &Location,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    show_progress: bool,
) -> Result<(), CliError> {
    let from_stdin = args.file.as_os_str() == "-";
    // The name is shown in messages; a file may be named after a person.
    let name = if from_stdin {
        "standard input".to_owned()
    } else {
        redact_identity_like(&args.file.display().to_string()).into_owned()
    };
    let mut parsed = if from_stdin {
        let reading = progress::counter(show_progress, "reading standard input: line".into());
        let parsed = parse(stdin, &mut |_bytes| reading.inc(1));
        reading.finish_and_clear();
        parsed
    } else {
        read_file(&args.file, &name, show_progress)
    }
    .map_err(|e| anyhow!(e).context(format!("cannot read {name}")))?;

    if parsed.problem_count > 0 {
        return Err(parsed.refusal(&name));
    }
    if parsed.events.is_empty() {
        writeln!(out, "nothing to import: {name} holds no events")?;
        return Ok(());
    }
    for event in &mut parsed.events {
        // An id of our own, so a refusal can always be traced back to its line.
        event
            .event_id
            .get_or_insert_with(|| EventId::from_uuid(uuid::Uuid::new_v4()));
    }
    let total = parsed.events.len() as u64;
    let options = ImportOptions {
        keep_recorded_at: args.keep_recorded_at,
        dry_run: args.dry_run,
    };
    // A dry run never creates the data directory: against a directory that does not exist yet,
    // it checks against an empty log in a temporary one.
    let scratch;
    let opened = if args.dry_run && !location.path.exists() {
        scratch = tempfile::tempdir().context("creating a temporary directory for the dry run")?;
        data::open_at(&scratch.path().join("data"), location.engine)?
    } else {
        data::open_for_writing(location)?
    };
    let Opened { store, runtime } = &opened;
    let working = progress::spinner(
        show_progress,
        format!(
            "{} {}",
            if args.dry_run {
                "checking"
            } else {
                "importing"
            },
            count(total, "event", "events")
        ),
    );
    let events = std::mem::take(&mut parsed.events);
    let outcome = runtime.block_on(store.import(events, options));
    working.finish_and_clear();
    let imported = match outcome {
        Err(error) => return Err(anyhow!(error).context("the import failed").into()),
        Ok(Err(refusal)) => return Err(refused(&refusal, &parsed.lines)),
        Ok(Ok(imported)) => imported,
    };
    writeln!(out, "{}", summary(&imported, total, args.dry_run))?;
    if !args.keep_recorded_at && parsed.with_recorded_at > 0 {
        writeln!(
            err,
            "verkstall: warning: recorded_at on {} {} ignored: the store records when it learns \
             an event (use --keep-recorded-at to import history with its times)",
            count(parsed.with_recorded_at, "line", "lines"),
            if args.dry_run { "would be" } else { "was" },
        )?;
    }
    if parsed.without_event_id > 0 && imported.appended > 0 {
        let n = parsed.without_event_id;
        let (carry, ids) = if n == 1 {
            ("carries", "a new one")
        } else {
            ("carry", "new ones")
        };
        let given = match (args.dry_run, n == 1) {
            (true, _) => "would be given",
            (false, true) => "was given",
            (false, false) => "were given",
        };
        writeln!(
            err,
            "verkstall: warning: {} {carry} no event_id and {given} {ids}: importing the same \
             lines again would store them a second time",
            count(n, "line", "lines"),
        )?;
    }
    Ok(())
}

/// Reads and parses a file, with a progress bar over its bytes.
fn read_file(path: &Path, name: &str, show_progress: bool) -> io::Result<Parsed> {
    let file = File::open(path)?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reading = progress::bar(show_progress, length, format!("reading {name}"));
    let parsed = parse(&mut BufReader::new(file), &mut |bytes| reading.inc(bytes));
    reading.finish_and_clear();
    parsed
}

/// Reads JSON Lines and parses each line, collecting every problem. Blank lines are skipped
/// (but counted: line numbers are those an editor shows). `read(bytes)` is called per line.
fn parse(input: &mut dyn BufRead, read: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut first_line_of: HashMap<EventId, u64> = HashMap::new();
    let mut buffer = Vec::new();
    let mut number = 0u64;
    while let Some(line) = read_line(input, &mut buffer, LINE_BYTES_MAX)? {
        number += 1;
        read(line.bytes);
        if line.too_long {
            parsed.problem(format!(
                "line {number}: longer than {LINE_BYTES_MAX} bytes (an event is at most {EVENT_BYTES_MAX})"
            ));
            continue;
        }
        let mut bytes = buffer.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if number == 1
            && let Some(rest) = bytes.strip_prefix("\u{feff}".as_bytes())
        {
            bytes = rest;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            parsed.problem(format!("line {number}: not UTF-8 text"));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let event = match NewEvent::from_json(text) {
            Ok(event) => event,
            Err(error) => {
                parsed.problem(format!(
                    "line {number}: field `{}`: {}",
                    error.field,
                    without_json_line(&error.message)
                ));
                continue;
            }
        };
        if let Some(id) = event.event_id
            && let Some(first) = first_line_of.insert(id, number)
        {
            first_line_of.insert(id, first);
            parsed.problem(format!(
                "line {number}: field `event_id`: the same id as line {first}"
            ));
            continue;
        }
        if parsed.events.len() == IMPORT_EVENTS_MAX {
            parsed.problem(format!(
                "line {number}: an import holds at most {IMPORT_EVENTS_MAX} events; split the file"
            ));
            break;
        }
        parsed.with_recorded_at += u64::from(event.recorded_at.is_some());
        parsed.without_event_id += u64::from(event.event_id.is_none());
        parsed.events.push(event);
        parsed.lines.push(number);
    }
    Ok(parsed)
}

/// serde_json ends its messages with ` at line 1 column C`: each line of the file is one JSON
/// text, so its "line 1" would only mislead next to the file's line number. Keep the column.
fn without_json_line(message: &str) -> String {
    match message.rsplit_once(" at line 1 column ") {
        Some((text, column))
            if !column.is_empty() && column.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{text} (column {column})")
        }
        _ => message.to_owned(),
    }
}

/// One line as read: its size and whether it was cut.
struct Line {
    /// Bytes consumed, line ending included.
    bytes: u64,
    /// The line was longer than the bound; the buffer holds nothing useful.
    too_long: bool,
}

/// Reads one line into `buffer` (without its `\n`), keeping at most `max` bytes of it: a longer
/// line is consumed but not kept. `None` at the end of the input.
fn read_line(
    input: &mut dyn BufRead,
    buffer: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<Line>> {
    buffer.clear();
    let mut line = Line {
        bytes: 0,
        too_long: false,
    };
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((line.bytes > 0).then_some(line));
        }
        let (used, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let content = &available[..if ended { used - 1 } else { used }];
        if !line.too_long {
            if buffer.len() + content.len() > max {
                line.too_long = true;
                buffer.clear();
            } else {
                buffer.extend_from_slice(content);
            }
        }
        input.consume(used);
        line.bytes += used as u64;
        if ended {
            return Ok(Some(line));
        }
    }
}

/// The store's refusal, naming the line it concerns.
fn refused(refusal: &Refusal, lines: &[u64]) -> CliError {
    let text = match refusal.index.and_then(|i| lines.get(i)) {
        Some(line) => format!(
            "import refused, nothing written: line {line}: {}",
            refusal.kind
        ),
        None => format!("import refused, nothing written: {refusal}"),
    };
    match refusal.kind {
        RefusalKind::Conflict { .. } => CliError::Conflict(text),
        _ => CliError::Refused(text),
    }
}

/// The one line a successful import prints.
fn summary(imported: &Imported, total: u64, dry_run: bool) -> String {
    let events = |n| count(n, "event", "events");
    let already = if imported.duplicates > 0 {
        format!(" ({} already stored)", imported.duplicates)
    } else {
        String::new()
    };
    let positions = match (imported.first_position, imported.last_position) {
        (Some(first), Some(last)) if first == last => format!("position {first}"),
        (Some(first), Some(last)) => format!("positions {first}–{last}"),
        _ => String::new(),
    };
    match (dry_run, imported.appended) {
        (false, 0) => format!(
            "nothing imported: all {} already stored",
            events(imported.duplicates)
        ),
        (false, appended) => format!(
            "imported {} for {}{already}, {positions}",
            events(appended),
            count(imported.decisions, "decision", "decisions"),
        ),
        (true, 0) => format!(
            "checked {}: all already stored, nothing would be imported; nothing written",
            events(total)
        ),
        (true, appended) => format!(
            "checked {}: {appended} would be imported for {}{already}; nothing written",
            events(total),
            count(imported.decisions, "decision", "decisions"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8], max: usize) -> Vec<(Vec<u8>, u64, bool)> {
        // A reader that hands out 3 bytes at a time, so lines span several buffers.
        let mut input = BufReader::with_capacity(3, input);
        let mut buffer = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = read_line(&mut input, &mut buffer, max).expect("in memory") {
            lines.push((buffer.clone(), line.bytes, line.too_long));
        }
        lines
    }

    #[test]
    fn lines_are_read_across_buffers_and_long_ones_are_cut() {
        assert_eq!(
            lines_of(b"ab\n\nabcdefgh\nxyz", 5),
            [
                (b"ab".to_vec(), 3, false),
                (Vec::new(), 1, false),
                (Vec::new(), 9, true),
                (b"xyz".to_vec(), 3, false),
            ]
        );
        assert!(lines_of(b"", 5).is_empty());
    }

    #[test]
    fn a_refusal_without_an_index_is_shown_as_the_store_says_it() {
        let refusal = Refusal {
            index: None,
            kind: RefusalKind::Invalid("the request holds no events".into()),
        };
        let error = refused(&refusal, &[1, 2]);
        assert_eq!(error.exit(), crate::Exit::Refused);
        assert!(
            error.to_string().ends_with(": the request holds no events"),
            "{error}"
        );
        let refusal = Refusal {
            index: Some(1),
            kind: RefusalKind::Invalid("recorded_at is missing".into()),
        };
        assert!(
            refused(&refusal, &[3, 7])
                .to_string()
                .contains("line 7: recorded_at is missing")
        );
    }

    #[test]
    fn serde_json_positions_keep_only_the_column() {
        assert_eq!(
            without_json_line("2023-02-30 is not a real date at line 1 column 149"),
            "2023-02-30 is not a real date (column 149)"
        );
        assert_eq!(without_json_line("check digit"), "check digit");
        assert_eq!(
            without_json_line("x at line 1 column "),
            "x at line 1 column "
        );
    }

    #[test]
    fn problems_beyond_the_cap_are_counted() {
        let mut parsed = Parsed::default();
        for line in 1..=PROBLEMS_LISTED_MAX + 3 {
            parsed.problem(format!("line {line}: wrong"));
        }
        let text = parsed.refusal("x.jsonl").to_string();
        assert_eq!(text.lines().count(), 1 + PROBLEMS_LISTED_MAX + 1, "{text}");
        assert!(text.ends_with("… and 3 more problems"), "{text}");
    }
}
