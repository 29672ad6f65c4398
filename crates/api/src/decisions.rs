//! One decision over HTTP: append to its stream, its state, its events, its dossier.
//!
//! An append takes the same wire format as `verkstall import` (spec §3), parsed by the same
//! strict parser (`domain::NewEvent::from_json`): one event, an array of events, or
//! `{"expected_version": …, "events": […]}`. The expected version comes from `If-Match` (a
//! version number, `*` for any) or from `expected_version` (a number or `"any"`); one of them is
//! required (428), and `0` means a new stream.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::{DecisionId, EventId, NewEvent};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use store::{EventStore, ExpectedVersion, Refusal, RefusalKind};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use crate::answers::{EventsQuestion, StateQuestion};
use crate::auth::{Action, Caller};
use crate::problem::{ApiError, FieldProblem};
use crate::query::{self, DossierQuery};
use crate::reports::{
    AS_OF_DOC, FORMAT_DOC, as_of_schema, date_schema, format, format_schema, param, query_param,
    query_string,
};
use crate::routes::{json, rendered};
use crate::server::AppState;

/// Field problems listed in one answer, at most; the rest are counted.
pub const PROBLEMS_LISTED_MAX: usize = 50;

/// Where one event of an append sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppendedEventBody {
    /// Its id (the store's own when the request gave none).
    #[schema(value_type = String, format = "uuid")]
    pub event_id: EventId,
    /// Its global position.
    pub position: u64,
    /// Its version in the decision's stream.
    pub version: u64,
}

/// The answer to an append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppendResponse {
    /// The decision.
    #[schema(value_type = String, format = "uuid")]
    pub decision_id: DecisionId,
    /// The stream's version after the append (also the `ETag`).
    pub version: u64,
    /// True when every event was already stored with the same content: nothing was written.
    pub duplicate: bool,
    /// Each submitted event, in the order submitted.
    pub events: Vec<AppendedEventBody>,
}

fn decision_id(text: &str) -> Result<DecisionId, ApiError> {
    query::parse_decision(text).map_err(|e| ApiError::NotFound(format!("no such decision: {e}")))
}

/// `If-Match`: `*`, or a version as `"3"`, `W/"3"` or `3`.
fn if_match(headers: &HeaderMap) -> Result<Option<ExpectedVersion>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadRequest(
            "If-Match must be a stream version (the ETag of the decision, e.g. \"3\") or *"
                .to_owned(),
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(Some(ExpectedVersion::Any));
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    text.parse()
        .map(ExpectedVersion::Exact)
        .map(Some)
        .map_err(|_| bad())
}

/// `expected_version` in the body: a number, or `"any"`.
fn expected_in_body(value: &serde_json::Value) -> Result<ExpectedVersion, ApiError> {
    match value {
        serde_json::Value::String(s) if s == "any" => Ok(ExpectedVersion::Any),
        serde_json::Value::Number(n) => n.as_u64().map(ExpectedVersion::Exact).ok_or_else(|| {
            ApiError::field(
                None,
                "expected_version",
                "must be a whole number ≥ 0, or \"any\"",
            )
        }),
        _ => Err(ApiError::field(
            None,
            "expected_version",
            "must be a whole number ≥ 0, or \"any\"",
        )),
    }
}

