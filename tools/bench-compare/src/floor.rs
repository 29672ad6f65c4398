//! The disk's own floor under a durable append: how long one durable 4 KiB write takes on the
//! file system the embedded stores write to, measured in the same run as the appends.
//!
//! With one writer nothing can be grouped: every append waits for its own durable write, in
//! verkstall (one `O_DIRECT | O_DSYNC` record of its write-ahead log) as in the baseline (one
//! `fdatasync` of PostgreSQL's WAL). So no store that answers only after the data is durable can
//! append faster than one write per mean write time. Set beside the baseline's one-writer rate,
//! that is the highest ratio the one-writer row can reach on this disk, whatever the store does.
//!
//! The probe writes as verkstall's log does: whole 4 KiB blocks, from a block-aligned buffer,
//! in place into a file whose blocks were written and synced beforehand (so no write changes
//! the file's size or allocation), with `O_DIRECT | O_DSYNC`; where the file system refuses
//! `O_DIRECT` (tmpfs), with `pwrite` and `fdatasync`, as the log then does.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::Instant;

use bench_common::figures::nearest_rank;

/// Durable writes the probe times.
pub const FLOOR_WRITES: usize = 2000;
/// The bytes of one write: one block, as a small record of the write-ahead log takes.
const BLOCK_BYTES: usize = 4096;
/// Blocks the probe's file holds; the writes go round them.
const FILE_BLOCKS: usize = 256;
/// The probe's file, in the directory it is given; removed afterwards.
const FILE_NAME: &str = "durable-write-floor.probe";

/// What the probe measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    /// Writes timed.
    pub writes: usize,
    /// Their median, µs.
    pub p50_us: f64,
    /// Their mean, µs: what a run of back-to-back appends pays on average.
    pub mean_us: f64,
    /// Whether the writes were direct (`O_DIRECT | O_DSYNC`) or `pwrite` + `fdatasync`.
    pub direct: bool,
}

impl Floor {
    /// Durable writes one after the other per second: the most one writer can append.
    pub fn writes_per_s(&self) -> f64 {
        1e6 / self.mean_us
    }

    /// The highest ratio to `baseline_per_s` one writer can reach on this disk.
    pub fn ceiling_over(&self, baseline_per_s: f64) -> f64 {
        self.writes_per_s() / baseline_per_s
    }
}

/// Times `writes` durable 4 KiB writes in a file of its own in `dir` (at least one).
pub fn measure(dir: &Path, writes: usize) -> io::Result<Floor> {
    let path = dir.join(FILE_NAME);
    // Never a file that is already there: it is not the probe's to write over or remove.
    let file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(&path)?;
    let timed = time_writes(&path, &file, writes.max(1));
    drop(file);
    let removed = std::fs::remove_file(&path);
    let (mut micros, direct) = timed?;
    removed?;
    micros.sort_by(f64::total_cmp);
    let mean_us = micros.iter().sum::<f64>() / micros.len() as f64;
    Ok(Floor {
        writes: micros.len(),
        p50_us: nearest_rank(&micros, 0.5).copied().unwrap_or(mean_us),
        mean_us,
        direct,
    })
}

/// Each write's time in µs, and whether they were direct; `file` is the new, empty `path`.
fn time_writes(path: &Path, file: &File, writes: usize) -> io::Result<(Vec<f64>, bool)> {
    file.write_all_at(&vec![0_u8; BLOCK_BYTES * FILE_BLOCKS], 0)?;
    file.sync_all()?;
    let direct = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
        .open(path)
        .ok();
    // A buffer with room for one block-aligned block.
    let mut buffer = vec![0x5a_u8; 2 * BLOCK_BYTES];
    let offset = buffer.as_ptr().align_offset(BLOCK_BYTES);
    if offset >= BLOCK_BYTES {
        return Err(io::Error::other(
            "no block-aligned place in the probe's buffer",
        ));
    }
    let block = &mut buffer[offset..offset + BLOCK_BYTES];
    let mut micros = Vec::with_capacity(writes);
    for write in 0..writes {
        let at = ((write % FILE_BLOCKS) * BLOCK_BYTES) as u64;
        block[..8].copy_from_slice(&(write as u64).to_le_bytes());
        let started = Instant::now();
        durable_write(direct.as_ref(), file, block, at)?;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
    }
    Ok((micros, direct.is_some()))
}

/// One durable write of `block` at `at`: direct where the file system allows it.
fn durable_write(direct: Option<&File>, file: &File, block: &[u8], at: u64) -> io::Result<()> {
    match direct {
        Some(direct) => direct.write_all_at(block, at),
        None => {
            file.write_all_at(block, at)?;
            file.sync_data()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_probe_times_each_write_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let floor = measure(dir.path(), 20).unwrap();
        assert_eq!(floor.writes, 20);
        assert!(floor.p50_us > 0.0 && floor.mean_us > 0.0, "{floor:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_ceiling_is_back_to_back_writes_over_the_baseline() {
        let floor = Floor {
            writes: 2000,
            p50_us: 90.0,
            mean_us: 125.0,
            direct: true,
        };
        assert_eq!(floor.writes_per_s(), 8000.0);
        assert_eq!(floor.ceiling_over(3200.0), 2.5);
    }

    #[test]
    fn a_probe_file_left_behind_is_not_written_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"someone's").unwrap();
        assert!(measure(dir.path(), 1).is_err());
        assert_eq!(
            std::fs::read(dir.path().join(FILE_NAME)).unwrap(),
            b"someone's"
        );
    }
}
