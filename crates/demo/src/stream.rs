//! The events of a whole run in recorded order, without holding the run in memory.
//!
//! Slots are generated one by one; slot `i` decides on a day that never comes before slot
//! `i - 1`'s, and none of its events is recorded before that day. So once the next slot's day is
//! reached, every pending event recorded on an earlier day is final: that day's events are sorted
//! and handed out. Memory holds the events still to come of the decisions under way, not the
//! whole run.
//!
//! The order is total and fixed: `recorded_at`, then slot, then stream, then the event's place in
//! its stream — the same order a sort of the whole run gives.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::NewEvent;

use crate::case::{self, Scratch, World};

/// Where a pending event sorts: recorded moment, slot, stream, place in the stream.
type Key = (DateTime<Utc>, u64, u32, u32);

/// The end of a day's list in [`Pending::next`].
const END: u32 = u32::MAX;

/// Events waiting to be handed out, in an arena: each day's events are a list threaded through
/// `next`, so adding an event allocates nothing once the arena has grown, however many days
/// are pending. (Per-day vectors growing in a heap full of small strings made the allocator
/// the bottleneck of large runs.)
#[derive(Default)]
struct Pending {
    keys: Vec<Key>,
    next: Vec<u32>,
    events: Vec<Option<NewEvent>>,
    free: Vec<u32>,
    /// The first event of each pending day's list.
    days: BTreeMap<NaiveDate, u32>,
}

impl Pending {
    fn add(&mut self, key: Key, event: NewEvent) {
        let day = key.0.date_naive();
        let head = self.days.get(&day).copied().unwrap_or(END);
        let index = match self.free.pop() {
            Some(index) => {
                let at = index as usize;
                self.keys[at] = key;
                self.next[at] = head;
                self.events[at] = Some(event);
                index
            }
            None => {
                let index = u32::try_from(self.events.len())
                    .expect("fewer than 2³² events are pending at once");
                self.keys.push(key);
                self.next.push(head);
                self.events.push(Some(event));
                index
            }
        };
        self.days.insert(day, index);
    }

    /// Takes the earliest pending day's events, if it is before `bound`, into `order`, sorted.
    fn take_day_before(&mut self, bound: Option<NaiveDate>, order: &mut Vec<(Key, u32)>) -> bool {
        match self.days.first_key_value() {
            Some((&day, _)) if bound.is_none_or(|bound| day < bound) => {}
            _ => return false,
        }
        let (_, mut index) = self.days.pop_first().expect("looked at just now");
        order.clear();
        while index != END {
            order.push((self.keys[index as usize], index));
            index = self.next[index as usize];
        }
        // Keys are unique, so the unstable sort is deterministic.
        order.sort_unstable();
        true
    }

    fn take(&mut self, index: u32) -> Option<NewEvent> {
        self.free.push(index);
        self.events[index as usize].take()
    }
}

/// An iterator over a demo run's events in recorded order (see [`crate::stream`]).
pub struct DemoStream {
    world: World,
    next_slot: u64,
    /// The day before which no slot still to come records anything (`None`: none to come).
    bound: Option<NaiveDate>,
    pending: Pending,
    /// The day being handed out, in order, and how far.
    order: Vec<(Key, u32)>,
    handed_out: usize,
    scratch: Scratch,
    decisions: u64,
}

impl DemoStream {
    pub(crate) fn new(world: World) -> DemoStream {
        let bound = (world.slots > 0).then(|| world.lower_bound(0));
        DemoStream {
            world,
            next_slot: 0,
            bound,
            pending: Pending::default(),
            order: Vec::new(),
            handed_out: 0,
            scratch: Scratch::default(),
            decisions: 0,
        }
    }

    /// Decisions generated so far (the last of them may still have events to come).
    pub fn decisions_generated(&self) -> u64 {
        self.decisions
    }

    fn generate_next(&mut self) {
        let slot = self.next_slot;
        let allow_replacement = slot + 1 < self.world.slots;
        let pending = &mut self.pending;
        let mut places = [0u32; 2];
        let mut sink = |stream: u32, event: NewEvent| {
            let recorded = event
                .recorded_at
                .expect("the generator gives every event its recorded_at");
            let place = &mut places[stream as usize];
            pending.add((recorded, slot, stream, *place), event);
            *place += 1;
        };
        let replaced = case::generate(
            &self.world,
            slot,
            allow_replacement,
            &mut self.scratch,
            &mut sink,
        );
        self.decisions += 1 + u64::from(replaced);
        // A replacing decision takes the next slot's place, so the run has exactly `slots`.
        self.next_slot += 1 + u64::from(replaced);
        self.bound =
            (self.next_slot < self.world.slots).then(|| self.world.lower_bound(self.next_slot));
    }
}

impl Iterator for DemoStream {
    type Item = NewEvent;

    fn next(&mut self) -> Option<NewEvent> {
        loop {
            if let Some(&(_, index)) = self.order.get(self.handed_out) {
                self.handed_out += 1;
                return self.pending.take(index);
            }
            if self.pending.take_day_before(self.bound, &mut self.order) {
                self.handed_out = 0;
            } else if self.bound.is_none() {
                return None;
            } else {
                self.generate_next();
            }
        }
    }
}
