//! ListOrders, the warehouse's pick list: one state's orders, oldest first,
//! keyset-paginated on (create_time, id) through `orders_state_idx`, each
//! with its lines and payment, in one round trip (as [`super::orders::history_page`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    order_payments::OrderPaymentRow,
    orders::{self, LineItemRow, OrderRow, OrderWithLines, PageRows},
    schema::orders as table,
};
use crate::domain::{page::OrderCursor, state::OrderState};

/// One page of the orders in `state` after `cursor` (from the oldest when
/// `None`), oldest first: `page_size + 1` orders, the extra one only
/// telling that another page exists.
pub async fn state_page(
    conn: &mut AsyncPgConnection,
    state: OrderState,
    cursor: Option<OrderCursor>,
    page_size: i64,
) -> QueryResult<Vec<OrderWithLines>> {
    let (rows, lines, payments) = page_rows(conn, state, cursor, page_size).await?;
    orders::complete_page(conn, orders::with_lines(rows, lines, payments), page_size).await
}

async fn page_rows(
    conn: &mut AsyncPgConnection,
    state: OrderState,
    cursor: Option<OrderCursor>,
    page_size: i64,
) -> QueryResult<PageRows> {
    let (time, id) = match cursor {
        Some(cursor) => (
            DateTime::<Utc>::from_timestamp_micros(cursor.create_time_micros).unwrap_or_default(),
            cursor.order_id,
        ),
        // Before any order there can be: first and later pages are one
        // statement shape, prepared once.
        None => (DateTime::<Utc>::UNIX_EPOCH, Uuid::nil()),
    };
    orders::load_page!(conn, orders_after(state, time, id), page_size)
}

/// The orders in `state` after the position (`time`, `id`), oldest first:
/// a range of `orders_state_idx`.
#[diesel::dsl::auto_type(no_type_alias)]
fn orders_after(state: OrderState, time: DateTime<Utc>, id: Uuid) -> _ {
    table::table
        .filter(table::state.eq(state))
        .filter(table::create_time.ge(time))
        .filter(table::create_time.gt(time).or(table::id.gt(id)))
        .order((table::create_time.asc(), table::id.asc()))
}
