//! Orders: the request to place one, pricing it against the catalog, and the
//! lifecycle state machine (AIP-216).

use std::collections::HashMap;

use uuid::Uuid;

use crate::{
    error::{ApiError, PreconditionViolation},
    proto,
};

use super::{
    address::{Address, parse_address},
    fields,
    money::Money,
    violations::{FieldViolation, Violations},
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
}

impl TryFrom<&proto::CreateOrderRequest> for NewOrder {
    type Error = ApiError;

    fn try_from(request: &proto::CreateOrderRequest) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let customer_id = v.check("customer_id", fields::customer_id(&request.customer_id));
        let lines = parse_lines(&request.line_items, &mut v);
        let address = parse_address("shipping_address", request.shipping_address.as_ref(), &mut v);
        let request_id = v.check("request_id", fields::request_id(&request.request_id));
        let order = (|| {
            Some(NewOrder {
                customer_id: customer_id?,
                lines: lines?,
                address: address?,
                request_id: request_id?,
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

/// What the catalog says about a product, read under a row lock.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub price: Money,
    pub stock: i64,
}

/// A line with the price copied from the catalog.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub unit_price: Money,
    pub line_total: Money,
}

/// An order ready to be stored: every line priced, the total computed.
#[derive(Debug, Clone)]
pub struct PricedOrder {
    pub lines: Vec<PricedLine>,
    pub total: Money,
}

/// Prices `lines` from `catalog`, refusing (in this order) unknown
/// products, mixed currencies and short stock. Short stock names every short
/// product, so a caller can fix the whole order at once.
pub fn price_order(lines: &[RequestedLine], catalog: &HashMap<Uuid, CatalogEntry>) -> Result<PricedOrder, ApiError> {
    let entries = lines
        .iter()
        .map(|line| {
            catalog.get(&line.product_id).ok_or_else(|| ApiError::NotFound {
                reason: "PRODUCT_NOT_FOUND",
                resource_type: PRODUCT_RESOURCE,
                name: line.product_id.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_one_currency(&entries)?;
    check_stock(lines, &entries)?;
    let mut total = entries[0].price.zero();
    let mut priced = Vec::with_capacity(lines.len());
    for (line, entry) in lines.iter().zip(entries) {
        let line_total = entry
            .price
            .checked_mul(i64::from(line.quantity))
            .ok_or_else(total_too_large)?;
        total = total.checked_add(&line_total).ok_or_else(total_too_large)?;
        priced.push(PricedLine {
            product_id: entry.product_id,
            sku: entry.sku.clone(),
            name: entry.name.clone(),
            quantity: line.quantity,
            unit_price: entry.price.clone(),
            line_total,
        });
    }
    Ok(PricedOrder { lines: priced, total })
}

fn check_one_currency(entries: &[&CatalogEntry]) -> Result<(), ApiError> {
    let currency = entries[0].price.currency_code();
    let violations: Vec<_> = (entries.iter().enumerate())
        .filter(|(_, e)| e.price.currency_code() != currency)
        .map(|(i, e)| {
            FieldViolation::new(
                format!("line_items[{i}].product_id"),
                format!(
                    "is priced in {}, but line_items[0] is priced in {currency}; an order has one currency",
                    e.price.currency_code()
                ),
            )
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    let message = format!("all products of an order must be priced in one currency ({currency})");
    Err(ApiError::InvalidArgument {
        reason: "CURRENCY_MISMATCH",
        message,
        violations,
    })
}

fn check_stock(lines: &[RequestedLine], entries: &[&CatalogEntry]) -> Result<(), ApiError> {
    let violations: Vec<_> = (lines.iter().zip(entries).enumerate())
        .filter(|(_, (line, entry))| entry.stock < i64::from(line.quantity))
        .map(|(i, (line, entry))| PreconditionViolation {
            kind: "STOCK",
            subject: format!("products/{}", entry.product_id),
            description: format!(
                "line_items[{i}] asks for {} of {} ({}), but only {} in stock",
                line.quantity, entry.sku, entry.name, entry.stock
            ),
        })
        .collect();
    if violations.is_empty() {
        return Ok(());
    }
    Err(ApiError::FailedPrecondition {
        reason: "INSUFFICIENT_STOCK",
        message: format!(
            "not enough stock for {} of the ordered products; nothing was ordered",
            violations.len()
        ),
        violations,
    })
}

fn total_too_large() -> ApiError {
    ApiError::OutOfRange {
        reason: "TOTAL_TOO_LARGE",
        message: "the order total is too large to represent".to_owned(),
        field: "line_items",
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
