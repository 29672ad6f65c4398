//! The fold: each event becomes a compact *fact* in its decision's list, with its position.

use std::collections::{HashMap, VecDeque};

/// How the projection hashes decision ids: foldhash, randomly seeded per process. A rebuild
/// hashes every event's decision id twice, and SipHash was a tenth of its time.
type IdHasher = foldhash::fast::RandomState;
/// Room for facts a decision gets when granted: about what a decision collects in its life
/// (the demo municipality's average is six), so that folding a log seldom grows a list.
const FACTS_PER_DECISION_FIRST: usize = 8;
/// Events [`Projection::fold_all`] reads ahead of the one it folds.
const FOLD_LOOKAHEAD: usize = 8;
/// Decisions changed, at least, before refreshing the index uses more than one thread.
const REFRESH_PART_DECISIONS_MIN: usize = 20_000;
/// A map by decision id.
type ByDecision<V> = HashMap<DecisionId, V, IdHasher>;
use std::sync::OnceLock;

use crate::episodes::{Episode, episodes};
use crate::stored::FoldEvent;

use chrono::{DateTime, NaiveDate, Utc};
use domain::codes::{Area, DelayReason, EndReason, Insats, Law, NoteKind, ReportKind};
use domain::rules::{StatusChange, active_by_retraction};
use domain::{DecisionId, EventId, Quarter, RecordedEvent, Sex};
use serde::{Deserialize, Serialize};

/// What a decision's `DecisionGranted` says, without the identity number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The position of the `DecisionGranted`.
    pub position: u64,
    /// The decision date.
    pub decided_on: NaiveDate,
    /// SoL or LSS.
    pub law: Law,
    /// The insats.
    pub insats: Insats,
    /// An advance decision.
    pub forhandsbesked: bool,
    /// The individual's sex, derived from the identity number.
    #[serde(with = "sex_code")]
    pub sex: Sex,
    /// The individual's birth date, derived from the identity number.
    pub birth_date: NaiveDate,
    /// Skyddade personuppgifter.
    pub protected: bool,
    /// The decision this one replaces.
    pub replaces: Option<DecisionId>,
    /// The area of social services.
    pub area: Option<Area>,
}

/// What an event means for the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FactKind {
    /// `DecisionGranted` (the details are in [`Grant`]).
    Granted,
    /// `OrderSent`.
    OrderSent,
    /// `OfferMade`.
    OfferMade {
        /// Another insats offered while waiting.
        compensating: bool,
    },
    /// `OfferDeclined`.
    OfferDeclined,
    /// `NoteRecorded`.
    Note(NoteKind),
    /// `DelayReasonRecorded`.
    DelayReason(DelayReason),
    /// `Interrupted`.
    Interrupted,
    /// `Verkställd`, fully or in part.
    Verkställd {
        /// Only part of the scope is executed.
        partial: bool,
    },
    /// `Avslutad`.
    Avslutad(EndReason),
    /// `ReportedToIvo`.
    Reported {
        /// Which report.
        kind: ReportKind,
        /// For which quarter.
        quarter: Quarter,
        /// The episode's reference date.
        reference_date: NaiveDate,
    },
    /// `CostEstimated`.
    Cost {
        /// SEK per month.
        sek_per_month: f64,
    },
    /// `EventRetracted`.
    Retracted {
        /// The event retracted.
        target: EventId,
    },
}

impl FactKind {
    /// What the fact does to the execution status (the same mapping as the rules').
    pub fn status_change(&self) -> StatusChange {
        match self {
            FactKind::Interrupted => StatusChange::Interrupt,
            FactKind::Verkställd { partial } => StatusChange::Execute { partial: *partial },
            FactKind::Avslutad(_) => StatusChange::End,
            FactKind::Reported { .. } | FactKind::Note(_) | FactKind::Retracted { .. } => {
                StatusChange::None {
                    allowed_after_end: true,
                }
            }
            _ => StatusChange::None {
                allowed_after_end: false,
            },
        }
    }
}

/// One event, as a fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// Its global position.
    pub position: u64,
    /// Its id.
    pub event_id: EventId,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// What it means.
    pub kind: FactKind,
}

