//! CatalogService.UpdateProduct: the field mask (named, implied, `*`, and
//! every path that cannot change), the new values checked as in
//! CreateProduct, the etag that guards a change (and that stock movements
//! leave alone), idempotency, updates that change nothing, and what every
//! real change leaves behind: one audit row with the values before and
//! after, and one event. Archiving is in [`crate::archiving`], prices and
//! orders in [`crate::price_changes`].

mod guards;
mod masks;
mod records;

use std::collections::HashSet;

use orders::proto;
use serde_json::json;
use tonic::{Code, Request};

use crate::{
    api_calls::{create_product, get_product, place_order, try_restock},
    app::{Catalog, spawn_app, spawn_secured_app, spawn_secured_app_with},
    assertions::{assert_error, assert_invalid_fields, assert_not_found, precondition_violations, time},
    catalog_admin::{
        ProductChange, assert_stale_etag, audit_actions, audit_rows, changes_to, try_archive, try_unarchive,
        try_update, update_price, update_request,
    },
    nats::TestEvents,
    requests::{money, product_request, request_id},
    tokens::token,
};

/// Creates a product named `name` through `catalog` and returns it.
async fn create_named(catalog: &Catalog, sku: &str, name: &str, price: (i64, i32, &str)) -> proto::Product {
    let mut request = product_request(sku, price, 10);
    request.name = name.to_owned();
    let response = catalog.clone().create_product(request).await.unwrap();
    response.into_inner().product.unwrap()
}

/// A change to a product message, for tables of cases.
type Edit = fn(&mut proto::Product);
