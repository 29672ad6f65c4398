//! `watch_head` across nodes: LISTEN/NOTIFY is the wake-up, the horizon is the truth.
//!
//! Every write transaction sends `NOTIFY verkstall_head` (delivered at its commit, to every node
//! listening). One task per store listens on a connection of its own; another, the follower,
//! reads the horizon ([`crate::read::horizon`]) whenever woken and publishes the *settled*
//! position on the watch channel, so a follower woken by it always finds something to read.
//!
//! A notification can be late or lost (the listening connection was down) and the horizon can
//! lag the head while some other transaction runs: the follower therefore also looks again
//! every [`FOLLOW_POLL_INTERVAL`], and in short growing steps while the horizon lags. What it
//! publishes never goes backwards.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_postgres::{AsyncMessage, Connection, NoTls};

use crate::HEAD_CHANNEL;
use crate::conn::{RECONNECT_WAIT, Reader};

use crate::read::{SETTLE_STEP_MAX, horizon};

/// How often the follower looks at the horizon without being woken.
pub const FOLLOW_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Keeps a connection listening on the head's channel, waking the follower at each
/// notification, and once more whenever it starts listening (what was committed meanwhile);
/// connects again after [`RECONNECT_WAIT`] whenever the connection is lost.
pub(crate) async fn listen(config: String, wake: Arc<Notify>) {
    loop {
        match tokio_postgres::connect(&config, NoTls).await {
            Ok((client, connection)) => {
                let driver = tokio::spawn(drive(connection, Arc::clone(&wake)));
                match client
                    .batch_execute(&format!("LISTEN {HEAD_CHANNEL}"))
                    .await
                {
                    Ok(()) => {
                        wake.notify_one();
                        let _ = driver.await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "LISTEN failed; following by polling");
                        driver.abort();
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot connect to listen; following by polling"),
        }
        tokio::time::sleep(RECONNECT_WAIT).await;
    }
}

/// Drives the listening connection, waking the follower at each notification. Ends when the
/// connection does.
async fn drive<S, T>(mut connection: Connection<S, T>, wake: Arc<Notify>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(_))) => wake.notify_one(),
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::warn!(%error, "the LISTEN connection failed; connecting again");
                return;
            }
            None => return,
        }
    }
}

/// Publishes the settled head on `head` whenever woken, and on a timer.
pub(crate) async fn follow(reader: Arc<Reader>, head: Arc<watch::Sender<u64>>, wake: Arc<Notify>) {
    let mut lag_step = Duration::from_millis(1);
    loop {
        let now = match reader.client().await {
            Ok(client) => horizon(&client, &reader.floor).await,
            Err(error) => Err(error),
        };
        let wait = match now {
            Ok(now) => {
                head.send_if_modified(|published| {
                    let moved = now.settled > *published;
                    if moved {
                        *published = now.settled;
                    }
                    moved
                });
                if now.settled < now.committed {
                    lag_step = (lag_step * 2).min(SETTLE_STEP_MAX);
                    lag_step
                } else {
                    lag_step = Duration::from_millis(1);
                    FOLLOW_POLL_INTERVAL
                }
            }
            Err(error) => {
                tracing::warn!(%error, "reading the head failed; trying again");
                FOLLOW_POLL_INTERVAL
            }
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
