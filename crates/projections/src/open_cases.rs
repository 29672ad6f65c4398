//! Open cases on a date (spec §7): every decision with an open episode, with days waiting, the
//! reference date, whether it is overdue and the next deadline.

use chrono::{DateTime, NaiveDate, Utc};
use domain::DecisionId;
use domain::codes::{Insats, Law};
use domain::rules::ExecutionStatus;
use serde::Serialize;

use crate::deadlines::{DeadlineKind, next_deadline};
use crate::episodes::{Episode, episodes};
use crate::facts::{DecisionFacts, Projection};
use crate::worklist::{
    is_reported, serialize_date, serialize_instant, serialize_optional_date, serialize_status,
};

/// How far ahead the next deadline is looked for, in months.
const NEXT_DEADLINE_HORIZON_MONTHS: i32 = 15;

/// One open episode (spec §8, `open-cases`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenCase {
    /// The decision.
    pub decision_id: DecisionId,
    /// The episode's number.
    pub episode: u32,
    /// The day it started.
    #[serde(serialize_with = "serialize_date")]
    pub start_date: NaiveDate,
    /// start + 3 months.
    #[serde(serialize_with = "serialize_date")]
    pub reference_date: NaiveDate,
    /// SoL or LSS.
    pub law: Law,
    /// The insats code.
    pub insats: Insats,
    /// Its status on the date.
    #[serde(serialize_with = "serialize_status")]
    pub status: ExecutionStatus,
    /// Days since the start.
    pub days_waiting: i64,
    /// Past its reference date: reportable to IVO.
    pub overdue: bool,
    /// The next deadline on or after the date.
    #[serde(serialize_with = "serialize_optional_date")]
    pub next_deadline: Option<NaiveDate>,
    /// Which deadline that is (people's formats show it; not in the JSON contract).
    #[serde(skip)]
    pub next_deadline_kind: Option<DeadlineKind>,
}

/// Open cases on a date (spec §8, `open-cases`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenCases {
    /// The date.
    pub on: NaiveDate,
    /// The moment the answer is as of.
    #[serde(serialize_with = "serialize_instant")]
    pub as_of: DateTime<Utc>,
    /// The open episodes, by reference date, then decision id.
    pub items: Vec<OpenCase>,
}

/// Every episode open on `on`, as known at `as_of`.
pub fn open_cases(projection: &Projection, on: NaiveDate, as_of: DateTime<Utc>) -> OpenCases {
    let position = projection.position_as_of(as_of);
    let horizon = calendar::add_months(on, NEXT_DEADLINE_HORIZON_MONTHS).unwrap_or(on);
    let mut items = Vec::new();
    if let Some(index) = projection.open_index(on, position) {
        for (&decision_id, open) in index {
            for indexed in open.episodes.iter().filter(|e| e.episode.is_open_on(on)) {
                let next = next_deadline(&indexed.episode, on, horizon, |kind, quarter| {
                    indexed.is_reported(kind, quarter)
                });
                items.push(item(
                    decision_id,
                    open.law,
                    open.insats,
                    &indexed.episode,
                    on,
                    next,
                ));
            }
        }
    } else {
        for decision in projection.decisions() {
            items.extend(decision_open_cases(decision, position, on));
        }
    }
    items.sort_by_key(open_case_order);
    OpenCases { on, as_of, items }
}

/// Where an open case stands in the list: by reference date, then decision id, then episode.
pub fn open_case_order(case: &OpenCase) -> (NaiveDate, DecisionId, u32) {
    (case.reference_date, case.decision_id, case.episode)
}

/// The episodes of one decision open on `on`, as known at `position` (what [`open_cases`]
/// lists of it). It reads the decision's facts up to `position` and nothing else.
pub fn decision_open_cases(
    decision: &DecisionFacts,
    position: u64,
    on: NaiveDate,
) -> Vec<OpenCase> {
    let Some(view) = decision.view(position) else {
        return Vec::new();
    };
    let horizon = calendar::add_months(on, NEXT_DEADLINE_HORIZON_MONTHS).unwrap_or(on);
    episodes(&view)
        .into_iter()
        .filter(|e| e.is_open_on(on))
        .map(|episode| {
            let next = next_deadline(&episode, on, horizon, |kind, quarter| {
                is_reported(&view, &episode, kind, quarter)
            });
            item(
                view.decision_id,
                view.grant.law,
                view.grant.insats,
                &episode,
                on,
                next,
            )
        })
        .collect()
}

/// One open episode as an item.
fn item(
    decision_id: DecisionId,
    law: Law,
    insats: Insats,
    episode: &Episode,
    on: NaiveDate,
    next: Option<(DeadlineKind, NaiveDate)>,
) -> OpenCase {
    OpenCase {
        decision_id,
        episode: episode.number,
        start_date: episode.start,
        reference_date: episode.reference_date,
        law,
        insats,
        status: episode.status_on(on),
        days_waiting: episode.days_waiting(on),
        overdue: on > episode.reference_date,
        next_deadline: next.map(|(_, due)| due),
        next_deadline_kind: next.map(|(kind, _)| kind),
    }
}
