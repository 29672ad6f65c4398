//! The events on the wire (spec §3): the envelope, every event type and its `data`, and the
//! strict parser that turns a line of JSON into typed values.
//!
//! Parsing is strict: an unknown `type`, an unknown field, a missing field, a wrong JSON type,
//! an impossible date, an invalid identity number or an insats that does not belong to the law
//! is refused with a [`ParseError`] naming the field (`data.person.id`, `occurred_on`, …). Error
//! messages never repeat an identity number.
//!
//! Serialisation is canonical: fields always in the same order, so the bytes the store hashes
//! are the bytes it writes and reads back.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::codes::{Area, DelayReason, EndReason, Insats, Law, NoteKind, ReportKind};
use crate::ids::{DecisionId, EventId};
use crate::person::{Person, PersonWire};
use crate::quarter::Quarter;
use crate::redact::redact_identity_like;

/// The longest free text (reasons, notes, descriptions), in characters.
pub const TEXT_CHARS_MAX: usize = 20_000;
/// The longest `actor` or other short name (provider, unit), in characters.
pub const NAME_CHARS_MAX: usize = 200;
/// The largest event, as one line of JSON, in bytes.
pub const EVENT_BYTES_MAX: usize = 256 * 1024;

macro_rules! event_types {
    ($($variant:ident),* $(,)?) => {
        /// The type of an event: its `type` on the wire, spelled exactly as here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventType {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant,
            )*
        }

        impl EventType {
            /// Every event type, in spec order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];

            /// The name on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => stringify!($variant),)* }
            }

            /// The type with this wire name, if any (exact spelling, case included).
            pub fn from_name(name: &str) -> Option<EventType> {
                match name { $(stringify!($variant) => Some(EventType::$variant),)* _ => None }
            }
        }

        /// An event's own fields (`data`), one variant per type.
        #[derive(Debug, Clone, PartialEq)]
        pub enum EventData {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant($variant),
            )*
        }

        impl EventData {
            /// The event's type.
            pub const fn event_type(&self) -> EventType {
                match self { $(EventData::$variant(_) => EventType::$variant,)* }
            }
        }

        impl Serialize for EventData {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self { $(EventData::$variant(data) => data.serialize(serializer),)* }
            }
        }

        /// Deserialises the `data` of a known type.
        struct DataSeed(EventType);

        impl<'de> DeserializeSeed<'de> for DataSeed {
            type Value = PendingData;

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<PendingData, D::Error> {
                Ok(match self.0 {
                    $(
                        EventType::$variant => {
                            event_types!(@ready $variant, deserializer)
                        }
                    )*
                })
            }
        }
    };
    (@ready DecisionGranted, $d:ident) => { PendingData::Grant(DecisionGrantedWire::deserialize($d)?) };
    (@ready $variant:ident, $d:ident) => { PendingData::Ready(EventData::$variant($variant::deserialize($d)?)) };
}

event_types!(
    DecisionGranted,
    OrderSent,
    OfferMade,
    OfferDeclined,
    NoteRecorded,
    DelayReasonRecorded,
    Interrupted,
    Verkställd,
    Avslutad,
    ReportedToIvo,
    CostEstimated,
    EventRetracted,
);

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A support granted under SoL or LSS: the event that opens a decision's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionGranted {
    /// Who the decision is for.
    pub person: Person,
    /// The law.
    pub law: Law,
    /// The granted insats; it belongs to `law`.
    pub insats: Insats,
    /// An advance decision (förhandsbesked) for a person moving into the municipality.
    pub forhandsbesked: bool,
    /// How much was granted (e.g. 20 hours a month).
    pub scope: Option<Scope>,
    /// The area of social services.
    pub area: Option<Area>,
    /// The responsible unit.
    pub unit: Option<String>,
    /// An earlier decision this one replaces.
    pub replaces: Option<DecisionId>,
}

/// `DecisionGranted.data` as written on the wire (the identity number not yet checked).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "DecisionGranted data")]
pub struct DecisionGrantedWire {
    /// Who the decision is for.
    pub person: PersonWire,
    /// `SoL` or `LSS`.
    pub law: Law,
    /// The insats code (spec §4); it must belong to `law`.
    pub insats: Insats,
    /// An advance decision for a person moving into the municipality.
    #[serde(default)]
    pub forhandsbesked: bool,
    /// How much was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The area of social services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    /// The responsible unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub unit: Option<String>,
    /// The decision this one replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<DecisionId>,
}

