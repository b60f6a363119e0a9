//! Queries on `order_payments`: what the orders service knows of each
//! order's card payment (the saga's progress). Changed only under the
//! order's row lock, together with the order and its audit row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::order_payments as payments;
use crate::domain::payment::PaymentStatus;

/// A row of `order_payments`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub struct OrderPaymentRow {
    pub order_id: Uuid,
    pub payment_method: String,
    pub status: PaymentStatus,
    pub payment_id: Option<Uuid>,
    pub decline_code: Option<String>,
    pub update_time: DateTime<Utc>,
}

/// The payment of every order in `order_ids` that is paid by card, in one
/// query. Shared, so that it can be pipelined with the orders' reads.
pub async fn of_orders(mut conn: &AsyncPgConnection, order_ids: &[Uuid]) -> QueryResult<Vec<OrderPaymentRow>> {
    payments::table
        .filter(payments::order_id.eq_any(order_ids))
        .select(OrderPaymentRow::as_select())
        .load(&mut conn)
        .await
}

/// The payment of order `order_id`, if it is paid by card.
pub async fn find(mut conn: &AsyncPgConnection, order_id: Uuid) -> QueryResult<Option<OrderPaymentRow>> {
    payments::table
        .find(order_id)
        .select(OrderPaymentRow::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// What the saga learnt of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    pub status: PaymentStatus,
    /// The payment service's id of the payment, once it has one.
    pub payment_id: Option<Uuid>,
    pub decline_code: Option<&'a str>,
}

/// Records `progress` on a locked order's payment.
pub async fn record(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    progress: Progress<'_>,
) -> QueryResult<OrderPaymentRow> {
    diesel::update(payments::table.find(order_id))
        .set((
            payments::status.eq(progress.status),
            payments::payment_id.eq(progress.payment_id),
            payments::decline_code.eq(progress.decline_code),
            payments::update_time.eq(diesel::dsl::now),
        ))
        .returning(OrderPaymentRow::as_returning())
        .get_result(conn)
        .await
}
