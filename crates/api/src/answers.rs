//! Report answers kept for the next identical question at the same point of the log.
//!
//! Open cases, the IVO worklist and the council's statistics are each a function of the log's
//! prefix up to `Projection::position_as_of(as_of)` and of their resolved parameters (the
//! projections use `as_of` for nothing else): the log below a position never changes, and
//! `recorded_at` never goes backwards. `as_of` itself appears in the answer only as its own
//! field. So two questions of the same kind, with the same parameters and the same position,
//! get the same answer but for that field, whatever their `as_of`.
//!
//! An answer is kept, keyed by that [`Question`] (the position included, so an answer is never
//! served for another point of the log: never stale), as the text before and after its `as_of`
//! value, and served with the asker's `as_of` put back — byte for byte what rendering it again
//! would give (the tests hold it to that). The key names no caller: the reports show no
//! identity number, so every role that may read them gets the same bytes. Only JSON is kept
//! (the other formats write `as_of` in Swedish words), and only a text in which the `as_of`
//! value occurs exactly once. At most [`ANSWERS_KEPT_MAX`] answers are kept, the oldest
//! dropped first.
//!
//! An answer rendered afresh (the log has moved on) mostly repeats the last one. Both reports
//! list items decision by decision, each decision's a function of its own facts known at the
//! position (and, for the worklist, those of the decision it replaces):
//! [`projections::open_cases::decision_open_cases`],
//! [`projections::worklist::decision_items`]. So the JSON texts of each decision's items are
//! kept with what they were computed from — how many of its facts, and of the replaced
//! decision's, were known at the position — and only the decisions with other counts are
//! computed and written afresh. Facts are only ever appended, in position order, so the count
//! names the facts exactly. The answer is the report without items, rendered as usual, with the
//! items' texts put in its empty `"items"` in the report's order; the tests hold it to the
//! report computed and rendered whole.
//!
//! A decision's state and its JSON dossier are kept the same way, keyed by a [`StateQuestion`]:
//! the facts of the decision (and of the decision it replaces) known at the position, and the
//! date days are counted to. A dossier shows two more values that other questions of the same
//! facts do not share, the log's position and hash it was drawn from (its `chain`); it is kept
//! as the text around them and its `as_of`, and served with all three put back.
//!
//! A decision's events (the JSON of `GET /v1/decisions/{id}/events`) show no `as_of` and no
//! log point: they are kept whole under an [`EventsQuestion`], the facts known at the position
//! (one a stream event) and whether the role sees protected identity numbers. They are read from
//! the store, not from the projection, so a projection still folding is not waited for: the
//! events are then read afresh, and neither served from nor kept among those kept.
//!
//! Every read of personal data is still written to the access log, kept answer or not.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{DecisionId, Quarter};
use projections::open_cases::OpenCases;
use projections::{DecisionFacts, Projection};
use serde::Serialize;

/// Answers kept at most.
pub const ANSWERS_KEPT_MAX: usize = 16;

/// A report question with its defaults resolved, at a position of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Question {
    /// Open cases on a date.
    OpenCases {
        /// The date.
        on: NaiveDate,
        /// `position_as_of(as_of)`.
        position: u64,
    },
    /// A quarter's report.
    Quarter {
        /// Which.
        report: QuarterReport,
        /// The quarter.
        quarter: Quarter,
        /// The date days are counted to, as asked (the default follows from the quarter).
        on: Option<NaiveDate>,
        /// `position_as_of(as_of)`.
        position: u64,
    },
}

/// The reports of a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuarterReport {
    /// The IVO worklist.
    Ivo,
    /// The council's statistics.
    Council,
}

/// A kept answer: the JSON text around its `as_of` value.
#[derive(Debug)]
struct Kept {
    before: String,
    after: String,
}

impl Kept {
    /// `text` around the one place `instant` occurs in it; `None` when it occurs more than once
    /// or not at all.
    fn around(text: &str, instant: &str) -> Option<Kept> {
        let mut places = memchr::memmem::find_iter(text.as_bytes(), instant.as_bytes());
        let (Some(at), None) = (places.next(), places.next()) else {
            return None;
        };
        Some(Kept {
            before: text[..at].to_owned(),
            after: text[at + instant.len()..].to_owned(),
        })
    }

