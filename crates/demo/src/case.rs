//! One decision slot's life, generated alone from the slot's own dice: the decision, its order,
//! the work while it waits, execution or ending, interruptions, later endings, the reports to
//! IVO it was due — and, when it expired unexecuted, the decision that replaced it.
//!
//! # How the streams stay valid
//!
//! The life is drawn in `occurred_on` order, obeying spec §6 by construction. Recording moments
//! are then laid on top so that **every prefix of a stream in recorded order obeys §6 too**: an
//! event is never recorded before the last status event (decision, execution, interruption,
//! ending) that occurred before it, and events of one day keep their order. Only notes may be
//! registered late past later events — a note changes no status and may follow anything. So the
//! store accepts the stream whether it is imported whole or in chunks, and a report *as of* any
//! moment sees a stream that made sense at that moment. Cutting at `until` is cutting a prefix.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use domain::event::{
    Avslutad, CostEstimated, DecisionGranted, DelayReasonRecorded, EventRetracted, Interrupted,
    NoteRecorded, OfferDeclined, OfferMade, OrderSent, Partial, ReportedToIvo, Scope, Verkställd,
};
use domain::{
    DecisionId, DelayReason, EndReason, EventData, EventId, IdentityNumber, Law, NewEvent,
    NoteKind, Person, Quarter, ReportKind,
};

use crate::catalogue::{self, EKONOM, Group, IVO_RAPPORTOR, Profile, text};
use crate::days::{
    self, DecisionDays, days_between, minus_days, plus_days, plus_months, working_on_or_after,
    working_on_or_before,
};
use crate::dice::Dice;

/// Share of decisions with an erroneous note or offer, retracted a few days later.
const RETRACTION_SHARE: f64 = 0.006;
/// Share of reports due to IVO that the municipality misses.
const MISSED_REPORT_SHARE: f64 = 0.035;
/// Share of executions the utförare reports weeks late.
const LATE_EXECUTION_SHARE: f64 = 0.06;
/// Share of decisions registered weeks after they were made.
const LATE_DECISION_SHARE: f64 = 0.02;
/// Share of notes documented weeks late.
const LATE_NOTE_SHARE: f64 = 0.05;
/// Share of decisions that end before execution within three months.
const EARLY_END_SHARE: f64 = 0.035;
/// Share of long waits that end executed; the rest end otherwise.
const WAIT_EXECUTED_SHARE: f64 = 0.78;
/// Share of expired, unexecuted decisions followed the next day by a new one.
const REPLACED_SHARE: f64 = 0.75;
/// Share of interruptions not resumed within three months.
const LONG_INTERRUPTION_SHARE: f64 = 0.35;

/// What the generator needs to know about the whole run.
pub(crate) struct World {
    pub(crate) seed: u64,
    /// Decision slots: the number of decisions asked for.
    pub(crate) slots: u64,
    pub(crate) days: DecisionDays,
    pub(crate) until: DateTime<Utc>,
    pub(crate) until_date: NaiveDate,
    sol: Vec<(u32, &'static Profile)>,
    lss: Vec<(u32, &'static Profile)>,
}

impl World {
    /// A run of `slots` decisions made from `first` to `last`, nothing recorded after `until`.
    pub(crate) fn new(
        seed: u64,
        slots: u64,
        first: NaiveDate,
        last: NaiveDate,
        until: DateTime<Utc>,
    ) -> World {
        let weights = |law| -> Vec<(u32, &'static Profile)> {
            Profile::of_law(law).map(|p| (p.weight, p)).collect()
        };
        let days = DecisionDays::new(first, last);
        World {
            seed,
            slots: if days.is_empty() { 0 } else { slots },
            days,
            until,
            until_date: domain::time::business_date(until),
            sol: weights(Law::SoL),
            lss: weights(Law::Lss),
        }
    }

    /// No event of slot `slot` or any later slot is recorded before this (UTC) day.
    pub(crate) fn lower_bound(&self, slot: u64) -> NaiveDate {
        self.days.at(slot as f64 / self.slots as f64)
    }
}

/// Buffers reused from slot to slot, so a run allocates little beyond the events it hands out.
#[derive(Default)]
pub(crate) struct Scratch {
    drafts: Vec<Vec<Draft>>,
}

impl Scratch {
    fn take(&mut self) -> Vec<Draft> {
        self.drafts.pop().unwrap_or_default()
    }

    fn give(&mut self, mut drafts: Vec<Draft>) {
        drafts.clear();
        self.drafts.push(drafts);
    }
}

/// How a waiting episode closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    Executed,
    Ended(EndReason),
}

/// An event drawn but not yet given its recording moment.
struct Draft {
    occurred_on: NaiveDate,
    /// Its place in the order drawn.
    drawn: u32,
    /// Set by [`Stream::finish`].
    recorded: DateTime<Utc>,
    late_days: i64,
    actor: &'static str,
    event_id: EventId,
    data: EventData,
}

/// The order of events of one day: the decision first, retractions last.
fn rank(data: &EventData) -> u8 {
    match data {
        EventData::DecisionGranted(_) => 0,
        EventData::OrderSent(_) => 1,
        EventData::CostEstimated(_) => 2,
        EventData::DelayReasonRecorded(_) => 3,
        EventData::OfferMade(_) => 4,
        EventData::OfferDeclined(_) => 5,
        EventData::NoteRecorded(_) => 6,
        EventData::Verkställd(_) | EventData::Interrupted(_) => 7,
        EventData::Avslutad(_) => 8,
        EventData::ReportedToIvo(_) => 9,
        EventData::EventRetracted(_) => 10,
    }
}

/// One decision's stream while it is drawn.
struct Stream {
    decision_id: DecisionId,
    decided_on: NaiveDate,
    drafts: Vec<Draft>,
}

impl Stream {
    fn new(dice: &mut Dice, decided_on: NaiveDate, drafts: Vec<Draft>) -> Stream {
        Stream {
            decision_id: DecisionId::from_uuid(dice.uuid()),
            decided_on,
            drafts,
        }
    }

