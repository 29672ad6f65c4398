//! Webhook subscribers: an integrating system registers a URL and a position, and verkstall
//! POSTs it the log's events after that position, in order, at least once, in batches, signed.
//!
//! - `POST /v1/webhooks` `{"url", "after"}` registers one and answers with its `secret`, shown
//!   this once; `GET /v1/webhooks`, `GET /v1/webhooks/{id}` show each one's status (the position
//!   reached, the last delivery, the last error, attempts, the next retry); `DELETE` removes one.
//!   Roles: integrator (its own webhooks) and admin (all).
//! - Registrations are kept in [`WEBHOOKS_FILE_NAME`] in the data directory (replaced
//!   atomically, readable by the owner only: it holds the secrets); the position reached is the
//!   store's durable subscriber checkpoint (`webhook-<id>`), which advances only after the
//!   receiver answered 2xx. A restart resumes every webhook from its checkpoint.
//! - Each webhook is its own subscription of the log ([`delivery`]): a slow or failing receiver
//!   never holds up appends, other webhooks or the API. A graceful shutdown stops them all; a
//!   batch under way then is delivered again after the restart.
//!
//! # A delivery
//! `POST <url>` with `Content-Type: application/json` and the body
//! `{"webhook_id": "<id>", "after": N, "next_after": M, "events": [stored event, …]}`: the events
//! at positions N+1…M, each exactly as `GET /v1/events` gives it (canonical JSON with `position`,
//! `version`, `recorded_at` and `hash`; a protected person's number is `null` unless the
//! registering token is an admin's). At most [`delivery::DELIVERY_BATCH_EVENTS_MAX`] events.
//! Headers: `Verkstall-Webhook-Id`, `Verkstall-First-Position` (N+1), `Verkstall-Last-Position`
//! (M), `Verkstall-Attempt`, `Verkstall-Timestamp` (seconds since 1970, UTC) and
//! `Verkstall-Signature: sha256=<hex>`.
//!
//! # Verifying a delivery (the receiver)
//! 1. Read the body as raw bytes, before any JSON parsing.
//! 2. Compute HMAC-SHA256 with the webhook's secret (the whole string, `whsec_…`, as UTF-8) as
//!    the key over `<Verkstall-Timestamp>` `.` `<body>` — the header's digits, one full stop, the
//!    body's bytes — and compare its lowercase hex with the signature after `sha256=`, in
//!    constant time. Refuse a mismatch.
//! 3. Refuse a timestamp more than a few minutes from your clock (a replayed request).
//! 4. Answer 2xx only once the events are safely kept: the position advances then, and not
//!    before. Anything else (or no answer within the timeout) is retried with the same events.
//! 5. Delivery is at least once: skip events whose `position` you already have. Positions are
//!    gap-free, so `Verkstall-First-Position` = your last position + 1 for a new batch.

pub mod delivery;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::EventStore;
use store::subscription::{self, SubscriptionHandle, SubscriptionOptions};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::AccessLog;
use crate::auth::{Action, Caller, Role, Tokens};
use crate::problem::ApiError;
use crate::server::AppState;
use delivery::{Deliverer, DeliveryOptions, Progress};

/// The file of registered webhooks in the data directory.
pub const WEBHOOKS_FILE_NAME: &str = "webhooks.json";
/// Webhooks registered at once, at most (each is a task and a connection).
pub const WEBHOOKS_MAX: usize = 100;
/// Bytes of a webhook's URL, at most.
pub const WEBHOOK_URL_BYTES_MAX: usize = 2048;
/// What every webhook secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// One registration as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Registration {
    id: Uuid,
    url: String,
    /// The position it was registered to start after.
    after: u64,
    /// The name of the token that registered it; deliveries act for that token.
    created_by: String,
    created_at: DateTime<Utc>,
    secret: String,
}

impl Registration {
    fn subscriber_name(&self) -> String {
        subscriber_name(self.id)
    }
}

/// The name of a webhook's subscription, the key of its checkpoint.
fn subscriber_name(id: Uuid) -> String {
    format!("webhook-{}", id.simple())
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct WebhooksFile {
    webhooks: Vec<Registration>,
}

/// Why the webhooks could not be started.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a list of webhooks.
    #[error("{path} is not a list of webhooks: {detail}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the webhooks' HTTP client: {0}")]
    Client(String),
}

