//! OrderService.CreateOrder and GetOrder: exact pricing, prices copied at
//! order time, validation of every field, all-or-nothing stock and
//! idempotency. Races are in [`crate::concurrency`].

use orders::proto::{self, OrderState};
use tonic::Code;

use crate::{
    api_calls::{
        create_product, get_order, get_product, place_order, product_id, stock_of, stocks, try_create_order,
        try_restock,
    },
    app::spawn_app,
    assertions::{
        assert_error, assert_invalid_fields, assert_not_found, bad_fields, precondition_violations, show_money,
    },
    direct_sql::{count_rows, execute_sql},
    requests::{address, edit_address, keyed_order_request, money, order_request},
};

const ORDER: &str = "orders.v1.Order";

/// A line as `"<sku> <name> x<quantity> @ <unit price> = <line total>"`.
fn show_line(line: &proto::LineItem) -> String {
    let (unit, total) = (show_money(&line.unit_price), show_money(&line.line_total));
    format!("{} {} x{} @ {unit} = {total}", line.sku, line.name, line.quantity)
}

#[tokio::test]
async fn an_order_is_priced_exactly_and_takes_its_stock() {
    let app = spawn_app().await;
    let a = create_product(&app, "A", (19, 990_000_000, "EUR"), 10).await.product_id;
    let b = create_product(&app, "B", (0, 333_333_333, "EUR"), 20).await.product_id;
    let c = create_product(&app, "C", (1234, 500_000_000, "EUR"), 5)
        .await
        .product_id;
    let order = try_create_order(&app, order_request("cust-1", &[(&c, 2), (&a, 3), (&b, 7)]))
        .await
        .unwrap();

    uuid::Uuid::parse_str(&order.order_id).expect("order_id is a UUID");
    assert_eq!(
        (order.customer_id.as_str(), order.state()),
        ("cust-1", OrderState::Placed)
    );
    let lines: Vec<_> = order.line_items.iter().map(show_line).collect();
    assert_eq!(
        lines,
        [
            "C Product C x2 @ EUR 1234.500000000 = EUR 2469.000000000",
            "A Product A x3 @ EUR 19.990000000 = EUR 59.970000000",
            "B Product B x7 @ EUR 0.333333333 = EUR 2.333333331",
        ]
    );
    let ids: Vec<_> = order.line_items.iter().map(|l| l.product_id.as_str()).collect();
    assert_eq!(ids, [&c, &a, &b], "lines in request order");
    assert_eq!(order.total, Some(money("EUR", 2531, 303_333_331)));
    assert_eq!(order.shipping_address, Some(address()));
    assert!(order.create_time.is_some() && order.update_time == order.create_time);
    assert_eq!((order.ship_time, order.cancel_time), (None, None));
    assert_eq!(order.cancel_reason, "");
    assert_eq!(stocks(&app, &[&a, &b, &c]).await, [7, 13, 3]);
    assert_eq!(
        get_order(&app, &order.order_id).await,
        order,
        "GetOrder returns the order as placed"
    );
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
    let refused = async |lines: &[(&str, i32)]| try_create_order(&app, order_request("c", lines)).await.unwrap_err();
    assert_invalid_fields(&refused(&[]).await, &["line_items"]);
    assert_invalid_fields(&refused(&too_many).await, &["line_items"]);
    let (big, zero, most, over) = ((&ids[0], i32::MAX), (&ids[1], 0), (&ids[2], 1000), (&ids[3], 1001));
    let status = refused(&[big, zero, most, over, (&ids[4], -1)].map(|(id, q)| (id.as_str(), q))).await;
    let fields = [0, 1, 3, 4].map(|i| format!("line_items[{i}].quantity"));
    assert_invalid_fields(&status, &fields);
}

#[tokio::test]
async fn the_customer_email_is_checked_stored_and_returned() {
    let app = spawn_app().await;
    let mug = product_id(&app, "MUG", 5).await;
    let mut request = order_request("ada", &[(&mug, 1)]);
    for bad in ["ada", "ada@", "ada lovelace@example.com"] {
        request.customer_email = bad.to_owned();
        let refused = try_create_order(&app, request.clone()).await.unwrap_err();
        assert_invalid_fields(&refused, &["customer_email"]);
    }
    request.customer_email = "ada@example.com".to_owned();
    let placed = try_create_order(&app, request).await.unwrap();
    assert_eq!(placed.customer_email, "ada@example.com");
    assert_eq!(
        get_order(&app, &placed.order_id).await.customer_email,
        "ada@example.com"
    );
    let without = place_order(&app, "grace", &[(&mug, 1)]).await;
    assert_eq!(get_order(&app, &without.order_id).await.customer_email, "");
}

#[tokio::test]
async fn repeated_and_malformed_product_ids_name_their_line() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let refused = async |lines: &[(&str, i32)]| try_create_order(&app, order_request("c", lines)).await.unwrap_err();
    assert_invalid_fields(&refused(&[(&a, 1), (&a, 2)]).await, &["line_items[1].product_id"]);
    let status = refused(&[(&a, 1), ("nope", 1), ("", 1)]).await;
    assert_invalid_fields(&status, &["line_items[1].product_id", "line_items[2].product_id"]);
    assert_eq!(stock_of(&app, &a).await, 10);
}