/// Everything known of one decision, in position order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionFacts {
    /// The decision.
    pub decision_id: DecisionId,
    /// Its grant.
    pub grant: Grant,
    /// Every fact, the grant's included, in position order.
    pub facts: Vec<Fact>,
}

/// A decision as known up to a position: the facts that count (not retracted), in
/// `occurred_on` order, ties by position.
#[derive(Debug, Clone)]
pub struct DecisionView<'a> {
    /// The decision.
    pub decision_id: DecisionId,
    /// Its grant.
    pub grant: &'a Grant,
    /// The facts that count, in the order the rules read them.
    pub facts: Vec<&'a Fact>,
}

impl DecisionFacts {
    /// The decision as known up to `position`, or `None` if it was not granted by then.
    pub fn view(&self, position: u64) -> Option<DecisionView<'_>> {
        if self.grant.position > position {
            return None;
        }
        // Facts are in position order, so "known by then" is a prefix.
        let known = &self.facts[..self.facts.partition_point(|f| f.position <= position)];
        let has_retraction = known
            .iter()
            .any(|f| matches!(f.kind, FactKind::Retracted { .. }));
        let mut facts: Vec<&Fact> = if has_retraction {
            let active = active_by_retraction(
                known,
                |f| f.event_id,
                |f| match f.kind {
                    FactKind::Retracted { target } => Some(target),
                    _ => None,
                },
                known.len(),
            );
            known
                .iter()
                .zip(active)
                .filter(|(f, active)| *active && !matches!(f.kind, FactKind::Retracted { .. }))
                .map(|(f, _)| f)
                .collect()
        } else {
            known.iter().collect()
        };
        if !facts.is_sorted_by_key(|f| (f.occurred_on, f.position)) {
            facts.sort_by_key(|f| (f.occurred_on, f.position));
        }
        Some(DecisionView {
            decision_id: self.decision_id,
            grant: &self.grant,
            facts,
        })
    }
}

/// Why an event could not be folded in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    /// Events must come in position order with no gap.
    #[error("expected position {expected}, got {got}")]
    OutOfOrder {
        /// The position expected.
        expected: u64,
        /// The position received.
        got: u64,
    },
    /// An event of a decision that was never granted (the store's rules make this impossible).
    #[error("position {position}: decision {decision_id} has no DecisionGranted")]
    NoDecision {
        /// The event's position.
        position: u64,
        /// Its decision.
        decision_id: DecisionId,
    },
}

/// A decision's open episodes as the open-case index keeps them: what "open cases now" needs,
/// worked out when the decision last changed, so the question reads no facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenEpisodes {
    /// SoL or LSS.
    pub law: Law,
    /// The insats.
    pub insats: Insats,
    /// The episodes not closed at the head (one, for a stream that obeys the rules).
    pub episodes: Vec<OpenEpisode>,
}

/// One open episode in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenEpisode {
    /// The episode.
    pub episode: Episode,
    /// The `ReportedToIvo` recorded for its reference date: which report, for which quarter.
    pub reports: Vec<(ReportKind, Quarter)>,
}

impl OpenEpisodes {
    /// The open episodes of a decision as `view` knows it; `None` when none is open.
    pub fn of(view: &DecisionView<'_>) -> Option<OpenEpisodes> {
        let episodes: Vec<OpenEpisode> = episodes(view)
            .into_iter()
            .filter(|e| e.closed.is_none())
            .map(|episode| OpenEpisode {
                reports: view
                    .facts
                    .iter()
                    .filter_map(|f| match f.kind {
                        FactKind::Reported {
                            kind,
                            quarter,
                            reference_date,
                        } if reference_date == episode.reference_date => Some((kind, quarter)),
                        _ => None,
                    })
                    .collect(),
                episode,
            })
            .collect();
        (!episodes.is_empty()).then_some(OpenEpisodes {
            law: view.grant.law,
            insats: view.grant.insats,
            episodes,
        })
    }
}

