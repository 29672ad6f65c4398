//! The data directory and the store in it: where it is, which engine it uses, and opening it.
//!
//! Commands that write ([`open_for_writing`]) create the directory when it does not exist yet,
//! with the engine named by `--engine`. Commands that only read ([`open_existing`]) never create
//! anything: a missing directory is an error. Either way, naming another engine than the one an
//! existing directory was created with is refused (by the store's `DataDir::open`), and a data
//! directory whose log has gone missing is refused rather than started afresh.
//!
//! `--store postgres://…` (or `$VERKSTALL_STORE`) names a PostgreSQL store instead
//! ([`open_log`]); the commands that read the log through it (`serve`, `verify`, `events`, the
//! reports, `rebuild`) then keep only their local state in the data directory, and `token` and
//! `access-log` ([`prepare_node_dir`], [`existing_node_dir`]) make no embedded log in it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use store::{EmbeddedStore, EngineKind, EventStore};
use store_postgres::PgStore;

use crate::exit::CliError;

/// A storage engine, as named on the command line (`--engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// redb, the default.
    Redb,
    /// sled (needs a build with the `sled` feature).
    Sled,
}

impl From<Engine> for EngineKind {
    fn from(engine: Engine) -> EngineKind {
        match engine {
            Engine::Redb => EngineKind::Redb,
            Engine::Sled => EngineKind::Sled,
        }
    }
}

/// Where the data lives and which engine a new directory gets.
#[derive(Debug, Clone)]
pub struct Location {
    /// The data directory.
    pub path: PathBuf,
    /// `--engine`, if given.
    pub engine: Option<Engine>,
    /// `--store` (else `$VERKSTALL_STORE`): a PostgreSQL store's connection string, if given.
    pub store: Option<String>,
}

/// The log a command reads: the data directory's embedded store, or PostgreSQL.
pub enum Log {
    /// The embedded store of the data directory.
    Embedded(EmbeddedStore),
    /// The PostgreSQL store named by `--store`.
    Postgres(PgStore),
}

impl Log {
    /// The store, whichever it is.
    pub fn as_store(&self) -> &dyn EventStore {
        match self {
            Log::Embedded(store) => store,
            Log::Postgres(store) => store,
        }
    }
}

/// An open log with the runtime it was opened in; the log is dropped first.
pub struct OpenedLog {
    /// The log.
    pub log: Log,
    /// The runtime the store's async methods run on.
    pub runtime: tokio::runtime::Runtime,
}

/// Opens the log a command reads: the PostgreSQL store named by `--store` (never creating
/// anything but verkstall's schema), else the data directory's existing embedded store.
pub fn open_log(location: &Location) -> Result<OpenedLog, CliError> {
    let Some(config) = &location.store else {
        let Opened { store, runtime } = open_existing(location)?;
        return Ok(OpenedLog {
            log: Log::Embedded(store),
            runtime,
        });
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = connect_postgres(&runtime, config)?;
    Ok(OpenedLog {
        log: Log::Postgres(store),
        runtime,
    })
}

/// Connects to the PostgreSQL store at `config` on `runtime`. The error never repeats the
/// connection string (it may hold a password).
pub fn connect_postgres(
    runtime: &tokio::runtime::Runtime,
    config: &str,
) -> Result<PgStore, CliError> {
    if !(config.starts_with("postgres://")
        || config.starts_with("postgresql://")
        || config.contains('='))
    {
        return Err(CliError::Usage(
            "--store (or $VERKSTALL_STORE) must be a PostgreSQL connection string:              postgres://USER@HOST/DATABASE or key=value pairs"
                .into(),
        ));
    }
    runtime.block_on(PgStore::connect(config)).map_err(|e| {
        anyhow::Error::new(e)
            .context("cannot open the PostgreSQL store")
            .into()
    })
}

/// An open store with the runtime it was opened in. The store is dropped first (its writer
/// thread finishes and the engine's files are released), then the runtime.
pub struct Opened {
    /// The store.
    pub store: EmbeddedStore,
    /// The runtime the store's async methods run on.
    pub runtime: tokio::runtime::Runtime,
}

/// Whether `path` holds a verkstall data directory (it has the engine file the store writes
/// when it creates one).
pub fn is_data_dir(path: &Path) -> bool {
    path.join(store::ENGINE_FILE_NAME).is_file()
}

/// Opens the store in `location`, creating the data directory if it does not exist.
pub fn open_for_writing(location: &Location) -> Result<Opened, CliError> {
    open_at(&location.path, location.engine)
}

/// Makes the data directory ready for a command that writes the node's own files beside the log
/// (API tokens): with the embedded log, a new directory is created as a writing command creates
/// it (its store included; an existing one is not opened, as a running server holds it); with a
/// PostgreSQL store (`--store`), the directory holds only the node's local state, and no
/// embedded log is made in it.
pub fn prepare_node_dir(location: &Location) -> Result<(), CliError> {
    if location.store.is_some() {
        let path = &location.path;
        return std::fs::create_dir_all(path)
            .with_context(|| format!("cannot create data directory {}", path.display()))
            .map_err(CliError::from);
    }
    if !is_data_dir(&location.path) {
        drop(open_for_writing(location)?);
    }
    Ok(())
}

/// Checks that the data directory exists for a command that only reads the node's own files
/// (tokens, the access log), creating nothing: with the embedded log it must be a data
/// directory; with a PostgreSQL store (`--store`), a directory.
pub fn existing_node_dir(location: &Location) -> Result<(), CliError> {
    let path = &location.path;
    if location.store.is_some() {
        if path.is_dir() {
            return Ok(());
        }
        return Err(CliError::Other(anyhow::anyhow!(
            "data directory {} does not exist; name the node's data directory with --data DIR \
             or $VERKSTALL_DATA",
            path.display()
        )));
    }
    if !is_data_dir(path) {
        open_existing(location)?;
    }
    Ok(())
}

/// Opens the store in `location` for a command that only reads: a directory that does not exist
/// (or is not a verkstall data directory) is an error, and nothing is created.
pub fn open_existing(location: &Location) -> Result<Opened, CliError> {
    let path = &location.path;
    if !is_data_dir(path) {
        let problem = if path.exists() {
            format!(
                "{} is not a verkstall data directory (it has no {} file)",
                path.display(),
                store::ENGINE_FILE_NAME
            )
        } else {
            format!("data directory {} does not exist", path.display())
        };
        return Err(CliError::Other(anyhow::anyhow!(
            "{problem}; name the data directory with --data DIR or $VERKSTALL_DATA"
        )));
    }
    open_at(path, location.engine)
}

/// Opens the store at `path` inside a new multi-thread runtime.
pub fn open_at(path: &Path, engine: Option<Engine>) -> Result<Opened, CliError> {
    // A directory whose log has gone missing is refused by the store (`DataDir::open`), never
    // started afresh.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = {
        let _entered = runtime.enter();
        // The store's errors name the directory themselves.
        EmbeddedStore::open(path, engine.map(EngineKind::from), store::system_clock())
            .map_err(anyhow::Error::new)?
    };
    Ok(Opened { store, runtime })
}