    /// The text with `instant` put back.
    fn with(&self, instant: &str) -> String {
        let mut text = String::with_capacity(self.before.len() + instant.len() + self.after.len());
        text.push_str(&self.before);
        text.push_str(instant);
        text.push_str(&self.after);
        text
    }
}

/// Decision states kept at most (beyond, all are forgotten).
pub const STATES_KEPT_MAX: usize = 16 * 1024;

/// A decision's state as asked at a position: the decision, which of its facts were known (its
/// grant's position, and how many since: so its events then), the same of the decision it
/// replaces, and the date days are counted to. A decision's state is a function of these and
/// its `as_of`, which it shows only as its own field (`projections::dossier::dossier` reads
/// the decision's events and facts and the replaced decision's facts, and nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StateQuestion {
    decision: DecisionId,
    facts: (u64, usize),
    replaced: Option<(u64, usize)>,
    on: NaiveDate,
}

impl StateQuestion {
    /// The question about `decision` at `position` counting days to `on`; `None` when the
    /// decision was not granted by then (there is no state to keep).
    pub(crate) fn at(
        projection: &Projection,
        decision: DecisionId,
        position: u64,
        on: NaiveDate,
    ) -> Option<StateQuestion> {
        let head = projection.head();
        let facts = projection.decision(decision)?;
        if facts.grant.position > position {
            return None;
        }
        let known_of = |d: &DecisionFacts| (d.grant.position, known(d, position, head));
        Some(StateQuestion {
            decision,
            facts: known_of(facts),
            replaced: facts
                .grant
                .replaces
                .and_then(|id| projection.decision(id))
                .map(known_of),
            on,
        })
    }
}

/// A decision's events as a role sees them, asked at a position: the decision, its grant's
/// position and how many of its facts were known then (one a stream event, so its events then),
/// and whether the role sees protected identity numbers (`crate::masking`). The JSON of the
/// events is a function of these alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EventsQuestion {
    decision: DecisionId,
    facts: (u64, usize),
    unmasked: bool,
}

impl EventsQuestion {
    /// The question about `decision`'s events at `position`, as a role that sees protected
    /// numbers (`unmasked`) or not; `None` when the decision was not granted by then.
    pub(crate) fn at(
        projection: &Projection,
        decision: DecisionId,
        position: u64,
        unmasked: bool,
    ) -> Option<EventsQuestion> {
        let facts = projection.decision(decision)?;
        if facts.grant.position > position {
            return None;
        }
        Some(EventsQuestion {
            decision,
            facts: (
                facts.grant.position,
                known(facts, position, projection.head()),
            ),
            unmasked,
        })
    }

    /// The stream's version the question names: how many events it had then.
    pub(crate) fn version(&self) -> u64 {
        self.facts.1 as u64
    }
}

/// A kept decision state and its stream version.
#[derive(Debug)]
struct KeptState {
    text: Kept,
    version: u64,
}

/// Bytes of dossier texts, and of event texts, each kept at most (beyond, all are forgotten).
pub const TEXT_BYTES_KEPT_MAX: usize = 32 << 20;

/// Rendered in place of the log's position in a dossier's `chain`, to find where it goes.
const LOG_POSITION_HOLE: u64 = 9_090_909_090_909_090_909;
/// Rendered in place of the log's hash in a dossier's `chain`, to find where it goes.
const LOG_HASH_HOLE: &str = "verkstall: the log's hash goes here";

/// A kept dossier's JSON: the text around the three values that differ between dossiers of
/// the same [`StateQuestion`] — `as_of`, and the log's position and hash in `chain` (what the
/// dossier was drawn from) — in that order in the text.
#[derive(Debug)]
struct KeptDossier {
    pieces: [String; 4],
}

