//! Why an order was cancelled, and what happens to its money, as the
//! cancellation email words it: the customer's own reason as they gave it;
//! for a card that was declined or a payment that did not come in time
//! (`PAYMENT_DECLINED`, `PAYMENT_TIMEOUT`), what went wrong and that nothing
//! was charged; for an order that had been paid, that the payment will be
//! refunded in full.

use serde::Serialize;

use crate::proto::{self, OrderState, PaymentStatus};

/// The `cancel_reason` of an order cancelled because its card was declined.
pub const PAYMENT_DECLINED: &str = "PAYMENT_DECLINED";
/// The `cancel_reason` of an order whose payment did not come in time.
pub const PAYMENT_TIMEOUT: &str = "PAYMENT_TIMEOUT";

/// What the cancellation template says about the why and the money.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Why<'a> {
    /// The customer's own reason, shown as given; empty for the server's.
    pub reason: &'a str,
    /// The card was declined.
    pub declined: bool,
    /// Why, in words (empty when the payment service gave no code).
    pub decline: String,
    /// The payment did not come in time.
    pub timed_out: bool,
    /// How long we waited for it, in words.
    pub waited: String,
    /// The order had been paid: its payment will be refunded in full.
    pub refund: bool,
}

/// Why `order` was cancelled; `from_state` is the state it was cancelled
/// from (the event's `state_change`).
pub fn why(order: &proto::Order, from_state: OrderState) -> Why<'_> {
    let refund = was_paid(order, from_state);
    match order.cancel_reason.as_str() {
        PAYMENT_DECLINED => Why {
            declined: true,
            decline: decline_in_words(order.payment.as_ref().map_or("", |p| &p.decline_code)),
            refund,
            ..Why::default()
        },
        PAYMENT_TIMEOUT => Why {
            timed_out: true,
            waited: waited(order),
            refund,
            ..Why::default()
        },
        reason => Why {
            reason,
            refund,
            ..Why::default()
        },
    }
}

/// Whether the order's money had been taken: it was PAID when cancelled,
/// or its payment is captured (or already refunded).
pub fn was_paid(order: &proto::Order, from_state: OrderState) -> bool {
    let status = order.payment.as_ref().map(|p| p.status());
    from_state == OrderState::Paid || matches!(status, Some(PaymentStatus::Captured | PaymentStatus::Refunded))
}

/// A payment service's decline code as the customer reads it; a code we
/// have no words for, with its underscores as spaces.
pub fn decline_in_words(code: &str) -> String {
    match code {
        "card_declined" => "the card was declined".to_owned(),
        "insufficient_funds" => "insufficient funds".to_owned(),
        other => other.replace('_', " "),
    }
}

/// How long the order waited for its payment: from its creation to its
/// cancellation, in whole minutes (seconds below two minutes); "the time
/// allowed" when the order lacks either time.
fn waited(order: &proto::Order) -> String {
    let (Some(created), Some(cancelled)) = (&order.create_time, &order.cancel_time) else {
        return "the time allowed".to_owned();
    };
    let seconds = (cancelled.seconds - created.seconds).max(0);
    match seconds {
        0..120 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(reason: &str, payment: Option<(PaymentStatus, &str)>) -> proto::Order {
        let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        proto::Order {
            cancel_reason: reason.to_owned(),
            create_time: at(1_000),
            cancel_time: at(1_000 + 15 * 60 + 42),
            payment: payment.map(|(status, code)| proto::OrderPayment {
                status: status as i32,
                decline_code: code.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_declined_card_or_a_payment_that_never_came_is_said_in_words_and_refunds_nothing() {
        let declined = Why {
            declined: true,
            decline: "insufficient funds".to_owned(),
            ..Why::default()
        };
        let timed_out = Why {
            timed_out: true,
            waited: "15 minutes".to_owned(),
            ..Why::default()
        };
        let cases = [
            (
                PAYMENT_DECLINED,
                PaymentStatus::Declined,
                "insufficient_funds",
                declined,
            ),
            (PAYMENT_TIMEOUT, PaymentStatus::Released, "", timed_out),
        ];
        for (reason, status, code, expected) in cases {
            let order = cancelled(reason, Some((status, code)));
            assert_eq!(why(&order, OrderState::Placed), expected, "no reason shown, no refund");
        }
        assert_eq!(decline_in_words("card_declined"), "the card was declined");
        assert_eq!(decline_in_words("expired_card"), "expired card");
    }

    #[test]
    fn how_long_we_waited_is_in_minutes_or_below_two_in_seconds() {
        let order = cancelled(PAYMENT_TIMEOUT, None);
        assert_eq!(super::waited(&order), "15 minutes");
        let quick = proto::Order {
            cancel_time: Some(prost_types::Timestamp {
                seconds: 1_090,
                nanos: 0,
            }),
            ..order.clone()
        };
        assert_eq!(super::waited(&quick), "90 seconds");
        let timeless = proto::Order {
            cancel_time: None,
            ..order
        };
        assert_eq!(super::waited(&timeless), "the time allowed");
    }

    #[test]
    fn a_paid_order_is_refunded_whatever_the_customer_said() {
        let order = cancelled("ordered twice", None);
        let paid_before = why(&order, OrderState::Paid);
        let expected = Why {
            reason: "ordered twice",
            refund: true,
            ..Why::default()
        };
        assert_eq!(paid_before, expected);
        let captured = cancelled("too late", Some((PaymentStatus::Captured, "")));
        assert!(why(&captured, OrderState::Placed).refund);
        let refunded = cancelled("too late", Some((PaymentStatus::Refunded, "")));
        assert!(why(&refunded, OrderState::Unspecified).refund);
        let released = cancelled("too late", Some((PaymentStatus::Released, "")));
        assert!(!why(&released, OrderState::Placed).refund);
        assert!(!why(&cancelled("", None), OrderState::Placed).refund);
    }
}
