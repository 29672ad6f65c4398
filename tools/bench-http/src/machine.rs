//! What the figures were measured on, and who else used the CPU meanwhile: on a shared
//! machine a rate means little without the load beside it.

use std::fs;

/// Linux's clock ticks per second for `/proc` CPU times (USER_HZ, 100 on every mainstream
/// architecture).
const TICKS_PER_SECOND: f64 = 100.0;

/// One line about the machine: cores, CPU model, kernel.
pub fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "?".to_owned(), |k| k.trim().to_owned());
    format!("{cores} cores ({cpu}), Linux {kernel}")
}

/// The 1, 5 and 15 minute load averages.
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

/// CPU seconds used so far: by the whole machine (busy, all cores), by this process, and by
/// the server's process when it runs here.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    machine_busy: f64,
    this: f64,
    server: f64,
}

impl CpuTimes {
    /// Now; `server` is the server's process id when it was started here.
    pub fn now(server: Option<u32>) -> CpuTimes {
        CpuTimes {
            machine_busy: machine_busy_seconds().unwrap_or(0.0),
            this: process_seconds("self").unwrap_or(0.0),
            server: server
                .and_then(|pid| process_seconds(&pid.to_string()))
                .unwrap_or(0.0),
        }
    }

    /// Cores busy on average over `seconds` since `earlier`: (server, this tool, everything
    /// else on the machine).
    pub fn cores_since(&self, earlier: &CpuTimes, seconds: f64) -> (f64, f64, f64) {
        let per = |now: f64, then: f64| ((now - then) / seconds).max(0.0);
        let server = per(self.server, earlier.server);
        let this = per(self.this, earlier.this);
        let all = per(self.machine_busy, earlier.machine_busy);
        (server, this, (all - server - this).max(0.0))
    }
}

/// Busy CPU seconds of the whole machine, from `/proc/stat` (all but idle and iowait).
fn machine_busy_seconds() -> Option<f64> {
    let text = fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = text
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let total: f64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle) / TICKS_PER_SECOND)
}

/// User and system CPU seconds of a process (`self` or a pid), from `/proc/PID/stat`.
fn process_seconds(pid: &str) -> Option<f64> {
    stat_seconds(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// User and system CPU seconds from the text of `/proc/PID/stat` (fields 14 and 15).
fn stat_seconds(text: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces and parentheses; the fields after its last
    // `)` are fixed.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_times_are_read_after_the_command_name() {
        let line = "4242 (bench (http) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 \
                    3 0 100 0 0";
        assert_eq!(stat_seconds(line), Some(3.25));
        assert_eq!(stat_seconds("4242 (short) S 1"), None);
        assert!(
            process_seconds("self").is_some(),
            "this process has a stat file"
        );
    }
}
