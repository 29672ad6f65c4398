//! Exit codes (spec §8) and the command line's error type.

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Done,
    /// 1: anything else went wrong.
    Failed,
    /// 2: wrong usage.
    Usage,
    /// 3: input refused; nothing was written.
    Refused,
    /// 4: conflict with the expected version.
    Conflict,
}

impl Exit {
    /// The process exit code.
    pub const fn as_u8(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Refused => 3,
            Exit::Conflict => 4,
        }
    }
}

/// A command that could not be done, with the exit code it ends with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments make no sense together (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The input was refused; nothing was written (exit 3).
    #[error("{0}")]
    Refused(String),
    /// A conflict with the expected version of a stream; nothing was written (exit 4).
    #[error("{0}")]
    Conflict(String),
    /// Anything else (exit 1).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    /// The exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Refused(_) => Exit::Refused,
            CliError::Conflict(_) => Exit::Conflict,
            CliError::Other(_) => Exit::Failed,
        }
    }
}

impl CliError {
    /// The message with its causes, `what: why: deeper why`, each said once: an error that
    /// already quotes its source (as the store's do) is not followed by it again.
    pub fn message(&self) -> String {
        let CliError::Other(error) = self else {
            return self.to_string();
        };
        let mut text = String::new();
        for cause in error.chain() {
            let part = cause.to_string();
            if text.contains(&part) {
                continue;
            }
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        text
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> CliError {
        CliError::Other(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("storage: {0}")]
    struct Quoting(#[source] std::io::Error);

    #[test]
    fn a_cause_is_said_once() {
        let io = || std::io::Error::other("disk on fire");
        let error = CliError::from(anyhow::Error::new(Quoting(io())).context("the import failed"));
        assert_eq!(error.message(), "the import failed: storage: disk on fire");
        let error = CliError::from(anyhow::Error::new(io()).context("cannot read x.jsonl"));
        assert_eq!(error.message(), "cannot read x.jsonl: disk on fire");
        assert_eq!(
            CliError::Refused("line 3: no".into()).message(),
            "line 3: no"
        );
    }
}
