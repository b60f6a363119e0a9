//! The ledger's arithmetic: what a payment's movements make of it (its
//! state and running totals), and which movements each change adds, or why
//! it cannot be made.
//!
//! The database holds the same rules (the CHECKs and the trigger of
//! `payment_movements`); these run first so that a caller gets a reason it
//! understands, and the schema catches any disagreement as a bug.

use crate::{
    domain::{fields::quote, money::Money},
    error::{ApiError, PreconditionViolation},
    proto::payments::v1::PaymentState,
};

crate::pg_enum! {
    /// What one ledger entry records (`payment_movements.kind`).
    pub enum MovementKind {
        Authorized = "authorized",
        Captured = "captured",
        Released = "released",
        Refunded = "refunded",
        Failed = "failed",
    }
}

/// A payment's running totals, in nano units, after some movement: each
/// ledger row stores them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub authorized: i64,
    pub captured: i64,
    pub released: i64,
    pub refunded: i64,
}

impl Totals {
    /// What is held and neither captured nor released.
    pub fn held(&self) -> i64 {
        self.authorized - self.captured - self.released
    }

    /// The totals after a movement of `kind` and `amount`.
    pub fn after(self, kind: MovementKind, amount: i64) -> Totals {
        let mut next = self;
        match kind {
            MovementKind::Authorized => next.authorized += amount,
            MovementKind::Captured => next.captured += amount,
            MovementKind::Released => next.released += amount,
            MovementKind::Refunded => next.refunded += amount,
            MovementKind::Failed => {}
        }
        next
    }
}

/// A payment as its ledger makes it: the last movement and the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ledger {
    pub last: MovementKind,
    pub totals: Totals,
}

/// A movement to record: its kind and amount (nano units).
pub type Step = (MovementKind, i64);

impl Ledger {
    /// The ledger of a payment whose first movement was `kind` of `amount`.
    pub fn start(kind: MovementKind, amount: i64) -> Ledger {
        Ledger {
            last: kind,
            totals: Totals::default().after(kind, amount),
        }
    }

    /// The ledger after `step`.
    pub fn then(self, (kind, amount): Step) -> Ledger {
        Ledger {
            last: kind,
            totals: self.totals.after(kind, amount),
        }
    }

    /// Where the payment is.
    pub fn state(&self) -> PaymentState {
        let t = &self.totals;
        match self.last {
            MovementKind::Authorized => PaymentState::Authorized,
            MovementKind::Failed => PaymentState::Declined,
            MovementKind::Released if t.captured == 0 => PaymentState::Cancelled,
            MovementKind::Captured | MovementKind::Released => PaymentState::Captured,
            MovementKind::Refunded if t.refunded == t.captured => PaymentState::Refunded,
            MovementKind::Refunded => PaymentState::PartiallyRefunded,
        }
    }

    /// CapturePayment: `amount` (default: all that is held) captured, and
    /// the rest released.
    pub fn capture(&self, payment: &str, amount: Option<i64>) -> Result<Vec<Step>, ApiError> {
        if self.state() != PaymentState::Authorized {
            let why = format!(
                "it is {}; only an AUTHORIZED payment can be captured, once",
                name(self.state())
            );
            return Err(refused(payment, "PAYMENT_NOT_CAPTURABLE", why));
        }
        let held = self.totals.held();
        let amount = amount.unwrap_or(held);
        if amount > held {
            let why = format!("the capture is more than the {} nano units authorized", held);
            return Err(refused(payment, "AMOUNT_EXCEEDS_AUTHORIZED", why));
        }
        let mut steps = vec![(MovementKind::Captured, amount)];
        if amount < held {
            steps.push((MovementKind::Released, held - amount));
        }
        Ok(steps)
    }

    /// CancelPayment: the authorization released; nothing to do when it
    /// was cancelled already.
    pub fn cancel(&self, payment: &str) -> Result<Option<Step>, ApiError> {
        match self.state() {
            PaymentState::Authorized => Ok(Some((MovementKind::Released, self.totals.held()))),
            PaymentState::Cancelled => Ok(None),
            other => {
                let why = match other {
                    PaymentState::Declined => "it was declined: nothing is held".to_owned(),
                    _ => format!("it is {}: refund it instead", name(other)),
                };
                Err(refused(payment, "PAYMENT_NOT_CANCELLABLE", why))
            }
        }
    }