impl Serialize for DecisionGranted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        DecisionGrantedWire {
            person: self.person.to_wire(),
            law: self.law,
            insats: self.insats,
            forhandsbesked: self.forhandsbesked,
            scope: self.scope.clone(),
            area: self.area,
            unit: self.unit.clone(),
            replaces: self.replaces,
        }
        .serialize(serializer)
    }
}

/// An amount of a granted service, e.g. 20 hours a month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// How much.
    #[schemars(range(min = 0))]
    pub amount: f64,
    /// Of what, e.g. `timmar/månad`.
    #[schemars(length(min = 1, max = 200))]
    pub unit: String,
}

/// An order sent to the provider (beställning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderSent {
    /// Who was asked to carry the decision out.
    #[schemars(length(min = 1, max = 200))]
    pub provider: String,
}

/// An offer made to the individual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferMade {
    /// What was offered.
    #[schemars(length(min = 1, max = 20000))]
    pub description: String,
    /// Whether it is another insats offered while waiting (a compensating insats).
    pub compensating: bool,
}

/// The individual declined an offer. It does not end the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferDeclined {
    /// Why, as the individual said.
    #[schemars(length(min = 1, max = 20000))]
    pub reason: String,
    /// The `OfferMade` declined, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_event_id: Option<EventId>,
}

/// A note: a contact, the utförare's summary, planning, the impact on the individual, other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRecorded {
    /// What the note records.
    pub kind: NoteKind,
    /// The note.
    #[schemars(length(min = 1, max = 20000))]
    pub text: String,
}

/// Why execution is delayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DelayReasonRecorded {
    /// The reason code.
    pub reason: DelayReason,
    /// More about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20000))]
    pub text: Option<String>,
}

/// An executed service was interrupted (avbrott).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interrupted {
    /// Why.
    #[schemars(length(min = 1, max = 20000))]
    pub reason: String,
}

/// The service has actually started (verkställd), fully or in part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verkställd {
    /// Present when only part of the granted scope is executed; absent for a full execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
}

/// How much of a decision is executed, when not all of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partial {
    /// How much is executed; less than `granted`.
    #[schemars(range(min = 0))]
    pub executed: f64,
    /// How much was granted.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub granted: f64,
    /// Of what, e.g. `timmar/vecka`.
    #[schemars(length(min = 1, max = 200))]
    pub unit: String,
}

/// The decision ended for another reason than execution (avslutad).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Avslutad {
    /// Why.
    pub reason: EndReason,
    /// More about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20000))]
    pub text: Option<String>,
}

/// A report to IVO was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedToIvo {
    /// Which report.
    pub kind: ReportKind,
    /// The quarter reported for.
    pub quarter: Quarter,
    /// The reference date of the episode reported (start + 3 months).
    #[serde(deserialize_with = "deserialize_date")]
    #[schemars(with = "NaiveDate")]
    pub reference_date: NaiveDate,
}

/// The municipality's cost of the insats, for the särskild avgift estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostEstimated {
    /// SEK per month.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub sek_per_month: f64,
}

/// An event recorded in error is retracted. The retracted event stays in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetracted {
    /// The event retracted: one of the same stream.
    pub event_id: EventId,
    /// Why it was recorded in error.
    #[schemars(length(min = 1, max = 20000))]
    pub reason: String,
}

/// Why a line of JSON is not an acceptable event: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct ParseError {
    /// The field, as a path: `type`, `occurred_on`, `data.person.id`; `.` for the whole line.
    pub field: String,
    /// What is wrong, never repeating an identity number.
    pub message: String,
}

impl ParseError {
    fn new(field: impl Into<String>, message: impl AsRef<str>) -> ParseError {
        ParseError {
            field: field.into(),
            message: redact_identity_like(message.as_ref()).into_owned(),
        }
    }
}

/// An event as submitted for appending: no `position`, `version` or `hash` yet.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The idempotency key; the store generates one when absent.
    pub event_id: Option<EventId>,
    /// The decision's stream.
    pub decision_id: DecisionId,
    /// When it happened (business date).
    pub occurred_on: NaiveDate,
    /// Who recorded it.
    pub actor: Option<String>,
    /// When verkstall learnt it: honoured only by an explicit historical import.
    pub recorded_at: Option<DateTime<Utc>>,
    /// The type's own fields.
    pub data: EventData,
}

