//! `verkstall token create --role ROLE --name NAME` and `verkstall token list`: the API's
//! tokens. A token is printed once, when it is created; the data directory keeps only its
//! SHA-256 hash (crate `api`, module `auth`). A running server knows a new token at once.
//! `verkstall access-log` prints the API's log of personal-data reads (module `api::access`).

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
            if !data::is_data_dir(&location.path) {
                // A new data directory is created as a writing command creates it; an existing
                // one is not opened (a running server holds its store).
                drop(data::open_for_writing(location)?);
            }
            let token =
                auth::create_token(&location.path, args.role, &args.name, chrono::Utc::now())
                    .map_err(|e| match e {
                        auth::TokenError::Invalid(text) => CliError::Usage(text),
                        other => CliError::Other(anyhow!(other).context("cannot create the token")),
                    })?;
            writeln!(out, "{token}")?;
        }
        TokenCommand::List => {
            if !data::is_data_dir(&location.path) {
                data::open_existing(location)?;
            }
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
/// oldest first.
pub fn run_access_log(location: &Location, out: &mut dyn Write) -> Result<(), CliError> {
    if !data::is_data_dir(&location.path) {
        data::open_existing(location)?;
    }
    let entries = api::access::read_access_log(&location.path)
        .map_err(|e| anyhow!(e).context("cannot read the access log"))?;
    for entry in entries {
        let line = serde_json::to_string(&entry).map_err(|e| anyhow!(e))?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}
