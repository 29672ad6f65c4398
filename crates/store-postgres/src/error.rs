//! PostgreSQL's errors as the store's.
//!
//! `store::StoreError` has no variant for a database engine yet (its `Kv` variant is the
//! embedded engines'), so a failure of PostgreSQL is reported as [`StoreError::Stopped`] with
//! what PostgreSQL said, and a lost connection says so: this store does not reconnect by itself
//! (connect again). Only the SQLSTATE and PostgreSQL's message are kept, never the `DETAIL`
//! (which may quote values), so no personal data reaches a log line through an error.

use store::StoreError;

/// A PostgreSQL failure as a store error.
pub(crate) fn db(error: tokio_postgres::Error) -> StoreError {
    if error.is_closed() {
        return StoreError::Stopped("PostgreSQL: the connection is closed; connect again".into());
    }
    match error.as_db_error() {
        Some(e) => StoreError::Stopped(format!(
            "PostgreSQL: {} (SQLSTATE {})",
            e.message(),
            e.code().code()
        )),
        None => StoreError::Stopped(format!("PostgreSQL: {error}")),
    }
}

/// Whether the error is a unique violation (another node took the same version or id first).
pub(crate) fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}
