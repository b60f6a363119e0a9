//! What an order copies from each product (SKU, name, price), cached in
//! memory so that placing an order needs no catalog read.
//!
//! Why this is safe while prices and names change (UpdateProduct, possibly
//! on another server process): `place_order` compares every price,
//! currency and name with the product row it has locked, and refuses an
//! archived product, so an order is never placed from an entry older than
//! the change's commit. An entry gone stale makes the statement answer
//! `stale`; the caller then [`forget`]s those products and prices again
//! from the database. The process that makes a change forgets the entry
//! itself; each other process pays one such retry per changed product.
//!
//! Archived products are never cached: an order for one reads it again
//! (and is refused), so a product brought back on another process is
//! orderable here at once.
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
    domain::pricing::CatalogEntry,
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
            if !entry.archived {
                cached.insert(entry.product_id, entry.clone());
            }
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
    let price = row.price().map_err(ApiError::internal)?;
    Ok(CatalogEntry {
        product_id: row.id,
        sku: row.sku,
        name: row.name,
        price,
        archived: row.archive_time.is_some(),
    })
}