/// An event as stored: the submitted event plus what the store adds.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Global position, gap-free from 1.
    pub position: u64,
    /// Version within the decision's stream, from 1.
    pub version: u64,
    /// When verkstall learnt it (UTC), never earlier than the previous event's.
    pub recorded_at: DateTime<Utc>,
    /// The idempotency key.
    pub event_id: EventId,
    /// The decision's stream.
    pub decision_id: DecisionId,
    /// When it happened (business date).
    pub occurred_on: NaiveDate,
    /// Who recorded it.
    pub actor: Option<String>,
    /// The type's own fields.
    pub data: EventData,
    /// The hash chain link, lowercase hex SHA-256; empty until the store has computed it.
    pub hash: String,
}

impl NewEvent {
    /// Parses one event as submitted (a line of an import, a request body).
    ///
    /// `position`, `version` and `hash` belong to the store and are refused here.
    pub fn from_json(text: &str) -> Result<NewEvent, ParseError> {
        let wire = WireEvent::parse(text)?;
        for (field, present) in [
            ("position", wire.position.is_some()),
            ("version", wire.version.is_some()),
            ("hash", wire.hash.is_some()),
        ] {
            if present {
                return Err(ParseError::new(
                    field,
                    "is set by the store and cannot be submitted",
                ));
            }
        }
        Ok(NewEvent {
            event_id: wire.event_id,
            decision_id: wire.decision_id,
            occurred_on: wire.occurred_on,
            actor: wire.actor,
            recorded_at: wire.recorded_at,
            data: wire.data,
        })
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }
}

impl RecordedEvent {
    /// Parses a stored event: every field the store adds must be present.
    pub fn from_json(text: &str) -> Result<RecordedEvent, ParseError> {
        let wire = WireEvent::parse(text)?;
        let missing = |field: &str| ParseError::new(field, "missing: a stored event carries it");
        Ok(RecordedEvent {
            position: wire.position.ok_or_else(|| missing("position"))?,
            version: wire.version.ok_or_else(|| missing("version"))?,
            recorded_at: wire.recorded_at.ok_or_else(|| missing("recorded_at"))?,
            event_id: wire.event_id.ok_or_else(|| missing("event_id"))?,
            decision_id: wire.decision_id,
            occurred_on: wire.occurred_on,
            actor: wire.actor,
            data: wire.data,
            hash: wire.hash.ok_or_else(|| missing("hash"))?,
        })
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// The canonical JSON of the event without its `hash`: the bytes the hash chain covers.
    pub fn to_json_without_hash(&self) -> String {
        serde_json::to_string(&CanonicalEvent {
            event: self,
            with_hash: false,
        })
        .expect("an event always serialises")
    }

    /// The canonical JSON of the stored event, `hash` included: one line of `verkstall events`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event always serialises")
    }
}

impl Serialize for RecordedEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CanonicalEvent {
            event: self,
            with_hash: true,
        }
        .serialize(serializer)
    }
}

impl Serialize for NewEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(event_id) = &self.event_id {
            map.serialize_entry("event_id", event_id)?;
        }
        map.serialize_entry("decision_id", &self.decision_id)?;
        map.serialize_entry("type", self.data.event_type().as_str())?;
        map.serialize_entry("occurred_on", &self.occurred_on)?;
        if let Some(actor) = &self.actor {
            map.serialize_entry("actor", actor)?;
        }
        if let Some(recorded_at) = &self.recorded_at {
            map.serialize_entry("recorded_at", &format_instant(recorded_at))?;
        }
        map.serialize_entry("data", &self.data)?;
        map.end()
    }
}

/// The one canonical field order of a stored event.
struct CanonicalEvent<'a> {
    event: &'a RecordedEvent,
    with_hash: bool,
}

