//! Outgoing gRPC calls: a channel wrapped in `TraceClientLayer` opens a
//! CLIENT span per call and sends its context, and the server's SERVER
//! span (in another process, at the receiver) is that span's child. The
//! client side runs on this test's thread with an OpenTelemetry layer of
//! its own, exporting to memory.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{
    error::OTelSdkResult,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, SpanData, SpanExporter},
};
use orders::{
    middleware::trace_client::TraceClientLayer,
    proto::{GetProductRequest, ListProductsRequest, catalog_service_client::CatalogServiceClient},
    traces::SPANS,
};
use tower::Layer;
use tracing_subscriber::{Layer as _, filter::filter_fn, layer::SubscriberExt};

use super::{Receiver, processes::start_orders};
use crate::{app::connect_channel, nats::TestEvents, test_database::TestDatabase, timing::eventually};

/// The finished spans of this process.
#[derive(Debug, Clone, Default)]
struct Memory(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Memory {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

// The default test runtime is current-thread: every task of the client runs
// on this thread, under the subscriber set for it alone.
#[tokio::test]
async fn a_call_through_the_traced_channel_is_the_parent_of_the_server_span() {
    let (receiver, events, database) = (
        Receiver::start().await,
        TestEvents::new().await,
        TestDatabase::create().await,
    );
    let (server, addr) = start_orders(&database.url, &events, &receiver.endpoint()).await;
    let memory = Memory::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    let layer = layer.with_filter(filter_fn(|meta| meta.target() == SPANS));
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let mut catalog = CatalogServiceClient::new(TraceClientLayer.layer(connect_channel(addr).await));
    catalog.list_products(ListProductsRequest::default()).await.unwrap();
    let missing = GetProductRequest {
        product_id: uuid::Uuid::new_v4().to_string(),
    };
    assert_eq!(
        catalog.get_product(missing).await.unwrap_err().code(),
        tonic::Code::NotFound
    );

    let clients = memory.0.lock().unwrap().clone();
    let names: Vec<&str> = clients.iter().map(|s| s.name.as_ref()).collect();
    let expected = [
        "orders.v1.CatalogService/ListProducts",
        "orders.v1.CatalogService/GetProduct",
    ];
    assert_eq!(names, expected);
    for (client, code) in clients.iter().zip(["0", "5"]) {
        assert_eq!(client.span_kind, opentelemetry::trace::SpanKind::Client);
        let attribute = |key: &str| {
            client
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(attribute("rpc.grpc.status_code").as_deref(), Some(code), "{client:?}");
        let (trace, span) = (
            client.span_context.trace_id().to_string(),
            client.span_context.span_id().to_string(),
        );
        let of_the_call = || {
            receiver
                .spans()
                .into_iter()
                .find(|s| s.trace_id == trace && s.parent_span_id == span)
        };
        eventually(30, "the server's span of the call", || async {
            of_the_call().is_some()
        })
        .await;
        let served = of_the_call().unwrap();
        assert_eq!(served.attribute("rpc.grpc.status_code"), code);
        assert_ne!(served.status, 2, "NOT_FOUND is no failure of the server's");
    }
    let failed = &clients[1];
    assert_eq!(
        failed.status,
        opentelemetry::trace::Status::error(""),
        "any code but OK fails a client span"
    );
    server.stop().await;
    events.delete().await;
}
