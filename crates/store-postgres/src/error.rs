//! PostgreSQL's errors as the store's.
//!
//! A failure of PostgreSQL is a [`StoreError::Backend`] with what PostgreSQL said, and a lost
//! connection says so (the store connects again by itself, see `conn`). Only the SQLSTATE and
//! PostgreSQL's message are kept, never the `DETAIL`
//! (which may quote values), so no personal data reaches a log line through an error.

use store::StoreError;

/// A PostgreSQL failure as a store error.
pub(crate) fn db(error: tokio_postgres::Error) -> StoreError {
    if error.is_closed() {
        return backend("the connection to the database was lost".into());
    }
    match error.as_db_error() {
        Some(e) => backend(format!("{} (SQLSTATE {})", e.message(), e.code().code())),
        None => backend(error.to_string()),
    }
}

/// The same failure for another caller of the failed group (`StoreError` is not `Clone`).
pub(crate) fn copy(error: &StoreError) -> StoreError {
    match error {
        StoreError::Backend { backend, detail } => StoreError::Backend {
            backend,
            detail: detail.clone(),
        },
        other => StoreError::Stopped(other.to_string()),
    }
}

fn backend(detail: String) -> StoreError {
    StoreError::Backend {
        backend: "PostgreSQL",
        detail,
    }
}

/// Whether the error is a unique violation (another node took the same version or id first).
pub(crate) fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}