impl Serialize for CanonicalEvent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.event;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("position", &e.position)?;
        map.serialize_entry("version", &e.version)?;
        map.serialize_entry("recorded_at", &format_instant(&e.recorded_at))?;
        map.serialize_entry("event_id", &e.event_id)?;
        map.serialize_entry("decision_id", &e.decision_id)?;
        map.serialize_entry("type", e.data.event_type().as_str())?;
        map.serialize_entry("occurred_on", &e.occurred_on)?;
        if let Some(actor) = &e.actor {
            map.serialize_entry("actor", actor)?;
        }
        map.serialize_entry("data", &e.data)?;
        if self.with_hash {
            map.serialize_entry("hash", &e.hash)?;
        }
        map.end()
    }
}

/// RFC 3339 in UTC with microseconds and `Z`: one spelling for every instant we write.
pub fn format_instant(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Every envelope field, as parsed, before deciding whether it is a new or a stored event.
struct WireEvent {
    event_id: Option<EventId>,
    decision_id: DecisionId,
    occurred_on: NaiveDate,
    actor: Option<String>,
    recorded_at: Option<DateTime<Utc>>,
    position: Option<u64>,
    version: Option<u64>,
    hash: Option<String>,
    data: EventData,
}

/// The envelope's fields, in canonical order.
const ENVELOPE_FIELDS: &[&str] = &[
    "position",
    "version",
    "recorded_at",
    "event_id",
    "decision_id",
    "type",
    "occurred_on",
    "actor",
    "data",
    "hash",
];

/// `data` deserialised but not yet checked against the rest of the envelope.
enum PendingData {
    Ready(EventData),
    Grant(DecisionGrantedWire),
}

/// The envelope as the visitor collects it.
#[derive(Default)]
struct EnvelopeParts {
    event_type: Option<EventType>,
    data: Option<PendingData>,
    raw_data: Option<Box<RawValue>>,
    event_id: Option<EventId>,
    decision_id: Option<DecisionId>,
    occurred_on: Option<NaiveDate>,
    actor: Option<String>,
    recorded_at: Option<DateTime<Utc>>,
    position: Option<u64>,
    version: Option<u64>,
    hash: Option<String>,
}

impl WireEvent {
    fn parse(text: &str) -> Result<WireEvent, ParseError> {
        if text.len() > EVENT_BYTES_MAX {
            return Err(ParseError::new(
                ".",
                format!("the event is larger than {EVENT_BYTES_MAX} bytes"),
            ));
        }
        // The common case (a good event, and every stored one) parses without tracking the
        // path; only a refused one is parsed again, with tracking, to name the field.
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let parts = match EnvelopeParts::deserialize(&mut deserializer) {
            Ok(parts) => parts,
            Err(_) => {
                let mut deserializer = serde_json::Deserializer::from_str(text);
                let error = serde_path_to_error::deserialize::<_, EnvelopeParts>(&mut deserializer)
                    .err()
                    .map(|e| from_path_error(None, e))
                    .unwrap_or_else(|| ParseError::new(".", "not an event"));
                return Err(error);
            }
        };
        deserializer
            .end()
            .map_err(|e| ParseError::new(".", e.to_string()))?;
        parts.finish()
    }
}

fn from_path_error(
    prefix: Option<&str>,
    error: serde_path_to_error::Error<serde_json::Error>,
) -> ParseError {
    let mut segments: Vec<String> = prefix.map(str::to_owned).into_iter().collect();
    let path = error.path().to_string();
    if path != "." {
        segments.push(path);
    }
    let message = error.into_inner().to_string();
    // serde reports an unknown or missing field at the object holding it: name the field itself.
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(marker)
            && let Some(end) = rest.find('`')
        {
            let name = &rest[..end];
            if !segments.last().is_some_and(|last| last.ends_with(name)) {
                segments.push(name.to_owned());
            }
        }
    }
    let field = if segments.is_empty() {
        ".".to_owned()
    } else {
        segments.join(".")
    };
    ParseError::new(field, message)
}

