//! The figures: per kind of request and in total, the rate, p50, p99 and max latency, and the
//! errors by status; as one Markdown table for people, or one JSON object for programs.

use std::collections::BTreeMap;
use std::fmt::Write;

use bench_common::figures::nearest_rank;

use crate::client::{Record, TRANSPORT_ERROR};
use crate::workload::Kind;

/// Issue 5's targets on its 2-core machine.
pub const TARGET_APPENDS_PER_S: f64 = 5_000.0;
/// Reads per second.
pub const TARGET_READS_PER_S: f64 = 20_000.0;
/// p99 latency, in milliseconds.
pub const TARGET_P99_MS: f64 = 10.0;

/// One row: a kind, or a group of kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What it counts.
    pub label: String,
    /// Requests measured.
    pub requests: u64,
    /// Requests per second.
    pub per_s: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
    /// Answers that were not the 2xx expected.
    pub errors: u64,
}

/// Everything measured.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One row per kind, in table order.
    pub kinds: Vec<Row>,
    /// All appends.
    pub appends: Row,
    /// All reads.
    pub reads: Row,
    /// Everything.
    pub total: Row,
    /// Errors by kind and status (0: no answer, the connection failed).
    pub errors: BTreeMap<(Kind, u16), u64>,
    /// A few error answers, as seen.
    pub samples: Vec<String>,
    /// Seconds measured.
    pub seconds: f64,
}

/// The `q` quantile of sorted latencies (nearest rank), in ms; 0 when there are none.
pub fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    nearest_rank(sorted_us, q).map_or(0.0, |&us| f64::from(us) / 1000.0)
}

fn row(label: &str, mut latencies_us: Vec<u32>, errors: u64, seconds: f64) -> Row {
    latencies_us.sort_unstable();
    Row {
        label: label.to_owned(),
        requests: latencies_us.len() as u64,
        per_s: if seconds > 0.0 {
            latencies_us.len() as f64 / seconds
        } else {
            0.0
        },
        p50_ms: quantile_ms(&latencies_us, 0.50),
        p99_ms: quantile_ms(&latencies_us, 0.99),
        max_ms: quantile_ms(&latencies_us, 1.0),
        errors,
    }
}

impl Summary {
    /// Merges the clients' records of `seconds` of measurement.
    pub fn of(records: Vec<Record>, seconds: f64) -> Summary {
        let mut by_kind: Vec<Vec<u32>> = vec![Vec::new(); Kind::ALL.len()];
        let mut errors = BTreeMap::new();
        let mut samples = Vec::new();
        for record in records {
            for (all, own) in by_kind.iter_mut().zip(record.latencies_us) {
                all.extend(own);
            }
            for (key, n) in record.errors {
                *errors.entry(key).or_default() += n;
            }
            samples.extend(record.samples);
        }
        let errors_of = |pick: &dyn Fn(Kind) -> bool| -> u64 {
            errors
                .iter()
                .filter(|((k, _), _)| pick(*k))
                .map(|(_, n)| n)
                .sum()
        };
        let group = |label: &str, pick: &dyn Fn(Kind) -> bool| {
            let latencies: Vec<u32> = Kind::ALL
                .iter()
                .filter(|k| pick(**k))
                .flat_map(|k| by_kind[k.index()].iter().copied())
                .collect();
            row(label, latencies, errors_of(pick), seconds)
        };
        Summary {
            kinds: Kind::ALL
                .iter()
                .map(|&k| {
                    row(
                        k.label(),
                        by_kind[k.index()].clone(),
                        errors_of(&|x| x == k),
                        seconds,
                    )
                })
                .collect(),
            appends: group("all appends", &|k| k.is_append()),
            reads: group("all reads", &|k| !k.is_append()),
            total: group("all requests", &|_| true),
            errors,
            samples,
            seconds,
        }
    }

