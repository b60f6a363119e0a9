//! Queries on `orders` and `order_line_items`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{order_line_items as lines, orders};
use crate::domain::{page::OrderCursor, pricing::PricedLine, state::OrderState};

/// A row of `orders`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct OrderRow {
    pub id: Uuid,
    pub customer_id: String,
    pub state: String,
    pub currency_code: String,
    pub total_units: i64,
    pub total_nanos: i32,
    pub ship_recipient: String,
    pub ship_line1: String,
    pub ship_line2: String,
    pub ship_city: String,
    pub ship_region: String,
    pub ship_postal_code: String,
    pub ship_country_code: String,
    pub cancel_reason: Option<String>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub ship_time: Option<DateTime<Utc>>,
    pub cancel_time: Option<DateTime<Utc>>,
}

/// A row of `order_line_items`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lines, check_for_backend(diesel::pg::Pg))]
pub struct LineItemRow {
    pub order_id: Uuid,
    pub position: i16,
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price_units: i64,
    pub unit_price_nanos: i32,
    pub line_total_units: i64,
    pub line_total_nanos: i32,
}

/// An order with its lines, in line order.
#[derive(Debug, Clone)]
pub struct OrderWithLines {
    pub order: OrderRow,
    pub lines: Vec<LineItemRow>,
}

/// The stored form of line `position` of order `order_id`.
pub fn line_row(order_id: Uuid, position: i16, line: &PricedLine) -> LineItemRow {
    LineItemRow {
        order_id,
        position,
        product_id: line.product_id,
        sku: line.sku.clone(),
        name: line.name.clone(),
        quantity: line.quantity,
        unit_price_units: line.unit_price.units(),
        unit_price_nanos: line.unit_price.nanos(),
        line_total_units: line.line_total.units(),
        line_total_nanos: line.line_total.nanos(),
    }
}

/// One order without its lines; with `lock`, the row stays locked until the
/// transaction ends, which serialises every state change of one order.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid, lock: bool) -> QueryResult<Option<OrderRow>> {
    let query = orders::table.find(id).select(OrderRow::as_select());
    let row = if lock {
        query.for_update().first(conn).await
    } else {
        query.first(conn).await
    };
    row.optional()
}

/// The lines of every order in `order_ids`, in one query (never one per order).
pub async fn lines_of(conn: &mut AsyncPgConnection, order_ids: &[Uuid]) -> QueryResult<Vec<LineItemRow>> {
    lines::table
        .filter(lines::order_id.eq_any(order_ids))
        .order((lines::order_id, lines::position))
        .select(LineItemRow::as_select())
        .load(conn)
        .await
}

/// Attaches to each order its lines from `lines` (as loaded by [`lines_of`]).
pub fn with_lines(orders: Vec<OrderRow>, mut lines: Vec<LineItemRow>) -> Vec<OrderWithLines> {
    let mut result: Vec<OrderWithLines> = orders
        .into_iter()
        .map(|order| OrderWithLines {
            order,
            lines: Vec::new(),
        })
        .collect();
    let index: std::collections::HashMap<Uuid, usize> =
        result.iter().enumerate().map(|(i, o)| (o.order.id, i)).collect();
    for line in lines.drain(..) {
        if let Some(&i) = index.get(&line.order_id) {
            result[i].lines.push(line);
        }
    }
    result
}

/// Up to `limit` orders of `customer_id`, newest first, after `cursor`.
pub async fn history(
    conn: &mut AsyncPgConnection,
    customer_id: &str,
    cursor: Option<OrderCursor>,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    let query = orders::table
        .filter(orders::customer_id.eq(customer_id))
        .order((orders::create_time.desc(), orders::id.desc()))
        .limit(limit)
        .select(OrderRow::as_select());
    let Some(cursor) = cursor else {
        return query.load(conn).await;
    };
    let time = DateTime::<Utc>::from_timestamp_micros(cursor.create_time_micros).unwrap_or_default();
    // (create_time, id) < (time, id), spelled so that the index range on
    // (customer_id, create_time DESC, id DESC) is used.
    query
        .filter(orders::create_time.le(time))
        .filter(orders::create_time.lt(time).or(orders::id.lt(cursor.order_id)))
        .load(conn)
        .await
}

/// Moves a locked order to SHIPPED.
pub async fn mark_shipped(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<OrderRow> {
    diesel::update(orders::table.find(id))
        .set((
            orders::state.eq(OrderState::Shipped.as_db()),
            orders::ship_time.eq(diesel::dsl::now),
            orders::update_time.eq(diesel::dsl::now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
}

/// Moves a locked order to CANCELLED with `reason`.
pub async fn mark_cancelled(conn: &mut AsyncPgConnection, id: Uuid, reason: &str) -> QueryResult<OrderRow> {
    diesel::update(orders::table.find(id))
        .set((
            orders::state.eq(OrderState::Cancelled.as_db()),
            orders::cancel_reason.eq(reason),
            orders::cancel_time.eq(diesel::dsl::now),
            orders::update_time.eq(diesel::dsl::now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
}
