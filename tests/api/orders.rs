//! OrderService.CreateOrder and GetOrder: exact pricing, prices copied at
//! order time, validation of every field, all-or-nothing stock, idempotency
//! (also under racing retries) and no overselling under concurrency.

use orders::proto::{self, OrderState};
use tonic::Code;

use crate::helpers::{TestApp, spawn_app};
use crate::support::*;

const ORDER: &str = "orders.v1.Order";

async fn create(app: &TestApp, request: proto::CreateOrderRequest) -> Result<proto::Order, tonic::Status> {
    let response = app.orders.clone().create_order(request).await?;
    Ok(response.into_inner().order.expect("an order"))
}

#[tokio::test]
async fn an_order_is_priced_exactly_and_takes_its_stock() {
    let app = spawn_app().await;
    let a = create_product(&app, "A", (19, 990_000_000, "EUR"), 10).await;
    let b = create_product(&app, "B", (0, 333_333_333, "EUR"), 20).await;
    let c = create_product(&app, "C", (1234, 500_000_000, "EUR"), 5).await;
    let lines = [(c.product_id.as_str(), 2), (&a.product_id, 3), (&b.product_id, 7)];
    let order = create(&app, order_request("cust-1", &lines)).await.unwrap();

    uuid::Uuid::parse_str(&order.order_id).expect("order_id is a UUID");
    assert_eq!(order.customer_id, "cust-1");
    assert_eq!(order.state(), OrderState::Placed);
    let got: Vec<_> = (order.line_items.iter())
        .map(|l| (l.sku.as_str(), l.name.as_str(), l.quantity, l.unit_price.clone().unwrap(), l.line_total.clone().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("C", "Product C", 2, money("EUR", 1234, 500_000_000), money("EUR", 2469, 0)),
            ("A", "Product A", 3, money("EUR", 19, 990_000_000), money("EUR", 59, 970_000_000)),
            ("B", "Product B", 7, money("EUR", 0, 333_333_333), money("EUR", 2, 333_333_331)),
        ]
    );
    let ids: Vec<_> = order.line_items.iter().map(|l| l.product_id.as_str()).collect();
    assert_eq!(ids, [&c.product_id, &a.product_id, &b.product_id]);
    assert_eq!(order.total, Some(money("EUR", 2531, 303_333_331)));
    assert_eq!(order.shipping_address, Some(address()));
    assert!(order.create_time.is_some() && order.update_time == order.create_time);
    assert_eq!((order.ship_time, order.cancel_time, order.cancel_reason.as_str()), (None, None, ""));
    assert_eq!(stock_of(&app, &a.product_id).await, 7);
    assert_eq!(stock_of(&app, &b.product_id).await, 13);
    assert_eq!(stock_of(&app, &c.product_id).await, 3);
    assert_eq!(get_order(&app, &order.order_id).await, order, "GetOrder returns the order as placed");
    assert_eq!(count_rows(&app, "order_line_items").await, 3);
}

#[tokio::test]
async fn prices_names_and_skus_are_copied_when_the_order_is_placed() {
    let app = spawn_app().await;
    let a = create_product(&app, "A", (19, 990_000_000, "EUR"), 10).await;
    let order = place_order(&app, "cust-1", &[(&a.product_id, 2)]).await;
    execute_sql(
        &app,
        &format!(
            "UPDATE products SET price_units = 99, price_nanos = 0, name = 'Renamed', sku = 'A2' WHERE id = '{}'",
            a.product_id
        ),
    )
    .await;
    assert_eq!(get_product(&app, &a.product_id).await.price, Some(money("EUR", 99, 0)));
    let stored = get_order(&app, &order.order_id).await;
    let line = &stored.line_items[0];
    assert_eq!((line.sku.as_str(), line.name.as_str()), ("A", "Product A"));
    assert_eq!(line.unit_price, Some(money("EUR", 19, 990_000_000)));
    assert_eq!(stored.total, Some(money("EUR", 39, 980_000_000)));
    assert_eq!(stored, order);
}

#[tokio::test]
async fn line_counts_and_quantities_are_bounded() {
    let app = spawn_app().await;
    let ids: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let too_many: Vec<(&str, i32)> = ids.iter().map(|id| (id.as_str(), 1)).collect();
    assert_invalid_fields(&create(&app, order_request("c", &[])).await.unwrap_err(), &["line_items"]);
    assert_invalid_fields(&create(&app, order_request("c", &too_many)).await.unwrap_err(), &["line_items"]);
    let lines = [(ids[0].as_str(), i32::MAX), (&ids[1], 0), (&ids[2], 1000), (&ids[3], 1001), (&ids[4], -1)];
    let status = create(&app, order_request("c", &lines)).await.unwrap_err();
    assert_invalid_fields(
        &status,
        &["line_items[0].quantity", "line_items[1].quantity", "line_items[3].quantity", "line_items[4].quantity"],
    );
}

