//! The stream rules of spec §6, as one pure function: given a decision's stream and new events,
//! accept, or refuse naming the event and the rule it breaks.
//!
//! Rules read a stream in `occurred_on` order, ties broken by position, so a late-registered
//! event is checked in its place, and an event already accepted can be broken by one inserted
//! before it. Retracted events (by a retraction that is itself not retracted) are left out; a
//! retraction is refused when the stream without its target would break a rule.
//!
//! The execution status fold ([`next_status`]) is the one state machine of a decision; the
//! projections use the same function, so the rules and the reports can never disagree.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;

use crate::event::{EventData, EventType};
use crate::ids::{DecisionId, EventId};

/// One rule of spec §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The stream begins with `DecisionGranted`.
    BeginsWithDecision,
    /// The stream has exactly one `DecisionGranted`.
    ExactlyOneDecision,
    /// Nothing occurs before the decision date.
    NothingBeforeDecision,
    /// `Interrupted` only while executed.
    InterruptedOnlyWhileExecuted,
    /// `Verkställd` only while not (fully) executed.
    VerkställdOnlyWhileNotExecuted,
    /// After `Avslutad` only `ReportedToIvo`, `NoteRecorded` and `EventRetracted`.
    NothingAfterAvslutad,
    /// `occurred_on` not after the date it is recorded.
    NotAfterRecorded,
    /// `replaces` names an existing decision.
    ReplacesExistingDecision,
    /// `EventRetracted` names an event of the same stream that is not already retracted.
    RetractionNamesEventInStream,
    /// The stream without the retracted event still obeys the rules.
    RetractionKeepsStreamValid,
    /// `OfferDeclined.offer_event_id`, when given, names an offer of the same stream.
    DeclineNamesOffer,
}

impl Rule {
    /// The rule in words, as spec §6 states it.
    pub const fn describe(self) -> &'static str {
        match self {
            Rule::BeginsWithDecision => "the stream begins with DecisionGranted",
            Rule::ExactlyOneDecision => "the stream has exactly one DecisionGranted",
            Rule::NothingBeforeDecision => "nothing occurs before the decision date",
            Rule::InterruptedOnlyWhileExecuted => "Interrupted only while executed",
            Rule::VerkställdOnlyWhileNotExecuted => "Verkställd only while not (fully) executed",
            Rule::NothingAfterAvslutad => {
                "after Avslutad only ReportedToIvo, NoteRecorded and EventRetracted"
            }
            Rule::NotAfterRecorded => "occurred_on not after the date it is recorded",
            Rule::ReplacesExistingDecision => "replaces names an existing decision",
            Rule::RetractionNamesEventInStream => {
                "EventRetracted names an event of the same stream, not already retracted"
            }
            Rule::RetractionKeepsStreamValid => {
                "the stream without the retracted event still obeys the rules"
            }
            Rule::DeclineNamesOffer => "OfferDeclined names an offer of the same stream",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// An event as the rules see it: its id, its two dates, its type and the few fields of its data
/// the rules read. Small and owned (44 bytes), so that a store can keep every stream it checks
/// against in this form rather than as decoded events (about 440 bytes each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEvent {
    /// The event's id.
    pub event_id: EventId,
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// The business date (Stockholm) it is, or was, recorded on.
    pub recorded_on: NaiveDate,
    /// Its type.
    pub event_type: EventType,
    /// What it does to the execution status.
    pub change: StatusChange,
    /// What it names, if anything the rules check.
    pub names: Names,
}

/// What an event names that the rules check: another decision, an offer, or the event it
/// retracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Nothing the rules check.
    Nothing,
    /// `DecisionGranted.replaces`.
    Replaced(DecisionId),
    /// `OfferDeclined.offer_event_id`.
    Offer(EventId),
    /// `EventRetracted.event_id`.
    Retracted(EventId),
}