type Edit = fn(&mut proto::CreateOrderRequest);

#[tokio::test]
async fn customer_and_address_are_validated() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let cases: Vec<(Edit, &[&str])> = vec![
        (|r| r.shipping_address = None, &["shipping_address"]),
        (
            |r| edit_address(r).country_code = "XX".into(),
            &["shipping_address.country_code"],
        ),
        (
            |r| edit_address(r).country_code = "de".into(),
            &["shipping_address.country_code"],
        ),
        (|r| edit_address(r).city = " ".into(), &["shipping_address.city"]),
        (
            |r| edit_address(r).postal_code = "1".repeat(21),
            &["shipping_address.postal_code"],
        ),
        (
            |r| edit_address(r).recipient = "Ada\u{0}".into(),
            &["shipping_address.recipient"],
        ),
        (|r| r.customer_id = String::new(), &["customer_id"]),
        (|r| r.customer_id = "cust 1".into(), &["customer_id"]),
        (|r| r.customer_id = "c".repeat(129), &["customer_id"]),
        (|r| r.request_id = "nope".into(), &["request_id"]),
    ];
    for (edit, fields) in cases {
        let mut request = order_request("cust-1", &[(&a, 1)]);
        edit(&mut request);
        assert_invalid_fields(&try_create_order(&app, request).await.unwrap_err(), fields);
    }
    let mut request = order_request("cust-1", &[(&a, 1)]);
    request.shipping_address = Some(proto::Address::default());
    let status = try_create_order(&app, request).await.unwrap_err();
    let empty = ["recipient", "line1", "city", "country_code"].map(|f| format!("shipping_address.{f}"));
    assert_invalid_fields(&status, &empty);
    assert_eq!(stock_of(&app, &a).await, 10);
    assert_eq!(count_rows(&app, "orders").await, 0);
}

#[tokio::test]
async fn an_unknown_product_is_not_found_and_changes_nothing() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let status = try_create_order(&app, order_request("c", &[(&a, 2), (&unknown, 1)]))
        .await
        .unwrap_err();
    assert_not_found(&status, "PRODUCT_NOT_FOUND", "orders.v1.Product", &unknown);
    assert_eq!(stock_of(&app, &a).await, 10);
    assert_eq!(count_rows(&app, "orders").await, 0);
}

#[tokio::test]
async fn mixed_currencies_are_refused() {
    let app = spawn_app().await;
    let eur = product_id(&app, "EUR-1", 10).await;
    let usd = create_product(&app, "USD-1", (1, 0, "USD"), 10).await.product_id;
    let status = try_create_order(&app, order_request("c", &[(&eur, 1), (&usd, 1)]))
        .await
        .unwrap_err();
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
    let status = try_create_order(&app, order_request("c", &[(&a, 2), (&b, 3), (&c, 1)]))
        .await
        .unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "INSUFFICIENT_STOCK");
    let expected = [format!("STOCK products/{b}"), format!("STOCK products/{c}")];
    assert_eq!(precondition_violations(&details), expected);
    assert_eq!(stocks(&app, &[&a, &b, &c]).await, [5, 1, 0]);
    assert_eq!(count_rows(&app, "orders").await, 0);
    assert_eq!(count_rows(&app, "order_line_items").await, 0);
}

#[tokio::test]
async fn create_order_is_idempotent_per_customer_and_request_id() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let request = keyed_order_request("alice", &[(&a, 3)]);
    let first = try_create_order(&app, request.clone()).await.unwrap();
    assert_eq!(try_create_order(&app, request.clone()).await.unwrap(), first);
    assert_eq!((stock_of(&app, &a).await, count_rows(&app, "orders").await), (7, 1));

    let mut other_quantity = request.clone();
    other_quantity.line_items[0].quantity = 4;
    let status = try_create_order(&app, other_quantity).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "REQUEST_ID_REUSED");
    assert_eq!((stock_of(&app, &a).await, count_rows(&app, "orders").await), (7, 1));

    // The key is scoped per customer: bob's identical UUID is a new order.
    let mut bob = request.clone();
    bob.customer_id = "bob".into();
    let bobs = try_create_order(&app, bob).await.unwrap();
    assert_ne!(bobs.order_id, first.order_id);
    assert_eq!((stock_of(&app, &a).await, count_rows(&app, "orders").await), (4, 2));
}

#[tokio::test]
async fn a_failed_request_does_not_use_up_its_request_id() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 1).await;
    let request = keyed_order_request("alice", &[(&a, 3)]);
    let status = try_create_order(&app, request.clone()).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "INSUFFICIENT_STOCK");
    try_restock(&app, &a, 2, "").await.unwrap();
    let order = try_create_order(&app, request)
        .await
        .expect("the retry after the restock succeeds");
    assert_eq!(order.state(), OrderState::Placed);
    assert_eq!(stock_of(&app, &a).await, 0);
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
