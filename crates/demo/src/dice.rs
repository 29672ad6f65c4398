//! The per-decision random source: ChaCha8 seeded from the demo's seed, one independent stream
//! per decision slot, so any decision can be generated alone, in any order, on any thread.
//!
//! Only `next_u64` of the generator is used, and every draw below is plain arithmetic on it, so
//! the output depends on the ChaCha8 stream alone, not on how a `rand` version samples ranges.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use uuid::Uuid;

/// Random draws for one decision slot.
pub(crate) struct Dice(ChaCha8Rng);

impl Dice {
    /// The dice of `slot` under `seed`.
    pub(crate) fn for_slot(seed: u64, slot: u64) -> Dice {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(slot);
        Dice(rng)
    }

    /// A uniform 64-bit number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 random bits: every value a double can hold exactly in [0, 1).
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform number in `0..n` (`n` > 0); the bias of the multiply-shift is below 2⁻³².
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform number in `lo..=hi`; `lo` when the range is empty.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// One of `items`, uniformly.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, by weight.
    pub(crate) fn weighted<T: Copy>(&mut self, items: &[(u32, T)]) -> T {
        let total: u64 = items.iter().map(|&(w, _)| u64::from(w)).sum();
        let mut target = self.below(total);
        for &(weight, item) in items {
            let weight = u64::from(weight);
            if target < weight {
                return item;
            }
            target -= weight;
        }
        items[items.len() - 1].1
    }

    /// One of `items`, by the weight `weigh` gives each, as the value `weigh` gives with it.
    pub(crate) fn weighted_by<T, U>(&mut self, items: &[T], weigh: impl Fn(&T) -> (u32, U)) -> U {
        let total: u64 = items.iter().map(|item| u64::from(weigh(item).0)).sum();
        let mut target = self.below(total);
        for item in items {
            let (weight, value) = weigh(item);
            let weight = u64::from(weight);
            if target < weight {
                return value;
            }
            target -= weight;
        }
        weigh(&items[items.len() - 1]).1
    }

    /// A random (version 4) UUID.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_slot_gives_the_same_draws_and_slots_differ() {
        let draw = |seed, slot| {
            let mut dice = Dice::for_slot(seed, slot);
            (0..8).map(|_| dice.next()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(draw(7, 3), draw(7, 4));
        assert_ne!(draw(7, 3), draw(8, 3));
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut dice = Dice::for_slot(1, 1);
        for _ in 0..10_000 {
            let x = dice.range(-3, 5);
            assert!((-3..=5).contains(&x));
            let u = dice.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(dice.below(7) < 7);
        }
        assert_eq!(dice.range(4, 4), 4);
        assert_eq!(dice.range(4, 2), 4);
        assert_eq!(dice.weighted(&[(0, 'a'), (1, 'b')]), 'b');
    }
}
