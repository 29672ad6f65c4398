//! The snapshot file: the folded projection beside the log, written atomically, read fast.
//!
//! The layout is verkstall's own, compact and mostly fixed-width, so that reading a million
//! decisions is a few streaming passes on both cores rather than a generic decoder's walk:
//!
//! ```text
//! magic "VKSTPRJ3"                        the format and its version
//! u64 header length, u64 header checksum
//! header: head, head hash, latest occurred_on, the open-case index, the stale decisions,
//!         the recorded_at changes' count, length and checksum, and each shard's length and
//!         number of decisions
//! the recorded_at changes                 (position, nanoseconds) as deltas
//! shards: blocks of decisions (u32 length, u64 checksum, the decisions with their facts);
//!         each shard is read and decoded by a thread of its own, a block at a time
//! ```
//!
//! Integers are little-endian, counts and deltas LEB128; a date is its day number from the
//! Common Era; an enum is its index in the vocabulary's `ALL`. Every part carries a checksum
//! and the file's length must come out exact, so a damaged file is noticed and rebuilt from the
//! log rather than believed: the snapshot is never the truth.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::codes::{Area, DelayReason, EndReason, Insats, Law, NoteKind, ReportKind};
use domain::{DecisionId, EventId, Quarter, Sex};
use projections::episodes::{Episode, EpisodeKind, Outcome};
use projections::{
    DecisionFacts, Fact, FactKind, Grant, OpenEpisode, OpenEpisodes, Projection, ProjectionParts,
};

use crate::{LiveError, SNAPSHOT_FILE_NAME};

/// The snapshot's first bytes: the format and its version. Any other start is not read.
const SNAPSHOT_MAGIC: &[u8; 8] = b"VKSTPRJ3";
/// How many parts the decisions are split into, each read and decoded on a thread of its own.
const SNAPSHOT_SHARDS: usize = 2;
/// The most shards a snapshot may name (a larger count is damage).
const SNAPSHOT_SHARDS_MAX: usize = 64;
/// A block of decisions is closed once it holds this many bytes.
const SNAPSHOT_BLOCK_BYTES: usize = 1 << 20;
/// The largest block a snapshot may hold (a larger length is damage).
const SNAPSHOT_BLOCK_BYTES_MAX: usize = 64 << 20;
/// The largest header a snapshot may hold (a larger length is damage).
const SNAPSHOT_HEADER_BYTES_MAX: u64 = 1 << 30;
/// The prefix before the header: magic, header length, header checksum.
const SNAPSHOT_PREFIX_BYTES: u64 = 24;

/// Where the snapshot of a data directory lives.
pub fn snapshot_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SNAPSHOT_FILE_NAME)
}

