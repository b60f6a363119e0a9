//! The emails: one per handled order event, stored whole (the MIME bytes)
//! before it is sent, then marked sent or failed by the sending job.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::emails;

crate::pg_enum! {
    /// Which notice an email is.
    pub enum Kind {
        OrderConfirmation = "order_confirmation",
        OrderCancelled = "order_cancelled",
        OrderShipped = "order_shipped",
        /// The card payment was captured (event `OrderPaid`).
        PaymentConfirmation = "payment_confirmation",
        /// A cancelled order's payment was given back (event `OrderRefunded`).
        OrderRefunded = "order_refunded",
    }
}

crate::pg_enum! {
    /// Where an email is in its delivery.
    pub enum State {
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
    }
}

/// An email to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = emails)]
pub struct NewEmail {
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub kind: Kind,
    pub recipient: String,
    pub message_id: String,
    pub message: Vec<u8>,
}

/// A stored email, as the sending job reads it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = emails, check_for_backend(diesel::pg::Pg))]
pub struct EmailRow {
    pub id: i64,
    pub order_id: Uuid,
    pub recipient: String,
    pub message: Vec<u8>,
    pub state: State,
    /// Which template it was written from.
    pub kind: Kind,
}

/// Stores `email` (pending) and returns its id.
pub async fn insert(conn: &mut AsyncPgConnection, email: &NewEmail) -> QueryResult<i64> {
    diesel::insert_into(emails::table)
        .values(email)
        .returning(emails::id)
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<EmailRow>> {
    emails::table
        .find(id)
        .select(EmailRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Whether an earlier email about the same order is still pending: one
/// order's emails go out in the order of its events.
pub async fn earlier_one_pending(conn: &mut AsyncPgConnection, id: i64, order_id: Uuid) -> QueryResult<bool> {
    let earlier = emails::table
        .filter(emails::order_id.eq(order_id))
        .filter(emails::id.lt(id))
        .filter(emails::state.eq(State::Pending));
    diesel::select(diesel::dsl::exists(earlier)).get_result(conn).await
}

pub async fn mark_sent(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(emails::table.find(id))
        .set((
            emails::state.eq(State::Sent),
            emails::sent_time.eq(diesel::dsl::now),
            emails::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await
}

/// Records a delivery error: the email stays pending (a retry follows) or
/// becomes failed (the server refused it for good).
pub async fn record_error(conn: &mut AsyncPgConnection, id: i64, error: &str, failed: bool) -> QueryResult<usize> {
    let state = if failed { State::Failed } else { State::Pending };
    diesel::update(emails::table.find(id))
        .set((emails::state.eq(state), emails::last_error.eq(error)))
        .execute(conn)
        .await
}
