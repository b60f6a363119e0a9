//! What each email says, to whom, and in which MIME shape.

use orders::proto;

use crate::{
    api_calls::{cancel, create_product, try_create_order},
    nats::TestEvents,
    requests::order_request,
    shop::spawn_shop,
    smtp::{Received, SmtpSink},
};

#[tokio::test]
async fn placing_cancelling_and_shipping_send_one_email_each() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    let app = &shop.app;
    let mug = create_product(app, "MUG", (12, 500_000_000, "EUR"), 10).await;
    let tea = create_product(app, "TEA", (4, 0, "EUR"), 10).await;
    let mut request = order_request("ada", &[(&mug.product_id, 2), (&tea.product_id, 1)]);
    request.customer_email = "ada@example.com".to_owned();
    let cancelled = try_create_order(app, request.clone()).await.unwrap();
    cancel(app, &cancelled.order_id, "ada", "ordered twice").await.unwrap();
    request.customer_email = "Grace.Hopper@example.org".to_owned();
    let shipped = try_create_order(app, request).await.unwrap();
    let ship = proto::ShipOrderRequest {
        order_id: shipped.order_id.clone(),
    };
    app.orders.clone().ship_order(ship).await.unwrap();

    let mut emails = smtp.wait_for(4, 20).await;
    let short = |order: &proto::Order| order.order_id[order.order_id.len() - 8..].to_owned();
    // One order's emails arrive in the order of its events; two orders' interleave.
    emails.sort_by_key(|e| e.recipients.join(",").to_lowercase());
    let seen: Vec<(Vec<String>, String)> = emails
        .iter()
        .map(|e| (e.recipients.clone(), e.header("Subject")))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                vec!["ada@example.com".to_owned()],
                format!("Your order {} is confirmed", short(&cancelled))
            ),
            (
                vec!["ada@example.com".to_owned()],
                format!("Your order {} was cancelled", short(&cancelled))
            ),
            (
                vec!["Grace.Hopper@example.org".to_owned()],
                format!("Your order {} is confirmed", short(&shipped))
            ),
            (
                vec!["Grace.Hopper@example.org".to_owned()],
                format!("Your order {} is on its way", short(&shipped))
            ),
        ]
    );
    assert_confirmation(&emails[0], &cancelled);
    assert!(
        emails[1].part("text/plain").contains("\"ordered twice\""),
        "{}",
        emails[1].part("text/plain")
    );
    let shipping = emails[3].part("text/plain");
    assert!(
        shipping.contains("12 St James's Square\n  Flat 2\n  SW1Y 4JH London, Greater London\n  GB"),
        "{shipping}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 4, "no email twice");
    events.delete().await;
}

/// A confirmation is MIME with text and HTML alternatives, names every
/// line with quantity and price, the total, and has its own Message-ID.
fn assert_confirmation(email: &Received, order: &proto::Order) {
    assert_eq!(email.header("From"), "\"Test Shop\" <shop@example.com>");
    assert_eq!(email.header("To"), "ada@example.com");
    assert!(
        email.header("Message-ID").ends_with("@example.com>"),
        "{}",
        email.header("Message-ID")
    );
    assert!(!email.header("Date").is_empty());
    assert_eq!(email.parsed().ctype.mimetype, "multipart/alternative");
    let text = email.part("text/plain");
    assert!(text.contains("2 x "), "{text}");
    assert!(text.contains("at EUR 12.50 = EUR 25.00"), "{text}");
    assert!(
        text.contains("1 x ") && text.contains("at EUR 4.00 = EUR 4.00"),
        "{text}"
    );
    assert!(text.contains("Total: EUR 29.00"), "{text}");
    assert!(text.contains(&order.order_id), "{text}");
    let html = email.part("text/html");
    assert!(html.contains("<strong>EUR 29.00</strong>"), "{html}");
}

#[tokio::test]
async fn an_order_without_an_email_address_gets_no_email() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let shop = spawn_shop(&events, &smtp).await;
    let mug = create_product(&shop.app, "MUG", (3, 0, "EUR"), 10).await;
    try_create_order(&shop.app, order_request("ada", &[(&mug.product_id, 1)]))
        .await
        .unwrap();
    let mut with = order_request("grace", &[(&mug.product_id, 1)]);
    with.customer_email = "grace@example.com".to_owned();
    try_create_order(&shop.app, with).await.unwrap();

    let emails = smtp.wait_for(1, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(emails[0].recipients, ["grace@example.com"]);
    events.delete().await;
}
