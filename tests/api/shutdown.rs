//! Graceful shutdown with a call in flight: health turns NOT_SERVING at
//! once, the in-flight call still completes OK, and the server then stops
//! within its drain timeout.

use std::time::Duration;

use diesel_async::SimpleAsyncConnection;
use orders::proto;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{helpers::spawn_app_with, support::*};

#[tokio::test]
async fn in_flight_calls_finish_after_shutdown_starts_and_health_says_not_serving() {
    let mut app = spawn_app_with(|s| s.server.drain_timeout = Duration::from_secs(3)).await;
    let id = product_id(&app, "A", 1).await;
    let watch = HealthCheckRequest { service: String::new() };
    let mut statuses = app.health.clone().watch(watch).await.unwrap().into_inner();
    assert_eq!(
        statuses.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );

    // Hold the product's row lock so that a restock is stuck in flight.
    let mut lock = lock_product(&app, &id).await;
    let mut catalog = app.catalog.clone();
    let request = proto::RestockProductRequest {
        product_id: id.clone(),
        quantity: 4,
        request_id: String::new(),
    };
    let in_flight = tokio::spawn(async move { catalog.restock_product(request).await });
    within(5, wait_for_lock_waiters(&app, 1)).await;

    app.begin_shutdown();
    let next = within(5, statuses.message()).await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);

    lock.batch_execute("ROLLBACK").await.unwrap();
    let restocked = within(5, in_flight)
        .await
        .unwrap()
        .expect("the in-flight call completes OK");
    assert_eq!(restocked.into_inner().product.unwrap().stock, 5);
    // The open Watch stream is itself a call in flight: the drain timeout
    // bounds how long it can hold the server up.
    within(5, app.shutdown()).await.expect("a clean shutdown");
    assert!(
        app.catalog
            .clone()
            .get_product(proto::GetProductRequest { product_id: id })
            .await
            .is_err()
    );
}