/// Reads a saved snapshot; `None` if there is none or it cannot be read (it is then rebuilt).
pub fn read_snapshot(path: &Path) -> Option<Projection> {
    if !path.exists() {
        return None;
    }
    let projection = decode(|| fs::File::open(path).ok());
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
    let parts = encode_parts(projection);
    let temporary = path.with_extension("snapshot.tmp");
    let mut file = fs::File::create(&temporary).map_err(error)?;
    parts
        .iter()
        .try_for_each(|part| file.write_all(part))
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
#[cfg(test)]
fn encode(projection: &Projection) -> Vec<u8> {
    encode_parts(projection).concat()
}

/// The whole file, in parts to write one after the other (the shards as they were encoded,
/// not copied into one buffer).
fn encode_parts(projection: &Projection) -> Vec<Vec<u8>> {
    // Decisions in id order, so two saves of one projection are the same bytes.
    let mut decisions: Vec<&DecisionFacts> = projection.decisions().collect();
    decisions.sort_unstable_by_key(|d| d.decision_id);
    let per_shard = decisions.len().div_ceil(SNAPSHOT_SHARDS).max(1);
    let (recorded, shards): (Vec<u8>, Vec<(Vec<u8>, usize)>) = std::thread::scope(|scope| {
        let handles: Vec<_> = decisions
            .chunks(per_shard)
            .map(|chunk| scope.spawn(move || (encode_shard(chunk), chunk.len())))
            .collect();
        let mut recorded = Writer::default();
        let mut previous = (0u64, 0i128);
        for &(position, at) in projection.recorded_changes() {
            let nanos = nanos_of(at);
            recorded.varint(position - previous.0);
            recorded.signed(nanos - previous.1);
            previous = (position, nanos);
        }
        let shards = handles
            .into_iter()
            .map(|h| h.join().expect("encoding a shard does not panic"))
            .collect();
        (recorded.0, shards)
    });

    let mut header = Writer::default();
    header.u64(projection.head());
    header.bytes(projection.head_hash().as_bytes());
    header.option_date(projection.latest_occurred());
    let mut open: Vec<_> = projection.indexed_open().collect();
    open.sort_unstable_by_key(|(id, _)| **id);
    header.varint(open.len() as u64);
    for (id, open) in open {
        header.id(id.as_bytes());
        encode_open(&mut header, open);
    }
    let mut stale: Vec<_> = projection.stale().collect();
    stale.sort_unstable();
    header.varint(stale.len() as u64);
    for id in stale {
        header.id(id.as_bytes());
    }
    header.varint(projection.recorded_changes().len() as u64);
    header.u64(recorded.len() as u64);
    header.u64(checksum(&recorded));
    header.varint(shards.len() as u64);
    for (shard, count) in &shards {
        header.u64(shard.len() as u64);
        header.varint(*count as u64);
    }

    let mut prefix = Vec::with_capacity(SNAPSHOT_PREFIX_BYTES as usize + header.0.len());
    prefix.extend_from_slice(SNAPSHOT_MAGIC);
    prefix.extend_from_slice(&(header.0.len() as u64).to_le_bytes());
    prefix.extend_from_slice(&checksum(&header.0).to_le_bytes());
    prefix.extend_from_slice(&header.0);
    let mut parts = vec![prefix, recorded];
    parts.extend(shards.into_iter().map(|(shard, _)| shard));
    parts
}

/// One shard: its decisions in blocks of about [`SNAPSHOT_BLOCK_BYTES`].
fn encode_shard(decisions: &[&DecisionFacts]) -> Vec<u8> {
    let mut shard = Vec::new();
    let mut block = Writer::default();
    let mut in_block = 0u64;
    let close = |shard: &mut Vec<u8>, block: &mut Writer, in_block: &mut u64| {
        let mut counted = Writer::default();
        counted.varint(*in_block);
        counted.0.extend_from_slice(&block.0);
        let len = u32::try_from(counted.0.len()).expect("a block is far below 4 GiB");
        shard.extend_from_slice(&len.to_le_bytes());
        shard.extend_from_slice(&checksum(&counted.0).to_le_bytes());
        shard.extend_from_slice(&counted.0);
        block.0.clear();
        *in_block = 0;
    };
    for decision in decisions {
        encode_decision(&mut block, decision);
        in_block += 1;
        if block.0.len() >= SNAPSHOT_BLOCK_BYTES {
            close(&mut shard, &mut block, &mut in_block);
        }
    }
    if in_block > 0 {
        close(&mut shard, &mut block, &mut in_block);
    }
    shard
}

/// Nanoseconds in a second.
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// An instant as nanoseconds since the epoch.
fn nanos_of(at: DateTime<Utc>) -> i128 {
    i128::from(at.timestamp()) * i128::from(NANOS_PER_SECOND)
        + i128::from(at.timestamp_subsec_nanos())
}

/// The first day of the table of dates, 1900-01-01, as a day number from the Common Era.
const DATE_TABLE_FIRST_DAY: i32 = 693_596;
/// Days in the table of dates: 1900-01-01 to 2200-12-31, the calendar's years.
const DATE_TABLE_DAYS: usize = 109_938;

/// The date of a day number from the Common Era: from a table for the calendar's years (a
/// snapshot holds millions of dates; a table lookup is cheaper than chrono's conversion).
fn date_of(days: i32) -> Option<NaiveDate> {
    static TABLE: OnceLock<Vec<NaiveDate>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..DATE_TABLE_DAYS as i32)
            .map(|n| {
                NaiveDate::from_num_days_from_ce_opt(DATE_TABLE_FIRST_DAY + n)
                    .expect("the calendar's years are dates")
            })
            .collect()
    });
    days.checked_sub(DATE_TABLE_FIRST_DAY)
        .and_then(|at| usize::try_from(at).ok())
        .and_then(|at| table.get(at).copied())
        .or_else(|| NaiveDate::from_num_days_from_ce_opt(days))
}

