//! Shared builders and assertions for the API tests: products and orders
//! created through the real API, a valid address, reads of stock and row
//! counts, the rich error details (`tonic_types`) of a failed call, and
//! calls with raw bytes as the request message.
//!
//! Every error assertion here also checks that the status message leaks
//! nothing of the database (see [`assert_clean_message`]).

use std::{future::Future, time::Duration};

use diesel::{QueryableByName, sql_types::BigInt};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use orders::proto::{self, create_order_request};
use prost::bytes::{Buf, BufMut};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
};
use tonic_types::{ErrorDetails, StatusExt};

use crate::helpers::{Clients, TestApp};

/// The `ErrorInfo.domain` of every error of the service.
pub const DOMAIN: &str = "orders";

/// Words that would betray database internals in a status message.
const LEAKY_WORDS: [&str; 5] = ["sql", "diesel", "constraint", "relation", "postgres"];

/// An amount of money.
pub fn money(currency_code: &str, units: i64, nanos: i32) -> proto::Money {
    proto::Money {
        currency_code: currency_code.to_owned(),
        units,
        nanos,
    }
}

/// A valid CreateProduct request (no request_id).
pub fn product_request(sku: &str, price: (i64, i32, &str), stock: i64) -> proto::CreateProductRequest {
    proto::CreateProductRequest {
        sku: sku.to_owned(),
        name: format!("Product {sku}"),
        description: format!("The description of {sku}"),
        price: Some(money(price.2, price.0, price.1)),
        stock,
        request_id: String::new(),
    }
}

/// Creates a product through the API and returns it.
pub async fn create_product(app: &TestApp, sku: &str, price: (i64, i32, &str), stock: i64) -> proto::Product {
    let response = app
        .catalog
        .clone()
        .create_product(product_request(sku, price, stock))
        .await
        .unwrap_or_else(|s| panic!("CreateProduct {sku} failed: {s:?}"));
    response.into_inner().product.expect("a product")
}

/// Creates a product priced 1.00 EUR and returns its id.
pub async fn product_id(app: &TestApp, sku: &str, stock: i64) -> String {
    create_product(app, sku, (1, 0, "EUR"), stock).await.product_id
}

/// The current stock of a product, read through GetProduct.
pub async fn stock_of(app: &TestApp, product_id: &str) -> i64 {
    get_product(app, product_id).await.stock
}

/// A product, read through GetProduct.
pub async fn get_product(app: &TestApp, product_id: &str) -> proto::Product {
    let request = proto::GetProductRequest {
        product_id: product_id.to_owned(),
    };
    let response = app.catalog.clone().get_product(request).await.expect("GetProduct");
    response.into_inner().product.expect("a product")
}

/// A valid shipping address.
pub fn address() -> proto::Address {
    proto::Address {
        recipient: "Ada Lovelace".into(),
        line1: "12 St James's Square".into(),
        line2: "Flat 2".into(),
        city: "London".into(),
        region: "Greater London".into(),
        postal_code: "SW1Y 4JH".into(),
        country_code: "GB".into(),
    }
}

/// A CreateOrder request for `customer` with `(product_id, quantity)` lines.
pub fn order_request(customer: &str, lines: &[(&str, i32)]) -> proto::CreateOrderRequest {
    proto::CreateOrderRequest {
        customer_id: customer.to_owned(),
        line_items: lines
            .iter()
            .map(|&(product_id, quantity)| create_order_request::LineItem {
                product_id: product_id.to_owned(),
                quantity,
            })
            .collect(),
        shipping_address: Some(address()),
        request_id: String::new(),
    }
}

/// The shipping address of a request, to edit in place.
pub fn edit_address(r: &mut proto::CreateOrderRequest) -> &mut proto::Address {
    r.shipping_address.as_mut().unwrap()
}

/// A CancelOrder request.
pub fn cancel_request(order_id: &str, customer_id: &str, reason: &str) -> proto::CancelOrderRequest {
    proto::CancelOrderRequest {
        order_id: order_id.to_owned(),
        customer_id: customer_id.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Calls CancelOrder, returning the order or the error.
pub async fn cancel(app: &TestApp, order_id: &str, customer_id: &str, reason: &str) -> Result<proto::Order, Status> {
    let request = cancel_request(order_id, customer_id, reason);
    Ok(app
        .orders
        .clone()
        .cancel_order(request)
        .await?
        .into_inner()
        .order
        .unwrap())
}

/// Calls ListProducts.
pub async fn list(app: &TestApp, page_size: i32, page_token: &str) -> Result<proto::ListProductsResponse, Status> {
    let request = proto::ListProductsRequest {
        page_size,
        page_token: page_token.to_owned(),
    };
    app.catalog.clone().list_products(request).await.map(|r| r.into_inner())
}

/// Calls ListProducts (first page) as `clients`, returning how many
/// products came back: a cheap call every role may make.
pub async fn list_products_as(clients: &Clients) -> Result<usize, Status> {
    let request = proto::ListProductsRequest::default();
    let response = clients.catalog.clone().list_products(request).await?;
    Ok(response.into_inner().products.len())
}

/// A new, empty directory under the system's temporary directory, named
/// after `purpose`, this process and a counter.
pub fn fresh_dir(purpose: &str) -> std::path::PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("orders-test-{purpose}-{}-{n}", std::process::id()));
    // A leftover of an earlier process with the same pid would hold stale files.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creates {}: {e}", dir.display()));
    dir
}

