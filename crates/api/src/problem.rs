//! The API's one error type and its wire form: `application/problem+json` (RFC 9457) with
//! `type`, `title`, `status` and a `detail` a person can act on.
//!
//! Every detail is built from typed values or passes through `domain::redact`, so no identity
//! number reaches a response. A server error answers with an opaque detail; its cause is
//! logged once, here, redacted.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::query::QueryError;

/// The media type of a problem.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem, as RFC 9457 has it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` for plain HTTP statuses; `tag:` URIs
    /// of verkstall's own kinds otherwise).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// The kind of problem, the same for every occurrence.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time, and what to do about it.
    pub detail: String,
    /// For a refused event: which event of the request (0-based), when one does.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub event: Option<usize>,
    /// For a refused event: the field, as a path (`data.person.id`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// Every problem found in the request, when it held more than one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
}

/// One problem with one field of one submitted event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldProblem {
    /// Which event of the request (0-based).
    pub event: usize,
    /// The field, as a path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The problems every authorised read may answer with, for the OpenAPI document.
#[derive(Debug, utoipa::IntoResponses)]
pub enum ReadProblems {
    /// A parameter is malformed or makes no sense; the detail names it.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No token, or one that is not known.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token's role may not do this.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// The answer for a decision that does not exist (as of the moment asked).
#[derive(Debug, utoipa::IntoResponses)]
pub enum NotFoundProblem {
    /// No such decision, as of the moment asked.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// Why a request was not done.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a parameter or header is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or one that is not known.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing.
    #[error("{0}")]
    NotFound(String),
    /// 409: the stream is not at the expected version, or an event id is reused.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 415: the body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: a field of an event is wrong, or the events break a rule of spec §6.
    #[error("{detail}")]
    Unprocessable {
        /// What is wrong.
        detail: String,
        /// Which event, if one.
        event: Option<usize>,
        /// Which field, if one.
        field: Option<String>,
        /// Every field problem, if more than one.
        errors: Vec<FieldProblem>,
    },
    /// 428: an append names no expected version.
    #[error("{0}")]
    PreconditionRequired(String),
    /// 503: the server is not ready (the projection lags, the store stopped).
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else. The cause is logged, never sent.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 about one field of one event.
    pub fn field(event: Option<usize>, field: impl Into<String>, message: impl AsRef<str>) -> Self {
        let field = field.into();
        let message = domain::redact::redact_identity_like(message.as_ref());
        let detail = match event {
            Some(i) => format!("event {i} of the request: field `{field}`: {message}"),
            None => format!("field `{field}`: {message}"),
        };
        ApiError::Unprocessable {
            detail,
            event,
            field: Some(field),
            errors: Vec::new(),
        }
    }

    /// A server error: logs `cause` (redacted) once and answers with an opaque detail.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let cause = cause.to_string();
        tracing::error!(
            cause = %domain::redact::redact_identity_like(&cause),
            "request failed"
        );
        ApiError::Internal(
            "the server failed to answer; the cause is in its log. Try again, and tell the \
             operator if it persists"
                .to_owned(),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let (type_uri, title) = match self {
            ApiError::Conflict(_) => ("tag:verkstall,2026:conflict", "Conflict"),
            ApiError::Unprocessable { field: Some(_), .. } => (
                "tag:verkstall,2026:invalid-event",
                "The event is not acceptable",
            ),
            ApiError::Unprocessable { .. } => {
                ("tag:verkstall,2026:rule-broken", "The events break a rule")
            }
            _ => ("about:blank", status.canonical_reason().unwrap_or("Error")),
        };
        let (event, field, errors) = match self {
            ApiError::Unprocessable {
                event,
                field,
                errors,
                ..
            } => (*event, field.clone(), errors.clone()),
            _ => (None, None, Vec::new()),
        };
        Problem {
            type_uri: type_uri.to_owned(),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            event,
            field,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.to_problem();
        let body = serde_json::to_vec(&problem).expect("a problem always serialises");
        let mut response = (self.status(), body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"verkstall\""),
            );
        }
        response
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> ApiError {
        match error {
            QueryError::Invalid(text) => ApiError::BadRequest(text),
            QueryError::NotFound(text) => ApiError::NotFound(text),
            QueryError::Store(error) => ApiError::from(error),
        }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(error: store::StoreError) -> ApiError {
        match error {
            store::StoreError::Stopped(_) | store::StoreError::Closed => {
                let cause = error.to_string();
                tracing::error!(cause = %cause, "the store takes no writes");
                ApiError::Unavailable(
                    "the store stopped taking requests after a failure; the operator must \
                     restart the server"
                        .to_owned(),
                )
            }
            store::StoreError::Backend { .. } => {
                let cause = error.to_string();
                tracing::error!(cause = %cause, "the store's database failed");
                ApiError::Unavailable(
                    "the event store's database is unavailable; try again shortly".to_owned(),
                )
            }
            other => ApiError::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_problem_names_the_event_and_field_and_never_an_identity_number() {
        let problem = ApiError::field(
            Some(2),
            "data.person.id",
            "19121212-1212 has a bad check digit",
        )
        .to_problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.event, Some(2));
        assert_eq!(problem.field.as_deref(), Some("data.person.id"));
        assert!(problem.detail.contains("event 2"), "{}", problem.detail);
        assert!(!problem.detail.contains("1212-1212"), "{}", problem.detail);
    }

    #[test]
    fn a_server_error_says_nothing_of_its_cause() {
        let problem = ApiError::internal(&"disk 19121212-1212 on fire").to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("fire"), "{}", problem.detail);
    }
}