impl KeptDossier {
    /// `text` around the one place each of `instant`, [`LOG_POSITION_HOLE`] and
    /// [`LOG_HASH_HOLE`] (as JSON) occurs, in that order; `None` when one occurs more than once,
    /// not at all, or out of order.
    fn around(text: &str, instant: &str) -> Option<KeptDossier> {
        let position = LOG_POSITION_HOLE.to_string();
        let hash = json_text(&Some(LOG_HASH_HOLE));
        let mut places = [0; 3];
        let mut from = 0;
        for (place, value) in places.iter_mut().zip([instant, &position, &hash]) {
            let mut found = memchr::memmem::find_iter(text.as_bytes(), value.as_bytes());
            let (Some(at), None) = (found.next(), found.next()) else {
                return None;
            };
            if at < from {
                return None;
            }
            *place = at;
            from = at + value.len();
        }
        let [at_instant, at_position, at_hash] = places;
        Some(KeptDossier {
            pieces: [
                text[..at_instant].to_owned(),
                text[at_instant + instant.len()..at_position].to_owned(),
                text[at_position + position.len()..at_hash].to_owned(),
                text[at_hash + hash.len()..].to_owned(),
            ],
        })
    }

    /// The text with the values put back.
    fn with(&self, instant: &str, log_position: u64, log_hash: Option<&str>) -> String {
        let position = log_position.to_string();
        let hash = json_text(&log_hash);
        let [a, b, c, d] = &self.pieces;
        let length = self.bytes() + instant.len() + position.len() + hash.len();
        let mut text = String::with_capacity(length);
        for piece in [a, instant, b, &position, c, &hash, d] {
            text.push_str(piece);
        }
        text
    }

    fn bytes(&self) -> usize {
        self.pieces.iter().map(String::len).sum()
    }
}

/// `value` as JSON.
fn json_text(value: &Option<&str>) -> String {
    serde_json::to_string(value).expect("a string or null always serialises")
}

/// The kept answers, newest last, and the kept texts of each decision's items.
#[derive(Debug, Default)]
pub(crate) struct Answers {
    kept: Mutex<VecDeque<(Question, Arc<Kept>)>>,
    served: AtomicU64,
    rendered: AtomicU64,
    open_cases: DecisionTexts<NaiveDate>,
    worklist: DecisionTexts<(Quarter, NaiveDate)>,
    states: Mutex<HashMap<StateQuestion, Arc<KeptState>, IdHasher>>,
    dossiers: Mutex<KeptTexts<StateQuestion, KeptDossier>>,
    events: Mutex<KeptTexts<EventsQuestion, Bytes>>,
}

/// Texts kept by question, at most [`TEXT_BYTES_KEPT_MAX`] bytes of them (beyond, all are
/// forgotten).
#[derive(Debug)]
struct KeptTexts<Q, T> {
    by_question: HashMap<Q, (Arc<T>, usize), IdHasher>,
    bytes: usize,
}

impl<Q, T> Default for KeptTexts<Q, T> {
    fn default() -> KeptTexts<Q, T> {
        KeptTexts {
            by_question: HashMap::default(),
            bytes: 0,
        }
    }
}

impl<Q: std::hash::Hash + Eq, T> KeptTexts<Q, T> {
    fn get(&self, question: &Q) -> Option<Arc<T>> {
        self.by_question
            .get(question)
            .map(|(kept, _)| Arc::clone(kept))
    }

    /// Keeps `text`, of `bytes` bytes, as the answer to `question`.
    fn keep(&mut self, question: Q, text: T, bytes: usize) {
        if self.bytes + bytes > TEXT_BYTES_KEPT_MAX {
            *self = KeptTexts::default();
        }
        self.bytes += bytes;
        if let Some((_, replaced)) = self.by_question.insert(question, (Arc::new(text), bytes)) {
            self.bytes -= replaced;
        }
    }
}

/// Locks `mutex`, whose data holds no invariant a panic could break mid-way.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How kept states are found: foldhash, randomly seeded per process (as the projections).
type IdHasher = foldhash::fast::RandomState;

/// The JSON texts of each decision's items in one report asked with parameters `P`, with the
/// counts of facts they were computed from, at the decision's place in
/// `Projection::decisions` (a decision found at another place is computed afresh).
#[derive(Debug)]
struct DecisionTexts<P> {
    kept: Mutex<Option<(P, Vec<Option<Computed>>)>>,
}

