//! The contenders, and the one thing each must do for every measurement: open a fresh store,
//! load the log, append one event, read the log back in order.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bench_common::disk::disk_usage;
use domain::{DecisionId, NewEvent, RecordedEvent};
use store::{EmbeddedStore, EngineKind, EventStore, ExpectedVersion, ImportOptions, system_clock};
use store_postgres::{INSERT_CHUNK_ROWS, PgStore, ScratchDatabase};

use crate::Error;
use crate::baseline::{Baseline, Reader};

/// Events per load call (one `import`, or one transaction of the baseline): the demo's own
/// chunk, as `verkstall demo` imports it.
pub const LOAD_CHUNK_EVENTS: usize = demo::IMPORT_CHUNK_EVENTS;

/// Who is measured, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contender {
    /// verkstall's embedded store on redb (the default engine).
    Redb,
    /// verkstall's embedded store on sled.
    Sled,
    /// verkstall's own PostgreSQL store (`store-postgres`).
    Postgres,
    /// The plain PostgreSQL events table a team would build instead.
    Baseline,
}

impl Contender {
    /// Every contender, in column order.
    pub const ALL: [Contender; 4] = [
        Contender::Redb,
        Contender::Sled,
        Contender::Postgres,
        Contender::Baseline,
    ];

    /// The column's index.
    pub fn column(self) -> usize {
        Contender::ALL
            .iter()
            .position(|&c| c == self)
            .expect("every contender is in ALL")
    }

    /// The column's title.
    pub fn title(self) -> &'static str {
        match self {
            Contender::Redb => "verkstall (redb)",
            Contender::Sled => "verkstall (sled)",
            Contender::Postgres => "verkstall (PostgreSQL store)",
            Contender::Baseline => "baseline (PostgreSQL events table)",
        }
    }

    /// A short name, for the ratio's heading and progress lines.
    pub fn short(self) -> &'static str {
        match self {
            Contender::Redb => "redb",
            Contender::Sled => "sled",
            Contender::Postgres => "pg-store",
            Contender::Baseline => "baseline",
        }
    }

    /// Whether this build can measure it (sled needs `--features sled`).
    pub fn is_compiled(self) -> bool {
        match self {
            Contender::Sled => EngineKind::Sled.is_compiled(),
            _ => true,
        }
    }

    /// Opens a fresh, empty store: a data directory `dir` for the embedded engines, a scratch
    /// database for the others (`baseline_connections` is the baseline's pool size).
    pub async fn open(self, dir: &Path, baseline_connections: usize) -> Result<Opened, Error> {
        Ok(match self {
            Contender::Redb | Contender::Sled => Opened::Embedded {
                store: Arc::new(self.open_embedded(dir)?),
                dir: dir.to_path_buf(),
            },
            Contender::Postgres => {
                let database = ScratchDatabase::create().await?;
                let store = PgStore::connect(&database.config()).await?;
                Opened::Postgres {
                    store: Arc::new(store),
                    database,
                }
            }
            Contender::Baseline => {
                let database = ScratchDatabase::create().await?;
                let baseline = Baseline::create(&database.config(), baseline_connections).await?;
                Opened::Baseline {
                    baseline: Arc::new(baseline),
                    database,
                    versions: HashMap::new(),
                }
            }
        })
    }
}

impl Contender {
    /// The embedded store of redb or sled in `dir`, created if new.
    fn open_embedded(self, dir: &Path) -> Result<EmbeddedStore, Error> {
        let engine = match self {
            Contender::Sled => EngineKind::Sled,
            _ => EngineKind::Redb,
        };
        Ok(EmbeddedStore::open(dir, Some(engine), system_clock())?)
    }

    /// Opens the log that [`Opened::place`] names (written by another process) for reading.
    pub async fn attach(self, place: &str) -> Result<Pages, Error> {
        Ok(match self {
            Contender::Redb | Contender::Sled => {
                Pages::Verkstall(Arc::new(self.open_embedded(Path::new(place))?))
            }
            Contender::Postgres => Pages::Verkstall(Arc::new(PgStore::connect(place).await?)),
            Contender::Baseline => Pages::Baseline(Reader::open(place).await?),
        })
    }
}

impl std::str::FromStr for Contender {
    type Err = String;

    fn from_str(name: &str) -> Result<Contender, String> {
        Contender::ALL
            .into_iter()
            .find(|c| c.short() == name)
            .ok_or_else(|| format!("unknown contender `{name}`"))
    }
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

/// An open store of one contender. Dropping it closes it (and drops a scratch database).
pub enum Opened {
    /// redb or sled.
    Embedded {
        /// The store.
        store: Arc<EmbeddedStore>,
        /// Its data directory.
        dir: std::path::PathBuf,
    },
    /// verkstall's PostgreSQL store.
    Postgres {
        /// The store.
        store: Arc<PgStore>,
        /// Its database (declared after the store: dropped after it).
        database: ScratchDatabase,
    },
    /// The baseline table.
    Baseline {
        /// Its client.
        baseline: Arc<Baseline>,
        /// Its database.
        database: ScratchDatabase,
        /// Each stream's version so far, as the loading client counts it.
        versions: HashMap<DecisionId, i32>,
    },
}

impl Opened {
    /// verkstall's store, for the contenders that are one.
    pub fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        match self {
            Opened::Embedded { store, .. } => Some(Arc::clone(store) as Arc<dyn EventStore>),
            Opened::Postgres { store, .. } => Some(Arc::clone(store) as Arc<dyn EventStore>),
            Opened::Baseline { .. } => None,
        }
    }

