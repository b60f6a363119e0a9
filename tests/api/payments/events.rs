//! Every ledger entry reaches NATS once, through the payment service's
//! outbox relay: the subject `<prefix>.payment.<kind>`, the type in
//! `Orders-Event-Type`, the event id in `Nats-Msg-Id`, and the payment as
//! it was just after the entry.

use orders::proto::payments::v1::{self as pb, PaymentState as S};

use super::{eur, spawn_payments_with};
use crate::nats::TestEvents;

#[tokio::test]
async fn each_movement_is_published_once_with_its_type_subject_and_id() {
    let events = TestEvents::new().await;
    let app = spawn_payments_with(|settings| events.configure(settings)).await;
    let payment = app.authorized(10).await;
    let captured = app.capture(&payment, Some(eur(6, 0))).await.unwrap();
    app.refund(&captured, None).await.unwrap();
    let declined = app.authorize("pm_card_chargeDeclined", 5).await.unwrap();

    let published = events.wait_for(5, 20).await;
    let prefix = &events.prefix;
    let seen: Vec<(String, String)> = published
        .iter()
        .map(|e| (e.subject.clone(), e.event_type.clone()))
        .collect();
    let expected = [
        ("payment.authorized", "payments.v1.PaymentAuthorized"),
        ("payment.captured", "payments.v1.PaymentCaptured"),
        ("payment.cancelled", "payments.v1.PaymentCancelled"),
        ("payment.refunded", "payments.v1.PaymentRefunded"),
        ("payment.declined", "payments.v1.PaymentDeclined"),
    ]
    .map(|(suffix, kind)| (format!("{prefix}.{suffix}"), kind.to_owned()));
    assert_eq!(seen, expected);

    let captured_event: pb::PaymentCaptured = published[1].decode();
    assert_eq!(published[1].message_id, captured_event.event_id);
    let after = captured_event.payment.unwrap();
    // Just after the capture, before the rest was released.
    assert_eq!((after.state(), after.movements.len()), (S::Captured, 2));
    assert_eq!(captured_event.movement.unwrap().sequence, 2);
    let refunded: pb::PaymentRefunded = published[3].decode();
    assert_eq!(refunded.payment.unwrap().state(), S::Refunded);
    let declined_event: pb::PaymentDeclined = published[4].decode();
    assert_eq!(declined_event.payment.unwrap().payment_id, declined.payment_id);

    // Once each: every event id is its entry's, and none came twice.
    let mut ids: Vec<&str> = published.iter().map(|e| e.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    let stored = app
        .count("SELECT count(DISTINCT event_id) AS n FROM payment_movements")
        .await;
    assert_eq!(stored, 5);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(events.published().await.len(), 5, "nothing is published twice");
    events.delete().await;
}
