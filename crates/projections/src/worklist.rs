//! The quarter's IVO worklist (spec §6): which episodes to report, as what, with the title of
//! the message to the IVO-rapportör.

use chrono::{DateTime, NaiveDate, Utc};
use domain::codes::{Insats, Law, ReportKind};
use domain::rules::ExecutionStatus;
use domain::{DecisionId, Quarter};
use serde::Serialize;

use crate::episodes::{Episode, EpisodeKind, Outcome, episodes, ever_executed};
use crate::facts::{DecisionFacts, DecisionView, FactKind, Grant, Projection};

/// What an episode is to be reported as in a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// First report of a decision not executed within three months (nyrapportering).
    New,
    /// First report of an interruption not resumed within three months.
    NewInterruption,
    /// A follow-up while still not executed (återrapportering).
    FollowUp,
    /// The final report: executed or ended (slutrapportering).
    Final,
}

impl ItemKind {
    /// The `ReportedToIvo.kind` that reports it.
    pub const fn report_kind(self) -> ReportKind {
        match self {
            ItemKind::New => ReportKind::New,
            ItemKind::NewInterruption => ReportKind::NewInterruption,
            ItemKind::FollowUp => ReportKind::FollowUp,
            ItemKind::Final => ReportKind::Final,
        }
    }

    /// The code, as in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::New => "new",
            ItemKind::NewInterruption => "new_interruption",
            ItemKind::FollowUp => "follow_up",
            ItemKind::Final => "final",
        }
    }
}

/// What `episode` is to be reported as in `quarter`, if anything (spec §6):
/// - `new` / `new_interruption` when its reference date falls in the quarter, whatever happened
///   after it;
/// - `follow_up` when the reference date is before the quarter and it is still open at its end;
/// - `final` when the reference date is before the quarter and it closed within the quarter.
///
/// Only reportable episodes (not closed on or before the reference date) are reported.
pub fn classify(episode: &Episode, quarter: Quarter) -> Option<ItemKind> {
    let (start, end) = (quarter.start(), quarter.end());
    let r = episode.reference_date;
    if !episode.is_reportable() || r > end {
        return None;
    }
    if r >= start {
        return Some(match episode.kind {
            EpisodeKind::Decision => ItemKind::New,
            EpisodeKind::Interruption => ItemKind::NewInterruption,
        });
    }
    match episode.closed {
        None => Some(ItemKind::FollowUp),
        Some((on, _)) if on > end => Some(ItemKind::FollowUp),
        Some((on, _)) if on >= start => Some(ItemKind::Final),
        Some(_) => None,
    }
}

/// The title of the message to the IVO-rapportör (spec §6), e.g.
/// `IVO - Nyrapportering 2023-03-08, Förhandsbesked, 9§10`.
pub fn title(kind: ItemKind, episode: &Episode, grant: &Grant) -> String {
    let short = grant.insats.short_form();
    let r = episode.reference_date;
    match kind {
        ItemKind::New if grant.forhandsbesked => {
            format!("IVO - Nyrapportering {r}, Förhandsbesked, {short}")
        }
        ItemKind::New => format!("IVO - Nyrapportering {r}, {short}"),
        ItemKind::NewInterruption => format!("IVO - Nyrapportering avbrott {r}, {short}"),
        ItemKind::FollowUp => format!("IVO - Återrapportering {r}, {short}"),
        ItemKind::Final => {
            let (on, outcome) = episode
                .closed
                .expect("a final report is of a closed episode");
            let how = match outcome {
                Outcome::Executed => "verkställt",
                Outcome::Ended => "avslutat",
            };
            format!("IVO - Slutrapportering, {how} {on}, {short}")
        }
    }
}

/// Whether the decision holds a `ReportedToIvo` for this episode, kind and quarter.
pub fn is_reported(
    view: &DecisionView<'_>,
    episode: &Episode,
    kind: ItemKind,
    quarter: Quarter,
) -> bool {
    view.facts.iter().any(|f| {
        matches!(f.kind, FactKind::Reported { kind: k, quarter: q, reference_date: r }
            if k == kind.report_kind() && q == quarter && r == episode.reference_date)
    })
}

/// The earlier quarters in which the episode had a report due and none is recorded.
pub fn missed_quarters(
    view: &DecisionView<'_>,
    episode: &Episode,
    quarter: Quarter,
) -> Vec<Quarter> {
    let mut missed = Vec::new();
    let mut q = Quarter::containing(episode.reference_date);
    while q < quarter {
        if let Some(kind) = classify(episode, q)
            && !is_reported(view, episode, kind, q)
        {
            missed.push(q);
        }
        q = q.next();
    }
    missed
}

