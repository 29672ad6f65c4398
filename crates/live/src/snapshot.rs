//! The snapshot file: the folded projection beside the log, written atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use projections::Projection;

use crate::{LiveError, SNAPSHOT_FILE_NAME};

/// The snapshot's first bytes.
const SNAPSHOT_MAGIC: &[u8; 8] = b"VKSTPRJ1";

/// Where the snapshot of a data directory lives.
pub fn snapshot_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SNAPSHOT_FILE_NAME)
}

/// Reads a saved snapshot; `None` if there is none or it cannot be read (it is then rebuilt).
pub fn read_snapshot(path: &Path) -> Option<Projection> {
    let bytes = fs::read(path).ok()?;
    let body = bytes.strip_prefix(SNAPSHOT_MAGIC.as_slice())?;
    match postcard::from_bytes(body) {
        Ok(projection) => Some(projection),
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "the projection snapshot is unreadable; rebuilding");
            None
        }
    }
}

/// Saves a snapshot atomically: a temporary file, synced, renamed over the old one.
pub fn save_snapshot(projection: &Projection, path: &Path) -> Result<(), LiveError> {
    let error = |source| LiveError::Save {
        path: path.to_path_buf(),
        source,
    };
    let body =
        postcard::to_stdvec(projection).map_err(|e| error(std::io::Error::other(e.to_string())))?;
    let temporary = path.with_extension("snapshot.tmp");
    let mut file = fs::File::create(&temporary).map_err(error)?;
    file.write_all(SNAPSHOT_MAGIC)
        .and_then(|()| file.write_all(&body))
        .and_then(|()| file.sync_all())
        .map_err(error)?;
    fs::rename(&temporary, path).map_err(error)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(error)?;
    }
    Ok(())
}
