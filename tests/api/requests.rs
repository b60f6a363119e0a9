//! Request messages as the tests send them: valid unless a test edits
//! them, with a valid shipping address, and with a fresh `request_id` where
//! a retry must be recognised as one.
//!
//! Here so that a test names only what matters to it (a SKU, a price, the
//! lines of an order) and the rest of a request is valid by construction.

use orders::proto::{self, create_order_request};

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

/// [`product_request`] with a fresh `request_id`, so that sending it again is a replay.
pub fn keyed_product_request(sku: &str, price: (i64, i32, &str), stock: i64) -> proto::CreateProductRequest {
    let mut request = product_request(sku, price, stock);
    request.request_id = request_id();
    request
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
        customer_email: String::new(),
        payment_method: String::new(),
    }
}

/// [`order_request`] with a fresh `request_id`, so that sending it again is a replay.
pub fn keyed_order_request(customer: &str, lines: &[(&str, i32)]) -> proto::CreateOrderRequest {
    let mut request = order_request(customer, lines);
    request.request_id = request_id();
    request
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

/// A fresh random request id.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
