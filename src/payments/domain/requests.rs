//! The mutating requests of `payments.v1.PaymentService`, parsed: every
//! field checked at once (one INVALID_ARGUMENT names them all), amounts in
//! range, and the payment method a token, never a card number.

use uuid::Uuid;

use crate::{
    domain::{
        fields,
        money::{self, Money},
        payment::{PaymentMethod, refuse_card_number},
        violations::Violations,
    },
    error::ApiError,
    proto::{Money as WireMoney, payments::v1 as pb},
};

/// The largest amount, in whole units: amounts are below 10^9 units, so
/// their nano units fit a BIGINT (below 10^18).
pub const MAX_AMOUNT_UNITS: i64 = 999_999_999;

/// The longest reason a caller may give, in characters.
pub const REASON_MAX: usize = 500;

/// AuthorizePayment, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub request_id: Uuid,
    pub order_id: Uuid,
    pub customer_id: String,
    pub amount: Money,
    pub payment_method: String,
}

impl TryFrom<&pb::AuthorizePaymentRequest> for Authorization {
    type Error = ApiError;

    fn try_from(request: &pb::AuthorizePaymentRequest) -> Result<Self, ApiError> {
        // A card number is refused on its own, before anything else, and
        // never echoed back: the caller must not send one at all.
        refuse_card_number(&request.payment_method)?;
        let mut v = Violations::default();
        let request_id = v.check("request_id", fields::uuid(&request.request_id));
        let order_id = v.check("order_id", fields::uuid(&request.order_id));
        let customer_id = v.check("customer_id", fields::customer_id(&request.customer_id));
        let amount = parse_amount("amount", request.amount.as_ref(), &mut v);
        let payment_method = v.check("payment_method", PaymentMethod::parse(&request.payment_method));
        let parsed = (request_id.zip(order_id), customer_id.zip(amount).zip(payment_method));
        let ((request_id, order_id), ((customer_id, amount), payment_method)) = v.finish(parsed.0.zip(parsed.1))?;
        Ok(Authorization {
            request_id,
            order_id,
            customer_id,
            amount,
            payment_method: payment_method.into_string(),
        })
    }
}

/// A movement asked of an existing payment: CapturePayment, CancelPayment
/// or RefundPayment, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub request_id: Uuid,
    pub payment_id: Uuid,
    /// How much (capture, refund); `None` for all there is.
    pub amount: Option<Money>,
    /// The caller's note for the ledger (cancel, refund).
    pub reason: String,
}

impl Change {
    fn parse(request_id: &str, payment_id: &str, amount: Option<&WireMoney>, reason: &str) -> Result<Change, ApiError> {
        let mut v = Violations::default();
        let request_id = v.check("request_id", fields::uuid(request_id));
        let payment_id = v.check("payment_id", fields::uuid(payment_id));
        // Unset means "all"; a set amount must be valid.
        let amount = match amount {
            Some(amount) => parse_amount("amount", Some(amount), &mut v).map(Some),
            None => Some(None),
        };
        let reason = v.check("reason", fields::text(reason, 0, REASON_MAX));
        let (((request_id, payment_id), amount), reason) =
            v.finish(request_id.zip(payment_id).zip(amount).zip(reason))?;
        Ok(Change {
            request_id,
            payment_id,
            amount,
            reason,
        })
    }
}

impl TryFrom<&pb::CapturePaymentRequest> for Change {
    type Error = ApiError;
    fn try_from(r: &pb::CapturePaymentRequest) -> Result<Self, ApiError> {
        Change::parse(&r.request_id, &r.payment_id, r.amount.as_ref(), "")
    }
}

impl TryFrom<&pb::CancelPaymentRequest> for Change {
    type Error = ApiError;
    fn try_from(r: &pb::CancelPaymentRequest) -> Result<Self, ApiError> {
        Change::parse(&r.request_id, &r.payment_id, None, &r.reason)
    }
}

impl TryFrom<&pb::RefundPaymentRequest> for Change {
    type Error = ApiError;
    fn try_from(r: &pb::RefundPaymentRequest) -> Result<Self, ApiError> {
        Change::parse(&r.request_id, &r.payment_id, r.amount.as_ref(), &r.reason)
    }
}

/// An amount: present, a real currency, positive, at most
/// [`MAX_AMOUNT_UNITS`] whole units.
fn parse_amount(field: &str, value: Option<&WireMoney>, v: &mut Violations) -> Option<Money> {
    let amount = money::parse_positive(field, value, v)?;
    if amount.units() > MAX_AMOUNT_UNITS {
        v.add(format!("{field}.units"), format!("must be at most {MAX_AMOUNT_UNITS}"));
        return None;
    }
    Some(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorize(method: &str, units: i64) -> pb::AuthorizePaymentRequest {
        pb::AuthorizePaymentRequest {
            request_id: Uuid::new_v4().to_string(),
            order_id: Uuid::new_v4().to_string(),
            customer_id: "alice".into(),
            amount: Some(WireMoney {
                currency_code: "EUR".into(),
                units,
                nanos: 0,
            }),
            payment_method: method.into(),
        }
    }

    fn reason(error: ApiError) -> &'static str {
        match error {
            ApiError::InvalidArgument { reason, .. } => reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn card_numbers_are_refused_in_any_spelling() {
        for card in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
            "424242424242",
        ] {
            let error = Authorization::try_from(&authorize(card, 10)).unwrap_err();
            assert_eq!(reason(error), "CARD_NUMBER_REFUSED", "{card}");
        }
        // 11 and 20 digits are not card numbers; they are (odd) tokens.
        assert!(Authorization::try_from(&authorize("42424242424", 10)).is_ok());
        assert!(Authorization::try_from(&authorize("42424242424242424242", 10)).is_ok());
    }

    #[test]
    fn tokens_are_printable_ascii_of_at_most_255_characters() {
        assert!(Authorization::try_from(&authorize("pm_card_visa", 10)).is_ok());
        for bad in ["", "pm_card_\u{e9}", "pm\ncard", &"x".repeat(256)] {
            assert_eq!(
                reason(Authorization::try_from(&authorize(bad, 10)).unwrap_err()),
                "INVALID_FIELDS"
            );
        }
    }

    #[test]
    fn amounts_are_positive_and_below_a_billion_units() {
        assert!(Authorization::try_from(&authorize("pm_card_visa", MAX_AMOUNT_UNITS)).is_ok());
        assert!(Authorization::try_from(&authorize("pm_card_visa", MAX_AMOUNT_UNITS + 1)).is_err());
        assert!(Authorization::try_from(&authorize("pm_card_visa", 0)).is_err());
    }
}
