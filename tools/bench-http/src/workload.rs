//! What the simulated clients send: appends as a case system sends them (a new decision, then
//! follow-up events on it, each with the stream's exact expected version in `If-Match`), and
//! the reads users make, weighted as they make them.
//!
//! Each client owns the decisions it creates, so it knows their versions exactly; a conflict
//! (409) on one of them can only mean the server lost or misnumbered an acknowledged append.
//! Identities are IVO reserve numbers (`YYYYMMDD-TNNN`, `-TFNN` when protected), never
//! personnummer, which may belong to real people.

use chrono::{Datelike, Days, NaiveDate};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::RngCore;
use serde_json::{Value, json};
use uuid::Uuid;

/// A kind of request, one row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `POST /v1/decisions/{id}/events`, `If-Match: "0"`: a new decision.
    AppendDecision,
    /// `POST /v1/decisions/{id}/events`, `If-Match: "v"`: the next event of a decision.
    AppendFollowUp,
    /// `GET /v1/decisions/{id}`: a case officer opens a decision.
    ReadState,
    /// `GET /v1/decisions/{id}/events`: a decision's events as stored.
    ReadEvents,
    /// `GET /v1/decisions/{id}/dossier`: the whole record, for a yttrande.
    ReadDossier,
    /// `GET /v1/open-cases`: the decisions waiting today.
    ReadOpenCases,
    /// `GET /v1/reports/ivo`: this quarter's IVO worklist.
    ReadIvoWorklist,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 7] = [
        Kind::AppendDecision,
        Kind::AppendFollowUp,
        Kind::ReadState,
        Kind::ReadEvents,
        Kind::ReadDossier,
        Kind::ReadOpenCases,
        Kind::ReadIvoWorklist,
    ];

    /// Whether it writes.
    pub const fn is_append(self) -> bool {
        matches!(self, Kind::AppendDecision | Kind::AppendFollowUp)
    }

    /// The row's label.
    pub const fn label(self) -> &'static str {
        match self {
            Kind::AppendDecision => "append: new decision",
            Kind::AppendFollowUp => "append: follow-up event",
            Kind::ReadState => "read: decision state",
            Kind::ReadEvents => "read: decision events",
            Kind::ReadDossier => "read: dossier",
            Kind::ReadOpenCases => "read: open cases",
            Kind::ReadIvoWorklist => "read: IVO worklist",
        }
    }

    /// A read's name in `--read-mix`; `None` for an append.
    pub const fn read_name(self) -> Option<&'static str> {
        match self {
            Kind::AppendDecision | Kind::AppendFollowUp => None,
            Kind::ReadState => Some("state"),
            Kind::ReadEvents => Some("events"),
            Kind::ReadDossier => Some("dossier"),
            Kind::ReadOpenCases => Some("open-cases"),
            Kind::ReadIvoWorklist => Some("ivo"),
        }
    }

    /// Its index in [`Kind::ALL`].
    pub fn index(self) -> usize {
        Kind::ALL
            .iter()
            .position(|&k| k == self)
            .expect("every kind is in ALL")
    }
}

/// How often each read is made, relative to the others: case officers open single decisions
/// far more often than anything else; the open-case list is their start page; events and
/// dossiers are read when a case is looked into; the IVO worklist a few times a quarter by a
/// few reporters.
pub const READ_WEIGHTS: [(Kind, u32); 5] = [
    (Kind::ReadState, 50),
    (Kind::ReadEvents, 15),
    (Kind::ReadDossier, 15),
    (Kind::ReadOpenCases, 15),
    (Kind::ReadIvoWorklist, 5),
];

/// Percent of appends that start a new decision while the client has decisions to follow up.
pub const NEW_DECISION_PERCENT: u32 = 25;
/// Decisions a client follows up at once; beyond it, it only follows up. A handful, so that the
/// clients' decisions waiting to be executed stay few beside the municipality's own and the
/// open-case list and the worklist stay about the size they began (the run's header shows both
/// counts): with 64 a client, 32 clients made the open cases of a 3 000-decision municipality
/// grow from 140 to 1 403 in 11 seconds, and the two lists' answers tenfold with them, so the
/// figures fell with every second the run went on.
pub const OWN_DECISIONS_MAX: usize = 4;
/// Days before today a new decision may be dated, at most.
const DECIDED_DAYS_AGO_MAX: u32 = 150;

/// A random number below `n` (n > 0).
pub fn below(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    (rng.next_u64() % u64::from(n)) as u32
}

/// One of `weights`, chosen by weight.
pub fn weighted<T: Copy>(rng: &mut ChaCha8Rng, weights: &[(T, u32)]) -> T {
    let total: u32 = weights.iter().map(|&(_, w)| w).sum();
    let mut pick = below(rng, total);
    for &(item, weight) in weights {
        if pick < weight {
            return item;
        }
        pick -= weight;
    }
    weights.last().expect("weights are not empty").0
}

