//! Swedish personal identity numbers, parsed once at the edge and redacted everywhere else.
//!
//! An [`IdentityNumber`] is one of three kinds ([`IdentityKind`]):
//!
//! - **personnummer**, written `YYYYMMDD-NNNC`, `YYYYMMDDNNNC`, `YYMMDD-NNNC`, `YYMMDDNNNC` or
//!   `YYMMDD+NNNC`. `NNN` is the serial number and `C` a Luhn check digit computed over the ten
//!   digits `YYMMDDNNN` (the century never takes part in it).
//! - **samordningsnummer**, the same forms with 60 added to the day of birth (days 61–91); the
//!   birth date is the written day minus 60.
//! - **IVO reserve number**, for people with protected personal data or without a personnummer:
//!   `YYYYMMDD-TNNN` or `YYYYMMDD-TFNN`, with a literal uppercase `T` or `TF` followed by digits
//!   and no check digit. The date must be a real date (no 60 is added).
//!
//! In every form the digit just before the last gives the sex: odd for a man, even for a woman.
//! Anything else is refused: another length or separator, letters other than the reserve
//! number's `T`/`TF`, a date that does not exist (2023-02-30, 1900-02-29), a check digit that does
//! not match, a birth date after the reference date. Surrounding whitespace is ignored.
//!
//! # The century of a 10-digit number
//!
//! [`IdentityNumber::parse`] takes a *reference* date. A 10-digit number written with `-` or
//! without a separator belongs to someone under 100 years old on the reference date; one written
//! with `+` to someone 100 or older (the birth date is then the latest one that makes them so).
//! So, on 2024-05-10, `240510-…` was born on 2024-05-10 and `240511-…` on 1924-05-11, while
//! `240510+…` was born on 1924-05-10. Age counts whole years: someone born on 29 February
//! becomes a year older on 1 March in a year without 29 February. No birth date, in any form,
//! may be after the reference date.
//!
//! The reference date is part of the meaning of a 10-digit number: parsing the same text with a
//! reference a century later can give another birth date. Store [`IdentityNumber::canonical`],
//! or keep the reference date beside the text, when the number must be read again later.
//!
//! # Redaction
//!
//! An identity number is sensitive personal data. [`IdentityNumber`] has no `Display`, and its
//! `Debug` prints only the kind (`IdentityNumber(personnummer, redacted)`). [`IdentityError`]
//! names what is wrong and never echoes any character of the input; its messages contain no
//! digits at all. The text leaves this type only through [`IdentityNumber::reveal`] and
//! [`IdentityNumber::canonical`], whose names make every such call visible in review.
//!
//! ```
//! use chrono::NaiveDate;
//! use identity::{IdentityKind, IdentityNumber, Sex};
//!
//! let reference = NaiveDate::from_ymd_opt(2024, 5, 10).expect("a real date");
//! let number = IdentityNumber::parse(" 811218-9876 ", reference)?;
//! assert_eq!(number.kind(), IdentityKind::Personnummer);
//! assert_eq!(number.birth_date(), NaiveDate::from_ymd_opt(1981, 12, 18).expect("a real date"));
//! assert_eq!(number.sex(), Sex::Male);
//! assert_eq!(number.reveal(), "811218-9876");
//! assert_eq!(number.canonical(), "19811218-9876");
//! assert_eq!(format!("{number:?}"), "IdentityNumber(personnummer, redacted)");
//! # Ok::<(), identity::IdentityError>(())
//! ```

use std::fmt;
use std::hash::{Hash, Hasher};

use chrono::{Datelike, NaiveDate};

/// The earliest birth year accepted: there is no year 0 in the calendar the numbers are written in.
const BIRTH_YEAR_MIN: i32 = 1;
/// The latest birth year accepted: the canonical form has four digits for the year.
const BIRTH_YEAR_MAX: i32 = 9999;
/// Added to the day of birth in a samordningsnummer.
const SAMORDNINGSNUMMER_DAY_OFFSET: u8 = 60;

/// A Swedish personal identity number: personnummer, samordningsnummer or IVO reserve number.
///
/// Only [`IdentityNumber::parse`] makes one, so a value of this type is always valid. Two numbers
/// are equal when their [canonical](IdentityNumber::canonical) forms are equal, however they were
/// written: `811218-9876` (parsed in 2024) equals `19811218-9876`.
///
/// There is deliberately no `Display`, and `Debug` is redacted; see the crate documentation.
#[derive(Clone)]
pub struct IdentityNumber {
    /// The text as written, surrounding whitespace trimmed. Always ASCII.
    written: String,
    /// `YYYYMMDD-NNNC`, `YYYYMMDD-TNNN` or `YYYYMMDD-TFNN`; the day as written (plus 60 for a
    /// samordningsnummer).
    canonical: String,
    kind: IdentityKind,
    birth_date: NaiveDate,
    sex: Sex,
}

