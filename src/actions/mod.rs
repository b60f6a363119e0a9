//! The unit of work behind each RPC: one database transaction (or one
//! read), from validated domain input to the response.
//!
//! Handlers run these through [`detached`]: the work is spawned, so a client
//! that disconnects or times out mid-call cannot drop a transaction half-way;
//! it finishes (commit or rollback) and the connection goes back to the pool
//! clean. Transactions that PostgreSQL aborts for a serialization failure or
//! deadlock are retried ([`crate::db::retry`]).

pub mod call;
pub mod catalog;
pub mod catalog_cache;
pub mod idempotent;
pub mod orders;
pub mod place;
pub mod to_proto;

pub use call::Call;

use std::sync::Arc;

use catalog_cache::ProductCache;

use crate::{db::Pool, domain::page::PageTokenKey, error::ApiError};

/// What every action needs: the pool, the page-token key and the cache of
/// the catalog's immutable part.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub page_key: PageTokenKey,
    pub products: Arc<ProductCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("pool", &self.pool.status())
            .finish_non_exhaustive()
    }
}

/// Runs `work` in its own task and waits for it. The task runs to the end
/// even when the caller's future is dropped.
pub async fn detached<R, F>(work: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: Future<Output = Result<R, ApiError>> + Send + 'static,
{
    tokio::spawn(work).await.map_err(ApiError::internal)?
}