impl EnvelopeParts {
    fn finish(mut self) -> Result<WireEvent, ParseError> {
        let missing = |field: &str| ParseError::new(field, "missing: every event has it");
        let event_type = self.event_type.ok_or_else(|| missing("type"))?;
        let decision_id = self.decision_id.ok_or_else(|| missing("decision_id"))?;
        let occurred_on = self.occurred_on.ok_or_else(|| missing("occurred_on"))?;
        if let Some(raw) = self.raw_data.take() {
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            let mut track = serde_path_to_error::Track::new();
            let pending = DataSeed(event_type)
                .deserialize(serde_path_to_error::Deserializer::new(
                    &mut deserializer,
                    &mut track,
                ))
                .map_err(|e| {
                    from_path_error(
                        Some("data"),
                        serde_path_to_error::Error::new(track.path(), e),
                    )
                })?;
            self.data = Some(pending);
        }
        let data = match self.data.ok_or_else(|| missing("data"))? {
            PendingData::Ready(data) => data,
            PendingData::Grant(wire) => {
                EventData::DecisionGranted(grant_from_wire(wire, occurred_on)?)
            }
        };
        check_data(&data)?;
        if let Some(actor) = &self.actor {
            check_name("actor", actor)?;
            // Only a run of digits can look like an identity number.
            if actor.bytes().any(|b| b.is_ascii_digit())
                && redact_identity_like(actor) != actor.as_str()
            {
                return Err(ParseError::new(
                    "actor",
                    "must be a user or system id, never a personal identity number",
                ));
            }
        }
        Ok(WireEvent {
            event_id: self.event_id,
            decision_id,
            occurred_on,
            actor: self.actor,
            recorded_at: self.recorded_at,
            position: self.position,
            version: self.version,
            hash: self.hash,
            data,
        })
    }
}

impl<'de> Deserialize<'de> for EnvelopeParts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EnvelopeParts, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = EnvelopeParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event: a JSON object with type, decision_id, occurred_on and data")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvelopeParts, A::Error> {
        let mut parts = EnvelopeParts::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            macro_rules! once {
                ($slot:expr, $value:expr) => {{
                    if $slot.is_some() {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    $slot = Some($value);
                }};
            }
            match key.as_ref() {
                "type" => once!(parts.event_type, map.next_value_seed(TypeSeed)?),
                "data" => match parts.event_type {
                    Some(event_type) => {
                        once!(parts.data, map.next_value_seed(DataSeed(event_type))?)
                    }
                    None => once!(parts.raw_data, map.next_value::<Box<RawValue>>()?),
                },
                "event_id" => once!(parts.event_id, map.next_value()?),
                "decision_id" => once!(parts.decision_id, map.next_value()?),
                "occurred_on" => once!(parts.occurred_on, map.next_value_seed(DateSeed)?),
                "actor" => once!(parts.actor, map.next_value()?),
                "recorded_at" => once!(parts.recorded_at, map.next_value_seed(InstantSeed)?),
                "position" => once!(parts.position, map.next_value()?),
                "version" => once!(parts.version, map.next_value()?),
                "hash" => once!(parts.hash, map.next_value()?),
                other => {
                    let _: IgnoredAny = map.next_value()?;
                    return Err(de::Error::unknown_field(other, ENVELOPE_FIELDS));
                }
            }
        }
        Ok(parts)
    }
}

/// An event type's exact wire name.
struct TypeSeed;

impl<'de> DeserializeSeed<'de> for TypeSeed {
    type Value = EventType;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<EventType, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        EventType::from_name(&name).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            de::Error::custom(format_args!(
                "unknown event type `{name}`, expected one of {}",
                known.join(", ")
            ))
        })
    }
}

/// A business date `YYYY-MM-DD` that exists and lies within the calendar.
struct DateSeed;

impl<'de> DeserializeSeed<'de> for DateSeed {
    type Value = NaiveDate;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<NaiveDate, D::Error> {
        deserialize_date(deserializer)
    }
}

/// Deserialises a business date, refusing impossible dates and years outside the calendar.
pub fn deserialize_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    parse_date(&text).map_err(de::Error::custom)
}

/// Parses a business date `YYYY-MM-DD`: it must exist and lie within the calendar's years.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err("expected a date YYYY-MM-DD".to_owned());
    }
    // Digits checked above; read them directly (this runs for every event ever decoded).
    let number = |range: std::ops::Range<usize>| -> u32 {
        text.as_bytes()[range]
            .iter()
            .fold(0, |n, b| n * 10 + u32::from(b - b'0'))
    };
    let year = i32::try_from(number(0..4)).expect("four digits fit an i32");
    let date = NaiveDate::from_ymd_opt(year, number(5..7), number(8..10))
        .ok_or_else(|| format!("{text} is not a real date"))?;
    if !(calendar::FIRST_YEAR..=calendar::LAST_YEAR).contains(&date.year()) {
        return Err(format!(
            "the year must be within {}–{}",
            calendar::FIRST_YEAR,
            calendar::LAST_YEAR
        ));
    }
    Ok(date)
}

