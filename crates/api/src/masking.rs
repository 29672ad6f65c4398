//! Masking protected identities (`person.protected`, skyddade personuppgifter) in stored events
//! sent to a role without an explicit grant ([`crate::auth::Action::ReadProtected`]).
//!
//! The stored line is canonical JSON with one field order, so a protected person is always
//! written `"person":{"id":"<number>","protected":true}`; the number becomes `null` and nothing
//! else changes (the `hash` then covers the stored bytes, not the masked ones). A line that says
//! `"protected":true` in any other shape is never sent: masking fails closed.

use std::borrow::Cow;

const PERSON_ID: &[u8] = br#""person":{"id":""#;
const PROTECTED_TAIL: &[u8] = br#","protected":true}"#;

/// `line` with a protected person's identity number replaced by `null`; `None` when the line
/// mentions a protected person in a shape it cannot mask.
pub fn mask_protected(line: &[u8]) -> Option<Cow<'_, [u8]>> {
    if find(line, br#""protected":true"#).is_none() {
        return Some(Cow::Borrowed(line));
    }
    let start = find(line, PERSON_ID)? + PERSON_ID.len() - 1;
    let end = start + 1 + memchr::memchr(b'"', &line[start + 1..])?;
    if !line[end + 1..].starts_with(PROTECTED_TAIL) {
        return None;
    }
    let mut masked = Vec::with_capacity(line.len());
    masked.extend_from_slice(&line[..start]);
    masked.extend_from_slice(b"null");
    masked.extend_from_slice(&line[end + 1..]);
    Some(Cow::Owned(masked))
}

/// The line as `caller` may see it: unmasked with the grant, masked without.
pub(crate) fn as_seen_by<'a>(
    caller: &crate::auth::Caller,
    line: &'a [u8],
) -> Result<Cow<'a, [u8]>, crate::problem::ApiError> {
    if caller.role.may(crate::auth::Action::ReadProtected) {
        return Ok(Cow::Borrowed(line));
    }
    mask_protected(line).ok_or_else(|| {
        crate::problem::ApiError::internal(
            &"a stored event names a protected person in a shape that cannot be masked",
        )
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protected_number_becomes_null_and_nothing_else_changes() {
        let line = br#"{"position":1,"data":{"person":{"id":"19121212-1212","protected":true},"law":"LSS"},"hash":"ab"}"#;
        let masked = mask_protected(line).expect("maskable");
        assert_eq!(
            masked.as_ref(),
            br#"{"position":1,"data":{"person":{"id":null,"protected":true},"law":"LSS"},"hash":"ab"}"#
        );
        let open = br#"{"data":{"person":{"id":"19121212-1212","protected":false}}}"#;
        assert!(matches!(mask_protected(open), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn a_text_that_quotes_the_words_is_no_protected_person() {
        let line = br#"{"data":{"text":"\"protected\":true"}}"#;
        assert!(matches!(mask_protected(line), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn an_unexpected_shape_is_never_sent() {
        for line in [
            &br#"{"data":{"person":{"protected":true,"id":"19121212-1212"}}}"#[..],
            br#"{"data":{"person":{"protected":true}}}"#,
        ] {
            assert!(mask_protected(line).is_none());
        }
    }
}
