//! The audit trail's vocabulary ([`Action`]: what a row records), and
//! ListAuditEvents' request, parsed: which events an auditor asks for, and
//! the page.
//!
//! The filters are also what the reading records about itself (the
//! `value_after` of its AUDIT_EVENTS_LISTED row, see [`AuditFilter::to_json`])
//! and what its page tokens are signed for, so a token cannot be taken to
//! another filter, and the trail says exactly what each auditor looked at.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    fields,
    order::{ORDER_RESOURCE, PRODUCT_RESOURCE},
    page::{self, AuditCursor, Listing, PageTokenKey},
    violations::Violations,
};
use crate::{error::ApiError, proto};

/// The `resource_type` of a reading of the trail.
pub const AUDIT_EVENT_RESOURCE: &str = "orders.v1.AuditEvent";

crate::pg_enum! {
    /// What changed, as stored in `audit_events.action`.
    pub enum Action {
        OrderCreated = "ORDER_CREATED",
        OrderCancelled = "ORDER_CANCELLED",
        OrderShipped = "ORDER_SHIPPED",
        /// The saga's step: the amount is held on the card (no event).
        OrderPaymentAuthorized = "ORDER_PAYMENT_AUTHORIZED",
        OrderPaid = "ORDER_PAID",
        /// The saga's step: a cancelled order's hold was let go (no event).
        OrderPaymentReleased = "ORDER_PAYMENT_RELEASED",
        OrderRefunded = "ORDER_REFUNDED",
        ProductCreated = "PRODUCT_CREATED",
        ProductRestocked = "PRODUCT_RESTOCKED",
        ProductUpdated = "PRODUCT_UPDATED",
        ProductArchived = "PRODUCT_ARCHIVED",
        ProductUnarchived = "PRODUCT_UNARCHIVED",
        /// Someone read the trail (ListAuditEvents); publishes no event.
        AuditEventsListed = "AUDIT_EVENTS_LISTED",
    }
}

impl Action {
    /// The subject (after the prefix) and the message name of the event
    /// the action publishes (`proto/orders/v1/events.proto`); readings of
    /// the trail publish none.
    pub fn event(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Action::OrderCreated => ("order.placed", "orders.v1.OrderPlaced"),
            Action::OrderCancelled => ("order.cancelled", "orders.v1.OrderCancelled"),
            Action::OrderShipped => ("order.shipped", "orders.v1.OrderShipped"),
            Action::OrderPaid => ("order.paid", "orders.v1.OrderPaid"),
            Action::OrderRefunded => ("order.refunded", "orders.v1.OrderRefunded"),
            Action::OrderPaymentAuthorized | Action::OrderPaymentReleased => return None,
            Action::ProductCreated => ("product.created", "orders.v1.ProductCreated"),
            Action::ProductRestocked => ("product.restocked", "orders.v1.ProductRestocked"),
            Action::ProductUpdated => ("product.updated", "orders.v1.ProductUpdated"),
            Action::ProductArchived => ("product.archived", "orders.v1.ProductArchived"),
            Action::ProductUnarchived => ("product.unarchived", "orders.v1.ProductUnarchived"),
            Action::AuditEventsListed => return None,
        })
    }

    /// The `ResourceInfo.resource_type` of what the action changes.
    pub fn resource_type(self) -> &'static str {
        match self {
            Action::OrderCreated
            | Action::OrderCancelled
            | Action::OrderShipped
            | Action::OrderPaymentAuthorized
            | Action::OrderPaid
            | Action::OrderPaymentReleased
            | Action::OrderRefunded => ORDER_RESOURCE,
            Action::ProductCreated
            | Action::ProductRestocked
            | Action::ProductUpdated
            | Action::ProductArchived
            | Action::ProductUnarchived => PRODUCT_RESOURCE,
            Action::AuditEventsListed => AUDIT_EVENT_RESOURCE,
        }
    }
}

/// The longest `actor_subject` accepted: longer than any token's `sub`.
pub const MAX_SUBJECT_CHARS: usize = 256;

/// The one order or product the events must be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    pub resource_type: &'static str,
    pub id: Uuid,
}

