//! Dates and moments for the generator: working days (spec §5, through `domain::time`), the days
//! decisions are made on, and the moments events are recorded at.
//!
//! Every moment is between 06:00 and 16:00 UTC — 07:00 to 18:00 in Stockholm, summer or winter —
//! so its business date is its UTC date, and no timezone table is needed here.

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use domain::time;

use crate::dice::Dice;

/// The first recording moment of a day, as seconds after UTC midnight (06:00 UTC).
const DAY_START_SECONDS: i64 = 6 * 3600;
/// How long the recording day is, in seconds (06:00–16:00 UTC).
const DAY_LENGTH_SECONDS: i64 = 10 * 3600;

/// Whether `date` is a working day; outside the calendar's years, whether it is a weekday.
pub(crate) fn is_working_day(date: NaiveDate) -> bool {
    time::is_working_day(date)
        .unwrap_or_else(|_| !matches!(date.weekday(), Weekday::Sat | Weekday::Sun))
}

/// `date` if it is a working day, else the next one.
pub(crate) fn working_on_or_after(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    while !is_working_day(day) {
        day = plus_days(day, 1);
    }
    day
}

/// `date` if it is a working day, else the one before.
pub(crate) fn working_on_or_before(date: NaiveDate) -> NaiveDate {
    let mut day = date;
    while !is_working_day(day) {
        day = minus_days(day, 1);
    }
    day
}

/// `date` plus `days` (negative goes back).
pub(crate) fn plus_days(date: NaiveDate, days: i64) -> NaiveDate {
    let shifted = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    shifted.expect("the demo's dates stay centuries inside chrono's range")
}

/// `date` minus `days`.
pub(crate) fn minus_days(date: NaiveDate, days: i64) -> NaiveDate {
    plus_days(date, -days)
}

/// `date` plus `months` calendar months (spec §5: the same day, or the month's last day).
pub(crate) fn plus_months(date: NaiveDate, months: i32) -> NaiveDate {
    time::add_months(date, months).expect("the demo's dates stay centuries inside chrono's range")
}

/// Days from `from` to `to`.
pub(crate) fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Midnight UTC at the start of `date`.
pub(crate) fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// A moment in the recording day of `date`.
pub(crate) fn moment_on(date: NaiveDate, dice: &mut Dice) -> DateTime<Utc> {
    let seconds = DAY_START_SECONDS + dice.range(0, DAY_LENGTH_SECONDS - 1);
    let micros = dice.range(0, 999_999);
    midnight(date) + Duration::seconds(seconds) + Duration::microseconds(micros)
}

/// When an event that occurred on `date` is recorded: the same working day mostly, else the
/// next working day; `late_days` later when it is registered late.
pub(crate) fn recorded_moment(date: NaiveDate, late_days: i64, dice: &mut Dice) -> DateTime<Utc> {
    let day = if late_days > 0 {
        working_on_or_after(plus_days(date, late_days))
    } else if is_working_day(date) && dice.chance(0.85) {
        date
    } else {
        working_on_or_after(plus_days(date, 1))
    };
    moment_on(day, dice)
}

/// The days decisions are made on: every working day from the first to the last, weighted so
/// that later years have slightly more decisions (7 % a year) and the summer holidays fewer.
/// Slot `i` of `n` takes the day at the quantile `(i + u) / n`, so days never go backwards as
/// slots go forward — what lets the generator stream events in recorded order.
pub(crate) struct DecisionDays {
    days: Vec<NaiveDate>,
    /// The cumulative weight up to and including each day.
    cumulative: Vec<f64>,
}

/// How much more a year weighs than the year before it.
const YEARLY_GROWTH: f64 = 0.07;

impl DecisionDays {
    /// The working days of `[first, last]`, weighted from `first`'s year on.
    pub(crate) fn new(first: NaiveDate, last: NaiveDate) -> DecisionDays {
        let mut days = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        let mut day = first;
        while day <= last {
            if is_working_day(day) {
                let years = f64::from(day.year() - first.year());
                let season = match day.month() {
                    7 => 0.5,
                    8 | 12 => 0.85,
                    _ => 1.0,
                };
                total += (1.0 + YEARLY_GROWTH * years) * season;
                days.push(day);
                cumulative.push(total);
            }
            day = plus_days(day, 1);
        }
        DecisionDays { days, cumulative }
    }

    /// Whether there is no day at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The day at `fraction` (0 to 1) of the total weight.
    pub(crate) fn at(&self, fraction: f64) -> NaiveDate {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = fraction.clamp(0.0, 1.0) * total;
        let index = self.cumulative.partition_point(|&c| c <= target);
        self.days[index.min(self.days.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    #[test]
    fn moments_fall_on_their_stockholm_business_date() {
        let mut dice = Dice::for_slot(1, 1);
        for day in [date(2024, 3, 31), date(2024, 6, 21), date(2024, 12, 31)] {
            for _ in 0..200 {
                let at = moment_on(day, &mut dice);
                assert_eq!(time::business_date(at), day);
            }
        }
    }

    #[test]
    fn decision_days_are_working_days_and_never_go_back() {
        let days = DecisionDays::new(date(2022, 1, 1), date(2025, 12, 31));
        let mut previous = None;
        for i in 0..=1000 {
            let day = days.at(f64::from(i) / 1000.0);
            assert!(is_working_day(day), "{day}");
            assert!(previous.is_none_or(|p| p <= day));
            previous = Some(day);
        }
        assert_eq!(days.at(0.0), date(2022, 1, 3));
        assert!(days.at(1.0) <= date(2025, 12, 31));
    }
}
