//! The payment processor: who actually moves the money (Stripe, Adyen, …),
//! behind [`PaymentProcessor`], and the development processor built in,
//! [`DevelopmentProcessor`], which knows Stripe's test payment methods.
//!
//! # The processor call and the transaction
//!
//! Each change calls the processor first and records the movement after,
//! in the transaction that claimed the request's idempotency key and locked
//! the payment (see [`crate::payments::actions`]). Nothing is recorded
//! unless the processor said yes (or, for an authorization, declined): an
//! UNAVAILABLE processor leaves no trace, and the caller retries.
//!
//! The window between the processor's answer and the commit (a crash, a
//! lost database) is made safe by the key the processor is called with:
//! the request's own `request_id`, the same on every retry. A retry after
//! such a crash finds no movement, calls the processor again with the same
//! key, and gets the first answer back (processors keep idempotency keys
//! for at least a day), so the money moves once and is recorded once.
//! Calling inside the transaction, with the payment's row locked, also
//! means two different requests on one payment never reach the processor
//! at the same time. The price: a connection is held for the processor's
//! time, so a slow processor uses up the pool sooner.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::{FutureExt, future::BoxFuture};
use uuid::Uuid;

use crate::domain::money::Money;

/// What the processor made of an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Approved,
    /// Refused by the card's bank, with the processor's decline code.
    Declined {
        code: String,
    },
}

/// Why the processor did not answer yes or no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessorError {
    /// It cannot be reached; nothing happened, ask again later.
    #[error("the payment processor is unavailable: {0}")]
    Unavailable(String),
    /// It does not know this payment method token.
    #[error("the payment processor does not know this payment method")]
    UnknownPaymentMethod,
}

/// A payment processor. Every call carries an idempotency key: the same
/// key asked again gets the first answer and moves no more money.
pub trait PaymentProcessor: Send + Sync + 'static {
    /// Holds `amount` on `payment_method`.
    fn authorize<'a>(
        &'a self,
        key: Uuid,
        payment_method: &'a str,
        amount: &'a Money,
    ) -> BoxFuture<'a, Result<Authorization, ProcessorError>>;

    /// Takes `amount` of the authorization of `payment`.
    fn capture(&self, key: Uuid, payment: Uuid, amount: i64) -> BoxFuture<'_, Result<(), ProcessorError>>;

    /// Lets go of `amount` held for `payment`.
    fn release(&self, key: Uuid, payment: Uuid, amount: i64) -> BoxFuture<'_, Result<(), ProcessorError>>;

    /// Gives back `amount` captured for `payment`.
    fn refund(&self, key: Uuid, payment: Uuid, amount: i64) -> BoxFuture<'_, Result<(), ProcessorError>>;
}

/// Faults the development processor is told to have: from the settings
/// (`--payment-processor-delay`, `--payment-processor-unavailable`) and,
/// through the shared handle, at run time (tests).
#[derive(Debug, Default)]
pub struct ProcessorFaults {
    unavailable: AtomicBool,
    delay_micros: AtomicU64,
}

impl ProcessorFaults {
    /// Every call answers UNAVAILABLE while `unavailable` is set.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::Relaxed);
    }

    /// Every call waits `delay` before answering.
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.delay_micros.store(micros, Ordering::Relaxed);
    }

    /// Waits the delay, then fails if unavailable.
    async fn apply(&self) -> Result<(), ProcessorError> {
        let delay = Duration::from_micros(self.delay_micros.load(Ordering::Relaxed));
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match self.unavailable.load(Ordering::Relaxed) {
            true => Err(ProcessorError::Unavailable("it is switched off (a fault)".to_owned())),
            false => Ok(()),
        }
    }
}

/// The development processor: moves no real money and follows Stripe's
/// test payment methods, so that tests and local runs see every outcome.
/// Stateless: the same request always gets the same answer, which is all
/// an idempotency key promises.
#[derive(Debug, Clone, Default)]
pub struct DevelopmentProcessor {
    pub faults: Arc<ProcessorFaults>,
}

impl DevelopmentProcessor {
    /// What Stripe's test payment method `token` does.
    fn outcome(token: &str) -> Result<Authorization, ProcessorError> {
        let declined = |code: &str| Ok(Authorization::Declined { code: code.to_owned() });
        match token {
            "pm_card_visa" | "pm_card_mastercard" => Ok(Authorization::Approved),
            "pm_card_chargeDeclined" => declined("card_declined"),
            "pm_card_chargeDeclinedInsufficientFunds" => declined("insufficient_funds"),
            _ => Err(ProcessorError::UnknownPaymentMethod),
        }
    }
}

impl PaymentProcessor for DevelopmentProcessor {
    fn authorize<'a>(
        &'a self,
        _key: Uuid,
        payment_method: &'a str,
        _amount: &'a Money,
    ) -> BoxFuture<'a, Result<Authorization, ProcessorError>> {
        async move {
            self.faults.apply().await?;
            Self::outcome(payment_method)
        }
        .boxed()
    }

    fn capture(&self, _key: Uuid, _payment: Uuid, _amount: i64) -> BoxFuture<'_, Result<(), ProcessorError>> {
        self.faults.apply().boxed()
    }

    fn release(&self, _key: Uuid, _payment: Uuid, _amount: i64) -> BoxFuture<'_, Result<(), ProcessorError>> {
        self.faults.apply().boxed()
    }

    fn refund(&self, _key: Uuid, _payment: Uuid, _amount: i64) -> BoxFuture<'_, Result<(), ProcessorError>> {
        self.faults.apply().boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stripes_test_methods_and_the_faults() {
        let processor = DevelopmentProcessor::default();
        let amount = Money::from_parts("EUR", 5, 0).unwrap();
        let authorize = |token: &'static str| processor.authorize(Uuid::nil(), token, &amount);
        assert_eq!(authorize("pm_card_mastercard").await, Ok(Authorization::Approved));
        let declined = Authorization::Declined {
            code: "insufficient_funds".into(),
        };
        assert_eq!(authorize("pm_card_chargeDeclinedInsufficientFunds").await, Ok(declined));
        assert_eq!(
            authorize("pm_card_amex").await,
            Err(ProcessorError::UnknownPaymentMethod)
        );
        processor.faults.set_unavailable(true);
        assert!(matches!(
            authorize("pm_card_visa").await,
            Err(ProcessorError::Unavailable(_))
        ));
    }
}
