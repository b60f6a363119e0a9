//! Idempotency keys (AIP-155): a retried request gets the first response.
//!
//! The key is claimed with `INSERT … ON CONFLICT DO NOTHING` inside the
//! transaction that makes the change. A racing duplicate blocks on the
//! unique index until the first transaction ends: if it committed, the
//! duplicate sees the stored response; if it rolled back, the duplicate
//! claims the key and does the work itself. Check-then-insert would let both
//! win.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::idempotency_keys as keys;

/// One idempotency key: the RPC (and customer) it is scoped to, the
/// caller's `request_id`, and a SHA-256 of the request's content.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub request_id: Uuid,
    pub request_hash: [u8; 32],
}

/// The outcome of claiming a key.
#[derive(Debug)]
pub enum Claim {
    /// First use: do the work, then [`complete`] the key.
    Claimed,
    /// Seen before with the same content: this is the stored response.
    Replay(Vec<u8>),
    /// Seen before with different content.
    Conflict,
}

/// Claims `key` in the current transaction.
pub async fn claim(conn: &mut AsyncPgConnection, key: &IdempotencyKey) -> QueryResult<Claim> {
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
        return Ok(Claim::Claimed);
    }
    let (hash, response): (Vec<u8>, Option<Vec<u8>>) = keys::table
        .find((&key.scope, key.request_id))
        .select((keys::request_hash, keys::response))
        .first(conn)
        .await?;
    seen_before(key, &hash, response)
}

/// What a key found stored (with `hash` and `response`) means for `key`.
pub fn seen_before(key: &IdempotencyKey, hash: &[u8], response: Option<Vec<u8>>) -> QueryResult<Claim> {
    Ok(match response {
        Some(response) if hash == key.request_hash => Claim::Replay(response),
        // A committed key always has its response; a missing one can only
        // mean a bug, which must not be papered over as a replay.
        None => return Err(diesel::result::Error::NotFound),
        Some(_) => Claim::Conflict,
    })
}

/// Stores the response of the request that claimed `key`.
pub async fn complete(conn: &mut AsyncPgConnection, key: &IdempotencyKey, response: &[u8]) -> QueryResult<()> {
    diesel::update(keys::table.find((&key.scope, key.request_id)))
        .set(keys::response.eq(response))
        .execute(conn)
        .await?;
    Ok(())
}
