//! Idempotent requests (AIP-155), all in one place: a retried request gets
//! the first response, and the same `request_id` with other content is
//! refused with FAILED_PRECONDITION / `REQUEST_ID_REUSED`.
//!
//! ```text
//! handler:      key(request_id, request)         the scope, the id, a hash
//! transaction {
//!     start(key) -> Replay(first response)       return it, change nothing
//!                -> Fresh                         do the work
//!     finish(key, response)
//! }
//! ```
//!
//! The queries serve every database whose migrations create the same
//! `idempotency_keys` table (the orders and the payments databases;
//! `tests/api/schema.rs` checks that they are the same).
//!
//! A key is scoped to one RPC (and, for orders, one customer: two customers
//! may pick the same UUID) and stores a SHA-256 of the request's content
//! without its `request_id`. It is claimed with `INSERT … ON CONFLICT DO
//! NOTHING` inside the transaction that makes the change. A racing duplicate
//! blocks on the unique index until the first transaction ends: if it
//! committed, the duplicate finds the stored response; if it rolled back,
//! the duplicate claims the key and does the work itself. Check-then-insert
//! would let both win. CreateOrder claims its key in SQL instead, inside
//! `place_order` (see [`start`]), and replays through [`replay`] like the
//! others.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::schema::idempotency_keys as keys;
use crate::{
    error::{ApiError, PreconditionViolation},
    proto,
};

/// One idempotency key: the RPC (and customer) it is scoped to, the
/// caller's `request_id`, and a SHA-256 of the request's content.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub request_id: Uuid,
    pub request_hash: [u8; 32],
}

/// A request message that may carry a `request_id`.
pub trait IdempotentRequest: Message {
    /// What the key is scoped to.
    fn scope(&self) -> String;
    /// The `request_id` field, cleared before hashing the content.
    fn request_id_mut(&mut self) -> &mut String;
}

impl IdempotentRequest for proto::CreateOrderRequest {
    fn scope(&self) -> String {
        format!("CreateOrder/{}", self.customer_id)
    }
    fn request_id_mut(&mut self) -> &mut String {
        &mut self.request_id
    }
}

/// Implements [`IdempotentRequest`] for request messages whose keys are
/// scoped to their RPC alone (the catalog's here, the payment service's in
/// `crate::payments::db`).
macro_rules! scoped_to_the_rpc {
    ($($request:path => $scope:literal),* $(,)?) => {$(
        impl $crate::db::idempotency::IdempotentRequest for $request {
            fn scope(&self) -> String {
                $scope.to_owned()
            }
            fn request_id_mut(&mut self) -> &mut String {
                &mut self.request_id
            }
        }
    )*};
}
pub(crate) use scoped_to_the_rpc;

scoped_to_the_rpc! {
    proto::CreateProductRequest => "CreateProduct",
    proto::RestockProductRequest => "RestockProduct",
    proto::UpdateProductRequest => "UpdateProduct",
    proto::ArchiveProductRequest => "ArchiveProduct",
    proto::UnarchiveProductRequest => "UnarchiveProduct",
}

/// The key of a validated `request` whose `request_id` parsed to
/// `request_id`, or `None` when it carries none.
pub fn key(request_id: Option<Uuid>, mut request: impl IdempotentRequest) -> Option<IdempotencyKey> {
    let request_id = request_id?;
    request.request_id_mut().clear();
    Some(IdempotencyKey {
        scope: request.scope(),
        request_id,
        request_hash: Sha256::digest(request.encode_to_vec()).into(),
    })
}

/// The job, in every service that keeps keys, that deletes those older than
/// the idempotency retention (`--idempotency-retention`).
pub const PURGE_IDEMPOTENCY_KEYS: &str = "purge_idempotency_keys";

/// What a key had stored when a request found it taken.
#[derive(Debug, Clone, Default)]
pub struct StoredKey {
    pub request_hash: Vec<u8>,
    pub response: Option<Vec<u8>>,
}

/// Whether the guarded work has to be done.
pub enum Start<R> {
    Fresh,
    Replay(R),
}

