//! Redaction of anything that looks like a personal identity number.
//!
//! Identity numbers are sensitive: they must never reach a log line, a trace or an error
//! message. Typed values ([`identity::IdentityNumber`]) never print themselves; this module is
//! the second line of defence for text that quotes outside input (a serde error repeating a
//! value, say): every error message built from input passes through [`redact_identity_like`].

use std::borrow::Cow;

/// What a redacted number is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Replaces every substring that looks like an identity number with [`REDACTED`]:
/// 6 or 8 digits followed by `-` or `+` and four digits, `T` and three digits or `TF` and two;
/// or 10 or 12 digits in a row. Dates (`2023-02-30`) and short numbers are left alone.
pub fn redact_identity_like(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let boundary_before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if boundary_before
            && bytes[i].is_ascii_digit()
            && let Some(len) = identity_like_at(&bytes[i..])
        {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..i]);
            out.push_str(REDACTED);
            i += len;
            copied = i;
            continue;
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The length of an identity-like run at the start of `bytes`, if there is one.
fn identity_like_at(bytes: &[u8]) -> Option<usize> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let ends_at = |len: usize| bytes.get(len).is_none_or(|b| !b.is_ascii_alphanumeric());
    if (digits == 10 || digits == 12) && ends_at(digits) {
        return Some(digits);
    }
    if digits != 6 && digits != 8 {
        return None;
    }
    let rest = &bytes[digits..];
    if !matches!(rest.first(), Some(b'-' | b'+')) {
        return None;
    }
    let tail = &rest[1..];
    let count = |from: usize| {
        tail.iter()
            .skip(from)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    // Every tail is four characters: NNNC, TNNN or TFNN.
    let tail_fits = (tail.starts_with(b"TF") && count(2) == 2)
        || (tail.starts_with(b"T") && count(1) == 3)
        || count(0) == 4;
    if !tail_fits {
        return None;
    }
    let len = digits + 1 + 4;
    ends_at(len).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_form() {
        for number in [
            "19811218-9876",
            "198112189876",
            "811218-9876",
            "811218+9876",
            "8112189876",
            "20150101-T123",
            "19900101-TF10",
        ] {
            let text = format!("invalid type: string \"{number}\", expected a boolean");
            let redacted = redact_identity_like(&text);
            assert!(!redacted.contains(number), "{redacted}");
            assert!(redacted.contains(REDACTED), "{redacted}");
        }
    }

    #[test]
    fn leaves_dates_uuids_and_counts_alone() {
        for text in [
            "2023-02-30 is not a real date",
            "line 12345: event 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "position 123456789 is damaged",
        ] {
            assert_eq!(redact_identity_like(text), text);
        }
    }
}
