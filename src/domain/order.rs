//! Requests that change orders, parsed and validated: placing one and
//! cancelling one. Pricing is in [`super::pricing`], the lifecycle in
//! [`super::state`].

use std::collections::HashMap;

use uuid::Uuid;

use crate::{error::ApiError, proto};

use super::{
    address::{Address, parse_address},
    email::EmailAddress,
    fields,
    payment::{PaymentMethod, refuse_card_number},
    violations::Violations,
};

/// The most lines an order may have.
pub const MAX_LINES: usize = 100;
/// The most units of one product per order.
pub const MAX_QUANTITY: i32 = 1000;
/// The longest cancellation reason, in characters.
pub const MAX_REASON: usize = 500;

/// The `ResourceInfo.resource_type` of products and orders.
pub const PRODUCT_RESOURCE: &str = "orders.v1.Product";
pub const ORDER_RESOURCE: &str = "orders.v1.Order";

/// One requested line: which product and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestedLine {
    pub product_id: Uuid,
    pub quantity: i32,
}

/// A request to place an order, fully validated. Each product appears in
/// exactly one line: a repeated product is refused rather than merged, so the
/// stored lines are exactly the lines the caller sent.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer_id: String,
    pub lines: Vec<RequestedLine>,
    pub address: Address,
    pub request_id: Option<Uuid>,
    /// Where the order's emails go; none, no emails.
    pub customer_email: Option<EmailAddress>,
    /// How it is paid by card; none, on delivery.
    pub payment_method: Option<PaymentMethod>,
}

impl TryFrom<&proto::CreateOrderRequest> for NewOrder {
    type Error = ApiError;

    fn try_from(request: &proto::CreateOrderRequest) -> Result<Self, ApiError> {
        refuse_card_number(&request.payment_method)?;
        let mut v = Violations::default();
        let customer_id = v.check("customer_id", fields::customer_id(&request.customer_id));
        let lines = parse_lines(&request.line_items, &mut v);
        let address = parse_address("shipping_address", request.shipping_address.as_ref(), &mut v);
        let request_id = v.check("request_id", fields::request_id(&request.request_id));
        let customer_email = v.check("customer_email", EmailAddress::parse_optional(&request.customer_email));
        let payment_method = v.check("payment_method", PaymentMethod::parse_optional(&request.payment_method));
        let order = (|| {
            Some(NewOrder {
                customer_id: customer_id?,
                lines: lines?,
                address: address?,
                request_id: request_id?,
                customer_email: customer_email?,
                payment_method: payment_method?,
            })
        })();
        v.finish(order)
    }
}

fn parse_lines(items: &[proto::create_order_request::LineItem], v: &mut Violations) -> Option<Vec<RequestedLine>> {
    if items.is_empty() || items.len() > MAX_LINES {
        v.add(
            "line_items",
            format!("must have 1 to {MAX_LINES} lines (got {})", items.len()),
        );
        return None;
    }
    let mut first_line_of: HashMap<Uuid, usize> = HashMap::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let product_id = v.check(format!("line_items[{i}].product_id"), fields::uuid(&item.product_id));
        if let Some(id) = product_id
            && let Some(first) = first_line_of.insert(id, i)
        {
            v.add(
                format!("line_items[{i}].product_id"),
                format!("repeats the product of line_items[{first}]; order each product in one line"),
            );
        }
        let quantity = v.check(format!("line_items[{i}].quantity"), quantity(item.quantity));
        if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
            lines.push(RequestedLine { product_id, quantity });
        }
    }
    (lines.len() == items.len()).then_some(lines)
}

fn quantity(value: i32) -> Result<i32, String> {
    if (1..=MAX_QUANTITY).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between 1 and {MAX_QUANTITY} (got {value})"))
    }
}

/// A cancellation, as asked by a customer.
#[derive(Debug, Clone)]
pub struct Cancellation {
    pub order_id: Uuid,
    pub customer_id: String,
    pub reason: String,
}

impl TryFrom<&proto::CancelOrderRequest> for Cancellation {
    type Error = ApiError;

    fn try_from(request: &proto::CancelOrderRequest) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let order_id = v.check("order_id", fields::uuid(&request.order_id));
        let customer_id = v.check("customer_id", fields::customer_id(&request.customer_id));
        let reason = v.check("reason", fields::text(&request.reason, 0, MAX_REASON));
        let cancellation = (|| {
            Some(Cancellation {
                order_id: order_id?,
                customer_id: customer_id?,
                reason: reason?,
            })
        })();
        v.finish(cancellation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(items: Vec<(String, i32)>) -> proto::CreateOrderRequest {
        proto::CreateOrderRequest {
            customer_id: "cust-1".into(),
            line_items: items
                .into_iter()
                .map(|(product_id, quantity)| proto::create_order_request::LineItem { product_id, quantity })
                .collect(),
            shipping_address: Some(proto::Address {
                recipient: "Ada".into(),
                line1: "1 Main St".into(),
                city: "Berlin".into(),
                country_code: "DE".into(),
                ..Default::default()
            }),
            request_id: String::new(),
            customer_email: String::new(),
            payment_method: String::new(),
        }
    }

    fn fields(error: ApiError) -> Vec<String> {
        match error {
            ApiError::InvalidArgument { violations, .. } => violations.into_iter().map(|v| v.field).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_repeated_product_is_refused_at_its_second_line() {
        let id = Uuid::new_v4().to_string();
        let error = NewOrder::try_from(&request(vec![(id.clone(), 1), (id, 2)])).unwrap_err();
        assert_eq!(fields(error), ["line_items[1].product_id"]);
    }

    #[test]
    fn quantities_are_bounded_per_line() {
        let line = |q| (Uuid::new_v4().to_string(), q);
        let error = NewOrder::try_from(&request(vec![line(1), line(0), line(1001), line(i32::MAX)])).unwrap_err();
        assert_eq!(
            fields(error),
            [
                "line_items[1].quantity",
                "line_items[2].quantity",
                "line_items[3].quantity"
            ]
        );
    }

    #[test]
    fn line_count_is_bounded() {
        assert_eq!(
            fields(NewOrder::try_from(&request(vec![])).unwrap_err()),
            ["line_items"]
        );
        let many = (0..101).map(|_| (Uuid::new_v4().to_string(), 1)).collect();
        assert_eq!(fields(NewOrder::try_from(&request(many)).unwrap_err()), ["line_items"]);
        let most = (0..100).map(|_| (Uuid::new_v4().to_string(), 1)).collect();
        assert_eq!(NewOrder::try_from(&request(most)).unwrap().lines.len(), 100);
    }
}
