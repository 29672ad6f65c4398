//! Table-driven tests: every accepted form with what it must yield, and every refusal with its
//! reason. The check digits below were computed by hand and are re-checked by `luhn_valid`, an
//! implementation independent of the one under test.

use std::collections::HashSet;
use std::fmt::Display;
use std::marker::PhantomData;

use chrono::NaiveDate;

use super::{IdentityError, IdentityKind, IdentityNumber, Sex};
use IdentityError::{BirthAfterReference, CheckDigit, Empty, Format, InvalidDate};
use IdentityKind::{Personnummer, ReserveNumber, Samordningsnummer};
use Sex::{Female, Male};

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("test dates are real dates")
}

/// The reference date most cases are parsed against.
fn today() -> NaiveDate {
    date(2024, 5, 10)
}

/// Luhn as usually stated: from the right, double every second digit, sum the digits of the
/// results; valid when the total is a multiple of ten.
pub(crate) fn luhn_valid(ten_digits: &str) -> bool {
    let total: u32 = ten_digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let digit = c.to_digit(10).expect("ten digits");
            let value = if i % 2 == 1 { digit * 2 } else { digit };
            if value > 9 { value - 9 } else { value }
        })
        .sum();
    total.is_multiple_of(10)
}

#[test]
fn check_digits_in_the_tables_are_right_or_wrong_on_purpose() {
    let right = [
        "8112189876",
        "1212121212",
        "9001010025",
        "8112789873",
        "8112919876",
        "8112619872",
        "0002291235",
        "2405101235",
        "2405111242",
        "6408233234",
        "1902291234",
        "2302301235",
        "8113189875",
        "8112009876",
        "8112329878",
        "8112609873",
        "8112929875",
        "8100189870",
        "8111319870",
        "2302901232",
        "2302891235",
    ];
    for number in right {
        assert!(luhn_valid(number), "{number} should pass Luhn");
    }
    for number in ["8112189875", "8112189870", "8112189877", "8112789876"] {
        assert!(!luhn_valid(number), "{number} should fail Luhn");
    }
}

