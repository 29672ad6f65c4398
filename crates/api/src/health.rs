//! Liveness and readiness, for load balancers and orchestrators. They need no token and say
//! nothing of the data.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::server::{AppState, READY_LAG_EVENTS_MAX};

/// How the server is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The log's committed head.
    pub head: u64,
    /// The last position the projections have folded.
    pub projected: u64,
}

fn health(state: &AppState) -> Health {
    Health {
        status: "ok".to_owned(),
        head: *state.store.watch_head().borrow(),
        projected: *state.projected.borrow(),
    }
}

/// What stops the server for good, until it is started again: the store has stopped taking
/// writes (a full disk, an I/O error), or the access log cannot be written (so no personal data
/// can be read). Either answers every request of its kind with an error from then on; starting
/// the server again reopens both, and the store recovers from what is on disk. The answer names
/// which, not the cause: these routes need no token, and the cause (with its paths) is in the
/// server's log, written when it happened.
pub(crate) fn broken(state: &AppState) -> Option<String> {
    let what = if state.store.stopped().is_some() {
        "the store has stopped taking writes after a failure"
    } else if state.access.broken().is_some() {
        "the access log cannot be written, so no personal data can be read"
    } else {
        return None;
    };
    Some(format!(
        "{what} (the server's log says why); start the server again once the cause, a full \
         disk say, is fixed"
    ))
}

/// The process is up and can go on: 503 when only a restart helps (see `readyz` too).
#[utoipa::path(
    get,
    path = "/healthz",
    responses(
        (status = 200, description = "Up.", body = Health),
        (status = 503, description = "The store has stopped taking writes, or the access log cannot be written: the server must be started again once the cause (a full disk, say) is fixed.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn healthz(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    if let Some(reason) = broken(&state) {
        return Err(ApiError::Unavailable(reason));
    }
    Ok(axum::Json(health(&state)).into_response())
}

/// The server can answer: the projections are no more than 10 000 events behind the log, and
/// nothing has stopped it for good (`healthz`).
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "Ready.", body = Health),
        (status = 503, description = "The projections are catching up, or the server must be started again (see /healthz).", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    if let Some(reason) = broken(&state) {
        return Err(ApiError::Unavailable(reason));
    }
    let health = health(&state);
    if health.head.saturating_sub(health.projected) > READY_LAG_EVENTS_MAX {
        return Err(ApiError::Unavailable(format!(
            "the projections are {} events behind the log; they are catching up",
            health.head - health.projected
        )));
    }
    Ok((StatusCode::OK, axum::Json(health)).into_response())
}
