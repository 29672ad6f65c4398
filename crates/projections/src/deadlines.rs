//! Routine deadlines (spec §6, the defaults): for each episode, contact the individual by
//! start + 2 months + 14 days; the utförare's summary by the last working day before the
//! reference date; the message to the IVO-rapportör by the first working day after it; and each
//! quarter's IVO report by the last day of the month after the quarter (Q2: 31 August).

use chrono::{DateTime, Days, NaiveDate, Utc};
use domain::{DecisionId, Quarter};
use serde::Serialize;

use crate::episodes::{Episode, episodes};
use crate::facts::{DecisionView, Projection};
use crate::worklist::{ItemKind, classify, is_reported, serialize_instant};

/// Months after the start by which the individual is contacted (plus [`CONTACT_EXTRA_DAYS`]).
pub const CONTACT_MONTHS: i32 = 2;
/// Days after [`CONTACT_MONTHS`] by which the individual is contacted.
pub const CONTACT_EXTRA_DAYS: u64 = 14;

/// Which deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Contact the individual.
    Contact,
    /// The utförare's summary of the last three months.
    Summary,
    /// The message to the IVO-rapportör.
    ReportMessage,
    /// The quarter's report to IVO.
    IvoReport,
}

impl DeadlineKind {
    /// The code, as in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Contact => "contact",
            DeadlineKind::Summary => "summary",
            DeadlineKind::ReportMessage => "report_message",
            DeadlineKind::IvoReport => "ivo_report",
        }
    }

    /// The Swedish wording.
    pub const fn swedish(self) -> &'static str {
        match self {
            DeadlineKind::Contact => "Kontakt med den enskilde",
            DeadlineKind::Summary => "Utförarens sammanfattning",
            DeadlineKind::ReportMessage => "Meddelande till IVO-rapportör",
            DeadlineKind::IvoReport => "Kvartalsrapport till IVO",
        }
    }
}

/// One deadline (spec §8, `deadlines`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// The decision.
    pub decision_id: DecisionId,
    /// Which deadline.
    pub kind: DeadlineKind,
    /// When it falls due.
    pub due: NaiveDate,
    /// The episode's reference date.
    pub reference_date: NaiveDate,
}

/// The deadlines falling due between two dates (spec §8, `deadlines`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    /// The first date.
    pub from: NaiveDate,
    /// The last date.
    pub to: NaiveDate,
    /// The moment the answer is as of.
    #[serde(serialize_with = "serialize_instant")]
    pub as_of: DateTime<Utc>,
    /// The deadlines, by due date, then decision id.
    pub items: Vec<Deadline>,
}

/// The deadlines of one episode up to `until`: those of the routine that still matter (the
/// episode was not closed before they fell due) and quarterly reports not yet recorded.
pub fn episode_deadlines(
    view: &DecisionView<'_>,
    episode: &Episode,
    until: NaiveDate,
) -> Vec<(DeadlineKind, NaiveDate)> {
    let mut out = Vec::new();
    for_each_deadline(
        episode,
        until,
        |kind, quarter| is_reported(view, episode, kind, quarter),
        |kind, due| {
            out.push((kind, due));
            true
        },
    );
    out
}

/// The first deadline of `episode` on or after `on` among those [`episode_deadlines`] lists up
/// to `until` (the earliest; on the same day, the first kind), with whether a quarter's report is
/// recorded answered by `reported(kind, quarter)`.
pub fn next_deadline(
    episode: &Episode,
    on: NaiveDate,
    until: NaiveDate,
    reported: impl Fn(ItemKind, Quarter) -> bool,
) -> Option<(DeadlineKind, NaiveDate)> {
    let mut next: Option<(DeadlineKind, NaiveDate)> = None;
    for_each_deadline(episode, until, reported, |kind, due| {
        if due >= on && next.is_none_or(|(k, d)| (due, kind) < (d, k)) {
            next = Some((kind, due));
        }
        // Quarterly reports fall due in quarter order, so after one on or after `on` every
        // later one is later still.
        !(kind == DeadlineKind::IvoReport && due >= on)
    });
    next
}

/// Calls `found(kind, due)` for each deadline of `episode` up to `until`, in the order of the
/// routine and then quarter by quarter, until it returns false. `reported(kind, quarter)` says
/// whether a quarter's report is recorded.
fn for_each_deadline(
    episode: &Episode,
    until: NaiveDate,
    reported: impl Fn(ItemKind, Quarter) -> bool,
    mut found: impl FnMut(DeadlineKind, NaiveDate) -> bool,
) {
    let r = episode.reference_date;
    let open_on = |due: NaiveDate| !episode.is_closed_by(due);
    if let Some(contact) = calendar::add_months(episode.start, CONTACT_MONTHS)
        .and_then(|d| d.checked_add_days(Days::new(CONTACT_EXTRA_DAYS)))
        && open_on(contact)
        && !found(DeadlineKind::Contact, contact)
    {
        return;
    }
    if let Ok(summary) = calendar::previous_working_day(r)
        && open_on(summary)
        && !found(DeadlineKind::Summary, summary)
    {
        return;
    }
    if episode.is_reportable()
        && let Ok(message) = calendar::next_working_day(r)
        && !found(DeadlineKind::ReportMessage, message)
    {
        return;
    }
    let mut quarter = Quarter::containing(r);
    while quarter.start() <= until {
        if let Some(kind) = classify(episode, quarter)
            && !reported(kind, quarter)
            && !found(DeadlineKind::IvoReport, quarter.ivo_report_due())
        {
            return;
        }
        if episode.is_closed_by(quarter.start()) || quarter.year() >= calendar::LAST_YEAR {
            break;
        }
        quarter = quarter.next();
    }
}

/// Every deadline falling due in `[from, to]`, as known at `as_of`.
pub fn deadlines(
    projection: &Projection,
    from: NaiveDate,
    to: NaiveDate,
    as_of: DateTime<Utc>,
) -> Deadlines {
    let position = projection.position_as_of(as_of);
    let mut items = Vec::new();
    for decision in projection.decisions() {
        let Some(view) = decision.view(position) else {
            continue;
        };
        for episode in episodes(&view) {
            for (kind, due) in episode_deadlines(&view, &episode, to) {
                if (from..=to).contains(&due) {
                    items.push(Deadline {
                        decision_id: view.decision_id,
                        kind,
                        due,
                        reference_date: episode.reference_date,
                    });
                }
            }
        }
    }
    items.sort_by_key(|a| (a.due, a.decision_id, a.kind, a.reference_date));
    Deadlines {
        from,
        to,
        as_of,
        items,
    }
}