/// Calls GetOrderHistory.
pub async fn history(
    app: &TestApp,
    customer_id: &str,
    page_size: i32,
    page_token: &str,
) -> Result<proto::GetOrderHistoryResponse, Status> {
    let request = proto::GetOrderHistoryRequest {
        customer_id: customer_id.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
    };
    app.orders
        .clone()
        .get_order_history(request)
        .await
        .map(|r| r.into_inner())
}

/// Places an order through the API and returns it.
pub async fn place_order(app: &TestApp, customer: &str, lines: &[(&str, i32)]) -> proto::Order {
    let response = app
        .orders
        .clone()
        .create_order(order_request(customer, lines))
        .await
        .unwrap_or_else(|s| panic!("CreateOrder failed: {s:?}"));
    response.into_inner().order.expect("an order")
}

/// Calls CreateOrder, returning the order or the error.
pub async fn try_create_order(app: &TestApp, request: proto::CreateOrderRequest) -> Result<proto::Order, Status> {
    let response = app.orders.clone().create_order(request).await?;
    Ok(response.into_inner().order.expect("an order"))
}

/// Calls RestockProduct, returning the product or the error.
pub async fn try_restock(
    app: &TestApp,
    product_id: &str,
    quantity: i64,
    request_id: &str,
) -> Result<proto::Product, Status> {
    let request = proto::RestockProductRequest {
        product_id: product_id.to_owned(),
        quantity,
        request_id: request_id.to_owned(),
    };
    let response = app.catalog.clone().restock_product(request).await?;
    Ok(response.into_inner().product.expect("a product"))
}

/// The current stock of several products, in order.
pub async fn stocks(app: &TestApp, product_ids: &[&str]) -> Vec<i64> {
    let mut stocks = Vec::with_capacity(product_ids.len());
    for id in product_ids {
        stocks.push(stock_of(app, id).await);
    }
    stocks
}

/// An amount as `"EUR 12.500000000"`, for exact comparisons ("-" if unset).
pub fn show_money(money: &Option<proto::Money>) -> String {
    match money {
        Some(m) => format!("{} {}.{:09}", m.currency_code, m.units, m.nanos),
        None => "-".to_owned(),
    }
}

/// Starts `n` calls at once, each in its own task, and waits for all.
pub async fn concurrently<T, F, Fut>(n: usize, mut call: F) -> Vec<T>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(i))).collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(within(30, task).await.expect("the call's task does not panic"));
    }
    results
}

/// An order, read through GetOrder.
pub async fn get_order(app: &TestApp, order_id: &str) -> proto::Order {
    let request = proto::GetOrderRequest {
        order_id: order_id.to_owned(),
    };
    let response = app.orders.clone().get_order(request).await.expect("GetOrder");
    response.into_inner().order.expect("an order")
}

/// The row of a `SELECT count(*) AS n …`.
#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// `SELECT count(*) FROM <table>`, straight on the test's database (through
/// the app's own pool).
pub async fn count_rows(app: &TestApp, table: &str) -> i64 {
    query_n(app, &format!("SELECT count(*) AS n FROM {table}")).await
}

/// The bigint column `n` of the one row `sql` returns, through the app's pool.
pub async fn query_n(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.pool.get().await.expect("a pooled connection");
    query_n_on(&mut conn, sql).await
}

