//! Scale-out (issue 18): several `orders serve` processes on one database
//! behind nginx and behind HAProxy, each configured by the file the project
//! ships (deploy/nginx/orders.conf, deploy/haproxy/orders.cfg). Calls
//! spread over every replica; a replica killed under load loses no
//! acknowledged order and leaves every failed call retryable by its
//! `request_id`; a rolling restart under load fails no call; tonic's own
//! balancing spreads calls too; `scripts/cluster` starts and stops the
//! whole thing; the configurations and Kubernetes manifests validate; two
//! replicas' relays and job workers publish each event and send each email
//! once; the README's retry policy names every method once.
//!
//! The real binary throughout: what is tested is how processes, load
//! balancers and signals behave together.

mod balancer;
mod callers;
mod client_side;
mod cluster_script;
mod deploy_files;
mod relay_and_jobs;
mod replicas;
mod service_config;

use std::collections::HashSet;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use orders::proto::{self, catalog_service_client::CatalogServiceClient, order_service_client::OrderServiceClient};
use tonic::{Code, transport::Channel};

use crate::{
    direct_sql::query_n_on,
    requests::{order_request, product_request},
    test_database::TestDatabase,
};
use balancer::{Balancer, Kind};
use callers::{Call, Callers, place};
use replicas::{Replica, start_replicas};

/// Stock enough for every test here: no call fails for want of it.
const STOCK: i64 = 1_000_000;

/// Three replicas on one database behind a load balancer, and a product
/// to order.
struct Shop {
    replicas: Vec<Replica>,
    balancer: Balancer,
    channel: Channel,
    product_id: String,
    database: TestDatabase,
}

impl Shop {
    async fn start(kind: Kind) -> Shop {
        let database = TestDatabase::create().await;
        let replicas = start_replicas(&database.url, 3).await;
        let addrs: Vec<_> = replicas.iter().map(|r| r.addr).collect();
        let balancer = Balancer::start(kind, &addrs).await;
        let channel = balancer.channel().await;
        let product = CatalogServiceClient::new(channel.clone())
            .create_product(product_request("MUG", (3, 0, "EUR"), STOCK))
            .await
            .expect("a product is created through the balancer");
        let product_id = product.into_inner().product.unwrap().product_id;
        Shop {
            replicas,
            balancer,
            channel,
            product_id,
            database,
        }
    }

    /// How many calls of `method` each replica answered OK.
    async fn answered(&self, method: &str) -> Vec<f64> {
        let mut counts = Vec::new();
        for replica in &self.replicas {
            counts.push(replica.answered(method).await);
        }
        counts
    }

    /// `SELECT count(*) …` on the shop's database.
    async fn count(&self, sql: &str) -> i64 {
        let mut conn = AsyncPgConnection::establish(&self.database.url).await.unwrap();
        query_n_on(&mut conn, sql).await
    }
}

#[tokio::test]
async fn calls_through_nginx_reach_every_replica_in_turn() {
    calls_reach_every_replica_in_turn(Kind::Nginx).await;
}

#[tokio::test]
async fn calls_through_haproxy_reach_every_replica_in_turn() {
    calls_reach_every_replica_in_turn(Kind::Haproxy).await;
}

#[tokio::test]
async fn a_replica_killed_under_load_behind_nginx_loses_no_acknowledged_order() {
    a_replica_killed_under_load_loses_no_acknowledged_order(Kind::Nginx).await;
}

#[tokio::test]
async fn a_replica_killed_under_load_behind_haproxy_loses_no_acknowledged_order() {
    a_replica_killed_under_load_loses_no_acknowledged_order(Kind::Haproxy).await;
}

#[tokio::test]
async fn a_rolling_restart_under_load_behind_nginx_fails_no_call() {
    a_rolling_restart_under_load_fails_no_call(Kind::Nginx).await;
}

#[tokio::test]
async fn a_rolling_restart_under_load_behind_haproxy_fails_no_call() {
    a_rolling_restart_under_load_fails_no_call(Kind::Haproxy).await;
}

/// Sequential CreateOrder and GetOrderHistory calls: round robin, so each
/// replica answers exactly a third of each.
async fn calls_reach_every_replica_in_turn(kind: Kind) {
    let shop = Shop::start(kind).await;
    let mut orders = OrderServiceClient::new(shop.channel.clone());
    let mut placed = Vec::new();
    for _ in 0..30 {
        let request = order_request("ada", &[(&shop.product_id, 1)]);
        placed.push(place(&orders, &request).await.expect("an order through the balancer"));
    }
    for _ in 0..30 {
        let history = proto::GetOrderHistoryRequest {
            customer_id: "ada".into(),
            ..Default::default()
        };
        orders.get_order_history(history).await.unwrap();
    }

    assert_eq!(
        shop.answered("CreateOrder").await,
        [10.0; 3],
        "{}",
        shop.balancer.logs()
    );
    assert_eq!(
        shop.answered("GetOrderHistory").await,
        [10.0; 3],
        "{}",
        shop.balancer.logs()
    );
    assert_eq!(shop.count("SELECT count(*) AS n FROM orders").await, 30);

    // Each page from another replica than the one before: the page token
    // one replica signed is good at every other (its key is in the database).
    placed.reverse();
    assert_eq!(
        walk_history(&shop.channel, "ada", 4).await,
        placed,
        "newest first, each once"
    );
}

