//! The real binary as the trace tests run it: the orders service (with its
//! relay) and the notifications service as two processes, on the test's
//! own NATS prefix, SMTP sink and OTLP receiver; and what a test sends and
//! reads around them.

use std::{collections::HashMap, net::SocketAddr};

use orders::proto::{self, catalog_service_client::CatalogServiceClient};

use super::receiver::Receiver;
use crate::{
    app::connect_channel, binary::Server, local_machine::free_port, nats::TestEvents, requests::product_request,
    smtp::SmtpSink,
};

/// The `OTEL_SERVICE_NAME` of the notifications process.
pub const NOTIFICATIONS_SERVICE: &str = "orders-notifications";

/// The orders service alone, logging JSON, with its relay on `events`,
/// exporting to `endpoint` (empty: traces off).
pub async fn start_orders(database_url: &str, events: &TestEvents, endpoint: &str) -> (Server, SocketAddr) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let env = [
        ("RUST_LOG", "info"),
        ("ORDERS_OUTBOX_RELAY", "true"),
        ("ORDERS_NATS_URL", events.url.as_str()),
        ("ORDERS_NATS_SUBJECT_PREFIX", events.prefix.as_str()),
        // Empty is off, as unset: whatever the machine's environment says.
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test"),
        // Batches every 100 ms rather than 5 s, so the test waits less.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let args = ["--addr", &addr.to_string(), "--log-format", "json"];
    let server = Server::start(database_url, &args, &env);
    server.wait_for_log("orders is serving gRPC").await;
    (server, addr)
}

/// The notifications service alone, named [`NOTIFICATIONS_SERVICE`].
pub async fn start_notifications(
    database_url: &str,
    events: &TestEvents,
    smtp: &SmtpSink,
    receiver: &Receiver,
) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let (endpoint, smtp_url) = (receiver.endpoint(), smtp.url());
    let env = [
        ("RUST_LOG", "info"),
        ("ORDERS_SERVICES", "notifications"),
        ("ORDERS_NOTIFICATIONS_DATABASE_URL", database_url),
        ("ORDERS_NATS_URL", events.url.as_str()),
        ("ORDERS_NATS_SUBJECT_PREFIX", events.prefix.as_str()),
        ("ORDERS_SMTP_URL", smtp_url.as_str()),
        ("OTEL_SERVICE_NAME", NOTIFICATIONS_SERVICE),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let server = Server::start(database_url, &["--addr", &addr, "--otlp-endpoint", &endpoint], &env);
    server.wait_for_log("consuming order events").await;
    server
}

/// A product with plenty of stock, created on the server at `addr`.
pub async fn create_product(addr: SocketAddr) -> proto::Product {
    let mut catalog = CatalogServiceClient::new(connect_channel(addr).await);
    let created = catalog
        .create_product(product_request("MUG", (12, 0, "EUR"), 100))
        .await;
    created.unwrap().into_inner().product.unwrap()
}

/// A W3C context of the test's own: (trace id, span id, `traceparent`).
pub fn test_context() -> (String, String, String) {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let (trace, span) = (hex(&rand::random::<[u8; 16]>()), hex(&rand::random::<[u8; 8]>()));
    let header = format!("00-{trace}-{span}-01");
    (trace, span, header)
}

/// The JSON log lines of `log` that are calls of `method`.
pub fn call_lines(log: &str, method: &str) -> Vec<HashMap<String, serde_json::Value>> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<HashMap<String, serde_json::Value>>(line).ok())
        .filter(|line| line.get("target").and_then(|t| t.as_str()) == Some("orders::call"))
        .filter(|line| line.get("method").and_then(|m| m.as_str()) == Some(method))
        .collect()
}

/// The headers of every message the test's stream holds, in stream order.
pub async fn stream_headers(events: &TestEvents) -> Vec<HashMap<String, String>> {
    let mut stream = events.jetstream.get_stream(events.stream_name()).await.unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut all = Vec::new();
    for sequence in 1..=last {
        let raw = stream.get_raw_message(sequence).await.unwrap();
        let headers = raw
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v[0].as_str().to_owned()));
        all.push(headers.collect());
    }
    all
}

/// A connection to the database at `url`.
pub async fn connect(url: &str) -> diesel_async::AsyncPgConnection {
    use diesel_async::AsyncConnection;
    diesel_async::AsyncPgConnection::establish(url).await.expect("connects")
}