    fn push(
        &mut self,
        dice: &mut Dice,
        on: NaiveDate,
        actor: &'static str,
        data: EventData,
    ) -> EventId {
        self.push_late(dice, on, actor, data, 0)
    }

    fn push_late(
        &mut self,
        dice: &mut Dice,
        on: NaiveDate,
        actor: &'static str,
        data: EventData,
        late_days: i64,
    ) -> EventId {
        let event_id = EventId::from_uuid(dice.uuid());
        let drawn = u32::try_from(self.drafts.len()).expect("a stream holds few events");
        self.drafts.push(Draft {
            occurred_on: on,
            drawn,
            recorded: DateTime::<Utc>::MIN_UTC,
            late_days,
            actor,
            event_id,
            data,
        });
        event_id
    }

    /// Puts the drafts in `occurred_on` order, one day's events by rank, otherwise as drawn.
    fn sort(&mut self) {
        // Unique keys (the drawing order breaks ties): an in-place sort that is still stable.
        self.drafts
            .sort_unstable_by_key(|d| (d.occurred_on, rank(&d.data), d.drawn));
    }

    /// The first day the decision is executed or ended, if it is.
    fn first_close(&self) -> Option<NaiveDate> {
        self.drafts
            .iter()
            .filter(|d| match &d.data {
                EventData::Verkställd(v) => v.partial.is_none(),
                EventData::Avslutad(_) => true,
                _ => false,
            })
            .map(|d| d.occurred_on)
            .min()
    }

    /// Gives every draft its recording moment (see the module documentation). `floor` is a
    /// moment the first event must follow; `clamp_first` records the decision itself by `until`
    /// at the latest. Returns when the decision was recorded.
    fn finish(
        &mut self,
        dice: &mut Dice,
        until: DateTime<Utc>,
        floor: Option<DateTime<Utc>>,
        clamp_first: bool,
    ) -> DateTime<Utc> {
        self.sort();
        let mut floor = floor;
        for (index, draft) in self.drafts.iter_mut().enumerate() {
            let natural = days::recorded_moment(draft.occurred_on, draft.late_days, dice);
            let mut recorded = match floor {
                Some(f) if natural <= f => f + Duration::seconds(dice.range(1, 300)),
                _ => natural,
            };
            if index == 0 && clamp_first && recorded > until {
                recorded = until;
            }
            let late_note = draft.late_days > 0 && matches!(draft.data, EventData::NoteRecorded(_));
            if !late_note {
                floor = Some(recorded);
            }
            draft.recorded = recorded;
        }
        self.drafts.first().map_or(until, |grant| grant.recorded)
    }

