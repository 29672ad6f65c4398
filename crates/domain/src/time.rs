//! Time: business dates are calendar dates in Europe/Stockholm; the store's clock is UTC.
//!
//! The working-day calendar and month arithmetic live in the `calendar` crate and are
//! re-exported here so the rest of the domain has one place to look.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;

pub use calendar::{
    CalendarError, FIRST_YEAR, LAST_YEAR, add_months, is_working_day, next_working_day,
    non_working_weekdays, previous_working_day,
};

/// The business date (Europe/Stockholm) of a moment on the store's UTC clock.
pub fn business_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&Stockholm).date_naive()
}

/// The last moment of a business date in Stockholm, as UTC: what `--as-of 2023-06-30` means.
///
/// Returns `None` only for dates at the very end of chrono's range.
pub fn end_of_business_day(date: NaiveDate) -> Option<DateTime<Utc>> {
    let next_midnight = date
        .checked_add_days(Days::new(1))?
        .and_time(NaiveTime::MIN);
    // Midnight always exists exactly once in Stockholm: its DST changes happen at 02:00–03:00.
    let start_of_next = Stockholm.from_local_datetime(&next_midnight).single()?;
    Some(start_of_next.with_timezone(&Utc) - chrono::Duration::nanoseconds(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn business_date_follows_stockholm_not_utc() {
        // 23:30 UTC on 30 June is 01:30 on 1 July in Stockholm (summer time, UTC+2).
        assert_eq!(
            business_date(utc("2023-06-30T23:30:00Z")).to_string(),
            "2023-07-01"
        );
        // In winter (UTC+1), 22:59 UTC is still the same day.
        assert_eq!(
            business_date(utc("2023-01-15T22:59:59Z")).to_string(),
            "2023-01-15"
        );
        assert_eq!(
            business_date(utc("2023-01-15T23:00:00Z")).to_string(),
            "2023-01-16"
        );
    }

    #[test]
    fn end_of_business_day_is_the_last_instant_of_the_stockholm_day() {
        let date = NaiveDate::from_ymd_opt(2023, 6, 30).expect("date");
        let end = end_of_business_day(date).expect("in range");
        assert_eq!(end.to_rfc3339(), "2023-06-30T21:59:59.999999999+00:00");
        assert_eq!(business_date(end), date);
        assert_eq!(
            business_date(end + chrono::Duration::nanoseconds(1)),
            date.succ_opt().expect("next")
        );
        // The day summer time starts is 23 hours long and still ends at local midnight.
        let dst = NaiveDate::from_ymd_opt(2024, 3, 31).expect("date");
        assert_eq!(
            end_of_business_day(dst).expect("in range").to_rfc3339(),
            "2024-03-31T21:59:59.999999999+00:00"
        );
    }
}
