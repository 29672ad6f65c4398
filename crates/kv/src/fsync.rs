//! File-system helpers that make creations durable: a new file or directory survives power loss
//! only once the directory that names it has been fsynced too.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Creates `dir` and any missing parents, and fsyncs every directory whose entries changed, so
/// that the new directories survive power loss. An existing `dir` is left as it is.
pub(crate) fn create_dir_durable(dir: &Path) -> io::Result<()> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut cursor = Some(dir);
    while let Some(path) = cursor {
        if path.as_os_str().is_empty() || path.try_exists()? {
            break;
        }
        missing.push(path.to_path_buf());
        cursor = path.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    // From the outermost new directory inwards: sync its parent (which gained its entry), then
    // it. The innermost is synced again by whoever creates files in it.
    for created in missing.iter().rev() {
        sync_dir(parent_of(created))?;
        sync_dir(created)?;
    }
    Ok(())
}

/// fsyncs the directory `dir` (its entries: names created, renamed or removed in it).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory holding `path`; `.` for a bare relative name.
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_nested_directories_and_leaves_existing_ones() {
        let root = tempfile::tempdir().expect("temporary directory");
        let nested = root.path().join("a").join("b").join("c");
        create_dir_durable(&nested).expect("create");
        assert!(nested.is_dir());
        std::fs::write(nested.join("f"), b"x").expect("write");
        create_dir_durable(&nested).expect("create again");
        assert!(nested.join("f").is_file());
    }

    #[test]
    fn parent_of_a_bare_name_is_the_current_directory() {
        assert_eq!(parent_of(Path::new("store")), Path::new("."));
        assert_eq!(parent_of(Path::new("/x/store")), Path::new("/x"));
    }
}
