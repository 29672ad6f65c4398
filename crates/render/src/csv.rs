//! CSV as RFC 4180 has it: comma-separated fields, CRLF after every record (the header
//! included), and a field quoted — with its quotes doubled — when it holds a comma, a quote or a
//! line break. Text is UTF-8 without a byte-order mark.

use chrono::NaiveDate;
use serde::Serialize;

/// The end of every record (RFC 4180 §2.1).
const RECORD_END: &str = "\r\n";
/// What joins the values of a list inside one field.
pub(crate) const LIST_SEPARATOR: &str = ";";

/// Quotes a CSV field when it needs it (RFC 4180 §2.6–2.7), and writes a cell that would start a
/// spreadsheet formula (`=`, `+`, `-`, `@`, tab, CR) as text, with a leading apostrophe.
///
/// ```
/// assert_eq!(render::csv_field("9§4"), "9§4");
/// assert_eq!(render::csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
/// ```
pub fn csv_field(text: &str) -> String {
    // A spreadsheet runs a cell that starts like a formula; free texts (notes, actors) reach
    // this file, so such a cell is written as text, with a leading apostrophe (OWASP's advice).
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// A CSV text under construction.
#[derive(Debug)]
pub(crate) struct Csv {
    out: String,
    columns: usize,
}

impl Csv {
    /// A CSV text starting with its header row.
    pub fn new(header: &[&str]) -> Csv {
        let mut csv = Csv {
            out: String::new(),
            columns: header.len(),
        };
        csv.record(header.iter().map(|h| (*h).to_owned()).collect());
        csv
    }

    /// Adds a record; fields are quoted here.
    pub fn record(&mut self, fields: Vec<String>) {
        debug_assert_eq!(fields.len(), self.columns, "one field per column");
        let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        self.out.push_str(&fields.join(","));
        self.out.push_str(RECORD_END);
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A date as `YYYY-MM-DD`, or an empty field for none.
pub(crate) fn date(value: Option<NaiveDate>) -> String {
    value.map(|d| d.to_string()).unwrap_or_default()
}

/// A list of values joined with [`LIST_SEPARATOR`].
pub(crate) fn list<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(LIST_SEPARATOR)
}

/// A value's code as its JSON has it (for types that serialise as a string and have no `as_str`).
pub(crate) fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        other => unreachable!("a code serialises as a string, not {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(
            csv_field("Svårighet att rekrytera"),
            "Svårighet att rekrytera"
        );
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("säg \"nej\""), "\"säg \"\"nej\"\"\"");
        assert_eq!(csv_field("rad\nrad"), "\"rad\nrad\"");
        // Formula-like cells are written as text; a hyphen inside a cell is left alone.
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+46 8 123"), "'+46 8 123");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@anna"), "'@anna");
        assert_eq!(csv_field("2023-03-08"), "2023-03-08");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn records_end_in_crlf_and_dates_may_be_empty() {
        let mut csv = Csv::new(&["a", "b", "c"]);
        csv.record(vec![date(None), list(&["x", "y"]), "1,2".to_owned()]);
        assert_eq!(csv.finish(), "a,b,c\r\n,x;y,\"1,2\"\r\n");
    }
}