/// The projection in the snapshot `open()` opens (each call a reader at the start), or `None`
/// when it is not a whole, undamaged snapshot of this version.
fn decode<R: Read + Seek>(open: impl Fn() -> Option<R> + Sync) -> Option<Projection> {
    let mut file = open()?;
    let file_len = file.seek(SeekFrom::End(0)).ok()?;
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut prefix = [0u8; SNAPSHOT_PREFIX_BYTES as usize];
    file.read_exact(&mut prefix).ok()?;
    let mut prefix = Reader::new(&prefix);
    if prefix.array::<8>()? != *SNAPSHOT_MAGIC {
        return None;
    }
    let header_len = prefix.u64()?;
    let header_sum = prefix.u64()?;
    if header_len > SNAPSHOT_HEADER_BYTES_MAX || header_len > file_len {
        return None;
    }
    let mut header_bytes = vec![0u8; usize::try_from(header_len).ok()?];
    file.read_exact(&mut header_bytes).ok()?;
    if checksum(&header_bytes) != header_sum {
        return None;
    }

    let mut header = Reader::new(&header_bytes);
    let head = header.u64()?;
    let head_hash = String::from_utf8(header.bytes()?.to_vec()).ok()?;
    let latest_occurred = header.option_date()?;
    let open_len = header.count()?;
    let mut open_index = Vec::with_capacity(open_len);
    for _ in 0..open_len {
        let id = DecisionId::from_uuid(uuid::Uuid::from_bytes(header.id()?));
        open_index.push((id, decode_open(&mut header)?));
    }
    let stale_len = header.count()?;
    let mut stale = Vec::with_capacity(stale_len);
    for _ in 0..stale_len {
        stale.push(DecisionId::from_uuid(uuid::Uuid::from_bytes(header.id()?)));
    }
    let recorded_count = usize::try_from(header.varint()?).ok()?;
    let recorded_len = header.u64()?;
    let recorded_sum = header.u64()?;
    let shard_count = header.count()?;
    if shard_count > SNAPSHOT_SHARDS_MAX {
        return None;
    }
    let mut shards = Vec::with_capacity(shard_count);
    let mut offset = SNAPSHOT_PREFIX_BYTES
        .checked_add(header_len)?
        .checked_add(recorded_len)?;
    for _ in 0..shard_count {
        let len = header.u64()?;
        shards.push((offset, len, usize::try_from(header.varint()?).ok()?));
        offset = offset.checked_add(len)?;
    }
    if !header.is_empty() || offset != file_len {
        return None;
    }

    // Each shard read and decoded by a thread of its own; the recorded_at changes meanwhile.
    let open = &open;
    let (recorded, decoded) = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .iter()
            .map(|&(offset, len, count)| {
                scope.spawn(move || decode_shard(open()?, offset, len, count, head))
            })
            .collect();
        let recorded = decode_recorded(&mut file, recorded_len, recorded_sum, recorded_count);
        let decoded: Option<Vec<Vec<DecisionFacts>>> = handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect();
        (recorded, decoded)
    });
    let parts = ProjectionParts {
        head,
        head_hash,
        latest_occurred,
        recorded: recorded?,
        open: open_index,
        stale,
    };
    Projection::from_parts(parts, decoded?)
}