/// Which kind of identity number an [`IdentityNumber`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// A personnummer from Skatteverket: the real day of birth, Luhn check digit.
    Personnummer,
    /// A samordningsnummer: like a personnummer, with 60 added to the day of birth.
    Samordningsnummer,
    /// An IVO reserve number (`YYYYMMDD-TNNN` or `YYYYMMDD-TFNN`) for a protected or missing
    /// identity; no check digit.
    ReserveNumber,
}

impl IdentityKind {
    /// The name used in the redacted `Debug` output.
    fn label(self) -> &'static str {
        match self {
            IdentityKind::Personnummer => "personnummer",
            IdentityKind::Samordningsnummer => "samordningsnummer",
            IdentityKind::ReserveNumber => "reserve number",
        }
    }
}

/// The sex an identity number records (the digit just before the last: odd or even).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// An odd sex digit.
    Male,
    /// An even sex digit.
    Female,
}

impl Sex {
    /// `"male"` or `"female"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Why a text is not a valid identity number.
///
/// No variant carries any part of the input, and no message contains a digit, so an error can be
/// logged or shown without leaking the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Nothing but whitespace.
    #[error("identity number is empty")]
    Empty,
    /// Not one of the accepted forms: wrong length, a letter, a wrong or misplaced separator.
    #[error(
        "identity number has the wrong form: expected YYYYMMDD-NNNC, YYMMDD-NNNC, \
         YYYYMMDD-TNNN or YYYYMMDD-TFNN"
    )]
    Format,
    /// The date part is not a real date (after taking 60 from a samordningsnummer's day and
    /// resolving a 10-digit number's century).
    #[error("identity number does not hold a real date")]
    InvalidDate,
    /// The Luhn check digit does not match the other digits.
    #[error("identity number check digit does not match")]
    CheckDigit,
    /// The birth date is after the reference date.
    #[error("identity number birth date is after the reference date")]
    BirthAfterReference,
}

/// What an identity number says, without the number ([`IdentityNumber::facts_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityFacts {
    /// Which kind of number it is.
    pub kind: IdentityKind,
    /// The birth date; for a samordningsnummer, the written day minus 60.
    pub birth_date: NaiveDate,
    /// The sex: the digit just before the last, odd for male and even for female.
    pub sex: Sex,
}

impl IdentityNumber {
    /// Parses a personnummer, samordningsnummer or IVO reserve number.
    ///
    /// `reference` is the date against which a 10-digit form's century is resolved
    /// (`-` or no separator: the person is under 100 at `reference`; `+`: 100 or older),
    /// and no birth date may be after it. Surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// The problems are checked in this order and the first one found is returned:
    /// [`IdentityError::Empty`], [`IdentityError::Format`], [`IdentityError::InvalidDate`],
    /// [`IdentityError::CheckDigit`], [`IdentityError::BirthAfterReference`].
    pub fn parse(text: &str, reference: NaiveDate) -> Result<IdentityNumber, IdentityError> {
        let written = text.trim();
        let read = Read::of(written, reference)?;
        // `read` accepted only ASCII, and every form ends in four characters after the date.
        let last_four = &written[written.len() - 4..];
        let canonical = format!(
            "{year:04}{month:02}{day_written:02}-{last_four}",
            year = read.year,
            month = read.month,
            day_written = read.day_written,
        );
        Ok(IdentityNumber {
            written: written.to_owned(),
            canonical,
            kind: read.facts.kind,
            birth_date: read.facts.birth_date,
            sex: read.facts.sex,
        })
    }

    /// What a number says — its kind, birth date and sex — checked exactly as
    /// [`IdentityNumber::parse`] checks it (the same errors), without keeping the number: for
    /// readers that need only what it says, such as the projections' fold.
    ///
    /// # Errors
    /// As [`IdentityNumber::parse`].
    pub fn facts_of(text: &str, reference: NaiveDate) -> Result<IdentityFacts, IdentityError> {
        Read::of(text.trim(), reference).map(|read| read.facts)
    }

    /// Which kind of number this is.
    pub fn kind(&self) -> IdentityKind {
        self.kind
    }

