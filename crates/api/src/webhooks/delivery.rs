//! One webhook's deliveries: a [`Subscriber`] of the log that POSTs each batch of stored events
//! to the receiver's URL, signed, and returns only once the receiver answered 2xx.
//!
//! The store's subscription (`store::subscription`) reads the batches in log order from the
//! webhook's durable checkpoint and saves the checkpoint after [`Subscriber::handle`] returns:
//! so the checkpoint advances only after a 2xx, and a restart delivers again what was not
//! acknowledged (at least once). A failed attempt (a non-2xx answer, a connection error, a
//! timeout) is retried here, with the same batch, after an exponential back-off with jitter,
//! capped; each webhook runs on its own task, so a failing receiver never holds up appends,
//! other webhooks or the API. Stopping the subscription drops an attempt under way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::RecordedEvent;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use store::Subscriber;
use uuid::Uuid;

use crate::access::AccessLog;
use crate::auth::{Action, Tokens};

/// The header naming the webhook.
pub const HEADER_WEBHOOK_ID: &str = "verkstall-webhook-id";
/// The header with the delivery's moment, in whole seconds since 1970 (UTC); signed.
pub const HEADER_TIMESTAMP: &str = "verkstall-timestamp";
/// The header with the signature: `sha256=` and the lowercase hex HMAC-SHA256, keyed with the
/// webhook's secret, of `<timestamp>.<body>`.
pub const HEADER_SIGNATURE: &str = "verkstall-signature";
/// The header with the position of the first event in the body.
pub const HEADER_FIRST_POSITION: &str = "verkstall-first-position";
/// The header with the position of the last event in the body.
pub const HEADER_LAST_POSITION: &str = "verkstall-last-position";
/// The header counting the attempts at this batch (1 for the first).
pub const HEADER_ATTEMPT: &str = "verkstall-attempt";

/// How deliveries are made and retried.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryOptions {
    /// Events in one request, at most.
    pub batch_events_max: usize,
    /// How long one request may take, connecting included, before it counts as failed.
    pub request_timeout: Duration,
    /// The back-off after the first failure (the *n*th waits this × 2^(n−1), capped).
    pub retry_initial: Duration,
    /// The longest back-off.
    pub retry_max: Duration,
}

/// Events in one delivery when not configured otherwise.
pub const DELIVERY_BATCH_EVENTS_MAX: usize = 100;
/// How long one delivery request may take when not configured otherwise.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The first back-off when not configured otherwise.
pub const RETRY_INITIAL: Duration = Duration::from_secs(1);
/// The longest back-off when not configured otherwise.
pub const RETRY_MAX: Duration = Duration::from_secs(10 * 60);

impl Default for DeliveryOptions {
    fn default() -> DeliveryOptions {
        DeliveryOptions {
            batch_events_max: DELIVERY_BATCH_EVENTS_MAX,
            request_timeout: DELIVERY_TIMEOUT,
            retry_initial: RETRY_INITIAL,
            retry_max: RETRY_MAX,
        }
    }
}

/// What a webhook's deliveries have done, for its status.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    /// Requests sent (or tried), successful or not.
    pub attempts: u64,
    /// Failed attempts since the last 2xx.
    pub failures: u32,
    /// The last attempt's start.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last 2xx.
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// The last answer's HTTP status, if the receiver answered.
    pub last_status: Option<u16>,
    /// Why the last failed attempt failed (kept after a success, beside its time).
    pub last_error: Option<String>,
    /// When the last failed attempt failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while a batch waits for its retry.
    pub next_retry_at: Option<DateTime<Utc>>,
}

/// A webhook's deliverer, run by the store's subscription.
pub(crate) struct Deliverer {
    /// The subscription's name (the checkpoint's key).
    pub name: String,
    pub id: Uuid,
    pub url: reqwest::Url,
    pub secret: String,
    /// The name of the token that registered the webhook: deliveries act for it.
    pub owner: String,
    pub client: reqwest::Client,
    pub tokens: Arc<Tokens>,
    pub access: Arc<AccessLog>,
    pub options: DeliveryOptions,
    pub progress: Arc<Mutex<Progress>>,
}

