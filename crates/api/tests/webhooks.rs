//! Webhooks, request timeouts and token revocation over real HTTP on loopback: the server runs
//! in-process on 127.0.0.1:0, and so does a receiver (axum) that records every delivery.
//!
//! - a receiver that fails twice, then gets every event once, in order, with valid signatures
//!   (checked here with the HMAC crate, not the server's code); the status shows the error,
//!   then the position; a protected person's number is masked for an integrator; each delivery
//!   leaves an access-log entry;
//! - a restart keeps the registration and resumes from the checkpoint: nothing acknowledged is
//!   delivered again, and what is new arrives;
//! - only integrators and admins may register, list and delete (an integrator sees its own);
//!   a bad URL or position is refused naming the field;
//! - a revoked token is refused by the running server at once, and its webhooks stop;
//! - the live stream outlasts the request timeout; an append whose body stalls is answered 408
//!   and not stored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::auth::{Role, create_token, revoke_token};
use api::{Config, Server};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// A valid personnummer (the Swedish Tax Agency's own test number).
const PERSON: &str = "19121212-1212";
/// How long a test waits for something that should happen at once, at most (a bound, not a
/// timing target: the loops end as soon as it happens).
const PATIENCE: Duration = Duration::from_secs(60);

/// A running server over a data directory that outlives it.
struct Running {
    base: String,
    client: Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), api::ServeError>>>,
}

