//! Database faults under load: a commit whose reply is lost, connections
//! killed by the server, and PostgreSQL crashing and coming back. In every
//! case no acknowledged order is lost, no `request_id` makes two orders,
//! callers get UNAVAILABLE (retryable) rather than INTERNAL or a hang, and
//! the service recovers by itself.

use std::time::Duration;

use orders::proto::OrderState;
use tokio::{sync::watch, time::Instant};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{
    api_calls::{get_order, place_order, product_id, stock_of, stocks, try_create_order},
    app::{TestApp, spawn_app, spawn_app_in},
    assertions::assert_error,
    cluster::PrivateCluster,
    direct_sql::{count_rows, query_n, query_n_on},
    load::{Attempt, start_order_load},
    proxy::FaultProxy,
    requests::{keyed_order_request, order_request},
    test_database::TestDatabase,
    timing::{eventually, within},
};

const STOCK: i64 = 1_000_000;

#[tokio::test]
async fn a_lost_reply_after_the_commit_is_unavailable_and_the_retry_returns_the_order() {
    let database = TestDatabase::create().await;
    let upstream = database.admin_url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let proxy = FaultProxy::start(upstream.parse().expect("a host:port URL")).await;
    let via_proxy = proxy.url_for(&database.url);
    let app = spawn_app_in(database, |s| s.database.database_url = Some(via_proxy.into())).await;
    let a = product_id(&app, "A", 10).await;
    let request = keyed_order_request("alice", &[(&a, 3)]);

    // CreateOrder is one statement, its own transaction: the reply carrying
    // its outcome comes after the commit.
    proxy.lose_reply_containing(b"placed");
    let status = try_create_order(&app, request.clone()).await.unwrap_err();
    assert_eq!(proxy.lost_replies(), 1);
    assert_error(&status, Code::Unavailable, "DATABASE_UNAVAILABLE");
    // The transaction did commit: the order and its stock change are there.
    assert_eq!((count_rows(&app, "orders").await, stock_of(&app, &a).await), (1, 7));

    let retried = try_create_order(&app, request).await.expect("the retry succeeds");
    assert_eq!(retried.state(), OrderState::Placed);
    assert_eq!(get_order(&app, &retried.order_id).await, retried, "the committed order");
    assert_eq!((count_rows(&app, "orders").await, stock_of(&app, &a).await), (1, 7));
}

#[tokio::test]
async fn killed_connections_fail_at_most_one_call_each_then_service_is_normal() {
    let app = spawn_app().await;
    let products = products(&app, 4).await;
    let (stop, stopped) = watch::channel(false);
    let load = start_order_load(&app.orders, &products, 8, Duration::from_secs(3), stopped);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut admin = app.connect().await;
    let kill = "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                WHERE datname = current_database() AND application_name = 'orders'";
    let killed = query_n_on(&mut admin, kill).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.send(true).unwrap();
    let attempts = within(10, load).await.unwrap();

    assert!(killed >= 1, "the service had connections to kill");
    let failed: Vec<&Attempt> = attempts.iter().filter(|a| a.result.is_err()).collect();
    assert!(failed.iter().all(|a| a.code() == Code::Unavailable), "{failed:#?}");
    assert!(
        failed.len() as i64 <= killed,
        "{} failures for {killed} killed connections",
        failed.len()
    );
    for i in 0..10 {
        place_order(&app, &format!("after-{i}"), &[(&products[0], 1)]).await;
    }
    assert_consistent(&app, &products, &attempts).await;
}

#[tokio::test]
async fn a_crash_under_load_loses_no_acknowledged_order_and_recovers_without_restart() {
    let cluster = PrivateCluster::start().await;
    let app = spawn_app_in(cluster.database().await, |_| {}).await;
    let products = products(&app, 3).await;
    let deadline = Duration::from_secs(2);
    let (stop, stopped) = watch::channel(false);
    let load = start_order_load(&app.orders, &products, 6, deadline, stopped);
    tokio::time::sleep(Duration::from_millis(700)).await;

    cluster.crash().await;
    let down = Instant::now();
    eventually(5, "NOT_SERVING", async || {
        health(&app).await == Some(ServingStatus::NotServing)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let restarting = Instant::now();
    cluster.restart().await;
    let up = Instant::now();
    eventually(5, "serving orders again", async || {
        try_create_order(&app, order_request("probe", &[(&products[0], 1)]))
            .await
            .is_ok()
    })
    .await;
    let recovered = up.elapsed();
    eventually(5, "SERVING", async || {
        health(&app).await == Some(ServingStatus::Serving)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(true).unwrap();
    let attempts = within(15, load).await.unwrap();

    assert!(
        recovered <= Duration::from_secs(5),
        "took {recovered:?} after the restart"
    );
    for attempt in &attempts {
        // Nothing hangs past its deadline (plus scheduling slack), nothing is INTERNAL.
        assert!(attempt.elapsed < deadline + Duration::from_millis(300), "{attempt:?}");
        assert!(matches!(attempt.code(), Code::Ok | Code::Unavailable), "{attempt:?}");
    }
    // Calls made while the server was down failed fast.
    let during: Vec<&Attempt> = (attempts.iter())
        .filter(|a| a.started > down && a.finished() < restarting)
        .collect();
    assert!(!during.is_empty());
    assert!(
        during
            .iter()
            .all(|a| a.code() == Code::Unavailable && a.elapsed < Duration::from_millis(500))
    );
    assert!(attempts.iter().any(|a| a.started > up && a.result.is_ok()));
    assert_consistent(&app, &products, &attempts).await;
}

/// `n` products with plenty of stock.
async fn products(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(product_id(app, &format!("P{i}"), STOCK).await);
    }
    ids
}

async fn health(app: &TestApp) -> Option<ServingStatus> {
    let request = HealthCheckRequest { service: String::new() };
    let response = app.health.clone().check(request).await.ok()?;
    Some(response.into_inner().status())
}

/// Every acknowledged order exists exactly as acknowledged, no request made
/// two orders, and the stock agrees with the orders stored.
async fn assert_consistent(app: &TestApp, products: &[String], attempts: &[Attempt]) {
    let mut acknowledged = std::collections::HashMap::new();
    for attempt in attempts {
        if let Ok(order) = &attempt.result {
            let first = acknowledged.entry(&attempt.request_id).or_insert(order);
            assert_eq!(first.order_id, order.order_id, "one request_id, one order");
        }
    }
    for order in acknowledged.values() {
        assert_eq!(&&get_order(app, &order.order_id).await, order);
    }
    // Each order placed with a request_id stores its key in its transaction,
    // and a key cannot be stored twice: as many keys as orders means no
    // request made two. (The `after-` and `probe` orders carry no key.)
    let keyed = "SELECT count(*) AS n FROM orders WHERE customer_id LIKE 'load-%'";
    assert_eq!(query_n(app, keyed).await, count_rows(app, "idempotency_keys").await);
    assert!(query_n(app, keyed).await >= acknowledged.len() as i64);
    let ordered = "SELECT coalesce(sum(quantity), 0)::bigint AS n FROM order_line_items";
    let stock: i64 = stocks(app, &products.iter().map(String::as_str).collect::<Vec<_>>())
        .await
        .iter()
        .sum();
    assert_eq!(stock + query_n(app, ordered).await, STOCK * products.len() as i64);
}