#[async_trait]
impl Subscriber for Deliverer {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(
        &self,
        events: &[RecordedEvent],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            let started = Utc::now();
            self.update(|p| {
                p.attempts += 1;
                p.last_attempt_at = Some(started);
                p.next_retry_at = None;
            });
            match self.attempt(events, attempt).await {
                Ok(status) => {
                    self.update(|p| {
                        p.failures = 0;
                        p.last_status = Some(status);
                        p.last_delivery_at = Some(Utc::now());
                    });
                    return Ok(());
                }
                Err(failure) => {
                    let wait = backoff(self.options, attempt, jitter_fraction());
                    let now = Utc::now();
                    tracing::warn!(
                        webhook = %self.id,
                        attempt,
                        error = %failure.message,
                        wait_ms = wait.as_millis() as u64,
                        "webhook delivery failed; retrying"
                    );
                    self.update(|p| {
                        p.failures = p.failures.saturating_add(1);
                        if failure.status.is_some() {
                            p.last_status = failure.status;
                        }
                        p.last_error = Some(failure.message);
                        p.last_error_at = Some(now);
                        p.next_retry_at = chrono::Duration::from_std(wait)
                            .ok()
                            .and_then(|w| now.checked_add_signed(w));
                    });
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Why an attempt failed.
struct Failure {
    /// The receiver's answer, if it answered.
    status: Option<u16>,
    /// For people: what happened (never the events, never an identity number).
    message: String,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            status: None,
            message: message.into(),
        }
    }
}

impl Deliverer {
    fn update(&self, change: impl FnOnce(&mut Progress)) {
        change(
            &mut self
                .progress
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }

    /// One request with the whole batch; the receiver's status on a 2xx.
    async fn attempt(&self, events: &[RecordedEvent], attempt: u32) -> Result<u16, Failure> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(204);
        };
        // The webhook reads the log for the token that registered it, as long as that token
        // exists and may: a revoked token stops its webhooks.
        let caller = self
            .tokens
            .holder(&self.owner)
            .filter(|c| c.role.may(Action::ReadLog) && c.role.may(Action::ManageWebhooks))
            .ok_or_else(|| {
                Failure::new(format!(
                    "the token {:?} that registered this webhook is revoked or may no longer \
                     read the log; delete the webhook and register it again with a valid token",
                    domain::redact::redact_identity_like(&self.owner)
                ))
            })?;
        let body = self.body(events, &caller)?;
        self.access
            .record(
                &caller,
                Action::ReadLog,
                format!(
                    "log {}–{}, webhook {}",
                    first.position, last.position, self.id
                ),
            )
            .await
            .map_err(|_| Failure::new("the access log cannot be written; nothing was sent"))?;
        let timestamp = Utc::now().timestamp();
        let response = self
            .client
            .post(self.url.clone())
            .timeout(self.options.request_timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(HEADER_WEBHOOK_ID, self.id.to_string())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, signature(&self.secret, timestamp, &body))
            .header(HEADER_FIRST_POSITION, first.position.to_string())
            .header(HEADER_LAST_POSITION, last.position.to_string())
            .header(HEADER_ATTEMPT, attempt.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| Failure::new(describe(&e, self.options.request_timeout)))?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(Failure {
                status: Some(status.as_u16()),
                message: format!("the receiver answered {status}, not 2xx"),
            })
        }
    }

