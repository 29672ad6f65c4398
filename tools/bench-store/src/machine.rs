//! What the benchmark ran on: the machine, and the file system under the data directory (a
//! durable-append figure on tmpfs measures nothing, since fsync there is free).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// File system types that live in memory: fsync on them costs nothing.
const MEMORY_FILE_SYSTEMS: &[&str] = &["tmpfs", "ramfs", "devtmpfs", "hugetlbfs"];

/// The mount a path lives on, from `/proc/self/mounts`.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The device (`/dev/vda`).
    pub device: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// The file system type (`ext4`).
    pub fs_type: String,
}

impl Mount {
    /// The mount holding `path` (the longest mount point that is a prefix of it).
    pub fn of(path: &Path) -> Option<Mount> {
        let path = fs::canonicalize(path).ok()?;
        let mounts = fs::read_to_string("/proc/self/mounts").ok()?;
        mounts
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let device = fields.next()?.to_owned();
                let mount_point = unescape_mount(fields.next()?);
                let fs_type = fields.next()?.to_owned();
                Some(Mount {
                    device,
                    mount_point,
                    fs_type,
                })
            })
            .filter(|m| path.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.len())
    }

    /// Whether the file system is in memory.
    pub fn is_memory(&self) -> bool {
        MEMORY_FILE_SYSTEMS.contains(&self.fs_type.as_str())
    }
}

/// `/proc/self/mounts` writes a space as `\040`.
fn unescape_mount(field: &str) -> String {
    field.replace("\\040", " ").replace("\\011", "\t")
}

/// The base directory for data directories: `--dir` if given, else the first of `/var/tmp` and
/// the current directory that is on a real disk.
pub fn choose_base(dir: Option<&Path>) -> Result<(PathBuf, Mount), String> {
    if let Some(dir) = dir {
        fs::create_dir_all(dir).map_err(|e| format!("--dir {}: {e}", dir.display()))?;
        let mount = Mount::of(dir)
            .ok_or_else(|| format!("--dir {}: cannot tell its file system", dir.display()))?;
        return Ok((dir.to_path_buf(), mount));
    }
    let current = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    for candidate in [PathBuf::from("/var/tmp"), current] {
        if let Some(mount) = Mount::of(&candidate).filter(|m| !m.is_memory()) {
            return Ok((candidate, mount));
        }
    }
    Err("neither /var/tmp nor the current directory is on a disk; name one with --dir".into())
}

/// One line about the machine: cores, CPU, memory, kernel.
pub fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0 / 1024.0)
        })
        .unwrap_or(0.0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "?".into(), |k| k.trim().to_owned());
    format!("nproc {cores}, {cpu}, {memory_gib:.0} GiB RAM, Linux {kernel}")
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".into())
}

/// Bytes allocated on disk under `path`, as `du` counts them (512-byte blocks).
pub fn disk_usage(path: &Path) -> std::io::Result<u64> {
    let meta = fs::symlink_metadata(path)?;
    let mut total = meta.blocks() * 512;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            total += disk_usage(&entry?.path())?;
        }
    }
    Ok(total)
}

/// Name of the store's writer thread, which checks and stages groups (as `/proc` shows it, cut
/// to 15 bytes).
const WRITER_THREAD_COMM: &str = "verkstall-write";
/// Name of the store's committer thread, which commits the staged groups (cut to 15 bytes).
const COMMITTER_THREAD_COMM: &str = "verkstall-commi";

/// How a thread spent its time, from `/proc/self/task/<tid>/schedstat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadTimes {
    /// Nanoseconds running on a CPU.
    pub on_cpu_ns: u64,
    /// Nanoseconds runnable but waiting for a CPU (another thread or process had it).
    pub waiting_ns: u64,
}

impl ThreadTimes {
    /// The store's writer threads alive in this process, summed (there is one per open store).
    pub fn of_writer() -> ThreadTimes {
        ThreadTimes::of_threads(WRITER_THREAD_COMM)
    }

    /// The store's committer threads alive in this process, summed.
    pub fn of_committer() -> ThreadTimes {
        ThreadTimes::of_threads(COMMITTER_THREAD_COMM)
    }

    fn of_threads(name: &str) -> ThreadTimes {
        let mut total = ThreadTimes::default();
        let Ok(tasks) = fs::read_dir("/proc/self/task") else {
            return total;
        };
        for task in tasks.flatten() {
            let comm = fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim_end() != name {
                continue;
            }
            let stat = fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            let mut fields = stat
                .split_whitespace()
                .map(|f| f.parse::<u64>().unwrap_or(0));
            total.on_cpu_ns += fields.next().unwrap_or(0);
            total.waiting_ns += fields.next().unwrap_or(0);
        }
        total
    }

    /// The time between two readings.
    pub fn since(self, earlier: ThreadTimes) -> ThreadTimes {
        ThreadTimes {
            on_cpu_ns: self.on_cpu_ns.saturating_sub(earlier.on_cpu_ns),
            waiting_ns: self.waiting_ns.saturating_sub(earlier.waiting_ns),
        }
    }
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
        let numbers = |line: &str, skip: usize| -> Vec<u64> {
            line.split_whitespace()
                .skip(skip)
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        };
        let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpu = stat
            .lines()
            .next()
            .map(|l| numbers(l, 1))
            .unwrap_or_default();
        let at = |i: usize| cpu.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal
        let total = (0..8).map(at).sum();
        let busy = at(0) + at(1) + at(2) + at(5) + at(6);
        let own_stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at `state`: utime and
        // stime are the 12th and 13th of those.
        let own = own_stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                let f = numbers(rest, 0);
                f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
            })
            .unwrap_or(0);
        CpuTicks {
            total,
            busy,
            steal: at(7),
            own,
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

/// Bytes this process has caused to be written to storage so far (`write_bytes` of
/// `/proc/self/io`: whole pages, as the disk sees them, not as `write` was called).
pub fn bytes_written() -> u64 {
    fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("write_bytes:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

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
}

/// This process's arguments as a shell would need them typed (quoted where they hold blanks):
/// for the command line a table's header repeats.
pub fn quoted_args() -> String {
    std::env::args()
        .skip(1)
        .map(|a| {
            if a.contains(char::is_whitespace) {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
