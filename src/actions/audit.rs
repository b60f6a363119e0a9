//! ListAuditEvents: one page of the audit trail, newest first, and the
//! record that the caller read it, in one transaction: a reading that
//! cannot be recorded returns nothing.

use diesel_async::AsyncConnection;
use serde_json::{Value, json};

use super::{Call, to_proto};
use crate::{
    db::audit_reads,
    domain::{
        audit::AuditPage,
        page::{AuditCursor, Listing, finish_page},
    },
    error::ApiError,
    proto,
};

/// One page of events, with the token of the next.
pub async fn list_audit_events(call: &Call, page: &AuditPage) -> Result<proto::ListAuditEventsResponse, ApiError> {
    let actor = call.actor(None);
    let filter = page.filter.to_json();
    let reading = reading(&filter, page.cursor);
    let rows = call
        .run(async |conn| {
            conn.transaction(async |conn| {
                let before = page.cursor.map(|cursor| cursor.id);
                let rows = audit_reads::list(conn, &page.filter, before, page.page_size + 1).await?;
                let returned = rows.len().min(page.page_size as usize);
                audit_reads::record_reading(conn, &actor, &reading, returned).await?;
                Ok::<_, ApiError>(rows)
            })
            .await
        })
        .await?;
    let (rows, next_page_token) = finish_page(rows, page.page_size, |last| {
        let listing = Listing::AuditEvents { filter: &filter };
        call.state.page_key.seal(listing, &AuditCursor { id: last.id })
    });
    Ok(proto::ListAuditEventsResponse {
        audit_events: rows.into_iter().map(to_proto::audit_event).collect(),
        next_page_token,
    })
}

/// What a reading records: the filters, and which page (the events before
/// `older_than_audit_event_id`) when it is not the first.
fn reading(filter: &Value, cursor: Option<AuditCursor>) -> Value {
    let mut reading = filter.clone();
    if let (Value::Object(fields), Some(cursor)) = (&mut reading, cursor) {
        fields.insert("older_than_audit_event_id".into(), json!(cursor.id.to_string()));
    }
    reading
}
