//! [`Table`]: the name of one keyspace. Names are checked once, when the constant is built, so an
//! invalid name cannot reach an engine.

use std::fmt;
use std::sync::Mutex;

use crate::TABLE_NAME_BYTES_MAX;

/// A named keyspace: keys in one table never collide with keys in another.
///
/// A table exists as soon as a batch writes to it; reading a table never written reads as empty.
/// Build tables as constants, so that a bad name fails the build:
///
/// ```
/// use kv::Table;
/// const EVENTS: Table = Table::new("events");
/// assert_eq!(EVENTS.name(), "events");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Table(&'static str);

impl Table {
    /// A table named `name`: 1 to [`TABLE_NAME_BYTES_MAX`] bytes of `a`–`z`, `0`–`9` and `_`.
    ///
    /// The restricted alphabet is part of the on-disk format: the sled engine prefixes keys with
    /// the name, and relies on no name byte being `0xFF`.
    ///
    /// # Panics
    /// If `name` is empty, too long, or has another character. In a `const` this fails the build.
    pub const fn new(name: &'static str) -> Table {
        let bytes = name.as_bytes();
        assert!(
            !bytes.is_empty() && bytes.len() <= TABLE_NAME_BYTES_MAX,
            "a table name has 1 to TABLE_NAME_BYTES_MAX (64) bytes"
        );
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            assert!(
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_',
                "a table name has only the characters a-z, 0-9 and _"
            );
            index += 1;
        }
        Table(name)
    }

    /// The table's name.
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// The table named `name`, read back from disk (the write-ahead log names each operation's
    /// table): checked as [`Table::new`] checks, without panicking. Each name is kept once for
    /// the life of the process; a store has a handful.
    pub(crate) fn interned(name: &str) -> Result<Table, String> {
        static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
        let valid = !name.is_empty()
            && name.len() <= TABLE_NAME_BYTES_MAX
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(format!("{name:?} is not a table name"));
        }
        let mut names = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kept = match names.iter().find(|kept| **kept == name) {
            Some(kept) => *kept,
            None => {
                let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
                names.push(kept);
                kept
            }
        };
        Ok(Table(kept))
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_store_tables() {
        for name in [
            "events",
            "streams",
            "heads",
            "event_ids",
            "checkpoints",
            "meta",
            "a",
            "x9_",
        ] {
            assert_eq!(Table::new(name).name(), name);
        }
        let longest = "a".repeat(TABLE_NAME_BYTES_MAX).leak();
        assert_eq!(Table::new(longest).name().len(), TABLE_NAME_BYTES_MAX);
    }

    #[test]
    fn refuses_bad_names() {
        let too_long: &'static str = "a".repeat(TABLE_NAME_BYTES_MAX + 1).leak();
        for name in [
            "",
            "Events",
            "events-log",
            "ev ents",
            "é",
            "\u{ff}",
            too_long,
        ] {
            let outcome = std::panic::catch_unwind(|| Table::new(name));
            assert!(outcome.is_err(), "{name:?} was accepted");
        }
    }
}