/// Where a decision this client created stands, as far as the rules of spec §6 go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting: not (fully) executed.
    Waiting,
    /// Executed.
    Executed,
    /// Ended (`Avslutad`): only notes may follow.
    Ended,
}

/// A decision this client created, and what it knows of it.
#[derive(Debug, Clone)]
pub struct OwnDecision {
    /// Its id.
    pub id: Uuid,
    /// Its stream's version, as acknowledged.
    pub version: u64,
    stage: Stage,
    /// The last event's date: the next one is on it or later.
    last_on: NaiveDate,
    ordered: bool,
    /// An offer made and not yet declined.
    open_offer: Option<Uuid>,
    /// Notes after it ended; it is retired after one.
    notes_after_end: u32,
}

impl OwnDecision {
    /// Whether it still takes follow-ups worth sending.
    pub fn is_active(&self) -> bool {
        self.stage != Stage::Ended || self.notes_after_end == 0
    }
}

/// One append ready to send: the decision, the expected version and the body.
#[derive(Debug, Clone)]
pub struct Append {
    /// The decision's stream.
    pub decision: Uuid,
    /// `If-Match`.
    pub expected_version: u64,
    /// One event, as JSON.
    pub body: Vec<u8>,
    /// How the decision stands once it is acknowledged.
    pub after: OwnDecision,
}

/// The events of one case system's user: who records, and the law and insats they handle.
const INSATSER: [(&str, &str, &str); 6] = [
    ("LSS", "lss_9_10", "funktionsnedsattning"),
    ("LSS", "lss_9_9", "funktionsnedsattning"),
    ("LSS", "lss_9_4", "funktionsnedsattning"),
    ("SoL", "sol_sarskilt_boende", "aldreomsorg"),
    ("SoL", "sol_hemtjanst", "aldreomsorg"),
    ("SoL", "sol_kontaktperson", "ifo"),
];

/// Percent of new decisions about a person with a protected identity.
const PROTECTED_PERCENT: u32 = 2;

/// An IVO reserve number for someone born on `born`: `YYYYMMDD-TNNN`, or `YYYYMMDD-TFNN` when
/// protected (the digit before the last is the sex digit in both).
pub fn reserve_number(rng: &mut ChaCha8Rng, born: NaiveDate, protected: bool) -> String {
    let date = format!("{:04}{:02}{:02}", born.year(), born.month(), born.day());
    if protected {
        format!("{date}-TF{}{}", below(rng, 10), below(rng, 10))
    } else {
        format!(
            "{date}-T{}{}{}",
            below(rng, 10),
            below(rng, 10),
            below(rng, 10)
        )
    }
}

fn event(kind: &str, decision: Uuid, on: NaiveDate, actor: &str, data: Value) -> Vec<u8> {
    json!({
        "type": kind,
        "decision_id": decision,
        "event_id": Uuid::new_v4(),
        "occurred_on": on.to_string(),
        "actor": actor,
        "data": data,
    })
    .to_string()
    .into_bytes()
}

/// The decision ended (`Avslutad`), recorded by its case worker: `reason` is the code the event
/// carries, `text` the words for people.
fn ended(decision: Uuid, on: NaiveDate, reason: &str, text: &str) -> Vec<u8> {
    let data = json!({"reason": reason, "text": text});
    event("Avslutad", decision, on, "handlaggare.bench", data)
}

/// A new decision, dated up to [`DECIDED_DAYS_AGO_MAX`] days before `today`.
pub fn new_decision(rng: &mut ChaCha8Rng, today: NaiveDate) -> Append {
    let id = Uuid::new_v4();
    let decided_on = today - Days::new(u64::from(below(rng, DECIDED_DAYS_AGO_MAX + 1)));
    let (law, insats, area) = INSATSER[below(rng, INSATSER.len() as u32) as usize];
    let age_days = 365 * (19 + u64::from(below(rng, 70))) + u64::from(below(rng, 365));
    let born = decided_on - Days::new(age_days);
    let protected = below(rng, 100) < PROTECTED_PERCENT;
    let body = event(
        "DecisionGranted",
        id,
        decided_on,
        "handlaggare.bench",
        json!({
            "person": {"id": reserve_number(rng, born, protected), "protected": protected},
            "law": law,
            "insats": insats,
            "forhandsbesked": false,
            "area": area,
            "unit": "Myndighetsenheten",
        }),
    );
    Append {
        decision: id,
        expected_version: 0,
        body,
        after: OwnDecision {
            id,
            version: 1,
            stage: Stage::Waiting,
            last_on: decided_on,
            ordered: false,
            open_offer: None,
            notes_after_end: 0,
        },
    }
}

