//! One call's view of the server: the shared state, who is calling (the
//! [`Caller`] the auth layer admitted), the call's request id and its
//! deadline.
//!
//! The deadline bounds the database work as well as the wait for the reply.
//! [`Call::run`] checks a connection out of the pool (giving up at the
//! deadline) and runs the work on it; if the deadline passes while a
//! statement runs, it asks PostgreSQL to cancel that statement (a
//! transaction then rolls back and releases its locks), waits for the work
//! to end, and throws the connection away rather than pooling it: a cancel
//! request is asynchronous and could otherwise arrive while the connection
//! runs the next call's statement. This costs nothing while calls meet their
//! deadlines: no extra statement, no extra round trip.
//!
//! With traces on, [`Call::run`] is also where every action's database
//! work gets its span ([`crate::traces::db::work_span`]), named after the
//! RPC (the [`Method`] the call log left in the request's extensions).

use std::sync::Arc;

use diesel_async::{AsyncPgConnection, pooled_connection::deadpool::Object};
use tokio::time::Instant;
use uuid::Uuid;

use super::AppState;
use crate::{
    auth::Caller,
    db::audit::Actor,
    error::ApiError,
    monitoring::catalogue::{POOL_ACQUIRE_SECONDS, STATEMENT_SECONDS},
    proto::Method,
    traces,
};

/// The id of one call: the caller's `x-request-id`, else one made up for
/// it by the call log ([`crate::middleware::log`]), which also echoes it.
/// It goes to the call's log line and to its audit rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

/// When the call must be over: the earlier of the client's deadline and the
/// server's maximum, set by [`crate::middleware::deadline`] on every call it
/// times. The database work stops then too ([`Call::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallDeadline(pub Instant);

/// A connection checked out of the pool.
pub type Connection = Object<AsyncPgConnection>;

/// The state, the caller and the deadline of one call.
#[derive(Debug, Clone)]
pub struct Call {
    pub state: AppState,
    pub caller: Arc<Caller>,
    request_id: Option<RequestId>,
    deadline: Option<Instant>,
    /// The RPC, which names the call's database work in the metrics and,
    /// when the call is traced, its span.
    method: Option<Method>,
}

impl Call {
    /// The call `request` belongs to, from what the middleware put in its
    /// extensions: the caller (required: without one the call is refused),
    /// the request id and the deadline.
    pub fn new<T>(state: &AppState, request: &tonic::Request<T>) -> Result<Self, ApiError> {
        let extensions = request.extensions();
        Ok(Call {
            state: state.clone(),
            caller: Caller::of(request)?,
            request_id: extensions.get::<RequestId>().cloned(),
            deadline: extensions.get::<CallDeadline>().map(|d| d.0),
            method: extensions.get::<Method>().copied(),
        })
    }

    /// Who makes this call's changes, for the audit trail: the request's own
    /// `request_id` (its idempotency key) when it has one, else the call's.
    pub fn actor(&self, request_id: Option<Uuid>) -> Actor {
        let request_id = match (request_id, &self.request_id) {
            (Some(id), _) => id.to_string(),
            (None, Some(call)) => call.0.to_string(),
            (None, None) => String::new(),
        };
        Actor {
            subject: self.caller.subject.clone(),
            role: self.caller.role_name(),
            request_id,
        }
    }

    /// Runs `work` on a pooled connection, within the call's deadline, in
    /// a database span when the call is traced.
    pub async fn run<R>(
        &self,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let Some(method) = self.method.filter(|_| traces::enabled()) else {
            return self.run_untraced(work).await;
        };
        let span = traces::db::work_span(method.name(), &self.state.database);
        let result = tracing::Instrument::instrument(self.run_untraced(work), span.clone()).await;
        // Only the database's failures, not the answers it gave (NOT_FOUND, ...).
        let failed = matches!(
            result,
            Err(ApiError::Unavailable(_) | ApiError::Internal(_) | ApiError::Aborted(_) | ApiError::DeadlineExceeded)
        );
        traces::record_failure(&span, failed);
        result
    }

    async fn run_untraced<R>(
        &self,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut conn = self.connection().await?;
        let operation = self.method.map_or("unknown", Method::name);
        let _timer = Timer::start(STATEMENT_SECONDS, operation);
        let Some(deadline) = self.deadline else {
            return work(&mut conn).await;
        };
        let cancel = conn.cancel_token();
        let result = {
            let work = work(&mut conn);
            tokio::pin!(work);
            tokio::select! {
                result = &mut work => return result,
                () = tokio::time::sleep_until(deadline) => {}
            }
            if let Err(error) = cancel.cancel_query(tokio_postgres::NoTls).await {
                tracing::warn!(%error, "could not cancel a statement past its deadline");
            }
            work.await
        };
        drop(Object::take(conn));
        // Work that completed anyway (the cancel came too late) stands; the
        // caller has been told DEADLINE_EXCEEDED by the middleware already.
        result.map_err(|_| ApiError::DeadlineExceeded)
    }

    /// A pooled connection, waiting no longer than the deadline (nor than
    /// the pool's own wait timeout, which answers UNAVAILABLE).
    async fn connection(&self) -> Result<Connection, ApiError> {
        let _timer = Timer::start(POOL_ACQUIRE_SECONDS, "");
        let checkout = self.state.pool.get();
        match self.deadline {
            None => Ok(checkout.await?),
            Some(deadline) => match tokio::time::timeout_at(deadline, checkout).await {
                Ok(conn) => Ok(conn?),
                Err(_) => Err(ApiError::DeadlineExceeded),
            },
        }
    }
}

/// Records the time from its start to its drop (however the work ends:
/// done, failed or cancelled) in the orders service's histogram `name`,
/// with the operation when there is one.
struct Timer {
    name: &'static str,
    operation: &'static str,
    start: std::time::Instant,
}

impl Timer {
    fn start(name: &'static str, operation: &'static str) -> Timer {
        Timer {
            name,
            operation,
            start: std::time::Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let seconds = self.start.elapsed().as_secs_f64();
        match self.operation {
            "" => metrics::histogram!(self.name, "service" => "orders").record(seconds),
            operation => {
                metrics::histogram!(self.name, "service" => "orders", "operation" => operation).record(seconds)
            }
        }
    }
}
