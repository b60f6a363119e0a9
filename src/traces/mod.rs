//! OpenTelemetry traces: the spans of a call, of its database work, of the
//! relay's publish and of the notifications service's handling of the
//! event, exported over OTLP/gRPC, so that one trace follows an order from
//! CreateOrder to its email across processes.
//!
//! Off unless `--otlp-endpoint` (`OTEL_EXPORTER_OTLP_ENDPOINT`) is set
//! ([`crate::config::TracingSettings`]). Then no OpenTelemetry layer is
//! installed at all, and every span of the code (all with the target
//! [`SPANS`], which the log output never shows) has no subscriber that
//! wants it: `tracing` caches that per call site, so creating one costs a
//! load and a branch, and its fields are never evaluated.
//!
//! How the context travels (W3C Trace Context, `traceparent` and
//! `tracestate`, the global propagator): in from a call's gRPC metadata
//! ([`crate::middleware::log`]), out on outgoing gRPC calls
//! ([`crate::middleware::trace_client::TraceClientLayer`]), into the outbox row of each event
//! ([`propagation::stored`], written by `db/place.rs` and `db/audit.rs`),
//! from there into the headers of its NATS message (`relay.rs`), from
//! those into the notifications service (`notifications/consumer.rs`) and
//! into the payload of the job that sends the email.
//!
//! Names and attributes follow OpenTelemetry's semantic conventions: RPC
//! (`{rpc.service}/{rpc.method}`, SERVER and CLIENT), database (CLIENT,
//! `db.system.name`, `db.operation.name`, `db.query.text` with its `$n`
//! placeholders, never values) and messaging (`{destination} publish`,
//! PRODUCER; `{destination} process`, CONSUMER).

pub mod db;
mod export;
pub mod messaging;
pub mod propagation;
pub mod rpc;

use std::sync::atomic::{AtomicBool, Ordering};

pub use export::{Traces, TracesError, TracesLayer, init};

/// The target of every span this code creates: the OpenTelemetry layer
/// takes these and nothing else, and the log output never shows them.
pub const SPANS: &str = "orders::span";

/// Set once the OpenTelemetry layer is installed.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether this process exports traces: the check that keeps the work
/// around a span (reading its context, formatting ids) off when it is not.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Marks `span` failed when `result` is an error.
pub fn record_result<T, E>(span: &tracing::Span, result: &Result<T, E>) {
    record_failure(span, result.is_err());
}

/// Marks `span` failed when its work `failed`.
pub fn record_failure(span: &tracing::Span, failed: bool) {
    if failed {
        span.record("otel.status_code", "error");
    }
}

/// The trace and span id of `span` (lowercase hex) when it is recorded;
/// `None` when tracing is off or the span is not sampled.
pub fn ids(span: &tracing::Span) -> Option<(String, String)> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if !enabled() || span.is_disabled() {
        return None;
    }
    let context = span.context();
    let otel = context.span();
    let ids = otel.span_context();
    ids.is_valid()
        .then(|| (ids.trace_id().to_string(), ids.span_id().to_string()))
}
