//! The access log: every read of personal data, written before the data is sent — who (the
//! token's name and role), what (the decision, or the positions of the log), when, and why it
//! was allowed (the role's permission). Append-only JSON Lines in the data directory
//! ([`ACCESS_LOG_FILE_NAME`]), each line synced before the answer goes out: a read that cannot
//! be logged is not answered.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{Action, Caller, Role};
use crate::problem::ApiError;

/// The access log's file name in the data directory.
pub const ACCESS_LOG_FILE_NAME: &str = "access-log.jsonl";

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
}

/// The access log file of a data directory.
pub fn access_log_path(data_dir: &Path) -> PathBuf {
    data_dir.join(ACCESS_LOG_FILE_NAME)
}

/// The open access log.
#[derive(Debug)]
pub struct AccessLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AccessLog {
    /// Opens (creating) the access log of `data_dir` for appending.
    pub fn open(data_dir: &Path) -> std::io::Result<AccessLog> {
        let path = access_log_path(data_dir);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(AccessLog {
            path,
            file: Mutex::new(file),
        })
    }

    /// Writes and syncs the entry for `caller` reading `what` under `action`.
    pub(crate) fn record(
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
        };
        let mut line = serde_json::to_vec(&entry).expect("an entry always serialises");
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| {
                ApiError::internal(&format!(
                    "cannot write the access log {}: {e}",
                    self.path.display()
                ))
            })
    }
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
