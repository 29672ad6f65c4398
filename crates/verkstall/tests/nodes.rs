//! Two `verkstall serve --store postgres://…` processes (the real binary) on one database
//! (issue 6, "what it must show"): appends race over HTTP through both, to one stream and to
//! streams of their own, while a subscriber follows the log live (server-sent events) from one
//! of them. Afterwards: every acknowledged event is in the log once, at its position; the
//! positions run 1..=head with no gap; the subscriber saw exactly that, in order, byte for byte
//! what the other node serves as pages; each expected version of the shared stream had exactly
//! one winner, and the others were answered 409; and the log verifies.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use store_postgres::ScratchDatabase;

/// Rounds of the race on the shared stream: each expected version is raced by every racer.
const SHARED_ROUNDS: u64 = 12;
/// Racers per node in each round on the shared stream.
const SHARED_RACERS_PER_NODE: usize = 2;
/// Tasks per node appending to streams of their own.
const OWN_TASKS_PER_NODE: usize = 3;
/// Decisions each such task creates.
const OWN_DECISIONS_PER_TASK: u64 = 4;
/// Appends after the grant on each such decision.
const OWN_APPENDS_PER_DECISION: u64 = 2;
/// The longest the test waits for a node to start or the subscriber to catch up.
const WAIT_MAX: Duration = Duration::from_secs(60);

/// A `verkstall serve` process.
struct Node {
    child: Child,
    base: String,
    token: String,
    stderr: PathBuf,
}

