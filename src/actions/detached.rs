//! The one way a handler runs an action: [`detached`] from the caller, and
//! run again while PostgreSQL aborts it for a conflict.
//!
//! Detached: the action runs in its own task, so a client that disconnects
//! or times out mid-call cannot drop a transaction half-way; it finishes
//! (commit or rollback) and the connection goes back to the pool clean.
//!
//! Retried: a serialization failure or a deadlock ([`ApiError::Aborted`],
//! classified where the diesel error is first seen) rolled everything back
//! and says nothing about the request, so the whole action runs again, up
//! to [`CONFLICT_ATTEMPTS`] times with a short growing pause. Our locking
//! order (an order's row, then its products by id) is meant to make
//! deadlocks impossible; the retry is cheap insurance that a caller never
//! sees a conflict that a second attempt resolves. Only when every attempt
//! conflicts does the caller get ABORTED, which gRPC defines as retryable.
//! Running an action again is safe because each attempt is one transaction
//! that either committed (and then did not conflict) or changed nothing.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::error::ApiError;

/// How many times an action is run before a conflict reaches the caller.
pub const CONFLICT_ATTEMPTS: u32 = 4;

/// Runs `action` on `input` in its own task, again after a conflict, and
/// waits for the result. The task runs to the end even when the caller's
/// future is dropped. `action` borrows `input`, which the task owns, so it
/// can be run as often as needed: `|(call, id)| get(call, *id).boxed()`.
pub async fn detached<I, R, A>(input: I, action: A) -> Result<R, ApiError>
where
    I: Send + Sync + 'static,
    R: Send + 'static,
    A: for<'a> Fn(&'a I) -> BoxFuture<'a, Result<R, ApiError>> + Send + Sync + 'static,
{
    // In the call's span (if traced), so the action's spans are its children.
    let span = match crate::traces::enabled() {
        true => tracing::Span::current(),
        false => tracing::Span::none(),
    };
    let task = async move { retry_conflicts(|| action(&input)).await };
    let task = tokio::spawn(tracing::Instrument::instrument(task, span));
    task.await.map_err(ApiError::internal)?
}

/// Runs `attempt` until it succeeds, fails for another reason than a
/// conflict, or has been tried [`CONFLICT_ATTEMPTS`] times.
async fn retry_conflicts<R, F, Fut>(mut attempt: F) -> Result<R, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, ApiError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(ApiError::Aborted(cause)) if tries < CONFLICT_ATTEMPTS => {
                tracing::debug!(error = %cause, tries, "running an action again after a transaction conflict");
                tokio::time::sleep(Duration::from_millis(5 << tries)).await;
                tries += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use futures_util::FutureExt;
    use tonic::Code;

    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> ApiError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned())).into()
    }

    #[tokio::test(start_paused = true)]
    async fn conflicts_are_retried_until_they_go_away() {
        let tries = AtomicU32::new(0);
        let result = retry_conflicts(|| async {
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
        let deadlocked = retry_conflicts(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(database_error(DatabaseErrorKind::Unknown, "deadlock detected"))
        });
        assert_eq!(deadlocked.await.unwrap_err().code(), Code::Aborted);
        assert_eq!(tries.swap(0, Ordering::SeqCst), CONFLICT_ATTEMPTS);

        let violated = retry_conflicts(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(database_error(DatabaseErrorKind::CheckViolation, "check"))
        });
        assert_eq!(violated.await.unwrap_err().code(), Code::Internal);
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_detached_action_runs_again_on_its_input_and_finishes_without_its_caller() {
        let tries = std::sync::Arc::new(AtomicU32::new(0));
        let counted = tries.clone();
        let (done, finished) = tokio::sync::oneshot::channel::<u32>();
        let input = (counted, std::sync::Mutex::new(Some(done)));
        let call = detached(input, |(tries, done)| {
            async move {
                if tries.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(database_error(DatabaseErrorKind::Unknown, "deadlock detected"));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                let done = done.lock().unwrap().take().expect("sent once");
                done.send(tries.load(Ordering::SeqCst)).expect("the test listens");
                Ok(())
            }
            .boxed()
        });
        // The caller gives up at once; the action still runs to its end.
        drop(tokio::time::timeout(Duration::from_millis(1), call).await);
        assert_eq!(finished.await.unwrap(), 2);
        assert_eq!(tries.load(Ordering::SeqCst), 2);
    }
}
