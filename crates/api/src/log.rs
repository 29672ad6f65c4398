//! The global log over HTTP: pages of stored events in position order, byte for byte as stored
//! (what `verkstall events` prints, one page at a time).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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
    state.authorize(&headers, Action::ReadLog)?;
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
    let head = state.store.committed();
    let store = Arc::clone(&state.store);
    let lines = tokio::task::spawn_blocking(move || store.read_lines(after, limit))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let lines: Vec<&(u64, Vec<u8>)> = lines.iter().take_while(|(p, _)| *p <= head).collect();
    let next_after = lines.last().map_or(after, |(p, _)| *p);
    let events = lines
        .iter()
        .map(|(_, line)| serde_json::from_slice::<&RawValue>(line))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    Ok(json(&Page {
        after,
        head,
        next_after,
        events,
    }))
}
