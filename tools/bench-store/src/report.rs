//! The results table: one row per measurement, one column per engine, each cell the median of
//! the runs with their min–max.

use std::fmt::Write as _;

use bench_common::figures::{Spread, group_thousands};

use crate::args::Engine;

/// How a row's numbers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A rate, whole numbers grouped by thousands.
    PerSecond,
    /// Megabytes (10^6 bytes) per second, one decimal.
    MegabytesPerSecond,
    /// Milliseconds, two decimals.
    Milliseconds,
    /// Bytes, whole.
    Bytes,
    /// Microseconds, one decimal.
    Microseconds,
    /// A share, whole percent.
    Percent,
}

/// A figure the issue asks for: the row's median must reach it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The least acceptable median.
    pub at_least: f64,
}

struct Row {
    label: String,
    unit: Unit,
    target: Option<Target>,
    /// Per engine (in column order), one value per run.
    values: Vec<Vec<f64>>,
}

/// The results of every run, by row and engine.
pub struct Table {
    engines: Vec<Engine>,
    rows: Vec<Row>,
}

impl Table {
    /// An empty table with these engines as columns.
    pub fn new(engines: &[Engine]) -> Table {
        Table {
            engines: engines.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Records one run's value of a row (created, in order of first use, if new).
    pub fn record(
        &mut self,
        engine: Engine,
        label: &str,
        unit: Unit,
        target: Option<Target>,
        value: f64,
    ) {
        let column = self
            .engines
            .iter()
            .position(|&e| e == engine)
            .expect("every measured engine is a column");
        let at = match self.rows.iter().position(|r| r.label == label) {
            Some(at) => at,
            None => {
                self.rows.push(Row {
                    label: label.to_owned(),
                    unit,
                    target,
                    values: vec![Vec::new(); self.engines.len()],
                });
                self.rows.len() - 1
            }
        };
        self.rows[at].values[column].push(value);
    }

    /// The Markdown table, then one line per target saying whether each engine meets it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let names: Vec<String> = self.engines.iter().map(|e| e.to_string()).collect();
        let _ = writeln!(
            out,
            "| measurement | {} | target (issue, redb) |",
            names.join(" | ")
        );
        let _ = writeln!(out, "|---|{}---|", "---:|".repeat(self.engines.len()));
        for row in &self.rows {
            let cells: Vec<String> = row
                .values
                .iter()
                .zip(&self.engines)
                .map(|(values, engine)| match Spread::of(values) {
                    None => "–".to_owned(),
                    Some(s) => {
                        let target = row.target.filter(|_| engine.has_targets());
                        let mark = match target {
                            Some(t) if s.median >= t.at_least => " ✓",
                            Some(_) => " ✗",
                            None => "",
                        };
                        s.cell(|v| show(v, row.unit), mark)
                    }
                })
                .collect();
            let target = row.target.map_or(String::new(), |t| {
                format!("≥ {}", show(t.at_least, row.unit))
            });
            let _ = writeln!(out, "| {} | {} | {target} |", row.label, cells.join(" | "));
        }
        out
    }

    /// For each target row, the engines whose median misses it.
    pub fn misses(&self) -> Vec<String> {
        let mut misses = Vec::new();
        for row in self.rows.iter().filter(|r| r.target.is_some()) {
            let target = row.target.expect("filtered on a target");
            for (engine, values) in self.engines.iter().zip(&row.values) {
                if !engine.has_targets() {
                    continue;
                }
                if let Some(s) = Spread::of(values)
                    && s.median < target.at_least
                {
                    misses.push(format!(
                        "{engine}: {} is {}, below the target {}",
                        row.label,
                        show(s.median, row.unit),
                        show(target.at_least, row.unit)
                    ));
                }
            }
        }
        misses
    }
}

fn show(value: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSecond | Unit::Bytes => group_thousands(value.round() as u64),
        Unit::MegabytesPerSecond => format!("{value:.1}"),
        Unit::Milliseconds => format!("{value:.2}"),
        Unit::Microseconds => format!("{value:.1}"),
        Unit::Percent => format!("{value:.0} %"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_median_and_range() {
        let redb = Engine::Embedded(store::EngineKind::Redb);
        let mut table = Table::new(&[redb, Engine::Postgres]);
        for v in [3000.0, 1000.0, 2000.0] {
            table.record(
                redb,
                "x",
                Unit::PerSecond,
                Some(Target { at_least: 2500.0 }),
                v,
            );
        }
        table.record(
            Engine::Postgres,
            "x",
            Unit::PerSecond,
            Some(Target { at_least: 2500.0 }),
            500.0,
        );
        assert!(
            table
                .render()
                .contains("| x | 2 000 ✗ (1 000–3 000) | 500 (500–500) | ≥ 2 500 |"),
            "{}",
            table.render()
        );
        assert_eq!(table.misses().len(), 1);
    }
}
