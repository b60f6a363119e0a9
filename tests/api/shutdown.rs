//! Graceful shutdown with calls in flight, in-process and as the real binary
//! receiving SIGTERM: health turns NOT_SERVING at once (and open Watch
//! streams end), in-flight calls still complete OK, new calls are refused,
//! and the server stops within its drain timeout.

use std::{
    net::SocketAddr,
    process::{Command, Stdio},
    time::Duration,
};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orders::proto::{self, catalog_service_client::CatalogServiceClient, order_service_client::OrderServiceClient};
use tokio::{process::Child, task::JoinHandle, time::Instant};
use tonic::{Code, Status, Streaming, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::{
    api_calls::product_id,
    app::spawn_app_with,
    direct_sql::{lock_product, query_n_on, wait_for_lock_waiters},
    local_machine::free_port,
    requests::{order_request, product_request},
    test_database::TestDatabase,
    timing::{eventually, within},
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
    let drain_timeout = Duration::from_secs(3);
    let (mut server, addr) = start_the_binary(&database.url);
    let channel = within(30, connect_when_listening(addr)).await;
    let id = create_a_product_of_100(&channel).await;
    let mut statuses = watch_health_while_serving(&channel).await;
    let (mut lock, in_flight) = eight_orders_stuck_behind_a_lock(&channel, &database.url, &id).await;

    let signalled = Instant::now();
    let pid = server.id().unwrap().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    health_turns_not_serving_and_the_watch_ends(&mut statuses).await;
    new_calls_and_connections_are_refused(&channel, addr).await;

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

/// Starts `orders serve` on a free port with a drain timeout of 3 s, against
/// the database at `database_url`; returns the process and its address.
fn start_the_binary(database_url: &str) -> (Child, SocketAddr) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders"))
        // Events and notifications are tested in events.rs and notifications.rs.
        .env("ORDERS_OUTBOX_RELAY", "false")
        .env("ORDERS_SERVICES", "orders")
        .env("ORDERS_METRICS_ADDR", "")
        .args(["serve", "--addr", &addr.to_string(), "--drain-timeout", "3s"])
        .args(["--health-check-interval", "200ms"])
        .env("DATABASE_URL", database_url)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    (server, addr)
}

/// Creates product A with 100 in stock and returns its id.
async fn create_a_product_of_100(channel: &Channel) -> String {
    let product = CatalogServiceClient::new(channel.clone())
        .create_product(product_request("A", (1, 0, "EUR"), 100))
        .await
        .unwrap();
    product.into_inner().product.unwrap().product_id
}

/// Opens a health Watch stream, which must say SERVING first.
async fn watch_health_while_serving(channel: &Channel) -> Streaming<HealthCheckResponse> {
    let watch = HealthCheckRequest { service: String::new() };
    let mut statuses = HealthClient::new(channel.clone())
        .watch(watch)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        statuses.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );
    statuses
}

/// Eight CreateOrder calls in flight, each stuck behind a row lock on the
/// product that the returned connection holds until `ROLLBACK`.
async fn eight_orders_stuck_behind_a_lock(
    channel: &Channel,
    database_url: &str,
    id: &str,
) -> (
    AsyncPgConnection,
    Vec<JoinHandle<Result<tonic::Response<proto::CreateOrderResponse>, Status>>>,
) {
    let lock = lock_product(database_url, id).await;
    let in_flight: Vec<_> = (0..8)
        .map(|i| {
            let mut client = OrderServiceClient::new(channel.clone());
            let request = order_request(&format!("c{i}"), &[(id, 1)]);
            tokio::spawn(async move { client.create_order(request).await })
        })
        .collect();
    within(5, wait_for_lock_waiters(database_url, 8)).await;
    (lock, in_flight)
}

/// After SIGTERM, the Watch stream says NOT_SERVING at once, then ends.
async fn health_turns_not_serving_and_the_watch_ends(statuses: &mut Streaming<HealthCheckResponse>) {
    let next = within(1, statuses.message()).await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing, "NOT_SERVING at once");
    assert_eq!(
        within(1, statuses.message()).await.unwrap(),
        None,
        "then the watch ends"
    );
}

/// New calls are refused: on the open connection (its client sees the
/// server's GOAWAY; tonic reports that as CANCELLED "connection closed"),
/// and no new connection is accepted. Health says NOT_SERVING a moment
/// before the server stops taking calls, so a call sent in between is still
/// answered (here INVALID_ARGUMENT, by the handler): poll.
async fn new_calls_and_connections_are_refused(channel: &Channel, addr: SocketAddr) {
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
}

/// A channel to `addr`, once the server there accepts connections.
async fn connect_when_listening(addr: SocketAddr) -> Channel {
    loop {
        match Channel::from_shared(format!("http://{addr}")).unwrap().connect().await {
            Ok(channel) => return channel,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