/// The recorded_at changes, read from where `file` stands.
fn decode_recorded<R: Read>(
    file: &mut R,
    len: u64,
    sum: u64,
    count: usize,
) -> Option<Vec<(u64, DateTime<Utc>)>> {
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact(&mut bytes).ok()?;
    if checksum(&bytes) != sum {
        return None;
    }
    let mut reader = Reader::new(&bytes);
    let mut recorded = Vec::with_capacity(count.min(bytes.len()));
    // The instant as (seconds, nanoseconds 0..1e9), stepped in 64-bit arithmetic.
    let (mut position, mut seconds, mut nanos) = (0u64, 0i64, 0i64);
    for _ in 0..count {
        position = position.checked_add(reader.varint()?)?;
        let step = i64::try_from(reader.signed()?).ok()?;
        seconds = seconds.checked_add(step.div_euclid(NANOS_PER_SECOND))?;
        nanos += step.rem_euclid(NANOS_PER_SECOND);
        if nanos >= NANOS_PER_SECOND {
            nanos -= NANOS_PER_SECOND;
            seconds = seconds.checked_add(1)?;
        }
        let subsec = u32::try_from(nanos).expect("nanos stay below a second");
        recorded.push((position, DateTime::from_timestamp(seconds, subsec)?));
    }
    reader.is_empty().then_some(recorded)
}

/// One shard's `count` decisions, read block by block from `offset`, if every block's checksum
/// holds and every position is at most `head`.
fn decode_shard<R: Read + Seek>(
    mut file: R,
    offset: u64,
    len: u64,
    count: usize,
    head: u64,
) -> Option<Vec<DecisionFacts>> {
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut decisions = Vec::with_capacity(count.min(usize::try_from(len).ok()?));
    let mut block = Vec::new();
    let mut left = len;
    while left > 0 {
        let mut block_head = [0u8; 12];
        file.read_exact(&mut block_head).ok()?;
        let mut block_head = Reader::new(&block_head);
        let block_len = usize::try_from(block_head.u32()?).ok()?;
        let block_sum = block_head.u64()?;
        if block_len > SNAPSHOT_BLOCK_BYTES_MAX {
            return None;
        }
        left = left.checked_sub(12 + block_len as u64)?;
        block.resize(block_len, 0);
        file.read_exact(&mut block).ok()?;
        if checksum(&block) != block_sum {
            return None;
        }
        let mut reader = Reader::new(&block);
        for _ in 0..reader.count()? {
            let decision = decode_decision(&mut reader)?;
            if decision.facts.last().is_some_and(|f| f.position > head) {
                return None;
            }
            decisions.push(decision);
        }
        if !reader.is_empty() {
            return None;
        }
    }
    (decisions.len() == count).then_some(decisions)
}

fn encode_decision(w: &mut Writer, decision: &DecisionFacts) {
    let grant = &decision.grant;
    w.id(decision.decision_id.as_bytes());
    w.varint(grant.position);
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
    w.varint(decision.facts.len() as u64);
    let mut previous = 0;
    for fact in &decision.facts {
        w.varint(fact.position - previous);
        previous = fact.position;
        w.id(fact.event_id.as_bytes());
        w.date(fact.occurred_on);
        encode_kind(w, &fact.kind);
    }
}