/// Which events: every filter that is `None` (or empty) matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub resource: Option<Resource>,
    pub actor_subject: Option<String>,
    /// Any of these; empty for every kind.
    pub kinds: Vec<Action>,
    /// At or after.
    pub start_time: Option<DateTime<Utc>>,
    /// Before.
    pub end_time: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// The filter as JSON, with the names of the request's fields: recorded
    /// with the reading, and signed into its page tokens (serde_json sorts
    /// keys, so equal filters give equal text).
    pub fn to_json(&self) -> Value {
        let mut filter = serde_json::Map::new();
        if let Some(resource) = self.resource {
            let field = match resource.resource_type {
                ORDER_RESOURCE => "order_id",
                _ => "product_id",
            };
            filter.insert(field.into(), json!(resource.id.to_string()));
        }
        if let Some(subject) = &self.actor_subject {
            filter.insert("actor_subject".into(), json!(subject));
        }
        if !self.kinds.is_empty() {
            let kinds: Vec<&str> = self.kinds.iter().map(|kind| kind_name(*kind)).collect();
            filter.insert("kinds".into(), json!(kinds));
        }
        for (field, time) in [("start_time", self.start_time), ("end_time", self.end_time)] {
            if let Some(time) = time {
                filter.insert(field.into(), json!(time.to_rfc3339()));
            }
        }
        Value::Object(filter)
    }
}

/// The API's name of a stored action (`AUDIT_EVENT_KIND_` and the stored
/// spelling): the one mapping between the two, both ways.
pub fn kind_name(action: Action) -> &'static str {
    kind(action).as_str_name()
}

/// The API's kind of a stored action.
pub fn kind(action: Action) -> proto::AuditEventKind {
    proto::AuditEventKind::from_str_name(&format!("AUDIT_EVENT_KIND_{}", action.as_db()))
        .expect("every action has a kind (tested)")
}

fn action_of(kind: i32) -> Result<Action, String> {
    Action::ALL
        .iter()
        .copied()
        .find(|action| self::kind(*action) as i32 == kind)
        .ok_or_else(|| format!("must be a kind of audit event, not {kind} (AUDIT_EVENT_KIND_UNSPECIFIED is 0)"))
}

/// One page of the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub filter: AuditFilter,
    pub page_size: i64,
    pub cursor: Option<AuditCursor>,
}

impl AuditPage {
    pub fn parse(request: &proto::ListAuditEventsRequest, key: &PageTokenKey) -> Result<Self, ApiError> {
        let mut v = Violations::default();
        let filter = parse_filter(request, &mut v);
        let page_size = v.check("page_size", page::page_size(request.page_size));
        // A token is good only for the filters it was issued for.
        let cursor = v.is_empty().then(|| {
            let filter = filter.to_json();
            v.check(
                "page_token",
                key.open(Listing::AuditEvents { filter: &filter }, &request.page_token),
            )
        });
        let (page_size, cursor) = v.finish(page_size.zip(cursor.flatten()))?;
        Ok(AuditPage {
            filter,
            page_size,
            cursor,
        })
    }
}

fn parse_filter(request: &proto::ListAuditEventsRequest, v: &mut Violations) -> AuditFilter {
    let id = |v: &mut Violations, field: &str, value: &str, resource_type| {
        (!value.is_empty())
            .then(|| v.check(field, fields::uuid(value)))
            .flatten()
            .map(|id| Resource { resource_type, id })
    };
    let order = id(v, "order_id", &request.order_id, ORDER_RESOURCE);
    let product = id(v, "product_id", &request.product_id, PRODUCT_RESOURCE);
    if order.is_some() && product.is_some() {
        v.add(
            "product_id",
            "an event is about one order or one product: give at most one of order_id and product_id",
        );
    }
    let actor_subject = (!request.actor_subject.is_empty())
        .then(|| v.check("actor_subject", subject(&request.actor_subject)))
        .flatten();
    let kinds = (request.kinds.iter().enumerate())
        .filter_map(|(i, kind)| v.check(format!("kinds[{i}]"), action_of(*kind)))
        .collect();
    let start_time = time(v, "start_time", request.start_time.as_ref());
    let end_time = time(v, "end_time", request.end_time.as_ref());
    if let (Some(start), Some(end)) = (start_time, end_time)
        && end <= start
    {
        v.add("end_time", "must be after start_time");
    }
    AuditFilter {
        resource: order.or(product),
        actor_subject,
        kinds,
        start_time,
        end_time,
    }
}

fn subject(value: &str) -> Result<String, String> {
    let length = value.chars().count();
    if length > MAX_SUBJECT_CHARS {
        return Err(format!("must be at most {MAX_SUBJECT_CHARS} characters (got {length})"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}

fn time(v: &mut Violations, field: &str, value: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let value = value?;
    let parsed = u32::try_from(value.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| "is not a valid timestamp".to_owned());
    v.check(field, parsed)
}

#[cfg(test)]
mod tests;
