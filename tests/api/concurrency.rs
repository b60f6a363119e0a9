//! Races: no overselling, racing retries make one order, racing cancels put
//! stock back once, a cancel racing a ship has one winner, and a real
//! deadlock is retried inside the server instead of reaching the caller.
//! Randomized mixed work is in [`crate::conservation`].

use std::time::Duration;

use diesel_async::SimpleAsyncConnection;
use orders::proto::{self, OrderState};
use tonic::Code;
use uuid::Uuid;

use crate::{
    api_calls::{get_order, place_order, product_id, stock_of, stocks},
    app::spawn_app,
    assertions::assert_error,
    direct_sql::{count_rows, wait_for_lock_waiters},
    requests::{cancel_request, keyed_order_request, order_request},
    timing::{concurrently, within},
};

#[tokio::test]
async fn two_hundred_buyers_of_ten_units_never_oversell() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let results = concurrently(200, |i| {
        let (mut client, request) = (app.orders.clone(), order_request(&format!("c{i}"), &[(&a, 1)]));
        async move { client.create_order(request).await }
    })
    .await;
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    for status in &refused {
        assert_error(status, Code::FailedPrecondition, "INSUFFICIENT_STOCK");
    }
    assert_eq!((results.len() - refused.len(), refused.len()), (10, 190));
    assert_eq!(stock_of(&app, &a).await, 0);
    assert_eq!(count_rows(&app, "orders").await, 10);
    assert_eq!(count_rows(&app, "order_line_items").await, 10);
}

#[tokio::test]
async fn fifty_racing_retries_make_one_order_and_take_stock_once() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 100).await;
    let request = keyed_order_request("alice", &[(&a, 3)]);
    let results = concurrently(50, |_| {
        let (mut client, request) = (app.orders.clone(), request.clone());
        async move { client.create_order(request).await }
    })
    .await;
    let orders: Vec<_> = (results.into_iter())
        .map(|r| r.expect("every retry succeeds").into_inner().order.unwrap())
        .collect();
    assert!(orders.iter().all(|o| *o == orders[0]), "every reply is the same order");
    assert_eq!(count_rows(&app, "orders").await, 1);
    assert_eq!(count_rows(&app, "idempotency_keys").await, 1);
    assert_eq!(stock_of(&app, &a).await, 97);
}

#[tokio::test]
async fn twenty_racing_cancels_put_the_stock_back_once() {
    let app = spawn_app().await;
    let (a, b) = (product_id(&app, "A", 10).await, product_id(&app, "B", 5).await);
    let order = place_order(&app, "alice", &[(&a, 3), (&b, 2)]).await;
    let results = concurrently(20, |i| {
        let (mut client, request) = (
            app.orders.clone(),
            cancel_request(&order.order_id, "alice", &format!("r{i}")),
        );
        async move { client.cancel_order(request).await }
    })
    .await;
    let cancelled: Vec<_> = (results.into_iter())
        .map(|r| r.expect("every cancel succeeds").into_inner().order.unwrap())
        .collect();
    assert!(cancelled.iter().all(|o| o.state() == OrderState::Cancelled));
    assert!(
        cancelled.iter().all(|o| *o == cancelled[0]),
        "all see the one cancellation"
    );
    assert_eq!(get_order(&app, &order.order_id).await, cancelled[0]);
    assert_eq!(stocks(&app, &[&a, &b]).await, [10, 5]);
}

#[tokio::test]
async fn a_cancel_racing_a_ship_has_exactly_one_winner_and_stock_agrees() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 100).await;
    let mut placed = Vec::new();
    for i in 0..10 {
        placed.push(place_order(&app, &format!("c{i}"), &[(&a, 2)]).await.order_id);
    }
    // Each order gets one cancel and one ship, all twenty calls at once.
    let outcomes = concurrently(20, |i| {
        let (mut client, id, customer) = (app.orders.clone(), placed[i / 2].clone(), format!("c{}", i / 2));
        async move {
            let result = if i % 2 == 0 {
                client
                    .cancel_order(cancel_request(&id, &customer, ""))
                    .await
                    .map(|r| r.into_inner().order)
            } else {
                let request = proto::ShipOrderRequest { order_id: id };
                client.ship_order(request).await.map(|r| r.into_inner().order)
            };
            result.map(Option::unwrap)
        }
    })
    .await;
    let mut still_taken = 0;
    for (id, pair) in placed.iter().zip(outcomes.chunks(2)) {
        let (cancel, ship) = (&pair[0], &pair[1]);
        let stored = get_order(&app, id).await;
        let (winner, loser, reason) = match stored.state() {
            OrderState::Cancelled => (cancel, ship, "ORDER_NOT_SHIPPABLE"),
            OrderState::Shipped => (ship, cancel, "ORDER_NOT_CANCELLABLE"),
            other => panic!("order {id} is {other:?} after the race"),
        };
        assert_eq!(winner.as_ref().expect("the winner succeeds"), &stored);
        assert_error(loser.as_ref().unwrap_err(), Code::FailedPrecondition, reason);
        still_taken += if stored.state() == OrderState::Shipped { 2 } else { 0 };
    }
    assert_eq!(stock_of(&app, &a).await, 100 - still_taken);
}

#[tokio::test]
async fn a_deadlock_is_retried_inside_the_server_and_the_call_succeeds() {
    let app = spawn_app().await;
    let mut ids = [product_id(&app, "A", 10).await, product_id(&app, "B", 10).await];
    ids.sort_by_key(|id| Uuid::parse_str(id).unwrap());
    let [low, high] = ids;
    // The server locks products in ascending id order: `low`, then `high`.
    // We hold `high`, let the server take `low` and wait for `high`, then
    // ask for `low`: a cycle. Our session waits longer before checking for
    // deadlocks, so the server's transaction is the one PostgreSQL aborts.
    let mut rival = app.connect().await;
    let hold = format!("SET deadlock_timeout = '10s'; BEGIN; SELECT 1 FROM products WHERE id = '{high}' FOR UPDATE");
    rival.batch_execute(&hold).await.unwrap();
    let request = order_request("alice", &[(&high, 1), (&low, 1)]);
    let (mut client, sent) = (app.orders.clone(), request.clone());
    let call = tokio::spawn(async move { client.create_order(sent).await });
    within(5, wait_for_lock_waiters(&app.db_url, 1)).await;
    let take_low = format!("SELECT 1 FROM products WHERE id = '{low}' FOR UPDATE");
    within(10, rival.batch_execute(&take_low))
        .await
        .expect("our session gets the lock: the server's transaction was the deadlock's victim");
    tokio::time::sleep(Duration::from_millis(100)).await;
    rival.batch_execute("ROLLBACK").await.unwrap();

    let order = within(10, call).await.unwrap().expect("the retried call succeeds");
    assert_eq!(order.into_inner().order.unwrap().state(), OrderState::Placed);
    assert_eq!(stocks(&app, &[&low, &high]).await, [9, 9]);
    assert_eq!(count_rows(&app, "orders").await, 1);
}