    /// Hands the finished events recorded by `until` to `sink`, in stream order, and returns
    /// the emptied buffer.
    fn emit(self, until: DateTime<Utc>, sink: &mut dyn FnMut(NewEvent)) -> Vec<Draft> {
        let mut drafts = self.drafts;
        for draft in drafts.drain(..) {
            if draft.recorded <= until {
                sink(NewEvent {
                    event_id: Some(draft.event_id),
                    decision_id: self.decision_id,
                    occurred_on: draft.occurred_on,
                    actor: Some(draft.actor.to_owned()),
                    recorded_at: Some(draft.recorded),
                    data: draft.data,
                });
            }
        }
        drafts
    }
}

/// A waiting episode, as spec §6 defines it, for the reports it is due.
struct Episode {
    kind: ReportKind,
    reference_date: NaiveDate,
    closed: Option<NaiveDate>,
}

impl Episode {
    /// What the episode is to be reported as in `quarter` (spec §6, the IVO worklist).
    fn due_in(&self, quarter: Quarter) -> Option<ReportKind> {
        let r = self.reference_date;
        let reportable = self.closed.is_none_or(|closed| closed > r);
        if !reportable || r > quarter.end() {
            return None;
        }
        if r >= quarter.start() {
            return Some(self.kind);
        }
        match self.closed {
            None => Some(ReportKind::FollowUp),
            Some(on) if on > quarter.end() => Some(ReportKind::FollowUp),
            Some(on) if on >= quarter.start() => Some(ReportKind::Final),
            Some(_) => None,
        }
    }
}

/// The person and the people around one decision.
struct Life<'w> {
    world: &'w World,
    dice: Dice,
    profile: &'static Profile,
    age: u32,
    handlaggare: &'static str,
    utforare: &'static str,
    counterpart: &'static str,
    scope: Option<Scope>,
    cost: f64,
}

