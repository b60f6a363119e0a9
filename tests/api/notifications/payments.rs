//! The emails of card payments: a payment received, a cancellation that
//! says why (a declined card, a payment that never came, a refund to come),
//! a refund. The orders service does not publish `OrderPaid` and
//! `OrderRefunded` yet, so the test publishes the payment steps of a real
//! order itself, to its own stream, as the orders relay would.

use orders::proto::{self, OrderState, PaymentStatus};
use prost::Message;

use crate::{
    api_calls::{create_product, try_create_order},
    nats::TestEvents,
    requests::order_request,
    shop::{Shop, spawn_shop},
    smtp::{Received, SmtpSink},
    timing::eventually,
};

/// Places an order of two mugs at EUR 14.50 for `email` through the
/// orders service, and waits until its `OrderPlaced` is in the stream (so
/// the steps published next come after it).
async fn placed_order(shop: &Shop, events: &TestEvents, sku: &str, email: &str) -> proto::Order {
    let mug = create_product(&shop.app, sku, (14, 500_000_000, "EUR"), 10).await;
    let mut request = order_request("ada", &[(&mug.product_id, 2)]);
    request.customer_email = email.to_owned();
    let order = try_create_order(&shop.app, request).await.unwrap();
    eventually(20, "the order's OrderPlaced in the stream", || async {
        let published = events.published().await;
        published
            .iter()
            .any(|e| e.subject.ends_with(".order.placed") && e.order().order_id == order.order_id)
    })
    .await;
    order
}

/// `order` with its card payment at `status`.
fn paying(order: &proto::Order, status: PaymentStatus, decline_code: &str) -> proto::Order {
    let payment = proto::OrderPayment {
        payment_method: "pm_card_visa".to_owned(),
        status: status as i32,
        payment_id: uuid::Uuid::now_v7().to_string(),
        decline_code: decline_code.to_owned(),
        update_time: Some(std::time::SystemTime::now().into()),
    };
    proto::Order {
        payment: Some(payment),
        ..order.clone()
    }
}

/// `order` cancelled with `reason`, `after_seconds` after it was placed.
fn cancelled(order: proto::Order, reason: &str, after_seconds: i64) -> proto::Order {
    let created = order.create_time.expect("a placed order has its create_time");
    let cancel_time = prost_types::Timestamp {
        seconds: created.seconds + after_seconds,
        nanos: created.nanos,
    };
    proto::Order {
        state: OrderState::Cancelled as i32,
        cancel_time: Some(cancel_time),
        update_time: Some(cancel_time),
        cancel_reason: reason.to_owned(),
        ..order
    }
}

/// Publishes the event `$message` (`orders.v1.$message`) about `$order`,
/// changed from state `$from` for `$reason`, on `<prefix>.$suffix` with
/// its id as the message id, as the relay would; returns its id and bytes.
macro_rules! publish {
    ($events:expr, $message:ident, $suffix:literal, $order:expr, $from:expr, $reason:expr) => {{
        let order: proto::Order = $order;
        let event = proto::$message {
            event_id: uuid::Uuid::now_v7().to_string(),
            event_time: Some(std::time::SystemTime::now().into()),
            state_change: Some(proto::OrderStateChange {
                from_state: $from as i32,
                to_state: order.state,
                reason: $reason.to_owned(),
                ..Default::default()
            }),
            order: Some(order),
        };
        let event_type = concat!("orders.v1.", stringify!($message));
        let bytes = event.encode_to_vec();
        $events.publish($suffix, event_type, &event.event_id, &bytes).await;
        (event.event_id, bytes)
    }};
}

/// Waits until the notifications consumer has handled (acked) everything
/// in the stream: any email an event caused is stored by then.
async fn all_handled(events: &TestEvents) {
    let stream = events.jetstream.get_stream(events.stream_name()).await.unwrap();
    eventually(20, "the notifications consumer caught up", || async {
        let consumer = stream.get_consumer::<async_nats::jetstream::consumer::pull::Config>("notifications");
        let mut consumer = consumer.await.unwrap();
        let info = consumer.info().await.unwrap();
        info.num_pending == 0 && info.num_ack_pending == 0
    })
    .await;
}

/// The subjects of `emails`, and that each went to `to` alone.
fn subjects(emails: &[Received], to: &str) -> Vec<String> {
    for email in emails {
        assert_eq!(email.recipients, [to], "{}", email.header("Subject"));
    }
    emails.iter().map(|e| e.header("Subject")).collect()
}

/// Asserts that the text part of `email` says each of `sentences`.
fn says(email: &Received, sentences: &[&str]) {
    let text = email.part("text/plain");
    for sentence in sentences {
        assert!(text.contains(sentence), "{sentence:?} not in:\n{text}");
    }
    let html = email.part("text/html");
    assert!(
        !text.contains("pm_card") && !html.contains("pm_card"),
        "the card token shown:\n{text}"
    );
}

