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
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::answers::{Answers, QuarterReport, Question};
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

/// A year the calendar covers (`calendar::FIRST_YEAR`–`calendar::LAST_YEAR`, 1900–2200).
const YEAR_PATTERN: &str = "(19[0-9]{2}|2[01][0-9]{2}|2200)";
/// A leap year within those years (every fourth, but not 1900, 2100 or 2200).
const LEAP_YEAR_PATTERN: &str = "(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26])|21(0[48]|[2468][048]|[13579][26]))";
/// A time of day with its offset, as RFC 3339 writes it after the date.
const TIME_PATTERN: &str = "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";

/// A real date `YYYY-MM-DD` within the calendar's years: what `query::parse_date` accepts.
fn date_pattern() -> String {
    format!(
        "({YEAR_PATTERN}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)\
         |02-(0[1-9]|1[0-9]|2[0-8]))|{LEAP_YEAR_PATTERN}-02-29)"
    )
}

fn string_schema(pattern: String, example: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .examples([example])
        .build()
}

/// The schema of a date parameter.
pub(crate) fn date_schema() -> Object {
    string_schema(format!("^{}$", date_pattern()), "2023-06-30")
}

/// The schema of an `as_of`: a date, or an RFC 3339 instant (what `query::parse_as_of` takes).
pub(crate) fn as_of_schema() -> Object {
    string_schema(
        format!("^{}({TIME_PATTERN})?$", date_pattern()),
        "2023-07-31T12:00:00Z",
    )
}

/// The schema of a quarter, `2023Q2`.
fn quarter_schema() -> Object {
    string_schema(format!("^{YEAR_PATTERN}Q[1-4]$"), "2023Q2")
}

/// The schema of `format`: the names `render::Format` knows.
pub(crate) fn format_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(render::Format::ALL.map(|f| f.to_string())))
        .build()
}

/// A query parameter of the OpenAPI document. The parameter structs below describe themselves
/// with these (not with `derive(IntoParams)`), so that each schema admits exactly what the
/// handler's parser accepts and a client reading the document sends nothing it refuses.
pub(crate) fn query_param(
    name: &str,
    required: bool,
    description: &str,
    schema: Object,
) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// A report's answer, as the OpenAPI document describes it: 200 with the report in the format
/// asked — each media type [`crate::routes::rendered`] sends.
pub(crate) struct RenderedReport;

impl utoipa::IntoResponses for RenderedReport {
    fn responses()
    -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        let text = || {
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let response = utoipa::openapi::ResponseBuilder::new()
            .description(
                "The report in the format asked: JSON (the contract of spec §8, byte for byte \
                 what the command line prints), or CSV, Markdown or HTML for people.",
            )
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                    .build(),
            )
            .content("text/csv", text())
            .content("text/markdown", text())
            .content("text/html", text())
            .build();
        [("200".to_owned(), response.into())].into()
    }
}

/// The description of an `as_of` parameter.
pub(crate) const AS_OF_DOC: &str = "Only what was recorded by then: RFC 3339, or a date meaning \
                                    the end of that day in Stockholm (default: now).";
/// The description of a report's `format` parameter.
pub(crate) const FORMAT_DOC: &str =
    "`json` (the contract, spec §8; the default), `csv`, `md` or `html` (for people, in Swedish).";

/// A quarter's report.
#[derive(Debug, Deserialize)]
pub struct QuarterParams {
    quarter: Option<String>,
    on: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
}

