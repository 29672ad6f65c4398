//! Subscribers: code that follows the log in order, with a durable checkpoint per subscriber
//! name stored beside the log.
//!
//! A subscription catches up from its checkpoint, then follows live (woken by the store's head
//! watch). Delivery is at least once: the checkpoint is saved after the subscriber has handled a
//! batch, so a crash in between delivers that batch again. A failing subscriber is retried with
//! exponential back-off on its own task: it never blocks appends or other subscribers.
//!
//! A subscriber that keeps its progress durably itself (the server's projection, whose snapshot
//! says how far it has folded) has the subscription leave its checkpoint where it was when the
//! subscription started ([`SubscriptionOptions::save_checkpoints`]): a durable write after every
//! batch would buy it nothing.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::RecordedEvent;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::EventStore;

/// Something that follows the log.
#[async_trait]
pub trait Subscriber: Send + Sync + 'static {
    /// The subscriber's name: the key of its checkpoint. Stable across restarts.
    fn name(&self) -> &str;

    /// Handles a batch of events, in log order. An error means "not handled": the same batch
    /// is offered again after a back-off.
    async fn handle(
        &self,
        events: &[RecordedEvent],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// How a subscription reads and retries.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionOptions {
    /// Events offered to the subscriber at once, at most.
    pub batch_events_max: usize,
    /// The first back-off after a failure.
    pub backoff_initial: Duration,
    /// The longest back-off.
    pub backoff_max: Duration,
    /// Whether the checkpoint is saved after each batch handled (at least once delivery). When
    /// not, the subscription starts from the checkpoint saved before it and never moves it: for
    /// a subscriber that keeps its own durable progress and saves the checkpoint itself before
    /// the subscription starts.
    pub save_checkpoints: bool,
}

impl Default for SubscriptionOptions {
    fn default() -> SubscriptionOptions {
        SubscriptionOptions {
            batch_events_max: 1000,
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_secs(30),
            save_checkpoints: true,
        }
    }
}

/// Where a subscription is, for people and for monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionStatus {
    /// The subscriber's name.
    pub name: String,
    /// The last position handled.
    pub position: u64,
    /// Failures in a row (0 when the last attempt succeeded).
    pub failures: u32,
    /// The last error, if the last attempt failed.
    pub last_error: Option<String>,
}

/// A running subscription.
pub struct SubscriptionHandle {
    status: watch::Receiver<SubscriptionStatus>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SubscriptionHandle {
    /// The subscription's current status.
    pub fn status(&self) -> SubscriptionStatus {
        self.status.borrow().clone()
    }

    /// Waits until the subscriber has handled `position` (or the subscription ended).
    pub async fn wait_for(&mut self, position: u64) -> SubscriptionStatus {
        let _ = self.status.wait_for(|s| s.position >= position).await;
        self.status()
    }

    /// Stops the subscription and waits for its task to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts following the log with `subscriber` (on the current tokio runtime).
pub fn spawn(
    store: Arc<dyn EventStore>,
    subscriber: Arc<dyn Subscriber>,
    options: SubscriptionOptions,
) -> SubscriptionHandle {
    let initial = SubscriptionStatus {
        name: subscriber.name().to_owned(),
        position: 0,
        failures: 0,
        last_error: None,
    };
    let (status_tx, status) = watch::channel(initial);
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(follow(store, subscriber, options, status_tx, stop_rx));
    SubscriptionHandle { status, stop, task }
}

async fn follow(
    store: Arc<dyn EventStore>,
    subscriber: Arc<dyn Subscriber>,
    options: SubscriptionOptions,
    status: watch::Sender<SubscriptionStatus>,
    mut stop: watch::Receiver<bool>,
) {
    let name = subscriber.name().to_owned();
    let mut head = store.watch_head();
    let mut failures: u32 = 0;
    let mut position = loop {
        match store.checkpoint(&name).await {
            Ok(position) => break position,
            Err(error) => {
                failures += 1;
                record_failure(&status, failures, error.to_string());
                if sleep_or_stop(backoff(options, failures), &mut stop).await {
                    return;
                }
            }
        }
    };
    status.send_modify(|s| s.position = position);
    let mut unsaved = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let events = match store
            .read_all(position, options.batch_events_max, None)
            .await
        {
            Ok(events) => events,
            Err(error) => {
                failures += 1;
                record_failure(&status, failures, error.to_string());
                if sleep_or_stop(backoff(options, failures), &mut stop).await {
                    return;
                }
                continue;
            }
        };
        if events.is_empty() {
            if unsaved {
                unsaved = store.save_checkpoint(&name, position).await.is_err();
            }
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                _ = stop.changed() => return,
            }
            continue;
        }
        // A subscriber that never answers must not keep the subscription (and the store it
        // holds) alive once asked to stop.
        let handled = tokio::select! {
            handled = subscriber.handle(&events) => handled,
            _ = stop.changed() => return,
        };
        match handled {
            Ok(()) => {
                position = events.last().map_or(position, |e| e.position);
                // Delivered; if the checkpoint cannot be saved now it is saved later, and a
                // restart before then delivers these events again (at least once).
                unsaved = options.save_checkpoints
                    && match store.save_checkpoint(&name, position).await {
                        Ok(()) => false,
                        Err(error) => {
                            tracing::warn!(subscriber = %name, %error, "checkpoint not saved yet");
                            true
                        }
                    };
                failures = 0;
                status.send_modify(|s| {
                    s.position = position;
                    s.failures = 0;
                    s.last_error = None;
                });
            }
            Err(error) => {
                failures += 1;
                tracing::warn!(subscriber = %name, failures, %error, "subscriber failed; retrying");
                record_failure(&status, failures, error.to_string());
                if sleep_or_stop(backoff(options, failures), &mut stop).await {
                    return;
                }
            }
        }
    }
}

fn record_failure(status: &watch::Sender<SubscriptionStatus>, failures: u32, error: String) {
    status.send_modify(|s| {
        s.failures = failures;
        s.last_error = Some(error);
    });
}

/// The back-off after `failures` failures in a row: doubling from the initial one, capped.
fn backoff(options: SubscriptionOptions, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    options
        .backoff_initial
        .saturating_mul(factor)
        .min(options.backoff_max)
}

/// Sleeps, unless told to stop first; true when stopped.
async fn sleep_or_stop(duration: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let options = SubscriptionOptions {
            batch_events_max: 10,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            save_checkpoints: true,
        };
        let waits: Vec<u128> = (1..=6).map(|f| backoff(options, f).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(options, u32::MAX), Duration::from_secs(1));
    }
}
