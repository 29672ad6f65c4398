//! The data directory: which engine it was created with, and where the engine keeps its files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use kv::EngineKind;

use crate::api::StoreError;

/// The file that records the directory's engine (`redb` or `sled`), written when it is created.
pub const ENGINE_FILE_NAME: &str = "verkstall-engine";
/// The folder inside the data directory that belongs to the engine.
const LOG_DIR_NAME: &str = "log";

/// A data directory and its engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    path: PathBuf,
    engine: EngineKind,
    /// Created by this `open`: the engine's files do not exist yet, and the marker is written
    /// once they do ([`DataDir::finish_creation`]).
    new: bool,
}

impl DataDir {
    /// Opens the data directory at `path`. A directory that does not exist yet (or is empty) is
    /// created with `engine` (redb when `None`); an existing one keeps the engine it was created
    /// with, and naming another engine for it is refused.
    pub fn open(path: &Path, engine: Option<EngineKind>) -> Result<DataDir, StoreError> {
        let error = |detail: String| StoreError::DataDir {
            path: path.display().to_string(),
            detail,
        };
        let marker = path.join(ENGINE_FILE_NAME);
        if marker.exists() {
            let text = fs::read_to_string(&marker)
                .map_err(|e| error(format!("cannot read {ENGINE_FILE_NAME}: {e}")))?;
            let recorded: EngineKind = text
                .trim()
                .parse()
                .map_err(|_| error(format!("{ENGINE_FILE_NAME} names no known engine")))?;
            if let Some(asked) = engine
                && asked != recorded
            {
                return Err(error(format!(
                    "it was created with --engine {recorded}, not {asked}"
                )));
            }
            let data_dir = DataDir {
                path: path.to_path_buf(),
                engine: recorded,
                new: false,
            };
            if !data_dir.engine_files_exist() {
                return Err(error(format!(
                    "its {recorded} log is missing from {}: refusing to start an empty log in its place",
                    data_dir.log_path().display()
                )));
            }
            return Ok(data_dir);
        }
        let is_empty = match fs::read_dir(path) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(error(e.to_string())),
        };
        if !is_empty {
            return Err(error(format!(
                "it is not empty and is not a verkstall data directory (no {ENGINE_FILE_NAME})"
            )));
        }
        let engine = engine.unwrap_or(EngineKind::Redb);
        if !engine.is_compiled() {
            return Err(error(format!(
                "this build has no {engine} engine (build with --features sled)"
            )));
        }
        fs::create_dir_all(path).map_err(|e| error(e.to_string()))?;
        Ok(DataDir {
            path: path.to_path_buf(),
            engine,
            new: true,
        })
    }

    /// Whether this `open` created the directory (its log does not exist yet).
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// Writes the engine marker, once the engine's files exist: a directory with a marker and
    /// no log is then always an error, never a fresh start.
    pub fn finish_creation(&mut self) -> Result<(), StoreError> {
        let error = |e: std::io::Error| StoreError::DataDir {
            path: self.path.display().to_string(),
            detail: e.to_string(),
        };
        let mut file = fs::File::create(self.path.join(ENGINE_FILE_NAME)).map_err(error)?;
        file.write_all(format!("{}\n", self.engine).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(error)?;
        fs::File::open(&self.path)
            .and_then(|d| d.sync_all())
            .map_err(error)?;
        self.new = false;
        Ok(())
    }

    fn engine_files_exist(&self) -> bool {
        let log = self.log_path();
        match self.engine {
            EngineKind::Redb => log.join(kv::REDB_FILE_NAME).is_file(),
            EngineKind::Sled => log.join(kv::SLED_DIR_NAME).is_dir(),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its engine.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// Where the engine keeps its files.
    pub fn log_path(&self) -> PathBuf {
        self.path.join(LOG_DIR_NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_directory_remembers_its_engine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data");
        let mut created = DataDir::open(&path, None).expect("created");
        assert_eq!(created.engine(), EngineKind::Redb);
        // Until the engine's files exist, the directory is not finished.
        drop(kv::open(EngineKind::Redb, &created.log_path()).expect("engine"));
        created.finish_creation().expect("marker");
        assert_eq!(
            DataDir::open(&path, None).expect("reopened").engine(),
            EngineKind::Redb
        );
        assert_eq!(
            DataDir::open(&path, Some(EngineKind::Redb)).expect("same engine"),
            created
        );
        let refused = DataDir::open(&path, Some(EngineKind::Sled)).expect_err("other engine");
        assert!(
            refused.to_string().contains("created with --engine redb"),
            "{refused}"
        );
    }

    #[test]
    fn a_directory_whose_log_is_gone_is_refused_not_started_afresh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data");
        let mut created = DataDir::open(&path, None).expect("created");
        drop(kv::open(EngineKind::Redb, &created.log_path()).expect("engine"));
        created.finish_creation().expect("marker");
        fs::remove_dir_all(created.log_path()).expect("remove the log");
        let refused = DataDir::open(&path, None).expect_err("log gone");
        assert!(refused.to_string().contains("log is missing"), "{refused}");
    }

    #[test]
    fn a_foreign_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("notes.txt"), "hello").expect("write");
        let refused = DataDir::open(dir.path(), None).expect_err("foreign");
        assert!(refused.to_string().contains("not empty"), "{refused}");
    }
}