impl StreamEvent {
    /// The view of an event with this id, dates and data.
    pub fn of(
        event_id: EventId,
        occurred_on: NaiveDate,
        recorded_on: NaiveDate,
        data: &EventData,
    ) -> StreamEvent {
        let names = match data {
            EventData::DecisionGranted(grant) => {
                grant.replaces.map_or(Names::Nothing, Names::Replaced)
            }
            EventData::OfferDeclined(decline) => {
                decline.offer_event_id.map_or(Names::Nothing, Names::Offer)
            }
            EventData::EventRetracted(retraction) => Names::Retracted(retraction.event_id),
            _ => Names::Nothing,
        };
        StreamEvent {
            event_id,
            occurred_on,
            recorded_on,
            event_type: data.event_type(),
            change: status_change(data),
            names,
        }
    }

    /// The event it retracts, if it is a retraction.
    pub fn retracts(&self) -> Option<EventId> {
        match self.names {
            Names::Retracted(target) => Some(target),
            _ => None,
        }
    }
}

/// A refused append: the rule, and the event at which the stream breaks it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event_type} {event_id} of {occurred_on} breaks the rule that {rule}: {detail}")]
pub struct RuleViolation {
    /// The rule broken.
    pub rule: Rule,
    /// The event at which the stream breaks it.
    pub event_id: EventId,
    /// Its type.
    pub event_type: EventType,
    /// Its business date.
    pub occurred_on: NaiveDate,
    /// What exactly is wrong, for a person to act on.
    pub detail: String,
}

/// A decision's execution status, as the §6 rules track it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// Waiting: not executed since the decision, or since an interruption.
    NotExecuted,
    /// Part of the granted scope is executed; the rest is still waiting.
    PartiallyExecuted,
    /// Fully executed.
    Executed,
    /// Ended for another reason (Avslutad).
    Ended,
}

impl ExecutionStatus {
    /// The status as written in reports: `not_executed`, `partially_executed`, `executed`,
    /// `ended`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::NotExecuted => "not_executed",
            ExecutionStatus::PartiallyExecuted => "partially_executed",
            ExecutionStatus::Executed => "executed",
            ExecutionStatus::Ended => "ended",
        }
    }
}

/// What an event does to a decision's execution status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusChange {
    /// Nothing; `allowed_after_end` says whether it may still occur after `Avslutad`.
    None {
        /// `ReportedToIvo`, `NoteRecorded` and `EventRetracted` may follow `Avslutad`.
        allowed_after_end: bool,
    },
    /// `Interrupted`.
    Interrupt,
    /// `Verkställd`, fully or in part.
    Execute {
        /// Only part of the scope.
        partial: bool,
    },
    /// `Avslutad`.
    End,
}

/// What `data` does to the execution status.
pub fn status_change(data: &EventData) -> StatusChange {
    match data {
        EventData::Interrupted(_) => StatusChange::Interrupt,
        EventData::Verkställd(v) => StatusChange::Execute {
            partial: v.partial.is_some(),
        },
        EventData::Avslutad(_) => StatusChange::End,
        EventData::ReportedToIvo(_) | EventData::NoteRecorded(_) | EventData::EventRetracted(_) => {
            StatusChange::None {
                allowed_after_end: true,
            }
        }
        _ => StatusChange::None {
            allowed_after_end: false,
        },
    }
}

/// The status after a change, or the rule the change breaks in status `status`: the one state
/// machine of a decision.
pub fn apply_status_change(
    status: ExecutionStatus,
    change: StatusChange,
) -> Result<ExecutionStatus, Rule> {
    use ExecutionStatus::*;
    if status == Ended
        && !matches!(
            change,
            StatusChange::None {
                allowed_after_end: true
            }
        )
    {
        return Err(Rule::NothingAfterAvslutad);
    }
    match change {
        StatusChange::Interrupt if status == Executed => Ok(NotExecuted),
        StatusChange::Interrupt => Err(Rule::InterruptedOnlyWhileExecuted),
        StatusChange::Execute { .. } if status == Executed => {
            Err(Rule::VerkställdOnlyWhileNotExecuted)
        }
        StatusChange::Execute { partial: true } => Ok(PartiallyExecuted),
        StatusChange::Execute { partial: false } => Ok(Executed),
        StatusChange::End => Ok(Ended),
        StatusChange::None { .. } => Ok(status),
    }
}