/// One row of the worklist (spec §8, `report ivo`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorklistItem {
    /// The decision.
    pub decision_id: DecisionId,
    /// What to report.
    pub kind: ItemKind,
    /// The episode's number (1 = the decision, 2… = interruptions).
    pub episode: u32,
    /// The day the episode started.
    #[serde(serialize_with = "serialize_date")]
    pub start_date: NaiveDate,
    /// start + 3 months.
    #[serde(serialize_with = "serialize_date")]
    pub reference_date: NaiveDate,
    /// SoL or LSS.
    pub law: Law,
    /// The insats code.
    pub insats: Insats,
    /// An advance decision.
    pub forhandsbesked: bool,
    /// The status at the end of the quarter.
    #[serde(serialize_with = "serialize_status")]
    pub status: ExecutionStatus,
    /// When it was executed, if by the report's `on` date.
    #[serde(serialize_with = "serialize_optional_date")]
    pub executed_on: Option<NaiveDate>,
    /// When it ended, if by the report's `on` date.
    #[serde(serialize_with = "serialize_optional_date")]
    pub ended_on: Option<NaiveDate>,
    /// (closing date or `on`, whichever is earlier) − start, in days.
    pub days_waiting: i64,
    /// Whether a matching `ReportedToIvo` is recorded.
    pub reported: bool,
    /// Earlier quarters whose report of this episode is missing.
    pub missed_earlier: Vec<Quarter>,
    /// The decision replaces one that was never executed.
    pub previous_not_executed: bool,
    /// The title of the message to the IVO-rapportör.
    pub title: String,
}

/// Serialises a status as its report code.
pub fn serialize_status<S: serde::Serializer>(
    status: &ExecutionStatus,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(status.as_str())
}

/// The IVO worklist of a quarter (spec §8, `report ivo`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Worklist {
    /// The quarter.
    pub quarter: Quarter,
    /// Its first day.
    pub period_start: NaiveDate,
    /// Its last day.
    pub period_end: NaiveDate,
    /// The date days are counted to (the quarter's end unless asked otherwise).
    pub on: NaiveDate,
    /// The moment the answer is as of.
    #[serde(serialize_with = "serialize_instant")]
    pub as_of: DateTime<Utc>,
    /// The items, by reference date, then decision id.
    pub items: Vec<WorklistItem>,
}

/// Serialises a date exactly as chrono does (`YYYY-MM-DD` for the years 0–9999, chrono itself
/// for the others), written at once: chrono writes it piece by piece through a formatter, which
/// serde_json escapes piece by piece, and that was most of the time a report's JSON took.
pub fn serialize_date<S: serde::Serializer>(
    date: &NaiveDate,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use chrono::Datelike;
    let Ok(year) = u32::try_from(date.year()) else {
        return serde::Serialize::serialize(date, serializer);
    };
    if year > 9999 {
        return serde::Serialize::serialize(date, serializer);
    }
    let mut text = *b"0000-00-00";
    for (field, mut value) in [(0..4, year), (5..7, date.month()), (8..10, date.day())] {
        for digit in text[field].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    serializer.serialize_str(std::str::from_utf8(&text).expect("ASCII digits and dashes"))
}

/// [`serialize_date`] for a date that may be absent (`null`).
pub fn serialize_optional_date<S: serde::Serializer>(
    date: &Option<NaiveDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serialize_date(date, serializer),
        None => serializer.serialize_none(),
    }
}

/// Serialises an instant as RFC 3339 UTC with microseconds.
pub fn serialize_instant<S: serde::Serializer>(
    instant: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&domain::event::format_instant(instant))
}

/// The decision's episodes that are due in `quarter`, with their kind, as known in `view`.
pub fn due_in_quarter(view: &DecisionView<'_>, quarter: Quarter) -> Vec<(Episode, ItemKind)> {
    episodes(view)
        .into_iter()
        .filter_map(|e| classify(&e, quarter).map(|k| (e, k)))
        .collect()
}

/// The IVO worklist for `quarter`, counting days to `on` (default: the quarter's end), as known
/// at `as_of`.
pub fn ivo_worklist(
    projection: &Projection,
    quarter: Quarter,
    on: Option<NaiveDate>,
    as_of: DateTime<Utc>,
) -> Worklist {
    let on = counted_to(quarter, on);
    let position = projection.position_as_of(as_of);
    let mut items = Vec::new();
    for decision in projection.decisions() {
        items.extend(decision_items(projection, position, decision, quarter, on));
    }
    worklist_of(quarter, on, as_of, items)
}

