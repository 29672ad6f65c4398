//! The history: which holidays and days off a year has, by the rules in force that year.
//!
//! One function, [`holidays_in_force`], with one block per rule and its source beside it (the
//! crate documentation lists the sources in full). It knows nothing of working days or caching.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::easter::easter_in_range;
use crate::{DayKind, Holiday};

/// The first year of the 1952 reform (SFS 1952:48, applied from 1953).
const REFORM_1953_FIRST_YEAR: i32 = 1953;
/// Första maj is a holiday from this year (lag 1938:107, first applied on 1 May 1939).
const FIRST_MAY_FIRST_YEAR: i32 = 1939;
/// Sveriges nationaldag is a holiday from this year (SFS 2004:1320, in force 2005-04-01).
const NATIONAL_DAY_FIRST_YEAR: i32 = 2005;
/// Annandag pingst is a holiday until this year (SFS 2004:1320, in force 2005-04-01).
const WHIT_MONDAY_LAST_YEAR: i32 = 2004;

/// Every holiday and day off of `year`, sorted by date; holidays sharing a date keep the order
/// written below. `year` must be in the calendar.
pub(crate) fn holidays_in_force(year: i32) -> Vec<Holiday> {
    let easter = easter_in_range(year);
    let mut days = Vec::with_capacity(20);
    let mut add = |date: NaiveDate, name: &'static str, kind: DayKind| {
        days.push(Holiday { date, name, kind });
    };
    let public = DayKind::PublicHoliday;

    // 1989:253 2 §; the same before 1990.
    add(ymd(year, 1, 1), "Nyårsdagen", public);
    add(ymd(year, 1, 6), "Trettondedag jul", public);

    // 1989:253 2 §: långfredagen the Friday before Easter, annandag påsk the day after.
    add(days_before(easter, 2), "Långfredagen", public);
    add(easter, "Påskdagen", public);
    add(days_after(easter, 1), "Annandag påsk", public);

    // Until 1952, 25 March (isof.se, Jungfru Marie bebådelsedag; SFS 1952:48 moved it to a
    // Sunday from 1953). When 25 March fell from Palm Sunday to Easter Day the feast was kept on
    // a weekend day before Palm Sunday (Engström's alma.py: the Sunday before; older
    // sv.wikipedia: the Saturday before), so 25 March was then an ordinary day. Easter Monday
    // is outside that window: the two share the date (1940).
    if year < REFORM_1953_FIRST_YEAR {
        let annunciation = ymd(year, 3, 25);
        let palm_sunday = days_before(easter, 7);
        if !(palm_sunday..=easter).contains(&annunciation) {
            add(annunciation, "Jungfru Marie bebådelsedag", public);
        }
    }

    // Lag 1938:107, first applied in 1939; 1989:253 2 §.
    if year >= FIRST_MAY_FIRST_YEAR {
        add(ymd(year, 5, 1), "Första maj", public);
    }

    // 1989:253 2 §: the sixth Thursday after Easter; pingstdagen the seventh Sunday after.
    add(days_after(easter, 39), "Kristi himmelsfärdsdag", public);
    add(days_after(easter, 49), "Pingstdagen", public);

    // Removed by SFS 2004:1320 (in force 2005-04-01, before any possible Whit Monday).
    if year <= WHIT_MONDAY_LAST_YEAR {
        add(days_after(easter, 50), "Annandag pingst", public);
    }

    // Added by SFS 2004:1320 (in force 2005-04-01, before 6 June).
    if year >= NATIONAL_DAY_FIRST_YEAR {
        add(ymd(year, 6, 6), "Sveriges nationaldag", public);
    }

    // Until 1952 Johannes döparens dag, 24 June; from 1953 the Saturday 20–26 June
    // (SFS 1952:48; 1989:253 2 §). Midsommarafton is the day before (lag 1930:173 2 §).
    let midsummer_day = if year < REFORM_1953_FIRST_YEAR {
        ymd(year, 6, 24)
    } else {
        first_on_or_after(ymd(year, 6, 20), Weekday::Sat)
    };
    add(
        days_before(midsummer_day, 1),
        "Midsommarafton",
        DayKind::DayOff,
    );
    add(midsummer_day, "Midsommardagen", public);

    // From 1953 the Saturday 31 October–6 November (SFS 1952:48; 1989:253 2 §). From 1772 to
    // 1952 the weekday holiday did not exist: 1 November was an ordinary day and the feast was
    // kept on the first Sunday of November (förordning 1772-11-04; isof.se, Allhelgonadagen).
    if year >= REFORM_1953_FIRST_YEAR {
        add(
            first_on_or_after(ymd(year, 10, 31), Weekday::Sat),
            "Alla helgons dag",
            public,
        );
    }

    // Julafton and nyårsafton: days off (lag 1930:173 2 §; semesterlagen 1977:480).
    add(ymd(year, 12, 24), "Julafton", DayKind::DayOff);
    add(ymd(year, 12, 25), "Juldagen", public);
    add(ymd(year, 12, 26), "Annandag jul", public);
    add(ymd(year, 12, 31), "Nyårsafton", DayKind::DayOff);

    days.sort_by_key(|holiday| holiday.date); // stable: shared dates keep the order above
    days
}

/// A fixed date of the year.
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("fixed holiday dates exist in every year")
}

fn days_after(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .expect("holidays lie well inside chrono's range")
}

fn days_before(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days))
        .expect("holidays lie well inside chrono's range")
}

/// The first `weekday` on or after `date`.
fn first_on_or_after(date: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - date.weekday().num_days_from_monday()) % 7;
    days_after(date, u64::from(ahead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are real")
    }

    #[test]
    fn first_on_or_after_counts_the_day_itself() {
        // 2024-06-22 is a Saturday, 2024-06-20 a Thursday.
        assert_eq!(
            first_on_or_after(date(2024, 6, 22), Weekday::Sat),
            date(2024, 6, 22)
        );
        assert_eq!(
            first_on_or_after(date(2024, 6, 20), Weekday::Sat),
            date(2024, 6, 22)
        );
        assert_eq!(
            first_on_or_after(date(2024, 6, 23), Weekday::Sat),
            date(2024, 6, 29)
        );
    }
}
