//! Prometheus metrics at `/metrics` (text exposition format 0.0.4): a latency histogram of every
//! request by route template, method and status, and gauges of the log's head and the
//! projection's. Route templates (`/v1/decisions/{id}`), never paths: no decision id, and no
//! identity, ever reaches a label.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::AppState;

/// The histogram's upper bounds, in seconds.
pub const BUCKETS_SECONDS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Requests observed, by route, method and status (nested, so that a request already seen
/// is counted without allocating its labels).
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<String, ByMethod>>,
}

/// A route's series, by method and status.
type ByMethod = BTreeMap<String, BTreeMap<u16, Series>>;

#[derive(Debug, Default, Clone)]
struct Series {
    /// Requests at or below each bound (cumulative when written out).
    buckets: [u64; BUCKETS_SECONDS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Metrics {
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !series.contains_key(route) {
            series.insert(route.to_owned(), BTreeMap::new());
        }
        let by_method = series.get_mut(route).expect("inserted above");
        if !by_method.contains_key(method) {
            by_method.insert(method.to_owned(), BTreeMap::new());
        }
        let entry = by_method
            .get_mut(method)
            .expect("inserted above")
            .entry(status)
            .or_default();
        if let Some(bucket) = BUCKETS_SECONDS.iter().position(|&b| seconds <= b) {
            entry.buckets[bucket] += 1;
        }
        entry.count += 1;
        entry.sum_seconds += seconds;
    }

    /// The exposition text, with the log's and the projection's heads and the report answers,
    /// decision states, dossiers and decision events served from those kept and rendered afresh.
    pub fn render(
        &self,
        log_head: u64,
        projection_head: u64,
        answers: (u64, u64),
        restart_needed: bool,
    ) -> String {
        let mut text = String::new();
        let name = "verkstall_http_request_duration_seconds";
        let _ = writeln!(
            text,
            "# HELP {name} Time to answer a request, by route, method and status."
        );
        let _ = writeln!(text, "# TYPE {name} histogram");
        let series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let flat = series.iter().flat_map(|(route, by_method)| {
            by_method.iter().flat_map(move |(method, by_status)| {
                by_status
                    .iter()
                    .map(move |(status, s)| (route, method, status, s))
            })
        });
        for (route, method, status, s) in flat {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            let mut cumulative = 0;
            for (bound, n) in BUCKETS_SECONDS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    text,
                    "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(text, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(text, "{name}_sum{{{labels}}} {}", s.sum_seconds);
            let _ = writeln!(text, "{name}_count{{{labels}}} {}", s.count);
        }
        for (gauge, help, value) in [
            (
                "verkstall_log_head",
                "The last committed position of the log.",
                log_head,
            ),
            (
                "verkstall_projection_head",
                "The last position the projections have folded.",
                projection_head,
            ),
            (
                "verkstall_restart_needed",
                "1 once only starting the server again helps: the store has stopped taking \
                 writes, or the access log cannot be written (see /healthz and the server's log).",
                u64::from(restart_needed),
            ),
        ] {
            let _ = writeln!(text, "# HELP {gauge} {help}");
            let _ = writeln!(text, "# TYPE {gauge} gauge");
            let _ = writeln!(text, "{gauge} {value}");
        }
        let counter = "verkstall_report_answers_total";
        let _ = writeln!(
            text,
            "# HELP {counter} Report answers, decision states, dossiers and decision events in \
             JSON, served from those kept (kept) or rendered afresh (rendered)."
        );
        let _ = writeln!(text, "# TYPE {counter} counter");
        let _ = writeln!(text, "{counter}{{source=\"kept\"}} {}", answers.0);
        let _ = writeln!(text, "{counter}{{source=\"rendered\"}} {}", answers.1);
        text
    }
}

/// Middleware: times each routed request and counts it under its route template.
pub(crate) async fn record(
    State(state): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(
        matched.as_ref().map_or("unmatched", MatchedPath::as_str),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Prometheus metrics: request latencies by route, method and status; the heads of the log and
/// the projections; whether only a restart helps. No token: they hold no personal data.
#[utoipa::path(
    get,
    path = "/metrics",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4.", body = String, content_type = "text/plain; version=0.0.4")),
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let text = state.metrics.render(
        *state.store.watch_head().borrow(),
        *state.projected.borrow(),
        state.answers.counts(),
        crate::health::broken(&state).is_some(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_counts_every_request() {
        let metrics = Metrics::default();
        metrics.observe("/v1/events", "GET", 200, 0.0005);
        metrics.observe("/v1/events", "GET", 200, 0.02);
        metrics.observe("/v1/events", "GET", 200, 7.0);
        metrics.observe("/v1/events", "GET", 401, 0.0001);
        metrics.observe("/v1/decisions/{id}/events", "POST", 201, 0.003);
        metrics.observe("/v1/decisions/{id}/events", "GET", 200, 0.003);
        metrics.observe("/v1/decisions/{id}/events", "GET", 200, 0.003);
        let text = metrics.render(5, 4, (2, 1), true);
        let series = "route=\"/v1/events\",method=\"GET\",status=\"200\"";
        for line in [
            format!("verkstall_http_request_duration_seconds_bucket{{{series},le=\"0.001\"}} 1"),
            format!("verkstall_http_request_duration_seconds_bucket{{{series},le=\"0.025\"}} 2"),
            format!("verkstall_http_request_duration_seconds_bucket{{{series},le=\"1\"}} 2"),
            format!("verkstall_http_request_duration_seconds_bucket{{{series},le=\"+Inf\"}} 3"),
            format!("verkstall_http_request_duration_seconds_count{{{series}}} 3"),
            "verkstall_http_request_duration_seconds_count{route=\"/v1/events\",method=\"GET\",status=\"401\"} 1".to_owned(),
            "verkstall_http_request_duration_seconds_count{route=\"/v1/decisions/{id}/events\",method=\"POST\",status=\"201\"} 1".to_owned(),
            "verkstall_http_request_duration_seconds_count{route=\"/v1/decisions/{id}/events\",method=\"GET\",status=\"200\"} 2".to_owned(),
            "verkstall_log_head 5".to_owned(),
            "verkstall_projection_head 4".to_owned(),
            "verkstall_restart_needed 1".to_owned(),
            "verkstall_report_answers_total{source=\"kept\"} 2".to_owned(),
            "verkstall_report_answers_total{source=\"rendered\"} 1".to_owned(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
