//! The order lifecycle (AIP-216): PLACED, then SHIPPED or CANCELLED, both
//! final; an order paid by card goes through PAID (its payment captured)
//! before it may ship, and may be cancelled from PLACED or PAID. The state
//! is output only; asking for a change the state forbids is
//! FAILED_PRECONDITION, asking for the state the order is already in returns
//! it unchanged.

use crate::proto;

crate::pg_enum! {
    /// The lifecycle state of an order, as stored in `orders.state` and in
    /// the audit trail's `from_state`/`to_state`.
    pub enum OrderState {
        Placed = "PLACED",
        Paid = "PAID",
        Shipped = "SHIPPED",
        Cancelled = "CANCELLED",
    }
}

/// What a requested state change does to an order in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Change the state.
    Apply,
    /// The order is already in the target state: return it unchanged.
    AlreadyDone,
    /// The order is in a final state that forbids this change.
    Refused,
    /// Shipping an order paid by card whose payment has not come in yet.
    Unpaid,
}

impl OrderState {
    /// The state in words, for messages: "placed", "shipped", "cancelled".
    pub fn in_words(self) -> String {
        self.as_db().to_lowercase()
    }

    /// Cancelling: a placed or paid order; a cancelled one stays as it is.
    pub fn cancel(self) -> Transition {
        match self {
            OrderState::Placed | OrderState::Paid => Transition::Apply,
            OrderState::Cancelled => Transition::AlreadyDone,
            OrderState::Shipped => Transition::Refused,
        }
    }

    /// Shipping: a paid order, or a placed one paid on delivery (not
    /// `by_card`); a shipped one stays as it is.
    pub fn ship(self, by_card: bool) -> Transition {
        match self {
            OrderState::Paid => Transition::Apply,
            OrderState::Placed if by_card => Transition::Unpaid,
            OrderState::Placed => Transition::Apply,
            OrderState::Shipped => Transition::AlreadyDone,
            OrderState::Cancelled => Transition::Refused,
        }
    }

    /// Being paid (its card payment captured): a placed order. A cancelled
    /// one refuses, and its payment must be given back.
    pub fn pay(self) -> Transition {
        match self {
            OrderState::Placed => Transition::Apply,
            OrderState::Paid | OrderState::Shipped => Transition::AlreadyDone,
            OrderState::Cancelled => Transition::Refused,
        }
    }
}

impl From<OrderState> for proto::OrderState {
    fn from(state: OrderState) -> Self {
        match state {
            OrderState::Placed => proto::OrderState::Placed,
            OrderState::Paid => proto::OrderState::Paid,
            OrderState::Shipped => proto::OrderState::Shipped,
            OrderState::Cancelled => proto::OrderState::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{OrderState::*, Transition::*, *};
    use crate::pg_enum::read_stored;

    #[test]
    fn the_lifecycle_is_placed_then_shipped_or_cancelled() {
        assert_eq!(
            [Placed.cancel(), Paid.cancel(), Cancelled.cancel(), Shipped.cancel()],
            [Apply, Apply, AlreadyDone, Refused]
        );
        assert_eq!(
            [Placed.ship(false), Shipped.ship(false), Cancelled.ship(false)],
            [Apply, AlreadyDone, Refused]
        );
    }

    #[test]
    fn an_order_paid_by_card_ships_only_once_paid() {
        assert_eq!(
            [
                Placed.ship(true),
                Paid.ship(true),
                Shipped.ship(true),
                Cancelled.ship(true)
            ],
            [Unpaid, Apply, AlreadyDone, Refused]
        );
        assert_eq!(
            [Placed.pay(), Paid.pay(), Shipped.pay(), Cancelled.pay()],
            [Apply, AlreadyDone, AlreadyDone, Refused]
        );
    }

    #[test]
    fn the_stored_spelling_round_trips() {
        for state in [Placed, Paid, Shipped, Cancelled] {
            assert_eq!(read_stored::<OrderState>(state.as_db().as_bytes()).unwrap(), state);
        }
        assert!(read_stored::<OrderState>(b"LOST").is_err());
    }
}
