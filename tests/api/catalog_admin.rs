//! Catalog changes as the tests make them: UpdateProduct requests built
//! from a product and a field mask, ArchiveProduct and UnarchiveProduct,
//! ListProducts with or without archived products, and the audit rows of
//! product changes with the values they changed.
//!
//! Here because the tests of changes ([`crate::catalog_changes`]), of
//! archiving ([`crate::archiving`]) and of prices ([`crate::price_changes`])
//! all make them. Each call goes through the [`Catalog`] client it is given
//! (the test's default one, or one with a token of a role).

use diesel::{
    QueryableByName,
    sql_types::{Jsonb, Nullable, Text},
};
use diesel_async::RunQueryDsl;
use orders::proto;
use serde_json::Value;
use tonic::{Code, Status};

use crate::{
    app::{Catalog, TestApp},
    assertions::assert_error,
    requests::money,
};

/// Asserts ABORTED (reason ETAG_MISMATCH) with a `ResourceInfo` naming
/// the product: its etag was stale.
#[track_caller]
pub fn assert_stale_etag(status: &Status, product_id: &str) {
    let details = assert_error(status, Code::Aborted, "ETAG_MISMATCH");
    let info = details.resource_info().expect("a ResourceInfo");
    assert_eq!(
        (info.resource_type.as_str(), info.resource_name.as_str()),
        ("orders.v1.Product", product_id)
    );
}

/// A product with only its id set: what an UpdateProduct starts from.
pub fn changes_to(product_id: &str) -> proto::Product {
    proto::Product {
        product_id: product_id.to_owned(),
        ..Default::default()
    }
}

/// An UpdateProduct request for `product` with a mask of `paths` (an
/// empty mask when there are none), without a `request_id`.
pub fn update_request(product: proto::Product, paths: &[&str]) -> proto::UpdateProductRequest {
    proto::UpdateProductRequest {
        product: Some(product),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
        request_id: String::new(),
    }
}

/// Calls UpdateProduct, returning the product or the error.
pub async fn try_update(catalog: &Catalog, request: proto::UpdateProductRequest) -> Result<proto::Product, Status> {
    let response = catalog.clone().update_product(request).await?;
    Ok(response.into_inner().product.expect("a product"))
}

/// Changes a product's price (mask `price`, no etag) and returns it.
pub async fn update_price(catalog: &Catalog, product_id: &str, price: (i64, i32, &str)) -> proto::Product {
    let product = proto::Product {
        price: Some(money(price.2, price.0, price.1)),
        ..changes_to(product_id)
    };
    try_update(catalog, update_request(product, &["price"]))
        .await
        .unwrap_or_else(|s| panic!("UpdateProduct {product_id} failed: {s:?}"))
}

/// Calls ArchiveProduct, returning the product or the error.
pub async fn try_archive(
    catalog: &Catalog,
    product_id: &str,
    etag: &str,
    request_id: &str,
) -> Result<proto::Product, Status> {
    let request = proto::ArchiveProductRequest {
        product_id: product_id.to_owned(),
        etag: etag.to_owned(),
        request_id: request_id.to_owned(),
    };
    let response = catalog.clone().archive_product(request).await?;
    Ok(response.into_inner().product.expect("a product"))
}

/// Calls UnarchiveProduct, returning the product or the error.
pub async fn try_unarchive(
    catalog: &Catalog,
    product_id: &str,
    etag: &str,
    request_id: &str,
) -> Result<proto::Product, Status> {
    let request = proto::UnarchiveProductRequest {
        product_id: product_id.to_owned(),
        etag: etag.to_owned(),
        request_id: request_id.to_owned(),
    };
    let response = catalog.clone().unarchive_product(request).await?;
    Ok(response.into_inner().product.expect("a product"))
}

/// Archives a product (unconditionally) and returns it.
pub async fn archive(catalog: &Catalog, product_id: &str) -> proto::Product {
    (try_archive(catalog, product_id, "", "").await).unwrap_or_else(|s| panic!("ArchiveProduct failed: {s:?}"))
}

/// Brings an archived product back (unconditionally) and returns it.
pub async fn unarchive(catalog: &Catalog, product_id: &str) -> proto::Product {
    (try_unarchive(catalog, product_id, "", "").await).unwrap_or_else(|s| panic!("UnarchiveProduct failed: {s:?}"))
}

/// Calls ListProducts.
pub async fn list_products(
    catalog: &Catalog,
    page_size: i32,
    page_token: &str,
    show_archived: bool,
) -> Result<proto::ListProductsResponse, Status> {
    let request = proto::ListProductsRequest {
        page_size,
        page_token: page_token.to_owned(),
        show_archived,
    };
    catalog.clone().list_products(request).await.map(|r| r.into_inner())
}

/// The SKUs of `products`, in order.
pub fn skus(products: &[proto::Product]) -> Vec<String> {
    products.iter().map(|p| p.sku.clone()).collect()
}

/// An audit row of a change to a product's details or to whether it is
/// archived, as a test compares it.
#[derive(Debug, PartialEq, Eq, QueryableByName)]
pub struct ProductChange {
    #[diesel(sql_type = Text)]
    pub action: String,
    /// `<resource_type>/<resource_id>`.
    #[diesel(sql_type = Text)]
    pub resource: String,
    /// `<actor_subject> as <actor_role>`.
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub before: Option<Value>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub after: Option<Value>,
}

impl ProductChange {
    /// The row `action` of product `product_id` by `actor`, with `request_id`,
    /// changing `before` into `after`.
    pub fn new(action: &str, product_id: &str, actor: &str, request_id: &str, before: Value, after: Value) -> Self {
        ProductChange {
            action: action.to_owned(),
            resource: format!("orders.v1.Product/{product_id}"),
            actor: actor.to_owned(),
            request_id: Some(request_id.to_owned()),
            before: Some(before),
            after: Some(after),
        }
    }
}

/// The audit rows of every action (order and product alike), in order,
/// with the values they changed (NULL for most actions).
pub async fn audit_rows(app: &TestApp) -> Vec<ProductChange> {
    let mut conn = app.pool.get().await.unwrap();
    diesel::sql_query(
        "SELECT action, resource_type || '/' || resource_id AS resource, \
                actor_subject || ' as ' || actor_role AS actor, request_id, \
                value_before AS before, value_after AS after \
         FROM audit_events ORDER BY id",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

/// The actions of the audit trail, in order.
pub async fn audit_actions(app: &TestApp) -> Vec<String> {
    audit_rows(app).await.into_iter().map(|row| row.action).collect()
}
