//! Writes a [`Doc`] as GitHub-flavoured Markdown.
//!
//! Text from data is escaped so it reads as the same text when rendered: Markdown's inline
//! punctuation is backslash-escaped, `|` cannot break a table, and a line break inside a text
//! stays inside its paragraph, list item or cell. Code runs (titles, hashes) are written
//! verbatim between enough backticks, so they copy exactly from the raw file.

use crate::doc::{Align, Block, Doc, Inline, Table};

/// Where a run of text lands, which decides how a line break inside it is written.
#[derive(Clone, Copy)]
enum Place {
    /// A heading: one line, so breaks become spaces.
    Heading,
    /// A table cell: one line, so breaks become `<br>`.
    Cell,
    /// A paragraph or list item: a hard break, continued at this indent.
    Block(usize),
}

/// The document as Markdown, ending in one newline.
pub(crate) fn render(doc: &Doc) -> String {
    let blocks: Vec<String> = doc.blocks.iter().map(block).collect();
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

fn block(block: &Block) -> String {
    match block {
        Block::Heading(level, runs) => {
            let level = usize::from((*level).clamp(1, 6));
            format!("{} {}", "#".repeat(level), inline(runs, Place::Heading))
        }
        Block::Paragraph(runs) => inline(runs, Place::Block(0)),
        Block::List(items) => items
            .iter()
            .map(|item| format!("- {}", inline(item, Place::Block(2))))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Table(table) => self::table(table),
    }
}

fn table(table: &Table) -> String {
    let row = |cells: &[Vec<Inline>]| {
        let cells: Vec<String> = cells.iter().map(|c| inline(c, Place::Cell)).collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut lines = Vec::with_capacity(table.rows.len() + 3);
    let head: Vec<Vec<Inline>> = table
        .columns
        .iter()
        .map(|(name, _)| vec![Inline::Text(name.clone())])
        .collect();
    lines.push(row(&head));
    let rule: Vec<&str> = table
        .columns
        .iter()
        .map(|(_, align)| match align {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    lines.push(format!("|{}|", rule.join("|")));
    for cells in &table.rows {
        lines.push(row(cells));
    }
    if let Some(footer) = &table.footer {
        // Markdown has no footer: the row is set in bold instead.
        let bold: Vec<Vec<Inline>> = footer
            .iter()
            .map(|cell| {
                cell.iter()
                    .map(|run| match run {
                        Inline::Text(t) => Inline::Strong(t.clone()),
                        other => other.clone(),
                    })
                    .collect()
            })
            .collect();
        lines.push(row(&bold));
    }
    lines.join("\n")
}

fn inline(runs: &[Inline], place: Place) -> String {
    let mut out = String::new();
    for run in runs {
        match run {
            Inline::Text(t) => out.push_str(&escape(t, place)),
            Inline::Strong(t) if t.is_empty() => {}
            Inline::Strong(t) => {
                out.push_str("**");
                out.push_str(&escape(t, place));
                out.push_str("**");
            }
            Inline::Struck(t) if t.is_empty() => {}
            Inline::Struck(t) => {
                out.push_str("~~");
                out.push_str(&escape(t, place));
                out.push_str("~~");
            }
            Inline::Code(t) => out.push_str(&code(t, place)),
        }
    }
    out
}

/// Backslash-escapes Markdown's inline punctuation and writes line breaks for `place`.
fn escape(text: &str, place: Place) -> String {
    let mut out = String::with_capacity(text.len());
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => match place {
                Place::Heading => out.push(' '),
                Place::Cell => out.push_str("<br>"),
                Place::Block(indent) => {
                    out.push_str("\\\n");
                    out.push_str(&" ".repeat(indent));
                }
            },
            c => out.push(c),
        }
    }
    out
}

/// A code span: the text verbatim between more backticks than it contains in a row.
fn code(text: &str, place: Place) -> String {
    let mut text = text.replace(['\r', '\n'], " ");
    if matches!(place, Place::Cell) {
        // GitHub's tables split cells on `|` even inside code spans.
        text = text.replace('|', "\\|");
    }
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Builder, Table, plain, text};

    #[test]
    fn punctuation_from_data_is_escaped_and_breaks_stay_in_place() {
        assert_eq!(
            escape("a*b_c [x](y) <b> | ~", Place::Block(0)),
            "a\\*b\\_c \\[x\\](y) \\<b\\> \\| \\~"
        );
        assert_eq!(escape("ett\ntvå", Place::Cell), "ett<br>två");
        assert_eq!(escape("ett\r\ntvå", Place::Block(2)), "ett\\\n  två");
        assert_eq!(escape("ett\ntvå", Place::Heading), "ett två");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(
            code("IVO - Nyrapportering 2023-03-08, 9§10", Place::Block(0)),
            "`IVO - Nyrapportering 2023-03-08, 9§10`"
        );
        assert_eq!(code("a``b", Place::Block(0)), "```a``b```");
        assert_eq!(code("`a", Place::Block(0)), "`` `a ``");
        assert_eq!(code("a|b", Place::Cell), "`a\\|b`");
    }

    #[test]
    fn tables_align_numbers_and_bold_the_footer() {
        let mut b = Builder::default();
        let mut t = Table::new(&[("Lag", Align::Left), ("Antal", Align::Right)]);
        t.row(vec![plain("SoL"), plain("2")]);
        t.footer = Some(vec![plain("Summa"), plain("2")]);
        b.table(t);
        b.list(vec![vec![text("a")], vec![text("b")]]);
        b.list(Vec::new());
        let md = render(&b.finish("x"));
        assert_eq!(
            md,
            "| Lag | Antal |\n|---|---:|\n| SoL | 2 |\n| **Summa** | **2** |\n\n- a\n- b\n"
        );
    }
}
