//! Exposure (spec §6): the largest särskild avgift an episode could draw, and the date by which
//! the court must serve IVO's application.

use chrono::NaiveDate;
use serde::Serialize;

use crate::episodes::Episode;
use crate::facts::{DecisionView, FactKind};

/// The first decision date under the raised bounds.
pub fn raised_bounds_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date")
}

/// The repressive surcharge IVO adds, in percent.
pub const SURCHARGE_PERCENT: f64 = 25.0;
/// Days in a year, for a daily cost from a monthly one.
const DAYS_PER_YEAR: f64 = 365.0;
/// Months the court has to serve the application, from the decision date.
pub const SERVICE_MONTHS: i32 = 24;

/// The bounds of the särskild avgift in force on a decision date, in SEK: 10 000–1 000 000
/// before 2026-01-01, 15 000–1 500 000 from then.
pub fn fee_bounds(decided_on: NaiveDate) -> (f64, f64) {
    if decided_on < raised_bounds_from() {
        (10_000.0, 1_000_000.0)
    } else {
        (15_000.0, 1_500_000.0)
    }
}

/// What an episode could cost the municipality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exposure {
    /// The cost recorded (the latest `CostEstimated` by `on`), SEK per month.
    pub sek_per_month: Option<f64>,
    /// Days waiting, counted to `on`.
    pub days_waiting: i64,
    /// cost per day × days waiting, plus 25 %, within the bounds; `None` without a cost, and for
    /// an episode that was never reportable (closed within three months: no fee can follow).
    pub estimate_sek: Option<f64>,
    /// The lower bound in force on the decision date.
    pub min_sek: f64,
    /// The upper bound in force on the decision date.
    pub max_sek: f64,
    /// The court must serve IVO's application by this date (decision date + 2 years).
    pub service_deadline: NaiveDate,
}

/// The exposure of `episode` of the decision in `view`, counted to `on`.
pub fn exposure(view: &DecisionView<'_>, episode: &Episode, on: NaiveDate) -> Exposure {
    let decided_on = view.grant.decided_on;
    let (min, max) = fee_bounds(decided_on);
    let sek_per_month = view
        .facts
        .iter()
        .filter(|f| f.occurred_on <= on)
        .filter_map(|f| match f.kind {
            FactKind::Cost { sek_per_month } => Some(sek_per_month),
            _ => None,
        })
        .next_back();
    let days_waiting = episode.days_waiting(on);
    let estimate_sek = sek_per_month
        .filter(|_| episode.is_reportable())
        .map(|monthly| {
            let per_day = monthly * 12.0 / DAYS_PER_YEAR;
            let raw = per_day * days_waiting as f64 * (1.0 + SURCHARGE_PERCENT / 100.0);
            (raw.clamp(min, max) * 100.0).round() / 100.0
        });
    Exposure {
        sek_per_month,
        days_waiting,
        estimate_sek,
        min_sek: min,
        max_sek: max,
        service_deadline: calendar::add_months(decided_on, SERVICE_MONTHS)
            .expect("within the calendar"),
    }
}