/// Installs rustls's ring provider as the process's TLS crypto provider (once; a provider
/// installed before is kept). reqwest builds every client's TLS with it.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A running webhook.
struct Running {
    registration: Registration,
    progress: Arc<Mutex<Progress>>,
    subscription: SubscriptionHandle,
    /// The checkpoint when its deliveries started.
    started_at: u64,
}

/// Every webhook of the server and its deliveries.
pub struct Webhooks {
    data_dir: PathBuf,
    store: Arc<dyn EventStore>,
    tokens: Arc<Tokens>,
    access: Arc<AccessLog>,
    client: reqwest::Client,
    options: DeliveryOptions,
    /// Held while the set or its file changes, so both always agree.
    running: tokio::sync::Mutex<BTreeMap<Uuid, Running>>,
}

impl Webhooks {
    /// Reads the registrations of `data_dir` and starts delivering to each from its checkpoint.
    pub async fn start(
        data_dir: &Path,
        store: Arc<dyn EventStore>,
        tokens: Arc<Tokens>,
        access: Arc<AccessLog>,
        options: DeliveryOptions,
    ) -> Result<Webhooks, WebhookError> {
        install_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("verkstall-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        // Only the server writes the file, and one server holds the data directory: a scratch
        // file left by a crash is abandoned.
        let scratch = crate::auth::scratch_path(data_dir, WEBHOOKS_FILE_NAME);
        if let Err(source) = std::fs::remove_file(&scratch)
            && source.kind() != std::io::ErrorKind::NotFound
        {
            return Err(WebhookError::Io {
                path: scratch,
                source,
            });
        }
        let webhooks = Webhooks {
            data_dir: data_dir.to_path_buf(),
            store,
            tokens,
            access,
            client,
            options,
            running: tokio::sync::Mutex::new(BTreeMap::new()),
        };
        let registrations = read_registrations(data_dir)?;
        let mut running = webhooks.running.lock().await;
        for registration in registrations {
            let started_at = webhooks
                .store
                .checkpoint(&registration.subscriber_name())
                .await
                .unwrap_or(registration.after);
            running.insert(registration.id, webhooks.spawn(registration, started_at));
        }
        drop(running);
        Ok(webhooks)
    }

    fn spawn(&self, registration: Registration, started_at: u64) -> Running {
        let progress = Arc::new(Mutex::new(Progress::default()));
        let url = reqwest::Url::parse(&registration.url)
            .expect("a registered URL was parsed when it was registered");
        let deliverer = Deliverer {
            name: registration.subscriber_name(),
            id: registration.id,
            url,
            secret: registration.secret.clone(),
            owner: registration.created_by.clone(),
            client: self.client.clone(),
            tokens: Arc::clone(&self.tokens),
            access: Arc::clone(&self.access),
            options: self.options,
            progress: Arc::clone(&progress),
        };
        let subscription = subscription::spawn(
            Arc::clone(&self.store),
            Arc::new(deliverer),
            SubscriptionOptions {
                batch_events_max: self.options.batch_events_max,
                ..SubscriptionOptions::default()
            },
        );
        Running {
            registration,
            progress,
            subscription,
            started_at,
        }
    }

    /// Stops every delivery (an attempt under way is dropped; its batch is delivered again
    /// after a restart) and waits for them.
    pub async fn stop(&self) {
        let mut running = self.running.lock().await;
        for (_, webhook) in std::mem::take(&mut *running) {
            webhook.subscription.stop().await;
        }
    }

    fn write(&self, running: &BTreeMap<Uuid, Running>) -> Result<(), ApiError> {
        let file = WebhooksFile {
            webhooks: running.values().map(|r| r.registration.clone()).collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("webhooks always serialise");
        text.push('\n');
        crate::auth::replace_file(&self.data_dir, WEBHOOKS_FILE_NAME, text.as_bytes()).map_err(
            |e| match e {
                crate::auth::ReplaceError::Busy(path) => ApiError::internal(&format!(
                    "{} exists while the server holds the webhooks",
                    path.display()
                )),
                crate::auth::ReplaceError::Io { path, source } => {
                    ApiError::internal(&format!("cannot write {}: {source}", path.display()))
                }
            },
        )
    }
}

/// The webhooks file of a data directory.
pub fn webhooks_path(data_dir: &Path) -> PathBuf {
    data_dir.join(WEBHOOKS_FILE_NAME)
}

fn read_registrations(data_dir: &Path) -> Result<Vec<Registration>, WebhookError> {
    let path = webhooks_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(WebhookError::Io { path, source }),
    };
    let file: WebhooksFile = serde_json::from_str(&text).map_err(|e| WebhookError::Damaged {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    for registration in &file.webhooks {
        if let Err(problem) = parse_url(&registration.url) {
            return Err(WebhookError::Damaged {
                path,
                detail: format!("webhook {}: {problem}", registration.id),
            });
        }
    }
    Ok(file.webhooks)
}

/// A webhook's registration and status.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookStatus {
    /// The webhook's id.
    #[schema(value_type = String, format = "uuid")]
    pub id: Uuid,
    /// Where the events are POSTed.
    pub url: String,
    /// The position it was registered to start after.
    pub after: u64,
    /// The name of the token that registered it (deliveries act for it).
    pub created_by: String,
    /// When it was registered.
    #[schema(value_type = String, format = "date-time")]
    pub created_at: DateTime<Utc>,
    /// The last position delivered and acknowledged with a 2xx (the durable checkpoint).
    pub position: u64,
    /// The log's head now: `head − position` events wait.
    pub head: u64,
    /// Requests sent (or tried) since the server started, successful or not.
    pub attempts: u64,
    /// Failed attempts since the last 2xx.
    pub failures: u32,
    /// When the last attempt started.
    #[schema(value_type = Option<String>, format = "date-time")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver last answered 2xx.
    #[schema(value_type = Option<String>, format = "date-time")]
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// The HTTP status of the receiver's last answer.
    pub last_status: Option<u16>,
    /// Why the last failed attempt failed (still shown after a later success; compare
    /// `last_error_at` with `last_delivery_at`).
    pub last_error: Option<String>,
    /// When the last failed attempt failed.
    #[schema(value_type = Option<String>, format = "date-time")]
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while a batch waits for its retry.
    #[schema(value_type = Option<String>, format = "date-time")]
    pub next_retry_at: Option<DateTime<Utc>>,
}

/// A new webhook: its status, and the secret that signs its deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The key of the `Verkstall-Signature` HMAC. Shown only now: keep it.
    pub secret: String,
    /// The new webhook.
    #[serde(flatten)]
    pub webhook: WebhookStatus,
}

/// The webhooks the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Each webhook, by id.
    pub webhooks: Vec<WebhookStatus>,
}

