//! Hostile input through the real server, in four parts: hostile values in
//! every string field ([`string_fields`]); garbage, oversized and
//! over-counted messages ([`bytes_and_sizes`]); absurd numbers and forged
//! page tokens ([`numbers_and_page_tokens`]); and odd but valid text:
//! combining marks, right-to-left marks, emoji, SQL ([`odd_text`]).
//!
//! Every refusal must be the caller's error with an exact code, reason and
//! field path, never INTERNAL, and must change nothing: what is [`Stored`]
//! of a [`World`] (the row counts of every table, the product and the order)
//! stays as it was. Both are here because the parts share them. Odd text
//! that is valid must come back byte for byte. (wire.rs has the basic
//! oversized and undecodable cases; these go further.)

mod bytes_and_sizes;
mod numbers_and_page_tokens;
mod odd_text;
mod string_fields;

use orders::proto;

use crate::{
    api_calls::{get_order, get_product, product_id, try_create_order},
    app::TestApp,
    direct_sql::count_rows,
    requests::keyed_order_request,
};

/// What hostile calls must leave alone: a product with stock taken by one
/// order, placed with a request id so that an idempotency key exists.
struct World {
    product_id: String,
    order_id: String,
}

async fn world(app: &TestApp) -> World {
    let product_id = product_id(app, "TEA", 10).await;
    let request = keyed_order_request("alice", &[(&product_id, 2)]);
    let order_id = try_create_order(app, request).await.unwrap().order_id;
    World { product_id, order_id }
}

/// Everything a call could change: the row count of every table, the
/// product (stock, update time) and the order (state, update time).
#[derive(Debug, PartialEq)]
struct Stored {
    rows: Vec<(&'static str, i64)>,
    product: proto::Product,
    order: proto::Order,
}

async fn stored(app: &TestApp, world: &World) -> Stored {
    let mut rows = Vec::new();
    for table in ["orders", "order_line_items", "products", "idempotency_keys"] {
        rows.push((table, count_rows(app, table).await));
    }
    Stored {
        rows,
        product: get_product(app, &world.product_id).await,
        order: get_order(app, &world.order_id).await,
    }
}
