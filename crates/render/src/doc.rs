//! The small document model the people's formats are drawn from: headings, paragraphs, lists
//! and tables of inline text. Each report builds one [`Doc`]; [`crate::markdown`] and
//! [`crate::html`] write it out, so Markdown and HTML always carry the same content.
//!
//! Texts in the model are plain: escaping is the writers' job, done once, there.

/// A document: a title (the HTML `<title>`) and its blocks in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Doc {
    /// The document's title, as plain text.
    pub title: String,
    /// The blocks, top to bottom.
    pub blocks: Vec<Block>,
}

/// One block of a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A heading of level 1–4.
    Heading(u8, Vec<Inline>),
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A bulleted list, one item per entry.
    List(Vec<Vec<Inline>>),
    /// A table.
    Table(Table),
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inline {
    /// Plain text.
    Text(String),
    /// Text to copy exactly (titles, hashes): code in Markdown, `<code>` in HTML.
    Code(String),
    /// Emphasised text.
    Strong(String),
    /// Struck-through text (a retracted event).
    Struck(String),
}

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table: a header row, body rows and an optional footer (a "Summa" row).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// Column headings and alignment.
    pub columns: Vec<(String, Align)>,
    /// Body rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// A footer row, if any.
    pub footer: Option<Vec<Cell>>,
}

/// One table cell: inline runs.
pub(crate) type Cell = Vec<Inline>;

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|&(name, align)| (name.to_owned(), align))
                .collect(),
            rows: Vec::new(),
            footer: None,
        }
    }

    /// Adds a body row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "one cell per column");
        self.rows.push(cells);
    }
}

/// A run of plain text.
pub(crate) fn text(value: impl Into<String>) -> Inline {
    Inline::Text(value.into())
}

/// A cell (or paragraph, or list item) of plain text.
pub(crate) fn plain(value: impl Into<String>) -> Vec<Inline> {
    vec![text(value)]
}

/// A document under construction.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    blocks: Vec<Block>,
}

impl Builder {
    /// A heading of plain text.
    pub fn heading(&mut self, level: u8, value: impl Into<String>) {
        self.blocks.push(Block::Heading(level, plain(value)));
    }

    /// A heading of inline runs.
    pub fn heading_runs(&mut self, level: u8, runs: Vec<Inline>) {
        self.blocks.push(Block::Heading(level, runs));
    }

    /// A paragraph of plain text.
    pub fn paragraph(&mut self, value: impl Into<String>) {
        self.blocks.push(Block::Paragraph(plain(value)));
    }

    /// A paragraph of inline runs.
    pub fn paragraph_runs(&mut self, runs: Vec<Inline>) {
        self.blocks.push(Block::Paragraph(runs));
    }

    /// A list; an empty one is left out.
    pub fn list(&mut self, items: Vec<Vec<Inline>>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    /// A table.
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }

    /// The finished document.
    pub fn finish(self, title: impl Into<String>) -> Doc {
        Doc {
            title: title.into(),
            blocks: self.blocks,
        }
    }
}
