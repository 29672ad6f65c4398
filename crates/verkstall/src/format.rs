//! Output formats: JSON is the contract; CSV, Markdown and HTML are for people.

use clap::ValueEnum;

/// An output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON, the contract (spec §8).
    Json,
    /// Comma-separated values, for spreadsheets.
    Csv,
    /// Markdown, to read or paste.
    Md,
    /// HTML, to read or print.
    Html,
}

impl From<Format> for render::Format {
    fn from(format: Format) -> render::Format {
        match format {
            Format::Json => render::Format::Json,
            Format::Csv => render::Format::Csv,
            Format::Md => render::Format::Md,
            Format::Html => render::Format::Html,
        }
    }
}

/// The Swedish name of a weekday, lower case as written in running text.
pub fn swedish_weekday(weekday: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match weekday {
        Mon => "måndag",
        Tue => "tisdag",
        Wed => "onsdag",
        Thu => "torsdag",
        Fri => "fredag",
        Sat => "lördag",
        Sun => "söndag",
    }
}

/// A count with its noun, singular or plural: `1 event`, `120 events`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(0, "event", "events"), "0 events");
        assert_eq!(count(1, "event", "events"), "1 event");
        assert_eq!(count(14, "decision", "decisions"), "14 decisions");
    }
}
