//! `verkstall token create --role ROLE --name NAME`, `verkstall token list` and
//! `verkstall token revoke NAME`: the API's tokens. A token is printed once, when it is created;
//! the data directory keeps only its SHA-256 hash (crate `api`, module `auth`). A running server
//! knows a new token at once, and refuses a revoked one from its next request on (its webhooks
//! stop delivering too).
//! `verkstall access-log` prints the API's log of personal-data reads (module `api::access`) and
//! checks its hash chain: a changed, removed or inserted entry fails the command (exit 1), naming
//! the line.

use std::io::Write;

use anyhow::anyhow;
use api::auth::{self, Role};

use crate::data::{self, Location};
use crate::exit::CliError;

/// `verkstall token …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (the only time it is shown).
    Create(CreateArgs),
    /// List the tokens: names, roles, when created (never the tokens).
    List,
    /// Revoke a token: a running server refuses it from its next request on.
    Revoke(RevokeArgs),
}

/// Arguments of `verkstall token revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The token's name, as `verkstall token list` shows it.
    name: String,
}

/// Arguments of `verkstall token create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What it may do: registrar (append), reporter (reports, dossiers, worklists), auditor
    /// (read everything, write nothing), integrator (the log), admin (everything).
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// Who or what it is for (unique), e.g. `ärendesystemet` or `ivo-rapportör anna`.
    #[arg(long)]
    name: String,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// Runs `verkstall token …`.
pub fn run(
    command: &TokenCommand,
    location: &Location,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        TokenCommand::Create(args) => {
            data::prepare_node_dir(location)?;
            let token =
                auth::create_token(&location.path, args.role, &args.name, chrono::Utc::now())
                    .map_err(|e| match e {
                        auth::TokenError::Invalid(text) => CliError::Usage(text),
                        other => CliError::Other(anyhow!(other).context("cannot create the token")),
                    })?;
            writeln!(out, "{token}")?;
        }
        TokenCommand::Revoke(args) => {
            data::existing_node_dir(location)?;
            let revoked = auth::revoke_token(&location.path, &args.name).map_err(|e| match e {
                auth::TokenError::NotFound(text) | auth::TokenError::Invalid(text) => {
                    CliError::Usage(text)
                }
                other => CliError::Other(anyhow!(other).context("cannot revoke the token")),
            })?;
            writeln!(
                out,
                "revoked\t{}\t{}",
                revoked.role,
                domain::redact::redact_identity_like(&revoked.name)
            )?;
        }
        TokenCommand::List => {
            data::existing_node_dir(location)?;
            let tokens = auth::read_tokens(&location.path)
                .map_err(|e| anyhow!(e).context("cannot read the tokens"))?;
            for token in tokens {
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    domain::event::format_instant(&token.created_at),
                    token.role,
                    token.name
                )?;
            }
        }
    }
    Ok(())
}

/// Runs `verkstall access-log`: every read of personal data through the API, as JSON Lines,
/// oldest first, after checking the log's hash chain (a broken chain fails the command, naming
/// the first line that breaks it, and prints nothing).
pub fn run_access_log(location: &Location, out: &mut dyn Write) -> Result<(), CliError> {
    data::existing_node_dir(location)?;
    let check = api::access::verify_access_log(&location.path)
        .map_err(|e| anyhow!(e).context("cannot read the access log"))?;
    if let Some(damage) = check.damage {
        return Err(CliError::Other(anyhow!(
            "the access log is not as it was written: {damage}; the {} entries before it are \
             intact",
            damage.line.saturating_sub(1)
        )));
    }
    let entries = api::access::read_access_log(&location.path)
        .map_err(|e| anyhow!(e).context("cannot read the access log"))?;
    for entry in entries {
        let line = serde_json::to_string(&entry).map_err(|e| anyhow!(e))?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! `verkstall token revoke` against a server that runs on: the token opens the API before,
    //! and is refused after, with no restart.

    use std::path::Path;

    use crate::{Console, Exit};

    fn verkstall(data: &Path, args: &[&str]) -> (Exit, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let data = data.to_str().expect("a UTF-8 path");
        let exit = crate::run(
            ["verkstall", "--data", data].iter().chain(args),
            Console {
                input: &mut &b""[..],
                out: &mut out,
                err: &mut err,
                progress: false,
            },
        );
        let text = |bytes| String::from_utf8(bytes).expect("UTF-8");
        (exit, text(out), text(err))
    }

    #[test]
    fn a_revoked_token_is_refused_by_the_running_server() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let create = |name: &str| {
            let (exit, out, err) = verkstall(
                &data,
                &["token", "create", "--role", "integrator", "--name", name],
            );
            assert_eq!(exit, Exit::Done, "{err}");
            out.trim().to_owned()
        };
        let (warehouse, other) = (create("lagret"), create("arkivet"));
        // One event, so that reading the log is a read of personal data.
        let events = dir.path().join("events.jsonl");
        std::fs::write(
            &events,
            r#"{"type":"DecisionGranted","decision_id":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","occurred_on":"2024-01-10","data":{"person":{"id":"19121212-1212","protected":false},"law":"LSS","insats":"lss_9_10"}}"#,
        )
        .expect("events written");
        let (exit, _, err) = verkstall(&data, &["import", events.to_str().expect("UTF-8")]);
        assert_eq!(exit, Exit::Done, "{err}");

        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let addr = "127.0.0.1:0".parse().expect("an address");
            let server = api::Server::bind(api::Config::new(&data, addr))
                .await
                .expect("the server starts");
            let url = format!("http://{}/v1/events", server.local_addr());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serving = tokio::spawn(server.run(async {
                let _ = stopped.await;
            }));
            let client = reqwest::Client::new();
            let status = |token: String| {
                let request = client.get(&url).bearer_auth(token);
                async move { request.send().await.expect("answers").status() }
            };
            assert_eq!(status(warehouse.clone()).await, reqwest::StatusCode::OK);

            let (exit, out, err) = verkstall(&data, &["token", "revoke", "lagret"]);
            assert_eq!(exit, Exit::Done, "{err}");
            assert_eq!(out, "revoked\tintegrator\tlagret\n");
            assert_eq!(status(warehouse).await, reqwest::StatusCode::UNAUTHORIZED);
            assert_eq!(status(other).await, reqwest::StatusCode::OK);

            let (exit, _, err) = verkstall(&data, &["token", "revoke", "lagret"]);
            assert_eq!(exit, Exit::Usage, "{err}");
            assert!(err.contains("no token named"), "{err}");
            let (_, listed, _) = verkstall(&data, &["token", "list"]);
            assert!(
                !listed.contains("lagret") && listed.contains("arkivet"),
                "{listed}"
            );

            // The page just read is in the access log, whose chain holds until it is edited.
            let (exit, log, err) = verkstall(&data, &["access-log"]);
            assert_eq!(exit, Exit::Done, "{err}");
            assert!(log.contains(r#""who":"lagret""#), "{log}");
            assert!(log.contains(r#""hash":""#), "{log}");
            let path = api::access::access_log_path(&data);
            let text = std::fs::read_to_string(&path).expect("the access log");
            std::fs::write(&path, text.replacen("lagret", "lagrex", 1)).expect("edited");
            let (exit, log, err) = verkstall(&data, &["access-log"]);
            assert_eq!(exit, Exit::Failed, "{log}");
            assert!(err.contains("line 1 of the access log"), "{err}");
            assert!(log.is_empty(), "{log}");

            let _ = stop.send(());
            serving
                .await
                .expect("no panic")
                .expect("the server stops cleanly");
        });
    }
}