/// Generates slot `slot`, handing each event to `sink` with its stream (0 for the slot's own
/// decision, 1 for one replacing it), each stream in order. A replacing decision is drawn only
/// when `allow_replacement`; returns whether one was made (it takes the next slot's place).
pub(crate) fn generate(
    world: &World,
    slot: u64,
    allow_replacement: bool,
    scratch: &mut Scratch,
    sink: &mut dyn FnMut(u32, NewEvent),
) -> bool {
    let mut dice = Dice::for_slot(world.seed, slot);
    let law = if dice.chance(catalogue::SOL_SHARE) {
        Law::SoL
    } else {
        Law::Lss
    };
    let profile = dice.weighted(match law {
        Law::SoL => &world.sol,
        Law::Lss => &world.lss,
    });
    let decided_on = world
        .days
        .at((slot as f64 + dice.unit()) / world.slots as f64);
    let (lo, hi) = dice.weighted_by(profile.ages, |&(weight, lo, hi)| (weight, (lo, hi)));
    let age = dice.range(i64::from(lo), i64::from(hi)) as u32;
    let person = person(&mut dice, decided_on, age);
    let area = profile.area_for(age);
    let handlaggare = dice.pick(catalogue::handlaggare(area));
    let utforare = dice.pick(profile.utforare);
    let counterpart = text::counterpart(age < 18, dice.next());
    let scope = profile.scope.map(|(unit, lo, hi)| Scope {
        amount: dice.range(i64::from(lo), i64::from(hi)) as f64,
        unit: unit.to_owned(),
    });
    let cost =
        (dice.range(i64::from(profile.cost.0), i64::from(profile.cost.1)) / 100 * 100) as f64;
    let forhandsbesked = dice.chance(profile.forhandsbesked);
    let grant = DecisionGranted {
        person,
        law,
        insats: profile.insats,
        forhandsbesked,
        scope: scope.clone(),
        area: Some(area),
        unit: Some(catalogue::unit(area, law).to_owned()),
        replaces: None,
    };
    let mut life = Life {
        world,
        dice,
        profile,
        age,
        handlaggare,
        utforare,
        counterpart,
        scope,
        cost,
    };
    let mut primary = Stream::new(&mut life.dice, decided_on, scratch.take());
    let late = if life.dice.chance(LATE_DECISION_SHARE) {
        life.dice.range(7, 20)
    } else {
        0
    };
    primary.push_late(
        &mut life.dice,
        decided_on,
        handlaggare,
        EventData::DecisionGranted(grant),
        late,
    );
    let ordered_on = life.order_day(decided_on);
    life.order(&mut primary, ordered_on);
    if forhandsbesked {
        life.note(
            &mut primary,
            decided_on,
            NoteKind::Other,
            "Förhandsbesked: den enskilde planerar att flytta till kommunen.".to_owned(),
        );
    }

    let r = plus_months(decided_on, 3);
    let mut replacement = None;
    if !life.dice.chance(profile.wait) {
        if life.dice.chance(EARLY_END_SHARE) {
            let on = working_on_or_before(plus_days(
                decided_on,
                life.dice.range(5, days_between(decided_on, r) - 1),
            ));
            let on = on.max(plus_days(ordered_on, 1));
            let reason = life.end_reason();
            life.waiting(&mut primary, decided_on, on, false, false);
            life.close(&mut primary, on, Close::Ended(reason));
        } else {
            let most = profile.quick_days.1.min(days_between(decided_on, r));
            let executed_on = working_on_or_after(plus_days(
                decided_on,
                life.dice.range(profile.quick_days.0, most),
            ))
            .min(r)
            .max(ordered_on);
            if profile.partial
                && life.dice.chance(0.08)
                && days_between(decided_on, executed_on) >= 4
            {
                let on = plus_days(
                    decided_on,
                    life.dice
                        .range(1, days_between(decided_on, executed_on) - 2),
                );
                life.partial(&mut primary, on);
            }
            if life.dice.chance(0.08) {
                let on = working_on_or_after(plus_days(decided_on, life.dice.range(0, 5)));
                life.cost(&mut primary, on);
            }
            life.waiting(&mut primary, decided_on, executed_on, false, true);
            life.close(&mut primary, executed_on, Close::Executed);
            life.after_execution(&mut primary, executed_on);
        }
    } else {
        let extra = life.long_wait_days();
        let mut close_on = working_on_or_after(plus_days(r, extra));
        let mut close = if life.dice.chance(WAIT_EXECUTED_SHARE) {
            Close::Executed
        } else {
            Close::Ended(life.end_reason())
        };
        if profile.partial && life.dice.chance(0.65) {
            let on = working_on_or_after(plus_days(decided_on, life.dice.range(3, 20)));
            life.partial(&mut primary, on);
        }
        if let Some(months) = profile.validity_months {
            let expires = minus_days(plus_months(decided_on, months), 1);
            if close_on > expires {
                if allow_replacement && life.dice.chance(REPLACED_SHARE) {
                    replacement = Some((months, close_on, close));
                }
                close_on = expires;
                close = Close::Ended(EndReason::Expired);
            }
        }
        life.waiting(
            &mut primary,
            decided_on,
            close_on,
            true,
            close == Close::Executed,
        );
        life.close(&mut primary, close_on, close);
        if close == Close::Executed {
            life.after_execution(&mut primary, close_on);
        }
    }
    if life.dice.chance(RETRACTION_SHARE) {
        life.mistake(&mut primary);
    }
    life.reports(&mut primary);
    let expired_on = primary.first_close();
    let primary_id = primary.decision_id;
    let decision_recorded = primary.finish(&mut life.dice, world.until, None, true);
    // The replacing decision repeats the grant; clone it only then.
    let grant = replacement.and_then(|_| match primary.drafts.first().map(|d| &d.data) {
        Some(EventData::DecisionGranted(grant)) => Some(grant.clone()),
        _ => None,
    });
    scratch.give(primary.emit(world.until, &mut |event| sink(0, event)));

    let mut replaced = false;
    if let (Some((months, planned_on, planned)), Some(expired_on), Some(grant)) =
        (replacement, expired_on, grant)
    {
        let planned = Planned {
            replaces: primary_id,
            expired_on,
            months,
            close_on: planned_on,
            close: planned,
            replaced_recorded: decision_recorded,
        };
        let stream = life.replacement(grant, planned, scratch.take());
        if stream
            .drafts
            .first()
            .is_some_and(|g| g.recorded <= world.until)
        {
            replaced = true;
            scratch.give(stream.emit(world.until, &mut |event| sink(1, event)));
        } else {
            scratch.give(stream.drafts);
        }
    }
    replaced
}

/// What is known of an expired decision when a new one replaces it.
struct Planned {
    replaces: DecisionId,
    expired_on: NaiveDate,
    /// How long a decision of this insats is valid for.
    months: i32,
    /// When the expired decision would have closed.
    close_on: NaiveDate,
    close: Close,
    /// When the expired decision was recorded.
    replaced_recorded: DateTime<Utc>,
}

