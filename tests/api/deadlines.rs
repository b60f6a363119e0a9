//! Deadlines: a call that cannot finish in time ends at its deadline, whether
//! the client set the deadline (`grpc-timeout`) or the server's
//! `--request-timeout` did, and its SQL stops too: no session is left
//! waiting or idle in a transaction, and nothing is stored.
//!
//! The server answers DEADLINE_EXCEEDED at the deadline. A tonic client
//! also runs its own timer for the same deadline, and when that fires first
//! it reports CANCELLED ("Timeout expired"), tonic's mapping of a client-side
//! timeout; so with a client deadline either status is the right answer.

use std::time::Duration;

use diesel_async::SimpleAsyncConnection;
use tokio::time::Instant;
use tonic::Code;

use crate::{
    api_calls::{product_id, stock_of, try_restock},
    app::{TestApp, spawn_app, spawn_app_with},
    assertions::assert_error,
    direct_sql::{count_rows, lock_product, query_n},
    requests::{keyed_order_request, request_id},
    timing::{eventually, within},
};

#[tokio::test]
async fn a_client_deadline_ends_the_call_and_its_sql() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 5).await;
    let order = keyed_order_request("alice", &[(&a, 2)]);
    let mut request = tonic::Request::new(order);
    request.set_timeout(Duration::from_millis(300));
    let mut client = app.orders.clone();
    let call = async move { client.create_order(request).await.map(drop) };
    let status = assert_deadline_stops_the_work(&app, &a, Duration::from_millis(300), call).await;
    if status.code() == Code::Cancelled && status.message() == "Timeout expired" {
        return; // tonic's own timer won the race against the server's answer
    }
    assert_error(&status, Code::DeadlineExceeded, "DEADLINE_EXCEEDED");
}

#[tokio::test]
async fn the_server_deadline_ends_the_call_and_its_sql() {
    let app = spawn_app_with(|s| s.server.request_timeout = Duration::from_millis(300)).await;
    let a = product_id(&app, "A", 5).await;
    let restock = async { try_restock(&app, &a, 1, &request_id()).await.map(drop) };
    let status = assert_deadline_stops_the_work(&app, &a, Duration::from_millis(300), restock).await;
    assert_error(&status, Code::DeadlineExceeded, "DEADLINE_EXCEEDED");
}

/// With product `product_id` (stock 5) locked, `call` must fail about
/// `deadline` after it starts; then no session of the service may still
/// wait on the lock or sit in a transaction, and once the lock is gone
/// nothing may have changed. Returns the call's status.
async fn assert_deadline_stops_the_work(
    app: &TestApp,
    product_id: &str,
    deadline: Duration,
    call: impl Future<Output = Result<(), tonic::Status>>,
) -> tonic::Status {
    let mut lock = lock_product(&app.db_url, product_id).await;
    let started = Instant::now();
    let status = within(5, call).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= deadline && elapsed < deadline * 2,
        "answered after {elapsed:?}"
    );

    let busy = "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                AND application_name = 'orders' \
                AND (wait_event_type = 'Lock' OR state LIKE 'idle in transaction%')";
    eventually(1, "the call's SQL stopped", async || query_n(app, busy).await == 0).await;
    lock.batch_execute("ROLLBACK").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stock_of(app, product_id).await, 5);
    for table in ["orders", "order_line_items", "idempotency_keys"] {
        assert_eq!(count_rows(app, table).await, 0, "{table}");
    }
    status
}
