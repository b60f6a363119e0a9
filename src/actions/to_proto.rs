//! Database rows → API messages. The one place that knows both shapes.

use chrono::{DateTime, Utc};

use crate::{
    db::{
        audit::StateChangeRow,
        orders::{LineItemRow, OrderWithLines},
        products::ProductRow,
    },
    domain::{product_change::etag, state::OrderState},
    proto,
};

/// A UUID in its hyphenated form, formatted straight into a string of the
/// exact size (`to_string` goes through `fmt` and grows the string twice;
/// a history page formats some 80 of them).
pub(crate) fn id(uuid: uuid::Uuid) -> String {
    let mut buffer = uuid::Uuid::encode_buffer();
    uuid.hyphenated().encode_lower(&mut buffer).to_owned()
}

pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).expect("below 10^9"),
    }
}

fn money(currency_code: &str, units: i64, nanos: i32) -> Option<proto::Money> {
    Some(proto::Money {
        currency_code: currency_code.to_owned(),
        units,
        nanos,
    })
}

pub fn product(row: ProductRow) -> proto::Product {
    proto::Product {
        etag: etag(row.id, row.revision),
        archive_time: row.archive_time.map(timestamp),
        product_id: id(row.id),
        price: money(&row.currency_code, row.price_units, row.price_nanos),
        sku: row.sku,
        name: row.name,
        description: row.description,
        stock: row.stock,
        create_time: Some(timestamp(row.create_time)),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// An order with its lines.
pub fn order(OrderWithLines { order, lines }: OrderWithLines) -> proto::Order {
    let currency = order.currency_code.clone();
    proto::Order {
        order_id: id(order.id),
        state: proto::OrderState::from(order.state).into(),
        line_items: lines.into_iter().map(|line| line_item(&currency, line)).collect(),
        shipping_address: Some(proto::Address {
            recipient: order.ship_recipient,
            line1: order.ship_line1,
            line2: order.ship_line2,
            city: order.ship_city,
            region: order.ship_region,
            postal_code: order.ship_postal_code,
            country_code: order.ship_country_code,
        }),
        total: money(&currency, order.total_units, order.total_nanos),
        create_time: Some(timestamp(order.create_time)),
        update_time: Some(timestamp(order.update_time)),
        ship_time: order.ship_time.map(timestamp),
        cancel_time: order.cancel_time.map(timestamp),
        cancel_reason: order.cancel_reason.unwrap_or_default(),
        customer_email: order.customer_email.unwrap_or_default(),
        customer_id: order.customer_id,
    }
}

/// One recorded state change of an order (a creation has no `from_state`).
pub fn state_change(row: StateChangeRow) -> proto::OrderStateChange {
    let state = |stored: Option<OrderState>| stored.map_or(proto::OrderState::Unspecified, proto::OrderState::from);
    proto::OrderStateChange {
        from_state: state(row.from_state).into(),
        to_state: state(row.to_state).into(),
        change_time: Some(timestamp(row.event_time)),
        actor: Some(proto::Actor {
            subject: row.actor_subject,
            role: row.actor_role,
        }),
        reason: row.reason.unwrap_or_default(),
    }
}

fn line_item(currency: &str, line: LineItemRow) -> proto::LineItem {
    proto::LineItem {
        product_id: id(line.product_id),
        sku: line.sku,
        name: line.name,
        quantity: line.quantity,
        unit_price: money(currency, line.unit_price_units, line.unit_price_nanos),
        line_total: money(currency, line.line_total_units, line.line_total_nanos),
    }
}
