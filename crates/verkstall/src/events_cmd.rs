//! `verkstall events [--after N] [--limit N]`: the stored events as JSON Lines, byte for byte as
//! stored (canonical JSON with the hash last), in position order (spec §8).
//!
//! The output is one consistent snapshot: it ends at the head the log had when the command
//! started, whatever is appended meanwhile. It never creates a data directory. With `--store`
//! it prints the PostgreSQL store's log, byte for byte as stored there.

use std::io::{self, BufWriter, Write};

use anyhow::anyhow;

use crate::data::{self, Location};
use crate::exit::CliError;

/// Events asked of the store per read (the store caps a read at its own page size too).
const PAGE_EVENTS_MAX: usize = 10_000;

/// Arguments of `verkstall events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Print only events after this position (0 = from the first).
    #[arg(long, value_name = "N", default_value_t = 0)]
    after: u64,
    /// Print at most this many events (default: all).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
}

/// Runs `verkstall events`.
pub fn run(args: &EventsArgs, location: &Location, out: &mut dyn Write) -> Result<(), CliError> {
    let opened = data::open_log(location)?;
    let store = opened.log.as_store();
    let head = opened
        .runtime
        .block_on(store.head())
        .map_err(|e| anyhow!(e).context("reading the log's head"))?
        .position;
    let mut out = BufWriter::new(out);
    let mut after = args.after;
    let mut left = args.limit.unwrap_or(u64::MAX);
    while left > 0 && after < head {
        let want = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(PAGE_EVENTS_MAX);
        let page = opened
            .runtime
            .block_on(store.read_stored_lines(after, want))
            .map_err(|e| anyhow!(e).context("reading the log"))?;
        let Some(&(last, _)) = page.last() else {
            break;
        };
        for (position, line) in page.iter().take_while(|(p, _)| *p <= head) {
            debug_assert_eq!(*position, after + 1, "the store returns positions in order");
            match out.write_all(line).and_then(|()| out.write_all(b"\n")) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                other => other?,
            }
            after = *position;
            left -= 1;
        }
        if last > head {
            break;
        }
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
