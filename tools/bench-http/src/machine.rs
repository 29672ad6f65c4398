//! What the figures were measured on, and who else used the CPU meanwhile: on a shared
//! machine a rate means little without the load beside it. (The `/proc` readings are
//! `bench_common::machine`'s; this module adds the server's share.)

use bench_common::machine::{cores, cpu_model, kernel_release, machine_ticks, process_ticks};

/// Linux's clock ticks per second for `/proc` CPU times (USER_HZ, 100 on every mainstream
/// architecture).
const TICKS_PER_SECOND: f64 = 100.0;

/// One line about the machine: cores, CPU model, kernel.
pub fn describe() -> String {
    format!(
        "{} cores ({}), Linux {}",
        cores(),
        cpu_model(),
        kernel_release()
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
    let fields = machine_ticks();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle) as f64 / TICKS_PER_SECOND)
}

/// User and system CPU seconds of a process (`self` or a pid), from `/proc/PID/stat`.
fn process_seconds(pid: &str) -> Option<f64> {
    Some(process_ticks(pid)? as f64 / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_and_the_machine_have_cpu_times() {
        assert!(
            process_seconds("self").is_some(),
            "this process has a stat file"
        );
        assert!(
            machine_busy_seconds().is_some(),
            "the machine has /proc/stat"
        );
    }
}
