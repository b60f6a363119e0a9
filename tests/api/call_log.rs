//! The call log, as the real binary writes it: every call to the catalog
//! and order services at INFO, health checks and reflection that succeed
//! only at DEBUG (target `orders::call::probe`), a probe that fails at INFO
//! like any other call; and every line is out by the time the process has
//! exited, though a thread of its own writes them.

use orders::proto::{
    GetOrderRequest, ListProductsRequest, catalog_service_client::CatalogServiceClient,
    order_service_client::OrderServiceClient,
};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::{app::connect_channel, binary::Server, local_machine::free_port, test_database::TestDatabase};

/// Three good health checks, one for a service that does not exist, a
/// GetOrder of an order that does not exist and a ListProducts, against the
/// binary logging at `rust_log`; its call lines.
async fn calls_logged_at(rust_log: &str) -> Vec<String> {
    let database = TestDatabase::create().await;
    let addr = format!("127.0.0.1:{}", free_port());
    let server = Server::start(&database.url, &["--addr", &addr], &[("RUST_LOG", rust_log)]);
    server.wait_for_log("orders is serving gRPC").await;
    let channel = connect_channel(addr.parse().unwrap()).await;
    let mut health = HealthClient::new(channel.clone());
    for _ in 0..3 {
        health
            .check(HealthCheckRequest { service: String::new() })
            .await
            .unwrap();
    }
    let unknown = HealthCheckRequest {
        service: "nope.v1.Nothing".into(),
    };
    assert_eq!(health.check(unknown).await.unwrap_err().code(), Code::NotFound);
    let missing = GetOrderRequest {
        order_id: uuid::Uuid::new_v4().to_string(),
    };
    let missing = OrderServiceClient::new(channel.clone()).get_order(missing).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);
    let listed = CatalogServiceClient::new(channel)
        .list_products(ListProductsRequest::default())
        .await;
    listed.unwrap();
    let log = server.stop().await;
    log.lines()
        .filter(|line| line.contains(" orders::call"))
        .map(str::to_owned)
        .collect()
}

/// `(level, target, method, code)` of a call line.
fn parts(line: &str) -> (String, String, String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let field = |name: &str| {
        let found = words.iter().find_map(|w| w.strip_prefix(&format!("{name}=")));
        found
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .trim_matches('"')
            .to_owned()
    };
    (
        words[1].to_owned(),
        words[2].trim_end_matches(':').to_owned(),
        field("method"),
        field("code"),
    )
}

fn line(level: &str, target: &str, method: &str, code: &str) -> (String, String, String, String) {
    (level.into(), target.into(), method.into(), code.into())
}

#[tokio::test]
async fn at_info_every_service_call_and_every_failed_probe_is_logged_and_good_probes_are_not() {
    let calls: Vec<_> = calls_logged_at("info").await.iter().map(|l| parts(l)).collect();
    assert_eq!(
        calls,
        [
            line("INFO", "orders::call", "/grpc.health.v1.Health/Check", "NOT_FOUND"),
            line("INFO", "orders::call", "/orders.v1.OrderService/GetOrder", "NOT_FOUND"),
            line("INFO", "orders::call", "/orders.v1.CatalogService/ListProducts", "OK"),
        ]
    );
}

#[tokio::test]
async fn good_probes_are_logged_when_their_target_is_at_debug() {
    let calls: Vec<_> = calls_logged_at("info,orders::call::probe=debug")
        .await
        .iter()
        .map(|l| parts(l))
        .collect();
    let probe = line("DEBUG", "orders::call::probe", "/grpc.health.v1.Health/Check", "OK");
    assert_eq!(calls[..3], [probe.clone(), probe.clone(), probe]);
    assert_eq!(calls.len(), 6, "{calls:?}");
}
