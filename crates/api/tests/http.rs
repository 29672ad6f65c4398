//! The HTTP API over real HTTP on loopback: the server is started in-process on 127.0.0.1:0
//! over a fresh data directory, with a token of every role, and asked as a client would.
//!
//! - every route answers 401 without a token and 403 to a role that may not use it, and lets
//!   each role that may through (the table is written out here, apart from the code's);
//! - an append answers with positions, version and `ETag`; state, events, dossier, reports and
//!   the log read it back at once;
//! - two appenders racing on one stream with the same expected version: exactly one wins;
//! - refusals are `application/problem+json`: a field error names the field (and never the
//!   identity number), a broken rule is 422, a missing expected version 428, an oversized body
//!   413;
//! - the live stream of server-sent events, dropped and resumed from `Last-Event-ID`, delivers
//!   every event once, in order, also those appended while it waits;
//! - each read of personal data leaves an access-log entry (who, role, what, why allowed)
//!   before it is answered; a read of a decision's state leaves none;
//! - a protected person's identity number is masked in every stored event sent to a role
//!   without the grant (all but admin), in a decision's events, the log's pages and its stream;
//! - `/openapi.json` lists every route; `/metrics` counts requests by route template;
//! - a graceful shutdown loses no acknowledged append;
//! - `/healthz` and `/readyz` answer 503 once the store has stopped taking writes (only a
//!   restart helps), and say so without the cause.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use api::auth::{Role, create_token};
use api::{Config, Server};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use store::{EmbeddedStore, EventStore};
use tokio::sync::oneshot;

/// A valid personnummer (the Swedish Tax Agency's own test number).
const PERSON: &str = "19121212-1212";

/// The routes under test: method, path (with `{id}` for a decision) and the roles that may use
/// it. Health, readiness and the OpenAPI document need no token.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("POST", "/v1/decisions/{id}/events", &["registrar", "admin"]),
    (
        "GET",
        "/v1/decisions/{id}",
        &["registrar", "reporter", "auditor", "admin"],
    ),
    (
        "GET",
        "/v1/decisions/{id}/events",
        &["auditor", "integrator", "admin"],
    ),
    (
        "GET",
        "/v1/decisions/{id}/dossier",
        &["reporter", "auditor", "admin"],
    ),
    ("GET", "/v1/reports/ivo", &["reporter", "auditor", "admin"]),
    (
        "GET",
        "/v1/reports/council",
        &["reporter", "auditor", "admin"],
    ),
    ("GET", "/v1/open-cases", &["reporter", "auditor", "admin"]),
    (
        "GET",
        "/v1/deadlines?from=2024-01-01&to=2024-12-31",
        &["reporter", "auditor", "admin"],
    ),
    ("GET", "/v1/events", &["auditor", "integrator", "admin"]),
    (
        "GET",
        "/v1/events/stream",
        &["auditor", "integrator", "admin"],
    ),
    ("GET", "/v1/access-log", &["admin"]),
];

const OPEN_ROUTES: &[&str] = &["/healthz", "/readyz", "/openapi.json", "/metrics"];

/// The webhook routes: their roles, bodies and answers are tested in `tests/webhooks.rs`.
const WEBHOOK_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("GET", "/v1/webhooks/{id}"),
    ("DELETE", "/v1/webhooks/{id}"),
];

/// A running server over a scratch data directory, with one token per role.
struct Running {
    base: String,
    client: Client,
    tokens: Vec<(Role, String)>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), api::ServeError>>>,
    dir: tempfile::TempDir,
}

impl Running {
    async fn start() -> Running {
        Running::start_with(|_| {}).await
    }

    async fn start_with(configure: impl FnOnce(&mut Config)) -> Running {
        Running::start_on(configure, |_| None).await
    }

    /// A server over the store `store` makes in the data directory, else over the embedded
    /// store the server opens itself.
    async fn start_on(
        configure: impl FnOnce(&mut Config),
        store: impl FnOnce(&Path) -> Option<Arc<dyn EventStore>>,
    ) -> Running {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let mut config = Config::new(dir.path().join("data"), addr);
        configure(&mut config);
        let server = match store(&dir.path().join("data")) {
            Some(store) => Server::bind_with(config, store).await,
            None => Server::bind(config).await,
        }
        .expect("the server starts");
        // Tokens created while the server runs are known at once.
        let tokens = Role::ALL
            .into_iter()
            .map(|role| {
                let token = create_token(
                    &dir.path().join("data"),
                    role,
                    &format!("test {role}"),
                    chrono::Utc::now(),
                )
                .expect("a token");
                (role, token)
            })
            .collect();
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Running {
            base,
            client: Client::new(),
            tokens,
            stop: Some(stop),
            task: Some(task),
            dir,
        }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn token(&self, role: Role) -> &str {
        &self
            .tokens
            .iter()
            .find(|(r, _)| *r == role)
            .expect("every role")
            .1
    }

    fn request(&self, method: Method, path: &str, role: Option<Role>) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match role {
            Some(role) => request.bearer_auth(self.token(role)),
            None => request,
        }
    }

