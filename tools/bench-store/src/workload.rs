//! The events the benchmark writes: decisions' streams as a case system sends them, built from
//! the schema examples (`domain::schema::example`) with their own ids, dates and a valid
//! personnummer per decision, and parsed with `NewEvent::from_json` before any clock starts.

use chrono::{Days, NaiveDate};
use domain::event::EventType;
use domain::{DecisionId, NewEvent};

/// A decision's stream as it grows one append at a time: granted, ordered, a note, an offer,
/// executed.
pub const APPEND_STREAM: [EventType; 5] = [
    EventType::DecisionGranted,
    EventType::OrderSent,
    EventType::NoteRecorded,
    EventType::OfferMade,
    EventType::Verkställd,
];

/// A decision's whole history, sent in one append (the batched variant) or imported.
pub const HISTORY: [EventType; 10] = [
    EventType::DecisionGranted,
    EventType::OrderSent,
    EventType::NoteRecorded,
    EventType::DelayReasonRecorded,
    EventType::OfferMade,
    EventType::OfferDeclined,
    EventType::NoteRecorded,
    EventType::CostEstimated,
    EventType::OfferMade,
    EventType::Verkställd,
];

/// Days after the decision date on which the n-th event of a stream occurred.
const OCCURRED_AFTER_DECISION_DAYS: [u64; HISTORY.len()] = [0, 1, 20, 35, 36, 50, 60, 61, 70, 80];

/// One decision and its events, in stream order.
pub struct Decision {
    /// Its stream.
    pub id: DecisionId,
    /// Its events, in the order they are appended.
    pub events: Vec<NewEvent>,
}

/// Builds decisions `first..first + count`, each with the event types of `stream`. `salt` keeps
/// the ids of different workloads apart.
pub fn decisions(
    salt: u32,
    first: u64,
    count: u64,
    stream: &[EventType],
) -> Result<Vec<Decision>, String> {
    (first..first + count)
        .map(|k| decision(salt, k, stream))
        .collect()
}

fn decision(salt: u32, k: u64, stream: &[EventType]) -> Result<Decision, String> {
    // Random-looking version 4 UUIDs, as case systems send: sequential ids would let the
    // store's id-keyed indexes append at their right edge and flatter it.
    let seed = (u64::from(salt) << 40) ^ (k << 8);
    let decision_id = uuid_v4_like(seed);
    let event_id = |n: usize| uuid_v4_like(seed | (n as u64 + 1));
    // Decisions spread over 2023 and 2024, so birth dates and decision dates vary.
    let decided_on = NaiveDate::from_ymd_opt(2023, 1, 2)
        .and_then(|d| d.checked_add_days(Days::new(k % 700)))
        .ok_or("a decision date within 2023–2024")?;
    let mut events = Vec::with_capacity(stream.len());
    for (n, &event_type) in stream.iter().enumerate() {
        let occurred_on = decided_on
            .checked_add_days(Days::new(OCCURRED_AFTER_DECISION_DAYS[n]))
            .ok_or("an occurrence date")?;
        let mut value = domain::schema::example(event_type);
        value["decision_id"] = decision_id.clone().into();
        value["event_id"] = event_id(n).into();
        value["occurred_on"] = occurred_on.to_string().into();
        match event_type {
            EventType::DecisionGranted => value["data"]["person"]["id"] = personnummer(k).into(),
            EventType::NoteRecorded => {
                value["data"]["text"] =
                    format!("Samtal med vårdnadshavaren om situationen, ärende {k}.").into();
            }
            EventType::OfferDeclined => {
                let offer = stream
                    .iter()
                    .position(|&t| t == EventType::OfferMade)
                    .ok_or("an offer before a decline")?;
                value["data"]["offer_event_id"] = event_id(offer).into();
            }
            _ => {}
        }
        let event = NewEvent::from_json(&value.to_string()).map_err(|e| {
            format!("the generated {event_type} of decision {k} does not parse: {e}")
        })?;
        events.push(event);
    }
    let id = events
        .first()
        .map(|e| e.decision_id)
        .ok_or("a stream has events")?;
    Ok(Decision { id, events })
}

/// A version 4 UUID whose bits come from `seed` through SplitMix64: deterministic, spread
/// like random ones.
fn uuid_v4_like(seed: u64) -> String {
    let high = split_mix_64(seed);
    let low = split_mix_64(high ^ seed.rotate_left(32));
    let bits = (u128::from(high) << 64 | u128::from(low)) & !(0xf << 76) & !(0x3 << 62)
        | (0x4 << 76)
        | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// SplitMix64's output function.
fn split_mix_64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A valid personnummer `YYYYMMDD-NNNC` born 1930–2009, different for each `k` below a million.
fn personnummer(k: u64) -> String {
    let year = 1930 + k % 80;
    let month = 1 + (k / 80) % 12;
    let day = 1 + (k / 960) % 28;
    let serial = (k / 26_880) % 1000;
    let check = luhn_check_digit(&format!("{:02}{month:02}{day:02}{serial:03}", year % 100));
    format!("{year}{month:02}{day:02}-{serial:03}{check}")
}

/// The Luhn check digit of a personnummer's nine significant digits (`YYMMDDNNN`).
fn luhn_check_digit(significant: &str) -> u32 {
    let sum: u32 = significant
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            digit / 10 + digit % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_stream_parses() {
        for stream in [&APPEND_STREAM[..], &HISTORY[..]] {
            let built = decisions(7, 0, 2000, stream).expect("valid events");
            assert_eq!(built.len(), 2000);
            assert!(built.iter().all(|d| d.events.len() == stream.len()));
        }
    }

    #[test]
    fn ids_are_version_4_uuids_and_distinct() {
        let built = decisions(3, 0, 1000, &HISTORY).expect("valid events");
        let mut ids = std::collections::HashSet::new();
        for d in &built {
            assert_eq!(d.id.as_uuid().get_version_num(), 4);
            assert!(ids.insert(d.id.to_string()));
            for e in &d.events {
                assert!(ids.insert(e.event_id.expect("ids are given").to_string()));
            }
        }
    }

    #[test]
    fn the_check_digit_is_luhn() {
        // 19121212-1212 is Skatteverket's test number.
        assert_eq!(luhn_check_digit("121212121"), 2);
        assert_eq!(
            personnummer(0),
            format!("19300101-000{}", luhn_check_digit("300101000"))
        );
    }
}