    /// Errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.total.errors
    }

    /// The contract of issue 7: one JSON object, these names.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "appends_per_s": self.appends.per_s,
            "reads_per_s": self.reads.per_s,
            "requests_per_s": self.total.per_s,
            "p50_ms": self.total.p50_ms,
            "p99_ms": self.total.p99_ms,
            "append_p50_ms": self.appends.p50_ms,
            "append_p99_ms": self.appends.p99_ms,
            "read_p50_ms": self.reads.p50_ms,
            "read_p99_ms": self.reads.p99_ms,
            "errors": self.error_count(),
        })
    }

    /// The Markdown table (after `header`), with the targets marked and the errors listed.
    pub fn to_markdown(&self, header: &str) -> String {
        let mut text = header.to_owned();
        let _ = writeln!(
            text,
            "\n| requests | count | per s | p50 ms | p99 ms | max ms | errors |\n\
             |---|---:|---:|---:|---:|---:|---:|"
        );
        let line = |text: &mut String, r: &Row, bold: bool| {
            let label = if bold {
                format!("**{}**", r.label)
            } else {
                r.label.clone()
            };
            let _ = writeln!(
                text,
                "| {label} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {} |",
                r.requests, r.per_s, r.p50_ms, r.p99_ms, r.max_ms, r.errors
            );
        };
        for r in &self.kinds {
            line(&mut text, r, false);
        }
        for r in [&self.appends, &self.reads, &self.total] {
            line(&mut text, r, true);
        }
        let mark = |ok: bool| if ok { "✓" } else { "✗" };
        let _ = writeln!(
            text,
            "\nTargets of issue 5: appends {:.0}/s (≥ {:.0}) {}, reads {:.0}/s (≥ {:.0}) {}, \
             p99 {:.2} ms (< {:.0} ms) {}.",
            self.appends.per_s,
            TARGET_APPENDS_PER_S,
            mark(self.appends.per_s >= TARGET_APPENDS_PER_S),
            self.reads.per_s,
            TARGET_READS_PER_S,
            mark(self.reads.per_s >= TARGET_READS_PER_S),
            self.total.p99_ms,
            TARGET_P99_MS,
            mark(self.total.p99_ms < TARGET_P99_MS),
        );
        if self.errors.is_empty() {
            let _ = writeln!(text, "\nErrors: none (every request answered 2xx).");
        } else {
            let _ = writeln!(
                text,
                "\nErrors by status:\n\n| requests | status | count |\n|---|---|---:|"
            );
            for ((kind, status), n) in &self.errors {
                let status = if *status == TRANSPORT_ERROR {
                    "no answer (connection failed)".to_owned()
                } else {
                    status.to_string()
                };
                let _ = writeln!(text, "| {} | {status} | {n} |", kind.label());
            }
            for sample in &self.samples {
                let _ = writeln!(text, "\n- e.g. {}", sample.replace('\n', " "));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).map(|n| n * 1000).collect();
        assert_eq!(quantile_ms(&sorted, 0.5), 50.0);
        assert_eq!(quantile_ms(&sorted, 0.99), 99.0);
        assert_eq!(quantile_ms(&sorted, 1.0), 100.0);
        assert_eq!(quantile_ms(&[7000], 0.99), 7.0);
        assert_eq!(quantile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn records_merge_into_kinds_groups_and_the_json_contract() {
        let mut one = Record::default();
        one.latencies_us[Kind::AppendDecision.index()] = vec![2000, 4000];
        one.latencies_us[Kind::ReadState.index()] = vec![1000; 6];
        let mut two = Record::default();
        two.latencies_us[Kind::AppendFollowUp.index()] = vec![3000, 3000];
        two.errors.insert((Kind::AppendFollowUp, 409), 1);
        let summary = Summary::of(vec![one, two], 2.0);
        assert_eq!(summary.appends.requests, 4);
        assert_eq!(summary.appends.per_s, 2.0);
        assert_eq!(summary.reads.per_s, 3.0);
        assert_eq!(summary.total.requests, 10);
        assert_eq!(summary.appends.max_ms, 4.0);
        assert_eq!(summary.kinds[Kind::AppendFollowUp.index()].errors, 1);
        let json = summary.to_json();
        let keys: Vec<&str> = json
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = [
            "appends_per_s",
            "reads_per_s",
            "requests_per_s",
            "p50_ms",
            "p99_ms",
            "append_p50_ms",
            "append_p99_ms",
            "read_p50_ms",
            "read_p99_ms",
            "errors",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["errors"], 1);
        assert_eq!(json["requests_per_s"], 5.0);
        let table = summary.to_markdown("## head\n");
        assert!(
            table.contains("| append: follow-up event | 409 | 1 |"),
            "{table}"
        );
    }
}
