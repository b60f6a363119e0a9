//! The audit trail: every change writes exactly one row (who, what, when,
//! which request) in the change's own transaction; replays and refusals
//! write none; a change that fails at its very commit leaves neither the
//! change nor its row; the table is append-only; GetOrder shows an order's
//! state history from it; the migration backfills existing data.

use chrono::{DateTime, Utc};
use diesel::{
    QueryableByName,
    sql_types::{BigInt, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use orders::proto::{self, OrderState};
use tonic::{Code, Request};

use crate::{
    helpers::{Clients, TestApp, spawn_app, spawn_secured_app},
    support::*,
    tokens::token,
};

/// One row of `audit_events`, as a test compares it.
#[derive(Debug, PartialEq, Eq, QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Nullable<Text>)]
    request_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    change: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    quantity: Option<i64>,
}

fn row(action: &str, resource: &str, actor: &str, request_id: &str) -> Row {
    Row {
        action: action.into(),
        resource: resource.into(),
        actor: actor.into(),
        request_id: Some(request_id.into()),
        change: None,
        reason: None,
        quantity: None,
    }
}

async fn audit_rows(app: &TestApp) -> Vec<Row> {
    let mut conn = app.pool.get().await.unwrap();
    diesel::sql_query(
        "SELECT action, resource_type || '/' || resource_id AS resource, \
                actor_subject || ' as ' || actor_role AS actor, request_id, \
                from_state || ' -> ' || to_state AS change, reason, quantity \
         FROM audit_events ORDER BY id",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

/// `message` with the `x-request-id` metadata set.
fn with_request_id<T>(message: T, id: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-request-id", id.parse().unwrap());
    request
}

struct Callers {
    admin: Clients,
    alice: Clients,
    warehouse: Clients,
}

fn callers(app: &TestApp) -> Callers {
    Callers {
        admin: app.with_token(&token("merch", &["catalog-admin"])),
        alice: app.with_token(&token("alice", &["customer"])),
        warehouse: app.with_token(&token("dock-7", &["warehouse"])),
    }
}

#[tokio::test]
async fn every_change_writes_one_row_naming_who_what_and_the_request() {
    let app = spawn_secured_app().await;
    let who = callers(&app);
    let created_key = request_id();
    let mut create = product_request("TEA", (2, 0, "EUR"), 10);
    create.request_id = created_key.clone();
    let product = (who.admin.catalog.clone())
        .create_product(create)
        .await
        .unwrap()
        .into_inner();
    let product_id = product.product.unwrap().product_id;
    let restock = proto::RestockProductRequest {
        product_id: product_id.clone(),
        quantity: 5,
        request_id: String::new(),
    };
    let restocked = (who.admin.catalog.clone())
        .restock_product(with_request_id(restock, "restock-42"))
        .await
        .unwrap();
    assert_eq!(restocked.metadata().get("x-request-id").unwrap(), "restock-42");

    let order_key = request_id();
    let mut order = order_request("alice", &[(&product_id, 2)]);
    order.request_id = order_key.clone();
    let placed = (who.alice.orders.clone())
        .create_order(order)
        .await
        .unwrap()
        .into_inner();
    let order_id = placed.order.unwrap().order_id;
    let cancelled = (who.alice.orders.clone())
        .cancel_order(with_request_id(
            cancel_request(&order_id, "alice", "changed my mind"),
            "c-1",
        ))
        .await
        .unwrap();
    assert_eq!(cancelled.metadata().get("x-request-id").unwrap(), "c-1");
    let second = place_order(&app, "alice", &[(&product_id, 1)]).await.order_id;
    let shipped = (who.warehouse.orders.clone())
        .ship_order(proto::ShipOrderRequest {
            order_id: second.clone(),
        })
        .await
        .unwrap();
    // Without an x-request-id, the server makes one and returns it.
    let generated = shipped
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::try_parse(&generated).is_ok(), "{generated}");

    let rows = audit_rows(&app).await;
    let second_created = &rows[4];
    let expected = vec![
        Row {
            quantity: Some(10),
            ..row(
                "PRODUCT_CREATED",
                &format!("orders.v1.Product/{product_id}"),
                "merch as catalog-admin",
                &created_key,
            )
        },
        Row {
            quantity: Some(5),
            ..row(
                "PRODUCT_RESTOCKED",
                &format!("orders.v1.Product/{product_id}"),
                "merch as catalog-admin",
                "restock-42",
            )
        },
        Row {
            change: None,
            ..row(
                "ORDER_CREATED",
                &format!("orders.v1.Order/{order_id}"),
                "alice as customer",
                &order_key,
            )
        },
        Row {
            change: Some("PLACED -> CANCELLED".into()),
            reason: Some("changed my mind".into()),
            ..row(
                "ORDER_CANCELLED",
                &format!("orders.v1.Order/{order_id}"),
                "alice as customer",
                "c-1",
            )
        },
        Row {
            request_id: second_created.request_id.clone(),
            ..row(
                "ORDER_CREATED",
                &format!("orders.v1.Order/{second}"),
                "admin as service",
                "",
            )
        },
        Row {
            change: Some("PLACED -> SHIPPED".into()),
            ..row(
                "ORDER_SHIPPED",
                &format!("orders.v1.Order/{second}"),
                "dock-7 as warehouse",
                &generated,
            )
        },
    ];
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn replays_refusals_and_repeated_transitions_write_nothing() {
    let app = spawn_app().await;
    let product = product_id(&app, "MUG", 3).await;
    let mut order = order_request("alice", &[(&product, 2)]);
    order.request_id = request_id();
    let first = try_create_order(&app, order.clone()).await.unwrap();
    let again = try_create_order(&app, order).await.unwrap();
    assert_eq!(first.order_id, again.order_id);
    let short = try_create_order(&app, order_request("alice", &[(&product, 2)]))
        .await
        .unwrap_err();
    assert_eq!(short.code(), Code::FailedPrecondition);
    for _ in 0..2 {
        cancel(&app, &first.order_id, "alice", "").await.unwrap();
    }
    let status = (app.orders.clone())
        .ship_order(proto::ShipOrderRequest {
            order_id: first.order_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let actions: Vec<String> = audit_rows(&app).await.into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["PRODUCT_CREATED", "ORDER_CREATED", "ORDER_CANCELLED"]);
    // Without authentication, the actor is recorded as such.
    let anonymous = "SELECT count(*) AS n FROM audit_events WHERE actor_subject = 'anonymous' AND actor_role = 'none'";
    assert_eq!(query_n(&app, anonymous).await, 3);
}

/// Makes every transaction that writes an audit row for `action` fail at
/// its commit, after the change and the row were written: a deferred
/// constraint trigger raises when the transaction ends.
async fn fail_commits_of(app: &TestApp, action: &str) {
    let sql = format!(
        "CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.action = '{action}' THEN RAISE EXCEPTION 'injected failure at commit'; END IF; RETURN NULL; END $$; \
         CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON audit_events \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();"
    );
    execute_sql(app, &sql).await;
}

#[tokio::test]
async fn a_change_that_fails_at_commit_leaves_neither_the_change_nor_its_row() {
    for action in [
        "ORDER_CREATED",
        "ORDER_CANCELLED",
        "ORDER_SHIPPED",
        "PRODUCT_CREATED",
        "PRODUCT_RESTOCKED",
    ] {
        let app = spawn_app().await;
        let product = product_id(&app, "MUG", 10).await;
        let order = place_order(&app, "alice", &[(&product, 4)]).await.order_id;
        let before = (count_rows(&app, "orders").await, count_rows(&app, "products").await);
        let audited = count_rows(&app, "audit_events").await;
        fail_commits_of(&app, action).await;

        let status = match action {
            "ORDER_CREATED" => try_create_order(&app, order_request("alice", &[(&product, 1)]))
                .await
                .map(drop),
            "ORDER_CANCELLED" => cancel(&app, &order, "alice", "").await.map(drop),
            "ORDER_SHIPPED" => (app.orders.clone())
                .ship_order(proto::ShipOrderRequest {
                    order_id: order.clone(),
                })
                .await
                .map(drop),
            "PRODUCT_CREATED" => (app.catalog.clone())
                .create_product(product_request("CUP", (1, 0, "EUR"), 1))
                .await
                .map(drop),
            _ => try_restock(&app, &product, 5, "").await.map(drop),
        }
        .unwrap_err();
        assert_error(&status, Code::Internal, "INTERNAL");
        assert_eq!(
            status.message(),
            "internal error",
            "{action}: nothing of the cause is sent"
        );

        assert_eq!(count_rows(&app, "audit_events").await, audited, "{action}");
        assert_eq!(
            (count_rows(&app, "orders").await, count_rows(&app, "products").await),
            before,
            "{action}"
        );
        assert_eq!(stock_of(&app, &product).await, 6, "{action}: the stock is as before");
        assert_eq!(get_order(&app, &order).await.state(), OrderState::Placed, "{action}");
    }
}

#[tokio::test]
async fn the_audit_trail_cannot_be_changed_or_emptied() {
    let app = spawn_app().await;
    product_id(&app, "MUG", 1).await;
    for sql in [
        "UPDATE audit_events SET actor_subject = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let mut conn = app.connect().await;
        let error = conn.batch_execute(sql).await.unwrap_err();
        assert!(
            error.to_string().contains("audit_events is append-only"),
            "{sql}: {error}"
        );
    }
    assert_eq!(count_rows(&app, "audit_events").await, 1);
}

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
    let database = crate::helpers::TestDatabase::create_empty().await;
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
