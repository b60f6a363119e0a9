//! kill -9 of the notifications service at random points under load:
//! afterwards every order has its email, and an email is sent twice only in
//! the one documented window (the SMTP server accepted it, the process died
//! before its sending job was marked done).

use std::{collections::HashMap, process::Stdio, time::Duration};

use rand::Rng;
use tokio::process::{Child, Command};

use crate::{
    api_calls::create_product,
    app::spawn_app_with,
    local_machine::free_port,
    nats::TestEvents,
    requests::order_request,
    smtp::SmtpSink,
    test_database::TestDatabase,
    timing::{eventually, within},
};

const ORDERS: usize = 60;
const KILLS: usize = 4;

#[tokio::test]
async fn a_notifications_service_killed_at_random_points_emails_every_order() {
    let (events, smtp) = (TestEvents::new().await, SmtpSink::start(&[]).await);
    let notifications_db = TestDatabase::create_empty().await;
    // This process runs the orders service and its relay; the binary runs
    // the notifications service alone, as production would.
    let app = spawn_app_with(|s| events.configure(s)).await;
    let mug = create_product(&app, "MUG", (3, 0, "EUR"), 1000).await;
    let service = || start_notifications(&notifications_db.url, &events, &smtp);
    let mut running = service();
    let mut orders = app.orders.clone();
    let load = tokio::spawn(async move {
        for i in 0..ORDERS {
            let mut request = order_request("ada", &[(&mug.product_id, 1)]);
            request.customer_email = format!("customer{i}@example.com");
            orders.create_order(request).await.expect("CreateOrder");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(100..400))).await;
        running.start_kill().expect("kill -9");
        let _ = running.wait().await;
        running = service();
    }
    within(60, load).await.unwrap();

    // A send in flight at a kill comes back after its lease (20 s).
    eventually(60, "an email for every order", || async {
        per_recipient(&smtp).len() == ORDERS
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let per_recipient = per_recipient(&smtp);
    assert_eq!(per_recipient.len(), ORDERS, "every order has its email");
    let duplicates: usize = per_recipient.values().map(|n| n - 1).sum();
    // At most the sends in flight at each kill (the worker runs up to 4 at once).
    assert!(duplicates <= KILLS * 4, "{duplicates} duplicates after {KILLS} kills");
    running.start_kill().unwrap();
    events.delete().await;
}

/// How many emails each recipient (here: each order) got.
fn per_recipient(smtp: &SmtpSink) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for email in smtp.received() {
        *counts.entry(email.recipients.join(",")).or_default() += 1;
    }
    counts
}

fn start_notifications(database_url: &str, events: &TestEvents, smtp: &SmtpSink) -> Child {
    Command::new(env!("CARGO_BIN_EXE_orders"))
        .args([
            "serve",
            "--services",
            "notifications",
            "--addr",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .env("DATABASE_URL", database_url)
        .env("ORDERS_NOTIFICATIONS_DATABASE_URL", database_url)
        .env("ORDERS_NATS_URL", &events.url)
        .env("ORDERS_NATS_SUBJECT_PREFIX", &events.prefix)
        .env("ORDERS_SMTP_URL", smtp.url())
        .env("ORDERS_METRICS_ADDR", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts")
}
