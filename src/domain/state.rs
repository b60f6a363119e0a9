//! The order lifecycle (AIP-216): PLACED, then SHIPPED or CANCELLED, both
//! final. The state is output only; asking for a change the state forbids is
//! FAILED_PRECONDITION, asking for the state the order is already in returns
//! it unchanged.

use crate::proto;

/// The lifecycle state of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    Placed,
    Shipped,
    Cancelled,
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
}

impl OrderState {
    /// The spelling stored in the `orders.state` column.
    pub fn as_db(self) -> &'static str {
        match self {
            OrderState::Placed => "PLACED",
            OrderState::Shipped => "SHIPPED",
            OrderState::Cancelled => "CANCELLED",
        }
    }

    /// Reads the `orders.state` column.
    pub fn from_db(value: &str) -> Option<Self> {
        [OrderState::Placed, OrderState::Shipped, OrderState::Cancelled]
            .into_iter()
            .find(|state| state.as_db() == value)
    }

    /// Cancelling: only a placed order; a cancelled one stays as it is.
    pub fn cancel(self) -> Transition {
        match self {
            OrderState::Placed => Transition::Apply,
            OrderState::Cancelled => Transition::AlreadyDone,
            OrderState::Shipped => Transition::Refused,
        }
    }

    /// Shipping: only a placed order; a shipped one stays as it is.
    pub fn ship(self) -> Transition {
        match self {
            OrderState::Placed => Transition::Apply,
            OrderState::Shipped => Transition::AlreadyDone,
            OrderState::Cancelled => Transition::Refused,
        }
    }
}

impl From<OrderState> for proto::OrderState {
    fn from(state: OrderState) -> Self {
        match state {
            OrderState::Placed => proto::OrderState::Placed,
            OrderState::Shipped => proto::OrderState::Shipped,
            OrderState::Cancelled => proto::OrderState::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{OrderState::*, Transition::*, *};

    #[test]
    fn the_lifecycle_is_placed_then_shipped_or_cancelled() {
        assert_eq!(
            [Placed.cancel(), Cancelled.cancel(), Shipped.cancel()],
            [Apply, AlreadyDone, Refused]
        );
        assert_eq!(
            [Placed.ship(), Shipped.ship(), Cancelled.ship()],
            [Apply, AlreadyDone, Refused]
        );
    }

    #[test]
    fn the_stored_spelling_round_trips() {
        for state in [Placed, Shipped, Cancelled] {
            assert_eq!(OrderState::from_db(state.as_db()), Some(state));
        }
        assert_eq!(OrderState::from_db("LOST"), None);
    }
}