    /// GET without a token (the routes that need none).
    async fn get_open(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path, None)
            .send()
            .await
            .expect("the server answers")
    }

    async fn get(&self, path: &str, role: Role) -> reqwest::Response {
        self.request(Method::GET, path, Some(role))
            .send()
            .await
            .expect("the server answers")
    }

    async fn get_json(&self, path: &str, role: Role) -> Value {
        let response = self.get(path, role).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {text}"))
    }

    async fn append(
        &self,
        decision: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .request(
                Method::POST,
                &format!("/v1/decisions/{decision}/events"),
                Some(Role::Registrar),
            )
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(version) = if_match {
            request = request.header("if-match", version);
        }
        request.send().await.expect("the server answers")
    }

    /// Appends the grant of a new decision, which must be stored.
    async fn create(&self, decision: &str) {
        let response = self
            .append(decision, Some("0"), &granted(decision, "2024-01-10"))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    /// Stops the server gracefully and waits for it.
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

fn decision(n: u32) -> String {
    format!("6f1c2d3e-4b5a-4c7d-8e9f-{n:012}")
}

fn granted(decision: &str, on: &str) -> Value {
    json!({
        "type": "DecisionGranted",
        "decision_id": decision,
        "occurred_on": on,
        "actor": "handlaggare.anna",
        "data": {
            "person": {"id": PERSON, "protected": false},
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

/// The body, parsed as JSON.
async fn body_json(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts a problem+json answer with `status`, and returns the problem.
async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let text = response.text().await.expect("a body");
    assert_eq!(got, status, "{text}");
    assert_eq!(media.as_deref(), Some("application/problem+json"), "{text}");
    assert!(
        !text.contains("1212-1212"),
        "an identity number in a problem: {text}"
    );
    let problem: Value = serde_json::from_str(&text).expect("a problem is JSON");
    for field in ["type", "title", "detail"] {
        assert!(problem[field].is_string(), "no {field}: {text}");
    }
    assert_eq!(problem["status"], status.as_u16(), "{text}");
    problem
}

#[tokio::test]
async fn every_route_needs_a_token_and_a_role_that_may_use_it() {
    let mut server = Running::start().await;
    let id = decision(1);
    server.create(&id).await;
    for &(method, path, allowed) in ROUTES {
        let path = path.replace("{id}", &id);
        let method: Method = method.parse().expect("a method");
        let body = order(&id, "2024-01-11").to_string();
        let send = |role: Option<Role>| {
            server
                .request(method.clone(), &path, role)
                .header("if-match", "*")
                .body(body.clone())
                .send()
        };
        problem(send(None).await.expect("answers"), StatusCode::UNAUTHORIZED).await;
        let wrong = server
            .request(method.clone(), &path, None)
            .bearer_auth("vks_not-a-token")
            .send()
            .await
            .expect("answers");
        problem(wrong, StatusCode::UNAUTHORIZED).await;
        for role in Role::ALL {
            let response = send(Some(role)).await.expect("answers");
            if allowed.contains(&role.as_str()) {
                assert!(
                    response.status().is_success(),
                    "{method} {path} as {role}: {}",
                    response.text().await.unwrap_or_default()
                );
            } else {
                let problem = problem(response, StatusCode::FORBIDDEN).await;
                assert!(
                    problem["detail"]
                        .as_str()
                        .expect("text")
                        .contains(role.as_str()),
                    "{problem}"
                );
            }
        }
    }
    for path in OPEN_ROUTES {
        let response = server
            .request(Method::GET, path, None)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn an_append_is_answered_with_its_positions_and_read_back_at_once() {
    let mut server = Running::start().await;
    let id = decision(2);
    let response = server
        .append(
            &id,
            None,
            &json!({"expected_version": 0, "events": [granted(&id, "2024-01-10"), order(&id, "2024-01-12")]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response
            .headers()
            .get("etag")
            .map(|v| v.to_str().expect("ascii")),
        Some("\"2\"")
    );
    let appended: Value = body_json(response).await;
    assert_eq!(appended["version"], 2);
    assert_eq!(appended["duplicate"], false);
    let positions: Vec<u64> = appended["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["position"].as_u64().expect("a position"))
        .collect();
    assert_eq!(positions, [1, 2]);

    // The same request again stores nothing and says so.
    let event_id = appended["events"][0]["event_id"].clone();
    let mut again = granted(&id, "2024-01-10");
    again["event_id"] = event_id;
    let repeated = server.append(&id, Some("*"), &json!([again])).await;
    assert_eq!(repeated.status(), StatusCode::OK);
    assert_eq!(body_json(repeated).await["duplicate"], true);

    let state = server
        .get_json(&format!("/v1/decisions/{id}"), Role::Registrar)
        .await;
    assert_eq!(state["version"], 2);
    assert_eq!(state["status"], "not_executed");
    assert_eq!(state["law"], "LSS");
    assert!(
        !state.to_string().contains(PERSON),
        "the state shows no identity: {state}"
    );

    let stream = server
        .get_json(&format!("/v1/decisions/{id}/events"), Role::Auditor)
        .await;
    assert_eq!(stream["version"], 2);
    assert_eq!(stream["events"].as_array().expect("events").len(), 2);
    assert_eq!(stream["events"][1]["type"], "OrderSent");
    assert!(stream["events"][1]["hash"].is_string());

    let dossier = server
        .get_json(&format!("/v1/decisions/{id}/dossier"), Role::Reporter)
        .await;
    assert_eq!(dossier["decision_id"], id.as_str());
    assert_eq!(dossier["timeline"].as_array().expect("timeline").len(), 2);
    let html = server
        .get(
            &format!("/v1/decisions/{id}/dossier?format=html"),
            Role::Reporter,
        )
        .await;
    assert_eq!(
        html.headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ascii")),
        Some("text/html; charset=utf-8")
    );
    assert!(
        html.text()
            .await
            .expect("text")
            .starts_with("<!DOCTYPE html>")
    );

    let on = "2024-06-30";
    let worklist = server
        .get_json(
            &format!("/v1/reports/ivo?quarter=2024Q2&on={on}"),
            Role::Reporter,
        )
        .await;
    assert_eq!(worklist["quarter"], "2024Q2");
    assert_eq!(worklist["items"][0]["decision_id"], id.as_str());
    assert_eq!(worklist["items"][0]["kind"], "new");
    let council = server
        .get_json("/v1/reports/council?quarter=2024Q2", Role::Reporter)
        .await;
    assert_eq!(council["rows"].as_array().expect("rows").len(), 1);
    let open = server
        .get_json(&format!("/v1/open-cases?on={on}"), Role::Reporter)
        .await;
    assert_eq!(open["items"][0]["decision_id"], id.as_str());
    let deadlines = server
        .get_json(
            "/v1/deadlines?from=2024-01-01&to=2024-12-31",
            Role::Reporter,
        )
        .await;
    assert!(!deadlines["items"].as_array().expect("items").is_empty());
    let csv = server
        .get("/v1/open-cases?on=2024-06-30&format=csv", Role::Reporter)
        .await;
    assert_eq!(
        csv.headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ascii")),
        Some("text/csv; charset=utf-8")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_decision_unknown_as_of_a_moment_is_not_found() {
    let mut server = Running::start().await;
    let id = decision(3);
    server.create(&id).await;
    for path in [
        format!("/v1/decisions/{id}?as_of=2000-01-01"),
        format!("/v1/decisions/{id}/events?as_of=2000-01-01T00:00:00Z"),
        format!("/v1/decisions/{id}/dossier?as_of=2000-01-01"),
        format!("/v1/decisions/{}", decision(99)),
    ] {
        problem(server.get(&path, Role::Admin).await, StatusCode::NOT_FOUND).await;
    }
    problem(
        server.get("/v1/decisions/not-a-uuid", Role::Admin).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        server.get("/v1/no-such-route", Role::Admin).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn of_two_appenders_racing_on_one_stream_exactly_one_wins() {
    let mut server = Running::start().await;
    let id = decision(4);
    server.create(&id).await;
    let (one, other) = (order(&id, "2024-01-11"), order(&id, "2024-01-12"));
    let (first, second) = tokio::join!(
        server.append(&id, Some("\"1\""), &one),
        server.append(&id, Some("\"1\""), &other),
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let loser = if first.status() == StatusCode::CONFLICT {
        first
    } else {
        second
    };
    let problem = problem(loser, StatusCode::CONFLICT).await;
    assert!(
        problem["detail"]
            .as_str()
            .expect("text")
            .contains("version 2"),
        "the detail says where the stream is: {problem}"
    );
    let stream = server
        .get_json(&format!("/v1/decisions/{id}/events"), Role::Admin)
        .await;
    assert_eq!(stream["version"], 2, "one of the two was stored, not both");
    server.stop().await;
}

#[tokio::test]
async fn refusals_are_problems_a_person_can_act_on() {
    let mut server = Running::start_with(|config| config.body_bytes_max = 64 * 1024).await;
    let id = decision(5);

    // A field error names the field and event, and never repeats the identity number.
    let mut wrong = granted(&id, "2024-01-10");
    wrong["data"]["person"]["id"] = json!("19121212-1213");
    let refused = problem(
        server.append(&id, Some("0"), &wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["field"], "data.person.id", "{refused}");
    assert_eq!(refused["event"], 0, "{refused}");

    // Every field problem of a request is listed.
    let mut late = order(&id, "2024-01-11");
    late["decision_id"] = json!(decision(6));
    let listed = problem(
        server
            .append(&id, Some("0"), &json!([wrong, late, {"type": "Nope"}]))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = listed["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("a field"))
        .collect();
    assert_eq!(fields[..2], ["data.person.id", "decision_id"], "{listed}");
    assert_eq!(fields.len(), 3, "{listed}");

    // A broken rule of §6: a stream must begin with DecisionGranted.
    let rule = problem(
        server
            .append(&id, Some("0"), &order(&id, "2024-01-11"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(rule["title"], "The events break a rule", "{rule}");

    // No expected version.
    problem(
        server.append(&id, None, &granted(&id, "2024-01-10")).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    // If-Match that is no version.
    problem(
        server
            .append(&id, Some("\"one\""), &granted(&id, "2024-01-10"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // recorded_at is the store's.
    let mut dated = granted(&id, "2024-01-10");
    dated["recorded_at"] = json!("2024-01-10T10:00:00Z");
    let dated = problem(
        server.append(&id, Some("0"), &dated).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(dated["field"], "recorded_at");
    // Over the body limit.
    let mut large = order(&id, "2024-01-11");
    large["data"]["provider"] = json!("x".repeat(70 * 1024));
    problem(
        server.append(&id, Some("0"), &large).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    // Not JSON.
    let garbage = server
        .request(
            Method::POST,
            &format!("/v1/decisions/{id}/events"),
            Some(Role::Registrar),
        )
        .header("if-match", "0")
        .body("{not json")
        .send()
        .await
        .expect("answers");
    problem(garbage, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Malformed parameters name the parameter.
    for (path, parameter) in [
        ("/v1/reports/ivo?quarter=2024Q5", "quarter"),
        ("/v1/reports/council?as_of=yesterday", "as_of"),
        ("/v1/open-cases?on=2024-02-30", "on"),
        ("/v1/open-cases?format=pdf", "format"),
        ("/v1/deadlines?from=2024-01-01", "to"),
        ("/v1/events?limit=0", "limit"),
    ] {
        let problem = problem(server.get(path, Role::Admin).await, StatusCode::BAD_REQUEST).await;
        assert!(
            problem["detail"]
                .as_str()
                .expect("text")
                .contains(&format!("`{parameter}`")),
            "{path}: {problem}"
        );
    }
    problem(
        server
            .get("/v1/deadlines?from=2024-02-01&to=2024-01-01", Role::Admin)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Nothing of all that was written.
    let log = server.get_json("/v1/events", Role::Admin).await;
    assert_eq!(log["head"], 0, "{log}");
    server.stop().await;
}

#[tokio::test]
async fn the_log_is_read_in_pages_exactly_as_stored() {
    let mut server = Running::start().await;
    let (a, b) = (decision(7), decision(8));
    for id in [&a, &b] {
        server.create(id).await;
    }
    assert_eq!(
        server
            .append(&a, Some("1"), &order(&a, "2024-01-11"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let first = server
        .get_json("/v1/events?limit=2", Role::Integrator)
        .await;
    assert_eq!(
        (first["head"].as_u64(), first["next_after"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(first["events"].as_array().expect("events").len(), 2);
    let rest = server
        .get_json("/v1/events?after=2", Role::Integrator)
        .await;
    assert_eq!(rest["events"].as_array().expect("events").len(), 1);
    assert_eq!(rest["events"][0]["position"], 3);
    let past = server
        .get_json("/v1/events?after=3", Role::Integrator)
        .await;
    assert_eq!(
        (
            past["events"].as_array().map(Vec::len),
            past["next_after"].as_u64()
        ),
        (Some(0), Some(3))
    );

    // Byte for byte as stored: the raw text of each event is the stored line.
    let text = server
        .get("/v1/events", Role::Integrator)
        .await
        .text()
        .await
        .expect("text");
    let store_lines = {
        server.stop().await;
        stored_lines(&server.data())
    };
    for line in &store_lines {
        assert!(text.contains(line.as_str()), "{line} is not in {text}");
    }
    assert_eq!(store_lines.len(), 3);
}

fn stored_lines(data: &Path) -> Vec<String> {
    let store = store::EmbeddedStore::open(data, None, store::system_clock()).expect("reopens");
    store
        .read_lines(0, 100)
        .expect("reads")
        .into_iter()
        .map(|(_, line)| String::from_utf8(line).expect("UTF-8"))
        .collect()
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let mut server = Running::start().await;
    let response = server
        .request(Method::GET, "/openapi.json", None)
        .send()
        .await
        .expect("answers");
    let document: Value = body_json(response).await;
    assert!(
        document["openapi"]
            .as_str()
            .expect("a version")
            .starts_with("3.")
    );
    let listed: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| {
            (
                (*method).to_owned(),
                path.split('?').next().expect("a path").to_owned(),
            )
        })
        .chain(
            OPEN_ROUTES
                .iter()
                .map(|path| ("GET".to_owned(), (*path).to_owned())),
        )
        .chain(
            WEBHOOK_ROUTES
                .iter()
                .map(|(method, path)| ((*method).to_owned(), (*path).to_owned())),
        )
        .collect();
    assert_eq!(listed, served);
    assert_eq!(
        document,
        serde_json::to_value(api::openapi()).expect("serialises")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_graceful_shutdown_keeps_every_acknowledged_append() {
    let mut server = Running::start().await;
    let ids: Vec<String> = (100..120).map(decision).collect();
    let mut appends = tokio::task::JoinSet::new();
    for id in &ids {
        let request = server
            .request(
                Method::POST,
                &format!("/v1/decisions/{id}/events"),
                Some(Role::Registrar),
            )
            .header("if-match", "0")
            .body(granted(id, "2024-01-10").to_string());
        appends.spawn(async move { request.send().await });
    }
    // Stop as soon as the first append is acknowledged, while the others are under way.
    let first = appends
        .join_next()
        .await
        .expect("a task")
        .expect("no panic");
    server.stop().await;
    let mut acknowledged = Vec::new();
    for answer in std::iter::once(first).chain(appends.join_all().await) {
        if let Ok(response) = answer
            && response.status() == StatusCode::CREATED
        {
            let body: Value = body_json(response).await;
            acknowledged.push(body["decision_id"].as_str().expect("an id").to_owned());
        }
    }
    assert!(!acknowledged.is_empty());
    let stored = stored_lines(&server.data()).join("\n");
    for id in &acknowledged {
        assert!(
            stored.contains(id.as_str()),
            "{id} was acknowledged but is not stored"
        );
    }
}

/// Reads server-sent events from `response` until `count` have come; (id, data) each.
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<(u64, Value)> {
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = response
            .chunk()
            .await
            .expect("the stream goes on")
            .expect("the stream does not end");
        text.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim_start().to_owned())
            };
            // Comments (keep-alives) carry no id.
            if let (Some(id), Some(data)) = (field("id:"), field("data:")) {
                let id = id.parse().expect("an id is a position");
                events.push((id, serde_json::from_str(&data).expect("data is an event")));
            }
        }
    }
    events
}

#[tokio::test]
async fn the_event_stream_resumes_after_a_dropped_connection_with_no_gap_or_duplicate() {
    let mut server = Running::start().await;
    let id = decision(9);
    server.create(&id).await;
    let open = |last: Option<u64>| {
        let mut request = server.request(Method::GET, "/v1/events/stream", Some(Role::Integrator));
        if let Some(last) = last {
            request = request.header("last-event-id", last.to_string());
        }
        request.send()
    };
    let mut first = open(None).await.expect("answers");
    assert_eq!(
        first
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ascii")),
        Some("text/event-stream")
    );
    let mut seen = read_events(&mut first, 1).await;
    // Appended while the follower waits at the head.
    assert_eq!(
        server
            .append(&id, Some("1"), &order(&id, "2024-01-11"))
            .await
            .status(),
        StatusCode::CREATED
    );
    seen.extend(read_events(&mut first, 1).await);
    drop(first);
    // Appended while no one follows.
    for (version, day) in [("2", "2024-01-12"), ("3", "2024-01-13")] {
        assert_eq!(
            server
                .append(&id, Some(version), &order(&id, day))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let last = seen.last().expect("two events").0;
    let mut second = open(Some(last)).await.expect("answers");
    seen.extend(read_events(&mut second, 2).await);
    let positions: Vec<u64> = seen.iter().map(|(p, _)| *p).collect();
    assert_eq!(positions, [1, 2, 3, 4], "every event once, in order");
    for (position, event) in &seen {
        assert_eq!(event["position"], *position);
        assert_eq!(event["decision_id"], id.as_str());
    }
    let malformed = server
        .request(Method::GET, "/v1/events/stream", Some(Role::Integrator))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .expect("answers");
    problem(malformed, StatusCode::BAD_REQUEST).await;
    // `second` is still open: the server's shutdown ends it rather than waiting for it.
    server.stop().await;
    let mut rest = Vec::new();
    while let Ok(Some(chunk)) = second.chunk().await {
        rest.extend_from_slice(&chunk);
    }
    assert!(
        !String::from_utf8_lossy(&rest).contains("id:"),
        "no event after the last one"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_show_the_heads() {
    let mut server = Running::start().await;
    let id = decision(10);
    server.create(&id).await;
    server
        .get_json(&format!("/v1/decisions/{id}"), Role::Admin)
        .await;
    let text = metrics(&server).await;
    for line in [
        "verkstall_http_request_duration_seconds_count{route=\"/v1/decisions/{id}/events\",method=\"POST\",status=\"201\"} 1",
        "verkstall_http_request_duration_seconds_count{route=\"/v1/decisions/{id}\",method=\"GET\",status=\"200\"} 1",
        "verkstall_log_head 1",
        "verkstall_projection_head 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    assert!(!text.contains(&id), "no decision id in a label");
    server.stop().await;
}

/// The text of `/metrics`.
async fn metrics(server: &Running) -> String {
    server
        .request(Method::GET, "/metrics", None)
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text")
}

/// The report answers served from those kept and rendered afresh, from `/metrics`.
async fn report_answers(server: &Running) -> (u64, u64) {
    let text = metrics(server).await;
    let count = |source: &str| {
        let prefix = format!("verkstall_report_answers_total{{source=\"{source}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
    };
    (count("kept"), count("rendered"))
}

/// The text of a 200 answer to `path` with `as_of` added.
async fn text_as_of(server: &Running, path: &str, as_of: &str, role: Role) -> String {
    let path = format!("{path}&as_of={}", as_of.replace('+', "%2B"));
    let response = server.get(&path, role).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("a body")
}

/// The decisions of the open cases on 2024-06-30 as of `as_of`.
async fn open_on_june_30(server: &Running, as_of: &str) -> BTreeSet<String> {
    let text = text_as_of(
        server,
        "/v1/open-cases?on=2024-06-30",
        as_of,
        Role::Reporter,
    )
    .await;
    let body: Value = serde_json::from_str(&text).expect("JSON");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["decision_id"].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_kept_report_answer_is_the_one_rendered_afresh_and_never_outlives_its_position() {
    let mut server = Running::start().await;
    let first = decision(20);
    server.create(&first).await;
    // Two moments after every event so far: the same position of the log.
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let moments = [later, later + chrono::Duration::seconds(1)]
        .map(|m| m.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    for (path, role) in [
        ("/v1/open-cases?on=2024-06-30", Role::Reporter),
        ("/v1/reports/ivo?quarter=2024Q2", Role::Auditor),
        ("/v1/reports/council?quarter=2024Q2", Role::Admin),
    ] {
        let before = report_answers(&server).await;
        let rendered = text_as_of(&server, path, &moments[0], role).await;
        let kept = text_as_of(&server, path, &moments[1], role).await;
        assert_eq!(
            report_answers(&server).await,
            (before.0 + 1, before.1 + 1),
            "{path}: the second answer is the kept one"
        );
        // The same answer but for its as_of, and no other byte changed.
        assert_eq!(kept.matches(&moments[1]).count(), 1, "{kept}");
        assert_eq!(kept, rendered.replace(&moments[0], &moments[1]), "{path}");
        let mut expected: Value = serde_json::from_str(&rendered).expect("JSON");
        expected["as_of"] = json!(moments[1]);
        assert_eq!(
            serde_json::from_str::<Value>(&kept).expect("JSON"),
            expected
        );
    }

    // An append moves the position: the next answer has it, though asked the same way.
    assert_eq!(
        open_on_june_30(&server, &moments[1]).await,
        BTreeSet::from([first.clone()])
    );
    let second = decision(21);
    server.create(&second).await;
    assert_eq!(
        open_on_june_30(&server, &moments[1]).await,
        BTreeSet::from([first, second])
    );
    server.stop().await;
}

/// The state of `decision` as of `as_of`: its text and `ETag`.
async fn state_as_of(server: &Running, decision: &str, as_of: &str) -> (String, String) {
    let path = format!(
        "/v1/decisions/{decision}?as_of={}",
        as_of.replace('+', "%2B")
    );
    text_and_etag(server, &path, Role::Registrar).await
}

/// The text and `ETag` of a 200 answer to `path`, asked as `role`.
async fn text_and_etag(server: &Running, path: &str, role: Role) -> (String, String) {
    let response = server.get(path, role).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .expect("an ETag");
    (response.text().await.expect("a body"), etag)
}

/// Records `previous`, then `replacing`, granted to replace it; returns two moments a second
/// apart, after both (tomorrow).
async fn replacing_decision(server: &Running, previous: &str, replacing: &str) -> [String; 2] {
    server.create(previous).await;
    let mut grant = granted(replacing, "2024-02-01");
    grant["data"]["replaces"] = json!(previous);
    let response = server.append(replacing, Some("0"), &grant).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    [later, later + chrono::Duration::seconds(1)]
        .map(|m| m.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// Records `decision`, at version 1, as executed.
async fn execute(server: &Running, decision: &str) {
    let executed = json!({
        "type": "Verkställd",
        "decision_id": decision,
        "occurred_on": "2024-01-20",
        "data": {},
    });
    let response = server.append(decision, Some("1"), &executed).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_kept_decision_state_is_the_one_rendered_afresh_and_follows_its_facts() {
    let mut server = Running::start().await;
    let (previous, replacing) = (decision(30), decision(31));
    let moments = replacing_decision(&server, &previous, &replacing).await;

    let before = report_answers(&server).await;
    let (rendered, _) = state_as_of(&server, &replacing, &moments[0]).await;
    let (kept, etag) = state_as_of(&server, &replacing, &moments[1]).await;
    assert_eq!(
        report_answers(&server).await,
        (before.0 + 1, before.1 + 1),
        "the second state is the kept one"
    );
    assert_eq!(etag, "\"1\"");
    assert_eq!(kept, rendered.replace(&moments[0], &moments[1]));
    let state: Value = serde_json::from_str(&kept).expect("JSON");
    assert_eq!(state["previous_not_executed"], true, "{state}");

    // A fact of the decision itself, and one of the decision it replaces, each change it.
    let order = server
        .append(&replacing, Some("1"), &order(&replacing, "2024-02-02"))
        .await;
    assert_eq!(order.status(), StatusCode::CREATED);
    let (text, etag) = state_as_of(&server, &replacing, &moments[1]).await;
    assert_eq!(etag, "\"2\"", "{text}");
    execute(&server, &previous).await;
    let (text, etag) = state_as_of(&server, &replacing, &moments[1]).await;
    assert_eq!(etag, "\"2\"");
    let state: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(state["previous_not_executed"], false, "{state}");
    server.stop().await;
}

/// The JSON dossier of `decision` as of `as_of`.
async fn dossier_as_of(server: &Running, decision: &str, as_of: &str) -> String {
    let path = format!("/v1/decisions/{decision}/dossier?format=json");
    text_as_of(server, &path, as_of, Role::Reporter).await
}

/// The log's last position and its hash.
async fn log_head(server: &Running) -> (u64, String) {
    let page = server
        .get_json("/v1/events?after=0&limit=1000", Role::Integrator)
        .await;
    let last = page["events"]
        .as_array()
        .and_then(|events| events.last())
        .expect("an event");
    let position = last["position"].as_u64().expect("a position");
    (position, last["hash"].as_str().expect("a hash").to_owned())
}

#[tokio::test]
async fn a_kept_dossier_is_the_one_rendered_afresh_with_the_log_point_of_its_moment() {
    let mut server = Running::start().await;
    let (previous, replacing) = (decision(40), decision(41));
    let moments = replacing_decision(&server, &previous, &replacing).await;

    let before = report_answers(&server).await;
    let rendered = dossier_as_of(&server, &replacing, &moments[0]).await;
    let kept = dossier_as_of(&server, &replacing, &moments[1]).await;
    assert_eq!(
        report_answers(&server).await,
        (before.0 + 1, before.1 + 1),
        "the second dossier is the kept one"
    );
    assert_eq!(kept, rendered.replace(&moments[0], &moments[1]));
    let dossier: Value = serde_json::from_str(&kept).expect("JSON");
    let (position, hash) = log_head(&server).await;
    assert_eq!(
        (
            &dossier["chain"]["log_position"],
            &dossier["chain"]["log_hash"]
        ),
        (&json!(position), &json!(hash)),
        "{dossier}"
    );

    // Another decision's append moves the log but not this dossier's facts: the kept text,
    // with the log's new point in its chain.
    server.create(&decision(42)).await;
    let moved = dossier_as_of(&server, &replacing, &moments[1]).await;
    assert_eq!(report_answers(&server).await, (before.0 + 2, before.1 + 1));
    let (position, hash) = log_head(&server).await;
    let mut expected = dossier.clone();
    expected["chain"]["log_position"] = json!(position);
    expected["chain"]["log_hash"] = json!(hash);
    assert_eq!(
        serde_json::from_str::<Value>(&moved).expect("JSON"),
        expected
    );
    assert_ne!(moved, kept);

    // A fact of the decision it replaces changes it: rendered afresh.
    execute(&server, &previous).await;
    let text = dossier_as_of(&server, &replacing, &moments[1]).await;
    assert_eq!(report_answers(&server).await, (before.0 + 2, before.1 + 2));
    let dossier: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        (
            &dossier["decision"]["previous_not_executed"],
            &expected["decision"]["previous_not_executed"]
        ),
        (&json!(false), &json!(true)),
        "{dossier}"
    );
    assert_eq!(
        dossier["chain"]["log_position"],
        json!(log_head(&server).await.0)
    );
    server.stop().await;
}

/// The events of `decision` read by an auditor (as of `as_of`, if given): the text and `ETag`.
async fn events_of(server: &Running, decision: &str, as_of: Option<&str>) -> (String, String) {
    let mut path = format!("/v1/decisions/{decision}/events");
    if let Some(as_of) = as_of {
        path = format!("{path}?as_of={}", as_of.replace('+', "%2B"));
    }
    text_and_etag(server, &path, Role::Auditor).await
}

#[tokio::test]
async fn kept_events_are_the_ones_read_afresh_and_follow_the_stream() {
    let mut server = Running::start().await;
    let id = decision(50);
    server.create(&id).await;
    // Events are kept only while the projection has folded all that is committed (they are
    // read afresh meanwhile, not waited for): a state, which waits for it, first.
    let state = format!("/v1/decisions/{id}");
    server.get_json(&state, Role::Auditor).await;
    let before = report_answers(&server).await;
    let (read, etag) = events_of(&server, &id, None).await;
    let between = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (kept, kept_etag) = events_of(&server, &id, None).await;
    assert_eq!(
        report_answers(&server).await,
        (before.0 + 1, before.1 + 1),
        "the second read is the kept one"
    );
    assert_eq!((&kept, &kept_etag), (&read, &etag));
    assert_eq!(etag, "\"1\"");

    let response = server
        .append(&id, Some("1"), &order(&id, "2024-01-20"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    server.get_json(&state, Role::Auditor).await;
    let after = report_answers(&server).await;
    let (now, now_etag) = events_of(&server, &id, None).await;
    assert_eq!(now_etag, "\"2\"");
    let events: Value = serde_json::from_str(&now).expect("JSON");
    assert_eq!(events["events"][1]["type"], "OrderSent", "{events}");
    assert_eq!(
        report_answers(&server).await,
        (after.0, after.1 + 1),
        "read afresh"
    );
    // As of a moment before the append: the first version, kept.
    let (then, then_etag) = events_of(&server, &id, Some(&between)).await;
    assert_eq!((then, then_etag), (read, etag));
    assert_eq!(report_answers(&server).await, (after.0 + 1, after.1 + 1));
    let unknown = server
        .get(
            &format!("/v1/decisions/{}/events", decision(51)),
            Role::Auditor,
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn every_read_of_personal_data_is_in_the_access_log() {
    let mut server = Running::start().await;
    let id = decision(11);
    server.create(&id).await;
    server
        .get_json(&format!("/v1/decisions/{id}"), Role::Registrar)
        .await;
    server
        .get_json(&format!("/v1/decisions/{id}/events"), Role::Auditor)
        .await;
    server
        .get_json(&format!("/v1/decisions/{id}/dossier"), Role::Reporter)
        .await;
    server.get_json("/v1/events", Role::Integrator).await;
    let log = server.get_json("/v1/access-log", Role::Admin).await;
    let entries: Vec<(String, String, String, String)> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let text = |f: &str| e[f].as_str().expect("text").to_owned();
            assert!(e["at"].is_string(), "{e}");
            (text("who"), text("role"), text("what"), text("allowed_by"))
        })
        .collect();
    let entry = |who: &str, role: &str, what: String, allowed: &str| {
        (who.to_owned(), role.to_owned(), what, allowed.to_owned())
    };
    assert_eq!(
        entries,
        [
            entry(
                "test auditor",
                "auditor",
                format!("decision {id} events"),
                "role auditor may read_stream"
            ),
            entry(
                "test reporter",
                "reporter",
                format!("decision {id} dossier"),
                "role reporter may read_reports"
            ),
            entry(
                "test integrator",
                "integrator",
                "log 1–1".to_owned(),
                "role integrator may read_log"
            ),
        ]
    );
    assert!(!log.to_string().contains(PERSON));
    server.stop().await;
}

#[tokio::test]
async fn a_protected_identity_is_masked_for_every_role_without_the_grant() {
    let mut server = Running::start().await;
    let id = decision(12);
    let mut protected = granted(&id, "2024-01-10");
    protected["data"]["person"]["protected"] = json!(true);
    assert_eq!(
        server.append(&id, Some("0"), &protected).await.status(),
        StatusCode::CREATED
    );
    let person = |event: &Value| event["data"]["person"]["id"].clone();
    for role in [Role::Auditor, Role::Integrator] {
        let stream = server
            .get_json(&format!("/v1/decisions/{id}/events"), role)
            .await;
        assert_eq!(
            person(&stream["events"][0]),
            Value::Null,
            "{role}: {stream}"
        );
        assert_eq!(stream["events"][0]["data"]["person"]["protected"], true);
        let page = server.get_json("/v1/events", role).await;
        assert_eq!(person(&page["events"][0]), Value::Null, "{role}: {page}");
        let mut live = server
            .request(Method::GET, "/v1/events/stream", Some(role))
            .send()
            .await
            .expect("answers");
        let (_, event) = read_events(&mut live, 1).await.remove(0);
        assert_eq!(person(&event), Value::Null, "{role}: {event}");
    }
    let stream = server
        .get_json(&format!("/v1/decisions/{id}/events"), Role::Admin)
        .await;
    assert_eq!(
        person(&stream["events"][0]),
        PERSON,
        "the admin holds the grant"
    );
    server.stop().await;
}

/// A store that answers as the embedded store under it, except that it can be told it has
/// stopped taking writes: what a full disk does to the embedded store's writer
/// (`tests/it/disk_full.rs` shows the embedded store saying so itself).
struct Stoppable {
    inner: EmbeddedStore,
    stopped: Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl EventStore for Stoppable {
    async fn append(
        &self,
        decision_id: domain::DecisionId,
        expected: store::ExpectedVersion,
        events: Vec<domain::NewEvent>,
    ) -> Result<Result<store::Appended, store::Refusal>, store::StoreError> {
        self.inner.append(decision_id, expected, events).await
    }

    async fn import(
        &self,
        events: Vec<domain::NewEvent>,
        options: store::ImportOptions,
    ) -> Result<Result<store::Imported, store::Refusal>, store::StoreError> {
        self.inner.import(events, options).await
    }

    async fn read_stream(
        &self,
        decision_id: domain::DecisionId,
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<domain::RecordedEvent>, store::StoreError> {
        self.inner.read_stream(decision_id, as_of).await
    }

    async fn read_all(
        &self,
        after: u64,
        limit: usize,
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<domain::RecordedEvent>, store::StoreError> {
        self.inner.read_all(after, limit, as_of).await
    }

    async fn read_stored_lines(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, store::StoreError> {
        self.inner.read_stored_lines(after, limit).await
    }

    async fn position_as_of(
        &self,
        as_of: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, store::StoreError> {
        self.inner.position_as_of(as_of).await
    }

    async fn head(&self) -> Result<store::Head, store::StoreError> {
        self.inner.head().await
    }

    fn watch_head(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.watch_head()
    }

    async fn checkpoint(&self, subscriber: &str) -> Result<u64, store::StoreError> {
        self.inner.checkpoint(subscriber).await
    }

    async fn save_checkpoint(
        &self,
        subscriber: &str,
        position: u64,
    ) -> Result<(), store::StoreError> {
        self.inner.save_checkpoint(subscriber, position).await
    }

    fn stopped(&self) -> Option<String> {
        self.stopped.lock().expect("not poisoned").clone()
    }
}

#[tokio::test]
async fn health_and_readiness_fail_once_the_store_has_stopped_taking_writes() {
    let stoppable: Arc<Mutex<Option<Arc<Stoppable>>>> = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&stoppable);
    let mut server = Running::start_on(
        |_| {},
        move |data| {
            let inner =
                EmbeddedStore::open(data, None, store::system_clock()).expect("the store opens");
            let store = Arc::new(Stoppable {
                inner,
                stopped: Mutex::new(None),
            });
            *keep.lock().expect("not poisoned") = Some(Arc::clone(&store));
            Some(store as Arc<dyn EventStore>)
        },
    )
    .await;
    let store = stoppable
        .lock()
        .expect("not poisoned")
        .clone()
        .expect("the store was made");
    server.create(&decision(1)).await;
    for route in ["/healthz", "/readyz"] {
        let response = server.get_open(route).await;
        assert_eq!(response.status(), StatusCode::OK, "{route} before");
    }
    let exposed = metrics(&server).await;
    assert!(
        exposed.lines().any(|l| l == "verkstall_restart_needed 0"),
        "{exposed}"
    );

    let cause = "redb store at /srv/verkstall/log: No space left on device (os error 28)";
    *store.stopped.lock().expect("not poisoned") = Some(cause.to_owned());
    for route in ["/healthz", "/readyz"] {
        let response = server.get_open(route).await;
        let problem = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        let detail = problem["detail"].as_str().expect("a detail");
        assert!(
            detail.contains("stopped taking writes") && detail.contains("start the server again"),
            "{route}: {detail}"
        );
        assert!(
            !detail.contains("/srv/verkstall"),
            "{route} needs no token and shows no path: {detail}"
        );
    }
    let exposed = metrics(&server).await;
    assert!(
        exposed.lines().any(|l| l == "verkstall_restart_needed 1"),
        "{exposed}"
    );
    server.stop().await;
}
