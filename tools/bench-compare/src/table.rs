//! The results table: one row per measurement, one column per contender (each cell the median
//! of the runs with their min–max, or a plain note where there is no figure), then the ratio
//! verkstall (redb) / baseline and the goal, marked ✓/✗.

use std::fmt::Write as _;

use bench_common::figures::{Spread, group_thousands};

use crate::contender::Contender;

/// How a row's numbers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A rate, whole numbers grouped by thousands.
    PerSecond,
    /// Milliseconds, two decimals.
    Milliseconds,
    /// Bytes, whole.
    Bytes,
    /// Mebibytes, whole.
    Mebibytes,
    /// A count, whole.
    Count,
}

/// A goal of the issue for a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// verkstall (redb) / baseline must be at least this.
    RatioAtLeast(f64),
    /// Each cell's median must be at least this.
    AtLeast(f64),
    /// Each cell's median must be at most this.
    AtMost(f64),
}

/// One cell: the runs' values, or why there is no figure.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Values(Vec<f64>),
    Note(String),
}

struct Row {
    label: String,
    unit: Unit,
    goal: Option<(Goal, String)>,
    /// Per contender, in column order.
    cells: Vec<Cell>,
}

/// The results of every run, by row and contender.
pub struct Table {
    rows: Vec<Row>,
}

/// The ratio's numerator and denominator.
const RATIO: (Contender, Contender) = (Contender::Redb, Contender::Baseline);

impl Table {
    /// An empty table; the columns are [`Contender::ALL`].
    pub fn new() -> Table {
        Table { rows: Vec::new() }
    }

    fn row(&mut self, label: &str, unit: Unit) -> &mut Row {
        let at = match self.rows.iter().position(|r| r.label == label) {
            Some(at) => at,
            None => {
                self.rows.push(Row {
                    label: label.to_owned(),
                    unit,
                    goal: None,
                    cells: vec![Cell::Values(Vec::new()); Contender::ALL.len()],
                });
                self.rows.len() - 1
            }
        };
        &mut self.rows[at]
    }

    /// Sets a row's goal, with the words the goal column shows (the row is created if new).
    pub fn goal(&mut self, label: &str, unit: Unit, goal: Goal, words: &str) {
        self.row(label, unit).goal = Some((goal, words.to_owned()));
    }

    /// Records one run's value of a row (created, in order of first use, if new).
    pub fn record(&mut self, contender: Contender, label: &str, unit: Unit, value: f64) {
        let cell = &mut self.row(label, unit).cells[contender.column()];
        match cell {
            Cell::Values(values) => values.push(value),
            Cell::Note(_) => *cell = Cell::Values(vec![value]),
        }
    }

    /// Says why a cell has no figure (unless it already has one).
    pub fn note(&mut self, contender: Contender, label: &str, unit: Unit, why: &str) {
        let cell = &mut self.row(label, unit).cells[contender.column()];
        if matches!(cell, Cell::Values(v) if v.is_empty()) {
            *cell = Cell::Note(why.to_owned());
        }
    }

    /// The median of a contender's runs of a row, if it has any.
    pub fn median(&self, contender: Contender, label: &str) -> Option<f64> {
        let row = self.rows.iter().find(|r| r.label == label)?;
        match &row.cells[contender.column()] {
            Cell::Values(values) => Spread::of(values).map(|s| s.median),
            Cell::Note(_) => None,
        }
    }

