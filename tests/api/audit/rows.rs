//! The rows of the audit trail: one per change, naming who made it, what it
//! changed and the request it came with (the `request_id` of the request, or
//! its `x-request-id`, or one the server made); none for replays, refusals
//! and repeated transitions.

use diesel::{
    QueryableByName,
    sql_types::{BigInt, Nullable, Text},
};
use diesel_async::RunQueryDsl;
use orders::proto::{self};
use tonic::{Code, Request};

use super::callers;
use crate::{
    api_calls::{cancel, place_order, product_id, try_create_order},
    app::{Clients, TestApp, spawn_app, spawn_secured_app},
    direct_sql::query_n,
    requests::{cancel_request, keyed_order_request, keyed_product_request, order_request},
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

#[tokio::test]
async fn every_change_writes_one_row_naming_who_what_and_the_request() {
    let app = spawn_secured_app().await;
    let who = callers(&app);
    let (product_id, product_key) = create_product_with_key(&who.admin).await;
    restock_with_request_id(&who.admin, &product_id, "restock-42").await;
    let (order_id, order_key) = place_order_with_key(&who.alice, &product_id).await;
    cancel_with_request_id(&who.alice, &order_id, "c-1").await;
    let shipped_id = place_order(&app, "alice", &[(&product_id, 1)]).await.order_id;
    let generated = ship_without_request_id(&who.warehouse, &shipped_id).await;

    let rows = audit_rows(&app).await;
    let second_created = &rows[4];
    let changes = Changes {
        product_id,
        product_key,
        order_id,
        order_key,
        shipped_id,
        generated,
    };
    assert_eq!(rows, expected_rows(&changes, second_created.request_id.clone()));
}

/// What the changes of [`every_change_writes_one_row_naming_who_what_and_the_request`]
/// were made with, as their audit rows must name it.
struct Changes {
    product_id: String,
    /// The `request_id` of the CreateProduct.
    product_key: String,
    order_id: String,
    /// The `request_id` of the CreateOrder of `order_id`.
    order_key: String,
    /// An order placed with the default token (every role, as `service`),
    /// then shipped.
    shipped_id: String,
    /// The `x-request-id` the server made for the ShipOrder.
    generated: String,
}

/// CreateProduct (TEA, 10 in stock) as `admin`, with a fresh `request_id`;
/// the product's id and that key.
async fn create_product_with_key(admin: &Clients) -> (String, String) {
    let create = keyed_product_request("TEA", (2, 0, "EUR"), 10);
    let key = create.request_id.clone();
    let product = (admin.catalog.clone())
        .create_product(create)
        .await
        .unwrap()
        .into_inner();
    (product.product.unwrap().product_id, key)
}

/// RestockProduct (5 more) as `admin`, sent with `x-request-id: <id>`,
/// which the answer must echo.
async fn restock_with_request_id(admin: &Clients, product_id: &str, id: &str) {
    let restock = proto::RestockProductRequest {
        product_id: product_id.to_owned(),
        quantity: 5,
        request_id: String::new(),
    };
    let restocked = (admin.catalog.clone())
        .restock_product(with_request_id(restock, id))
        .await
        .unwrap();
    assert_eq!(restocked.metadata().get("x-request-id").unwrap(), id);
}

/// CreateOrder (2 of the product) as `alice`, with a fresh `request_id`;
/// the order's id and that key.
async fn place_order_with_key(alice: &Clients, product_id: &str) -> (String, String) {
    let order = keyed_order_request("alice", &[(product_id, 2)]);
    let key = order.request_id.clone();
    let placed = (alice.orders.clone()).create_order(order).await.unwrap().into_inner();
    (placed.order.unwrap().order_id, key)
}

/// CancelOrder as `alice`, sent with `x-request-id: <id>`, which the answer
/// must echo.
async fn cancel_with_request_id(alice: &Clients, order_id: &str, id: &str) {
    let cancelled = (alice.orders.clone())
        .cancel_order(with_request_id(
            cancel_request(order_id, "alice", "changed my mind"),
            id,
        ))
        .await
        .unwrap();
    assert_eq!(cancelled.metadata().get("x-request-id").unwrap(), id);
}

/// ShipOrder as `warehouse`, without an `x-request-id`: the server makes
/// one (a UUID) and returns it, and so does this.
async fn ship_without_request_id(warehouse: &Clients, order_id: &str) -> String {
    let shipped = (warehouse.orders.clone())
        .ship_order(proto::ShipOrderRequest {
            order_id: order_id.to_owned(),
        })
        .await
        .unwrap();
    let generated = shipped
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::try_parse(&generated).is_ok(), "{generated}");
    generated
}

/// The audit rows of `changes`, in order. The CreateOrder of the default
/// clients came with no request id of any kind, so the one the server made
/// for it is taken from its row (`second_created`).
fn expected_rows(changes: &Changes, second_created: Option<String>) -> Vec<Row> {
    let Changes {
        product_id,
        product_key,
        order_id,
        order_key,
        shipped_id: second,
        generated,
    } = changes;
    vec![
        Row {
            quantity: Some(10),
            ..row(
                "PRODUCT_CREATED",
                &format!("orders.v1.Product/{product_id}"),
                "merch as catalog-admin",
                product_key,
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
                order_key,
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
            request_id: second_created,
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
                generated,
            )
        },
    ]
}

#[tokio::test]
async fn replays_refusals_and_repeated_transitions_write_nothing() {
    let app = spawn_app().await;
    let product = product_id(&app, "MUG", 3).await;
    let order = keyed_order_request("alice", &[(&product, 2)]);
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
