//! Card payments as the orders service sees them: the payment method a
//! customer gives (a token, never a card number), where an order's payment
//! is ([`PaymentStatus`]), and the reasons the payment saga writes into the
//! order's history.

use super::violations::FieldViolation;
use crate::{error::ApiError, proto};

/// A payment method's token made by the front end with the payment
/// processor (`pm_card_visa`): 1 to 255 printable ASCII characters without
/// spaces. The orders service and the payment service parse it alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod(String);

/// The longest token accepted.
pub const MAX_PAYMENT_METHOD: usize = 255;

impl PaymentMethod {
    /// The token; run [`refuse_card_number`] on the value first.
    pub fn parse(value: &str) -> Result<PaymentMethod, String> {
        if value.is_empty() {
            return Err("is required: a payment method's token such as pm_card_visa".to_owned());
        }
        if value.len() > MAX_PAYMENT_METHOD || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "must be a payment method's token such as pm_card_visa: 1 to {MAX_PAYMENT_METHOD} printable ASCII \
                 characters without spaces"
            ));
        }
        Ok(PaymentMethod(value.to_owned()))
    }

    /// The token, or `None` for an empty field (an order paid on delivery).
    pub fn parse_optional(value: &str) -> Result<Option<PaymentMethod>, String> {
        match value.is_empty() {
            true => Ok(None),
            false => PaymentMethod::parse(value).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// INVALID_ARGUMENT `CARD_NUMBER_REFUSED` for a `payment_method` that
/// looks like a card number (12 to 19 digits, spaces and dashes aside: the
/// length of every card scheme's numbers). Checked before anything else,
/// and the value is neither quoted nor logged: no card number is ever
/// accepted or stored.
pub fn refuse_card_number(value: &str) -> Result<(), ApiError> {
    let digits = value.chars().filter(|c| !matches!(c, ' ' | '-'));
    let looks_like_a_card = (12..=19).contains(&digits.clone().count()) && digits.clone().all(|c| c.is_ascii_digit());
    if !looks_like_a_card {
        return Ok(());
    }
    let description =
        "must be a payment method token made with the processor (e.g. \"pm_card_visa\"), never a card number";
    Err(ApiError::InvalidArgument {
        reason: "CARD_NUMBER_REFUSED",
        message: format!("payment_method {description}; the value was not stored"),
        violations: vec![FieldViolation::new("payment_method", description)],
    })
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
        assert!(PaymentMethod::parse("").is_err());
    }

    #[test]
    fn spaces_controls_and_overlong_tokens_are_refused() {
        for refused in ["pm card", "pm\ncard", "pm_\u{e9}", &"x".repeat(256)] {
            assert!(PaymentMethod::parse_optional(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn card_numbers_are_refused_in_any_spelling_and_never_echoed() {
        for card in [
            "4242424242424242",
            "4242-4242-4242-4242",
            "4242 4242 4242 4242",
            "378282246310005",
        ] {
            let error = refuse_card_number(card).unwrap_err();
            assert!(!format!("{error:?}").contains("4242"), "{error:?}");
        }
        // 11 and 20 digits are not card numbers; short digit strings neither.
        for not_a_card in ["12345678901", "12345678901234567890", "pm_card_visa", "12345"] {
            assert!(refuse_card_number(not_a_card).is_ok(), "{not_a_card}");
        }
    }
}
