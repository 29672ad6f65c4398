//! The anchor: a small file beside the engine's files recording the last committed position and
//! its hash, written after every commit. It lets opening the store notice when the engine comes
//! back with *less* than it acknowledged — sled, for one, silently recovers an older log when a
//! log record's checksum no longer matches (bit rot, a stray write), dropping every later commit.
//!
//! The anchor is written only after the engine's commit has returned (so it never claims more
//! than the engine holds) and without an fsync of its own (so it costs one small write, not a
//! disk flush). After a power loss it may therefore lag behind the log; a lagging anchor is
//! harmless — it is a lower bound. A torn or unreadable anchor is ignored with a warning.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::api::StoreError;
use crate::chain::encode_hex;
use crate::layout::Tail;

/// The anchor's file name in the data directory.
pub const ANCHOR_FILE_NAME: &str = "head.anchor";
const MAGIC: &[u8; 8] = b"VKANCHR1";
/// magic (8) ‖ position (8) ‖ hash (32) ‖ checksum (8).
const ANCHOR_BYTES: usize = 56;

/// Where the anchor of a data directory lives.
pub(crate) fn anchor_path(data_dir: &Path) -> PathBuf {
    data_dir.join(ANCHOR_FILE_NAME)
}

fn encode(tail: &Tail) -> [u8; ANCHOR_BYTES] {
    let mut bytes = [0u8; ANCHOR_BYTES];
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8..16].copy_from_slice(&tail.position.to_be_bytes());
    bytes[16..48].copy_from_slice(&tail.hash);
    let sum = Sha256::digest(&bytes[..48]);
    bytes[48..].copy_from_slice(&sum[..8]);
    bytes
}

fn decode(bytes: &[u8]) -> Option<(u64, [u8; 32])> {
    if bytes.len() != ANCHOR_BYTES
        || &bytes[..8] != MAGIC
        || Sha256::digest(&bytes[..48])[..8] != bytes[48..]
    {
        return None;
    }
    let position = u64::from_be_bytes(bytes[8..16].try_into().ok()?);
    let hash: [u8; 32] = bytes[16..48].try_into().ok()?;
    Some((position, hash))
}

/// The anchor file, kept open by the writer.
pub(crate) struct Anchor {
    file: File,
    path: PathBuf,
}

impl Anchor {
    pub(crate) fn open(data_dir: &Path) -> Result<Anchor, StoreError> {
        let path = anchor_path(data_dir);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::DataDir {
                path: path.display().to_string(),
                detail: format!("cannot open the anchor: {e}"),
            })?;
        Ok(Anchor { file, path })
    }

    /// Records the committed tail. A failure is logged, not fatal: the anchor only guards.
    pub(crate) fn record(&mut self, tail: &Tail) {
        // One call in place: the record has a fixed size.
        let result = self.file.write_all_at(&encode(tail), 0);
        if let Err(error) = result {
            tracing::warn!(path = %self.path.display(), %error, "cannot write the anchor");
        }
    }
}

/// Checks the recovered tail against the anchor, if a readable one exists.
pub(crate) fn check(
    data_dir: &Path,
    tail: &Tail,
    hash_at: impl Fn(u64) -> Result<Option<[u8; 32]>, StoreError>,
) -> Result<(), StoreError> {
    let path = anchor_path(data_dir);
    let mut bytes = Vec::new();
    match File::open(&path) {
        Ok(mut file) => {
            file.read_to_end(&mut bytes)
                .map_err(|e| StoreError::DataDir {
                    path: path.display().to_string(),
                    detail: e.to_string(),
                })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::DataDir {
                path: path.display().to_string(),
                detail: e.to_string(),
            });
        }
    }
    if bytes.is_empty() {
        return Ok(());
    }
    let Some((position, hash)) = decode(&bytes) else {
        tracing::warn!(path = %path.display(), "the anchor is unreadable (a torn write?); ignoring it");
        return Ok(());
    };
    if position > tail.position {
        return Err(StoreError::Corrupt {
            position: tail.position + 1,
            detail: format!(
                "the log ends at position {} but position {position} was committed and acknowledged: the storage engine lost events; restore the data directory from a backup",
                tail.position
            ),
        });
    }
    if position > 0 && hash_at(position)? != Some(hash) {
        return Err(StoreError::Corrupt {
            position,
            detail: format!(
                "the event here does not match the commit point's anchor: it is not the one committed (whose hash was {})",
                encode_hex(&hash)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anchor_round_trips_and_a_torn_one_is_not_read() {
        let tail = Tail {
            position: 42,
            hash: [9; 32],
            recorded_at: None,
        };
        let bytes = encode(&tail);
        assert_eq!(decode(&bytes), Some((42, [9; 32])));
        for i in 0..ANCHOR_BYTES {
            let mut torn = bytes;
            torn[i] ^= 0x10;
            assert_eq!(decode(&torn), None, "byte {i}");
        }
    }
}
