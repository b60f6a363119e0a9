//! `/metrics`: the README's table is the catalogue the server describes;
//! after a scripted set of calls, a scrape of the real binary shows exact
//! counts under exact labels (the gRPC metrics of go-grpc-prometheus, the
//! orders' own), the gauges read at the scrape (pool, database, outbox),
//! and no metric the README does not list; and `promtool check metrics`
//! has nothing to say about the exposition.
//!
//! The real binary, not an in-process server: the recorder is one per
//! process, and the test binary's other servers would add to the counts.

pub mod exposition;

use orders::{monitoring::catalogue, proto};
use tonic::Code;

use crate::{
    app::{Bearer, Clients, connect_channel},
    binary::Server,
    local_machine::{free_port, repo},
    requests::{keyed_order_request, order_request, product_request},
    test_database::TestDatabase,
    tokens::{self, ALL_ROLES},
};
use exposition::{Exposition, scrape};

const TABLE_START: &str = "<!-- metrics-table:start -->";
const TABLE_END: &str = "<!-- metrics-table:end -->";

/// The README's rows: name, type and whether it is marked *later*.
fn readme_metrics() -> Vec<(String, String, bool)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find(TABLE_START).expect("README has the metrics table") + TABLE_START.len();
    let end = readme[start..].find(TABLE_END).expect("the table ends") + start;
    (readme[start..end].lines().filter(|l| l.starts_with("| `")))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_owned(),
                cells[1].to_owned(),
                cells[3].starts_with("*later*"),
            )
        })
        .collect()
}

#[test]
fn the_readme_table_lists_exactly_the_metrics_the_server_describes() {
    let documented: Vec<(String, String)> = (readme_metrics().into_iter())
        .filter(|(name, _, later)| !later && !name.starts_with("process_"))
        .map(|(name, kind, _)| (name, kind))
        .collect();
    let described: Vec<(String, String)> = (catalogue::ALL.iter())
        .map(|m| (m.name.to_owned(), format!("{:?}", m.kind).to_lowercase()))
        .collect();
    let missing: Vec<_> = described.iter().filter(|m| !documented.contains(m)).collect();
    let extra: Vec<_> = documented.iter().filter(|m| !described.contains(m)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not in the README: {missing:?}; not served: {extra:?}"
    );
}

/// The binary with authentication and metrics on, and clients of it.
struct Live {
    server: Server,
    addr: std::net::SocketAddr,
    metrics: String,
    clients: Clients,
    _database: TestDatabase,
}

async fn start_live() -> Live {
    let database = TestDatabase::create().await;
    let (addr, metrics) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let jwks = tokens::fixture("jwks.json");
    let args = [
        "--addr",
        &addr,
        "--metrics-addr",
        &metrics,
        "--db-pool-size",
        "3",
        "--auth-jwks",
        jwks.to_str().unwrap(),
        "--auth-issuer",
        tokens::ISSUER,
        "--auth-audience",
        tokens::AUDIENCE,
    ];
    let server = Server::start(&database.url, &args, &[("RUST_LOG", "info")]);
    server.wait_for_log("orders is serving gRPC").await;
    let addr = addr.parse().unwrap();
    let channel = connect_channel(addr).await;
    let token = tokens::sign(tokens::Signer::Ed25519, &tokens::claims("admin", &ALL_ROLES));
    Live {
        server,
        addr,
        metrics,
        clients: Clients::new(channel, Bearer::token(&token)),
        _database: database,
    }
}

const CREATE_ORDER: [(&str, &str); 3] = [
    ("grpc_method", "CreateOrder"),
    ("grpc_service", "orders.v1.OrderService"),
    ("grpc_type", "unary"),
];

fn with<'a>(labels: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    [labels, more].concat()
}

#[tokio::test]
async fn a_scrape_after_scripted_calls_shows_exact_counts() {
    let live = start_live().await;
    let (mut catalog, mut orders) = (live.clients.catalog.clone(), live.clients.orders.clone());
    let product = catalog
        .create_product(product_request("M-1", (2, 0, "EUR"), 5))
        .await
        .unwrap();
    let product = product.into_inner().product.unwrap().product_id;
    // 3 orders placed (one of them sent twice: a replay), 1 short of stock.
    let keyed = keyed_order_request("alice", &[(&product, 1)]);
    let mut placed = Vec::new();
    for request in [
        keyed.clone(),
        keyed,
        order_request("bob", &[(&product, 1)]),
        order_request("carol", &[(&product, 2)]),
    ] {
        placed.push(
            orders
                .create_order(request)
                .await
                .unwrap()
                .into_inner()
                .order
                .unwrap()
                .order_id,
        );
    }
    let short = orders
        .create_order(order_request("dave", &[(&product, 9)]))
        .await
        .unwrap_err();
    assert_eq!(short.code(), Code::FailedPrecondition);
    let missing = proto::GetOrderRequest {
        order_id: uuid::Uuid::now_v7().to_string(),
    };
    assert_eq!(orders.get_order(missing).await.unwrap_err().code(), Code::NotFound);
    let ship = proto::ShipOrderRequest {
        order_id: placed[2].clone(),
    };
    orders.ship_order(ship.clone()).await.unwrap();
    orders.ship_order(ship).await.unwrap(); // already shipped: no second change
    let anonymous = Clients::new(connect_channel(live.addr).await, Bearer::default());
    let refused = anonymous
        .catalog
        .clone()
        .list_products(proto::ListProductsRequest::default())
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::Unauthenticated);

    let scraped = scrape(&live.metrics).await;
    assert_calls(&scraped);
    assert_orders(&scraped);
    assert_gauges(&scraped);
    assert_everything_is_documented(&scraped);
    exposition::assert_promtool_accepts(&scraped.text).await;
    live.server.stop().await;
}

