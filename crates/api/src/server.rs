//! The server: opens the store, loads the projection, keeps it current as a subscriber of the
//! log, and serves the routes until asked to stop.
//!
//! It serves over any [`EventStore`]: the embedded store of its data directory
//! ([`Server::bind`]), or one the caller opened, such as PostgreSQL shared by several nodes
//! ([`Server::bind_with`]). The node's own state stays in its data directory either way: the
//! tokens, the projection's snapshot, the access log, and the node's name ([`NODE_FILE_NAME`]),
//! under which the projection's subscriber keeps its checkpoint in the store, so nodes sharing
//! one store never move each other's checkpoint.
//!
//! Reads are consistent with writes: a read that uses the projection first waits until the
//! projection has folded everything committed when the read arrived (bounded by
//! [`PROJECTION_WAIT_MAX`], then 503), so an acknowledged append is seen by the next read.
//!
//! Shutdown is graceful: the listener stops taking connections, requests under way finish (an
//! append that reached the store is committed and answered), then the subscription stops, the
//! projection's snapshot is saved, and the store closes after its writer has finished its queue.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use domain::RecordedEvent;
use live::ProjectionSubscriber;
use projections::Projection;
use store::subscription::{self, SubscriptionHandle, SubscriptionOptions};
use store::{EmbeddedStore, EngineKind, EventStore, Subscriber};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::{Action, Caller, Tokens};
use crate::problem::ApiError;

/// Bytes of a request body, at most (an append of many events; each event is at most
/// `domain::event::EVENT_BYTES_MAX`).
pub const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;
/// How long a read waits for the projection to fold what was committed before it arrived.
pub const PROJECTION_WAIT_MAX: Duration = Duration::from_secs(10);
/// Events the projection may lag behind the log while the server still calls itself ready.
pub const READY_LAG_EVENTS_MAX: u64 = 10_000;
/// Events folded between two saves of the projection's snapshot.
pub const SNAPSHOT_EVERY_EVENTS: u64 = 10_000;
/// The file in the data directory that names this node (a UUID, made at its first start): the
/// projection's subscriber checkpoint in the store is kept under this name.
pub(crate) const NODE_FILE_NAME: &str = "node.id";

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (created, with `engine`, if it does not exist).
    pub data_dir: PathBuf,
    /// The engine of a data directory this server creates (redb when `None`).
    pub engine: Option<EngineKind>,
    /// Where to listen (port 0: any free port; see [`Server::local_addr`]).
    pub addr: SocketAddr,
    /// Bytes of a request body, at most.
    pub body_bytes_max: usize,
    /// How long a request may take (see [`crate::timeout`] for what is exempt).
    pub request_timeout: Duration,
    /// How webhooks deliver and retry.
    pub webhooks: crate::webhooks::delivery::DeliveryOptions,
}

