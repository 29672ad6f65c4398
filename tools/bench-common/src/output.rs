//! Where a tool's table goes: standard output, and the file `--out` names.

use std::path::Path;

/// Adds to `text` the list of `misses` (targets or goals a figure missed), one `- ` line each,
/// under `title`; nothing when there are none.
pub fn append_misses(text: &mut String, title: &str, misses: &[String]) {
    if misses.is_empty() {
        return;
    }
    text.push_str(&format!("\n{title}:\n"));
    for miss in misses {
        text.push_str(&format!("- {miss}\n"));
    }
}

/// Writes `text` to `out` (the tool's `--out`), when one is named; a failure names it.
pub fn write_out(out: Option<&Path>, text: &str) -> Result<(), String> {
    match out {
        Some(out) => std::fs::write(out, text).map_err(|e| format!("--out {}: {e}", out.display())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_are_listed_under_their_title() {
        let mut text = "| table |\n".to_owned();
        append_misses(&mut text, "Missed targets", &[]);
        assert_eq!(text, "| table |\n");
        append_misses(
            &mut text,
            "Missed targets",
            &["a".to_owned(), "b".to_owned()],
        );
        assert_eq!(text, "| table |\n\nMissed targets:\n- a\n- b\n");
    }

    #[test]
    fn a_failed_write_names_the_file() {
        assert_eq!(write_out(None, "x"), Ok(()));
        let error = write_out(Some(Path::new("/nonexistent/dir/t.md")), "x").expect_err("no dir");
        assert!(
            error.starts_with("--out /nonexistent/dir/t.md: "),
            "{error}"
        );
    }
}
