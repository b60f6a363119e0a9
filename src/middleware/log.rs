//! One structured log line per call: method, gRPC status code, latency,
//! request id and the caller's verified subject (`-` without one).
//!
//! What is logged at which level: every call to the catalog and order
//! services at INFO (target `orders::call`); health checks and reflection
//! that succeed at DEBUG (target `orders::call::probe`), since a load
//! balancer probing hard would otherwise write thousands of lines a second
//! that say nothing; a probe that fails at INFO like any other call.
//! `RUST_LOG=info,orders::call::probe=debug` shows the probes too.
//!
//! The request id is the caller's `x-request-id` metadata when it sends a
//! usable one (1 to 128 visible ASCII characters), else a fresh UUID. It is
//! echoed in the response's `x-request-id`, handed to the handler as the
//! call's [`RequestId`] extension and recorded in the audit trail, so one id ties
//! a caller's report, our log line and the audit row together. Health and
//! reflection calls get none (their log line says `-`): they change
//! nothing, and a load balancer's probes should cost as little as can be.
//! The echoed header is marked never-indexed: a value unique to each
//! response would only churn HPACK's table and evict the entries that
//! compress the other headers.
//!
//! A gRPC status travels in the response headers when the call fails before
//! any message ("trailers-only"), and otherwise in the trailers after the
//! body. So the line is written either when the headers come back or when the
//! trailers pass through the wrapped body ([`super::status_body`]), and, if
//! the body is dropped before its trailers (the client went away), as
//! CANCELLED.
//!
//! With traces on ([`crate::traces`]), every call but a probe also gets its
//! SERVER span here, parented by the caller's `traceparent`: the handler
//! runs in it, it ends with the log line, and the log line carries its
//! `trace_id` and `span_id`, so a line leads to its trace and back. With
//! traces off the span is disabled and the line has neither field. Probes
//! get no span: a load balancer's checks would be a trace each.
//!
//! The same start and end feed the gRPC metrics ([`crate::monitoring::grpc`]):
//! calls started and handled by code, their latency, and the messages of
//! streaming responses (counted as their bytes pass through).
//!
//! Per call this allocates nothing of its own for a probe, and for other
//! calls only the request id (the method is a `&'static str` of the RPC
//! table for every known path); the lines are written by a thread of
//! their own ([`crate::telemetry`]), never from the call.

use std::{
    borrow::Cow,
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{Context, Poll, ready},
    time::Instant,
};

use http::{HeaderMap, HeaderValue};
use tower::{Layer, Service};
use tracing::{Instrument, Span, instrument::Instrumented};

use super::{
    is_infrastructure,
    status_body::{Finish, LoggedBody, code_name, grpc_code},
};
use crate::{
    actions::call::RequestId,
    monitoring::grpc::{CallMetrics, MessageCounter, Side},
    proto::method::Method,
    traces,
};

/// Logs every call once.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallLogLayer;

impl<S> Layer<S> for CallLogLayer {
    type Service = CallLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallLog { inner }
    }
}

#[derive(Debug, Clone)]
pub struct CallLog<S> {
    inner: S,
}

impl<S, B, ResBody> Service<http::Request<B>> for CallLog<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<LoggedBody<ResBody, CallRecord>>;
    type Error = S::Error;
    type Future = LoggedCall<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let probe = is_infrastructure(path);
        let request_id = (!probe).then(|| request_id_for(request.headers()));
        let header = request_id.as_ref().map(header_value);
        let metrics = CallMetrics::start(Side::Server, path);
        let method = Method::from_path(path);
        let span = match probe {
            true => Span::none(),
            false => traces::rpc::server_span(&request),
        };
        let record = CallRecord {
            method: method_name(method, path),
            messages: metrics.rpc().streams_responses().then(MessageCounter::default),
            metrics,
            probe,
            request_id: request_id.clone(),
            caller: LoggedCaller::default(),
            start: Instant::now(),
            span: span.clone(),
        };
        if let Some(request_id) = request_id {
            request.extensions_mut().insert(request_id);
        }
        if let Some(method) = method {
            request.extensions_mut().insert(method);
        }
        request.extensions_mut().insert(record.caller.clone());
        let inner = span.in_scope(|| self.inner.call(request));
        LoggedCall {
            inner: inner.instrument(span),
            header,
            record: Some(record),
        }
    }
}

