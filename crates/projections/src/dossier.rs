//! The dossier for a yttrande (spec §7): one decision's whole record, as IVO asks for it — the
//! decision; a timeline of every event with when it happened, when it was recorded and by whom;
//! the reasons for the delay; what the delay means for the individual; how the municipality
//! worked; compensating insatser; planning; costs and exposure; every report made and owed;
//! retractions; and the hashes that prove the record whole.

use chrono::{DateTime, NaiveDate, Utc};
use domain::codes::NoteKind;
use domain::event::Scope;
use domain::rules::active_by_retraction;
use domain::{DecisionId, EventData, EventId, Quarter, RecordedEvent};
use serde::Serialize;

use crate::episodes::{EpisodeKind, Outcome, episodes, ever_executed, status_on};
use crate::exposure::{Exposure, exposure};
use crate::facts::{DecisionFacts, Projection};
use crate::worklist::{
    ItemKind, classify, is_reported, serialize_date, serialize_instant, serialize_optional_date,
};

/// The decision, as the dossier opens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionSummary {
    /// The decision date.
    pub decided_on: NaiveDate,
    /// SoL or LSS.
    pub law: String,
    /// The insats code.
    pub insats: String,
    /// The insats's Swedish name.
    pub insats_name: String,
    /// The short form used in titles.
    pub insats_short: String,
    /// The paragraph granting it, as in force on the decision date.
    pub granting_paragraph: String,
    /// The paragraphs of the reporting duty, as in force on the decision date.
    pub reporting_paragraphs: String,
    /// An advance decision.
    pub forhandsbesked: bool,
    /// The scope granted.
    pub scope: Option<Scope>,
    /// The responsible unit.
    pub unit: Option<String>,
    /// The decision it replaces.
    pub replaces: Option<DecisionId>,
    /// The replaced decision was never executed.
    pub previous_not_executed: bool,
    /// The individual.
    pub person: PersonSummary,
}

/// The individual, masked when their identity is protected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonSummary {
    /// The identity number, or `None` when protected (skyddade personuppgifter).
    pub id: Option<String>,
    /// Whether the identity is protected.
    pub protected: bool,
    /// `male` or `female`.
    pub sex: String,
    /// The birth year (the full date is left out).
    pub birth_year: i32,
}

/// One episode, with what it could cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpisodeSummary {
    /// Its number.
    pub number: u32,
    /// `decision` or `interruption`.
    pub kind: EpisodeKind,
    /// When it started.
    #[serde(serialize_with = "serialize_date")]
    pub start_date: NaiveDate,
    /// start + 3 months.
    #[serde(serialize_with = "serialize_date")]
    pub reference_date: NaiveDate,
    /// Whether it was (or is) reportable to IVO.
    pub reportable: bool,
    /// The first partial execution.
    #[serde(serialize_with = "serialize_optional_date")]
    pub partially_executed_on: Option<NaiveDate>,
    /// When it closed.
    #[serde(serialize_with = "serialize_optional_date")]
    pub closed_on: Option<NaiveDate>,
    /// How it closed.
    pub outcome: Option<Outcome>,
    /// Days waiting, counted to the dossier's date.
    pub days_waiting: i64,
    /// The särskild avgift it could draw.
    pub exposure: Exposure,
}

/// One event in the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// Global position.
    pub position: u64,
    /// Version in the stream.
    pub version: u64,
    /// The event's id.
    pub event_id: EventId,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// When verkstall learnt it.
    #[serde(serialize_with = "serialize_instant")]
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: Option<String>,
    /// What it says, in Swedish.
    pub summary: String,
    /// The retraction that withdrew it, if any.
    pub retracted_by: Option<EventId>,
    /// Its hash-chain link.
    pub hash: String,
}

/// A dated text from the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// When.
    pub occurred_on: NaiveDate,
    /// What kind (an event type, a note kind or a reason code).
    pub kind: String,
    /// The text, in Swedish where verkstall words it.
    pub text: String,
    /// The event it comes from.
    pub position: u64,
}