impl IntoParams for QuarterParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query_param(
                "quarter",
                false,
                "The quarter, e.g. `2023Q2` (default: the current quarter in Stockholm).",
                quarter_schema(),
            ),
            query_param(
                "on",
                false,
                "Count days waiting to this date, `YYYY-MM-DD` (default: the quarter's last day).",
                date_schema(),
            ),
            query_param("as_of", false, AS_OF_DOC, as_of_schema()),
            query_param("format", false, FORMAT_DOC, format_schema()),
        ]
    }
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
        RenderedReport,
        crate::problem::ReadProblems,
    ),
)]
pub async fn ivo(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<QuarterParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    quarter_report(
        &state,
        &headers,
        params,
        QuarterReport::Ivo,
        |answers, p, query, now, format| match format {
            render::Format::Json => {
                let (quarter, as_of) = query.resolve(now);
                answers.worklist_json(p, quarter, query.on, as_of)
            }
            _ => render::ivo_worklist(&query::ivo_worklist(p, query, now), format),
        },
    )
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
        RenderedReport,
        crate::problem::ReadProblems,
    ),
)]
pub async fn council(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<QuarterParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    quarter_report(
        &state,
        &headers,
        params,
        QuarterReport::Council,
        |_, p, query, now, format| render::council(&query::council(p, query, now), format),
    )
    .await
}

/// A quarter's report, rendered by `report` from the projection (in JSON, an answer kept for
/// the same `question` is served instead: [`crate::answers`]).
async fn quarter_report(
    state: &AppState,
    headers: &HeaderMap,
    params: Result<Query<QuarterParams>, QueryRejection>,
    kind: QuarterReport,
    report: fn(&Answers, &Projection, &QuarterQuery, DateTime<Utc>, render::Format) -> String,
) -> Result<Response, ApiError> {
    state.authorize(headers, Action::ReadReports)?;
    let (query, format) = query_string(params)?.parse()?;
    let text = state
        .with_projection(|p| {
            // `now` as the projection is read: a default as_of then takes in everything folded
            // (the open-case index and kept answers are for the head).
            let now = Utc::now();
            let (quarter, as_of) = query.resolve(now);
            let render = || report(&state.answers, p, &query, now, format);
            if format != render::Format::Json {
                return render();
            }
            let asked = Question::Quarter {
                report: kind,
                quarter,
                on: query.on,
                position: p.position_as_of(as_of),
            };
            state.answers.json(asked, as_of, render)
        })
        .await?;
    Ok(rendered(text, format))
}

/// Open cases on a date.
#[derive(Debug, Deserialize)]
pub struct OpenCasesParams {
    on: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
}

impl IntoParams for OpenCasesParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query_param(
                "on",
                false,
                "The date, `YYYY-MM-DD` (default: today in Stockholm).",
                date_schema(),
            ),
            query_param("as_of", false, AS_OF_DOC, as_of_schema()),
            query_param("format", false, FORMAT_DOC, format_schema()),
        ]
    }
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
        RenderedReport,
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
    let text = state
        .with_projection(|p| {
            // `now` as the projection is read: a default as_of then takes in everything folded
            // (the open-case index and kept answers are for the head).
            let now = Utc::now();
            if format != render::Format::Json {
                return render::open_cases(&query::open_cases(p, on, as_of, now), format);
            }
            let (on, as_of) = query::resolve_open_cases(on, as_of, now);
            let asked = Question::OpenCases {
                on,
                position: p.position_as_of(as_of),
            };
            state
                .answers
                .json(asked, as_of, || state.answers.open_cases_json(p, on, as_of))
        })
        .await?;
    Ok(rendered(text, format))
}

/// Deadlines between two dates.
#[derive(Debug, Deserialize)]
pub struct DeadlinesParams {
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
    format: Option<String>,
}

impl IntoParams for DeadlinesParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query_param("from", true, "The first date, `YYYY-MM-DD`.", date_schema()),
            query_param(
                "to",
                true,
                "The last date, `YYYY-MM-DD`, not before `from` (else 400).",
                date_schema(),
            ),
            query_param("as_of", false, AS_OF_DOC, as_of_schema()),
            query_param("format", false, FORMAT_DOC, format_schema()),
        ]
    }
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
        RenderedReport,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_formats_are_the_ones_the_parser_takes() {
        let schema = serde_json::to_value(format_schema()).expect("serialises");
        let names: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(names, ["json", "csv", "md", "html"]);
        for name in names {
            assert!(query::parse_format(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_required_parameter_is_documented_as_required() {
        let params = DeadlinesParams::into_params(|| None);
        let required: Vec<&str> = params
            .iter()
            .filter(|p| matches!(p.required, Required::True))
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(required, ["from", "to"]);
    }
}
