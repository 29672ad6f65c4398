//! The council's statistics for a quarter (spec §6): the worklist's episodes without identity,
//! as rows like the municipal table in seed 004, with totals.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::codes::{DelayReason, Insats, Law, NoteKind};
use domain::{Quarter, Sex};
use serde::Serialize;

use crate::episodes::Episode;
use crate::facts::{DecisionView, FactKind, Projection};
use crate::worklist::{ItemKind, due_in_quarter, serialize_instant};

/// Something the municipality did while the individual waited, without any free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// An order was sent to a provider.
    OrderSent,
    /// The insats was offered.
    OfferMade,
    /// Another insats was offered while waiting.
    CompensatingOffer,
    /// The individual declined an offer.
    OfferDeclined,
    /// Contact with the individual, a representative or a guardian.
    Contact,
    /// Planning of the execution.
    Planning,
    /// Partly executed.
    PartiallyExecuted,
}

impl Action {
    /// The Swedish wording for the council's table.
    pub const fn swedish(self) -> &'static str {
        match self {
            Action::OrderSent => "Beställning skickad",
            Action::OfferMade => "Erbjudande om insatsen",
            Action::CompensatingOffer => "Erbjudit kompenserande insats",
            Action::OfferDeclined => "Erbjudande avböjt",
            Action::Contact => "Kontakt med den enskilde",
            Action::Planning => "Planering",
            Action::PartiallyExecuted => "Delvis verkställt",
        }
    }
}

/// Waiting time bands of the council's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum WaitBand {
    /// Less than three months (only when counted to an early `on` date).
    #[serde(rename = "under_3_months")]
    Under3,
    /// Three to six months.
    #[serde(rename = "3_to_6_months")]
    From3To6,
    /// Six to twelve months.
    #[serde(rename = "6_to_12_months")]
    From6To12,
    /// More than twelve months.
    #[serde(rename = "over_12_months")]
    Over12,
}

impl WaitBand {
    /// The band of an episode waiting from `start` until `until`.
    pub fn of(start: NaiveDate, until: NaiveDate) -> WaitBand {
        let months = |n| calendar::add_months(start, n).expect("within the calendar");
        if until < months(3) {
            WaitBand::Under3
        } else if until < months(6) {
            WaitBand::From3To6
        } else if until < months(12) {
            WaitBand::From6To12
        } else {
            WaitBand::Over12
        }
    }

    /// The code, as in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            WaitBand::Under3 => "under_3_months",
            WaitBand::From3To6 => "3_to_6_months",
            WaitBand::From6To12 => "6_to_12_months",
            WaitBand::Over12 => "over_12_months",
        }
    }

    /// The Swedish wording.
    pub const fn swedish(self) -> &'static str {
        match self {
            WaitBand::Under3 => "under 3 månader",
            WaitBand::From3To6 => "3–6 månader",
            WaitBand::From6To12 => "6–12 månader",
            WaitBand::Over12 => "över 12 månader",
        }
    }
}

/// One row of the council's table: no identity anywhere.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CouncilRow {
    /// The decision date.
    pub decided_on: NaiveDate,
    /// The insats code.
    pub insats: Insats,
    /// SoL or LSS.
    pub law: Law,
    /// `male` or `female`.
    #[serde(serialize_with = "serialize_sex")]
    pub sex: Sex,
    /// What the episode is reported as.
    pub kind: ItemKind,
    /// The latest delay reason recorded by the report's `on` date.
    pub reason: Option<DelayReason>,
    /// What the municipality did during the episode, by `on`.
    pub actions: Vec<Action>,
    /// When it was executed, if by `on`.
    pub executed_on: Option<NaiveDate>,
    /// When it ended, if by `on`.
    pub ended_on: Option<NaiveDate>,
    /// Days from the decision or interruption.
    pub days_waiting: i64,
    /// The waiting band (also in the totals).
    #[serde(skip)]
    pub wait: WaitBand,
    /// Sorting key, not shown.
    #[serde(skip)]
    pub reference_date: NaiveDate,
}

fn serialize_sex<S: serde::Serializer>(sex: &Sex, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(sex.as_str())
}

/// The totals of the council's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Rows by law.
    pub by_law: BTreeMap<String, u64>,
    /// Rows by insats code.
    pub by_insats: BTreeMap<String, u64>,
    /// Rows by sex.
    pub by_sex: BTreeMap<String, u64>,
    /// Rows by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Rows by waiting band.
    pub by_wait: BTreeMap<String, u64>,
}

