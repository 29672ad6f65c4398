//! Swedish wording shared by the people's formats: statuses, report kinds, sex, dates in the
//! municipal `YYMMDD` form, local times in Stockholm, amounts in kronor with Swedish digit
//! grouping, and small numbers in words.
//!
//! Where a domain or projection type has its own `.swedish()`, that is used instead; this module
//! words only what has no home there. Codes that arrive as strings (the dossier's and the
//! council totals' keys) fall back to the code itself, so an unknown code is shown, not lost.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Stockholm;
use domain::Sex;
use domain::rules::ExecutionStatus;
use projections::council::WaitBand;
use projections::worklist::ItemKind;
use projections::{EpisodeKind, Outcome};

/// Shown for a value that is absent.
pub(crate) const NONE: &str = "–";
/// Shown for an empty section.
pub(crate) const NOTHING_RECORDED: &str = "Inget registrerat.";

/// A status as in running text: `ej verkställt`, `delvis verkställt`, `verkställt`, `avslutat`.
pub(crate) const fn status(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::NotExecuted => "ej verkställt",
        ExecutionStatus::PartiallyExecuted => "delvis verkställt",
        ExecutionStatus::Executed => "verkställt",
        ExecutionStatus::Ended => "avslutat",
    }
}

/// A status given by its code (the dossier carries it as a string).
pub(crate) fn status_code(code: &str) -> &str {
    [
        ExecutionStatus::NotExecuted,
        ExecutionStatus::PartiallyExecuted,
        ExecutionStatus::Executed,
        ExecutionStatus::Ended,
    ]
    .into_iter()
    .find(|s| s.as_str() == code)
    .map_or(code, |s| status(s))
}

/// Every worklist kind, in the order IVO's routine lists them.
pub(crate) const ITEM_KINDS: [ItemKind; 4] = [
    ItemKind::New,
    ItemKind::NewInterruption,
    ItemKind::FollowUp,
    ItemKind::Final,
];

/// What a worklist item is reported as: `Nyrapportering`, …, `Slutrapportering`.
pub(crate) const fn item_kind(kind: ItemKind) -> &'static str {
    kind.report_kind().swedish()
}

/// Every waiting band, shortest first.
pub(crate) const WAIT_BANDS: [WaitBand; 4] = [
    WaitBand::Under3,
    WaitBand::From3To6,
    WaitBand::From6To12,
    WaitBand::Over12,
];

/// `Man` or `Kvinna`.
pub(crate) const fn sex(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "Man",
        Sex::Female => "Kvinna",
    }
}

/// `Man` or `Kvinna` from the code `male` or `female`.
pub(crate) fn sex_code(code: &str) -> &str {
    [Sex::Male, Sex::Female]
        .into_iter()
        .find(|s| s.as_str() == code)
        .map_or(code, |s| sex(s))
}

/// Why an episode opened, as a phrase: `från beslutet` or `efter avbrott`.
pub(crate) const fn episode_kind(kind: EpisodeKind) -> &'static str {
    match kind {
        EpisodeKind::Decision => "väntan från beslutet",
        EpisodeKind::Interruption => "väntan efter avbrott",
    }
}

/// How an episode closed: `verkställt` or `avslutat`.
pub(crate) const fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Executed => "verkställt",
        Outcome::Ended => "avslutat",
    }
}

/// `Ja` or `Nej`.
pub(crate) const fn yes_no(value: bool) -> &'static str {
    if value { "Ja" } else { "Nej" }
}

/// A date as the municipal tables write it: `221208`.
pub(crate) fn yymmdd(date: NaiveDate) -> String {
    date.format("%y%m%d").to_string()
}

/// A date, or [`NONE`].
pub(crate) fn date_or_none(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| NONE.to_owned(), |d| d.to_string())
}

/// A moment as local time in Stockholm: `2023-07-15 10:30`.
pub(crate) fn local_time(instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&Stockholm)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The line every report opens with: which registrations it is drawn from.
pub(crate) fn as_of_line(as_of: DateTime<Utc>) -> String {
    format!(
        "Underlaget avser registreringar t.o.m. {} (svensk tid).",
        local_time(as_of)
    )
}

