//! The access log: every read of personal data, written before the data is sent — who (the
//! token's name and role), what (the decision, or the positions of the log), when, and why it
//! was allowed (the role's permission). Append-only JSON Lines in the data directory
//! ([`ACCESS_LOG_FILE_NAME`]), each line synced before the answer goes out: a read that cannot
//! be logged is not answered.
//!
//! Entries are group-committed by a writer thread of their own, off the async runtime: a read
//! hands its entry over and waits; the writer takes every entry waiting (at most
//! [`ACCESS_BATCH_ENTRIES_MAX`]), links them into the chain in that order, writes them with one
//! write and one sync, and only then answers each of them. So a read is answered only after its
//! entry is durable, and many reads at once cost one sync, not one each. A failed write or sync
//! answers every entry of its batch (and every later one) with an error: the reads are refused.
//!
//! The log is tamper-evident: each entry ends with `"hash"`, the SHA-256 of the previous entry's
//! hash and the entry's own bytes without its hash (the event log's chain, `store::chain_hash`,
//! from `store::GENESIS_HASH`). Changing, removing or inserting an entry breaks every later link,
//! which [`verify_access_log`] (and `verkstall access-log`) finds and names. Entries written
//! before the chain existed carry no hash but are linked all the same. What the chain cannot show
//! is the loss of the newest entries: compare the head hash with one written down elsewhere.
//! A write torn by a crash (a last line without its newline: never synced, so its read was never
//! answered) is cut off when the log is opened again.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::auth::{Action, Caller, Role};
use crate::problem::ApiError;

/// The access log's file name in the data directory.
pub const ACCESS_LOG_FILE_NAME: &str = "access-log.jsonl";
/// Entries written and synced together, at most: one batch is one write and one sync.
pub const ACCESS_BATCH_ENTRIES_MAX: usize = 1024;
/// Entries waiting for the writer, at most; a read beyond that waits for room.
pub const ACCESS_QUEUE_ENTRIES_MAX: usize = 4 * ACCESS_BATCH_ENTRIES_MAX;

/// One read of personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The token's name.
    pub who: String,
    /// The token's role.
    pub role: Role,
    /// What was read: `decision <id> events`, `decision <id> dossier`, `log 1–1000`, …
    pub what: String,
    /// Why it was allowed: the permission the role holds.
    pub allowed_by: String,
    /// The link of the chain: lowercase hex SHA-256 of the previous entry's hash and this
    /// entry's line without `hash` (absent on entries written before the chain existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// Bytes read from the end of the log to find its last entry's hash when it opens.
const TAIL_BYTES: u64 = 64 * 1024;

/// The access log file of a data directory.
pub fn access_log_path(data_dir: &Path) -> PathBuf {
    data_dir.join(ACCESS_LOG_FILE_NAME)
}

/// The open access log: the queue to its writer thread.
#[derive(Debug)]
pub struct AccessLog {
    path: PathBuf,
    queue: mpsc::Sender<Pending>,
    /// Why the writer refuses every entry, once a write has failed.
    broken: Arc<OnceLock<String>>,
}

/// An entry waiting for the writer, and the read waiting for it to be durable.
#[derive(Debug)]
struct Pending {
    /// The entry's canonical JSON, without its hash.
    canonical: Vec<u8>,
    /// Answered once the entry is synced, or with why it could not be.
    durable: oneshot::Sender<Result<(), String>>,
}

/// The file and the hash of its last entry: the writer thread's own.
#[derive(Debug)]
struct Chained {
    path: PathBuf,
    file: File,
    last: [u8; 32],
    /// A write failed part-way: the file's end is unknown until it is opened again. Holds why,
    /// shared with the [`AccessLog`].
    broken: Arc<OnceLock<String>>,
}

