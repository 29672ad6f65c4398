//! Progress on a terminal: bars and spinners on standard error while a long command works.
//!
//! Nothing is drawn unless the caller says standard error is a terminal ([`crate::Console`]'s
//! `progress`); even then indicatif's own check hides everything when it is not. Bars are
//! cleared before the command prints its result, so they never mix with it.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a spinner turns, in milliseconds.
const SPINNER_TICK_MILLIS: u64 = 120;

fn target(shown: bool) -> ProgressDrawTarget {
    if shown {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn style(template: &str, fallback: ProgressStyle) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or(fallback)
}

/// A bar counting up to `total` (bytes read, events checked).
pub fn bar(shown: bool, total: u64, message: String) -> ProgressBar {
    ProgressBar::with_draw_target(Some(total), target(shown))
        .with_style(style(
            "{msg} {bar:40} {percent:>3}%",
            ProgressStyle::default_bar(),
        ))
        .with_message(message)
}

/// A spinner with a message and a running count (`{pos}`), for work of unknown length.
pub fn counter(shown: bool, message: String) -> ProgressBar {
    ProgressBar::with_draw_target(None, target(shown))
        .with_style(style(
            "{spinner} {msg} {pos}",
            ProgressStyle::default_spinner(),
        ))
        .with_message(message)
}

/// A spinner that turns on its own while one long call runs.
pub fn spinner(shown: bool, message: String) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target(shown))
        .with_style(style(
            "{spinner} {msg} ({elapsed})",
            ProgressStyle::default_spinner(),
        ))
        .with_message(message);
    if shown {
        spinner.enable_steady_tick(Duration::from_millis(SPINNER_TICK_MILLIS));
    }
    spinner
}

/// A `progress(done, total)` callback that moves `bar`.
pub fn track(bar: &ProgressBar) -> impl FnMut(u64, u64) + Send + '_ {
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    }
}
