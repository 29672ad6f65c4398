//! Writes a [`Doc`] as one self-contained HTML document: UTF-8, `lang="sv"`, inline CSS with
//! rules for print, bordered tables. No script and no outside resource, so it opens and prints
//! the same anywhere, offline.
//!
//! Every text goes through [`escape`] exactly once, here; nothing from data reaches the output
//! unescaped.

use crate::doc::{Align, Block, Doc, Inline, Table};

/// The style sheet, inline in every document.
const STYLE: &str = "\
body { font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, Arial, sans-serif; color: #111; line-height: 1.45; margin: 2rem auto; max-width: 80rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 0.5rem; border-bottom: 1px solid #999; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.4rem; }
h4 { font-size: 1rem; margin: 1rem 0 0.3rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #777; padding: 0.2rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #eee; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: bold; }
code { font-family: ui-monospace, \"Cascadia Mono\", Consolas, monospace; font-size: 0.95em; background: #f2f2f2; padding: 0 0.2em; user-select: all; overflow-wrap: anywhere; }
del { color: #555; }
ul { padding-left: 1.4rem; }
@page { size: A4; margin: 18mm 15mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  tr, li { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  tfoot { display: table-footer-group; }
  th { background: none; }
  code { background: none; padding: 0; }
}
";

/// Escapes text for HTML element content and attribute values: `&`, `<`, `>`, `"` and `'`.
///
/// ```
/// assert_eq!(render::escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The document as HTML, ending in one newline.
pub(crate) fn render(doc: &Doc) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&doc.title)));
    out.push_str("<style>\n");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<main>\n");
    for block in &doc.blocks {
        self::block(&mut out, block);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn block(out: &mut String, block: &Block) {
    match block {
        Block::Heading(level, runs) => {
            let level = (*level).clamp(1, 6);
            out.push_str(&format!("<h{level}>{}</h{level}>\n", inline(runs)));
        }
        Block::Paragraph(runs) => out.push_str(&format!("<p>{}</p>\n", inline(runs))),
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                out.push_str(&format!("<li>{}</li>\n", inline(item)));
            }
            out.push_str("</ul>\n");
        }
        Block::Table(table) => self::table(out, table),
    }
}

fn table(out: &mut String, table: &Table) {
    let class = |align: Align| match align {
        Align::Left => "",
        Align::Right => " class=\"num\"",
    };
    let row = |out: &mut String, cells: &[Vec<Inline>]| {
        out.push_str("<tr>");
        for (cell, (_, align)) in cells.iter().zip(&table.columns) {
            out.push_str(&format!("<td{}>{}</td>", class(*align), inline(cell)));
        }
        out.push_str("</tr>\n");
    };
    out.push_str("<table>\n<thead>\n<tr>");
    for (name, align) in &table.columns {
        out.push_str(&format!("<th{}>{}</th>", class(*align), escape(name)));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for cells in &table.rows {
        row(out, cells);
    }
    out.push_str("</tbody>\n");
    if let Some(footer) = &table.footer {
        out.push_str("<tfoot>\n");
        row(out, footer);
        out.push_str("</tfoot>\n");
    }
    out.push_str("</table>\n");
}

fn inline(runs: &[Inline]) -> String {
    let mut out = String::new();
    for run in runs {
        match run {
            Inline::Text(t) => out.push_str(&lines(t)),
            Inline::Code(t) => out.push_str(&format!("<code>{}</code>", escape(t))),
            Inline::Strong(t) => out.push_str(&format!("<strong>{}</strong>", lines(t))),
            Inline::Struck(t) => out.push_str(&format!("<del>{}</del>", lines(t))),
        }
    }
    out
}

/// Escaped text whose line breaks stay line breaks.
fn lines(text: &str) -> String {
    escape(&text.replace("\r\n", "\n").replace('\r', "\n")).replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Builder, plain};

    #[test]
    fn every_special_character_is_escaped() {
        assert_eq!(
            escape("<script>alert('x & \"y\"')</script>"),
            "&lt;script&gt;alert(&#39;x &amp; &quot;y&quot;&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("åäö 9§4"), "åäö 9§4");
    }

    #[test]
    fn a_document_is_self_contained_and_printable() {
        let mut b = Builder::default();
        b.heading(1, "Rubrik <1>");
        b.paragraph("rad ett\nrad två");
        let mut t = Table::new(&[("A", Align::Left), ("N", Align::Right)]);
        t.row(vec![plain("x"), plain("1")]);
        t.footer = Some(vec![plain("Summa"), plain("1")]);
        b.table(t);
        let html = render(&b.finish("Titel & mer"));
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"sv\">\n"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<title>Titel &amp; mer</title>"));
        assert!(html.contains("<h1>Rubrik &lt;1&gt;</h1>"));
        assert!(html.contains("<p>rad ett<br>rad två</p>"));
        assert!(html.contains("@media print"));
        assert!(html.contains("border: 1px solid"));
        assert!(html.contains("<tfoot>\n<tr><td>Summa</td><td class=\"num\">1</td></tr>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.ends_with("</html>\n"));
    }
}
