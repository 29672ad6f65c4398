//! What this process's threads and writes cost: the store's writer and committer threads' CPU
//! time, and the bytes written to the data directory's disk. (The machine, its load and the data directory's disk
//! are `bench_common`'s.)

use std::fs;

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

/// Bytes written to the block device that holds `dir` so far, by every process (sectors written,
/// from `/sys/dev/block/MAJOR:MINOR/stat`, times 512); `None` where the kernel does not say.
///
/// Not `write_bytes` of `/proc/self/io`: that counts, for each `fdatasync` of a page overwritten
/// in place, the whole file again (1 MiB per sync of a 1 MiB file, measured with a loop of
/// 600-byte `pwrite`s and `fdatasync`s), which made the write-ahead log look like it wrote a
/// megabyte per event. The device's own count is what reached the disk; it includes other
/// processes' writes, which the header's load and CPU figures show.
pub fn device_bytes_written(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let dev = fs::metadata(dir).ok()?.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let stat = fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/stat")).ok()?;
    let sectors: u64 = stat.split_whitespace().nth(6)?.parse().ok()?;
    Some(sectors * 512)
}