#[tokio::test]
async fn repeated_and_malformed_product_ids_name_their_line() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let status = create(&app, order_request("c", &[(&a, 1), (&a, 2)])).await.unwrap_err();
    assert_invalid_fields(&status, &["line_items[1].product_id"]);
    let status = create(&app, order_request("c", &[(&a, 1), ("nope", 1), ("", 1)])).await.unwrap_err();
    assert_invalid_fields(&status, &["line_items[1].product_id", "line_items[2].product_id"]);
    assert_eq!(stock_of(&app, &a).await, 10);
}

#[tokio::test]
async fn customer_and_address_are_validated() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let lines = [(a.as_str(), 1)];
    let check = async |edit: fn(&mut proto::CreateOrderRequest), fields: &[&str]| {
        let mut request = order_request("cust-1", &lines);
        edit(&mut request);
        assert_invalid_fields(&create(&app, request).await.unwrap_err(), fields);
    };
    check(|r| r.shipping_address = None, &["shipping_address"]).await;
    check(|r| r.shipping_address.as_mut().unwrap().country_code = "XX".into(), &["shipping_address.country_code"]).await;
    check(|r| r.shipping_address.as_mut().unwrap().country_code = "de".into(), &["shipping_address.country_code"]).await;
    check(|r| r.shipping_address.as_mut().unwrap().city = " ".into(), &["shipping_address.city"]).await;
    check(|r| r.shipping_address.as_mut().unwrap().postal_code = "1".repeat(21), &["shipping_address.postal_code"]).await;
    let empty: &[&str] = &[
        "shipping_address.recipient",
        "shipping_address.line1",
        "shipping_address.city",
        "shipping_address.country_code",
    ];
    check(|r| r.shipping_address = Some(proto::Address::default()), empty).await;
    check(|r| r.customer_id = String::new(), &["customer_id"]).await;
    check(|r| r.customer_id = "cust 1".into(), &["customer_id"]).await;
    check(|r| r.customer_id = "c".repeat(129), &["customer_id"]).await;
    check(|r| r.request_id = "nope".into(), &["request_id"]).await;
    assert_eq!(stock_of(&app, &a).await, 10);
    assert_eq!(count_rows(&app, "orders").await, 0);
}

#[tokio::test]
async fn an_unknown_product_is_not_found_and_changes_nothing() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let status = create(&app, order_request("c", &[(&a, 2), (&unknown, 1)])).await.unwrap_err();
    assert_not_found(&status, "PRODUCT_NOT_FOUND", "orders.v1.Product", &unknown);
    assert_eq!(stock_of(&app, &a).await, 10);
    assert_eq!(count_rows(&app, "orders").await, 0);
}

#[tokio::test]
async fn mixed_currencies_are_refused() {
    let app = spawn_app().await;
    let eur = product_id(&app, "EUR-1", 10).await;
    let usd = create_product(&app, "USD-1", (1, 0, "USD"), 10).await.product_id;
    let status = create(&app, order_request("c", &[(&eur, 1), (&usd, 1)])).await.unwrap_err();
    let details = assert_error(&status, Code::InvalidArgument, "CURRENCY_MISMATCH");
    assert_eq!(bad_fields(&details), ["line_items[1].product_id"]);
    assert_eq!((stock_of(&app, &eur).await, stock_of(&app, &usd).await), (10, 10));
    assert_eq!(count_rows(&app, "orders").await, 0);
}

#[tokio::test]
async fn short_stock_names_every_short_product_and_takes_nothing() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 5).await;
    let b = product_id(&app, "B", 1).await;
    let c = product_id(&app, "C", 0).await;
    let status = create(&app, order_request("c", &[(&a, 2), (&b, 3), (&c, 1)])).await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "INSUFFICIENT_STOCK");
    assert_eq!(precondition_subjects(&details), [format!("products/{b}"), format!("products/{c}")]);
    let kinds: Vec<_> = details.precondition_failure().unwrap().violations.iter().map(|v| v.r#type.clone()).collect();
    assert_eq!(kinds, ["STOCK", "STOCK"]);
    assert_eq!((stock_of(&app, &a).await, stock_of(&app, &b).await, stock_of(&app, &c).await), (5, 1, 0));
    assert_eq!(count_rows(&app, "orders").await, 0);
    assert_eq!(count_rows(&app, "order_line_items").await, 0);
}

