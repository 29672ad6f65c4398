//! The snapshot file: the folded projection beside the log, written atomically, read fast.
//!
//! The layout is verkstall's own, fixed-width where it can be, so that reading a million
//! decisions is a few passes over one buffer rather than a generic decoder's walk:
//!
//! ```text
//! magic "VKSTPRJ2"                       the format and its version
//! u64 header length, u64 header checksum
//! u32 shard count, then per shard: u64 length, u64 checksum
//! header: head, head hash, latest occurred_on, the recorded_at changes, the open-case index,
//!         the stale decisions, the number of decisions
//! shards: the decisions, each with its facts, split so that each core decodes one
//! ```
//!
//! Integers are little-endian; a date is its day number from the Common Era; an enum is its
//! index in the vocabulary's `ALL`. Every part carries a checksum, so a damaged file is noticed
//! and rebuilt from the log rather than believed: the snapshot is never the truth.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::codes::{Area, DelayReason, EndReason, Insats, Law, NoteKind, ReportKind};
use domain::{DecisionId, EventId, Quarter, Sex};
use projections::episodes::{Episode, EpisodeKind, Outcome};
use projections::{
    DecisionFacts, Fact, FactKind, Grant, OpenEpisode, OpenEpisodes, Projection, ProjectionParts,
};

use crate::{LiveError, SNAPSHOT_FILE_NAME};

/// The snapshot's first bytes: the format and its version. Any other start is not read.
const SNAPSHOT_MAGIC: &[u8; 8] = b"VKSTPRJ2";
/// How many parts the decisions are split into, each decoded on a thread of its own.
const SNAPSHOT_SHARDS: usize = 2;
/// The most shards a snapshot may name (a larger count is damage).
const SNAPSHOT_SHARDS_MAX: usize = 64;

/// Where the snapshot of a data directory lives.
pub fn snapshot_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SNAPSHOT_FILE_NAME)
}

/// Reads a saved snapshot; `None` if there is none or it cannot be read (it is then rebuilt).
pub fn read_snapshot(path: &Path) -> Option<Projection> {
    let bytes = fs::read(path).ok()?;
    let projection = decode(&bytes);
    if projection.is_none() {
        tracing::warn!(path = %path.display(), "the projection snapshot is unreadable, damaged or of another version; rebuilding");
    }
    projection
}

/// Saves a snapshot atomically: a temporary file, synced, renamed over the old one, the
/// directory synced.
pub fn save_snapshot(projection: &Projection, path: &Path) -> Result<(), LiveError> {
    let error = |source| LiveError::Save {
        path: path.to_path_buf(),
        source,
    };
    let bytes = encode(projection);
    let temporary = path.with_extension("snapshot.tmp");
    let mut file = fs::File::create(&temporary).map_err(error)?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(error)?;
    drop(file);
    fs::rename(&temporary, path).map_err(error)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(error)?;
    }
    Ok(())
}

/// The whole file.
fn encode(projection: &Projection) -> Vec<u8> {
    let mut header = Writer::default();
    header.u64(projection.head());
    header.bytes(projection.head_hash().as_bytes());
    header.option_date(projection.latest_occurred());
    let recorded = projection.recorded_changes();
    header.len(recorded.len());
    for &(position, at) in recorded {
        header.u64(position);
        header.i64(at.timestamp());
        header.u32(at.timestamp_subsec_nanos());
    }
    let mut open: Vec<_> = projection.indexed_open().collect();
    open.sort_unstable_by_key(|(id, _)| **id);
    header.len(open.len());
    for (id, open) in open {
        header.id(id.as_bytes());
        encode_open(&mut header, open);
    }
    let mut stale: Vec<_> = projection.stale().collect();
    stale.sort_unstable();
    header.len(stale.len());
    for id in stale {
        header.id(id.as_bytes());
    }
    // Decisions in id order, so two saves of one projection are the same bytes.
    let mut decisions: Vec<&DecisionFacts> = projection.decisions().collect();
    decisions.sort_unstable_by_key(|d| d.decision_id);
    header.len(decisions.len());

    let per_shard = decisions.len().div_ceil(SNAPSHOT_SHARDS).max(1);
    let shards: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = decisions
            .chunks(per_shard)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut shard = Writer::default();
                    shard.len(chunk.len());
                    for decision in chunk {
                        encode_decision(&mut shard, decision);
                    }
                    shard.0
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("encoding a shard does not panic"))
            .collect()
    });

    let mut out = Writer::default();
    out.0.extend_from_slice(SNAPSHOT_MAGIC);
    out.len(header.0.len());
    out.u64(checksum(&header.0));
    out.u32(u32::try_from(shards.len()).expect("a handful of shards"));
    for shard in &shards {
        out.len(shard.len());
        out.u64(checksum(shard));
    }
    let total = out.0.len() + header.0.len() + shards.iter().map(Vec::len).sum::<usize>();
    out.0.reserve_exact(total - out.0.len());
    out.0.extend_from_slice(&header.0);
    for shard in &shards {
        out.0.extend_from_slice(shard);
    }
    out.0
}