/// Claims the key, if any, inside the current transaction: [`Start::Fresh`]
/// when this request is the first with it, else the first response.
///
/// Twin: `place_order` (migration `2026-11-23-000002_place_order_function`)
/// makes the same claim in SQL for CreateOrder, step 3 of that function,
/// and hands what it found to [`replay`]. A change to one is a change to both.
pub async fn start<R: Message + Default>(
    conn: &mut AsyncPgConnection,
    key: Option<&IdempotencyKey>,
) -> Result<Start<R>, ApiError> {
    let Some(key) = key else {
        return Ok(Start::Fresh);
    };
    let inserted = diesel::insert_into(keys::table)
        .values((
            keys::scope.eq(&key.scope),
            keys::request_id.eq(key.request_id),
            keys::request_hash.eq(&key.request_hash[..]),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(Start::Fresh);
    }
    let (request_hash, response) = keys::table
        .find((&key.scope, key.request_id))
        .select((keys::request_hash, keys::response))
        .first(conn)
        .await?;
    replay(key, StoredKey { request_hash, response }).map(Start::Replay)
}

/// The first response to `key`'s request, from what its key `stored`, or
/// REQUEST_ID_REUSED when that was a request with other content.
pub fn replay<R: Message + Default>(key: &IdempotencyKey, stored: StoredKey) -> Result<R, ApiError> {
    match stored.response {
        Some(response) if stored.request_hash == key.request_hash => {
            R::decode(response.as_slice()).map_err(ApiError::internal)
        }
        Some(_) => Err(reused(key)),
        // A committed key always has its response; a missing one can only
        // mean a bug, which must not be papered over as a replay.
        None => Err(ApiError::internal(format!(
            "idempotency key {}/{} has no response",
            key.scope, key.request_id
        ))),
    }
}

/// Stores the response of the request that claimed `key`, if any, inside
/// the same transaction.
pub async fn finish<R: Message>(
    conn: &mut AsyncPgConnection,
    key: Option<&IdempotencyKey>,
    response: &R,
) -> Result<(), ApiError> {
    if let Some(key) = key {
        diesel::update(keys::table.find((&key.scope, key.request_id)))
            .set(keys::response.eq(response.encode_to_vec()))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Deletes up to `limit` keys created before `cutoff` (the purge job, in
/// batches); returns how many. A retry that arrives after its key is gone
/// is done again, so the retention must outlast any client's retries.
pub async fn purge_before(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    // No index on create_time (every keyed request would pay for one): a
    // batch is a sequential scan that stops at `limit` matches, cheap while
    // the oldest rows sit at the start of the heap, as appended rows do.
    diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE (scope, request_id) IN ( \
             SELECT scope, request_id FROM idempotency_keys WHERE create_time < $1 LIMIT $2)",
    )
    .bind::<Timestamptz, _>(cutoff)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await
}

fn reused(key: &IdempotencyKey) -> ApiError {
    ApiError::FailedPrecondition {
        reason: "REQUEST_ID_REUSED",
        message: format!(
            "request_id {} was already used for a different request; use a new request_id for new content",
            key.request_id
        ),
        violations: vec![PreconditionViolation {
            kind: "REQUEST_ID",
            subject: format!("request_id/{}", key.request_id),
            description: "already used with different content".to_owned(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restock(request_id: &str, quantity: i64) -> proto::RestockProductRequest {
        proto::RestockProductRequest {
            product_id: "6f1c2b9e-3f4a-4d5b-9c8e-1a2b3c4d5e6f".into(),
            quantity,
            request_id: request_id.into(),
        }
    }

    #[test]
    fn the_key_hashes_the_content_without_the_request_id() {
        let id = Uuid::new_v4();
        let first = key(Some(id), restock(&id.to_string(), 5)).unwrap();
        let same = key(Some(id), restock("", 5)).unwrap();
        let other = key(Some(id), restock(&id.to_string(), 6)).unwrap();
        assert_eq!((first.scope.as_str(), first.request_id), ("RestockProduct", id));
        assert_eq!(first.request_hash, same.request_hash);
        assert_ne!(first.request_hash, other.request_hash);
        assert!(key(None, restock("", 5)).is_none());
    }

    #[test]
    fn order_keys_are_scoped_per_customer() {
        let order = |customer: &str| proto::CreateOrderRequest {
            customer_id: customer.into(),
            ..Default::default()
        };
        let id = Some(Uuid::new_v4());
        assert_eq!(key(id, order("alice")).unwrap().scope, "CreateOrder/alice");
        assert_eq!(key(id, order("bob")).unwrap().scope, "CreateOrder/bob");
    }

    #[test]
    fn a_stored_key_replays_only_the_same_content() {
        let key = key(Some(Uuid::new_v4()), restock("", 5)).unwrap();
        let response = proto::RestockProductResponse::default().encode_to_vec();
        let stored = |hash: &[u8], response: Option<Vec<u8>>| StoredKey {
            request_hash: hash.to_vec(),
            response,
        };
        let same = replay::<proto::RestockProductResponse>(&key, stored(&key.request_hash, Some(response.clone())));
        assert_eq!(same.unwrap(), proto::RestockProductResponse::default());
        let other = replay::<proto::RestockProductResponse>(&key, stored(&[0; 32], Some(response)));
        assert!(matches!(
            other,
            Err(ApiError::FailedPrecondition {
                reason: "REQUEST_ID_REUSED",
                ..
            })
        ));
        let unanswered = replay::<proto::RestockProductResponse>(&key, stored(&key.request_hash, None));
        assert!(matches!(unanswered, Err(ApiError::Internal(_))));
    }
}
