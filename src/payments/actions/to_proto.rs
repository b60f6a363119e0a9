//! Rows to messages: a payment with its ledger ([`payment`]), and the new
//! ledger entries of a change, each with its event ([`new_movements`]),
//! which carries the payment as it is just after that entry.

use chrono::{DateTime, Utc};
use prost::Message;
use uuid::Uuid;

use crate::{
    payments::{
        db::payments::{MovementRow, NewMovement, PaymentRow},
        domain::{
            NANOS_PER_UNIT,
            ledger::{Ledger, MovementKind, Step},
        },
    },
    proto::{self, payments::v1 as pb},
};

/// A payment with its ledger (`movements`, in sequence, never empty for a
/// committed payment).
pub fn payment(row: &PaymentRow, movements: &[MovementRow]) -> pb::Payment {
    let ledger = ledger(movements);
    let money = |nanos| Some(money(&row.currency_code, nanos));
    let decline = movements.iter().find_map(|m| m.failure_code.clone());
    let totals = ledger.map(|l| l.totals).unwrap_or_default();
    pb::Payment {
        payment_id: row.id.to_string(),
        order_id: row.order_id.to_string(),
        customer_id: row.customer_id.clone(),
        payment_method: row.payment_method.clone(),
        state: ledger.map_or(pb::PaymentState::Unspecified, |l| l.state()).into(),
        amount: money(row.amount_nanos),
        amount_authorized: money(totals.held()),
        amount_captured: money(totals.captured),
        amount_refunded: money(totals.refunded),
        decline_code: decline.unwrap_or_default(),
        movements: movements.iter().map(|m| movement(m, &row.currency_code)).collect(),
        create_time: Some(timestamp(row.create_time)),
        update_time: movements.last().map(|m| timestamp(m.create_time)),
    }
}

/// The ledger as its last entry leaves it.
pub fn ledger(movements: &[MovementRow]) -> Option<Ledger> {
    movements.last().map(|last| Ledger {
        last: last.kind,
        totals: last.totals(),
    })
}

/// What a change records: `steps` after the payment's `existing` entries,
/// each with its event.
pub struct Recording<'a> {
    pub payment: &'a PaymentRow,
    pub existing: &'a [MovementRow],
    pub request_id: Uuid,
    pub failure_code: Option<String>,
    pub reason: &'a str,
    pub time: DateTime<Utc>,
}

/// The rows of `steps`, numbered after the existing ones, with their
/// running totals and events.
pub fn new_movements(recording: &Recording<'_>, steps: &[Step]) -> Vec<NewMovement> {
    let mut all = recording.existing.to_vec();
    let mut recorded = Vec::with_capacity(steps.len());
    for &(kind, amount) in steps {
        let totals = ledger(&all)
            .map_or(Ledger::start(kind, amount), |l| l.then((kind, amount)))
            .totals;
        let row = MovementRow {
            payment_id: recording.payment.id,
            sequence: all.last().map_or(1, |m| m.sequence + 1),
            kind,
            amount_nanos: amount,
            authorized_nanos: totals.authorized,
            captured_nanos: totals.captured,
            released_nanos: totals.released,
            refunded_nanos: totals.refunded,
            request_id: recording.request_id,
            failure_code: recording.failure_code.clone().filter(|_| kind == MovementKind::Failed),
            reason: recording.reason.to_owned(),
            // Microseconds, as PostgreSQL stores it, so the event and the row agree.
            create_time: DateTime::from_timestamp_micros(recording.time.timestamp_micros()).unwrap_or(recording.time),
        };
        all.push(row.clone());
        let event_id = Uuid::now_v7();
        let event_payload = event(
            event_id,
            payment(recording.payment, &all),
            &row,
            &recording.payment.currency_code,
        );
        recorded.push(NewMovement {
            row,
            event_id,
            event_payload,
        });
    }
    recorded
}

/// The encoded event of `row`: the payment after it, and the entry.
fn event(event_id: Uuid, payment: pb::Payment, row: &MovementRow, currency: &str) -> Vec<u8> {
    let event_id = event_id.to_string();
    let event_time = Some(timestamp(row.create_time));
    let (payment, movement) = (Some(payment), Some(movement(row, currency)));
    macro_rules! encode {
        ($message:ident) => {
            pb::$message {
                event_id,
                event_time,
                payment,
                movement,
            }
            .encode_to_vec()
        };
    }
    match row.kind {
        MovementKind::Authorized => encode!(PaymentAuthorized),
        MovementKind::Failed => encode!(PaymentDeclined),
        MovementKind::Captured => encode!(PaymentCaptured),
        MovementKind::Released => encode!(PaymentCancelled),
        MovementKind::Refunded => encode!(PaymentRefunded),
    }
}

fn movement(row: &MovementRow, currency: &str) -> pb::PaymentMovement {
    let kind = match row.kind {
        MovementKind::Authorized => pb::MovementKind::Authorized,
        MovementKind::Captured => pb::MovementKind::Captured,
        MovementKind::Released => pb::MovementKind::Released,
        MovementKind::Refunded => pb::MovementKind::Refunded,
        MovementKind::Failed => pb::MovementKind::Failed,
    };
    pb::PaymentMovement {
        sequence: row.sequence,
        kind: kind.into(),
        amount: Some(money(currency, row.amount_nanos)),
        request_id: row.request_id.to_string(),
        failure_code: row.failure_code.clone().unwrap_or_default(),
        reason: row.reason.clone(),
        create_time: Some(timestamp(row.create_time)),
    }
}

/// `nanos` of `currency` as `orders.v1.Money`.
pub fn money(currency: &str, nanos: i64) -> proto::Money {
    proto::Money {
        currency_code: currency.to_owned(),
        units: nanos / NANOS_PER_UNIT,
        nanos: i32::try_from(nanos % NANOS_PER_UNIT).expect("below 10^9"),
    }
}

fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    std::time::SystemTime::from(time).into()
}
