//! What the tools' command lines share: `clap` parses them (each tool derives its own
//! `Args`), with these parsers for values clap has none for, and [`Checked`] for what no single
//! option can tell. A parser's message says what is wrong with the value; clap adds the
//! option's name.
//!
//! A list option is declared `::std::vec::Vec<T>`: written out in full, clap takes it as one
//! value (`--engines redb,postgres`, parsed by [`names`] and the like) rather than as an option
//! given once per item, and a repeated option counts once, the last, as every other.

use std::ffi::OsString;
use std::fmt::Display;
use std::str::FromStr;

use clap::ValueEnum;
use clap::error::ErrorKind;

/// A tool's parsed command line, with the rules that span more than one option (or depend on
/// the build) checked after clap has parsed each option alone.
pub trait Checked: clap::Parser {
    /// What is wrong across the options, naming them; `Ok` when nothing is.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    /// Parses `argv` (the program's name first), then checks it. `--help` is an `Err` of kind
    /// [`ErrorKind::DisplayHelp`], as clap has it.
    fn try_parse_checked<I, T>(argv: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = Self::try_parse_from(argv)?;
        args.check()
            .map_err(|message| Self::command().error(ErrorKind::ValueValidation, message))?;
        Ok(args)
    }

    /// This process's arguments, parsed and checked; on `--help` the help is printed and the
    /// process exits 0, on a mistake the mistake and the usage, and it exits 2.
    fn parse_checked() -> Self {
        Self::try_parse_checked(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }
}

/// `words` as a command line of `A` (after a program name), parsed and checked; a mistake as
/// clap prints it. For the tools' tests.
pub fn parse_words<A: Checked>(words: &[&str]) -> Result<A, String> {
    A::try_parse_checked(std::iter::once("bench").chain(words.iter().copied()))
        .map_err(|error| error.to_string())
}

/// Asserts what every tool's command line does: it passes clap's own consistency checks, and
/// answers `--help` (with the help, not a mistake). For the tools' tests.
pub fn assert_help<A: Checked>() {
    A::command().debug_assert();
    let help = A::try_parse_from(["bench", "--help"]).map(|_| ());
    assert_eq!(
        help.map_err(|error| error.kind()),
        Err(ErrorKind::DisplayHelp)
    );
}

/// A whole number; blanks around it and `_` between digits (`1_000_000`) are allowed.
pub fn number<T: FromStr>(text: &str) -> Result<T, String> {
    text.trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))
}

/// A whole number of at least 1, written as [`number`] takes it.
pub fn positive<T: FromStr + PartialOrd + Display + From<u8>>(text: &str) -> Result<T, String> {
    at_least(text, T::from(1))
}

/// A whole number of at least `least`, written as [`number`] takes it.
pub fn at_least<T: FromStr + PartialOrd + Display>(text: &str, least: T) -> Result<T, String> {
    let n: T = number(text)?;
    if n < least {
        return Err(format!("must be at least {least}"));
    }
    Ok(n)
}

/// A comma-separated list of whole numbers of at least 1 (`1,16,256`), at least one.
pub fn positive_numbers<T: FromStr + PartialOrd + Display + From<u8>>(
    text: &str,
) -> Result<Vec<T>, String> {
    items(text, positive)
}

/// A comma-separated list of names (`redb,postgres`), at least one, each parsed by `T`'s
/// `FromStr`, whose message names what it does not know.
pub fn names<T: FromStr<Err = String>>(text: &str) -> Result<Vec<T>, String> {
    items(text, T::from_str)
}

/// A comma-separated list of a [`ValueEnum`]'s names (`append,read`), at least one.
pub fn choices<T: ValueEnum>(text: &str) -> Result<Vec<T>, String> {
    items(text, |item| {
        T::from_str(item, false).map_err(|_| {
            let names: Vec<String> = T::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value)
                .map(|value| value.get_name().to_owned())
                .collect();
            format!("`{item}` is none of {}", names.join(", "))
        })
    })
}

/// `Ok` when this build has every one of `chosen` (`built` tells), else the first it lacks,
/// named with `option`: a tool built without the `sled` feature has no sled engine.
pub fn all_built<T: Display>(
    option: &str,
    chosen: &[T],
    built: impl Fn(&T) -> bool,
) -> Result<(), String> {
    match chosen.iter().find(|item| !built(item)) {
        Some(item) => Err(format!(
            "{option}: this build has no {item}: build with --features sled"
        )),
        None => Ok(()),
    }
}

/// The items of a comma-separated list, each trimmed and parsed by `parse`; empty items are
/// skipped, and a list with none is refused.
fn items<T>(text: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let items = text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(parse)
        .collect::<Result<Vec<T>, String>>()?;
    if items.is_empty() {
        return Err("needs at least one value".to_owned());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_allow_underscores_and_blanks() {
        assert_eq!(number::<u64>(" 1_000 "), Ok(1000));
        assert_eq!(
            number::<u64>("ten"),
            Err("`ten` is not a number".to_owned())
        );
        assert_eq!(positive::<usize>("3"), Ok(3));
        assert_eq!(positive::<usize>("0"), Err("must be at least 1".to_owned()));
        assert_eq!(
            at_least::<u64>("99", 100),
            Err("must be at least 100".to_owned())
        );
    }

    #[derive(Debug, Clone, PartialEq, ValueEnum)]
    enum Drink {
        Coffee,
        HotWater,
    }

    #[test]
    fn lists_skip_empty_items_and_refuse_none() {
        assert_eq!(
            positive_numbers::<usize>("1, 16,,256,"),
            Ok(vec![1, 16, 256])
        );
        assert_eq!(
            positive_numbers::<usize>("2,0"),
            Err("must be at least 1".to_owned())
        );
        assert_eq!(
            positive_numbers::<usize>(" , "),
            Err("needs at least one value".to_owned())
        );
        assert_eq!(
            choices::<Drink>("coffee, hot-water"),
            Ok(vec![Drink::Coffee, Drink::HotWater])
        );
        assert_eq!(
            choices::<Drink>("tea"),
            Err("`tea` is none of coffee, hot-water".to_owned())
        );
        assert_eq!(
            items("a, b", |item| Ok(item.to_owned())),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
    }
}
