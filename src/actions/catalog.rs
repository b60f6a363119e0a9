//! Catalog actions: create, read, list and restock products (changes to
//! their details are in `product_changes`, search in `search`).

use diesel::result::Error as DieselError;
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::{Call, to_event, to_proto};
use crate::{
    db::{
        audit::{self, Action, Event},
        idempotency::{self, IdempotencyKey, Start},
        products,
    },
    domain::{
        order::PRODUCT_RESOURCE,
        page::{Listing, ProductCursor, finish_page},
        product::{MAX_STOCK, NewProduct, Restock},
        reads::ProductPage,
    },
    error::{ApiError, on_constraint},
    monitoring, proto,
};

/// Adds a product; a SKU already in the catalog is ALREADY_EXISTS.
pub async fn create_product(
    call: &Call,
    product: &NewProduct,
    key: Option<&IdempotencyKey>,
) -> Result<proto::CreateProductResponse, ApiError> {
    let actor = call.actor(product.request_id);
    call.run(async |conn| {
        conn.transaction(async |conn| {
            if let Start::Replay(response) = idempotency::start(conn, key).await? {
                monitoring::count_replay(key.map(|key| key.scope.as_str()));
                return Ok(response);
            }
            let row = products::insert(conn, product)
                .await
                .map_err(|e| sku_taken(e, &product.sku))?;
            let change = Event::product(Action::ProductCreated, row.id, product.stock);
            let created = to_proto::product(row);
            audit::record(conn, &actor, &change, &to_event::product_created(&created, &actor)).await?;
            let response = proto::CreateProductResponse { product: Some(created) };
            idempotency::finish(conn, key, &response).await?;
            Ok(response)
        })
        .await
    })
    .await
    .inspect(|_| call.state.outbox.ring())
}

fn sku_taken(error: DieselError, sku: &str) -> ApiError {
    on_constraint(error, products::SKU_UNIQUE, || ApiError::AlreadyExists {
        reason: "SKU_ALREADY_EXISTS",
        message: format!("a product with SKU {sku:?} already exists"),
        resource_type: PRODUCT_RESOURCE,
        name: sku.to_owned(),
    })
}

/// One product.
pub async fn get_product(call: &Call, id: Uuid) -> Result<proto::GetProductResponse, ApiError> {
    let row = call
        .run(async |conn| products::find(conn, id).await?.ok_or_else(|| product_not_found(id)))
        .await?;
    Ok(proto::GetProductResponse {
        product: Some(to_proto::product(row)),
    })
}

/// One page of the catalog in SKU order.
pub async fn list_products(call: &Call, page: &ProductPage) -> Result<proto::ListProductsResponse, ApiError> {
    let after = page.cursor.as_ref().map(|c| c.sku.as_str());
    let show_archived = page.show_archived;
    let rows = call
        .run(async |conn| Ok(products::list(conn, after, show_archived, page.page_size + 1).await?))
        .await?;
    let (rows, next_page_token) = finish_page(rows, page.page_size, |last| {
        let cursor = ProductCursor { sku: last.sku.clone() };
        call.state.page_key.seal(Listing::Products { show_archived }, &cursor)
    });
    Ok(proto::ListProductsResponse {
        products: rows.into_iter().map(to_proto::product).collect(),
        next_page_token,
    })
}

/// Adds stock to a product.
pub async fn restock(
    call: &Call,
    restock: &Restock,
    key: Option<&IdempotencyKey>,
) -> Result<proto::RestockProductResponse, ApiError> {
    let actor = call.actor(restock.request_id);
    call.run(async |conn| {
        conn.transaction(async |conn| {
            // The product's lock comes first, before the key's claim writes:
            // the transaction's id then follows every restock before it,
            // which keeps the product's events in commit order (db::outbox).
            products::lock(conn, &[restock.product_id]).await?;
            if let Start::Replay(response) = idempotency::start(conn, key).await? {
                monitoring::count_replay(key.map(|key| key.scope.as_str()));
                return Ok(response);
            }
            let Some(row) = products::add_stock(conn, restock.product_id, restock.quantity).await? else {
                // Either there is no such product, or the stock would pass the limit.
                let product = products::find(conn, restock.product_id).await?;
                return Err(product.map_or_else(
                    || product_not_found(restock.product_id),
                    |p| stock_limit(p.stock, restock.quantity),
                ));
            };
            let change = Event::product(Action::ProductRestocked, row.id, restock.quantity);
            let restocked = to_proto::product(row);
            let outgoing = to_event::product_restocked(&restocked, restock.quantity, &actor);
            audit::record(conn, &actor, &change, &outgoing).await?;
            let response = proto::RestockProductResponse {
                product: Some(restocked),
            };
            idempotency::finish(conn, key, &response).await?;
            Ok(response)
        })
        .await
    })
    .await
    .inspect(|_| call.state.outbox.ring())
}

pub fn product_not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        reason: "PRODUCT_NOT_FOUND",
        resource_type: PRODUCT_RESOURCE,
        name: id.to_string(),
    }
}

fn stock_limit(stock: i64, quantity: i64) -> ApiError {
    ApiError::OutOfRange {
        reason: "STOCK_LIMIT_EXCEEDED",
        message: format!("adding {quantity} to a stock of {stock} would exceed the limit of {MAX_STOCK} units"),
        field: "quantity",
    }
}
