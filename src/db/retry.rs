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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> ApiError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned())).into()
    }

    #[tokio::test(start_paused = true)]
    async fn conflicts_are_retried_until_they_go_away() {
        let tries = AtomicU32::new(0);
        let result = retry_transient(|| async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 => Err(database_error(
                    DatabaseErrorKind::SerializationFailure,
                    "could not serialize",
                )),
                1 => Err(database_error(DatabaseErrorKind::Unknown, "deadlock detected")),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(tries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_after_the_last_attempt_and_other_errors_are_not_retried() {
        let tries = AtomicU32::new(0);
        let deadlocked = retry_transient(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(database_error(DatabaseErrorKind::Unknown, "deadlock detected"))
        });
        assert!(is_transient(&deadlocked.await.unwrap_err()));
        assert_eq!(tries.swap(0, Ordering::SeqCst), ATTEMPTS);

        let violated = retry_transient(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(database_error(DatabaseErrorKind::CheckViolation, "check"))
        });
        assert!(!is_transient(&violated.await.unwrap_err()));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn database_errors_map_to_what_the_caller_can_do() {
        let timeout = database_error(
            DatabaseErrorKind::Unknown,
            "canceling statement due to statement timeout",
        );
        assert!(matches!(timeout, ApiError::DeadlineExceeded));
        let gone = || {
            Box::new(DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new(String::new()),
            ))
        };
        let commit = DieselError::RollbackErrorOnCommit {
            commit_error: gone(),
            rollback_error: gone(),
        };
        assert!(matches!(ApiError::from(commit), ApiError::Unavailable(_)));
        let shutdown = database_error(
            DatabaseErrorKind::Unknown,
            "terminating connection due to administrator command",
        );
        assert!(matches!(shutdown, ApiError::Unavailable(_)));
    }
}