impl Config {
    /// The defaults for `data_dir` and `addr`.
    pub fn new(data_dir: impl Into<PathBuf>, addr: SocketAddr) -> Config {
        Config {
            data_dir: data_dir.into(),
            engine: None,
            addr,
            body_bytes_max: BODY_BYTES_MAX,
            request_timeout: crate::timeout::REQUEST_TIMEOUT,
            webhooks: crate::webhooks::delivery::DeliveryOptions::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The projection could not be loaded or saved.
    #[error(transparent)]
    Live(#[from] live::LiveError),
    /// The token file could not be read.
    #[error(transparent)]
    Tokens(#[from] crate::auth::TokenError),
    /// The webhooks could not be started.
    #[error(transparent)]
    Webhooks(#[from] crate::webhooks::WebhookError),
    /// The address could not be bound, or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// What every handler shares.
pub struct AppState {
    pub(crate) store: Arc<dyn EventStore>,
    /// The node's data directory: tokens, snapshot, access log.
    pub(crate) data_dir: PathBuf,
    pub(crate) projection: Arc<RwLock<Projection>>,
    /// The projection's head, as folded by the subscriber.
    pub(crate) projected: watch::Receiver<u64>,
    pub(crate) tokens: Arc<Tokens>,
    /// Turns true when the server begins to shut down: endless responses (the event stream)
    /// end then, so the shutdown does not wait for them.
    pub(crate) shutting_down: watch::Receiver<bool>,
    pub(crate) metrics: crate::metrics::Metrics,
    pub(crate) access: Arc<crate::access::AccessLog>,
    pub(crate) webhooks: crate::webhooks::Webhooks,
    /// Report answers kept for the next identical question at the same position.
    pub(crate) answers: crate::answers::Answers,
}

impl AppState {
    /// The caller behind the request's bearer token, if its role may do `action`.
    pub(crate) fn authorize(
        &self,
        headers: &HeaderMap,
        action: Action,
    ) -> Result<Caller, ApiError> {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized(
                "no token: send `Authorization: Bearer <token>`; an administrator creates one \
                 with `verkstall token create --role ROLE --name NAME`"
                    .to_owned(),
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "the Authorization header must be `Bearer <token>`".to_owned(),
                )
            })?;
        let caller = self.tokens.caller(token).ok_or_else(|| {
            ApiError::Unauthorized(
                "the token is not known here (revoked, mistyped, or of another data directory)"
                    .to_owned(),
            )
        })?;
        if !caller.role.may(action) {
            return Err(ApiError::Forbidden(format!(
                "a {} token may not do this; ask an administrator for a token with a role \
                 that may",
                caller.role
            )));
        }
        Ok(caller)
    }

    /// Waits until the projection has folded everything committed now, then runs `read` on it.
    pub(crate) async fn with_projection<T>(
        &self,
        read: impl FnOnce(&Projection) -> T,
    ) -> Result<T, ApiError> {
        let target = self.store.head().await?.position;
        let mut projected = self.projected.clone();
        let caught_up = tokio::time::timeout(
            PROJECTION_WAIT_MAX,
            projected.wait_for(|head| *head >= target),
        )
        .await;
        match caught_up {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => {
                return Err(ApiError::Unavailable(
                    "the projections stopped following the log; the server is shutting down"
                        .to_owned(),
                ));
            }
            Err(_) => {
                return Err(ApiError::Unavailable(format!(
                    "the projections are more than {} s behind the log; try again shortly",
                    PROJECTION_WAIT_MAX.as_secs()
                )));
            }
        }
        let projection = self
            .projection
            .read()
            .map_err(|_| ApiError::internal(&"the projection lock is poisoned"))?;
        Ok(read(&projection))
    }

    /// Runs `read` on the projection if it has folded everything committed now; `None`, at
    /// once, if it has not: for a read that can be answered without it, and only goes faster
    /// with it.
    pub(crate) async fn with_current_projection<T>(
        &self,
        read: impl FnOnce(&Projection) -> T,
    ) -> Result<Option<T>, ApiError> {
        let target = self.store.head().await?.position;
        if *self.projected.borrow() < target {
            return Ok(None);
        }
        let projection = self
            .projection
            .read()
            .map_err(|_| ApiError::internal(&"the projection lock is poisoned"))?;
        Ok(Some(read(&projection)))
    }
}

/// The projection's subscriber, telling the server how far it has folded.
struct Following {
    /// The checkpoint's name: the projection's, qualified by the node.
    name: String,
    inner: ProjectionSubscriber,
    projection: Arc<RwLock<Projection>>,
    projected: watch::Sender<u64>,
}

#[async_trait]
impl Subscriber for Following {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(
        &self,
        events: &[RecordedEvent],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.inner.handle(events).await?;
        let head = self
            .projection
            .read()
            .map_err(|_| "the projection lock is poisoned")?
            .head();
        self.projected.send_replace(head);
        Ok(())
    }
}

/// A server bound to its address, not yet serving.
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
    subscription: SubscriptionHandle,
    data_dir: PathBuf,
    body_bytes_max: usize,
    request_timeout: Duration,
    shut_down: watch::Sender<bool>,
}

impl Server {
    /// Opens the embedded store of the data directory and the projection, and binds the address.
    pub async fn bind(config: Config) -> Result<Server, ServeError> {
        let store = Arc::new(EmbeddedStore::open(
            &config.data_dir,
            config.engine,
            store::system_clock(),
        )?);
        Server::bind_with(config, store).await
    }

    /// Serves over `store` (`config.engine` is not used); the node's own state stays in
    /// `config.data_dir`, which is created if it does not exist.
    pub async fn bind_with(
        config: Config,
        store: Arc<dyn EventStore>,
    ) -> Result<Server, ServeError> {
        let io = |context: String| move |source| ServeError::Io { context, source };
        std::fs::create_dir_all(&config.data_dir).map_err(io(format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )))?;
        let node = node_name(&config.data_dir).map_err(io(format!(
            "cannot read or make the node's name ({NODE_FILE_NAME}) in {}",
            config.data_dir.display()
        )))?;
        let tokens = Arc::new(Tokens::open(&config.data_dir)?);
        let access = Arc::new(crate::access::AccessLog::open(&config.data_dir).map_err(
            |source| ServeError::Io {
                context: format!(
                    "cannot open the access log in {}",
                    config.data_dir.display()
                ),
                source,
            },
        )?);
        let projection = live::load(store.as_ref(), &config.data_dir, &mut |_, _| {}).await?;
        let (projected_tx, projected) = watch::channel(projection.head());
        let projection = Arc::new(RwLock::new(projection));
        let inner = ProjectionSubscriber::new(
            Arc::clone(&projection),
            &config.data_dir,
            SNAPSHOT_EVERY_EVENTS,
        );
        // The projection's snapshot is its durable checkpoint; the subscription starts there.
        let name = format!("{}@{node}", live::SUBSCRIBER_NAME);
        store.save_checkpoint(&name, *projected.borrow()).await?;
        let following = Following {
            name,
            inner,
            projection: Arc::clone(&projection),
            projected: projected_tx,
        };
        // The snapshot, not the store's checkpoint, is how far the projection has folded: the
        // checkpoint saved above is where the subscription starts, and it is not moved again
        // (a durable write after every batch folded would be of no use).
        let subscription = subscription::spawn(
            Arc::clone(&store),
            Arc::new(following),
            SubscriptionOptions {
                save_checkpoints: false,
                ..SubscriptionOptions::default()
            },
        );
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServeError::Io {
                context: format!("cannot listen on {}", config.addr),
                source,
            })?;
        let webhooks = crate::webhooks::Webhooks::start(
            &config.data_dir,
            Arc::clone(&store),
            Arc::clone(&tokens),
            Arc::clone(&access),
            config.webhooks,
        )
        .await?;
        let (shut_down, shutting_down) = watch::channel(false);
        Ok(Server {
            listener,
            state: Arc::new(AppState {
                store,
                data_dir: config.data_dir.clone(),
                projection,
                projected,
                tokens,
                shutting_down,
                metrics: crate::metrics::Metrics::default(),
                access,
                webhooks,
                answers: crate::answers::Answers::default(),
            }),
            subscription,
            data_dir: config.data_dir,
            body_bytes_max: config.body_bytes_max,
            request_timeout: config.request_timeout,
            shut_down,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then shuts down gracefully (module docs).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server {
            listener,
            state,
            subscription,
            data_dir,
            body_bytes_max,
            request_timeout,
            shut_down,
        } = self;
        let router = crate::routes::router(Arc::clone(&state), body_bytes_max, request_timeout);
        let shutdown = async move {
            shutdown.await;
            shut_down.send_replace(true);
        };
        // Each answer is written whole: send it at once rather than wait for an ACK (Nagle).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
            }
        });
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        state.webhooks.stop().await;
        subscription.stop().await;
        save_projection(&state, &data_dir)?;
        served.map_err(|source| ServeError::Io {
            context: "serving HTTP".to_owned(),
            source,
        })
    }
}

