//! Property tests: valid numbers round-trip in every form, every single-digit change is refused,
//! and nothing a caller can format (a parsed number's `Debug`, an error's `Display` or `Debug`)
//! contains any digit of the input.
//!
//! The expected values are computed here without the code under test: the check digit with
//! `luhn_valid` from the table tests, the age with plain year arithmetic.

use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;

use super::tests::luhn_valid;
use super::{IdentityError, IdentityFacts, IdentityKind, IdentityNumber, Sex};

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("test dates are real dates")
}

/// Whole years from `birth` to `at`.
fn age(birth: NaiveDate, at: NaiveDate) -> i32 {
    let years = at.year() - birth.year();
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        years - 1
    } else {
        years
    }
}

/// How a personnummer or samordningsnummer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `YYYYMMDD-NNNC`
    Long,
    /// `YYYYMMDDNNNC`
    LongCompact,
    /// `YYMMDD-NNNC`, or `YYMMDD+NNNC` at 100 or older
    Short,
    /// `YYMMDDNNNC`, or `YYMMDD+NNNC` at 100 or older (the compact form cannot say it)
    ShortCompact,
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Long),
        Just(Form::LongCompact),
        Just(Form::Short),
        Just(Form::ShortCompact),
    ]
}

fn long_form() -> impl Strategy<Value = Form> {
    prop_oneof![Just(Form::Long), Just(Form::LongCompact)]
}

/// The written fields of a personnummer or samordningsnummer; the check digit is computed.
#[derive(Debug, Clone)]
struct Parts {
    century: u32,
    yy: u32,
    month: u32,
    /// Plus 60 for a samordningsnummer.
    day_written: u32,
    serial: u32,
}

impl Parts {
    fn of(birth: NaiveDate, serial: u32, samordning: bool) -> Parts {
        let year = u32::try_from(birth.year()).expect("generated years are positive");
        Parts {
            century: year / 100,
            yy: year % 100,
            month: birth.month(),
            day_written: birth.day() + if samordning { 60 } else { 0 },
            serial,
        }
    }

    /// `YYMMDDNNNC` with the check digit that makes it pass Luhn.
    fn significant(&self) -> String {
        let nine = format!(
            "{:02}{:02}{:02}{:03}",
            self.yy, self.month, self.day_written, self.serial
        );
        (0..10)
            .map(|check| format!("{nine}{check}"))
            .find(|ten| luhn_valid(ten))
            .expect("one check digit always fits")
    }

    /// The number written in `form`; `hundred_or_older` picks `+` in the 10-digit forms.
    fn render(&self, form: Form, hundred_or_older: bool) -> String {
        let significant = self.significant();
        let (date, tail) = significant.split_at(6);
        let century = self.century;
        match form {
            Form::Long => format!("{century:02}{date}-{tail}"),
            Form::LongCompact => format!("{century:02}{date}{tail}"),
            _ if hundred_or_older => format!("{date}+{tail}"),
            Form::Short => format!("{date}-{tail}"),
            Form::ShortCompact => format!("{date}{tail}"),
        }
    }

    fn canonical(&self) -> String {
        let significant = self.significant();
        let (date, tail) = significant.split_at(6);
        format!("{:02}{date}-{tail}", self.century)
    }
}

/// A valid personnummer or samordningsnummer born 1900–2100.
#[derive(Debug, Clone)]
struct Valid {
    birth: NaiveDate,
    serial: u32,
    samordning: bool,
}

impl Valid {
    fn parts(&self) -> Parts {
        Parts::of(self.birth, self.serial, self.samordning)
    }

    fn kind(&self) -> IdentityKind {
        if self.samordning {
            IdentityKind::Samordningsnummer
        } else {
            IdentityKind::Personnummer
        }
    }

