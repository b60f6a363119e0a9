//! CORS for gRPC-Web: a page from an allowed origin may call the API from
//! a browser; a page from any other origin gets no CORS header at all, so
//! its browser refuses to hand it the answer.
//!
//! tower-http's [`CorsLayer`] does the protocol (preflights, `Vary`, which
//! headers a page may send and read); it answers a preflight from any
//! origin with the allowed methods and headers, though, and only leaves
//! out `Access-Control-Allow-Origin`. Browsers would refuse on that alone,
//! but the allowed list should be all that anyone can read: this layer
//! removes every `Access-Control-*` header from answers to other origins.

use std::{
    collections::HashSet,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::{
    TryFutureExt,
    future::{Either, MapOk},
};
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

impl<S> Layer<S> for BrowserCorsLayer {
    type Service = BrowserCors<S>;

    fn layer(&self, inner: S) -> BrowserCors<S> {
        BrowserCors {
            inner: self.cors.layer(inner),
            allowed: self.allowed.clone(),
        }
    }
}

/// See [`BrowserCorsLayer`].
#[derive(Clone)]
pub struct BrowserCors<S> {
    inner: Cors<S>,
    allowed: Arc<HashSet<HeaderValue>>,
}

type Strip<B> = fn(Response<B>) -> Response<B>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for BrowserCors<S>
where
    Cors<S>: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = <Cors<S> as Service<Request<ReqBody>>>::Error;
    type Future = Either<
        <Cors<S> as Service<Request<ReqBody>>>::Future,
        MapOk<<Cors<S> as Service<Request<ReqBody>>>::Future, Strip<ResBody>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let origin = request.headers().get(header::ORIGIN);
        let granted = origin.is_some_and(|origin| self.allowed.contains(origin));
        let answer = self.inner.call(request);
        match granted {
            true => Either::Left(answer),
            false => Either::Right(answer.map_ok(without_cors_headers as Strip<ResBody>)),
        }
    }
}

fn without_cors_headers<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    let granting: Vec<HeaderName> = (headers.keys())
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in granting {
        headers.remove(name);
    }
    response
}