/// A decision, the counts of facts its items were computed from, and their texts.
type Computed = (DecisionId, Known, ItemTexts);

impl<P> Default for DecisionTexts<P> {
    fn default() -> DecisionTexts<P> {
        DecisionTexts {
            kept: Mutex::new(None),
        }
    }
}

/// A decision's items in a report: where each stands, and its text.
type ItemTexts = Vec<(ItemOrder, Arc<str>)>;

/// Where an item stands in its report: by reference date, then decision id, then episode.
type ItemOrder = (NaiveDate, DecisionId, u32);

/// How many facts of a decision, and of the decision it replaces, were known at a position.
type Known = (usize, Option<usize>);

/// How many of `decision`'s facts were known at `position` (they are in position order; at or
/// after the projection's `head`, all of them).
fn known(decision: &DecisionFacts, position: u64, head: u64) -> usize {
    if position >= head {
        return decision.facts.len();
    }
    decision.facts.partition_point(|f| f.position <= position)
}

/// The decisions a report may list, each with its place in `Projection::decisions`.
type Candidates<'p> = Box<dyn Iterator<Item = (usize, &'p DecisionFacts)> + 'p>;

/// Every decision of the projection, as candidates.
fn every_decision(projection: &Projection) -> Candidates<'_> {
    Box::new(projection.decisions().enumerate())
}

impl<P: PartialEq + Copy> DecisionTexts<P> {
    /// The report asked with `params` at `position`: `head` (its JSON up to its empty
    /// `"items"`), then the texts of its items in the report's order ([`with_items`]). Each
    /// decision's `items` are as kept when its facts (and its replaced decision's) known at
    /// `position` are as many as when they were kept, else computed now. Only `candidates` are
    /// looked at: the caller answers for every other decision having no item. The texts are
    /// written out where they are kept, under the lock, without taking a count of each.
    fn report<'p>(
        &self,
        head: &str,
        projection: &'p Projection,
        candidates: Candidates<'p>,
        position: u64,
        params: P,
        items: impl Fn(&DecisionFacts) -> ItemTexts,
    ) -> String {
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let by_decision = match &mut *kept {
            Some((asked, by_decision)) if *asked == params => by_decision,
            other => &mut other.insert((params, Vec::new())).1,
        };
        let log_head = projection.head();
        if by_decision.len() < projection.len() {
            by_decision.resize_with(projection.len(), || None);
        }
        // Each item as (its order, its decision's place, its place among the decision's).
        let mut listed: Vec<(ItemOrder, usize, usize)> = Vec::new();
        for (index, decision) in candidates {
            let replaced = decision
                .grant
                .replaces
                .and_then(|id| projection.decision(id));
            let now_known = (
                known(decision, position, log_head),
                replaced.map(|r| known(r, position, log_head)),
            );
            let id = decision.decision_id;
            let slot = &mut by_decision[index];
            let fresh = slot
                .as_ref()
                .is_some_and(|(was, was_known, _)| *was == id && *was_known == now_known);
            if !fresh {
                *slot = Some((id, now_known, items(decision)));
            }
            let (_, _, kept_texts) = slot.as_ref().expect("filled just above");
            listed.extend(
                kept_texts
                    .iter()
                    .enumerate()
                    .map(|(at, (order, _))| (*order, index, at)),
            );
        }
        listed.sort_by_key(|&(order, _, _)| order);
        let by_decision = &*by_decision;
        with_items(
            head,
            listed.iter().map(|&(_, index, at)| {
                let (_, _, kept_texts) = by_decision[index].as_ref().expect("listed above");
                &*kept_texts[at].1
            }),
        )
    }
}

