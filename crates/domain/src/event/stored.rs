//! The fast decoder for stored lines: the canonical JSON the store writes
//! ([`RecordedEvent::to_json`]), envelope fields in their one order, `hash` last.
//!
//! It reads the envelope by matching the canonical spelling byte for byte and hands only `data`
//! to serde (the same derived types and the same checks as the strict parser, without path
//! tracking). Anything it does not recognise as canonical — whitespace, another field order, an
//! escaped string, a leap second, a malformed hash — makes it give up, and
//! [`RecordedEvent::from_stored_json`] parses the line again with the strict parser, which either
//! accepts it (a valid, non-canonical line: the same event) or names the field that is wrong.
//! So for every line the result is the strict parser's; `tests.rs` checks that it is.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::de::DeserializeSeed;

use super::{
    DataSeed, EVENT_BYTES_MAX, EnvelopeParts, EventType, ParseError, RecordedEvent, parse_date,
};
use crate::ids::{DecisionId, EventId};

/// `,"hash":"` + 64 hex digits + `"}`: how every stored line ends.
const HASH_SUFFIX_BYTES: usize = 9 + 64 + 2;

impl RecordedEvent {
    /// Parses a line as the store wrote it, fast when it is canonical; otherwise as
    /// [`RecordedEvent::from_json`] does, with the same result and the same errors.
    ///
    /// For reading the log. `verify` keeps to the strict parser, which checks the same things
    /// but reports every problem by field.
    pub fn from_stored_json(text: &str) -> Result<RecordedEvent, ParseError> {
        match decode_canonical(text) {
            Some(event) => Ok(event),
            None => RecordedEvent::from_json(text),
        }
    }
}

/// The envelope of a canonical stored line, borrowed from it: every field read and checked as
/// the fast decoder reads it, and `data` left as its JSON text.
///
/// For readers that need only part of `data` (the projections' fold): they parse `data`
/// themselves. Like the fast decoder, [`StoredEnvelope::parse`] recognises only the canonical
/// spelling; `None` sends the caller to [`RecordedEvent::from_stored_json`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredEnvelope<'a> {
    /// The global position.
    pub position: u64,
    /// The version in the decision's stream.
    pub version: u64,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The event's id.
    pub event_id: EventId,
    /// The decision's id.
    pub decision_id: DecisionId,
    /// The event's type.
    pub event_type: EventType,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// Who recorded it (a user or system id), as stored (unescaped).
    pub actor: Option<&'a str>,
    /// The `data` object's JSON text, not yet parsed.
    pub data: &'a str,
    /// The hash, 64 lowercase hex digits.
    pub hash: &'a str,
}

