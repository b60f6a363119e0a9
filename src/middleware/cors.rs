//! CORS for gRPC-Web: a page from an allowed origin may call the API from
//! a browser; a page from any other origin gets no CORS header at all, so
//! its browser refuses to hand it the answer.
//!
//! tower-http's [`CorsLayer`] does the protocol (preflights, `Vary`, which
//! headers a page may send and read) for requests from the allowed
//! origins. Every other request goes past it, straight to the service:
//! tower-http would answer another origin's preflight with the allowed
//! methods and headers (leaving out only `Access-Control-Allow-Origin`),
//! and would add its `Vary` header to every gRPC answer; this way the
//! allowed list is all that anyone can read, and calls from outside a
//! browser (no `Origin`) cost a header lookup and nothing more.

use std::{
    collections::HashSet,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::future::Either;
use http::{HeaderName, HeaderValue, Method, Request, Response, header};
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

use crate::config::WebOrigin;

/// The request headers a gRPC-Web page sends (connect-web's gRPC-Web
/// transport, grpc-web's own client), with the bearer token and our
/// request id.
const REQUEST_HEADERS: [&str; 6] = [
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "authorization",
    "x-request-id",
];

/// The response headers a page must be able to read: the status, its
/// message and rich details (when they come as headers, in a
/// trailers-only answer), and the request id.
const RESPONSE_HEADERS: [&str; 4] = ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"];

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// CORS for the origins in `allowed`.
#[derive(Clone)]
pub struct BrowserCorsLayer {
    allowed: Arc<HashSet<HeaderValue>>,
    cors: CorsLayer,
}

impl BrowserCorsLayer {
    pub fn new(allowed: &[WebOrigin]) -> BrowserCorsLayer {
        let allowed: HashSet<HeaderValue> = (allowed.iter())
            .filter_map(|origin| HeaderValue::from_str(origin.as_str()).ok())
            .collect();
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed.iter().cloned()))
            .allow_methods([Method::POST])
            .allow_headers(REQUEST_HEADERS.map(HeaderName::from_static))
            .expose_headers(RESPONSE_HEADERS.map(HeaderName::from_static))
            .max_age(PREFLIGHT_MAX_AGE);
        BrowserCorsLayer {
            allowed: Arc::new(allowed),
            cors,
        }
    }
}

impl<S: Clone> Layer<S> for BrowserCorsLayer {
    type Service = BrowserCors<S>;

    fn layer(&self, inner: S) -> BrowserCors<S> {
        BrowserCors {
            cors: self.cors.layer(inner.clone()),
            inner,
            allowed: self.allowed.clone(),
        }
    }
}

/// See [`BrowserCorsLayer`].
#[derive(Clone)]
pub struct BrowserCors<S> {
    /// For the allowed origins.
    cors: Cors<S>,
    /// For everyone else.
    inner: S,
    allowed: Arc<HashSet<HeaderValue>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for BrowserCors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    Cors<S>: Service<Request<ReqBody>, Response = Response<ResBody>, Error = S::Error>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<<Cors<S> as Service<Request<ReqBody>>>::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Either may take the call: both must be ready for it.
        match self.cors.poll_ready(cx)? {
            Poll::Ready(()) => self.inner.poll_ready(cx),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let origin = request.headers().get(header::ORIGIN);
        match origin.is_some_and(|origin| self.allowed.contains(origin)) {
            true => Either::Left(self.cors.call(request)),
            false => Either::Right(self.inner.call(request)),
        }
    }
}
