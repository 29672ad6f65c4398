//! Gregorian Easter Sunday, on which most of the moving holidays hang.
//!
//! Computed with the Anonymous Gregorian algorithm (Meeus–Jones–Butcher, as printed in Jean
//! Meeus, *Astronomical Algorithms*, ch. 8). The tests check every year of the calendar against
//! Gauss's algorithm, written independently.

use chrono::NaiveDate;

use crate::{CalendarError, check_year};

/// Easter Sunday (Påskdagen) of `year` in the Gregorian calendar.
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] when `year` is outside
/// [`FIRST_YEAR`](crate::FIRST_YEAR)`..=`[`LAST_YEAR`](crate::LAST_YEAR).
pub fn easter_sunday(year: i32) -> Result<NaiveDate, CalendarError> {
    check_year(year)?;
    Ok(easter_in_range(year))
}

/// Easter Sunday of a year already known to be in the calendar.
pub(crate) fn easter_in_range(year: i32) -> NaiveDate {
    debug_assert!(check_year(year).is_ok(), "year {year} outside the calendar");
    let a = year % 19; // position in the 19-year Metonic cycle
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30; // epact-derived offset of the paschal full moon
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7; // days from the full moon to the next Sunday
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = u32::try_from(month).expect("the algorithm yields month 3 or 4");
    let day = u32::try_from(day).expect("the algorithm yields a day 1..=31");
    NaiveDate::from_ymd_opt(year, month, day).expect("the algorithm yields a real date")
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, Weekday};

    use super::*;
    use crate::{FIRST_YEAR, LAST_YEAR};

    /// Gauss's Easter algorithm for the Gregorian calendar, with its two exceptions — a second,
    /// independent computation to check the main one against.
    fn easter_gauss(year: i32) -> (u32, u32) {
        let a = year % 19;
        let b = year % 4;
        let c = year % 7;
        let k = year / 100;
        let p = (13 + 8 * k) / 25;
        let q = k / 4;
        let m = (15 - p + k - q).rem_euclid(30);
        let n = (4 + k - q).rem_euclid(7);
        let d = (19 * a + m) % 30;
        let e = (2 * b + 4 * c + 6 * d + n) % 7;
        let (month, day) = if 22 + d + e <= 31 {
            (3, 22 + d + e)
        } else {
            (4, d + e - 9)
        };
        // The two exceptions: 26 April becomes 19 April; 25 April becomes 18 April when the
        // epact is late in its cycle.
        let (month, day) = match (month, day) {
            (4, 26) => (4, 19),
            (4, 25) if d == 28 && e == 6 && (11 * m + 11) % 30 < 19 => (4, 18),
            other => other,
        };
        (
            u32::try_from(month).expect("month is 3 or 4"),
            u32::try_from(day).expect("day is positive"),
        )
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are real")
    }

    #[test]
    fn every_year_agrees_with_gauss() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let (month, day) = easter_gauss(year);
            assert_eq!(
                easter_sunday(year),
                Ok(date(year, month, day)),
                "Easter {year}"
            );
        }
    }

    #[test]
    fn every_year_is_a_sunday_between_22_march_and_25_april() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let easter = easter_sunday(year).expect("year in range");
            assert_eq!(easter.weekday(), Weekday::Sun, "Easter {year}");
            assert!(easter >= date(year, 3, 22) && easter <= date(year, 4, 25));
        }
    }

    #[test]
    fn known_dates() {
        for (year, month, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2038, 4, 25),
            (1943, 4, 25),
            (2000, 4, 23),
            (2008, 3, 23),
            (2019, 4, 21),
            (1913, 3, 23),
            (1940, 3, 24),
            (1981, 4, 19),
            (1954, 4, 18),
        ] {
            assert_eq!(easter_sunday(year), Ok(date(year, month, day)), "{year}");
        }
    }

    #[test]
    fn the_gauss_exceptions_are_exercised() {
        // 1981 is a 26-April-to-19-April year, 1954 a 25-April-to-18-April year: the checking
        // algorithm is only a check if it takes those branches correctly.
        assert_eq!(easter_gauss(1981), (4, 19));
        assert_eq!(easter_gauss(1954), (4, 18));
    }

    #[test]
    fn years_outside_the_calendar_are_refused() {
        assert_eq!(
            easter_sunday(1899),
            Err(CalendarError::YearOutOfRange { year: 1899 })
        );
        assert_eq!(
            easter_sunday(2201),
            Err(CalendarError::YearOutOfRange { year: 2201 })
        );
    }
}