/// A registration's body, as documented (the handler reads it by hand, to name a wrong field).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(
    dead_code,
    reason = "the OpenAPI document's schema; parse_registration reads the body"
)]
pub struct NewWebhook {
    /// An absolute `https://` (or `http://`) URL without user or password.
    url: String,
    /// Deliver the events after this position (default 0: from the first). At most the log's
    /// head.
    after: Option<u64>,
}

fn status_of(webhook: &Running, head: u64) -> WebhookStatus {
    let progress = webhook
        .progress
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let subscription = webhook.subscription.status();
    let registration = &webhook.registration;
    WebhookStatus {
        id: registration.id,
        url: registration.url.clone(),
        after: registration.after,
        created_by: registration.created_by.clone(),
        created_at: registration.created_at,
        position: subscription.position.max(webhook.started_at),
        head,
        attempts: progress.attempts,
        failures: progress.failures,
        last_attempt_at: progress.last_attempt_at,
        last_delivery_at: progress.last_delivery_at,
        last_status: progress.last_status,
        // The subscription's own failures are the store's (reading the log, a checkpoint).
        last_error: progress.last_error.or(subscription.last_error),
        last_error_at: progress.last_error_at,
        next_retry_at: progress.next_retry_at,
    }
}

/// Whether `caller` may see or remove `registration`: an admin all, others their own.
fn owns(caller: &Caller, registration: &Registration) -> bool {
    caller.role == Role::Admin || caller.name == registration.created_by
}

fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    if text.len() > WEBHOOK_URL_BYTES_MAX {
        return Err(format!("is longer than {WEBHOOK_URL_BYTES_MAX} bytes"));
    }
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("is not an absolute URL ({e}); expected https://host/path"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "has scheme {:?}; expected https (or http)",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("names no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "holds a user or password; the signature authenticates deliveries, and the URL is \
             shown in every status"
                .to_owned(),
        );
    }
    if url.fragment().is_some() {
        return Err("has a #fragment, which is never sent".to_owned());
    }
    Ok(url)
}

/// The registration's fields, each checked, naming the first wrong one.
fn parse_registration(body: &[u8], head: u64) -> Result<(reqwest::Url, u64), ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body is not JSON ({e}); send {{\"url\": \"https://…\", \"after\": 0}}"
        ))
    })?;
    let Value::Object(fields) = value else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object: {\"url\": \"https://…\", \"after\": 0}".to_owned(),
        ));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "url" | "after"))
    {
        return Err(ApiError::field(
            None,
            unknown.as_str(),
            "is not a field of a webhook; expected url and after",
        ));
    }
    let url = match fields.get("url") {
        None | Some(Value::Null) => {
            return Err(ApiError::field(None, "url", "is required"));
        }
        Some(Value::String(text)) => {
            parse_url(text.trim()).map_err(|problem| ApiError::field(None, "url", problem))?
        }
        Some(_) => return Err(ApiError::field(None, "url", "must be a string")),
    };
    let after = match fields.get("after") {
        None | Some(Value::Null) => 0,
        Some(value) => value.as_u64().ok_or_else(|| {
            ApiError::field(
                None,
                "after",
                "must be a whole number ≥ 0: the position to deliver after (0 = from the first \
                 event)",
            )
        })?,
    };
    if after > head {
        return Err(ApiError::field(
            None,
            "after",
            format!("is beyond the log's head ({head}); no such position yet"),
        ));
    }
    Ok((url, after))
}

/// Registers a webhook: the log's events after `after` are POSTed to `url`, in order, signed
/// with the secret in the answer (shown only here). See the module docs for the delivery and
/// how a receiver verifies it.
///
/// Roles: integrator, admin.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    request_body(content = NewWebhook, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; `Location` names it. The `secret` is never shown again.", body = CreatedWebhook),
        (status = 400, description = "The body is not a JSON object.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or an unknown one.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not manage webhooks.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "As many webhooks as the server takes are registered.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong; `field` names it.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn register(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ManageWebhooks)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge("the body is larger than the server takes".to_owned())
        }
        _ => ApiError::BadRequest("the body could not be read".to_owned()),
    })?;
    let webhooks = &state.webhooks;
    let head = webhooks.store.head().await?.position;
    let (url, after) = parse_registration(&body, head)?;
    let mut running = webhooks.running.lock().await;
    if running.len() >= WEBHOOKS_MAX {
        return Err(ApiError::Conflict(format!(
            "{WEBHOOKS_MAX} webhooks are registered, as many as the server takes; delete one \
             first"
        )));
    }
    let registration = Registration {
        id: Uuid::new_v4(),
        url: url.to_string(),
        after,
        created_by: caller.name.clone(),
        created_at: Utc::now(),
        secret: crate::auth::random_secret(SECRET_PREFIX),
    };
    // The checkpoint first: a crash before the file is written leaves only an unused
    // checkpoint of an id never shown to anyone.
    webhooks
        .store
        .save_checkpoint(&registration.subscriber_name(), after)
        .await?;
    let id = registration.id;
    let secret = registration.secret.clone();
    let webhook = webhooks.spawn(registration, after);
    running.insert(id, webhook);
    if let Err(error) = webhooks.write(&running) {
        if let Some(webhook) = running.remove(&id) {
            webhook.subscription.stop().await;
        }
        return Err(error);
    }
    tracing::info!(webhook = %id, created_by = %caller.name, after, "webhook registered");
    let status = status_of(&running[&id], head);
    drop(running);
    let mut response = (
        StatusCode::CREATED,
        Json(CreatedWebhook {
            secret,
            webhook: status,
        }),
    )
        .into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/v1/webhooks/{id}")).expect("a UUID is a valid header"),
    );
    Ok(response)
}