/// The status after `data`, or the rule `data` breaks in status `status`.
///
/// `DecisionGranted` and every event that does not change the status leave it as it is.
pub fn next_status(status: ExecutionStatus, data: &EventData) -> Result<ExecutionStatus, Rule> {
    apply_status_change(status, status_change(data))
}

/// Checks that `stream` (stored, in position order) with `new` appended (in the order given)
/// obeys every rule of §6. `decision_exists` answers whether a decision id names a stream in
/// the store (for `replaces`).
///
/// Checking a stored stream against itself (`stream` empty, the whole stream as `new`) is how
/// `verify` re-checks the log.
pub fn check_append(
    decision_id: DecisionId,
    stream: &[StreamEvent],
    new: &[StreamEvent],
    decision_exists: &dyn Fn(DecisionId) -> bool,
) -> Result<(), RuleViolation> {
    let all: Vec<&StreamEvent> = stream.iter().chain(new).collect();
    let first_new = stream.len();
    for index in first_new..all.len() {
        check_new_event(decision_id, &all, index, decision_exists)?;
    }
    let active = active_events(&all, all.len());
    let Err(violation) = check_order(&all, &active, first_new) else {
        return Ok(());
    };
    // Was it a new retraction that broke the stream? Apply the new ones one by one.
    let new_retractions = (first_new..all.len()).filter(|&i| all[i].retracts().is_some());
    if check_order(&all, &active_events(&all, first_new), first_new).is_ok() {
        for retraction in new_retractions {
            if let Err(inner) = check_order(&all, &active_events(&all, retraction + 1), first_new) {
                let target = all[retraction]
                    .retracts()
                    .expect("filtered on retractions above");
                return Err(violation_at(
                    Rule::RetractionKeepsStreamValid,
                    all[retraction],
                    format!(
                        "without event {} the stream would break the rule that {}: {}",
                        target, inner.rule, inner.detail
                    ),
                ));
            }
        }
    }
    Err(violation)
}

fn violation_at(rule: Rule, event: &StreamEvent, detail: String) -> RuleViolation {
    RuleViolation {
        rule,
        event_id: event.event_id,
        event_type: event.event_type,
        occurred_on: event.occurred_on,
        detail,
    }
}

/// The checks that concern a new event alone, against what precedes it by position.
fn check_new_event(
    decision_id: DecisionId,
    all: &[&StreamEvent],
    index: usize,
    decision_exists: &dyn Fn(DecisionId) -> bool,
) -> Result<(), RuleViolation> {
    let event = all[index];
    if event.occurred_on > event.recorded_on {
        return Err(violation_at(
            Rule::NotAfterRecorded,
            event,
            format!("it is recorded on {}, before it occurs", event.recorded_on),
        ));
    }
    let earlier = &all[..index];
    match event.names {
        Names::Replaced(replaced) => {
            if replaced == decision_id || !decision_exists(replaced) {
                return Err(violation_at(
                    Rule::ReplacesExistingDecision,
                    event,
                    format!("there is no other decision {replaced}"),
                ));
            }
        }
        Names::Retracted(retracted) => {
            let active = active_events(earlier, earlier.len());
            let target = earlier.iter().position(|e| e.event_id == retracted);
            match target {
                None => {
                    return Err(violation_at(
                        Rule::RetractionNamesEventInStream,
                        event,
                        format!("decision {decision_id} has no event {}", retracted),
                    ));
                }
                Some(t) if !active[t] => {
                    return Err(violation_at(
                        Rule::RetractionNamesEventInStream,
                        event,
                        format!("event {} is already retracted", retracted),
                    ));
                }
                Some(_) => {}
            }
        }
        Names::Offer(offer) => {
            let active = active_events(earlier, earlier.len());
            let names_offer = earlier.iter().zip(&active).any(|(e, &is_active)| {
                is_active && e.event_id == offer && e.event_type == EventType::OfferMade
            });
            if !names_offer {
                return Err(violation_at(
                    Rule::DeclineNamesOffer,
                    event,
                    format!("decision {decision_id} has no offer {offer}"),
                ));
            }
        }
        Names::Nothing => {}
    }
    Ok(())
}