/// The body of an append: the events, and the expected version if the body names one.
fn parse_body(
    bytes: &[u8],
    decision: DecisionId,
) -> Result<(Vec<NewEvent>, Option<ExpectedVersion>), ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::field(None, ".", "the body is not UTF-8 text"))?;
    let not_json =
        |e: serde_json::Error| ApiError::field(None, ".", format!("the body is not JSON: {e}"));
    let (raw_events, expected): (Vec<&RawValue>, Option<ExpectedVersion>) = match text
        .trim_start()
        .as_bytes()
        .first()
    {
        Some(b'[') => (serde_json::from_str(text).map_err(not_json)?, None),
        Some(b'{') => {
            let object: HashMap<&str, &RawValue> = serde_json::from_str(text).map_err(not_json)?;
            if let Some(events) = object.get("events") {
                if let Some(other) = object
                    .keys()
                    .find(|k| !matches!(**k, "events" | "expected_version"))
                {
                    return Err(ApiError::field(
                        None,
                        domain::redact::redact_identity_like(other).into_owned(),
                        "unknown field: an append body holds `events` and `expected_version`",
                    ));
                }
                let events: Vec<&RawValue> = serde_json::from_str(events.get())
                    .map_err(|_| ApiError::field(None, "events", "must be an array of events"))?;
                let expected = object
                    .get("expected_version")
                    .map(|raw| {
                        serde_json::from_str(raw.get())
                            .map_err(not_json)
                            .and_then(|v| expected_in_body(&v))
                    })
                    .transpose()?;
                (events, expected)
            } else {
                (vec![serde_json::from_str(text).map_err(not_json)?], None)
            }
        }
        _ => {
            return Err(ApiError::field(
                None,
                ".",
                "the body must be an event, an array of events, or {\"events\": […]}",
            ));
        }
    };
    if raw_events.is_empty() {
        return Err(ApiError::field(
            None,
            "events",
            "the request holds no events",
        ));
    }
    let mut events = Vec::with_capacity(raw_events.len());
    let mut problems = Vec::new();
    let mut problem_count = 0usize;
    let mut problem = |event: usize, field: &str, message: String| {
        problem_count += 1;
        if problems.len() < PROBLEMS_LISTED_MAX {
            problems.push(FieldProblem {
                event,
                field: field.to_owned(),
                message: domain::redact::redact_identity_like(&message).into_owned(),
            });
        }
    };
    for (index, raw) in raw_events.iter().enumerate() {
        match NewEvent::from_json(raw.get()) {
            Err(error) => problem(index, &error.field, error.message),
            Ok(event) if event.decision_id != decision => problem(
                index,
                "decision_id",
                format!("is not the decision of the path ({decision})"),
            ),
            Ok(event) if event.recorded_at.is_some() => problem(
                index,
                "recorded_at",
                "is set by the store when it learns the event; history with its times is \
                 imported with `verkstall import --keep-recorded-at`"
                    .to_owned(),
            ),
            Ok(event) => events.push(event),
        }
    }
    match problems.len() {
        0 => Ok((events, expected)),
        1 => {
            let p = problems.remove(0);
            Err(ApiError::field(Some(p.event), p.field, p.message))
        }
        _ => {
            let mut detail = format!("{problem_count} problems in the request, nothing written");
            for p in &problems {
                detail += &format!("; event {}: field `{}`: {}", p.event, p.field, p.message);
            }
            Err(ApiError::Unprocessable {
                detail,
                event: None,
                field: None,
                errors: problems,
            })
        }
    }
}

/// The store's refusal as a problem: 409 for a conflict, 422 for a broken rule.
fn refused(refusal: Refusal) -> ApiError {
    let event = |text: String| match refusal.index {
        Some(i) => format!("event {i} of the request: {text}"),
        None => text,
    };
    match &refusal.kind {
        RefusalKind::Conflict { .. } => ApiError::Conflict(format!(
            "{}; nothing written. Read the decision again and retry against the version it is at",
            refusal.kind
        )),
        RefusalKind::EventIdReused { .. } => ApiError::Conflict(event(format!(
            "{}; nothing written. Give this event a new event_id, or resend the stored one unchanged",
            refusal.kind
        ))),
        RefusalKind::Rule(_) | RefusalKind::Invalid(_) => ApiError::Unprocessable {
            detail: event(format!("{}; nothing written", refusal.kind)),
            event: refusal.index,
            field: None,
            errors: Vec::new(),
        },
    }
}