/// An RFC 3339 instant, converted to UTC.
struct InstantSeed;

impl<'de> DeserializeSeed<'de> for InstantSeed {
    type Value = DateTime<Utc>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|instant| instant.with_timezone(&Utc))
            .map_err(|_| {
                de::Error::custom("expected an RFC 3339 time such as 2023-06-30T12:00:00Z")
            })
    }
}

fn grant_from_wire(
    wire: DecisionGrantedWire,
    decided_on: NaiveDate,
) -> Result<DecisionGranted, ParseError> {
    let person = wire
        .person
        .into_person(decided_on)
        .map_err(|e| ParseError::new("data.person.id", e.to_string()))?;
    Ok(DecisionGranted {
        person,
        law: wire.law,
        insats: wire.insats,
        forhandsbesked: wire.forhandsbesked,
        scope: wire.scope,
        area: wire.area,
        unit: wire.unit,
        replaces: wire.replaces,
    })
}

/// The checks serde cannot express: lengths, signs, the insats's law.
fn check_data(data: &EventData) -> Result<(), ParseError> {
    match data {
        EventData::DecisionGranted(g) => {
            if g.insats.law() != g.law {
                return Err(ParseError::new(
                    "data.insats",
                    format!(
                        "`{}` is an insats under {}, but `law` is {}",
                        g.insats.code(),
                        g.insats.law(),
                        g.law
                    ),
                ));
            }
            if let Some(scope) = &g.scope {
                check_amount("data.scope.amount", scope.amount, false)?;
                check_name("data.scope.unit", &scope.unit)?;
            }
            if let Some(unit) = &g.unit {
                check_name("data.unit", unit)?;
            }
        }
        EventData::OrderSent(o) => check_name("data.provider", &o.provider)?,
        EventData::OfferMade(o) => check_text("data.description", &o.description)?,
        EventData::OfferDeclined(o) => check_text("data.reason", &o.reason)?,
        EventData::NoteRecorded(n) => check_text("data.text", &n.text)?,
        EventData::DelayReasonRecorded(d) => {
            if let Some(text) = &d.text {
                check_text("data.text", text)?;
            }
        }
        EventData::Interrupted(i) => check_text("data.reason", &i.reason)?,
        EventData::Verkställd(v) => {
            if let Some(p) = &v.partial {
                check_amount("data.partial.executed", p.executed, false)?;
                check_amount("data.partial.granted", p.granted, true)?;
                check_name("data.partial.unit", &p.unit)?;
                if p.executed >= p.granted {
                    return Err(ParseError::new(
                        "data.partial.executed",
                        "must be less than `granted`; leave `partial` out for a full execution",
                    ));
                }
            }
        }
        EventData::Avslutad(a) => {
            if let Some(text) = &a.text {
                check_text("data.text", text)?;
            }
        }
        EventData::ReportedToIvo(_) => {}
        EventData::CostEstimated(c) => check_amount("data.sek_per_month", c.sek_per_month, true)?,
        EventData::EventRetracted(r) => check_text("data.reason", &r.reason)?,
    }
    Ok(())
}

fn check_amount(field: &str, value: f64, positive: bool) -> Result<(), ParseError> {
    if !value.is_finite() || value < 0.0 || (positive && value == 0.0) {
        let what = if positive {
            "greater than zero"
        } else {
            "zero or more"
        };
        return Err(ParseError::new(field, format!("must be a number {what}")));
    }
    Ok(())
}

fn check_text(field: &str, text: &str) -> Result<(), ParseError> {
    check_length(field, text, TEXT_CHARS_MAX)
}

fn check_name(field: &str, text: &str) -> Result<(), ParseError> {
    check_length(field, text, NAME_CHARS_MAX)
}

fn check_length(field: &str, text: &str, max: usize) -> Result<(), ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::new(field, "must not be empty"));
    }
    // A character takes at least one byte: only a longer text needs counting.
    if text.len() > max && text.chars().count() > max {
        return Err(ParseError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

mod stored;

pub use stored::StoredEnvelope;

#[cfg(test)]
mod tests;
