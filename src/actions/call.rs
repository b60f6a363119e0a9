//! One call's view of the server: the shared state plus the call's deadline.
//!
//! The deadline bounds the database work as well as the wait for the reply.
//! A pool checkout gives up at the deadline, and a transaction that starts
//! with less time left than the sessions' `statement_timeout` lowers it for
//! itself (`SET LOCAL`), so a call that has already been answered with
//! DEADLINE_EXCEEDED does not leave its SQL running and holding row locks.
//! Transactions with time to spare skip that statement: it would cost a
//! round trip and change nothing.
//!
//! Reads run outside transactions and are not lowered: they are single
//! indexed statements, and the session's `statement_timeout` bounds them.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection, pooled_connection::deadpool::Object};
use tokio::time::Instant;

use super::AppState;
use crate::{error::ApiError, middleware::deadline::CallDeadline};

/// A connection checked out of the pool.
pub type Connection = Object<AsyncPgConnection>;

/// The state and the deadline of one call.
#[derive(Debug, Clone)]
pub struct Call {
    pub state: AppState,
    deadline: Option<Instant>,
}

impl Call {
    /// The call `request` belongs to; its deadline comes from the
    /// [`CallDeadline`] the middleware put in its extensions, if any.
    pub fn new<T>(state: &AppState, request: &tonic::Request<T>) -> Self {
        let deadline = request.extensions().get::<CallDeadline>().map(|d| d.0);
        Call {
            state: state.clone(),
            deadline,
        }
    }

    /// A pooled connection, waiting no longer than the deadline (nor than
    /// the pool's own wait timeout, which answers UNAVAILABLE).
    pub async fn connection(&self) -> Result<Connection, ApiError> {
        let checkout = self.state.pool.get();
        match self.deadline {
            None => Ok(checkout.await?),
            Some(deadline) => match tokio::time::timeout_at(deadline, checkout).await {
                Ok(conn) => Ok(conn?),
                Err(_) => Err(ApiError::DeadlineExceeded),
            },
        }
    }

    /// The first statement of every transaction: lowers `statement_timeout`
    /// to the time left when that is less than the session's. Fails at once
    /// when no time is left.
    pub async fn bound_transaction(&self, conn: &mut AsyncPgConnection) -> Result<(), ApiError> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ApiError::DeadlineExceeded);
        }
        if left < self.state.statement_timeout {
            // An integer we format ourselves: nothing to inject, and the simple
            // protocol makes this one round trip.
            let millis = left.as_millis().max(1);
            conn.batch_execute(&format!("SET LOCAL statement_timeout = {millis}"))
                .await?;
        }
        Ok(())
    }
}