    /// `{"webhook_id", "after", "next_after", "events": [stored event, …]}`: the events exactly
    /// as stored, but for a protected person's number when the token may not see it.
    fn body(
        &self,
        events: &[RecordedEvent],
        caller: &crate::auth::Caller,
    ) -> Result<Vec<u8>, Failure> {
        let after = events.first().map_or(0, |e| e.position.saturating_sub(1));
        let next_after = events.last().map_or(after, |e| e.position);
        let mut body = format!(
            r#"{{"webhook_id":"{}","after":{after},"next_after":{next_after},"events":["#,
            self.id
        )
        .into_bytes();
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            let line = event.to_json();
            let seen = crate::masking::as_seen_by(caller, line.as_bytes()).map_err(|_| {
                Failure::new(format!(
                    "the event at position {} names a protected person in a shape that cannot \
                     be masked; nothing was sent",
                    event.position
                ))
            })?;
            body.extend_from_slice(&seen);
        }
        body.extend_from_slice(b"]}");
        Ok(body)
    }
}

/// The signature header's value: `sha256=` and the lowercase hex HMAC-SHA256, keyed with
/// `secret` (its UTF-8 bytes), of the timestamp's decimal digits, a `.`, and the body's bytes.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", store::encode_hex(&mac.finalize().into_bytes()))
}

/// A failed request, for people: what kind of failure and its innermost cause, never the URL
/// (it may hold a receiver's own access key).
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let kind = if error.is_connect() {
        "cannot connect to the receiver"
    } else if error.is_request() {
        "the request could not be sent"
    } else {
        "the delivery failed"
    };
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let mut cause = cause.to_string();
    if let Some(url) = error.url() {
        cause = cause.replace(url.as_str(), "<the webhook's URL>");
    }
    domain::redact::redact_identity_like(&format!("{kind}: {cause}")).into_owned()
}

/// The wait before retry `attempt + 1`: `retry_initial × 2^(attempt−1)`, capped at `retry_max`,
/// then drawn between its half and all of it (`fraction` in [0, 1)), so receivers that come back
/// together are not hit by every sender at once.
fn backoff(options: DeliveryOptions, attempt: u32, fraction: f64) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    let full = options
        .retry_initial
        .saturating_mul(factor)
        .min(options.retry_max);
    full / 2 + (full / 2).mul_f64(fraction.clamp(0.0, 1.0))
}

/// A fraction in [0, 1) from the operating system's randomness (a version 4 UUID's bits).
fn jitter_fraction() -> f64 {
    let bits = (Uuid::new_v4().as_u128() >> 75) as u64; // 53 random bits
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256_over_timestamp_dot_body() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        let signed = signature("Jefe", 0, b"what do ya want for nothing?");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("any key");
        mac.update(b"0.what do ya want for nothing?");
        let expected = store::encode_hex(&mac.finalize().into_bytes());
        assert_eq!(signed, format!("sha256={expected}"));
        let mut plain = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("any key");
        plain.update(b"what do ya want for nothing?");
        assert_eq!(
            store::encode_hex(&plain.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(signature("Jefe", 1, b"x"), signature("Jefe", 2, b"x"));
        assert_ne!(signature("Jefe", 1, b"x"), signature("Jeff", 1, b"x"));
    }

    #[test]
    fn the_back_off_doubles_is_capped_and_jittered_within_half_to_all() {
        let options = DeliveryOptions {
            batch_events_max: 10,
            request_timeout: Duration::from_secs(1),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
        };
        let middle: Vec<u128> = (1..=6)
            .map(|a| backoff(options, a, 0.5).as_millis())
            .collect();
        assert_eq!(middle, [75, 150, 300, 600, 750, 750]);
        let top: Vec<u128> = (1..=6)
            .map(|a| backoff(options, a, 0.999_999_999).as_millis())
            .collect();
        assert_eq!(top, [100, 200, 400, 800, 1000, 1000]);
        let half: Vec<u128> = (1..=6)
            .map(|a| backoff(options, a, 0.0).as_millis())
            .collect();
        assert_eq!(half, [50, 100, 200, 400, 500, 500]);
        assert_eq!(backoff(options, u32::MAX, 7.0), Duration::from_secs(1));
        for _ in 0..100 {
            let f = jitter_fraction();
            assert!((0.0..1.0).contains(&f), "{f}");
        }
    }
}