/// The next event of `decision`, one the rules of spec §6 accept where it stands, dated on or
/// after its last event and never after `today`.
pub fn follow_up(rng: &mut ChaCha8Rng, decision: &OwnDecision, today: NaiveDate) -> Append {
    let mut after = decision.clone();
    after.version += 1;
    let on = (decision.last_on + Days::new(u64::from(below(rng, 8)))).min(today);
    after.last_on = on;
    let id = decision.id;
    let note = |kind: &str, text: &str| json!({"kind": kind, "text": text});
    let body = match decision.stage {
        Stage::Ended => {
            after.notes_after_end += 1;
            event(
                "NoteRecorded",
                id,
                on,
                "handlaggare.bench",
                note("other", "Akten avslutad och arkiverad."),
            )
        }
        Stage::Executed => match below(rng, 10) {
            0..=5 => event(
                "NoteRecorded",
                id,
                on,
                "utforare.bench",
                note("summary", "Insatsen fungerar väl enligt uppföljningen."),
            ),
            6..=8 => {
                after.stage = Stage::Waiting;
                event(
                    "Interrupted",
                    id,
                    on,
                    "utforare.bench",
                    json!({"reason": "Utföraren kan tillfälligt inte bemanna insatsen."}),
                )
            }
            _ => {
                after.stage = Stage::Ended;
                ended(id, on, "need_ceased", "Behovet har upphört.")
            }
        },
        Stage::Waiting if !decision.ordered => {
            after.ordered = true;
            event(
                "OrderSent",
                id,
                on,
                "handlaggare.bench",
                json!({"provider": "Kommunens egen regi"}),
            )
        }
        Stage::Waiting => match below(rng, 20) {
            0..=4 => event(
                "NoteRecorded",
                id,
                on,
                "handlaggare.bench",
                note("contact", "Telefonsamtal med den enskilde om väntetiden."),
            ),
            5..=7 => {
                let offer = Uuid::new_v4();
                after.open_offer = Some(offer);
                let mut body: Value = serde_json::from_slice(&event(
                    "OfferMade",
                    id,
                    on,
                    "handlaggare.bench",
                    json!({"description": "Plats på annan enhet i avvaktan", "compensating": true}),
                ))
                .expect("just written");
                body["event_id"] = json!(offer);
                body.to_string().into_bytes()
            }
            8..=9 if decision.open_offer.is_some() => {
                after.open_offer = None;
                event(
                    "OfferDeclined",
                    id,
                    on,
                    "handlaggare.bench",
                    json!({"reason": "Den enskilde vill vänta på önskad enhet", "offer_event_id": decision.open_offer}),
                )
            }
            10..=12 => event(
                "DelayReasonRecorded",
                id,
                on,
                "handlaggare.bench",
                json!({"reason": "no_place_available", "text": "Ingen ledig plats."}),
            ),
            13 => event(
                "CostEstimated",
                id,
                on,
                "handlaggare.bench",
                json!({"sek_per_month": 20_000 + below(rng, 60_000)}),
            ),
            14..=17 => {
                after.stage = Stage::Executed;
                after.open_offer = None;
                event("Verkställd", id, on, "utforare.bench", json!({}))
            }
            _ => {
                after.stage = Stage::Ended;
                ended(
                    id,
                    on,
                    "withdrawn",
                    "Den enskilde har tackat nej till insatsen.",
                )
            }
        },
    };
    Append {
        decision: id,
        expected_version: decision.version,
        body,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    /// Every generated stream keeps the rules: parsed by the strict parser, checked by the
    /// domain's own `check_append` one event at a time.
    #[test]
    fn generated_streams_parse_and_keep_the_rules() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid");
        for _ in 0..200 {
            let first = new_decision(&mut rng, today);
            let mut stream = vec![parse(&first.body)];
            let mut own = first.after;
            for _ in 0..30 {
                if !own.is_active() {
                    break;
                }
                let next = follow_up(&mut rng, &own, today);
                assert_eq!(next.expected_version, own.version);
                let event = parse(&next.body);
                assert!(event.occurred_on <= today);
                stream.push(event);
                own = next.after;
                assert_eq!(own.version as usize, stream.len());
            }
            let view: Vec<domain::rules::StreamEvent> = stream
                .iter()
                .map(|e| {
                    domain::rules::StreamEvent::of(
                        e.event_id.expect("the tool names every event"),
                        e.occurred_on,
                        today,
                        &e.data,
                    )
                })
                .collect();
            for n in 1..=view.len() {
                let checked = domain::rules::check_append(
                    stream[0].decision_id,
                    &view[..n - 1],
                    &view[n - 1..n],
                    &|_| false,
                );
                assert!(checked.is_ok(), "event {n} refused: {checked:?}");
            }
        }
    }

    fn parse(body: &[u8]) -> domain::NewEvent {
        let text = std::str::from_utf8(body).expect("utf-8");
        domain::NewEvent::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }
}