impl<'a> StoredEnvelope<'a> {
    /// The envelope of `line` if it is spelled canonically (its `data` not looked at), else
    /// `None`.
    pub fn parse(line: &'a str) -> Option<StoredEnvelope<'a>> {
        if line.len() > EVENT_BYTES_MAX {
            return None;
        }
        let bytes = line.as_bytes();
        let data_end = bytes.len().checked_sub(HASH_SUFFIX_BYTES)?;
        let (head, suffix) = (line.get(..data_end)?, &line[data_end..]);
        let hash = suffix.strip_prefix(r#","hash":""#)?.strip_suffix(r#""}"#)?;
        if !is_lower_hex(hash.as_bytes()) {
            return None;
        }

        let mut cursor = Cursor { rest: head };
        cursor.literal(r#"{"position":"#)?;
        let position = cursor.number()?;
        cursor.literal(r#","version":"#)?;
        let version = cursor.number()?;
        cursor.literal(r#","recorded_at":"#)?;
        let recorded_at = instant(cursor.fixed::<27>()?)?;
        cursor.literal(r#","event_id":"#)?;
        let event_id = EventId::from_uuid(uuid(cursor.fixed::<36>()?)?);
        cursor.literal(r#","decision_id":"#)?;
        let decision_id = DecisionId::from_uuid(uuid(cursor.fixed::<36>()?)?);
        cursor.literal(r#","type":"#)?;
        let event_type = EventType::from_name(cursor.string()?)?;
        cursor.literal(r#","occurred_on":"#)?;
        let occurred_on = parse_date(cursor.fixed::<10>()?).ok()?;
        let actor = if cursor.literal(r#","actor":"#).is_some() {
            Some(cursor.string()?)
        } else {
            None
        };
        cursor.literal(r#","data":"#)?;
        Some(StoredEnvelope {
            position,
            version,
            recorded_at,
            event_id,
            decision_id,
            event_type,
            occurred_on,
            actor,
            data: cursor.rest,
            hash,
        })
    }
}

/// The event in a canonical stored line, or `None` when the line is not canonical or not valid.
pub(super) fn decode_canonical(text: &str) -> Option<RecordedEvent> {
    let envelope = StoredEnvelope::parse(text)?;
    let mut deserializer = serde_json::Deserializer::from_str(envelope.data);
    let data = DataSeed(envelope.event_type)
        .deserialize(&mut deserializer)
        .ok()?;
    deserializer.end().ok()?;

    let parts = EnvelopeParts {
        event_type: Some(envelope.event_type),
        data: Some(data),
        raw_data: None,
        event_id: Some(envelope.event_id),
        decision_id: Some(envelope.decision_id),
        occurred_on: Some(envelope.occurred_on),
        actor: envelope.actor.map(str::to_owned),
        recorded_at: Some(envelope.recorded_at),
        position: Some(envelope.position),
        version: Some(envelope.version),
        hash: Some(envelope.hash.to_owned()),
    };
    let wire = parts.finish().ok()?;
    Some(RecordedEvent {
        position: wire.position?,
        version: wire.version?,
        recorded_at: wire.recorded_at?,
        event_id: wire.event_id?,
        decision_id: wire.decision_id,
        occurred_on: wire.occurred_on,
        actor: wire.actor,
        data: wire.data,
        hash: wire.hash?,
    })
}

/// What is left of the line's envelope.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// Consumes `expected` exactly.
    fn literal(&mut self, expected: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(expected)?;
        Some(())
    }

    /// A JSON integer as the canonical form writes a `u64`: digits, no leading zero.
    fn number(&mut self) -> Option<u64> {
        let bytes = self.rest.as_bytes();
        let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || (digits > 1 && bytes[0] == b'0') {
            return None;
        }
        let mut value: u64 = 0;
        for &b in &bytes[..digits] {
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        self.rest = &self.rest[digits..];
        Some(value)
    }

    /// A JSON string with nothing escaped (else the strict parser reads it): its text.
    fn string(&mut self) -> Option<&'a str> {
        let rest = self.rest.strip_prefix('"')?;
        // One pass to the closing quote; a `\` (an escape) or a control character before it
        // sends the line to the strict parser.
        let end = string_end(rest.as_bytes())?;
        if rest.as_bytes()[end] != b'"' {
            return None;
        }
        // `end` is at an ASCII quote, so both halves are whole UTF-8.
        let text = &rest[..end];
        self.rest = &rest[end + 1..];
        Some(text)
    }

    /// A JSON string of exactly `N` bytes, for ids, dates and instants: no search for the
    /// quote. It does not look inside: each caller's parser accepts only ASCII digits, hex
    /// digits and separators, so an escape or a control character there is refused by it.
    fn fixed<const N: usize>(&mut self) -> Option<&'a str> {
        let bytes = self.rest.as_bytes();
        if bytes.len() < N + 2 || bytes[0] != b'"' || bytes[N + 1] != b'"' {
            return None;
        }
        let text = self.rest.get(1..=N)?;
        self.rest = self.rest.get(N + 2..)?;
        Some(text)
    }
}

/// Whether every byte is a lowercase hex digit: without a branch per byte (a hash is 64).
fn is_lower_hex(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |all, &b| {
        all & ((b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'a') < 6))
    })
}

/// Where a JSON string's text ends or needs the strict parser: the first quote, backslash or
/// control character, eight bytes a step (the test for a zero byte, `(x - 0x01…) & !x &
/// 0x80…`, whose lowest flag is always exact).
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flags = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        let flags = flags & HIGHS;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// A UUID in its hyphenated form (the parser checks every byte; capitals are the same id, as
/// for the strict parser).
fn uuid(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::try_parse(text).ok()
}

/// The value of the ASCII digits `digits`, or `None` if one is not a digit.
fn digits(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// The date of an instant, `YYYY-MM-DD` (no range check: instants are the store's clock).
fn date(b: &[u8]) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// An instant as [`super::format_instant`] writes it, `YYYY-MM-DDTHH:MM:SS.ffffffZ`; `None`
/// for any other spelling (a leap second included), which the strict parser then reads.
fn instant(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let second = digits(&b[17..19])?;
    if second > 59 {
        return None;
    }
    let date = date(&b[..10])?;
    let time = NaiveTime::from_hms_micro_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        second,
        digits(&b[20..26])?,
    )?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

#[cfg(test)]
mod tests;