/// The projection in `bytes`, or `None` when they are not a whole, undamaged snapshot of this
/// version.
fn decode(bytes: &[u8]) -> Option<Projection> {
    let mut file = Reader::new(bytes.strip_prefix(SNAPSHOT_MAGIC.as_slice())?);
    let header_len = file.len()?;
    let header_sum = file.u64()?;
    let shard_count = usize::try_from(file.u32()?).ok()?;
    if shard_count > SNAPSHOT_SHARDS_MAX {
        return None;
    }
    let mut shard_specs = Vec::with_capacity(shard_count);
    for _ in 0..shard_count {
        shard_specs.push((file.len()?, file.u64()?));
    }
    let header_bytes = file.take(header_len)?;
    let mut shards = Vec::with_capacity(shard_count);
    for &(len, sum) in &shard_specs {
        shards.push((file.take(len)?, sum));
    }
    if !file.is_empty() || checksum(header_bytes) != header_sum {
        return None;
    }

    let mut header = Reader::new(header_bytes);
    let head = header.u64()?;
    let head_hash = String::from_utf8(header.bytes()?.to_vec()).ok()?;
    let latest_occurred = header.option_date()?;
    let recorded_len = header.len()?;
    let mut recorded = Vec::with_capacity(recorded_len.min(header.remaining()));
    for _ in 0..recorded_len {
        let position = header.u64()?;
        let at = DateTime::<Utc>::from_timestamp(header.i64()?, header.u32()?)?;
        recorded.push((position, at));
    }
    let open_len = header.len()?;
    let mut open = Vec::with_capacity(open_len.min(header.remaining()));
    for _ in 0..open_len {
        let id = DecisionId::from_uuid(uuid::Uuid::from_bytes(header.id()?));
        open.push((id, decode_open(&mut header)?));
    }
    let stale_len = header.len()?;
    let mut stale = Vec::with_capacity(stale_len.min(header.remaining()));
    for _ in 0..stale_len {
        stale.push(DecisionId::from_uuid(uuid::Uuid::from_bytes(header.id()?)));
    }
    let decision_count = header.len()?;
    if !header.is_empty() {
        return None;
    }

    // Each shard on a thread of its own: checked, then decoded.
    let decoded: Vec<Option<Vec<DecisionFacts>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .iter()
            .map(|&(bytes, sum)| scope.spawn(move || decode_shard(bytes, sum, head)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let decoded: Vec<Vec<DecisionFacts>> = decoded.into_iter().collect::<Option<_>>()?;
    if decoded.iter().map(Vec::len).sum::<usize>() != decision_count {
        return None;
    }
    let parts = ProjectionParts {
        head,
        head_hash,
        latest_occurred,
        recorded,
        open,
        stale,
    };
    Projection::from_parts(parts, decoded)
}

/// One shard's decisions, if its checksum holds and every position is at most `head`.
fn decode_shard(bytes: &[u8], sum: u64, head: u64) -> Option<Vec<DecisionFacts>> {
    if checksum(bytes) != sum {
        return None;
    }
    let mut shard = Reader::new(bytes);
    let count = shard.len()?;
    let mut decisions = Vec::with_capacity(count.min(shard.remaining()));
    for _ in 0..count {
        let decision = decode_decision(&mut shard)?;
        if decision.facts.last().is_some_and(|f| f.position > head) {
            return None;
        }
        decisions.push(decision);
    }
    shard.is_empty().then_some(decisions)
}

fn encode_decision(w: &mut Writer, decision: &DecisionFacts) {
    let grant = &decision.grant;
    w.id(decision.decision_id.as_bytes());
    w.u64(grant.position);
    w.date(grant.decided_on);
    w.u8(match grant.law {
        Law::SoL => 0,
        Law::Lss => 1,
    });
    w.u8(index_of(Insats::ALL, grant.insats));
    w.u8(u8::from(grant.forhandsbesked)
        | u8::from(grant.sex == Sex::Male) << 1
        | u8::from(grant.protected) << 2
        | u8::from(grant.replaces.is_some()) << 3);
    w.date(grant.birth_date);
    if let Some(replaces) = grant.replaces {
        w.id(replaces.as_bytes());
    }
    w.u8(grant.area.map_or(0, |a| index_of(Area::ALL, a) + 1));
    w.len(decision.facts.len());
    for fact in &decision.facts {
        w.u64(fact.position);
        w.id(fact.event_id.as_bytes());
        w.date(fact.occurred_on);
        encode_kind(w, &fact.kind);
    }
}

fn decode_decision(r: &mut Reader<'_>) -> Option<DecisionFacts> {
    let decision_id = DecisionId::from_uuid(uuid::Uuid::from_bytes(r.id()?));
    let position = r.u64()?;
    let decided_on = r.date()?;
    let law = match r.u8()? {
        0 => Law::SoL,
        1 => Law::Lss,
        _ => return None,
    };
    let insats = *Insats::ALL.get(usize::from(r.u8()?))?;
    let flags = r.u8()?;
    let birth_date = r.date()?;
    let replaces = if flags & 8 != 0 {
        Some(DecisionId::from_uuid(uuid::Uuid::from_bytes(r.id()?)))
    } else {
        None
    };
    let area = match r.u8()? {
        0 => None,
        n => Some(*Area::ALL.get(usize::from(n - 1))?),
    };
    let grant = Grant {
        position,
        decided_on,
        law,
        insats,
        forhandsbesked: flags & 1 != 0,
        sex: if flags & 2 != 0 {
            Sex::Male
        } else {
            Sex::Female
        },
        birth_date,
        protected: flags & 4 != 0,
        replaces,
        area,
    };
    let count = r.len()?;
    let mut facts = Vec::with_capacity(count.min(r.remaining()));
    let mut previous = 0;
    for _ in 0..count {
        let position = r.u64()?;
        // Facts are kept in position order; anything else is damage.
        if position <= previous {
            return None;
        }
        previous = position;
        facts.push(Fact {
            position,
            event_id: EventId::from_uuid(uuid::Uuid::from_bytes(r.id()?)),
            occurred_on: r.date()?,
            kind: decode_kind(r)?,
        });
    }
    if facts.first().map(|f| f.position) != Some(position) {
        return None;
    }
    Some(DecisionFacts {
        decision_id,
        grant,
        facts,
    })
}

fn encode_kind(w: &mut Writer, kind: &FactKind) {
    match *kind {
        FactKind::Granted => w.u8(0),
        FactKind::OrderSent => w.u8(1),
        FactKind::OfferMade { compensating } => {
            w.u8(2);
            w.u8(u8::from(compensating));
        }
        FactKind::OfferDeclined => w.u8(3),
        FactKind::Note(note) => {
            w.u8(4);
            w.u8(index_of(NoteKind::ALL, note));
        }
        FactKind::DelayReason(reason) => {
            w.u8(5);
            w.u8(index_of(DelayReason::ALL, reason));
        }
        FactKind::Interrupted => w.u8(6),
        FactKind::Verkställd { partial } => {
            w.u8(7);
            w.u8(u8::from(partial));
        }
        FactKind::Avslutad(reason) => {
            w.u8(8);
            w.u8(index_of(EndReason::ALL, reason));
        }
        FactKind::Reported {
            kind,
            quarter,
            reference_date,
        } => {
            w.u8(9);
            w.u8(index_of(ReportKind::ALL, kind));
            w.quarter(quarter);
            w.date(reference_date);
        }
        FactKind::Cost { sek_per_month } => {
            w.u8(10);
            w.u64(sek_per_month.to_bits());
        }
        FactKind::Retracted { target } => {
            w.u8(11);
            w.id(target.as_bytes());
        }
    }
}

fn decode_kind(r: &mut Reader<'_>) -> Option<FactKind> {
    Some(match r.u8()? {
        0 => FactKind::Granted,
        1 => FactKind::OrderSent,
        2 => FactKind::OfferMade {
            compensating: r.bool()?,
        },
        3 => FactKind::OfferDeclined,
        4 => FactKind::Note(*NoteKind::ALL.get(usize::from(r.u8()?))?),
        5 => FactKind::DelayReason(*DelayReason::ALL.get(usize::from(r.u8()?))?),
        6 => FactKind::Interrupted,
        7 => FactKind::Verkställd { partial: r.bool()? },
        8 => FactKind::Avslutad(*EndReason::ALL.get(usize::from(r.u8()?))?),
        9 => FactKind::Reported {
            kind: *ReportKind::ALL.get(usize::from(r.u8()?))?,
            quarter: r.quarter()?,
            reference_date: r.date()?,
        },
        10 => FactKind::Cost {
            sek_per_month: f64::from_bits(r.u64()?),
        },
        11 => FactKind::Retracted {
            target: EventId::from_uuid(uuid::Uuid::from_bytes(r.id()?)),
        },
        _ => return None,
    })
}

fn encode_open(w: &mut Writer, open: &OpenEpisodes) {
    w.u8(match open.law {
        Law::SoL => 0,
        Law::Lss => 1,
    });
    w.u8(index_of(Insats::ALL, open.insats));
    w.len(open.episodes.len());
    for indexed in &open.episodes {
        let e = &indexed.episode;
        w.u32(e.number);
        w.u8(match e.kind {
            EpisodeKind::Decision => 0,
            EpisodeKind::Interruption => 1,
        });
        w.date(e.start);
        w.date(e.reference_date);
        w.option_date(e.partial_on);
        w.option_date(e.closed.map(|(on, _)| on));
        w.u8(match e.closed {
            Some((_, Outcome::Executed)) => 1,
            Some((_, Outcome::Ended)) => 2,
            None => 0,
        });
        w.len(indexed.reports.len());
        for &(kind, quarter) in &indexed.reports {
            w.u8(index_of(ReportKind::ALL, kind));
            w.quarter(quarter);
        }
    }
}

fn decode_open(r: &mut Reader<'_>) -> Option<OpenEpisodes> {
    let law = match r.u8()? {
        0 => Law::SoL,
        1 => Law::Lss,
        _ => return None,
    };
    let insats = *Insats::ALL.get(usize::from(r.u8()?))?;
    let count = r.len()?;
    let mut episodes = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        let number = r.u32()?;
        let kind = match r.u8()? {
            0 => EpisodeKind::Decision,
            1 => EpisodeKind::Interruption,
            _ => return None,
        };
        let start = r.date()?;
        let reference_date = r.date()?;
        let partial_on = r.option_date()?;
        let closed_on = r.option_date()?;
        let closed = match (closed_on, r.u8()?) {
            (None, 0) => None,
            (Some(on), 1) => Some((on, Outcome::Executed)),
            (Some(on), 2) => Some((on, Outcome::Ended)),
            _ => return None,
        };
        let reports_len = r.len()?;
        let mut reports = Vec::with_capacity(reports_len.min(r.remaining()));
        for _ in 0..reports_len {
            reports.push((*ReportKind::ALL.get(usize::from(r.u8()?))?, r.quarter()?));
        }
        episodes.push(OpenEpisode {
            episode: Episode {
                number,
                kind,
                start,
                reference_date,
                partial_on,
                closed,
            },
            reports,
        });
    }
    Some(OpenEpisodes {
        law,
        insats,
        episodes,
    })
}

/// The index of `value` in a vocabulary's `ALL` (each has far fewer than 256 values).
fn index_of<T: PartialEq + Copy>(all: &[T], value: T) -> u8 {
    let index = all
        .iter()
        .position(|&v| v == value)
        .expect("every value is in its vocabulary's ALL");
    u8::try_from(index).expect("a vocabulary has fewer than 256 values")
}

/// A checksum that notices damage (not tampering: the log's hash chain is the proof of that):
/// 64-bit words folded by multiply and rotate, the length and a short tail included.
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lanes = [K, K.rotate_left(17), K.rotate_left(31), K.rotate_left(47)];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let word = u64::from_le_bytes(word.try_into().expect("an 8-byte chunk"));
            *lane = (*lane ^ word).wrapping_mul(K).rotate_left(29);
        }
    }
    let mut hash = bytes.len() as u64;
    for lane in lanes {
        hash = (hash ^ lane).wrapping_mul(K).rotate_left(31);
    }
    for &byte in blocks.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(K).rotate_left(31);
    }
    hash ^ (hash >> 32)
}