/// The council's statistics for a quarter (spec §8, `report council`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CouncilReport {
    /// The quarter.
    pub quarter: Quarter,
    /// Its first day.
    pub period_start: NaiveDate,
    /// Its last day.
    pub period_end: NaiveDate,
    /// The date days are counted to.
    pub on: NaiveDate,
    /// The moment the answer is as of.
    #[serde(serialize_with = "serialize_instant")]
    pub as_of: DateTime<Utc>,
    /// The rows, by reference date.
    pub rows: Vec<CouncilRow>,
    /// The totals.
    pub totals: Totals,
}

/// The actions taken during `episode`, up to `on`.
pub fn actions(view: &DecisionView<'_>, episode: &Episode, on: NaiveDate) -> Vec<Action> {
    let mut actions: Vec<Action> = view
        .facts
        .iter()
        .filter(|f| f.occurred_on >= episode.start && f.occurred_on <= on)
        .filter(|f| {
            episode
                .closed
                .is_none_or(|(closed, _)| f.occurred_on <= closed)
        })
        .filter_map(|f| match f.kind {
            FactKind::OrderSent => Some(Action::OrderSent),
            FactKind::OfferMade { compensating: true } => Some(Action::CompensatingOffer),
            FactKind::OfferMade {
                compensating: false,
            } => Some(Action::OfferMade),
            FactKind::OfferDeclined => Some(Action::OfferDeclined),
            FactKind::Note(NoteKind::Contact) => Some(Action::Contact),
            FactKind::Note(NoteKind::Planning) => Some(Action::Planning),
            FactKind::Verkställd { partial: true } => Some(Action::PartiallyExecuted),
            _ => None,
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The latest delay reason recorded by `on`.
pub fn latest_delay_reason(view: &DecisionView<'_>, on: NaiveDate) -> Option<DelayReason> {
    view.facts
        .iter()
        .filter(|f| f.occurred_on <= on)
        .filter_map(|f| match f.kind {
            FactKind::DelayReason(reason) => Some(reason),
            _ => None,
        })
        .next_back()
}

/// The council's statistics for `quarter`, as known at `as_of`.
pub fn council_report(
    projection: &Projection,
    quarter: Quarter,
    on: Option<NaiveDate>,
    as_of: DateTime<Utc>,
) -> CouncilReport {
    let on = on.unwrap_or_else(|| quarter.end());
    let position = projection.position_as_of(as_of);
    let mut rows = Vec::new();
    for decision in projection.decisions() {
        let Some(view) = decision.view(position) else {
            continue;
        };
        for (episode, kind) in due_in_quarter(&view, quarter) {
            let closed = episode.closed.filter(|&(d, _)| d <= on);
            let until = closed.map_or(on, |(d, _)| d.min(on));
            rows.push(CouncilRow {
                decided_on: view.grant.decided_on,
                insats: view.grant.insats,
                law: view.grant.law,
                sex: view.grant.sex,
                kind,
                reason: latest_delay_reason(&view, on),
                actions: actions(&view, &episode, on),
                executed_on: closed
                    .filter(|&(_, o)| o == crate::Outcome::Executed)
                    .map(|(d, _)| d),
                ended_on: closed
                    .filter(|&(_, o)| o == crate::Outcome::Ended)
                    .map(|(d, _)| d),
                days_waiting: episode.days_waiting(on),
                wait: WaitBand::of(episode.start, until),
                reference_date: episode.reference_date,
            });
        }
    }
    // No decision id to sort by: order by what is shown, so the report is the same every time.
    rows.sort_by(|a, b| {
        (
            a.reference_date,
            a.decided_on,
            a.insats,
            a.kind,
            a.days_waiting,
            a.sex.as_str(),
        )
            .cmp(&(
                b.reference_date,
                b.decided_on,
                b.insats,
                b.kind,
                b.days_waiting,
                b.sex.as_str(),
            ))
    });
    let mut totals = Totals::default();
    for row in &rows {
        *totals
            .by_law
            .entry(row.law.as_str().to_owned())
            .or_default() += 1;
        *totals
            .by_insats
            .entry(row.insats.code().to_owned())
            .or_default() += 1;
        *totals
            .by_sex
            .entry(row.sex.as_str().to_owned())
            .or_default() += 1;
        *totals
            .by_kind
            .entry(row.kind.as_str().to_owned())
            .or_default() += 1;
        *totals
            .by_wait
            .entry(row.wait.as_str().to_owned())
            .or_default() += 1;
    }
    CouncilReport {
        quarter,
        period_start: quarter.start(),
        period_end: quarter.end(),
        on,
        as_of,
        rows,
        totals,
    }
}
