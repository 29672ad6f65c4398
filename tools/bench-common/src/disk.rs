//! Where a benchmark's data directories go, and what they take on disk: a durable-append figure
//! on tmpfs measures nothing, since fsync there is free.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

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

    /// Where `dir` (on this mount) is, as a header says it: "`DIR` on DEVICE (TYPE, mounted at
    /// `MOUNT POINT`)".
    pub fn describe(&self, dir: &Path) -> String {
        format!(
            "`{}` on {} ({}, mounted at `{}`)",
            dir.display(),
            self.device,
            self.fs_type,
            self.mount_point
        )
    }

    /// What a table's header says of it: "a disk, not tmpfs", or, in bold, that fsync costs
    /// nothing on it, so `figures` (e.g. "the append figures") are not durable ones.
    pub fn durability_note(&self, figures: &str) -> String {
        if self.is_memory() {
            format!(
                "**{} is in memory: fsync costs nothing, {figures} are not durable ones**",
                self.fs_type
            )
        } else {
            "a disk, not tmpfs".to_owned()
        }
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

/// A fresh temporary directory for a run's data directories, named `TOOL-…`, under `dir` (the
/// tool's `--dir`) or where [`choose_base`] finds a disk, with the mount it lives on. It is
/// removed, with everything in it, when dropped.
pub fn scratch_root(tool: &str, dir: Option<&Path>) -> std::io::Result<(TempDir, Mount)> {
    let (base, mount) = choose_base(dir).map_err(std::io::Error::other)?;
    let root = tempfile::Builder::new()
        .prefix(&format!("{tool}-"))
        .tempdir_in(&base)?;
    Ok((root, mount))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape_mount("/mnt/a\\040b\\011c"), "/mnt/a b\tc");
    }

    #[test]
    fn the_root_has_a_mount() {
        let root = Mount::of(Path::new("/")).expect("/ is mounted");
        assert_eq!(root.mount_point, "/");
        let tmpfs = Mount {
            device: "tmpfs".to_owned(),
            mount_point: "/tmp".to_owned(),
            fs_type: "tmpfs".to_owned(),
        };
        assert!(tmpfs.is_memory());
        assert!(
            tmpfs
                .durability_note("the figures")
                .contains("fsync costs nothing")
        );
    }
}