/// Appends the snapshot's primitives to a buffer.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, v: usize) {
        self.u64(v as u64);
    }
    fn id(&mut self, v: &[u8; 16]) {
        self.0.extend_from_slice(v);
    }
    fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.0.extend_from_slice(v);
    }
    fn date(&mut self, v: NaiveDate) {
        self.0
            .extend_from_slice(&v.num_days_from_ce().to_le_bytes());
    }
    fn option_date(&mut self, v: Option<NaiveDate>) {
        match v {
            Some(date) => {
                self.u8(1);
                self.date(date);
            }
            None => self.u8(0),
        }
    }
    fn quarter(&mut self, v: Quarter) {
        self.0.extend_from_slice(&v.year().to_le_bytes());
        self.u8(v.number());
    }
}

/// Reads the snapshot's primitives; `None` at the end of the bytes or on a value that cannot be.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader(bytes)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(taken)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (taken, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*taken)
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn remaining(&self) -> usize {
        self.0.len()
    }
    fn u8(&mut self) -> Option<u8> {
        let (&v, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(v)
    }
    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
    fn id(&mut self) -> Option<[u8; 16]> {
        self.array()
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }
    fn date(&mut self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(self.array().map(i32::from_le_bytes)?)
    }
    fn option_date(&mut self) -> Option<Option<NaiveDate>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.date().map(Some),
            _ => None,
        }
    }
    fn quarter(&mut self) -> Option<Quarter> {
        let year = self.array().map(i32::from_le_bytes)?;
        Quarter::new(year, self.u8()?).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Duration;
    use domain::{EventData, EventType, NewEvent, RecordedEvent};

    use super::*;

    /// Three decisions, each with an example of every event type (so every kind of fact), the
    /// first one never executed, recorded over a few moments; the index refreshed or not.
    fn projection(refreshed: bool) -> Projection {
        let mut projection = Projection::new();
        let mut at: DateTime<Utc> = "2024-01-01T08:00:00Z".parse().unwrap();
        let mut position = 0;
        for n in 0..3u32 {
            let decision: DecisionId = format!("00000000-0000-4000-8000-{n:012}").parse().unwrap();
            let mut types: Vec<EventType> = EventType::ALL.to_vec();
            if n == 0 {
                types.retain(|t| !matches!(t, EventType::Verkställd | EventType::Avslutad));
            }
            for (version, event_type) in types.into_iter().enumerate() {
                let example =
                    NewEvent::from_json(&domain::schema::example(event_type).to_string()).unwrap();
                position += 1;
                at += Duration::minutes(position as i64 % 3);
                let is_grant = matches!(example.data, EventData::DecisionGranted(_));
                projection
                    .apply(&RecordedEvent {
                        position,
                        version: version as u64 + 1,
                        recorded_at: at,
                        event_id: EventId::from_uuid(uuid::Uuid::from_u128(
                            u128::from(position) | 1 << 80,
                        )),
                        decision_id: decision,
                        occurred_on: "2024-01-10".parse::<NaiveDate>().unwrap()
                            + Duration::days(if is_grant { 0 } else { position as i64 }),
                        actor: None,
                        data: example.data,
                        hash: format!("{position:064x}"),
                    })
                    .unwrap();
            }
        }
        if refreshed {
            projection.refresh_index();
        }
        projection
    }

    #[test]
    fn a_saved_projection_reads_back_equal() {
        for refreshed in [true, false] {
            let original = projection(refreshed);
            let bytes = encode(&original);
            assert_eq!(decode(&bytes), Some(original.clone()));
            assert_eq!(encode(&original), bytes, "two saves are the same bytes");
        }
        let refreshed = projection(true);
        assert!(
            refreshed.indexed_open().count() > 0,
            "the index has something to save"
        );
        assert_eq!(decode(&encode(&Projection::new())), Some(Projection::new()));
    }

    #[test]
    fn every_damaged_byte_and_every_truncation_is_noticed() {
        let bytes = encode(&projection(true));
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert_eq!(decode(&damaged), None, "byte {at} flipped");
            assert_eq!(decode(&bytes[..at]), None, "cut at {at}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None, "a byte too many");
    }

    #[test]
    fn another_version_is_not_read() {
        let mut old = b"VKSTPRJ1".to_vec();
        old.extend_from_slice(&encode(&projection(true))[8..]);
        assert_eq!(decode(&old), None);
    }

    #[test]
    fn saving_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = snapshot_path(dir.path());
        assert_eq!(read_snapshot(&path), None, "no snapshot yet");
        save_snapshot(&Projection::new(), &path).unwrap();
        let original = projection(true);
        save_snapshot(&original, &path).unwrap();
        assert_eq!(read_snapshot(&path), Some(original));
        assert!(!path.with_extension("snapshot.tmp").exists());
    }
}
