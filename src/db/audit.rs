//! The audit trail (`audit_events`): who changed what, when, under which
//! request. Every change writes its row inside its own transaction, so a
//! rolled-back change leaves none; the table refuses UPDATE, DELETE and
//! TRUNCATE (see the migration).
//!
//! Each row is also the change's event (the transactional outbox): its id
//! and encoded protobuf message ([`Outgoing`]) are part of the row, and the
//! relay publishes it ([`super::outbox`]).
//!
//! CreateOrder writes its row in the same statement as the order
//! ([`super::place`]); everything else calls [`record`]. Both store the
//! current span's trace context with the row (NULL without traces), which
//! the relay's publish continues ([`crate::traces`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::audit_events as events;
use crate::domain::{order::ORDER_RESOURCE, product_change::ChangedValues, state::OrderState};

/// Who made a change, and under which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's subject ("anonymous" without authentication).
    pub subject: String,
    /// The role that allowed the change ("none" without authentication).
    pub role: &'static str,
    /// The request's `request_id`, else the call's `x-request-id`.
    pub request_id: String,
}

pub use crate::domain::audit::Action;

/// One change to record.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub action: Action,
    pub resource_id: Uuid,
    pub from_state: Option<OrderState>,
    pub to_state: Option<OrderState>,
    pub reason: Option<&'a str>,
    pub quantity: Option<i64>,
    /// What a product change changed: the fields, before and after.
    pub values: Option<&'a ChangedValues>,
}

impl<'a> Event<'a> {
    /// `action` on resource `id`, with nothing else said yet.
    fn about(action: Action, id: Uuid) -> Self {
        Event {
            action,
            resource_id: id,
            from_state: None,
            to_state: None,
            reason: None,
            quantity: None,
            values: None,
        }
    }

    /// An order moving from `from` to `to` (a cancellation gives its reason).
    pub fn order(action: Action, id: Uuid, from: OrderState, to: OrderState, reason: Option<&'a str>) -> Self {
        Event {
            from_state: Some(from),
            to_state: Some(to),
            reason,
            ..Event::about(action, id)
        }
    }

    /// A product created with, or restocked by, `quantity` units.
    pub fn product(action: Action, id: Uuid, quantity: i64) -> Self {
        Event {
            quantity: Some(quantity),
            ..Event::about(action, id)
        }
    }

    /// A product's details changed (`values`), or it was archived or
    /// brought back (`values` then says `archived` before and after).
    pub fn product_change(action: Action, id: Uuid, values: &'a ChangedValues) -> Self {
        Event {
            values: Some(values),
            ..Event::about(action, id)
        }
    }
}

/// The event a change publishes: its id (a UUIDv7, the `Nats-Msg-Id`) and
/// its encoded `orders.v1` event message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub event_id: Uuid,
    pub payload: Vec<u8>,
}

/// Records `event` by `actor` in the current transaction, at its time, with
/// the event it publishes.
pub async fn record(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    event: &Event<'_>,
    outgoing: &Outgoing,
) -> QueryResult<()> {
    insert(conn, actor, event, Some(outgoing)).await
}

/// Records `event` by `actor` in the current transaction, publishing
/// nothing: a step of an order that no consumer needs to hear about (the
/// payment saga's authorization and release).
pub async fn record_unpublished(conn: &mut AsyncPgConnection, actor: &Actor, event: &Event<'_>) -> QueryResult<()> {
    insert(conn, actor, event, None).await
}

async fn insert(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    event: &Event<'_>,
    outgoing: Option<&Outgoing>,
) -> QueryResult<()> {
    let trace = crate::traces::propagation::stored();
    let (trace_parent, trace_state) = trace.map_or((None, None), |t| (Some(t.parent), t.state));
    diesel::insert_into(events::table)
        .values((
            events::event_id.eq(outgoing.map(|o| o.event_id)),
            events::event_payload.eq(outgoing.map(|o| &o.payload)),
            events::actor_subject.eq(&actor.subject),
            events::actor_role.eq(actor.role),
            events::request_id.eq(&actor.request_id),
            events::action.eq(event.action),
            events::resource_type.eq(event.action.resource_type()),
            events::resource_id.eq(event.resource_id),
            events::from_state.eq(event.from_state),
            events::to_state.eq(event.to_state),
            events::reason.eq(event.reason),
            events::quantity.eq(event.quantity),
            events::value_before.eq(event.values.map(|v| &v.before)),
            events::value_after.eq(event.values.map(|v| &v.after)),
            events::trace_parent.eq(trace_parent),
            events::trace_state.eq(trace_state),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// One state change of an order, as recorded.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct StateChangeRow {
    pub event_time: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_role: String,
    pub from_state: Option<OrderState>,
    pub to_state: Option<OrderState>,
    pub reason: Option<String>,
}

/// The state changes of order `id`, oldest first.
/// Takes a shared connection so that it can be pipelined with other reads.
pub async fn order_history(mut conn: &AsyncPgConnection, id: Uuid) -> QueryResult<Vec<StateChangeRow>> {
    events::table
        .filter(events::resource_id.eq(id))
        .filter(events::resource_type.eq(ORDER_RESOURCE))
        .order(events::id)
        .select(StateChangeRow::as_select())
        .load(&mut conn)
        .await
}
