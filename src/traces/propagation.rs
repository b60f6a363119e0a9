//! Carrying a trace's context (W3C `traceparent` and `tracestate`, read
//! and written by the global propagator that [`super::init`] sets) in the
//! places it travels through: gRPC metadata (HTTP/2 headers), NATS message
//! headers, and the text stored with an outbox event or a job.
//!
//! Without traces the global propagator is OpenTelemetry's no-op one, and
//! the callers do not get here anyway ([`super::enabled`]).

use opentelemetry::{
    Context, global,
    propagation::{Extractor, Injector},
    trace::TraceContextExt,
};
use serde::{Deserialize, Serialize};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// A span context as stored beside what continues its trace later (an
/// outbox event, a job): W3C `traceparent`, and `tracestate` if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredContext {
    #[serde(rename = "traceparent")]
    pub parent: String,
    #[serde(rename = "tracestate", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl StoredContext {
    /// The context to continue the trace in.
    pub fn context(&self) -> Context {
        global::get_text_map_propagator(|propagator| propagator.extract(self))
    }
}

impl Extractor for StoredContext {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(&self.parent),
            "tracestate" => self.state.as_deref(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The current span's context to store, when traces are on and the span
/// is sampled; `None` otherwise (nothing would show its continuation).
pub fn stored() -> Option<StoredContext> {
    if !super::enabled() {
        return None;
    }
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_sampled() {
        return None;
    }
    let mut fields = Fields::default();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut fields));
    let parent = fields.0.iter().find(|(k, _)| k == "traceparent")?.1.clone();
    let state = fields.0.into_iter().find(|(k, v)| k == "tracestate" && !v.is_empty());
    Some(StoredContext {
        parent,
        state: state.map(|(_, v)| v),
    })
}

/// The field of a job's payload that carries the trace the job continues.
const JOB_TRACE: &str = "trace";

impl StoredContext {
    /// Puts this context into a job's `payload`, for the job to continue.
    pub fn put_in(&self, payload: &mut serde_json::Value) {
        payload[JOB_TRACE] = serde_json::json!(self);
    }
}

/// A job's payload carrying the current span's context (when there is one
/// to store), so that the job continues the trace that enqueued it.
pub fn traced_payload(mut payload: serde_json::Value) -> serde_json::Value {
    if let Some(stored) = stored() {
        stored.put_in(&mut payload);
    }
    payload
}

/// Makes `span` continue the trace a job's `payload` carries, if any.
pub fn continue_job(span: &tracing::Span, payload: &serde_json::Value) {
    let stored = payload.get(JOB_TRACE).cloned().filter(|_| !span.is_disabled());
    if let Some(Ok(stored)) = stored.map(serde_json::from_value::<StoredContext>) {
        set_parent(span, stored.context());
    }
}

/// The fields a propagator writes, collected (for NATS headers, stored text).
#[derive(Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Injector for Fields {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

/// The fields that carry `span`'s context to whatever continues it.
pub fn fields_of(span: &tracing::Span) -> Fields {
    let mut fields = Fields::default();
    let context = span.context();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut fields));
    fields
}

/// Makes `parent` the parent of `span` (which must not have started yet).
pub fn set_parent(span: &tracing::Span, parent: Context) {
    // Fails only for a disabled span, or one already started: both harmless.
    let _ = span.set_parent(parent);
}

/// gRPC metadata (HTTP/2 headers) as the propagator reads them.
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The context a request's metadata carries (empty when it carries none).
pub fn from_headers(headers: &http::HeaderMap) -> Context {
    global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)))
}

/// gRPC metadata as the propagator writes it.
pub struct HeaderInjector<'a>(pub &'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = http::HeaderName::from_bytes(key.as_bytes());
        if let (Ok(name), Ok(value)) = (name, http::HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}

/// A NATS message's headers as the propagator reads them.
pub struct NatsExtractor<'a>(pub &'a async_nats::HeaderMap);

impl Extractor for NatsExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|value| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

/// The context a NATS message's headers carry (empty without headers).
pub fn from_nats(headers: Option<&async_nats::HeaderMap>) -> Context {
    match headers {
        Some(headers) => global::get_text_map_propagator(|propagator| propagator.extract(&NatsExtractor(headers))),
        None => Context::new(),
    }
}