/// A report to IVO that was due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwedReport {
    /// The quarter.
    pub quarter: Quarter,
    /// As what.
    pub kind: ItemKind,
    /// The episode's reference date.
    #[serde(serialize_with = "serialize_date")]
    pub reference_date: NaiveDate,
    /// When the quarter's report was due.
    #[serde(serialize_with = "serialize_date")]
    pub due: NaiveDate,
    /// Whether it is recorded as reported.
    pub reported: bool,
}

/// The hashes that prove the record whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    /// Events of the decision in the dossier.
    pub events: u64,
    /// The last position of the whole log the dossier was drawn from.
    pub log_position: u64,
    /// The hash of that position: `verkstall verify` recomputes it from the first event.
    pub log_hash: Option<String>,
}

/// A decision's whole record, for a yttrande.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dossier {
    /// The decision.
    pub decision_id: DecisionId,
    /// The moment the record is as of.
    #[serde(serialize_with = "serialize_instant")]
    pub as_of: DateTime<Utc>,
    /// The date days are counted to.
    pub on: NaiveDate,
    /// The decision.
    pub decision: DecisionSummary,
    /// The status on `on`.
    pub status: String,
    /// The waiting episodes.
    pub episodes: Vec<EpisodeSummary>,
    /// Every event, in the order the rules read them (occurred, then position).
    pub timeline: Vec<TimelineEntry>,
    /// Reasons for the delay.
    pub delay_reasons: Vec<Entry>,
    /// What the delay means for the individual.
    pub impact: Vec<Entry>,
    /// How the municipality worked: orders, contacts, offers, declines, summaries.
    pub work: Vec<Entry>,
    /// Other insatser offered while waiting.
    pub compensating: Vec<Entry>,
    /// Planning.
    pub planning: Vec<Entry>,
    /// Costs recorded.
    pub costs: Vec<Entry>,
    /// Reports made to IVO.
    pub reports_made: Vec<Entry>,
    /// Reports that were due, and whether each was made.
    pub reports_owed: Vec<OwedReport>,
    /// Events withdrawn as recorded in error.
    pub retractions: Vec<Entry>,
    /// The proof.
    pub chain: ChainSummary,
}

