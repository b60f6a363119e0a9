//! Delivery whatever happens: an SMTP server that is down, an address it
//! refuses for good, events that cannot be handled, an event delivered twice.

use orders::proto;
use prost::Message;

use crate::{
    api_calls::{create_product, try_create_order},
    nats::TestEvents,
    requests::order_request,
    shop::{Shop, spawn_shop},
    smtp::SmtpSink,
    timing::eventually,
};

/// Places an order of one unit of a new product for `email`.
async fn order_for(shop: &Shop, sku: &str, email: &str) -> proto::Order {
    let product = create_product(&shop.app, sku, (3, 0, "EUR"), 10).await;
    let mut request = order_request("ada", &[(&product.product_id, 1)]);
    request.customer_email = email.to_owned();
    try_create_order(&shop.app, request).await.unwrap()
}

#[tokio::test]
async fn emails_wait_while_the_smtp_server_is_down_and_go_out_once_it_is_back() {
    let (events, mut smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    smtp.kill().await;
    order_for(&shop, "MUG", "ada@example.com").await;
    let failed_once =
        "SELECT count(*) AS n FROM jobs WHERE kind = 'send_email' AND state = 'pending' AND attempts >= 1";
    eventually(20, "a failed send waiting for its retry", || async {
        shop.count(failed_once).await == 1
    })
    .await;
    assert!(smtp.received().is_empty());

    smtp.restart().await;
    let emails = smtp.wait_for(1, 30).await;
    assert_eq!(emails[0].recipients, ["ada@example.com"]);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1);
    events.delete().await;
}

#[tokio::test]
async fn an_address_the_server_defers_is_retried_until_it_is_accepted() {
    let (events, mut smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    smtp.defer = vec!["ada@example.com".to_owned()];
    smtp.kill().await;
    smtp.restart().await;
    let shop = spawn_shop(&events, &smtp).await;
    order_for(&shop, "MUG", "ada@example.com").await;
    let deferred = "SELECT count(*) AS n FROM emails WHERE state = 'pending' AND last_error LIKE '%451%'";
    eventually(20, "the deferred email waiting for its retry", || async {
        shop.count(deferred).await == 1
    })
    .await;
    assert!(smtp.received().is_empty());

    smtp.kill().await;
    smtp.defer.clear();
    smtp.restart().await;
    let emails = smtp.wait_for(1, 30).await;
    assert_eq!(emails[0].recipients, ["ada@example.com"]);
    assert_eq!(
        shop.count("SELECT count(*) AS n FROM emails WHERE state = 'sent'")
            .await,
        1
    );
    events.delete().await;
}

#[tokio::test]
async fn a_change_that_fails_sends_no_email() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    let mug = create_product(&shop.app, "MUG", (3, 0, "EUR"), 1).await;
    let mut short = order_request("ada", &[(&mug.product_id, 2)]);
    short.customer_email = "ada@example.com".to_owned();
    try_create_order(&shop.app, short).await.unwrap_err();
    order_for(&shop, "TEA", "grace@example.com").await;

    let emails = smtp.wait_for(1, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(emails[0].recipients, ["grace@example.com"]);
    events.delete().await;
}

#[tokio::test]
async fn an_address_the_server_refuses_is_recorded_failed_and_not_retried() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&["nobody@example.com"]).await);
    let shop = spawn_shop(&events, &smtp).await;
    order_for(&shop, "MUG", "nobody@example.com").await;
    order_for(&shop, "TEA", "ada@example.com").await;

    let emails = smtp.wait_for(1, 20).await;
    assert_eq!(emails[0].recipients, ["ada@example.com"]);
    let failed = "SELECT count(*) AS n FROM emails WHERE recipient = 'nobody@example.com' AND state = 'failed' \
                  AND last_error LIKE '%550%'";
    eventually(10, "the refused email recorded failed", || async {
        shop.count(failed).await == 1
    })
    .await;
    let job = "SELECT count(*) AS n FROM jobs WHERE kind = 'send_email' AND state = 'failed' AND attempts = 1";
    assert_eq!(shop.count(job).await, 1, "failed at once, never retried");
    events.delete().await;
}

#[tokio::test]
async fn poison_events_are_parked_and_do_not_block_the_next_one() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    // The stream exists once the service's first event is relayed.
    let first = order_for(&shop, "MUG", "ada@example.com").await;
    smtp.wait_for(1, 20).await;
    publish(
        &events,
        "order.placed",
        "orders.v1.OrderPlaced",
        b"\xff\xff not protobuf",
    )
    .await;
    publish(&events, "order.returned", "orders.v1.OrderReturned", b"").await;
    // PostgreSQL's text cannot hold a NUL byte: stored as it came, this one
    // would fail its transaction at every redelivery, forever.
    publish(&events, "order.placed", "orders.v1.Order\0Placed", b"").await;
    let next = order_for(&shop, "TEA", "grace@example.com").await;

    let emails = smtp.wait_for(2, 20).await;
    assert_eq!(emails[1].recipients, ["grace@example.com"]);
    let parked = "SELECT count(*) AS n FROM inbox WHERE outcome = 'parked'";
    assert_eq!(shop.count(parked).await, 3);
    let nul = "SELECT count(*) AS n FROM inbox WHERE event_type = 'orders.v1.Order' || chr(65533) || 'Placed'";
    assert_eq!(shop.count(nul).await, 1, "kept, with the NUL replaced");
    assert_ne!(first.order_id, next.order_id);
    events.delete().await;
}

#[tokio::test]
async fn an_event_delivered_twice_sends_one_email() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    order_for(&shop, "MUG", "ada@example.com").await;
    smtp.wait_for(1, 20).await;
    // The same event again, as a relay would republish it after its
    // duplicate window: another message id, the same event.
    let published = events.wait_for(2, 10).await;
    let placed = published
        .iter()
        .find(|e| e.event_type == "orders.v1.OrderPlaced")
        .unwrap();
    let event: proto::OrderPlaced = placed.decode();
    publish(&events, "order.placed", "orders.v1.OrderPlaced", &event.encode_to_vec()).await;
    order_for(&shop, "TEA", "grace@example.com").await;

    let emails = smtp.wait_for(2, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        smtp.received().len(),
        2,
        "{:?}",
        emails.iter().map(|e| e.recipients.clone()).collect::<Vec<_>>()
    );
    assert_eq!(shop.count("SELECT count(*) AS n FROM emails").await, 2);
    events.delete().await;
}

/// Publishes `payload` to `<prefix>.<suffix>` as an event of `event_type`,
/// with a message id of its own.
async fn publish(events: &TestEvents, suffix: &str, event_type: &str, payload: &[u8]) {
    let message_id = uuid::Uuid::new_v4().to_string();
    events.publish(suffix, event_type, &message_id, payload).await;
}