#[test]
fn valid_numbers_yield_kind_birth_date_sex_and_canonical_form() {
    #[rustfmt::skip]
    let cases: &[(&str, NaiveDate, IdentityKind, NaiveDate, Sex, &str)] = &[
        // personnummer in every form
        ("19811218-9876", today(), Personnummer, date(1981, 12, 18), Male, "19811218-9876"),
        ("198112189876",  today(), Personnummer, date(1981, 12, 18), Male, "19811218-9876"),
        ("811218-9876",   today(), Personnummer, date(1981, 12, 18), Male, "19811218-9876"),
        ("8112189876",    today(), Personnummer, date(1981, 12, 18), Male, "19811218-9876"),
        ("811218+9876",   today(), Personnummer, date(1881, 12, 18), Male, "18811218-9876"),
        ("19121212-1212", today(), Personnummer, date(1912, 12, 12), Male, "19121212-1212"),
        ("121212+1212",   today(), Personnummer, date(1912, 12, 12), Male, "19121212-1212"),
        ("121212-1212",   today(), Personnummer, date(2012, 12, 12), Male, "20121212-1212"),
        ("640823-3234",   today(), Personnummer, date(1964, 8, 23),  Male, "19640823-3234"),
        ("9001010025",    today(), Personnummer, date(1990, 1, 1),   Female, "19900101-0025"),
        ("19900101-0025", today(), Personnummer, date(1990, 1, 1),   Female, "19900101-0025"),
        // leap days: 2000 is a leap year
        ("000229-1235",   today(), Personnummer, date(2000, 2, 29),  Male, "20000229-1235"),
        ("20000229-1235", today(), Personnummer, date(2000, 2, 29),  Male, "20000229-1235"),
        // the century rule at the hundredth birthday (reference 2024-05-10)
        ("240510-1235",   today(), Personnummer, date(2024, 5, 10),  Male, "20240510-1235"),
        ("2405101235",    today(), Personnummer, date(2024, 5, 10),  Male, "20240510-1235"),
        ("240510+1235",   today(), Personnummer, date(1924, 5, 10),  Male, "19240510-1235"),
        ("240511-1242",   today(), Personnummer, date(1924, 5, 11),  Female, "19240511-1242"),
        ("240511+1242",   today(), Personnummer, date(1824, 5, 11),  Female, "18240511-1242"),
        // born on the reference date
        ("19811218-9876", date(1981, 12, 18), Personnummer, date(1981, 12, 18), Male, "19811218-9876"),
        // samordningsnummer: day plus 60, kept in the canonical form
        ("19811278-9873", today(), Samordningsnummer, date(1981, 12, 18), Male, "19811278-9873"),
        ("198112789873",  today(), Samordningsnummer, date(1981, 12, 18), Male, "19811278-9873"),
        ("811278-9873",   today(), Samordningsnummer, date(1981, 12, 18), Male, "19811278-9873"),
        ("8112789873",    today(), Samordningsnummer, date(1981, 12, 18), Male, "19811278-9873"),
        ("811278+9873",   today(), Samordningsnummer, date(1881, 12, 18), Male, "18811278-9873"),
        ("811261-9872",   today(), Samordningsnummer, date(1981, 12, 1),  Male, "19811261-9872"),
        ("811291-9876",   today(), Samordningsnummer, date(1981, 12, 31), Male, "19811291-9876"),
        // IVO reserve numbers: sex from the digit just before the last
        ("20150101-T123", today(), ReserveNumber, date(2015, 1, 1), Female, "20150101-T123"),
        ("19900101-TF10", today(), ReserveNumber, date(1990, 1, 1), Male, "19900101-TF10"),
        ("20000229-T000", today(), ReserveNumber, date(2000, 2, 29), Female, "20000229-T000"),
        ("20150101-T123", date(2015, 1, 1), ReserveNumber, date(2015, 1, 1), Female, "20150101-T123"),
    ];
    for &(text, reference, kind, birth_date, sex, canonical) in cases {
        let number = IdentityNumber::parse(text, reference)
            .unwrap_or_else(|error| panic!("{text} should be valid: {error}"));
        assert_eq!(number.kind(), kind, "{text}");
        assert_eq!(number.birth_date(), birth_date, "{text}");
        assert_eq!(number.sex(), sex, "{text}");
        assert_eq!(number.canonical(), canonical, "{text}");
        assert_eq!(number.reveal(), text, "{text}");
        // The canonical form is itself valid and means the same.
        let again = IdentityNumber::parse(canonical, reference).expect("canonical form parses");
        assert_eq!(
            (
                again.kind(),
                again.birth_date(),
                again.sex(),
                again.canonical()
            ),
            (kind, birth_date, sex, canonical.to_owned()),
            "{text}"
        );
    }
}

#[test]
fn surrounding_whitespace_is_trimmed_and_not_revealed() {
    for text in [" 811218-9876", "811218-9876\n", "\t 811218-9876 \r\n"] {
        let number = IdentityNumber::parse(text, today()).expect("valid with whitespace");
        assert_eq!(number.reveal(), "811218-9876");
        assert_eq!(number.canonical(), "19811218-9876");
    }
    let reserve = IdentityNumber::parse("  20150101-T123\n", today()).expect("valid");
    assert_eq!(reserve.reveal(), "20150101-T123");
}

