//! Database rows → API messages. The one place that knows both shapes.

use chrono::{DateTime, Utc};

use crate::{
    db::{
        audit::StateChangeRow,
        audit_reads::AuditRow,
        order_payments::OrderPaymentRow,
        orders::{LineItemRow, OrderWithLines},
        products::ProductRow,
    },
    domain::{audit, product_change::etag, state::OrderState},
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
pub fn order(OrderWithLines { order, lines, payment }: OrderWithLines) -> proto::Order {
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
        payment: payment.map(order_payment),
        customer_id: order.customer_id,
    }
}

/// What the orders service knows of an order's card payment.
fn order_payment(row: OrderPaymentRow) -> proto::OrderPayment {
    proto::OrderPayment {
        payment_method: row.payment_method,
        status: proto::PaymentStatus::from(row.status).into(),
        payment_id: row.payment_id.map(id).unwrap_or_default(),
        decline_code: row.decline_code.unwrap_or_default(),
        update_time: Some(timestamp(row.update_time)),
    }
}

/// One recorded state change of an order (a creation has no `from_state`).
fn state(stored: Option<OrderState>) -> proto::OrderState {
    stored.map_or(proto::OrderState::Unspecified, proto::OrderState::from)
}

pub fn state_change(row: StateChangeRow) -> proto::OrderStateChange {
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

pub fn audit_event(row: AuditRow) -> proto::AuditEvent {
    proto::AuditEvent {
        audit_event_id: row.id.to_string(),
        event_time: Some(timestamp(row.event_time)),
        actor: Some(proto::AuditActor {
            subject: row.actor_subject,
            role: row.actor_role,
        }),
        kind: audit::kind(row.action).into(),
        resource_type: row.resource_type,
        resource_id: row.resource_id.map(id).unwrap_or_default(),
        request_id: row.request_id.unwrap_or_default(),
        from_state: state(row.from_state).into(),
        to_state: state(row.to_state).into(),
        reason: row.reason.unwrap_or_default(),
        quantity: row.quantity.unwrap_or_default(),
        value_before: row.value_before.and_then(json_struct),
        value_after: row.value_after.and_then(json_struct),
    }
}

/// A JSON object as a `google.protobuf.Struct` (anything else is not one).
fn json_struct(value: serde_json::Value) -> Option<prost_types::Struct> {
    match json_value(value).kind {
        Some(prost_types::value::Kind::StructValue(object)) => Some(object),
        _ => None,
    }
}

fn json_value(value: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    use serde_json::Value as Json;
    let kind = match value {
        Json::Null => Kind::NullValue(prost_types::NullValue::NullValue.into()),
        Json::Bool(b) => Kind::BoolValue(b),
        // Struct numbers are doubles; an integer a double cannot hold
        // exactly (past 2^53) is given as its decimal string instead.
        Json::Number(n) => match n.as_i64() {
            Some(i) if i.unsigned_abs() > 1 << 53 => Kind::StringValue(i.to_string()),
            _ => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Kind::StringValue(s),
        Json::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(json_value).collect(),
        }),
        Json::Object(fields) => Kind::StructValue(prost_types::Struct {
            fields: fields.into_iter().map(|(k, v)| (k, json_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}