/// Appends events to a decision's stream, all or nothing, if the stream is at the expected
/// version and the events keep the rules of spec §6.
///
/// Roles: registrar, admin.
#[utoipa::path(
    post,
    path = "/v1/decisions/{id}/events",
    params(
        DecisionPath,
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)?"[0-9]{1,19}"|[0-9]{1,19})$"#, description = "The expected stream version (`\"3\"`; `0` for a new stream) or `*` for any; or `expected_version` in the body."),
    ),
    request_body(
        content = serde_json::Value,
        description = "One event (spec §3), an array of events, or `{\"expected_version\": 3, \"events\": […]}`.",
        content_type = "application/json",
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored; `ETag` is the stream's new version.", body = AppendResponse),
        (status = 200, description = "Every event was already stored with the same content; nothing written.", body = AppendResponse),
        (status = 400, description = "A header is malformed, or If-Match and the body disagree.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or an unknown one.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not append.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The path names no decision id.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The stream is not at the expected version, or an event id is reused.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (named), or the events break a rule of spec §6.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 428, description = "No expected version was given.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn append_events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, Action::Append)?;
    let decision = decision_id(&id)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(
            "the body is larger than the server takes; send the events in smaller requests"
                .to_owned(),
        ),
        _ => ApiError::BadRequest("the body could not be read".to_owned()),
    })?;
    let from_header = if_match(&headers)?;
    let (events, from_body) = parse_body(&body, decision)?;
    let expected = match (from_header, from_body) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::BadRequest(
                "If-Match and expected_version disagree; send one of them".to_owned(),
            ));
        }
        (Some(expected), _) | (None, Some(expected)) => expected,
        (None, None) => {
            return Err(ApiError::PreconditionRequired(
                "name the version you expect the decision's stream at: If-Match: \"N\" (0 for \
                 a new decision, * for any) or expected_version in the body"
                    .to_owned(),
            ));
        }
    };
    let appended = match state.store.append(decision, expected, events).await? {
        Ok(appended) => appended,
        Err(refusal) => return Err(refused(refusal)),
    };
    let body = AppendResponse {
        decision_id: decision,
        version: appended.version,
        duplicate: appended.duplicate,
        events: appended
            .events
            .iter()
            .map(|e| AppendedEventBody {
                event_id: e.event_id,
                position: e.position,
                version: e.version,
            })
            .collect(),
    };
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = (status, json(&body)).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(appended.version));
    Ok(response)
}

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header")
}

/// `as_of`, `on` and `format` of a decision's reads (the state takes no `format`, the events
/// only `as_of`; a parameter a route does not take is ignored).
#[derive(Debug, Deserialize)]
pub struct DecisionParams {
    as_of: Option<String>,
    on: Option<String>,
    format: Option<String>,
}

impl DecisionParams {
    fn query(&self, decision: DecisionId) -> Result<DossierQuery, ApiError> {
        Ok(DossierQuery::new(
            decision,
            param("on", self.on.as_deref(), query::parse_date)?,
            param("as_of", self.as_of.as_deref(), query::parse_as_of)?,
            Utc::now(),
        ))
    }
}

/// The description of a decision's `on`.
const ON_DOC: &str =
    "Count days waiting to this date, `YYYY-MM-DD` (default: the `as_of` date, never after today).";

/// The path's decision id, a UUID (anything else is no decision: 404).
pub struct DecisionPath;

impl IntoParams for DecisionPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .description(Some("The decision id (a UUID)."))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(
                            "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                        ))
                        .examples(["6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"]),
                ))
                .build(),
        ]
    }
}

/// The parameters of a decision's events: `as_of`.
pub struct EventsParams;

impl IntoParams for EventsParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![query_param("as_of", false, AS_OF_DOC, as_of_schema())]
    }
}

/// The parameters of a decision's state: `as_of`, `on`.
pub struct StateParams;

impl IntoParams for StateParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query_param("as_of", false, AS_OF_DOC, as_of_schema()),
            query_param("on", false, ON_DOC, date_schema()),
        ]
    }
}

