//! How the runs of a measurement become the figures of a table: the median with its min–max,
//! latency percentiles, and numbers written as the issues write them.

/// `1234567` as `1 234 567`, as Swedish (and the issue) write it.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Median, min and max of a measurement's runs: what every cell of the tables shows.
pub struct Spread {
    /// The median (of an even count, the mean of the middle two).
    pub median: f64,
    /// The least.
    pub min: f64,
    /// The greatest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`, or `None` for no values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }

    /// A table's cell: the median, `mark` (a target's ` ✓` or ` ✗`, or nothing), and the
    /// min–max in parentheses, each number written by `show`.
    pub fn cell(&self, show: impl Fn(f64) -> String, mark: &str) -> String {
        format!(
            "{}{mark} ({}–{})",
            show(self.median),
            show(self.min),
            show(self.max)
        )
    }
}

/// The `q` quantile (0 to 1) of `sorted` by nearest rank: the smallest value with at least a
/// share `q` of the values at or below it; `None` when there are no values.
pub fn nearest_rank<T>(sorted: &[T], q: f64) -> Option<&T> {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped_by_spaces() {
        assert_eq!(group_thousands(1_234_567), "1 234 567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1 000");
    }

    #[test]
    fn spreads_take_the_middle_of_an_even_count() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]).expect("values");
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        let even = Spread::of(&[4.0, 1.0, 2.0, 3.0]).expect("values");
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        assert!(Spread::of(&[]).is_none());
        assert_eq!(odd.cell(|v| format!("{v:.1}"), " ✓"), "2.0 ✓ (1.0–3.0)");
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(nearest_rank(&sorted, 0.5), Some(&50));
        assert_eq!(nearest_rank(&sorted, 0.99), Some(&99));
        assert_eq!(nearest_rank(&sorted, 1.0), Some(&100));
        assert_eq!(nearest_rank(&sorted, 0.0), Some(&1));
        assert_eq!(nearest_rank(&[7], 0.99), Some(&7));
        assert_eq!(nearest_rank::<u32>(&[], 0.5), None);
    }
}
