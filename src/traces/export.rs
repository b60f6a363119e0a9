//! The tracer provider: an OTLP/gRPC (tonic) exporter behind the SDK's
//! batch span processor, the process's resource, the W3C propagator, and
//! the `tracing` layer that turns this code's spans into OpenTelemetry's.
//!
//! Calls never wait for the collector: a finished span goes into the batch
//! processor's bounded queue (2048 spans), which a thread of the SDK's own
//! exports every 5 s or per 512 spans; when the collector is slow or gone,
//! the queue fills and further spans are dropped, never the calls. An
//! export failure is logged once, and once more when exports work again
//! ([`Logged`]), not once per batch.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use opentelemetry::{KeyValue, trace::TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, SpanData},
};
use tracing_subscriber::{Layer, Registry, filter::Targets};

use crate::config::TracingSettings;

/// The longest a graceful shutdown waits for the last spans to be exported.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest one export may take before it counts as failed.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why traces could not be set up (a malformed endpoint): the process does
/// not start, as with any other bad setting.
#[derive(Debug, thiserror::Error)]
#[error("--otlp-endpoint {endpoint:?}: {reason}")]
pub struct TracesError {
    endpoint: String,
    reason: String,
}

/// The `tracing` layer of the traces, before it joins the subscriber.
pub type TracesLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The tracer provider of a process that exports traces.
pub struct Traces {
    provider: SdkTracerProvider,
    layer: Option<TracesLayer>,
}

/// Sets up traces when `settings` name an endpoint: the provider and the
/// global propagator now, the layer for [`crate::telemetry::init`]. Needs
/// a Tokio runtime (the exporter's channel runs on it).
pub fn init(settings: &TracingSettings) -> Result<Option<Traces>, TracesError> {
    let Some(endpoint) = settings.endpoint() else {
        return Ok(None);
    };
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| TracesError {
            endpoint: endpoint.to_owned(),
            reason: e.to_string(),
        })?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Logged::new(exporter, endpoint))
        .with_resource(resource(settings))
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let tracer = provider.tracer("orders");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        // Every span has the same target: an attribute that says nothing.
        .with_target(false)
        // Entering a span (each poll of an instrumented future) would also
        // make its context OpenTelemetry's current one, which nothing here
        // reads: the context is taken from the span itself when needed.
        .with_context_activation(false)
        // Static, so each call site is decided once: this code's spans only.
        .with_filter(Targets::new().with_target(super::SPANS, tracing::Level::TRACE));
    super::ENABLED.store(true, Ordering::Relaxed);
    Ok(Some(Traces {
        provider,
        layer: Some(Box::new(layer)),
    }))
}

/// What the SDK detects (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
/// the SDK's own name and version), the crate's version, and `orders` as
/// the name when nothing else names the service.
fn resource(settings: &TracingSettings) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&"service.name".into())
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let name = match (&settings.otel_service_name, named) {
        (Some(name), _) => Some(name.clone()),
        (None, true) => None,
        (None, false) => Some("orders".to_owned()),
    };
    let mut builder = Resource::builder().with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if let Some(name) = name {
        builder = builder.with_service_name(name);
    }
    builder.build()
}

impl Traces {
    /// The layer to install, once ([`crate::telemetry::init`]).
    pub fn take_layer(&mut self) -> Option<TracesLayer> {
        self.layer.take()
    }

    /// Exports the spans still queued and stops, waiting at most
    /// [`SHUTDOWN_TIMEOUT`]; called after the drain on a graceful shutdown.
    pub async fn shutdown(self) {
        let provider = self.provider;
        // The SDK blocks while it flushes: off the runtime's threads.
        let done = tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT));
        match done.await {
            Ok(Ok(())) => tracing::debug!("traces flushed"),
            Ok(Err(error)) => tracing::warn!(%error, "the last spans may not have been exported"),
            Err(error) => tracing::warn!(%error, "the last spans may not have been exported"),
        }
    }
}

/// An exporter that logs its first failure and its recovery, not every
/// failed batch: a collector that is down would otherwise write a line
/// every few seconds.
#[derive(Debug)]
struct Logged<E> {
    inner: E,
    endpoint: String,
    failing: AtomicBool,
}

impl<E> Logged<E> {
    fn new(inner: E, endpoint: &str) -> Self {
        Logged {
            inner,
            endpoint: endpoint.to_owned(),
            failing: AtomicBool::new(false),
        }
    }
}

impl<E: opentelemetry_sdk::trace::SpanExporter> opentelemetry_sdk::trace::SpanExporter for Logged<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let result = self.inner.export(batch).await;
        let was_failing = self.failing.swap(result.is_err(), Ordering::Relaxed);
        match (&result, was_failing) {
            (Err(error), false) => tracing::warn!(
                endpoint = %self.endpoint, %error,
                "cannot export traces; spans are dropped until the collector answers"
            ),
            (Ok(()), true) => tracing::info!(endpoint = %self.endpoint, "exporting traces again"),
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
