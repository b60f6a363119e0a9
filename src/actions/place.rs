//! Placing an order (CreateOrder) in one statement.
//!
//! The order is priced from the cached catalog ([`super::catalog_cache`]),
//! rendered (rows, then the response, stored under the idempotency key),
//! and handed to `place_order` in the database, which takes the stock and
//! stores everything, or changes nothing and says why. Only a stale cache
//! entry costs a second attempt.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use prost::Message;
use uuid::Uuid;

use super::{Call, saga, to_event, to_proto};
use crate::{
    db::{
        idempotency::{self, IdempotencyKey, StoredKey},
        order_payments::OrderPaymentRow,
        orders::{OrderRow, OrderWithLines, line_row},
        place::{Outcome, PlaceOrder, Placement},
    },
    domain::{
        order::{NewOrder, PRODUCT_RESOURCE},
        payment::PaymentStatus,
        pricing::{PricedOrder, check_stock, price_order},
        state::OrderState,
    },
    error::ApiError,
    monitoring::{self, catalogue::STOCKOUTS},
    proto,
};

/// Attempts to price an order before giving up on a catalog that keeps
/// changing under us (a transaction conflict is retried elsewhere:
/// [`super::detached()`]).
const PRICING_ATTEMPTS: usize = 3;

/// Places an order: all stock or none, prices from the catalog.
pub async fn place_order(
    call: &Call,
    order: &NewOrder,
    key: Option<&IdempotencyKey>,
) -> Result<proto::CreateOrderResponse, ApiError> {
    let ids: Vec<Uuid> = order.lines.iter().map(|line| line.product_id).collect();
    let actor = call.actor(order.request_id);
    for _ in 0..PRICING_ATTEMPTS {
        let catalog = call.state.products.entries(call, &ids).await?;
        let priced = price_order(&order.lines, &catalog)?;
        let rows = rows(order, &priced, Utc::now());
        let placed = to_proto::order(rows.clone());
        let outgoing = to_event::order_placed(&placed, &actor);
        let response = proto::CreateOrderResponse { order: Some(placed) };
        let encoded = response.encode_to_vec();
        let jobs = saga::jobs_of_a_new_order(&rows, call.state.payment_timeout);
        let statement = PlaceOrder::new(&rows, key, &encoded, &actor, &outgoing, jobs);
        let placement = call.run(async |conn| Ok(statement.run(conn).await?)).await?;
        match placement.outcome {
            Outcome::Placed => {
                call.state.outbox.ring();
                monitoring::count_order_state("placed");
                return Ok(response);
            }
            Outcome::Replay => {
                let replayed = replay(key, placement);
                if replayed.is_ok() {
                    monitoring::count_replay(key.map(|key| key.scope.as_str()));
                }
                return replayed;
            }
            Outcome::Short => {
                metrics::counter!(STOCKOUTS).increment(1);
                return Err(shortage(&priced, &placement));
            }
            Outcome::Missing => return Err(missing(&ids, &placement)),
            Outcome::Stale => call.state.products.forget(&ids),
        }
    }
    Err(ApiError::internal(
        "product prices changed during every attempt to place an order",
    ))
}

/// The order and its lines as they will be stored.
fn rows(order: &NewOrder, priced: &PricedOrder, now: DateTime<Utc>) -> OrderWithLines {
    let id = Uuid::now_v7();
    // PostgreSQL keeps microseconds: the response must show what is stored.
    let now = now.trunc_subsecs(6);
    let a = &order.address;
    let row = OrderRow {
        id,
        customer_id: order.customer_id.clone(),
        state: OrderState::Placed,
        currency_code: priced.total.currency_code().to_owned(),
        total_units: priced.total.units(),
        total_nanos: priced.total.nanos(),
        ship_recipient: a.recipient.clone(),
        ship_line1: a.line1.clone(),
        ship_line2: a.line2.clone(),
        ship_city: a.city.clone(),
        ship_region: a.region.clone(),
        ship_postal_code: a.postal_code.clone(),
        ship_country_code: a.country_code.clone(),
        cancel_reason: None,
        create_time: now,
        update_time: now,
        ship_time: None,
        cancel_time: None,
        customer_email: order.customer_email.as_ref().map(ToString::to_string),
    };
    let lines = (priced.lines.iter().enumerate())
        .map(|(position, line)| line_row(id, position as i16, line))
        .collect();
    let payment = order.payment_method.as_ref().map(|method| OrderPaymentRow {
        order_id: id,
        payment_method: method.as_str().to_owned(),
        status: PaymentStatus::Pending,
        payment_id: None,
        decline_code: None,
        update_time: now,
    });
    OrderWithLines {
        order: row,
        lines,
        payment,
    }
}

/// The first response to this `request_id`, or REQUEST_ID_REUSED.
fn replay(key: Option<&IdempotencyKey>, placement: Placement) -> Result<proto::CreateOrderResponse, ApiError> {
    let key = key.ok_or_else(|| ApiError::internal("place_order replayed a request without a key"))?;
    let stored = StoredKey {
        request_hash: placement.prior_hash.unwrap_or_default(),
        response: placement.prior_response,
    };
    idempotency::replay(key, stored)
}

/// INSUFFICIENT_STOCK naming every short product, from the stock the
/// statement found under its locks.
fn shortage(priced: &PricedOrder, placement: &Placement) -> ApiError {
    match check_stock(priced, &found_stock(placement)) {
        Err(error) => error,
        Ok(()) => ApiError::internal("place_order found a shortage the stock does not show"),
    }
}

/// PRODUCT_NOT_FOUND for the first product the statement did not find.
fn missing(ids: &[Uuid], placement: &Placement) -> ApiError {
    let found = found_stock(placement);
    match ids.iter().find(|id| !found.contains_key(id)) {
        Some(id) => ApiError::NotFound {
            reason: "PRODUCT_NOT_FOUND",
            resource_type: PRODUCT_RESOURCE,
            name: id.to_string(),
        },
        None => ApiError::internal("place_order reported a missing product it found"),
    }
}

fn found_stock(placement: &Placement) -> HashMap<Uuid, i64> {
    let ids = placement.found_ids.iter().flatten();
    ids.copied()
        .zip(placement.found_stock.iter().flatten().copied())
        .collect()
}