/// The parameters of a dossier: `as_of`, `on`, `format`.
pub struct DossierParams;

impl IntoParams for DossierParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query_param("as_of", false, AS_OF_DOC, as_of_schema()),
            query_param("on", false, ON_DOC, date_schema()),
            query_param("format", false, FORMAT_DOC, format_schema()),
        ]
    }
}

/// Reads the decision's dossier as of the query's moment; `hashes` says whether it needs the
/// log's hash at that moment (the dossier shows it, the state does not).
async fn read_dossier(
    state: &AppState,
    query: &DossierQuery,
    hashes: bool,
) -> Result<(projections::dossier::Dossier, u64), ApiError> {
    let point = state
        .with_projection(|p| query::log_point(p, query.as_of))
        .await?;
    read_dossier_at(state, query, point, hashes).await
}

/// [`read_dossier`] at `point`, the projection's `query::log_point` of the query's moment.
async fn read_dossier_at(
    state: &AppState,
    query: &DossierQuery,
    point: (u64, Option<String>),
    hashes: bool,
) -> Result<(projections::dossier::Dossier, u64), ApiError> {
    let store = state.store.as_ref();
    let inputs = if hashes {
        query::read_dossier_inputs(store, query, point).await?
    } else {
        query::read_state_inputs(store, query, point.0).await?
    };
    let version = inputs.version();
    let dossier = state
        .with_projection(|p| query::dossier(p, query, inputs))
        .await??;
    Ok((dossier, version))
}

/// The decision's state: its status, episodes and reports owed, and its stream version (the
/// `ETag`, for `If-Match`). No identity.
#[derive(Debug, Serialize)]
struct DecisionState<'a> {
    decision_id: DecisionId,
    as_of: String,
    on: chrono::NaiveDate,
    version: u64,
    status: &'a str,
    decided_on: chrono::NaiveDate,
    law: &'a str,
    insats: &'a str,
    forhandsbesked: bool,
    replaces: Option<DecisionId>,
    previous_not_executed: bool,
    episodes: &'a [projections::dossier::EpisodeSummary],
    reports_owed: &'a [projections::dossier::OwedReport],
}