    /// The birth date; for a samordningsnummer, the written day minus 60.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The sex: the digit just before the last, odd for male and even for female (in every form).
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The number exactly as written (surrounding whitespace trimmed). The only way the raw text
    /// gets out (besides [`IdentityNumber::canonical`]); named so every call site is visible in
    /// review.
    pub fn reveal(&self) -> &str {
        &self.written
    }

    /// The canonical 12-digit form `YYYYMMDD-NNNC` (reserve numbers: `YYYYMMDD-TNNN` /
    /// `YYYYMMDD-TFNN`). A samordningsnummer keeps its day plus 60.
    pub fn canonical(&self) -> String {
        self.canonical.clone()
    }
}

/// What a number says, and the date fields its canonical form is written from.
struct Read {
    facts: IdentityFacts,
    year: i32,
    month: u8,
    day_written: u8,
}

impl Read {
    /// Reads and checks `written` (trimmed), as [`IdentityNumber::parse`] documents.
    fn of(written: &str, reference: NaiveDate) -> Result<Read, IdentityError> {
        if written.is_empty() {
            return Err(IdentityError::Empty);
        }
        let fields = Fields::read(written.as_bytes())?;

        let kind = match fields.tail {
            Tail::Reserve { .. } => IdentityKind::ReserveNumber,
            Tail::Checked { .. } if fields.day_written > SAMORDNINGSNUMMER_DAY_OFFSET => {
                IdentityKind::Samordningsnummer
            }
            Tail::Checked { .. } => IdentityKind::Personnummer,
        };
        let month = u32::from(fields.month);
        let day = match kind {
            IdentityKind::Samordningsnummer => fields.day_written - SAMORDNINGSNUMMER_DAY_OFFSET,
            IdentityKind::Personnummer | IdentityKind::ReserveNumber => fields.day_written,
        };
        let day = u32::from(day);
        let year = match fields.century {
            Century::Written(century) => i32::from(century) * 100 + i32::from(fields.yy),
            Century::Resolve { hundred_or_older } => {
                resolve_year(fields.yy, month, day, reference, hundred_or_older)
            }
        };
        let birth_date = Some(year)
            .filter(|year| (BIRTH_YEAR_MIN..=BIRTH_YEAR_MAX).contains(year))
            .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
            .ok_or(IdentityError::InvalidDate)?;

        if let Tail::Checked { serial, check } = fields.tail {
            let [s1, s2, s3] = serial;
            let significant = [
                fields.yy / 10,
                fields.yy % 10,
                fields.month / 10,
                fields.month % 10,
                fields.day_written / 10,
                fields.day_written % 10,
                s1,
                s2,
                s3,
            ];
            if luhn_check_digit(significant) != check {
                return Err(IdentityError::CheckDigit);
            }
        }
        if birth_date > reference {
            return Err(IdentityError::BirthAfterReference);
        }

        let sex = if fields.tail.sex_digit() % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        Ok(Read {
            facts: IdentityFacts {
                kind,
                birth_date,
                sex,
            },
            year,
            month: fields.month,
            day_written: fields.day_written,
        })
    }
}

impl fmt::Debug for IdentityNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityNumber({}, redacted)", self.kind.label())
    }
}

