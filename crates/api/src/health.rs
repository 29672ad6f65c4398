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

/// The process is up and answering.
#[utoipa::path(
    get,
    path = "/healthz",
    responses((status = 200, description = "Up.", body = Health)),
)]
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(health(&state)).into_response()
}

/// The server can answer reads: the projections are no more than 10 000 events behind the log.
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "Ready.", body = Health),
        (status = 503, description = "The projections are catching up.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let health = health(&state);
    if health.head.saturating_sub(health.projected) > READY_LAG_EVENTS_MAX {
        return Err(ApiError::Unavailable(format!(
            "the projections are {} events behind the log; they are catching up",
            health.head - health.projected
        )));
    }
    Ok((StatusCode::OK, axum::Json(health)).into_response())
}
