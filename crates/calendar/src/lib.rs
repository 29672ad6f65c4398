//! The Swedish working-day calendar and month arithmetic (spec §5), as pure functions: no I/O,
//! no clock, no environment.
//!
//! # What it answers
//! - [`holidays`]: every public holiday (*allmän helgdag*) and every day treated as one in
//!   working life (*midsommarafton*, *julafton*, *nyårsafton*) of a year, whatever the weekday.
//! - [`non_working_weekdays`]: the Mondays to Fridays that are not working days, one entry per
//!   date (what `verkstall calendar --year Y` prints).
//! - [`is_working_day`], [`next_working_day`], [`previous_working_day`]: a working day is a
//!   Monday to Friday that is neither of the above.
//! - [`easter_sunday`]: Gregorian Easter.
//! - [`add_months`]: *d + n months* — the same day n months later, or the last day of that month
//!   when it has no such day.
//!
//! The calendar covers the years [`FIRST_YEAR`]`..=`[`LAST_YEAR`]; anything else is refused with
//! [`CalendarError::YearOutOfRange`], including a search for a working day that steps out of the
//! range (the working day after 2200-12-30 is not known here).
//!
//! # What is in force when
//! Each year gets the rules in force that year. The rules live in `rules.rs`, one comment per
//! rule naming its source.
//!
//! | day | date | in force |
//! |---|---|---|
//! | Nyårsdagen | 1 January | all years |
//! | Trettondedag jul | 6 January | all years |
//! | Jungfru Marie bebådelsedag | 25 March (see below) | until 1952 |
//! | Långfredagen, Påskdagen, Annandag påsk | Easter − 2, Easter, Easter + 1 | all years |
//! | Första maj | 1 May | from 1939 (lag 1938:107) |
//! | Kristi himmelsfärdsdag | Easter + 39 | all years |
//! | Pingstdagen | Easter + 49 | all years |
//! | Annandag pingst | Easter + 50 | until 2004 (SFS 2004:1320) |
//! | Sveriges nationaldag | 6 June | from 2005 (SFS 2004:1320) |
//! | Midsommardagen | 24 June; from 1953 the Saturday 20–26 June (SFS 1952:48) | all years |
//! | Midsommarafton (day off) | the day before Midsommardagen | all years |
//! | Alla helgons dag | the Saturday 31 October–6 November (SFS 1952:48) | from 1953 |
//! | Julafton (day off) | 24 December | all years |
//! | Juldagen, Annandag jul | 25, 26 December | all years |
//! | Nyårsafton (day off) | 31 December | all years |
//!
//! Sources, newest first:
//! - Lag (1989:253) om allmänna helgdagar, 1–2 §§ (in force 1990-01-01), as amended by
//!   SFS 2004:1320 (prop. 2004/05:23, in force 2005-04-01): *nationaldagen* added, *annandag
//!   pingst* removed. Both days fall after 1 April, so the change is exact per calendar year.
//! - SFS 1952:48, lag angående tiden för firandet av Marie bebådelsedag, midsommardagen och
//!   allhelgonadagen (adopted 1952-02-22, applied from 1953): Midsommardagen to the Saturday
//!   20–26 June, Alla helgons dag to the Saturday 31 October–6 November, Marie bebådelsedag to a
//!   Sunday in March (so no longer a weekday holiday).
//! - Lag (1938:107) om den 1 majs likställande i vissa hänseenden med allmän helgdag (first
//!   applied on 1 May 1939; repealed by 1989:253, which lists första maj itself).
//! - Kungl. förordning of 4 November 1772 (*helgdagsreduktionen*): Kyndelsmässodagen,
//!   Mikaelsdagen and Alla helgons dag stopped being weekday holidays and were kept on Sundays.
//!   Institutet för språk och folkminnen (isof.se, *Allhelgonadagen*, *Kyndelsmässodagen*,
//!   *Jungfru Marie bebådelsedag*) for what that meant until 1952.
//! - The three eves: Lag (1930:173) om beräkning av lagstadgad tid, 2 § (a deadline falling on
//!   a Saturday, Sunday, other public holiday, midsommarafton, julafton or nyårsafton moves to
//!   the next weekday) and semesterlagen (1977:480) (*med söndag jämställs allmän helgdag samt
//!   midsommarafton, julafton och nyårsafton*).
//! - Cross-checked against python-holidays (`holidays/countries/sweden.py`, vacanza/holidays)
//!   for 1953 onwards, and Kent Engström's Swedish almanac (`alma.py`) for the years before.
//!
//! # Decisions a reader should know about
//! - **Sunday-only church feasts are not listed.** Kyndelsmässodagen (after 1772), Alla helgons
//!   dag 1772–1952 (the first Sunday of November) and Jungfru Marie bebådelsedag from 1953 (a
//!   Sunday in March) were kept on Sundays; a Sunday is never a working day, so they change no
//!   deadline, and their standing as *allmän helgdag* cannot be settled from the sources. The
//!   list holds the days the law names and can fall on a weekday, plus Påskdagen and Pingstdagen,
//!   which 1989:253 names explicitly.
//! - **Before 1953, 1 November was an ordinary day.** Some tables show Alla helgons dag on
//!   1 November before 1953; the sources above say the weekday holiday was abolished in 1772 and
//!   restored, as a Saturday, in 1953.
//! - **Jungfru Marie bebådelsedag before 1953** is 25 March, except when 25 March falls between
//!   Palm Sunday and Easter Day: the feast was then kept on a weekend day before Palm Sunday (the
//!   sources differ: the Sunday before, or the Saturday before), so 25 March was an ordinary day
//!   and the feast is not listed. Both readings give the same working days. When 25 March is
//!   Easter Monday (1940) it stays there, sharing the date with Annandag påsk.
//! - **The three eves** count as days off in every year, as spec §5 defines working days. The
//!   wording of the deadline rule changed over the years (in 1961 it named påskafton,
//!   midsommarafton and julafton); the spec's set is applied throughout.
//! - **Saturdays** are never working days here, as in spec §5, although Swedes worked Saturdays
//!   until the 1960s.
//! - **Easter** is the Gregorian computus, as the Swedish almanac uses. The text of 1989:253
//!   ("the Sunday after the full moon on or after 21 March") reads astronomically and would
//!   differ in some years (2019); the almanac, the church and everyone else follow the computus.
//!
//! # Speed
//! The holidays of all years are computed once, on first use, into a table with a bitmap of
//! closed days per year; [`is_working_day`] is a range check, a weekday check and a bit test.