impl AccessLog {
    /// Opens (creating) the access log of `data_dir` for appending: cuts a torn last line,
    /// finds the hash the next entry links to, and starts the writer thread.
    pub fn open(data_dir: &Path) -> std::io::Result<AccessLog> {
        let chained = Chained::open(data_dir)?;
        let path = chained.path.clone();
        let broken = Arc::clone(&chained.broken);
        let (queue, mut waiting) = mpsc::channel(ACCESS_QUEUE_ENTRIES_MAX);
        std::thread::Builder::new()
            .name("access-log".to_owned())
            .spawn(move || {
                let mut chained = chained;
                // Ends when the log is dropped and every entry queued is written.
                while chained.write_waiting(&mut waiting).is_some() {}
            })?;
        Ok(AccessLog {
            path,
            queue,
            broken,
        })
    }

    /// Why the access log refuses every entry (and so every read of personal data), once a
    /// write to it has failed: only opening it again, with the server, helps.
    pub fn broken(&self) -> Option<String> {
        self.broken.get().cloned()
    }

    /// Writes and syncs the entry for `caller` reading `what` under `action`; returns once it
    /// is durable (with the entries of other reads waiting at the same time).
    pub(crate) async fn record(
        &self,
        caller: &Caller,
        action: Action,
        what: String,
    ) -> Result<(), ApiError> {
        let entry = AccessEntry {
            at: Utc::now(),
            who: caller.name.clone(),
            role: caller.role,
            what,
            allowed_by: format!("role {} may {}", caller.role, action.as_str()),
            hash: None,
        };
        let canonical = serde_json::to_vec(&entry).expect("an entry always serialises");
        let (durable, written) = oneshot::channel();
        let stopped = || {
            ApiError::internal(&format!(
                "the writer of the access log {} has stopped",
                self.path.display()
            ))
        };
        self.queue
            .send(Pending { canonical, durable })
            .await
            .map_err(|_| stopped())?;
        written
            .await
            .map_err(|_| stopped())?
            .map_err(|e| ApiError::internal(&e))
    }
}

impl Chained {
    fn open(data_dir: &Path) -> std::io::Result<Chained> {
        let path = access_log_path(data_dir);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let tail = read_tail(&mut file)?;
        let complete = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < tail.len() {
            let length = file.metadata()?.len() - (tail.len() - complete) as u64;
            tracing::warn!(
                path = %path.display(),
                bytes = tail.len() - complete,
                "the access log ends with a torn write (never synced, never answered); cut off"
            );
            file.set_len(length)?;
            file.sync_all()?;
        }
        let last_line = tail[..complete]
            .strip_suffix(b"\n")
            .map(|t| t.rsplit(|&b| b == b'\n').next().unwrap_or(t));
        let carried = last_line.and_then(store::split_stored_line).map(|(_, h)| h);
        let last = match (last_line, carried) {
            (None, _) => store::GENESIS_HASH,
            (Some(_), Some(hash)) => hash,
            // The last entry is older than the chain: link over the whole file.
            (Some(_), None) => chain_of(&std::fs::read(&path)?).last,
        };
        Ok(Chained {
            path,
            file,
            last,
            broken: Arc::new(OnceLock::new()),
        })
    }

    /// Waits for an entry, then writes it and every other one waiting (at most
    /// [`ACCESS_BATCH_ENTRIES_MAX`]) with one write and one sync, and answers each. Returns how
    /// many were in the batch; `None` when the queue is closed and empty.
    fn write_waiting(&mut self, waiting: &mut mpsc::Receiver<Pending>) -> Option<usize> {
        let mut batch = vec![waiting.blocking_recv()?];
        while batch.len() < ACCESS_BATCH_ENTRIES_MAX {
            match waiting.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let written = self.append(batch.iter().map(|p| p.canonical.as_slice()));
        let entries = batch.len();
        for pending in batch {
            // A read that gave up waiting has no one to answer; its entry is written all the same.
            let _ = pending.durable.send(written.clone());
        }
        Some(entries)
    }

    /// Links `entries` into the chain in order, appends them and syncs the file.
    fn append<'a>(&mut self, entries: impl Iterator<Item = &'a [u8]>) -> Result<(), String> {
        if let Some(cause) = self.broken.get() {
            return Err(format!(
                "an earlier write to the access log {} failed ({cause}); restart the server",
                self.path.display()
            ));
        }
        let mut last = self.last;
        let mut lines = Vec::new();
        for canonical in entries {
            last = store::chain_hash(&last, canonical);
            lines.extend_from_slice(&canonical[..canonical.len() - 1]); // the hash is the last field
            lines.extend_from_slice(br#","hash":""#);
            lines.extend_from_slice(store::encode_hex(&last).as_bytes());
            lines.extend_from_slice(b"\"}\n");
        }
        let written = self
            .file
            .write_all(&lines)
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.last = last;
                Ok(())
            }
            Err(e) => {
                let _ = self.broken.set(e.to_string());
                Err(format!(
                    "cannot write the access log {}: {e}",
                    self.path.display()
                ))
            }
        }
    }
}

