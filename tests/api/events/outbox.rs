//! The outbox's promises: an event exists exactly when its change
//! committed, none is lost while NATS is down or skipped when changes commit
//! out of order, and several relays on one database publish each event once.

use std::collections::HashSet;

use diesel_async::SimpleAsyncConnection;
use futures_util::StreamExt;
use tonic::Code;

use crate::{
    api_calls::{cancel, create_product, place_order, try_create_order, try_restock},
    app::{spawn_app_with, spawn_replica},
    assertions::assert_error,
    direct_sql::{lock_product, wait_for_lock_waiters},
    nats::{PrivateNats, TestEvents},
    requests::{order_request, request_id},
    timing::within,
};

#[tokio::test]
async fn a_change_that_fails_publishes_nothing() {
    let events = TestEvents::new().await;
    let app = spawn_app_with(|s| events.configure(s)).await;
    let mug = create_product(&app, "MUG", (3, 0, "EUR"), 2).await;
    let order = place_order(&app, "ada", &[(&mug.product_id, 1)]).await;
    cancel(&app, &order.order_id, "ada", "too slow").await.unwrap();

    // Each refused after its transaction began: short stock, a second
    // cancel of another state, a restock past the limit.
    let short = try_create_order(&app, order_request("ada", &[(&mug.product_id, 5)])).await;
    assert_error(&short.unwrap_err(), Code::FailedPrecondition, "INSUFFICIENT_STOCK");
    let ship = orders::proto::ShipOrderRequest {
        order_id: order.order_id.clone(),
    };
    let refused = app.orders.clone().ship_order(ship).await.unwrap_err();
    assert_error(&refused, Code::FailedPrecondition, "ORDER_NOT_SHIPPABLE");
    let over = try_restock(&app, &mug.product_id, 1_000_000_000, &request_id())
        .await
        .unwrap_err();
    assert_eq!(over.code(), Code::OutOfRange);
    // A last change, so that everything before it has been relayed.
    let last = place_order(&app, "grace", &[(&mug.product_id, 1)]).await;

    let published = events.wait_for(4, 10).await;
    let orders: Vec<String> = published.iter().skip(1).map(|e| e.order().order_id).collect();
    assert_eq!(orders, [order.order_id.clone(), order.order_id.clone(), last.order_id]);
    assert_eq!(
        published.len(),
        4,
        "created, placed, cancelled, placed: nothing for the refusals"
    );
    events.delete().await;
}

#[tokio::test]
async fn events_wait_while_nats_is_down_and_all_go_out_once_when_it_returns() {
    let mut nats = PrivateNats::start().await;
    let events = TestEvents::on(&nats.url()).await;
    let app = spawn_app_with(|s| events.configure(s)).await;
    let mug = create_product(&app, "MUG", (3, 0, "EUR"), 100).await;
    let mut placed = HashSet::new();
    for _ in 0..5 {
        placed.insert(place_order(&app, "ada", &[(&mug.product_id, 1)]).await.order_id);
    }
    events.wait_for(6, 10).await;

    nats.kill().await;
    for _ in 0..10 {
        placed.insert(place_order(&app, "ada", &[(&mug.product_id, 1)]).await.order_id);
    }
    nats.restart().await;

    let published = events.wait_for(16, 30).await;
    let ids: HashSet<&str> = published.iter().map(|e| e.message_id.as_str()).collect();
    assert_eq!((published.len(), ids.len()), (16, 16), "each event once");
    let orders: HashSet<String> = published.iter().skip(1).map(|e| e.order().order_id).collect();
    assert_eq!(orders, placed);
}

#[tokio::test]
async fn two_server_processes_on_one_database_publish_each_event_once() {
    let events = TestEvents::new().await;
    // Every publish, duplicates included (JetStream stores one; a core
    // subscriber sees each): a second relay publishing too would show here.
    let mut seen = events.client.subscribe(format!("{}.>", events.prefix)).await.unwrap();
    let first = spawn_app_with(|s| events.configure(s)).await;
    let second = spawn_replica(&first, |s| events.configure(s)).await;
    let mug = create_product(&first, "MUG", (3, 0, "EUR"), 100).await;
    for i in 0..40 {
        let app = if i % 2 == 0 { &first } else { &second };
        place_order(app, "ada", &[(&mug.product_id, 1)]).await;
    }

    let published = events.wait_for(41, 20).await;
    assert_eq!(published.len(), 41);
    let mut publishes = 0;
    while let Ok(Some(_)) = tokio::time::timeout(std::time::Duration::from_secs(1), seen.next()).await {
        publishes += 1;
    }
    assert_eq!(publishes, 41, "no event was published twice");
    within(10, events.delete()).await;
}

#[tokio::test]
async fn an_event_that_commits_after_a_later_one_waits_for_it_and_is_not_skipped() {
    let events = TestEvents::new().await;
    let app = spawn_app_with(|s| events.configure(s)).await;
    let mut products = [
        create_product(&app, "MUG", (3, 0, "EUR"), 10).await.product_id,
        create_product(&app, "PEN", (1, 0, "EUR"), 10).await.product_id,
    ];
    products.sort();
    let [low, high] = &products;
    let cup = create_product(&app, "CUP", (2, 0, "EUR"), 10).await.product_id;
    events.wait_for(3, 10).await;

    // The slow order locks `low` (its transaction has its id) and then
    // waits for `high`; the fast one begins after it and commits first.
    let mut lock = lock_product(&app.db_url, high).await;
    let both = [(low.as_str(), 1), (high.as_str(), 1)];
    let slow = place_order(&app, "ada", &both);
    let fast_then_release = async {
        within(5, wait_for_lock_waiters(&app.db_url, 1)).await;
        let fast = place_order(&app, "grace", &[(&cup, 1)]).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let meanwhile = events.published().await.len();
        lock.batch_execute("ROLLBACK").await.unwrap();
        (fast, meanwhile)
    };
    let (slow, (fast, meanwhile)) = tokio::join!(slow, fast_then_release);

    assert_eq!(meanwhile, 3, "the fast order's event waits for the older transaction");
    let published = events.wait_for(5, 10).await;
    let orders: Vec<String> = published.iter().skip(3).map(|e| e.order().order_id).collect();
    assert_eq!(
        orders,
        [slow.order_id, fast.order_id],
        "in transaction order, each once"
    );
    events.delete().await;
}
