//! What the fold keeps of an event ([`FoldEvent`]), from a decoded event or straight from the
//! line the store wrote.
//!
//! A rebuild folds every event of the log, and decoding whole events — names, free texts and
//! identity numbers the fold never looks at — was most of its time.
//! [`FoldEvent::from_stored_line`] reads the canonical envelope ([`StoredEnvelope`]) and, of
//! `data`, only the fields the rules use. For a line it cannot read that way (not canonical, an
//! escaped string, anything unexpected) it decodes the whole event, so every line the full
//! decoder accepts gives the very `FoldEvent` that [`FoldEvent::of`] gives for the decoded
//! event; `tests` holds it to that. What the fold does not use is not checked again: the store
//! checked every event when it was appended, and `verkstall verify` re-reads the whole log.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use domain::codes::{Area, DelayReason, EndReason, Insats, Law, NoteKind, ReportKind};
use domain::event::{StoredEnvelope, deserialize_date};
use domain::{
    DecisionId, EventData, EventId, EventType, IdentityNumber, ParseError, Quarter, RecordedEvent,
};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::facts::{Fact, FactKind, Grant};

/// An event as the fold reads it: its place in the log, its fact, and for a `DecisionGranted`
/// the grant (without the identity number: only the sex and birth date it gives).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldEvent<'a> {
    /// The decision.
    pub decision_id: DecisionId,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Its hash (the projection keeps the last one, to tie a snapshot to its log).
    pub hash: Cow<'a, str>,
    /// What it means for the rules (its position included).
    pub fact: Fact,
    /// The grant, for a `DecisionGranted`.
    pub grant: Option<Grant>,
}

impl FoldEvent<'_> {
    /// The fold's reading of a decoded event.
    pub fn of(event: &RecordedEvent) -> FoldEvent<'_> {
        let grant = match &event.data {
            EventData::DecisionGranted(g) => Some(Grant {
                position: event.position,
                decided_on: event.occurred_on,
                law: g.law,
                insats: g.insats,
                forhandsbesked: g.forhandsbesked,
                sex: g.person.id.sex(),
                birth_date: g.person.id.birth_date(),
                protected: g.person.protected,
                replaces: g.replaces,
                area: g.area,
            }),
            _ => None,
        };
        FoldEvent {
            decision_id: event.decision_id,
            recorded_at: event.recorded_at,
            hash: Cow::Borrowed(&event.hash),
            fact: Fact {
                position: event.position,
                event_id: event.event_id,
                occurred_on: event.occurred_on,
                kind: fact_kind(&event.data),
            },
            grant,
        }
    }

    /// The same, owning its hash.
    pub fn into_owned(self) -> FoldEvent<'static> {
        FoldEvent {
            hash: Cow::Owned(self.hash.into_owned()),
            ..self
        }
    }
}

impl<'a> FoldEvent<'a> {
    /// The fold's reading of a stored line: fast when the line is canonical, else by decoding
    /// the whole event (with its errors).
    ///
    /// # Errors
    /// The full decoder's, for a line it refuses.
    pub fn from_stored_line(line: &'a str) -> Result<FoldEvent<'a>, ParseError> {
        match read_canonical(line) {
            Some(event) => Ok(event),
            None => RecordedEvent::from_stored_json(line).map(|e| FoldEvent::of(&e).into_owned()),
        }
    }
}

/// What an event means for the rules.
fn fact_kind(data: &EventData) -> FactKind {
    match data {
        EventData::DecisionGranted(_) => FactKind::Granted,
        EventData::OrderSent(_) => FactKind::OrderSent,
        EventData::OfferMade(o) => FactKind::OfferMade {
            compensating: o.compensating,
        },
        EventData::OfferDeclined(_) => FactKind::OfferDeclined,
        EventData::NoteRecorded(n) => FactKind::Note(n.kind),
        EventData::DelayReasonRecorded(d) => FactKind::DelayReason(d.reason),
        EventData::Interrupted(_) => FactKind::Interrupted,
        EventData::Verkställd(v) => FactKind::Verkställd {
            partial: v.partial.is_some(),
        },
        EventData::Avslutad(a) => FactKind::Avslutad(a.reason),
        EventData::ReportedToIvo(r) => FactKind::Reported {
            kind: r.kind,
            quarter: r.quarter,
            reference_date: r.reference_date,
        },
        EventData::CostEstimated(c) => FactKind::Cost {
            sek_per_month: c.sek_per_month,
        },
        EventData::EventRetracted(r) => FactKind::Retracted { target: r.event_id },
    }
}

/// The fold's reading of a canonical line, or `None` to decode it in full.
fn read_canonical(line: &str) -> Option<FoldEvent<'_>> {
    let envelope = StoredEnvelope::parse(line)?;
    let (kind, grant) = match envelope.event_type {
        EventType::DecisionGranted => {
            let data: GrantData<'_> = data(envelope.data)?;
            // The one check on what the grant keeps that serde does not make (the full decoder
            // refuses such a line, with its message).
            if data.insats.law() != data.law {
                return None;
            }
            // The decision date dates an identity number written without its century.
            let id = IdentityNumber::facts_of(data.person.id, envelope.occurred_on).ok()?;
            let grant = Grant {
                position: envelope.position,
                decided_on: envelope.occurred_on,
                law: data.law,
                insats: data.insats,
                forhandsbesked: data.forhandsbesked,
                sex: id.sex,
                birth_date: id.birth_date,
                protected: data.person.protected,
                replaces: data.replaces,
                area: data.area,
            };
            (FactKind::Granted, Some(grant))
        }
        EventType::OrderSent => {
            data::<OrderData>(envelope.data)?;
            (FactKind::OrderSent, None)
        }
        EventType::OfferMade => {
            let data: OfferData = data(envelope.data)?;
            (
                FactKind::OfferMade {
                    compensating: data.compensating,
                },
                None,
            )
        }
        EventType::OfferDeclined => {
            data::<DeclineData>(envelope.data)?;
            (FactKind::OfferDeclined, None)
        }
        EventType::NoteRecorded => (FactKind::Note(data::<NoteData>(envelope.data)?.kind), None),
        EventType::DelayReasonRecorded => (
            FactKind::DelayReason(data::<DelayData>(envelope.data)?.reason),
            None,
        ),
        EventType::Interrupted => {
            data::<InterruptData>(envelope.data)?;
            (FactKind::Interrupted, None)
        }
        EventType::Verkställd => {
            let data: ExecutedData = data(envelope.data)?;
            (
                FactKind::Verkställd {
                    partial: data.partial.is_some(),
                },
                None,
            )
        }
        EventType::Avslutad => (
            FactKind::Avslutad(data::<EndData>(envelope.data)?.reason),
            None,
        ),
        EventType::ReportedToIvo => {
            let data: ReportData = data(envelope.data)?;
            (
                FactKind::Reported {
                    kind: data.kind,
                    quarter: data.quarter,
                    reference_date: data.reference_date,
                },
                None,
            )
        }
        EventType::CostEstimated => {
            let sek_per_month = data::<CostData>(envelope.data)?.sek_per_month;
            // As the full decoder checks it (else it refuses the line, with its message).
            if !(sek_per_month.is_finite() && sek_per_month > 0.0) {
                return None;
            }
            (FactKind::Cost { sek_per_month }, None)
        }
        EventType::EventRetracted => (
            FactKind::Retracted {
                target: data::<RetractData>(envelope.data)?.event_id,
            },
            None,
        ),
    };
    Some(FoldEvent {
        decision_id: envelope.decision_id,
        recorded_at: envelope.recorded_at,
        hash: Cow::Borrowed(envelope.hash),
        fact: Fact {
            position: envelope.position,
            event_id: envelope.event_id,
            occurred_on: envelope.occurred_on,
            kind,
        },
        grant,
    })
}

