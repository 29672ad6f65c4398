//! Reporting quarters: `2023Q2` is April to June 2023 (spec §5).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first year a quarter may be in (the calendar's range).
pub const QUARTER_YEAR_MIN: i32 = calendar::FIRST_YEAR;
/// The last year a quarter may be in (the calendar's range).
pub const QUARTER_YEAR_MAX: i32 = calendar::LAST_YEAR;

/// A calendar quarter: Q1 = Jan–Mar, Q2 = Apr–Jun, Q3 = Jul–Sep, Q4 = Oct–Dec.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    number: u8,
}

/// Why a text is not a quarter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuarterError {
    /// Not of the form `YYYYQn`.
    #[error("expected a quarter such as 2023Q2 (year, `Q`, 1–4)")]
    Format,
    /// The year is outside the calendar.
    #[error("the year must be within {QUARTER_YEAR_MIN}–{QUARTER_YEAR_MAX}")]
    YearOutOfRange,
}

impl Quarter {
    /// The quarter `number` (1–4) of `year`.
    pub fn new(year: i32, number: u8) -> Result<Quarter, QuarterError> {
        if !(1..=4).contains(&number) {
            return Err(QuarterError::Format);
        }
        if !(QUARTER_YEAR_MIN..=QUARTER_YEAR_MAX).contains(&year) {
            return Err(QuarterError::YearOutOfRange);
        }
        Ok(Quarter { year, number })
    }

    /// The quarter a date falls in.
    pub fn containing(date: NaiveDate) -> Quarter {
        Quarter {
            year: date.year(),
            number: (date.month0() / 3 + 1) as u8,
        }
    }

    /// The year.
    pub const fn year(self) -> i32 {
        self.year
    }

    /// The quarter's number, 1–4.
    pub const fn number(self) -> u8 {
        self.number
    }

    /// The first day of the quarter.
    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, u32::from(self.number) * 3 - 2, 1)
            .expect("the first day of a quarter's first month exists")
    }

    /// The last day of the quarter.
    pub fn end(self) -> NaiveDate {
        self.next()
            .start()
            .pred_opt()
            .expect("the day before a quarter starts exists")
    }

    /// The quarter after this one.
    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    /// The quarter before this one.
    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter {
                year: self.year - 1,
                number: 4,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number - 1,
            }
        }
    }

    /// Whether the date falls in this quarter.
    pub fn contains(self, date: NaiveDate) -> bool {
        Quarter::containing(date) == self
    }

    /// When the quarter's report to IVO is due (spec §6): the last day of the month after the
    /// quarter, except Q2, due 31 August.
    pub fn ivo_report_due(self) -> NaiveDate {
        let months_after = if self.number == 2 { 2 } else { 1 };
        let due_month =
            calendar::add_months(self.end(), months_after).expect("within the calendar");
        last_day_of_month(due_month)
    }
}

fn last_day_of_month(date: NaiveDate) -> NaiveDate {
    let first_next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    first_next
        .and_then(|d| d.pred_opt())
        .expect("the last day of a month within the calendar exists")
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.number)
    }
}

impl fmt::Debug for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quarter({self})")
    }
}

impl FromStr for Quarter {
    type Err = QuarterError;

    fn from_str(text: &str) -> Result<Quarter, QuarterError> {
        let bytes = text.as_bytes();
        if bytes.len() != 6 || bytes[4] != b'Q' || !bytes[..4].iter().all(u8::is_ascii_digit) {
            return Err(QuarterError::Format);
        }
        let year: i32 = text[..4].parse().map_err(|_| QuarterError::Format)?;
        let number = match bytes[5] {
            b @ b'1'..=b'4' => b - b'0',
            _ => return Err(QuarterError::Format),
        };
        Quarter::new(year, number)
    }
}

impl Serialize for Quarter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quarter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Quarter, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Quarter {
    fn schema_name() -> Cow<'static, str> {
        "Quarter".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]{4}Q[1-4]$",
            "description": "A calendar quarter, e.g. 2023Q2 (April–June 2023)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn parses_and_prints() {
        let q: Quarter = "2023Q2".parse().expect("valid");
        assert_eq!((q.year(), q.number()), (2023, 2));
        assert_eq!(q.to_string(), "2023Q2");
        assert_eq!((q.start(), q.end()), (date(2023, 4, 1), date(2023, 6, 30)));
        for bad in [
            "2023Q5", "2023Q0", "2023-Q2", "23Q2", "2023q2", "2023Q", "", "1899Q4", "abcdQ1",
        ] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad}");
        }
    }

    #[test]
    fn next_and_previous_cross_years() {
        let q4: Quarter = "2023Q4".parse().expect("valid");
        assert_eq!(q4.next().to_string(), "2024Q1");
        assert_eq!(q4.next().previous(), q4);
        assert_eq!(q4.end(), date(2023, 12, 31));
    }

    #[test]
    fn ivo_report_is_due_the_last_day_of_the_month_after_except_q2() {
        let due = |q: &str| q.parse::<Quarter>().expect("valid").ivo_report_due();
        assert_eq!(due("2023Q1"), date(2023, 4, 30));
        assert_eq!(due("2023Q2"), date(2023, 8, 31));
        assert_eq!(due("2023Q3"), date(2023, 10, 31));
        assert_eq!(due("2023Q4"), date(2024, 1, 31));
    }

    proptest! {
        #[test]
        fn every_date_lies_in_exactly_its_quarter(days in 0i64..100_000) {
            let d = date(1900, 1, 1) + chrono::Duration::days(days);
            let q = Quarter::containing(d);
            prop_assert!(q.start() <= d && d <= q.end());
            prop_assert!(!q.next().contains(d) && !q.previous().contains(d));
            prop_assert_eq!(q.next().start(), q.end().succ_opt().expect("next day"));
            prop_assert_eq!(q.to_string().parse::<Quarter>().expect("round trip"), q);
        }
    }
}
