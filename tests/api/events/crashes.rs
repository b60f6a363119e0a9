//! kill -9 of the relaying process at random points under load: afterwards
//! every committed change has exactly one event in the stream.

use std::{collections::HashSet, process::Stdio, time::Duration};

use rand::Rng;
use tokio::process::{Child, Command};

use crate::{
    api_calls::create_product,
    app::{TestApp, spawn_app},
    local_machine::free_port,
    nats::TestEvents,
    timing::within,
};

#[tokio::test]
async fn a_relay_killed_at_random_points_loses_and_duplicates_no_event() {
    let events = TestEvents::new().await;
    // This app serves the calls and does not relay; the binary relays only.
    let app = spawn_app().await;
    let mug = create_product(&app, "MUG", (3, 0, "EUR"), 1000).await;
    let mut relay = start_relay(&app, &events);
    let load = tokio::spawn(place_orders(app.orders.clone(), mug.product_id.clone(), 4, 50));
    for _ in 0..4 {
        let pause = rand::rng().random_range(50..400);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        relay.start_kill().expect("kill -9 the relay");
        let _ = relay.wait().await;
        relay = start_relay(&app, &events);
    }
    let placed = within(60, load).await.unwrap();

    let published = events.wait_for(201, 60).await;
    let ids: HashSet<&str> = published.iter().map(|e| e.message_id.as_str()).collect();
    assert_eq!((published.len(), ids.len()), (201, 201), "every event exactly once");
    let orders: HashSet<String> = published.iter().skip(1).map(|e| e.order().order_id).collect();
    assert_eq!(orders, placed);
    relay.start_kill().unwrap();
    events.delete().await;
}

/// `orders serve` as a relay for `app`'s database and `events`' stream.
fn start_relay(app: &TestApp, events: &TestEvents) -> Child {
    Command::new(env!("CARGO_BIN_EXE_orders"))
        .args(["serve", "--addr", &format!("127.0.0.1:{}", free_port())])
        .env("DATABASE_URL", &app.db_url)
        .env("ORDERS_NATS_URL", &events.url)
        .env("ORDERS_NATS_SUBJECT_PREFIX", &events.prefix)
        .env("ORDERS_OUTBOX_RELAY", "true")
        .env("ORDERS_SERVICES", "orders")
        .env("ORDERS_METRICS_ADDR", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts")
}

/// `workers` callers placing `each` orders of one unit; the placed order ids.
async fn place_orders(orders: crate::app::Orders, product_id: String, workers: usize, each: usize) -> HashSet<String> {
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (mut orders, product_id) = (orders.clone(), product_id.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for _ in 0..each {
                    let request = crate::requests::order_request(&format!("c{w}"), &[(&product_id, 1)]);
                    let order = orders.create_order(request).await.expect("CreateOrder");
                    ids.push(order.into_inner().order.unwrap().order_id);
                }
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}