pin_project_lite::pin_project! {
    /// A call on its way to the handler: when its response comes, echoes the
    /// request id and writes the log line if the status is already known.
    pub struct LoggedCall<F> {
        #[pin]
        inner: Instrumented<F>,
        header: Option<HeaderValue>,
        record: Option<CallRecord>,
    }
}

impl<F, ResBody, E> Future for LoggedCall<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<LoggedBody<ResBody, CallRecord>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(header) = this.header.take() {
            response.headers_mut().insert(REQUEST_ID_HEADER, header);
        }
        let mut record = this.record.take();
        if let Some(code) = grpc_code(response.headers())
            && let Some(record) = record.take()
        {
            record.finish(code);
        }
        Poll::Ready(Ok(response.map(|inner| LoggedBody::new(inner, record))))
    }
}

/// The path of a known method as the RPC table's `&'static str`; any other
/// path (an unknown one, health, reflection) as it came. The method also
/// goes to the handler, in the request's extensions: it names the call's
/// database work in the metrics ([`crate::actions::Call`]).
fn method_name(method: Option<Method>, path: &str) -> Cow<'static, str> {
    const PROBES: [&str; 4] = [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ];
    match method {
        Some(method) => Cow::Borrowed(method.path()),
        None => match PROBES.iter().find(|probe| **probe == path) {
            Some(probe) => Cow::Borrowed(probe),
            None => Cow::Owned(path.to_owned()),
        },
    }
}

/// The metadata key of the request id, in requests and responses.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The caller's `x-request-id` if it is usable, else a new UUID.
fn request_id_for(headers: &HeaderMap) -> RequestId {
    let given = headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok());
    let usable = |id: &&str| (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
    match given.filter(usable) {
        Some(id) => RequestId(id.into()),
        None => RequestId(
            uuid::Builder::from_random_bytes(rand::random())
                .into_uuid()
                .to_string()
                .into(),
        ),
    }
}

fn header_value(id: &RequestId) -> HeaderValue {
    let mut value = HeaderValue::from_str(&id.0).expect("request ids are visible ASCII");
    value.set_sensitive(true);
    value
}

/// Where the auth layer, further in, leaves the caller's verified subject
/// for this call's log line.
#[derive(Debug, Clone, Default)]
pub struct LoggedCaller(Arc<OnceLock<String>>);

impl LoggedCaller {
    pub fn set(&self, subject: String) {
        let _ = self.0.set(subject);
    }
}

pub struct CallRecord {
    method: Cow<'static, str>,
    metrics: CallMetrics,
    /// Counts the response messages of a streaming call.
    messages: Option<MessageCounter>,
    /// Health or reflection: DEBUG when it succeeds.
    probe: bool,
    request_id: Option<RequestId>,
    caller: LoggedCaller,
    start: Instant,
    /// The call's SERVER span (disabled without traces, or for a probe).
    span: Span,
}

impl Finish for CallRecord {
    fn finish(self, code: usize) {
        traces::rpc::finish(&self.span, code, true);
        self.log(code_name(code));
        self.metrics.finish(code);
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some(messages) = self.messages.as_mut() {
            self.metrics.responses(messages.feed(bytes));
        }
    }
}

impl CallRecord {
    /// Writes the call's line, with its span's ids when it is traced.
    fn log(&self, code: &'static str) {
        let ids = traces::ids(&self.span);
        let trace_id = ids.as_ref().map(|(trace, _)| tracing::field::display(trace));
        let span_id = ids.as_ref().map(|(_, span)| tracing::field::display(span));
        // tracing evaluates the fields only when the line's level is on.
        let latency_ms = || self.start.elapsed().as_secs_f64() * 1000.0;
        let (method, caller) = (&*self.method, self.caller());
        if self.probe && code == "OK" {
            tracing::debug!(target: "orders::call::probe", method = %method, code, latency_ms = latency_ms(), request_id = "-", caller, "call");
        } else {
            let request_id = self.request_id.as_ref().map_or("-", |id| &*id.0);
            tracing::info!(target: "orders::call", method = %method, code, latency_ms = latency_ms(), request_id, caller, trace_id, span_id, "call");
        }
    }
}

impl CallRecord {
    fn caller(&self) -> &str {
        self.caller.0.get().map_or("-", String::as_str)
    }
}