/// An IVO reserve number `YYYYMMDD-TNNN`, or `YYYYMMDD-TFNN` for a protected identity, with a
/// birth date making the person `age` on `decided_on`. Never a personnummer: those may belong
/// to real people.
fn person(dice: &mut Dice, decided_on: NaiveDate, age: u32) -> Person {
    let birthday = plus_months(decided_on, -(age as i32) * 12);
    let born = minus_days(birthday, dice.range(0, 364));
    let sex = dice.below(10);
    let protected = dice.chance(catalogue::PROTECTED_SHARE);
    let date = format!("{:04}{:02}{:02}", born.year(), born.month(), born.day());
    let text = if protected {
        format!("{date}-TF{sex}{}", dice.below(10))
    } else {
        format!("{date}-T{}{sex}{}", dice.below(10), dice.below(10))
    };
    Person {
        id: IdentityNumber::parse(&text, decided_on)
            .expect("a reserve number with a real birth date before the decision parses"),
        protected,
    }
}

impl Life<'_> {
    fn end_reason(&mut self) -> EndReason {
        let reasons = catalogue::end_reasons(self.profile.is_elderly_care(), self.age < 18);
        self.dice.weighted(reasons)
    }

    /// Days past the reference date a long wait lasts: 3–6, 6–12 or 12–24 months in all.
    fn long_wait_days(&mut self) -> i64 {
        let buckets: &[(u32, (i64, i64))] = if self.profile.group == Group::Housing {
            &[(40, (1, 90)), (40, (91, 270)), (20, (271, 640))]
        } else {
            &[(50, (1, 90)), (35, (91, 270)), (15, (271, 640))]
        };
        let (lo, hi) = self.dice.weighted(buckets);
        self.dice.range(lo, hi)
    }

    /// A working day in `[lo, hi]`, or a day there when it has none; `None` when it is empty.
    fn day_within(&mut self, lo: NaiveDate, hi: NaiveDate) -> Option<NaiveDate> {
        if hi < lo {
            return None;
        }
        let day = plus_days(lo, self.dice.range(0, days_between(lo, hi)));
        let after = working_on_or_after(day);
        if after <= hi {
            return Some(after);
        }
        let before = working_on_or_before(day);
        Some(if before >= lo { before } else { day })
    }

    fn late_note_days(&mut self) -> i64 {
        if self.dice.chance(LATE_NOTE_SHARE) {
            self.dice.range(7, 28)
        } else {
            0
        }
    }

    fn note(&mut self, s: &mut Stream, on: NaiveDate, kind: NoteKind, text: String) {
        let late = self.late_note_days();
        let actor = match kind {
            NoteKind::Summary | NoteKind::Planning => self.utforare,
            _ => self.handlaggare,
        };
        s.push_late(
            &mut self.dice,
            on,
            actor,
            EventData::NoteRecorded(NoteRecorded { kind, text }),
            late,
        );
    }

    /// When an order is sent: the same day or within two days mostly, sometimes a week or two.
    fn order_day(&mut self, from: NaiveDate) -> NaiveDate {
        let delay = if self.dice.chance(0.03) {
            self.dice.range(7, 14)
        } else {
            self.dice.range(0, 2)
        };
        working_on_or_after(plus_days(from, delay))
    }

    fn order(&mut self, s: &mut Stream, on: NaiveDate) {
        let provider = self.dice.pick(self.profile.providers).to_owned();
        s.push(
            &mut self.dice,
            on,
            self.handlaggare,
            EventData::OrderSent(OrderSent { provider }),
        );
    }

    fn cost(&mut self, s: &mut Stream, on: NaiveDate) {
        s.push(
            &mut self.dice,
            on,
            EKONOM,
            EventData::CostEstimated(CostEstimated {
                sek_per_month: self.cost,
            }),
        );
    }

    /// Part of the granted hours start (IVO's FAQ: two of five hours executed).
    fn partial(&mut self, s: &mut Stream, on: NaiveDate) {
        let Some(scope) = &self.scope else { return };
        if scope.amount < 2.0 {
            return;
        }
        let share = 0.25 + 0.45 * self.dice.unit();
        let executed = (scope.amount * share)
            .round()
            .clamp(1.0, scope.amount - 1.0);
        let partial = Partial {
            executed,
            granted: scope.amount,
            unit: scope.unit.clone(),
        };
        s.push(
            &mut self.dice,
            on,
            self.utforare,
            EventData::Verkställd(Verkställd {
                partial: Some(partial),
            }),
        );
    }

    fn close(&mut self, s: &mut Stream, on: NaiveDate, close: Close) {
        match close {
            Close::Executed => {
                let late = if self.dice.chance(LATE_EXECUTION_SHARE) {
                    self.dice.range(7, 35)
                } else {
                    0
                };
                s.push_late(
                    &mut self.dice,
                    on,
                    self.utforare,
                    EventData::Verkställd(Verkställd { partial: None }),
                    late,
                );
            }
            Close::Ended(reason) => {
                let text = self.dice.chance(0.85).then(|| text::end(reason).to_owned());
                s.push(
                    &mut self.dice,
                    on,
                    self.handlaggare,
                    EventData::Avslutad(Avslutad { reason, text }),
                );
            }
        }
    }

    /// The work while an episode that started on `start` waits until `close_on` (exclusive):
    /// delay reasons, contacts at two months and each quarter, the utförare's summaries before
    /// each reference date, impact and planning notes, cost, offers — declined or, when
    /// `executes`, finally accepted — and compensating offers.
    fn waiting(
        &mut self,
        s: &mut Stream,
        start: NaiveDate,
        close_on: NaiveDate,
        reportable: bool,
        executes: bool,
    ) {
        let span = days_between(start, close_on);
        if span < 2 {
            return;
        }
        let last = minus_days(close_on, 1);
        let r = plus_months(start, 3);
        let profile = self.profile;
        if (reportable || (span > 30 && self.dice.chance(0.35)))
            && let Some(on) = self.day_within(plus_days(start, 7), plus_days(start, 45).min(last))
        {
            let reason = self.dice.weighted(profile.delay_reasons());
            self.delay(s, on, reason);
        }
        // Contact within two weeks after two months, then each quarter (seed 001).
        for k in 0.. {
            let due = plus_months(start, 2 + 3 * k);
            if due > last {
                break;
            }
            let slack = if self.dice.chance(0.08) {
                self.dice.range(15, 40)
            } else {
                self.dice.range(0, 13)
            };
            let on = working_on_or_after(plus_days(due, slack));
            if on <= last {
                let after_interruption = s
                    .drafts
                    .iter()
                    .any(|d| d.occurred_on == start && matches!(d.data, EventData::Interrupted(_)));
                let text = text::contact(k == 0, after_interruption, self.counterpart, profile);
                self.note(s, on, NoteKind::Contact, text);
            }
        }
        if reportable {
            // The summary by the last working day before each reference date (seed 001).
            for k in 1.. {
                let reference = plus_months(start, 3 * k);
                if reference > last {
                    break;
                }
                if self.dice.chance(0.07) {
                    continue;
                }
                let on = working_on_or_before(minus_days(reference, 1 + self.dice.range(0, 4)));
                if on > start {
                    let text = text::summary(profile, self.dice.next());
                    self.note(s, on, NoteKind::Summary, text);
                }
            }
            if self.dice.chance(0.6)
                && let Some(on) = self.day_within(minus_days(r, 20), plus_days(r, 20).min(last))
            {
                let text = text::impact(profile, self.age).to_owned();
                self.note(s, on, NoteKind::Impact, text);
            }
            if self.dice.chance(0.45)
                && let Some(on) = self.day_within(plus_days(start, 20), last)
            {
                let text = text::planning(profile, self.dice.next()).to_owned();
                self.note(s, on, NoteKind::Planning, text);
            }
            if self.dice.chance(0.75)
                && let Some(on) = self.day_within(minus_days(r, 14), plus_days(r, 21).min(last))
            {
                self.cost(s, on);
            }
            if self.dice.chance(0.35)
                && let Some(on) = self.day_within(
                    plus_days(start, 21),
                    plus_days(r, 30).min(minus_days(last, 12)),
                )
            {
                let description = text::compensating_offer(profile).to_owned();
                self.offer(s, on, last, description, true, 0.4);
            }
        }
        if profile.is_offered() {
            let declined = if reportable {
                self.dice.weighted(&[(35, 0), (40, 1), (20, 2), (5, 3)])
            } else if span > 30 && self.dice.chance(0.15) {
                1
            } else {
                0
            };
            let accepted_from = if executes {
                minus_days(close_on, self.dice.range(7, 30))
            } else {
                last
            };
            for _ in 0..declined {
                if let Some(on) =
                    self.day_within(plus_days(start, 14), minus_days(accepted_from, 12))
                {
                    let description = text::offer(profile, self.dice.next());
                    let share = profile.decline_share().max(0.8);
                    self.offer(s, on, last, description, false, share);
                }
            }
            if executes && accepted_from > start {
                let description = text::offer(profile, self.dice.next());
                s.push(
                    &mut self.dice,
                    working_on_or_before(accepted_from).max(plus_days(start, 1)),
                    self.utforare,
                    EventData::OfferMade(OfferMade {
                        description,
                        compensating: false,
                    }),
                );
            }
        }
    }

    fn delay(&mut self, s: &mut Stream, on: NaiveDate, reason: DelayReason) {
        let text = self
            .dice
            .chance(0.8)
            .then(|| text::delay(reason, self.profile));
        s.push(
            &mut self.dice,
            on,
            self.handlaggare,
            EventData::DelayReasonRecorded(DelayReasonRecorded { reason, text }),
        );
    }

    /// An offer on `on`, declined with probability `decline` by `last` (naming the offer, mostly),
    /// and then, often, a delay reason saying so.
    fn offer(
        &mut self,
        s: &mut Stream,
        on: NaiveDate,
        last: NaiveDate,
        description: String,
        compensating: bool,
        decline: f64,
    ) {
        let actor = if compensating {
            self.handlaggare
        } else {
            self.utforare
        };
        let offer = s.push(
            &mut self.dice,
            on,
            actor,
            EventData::OfferMade(OfferMade {
                description,
                compensating,
            }),
        );
        if !self.dice.chance(decline) {
            return;
        }
        let Some(declined_on) = self.day_within(plus_days(on, 1), plus_days(on, 10).min(last))
        else {
            return;
        };
        let offer_event_id = self.dice.chance(0.92).then_some(offer);
        let reason = text::decline(self.profile.group, self.dice.next()).to_owned();
        s.push(
            &mut self.dice,
            declined_on,
            self.handlaggare,
            EventData::OfferDeclined(OfferDeclined {
                reason,
                offer_event_id,
            }),
        );
        if !compensating
            && self.dice.chance(0.5)
            && let Some(on) = self.day_within(
                plus_days(declined_on, 1),
                plus_days(declined_on, 5).min(last),
            )
        {
            let reason = self.dice.weighted(&[
                (60, DelayReason::DeclinedOffer),
                (40, DelayReason::IndividualWishes),
            ]);
            self.delay(s, on, reason);
        }
    }

    /// After execution on `executed_on`: perhaps an interruption (resumed within three months,
    /// or a reportable one), perhaps an ending later on.
    fn after_execution(&mut self, s: &mut Stream, executed_on: NaiveDate) {
        let mut running_since = executed_on;
        if self.dice.chance(self.profile.interrupt) {
            let on = working_on_or_after(plus_days(executed_on, self.dice.range(30, 540)));
            let reason = text::interruption(self.profile).to_owned();
            s.push(
                &mut self.dice,
                on,
                self.utforare,
                EventData::Interrupted(Interrupted { reason }),
            );
            let r = plus_months(on, 3);
            let (close_on, close) = if self.dice.chance(LONG_INTERRUPTION_SHARE) {
                let close_on = working_on_or_after(plus_days(r, self.dice.range(1, 300)));
                if self.dice.chance(0.8) {
                    (close_on, Close::Executed)
                } else {
                    (close_on, Close::Ended(self.end_reason()))
                }
            } else {
                let back = plus_days(on, self.dice.range(7, days_between(on, r) - 1));
                (working_on_or_after(back).min(r), Close::Executed)
            };
            // A new order from the interruption's first day (seed 001), before it resumes.
            let ordered_on = self.order_day(plus_days(on, 1)).min(close_on);
            self.order(s, ordered_on);
            let reportable = close_on > r;
            self.waiting(s, on, close_on, reportable, close == Close::Executed);
            self.close(s, close_on, close);
            if close != Close::Executed {
                return;
            }
            running_since = close_on;
        }
        if self.dice.chance(self.profile.later_end) {
            let on = working_on_or_after(plus_days(running_since, self.dice.range(60, 1200)));
            let reason = self.end_reason();
            self.close(s, on, Close::Ended(reason));
        }
    }

    /// A note or an offer recorded on the wrong decision, retracted a few days later.
    fn mistake(&mut self, s: &mut Stream) {
        let start = s.decided_on;
        let before = s
            .first_close()
            .map_or(plus_days(start, 60), |closed| minus_days(closed, 1));
        let Some(on) = self.day_within(plus_days(start, 1), before.min(plus_days(start, 60)))
        else {
            return;
        };
        let (data, what) = if self.dice.chance(0.6) {
            let text = "Telefonsamtal med anhörig om tider för hemtjänsten.".to_owned();
            (
                EventData::NoteRecorded(NoteRecorded {
                    kind: NoteKind::Contact,
                    text,
                }),
                "Anteckningen",
            )
        } else {
            let description = format!("Erbjudande om plats på {}.", text::place(self.dice.next()));
            (
                EventData::OfferMade(OfferMade {
                    description,
                    compensating: false,
                }),
                "Erbjudandet",
            )
        };
        let target = s.push(&mut self.dice, on, self.handlaggare, data);
        let retracted_on = working_on_or_after(plus_days(on, self.dice.range(1, 14)));
        s.push(
            &mut self.dice,
            retracted_on,
            self.handlaggare,
            EventData::EventRetracted(EventRetracted {
                event_id: target,
                reason: format!("{what} registrerades på fel beslut; det gäller en annan enskild."),
            }),
        );
    }

    /// The reports to IVO each reportable episode is due, in the quarters they are due
    /// (spec §6), made in the reporting month — a few missed on purpose.
    fn reports(&mut self, s: &mut Stream) {
        s.sort();
        let mut episodes: Vec<Episode> = Vec::new();
        for draft in &s.drafts {
            let open = |kind, start| Episode {
                kind,
                reference_date: plus_months(start, 3),
                closed: None,
            };
            match &draft.data {
                EventData::DecisionGranted(_) => {
                    episodes.push(open(ReportKind::New, draft.occurred_on));
                }
                EventData::Interrupted(_) => {
                    episodes.push(open(ReportKind::NewInterruption, draft.occurred_on));
                }
                EventData::Verkställd(Verkställd { partial: None }) | EventData::Avslutad(_) => {
                    if let Some(episode) = episodes.last_mut().filter(|e| e.closed.is_none()) {
                        episode.closed = Some(draft.occurred_on);
                    }
                }
                _ => {}
            }
        }
        for episode in &episodes {
            let mut quarter = Quarter::containing(episode.reference_date);
            while quarter.start() <= self.world.until_date {
                let Some(kind) = episode.due_in(quarter) else {
                    break;
                };
                if !self.dice.chance(MISSED_REPORT_SHARE) {
                    let due = quarter.ivo_report_due();
                    let on = working_on_or_before(minus_days(due, self.dice.range(0, 21)));
                    s.push(
                        &mut self.dice,
                        on,
                        IVO_RAPPORTOR,
                        EventData::ReportedToIvo(ReportedToIvo {
                            kind,
                            quarter,
                            reference_date: episode.reference_date,
                        }),
                    );
                }
                quarter = quarter.next();
            }
        }
    }

    /// The decision granted the day after `expired_on` to replace the expired one (seed 001:
    /// a new reporting period begins, noting the earlier decision was never executed).
    fn replacement(&mut self, grant: DecisionGranted, plan: Planned, drafts: Vec<Draft>) -> Stream {
        let decided_on = plus_days(plan.expired_on, 1);
        let mut s = Stream::new(&mut self.dice, decided_on, drafts);
        let grant = DecisionGranted {
            forhandsbesked: false,
            replaces: Some(plan.replaces),
            ..grant
        };
        let (months, planned_on, planned) = (plan.months, plan.close_on, plan.close);
        s.push(
            &mut self.dice,
            decided_on,
            self.handlaggare,
            EventData::DecisionGranted(grant),
        );
        self.note(
            &mut s,
            decided_on,
            NoteKind::Planning,
            "Nytt beslut dagen efter att det tidigare beslutet löpt ut. Det tidigare beslutet \
             var inte verkställt."
                .to_owned(),
        );
        let ordered_on = self.order_day(decided_on);
        self.order(&mut s, ordered_on);
        let latest = minus_days(plus_months(decided_on, months), 2);
        let close_on = working_on_or_before(planned_on.clamp(plus_days(decided_on, 14), latest));
        let reportable = close_on > plus_months(decided_on, 3);
        self.waiting(
            &mut s,
            decided_on,
            close_on,
            reportable,
            planned == Close::Executed,
        );
        self.close(&mut s, close_on, planned);
        if planned == Close::Executed {
            self.after_execution(&mut s, close_on);
        }
        self.reports(&mut s);
        s.finish(
            &mut self.dice,
            self.world.until,
            Some(plan.replaced_recorded),
            false,
        );
        s
    }
}
