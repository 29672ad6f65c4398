//! The reports over HTTP: the IVO worklist, the council's statistics, open cases and deadlines —
//! the same JSON as the command line (both call [`crate::query`] and `render`).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use projections::Projection;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Action;
use crate::problem::ApiError;
use crate::query::{self, QuarterQuery};
use crate::routes::rendered;
use crate::server::AppState;

/// Parses an optional parameter, naming it in the problem.
pub(crate) fn param<T>(
    name: &str,
    value: Option<&str>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|text| {
            parse(text).map_err(|e| ApiError::BadRequest(format!("parameter `{name}`: {e}")))
        })
        .transpose()
}

/// The query string, or a problem saying it is malformed.
pub(crate) fn query_string<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::BadRequest(format!(
            "the query string cannot be read: {}",
            domain::redact::redact_identity_like(&e.body_text())
        ))
    })
}

/// `format`, default `json`.
pub(crate) fn format(value: Option<&str>) -> Result<render::Format, ApiError> {
    Ok(param("format", value, query::parse_format)?.unwrap_or(render::Format::Json))
}

/// A quarter's report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarterParams {
    /// The quarter, e.g. `2023Q2` (default: the current quarter in Stockholm).
    quarter: Option<String>,
    /// Count days waiting to this date, `YYYY-MM-DD` (default: the quarter's last day).
    on: Option<String>,
    /// Only what was recorded by then: RFC 3339, or a date meaning the end of that day in
    /// Stockholm (default: now).
    as_of: Option<String>,
    /// `json` (the contract, spec §8), `csv`, `md` or `html`.
    format: Option<String>,
}

impl QuarterParams {
    fn parse(&self) -> Result<(QuarterQuery, render::Format), ApiError> {
        Ok((
            QuarterQuery {
                quarter: param("quarter", self.quarter.as_deref(), query::parse_quarter)?,
                on: param("on", self.on.as_deref(), query::parse_date)?,
                as_of: param("as_of", self.as_of.as_deref(), query::parse_as_of)?,
            },
            format(self.format.as_deref())?,
        ))
    }
}

/// The quarter's IVO worklist (spec §6): what to report, as what, with titles.
///
/// Roles: reporter, auditor, admin.
#[utoipa::path(
    get,
    path = "/v1/reports/ivo",
    params(QuarterParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The worklist, as `verkstall report ivo` prints it (spec §8).", body = serde_json::Value),
        crate::problem::ReadProblems,
    ),
)]
pub async fn ivo(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<QuarterParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    quarter_report(&state, &headers, params, |p, query, now, format| {
        render::ivo_worklist(&query::ivo_worklist(p, query, now), format)
    })
    .await
}

/// The council's statistics for the quarter (spec §6), without identity.
///
/// Roles: reporter, auditor, admin.
#[utoipa::path(
    get,
    path = "/v1/reports/council",
    params(QuarterParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The statistics, as `verkstall report council` prints them (spec §8).", body = serde_json::Value),
        crate::problem::ReadProblems,
    ),
)]
pub async fn council(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<QuarterParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    quarter_report(&state, &headers, params, |p, query, now, format| {
        render::council(&query::council(p, query, now), format)
    })
    .await
}

/// A quarter's report, rendered by `report` from the projection.
async fn quarter_report(
    state: &AppState,
    headers: &HeaderMap,
    params: Result<Query<QuarterParams>, QueryRejection>,
    report: fn(&Projection, &QuarterQuery, DateTime<Utc>, render::Format) -> String,
) -> Result<Response, ApiError> {
    state.authorize(headers, Action::ReadReports)?;
    let (query, format) = query_string(params)?.parse()?;
    let now = Utc::now();
    let text = state
        .with_projection(|p| report(p, &query, now, format))
        .await?;
    Ok(rendered(text, format))
}

/// Open cases on a date.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenCasesParams {
    /// The date, `YYYY-MM-DD` (default: today in Stockholm).
    on: Option<String>,
    /// Only what was recorded by then: RFC 3339, or a date (default: now).
    as_of: Option<String>,
    /// `json` (the contract), `csv`, `md` or `html`.
    format: Option<String>,
}

/// Decisions with an open (waiting) episode on a date.
///
/// Roles: reporter, auditor, admin.
#[utoipa::path(
    get,
    path = "/v1/open-cases",
    params(OpenCasesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Open cases, as `verkstall open-cases` prints them (spec §8).", body = serde_json::Value),
        crate::problem::ReadProblems,
    ),
)]
pub async fn open_cases(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<OpenCasesParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, Action::ReadReports)?;
    let params = query_string(params)?;
    let on = param("on", params.on.as_deref(), query::parse_date)?;
    let as_of = param("as_of", params.as_of.as_deref(), query::parse_as_of)?;
    let format = format(params.format.as_deref())?;
    let now = Utc::now();
    let text = state
        .with_projection(|p| render::open_cases(&query::open_cases(p, on, as_of, now), format))
        .await?;
    Ok(rendered(text, format))
}

/// Deadlines between two dates.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlinesParams {
    /// The first date, `YYYY-MM-DD` (required).
    from: Option<String>,
    /// The last date, `YYYY-MM-DD` (required).
    to: Option<String>,
    /// Only what was recorded by then: RFC 3339, or a date (default: now).
    as_of: Option<String>,
    /// `json` (the contract), `csv`, `md` or `html`.
    format: Option<String>,
}

/// Routine deadlines falling due between two dates (both included).
///
/// Roles: reporter, auditor, admin.
#[utoipa::path(
    get,
    path = "/v1/deadlines",
    params(DeadlinesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deadlines, as `verkstall deadlines` prints them (spec §8).", body = serde_json::Value),
        crate::problem::ReadProblems,
    ),
)]
pub async fn deadlines(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<DeadlinesParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, Action::ReadReports)?;
    let params = query_string(params)?;
    let required = |name: &str, value: Option<&str>| {
        param(name, value, query::parse_date)?.ok_or_else(|| {
            ApiError::BadRequest(format!("parameter `{name}` is required (YYYY-MM-DD)"))
        })
    };
    let from = required("from", params.from.as_deref())?;
    let to = required("to", params.to.as_deref())?;
    let as_of = param("as_of", params.as_of.as_deref(), query::parse_as_of)?;
    let format = format(params.format.as_deref())?;
    let now = Utc::now();
    let report = state
        .with_projection(|p| query::deadlines(p, from, to, as_of, now))
        .await??;
    Ok(rendered(render::deadlines(&report, format), format))
}
