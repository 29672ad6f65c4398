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
use tokio_postgres::{AsyncMessage, Client, Connection};

use crate::read::{SETTLE_STEP_MAX, horizon};

/// How often the follower looks at the horizon without being woken.
pub const FOLLOW_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Drives the listening connection, waking the follower at each notification. Ends when the
/// connection does.
pub(crate) async fn listen<S, T>(mut connection: Connection<S, T>, wake: Arc<Notify>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(_))) => wake.notify_one(),
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::warn!(%error, "the LISTEN connection failed; following by polling");
                return;
            }
            None => return,
        }
    }
}

/// Publishes the settled head on `head` whenever woken, and on a timer.
pub(crate) async fn follow(reader: Arc<Client>, head: Arc<watch::Sender<u64>>, wake: Arc<Notify>) {
    let mut lag_step = Duration::from_millis(1);
    loop {
        let wait = match horizon(&reader).await {
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
