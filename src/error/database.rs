//! Database errors in the caller's terms, decided once, where diesel's
//! error is first seen (the `?` in a query or a transaction): the server or
//! the connection is gone ([`ApiError::Unavailable`]), the transaction
//! conflicted with another and may be run again ([`ApiError::Aborted`]), a
//! statement ran past its timeout ([`ApiError::DeadlineExceeded`]), a named
//! constraint that a caller can break ([`on_constraint`]), or a bug.
//!
//! diesel does not expose SQLSTATEs beyond a few kinds, so some classes are
//! told apart by PostgreSQL's (English, fixed) messages.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::{PoolError as ManagerError, deadpool::PoolError};

use super::ApiError;

/// Where a database error is first seen, it is classified once: what it
/// means for the caller, and whether the transaction is worth running again
/// ([`ApiError::Aborted`]).
impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        if is_connection_failure(&error) {
            ApiError::Unavailable(Box::new(error))
        } else if is_transaction_conflict(&error) {
            ApiError::Aborted(Box::new(error))
        } else if is_statement_timeout(&error) {
            ApiError::DeadlineExceeded
        } else {
            ApiError::Internal(Box::new(error))
        }
    }
}

impl From<PoolError> for ApiError {
    fn from(error: PoolError) -> Self {
        match error {
            // Timeouts (pool exhausted or server not answering), failed
            // connects and failed recycles all mean "try again later".
            PoolError::Timeout(_) | PoolError::Closed => ApiError::Unavailable(Box::new(error)),
            PoolError::Backend(ManagerError::ConnectionError(_) | ManagerError::QueryError(_)) => {
                ApiError::Unavailable(Box::new(error))
            }
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

/// A violation of the constraint named `constraint` becomes `mapped()`, the
/// caller's error; any other database error converts as usual.
pub fn on_constraint(error: DieselError, constraint: &str, mapped: impl FnOnce() -> ApiError) -> ApiError {
    match &error {
        DieselError::DatabaseError(_, info) if info.constraint_name() == Some(constraint) => mapped(),
        _ => error.into(),
    }
}

/// True for a serialization failure (SQLSTATE 40001) or a deadlock
/// (40P01), also when it surfaced at the commit: PostgreSQL rolled the
/// transaction back, and the same work may well succeed when run again.
fn is_transaction_conflict(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        // diesel does not expose the SQLSTATE of a deadlock; its message is fixed.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => info.message() == "deadlock detected",
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_transaction_conflict(commit_error),
        _ => false,
    }
}

/// True when PostgreSQL cancelled the statement for running past its
/// `statement_timeout` (SQLSTATE 57014, which diesel does not expose).
fn is_statement_timeout(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
        if info.message() == "canceling statement due to statement timeout")
}

/// True when a database error means the connection or the server is gone,
/// rather than that the statement was wrong.
pub fn is_connection_failure(error: &DieselError) -> bool {
    match error {
        DieselError::BrokenTransactionManager => true,
        // A failed COMMIT whose ROLLBACK failed too: usually the connection died.
        DieselError::RollbackErrorOnCommit {
            commit_error,
            rollback_error,
        } => is_connection_failure(commit_error) || is_connection_failure(rollback_error),
        DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection, _) => {
            true
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            // diesel does not expose the SQLSTATE; these are the messages of
            // class 57P (operator intervention: admin shutdown, crash
            // recovery, server starting up or shutting down).
            let message = info.message();
            message.starts_with("terminating connection") || message.starts_with("the database system is")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> ApiError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned())).into()
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

    #[test]
    fn conflicts_between_transactions_are_aborted_and_retryable() {
        let serialization = database_error(DatabaseErrorKind::SerializationFailure, "could not serialize access");
        let deadlock = database_error(DatabaseErrorKind::Unknown, "deadlock detected");
        let at_commit = ApiError::from(DieselError::RollbackErrorOnCommit {
            commit_error: Box::new(DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                Box::new(String::new()),
            )),
            rollback_error: Box::new(DieselError::NotInTransaction),
        });
        for conflict in [serialization, deadlock, at_commit] {
            assert!(matches!(conflict, ApiError::Aborted(_)), "{conflict:?}");
            assert_eq!(conflict.code(), Code::Aborted);
            assert!(conflict.is_retryable());
            assert_eq!(conflict.reason(), "TRANSACTION_CONFLICT");
        }
        let check = database_error(DatabaseErrorKind::CheckViolation, "check");
        assert!(matches!(check, ApiError::Internal(_)));
    }
}
