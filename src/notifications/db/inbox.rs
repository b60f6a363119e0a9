//! The inbox: each event handled once. Recording an event is the first
//! statement of its transaction, so a redelivered event is recognised
//! before anything else happens.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::inbox;

crate::pg_enum! {
    /// What handling an event came to.
    pub enum Outcome {
        /// An email was stored, with the job that sends it.
        Emailed = "emailed",
        /// Nothing to send: the order has no `customer_email`.
        NoEmail = "no_email",
        /// Undecodable or of an unknown type: kept with the reason, skipped.
        Parked = "parked",
    }
}

/// An event as it arrived.
#[derive(Debug, Clone)]
pub struct Arrival<'a> {
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub subject: &'a str,
    pub stream_sequence: i64,
}

/// Records `arrival` with its outcome; false when it was recorded before
/// (a redelivery), in which case nothing else must be done.
pub async fn record(conn: &mut AsyncPgConnection, arrival: &Arrival<'_>, outcome: Outcome) -> QueryResult<bool> {
    record_row(conn, arrival, outcome, None, None).await
}

/// Records a poison event with its bytes and why it cannot be handled.
pub async fn park(
    conn: &mut AsyncPgConnection,
    arrival: &Arrival<'_>,
    payload: &[u8],
    reason: &str,
) -> QueryResult<bool> {
    record_row(conn, arrival, Outcome::Parked, Some(payload), Some(reason)).await
}

async fn record_row(
    conn: &mut AsyncPgConnection,
    arrival: &Arrival<'_>,
    outcome: Outcome,
    payload: Option<&[u8]>,
    reason: Option<&str>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(inbox::table)
        .values((
            inbox::event_id.eq(arrival.event_id),
            inbox::event_type.eq(arrival.event_type),
            inbox::subject.eq(arrival.subject),
            inbox::stream_sequence.eq(arrival.stream_sequence),
            inbox::outcome.eq(outcome),
            inbox::payload.eq(payload),
            inbox::parked_reason.eq(reason),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}
