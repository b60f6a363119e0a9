//! Idempotent requests: the start and the end of a guarded transaction.
//!
//! ```text
//! transaction {
//!     start(key)  -> Replay(first response)  => return it, change nothing
//!                 -> Fresh                   => do the work
//!     finish(key, response)
//! }
//! ```
//!
//! A key is scoped to one RPC (and, for orders, one customer) and stores a
//! SHA-256 of the request's content (the request re-encoded with its
//! `request_id` cleared), so the same `request_id` with other content is
//! refused with FAILED_PRECONDITION / `REQUEST_ID_REUSED`.

use diesel_async::AsyncPgConnection;
use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    db::idempotency::{self, Claim, IdempotencyKey},
    error::{ApiError, PreconditionViolation},
};

/// Whether the guarded work has to be done.
pub enum Start<R> {
    Fresh,
    Replay(R),
}

/// The key for a request, or `None` when it carries no `request_id`.
/// `content` is the request with its `request_id` cleared.
pub fn key(scope: String, request_id: Option<Uuid>, content: &impl Message) -> Option<IdempotencyKey> {
    request_id.map(|request_id| IdempotencyKey {
        scope,
        request_id,
        request_hash: Sha256::digest(content.encode_to_vec()).into(),
    })
}

/// Claims the key, if any, inside the current transaction.
pub async fn start<R: Message + Default>(
    conn: &mut AsyncPgConnection,
    key: Option<&IdempotencyKey>,
) -> Result<Start<R>, ApiError> {
    let Some(key) = key else {
        return Ok(Start::Fresh);
    };
    resolve(key, idempotency::claim(conn, key).await?)
}

/// Turns a claim into what to do: the work, the stored response, or
/// FAILED_PRECONDITION for a `request_id` reused with other content.
pub fn resolve<R: Message + Default>(key: &IdempotencyKey, claim: Claim) -> Result<Start<R>, ApiError> {
    match claim {
        Claim::Claimed => Ok(Start::Fresh),
        Claim::Replay(bytes) => R::decode(bytes.as_slice())
            .map(Start::Replay)
            .map_err(ApiError::internal),
        Claim::Conflict => Err(reused(key)),
    }
}

/// Records the response under the key, if any, inside the same transaction.
pub async fn finish<R: Message>(
    conn: &mut AsyncPgConnection,
    key: Option<&IdempotencyKey>,
    response: &R,
) -> Result<(), ApiError> {
    if let Some(key) = key {
        idempotency::complete(conn, key, &response.encode_to_vec()).await?;
    }
    Ok(())
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