    /// Loads one chunk of a historical import: every event keeps its `recorded_at`.
    pub async fn load(&mut self, chunk: &[NewEvent]) -> Result<(), Error> {
        match self {
            Opened::Baseline {
                baseline, versions, ..
            } => {
                let baseline = Arc::get_mut(baseline).ok_or("the baseline is loaded alone")?;
                baseline.load(chunk, INSERT_CHUNK_ROWS, versions).await
            }
            _ => {
                let store = self.event_store().expect("not the baseline");
                let options = ImportOptions {
                    keep_recorded_at: true,
                    dry_run: false,
                };
                let imported = store
                    .import(chunk.to_vec(), options)
                    .await?
                    .map_err(|refusal| format!("the load was refused: {refusal}"))?;
                if imported.appended != chunk.len() as u64 {
                    return Err(format!(
                        "the load wrote {} of {} events",
                        imported.appended,
                        chunk.len()
                    )
                    .into());
                }
                Ok(())
            }
        }
    }

    /// Settles a PostgreSQL log after its load, as a team does after a bulk load, so that the
    /// server's housekeeping on it does not run through the measurements that follow (on every
    /// contender's turn): `VACUUM (ANALYZE)` of its database, then a `CHECKPOINT`, which writes
    /// the load's pages out. Not timed. The embedded stores need nothing.
    pub async fn settle(&self) -> Result<(), Error> {
        let database = match self {
            Opened::Embedded { .. } => return Ok(()),
            Opened::Postgres { database, .. } | Opened::Baseline { database, .. } => database,
        };
        // Each alone: VACUUM cannot run in the transaction a multi-statement query makes.
        database.execute("VACUUM (ANALYZE)").await?;
        database.execute("CHECKPOINT").await?;
        Ok(())
    }

    /// Bytes the log takes: `du` of the data directory, or `pg_total_relation_size` of the
    /// tables (indexes and TOAST included; the write-ahead log, shared by the cluster, not).
    pub async fn disk_bytes(&self) -> Result<u64, Error> {
        match self {
            Opened::Embedded { dir, .. } => Ok(disk_usage(dir)?),
            Opened::Baseline { baseline, .. } => baseline.disk_bytes().await,
            Opened::Postgres { database, .. } => {
                let (client, driver) = connect(database).await?;
                let row = client
                    .query_one(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint \
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE n.nspname = 'verkstall' AND c.relkind = 'r'",
                        &[],
                    )
                    .await?;
                drop(client);
                let _ = driver.await;
                Ok(u64::try_from(row.get::<_, i64>(0))?)
            }
        }
    }

    /// Something that can append, shared by the writer tasks.
    pub fn appender(&self) -> Appender {
        match self {
            Opened::Baseline { baseline, .. } => Appender::Baseline(Arc::clone(baseline)),
            _ => Appender::Verkstall(self.event_store().expect("not the baseline")),
        }
    }

    /// Where another process finds the log: the data directory, or the database's connection
    /// string.
    pub fn place(&self) -> String {
        match self {
            Opened::Embedded { dir, .. } => dir.display().to_string(),
            Opened::Postgres { database, .. } | Opened::Baseline { database, .. } => {
                database.config()
            }
        }
    }

    /// Events in the log: verkstall's head, the baseline's row count.
    pub async fn events(&self) -> Result<u64, Error> {
        match self {
            Opened::Baseline { baseline, .. } => baseline.count().await,
            _ => {
                let store = self.event_store().expect("not the baseline");
                Ok(store.head().await?.position)
            }
        }
    }
}

/// One event appended with an expected version, by a writer task.
#[derive(Clone)]
pub enum Appender {
    /// verkstall's `EventStore::append` with `ExpectedVersion::Exact`.
    Verkstall(Arc<dyn EventStore>),
    /// The baseline's insert, refused by the unique constraint when stale.
    Baseline(Arc<Baseline>),
}

impl Appender {
    /// Appends `event` to its stream, now at `version`; `writer` picks the baseline's
    /// connection. A refusal fails the benchmark: no two writers share a stream here.
    pub async fn append(&self, writer: usize, version: u64, event: NewEvent) -> Result<(), Error> {
        let decision_id = event.decision_id;
        match self {
            Appender::Verkstall(store) => {
                let appended = store
                    .append(decision_id, ExpectedVersion::Exact(version), vec![event])
                    .await?
                    .map_err(|refusal| format!("decision {decision_id}: refused: {refusal}"))?;
                if appended.version != version + 1 {
                    return Err(format!(
                        "decision {decision_id}: at version {} after appending at {version}",
                        appended.version
                    )
                    .into());
                }
            }
            Appender::Baseline(baseline) => {
                if !baseline.append(writer, version + 1, &event).await? {
                    return Err(format!(
                        "decision {decision_id}: the baseline refused version {}",
                        version + 1
                    )
                    .into());
                }
            }
        }
        Ok(())
    }
}

/// The log read in pages, in position order, decoded.
#[derive(Clone)]
pub enum Pages {
    /// `EventStore::read_all`.
    Verkstall(Arc<dyn EventStore>),
    /// The baseline's `SELECT … ORDER BY position`, decoded from JSONB.
    Baseline(Reader),
}

impl Pages {
    /// Up to `limit` events after `after`.
    pub async fn page(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, Error> {
        match self {
            Pages::Verkstall(store) => Ok(store.read_all(after, limit, None).await?),
            Pages::Baseline(reader) => reader.page(after, limit).await,
        }
    }
}

/// A connection to a scratch database, and the task that drives it (it ends once the client is
/// dropped).
async fn connect(
    database: &ScratchDatabase,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), Error> {
    let (client, connection) =
        tokio_postgres::connect(&database.config(), tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((client, driver))
}
