//! Traces: one order's life is one trace across the two services' real
//! processes, exported over OTLP to a receiver of the test's own
//! (`traces/receiver.rs`): CreateOrder's SERVER span under the caller's
//! `traceparent`, its database work and statement (the outbox commit), the
//! relay's publish, the notifications service's processing of the event
//! and the email's sending; the call's log line names the trace. An
//! outgoing call through `TraceClientLayer` parents the server's span
//! (`traces/client.rs`). Without an endpoint nothing is stored, sent or
//! exported; a collector that is down fails no call and is logged once.

mod client;
mod processes;
mod receiver;

use orders::proto::order_service_client::OrderServiceClient;
use receiver::{Received, Receiver, SpanKind};

use crate::{
    app::connect_channel, direct_sql::query_n_on, local_machine::free_port, nats::TestEvents, requests::order_request,
    smtp::SmtpSink, test_database::TestDatabase, timing::eventually,
};
use processes::{NOTIFICATIONS_SERVICE, call_lines, create_product, start_notifications, start_orders, test_context};

const CREATE_ORDER: &str = "/orders.v1.OrderService/CreateOrder";

#[tokio::test]
async fn one_trace_follows_an_order_from_create_order_to_its_email() {
    let (receiver, events, smtp) = (
        Receiver::start().await,
        TestEvents::new().await,
        SmtpSink::start(&[]).await,
    );
    let (orders_db, notifications_db) = (TestDatabase::create().await, TestDatabase::create_empty().await);
    let (orders, addr) = start_orders(&orders_db.url, &events, &receiver.endpoint()).await;
    let notifications = start_notifications(&notifications_db.url, &events, &smtp, &receiver).await;
    let mug = create_product(addr).await;
    let (trace, caller_span, traceparent) = test_context();
    let mut request = order_request("ada", &[(&mug.product_id, 1)]);
    request.customer_email = "ada@example.com".to_owned();
    let mut request = tonic::Request::new(request);
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    OrderServiceClient::new(connect_channel(addr).await)
        .create_order(request)
        .await
        .unwrap();

    smtp.wait_for(1, 30).await;
    // Each process exports on its own schedule: the email's span may come
    // before the publish span it descends from.
    let kinds = [
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
        SpanKind::Internal,
    ];
    eventually(30, "a span of each kind of the trace at the receiver", || async {
        let spans = receiver.spans();
        kinds
            .iter()
            .all(|kind| spans.iter().any(|s| s.trace_id == trace && s.kind == *kind))
    })
    .await;
    let spans: Vec<Received> = receiver.spans();
    let ours: Vec<&Received> = spans.iter().filter(|s| s.trace_id == trace).collect();
    let server = one(&ours, |s| s.name == "orders.v1.OrderService/CreateOrder");
    assert_server_span(server, &caller_span);
    let statement = one(&ours, |s| s.name == "SELECT place_order");
    assert_statement_span(statement, &ours, server);
    let subject = format!("{}.order.placed", events.prefix);
    let publish = one(&ours, |s| s.kind == SpanKind::Producer);
    assert_publish_span(publish, statement, &subject);
    let process = one(&ours, |s| s.kind == SpanKind::Consumer);
    assert_process_span(process, publish, &subject);
    let send = one(&ours, |s| s.name == "send email");
    assert_eq!(
        send.parent_span_id, process.span_id,
        "the email is sent under the processing"
    );
    assert_eq!(send.service, NOTIFICATIONS_SERVICE);
    assert_eq!(send.attribute("orders.email.kind"), "order_confirmation");
    // The order's event went out once, in this trace and no other.
    let publishes = spans
        .iter()
        .filter(|s| s.attribute("messaging.destination.name") == subject);
    assert_eq!(publishes.filter(|s| s.kind == SpanKind::Producer).count(), 1);

    let mut conn = processes::connect(&orders_db.url).await;
    let stored = format!(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'ORDER_CREATED' \
         AND trace_parent = '00-{trace}-{}-01' AND trace_state IS NULL",
        statement.span_id
    );
    assert_eq!(
        query_n_on(&mut conn, &stored).await,
        1,
        "the outbox row keeps the commit's context"
    );
    notifications.stop().await;
    let log = orders.stop().await;
    let line = call_lines(&log, CREATE_ORDER);
    assert_eq!(line.len(), 1, "{log}");
    assert_eq!(
        line[0]["trace_id"],
        trace.as_str(),
        "the call's log line names its trace"
    );
    assert_eq!(line[0]["span_id"], server.span_id.as_str());
    events.delete().await;
}

/// The only span of `spans` that `is`.
fn one<'a>(spans: &[&'a Received], is: impl Fn(&Received) -> bool) -> &'a Received {
    let found: Vec<&&Received> = spans.iter().filter(|s| is(s)).collect();
    assert_eq!(found.len(), 1, "{found:#?}\nin\n{spans:#?}");
    found[0]
}