/// The node's name: read from [`NODE_FILE_NAME`] in `data_dir`, or made (a new UUID) and
/// written there, durably, at its first start.
fn node_name(data_dir: &Path) -> std::io::Result<String> {
    use std::io::Write;
    let path = data_dir.join(NODE_FILE_NAME);
    let name = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let name = uuid::Uuid::new_v4().simple().to_string();
            let partial = data_dir.join(format!("{NODE_FILE_NAME}.partial"));
            let mut file = std::fs::File::create(&partial)?;
            file.write_all(name.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)?;
            std::fs::File::open(data_dir)?.sync_all()?;
            name
        }
        Err(error) => return Err(error),
    };
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !well_formed {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the node's name must be 1 to 64 letters, digits or `-`",
        ));
    }
    Ok(name)
}

/// Saves the projection's snapshot, so the next start catches up from here.
fn save_projection(state: &AppState, data_dir: &Path) -> Result<(), ServeError> {
    let projection = state
        .projection
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    live::save_snapshot(&projection, &live::snapshot_path(data_dir))?;
    Ok(())
}

/// Runs the server with `config` until SIGINT or SIGTERM, then shuts down gracefully.
/// `on_listening` is told the address once bound (the command line prints it).
pub async fn serve(
    config: Config,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let server = Server::bind(config).await?;
    on_listening(server.local_addr());
    server.run(shutdown_signal()).await
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