#[tokio::test]
async fn create_order_is_idempotent_per_customer_and_request_id() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let mut request = order_request("alice", &[(&a, 3)]);
    request.request_id = request_id();
    let first = create(&app, request.clone()).await.unwrap();
    assert_eq!(create(&app, request.clone()).await.unwrap(), first);
    assert_eq!((stock_of(&app, &a).await, count_rows(&app, "orders").await), (7, 1));

    let mut other_quantity = request.clone();
    other_quantity.line_items[0].quantity = 4;
    let status = create(&app, other_quantity).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    assert_eq!((stock_of(&app, &a).await, count_rows(&app, "orders").await), (7, 1));

    // The key is scoped per customer: bob's identical UUID is a new order.
    let mut bob = request.clone();
    bob.customer_id = "bob".into();
    let bobs = create(&app, bob).await.unwrap();
    assert_ne!(bobs.order_id, first.order_id);
    assert_eq!((stock_of(&app, &a).await, count_rows(&app, "orders").await), (4, 2));
}

#[tokio::test]
async fn a_failed_request_does_not_use_up_its_request_id() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 1).await;
    let mut request = order_request("alice", &[(&a, 3)]);
    request.request_id = request_id();
    let status = create(&app, request.clone()).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "INSUFFICIENT_STOCK");
    let restock = proto::RestockProductRequest { product_id: a.clone(), quantity: 2, request_id: String::new() };
    app.catalog.clone().restock_product(restock).await.unwrap();
    let order = create(&app, request).await.expect("the retry after the restock succeeds");
    assert_eq!(order.state(), OrderState::Placed);
    assert_eq!(stock_of(&app, &a).await, 0);
}

#[tokio::test]
async fn racing_identical_retries_create_one_order() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 100).await;
    let mut request = order_request("alice", &[(&a, 3)]);
    request.request_id = request_id();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let (mut client, request) = (app.orders.clone(), request.clone());
            tokio::spawn(async move { client.create_order(request).await })
        })
        .collect();
    let mut order_ids = Vec::new();
    for call in calls {
        let response = within(20, call).await.unwrap().expect("every retry succeeds");
        order_ids.push(response.into_inner().order.unwrap().order_id);
    }
    order_ids.dedup();
    assert_eq!(order_ids.len(), 1, "all retries got the same order");
    assert_eq!(count_rows(&app, "orders").await, 1);
    assert_eq!(stock_of(&app, &a).await, 97);
}

#[tokio::test]
async fn concurrent_orders_never_oversell() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 5).await;
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let (mut client, request) = (app.orders.clone(), order_request(&format!("c{i}"), &[(&a, 1)]));
            tokio::spawn(async move { client.create_order(request).await })
        })
        .collect();
    let (mut ok, mut short) = (0, 0);
    for call in calls {
        match within(20, call).await.unwrap() {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_error(&status, Code::FailedPrecondition, "INSUFFICIENT_STOCK");
                short += 1;
            }
        }
    }
    assert_eq!((ok, short), (5, 25));
    assert_eq!(stock_of(&app, &a).await, 0);
    assert_eq!(count_rows(&app, "orders").await, 5);
}

#[tokio::test]
async fn orders_sharing_products_in_any_line_order_do_not_deadlock() {
    let app = spawn_app().await;
    let ids = [product_id(&app, "A", 100).await, product_id(&app, "B", 100).await, product_id(&app, "C", 100).await];
    let calls: Vec<_> = (0..24)
        .map(|i| {
            let mut lines: Vec<(&str, i32)> = ids.iter().map(|id| (id.as_str(), 1)).collect();
            if i % 2 == 1 {
                lines.reverse();
            }
            let (mut client, request) = (app.orders.clone(), order_request("c", &lines));
            tokio::spawn(async move { client.create_order(request).await })
        })
        .collect();
    for call in calls {
        within(20, call).await.unwrap().expect("no deadlock, no error");
    }
    for id in &ids {
        assert_eq!(stock_of(&app, id).await, 76);
    }
}

#[tokio::test]
async fn get_order_unknown_or_malformed() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let get = async |id: &str| {
        let request = proto::GetOrderRequest { order_id: id.into() };
        app.orders.clone().get_order(request).await.unwrap_err()
    };
    assert_not_found(&get(&unknown).await, "ORDER_NOT_FOUND", ORDER, &unknown);
    assert_invalid_fields(&get("not-a-uuid").await, &["order_id"]);
    assert_invalid_fields(&get("").await, &["order_id"]);
}