/// The last [`TAIL_BYTES`] of the file, or all of it.
fn read_tail(file: &mut File) -> std::io::Result<Vec<u8>> {
    let length = file.metadata()?.len();
    let start = length.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity((length - start) as usize);
    file.read_to_end(&mut tail)?;
    if start > 0 && !tail.contains(&b'\n') {
        // One line longer than the tail: read it all.
        file.seek(SeekFrom::Start(0))?;
        tail.clear();
        file.read_to_end(&mut tail)?;
    }
    Ok(tail)
}

/// What [`verify_access_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogCheck {
    /// Entries read.
    pub entries: usize,
    /// Of them, those that carry their hash (the rest predate the chain).
    pub chained: usize,
    /// The hash of the last entry, in hex: write it down elsewhere to detect a cut-off log.
    pub head: String,
    /// The first entry that breaks the chain, if one does.
    pub damage: Option<AccessLogDamage>,
}

/// Where and how the access log's chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} of the access log: {problem}")]
pub struct AccessLogDamage {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong there.
    pub problem: String,
}

/// The chain over the lines of an access log, stopping at the first broken link.
struct Walk {
    entries: usize,
    chained: usize,
    last: [u8; 32],
    damage: Option<AccessLogDamage>,
}

fn chain_of(bytes: &[u8]) -> Walk {
    let mut walk = Walk {
        entries: 0,
        chained: 0,
        last: store::GENESIS_HASH,
        damage: None,
    };
    let mut chain_began = None;
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        let damage = |problem: String| AccessLogDamage {
            line: number,
            problem,
        };
        if serde_json::from_slice::<AccessEntry>(line).is_err() {
            walk.damage = Some(damage("is not an access entry".to_owned()));
            return walk;
        }
        walk.entries += 1;
        match store::split_stored_line(line) {
            Some((canonical, carried)) => {
                let expected = store::chain_hash(&walk.last, &canonical);
                if carried != expected {
                    walk.damage = Some(damage(
                        "its hash does not follow from the previous entry's and its own bytes: \
                         this entry, or one before it, was changed, removed or inserted after it \
                         was written"
                            .to_owned(),
                    ));
                    return walk;
                }
                chain_began.get_or_insert(number);
                walk.chained += 1;
                walk.last = carried;
            }
            None => {
                if let Some(began) = chain_began {
                    walk.damage = Some(damage(format!(
                        "carries no hash, but every entry from line {began} on must"
                    )));
                    return walk;
                }
                walk.last = store::chain_hash(&walk.last, line);
            }
        }
    }
    walk
}

