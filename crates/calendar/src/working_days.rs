//! Working days: the public lists of a year's holidays and the working-day questions, answered
//! from a table built once for the whole calendar.
//!
//! Guarantees: [`holidays`] is sorted by date and lies within its year; [`non_working_weekdays`]
//! has one entry per date, Monday to Friday only; [`is_working_day`] agrees with both lists; the
//! next and previous working day never skip a working day and never leave the calendar silently.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::rules::holidays_in_force;
use crate::{CalendarError, FIRST_YEAR, Holiday, LAST_YEAR, NonWorkingDay, check_year};

/// Days in the longest year, the size of a year's bitmap of closed days.
const YEAR_DAYS_MAX: usize = 366;
const CLOSED_WORDS: usize = YEAR_DAYS_MAX.div_ceil(64);

/// One year, computed once.
struct YearTable {
    holidays: Vec<Holiday>,
    non_working_weekdays: Vec<NonWorkingDay>,
    /// Bit `ordinal0` is set when that day is a holiday or day off, whatever its weekday.
    closed: [u64; CLOSED_WORDS],
}

impl YearTable {
    fn build(year: i32) -> YearTable {
        let holidays = holidays_in_force(year);
        let mut closed = [0_u64; CLOSED_WORDS];
        let mut non_working_weekdays: Vec<NonWorkingDay> = Vec::new();
        for holiday in &holidays {
            assert_eq!(holiday.date.year(), year, "{holiday:?} outside its year");
            let ordinal = usize::try_from(holiday.date.ordinal0()).expect("ordinal0 < 366");
            closed[ordinal / 64] |= 1 << (ordinal % 64);
            if is_weekend(holiday.date) {
                continue;
            }
            match non_working_weekdays.last_mut() {
                Some(last) if last.date == holiday.date => {
                    last.name.push_str(", ");
                    last.name.push_str(holiday.name);
                }
                _ => non_working_weekdays.push(NonWorkingDay {
                    date: holiday.date,
                    name: holiday.name.to_owned(),
                }),
            }
        }
        YearTable {
            holidays,
            non_working_weekdays,
            closed,
        }
    }

    fn is_closed(&self, date: NaiveDate) -> bool {
        let ordinal = usize::try_from(date.ordinal0()).expect("ordinal0 < 366");
        self.closed[ordinal / 64] & (1 << (ordinal % 64)) != 0
    }
}

/// The table of `year`, building the whole calendar on first use.
fn year_table(year: i32) -> Result<&'static YearTable, CalendarError> {
    static TABLES: OnceLock<Vec<YearTable>> = OnceLock::new();
    check_year(year)?;
    let tables = TABLES.get_or_init(|| (FIRST_YEAR..=LAST_YEAR).map(YearTable::build).collect());
    let index = usize::try_from(year - FIRST_YEAR).expect("year checked to be in the calendar");
    Ok(tables
        .get(index)
        .expect("one table per year of the calendar"))
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Every public holiday and day off of `year`, whatever its weekday, sorted by date. Holidays
/// sharing a date are separate entries.
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] when `year` is outside the calendar.
pub fn holidays(year: i32) -> Result<Vec<Holiday>, CalendarError> {
    Ok(year_table(year)?.holidays.clone())
}

/// The Mondays to Fridays of `year` that are not working days, sorted, one entry per date (two
/// holidays on one date give one entry with both names joined by `", "`).
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] when `year` is outside the calendar.
pub fn non_working_weekdays(year: i32) -> Result<Vec<NonWorkingDay>, CalendarError> {
    Ok(year_table(year)?.non_working_weekdays.clone())
}

/// Whether `date` is a working day: Monday to Friday and not a public holiday or day off.
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] when the date's year is outside the calendar.
pub fn is_working_day(date: NaiveDate) -> Result<bool, CalendarError> {
    let table = year_table(date.year())?;
    Ok(!is_weekend(date) && !table.is_closed(date))
}

/// The first working day strictly after `date`.
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] when `date` is outside the calendar, or when every day
/// after it up to 2200-12-31 is non-working, so the answer would lie outside the calendar (the
/// error names that year, e.g. 2201 for 2200-12-30).
pub fn next_working_day(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    check_year(date.year())?;
    let mut day = date;
    loop {
        day = day
            .succ_opt()
            .expect("a date in the calendar has a following day");
        if is_working_day(day)? {
            return Ok(day);
        }
    }
}