fn assert_server_span(server: &Received, caller_span: &str) {
    assert_eq!(server.kind, SpanKind::Server);
    assert_eq!(
        server.parent_span_id, caller_span,
        "the caller's traceparent is the parent"
    );
    assert_eq!(server.service, "orders", "OTEL_SERVICE_NAME unset: the default");
    assert_eq!(server.resource["deployment.environment.name"], "test");
    assert_eq!(server.resource["service.version"], env!("CARGO_PKG_VERSION"));
    let rpc = ["rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code"].map(|k| server.attribute(k));
    assert_eq!(rpc, ["grpc", "orders.v1.OrderService", "CreateOrder", "0"]);
}

/// The statement's span: under a database span of the call, with its text
/// and not one of the order's values.
fn assert_statement_span(statement: &Received, ours: &[&Received], server: &Received) {
    assert_eq!(statement.kind, SpanKind::Client);
    let work = one(ours, |s| s.span_id == statement.parent_span_id);
    assert_eq!(work.parent_span_id, server.span_id, "the database work is the call's");
    assert_eq!(work.attribute("db.operation.name"), "CreateOrder");
    for span in [statement, work] {
        assert_eq!(span.attribute("db.system.name"), "postgresql");
    }
    assert!(!work.attribute("db.namespace").is_empty(), "{work:?}");
    let text = statement.attribute("db.query.text");
    assert!(text.contains("place_order($1, $2"), "{text}");
    for value in ["ada", "EUR", "London"] {
        assert!(!text.contains(value), "no bound value in the text: {text}");
    }
}

fn assert_publish_span(publish: &Received, statement: &Received, subject: &str) {
    assert_eq!(publish.name, format!("{subject} publish"));
    assert_eq!(
        publish.parent_span_id, statement.span_id,
        "published from the commit's context"
    );
    assert_eq!(publish.service, "orders");
    let keys = [
        "messaging.system",
        "messaging.destination.name",
        "messaging.operation.type",
    ];
    assert_eq!(keys.map(|k| publish.attribute(k)), ["nats", subject, "publish"]);
    assert_eq!(publish.attribute("messaging.message.id").len(), 36, "{publish:?}");
}

fn assert_process_span(process: &Received, publish: &Received, subject: &str) {
    assert_eq!(process.name, format!("{subject} process"));
    assert_eq!(
        process.parent_span_id, publish.span_id,
        "a child of the publish, across processes"
    );
    assert_eq!(process.service, NOTIFICATIONS_SERVICE);
    let keys = ["messaging.system", "messaging.operation.type", "messaging.message.id"];
    let message_id = publish.attribute("messaging.message.id");
    assert_eq!(keys.map(|k| process.attribute(k)), ["nats", "process", message_id]);
}

#[tokio::test]
async fn without_an_endpoint_no_context_is_stored_published_or_logged() {
    let events = TestEvents::new().await;
    let database = TestDatabase::create().await;
    let (orders, addr) = start_orders(&database.url, &events, "").await;
    let mug = create_product(addr).await;
    let (_, _, traceparent) = test_context();
    let mut request = tonic::Request::new(order_request("ada", &[(&mug.product_id, 1)]));
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    let mut client = OrderServiceClient::new(connect_channel(addr).await);
    let order = client.create_order(request).await.unwrap().into_inner().order.unwrap();
    let cancel = crate::requests::cancel_request(&order.order_id, "ada", "changed my mind");
    client.cancel_order(cancel).await.unwrap();

    events.wait_for(3, 20).await;
    let headers = processes::stream_headers(&events).await;
    assert_eq!(headers.len(), 3, "{headers:?}");
    for message in &headers {
        assert!(
            !message.contains_key("traceparent") && !message.contains_key("tracestate"),
            "{message:?}"
        );
    }
    let mut conn = processes::connect(&database.url).await;
    let traced = "SELECT count(*) AS n FROM audit_events WHERE trace_parent IS NOT NULL OR trace_state IS NOT NULL";
    assert_eq!(query_n_on(&mut conn, traced).await, 0);
    let log = orders.stop().await;
    let line = call_lines(&log, CREATE_ORDER);
    assert_eq!(line.len(), 1, "{log}");
    assert!(
        !line[0].contains_key("trace_id") && !line[0].contains_key("span_id"),
        "{:?}",
        line[0]
    );
    events.delete().await;
}

#[tokio::test]
async fn a_collector_that_is_down_fails_no_call_and_is_logged_once() {
    let events = TestEvents::new().await;
    let database = TestDatabase::create().await;
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let (orders, addr) = start_orders(&database.url, &events, &nobody).await;
    let mug = create_product(addr).await;
    orders.wait_for_log("cannot export traces").await;
    let mut client = OrderServiceClient::new(connect_channel(addr).await);
    for _ in 0..3 {
        client
            .create_order(order_request("ada", &[(&mug.product_id, 1)]))
            .await
            .unwrap();
    }
    // The last spans are exported (and fail) at the shutdown.
    let log = orders.stop().await;
    assert_eq!(log.matches("cannot export traces").count(), 1, "{log}");
    assert_eq!(call_lines(&log, CREATE_ORDER).len(), 3, "{log}");
    events.delete().await;
}
