//! The audit trail read back: GetOrder shows every state change of an order
//! with who made it, when and why; and the migration that added the trail
//! backfilled the history of the orders and products that existed before.

use chrono::{DateTime, Utc};
use diesel::{
    QueryableByName,
    sql_types::{Text, Timestamptz},
};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use orders::proto::{self, OrderState};

use super::callers;
use crate::{
    api_calls::{cancel, place_order, product_id},
    app::{Clients, spawn_secured_app},
    assertions::time,
    requests::order_request,
    test_database::TestDatabase,
};

fn change(from: OrderState, to: OrderState, subject: &str, role: &str, reason: &str) -> (i32, i32, String, String) {
    (
        from.into(),
        to.into(),
        format!("{subject} as {role}"),
        reason.to_owned(),
    )
}

#[tokio::test]
async fn get_order_shows_every_state_change_with_who_when_and_why() {
    let app = spawn_secured_app().await;
    let who = callers(&app);
    let product = product_id(&app, "MUG", 10).await;
    let history_of = async |clients: &Clients, order_id: &str| {
        let request = proto::GetOrderRequest {
            order_id: order_id.to_owned(),
        };
        clients.orders.clone().get_order(request).await.unwrap().into_inner()
    };
    let placed = (who.alice.orders.clone())
        .create_order(order_request("alice", &[(&product, 1)]))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    (who.warehouse.orders.clone())
        .ship_order(proto::ShipOrderRequest {
            order_id: placed.order_id.clone(),
        })
        .await
        .unwrap();
    let shipped = history_of(&who.alice, &placed.order_id).await;
    let summary: Vec<_> = shipped.state_history.iter().map(summarise).collect();
    assert_eq!(
        summary,
        [
            change(OrderState::Unspecified, OrderState::Placed, "alice", "customer", ""),
            change(OrderState::Placed, OrderState::Shipped, "dock-7", "warehouse", ""),
        ]
    );
    let order = shipped.order.unwrap();
    assert_eq!(time(shipped.state_history[0].change_time), time(order.create_time));
    assert_eq!(time(shipped.state_history[1].change_time), time(order.ship_time));

    let other = place_order(&app, "alice", &[(&product, 1)]).await.order_id;
    let cancelled = cancel(&app, &other, "alice", "too slow").await.unwrap();
    let history = history_of(&who.warehouse, &other).await.state_history;
    assert_eq!(
        history.iter().map(summarise).collect::<Vec<_>>(),
        [
            change(OrderState::Unspecified, OrderState::Placed, "admin", "service", ""),
            change(
                OrderState::Placed,
                OrderState::Cancelled,
                "admin",
                "service",
                "too slow"
            ),
        ]
    );
    assert_eq!(time(history[1].change_time), time(cancelled.cancel_time));
}

fn summarise(c: &proto::OrderStateChange) -> (i32, i32, String, String) {
    let actor = c.actor.clone().unwrap();
    (
        c.from_state,
        c.to_state,
        format!("{} as {}", actor.subject, actor.role),
        c.reason.clone(),
    )
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = Text)]
    summary: String,
    #[diesel(sql_type = Timestamptz)]
    event_time: DateTime<Utc>,
}

#[tokio::test]
async fn the_migration_backfills_the_history_of_existing_orders() {
    let database = TestDatabase::create_empty().await;
    let mut conn = diesel_async::AsyncPgConnection::establish(&database.url).await.unwrap();
    run_first_migrations(&database.url, 2).await;
    conn.batch_execute(
        "INSERT INTO products (id, sku, name, currency_code, price_units, price_nanos, stock, create_time) \
         VALUES ('00000000-0000-7000-8000-000000000001', 'MUG', 'Mug', 'EUR', 1, 0, 5, '2026-01-01T00:00:00Z'); \
         INSERT INTO orders (id, customer_id, state, currency_code, total_units, total_nanos, ship_recipient, \
                             ship_line1, ship_city, ship_country_code, cancel_reason, create_time, cancel_time) \
         VALUES ('00000000-0000-7000-8000-0000000000a1', 'alice', 'CANCELLED', 'EUR', 1, 0, 'A', 'L', 'C', 'DE', \
                 'late', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z');",
    )
    .await
    .unwrap();
    orders::db::migrations::run(&database.url).await.unwrap();
    let events: Vec<Event> = diesel::sql_query(
        "SELECT action || ' ' || coalesce(from_state, '-') || ' ' || coalesce(to_state, '-') || ' ' \
                || coalesce(reason, '-') || ' [' || actor_subject || '/' || actor_role || ']' AS summary, event_time \
         FROM audit_events ORDER BY id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let summaries: Vec<&str> = events.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "ORDER_CREATED - PLACED - [/none]",
            "ORDER_CANCELLED PLACED CANCELLED late [/none]",
            "PRODUCT_CREATED - - - [/none]",
        ]
    );
    let times: Vec<String> = events.iter().map(|e| e.event_time.to_rfc3339()).collect();
    assert_eq!(
        times,
        [
            "2026-01-02T00:00:00+00:00",
            "2026-01-03T00:00:00+00:00",
            "2026-01-01T00:00:00+00:00"
        ]
    );
}

/// Applies only the first `n` migrations to the database at `url`, as an
/// older release would have.
async fn run_first_migrations(url: &str, n: usize) {
    use diesel_migrations::MigrationHarness;
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        type Wrapper = diesel_async::async_connection_wrapper::AsyncConnectionWrapper<diesel_async::AsyncPgConnection>;
        let mut conn = <Wrapper as diesel::Connection>::establish(&url).unwrap();
        for _ in 0..n {
            conn.run_next_migration(orders::db::migrations::MIGRATIONS).unwrap();
        }
    })
    .await
    .unwrap();
}