    /// RefundPayment: `amount` (default: all that is left) given back.
    pub fn refund(&self, payment: &str, amount: Option<i64>) -> Result<Step, ApiError> {
        let state = self.state();
        if !matches!(state, PaymentState::Captured | PaymentState::PartiallyRefunded) {
            let why = format!("it is {}: there is no captured money left to refund", name(state));
            return Err(refused(payment, "PAYMENT_NOT_REFUNDABLE", why));
        }
        let left = self.totals.captured - self.totals.refunded;
        let amount = amount.unwrap_or(left);
        if amount > left {
            let why = format!("the refund is more than the {left} nano units captured and not yet refunded");
            return Err(refused(payment, "AMOUNT_EXCEEDS_CAPTURED", why));
        }
        Ok((MovementKind::Refunded, amount))
    }
}

/// `money` in nano units, if it is in `currency` (the payment's).
pub fn nanos_in(currency: &str, money: Option<&Money>) -> Result<Option<i64>, ApiError> {
    let Some(money) = money else { return Ok(None) };
    if money.currency_code() != currency {
        let description = format!("must be the payment's currency, {}", quote(currency));
        return Err(ApiError::invalid_field("amount.currency_code", description));
    }
    let nanos = i64::try_from(money.total_nanos()).map_err(ApiError::internal)?;
    Ok(Some(nanos))
}

/// The state's name as the API spells it, e.g. `CAPTURED`.
fn name(state: PaymentState) -> &'static str {
    state.as_str_name().trim_start_matches("PAYMENT_STATE_")
}

fn refused(payment: &str, reason: &'static str, why: String) -> ApiError {
    ApiError::FailedPrecondition {
        reason,
        message: format!("payment {payment} cannot be changed so: {why}"),
        violations: vec![PreconditionViolation {
            kind: "PAYMENT_STATE",
            subject: format!("payments/{payment}"),
            description: why,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(error: ApiError) -> &'static str {
        match error {
            ApiError::FailedPrecondition { reason, .. } => reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_smaller_capture_releases_the_rest_and_happens_once() {
        let ledger = Ledger::start(MovementKind::Authorized, 100);
        let steps = ledger.capture("p", Some(60)).unwrap();
        assert_eq!(steps, [(MovementKind::Captured, 60), (MovementKind::Released, 40)]);
        let after = steps.into_iter().fold(ledger, Ledger::then);
        assert_eq!(after.state(), PaymentState::Captured);
        assert_eq!(reason(after.capture("p", None).unwrap_err()), "PAYMENT_NOT_CAPTURABLE");
        assert_eq!(
            reason(ledger.capture("p", Some(101)).unwrap_err()),
            "AMOUNT_EXCEEDS_AUTHORIZED"
        );
    }

    #[test]
    fn refunds_stop_at_what_was_captured() {
        let captured = Ledger::start(MovementKind::Authorized, 100).then((MovementKind::Captured, 100));
        let part = captured.then(captured.refund("p", Some(30)).unwrap());
        assert_eq!(part.state(), PaymentState::PartiallyRefunded);
        assert_eq!(
            reason(part.refund("p", Some(71)).unwrap_err()),
            "AMOUNT_EXCEEDS_CAPTURED"
        );
        let all = part.then(part.refund("p", None).unwrap());
        assert_eq!((all.state(), all.totals.refunded), (PaymentState::Refunded, 100));
        assert_eq!(reason(all.refund("p", None).unwrap_err()), "PAYMENT_NOT_REFUNDABLE");
    }

    #[test]
    fn only_an_authorization_can_be_cancelled_and_a_cancel_repeats_as_nothing() {
        let authorized = Ledger::start(MovementKind::Authorized, 100);
        let cancelled = authorized.then(authorized.cancel("p").unwrap().unwrap());
        assert_eq!(cancelled.state(), PaymentState::Cancelled);
        assert_eq!(cancelled.cancel("p").unwrap(), None);
        let declined = Ledger::start(MovementKind::Failed, 100);
        assert_eq!(reason(declined.cancel("p").unwrap_err()), "PAYMENT_NOT_CANCELLABLE");
        assert_eq!(
            reason(declined.refund("p", None).unwrap_err()),
            "PAYMENT_NOT_REFUNDABLE"
        );
    }
}
