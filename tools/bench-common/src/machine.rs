//! What the figures were measured on, and who else used the CPU meanwhile: on a shared machine a
//! rate means little without the load beside it. Everything is read from Linux's `/proc`; what
//! cannot be read shows as `?`, `0` or `None`, never as an error.

use std::fs;

use chrono::{DateTime, Utc};

/// One line about the machine: cores, CPU, memory, kernel.
pub fn describe() -> String {
    let cores = cores();
    let cpu = cpu_model();
    let memory_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0 / 1024.0)
        })
        .unwrap_or(0.0);
    let kernel = kernel_release();
    format!("nproc {cores}, {cpu}, {memory_gib:.0} GiB RAM, Linux {kernel}")
}

/// The CPUs this process may run on (0 when it cannot tell).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// The CPU's model name, from `/proc/cpuinfo` ("unknown CPU" when it cannot tell).
pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// The kernel's release (`6.8.0-45-generic`; "?" when it cannot tell).
pub fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "?".to_owned(), |k| k.trim().to_owned())
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".to_owned(),
        |text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}

/// The machine's CPU time so far, all CPUs together, in clock ticks, as the first line of
/// `/proc/stat` gives it: user, nice, system, idle, iowait, irq, softirq, steal, and what
/// follows. Empty when it cannot be read; a field that does not parse counts 0.
pub fn machine_ticks() -> Vec<u64> {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .next()
        .map(|line| {
            line.split_whitespace()
                .skip(1)
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default()
}

/// User and system CPU time of a process (`self` or a pid) so far, in clock ticks, from
/// `/proc/PID/stat`; `None` when it cannot be read.
pub fn process_ticks(pid: &str) -> Option<u64> {
    stat_ticks(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// User and system CPU ticks from the text of `/proc/PID/stat` (fields 14 and 15).
fn stat_ticks(text: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses; the fields after its last
    // `)` are fixed, starting at `state`: utime and stime are the 12th and 13th of those.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The machine's CPU time so far, from `/proc/stat` and `/proc/self/stat`, in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTicks {
    /// All CPUs, every state.
    total: u64,
    /// All CPUs, busy (not idle, not waiting for I/O, not stolen).
    busy: u64,
    /// Stolen by the hypervisor for other guests.
    steal: u64,
    /// This process (user + system).
    own: u64,
}

impl CpuTicks {
    /// Now.
    pub fn now() -> CpuTicks {
        let cpu = machine_ticks();
        let at = |i: usize| cpu.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal
        let total = (0..8).map(at).sum();
        let busy = at(0) + at(1) + at(2) + at(5) + at(6);
        CpuTicks {
            total,
            busy,
            steal: at(7),
            own: process_ticks("self").unwrap_or(0),
        }
    }

    /// Between `earlier` and `self`: the share of the machine's CPU time used by other
    /// processes, and the share stolen by the hypervisor, in percent.
    pub fn others_and_steal_since(self, earlier: CpuTicks) -> (f64, f64) {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        let others = self
            .busy
            .saturating_sub(earlier.busy)
            .saturating_sub(self.own.saturating_sub(earlier.own)) as f64;
        let steal = self.steal.saturating_sub(earlier.steal) as f64;
        (100.0 * others / total, 100.0 * steal / total)
    }
}

/// The machine's state when a benchmark started, for its header: the load average and CPU
/// ticks at the start, and when.
#[derive(Debug, Clone)]
pub struct Before {
    /// [`load_average`] at the start.
    pub load: String,
    /// [`CpuTicks::now`] at the start.
    pub cpu: CpuTicks,
    /// When it started.
    pub at: DateTime<Utc>,
}

impl Before {
    /// Now.
    pub fn now() -> Before {
        Before {
            load: load_average(),
            cpu: CpuTicks::now(),
            at: Utc::now(),
        }
    }

    /// How a header's machine line begins: "MACHINE; load average L at the start, L at the
    /// end" ([`describe`], and the load averages then and now).
    pub fn machine_and_load(&self) -> String {
        format!(
            "{}; load average {} at the start, {} at the end",
            describe(),
            self.load,
            load_average()
        )
    }

    /// When it started, to the minute: `2026-11-24 02:39 UTC`.
    pub fn started(&self) -> String {
        self.at.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_times_are_read_after_the_command_name() {
        let line = "4242 (bench (http) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 \
                    3 0 100 0 0";
        assert_eq!(stat_ticks(line), Some(325));
        assert_eq!(stat_ticks("4242 (short) S 1"), None);
        assert!(
            process_ticks("self").is_some(),
            "this process has a stat file"
        );
    }

    #[test]
    fn the_machine_has_cpu_times() {
        let ticks = machine_ticks();
        assert!(ticks.len() >= 8, "{ticks:?}");
        assert_eq!(load_average().split(' ').count(), 3);
    }
}
