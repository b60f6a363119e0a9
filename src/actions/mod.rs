//! The unit of work behind each RPC: one database transaction (or one
//! read), from validated domain input to the response.
//!
//! Handlers run these through [`detached()`]: in a task of their own, so that
//! a caller going away cannot cut a transaction in half, and again when
//! PostgreSQL aborts one for a conflict with another.

pub mod audit;
pub mod call;
pub mod catalog;
pub mod catalog_cache;
pub mod detached;
pub mod maintenance;
pub mod order_lock;
pub mod orders;
pub mod place;
pub mod product_changes;
pub mod saga;
pub mod search;
pub mod to_event;
pub mod to_proto;

pub use call::Call;
pub use detached::detached;

use std::sync::Arc;

use catalog_cache::ProductCache;

use crate::{
    db::{Pool, outbox::Doorbell},
    domain::page::PageTokenKey,
};

/// What every action needs: the pool, the page-token key and the cache of
/// the catalog's immutable part.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub page_key: PageTokenKey,
    pub products: Arc<ProductCache>,
    /// Rung after every commit that wrote events.
    pub outbox: Doorbell,
    /// The database's name: the `db.namespace` of the database spans.
    pub database: Arc<str>,
    /// How long an order paid by card may wait for its payment
    /// (`--payment-timeout`).
    pub payment_timeout: std::time::Duration,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}