    /// The serial's last digit is the digit just before the check digit.
    fn sex(&self) -> Sex {
        if self.serial % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    fn render(&self, form: Form, reference: NaiveDate) -> String {
        self.parts().render(form, age(self.birth, reference) >= 100)
    }
}

fn birth_date() -> impl Strategy<Value = NaiveDate> {
    let first = date(1900, 1, 1);
    let span = (date(2100, 12, 31) - first).num_days();
    let span = u64::try_from(span).expect("the last date is after the first");
    (0..=span).prop_map(move |days| {
        first
            .checked_add_days(Days::new(days))
            .expect("within chrono's range")
    })
}

fn valid() -> impl Strategy<Value = Valid> {
    (birth_date(), 0..1000u32, any::<bool>()).prop_map(|(birth, serial, samordning)| Valid {
        birth,
        serial,
        samordning,
    })
}

/// Days from the birth date to the reference date: anywhere below 200 years (a 10-digit form
/// cannot say more), and often close to the hundredth birthday, where the century flips.
fn reference_offset() -> impl Strategy<Value = u64> {
    prop_oneof![0..=72_000u64, 36_400..=36_900u64, 0..=400u64]
}

fn after(birth: NaiveDate, days: u64) -> NaiveDate {
    birth
        .checked_add_days(Days::new(days))
        .expect("within chrono's range")
}

/// An IVO reserve number: its text, birth date and sex.
fn reserve() -> impl Strategy<Value = (String, NaiveDate, Sex)> {
    (birth_date(), any::<bool>(), 0..1000u32).prop_map(|(birth, tf, digits)| {
        let date = birth.format("%Y%m%d");
        let (text, sex_digit) = if tf {
            (format!("{date}-TF{:02}", digits % 100), digits % 100 / 10)
        } else {
            (format!("{date}-T{digits:03}"), digits / 10 % 10)
        };
        let sex = if sex_digit % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        (text, birth, sex)
    })
}

/// `text` with its `position`-th significant digit (0–9 of `YYMMDDNNNC`, after any century
/// digits) moved on by `step` (1–9), so it is always a different digit.
fn change_digit(text: &str, position: usize, step: u32) -> String {
    let digit_indices: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(index, _)| index)
        .collect();
    let index = digit_indices[digit_indices.len() - 10 + position];
    let old = text[index..].chars().next().and_then(|c| c.to_digit(10));
    let new = (old.expect("a digit") + step) % 10;
    let new = char::from_digit(new, 10).expect("below ten");
    let mut changed = text.to_owned();
    changed.replace_range(index..=index, new.encode_utf8(&mut [0; 4]));
    changed
}

/// Month and written day of a text's `YYMMDDNNNC`.
fn month_and_day(text: &str) -> (u32, u32) {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    let significant = &digits[digits.len() - 10..];
    (
        significant[2] * 10 + significant[3],
        significant[4] * 10 + significant[5],
    )
}

/// The real day of a written day, or `None` where no month has one.
fn real_day(day_written: u32) -> Option<u32> {
    match day_written {
        1..=31 => Some(day_written),
        61..=91 => Some(day_written - 60),
        _ => None,
    }
}

/// Fails the case if `output` shows any digit of `input`.
fn assert_reveals_nothing(input: &str, output: &str) -> Result<(), TestCaseError> {
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let last_four = &digits[digits.len().saturating_sub(4)..];
    let date_six = &digits[..digits.len().min(6)];
    let date_eight = &digits[..digits.len().min(8)];
    for needle in [digits.as_str(), last_four, date_six, date_eight] {
        if !needle.is_empty() {
            prop_assert!(!output.contains(needle), "{output:?} shows {needle:?}");
        }
    }
    // Stronger than the above: no digit at all, so no part of any number can be in it.
    prop_assert!(
        !output.chars().any(|c| c.is_ascii_digit()),
        "{output:?} contains a digit"
    );
    Ok(())
}

