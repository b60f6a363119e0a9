//! Card payments as the orders service sees them: the payment method a
//! customer gives (a token, never a card number), where an order's payment
//! is ([`PaymentStatus`]), and the reasons the payment saga writes into the
//! order's history.

use crate::proto;

/// A payment method's token made by the front end with the payment
/// processor (`pm_card_visa`): 1 to 255 printable ASCII characters without
/// spaces. A card number is refused, so none is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod(String);

/// The longest token accepted.
pub const MAX_PAYMENT_METHOD: usize = 255;

impl PaymentMethod {
    /// The token, or `None` for an empty field (the order is paid on
    /// delivery).
    pub fn parse_optional(value: &str) -> Result<Option<PaymentMethod>, String> {
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > MAX_PAYMENT_METHOD || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "must be a payment method's token such as pm_card_visa: 1 to {MAX_PAYMENT_METHOD} printable ASCII \
                 characters without spaces"
            ));
        }
        if looks_like_a_card_number(value) {
            return Err(
                "looks like a card number; send the payment method's token made by the payment processor \
                        (such as pm_card_visa), never the card's number"
                    .to_owned(),
            );
        }
        Ok(Some(PaymentMethod(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 12 to 19 digits, possibly grouped by spaces or dashes (spaces are
/// refused earlier anyway): the length of every card scheme's numbers.
fn looks_like_a_card_number(value: &str) -> bool {
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    value.bytes().all(|b| b.is_ascii_digit() || b == b'-') && (12..=19).contains(&digits)
}

crate::pg_enum! {
    /// Where an order's card payment is, as stored in
    /// `order_payments.status` (see `PaymentStatus` in orders.proto).
    pub enum PaymentStatus {
        Pending = "PENDING",
        Authorized = "AUTHORIZED",
        Captured = "CAPTURED",
        Declined = "DECLINED",
        Released = "RELEASED",
        Refunded = "REFUNDED",
    }
}

impl From<PaymentStatus> for proto::PaymentStatus {
    fn from(status: PaymentStatus) -> Self {
        match status {
            PaymentStatus::Pending => proto::PaymentStatus::Pending,
            PaymentStatus::Authorized => proto::PaymentStatus::Authorized,
            PaymentStatus::Captured => proto::PaymentStatus::Captured,
            PaymentStatus::Declined => proto::PaymentStatus::Declined,
            PaymentStatus::Released => proto::PaymentStatus::Released,
            PaymentStatus::Refunded => proto::PaymentStatus::Refunded,
        }
    }
}

/// The cancellation reason of an order whose card was declined.
pub const PAYMENT_DECLINED: &str = "PAYMENT_DECLINED";
/// The cancellation reason of an order still unpaid after the timeout.
pub const PAYMENT_TIMEOUT: &str = "PAYMENT_TIMEOUT";
/// The history's reason for the step "the amount is held on the card".
pub const PAYMENT_AUTHORIZED: &str = "PAYMENT_AUTHORIZED";
/// The history's reason for the step "the hold was let go".
pub const PAYMENT_RELEASED: &str = "PAYMENT_RELEASED";
/// The history's reason for the step "the money was given back".
pub const PAYMENT_REFUNDED: &str = "PAYMENT_REFUNDED";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_and_empty_means_pay_on_delivery() {
        let visa = PaymentMethod::parse_optional("pm_card_visa").unwrap().unwrap();
        assert_eq!(visa.as_str(), "pm_card_visa");
        assert_eq!(PaymentMethod::parse_optional(""), Ok(None));
    }

    #[test]
    fn card_numbers_spaces_and_overlong_tokens_are_refused() {
        for refused in [
            "4242424242424242",
            "4242-4242-4242-4242",
            "pm card",
            "pm_\u{e9}",
            &"x".repeat(256),
        ] {
            assert!(PaymentMethod::parse_optional(refused).is_err(), "{refused:?}");
        }
        // Short digit strings are not card numbers.
        assert!(PaymentMethod::parse_optional("12345").unwrap().is_some());
    }
}