/// Builds the dossier of one decision from its stream (every event recorded by `as_of`, in
/// version order) and the projection (for the decision it replaces), counting days to `on`.
/// `log_head` is the last position of the log at `as_of` and its hash.
pub fn dossier(
    facts: &DecisionFacts,
    stream: &[RecordedEvent],
    projection: &Projection,
    on: NaiveDate,
    as_of: DateTime<Utc>,
    log_head: (u64, Option<String>),
) -> Option<Dossier> {
    let position = log_head.0;
    let view = facts.view(position)?;
    let EventData::DecisionGranted(grant) = &stream.first()?.data else {
        return None;
    };
    let retracted_by = retractions_of(stream);
    let mut ordered: Vec<(usize, &RecordedEvent)> = stream.iter().enumerate().collect();
    ordered.sort_by_key(|(_, e)| (e.occurred_on, e.position));
    let eps = episodes(&view);
    let previous_not_executed = grant.replaces.is_some_and(|previous| {
        projection
            .decision(previous)
            .and_then(|d| d.view(position))
            .is_some_and(|p| !ever_executed(&p))
    });
    let decided_on = view.grant.decided_on;
    let mut dossier = Dossier {
        decision_id: facts.decision_id,
        as_of,
        on,
        decision: DecisionSummary {
            decided_on,
            law: grant.law.as_str().to_owned(),
            insats: grant.insats.code().to_owned(),
            insats_name: grant.insats.name().to_owned(),
            insats_short: grant.insats.short_form().to_owned(),
            granting_paragraph: grant.law.granting_paragraph(decided_on).to_owned(),
            reporting_paragraphs: grant.law.reporting_paragraphs(decided_on).to_owned(),
            forhandsbesked: grant.forhandsbesked,
            scope: grant.scope.clone(),
            unit: grant.unit.clone(),
            replaces: grant.replaces,
            previous_not_executed,
            person: PersonSummary {
                id: (!grant.person.protected).then(|| grant.person.id.reveal().to_owned()),
                protected: grant.person.protected,
                sex: grant.person.id.sex().as_str().to_owned(),
                birth_year: chrono::Datelike::year(&grant.person.id.birth_date()),
            },
        },
        status: status_on(&view, on).as_str().to_owned(),
        episodes: eps
            .iter()
            .map(|e| EpisodeSummary {
                number: e.number,
                kind: e.kind,
                start_date: e.start,
                reference_date: e.reference_date,
                reportable: e.is_reportable(),
                partially_executed_on: e.partial_on,
                closed_on: e.closed.map(|(d, _)| d),
                outcome: e.closed.map(|(_, o)| o),
                days_waiting: e.days_waiting(on),
                exposure: exposure(&view, e, on),
            })
            .collect(),
        timeline: Vec::new(),
        delay_reasons: Vec::new(),
        impact: Vec::new(),
        work: Vec::new(),
        compensating: Vec::new(),
        planning: Vec::new(),
        costs: Vec::new(),
        reports_made: Vec::new(),
        reports_owed: Vec::new(),
        retractions: Vec::new(),
        chain: ChainSummary {
            events: stream.len() as u64,
            log_position: position,
            log_hash: log_head.1,
        },
    };
    // For a person with protected identity, free texts are scrubbed of anything that looks like
    // an identity number: the record must not reveal through a note what the decision masks.
    let protected = grant.person.protected;
    let scrub = |text: &str| -> String {
        if protected {
            domain::redact::redact_identity_like(text).into_owned()
        } else {
            text.to_owned()
        }
    };
    for (index, event) in ordered {
        let retracted = retracted_by[index];
        dossier.timeline.push(TimelineEntry {
            position: event.position,
            version: event.version,
            event_id: event.event_id,
            event_type: event.event_type().as_str().to_owned(),
            occurred_on: event.occurred_on,
            recorded_at: event.recorded_at,
            actor: event.actor.clone(),
            summary: describe_with(event, &scrub),
            retracted_by: retracted,
            hash: event.hash.clone(),
        });
        if retracted.is_some() {
            continue;
        }
        // Texts passed to `entry` are already scrubbed where people wrote them.
        let entry = |kind: &str, text: String| Entry {
            occurred_on: event.occurred_on,
            kind: kind.to_owned(),
            text,
            position: event.position,
        };
        match &event.data {
            EventData::DelayReasonRecorded(d) => {
                let text = match &d.text {
                    Some(t) => format!("{}: {}", d.reason.swedish(), scrub(t)),
                    None => d.reason.swedish().to_owned(),
                };
                dossier.delay_reasons.push(entry(d.reason.code(), text));
            }
            EventData::NoteRecorded(n) => {
                let target = match n.kind {
                    NoteKind::Impact => &mut dossier.impact,
                    NoteKind::Planning => &mut dossier.planning,
                    NoteKind::Contact | NoteKind::Summary | NoteKind::Other => &mut dossier.work,
                };
                target.push(entry(n.kind.code(), scrub(&n.text)));
            }
            EventData::OfferMade(o) if o.compensating => dossier
                .compensating
                .push(entry("OfferMade", scrub(&o.description))),
            EventData::OrderSent(_) | EventData::OfferMade(_) | EventData::OfferDeclined(_) => {
                dossier.work.push(entry(
                    event.event_type().as_str(),
                    describe_with(event, &scrub),
                ));
            }
            EventData::CostEstimated(_) => {
                dossier.costs.push(entry("CostEstimated", describe(event)))
            }
            EventData::ReportedToIvo(r) => dossier
                .reports_made
                .push(entry(r.kind.code(), describe(event))),
            EventData::EventRetracted(r) => dossier.retractions.push(entry(
                "EventRetracted",
                format!("{}: {}", r.event_id, scrub(&r.reason)),
            )),
            _ => {}
        }
    }
    let last_quarter = Quarter::containing(on);
    for episode in &eps {
        let mut quarter = Quarter::containing(episode.reference_date);
        while quarter <= last_quarter {
            if let Some(kind) = classify(episode, quarter) {
                dossier.reports_owed.push(OwedReport {
                    quarter,
                    kind,
                    reference_date: episode.reference_date,
                    due: quarter.ivo_report_due(),
                    reported: is_reported(&view, episode, kind, quarter),
                });
            }
            quarter = quarter.next();
        }
    }
    Some(dossier)
}

