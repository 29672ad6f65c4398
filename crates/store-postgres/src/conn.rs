//! Connections, and connecting again when one is lost (a restarted server, a failover, a
//! backend ended by `pg_terminate_backend`, a network cut).
//!
//! - The writer task checks its connection before each group and, when a group fails because
//!   the connection was lost, connects again and runs the group once more. That is safe: the
//!   group keeps its event ids, so requests whose `COMMIT` had landed before the loss are
//!   answered as duplicates with their original positions, never written twice.
//! - Readers take the reading connection through [`Reader::client`], which connects again
//!   when it finds it closed; a read that fails because the connection was lost runs once
//!   more on a new one ([`Reader::replace`]): reads change nothing.
//! - The listening connection is kept by its own task ([`crate::follow::listen`]), which
//!   connects again after [`RECONNECT_WAIT`] and wakes the follower, which reads the horizon
//!   anyway every [`crate::FOLLOW_POLL_INTERVAL`] in between.

use std::sync::Arc;
use std::time::Duration;

use store::StoreError;
use tokio::task::AbortHandle;
use tokio_postgres::{Client, NoTls};

use crate::error::db;

/// How long the listening task waits before it connects again after losing its connection.
pub const RECONNECT_WAIT: Duration = Duration::from_millis(500);

/// A connection to `config`, driven by a task of its own: abort it to close the connection at
/// once; it also ends by itself when the client is dropped.
pub(crate) async fn connect_client(config: &str) -> Result<(Client, AbortHandle), StoreError> {
    let (client, connection) = tokio_postgres::connect(config, NoTls).await.map_err(db)?;
    let task = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "a PostgreSQL connection ended");
        }
    })
    .abort_handle();
    Ok((client, task))
}

/// Whether `client`'s connection is gone: closed already, or failing a trivial query.
pub(crate) async fn lost(client: &Client) -> bool {
    client.is_closed() || client.simple_query("SELECT 1").await.is_err()
}

/// The reading connection, connected again when it is found closed.
pub(crate) struct Reader {
    config: String,
    client: tokio::sync::Mutex<Arc<Client>>,
    /// The highest position seen settled: the horizon never goes back below it, so its query
    /// looks only above it (see `read::horizon`).
    pub(crate) floor: Arc<std::sync::atomic::AtomicU64>,
}

impl Reader {
    pub(crate) fn new(config: &str, client: Client) -> Reader {
        Reader {
            config: config.to_owned(),
            client: tokio::sync::Mutex::new(Arc::new(client)),
            floor: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// The connection, connecting again first if it was lost.
    pub(crate) async fn client(&self) -> Result<Arc<Client>, StoreError> {
        let mut current = self.client.lock().await;
        if current.is_closed() {
            let (client, _ends_with_the_client) = connect_client(&self.config).await?;
            tracing::warn!("the reading connection was lost; connected again");
            *current = Arc::new(client);
        }
        Ok(Arc::clone(&current))
    }

    /// A new connection in place of `lost` (unless another caller has replaced it already).
    pub(crate) async fn replace(&self, lost: &Arc<Client>) -> Result<Arc<Client>, StoreError> {
        let mut current = self.client.lock().await;
        if Arc::ptr_eq(&current, lost) {
            let (client, _ends_with_the_client) = connect_client(&self.config).await?;
            tracing::warn!("the reading connection was lost; connected again");
            *current = Arc::new(client);
        }
        Ok(Arc::clone(&current))
    }
}
