//! Queries on payments and their ledger. A payment's movements are only
//! ever inserted; the row lock on the payment ([`lock`]) serialises them,
//! and the order's advisory lock ([`lock_order`]) its new payments.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types::Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{payment_movements as movements, payments};
use crate::payments::domain::ledger::{MovementKind, Totals};

/// A payment as AuthorizePayment created it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub struct PaymentRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: String,
    pub payment_method: String,
    pub currency_code: String,
    pub amount_nanos: i64,
    pub create_time: DateTime<Utc>,
}

/// One ledger entry, as the API shows it (the outbox columns aside).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = movements, check_for_backend(diesel::pg::Pg))]
pub struct MovementRow {
    pub payment_id: Uuid,
    pub sequence: i64,
    pub kind: MovementKind,
    pub amount_nanos: i64,
    pub authorized_nanos: i64,
    pub captured_nanos: i64,
    pub released_nanos: i64,
    pub refunded_nanos: i64,
    pub request_id: Uuid,
    pub failure_code: Option<String>,
    pub reason: String,
    pub create_time: DateTime<Utc>,
}

impl MovementRow {
    /// The payment's running totals after this entry.
    pub fn totals(&self) -> Totals {
        Totals {
            authorized: self.authorized_nanos,
            captured: self.captured_nanos,
            released: self.released_nanos,
            refunded: self.refunded_nanos,
        }
    }
}

/// A ledger entry to record: the entry, and its event for the outbox.
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub row: MovementRow,
    pub event_id: Uuid,
    pub event_payload: Vec<u8>,
}

/// Waits for, and holds until the transaction ends, the lock on new
/// payments of `order_id`, so that the count of its payments stays true
/// until the new one is inserted.
pub async fn lock_order(conn: &mut AsyncPgConnection, order_id: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind::<SqlUuid, _>(order_id)
        .execute(conn)
        .await
        .map(drop)
}

/// How many payments `order_id` has.
pub async fn count_for_order(conn: &mut AsyncPgConnection, order_id: Uuid) -> QueryResult<i64> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .count()
        .get_result(conn)
        .await
}

pub async fn insert(conn: &mut AsyncPgConnection, payment: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(payment)
        .execute(conn)
        .await
        .map(drop)
}

/// The payment `id`, its row locked until the transaction ends.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The payment `id`, if there is one.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The payments of `order_id`, oldest first.
pub async fn for_order(conn: &mut AsyncPgConnection, order_id: Uuid) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .order((payments::create_time, payments::id))
        .select(PaymentRow::as_select())
        .load(conn)
        .await
}

/// The ledgers of `ids`, each in sequence.
pub async fn movements_of(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<MovementRow>> {
    movements::table
        .filter(movements::payment_id.eq_any(ids))
        .order((movements::payment_id, movements::sequence))
        .select(MovementRow::as_select())
        .load(conn)
        .await
}

/// Appends `entries` to the ledger, with the trace context of the call
/// (for the relay to continue), in the current transaction.
pub async fn append(conn: &mut AsyncPgConnection, entries: &[NewMovement]) -> QueryResult<()> {
    let trace = crate::traces::propagation::stored();
    let (trace_parent, trace_state) = trace.map_or((None, None), |t| (Some(t.parent), t.state));
    let rows: Vec<_> = entries
        .iter()
        .map(|entry| {
            (
                &entry.row,
                movements::event_id.eq(entry.event_id),
                movements::event_payload.eq(&entry.event_payload),
                movements::trace_parent.eq(trace_parent.clone()),
                movements::trace_state.eq(trace_state.clone()),
            )
        })
        .collect();
    diesel::insert_into(movements::table)
        .values(rows)
        .execute(conn)
        .await
        .map(drop)
}