/// One decision's state as of a moment: status, episodes, reports owed, stream version.
///
/// Roles: registrar, reporter, auditor, admin.
#[utoipa::path(
    get,
    path = "/v1/decisions/{id}",
    params(DecisionPath, StateParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{decision_id, as_of, on, version, status, decided_on, law, insats, forhandsbesked, replaces, previous_not_executed, episodes, reports_owed}`; `ETag` is the version.", body = serde_json::Value),
        crate::problem::ReadProblems,
        crate::problem::NotFoundProblem,
    ),
)]
pub async fn decision_state(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Result<Query<DecisionParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, Action::ReadState)?;
    let query = query_string(params)?.query(decision_id(&id)?)?;
    // A state kept for the same facts at the same date is the answer (crate::answers).
    let (point, asked) = asked_at(&state, &query).await?;
    if let Some(asked) = &asked
        && let Some((text, version)) = state.answers.state(asked, query.as_of)
    {
        return Ok(json_with_version(text, version));
    }
    let (dossier, version) = read_dossier_at(&state, &query, point, false).await?;
    let body = DecisionState {
        decision_id: dossier.decision_id,
        as_of: domain::event::format_instant(&dossier.as_of),
        on: dossier.on,
        version,
        status: &dossier.status,
        decided_on: dossier.decision.decided_on,
        law: &dossier.decision.law,
        insats: &dossier.decision.insats,
        forhandsbesked: dossier.decision.forhandsbesked,
        replaces: dossier.decision.replaces,
        previous_not_executed: dossier.decision.previous_not_executed,
        episodes: &dossier.episodes,
        reports_owed: &dossier.reports_owed,
    };
    let text = serde_json::to_string(&body).map_err(|e| ApiError::internal(&e))?;
    if let Some(asked) = asked {
        state.answers.keep_state(asked, query.as_of, &text, version);
    }
    Ok(json_with_version(text, version))
}

/// The log's point at the query's moment (`query::log_point`), and the question a kept state
/// or dossier answers there (`None` when the decision was not granted by then).
async fn asked_at(
    state: &AppState,
    query: &DossierQuery,
) -> Result<((u64, Option<String>), Option<StateQuestion>), ApiError> {
    state
        .with_projection(|p| {
            let point = query::log_point(p, query.as_of);
            let asked = StateQuestion::at(p, query.decision_id, point.0, query.on);
            (point, asked)
        })
        .await
}

/// A decision's state or its events in JSON, with the stream's version as the `ETag`.
fn json_with_version(text: impl Into<axum::body::Body>, version: u64) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag(version)),
        ],
        text.into(),
    )
        .into_response()
}

/// The decision's events as stored.
#[derive(Debug, Serialize)]
struct StreamBody<'a> {
    decision_id: DecisionId,
    version: u64,
    events: Vec<&'a RawValue>,
}

/// One decision's events, as stored (canonical JSON with position, version, recorded_at and
/// hash), in stream order; with `as_of`, only those recorded by then.
///
/// Roles: auditor, integrator, admin.
#[utoipa::path(
    get,
    path = "/v1/decisions/{id}/events",
    params(DecisionPath, EventsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{decision_id, version, events: [stored event, …]}`; `ETag` is the version.", body = serde_json::Value),
        crate::problem::ReadProblems,
        crate::problem::NotFoundProblem,
    ),
)]
pub async fn decision_events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Result<Query<DecisionParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ReadStream)?;
    let query = query_string(params)?.query(decision_id(&id)?)?;
    // Events kept for the same facts, as a role that sees as much, are the answer
    // (crate::answers). The events are read from the store, so a projection still folding
    // (after a restart, say) is not waited for: they are then read afresh.
    let unmasked = caller.role.may(Action::ReadProtected);
    let asked = state
        .with_current_projection(|p| {
            let position = p.position_as_of(query.as_of);
            EventsQuestion::at(p, query.decision_id, position, unmasked)
        })
        .await?
        .flatten();
    let kept = asked.as_ref().and_then(|asked| {
        let text = state.answers.events(asked)?;
        Some((text, asked.version()))
    });
    let (text, version) = match kept {
        Some(kept) => kept,
        None => {
            let (text, version) = read_events_json(&state, &caller, &query).await?;
            if let Some(asked) = asked {
                state.answers.keep_events(asked, &text, version);
            }
            (text, version)
        }
    };
    state
        .access
        .record(
            &caller,
            Action::ReadStream,
            format!("decision {} events", query.decision_id),
        )
        .await?;
    Ok(json_with_version(text, version))
}

/// The JSON of the decision's events as of the query's moment, as `caller` may see them, read
/// from the store, and their count (the stream's version then).
async fn read_events_json(
    state: &AppState,
    caller: &Caller,
    query: &DossierQuery,
) -> Result<(Bytes, u64), ApiError> {
    let lines = state
        .store
        .read_stream_lines(query.decision_id, Some(query.as_of))
        .await?;
    if lines.is_empty() {
        return Err(query::QueryError::NotFound(format!(
            "there is no decision {} (as of {})",
            query.decision_id,
            domain::event::format_instant(&query.as_of)
        ))
        .into());
    }
    // The n-th line of a stream is its version n.
    let version = lines.len() as u64;
    let seen = lines
        .iter()
        .map(|(_, line)| crate::masking::as_seen_by(caller, line))
        .collect::<Result<Vec<_>, _>>()?;
    let events = seen
        .iter()
        .map(|line| serde_json::from_slice::<&RawValue>(line))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    let text = serde_json::to_vec(&StreamBody {
        decision_id: query.decision_id,
        version,
        events,
    })
    .map_err(|e| ApiError::internal(&e))?;
    Ok((Bytes::from(text), version))
}

