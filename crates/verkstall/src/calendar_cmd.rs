//! `verkstall calendar --year Y`: the year's non-working weekdays with their Swedish names.

use std::io::Write;

use anyhow::Context;
use chrono::Datelike;
use serde::Serialize;

use crate::exit::CliError;
use render::{csv_field, escape as html_escape};

use crate::format::{Format, swedish_weekday};

/// Arguments of `verkstall calendar`.
#[derive(Debug, clap::Args)]
pub struct CalendarArgs {
    /// The year, 1900–2200.
    #[arg(long)]
    year: i32,
    /// The output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

#[derive(Serialize)]
struct CalendarJson<'a> {
    year: i32,
    non_working_days: Vec<DayJson<'a>>,
}

#[derive(Serialize)]
struct DayJson<'a> {
    date: String,
    name: &'a str,
}

pub fn run(args: &CalendarArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let days = calendar::non_working_weekdays(args.year)
        .map_err(|e| CliError::Usage(format!("--year: {e}")))?;
    let text = match args.format {
        Format::Json => {
            let json = CalendarJson {
                year: args.year,
                non_working_days: days
                    .iter()
                    .map(|d| DayJson {
                        date: d.date.to_string(),
                        name: &d.name,
                    })
                    .collect(),
            };
            let mut text =
                serde_json::to_string_pretty(&json).context("serialising the calendar")?;
            text.push('\n');
            text
        }
        Format::Csv => {
            let mut text = String::from("date,weekday,name\n");
            for d in &days {
                text += &format!(
                    "{},{},{}\n",
                    d.date,
                    swedish_weekday(d.date.weekday()),
                    csv_field(&d.name)
                );
            }
            text
        }
        Format::Md => {
            let mut text = format!(
                "# Arbetsfria vardagar {}\n\nHelgdagar och dagar som i arbetslivet likställs med helgdag \
                 (midsommarafton, julafton, nyårsafton) som infaller måndag–fredag.\n\n\
                 | Datum | Veckodag | Dag |\n|---|---|---|\n",
                args.year
            );
            for d in &days {
                text += &format!(
                    "| {} | {} | {} |\n",
                    d.date,
                    swedish_weekday(d.date.weekday()),
                    d.name
                );
            }
            text += &format!("\n{} arbetsfria vardagar.\n", days.len());
            text
        }
        Format::Html => {
            let mut text = format!(
                "<!DOCTYPE html>\n<html lang=\"sv\">\n<head><meta charset=\"utf-8\"><title>Arbetsfria vardagar {0}</title></head>\n<body>\n<h1>Arbetsfria vardagar {0}</h1>\n<table>\n<thead><tr><th>Datum</th><th>Veckodag</th><th>Dag</th></tr></thead>\n<tbody>\n",
                args.year
            );
            for d in &days {
                text += &format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    d.date,
                    swedish_weekday(d.date.weekday()),
                    html_escape(&d.name)
                );
            }
            text += "</tbody>\n</table>\n</body>\n</html>\n";
            text
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