impl OpenEpisode {
    /// Whether a `ReportedToIvo` of `kind` for `quarter` is recorded for this episode (what
    /// [`crate::worklist::is_reported`] says of the decision's facts).
    pub fn is_reported(&self, kind: crate::worklist::ItemKind, quarter: Quarter) -> bool {
        self.reports
            .iter()
            .any(|&(k, q)| k == kind.report_kind() && q == quarter)
    }
}

/// A projection's parts other than its decisions, for [`Projection::from_parts`].
#[derive(Debug, Clone, Default)]
pub struct ProjectionParts {
    /// The last position folded in.
    pub head: u64,
    /// The hash of the event at `head`.
    pub head_hash: String,
    /// The latest `occurred_on` folded in.
    pub latest_occurred: Option<NaiveDate>,
    /// `(first position, recorded_at)` each time `recorded_at` changes along the log.
    pub recorded: Vec<(u64, DateTime<Utc>)>,
    /// The open-episode index.
    pub open: Vec<(DecisionId, OpenEpisodes)>,
    /// The decisions changed since the index was refreshed.
    pub stale: Vec<DecisionId>,
}

/// Every decision's facts, and when each position was recorded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Projection {
    /// Every decision, in the order first granted (or loaded).
    decisions: Vec<DecisionFacts>,
    /// Where each decision is in `decisions`: built on first use, as reports that only walk
    /// every decision (most of them) never need it.
    #[serde(skip)]
    by_id: OnceLock<ByDecision<usize>>,
    /// `decisions` is in id order (as loaded from a snapshot) and `by_id` not built: a
    /// lookup is a binary search.
    #[serde(skip)]
    sorted: bool,
    head: u64,
    /// The hash of the last event folded in: ties a saved projection to the log it came from.
    head_hash: String,
    /// The latest `occurred_on` folded in.
    latest_occurred: Option<NaiveDate>,
    /// Decisions with an open episode at the head, with what "now" questions need of them: the
    /// index behind those questions. Fresh when `dirty` is empty.
    open: ByDecision<OpenEpisodes>,
    /// Decisions changed since the index was last refreshed, by their place in `decisions`,
    /// each once.
    dirty: Vec<usize>,
    /// By place in `decisions`: whether the decision is in `dirty`. A byte per decision, so
    /// that marking one on every event folded touches no large table.
    dirty_mark: Vec<bool>,
    /// `(first position, recorded_at)` each time `recorded_at` changes along the log.
    recorded: Vec<(u64, DateTime<Utc>)>,
}

/// Two projections are equal when they hold the same decisions, whatever their order, and the
/// same head, recorded moments and index.
impl PartialEq for Projection {
    fn eq(&self, other: &Projection) -> bool {
        self.head == other.head
            && self.head_hash == other.head_hash
            && self.latest_occurred == other.latest_occurred
            && self.recorded == other.recorded
            && self.open == other.open
            && self.stale_sorted() == other.stale_sorted()
            && self.decisions.len() == other.decisions.len()
            && self
                .decisions
                .iter()
                .all(|d| other.decision(d.decision_id) == Some(d))
    }
}

impl Projection {
    /// An empty projection.
    pub fn new() -> Projection {
        Projection::default()
    }

    /// Makes room for `events` more events, so that folding a long run of the log (a rebuild)
    /// does not grow the record of moments by doubling: call [`Projection::trim`] after.
    pub fn reserve(&mut self, events: usize) {
        self.recorded.reserve(events);
    }

    /// Gives back room [`Projection::reserve`] made and the log did not use (events recorded at
    /// one moment need one entry between them).
    pub fn trim(&mut self) {
        if self.recorded.capacity() / 2 > self.recorded.len() {
            self.recorded.shrink_to_fit();
        }
    }

    /// Folds one event in. Events must come in position order, from 1, with no gap.
    pub fn apply(&mut self, event: &RecordedEvent) -> Result<(), ProjectionError> {
        self.fold(FoldEvent::of(event))
    }

