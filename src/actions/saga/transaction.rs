//! How the saga's steps touch an order: a snapshot to start from, and one
//! transaction under the order's row lock per change, after whose commit
//! the step is counted and the outbox's doorbell rung.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::Saga;
use crate::{
    actions::order_lock::{self, Locked},
    db::{
        order_payments,
        orders::{self, OrderWithLines},
    },
    error::ApiError,
    jobs::worker::JobError,
    monitoring,
};

/// A snapshot of the order, unlocked: what the charge job starts from.
pub async fn read(saga: &Saga, order_id: Uuid) -> Result<Option<OrderWithLines>, JobError> {
    let conn = saga.state.pool.get().await.map_err(JobError::retry)?;
    let conn: &AsyncPgConnection = &conn;
    let (order, payment) = futures_util::future::try_join(
        orders::find(conn, order_id, false),
        order_payments::find(conn, order_id),
    )
    .await
    .map_err(JobError::retry)?;
    Ok(order.map(|order| OrderWithLines {
        order,
        lines: Vec::new(),
        payment,
    }))
}

/// A step a change recorded, to count (and announce) after its commit.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Its name in `orders_payment_saga_steps_total`.
    pub name: &'static str,
    /// The state the order entered, if it changed (it then published an event).
    pub to_state: Option<&'static str>,
    /// Whether it wrote an event without a change of state (a refund).
    pub published: bool,
}

impl Step {
    /// A step that changes no state and publishes nothing.
    pub const fn quiet(name: &'static str) -> Option<Step> {
        Some(Step {
            name,
            to_state: None,
            published: false,
        })
    }

    /// A step that moves the order to `to_state`, with its event.
    pub const fn moving(name: &'static str, to_state: &'static str) -> Option<Step> {
        Some(Step {
            name,
            to_state: Some(to_state),
            published: true,
        })
    }
}

/// Runs `change` on order `order_id` under its lock, in one transaction;
/// after the commit, counts the step it recorded (if any) and rings the
/// outbox's doorbell if it wrote an event.
pub async fn locked<T: Send>(
    saga: &Saga,
    order_id: Uuid,
    change: impl for<'c> FnOnce(&'c mut AsyncPgConnection, Locked) -> BoxFuture<'c, Result<(T, Option<Step>), ApiError>>
    + Send,
) -> Result<T, JobError> {
    let mut conn = saga.state.pool.get().await.map_err(JobError::retry)?;
    let result = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let locked = order_lock::lock(conn, order_id).await?;
            let locked = locked.ok_or_else(|| crate::actions::orders::order_not_found(order_id))?;
            change(conn, locked).await
        })
        .await;
    let (value, step) = result.map_err(|error| match error {
        ApiError::NotFound { .. } => JobError::Permanent(format!("order {order_id} does not exist")),
        error => JobError::Retry(error.to_string()),
    })?;
    if let Some(step) = step {
        monitoring::count_saga_step(step.name);
        if let Some(to_state) = step.to_state {
            monitoring::count_order_state(to_state);
        }
        if step.published || step.to_state.is_some() {
            saga.state.outbox.ring();
        }
    }
    Ok(value)
}