impl Answers {
    /// The JSON answer to `question` as of `as_of`: a kept one with `as_of` put in, or
    /// `render()` (which must answer `question` as of `as_of`), kept for the next time.
    pub(crate) fn json(
        &self,
        question: Question,
        as_of: DateTime<Utc>,
        render: impl FnOnce() -> String,
    ) -> String {
        let instant = domain::event::format_instant(&as_of);
        let found = self
            .lock()
            .iter()
            .rev()
            .find(|(q, _)| *q == question)
            .map(|(_, kept)| std::sync::Arc::clone(kept));
        if let Some(kept) = found {
            self.served.fetch_add(1, Ordering::Relaxed);
            return kept.with(&instant);
        }
        self.rendered.fetch_add(1, Ordering::Relaxed);
        let text = render();
        if let Some(kept) = Kept::around(&text, &instant) {
            let mut all = self.lock();
            if !all.iter().any(|(q, _)| *q == question) {
                if all.len() == ANSWERS_KEPT_MAX {
                    all.pop_front();
                }
                all.push_back((question, std::sync::Arc::new(kept)));
            }
        }
        text
    }

    /// The kept JSON of the state `question` asks for, with `as_of` put in, and its version.
    pub(crate) fn state(
        &self,
        question: &StateQuestion,
        as_of: DateTime<Utc>,
    ) -> Option<(String, u64)> {
        let kept = lock(&self.states).get(question).cloned()?;
        self.served.fetch_add(1, Ordering::Relaxed);
        let instant = domain::event::format_instant(&as_of);
        Some((kept.text.with(&instant), kept.version))
    }

    /// Keeps `text`, the JSON of the state `question` asks for as of `as_of` (its stream at
    /// `version`), if `as_of` shows in it exactly once.
    pub(crate) fn keep_state(
        &self,
        question: StateQuestion,
        as_of: DateTime<Utc>,
        text: &str,
        version: u64,
    ) {
        self.rendered.fetch_add(1, Ordering::Relaxed);
        let instant = domain::event::format_instant(&as_of);
        let Some(text) = Kept::around(text, &instant) else {
            return;
        };
        let mut states = lock(&self.states);
        if states.len() >= STATES_KEPT_MAX {
            states.clear();
        }
        states.insert(question, Arc::new(KeptState { text, version }));
    }

    /// The kept JSON dossier `question` asks for, with `as_of` and the log's point (its
    /// position and hash then, which the dossier's `chain` shows) put in.
    pub(crate) fn dossier(
        &self,
        question: &StateQuestion,
        as_of: DateTime<Utc>,
        log_position: u64,
        log_hash: Option<&str>,
    ) -> Option<String> {
        let kept = lock(&self.dossiers).get(question)?;
        self.served.fetch_add(1, Ordering::Relaxed);
        let instant = domain::event::format_instant(&as_of);
        Some(kept.with(&instant, log_position, log_hash))
    }

    /// The JSON of `dossier`, the answer to `question`, kept for the next time (when its text
    /// has its `as_of` and its log's point each in one place only).
    pub(crate) fn keep_dossier(
        &self,
        question: StateQuestion,
        mut dossier: projections::dossier::Dossier,
    ) -> String {
        self.rendered.fetch_add(1, Ordering::Relaxed);
        let instant = domain::event::format_instant(&dossier.as_of);
        let log_position = dossier.chain.log_position;
        let log_hash = dossier.chain.log_hash.take();
        dossier.chain.log_position = LOG_POSITION_HOLE;
        dossier.chain.log_hash = Some(LOG_HASH_HOLE.to_owned());
        let text = render::dossier(&dossier, render::Format::Json);
        let Some(kept) = KeptDossier::around(&text, &instant) else {
            dossier.chain.log_position = log_position;
            dossier.chain.log_hash = log_hash;
            return render::dossier(&dossier, render::Format::Json);
        };
        let answer = kept.with(&instant, log_position, log_hash.as_deref());
        let bytes = kept.bytes();
        lock(&self.dossiers).keep(question, kept, bytes);
        answer
    }

    /// The kept JSON of the events `question` asks for.
    pub(crate) fn events(&self, question: &EventsQuestion) -> Option<Bytes> {
        let kept = lock(&self.events).get(question)?;
        self.served.fetch_add(1, Ordering::Relaxed);
        Some(Bytes::clone(&kept))
    }