impl Node {
    /// Starts `verkstall serve` on its own data directory `data`, with a new admin token, and
    /// waits until it listens. The store is named by `--store <config>`, or with `by_env` by
    /// `$VERKSTALL_STORE`.
    fn start(data: &Path, config: &str, by_env: bool) -> Node {
        let exe = env!("CARGO_BIN_EXE_verkstall");
        let data_arg = data.to_str().unwrap();
        let on_store = |command: &mut Command| {
            if by_env {
                command.env("VERKSTALL_STORE", config);
            } else {
                command.args(["--store", config]);
            }
        };
        let mut token = Command::new(exe);
        on_store(&mut token);
        let token = token
            .args(["--data", data_arg, "token", "create", "--role", "admin"])
            .args(["--name", "nodes-test"])
            .output()
            .unwrap();
        assert!(token.status.success(), "{token:?}");
        let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
        assert!(
            !data.join(store::ENGINE_FILE_NAME).exists(),
            "a node on PostgreSQL has no embedded log"
        );
        let stderr = data.with_extension("stderr");
        let mut command = Command::new(exe);
        command.args(["--data", data_arg, "serve", "--addr", "127.0.0.1:0"]);
        on_store(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .strip_prefix("verkstall: serving ")
            .and_then(|rest| rest.split_once("/v1"))
            .map(|(base, _)| base.to_owned())
            .unwrap_or_else(|| {
                panic!(
                    "the node did not start: {line:?}; {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            });
        Node {
            child,
            base,
            token,
            stderr,
        }
    }

    /// Asks the node to stop (SIGTERM, a graceful shutdown) and waits for it.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "the node ended with {status}: {}",
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
                return;
            }
            assert!(started.elapsed() < WAIT_MAX, "the node does not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    /// A node left running by a failed test is killed.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn decision(n: u64) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

fn granted(decision: &str) -> Value {
    json!({
        "type": "DecisionGranted",
        "decision_id": decision,
        "occurred_on": "2024-01-10",
        "data": {"person": {"id": "19121212-1212", "protected": false}, "law": "LSS", "insats": "lss_9_10"},
    })
}

fn note(decision: &str, text: &str) -> Value {
    json!({
        "type": "NoteRecorded",
        "decision_id": decision,
        "occurred_on": "2024-02-01",
        "data": {"kind": "contact", "text": text},
    })
}

/// What an append was answered.
enum Answer {
    /// 201: the positions and event ids of the events written.
    Written(Vec<(u64, String)>),
    /// 409.
    Conflict,
}

async fn append(
    client: &reqwest::Client,
    node: (&str, &str),
    decision: &str,
    version: u64,
    event: Value,
) -> Answer {
    let (base, token) = node;
    let response = client
        .post(format!("{base}/v1/decisions/{decision}/events"))
        .bearer_auth(token)
        .header("if-match", format!("\"{version}\""))
        .header("content-type", "application/json")
        .body(event.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    match status {
        StatusCode::CREATED => {
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["version"], version + 1, "{body}");
            Answer::Written(
                body["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            e["position"].as_u64().unwrap(),
                            e["event_id"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect(),
            )
        }
        StatusCode::CONFLICT => Answer::Conflict,
        other => panic!("append to {decision} at version {version}: {other}: {body}"),
    }
}

/// Follows the log from the start as server-sent events until it has seen `last` events (told
/// once the appends are done); returns `(position, stored line)` in the order received.
async fn subscribe(
    client: reqwest::Client,
    node: (String, String),
    mut last: tokio::sync::watch::Receiver<Option<u64>>,
) -> Vec<(u64, String)> {
    let (base, token) = node;
    let mut response = client
        .get(format!("{base}/v1/events/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut seen = Vec::new();
    let mut buffer = String::new();
    loop {
        if let Some(last) = *last.borrow_and_update()
            && seen.len() as u64 >= last
        {
            return seen;
        }
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk.unwrap(),
            _ = last.changed() => continue,
        };
        let Some(chunk) = chunk else {
            panic!("the stream ended after {} events", seen.len());
        };
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let (mut id, mut data) = (None, None);
            for line in message.lines() {
                if let Some(value) = line.strip_prefix("id:") {
                    id = Some(value.trim().parse::<u64>().unwrap());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data = Some(value.strip_prefix(' ').unwrap_or(value).to_owned());
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                seen.push((id, data));
            }
        }
    }
}

#[test]
fn two_nodes_race_on_one_database_and_a_subscriber_sees_every_event_once_in_order() {
    // The HTTP client is built with TLS support (crate api's webhooks), which needs a provider.
    api::webhooks::install_tls_provider();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime
        .block_on(ScratchDatabase::create())
        .unwrap_or_else(|e| panic!("creating a scratch database (is PostgreSQL running?): {e}"));
    let config = database.config();
    let dir = tempfile::tempdir().unwrap();
    let nodes = [
        Node::start(&dir.path().join("node-a"), &config, false),
        Node::start(&dir.path().join("node-b"), &config, true),
    ];
    let ends: Vec<(String, String)> = nodes
        .iter()
        .map(|n| (n.base.clone(), n.token.clone()))
        .collect();
    let shared = decision(0xaaaa);

    let (acks, winners, seen) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let (last_tx, last_rx) = tokio::sync::watch::channel(None);
        let subscriber = tokio::spawn(subscribe(client.clone(), ends[0].clone(), last_rx));
        let end = |i: usize| (ends[i].0.as_str(), ends[i].1.as_str());

        let mut acks: Vec<(u64, String)> = Vec::new();
        let Answer::Written(first) = append(&client, end(1), &shared, 0, granted(&shared)).await
        else {
            panic!("the shared decision could not be created");
        };
        acks.extend(first);

        // Every node's tasks on streams of their own, running through the shared race.
        let mut own = Vec::new();
        for (node, (base, token)) in ends.iter().enumerate() {
            for task in 0..OWN_TASKS_PER_NODE {
                let (client, base, token) = (client.clone(), base.clone(), token.clone());
                own.push(tokio::spawn(async move {
                    let mut acks = Vec::new();
                    for k in 0..OWN_DECISIONS_PER_TASK {
                        let d = decision(((node * 16 + task) as u64) << 16 | k);
                        let node = (base.as_str(), token.as_str());
                        for version in 0..=OWN_APPENDS_PER_DECISION {
                            let event = if version == 0 {
                                granted(&d)
                            } else {
                                note(&d, &format!("samtal {version}"))
                            };
                            match append(&client, node, &d, version, event).await {
                                Answer::Written(written) => acks.extend(written),
                                Answer::Conflict => panic!("a conflict on a stream of its own"),
                            }
                        }
                    }
                    acks
                }));
            }
        }

        // The race on the shared stream: every racer expects the same version.
        let mut winners = BTreeMap::new();
        for version in 1..=SHARED_ROUNDS {
            let racers: Vec<_> = (0..ends.len() * SHARED_RACERS_PER_NODE)
                .map(|racer| {
                    let (client, (base, token)) = (client.clone(), ends[racer % 2].clone());
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let event = note(&shared, &format!("racer {racer} at {version}"));
                        append(&client, (&base, &token), &shared, version, event).await
                    })
                })
                .collect();
            let mut won = Vec::new();
            for racer in racers {
                match racer.await.unwrap() {
                    Answer::Written(written) => won.push(written),
                    Answer::Conflict => {}
                }
            }
            winners.insert(version, won.len());
            acks.extend(won.into_iter().flatten());
        }
        for task in own {
            acks.extend(task.await.unwrap());
        }
        last_tx.send_replace(Some(acks.len() as u64));
        let seen = tokio::time::timeout(WAIT_MAX, subscriber)
            .await
            .expect("the subscriber caught up in time")
            .unwrap();
        (acks, winners, seen)
    });

    // Exactly one winner per expected version.
    for (version, won) in &winners {
        assert_eq!(*won, 1, "expected version {version} had {won} winners");
    }
    // Nothing twice: every acknowledged position and event id once.
    let by_position: HashMap<u64, &str> = acks.iter().map(|(p, id)| (*p, id.as_str())).collect();
    assert_eq!(
        by_position.len(),
        acks.len(),
        "a position acknowledged twice"
    );
    let expected_events = 1
        + SHARED_ROUNDS
        + (2 * OWN_TASKS_PER_NODE) as u64 * OWN_DECISIONS_PER_TASK * (OWN_APPENDS_PER_DECISION + 1);
    assert_eq!(acks.len() as u64, expected_events);
    // No gap: positions 1..=head, each acknowledged.
    let head = acks.len() as u64;
    assert!((1..=head).all(|p| by_position.contains_key(&p)));
    // The subscriber saw exactly 1..=head, in order, each the event acknowledged there.
    let positions: Vec<u64> = seen.iter().map(|(p, _)| *p).collect();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>());
    for (position, line) in &seen {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["position"], *position, "{line}");
        assert_eq!(event["event_id"], by_position[position], "{line}");
    }

    runtime.block_on(async {
        let client = reqwest::Client::new();
        let (base, token) = &ends[1];
        // The other node serves the same bytes as pages.
        let get = |path: String| {
            let request = client.get(format!("{base}{path}")).bearer_auth(token);
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                response.text().await.unwrap()
            }
        };
        let page = get("/v1/events?limit=10000".to_owned()).await;
        #[derive(serde::Deserialize)]
        struct Page {
            events: Vec<Box<serde_json::value::RawValue>>,
        }
        let page: Page = serde_json::from_str(&page).unwrap();
        let served: Vec<&str> = page.events.iter().map(|e| e.get()).collect();
        let streamed: Vec<&str> = seen.iter().map(|(_, line)| line.as_str()).collect();
        assert_eq!(served, streamed, "the nodes serve other bytes");
        // And its projection, fed through the database, has every winner.
        let state = get(format!("/v1/decisions/{shared}")).await;
        let state: Value = serde_json::from_str(&state).unwrap();
        assert_eq!(state["version"], SHARED_ROUNDS + 1, "{state}");
    });
    for node in nodes {
        node.stop();
    }
    let verified = Command::new(env!("CARGO_BIN_EXE_verkstall"))
        .env("VERKSTALL_STORE", &config)
        .arg("verify")
        .output()
        .unwrap();
    assert!(verified.status.success(), "{verified:?}");
    let said = String::from_utf8(verified.stdout).unwrap();
    assert!(
        said.starts_with(&format!("verified {head} events")),
        "{said}"
    );
}
