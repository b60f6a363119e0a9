//! Retrying transactions that PostgreSQL aborted for reasons that say
//! nothing about the request: serialization failures and deadlocks.
//!
//! Our locking order (products by id, then nothing else) is meant to make
//! deadlocks impossible, but a retry is cheap insurance: the caller must
//! never see `INTERNAL` for a conflict that a second attempt resolves.

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::error::ApiError;

const ATTEMPTS: u32 = 4;

/// Runs `attempt` until it succeeds, fails for a non-transient reason, or
/// has been tried [`ATTEMPTS`] times, with a short growing pause in between.
pub async fn retry_transient<R, F, Fut>(mut attempt: F) -> Result<R, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, ApiError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < ATTEMPTS && is_transient(&error) => {
                tracing::debug!(?error, tries, "retrying a transaction after a transient conflict");
                tokio::time::sleep(Duration::from_millis(5 << tries)).await;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// True for serialization failures (40001) and deadlocks (40P01).
pub fn is_transient(error: &ApiError) -> bool {
    let ApiError::Internal(cause) = error else {
        return false;
    };
    match cause.downcast_ref::<DieselError>() {
        Some(DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => true,
        // diesel does not expose the SQLSTATE of a deadlock; its message is fixed.
        Some(DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)) => info.message() == "deadlock detected",
        _ => false,
    }
}
