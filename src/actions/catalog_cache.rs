//! The part of each product that never changes through the API (SKU, name,
//! price), cached in memory so that placing an order needs no catalog read.
//!
//! Why this is safe: the API has no call that changes a price or removes a
//! product, and `place_order` re-checks every price and currency under its
//! row locks anyway. An entry gone stale (a price edited by hand in SQL)
//! makes the statement answer `stale`; the caller then [`forget`]s those
//! products and prices again from the database.
//!
//! [`forget`]: ProductCache::forget

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use uuid::Uuid;

use super::Call;
use crate::{
    db::products::{self, ProductRow},
    domain::{money::Money, pricing::CatalogEntry},
    error::ApiError,
};

/// More entries than this and the cache starts over (a catalog that large
/// would be better served by an LRU; ours holds thousands).
const CAPACITY: usize = 100_000;

/// Catalog entries by product id.
#[derive(Debug, Default)]
pub struct ProductCache {
    entries: RwLock<HashMap<Uuid, CatalogEntry>>,
}

impl ProductCache {
    /// The entries of `ids` that exist, reading the ones not cached yet from
    /// the database in one query.
    pub async fn entries(&self, call: &Call, ids: &[Uuid]) -> Result<HashMap<Uuid, CatalogEntry>, ApiError> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cached = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            for id in ids {
                match cached.get(id) {
                    Some(entry) => drop(found.insert(*id, entry.clone())),
                    None => missing.push(*id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let rows = call
            .run(async |conn| Ok(products::find_many(conn, &missing).await?))
            .await?;
        let mut cached = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if cached.len() + rows.len() > CAPACITY {
            cached.clear();
        }
        for row in rows {
            let entry = catalog_entry(row)?;
            cached.insert(entry.product_id, entry.clone());
            found.insert(entry.product_id, entry);
        }
        Ok(found)
    }

    /// Drops `ids` from the cache, so that they are read again.
    pub fn forget(&self, ids: &[Uuid]) {
        let mut cached = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            cached.remove(id);
        }
    }
}

fn catalog_entry(row: ProductRow) -> Result<CatalogEntry, ApiError> {
    let price = Money::from_parts(&row.currency_code, row.price_units, row.price_nanos).map_err(ApiError::internal)?;
    Ok(CatalogEntry {
        product_id: row.id,
        sku: row.sku,
        name: row.name,
        price,
    })
}