impl Running {
    async fn start(data: &Path, configure: impl FnOnce(&mut Config)) -> Running {
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let mut config = Config::new(data, addr);
        config.webhooks.retry_initial = Duration::from_millis(100);
        configure(&mut config);
        let server = Server::bind(config).await.expect("the server starts");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Running {
            base,
            client: Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn json(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let mut request = self.request(method.clone(), path, Some(token));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
    }

    /// Appends `events` to `decision`'s stream, which must be stored.
    async fn append(&self, token: &str, decision: &str, events: Value) {
        let response = self
            .request(
                Method::POST,
                &format!("/v1/decisions/{decision}/events"),
                Some(token),
            )
            .header("content-type", "application/json")
            .header("if-match", "*")
            .body(events.to_string())
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The status of a request with no body.
    async fn status(&self, method: Method, path: &str, token: &str) -> StatusCode {
        self.request(method, path, Some(token))
            .send()
            .await
            .expect("the server answers")
            .status()
    }

    /// Polls a webhook's status until `done` holds for it.
    async fn status_until(&self, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let status = self
                .json(Method::GET, &format!("/v1/webhooks/{id}"), token, None)
                .await;
            if done(&status) {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the webhook never got there: {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("the server task does not panic")
                .expect("the server stops cleanly");
        }
    }
}

/// A fresh data directory with one token per role (named after the role).
fn data_dir() -> (tempfile::TempDir, PathBuf, Vec<(Role, String)>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    // A data directory is made by opening a store on it; tokens are made before the server runs.
    drop(store::EmbeddedStore::open(&data, None, store::system_clock()).expect("a data directory"));
    let tokens = Role::ALL
        .into_iter()
        .map(|role| {
            let token =
                create_token(&data, role, role.as_str(), chrono::Utc::now()).expect("a token");
            (role, token)
        })
        .collect();
    (dir, data, tokens)
}

fn token(tokens: &[(Role, String)], role: Role) -> &str {
    &tokens
        .iter()
        .find(|(r, _)| *r == role)
        .expect("every role")
        .1
}

fn decision(n: u32) -> String {
    format!("7a2b3c4d-5e6f-4a1b-8c2d-{n:012}")
}

fn granted(decision: &str, protected: bool) -> Value {
    json!({
        "type": "DecisionGranted",
        "decision_id": decision,
        "occurred_on": "2024-01-10",
        "data": {
            "person": {"id": PERSON, "protected": protected},
            "law": "LSS",
            "insats": "lss_9_10",
        },
    })
}

fn order(decision: &str, on: &str) -> Value {
    json!({
        "type": "OrderSent",
        "decision_id": decision,
        "occurred_on": on,
        "data": {"provider": "Daglig verksamhet Norr"},
    })
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    /// What the receiver answered.
    status: u16,
}

/// A webhook receiver on loopback that fails its first `failures` requests with 500, and
/// holds every later one until its gate is open.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    gate: tokio::sync::watch::Sender<bool>,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        let receiver = Receiver::start_gated(failures).await;
        receiver.open();
        receiver
    }

    async fn start_gated(failures: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let (gate, opened) = tokio::sync::watch::channel(false);
        let arrived = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let kept = Arc::clone(&got);
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let got = Arc::clone(&kept);
                let arrived = Arc::clone(&arrived);
                let mut opened = opened.clone();
                async move {
                    let index = arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let status = if index < failures {
                        AxumStatus::INTERNAL_SERVER_ERROR
                    } else {
                        let _ = opened.wait_for(|open| *open).await;
                        AxumStatus::NO_CONTENT
                    };
                    got.lock().expect("not poisoned").push(Received {
                        headers,
                        body: body.to_vec(),
                        status: status.as_u16(),
                    });
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            gate,
        }
    }

    fn open(&self) {
        self.gate.send_replace(true);
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("not poisoned").clone()
    }

    /// The positions of every event acknowledged with a 2xx, in the order received.
    fn acknowledged(&self) -> Vec<u64> {
        self.received()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(|r| positions(&r.body))
            .collect()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ASCII")
}

fn positions(body: &[u8]) -> Vec<u64> {
    let body: Value = serde_json::from_slice(body).expect("a delivery is JSON");
    body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["position"].as_u64().expect("a position"))
        .collect()
}

/// Checks a delivery as a receiver would, from the documentation: HMAC-SHA256 keyed with the
/// secret over `<timestamp>.<body>`, and the headers against the body.
fn assert_signed(received: &Received, secret: &str, webhook: &str) {
    let timestamp = header(&received.headers, "verkstall-timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    let signature = header(&received.headers, "verkstall-signature");
    let hex = signature
        .strip_prefix("sha256=")
        .unwrap_or_else(|| panic!("not sha256=: {signature}"));
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    mac.verify_slice(&bytes).expect("the signature is valid");
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().expect("seconds");
    assert!(
        (0..300).contains(&age),
        "timestamp {timestamp} is {age} s old"
    );
    assert_eq!(header(&received.headers, "verkstall-webhook-id"), webhook);
    assert_eq!(
        header(&received.headers, "content-type"),
        "application/json"
    );
    let positions = positions(&received.body);
    assert_eq!(
        header(&received.headers, "verkstall-first-position"),
        positions
            .first()
            .expect("a delivery is never empty")
            .to_string()
    );
    assert_eq!(
        header(&received.headers, "verkstall-last-position"),
        positions.last().expect("not empty").to_string()
    );
    let body: Value = serde_json::from_slice(&received.body).expect("JSON");
    assert_eq!(body["webhook_id"], webhook);
    assert_eq!(body["after"], positions[0] - 1);
    assert_eq!(body["next_after"], *positions.last().expect("not empty"));
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_every_event_once_in_order_signed_and_after_a_restart() {
    let (_dir, data, tokens) = data_dir();
    let registrar = token(&tokens, Role::Registrar);
    let integrator = token(&tokens, Role::Integrator);
    let mut server = Running::start(&data, |_| {}).await;
    server
        .append(
            registrar,
            &decision(1),
            json!([
                granted(&decision(1), false),
                order(&decision(1), "2024-01-11")
            ]),
        )
        .await;
    server
        .append(
            registrar,
            &decision(2),
            json!([granted(&decision(2), true)]),
        )
        .await;
    let receiver = Receiver::start_gated(2).await;

    let created = server
        .request(Method::POST, "/v1/webhooks", Some(integrator))
        .header("content-type", "application/json")
        .body(json!({"url": receiver.url, "after": 0}).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created
        .headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .expect("ASCII")
        .to_owned();
    let created: Value =
        serde_json::from_str(&created.text().await.expect("a body")).expect("JSON");
    let id = created["id"].as_str().expect("an id").to_owned();
    let secret = created["secret"].as_str().expect("a secret").to_owned();
    assert_eq!(location, format!("/v1/webhooks/{id}"));
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 64,
        "{secret}"
    );
    assert_eq!(created["created_by"], "integrator");

    // The status shows the receiver's failures (the third attempt waits at the gate), then,
    // once the receiver answers 2xx, the position.
    let failing = server
        .status_until(integrator, &id, |s| s["failures"] == 2)
        .await;
    assert_eq!(failing["position"], 0, "{failing}");
    assert!(
        failing["last_error"]
            .as_str()
            .expect("an error")
            .contains("500"),
        "{failing}"
    );
    assert_eq!(failing["last_status"], 500, "{failing}");
    assert!(failing["last_error_at"].is_string(), "{failing}");
    assert!(failing["attempts"].as_u64() >= Some(2), "{failing}");
    receiver.open();
    let caught_up = server
        .status_until(integrator, &id, |s| s["position"] == 3)
        .await;
    assert_eq!(caught_up["failures"], 0, "{caught_up}");
    assert_eq!(caught_up["head"], 3, "{caught_up}");
    assert_eq!(caught_up["last_status"], 204, "{caught_up}");
    assert!(caught_up["last_delivery_at"].is_string(), "{caught_up}");
    assert!(caught_up["attempts"].as_u64() >= Some(3), "{caught_up}");
    assert!(
        caught_up.get("secret").is_none(),
        "the secret is shown once"
    );

    // Live: events appended now are delivered too.
    server
        .append(
            registrar,
            &decision(1),
            json!([order(&decision(1), "2024-01-12")]),
        )
        .await;
    server
        .status_until(integrator, &id, |s| s["position"] == 4)
        .await;

    let received = receiver.received();
    assert!(received.len() >= 4, "{received:?}");
    assert_eq!(
        received
            .iter()
            .map(|r| r.status)
            .take(3)
            .collect::<Vec<_>>(),
        [500, 500, 204]
    );
    // The failed batch was offered again, unchanged but for its attempt number.
    assert_eq!(positions(&received[0].body), positions(&received[2].body));
    assert_eq!(header(&received[1].headers, "verkstall-attempt"), "2");
    for delivery in &received {
        assert_signed(delivery, &secret, &id);
    }
    assert_eq!(receiver.acknowledged(), [1, 2, 3, 4]);
    // The integrator has no grant for protected persons: the number is masked.
    let text: String = received
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        text.contains(r#""person":{"id":null,"protected":true}"#),
        "{text}"
    );
    assert!(text.contains(PERSON), "an unprotected person is shown");
    // Each delivery was an access to personal data, logged for the token that registered it.
    let access = api::access::read_access_log(&data).expect("the access log");
    assert!(
        access
            .iter()
            .any(|e| e.who == "integrator" && e.what == format!("log 1–3, webhook {id}")),
        "{access:?}"
    );

    // A restart keeps the registration and its position: nothing acknowledged comes again.
    server.stop().await;
    let delivered_before = receiver.received().len();
    let mut server = Running::start(&data, |_| {}).await;
    let after_restart = server
        .json(Method::GET, &format!("/v1/webhooks/{id}"), integrator, None)
        .await;
    assert_eq!(after_restart["position"], 4, "{after_restart}");
    assert_eq!(after_restart["url"], receiver.url.as_str());
    server
        .append(
            registrar,
            &decision(2),
            json!([order(&decision(2), "2024-01-13")]),
        )
        .await;
    server
        .status_until(integrator, &id, |s| s["position"] == 5)
        .await;
    let after = receiver.received();
    for delivery in &after[delivered_before..] {
        assert_signed(delivery, &secret, &id);
    }
    assert_eq!(receiver.acknowledged(), [1, 2, 3, 4, 5]);
    server.stop().await;
}

#[tokio::test]
async fn only_integrators_and_admins_manage_webhooks_and_bad_input_names_the_field() {
    let (_dir, data, tokens) = data_dir();
    let other = create_token(&data, Role::Integrator, "lagret", chrono::Utc::now()).expect("token");
    // Retries far apart: the next one is seen scheduled.
    let mut server = Running::start(&data, |c| {
        c.webhooks.retry_initial = Duration::from_secs(60);
    })
    .await;
    let registrar = token(&tokens, Role::Registrar);
    server
        .append(
            registrar,
            &decision(1),
            json!([granted(&decision(1), false)]),
        )
        .await;
    let receiver = Receiver::start(0).await;
    let failing = Receiver::start(usize::MAX).await;
    let body = json!({"url": receiver.url}).to_string();
    let register = |token: Option<&str>, body: String| {
        server
            .request(Method::POST, "/v1/webhooks", token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let status = register(None, body.clone())
        .await
        .expect("answers")
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for role in [Role::Registrar, Role::Reporter, Role::Auditor] {
        let response = register(Some(token(&tokens, role)), body.clone())
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
        for path in ["/v1/webhooks"] {
            let listed = server
                .request(Method::GET, path, Some(token(&tokens, role)))
                .send()
                .await
                .expect("answers");
            assert_eq!(listed.status(), StatusCode::FORBIDDEN, "{role}");
        }
    }
    let integrator = token(&tokens, Role::Integrator);
    for (body, field) in [
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "ftp://example.org/hook"}), "url"),
        (json!({"after": 0}), "url"),
        (json!({"url": receiver.url, "after": -1}), "after"),
        (json!({"url": receiver.url, "after": 2}), "after"),
        (json!({"url": receiver.url, "start": 0}), "start"),
    ] {
        let response = register(Some(integrator), body.to_string())
            .await
            .expect("answers");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .map(|v| v.as_bytes().to_vec()),
            Some(b"application/problem+json".to_vec())
        );
        let problem: Value =
            serde_json::from_str(&response.text().await.expect("a body")).expect("JSON");
        assert_eq!(problem["field"], field, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .expect("a detail")
                .contains(&format!("`{field}`")),
            "{problem}"
        );
    }

    let mine = server
        .json(
            Method::POST,
            "/v1/webhooks",
            integrator,
            Some(json!({"url": receiver.url, "after": 1})),
        )
        .await;
    let theirs = server
        .json(
            Method::POST,
            "/v1/webhooks",
            &other,
            Some(json!({"url": failing.url})),
        )
        .await;
    let (mine, theirs) = (
        mine["id"].as_str().expect("id").to_owned(),
        theirs["id"].as_str().expect("id").to_owned(),
    );
    let ids = |list: Value| -> Vec<String> {
        list["webhooks"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|w| w["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let listed = server
        .json(Method::GET, "/v1/webhooks", integrator, None)
        .await;
    assert_eq!(ids(listed), std::slice::from_ref(&mine));
    let admin = token(&tokens, Role::Admin);
    let mut all = vec![mine.clone(), theirs.clone()];
    all.sort();
    assert_eq!(
        ids(server.json(Method::GET, "/v1/webhooks", admin, None).await),
        all
    );
    assert_eq!(
        server
            .status(Method::GET, &format!("/v1/webhooks/{theirs}"), integrator)
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .status(
                Method::DELETE,
                &format!("/v1/webhooks/{theirs}"),
                integrator
            )
            .await,
        StatusCode::NOT_FOUND
    );
    let waiting = server
        .status_until(&other, &theirs, |s| s["failures"] == 1)
        .await;
    let (failed, next) = (
        waiting["last_error_at"].as_str().expect("a time"),
        waiting["next_retry_at"]
            .as_str()
            .expect("a retry is scheduled"),
    );
    let wait = chrono::DateTime::parse_from_rfc3339(next).expect("RFC 3339")
        - chrono::DateTime::parse_from_rfc3339(failed).expect("RFC 3339");
    assert!(
        (29..=61).contains(&wait.num_seconds()),
        "60 s back-off, jittered to 30–60 s: {waiting}"
    );

    // The registrations are kept in a file only the server's user may read (it holds secrets).
    let file = std::fs::read_to_string(data.join(api::webhooks::WEBHOOKS_FILE_NAME))
        .expect("the registrations are kept");
    assert!(file.contains(&mine) && file.contains(&theirs), "{file}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join(api::webhooks::WEBHOOKS_FILE_NAME))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the secrets are readable by others: {mode:o}"
        );
    }

    assert_eq!(
        server
            .status(Method::DELETE, &format!("/v1/webhooks/{mine}"), integrator)
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .status(Method::GET, &format!("/v1/webhooks/{mine}"), integrator)
            .await,
        StatusCode::NOT_FOUND
    );
    let file = std::fs::read_to_string(data.join(api::webhooks::WEBHOOKS_FILE_NAME))
        .expect("the registrations are kept");
    assert!(!file.contains(&mine) && file.contains(&theirs), "{file}");
    server.stop().await;
}

#[tokio::test]
async fn an_https_receiver_is_reached_through_tls_and_a_failed_handshake_is_shown_without_the_url()
{
    let (_dir, data, tokens) = data_dir();
    let mut server = Running::start(&data, |_| {}).await;
    server
        .append(
            token(&tokens, Role::Registrar),
            &decision(1),
            json!([granted(&decision(1), false)]),
        )
        .await;
    // The receiver speaks plain HTTP: the TLS handshake fails, and is retried.
    let receiver = Receiver::start(0).await;
    let url = format!(
        "{}?key=private",
        receiver.url.replace("http://", "https://")
    );
    let admin = token(&tokens, Role::Admin);
    let webhook = server
        .json(
            Method::POST,
            "/v1/webhooks",
            admin,
            Some(json!({"url": url})),
        )
        .await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    let failing = server
        .status_until(admin, &id, |s| s["failures"].as_u64() >= Some(1))
        .await;
    let error = failing["last_error"].as_str().expect("an error");
    assert!(
        error.starts_with("cannot connect to the receiver"),
        "{error}"
    );
    assert!(
        !error.contains("private"),
        "the URL is in the error: {error}"
    );
    assert_eq!(failing["position"], 0, "{failing}");
    assert!(failing["last_status"].is_null(), "{failing}");
    assert!(receiver.acknowledged().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_and_its_webhooks_stop() {
    let (_dir, data, tokens) = data_dir();
    let warehouse =
        create_token(&data, Role::Integrator, "lagret", chrono::Utc::now()).expect("token");
    let mut server = Running::start(&data, |_| {}).await;
    let registrar = token(&tokens, Role::Registrar);
    server
        .append(
            registrar,
            &decision(1),
            json!([granted(&decision(1), false)]),
        )
        .await;
    let receiver = Receiver::start(0).await;
    let webhook = server
        .json(
            Method::POST,
            "/v1/webhooks",
            &warehouse,
            Some(json!({"url": receiver.url})),
        )
        .await;
    let id = webhook["id"].as_str().expect("id").to_owned();
    server
        .status_until(&warehouse, &id, |s| s["position"] == 1)
        .await;

    revoke_token(&data, "lagret").expect("revoked");
    let refused = server
        .request(Method::GET, "/v1/events", Some(&warehouse))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let still = server
        .request(
            Method::GET,
            "/v1/events",
            Some(token(&tokens, Role::Integrator)),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(still.status(), StatusCode::OK);

    // Its webhook delivers nothing more, and says why.
    server
        .append(
            registrar,
            &decision(2),
            json!([granted(&decision(2), false)]),
        )
        .await;
    let admin = token(&tokens, Role::Admin);
    let stopped = server
        .status_until(admin, &id, |s| s["failures"].as_u64() >= Some(1))
        .await;
    assert!(
        stopped["last_error"]
            .as_str()
            .expect("an error")
            .contains("revoked"),
        "{stopped}"
    );
    assert_eq!(stopped["position"], 1, "{stopped}");
    assert_eq!(receiver.acknowledged(), [1]);
    server.stop().await;
}

#[tokio::test]
async fn the_live_stream_outlasts_the_request_timeout_and_a_stalled_append_is_not_stored() {
    let (_dir, data, tokens) = data_dir();
    let timeout = Duration::from_millis(300);
    let mut server = Running::start(&data, |c| c.request_timeout = timeout).await;
    let registrar = token(&tokens, Role::Registrar);
    let mut stream = server
        .request(
            Method::GET,
            "/v1/events/stream",
            Some(token(&tokens, Role::Integrator)),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::sleep(timeout * 2).await;
    server
        .append(
            registrar,
            &decision(1),
            json!([granted(&decision(1), false)]),
        )
        .await;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(PATIENCE, stream.chunk())
            .await
            .expect("the event arrives")
            .expect("the stream goes on")
            .expect("the stream does not end");
        text.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
    }
    assert!(text.contains("id: 1") || text.contains("id:1"), "{text}");

    // An append whose body stops half-way: 408, and nothing is stored.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connects");
    let body = granted(&decision(2), false).to_string();
    let head = format!(
        "POST /v1/decisions/{}/events HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {registrar}\r\n\
         content-type: application/json\r\nif-match: *\r\ncontent-length: {}\r\n\r\n",
        decision(2),
        body.len()
    );
    socket.write_all(head.as_bytes()).await.expect("sent");
    socket
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .expect("sent");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, socket.read_to_end(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    let missing = server
        .request(
            Method::GET,
            &format!("/v1/decisions/{}", decision(2)),
            Some(registrar),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    drop(stream);
    server.stop().await;
}
