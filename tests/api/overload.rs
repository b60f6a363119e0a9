//! Overload: with the concurrency limit at N, a burst of 20×N slow calls
//! gets N admitted and the rest refused at once with RESOURCE_EXHAUSTED;
//! health keeps answering meanwhile, and the admitted calls complete.

use std::time::Duration;

use diesel_async::SimpleAsyncConnection;
use orders::proto::order_service_client::OrderServiceClient;
use tokio::{sync::mpsc, time::Instant};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{
    api_calls::{product_id, stock_of},
    app::{connect_channel, spawn_app_with},
    assertions::assert_error,
    direct_sql::{count_rows, lock_product},
    requests::order_request,
    timing::within,
};

const LIMIT: usize = 4;
const BURST: usize = 20 * LIMIT;

#[tokio::test]
async fn a_burst_beyond_the_limit_is_refused_fast_and_the_admitted_calls_complete() {
    let app = spawn_app_with(|s| s.server.concurrency_limit = LIMIT).await;
    let a = product_id(&app, "A", 1000).await;
    // A held row lock makes every CreateOrder slow: it waits for the lock.
    let mut lock = lock_product(&app.db_url, &a).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(OrderServiceClient::new(connect_channel(app.addr).await));
    }
    let (done, mut results) = mpsc::unbounded_channel();
    for i in 0..BURST {
        let (mut client, done) = (clients[i % clients.len()].clone(), done.clone());
        let request = order_request(&format!("c{i}"), &[(&a, 1)]);
        tokio::spawn(async move {
            let started = Instant::now();
            let result = client.create_order(request).await;
            let _ = done.send((started.elapsed(), result));
        });
    }

    // Everything beyond the limit comes back quickly, while the rest wait.
    for _ in 0..BURST - LIMIT {
        let (elapsed, result) = within(5, results.recv()).await.unwrap();
        let status = result.expect_err("only refusals can finish while the lock is held");
        assert_error(&status, Code::ResourceExhausted, "CONCURRENCY_LIMIT_REACHED");
        assert!(elapsed < Duration::from_millis(500), "refused after {elapsed:?}");
    }
    let started = Instant::now();
    let health = app.health.clone().check(HealthCheckRequest::default()).await.unwrap();
    assert_eq!(health.into_inner().status(), ServingStatus::Serving);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "health answered promptly"
    );

    lock.batch_execute("ROLLBACK").await.unwrap();
    for _ in 0..LIMIT {
        let (_, result) = within(5, results.recv()).await.unwrap();
        result.expect("an admitted call completes");
    }
    assert_eq!(stock_of(&app, &a).await, 1000 - LIMIT as i64);
    assert_eq!(count_rows(&app, "orders").await, LIMIT as i64);
}
