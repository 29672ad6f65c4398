//! The global log over HTTP: pages of stored events in position order, byte for byte as stored
//! (what `verkstall events` prints, one page at a time), and the live stream of server-sent
//! events, which a follower resumes from `Last-Event-ID` with no gap and no duplicate.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use store::EventStore;
use tokio::sync::watch;
use utoipa::IntoParams;

use crate::auth::Action;
use crate::problem::ApiError;
use crate::reports::query_string;
use crate::routes::json;
use crate::server::AppState;

/// Events in a page when the request names no `limit`.
pub const PAGE_EVENTS_DEFAULT: usize = 1_000;
/// Events in a page, at most.
pub const PAGE_EVENTS_MAX: usize = 10_000;

/// Which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Events after this position (default 0: from the first).
    after: Option<String>,
    /// Events in the page, 1–10000 (default 1000).
    limit: Option<String>,
}

#[derive(Serialize)]
struct Page<'a> {
    /// The position the page starts after.
    after: u64,
    /// The committed head when the page was read.
    head: u64,
    /// The `after` of the next page (the last position in this one, or `after` when empty).
    next_after: u64,
    events: Vec<&'a RawValue>,
}

fn number(name: &str, text: Option<&str>) -> Result<Option<u64>, ApiError> {
    text.map(|t| {
        t.parse::<u64>().map_err(|_| {
            ApiError::BadRequest(format!("parameter `{name}` must be a whole number ≥ 0"))
        })
    })
    .transpose()
}

/// A page of the global log, in position order, each event exactly as stored (canonical JSON
/// with position, version, recorded_at and hash). Follow with `after = next_after`.
///
/// Roles: auditor, integrator, admin.
#[utoipa::path(
    get,
    path = "/v1/events",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{after, head, next_after, events: [stored event, …]}`.", body = serde_json::Value),
        crate::problem::ReadProblems,
    ),
)]
pub async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ReadLog)?;
    let params = query_string(params)?;
    let after = number("after", params.after.as_deref())?.unwrap_or(0);
    let limit = match number("limit", params.limit.as_deref())? {
        None => PAGE_EVENTS_DEFAULT,
        Some(n @ 1..) if n <= PAGE_EVENTS_MAX as u64 => n as usize,
        Some(_) => {
            return Err(ApiError::BadRequest(format!(
                "parameter `limit` must be within 1–{PAGE_EVENTS_MAX}"
            )));
        }
    };
    let head = state.store.head().await?.position;
    let lines = state.store.read_stored_lines(after, limit).await?;
    let lines: Vec<&(u64, Vec<u8>)> = lines.iter().take_while(|(p, _)| *p <= head).collect();
    let next_after = lines.last().map_or(after, |(p, _)| *p);
    let seen = lines
        .iter()
        .map(|(_, line)| crate::masking::as_seen_by(&caller, line))
        .collect::<Result<Vec<_>, _>>()?;
    let events = seen
        .iter()
        .map(|line| serde_json::from_slice::<&RawValue>(line))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    if let (Some((first, _)), Some((last, _))) = (lines.first(), lines.last()) {
        state
            .access
            .record(&caller, Action::ReadLog, format!("log {first}–{last}"))
            .await?;
    }
    Ok(json(&Page {
        after,
        head,
        next_after,
        events,
    }))
}

/// Where a stream starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Events after this position (default 0); `Last-Event-ID`, when sent, takes its place.
    after: Option<String>,
}

/// Where a follower's stream is.
struct Follow {
    caller: crate::auth::Caller,
    store: Arc<dyn EventStore>,
    after: u64,
    pending: VecDeque<(u64, Vec<u8>)>,
    head: watch::Receiver<u64>,
    shutting_down: watch::Receiver<bool>,
}

impl Follow {
    /// The next stored event, waiting for one if the follower is at the head; `None` when the
    /// server shuts down or the store fails (the follower reconnects with `Last-Event-ID`).
    async fn next(mut self) -> Option<(Result<Event, std::convert::Infallible>, Follow)> {
        loop {
            if let Some((position, line)) = self.pending.pop_front() {
                self.after = position;
                let Ok(line) = crate::masking::as_seen_by(&self.caller, &line) else {
                    // Logged by `as_seen_by`; the follower sees the stream end here.
                    return None;
                };
                let data = String::from_utf8_lossy(&line).into_owned();
                let event = Event::default().id(position.to_string()).data(data);
                return Some((Ok(event), self));
            }
            // Marked seen as it is read: a commit after this wakes the wait below.
            let head = *self.head.borrow_and_update();
            if head > self.after {
                match self
                    .store
                    .read_stored_lines(self.after, PAGE_EVENTS_MAX)
                    .await
                {
                    Ok(page) => self.pending.extend(page),
                    Err(error) => {
                        tracing::error!(%error, "the event stream cannot read the log");
                        return None;
                    }
                }
                continue;
            }
            tokio::select! {
                changed = self.head.changed() => if changed.is_err() { return None },
                _ = self.shutting_down.wait_for(|stopping| *stopping) => return None,
            }
        }
    }
}

/// The log, live, as server-sent events: each event's `id` is its position and its `data` the
/// stored line. After the events stored so far it waits for new ones. Resume after a dropped
/// connection by sending the last `id` seen as `Last-Event-ID`: the stream goes on from the next
/// position, with no gap and no duplicate.
///
/// Roles: auditor, integrator, admin.
#[utoipa::path(
    get,
    path = "/v1/events/stream",
    params(
        StreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "The last position received; the stream starts after it."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`text/event-stream`: `id: <position>`, `data: <stored event>`.", body = String, content_type = "text/event-stream"),
        crate::problem::ReadProblems,
    ),
)]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<StreamParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ReadLog)?;
    let params = query_string(params)?;
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Last-Event-ID must be the position of the last event received".to_owned(),
                    )
                })
        })
        .transpose()?;
    let after = match last_event_id {
        Some(after) => after,
        None => number("after", params.after.as_deref())?.unwrap_or(0),
    };
    state
        .access
        .record(
            &caller,
            Action::ReadLog,
            format!("log from {} on, live", after + 1),
        )
        .await?;
    let follow = Follow {
        caller,
        store: Arc::clone(&state.store),
        after,
        pending: VecDeque::new(),
        head: state.store.watch_head(),
        shutting_down: state.shutting_down.clone(),
    };
    let events = futures_util::stream::unfold(follow, Follow::next);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The access log: every read of personal data, oldest first (admin only).
///
/// Roles: admin.
#[utoipa::path(
    get,
    path = "/v1/access-log",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{entries: [{at, who, role, what, allowed_by}, …]}` after the `after`th, at most `limit`.", body = serde_json::Value),
        crate::problem::ReadProblems,
    ),
)]
pub async fn access_log(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, Action::ReadAccessLog)?;
    let params = query_string(params)?;
    let after = number("after", params.after.as_deref())?.unwrap_or(0);
    let limit = number("limit", params.limit.as_deref())?.unwrap_or(PAGE_EVENTS_DEFAULT as u64);
    let data_dir = state.data_dir.clone();
    let entries = tokio::task::spawn_blocking(move || crate::access::read_access_log(&data_dir))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let entries: Vec<_> = entries
        .into_iter()
        .skip(usize::try_from(after).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    Ok(json(&serde_json::json!({ "entries": entries })))
}