// Equality and hashing follow the canonical form, so the way a number was written (10 or 12
// digits, with or without separator) does not make two records of one person differ. Every other
// field is derived from the canonical form, except `written`.
impl PartialEq for IdentityNumber {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for IdentityNumber {}

impl Hash for IdentityNumber {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

/// The parts of a number read from its text, before any date or check digit is checked.
struct Fields {
    century: Century,
    /// The last two digits of the year.
    yy: u8,
    month: u8,
    /// The day as written: plus 60 in a samordningsnummer.
    day_written: u8,
    tail: Tail,
}

enum Century {
    /// A 12-digit form: the first two digits of the year.
    Written(u8),
    /// A 10-digit form: the century comes from the reference date and the separator.
    Resolve { hundred_or_older: bool },
}

enum Tail {
    /// `NNNC`: a serial number and a Luhn check digit.
    Checked { serial: [u8; 3], check: u8 },
    /// `TNNN` or `TFNN`: no check digit.
    Reserve { sex_digit: u8 },
}

impl Tail {
    /// The digit just before the last.
    fn sex_digit(&self) -> u8 {
        match *self {
            Tail::Checked { serial, .. } => serial[2],
            Tail::Reserve { sex_digit } => sex_digit,
        }
    }
}

impl Fields {
    /// Reads one of the accepted forms, or refuses with [`IdentityError::Format`].
    fn read(text: &[u8]) -> Result<Fields, IdentityError> {
        let format = IdentityError::Format;
        match text.len() {
            // YYYYMMDD-NNNC, YYYYMMDD-TNNN, YYYYMMDD-TFNN
            13 => {
                let (date, rest) = text.split_at(8);
                let [c1, c2, date @ ..] = digits::<8>(date).ok_or(format.clone())?;
                let tail = match rest {
                    [b'-', b'T', b'F', serial @ ..] => {
                        digits::<2>(serial).map(|[sex_digit, _]| Tail::Reserve { sex_digit })
                    }
                    [b'-', b'T', serial @ ..] => {
                        digits::<3>(serial).map(|[_, sex_digit, _]| Tail::Reserve { sex_digit })
                    }
                    [b'-', serial @ ..] => digits::<4>(serial).map(checked),
                    _ => None,
                };
                Ok(Fields::new(
                    Century::Written(c1 * 10 + c2),
                    date,
                    tail.ok_or(format)?,
                ))
            }
            // YYYYMMDDNNNC
            12 => {
                let [c1, c2, y1, y2, m1, m2, d1, d2, s1, s2, s3, check] =
                    digits::<12>(text).ok_or(format)?;
                let century = Century::Written(c1 * 10 + c2);
                Ok(Fields::new(
                    century,
                    [y1, y2, m1, m2, d1, d2],
                    checked([s1, s2, s3, check]),
                ))
            }
            // YYMMDD-NNNC, YYMMDD+NNNC
            11 => {
                let (date, rest) = text.split_at(6);
                let date = digits::<6>(date).ok_or(format.clone())?;
                let (hundred_or_older, serial) = match rest {
                    [b'-', serial @ ..] => (false, serial),
                    [b'+', serial @ ..] => (true, serial),
                    _ => return Err(format),
                };
                let serial = digits::<4>(serial).ok_or(format)?;
                Ok(Fields::new(
                    Century::Resolve { hundred_or_older },
                    date,
                    checked(serial),
                ))
            }
            // YYMMDDNNNC
            10 => {
                let [y1, y2, m1, m2, d1, d2, s1, s2, s3, check] =
                    digits::<10>(text).ok_or(format)?;
                let century = Century::Resolve {
                    hundred_or_older: false,
                };
                Ok(Fields::new(
                    century,
                    [y1, y2, m1, m2, d1, d2],
                    checked([s1, s2, s3, check]),
                ))
            }
            _ => Err(format),
        }
    }

    fn new(century: Century, [y1, y2, m1, m2, d1, d2]: [u8; 6], tail: Tail) -> Fields {
        Fields {
            century,
            yy: y1 * 10 + y2,
            month: m1 * 10 + m2,
            day_written: d1 * 10 + d2,
            tail,
        }
    }
}

fn checked([s1, s2, s3, check]: [u8; 4]) -> Tail {
    Tail::Checked {
        serial: [s1, s2, s3],
        check,
    }
}

/// The values of exactly `N` ASCII digits, or `None`.
fn digits<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != N {
        return None;
    }
    let mut values = [0; N];
    for (value, &byte) in values.iter_mut().zip(text) {
        if !byte.is_ascii_digit() {
            return None;
        }
        *value = byte - b'0';
    }
    Some(values)
}

/// The year of a 10-digit number: the latest year ending in `yy` whose `month`-`day` is not after
/// `reference` (so the person is 0–99 years old), a hundred years earlier for `+` (100–199).
///
/// Compares the fields as numbers, so a date that does not exist still gets a century and is
/// refused afterwards by the real-date check.
fn resolve_year(yy: u8, month: u32, day: u32, reference: NaiveDate, hundred_or_older: bool) -> i32 {
    let reference_year = reference.year();
    let mut year = reference_year - (reference_year - i32::from(yy)).rem_euclid(100);
    if year == reference_year && (month, day) > (reference.month(), reference.day()) {
        year -= 100;
    }
    if hundred_or_older {
        year -= 100;
    }
    year
}

/// The Luhn check digit for `YYMMDDNNN`: weights 2, 1, 2, … from the left, the digits of each
/// product summed, then the amount that brings the total up to a multiple of ten.
fn luhn_check_digit(digits: [u8; 9]) -> u8 {
    // At most nine products of at most 18 whose digits sum to at most 9: no overflow.
    let sum: u8 = digits
        .iter()
        .zip([2, 1].into_iter().cycle())
        .map(|(digit, weight)| {
            let product = digit * weight;
            product / 10 + product % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