fn decode_decision(r: &mut Reader<'_>) -> Option<DecisionFacts> {
    let decision_id = DecisionId::from_uuid(uuid::Uuid::from_bytes(r.id()?));
    let position = r.varint()?;
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
    let count = r.count()?;
    let mut facts = Vec::with_capacity(count);
    let mut previous = 0u64;
    for _ in 0..count {
        // Facts are kept in position order: a step of 0 is damage.
        let step = r.varint()?;
        if step == 0 {
            return None;
        }
        let position = previous.checked_add(step)?;
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
    w.varint(open.episodes.len() as u64);
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
        w.varint(indexed.reports.len() as u64);
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
    let count = r.count()?;
    let mut episodes = Vec::with_capacity(count);
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
        let reports_len = r.count()?;
        let mut reports = Vec::with_capacity(reports_len);
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
    /// LEB128.
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    /// Zigzag, then LEB128 in two halves (a delta of instants needs more than 64 bits only
    /// across centuries).
    fn signed(&mut self, v: i128) {
        let zigzag = ((v << 1) ^ (v >> 127)) as u128;
        self.varint(zigzag as u64);
        self.varint((zigzag >> 64) as u64);
    }
    fn id(&mut self, v: &[u8; 16]) {
        self.0.extend_from_slice(v);
    }
    fn bytes(&mut self, v: &[u8]) {
        self.varint(v.len() as u64);
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
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    fn signed(&mut self) -> Option<i128> {
        let zigzag = u128::from(self.varint()?) | u128::from(self.varint()?) << 64;
        Some((zigzag >> 1) as i128 ^ -((zigzag & 1) as i128))
    }
    /// A count of items that each take at least one byte: never more than the bytes left.
    fn count(&mut self) -> Option<usize> {
        let count = usize::try_from(self.varint()?).ok()?;
        (count <= self.0.len()).then_some(count)
    }
    fn id(&mut self) -> Option<[u8; 16]> {
        self.array()
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        self.take(len)
    }
    fn date(&mut self) -> Option<NaiveDate> {
        date_of(self.array().map(i32::from_le_bytes)?)
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

    fn decode_bytes(bytes: &[u8]) -> Option<Projection> {
        decode(|| Some(std::io::Cursor::new(bytes)))
    }

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
            assert_eq!(decode_bytes(&bytes), Some(original.clone()));
            assert_eq!(encode(&original), bytes, "two saves are the same bytes");
        }
        let refreshed = projection(true);
        assert!(
            refreshed.indexed_open().count() > 0,
            "the index has something to save"
        );
        assert_eq!(
            decode_bytes(&encode(&Projection::new())),
            Some(Projection::new())
        );
    }

    #[test]
    fn every_damaged_byte_and_every_truncation_is_noticed() {
        let bytes = encode(&projection(true));
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert_eq!(decode_bytes(&damaged), None, "byte {at} flipped");
            assert_eq!(decode_bytes(&bytes[..at]), None, "cut at {at}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_bytes(&longer), None, "a byte too many");
    }

    #[test]
    fn the_table_of_dates_spans_the_calendar() {
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2200, 12, 31).unwrap();
        assert_eq!(first.num_days_from_ce(), DATE_TABLE_FIRST_DAY);
        assert_eq!(
            (last - first).num_days() + 1,
            DATE_TABLE_DAYS as i64,
            "one entry per day"
        );
        for date in [first, "2024-02-29".parse().unwrap(), last] {
            assert_eq!(date_of(date.num_days_from_ce()), Some(date));
        }
        let outside = NaiveDate::from_ymd_opt(1800, 3, 1).unwrap();
        assert_eq!(date_of(outside.num_days_from_ce()), Some(outside));
        assert_eq!(date_of(DATE_TABLE_FIRST_DAY - 1), first.pred_opt());
        assert_eq!(date_of(i32::MAX), None);
        assert_eq!(date_of(i32::MIN), None);
    }

    #[test]
    fn another_version_is_not_read() {
        for magic in [b"VKSTPRJ1", b"VKSTPRJ2"] {
            let mut old = magic.to_vec();
            old.extend_from_slice(&encode(&projection(true))[8..]);
            assert_eq!(decode_bytes(&old), None);
        }
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
