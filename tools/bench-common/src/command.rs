//! The command line a table's header repeats, so that a reader can run the same measurement.

/// This process's arguments as a shell would need them typed (quoted where they hold blanks):
/// for the command line a table's header repeats.
pub fn quoted_args() -> String {
    std::env::args()
        .skip(1)
        .map(|a| {
            if a.contains(char::is_whitespace) {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `cargo run --release -p PACKAGE [--features sled] -- ARGS`: how to run this process again
/// (with the `sled` feature when this build has the sled engine).
pub fn cargo_run(package: &str, sled: bool) -> String {
    let features = if sled { " --features sled" } else { "" };
    format!(
        "cargo run --release -p {package}{features} -- {}",
        quoted_args()
    )
}

/// "release build", or, in bold, that the figures of a debug build mean nothing. (This crate
/// is built with the tool's profile, so it tells the tool's.)
pub fn build_note() -> &'static str {
    if cfg!(debug_assertions) {
        "**debug build: these figures mean nothing**"
    } else {
        "release build"
    }
}

/// Warns on stderr, as `tool`, when this is a debug build, whose figures mean nothing.
pub fn warn_if_debug(tool: &str) {
    if cfg!(debug_assertions) {
        eprintln!(
            "{tool}: WARNING: a debug build; run with --release for figures that mean anything"
        );
    }
}
