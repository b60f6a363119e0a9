//! Read requests, parsed and validated: one id, or one page of a listing.
//!
//! Page tokens are checked against the listing they are used for
//! ([`PageTokenKey::open`]), so parsing a listing request needs the key.

use uuid::Uuid;

use super::state::OrderState;
use super::{
    fields,
    page::{self, Listing, OrderCursor, PageTokenKey, ProductCursor},
    violations::Violations,
};
use crate::{error::ApiError, proto};

/// Parses a single-UUID request field such as `order_id`.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, ApiError> {
    let mut v = Violations::default();
    let id = v.check(field, fields::uuid(value));
    v.finish(id)
}

/// One page of the catalog: its size and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    pub page_size: i64,
    pub cursor: Option<ProductCursor>,
    /// Archived products are listed too.
    pub show_archived: bool,
}

impl ProductPage {
    pub fn parse(request: &proto::ListProductsRequest, key: &PageTokenKey) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let page_size = v.check("page_size", page::page_size(request.page_size));
        let show_archived = request.show_archived;
        let listing = Listing::Products { show_archived };
        let cursor = v.check("page_token", key.open(listing, &request.page_token));
        let (page_size, cursor) = v.finish(page_size.zip(cursor))?;
        Ok(ProductPage {
            page_size,
            cursor,
            show_archived,
        })
    }
}

/// One page of ListOrders: the orders in one state, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePage {
    pub state: OrderState,
    pub page_size: i64,
    pub cursor: Option<OrderCursor>,
}

impl StatePage {
    pub fn parse(request: &proto::ListOrdersRequest, key: &PageTokenKey) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let state = v.check("state", order_state(request.state));
        let page_size = v.check("page_size", page::page_size(request.page_size));
        // A token is good only for the state it was issued for.
        let cursor = state.and_then(|state| {
            let listing = Listing::OrdersInState { state: state.as_db() };
            v.check("page_token", key.open(listing, &request.page_token))
        });
        let (state, (page_size, cursor)) = v.finish(state.zip(page_size.zip(cursor)))?;
        Ok(StatePage {
            state,
            page_size,
            cursor,
        })
    }
}

/// A state to list by: any state orders can be in (not UNSPECIFIED).
fn order_state(value: i32) -> Result<OrderState, String> {
    OrderState::ALL
        .iter()
        .copied()
        .find(|state| proto::OrderState::from(*state) as i32 == value)
        .ok_or_else(|| format!("must be the state of the orders to list, such as ORDER_STATE_PAID (got {value})"))
}

/// One page of a customer's order history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub customer_id: String,
    pub page_size: i64,
    pub cursor: Option<OrderCursor>,
}

impl HistoryPage {
    pub fn parse(request: &proto::GetOrderHistoryRequest, key: &PageTokenKey) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let customer_id = v.check("customer_id", fields::customer_id(&request.customer_id));
        let page_size = v.check("page_size", page::page_size(request.page_size));
        // The token is checked against the customer it is used for, so only a
        // valid customer id can be paired with it.
        let cursor = customer_id.as_deref().and_then(|customer_id| {
            let listing = Listing::OrderHistory { customer_id };
            v.check("page_token", key.open(listing, &request.page_token))
        });
        let (customer_id, (page_size, cursor)) = v.finish(customer_id.zip(page_size.zip(cursor)))?;
        Ok(HistoryPage {
            customer_id,
            page_size,
            cursor,
        })
    }
}