/// Which of `events` count: those not retracted by a retraction that counts. Retractions at
/// index `applied_before` or later are not applied (used to find which retraction breaks).
fn active_events(events: &[&StreamEvent], applied_before: usize) -> Vec<bool> {
    active_by_retraction(events, |e| e.event_id, |e| e.retracts(), applied_before)
}

/// Which events of a stream (in position order) count: an event counts unless a retraction
/// that counts names it. Retractions at index `applied_before` or later are not applied.
///
/// The one definition of retraction, used by the rules and by every projection.
pub fn active_by_retraction<T>(
    events: &[T],
    id: impl Fn(&T) -> EventId,
    retracts: impl Fn(&T) -> Option<EventId>,
    applied_before: usize,
) -> Vec<bool> {
    let mut retracted: HashSet<EventId> = HashSet::new();
    let mut active = vec![true; events.len()];
    // A retraction names an earlier event, so walking backwards settles each retraction before
    // its target is reached.
    for (index, event) in events.iter().enumerate().rev() {
        if retracted.contains(&id(event)) {
            active[index] = false;
            continue;
        }
        if let Some(target) = retracts(event)
            && index < applied_before
        {
            retracted.insert(target);
        }
    }
    active
}

/// The rules that read the stream in `occurred_on` order.
fn check_order(
    all: &[&StreamEvent],
    active: &[bool],
    first_new: usize,
) -> Result<(), RuleViolation> {
    let mut order: Vec<usize> = (0..all.len()).filter(|&i| active[i]).collect();
    order.sort_by_key(|&i| (all[i].occurred_on, i));
    let Some(&first) = order.first() else {
        return Ok(());
    };
    let in_place = |index: usize| {
        if index < first_new {
            " (it was accepted before; the new events, in their place by occurred_on, break it)"
        } else {
            ""
        }
    };
    let grants: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| all[i].event_type == EventType::DecisionGranted)
        .collect();
    let Some(&grant) = grants.first() else {
        return Err(violation_at(
            Rule::BeginsWithDecision,
            all[first],
            format!("the stream has no DecisionGranted{}", in_place(first)),
        ));
    };
    if let Some(&second) = grants.get(1) {
        return Err(violation_at(
            Rule::ExactlyOneDecision,
            all[second],
            format!(
                "the stream already has DecisionGranted {}",
                all[grant].event_id
            ),
        ));
    }
    let decided_on = all[grant].occurred_on;
    if let Some(&early) = order.iter().find(|&&i| all[i].occurred_on < decided_on) {
        return Err(violation_at(
            Rule::NothingBeforeDecision,
            all[early],
            format!("the decision is dated {decided_on}{}", in_place(early)),
        ));
    }
    if first != grant {
        return Err(violation_at(
            Rule::BeginsWithDecision,
            all[first],
            format!(
                "it comes before DecisionGranted in the stream{}",
                in_place(first)
            ),
        ));
    }
    let mut status = ExecutionStatus::NotExecuted;
    for &index in &order {
        let event = all[index];
        status = apply_status_change(status, event.change).map_err(|rule| {
            violation_at(
                rule,
                event,
                format!(
                    "the decision is {} on {}{}",
                    status.as_str().replace('_', " "),
                    event.occurred_on,
                    in_place(index)
                ),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
