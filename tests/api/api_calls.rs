//! One call through the test's default clients, unwrapped: products and
//! orders created, read, restocked, cancelled and listed through the real
//! API.
//!
//! Here so that a test that only needs something to exist, or to read it
//! back, says so in one line. The calls that return a `Result` (`try_…`,
//! `cancel`, `list`, `history`) are for tests that expect a refusal.

use orders::proto;
use tonic::Status;

use crate::{
    app::{Clients, TestApp},
    requests::{cancel_request, order_request, product_request},
};

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

/// A product, read through GetProduct.
pub async fn get_product(app: &TestApp, product_id: &str) -> proto::Product {
    let request = proto::GetProductRequest {
        product_id: product_id.to_owned(),
    };
    let response = app.catalog.clone().get_product(request).await.expect("GetProduct");
    response.into_inner().product.expect("a product")
}

/// The current stock of a product, read through GetProduct.
pub async fn stock_of(app: &TestApp, product_id: &str) -> i64 {
    get_product(app, product_id).await.stock
}

/// The current stock of several products, in order.
pub async fn stocks(app: &TestApp, product_ids: &[&str]) -> Vec<i64> {
    let mut stocks = Vec::with_capacity(product_ids.len());
    for id in product_ids {
        stocks.push(stock_of(app, id).await);
    }
    stocks
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

/// Calls ListProducts.
pub async fn list(app: &TestApp, page_size: i32, page_token: &str) -> Result<proto::ListProductsResponse, Status> {
    let request = proto::ListProductsRequest {
        page_size,
        page_token: page_token.to_owned(),
        show_archived: false,
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

/// An order, read through GetOrder.
pub async fn get_order(app: &TestApp, order_id: &str) -> proto::Order {
    let request = proto::GetOrderRequest {
        order_id: order_id.to_owned(),
    };
    let response = app.orders.clone().get_order(request).await.expect("GetOrder");
    response.into_inner().order.expect("an order")
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