/// The bigint column `n` of the one row `sql` returns, on `conn`.
pub async fn query_n_on(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let row: Count = diesel::sql_query(sql)
        .get_result(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.n
}

/// Runs raw SQL on the test's database.
pub async fn execute_sql(app: &TestApp, sql: &str) {
    let mut conn = app.connect().await;
    conn.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The rich error details of a status.
pub fn details(status: &Status) -> ErrorDetails {
    status
        .check_error_details()
        .unwrap_or_else(|e| panic!("undecodable error details in {status:?}: {e}"))
}

/// Asserts that `status` says nothing about the database.
pub fn assert_clean_message(status: &Status) {
    let message = status.message().to_lowercase();
    for word in LEAKY_WORDS {
        assert!(!message.contains(word), "status message leaks {word:?}: {status:?}");
    }
}

/// Asserts the code, the `ErrorInfo` (reason, domain "orders") and a clean
/// message, and returns the details for further checks.
#[track_caller]
pub fn assert_error(status: &Status, code: Code, reason: &str) -> ErrorDetails {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    let details = details(status);
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "ErrorInfo.reason of {status:?}");
    assert_eq!(info.domain, DOMAIN, "ErrorInfo.domain of {status:?}");
    assert_clean_message(status);
    details
}

/// The `BadRequest` field paths of a status, in order.
pub fn bad_fields(details: &ErrorDetails) -> Vec<String> {
    let request = details.bad_request().expect("a BadRequest");
    request.field_violations.iter().map(|v| v.field.clone()).collect()
}

/// Asserts INVALID_ARGUMENT (reason INVALID_FIELDS) naming exactly `fields`.
#[track_caller]
pub fn assert_invalid_fields(status: &Status, fields: &[impl AsRef<str>]) {
    let details = assert_error(status, Code::InvalidArgument, "INVALID_FIELDS");
    let expected: Vec<&str> = fields.iter().map(AsRef::as_ref).collect();
    assert_eq!(bad_fields(&details), expected, "BadRequest fields of {status:?}");
    let request = details.bad_request().expect("a BadRequest");
    assert!(
        request.field_violations.iter().all(|v| !v.description.is_empty()),
        "every violation is described: {status:?}"
    );
}

/// Asserts NOT_FOUND with `reason` and a `ResourceInfo` naming `name`.
#[track_caller]
pub fn assert_not_found(status: &Status, reason: &str, resource_type: &str, name: &str) {
    let details = assert_error(status, Code::NotFound, reason);
    let info = details.resource_info().expect("a ResourceInfo");
    assert_eq!(info.resource_type, resource_type);
    assert_eq!(info.resource_name, name);
}

/// The `PreconditionFailure` violations of a status as `"<type> <subject>"`,
/// in order.
pub fn precondition_violations(details: &ErrorDetails) -> Vec<String> {
    let failure = details.precondition_failure().expect("a PreconditionFailure");
    (failure.violations.iter())
        .map(|v| format!("{} {}", v.r#type, v.subject))
        .collect()
}

/// Awaits `future`, failing the test if it takes longer than `seconds`.
pub async fn within<T>(seconds: u64, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(seconds), future)
        .await
        .unwrap_or_else(|_| panic!("did not finish within {seconds} s"))
}

/// Polls `probe` every 50 ms until it returns true; panics after `seconds`.
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !probe().await {
        assert!(tokio::time::Instant::now() < deadline, "not {what} within {seconds} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A timestamp as a comparable `(seconds, nanos)` pair; panics when unset.
pub fn time(timestamp: Option<prost_types::Timestamp>) -> (i64, i32) {
    let t = timestamp.expect("a timestamp");
    (t.seconds, t.nanos)
}

/// A fresh random request id.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Holds a row lock on a product in an open transaction, so that any call
/// that changes its stock blocks until `ROLLBACK` on the returned connection.
pub async fn lock_product(db_url: &str, product_id: &str) -> AsyncPgConnection {
    let mut conn = AsyncPgConnection::establish(db_url).await.expect("connects");
    let lock = format!("BEGIN; SELECT 1 FROM products WHERE id = '{product_id}' FOR UPDATE");
    conn.batch_execute(&lock).await.unwrap();
    conn
}

/// Waits until `n` sessions of the database at `db_url` wait on a lock.
pub async fn wait_for_lock_waiters(db_url: &str, n: i64) {
    let mut observer = AsyncPgConnection::establish(db_url).await.expect("connects");
    let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    while query_n_on(&mut observer, waiting).await < n {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A codec that passes message bodies through as bytes, so that a test can
/// send what no generated client would: garbage, invalid UTF-8, messages
/// spliced by hand.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Calls the method at `path` (e.g. `/orders.v1.OrderService/GetOrder`)
/// with `body` as the bytes of the request message, on a connection of its
/// own; returns the bytes of the response message.
pub async fn call_raw(app: &TestApp, path: &str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .expect("connects");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("the channel is ready");
    let path = PathAndQuery::try_from(path).expect("a method path");
    let response = grpc.unary(tonic::Request::new(body), path, RawCodec).await?;
    Ok(response.into_inner())
}
