//! verkstall's report rendering: pure functions from a projection to text.
//!
//! - **JSON** is the contract (spec §8): exactly the projection's serde output, pretty-printed,
//!   with a final newline. Nothing is reshaped here.
//! - **CSV** (RFC 4180: comma-separated, CRLF line ends, quoted when needed, UTF-8) has a header
//!   row of the JSON field names and one row per item; codes as in the JSON, lists joined with
//!   `;`, dates `YYYY-MM-DD`, an empty field for `null`.
//! - **Markdown** and **HTML** are for people, in Swedish. Both are drawn from one small document
//!   model (the private `doc` module), so they always say the same thing. The HTML is one self-contained document
//!   (inline CSS with print rules, no script, no outside resource) and escapes every text that
//!   comes from data.
//!
//! Every function here is pure: the same report gives the same bytes. No I/O, no clock, no
//! environment. Reports render what the projections computed; they never recompute a rule of
//! spec §6. The only identity number ever shown is the dossier's person id, as the dossier gives
//! it (a protected person's comes masked as `None`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

mod council;
mod csv;
mod deadlines;
mod doc;
mod dossier;
mod html;
mod markdown;
mod open_cases;
mod swedish;
#[cfg(test)]
mod testing;
mod worklist;

pub use csv::csv_field;
pub use html::escape;

/// An output format (`--format`): JSON is the contract; CSV, Markdown and HTML are for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON, the contract (spec §8).
    Json,
    /// Comma-separated values (RFC 4180), for spreadsheets.
    Csv,
    /// Markdown, in Swedish, to read or paste.
    Md,
    /// A self-contained HTML document, in Swedish, to read or print.
    Html,
}

impl Format {
    /// Every format, in the order they are listed to users.
    pub const ALL: [Format; 4] = [Format::Json, Format::Csv, Format::Md, Format::Html];

    /// The name on the command line: `json`, `csv`, `md` or `html`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Md => "md",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no format. It does not repeat the text (it came from outside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownFormat;

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown format: expected json, csv, md or html")
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `json`, `csv`, `md` or `html`, in any case.
    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(text))
            .ok_or(UnknownFormat)
    }
}

/// The IVO worklist of a quarter (`verkstall report ivo`).
pub fn ivo_worklist(report: &projections::worklist::Worklist, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => worklist::csv(report),
        Format::Md => markdown::render(&worklist::document(report)),
        Format::Html => html::render(&worklist::document(report)),
    }
}

/// The council's statistics for a quarter (`verkstall report council`).
pub fn council(report: &projections::council::CouncilReport, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => council::csv(report),
        Format::Md => markdown::render(&council::document(report)),
        Format::Html => html::render(&council::document(report)),
    }
}

/// Open cases on a date (`verkstall open-cases`).
pub fn open_cases(report: &projections::open_cases::OpenCases, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => open_cases::csv(report),
        Format::Md => markdown::render(&open_cases::document(report)),
        Format::Html => html::render(&open_cases::document(report)),
    }
}

/// Deadlines falling due between two dates (`verkstall deadlines`).
pub fn deadlines(report: &projections::deadlines::Deadlines, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => deadlines::csv(report),
        Format::Md => markdown::render(&deadlines::document(report)),
        Format::Html => html::render(&deadlines::document(report)),
    }
}

/// One decision's record for a yttrande (`verkstall dossier`). Its CSV is the timeline.
pub fn dossier(report: &projections::dossier::Dossier, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => dossier::csv(report),
        Format::Md => markdown::render(&dossier::document(report)),
        Format::Html => html::render(&dossier::document(report)),
    }
}

/// The contract: the serde output, pretty-printed, with a final newline.
fn json<T: Serialize>(report: &T) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("projections serialise: their maps have string keys and they hold no I/O");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_from_their_names_and_nothing_else() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert_eq!("HTML".parse::<Format>(), Ok(Format::Html));
        assert_eq!("markdown".parse::<Format>(), Err(UnknownFormat));
        assert_eq!("".parse::<Format>(), Err(UnknownFormat));
        assert!(!UnknownFormat.to_string().contains("markdown"));
    }
}
