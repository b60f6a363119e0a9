//! The unit of work behind each payment RPC: on the payment database, with
//! the processor, one transaction each ([`authorize`], [`change`],
//! [`reads`]); rows to messages and events ([`to_proto`]).
//!
//! Every mutating action has the same shape, in one transaction:
//!
//! ```text
//! claim the request's idempotency key      (a replay returns the first answer)
//! lock the payment (or the order's new payments)
//! plan the movements from the ledger       (domain::ledger; or refuse)
//! call the processor with key request_id   (UNAVAILABLE: roll back, nothing recorded)
//! append the movements, each with its event
//! store the response under the key, commit, ring the relay's doorbell
//! ```
//!
//! A duplicate racing the first blocks on the key's unique index until the
//! first commits, then finds its stored response: 50 identical calls make
//! one movement. Why the processor is called inside the transaction, and
//! why a crash after its answer is safe: see [`crate::payments::processor`].

pub mod authorize;
pub mod change;
pub mod reads;
pub mod to_proto;

use std::sync::Arc;

use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use prost::Message;

use super::{
    db::payments::{self, NewMovement},
    domain::ledger::MovementKind,
    processor::{PaymentProcessor, ProcessorError},
};
use crate::{
    db::{
        Pool,
        idempotency::{self, IdempotencyKey, Start},
        outbox::Doorbell,
    },
    error::ApiError,
    monitoring::{self, catalogue::PAYMENT_MOVEMENTS},
};

/// What every payment action shares.
#[derive(Clone)]
pub struct PaymentsState {
    pub pool: Pool,
    pub processor: Arc<dyn PaymentProcessor>,
    /// Wakes the relay after commits that recorded movements.
    pub doorbell: Doorbell,
}

impl PaymentsState {
    /// Runs `work` on a pooled connection.
    pub async fn run<R>(
        &self,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut conn = self.pool.get().await?;
        work(&mut conn).await
    }

    /// Runs `work` in a transaction that first claims `key`: a replay
    /// answers the stored response and runs nothing; else `work` returns
    /// the response (stored under the key) and the movements it recorded
    /// (announced after the commit).
    async fn keyed<R: Message + Default>(
        &self,
        key: &IdempotencyKey,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<(R, Vec<NewMovement>), ApiError>,
    ) -> Result<R, ApiError> {
        let (response, recorded) = self
            .run(async |conn| {
                transaction(conn, async |conn| {
                    if let Start::Replay(response) = idempotency::start(conn, Some(key)).await? {
                        monitoring::count_replay(Some(&key.scope));
                        return Ok((response, Vec::new()));
                    }
                    let (response, recorded) = work(conn).await?;
                    idempotency::finish(conn, Some(key), &response).await?;
                    Ok((response, recorded))
                })
                .await
            })
            .await?;
        self.committed(&recorded);
        Ok(response)
    }

    /// After the commit of `recorded`: wakes the relay and counts them.
    fn committed(&self, recorded: &[NewMovement]) {
        if recorded.is_empty() {
            return;
        }
        self.doorbell.ring();
        for movement in recorded {
            metrics::counter!(PAYMENT_MOVEMENTS, "outcome" => outcome(movement.row.kind)).increment(1);
        }
    }
}

/// Runs `body` in a transaction: committed when it succeeds, rolled back
/// when it fails. Why not diesel-async's `transaction`: it needs its
/// closure's future to be `Send` in the signature, which a generic
/// `AsyncFnOnce` (as [`PaymentsState::keyed`] takes) cannot state; here
/// `Send` is checked where the concrete action is spawned ([`detached`]).
/// Actions run detached, so the body is never dropped half-way.
///
/// [`detached`]: crate::actions::detached()
async fn transaction<R>(
    conn: &mut AsyncPgConnection,
    body: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    match body(conn).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(conn).await?;
            Err(error)
        }
    }
}

/// What a movement means for the payment, as the metric and the events
/// name it.
pub fn outcome(kind: MovementKind) -> &'static str {
    match kind {
        MovementKind::Authorized => "authorized",
        MovementKind::Failed => "declined",
        MovementKind::Captured => "captured",
        MovementKind::Released => "cancelled",
        MovementKind::Refunded => "refunded",
    }
}

/// The processor's failure as the caller sees it.
fn processor_error(error: ProcessorError) -> ApiError {
    match error {
        ProcessorError::Unavailable(_) => ApiError::DependencyUnavailable {
            reason: "PROCESSOR_UNAVAILABLE",
            message: format!("{error}; nothing was changed: retry with the same request_id"),
        },
        ProcessorError::UnknownPaymentMethod => ApiError::InvalidArgument {
            reason: "UNKNOWN_PAYMENT_METHOD",
            message: "payment_method: the payment processor does not know this payment method".to_owned(),
            violations: vec![crate::error::FieldViolation::new(
                "payment_method",
                "is not a payment method the processor knows, e.g. \"pm_card_visa\"",
            )],
        },
    }
}

/// Appends `movements` to the ledger.
async fn append(conn: &mut AsyncPgConnection, movements: &[NewMovement]) -> Result<(), ApiError> {
    payments::append(conn, movements).await.map_err(ApiError::from)
}
