//! Episodes (spec §6): a waiting episode opens on the decision date and on each interruption; a
//! full `Verkställd` or an `Avslutad` closes it; a partial `Verkställd` leaves it open.

use chrono::NaiveDate;
use domain::rules::{ExecutionStatus, apply_status_change};
use serde::{Deserialize, Serialize};

use crate::facts::{DecisionView, FactKind};

/// Why an episode opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeKind {
    /// The decision itself: waiting since the decision date.
    Decision,
    /// An interruption of an executed service.
    Interruption,
}

/// How an episode closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fully executed.
    Executed,
    /// Ended for another reason.
    Ended,
}

/// One waiting episode of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    /// 1 for the decision's own episode, then 2, 3, … for each interruption.
    pub number: u32,
    /// Why it opened.
    pub kind: EpisodeKind,
    /// The day it opened: the decision date or the interruption date.
    pub start: NaiveDate,
    /// start + 3 months: when it becomes reportable if still open.
    pub reference_date: NaiveDate,
    /// The first partial execution within the episode, if any.
    pub partial_on: Option<NaiveDate>,
    /// When and how it closed, if it has.
    pub closed: Option<(NaiveDate, Outcome)>,
}

/// The three months of the reporting duty.
pub const REPORTING_MONTHS: i32 = 3;

/// The reference date of an episode starting on `start`: `start + 3 months` (month-end clamped).
pub fn reference_date(start: NaiveDate) -> NaiveDate {
    calendar::add_months(start, REPORTING_MONTHS)
        .expect("dates in the calendar's range stay in chrono's")
}

impl Episode {
    /// Whether the episode is reportable: not closed on or before its reference date.
    pub fn is_reportable(&self) -> bool {
        self.closed.is_none_or(|(on, _)| on > self.reference_date)
    }

    /// Whether it is closed on or before `date`.
    pub fn is_closed_by(&self, date: NaiveDate) -> bool {
        self.closed.is_some_and(|(on, _)| on <= date)
    }

    /// Whether it is open on `date`: started, and not closed on or before it.
    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        self.start <= date && !self.is_closed_by(date)
    }

    /// The status on `date` (spec §6: `not_executed`, `partially_executed`, `executed`, `ended`).
    pub fn status_on(&self, date: NaiveDate) -> ExecutionStatus {
        match self.closed {
            Some((on, Outcome::Executed)) if on <= date => ExecutionStatus::Executed,
            Some((on, Outcome::Ended)) if on <= date => ExecutionStatus::Ended,
            _ if self.partial_on.is_some_and(|p| p <= date) => ExecutionStatus::PartiallyExecuted,
            _ => ExecutionStatus::NotExecuted,
        }
    }

    /// Days waiting as seen on `on`: (closing date or `on`, whichever is earlier) − start; 0 for
    /// an episode that has not begun on `on`.
    pub fn days_waiting(&self, on: NaiveDate) -> i64 {
        let until = match self.closed {
            Some((closed, _)) if closed < on => closed,
            _ => on,
        };
        (until - self.start).num_days().max(0)
    }
}

/// The episodes of a decision, in order.
pub fn episodes(view: &DecisionView<'_>) -> Vec<Episode> {
    let mut episodes: Vec<Episode> = Vec::new();
    let open = |start: NaiveDate, kind: EpisodeKind, number: u32| Episode {
        number,
        kind,
        start,
        reference_date: reference_date(start),
        partial_on: None,
        closed: None,
    };
    for fact in &view.facts {
        let current = episodes.last_mut().filter(|e| e.closed.is_none());
        match fact.kind {
            FactKind::Granted => episodes.push(open(fact.occurred_on, EpisodeKind::Decision, 1)),
            FactKind::Interrupted => {
                let number = episodes.len() as u32 + 1;
                episodes.push(open(fact.occurred_on, EpisodeKind::Interruption, number));
            }
            FactKind::Verkställd { partial: true } => {
                if let Some(e) = current
                    && e.partial_on.is_none()
                {
                    e.partial_on = Some(fact.occurred_on);
                }
            }
            FactKind::Verkställd { partial: false } => {
                if let Some(e) = current {
                    e.closed = Some((fact.occurred_on, Outcome::Executed));
                }
            }
            FactKind::Avslutad(_) => {
                if let Some(e) = current {
                    e.closed = Some((fact.occurred_on, Outcome::Ended));
                }
            }
            _ => {}
        }
    }
    episodes
}

/// The decision's status on `date`: the §6 state machine (`domain::rules`) over what occurred by
/// then.
pub fn status_on(view: &DecisionView<'_>, date: NaiveDate) -> ExecutionStatus {
    view.facts
        .iter()
        .take_while(|f| f.occurred_on <= date)
        .fold(ExecutionStatus::NotExecuted, |status, fact| {
            // The store only holds streams that obey the rules, so no change is refused here.
            apply_status_change(status, fact.kind.status_change()).unwrap_or(status)
        })
}

/// Whether the decision was ever fully executed, as the view knows it.
pub fn ever_executed(view: &DecisionView<'_>) -> bool {
    view.facts
        .iter()
        .any(|f| matches!(f.kind, FactKind::Verkställd { partial: false }))
}