mod easter;
mod months;
mod rules;
mod working_days;

use chrono::NaiveDate;

pub use easter::easter_sunday;
pub use months::add_months;
pub use working_days::{
    holidays, is_working_day, next_working_day, non_working_weekdays, previous_working_day,
};

/// The first year the calendar knows.
pub const FIRST_YEAR: i32 = 1900;
/// The last year the calendar knows.
pub const LAST_YEAR: i32 = 2200;

/// Why a day is not a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// An *allmän helgdag* by law (or, for första maj 1939–1989, a day the law made equal to one).
    PublicHoliday,
    /// Not a public holiday, but treated as one in working life: midsommarafton, julafton,
    /// nyårsafton.
    DayOff,
}

/// One holiday or day off, as [`holidays`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// The day it falls on that year.
    pub date: NaiveDate,
    /// Its Swedish name, e.g. `"Kristi himmelsfärdsdag"`.
    pub name: &'static str,
    /// Public holiday or day off.
    pub kind: DayKind,
}

/// A Monday to Friday that is not a working day, as [`non_working_weekdays`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonWorkingDay {
    /// The date.
    pub date: NaiveDate,
    /// The Swedish name; when two holidays share the date (Första maj and Kristi
    /// himmelsfärdsdag in 2008) both names, joined by `", "`.
    pub name: String,
}

/// What the calendar refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The year is outside [`FIRST_YEAR`]`..=`[`LAST_YEAR`]: asked for directly, or reached
    /// while searching for the next or previous working day.
    #[error("year {year} is outside the calendar (1900–2200)")]
    YearOutOfRange {
        /// The year that was asked for or stepped into.
        year: i32,
    },
}

/// `Ok(())` when the year is in the calendar.
fn check_year(year: i32) -> Result<(), CalendarError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(CalendarError::YearOutOfRange { year })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_names_the_year_and_the_range() {
        let message = CalendarError::YearOutOfRange { year: 2201 }.to_string();
        assert_eq!(message, "year 2201 is outside the calendar (1900–2200)");
        assert!(message.contains(&FIRST_YEAR.to_string()));
        assert!(message.contains(&LAST_YEAR.to_string()));
    }

    #[test]
    fn check_year_accepts_exactly_the_range() {
        assert_eq!(
            check_year(1899),
            Err(CalendarError::YearOutOfRange { year: 1899 })
        );
        assert_eq!(check_year(1900), Ok(()));
        assert_eq!(check_year(2200), Ok(()));
        assert_eq!(
            check_year(2201),
            Err(CalendarError::YearOutOfRange { year: 2201 })
        );
    }
}
