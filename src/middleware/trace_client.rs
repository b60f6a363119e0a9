//! Outgoing gRPC calls, traced and measured: a tower layer for a client's
//! channel that opens a CLIENT span per call
//! ([`crate::traces::rpc::client_span`]) and sends its context in the
//! call's metadata (`traceparent`, `tracestate`), so the called service's
//! SERVER span is its child; and counts the call in the `grpc_client_*`
//! metrics ([`crate::monitoring::grpc`]).
//!
//! No service calls another over gRPC yet; the payments service's client
//! will be the first. Wrap its channel:
//! `OrderServiceClient::new(TraceClientLayer.layer(channel))`. Without
//! traces the span is disabled; without metrics the counts are no-ops.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use tower::{Layer, Service};
use tracing::{Instrument, Span, instrument::Instrumented};

use super::status_body::{Finish, LoggedBody, UNAVAILABLE, grpc_code};
use crate::{
    monitoring::grpc::{CallMetrics, MessageCounter, Side},
    traces::{propagation, rpc},
};

/// Traces and measures every call made through the wrapped channel.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceClientLayer;

impl<S> Layer<S> for TraceClientLayer {
    type Service = TraceClient<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceClient { inner }
    }
}

/// A channel (or any HTTP service) whose calls are traced.
#[derive(Debug, Clone)]
pub struct TraceClient<S> {
    inner: S,
}

impl<S, B, ResBody> Service<http::Request<B>> for TraceClient<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<LoggedBody<ResBody, ClientSpan>>;
    type Error = S::Error;
    type Future = TracedCall<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let metrics = CallMetrics::start(Side::Client, request.uri().path());
        let span = rpc::client_span(&request);
        if !span.is_disabled() {
            let mut headers = propagation::HeaderInjector(request.headers_mut());
            for (key, value) in propagation::fields_of(&span).0 {
                opentelemetry::propagation::Injector::set(&mut headers, &key, value);
            }
        }
        let inner = span.in_scope(|| self.inner.call(request));
        TracedCall {
            inner: inner.instrument(span.clone()),
            span: Some(ClientSpan {
                messages: metrics.rpc().streams_responses().then(MessageCounter::default),
                metrics,
                span,
            }),
        }
    }
}

/// The span and the metrics of one outgoing call, ended with its status.
pub struct ClientSpan {
    span: Span,
    metrics: CallMetrics,
    /// Counts the response messages of a streaming call.
    messages: Option<MessageCounter>,
}

impl Finish for ClientSpan {
    fn finish(self, code: usize) {
        rpc::finish(&self.span, code, false);
        self.metrics.finish(code);
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some(messages) = self.messages.as_mut() {
            self.metrics.responses(messages.feed(bytes));
        }
    }
}

pin_project_lite::pin_project! {
    /// An outgoing call until its response headers: the span ends here if
    /// they carry the status, else when the trailers pass ([`LoggedBody`]).
    pub struct TracedCall<F> {
        #[pin]
        inner: Instrumented<F>,
        span: Option<ClientSpan>,
    }
}

impl<F, ResBody, E> Future for TracedCall<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<LoggedBody<ResBody, ClientSpan>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut span = this.span.take();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                if let Some(span) = span {
                    span.finish(UNAVAILABLE);
                }
                return Poll::Ready(Err(error));
            }
        };
        if let Some(code) = grpc_code(response.headers())
            && let Some(span) = span.take()
        {
            span.finish(code);
        }
        Poll::Ready(Ok(response.map(|inner| LoggedBody::new(inner, span))))
    }
}