    /// Folds in one event as the fold reads it ([`FoldEvent`]): what [`Projection::apply`]
    /// does, for events read straight from stored lines. Events must come in position order,
    /// from 1, with no gap.
    pub fn fold(&mut self, event: FoldEvent<'_>) -> Result<(), ProjectionError> {
        let hash = self.fold_keeping_hash(event)?;
        self.set_head_hash(&hash);
        Ok(())
    }

    /// Folds in events in order, as [`Projection::fold`] does each, taking only the last one's
    /// hash (a copy of every hash touches memory the fold has no other use for). On an error,
    /// the projection holds everything before the event refused.
    ///
    /// It reads eight events ahead: each event's decision is looked up, and its
    /// place and newest fact read, that many events before it is folded. Those reads depend on
    /// nothing the fold of the events before writes, so the processor overlaps them with that
    /// work, and the fold then finds them in its cache. At a million decisions the decisions
    /// are spread over a gigabyte, and the fold otherwise waited for memory four times an event.
    pub fn fold_all<'a>(
        &mut self,
        events: impl IntoIterator<Item = FoldEvent<'a>>,
    ) -> Result<(), ProjectionError> {
        let mut last = None;
        let mut result = Ok(());
        let mut events = events.into_iter();
        let mut ahead: VecDeque<FoldEvent<'a>> = VecDeque::with_capacity(FOLD_LOOKAHEAD + 1);
        let mut touched = 0_u64;
        loop {
            while ahead.len() <= FOLD_LOOKAHEAD {
                let Some(event) = events.next() else {
                    break;
                };
                touched ^= self.touch(event.decision_id);
                ahead.push_back(event);
            }
            let Some(event) = ahead.pop_front() else {
                break;
            };
            match self.fold_keeping_hash(event) {
                Ok(hash) => last = Some(hash),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        std::hint::black_box(touched);
        if let Some(hash) = last {
            self.set_head_hash(&hash);
        }
        result
    }

    /// Reads what folding an event of `decision_id` will read (its place in the index, its
    /// place in `decisions`, its newest fact), so that it is in the cache by then; the value
    /// means nothing. A decision not in the index yet (or an index not built) reads nothing.
    fn touch(&self, decision_id: DecisionId) -> u64 {
        let Some(&at) = self.by_id.get().and_then(|by_id| by_id.get(&decision_id)) else {
            return 0;
        };
        self.decisions.get(at).map_or(0, |decision| {
            decision.facts.last().map_or(0, |fact| fact.position)
        })
    }

    /// The head's hash.
    fn set_head_hash(&mut self, hash: &str) {
        self.head_hash.clear();
        self.head_hash.push_str(hash);
    }

    /// Folds one event in but for its hash, which it gives back for the head.
    fn fold_keeping_hash<'a>(
        &mut self,
        event: FoldEvent<'a>,
    ) -> Result<std::borrow::Cow<'a, str>, ProjectionError> {
        let FoldEvent {
            decision_id,
            recorded_at,
            hash,
            fact,
            grant,
        } = event;
        let position = fact.position;
        if position != self.head + 1 {
            return Err(ProjectionError::OutOfOrder {
                expected: self.head + 1,
                got: position,
            });
        }
        let occurred_on = fact.occurred_on;
        let at = match grant {
            Some(grant) => {
                let mut facts = Vec::with_capacity(FACTS_PER_DECISION_FIRST);
                facts.push(fact);
                let decision = DecisionFacts {
                    decision_id,
                    grant,
                    facts,
                };
                let next = self.decisions.len();
                let at = *self.by_id_mut().entry(decision_id).or_insert(next);
                if at == next {
                    self.decisions.push(decision);
                } else {
                    // A second grant of a stream (the store's rules refuse it) starts it anew.
                    self.decisions[at] = decision;
                }
                at
            }
            None => {
                let at =
                    *self
                        .by_id_mut()
                        .get(&decision_id)
                        .ok_or(ProjectionError::NoDecision {
                            position,
                            decision_id,
                        })?;
                self.decisions[at].facts.push(fact);
                at
            }
        };
        if self
            .recorded
            .last()
            .is_none_or(|&(_, at)| at != recorded_at)
        {
            self.recorded.push((position, recorded_at));
        }
        self.head = position;
        self.latest_occurred = self.latest_occurred.max(Some(occurred_on));
        self.mark_dirty(at);
        Ok(hash)
    }

    /// Marks the decision at `at` in `decisions` as changed since the index was refreshed.
    fn mark_dirty(&mut self, at: usize) {
        if self.dirty_mark.len() < self.decisions.len() {
            self.dirty_mark.resize(self.decisions.len(), false);
        }
        if !self.dirty_mark[at] {
            self.dirty_mark[at] = true;
            self.dirty.push(at);
        }
    }

    /// The stale decisions' ids, in order.
    fn stale_sorted(&self) -> Vec<DecisionId> {
        let mut stale: Vec<DecisionId> = self.stale().copied().collect();
        stale.sort_unstable();
        stale
    }

    /// The last position folded in.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The hash of the last event folded in (empty for an empty projection).
    pub fn head_hash(&self) -> &str {
        &self.head_hash
    }

    /// The last position recorded at or before `as_of` (0 if none).
    pub fn position_as_of(&self, as_of: DateTime<Utc>) -> u64 {
        let after = self.recorded.partition_point(|&(_, at)| at <= as_of);
        match self.recorded.get(after) {
            // The first change point recorded after as_of: everything before it counts.
            Some(&(position, _)) => position - 1,
            None => self.head,
        }
    }

    /// Brings the open-episode index up to date (cheap when little changed; a full pass after a
    /// rebuild). Call after folding and before saving.
    ///
    /// The decisions are worked out on every core when many changed.
    pub fn refresh_index(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for &at in &dirty {
            self.dirty_mark[at] = false;
        }
        let (decisions, head) = (&self.decisions, self.head);
        let open_of = |at: &usize| {
            let decision = &decisions[*at];
            let open = decision.view(head).and_then(|view| OpenEpisodes::of(&view));
            (decision.decision_id, open)
        };
        // Asking the machine for its cores reads several files (cgroups): only when there is
        // work to share, not after every append.
        let parts = dirty.len() / REFRESH_PART_DECISIONS_MIN;
        let threads = if parts > 1 {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZeroUsize::get)
                .min(parts)
        } else {
            1
        };
        let refreshed: Vec<Vec<(DecisionId, Option<OpenEpisodes>)>> = if threads == 1 {
            vec![dirty.iter().map(open_of).collect()]
        } else {
            std::thread::scope(|scope| {
                let parts: Vec<_> = dirty
                    .chunks(dirty.len().div_ceil(threads))
                    .map(|part| scope.spawn(move || part.iter().map(open_of).collect()))
                    .collect();
                parts
                    .into_iter()
                    .map(|part| {
                        part.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            })
        };
        for (decision_id, open) in refreshed.into_iter().flatten() {
            match open {
                Some(open) => {
                    self.open.insert(decision_id, open);
                }
                None => {
                    self.open.remove(&decision_id);
                }
            }
        }
    }

    /// The open episodes at the head, by decision, when the index answers exactly the question
    /// "open on `on` as known at `position`": it is fresh, `position` is the head and `on` is
    /// not before anything that occurred (so no episode closes or opens after `on`). `None`
    /// when it does not: then every decision must be looked at.
    pub fn open_index(
        &self,
        on: NaiveDate,
        position: u64,
    ) -> Option<impl Iterator<Item = (&DecisionId, &OpenEpisodes)>> {
        let exact = self.dirty.is_empty()
            && position == self.head
            && self.latest_occurred.is_none_or(|latest| on >= latest);
        exact.then(|| self.open.iter())
    }

    /// The latest `occurred_on` folded in.
    pub fn latest_occurred(&self) -> Option<NaiveDate> {
        self.latest_occurred
    }

    /// `(first position, recorded_at)` each time `recorded_at` changes along the log, in
    /// position order.
    pub fn recorded_changes(&self) -> &[(u64, DateTime<Utc>)] {
        &self.recorded
    }

    /// The open-episode index as it stands (fresh or not), in no particular order.
    pub fn indexed_open(&self) -> impl Iterator<Item = (&DecisionId, &OpenEpisodes)> {
        self.open.iter()
    }

    /// The decisions changed since the index was last refreshed, in no particular order.
    pub fn stale(&self) -> impl Iterator<Item = &DecisionId> {
        self.dirty.iter().map(|&at| &self.decisions[at].decision_id)
    }

    /// Puts a projection back together from its parts (as [`Projection::decisions`],
    /// [`Projection::head`], … give them), e.g. when loading a saved one. The parts are taken as
    /// they come, the decisions in any number of parts: the caller answers for them belonging
    /// together. `None` when a decision comes twice, or a stale one is not among them.
    pub fn from_parts(
        parts: ProjectionParts,
        decisions: Vec<Vec<DecisionFacts>>,
    ) -> Option<Projection> {
        let mut all = Vec::with_capacity(decisions.iter().map(Vec::len).sum());
        for part in decisions {
            all.extend(part);
        }
        // In id order (as a snapshot keeps them) each comes once; else the index tells.
        let by_id = OnceLock::new();
        let sorted = all.is_sorted_by(|a, b| a.decision_id < b.decision_id);
        if !sorted {
            let index = index_of(&all);
            if index.len() != all.len() {
                return None;
            }
            by_id.set(index).expect("a new OnceLock is empty");
        }
        let mut projection = Projection {
            decisions: all,
            by_id,
            sorted,
            head: parts.head,
            head_hash: parts.head_hash,
            latest_occurred: parts.latest_occurred,
            open: parts.open.into_iter().collect(),
            dirty: Vec::new(),
            dirty_mark: Vec::new(),
            recorded: parts.recorded,
        };
        for decision_id in parts.stale {
            let at = projection.place(decision_id)?;
            projection.mark_dirty(at);
        }
        Some(projection)
    }

    /// One decision's facts.
    pub fn decision(&self, decision_id: DecisionId) -> Option<&DecisionFacts> {
        self.place(decision_id).map(|at| &self.decisions[at])
    }

    /// One decision's facts and its place in [`Projection::decisions`]. Folding events keeps
    /// every place (a new decision goes last); a projection loaded or rebuilt may place them
    /// otherwise, so a caller that keeps places checks the id found there.
    pub fn decision_with_place(&self, decision_id: DecisionId) -> Option<(usize, &DecisionFacts)> {
        self.place(decision_id).map(|at| (at, &self.decisions[at]))
    }

    /// Where a decision is in `decisions`.
    fn place(&self, decision_id: DecisionId) -> Option<usize> {
        if self.sorted && self.by_id.get().is_none() {
            return self
                .decisions
                .binary_search_by_key(&decision_id, |d| d.decision_id)
                .ok();
        }
        self.by_id
            .get_or_init(|| index_of(&self.decisions))
            .get(&decision_id)
            .copied()
    }

    /// The index by id, to change it along with `decisions`.
    fn by_id_mut(&mut self) -> &mut ByDecision<usize> {
        if self.by_id.get().is_none() {
            let index = index_of(&self.decisions);
            self.by_id = OnceLock::from(index);
            self.sorted = false;
        }
        self.by_id
            .get_mut()
            .expect("the index was built just above")
    }

    /// Every decision, in no particular order.
    pub fn decisions(&self) -> impl Iterator<Item = &DecisionFacts> {
        self.decisions.iter()
    }

    /// How many decisions.
    pub fn len(&self) -> usize {
        self.decisions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }
}

/// Where each decision is in `decisions` (a decision that comes twice: the later place).
fn index_of(decisions: &[DecisionFacts]) -> ByDecision<usize> {
    let mut index = ByDecision::with_capacity_and_hasher(decisions.len(), IdHasher::default());
    for (at, decision) in decisions.iter().enumerate() {
        index.insert(decision.decision_id, at);
    }
    index
}

/// `Sex` as a bool (true = male) in saved projections (the identity crate has no serde, on purpose).
mod sex_code {
    use domain::Sex;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sex: &Sex, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*sex == Sex::Male)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Sex, D::Error> {
        Ok(if bool::deserialize(deserializer)? {
            Sex::Male
        } else {
            Sex::Female
        })
    }
}