/// The date a quarter's worklist counts days to: `on` if asked, else the quarter's last day.
pub fn counted_to(quarter: Quarter, on: Option<NaiveDate>) -> NaiveDate {
    on.unwrap_or_else(|| quarter.end())
}

/// What [`ivo_worklist`] lists of one decision, as known at `position`, counting days to `on`.
/// It reads the decision's facts up to `position` and those of the decision it replaces, if
/// any, and nothing else.
pub fn decision_items(
    projection: &Projection,
    position: u64,
    decision: &DecisionFacts,
    quarter: Quarter,
    on: NaiveDate,
) -> Vec<WorklistItem> {
    let Some(view) = decision.view(position) else {
        return Vec::new();
    };
    due_in_quarter(&view, quarter)
        .into_iter()
        .map(|(episode, kind)| item(projection, position, &view, &episode, kind, quarter, on))
        .collect()
}

/// Where an item stands in the worklist: by reference date, then decision id, then episode.
pub fn worklist_order(item: &WorklistItem) -> (NaiveDate, DecisionId, u32) {
    (item.reference_date, item.decision_id, item.episode)
}

/// The worklist of `items` (every decision's [`decision_items`]), in its order.
pub fn worklist_of(
    quarter: Quarter,
    on: NaiveDate,
    as_of: DateTime<Utc>,
    mut items: Vec<WorklistItem>,
) -> Worklist {
    items.sort_by_key(worklist_order);
    Worklist {
        quarter,
        period_start: quarter.start(),
        period_end: quarter.end(),
        on,
        as_of,
        items,
    }
}

fn item(
    projection: &Projection,
    position: u64,
    view: &DecisionView<'_>,
    episode: &Episode,
    kind: ItemKind,
    quarter: Quarter,
    on: NaiveDate,
) -> WorklistItem {
    let closed_by_on = episode.closed.filter(|&(date, _)| date <= on);
    let previous_not_executed = view.grant.replaces.is_some_and(|previous| {
        projection
            .decision(previous)
            .and_then(|d| d.view(position))
            .is_some_and(|previous| !ever_executed(&previous))
    });
    WorklistItem {
        decision_id: view.decision_id,
        kind,
        episode: episode.number,
        start_date: episode.start,
        reference_date: episode.reference_date,
        law: view.grant.law,
        insats: view.grant.insats,
        forhandsbesked: view.grant.forhandsbesked,
        status: episode.status_on(quarter.end()),
        executed_on: closed_by_on
            .filter(|&(_, o)| o == Outcome::Executed)
            .map(|(d, _)| d),
        ended_on: closed_by_on
            .filter(|&(_, o)| o == Outcome::Ended)
            .map(|(d, _)| d),
        days_waiting: episode.days_waiting(on),
        reported: is_reported(view, episode, kind, quarter),
        missed_earlier: missed_quarters(view, episode, quarter),
        previous_not_executed,
        title: title(kind, episode, view.grant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Dates {
        #[serde(serialize_with = "serialize_date")]
        date: NaiveDate,
        #[serde(serialize_with = "serialize_optional_date")]
        maybe: Option<NaiveDate>,
    }

    #[derive(Serialize)]
    struct ChronoDates {
        date: NaiveDate,
        maybe: Option<NaiveDate>,
    }

    fn same_as_chrono(date: NaiveDate, maybe: Option<NaiveDate>) {
        let ours = serde_json::to_string(&Dates { date, maybe }).expect("serialises");
        let chrono = serde_json::to_string(&ChronoDates { date, maybe }).expect("serialises");
        assert_eq!(ours, chrono);
    }

    #[test]
    fn a_date_is_written_exactly_as_chrono_writes_it() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        let mut date = day(1899, 12, 1);
        while date < day(2201, 2, 1) {
            same_as_chrono(date, Some(date));
            date = date + chrono::Days::new(1);
        }
        for date in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            day(-1, 12, 31),
            day(0, 1, 1),
            day(9, 9, 9),
            day(999, 10, 10),
            day(9999, 12, 31),
            day(10000, 1, 1),
        ] {
            same_as_chrono(date, Some(date));
            same_as_chrono(date, None);
        }
    }
}