    /// The Markdown table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let names: Vec<&str> = Contender::ALL.iter().map(|c| c.title()).collect();
        let _ = writeln!(
            out,
            "| measurement | {} | {} / {} | goal (issue 7) |",
            names.join(" | "),
            RATIO.0.short(),
            RATIO.1.short()
        );
        let _ = writeln!(
            out,
            "|---|{}---:|---|",
            "---:|".repeat(Contender::ALL.len())
        );
        for row in &self.rows {
            let goal = row.goal.as_ref().map(|(g, _)| *g);
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|cell| match cell {
                    Cell::Note(why) => why.clone(),
                    Cell::Values(values) => match Spread::of(values) {
                        None => "–".to_owned(),
                        Some(s) => {
                            let mark = match goal {
                                Some(Goal::AtLeast(least)) => mark(s.median >= least),
                                Some(Goal::AtMost(most)) => mark(s.median <= most),
                                _ => "",
                            };
                            s.cell(|v| show(v, row.unit), mark)
                        }
                    },
                })
                .collect();
            let ratio = match row.ratio() {
                None => "–".to_owned(),
                Some(ratio) => {
                    let mark = match goal {
                        Some(Goal::RatioAtLeast(least)) => mark(ratio >= least),
                        _ => "",
                    };
                    format!("{ratio:.2}×{mark}")
                }
            };
            let words = row.goal.as_ref().map_or("", |(_, words)| words.as_str());
            let _ = writeln!(
                out,
                "| {} | {} | {ratio} | {words} |",
                row.label,
                cells.join(" | ")
            );
        }
        out
    }

    /// One line per goal a cell (or the ratio) misses.
    pub fn misses(&self) -> Vec<String> {
        let mut misses = Vec::new();
        for row in &self.rows {
            let Some((goal, words)) = &row.goal else {
                continue;
            };
            if let Goal::RatioAtLeast(least) = *goal {
                if let Some(ratio) = row.ratio().filter(|&r| r < least) {
                    misses.push(format!(
                        "{}: {} / {} is {ratio:.2}× ({words})",
                        row.label,
                        RATIO.0.short(),
                        RATIO.1.short()
                    ));
                }
                continue;
            }
            for (contender, cell) in Contender::ALL.iter().zip(&row.cells) {
                let Cell::Values(values) = cell else { continue };
                let Some(s) = Spread::of(values) else {
                    continue;
                };
                let met = match *goal {
                    Goal::AtLeast(least) => s.median >= least,
                    Goal::AtMost(most) => s.median <= most,
                    Goal::RatioAtLeast(_) => true,
                };
                if !met {
                    misses.push(format!(
                        "{}: {} is {} ({words})",
                        row.label,
                        contender.title(),
                        show(s.median, row.unit)
                    ));
                }
            }
        }
        misses
    }
}

impl Row {
    /// The ratio of the two columns' medians, when both have figures.
    fn ratio(&self) -> Option<f64> {
        let median = |c: Contender| match &self.cells[c.column()] {
            Cell::Values(values) => Spread::of(values).map(|s| s.median),
            Cell::Note(_) => None,
        };
        let (top, bottom) = (median(RATIO.0)?, median(RATIO.1)?);
        (bottom > 0.0).then(|| top / bottom)
    }
}

fn mark(met: bool) -> &'static str {
    if met { " ✓" } else { " ✗" }
}

fn show(value: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSecond | Unit::Bytes | Unit::Mebibytes | Unit::Count => {
            group_thousands(value.round() as u64)
        }
        Unit::Milliseconds => format!("{value:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_median_range_ratio_and_goal() {
        let mut table = Table::new();
        let label = "append: events/s";
        table.goal(
            label,
            Unit::PerSecond,
            Goal::RatioAtLeast(3.0),
            "≥ 3× baseline",
        );
        for v in [3000.0, 1000.0, 2000.0] {
            table.record(Contender::Redb, label, Unit::PerSecond, v);
        }
        for v in [1000.0, 500.0, 800.0] {
            table.record(Contender::Baseline, label, Unit::PerSecond, v);
        }
        table.note(Contender::Sled, label, Unit::PerSecond, "not built");
        let text = table.render();
        assert!(
            text.contains("| append: events/s | 2 000 (1 000–3 000) | not built | – | 800 (500–1 000) | 2.50× ✗ | ≥ 3× baseline |"),
            "{text}"
        );
        assert_eq!(table.misses().len(), 1, "{:?}", table.misses());
        assert_eq!(table.median(Contender::Baseline, label), Some(800.0));
        assert_eq!(table.median(Contender::Sled, label), None);
        assert_eq!(table.median(Contender::Redb, "no such row"), None);
    }

    #[test]
    fn absolute_goals_mark_every_cell() {
        let mut table = Table::new();
        table.goal("disk", Unit::Bytes, Goal::AtMost(100.0), "≤ 2× raw");
        table.record(Contender::Redb, "disk", Unit::Bytes, 90.0);
        table.record(Contender::Baseline, "disk", Unit::Bytes, 150.0);
        let text = table.render();
        assert!(text.contains("90 ✓ (90–90)"), "{text}");
        assert!(text.contains("150 ✗ (150–150)"), "{text}");
        assert_eq!(table.misses().len(), 1);
    }
}