#[test]
fn invalid_numbers_are_refused_with_the_reason() {
    #[rustfmt::skip]
    let cases: &[(&str, NaiveDate, IdentityError)] = &[
        ("", today(), Empty),
        ("   ", today(), Empty),
        ("\t\r\n", today(), Empty),
        // wrong length
        ("811218987", today(), Format),
        ("81121898761", today(), Format),
        ("19811218-987", today(), Format),
        ("1981121898760", today(), Format),
        ("19811218-98760", today(), Format),
        ("811218-9876 x", today(), Format),
        // wrong or misplaced separator
        ("19811218+9876", today(), Format),
        ("1981121-89876", today(), Format),
        ("81121-89876", today(), Format),
        ("811218 9876", today(), Format),
        ("811218 -9876", today(), Format),
        ("811218_9876", today(), Format),
        ("811218--9876", today(), Format),
        ("+811218-9876", today(), Format),
        ("1981-12-18-9876", today(), Format),
        ("811218\u{2212}9876", today(), Format),       // minus sign
        ("20150101\u{2013}T123", today(), Format),     // en dash
        // letters and digits that are not ASCII
        ("811218-987X", today(), Format),
        ("8112189S76", today(), Format),
        ("\u{661}\u{669}\u{668}\u{661}\u{661}\u{662}\u{661}\u{668}-\u{669}\u{668}\u{667}\u{666}", today(), Format),
        ("\u{ff18}\u{ff11}\u{ff11}\u{ff12}\u{ff11}\u{ff18}-9876", today(), Format),
        // reserve numbers: only uppercase T / TF, the right number of digits, a hyphen
        ("20150101-t123", today(), Format),
        ("20150101-tf10", today(), Format),
        ("20150101-Tf10", today(), Format),
        ("20150101-T12", today(), Format),
        ("20150101-T1234", today(), Format),
        ("20150101-TF1", today(), Format),
        ("20150101-TF100", today(), Format),
        ("20150101-TX23", today(), Format),
        ("20150101-TFF1", today(), Format),
        ("20150101-T12A", today(), Format),
        ("20150101-F123", today(), Format),
        ("20150101T123", today(), Format),
        ("20150101+T123", today(), Format),
        ("150101-T123", today(), Format),
        ("2015-01-01-T123", today(), Format),
        // not a real date, each with a matching check digit
        ("230230-1235", today(), InvalidDate),
        ("20230230-1235", today(), InvalidDate),
        ("19000229-1234", today(), InvalidDate),
        ("000229-1235", date(2101, 1, 1), InvalidDate), // resolves to 2100-02-29
        ("000229+1235", date(2024, 1, 1), InvalidDate), // resolves to 1900-02-29
        ("811318-9875", today(), InvalidDate),
        ("810018-9870", today(), InvalidDate),
        ("811131-9870", today(), InvalidDate),
        ("811200-9876", today(), InvalidDate),
        ("811232-9878", today(), InvalidDate),
        ("811260-9873", today(), InvalidDate), // samordningsnummer day 0
        ("811292-9875", today(), InvalidDate), // samordningsnummer day 32
        ("230290-1232", today(), InvalidDate), // samordningsnummer 30 February
        ("230289-1235", today(), InvalidDate), // samordningsnummer 29 February 2023
        ("20230230-T123", today(), InvalidDate),
        ("19000229-TF10", today(), InvalidDate),
        ("20150161-T123", today(), InvalidDate), // reserve numbers add nothing to the day
        ("20151301-T123", today(), InvalidDate),
        ("00000101-T123", today(), InvalidDate), // there is no year 0
        // check digit
        ("19811218-9875", today(), CheckDigit),
        ("198112189870", today(), CheckDigit),
        ("811218-9870", today(), CheckDigit),
        ("8112189877", today(), CheckDigit),
        ("811218+9875", today(), CheckDigit),
        ("811278-9876", today(), CheckDigit),
        // birth date after the reference date
        ("19811218-9876", date(1981, 12, 17), BirthAfterReference),
        ("19811278-9873", date(1981, 12, 17), BirthAfterReference),
        ("20240511-1242", today(), BirthAfterReference),
        ("20150101-T123", date(2014, 12, 31), BirthAfterReference),
        ("19900101-TF10", date(1989, 12, 31), BirthAfterReference),
    ];
    for &(text, reference, ref expected) in cases {
        let result = IdentityNumber::parse(text, reference);
        assert_eq!(result.as_ref().err(), Some(expected), "{text:?} {result:?}");
    }
}