/// The webhooks with their status: every one for an admin, an integrator's own for it.
///
/// Roles: integrator, admin.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every webhook the caller may see, by id.", body = WebhookList),
        crate::problem::ReadProblems,
    ),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ManageWebhooks)?;
    let head = *state.webhooks.store.watch_head().borrow();
    let running = state.webhooks.running.lock().await;
    let webhooks = running
        .values()
        .filter(|w| owns(&caller, &w.registration))
        .map(|w| status_of(w, head))
        .collect();
    Ok(Json(WebhookList { webhooks }).into_response())
}

fn webhook_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::NotFound(format!(
            "{:?} is not a webhook id (a UUID)",
            domain::redact::redact_identity_like(text)
        ))
    })
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!(
        "no webhook {id} of yours; GET /v1/webhooks lists them"
    ))
}

/// One webhook with its status.
///
/// Roles: integrator (its own), admin.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    params(("id" = String, Path, description = "The webhook's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook and its status.", body = WebhookStatus),
        crate::problem::ReadProblems,
        (status = 404, description = "No such webhook of the caller's.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ManageWebhooks)?;
    let id = webhook_id(&id)?;
    let head = *state.webhooks.store.watch_head().borrow();
    let running = state.webhooks.running.lock().await;
    let webhook = running
        .get(&id)
        .filter(|w| owns(&caller, &w.registration))
        .ok_or_else(|| not_found(id))?;
    Ok(Json(status_of(webhook, head)).into_response())
}

/// Removes a webhook: no delivery is started after the answer (one under way is dropped).
///
/// Roles: integrator (its own), admin.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    params(("id" = String, Path, description = "The webhook's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed."),
        crate::problem::ReadProblems,
        (status = 404, description = "No such webhook of the caller's.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ManageWebhooks)?;
    let id = webhook_id(&id)?;
    let webhooks = &state.webhooks;
    let mut running = webhooks.running.lock().await;
    if !running
        .get(&id)
        .is_some_and(|w| owns(&caller, &w.registration))
    {
        return Err(not_found(id));
    }
    let removed = running.remove(&id).expect("present: checked above");
    if let Err(error) = webhooks.write(&running) {
        running.insert(id, removed);
        return Err(error);
    }
    removed.subscription.stop().await;
    tracing::info!(webhook = %id, by = %caller.name, "webhook removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: ApiError) -> String {
        error.to_problem().field.unwrap_or_default()
    }

    #[test]
    fn a_registration_names_its_wrong_field() {
        let cases: &[(&str, &str)] = &[
            (r#"{"after":0}"#, "url"),
            (r#"{"url":"not a url"}"#, "url"),
            (r#"{"url":"ftp://example.org/x"}"#, "url"),
            (r#"{"url":"https://user:pw@example.org/x"}"#, "url"),
            (r#"{"url":"https://example.org/x#part"}"#, "url"),
            (r#"{"url":7}"#, "url"),
            (r#"{"url":"https://example.org/x","after":-1}"#, "after"),
            (r#"{"url":"https://example.org/x","after":1.5}"#, "after"),
            (r#"{"url":"https://example.org/x","after":"3"}"#, "after"),
            (r#"{"url":"https://example.org/x","after":11}"#, "after"),
            (r#"{"url":"https://example.org/x","from":1}"#, "from"),
        ];
        for (body, field) in cases {
            let error = parse_registration(body.as_bytes(), 10).expect_err(body);
            assert_eq!(field_of(error), *field, "{body}");
        }
        let (url, after) =
            parse_registration(br#"{"url":"https://example.org/hook?k=1","after":10}"#, 10)
                .expect("valid");
        assert_eq!((url.as_str(), after), ("https://example.org/hook?k=1", 10));
        let (_, after) =
            parse_registration(br#"{"url":"http://127.0.0.1:9/x"}"#, 0).expect("valid");
        assert_eq!(after, 0);
        assert!(matches!(
            parse_registration(b"[1]", 0),
            Err(ApiError::BadRequest(_))
        ));
    }
}
