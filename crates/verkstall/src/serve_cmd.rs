//! `verkstall serve [--addr HOST:PORT]`: the HTTP API (spec §8, crate `api`), until SIGINT or
//! SIGTERM; then requests under way finish, acknowledged appends included, before it exits.
//!
//! With `--store postgres://…` (or `$VERKSTALL_STORE`) it serves the PostgreSQL store; several
//! such servers, each with a data directory of its own (tokens, projection snapshot, access log,
//! node name), serve one log.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use crate::data::Location;
use crate::exit::CliError;
use crate::scheduling::Scheduling;

/// Where `serve` listens unless told otherwise: this machine only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Arguments of `verkstall serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed when listening).
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_ADDR)]
    addr: SocketAddr,
    /// How Linux schedules the server's threads: `batch` (SCHED_BATCH: a thread woken by
    /// another does not preempt the one running, which saves a context switch per hand-over
    /// between the server's threads) or `normal` (SCHED_OTHER). Neither needs a privilege; a
    /// server started at a nice value other than 0 keeps it and its policy, and says so.
    #[arg(long, value_enum, default_value_t = Scheduling::Batch)]
    scheduling: Scheduling,
}

/// Runs `verkstall serve`.
pub fn run(
    args: &ServeArgs,
    location: &Location,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    // Before the runtime and the store start their threads, which take the policy.
    if let Err(e) = args.scheduling.apply() {
        writeln!(
            err,
            "verkstall: warning: cannot run the server's threads as --scheduling {} ({e}); \
             they run as the operating system schedules them",
            args.scheduling.as_str()
        )?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut config = api::Config::new(&location.path, args.addr);
    config.engine = location.engine.map(store::EngineKind::from);
    let server = match &location.store {
        None => runtime.block_on(api::Server::bind(config)),
        Some(store) => {
            let store = crate::data::connect_postgres(&runtime, store)?;
            runtime.block_on(api::Server::bind_with(config, Arc::new(store)))
        }
    }
    .map_err(anyhow::Error::new)?;
    writeln!(
        out,
        "verkstall: serving http://{}/v1 (stop with Ctrl-C)",
        server.local_addr()
    )?;
    out.flush()?;
    runtime
        .block_on(server.run(api::shutdown_signal()))
        .map_err(anyhow::Error::new)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The command line and the HTTP API answer the same question with the same bytes, and a
    //! token made by `verkstall token create` opens the API.

    use std::path::Path;
    use std::sync::Arc;

    use crate::{Console, Exit};

    /// Runs the command line on `data` with `input` on standard input; (exit, stdout, stderr).
    fn verkstall(data: &Path, args: &[&str], input: &[u8]) -> (Exit, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let data = data.to_str().expect("a UTF-8 path");
        let exit = crate::run(
            ["verkstall", "--data", data].iter().chain(args),
            Console {
                input: &mut &input[..],
                out: &mut out,
                err: &mut err,
                progress: false,
            },
        );
        let text = |bytes| String::from_utf8(bytes).expect("UTF-8");
        (exit, text(out), text(err))
    }

    /// A server running in the background.
    struct Serving {
        /// `http://HOST:PORT`.
        base: String,
        stop: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<Result<(), api::ServeError>>,
    }

    impl Serving {
        fn start(server: api::Server) -> Serving {
            let base = format!("http://{}", server.local_addr());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(server.run(async {
                let _ = stopped.await;
            }));
            Serving { base, stop, task }
        }

        /// Stops it, gracefully, and checks that it stopped cleanly.
        async fn stop(self) {
            let _ = self.stop.send(());
            self.task
                .await
                .expect("no panic")
                .expect("the server stops cleanly");
        }
    }

    fn ok(data: &Path, args: &[&str]) -> String {
        let (exit, out, err) = verkstall(data, args, b"");
        assert_eq!(exit, Exit::Done, "{args:?}: {err}");
        out
    }

    const DECISION: &str = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f";

    fn events() -> String {
        [
            format!(
                r#"{{"type":"DecisionGranted","decision_id":"{DECISION}","occurred_on":"2024-01-10","data":{{"person":{{"id":"19121212-1212","protected":false}},"law":"LSS","insats":"lss_9_10"}}}}"#
            ),
            format!(
                r#"{{"type":"OrderSent","decision_id":"{DECISION}","occurred_on":"2024-01-12","data":{{"provider":"Norr"}}}}"#
            ),
        ]
        .join("\n")
    }

    #[test]
    fn a_token_is_made_once_for_a_known_role_and_a_new_name() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let token = ok(
            &data,
            &["token", "create", "--role", "auditor", "--name", "revisorn"],
        );
        assert!(token.trim().starts_with(api::auth::TOKEN_PREFIX), "{token}");
        assert!(
            crate::data::is_data_dir(&data),
            "a new data directory is created"
        );
        let (exit, _, err) = verkstall(
            &data,
            &["token", "create", "--role", "auditor", "--name", "revisorn"],
            b"",
        );
        assert_eq!(exit, Exit::Usage, "{err}");
        let (exit, _, _) = verkstall(
            &data,
            &["token", "create", "--role", "root", "--name", "x"],
            b"",
        );
        assert_eq!(exit, Exit::Usage);
        let listed = ok(&data, &["token", "list"]);
        assert!(listed.contains("auditor\trevisorn"), "{listed}");
        assert!(!listed.contains(token.trim()), "{listed}");
    }

    #[test]
    fn the_command_line_and_the_api_give_the_same_bytes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let (exit, _, err) = verkstall(&data, &["import", "-"], events().as_bytes());
        assert_eq!(exit, Exit::Done, "{err}");
        let as_of = "2100-01-01T00:00:00Z";
        // (command line, HTTP path) pairs asking the same question.
        let questions: Vec<(Vec<&str>, String)> = vec![
            (
                vec!["report", "ivo", "--quarter", "2024Q2", "--as-of", as_of],
                format!("/v1/reports/ivo?quarter=2024Q2&as_of={as_of}"),
            ),
            (
                vec![
                    "report",
                    "council",
                    "--quarter",
                    "2024Q2",
                    "--on",
                    "2024-05-01",
                    "--format",
                    "csv",
                ],
                "/v1/reports/council?quarter=2024Q2&on=2024-05-01&format=csv".to_owned(),
            ),
            (
                vec!["open-cases", "--on", "2024-06-30", "--as-of", "2024-12-31"],
                "/v1/open-cases?on=2024-06-30&as_of=2024-12-31".to_owned(),
            ),
            (
                vec![
                    "deadlines",
                    "--from",
                    "2024-01-01",
                    "--to",
                    "2024-12-31",
                    "--format",
                    "md",
                ],
                "/v1/deadlines?from=2024-01-01&to=2024-12-31&format=md".to_owned(),
            ),
            (
                vec!["dossier", DECISION, "--on", "2024-06-30", "--as-of", as_of],
                format!("/v1/decisions/{DECISION}/dossier?on=2024-06-30&as_of={as_of}"),
            ),
        ];
        let expected: Vec<String> = questions.iter().map(|(args, _)| ok(&data, args)).collect();
        let token = ok(
            &data,
            &["token", "create", "--role", "reporter", "--name", "nämnden"],
        );

        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let addr = "127.0.0.1:0".parse().expect("an address");
            let server = api::Server::bind(api::Config::new(&data, addr))
                .await
                .expect("the server starts");
            let serving = Serving::start(server);
            let base = serving.base.clone();
            let client = reqwest::Client::new();
            for ((args, path), expected) in questions.iter().zip(&expected) {
                let response = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(token.trim())
                    .send()
                    .await
                    .expect("the server answers");
                assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
                let body = response.text().await.expect("a body");
                assert_eq!(&body, expected, "{args:?} and {path} differ");
            }
            serving.stop().await;
        });
        let access = ok(&data, &["access-log"]);
        assert!(
            access.contains(&format!("decision {DECISION} dossier")) && access.contains("nämnden"),
            "the dossier read is in the access log: {access}"
        );
    }

    #[test]
    fn served_over_postgres_the_log_is_read_back_as_stored_and_verifies() {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let database = runtime
            .block_on(store_postgres::ScratchDatabase::create())
            .expect("a scratch database (is PostgreSQL running?)");
        let config = database.config();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("node");
        let token = ok(
            &data,
            &[
                "--store", &config, "token", "create", "--role", "admin", "--name", "drift",
            ],
        );
        assert!(
            data.is_dir() && !crate::data::is_data_dir(&data),
            "a PostgreSQL node's new data directory gets no embedded log"
        );
        let body: Vec<serde_json::Value> = events()
            .lines()
            .map(|line| serde_json::from_str(line).expect("JSON"))
            .collect();
        let (page, state) = runtime.block_on(async {
            let store = store_postgres::PgStore::connect(&config)
                .await
                .expect("connects");
            let addr = "127.0.0.1:0".parse().expect("an address");
            let server = api::Server::bind_with(api::Config::new(&data, addr), Arc::new(store))
                .await
                .expect("the server starts");
            let serving = Serving::start(server);
            let base = serving.base.clone();
            let client = reqwest::Client::new();
            let appended = client
                .post(format!("{base}/v1/decisions/{DECISION}/events"))
                .bearer_auth(token.trim())
                .header("If-Match", "\"0\"")
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&body).expect("JSON"))
                .send()
                .await
                .expect("the server answers");
            assert_eq!(appended.status(), reqwest::StatusCode::CREATED);
            let get = |path: String| {
                let request = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(token.trim());
                async move {
                    let response = request.send().await.expect("the server answers");
                    assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
                    response.text().await.expect("a body")
                }
            };
            // Read at once, through the projection: the append is seen.
            let state = get(format!("/v1/decisions/{DECISION}")).await;
            let page = get("/v1/events".to_owned()).await;
            serving.stop().await;
            (page, state)
        });
        let state: serde_json::Value = serde_json::from_str(&state).expect("JSON");
        assert_eq!(state["version"], 2, "{state}");
        let stored = ok(&data, &["--store", &config, "events"]);
        assert_eq!(stored.lines().count(), 2, "{stored}");
        #[derive(serde::Deserialize)]
        struct Page {
            events: Vec<Box<serde_json::value::RawValue>>,
        }
        let page: Page = serde_json::from_str(&page).expect("a page");
        let served: Vec<&str> = page.events.iter().map(|e| e.get()).collect();
        let stored: Vec<&str> = stored.lines().collect();
        assert_eq!(
            served, stored,
            "the page is the stored lines, byte for byte"
        );
        let verified = ok(&data, &["--store", &config, "verify"]);
        assert!(
            verified.starts_with("verified 2 events in 1 decision"),
            "{verified}"
        );
        assert!(
            data.join("node.id").is_file(),
            "the node's name (crate api's NODE_FILE_NAME) is kept in its data directory"
        );
        let tokens = ok(&data, &["--store", &config, "token", "list"]);
        assert!(tokens.contains("admin\tdrift"), "{tokens}");
        let access = ok(&data, &["--store", &config, "access-log"]);
        assert!(
            access.contains("drift"),
            "the node's access log has the reads made through it: {access}"
        );
        assert!(
            !crate::data::is_data_dir(&data),
            "the node's data directory never got an embedded log"
        );
    }
}