#[test]
fn equal_numbers_are_equal_however_written() {
    let forms = [
        "811218-9876",
        "8112189876",
        "19811218-9876",
        "198112189876",
        " 811218-9876 ",
    ];
    let numbers: Vec<IdentityNumber> = forms
        .iter()
        .map(|text| IdentityNumber::parse(text, today()).expect("valid"))
        .collect();
    for number in &numbers {
        assert_eq!(number, &numbers[0]);
    }
    let distinct: HashSet<&IdentityNumber> = numbers.iter().collect();
    assert_eq!(distinct.len(), 1);

    let older = IdentityNumber::parse("811218+9876", today()).expect("valid");
    assert_ne!(older, numbers[0], "a century apart");
    let samordning = IdentityNumber::parse("811278-9873", today()).expect("valid");
    assert_ne!(samordning, numbers[0]);
    let reserve = IdentityNumber::parse("20150101-T123", today()).expect("valid");
    let reserve_tf = IdentityNumber::parse("20150101-TF12", today()).expect("valid");
    assert_ne!(reserve, reserve_tf);
}

#[test]
fn debug_names_only_the_kind() {
    let cases = [
        ("811218-9876", "IdentityNumber(personnummer, redacted)"),
        ("811278-9873", "IdentityNumber(samordningsnummer, redacted)"),
        ("20150101-T123", "IdentityNumber(reserve number, redacted)"),
    ];
    for (text, expected) in cases {
        let number = IdentityNumber::parse(text, today()).expect("valid");
        assert_eq!(format!("{number:?}"), expected);
        assert_eq!(format!("{number:#?}"), expected);
        assert_eq!(format!("{:?}", Some(&number)), format!("Some({expected})"));
    }
}

#[test]
fn error_messages_contain_no_digits() {
    let errors = [Empty, Format, InvalidDate, CheckDigit, BirthAfterReference];
    for error in errors {
        for text in [
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
        ] {
            assert!(!text.is_empty());
            assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
        }
    }
    assert_eq!(
        CheckDigit.to_string(),
        "identity number check digit does not match"
    );
    assert_eq!(
        Format.to_string(),
        "identity number has the wrong form: expected YYYYMMDD-NNNC, YYMMDD-NNNC, \
         YYYYMMDD-TNNN or YYYYMMDD-TFNN"
    );
}

#[test]
fn sex_as_str() {
    assert_eq!(Male.as_str(), "male");
    assert_eq!(Female.as_str(), "female");
}

/// `IMPLEMENTS_DISPLAY` is the inherent constant (true) when `T: Display`, otherwise the trait's
/// default (false); the technique of the `impls` crate.
struct Probe<T: ?Sized>(PhantomData<T>);

trait NotDisplay {
    const IMPLEMENTS_DISPLAY: bool = false;
}

impl<T: ?Sized> NotDisplay for Probe<T> {}

#[allow(dead_code)] // read only when the bound holds
impl<T: ?Sized + Display> Probe<T> {
    const IMPLEMENTS_DISPLAY: bool = true;
}

/// Checked at compile time: giving `IdentityNumber` a `Display` breaks the test build.
#[test]
fn identity_number_has_no_display() {
    const {
        assert!(
            Probe::<String>::IMPLEMENTS_DISPLAY,
            "the probe detects Display"
        );
        assert!(
            Probe::<IdentityError>::IMPLEMENTS_DISPLAY,
            "the probe detects Display"
        );
        assert!(
            !Probe::<IdentityNumber>::IMPLEMENTS_DISPLAY,
            "IdentityNumber must not be Display"
        );
    }
}
