//! Two replicas of the real binary, each running both services with its
//! outbox relay and its job workers on, on one orders database and one
//! notifications database: every event goes out once (one relay at a time,
//! the other stands by) and every email once (each `send_email` job is run
//! by one worker). The single-purpose tests of each mechanism are in
//! events/outbox.rs and jobs/; this is them together, as deployed.

use std::{collections::HashMap, time::Duration};

use futures_util::StreamExt;
use orders::proto::{catalog_service_client::CatalogServiceClient, order_service_client::OrderServiceClient};

use crate::{
    app::connect_channel,
    nats::TestEvents,
    requests::{order_request, product_request},
    smtp::SmtpSink,
    test_database::TestDatabase,
};

use super::replicas::Replica;

const ORDERS: usize = 20;

#[tokio::test]
async fn two_replicas_with_relays_and_job_workers_publish_each_event_and_send_each_email_once() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let (database, notifications) = (TestDatabase::create().await, TestDatabase::create_empty().await);
    let smtp_url = smtp.url();
    let env = [
        ("ORDERS_SERVICES", "orders,notifications"),
        ("ORDERS_OUTBOX_RELAY", "true"),
        ("ORDERS_NATS_URL", events.url.as_str()),
        ("ORDERS_NATS_SUBJECT_PREFIX", events.prefix.as_str()),
        ("ORDERS_NOTIFICATIONS_DATABASE_URL", notifications.url.as_str()),
        ("ORDERS_SMTP_URL", smtp_url.as_str()),
        ("RUST_LOG", "info"),
    ];
    let replicas = [
        Replica::start_with(&database.url, &env).await,
        Replica::start_with(&database.url, &env).await,
    ];
    // Every publish, duplicates included (JetStream would store one of
    // two): a second relay publishing too would show here.
    let seen = events.client.subscribe(format!("{}.>", events.prefix)).await.unwrap();

    place_orders_on_both(&replicas).await;

    let published = events.wait_for(ORDERS + 1, 30).await;
    assert_eq!(published.len(), ORDERS + 1, "the product and each order");
    assert_eq!(
        count_until_quiet(seen).await,
        ORDERS + 1,
        "no event was published twice"
    );
    each_order_got_one_email(&smtp).await;
    // Both ran a job worker; one relayed, the other stood by.
    let logs = replicas.each_ref().map(Replica::log);
    assert!(logs.iter().all(|log| log.contains("job worker started")), "{logs:?}");
    let relaying = logs
        .iter()
        .filter(|log| log.contains("relaying the outbox to JetStream"));
    assert_eq!(relaying.count(), 1, "{logs:?}");
    events.delete().await;
}

/// How many messages `subscriber` gets until a second passes without one.
async fn count_until_quiet(mut subscriber: async_nats::Subscriber) -> usize {
    let mut count = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(1), subscriber.next()).await {
        count += 1;
    }
    count
}

/// Waits for an email per order, then a moment more (a second worker
/// sending again would show), and asserts one email per recipient.
async fn each_order_got_one_email(smtp: &SmtpSink) {
    smtp.wait_for(ORDERS, 30).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for email in smtp.received() {
        *per_recipient.entry(email.recipients.join(",")).or_default() += 1;
    }
    assert_eq!(per_recipient.len(), ORDERS, "an email for every order");
    assert!(per_recipient.values().all(|&n| n == 1), "each once: {per_recipient:?}");
}

/// A product on the first replica, then orders on each replica in turn,
/// each with its own email address.
async fn place_orders_on_both(replicas: &[Replica; 2]) {
    let channels = [
        connect_channel(replicas[0].addr).await,
        connect_channel(replicas[1].addr).await,
    ];
    let product = CatalogServiceClient::new(channels[0].clone())
        .create_product(product_request("MUG", (3, 0, "EUR"), 100))
        .await
        .unwrap();
    let product_id = product.into_inner().product.unwrap().product_id;
    for i in 0..ORDERS {
        let mut request = order_request("ada", &[(&product_id, 1)]);
        request.customer_email = format!("customer{i}@example.com");
        let mut orders = OrderServiceClient::new(channels[i % 2].clone());
        orders.create_order(request).await.expect("CreateOrder");
    }
}
