//! How long a request may take.
//!
//! - A read (`GET`, `HEAD`) that has not answered within the request timeout is cut off and
//!   answered `503` with a problem+json document; it changed nothing, so trying again is safe.
//! - A request that changes something (an append, a webhook's registration or removal) is
//!   bounded only while its body arrives: a body that has not fully arrived within the timeout
//!   is answered `408` and nothing is done. Once the body is in, the request runs to its end:
//!   an append handed to the store is answered with what the store did, so an acknowledged
//!   append is never reported as failed (the store's own limits bound how long that takes).
//! - The log's live stream (`/v1/events/stream`) is endless by design and exempt; it ends when
//!   the server shuts down.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::problem::{ApiError, PROBLEM_JSON, Problem};

/// How long a request may take when not configured otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The routes exempt from the timeout: endless responses.
const ENDLESS_ROUTES: &[&str] = &["/v1/events/stream"];

/// The limits the middleware enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a read may take, or a write's body may take to arrive.
    pub request_timeout: Duration,
    /// Bytes of a request body, at most.
    pub body_bytes_max: usize,
}

/// The middleware (module docs).
pub async fn limit(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let endless = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| ENDLESS_ROUTES.contains(&path.as_str()));
    if endless {
        return next.run(request).await;
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError::Unavailable(format!(
                "the answer took longer than {} and was cut off; nothing was changed. Try \
                 again, or ask for less (a shorter page, a narrower report)",
                seconds(limits.request_timeout)
            ))
            .into_response(),
        };
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(limits.request_timeout, read_body(body, limits)).await;
    match read {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => error.into_response(),
        Err(_) => request_timeout(limits.request_timeout),
    }
}

/// The whole body, at most `body_bytes_max` bytes.
async fn read_body(body: Body, limits: Limits) -> Result<Vec<u8>, ApiError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::BadRequest("the body could not be read".to_owned()))?;
        if bytes.len() + chunk.len() > limits.body_bytes_max {
            return Err(ApiError::TooLarge(format!(
                "the body is larger than the server takes ({} bytes); send less at once",
                limits.body_bytes_max
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `408`: the body did not arrive in time (the problem type has no variant of its own in
/// [`ApiError`], which answers for handlers; this is the transport's).
fn request_timeout(timeout: Duration) -> Response {
    let status = StatusCode::REQUEST_TIMEOUT;
    let problem = Problem {
        type_uri: "about:blank".to_owned(),
        title: status
            .canonical_reason()
            .unwrap_or("Request Timeout")
            .to_owned(),
        status: status.as_u16(),
        detail: format!(
            "the request's body did not arrive within {}; nothing was done. Send it again",
            seconds(timeout)
        ),
        event: None,
        field: None,
        errors: Vec::new(),
    };
    let body = serde_json::to_vec(&problem).expect("a problem always serialises");
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const SLOW: Duration = Duration::from_secs(2);
    const LIMIT: Duration = Duration::from_millis(300);

    async fn serve() -> SocketAddr {
        let router = axum::Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(SLOW).await;
                    "late"
                }),
            )
            .route("/fast", get(|| async { "on time" }))
            .route(
                "/v1/events/stream",
                get(|| async {
                    tokio::time::sleep(LIMIT * 2).await;
                    "still streaming"
                }),
            )
            .route(
                "/write",
                post(|body: String| async move {
                    // Handed to the store: it takes longer than the limit, and must answer.
                    tokio::time::sleep(LIMIT * 2).await;
                    (StatusCode::CREATED, body)
                }),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                Limits {
                    request_timeout: LIMIT,
                    body_bytes_max: 100,
                },
                limit,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        addr
    }

    #[tokio::test]
    async fn a_slow_read_is_cut_off_a_write_under_way_and_the_stream_are_not() {
        crate::webhooks::install_tls_provider();
        let addr = serve().await;
        let client = reqwest::Client::new();
        let base = format!("http://{addr}");

        let started = std::time::Instant::now();
        let cut = client
            .get(format!("{base}/slow"))
            .send()
            .await
            .expect("an answer");
        assert!(started.elapsed() < SLOW, "answered only after the handler");
        assert_eq!(cut.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            cut.headers().get("content-type").map(|v| v.as_bytes()),
            Some(PROBLEM_JSON.as_bytes())
        );
        let problem: Problem =
            serde_json::from_str(&cut.text().await.expect("a body")).expect("a problem");
        assert!(problem.detail.contains("0.3 s"), "{}", problem.detail);

        let fast = client.get(format!("{base}/fast")).send().await.expect("ok");
        assert_eq!(fast.text().await.expect("a body"), "on time");

        let stream = client
            .get(format!("{base}/v1/events/stream"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(stream.text().await.expect("a body"), "still streaming");

        let written = client
            .post(format!("{base}/write"))
            .body("kept")
            .send()
            .await
            .expect("an answer");
        assert_eq!(written.status(), StatusCode::CREATED);
        assert_eq!(written.text().await.expect("a body"), "kept");

        let large = client
            .post(format!("{base}/write"))
            .body("x".repeat(101))
            .send()
            .await
            .expect("an answer");
        assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_write_whose_body_does_not_arrive_is_answered_408_and_not_done() {
        let addr = serve().await;
        let mut socket = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        socket
            .write_all(b"POST /write HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nhalf")
            .await
            .expect("sent");
        let mut answer = Vec::new();
        tokio::time::timeout(SLOW * 2, socket.read_to_end(&mut answer))
            .await
            .expect("answered before the client gave up")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(PROBLEM_JSON), "{answer}");
        assert!(!answer.contains("half"), "the write ran: {answer}");
    }
}