/// One decision's whole record for a yttrande (spec §7), as of a moment.
///
/// Roles: reporter, auditor, admin.
#[utoipa::path(
    get,
    path = "/v1/decisions/{id}/dossier",
    params(DecisionPath, DossierParams),
    security(("bearer" = [])),
    responses(
        crate::reports::RenderedReport,
        crate::problem::ReadProblems,
        crate::problem::NotFoundProblem,
    ),
)]
pub async fn dossier(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Result<Query<DecisionParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = state.authorize(&headers, Action::ReadReports)?;
    let params = query_string(params)?;
    let format = format(params.format.as_deref())?;
    let query = params.query(decision_id(&id)?)?;
    let text = if format == render::Format::Json {
        dossier_json(&state, &query).await?
    } else {
        let (dossier, _) = read_dossier(&state, &query, true).await?;
        render::dossier(&dossier, format)
    };
    state
        .access
        .record(
            &caller,
            Action::ReadReports,
            format!("decision {} dossier", query.decision_id),
        )
        .await?;
    Ok(rendered(text, format))
}

/// The decision's dossier in JSON: one kept for the same facts at the same date, with the
/// query's moment and the log's point then put in (crate::answers), or one read, rendered and
/// kept.
async fn dossier_json(state: &AppState, query: &DossierQuery) -> Result<String, ApiError> {
    let (point, asked) = asked_at(state, query).await?;
    // The log's hash at a point before its head is read from the store with the dossier.
    let known_point = point.1.is_some() || point.0 == 0;
    if known_point
        && let Some(asked) = &asked
        && let Some(text) = state
            .answers
            .dossier(asked, query.as_of, point.0, point.1.as_deref())
    {
        return Ok(text);
    }
    let (dossier, _) = read_dossier_at(state, query, point, true).await?;
    Ok(match asked {
        Some(asked) => state.answers.keep_dossier(asked, dossier),
        None => render::dossier(&dossier, render::Format::Json),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(if_match: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_MATCH,
            HeaderValue::from_str(if_match).expect("ascii"),
        );
        headers
    }

    #[test]
    fn if_match_takes_a_version_or_a_star() {
        assert_eq!(if_match(&HeaderMap::new()).ok(), Some(None));
        for (text, expected) in [
            ("*", ExpectedVersion::Any),
            ("\"3\"", ExpectedVersion::Exact(3)),
            ("W/\"0\"", ExpectedVersion::Exact(0)),
            ("12", ExpectedVersion::Exact(12)),
        ] {
            assert_eq!(
                if_match(&headers(text)).ok(),
                Some(Some(expected)),
                "{text}"
            );
        }
        for text in ["\"three\"", "-1", "\"1\", \"2\""] {
            assert!(if_match(&headers(text)).is_err(), "{text}");
        }
    }

    #[test]
    fn a_body_names_every_problem_with_its_event_and_field() {
        let decision: DecisionId = "6f1d3c2e-8a4b-4c5d-9e6f-7a8b9c0d1e2f"
            .parse()
            .expect("uuid");
        let body = br#"[{"type":"Nope"}, {"type":"OrderSent"}]"#;
        let problem = parse_body(body, decision)
            .expect_err("refused")
            .to_problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors.len(), 2, "{problem:?}");
        assert_eq!(problem.errors[0].event, 0);
        assert_eq!(problem.errors[1].event, 1);
        let problem = parse_body(b"{\"events\": [], \"expected_version\": 0}", decision)
            .expect_err("empty")
            .to_problem();
        assert_eq!(problem.field.as_deref(), Some("events"));
        let problem = parse_body(b"{\"events\": [], \"extra\": 1}", decision)
            .expect_err("unknown field")
            .to_problem();
        assert_eq!(problem.field.as_deref(), Some("extra"));
        let problem = parse_body(b"nonsense", decision)
            .expect_err("not JSON")
            .to_problem();
        assert_eq!(problem.field.as_deref(), Some("."));
    }
}