/// The last working day strictly before `date`.
///
/// # Errors
/// [`CalendarError::YearOutOfRange`] when `date` is outside the calendar, or when every day
/// before it back to 1900-01-01 is non-working, so the answer would lie outside the calendar
/// (the error names that year, 1899).
pub fn previous_working_day(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    check_year(date.year())?;
    let mut day = date;
    loop {
        day = day
            .pred_opt()
            .expect("a date in the calendar has a preceding day");
        if is_working_day(day)? {
            return Ok(day);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Days;
    use proptest::prelude::*;

    use super::*;
    use crate::{DayKind, easter_sunday};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are real")
    }

    /// `(month, day, name)` rows, written out by hand, as `NonWorkingDay`s of `year`.
    fn named(year: i32, rows: &[(u32, u32, &str)]) -> Vec<NonWorkingDay> {
        rows.iter()
            .map(|&(m, d, name)| NonWorkingDay {
                date: date(year, m, d),
                name: name.to_owned(),
            })
            .collect()
    }

    fn names(year: i32) -> Vec<&'static str> {
        holidays(year)
            .expect("year in range")
            .iter()
            .map(|holiday| holiday.name)
            .collect()
    }

    fn holiday_date(year: i32, name: &str) -> Option<NaiveDate> {
        holidays(year)
            .expect("year in range")
            .into_iter()
            .find(|holiday| holiday.name == name)
            .map(|holiday| holiday.date)
    }

    fn working(date: NaiveDate) -> bool {
        is_working_day(date).expect("date in range")
    }

    // ----- The present, written out by hand -----

    #[test]
    fn non_working_weekdays_2023() {
        let expected = named(
            2023,
            &[
                (1, 6, "Trettondedag jul"),
                (4, 7, "Långfredagen"),
                (4, 10, "Annandag påsk"),
                (5, 1, "Första maj"),
                (5, 18, "Kristi himmelsfärdsdag"),
                (6, 6, "Sveriges nationaldag"),
                (6, 23, "Midsommarafton"),
                (12, 25, "Juldagen"),
                (12, 26, "Annandag jul"),
            ],
        );
        assert_eq!(non_working_weekdays(2023), Ok(expected));
    }

    #[test]
    fn non_working_weekdays_2024() {
        let expected = named(
            2024,
            &[
                (1, 1, "Nyårsdagen"),
                (3, 29, "Långfredagen"),
                (4, 1, "Annandag påsk"),
                (5, 1, "Första maj"),
                (5, 9, "Kristi himmelsfärdsdag"),
                (6, 6, "Sveriges nationaldag"),
                (6, 21, "Midsommarafton"),
                (12, 24, "Julafton"),
                (12, 25, "Juldagen"),
                (12, 26, "Annandag jul"),
                (12, 31, "Nyårsafton"),
            ],
        );
        assert_eq!(non_working_weekdays(2024), Ok(expected));
    }

    #[test]
    fn non_working_weekdays_2025() {
        let expected = named(
            2025,
            &[
                (1, 1, "Nyårsdagen"),
                (1, 6, "Trettondedag jul"),
                (4, 18, "Långfredagen"),
                (4, 21, "Annandag påsk"),
                (5, 1, "Första maj"),
                (5, 29, "Kristi himmelsfärdsdag"),
                (6, 6, "Sveriges nationaldag"),
                (6, 20, "Midsommarafton"),
                (12, 24, "Julafton"),
                (12, 25, "Juldagen"),
                (12, 26, "Annandag jul"),
                (12, 31, "Nyårsafton"),
            ],
        );
        assert_eq!(non_working_weekdays(2025), Ok(expected));
    }

    #[test]
    fn holidays_2024() {
        use DayKind::{DayOff, PublicHoliday};
        let expected: Vec<Holiday> = [
            (1, 1, "Nyårsdagen", PublicHoliday),
            (1, 6, "Trettondedag jul", PublicHoliday),
            (3, 29, "Långfredagen", PublicHoliday),
            (3, 31, "Påskdagen", PublicHoliday),
            (4, 1, "Annandag påsk", PublicHoliday),
            (5, 1, "Första maj", PublicHoliday),
            (5, 9, "Kristi himmelsfärdsdag", PublicHoliday),
            (5, 19, "Pingstdagen", PublicHoliday),
            (6, 6, "Sveriges nationaldag", PublicHoliday),
            (6, 21, "Midsommarafton", DayOff),
            (6, 22, "Midsommardagen", PublicHoliday),
            (11, 2, "Alla helgons dag", PublicHoliday),
            (12, 24, "Julafton", DayOff),
            (12, 25, "Juldagen", PublicHoliday),
            (12, 26, "Annandag jul", PublicHoliday),
            (12, 31, "Nyårsafton", DayOff),
        ]
        .into_iter()
        .map(|(m, d, name, kind)| Holiday {
            date: date(2024, m, d),
            name,
            kind,
        })
        .collect();
        assert_eq!(holidays(2024), Ok(expected));
    }

    #[test]
    fn ordinary_days_of_2024_are_working_days() {
        assert!(working(date(2024, 1, 2))); // Tuesday after Nyårsdagen
        assert!(working(date(2024, 3, 28))); // Skärtorsdagen is not a holiday
        assert!(working(date(2024, 4, 30))); // nor Valborgsmässoafton
        assert!(working(date(2024, 5, 10))); // nor the Friday after Kristi himmelsfärdsdag
        assert!(working(date(2024, 11, 1))); // nor the Friday before Alla helgons dag
        assert!(!working(date(2024, 6, 22))); // a Saturday holiday
        assert!(!working(date(2024, 6, 23))); // a plain Sunday
    }

    // ----- The history -----

    #[test]
    fn annandag_pingst_until_2004_nationaldag_from_2005() {
        assert!(names(2004).contains(&"Annandag pingst"));
        assert!(!names(2004).contains(&"Sveriges nationaldag"));
        assert_eq!(
            holiday_date(2004, "Annandag pingst"),
            Some(date(2004, 5, 31))
        );
        assert!(!working(date(2004, 5, 31))); // Monday

        assert!(names(2005).contains(&"Sveriges nationaldag"));
        assert!(!names(2005).contains(&"Annandag pingst"));
        assert!(working(date(2005, 5, 16))); // the Monday after Pingstdagen 2005
        assert!(!working(date(2005, 6, 6))); // Monday, nationaldag
        assert!(working(date(2003, 6, 6))); // Friday, not yet a holiday
    }

    #[test]
    fn forsta_maj_from_1939() {
        assert!(!names(1938).contains(&"Första maj"));
        assert!(names(1939).contains(&"Första maj"));
        assert!(!working(date(1939, 5, 1))); // Monday
        assert!(working(date(1935, 5, 1))); // Wednesday, before the law
    }

    #[test]
    fn midsommar_before_and_after_1953() {
        // 1952: Johannes döparens dag on Tuesday 24 June, midsommarafton Monday 23 June.
        assert_eq!(
            holiday_date(1952, "Midsommardagen"),
            Some(date(1952, 6, 24))
        );
        assert_eq!(
            holiday_date(1952, "Midsommarafton"),
            Some(date(1952, 6, 23))
        );
        assert!(!working(date(1952, 6, 23)));
        assert!(!working(date(1952, 6, 24)));
        assert!(working(date(1952, 6, 20))); // the Friday before
        // 1953: the Saturday 20–26 June.
        assert_eq!(
            holiday_date(1953, "Midsommardagen"),
            Some(date(1953, 6, 20))
        );
        assert_eq!(
            holiday_date(1953, "Midsommarafton"),
            Some(date(1953, 6, 19))
        );
        assert!(working(date(1953, 6, 24))); // Wednesday, no longer a holiday
    }

    #[test]
    fn alla_helgons_dag_before_and_after_1953() {
        // Before 1953 there is no weekday holiday: 1 November 1950 is an ordinary Wednesday.
        assert_eq!(holiday_date(1950, "Alla helgons dag"), None);
        assert!(working(date(1950, 11, 1)));
        assert_eq!(holiday_date(1952, "Alla helgons dag"), None);
        // From 1953 the Saturday 31 October–6 November.
        assert_eq!(
            holiday_date(1953, "Alla helgons dag"),
            Some(date(1953, 10, 31))
        );
    }

    #[test]
    fn jungfru_marie_bebadelsedag_until_1952() {
        assert_eq!(
            holiday_date(1952, "Jungfru Marie bebådelsedag"),
            Some(date(1952, 3, 25))
        );
        assert!(!working(date(1952, 3, 25))); // Tuesday
        assert_eq!(holiday_date(1953, "Jungfru Marie bebådelsedag"), None);
        assert!(working(date(1953, 3, 25))); // Wednesday
        // 1902: 25 March is the Tuesday of Holy Week (Easter 30 March): moved away.
        assert_eq!(holiday_date(1902, "Jungfru Marie bebådelsedag"), None);
        assert!(working(date(1902, 3, 25)));
        // 1913: 25 March is the Tuesday after Easter (23 March): kept.
        assert_eq!(
            holiday_date(1913, "Jungfru Marie bebådelsedag"),
            Some(date(1913, 3, 25))
        );
        assert!(!working(date(1913, 3, 25)));
    }

    #[test]
    fn a_shared_date_is_one_entry_with_both_names() {
        let days = non_working_weekdays(2008).expect("year in range");
        let may_first: Vec<_> = days.iter().filter(|d| d.date == date(2008, 5, 1)).collect();
        assert_eq!(
            may_first,
            [&NonWorkingDay {
                date: date(2008, 5, 1),
                name: "Första maj, Kristi himmelsfärdsdag".to_owned(),
            }]
        );
        // holidays() keeps them apart.
        let both: Vec<_> = holidays(2008)
            .expect("year in range")
            .into_iter()
            .filter(|h| h.date == date(2008, 5, 1))
            .map(|h| h.name)
            .collect();
        assert_eq!(both, ["Första maj", "Kristi himmelsfärdsdag"]);
        // 1940: 25 March is Annandag påsk.
        let days = non_working_weekdays(1940).expect("year in range");
        assert!(days.contains(&NonWorkingDay {
            date: date(1940, 3, 25),
            name: "Annandag påsk, Jungfru Marie bebådelsedag".to_owned(),
        }));
    }

    // ----- Every year -----

    #[test]
    fn every_year_is_well_formed() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let list = holidays(year).expect("year in range");
            assert!(list.is_sorted_by_key(|h| h.date), "{year} not sorted");
            for holiday in &list {
                assert_eq!(holiday.date.year(), year, "{holiday:?}");
                assert!(!holiday.name.trim().is_empty(), "{holiday:?}");
            }
            let easter = holiday_date(year, "Påskdagen").expect("every year has Easter");
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert_eq!(Ok(easter), easter_sunday(year));

            let midsummer = holiday_date(year, "Midsommardagen").expect("every year");
            let eve = holiday_date(year, "Midsommarafton").expect("every year");
            assert_eq!(eve.succ_opt(), Some(midsummer), "{year}");
            let all_saints = holiday_date(year, "Alla helgons dag");
            if year >= 1953 {
                assert_eq!(midsummer.weekday(), Weekday::Sat, "{year}");
                assert!((date(year, 6, 20)..=date(year, 6, 26)).contains(&midsummer));
                let all_saints = all_saints.expect("from 1953");
                assert_eq!(all_saints.weekday(), Weekday::Sat, "{year}");
                assert!((date(year, 10, 31)..=date(year, 11, 6)).contains(&all_saints));
            } else {
                assert_eq!(midsummer, date(year, 6, 24), "{year}");
                assert_eq!(all_saints, None, "{year}");
            }
            let kinds_off: Vec<_> = list
                .iter()
                .filter(|h| h.kind == DayKind::DayOff)
                .map(|h| h.name)
                .collect();
            assert_eq!(kinds_off, ["Midsommarafton", "Julafton", "Nyårsafton"]);
        }
    }

    #[test]
    fn every_year_non_working_weekdays_match_holidays() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let days = non_working_weekdays(year).expect("year in range");
            assert!(days.windows(2).all(|w| w[0].date < w[1].date), "{year}");
            let list = holidays(year).expect("year in range");
            for day in &days {
                assert!(!is_weekend(day.date), "{day:?}");
                assert!(!working(day.date), "{day:?}");
                let joined: Vec<_> = list
                    .iter()
                    .filter(|h| h.date == day.date)
                    .map(|h| h.name)
                    .collect();
                assert_eq!(day.name, joined.join(", "), "{year}");
            }
            let weekday_holidays = list.iter().filter(|h| !is_weekend(h.date));
            for holiday in weekday_holidays {
                assert!(days.iter().any(|d| d.date == holiday.date), "{holiday:?}");
            }
        }
    }

    // ----- The edges of the calendar -----

    #[test]
    fn stepping_out_of_the_calendar_is_an_error() {
        // 2200-12-31 is nyårsafton, so nothing after 2200-12-30 is known.
        assert_eq!(
            next_working_day(date(2200, 12, 30)),
            Err(CalendarError::YearOutOfRange { year: 2201 })
        );
        // 1900-01-01 is Nyårsdagen, a Monday; before it lies 1899.
        assert_eq!(
            previous_working_day(date(1900, 1, 2)),
            Err(CalendarError::YearOutOfRange { year: 1899 })
        );
        assert_eq!(
            next_working_day(date(1899, 12, 31)),
            Err(CalendarError::YearOutOfRange { year: 1899 })
        );
        assert_eq!(
            previous_working_day(date(2201, 1, 2)),
            Err(CalendarError::YearOutOfRange { year: 2201 })
        );
        assert_eq!(
            is_working_day(date(2201, 1, 3)),
            Err(CalendarError::YearOutOfRange { year: 2201 })
        );
        assert_eq!(
            holidays(1899),
            Err(CalendarError::YearOutOfRange { year: 1899 })
        );
        assert_eq!(
            non_working_weekdays(2201),
            Err(CalendarError::YearOutOfRange { year: 2201 })
        );
    }

    #[test]
    fn stepping_across_a_year_boundary() {
        // 2024-12-31 Tuesday (nyårsafton), 2025-01-01 Wednesday (Nyårsdagen).
        assert_eq!(next_working_day(date(2024, 12, 30)), Ok(date(2025, 1, 2)));
        assert_eq!(
            previous_working_day(date(2025, 1, 2)),
            Ok(date(2024, 12, 30))
        );
        // Christmas 2025: Wednesday to Friday closed, then the weekend.
        assert_eq!(next_working_day(date(2025, 12, 23)), Ok(date(2025, 12, 29)));
        assert_eq!(next_working_day(date(1900, 12, 31)), Ok(date(1901, 1, 2)));
        assert_eq!(
            previous_working_day(date(2200, 12, 31)),
            Ok(date(2200, 12, 30))
        );
    }

    // ----- Against a naive model -----

    const CALENDAR_DAYS: u64 = 109_938; // 1900-01-01 ..= 2200-12-31

    #[test]
    fn calendar_days_is_the_length_of_the_calendar() {
        let last = date(1900, 1, 1).checked_add_days(Days::new(CALENDAR_DAYS - 1));
        assert_eq!(last, Some(date(2200, 12, 31)));
    }

    fn day_of_calendar(offset: u64) -> NaiveDate {
        date(1900, 1, 1)
            .checked_add_days(Days::new(offset))
            .expect("offset within the calendar")
    }

    /// A working day by the definition, the slow way: a weekday absent from `holidays`.
    fn naive_is_working_day(day: NaiveDate) -> bool {
        let list = holidays(day.year()).expect("year in range");
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
            && !list.iter().any(|holiday| holiday.date == day)
    }

    proptest! {
        #[test]
        fn is_working_day_agrees_with_the_naive_model(offset in 0..CALENDAR_DAYS) {
            let day = day_of_calendar(offset);
            prop_assert_eq!(is_working_day(day), Ok(naive_is_working_day(day)));
        }

        #[test]
        fn next_working_day_is_the_first_after(offset in 0..CALENDAR_DAYS) {
            let day = day_of_calendar(offset);
            let mut between = day.succ_opt().expect("in range");
            match next_working_day(day) {
                Ok(next) => {
                    prop_assert!(next > day);
                    prop_assert!(naive_is_working_day(next));
                    while between < next {
                        prop_assert!(!naive_is_working_day(between), "{} skipped", between);
                        between = between.succ_opt().expect("in range");
                    }
                }
                Err(error) => {
                    prop_assert_eq!(error, CalendarError::YearOutOfRange { year: LAST_YEAR + 1 });
                    while between.year() <= LAST_YEAR {
                        prop_assert!(!naive_is_working_day(between), "{} skipped", between);
                        between = between.succ_opt().expect("in range");
                    }
                }
            }
        }

        #[test]
        fn previous_working_day_is_the_last_before(offset in 0..CALENDAR_DAYS) {
            let day = day_of_calendar(offset);
            let mut between = day.pred_opt().expect("in range");
            match previous_working_day(day) {
                Ok(previous) => {
                    prop_assert!(previous < day);
                    prop_assert!(naive_is_working_day(previous));
                    while between > previous {
                        prop_assert!(!naive_is_working_day(between), "{} skipped", between);
                        between = between.pred_opt().expect("in range");
                    }
                }
                Err(error) => {
                    prop_assert_eq!(error, CalendarError::YearOutOfRange { year: FIRST_YEAR - 1 });
                    while between.year() >= FIRST_YEAR {
                        prop_assert!(!naive_is_working_day(between), "{} skipped", between);
                        between = between.pred_opt().expect("in range");
                    }
                }
            }
        }
    }
}