fn short(order: &proto::Order) -> String {
    order.order_id[order.order_id.len() - 8..].to_owned()
}

#[tokio::test]
async fn a_paid_order_cancelled_and_refunded_gets_four_emails_in_order_and_a_duplicate_none() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    let order = placed_order(&shop, &events, "MUG", "ada@example.com").await;
    let paid = proto::Order {
        state: OrderState::Paid as i32,
        ..paying(&order, PaymentStatus::Captured, "")
    };
    let (paid_id, paid_bytes) = publish!(events, OrderPaid, "order.paid", paid.clone(), OrderState::Placed, "");
    let cancelled = cancelled(paid, "changed my mind", 3600);
    let from_paid = OrderState::Paid;
    publish!(
        events,
        OrderCancelled,
        "order.cancelled",
        cancelled.clone(),
        from_paid,
        "changed my mind"
    );
    let refunded = paying(&cancelled, PaymentStatus::Refunded, "");
    let cancelled_state = OrderState::Cancelled;
    publish!(
        events,
        OrderRefunded,
        "order.refunded",
        refunded,
        cancelled_state,
        "PAYMENT_REFUNDED"
    );

    let emails = smtp.wait_for(4, 30).await;
    let id = short(&order);
    let expected = [
        format!("Your order {id} is confirmed"),
        format!("We received your payment for order {id}"),
        format!("Your order {id} was cancelled"),
        format!("Your payment for order {id} was refunded"),
    ];
    assert_eq!(subjects(&emails, "ada@example.com"), expected);
    let paid_text = format!("we received your payment of EUR 29.00 for your order {id}.");
    says(
        &emails[1],
        &[&paid_text, "2 x ", "at EUR 14.50 = EUR 29.00", &order.order_id],
    );
    let cancelled_text = format!("your order {id} has been cancelled, for this reason: \"changed my mind\".");
    says(
        &emails[2],
        &[&cancelled_text, "Your payment of EUR 29.00 will be refunded in full."],
    );
    let refunded_text =
        format!("your order {id} was cancelled, and your payment of EUR 29.00 has been refunded in full.");
    says(&emails[3], &[&refunded_text, "Total: EUR 29.00"]);

    // The OrderPaid again, as a relay would republish it after the duplicate
    // window: another message id, the same event.
    let again = uuid::Uuid::new_v4().to_string();
    events
        .publish("order.paid", "orders.v1.OrderPaid", &again, &paid_bytes)
        .await;
    all_handled(&events).await;
    assert_eq!(shop.count("SELECT count(*) AS n FROM emails").await, 4);
    let inbox = format!("SELECT count(*) AS n FROM inbox WHERE event_id = '{paid_id}'");
    assert_eq!(shop.count(&inbox).await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 4, "no email twice");
    events.delete().await;
}

#[tokio::test]
async fn a_declined_card_and_a_payment_that_never_came_say_why_and_that_nothing_was_charged() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    let ada = placed_order(&shop, &events, "MUG", "ada@example.com").await;
    let grace = placed_order(&shop, &events, "TEA", "grace@example.com").await;
    let declined = cancelled(
        paying(&ada, PaymentStatus::Declined, "insufficient_funds"),
        "PAYMENT_DECLINED",
        2,
    );
    let placed = OrderState::Placed;
    publish!(
        events,
        OrderCancelled,
        "order.cancelled",
        declined,
        placed,
        "PAYMENT_DECLINED"
    );
    let timed_out = cancelled(
        paying(&grace, PaymentStatus::Released, ""),
        "PAYMENT_TIMEOUT",
        15 * 60 + 3,
    );
    publish!(
        events,
        OrderCancelled,
        "order.cancelled",
        timed_out,
        placed,
        "PAYMENT_TIMEOUT"
    );

    let mut emails = smtp.wait_for(4, 30).await;
    emails.sort_by_key(|e| e.recipients.join(","));
    let expected = |order: &proto::Order| {
        let id = short(order);
        [
            format!("Your order {id} is confirmed"),
            format!("Your order {id} was cancelled"),
        ]
    };
    assert_eq!(subjects(&emails[..2], "ada@example.com"), expected(&ada));
    assert_eq!(subjects(&emails[2..], "grace@example.com"), expected(&grace));
    let why = "we could not take the payment for your order";
    says(
        &emails[1],
        &[
            why,
            "your card was declined (insufficient funds); nothing was charged and the order is cancelled.",
        ],
    );
    let waited = "we did not receive your payment within 15 minutes; nothing was charged and the order is cancelled.";
    says(&emails[3], &[why, waited]);
    for email in [&emails[1], &emails[3]] {
        let text = email.part("text/plain");
        assert!(!text.contains("refund") && !text.contains("PAYMENT_"), "{text}");
    }
    all_handled(&events).await;
    assert_eq!(shop.count("SELECT count(*) AS n FROM emails").await, 4);
    events.delete().await;
}