    /// Keeps `text`, the JSON of the events `question` asks for, if it holds exactly the
    /// events the question names (its `version` is their count).
    pub(crate) fn keep_events(&self, question: EventsQuestion, text: &Bytes, version: u64) {
        self.rendered.fetch_add(1, Ordering::Relaxed);
        if version == question.version() {
            lock(&self.events).keep(question, Bytes::clone(text), text.len());
        }
    }

    /// The JSON of the IVO worklist of `quarter`, counting days to `on` (default: the quarter's
    /// end), as known at `as_of`: what `render::ivo_worklist` writes of
    /// `projections::worklist::ivo_worklist`, computing afresh only the decisions whose facts
    /// (or whose replaced decision's) known then differ from last time.
    pub(crate) fn worklist_json(
        &self,
        projection: &Projection,
        quarter: Quarter,
        on: Option<NaiveDate>,
        as_of: DateTime<Utc>,
    ) -> String {
        use projections::worklist::{counted_to, decision_items, worklist_of, worklist_order};
        let on = counted_to(quarter, on);
        let position = projection.position_as_of(as_of);
        let json = render::Format::Json;
        let envelope = render::ivo_worklist(&worklist_of(quarter, on, as_of, Vec::new()), json);
        let Some(head) = envelope.strip_suffix(EMPTY_ITEMS_END) else {
            let whole = projections::worklist::ivo_worklist(projection, quarter, Some(on), as_of);
            return render::ivo_worklist(&whole, json);
        };
        self.worklist.report(
            head,
            projection,
            every_decision(projection),
            position,
            (quarter, on),
            |decision| {
                decision_items(projection, position, decision, quarter, on)
                    .iter()
                    .map(|i| (worklist_order(i), item_text(i)))
                    .collect()
            },
        )
    }

    /// The JSON of the open cases on `on` as known at `as_of`: what `render::open_cases` writes
    /// of `projections::open_cases::open_cases`, computing afresh only the decisions whose
    /// facts known then differ from last time.
    pub(crate) fn open_cases_json(
        &self,
        projection: &Projection,
        on: NaiveDate,
        as_of: DateTime<Utc>,
    ) -> String {
        use projections::open_cases::{decision_open_cases, open_case_order};
        let position = projection.position_as_of(as_of);
        let json = render::Format::Json;
        let envelope = OpenCases {
            on,
            as_of,
            items: Vec::new(),
        };
        let envelope = render::open_cases(&envelope, json);
        let Some(head) = envelope.strip_suffix(EMPTY_ITEMS_END) else {
            let whole = projections::open_cases::open_cases(projection, on, as_of);
            return render::open_cases(&whole, json);
        };
        // When the open-episode index answers this question exactly, the decisions outside it
        // have no open case: only those in it are looked at (`open_cases` does the same).
        let candidates: Candidates<'_> = match projection.open_index(on, position) {
            Some(open) => Box::new(
                open.filter_map(|(decision_id, _)| projection.decision_with_place(*decision_id)),
            ),
            None => every_decision(projection),
        };
        self.open_cases
            .report(head, projection, candidates, position, on, |decision| {
                decision_open_cases(decision, position, on)
                    .iter()
                    .map(|c| (open_case_order(c), item_text(c)))
                    .collect()
            })
    }

    /// Answers served from those kept, and rendered afresh, since the server started.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::Relaxed),
            self.rendered.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Question, Arc<Kept>)>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where a report's empty items end its JSON (they are its last field).
const EMPTY_ITEMS_END: &str = "\"items\": []\n}\n";

/// A report's JSON: `head` (its text up to its empty `"items"`), then the items' texts.
fn with_items<'a>(head: &str, texts: impl Iterator<Item = &'a str> + Clone) -> String {
    let length = head.len() + texts.clone().map(|t| t.len() + 2).sum::<usize>() + 20;
    let mut json = String::with_capacity(length);
    json.push_str(head);
    let mut texts = texts.peekable();
    if texts.peek().is_none() {
        json.push_str(EMPTY_ITEMS_END);
        return json;
    }
    json.push_str("\"items\": [\n");
    for (n, text) in texts.enumerate() {
        if n > 0 {
            json.push_str(",\n");
        }
        json.push_str(text);
    }
    json.push_str("\n  ]\n}\n");
    json
}