/// Everything a caller could format from the result of parsing `input`.
fn formatted(result: &Result<IdentityNumber, IdentityError>) -> Vec<String> {
    let mut outputs = vec![format!("{result:?}"), format!("{result:#?}")];
    match result {
        Ok(number) => outputs.push(format!("{number:?}")),
        Err(error) => {
            outputs.push(error.to_string());
            outputs.push(format!("{error:?}"));
        }
    }
    outputs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn valid_numbers_round_trip_in_every_form(
        number in valid(),
        offset in reference_offset(),
        form in form(),
    ) {
        let reference = after(number.birth, offset);
        let text = number.render(form, reference);
        let parsed = IdentityNumber::parse(&text, reference);
        prop_assert!(parsed.is_ok(), "{text} on {reference}: {parsed:?}");
        let parsed = parsed.expect("checked above");
        prop_assert_eq!(parsed.kind(), number.kind());
        prop_assert_eq!(parsed.birth_date(), number.birth);
        prop_assert_eq!(parsed.sex(), number.sex());
        prop_assert_eq!(parsed.canonical(), number.parts().canonical());
        prop_assert_eq!(parsed.reveal(), text.as_str());
        // The canonical form means the same, on any reference date from the birth date on.
        let again = IdentityNumber::parse(&parsed.canonical(), number.birth);
        prop_assert_eq!(again, Ok(parsed));
    }

    #[test]
    fn facts_of_says_what_parse_says_for_any_text(
        number in valid(),
        offset in reference_offset(),
        form in form(),
        digit in 0usize..10,
        step in 0u32..10,
        noise in "[ 0-9+T-]{0,14}",
    ) {
        let reference = after(number.birth, offset);
        let text = number.render(form, reference);
        // The number, the number with a digit changed (often invalid), and any text.
        for candidate in [text.clone(), change_digit(&text, digit, step), noise.clone()] {
            let facts = IdentityNumber::parse(&candidate, reference).map(|n| IdentityFacts {
                kind: n.kind(),
                birth_date: n.birth_date(),
                sex: n.sex(),
            });
            prop_assert_eq!(IdentityNumber::facts_of(&candidate, reference), facts);
        }
    }

    #[test]
    fn reserve_numbers_round_trip(
        (text, birth, sex) in reserve(),
        offset in reference_offset(),
    ) {
        let parsed = IdentityNumber::parse(&text, after(birth, offset));
        prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
        let parsed = parsed.expect("checked above");
        prop_assert_eq!(parsed.kind(), IdentityKind::ReserveNumber);
        prop_assert_eq!(parsed.birth_date(), birth);
        prop_assert_eq!(parsed.sex(), sex);
        prop_assert_eq!(parsed.canonical(), text.as_str());
        prop_assert_eq!(parsed.reveal(), text.as_str());
    }

    #[test]
    fn a_birth_date_after_the_reference_is_refused(
        number in valid(),
        form in long_form(),
        (reserve, reserve_birth, _) in reserve(),
        days_before in 1..=40_000u64,
    ) {
        let reference = number.birth.checked_sub_days(Days::new(days_before)).expect("in range");
        let text = number.render(form, reference);
        prop_assert_eq!(
            IdentityNumber::parse(&text, reference),
            Err(IdentityError::BirthAfterReference)
        );
        let reference = reserve_birth.checked_sub_days(Days::new(days_before)).expect("in range");
        prop_assert_eq!(
            IdentityNumber::parse(&reserve, reference),
            Err(IdentityError::BirthAfterReference)
        );
    }

    #[test]
    fn every_single_digit_change_is_refused(
        number in valid(),
        offset in reference_offset(),
        form in form(),
        position in 0..10usize,
        step in 1..=9u32,
    ) {
        // A 12-digit form names its century, so give it a reference after any year a change
        // can produce (at most 2199); a 10-digit form always resolves to a date on or before
        // its reference. Either way a refusal cannot be for a birth date after the reference.
        let reference = match form {
            Form::Long | Form::LongCompact => date(2200, 1, 1),
            Form::Short | Form::ShortCompact => after(number.birth, offset),
        };
        let text = number.render(form, reference);
        prop_assert!(IdentityNumber::parse(&text, reference).is_ok(), "{text}");

        let changed = change_digit(&text, position, step);
        let error = IdentityNumber::parse(&changed, reference).err();
        prop_assert!(
            matches!(error, Some(IdentityError::CheckDigit | IdentityError::InvalidDate)),
            "{text} changed to {changed}: {error:?}"
        );
        let (month, day_written) = month_and_day(&changed);
        if position >= 6 {
            // The date is untouched; only Luhn can refuse it.
            prop_assert_eq!(error, Some(IdentityError::CheckDigit));
        } else if !(1..=12).contains(&month) || real_day(day_written).is_none() {
            prop_assert_eq!(error, Some(IdentityError::InvalidDate), "{}", changed);
        } else if matches!(form, Form::Long | Form::LongCompact) {
            let digits: String = changed.chars().filter(char::is_ascii_digit).collect();
            let year: i32 = digits[..4].parse().expect("four digits");
            let real = real_day(day_written)
                .and_then(|day| NaiveDate::from_ymd_opt(year, month, day))
                .is_some();
            let expected = if real { IdentityError::CheckDigit } else { IdentityError::InvalidDate };
            prop_assert_eq!(error, Some(expected), "{}", changed);
        }
    }

    #[test]
    fn a_date_that_does_not_exist_is_refused_even_with_a_right_check_digit(
        year in 1900..=2100u32,
        month in 0..100u32,
        day_written in 0..100u32,
        serial in 0..1000u32,
        form in form(),
    ) {
        let real = |year: u32| {
            let year = i32::try_from(year).expect("small");
            real_day(day_written)
                .and_then(|day| NaiveDate::from_ymd_opt(year, month, day))
                .is_some()
        };
        // A 10-digit form's century depends on the reference; 2000 is a leap year, so a date
        // that is not real in 2000 is real in no year.
        let checked_year = match form {
            Form::Long | Form::LongCompact => year,
            Form::Short | Form::ShortCompact => 2000,
        };
        prop_assume!(!real(checked_year));
        let parts = Parts { century: year / 100, yy: year % 100, month, day_written, serial };
        let text = parts.render(form, false);
        prop_assert_eq!(
            IdentityNumber::parse(&text, date(2200, 1, 1)),
            Err(IdentityError::InvalidDate),
            "{}", text
        );
    }

    #[test]
    fn a_parsed_number_reveals_nothing(
        number in valid(),
        offset in reference_offset(),
        form in form(),
        (reserve, reserve_birth, _) in reserve(),
    ) {
        let reference = after(number.birth, offset);
        let text = number.render(form, reference);
        let result = IdentityNumber::parse(&text, reference);
        prop_assert!(result.is_ok());
        for output in formatted(&result) {
            assert_reveals_nothing(&text, &output)?;
        }
        let result = IdentityNumber::parse(&reserve, after(reserve_birth, offset));
        prop_assert!(result.is_ok());
        for output in formatted(&result) {
            assert_reveals_nothing(&reserve, &output)?;
        }
    }

    #[test]
    fn a_refusal_reveals_nothing(
        number in valid(),
        offset in reference_offset(),
        form in form(),
        position in 0..10usize,
        step in 1..=9u32,
        noise in prop_oneof![
            "[0-9]{0,14}",
            "[0-9T+ -]{0,16}",
            "[0-9]{6,8}[-+]?[0-9TF]{3,5}",
            "\\PC{0,20}",
        ],
        reference in birth_date(),
    ) {
        let valid_text = number.render(form, after(number.birth, offset));
        let inputs = [
            // Refused by Luhn or the date check.
            change_digit(&valid_text, position, step),
            // Mostly refused; some happen to be valid, and must not leak either.
            noise,
            // Valid text on a random reference: refused when born after it.
            valid_text,
        ];
        for input in inputs {
            let result = IdentityNumber::parse(&input, reference);
            for output in formatted(&result) {
                assert_reveals_nothing(&input, &output)?;
            }
        }
    }
}
