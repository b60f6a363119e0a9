//! Graceful shutdown with calls in flight, in-process and as the real binary
//! receiving SIGTERM: health turns NOT_SERVING at once (and open Watch
//! streams end), in-flight calls still complete OK, new calls are refused,
//! and the server stops within its drain timeout.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orders::proto::{self, catalog_service_client::CatalogServiceClient, order_service_client::OrderServiceClient};
use tokio::time::Instant;
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::{
    cluster::free_port,
    helpers::{TestDatabase, spawn_app_with},
    support::*,
};

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
    let mut lock = lock_product(&app.db_url, &id).await;
    let mut catalog = app.catalog.clone();
    let request = proto::RestockProductRequest {
        product_id: id.clone(),
        quantity: 4,
        request_id: String::new(),
    };
    let in_flight = tokio::spawn(async move { catalog.restock_product(request).await });
    within(5, wait_for_lock_waiters(&app.db_url, 1)).await;

    app.begin_shutdown();
    let next = within(5, statuses.message()).await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    // Then the Watch stream ends, so that it does not hold up the drain.
    assert_eq!(within(5, statuses.message()).await.unwrap(), None);

    lock.batch_execute("ROLLBACK").await.unwrap();
    let restocked = within(5, in_flight)
        .await
        .unwrap()
        .expect("the in-flight call completes OK");
    assert_eq!(restocked.into_inner().product.unwrap().stock, 5);
    // Well within the drain timeout of 3 s: nothing else is in flight.
    within(1, app.shutdown()).await.expect("a clean shutdown");
    assert!(
        app.catalog
            .clone()
            .get_product(proto::GetProductRequest { product_id: id })
            .await
            .is_err()
    );
}

/// The real binary under load, stopped the way an orchestrator stops it.
#[tokio::test]
async fn sigterm_under_load_drains_in_flight_calls_and_exits_within_the_drain_timeout() {
    let database = TestDatabase::create().await;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let drain_timeout = Duration::from_secs(3);
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"))
        .args(["serve", "--addr", &addr.to_string(), "--drain-timeout", "3s"])
        .args(["--health-check-interval", "200ms"])
        .env("DATABASE_URL", &database.url)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let channel = within(30, connect_when_listening(addr)).await;
    let (mut catalog, mut health) = (
        CatalogServiceClient::new(channel.clone()),
        HealthClient::new(channel.clone()),
    );
    let product = catalog
        .create_product(product_request("A", (1, 0, "EUR"), 100))
        .await
        .unwrap();
    let id = product.into_inner().product.unwrap().product_id;
    let watch = HealthCheckRequest { service: String::new() };
    let mut statuses = health.watch(watch).await.unwrap().into_inner();
    assert_eq!(
        statuses.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );

    // Eight calls in flight, each stuck behind a row lock we hold.
    let mut lock = lock_product(&database.url, &id).await;
    let in_flight: Vec<_> = (0..8)
        .map(|i| {
            let mut client = OrderServiceClient::new(channel.clone());
            let request = order_request(&format!("c{i}"), &[(&id, 1)]);
            tokio::spawn(async move { client.create_order(request).await })
        })
        .collect();
    within(5, wait_for_lock_waiters(&database.url, 8)).await;

    let signalled = Instant::now();
    let pid = server.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let next = within(1, statuses.message()).await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing, "NOT_SERVING at once");
    assert_eq!(
        within(1, statuses.message()).await.unwrap(),
        None,
        "then the watch ends"
    );
    // New calls are refused: on the open connection (its client sees the
    // server's GOAWAY; tonic reports that as CANCELLED "connection closed"),
    // and no new connection is accepted. Health says NOT_SERVING a moment
    // before the server stops taking calls, so a call sent in between is
    // still answered (here INVALID_ARGUMENT, by the handler): poll.
    let late = OrderServiceClient::new(channel.clone());
    eventually(2, "new calls refused", || {
        let mut late = late.clone();
        async move {
            match within(2, late.get_order(proto::GetOrderRequest::default())).await {
                Err(refused) if matches!(refused.code(), Code::Unavailable | Code::Cancelled) => true,
                Err(answered) if answered.code() == Code::InvalidArgument => false,
                other => panic!("a late call got {other:?}"),
            }
        }
    })
    .await;
    let endpoint = Channel::from_shared(format!("http://{addr}")).unwrap();
    assert!(within(2, endpoint.connect()).await.is_err(), "no new connections");

    lock.batch_execute("ROLLBACK").await.unwrap();
    for call in in_flight {
        let order = within(5, call).await.unwrap().expect("an in-flight call completes OK");
        assert_eq!(order.into_inner().order.unwrap().state(), proto::OrderState::Placed);
    }
    let exit = within(5, server.wait()).await.unwrap();
    assert!(exit.success(), "exits cleanly: {exit:?}");
    assert!(
        signalled.elapsed() < drain_timeout,
        "exited {:?} after SIGTERM",
        signalled.elapsed()
    );
    let mut conn = AsyncPgConnection::establish(&database.url).await.unwrap();
    assert_eq!(query_n_on(&mut conn, "SELECT count(*) AS n FROM orders").await, 8);
}

/// A channel to `addr`, once the server there accepts connections.
async fn connect_when_listening(addr: std::net::SocketAddr) -> Channel {
    loop {
        match Channel::from_shared(format!("http://{addr}")).unwrap().connect().await {
            Ok(channel) => return channel,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