/// An item's pretty JSON as it stands in a report's `"items"`: two levels in (a JSON string
/// holds no raw line break, so every line is indented).
fn item_text<T: Serialize>(item: &T) -> Arc<str> {
    let alone = serde_json::to_string_pretty(item).expect("a report's item always serialises");
    let mut text = String::with_capacity(alone.len() + alone.len() / 8);
    for (n, line) in alone.split('\n').enumerate() {
        if n > 0 {
            text.push('\n');
        }
        text.push_str("    ");
        text.push_str(line);
    }
    text.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 10, 0, second)
            .single()
            .expect("a time")
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")
    }

    /// An answer as a report renders it: `as_of` once, among other fields.
    fn answer(as_of: DateTime<Utc>, items: &str) -> String {
        let instant = domain::event::format_instant(&as_of);
        format!(
            "{{\n  \"on\": \"2026-11-24\",\n  \"as_of\": \"{instant}\",\n  \"items\": [{items}]\n}}\n"
        )
    }

    #[test]
    fn the_same_question_at_the_same_position_is_the_kept_answer_with_its_own_as_of() {
        let answers = Answers::default();
        let question = Question::OpenCases {
            on: day(),
            position: 7,
        };
        let first = answers.json(question, at(1), || answer(at(1), "1"));
        assert_eq!(first, answer(at(1), "1"));
        let kept = answers.json(question, at(2), || unreachable!("kept"));
        assert_eq!(kept, answer(at(2), "1"));
        assert_eq!(answers.counts(), (1, 1));
    }

    #[test]
    fn another_position_or_question_is_rendered_afresh() {
        let answers = Answers::default();
        let question = |position| Question::OpenCases {
            on: day(),
            position,
        };
        answers.json(question(7), at(1), || answer(at(1), "1"));
        let later = answers.json(question(8), at(2), || answer(at(2), "1, 2"));
        assert_eq!(later, answer(at(2), "1, 2"));
        let quarter: Quarter = "2026Q4".parse().expect("a quarter");
        let [ivo, council] =
            [QuarterReport::Ivo, QuarterReport::Council].map(|report| Question::Quarter {
                report,
                quarter,
                on: None,
                position: 8,
            });
        assert_eq!(
            answers.json(ivo, at(3), || answer(at(3), "3")),
            answer(at(3), "3")
        );
        assert_eq!(
            answers.json(council, at(3), || answer(at(3), "4")),
            answer(at(3), "4")
        );
        assert_eq!(answers.counts(), (0, 4));
        assert_eq!(
            answers.json(question(7), at(4), || unreachable!("kept")),
            answer(at(4), "1")
        );
    }

    #[test]
    fn an_answer_that_shows_its_as_of_twice_is_not_kept() {
        let answers = Answers::default();
        let question = Question::OpenCases {
            on: day(),
            position: 7,
        };
        let twice = |as_of| {
            let instant = domain::event::format_instant(&as_of);
            answer(as_of, &format!("\"{instant}\""))
        };
        answers.json(question, at(1), || twice(at(1)));
        assert_eq!(answers.json(question, at(2), || twice(at(2))), twice(at(2)));
        assert_eq!(answers.counts(), (0, 2));
    }

    #[test]
    fn a_dossier_is_kept_around_its_moment_and_log_point_in_that_order_only() {
        let instant = "2026-12-07T20:00:00.000000Z";
        let hash = json_text(&Some(LOG_HASH_HOLE));
        let text = format!(
            "{{\"as_of\": \"{instant}\", \"chain\": {{\"log_position\": {LOG_POSITION_HOLE}, \"log_hash\": {hash}}}}}"
        );
        let kept = KeptDossier::around(&text, instant).expect("kept");
        assert_eq!(
            kept.with("2027-01-01T00:00:00.000000Z", 42, Some("ab12")),
            "{\"as_of\": \"2027-01-01T00:00:00.000000Z\", \"chain\": {\"log_position\": 42, \"log_hash\": \"ab12\"}}"
        );
        assert!(
            kept.with(instant, 0, None)
                .ends_with("\"log_position\": 0, \"log_hash\": null}}")
        );
        let twice = format!("{text} \"{instant}\"");
        assert!(KeptDossier::around(&twice, instant).is_none());
        let position_twice = format!("{text} {LOG_POSITION_HOLE}");
        assert!(KeptDossier::around(&position_twice, instant).is_none());
        let out_of_order =
            format!("{{\"chain\": {LOG_POSITION_HOLE}, \"as_of\": \"{instant}\", {hash}}}");
        assert!(KeptDossier::around(&out_of_order, instant).is_none());
        assert!(KeptDossier::around(&text, "2027-01-01T00:00:00.000000Z").is_none());
    }

    #[test]
    fn only_the_newest_answers_are_kept() {
        let answers = Answers::default();
        let question = |position| Question::OpenCases {
            on: day(),
            position,
        };
        for position in 0..=ANSWERS_KEPT_MAX as u64 {
            answers.json(question(position), at(1), || answer(at(1), "1"));
        }
        assert_eq!(answers.lock().len(), ANSWERS_KEPT_MAX);
        answers.json(question(ANSWERS_KEPT_MAX as u64), at(2), || {
            unreachable!("kept")
        });
        answers.json(question(0), at(2), || answer(at(2), "1"));
        assert_eq!(answers.counts(), (1, ANSWERS_KEPT_MAX as u64 + 2));
    }

    #[tokio::test]
    async fn reports_from_kept_decisions_are_the_reports_computed_and_rendered_whole() {
        let until: DateTime<Utc> = "2024-11-20T12:00:00Z".parse().expect("a time");
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            store::EmbeddedStore::open(dir.path(), None, store::system_clock()).expect("opens");
        let mut options = demo::DemoOptions::new(11, until);
        options.decisions = 400;
        demo::fill(&store, &options, &mut |_, _| {})
            .await
            .expect("filled");
        let head = store::EventStore::head(&store)
            .await
            .expect("a head")
            .position;
        let events = store::EventStore::read_all(&store, 0, head as usize, None)
            .await
            .expect("read");
        let answers = Answers::default();
        let mut projection = projections::Projection::new();
        // Fold the log in three parts, asking after each; then ask as of earlier moments.
        let thirds = events.len().div_ceil(3);
        for part in events.chunks(thirds) {
            for event in part {
                projection.apply(event).expect("folds");
            }
            projection.refresh_index();
            let last = part.last().expect("a part has events").recorded_at;
            for (quarter, on, as_of) in [
                ("2024Q4", None, until),
                ("2024Q4", None, until),
                ("2024Q2", Some("2024-08-01"), until),
                ("2024Q4", None, last),
                ("2024Q4", None, last - chrono::Duration::days(40)),
                ("2024Q4", None, until),
            ] {
                let quarter: Quarter = quarter.parse().expect("a quarter");
                let on = on.map(|d: &str| d.parse::<NaiveDate>().expect("a date"));
                let whole = projections::worklist::ivo_worklist(&projection, quarter, on, as_of);
                assert_eq!(
                    answers.worklist_json(&projection, quarter, on, as_of),
                    render::ivo_worklist(&whole, render::Format::Json),
                    "{quarter} on {on:?} as of {as_of}"
                );
                let day = on.unwrap_or_else(|| quarter.end());
                let whole = projections::open_cases::open_cases(&projection, day, as_of);
                assert_eq!(
                    answers.open_cases_json(&projection, day, as_of),
                    render::open_cases(&whole, render::Format::Json),
                    "open cases on {day} as of {as_of}"
                );
            }
        }
        assert!(
            !projections::worklist::ivo_worklist(
                &projection,
                "2024Q4".parse().expect("q"),
                None,
                until
            )
            .items
            .is_empty()
        );
        let day = "2024-12-31".parse().expect("a date");
        assert!(
            !projections::open_cases::open_cases(&projection, day, until)
                .items
                .is_empty()
        );
    }
}
