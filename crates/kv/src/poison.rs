//! [`Poison`]: remembers that a commit failed with an unknown outcome, so that the engine refuses
//! everything afterwards (the lesson of PostgreSQL's "fsyncgate": a failed fsync cannot be
//! retried, because the kernel may already have dropped the dirty pages it failed to write).

use std::path::Path;
use std::sync::OnceLock;

use crate::{EngineKind, KvError};

/// Set once, by the first failed commit; never cleared (reopening makes a new engine).
#[derive(Debug, Default)]
pub(crate) struct Poison {
    cause: OnceLock<String>,
}

impl Poison {
    /// `Ok` while no commit has failed.
    pub(crate) fn check(&self, engine: EngineKind, path: &Path) -> Result<(), KvError> {
        match self.cause.get() {
            None => Ok(()),
            Some(cause) => Err(KvError::Poisoned {
                engine,
                path: path.to_path_buf(),
                cause: cause.clone(),
            }),
        }
    }

    /// Records `cause`; the first cause recorded is kept.
    pub(crate) fn set(&self, cause: String) {
        let _first_cause_wins = self.cause.set(cause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisoned_once_stays_poisoned_with_the_first_cause() {
        let poison = Poison::default();
        let path = Path::new("/store");
        assert!(poison.check(EngineKind::Redb, path).is_ok());
        poison.set("disk full".to_owned());
        poison.set("later".to_owned());
        let error = poison
            .check(EngineKind::Redb, path)
            .expect_err("must be poisoned");
        assert!(
            matches!(&error, KvError::Poisoned { cause, .. } if cause == "disk full"),
            "{error}"
        );
    }
}
