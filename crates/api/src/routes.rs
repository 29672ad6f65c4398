//! The routes under `/v1`, and the OpenAPI document generated from them: every route is
//! registered through `utoipa_axum::routes!`, so a route without its `#[utoipa::path]` does not
//! compile, and `/openapi.json` lists exactly what is served.

use std::sync::Arc;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::AppState;
use crate::{decisions, health, log, reports, webhooks};

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "verkstall",
        description = "The record of a municipality's ej verkställda beslut (SoL, LSS): append \
                       events, read decisions, reports and the log. Errors are \
                       application/problem+json (RFC 9457). Every /v1 route needs \
                       `Authorization: Bearer <token>`; each says which roles may use it.",
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::problem::Problem, crate::problem::FieldProblem)),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The routes with their OpenAPI description.
fn api() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            decisions::append_events,
            decisions::decision_events
        ))
        .routes(routes!(decisions::decision_state))
        .routes(routes!(decisions::dossier))
        .routes(routes!(reports::ivo))
        .routes(routes!(reports::council))
        .routes(routes!(reports::open_cases))
        .routes(routes!(reports::deadlines))
        .routes(routes!(log::events))
        .routes(routes!(log::stream))
        .routes(routes!(log::access_log))
        .routes(routes!(webhooks::register, webhooks::list))
        .routes(routes!(webhooks::get_one, webhooks::delete))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(crate::metrics::metrics))
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut openapi) = api().split_for_parts();
    openapi.paths.paths.insert(
        "/openapi.json".to_owned(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .operation_id(Some("openapi"))
                .summary(Some("This document."))
                .response(
                    "200",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("The OpenAPI document of every route."),
                ),
        ),
    );
    openapi
}

/// The router: every route, the body limit, the request timeout, and the OpenAPI document at
/// `/openapi.json`.
pub fn router(
    state: Arc<AppState>,
    body_bytes_max: usize,
    request_timeout: std::time::Duration,
) -> axum::Router {
    let (router, _) = api().split_for_parts();
    let document = openapi()
        .to_json()
        .expect("the OpenAPI document always serialises");
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], document)
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            crate::timeout::Limits {
                request_timeout,
                body_bytes_max,
            },
            crate::timeout::limit,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::metrics::record,
        ))
        .fallback(|| async {
            crate::problem::ApiError::NotFound(
                "no such route; /openapi.json lists every route".to_owned(),
            )
        })
        .layer(DefaultBodyLimit::max(body_bytes_max))
        .with_state(state)
}

/// A rendered report: JSON, CSV, Markdown or HTML, with its media type.
pub(crate) fn rendered(text: String, format: render::Format) -> Response {
    let media = match format {
        render::Format::Json => "application/json",
        render::Format::Csv => "text/csv; charset=utf-8",
        render::Format::Md => "text/markdown; charset=utf-8",
        render::Format::Html => "text/html; charset=utf-8",
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        text,
    )
        .into_response()
}

/// A JSON body.
pub(crate) fn json(value: &impl serde::Serialize) -> Response {
    Json(value).into_response()
}