fn assert_calls(scraped: &Exposition) {
    let handled = |code| with(&CREATE_ORDER, &[("grpc_code", code)]);
    assert_eq!(scraped.value("grpc_server_started_total", &CREATE_ORDER), 5.0);
    assert_eq!(scraped.value("grpc_server_msg_received_total", &CREATE_ORDER), 5.0);
    assert_eq!(scraped.value("grpc_server_handled_total", &handled("OK")), 4.0);
    assert_eq!(
        scraped.value("grpc_server_handled_total", &handled("FailedPrecondition")),
        1.0
    );
    assert_eq!(scraped.value("grpc_server_msg_sent_total", &CREATE_ORDER), 4.0);
    assert_eq!(scraped.value("grpc_server_handling_seconds_count", &CREATE_ORDER), 5.0);
    let infinite = with(&CREATE_ORDER, &[("le", "+Inf")]);
    assert_eq!(scraped.value("grpc_server_handling_seconds_bucket", &infinite), 5.0);
    let get_order = [
        ("grpc_method", "GetOrder"),
        ("grpc_service", "orders.v1.OrderService"),
        ("grpc_type", "unary"),
        ("grpc_code", "NotFound"),
    ];
    assert_eq!(scraped.value("grpc_server_handled_total", &get_order), 1.0);
    let list = [
        ("grpc_method", "ListProducts"),
        ("grpc_service", "orders.v1.CatalogService"),
        ("grpc_type", "unary"),
        ("grpc_code", "Unauthenticated"),
    ];
    assert_eq!(scraped.value("grpc_server_handled_total", &list), 1.0);
    assert_eq!(
        scraped.value("orders_unauthenticated_calls_total", &[("reason", "TOKEN_MISSING")]),
        1.0
    );
}

fn assert_orders(scraped: &Exposition) {
    let state = |to_state| scraped.value("orders_order_state_changes_total", &[("to_state", to_state)]);
    assert_eq!(state("placed"), 3.0);
    assert_eq!(state("shipped"), 1.0);
    assert_eq!(scraped.value("orders_stockouts_total", &[]), 1.0);
    assert_eq!(
        scraped.value("orders_idempotent_replays_total", &[("grpc_method", "CreateOrder")]),
        1.0
    );
    // Five placements, and the one read that filled the price cache.
    let operation = [("operation", "CreateOrder"), ("service", "orders")];
    assert_eq!(scraped.value("orders_db_statement_seconds_count", &operation), 6.0);
}

fn assert_gauges(scraped: &Exposition) {
    let orders = [("service", "orders")];
    assert_eq!(scraped.value("orders_db_pool_max_connections", &orders), 3.0);
    // The health probe or the job worker may hold one now and then.
    assert!(scraped.value("orders_db_pool_in_use_connections", &orders) <= 1.0);
    assert_eq!(scraped.value("orders_db_pool_waiters", &orders), 0.0);
    assert_eq!(scraped.value("orders_database_up", &orders), 1.0);
    // The relay is off: the product, 3 orders and a shipment wait.
    assert_eq!(scraped.value("orders_outbox_pending_events", &[]), 5.0);
    assert!(scraped.value("orders_outbox_oldest_pending_age_seconds", &[]) > 0.0);
    let build = scraped.series("orders_build_info");
    assert_eq!(build.len(), 1);
    assert_eq!(build[0].1, 1.0);
    assert!(
        build[0]
            .0
            .contains(&("version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()))
    );
    assert!(scraped.value("process_resident_memory_bytes", &[]) > 0.0);
    assert!(scraped.value("process_start_time_seconds", &[]) > 1.7e9);
}

fn assert_everything_is_documented(scraped: &Exposition) {
    let documented: Vec<String> = readme_metrics().into_iter().map(|(name, _, _)| name).collect();
    let served = scraped.families();
    let process_extras = [
        "process_max_fds",
        "process_virtual_memory_bytes",
        "process_virtual_memory_max_bytes",
        "process_threads",
    ];
    let undocumented: Vec<&String> = (served.iter())
        .filter(|name| !documented.contains(name) && !process_extras.contains(&name.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the README: {undocumented:?}"
    );
}

#[tokio::test]
async fn other_paths_are_not_found_and_an_empty_address_turns_metrics_off() {
    let live = start_live().await;
    let response = exposition::get(&live.metrics, "/").await;
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    live.server.stop().await;
    let database = TestDatabase::create().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let server = Server::start(
        &database.url,
        &["--addr", &addr, "--metrics-addr", ""],
        &[("RUST_LOG", "info")],
    );
    server.wait_for_log("orders is serving gRPC").await;
    assert!(!server.log().contains("serving metrics"), "{}", server.log());
    server.stop().await;
}