/// The weekday in lower case, as in running text.
pub(crate) const fn weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "måndag",
        Weekday::Tue => "tisdag",
        Weekday::Wed => "onsdag",
        Weekday::Thu => "torsdag",
        Weekday::Fri => "fredag",
        Weekday::Sat => "lördag",
        Weekday::Sun => "söndag",
    }
}

/// A date with its weekday: `2023-07-03, måndag`.
pub(crate) fn date_with_weekday(date: NaiveDate) -> String {
    format!("{date}, {}", weekday(date.weekday()))
}

/// The quarter's ordinal as in `andra kvartalet`.
pub(crate) fn quarter_ordinal(number: u8) -> &'static str {
    match number {
        1 => "första",
        2 => "andra",
        3 => "tredje",
        _ => "fjärde",
    }
}

/// A count of a neuter noun (`beslut`) in words up to twelve, as Swedish prose writes it, and
/// in digits above.
pub(crate) fn count_neuter(n: usize) -> String {
    const WORDS: [&str; 13] = [
        "inga", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva",
        "tolv",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// A whole number with Swedish digit grouping: `1 234 567`.
pub(crate) fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Largest amount shown in whole kronor; beyond it a value is not a real amount.
const SEK_SHOWN_MAX: f64 = 1e15;

/// An amount in whole kronor: `123 456 kr`.
pub(crate) fn sek(amount: f64) -> String {
    if !amount.is_finite() || amount.abs() >= SEK_SHOWN_MAX {
        return NONE.to_owned();
    }
    // In range by the check above, so the cast is exact after rounding.
    format!("{} kr", grouped(amount.round() as i64))
}

/// A quantity as Swedish writes it: whole numbers grouped, fractions with a decimal comma.
pub(crate) fn quantity(amount: f64) -> String {
    if !amount.is_finite() || amount.abs() >= SEK_SHOWN_MAX {
        return NONE.to_owned();
    }
    let hundredths = (amount.abs() * 100.0).round() as i64;
    let (whole, fraction) = (hundredths / 100, hundredths % 100);
    let sign = if amount < 0.0 && hundredths != 0 {
        "-"
    } else {
        ""
    };
    let whole = grouped(whole);
    match fraction {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole},{}", f / 10),
        f => format!("{sign}{whole},{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn kronor_are_grouped_the_swedish_way() {
        assert_eq!(sek(123_456.0), "123 456 kr");
        assert_eq!(sek(1_000_000.0), "1 000 000 kr");
        assert_eq!(sek(10_000.0), "10 000 kr");
        assert_eq!(sek(999.5), "1 000 kr");
        assert_eq!(sek(12.0), "12 kr");
        assert_eq!(sek(-1500.0), "-1 500 kr");
        assert_eq!(sek(f64::NAN), NONE);
        assert_eq!(quantity(20.0), "20");
        assert_eq!(quantity(2.5), "2,5");
        assert_eq!(quantity(12_000.25), "12 000,25");
        assert_eq!(quantity(0.05), "0,05");
        assert_eq!(quantity(-1.5), "-1,5");
    }

    #[test]
    fn dates_and_times_are_written_as_the_municipality_does() {
        assert_eq!(yymmdd(date(2022, 12, 8)), "221208");
        assert_eq!(date_with_weekday(date(2023, 7, 3)), "2023-07-03, måndag");
        let summer = DateTime::parse_from_rfc3339("2023-06-30T21:59:59.999999Z")
            .expect("instant")
            .with_timezone(&Utc);
        assert_eq!(local_time(summer), "2023-06-30 23:59");
        let winter = DateTime::parse_from_rfc3339("2023-01-15T23:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        assert_eq!(local_time(winter), "2023-01-16 00:00");
    }

    #[test]
    fn codes_are_worded_and_unknown_codes_shown_as_they_are() {
        assert_eq!(status_code("partially_executed"), "delvis verkställt");
        assert_eq!(status_code("sleeping"), "sleeping");
        assert_eq!(sex_code("female"), "Kvinna");
        assert_eq!(item_kind(ItemKind::FollowUp), "Återrapportering");
        assert_eq!(count_neuter(1), "ett");
        assert_eq!(count_neuter(0), "inga");
        assert_eq!(count_neuter(14), "14");
        assert_eq!(quarter_ordinal(2), "andra");
    }
}