/// For each event of the stream (version order), the retraction that withdrew it, if any.
fn retractions_of(stream: &[RecordedEvent]) -> Vec<Option<EventId>> {
    let target = |e: &RecordedEvent| match &e.data {
        EventData::EventRetracted(r) => Some(r.event_id),
        _ => None,
    };
    let active = active_by_retraction(stream, |e| e.event_id, target, stream.len());
    stream
        .iter()
        .zip(&active)
        .map(|(event, &is_active)| {
            if is_active {
                return None;
            }
            // The retraction that counts is the last active one naming it.
            stream
                .iter()
                .zip(&active)
                .filter(|(r, a)| **a && target(r) == Some(event.event_id))
                .map(|(r, _)| r.event_id)
                .next_back()
        })
        .collect()
}

/// What an event says, in Swedish, in one line.
pub fn describe(event: &RecordedEvent) -> String {
    describe_with(event, &|text| text.to_owned())
}

/// As [`describe`], passing every free text (what people wrote) through `free`.
pub fn describe_with(event: &RecordedEvent, free: &dyn Fn(&str) -> String) -> String {
    match &event.data {
        EventData::DecisionGranted(g) => {
            let mut text = format!(
                "Beslut om {} ({}, {})",
                g.insats.name(),
                g.insats.short_form(),
                g.law.as_str()
            );
            if g.forhandsbesked {
                text.push_str(", förhandsbesked");
            }
            if let Some(scope) = &g.scope {
                text.push_str(&format!(
                    ", omfattning {} {}",
                    scope.amount,
                    free(&scope.unit)
                ));
            }
            if let Some(replaced) = g.replaces {
                text.push_str(&format!(", ersätter beslut {replaced}"));
            }
            text
        }
        EventData::OrderSent(o) => format!("Beställning skickad till {}", free(&o.provider)),
        EventData::OfferMade(o) if o.compensating => {
            format!(
                "Erbjudande om kompenserande insats: {}",
                free(&o.description)
            )
        }
        EventData::OfferMade(o) => format!("Erbjudande: {}", free(&o.description)),
        EventData::OfferDeclined(d) => format!("Erbjudandet avböjdes: {}", free(&d.reason)),
        EventData::NoteRecorded(n) => format!(
            "Anteckning ({}): {}",
            n.kind.swedish().to_lowercase(),
            free(&n.text)
        ),
        EventData::DelayReasonRecorded(d) => match &d.text {
            Some(t) => format!("Skäl till dröjsmål: {} – {}", d.reason.swedish(), free(t)),
            None => format!("Skäl till dröjsmål: {}", d.reason.swedish()),
        },
        EventData::Interrupted(i) => format!("Avbrott i verkställigheten: {}", free(&i.reason)),
        EventData::Verkställd(v) => match &v.partial {
            Some(p) => format!(
                "Delvis verkställt: {} av {} {}",
                p.executed,
                p.granted,
                free(&p.unit)
            ),
            None => "Verkställt".to_owned(),
        },
        EventData::Avslutad(a) => match &a.text {
            Some(t) => format!("Avslutat: {} – {}", a.reason.swedish(), free(t)),
            None => format!("Avslutat: {}", a.reason.swedish()),
        },
        EventData::ReportedToIvo(r) => format!(
            "Rapporterat till IVO: {} för {} (referensdatum {})",
            r.kind.swedish(),
            r.quarter,
            r.reference_date
        ),
        EventData::CostEstimated(c) => {
            format!("Kostnad för insatsen: {} kr per månad", c.sek_per_month)
        }
        EventData::EventRetracted(r) => {
            format!("Händelse {} återkallad: {}", r.event_id, free(&r.reason))
        }
    }
}
