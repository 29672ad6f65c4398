//! Month arithmetic: *d + n months* as spec §5 and lag (1930:173) 1 § define it — the same day
//! of the month n months later, or that month's last day when it has no such day.
//!
//! Not bound to the calendar's years: months know nothing of holidays.

use chrono::{Months, NaiveDate};

/// `date` plus `months` months: the same day of the month, or the last day of the target month
/// when it is shorter (2023-11-30 + 3 = 2024-02-29). A negative `months` goes back the same way
/// (2024-03-31 − 1 = 2024-02-29).
///
/// Returns `None` only when the result would fall outside the dates chrono can represent.
pub fn add_months(date: NaiveDate, months: i32) -> Option<NaiveDate> {
    let count = Months::new(months.unsigned_abs());
    if months >= 0 {
        date.checked_add_months(count)
    } else {
        date.checked_sub_months(count)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are real")
    }

    /// Days in a month, from the Gregorian leap-year rule (not from chrono).
    fn days_in_month(year: i32, month: u32) -> u32 {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// Months since year 0, to measure the distance between two dates in months.
    fn month_index(date: NaiveDate) -> i64 {
        i64::from(date.year()) * 12 + i64::from(date.month0())
    }

    #[test]
    fn hand_examples() {
        assert_eq!(add_months(date(2023, 11, 30), 3), Some(date(2024, 2, 29)));
        assert_eq!(add_months(date(2023, 1, 31), 1), Some(date(2023, 2, 28)));
        assert_eq!(add_months(date(2024, 2, 29), 12), Some(date(2025, 2, 28)));
        assert_eq!(add_months(date(2024, 1, 31), 1), Some(date(2024, 2, 29)));
        assert_eq!(add_months(date(2023, 3, 8), 3), Some(date(2023, 6, 8)));
        assert_eq!(add_months(date(2023, 12, 15), 1), Some(date(2024, 1, 15)));
        assert_eq!(add_months(date(2024, 3, 31), -1), Some(date(2024, 2, 29)));
        assert_eq!(add_months(date(2024, 5, 31), -2), Some(date(2024, 3, 31)));
        assert_eq!(add_months(date(2024, 1, 15), -1), Some(date(2023, 12, 15)));
        assert_eq!(add_months(date(2100, 3, 29), -1), Some(date(2100, 2, 28)));
        assert_eq!(add_months(date(2000, 3, 29), -1), Some(date(2000, 2, 29)));
        assert_eq!(add_months(date(2024, 7, 17), 0), Some(date(2024, 7, 17)));
    }

    #[test]
    fn beyond_chrono_is_none() {
        assert_eq!(add_months(NaiveDate::MAX, 1), None);
        assert_eq!(add_months(NaiveDate::MIN, -1), None);
        assert_eq!(add_months(date(2024, 1, 1), i32::MAX), None);
        assert_eq!(add_months(date(2024, 1, 1), i32::MIN), None);
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (1800..=2400_i32, 1..=12_u32, 1..=31_u32)
            .prop_map(|(y, m, d)| date(y, m, d.min(days_in_month(y, m))))
    }

    proptest! {
        #[test]
        fn day_is_kept_or_clamped(d in any_date(), n in -2400..=2400_i32) {
            let result = add_months(d, n).expect("well inside chrono's range");
            prop_assert_eq!(result.day(), d.day().min(days_in_month(result.year(), result.month())));
        }

        #[test]
        fn month_distance_is_exactly_n(d in any_date(), n in -2400..=2400_i32) {
            let result = add_months(d, n).expect("well inside chrono's range");
            prop_assert_eq!(month_index(result) - month_index(d), i64::from(n));
        }

        #[test]
        fn there_and_back_never_overshoots(d in any_date(), n in -2400..=2400_i32) {
            let there = add_months(d, n).expect("well inside chrono's range");
            let back = add_months(there, -n).expect("well inside chrono's range");
            prop_assert!(back <= d);
            if d.day() <= 28 {
                prop_assert_eq!(back, d);
            }
        }
    }
}