/// Re-reads the access log of `data_dir` and checks every link of its chain.
pub fn verify_access_log(data_dir: &Path) -> std::io::Result<AccessLogCheck> {
    let bytes = match std::fs::read(access_log_path(data_dir)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let walk = chain_of(&bytes);
    Ok(AccessLogCheck {
        entries: walk.entries,
        chained: walk.chained,
        head: store::encode_hex(&walk.last),
        damage: walk.damage,
    })
}

/// Every entry of the access log of `data_dir` (none when it does not exist).
pub fn read_access_log(data_dir: &Path) -> std::io::Result<Vec<AccessEntry>> {
    let text = match std::fs::read_to_string(access_log_path(data_dir)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            name: "revisorn".to_owned(),
            role: Role::Auditor,
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime")
    }

    fn write(dir: &Path, whats: &[&str]) {
        let log = AccessLog::open(dir).expect("opens");
        runtime().block_on(async {
            for what in whats {
                log.record(&caller(), Action::ReadStream, (*what).to_owned())
                    .await
                    .expect("recorded");
            }
        });
    }

    /// An entry queued for a writer, as `record` queues it, and the read's side of its answer.
    fn queue(queue: &mpsc::Sender<Pending>, what: &str) -> oneshot::Receiver<Result<(), String>> {
        let entry = AccessEntry {
            at: Utc::now(),
            who: "revisorn".to_owned(),
            role: Role::Auditor,
            what: what.to_owned(),
            allowed_by: "role auditor may read_stream".to_owned(),
            hash: None,
        };
        let (durable, written) = oneshot::channel();
        queue
            .try_send(Pending {
                canonical: serde_json::to_vec(&entry).expect("serialises"),
                durable,
            })
            .expect("room in the queue");
        written
    }

    #[test]
    fn entries_waiting_together_are_one_batch_answered_only_once_it_is_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), &["decision before"]);
        let mut chained = Chained::open(dir.path()).expect("opens");
        let (sender, mut waiting) = mpsc::channel(ACCESS_QUEUE_ENTRIES_MAX);
        let mut answers: Vec<_> = (0..100)
            .map(|n| queue(&sender, &format!("decision {n} events")))
            .collect();
        for answer in &mut answers {
            assert!(answer.try_recv().is_err(), "answered before it was written");
        }
        assert_eq!(lines(dir.path()).len(), 1);
        assert_eq!(chained.write_waiting(&mut waiting), Some(100));
        for mut answer in answers {
            assert_eq!(answer.try_recv(), Ok(Ok(())));
        }
        let written = lines(dir.path());
        assert_eq!(written.len(), 101);
        assert!(
            written[100].contains("decision 99 events"),
            "{}",
            written[100]
        );
        let check = verify_access_log(dir.path()).expect("readable");
        assert_eq!(
            (check.entries, check.chained, check.damage),
            (101, 101, None)
        );
        drop(sender);
        assert_eq!(chained.write_waiting(&mut waiting), None);
    }

    #[test]
    fn a_batch_that_cannot_be_written_refuses_every_read_in_it_and_after_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut chained = Chained::open(dir.path()).expect("opens");
        let (sender, mut waiting) = mpsc::channel(ACCESS_QUEUE_ENTRIES_MAX);
        // What the server's health routes ask.
        let log = AccessLog {
            path: chained.path.clone(),
            queue: sender.clone(),
            broken: Arc::clone(&chained.broken),
        };
        assert_eq!(log.broken(), None);
        // A file that cannot be written to stands in for a full or failing disk.
        chained.file = File::open(access_log_path(dir.path())).expect("opens for reading");
        let answers = [queue(&sender, "decision a"), queue(&sender, "decision b")];
        assert_eq!(chained.write_waiting(&mut waiting), Some(2));
        for mut answer in answers {
            assert!(matches!(answer.try_recv(), Ok(Err(_))));
        }
        let cause = log.broken().expect("the log says it cannot be written");
        chained.file = OpenOptions::new()
            .append(true)
            .open(access_log_path(dir.path()))
            .expect("opens");
        let mut later = queue(&sender, "decision c");
        assert_eq!(chained.write_waiting(&mut waiting), Some(1));
        match later.try_recv() {
            Ok(Err(refused)) => assert!(refused.contains(&cause), "the first cause: {refused}"),
            other => panic!("the file's end is unknown, so it is refused: {other:?}"),
        }
        assert!(lines(dir.path()).is_empty());
        let reopened = AccessLog::open(dir.path()).expect("opens again");
        assert_eq!(reopened.broken(), None, "opened again, it is written again");
    }

    #[test]
    fn reads_at_once_are_each_logged_once_in_one_chain() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::sync::Arc::new(AccessLog::open(dir.path()).expect("opens"));
        runtime().block_on(async {
            let reads: Vec<_> = (0..200)
                .map(|n| {
                    let log = std::sync::Arc::clone(&log);
                    tokio::spawn(async move {
                        log.record(
                            &caller(),
                            Action::ReadStream,
                            format!("decision {n} events"),
                        )
                        .await
                    })
                })
                .collect();
            for read in reads {
                read.await.expect("joined").expect("recorded");
            }
        });
        let check = verify_access_log(dir.path()).expect("readable");
        assert_eq!(
            (check.entries, check.chained, check.damage),
            (200, 200, None)
        );
        let mut whats: Vec<String> = read_access_log(dir.path())
            .expect("entries")
            .into_iter()
            .map(|e| e.what)
            .collect();
        whats.sort();
        whats.dedup();
        assert_eq!(whats.len(), 200);
    }

    fn lines(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(access_log_path(dir))
            .expect("readable")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn rewrite(dir: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(access_log_path(dir), text).expect("written");
    }

    fn damaged_line(dir: &Path) -> Option<usize> {
        verify_access_log(dir)
            .expect("readable")
            .damage
            .map(|d| d.line)
    }

    #[test]
    fn every_entry_is_linked_to_the_one_before_across_reopenings() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), &["decision a events", "decision b dossier"]);
        write(dir.path(), &["log 1–10"]);
        let check = verify_access_log(dir.path()).expect("readable");
        assert_eq!((check.entries, check.chained, check.damage), (3, 3, None));
        let entries = read_access_log(dir.path()).expect("entries");
        assert_eq!(
            entries.last().and_then(|e| e.hash.clone()),
            Some(check.head)
        );
    }

    #[test]
    fn a_changed_removed_or_inserted_entry_is_found_and_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(dir.path(), &["decision a", "decision b", "decision c"]);
        let original = lines(dir.path());

        let mut changed = original.clone();
        changed[1] = changed[1].replace("decision b", "decision x");
        rewrite(dir.path(), &changed);
        assert_eq!(damaged_line(dir.path()), Some(2));

        let mut removed = original.clone();
        removed.remove(1);
        rewrite(dir.path(), &removed);
        assert_eq!(damaged_line(dir.path()), Some(2));

        let mut inserted = original.clone();
        inserted.insert(1, original[0].clone());
        rewrite(dir.path(), &inserted);
        assert_eq!(damaged_line(dir.path()), Some(2));

        let mut unhashed = original.clone();
        let bare = original[2].split(r#","hash":"#).next().expect("a line");
        unhashed[2] = format!("{bare}}}");
        rewrite(dir.path(), &unhashed);
        assert_eq!(damaged_line(dir.path()), Some(3));

        rewrite(dir.path(), &original);
        assert_eq!(damaged_line(dir.path()), None);
    }

    #[test]
    fn entries_older_than_the_chain_are_linked_too_and_a_torn_write_is_cut() {
        let dir = tempfile::tempdir().expect("temp dir");
        let old = r#"{"at":"2026-01-01T00:00:00Z","who":"a","role":"admin","what":"log 1–2","allowed_by":"role admin may read_log"}"#;
        rewrite(dir.path(), &[old.to_owned()]);
        write(dir.path(), &["decision a"]);
        let check = verify_access_log(dir.path()).expect("readable");
        assert_eq!((check.entries, check.chained, check.damage), (2, 1, None));
        // The old entry is covered by the chain: changing it breaks the link after it.
        let mut changed = lines(dir.path());
        changed[0] = changed[0].replace("log 1–2", "log 1–3");
        rewrite(dir.path(), &changed);
        assert_eq!(damaged_line(dir.path()), Some(2));
        changed[0] = old.to_owned();
        rewrite(dir.path(), &changed);

        let mut file = OpenOptions::new()
            .append(true)
            .open(access_log_path(dir.path()))
            .expect("opens");
        file.write_all(br#"{"at":"2026-01-0"#).expect("torn");
        drop(file);
        write(dir.path(), &["decision b"]);
        let check = verify_access_log(dir.path()).expect("readable");
        assert_eq!((check.entries, check.chained, check.damage), (3, 2, None));
    }
}
