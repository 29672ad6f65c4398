//! Open cases on a date (spec §7): every decision with an open episode, with days waiting, the
//! reference date, whether it is overdue and the next deadline.

use chrono::{DateTime, NaiveDate, Utc};
use domain::DecisionId;
use domain::codes::{Insats, Law};
use domain::rules::ExecutionStatus;
use serde::Serialize;

use crate::deadlines::{DeadlineKind, episode_deadlines};
use crate::episodes::episodes;
use crate::facts::Projection;
use crate::worklist::{serialize_instant, serialize_status};

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
    pub start_date: NaiveDate,
    /// start + 3 months.
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
    for decision in projection.candidates_open_on(on, position) {
        let Some(view) = decision.view(position) else {
            continue;
        };
        for episode in episodes(&view).into_iter().filter(|e| e.is_open_on(on)) {
            let next = episode_deadlines(&view, &episode, horizon)
                .into_iter()
                .filter(|&(_, due)| due >= on)
                .min_by_key(|&(kind, due)| (due, kind));
            items.push(OpenCase {
                decision_id: view.decision_id,
                episode: episode.number,
                start_date: episode.start,
                reference_date: episode.reference_date,
                law: view.grant.law,
                insats: view.grant.insats,
                status: episode.status_on(on),
                days_waiting: episode.days_waiting(on),
                overdue: on > episode.reference_date,
                next_deadline: next.map(|(_, due)| due),
                next_deadline_kind: next.map(|(kind, _)| kind),
            });
        }
    }
    items.sort_by_key(|a| (a.reference_date, a.decision_id, a.episode));
    OpenCases { on, as_of, items }
}
