//! Reading the audit trail (ListAuditEvents), and recording each reading.
//!
//! Newest first means by id, the order rows were recorded in: ids only
//! grow, so keyset pages are stable while new events arrive. Each filter
//! has an index: (resource_id, id), (actor_subject, id), event_time (a
//! window's rows, then the newest of them; see the migration), and the
//! primary key for none. An event's `event_time` can be a few milliseconds
//! out of id order when transactions commit concurrently.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::{
    audit::{Action, Actor},
    schema::audit_events as events,
};
use crate::domain::{audit::AuditFilter, state::OrderState};

/// One row of the trail, as recorded.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct AuditRow {
    pub id: i64,
    pub event_time: DateTime<Utc>,
    pub actor_subject: String,
    pub actor_role: String,
    pub action: Action,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub from_state: Option<OrderState>,
    pub to_state: Option<OrderState>,
    pub reason: Option<String>,
    pub quantity: Option<i64>,
    pub value_before: Option<Value>,
    pub value_after: Option<Value>,
}

/// Up to `limit` events matching `filter`, newest first, older than the
/// event `before` (the last of the previous page).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = events::table.select(AuditRow::as_select()).into_boxed();
    if let Some(resource) = filter.resource {
        query = query
            .filter(events::resource_id.eq(resource.id))
            .filter(events::resource_type.eq(resource.resource_type));
    }
    if let Some(subject) = &filter.actor_subject {
        query = query.filter(events::actor_subject.eq(subject));
    }
    if !filter.kinds.is_empty() {
        query = query.filter(events::action.eq_any(&filter.kinds));
    }
    if let Some(start) = filter.start_time {
        query = query.filter(events::event_time.ge(start));
    }
    if let Some(end) = filter.end_time {
        query = query.filter(events::event_time.lt(end));
    }
    if let Some(before) = before {
        query = query.filter(events::id.lt(before));
    }
    query.order(events::id.desc()).limit(limit).load(conn).await
}

/// Records that `actor` read the trail with `filter` and was given
/// `returned` events.
pub async fn record_reading(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    filter: &Value,
    returned: usize,
) -> QueryResult<()> {
    let action = Action::AuditEventsListed;
    diesel::insert_into(events::table)
        .values((
            events::actor_subject.eq(&actor.subject),
            events::actor_role.eq(actor.role),
            events::request_id.eq(&actor.request_id),
            events::action.eq(action),
            events::resource_type.eq(action.resource_type()),
            events::value_after.eq(filter),
            events::quantity.eq(i64::try_from(returned).unwrap_or(i64::MAX)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
