//! `verkstall serve [--addr HOST:PORT]`: the HTTP API (spec §8, crate `api`), until SIGINT or
//! SIGTERM; then requests under way finish, acknowledged appends included, before it exits.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;

use crate::data::Location;
use crate::exit::CliError;

/// Where `serve` listens unless told otherwise: this machine only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Arguments of `verkstall serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed when listening).
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_ADDR)]
    addr: SocketAddr,
}

/// Runs `verkstall serve`.
pub fn run(args: &ServeArgs, location: &Location, out: &mut dyn Write) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut config = api::Config::new(&location.path, args.addr);
    config.engine = location.engine.map(store::EngineKind::from);
    let mut said = Ok(());
    runtime
        .block_on(api::serve(config, |addr| {
            said = writeln!(
                out,
                "verkstall: serving http://{addr}/v1 (stop with Ctrl-C)"
            )
            .and_then(|()| out.flush());
        }))
        .map_err(anyhow::Error::new)?;
    said?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The command line and the HTTP API answer the same question with the same bytes, and a
    //! token made by `verkstall token create` opens the API.

    use std::path::Path;

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
            let base = format!("http://{}", server.local_addr());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serving = tokio::spawn(server.run(async {
                let _ = stopped.await;
            }));
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
            let _ = stop.send(());
            serving
                .await
                .expect("no panic")
                .expect("the server stops cleanly");
        });
        let access = ok(&data, &["access-log"]);
        assert!(
            access.contains(&format!("decision {DECISION} dossier")) && access.contains("nämnden"),
            "the dossier read is in the access log: {access}"
        );
    }
}