/// `data` read as `T` (which names only the fields the fold uses), the whole text a JSON value.
fn data<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(value)
}

// The shapes below name every field of their type's `data` (those the fold does not keep as
// `IgnoredAny`, required where the wire type requires them) and refuse any other: a misspelt
// field is never taken for an absent one, but sends the line to the full decoder.

/// Of `DecisionGranted.data`: what the grant keeps.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantData<'a> {
    #[serde(borrow)]
    person: PersonData<'a>,
    law: Law,
    insats: Insats,
    #[serde(default)]
    forhandsbesked: bool,
    #[serde(default, rename = "scope")]
    _scope: Option<IgnoredAny>,
    #[serde(default)]
    area: Option<Area>,
    #[serde(default, rename = "unit")]
    _unit: Option<IgnoredAny>,
    #[serde(default)]
    replaces: Option<DecisionId>,
}

/// Of `data.person`: the identity number's text (unescaped: an escape sends the line to the
/// full decoder) and the protection.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonData<'a> {
    id: &'a str,
    #[serde(default)]
    protected: bool,
}

/// Of `OrderSent.data`: nothing kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderData {
    #[serde(rename = "provider")]
    _provider: IgnoredAny,
}

/// Of `OfferMade.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferData {
    #[serde(rename = "description")]
    _description: IgnoredAny,
    compensating: bool,
}

/// Of `OfferDeclined.data`: nothing kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineData {
    #[serde(rename = "reason")]
    _reason: IgnoredAny,
    #[serde(default, rename = "offer_event_id")]
    _offer_event_id: Option<IgnoredAny>,
}

/// Of `NoteRecorded.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteData {
    kind: NoteKind,
    #[serde(rename = "text")]
    _text: IgnoredAny,
}

/// Of `DelayReasonRecorded.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelayData {
    reason: DelayReason,
    #[serde(default, rename = "text")]
    _text: Option<IgnoredAny>,
}

/// Of `Interrupted.data`: nothing kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InterruptData {
    #[serde(rename = "reason")]
    _reason: IgnoredAny,
}

/// Of `Verkställd.data`: whether `partial` is there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecutedData {
    #[serde(default)]
    partial: Option<IgnoredAny>,
}

/// Of `Avslutad.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndData {
    reason: EndReason,
    #[serde(default, rename = "text")]
    _text: Option<IgnoredAny>,
}

/// Of `ReportedToIvo.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportData {
    kind: ReportKind,
    quarter: Quarter,
    #[serde(deserialize_with = "deserialize_date")]
    reference_date: NaiveDate,
}

/// Of `CostEstimated.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostData {
    sek_per_month: f64,
}

/// Of `EventRetracted.data`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetractData {
    event_id: EventId,
    #[serde(rename = "reason")]
    _reason: IgnoredAny,
}

#[cfg(test)]
mod tests;