/// Every order of `customer_id`, page by page, through `channel`.
async fn walk_history(channel: &Channel, customer_id: &str, page_size: i32) -> Vec<String> {
    let mut orders = OrderServiceClient::new(channel.clone());
    let (mut ids, mut page_token) = (Vec::new(), String::new());
    loop {
        let request = proto::GetOrderHistoryRequest {
            customer_id: customer_id.into(),
            page_size,
            page_token,
        };
        let page = orders.get_order_history(request).await.unwrap().into_inner();
        ids.extend(page.orders.into_iter().map(|o| o.order_id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}

/// Four callers; one replica gets SIGKILL; the other two serve on.
async fn a_replica_killed_under_load_loses_no_acknowledged_order(kind: Kind) {
    let mut shop = Shop::start(kind).await;
    let callers = Callers::start(&shop.channel, &shop.product_id, 4);
    callers.wait_for_more(40).await;
    shop.replicas[0].kill();
    // The other two serve on: orders keep being acknowledged.
    callers.wait_for_more(60).await;
    let calls = callers.stop().await;

    let failed: Vec<&Call> = calls.iter().filter(|c| c.outcome.is_err()).collect();
    // At most the calls in flight on the killed replica: one per caller.
    assert!(failed.len() <= 4, "{} failed\n{}", failed.len(), shop.balancer.logs());
    // UNAVAILABLE from the balancer's error reply; INTERNAL or UNKNOWN when
    // the replica died after its answer had begun (the balancer can only cut
    // it short: with an RST_STREAM, INTERNAL; by closing the connection, the
    // client's transport error, UNKNOWN; HAProxy does either).
    for call in &failed {
        let code = call.outcome.clone().unwrap_err();
        assert!(
            matches!(code, Code::Unavailable | Code::Internal | Code::Unknown),
            "{code:?}\n{}",
            shop.balancer.logs()
        );
    }
    let retried = retry_failed(&shop.channel, &failed).await;
    every_call_made_exactly_one_stored_order(&shop, &calls, retried).await;
}

/// Four callers; each replica in turn: SIGTERM, its exit, a new process
/// on the same port, SERVING on its own health service, the next.
async fn a_rolling_restart_under_load_fails_no_call(kind: Kind) {
    let mut shop = Shop::start(kind).await;
    let callers = Callers::start(&shop.channel, &shop.product_id, 4);
    callers.wait_for_more(20).await;
    for i in 0..shop.replicas.len() {
        shop.replicas[i].terminate().await;
        callers.wait_for_more(20).await;
        shop.replicas[i].start_again().await;
        callers.wait_for_more(20).await;
    }
    let calls = callers.stop().await;

    let failed: Vec<&Code> = calls.iter().filter_map(|c| c.outcome.as_ref().err()).collect();
    assert!(failed.is_empty(), "failed: {failed:?}\n{}", shop.balancer.logs());
    every_call_made_exactly_one_stored_order(&shop, &calls, Vec::new()).await;
    // Each restarted replica answered calls again (its counters restart).
    for count in shop.answered("CreateOrder").await {
        assert!(count > 0.0, "{:?}", shop.answered("CreateOrder").await);
    }
}

/// Sends each failed call again, same `request_id`, through `channel`; each
/// must now succeed. Returns the orders' ids.
async fn retry_failed(channel: &Channel, failed: &[&Call]) -> Vec<String> {
    let client = OrderServiceClient::new(channel.clone());
    let mut ids = Vec::new();
    for call in failed {
        ids.push(place(&client, &call.request).await.expect("the retry succeeds"));
    }
    ids
}

/// Every acknowledged order and every retried one is stored, each
/// `request_id` made exactly one order, and the stock says the same.
async fn every_call_made_exactly_one_stored_order(shop: &Shop, calls: &[Call], retried: Vec<String>) {
    let acknowledged = calls.iter().filter_map(|c| c.outcome.clone().ok());
    let ids: HashSet<String> = acknowledged.chain(retried).collect();
    assert_eq!(ids.len(), calls.len(), "one distinct order per request_id");
    let listed = ids.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(",");
    let stored = format!("SELECT count(*) AS n FROM orders WHERE id IN ({listed})");
    assert_eq!(shop.count(&stored).await, calls.len() as i64, "every order is stored");
    let all = shop.count("SELECT count(*) AS n FROM orders").await;
    assert_eq!(all, calls.len() as i64, "and no other order");
    let left = format!("SELECT stock AS n FROM products WHERE id = '{}'", shop.product_id);
    assert_eq!(shop.count(&left).await, STOCK - calls.len() as i64);
}
